"""Cover: who complains about whom, over which order, and how to recognise this dossier.

Facts only: the urgency of the problem type is the applicant's planning aid and stays in their
self-check.
"""

from __future__ import annotations

from reportlab.platypus import Flowable, Spacer

from evidencekit.model import Dossier
from evidencekit.pdf.document import CONTENT_WIDTH, RenderContext, anchor, section_key, table
from evidencekit.pdf.text import MUTED, RULE, Seg, format_amount, format_when_zoned


def platform_label(d: Dossier) -> str:
    """The platform's name from templates/platforms.yaml (via the dossier), or 未填写."""
    return d.platform_label or "未填写"


def _joined(*parts: str, sep: str = "，") -> str:
    text = sep.join(p.strip() for p in parts if p and p.strip())
    return text or "未填写"


def render(ctx: RenderContext) -> list[Flowable]:
    d = ctx.dossier
    case = d.case
    s = ctx.styles
    story: list[Flowable] = [anchor(ctx, section_key("cover"), "封面", 0), Spacer(1, 60)]
    story.append(ctx.para(s.title, d.title or "投诉证据材料"))
    if d.target_label:
        story.append(ctx.para(s.subtitle, f"提交渠道：{d.target_label}"))
    story.append(Spacer(1, 18))
    complainant = case.complainant
    merchant = case.merchant
    live = case.livestream
    room = _joined(
        live.room, f"主播 {live.host}" if live.host else "", f"房间号 {live.room_id}" if live.room_id else ""
    )
    facts: list[tuple[str, str]] = [
        ("投诉人", _joined(complainant.name, complainant.phone, complainant.address)),
        (
            "被投诉人",
            _joined(
                merchant.shop_name,
                merchant.company,
                f"统一社会信用代码 {merchant.credit_code}" if merchant.credit_code else "",
                merchant.address,
            ),
        ),
        ("订单编号", case.order.number or "未填写"),
        ("商品", _joined(case.order.product, case.order.spec)),
        ("实付金额", format_amount(case.order.amount) if case.order.amount is not None else "未填写"),
        ("购物平台", platform_label(d)),
        ("直播间", room),
        ("问题类型", d.problem_label or case.problem.type or "未填写"),
        ("编制时间", format_when_zoned(d.generated_at)),
        ("案件编号", d.case_id),
    ]
    label_width = 78
    rows = [[ctx.cell(s.cell, Seg(label, color=MUTED)), ctx.cell(s.body, value)] for label, value in facts]
    rows.append(
        [ctx.cell(s.cell, Seg("材料指纹", color=MUTED)), ctx.para(s.mono, f"SHA-256 {d.fingerprint}")]
    )
    story.append(
        table(
            ctx,
            rows,
            [label_width, CONTENT_WIDTH - label_width - 40],
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, -1), 0.4, RULE),
                ("TOPPADDING", (0, 0), (-1, -1), 5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
            ],
            align="CENTER",
        )
    )
    story.append(Spacer(1, 30))
    story.append(
        ctx.para(
            s.small,
            "本材料由 evidencekit 根据申请人提供的原始文件自动整理。每份证据都记录了原始文件名、大小、"
            "SHA-256 哈希值以及时间和时间来源；原始文件从未被修改。材料指纹是完整性附录中文件清单的"
            "SHA-256 值，可用于确认本材料未被改动。",
        )
    )
    return story
