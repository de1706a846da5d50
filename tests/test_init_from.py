"""`init DIR --from PATH...`: the evidence is copied into the case and what its screenshots show
is proposed as answers, written to case.yaml with a comment saying where it was read.

The OCR engine is a fake (media.ocr.run_engine replaced, as in tests/test_ocr_wiring.py) that
returns the boxes listed for each image size; without it the tests see no engine (conftest.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from factories import ORDER_SCREEN_BOXES, ORDER_SCREEN_NAME, blank_png, text_box, write_file

from evidencekit.case.edit import add_moments
from evidencekit.case.load import load_case, yaml_quote
from evidencekit.cli import main
from evidencekit.errors import ExitCode
from evidencekit.media import ocr, suggest
from evidencekit.media.suggest import FileSuggestions, SuggestedMoment
from evidencekit.rules.moment_claims import ClaimMatch
from evidencekit.rules.ocr_fields import TextBox

ORDER_NAME = ORDER_SCREEN_NAME


box = text_box


ORDER_BOXES = ORDER_SCREEN_BOXES
# A size no other test's screenshot has: OCR results are cached by the file's hash and the
# engine version, which the fake engines of other tests share.
SIZE = (540, 1260)
SCREENS: dict[tuple[int, int], tuple[TextBox, ...]] = {SIZE: ORDER_BOXES}


png = blank_png


@pytest.fixture
def fake_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ocr, "engine_version", lambda: "9.9.9")
    monkeypatch.setattr(ocr, "run_engine", lambda image: SCREENS.get(image.size, ()))


def _downloads(tmp_path: Path) -> Path:
    """The shopper's own folder: an order screenshot in a folder named 订单."""
    folder = tmp_path / "下载" / "订单"
    write_file(folder / ORDER_NAME, png(SIZE))
    return folder


def _init(case: Path, answers: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["init", str(case), "--target", "payment", *args], input=answers)
    return result.exit_code, result.stdout + result.stderr


def _line(case: Path, key: str) -> str:
    return next(x for x in (case / "case.yaml").read_text(encoding="utf-8").splitlines() if x.strip().startswith(key))


@pytest.mark.usefixtures("fake_engine")
def test_empty_answers_take_the_read_order_number_and_amount_with_a_comment(tmp_path: Path) -> None:
    source = _downloads(tmp_path)
    before = (source / ORDER_NAME).read_bytes()
    case = tmp_path / "case"
    code, out = _init(case, "\n" * 40, "--from", str(source))
    assert code == ExitCode.OK, out
    assert f"已复制：evidence/order/{ORDER_NAME}" in out
    assert (source / ORDER_NAME).read_bytes() == before and (case / "evidence" / "order" / ORDER_NAME).is_file()
    loaded = load_case(case)
    assert loaded.order.number == "6912345678901234567"
    assert str(loaded.order.amount) == "389.00"
    assert _line(case, "number:").endswith("由证据1截图识别，请核对")
    assert _line(case, "amount:").endswith("由证据1截图识别，请核对")
    assert "取自截图识别的文字" in out


@pytest.mark.usefixtures("fake_engine")
def test_a_loose_file_is_asked_its_kind_in_chinese(tmp_path: Path) -> None:
    loose = tmp_path / ORDER_NAME
    write_file(loose, png(SIZE))
    case = tmp_path / "case"
    code, out = _init(case, "订单\n" + "\n" * 40, "--from", str(loose))
    assert code == ExitCode.OK, out
    assert f"{ORDER_NAME} 是哪类证据：" in out
    assert (case / "evidence" / "order" / ORDER_NAME).is_file()
    assert load_case(case).order.number == "6912345678901234567"


def test_a_loose_file_goes_where_kind_says(tmp_path: Path) -> None:
    loose = tmp_path / "a.png"
    write_file(loose, png(SIZE))
    case = tmp_path / "case"
    code, out = _init(case, "", "--from", str(loose), "--kind", "支付", "--no-input")
    assert code == ExitCode.OK, out
    assert (case / "evidence" / "payment" / "a.png").is_file()
    code, out = _init(tmp_path / "other", "", "--from", str(loose), "--no-input")
    assert code == ExitCode.USAGE and "--kind" in out


def test_without_the_extra_init_from_copies_says_how_to_add_it_and_asks(tmp_path: Path) -> None:
    case = tmp_path / "case"
    code, out = _init(case, "\n" * 40, "--from", str(_downloads(tmp_path)))
    assert code == ExitCode.OK, out
    assert (case / "evidence" / "order" / ORDER_NAME).is_file()
    assert ocr.INSTALL_HINT in out
    assert not load_case(case).order.number and "识别，请核对" not in (case / "case.yaml").read_text("utf-8")
    assert "还缺：" in out


MOMENT = SuggestedMoment(72.4, "正品保障 假一赔十", (ClaimMatch("compensation", "假一赔X", "假一赔十"),))


