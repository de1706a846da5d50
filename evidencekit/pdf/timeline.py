"""时间线: livestream, order, payment, delivery, discovery, chats and follow-ups in order."""

from __future__ import annotations

from typing import Any

from reportlab.platypus import Flowable, Spacer

from evidencekit.model import TimelineCategory, transcript_of
from evidencekit.pdf.document import (
    CONTENT_WIDTH,
    RenderContext,
    anchor,
    data_table,
    exhibit_key,
    link_row,
    section_key,
)
from evidencekit.pdf.text import ALERT, ALERT_PALE, LINK, MUTED, Seg, format_when

TITLE = "时间线"

CATEGORY_LABELS: dict[TimelineCategory, str] = {
    TimelineCategory.LIVESTREAM: "直播",
    TimelineCategory.ORDER: "下单",
    TimelineCategory.PAYMENT: "支付",
    TimelineCategory.DELIVERY: "物流",
    TimelineCategory.DISCOVERY: "发现问题",
    TimelineCategory.CHAT: "沟通",
    TimelineCategory.EVENT: "跟进",
    TimelineCategory.EXHIBIT: "证据",
    TimelineCategory.MOMENT: "录制内容",
}


def render(ctx: RenderContext) -> list[Flowable]:
    d = ctx.dossier
    s = ctx.styles
    story: list[Flowable] = [anchor(ctx, section_key("timeline"), TITLE, 0), ctx.para(s.h1, TITLE)]
    if not d.timeline:
        story.append(ctx.para(s.body, Seg("没有可排入时间线的事件。", color=MUTED)))
        return story

    widths = [98, 52, CONTENT_WIDTH - 98 - 52 - 50, 50]
    rows: list[list[Flowable]] = [[ctx.cell(s.cell_head, h) for h in ("时间", "类别", "事项", "证据")]]
    extra: list[tuple[Any, ...]] = []
    for i, entry in enumerate(d.timeline, start=1):
        event: list[str | Seg] = [entry.label]
        if entry.flag:
            event += ["\n", Seg(f"【提醒】{entry.flag}", color=ALERT)]
            extra.append(("BACKGROUND", (0, i), (-1, i), ALERT_PALE))
        when = ctx.cell(s.cell, format_when(entry.time, entry.has_seconds))
        if entry.exhibit is not None and ctx.has_exhibit(entry.exhibit):
            link_row(when, exhibit_key(entry.exhibit))
            ref = ctx.cell(s.cell_center, Seg(f"证据{entry.exhibit}", color=LINK))
        elif entry.exhibit is not None:
            ref = ctx.cell(s.cell_center, f"证据{entry.exhibit}")
        else:
            ref = ctx.cell(s.cell_center, Seg("—", color=MUTED))
        rows.append(
            [
                when,
                ctx.cell(s.cell, CATEGORY_LABELS[entry.category]),
                ctx.cell(s.cell, *event),
                ref,
            ]
        )
    story.append(data_table(ctx, rows, widths, extra=extra, linked=True))
    for ex in d.exhibits:
        transcript = transcript_of(ex.inspection)
        if transcript is not None and transcript.shown is not None and transcript.shown < len(transcript.messages):
            story.append(Spacer(1, 4))
            story.append(
                ctx.para(
                    s.small,
                    f"{ex.label}的聊天记录共 {len(transcript.messages)} 条，时间线只列出证据页上显示的前 "
                    f"{transcript.shown} 条（最后一条未获回复的消息在此之后时，也一并列出）。",
                )
            )
    flagged = sum(1 for entry in d.timeline if entry.flag)
    if flagged:
        story.append(Spacer(1, 4))
        story.append(
            ctx.para(s.small, Seg(f"标红的 {flagged} 项需要注意（例如商家逾期未回复）。", color=ALERT))
        )
    return story
