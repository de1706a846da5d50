"""Call recordings (customer-service calls): duration, container time and declared moments.

Audio has nothing to show on a page, so the dossier lists it (index, timeline) and prints its
declared moments as a table; the original itself is attached to the PDF.
"""

from __future__ import annotations

from typing import Any

from evidencekit.errors import BudgetExceeded, OriginalChanged
from evidencekit.integrity.originals import OriginalFile
from evidencekit.media.base import MediaContext
from evidencekit.media.container import (
    container_stamp,
    container_time,
    decode_in_worker,
    is_device_local,
    media_failure,
    open_container,
    read_facts,
    unusable,
    write_facts,
)
from evidencekit.media.moments import parse_declared_moments
from evidencekit.model import AudioInspection, EvidenceOverride, Inspection, MediaType, SourceFile

AUDIO_SUFFIXES = frozenset({".mp3", ".m4a", ".aac", ".amr", ".wav", ".ogg", ".opus", ".flac"})

_FORMAT_VERSION = 2  # 2: device-local creation times keep their offset ("creation_local")

_DECODE_ERRORS: tuple[type[BaseException], ...] = (OSError, ValueError, EOFError)
# ... and what else decoding in the worker can end in.
_FAILURES: tuple[type[BaseException], ...] = (*_DECODE_ERRORS, OriginalChanged, BudgetExceeded)


def inspect_audio(source: SourceFile, override: EvidenceOverride | None, ctx: MediaContext) -> Inspection:
    """Duration, container creation time and the declared moments of a call recording.

    Never raises for a bad file: it comes back with ``preview_error`` and a warning.
    """
    if source.size == 0:
        return unusable(MediaType.AUDIO, source, "audio.undecodable", "文件为空（0 字节），无法读取")
    facts_path = ctx.cache.path_for(
        source.sha256, {"what": "audio-facts", "v": _FORMAT_VERSION}, ".json"
    )
    facts = read_facts(ctx.cache, facts_path)
    if facts is None:
        try:
            facts = decode_in_worker(_probe, source, ctx, ctx=ctx)
        except _FAILURES as exc:
            return media_failure(MediaType.AUDIO, source, "audio.undecodable", exc, "无法读取音频：")
        write_facts(ctx.cache, facts_path, facts)
    if facts.get("error"):
        return unusable(MediaType.AUDIO, source, "audio.undecodable", str(facts["error"]))
    duration: float | None = facts.get("duration")
    declared = override.moments if override is not None else ()
    moments, findings = parse_declared_moments(declared, duration, source.rel_path, "audio")
    return AudioInspection(
        moments=tuple(moments),
        embedded_time=container_stamp(facts, ctx.tz),
        duration=duration,
        findings=tuple(findings),
    )


def _probe(fh: OriginalFile, ctx: MediaContext) -> dict[str, Any]:
    import av  # lazily, as in recordings.py

    with open_container(fh) as container:
        if not container.streams.audio:
            return {"v": _FORMAT_VERSION, "error": "文件中没有音频"}
        stream = container.streams.audio[0]
        created = container_time(container.metadata, ctx.tz) or container_time(stream.metadata, ctx.tz)
        # Decode one frame: a header that parses is no proof the sound does (a few ms).
        if next(container.decode(stream), None) is None:
            return {"v": _FORMAT_VERSION, "error": "无法读取音频：文件中没有可解码的声音"}
        duration: float | None = None
        if container.duration and container.duration > 0:
            duration = float(container.duration) / av.time_base
        elif stream.duration and stream.time_base:
            duration = float(stream.duration * stream.time_base)
        elif stream.time_base:
            # Raw AMR and some ADTS files carry no duration: add up packet lengths (no decoding).
            container.seek(0)
            total = sum(packet.duration or 0 for packet in container.demux(stream))
            duration = float(total * stream.time_base) if total else None
        return {
            "v": _FORMAT_VERSION,
            "duration": duration,
            "codec": stream.codec_context.name,
            "sample_rate": stream.codec_context.sample_rate,
            "channels": stream.codec_context.channels,
            "creation_time": created[0].isoformat() if created else None,
            "creation_detail": created[1] if created else "",
            "creation_local": bool(created and is_device_local(created[1])),
            "error": "",
        }
