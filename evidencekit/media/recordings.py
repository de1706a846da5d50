"""Screen recordings and unboxing videos: facts, frames at declared moments, a contact sheet.

PyAV is imported inside the functions that decode, so ``evidencekit --help`` does not pay for
loading FFmpeg. Everything a rebuild needs (duration, size, container time, where each frame
came from) is written to a JSON sidecar in the display cache next to the frame JPEGs, so a warm
rebuild reads the cache and never opens the recording.
"""

from __future__ import annotations

import bisect
import contextlib
import hashlib
import io
import json
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PIL import Image

from evidencekit.cache import DisplayCache
from evidencekit.media.base import MediaContext
from evidencekit.media.budget import BudgetExceeded, run_budgeted
from evidencekit.media.moments import format_timecode, parse_declared_moments, parse_moment
from evidencekit.model import (
    DisplayImage,
    EvidenceOverride,
    Finding,
    Frame,
    Inspection,
    MediaType,
    Severity,
    SourceFile,
    Stamp,
    TimeSource,
)
from evidencekit.originals import OriginalChanged, OriginalFile, open_original, public_message

if TYPE_CHECKING:
    import av

VIDEO_SUFFIXES = frozenset({".mp4", ".mov", ".m4v", ".3gp", ".webm", ".mkv", ".avi"})

# Bump when extraction or the sidecar layout changes, so old cache entries are not reused.
# 2: device-local creation times keep their offset ("creation_local").
_FORMAT_VERSION = 2

# Contact-sheet tiles: the PDF lays them three to a row across the 515 pt box (≈ 170 pt each,
# ≈ 360 px at 150 dpi). The height cap only bites on unusually tall portrait recordings.
TILE_FIT = (360, 640)

# At the end of the file the last frame stays on screen; beyond this gap we assume the file is
# truncated (its header promises more than its data holds) rather than show a stale frame.
_EOF_TOLERANCE_S = 2.0

# Without a seek index, assume keyframes this far apart until decoding shows otherwise.
_DEFAULT_GOP_S = 2.0

# What a damaged or hostile file can make PyAV raise (av.FFmpegError subclasses ValueError).
_DECODE_ERRORS: tuple[type[BaseException], ...] = (OSError, ValueError, EOFError)
# ... and what else decoding in the worker can end in.
_FAILURES: tuple[type[BaseException], ...] = (*_DECODE_ERRORS, OriginalChanged, BudgetExceeded)

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


class UnsupportedContainer(ValueError):
    """The first bytes are none of the containers we open."""


class DecodeFailed(ValueError):
    """A decoder error, reduced to its (path-free) message so it crosses process boundaries."""


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
    return Inspection(
        media=media,
        preview_error=reason,
        findings=(Finding(Severity.WARNING, code, f"{source.name}：{reason}", source.rel_path),),
    )


def decode_reason(exc: BaseException, source: SourceFile | None = None) -> str:
    detail = public_message(str(exc).strip(), source)
    if len(detail) > 120:
        detail = detail[:117] + "..."
    return f"文件已损坏或格式不受支持（{detail or type(exc).__name__}）"


# ---------------------------------------------------------------------------------------------
# Recordings
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Request:
    role: str  # "moment" | "sheet"
    t: float  # seconds from the start of the recording
    fit: tuple[int, int]  # the display copy fits inside this many pixels


def inspect_recording(source: SourceFile, override: EvidenceOverride | None, ctx: MediaContext) -> Inspection:
    """Duration, upright size, container time, frames at declared moments and a contact sheet.

    Never raises for a bad file: an undecodable recording comes back with ``preview_error`` set
    and a warning, so the dossier still lists, hashes and attaches it.
    """
    if source.size == 0:
        return unusable(MediaType.VIDEO, source, "video.undecodable", "文件为空（0 字节），无法预览")
    declared = override.moments if override is not None else ()
    offsets = sorted({m.offset for m in map(parse_moment, declared) if m is not None})
    moment_fit = ctx.box_pixels()
    facts_path = ctx.cache.path_for(
        source.sha256,
        {
            "what": "video-facts",
            "v": _FORMAT_VERSION,
            "moments": offsets,
            "sheet": ctx.contact_sheet_frames,
            "moment_fit": list(moment_fit),
            "tile_fit": list(TILE_FIT),
            **ctx.display_params(),
        },
        ".json",
    )
    facts = read_facts(ctx.cache, facts_path)
    if facts is not None and not cached_copies_valid(
        ctx.cache, [(_frame_path(source.sha256, r, ctx), sha) for r, sha in _cached_frames(facts)]
    ):
        facts = None
    if facts is None:
        try:
            facts = decode_in_worker(_probe_and_extract, source, source.sha256, offsets, moment_fit, ctx, ctx=ctx)
        except _FAILURES as exc:
            return media_failure(MediaType.VIDEO, source, "video.undecodable", exc, "无法解码视频：")
        write_facts(ctx.cache, facts_path, facts)
    if facts.get("audio_only"):
        # A .3gp/.mp4 with sound only (phone call recorders do this): show it as audio.
        from evidencekit.media.audio import inspect_audio

        return inspect_audio(source, override, ctx)
    if facts.get("error"):
        return unusable(MediaType.VIDEO, source, "video.undecodable", str(facts["error"]))
    return _inspection_from_facts(source, declared, facts, moment_fit, ctx)


