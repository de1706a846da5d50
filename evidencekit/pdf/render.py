"""Dossier → PDF file. The only public entry point of evidencekit.pdf.

The index must print the page on which each exhibit starts, which is only known after layout.
So the story is laid out once without images (cheap) to learn the pages and the page total,
then again for real with those numbers filled in; if filling them in moved anything, once more.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

from reportlab.platypus import Flowable, NextPageTemplate, PageBreak
from reportlab.platypus.doctemplate import LayoutError

from evidencekit.errors import InternalError
from evidencekit.model import Dossier, Finding
from evidencekit.pdf import appendix, checklist, cover, exhibits, index, summary, timeline
from evidencekit.pdf.document import (
    BODY_TEMPLATE,
    EXHIBIT_TEMPLATE,
    RenderContext,
    build_document,
    exhibit_key,
)
from evidencekit.pdf.fonts import FontSet, load_fonts
from evidencekit.pdf.text import Styles

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
    findings: tuple[Finding, ...]  # e.g. characters no font could draw


def _template_for(section: str) -> str:
    return EXHIBIT_TEMPLATE if section == "exhibits" else BODY_TEMPLATE


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
        story += SECTIONS[name](ctx)
    first = _template_for(order[0]) if order else BODY_TEMPLATE
    return story, first


def _layout(
    dossier: Dossier,
    fonts: FontSet,
    target: Path | BytesIO,
    *,
    known: dict[str, int],
    total: int | None,
    layout_only: bool,
    reproducible: bool,
) -> RenderContext:
    fonts.reset_findings()
    ctx = RenderContext(
        dossier=dossier,
        fonts=fonts,
        styles=Styles(fonts),
        known_pages=known,
        total_pages=total,
        layout_only=layout_only,
    )
    story, first = build_story(ctx)
    try:
        build_document(ctx, story, target, first_template=first, reproducible=reproducible)
    except LayoutError as exc:
        raise InternalError(f"PDF 排版失败：{exc}", hint="请用 --debug 重新运行并报告此问题。") from exc
    return ctx


def render_dossier(dossier: Dossier, out_path: Path, *, reproducible: bool = False) -> RenderResult:
    """Write the dossier PDF to ``out_path`` (a temporary path the caller moves into place)."""
    fonts = load_fonts(dossier.font_path)
    ctx = _layout(
        dossier, fonts, BytesIO(), known={}, total=None, layout_only=True, reproducible=reproducible
    )
    for _ in range(MAX_PASSES - 1):
        known, total = dict(ctx.pages), ctx.page_count
        ctx = _layout(
            dossier, fonts, out_path, known=known, total=total, layout_only=False, reproducible=reproducible
        )
        if ctx.pages == known and ctx.page_count == total:
            break
    else:
        raise InternalError("PDF 页码在多次排版后仍不稳定。", hint="请用 --debug 重新运行并报告此问题。")
    exhibit_pages = {ex.number: ctx.pages[exhibit_key(ex.number)] for ex in dossier.exhibits}
    return RenderResult(
        page_count=ctx.page_count,
        exhibit_pages=exhibit_pages,
        findings=tuple(ctx.findings) + fonts.findings(),
    )
