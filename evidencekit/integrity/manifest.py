"""The machine-readable manifest: what every file was, its hash, time and display copies.

Its SHA-256 is the dossier fingerprint printed on the cover, so the bytes must be canonical:
sorted keys, no whitespace variation, UTF-8, and nothing that changes between identical builds
under ``--reproducible``.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from evidencekit.errors import ManifestError
from evidencekit.model import (
    Exhibit,
    ImageInspection,
    RefusedFile,
    Target,
    attachment_file_name,
    display_images,
)

MANIFEST_NAME = "evidencekit-manifest.json"
MANIFEST_FORMAT = 1


def build_manifest(
    *,
    case_id: str,
    target: Target,
    exhibits: Sequence[Exhibit],
    refused: Sequence[RefusedFile],
    generated_at: datetime,
    tool_version: str,
    personal_data_masked: bool = False,
) -> bytes:
    """The manifest's canonical bytes. A ``--mask-personal`` build passes exhibits whose paths
    and names are masked already, and says so (``personal_data_masked``): its names then do not
    match the files on disk, only its hashes do."""
    files: list[dict[str, Any]] = []
    for ex in exhibits:
        src, insp = ex.source, ex.inspection
        photo = insp if isinstance(insp, ImageInspection) else None  # the only kind redacted or stripped
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
                "display_sha256": [img.sha256 for img in display_images(insp)],
                "redacted": photo is not None and photo.redacted,
                "removed_metadata": list(photo.removed_metadata) if photo is not None else [],
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
    if personal_data_masked:  # absent otherwise: an unmasked manifest (and fingerprint) is as before
        doc["personal_data_masked"] = True
    return json.dumps(doc, ensure_ascii=False, sort_keys=True, indent=1).encode("utf-8") + b"\n"


def fingerprint(manifest: bytes) -> str:
    return hashlib.sha256(manifest).hexdigest()


# Limits on what `verify` accepts from a dossier it did not make (issue 9).
MAX_MANIFEST_BYTES = 16 * 1024 * 1024
MAX_MANIFEST_DEPTH = 32
_HEX64 = re.compile(r"[0-9a-fA-F]{64}")


@dataclass(frozen=True)
class ManifestFile:
    """One file entry, validated: every field has the type the builder writes."""

    exhibit: int
    path: str  # NFC
    name: str  # NFC
    size: int
    sha256: str  # lower-case hex
    display_sha256: tuple[str, ...]  # lower-case hex, one per page image or frame
    media: str = ""
    preview_error: str = ""

    @property
    def attachment_name(self) -> str:
        """Same rule as attach.attachment_name, computed from the manifest instead of an Exhibit."""
        return attachment_file_name(self.exhibit, self.name)


@dataclass(frozen=True)
class Manifest:
    case_id: str
    generated_at: str
    tool_version: str
    target: str
    files: tuple[ManifestFile, ...]
    refused: tuple[str, ...]  # NFC paths the build refused (links out of the case, …)


def parse_manifest(data: bytes) -> Manifest:
    """The one place a manifest is read: bytes → a validated ``Manifest``, or ``ManifestError``."""
    if len(data) > MAX_MANIFEST_BYTES:
        raise ManifestError(f"清单超过 {MAX_MANIFEST_BYTES // 1024 // 1024} MB 上限")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ManifestError("清单不是 UTF-8 文本") from exc
    if _nesting_depth(text) > MAX_MANIFEST_DEPTH:
        raise ManifestError(f"清单的嵌套层次超过 {MAX_MANIFEST_DEPTH} 层")
    try:
        doc = json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)
    except ManifestError:
        raise
    except (ValueError, RecursionError) as exc:
        raise ManifestError("清单不是有效的 JSON") from exc
    if not isinstance(doc, dict) or doc.get("tool") != "evidencekit":
        raise ManifestError("清单不是 evidencekit 写的（缺少 \"tool\": \"evidencekit\"）")
    if doc.get("format") != MANIFEST_FORMAT or isinstance(doc.get("format"), bool):
        raise ManifestError(f"不认识的清单格式版本（format 应为 {MANIFEST_FORMAT}）")
    entries = doc.get("files")
    if not isinstance(entries, list):
        raise ManifestError("清单中的 files 不是列表")
    if not entries:
        raise ManifestError("清单中没有任何文件：evidencekit 生成的证据材料至少有一项证据")
    files = tuple(_file(e, i) for i, e in enumerate(entries, start=1))
    numbers = [f.exhibit for f in files]
    if len(set(numbers)) != len(numbers):
        raise ManifestError("清单中有重复的证据编号")
    refused_raw = doc.get("refused", [])
    if not isinstance(refused_raw, list) or not all(
            isinstance(r, dict) and isinstance(r.get("path"), str) for r in refused_raw):
        raise ManifestError("清单中的 refused 格式不对")
    return Manifest(
        case_id=_text(doc, "case_id"),
        generated_at=_text(doc, "generated_at"),
        tool_version=_text(doc, "tool_version"),
        target=_text(doc, "target"),
        files=files,
        refused=tuple(unicodedata.normalize("NFC", r["path"]) for r in refused_raw),
    )


def _nesting_depth(text: str) -> int:
    """The deepest ``[``/``{`` nesting outside strings, counted before json recurses into it."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > MAX_MANIFEST_DEPTH:
                    return deepest
        elif ch in "]}":
            depth -= 1
    return deepest


def _reject_constant(name: str) -> Any:
    raise ManifestError(f"清单中有 JSON 不允许的数值 {name}")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ManifestError(f"清单中的数值 {text[:20]} 超出范围")
    return value


def _text(doc: dict[str, Any], key: str) -> str:
    value = doc.get(key, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ManifestError(f"清单中的 {key} 应为文字")
    return value


def _file(entry: Any, position: int) -> ManifestFile:
    where = f"清单第 {position} 个文件条目"
    if not isinstance(entry, dict):
        raise ManifestError(f"{where}不是键值表")

    def integer(key: str, minimum: int) -> int:
        value = entry.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or value < minimum or value > 2**63:
            raise ManifestError(f"{where}的 {key} 应为不小于 {minimum} 的整数（当前：{str(value)[:20]}）")
        return value

    def string(key: str, required: bool = True) -> str:
        value = entry.get(key)
        if value is None and not required:
            return ""
        if not isinstance(value, str) or (required and not value):
            raise ManifestError(f"{where}的 {key} 应为文字")
        return unicodedata.normalize("NFC", value)

    def digest(value: Any, key: str) -> str:
        if not isinstance(value, str) or not _HEX64.fullmatch(value):
            raise ManifestError(f"{where}的 {key} 应为 64 位十六进制的 SHA-256")
        return value.lower()

    display = entry.get("display_sha256", [])
    if not isinstance(display, list):
        raise ManifestError(f"{where}的 display_sha256 应为列表")
    return ManifestFile(
        exhibit=integer("exhibit", 1),
        path=string("path"),
        name=string("name"),
        size=integer("size", 0),
        sha256=digest(entry.get("sha256"), "sha256"),
        display_sha256=tuple(digest(d, "display_sha256") for d in display),
        media=string("media", required=False),
        preview_error=string("preview_error", required=False),
    )
