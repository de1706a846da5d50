"""完整性附录: the manifest, what display copies changed, and how anyone can check a hash."""

from __future__ import annotations

from typing import Any

from reportlab.platypus import Flowable, Spacer

from evidencekit.model import (
    DisplayImage,
    Dossier,
    Exhibit,
    ImageInspection,
    PdfInspection,
    TimeSource,
    VideoInspection,
)
from evidencekit.pdf.document import CONTENT_WIDTH, RenderContext, anchor, data_table, section_key
from evidencekit.pdf.text import (
    MUTED,
    WARN,
    Seg,
    break_name,
    format_size_lines,
    format_when_zoned,
)
from evidencekit.rules.catalog import load_rules

TITLE = "完整性附录"

HASH_COMMANDS = (
    ("Windows（命令提示符）", "certutil -hashfile 文件名 SHA256"),
    ("macOS（终端）", "shasum -a 256 文件名"),
    ("Linux（终端）", "sha256sum 文件名"),
    ("evidencekit", "evidencekit verify 证据材料.pdf"),
)


def _display_copies(exhibit: Exhibit) -> list[tuple[str, DisplayImage]]:
    match exhibit.inspection:
        case ImageInspection(images=images) | PdfInspection(images=images):
            return [(img.caption or f"第 {i} 张", img) for i, img in enumerate(images, start=1)]
        case VideoInspection(frames=frames):
            return [(f"画面 {i}", frame.image) for i, frame in enumerate(frames, start=1)]
    return []


def _image_inspections(d: Dossier) -> list[tuple[Exhibit, ImageInspection]]:
    """Photos and screenshots: the only kind that is redacted or loses metadata in its copy."""
    return [(e, e.inspection) for e in d.exhibits if isinstance(e.inspection, ImageInspection)]


def _time_sources(ctx: RenderContext) -> list[Flowable]:
    """时间来源说明: every source, its strength and what it means (templates/time_sources.yaml)."""
    s = ctx.styles
    table = load_rules().time_sources
    story: list[Flowable] = [Spacer(1, 6), ctx.para(
        s.body, "时间来源说明：每项证据的时间按下表从上到下，取第一个能读出的来源；"
        "页眉和证据目录中时间旁边的说法即下表第二列。")]
    rows: list[list[Any]] = [[ctx.cell(s.cell_head, h) for h in ("时间来源", "页面上的说法", "强弱", "含义")]]
    for source in TimeSource:
        entry = table.entry(source)
        strength = table.strength_label(source)
        rows.append([
            ctx.cell(s.cell, entry.label),
            ctx.cell(s.cell, entry.phrase),
            ctx.cell(s.cell, Seg(strength, color=WARN) if entry.strength == "weak" else strength),
            ctx.cell(s.cell_small, entry.meaning),
        ])
    story.append(Spacer(1, 4))
    story.append(data_table(ctx, rows, [64, 130, 30, CONTENT_WIDTH - 224]))
    return story


def _hash_width(ctx: RenderContext) -> float:
    """A column that holds a SHA-256 on one line (with data_table's cell padding)."""
    mono = ctx.styles.mono
    return ctx.fonts.string_width("0" * 64, mono.fontSize, mono.fontName) + 10


