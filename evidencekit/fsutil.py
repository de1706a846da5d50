"""Creating outputs safely in folders a stranger may have prepared.

Case folders come from strangers (volunteers receive them): any name in them may already be a symlink,
a FIFO or a device. Every file evidencekit writes goes through :func:`write_atomically` and
every folder it creates through :func:`make_dirs` or :func:`publish_directory`, which

- refuse a destination that is a link or not a regular file (``lstat``, links are not followed);
- refuse a target folder reached through a link planted inside the case folder (``root``);
- write to a temporary file created with ``O_CREAT | O_EXCL`` (so a planted name is never
  opened) in the target folder, then rename it into place: readers see the old file or the
  new one, never half of one, and a failure leaves nothing behind;
- turn a full disk or quota (ENOSPC, EDQUOT) into a clear :class:`OutputError` (exit 5).

:func:`case_lock` serialises read-modify-write of case.yaml between processes.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import secrets
import shutil
import stat
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from evidencekit.errors import EvidenceKitError, OutputError

CHUNK = 1024 * 1024
LOCK_NAME = ".evidencekit.lock"  # beside case.yaml; held while case.yaml is read and rewritten

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_BINARY = getattr(os, "O_BINARY", 0)
_NOATIME = getattr(os, "O_NOATIME", 0)  # reading leaves the access time alone, where the OS lets us
_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}


def is_disk_full(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in _FULL


def disk_full_error(where: Path | str, exc: OSError, what: str = "文件") -> OutputError:
    return OutputError(f"磁盘空间不足，无法写入{what}（{where}）：{exc.strerror or exc}",
                       hint="清理磁盘空间（或临时文件夹 TMPDIR 所在的磁盘）后重试；"
                            "也可以把 TMPDIR 设为空间更大的文件夹")


def _os_error(error: type[EvidenceKitError], message: str, exc: OSError, what: str, where: Path) -> EvidenceKitError:
    if is_disk_full(exc):
        return disk_full_error(where, exc, what)
    return error(f"{message}（{exc.strerror or exc}）")


# ---------------------------------------------------------------------------------------------
# Checks
# ---------------------------------------------------------------------------------------------


def _lstat_unless_link(path: Path, what: str, error: type[EvidenceKitError], elsewhere: str) -> os.stat_result | None:
    """``os.lstat(path)``; None when absent. Raise when it cannot be checked or is a link."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise error(f"无法检查{what} {path}（{exc.strerror or exc}）") from exc
    if stat.S_ISLNK(st.st_mode):
        raise error(f"{what} {path} 是一个链接（快捷方式），出于安全考虑不会写入或替换它",
                    hint=f"删除这个链接后重试，或用 -o 指定另一个{elsewhere}")
    return st


def refuse_special(path: Path, what: str, error: type[EvidenceKitError] = OutputError) -> bool:
    """Raise unless ``path`` is absent or a regular file (not a link); True when it exists."""
    st = _lstat_unless_link(path, what, error, "位置")
    if st is None:
        return False
    if not stat.S_ISREG(st.st_mode):
        raise error(f"{what} {path} 不是普通文件（是文件夹、设备或管道），不会写入它",
                    hint="删除它后重试，或用 -o 指定另一个位置")
    return True


def is_inside(path: Path, root: Path) -> bool:
    """Lexically: ``path`` is ``root`` or below it (both absolute)."""
    try:
        return os.path.commonpath([str(path), str(root)]) == str(root)
    except ValueError:  # different drives on Windows
        return False


def absolute(path: Path) -> Path:
    """Absolute and normalised (``..`` folded) without following any link."""
    return Path(os.path.abspath(os.path.expanduser(path)))


def check_no_links(folder: Path, root: Path, what: str = "输出文件夹",
                   error: type[EvidenceKitError] = OutputError) -> None:
    """Refuse when ``folder`` (inside the case folder ``root``) is reached through a link.

    Links the user made above the case folder are theirs; links inside it may be a stranger's.
    Both paths are absolute; a folder outside ``root`` is not checked.
    """
    root = absolute(root)
    folder = absolute(folder)
    if not is_inside(folder, root):
        return
    current = root
    for part in folder.relative_to(root).parts:
        current = current / part
        try:
            st = os.lstat(current)
        except FileNotFoundError:
            return  # will be created by us
        except OSError as exc:
            raise error(f"无法检查{what} {current}（{exc.strerror or exc}）") from exc
        if stat.S_ISLNK(st.st_mode):
            raise error(f"{what}的路径中 {current} 是一个链接（快捷方式），可能指向案件文件夹之外，出于安全考虑不予写入",
                        hint="删除这个链接，或用 -o 指定案件文件夹以外的真实位置")
        if not stat.S_ISDIR(st.st_mode):
            raise error(f"{current} 不是文件夹，无法在其中写入{what}")


