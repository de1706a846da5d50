"""Chat text exports: encodings, the four formats, sides, bounds, and property tests."""

from __future__ import annotations

import codecs
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from factories import make_source_file, sh
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evidencekit.cache import DisplayCache
from evidencekit.media import chats
from evidencekit.media.base import MediaContext
from evidencekit.media.chats import (
    LINE_CUT_MARK,
    NO_NICKNAME,
    decode_text,
    inspect_chat,
    parse_chat,
    parse_plain,
    parse_qianniu,
    parse_qq,
    parse_wechat,
)
from evidencekit.model import (
    SHANGHAI,
    ChatMessage,
    EvidenceKind,
    Finding,
    MediaType,
    Severity,
    Transcript,
)

QIANNIU_LINES = [
    "当前用户来自 手机淘宝",
    "[好物优选旗舰店:小美] 2024-11-14 19:21:40",
    "亲，在的呢，请问有什么可以帮您",
    "[tb_buyer123] 2024-11-14 19:22:05",
    "包是人造革的，不是头层牛皮",
    "直播间说的是真皮",
    "已读",
    "由 服务助手 转交给 好物优选旗舰店:售后",
    "好物优选旗舰店:售后2024-11-14 19:30:00",
    "亲，这边帮您核实一下",
    "tb_buyer123撤回了一条消息",
    "tb_buyer123 2024-11-14 19:31:12 未读",
    "好的，请尽快",
]
QIANNIU_GB18030_CRLF = "\r\n".join(QIANNIU_LINES).encode("gb18030")

INVISIBLE = "\u3164" * 5
WECHAT_COPY = (
    f"{INVISIBLE}\n2026年09月29日 13:58\n你好，我买的包有问题\n\n还有发票没给\n\n"
    "好物优选客服\n2026年09月29日 14:05\n[图片] 微信图片_20260929171551_484.dat\n\n"
    f"{INVISIBLE}\n2026年09月29日 14:07\n请尽快处理\n"
)

QQ_EXPORT = (
    "消息记录（此消息记录为文本格式，不支持重新导入）\r\n\r\n"
    "================================================================\r\n"
    "消息分组:我的好友\r\n"
    "================================================================\r\n"
    "消息对象:小美\r\n"
    "================================================================\r\n\r\n"
    "2019-10-18 16:22:08 小美(123456)\r\n亲，已经发货了\r\n\r\n"
    "2019-10-18 16:25:31 张三(7654321)\r\n收到的是坏的\r\n第二行\r\n\r\n"
)

PLAIN = (
    "2024-11-14 19:21 客服: 您好\n"
    "2024-11-14 19:21:40 我：包是假的\n接着说\n"
    "2024-11-14 19:23 客服：核实中\n"
)


def _ctx(tmp_path: Path, **names: tuple[str, ...]) -> MediaContext:
    return MediaContext(cache=DisplayCache(tmp_path / "cache"), **names)  # type: ignore[arg-type]


def _codes(findings: tuple[Finding, ...]) -> set[str]:
    return {f.code for f in findings}


# ---------------------------------------------------------------------------------------------
# Decoding
# ---------------------------------------------------------------------------------------------


def test_decode_prefers_strict_utf8_then_gb18030_and_normalises_newlines() -> None:
    assert decode_text("客服\r\n你好\r".encode()) == chats.DecodedText("客服\n你好\n", "utf-8", False, 0)
    gbk = decode_text("客服\r\n你好".encode("gb18030"))
    assert (gbk.text, gbk.encoding, gbk.had_errors) == ("客服\n你好", "gb18030", False)
    assert decode_text(b"plain ascii").encoding == "utf-8"


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (codecs.BOM_UTF8 + "退货\r\n".encode(), "utf-8-sig"),
        (codecs.BOM_UTF16_LE + "退货\r\n".encode("utf-16-le"), "utf-16-le"),
        (codecs.BOM_UTF16_BE + "退货\r\n".encode("utf-16-be"), "utf-16-be"),
    ],
)
def test_decode_boms(data: bytes, encoding: str) -> None:
    decoded = decode_text(data)
    assert (decoded.text, decoded.encoding, decoded.had_errors) == ("退货\n", encoding, False)


def test_decode_bomless_utf16_with_ascii_times() -> None:
    decoded = decode_text("2024-11-14 19:21 客服: 您好\n".encode("utf-16-le"))
    assert (decoded.text, decoded.encoding) == ("2024-11-14 19:21 客服: 您好\n", "utf-16-le")


