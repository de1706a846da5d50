"""Customer-service chat text exports: decode, recognise the format, parse into a transcript.

Formats: the WeChat multi-select copy (phone/Mac one- and two-line
headers, Windows ``昵称:`` without times), the 千牛/旺旺 copy, the QQ message-manager TXT export
(24- and 12-hour clocks, 上午/下午, QQ numbers, e-mail ids or none), QQ PC chat-window copies, QQ
mobile multi-select and QQNT copies (a time of day, no date invented), WeChatMsg/留痕 TXT and CSV,
WechatExporter TXT, and a plain ``time speaker: text`` form. Chat files come from strangers (volunteers receive case
folders), so every parser takes any text without raising, sizes are bounded, and a file that no
parser recognises is kept as plain text with a finding instead of being dropped.

Parsers never guess times: a message time is what the export wrote, read in the case's zone.
"""

from __future__ import annotations

import codecs
import csv
import io
import math
import re
import unicodedata
from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, tzinfo
from datetime import time as TimeOfDay

from evidencekit.errors import OriginalChanged
from evidencekit.integrity.originals import read_original
from evidencekit.media.base import EXHIBIT_BOX_WIDTH_PT, MAX_EXHIBIT_PAGES, MediaContext
from evidencekit.model import (
    ChatFormat,
    ChatInspection,
    ChatMessage,
    ChatSide,
    EvidenceOverride,
    Finding,
    Inspection,
    Severity,
    SourceFile,
    TextInspection,
    Transcript,
    UnknownInspection,
)

# ".csv" only for CSVs that look like a chat export (WeChatMsg/留痕); any other CSV is reported
# as unsupported by inspect_chat, as it was before.
CHAT_SUFFIXES = frozenset({".txt", ".text", ".log", ".csv"})

# Bounds for untrusted input. A year of daily customer-service chat is well under 1 MB of text.
MAX_CHAT_BYTES = 5 * 1024 * 1024
MAX_MESSAGES = 20_000
MAX_LINE_CHARS = 10_000
LINE_CUT_MARK = "…（此行过长，已截断）"
# Lines parsed at most: 5 MB of bare newlines would otherwise be five million lines for each of
# the four parsers. A year of daily chat is well under 100,000 lines.
MAX_CHAT_LINES = 200_000
# One message is shown up to this size; a body that runs on (a file with one header and then
# megabytes of text) is clipped with a note rather than typeset as one giant paragraph.
MAX_MESSAGE_CHARS = MAX_LINE_CHARS + 100  # a single cut line still shows whole, with its mark
MAX_MESSAGE_LINES = 200
MESSAGE_CUT_MARK = "…（本条消息过长，只显示了开头；完整内容见附件原件）"
# Lines before the first message header that a format still tolerates (an export title, a
# "以下为聊天记录" note). More than this and the text is probably not a chat in that format.
MAX_PREAMBLE_LINES = 10

NO_NICKNAME = "（无昵称）"

# Priority on a tie: the most specific format first.
FORMAT_ORDER = ("wechat_csv", "qq", "qianniu", "wechatexporter", "qq_window", "wechat", "wechatmsg", "qq_clock", "plain",
                "wechat_win")


# ---------------------------------------------------------------------------------------------
# Decoding
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DecodedText:
    text: str  # newlines normalised to "\n"
    encoding: str  # "utf-8", "utf-8-sig", "utf-16-le", "utf-16-be", "gb18030"
    had_errors: bool  # invalid bytes were replaced with U+FFFD
    replaced: int = 0  # how many U+FFFD the replacement produced


_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig", "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "utf-16-be"),
)


def decode_text(data: bytes, *, final: bool = True) -> DecodedText:
    """BOM → strict UTF-8 → strict GB18030 → the better of the two with replacement marks.

    ``final=False`` when ``data`` was cut from a longer file: a multi-byte character split by the
    cut is then dropped quietly instead of counting as an invalid byte.
    """
    for bom, label, codec in _BOMS:
        if data.startswith(bom):
            text, bad = _decode(data[len(bom):], codec, final)
            return DecodedText(_normalise_newlines(text), label, bad > 0, bad)
    # Windows "Unicode" text without a BOM: ASCII-heavy UTF-16 has a NUL in every other byte,
    # which strict UTF-8 would accept and show as garbage.
    utf16 = _bomless_utf16(data)
    if utf16 is not None:
        text, bad = _decode(data, utf16, final)
        if bad == 0:
            return DecodedText(_normalise_newlines(text), utf16, False, 0)
    utf8_text, utf8_bad = _decode(data, "utf-8", final)
    if utf8_bad == 0:
        if _cjk_count(utf8_text) == 0 and _implausible_count(utf8_text) > 0:
            # Short GBK text is now and then valid UTF-8 by accident ("小" is D0 A1, Cyrillic
            # "С" in UTF-8). A Chinese chat read as UTF-8 without one Chinese character, but
            # with odd letters, is that accident when GB18030 reads it as clean Chinese.
            gb_text, gb_bad = _decode(data, "gb18030", final)
            if gb_bad == 0 and _cjk_count(gb_text) > 0 and _implausible_count(gb_text) == 0:
                return DecodedText(_normalise_newlines(gb_text), "gb18030", False, 0)
        return DecodedText(_normalise_newlines(utf8_text), "utf-8", False, 0)
    gb_text, gb_bad = _decode(data, "gb18030", final)
    if gb_bad == 0:
        return DecodedText(_normalise_newlines(gb_text), "gb18030", False, 0)
    # Both failed. GBK bytes decoded as UTF-8 fail about once per character, while UTF-8 text
    # with a damaged byte still holds many well-formed multi-byte characters; GB18030 accepts
    # most UTF-8 byte pairs (as mojibake), so its error count alone would mislead.
    utf8_good = sum(1 for ch in utf8_text if ord(ch) > 0x7F and ch != "\ufffd")
    if utf8_good >= utf8_bad or utf8_bad <= gb_bad:
        return DecodedText(_normalise_newlines(utf8_text), "utf-8", True, utf8_bad)
    return DecodedText(_normalise_newlines(gb_text), "gb18030", True, gb_bad)


def _decode(data: bytes, codec: str, final: bool) -> tuple[str, int]:
    """Decode with replacement; return the text and how many replacements were made."""
    try:
        return codecs.getincrementaldecoder(codec)("strict").decode(data, final), 0
    except UnicodeDecodeError:
        text = codecs.getincrementaldecoder(codec)("replace").decode(data, final)
        return text, max(text.count("\ufffd"), 1)


def _cjk_count(text: str) -> int:
    return sum(1 for ch in text if "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf")


def _implausible_count(text: str) -> int:
    """Characters a Chinese chat rarely holds: not ASCII, CJK, CJK/full-width punctuation,
    general punctuation or emoji."""
    return sum(1 for ch in text if not (
        ch < "\x80" or "\u2000" <= ch <= "\u206f" or "\u3000" <= ch <= "\u303f" or "\u3400" <= ch <= "\u9fff"
        or "\uff00" <= ch <= "\uffef" or ch >= "\U0001f000"
    ))


def _bomless_utf16(data: bytes) -> str | None:
    sample = data[:4096]
    half = len(sample) // 2
    if half < 4 or len(sample) % 2:
        return None
    even_zeros = sample[0::2].count(0)
    odd_zeros = sample[1::2].count(0)
    if odd_zeros > half * 0.2 and even_zeros < half * 0.02:
        return "utf-16-le"
    if even_zeros > half * 0.2 and odd_zeros < half * 0.02:
        return "utf-16-be"
    return None