# ---------------------------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------------------------


def resolve_output_path(root: Path, path: Path, what: str) -> Path:
    """``path`` made absolute without following a link at its last part (the output checks
    refuse one); a folder on the way inside the case folder may not be a link a stranger planted."""
    lexical = absolute(path)
    for case_root in (absolute(root), root.resolve()):
        check_no_links(lexical.parent, case_root, what)
    return lexical.parent.resolve() / lexical.name


def write_atomically(
    path: Path,
    data: bytes | Path,
    *,
    what: str,
    error: type[EvidenceKitError] = OutputError,
    mode: int = 0o644,
    fsync: bool = False,
    root: Path | None = None,
    times_from: Path | None = None,
) -> None:
    """Write ``data`` (bytes, or the contents of another file) to ``path``, safely.

    ``what`` names the file in messages (e.g. "输出文件", "案件文件"). ``root`` is the case
    folder when ``path`` lies in it: no folder between them may be a link. ``times_from`` copies
    that file's access and modification times (``add`` keeps them: sometimes the only time a
    file carries). A link or non-regular file at ``path`` is refused, never followed or replaced.
    """
    if root is not None:
        check_no_links(path.parent, root, what, error)
    refuse_special(path, what, error)
    try:
        fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name[:40]}.", suffix=".tmp")
    except OSError as exc:
        if is_disk_full(exc):
            raise disk_full_error(path.parent, exc, what) from exc
        raise error(f"无法在 {path.parent} 中写入{what}（{exc.strerror or exc}）",
                    hint="请检查该文件夹是否存在、是否有写入权限") from exc
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            _copy_into(out, data)
            out.flush()
            if fsync:
                os.fsync(out.fileno())
            os.chmod(tmp, mode)
        if times_from is not None:
            st = os.stat(times_from)
            os.utime(tmp, ns=(st.st_atime_ns, st.st_mtime_ns))
        refuse_special(path, what, error)  # planted while we wrote?
        os.replace(tmp, path)
    except EvidenceKitError:
        raise
    except OSError as exc:
        raise _os_error(error, f"写入{what} {path} 失败", exc, what, path) from exc
    finally:
        tmp.unlink(missing_ok=True)


def _copy_into(out: BinaryIO, data: bytes | Path) -> int:
    """Write ``data`` (bytes, or a regular file's contents, streamed) to ``out``; bytes written."""
    if not isinstance(data, Path):
        out.write(data)
        return len(data)
    size = 0
    with open_regular(data, what="源文件", follow_links=True) as inp:
        while chunk := inp.read(CHUNK):
            out.write(chunk)
            size += len(chunk)
    return size


def create_new_fd(path: Path, *, what: str = "文件", mode: int = 0o644) -> int:
    """A descriptor for writing the new file ``path``, which must not exist yet (``O_EXCL``: a
    planted link or file at the name is never opened)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _BINARY
    try:
        return os.open(path, flags, mode)
    except FileExistsError as exc:
        raise OutputError(f"{what} {path} 已存在，不会覆盖") from exc
    except OSError as exc:
        raise _os_error(OutputError, f"无法写入{what} {path}", exc, what, path) from exc


def create_new(path: Path, data: bytes | Path, *, what: str = "文件", mode: int = 0o644) -> int:
    """Create ``path`` (which must not exist) holding ``data`` (bytes, or another file's
    contents); return its size. For folders of our own, such as a pack's stage."""
    fd = create_new_fd(path, what=what, mode=mode)
    try:
        with os.fdopen(fd, "wb") as out:
            size = _copy_into(out, data)
    except BaseException as exc:
        path.unlink(missing_ok=True)
        if isinstance(exc, OSError) and not isinstance(exc, EvidenceKitError):
            raise _os_error(OutputError, f"写入{what} {path} 失败", exc, what, path) from exc
        raise
    return size


