"""Attach the originals and the manifest inside the rendered PDF (pikepdf).

reportlab has no public API for embedded files (tech-notes §2), so the PDF is rendered first
and the attachments are added in a second step, in the work folder, before the result is
moved to the user's output path.
"""

from __future__ import annotations

import hashlib
import mimetypes
import unicodedata
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from evidencekit.manifest import MANIFEST_NAME
from evidencekit.model import Exhibit

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
    """``证据03_原名.jpg``: sorts in exhibit order and keeps the original name (NFC)."""
    return unicodedata.normalize("NFC", f"证据{ex.number:02d}_{ex.source.name}")


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
        if attach_originals:
            for ex in exhibits:
                data = ex.source.path.read_bytes()
                spec = AttachedFileSpec(
                    pdf,
                    data,
                    description=f"{ex.label} 原件 SHA-256 {ex.source.sha256}",
                    filename=attachment_name(ex),
                    mime_type=mime_type(ex.source.name),
                    creation_date=_pdf_date(ex.source.mtime),
                    mod_date=_pdf_date(ex.source.mtime),
                    relationship=Name.Source,
                )
                pdf.attachments[attachment_name(ex)] = spec
                specs.append(spec)
        mspec = AttachedFileSpec(
            pdf,
            manifest,
            description="evidencekit 清单（哈希、时间与来源）",
            filename=MANIFEST_NAME,
            mime_type="application/json",
            creation_date=_pdf_date(when),
            mod_date=_pdf_date(when),
            relationship=Name.Data,
        )
        pdf.attachments[MANIFEST_NAME] = mspec
        specs.append(mspec)
        if token is not None:
            from evidencekit.tsa import TOKEN_ATTACHMENT_NAME

            tspec = AttachedFileSpec(
                pdf,
                token,
                description="RFC 3161 可信时间戳（对象：evidencekit-manifest.json）",
                filename=TOKEN_ATTACHMENT_NAME,
                mime_type="application/timestamp-reply",
                creation_date=_pdf_date(when),
                mod_date=_pdf_date(when),
                relationship=Name.Supplement,
            )
            pdf.attachments[TOKEN_ATTACHMENT_NAME] = tspec
            specs.append(tspec)
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
