"""Hostile inputs for verify, the terminal, the batch summary, case dates and SOURCE_DATE_EPOCH.

Issue 9, items 4 to 6 (the verify, terminal, spreadsheet, date and batch parts): a stranger
controls the dossier handed to `verify`, the file and folder names echoed to the terminal and
written to summary.csv, the dates in case.yaml and, through scripts, the environment.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import shutil
import signal
import time
import zlib
from datetime import UTC, datetime
from pathlib import Path

import pikepdf
import pytest
from click.testing import CliRunner
from factories import make_jpeg
from PIL import Image
from test_verify import FILES, build, render_cover

from evidencekit.channels.batch import (
    BatchOptions,
    BuiltCase,
    format_summary,
    run_batch,
    summary_csv,
    summary_json,
)
from evidencekit.cli import main
from evidencekit.errors import ExitCode
from evidencekit.integrity.attach import attach_files
from evidencekit.integrity.manifest import fingerprint
from evidencekit.pipeline import BuildOptions

NOW = datetime(2024, 11, 20, 8, 0, 0, tzinfo=UTC)
HOSTILE = "\x1b]0;被接管\x07截图\x1b[8m隐藏\u202egpj.exe"
RAW_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def invoke(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), env=env)
    return result.exit_code, result.stdout + result.stderr


# ---------------------------------------------------------------------------------------------
# Real dossiers, built once for the module
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_dossier(example_reproducible: Path) -> Path:
    """The example case built with --reproducible: page images, attachments, the real cover.

    Beside it are ``case/`` and ``cache/`` (see conftest.example_reproducible); read-only.
    """
    return example_reproducible


def copy_of(pdf: Path, tmp_path: Path) -> Path:
    dest = tmp_path / "dossier.pdf"
    shutil.copyfile(pdf, dest)
    return dest


def first_page_image(pdf: Path) -> tuple[int, int, int, int]:
    """(object number, generation, width, height) of the first image drawn on a page."""
    with pikepdf.open(pdf) as doc:
        for page in doc.pages:
            xobjects = page.obj.get("/Resources", {}).get("/XObject", {})
            for _name, xo in xobjects.items():
                if xo.get("/Subtype") == "/Image":
                    num, gen = xo.objgen
                    return num, gen, int(xo.Width), int(xo.Height)
    raise AssertionError("no page image")


def other_jpeg(width: int, height: int) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), "#d22").save(buf, "JPEG", quality=80)
    return buf.getvalue()


def append_image_swap(pdf: Path) -> bytes:
    """Hand-written incremental update: a new revision replaces one page image XObject."""
    num, gen, width, height = first_page_image(pdf)
    data = pdf.read_bytes()
    with pikepdf.open(pdf) as doc:
        size = int(doc.trailer.Size)
        root_num, root_gen = doc.Root.objgen
    prev = int(re.findall(rb"startxref\s+(\d+)", data)[-1])
    jpeg = other_jpeg(width, height)
    body = b"" if data.endswith(b"\n") else b"\n"
    obj_offset = len(data) + len(body)
    body += (f"{num} {gen} obj\n<< /Type /XObject /Subtype /Image /Width {width} /Height {height} "
             f"/ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /DCTDecode /Length {len(jpeg)} >>\n"
             "stream\n").encode() + jpeg + b"\nendstream\nendobj\n"
    xref_offset = len(data) + len(body)
    body += (f"xref\n0 1\n0000000000 65535 f \n{num} 1\n{obj_offset:010d} {gen:05d} n \n"
             f"trailer\n<< /Size {size} /Root {root_num} {root_gen} R /Prev {prev} >>\n"
             f"startxref\n{xref_offset}\n%%EOF\n").encode()
    pdf.write_bytes(data + body)
    with pikepdf.open(pdf) as doc:  # the swap is what a viewer now shows
        assert doc.get_object(num, gen).read_raw_bytes() == jpeg
    return jpeg


# ---------------------------------------------------------------------------------------------
# 4. verify is a verifier
# ---------------------------------------------------------------------------------------------


def test_untouched_reproducible_build_verifies_without_false_alarm(real_dossier: Path) -> None:
    code, text = invoke("verify", str(real_dossier))
    assert code == 0, text
    assert "页面图片" in text  # the page images were compared, not skipped


@pytest.mark.parametrize("extra", [[], ["--no-originals"]])
def test_dossier_with_an_attached_pdf_original_verifies(extra: list[str], tmp_path: Path) -> None:
    """An attached PDF original carries its own %%EOF and xref: inside a stream, not a revision."""
    from reportlab.pdfgen import canvas

    case = tmp_path / "case"
    make_jpeg(case / "evidence" / "product" / "a.jpg")
    (case / "evidence" / "report").mkdir(parents=True)
    c = canvas.Canvas(str(case / "evidence" / "report" / "质检报告.pdf"))
    for n in range(3):
        c.drawString(72, 720, f"Test report page {n + 1}")
        c.showPage()
    c.save()
    out = tmp_path / "d.pdf"
    code, text = invoke("build", str(case), "-o", str(out), "--quiet", *extra)
    assert code == 0, text
    assert out.read_bytes().count(b"%%EOF") >= (1 if extra else 2)
    code, text = invoke("verify", str(out))
    assert code == 0, text
    assert "页面图片" in text


def test_first_pack_volume_verifies_and_names_the_pages_it_leaves_out(real_dossier: Path, tmp_path: Path) -> None:
    case = real_dossier.parent / "case"
    out = tmp_path / "pack"
    code, text = invoke("pack", str(case), "--target", "12315", "--cap", "1", "-o", str(out), "-q",
                        env={"EVIDENCEKIT_CACHE_DIR": str(real_dossier.parent / "cache")})
    assert code == 0, text
    volumes = sorted(out.glob("*第1卷.pdf"))
    assert volumes, sorted(p.name for p in out.iterdir())
    code, text = invoke("verify", str(volumes[0]))
    assert code == 0, text
    assert "不在这份 PDF 的页面上" in text


def test_page_image_swapped_by_incremental_update_exits_7(real_dossier: Path, tmp_path: Path) -> None:
    pdf = copy_of(real_dossier, tmp_path)
    append_image_swap(pdf)
    code, text = invoke("verify", str(pdf))
    assert code == ExitCode.VERIFY_FAILED, text
    assert "增量" in text
    assert "页面图片" in text


def test_page_image_swapped_in_a_full_rewrite_exits_7(real_dossier: Path, tmp_path: Path) -> None:
    """No second revision to see: the image itself must be compared with display_sha256."""
    pdf = copy_of(real_dossier, tmp_path)
    num, gen, width, height = first_page_image(pdf)
    with pikepdf.open(pdf, allow_overwriting_input=True) as doc:
        doc.get_object(num, gen).write(other_jpeg(width, height), filter=pikepdf.Name.DCTDecode)
        doc.save(pdf)
    code, text = invoke("verify", str(pdf))
    assert code == ExitCode.VERIFY_FAILED, text
    assert "页面图片" in text and "增量" not in text


def test_appended_revision_without_changes_is_still_reported(real_dossier: Path, tmp_path: Path) -> None:
    pdf = copy_of(real_dossier, tmp_path)
    data = pdf.read_bytes()
    prev = int(re.findall(rb"startxref\s+(\d+)", data)[-1])
    with pikepdf.open(pdf) as doc:
        size = int(doc.trailer.Size)
        root = doc.Root.objgen
    tail = (f"xref\n0 1\n0000000000 65535 f \ntrailer\n<< /Size {size} /Root {root[0]} {root[1]} R "
            f"/Prev {prev} >>\nstartxref\n{len(data)}\n%%EOF\n").encode()
    pdf.write_bytes(data + tail)
    code, text = invoke("verify", str(pdf))
    assert code == ExitCode.VERIFY_FAILED, text
    assert "增量" in text


def test_inline_image_added_to_a_page_exits_7(real_dossier: Path, tmp_path: Path) -> None:
    """An image written into the drawing instructions has no XObject, so no hash to compare."""
    pdf = copy_of(real_dossier, tmp_path)
    with pikepdf.open(pdf, allow_overwriting_input=True) as doc:
        doc.pages[5].contents_add(pikepdf.Stream(
            doc, b"q 400 0 0 400 50 200 cm BI /W 1 /H 1 /CS /RGB /BPC 8 ID \xff\x00\x00 EI Q"))
        doc.save(pdf)
    code, text = invoke("verify", str(pdf))
    assert code == ExitCode.VERIFY_FAILED, text
    assert "第 6 页" in text and "内联图片" in text


def test_cover_whose_content_inflates_past_the_limit_is_not_rendered(real_dossier: Path, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import evidencekit.integrity.verify as verify

    pdf = copy_of(real_dossier, tmp_path)
    with pikepdf.open(pdf, allow_overwriting_input=True) as doc:
        bomb = pikepdf.Stream(doc, b"")
        bomb.write(zlib.compress(b"0 0 m 1 1 l S\n" * 200_000, 9), filter=pikepdf.Name.FlateDecode)
        doc.pages[0].contents_add(bomb)
        doc.save(pdf)
    monkeypatch.setattr(verify, "MAX_CONTENT_BYTES", 1024 * 1024)
    read: list[Path] = []
    monkeypatch.setattr(verify, "_cover_fingerprint", lambda p, fp: read.append(p))
    code, text = invoke("verify", str(pdf))
    assert code == ExitCode.VERIFY_FAILED, text
    assert "第 1 页" in text and "页面内容无法核对" in text
    assert not read  # the cover was not handed to the text extractor


def test_hybrid_xref_stream_named_by_the_trailer_is_a_second_revision(real_dossier: Path, tmp_path: Path) -> None:
    """/XRefStm in the trailer makes readers consult a second cross-reference section."""
    pdf = copy_of(real_dossier, tmp_path)
    data = pdf.read_bytes()
    at = data.rindex(b"trailer << ")
    pdf.write_bytes(data[:at] + b"trailer << /XRefStm 0 " + data[at + len(b"trailer << "):])
    code, text = invoke("verify", str(pdf))
    assert code == ExitCode.VERIFY_FAILED, text
    assert "增量" in text or "交叉引用" in text


def test_attachment_that_inflates_past_the_limit_is_refused(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """A small PDF whose embedded file stream inflates far beyond the limit: refused, exit 7."""
    import evidencekit.integrity.verify as verify

    big = b"\0" * (8 * 1024 * 1024)
    b = build(tmp_path, {"evidence/report/bomb.bin": big, **FILES})
    with pikepdf.open(b.pdf, allow_overwriting_input=True) as doc:
        stream = doc.attachments["证据01_bomb.bin"].obj.EF.F
        stream.write(zlib.compress(big, 9), filter=pikepdf.Name.FlateDecode)
        doc.save(b.pdf)
    assert b.pdf.stat().st_size < 200_000
    assert invoke("verify", str(b.pdf))[0] == 0  # within the default limit: a legitimate file
    monkeypatch.setattr(verify, "MAX_ATTACHMENT_BYTES", 1024 * 1024)
    code, text = invoke("verify", str(b.pdf))
    assert code == ExitCode.VERIFY_FAILED, text
    assert "上限" in text and "bomb.bin" in text
    monkeypatch.undo()
    code, text = invoke("verify", str(b.pdf), "--max-attachment", "4")  # the same limit, chosen by the user
    assert code == ExitCode.VERIFY_FAILED and "超过上限" in text, text
    assert invoke("verify", str(b.pdf), "--max-attachment", "9")[0] == 0


def test_attachment_longer_than_its_recorded_size_is_changed_not_read_to_the_end(tmp_path: Path) -> None:
    b = build(tmp_path)
    with pikepdf.open(b.pdf, allow_overwriting_input=True) as doc:
        stream = doc.attachments["证据01_a.png"].obj.EF.F
        stream.write(zlib.compress(b"\0" * (16 * 1024 * 1024)), filter=pikepdf.Name.FlateDecode)
        doc.save(b.pdf)
    code, text = invoke("verify", str(b.pdf))
    assert code == ExitCode.VERIFY_FAILED, text
    assert "已改变" in text and "已停止读取" in text


def test_attachments_are_hashed_in_chunks_not_read_whole(tmp_path: Path) -> None:
    import tracemalloc

    from evidencekit.integrity.verify import verify_dossier

    big = bytes(range(256)) * (128 * 1024)  # 32 MiB, compresses well
    b = build(tmp_path, {"evidence/report/big.bin": big})
    with pikepdf.open(b.pdf, allow_overwriting_input=True) as doc:
        doc.attachments["证据01_big.bin"].obj.EF.F.write(zlib.compress(big), filter=pikepdf.Name.FlateDecode)
        doc.save(b.pdf)
    del big
    tracemalloc.start()
    try:
        report = verify_dossier(b.pdf)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert report.ok, report.summary
    assert peak < 12 * 1024 * 1024, peak


@pytest.mark.parametrize("kind", ["link to /dev/zero", "huge file"])
def test_token_beside_the_pdf_is_read_bounded_and_never_through_a_link(kind: str, tmp_path: Path) -> None:
    b = build(tmp_path)
    beside = b.pdf.with_name("dossier.pdf.tsr")
    if kind == "huge file":
        with beside.open("wb") as fh:
            fh.truncate(3 * 1024 * 1024 * 1024)  # sparse: 3 GB that take no disk
    else:
        beside.symlink_to("/dev/zero")
    code, text = invoke("verify", str(b.pdf))
    assert code == ExitCode.VERIFY_FAILED, text
    assert "dossier.pdf.tsr" in text


def test_two_attachments_with_one_name_in_nfc_fail(tmp_path: Path) -> None:
    """The NFD spelling of an attachment name is another entry in the viewer's attachment list."""
    import unicodedata

    b = build(tmp_path, {"evidence/product/café.jpg": b"the real photo", **FILES})
    nfd = unicodedata.normalize("NFD", "证据01_café.jpg")
    with pikepdf.open(b.pdf, allow_overwriting_input=True) as doc:
        assert unicodedata.normalize("NFC", "证据01_café.jpg") in doc.attachments
        doc.attachments[nfd] = pikepdf.AttachedFileSpec(doc, b"another photo", filename=nfd)
        doc.save(b.pdf)
    code, text = invoke("verify", str(b.pdf))
    assert code == ExitCode.VERIFY_FAILED, text
    assert "同名" in text


