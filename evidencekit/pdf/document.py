"""Page furniture shared by every section: geometry, running header and footer, outline
anchors, linked tables, fitted images, document metadata.

Sections are functions ``render(ctx) -> list[Flowable]`` over one :class:`RenderContext`.
The document is laid out twice (see render.py), from the same flowables where they do not
depend on page numbers; the context carries what the previous pass learned (on which page each
anchor landed, how many pages there are) into the next.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import BaseDocTemplate, Flowable, Frame, PageTemplate, Paragraph, Table, TableStyle

from evidencekit.media.base import EXHIBIT_BOX_WIDTH_PT
from evidencekit.model import DisplayImage, Dossier, Exhibit, Finding
from evidencekit.pdf.fonts import FontSet
from evidencekit.pdf.stream import StreamingCanvas
from evidencekit.pdf.text import (
    ACCENT,
    MUTED,
    RULE,
    SECONDARY_PT,
    MeasureCanvas,
    Seg,
    Styles,
    format_size,
    measuring,
    para,
)
from evidencekit.pdf.textlayer import Word, draw_words
from evidencekit.rules.ocr_fields import TextBox

# ASCII85-wrapping every image stream costs 12x the time and 24 % more bytes (measured).
rl_config.useA85 = 0

PAGE_WIDTH, PAGE_HEIGHT = A4
CONTENT_WIDTH = EXHIBIT_BOX_WIDTH_PT
MARGIN_X = (PAGE_WIDTH - CONTENT_WIDTH) / 2
TOP_SPACE = 46.0  # running header
BOTTOM_SPACE = 44.0  # page footer
EXHIBIT_BOTTOM_SPACE = 72.0  # page footer + the exhibit's file name, size and SHA-256

BODY_TEMPLATE = "body"
EXHIBIT_TEMPLATE = "exhibit"
# The second and later pages of one exhibit: a compact band (证据6（续）) above the frame says
# whose page it is.
EXHIBIT_CONTINUED_TEMPLATE = "exhibit-continued"
CONTINUED_BAND_HEIGHT = 18.0
CONTINUED_BAND_GAP = 6.0

# Display copies carry no trustworthy dpi; drawing them at 96 dpi keeps small originals
# legible without blowing them up, and box-sized copies (150 dpi) are then shrunk to the box.
NATURAL_DPI = 96.0
CELL_TEXT_LIMIT = 400  # characters of one piece of user text inside a table cell
INK_FOOT = colors.HexColor("#333a44")


def exhibit_key(number: int) -> str:
    return f"ex-{number}"


def section_key(name: str) -> str:
    return f"sec-{name}"


@dataclass
class RenderContext:
    """Everything a section needs, plus what the previous layout pass found out."""

    dossier: Dossier
    fonts: FontSet
    styles: Styles
    known_pages: dict[str, int] = field(default_factory=dict)  # anchor key -> page, previous pass
    total_pages: int | None = None  # previous pass
    layout_only: bool = False  # first pass: measure, draw nothing (text.MeasureCanvas)
    pages: dict[str, int] = field(default_factory=dict)  # anchor key -> page, this pass
    page_count: int = 0
    current_exhibit: Exhibit | None = None
    findings: list[Finding] = field(default_factory=list)  # renderer findings besides fonts
    outline_started: bool = False
    fitted: dict[tuple[str, float, float, str | None], str] = field(default_factory=dict)  # fit_text
    kept: dict[object, Any] = field(default_factory=dict)  # made on the first pass, see once()
    # OCR's boxes per exhibit number: drawn as an invisible text layer over its screenshot (textlayer.py).
    text_boxes: Mapping[int, Sequence[TextBox]] = field(default_factory=dict)

    def begin_pass(self, known_pages: dict[str, int], total_pages: int | None, *, layout_only: bool) -> None:
        """Start another layout pass with what the previous one found out. Findings stay: the
        flowables that reported them are laid out again, not made again."""
        self.known_pages = known_pages
        self.total_pages = total_pages
        self.layout_only = layout_only
        self.pages = {}
        self.page_count = 0
        self.current_exhibit = None
        self.outline_started = False

    def para(self, style: ParagraphStyle, *parts: str | Seg) -> Paragraph:
        return para(self.fonts, style, *parts)

    def once(self, key: object, make: Callable[[], Any]) -> Any:
        """``make()`` on the first pass, the same object on later ones: for whole sections, and
        for the parts of the index that do not depend on the page numbers it prints. Flowables
        laid out again keep their line breaks (text.DossierParagraph)."""
        if key not in self.kept:
            self.kept[key] = make()
        return self.kept[key]

    def fit(self, text: str, size: float, max_width: float, base: str | None = None) -> str:
        """:func:`fit_text`, remembered: page furniture asks the same on every page."""
        key = (text, size, max_width, base)
        fitted = self.fitted.get(key)
        if fitted is None:
            fitted = self.fitted[key] = fit_text(self.fonts, text, size, max_width, base)
        return fitted

    def cell(self, style: ParagraphStyle, *parts: str | Seg) -> Paragraph:
        """A paragraph for a table cell, header band or caption: clipped to fit any page."""
        return para(self.fonts, style, *parts, limit=CELL_TEXT_LIMIT)

    def exhibit_pages(self, number: int) -> str:
        """``12`` or ``12–14`` from the previous pass; empty while not known yet."""
        span = page_range(self.known_pages, self.total_pages, exhibit_key(number))
        if span is None:
            return ""
        first, last = span
        return str(first) if last <= first else f"{first}–{last}"

    def has_exhibit(self, number: int) -> bool:
        """Links may only point at exhibits that exist: a dangling destination breaks the PDF."""
        return any(ex.number == number for ex in self.dossier.exhibits)

    def finding(self, item: Finding) -> None:
        if item not in self.findings:
            self.findings.append(item)


class ContentNamedPath(str):
    """An image path whose ``str()`` is the display copy's SHA-256.

    reportlab names every image XObject after ``str(path)``, so the cache folder's location
    would otherwise leak into the PDF bytes and break ``--reproducible`` across machines (and
    between --jobs settings). ``open()`` and reportlab's file reading use the real path text.
    """

    _content_name: str
    content_sha256: str  # what stream.StreamingCanvas checks when it reads the copy back
    real_path: str

    def __new__(cls, path: Path, sha256: str) -> ContentNamedPath:
        obj = super().__new__(cls, str(path))
        obj._content_name = f"sha256:{sha256}"
        obj.content_sha256 = sha256
        obj.real_path = str(path)
        return obj

    def __str__(self) -> str:
        return self._content_name


# ---------------------------------------------------------------------------------------------
# Zero-size flowables that act when they are placed
# ---------------------------------------------------------------------------------------------


class Hook(Flowable):
    """Runs ``action(canvas)`` at the point of the story where it is drawn."""

    _ZEROSIZE = 1

    def __init__(self, action: Callable[[Canvas], None]) -> None:
        super().__init__()
        self.action = action
        self.width = self.height = 0

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        return 0, 0

    def draw(self) -> None:
        self.action(self.canv)


def page_range(pages: dict[str, int], total: int | None, key: str) -> tuple[int, int] | None:
    """The first and last page (1-based) of the part that starts at anchor ``key``; None if absent.

    Every section and every exhibit starts on a new page, so the next anchor further on marks
    where this part ends; the last part runs to the end (``total``, when known).
    """
    first = pages.get(key)
    if first is None:
        return None
    later = [page for page in pages.values() if page > first]
    last = min(later) - 1 if later else (total or first)
    return first, max(first, last)


def anchor(ctx: RenderContext, key: str, title: str, level: int) -> Hook:
    """A named destination, an outline entry, and a note of the page it landed on."""

    def act(canv: Canvas) -> None:
        canv.bookmarkPage(key)
        canv.addOutlineEntry(ctx.fonts.plain(title), key, level=level, closed=False)
        if not ctx.outline_started:
            canv.showOutline()  # open the bookmarks panel: the dossier is read by section
            ctx.outline_started = True
        ctx.pages[key] = canv.getPageNumber()

    return Hook(act)


def start_exhibit(ctx: RenderContext, exhibit: Exhibit | None) -> Hook:
    """From here on, page footers name this exhibit's original file."""

    def act(canv: Canvas) -> None:
        ctx.current_exhibit = exhibit

    return Hook(act)


