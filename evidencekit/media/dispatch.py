"""Choose the media module for an original, by suffix first and by its first bytes second."""

from __future__ import annotations

from collections.abc import Callable

from evidencekit.errors import OriginalChanged
from evidencekit.integrity.originals import sniff
from evidencekit.media.audio import AUDIO_SUFFIXES, inspect_audio
from evidencekit.media.base import MediaContext
from evidencekit.media.chats import CHAT_SUFFIXES, inspect_chat
from evidencekit.media.documents import DOCUMENT_SUFFIXES, inspect_pdf
from evidencekit.media.images import IMAGE_SUFFIXES, inspect_image
from evidencekit.media.recordings import VIDEO_SUFFIXES, inspect_recording
from evidencekit.model import EvidenceOverride, Finding, Inspection, Severity, SourceFile, UnknownInspection

Inspector = Callable[[SourceFile, EvidenceOverride | None, MediaContext], Inspection]

IMAGE = "image"
CHAT = "chat"
VIDEO = "video"
AUDIO = "audio"
PDF = "pdf"

# Each media module owns its suffix list (and defers its heavy library to first use, so
# importing them here costs nothing at start-up: dispatch itself loads only when a build runs).
_SUFFIXES: dict[str, frozenset[str]] = {
    IMAGE: IMAGE_SUFFIXES,
    CHAT: CHAT_SUFFIXES,
    VIDEO: VIDEO_SUFFIXES,
    AUDIO: AUDIO_SUFFIXES,
    PDF: DOCUMENT_SUFFIXES,
}

# Magic numbers for files whose suffix is missing or wrong (phones and chat apps rename freely).
_MAGIC: tuple[tuple[bytes, int, str], ...] = (
    (b"\xff\xd8\xff", 0, IMAGE),
    (b"\x89PNG\r\n\x1a\n", 0, IMAGE),
    (b"GIF8", 0, IMAGE),
    (b"WEBP", 8, IMAGE),
    (b"ftypheic", 4, IMAGE),
    (b"ftypheix", 4, IMAGE),
    (b"ftypmif1", 4, IMAGE),
    (b"%PDF-", 0, PDF),
    (b"ftyp", 4, VIDEO),
    (b"\x1a\x45\xdf\xa3", 0, VIDEO),
    (b"ID3", 0, AUDIO),
    (b"#!AMR", 0, AUDIO),
)


def family_for(source: SourceFile) -> str | None:
    """The media family of a file, or None when we cannot show it.

    Raises OriginalChanged when the first bytes had to be read and the file is no longer the
    one that was hashed."""
    for family, suffixes in _SUFFIXES.items():
        if source.suffix in suffixes:
            return family

    head = sniff(source, 16)  # the checked original, never whatever now has its name
    for magic, offset, family in _MAGIC:
        if head[offset : offset + len(magic)] == magic:
            return family
    return None


_INSPECTORS: dict[str, Inspector] = {
    IMAGE: inspect_image,
    CHAT: inspect_chat,
    VIDEO: inspect_recording,
    AUDIO: inspect_audio,
    PDF: inspect_pdf,
}


def inspector_for(family: str) -> Inspector:
    return _INSPECTORS[family]


def inspect_source(source: SourceFile, override: EvidenceOverride | None, ctx: MediaContext) -> Inspection:
    try:
        family = family_for(source)
    except OriginalChanged as exc:
        return UnknownInspection(
            preview_error=exc.reason,
            findings=(Finding(Severity.WARNING, "media.changed", f"{source.name}：{exc.reason}", source.rel_path),),
        )
    if family is None:
        reason = f"格式不受支持，无法预览此类文件（{source.suffix or '无扩展名'}）；原件已计算哈希，并随证据材料附上"
        return UnknownInspection(
            preview_error=reason,
            findings=(Finding(Severity.WARNING, "media.unsupported", reason, source.rel_path),),
        )
    return inspector_for(family)(source, override, ctx)
