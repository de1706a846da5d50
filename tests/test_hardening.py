"""Bad input from strangers: every case gets its documented exit code, a message naming the file
or key, no traceback, no partial output, and originals left exactly as they were."""

from __future__ import annotations

import hashlib
import struct
import zlib
from pathlib import Path

import pypdfium2
import pytest
from click.testing import CliRunner
from factories import make_jpeg

from evidencekit.cli import main
from evidencekit.errors import ExitCode


def run(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def pdf_text(pdf: Path) -> str:
    doc = pypdfium2.PdfDocument(str(pdf))
    try:
        return "".join(doc[i].get_textpage().get_text_range() for i in range(len(doc)))
    finally:
        doc.close()


def fingerprints(folder: Path) -> dict[str, tuple[str, float]]:
    return {
        p.relative_to(folder).as_posix(): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime)
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims width×height: decoding it would need gigabytes."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    body = struct.pack(">I", len(ihdr)) + chunk + struct.pack(">I", zlib.crc32(chunk))
    idat = zlib.compress(b"\x00" * 1024)
    body += struct.pack(">I", len(idat)) + b"IDAT" + idat + struct.pack(">I", zlib.crc32(b"IDAT" + idat))
    return b"\x89PNG\r\n\x1a\n" + body


def truncated_jpeg(path: Path) -> bytes:
    make_jpeg(path, (640, 480))
    data = path.read_bytes()
    return data[: len(data) // 2]


BAD_FILES: dict[str, bytes | None] = {
    "product/IMG_20241113_150000.jpg": None,  # filled with a truncated JPEG below
    "product/empty.jpg": b"",
    "product/fake.jpg": b"this is plain text pretending to be a photo",
    "product/bomb.png": png_header_only(40000, 40000),
    "chat/broken-bytes.txt": "[买家] 2024-11-13 15:20:11\n你好，".encode() + b"\xff\xfe\xfa" + "包是人造革\n".encode(),
    "other/report.docx": b"PK\x03\x04 not really a docx",
}


@pytest.fixture
def corpus_case(tmp_path: Path) -> Path:
    root = tmp_path / "case"
    evidence = root / "evidence"
    for rel, data in BAD_FILES.items():
        path = evidence / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(truncated_jpeg(path) if data is None else data)
    make_jpeg(evidence / "order" / "Screenshot_20241110-203105.jpg")
    (evidence / "other" / "passwd.txt").symlink_to("/etc/passwd")
    return root


def test_bad_files_all_appear_with_reasons_and_originals_are_untouched(corpus_case: Path) -> None:
    before = fingerprints(corpus_case / "evidence")
    code, out, err = run("build", corpus_case)
    assert code == ExitCode.OK, err
    assert "Traceback" not in out + err
    text = pdf_text(corpus_case / "dossier.pdf")
    for rel in BAD_FILES:
        assert Path(rel).name in text, rel
    assert "像素" in text  # the bomb is refused with the reason
    assert "包是人造革" in text and "你好" in text  # readable text around the invalid bytes survives
    assert "passwd.txt" in text and "案件文件夹之外" in text
    assert b"root:x:0:0" not in (corpus_case / "dossier.pdf").read_bytes()
    assert fingerprints(corpus_case / "evidence") == before


def test_markup_in_every_text_field_shows_literally(tmp_path: Path) -> None:
    root = tmp_path / "case"
    make_jpeg(root / "evidence" / "product" / "IMG_20241113_150000.jpg")
    evil = "<b>x</b> & <font>"
    fields = {
        "complainant": ["name", "address"],
        "merchant": ["shop_name", "company", "address"],
        "livestream": ["room", "host"],
        "order": ["product", "spec"],
        "problem": ["summary", "details"],
    }
    lines = ["platform: douyin"]
    for section, keys in fields.items():
        lines.append(f"{section}:")
        lines += [f"  {k}: '{evil}'" for k in keys]
    lines += ["evidence:", "  - file: evidence/product/IMG_20241113_150000.jpg",
              f"    title: '{evil}'", f"    proves: '{evil}'", f"    note: '{evil}'"]
    (root / "case.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, _out, err = run("build", root)
    assert code == ExitCode.OK, err
    text = pdf_text(root / "dossier.pdf")
    assert text.count("<b>x</b> & <font>") >= 8


def test_yaml_alias_bomb_is_a_case_file_error(tmp_path: Path) -> None:
    root = tmp_path / "case"
    make_jpeg(root / "evidence" / "product" / "a.jpg")
    bomb = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 9):
        prev = chr(ord("a") + i - 1)
        cur = chr(ord("a") + i)
        bomb.append(f"{cur}: &{cur} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]")
    (root / "case.yaml").write_text("\n".join(bomb) + "\n", encoding="utf-8")
    code, out, err = run("check", root)
    assert code == ExitCode.CASE_INVALID
    assert "Traceback" not in out + err


def test_oversized_case_yaml_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "case"
    make_jpeg(root / "evidence" / "product" / "a.jpg")
    (root / "case.yaml").write_text("problem:\n  details: '" + "长" * 600_000 + "'\n", encoding="utf-8")
    code, _out, err = run("build", root)
    assert code == ExitCode.CASE_INVALID
    assert "case.yaml" in err
    assert not (root / "dossier.pdf").exists()


def test_unwritable_output_folder_exits_5(tmp_path: Path) -> None:
    root = tmp_path / "case"
    make_jpeg(root / "evidence" / "product" / "a.jpg")
    target = Path("/proc/evidencekit-test.pdf")  # not writable, even for root
    if not Path("/proc").is_dir():
        pytest.skip("needs /proc")
    code, out, err = run("build", root, "-o", target)
    assert code == ExitCode.OUTPUT
    assert "Traceback" not in out + err
    assert not target.exists()


def test_mask_personal_hides_phone_and_address(tmp_path: Path) -> None:
    root = tmp_path / "case"
    make_jpeg(root / "evidence" / "product" / "a.jpg")
    (root / "case.yaml").write_text(
        "complainant:\n  name: 张小明\n  phone: '13800138000'\n  address: 上海市浦东新区世纪大道100号3号楼\n"
        "problem:\n  details: 我的电话是 13912345678，身份证 110101199003074512\n",
        encoding="utf-8",
    )
    code, _out, err = run("build", root, "--mask-personal", "--no-originals")
    assert code == ExitCode.OK, err
    text = pdf_text(root / "dossier.pdf")
    for secret in ("13800138000", "13912345678", "110101199003074512", "世纪大道", "张小明"):
        assert secret not in text
    assert "138****8000" in text and "张**" in text
