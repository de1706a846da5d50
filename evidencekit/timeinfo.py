"""Capture times and where they came from (strongest first: see resolve_capture_time).

Parsers here are pure: they take text and a time zone and never read files or the clock. The
"not in the future" check takes ``not_after`` from the caller so builds stay reproducible.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from datetime import datetime, tzinfo

from evidencekit.media.moments import with_wall_times
from evidencekit.model import (
    SHANGHAI,
    EvidenceOverride,
    Exhibit,
    Finding,
    Inspection,
    RecordingInspection,
    Severity,
    SourceFile,
    Stamp,
    TimeSource,
    parse_utc_offset,
    transcript_of,
)
from evidencekit.rules import filename_times
from evidencekit.rules.catalog import load_rules
from evidencekit.rules.filename_times import SAVE_TIME_MARK, is_save_time

# Times before this are a phone with an unset clock or digits that only look like a date;
# livestream shopping evidence cannot be that old.
MIN_YEAR = filename_times.MIN_YEAR

def platform_app_names() -> dict[str, str]:
    """Package → platform label for every app listed in templates/platforms.yaml."""
    return {app: platform.label for platform in load_rules().platforms.values() for app in platform.apps}


def app_names() -> dict[str, str]:
    """Package → Chinese app name: filename_times.yaml ``apps`` and the platform apps."""
    return {**load_rules().filename_times.apps, **platform_app_names()}


def _app_by_md5(digest: str) -> str | None:
    """ColorOS ends screenshot names with the md5 of the foreground app's package."""
    for package, name in app_names().items():
        if hashlib.md5(package.encode("ascii"), usedforsecurity=False).hexdigest() == digest.lower():
            return name
    return None


def _describe(pattern: filename_times.FilenamePattern, m: re.Match[str], offset: str | None) -> str:
    """``小米截图文件名（应用：微信）``: the foreground app is worth showing next to the time."""
    groups = m.groupdict()
    text = pattern.detail
    if groups.get("pkg"):
        pkg = groups["pkg"]
        app = app_names().get(pkg)
        text += f"（应用：{app}）" if app else f"（应用 {pkg}）"
    elif groups.get("app_md5"):
        app = _app_by_md5(groups["app_md5"])
        if app:
            text += f"（应用：{app}）"
    elif (groups.get("label") or "").strip():
        text += f"（应用：{groups['label'].strip()}）"
    elif "label" in pattern.regex.groupindex:
        text = pattern.detail_without_app
    if offset:
        text += "（文件名中的时区 UTC）" if offset.upper() == "Z" else f"（文件名中的时区 {offset}）"
    if pattern.is_save:
        text += SAVE_TIME_MARK
    return text


def _plausible(moment: datetime, not_after: datetime | None, tz: tzinfo) -> bool:
    if not_after is None:
        return True
    limit = not_after if not_after.tzinfo is not None else not_after.replace(tzinfo=tz)
    return moment <= limit


def time_from_filename(name: str, tz: tzinfo = SHANGHAI, not_after: datetime | None = None) -> Stamp | None:
    """The capture (or save) time a phone or app wrote into a file name, or None.

    The patterns are templates/filename_times.yaml, tried in order. Local-time names are read in
    ``tz``; UTC names (Pixel ``PXL_…``, epochs such as ``mmexport…``) are converted to ``tz``; a
    name with its own offset or ``Z`` keeps it. Impossible dates, years outside 2000–2099 and
    times after ``not_after`` (pass the build clock) are rejected. ``detail`` names the vendor
    or app and ends with （非拍摄时间） for save times.
    """
    stem = filename_times.stem_of(name)
    for pattern in load_rules().filename_times.patterns:
        for m in filename_times.find(pattern, stem):
            parsed = filename_times.read_time(pattern, m, tz)
            if parsed is None or not _plausible(parsed.time, not_after, tz):
                continue
            return Stamp(parsed.time, TimeSource.FILENAME, _describe(pattern, m, parsed.offset),
                         has_seconds=parsed.has_seconds)
    return None


_EXIF_DATETIME = re.compile(
    r"(?P<Y>\d{4})[:\-/](?P<m>\d\d)[:\-/](?P<d>\d\d)[ T](?P<H>\d\d):(?P<M>\d\d)(?::(?P<S>\d\d))?"
    r"(?:\.(?P<frac>\d{1,6}))?",
    re.ASCII,
)
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
    """The strongest available time: declared → EXIF → XMP → EXIF DateTime → GPS → filename →
    container → mtime (the order is TimeSource's, see the reasons there).

    ``embedded`` is whatever the media module found (EXIF, XMP, EXIF_DATETIME or GPS for
    photos, CONTAINER for videos);
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


def date_inspection(src: SourceFile, insp: Inspection, override: EvidenceOverride | None, tz: tzinfo,
                    now: datetime) -> tuple[Stamp, Inspection]:
    """The capture time of one inspected file, and its inspection with wall-clock frame times.

    The one place a time is chosen: `build`, `check` and `inspect` all come through here, so
    they cannot disagree."""
    stamp = resolve_capture_time(
        declared=override.time if override else None,
        embedded=insp.embedded_time,
        filename=time_from_filename(src.name, tz, not_after=now),
        mtime=src.mtime,
    )
    stamp = _chat_content_time(stamp, insp)
    if isinstance(insp, RecordingInspection) and stamp.time is not None:
        # Only a time that marks when recording began gives true wall-clock times; a chat
        # app's save time (mmexport…) is merely an upper bound.
        starts = stamp.source in (TimeSource.DECLARED, TimeSource.FILENAME, TimeSource.CONTAINER)
        start = stamp.time if starts and not is_save_time(stamp) else None
        insp = with_wall_times(insp, start)
    return stamp, insp


def _chat_content_time(stamp: Stamp, insp: Inspection) -> Stamp:
    """A chat export's own message times beat a file-modification time: the export's first
    message is when the conversation it proves began."""
    transcript = transcript_of(insp)
    if not stamp.source.weak or transcript is None:
        return stamp
    times = [m for m in transcript.messages if m.time is not None]
    if not times:
        return stamp
    first = min(times, key=lambda m: m.time)  # type: ignore[arg-type,return-value]
    return Stamp(first.time, TimeSource.CONTENT, "聊天记录中第一条消息的时间", has_seconds=first.has_seconds)


def time_findings(exhibits: Sequence[Exhibit]) -> list[Finding]:
    out = []
    for ex in exhibits:
        if ex.stamp.source is TimeSource.MTIME:
            out.append(Finding(Severity.WARNING, "time.mtime_only",
                               f"{ex.label} 只有文件修改时间，复制或同步后可能已改变，证明力弱", ex.source.rel_path))
        elif ex.stamp.source is TimeSource.NONE:
            out.append(Finding(Severity.WARNING, "time.unknown", f"{ex.label} 无法确定拍摄/截图时间",
                               ex.source.rel_path))
    return out