def _normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _lines(text: str) -> list[str]:
    # Not str.splitlines(): it also splits on \x0b, \x1c, U+2028 ..., which can sit in a body.
    return _normalise_newlines(text).split("\n")


def _cut_long_lines(text: str) -> tuple[str, int]:
    lines = text.split("\n")
    long_count = sum(1 for line in lines if len(line) > MAX_LINE_CHARS)
    if not long_count:
        return text, 0
    cut = [line[:MAX_LINE_CHARS] + LINE_CUT_MARK if len(line) > MAX_LINE_CHARS else line for line in lines]
    return "\n".join(cut), long_count


# ---------------------------------------------------------------------------------------------
# Invisible junk: one visible marker per run
# ---------------------------------------------------------------------------------------------

# C0 and C1 control characters except tab and newline (carriage returns are already newlines).
_CONTROL_RUN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]+")
# A few replacement characters stay as they are (the chat.invalid_bytes finding explains them).
_REPLACEMENT_RUN = re.compile("\ufffd{4,}")
# Format characters, private-use characters and line/paragraph separators: a few are ordinary
# (a zero-width joiner in an emoji, a bidi mark), a long run is junk that shows as nothing.
_INVISIBLE_RUN = re.compile(
    "[\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb"
    "\ue000-\uf8ff\U000e0000-\U000e007f\U000f0000-\U0010ffff]{8,}"
)


def control_marker(count: int) -> str:
    return f"〔控制字符×{count}〕"


def collapse_junk(text: str) -> tuple[str, int, int, int]:
    """Each run of control characters, of 4+ replacement characters and of 8+ invisible format
    characters becomes one visible marker saying how many there were (linear: one regex pass
    each). Returns the text, the number of control runs, control characters, and other runs."""
    runs = chars = other = 0

    def control(match: re.Match[str]) -> str:
        nonlocal runs, chars
        runs += 1
        chars += len(match.group())
        return control_marker(len(match.group()))

    def replacement(match: re.Match[str]) -> str:
        nonlocal other
        other += 1
        return f"\ufffd〔无法解码的字符×{len(match.group())}〕"

    def invisible(match: re.Match[str]) -> str:
        nonlocal other
        other += 1
        return f"〔不可见字符×{len(match.group())}〕"

    text = _CONTROL_RUN.sub(control, text)
    text = _REPLACEMENT_RUN.sub(replacement, text)
    text = _INVISIBLE_RUN.sub(invisible, text)
    return text, runs, chars, other


def _cut_lines(text: str, limit: int) -> tuple[str, bool]:
    """The first ``limit`` lines (split with a bound, so a file of bare newlines costs little)."""
    parts = text.split("\n", limit)
    if len(parts) <= limit:
        return text, False
    return "\n".join(parts[:limit]), True


def _line_count(text: str) -> int:
    return text.count("\n") + (0 if text.endswith("\n") or not text else 1)


def _clip_message(text: str) -> tuple[str, bool]:
    if len(text) <= MAX_MESSAGE_CHARS and text.count("\n") < MAX_MESSAGE_LINES:
        return text, False
    head = "\n".join(text[:MAX_MESSAGE_CHARS].split("\n")[:MAX_MESSAGE_LINES])
    return head + MESSAGE_CUT_MARK, True


# ---------------------------------------------------------------------------------------------
# Display budget: how much of a transcript fits in the per-exhibit page cap
# ---------------------------------------------------------------------------------------------

# An estimate of the layout in pdf/exhibits.py with the styles of pdf/text.py, on the side of
# more height than reportlab will need, so the cap holds: the exhibit frame is 724 pt tall,
# the first page loses about 150 pt to the header band, facts and findings, the closing note
# takes about 90 pt, and a page split wastes up to a line; a bubble is 375 pt of
# 9 pt text on 13 pt leading with 10 pt of spacing (+2 to spare), its first line the speaker and
# time; a system line is 515 pt of 7.5 pt text on 10 pt leading with 8 pt spacing; raw text is
# 507 pt of 8 pt text on 10.5 pt leading. Wide (CJK) characters and non-ASCII ones of unknown
# width count 1 em, the widest ASCII letters 0.9 em, other ASCII 0.62 em (the font's average
# is 0.51).
_FRAME_PT = 724.0
_FIRST_PAGE_PT = 150.0 + 90.0
_BUBBLE_EMS = 375.0 / 9 * 0.97
_SYSTEM_EMS = EXHIBIT_BOX_WIDTH_PT / 7.5 * 0.97
_RAW_EMS = (EXHIBIT_BOX_WIDTH_PT - 8) / 8 * 0.97
_NARROW_EM = 0.62
_WIDE_ASCII = frozenset("MWmw@%")


def _ems(text: str) -> float:
    if text.isascii():
        wide = sum(1 for ch in text if ch in _WIDE_ASCII)
        return wide * 0.9 + (len(text) - wide) * _NARROW_EM
    narrow = sum(1 for ch in text if ch < "\x7f" and ch not in _WIDE_ASCII)
    return len(text) - narrow * (1 - _NARROW_EM)


def _text_lines(text: str, ems_per_line: float) -> int:
    return sum(max(1, math.ceil(_ems(line) / ems_per_line)) for line in text.split("\n"))


def _budget(pages: int) -> float:
    return max(1, pages) * (_FRAME_PT - 13) - _FIRST_PAGE_PT


def _message_height(message: ChatMessage) -> float:
    if message.side == ChatSide.SYSTEM:
        return 10 * _text_lines(message.text, _SYSTEM_EMS) + 8
    meta = f"{message.speaker}　2024-01-01 00:00:00"
    meta_lines = max(1, math.ceil(_ems(meta) * 7 / 9 / _BUBBLE_EMS))
    return 13 * (meta_lines + _text_lines(message.text or " ", _BUBBLE_EMS)) + 12


def shown_messages(messages: tuple[ChatMessage, ...], pages: int) -> int:
    """How many leading messages fit in ``pages`` exhibit pages (at least one)."""
    budget, used = _budget(pages), 20.0  # the legend line above the transcript
    for i, message in enumerate(messages):
        used += _message_height(message)
        if used > budget:
            return max(1, i)
    return len(messages)


def _shown_lines_label(shown: int) -> str:
    return f"仅显示前 {shown} 行" if shown else "仅显示第 1 行的开头"


def shown_raw(text: str, pages: int) -> tuple[str, int]:
    """The leading part of an unrecognised text that fits in ``pages`` pages, and its lines
    (0 when even the first line does not fit: the part is then that line's head)."""
    budget, used = _budget(pages), 20.0
    lines = text.split("\n", MAX_CHAT_LINES)
    for i, line in enumerate(lines):
        height = 10.5 * max(1, math.ceil(_ems(line) / _RAW_EMS))
        if used + height > budget:
            if i == 0:  # a single line taller than the budget: its head
                room = int((budget - used) / 10.5 * _RAW_EMS)
                return line[: max(room, 1)], 0
            return "\n".join(lines[:i]), i
        used += height
    return text, _line_count(text)


# ---------------------------------------------------------------------------------------------
# Times and header lines
# ---------------------------------------------------------------------------------------------

