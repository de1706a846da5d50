"""证据目录: one linked row per exhibit with its real page numbers, then the files left out."""

from __future__ import annotations

from reportlab.platypus import Flowable, KeepTogether, Spacer

from evidencekit.media.moments import format_timecode
from evidencekit.model import AudioInspection, Exhibit, PdfInspection, VideoInspection
from evidencekit.pdf.document import (
    CONTENT_WIDTH,
    RenderContext,
    anchor,
    data_table,
    exhibit_key,
    link_row,
    section_key,
    table,
)
from evidencekit.pdf.text import INK, LINK, MUTED, SECONDARY_PT, WARN, Seg, break_name
from evidencekit.rules.catalog import load_rules

TITLE = "证据目录"
SECONDARY_SIZE = 9.0  # the time phrase under each time: secondary, yet read with the time
COLUMNS = ("序号", "证据名称", "证据来源", "证明目的", "时间（来源）", "页码")
WIDTHS = (42, 118, 70, 120, 115, CONTENT_WIDTH - 42 - 118 - 70 - 120 - 115)


def _extent(exhibit: Exhibit) -> str:
    """How much there is, on a line of its own: a PDF's page count, a recording's length (the 份数/页数
    of a 证据目录)."""
    match exhibit.inspection:
        case PdfInspection(page_count=pages) if pages:
            return f"\n共 {pages} 页"
        case VideoInspection(duration=duration) | AudioInspection(duration=duration) if duration is not None:
            return f"\n时长 {format_timecode(duration)}"
    return ""


def _row(ctx: RenderContext, exhibit: Exhibit) -> list[Flowable | list[Flowable]]:
    d = ctx.dossier
    s = ctx.styles
    kind = exhibit.kind.value
    source = d.kind_sources.get(kind) or d.kind_labels.get(kind) or "申请人提供"
    stamp = exhibit.stamp
    phrases = load_rules().time_sources
    when: list[str | Seg] = [stamp.format_time()]
    if stamp.time is not None:  # what the time is and why (templates/time_sources.yaml)
        when += ["\n", Seg(phrases.phrase_for(stamp), color=WARN if stamp.source.weak else MUTED,
                           size=SECONDARY_SIZE)]
    if detail := phrases.shown_detail(stamp):
        when += ["\n", Seg(detail, color=MUTED, size=SECONDARY_PT)]
    key = exhibit_key(exhibit.number)

    def cells() -> list[Flowable | list[Flowable]]:
        return [
            link_row(ctx.cell(s.cell, Seg(exhibit.label, color=LINK)), key),
            [
                ctx.cell(s.cell, exhibit.title or exhibit.source.name),
                ctx.cell(s.cell_small, f"{d.kind_labels.get(kind, kind)}{_extent(exhibit)}"),
                ctx.cell(s.cell_small, break_name(ctx.fonts, exhibit.source.name, s.cell_small.fontSize,
                                                  WIDTHS[1] - 8)),
            ],
            ctx.cell(s.cell, source),
            ctx.cell(s.cell, exhibit.proves or "—"),
            ctx.cell(s.cell, *when),
        ]

    # Known only after the first layout pass; the column is wide enough for any page range, so
    # filling it in does not move anything. Only this cell is made anew for each pass.
    pages = ctx.exhibit_pages(exhibit.number)
    return [*ctx.once(("index-row", exhibit.number), cells), ctx.cell(s.cell_center, Seg(pages, color=LINK))]


def render(ctx: RenderContext) -> list[Flowable]:
    d = ctx.dossier
    s = ctx.styles
    story: list[Flowable] = [anchor(ctx, section_key("index"), TITLE, 0), ctx.para(s.h1, TITLE)]
    if d.exhibits:
        rows: list[list[Flowable | list[Flowable]]] = [[ctx.cell(s.cell_head, c) for c in COLUMNS]]
        rows += [_row(ctx, exhibit) for exhibit in d.exhibits]
        story.append(data_table(ctx, rows, WIDTHS, linked=True))
        story.append(Spacer(1, 4))
        story.append(
            ctx.para(
                s.small,
                "点击任一行可跳转到该证据。时间下方写明这是什么时间、依据什么得出，再下一行是具体依据；"
                "各种时间来源的强弱和含义见完整性附录中的「时间来源说明」。文件修改时间较弱，仅供参考。",
            )
        )
    else:
        story.append(ctx.para(s.body, Seg("案件文件夹中没有可列入目录的证据文件。", color=MUTED)))

    if d.refused:
        story.append(ctx.para(s.h2, "未纳入的文件"))
        story.append(
            ctx.para(
                s.small, "以下文件位于证据文件夹中，但出于安全或格式原因没有读取，也没有列入上面的目录："
            )
        )
        story.append(Spacer(1, 4))
        rows = [[ctx.cell(s.cell_head, "文件"), ctx.cell(s.cell_head, "原因")]]
        rows += [[ctx.cell(s.cell, item.rel_path), ctx.cell(s.cell, item.reason)] for item in d.refused]
        story.append(data_table(ctx, rows, [CONTENT_WIDTH * 0.45, CONTENT_WIDTH * 0.55]))
    story.append(_submitter(ctx))
    return story


def _submitter(ctx: RenderContext) -> Flowable:
    """The end of a submitted evidence list: who submits it, their signature and the date
    (最高人民法院关于民事诉讼证据的若干规定 第十九条). Signature and date are left for the pen."""
    s = ctx.styles
    name = ctx.dossier.case.complainant.name.strip()
    blank = "\u00a0" * 16
    gap = "\u00a0" * 5
    rows = [
        [
            ctx.cell(s.body, "提交人：", name or Seg(blank, color=MUTED)),
            ctx.cell(s.body, "签名：", Seg(blank, color=MUTED)),
            ctx.cell(s.body, f"提交日期：{gap}年{gap}月{gap}日"),
        ]
    ]
    third = CONTENT_WIDTH / 3
    return KeepTogether([
        Spacer(1, 10),
        table(
            ctx,
            rows,
            [third, third, third],
            [
                ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
                ("LINEBELOW", (1, 0), (1, 0), 0.6, INK),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 8),
            ],
        ),
    ])
