"""The case's story in time order: case facts, exhibits, chat messages, moments, follow-ups."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from evidencekit.model import (
    Case,
    ChatSide,
    Exhibit,
    RecordingInspection,
    TimelineCategory,
    TimelineEntry,
    Transcript,
    transcript_of,
)
from evidencekit.rules.catalog import load_rules


def _short(text: str, limit: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def build_timeline(
    case: Case, exhibits: Sequence[Exhibit], reply_window: timedelta = timedelta(hours=48),
    channel_labels: Mapping[str, str] | None = None,
) -> tuple[TimelineEntry, ...]:
    """Every dated fact in order. A shopper message the other side left unanswered longer than
    ``reply_window`` is flagged: officials look for exactly that. ``channel_labels`` names the
    follow-up channels (templates/followup.yaml; the loaded templates when omitted)."""
    if channel_labels is None:
        channel_labels = load_rules().followup.channel_labels
    entries: list[TimelineEntry] = []
    ls, order, problem = case.livestream, case.order, case.problem
    if ls.time:
        room = ls.room or "直播间"
        host = f"，主播 {ls.host}" if ls.host else ""
        entries.append(TimelineEntry(ls.time, f"观看直播：{room}{host}", TimelineCategory.LIVESTREAM))
    if order.time:
        what = f"：{order.product}" if order.product else ""
        entries.append(TimelineEntry(order.time, f"下单{what}（订单号 {order.number or '未填'}）",
                                     TimelineCategory.ORDER))
    if order.signed_at:
        entries.append(TimelineEntry(order.signed_at, "快递显示签收", TimelineCategory.DELIVERY))
    if problem.discovered_at:
        entries.append(TimelineEntry(problem.discovered_at, f"发现问题：{_short(problem.summary)}",
                                     TimelineCategory.DISCOVERY))
    for event in case.events:
        if event.time:
            who = channel_labels.get(event.channel, event.channel)
            ref = f"（编号 {event.ref}）" if event.ref else ""
            entries.append(TimelineEntry(event.time, f"联系{who}：{_short(event.note, 60)}{ref}",
                                         TimelineCategory.EVENT))

    for ex in exhibits:
        insp = ex.inspection
        transcript = transcript_of(insp)
        if ex.stamp.time and transcript is None:
            entries.append(
                # The time's own phrase (templates/time_sources.yaml), after a comma: the title
                # may end in a bracket of its own.
                TimelineEntry(ex.stamp.time,
                              f"{ex.label}：{_short(ex.title)}，{load_rules().time_sources.phrase_for(ex.stamp)}",
                              TimelineCategory.EXHIBIT, ex.number, has_seconds=ex.stamp.has_seconds)
            )
        moments = insp.moments if isinstance(insp, RecordingInspection) else ()
        for moment in moments:
            if moment.wall_time:
                entries.append(TimelineEntry(moment.wall_time, f"{ex.label} 录制内容：{_short(moment.caption)}",
                                             TimelineCategory.MOMENT, ex.number))
        if transcript is not None:
            entries.extend(_chat_entries(ex, transcript, reply_window))

    entries.sort(key=lambda e: (e.time, e.exhibit or 0))
    return tuple(entries)


def _chat_entries(ex: Exhibit, transcript: Transcript, reply_window: timedelta) -> list[TimelineEntry]:
    """One entry per message the exhibit shows (Transcript.shown, the page cap), plus the last
    message left without any reply if the cap hid it. Replies are looked for among all parsed
    messages, in one backward pass."""
    shown = len(transcript.messages[: transcript.shown])
    timed = [(i, m) for i, m in enumerate(transcript.messages) if m.time is not None]
    flags = [""] * len(timed)
    next_reply: datetime | None = None
    last_unanswered = -1
    for j in range(len(timed) - 1, -1, -1):
        msg = timed[j][1]
        assert msg.time is not None
        if msg.side == ChatSide.SELF:
            if next_reply is None:
                # Only the last unanswered message needs the "no reply" flag; earlier ones are
                # part of the same unanswered stretch.
                if last_unanswered < 0:
                    last_unanswered = j
                    flags[j] = "此后未见对方回复"
            elif next_reply - msg.time > reply_window:
                hours = int((next_reply - msg.time).total_seconds() // 3600)
                flags[j] = f"对方 {hours} 小时后才回复"
        elif msg.side == ChatSide.OTHER:
            next_reply = msg.time
    out: list[TimelineEntry] = []
    for j, (index, msg) in enumerate(timed):
        if index >= shown and j != last_unanswered:
            continue
        assert msg.time is not None
        who = "系统" if msg.side == ChatSide.SYSTEM else (msg.speaker or "（无昵称）")
        out.append(TimelineEntry(msg.time, f"{ex.label} 聊天 {who}：{_short(msg.text)}", TimelineCategory.CHAT,
                                 ex.number, flags[j], has_seconds=msg.has_seconds))
    return out