def test_gbk_that_is_valid_utf8_by_accident_is_read_as_gbk() -> None:
    # "小" in GBK is D0 A1, which UTF-8 reads as Cyrillic "С".
    data = "小2000-1-1 0:00:00\n0".encode("gb18030")
    assert data.decode("utf-8")  # the accident this test is about
    decoded = decode_text(data)
    assert (decoded.text, decoded.encoding) == ("小2000-1-1 0:00:00\n0", "gb18030")
    assert decode_text("Привет 你好".encode()).encoding == "utf-8"  # Chinese present: trust UTF-8


def test_invalid_byte_in_utf8_keeps_the_chinese_around_it() -> None:
    decoded = decode_text("商家承诺假一赔十".encode() + b"\xff" + "请尽快退款".encode())
    assert decoded.encoding == "utf-8" and decoded.had_errors and decoded.replaced == 1
    assert decoded.text == "商家承诺假一赔十\ufffd请尽快退款"


def test_invalid_byte_in_gbk_keeps_the_chinese_around_it() -> None:
    decoded = decode_text("商家承诺假一赔十".encode("gbk") + b"\xff" + "请尽快退款".encode("gbk"))
    assert decoded.encoding == "gb18030" and decoded.had_errors
    assert decoded.text == "商家承诺假一赔十\ufffd请尽快退款"


def test_cut_inside_a_character_is_not_an_invalid_byte() -> None:
    data = "退货退款".encode()[:-1]
    assert decode_text(data, final=False) == chats.DecodedText("退货退", "utf-8", False, 0)
    assert decode_text(data).had_errors


# ---------------------------------------------------------------------------------------------
# 千牛 / 旺旺
# ---------------------------------------------------------------------------------------------


def test_qianniu_gb18030_crlf_with_system_and_status_lines() -> None:
    transcript, findings = parse_chat(QIANNIU_GB18030_CRLF, SHANGHAI)
    assert (transcript.format, transcript.encoding) == ("qianniu", "gb18030")
    assert findings == ()
    got = [(m.time, m.speaker, m.side, m.text) for m in transcript.messages]
    assert got == [
        (None, "", "system", "当前用户来自 手机淘宝"),
        (sh(2024, 11, 14, 19, 21, 40), "好物优选旗舰店:小美", "other", "亲，在的呢，请问有什么可以帮您"),
        (sh(2024, 11, 14, 19, 22, 5), "tb_buyer123", "self",
         "包是人造革的，不是头层牛皮\n直播间说的是真皮（已读）"),
        (None, "", "system", "由 服务助手 转交给 好物优选旗舰店:售后"),
        (sh(2024, 11, 14, 19, 30, 0), "好物优选旗舰店:售后", "other", "亲，这边帮您核实一下"),
        (None, "", "system", "tb_buyer123撤回了一条消息"),
        (sh(2024, 11, 14, 19, 31, 12), "tb_buyer123", "self", "好的，请尽快（未读）"),
    ]
    assert all(m.has_seconds for m in transcript.messages)
    assert not any("\r" in m.text for m in transcript.messages)


def test_qianniu_with_an_invalid_byte_still_parses_and_keeps_text() -> None:
    word = "人造革".encode("gb18030")
    data = QIANNIU_GB18030_CRLF.replace(word, b"\xff" + word)
    transcript, findings = parse_chat(data, SHANGHAI)
    assert transcript.format == "qianniu" and transcript.encoding == "gb18030"
    assert "chat.invalid_bytes" in _codes(findings)
    buyer = transcript.messages[2]
    assert buyer.text.startswith("包是\ufffd人造革的，不是头层牛皮")
    assert buyer.time == sh(2024, 11, 14, 19, 22, 5)


def test_qianniu_parser_declines_text_without_qianniu_marks() -> None:
    assert parse_qianniu("张三 2024-01-01 12:00:00\n你好\n", SHANGHAI) is None
    assert parse_wechat("张三 2024-01-01 12:00:00\n你好\n", SHANGHAI) is not None


# ---------------------------------------------------------------------------------------------
# WeChat
# ---------------------------------------------------------------------------------------------


