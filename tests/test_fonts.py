"""Fonts: coverage check, per-run fallback, missing-glyph markers, escaping of user text."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import Paragraph

from evidencekit.errors import ExitCode, FontError
from evidencekit.model import Severity
from evidencekit.pdf import fonts as fonts_module
from evidencekit.pdf.document import fit_text
from evidencekit.pdf.fonts import FontSet, load_fonts
from evidencekit.pdf.text import DossierParagraph, Seg, Styles, clip, para, paragraph

DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
needs_dejavu = pytest.mark.skipif(not DEJAVU.is_file(), reason="needs a Latin-only TrueType font")


@pytest.fixture
def fonts() -> FontSet:
    # System fallbacks off: what is "missing" must not depend on this machine's fonts.
    return load_fonts(system_paths=())


def test_bundled_font_covers_chinese_latin_and_punctuation(fonts: FontSet) -> None:
    text = "投诉人张三：订单¥399.00，“假一赔十”！ABCxyz 0-9【】…"
    assert fonts.runs(text) == [(fonts.main, text)]
    assert fonts.findings() == ()


def test_character_no_font_has_becomes_marker_and_one_finding(fonts: FontSet) -> None:
    fonts.subject = "evidence/chat/a.txt"
    assert fonts.runs("𠮷野家𠮷") == [(fonts.main, "[U+20BB7]野家[U+20BB7]")]
    fonts.runs("又是𠮷")
    (finding,) = fonts.findings()
    assert finding.code == "font.missing_glyph"
    assert finding.severity is Severity.WARNING
    assert "U+20BB7" in finding.message
    assert finding.subject == "evidence/chat/a.txt"


def test_finding_names_a_file_even_if_first_seen_without_one(fonts: FontSet) -> None:
    fonts.runs("𠮷")
    fonts.subject = "evidence/order/b.png"
    fonts.runs("𠮷")
    assert [f.subject for f in fonts.findings()] == ["evidence/order/b.png"]


def test_controls_become_markers_and_invisible_marks_are_dropped(fonts: FontSet) -> None:
    # \x00 and a lone surrogate (an undecodable file-name byte) would break or vanish in the PDF.
    assert fonts.runs("a\x00b\udcffc") == [(fonts.main, "a[U+0000]b[U+DCFF]c")]
    assert fonts.runs("好\u200b的\ufe0f") == [(fonts.main, "好的")]
    assert fonts.runs("a\r\nb\rc") == [(fonts.main, "a\nb\nc")]
    assert fonts.findings() == ()


@needs_dejavu
def test_user_font_first_then_bundled_font_per_run() -> None:
    fonts = load_fonts(DEJAVU, system_paths=())
    assert fonts.main != fonts.bundled.name
    assert fonts.runs("Order 订单 OK") == [
        (fonts.main, "Order "),
        (fonts.bundled.name, "订单"),
        (fonts.main, " OK"),
    ]
    assert fonts.markup("a<中>") == f'a&lt;<font face="{fonts.bundled.name}">中</font>&gt;'


@needs_dejavu
def test_system_fallback_is_used_when_bundled_font_lacks_a_character() -> None:
    fonts = load_fonts(system_paths=(str(DEJAVU),))
    (run,) = fonts.runs("⚠")  # U+26A0: not in WenQuanYi Micro Hei, in DejaVu Sans
    assert run[0] != fonts.main
    assert fonts.findings() == ()


def test_missing_font_file_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(FontError) as info:
        load_fonts(tmp_path / "nope.ttf")
    assert info.value.exit_code is ExitCode.USAGE
    assert "nope.ttf" in info.value.message


def test_non_font_file_is_a_usage_error(tmp_path: Path) -> None:
    bogus = tmp_path / "fake.ttf"
    bogus.write_bytes(b"not a font at all" * 10)
    with pytest.raises(FontError) as info:
        load_fonts(bogus)
    assert "TrueType" in info.value.hint


def test_markup_escapes_user_text(fonts: FontSet) -> None:
    assert fonts.markup("<b>x</b> & <font>") == "&lt;b&gt;x&lt;/b&gt; &amp; &lt;font&gt;"
    assert fonts.markup("一\n二") == "一<br/>二"


def test_para_shows_markup_literally_in_every_segment(fonts: FontSet) -> None:
    styles = Styles(fonts)
    p = para(fonts, styles.body, '<a href="x">', Seg("<b>&amp;</b>", link="ex-1", size=7))
    assert p.getPlainText() == '<a href="x"><b>&amp;</b>'


def test_clip_says_how_long_the_text_was() -> None:
    assert clip("短", 10) == "短"
    assert clip("长" * 20, 5) == "长长长长长…（共 20 字，已截断）"


def test_fit_text_shortens_in_the_middle_and_keeps_the_extension(fonts: FontSet) -> None:
    name = "微信图片_" + "很长的名字" * 30 + "_20241114.jpg"
    short = fit_text(fonts, name, 8, 200)
    assert fonts.string_width(short, 8) <= 200
    assert short.endswith("20241114.jpg")
    assert "…" in short
    assert fit_text(fonts, "短名.png", 8, 200) == "短名.png"


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=60))
def test_any_text_survives_the_paragraph_parser(text: str) -> None:
    fonts = load_fonts(system_paths=())
    style = ParagraphStyle("t", fontName=fonts.main, fontSize=9, leading=12, wordWrap="CJK")
    paragraph = Paragraph(fonts.markup(text), style)
    paragraph.wrap(300, 10_000)
    # Nothing is lost or added except whitespace, which paragraphs collapse by design.
    shown = "".join(piece for _, piece in fonts.runs(text))
    assert re.sub(r"\s+", "", paragraph.getPlainText()) == re.sub(r"\s+", "", shown)


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=60))
def test_plain_text_paragraphs_match_what_the_parser_makes(text: str) -> None:
    fonts = load_fonts(system_paths=())
    styles = Styles(fonts)
    for style in (styles.body, styles.cell_center, styles.band_meta, styles.mono):
        markup = fonts.markup(text, style.fontName)
        made, parsed = paragraph(markup, style), Paragraph(markup, style)
        assert made.text == parsed.text
        assert [vars(f) for f in made.frags] == [vars(f) for f in parsed.frags]


def test_plain_text_paragraphs_share_no_fragment_state(fonts: FontSet) -> None:
    style = Styles(fonts).cell
    first, second = paragraph("证据1", style), paragraph("证据2", style)
    assert [f.text for f in first.frags + second.frags] == ["证据1", "证据2"]
    assert first.frags[0].link is not second.frags[0].link
    assert first.frags[0].us_lines is not second.frags[0].us_lines


def _lines(p: Paragraph) -> list[list[str]]:
    return [[w.text for w in line.words] for line in p.blPara.lines]


def test_paragraph_breaks_its_lines_once_per_width(fonts: FontSet, monkeypatch: pytest.MonkeyPatch) -> None:
    styles = Styles(fonts)
    p = para(fonts, styles.body, Seg("备注：", color=styles.small.textColor), "包内衬有明显胶水痕迹" * 20)
    calls: list[object] = []
    original = DossierParagraph.breakLinesCJK
    monkeypatch.setattr(
        DossierParagraph, "breakLinesCJK", lambda self, w: calls.append(w) or original(self, w)
    )
    assert p.wrap(300, 1000) == p.wrap(300, 50) == (300, p.height)
    assert len(calls) == 1
    narrow = p.wrap(200, 1000)
    fresh = para(fonts, styles.body, Seg("备注：", color=styles.small.textColor), "包内衬有明显胶水痕迹" * 20)
    assert narrow == fresh.wrap(200, 1000)
    assert _lines(p) == _lines(fresh)
    assert len(calls) == 3


def test_paragraph_laid_out_again_after_a_split_breaks_its_lines_afresh(fonts: FontSet) -> None:
    styles = Styles(fonts)
    parts = (
        Seg("客服　09:00", color=styles.small.textColor, size=7),
        "\n",
        "您好，请问这个包是真皮的吗？" * 6,
    )
    p, fresh = para(fonts, styles.chat_other, *parts), para(fonts, styles.chat_other, *parts)
    p.wrap(300, 1000)
    fresh.wrap(300, 1000)
    # Splitting edits the broken lines in place (a space after each line's last word).
    assert len(p.split(300, 40)) == 2
    p.wrap(300, 1000)
    assert _lines(p) == _lines(fresh)


def test_module_default_fallbacks_are_read_at_load_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fonts_module, "SYSTEM_FALLBACK_PATHS", ("/nonexistent/font.ttf",))
    fonts = load_fonts()
    assert fonts.runs("𠮷") == [(fonts.main, "[U+20BB7]")]


def test_parsed_face_cache_gives_identical_fonts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The marshal cache of a parsed face must behave exactly like parsing the font file."""
    from evidencekit.pdf import fonts as fonts_mod

    monkeypatch.setenv("EVIDENCEKIT_CACHE_DIR", str(tmp_path / "cache"))
    path = Path(fonts_mod.__file__).parent.parent / "fonts" / "wqy-microhei.ttc"
    parsed = fonts_mod._load_ttfont("EKtestParsed", path, 0)
    assert list((tmp_path / "cache" / "fonts").iterdir())  # written on first use
    cached = fonts_mod._load_ttfont("EKtestCached", path, 0)
    assert cached.face.charToGlyph == parsed.face.charToGlyph
    assert cached.face.charWidths == parsed.face.charWidths
    assert cached.stringWidth("证据目录 SHA-256 0123", 10) == parsed.stringWidth("证据目录 SHA-256 0123", 10)
    # A damaged cache entry falls back to parsing.
    for entry in (tmp_path / "cache" / "fonts").iterdir():
        entry.write_bytes(b"not marshal data")
    again = fonts_mod._load_ttfont("EKtestAgain", path, 0)
    assert again.face.charWidths == parsed.face.charWidths


def test_sigterm_while_a_font_is_parsed_stays_a_sigterm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # reportlab wraps its table reading in a bare ``except:``, which turned the Terminated that
    # SIGTERM raises into a TTFError: the build then ended as an internal error (exit 1) instead
    # of a clean 143. The signal arrives here while the font's table directory is read.
    import os
    import signal

    from reportlab.pdfbase import ttfonts

    from evidencekit.errors import Terminated
    from evidencekit.interrupt import sigterm_as_interrupt

    monkeypatch.setattr(fonts_module, "_face_cache_file", lambda data, index: tmp_path / "none.marshal")
    real_read = ttfonts.TTFontFile.read_ulong
    sent = []

    def read_ulong(self: object) -> int:
        if not sent:
            sent.append(True)
            os.kill(os.getpid(), signal.SIGTERM)
        return real_read(self)

    monkeypatch.setattr(ttfonts.TTFontFile, "read_ulong", read_ulong)
    path = Path(fonts_module.__file__).parent.parent / "fonts" / fonts_module.BUNDLED_FONT_FILE
    with pytest.raises(Terminated), sigterm_as_interrupt():
        fonts_module._load_ttfont("EKtest", path, 0)
    assert sent
