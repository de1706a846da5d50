"""投诉要点: the five elements an official looks for, the legal basis, the statutory amounts."""

from __future__ import annotations

from collections import Counter

from reportlab.platypus import Flowable, Spacer

from evidencekit.pdf.cover import platform_label
from evidencekit.pdf.document import CONTENT_WIDTH, RenderContext, anchor, data_table, section_key
from evidencekit.pdf.text import ACCENT, ALERT, MUTED, Seg, format_amount, format_when

TITLE = "投诉要点"


def _order_facts(ctx: RenderContext) -> str:
    case = ctx.dossier.case
    order = case.order
    live = case.livestream
    lines = [
        f"订单编号：{order.number or '未填写'}",
        f"商品：{order.product or '未填写'}" + (f"（{order.spec}）" if order.spec else ""),
    ]
    if order.quantity is not None:
        lines.append(f"数量：{order.quantity}")
    lines.append(f"实付金额：{format_amount(order.amount) if order.amount is not None else '未填写'}")
    if order.time is not None:
        lines.append(f"下单时间：{format_when(order.time)}")
    if order.signed_at is not None:
        lines.append(f"签收时间：{format_when(order.signed_at)}")
    if order.confirmed_receipt is not None:
        lines.append("已确认收货" if order.confirmed_receipt else "尚未确认收货")
    lines.append(f"购物平台：{platform_label(ctx.dossier)}")
    if live.room or live.host:
        room = live.room or "未填写"
        if live.host:
            room += f"（主播 {live.host}）"
        if live.time is not None:
            room += f"，直播时间 {format_when(live.time)}"
        lines.append(f"直播间：{room}")
    return "\n".join(lines)


def _evidence_counts(ctx: RenderContext) -> str:
    d = ctx.dossier
    counts = Counter(ex.kind.value for ex in d.exhibits)
    order = [ex.kind.value for ex in d.exhibits]
    kinds = sorted(counts, key=order.index)
    parts = [f"{d.kind_labels.get(kind, kind)} {counts[kind]} 份" for kind in kinds]
    text = f"共 {len(d.exhibits)} 份" + ("：" + "、".join(parts) if parts else "")
    if d.refused:
        text += f"\n另有 {len(d.refused)} 个文件未纳入，原因见证据目录。"
    return text


def render(ctx: RenderContext) -> list[Flowable]:
    d = ctx.dossier
    s = ctx.styles
    problem = d.case.problem
    story: list[Flowable] = [anchor(ctx, section_key("summary"), TITLE, 0), ctx.para(s.h1, TITLE)]

    situation = "\n".join(t for t in (problem.summary.strip(), problem.details.strip()) if t) or "未填写"
    if problem.discovered_at is not None:
        situation += f"\n发现问题时间：{format_when(problem.discovered_at)}"
    # The urgency is the applicant's planning aid (their self-check), not a fact for the recipient.
    problem_type = d.problem_label or problem.type or "未填写"
    elements = [
        ("一、订单信息", _order_facts(ctx)),
        ("二、问题类型", problem_type),
        ("三、具体情况", situation),
        ("四、证据材料", _evidence_counts(ctx)),
        ("五、诉求", "、".join(d.claim_labels) if d.claim_labels else "未填写"),
    ]
    label_width = 80
    # No header row: 具体情况 may run over pages (split inside the row), and a repeated header
    # would then land in the middle of it.
    rows = [[ctx.cell(s.cell, Seg(label, color=ACCENT)), ctx.para(s.body, text)] for label, text in elements]
    story.append(data_table(ctx, rows, [label_width, CONTENT_WIDTH - label_width], header_rows=0))

    story.append(ctx.para(s.h2, "法律依据"))
    if d.legal:
        for basis in d.legal:
            story.append(ctx.para(s.body, "• ", Seg(f"{basis.law}{basis.article}"), "：", basis.summary))
    else:
        story.append(ctx.para(s.body, Seg("本问题类型没有对应的法律依据条目。", color=MUTED)))

    if d.amounts:
        story.append(ctx.para(s.h2, "法定赔偿金额"))
        widths = [150, 80, CONTENT_WIDTH - 230]
        rows = [[ctx.cell(s.cell_head, "依据"), ctx.cell(s.cell_head, "金额"), ctx.cell(s.cell_head, "计算")]]
        for amount in d.amounts:
            rows.append(
                [
                    ctx.cell(s.cell, f"{amount.law}{amount.article}"),
                    ctx.cell(s.cell, Seg(format_amount(amount.amount), color=ALERT)),
                    ctx.cell(s.cell, amount.arithmetic),
                ]
            )
        story.append(data_table(ctx, rows, widths))
        story.append(Spacer(1, 4))
        story.append(
            ctx.para(
                s.small, "以上金额按法律规定的倍数和最低额计算，供提出诉求时参考；最终以处理机关认定为准。"
            )
        )
    return story
