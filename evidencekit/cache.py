"""Display-copy cache, keyed by the original's SHA-256 and the rendering parameters.

Display copies are derived data: losing the cache only costs time. Writes go to a temporary
file in the same folder and are renamed into place, so concurrent batch workers never read
half a file (rename is atomic on one filesystem; the loser of a race just overwrites an
identical file).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

DEFAULT_MAX_BYTES = 2 * 1024**3  # 2 GiB; pruned oldest-first after each build


def default_cache_dir() -> Path:
    """The user cache folder (XDG on Linux, Library/Caches on macOS, LOCALAPPDATA on Windows)."""
    override = os.environ.get("EVIDENCEKIT_CACHE_DIR")
    if override:
        return Path(override)
    if os.name == "nt":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
        return base / "evidencekit" / "Cache"
    if os.uname().sysname == "Darwin":
        return Path.home() / "Library" / "Caches" / "evidencekit"
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "evidencekit"


class DisplayCache:
    def __init__(self, root: Path | None = None, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.root = root if root is not None else default_cache_dir()
        self.max_bytes = max_bytes
        self.hits = 0
        self.misses = 0

    def key(self, sha256: str, params: dict[str, object]) -> str:
        blob = json.dumps(params, sort_keys=True, ensure_ascii=True, default=str)
        return hashlib.sha256(f"{sha256}|{blob}".encode()).hexdigest()

    def path_for(self, sha256: str, params: dict[str, object], suffix: str) -> Path:
        """Where the display copy for this original and these parameters lives (may not exist)."""
        key = self.key(sha256, params)
        return self.root / key[:2] / f"{key}{suffix}"

    def lookup(self, path: Path) -> bool:
        if path.is_file() and path.stat().st_size > 0:
            self.hits += 1
            with contextlib.suppress(OSError):
                os.utime(path)  # keeps recently used entries when pruning
            return True
        self.misses += 1
        return False

    @contextmanager
    def writing(self, path: Path) -> Iterator[Path]:
        """Yield a temporary path to write; on success it is renamed to ``path``."""
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            yield tmp
            os.replace(tmp, path)
        finally:
            if tmp.exists():
                tmp.unlink()

    def prune(self) -> int:
        """Delete least recently used entries until the cache is under ``max_bytes``."""
        if not self.root.is_dir():
            return 0
        entries = []
        total = 0
        for p in self.root.glob("*/*"):
            if p.name.startswith(".tmp-"):
                continue
            try:
                st = p.stat()
            except OSError:
                continue
            entries.append((st.st_mtime, st.st_size, p))
            total += st.st_size
        removed = 0
        for _mtime, size, p in sorted(entries):
            if total <= self.max_bytes:
                break
            try:
                p.unlink()
            except OSError:
                continue
            total -= size
            removed += 1
        return removed
