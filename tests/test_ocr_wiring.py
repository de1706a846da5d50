"""The OCR step of check/build (readfacts.py): what screenshots show against case.yaml and the
file-name time; and the dossier's invisible text layer (pdf/textlayer.py).

The engine is a fake (media.ocr.run_engine replaced, as in tests/test_ocr.py) that returns the
boxes listed for each image size, so these run with or without ``evidencekit[ocr]``; one test at
the end runs the real engine and is skipped, with the reason, without the extra.
"""

from __future__ import annotations

import io
import subprocess
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from factories import ORDER_SCREEN_BOXES, ORDER_SCREEN_NAME, blank_png, make_case, sh, text_box, write_file
from PIL import Image

from evidencekit import readfacts
from evidencekit.cli import main
from evidencekit.media import ocr
from evidencekit.model import SourceFile
from evidencekit.pipeline import Assessment, BuildOptions, assess_case, build_dossier
from evidencekit.readfacts import proposals_from
from evidencekit.report import check_report, format_check
from evidencekit.rules.catalog import load_rules
from evidencekit.rules.ocr_fields import TextBox
from evidencekit.selfcheck import self_check

NOW = datetime(2024, 11, 20, 12, 0, tzinfo=UTC)
# File-name time 2024-11-10 20:41:00 (Android's Screenshot_yyyy-mm-dd-hh-mm-ss-ms).
ORDER_NAME = ORDER_SCREEN_NAME


box = text_box


ORDER_BOXES = (*ORDER_SCREEN_BOXES, box("好物优选旗舰店", 200))
NO_TIME_BOXES = (box("订单编号：6912345678901234567", 300), box("实付款 ¥399.00", 400))
PAYMENT_BOXES = (box("20:45", 10), box("支付金额 ¥389.00", 300), box("支付时间 2024-11-10 20:32:10", 400))
# The boxes the fake engine returns, by the size of the image it is given.
SCREENS: dict[tuple[int, int], tuple[TextBox, ...]] = {
    (540, 1200): ORDER_BOXES, (540, 1100): NO_TIME_BOXES, (540, 1000): PAYMENT_BOXES}


png = blank_png


@pytest.fixture
def fake_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ocr, "engine_version", lambda: "9.9.9")
    monkeypatch.setattr(ocr, "run_engine", lambda image: SCREENS.get(image.size, ()))


def case_folder(tmp_path: Path, files: dict[str, tuple[int, int]]) -> Path:
    root = tmp_path / "case"
    for rel, size in files.items():
        write_file(root / rel, png(size))
    return root


def assess(root: Path, **options: object) -> Assessment:
    # One job: OCR runs from this thread, so its child is forked and sees the fake engine.
    options = {"jobs": 1, **options}
    return assess_case(root, BuildOptions(now=NOW, **options), case=make_case(root))  # type: ignore[arg-type]


def codes(a: Assessment) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for f in a.findings:
        out.setdefault(f.code, []).append(f.message)
    return out


@pytest.mark.usefixtures("fake_engine")
def test_an_amount_that_differs_from_the_screenshot_names_both_values_and_the_exhibit(tmp_path: Path) -> None:
    a = assess(case_folder(tmp_path, {f"evidence/order/{ORDER_NAME}": (540, 1200)}))
    (message,) = codes(a)["ocr.amount_differs"]
    assert "399.00" in message and "389.00" in message and "证据1" in message
    # The order number and the order time agree with case.yaml: no finding for them.
    assert "ocr.order_number_differs" not in codes(a) and "ocr.order_time_differs" not in codes(a)


@pytest.mark.usefixtures("fake_engine")
def test_an_order_number_and_an_order_date_that_differ_are_findings(tmp_path: Path) -> None:
    root = case_folder(tmp_path, {f"evidence/order/{ORDER_NAME}": (540, 1200)})
    case = make_case(root)
    case = replace(case, order=replace(case.order, number="6912345678900000000", time=sh(2024, 11, 9, 20, 31, 5),
                                       amount=Decimal("389.00")))
    a = assess_case(root, BuildOptions(now=NOW), case=case)
    found = codes(a)
    (number,) = found["ocr.order_number_differs"]
    assert "6912345678900000000" in number and "6912345678901234567" in number and "证据1" in number
    (when,) = found["ocr.order_time_differs"]
    assert "2024-11-09" in when and "2024-11-10 20:31:05" in when
    assert "ocr.amount_differs" not in found


