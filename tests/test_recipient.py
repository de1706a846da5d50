"""The dossier a recipient reads (merchant, platform, 12315…): an official's words, legible on paper.

Every ``--target`` of the example case is built once for the module; the tests read the text
and the content streams of those PDFs.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from collections import Counter
from pathlib import Path

import pikepdf
import pypdfium2
import pytest
from click.testing import CliRunner

from evidencekit.cli import main
from evidencekit.model import EvidenceKind
from evidencekit.rules.catalog import load_rules

BODY_MIN_PT = 10.0
SECONDARY_MIN_PT = 8.0
# Pages whose text is mostly running text and table cells (not exhibit pages, whose text is the
# header band, the facts line and the footer around an image).
TEXT_SECTIONS = ("投诉要点", "证据清单", "证据目录", "时间线")


@pytest.fixture(scope="module")
def dossiers(example_dossiers: dict[str, Path]) -> dict[str, Path]:
    """The example case built for every target (conftest.example_dossiers); read-only."""
    return example_dossiers


def page_texts(pdf: Path) -> list[str]:
    doc = pypdfium2.PdfDocument(str(pdf))
    try:
        return [doc[i].get_textpage().get_text_range() for i in range(len(doc))]
    finally:
        doc.close()


def internal_names() -> set[str]:
    """case.yaml key paths the templates name, and the evidence folder of every kind."""
    rules = load_rules()
    names = {"case.yaml", "merchant.credit_code", "problem.discovered_at", "order.time", "problem.type"}
    for profile in rules.targets.values():
        for field in profile.fields:
            names.update(p for p in field.paths if "." in p)
    names.update(f"evidence/{kind.value}/" for kind in EvidenceKind)
    return names


def test_recipient_text_names_no_keys_or_folders(dossiers: dict[str, Path]) -> None:
    names = internal_names()
    assert "order.number" in names and "evidence/unboxing/" in names  # the scan looks for these
    for target, pdf in dossiers.items():
        texts = page_texts(pdf)
        appendix = next(i for i, t in enumerate(texts) if "完整性附录" in t and "原始文件清单" in t)
        for number, text in enumerate(texts, start=1):
            flat = text.replace("\r", "").replace("\n", "")
            # The integrity appendix lists each original under its path in the case folder: the
            # path is what the attachment is called, so folder names may appear there only.
            checked = names if number <= appendix else {n for n in names if not n.startswith("evidence/")}
            found = sorted(n for n in checked if n in flat)
            assert not found, (target, number, found)
            assert "请放入" not in flat, (target, number)


def test_recipient_checklist_claims_only_what_is_proved(dossiers: dict[str, Path]) -> None:
    for target in ("general", "12315", "email"):
        texts = page_texts(dossiers[target])
        page = next(t for t in texts if "证据清单" in t and "证明目的" in t)
        for word in ("缺少", "已具备", "建议补充", "检查发现", "必须处理", "紧急"):
            assert word not in page, (target, word)
        # The example has no unboxing video: the element is simply not claimed.
        assert "开箱视频" not in page
        assert "证据4" in page and "直播间承诺截图或录屏" in page


def _sizes(page: pikepdf.Page) -> Counter[float]:
    """Characters drawn at each effective font size (Tf size × text and graphics scale)."""
    sizes: Counter[float] = Counter()
    ctm_stack = [1.0]
    size = tm = 1.0
    for operands, op in pikepdf.parse_content_stream(page):
        name = str(op)
        if name == "q":
            ctm_stack.append(ctm_stack[-1])
        elif name == "Q":
            ctm_stack.pop()
        elif name == "cm":
            ctm_stack[-1] *= abs(float(operands[3]))
        elif name == "Tf":
            size = float(operands[1])
        elif name == "Tm":
            tm = abs(float(operands[3]))
        elif name in ("Tj", "'", '"'):
            sizes[round(size * tm * ctm_stack[-1], 2)] += len(bytes(operands[-1]))
        elif name == "TJ":
            count = sum(len(bytes(x)) for x in operands[0] if isinstance(x, pikepdf.String))
            sizes[round(size * tm * ctm_stack[-1], 2)] += count
    return sizes


def test_every_page_meets_the_minimum_font_sizes(dossiers: dict[str, Path]) -> None:
    for target, pdf in dossiers.items():
        texts = page_texts(pdf)
        with pikepdf.open(pdf) as doc:
            for number, (page, text) in enumerate(zip(doc.pages, texts, strict=True), start=1):
                sizes = _sizes(page)
                assert sizes, (target, number)
                smallest = min(sizes)
                assert smallest >= SECONDARY_MIN_PT, (target, number, sorted(sizes.items()))
                if any(text.lstrip().startswith(title) or f"\n{title}" in text[:200] for title in TEXT_SECTIONS):
                    dominant = sizes.most_common(1)[0][0]
                    assert dominant >= BODY_MIN_PT, (target, number, sorted(sizes.items()))


def test_font_size_reader_sees_small_text() -> None:
    """The size reader counts what a 7 pt line draws (so a pass above means no such line)."""
    from io import BytesIO

    from reportlab.pdfgen.canvas import Canvas

    buf = BytesIO()
    canv = Canvas(buf)
    canv.setFont("Helvetica", 7)
    canv.drawString(10, 10, "abc")
    canv.saveState()
    canv.transform(2, 0, 0, 2, 0, 0)
    canv.setFont("Helvetica", 6)
    canv.drawString(10, 30, "de")
    canv.restoreState()
    canv.save()
    with pikepdf.open(BytesIO(buf.getvalue())) as doc:
        assert _sizes(doc.pages[0]) == Counter({7.0: 3, 12.0: 2})


def _flat(text: str) -> str:
    return text.replace("\r", "").replace("\n", "")


def nested_or_mixed_brackets(text: str) -> list[str]:
    """Brackets inside brackets, and a half-width bracket closing a full-width one (or back)."""
    found = []
    stack: list[tuple[str, int]] = []
    for i, ch in enumerate(text):
        if ch in "（(":
            if stack:
                found.append(text[max(0, stack[0][1] - 10) : i + 20])
            stack.append((ch, i))
        elif ch in "）)" and stack:
            opener, at = stack.pop()
            if (opener == "（") != (ch == "）"):
                found.append(text[max(0, at - 10) : i + 5])
    return found


def test_nested_bracket_finder_finds_them() -> None:
    assert nested_or_mixed_brackets("截图时间（按文件名（小米））") and nested_or_mixed_brackets("大小（3 字节)")
    assert not nested_or_mixed_brackets("截图时间（按文件名） 依据：小米截图文件名，应用：抖音")


def test_no_nested_or_mixed_brackets_on_any_page(dossiers: dict[str, Path]) -> None:
    for target, pdf in dossiers.items():
        for number, text in enumerate(page_texts(pdf), start=1):
            assert not nested_or_mixed_brackets(_flat(text)), (target, number, nested_or_mixed_brackets(_flat(text)))
            # Two brackets in a row read as one phrase glossing the other (a title, then its time source).
            assert "）（" not in _flat(text), (target, number)


def test_cover_states_facts_with_the_zone(dossiers: dict[str, Path]) -> None:
    for target, pdf in dossiers.items():
        cover = _flat(page_texts(pdf)[0])
        assert "处理时限" not in cover and "紧急" not in cover, target
        assert re.search(r"编制时间 ?\d{4}-\d\d-\d\d \d\d:\d\d:\d\d 北京时间", cover), (target, cover)


def test_index_ends_as_a_submitted_evidence_list(dossiers: dict[str, Path]) -> None:
    for target, pdf in dossiers.items():
        texts = [_flat(t) for t in page_texts(pdf)]
        first = next(i for i, t in enumerate(texts) if "证据目录" in t and "页码" in t)
        # The index may run over pages; its end is the page before the next section starts.
        index = "".join(texts[first : first + 2])
        ending = index[index.rindex("提交人") :]
        assert ending.startswith("提交人：张小明"), (target, ending[:80])
        assert "签名：" in ending and "提交日期：" in ending and "年" in ending, (target, ending[:80])


def test_every_continued_exhibit_page_repeats_a_compact_header(dossiers: dict[str, Path]) -> None:
    for target, pdf in dossiers.items():
        pages_of: dict[int, list[int]] = {}
        texts = [_flat(t) for t in page_texts(pdf)]
        for number, text in enumerate(texts, start=1):
            # The exhibit footer names the exhibit on each of its pages.
            for m in re.finditer(r"证据(\d+)\s*原始文件：", text):
                pages_of.setdefault(int(m.group(1)), []).append(number)
        assert any(len(pages) > 1 for pages in pages_of.values()), target  # the example has such exhibits
        for exhibit, pages in pages_of.items():
            first, *rest = pages
            assert f"证据{exhibit}（续）" not in texts[first - 1], (target, exhibit, first)
            for number in rest:
                assert f"证据{exhibit}（续）" in texts[number - 1], (target, exhibit, number)


def _name_pattern(name: str) -> re.Pattern[str]:
    """``name`` as it may be wrapped: a line break is allowed only after ``_ - . /``."""
    return re.compile("".join(re.escape(c) + (r"(?:\r?\n)?" if c in "_-./" else "") for c in name))


def test_file_names_break_only_at_separators_and_numbers_never(example_source: Path,
                                                               dossiers: dict[str, Path]) -> None:
    originals = [p for p in (example_source / "evidence").rglob("*") if p.is_file()]
    assert any(len(p.name) > 40 for p in originals)  # long enough to wrap in the narrow columns
    for target, pdf in dossiers.items():
        texts = page_texts(pdf)
        index = next(t for t in texts if "证据目录" in t and "页码" in t)
        appendix = next(t for t in texts if "完整性附录" in t and "原始文件清单" in t)
        for original in originals:
            assert _name_pattern(original.name).search(index), (target, original.name)
            # The exhibit page's facts: 原始文件：name, broken only at separators.
            facts = re.compile("原始文件：" + _name_pattern(original.name).pattern)
            assert any(facts.search(t) for t in texts), (target, original.name)
            rel = original.relative_to(example_source).as_posix()
            assert _name_pattern(rel).search(appendix), (target, rel)
            size = original.stat().st_size
            # The exact byte count on one line, and the hash on one line.
            assert f"{size:,} 字节" in appendix, (target, rel)
            digest = hashlib.sha256(original.read_bytes()).hexdigest()
            assert digest in appendix.replace("\r", ""), (target, rel)
        # Every hash on the appendix pages (originals, display copies, fingerprint) is whole.
        start = texts.index(appendix)
        for text in texts[start:]:
            runs = [r for r in re.findall(r"[0-9a-f]{8,}", text) if re.search(r"[a-f]", r)]
            assert runs and all(len(r) == 64 for r in runs), (target, [r for r in runs if len(r) != 64])
        # No line of any page ends inside a number ("93,47" / "0 字节").
        for number, text in enumerate(texts, start=1):
            assert not re.search(r"\d,\d{0,2}\r?\n\d", text), (target, number)


def test_break_name_keeps_the_name_and_breaks_after_separators() -> None:
    from evidencekit.pdf.fonts import load_fonts
    from evidencekit.pdf.text import break_name, format_size_lines

    fonts = load_fonts(None)
    name = "Screenshot_2024-11-13-15-25-40-511_com.ss.android.ugc.aweme.png"
    broken = break_name(fonts, name, 10, 110)
    lines = broken.split("\n")
    assert len(lines) > 1 and "".join(lines) == name
    assert all(line[-1] in "_-./" for line in lines[:-1])
    assert all(fonts.string_width(line, 10) <= 110 for line in lines)
    # A piece with no separator longer than the line is still cut, and nothing is lost.
    long = "x" * 80 + ".jpg"
    assert "".join(break_name(fonts, long, 10, 110).split("\n")) == long
    assert format_size_lines(93_470) == "91.3 KB\n93,470 字节"
    assert format_size_lines(483) == "483 字节"


@pytest.mark.parametrize("room", [2.0, 8.0, 14.0, 30.0])
def test_a_table_never_leaves_its_header_row_alone_at_a_page_foot(room: float) -> None:
    """With ``room`` points below the header row, a table moves on whole or takes a data line along."""
    from evidencekit.pdf.document import RenderContext, data_table
    from evidencekit.pdf.fonts import load_fonts
    from evidencekit.pdf.text import Styles

    fonts = load_fonts(None)
    styles = Styles(fonts)
    ctx = RenderContext(dossier=None, fonts=fonts, styles=styles)  # type: ignore[arg-type]
    rows = [[ctx.cell(styles.cell_head, "序号"), ctx.cell(styles.cell_head, "内容")]]
    rows += [[ctx.cell(styles.cell, str(i)), ctx.cell(styles.cell, "一行文字" * 30)] for i in range(5)]
    table = data_table(ctx, rows, [60, 300])
    table.wrap(360, 10_000)
    header = table._rowHeights[0]
    parts = table.split(360, header + room)
    if parts:
        first = parts[0]
        first.wrap(360, header + room)
        assert len(first._cellvalues) > 1, room
        assert first._rowHeights[1] >= styles.cell.leading, (room, first._rowHeights)


def test_exhibit_pages_carry_no_advice_to_the_applicant(example_source: Path, tmp_path: Path) -> None:
    """A file in a folder of no known kind, with only its modification time: the applicant is told
    to move it and that its time is weak (check), the recipient's exhibit page says neither."""
    from PIL import Image

    case = tmp_path / "case"
    shutil.copytree(example_source, case, copy_function=shutil.copy2)
    (case / "evidence" / "杂项").mkdir()
    Image.new("RGB", (300, 200), (200, 180, 160)).save(case / "evidence" / "杂项" / "照片.png")
    out = tmp_path / "dossier.pdf"
    result = CliRunner().invoke(main, ["build", str(case), "--target", "12315", "-o", str(out), "--force", "-q"])
    assert result.exit_code == 0, result.stderr
    check = CliRunner().invoke(main, ["check", str(case), "--target", "12315"])
    assert "请移入" in check.output or "请改用" in check.output  # the applicant's side says it
    texts = [_flat(t) for t in page_texts(out)]
    page = next(t for t in texts if "照片.png" in t and "原始文件：" in t)
    for word in ("请移入", "请改用", "case.yaml", "证明力弱", "【注意】", "【问题】"):
        assert word not in page, word


def test_a_recording_without_declared_moments_gives_the_recipient_no_instructions(
        example_source: Path, tmp_path: Path) -> None:
    """An audio recording has no contact sheet: its page must not tell the official how to fill
    in case.yaml (the shopper's self-check does that)."""
    from mediagen import make_audio

    case = tmp_path / "case"
    shutil.copytree(example_source, case, copy_function=shutil.copy2)
    make_audio(case / "evidence" / "chat" / "客服电话录音.m4a", 3)
    out = tmp_path / "d.pdf"
    result = CliRunner().invoke(main, ["build", str(case), "-o", str(out), "--force", "-q"])
    assert result.exit_code == 0, result.stderr
    texts = [t.replace("\r", "").replace("\n", "") for t in page_texts(out)]
    audio_pages = [t for t in texts if "客服电话录音.m4a" in t and "时长" in t]
    assert audio_pages  # the audio exhibit is there
    for flat in texts:
        assert "case.yaml" not in flat and "moments" not in flat
