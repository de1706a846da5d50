"""Capture times and where they came from (strongest first: see resolve_capture_time).

Parsers here are pure: they take text and a time zone and never read files or the clock. The
"not in the future" check takes ``not_after`` from the caller so builds stay reproducible.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo

from evidencekit.model import SHANGHAI, Stamp, TimeSource
from evidencekit.rules.catalog import load_rules

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# Times before this are a phone with an unset clock or digits that only look like a date;
# livestream shopping evidence cannot be that old.
MIN_YEAR = 2000

# Foreground-app packages in vendor screenshot names. A shopping platform's apps are listed in
# templates/platforms.yaml (apps) and named by its label; this table holds the names that differ
# from a platform label (the lite editions, 天猫) and apps that are not shopping platforms.
APP_PACKAGES: dict[str, str] = {
    "com.ss.android.ugc.aweme.lite": "抖音极速版",
    "com.kuaishou.nebula": "快手极速版",
    "com.tmall.wireless": "天猫",
    "com.tencent.mm": "微信",
    "com.eg.android.AlipayGphone": "支付宝",
    "com.xingin.xhs": "小红书",
    "com.xunmeng.pinduoduo": "拼多多",
    "com.jingdong.app.mall": "京东",
}

# Only these are stripped as extensions: a package name's last segment ("…ugc.aweme") must not
# be mistaken for one when a file has lost its extension.
_MEDIA_EXTENSIONS = frozenset(
    {"jpg", "jpeg", "png", "webp", "heic", "heif", "gif", "bmp", "tif", "tiff", "dng",
     "mp4", "mov", "m4v", "3gp", "mkv", "avi", "webm"}
)

_DATE = r"(?P<Y>\d{4})(?P<m>\d\d)(?P<d>\d\d)"
_TIME = r"(?P<H>\d\d)(?P<M>\d\d)(?P<S>\d\d)"
_DASHED = r"(?P<Y>\d{4})-(?P<m>\d\d)-(?P<d>\d\d)-(?P<H>\d\d)-(?P<M>\d\d)-(?P<S>\d\d)"
_PACKAGE = r"(?P<pkg>[A-Za-z]\w*(?:\.[A-Za-z]\w*)+)"
_LABEL = r"(?:_(?P<label>[^_]+?))?(?:_\d+)?$"  # Samsung: app label, then a copy counter


@dataclass(frozen=True)
class _Pattern:
    regex: re.Pattern[str]
    describe: Callable[[re.Match[str]], str]
    kind: str = "local"  # local | utc | epoch_s | epoch_ms
    anywhere: bool = False  # search the whole stem (generic fallbacks) instead of its start


def platform_app_names() -> dict[str, str]:
    """Package → platform label for every app listed in templates/platforms.yaml."""
    return {app: platform.label for platform in load_rules().platforms.values() for app in platform.apps}


def _fixed(text: str) -> Callable[[re.Match[str]], str]:
    return lambda _m: text


def _app_detail(base: str, bare: str = "") -> Callable[[re.Match[str]], str]:
    """``小米截图文件名（应用：微信）``: the foreground app is worth showing next to the time.

    ``bare`` replaces ``base`` when the name carries no app: without it the vendor is a guess.
    """

    def describe(m: re.Match[str]) -> str:
        groups = m.groupdict()
        pkg = groups.get("pkg")
        if pkg:
            app = APP_PACKAGES.get(pkg) or platform_app_names().get(pkg)
            return f"{base}（应用：{app}）" if app else f"{base}（应用 {pkg}）"
        label = (groups.get("label") or "").strip()
        return f"{base}（应用：{label}）" if label else (bare or base)

    return describe


def _p(pattern: str, describe: Callable[[re.Match[str]], str], kind: str = "local",
       anywhere: bool = False) -> _Pattern:
    return _Pattern(re.compile(pattern, re.IGNORECASE | re.ASCII), describe, kind, anywhere)


# Most specific first: a vendor pattern must win over the generic digit fallbacks, and the
# package form of Huawei names over Samsung's free-text label.
# Chat apps name a saved file after when it was saved, not when it was taken: such a time is an
# upper bound, and must not be used as a recording's start for wall-clock frame times.
SAVE_TIME_MARK = "（非拍摄时间）"


def is_save_time(stamp: Stamp) -> bool:
    """True for a file-name time that only says when a chat app saved the file."""
    return stamp.source is TimeSource.FILENAME and stamp.detail.endswith(SAVE_TIME_MARK)


_PATTERNS: tuple[_Pattern, ...] = (
    _p(rf"Screenshot_{_DASHED}-(?P<ms>\d{{3}})(?:_{_PACKAGE})?", _app_detail("小米截图文件名")),
    _p(rf"Screenshot_{_DATE}_{_TIME}_{_PACKAGE}", _app_detail("华为/荣耀截图文件名")),
    _p(rf"Screenshot_{_DATE}_{_TIME}{_LABEL}", _app_detail("三星截图文件名", "截图文件名")),
    _p(rf"Screenshot_{_DATE}-{_TIME}(?:-display-\d+)?", _fixed("安卓截图文件名")),
    _p(rf"Screenrecorder-{_DASHED}-(?P<ms>\d{{1,3}})", _fixed("小米录屏文件名")),
    _p(rf"SVID_{_DATE}_{_TIME}(?:_\d+)?", _fixed("华为录屏文件名")),
    _p(rf"Screen_Recording_{_DATE}-{_TIME}{_LABEL}", _app_detail("三星录屏文件名", "录屏文件名")),
    _p(rf"screen-{_DATE}-{_TIME}", _fixed("安卓录屏文件名")),
    _p(rf"IMG_{_DATE}_{_TIME}", _fixed("相机照片文件名")),
    _p(rf"VID_{_DATE}_{_TIME}", _fixed("相机视频文件名")),
    _p(r"RPReplay_Final(?P<epoch>\d{9,10})(?!\d)", _fixed("iOS 录屏文件名（Unix 时间）"), "epoch_s"),
    _p(rf"{_DATE}_{_TIME}(?P<ms>\d{{3}})_iOS", _fixed("iOS 导出文件名（UTC 时间）"), "utc"),
    _p(r"mmexport(?P<epoch>\d{12,13})(?!\d)", _fixed("微信保存时间" + SAVE_TIME_MARK), "epoch_ms"),
    # Weixin PC saves received images with the save time; its own screenshot tool names the shot.
    _p(rf"微信图片_?{_DATE}{_TIME}(?!\d)", _fixed("微信电脑版保存时间" + SAVE_TIME_MARK)),
    _p(rf"微信截图_?{_DATE}{_TIME}(?!\d)", _fixed("微信电脑版截图文件名")),
    _p(rf"QQ图片{_DATE}{_TIME}(?!\d)", _fixed("QQ 电脑版保存时间" + SAVE_TIME_MARK)),
    _p(rf"QQ截图{_DATE}{_TIME}(?!\d)", _fixed("QQ 电脑版截图文件名")),
    # Generic fallbacks (the heuristic the ente photo app uses): digits that read as a date.
    _p(rf"(?<!\d){_DATE}[-_ T]{_TIME}(?!\d)", _fixed("文件名中的日期时间"), anywhere=True),
    _p(
        r"(?<!\d)(?P<Y>\d{4})-(?P<m>\d\d)-(?P<d>\d\d)[-_ T](?P<H>\d\d)[-._](?P<M>\d\d)"
        r"(?:[-._](?P<S>\d\d))?(?![\d])",
        _fixed("文件名中的日期时间"),
        anywhere=True,
    ),
)


def _stem(name: str) -> str:
    """The base name without a media extension, NFC-normalised (macOS hands us NFD)."""
    base = re.split(r"[\\/]", name)[-1]
    base = unicodedata.normalize("NFC", base)
    head, dot, ext = base.rpartition(".")
    if dot and head and ext.lower() in _MEDIA_EXTENSIONS:
        return head
    return base


def _to_time(m: re.Match[str], kind: str, tz: tzinfo) -> tuple[datetime, bool] | None:
    """The match as an aware datetime in ``tz`` plus whether seconds are known; None if impossible."""
    g = m.groupdict()
    try:
        if kind in ("epoch_s", "epoch_ms"):
            number = int(g["epoch"])
            delta = timedelta(seconds=number) if kind == "epoch_s" else timedelta(milliseconds=number)
            return (_EPOCH + delta).astimezone(tz), True
        micro = int(g["ms"]) * 1000 if g.get("ms") else 0
        has_seconds = g.get("S") is not None
        moment = datetime(
            int(g["Y"]), int(g["m"]), int(g["d"]), int(g["H"]), int(g["M"]),
            int(g["S"]) if has_seconds else 0, micro,
        )
    except (ValueError, OverflowError):  # month 13, 25 o'clock, out-of-range epochs
        return None
    if kind == "utc":
        return moment.replace(tzinfo=UTC).astimezone(tz), has_seconds
    return moment.replace(tzinfo=tz), has_seconds


def _plausible(moment: datetime, not_after: datetime | None, tz: tzinfo) -> bool:
    if moment.year < MIN_YEAR:
        return False
    if not_after is None:
        return True
    limit = not_after if not_after.tzinfo is not None else not_after.replace(tzinfo=tz)
    return moment <= limit


def time_from_filename(name: str, tz: tzinfo = SHANGHAI, not_after: datetime | None = None) -> Stamp | None:
    """The capture (or save) time a phone, WeChat or QQ wrote into a file name, or None.

    Local-time patterns are read in ``tz``; epoch names (``RPReplay_Final…``, ``mmexport…``) and
    iOS ``…_iOS`` exports are UTC, converted to ``tz``. Dates before 2000, impossible dates and
    times after ``not_after`` (pass the build clock) are rejected. ``detail`` names the pattern.
    """
    stem = _stem(name)
    for pattern in _PATTERNS:
        if pattern.anywhere:
            matches = list(pattern.regex.finditer(stem))
        else:
            first = pattern.regex.match(stem)
            matches = [first] if first else []
        for m in matches:
            parsed = _to_time(m, pattern.kind, tz)
            if parsed is None or not _plausible(parsed[0], not_after, tz):
                continue
            return Stamp(parsed[0], TimeSource.FILENAME, pattern.describe(m), has_seconds=parsed[1])
    return None


_EXIF_DATETIME = re.compile(
    r"(?P<Y>\d{4})[:\-/](?P<m>\d\d)[:\-/](?P<d>\d\d)[ T](?P<H>\d\d):(?P<M>\d\d)(?::(?P<S>\d\d))?"
    r"(?:\.(?P<frac>\d{1,6}))?",
    re.ASCII,
)
_UTC_OFFSET = re.compile(r"(?:UTC|GMT)?\s*(?P<sign>[+-])(?P<h>\d{1,2})(?::?(?P<m>\d\d))?", re.ASCII | re.IGNORECASE)


def parse_utc_offset(text: str | None) -> tzinfo | None:
    """``+08:00``, ``-0530``, ``+8``, ``UTC+9``, ``GMT-03:00`` or ``Z`` as a fixed zone.

    None when absent, unreadable or outside the offsets in use on Earth (-12:00 to +14:00).
    +08:00 is :data:`SHANGHAI` and 0 is UTC. EXIF OffsetTime and case.yaml share this reading.
    """
    if not text:
        return None
    value = text.strip().strip("\x00").strip()
    if value.upper() == "Z":
        return UTC
    m = _UTC_OFFSET.fullmatch(value)
    if not m:
        return None
    hours, minutes = int(m["h"]), int(m["m"] or 0)
    if minutes >= 60:
        return None
    delta = timedelta(hours=hours, minutes=minutes) * (-1 if m["sign"] == "-" else 1)
    if not timedelta(hours=-12) <= delta <= timedelta(hours=14):
        return None
    if delta == timedelta(hours=8):
        return SHANGHAI
    return UTC if not delta else timezone(delta)


parse_exif_offset = parse_utc_offset  # the name media/images.py imports


def parse_exif_datetime(value: str, offset: str | None, tz: tzinfo = SHANGHAI) -> datetime | None:
    """EXIF ``DateTimeOriginal`` (``2024:03:15 14:32:00``) with ``OffsetTimeOriginal``.

    The stated offset is kept as the camera recorded it (the dossier names zones other than
    UTC+8); without a usable offset the time is read in ``tz``. Blank, zeroed ("0000:00:00") or
    impossible values and years before 2000 give None.
    """
    if not isinstance(value, str):
        return None
    m = _EXIF_DATETIME.fullmatch(value.strip().strip("\x00").strip())
    if not m:
        return None
    try:
        moment = datetime(
            int(m["Y"]), int(m["m"]), int(m["d"]), int(m["H"]), int(m["M"]), int(m["S"] or 0),
            int((m["frac"] or "0").ljust(6, "0")),
        )
    except ValueError:
        return None
    if moment.year < MIN_YEAR:
        return None
    return moment.replace(tzinfo=parse_utc_offset(offset) or tz)


MTIME_DETAIL = "复制或同步文件会改变此时间，证明力弱"
DECLARED_DETAIL = "case.yaml 中声明"

_RANK = {source: rank for rank, source in enumerate(TimeSource)}  # declaration order = strength


def resolve_capture_time(
    *,
    declared: datetime | None,
    embedded: Stamp | None,
    filename: Stamp | None,
    mtime: datetime | None,
    declared_has_seconds: bool = True,
    tz: tzinfo = SHANGHAI,
) -> Stamp:
    """The strongest available time: declared → EXIF → filename → container → mtime.

    ``embedded`` is whatever the media module found (EXIF for photos, CONTAINER for videos);
    it is ranked by its own source, so EXIF beats a file name and a container time does not.
    Naive datetimes are read in ``tz``.
    """
    candidates: list[Stamp] = []
    if declared is not None:
        candidates.append(Stamp(_aware(declared, tz), TimeSource.DECLARED, DECLARED_DETAIL,
                                has_seconds=declared_has_seconds))
    for stamp in (embedded, filename):
        if stamp is not None and stamp.time is not None and stamp.source is not TimeSource.NONE:
            candidates.append(stamp)
    if mtime is not None:
        candidates.append(Stamp(_aware(mtime, tz), TimeSource.MTIME, MTIME_DETAIL))
    if not candidates:
        return Stamp.none()
    return min(candidates, key=lambda s: _RANK[s.source])


def _aware(moment: datetime, tz: tzinfo) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=tz)
