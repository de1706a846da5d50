"""Declared moments in recordings ("00:12:31 主播承诺假一赔十") and their wall-clock times.

A moment's offset is relative to the start of the recording; the pipeline decides when the
recording started (declared > file name > container) and calls :func:`with_wall_times`, so this
module never guesses a start time itself.
"""

from __future__ import annotations

import math
import re
from dataclasses import replace
from datetime import datetime, timedelta

from evidencekit.model import AudioInspection, Finding, Moment, Severity, VideoInspection, format_datetime

# H:MM:SS(.f) or MM:SS(.f). Users type on phones, so the full-width colon is accepted too.
# The lookahead stops "12:3145 说明" from being read as 12:31 plus a caption "45 说明".
_MOMENT_RE = re.compile(
    r"""^\s*
    (?:(?P<h>\d{1,3})[:：])?
    (?P<m>\d{1,2})[:：]
    (?P<s>\d{2}(?:\.\d{1,3})?)
    (?![\d.:：])
    [\s\-–—:：,，、]*
    (?P<caption>.*)$""",
    re.VERBOSE | re.DOTALL,
)


def parse_moment(text: str) -> Moment | None:
    """``"00:12:31 主播承诺假一赔十"`` -> Moment(751.0, "主播承诺假一赔十"); None if not a moment.

    Accepts ``H:MM:SS``, ``MM:SS`` and a fractional second (``1:02:03.5``), always with two
    second digits so ``1:2`` is not guessed at. Seconds must be below 60, and so must minutes
    when an hour part is given: ``00:75:00`` is a typo we refuse rather than read as 1 h 15 min,
    while ``75:00`` is how phone players show long recordings.
    """
    match = _MOMENT_RE.match(text)
    if match is None:
        return None
    hours = int(match["h"]) if match["h"] is not None else 0
    minutes = int(match["m"])
    seconds = float(match["s"])
    if seconds >= 60 or (match["h"] is not None and (minutes >= 60 or len(match["m"]) != 2)):
        return None
    offset = hours * 3600 + minutes * 60 + seconds
    return Moment(offset=offset, caption=match["caption"].strip())


def format_timecode(seconds: float, precise: bool = False) -> str:
    """``7.0`` -> ``"00:00:07"``; with ``precise``, a fractional part is kept (``"00:00:07.25"``).

    Without ``precise`` the seconds are floored, as video players show a running time: the frame
    at 4.9 s is still within second 4.
    """
    seconds = max(0.0, seconds)
    millis = round(seconds * 1000) if precise else math.floor(seconds + 1e-9) * 1000
    whole, frac = divmod(millis, 1000)
    h, rest = divmod(whole, 3600)
    m, s = divmod(rest, 60)
    text = f"{h:02d}:{m:02d}:{s:02d}"
    if frac:
        text += f".{frac:03d}".rstrip("0")
    return text


def frame_caption(offset: float, wall_time: datetime | None) -> str:
    """The caption printed under a frame: ``"00:00:07 · 2024-11-11 20:30:07"``."""
    code = format_timecode(offset)
    return f"{code} · {format_datetime(wall_time)}" if wall_time is not None else code


def with_wall_times(insp: VideoInspection | AudioInspection, start: datetime | None
                    ) -> VideoInspection | AudioInspection:
    """Set ``start_time`` and each frame's and moment's wall time to ``start + offset``.

    The moment captions stay as declared; only the display caption under each frame image gains
    the wall-clock time. With ``start`` None every wall time is cleared (the caller found no
    start time, and a stale one from an earlier call must not survive).
    """

    def at(offset: float) -> datetime | None:
        return start + timedelta(seconds=offset) if start is not None else None

    moments = tuple(replace(moment, wall_time=at(moment.offset)) for moment in insp.moments)
    if isinstance(insp, AudioInspection):
        return replace(insp, moments=moments, start_time=start)
    frames = tuple(
        replace(
            frame,
            wall_time=at(frame.offset),
            image=replace(frame.image, caption=frame_caption(frame.offset, at(frame.offset))),
        )
        for frame in insp.frames
    )
    return replace(insp, frames=frames, moments=moments, start_time=start)


def parse_declared_moments(
    texts: tuple[str, ...], duration: float | None, subject: str, code_prefix: str
) -> tuple[list[Moment], list[Finding]]:
    """Parse case.yaml ``moments:`` and drop those that cannot be shown, saying why.

    ``duration`` None (unknown) keeps every parsed moment: we cannot prove it is past the end.
    """
    moments: list[Moment] = []
    findings: list[Finding] = []
    for text in texts:
        moment = parse_moment(text)
        if moment is None:
            findings.append(
                Finding(
                    Severity.WARNING,
                    f"{code_prefix}.moment_unparsed",
                    f"无法识别时刻「{text}」，应写成「00:12:31 说明」的形式",
                    subject,
                )
            )
        elif duration is not None and moment.offset > duration + 1e-6:
            findings.append(
                Finding(
                    Severity.WARNING,
                    f"{code_prefix}.moment_beyond_end",
                    f"时刻 {format_timecode(moment.offset, precise=True)}「{moment.caption}」超出了文件时长 "
                    f"{format_timecode(duration, precise=True)}，请核对时间",
                    subject,
                )
            )
        else:
            moments.append(moment)
    return moments, findings