def manifest_dict() -> dict:  # type: ignore[type-arg]
    return {
        "format": 1, "tool": "evidencekit", "tool_version": "0.1.0", "case_id": "EK-TEST0001",
        "target": "general", "generated_at": "2024-11-20T10:00:00+08:00", "refused": [],
        "files": [{
            "exhibit": 1, "path": "evidence/order/a.png", "name": "a.png", "size": 4,
            "sha256": hashlib.sha256(b"abcd").hexdigest(), "kind": "order", "time": None, "time_source": "mtime", "media": "image",
            "display_sha256": [], "redacted": False, "removed_metadata": [], "preview_error": None,
        }],
    }


def with_file(**changes: object) -> bytes:
    doc = manifest_dict()
    doc["files"][0].update(changes)
    return json.dumps(doc).encode()


MALFORMED = {
    "no files": json.dumps({**manifest_dict(), "files": []}).encode(),
    "exhibit abc": with_file(exhibit="abc"),
    "exhibit bool": with_file(exhibit=True),
    "size 1e400": with_file(size="__HUGE__").replace(b'"__HUGE__"', b"1e400"),
    "sha256 int": with_file(sha256=12),
    "sha256 short": with_file(sha256="abc"),
    "display not a list": with_file(display_sha256="x"),
    "files a dict": json.dumps({**manifest_dict(), "files": {"a": 1}}).encode(),
    "deep nesting": json.dumps({**manifest_dict(), "extra": None}).encode().replace(
        b"null", b"[" * 100_000 + b"]" * 100_000),
    "not json": b"\xff\xfe not json",
    "duplicate exhibit": json.dumps({**manifest_dict(), "files": manifest_dict()["files"] * 2}).encode(),
    "refused wrong type": json.dumps({**manifest_dict(), "refused": ["x"]}).encode(),
    "NaN": with_file(size="__NAN__").replace(b'"__NAN__"', b"NaN"),
}


