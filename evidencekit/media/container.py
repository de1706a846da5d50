"""What every PyAV-backed inspector shares: the demuxer allow-list, decoding in a budgeted worker,
JSON fact sidecars in the display cache and times read from container metadata.

recordings.py, audio.py and documents.py all build on this module; none of them imports another
for these helpers. PyAV is imported only inside the functions that open a container, so
``evidencekit --help`` does not pay for loading FFmpeg.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
from collections.abc import Mapping
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PIL import Image

from evidencekit.cache import DisplayCache
from evidencekit.errors import BudgetExceeded, DecodeFailed, OriginalChanged, UnsupportedContainer
from evidencekit.integrity.originals import OriginalFile, open_original, public_message
from evidencekit.media.base import MediaContext
from evidencekit.media.budget import run_budgeted
from evidencekit.model import (
    Finding,
    Inspection,
    MediaType,
    Severity,
    SourceFile,
    Stamp,
    TimeSource,
    failed_inspection,
)

if TYPE_CHECKING:
    import av

# What a damaged or hostile file can make PyAV raise (av.FFmpegError subclasses ValueError).
DECODE_ERRORS: tuple[type[BaseException], ...] = (OSError, ValueError, EOFError)
# ... and what else decoding in the worker can end in.
DECODE_FAILURES: tuple[type[BaseException], ...] = (*DECODE_ERRORS, OriginalChanged, BudgetExceeded)

UNSUPPORTED_REASON = "格式不受支持（不是可识别的音视频文件），未生成预览；原件已计算哈希并随证据材料附上"


# ---------------------------------------------------------------------------------------------
# Containers: we choose the demuxer, FFmpeg never guesses
# ---------------------------------------------------------------------------------------------

# The only demuxers FFmpeg may run on an original. Probing is never left to FFmpeg: it would
# happily take a 40-byte ".mp4" for an ffconcat script or an HLS playlist and read other files
# (outside the case folder, through refused links, or never hashed). Each name here reads one
# byte stream and nothing else.
ALLOWED_DEMUXERS = frozenset({"mov", "matroska", "avi", "mpegts", "mp3", "wav", "aac", "flac", "ogg", "amr"})

# The mov demuxer can follow "data references" to other files; keep that off explicitly.
_DEMUXER_OPTIONS = {"mov": {"enable_drefs": "0", "use_absolute_path": "0"}}

_ISO_BOXES = frozenset({b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"pnot"})


def demuxer_for(head: bytes) -> str | None:
    """The demuxer for a file starting with ``head`` (at least 12 bytes; 400 for MPEG-TS), or None."""
    if head[4:8] in _ISO_BOXES:
        return "mov"  # mp4, mov, m4a, m4v, 3gp
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "matroska"  # mkv, webm
    if head.startswith(b"RIFF") and head[8:12] == b"AVI ":
        return "avi"
    if head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        return "wav"
    if head.startswith(b"fLaC"):
        return "flac"
    if head.startswith(b"OggS"):
        return "ogg"
    if head.startswith(b"#!AMR"):
        return "amr"
    if len(head) >= 377 and head[0] == head[188] == head[376] == 0x47:
        return "mpegts"
    if head.startswith(b"ID3"):
        return "mp3"
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:
        layer = (head[1] >> 1) & 0x03
        return "aac" if layer == 0 else "mp3"  # ADTS has layer 0; MPEG audio layers 1–3
    return None


def open_container(fh: OriginalFile) -> av.container.InputContainer:
    """PyAV on the already opened and checked original, with the demuxer we chose."""
    import av  # lazily: loading FFmpeg costs ~0.1 s that commands without videos should not pay

    head = fh.read(512)
    fh.seek(0)
    fmt = demuxer_for(head)
    if fmt is None or fmt not in ALLOWED_DEMUXERS:
        raise UnsupportedContainer(fh.rel_path)
    return av.open(fh, mode="r", format=fmt, options=dict(_DEMUXER_OPTIONS.get(fmt, {})))


def decode_in_worker(job: Any, source: SourceFile, *args: Any, ctx: MediaContext) -> Any:
    """Run ``job(fh, *args)`` on the opened original inside the decode budget.

    The original is opened (and its identity checked) in the worker; after the job it is
    checked again, so a file rewritten while it was being decoded gives no facts at all.
    """
    return run_budgeted(_open_and_run, job, source, args, seconds=ctx.decode_seconds,
                        memory=ctx.video_decode_memory)


def _open_and_run(job: Any, source: SourceFile, args: tuple[Any, ...]) -> Any:
    with open_original(source) as fh:
        try:
            result = job(fh, *args)
        except (UnsupportedContainer, OriginalChanged, MemoryError):
            raise
        except Exception as exc:  # untrusted bytes: any decoder failure means "no preview"
            raise DecodeFailed(public_message(str(exc).strip() or type(exc).__name__, source)) from None
        fh.check_unchanged()
    return result


def media_failure(media: MediaType, source: SourceFile, code: str, exc: BaseException, what: str) -> Inspection:
    """The Inspection for an original PyAV could not (or must not) decode."""
    if isinstance(exc, OriginalChanged):
        return unusable(media, source, "media.changed", exc.reason)
    if isinstance(exc, UnsupportedContainer):
        return unusable(media, source, code, UNSUPPORTED_REASON)
    if isinstance(exc, BudgetExceeded):
        return unusable(media, source, f"media.{exc.what}_budget", exc.reason)
    return unusable(media, source, code, what + decode_reason(exc, source))


# ---------------------------------------------------------------------------------------------
# Shared with audio.py and documents.py: sidecars and container times
# ---------------------------------------------------------------------------------------------


def read_facts(cache: DisplayCache, path: Path) -> dict[str, Any] | None:
    """A sidecar written by :func:`write_facts`, or None when absent or unreadable."""
    if not cache.lookup(path):
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # a damaged cache entry only costs a re-inspection
    return data if isinstance(data, dict) else None


def write_facts(cache: DisplayCache, path: Path, facts: Mapping[str, Any]) -> None:
    # A sidecar that cannot be stored anywhere only costs decoding again next time.
    with contextlib.suppress(OSError):
        cache.store(path, json.dumps(facts, ensure_ascii=False, sort_keys=True).encode("utf-8"))


def cached_copies_valid(cache: DisplayCache, copies: list[tuple[Path, str]]) -> bool:
    """Every cached display copy is there and has the SHA-256 recorded with it in the sidecar.

    Checks every copy (no short-circuit) so the cache's hit/miss counters stay meaningful."""
    return all([cache.verified(path, sha256) for path, sha256 in copies])