def test_wechat_minutes_only_copy_with_blank_line_in_body_and_invisible_nickname() -> None:
    transcript, findings = parse_chat(WECHAT_COPY.encode(), SHANGHAI)
    assert transcript.format == "wechat" and findings == ()
    got = [(m.time, m.speaker, m.side, m.text, m.has_seconds) for m in transcript.messages]
    assert got == [
        (sh(2026, 9, 29, 13, 58, 0), NO_NICKNAME, "self", "你好，我买的包有问题\n\n还有发票没给", False),
        (sh(2026, 9, 29, 14, 5, 0), "好物优选客服", "other", "[图片] 微信图片_20260929171551_484.dat", False),
        (sh(2026, 9, 29, 14, 7, 0), NO_NICKNAME, "self", "请尽快处理", False),
    ]


def test_wechat_one_line_and_seconds_variants() -> None:
    messages = parse_wechat("张三 2024-01-01 12:00:05\n在吗\n店小二\n2024年1月1日 12:01:30\n在的\n", SHANGHAI)
    assert messages is not None
    assert [(m.time, m.speaker, m.text, m.has_seconds) for m in messages] == [
        (sh(2024, 1, 1, 12, 0, 5), "张三", "在吗", True),
        (sh(2024, 1, 1, 12, 1, 30), "店小二", "在的", True),
    ]


def test_two_invisible_nicknames_stay_distinct() -> None:
    text = f"{INVISIBLE}\n2024年01月01日 12:00\n甲\n\n\u3164\u3164\n2024年01月01日 12:01\n乙\n"
    messages = parse_wechat(text, SHANGHAI)
    assert messages is not None
    assert [m.speaker for m in messages] == ["（无昵称1）", "（无昵称2）"]
    assert {m.side for m in messages} == {"self", "other"}


# ---------------------------------------------------------------------------------------------
# QQ and plain
# ---------------------------------------------------------------------------------------------


def test_qq_export_uses_message_object_as_the_other_side() -> None:
    transcript, findings = parse_chat(QQ_EXPORT.encode("gb18030"), SHANGHAI)
    assert transcript.format == "qq" and findings == ()
    got = [(m.time, m.speaker, m.side, m.text) for m in transcript.messages]
    assert got == [
        (sh(2019, 10, 18, 16, 22, 8), "小美(123456)", "other", "亲，已经发货了"),
        (sh(2019, 10, 18, 16, 25, 31), "张三(7654321)", "self", "收到的是坏的\n第二行"),
    ]


def test_plain_form_with_and_without_seconds_and_full_width_colon() -> None:
    transcript, _ = parse_chat(PLAIN.encode(), SHANGHAI)
    assert transcript.format == "plain"
    got = [(m.time, m.speaker, m.side, m.text, m.has_seconds) for m in transcript.messages]
    assert got == [
        (sh(2024, 11, 14, 19, 21, 0), "客服", "other", "您好", False),
        (sh(2024, 11, 14, 19, 21, 40), "我", "self", "包是假的\n接着说", True),
        (sh(2024, 11, 14, 19, 23, 0), "客服", "other", "核实中", False),
    ]


def test_times_are_read_in_the_given_zone() -> None:
    utc = UTC
    messages = parse_plain("2024-11-14 19:21:40 我: hi\n", utc)
    assert messages is not None and messages[0].time == datetime(2024, 11, 14, 19, 21, 40, tzinfo=utc)


def test_invalid_dates_are_not_headers() -> None:
    assert parse_plain("2024-02-30 10:00 我: hi\n2024-11-14 25:00 我: hi\n", SHANGHAI) is None
    assert parse_plain("1850-01-01 10:00 我: hi\n", SHANGHAI) is None


def test_too_much_text_before_the_first_header_is_not_that_format() -> None:
    junk = "".join(f"随便写的第{i}行\n" for i in range(11))
    assert parse_plain(junk + "2024-11-14 19:21 我: hi\n", SHANGHAI) is None
    few = parse_plain("以下为聊天记录\n2024-11-14 19:21 我: hi\n", SHANGHAI)
    assert few is not None and few[0] == ChatMessage(None, "", "以下为聊天记录", "system")


# ---------------------------------------------------------------------------------------------
# Sides and findings
# ---------------------------------------------------------------------------------------------