# ---------------------------------------------------------------------------------------------
# Tables whose rows are links
# ---------------------------------------------------------------------------------------------


def link_row(cell: Flowable, key: str) -> Flowable:
    """Mark ``cell`` (the first cell of a row) so that the whole row links to ``key``.

    The key travels on the cell object because reportlab rebuilds split tables from their
    rows; a list on the table would be lost at a page break.
    """
    cell._ek_link = key
    return cell


def _link_of(cell: object) -> str | None:
    # reportlab stores a flowable cell as a tuple of flowables once it has been laid out.
    if isinstance(cell, list | tuple):
        return next((key for key in map(_link_of, cell) if key), None)
    return getattr(cell, "_ek_link", None)


class DossierTable(Table):
    """A table that draws nothing on the layout-only pass's canvas (its size is all that counts)."""

    def draw(self) -> None:
        if not measuring(self.canv):
            super().draw()


class LinkedTable(DossierTable):
    def draw(self) -> None:
        if measuring(self.canv):
            return
        super().draw()
        for row, top, height in zip(self._cellvalues, self._rowpositions[1:], self._rowHeights, strict=False):
            key = _link_of(row[0]) if row else None
            if key:
                # F=4 (print) is what PDF/A expects of annotations.
                self.canv.linkRect("", key, (0, top, self._width, top + height), relative=1, F=4)