_SP = r"[ \t\u3000]"
# [0-9], not \d: \d also matches Arabic-Indic and other digits that int() happily accepts.
_DATE = r"(?P<y>[0-9]{4})[-/.年](?P<mo>[0-9]{1,2})[-/.月](?P<d>[0-9]{1,2})日?"
_TIME = r"(?P<h>[0-9]{1,2}):(?P<mi>[0-9]{2})(?::(?P<s>[0-9]{2}))?"
# 12-hour clocks: QQ on a Chinese Windows writes "下午 8:43:38", on an English one "8:43:38 PM".
_AP_PRE = f"(?:(?P<ap1>上午|下午|中午|晚上|凌晨|早上){_SP}*)?"
_AP_POST = f"(?:{_SP}*(?P<ap2>AM|PM|am|pm|A\\.M\\.|P\\.M\\.))?"
_TIME12 = _AP_PRE + _TIME + _AP_POST
_WEEKDAY = f"(?:(?:星期|周|礼拜)[一二三四五六日天]{_SP}+)?"
# Every date-and-time pattern takes a 12-hour marker, so that "2019-09-23 8:43:38 PM 昵称" can
# never be read by some parser as 08:43 said by "PM 昵称".
_DT = _DATE + _SP + "+" + _TIME12
_STATUS = r"(?P<st>已读|未读)"

_TIME_ONLY = re.compile(_SP + "*" + _DT + _SP + "*")
# "昵称 2024-01-01 12:00:00", "昵称2024-1-1 10:00:00 已读": the time sits at the end of the line.
_TRAILING_DT = re.compile(_DT + f"(?:{_SP}*{_STATUS})?{_SP}*$")
_BRACKET_HEADER = re.compile(
    f"{_SP}*[\\[【](?P<who>[^\\]】]{{0,200}})[\\]】]{_SP}*{_DT}(?:{_SP}*{_STATUS})?{_SP}*"
)
_QQ_HEADER = re.compile(f"{_SP}*{_DT}{_SP}+(?P<who>.+)")
_QQ_ID_SUFFIX = re.compile(r"(?:[(（][0-9]{5,12}[)）]|<[^<>]{1,100}>)$")
_QQ_BANNER = re.compile(r"消息记录[（(]此消息记录为文本格式")
_QQ_META = re.compile(r"(?:={5,}|消息分组[:：].*|消息对象[:：](?P<peer>.*))")
_PLAIN_HEADER = re.compile(
    f"{_SP}*[\\[【(（]?{_DT}[\\]】)）]?{_SP}+(?P<who>[^:：]{{1,60}})[:：](?P<text>.*)"
)

# 千牛/旺旺 lines that the platform writes, not a person. Anchored on the
# whole line so a shopper who types "请转交给主管" is not taken for a system line.
_QIANNIU_SYSTEM = re.compile(
    f"{_SP}*(?:当前用户来自.*|由.{{1,60}}转(?:交|接)给.{{1,60}}|.{{0,60}}撤回了一条消息"
    f"|.{{0,60}}(?:已接入|结束了(?:本次)?会话|会话已结束).{{0,20}}){_SP}*"
)
_QIANNIU_STATUS = re.compile(f"{_SP}*(?P<st>已读|未读){_SP}*")

_SPACES = " \t\u3000"
_YEAR_MIN, _YEAR_MAX = 1990, 2099


_PM_WORDS = frozenset({"下午", "晚上", "PM", "pm", "P.M."})
_AM_WORDS = frozenset({"上午", "凌晨", "早上", "AM", "am", "A.M."})


def _hour24(hour: int, marker: str | None) -> int | None:
    """The hour on a 24-hour clock. ``12:12:29 AM`` is 00:12, ``12:05 PM`` is 12:05; an hour
    that contradicts its marker (``13:00 AM``, ``0:30 PM``) is no time at all."""
    if marker is None:
        return hour
    if marker == "中午":  # 中午 12:30, 中午 1:10
        return hour + 12 if 1 <= hour <= 2 else hour if hour in (11, 12) else None
    if marker in ("下午", "晚上") and 13 <= hour <= 23:
        return hour  # a 24-hour time with its period: unambiguous
    if not 1 <= hour <= 12:
        return None
    if marker in _PM_WORDS:
        return hour if hour == 12 else hour + 12
    return 0 if hour == 12 else hour


def _ampm(groups: dict[str, str | None]) -> str | None:
    return groups.get("ap1") or groups.get("ap2")


def _clock_from(groups: dict[str, str | None]) -> tuple[TimeOfDay, bool] | None:
    hour = _hour24(int(groups["h"] or "0"), _ampm(groups))
    seconds = groups.get("s")
    if hour is None:
        return None
    try:
        return TimeOfDay(hour, int(groups["mi"] or "0"), int(seconds) if seconds is not None else 0), \
            seconds is not None
    except ValueError:
        return None


def _time_from(match: re.Match[str], tz: tzinfo) -> tuple[datetime, bool] | None:
    """The match's date/time groups as an aware datetime, or None when they are no real time.
    Reads ``y/mo/d`` or the US order ``mo2/d2/y2``, and a 12-hour marker when the pattern has one."""
    groups = match.groupdict()
    year = int(groups.get("y") or groups.get("y2") or "0")
    if not _YEAR_MIN <= year <= _YEAR_MAX:
        return None
    clock = _clock_from(groups)
    if clock is None:
        return None
    try:
        moment = datetime(year, int(groups.get("mo") or groups.get("mo2") or "0"),
                          int(groups.get("d") or groups.get("d2") or "0"), tzinfo=tz)
    except ValueError:  # 2024-02-30 ...
        return None
    return datetime.combine(moment.date(), clock[0], tzinfo=tz), clock[1]


@dataclass
class _Header:
    speaker: str
    time: datetime | None
    has_seconds: bool
    consumed: int = 1  # lines the header takes
    first_text: str | None = None  # plain form: text on the header line
    status: str = ""  # 千牛: 已读/未读 written on the header line
    marker: bool = False  # something only 千牛 writes: [brackets] or no space before the date
    clock: TimeOfDay | None = None  # a time of day without a date
    ampm: bool = False  # the header wrote a 12-hour marker (AM/PM, 上午/下午)


@dataclass
class _Draft:
    time: datetime | None
    speaker: str
    has_seconds: bool = True
    lines: list[str] = field(default_factory=list)
    status: str = ""
    system: bool = False
    clock: TimeOfDay | None = None


@dataclass
class _Parsed:
    messages: tuple[ChatMessage, ...]
    timed: int  # messages with a time (or a time of day): how well the format fits
    sides_guessed: bool
    headers: int = 0  # message headers, with or without a time
    dated: int = 0  # messages with a full date and time
    notes: tuple[Finding, ...] = ()  # what the parser itself noticed (ambiguous clocks ...)
    format: ChatFormat | None = None  # set when one parser reads two formats (qq_mobile / qqnt)


HeaderFn = Callable[[list[str], int], _Header | None]
Names = Collection[str]


def _trailing_header(line: str, tz: tzinfo) -> _Header | None:
    """``昵称 2024-01-01 12:00:00`` / ``昵称2024-1-1 10:00:00 已读``: speaker, then the time."""
    match = _TRAILING_DT.search(line)
    if match is None:
        return None
    raw_who = line[: match.start()]
    who = raw_who.strip(_SPACES)
    if not who:
        return None
    when = _time_from(match, tz)
    if when is None:
        return None
    return _Header(who, when[0], when[1], status=match["st"] or "",
                   marker=not raw_who.endswith(tuple(_SPACES)))


