"""Dossier → PDF file. The only public entry point of evidencekit.pdf.

The index must print the page on which each exhibit starts, which is only known after layout.
So the story is laid out once without drawing anything (cheap) to learn the pages and the page
total, then again for real with those numbers filled in; if filling them in moved anything, once
more. Only the sections that print page numbers are made anew for each pass: every other
flowable is laid out again as it is, and remembers its line breaks (text.DossierParagraph), so
the real pass spends its time drawing rather than wrapping text a second time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from io import BytesIO
from pathlib import Path

from reportlab.platypus import Flowable, NextPageTemplate, PageBreak
from reportlab.platypus.doctemplate import LayoutError

from evidencekit.errors import InternalError
from evidencekit.model import Dossier, Finding
from evidencekit.pdf import appendix, checklist, cover, exhibits, index, linecache, summary, timeline
from evidencekit.pdf.document import (
    BODY_TEMPLATE,
    EXHIBIT_TEMPLATE,
    RenderContext,
    build_document,
    exhibit_key,
    page_range,
    section_key,
)
from evidencekit.pdf.fonts import load_fonts
from evidencekit.pdf.text import Styles
from evidencekit.rules.ocr_fields import TextBox

Section = Callable[[RenderContext], list[Flowable]]

SECTIONS: dict[str, Section] = {
    "cover": cover.render,
    "summary": summary.render,
    "checklist": checklist.render,
    "index": index.render,
    "timeline": timeline.render,
    "exhibits": exhibits.render,
    "appendix": appendix.render,
}

MAX_PASSES = 4


@dataclass(frozen=True)
class RenderResult:
    page_count: int
    exhibit_pages: dict[int, int]  # exhibit number -> the page it starts on
    exhibit_ranges: dict[int, tuple[int, int]]  # exhibit number -> (first, last) page, 1-based
    section_pages: dict[str, int]  # section name (Dossier.section_order) -> the page it starts on
    findings: tuple[Finding, ...]  # e.g. characters no font could draw
    pages: dict[str, int] = field(default_factory=dict)  # every anchor -> page: a hint for next time


def _template_for(section: str) -> str:
    return EXHIBIT_TEMPLATE if section == "exhibits" else BODY_TEMPLATE


# Sections whose flowables print what the previous pass found out (page numbers): they are made
# anew for every pass. All others are made once and laid out again as they are.
PAGE_DEPENDENT_SECTIONS = frozenset({"index"})


def build_story(ctx: RenderContext) -> tuple[list[Flowable], str]:
    """The whole document as flowables, and the page template its first page uses."""
    order = ctx.dossier.section_order
    unknown = [name for name in order if name not in SECTIONS]
    if unknown:
        raise InternalError(f"未知的材料章节：{', '.join(unknown)}")
    story: list[Flowable] = []
    for i, name in enumerate(order):
        if i:
            # Every section starts on a fresh page: the index's page ranges rely on it.
            story += [NextPageTemplate(_template_for(name)), PageBreak()]
        if name in PAGE_DEPENDENT_SECTIONS:
            story += SECTIONS[name](ctx)
        else:
            story += ctx.once(("section", name), partial(SECTIONS[name], ctx))
    first = _template_for(order[0]) if order else BODY_TEMPLATE
    return story, first


def _layout(ctx: RenderContext, target: Path | BytesIO, *, reproducible: bool) -> None:
    story, first = build_story(ctx)
    try:
        build_document(ctx, story, target, first_template=first, reproducible=reproducible)
    except LayoutError as exc:
        raise InternalError(f"PDF 排版失败：{exc}", hint="请用 --debug 重新运行并报告此问题。") from exc


def prepare_render(font_path: Path | None) -> None:
    """What every render needs first and keeps: this module's imports (done by importing it)
    and the parsed fonts (fonts.load_fonts caches them for the process)."""
    load_fonts(font_path)


def render_dossier(
    dossier: Dossier,
    out_path: Path,
    *,
    reproducible: bool = False,
    page_hint: tuple[dict[str, int], int] | None = None,
    text_boxes: Mapping[int, Sequence[TextBox]] | None = None,
    cache_root: Path | None = None,
) -> RenderResult:
    """Write the dossier PDF to ``out_path`` (a temporary path the caller moves into place).

    Page numbers (index, links, 共 M 页) need the layout before they are known, so normally a
    measuring pass comes first. ``page_hint`` — the pages and page count of the last build of the
    same case (``RenderResult.pages``) — lets a rebuild start with the real pass instead; the
    numbers are checked after it and the pass repeated if anything moved, so a stale hint costs
    time, never correctness. ``text_boxes`` (OCR's, by exhibit number) become an invisible
    text layer over each screenshot. ``cache_root``: the build's cache folder, where the line
    breaks of the last build are kept (linecache.py).
    """
    fonts = load_fonts(dossier.font_path)
    # One context for all passes: it keeps the flowables that do not depend on page numbers, and
    # the findings of making them (fonts and renderer alike), which later passes do not repeat.
    ctx = RenderContext(dossier=dossier, fonts=fonts, styles=Styles(fonts), text_boxes=text_boxes or {})
    lines = linecache.load(linecache.cache_file([ex.source.sha256 for ex in dossier.exhibits], cache_root))
    with linecache.using(lines):
        if page_hint is None:
            ctx.begin_pass({}, None, layout_only=True)
            _layout(ctx, BytesIO(), reproducible=reproducible)
            known, total = dict(ctx.pages), ctx.page_count
        else:
            known, total = dict(page_hint[0]), page_hint[1]
        for _ in range(MAX_PASSES):
            ctx.begin_pass(known, total, layout_only=False)
            _layout(ctx, out_path, reproducible=reproducible)
            if ctx.pages == known and ctx.page_count == total:
                break
            known, total = dict(ctx.pages), ctx.page_count
        else:
            raise InternalError("PDF 页码在多次排版后仍不稳定。", hint="请用 --debug 重新运行并报告此问题。")
    exhibit_pages = {ex.number: ctx.pages[exhibit_key(ex.number)] for ex in dossier.exhibits}
    return RenderResult(
        page_count=ctx.page_count,
        exhibit_pages=exhibit_pages,
        exhibit_ranges={n: span for n in exhibit_pages
                        if (span := page_range(ctx.pages, ctx.page_count, exhibit_key(n))) is not None},
        section_pages={name: ctx.pages[section_key(name)] for name in dossier.section_order
                       if section_key(name) in ctx.pages},
        findings=tuple(ctx.findings) + fonts.findings(),
        pages=dict(ctx.pages),
    )