@pytest.mark.usefixtures("fake_engine")
def test_the_status_bar_clock_is_compared_with_the_file_name_time(tmp_path: Path) -> None:
    # The clock says 20:42, the file name 20:41: within the template's tolerance, no finding.
    a = assess(case_folder(tmp_path, {f"evidence/order/{ORDER_NAME}": (540, 1200)}))
    assert "ocr.clock_differs" not in codes(a)
    (read,) = a.screens
    assert read.clock == "20:42"
    # Renamed to 19:41: an hour off.
    a = assess(case_folder(tmp_path / "b", {"evidence/order/Screenshot_2024-11-10-19-41-00-123.png": (540, 1200)}))
    (message,) = codes(a)["ocr.clock_differs"]
    assert "20:42" in message and "19:41" in message and "5 分钟" in message and "证据1" in message


@pytest.mark.usefixtures("fake_engine")
def test_a_save_time_is_not_compared_with_the_clock(tmp_path: Path) -> None:
    # WeChat's mmexport name is when the picture was saved (2024-11-10 21:53:20 here), which may be
    # any time after the screenshot was taken: not a time the clock should match.
    a = assess(case_folder(tmp_path, {"evidence/order/mmexport1731246800000.png": (540, 1200)}))
    assert a.exhibits[0].stamp.time is not None
    assert "ocr.clock_differs" not in codes(a)


@pytest.mark.usefixtures("fake_engine")
def test_check_shows_the_visible_time_beside_the_file_name_time(tmp_path: Path) -> None:
    a = assess(case_folder(tmp_path, {f"evidence/order/{ORDER_NAME}": (540, 1200)}))
    text = format_check(a, BuildOptions().target, False, NOW)
    line = next(line for line in text.splitlines() if "截图上的时间" in line)
    assert "证据1" in line and "20:42" in line and "2024-11-10 20:41:00" in line
    report = check_report(a, BuildOptions().target, False, NOW)
    assert report["exhibits"][0]["visible_time"] == "20:42"


@pytest.mark.usefixtures("fake_engine")
def test_a_screenshot_without_a_visible_time_is_weak_in_the_self_check(tmp_path: Path) -> None:
    # A file-name time: the checklist item would be present but for the screenshot itself.
    a = assess(case_folder(tmp_path, {f"evidence/order/{ORDER_NAME}": (540, 1100)}))
    assert "ocr.no_visible_time" in codes(a)
    s = self_check(a, BuildOptions().target, NOW, load_rules())
    (todo,) = [t for t in s.todos if t.key == "evidence.order"]
    assert todo.status.value == "weak" and "证据1" in todo.why


@pytest.mark.usefixtures("fake_engine")
def test_only_the_kinds_the_template_lists_are_read(tmp_path: Path) -> None:
    a = assess(case_folder(tmp_path, {"evidence/product/photo.png": (540, 1200),
                                      f"evidence/order/{ORDER_NAME}": (540, 1200)}))
    assert [r.rel_path for r in a.screens] == [f"evidence/order/{ORDER_NAME}"]


@pytest.mark.usefixtures("fake_engine")
def test_after_sales_screenshots_are_read(tmp_path: Path) -> None:
    # An after-sales (退款/售后) page shows the order number and the times as the order page does.
    a = assess(case_folder(tmp_path, {f"evidence/售后/{ORDER_NAME}": (540, 1200)}))
    assert [r.rel_path for r in a.screens] == [f"evidence/售后/{ORDER_NAME}"]


def test_no_ocr_reads_nothing_and_says_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def raising(image: Image.Image) -> tuple[TextBox, ...]:
        raise AssertionError("the engine ran")

    monkeypatch.setattr(ocr, "engine_version", lambda: "9.9.9")
    monkeypatch.setattr(ocr, "run_engine", raising)
    a = assess(case_folder(tmp_path, {"evidence/order/order.png": (540, 1100)}), ocr=False)
    assert a.screens == () and not [f for f in a.findings if f.code.startswith("ocr.")]


