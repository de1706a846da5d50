"""The page map of the last build of the same evidence, kept in the cache so a rebuild can skip measuring."""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Sequence

from evidencekit.cache import DisplayCache, write_entry

VERSION = 2  # 1 was keyed by the case folder's path


class LayoutHints:
    """The page map of the last build of this evidence for this target, so a rebuild can skip
    the measuring pass.

    Kept for the evidence (the originals' SHA-256 in exhibit order), not for the case folder's
    path: a folder renamed or copied keeps its hint, and evidence added or removed, which moves
    the pages anyway, starts without one (the line cache is kept the same way, linecache.py).
    Only a hint: the renderer checks it and lays out again if anything moved. Kept in the cache
    folder; any problem reading or writing it just means no hint."""

    def __init__(self, cache: DisplayCache, digests: Sequence[str], target: str, *, masked: bool,
                 font: str | None) -> None:
        parts = [f"v{VERSION}", target, "masked" if masked else "plain", font or "", *digests]
        key = hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]
        self.path = cache.root / "layout" / f"{key}.json"

    def load(self) -> tuple[dict[str, int], int] | None:
        try:
            doc = json.loads(self.path.read_text(encoding="utf-8"))
            pages = {str(k): int(v) for k, v in doc["pages"].items()}
            return pages, int(doc["total"])
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None

    def save(self, pages: dict[str, int], total: int) -> None:
        with contextlib.suppress(OSError):
            write_entry(self.path, json.dumps({"pages": pages, "total": total}).encode("utf-8"))