def render(ctx: RenderContext) -> list[Flowable]:
    d = ctx.dossier
    s = ctx.styles
    story: list[Flowable] = [anchor(ctx, section_key("appendix"), TITLE, 0), ctx.para(s.h1, TITLE)]

    story.append(ctx.para(s.h2, "一、原始文件清单"))
    story.append(
        ctx.para(
            s.small, "SHA-256 是对原始文件逐字节计算的哈希值；文件只要改动一个字节，哈希值就会完全不同。"
        )
    )
    story.append(Spacer(1, 4))
    # Each file takes two rows: name, size and time source, then its SHA-256 on one unbroken line.
    widths = [44, CONTENT_WIDTH - 44 - 92 - 92, 92, 92]
    rows: list[list[Any]] = [[ctx.cell(s.cell_head, h) for h in ("证据号", "原始文件", "大小", "时间来源")]]
    spans: list[tuple[Any, ...]] = []
    name_width = widths[1] - 8  # data_table's cell padding
    for exhibit in d.exhibits:
        stamp = exhibit.stamp
        rows.append(
            [
                ctx.cell(s.cell, exhibit.label),
                ctx.cell(s.cell, break_name(ctx.fonts, exhibit.source.rel_path, s.cell.fontSize, name_width)),
                ctx.cell(s.cell, format_size_lines(exhibit.source.size)),
                ctx.cell(
                    s.cell,
                    stamp.source.label if stamp.time is not None else "无",
                    Seg("（较弱）", color=WARN) if stamp.source.weak else "",
                ),
            ]
        )
        rows.append(["", ctx.para(s.mono, f"SHA-256 {exhibit.source.sha256}"), "", ""])
        last = len(rows) - 1
        spans += [("SPAN", (0, last - 1), (0, last)), ("SPAN", (1, last), (3, last))]
    if d.exhibits:
        story.append(data_table(ctx, rows, widths, extra=spans))
    else:
        story.append(ctx.para(s.body, Seg("没有证据文件。", color=MUTED)))

    story += _time_sources(ctx)

    redacted = [e for e, insp in _image_inspections(d) if insp.redacted]
    story.append(ctx.para(s.h2, "二、显示副本"))
    story.append(
        ctx.para(
            s.body,
            "PDF 中显示的图片是按页面大小缩小的显示副本，原始文件本身没有任何改动。",
            "按案件文件中 redact 声明遮挡了部分区域的显示副本与原件内容不同，其哈希值列在下表。"
            if redacted
            else "本材料没有按声明遮挡的显示副本。",
        )
    )
    if redacted:
        story.append(Spacer(1, 4))
        rows = [[ctx.cell(s.cell_head, h) for h in ("证据号", "显示副本", "显示副本 SHA-256")]]
        for exhibit in redacted:
            for label, image in _display_copies(exhibit):
                rows.append(
                    [ctx.cell(s.cell, exhibit.label), ctx.cell(s.cell, label), ctx.para(s.mono, image.sha256)]
                )
        hash_width = _hash_width(ctx)
        story.append(data_table(ctx, rows, [44, CONTENT_WIDTH - 44 - hash_width, hash_width]))

    story.append(ctx.para(s.h2, "三、显示副本中移除的元数据"))
    stripped = [(e, insp.removed_metadata) for e, insp in _image_inspections(d) if insp.removed_metadata]
    if stripped:
        story.append(
            ctx.para(
                s.body,
                "为保护隐私，显示副本删除了以下元数据（如 GPS 定位、设备序列号）。"
                "拍摄时间已由本工具读取并写在每份证据的页眉中。",
            )
        )
        story.append(Spacer(1, 4))
        rows = [[ctx.cell(s.cell_head, h) for h in ("证据号", "原始文件", "移除的元数据")]]
        for exhibit, removed in stripped:
            rows.append(
                [
                    ctx.cell(s.cell, exhibit.label),
                    ctx.cell(s.cell, exhibit.source.name),
                    ctx.cell(s.cell, "、".join(removed)),
                ]
            )
        story.append(data_table(ctx, rows, [40, 170, CONTENT_WIDTH - 210]))
    else:
        story.append(ctx.para(s.body, "显示副本中没有需要移除的元数据。"))

    story.append(ctx.para(s.h2, "四、原始文件"))
    if d.originals_attached:
        story.append(
            ctx.para(
                s.body,
                "全部原始文件已作为附件嵌入本 PDF（在 PDF 阅读器的“附件”面板中），内容与上表哈希值一致。",
                Seg("注意：原始文件保留了其中的全部元数据（包括可能存在的位置信息）。", color=WARN),
            )
        )
    else:
        story.append(
            ctx.para(
                s.body,
                "原始文件没有嵌入本 PDF（超出大小限制或按设置省略）。"
                "请妥善保存原始文件和拍摄设备，提交时一并提供；可用下面的方法核对哈希值。",
            )
        )

    story.append(ctx.para(s.h2, "五、如何核对哈希值"))
    story.append(
        ctx.para(s.body, "在保存原始文件的电脑上运行下列命令之一，把输出的哈希值与上表对比（大小写不影响）：")
    )
    story.append(Spacer(1, 4))
    rows = [[ctx.cell(s.cell, label), ctx.para(s.mono, command)] for label, command in HASH_COMMANDS]
    story.append(data_table(ctx, rows, [130, CONTENT_WIDTH - 130], header_rows=0))
    story.append(Spacer(1, 4))
    story.append(
        ctx.para(
            s.small,
            "evidencekit verify 会逐一核对本 PDF 中嵌入的原始文件（或用 --originals 指定的文件夹）"
            "与文件清单中的哈希值，并用中文说明哪些一致、哪些不一致。",
        )
    )

    story.append(ctx.para(s.h2, "六、生成信息"))
    info = [
        ("生成时间", format_when_zoned(d.generated_at)),
        ("工具版本", f"evidencekit {d.tool_version}"),
        ("案件编号", d.case_id),
    ]
    rows = [[ctx.cell(s.cell, Seg(k, color=MUTED)), ctx.cell(s.cell, v)] for k, v in info]
    rows.append([ctx.cell(s.cell, Seg("材料指纹", color=MUTED)), ctx.para(s.mono, d.fingerprint)])
    story.append(data_table(ctx, rows, [130, CONTENT_WIDTH - 130], header_rows=0))
    story.append(Spacer(1, 4))
    story.append(
        ctx.para(s.small, "材料指纹是文件清单（manifest，JSON 格式，随本 PDF 一并嵌入）的 SHA-256 值。")
    )
    return story
