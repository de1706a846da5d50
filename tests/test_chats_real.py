"""Chat exports people really have (issue 11 item 2): QQ 12-hour exports, QQ window / mobile /
QQNT copies, WeChatMsg TXT and CSV, WechatExporter TXT, WeChat Windows copies, and the findings
that keep a transcript from being silently wrong.

Every sample is written here by hand (or generated) following the documented shape of each
format; none is copied from another project.
"""

from __future__ import annotations

import codecs
import csv
import io
from datetime import UTC, datetime
from datetime import time as TimeOfDay
from pathlib import Path

from factories import make_source_file
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from evidencekit.cache import DisplayCache
from evidencekit.media.base import MediaContext
from evidencekit.media.chats import inspect_chat, parse_chat
from evidencekit.model import SHANGHAI, ChatMessage, EvidenceKind, Finding, MediaType, Transcript


def sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def parse(text: str, encoding: str = "utf-8") -> tuple[Transcript, tuple[Finding, ...]]:
    return parse_chat(text.encode(encoding), SHANGHAI)


def rows(transcript: Transcript) -> list[tuple[datetime | None, str, str]]:
    return [(m.time, m.speaker, m.text) for m in transcript.messages]


def codes(findings: tuple[Finding, ...]) -> set[str]:
    return {f.code for f in findings}


QQ_BANNER = (
    "消息记录（此消息记录为文本格式，不支持重新导入）\n\n"
    "================================================================\n"
    "消息分组:我的好友\n"
    "================================================================\n"
    "消息对象:好物优选客服\n"
    "================================================================\n\n"
)

# ---------------------------------------------------------------------------------------------
# QQ message-manager TXT exports with a 12-hour clock
# ---------------------------------------------------------------------------------------------


def test_qq_export_english_12_hour_clock_with_banner() -> None:
    text = QQ_BANNER + (
        "2019-09-23 8:43:38 PM 阿强(12345678)\n你好，包是假的\n\n"
        "2019-09-24 12:12:29 AM 好物优选客服(87654321)\n亲，我们核实一下\n\n"
        "2019-09-24 12:05:00 PM 阿强(12345678)\n好的\n第二行\n\n"
        "2019-09-24 11:59:59 PM 好物优选客服(87654321)\n明天答复\n"
    )
    transcript, findings = parse(text, "gb18030")
    assert transcript.format == "qq"
    assert rows(transcript) == [
        (sh(2019, 9, 23, 20, 43, 38), "阿强(12345678)", "你好，包是假的"),
        (sh(2019, 9, 24, 0, 12, 29), "好物优选客服(87654321)", "亲，我们核实一下"),
        (sh(2019, 9, 24, 12, 5, 0), "阿强(12345678)", "好的\n第二行"),
        (sh(2019, 9, 24, 23, 59, 59), "好物优选客服(87654321)", "明天答复"),
    ]
    assert [m.side for m in transcript.messages] == ["self", "other", "self", "other"]
    assert not codes(findings) & {"chat.header_unparsed", "chat.time_backwards", "chat.ampm_ambiguous"}


def test_qq_export_chinese_am_pm_with_email_ids_without_banner() -> None:
    text = (
        "2019-09-23 下午 8:43:38 阿强<aqiang@qq.com>\n包收到了，是坏的\n\n"
        "2019-09-24 上午 12:12:29 客服小美<kefu@example.com>\n亲亲，请拍照\n\n"
        "2019-09-24 下午 12:30:00 阿强<aqiang@qq.com>\n[图片]\n"
    )
    transcript, findings = parse(text)
    assert transcript.format == "qq"
    assert rows(transcript) == [
        (sh(2019, 9, 23, 20, 43, 38), "阿强<aqiang@qq.com>", "包收到了，是坏的"),
        (sh(2019, 9, 24, 0, 12, 29), "客服小美<kefu@example.com>", "亲亲，请拍照"),
        (sh(2019, 9, 24, 12, 30, 0), "阿强<aqiang@qq.com>", "[图片]"),
    ]
    assert "chat.header_unparsed" not in codes(findings)