def test_well_formed_manifest_of_the_malformed_series_verifies(tmp_path: Path) -> None:
    b = build(tmp_path, {"evidence/order/a.png": b"abcd"}, manifest=json.dumps(manifest_dict()).encode())
    code, text = invoke("verify", str(b.pdf))
    assert code == 0, text
    b = build(tmp_path / "inside", {"evidence/order/a.png": b"abcd"}, manifest=json.dumps(manifest_dict()).encode(),
              attach_originals=False)
    code, text = invoke("verify", str(b.pdf))
    assert code == 0, text


@pytest.mark.parametrize("kind", sorted(MALFORMED))
def test_malformed_manifest_is_exit_7_with_a_chinese_reason(kind: str, tmp_path: Path) -> None:
    b = build(tmp_path, {"evidence/order/a.png": b"abcd"}, manifest=MALFORMED[kind], attach_originals=False)
    code, text = invoke("verify", str(b.pdf))
    assert code == ExitCode.VERIFY_FAILED, (kind, text)
    assert "清单" in text and "内部错误" not in text and "Traceback" not in text


def test_cover_without_the_fingerprint_is_exit_7(tmp_path: Path) -> None:
    case = tmp_path / "case"
    b = build(tmp_path)
    rendered = tmp_path / "blank-cover.pdf"
    render_cover(rendered, "none", fingerprint(b.manifest))
    with pikepdf.open(rendered, allow_overwriting_input=True) as doc:  # the text copy is gone
        doc.docinfo[pikepdf.Name.Keywords] = "evidencekit test"
        doc.save(rendered)
    attach_files(rendered, b.pdf, exhibits=b.exhibits, manifest=b.manifest, attach_originals=True,
                 reproducible=True, when=NOW)
    assert case.is_dir()
    code, text = invoke("verify", str(b.pdf))
    assert code == ExitCode.VERIFY_FAILED, text
    assert "封面" in text