def test_without_the_extra_check_says_once_how_to_add_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ocr, "engine_version", lambda: None)
    a = assess(case_folder(tmp_path, {"evidence/order/a.png": (540, 1100), "evidence/payment/b.png": (540, 1200)}))
    text = format_check(a, BuildOptions().target, False, NOW)
    assert text.count(ocr.INSTALL_HINT) == 1
    assert check_report(a, BuildOptions().target, False, NOW)["ocr_note"] == ocr.MSG_UNAVAILABLE
    assert a.screens == () and not [f for f in a.findings if f.severity.value != "info" and f.code.startswith("ocr.")]


@pytest.mark.usefixtures("fake_engine")
def test_proposals_name_the_case_yaml_key_the_value_and_the_exhibit(tmp_path: Path) -> None:
    # The payment screenshot shows a payment time too: order.time is proposed from the order time.
    a = assess(case_folder(tmp_path, {f"evidence/order/{ORDER_NAME}": (540, 1200),
                                      "evidence/payment/pay.png": (540, 1000)}))
    proposals = proposals_from(a)
    order = next(r.number for r in a.screens if r.rel_path.startswith("evidence/order/"))
    assert proposals["order.number"] == ("6912345678901234567", order)
    assert proposals["order.amount"] == ("389.00", order)
    assert proposals["order.time"] == ("2024-11-10 20:31:05", order)
    assert proposals["merchant.shop_name"] == ("好物优选旗舰店", order)


def test_screenshots_are_read_in_parallel_with_the_progress_bar(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Two jobs: threads, whose OCR children come from a fork server that never sees a fake
    # engine; so the fake is one step up, where the threads call media.ocr.
    def fake(source: SourceFile, media: object) -> ocr.OcrResult:
        with Image.open(source.path) as im:
            return ocr.OcrResult(SCREENS.get(im.size, ()), "fake 1")

    monkeypatch.setattr(readfacts, "ocr_unavailable_reason", lambda: None)
    monkeypatch.setattr(readfacts, "ocr_image", fake)
    names = {f"evidence/order/{i}.png": (540, 1200) for i in range(3)}
    seen: list[tuple[int, int, str]] = []
    root = case_folder(tmp_path, names)
    a = assess_case(root, BuildOptions(now=NOW, jobs=2), lambda *p: seen.append(p), case=make_case(root))
    assert len(a.screens) == 3 and all(r.clock == "20:42" for r in a.screens)
    ocr_steps = [p for p in seen if p[2].startswith("文字识别")]
    assert ocr_steps and ocr_steps[-1][0] == 3 and ocr_steps[-1][1] == 3


@pytest.mark.parametrize("command", ["check", "build", "pack", "batch"])
def test_no_ocr_is_an_option_of_check_and_build(command: str) -> None:
    result = CliRunner().invoke(main, [command, "--help"])
    assert "--no-ocr" in result.output


@pytest.mark.parametrize("command", ["pack", "batch"])
def test_pack_and_batch_with_no_ocr_read_no_screenshot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        command: str) -> None:
    """What --no-ocr does for build it does for pack and batch (a volunteer's batch of
    strangers' cases, where reading every screenshot is the slow part)."""
    read = tmp_path / "read.txt"  # a file: batch builds each case in a process of its own

    def fake(source: SourceFile, media: object) -> ocr.OcrResult:
        with read.open("a", encoding="utf-8") as fh:
            fh.write(source.rel_path + "\n")
        return ocr.OcrResult((), "fake 1")

    monkeypatch.setattr(readfacts, "ocr_unavailable_reason", lambda: None)
    monkeypatch.setattr(readfacts, "ocr_image", fake)
    cases = tmp_path / "cases"
    write_file(cases / "a" / "evidence" / "order" / "o.png", png((540, 1100)))
    out = tmp_path / "out"
    args = (["pack", str(cases / "a"), "--target", "general", "-o", str(out)] if command == "pack"
            else ["batch", str(cases), "-o", str(out), "--quiet", "--jobs", "1"])
    result = CliRunner().invoke(main, [*args, "--no-ocr"])
    assert result.exit_code == 0, result.output
    assert not read.exists(), read.read_text(encoding="utf-8")
    result = CliRunner().invoke(main, [*args, "--force"])  # without it the screenshot is read
    assert result.exit_code == 0, result.output
    assert read.read_text(encoding="utf-8").splitlines() == ["evidence/order/o.png"]


