"""Suggested moments in a recording: where the on-screen text makes one of the host's claims.

With the optional ``evidencekit[ocr]`` extra. One budgeted child process (media.container
decode_in_worker: the verified original, opened and checked there) does all the work:

1. **Sampling.** Up to MAX_SAMPLES evenly spread times, at least SAMPLE_INTERVAL_S apart, are
   decoded (media.recordings.FrameFinder seeks only where it saves decoding) and compared as
   grey thumbnails by the contact sheet's near-duplicate picker (recordings.SheetPicker): a
   sample that looks like the last kept one extends its run, so a static stretch is one scene.
   Decoding stops once SAMPLE_DECODE_PIXELS have been decoded; a note says how far it got.
2. **Reading.** Of the scenes, at most MAX_READ_FRAMES spread over the recording (the picker's
   choice, as for the contact sheet), and within long scenes a sample every RESCAN_S seconds as
   far as that number allows, are decoded again, scaled to READ_FIT and read by the OCR engine
   (media.ocr.run_engine), until READ_SECONDS have passed.

The frames' text is cached by the original's SHA-256 and the engine's version; which claims it
makes (rules.moment_claims, templates/moment_claims.yaml) is decided afterwards, in this
process, so editing the template never reads a recording again.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import tzinfo
from pathlib import PurePosixPath
from typing import Any

from PIL import Image

from evidencekit.cache import DisplayCache
from evidencekit.errors import BudgetExceeded, FeatureUnavailable, OriginalChanged, SuggestFailed
from evidencekit.integrity.originals import OriginalFile
from evidencekit.media import ocr
from evidencekit.media.base import MediaContext
from evidencekit.media.container import (
    DECODE_ERRORS,
    DECODE_FAILURES,
    decode_in_worker,
    decode_reason,
    open_container,
    read_facts,
    write_facts,
)
from evidencekit.media.moments import format_timecode
from evidencekit.media.recordings import (
    BLANK_SPREAD,
    SIGNATURE_SIZE,
    FrameFinder,
    SheetPicker,
    normalise_rotation,
    sheet_times,
    signature,
    stream_duration,
    upright,
)
from evidencekit.model import Inspection, SourceFile, VideoInspection
from evidencekit.rules.moment_claims import ClaimMatch, ClaimRule, compact, load_moment_claims, match_claims

# Bump when what is cached changes, so results of older code are not reused.
_SUGGEST_VERSION = 1

# Sampling: a 10-minute recording is sampled every 2 s; longer ones spread MAX_SAMPLES evenly.
SAMPLE_INTERVAL_S = 2.0
MAX_SAMPLES = 300
# Sampling stops after this many decoded pixels (6000 frames of 1280×720; such frames decode in
# 1.1–2.2 ms each on a 2-core machine), however far apart the keyframes are.
SAMPLE_DECODE_PIXELS = 6000 * 1280 * 720
# Mean grey difference of two samples' signatures (0–255) from which the second starts a new
# scene. Far below the contact sheet's NEAR_DUPLICATE, which is meant to hide small changes:
# measured on generated 640×360 live-room recordings, new text on the same caption band (another
# price on the same card) differs by 0.77, a frame from the next one of a still scene by 0.04.
SCENE_CHANGE = 0.5
# A change too small to be a scene (one digit of a price: 0.08, no more than the encoder's noise)
# is still read: a scene lasting longer is read again every RESCAN_S seconds, as far as the
# MAX_READ_FRAMES allow after every scene's first frame.
RESCAN_S = 10.0
# Thumbnail the signature is computed from (cheap to convert; SIGNATURE_SIZE is what is compared).
_THUMB_WIDTH = 160
# Reading: a 1280×720 frame with two lines of captions takes about 0.6 s (benchmarks/README.md).
MAX_READ_FRAMES = 30
READ_FIT = 1280  # longer side of the frame the engine reads; captions stay ≥ 20 px high
READ_SECONDS = 40.0  # no further frame is read after this long (a note says so): a minute in all
# Budget of the child process: sampling, reading, loading the engine, with a margin.
SUGGEST_SECONDS = 150.0

# How much of one frame's text a caption shows.
_CAPTION_TEXT = 60

INSTALL_HINT = ocr.INSTALL_HINT
MSG_UNAVAILABLE = (
    "--suggest-moments 需要文字识别（OCR）组件来读录屏画面上的文字，当前没有安装"
)
_HINT_UNAVAILABLE = f"在安装 evidencekit 的同一环境里运行 {INSTALL_HINT}，再重新运行此命令；其余功能不需要它"
_MSG_NO_VIDEO = "文件中没有视频画面"
_MSG_TOO_LARGE = "画面尺寸过大（{w}×{h}），未解码"
_MSG_NOTHING = "未能解码出任何画面"
_MSG_TIME = "识别画面文字超出处理时限（{s:g} 秒），未给出建议"
_MSG_MEMORY = "识别画面文字超出内存上限，未给出建议"
_MSG_BROKEN = "文字识别（OCR）组件无法加载（{error}），请重新安装：" + INSTALL_HINT
_NOTE_DECODE_BUDGET = "录屏较长，只按画面变化检查了前 {until}"
_NOTE_READ_TIME = "识别用时已满 {s:g} 秒，只识别了 {read} 个画面（共 {scenes} 个画面变化）"
_NOTE_READ_FAILED = "{t} 处的画面识别失败（{error}）"
_NOTE_DECODE = "部分画面无法解码：{reason}"


@dataclass(frozen=True)
class FrameText:
    """The text read in one sampled frame: ``offset`` in seconds, the boxes' text top to bottom."""

    offset: float
    texts: tuple[str, ...]