def test_qq_private_chat_without_ids_with_banner_and_12_hour_clock() -> None:
    text = QQ_BANNER + "2020-01-02 9:00:01 AM 阿强\n在吗\n\n2020-01-02 9:00:30 PM 好物优选客服\n在的\n"
    transcript, _ = parse(text)
    assert transcript.format == "qq"
    assert rows(transcript) == [
        (sh(2020, 1, 2, 9, 0, 1), "阿强", "在吗"),
        (sh(2020, 1, 2, 21, 0, 30), "好物优选客服", "在的"),
    ]


def test_qq_private_chat_without_ids_and_banner_but_with_am_pm() -> None:
    text = "2020-01-02 9:00:01 AM 阿强\n在吗\n\n2020-01-02 12:00:30 PM 好物优选客服\n在的\n"
    transcript, _ = parse(text)
    assert transcript.format == "qq"
    assert rows(transcript) == [
        (sh(2020, 1, 2, 9, 0, 1), "阿强", "在吗"),
        (sh(2020, 1, 2, 12, 0, 30), "好物优选客服", "在的"),
    ]


def test_qq_group_titles_are_not_part_of_the_speaker() -> None:
    text = QQ_BANNER + (
        "2019-09-23 20:43:38 【管理员】小美(87654321)\n群公告\n\n"
        "2019-09-23 20:44:00 小美(87654321)\n第二条\n\n"
        "2019-09-23 20:45:00 【群主】阿强(12345678)\n收到\n"
    )
    transcript, _ = parse(text)
    assert [m.speaker for m in transcript.messages] == ["小美(87654321)", "小美(87654321)", "阿强(12345678)"]


def test_contradictory_12_hour_header_is_not_read_and_is_reported() -> None:
    text = QQ_BANNER + (
        "2019-09-23 8:43:38 PM 阿强(12345678)\n你好\n\n"
        "2019-09-23 13:43:38 PM 好物优选客服(87654321)\n在的\n"
    )
    transcript, findings = parse(text)
    assert rows(transcript) == [
        (sh(2019, 9, 23, 20, 43, 38), "阿强(12345678)", "你好\n\n2019-09-23 13:43:38 PM 好物优选客服(87654321)\n在的"),
    ]
    assert "chat.header_unparsed" in codes(findings)


def test_hour_zero_with_pm_is_no_time() -> None:
    text = QQ_BANNER + "2019-09-23 8:43:38 PM 阿强(12345678)\n你好\n\n2019-09-23 0:30:00 PM 客服(87654321)\n在的\n"
    transcript, findings = parse(text)
    assert [m.time for m in transcript.messages] == [sh(2019, 9, 23, 20, 43, 38)]
    assert "chat.header_unparsed" in codes(findings)


def test_mixed_12_and_24_hour_headers_are_ambiguous() -> None:
    text = QQ_BANNER + (
        "2019-09-23 8:43:38 PM 阿强(12345678)\n你好\n\n"
        "2019-09-23 9:10:00 好物优选客服(87654321)\n在的\n"
    )
    _, findings = parse(text)
    assert "chat.ampm_ambiguous" in codes(findings)


def test_times_going_backwards_are_reported() -> None:
    text = QQ_BANNER + (
        "2019-09-23 8:43:38 PM 阿强(12345678)\n你好\n\n"
        "2019-09-23 8:40:00 PM 好物优选客服(87654321)\n在的\n"
    )
    transcript, findings = parse(text)
    assert len(transcript.messages) == 2
    assert "chat.time_backwards" in codes(findings)


# ---------------------------------------------------------------------------------------------
# QQ PC chat-window copies, QQ mobile multi-select copies, QQNT copies
# ---------------------------------------------------------------------------------------------