def table(
    ctx: RenderContext,
    rows: list[list[Any]],
    widths: Sequence[float],
    commands: Sequence[tuple[Any, ...]] = (),
    *,
    repeat_rows: int = 0,
    linked: bool = False,
    align: str = "LEFT",
) -> Table:
    """Every table goes through here: its cell font must be ours, or reportlab selects the
    unembedded Helvetica for each cell even when all cells hold paragraphs."""
    cls = LinkedTable if linked else DossierTable
    result = cls(rows, colWidths=list(widths), repeatRows=repeat_rows, hAlign=align, splitInRow=1)
    result.setStyle(TableStyle([("FONT", (0, 0), (-1, -1), ctx.fonts.main, 8.5), *commands]))
    return result


def data_table(
    ctx: RenderContext,
    rows: list[list[Any]],
    widths: Sequence[float],
    *,
    header_rows: int = 1,
    extra: Sequence[tuple[Any, ...]] = (),
    linked: bool = False,
) -> Table:
    """A ruled table with a dark header row that repeats on every page it runs over."""
    commands: list[tuple[Any, ...]] = [
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("GRID", (0, 0), (-1, -1), 0.4, RULE),
        ("LEFTPADDING", (0, 0), (-1, -1), 4),
        ("RIGHTPADDING", (0, 0), (-1, -1), 4),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
    ]
    if header_rows:
        commands.append(("BACKGROUND", (0, 0), (-1, header_rows - 1), ACCENT))
    commands.extend(extra)
    return table(ctx, rows, widths, commands, repeat_rows=header_rows, linked=linked)


# ---------------------------------------------------------------------------------------------
# Images
# ---------------------------------------------------------------------------------------------


