"""证据1…N: each exhibit on its own pages, content fitted to the exhibit box.

The media modules made display copies sized to ``EXHIBIT_BOX_WIDTH_PT`` ×
``EXHIBIT_BOX_HEIGHT_PT``; this module only places them (from their file paths) and lays out
transcripts, frame sheets and fact tables. The page footer with the original's name, size and
SHA-256 comes from the exhibit page template (document.py).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import Flowable, NextPageTemplate, PageBreak, Paragraph, Spacer, Table

from evidencekit.media.base import EXHIBIT_BOX_HEIGHT_PT, EXHIBIT_BOX_WIDTH_PT
from evidencekit.media.moments import format_timecode
from evidencekit.model import (
    AudioInspection,
    ChatInspection,
    ChatSide,
    DisplayImage,
    Exhibit,
    Finding,
    Frame,
    ImageInspection,
    Inspection,
    MediaType,
    PdfInspection,
    RecordingInspection,
    Severity,
    TextInspection,
    Transcript,
    VideoInspection,
)
from evidencekit.pdf.document import (
    CONTENT_WIDTH,
    EXHIBIT_CONTINUED_TEMPLATE,
    EXHIBIT_TEMPLATE,
    Figure,
    RenderContext,
    anchor,
    data_table,
    exhibit_key,
    section_key,
    start_exhibit,
    table,
)
from evidencekit.pdf.text import (
    ACCENT,
    BAND_RULE,
    MUTED,
    SECONDARY_PT,
    Seg,
    break_name,
    format_size,
    format_when,
)
from evidencekit.pdf.textlayer import Word, words_for
from evidencekit.rules.catalog import load_rules
from evidencekit.rules.ocr_fields import TextBox

TITLE = "证据"

MEDIA_LABELS = {
    MediaType.IMAGE: "图片",
    MediaType.CHAT: "聊天记录",
    MediaType.VIDEO: "视频",
    MediaType.AUDIO: "音频",
    MediaType.PDF: "PDF 文档",
    MediaType.TEXT: "文本",
    MediaType.UNKNOWN: "未知格式",
}

# Raw text of an unrecognised format is shown in blocks of this many lines: few enough
# paragraphs to stay fast, small enough to split cleanly across pages.
RAW_LINES_PER_BLOCK = 40
RAW_CHARS_PER_BLOCK = 2_000
SHEET_COLUMNS = 3


@contextmanager
def _subject(ctx: RenderContext, subject: str) -> Iterator[None]:
    """Attribute missing-glyph findings to the file whose text is being laid out."""
    previous = ctx.fonts.subject
    ctx.fonts.subject = subject
    try:
        yield
    finally:
        ctx.fonts.subject = previous


def render(ctx: RenderContext) -> list[Flowable]:
    d = ctx.dossier
    story: list[Flowable] = [anchor(ctx, section_key("exhibits"), TITLE, 0)]
    if not d.exhibits:
        story += [
            ctx.para(ctx.styles.h1, TITLE),
            ctx.para(ctx.styles.body, Seg("没有可展示的证据文件。", color=MUTED)),
        ]
        return story
    for i, exhibit in enumerate(d.exhibits):
        if i:
            story += [NextPageTemplate(EXHIBIT_TEMPLATE), PageBreak()]
        with _subject(ctx, exhibit.source.rel_path):
            story += render_exhibit(ctx, exhibit)
    return story


def render_exhibit(ctx: RenderContext, exhibit: Exhibit) -> list[Flowable]:
    insp = exhibit.inspection
    story: list[Flowable] = [
        anchor(
            ctx, exhibit_key(exhibit.number), f"{exhibit.label} {exhibit.title or exhibit.source.name}", 1
        ),
        start_exhibit(ctx, exhibit),
        _header_band(ctx, exhibit),
        # Pages after this one repeat a compact header (document.EXHIBIT_CONTINUED_TEMPLATE).
        NextPageTemplate(EXHIBIT_CONTINUED_TEMPLATE),
        Spacer(1, 5),
        _facts_line(ctx, exhibit),
    ]
    s = ctx.styles
    if exhibit.note:
        story.append(ctx.para(s.body, Seg("备注：", color=MUTED), exhibit.note))
    # The checks' findings (weak time, a file in an unknown folder…) speak to the applicant and
    # go to the self-check (check); the recipient's page shows the exhibit and its facts.
    story.append(Spacer(1, 6))

    if insp.preview_error:
        story += _preview_error(ctx, insp.preview_error)
    content = _content(ctx, insp, ctx.text_boxes.get(exhibit.number, ()))
    if not insp.preview_error and not content:
        content = _preview_error(ctx, "该文件类型无法在 PDF 中预览。")
    return story + content


def _content(ctx: RenderContext, insp: Inspection, boxes: Sequence[TextBox] = ()) -> list[Flowable]:
    """What the exhibit shows of its kind; empty when there is nothing to show. ``boxes``: OCR's
    text on a screenshot, laid invisibly over its picture."""
    match insp:
        case VideoInspection() if insp.frames:
            return _frames(ctx, insp)
        case VideoInspection() if insp.moments:
            return _moments_table(ctx, insp)
        case AudioInspection():  # duration and start time even without declared moments
            return _moments_table(ctx, insp)
        case ImageInspection() | PdfInspection() if insp.images:
            return _images(ctx, insp, boxes)
        case ChatInspection() | TextInspection() if insp.transcript is not None and (
                insp.transcript.messages or insp.transcript.raw_text):
            return _transcript(ctx, insp.transcript)
    return []


# ---------------------------------------------------------------------------------------------
# Header band and facts
# ---------------------------------------------------------------------------------------------


def _band_title(kind: str, title: str) -> str:
    """``订单截图｜订单详情``; just ``订单截图`` when the title is the kind label itself."""
    return kind if title == kind else f"{kind}｜{title}"


def _header_band(ctx: RenderContext, exhibit: Exhibit) -> Table:
    d = ctx.dossier
    s = ctx.styles
    kind = d.kind_labels.get(exhibit.kind.value, exhibit.kind.value)
    stamp = exhibit.stamp
    phrases = load_rules().time_sources  # what the time is and why (templates/time_sources.yaml)
    meta: list[str | Seg] = [f"时间：{stamp.format_time()}"]
    if stamp.time is not None:
        meta.append(f"　{phrases.phrase_for(stamp)}")
    if detail := phrases.shown_detail(stamp):
        meta.append(f"　依据：{detail}")
    right: list[Flowable] = [
        ctx.cell(s.band_title, _band_title(kind, exhibit.title or exhibit.source.name)),
        ctx.cell(s.band_meta, *meta),
    ]
    if exhibit.proves:
        right.append(ctx.cell(s.band_meta, f"证明目的：{exhibit.proves}"))
    return table(
        ctx,
        [[ctx.cell(s.band_number, exhibit.label), right]],
        [72, CONTENT_WIDTH - 72],
        [
            ("BACKGROUND", (0, 0), (-1, -1), ACCENT),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("TOPPADDING", (0, 0), (-1, -1), 6),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 7),
            ("LINEAFTER", (0, 0), (0, 0), 0.6, BAND_RULE),
        ],
    )


def _facts_line(ctx: RenderContext, exhibit: Exhibit) -> Paragraph:
    insp = exhibit.inspection
    facts = [f"类型：{MEDIA_LABELS[insp.media]}"]
    match insp:
        case ImageInspection() | VideoInspection() if insp.width and insp.height:
            facts.append(f"分辨率：{insp.width}×{insp.height}")
    match insp:
        case VideoInspection() | AudioInspection() if insp.duration is not None:
            facts.append(f"时长：{format_timecode(insp.duration)}")
        case PdfInspection() if insp.page_count:
            facts.append(f"页数：{insp.page_count}")
        case ChatInspection(transcript=t) | TextInspection(transcript=t) if t is not None:
            facts.append(f"格式：{load_rules().chat_format_label(t.format)}，编码 {t.encoding.upper()}")
            if t.messages:
                facts.append(f"消息：{len(t.messages)} 条")
    if isinstance(insp, VideoInspection) and insp.frames:
        facts.append(f"截取画面：{len(insp.frames)} 帧")
    if isinstance(insp, ImageInspection) and insp.redacted:
        facts.append("显示副本已按声明遮挡部分区域")
    facts.append(f"大小：{format_size(exhibit.source.size)}")
    small = ctx.styles.small
    # The file name on a line of its own, broken only after _ - . (text.break_name).
    prefix = "原始文件："
    room = CONTENT_WIDTH - ctx.fonts.string_width(prefix, small.fontSize, small.fontName)
    name = break_name(ctx.fonts, exhibit.source.name, small.fontSize, room)
    return ctx.para(small, "　·　".join(facts), "\n", prefix, name)


def _preview_error(ctx: RenderContext, reason: str) -> list[Flowable]:
    s = ctx.styles
    attached = (
        "原始文件已作为附件嵌入本 PDF，可用 PDF 阅读器的“附件”面板取出。"
        if ctx.dossier.originals_attached
        else "原始文件未嵌入本 PDF，请与本材料一并提交原始文件。"
    )
    return [
        ctx.para(s.notice, "无法生成预览：", reason),
        ctx.para(
            s.body,
            "该文件仍列入证据目录和完整性附录，原始文件的 SHA-256 哈希值已记录（见本页页脚）。",
            attached,
        ),
    ]


# ---------------------------------------------------------------------------------------------
# Images (photos, screenshots and their segments, PDF pages)
# ---------------------------------------------------------------------------------------------


def _image_or_notice(
    ctx: RenderContext,
    image: DisplayImage,
    caption: str,
    max_width: float,
    max_height: float,
    min_fraction: float,
    words: Sequence[Word] = (),
) -> Flowable:
    s = ctx.styles
    if not image.path.is_file():
        ctx.finding(
            Finding(
                Severity.WARNING,
                "pdf.display_copy_missing",
                f"显示副本文件不存在，无法放入 PDF：{image.path.name}",
                ctx.fonts.subject,
            )
        )
        return ctx.para(s.notice, "显示副本丢失，无法显示此画面。请清除缓存后重新生成。")
    cap = ctx.cell(s.caption, caption) if caption else None
    return Figure(ctx, image, cap, max_width, max_height, min_fraction, words)


def _images(ctx: RenderContext, insp: ImageInspection | PdfInspection, boxes: Sequence[TextBox] = ()
            ) -> list[Flowable]:
    story: list[Flowable] = []
    count = len(insp.images)
    page_count = insp.page_count if isinstance(insp, PdfInspection) else None
    total_pages = page_count or count
    words = words_for(insp, boxes) if isinstance(insp, ImageInspection) else [() for _ in insp.images]
    for i, image in enumerate(insp.images):
        caption = image.caption
        if not caption and isinstance(insp, PdfInspection):
            caption = f"第 {i + 1}/{total_pages} 页"
        elif not caption and count > 1:
            caption = f"第 {i + 1}/{count} 张"
        if i:
            story.append(PageBreak())
        story.append(_image_or_notice(ctx, image, caption, EXHIBIT_BOX_WIDTH_PT, EXHIBIT_BOX_HEIGHT_PT, 0.6,
                                      words[i]))
    for finding in insp.findings:
        if finding.code == "image.truncated":  # media/images.py: only the first pages of a long screenshot
            story.append(ctx.para(ctx.styles.notice, finding.message.replace("完整图片见附件原件", ""),
                                  _full_text_note(ctx).replace("内容", "图片")))
    if page_count and page_count > count:
        story.append(
            ctx.para(
                ctx.styles.small,
                f"（原文件共 {page_count} 页，此处显示前 {count} 页；完整文件见附件。）",
            )
        )
    return story


# ---------------------------------------------------------------------------------------------
# Chat transcripts
# ---------------------------------------------------------------------------------------------


def _full_text_note(ctx: RenderContext) -> str:
    if ctx.dossier.originals_attached:
        return "完整内容见附件原件（可用 PDF 阅读器的“附件”面板取出）。"
    return "完整内容见原始文件（未嵌入本 PDF，请与本材料一并提交）。"


def _transcript(ctx: RenderContext, transcript: Transcript) -> list[Flowable]:
    """The messages the page cap allows (Transcript.shown, set by media/chats.py), then a note."""
    s = ctx.styles
    story: list[Flowable] = []
    if transcript.messages:
        story.append(
            ctx.para(
                s.small,
                Seg("左侧灰色为对方（商家/客服），右侧绿色为申请人本人，居中为系统消息。", color=MUTED),
            )
        )
        shown = transcript.messages[: transcript.shown]
        for message in shown:
            when = (format_when(message.time, message.has_seconds) if message.time
                    else message.clock.strftime("%H:%M:%S" if message.has_seconds else "%H:%M") if message.clock
                    else "")
            if message.side == ChatSide.SYSTEM:
                story.append(ctx.para(s.chat_system, " ".join(p for p in (when, message.text) if p)))
                continue
            mine = message.side == ChatSide.SELF
            meta = "　".join(p for p in (message.speaker, when) if p) or ("我" if mine else "对方")
            # Speaker and time sit inside the bubble: one paragraph per message keeps them on the
            # same page without KeepTogether groups, which cost a deep copy each.
            story.append(
                ctx.para(
                    s.chat_self if mine else s.chat_other,
                    Seg(meta, color=MUTED, size=SECONDARY_PT),
                    "\n",
                    message.text or " ",
                )
            )
        if len(shown) < len(transcript.messages):
            story.append(
                ctx.para(
                    s.notice,
                    f"聊天记录共 {len(transcript.messages)} 条，此处仅显示前 {len(shown)} 条（每项证据的显示页数有上限）。",
                    _full_text_note(ctx),
                )
            )
        return story
    story.append(ctx.para(s.small, Seg("未能识别聊天记录格式，以下按原文逐行显示：", color=MUTED)))
    for block in _raw_blocks(transcript.raw_text):
        story.append(ctx.para(s.pre, "\n".join(_keep_spaces(line) for line in block)))
    if transcript.shown is not None:
        story.append(
            ctx.para(
                s.notice,
                f"原文共 {transcript.raw_lines} 行，此处"
                + (f"仅显示前 {transcript.shown} 行" if transcript.shown else "仅显示第 1 行的开头")
                + "（每项证据的显示页数有上限）。",
                _full_text_note(ctx),
            )
        )
    return story


def _raw_blocks(text: str) -> Iterator[list[str]]:
    """Lines in blocks of at most RAW_LINES_PER_BLOCK lines and RAW_CHARS_PER_BLOCK characters
    (a longer line is split), so no paragraph grows past about a page."""
    block: list[str] = []
    size = 0
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        pieces = [line[i : i + RAW_CHARS_PER_BLOCK] for i in range(0, len(line), RAW_CHARS_PER_BLOCK)] or [""]
        for piece in pieces:
            if block and (len(block) >= RAW_LINES_PER_BLOCK or size + len(piece) > RAW_CHARS_PER_BLOCK):
                yield block
                block, size = [], 0
            block.append(piece)
            size += len(piece)
    if block:
        yield block


def _keep_spaces(line: str) -> str:
    """Paragraphs collapse runs of spaces; no-break spaces keep indentation and alignment."""
    stripped = line.lstrip(" ")
    line = "\u00a0" * (len(line) - len(stripped)) + stripped.replace("  ", "\u00a0 ")
    return line or "\u00a0"


# ---------------------------------------------------------------------------------------------
# Recordings
# ---------------------------------------------------------------------------------------------


def _frame_caption(frame: Frame) -> str:
    parts = [p for p in (frame.caption, format_timecode(frame.offset)) if p]
    if frame.wall_time is not None:
        parts.append(format_when(frame.wall_time))
    return " · ".join(parts)


def _sheet_note(ctx: RenderContext, insp: VideoInspection, sheet: list[Frame]) -> Paragraph:
    """How the tiles were chosen and which times they show."""
    parts: list[str] = []
    if insp.sheet_samples > len(sheet):
        parts.append(
            f"在全片取样 {insp.sheet_samples} 个时间点，从中选出分布均匀、互不重复的 {len(sheet)} 帧"
            + ("；画面几乎不变的一段只显示第一帧，图下注明持续到的时间点" if any(f.until is not None for f in sheet) else "")
            + (f"；{insp.sheet_blank} 个纯色（全黑、全白等）画面未显示" if insp.sheet_blank else "")
            + "。"
        )
    parts.append("显示的时间点：" + "、".join(format_timecode(f.offset) for f in sheet) + "。")
    parts.append("完整画面见原始录像。")
    style = ParagraphStyle("sheet_note", parent=ctx.styles.small, keepWithNext=1)  # with the first row
    return ctx.para(style, Seg("".join(parts), color=MUTED))


def _frames(ctx: RenderContext, insp: VideoInspection) -> list[Flowable]:
    s = ctx.styles
    story: list[Flowable] = []
    frames = insp.frames
    declared = [f for f in frames if f.declared]
    sheet = [f for f in frames if not f.declared]
    if declared:
        story.append(ctx.para(s.h2, f"声明的关键时刻（{len(declared)} 处）"))
        for frame in declared:
            portrait = frame.image.height > frame.image.width
            # Landscape frames go two to a page; a portrait phone recording gets the page height.
            max_height = EXHIBIT_BOX_HEIGHT_PT - 30 if portrait else EXHIBIT_BOX_HEIGHT_PT / 2 - 30
            story.append(
                _image_or_notice(
                    ctx, frame.image, _frame_caption(frame), EXHIBIT_BOX_WIDTH_PT, max_height, 0.8
                )
            )
            story.append(Spacer(1, 8))
    if sheet:
        # The heading and the note keep with the first row of tiles only: kept with the whole
        # table, they moved to the next page whenever the table was taller than the space
        # left, leaving the exhibit's first page empty under its header. The other rows are a
        # second table, which splits between rows.
        story.append(ctx.para(s.h2, f"画面概览（{len(sheet)} 帧，按时间顺序）"))
        story.append(_sheet_note(ctx, insp, sheet))
        gap = 6.0
        tile = (CONTENT_WIDTH - gap * (SHEET_COLUMNS - 1)) / SHEET_COLUMNS
        tile_height = tile * 16 / 9 if any(f.image.height > f.image.width for f in sheet) else tile
        cells: list[Flowable] = []
        for frame in sheet:
            cap = format_timecode(frame.offset)
            if frame.until is not None:
                cap += f" 至 {format_timecode(frame.until)} 画面相近"
            if frame.wall_time is not None:
                cap += f"\n{format_when(frame.wall_time)}"
            if frame.caption:
                cap += f"\n{frame.caption}"
            cells.append(_image_or_notice(ctx, frame.image, cap, tile, tile_height, 1.0))
        rows: list[list[Any]] = []
        for start in range(0, len(cells), SHEET_COLUMNS):
            row: list[Any] = cells[start : start + SHEET_COLUMNS]
            row += [Spacer(1, 1)] * (SHEET_COLUMNS - len(row))
            rows.append(row)
        for part in (rows[:1], rows[1:]):
            if part:
                story.append(
                    table(
                        ctx,
                        part,
                        [tile + gap] * (SHEET_COLUMNS - 1) + [tile],
                        [
                            ("VALIGN", (0, 0), (-1, -1), "TOP"),
                            ("LEFTPADDING", (0, 0), (-1, -1), 0),
                            ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                            ("RIGHTPADDING", (0, 0), (-2, -1), gap),
                            ("TOPPADDING", (0, 0), (-1, -1), 0),
                            ("BOTTOMPADDING", (0, 0), (-1, -1), 8),
                        ],
                    )
                )
    return story


def _moments_table(ctx: RenderContext, insp: RecordingInspection) -> list[Flowable]:
    s = ctx.styles
    story: list[Flowable] = []
    facts = [("时长", format_timecode(insp.duration) if insp.duration is not None else "未知")]
    if insp.start_time is not None:
        facts.append(("录制开始", format_when(insp.start_time)))
    rows = [[ctx.cell(s.cell, Seg(k, color=MUTED)), ctx.cell(s.cell, v)] for k, v in facts]
    story.append(data_table(ctx, rows, [80, CONTENT_WIDTH - 80], header_rows=0))
    if not insp.moments:  # nothing declared, nothing claimed: how to declare them is the shopper's business
        return story
    story.append(ctx.para(s.h2, "声明的关键时刻"))
    widths = [36, 70, 110, CONTENT_WIDTH - 216]
    table_rows: list[list[Any]] = [[ctx.cell(s.cell_head, h) for h in ("序号", "时间点", "现实时间", "内容")]]
    for i, moment in enumerate(insp.moments, start=1):
        table_rows.append(
            [
                ctx.cell(s.cell_center, str(i)),
                ctx.cell(s.cell, format_timecode(moment.offset)),
                ctx.cell(s.cell, format_when(moment.wall_time) if moment.wall_time else "—"),
                ctx.cell(s.cell, moment.caption),
            ]
        )
    story.append(data_table(ctx, table_rows, widths))
    return story
