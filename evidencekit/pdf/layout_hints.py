"""The page map of a case's last build, kept in the cache so a rebuild can skip measuring."""

from __future__ import annotations

import contextlib
import hashlib
import json
from pathlib import Path

from evidencekit.cache import DisplayCache


class LayoutHints:
    """The page map of this case's last build, so a rebuild can skip the measuring pass.

    Only a hint: the renderer checks it and lays out again if anything moved. Kept in the cache
    folder; any problem reading or writing it just means no hint."""

    def __init__(self, cache: DisplayCache, case_root: Path, target: str) -> None:
        key = hashlib.sha256(f"{case_root}|{target}".encode()).hexdigest()[:32]
        self.cache = cache
        self.path = cache.root / "layout" / f"{key}.json"

    def load(self) -> tuple[dict[str, int], int] | None:
        try:
            doc = json.loads(self.path.read_text(encoding="utf-8"))
            pages = {str(k): int(v) for k, v in doc["pages"].items()}
            return pages, int(doc["total"])
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None

    def save(self, pages: dict[str, int], total: int) -> None:
        with contextlib.suppress(OSError), self.cache.writing(self.path) as tmp:
            tmp.write_text(json.dumps({"pages": pages, "total": total}), encoding="utf-8")
