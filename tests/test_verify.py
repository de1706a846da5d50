"""verify: every hash the manifest records, checked inside the PDF or against a folder of originals.

Dossiers are built without the renderer: a one-page reportlab PDF carrying the fingerprint on
its "cover" and in its Keywords (as the real renderer does), then the real attach step.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pikepdf
import pytest
from click.testing import CliRunner
from factories import make_exhibit, make_source_file, sh
from reportlab.pdfgen import canvas

from evidencekit.case.inventory import scan_evidence
from evidencekit.cli.verify import verify_command
from evidencekit.errors import ExitCode, VerificationFailed
from evidencekit.integrity.attach import attach_files
from evidencekit.integrity.manifest import MANIFEST_NAME, build_manifest, fingerprint
from evidencekit.integrity.tsa import TOKEN_ATTACHMENT_NAME
from evidencekit.integrity.verify import FileStatus, _Folder, verify_dossier
from evidencekit.model import Exhibit

FIXTURES = Path(__file__).parent / "fixtures" / "tsa"

FILES = {
    "evidence/order/a.png": b"\x89PNG order screenshot " + bytes(range(256)),
    "evidence/product/实物照片.jpg": b"\xff\xd8 product photo " * 50,
    "evidence/chat/聊天记录.txt": "客服：亲，不支持退货\n".encode(),
}


@dataclass
class Built:
    pdf: Path
    case: Path
    exhibits: list[Exhibit]
    manifest: bytes


def render_cover(path: Path, text_fingerprint: str, keyword_fingerprint: str) -> None:
    c = canvas.Canvas(str(path))
    c.setKeywords(["evidencekit test", f"sha256:{keyword_fingerprint}"])
    c.drawString(40, 800, "Dossier cover")
    c.drawString(40, 780, f"SHA-256 {text_fingerprint}")
    c.showPage()
    c.save()


def build(tmp_path: Path, files: dict[str, bytes] | None = None, *, attach_originals: bool = True,
          cover_fingerprint: str | None = None, manifest: bytes | None = None) -> Built:
    case = tmp_path / "case"
    exhibits = [make_exhibit(i, make_source_file(case, rel, data))
                for i, (rel, data) in enumerate((files or FILES).items(), start=1)]
    if manifest is None:
        manifest = build_manifest(case_id="EK-TEST0001", target="general", exhibits=exhibits, refused=[],
                                  generated_at=sh(2024, 11, 20, 10, 0, 0), tool_version="0.1.0")
    fp = fingerprint(manifest)
    rendered = tmp_path / "rendered.pdf"
    render_cover(rendered, cover_fingerprint or fp, fp)
    pdf = tmp_path / "dossier.pdf"
    attach_files(rendered, pdf, exhibits=exhibits, manifest=manifest, attach_originals=attach_originals,
                 reproducible=True, when=sh(2024, 11, 20, 10, 0, 0))
    return Built(pdf, case, exhibits, manifest)


def flip_byte(path: Path, offset: int = 5) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(verify_command, list(args))
    return result.exit_code, result.stdout, result.stderr


def by_name(report_files: tuple, name: str):  # type: ignore[no-untyped-def]
    return next(f for f in report_files if f.name == name)


# ---------------------------------------------------------------------------------------------
# Inside the PDF
# ---------------------------------------------------------------------------------------------


def test_fresh_dossier_matches_everything(tmp_path: Path) -> None:
    b = build(tmp_path)
    report = verify_dossier(b.pdf)
    assert report.ok
    assert [f.status for f in report.files] == [FileStatus.MATCH] * 3
    assert report.fingerprint == hashlib.sha256(b.manifest).hexdigest()
    assert report.cover_fingerprint == report.fingerprint
    assert report.case_id == "EK-TEST0001"
    code, out, _ = run(str(b.pdf))
    assert code == 0
    assert "校验通过" in out and "共 3 份" in out
    assert report.fingerprint in out
    assert "封面上的材料指纹与清单一致" in out


def test_original_tampered_inside_the_pdf_fails_naming_it(tmp_path: Path) -> None:
    b = build(tmp_path)
    with pikepdf.open(b.pdf, allow_overwriting_input=True) as pdf:
        spec = pdf.attachments["证据02_实物照片.jpg"]
        stream = spec.obj.EF.F
        stream.write(b"\xff\xd8 a different photo")
        pdf.save(b.pdf)
    report = verify_dossier(b.pdf)
    assert not report.ok
    row = by_name(report.files, "实物照片.jpg")
    assert row.status is FileStatus.CHANGED
    assert row.actual_sha256 == hashlib.sha256(b"\xff\xd8 a different photo").hexdigest()
    assert [f.status for f in report.files].count(FileStatus.MATCH) == 2
    code, _, err = run(str(b.pdf))
    assert code == ExitCode.VERIFY_FAILED
    assert "证据02 实物照片.jpg" in err and "已改变" in err


def test_attachment_removed_from_the_pdf_is_missing(tmp_path: Path) -> None:
    b = build(tmp_path)
    with pikepdf.open(b.pdf, allow_overwriting_input=True) as pdf:
        del pdf.attachments["证据01_a.png"]
        pdf.save(b.pdf)
    report = verify_dossier(b.pdf)
    assert by_name(report.files, "a.png").status is FileStatus.MISSING
    assert not report.ok
    assert "1 份缺失（证据01 a.png）" in report.summary


def test_attachment_added_after_the_build_fails(tmp_path: Path) -> None:
    b = build(tmp_path)
    with pikepdf.open(b.pdf, allow_overwriting_input=True) as pdf:
        pdf.attachments["证据04_伪造.jpg"] = pikepdf.AttachedFileSpec(pdf, b"forged", filename="证据04_伪造.jpg")
        pdf.save(b.pdf)
    report = verify_dossier(b.pdf)
    assert not report.ok
    assert by_name(report.files, "证据04_伪造.jpg").status is FileStatus.EXTRA
    assert any("证据04_伪造.jpg" in p for p in report.problems)


def test_no_originals_attached_is_a_notice_pointing_to_originals(tmp_path: Path) -> None:
    b = build(tmp_path, attach_originals=False)
    report = verify_dossier(b.pdf)
    assert report.ok
    assert [f.status for f in report.files] == [FileStatus.NOT_ATTACHED] * 3
    assert any("--originals" in n for n in report.notices)
    code, out, _ = run(str(b.pdf))
    assert code == 0
    assert "--originals" in out and "未附原件" in out
    # ... and the folder then gives a real answer.
    flip_byte(b.case / "evidence/order/a.png")
    code, _, err = run(str(b.pdf), "--originals", str(b.case))
    assert code == ExitCode.VERIFY_FAILED
    assert "证据01 a.png" in err


def test_swapped_manifest_is_caught_by_cover_and_document_properties(tmp_path: Path) -> None:
    b = build(tmp_path, cover_fingerprint="ab" * 32)
    report = verify_dossier(b.pdf)
    assert not report.ok
    assert report.cover_fingerprint == "ab" * 32
    assert any("封面" in p for p in report.problems)
    # Document properties: our own key, when present, must agree as well.
    b2 = build(tmp_path / "second")
    with pikepdf.open(b2.pdf, allow_overwriting_input=True) as pdf:
        pdf.docinfo["/EvidencekitFingerprint"] = "cd" * 32
        pdf.save(b2.pdf)
    report2 = verify_dossier(b2.pdf)
    assert not report2.ok
    assert any("文档属性" in p for p in report2.problems)


def test_not_an_evidencekit_pdf_is_a_clear_error(tmp_path: Path) -> None:
    plain = tmp_path / "plain.pdf"
    render_cover(plain, "0" * 64, "0" * 64)
    with pytest.raises(VerificationFailed, match="这不是 evidencekit 生成的证据材料，或清单已被删除"):
        verify_dossier(plain)
    code, out, err = run(str(plain))
    assert code == ExitCode.VERIFY_FAILED
    assert "这不是 evidencekit 生成的证据材料" in err
    assert out == ""


def test_a_file_that_is_not_a_pdf_is_a_clear_error(tmp_path: Path) -> None:
    junk = tmp_path / "note.pdf"
    junk.write_text("hello", encoding="utf-8")
    code, _, err = run(str(junk))
    assert code == ExitCode.VERIFY_FAILED
    assert "不是可以读取的 PDF 文件" in err
    assert "Traceback" not in err


def test_corrupt_manifest_is_a_clear_error(tmp_path: Path) -> None:
    b = build(tmp_path)
    with pikepdf.open(b.pdf, allow_overwriting_input=True) as pdf:
        pdf.attachments[MANIFEST_NAME].obj.EF.F.write(b"{not json")
        pdf.save(b.pdf)
    with pytest.raises(VerificationFailed, match=r"清单.*已损坏"):
        verify_dossier(b.pdf)


def test_json_output(tmp_path: Path) -> None:
    b = build(tmp_path)
    flip_byte(b.case / "evidence/chat/聊天记录.txt", 0)
    code, out, _ = run(str(b.pdf), "--originals", str(b.case), "--json")
    assert code == ExitCode.VERIFY_FAILED
    doc = json.loads(out)
    assert doc["ok"] is False
    assert doc["fingerprint"] == fingerprint(b.manifest)
    statuses = {f["path"]: f["status"] for f in doc["files"]}
    assert statuses == {"evidence/order/a.png": "match", "evidence/product/实物照片.jpg": "match",
                        "evidence/chat/聊天记录.txt": "changed"}


@pytest.mark.skipif(shutil.which("pdfdetach") is None, reason="poppler-utils (pdfdetach) not installed")
def test_pdfdetach_extracts_the_originals_byte_for_byte(tmp_path: Path) -> None:
    b = build(tmp_path)
    out = tmp_path / "detached"
    out.mkdir()
    subprocess.run(["pdfdetach", "-saveall", "-o", str(out), str(b.pdf)], check=True, capture_output=True)
    for ex in b.exhibits:
        extracted = out / f"证据{ex.number:02d}_{ex.source.name}"
        assert hashlib.sha256(extracted.read_bytes()).hexdigest() == ex.source.sha256
    assert (out / MANIFEST_NAME).read_bytes() == b.manifest


# ---------------------------------------------------------------------------------------------
# Against a folder of originals
# ---------------------------------------------------------------------------------------------


def test_folder_case_or_evidence_folder_both_match(tmp_path: Path) -> None:
    b = build(tmp_path)
    (b.case / "case.yaml").write_text("schema: 1\n", encoding="utf-8")
    shutil.copy(b.pdf, b.case / "dossier.pdf")
    for folder in (b.case, b.case / "evidence"):
        report = verify_dossier(b.pdf, folder)
        assert report.ok, report.summary
        assert [f.status for f in report.files] == [FileStatus.MATCH] * 3  # case.yaml, dossier.pdf not extra
        assert all(f.note == "" for f in report.files)


def test_folder_one_flipped_byte_is_changed(tmp_path: Path) -> None:
    b = build(tmp_path)
    flip_byte(b.case / "evidence/product/实物照片.jpg")
    report = verify_dossier(b.pdf, b.case)
    row = by_name(report.files, "实物照片.jpg")
    assert row.status is FileStatus.CHANGED
    assert row.found_at == "evidence/product/实物照片.jpg"
    assert not report.ok
    code, out, err = run(str(b.pdf), "--originals", str(b.case))
    assert code == ExitCode.VERIFY_FAILED
    assert "1 份已改变（证据02 实物照片.jpg）" in err
    assert row.expected_sha256 in out and row.actual_sha256 in out


def test_folder_missing_file(tmp_path: Path) -> None:
    b = build(tmp_path)
    (b.case / "evidence/order/a.png").unlink()
    report = verify_dossier(b.pdf, b.case)
    assert by_name(report.files, "a.png").status is FileStatus.MISSING
    code, _, err = run(str(b.pdf), "--originals", str(b.case))
    assert code == ExitCode.VERIFY_FAILED
    assert "缺失（证据01 a.png）" in err


def test_folder_extra_file_is_listed_but_does_not_fail(tmp_path: Path) -> None:
    b = build(tmp_path)
    (b.case / "evidence/order/new.png").write_bytes(b"added later")
    (b.case / "evidence/order/.DS_Store").write_bytes(b"mac litter")
    report = verify_dossier(b.pdf, b.case)
    extras = [f for f in report.files if f.status is FileStatus.EXTRA]
    assert [f.name for f in extras] == ["evidence/order/new.png"]
    assert report.ok
    assert "另有 1 个清单以外的文件" in report.summary
    code, out, _ = run(str(b.pdf), "--originals", str(b.case))
    assert code == 0
    assert "多余" in out and "evidence/order/new.png" in out


def test_folder_renamed_original_still_matches_by_content(tmp_path: Path) -> None:
    b = build(tmp_path)
    src = b.case / "evidence/order/a.png"
    src.rename(b.case / "evidence/order/renamed.png")
    report = verify_dossier(b.pdf, b.case)
    row = by_name(report.files, "a.png")
    assert row.status is FileStatus.MATCH
    assert row.found_at == "evidence/order/renamed.png"
    assert "位置与清单不同" in row.note
    assert not [f for f in report.files if f.status is FileStatus.EXTRA]  # the renamed file is accounted for
    assert report.ok


def test_folder_with_nfd_names_from_macos(tmp_path: Path) -> None:
    name = "café_订单.png"  # é decomposes; Chinese characters do not
    assert unicodedata.normalize("NFD", name) != name
    b = build(tmp_path, {f"evidence/order/{name}": b"nfd test " * 10, "evidence/order/b.png": b"second"})
    mac = tmp_path / "from-mac"
    (mac / "evidence" / "order").mkdir(parents=True)
    nfd = unicodedata.normalize("NFD", name)
    (mac / "evidence" / "order" / nfd).write_bytes(b"nfd test " * 10)
    (mac / "evidence" / "order" / "b.png").write_bytes(b"second")
    assert any(p.name == nfd for p in (mac / "evidence" / "order").iterdir())  # the FS kept NFD
    report = verify_dossier(b.pdf, mac)
    row = by_name(report.files, name)
    assert row.status is FileStatus.MATCH
    assert row.note == ""  # found at its own path, not merely by content somewhere
    assert report.ok
    # A changed NFD-named file is "changed", not "missing": the name is recognised.
    flip_byte(mac / "evidence" / "order" / nfd)
    assert by_name(verify_dossier(b.pdf, mac).files, name).status is FileStatus.CHANGED


def test_folder_does_not_follow_links(tmp_path: Path) -> None:
    b = build(tmp_path)
    secret = tmp_path / "outside.bin"
    secret.write_bytes(FILES["evidence/order/a.png"])
    target = b.case / "evidence/order/a.png"
    target.unlink()
    target.symlink_to(secret)
    row = by_name(verify_dossier(b.pdf, b.case).files, "a.png")
    assert row.status is FileStatus.MISSING


def test_folder_link_inside_the_case_counts_as_inventory_counts_it(tmp_path: Path) -> None:
    """A link to a file elsewhere in the case folder is evidence to the inventory, so verify sees it too."""
    b = build(tmp_path)
    shared = b.case / "shared" / "new.png"
    shared.parent.mkdir()
    shared.write_bytes(b"added later through a link")
    (b.case / "evidence/order/new.png").symlink_to("../../shared/new.png")
    assert "evidence/order/new.png" in {f.rel_path for f in scan_evidence(b.case).files}
    extras = [f.name for f in verify_dossier(b.pdf, b.case).files if f.status is FileStatus.EXTRA]
    assert extras == ["evidence/order/new.png"]


def test_folder_pdf_named_like_a_dossier_in_evidence_is_extra(tmp_path: Path) -> None:
    """Inside evidence/ a file named dossier*.pdf is evidence (the next build exhibits it), not our output."""
    b = build(tmp_path)
    (b.case / "evidence/order/dossier-商家回复.pdf").write_bytes(b"%PDF-1.4 merchant reply")
    assert "evidence/order/dossier-商家回复.pdf" in {f.rel_path for f in scan_evidence(b.case).files}
    extras = [f.name for f in verify_dossier(b.pdf, b.case).files if f.status is FileStatus.EXTRA]
    assert extras == ["evidence/order/dossier-商家回复.pdf"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs POSIX links and FIFOs")
def test_folder_sees_exactly_the_files_the_inventory_lists(tmp_path: Path) -> None:
    b = build(tmp_path)
    ev = b.case / "evidence"
    (ev / "order/.DS_Store").write_bytes(b"litter")
    (ev / "order/._a.png").write_bytes(b"resource fork")
    os.mkfifo(ev / "order/pipe")
    (tmp_path / "outside.bin").write_bytes(b"outside")
    (ev / "order/out.bin").symlink_to(tmp_path / "outside.bin")
    (ev / "order/broken.png").symlink_to(ev / "order/nothing.png")
    (b.case / "export/deep/deeper").mkdir(parents=True)
    (b.case / "export/deep/deeper/c.txt").write_bytes(b"chat export")
    (ev / "chat/export").symlink_to(b.case / "export")
    (ev / "chat/again").symlink_to(ev / "order")  # a folder already walked
    listed = {f.rel_path for f in scan_evidence(b.case).files}
    seen = {rel for rel in _Folder(b.case).files if rel.startswith("evidence/")}
    assert "evidence/chat/export/deep/deeper/c.txt" in listed
    assert seen == listed


# ---------------------------------------------------------------------------------------------
# With a timestamp token (fixtures made by tests/fixtures/tsa/make_fixtures.sh)
# ---------------------------------------------------------------------------------------------


def build_fixture_dossier(tmp_path: Path) -> Built:
    manifest = (FIXTURES / "manifest.json").read_bytes()
    files = {"evidence/order/订单截图.png": (FIXTURES / "original.bin").read_bytes()}
    b = build(tmp_path, files, manifest=manifest)
    entry = json.loads(manifest)["files"][0]
    assert entry["sha256"] == b.exhibits[0].source.sha256  # the fixture describes this file
    return b


def test_token_beside_the_pdf_verifies_with_the_ca(tmp_path: Path) -> None:
    b = build_fixture_dossier(tmp_path)
    shutil.copy(FIXTURES / "response.tsr", b.pdf.with_name("dossier.pdf.tsr"))
    report = verify_dossier(b.pdf, ca_pem=(FIXTURES / "ca.pem").read_bytes())
    assert report.ok, report.summary
    assert report.token is not None and report.token.ok and report.token.signature_checked
    code, out, _ = run(str(b.pdf), "--ca", str(FIXTURES / "ca.pem"))
    assert code == 0
    assert "时间戳" in out and "有效" in out


def test_token_with_the_wrong_ca_fails(tmp_path: Path) -> None:
    b = build_fixture_dossier(tmp_path)
    shutil.copy(FIXTURES / "response.tsr", b.pdf.with_name("dossier.pdf.tsr"))
    code, _, err = run(str(b.pdf), "--ca", str(FIXTURES / "other-ca.pem"))
    assert code == ExitCode.VERIFY_FAILED
    assert "时间戳未通过" in err


def test_token_for_another_manifest_fails_even_without_a_ca(tmp_path: Path) -> None:
    b = build(tmp_path)  # its manifest is not the one the fixture token stamps
    shutil.copy(FIXTURES / "response.tsr", b.pdf.with_name("dossier.pdf.tsr"))
    report = verify_dossier(b.pdf)
    assert not report.ok
    assert report.token is not None and not report.token.digest_matches


def test_token_without_ca_is_reported_unverified(tmp_path: Path) -> None:
    b = build_fixture_dossier(tmp_path)
    shutil.copy(FIXTURES / "response.tsr", b.pdf.with_name("dossier.pdf.tsr"))
    report = verify_dossier(b.pdf)
    assert report.ok
    assert report.token is not None and not report.token.signature_checked
    assert any("--ca" in n for n in report.notices)


def test_token_attached_inside_the_pdf_is_found(tmp_path: Path) -> None:
    b = build_fixture_dossier(tmp_path)
    with pikepdf.open(b.pdf, allow_overwriting_input=True) as pdf:
        pdf.attachments[TOKEN_ATTACHMENT_NAME] = pikepdf.AttachedFileSpec(
            pdf, (FIXTURES / "response.tsr").read_bytes(), filename=TOKEN_ATTACHMENT_NAME)
        pdf.save(b.pdf)
    report = verify_dossier(b.pdf, ca_pem=(FIXTURES / "ca.pem").read_bytes())
    assert report.ok, report.summary
    assert report.token is not None and report.token.ok
    assert TOKEN_ATTACHMENT_NAME in report.token_source


def test_ca_given_but_no_token_fails(tmp_path: Path) -> None:
    b = build_fixture_dossier(tmp_path)
    code, _, err = run(str(b.pdf), "--ca", str(FIXTURES / "ca.pem"))
    assert code == ExitCode.VERIFY_FAILED
    assert "没有找到时间戳" in err


def test_the_status_column_lines_up_in_terminal_columns(tmp_path: Path) -> None:
    """Labels are CJK (two columns a character): 一致 and 已改变 end at the same column."""
    from evidencekit.cli.verify import render_report
    from evidencekit.terminal import display_width

    b = build(tmp_path)
    flip_byte(b.case / "evidence/product/实物照片.jpg")
    text = render_report(verify_dossier(b.pdf, b.case))
    rows = [line for line in text.splitlines() if line.startswith(("  ✓ ", "  ✗ ")) and "证据0" in line]
    starts = {display_width(line[:line.index("证据")]) for line in rows}
    assert len(rows) == 3 and len(starts) == 1, rows