def test_case_names_decide_sides() -> None:
    text = "2024-11-14 19:21 小美: 您好\n2024-11-14 19:22 阿强: 退货\n"
    transcript, findings = parse_chat(text.encode(), SHANGHAI, self_names=["阿强"])
    assert [m.side for m in transcript.messages] == ["other", "self"]
    assert "chat.sides_guessed" not in _codes(findings)
    transcript, _ = parse_chat(text.encode(), SHANGHAI, merchant_names=["好物优选小美旗舰店"])
    assert [m.side for m in transcript.messages] == ["other", "self"]


def test_unknown_names_fall_back_to_first_speaker_as_self_with_a_note() -> None:
    text = "2024-11-14 19:21 小美: 您好\n2024-11-14 19:22 阿强: 退货\n"
    transcript, findings = parse_chat(text.encode(), SHANGHAI)
    assert [m.side for m in transcript.messages] == ["self", "other"]
    assert "chat.sides_guessed" in _codes(findings)


def test_one_sided_chat_is_flagged() -> None:
    one, findings = parse_chat("2024-11-14 19:21 我: 在吗\n2024-11-14 19:25 我: 在吗？\n".encode(), SHANGHAI)
    assert one.format == "plain"
    flagged = [f for f in findings if f.code == "chat.one_sided"]
    assert flagged and flagged[0].severity is Severity.WARNING
    assert flagged[0].message == "聊天记录只有一方的发言，证明力较弱"
    _, both = parse_chat(PLAIN.encode(), SHANGHAI)
    assert "chat.one_sided" not in _codes(both)


def test_unrecognised_text_is_kept_whole_with_a_finding() -> None:
    text = "我在直播间买了一个包\n主播说是真皮\n"
    transcript, findings = parse_chat(text.encode("gb18030"), SHANGHAI)
    assert transcript == Transcript(format="unknown", encoding="gb18030", raw_text=text)
    assert [(f.code, f.severity, f.message) for f in findings] == [
        ("chat.unrecognised", Severity.WARNING, "未能识别聊天记录格式，按原文显示")
    ]


def test_empty_file() -> None:
    transcript, findings = parse_chat(b"\r\n  \n", SHANGHAI)
    assert transcript.format == "unknown" and _codes(findings) == {"chat.empty"}


# ---------------------------------------------------------------------------------------------
# Bounds
# ---------------------------------------------------------------------------------------------


def test_oversized_file_is_cut_at_the_byte_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chats, "MAX_CHAT_BYTES", 200)
    data = PLAIN.encode() * 10  # 3-byte characters: the cut lands inside one
    transcript, findings = parse_chat(data, SHANGHAI)
    assert "chat.too_large" in _codes(findings)
    assert "chat.invalid_bytes" not in _codes(findings)
    assert transcript.format == "plain"
    assert len("\n".join(m.text for m in transcript.messages).encode()) < 200


def test_message_count_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chats, "MAX_MESSAGES", 5)
    text = "".join(f"2024-11-14 19:{i:02d} {'我' if i % 2 else '客服'}: 第{i}条\n" for i in range(12))
    transcript, findings = parse_chat(text.encode(), SHANGHAI)
    assert [m.text for m in transcript.messages] == [f"第{i}条" for i in range(5)]
    assert "chat.too_many_messages" in _codes(findings)


def test_long_lines_are_cut_with_a_marker() -> None:
    long_body = "长" * (chats.MAX_LINE_CHARS + 50)
    transcript, findings = parse_chat(f"2024-11-14 19:21 我: {long_body}\n".encode(), SHANGHAI)
    text = transcript.messages[0].text
    assert text.endswith(LINE_CUT_MARK) and len(text) < chats.MAX_LINE_CHARS + len(LINE_CUT_MARK)
    assert "chat.long_lines" in _codes(findings)


def test_real_size_limits() -> None:
    assert chats.MAX_CHAT_BYTES == 5 * 1024 * 1024
    assert chats.MAX_MESSAGES == 20_000
    assert chats.MAX_LINE_CHARS == 10_000


# ---------------------------------------------------------------------------------------------
# inspect_chat
# ---------------------------------------------------------------------------------------------


def test_inspect_chat_reads_the_original_without_changing_it(tmp_path: Path) -> None:
    source = make_source_file(tmp_path, "evidence/chat/千牛.txt", QIANNIU_GB18030_CRLF, EvidenceKind.CHAT)
    before = (source.path.read_bytes(), source.path.stat().st_mtime_ns)
    inspection = inspect_chat(source, None, _ctx(tmp_path))
    assert inspection.media is MediaType.CHAT
    assert inspection.transcript is not None and inspection.transcript.format == "qianniu"
    assert inspection.embedded_time is None
    assert (source.path.read_bytes(), source.path.stat().st_mtime_ns) == before


