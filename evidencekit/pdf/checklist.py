"""证据清单: the elements this channel requires and, for each, what the dossier shows of it.

This page goes to the recipient (merchant, platform, 12315), so it only claims: the case facts
that are filled in, and each kind of evidence with the exhibits that prove it, in the words of
``ChecklistItem.statement``. Items that are missing or weak claim nothing and are left out;
what the applicant still has to add is the self-check's business (``check``), not this page's.
"""

from __future__ import annotations

from reportlab.platypus import Flowable, Spacer

from evidencekit.model import ChecklistItem
from evidencekit.pdf.document import (
    CONTENT_WIDTH,
    RenderContext,
    anchor,
    data_table,
    exhibit_key,
    section_key,
)
from evidencekit.pdf.text import MUTED, Seg

TITLE = "证据清单"


def _exhibit_refs(ctx: RenderContext, numbers: tuple[int, ...]) -> list[str | Seg]:
    parts: list[str | Seg] = []
    for i, number in enumerate(numbers):
        if i:
            parts.append("、")
        parts.append(Seg(f"证据{number}", link=exhibit_key(number) if ctx.has_exhibit(number) else None))
    return parts


def _is_evidence(item: ChecklistItem) -> bool:
    return item.key.startswith("evidence.")


def render(ctx: RenderContext) -> list[Flowable]:
    d = ctx.dossier
    s = ctx.styles
    story: list[Flowable] = [anchor(ctx, section_key("checklist"), TITLE, 0), ctx.para(s.h1, TITLE)]
    claimed = [item for item in d.checklist if item.statement]
    facts = [item for item in claimed if not _is_evidence(item)]
    evidence = [item for item in claimed if _is_evidence(item) and item.exhibits]
    if not facts and not evidence:
        story.append(ctx.para(s.body, Seg("没有可列入清单的项目。", color=MUTED)))
        return story
    channel = f"向{d.target_label}" if d.target_label else ""
    story.append(
        ctx.para(
            s.small,
            f"就“{d.problem_label or '本问题'}”{channel}投诉所需的要件，以及本材料中证明各项的证据。",
        )
    )
    if facts:
        story.append(ctx.para(s.h2, "一、投诉要件"))
        label_width = 130
        rows = [[ctx.cell(s.cell_head, "要件"), ctx.cell(s.cell_head, "内容")]]
        rows += [[ctx.cell(s.cell, item.label), ctx.cell(s.cell, item.statement)] for item in facts]
        story.append(data_table(ctx, rows, [label_width, CONTENT_WIDTH - label_width]))
    if evidence:
        story.append(ctx.para(s.h2, "二、证据" if facts else "证据"))
        widths = [130, CONTENT_WIDTH - 130 - 100, 100]
        rows = [[ctx.cell(s.cell_head, h) for h in ("证据种类", "证明目的", "证明材料")]]
        rows += [
            [
                ctx.cell(s.cell, item.label),
                ctx.cell(s.cell, item.statement),
                ctx.cell(s.cell, *_exhibit_refs(ctx, item.exhibits)),
            ]
            for item in evidence
        ]
        story.append(data_table(ctx, rows, widths))
        story.append(Spacer(1, 4))
        count = len({n for item in evidence for n in item.exhibits})
        story.append(ctx.para(s.small, f"以上 {len(evidence)} 类证据共 {count} 份，详见证据目录。"))
    return story