class Figure(Flowable):
    """A display copy fitted into ``max_width`` × ``max_height`` with its caption beneath.

    It shrinks to the space left on the page (down to ``min_fraction`` of its full size) so a
    header or a note above does not push the image to a page of its own; below that it asks
    for a fresh page. The image is drawn from its file path, never decoded here: reportlab
    passes JPEG bytes through as they are.
    """

    def __init__(
        self,
        ctx: RenderContext,
        image: DisplayImage,
        caption: Paragraph | None,
        max_width: float,
        max_height: float,
        min_fraction: float = 0.6,
        words: Sequence[Word] = (),
    ) -> None:
        super().__init__()
        self.ctx = ctx
        self.image = image
        self.words = words  # invisible text over the image (textlayer.py)
        self.caption = caption
        self.max_width = max_width
        self.max_height = max_height
        self.min_fraction = min_fraction
        self.draw_width = self.draw_height = 0.0
        self.caption_height = 0.0

    def _scale(self, width: float, height: float) -> float:
        natural_w = max(1, self.image.width) * 72 / NATURAL_DPI
        natural_h = max(1, self.image.height) * 72 / NATURAL_DPI
        return min(1.0, width / natural_w, height / natural_h)

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        self.width = min(avail_width, self.max_width)
        self.caption_height = 0.0
        if self.caption is not None:
            _, h = self.caption.wrap(self.width, avail_height)
            self.caption_height = h + 3
        full = self._scale(self.width, self.max_height)
        fitted = self._scale(self.width, min(self.max_height, avail_height - self.caption_height))
        scale = fitted if fitted >= full * self.min_fraction else full
        self.draw_width = max(1, self.image.width) * 72 / NATURAL_DPI * scale
        self.draw_height = max(1, self.image.height) * 72 / NATURAL_DPI * scale
        self.height = self.draw_height + self.caption_height
        return self.width, self.height

    def draw(self) -> None:
        canv = self.canv
        if measuring(canv):
            return  # the layout-only pass draws nothing
        x = (self.width - self.draw_width) / 2
        y = self.caption_height
        canv.drawImage(
            ContentNamedPath(self.image.path, self.image.sha256),
            x,
            y,
            self.draw_width,
            self.draw_height,
            mask="auto",
            preserveAspectRatio=False,
        )
        canv.saveState()
        canv.setStrokeColor(RULE)
        canv.setLineWidth(0.5)
        canv.rect(x, y, self.draw_width, self.draw_height, stroke=1, fill=0)
        canv.restoreState()
        if self.words:
            draw_words(canv, self.ctx.fonts, x, y, self.draw_width, self.draw_height, self.words)
        if self.caption is not None:
            self.caption.drawOn(canv, 0, 0)


# ---------------------------------------------------------------------------------------------
# Page furniture
# ---------------------------------------------------------------------------------------------


def draw_text(
    ctx: RenderContext,
    canv: Canvas,
    x: float,
    y: float,
    text: str,
    size: float,
    *,
    align: str = "left",
    max_width: float | None = None,
    mono: bool = False,
    color: colors.Color = MUTED,
) -> None:
    """Canvas text with per-run font fallback; shortened in the middle to fit ``max_width``."""
    fonts = ctx.fonts
    base = fonts.mono.name if mono else fonts.main
    if max_width is not None:
        text = ctx.fit(text, size, max_width, base)
    runs = fonts.runs(text.replace("\n", " "), base)
    widths = [fonts.run_width(piece, font, size) for font, piece in runs]
    width = sum(widths)
    if align == "right":
        x -= width
    elif align == "center":
        x -= width / 2
    canv.saveState()
    canv.setFillColor(color)
    for (font, piece), piece_width in zip(runs, widths, strict=True):
        canv.setFont(font, size)
        canv.drawString(x, y, piece)
        x += piece_width
    canv.restoreState()


def fit_text(fonts: FontSet, text: str, size: float, max_width: float, base: str | None = None) -> str:
    if fonts.string_width(text, size, base) <= max_width:
        return text
    keep_tail = 12  # the end of a file name (its extension) is what tells files apart
    head, tail = text[:-keep_tail], text[-keep_tail:]
    while head and fonts.string_width(head + "…" + tail, size, base) > max_width:
        head = head[:-1]
    return head + "…" + tail


def _running_header_footer(ctx: RenderContext, canv: Canvas) -> None:
    dossier = ctx.dossier
    page = canv.getPageNumber()
    ctx.page_count = max(ctx.page_count, page)
    if ctx.layout_only:
        return  # page furniture sits outside the frames: it moves nothing, so it need not be drawn yet
    top = PAGE_HEIGHT - 28
    right_label = dossier.target_label or "投诉证据材料"
    right_width = ctx.fonts.string_width(right_label, 8)
    draw_text(
        ctx, canv, MARGIN_X, top, dossier.title, 8.5, max_width=CONTENT_WIDTH - right_width - 20, color=ACCENT
    )
    draw_text(ctx, canv, PAGE_WIDTH - MARGIN_X, top, right_label, 8, align="right")
    canv.saveState()
    canv.setStrokeColor(RULE)
    canv.setLineWidth(0.6)
    canv.line(MARGIN_X, top - 6, PAGE_WIDTH - MARGIN_X, top - 6)
    canv.line(MARGIN_X, 34, PAGE_WIDTH - MARGIN_X, 34)
    canv.restoreState()
    total = str(ctx.total_pages) if ctx.total_pages else "?"
    draw_text(
        ctx, canv, PAGE_WIDTH / 2, 22, f"第 {page} 页 / 共 {total} 页", 8.5, align="center", color=INK_FOOT
    )
    draw_text(ctx, canv, MARGIN_X, 22, f"案件编号 {dossier.case_id}", SECONDARY_PT, max_width=CONTENT_WIDTH / 2 - 50)
    draw_text(ctx, canv, PAGE_WIDTH - MARGIN_X, 22, f"evidencekit {dossier.tool_version}", SECONDARY_PT, align="right")