def test_inspect_chat_unknown_text_and_finding_subject(tmp_path: Path) -> None:
    rel = "evidence/chat/说明.txt"
    source = make_source_file(tmp_path, rel, "只是一段说明\n".encode(), EvidenceKind.CHAT)
    inspection = inspect_chat(source, None, _ctx(tmp_path))
    assert inspection.media is MediaType.TEXT
    assert inspection.transcript is not None and inspection.transcript.raw_text == "只是一段说明\n"
    assert [(f.code, f.subject) for f in inspection.findings] == [("chat.unrecognised", rel)]


def test_inspect_chat_takes_case_names_from_context(tmp_path: Path) -> None:
    data = "2024-11-14 19:21 小美: 您好\n2024-11-14 19:22 阿强: 退货\n".encode()
    source = make_source_file(tmp_path, "evidence/chat/a.txt", data, EvidenceKind.CHAT)
    inspection = inspect_chat(source, None, _ctx(tmp_path, chat_merchant_names=("阿强",)))
    assert inspection.transcript is not None
    assert [m.side for m in inspection.transcript.messages] == ["self", "other"]
    assert not inspection.findings


def test_inspect_chat_unreadable_file_is_a_finding(tmp_path: Path) -> None:
    source = make_source_file(tmp_path, "evidence/chat/gone.txt", b"x", EvidenceKind.CHAT)
    source.path.unlink()
    inspection = inspect_chat(source, None, _ctx(tmp_path))
    assert inspection.preview_error and _codes(inspection.findings) == {"chat.unreadable"}


# ---------------------------------------------------------------------------------------------
# Property tests
# ---------------------------------------------------------------------------------------------

Parser = Callable[..., tuple[ChatMessage, ...] | None]
PARSERS: list[Parser] = [parse_wechat, parse_qianniu, parse_qq, parse_plain]

# Pieces that reach the headers, system lines and odd dates, mixed with arbitrary text.
FRAGMENTS = [
    "2024-01-01 10:00:00", "2024-1-1 9:05:00", "2026年09月29日 13:58", "2024-13-40 25:99:99",
    "0000-00-00 00:00",
    "[客服]", "【店】", "我：", "客服: ", "已读", "未读", "\n", "\r\n", "\r", " ", "\u3000", INVISIBLE,
    "消息记录（此消息记录为文本格式，不支持重新导入）", "消息对象:小美", "=====", "(123456)", "<a@b.c>",
    "由 服务助手 转交给 店", "撤回了一条消息", "当前用户来自", "\ufffd", "\x00", "٢٠٢٤",
]
chat_like_text = st.lists(
    st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=6)), max_size=40
).map("".join)
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _check_messages(messages: tuple[ChatMessage, ...] | None) -> None:
    if messages is None:
        return
    for message in messages:
        assert message.side in ("self", "other", "system")
        assert message.time is None or message.time.tzinfo is not None


@FAST
@given(text=st.one_of(st.text(), chat_like_text))
def test_parsers_never_raise(text: str) -> None:
    for parser in PARSERS:
        _check_messages(parser(text, SHANGHAI))


@FAST
@given(data=st.one_of(
    st.binary(max_size=400),
    st.tuples(chat_like_text, st.sampled_from(["utf-8", "gb18030", "utf-16", "utf-8-sig"])).map(
        lambda pair: pair[0].encode(pair[1], errors="replace")),
))
def test_parse_chat_never_raises(data: bytes) -> None:
    transcript, findings = parse_chat(data, SHANGHAI)
    assert transcript.format in (*chats.FORMAT_ORDER, "qq_mobile", "qqnt", "unknown")
    if transcript.format == "unknown":
        assert transcript.messages == () and findings
    _check_messages(transcript.messages)


