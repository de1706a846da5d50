"""Writing a file so that it is either complete or absent: temp file beside it, then rename."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from evidencekit.errors import EvidenceKitError, OutputError

CHUNK = 1024 * 1024


def write_atomically(
    path: Path,
    data: bytes | Path,
    *,
    what: str,
    error: type[EvidenceKitError] = OutputError,
    mode: int = 0o644,
    fsync: bool = False,
) -> None:
    """Write ``data`` (bytes, or the contents of another file) to ``path``.

    The temporary file lives in the target's folder so the final ``os.replace`` is a rename on
    one filesystem: readers see the old file or the new one, never half of one, and a failure
    leaves nothing behind. ``what`` names the file in messages (e.g. "输出文件", "案件文件").
    """
    try:
        fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise error(f"无法在 {path.parent} 中写入{what}（{exc.strerror or exc}）",
                    hint="请检查该文件夹是否存在、是否有写入权限") from exc
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            if isinstance(data, Path):
                with open(data, "rb") as inp:
                    while chunk := inp.read(CHUNK):
                        out.write(chunk)
            else:
                out.write(data)
            if fsync:
                out.flush()
                os.fsync(out.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except OSError as exc:
        raise error(f"写入{what} {path} 失败（{exc.strerror or exc}）") from exc
    finally:
        tmp.unlink(missing_ok=True)