# ---------------------------------------------------------------------------------------------
# 5. The terminal and spreadsheets are outputs too
# ---------------------------------------------------------------------------------------------


def test_terminal_safe_escapes_c0_c1_del_and_bidi_but_keeps_text() -> None:
    from evidencekit.terminal import terminal_safe

    assert terminal_safe("证据 a.png") == "证据 a.png"
    out = terminal_safe(HOSTILE + "\x7f\x9b\x00\u2066\n\t")
    assert not RAW_CONTROLS.search(out) and "\n" not in out
    assert "\\u001b" in out and "\\u202e" in out and "\\u009b" in out and "\\u007f" in out
    assert terminal_safe("第一行\n第二行\t", multiline=True) == "第一行\n第二行\t"
    assert terminal_safe("a\rb\x1b", multiline=True) == "a\\u000db\\u001b"


def test_verify_output_escapes_hostile_file_names(tmp_path: Path) -> None:
    b = build(tmp_path, {f"evidence/order/{HOSTILE}.png": b"abc", **FILES})
    for extra in ([], ["--json"]):
        code, text = invoke("verify", str(b.pdf), *extra)
        assert code == 0, text
        assert not RAW_CONTROLS.search(text), repr(text)
    json.loads(CliRunner().invoke(main, ["verify", str(b.pdf), "--json"]).stdout)  # still valid JSON