@pytest.fixture
def suggested(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Recordings get one suggested moment (the real suggestion needs the engine and a video);
    the files it was asked about are recorded."""
    asked: list[str] = []

    def fake(items, tz):  # type: ignore[no-untyped-def]
        asked.extend(given for given, _source, _insp in items)
        return {given: FileSuggestions(given, (MOMENT,)) for given, _s, _i in items if given.endswith(".mp4")}

    monkeypatch.setattr(suggest, "suggest_for_files", fake)
    return asked


def _with_recording(tmp_path: Path) -> Path:
    folder = _downloads(tmp_path).parent
    write_file(folder / "直播" / "live.mp4", b"\0" * 64)
    return folder


@pytest.mark.usefixtures("fake_engine")
def test_a_yes_writes_a_recordings_suggested_moments_into_its_evidence_entry(tmp_path: Path, suggested: list[str]) -> None:
    case = tmp_path / "case"
    # Six questions for a payment complaint (problem type, order number, amount, time, description,
    # claims), then the moments.
    code, out = _init(case, "\n" * 6 + "是\n", "--from", str(_with_recording(tmp_path)))
    assert code == ExitCode.OK, out
    assert "evidence/livestream/live.mp4" in suggested
    assert "00:01:12.4" in out and "写进 case.yaml 吗" in out
    (entry,) = [e for e in load_case(case).evidence if e.file.endswith("live.mp4")]
    assert entry.moments == (MOMENT.line,)


@pytest.mark.usefixtures("fake_engine")
def test_without_a_yes_the_moments_are_only_printed(tmp_path: Path, suggested: list[str]) -> None:
    case = tmp_path / "case"
    code, out = _init(case, "\n" * 12, "--from", str(_with_recording(tmp_path)))
    assert code == ExitCode.OK, out
    assert "moments:" in out and "没有写入" in out
    assert not [e for e in load_case(case).evidence if e.file.endswith("live.mp4")]


def test_add_moments_adds_the_key_to_an_existing_entry_and_leaves_one_that_has_moments(tmp_path: Path) -> None:
    for name in ("a.mp4", "b.mp4"):
        write_file(tmp_path / "evidence" / "livestream" / name, b"\0" * 64)
    case_file = tmp_path / "case.yaml"
    case_file.write_text('schema: 1\nevidence:\n  - file: livestream/a.mp4  # 直播\n    title: 直播录屏\n'
                         '  - file: livestream/b.mp4\n    moments: ["00:00:05 我自己写的"]\n', encoding="utf-8")
    assert add_moments(tmp_path, "evidence/livestream/a.mp4", [MOMENT.line])
    assert not add_moments(tmp_path, "evidence/livestream/b.mp4", [MOMENT.line])
    text = case_file.read_text(encoding="utf-8")
    assert text.startswith("schema: 1\nevidence:\n  - file: livestream/a.mp4  # 直播\n    title: 直播录屏\n"
                           f"    moments: [{yaml_quote(MOMENT.line)}]\n")
    by_file = {e.file: e.moments for e in load_case(tmp_path).evidence}
    assert by_file == {"evidence/livestream/a.mp4": (MOMENT.line,), "evidence/livestream/b.mp4": ("00:00:05 我自己写的",)}


def test_a_link_out_of_the_given_folder_is_not_copied_and_is_named(tmp_path: Path) -> None:
    """`--from` a stranger's folder (a volunteer's USB stick): a link in it that points outside
    it is refused as the case inventory refuses one, never followed and copied into the case."""
    source = tmp_path / "U盘" / "订单"
    write_file(source / "a.png", png(SIZE))
    secret = tmp_path / "private.txt"
    secret.write_text("the volunteer's own file", encoding="utf-8")
    (source / "b.txt").symlink_to(secret)
    (source / "inside.png").symlink_to(source / "a.png")  # a link that stays inside is followed
    case = tmp_path / "case"
    code, out = _init(case, "", "--from", str(source), "--no-input")
    assert code == ExitCode.OK, out
    copied = sorted(p.name for p in (case / "evidence" / "order").iterdir())
    assert copied == ["a.png", "inside.png"], out
    (refused,) = [line for line in out.splitlines() if "b.txt" in line]
    assert refused.startswith("未添加 订单/b.txt：")
    # The folder it leaves is the one given, not the case folder (the case inventory's words).
    assert "所给文件夹之外" in refused and "案件文件夹" not in refused
    assert str(secret) not in out


def test_init_from_reads_a_bounded_number_of_entries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from evidencekit.case import inventory

    monkeypatch.setattr(inventory, "MAX_WALK_ENTRIES", 3)
    source = tmp_path / "订单"
    for i in range(6):
        write_file(source / f"{i}.png", png(SIZE))
    case = tmp_path / "case"
    code, out = _init(case, "", "--from", str(source), "--no-input")
    assert code == ExitCode.OK, out
    assert not (case / "evidence" / "order").exists() or not list((case / "evidence" / "order").iterdir())
    assert "未添加" in out and "上限" in out
