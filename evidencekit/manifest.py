"""The machine-readable manifest: what every file was, its hash, time and display copies.

Its SHA-256 is the dossier fingerprint printed on the cover, so the bytes must be canonical:
sorted keys, no whitespace variation, UTF-8, and nothing that changes between identical builds
under ``--reproducible``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from evidencekit.model import Exhibit, RefusedFile

MANIFEST_NAME = "evidencekit-manifest.json"
MANIFEST_FORMAT = 1


def build_manifest(
    *,
    case_id: str,
    target: str,
    exhibits: Sequence[Exhibit],
    refused: Sequence[RefusedFile],
    generated_at: datetime,
    tool_version: str,
) -> bytes:
    files: list[dict[str, Any]] = []
    for ex in exhibits:
        src, insp = ex.source, ex.inspection
        display = [img.sha256 for img in insp.images] + [fr.image.sha256 for fr in insp.frames]
        files.append(
            {
                "exhibit": ex.number,
                "path": src.rel_path,
                "name": src.name,
                "size": src.size,
                "sha256": src.sha256,
                "kind": ex.kind.value,
                "time": ex.stamp.time.isoformat() if ex.stamp.time else None,
                "time_source": ex.stamp.source.value,
                "media": insp.media.value,
                "display_sha256": display,
                "redacted": insp.redacted,
                "removed_metadata": list(insp.removed_metadata),
                "preview_error": insp.preview_error or None,
            }
        )
    doc = {
        "format": MANIFEST_FORMAT,
        "tool": "evidencekit",
        "tool_version": tool_version,
        "case_id": case_id,
        "target": target,
        "generated_at": generated_at.isoformat(),
        "files": files,
        "refused": [{"path": r.rel_path, "reason": r.reason} for r in refused],
    }
    return json.dumps(doc, ensure_ascii=False, sort_keys=True, indent=1).encode("utf-8") + b"\n"


def fingerprint(manifest: bytes) -> str:
    return hashlib.sha256(manifest).hexdigest()


def parse_manifest(data: bytes) -> dict[str, Any]:
    doc = json.loads(data.decode("utf-8"))
    if not isinstance(doc, dict) or doc.get("tool") != "evidencekit" or not isinstance(doc.get("files"), list):
        raise ValueError("not an evidencekit manifest")
    return doc