def _scan(lines: list[str], header_at: HeaderFn, *, system_line: Callable[[str], bool] | None = None,
          skip_preamble: Callable[[str], bool] | None = None,
          untimed: bool = False) -> tuple[list[_Draft], int] | None:
    """Split lines into drafts at each header. None when the text has no header or too much
    text before the first one for this to be that format. ``untimed``: headers carry no time
    (the count returned is then the number of headers)."""
    drafts: list[_Draft] = []
    preamble: list[str] = []
    current: _Draft | None = None
    timed = 0
    i = 0
    while i < len(lines):
        line = lines[i]
        header = header_at(lines, i)
        if header is not None:
            current = _Draft(header.time, header.speaker, header.has_seconds, status=header.status,
                             clock=header.clock)
            if header.first_text is not None:
                current.lines.append(header.first_text)
            drafts.append(current)
            timed += 1 if untimed or header.time is not None or header.clock is not None else 0
            i += header.consumed
            continue
        status = _QIANNIU_STATUS.fullmatch(line) if system_line is not None else None
        if status is not None and current is not None:
            current.status = status["st"]
        elif system_line is not None and (status is not None or system_line(line)):
            drafts.append(_Draft(None, "", lines=[line.strip(_SPACES)], system=True))
        elif current is not None:
            current.lines.append(line)
        elif not (skip_preamble is not None and skip_preamble(line)):
            preamble.append(line)
        i += 1
    if timed == 0:
        return None
    if sum(1 for line in preamble if line.strip()) > MAX_PREAMBLE_LINES:
        return None
    text = _body(preamble)
    if text:
        drafts.insert(0, _Draft(None, "", lines=[text], system=True))
    return drafts, timed


def _body(lines: list[str]) -> str:
    """Body lines with trailing spaces and surrounding blank lines removed; inner blanks kept."""
    stripped = [line.rstrip() for line in lines]
    while stripped and not stripped[-1]:
        stripped.pop()
    while stripped and not stripped[0]:
        stripped.pop(0)
    return "\n".join(stripped)


# ---------------------------------------------------------------------------------------------
# Who is who
# ---------------------------------------------------------------------------------------------

_MERCHANT_WORDS = ("客服", "店", "旗舰", "官方", "小二", "商家", "卖家", "售后", "掌柜", "专营", "专卖")
_SELF_EXACT = frozenset({"我", "买家", "本人", "顾客", "消费者", "我方"})
_SELF_WORDS = ("买家",)
_SYSTEM_EXACT = frozenset({"系统", "系统消息", "系统提示", "系统通知"})
# Hangul fillers and the blank Braille pattern are not whitespace to Python but show nothing;
# WeChat users pick them for "empty" nicknames.
_FILLERS = frozenset("\u115f\u1160\u3164\uffa0\u2800\u180e")
_BLANK_CATEGORIES = frozenset({"Zs", "Zl", "Zp", "Cc", "Cf", "Cs", "Co", "Cn", "Mn", "Me"})


def _is_invisible(name: str) -> bool:
    return all(ch in _FILLERS or unicodedata.category(ch) in _BLANK_CATEGORIES
               for ch in name)


def _base_name(name: str) -> str:
    """The nickname without a QQ number or e-mail suffix."""
    return _QQ_ID_SUFFIX.sub("", name).strip(_SPACES)


def _side_by_name(name: str, self_names: Collection[str], merchant_names: Collection[str],
                  peer: str) -> ChatSide | None:
    key = _base_name(name)
    if name in self_names or key in self_names:
        return ChatSide.SELF
    if name in merchant_names or key in merchant_names:
        return ChatSide.OTHER
    if key in _SELF_EXACT:
        return ChatSide.SELF
    if key in _SYSTEM_EXACT:
        return ChatSide.SYSTEM
    # Taobao sub-accounts read "店铺名:客服名", so a case's shop name is contained in the speaker.
    for merchant in merchant_names:
        merchant = merchant.strip()
        if merchant and (merchant in key or (len(key) >= 2 and key in merchant)):
            return ChatSide.OTHER
    for own in self_names:
        own = own.strip()
        if own and len(key) >= 2 and (own in key or key in own):
            return ChatSide.SELF
    if peer and key == peer:
        return ChatSide.OTHER  # QQ: 消息对象 is the person the exporting shopper talked to
    if any(word in key for word in _MERCHANT_WORDS):
        return ChatSide.OTHER
    if any(word in key for word in _SELF_WORDS):
        return ChatSide.SELF
    return None


def assign_sides(speakers: list[str], *, self_names: Collection[str] = (),
                 merchant_names: Collection[str] = (), peer: str = "") -> tuple[dict[str, ChatSide], bool]:
    """Map each speaker (in order of first appearance) to self / other / system.

    Names first: the case's own names, then 我/买家 (self), then merchant words such as 客服, 店,
    旗舰, 官方, 小二 (other). Speakers left over take the side nobody holds yet; when no name told
    anything, the first speaker is the shopper (customer-service chats are opened by the buyer)
    and the second value says the sides were guessed.
    """
    sides: dict[str, ChatSide] = {}
    unknown: list[str] = []
    for speaker in speakers:
        if speaker in sides or speaker in unknown:
            continue
        side = _side_by_name(speaker, self_names, merchant_names, peer.strip())
        if side is None:
            unknown.append(speaker)
        else:
            sides[speaker] = side
    guessed = False
    if unknown:
        known = set(sides.values())
        if ChatSide.OTHER in known and ChatSide.SELF not in known:
            sides.update(dict.fromkeys(unknown, ChatSide.SELF))
        elif ChatSide.SELF in known:
            sides.update(dict.fromkeys(unknown, ChatSide.OTHER))
        else:
            guessed = True
            sides[unknown[0]] = ChatSide.SELF
            sides.update(dict.fromkeys(unknown[1:], ChatSide.OTHER))
    return sides, guessed


def _display_names(speakers: list[str]) -> dict[str, str]:
    """Visible names for the transcript; invisible nicknames become （无昵称）, numbered if several."""
    invisible = [s for s in dict.fromkeys(speakers) if _is_invisible(s)]
    names = {s: s.strip() for s in speakers}
    if len(invisible) == 1:
        names[invisible[0]] = NO_NICKNAME
    else:
        for number, speaker in enumerate(invisible, 1):
            names[speaker] = f"（无昵称{number}）"
    return names


def _finish(drafts: list[_Draft], timed: int, self_names: Collection[str], merchant_names: Collection[str],
            peer: str = "") -> _Parsed:
    speakers = [d.speaker for d in drafts if not d.system]
    sides, guessed = assign_sides(speakers, self_names=self_names, merchant_names=merchant_names, peer=peer)
    names = _display_names(speakers)
    messages = []
    for draft in drafts:
        text = _body(draft.lines)
        if draft.status:
            text += f"（{draft.status}）"
        if draft.system:
            messages.append(ChatMessage(draft.time, "", text, ChatSide.SYSTEM, draft.has_seconds))
        else:
            messages.append(ChatMessage(draft.time, names[draft.speaker], text, sides[draft.speaker],
                                        draft.has_seconds, draft.clock))
    headers = sum(1 for d in drafts if d.speaker or not d.system)
    dated = sum(1 for d in drafts if d.time is not None)
    return _Parsed(tuple(messages), timed, guessed, headers=headers, dated=dated)


# ---------------------------------------------------------------------------------------------
# The four formats
# ---------------------------------------------------------------------------------------------


