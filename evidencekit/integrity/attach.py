"""Attach the originals and the manifest inside the rendered PDF (pikepdf).

reportlab has no public API for embedded files, so the PDF is rendered first
and the attachments are added in a second step, in the work folder, before the result is
moved to the user's output path.

Each original is read again here through :func:`evidencekit.integrity.originals.read_original`, which
checks its SHA-256 against the inventory's: the attachment is exactly the bytes the dossier
certifies. An original that changed during the build stops the build (CaseFolderError) rather
than give a page of one version and a hash of another.
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from evidencekit.errors import CaseFolderError, OriginalChanged
from evidencekit.integrity.manifest import MANIFEST_NAME
from evidencekit.integrity.originals import copy_original, read_original
from evidencekit.integrity.tsa import TOKEN_ATTACHMENT_NAME
from evidencekit.model import Exhibit, attachment_file_name

_EXTRA_MIME = {
    ".heic": "image/heic",
    ".heif": "image/heif",
    ".webp": "image/webp",
    ".amr": "audio/amr",
    ".m4a": "audio/mp4",
    ".txt": "text/plain",
}


def mime_type(name: str) -> str:
    suffix = Path(name).suffix.lower()
    return _EXTRA_MIME.get(suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"


def attachment_name(ex: Exhibit) -> str:
    """``证据03_原名.jpg`` (model.attachment_file_name: no control or bidi characters)."""
    return attachment_file_name(ex.number, ex.source.name)


def original_bytes(ex: Exhibit) -> bytes:
    """The exhibit's original, re-read and re-hashed now; CaseFolderError if it changed."""
    try:
        return read_original(ex.source)
    except OriginalChanged as exc:
        raise changed_during_build(ex) from exc


def copy_original_into(ex: Exhibit, out: BinaryIO) -> os.stat_result:
    """Stream the exhibit's original into ``out``, re-hashed on the way; CaseFolderError if it
    changed (the caller discards ``out``)."""
    try:
        return copy_original(ex.source, out)
    except OriginalChanged as exc:
        raise changed_during_build(ex) from exc


def changed_during_build(ex: Exhibit) -> CaseFolderError:
    return CaseFolderError(
        f"证据文件「{ex.source.rel_path}」在生成过程中被修改或替换，"
        "与已计算的哈希不一致，未生成证据材料",
        hint="确认没有程序正在写入或同步该文件后重新生成。",
    )


def attach_files(
    pdf_in: Path,
    pdf_out: Path,
    *,
    exhibits: Sequence[Exhibit],
    manifest: bytes,
    attach_originals: bool,
    reproducible: bool,
    when: datetime,
    token: bytes | None = None,
) -> None:
    import pikepdf
    from pikepdf import AttachedFileSpec, Name

    with pikepdf.open(pdf_in) as pdf:
        specs = []

        def attach(data: bytes, name: str, description: str, mime: str, when: datetime,
                   relationship: pikepdf.Name) -> None:
            date = _pdf_date(when)
            spec = AttachedFileSpec(pdf, data, description=description, filename=name, mime_type=mime,
                                    creation_date=date, mod_date=date, relationship=relationship)
            pdf.attachments[name] = spec
            specs.append(spec)

        if attach_originals:
            for ex in exhibits:
                attach(original_bytes(ex), attachment_name(ex), f"{ex.label} 原件 SHA-256 {ex.source.sha256}",
                       mime_type(ex.source.name), ex.source.mtime, Name.Source)
        attach(manifest, MANIFEST_NAME, "evidencekit 清单（哈希、时间与来源）", "application/json", when, Name.Data)
        if token is not None:
            attach(token, TOKEN_ATTACHMENT_NAME, "RFC 3161 可信时间戳（对象：evidencekit-manifest.json）",
                   "application/timestamp-reply", when, Name.Supplement)
        # The fingerprint in the document info lets `verify` detect a swapped manifest.
        pdf.docinfo[Name("/EvidencekitFingerprint")] = hashlib.sha256(manifest).hexdigest()
        # PDF/A-3 style association of the files with the document as a whole.
        pdf.Root.AF = pikepdf.Array([s.obj for s in specs])
        pdf.save(pdf_out, compress_streams=False, deterministic_id=reproducible, static_id=False)


def _pdf_date(moment: datetime) -> str:
    offset = moment.utcoffset()
    tz = "Z"
    if offset is not None and offset.total_seconds() != 0:
        minutes = int(offset.total_seconds() // 60)
        sign = "+" if minutes >= 0 else "-"
        minutes = abs(minutes)
        tz = f"{sign}{minutes // 60:02d}'{minutes % 60:02d}'"
    return "D:" + moment.strftime("%Y%m%d%H%M%S") + tz