def test_qq_window_copy_three_header_shapes() -> None:
    text = (
        "【管理员】好物优选客服 2020/3/28 19:02:31\n亲，在的\n"
        "阿强 2021/8/20 星期五 下午 2:04:59\n包有问题\n要退货\n"
        "Bob 2/14/2020 9:16:13 PM\nhello\n"
        "阿强 2/15/2020 12:01:02 AM\nok\n"
    )
    transcript, _ = parse(text)
    assert transcript.format == "qq_window"
    assert rows(transcript) == [
        (sh(2020, 3, 28, 19, 2, 31), "好物优选客服", "亲，在的"),
        (sh(2021, 8, 20, 14, 4, 59), "阿强", "包有问题\n要退货"),
        (sh(2020, 2, 14, 21, 16, 13), "Bob", "hello"),
        (sh(2020, 2, 15, 0, 1, 2), "阿强", "ok"),
    ]


def test_qq_mobile_copy_with_date_lines_and_time_only_headers() -> None:
    text = (
        "2024年11月14日\n阿强 19:21\n你好\n好物优选客服 19:22\n在的\n"
        "2024-11-15 星期五\n阿强 上午 9:05\n还没处理\n"
    )
    transcript, findings = parse(text)
    assert transcript.format == "qq_mobile"
    assert rows(transcript) == [
        (sh(2024, 11, 14, 19, 21), "阿强", "你好"),
        (sh(2024, 11, 14, 19, 22), "好物优选客服", "在的"),
        (sh(2024, 11, 15, 9, 5), "阿强", "还没处理"),
    ]
    assert [m.has_seconds for m in transcript.messages] == [False, False, False]
    assert "chat.no_dates" not in codes(findings)


def test_qq_mobile_copy_with_relative_day_has_no_invented_date() -> None:
    text = "昨天\n阿强 19:21\n你好\n好物优选客服 下午 7:22\n在的\n"
    transcript, findings = parse(text)
    assert transcript.format == "qq_mobile"
    assert [(m.time, m.clock, m.speaker, m.text) for m in transcript.messages] == [
        (None, TimeOfDay(19, 21), "阿强", "你好"),
        (None, TimeOfDay(19, 22), "好物优选客服", "在的"),
    ]
    assert "chat.no_dates" in codes(findings)


def test_a_relative_day_line_ends_the_previous_date() -> None:
    text = "2024年11月14日\n阿强 19:21\n你好\n昨天\n好物优选客服 19:22\n在的\n"
    transcript, findings = parse(text)
    assert [(m.time, m.clock) for m in transcript.messages] == [
        (sh(2024, 11, 14, 19, 21), None), (None, TimeOfDay(19, 22))]
    assert "chat.no_dates" in codes(findings)


def test_minutes_only_name_time_lines_without_a_date_line_are_not_qqnt() -> None:
    transcript, _ = parse("阿强 12:30\n到了\n客服 12:31\n好\n")
    assert transcript.format != "qqnt"


def test_qqnt_copy_has_times_of_day_and_no_dates() -> None:
    text = "阿强 19:21:05\n你好\n客服小美 19:22:10\n在的\n第二行\n阿强 9:01:00\n明早\n"
    transcript, findings = parse(text)
    assert transcript.format == "qqnt"
    assert [(m.time, m.clock, m.speaker, m.text) for m in transcript.messages] == [
        (None, TimeOfDay(19, 21, 5), "阿强", "你好"),
        (None, TimeOfDay(19, 22, 10), "客服小美", "在的\n第二行"),
        (None, TimeOfDay(9, 1, 0), "阿强", "明早"),
    ]
    no_dates = [f for f in findings if f.code == "chat.no_dates"]
    assert no_dates and "没有日期" in no_dates[0].message


# ---------------------------------------------------------------------------------------------
# WeChat exporters and copies
# ---------------------------------------------------------------------------------------------