@dataclass(frozen=True)
class RecordingText:
    """What was read from a recording: the frames read, in time order, and how it was sampled."""

    frames: tuple[FrameText, ...]
    duration: float | None
    sampled: int  # times decoded and compared
    scenes: int  # of those, how many started a new scene
    decoded: int  # frames the decoder produced, both passes
    notes: tuple[str, ...]  # Chinese, for the user: what was not looked at


@dataclass(frozen=True)
class SuggestedMoment:
    """A proposed ``moments:`` entry: when, the text read on screen, and the claims it makes."""

    offset: float
    text: str
    matches: tuple[ClaimMatch, ...]

    @property
    def timecode(self) -> str:
        return format_timecode(self.offset, precise=True)

    @property
    def caption(self) -> str:
        text = self.text if len(self.text) <= _CAPTION_TEXT else self.text[: _CAPTION_TEXT - 1] + "…"
        said = "、".join(f"{m.name}「{m.phrase}」" for m in self.matches)
        return f"画面文字：{text}（{said}）"

    @property
    def line(self) -> str:
        """The ``moments:`` entry: ``"00:01:12.4 画面文字：正品保障 假一赔十（假一赔X「假一赔十」）"``."""
        return f"{self.timecode} {self.caption}"

    def to_json(self) -> dict[str, Any]:
        return {
            "offset": self.offset,
            "timecode": self.timecode,
            "text": self.text,
            "phrases": [{"claim": m.claim, "name": m.name, "phrase": m.phrase} for m in self.matches],
            "moment": self.line,
        }


@dataclass(frozen=True)
class Suggestions:
    moments: tuple[SuggestedMoment, ...]
    scan: RecordingText


def require_ocr() -> None:
    """Raise FeatureUnavailable (exit 2, with how to add the extra) when the OCR extra is absent."""
    if ocr.engine_version() is None:
        raise FeatureUnavailable(MSG_UNAVAILABLE, hint=_HINT_UNAVAILABLE)


def suggest_moments(source: SourceFile, ctx: MediaContext) -> list[SuggestedMoment]:
    """The moments of recording ``source`` (hashed, e.g. by the inventory) where the on-screen text
    makes a claim of templates/moment_claims.yaml, in time order.

    Raises FeatureUnavailable without the OCR extra, SuggestFailed (a Chinese reason) when the
    recording cannot be read."""
    return list(suggest(source, ctx).moments)


def suggest(source: SourceFile, ctx: MediaContext) -> Suggestions:
    """:func:`suggest_moments` with how the recording was sampled and what was left out."""
    scan = read_recording_text(source, ctx)
    return Suggestions(propose(scan.frames, load_moment_claims()), scan)