@contextlib.contextmanager
def open_regular(path: Path, *, what: str = "文件", max_bytes: int | None = None,
                 error: type[EvidenceKitError] = OutputError, label: str | None = None,
                 follow_links: bool = False) -> Iterator[BinaryIO]:
    """Open ``path`` for reading only if it is a regular file (checked on the open descriptor:
    no race) and, with ``max_bytes``, not larger than that. A link is refused unless
    ``follow_links`` (for sources someone already vouched for: a file the user named, an
    original the inventory accepted). ``label`` replaces the path in messages (e.g. just the
    file name, for text that goes into a dossier)."""
    shown = label or str(path)
    flags = os.O_RDONLY | _BINARY | getattr(os, "O_NONBLOCK", 0)  # a FIFO must not block
    if not follow_links:
        flags |= _NOFOLLOW
    try:
        fd = open_keeping_atime(path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise error(f"{what} {shown} 是一个链接（快捷方式），出于安全考虑不予读取") from exc
        raise error(f"无法读取{what} {shown}（{exc.strerror or exc}）") from exc
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise error(f"{what} {shown} 不是普通文件（是文件夹、设备或管道），出于安全考虑不予读取")
        if max_bytes is not None and st.st_size > max_bytes:
            raise error(f"{what} {shown} 过大（{st.st_size} 字节，上限 {max_bytes} 字节），不予读取")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        handle = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    with handle:
        yield handle


def read_regular(path: Path, *, what: str, max_bytes: int, error: type[EvidenceKitError] = OutputError,
                 label: str | None = None) -> bytes:
    """The bytes of a small regular file (not a link), at most ``max_bytes``."""
    with open_regular(path, what=what, max_bytes=max_bytes, error=error, label=label) as fh:
        data = fh.read(max_bytes + 1)
    if len(data) > max_bytes:  # grew after the check
        raise error(f"{what} {label or path} 过大（上限 {max_bytes} 字节），不予读取")
    return data


# ---------------------------------------------------------------------------------------------
# Folders
# ---------------------------------------------------------------------------------------------


def open_keeping_atime(path: Path | str, flags: int) -> int:
    """``os.open`` with ``O_NOATIME`` where allowed (only a file's owner may ask for it), so reading
    an original does not change its access time, sometimes one of the few times it carries."""
    if _NOATIME:
        try:
            return os.open(path, flags | _NOATIME)
        except PermissionError as exc:
            if exc.errno != errno.EPERM:  # EPERM: not the owner, O_NOATIME not allowed
                raise
    return os.open(path, flags)


def sha256_fd(fd: int, *, keep: int = 0, sink: BinaryIO | None = None) -> tuple[str, bytes, int]:
    """The one hashing loop: SHA-256 (hex) of everything from offset 0 of ``fd`` (``pread``: the
    descriptor's position is not used), its first ``keep`` bytes, and the size read. Every chunk
    also goes to ``sink`` when given (a copy made from the very bytes that were hashed)."""
    digest = hashlib.sha256()
    kept = bytearray()
    offset = 0
    while chunk := os.pread(fd, CHUNK, offset):
        digest.update(chunk)
        if sink is not None:
            sink.write(chunk)
        if len(kept) < keep:
            kept += chunk[: keep - len(kept)]
        offset += len(chunk)
    return digest.hexdigest(), bytes(kept), offset


def sha256_file(path: Path, *, what: str, follow_links: bool = False,
                error: type[EvidenceKitError] = OutputError) -> str:
    """The SHA-256 (hex) of a regular file, read through :func:`open_regular`."""
    with open_regular(path, what=what, follow_links=follow_links, error=error) as fh:
        return sha256_fd(fh.fileno())[0]


def make_dirs(folder: Path, root: Path, *, what: str = "文件夹",
              error: type[EvidenceKitError] = OutputError) -> None:
    """``mkdir -p`` of ``folder`` inside ``root``, refusing any link on the way (even one that
    appears while we work: each level is checked after it is made)."""
    root = absolute(root)
    folder = absolute(folder)
    check_no_links(folder, root, what, error)
    current = root
    for part in folder.relative_to(root).parts if is_inside(folder, root) else ():
        current = current / part
        try:
            os.mkdir(current, 0o755)
        except FileExistsError:
            pass
        except OSError as exc:
            raise _os_error(error, f"无法创建{what} {current}", exc, what, current) from exc
        check_no_links(current, root, what, error)


def stage_directory(out: Path) -> Path:
    """A private, empty folder beside ``out`` to build it in (``mkdtemp``: mode 0700, a fresh name)."""
    try:
        return Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name[:40]}-"))
    except OSError as exc:
        raise _os_error(OutputError, f"无法在 {out.parent} 中创建输出文件夹", exc, "输出文件夹", out) from exc