def test_wechatmsg_txt_export() -> None:
    text = (
        "2024-11-14 19:21:05 阿强\n你好\n第二行\n\n"
        "2024-11-14 19:22:00 好物优选旗舰店\n在的\n\n"
        "2024-11-14 19:23:59 阿强\n[图片]\n"
    )
    transcript, _ = parse(text)
    assert transcript.format == "wechatmsg"
    assert rows(transcript) == [
        (sh(2024, 11, 14, 19, 21, 5), "阿强", "你好\n第二行"),
        (sh(2024, 11, 14, 19, 22, 0), "好物优选旗舰店", "在的"),
        (sh(2024, 11, 14, 19, 23, 59), "阿强", "[图片]"),
    ]
    assert [m.side for m in transcript.messages] == ["self", "other", "self"]


CSV_COLUMNS = ["localId", "TalkerId", "Type", "SubType", "IsSender", "CreateTime", "Status", "StrContent",
               "StrTime", "Remark", "NickName", "Sender"]


def _csv(rows_: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows(rows_)
    return codecs.BOM_UTF8 + out.getvalue().encode("utf-8")


def test_wechatmsg_csv_export_is_a_transcript() -> None:
    created = int(sh(2024, 11, 14, 19, 22).timestamp())
    data = _csv([
        ["1", "7", "1", "0", "1", "1731583265", "2", "你好，包是坏的", "2024-11-14 19:21:05", "好物优选", "好物优选", ""],
        ["2", "7", "1", "0", "0", str(created), "2", "亲，在的,\n请发图", "", "好物优选", "好物优选", ""],
        ["3", "7", "3", "0", "1", "1731583400", "2", "", "2024-11-14 19:23:20", "好物优选", "好物优选", ""],
    ])
    transcript, _ = parse_chat(data, SHANGHAI)
    assert transcript.format == "wechat_csv"
    assert transcript.encoding == "utf-8-sig"
    assert rows(transcript) == [
        (sh(2024, 11, 14, 19, 21, 5), "我", "你好，包是坏的"),
        (sh(2024, 11, 14, 19, 22, 0), "好物优选", "亲，在的,\n请发图"),
        (sh(2024, 11, 14, 19, 23, 20), "我", "[非文字消息，类型 3]"),
    ]
    assert [m.side for m in transcript.messages] == ["self", "other", "self"]


def test_csv_suffix_chat_export_is_a_chat_and_other_csv_stays_unsupported(tmp_path: Path) -> None:
    ctx = MediaContext(tz=SHANGHAI, cache=DisplayCache(tmp_path / "cache"))
    chat = make_source_file(tmp_path / "case", "好物优选_utf8.csv", _csv(
        [["1", "7", "1", "0", "1", "1", "2", "你好", "2024-11-14 19:21:05", "", "店", ""]]), EvidenceKind.CHAT)
    other = make_source_file(tmp_path / "case", "订单.csv", "订单号,金额\n123,45.00\n".encode(), EvidenceKind.CHAT)
    chat_inspection = inspect_chat(chat, None, ctx)
    assert chat_inspection.media == MediaType.CHAT
    assert chat_inspection.transcript is not None and chat_inspection.transcript.format == "wechat_csv"
    other_inspection = inspect_chat(other, None, ctx)
    assert other_inspection.media == MediaType.UNKNOWN
    assert [f.code for f in other_inspection.findings] == ["media.unsupported"]


def test_wechatexporter_txt() -> None:
    text = (
        "阿强 (2024-11-14 19:21:05):你好\n还有一行\n"
        "好物优选客服（2024-11-14 19:22:00）：在的\n"
        "阿强 (2024-11-14 19:23:00):[图片]\n"
    )
    transcript, _ = parse(text)
    assert transcript.format == "wechatexporter"
    assert rows(transcript) == [
        (sh(2024, 11, 14, 19, 21, 5), "阿强", "你好\n还有一行"),
        (sh(2024, 11, 14, 19, 22, 0), "好物优选客服", "在的"),
        (sh(2024, 11, 14, 19, 23, 0), "阿强", "[图片]"),
    ]


def test_wechat_mac_copy_one_line_headers() -> None:
    text = "阿强 2024/11/14 19:21\n你好\n\n好物优选客服 2024/11/14 19:22\n在的\n"
    transcript, _ = parse(text)
    assert transcript.format == "wechat"
    assert rows(transcript) == [
        (sh(2024, 11, 14, 19, 21), "阿强", "你好"),
        (sh(2024, 11, 14, 19, 22), "好物优选客服", "在的"),
    ]


def test_wechat_windows_copy_has_no_times_and_keeps_order() -> None:
    text = "阿强:\n你好\n包是坏的\n\n好物优选客服:\n亲，在的\n\n阿强:\n[图片]\n"
    transcript, findings = parse(text)
    assert transcript.format == "wechat_win"
    assert rows(transcript) == [
        (None, "阿强", "你好\n包是坏的"),
        (None, "好物优选客服", "亲，在的"),
        (None, "阿强", "[图片]"),
    ]
    assert "chat.no_times" in codes(findings)


# ---------------------------------------------------------------------------------------------
# Never silently wrong
# ---------------------------------------------------------------------------------------------


def test_unknown_text_is_raw_text_with_a_finding() -> None:
    text = "".join(f"第{i}行说明文字，买家 阿强 提到 19点 的事\n" for i in range(60))
    transcript, findings = parse(text)
    assert transcript.format == "unknown"
    assert transcript.messages == ()
    assert transcript.raw_text == text.rstrip("\n") or transcript.raw_text == text
    assert "chat.unrecognised" in codes(findings)


def test_one_header_then_pages_of_text_is_flagged() -> None:
    text = "2024-11-14 19:21:05 阿强\n" + "".join(f"第{i}行说明文字\n" for i in range(60))
    transcript, findings = parse(text)
    assert len(transcript.messages) == 1
    assert "chat.single_header" in codes(findings)


def test_header_like_line_that_does_not_parse_is_reported() -> None:
    text = QQ_BANNER + (
        "2019-09-23 20:43:38 阿强(12345678)\n你好\n\n"
        "2019-09-31 20:44:00 好物优选客服(87654321)\n在的\n"  # 31 September: no such day
    )
    transcript, findings = parse(text)
    assert len(transcript.messages) == 1
    assert "chat.header_unparsed" in codes(findings)


# ---------------------------------------------------------------------------------------------
# Property tests: generate messages, render in the format, parse, get the same messages
# ---------------------------------------------------------------------------------------------

NAME_CHARS = "张三李四小美阿强好物优选tb_uyerBCxz0123456789"
BODY_CHARS = "退货款包质量问题请尽快处理好的亲您稍等abcXYZ0123456789 ，。！？[]_#"
names = st.text(NAME_CHARS, min_size=1, max_size=12)
body_line = st.text(BODY_CHARS, min_size=1, max_size=20).map(str.strip).filter(bool)
bodies = st.lists(body_line, min_size=1, max_size=3).map("\n".join)
moments = st.datetimes(min_value=datetime(1990, 1, 2), max_value=datetime(2099, 12, 30)).map(
    lambda t: t.replace(microsecond=0))
Msgs = list[tuple[str, datetime, str]]
messages_st = st.lists(st.tuples(names, moments, bodies), min_size=1, max_size=6)
WEEKDAYS = "一二三四五六日"


def _h12(t: datetime) -> tuple[int, str]:
    return (t.hour % 12 or 12), ("AM" if t.hour < 12 else "PM")


def _aware(t: datetime, seconds: bool = True) -> datetime:
    return t.replace(second=t.second if seconds else 0, tzinfo=SHANGHAI)


def _check(text: str, fmt: str, want: list[tuple[datetime | None, str, str]], encoding: str = "utf-8") -> None:
    transcript, findings = parse(text, encoding)
    assert transcript.format == fmt
    assert rows(transcript) == want
    assert "chat.header_unparsed" not in codes(findings)


@settings(max_examples=60, deadline=None)
@given(msgs=messages_st, banner=st.booleans())
def test_round_trip_qq_english_12_hour(msgs: Msgs, banner: bool) -> None:
    text = QQ_BANNER if banner else ""
    for i, (n, t, b) in enumerate(msgs):
        hour, ap = _h12(t)
        text += f"{t:%Y-%m-%d} {hour}:{t:%M:%S} {ap} {n}(12345{i})\n{b}\n\n"
    _check(text, "qq", [(_aware(t), f"{n}(12345{i})", b) for i, (n, t, b) in enumerate(msgs)], "gb18030")


@settings(max_examples=60, deadline=None)
@given(msgs=messages_st)
def test_round_trip_qq_chinese_am_pm_private(msgs: Msgs) -> None:
    text = QQ_BANNER
    for n, t, b in msgs:
        hour, ap = _h12(t)
        text += f"{t:%Y-%m-%d} {'上午' if ap == 'AM' else '下午'} {hour}:{t:%M:%S} {n}\n{b}\n\n"
    _check(text, "qq", [(_aware(t), n, b) for n, t, b in msgs])


@settings(max_examples=60, deadline=None)
@given(msgs=messages_st, titles=st.lists(st.booleans(), min_size=6, max_size=6))
def test_round_trip_qq_window(msgs: Msgs, titles: list[bool]) -> None:
    text = ""
    for i, (n, t, b) in enumerate(msgs):
        hour, ap = _h12(t)
        title = "【管理员】" if titles[i] else ""
        if i % 3 == 0:
            header = f"{n} {t.month}/{t.day}/{t.year} {hour}:{t:%M:%S} {ap}"
        elif i % 3 == 1:
            header = f"{title}{n} {t.year}/{t.month}/{t.day} {t.hour}:{t:%M:%S}"
        else:
            header = (f"{title}{n} {t.year}/{t.month}/{t.day} 星期{WEEKDAYS[t.weekday()]} "
                      f"{'上午' if ap == 'AM' else '下午'} {hour}:{t:%M:%S}")
        text += f"{header}\n{b}\n"
    _check(text, "qq_window", [(_aware(t), n, b) for n, t, b in msgs])


@settings(max_examples=60, deadline=None)
@given(msgs=st.lists(st.tuples(names, moments, bodies), min_size=2, max_size=6), chinese=st.booleans())
def test_round_trip_qq_mobile(msgs: Msgs, chinese: bool) -> None:
    text, day = "", None
    for n, t, b in msgs:
        if t.date() != day:
            day = t.date()
            text += f"{t.year}年{t.month}月{t.day}日\n"
        hour, ap = _h12(t)
        clock = f"{'上午' if ap == 'AM' else '下午'} {hour}:{t:%M}" if chinese else f"{t.hour}:{t:%M}"
        text += f"{n} {clock}\n{b}\n"
    _check(text, "qq_mobile", [(_aware(t, seconds=False), n, b) for n, t, b in msgs])


@settings(max_examples=60, deadline=None)
@given(msgs=st.lists(st.tuples(names, moments, bodies), min_size=2, max_size=6))
def test_round_trip_qqnt(msgs: Msgs) -> None:
    text = "".join(f"{n} {t.hour}:{t:%M:%S}\n{b}\n" for n, t, b in msgs)
    transcript, findings = parse(text)
    assert transcript.format == "qqnt"
    assert [(m.time, m.clock, m.speaker, m.text) for m in transcript.messages] == [
        (None, t.time(), n, b) for n, t, b in msgs
    ]
    assert "chat.no_dates" in codes(findings)


@settings(max_examples=60, deadline=None)
@given(msgs=messages_st)
def test_round_trip_wechatmsg_txt(msgs: Msgs) -> None:
    text = "".join(f"{t:%Y-%m-%d %H:%M:%S} {n}\n{b}\n\n" for n, t, b in msgs)
    _check(text, "wechatmsg", [(_aware(t), n, b) for n, t, b in msgs])


@settings(max_examples=60, deadline=None)
@given(msgs=messages_st, senders=st.lists(st.booleans(), min_size=6, max_size=6),
       epoch=st.lists(st.booleans(), min_size=6, max_size=6))
def test_round_trip_wechatmsg_csv(msgs: Msgs, senders: list[bool], epoch: list[bool]) -> None:
    data = _csv([
        [str(i), "7", "1", "0", "1" if senders[i] else "0",
         str(int(_aware(t).timestamp())), "2", b, "" if epoch[i] else f"{t:%Y-%m-%d %H:%M:%S}", n, n, ""]
        for i, (n, t, b) in enumerate(msgs)
    ])
    transcript, _ = parse_chat(data, SHANGHAI)
    assert transcript.format == "wechat_csv"
    assert rows(transcript) == [(_aware(t), "我" if senders[i] else n, b) for i, (n, t, b) in enumerate(msgs)]


@settings(max_examples=60, deadline=None)
@given(msgs=messages_st, wide=st.booleans())
def test_round_trip_wechatexporter(msgs: Msgs, wide: bool) -> None:
    open_, close, colon = ("（", "）", "：") if wide else (" (", ")", ":")
    text = "".join(f"{n}{open_}{t:%Y-%m-%d %H:%M:%S}{close}{colon}{b}\n" for n, t, b in msgs)
    _check(text, "wechatexporter", [(_aware(t), n, b) for n, t, b in msgs])


@settings(max_examples=60, deadline=None)
@given(msgs=st.lists(st.tuples(names, bodies), min_size=2, max_size=6))
def test_round_trip_wechat_windows(msgs: list[tuple[str, str]]) -> None:
    assume(len({n for n, _ in msgs}) >= 2)
    text = "".join(f"{n}:\n{b}\n\n" for n, b in msgs)
    transcript, findings = parse(text)
    assert transcript.format == "wechat_win"
    assert rows(transcript) == [(None, n, b) for n, b in msgs]
    assert "chat.no_times" in codes(findings)


@settings(max_examples=40, deadline=None)
@given(t=moments)
def test_a_12_hour_qq_time_is_never_12_hours_off(t: datetime) -> None:
    hour, ap = _h12(t)
    text = QQ_BANNER + f"{t:%Y-%m-%d} {hour}:{t:%M:%S} {ap} 阿强(123456)\n你好\n"
    transcript, _ = parse(text)
    assert transcript.messages[0].time == _aware(t)
    assert transcript.messages[0].time.astimezone(UTC) == _aware(t).astimezone(UTC)


def test_chat_message_clock_defaults_to_none() -> None:
    assert ChatMessage(None, "阿强", "你好", "self").clock is None


# ---------------------------------------------------------------------------------------------
# What the dossier shows of the new formats
# ---------------------------------------------------------------------------------------------


def test_every_parser_name_is_a_chat_format() -> None:
    from evidencekit.media.chats import FORMAT_ORDER
    from evidencekit.model import ChatFormat

    # qq_clock is the one parser that names its result itself (qq_mobile or qqnt)
    assert {*FORMAT_ORDER} - {"qq_clock"} <= {f.value for f in ChatFormat}
    assert {"qq_mobile", "qqnt", "unknown"} <= {f.value for f in ChatFormat}


def test_time_of_day_only_messages_show_their_clock_in_the_dossier(tmp_path: Path) -> None:
    import pypdfium2

    from evidencekit.pipeline import BuildOptions, build_dossier

    case = tmp_path / "case"
    chat = case / "evidence" / "chat" / "export.txt"
    chat.parent.mkdir(parents=True)
    chat.write_text("阿强 19:21:05\n你好\n客服小美 19:22:10\n在的\n", encoding="utf-8")
    out = tmp_path / "d.pdf"
    build_dossier(case, BuildOptions(output=out, force=True, jobs=1))
    doc = pypdfium2.PdfDocument(str(out))
    try:
        text = "".join(doc[i].get_textpage().get_text_range() for i in range(len(doc)))
    finally:
        doc.close()
    assert "19:21:05" in text and "19:22:10" in text
    assert "qqnt" not in text
