"""Screen recordings and unboxing videos: facts, frames at declared moments, a contact sheet.

The contact sheet samples up to SAMPLES_PER_TILE evenly spread times per tile, skips samples
that look like the last kept one or are one flat colour (compared as 16×16 grey thumbnails),
and shows one sample per slice of the recording, so a still screen fills one tile, not twelve.

PyAV is imported inside the functions that decode, so ``evidencekit --help`` does not pay for
loading FFmpeg. Everything a rebuild needs (duration, size, container time, where each frame
came from) is written to a JSON sidecar in the display cache next to the frame JPEGs, so a warm
rebuild reads the cache and never opens the recording.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PIL import Image

from evidencekit.integrity.originals import OriginalFile
from evidencekit.media.audio import inspect_audio
from evidencekit.media.base import MediaContext
from evidencekit.media.container import (
    DECODE_ERRORS,
    DECODE_FAILURES,
    cached_copies_valid,
    container_stamp,
    container_time,
    decode_in_worker,
    decode_reason,
    is_device_local,
    media_failure,
    open_container,
    read_facts,
    save_jpeg,
    unusable,
    write_facts,
)
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
    VideoInspection,
)

if TYPE_CHECKING:
    import av

VIDEO_SUFFIXES = frozenset({".mp4", ".mov", ".m4v", ".3gp", ".webm", ".mkv", ".avi"})

# Bump when extraction or the sidecar layout changes, so old cache entries are not reused.
# 2: device-local creation times keep their offset ("creation_local").
# 3: the contact sheet samples more times than it shows and skips near-duplicates ("until").
_FORMAT_VERSION = 3

# Contact-sheet tiles: the PDF lays them three to a row across the 515 pt box (≈ 170 pt each,
# ≈ 360 px at 150 dpi). The height cap only bites on unusually tall portrait recordings.
TILE_FIT = (360, 640)

# Contact-sheet selection. The key of the cached facts holds these values, so changing one
# re-chooses the tiles. Each tile's slice of the recording is sampled SAMPLES_PER_TILE times
# when the slice lasts at least SAMPLES_PER_TILE seconds (samples stay a second or more apart),
# otherwise once: at most contact_sheet_frames × SAMPLES_PER_TILE sampled frames, whatever the
# duration.
SAMPLES_PER_TILE = 3
SIGNATURE_SIZE = 16  # samples are compared as SIGNATURE_SIZE × SIGNATURE_SIZE grey thumbnails
# Mean absolute grey difference (0–255) below which a sample repeats the last kept one.
# Measured on generated recordings: a ticking on-screen timer 0.1; a block of 1/60 of the
# picture moving, with a running clock, 3.2–3.5; a caption band appearing across the width 24.
NEAR_DUPLICATE = 4.0
# Grey standard deviation below which a sample is one flat colour (a black or white screen).
BLANK_SPREAD = 2.0
# The samples beside each tile's own time are skipped once the frames decoded for the file
# hold this many pixels (1500 frames of 1280×720, which decoded in 1.1–2.2 ms a frame on a
# 2-core machine), so a long or 4K recording with far-apart keyframes costs little more than
# the tiles alone and stays within the decode budget; the tiles' own times are always decoded.
SAMPLE_DECODE_PIXELS = 1500 * 1280 * 720

# At the end of the file the last frame stays on screen; beyond this gap we assume the file is
# truncated (its header promises more than its data holds) rather than show a stale frame.
_EOF_TOLERANCE_S = 2.0

# Without a seek index, assume keyframes this far apart until decoding shows otherwise.
_DEFAULT_GOP_S = 2.0

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
            "sheet_pick": [SAMPLES_PER_TILE, SIGNATURE_SIZE, NEAR_DUPLICATE, BLANK_SPREAD, SAMPLE_DECODE_PIXELS],
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
        except DECODE_FAILURES as exc:
            return media_failure(MediaType.VIDEO, source, "video.undecodable", exc, "无法解码视频：")
        write_facts(ctx.cache, facts_path, facts)
    if facts.get("audio_only"):
        # A .3gp/.mp4 with sound only (phone call recorders do this): show it as audio.

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
        until = rec.get("until")
        return Frame(image=image, offset=offset, wall_time=None, caption=caption, declared=declared_moment,
                     until=float(until) if until is not None else None)

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
    return VideoInspection(
        frames=tuple(frames),
        sheet_samples=len(facts.get("sheet_samples", [])),
        sheet_blank=int(facts.get("sheet_blank", 0)),
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


def _samples_per_tile(duration: float, count: int) -> int:
    tiles = min(count, max(1, math.floor(duration)))
    return SAMPLES_PER_TILE if tiles > 0 and math.floor(duration) >= tiles * SAMPLES_PER_TILE else 1


def sample_times(duration: float, count: int) -> list[float]:
    """The times sampled for a sheet of ``count`` tiles: ``per_tile`` evenly spread times in each
    tile's slice, the middle one being the tile's own time from :func:`sheet_times`."""
    if count <= 0 or duration <= 0:
        return []
    tiles = len(sheet_times(duration, count))
    return sheet_times(duration, tiles * _samples_per_tile(duration, count))


def signature(img: Image.Image) -> bytes:
    """A SIGNATURE_SIZE × SIGNATURE_SIZE grey thumbnail, each pixel the mean of its area."""
    return img.convert("L").resize((SIGNATURE_SIZE, SIGNATURE_SIZE), Image.Resampling.BOX).tobytes()


def _difference(a: bytes, b: bytes) -> float:
    return sum(abs(x - y) for x, y in zip(a, b, strict=True)) / len(a)


def _spread(sig: bytes) -> float:
    mean = sum(sig) / len(sig)
    return math.sqrt(sum((v - mean) ** 2 for v in sig) / len(sig))


class SheetPicker:
    """Chooses contact-sheet tiles from samples offered in time order.

    A sample that differs from the last kept sample by less than ``near_duplicate`` (the sheet's
    NEAR_DUPLICATE unless given) starts no new tile: it extends that sample's run. A flat-colour sample is skipped and ends the run. Of the
    kept samples, each tile's slice of ``per_tile`` samples shows the one nearest its middle;
    slots left by slices with nothing new are given to the remaining kept samples, spread evenly.
    """

    def __init__(self, tiles: int, per_tile: int, near_duplicate: float | None = None) -> None:
        self.tiles = tiles
        self.per_tile = per_tile
        self.near_duplicate = near_duplicate  # None: the module's NEAR_DUPLICATE, read when comparing
        self.blank = 0
        self.first: int | None = None  # the first sample offered: shown if every sample is blank
        self.runs: list[list[int]] = []  # [first sample, last sample that looked the same]
        self._last: bytes | None = None  # the signature of the run being extended

    def offer(self, index: int, sig: bytes) -> bool:
        """Take sample ``index`` (indices ascend; a sample that could not be decoded is never
        offered); True when it starts a tile candidate (keep its picture)."""
        if self.first is None:
            self.first = index
        if _spread(sig) < BLANK_SPREAD:
            self.blank += 1
            self._last = None
            return False
        threshold = NEAR_DUPLICATE if self.near_duplicate is None else self.near_duplicate
        if self._last is not None and _difference(self._last, sig) < threshold:
            self.runs[-1][1] = index
            return False
        self.runs.append([index, index])
        self._last = sig
        return True

    def chosen(self) -> list[tuple[int, int]]:
        """(sample, last sample it stands for) of each tile, in time order. With every sample
        blank the first is shown, standing for itself."""
        if not self.runs:
            return [(self.first, self.first)] if self.first is not None else []
        by_slice: dict[int, list[list[int]]] = {}
        for run in self.runs:
            by_slice.setdefault(run[0] // self.per_tile, []).append(run)
        picked = []
        for slice_index, runs in by_slice.items():
            middle = slice_index * self.per_tile + self.per_tile // 2
            picked.append(min(runs, key=lambda run: (abs(run[0] - middle), run[0])))
        rest = [run for run in self.runs if run not in picked]
        free = min(len(rest), self.tiles - len(picked))
        picked += [rest[(2 * i + 1) * len(rest) // (2 * free)] for i in range(free)]
        return sorted((run[0], run[1]) for run in picked[: self.tiles])


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
        duration = stream_duration(container, stream)
        shown = [t for t in offsets if duration is None or t <= duration + 1e-6]
        requests = [_Request("moment", t, moment_fit) for t in shown]
        samples = sample_times(duration, ctx.contact_sheet_frames) if duration else []
        width = stream.codec_context.width or None
        height = stream.codec_context.height or None
        if width and height and width * height > ctx.max_pixels:
            return {"v": _FORMAT_VERSION, "error": f"画面尺寸过大（{width}×{height}），未解码"}
        per_tile = _samples_per_tile(duration or 0.0, ctx.contact_sheet_frames)
        picker = SheetPicker(len(samples) // per_tile, per_tile)
        records, rotation, notes, sampled = _extract(container, stream, requests, samples, picker, sha256, ctx)
        codec = stream.codec_context.name
    times = [rec["t"] for rec in records if rec["role"] == "sheet"]

    if rotation % 180 == 90:
        width, height = height, width
    error = ""
    if (requests or samples) and all(rec["offset"] is None for rec in records):
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
        "sheet_samples": sampled,
        "sheet_blank": picker.blank,
        "frames": records,
        "notes": notes,
        "error": error,
    }


def stream_duration(container: av.container.InputContainer, stream: av.video.stream.VideoStream) -> float | None:
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
    samples: list[float],
    picker: SheetPicker,
    sha256: str,
    ctx: MediaContext,
) -> tuple[list[dict[str, Any]], int, list[str], list[float]]:
    """Decode the frame shown at each requested and each sampled time; save the display copies
    of the requests and of the sheet tiles ``picker`` chooses among the samples.

    Returns one record per request and per tile (``offset`` None when no frame could be had),
    the display rotation, Chinese notes about decoding problems, and the sampled times that
    were decoded. Only the pictures of samples that start a new tile are held until the
    choice is made.
    """
    records: dict[_Request, dict[str, Any]] = {}
    rotation = 0
    notes: list[str] = []
    by_time: dict[float, list[_Request]] = {}
    for req in requests:
        by_time.setdefault(req.t, []).append(req)
    sampled = set(samples)
    held: dict[int, tuple[float, float, Image.Image]] = {}  # sample -> (t, offset, tile)
    offsets: dict[int, float] = {}  # sample -> offset of the frame it found
    per_tile = picker.per_tile
    required = set(by_time) | {t for i, t in enumerate(samples) if i % per_tile == per_tile // 2}
    finder = FrameFinder(container, stream)
    frame_pixels = max(1, (stream.codec_context.width or 0) * (stream.codec_context.height or 0))

    def times() -> Iterator[float]:
        for t in sorted(required | sampled):
            if t in required or finder.decoded * frame_pixels < SAMPLE_DECODE_PIXELS:
                yield t

    try:
        for t, frame in finder.frames_at(times()):
            if frame is None:
                continue
            rotation = normalise_rotation(frame.rotation)
            picture = upright(frame.to_image(), rotation)
            offset = finder.offset_of(frame)
            for req in by_time.get(t, []):
                records[req] = _save(picture, req, offset, sha256, ctx)
            if t in sampled:
                # The integer reduction thumbnail() makes first (to twice the tile size): cheap,
                # enough for the signature, and the tile is finished from it only if chosen.
                reduced = _reduced(picture, TILE_FIT)
                index = samples.index(t)
                offsets[index] = offset
                if picker.offer(index, signature(reduced)) or picker.first == index:
                    held[index] = (t, offset, reduced)
    except DECODE_ERRORS as exc:
        # Keep what was extracted; the rest of the frames are reported missing.
        notes.append("部分画面无法解码：" + decode_reason(exc))
    out = []
    for req in requests:
        rec = records.get(req, {"offset": None})
        out.append({"role": req.role, "t": req.t, "fit": list(req.fit), **rec})
    for first, last in picker.chosen():
        t, offset, tile = held[first]
        req = _Request("sheet", t, TILE_FIT)
        rec = _save(tile, req, offset, sha256, ctx)
        until = offsets[last] if last != first else None
        out.append({"role": req.role, "t": req.t, "fit": list(req.fit), **rec, "until": until})
    return out, rotation, notes, [samples[i] for i in sorted(offsets)]


def _reduced(picture: Image.Image, fit: tuple[int, int]) -> Image.Image:
    factor = max(1, min(picture.width // (2 * fit[0]), picture.height // (2 * fit[1])))
    return picture.reduce(factor) if factor > 1 else picture.copy()


def _save(picture: Image.Image, req: _Request, offset: float, sha256: str, ctx: MediaContext) -> dict[str, Any]:
    tile = picture.copy()
    tile.thumbnail(req.fit, Image.Resampling.LANCZOS, reducing_gap=2.0)  # never enlarges
    w, h, digest = save_jpeg(ctx.cache, _frame_path(sha256, req, ctx), tile, ctx.jpeg_quality)
    return {"offset": offset, "width": w, "height": h, "sha256": digest}


def normalise_rotation(degrees: float | int | None) -> int:
    return (round((degrees or 0) / 90) * 90) % 360


def upright(img: Image.Image, rotation: int) -> Image.Image:
    """Apply the display matrix: FFmpeg's rotation is counter-clockwise, as is PIL's ROTATE_90.

    Phones store portrait video as landscape pixels plus this matrix; without it the frames in
    the dossier would lie on their side. Mirroring flags are not applied (no phone recorder
    writes them).
    """
    turns = {90: Image.Transpose.ROTATE_90, 180: Image.Transpose.ROTATE_180, 270: Image.Transpose.ROTATE_270}
    return img.transpose(turns[rotation]) if rotation in turns else img


class FrameFinder:
    """Finds the frame on screen at given times, seeking only when it saves decoding.

    For each target (in ascending order) it either keeps decoding forward or seeks to the
    keyframe at or before the target. Seeking pays off only when a keyframe lies between the
    decoder's position and the target; otherwise decoding forward is the same work without
    the flush. So sparse moments in a short-GOP recording seek each time (6 frames in a 10-min
    720p file decode ~80 frames), while a dense contact sheet of a long-GOP file degrades into
    one sequential pass (measured: 60 seeks at GOP 250 cost 6.4 s, one pass 2 s).

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
        self.decoded = 0  # frames decoded so far, over all runs between seeks

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
            except DECODE_ERRORS:
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
            self.decoded += 1
            if frame.key_frame and frame.pts is not None:
                if self.last_key_pts is not None and frame.pts > self.last_key_pts:
                    # Learn the real keyframe spacing for files without an index (the longest
                    # seen replaces the initial guess).
                    interval = frame.pts - self.last_key_pts
                    self.gop_pts = interval if not self.gop_learned else max(self.gop_pts, interval)
                    self.gop_learned = True
                self.last_key_pts = frame.pts
            yield frame

    def frames_at(self, times: Iterable[float]) -> Iterator[tuple[float, av.VideoFrame | None]]:
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