def _exhibit_footer(ctx: RenderContext, canv: Canvas) -> None:
    exhibit = ctx.current_exhibit
    if exhibit is None or ctx.layout_only:
        return
    source = exhibit.source
    canv.saveState()
    canv.setStrokeColor(RULE)
    canv.setLineWidth(0.4)
    canv.line(MARGIN_X, EXHIBIT_BOTTOM_SPACE - 8, PAGE_WIDTH - MARGIN_X, EXHIBIT_BOTTOM_SPACE - 8)
    canv.restoreState()
    size = f"　大小：{format_size(source.size)}"
    size_width = ctx.fonts.string_width(size, SECONDARY_PT)
    prefix = f"{exhibit.label}　原始文件："
    prefix_width = ctx.fonts.string_width(prefix, SECONDARY_PT)
    name_room = CONTENT_WIDTH - prefix_width - size_width
    name = ctx.fit(source.name, SECONDARY_PT, name_room)
    draw_text(
        ctx, canv, MARGIN_X, EXHIBIT_BOTTOM_SPACE - 20, prefix + name + size, SECONDARY_PT, max_width=CONTENT_WIDTH
    )
    draw_text(ctx, canv, MARGIN_X, EXHIBIT_BOTTOM_SPACE - 31, "SHA-256：", SECONDARY_PT)
    draw_text(
        ctx,
        canv,
        MARGIN_X + ctx.fonts.string_width("SHA-256：", SECONDARY_PT),
        EXHIBIT_BOTTOM_SPACE - 31,
        source.sha256,
        SECONDARY_PT,
        mono=True,
    )


def continued_label(exhibit: Exhibit) -> str:
    return f"{exhibit.label}（续）"


def _continued_band(ctx: RenderContext, canv: Canvas) -> None:
    exhibit = ctx.current_exhibit
    if exhibit is None or ctx.layout_only:
        return
    top = PAGE_HEIGHT - TOP_SPACE
    canv.saveState()
    canv.setFillColor(ACCENT)
    canv.rect(MARGIN_X, top - CONTINUED_BAND_HEIGHT, CONTENT_WIDTH, CONTINUED_BAND_HEIGHT, stroke=0, fill=1)
    canv.restoreState()
    baseline = top - CONTINUED_BAND_HEIGHT + 5.5
    label = continued_label(exhibit)
    draw_text(ctx, canv, MARGIN_X + 6, baseline, label, 10, color=colors.white)
    title = exhibit.title or exhibit.source.name
    offset = 6 + ctx.fonts.string_width(label, 10) + 12
    draw_text(ctx, canv, MARGIN_X + offset, baseline, title, 9, max_width=CONTENT_WIDTH - offset - 6,
              color=colors.HexColor("#dfe6f2"))


