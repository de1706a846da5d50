"""``evidencekit pack``: channel-ready files within each channel's limits, originals beside a
dossier that does not hold them, and an OUTDIR that appears whole or not at all."""

from __future__ import annotations

import hashlib
import itertools
import random
import shutil
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pikepdf
import pypdfium2
import pytest
from click.testing import CliRunner
from mediagen import make_video
from PIL import Image

import evidencekit.channels.pack as pack_module
from evidencekit.channels.pack import (
    MARKER_NAME,
    ORIGINALS_DIR,
    README_NAME,
    SUMS_NAME,
    PackOptions,
    PackResult,
    key_exhibits,
    number_ranges,
    pack_case,
    safe_name,
)
from evidencekit.cli.pack import pack
from evidencekit.errors import ExitCode, OutputError
from evidencekit.model import EvidenceKind, Exhibit
from evidencekit.pipeline import BuildOptions
from evidencekit.rules.catalog import load_rules

NOW = datetime(2024, 11, 20, 8, 0, 0, tzinfo=UTC)
MB = 1_000_000
PHOTOS = 25


# ---------------------------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------------------------


def noisy_photo(path: Path, rng: random.Random) -> None:
    """Small in pixels but noisy, so its JPEG (and the display copy) stays large."""
    noise = Image.effect_noise((1000, 750), 60).convert("RGB")
    tint = Image.new("RGB", noise.size, tuple(rng.randrange(256) for _ in range(3)))
    Image.blend(noise, tint, 0.5).save(path, "JPEG", quality=90)


@pytest.fixture(scope="module")
def big_case_source(example_source: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example case plus 25 noisy product photos and a second recording: > 5 MB of dossier."""
    case = tmp_path_factory.mktemp("big") / "case"
    shutil.copytree(example_source, case, copy_function=shutil.copy2)
    rng = random.Random(7)
    for i in range(PHOTOS):
        noisy_photo(case / "evidence" / "product" / f"IMG_20241113_16{i:02d}00.jpg", rng)
    make_video(case / "evidence" / "livestream" / "Screenrecorder-2024-11-10-20-40-00-001.mp4", 3.0)
    photos = sum(p.stat().st_size for p in (case / "evidence" / "product").glob("IMG_20241113_16*.jpg"))
    assert photos > 8 * MB  # the fixture's own premise: far over one 12315 upload
    return case


@pytest.fixture
def big_case(big_case_source: Path, tmp_path: Path) -> Path:
    """A private copy, so no test sees another's OUTDIR."""
    dest = tmp_path / "big"
    shutil.copytree(big_case_source, dest, copy_function=shutil.copy2)
    return dest


def evidence_files(case: Path) -> list[Path]:
    return sorted(p for p in (case / "evidence").rglob("*") if p.is_file())


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def snapshot(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): sha256(p) for p in sorted(folder.rglob("*")) if p.is_file()}


def top_level(outdir: Path) -> set[str]:
    return {p.name for p in outdir.iterdir()}


def readme(outdir: Path) -> str:
    return (outdir / README_NAME).read_text(encoding="utf-8-sig")


def pdf_text(path: Path) -> str:
    doc = pypdfium2.PdfDocument(str(path))
    try:
        return "\n".join(doc[i].get_textpage().get_text_range() for i in range(len(doc)))
    finally:
        doc.close()


def assert_originals_beside(result: PackResult, case: Path) -> None:
    """原件/ holds a byte-identical copy of every evidence file, listed in SHA256SUMS.txt."""
    folder = result.outdir / ORIGINALS_DIR
    sums: dict[str, str] = {}
    for line in (folder / SUMS_NAME).read_text("utf-8").splitlines():
        digest, name = line.split("  ", 1)
        sums[name] = digest
    originals = evidence_files(case)
    assert len(sums) == len(originals)
    assert sorted(sums.values()) == sorted(sha256(p) for p in originals)
    for name, digest in sums.items():
        assert sha256(folder / name) == digest


# ---------------------------------------------------------------------------------------------
# 12315
# ---------------------------------------------------------------------------------------------