def test_check_build_and_errors_escape_hostile_names(tmp_path: Path) -> None:
    case = tmp_path / "case"
    make_jpeg(case / "evidence" / "product" / f"{HOSTILE}.jpg")
    (case / "evidence" / "other").mkdir(parents=True)
    (case / "evidence" / "other" / f"{HOSTILE}.xyz").write_bytes(b"unknown")
    for args in (["check", str(case)], ["check", str(case), "--json"],
                 ["build", str(case), "-o", str(tmp_path / "d.pdf")],
                 ["build", str(tmp_path / HOSTILE)],
                 ["status", str(case)]):
        _code, text = invoke(*args)
        assert not RAW_CONTROLS.search(text), (args, repr(text))


def test_case_text_echoed_by_letter_and_status_is_escaped(tmp_path: Path) -> None:
    """User text from case.yaml (YAML escapes can carry any control) reaches the terminal too."""
    case = tmp_path / "case"
    make_jpeg(case / "evidence" / "product" / "a.jpg")
    (case / "case.yaml").write_text(
        'schema: 1\nplatform: douyin\nproblem:\n  type: quality\n'
        '  summary: "商品有问题\\e]0;被接管\\a\\e[8m\\u202e"\n'
        'events:\n  - time: 2024-11-13 15:20\n    channel: seller\n    note: "客服\\e[2J说不退"\n',
        encoding="utf-8")
    for args in (["letter", str(case), "--target", "12315"], ["letter", str(case), "--target", "12315", "--json"],
                 ["status", str(case)], ["check", str(case)]):
        code, text = invoke(*args)
        assert code in (0, 6), (args, text)
        assert not RAW_CONTROLS.search(text), (args, repr(text))