def propose(frames: Sequence[FrameText], rules: tuple[ClaimRule, ...]) -> tuple[SuggestedMoment, ...]:
    """One moment per frame that shows a claim not shown before: a caption that stays on screen
    (or comes back) is proposed where it is first read."""
    seen: set[str] = set()
    out = []
    for frame in frames:
        texts: list[str] = []
        matches: list[ClaimMatch] = []
        for text in frame.texts:
            key = compact(text)
            found = match_claims(text, rules)
            if not found or key in seen:
                continue
            seen.add(key)
            texts.append(text.strip())
            matches += [m for m in found if m not in matches]
        if texts:
            out.append(SuggestedMoment(frame.offset, " ".join(texts), tuple(matches)))
    return tuple(out)


def read_recording_text(source: SourceFile, ctx: MediaContext) -> RecordingText:
    """The on-screen text of sampled scenes, from the cache or read in one budgeted child process."""
    require_ocr()
    version = ocr.engine_version()
    path = ctx.cache.path_for(source.sha256, _params(str(version)), ".json")
    cached = _from_json(read_facts(ctx.cache, path))
    if cached is not None:
        return cached
    budget = replace(ctx, decode_seconds=max(ctx.decode_seconds, SUGGEST_SECONDS),
                     video_decode_memory=max(ctx.video_decode_memory, ocr.OCR_MEMORY))
    try:
        facts = decode_in_worker(_sample_and_read, source, ctx.max_pixels, ctx=budget)
    except ImportError as exc:  # the extra is there but does not load (a missing native library)
        raise SuggestFailed(_MSG_BROKEN.format(error=type(exc).__name__)) from None
    except OriginalChanged as exc:
        raise SuggestFailed(exc.reason) from None
    except BudgetExceeded as exc:
        reason = _MSG_TIME.format(s=budget.decode_seconds) if exc.what == "time" else _MSG_MEMORY
        raise SuggestFailed(reason) from None
    except DECODE_FAILURES as exc:
        raise SuggestFailed("无法解码视频：" + decode_reason(exc, source)) from None
    if facts.get("error"):
        raise SuggestFailed(str(facts["error"]))
    write_facts(ctx.cache, path, facts)
    result = _from_json(facts)
    if result is None:  # cannot happen for facts this module wrote
        raise SuggestFailed(_MSG_NOTHING)
    return result


def _params(version: str) -> dict[str, object]:
    return {
        "what": "suggest-moments",
        "v": _SUGGEST_VERSION,
        "engine": ocr.ENGINE,
        "engine_version": version,
        "ocr_version": ocr.OCR_VERSION,
        "sampling": [SAMPLE_INTERVAL_S, MAX_SAMPLES, SAMPLE_DECODE_PIXELS, _THUMB_WIDTH,
                     SIGNATURE_SIZE, SCENE_CHANGE, BLANK_SPREAD],
        "reading": [MAX_READ_FRAMES, READ_FIT, RESCAN_S],
    }


def _from_json(data: dict[str, Any] | None) -> RecordingText | None:
    """The cached scan, or None for an absent, stale or damaged sidecar (read again)."""
    if data is None or data.get("v") != _SUGGEST_VERSION:
        return None
    try:
        frames = tuple(FrameText(float(f["offset"]), tuple(str(t) for t in f["texts"])) for f in data["frames"])
        duration = data.get("duration")
        return RecordingText(frames=frames, duration=float(duration) if duration is not None else None,
                             sampled=int(data["sampled"]), scenes=int(data["scenes"]),
                             decoded=int(data["decoded"]), notes=tuple(str(n) for n in data["notes"]))
    except (KeyError, TypeError, ValueError):
        return None


def sample_plan(duration: float) -> list[float]:
    """The times sampled in a recording of ``duration`` seconds: evenly spread, mid-slice."""
    if duration <= 0:
        return []
    return sheet_times(duration, min(MAX_SAMPLES, max(1, math.floor(duration / SAMPLE_INTERVAL_S))))


# ---------------------------------------------------------------------------------------------
# In the budgeted child process
# ---------------------------------------------------------------------------------------------


