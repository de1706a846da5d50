"""Display-copy cache, keyed by the original's SHA-256 and the rendering parameters.

Display copies are derived data: losing the cache only costs time. Writes go to a temporary
file in the same folder and are renamed into place, so concurrent batch workers never read
half a file (rename is atomic on one filesystem; the loser of a race just overwrites an
identical file).

Every display copy is stored with its SHA-256 (in the sidecar that lists it), and
:meth:`DisplayCache.verified` checks a cached copy against that hash before it is used: a
damaged or planted entry means decoding again, never showing it. A cache that cannot be
written (read-only, full, not a folder) costs time, never previews: :meth:`DisplayCache.store`
then writes the copy to a private temporary folder for this run instead, removed at exit.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import json
import os
import secrets
import shutil
import stat
import tempfile
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


_fallbacks: dict[str, int] = {}  # fallback folder -> pid of the process that owns it


@atexit.register
def _remove_fallbacks() -> None:
    for folder, owner in _fallbacks.items():
        if owner == os.getpid():
            shutil.rmtree(folder, ignore_errors=True)


class DisplayCache:
    def __init__(self, root: Path | None = None, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.root = root if root is not None else default_cache_dir()
        self.max_bytes = max_bytes
        self.hits = 0
        # Where copies go when the cache cannot be written. Named here, created on first need
        # (possibly by a worker process, which shares the name), removed when this process exits.
        self.fallback_root = Path(tempfile.gettempdir()) / f"evidencekit-display-{secrets.token_hex(12)}"
        _fallbacks[str(self.fallback_root)] = os.getpid()

    def key(self, sha256: str, params: dict[str, object]) -> str:
        blob = json.dumps(params, sort_keys=True, ensure_ascii=True, default=str)
        return hashlib.sha256(f"{sha256}|{blob}".encode()).hexdigest()

    def path_for(self, sha256: str, params: dict[str, object], suffix: str) -> Path:
        """Where the display copy for this original and these parameters lives (may not exist):
        in the cache, or in the fallback folder when it could only be stored there."""
        key = self.key(sha256, params)
        rel = Path(key[:2]) / f"{key}{suffix}"
        primary = self.root / rel
        alt = self.fallback_root / rel
        # The fallback folder only holds copies made by this run, after the cache refused
        # them: they win over whatever (possibly stale) entry the cache still has.
        with contextlib.suppress(OSError):
            if alt.is_file():
                return alt
        return primary

    def lookup(self, path: Path) -> bool:
        try:
            present = path.is_file() and path.stat().st_size > 0
        except OSError:
            present = False
        if present:
            self.hits += 1
            with contextlib.suppress(OSError):
                os.utime(path)  # keeps recently used entries when pruning
            return True
        return False

    def verified(self, path: Path, sha256: str) -> bool:
        """True when ``path`` holds exactly the display copy whose hash was recorded with it."""
        if not self.lookup(path):
            return False
        try:
            return hashlib.sha256(path.read_bytes()).hexdigest() == sha256
        except OSError:
            return False

    def store(self, path: Path, data: bytes) -> Path:
        """Write ``data`` to ``path`` atomically; when the cache cannot be written, to the same
        name in the fallback folder. Returns where it went (``path_for`` finds it there too)."""
        try:
            write_entry(path, data)
            return path
        except OSError:
            if path.is_relative_to(self.fallback_root):
                raise
        alt = self.fallback_root / path.relative_to(self.root)
        self._make_fallback()
        write_entry(alt, data)
        return alt

    def _make_fallback(self) -> None:
        with contextlib.suppress(FileExistsError):
            os.mkdir(self.fallback_root, 0o700)
        st = os.lstat(self.fallback_root)
        if not stat.S_ISDIR(st.st_mode) or st.st_uid != getattr(os, "getuid", lambda: st.st_uid)():
            raise OSError(f"fallback cache folder is not ours: {self.fallback_root}")

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


def write_entry(path: Path, data: bytes) -> None:
    """Write a file of the cache folder: a temporary file beside it, renamed into place, so a
    reader (another build, a batch worker) never sees half of one. The one way every cache file
    is written: display copies and their sidecars, parsed fonts, page hints, line breaks. An
    OSError means the cache cannot be written; callers fall back or go without."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