def test_progress_line_escapes_the_current_file_name(monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    from evidencekit.cli import common as cliutil

    monkeypatch.setattr("sys.stderr.isatty", lambda: True)
    show = cliutil.progress_printer(False)
    assert show is not None
    show(1, 2, HOSTILE)
    err = capsys.readouterr().err
    assert not RAW_CONTROLS.search(err.replace("\r", "")), repr(err)


def hostile_summary(tmp_path: Path) -> object:
    cases = tmp_path / "cases"
    for name in ("=HYPERLINK(\"x\")", "+1", "-2", "@SUM(A1)", "\tTAB", HOSTILE, "plain"):
        (cases / name / "evidence").mkdir(parents=True)
    return run_batch(cases, BatchOptions(BuildOptions(now=NOW),
                                         outdir=tmp_path / "out", jobs=1, case_timeout=None),
                     build=named_build)


def named_build(root: Path, options: BuildOptions) -> BuiltCase:
    assert options.output is not None
    options.output.write_bytes(b"%PDF-1.4 fake")
    if root.name == "plain":
        raise ValueError("=cmd|' /C calc'!A0")
    return BuiltCase(output=options.output, pages=1, size=13, complete=True, missing=(), urgency="一般")


def test_summary_csv_neutralises_formula_cells(tmp_path: Path) -> None:
    summary = hostile_summary(tmp_path)
    rows = list(csv.reader(io.StringIO(summary_csv(summary))))  # type: ignore[arg-type]
    for row in rows[1:]:
        for cell in row:
            assert not cell or cell[0] not in "=+-@\t\r", row
    names = {row[0] for row in rows[1:]}
    assert "'=HYPERLINK(\"x\")" in names and "'+1" in names and "'@SUM(A1)" in names
    data = json.loads(summary_json(summary))  # type: ignore[arg-type]
    assert {c["case"] for c in data["cases"]} >= {"+1", "-2"}  # JSON keeps the real names


def test_batch_table_escapes_hostile_case_names(tmp_path: Path) -> None:
    text = format_summary(hostile_summary(tmp_path))  # type: ignore[arg-type]
    assert not RAW_CONTROLS.search(text), repr(text)


# ---------------------------------------------------------------------------------------------
# 6. Faults: dates, SOURCE_DATE_EPOCH
# ---------------------------------------------------------------------------------------------


CASE_WITH_DATES = """\
schema: 1
timezone: {tz}
livestream:
  time: {live}
order:
  number: "123"
  time: {order}
  signed_at: {signed}
problem:
  type: quality
  discovered_at: {found}
events:
  - time: {event}
    channel: seller
    note: 联系了客服
evidence:
  - file: evidence/product/a.jpg
    time: {evidence}
"""
GOOD = {"tz": "Asia/Shanghai", "live": "2024-11-10 20:15", "order": "2024-11-10 20:31",
        "signed": "2024-11-13 14:02", "found": "2024-11-13 15:10", "event": "2024-11-13 15:20",
        "evidence": "2024-11-12 10:00"}
BAD_DATES = [
    ("order", "9999-12-31", "order.time"),
    ("live", "0001-01-01 00:00 +14:00", "livestream.time"),
    ("event", "0001-01-01 00:00 +14:00", "events[0].time"),
    ("evidence", "9999-12-31 23:59", "evidence[0].time"),
    ("signed", "1969-12-31", "order.signed_at"),
    ("found", "2101-01-01", "problem.discovered_at"),
    ("order", "2024-11-10 20:31 +23:00", "order.time"),
    ("tz", "+23:30", "timezone"),
]


def dated_case(tmp_path: Path, **changes: str) -> Path:
    case = tmp_path / "case"
    make_jpeg(case / "evidence" / "product" / "a.jpg")
    (case / "case.yaml").write_text(CASE_WITH_DATES.format(**{**GOOD, **changes}), encoding="utf-8")
    return case


@pytest.mark.parametrize(("field", "value", "key"), BAD_DATES)
def test_dates_out_of_range_are_exit_3_naming_the_key(field: str, value: str, key: str, tmp_path: Path) -> None:
    case = dated_case(tmp_path, **{field: value})
    for command in (["check", str(case)], ["build", str(case), "-o", str(tmp_path / "d.pdf")],
                    ["status", str(case)]):
        code, text = invoke(*command)
        assert code == ExitCode.CASE_INVALID, (command, text)
        assert key in text, text


def test_dates_inside_the_range_still_build(tmp_path: Path) -> None:
    case = dated_case(tmp_path, order="1970-01-02", found="2099-12-31 23:00")
    code, text = invoke("build", str(case), "-o", str(tmp_path / "d.pdf"), "--quiet")
    assert code == 0, text


@pytest.mark.parametrize("value", ["-1", "99999999999999", "abc", "1e3", "4102444801"])
@pytest.mark.parametrize("reproducible", [True, False])
def test_source_date_epoch_out_of_range_is_a_usage_error(value: str, reproducible: bool, tmp_path: Path) -> None:
    case = dated_case(tmp_path)
    args = ["build", str(case), "-o", str(tmp_path / "d.pdf")] + (["--reproducible"] if reproducible else [])
    code, text = invoke(*args, env={"SOURCE_DATE_EPOCH": value})
    assert code == ExitCode.USAGE, text
    assert "SOURCE_DATE_EPOCH" in text and "内部错误" not in text
    assert not (tmp_path / "d.pdf").exists()


def test_source_date_epoch_out_of_range_fails_a_batch_once_with_exit_2(tmp_path: Path) -> None:
    cases = tmp_path / "cases"
    (cases / "a" / "evidence").mkdir(parents=True)
    code, text = invoke("batch", str(cases), "--quiet", env={"SOURCE_DATE_EPOCH": "-5"})
    assert code == ExitCode.USAGE, text
    assert "SOURCE_DATE_EPOCH" in text


def test_source_date_epoch_in_range_is_used(tmp_path: Path) -> None:
    case = dated_case(tmp_path)
    out = tmp_path / "d.pdf"
    code, text = invoke("build", str(case), "-o", str(out), "--reproducible", "--quiet",
                        env={"SOURCE_DATE_EPOCH": "1732000000"})
    assert code == 0, text
    from evidencekit.integrity.verify import read_manifest

    assert json.loads(read_manifest(out))["generated_at"].startswith("2024-11-19")


# ---------------------------------------------------------------------------------------------
# 3. Bounded batch: a per-case time limit
# ---------------------------------------------------------------------------------------------


def hanging_build(root: Path, options: BuildOptions) -> BuiltCase:
    """Cases named *stuck* hang, after starting a helper process of their own (like a decoder)."""
    assert options.output is not None
    if "stuck" in root.name:
        import subprocess

        helper = subprocess.Popen(["sleep", "300"])
        (root / "helper.pid").write_text(str(helper.pid))
        while True:
            time.sleep(1)
    options.output.write_bytes(b"%PDF-1.4 fake")
    return BuiltCase(output=options.output, pages=1, size=13, complete=True, missing=(), urgency="一般")


def stuck_in_work_folder_build(root: Path, options: BuildOptions) -> BuiltCase:
    """Hangs inside a temporary work folder, as a build does while it renders."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="evidencekit-", dir=root.parent.parent / "tmp") as work:
        (Path(work) / "rendered.pdf").write_bytes(b"%PDF-1.4 half a dossier")
        (root / "work.txt").write_text(work)
        while True:
            time.sleep(0.2)


@pytest.mark.parametrize("sigint", ["default", "ignored"])
def test_timed_out_case_cleans_up_its_work_folder(tmp_path: Path, sigint: str) -> None:
    """Also when the batch was started with SIGINT ignored (``nohup``, ``&`` from a script, cron):
    its cases inherit that, and the interrupt meant to make them clean up would do nothing."""
    cases = tmp_path / "cases"
    (cases / "stuck" / "evidence").mkdir(parents=True)
    (tmp_path / "tmp").mkdir()
    before = signal.signal(signal.SIGINT, signal.SIG_IGN if sigint == "ignored" else signal.default_int_handler)
    try:
        summary = run_batch(cases, BatchOptions(BuildOptions(now=NOW),
                                                outdir=tmp_path / "out", jobs=1, case_timeout=0.5),
                            build=stuck_in_work_folder_build)
    finally:
        signal.signal(signal.SIGINT, before)
    assert summary.rows[0].timed_out
    work = Path((cases / "stuck" / "work.txt").read_text())
    assert not work.exists(), "the stuck case's work folder (with its rendered PDF) was left behind"


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead but not yet reaped by its parent
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(") ")[-1][0] != "Z"
    except OSError:
        return False


def kill_case_group(helper: int) -> None:
    """Clean up after a failure: the case process and its helper, never the test's own group."""
    group = os.getpgid(helper)
    if group != os.getpgrp():
        os.killpg(group, signal.SIGKILL)
    else:
        os.kill(helper, signal.SIGKILL)


@pytest.mark.parametrize("jobs", [1, 2])
def test_stuck_case_times_out_and_the_rest_build(jobs: int, tmp_path: Path) -> None:
    cases = tmp_path / "cases"
    for name in ("a", "b-stuck", "c"):
        (cases / name / "evidence").mkdir(parents=True)
    started = time.monotonic()
    summary = run_batch(cases, BatchOptions(BuildOptions(now=NOW),
                                            outdir=tmp_path / "out", jobs=jobs, case_timeout=0.5),
                        build=hanging_build)
    assert time.monotonic() - started < 60
    rows = {r.case: r for r in summary.rows}
    assert rows["a"].ok and rows["c"].ok
    stuck = rows["b-stuck"]
    assert not stuck.ok and stuck.timed_out and "超时" in stuck.message
    assert summary.exit_code == stuck.exit_code != 0
    assert "超时" in summary_csv(summary)
    assert json.loads(summary_json(summary))["cases"][1]["status"] == "timeout"
    assert "超时" in format_summary(summary)
    helper = int((cases / "b-stuck" / "helper.pid").read_text())
    deadline = time.monotonic() + 5
    while alive(helper) and time.monotonic() < deadline:
        time.sleep(0.02)
    if alive(helper):
        kill_case_group(helper)
        pytest.fail("the stuck case's helper process was left running")


def test_killing_the_batch_leaves_no_case_process_behind(tmp_path: Path) -> None:
    import subprocess
    import sys

    cases = tmp_path / "cases"
    (cases / "a-stuck" / "evidence").mkdir(parents=True)
    # Ctrl-C as a terminal's foreground job gets it: SIGINT handled (a background shell hands on SIG_IGN).
    script = ("import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler);"
              "from datetime import datetime, UTC; from pathlib import Path;"
              "from evidencekit.channels.batch import BatchOptions, run_batch;"
              "from evidencekit.pipeline import BuildOptions;"
              "from test_hostile_verify import hanging_build;"
              "run_batch(Path(sys.argv[1]), BatchOptions(BuildOptions(now=datetime.now(UTC)), outdir=Path(sys.argv[2]),"
              " jobs=1, case_timeout=600), build=hanging_build)")
    tests = Path(__file__).parent
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tests), os.environ.get("PYTHONPATH", "")])}
    batch = subprocess.Popen([sys.executable, "-c", script, str(cases), str(tmp_path / "out")], env=env, cwd=tests)
    pid_file = cases / "a-stuck" / "helper.pid"
    deadline = time.monotonic() + 30
    while not pid_file.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert pid_file.exists(), "the case never started"
    time.sleep(0.2)
    helper = int(pid_file.read_text())
    batch.kill()
    batch.wait()
    deadline = time.monotonic() + 10
    while alive(helper) and time.monotonic() < deadline:
        time.sleep(0.02)
    if alive(helper):
        kill_case_group(helper)
        pytest.fail("the stuck case's helper process outlived the killed batch")