class DossierDocTemplate(BaseDocTemplate):
    def __init__(
        self, target: str | IO[bytes], ctx: RenderContext, *, first_template: str, reproducible: bool
    ) -> None:
        dossier = ctx.dossier
        author = dossier.case.complainant.name.strip() or "evidencekit"
        keywords = [
            k
            for k in (
                "证据材料",
                dossier.problem_label,
                dossier.target_label,
                dossier.case_id,
                f"sha256:{dossier.fingerprint}",
            )
            if k
        ]
        super().__init__(
            target,
            pagesize=A4,
            leftMargin=MARGIN_X,
            rightMargin=MARGIN_X,
            topMargin=TOP_SPACE,
            bottomMargin=BOTTOM_SPACE,
            title=ctx.fonts.plain(dossier.title),
            author=ctx.fonts.plain(author),
            subject=ctx.fonts.plain(f"{dossier.problem_label or '消费'}投诉证据材料（{dossier.case_id}）"),
            keywords=[ctx.fonts.plain(k) for k in keywords],
            creator=f"evidencekit {dossier.tool_version}",
            lang="zh-CN",
            invariant=1 if reproducible else 0,
            pageCompression=1,
            # Without this reportlab puts an unused, unembedded Helvetica into every PDF.
            initialFontName=ctx.fonts.main,
            initialFontSize=9,
            displayDocTitle=1,
        )
        self.ctx = ctx

        def body_page(canv: Canvas, doc: BaseDocTemplate) -> None:
            _running_header_footer(ctx, canv)

        def exhibit_end(canv: Canvas, doc: BaseDocTemplate) -> None:
            _exhibit_footer(ctx, canv)

        def continued_page(canv: Canvas, doc: BaseDocTemplate) -> None:
            _running_header_footer(ctx, canv)
            _continued_band(ctx, canv)

        body_frame = Frame(
            MARGIN_X,
            BOTTOM_SPACE,
            CONTENT_WIDTH,
            PAGE_HEIGHT - TOP_SPACE - BOTTOM_SPACE,
            leftPadding=0,
            rightPadding=0,
            topPadding=0,
            bottomPadding=0,
            id="body",
        )
        exhibit_frame = Frame(
            MARGIN_X,
            EXHIBIT_BOTTOM_SPACE,
            CONTENT_WIDTH,
            PAGE_HEIGHT - TOP_SPACE - EXHIBIT_BOTTOM_SPACE,
            leftPadding=0,
            rightPadding=0,
            topPadding=0,
            bottomPadding=0,
            id="exhibit",
        )
        continued_frame = Frame(
            MARGIN_X,
            EXHIBIT_BOTTOM_SPACE,
            CONTENT_WIDTH,
            PAGE_HEIGHT - TOP_SPACE - EXHIBIT_BOTTOM_SPACE - CONTINUED_BAND_HEIGHT - CONTINUED_BAND_GAP,
            leftPadding=0,
            rightPadding=0,
            topPadding=0,
            bottomPadding=0,
            id="exhibit-continued",
        )
        templates = [
            PageTemplate(BODY_TEMPLATE, [body_frame], onPage=body_page),
            PageTemplate(EXHIBIT_TEMPLATE, [exhibit_frame], onPage=body_page, onPageEnd=exhibit_end),
            PageTemplate(
                EXHIBIT_CONTINUED_TEMPLATE, [continued_frame], onPage=continued_page, onPageEnd=exhibit_end
            ),
        ]
        # reportlab starts on the first template of the list.
        templates.sort(key=lambda t: t.id != first_template)
        self.addPageTemplates(templates)


def build_document(
    ctx: RenderContext,
    story: list[Flowable],
    target: Path | IO[bytes],
    *,
    first_template: str,
    reproducible: bool,
) -> None:
    """Lay ``story`` out into ``target``; on the layout-only pass nothing is drawn or written.

    The story's flowables are laid out again by the next pass, so what reportlab changes on them
    while laying out (``keepWithNext`` cleared inside the groups it forms, ``_postponed`` marks)
    is undone afterwards, the way its own ``multiBuild`` does between passes.
    """
    doc = DossierDocTemplate(
        str(target) if isinstance(target, Path) else target,
        ctx,
        first_template=first_template,
        reproducible=reproducible,
    )
    edits: list[tuple[Any, ...]] = []
    doc._multiBuildEdits = edits.append
    if ctx.layout_only:
        doc._doSave = 0  # the layout pass's PDF would be thrown away unread
    try:
        doc.build(list(story), canvasmaker=MeasureCanvas if ctx.layout_only else StreamingCanvas)
    finally:
        # Newest first: a flowable edited twice gets its original state back last.
        for undo, obj, name, *value in reversed(edits):
            if undo is delattr:
                obj.__dict__.pop(name, None)
            else:
                undo(obj, name, *value)