def _sample_and_read(fh: OriginalFile, max_pixels: int) -> dict[str, Any]:
    with open_container(fh) as container:
        if not container.streams.video:
            return {"v": _SUGGEST_VERSION, "error": _MSG_NO_VIDEO}
        stream = container.streams.video[0]
        stream.codec_context.thread_type = "AUTO"
        width, height = stream.codec_context.width or 0, stream.codec_context.height or 0
        if width * height > max_pixels:
            return {"v": _SUGGEST_VERSION, "error": _MSG_TOO_LARGE.format(w=width, h=height)}
        duration = stream_duration(container, stream)
        samples = sample_plan(duration or 0.0)
        per_slice = max(1, math.ceil(len(samples) / MAX_READ_FRAMES))
        picker = SheetPicker(math.ceil(len(samples) / per_slice), per_slice, SCENE_CHANGE)
        notes: list[str] = []
        frame_pixels = max(1, width * height)

        # Pass 1: decode the samples, compare them, stop at the decode budget.
        first = FrameFinder(container, stream)
        offsets: dict[int, float] = {}
        reached = 0.0
        try:
            for index, (t, frame) in enumerate(first.frames_at(samples)):
                if frame is not None:
                    offsets[index] = first.offset_of(frame)
                    thumb_height = max(1, round(_THUMB_WIDTH * frame.height / max(1, frame.width)))
                    picker.offer(index, signature(frame.to_image(width=_THUMB_WIDTH, height=thumb_height)))
                reached = t
                if first.decoded * frame_pixels >= SAMPLE_DECODE_PIXELS and index + 1 < len(samples):
                    notes.append(_NOTE_DECODE_BUDGET.format(until=format_timecode(reached)))
                    break
        except DECODE_ERRORS as exc:
            notes.append(_NOTE_DECODE.format(reason=decode_reason(exc)))
        chosen = _reads(picker.chosen(), offsets, math.ceil(RESCAN_S / SAMPLE_INTERVAL_S))
        if not offsets:
            return {"v": _SUGGEST_VERSION, "error": "无法解码视频画面：" + (notes[0] if notes else _MSG_NOTHING)}

        # Pass 2: decode the chosen scenes again and read them.
        try:
            frames, read_notes, decoded = _read_scenes(container, stream, [samples[i] for i in chosen])
        except ImportError as exc:  # the extra is there but does not load: nothing to cache
            return {"v": _SUGGEST_VERSION, "error": _MSG_BROKEN.format(error=type(exc).__name__)}
        notes += read_notes
    return {
        "v": _SUGGEST_VERSION,
        "duration": duration,
        "sampled": len(offsets),
        "scenes": len(picker.runs),
        "decoded": first.decoded + decoded,
        "frames": frames,
        "notes": notes,
        "error": "",
    }