def test_interrupting_the_batch_stops_its_cases_and_their_work_folders(tmp_path: Path) -> None:
    import subprocess
    import sys

    cases = tmp_path / "cases"
    (cases / "stuck" / "evidence").mkdir(parents=True)
    (tmp_path / "tmp").mkdir()
    # Ctrl-C as a terminal's foreground job gets it: SIGINT handled (a background shell hands on SIG_IGN).
    script = ("import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler);"
              "from datetime import datetime, UTC; from pathlib import Path;"
              "from evidencekit.channels.batch import BatchOptions, run_batch;"
              "from evidencekit.pipeline import BuildOptions;"
              "from test_hostile_verify import stuck_in_work_folder_build;"
              "run_batch(Path(sys.argv[1]), BatchOptions(BuildOptions(now=datetime.now(UTC)), outdir=Path(sys.argv[2]),"
              " jobs=1, case_timeout=600), build=stuck_in_work_folder_build)")
    tests = Path(__file__).parent
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tests), os.environ.get("PYTHONPATH", "")])}
    batch = subprocess.Popen([sys.executable, "-c", script, str(cases), str(tmp_path / "out")], env=env, cwd=tests,
                             stderr=subprocess.PIPE)
    marker = cases / "stuck" / "work.txt"
    deadline = time.monotonic() + 30
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert marker.exists(), "the case never started"
    time.sleep(0.3)
    batch.send_signal(signal.SIGINT)  # Ctrl-C reaches the batch only: its cases run in groups of their own
    try:
        batch.wait(timeout=20)
    finally:
        if batch.poll() is None:
            batch.kill()
    assert not Path(marker.read_text()).exists(), "the interrupted case left its work folder behind"
    assert not list((tmp_path / "tmp").iterdir())


def test_cli_batch_has_a_timeout_option_with_a_default(tmp_path: Path) -> None:
    from evidencekit.channels import batch
    from evidencekit.cli import batch as cli_batch

    assert cli_batch.DEFAULT_CASE_TIMEOUT == batch.DEFAULT_CASE_TIMEOUT == 600
    result = CliRunner().invoke(main, ["batch", "--help"])
    assert "--timeout" in result.output and "600" in result.output
    result = CliRunner().invoke(main, ["batch", str(tmp_path), "--timeout", "-1"])
    assert result.exit_code == ExitCode.USAGE