def _frame_path(sha256: str, req: _Request, ctx: MediaContext) -> Path:
    params = {
        "what": "video-frame",
        "v": _FORMAT_VERSION,
        "t": req.t,
        "fit": list(req.fit),
        **ctx.display_params(),
    }
    return ctx.cache.path_for(sha256, params, ".jpg")


def _cached_frames(facts: Mapping[str, Any]) -> list[tuple[_Request, str]]:
    try:
        return [
            (_Request(rec["role"], rec["t"], (rec["fit"][0], rec["fit"][1])), str(rec["sha256"]))
            for rec in facts.get("frames", [])
            if rec.get("offset") is not None
        ]
    except (KeyError, TypeError, IndexError):
        return [(_Request("moment", -1.0, (0, 0)), "")]  # a foreign sidecar: never valid


def _inspection_from_facts(
    source: SourceFile,
    declared: tuple[str, ...],
    facts: Mapping[str, Any],
    moment_fit: tuple[int, int],
    ctx: MediaContext,
) -> Inspection:
    duration: float | None = facts.get("duration")
    moments, findings = parse_declared_moments(declared, duration, source.rel_path, "video")
    records = {(rec["role"], rec["t"]): rec for rec in facts.get("frames", [])}

    def frame_for(req: _Request, caption: str, declared_moment: bool) -> Frame | None:
        rec = records.get((req.role, req.t))
        if rec is None or rec.get("offset") is None:
            return None
        offset = float(rec["offset"])
        image = DisplayImage(
            path=_frame_path(source.sha256, req, ctx),
            width=int(rec["width"]),
            height=int(rec["height"]),
            sha256=str(rec["sha256"]),
            caption=format_timecode(offset),
        )
        return Frame(image=image, offset=offset, wall_time=None, caption=caption, declared=declared_moment)

    frames: list[Frame] = []
    for moment in moments:
        frame = frame_for(_Request("moment", moment.offset, moment_fit), moment.caption, True)
        if frame is None:
            findings.append(
                Finding(
                    Severity.WARNING,
                    "video.frame_missing",
                    f"未能提取 {format_timecode(moment.offset, precise=True)} 处的画面（文件可能不完整）",
                    source.rel_path,
                )
            )
        else:
            frames.append(frame)
    for t in facts.get("sheet_times", []):
        # Tiles carry no caption of their own: the timecode is on the image caption, and
        # pdf/exhibits.py prints it (and the wall time) from the frame's offset.
        frame = frame_for(_Request("sheet", t, TILE_FIT), "", False)
        if frame is not None:
            frames.append(frame)
    for note in facts.get("notes", []):
        findings.append(
            Finding(Severity.WARNING, "video.decode_problem", f"{source.name}：{note}", source.rel_path)
        )
    return Inspection(
        media=MediaType.VIDEO,
        frames=tuple(frames),
        moments=tuple(moments),
        embedded_time=container_stamp(facts, ctx.tz),
        duration=duration,
        width=facts.get("width"),
        height=facts.get("height"),
        findings=tuple(findings),
    )


def sheet_times(duration: float, count: int) -> list[float]:
    """``count`` evenly spaced times, each in the middle of its slice of the recording.

    Mid-slice times skip the black first frame and the final frame many recorders leave
    blank; short clips get at most one tile per second so captions do not repeat.
    """
    count = min(count, max(1, math.floor(duration)))
    if count <= 0 or duration <= 0:
        return []
    return [round(duration * (i + 0.5) / count, 3) for i in range(count)]