def _wechat(text: str, tz: tzinfo, self_names: Names, merchant_names: Names) -> _Parsed | None:
    def header_at(lines: list[str], i: int) -> _Header | None:
        line = lines[i]
        # Two-line header: nickname, then a time-only line. The nickname may be invisible
        # (U+3164 ×5), so any non-empty line counts; strip() would lose it.
        if line and i + 1 < len(lines) and _TIME_ONLY.fullmatch(line) is None:
            match = _TIME_ONLY.fullmatch(lines[i + 1])
            if match is not None:
                when = _time_from(match, tz)
                if when is not None:
                    return _Header(line, when[0], when[1], consumed=2)
        return _trailing_header(line, tz)

    scanned = _scan(_lines(text), header_at)
    return None if scanned is None else _finish(scanned[0], scanned[1], self_names, merchant_names)


def _qianniu(text: str, tz: tzinfo, self_names: Names, merchant_names: Names) -> _Parsed | None:
    seen_marker = False

    def header_at(lines: list[str], i: int) -> _Header | None:
        nonlocal seen_marker
        line = lines[i]
        match = _BRACKET_HEADER.fullmatch(line)
        if match is not None:
            when = _time_from(match, tz)
            if when is not None:
                seen_marker = True
                return _Header(match["who"], when[0], when[1], status=match["st"] or "")
        header = _trailing_header(line, tz)
        if header is not None and header.marker:
            seen_marker = True
        return header

    def system_line(line: str) -> bool:
        nonlocal seen_marker
        if _QIANNIU_SYSTEM.fullmatch(line) is not None:
            seen_marker = True
            return True
        return False

    lines = _lines(text)
    seen_marker = any(_QIANNIU_STATUS.fullmatch(line) for line in lines)
    scanned = _scan(lines, header_at, system_line=system_line)
    # Without anything only 千牛 writes, "昵称 时间" lines are the WeChat one-line variant.
    if scanned is None or not seen_marker:
        return None
    return _finish(scanned[0], scanned[1], self_names, merchant_names)


def _qq(text: str, tz: tzinfo, self_names: Names, merchant_names: Names) -> _Parsed | None:
    lines = _lines(text)
    banner = any(_QQ_BANNER.search(line) for line in lines[:20])
    peer = ""
    for line in lines[:20]:
        meta = _QQ_META.fullmatch(line.strip(_SPACES))
        if meta is not None and meta["peer"]:
            peer = meta["peer"].strip(_SPACES)
            break

    twelve = twenty_four = 0

    def header_at(lines: list[str], i: int) -> _Header | None:
        nonlocal twelve, twenty_four
        match = _QQ_HEADER.fullmatch(lines[i])
        if match is None or match["s"] is None:
            return None
        # Group titles ("【管理员】昵称(123)") change over time; the person is the same.
        who = _TITLE_PREFIX.sub("", match["who"].strip(_SPACES), count=1).strip(_SPACES)
        marked = _ampm(match.groupdict()) is not None
        # Without the banner only "昵称(QQ号)" / "昵称<邮箱>" lines, or lines with a 12-hour marker
        # (WeChat exporters write 24-hour times), are trusted to be QQ headers.
        if not who or (not banner and not marked and _QQ_ID_SUFFIX.search(who) is None):
            return None
        when = _time_from(match, tz)
        if when is None:
            return None
        if marked:
            twelve += 1
        elif 1 <= int(match["h"]) <= 12:
            twenty_four += 1
        return _Header(who, when[0], when[1], ampm=marked)

    def skip_preamble(line: str) -> bool:
        stripped = line.strip(_SPACES)
        return _QQ_BANNER.search(stripped) is not None or _QQ_META.fullmatch(stripped) is not None

    scanned = _scan(lines, header_at, skip_preamble=skip_preamble)
    if scanned is None:
        return None
    parsed = _finish(scanned[0], scanned[1], self_names, merchant_names, peer)
    if twelve and twenty_four:
        parsed.notes = (_warning("chat.ampm_ambiguous",
                                 f"有 {twelve} 条消息的时间带“上午/下午/AM/PM”，另有 {twenty_four} 条没有且钟点在 1–12 之间："
                                 "这些消息是上午还是下午无法确定，已按 24 小时制读取，请核对原件"),)
    return parsed


_TITLE_PREFIX = re.compile("^【[^】]{1,30}】")


# QQ PC chat window, copied: "【头衔】昵称 2020/3/28 19:02:31", "昵称 2021/8/20 星期五 下午 2:04:59",
# en-US "昵称 2/14/2020 9:16:13 PM". The date uses slashes (either order); the body follows.
_QQ_WINDOW_DATE = (r"(?:(?P<y>[0-9]{4})/(?P<mo>[0-9]{1,2})/(?P<d>[0-9]{1,2})"
                   r"|(?P<mo2>[0-9]{1,2})/(?P<d2>[0-9]{1,2})/(?P<y2>[0-9]{4}))")
_QQ_WINDOW_HEADER = re.compile(
    f"{_SP}*(?P<title>【[^】]{{1,30}}】)?(?P<who>[^\n]{{1,120}}?){_SP}+{_QQ_WINDOW_DATE}{_SP}+{_WEEKDAY}"
    f"{_TIME12}{_SP}*"
)


def _qq_window(text: str, tz: tzinfo, self_names: Names, merchant_names: Names) -> _Parsed | None:
    qq_marks = 0

    def header_at(lines: list[str], i: int) -> _Header | None:
        nonlocal qq_marks
        line = lines[i]
        if len(line) > 200 or "/" not in line:
            return None
        match = _QQ_WINDOW_HEADER.fullmatch(line)
        if match is None:
            return None
        who = match["who"].strip(_SPACES)
        when = _time_from(match, tz)
        if not who or when is None:
            return None
        groups = match.groupdict()
        if groups["title"] or groups["y2"] or _ampm(groups) or "星期" in line:
            qq_marks += 1
        return _Header(who, when[0], when[1], ampm=_ampm(groups) is not None)

    scanned = _scan(_lines(text), header_at)
    # Without a QQ mark ("昵称 2024/1/1 12:00:00" only) the WeChat one-line parser reads the text.
    if scanned is None or not qq_marks:
        return None
    return _finish(scanned[0], scanned[1], self_names, merchant_names)


# QQ mobile multi-select copies: a date line ("2024年11月14日", "2024-11-14 星期四", 昨天, 今天) then
# "昵称 19:21" headers; QQNT copies: "昵称 19:21:05" with no date anywhere.
_DATE_LINE = re.compile(f"{_SP}*{_DATE}{_SP}*(?:(?:星期|周)[一二三四五六日天])?{_SP}*")
_RELATIVE_DATE_LINE = re.compile(f"{_SP}*(?:今天|昨天|前天|星期[一二三四五六日天]){_SP}*")
_CLOCK_HEADER = re.compile(
    f"(?P<who>[^\n]{{1,120}}?){_SP}+{_AP_PRE}(?P<h>[0-9]{{1,2}}):(?P<mi>[0-9]{{2}})(?::(?P<s>[0-9]{{2}}))?"
    f"{_AP_POST}{_SP}*"
)
_ENDS_WITH_DATE = re.compile(f"{_DATE}{_SP}*$")