# Round trips: names and bodies from alphabets without ":" so no body line can look like a header.
NAME_CHARS = "张三李四小美阿强好物优选tb_buyerABCxyz0123456789"
BODY_CHARS = "退货款包质量问题请尽快处理好的亲您稍等我们核实一下abcXYZ0123456789 ，。！？[]()-_/#"
names = st.text(NAME_CHARS, min_size=1, max_size=12)
body_line = st.text(BODY_CHARS, min_size=1, max_size=20).map(str.strip).filter(bool)
bodies = st.lists(st.one_of(body_line, st.just("")), min_size=0, max_size=3).flatmap(
    lambda middle: st.tuples(body_line, body_line).map(lambda ends: "\n".join([ends[0], *middle, ends[1]]))
)
moments = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2099, 12, 31))
messages_st = st.lists(st.tuples(names, moments, bodies), min_size=1, max_size=6)


def _aware(moment: datetime, seconds: bool = True) -> datetime:
    return moment.replace(microsecond=0, second=moment.second if seconds else 0, tzinfo=SHANGHAI)


def _wechat_blocks(msgs: list[tuple[str, datetime, str]]) -> str:
    return "".join(f"{n}\n{t:%Y年%m月%d日 %H:%M}\n{b}\n\n" for n, t, b in msgs)


def _wechat_one_line(msgs: list[tuple[str, datetime, str]]) -> str:
    return "".join(f"{n} {t:%Y-%m-%d %H:%M:%S}\n{b}\n" for n, t, b in msgs)


def _qianniu_brackets(msgs: list[tuple[str, datetime, str]]) -> str:
    return "\r\n".join(f"[{n}] {t:%Y-%m-%d %H:%M:%S}\r\n{b}".replace("\n", "\r\n") for n, t, b in msgs)


def _qianniu_no_space(msgs: list[tuple[str, datetime, str]]) -> str:
    return "\n".join(f"{n}{t.year}-{t.month}-{t.day} {t.hour}:{t:%M:%S}\n{b}" for n, t, b in msgs)


def _qq(msgs: list[tuple[str, datetime, str]]) -> str:
    head = "消息记录（此消息记录为文本格式，不支持重新导入）\n\n=====\n消息对象:对方\n=====\n\n"
    return head + "".join(f"{t:%Y-%m-%d %H:%M:%S} {n}(12345{i})\n{b}\n\n" for i, (n, t, b) in enumerate(msgs))


def _plain(msgs: list[tuple[str, datetime, str]]) -> str:
    # Alternate the ASCII and the full-width colon.
    return "".join(f"{t:%Y-%m-%d %H:%M:%S} {n}{'：' if i % 2 else ': '}{b}\n"
                   for i, (n, t, b) in enumerate(msgs))


ROUND_TRIPS = [
    ("wechat", parse_wechat, _wechat_blocks, False, False),
    ("wechat", parse_wechat, _wechat_one_line, True, False),
    ("qianniu", parse_qianniu, _qianniu_brackets, True, False),
    ("qianniu", parse_qianniu, _qianniu_no_space, True, False),
    ("qq", parse_qq, _qq, True, True),
    ("plain", parse_plain, _plain, True, False),
]


@pytest.mark.parametrize(("fmt", "parser", "render", "seconds", "qq_ids"), ROUND_TRIPS,
                         ids=[r[2].__name__ for r in ROUND_TRIPS])
@settings(max_examples=60, deadline=None)
@given(msgs=messages_st)
def test_round_trip(fmt: str, parser: Parser,
                    render: Callable[[list[tuple[str, datetime, str]]], str], seconds: bool, qq_ids: bool,
                    msgs: list[tuple[str, datetime, str]]) -> None:
    text = render(msgs)
    want = [
        (_aware(t, seconds), f"{n}(12345{i})" if qq_ids else n, b, seconds)
        for i, (n, t, b) in enumerate(msgs)
    ]
    parsed = parser(text, SHANGHAI)
    assert parsed is not None
    assert [(m.time, m.speaker, m.text, m.has_seconds) for m in parsed] == want
    for encoding in ("utf-8", "gb18030"):
        transcript, _ = parse_chat(text.encode(encoding), SHANGHAI)
        assert transcript.format == fmt
        assert [(m.time, m.speaker, m.text) for m in transcript.messages] == [w[:3] for w in want]


def test_offset_zone_round_trip() -> None:
    zone = timezone(timedelta(hours=-5))
    messages = parse_qq(_qq([("阿强", datetime(2024, 3, 10, 2, 30, 0), "你好")]), zone)
    assert messages is not None and messages[0].time == datetime(2024, 3, 10, 2, 30, tzinfo=zone)