def _probe_and_extract(
    fh: OriginalFile, sha256: str, offsets: list[float], moment_fit: tuple[int, int], ctx: MediaContext
) -> dict[str, Any]:
    with open_container(fh) as container:
        created = container_time(container.metadata, ctx.tz)
        if not container.streams.video:
            if container.streams.audio:
                return {"v": _FORMAT_VERSION, "audio_only": True}
            return {"v": _FORMAT_VERSION, "error": "文件中没有视频画面"}
        stream = container.streams.video[0]
        if created is None:
            created = container_time(stream.metadata, ctx.tz)
        stream.codec_context.thread_type = "AUTO"  # both cores; frame order is unaffected
        duration = _duration(container, stream)
        shown = [t for t in offsets if duration is None or t <= duration + 1e-6]
        requests = [_Request("moment", t, moment_fit) for t in shown]
        times = sheet_times(duration, ctx.contact_sheet_frames) if duration else []
        requests += [_Request("sheet", t, TILE_FIT) for t in times]
        width = stream.codec_context.width or None
        height = stream.codec_context.height or None
        if width and height and width * height > ctx.max_pixels:
            return {"v": _FORMAT_VERSION, "error": f"画面尺寸过大（{width}×{height}），未解码"}
        records, rotation, notes = _extract(container, stream, requests, sha256, ctx)
        codec = stream.codec_context.name

    if rotation % 180 == 90:
        width, height = height, width
    error = ""
    if requests and all(rec["offset"] is None for rec in records):
        error = "无法解码视频画面：" + (notes[0] if notes else "未能解码出任何画面")
    return {
        "v": _FORMAT_VERSION,
        "duration": duration,
        "width": width,
        "height": height,
        "rotation": rotation,
        "codec": codec,
        "creation_time": created[0].isoformat() if created else None,
        "creation_detail": created[1] if created else "",
        "creation_local": bool(created and is_device_local(created[1])),
        "sheet_times": times,
        "frames": records,
        "notes": notes,
        "error": error,
    }


def _duration(container: av.container.InputContainer, stream: av.video.stream.VideoStream) -> float | None:
    import av

    if container.duration and container.duration > 0:
        return float(container.duration) / av.time_base
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    # Browser MediaRecorder WebM files carry no duration: read packet times (no decoding).
    last = None
    for packet in container.demux(stream):
        if packet.pts is not None and packet.time_base is not None:
            end = packet.pts + (packet.duration or 0)
            last = end if last is None else max(last, end)
    container.seek(0)
    if last is None or stream.time_base is None:
        return None
    return max(0.0, float((last - (stream.start_time or 0)) * stream.time_base))


def _extract(
    container: av.container.InputContainer,
    stream: av.video.stream.VideoStream,
    requests: list[_Request],
    sha256: str,
    ctx: MediaContext,
) -> tuple[list[dict[str, Any]], int, list[str]]:
    """Decode the frame shown at each requested time and save every display copy.

    Returns one record per request (``offset`` None when no frame could be had), the display
    rotation, and Chinese notes about decoding problems.
    """
    records: dict[_Request, dict[str, Any]] = {}
    rotation = 0
    notes: list[str] = []
    by_time: dict[float, list[_Request]] = {}
    for req in requests:
        by_time.setdefault(req.t, []).append(req)
    finder = _FrameFinder(container, stream)
    try:
        for t, frame in finder.frames_at(sorted(by_time)):
            if frame is None:
                continue
            rotation = _normalise_rotation(frame.rotation)
            picture = _upright(frame.to_image(), rotation)
            offset = finder.offset_of(frame)
            for req in by_time[t]:
                tile = picture.copy()
                tile.thumbnail(req.fit, Image.Resampling.LANCZOS, reducing_gap=2.0)  # never enlarges
                w, h, digest = save_jpeg(ctx.cache, _frame_path(sha256, req, ctx), tile, ctx.jpeg_quality)
                records[req] = {"offset": offset, "width": w, "height": h, "sha256": digest}
    except _DECODE_ERRORS as exc:
        # Keep what was extracted; the rest of the frames are reported missing.
        notes.append("部分画面无法解码：" + decode_reason(exc))
    out = []
    for req in requests:
        rec = records.get(req, {"offset": None})
        out.append({"role": req.role, "t": req.t, "fit": list(req.fit), **rec})
    return out, rotation, notes


def _normalise_rotation(degrees: float | int | None) -> int:
    return (round((degrees or 0) / 90) * 90) % 360


def _upright(img: Image.Image, rotation: int) -> Image.Image:
    """Apply the display matrix: FFmpeg's rotation is counter-clockwise, as is PIL's ROTATE_90.

    Phones store portrait video as landscape pixels plus this matrix; without it the frames in
    the dossier would lie on their side. Mirroring flags are not applied (no phone recorder
    writes them).
    """
    turns = {90: Image.Transpose.ROTATE_90, 180: Image.Transpose.ROTATE_180, 270: Image.Transpose.ROTATE_270}
    return img.transpose(turns[rotation]) if rotation in turns else img