def _qq_clock(text: str, tz: tzinfo, self_names: Names, merchant_names: Names) -> _Parsed | None:
    day: datetime | None = None
    date_lines = relative_lines = 0
    minutes_only = 0

    def header_at(lines: list[str], i: int) -> _Header | None:
        nonlocal day, date_lines, relative_lines, minutes_only
        line = lines[i]
        if len(line) > 200:
            return None
        date = _DATE_LINE.fullmatch(line)
        if date is not None:
            try:
                day = datetime(int(date["y"]), int(date["mo"]), int(date["d"]), tzinfo=tz)
            except ValueError:
                return None
            if not _YEAR_MIN <= day.year <= _YEAR_MAX:
                day = None
                return None
            date_lines += 1
            return None
        if _RELATIVE_DATE_LINE.fullmatch(line) is not None:
            day = None  # "昨天": the copy does not say which day; no date is invented
            relative_lines += 1
            return None
        match = _CLOCK_HEADER.fullmatch(line)
        if match is None:
            return None
        who = match["who"].strip(_SPACES)
        if not who or _ENDS_WITH_DATE.search(who) is not None or who.endswith((":", "：")):
            return None
        clock = _clock_from(match.groupdict())
        if clock is None:
            return None
        if not clock[1]:
            minutes_only += 1
        if day is not None:
            return _Header(who, datetime.combine(day.date(), clock[0], tzinfo=tz), clock[1])
        return _Header(who, None, clock[1], clock=clock[0])

    lines = _lines(text)
    # Date and relative-date lines are headers of nothing: the scan must not take them for
    # body text, so they are dropped from the lines it sees (their effect is on `day`).
    scanned = _scan(lines, header_at, skip_preamble=lambda line: _DATE_LINE.fullmatch(line) is not None
                    or _RELATIVE_DATE_LINE.fullmatch(line) is not None)
    if scanned is None or scanned[1] < 2:
        return None
    drafts = [d for d in scanned[0] if not d.system]
    # Date lines seen after the first header were appended to bodies: take them out again.
    for draft in scanned[0]:
        draft.lines = [ln for ln in draft.lines if _DATE_LINE.fullmatch(ln) is None
                       and _RELATIVE_DATE_LINE.fullmatch(ln) is None]
    # Without date lines only QQNT's "H:MM:SS" is trusted: "张三 12:30" alone is too common in prose.
    if not date_lines and not relative_lines and minutes_only:
        return None
    parsed = _finish(scanned[0], scanned[1], self_names, merchant_names)
    parsed.format = ChatFormat.QQ_MOBILE if date_lines or relative_lines else ChatFormat.QQNT  # never "qq_clock"
    undated = sum(1 for d in drafts if d.time is None)
    if undated:
        parsed.notes = (_warning("chat.no_dates",
                                 f"有 {undated} 条消息只有时刻、没有日期（复制的聊天记录没有写日期），"
                                 "未推测日期；请结合其他证据确定日期"),)
    return parsed


# WeChatMsg / 留痕 TXT export: "2024-11-14 19:21:05 昵称", the body on the following lines.
_WECHATMSG_HEADER = re.compile(f"{_SP}*{_DT}{_SP}+(?P<who>[^\n]{{1,120}})")


def _wechatmsg(text: str, tz: tzinfo, self_names: Names, merchant_names: Names) -> _Parsed | None:
    def header_at(lines: list[str], i: int) -> _Header | None:
        line = lines[i]
        if len(line) > 200:
            return None
        match = _WECHATMSG_HEADER.fullmatch(line)
        if match is None or match["s"] is None:
            return None
        who = match["who"].strip(_SPACES)
        when = _time_from(match, tz)
        # "2024-11-14 19:21:05 客服: 你好" is the plain form, not a WeChatMsg header.
        if not who or when is None or ":" in who or "：" in who:
            return None
        return _Header(who, when[0], when[1])

    scanned = _scan(_lines(text), header_at)
    return None if scanned is None else _finish(scanned[0], scanned[1], self_names, merchant_names)


# BlueMatthew/WechatExporter TXT: "昵称 (2024-11-14 19:21:05):消息" on one line.
_WECHATEXPORTER_HEADER = re.compile(
    f"(?P<who>[^\n()（）]{{1,120}}?){_SP}*[(（]{_DT}[)）]{_SP}*[:：](?P<text>.*)"
)


def _one_line_header(match: re.Match[str], tz: tzinfo) -> _Header | None:
    """A header that carries the message on its own line: speaker, time, then the text."""
    who = match["who"].strip(_SPACES)
    when = _time_from(match, tz)
    if not who or when is None:
        return None
    return _Header(who, when[0], when[1], first_text=match["text"].strip(_SPACES))


def _wechatexporter(text: str, tz: tzinfo, self_names: Names, merchant_names: Names) -> _Parsed | None:
    def header_at(lines: list[str], i: int) -> _Header | None:
        line = lines[i]
        if "(" not in line and "（" not in line:
            return None
        match = _WECHATEXPORTER_HEADER.match(line)
        return None if match is None else _one_line_header(match, tz)

    scanned = _scan(_lines(text), header_at)
    return None if scanned is None else _finish(scanned[0], scanned[1], self_names, merchant_names)


# WeChat for Windows multi-select copy: "昵称:" on its own line, then the body; no times at all.
_NAME_COLON = re.compile(f"(?P<who>[^:：\n]{{1,40}}?){_SP}*[:：]{_SP}*")


def _wechat_win(text: str, tz: tzinfo, self_names: Names, merchant_names: Names) -> _Parsed | None:
    del tz

    def header_at(lines: list[str], i: int) -> _Header | None:
        match = _NAME_COLON.fullmatch(lines[i])
        # A header is followed by a body line: "备注：" with nothing after is a body line.
        if match is None or i + 1 >= len(lines) or not lines[i + 1].strip(_SPACES):
            return None
        who = match["who"].strip(_SPACES)
        if not who or _NAME_COLON.fullmatch(lines[i + 1]) is not None:
            return None
        return _Header(who, None, False)

    scanned = _scan(_lines(text), header_at, untimed=True)
    if scanned is None or scanned[1] < 2:
        return None
    speakers = {d.speaker for d in scanned[0] if not d.system}
    if len(speakers) < 2:
        return None  # one name with colons is a note, not a chat
    parsed = _finish(scanned[0], scanned[1], self_names, merchant_names)
    parsed.timed = 0
    parsed.notes = (_warning("chat.no_times",
                             "这份聊天记录（微信电脑版多选复制）没有写消息时间：消息按原文顺序显示，"
                             "时间请以截图或其他证据为准"),)
    return parsed


def _plain(text: str, tz: tzinfo, self_names: Names, merchant_names: Names) -> _Parsed | None:
    def header_at(lines: list[str], i: int) -> _Header | None:
        match = _PLAIN_HEADER.fullmatch(lines[i])
        return None if match is None else _one_line_header(match, tz)

    scanned = _scan(_lines(text), header_at)
    return None if scanned is None else _finish(scanned[0], scanned[1], self_names, merchant_names)


# WeChatMsg / 留痕 CSV export (UTF-8 with BOM, one row per message). Columns as its exporter
# writes them: localId, TalkerId, Type, SubType, IsSender, CreateTime, Status, StrContent,
# StrTime, Remark, NickName, Sender. Type 1 is text; IsSender 1 is the exporting user.
_CSV_REQUIRED = frozenset({"StrContent", "IsSender"})
_CSV_TIME_COLUMNS = ("StrTime", "CreateTime")


def _csv_header(line: str) -> list[str] | None:
    if "StrContent" not in line:
        return None
    columns = [c.strip().lstrip("\ufeff") for c in next(csv.reader([line]), [])]
    if not set(columns) >= _CSV_REQUIRED or not any(c in columns for c in _CSV_TIME_COLUMNS):
        return None
    return columns


