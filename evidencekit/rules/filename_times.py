"""The file-name time table (templates/filename_times.yaml): parsing, validation and matching.

rules.ruleset.load_rules reads the file through :func:`parse_filename_times`; timeinfo.time_from_filename
walks the patterns. This module is pure data handling and imports nothing from evidencekit but the
model and rules.templatefile, so rules/ruleset.py can call it without an import cycle.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

from evidencekit.model import SHANGHAI, Stamp, TimeSource, parse_utc_offset
from evidencekit.rules.templatefile import TemplateFile

# A time before 2000 is a phone with an unset clock or digits that only look like a date;
# one from 2100 on is digits that only look like a date.
MIN_YEAR = 2000
MAX_YEAR = 2099

MEANINGS = {"capture": "拍摄、截图或录制的时间", "save": "保存或下载的时间"}
ZONES = {"local": "手机本地时间", "utc": "UTC"}
WHERE = ("start", "anywhere")

# Chat apps and downloads name a file after when it was saved, not when it was taken.
SAVE_TIME_MARK = "（非拍摄时间）"

# The building blocks a volunteer may write in ``regex`` (see templates/README.md).
TOKENS: dict[str, str] = {
    "date": r"(?P<Y>\d{4})(?P<m>\d\d)(?P<d>\d\d)",
    "time": r"(?P<H>\d\d)(?P<M>\d\d)(?P<S>\d\d)",
    "dashed": r"(?P<Y>\d{4})-(?P<m>\d\d)-(?P<d>\d\d)-(?P<H>\d\d)-(?P<M>\d\d)-(?P<S>\d\d)",
    "Y": r"(?P<Y>\d{4})",
    "m": r"(?P<m>\d\d)",
    "d": r"(?P<d>\d\d)",
    "H": r"(?P<H>\d\d)",
    "h": r"(?P<H>\d{1,2})",
    "M": r"(?P<M>\d\d)",
    "S": r"(?P<S>\d\d)",
    "ms": r"(?P<ms>\d{3})",
    "cs": r"(?P<cs>\d\d)",
    "ampm": r"(?P<ampm>AM|PM|上午|下午)",
    "off": r"(?P<off>Z(?![A-Za-z])|[+-]\d\d:?\d\d)",
    "epoch_s": r"(?P<epoch_s>\d{9,10})(?!\d)",
    "epoch_ms": r"(?P<epoch_ms>\d{12,13})(?!\d)",
    "pkg": r"(?P<pkg>[A-Za-z]\w*(?:\.[A-Za-z]\w*)+)",
    "app_md5": r"(?P<app_md5>[0-9a-f]{32})(?![0-9a-f])",
    "label": r"(?P<label>[^_]+?)",
}
_TOKEN = re.compile(r"\{(" + "|".join(TOKENS) + r")\}")
_GROUPS = frozenset(re.findall(r"\?P<(\w+)>", "".join(TOKENS.values())))
_DATE_GROUPS = ("Y", "m", "d", "H", "M")


@dataclass(frozen=True)
class FilenamePattern:
    key: str
    vendor: str
    detail: str
    detail_without_app: str  # shown when a name that may carry an app carries none
    meaning: str  # capture | save
    zone: str  # local | utc (an offset written in the name always wins)
    anywhere: bool
    regex: re.Pattern[str]
    source: str  # the regex as written in the template, for error messages and docs
    example: str
    note: str

    @property
    def is_save(self) -> bool:
        return self.meaning == "save"


@dataclass(frozen=True)
class FilenameTimes:
    patterns: tuple[FilenamePattern, ...]
    apps: Mapping[str, str]  # package -> Chinese name, beside the platform apps


@dataclass(frozen=True)
class NameTime:
    time: datetime
    has_seconds: bool
    offset: str | None  # the offset as written in the name, if any


# Only these are stripped as extensions: a package name's last segment ("…ugc.aweme") must not
# be mistaken for one when a file has lost its extension.
MEDIA_EXTENSIONS = frozenset(
    {"jpg", "jpeg", "png", "webp", "heic", "heif", "gif", "bmp", "tif", "tiff", "dng",
     "mp4", "mov", "m4v", "3gp", "mkv", "avi", "webm", "pdf", "ofd"}
)


def stem_of(name: str) -> str:
    """The base name without a known extension, NFC-normalised (macOS hands us NFD)."""
    base = re.split(r"[\\/]", name)[-1]
    base = unicodedata.normalize("NFC", base)
    head, dot, ext = base.rpartition(".")
    if dot and head and ext.lower() in MEDIA_EXTENSIONS:
        return head
    return base


def expand(source: str) -> str:
    """``{date}`` and the other building blocks replaced by their regex."""
    return _TOKEN.sub(lambda m: TOKENS[m.group(1)], source)


def compile_pattern(source: str) -> re.Pattern[str]:
    return re.compile(expand(source), re.IGNORECASE | re.ASCII)


def find(pattern: FilenamePattern, stem: str) -> list[re.Match[str]]:
    if pattern.anywhere:
        return list(pattern.regex.finditer(stem))
    first = pattern.regex.match(stem)
    return [first] if first else []


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def read_time(pattern: FilenamePattern, m: re.Match[str], tz: tzinfo) -> NameTime | None:
    """The match as an aware datetime, or None if the digits are not a possible time.

    Local names are read in ``tz``, UTC names (and epochs) converted to ``tz``; a name with its
    own offset keeps that offset.
    """
    g = m.groupdict()
    try:
        if g.get("epoch_s") or g.get("epoch_ms"):
            if g.get("epoch_s"):
                delta = timedelta(seconds=int(g["epoch_s"]))
            else:
                delta = timedelta(milliseconds=int(g["epoch_ms"]))
            moment = (_EPOCH + delta).astimezone(tz)
            return NameTime(moment, True, None) if MIN_YEAR <= moment.year <= MAX_YEAR else None
        hour = int(g["H"])
        ampm = g.get("ampm")
        if ampm:
            if not 1 <= hour <= 12:
                return None
            hour = hour % 12 + (12 if ampm.upper() in ("PM", "下午") else 0)
        micro = int(g["ms"]) * 1000 if g.get("ms") else int(g["cs"]) * 10000 if g.get("cs") else 0
        has_seconds = g.get("S") is not None
        naive = datetime(int(g["Y"]), int(g["m"]), int(g["d"]), hour, int(g["M"]),
                         int(g["S"]) if has_seconds else 0, micro)
    except (ValueError, OverflowError):  # month 13, 25 o'clock, out-of-range epochs
        return None
    if not MIN_YEAR <= naive.year <= MAX_YEAR:
        return None
    written = g.get("off")
    if written:
        zone = parse_utc_offset(written)
        if zone is None:
            return None
        return NameTime(naive.replace(tzinfo=zone), has_seconds, written)
    if pattern.zone == "utc":
        return NameTime(naive.replace(tzinfo=UTC).astimezone(tz), has_seconds, None)
    return NameTime(naive.replace(tzinfo=tz), has_seconds, None)


def parse_filename_times(doc: TemplateFile) -> FilenameTimes:
    """Read and validate filename_times.yaml."""
    top = doc.mapping(doc.data, "", required=("schema", "patterns"), optional=("apps",))
    apps: dict[str, str] = {}
    for package, name in doc.mapping(top.get("apps") or {}, "apps", optional=None).items():
        if not isinstance(name, str) or not name.strip():
            doc.fail(f"apps.{package}", f"应为 App 的中文名称，实际是 {name!r}")
        apps[package] = name.strip()
    patterns: list[FilenamePattern] = []
    seen: set[str] = set()
    fields = ("key", "vendor", "detail", "meaning", "zone", "regex", "example")
    for path, node in doc.items(top, "patterns", ""):
        m = doc.mapping(node, path, required=fields, optional=("where", "note", "detail_without_app"))
        key = doc.text(m, "key", path)
        if key in seen:
            doc.fail(f"{path}.key", f"键名 {key} 重复")
        seen.add(key)
        meaning, zone = doc.text(m, "meaning", path), doc.text(m, "zone", path)
        if meaning not in MEANINGS:
            doc.fail(f"{path}.meaning", f"应为 capture（拍摄时间）或 save（保存时间），实际是 {meaning!r}")
        if zone not in ZONES:
            doc.fail(f"{path}.zone", f"应为 local（本地时间）或 utc，实际是 {zone!r}")
        where = doc.text(m, "where", path, default="start")
        if where not in WHERE:
            doc.fail(f"{path}.where", f"应为 start 或 anywhere，实际是 {where!r}")
        source = doc.text(m, "regex", path)
        try:
            regex = compile_pattern(source)
        except re.error as exc:
            doc.fail(f"{path}.regex", f"不是有效的正则表达式：{exc}")
        groups = set(regex.groupindex)
        unknown = groups - _GROUPS
        if unknown:
            doc.fail(f"{path}.regex", f"不认识的分组名 {'、'.join(sorted(unknown))}")
        epoch = groups & {"epoch_s", "epoch_ms"}
        if not epoch and not set(_DATE_GROUPS) <= groups:
            doc.fail(f"{path}.regex", "要含有年月日时分（如 {date}{time}），或 {epoch_s}/{epoch_ms}")
        if epoch and zone != "utc":
            doc.fail(f"{path}.zone", "Unix 时间戳一定是 UTC，应写 zone: utc")
        detail = doc.text(m, "detail", path)
        pattern = FilenamePattern(
            key=key, vendor=doc.text(m, "vendor", path), detail=detail,
            detail_without_app=doc.text(m, "detail_without_app", path, default=detail),
            meaning=meaning, zone=zone, anywhere=where == "anywhere", regex=regex, source=source,
            example=doc.text(m, "example", path), note=doc.text(m, "note", path, default=""),
        )
        stem = stem_of(pattern.example)
        found = find(pattern, stem)
        if not found:
            doc.fail(f"{path}.example", f"例子 {pattern.example} 与 regex 对不上")
        if all(read_time(pattern, match, SHANGHAI) is None for match in found):
            doc.fail(f"{path}.example", f"例子 {pattern.example} 读不出合理的时间（{MIN_YEAR}–{MAX_YEAR} 年）")
        patterns.append(pattern)
    if not patterns:
        doc.fail("patterns", "至少要有一条")
    return FilenameTimes(tuple(patterns), apps)


def is_save_time(stamp: Stamp) -> bool:
    """True for a file-name time that only says when a chat app saved (or a site served) the file.

    Such a time is an upper bound, and must not be used as a recording's start for wall-clock
    frame times."""
    return stamp.source is TimeSource.FILENAME and stamp.detail.endswith(SAVE_TIME_MARK)
