"""The timeline: order of events, chat reply flags, and a Chinese label for every category."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from factories import make_case, make_exhibit, make_source_file, sh

from evidencekit.model import (
    ChatInspection,
    ChatMessage,
    Event,
    Moment,
    TimelineCategory,
    Transcript,
    VideoInspection,
)
from evidencekit.pdf.timeline import CATEGORY_LABELS
from evidencekit.timeline import build_timeline


def test_every_category_has_a_chinese_label() -> None:
    # The enum is the closed list TimelineEntry.category is typed with: a member added without a
    # label fails here, and a category outside the enum fails mypy.
    missing = [c for c in TimelineCategory if not CATEGORY_LABELS.get(c, "").strip()]
    assert not missing
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in CATEGORY_LABELS[c]) for c in TimelineCategory)


def chat_exhibit(tmp_path: Path, messages: list[ChatMessage]):  # type: ignore[no-untyped-def]
    src = make_source_file(tmp_path, "evidence/chat/a.txt", b"x")
    insp = ChatInspection(transcript=Transcript("plain", "utf-8", tuple(messages)))
    return make_exhibit(1, src, inspection=insp)


def test_entries_are_in_time_order_with_case_facts_events_and_moments(tmp_path: Path) -> None:
    case = replace(make_case(tmp_path), events=(Event(sh(2024, 11, 14, 9, 0, 0), "platform", "申请平台介入", "GD123"),))
    src = make_source_file(tmp_path, "evidence/livestream/r.mp4", b"v")
    rec = make_exhibit(2, src, inspection=VideoInspection(
        moments=(Moment(7.0, "主播承诺假一赔十", sh(2024, 11, 10, 20, 30, 7)),)))
    entries = build_timeline(case, [rec])
    times = [e.time for e in entries]
    assert times == sorted(times)
    cats = [e.category for e in entries]
    assert {"livestream", "order", "delivery", "event", "moment"} <= set(cats)
    assert any("GD123" in e.label for e in entries)


def test_late_and_missing_replies_are_flagged(tmp_path: Path) -> None:
    t0 = sh(2024, 11, 13, 15, 0, 0)
    messages = [
        ChatMessage(t0, "买家", "请处理", "self"),
        ChatMessage(t0 + timedelta(hours=50), "客服", "已反馈", "other"),
        ChatMessage(t0 + timedelta(hours=51), "买家", "多久？", "self"),
        ChatMessage(t0 + timedelta(hours=52), "买家", "请回复", "self"),
    ]
    entries = build_timeline(make_case(tmp_path), [chat_exhibit(tmp_path, messages)], timedelta(hours=48))
    flags = [e.flag for e in entries if e.category == "chat"]
    assert flags[0] == "对方 50 小时后才回复"
    assert flags[1] == ""  # answered within the window
    assert flags[2] == "" and flags[3] == "此后未见对方回复"  # only the last unanswered one