def _reads(scenes: list[tuple[int, int]], decoded: dict[int, float], step: int) -> list[int]:
    """The samples to read: each scene's first, then as many of the rescans (every ``step``
    samples within a scene) as MAX_READ_FRAMES leave room for, spread evenly."""
    firsts = [first for first, _last in scenes if first in decoded][:MAX_READ_FRAMES]
    rescans = [i for first, last in scenes for i in range(first + step, last + 1, step) if i in decoded]
    room = min(len(rescans), MAX_READ_FRAMES - len(firsts))
    extra = [rescans[(2 * k + 1) * len(rescans) // (2 * room)] for k in range(room)] if room > 0 else []
    return sorted(set(firsts) | set(extra))


def _read_scenes(container: Any, stream: Any, times: list[float]) -> tuple[list[dict[str, Any]], list[str], int]:
    finder = FrameFinder(container, stream)
    frames: list[dict[str, Any]] = []
    notes: list[str] = []
    started = time.monotonic()
    try:
        for read, (_t, frame) in enumerate(finder.frames_at(times)):
            if time.monotonic() - started > READ_SECONDS:
                notes.append(_NOTE_READ_TIME.format(s=READ_SECONDS, read=read, scenes=len(times)))
                break
            if frame is None:
                continue
            offset = finder.offset_of(frame)
            picture = upright(frame.to_image(), normalise_rotation(frame.rotation))
            picture.thumbnail((READ_FIT, READ_FIT), Image.Resampling.LANCZOS, reducing_gap=2.0)
            try:
                boxes = ocr.run_engine(picture)
            except (ImportError, MemoryError):
                raise  # a broken extra, or the memory budget: not this frame
            except Exception as exc:  # the engine's own failure on one frame must not stop the rest
                notes.append(_NOTE_READ_FAILED.format(t=format_timecode(offset, precise=True),
                                                      error=type(exc).__name__))
                continue
            ordered = sorted(boxes, key=lambda b: (b.top, b.left))
            frames.append({"offset": offset, "texts": [b.text for b in ordered if b.text.strip()]})
    except DECODE_ERRORS as exc:
        notes.append(_NOTE_DECODE.format(reason=decode_reason(exc)))
    return frames, notes, finder.decoded


def case_file_path(given: str) -> str:
    """The ``file:`` of a recording in case.yaml: its path from ``evidence/`` when it lies in a
    case folder, else where it would go (``evidence/livestream/NAME``)."""
    parts = PurePosixPath(given.replace("\\", "/")).parts
    if "evidence" in parts[:-1]:
        at = len(parts) - 1 - parts[::-1].index("evidence")
        return "/".join(parts[at:])
    return f"evidence/livestream/{parts[-1] if parts else given}"


def moments_snippet(file: str, moments: Sequence[SuggestedMoment]) -> str:
    """A ready-to-paste case.yaml ``evidence:`` entry with the suggested ``moments:``."""
    lines = [
        "# 建议的时刻（按录屏画面上识别出的文字）：请逐条看过画面、确认后再粘贴到 case.yaml",
        "evidence:",
        f"  - file: {_quoted(case_file_path(file))}",
        "    moments:",
    ]
    lines += [f"      - {_quoted(m.line)}" for m in moments]
    return "\n".join(lines)


def _quoted(text: str) -> str:
    """A YAML double-quoted scalar (control characters, which OCR text should not hold, become spaces)."""
    text = "".join(" " if ord(c) < 32 or ord(c) == 127 else c for c in text)
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


# ---------------------------------------------------------------------------------------------
# `evidencekit inspect --suggest-moments`
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FileSuggestions:
    """The suggestions for one file given to `inspect`, or why there are none (``error``)."""

    file: str  # as given on the command line
    moments: tuple[SuggestedMoment, ...] = ()
    scan: RecordingText | None = None
    error: str = ""

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"suggested_moments": [m.to_json() for m in self.moments],
                               "suggest_notes": list(self.scan.notes) if self.scan else []}
        if self.error:
            out["suggest_error"] = self.error
        if self.moments:
            out["moments_snippet"] = moments_snippet(self.file, self.moments)
        return out

    def to_text(self) -> str:
        lines = [f"{self.file}", "  建议的时刻（录屏画面文字识别）："]
        if self.error:
            lines.append(f"  未能给出建议：{self.error}")
        if self.scan is not None:
            lines.append(f"  比较了 {self.scan.sampled} 个画面，其中 {self.scan.scenes} 处画面变化，"
                         f"识别了 {len(self.scan.frames)} 个画面的文字")
        for m in self.moments:
            said = "、".join(f"{c.name}「{c.phrase}」" for c in m.matches)
            lines.append(f"    {m.timecode}　读到：{m.text}")
            lines.append(f"      对上：{said}")
        if not self.error and not self.moments:
            lines.append("    画面文字里没有找到 templates/moment_claims.yaml 中的说法")
        for note in self.scan.notes if self.scan else ():
            lines.append(f"  注意：{note}")
        if self.moments:
            lines.append("")
            lines.append(moments_snippet(self.file, self.moments))
        return "\n".join(lines)


def suggest_for_files(items: Sequence[tuple[str, SourceFile | None, Inspection | None]],
                      tz: tzinfo) -> dict[str, FileSuggestions]:
    """Suggestions for each recording among ``items`` (as given, hashed source, its inspection),
    keyed by the file as given; files that are not video recordings get none."""
    ctx = MediaContext(cache=DisplayCache(), tz=tz)
    out: dict[str, FileSuggestions] = {}
    for given, source, insp in items:
        if source is None or not isinstance(insp, VideoInspection):
            continue
        if insp.preview_error:
            out[given] = FileSuggestions(given, error=insp.preview_error)
            continue
        try:
            found = suggest(source, ctx)
        except SuggestFailed as exc:
            out[given] = FileSuggestions(given, error=exc.reason)
            continue
        out[given] = FileSuggestions(given, found.moments, found.scan)
    return out