def _wechat_csv(text: str, tz: tzinfo, self_names: Names, merchant_names: Names) -> _Parsed | None:

    first = text.split("\n", 1)[0]
    columns = _csv_header(first)
    if columns is None:
        return None
    drafts: list[_Draft] = []
    timed = bad_rows = 0
    reader = csv.reader(io.StringIO(text))
    next(reader, None)
    try:
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            if len(drafts) > MAX_MESSAGES:
                break
            cells = dict(zip(columns, row, strict=False))
            when: tuple[datetime, bool] | None = None
            match = _TIME_ONLY.fullmatch(cells.get("StrTime", ""))
            if match is not None:
                when = _time_from(match, tz)
            elif cells.get("CreateTime", "").strip().isascii() and cells.get("CreateTime", "").strip().isdigit():
                seconds = int(cells["CreateTime"].strip())
                if 631152000 <= seconds <= 4102444800:  # 1990 … 2099
                    when = datetime.fromtimestamp(seconds, UTC).astimezone(tz), True
            if when is None:
                bad_rows += 1
            else:
                timed += 1
            if cells.get("IsSender", "").strip() == "1":
                who = "我"
            else:
                who = next((cells[c].strip() for c in ("Sender", "Remark", "NickName", "TalkerId")
                            if cells.get(c, "").strip()), "对方")
            body = cells.get("StrContent", "")
            kind = cells.get("Type", "").strip()
            if not body.strip() and kind and kind != "1":
                body = f"[非文字消息，类型 {kind}]"
            drafts.append(_Draft(when[0] if when else None, who, when[1] if when else True,
                                 lines=_lines(body)))
    except csv.Error:
        bad_rows += 1
    if not drafts or timed == 0:
        return None
    parsed = _finish(drafts, timed, self_names, merchant_names)
    if bad_rows:
        parsed.notes = (_warning("chat.header_unparsed",
                                 f"CSV 中有 {bad_rows} 行的时间无法读取，这些消息没有显示时间，请核对原件"),)
    return parsed


_PARSERS: dict[str, Callable[[str, tzinfo, Names, Names], _Parsed | None]] = {
    "wechat_csv": _wechat_csv,
    "qq": _qq,
    "qianniu": _qianniu,
    "wechatexporter": _wechatexporter,
    "qq_window": _qq_window,
    "wechat": _wechat,
    "wechatmsg": _wechatmsg,
    "qq_clock": _qq_clock,
    "plain": _plain,
    "wechat_win": _wechat_win,
}


def parse_wechat(text: str, tz: tzinfo, *, self_names: Collection[str] = (),
                 merchant_names: Collection[str] = ()) -> tuple[ChatMessage, ...] | None:
    """WeChat multi-select copy: ``昵称`` / ``2026年09月29日 13:58`` / body (blank lines inside a body
    are kept), or the one-line ``昵称 2024-01-01 12:00:00`` header."""
    parsed = _wechat(text, tz, self_names, merchant_names)
    return None if parsed is None else parsed.messages


def parse_qianniu(text: str, tz: tzinfo, *, self_names: Collection[str] = (),
                  merchant_names: Collection[str] = ()) -> tuple[ChatMessage, ...] | None:
    """千牛/旺旺 copy: ``[昵称] 2024-01-01 10:00:00`` or ``昵称2024-1-1 10:00:00`` headers, system lines,
    已读/未读 status lines (appended to the message they follow)."""
    parsed = _qianniu(text, tz, self_names, merchant_names)
    return None if parsed is None else parsed.messages


def parse_qq(text: str, tz: tzinfo, *, self_names: Collection[str] = (),
             merchant_names: Collection[str] = ()) -> tuple[ChatMessage, ...] | None:
    """Old QQ TXT export: banner, ``消息对象:xxx``, then ``2019-10-18 16:22:08 昵称(123456)`` / body."""
    parsed = _qq(text, tz, self_names, merchant_names)
    return None if parsed is None else parsed.messages


def parse_plain(text: str, tz: tzinfo, *, self_names: Collection[str] = (),
                merchant_names: Collection[str] = ()) -> tuple[ChatMessage, ...] | None:
    """``2024-11-14 19:21 客服: text`` (seconds optional, full-width colon too); following lines
    without a time continue the message."""
    parsed = _plain(text, tz, self_names, merchant_names)
    return None if parsed is None else parsed.messages


# ---------------------------------------------------------------------------------------------
# Top level
# ---------------------------------------------------------------------------------------------


def _warning(code: str, message: str) -> Finding:
    return Finding(Severity.WARNING, code, message)