@pytest.mark.usefixtures("fake_engine")
def test_inspect_shows_the_visible_time_beside_the_file_name_time(tmp_path: Path) -> None:
    from evidencekit.inspection_report import format_reports, inspect_files

    path = write_file(tmp_path / "Screenshot_2024-11-10-19-41-00-123.png", png((540, 1200)))
    (report,) = inspect_files([path])
    text = format_reports([report])
    line = next(line for line in text.splitlines() if line.startswith("  时间："))
    assert "2024-11-10 19:41:00" in line and "截图上的时间：状态栏 20:42、下单时间 2024-11-10 20:31:05" in line
    assert "ocr.clock_differs" in text
    assert report.to_json()["visible_time"] == "20:42"
    # --no-ocr: the file's own time only.
    (plain,) = inspect_files([path], ocr=False)
    assert "截图上的时间" not in format_reports([plain]) and "visible_time" not in plain.to_json()


@pytest.mark.usefixtures("fake_engine")
def test_inspect_does_not_read_a_camera_photo(tmp_path: Path) -> None:
    from evidencekit.inspection_report import inspect_files

    # A shutter time in EXIF: a photo from a camera, not a screenshot; OCR would cost seconds for nothing.
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9003] = "2024:11:13 15:10:00"
    buf = io.BytesIO()
    Image.new("RGB", (540, 1200), "white").save(buf, "JPEG", exif=exif.tobytes())
    (report,) = inspect_files([write_file(tmp_path / "IMG_1.jpg", buf.getvalue())])
    assert report.stamp is not None and report.stamp.source.value == "exif"
    assert report.screen is None


# --- the dossier's invisible text layer (pdf/textlayer.py) --------------------------------------

# No order number: the only place the dossier can have it from is the screenshot's text layer.
CASE_YAML = "order:\n  amount: 389.00\n  time: 2024-11-10 20:31:05\n"


def pdf_text(pdf: Path) -> str:
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, check=True)
    return out.stdout.decode("utf-8")


def text_layer_case(tmp_path: Path, size: tuple[int, int] = (540, 1200)) -> Path:
    root = case_folder(tmp_path, {f"evidence/order/{ORDER_NAME}": size})
    (root / "case.yaml").write_text(CASE_YAML, encoding="utf-8")
    return root


@pytest.mark.usefixtures("fake_engine")
def test_pdftotext_finds_the_order_number_in_the_screenshot_page(tmp_path: Path) -> None:
    root = text_layer_case(tmp_path)
    build_dossier(root, BuildOptions(now=NOW, jobs=1, reproducible=True))
    text = pdf_text(root / "dossier.pdf")
    assert "订单编号：6912345678901234567" in text
    assert "6912345678901234567" not in text.replace("订单编号：6912345678901234567", "")  # only there
    # --no-ocr, and --mask-personal (OCR text may hold names and phone numbers): no text layer.
    for options in (BuildOptions(now=NOW, jobs=1, ocr=False, force=True),
                    BuildOptions(now=NOW, jobs=1, mask_personal=True, force=True)):
        build_dossier(root, options)
        assert "6912345678901234567" not in pdf_text(root / "dossier.pdf")


@pytest.mark.parametrize(("width", "height"), [(1080, 2400), (1080, 9000), (720, 30000), (400, 300)])
def test_segment_tops_are_those_media_images_cut_at(width: int, height: int) -> None:
    from evidencekit.media.images import MAX_SEGMENTS, plan_layout
    from evidencekit.pdf.textlayer import segment_tops

    box = (1100, 1400)
    layout = plan_layout(width, height, box, MAX_SEGMENTS)
    disp_w = layout.size[0]
    seg_h = layout.segments[0][1] - layout.segments[0][0]
    tops = segment_tops(width, height, disp_w, seg_h, len(layout.segments), truncated=bool(layout.needed))
    assert all(abs(a - top) <= 1 for a, (top, _) in zip(tops, layout.segments, strict=True))


def test_a_box_is_placed_on_the_segment_that_shows_it() -> None:
    from evidencekit.pdf.textlayer import place_words

    # 1000×4000 original shown at 500 px wide in two 1100 px segments (tops 0 and 900).
    words = place_words((box("订单编号 123", 400), box("实付款 ¥1.00", 3000)), 1000, 4000, 500, 1100, 2,
                        truncated=False)
    assert [[w.text for w in seg] for seg in words] == [["订单编号 123"], ["实付款 ¥1.00"]]
    (first,), (second,) = words
    assert first.top == pytest.approx(200 / 1100) and first.left == pytest.approx(10 / 500)
    assert second.top == pytest.approx((1500 - 900) / 1100)