class _FrameFinder:
    """Finds the frame on screen at given times, seeking only when it saves decoding.

    For each target (in ascending order) it either keeps decoding forward or seeks to the
    keyframe at or before the target. Seeking pays off only when a keyframe lies between the
    decoder's position and the target; otherwise decoding forward is the same work without
    the flush. So sparse moments in a short-GOP recording seek each time (6 frames in a 10-min
    720p file decode ~80 frames), while a dense contact sheet of a long-GOP file degrades into
    one sequential pass (tech-notes §5: 60 seeks at GOP 250 cost 6.4 s, one pass 2 s).

    "On screen at t" is the last frame with a time at or before t. For constant-frame-rate
    video at a frame boundary this is also the first frame at or after t; for variable-rate
    screen recordings, where a static screen produces no new frames, it is the frame a player
    would show rather than the next change.
    """

    def __init__(self, container: av.container.InputContainer, stream: av.video.stream.VideoStream) -> None:
        self.container = container
        self.stream = stream
        if stream.time_base is None:
            raise ValueError("video stream has no time base")
        self.time_base: Fraction = stream.time_base
        self.start_pts: int = stream.start_time or 0
        self.keyframes = self._index_keyframes()
        self.gop_pts = _DEFAULT_GOP_S / float(self.time_base)
        self.frames: Iterator[av.VideoFrame] = iter(())
        self.pending: av.VideoFrame | None = None  # decoded but later than the last target
        self.prev: av.VideoFrame | None = None  # the latest frame at or before the last target
        self.positioned = False
        self.last_key_pts: int | None = None  # the previous keyframe in this run of decoding
        self.gop_learned = False

    def offset_of(self, frame: av.VideoFrame) -> float:
        pts = frame.pts if frame.pts is not None else self.start_pts  # frames_at skips pts-less frames
        return round(max(0.0, float((pts - self.start_pts) * self.time_base)), 6)

    def _index_keyframes(self) -> list[int] | None:
        try:
            entries = self.stream.index_entries
            keys = sorted(e.timestamp for e in entries if e.is_keyframe) if entries else []
        except (AttributeError, TypeError):
            return None
        return keys or None

    def _target_pts(self, t: float) -> int:
        return self.start_pts + math.floor(t / float(self.time_base) + 1e-6)

    def _position(self) -> int | None:
        frame = self.pending if self.pending is not None else self.prev
        return frame.pts if frame is not None and self.positioned else None

    def _worth_seeking(self, target: int) -> bool:
        pos = self._position()
        if pos is None or pos > target:
            return pos is None
        if self.keyframes is not None:
            i = bisect.bisect_right(self.keyframes, target) - 1
            return i >= 0 and self.keyframes[i] > pos
        return target - pos > self.gop_pts

    def _seek(self, target: int) -> None:
        """Seek so that decoding starts at or before ``target``.

        Some containers (index-less WebM, AVI) land after the requested point; then retry
        further back, and finally from the start, so the frame we return is never a later one.
        """
        seconds = 1 / float(self.time_base)
        for back in (0, 2, 10, 60, None):
            pts = self.start_pts if back is None else max(self.start_pts, target - int(back * seconds))
            try:
                self.container.seek(pts, stream=self.stream, backward=True, any_frame=False)
            except _DECODE_ERRORS:
                # Unseekable input (raw streams, some AVI): decode forward instead, which is
                # still right because targets only ever move forward.
                if not self.positioned:
                    self.frames, self.positioned = self._decoded(), True
                return
            self.last_key_pts = None  # keyframes either side of a seek are not one GOP apart
            self.frames = self._decoded()
            first = next(self.frames, None)
            self.prev, self.pending, self.positioned = None, first, True
            if first is None or first.pts is None or first.pts <= target or pts == self.start_pts:
                return

    def _decoded(self) -> Iterator[av.VideoFrame]:
        for frame in self.container.decode(self.stream):
            if frame.key_frame and frame.pts is not None:
                if self.last_key_pts is not None and frame.pts > self.last_key_pts:
                    # Learn the real keyframe spacing for files without an index (the longest
                    # seen replaces the initial guess).
                    interval = frame.pts - self.last_key_pts
                    self.gop_pts = interval if not self.gop_learned else max(self.gop_pts, interval)
                    self.gop_learned = True
                self.last_key_pts = frame.pts
            yield frame

    def frames_at(self, times: list[float]) -> Iterator[tuple[float, av.VideoFrame | None]]:
        for t in times:
            target = self._target_pts(t)
            if self._worth_seeking(target):
                self._seek(target)
            while True:
                frame = self.pending if self.pending is not None else next(self.frames, None)
                self.pending = None
                if frame is None:  # end of file: the last frame stays on screen
                    yield t, self._last_frame_for(t)
                    break
                if frame.pts is None:
                    continue  # cannot be placed in time; never shown as evidence of a moment
                if frame.pts <= target:
                    self.prev = frame
                    continue
                self.pending = frame
                # A first frame already past the target (stream starting late) is still the
                # frame shown at the target.
                yield t, self.prev if self.prev is not None else frame
                break

    def _last_frame_for(self, t: float) -> av.VideoFrame | None:
        last = self.prev
        if last is None or last.pts is None:
            return None
        return last if t - self.offset_of(last) <= _EOF_TOLERANCE_S else None