def test_12315_case_with_recording_and_many_photos_fits_four_uploads_of_5mb(big_case: Path) -> None:
    result = pack_case(big_case, PackOptions(BuildOptions(target="12315", now=NOW)))

    assert result.outdir == (big_case / "pack-12315").resolve()
    uploads = result.uploads
    assert 1 < len(uploads) <= 4
    for f in uploads:
        path = result.outdir / f.name
        assert path.stat().st_size == f.size <= 5 * MB
        assert path.suffix.lower().lstrip(".") in {"jpg", "jpeg", "png", "pdf", "mp3", "mp4"}
    # Nothing else at the top that a user might upload by mistake.
    assert top_level(result.outdir) == {f.name for f in uploads} | {README_NAME, ORIGINALS_DIR, MARKER_NAME}

    # The volumes are the whole dossier, cut at exhibit boundaries, page numbers continuous.
    volumes = [result.outdir / f.name for f in uploads if f.name.endswith(".pdf")]
    assert len(volumes) >= 2
    pages = [f.pages for f in uploads if f.name.endswith(".pdf") and f.pages is not None]
    assert len(pages) == len(volumes) and pages[0][0] == 1
    for (_, last), (first, _) in itertools.pairwise(pages):
        assert first == last + 1
    in_volumes = {n for f in uploads if f.name.endswith(".pdf") for n in f.exhibits}
    assert in_volumes == set(range(1, result.exhibit_count + 1))
    for vol in volumes:
        with pikepdf.open(vol) as pdf:
            index = {page.obj.objgen for page in pdf.pages}
            for page in pdf.pages:
                for annot in page.obj.get("/Annots") or []:
                    if "/Dest" in annot:  # links stay inside the volume (no other pages dragged in)
                        assert annot.Dest[0].objgen in index

    # A spare slot carries the recording itself, byte-identical.
    videos = [f for f in uploads if f.name.endswith(".mp4")]
    assert videos
    originals = {sha256(p) for p in (big_case / "evidence" / "livestream").glob("*.mp4")}
    assert sha256(result.outdir / videos[0].name) in originals

    # The README names every exhibit and every upload.
    text = readme(result.outdir)
    for n in range(1, result.exhibit_count + 1):
        assert f"证据{n} " in text
    for p in evidence_files(big_case):
        assert p.relative_to(big_case).as_posix() in text
    for f in uploads:
        assert f.name in text
    assert "投诉内容" in text  # the 12315 form fields from the letter

    # Issue 5: the volumes say the originals are not inside, and 原件/ carries them.
    assert not result.originals_embedded
    assert "原始文件没有嵌入本 PDF" in pdf_text(volumes[-1])
    assert_originals_beside(result, big_case)


def test_12315_small_case_uses_one_pdf_with_originals_and_key_evidence_without_location(
        example_case: Path, tmp_path: Path) -> None:
    result = pack_case(example_case, PackOptions(BuildOptions(target="12315", now=NOW),
                                                 outdir=tmp_path / "out"))

    uploads = result.uploads
    assert uploads[0].name == "01_证据材料.pdf" and result.originals_embedded
    with pikepdf.open(result.outdir / uploads[0].name) as pdf:
        assert len(pdf.attachments) == len(evidence_files(example_case)) + 1  # + the manifest
    assert ORIGINALS_DIR not in top_level(result.outdir)  # inside the PDF instead
    assert len(uploads) == 4  # the spare slots are used
    assert all(f.size <= 5 * MB for f in uploads)
    originals = {sha256(p) for p in evidence_files(example_case)}
    photos = [f for f in uploads if f.name.endswith(".jpg") and f.exhibits]
    assert photos
    for f in photos:  # display copies, never the original with its GPS and serial number
        path = result.outdir / f.name
        assert sha256(path) not in originals
        exif = Image.open(path).getexif()
        assert not exif.get_ifd(0x8825)  # GPS IFD
    video = next(f for f in uploads if f.name.endswith(".mp4"))
    assert sha256(result.outdir / video.name) in originals


def test_12315_lowers_resolution_when_the_file_count_would_overflow(big_case: Path, tmp_path: Path) -> None:
    limits = replace(load_rules().targets["12315"].attachments, max_files=2, max_file_bytes=4 * MB)
    result = pack_case(big_case, PackOptions(BuildOptions(target="12315", now=NOW),
                                             outdir=tmp_path / "out", attachments=limits))

    assert result.dpi < 150
    assert 1 <= len(result.uploads) <= 2
    assert all((result.outdir / f.name).stat().st_size <= 4 * MB for f in result.uploads)
    assert f"{result.dpi} dpi" in readme(result.outdir)


