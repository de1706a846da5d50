"""证据清单: each required or supporting item present / missing / weak, with the reason."""

from __future__ import annotations

from reportlab.platypus import Flowable, Spacer

from evidencekit.model import Severity, Status
from evidencekit.pdf.document import (
    CONTENT_WIDTH,
    RenderContext,
    anchor,
    data_table,
    exhibit_key,
    section_key,
)
from evidencekit.pdf.text import ALERT, ALERT_PALE, MUTED, OK, OK_PALE, SECONDARY_PT, WARN, WARN_PALE, Seg

TITLE = "证据清单"

STATUS_COLORS = {
    Status.PRESENT: (OK, OK_PALE),
    Status.MISSING: (ALERT, ALERT_PALE),
    Status.WEAK: (WARN, WARN_PALE),
}
SEVERITY_HEADINGS = {
    Severity.ERROR: "必须处理的问题",
    Severity.WARNING: "需要注意的问题",
    Severity.INFO: "提示",
}


def _exhibit_refs(ctx: RenderContext, numbers: tuple[int, ...]) -> list[str | Seg]:
    parts: list[str | Seg] = []
    for i, number in enumerate(numbers):
        if i:
            parts.append("、")
        parts.append(Seg(f"证据{number}", link=exhibit_key(number) if ctx.has_exhibit(number) else None))
    return parts or [Seg("—", color=MUTED)]


def render(ctx: RenderContext) -> list[Flowable]:
    d = ctx.dossier
    s = ctx.styles
    story: list[Flowable] = [anchor(ctx, section_key("checklist"), TITLE, 0), ctx.para(s.h1, TITLE)]
    target = f"（提交渠道：{d.target_label}）" if d.target_label else ""
    story.append(
        ctx.para(
            s.small,
            f"针对“{d.problem_label or '本问题'}”{target}需要和建议准备的材料，以及本材料中的对应情况。",
        )
    )
    story.append(Spacer(1, 6))

    if d.checklist:
        widths = [44, 112, 40, CONTENT_WIDTH - 44 - 112 - 40 - 70, 70]
        rows = [[ctx.cell(s.cell_head, h) for h in ("状态", "项目", "类别", "说明", "相关证据")]]
        extra = []
        for i, item in enumerate(d.checklist, start=1):
            ink, pale = STATUS_COLORS[item.status]
            rows.append(
                [
                    ctx.cell(s.cell_center, Seg(item.status.label, color=ink)),
                    ctx.cell(s.cell, item.label),
                    ctx.cell(s.cell, "必需" if item.required else "补充"),
                    ctx.cell(s.cell, item.reason),
                    ctx.cell(s.cell, *_exhibit_refs(ctx, item.exhibits)),
                ]
            )
            extra.append(("BACKGROUND", (0, i), (0, i), pale))
        story.append(data_table(ctx, rows, widths, extra=extra))
        present = sum(1 for item in d.checklist if item.status is Status.PRESENT)
        missing_required = sum(1 for item in d.checklist if item.required and item.status is Status.MISSING)
        story.append(Spacer(1, 4))
        story.append(
            ctx.para(
                s.small,
                f"共 {len(d.checklist)} 项：已具备 {present} 项，缺少的必需项 {missing_required} 项。",
            )
        )
    else:
        story.append(ctx.para(s.body, Seg("没有适用的清单项目。", color=MUTED)))

    if d.findings:
        story.append(ctx.para(s.h2, "检查发现"))
        for severity in (Severity.ERROR, Severity.WARNING, Severity.INFO):
            group = [f for f in d.findings if f.severity is severity]
            if not group:
                continue
            ink = {Severity.ERROR: ALERT, Severity.WARNING: WARN, Severity.INFO: MUTED}[severity]
            story.append(ctx.para(s.body, Seg(f"{SEVERITY_HEADINGS[severity]}（{len(group)}）", color=ink)))
            for finding in group:
                parts: list[str | Seg] = ["• ", finding.message]
                if finding.subject:
                    parts.append(Seg(f"（{finding.subject}）", color=MUTED, size=SECONDARY_PT))
                story.append(ctx.para(s.body, *parts))
            story.append(Spacer(1, 4))
    return story
