"""The example case builds into a dossier with the structure an official relies on."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from pathlib import Path

import pikepdf
import pypdfium2
import pytest
from click.testing import CliRunner

from evidencekit.cli import main


def build(case: Path, *extra: str) -> Path:
    out = case / "dossier.pdf"
    result = CliRunner().invoke(main, ["build", str(case), "--force", "-q", *extra])
    assert result.exit_code == 0, result.stderr
    return out


def page_texts(pdf: Path) -> list[str]:
    doc = pypdfium2.PdfDocument(str(pdf))
    try:
        return [doc[i].get_textpage().get_text_range() for i in range(len(doc))]
    finally:
        doc.close()


def snapshot(folder: Path) -> dict[str, tuple[str, float]]:
    return {
        p.relative_to(folder).as_posix(): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def built(example_source: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, tuple[str, float]]]:
    """One build of a copy of the example, shared by the tests that only read the case and its dossier."""
    case = tmp_path_factory.mktemp("built") / "case"
    shutil.copytree(example_source, case, copy_function=shutil.copy2)
    before = snapshot(case / "evidence")
    return case, build(case), before


@pytest.fixture(scope="module")
def cache_seen_by_module_fixtures() -> str | None:
    return os.environ.get("EVIDENCEKIT_CACHE_DIR")


def test_module_fixtures_build_into_the_tests_cache_not_the_users(
        cache_seen_by_module_fixtures: str | None, tmp_path_factory: pytest.TempPathFactory) -> None:
    # a module fixture such as ``built`` is set up before any function-scoped fixture
    assert cache_seen_by_module_fixtures is not None
    assert Path(cache_seen_by_module_fixtures).is_relative_to(tmp_path_factory.getbasetemp())


def test_originals_are_byte_identical_and_keep_their_mtime(built: tuple[Path, Path, dict]) -> None:  # type: ignore[type-arg]
    case, _pdf, before = built
    assert snapshot(case / "evidence") == before


def test_index_page_numbers_point_at_each_exhibit(built: tuple[Path, Path, dict]) -> None:  # type: ignore[type-arg]
    _case, pdf, _ = built
    texts = page_texts(pdf)
    index_page = next(t for t in texts if "证据目录" in t and "页码" in t)
    # The footer of every exhibit page names the exhibit: the first such page is where it starts.
    first_page: dict[int, int] = {}
    for number, text in enumerate(texts, start=1):
        for m in re.finditer(r"证据(\d+) 原始文件", text):
            first_page.setdefault(int(m.group(1)), number)
    assert set(first_page) == set(range(1, 9))
    # In the index, the row of exhibit N runs from "证据N " to "证据N+1 "; its page cell is the
    # last line of the row that is only a number or a range "12–14".
    starts = [(int(m.group(1)), m.start()) for m in re.finditer(r"^证据(\d+) ", index_page, flags=re.M)]
    assert [n for n, _ in starts] == list(range(1, 9))
    for i, (exhibit, pos) in enumerate(starts):
        end = starts[i + 1][1] if i + 1 < len(starts) else len(index_page)
        cells = re.findall(r"^(\d+)(?:–\d+)?\s*$", index_page[pos:end], flags=re.M)
        assert cells, index_page[pos:end]
        assert int(cells[-1]) == first_page[exhibit], (exhibit, cells, first_page[exhibit])


def test_every_exhibit_shows_hash_and_time_with_source(built: tuple[Path, Path, dict]) -> None:  # type: ignore[type-arg]
    case, pdf, _ = built
    text = "\n".join(page_texts(pdf)).replace("\n", "")
    for original in (case / "evidence").rglob("*"):
        if original.is_file():
            digest = hashlib.sha256(original.read_bytes()).hexdigest()
            assert digest in text, original.name
    # What each time is and why (templates/time_sources.yaml), beside the time itself.
    for phrase in ("拍摄时间（照片内记录）", "截图时间（按文件名）", "聊天时间（第一条消息）", "保存时间（非拍摄时间）"):
        assert phrase in text


def test_pages_carry_running_header_footer_and_case_id(built: tuple[Path, Path, dict]) -> None:  # type: ignore[type-arg]
    _case, pdf, _ = built
    texts = page_texts(pdf)
    for n, text in enumerate(texts, start=1):
        assert f"第 {n} 页 / 共 {len(texts)} 页" in text
        assert "EK-" in text


def test_fonts_are_all_embedded_and_metadata_set(built: tuple[Path, Path, dict]) -> None:  # type: ignore[type-arg]
    _case, pdf, _ = built
    with pikepdf.open(pdf) as doc:
        for page in doc.pages:
            fonts = page.Resources.get("/Font", {})
            for _name, font in fonts.items():
                descendants = font.get("/DescendantFonts")
                desc = (descendants[0] if descendants else font).get("/FontDescriptor")
                assert desc is not None and ("/FontFile2" in desc or "/FontFile" in desc or "/FontFile3" in desc)
        assert "直播" in str(doc.docinfo.get("/Title"))
        assert doc.Root.Lang == "zh-CN"
        with doc.open_outline() as outline:
            titles = [item.title for item in outline.root]
        assert any("证据目录" in t for t in titles)
    if shutil.which("pdffonts"):
        listing = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
        rows = listing.splitlines()[2:]
        assert rows and all(" yes " in row for row in rows), listing


def test_attachments_match_the_originals(built: tuple[Path, Path, dict]) -> None:  # type: ignore[type-arg]
    case, pdf, _ = built
    originals = {hashlib.sha256(p.read_bytes()).hexdigest() for p in (case / "evidence").rglob("*") if p.is_file()}
    with pikepdf.open(pdf) as doc:
        attached = {name: spec.get_file().read_bytes() for name, spec in doc.attachments.items()}
    assert "evidencekit-manifest.json" in attached
    hashes = {hashlib.sha256(data).hexdigest() for name, data in attached.items() if name.startswith("证据")}
    assert hashes == originals


def test_display_copies_carry_no_gps(built: tuple[Path, Path, dict]) -> None:  # type: ignore[type-arg]
    """Privacy: the example photo has GPS in its original; no image stream in the PDF may."""
    _case, pdf, _ = built
    with pikepdf.open(pdf) as doc:
        images = [obj for obj in doc.objects
                  if isinstance(obj, pikepdf.Stream) and obj.get("/Subtype") == pikepdf.Name.Image]
        assert len(images) >= 8
        for stream in images:
            data = stream.read_raw_bytes()
            assert b"GPS" not in data and b"Exif" not in data and b"SN-0000-EXAMPLE" not in data


def test_reproducible_builds_are_byte_identical(example_case: Path, example_reproducible: Path,
                                                tmp_path: Path) -> None:
    """Another copy of the case, in another folder and with another cache, gives the same bytes."""
    out = tmp_path / "b.pdf"
    result = CliRunner().invoke(main, ["build", str(example_case), "-o", str(out), "--reproducible", "-q"])
    assert result.exit_code == 0, result.stderr
    assert out.read_bytes() == example_reproducible.read_bytes()


def test_broken_image_is_listed_with_its_reason(example_case: Path) -> None:
    bad = example_case / "evidence" / "product" / "IMG_20241113_160000.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 this is not really a jpeg")
    pdf = build(example_case)
    text = "".join(page_texts(pdf))
    assert "IMG_20241113_160000.jpg" in text
    assert hashlib.sha256(bad.read_bytes()).hexdigest() in text.replace("\n", "")
    assert "未生成预览" in text or "无法" in text


def test_symlink_to_etc_passwd_is_refused_and_nothing_of_it_is_inside(example_case: Path) -> None:
    link = example_case / "evidence" / "other" / "passwd.txt"
    link.parent.mkdir(exist_ok=True)
    link.symlink_to("/etc/passwd")
    pdf = build(example_case)
    data = pdf.read_bytes()
    secret = Path("/etc/passwd").read_bytes()
    text = "".join(page_texts(pdf))
    assert "passwd.txt" in text  # listed as refused, with the reason
    assert "案件文件夹之外" in text
    assert b"root:x:0:0" not in data and secret[:40] not in data
    with pikepdf.open(pdf) as doc:
        assert all("passwd" not in name for name in doc.attachments)


@pytest.mark.parametrize(
    ("target", "title"),
    [
        ("general", "直播购物消费纠纷证据材料"),
        ("platform", "抖音平台介入申请证据材料"),
        ("12315", "全国12315平台投诉证据材料"),
        ("email", "消费投诉邮件附件：证据材料"),
        ("payment", "支付渠道交易投诉证据材料"),
    ],
)
def test_each_target_has_its_title_and_section_order(example_dossiers: dict[str, Path], target: str,
                                                     title: str) -> None:
    from evidencekit.rules.catalog import load_rules

    out = example_dossiers[target]
    labels = {"cover": "封面", "summary": "投诉要点", "checklist": "证据清单", "index": "证据目录",
              "timeline": "时间线", "exhibits": "证据", "appendix": "完整性附录"}
    expected = [labels[s] for s in load_rules().targets[target].sections]
    with pikepdf.open(out) as doc:
        assert str(doc.docinfo.get("/Title")) == title
        with doc.open_outline() as outline:
            assert [item.title for item in outline.root] == expected
    assert title in page_texts(out)[0]


def test_food_case_shows_the_food_safety_law_amount(example_case: Path) -> None:
    path = example_case / "case.yaml"
    text = path.read_text(encoding="utf-8")
    text = text.replace("  amount: 399\n", "  amount: 89\n  category: food\n").replace(
        "  type: not_as_shown\n", "  type: food_safety\n")
    path.write_text(text, encoding="utf-8")
    pdf = build(example_case)
    summary = next(t for t in page_texts(pdf) if "投诉要点" in t)
    assert "¥1,000.00" in summary and "第一百四十八条" in summary and "10 × ¥89.00" in summary


def test_punitive_amount_for_host_claims(built: tuple[Path, Path, dict]) -> None:  # type: ignore[type-arg]
    _case, pdf, _ = built
    summary = next(t for t in page_texts(pdf) if "投诉要点" in t)
    assert "3 × ¥399.00 = ¥1,197.00" in summary and "第五十五条" in summary


def test_redacted_region_is_uniform_and_both_hashes_listed(built: tuple[Path, Path, dict]) -> None:  # type: ignore[type-arg]
    """The example declares a redact rectangle on the logistics screenshot."""
    from PIL import Image

    case, pdf, _ = built
    original = case / "evidence" / "logistics" / "Screenshot_20241113-140500.png"
    with Image.open(original) as im:
        orig_w = im.width
    texts = page_texts(pdf)
    # The appendix runs from its title to the end of the dossier (more than one page).
    start = next(i for i, t in enumerate(texts) if "完整性附录" in t and "原始文件清单" in t)
    appendix = "".join(texts[start:]).replace("\r", "").replace("\n", "")
    assert hashlib.sha256(original.read_bytes()).hexdigest() in appendix
    assert "遮挡" in appendix
    with pikepdf.open(pdf) as doc:
        page = next(p for p, t in zip(doc.pages, texts, strict=True) if "证据7" in t and "Screenshot_20241113-140500" in t)
        xobjects = page.Resources.XObject
        (raw,) = [pikepdf.PdfImage(xobjects[k]) for k in xobjects if xobjects[k].Subtype == "/Image"]
        shown = raw.as_pil_image().convert("L")
    scale = shown.width / orig_w
    box = (round(40 * scale) + 2, round(780 * scale) + 2, round(1040 * scale) - 2, round(930 * scale) - 2)
    region = shown.crop(box)
    lo, hi = region.getextrema()
    assert hi - lo <= 8, (lo, hi)  # solid black (JPEG ringing allows a few levels)
    assert hi < 20