@pytest.mark.ocr_engine
@pytest.mark.skipif(ocr.engine_version() is None, reason='the OCR extra is not installed (pip install -e ".[ocr]")')
def test_real_engine_a_different_amount_is_a_finding_and_pdftotext_finds_the_order_number(tmp_path: Path) -> None:
    import ocr_screens

    facts = ocr_screens.FACTS["taobao"]
    root = tmp_path / "case"
    write_file(root / "evidence" / "order" / "Screenshot_2024-11-16-10-41-00-123.jpg",
               ocr_screens.wechat_copy(ocr_screens.screenshot("taobao")))
    # No order number in case.yaml: the dossier has it only from the screenshot's text layer.
    (root / "case.yaml").write_text("order:\n  amount: 1199.00\n", encoding="utf-8")
    result = build_dossier(root, BuildOptions(now=NOW, reproducible=True))
    (amount,) = [f.message for f in result.findings if f.code == "ocr.amount_differs"]
    assert "1199.00" in amount and facts.amount in amount and "证据1" in amount
    assert not [f for f in result.findings if f.code in ("ocr.clock_differs", "ocr.no_visible_time")]
    (read,) = result.assessment.screens
    assert read.clock == "10:41" and read.fact("order_time") is not None
    assert facts.order_number in pdf_text(root / "dossier.pdf").replace(" ", "")


def test_ctrl_c_while_reading_cancels_the_screenshots_not_yet_started(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import threading
    import time

    started: list[str] = []
    lock = threading.Lock()

    def fake(source: SourceFile, media: object) -> ocr.OcrResult:
        with lock:
            started.append(source.rel_path)
        if source.name == "0.png":
            raise KeyboardInterrupt
        time.sleep(0.3)
        return ocr.OcrResult()

    monkeypatch.setattr(readfacts, "ocr_unavailable_reason", lambda: None)
    monkeypatch.setattr(readfacts, "ocr_image", fake)
    root = case_folder(tmp_path, {f"evidence/order/{i}.png": (540, 1200) for i in range(8)})
    with pytest.raises(KeyboardInterrupt):
        assess_case(root, BuildOptions(now=NOW, jobs=2), case=make_case(root))
    assert len(started) < 8


@pytest.mark.usefixtures("fake_engine")
def test_a_date_under_a_label_the_template_does_not_know_is_still_a_visible_time(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A WeChat payment page: "时间" above "2024-11-10 20:31", no status bar in the picture.
    monkeypatch.setitem(SCREENS, (540, 900), (box("金额", 200), box("¥389.00", 250), box("时间", 300),
                                              box("2024-11-10 20:31", 350)))
    a = assess(case_folder(tmp_path, {f"evidence/payment/{ORDER_NAME}": (540, 900)}))
    assert "ocr.no_visible_time" not in codes(a)
    (read,) = a.screens
    assert readfacts.visible_times(read) == ["2024-11-10 20:31"]


@pytest.mark.usefixtures("fake_engine")
def test_a_payment_on_another_day_and_a_different_sign_off_time_are_findings(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # case.yaml (factories.make_case): ordered 2024-11-10 20:31:05, signed for 2024-11-13 14:02.
    monkeypatch.setitem(SCREENS, (540, 800), (box("支付时间 2024-11-11 09:00:00", 300),))
    monkeypatch.setitem(SCREENS, (540, 700), (box("签收时间：2024-11-14 10:00", 300),))
    a = assess(case_folder(tmp_path, {"evidence/payment/pay.png": (540, 800),
                                      "evidence/logistics/ship.png": (540, 700)}))
    found = codes(a)
    (paid,) = found["ocr.payment_time_differs"]
    assert "2024-11-10 20:31:05" in paid and "付款时间是 2024-11-11 09:00:00" in paid
    (signed,) = found["ocr.sign_off_time_differs"]
    assert "order.signed_at" in signed and "2024-11-14 10:00" in signed
    # The same day, minutes after the order: a payment that agrees (another picture: OCR is cached by its hash).
    monkeypatch.setitem(SCREENS, (540, 810), (box("支付时间 2024-11-10 20:32:10", 300),))
    agreeing = assess(case_folder(tmp_path / "b", {"evidence/payment/pay.png": (540, 810)}))
    assert "ocr.payment_time_differs" not in codes(agreeing)