def test_impossible_limits_fail_naming_the_limit_and_leave_no_outdir(
        big_case: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pack_module, "DPI_STEPS", (150,))  # one resolution is enough to prove the point
    limits = replace(load_rules().targets["12315"].attachments, max_files=1, max_file_bytes=1 * MB)
    out = tmp_path / "out"
    with pytest.raises(OutputError) as info:
        pack_case(big_case, PackOptions(BuildOptions(target="12315", now=NOW),
                                        outdir=out, attachments=limits))

    assert "最多 1 个文件" in info.value.message and "1.00 MB" in info.value.message
    assert info.value.exit_code == ExitCode.OUTPUT
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big"]  # no OUTDIR, no hidden staging folder


def test_a_failure_midway_leaves_no_partial_outdir(
        example_case: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(pack_module, "_write_readme", broken)
    with pytest.raises(RuntimeError):
        pack_case(example_case, PackOptions(BuildOptions(target="12315", now=NOW), outdir=tmp_path / "out"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["case"]


# ---------------------------------------------------------------------------------------------
# email
# ---------------------------------------------------------------------------------------------


def email_attachment_section(outdir: Path) -> list[str]:
    """The 附件清单 lines of body.txt (numbered file lines first)."""
    lines = (outdir / "body.txt").read_text(encoding="utf-8-sig").splitlines()
    start = lines.index("附件清单：") + 1
    return lines[start:lines.index("", start)]


def attached_names(section: list[str]) -> list[str]:
    return [line.split(". ", 1)[1].split("（", 1)[0] for line in section if line[:1].isdigit()]


def test_email_under_a_small_cap_splits_into_volumes_with_originals_beside(big_case: Path, tmp_path: Path) -> None:
    result = pack_case(big_case, PackOptions(BuildOptions(target="email", now=NOW),
                                             outdir=tmp_path / "mail", cap_bytes=3 * MB))

    volumes = result.uploads
    assert len(volumes) >= 3
    assert [f.name for f in volumes] == [f"证据材料-第{n}卷.pdf" for n in range(1, len(volumes) + 1)]
    assert all((result.outdir / f.name).stat().st_size <= 3 * MB for f in volumes)
    assert_originals_beside(result, big_case)
    body = (result.outdir / "body.txt").read_text(encoding="utf-8-sig")
    assert body.startswith("邮件主题：") and "6912345678901234567" in body
    assert "每卷单独发一封邮件" in readme(result.outdir)
    # The letter lists exactly the volumes in OUTDIR, says they travel in separate emails, and
    # that the originals did not go with them.
    section = email_attachment_section(result.outdir)
    assert attached_names(section) == sorted(p.name for p in result.outdir.glob("*.pdf"))
    assert f"分 {len(volumes)} 封邮件发送" in "".join(section)
    assert f"SHA-256：{result.fingerprint}" in "".join(section)
    assert any("原始文件没有随邮件发送" in line for line in section)


def test_email_keeps_one_pdf_and_moves_originals_beside_when_they_do_not_fit(
        big_case: Path, tmp_path: Path) -> None:
    # The originals (≈ 11 MB) are under the 15 MB default, but not together with the pages.
    result = pack_case(big_case, PackOptions(BuildOptions(target="email", now=NOW), outdir=tmp_path / "mail"))

    assert [f.name for f in result.uploads] == ["证据材料.pdf"]
    assert result.uploads[0].size <= 15 * MB
    assert not result.originals_embedded
    assert_originals_beside(result, big_case)


def test_email_small_case_embeds_the_originals(example_case: Path, tmp_path: Path) -> None:
    result = pack_case(example_case, PackOptions(BuildOptions(target="email", now=NOW),
                                                 outdir=tmp_path / "mail"))

    assert result.originals_embedded
    assert top_level(result.outdir) == {"证据材料.pdf", "body.txt", README_NAME, MARKER_NAME}
    section = email_attachment_section(result.outdir)
    assert attached_names(section) == ["证据材料.pdf"]
    assert "原件已嵌入" in section[0]
    assert f"SHA-256：{result.fingerprint}" in "".join(section)
    assert not any("原始文件没有随邮件发送" in line for line in section)
    assert "内含证据：" in "".join(section)
    # Addressed to the merchant by default: it is not listed against itself.
    body = (result.outdir / "body.txt").read_text(encoding="utf-8-sig")
    assert "被投诉人：" not in body


def test_email_to_the_platform_via_the_command_line(example_case: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(pack, [str(example_case), "-t", "email", "--to", "平台", "-o", str(out), "-q"])

    assert result.exit_code == 0, result.output
    body = (out / "body.txt").read_text(encoding="utf-8-sig")
    assert body.startswith("邮件主题：申请平台介入：")
    assert "\n抖音平台：\n" in body.replace("\r\n", "\n")
    assert "被投诉人：杭州好物优选电子商务有限公司" in body
    assert "收件人：平台" in readme(out)


def test_email_says_what_the_subject_lost_to_its_limit(example_case: Path, tmp_path: Path) -> None:
    case_file = example_case / "case.yaml"
    long_product = "头层牛皮女士手提包（2024 秋冬新款，大容量通勤托特包，附赠肩带和小挂件）"
    case_file.write_text(case_file.read_text("utf-8").replace("product: 头层牛皮女士手提包",
                                                               f"product: {long_product}"), "utf-8")
    result = pack_case(example_case, PackOptions(BuildOptions(target="email", now=NOW), outdir=tmp_path / "mail"))

    note = next(n for n in result.notes if n.startswith("邮件主题"))
    assert "60 字" in note and "删去“与直播展示完全不符”" in note  # the problem type was dropped from the subject
    assert "截去“" in note  # and the product name shortened
    assert note in readme(result.outdir)


def test_to_is_only_for_email(example_case: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(pack, [str(example_case), "--to", "消协", "-t", "12315", "-o", str(out), "-q"])
    assert result.exit_code == 2
    assert "--to 只用于 --target email" in result.output
    assert not out.exists()


# ---------------------------------------------------------------------------------------------
# platform / payment
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("target", "first_exhibit_kind"), [("platform", "livestream"), ("payment", "payment")])
def test_image_channels_get_page_images_and_a_statement(example_case: Path, tmp_path: Path, target: str,
                                                        first_exhibit_kind: str) -> None:
    limits = load_rules().targets[target].attachments
    result = pack_case(example_case, PackOptions(BuildOptions(target=target, now=NOW),
                                                 outdir=tmp_path / "out"))

    images = result.uploads
    assert limits.max_files is not None and 1 < len(images) <= limits.max_files
    assert images[0].name == "01_投诉要点.jpg"
    for f in images:
        path = result.outdir / f.name
        assert path.suffix == ".jpg" and path.stat().st_size <= (limits.max_file_bytes or 0)
        with Image.open(path) as img:
            assert img.format == "JPEG"
            assert img.height / img.width == pytest.approx(297 / 210, rel=0.01)  # a whole A4 page
    assert "证据" in images[1].name and images[1].exhibits
    kinds = {ex.number: ex for ex in key_exhibits_of(example_case)}
    assert kinds[images[1].exhibits[0]].kind.value == first_exhibit_kind
    statement = (result.outdir / "statement.txt").read_text(encoding="utf-8-sig")
    assert "6912345678901234567" in statement
    assert "证据材料.pdf" in top_level(result.outdir)


def key_exhibits_of(case: Path) -> list[Exhibit]:
    from evidencekit.pipeline import BuildOptions, assess_case

    return list(assess_case(case, BuildOptions(now=NOW)).exhibits)


# ---------------------------------------------------------------------------------------------
# The command line and OUTDIR safety
# ---------------------------------------------------------------------------------------------


def test_existing_outdir_without_force_exits_5_and_changes_nothing(example_case: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("用户自己的文件", encoding="utf-8")
    before = snapshot(out)

    result = CliRunner().invoke(pack, [str(example_case), "--target", "12315", "-o", str(out), "-q"])

    assert result.exit_code == ExitCode.OUTPUT
    assert "已存在" in result.stderr and "--force" in result.stderr
    assert snapshot(out) == before
    # --force does not replace a folder this command did not write either.
    result = CliRunner().invoke(pack, [str(example_case), "--target", "12315", "-o", str(out), "--force", "-q"])
    assert result.exit_code == ExitCode.OUTPUT
    assert snapshot(out) == before


def test_force_replaces_a_previous_pack(example_case: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = CliRunner().invoke(pack, [str(example_case), "-t", "platform", "-o", str(out), "-q"])
    assert first.exit_code == 0, first.output
    (out / "stale.jpg").write_bytes(b"old")
    again = CliRunner().invoke(pack, [str(example_case), "-t", "platform", "-o", str(out), "-q", "--force"])

    assert again.exit_code == 0, again.output
    assert "stale.jpg" not in top_level(out) and "01_投诉要点.jpg" in top_level(out)
    assert "README.txt" in again.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["case", "out"]  # the old copy is gone


def test_outdir_inside_evidence_is_refused(example_case: Path) -> None:
    result = CliRunner().invoke(pack, [str(example_case), "-t", "email", "-o",
                                       str(example_case / "evidence" / "out")])
    assert result.exit_code == ExitCode.OUTPUT
    assert not (example_case / "evidence" / "out").exists()


def test_cap_option_is_in_megabytes(example_case: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(pack, [str(example_case), "-t", "email", "-o", str(out), "--cap", "1", "-q"])

    assert result.exit_code == 0, result.output
    pdfs = sorted(out.glob("*.pdf"))
    assert len(pdfs) > 1 and all(p.stat().st_size <= MB for p in pdfs)


def test_help_has_an_example() -> None:
    result = CliRunner().invoke(pack, ["--help"])
    assert result.exit_code == 0 and "示例" in result.output and "evidencekit pack" in result.output


# ---------------------------------------------------------------------------------------------
# Small pieces
# ---------------------------------------------------------------------------------------------


def test_number_ranges() -> None:
    assert number_ranges([5, 1, 2, 3, 7, 8]) == "证据1–3、证据5、证据7–8"
    assert number_ranges([4]) == "证据4"


def test_safe_name_keeps_chinese_and_drops_path_characters() -> None:
    assert safe_name('直播间/录屏: "承诺"') == "直播间_录屏_承诺"
    assert safe_name("  ") == "证据"
    assert len(safe_name("很" * 100)) == 24


def test_key_exhibits_put_one_of_each_kind_first(example_case: Path) -> None:
    exhibits = key_exhibits_of(example_case)
    ordered = key_exhibits(exhibits, "12315", load_rules())
    assert ordered[0].kind is EvidenceKind.LIVESTREAM
    assert ordered[1].kind is EvidenceKind.PRODUCT
    first_kinds = [ex.kind for ex in ordered[: len({ex.kind for ex in exhibits})]]
    assert len(first_kinds) == len(set(first_kinds))
    assert key_exhibits(exhibits, "payment", load_rules())[0].kind is EvidenceKind.PAYMENT


def test_key_evidence_original_changed_during_pack_is_not_uploaded(
        example_source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Issue 9: the uploaded recording must be the hashed bytes. Rewrite it after the dossier
    # is built, just before pack copies the key evidence: pack stops with exit 4, writes nothing.
    case = tmp_path / "case"
    shutil.copytree(example_source, case, copy_function=shutil.copy2)
    video = next((case / "evidence").rglob("*.mp4"))
    real = pack_module._key_evidence_files

    def rewrite_then_copy(*args, **kwargs):  # type: ignore[no-untyped-def]
        video.write_bytes(b"\0" * video.stat().st_size)
        return real(*args, **kwargs)

    monkeypatch.setattr(pack_module, "_key_evidence_files", rewrite_then_copy)
    out = tmp_path / "out"
    result = CliRunner().invoke(pack, [str(case), "--target", "12315", "-o", str(out), "-q"])
    assert result.exit_code == ExitCode.FOLDER_UNUSABLE, result.output
    assert video.name.split(".")[0] in result.output or "被修改" in result.output
    assert not out.exists()


def test_original_changed_before_copying_originals_fails_and_leaves_no_outdir(
        big_case: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # 原件/ holds the hashed bytes only: an original rewritten after the build is exit 4.
    photo = next((big_case / "evidence" / "product").glob("IMG_20241113_16*.jpg"))
    real = pack_module._copy_originals

    def rewrite_then_copy(*args, **kwargs):  # type: ignore[no-untyped-def]
        photo.write_bytes(b"\xff\xd8\xff" + b"\0" * 100)
        return real(*args, **kwargs)

    monkeypatch.setattr(pack_module, "_copy_originals", rewrite_then_copy)
    out = tmp_path / "out"
    result = CliRunner().invoke(pack, [str(big_case), "--target", "12315", "-o", str(out), "-q"])
    assert result.exit_code == ExitCode.FOLDER_UNUSABLE, result.output
    assert "被修改" in result.output and not out.exists()