def refuse_link_dir(out: Path, what: str = "输出文件夹") -> bool:
    """Raise when ``out`` is a link or not a folder; True when it exists (a real folder)."""
    st = _lstat_unless_link(out, what, OutputError, "文件夹")
    if st is None:
        return False
    if not stat.S_ISDIR(st.st_mode):
        raise OutputError(f"输出路径 {out} 是一个文件，不是文件夹", hint="用 -o 指定一个文件夹")
    return True


def publish_directory(stage: Path, out: Path, *, replace_existing: bool) -> None:
    """Rename the finished ``stage`` folder to ``out``. A link at ``out`` is refused; an existing
    real folder is swapped out only with ``replace_existing`` (the caller checked it is ours)."""

    exists = refuse_link_dir(out)
    if not exists or (not replace_existing and not any(out.iterdir())):
        try:
            if exists:
                os.rmdir(out)  # empty: rename() onto it would be fine on POSIX, not on Windows
            os.rename(stage, out)
        except OSError as exc:
            raise _os_error(OutputError, f"无法写出输出文件夹 {out}", exc, "输出文件夹", out) from exc
        return
    if not replace_existing:
        raise OutputError(f"输出文件夹 {out} 已存在且不是空的", hint="加 --force 替换它")
    old = out.with_name(f".{out.name[:40]}-old-{secrets.token_hex(4)}")
    try:
        os.rename(out, old)
        try:
            if os.path.lexists(out):  # something planted between the two renames
                raise OutputError(f"输出文件夹 {out} 在生成过程中被其他程序创建，未替换")
            os.rename(stage, out)
        except (OSError, OutputError):
            os.rename(old, out)  # put the previous one back
            raise
    except OSError as exc:
        raise _os_error(OutputError, f"无法替换输出文件夹 {out}", exc, "输出文件夹", out) from exc
    shutil.rmtree(old, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# Locking case.yaml
# ---------------------------------------------------------------------------------------------


# Folders this thread holds locked (the lock is re-entrant within a thread; another thread of
# the same process, e.g. a second request to `serve`, waits on flock like another process).
_lock_owner = threading.local()


def _held() -> dict[str, int]:
    if not hasattr(_lock_owner, "held"):
        _lock_owner.held = {}
    held: dict[str, int] = _lock_owner.held
    return held


@contextlib.contextmanager
def case_lock(folder: Path, error: type[EvidenceKitError] = OutputError) -> Iterator[None]:
    """Hold an exclusive lock on the case folder while case.yaml (or a new evidence name) is
    read, decided and written, so concurrent ``log`` or ``add`` calls lose no edit.

    POSIX: ``flock`` on the folder itself (no lock file to leave behind, nor one a stranger
    could plant as a link). Where the filesystem cannot lock (some network mounts), the edit
    goes ahead unlocked, as before. Windows, where a folder cannot be locked: ``msvcrt.locking``
    on a ``.evidencekit.lock`` file in the folder (created without following a link; it stays).
    Re-entrant within one thread: ``add --title`` locks for the copy and again for case.yaml."""
    key = os.path.realpath(folder)
    _held_locks = _held()
    if _held_locks.get(key):
        _held_locks[key] += 1
        try:
            yield
        finally:
            _held_locks[key] -= 1
        return
    with _acquire(folder, error):
        _held_locks[key] = 1
        try:
            yield
        finally:
            del _held_locks[key]


@contextlib.contextmanager
def _acquire(folder: Path, error: type[EvidenceKitError]) -> Iterator[None]:
    if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
        import msvcrt

        path = folder / LOCK_NAME
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | _BINARY, 0o644)
        except OSError as exc:
            raise _os_error(error, f"无法创建锁文件 {path}", exc, "锁文件", path) from exc
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode) or os.path.islink(path):
                raise error(f"锁文件 {path} 不是普通文件", hint="删除它后重试")
            msvcrt.locking(fd, msvcrt.LK_LOCK, 1)  # retries for about 10 s, then fails
            yield
        finally:
            os.close(fd)
        return
    import fcntl

    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError as exc:
        raise error(f"无法打开案件文件夹 {folder}（{exc.strerror or exc}）") from exc
    try:
        with contextlib.suppress(OSError):  # EBADF/ENOLCK/EOPNOTSUPP: a mount that cannot lock
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock
