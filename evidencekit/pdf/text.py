"""Text building blocks: paragraph styles, safe paragraphs, and the formats the dossier uses.

User text (titles, captions, chat lines, file names) is untrusted: it reaches reportlab's
Paragraph parser only through :func:`para`, which escapes it and tags font runs. Nothing else
in pdf/ writes paragraph markup by hand.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph
from reportlab.platypus.paragraph import cleanBlockQuotedText, textTransformFrags
from reportlab.platypus.paraparser import ParaFrag, ParaParser

from evidencekit.model import format_datetime
from evidencekit.pdf import linecache
from evidencekit.pdf.fonts import FontSet

INK = colors.HexColor("#1f2328")
MUTED = colors.HexColor("#5b6470")
RULE = colors.HexColor("#c9ced6")
ACCENT = colors.HexColor("#1d3f72")  # header bands, headings
ALERT = colors.HexColor("#b42318")
ALERT_PALE = colors.HexColor("#fdecea")
WARN = colors.HexColor("#a15c00")
OK = colors.HexColor("#1a7f37")
SELF_BUBBLE = colors.HexColor("#dcf5d4")
OTHER_BUBBLE = colors.HexColor("#eef0f3")
LINK = colors.HexColor("#1a4fa0")
BAND_RULE = colors.HexColor("#4a6a9c")
PRE_BACK = colors.HexColor("#f6f7f9")


class MeasureCanvas(Canvas):
    """The canvas of the layout-only pass: pages are counted and anchors noted, nothing drawn.

    The content flowables of the dossier (:class:`DossierParagraph`, the tables and figures of
    document.py) skip their drawing on it; drawing never changes where anything lands.
    """

    measure_only = True


def measuring(canv: Canvas | None) -> bool:
    return bool(getattr(canv, "measure_only", False))


class DossierParagraph(Paragraph):
    """A Paragraph that remembers its line breaks for the width it was last wrapped to.

    reportlab wraps a paragraph again for every question asked of it: a table wraps each cell
    to size its row, again to draw it and again when it splits, and every layout pass starts
    over. Breaking CJK text measures each character, which made re-wrapping the largest cost
    of a render. The lines depend only on the text, the style and the width, so the same width
    gives back the same lines.
    """

    _ek_wrapped: tuple[float, Any, Any, float] | None = None  # width, wrap widths, lines, height

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        wrapped = self._ek_wrapped
        if wrapped is not None and wrapped[0] == availWidth and not getattr(self, "_splitpara", 0):
            self.width, self._wrapWidths, self.blPara, self.height = wrapped
            return self.width, self.height
        width, height = super().wrap(availWidth, availHeight)
        if availWidth >= rl_config._FUZZ and not getattr(self, "_splitpara", 0):
            self._ek_wrapped = (availWidth, self._wrapWidths, self.blPara, self.height)
        return width, height

    def breakLinesCJK(self, maxWidths: Any) -> Any:
        """reportlab's line breaking, through the line cache of the render in progress
        (linecache.py) when there is one and the paragraph is of a kind it keeps."""
        cache = linecache.active()
        style = self.style
        if (cache is None or getattr(self, "_splitpara", False) or self.bulletText is not None
                or style.endDots or not isinstance(maxWidths, list)):
            return super().breakLinesCJK(maxWidths)
        frags = self.frags
        auto_leading = getattr(self, "autoLeading", getattr(style, "autoLeading", ""))
        key = cache.key(frags, maxWidths, auto_leading)
        if key is None:
            return super().breakLinesCJK(maxWidths)
        found = cache.get(key, frags)
        if found is not None:
            self.height = 0  # as reportlab's breakLinesCJK leaves it
            return found
        result = super().breakLinesCJK(maxWidths)
        cache.put(key, frags, result)
        return result

    def split(self, availWidth: float, availHeight: float) -> list[Any]:
        # Splitting may edit the broken lines in place (reportlab adds a space to the last word
        # of a line), so after a split the lines are computed afresh, as reportlab itself does.
        self._ek_wrapped = None
        return list(super().split(availWidth, availHeight))

    def draw(self) -> None:
        if not measuring(self.canv):
            super().draw()
            self.forget_lines()

    def forget_lines(self) -> None:
        """Drop the broken lines once drawn for real. They hold an object per CJK character,
        and kept for every paragraph they made memory grow with every exhibit (issue 15); a
        later pass that needs them (page numbers moved) wraps again, which costs time only."""
        self._ek_wrapped = None
        self.__dict__.pop("blPara", None)


def paragraph(markup: str, style: ParagraphStyle) -> DossierParagraph:
    """``DossierParagraph(markup, style)``, without running reportlab's markup parser per paragraph.

    Parsing was most of the cost of making a paragraph, and a dossier has thousands of them in
    a handful of shapes (a table cell: text; text, a line break and a smaller grey line; ...).
    The fragments the parser makes depend on the text only through the text itself, so markup
    of the few tags :func:`para` writes is parsed once per shape and style, with a placeholder
    for each run of text, and each paragraph gets copies of those fragments with its own text
    (tests/test_fonts.py and tests/test_perf_render.py compare the two). Plain text gets a copy
    of the style's single fragment. Any other markup goes through the parser.
    """
    text = cleanBlockQuotedText(markup)
    if not text:
        return DossierParagraph(markup, style)
    if "<" not in text and "&" not in text:
        frag = _copy_frag(_plain_frag(style))
        frag.text = text
        frag.link = []  # the parser gives every paragraph lists of its own
        frag.us_lines = []
        return DossierParagraph(text, style, frags=[frag])
    pieces = _MARKUP_TOKEN.split(text)  # text, tag or entity, text, ..., text
    runs = pieces[::2]
    if any("<" in run or "&" in run for run in runs):
        return DossierParagraph(markup, style)
    pieces[::2] = ["x" if run else "" for run in runs]
    shape = _parsed_shape(style, "".join(pieces), sum(1 for run in runs if run))
    if shape is None:
        return DossierParagraph(markup, style)
    texts = iter([run for run in runs if run])
    own_lists: dict[int, list[Any]] = {}  # the parser's lists, shared as it shares them
    frags = []
    for template, is_run in shape:
        frag = _copy_frag(template)
        attrs = frag.__dict__
        for name, value in list(attrs.items()):
            if type(value) is list:
                own = own_lists.get(id(value))
                if own is None:
                    own = own_lists[id(value)] = list(value)
                attrs[name] = own
        if is_run:
            frag.text = next(texts)
        frags.append(frag)
    textTransformFrags(frags, style)
    return DossierParagraph(text, style, frags=frags)


def _copy_frag(frag: ParaFrag) -> ParaFrag:
    """``copy.copy(frag)`` (a new fragment with the same attributes) without copy's generic
    machinery, a quarter of the time for the thousands of fragments of a dossier."""
    new: ParaFrag = object.__new__(type(frag))
    new.__dict__.update(frag.__dict__)
    return new


# The markup para() writes: font runs, colours, sizes, links inside the PDF, line breaks and the
# entities of html.escape. The parser makes one fragment per run of text between them.
_MARKUP_TOKEN = re.compile(
    r'(</font>|</a>|<br/>|<font(?: (?:face|color|size)="[^"<>&]*")+>|<a href="[^"<>&]*"(?: color="[^"<>&]*")?>'
    r"|&(?:amp|lt|gt|quot|#x27);)"
)


def _parsed_shape(style: ParagraphStyle, skeleton: str, run_count: int) -> tuple[tuple[ParaFrag, bool], ...] | None:
    """What the parser makes of ``skeleton`` (markup with each of its ``run_count`` runs of text
    replaced by ``x``): its fragments, each with whether it holds a run of text; None when that
    is unclear."""
    shapes = _memo(style)
    if skeleton in shapes:
        return shapes[skeleton]
    shape: tuple[tuple[ParaFrag, bool], ...] | None = None
    try:
        parsed_style, frags, bullet = ParaParser().parse(skeleton, style)
    except ValueError:
        frags = None
    else:
        if frags is not None and not bullet and parsed_style is style:
            shape = tuple((frag, frag.text == "x") for frag in frags)
            if sum(is_run for _, is_run in shape) != run_count:
                shape = None
    shapes[skeleton] = shape
    return shape


def _plain_frag(style: ParagraphStyle) -> ParaFrag:
    """What reportlab's parser makes of plain text in ``style`` (the text aside)."""
    memo = _memo(style)
    frag = memo.get("")
    if frag is None:
        _, frags, _ = ParaParser().parse("x", style)
        frag = memo[""] = frags[0]
    return frag


def _memo(style: ParagraphStyle) -> dict[str, Any]:
    """What the parser made of each shape of markup in ``style`` ("" for plain text), kept on
    the style itself. reportlab copies every attribute of a parent style into a style made
    from it, so the memo names its owner and a derived style starts one of its own."""
    kept = style.__dict__.get("_ek_parsed")
    if kept is None or kept[0] is not style:
        kept = style.__dict__["_ek_parsed"] = (style, {})
    return kept[1]


@dataclass(frozen=True)
class Seg:
    """A piece of a paragraph with its own look. ``text`` is untrusted and always escaped."""

    text: str
    color: colors.Color | None = None
    size: float | None = None
    link: str | None = None  # a bookmark key inside this PDF
    mono: bool = False


# Legible on A4 paper: running text and table cells, and the smaller secondary lines (captions,
# file facts, page furniture), never below these sizes (tests/test_recipient.py measures them).
BODY_PT = 10.0
SECONDARY_PT = 8.0


class Styles:
    """The paragraph styles of one dossier, all in the dossier's fonts."""

    def __init__(self, fonts: FontSet) -> None:
        self.fonts = fonts
        main = fonts.main

        def style(name: str, size: float, leading: float, **kw: object) -> ParagraphStyle:
            kw.setdefault("fontName", main)
            kw.setdefault("textColor", INK)
            # CJK wrapping breaks between any two characters; Chinese has no spaces to break at,
            # and hashes and file names must wrap too.
            return ParagraphStyle(name, fontSize=size, leading=leading, wordWrap="CJK", **kw)

        self.body = style("body", 10.5, 16)
        self.small = style("small", 8.5, 12, textColor=MUTED)
        self.cell = style("cell", BODY_PT, 13.5)
        self.cell_small = style("cell_small", 8.5, 11.5, textColor=MUTED)
        self.cell_head = style("cell_head", BODY_PT, 13.5, textColor=colors.white)
        self.cell_center = style("cell_center", BODY_PT, 13.5, alignment=TA_CENTER)
        self.mono = style("mono", 8.5, 11.5, fontName=fonts.mono.name)
        # Headings never end a page without what they introduce.
        self.h1 = style("h1", 16, 22, textColor=ACCENT, spaceAfter=10, keepWithNext=1)
        self.h2 = style("h2", 11.5, 16, textColor=ACCENT, spaceBefore=10, spaceAfter=5, keepWithNext=1)
        self.title = style("title", 22, 30, alignment=TA_CENTER, textColor=ACCENT, spaceAfter=8)
        self.subtitle = style("subtitle", 12, 18, alignment=TA_CENTER, textColor=MUTED)
        self.caption = style("caption", 9, 12, alignment=TA_CENTER, textColor=MUTED)
        self.band_number = style("band_number", 17, 21, textColor=colors.white, alignment=TA_CENTER)
        self.band_title = style("band_title", 11, 15, textColor=colors.white)
        self.band_meta = style("band_meta", 9, 12.5, textColor=colors.HexColor("#dfe6f2"))
        # borderPadding paints outside the text box; matching indents keep it inside the frame.
        self.notice = style(
            "notice",
            10.5,
            16,
            textColor=ALERT,
            backColor=ALERT_PALE,
            borderPadding=8,
            leftIndent=8,
            rightIndent=8,
            spaceBefore=12,
            spaceAfter=12,
        )
        self.pre = style(
            "pre", 9, 12, backColor=PRE_BACK, borderPadding=(0, 4, 0, 4), leftIndent=4, rightIndent=4
        )
        self.chat_other = style(
            "chat_other",
            10.5,
            15,
            rightIndent=130,
            leftIndent=5,
            backColor=OTHER_BUBBLE,
            borderPadding=(3, 5, 3, 5),
            spaceAfter=5,
            spaceBefore=5,
            alignment=TA_LEFT,
        )
        self.chat_self = style(
            "chat_self",
            10.5,
            15,
            leftIndent=135,
            rightIndent=5,
            backColor=SELF_BUBBLE,
            borderPadding=(3, 5, 3, 5),
            spaceAfter=5,
            spaceBefore=5,
            alignment=TA_LEFT,
        )
        self.chat_system = style(
            "chat_system", 8.5, 11.5, textColor=MUTED, alignment=TA_CENTER, spaceBefore=4, spaceAfter=4
        )


def _segment_markup(fonts: FontSet, seg: Seg, base: str) -> str:
    font = fonts.mono.name if seg.mono else base
    inner = fonts.markup(seg.text, font)
    attrs = []
    if seg.mono and font != base:
        attrs.append(f'face="{font}"')
    if seg.color is not None:
        attrs.append(f'color="{seg.color.hexval()}"')
    if seg.size is not None:
        attrs.append(f'size="{seg.size:g}"')
    if attrs:
        inner = f"<font {' '.join(attrs)}>{inner}</font>"
    if seg.link:
        inner = f'<a href="#{seg.link}" color="{LINK.hexval()}">{inner}</a>'
    return inner


def clip(text: str, limit: int | None) -> str:
    """Shorten ``text`` to ``limit`` characters, saying how much was left out."""
    if limit is None or len(text) <= limit:
        return text
    return f"{text[:limit]}…（共 {len(text)} 字，已截断）"


def para(fonts: FontSet, style: ParagraphStyle, *parts: str | Seg, limit: int | None = None) -> Paragraph:
    """A Paragraph from untrusted pieces: plain strings and :class:`Seg` are escaped alike.

    ``limit`` clips each piece: table cells and captions cannot run over a page break the way a
    paragraph can, so what goes into them is kept to a size that always fits.
    """
    if limit is not None:
        parts = tuple(
            replace(p, text=clip(p.text, limit)) if isinstance(p, Seg) else clip(p, limit) for p in parts
        )
    base = style.fontName
    markup = "".join(
        _segment_markup(fonts, p, base) if isinstance(p, Seg) else fonts.markup(p, base) for p in parts
    )
    return paragraph(markup, style)


# ---------------------------------------------------------------------------------------------
# Formats
# ---------------------------------------------------------------------------------------------


def format_size(size: int) -> str:
    """``1.2 MB（1,234,567 字节）``: readable, and exact for comparison with the file."""
    if size < 1024:
        return f"{size} 字节"
    value = float(size)
    for unit in ("KB", "MB", "GB", "TB"):
        value /= 1024
        if value < 1024 or unit == "TB":
            return f"{value:.1f} {unit}（{size:,} 字节）"
    raise AssertionError("unreachable")


def format_size_lines(size: int) -> str:
    """:func:`format_size` on two lines (``1.2 MB`` / ``1,234,567 字节``) for a narrow column, so
    the line breaks between the two figures and never inside one."""
    if size < 1024:
        return f"{size} 字节"
    readable = format_size(size)
    rounded, _, exact = readable.partition("（")
    return f"{rounded}\n{exact.removesuffix('）')}"


NAME_BREAKS = "_-./"


def break_name(fonts: FontSet, name: str, size: float, width: float, base: str | None = None) -> str:
    """``name`` with line breaks only after ``_ - . /`` so that each line fits ``width``.

    Paragraphs wrap Latin runs at any character when they find no space; a file name broken in
    ``aw / eme`` reads as two names. A piece longer than a line on its own is cut where it must be.
    """
    if fonts.string_width(name, size, base) <= width:
        return name
    pieces: list[str] = []
    piece = ""
    for ch in name:
        piece += ch
        if ch in NAME_BREAKS:
            pieces.append(piece)
            piece = ""
    if piece:
        pieces.append(piece)
    lines: list[str] = []
    line = ""
    for piece in pieces:
        if line and fonts.string_width(line + piece, size, base) > width:
            lines.append(line)
            line = ""
        while fonts.string_width(piece, size, base) > width and len(piece) > 1:
            cut = len(piece) - 1
            while cut > 1 and fonts.string_width(line + piece[:cut], size, base) > width:
                cut -= 1
            lines.append(line + piece[:cut])
            line, piece = "", piece[cut:]
        line += piece
    if line:
        lines.append(line)
    return "\n".join(lines)


def format_amount(amount: Decimal | None) -> str:
    return "—" if amount is None else f"¥{amount:,.2f}"


def format_when(moment: datetime | None, with_seconds: bool = True) -> str:
    return "时间不明" if moment is None else format_datetime(moment, with_seconds)


def format_when_zoned(moment: datetime | None, with_seconds: bool = True) -> str:
    """:func:`format_when` that always names the zone: 北京时间 for UTC+8, else the UTC offset."""
    text = format_when(moment, with_seconds)
    if moment is not None and moment.utcoffset() == timedelta(hours=8):
        text += " 北京时间"
    return text