def save_jpeg(cache: DisplayCache, path: Path, img: Image.Image, quality: int) -> tuple[int, int, str]:
    """Write a display copy through the cache; returns width, height and the file's SHA-256."""
    buf = io.BytesIO()
    img.convert("RGB").save(buf, "JPEG", quality=quality)
    data = buf.getvalue()
    cache.store(path, data)
    return img.width, img.height, hashlib.sha256(data).hexdigest()


# Where a container says when it was recorded, best first. The device's own local time with
# its offset (QuickTime ``com.apple.quicktime.creationdate`` from iPhones and many Android
# cameras, the iTunes-style ``date`` (©day) some recorders write) survives re-muxing and
# editing apps, which rewrite the generic ``creation_time`` (UTC by the QuickTime/MP4 spec) to
# when they saved the file. (key, detail, keeps the device's offset)
_CONTAINER_TIMES = (
    ("com.apple.quicktime.creationdate", "拍摄设备记录的本地时间（com.apple.quicktime.creationdate）", True),
    ("date", "录制设备记录的本地时间（date 标签）", True),
    ("creation_time", "文件内记录的创建时间（UTC 换算）", False),
)


def container_time(metadata: Mapping[str, str], tz: tzinfo) -> tuple[datetime, str] | None:
    """The recording time a container records, and where it came from.

    A device-local time keeps the offset the device recorded (the dossier names zones other
    than UTC+8), and is used only with a time of day and an offset: a bare ``date`` of ``2024``
    or a local time without its zone says too little. ``creation_time`` is UTC and converted
    to ``tz``. Zero dates (1904/1970, what muxers write when the clock is unknown) are ignored.
    """
    for key, detail, local in _CONTAINER_TIMES:
        raw = metadata.get(key)
        if not raw or not isinstance(raw, str):
            continue
        text = raw.strip()
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            continue
        if parsed.year < 1980:
            continue
        if local:
            if parsed.tzinfo is None or len(text) < 16 or text[10] not in "T ":
                continue
            return parsed, detail
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.astimezone(tz), detail
    return None


def container_stamp(facts: Mapping[str, Any], tz: tzinfo) -> Stamp | None:
    raw = facts.get("creation_time")
    if not raw:
        return None
    detail = str(facts.get("creation_detail", ""))
    moment = datetime.fromisoformat(raw)
    if not facts.get("creation_local"):
        moment = moment.astimezone(tz)  # UTC in the file: shown in the case zone
    return Stamp(moment, TimeSource.CONTAINER, detail)


def is_device_local(detail: str) -> bool:
    """True when ``detail`` (from container_time) names a device-local time with its own offset."""
    return any(local and detail == name for _key, name, local in _CONTAINER_TIMES)


def unusable(media: MediaType, source: SourceFile, code: str, reason: str) -> Inspection:
    """An original we could not read: listed with its reason, still attached and hashed."""
    return failed_inspection(
        media, reason, (Finding(Severity.WARNING, code, f"{source.name}：{reason}", source.rel_path),))


def decode_reason(exc: BaseException, source: SourceFile | None = None) -> str:
    detail = public_message(str(exc).strip(), source)
    if len(detail) > 120:
        detail = detail[:117] + "..."
    return f"文件已损坏或格式不受支持（{detail or type(exc).__name__}）"