def parse_chat(data: bytes, tz: tzinfo, *, self_names: Collection[str] = (),
               merchant_names: Collection[str] = (), max_pages: int = MAX_EXHIBIT_PAGES,
               ) -> tuple[Transcript, tuple[Finding, ...]]:
    """Decode and parse a chat export. Never raises on content; what went wrong is a finding.

    Every parser runs; the one that places the most messages with a time wins (ties go to the
    more specific format, FORMAT_ORDER), so a body line that happens to look like another
    format's header cannot steal the file. Work is bounded by MAX_CHAT_BYTES, MAX_CHAT_LINES,
    MAX_LINE_CHARS and MAX_MESSAGES; what the dossier shows by ``max_pages`` (Transcript.shown).
    """
    findings: list[Finding] = []
    cut = len(data) > MAX_CHAT_BYTES
    if cut:
        data = data[:MAX_CHAT_BYTES]
        findings.append(_warning("chat.too_large",
                                 f"聊天记录文件超过 {MAX_CHAT_BYTES // (1024 * 1024)} MB，只解析并显示了前 "
                                 f"{MAX_CHAT_BYTES // (1024 * 1024)} MB"))
    decoded = decode_text(data, final=not cut)
    del data
    if decoded.had_errors:
        findings.append(_warning("chat.invalid_bytes",
                                 f"文件中有 {decoded.replaced} 处无法按 {decoded.encoding} 解码的字节，"
                                 "已用“\ufffd”标出，其余文字照常显示"))
    text, control_runs, control_chars, other_runs = collapse_junk(decoded.text)
    if control_runs:
        findings.append(_warning("chat.control_chars",
                                 f"文件中有 {control_chars} 个控制字符（{control_runs} 处），聊天导出文件本不应含有；"
                                 "每处连续的控制字符显示为一个“〔控制字符×个数〕”标记"))
    if other_runs:
        findings.append(Finding(Severity.INFO, "chat.invisible_runs",
                                f"有 {other_runs} 处连续的无法解码或不可见的字符，每处显示为一个标记"))
    text, too_many_lines = _cut_lines(text, MAX_CHAT_LINES)
    if too_many_lines:
        findings.append(_warning("chat.too_many_lines",
                                 f"聊天记录超过 {MAX_CHAT_LINES} 行，只解析了前 {MAX_CHAT_LINES} 行"))
    text, long_lines = _cut_long_lines(text)
    if long_lines:
        findings.append(Finding(Severity.INFO, "chat.long_lines",
                                f"有 {long_lines} 行超过 {MAX_LINE_CHARS} 字，已截断并标注"))
    if not text.strip():
        findings.append(_warning("chat.empty", "聊天记录文件没有文字内容"))
        return Transcript(format=ChatFormat.UNKNOWN, encoding=decoded.encoding, raw_text=text), tuple(findings)

    best_format, best = ChatFormat.UNKNOWN, None
    for name in FORMAT_ORDER:
        parsed = _PARSERS[name](text, tz, self_names, merchant_names)
        if parsed is not None and (best is None or _rank(parsed) > _rank(best)):
            best_format, best = parsed.format or ChatFormat(name), parsed
    if best is None:
        findings.append(_warning("chat.unrecognised", "未能识别聊天记录格式，按原文显示"))
        total_lines = _line_count(text)
        raw, raw_shown = shown_raw(text, max_pages)
        transcript = Transcript(format=ChatFormat.UNKNOWN, encoding=decoded.encoding, raw_text=raw)
        if raw != text:
            transcript = replace(transcript, shown=raw_shown, raw_lines=total_lines)
            findings.append(_warning("chat.truncated",
                                     f"原文共 {total_lines} 行，{_shown_lines_label(raw_shown)}；完整内容见附件原件"))
        return transcript, tuple(findings)

    messages = best.messages
    findings.extend(best.notes)
    if _monologue(best):
        findings.append(_warning("chat.single_header",
                                 f"整份记录只识别出一条消息抬头，其后 {best.messages[-1].text.count(chr(10)) + 1} 行"
                                 "都算作这一条消息的正文：格式可能没有被正确识别，请核对原件"))
    findings.extend(_order_findings(messages))
    unparsed = _unparsed_headers(messages)
    if unparsed:
        findings.append(_warning("chat.header_unparsed",
                                 f"有 {len(unparsed)} 行看起来像消息抬头（昵称和时间）但未能完整解析，已作为消息正文显示，"
                                 f"请核对原件，例如：“{unparsed[0][:60]}”"))
    over = len(messages) > MAX_MESSAGES or too_many_lines or cut
    if len(messages) > MAX_MESSAGES:
        messages = messages[:MAX_MESSAGES]
        findings.append(_warning("chat.too_many_messages",
                                 f"聊天记录超过 {MAX_MESSAGES} 条，只解析了前 {MAX_MESSAGES} 条"))
    clipped = 0
    kept: list[ChatMessage] = []
    for message in messages:
        body, was_clipped = _clip_message(message.text)
        clipped += was_clipped
        kept.append(replace(message, text=body) if was_clipped else message)
    messages = tuple(kept)
    if clipped:
        findings.append(Finding(Severity.INFO, "chat.long_messages",
                                f"有 {clipped} 条消息超过 {MAX_MESSAGE_CHARS} 字或 {MAX_MESSAGE_LINES} 行，"
                                "只显示了开头并标注"))
    sides = {m.side for m in messages if m.side != ChatSide.SYSTEM}
    if len(sides) == 1:
        findings.append(_warning("chat.one_sided", "聊天记录只有一方的发言，证明力较弱"))
    elif best.sides_guessed:
        findings.append(Finding(Severity.INFO, "chat.sides_guessed",
                                "未能从昵称判断哪一方是商家，已按“先发言者为本人（买家）”处理，请核对"))
    transcript = Transcript(format=best_format, encoding=decoded.encoding, messages=messages)
    shown = shown_messages(messages, max_pages)
    if shown < len(messages):
        more = "以上" if over else ""
        transcript = replace(transcript, shown=shown)
        findings.append(_warning("chat.truncated",
                                 f"聊天记录共 {len(messages)} 条{more}，仅显示前 {shown} 条；完整内容见附件原件"))
    return transcript, tuple(findings)


def _rank(parsed: _Parsed) -> tuple[int, int, int]:
    return parsed.timed, parsed.dated, parsed.headers


def _monologue(parsed: _Parsed) -> bool:
    """One speaker's single header followed by far more lines than one message usually holds."""
    people = [m for m in parsed.messages if m.side != ChatSide.SYSTEM]
    return len(people) == 1 and people[0].text.count("\n") >= 4 * MAX_PREAMBLE_LINES


def _order_findings(messages: tuple[ChatMessage, ...]) -> list[Finding]:
    backwards = 0
    first = ""
    previous: datetime | None = None
    for message in messages:
        if message.time is None:
            continue
        if previous is not None and message.time < previous:
            backwards += 1
            if not first:
                first = f"{previous:%Y-%m-%d %H:%M:%S} 之后是 {message.time:%Y-%m-%d %H:%M:%S}"
        previous = message.time
    if not backwards:
        return []
    return [_warning("chat.time_backwards",
                     f"有 {backwards} 处消息时间比上一条早（{first}）：记录可能被拼接、编辑，或上午/下午读错，请核对原件")]


# A body line that looks like a message header: it starts with a date and a time, or ends with
# one (optionally with a 12-hour marker). Bounded lengths keep the match linear.
_LOOSE_DT = (r"[0-9]{1,4}[-/.年][0-9]{1,2}[-/.月][0-9]{1,4}日?[ \t\u3000]{1,3}"
             r"(?:(?:星期|周)[一二三四五六日天][ \t\u3000]{1,3})?(?:上午|下午|中午|晚上|凌晨|早上)?[ \t\u3000]{0,3}"
             r"[0-9]{1,2}[:：][0-9]{2}")
_LOOSE_HEADER_START = re.compile(f"[ \t\u3000]{{0,8}}[\\[【(（]?{_LOOSE_DT}")
_LOOSE_HEADER_END = re.compile(f"{_LOOSE_DT}(?:[:：][0-9]{{2}})?(?:[ \t\u3000]{{0,3}}(?:AM|PM|am|pm))?[ \t\u3000]{{0,8}}$")


def _unparsed_headers(messages: tuple[ChatMessage, ...]) -> list[str]:
    found: list[str] = []
    for message in messages:
        for line in message.text.split("\n"):
            if len(line) <= 200 and (_LOOSE_HEADER_START.match(line) or _LOOSE_HEADER_END.search(line)):
                found.append(line.strip())
    return found


def inspect_chat(source: SourceFile, override: EvidenceOverride | None, ctx: MediaContext) -> Inspection:
    """Read a chat export (original opened read-only) and parse it into a transcript.

    The case's names (``ctx.chat_self_names``, ``ctx.chat_merchant_names``: the shopper, the
    shop) settle who is who.
    """
    del override  # a declared time belongs to the exhibit, not to the messages

    try:
        # The hashed bytes only; one byte over the limit, so parse_chat can tell the file was cut.
        data = read_original(source, MAX_CHAT_BYTES + 1)
    except OriginalChanged as exc:
        finding = Finding(Severity.WARNING, "chat.unreadable", f"{source.name}：{exc.reason}", source.rel_path)
        return TextInspection(findings=(finding,), preview_error=exc.reason)
    transcript, findings = parse_chat(data, ctx.tz, self_names=ctx.chat_self_names,
                                      merchant_names=ctx.chat_merchant_names,
                                      max_pages=ctx.max_exhibit_pages)
    if source.suffix == ".csv" and transcript.format != ChatFormat.WECHAT_CSV:
        # Only chat-export CSVs are chats; any other table stays unsupported, as before.
        reason = "格式不受支持，无法预览此类文件（.csv）；原件已计算哈希，并随证据材料附上"
        return UnknownInspection(preview_error=reason,
                                 findings=(Finding(Severity.WARNING, "media.unsupported", reason, source.rel_path),))
    found = tuple(replace(f, subject=source.rel_path) for f in findings)
    if transcript.format == ChatFormat.UNKNOWN:
        return TextInspection(transcript=transcript, findings=found)
    return ChatInspection(transcript=transcript, findings=found)
