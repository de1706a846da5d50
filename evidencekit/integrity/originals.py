"""Read an original only as the bytes the inventory hashed: a case folder comes from a stranger and may change under us.

The inventory hashes every original first and records which file it hashed
(:class:`~evidencekit.model.FileIdentity`). Everything that reads an original afterwards goes
through this module, never through ``open(source.path)``:

- :func:`open_original` opens it the way the inventory did (read-only, no following of a link
  planted since, no blocking on a FIFO swapped in) and checks the descriptor is a regular file
  with exactly the recorded identity; streaming decoders (PyAV) read from that file object and
  call :meth:`OriginalFile.check_unchanged` when done.
- :func:`read_original` returns the bytes themselves after checking their SHA-256, for
  decoders that work from memory (Pillow, PDFium, the chat reader) and for attachments.

Either raises :class:`OriginalChanged` when the file is not the one that was hashed.
:func:`public_message` keeps local paths out of anything a library says about a file.
"""

from __future__ import annotations

import io
import os
import re
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from evidencekit.case.inventory import open_readonly
from evidencekit.errors import OriginalChanged
from evidencekit.fsutil import sha256_fd
from evidencekit.model import FileIdentity, SourceFile


class OriginalFile(io.FileIO):
    """A read-only original whose identity was checked on opening."""

    identity: FileIdentity
    rel_path: str

    def check_unchanged(self) -> None:
        """Raise OriginalChanged if the file was written to since it was opened and checked."""
        if FileIdentity.of(os.fstat(self.fileno())) != self.identity:
            raise OriginalChanged(self.rel_path)


def _path_to_open(source: SourceFile) -> str:
    # The inventory allowed a link only after checking it stays inside the case folder, and
    # hashed its resolved target; open that target, still with O_NOFOLLOW. A link re-pointed
    # since then gives a different identity and is refused below.
    path = os.fspath(source.path)
    return os.path.realpath(path) if os.path.islink(path) else path


def _open_fd(source: SourceFile) -> tuple[int, os.stat_result]:
    try:
        fd = open_readonly(Path(_path_to_open(source)))
    except OSError as exc:
        raise OriginalChanged(source.rel_path) from exc
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise OriginalChanged(source.rel_path)
    return fd, st


def open_original(source: SourceFile) -> OriginalFile:
    """The original, opened read-only and checked to be the file that was hashed.

    The quick check is the descriptor's fstat against the recorded identity (inode, size,
    change times). When that differs (or none was recorded: a SourceFile described by hand),
    the content is hashed through this very descriptor instead, so a file merely touched since
    (a backup tool adding an extended attribute changes its ctime) still decodes, and a file
    with other bytes never does. Either way :meth:`OriginalFile.check_unchanged` later compares
    against the state checked here.
    """
    fd, st = _open_fd(source)
    try:
        if source.identity is None or FileIdentity.of(st) != source.identity:
            sha256, _, size = sha256_fd(fd)
            if sha256 != source.sha256 or size != source.size or FileIdentity.of(os.fstat(fd)) != FileIdentity.of(st):
                raise OriginalChanged(source.rel_path)
        fh = OriginalFile(fd, "rb", closefd=True)
    except BaseException:
        os.close(fd)
        raise
    fh.identity = FileIdentity.of(st)
    fh.rel_path = source.rel_path
    # Libraries that name the file in their messages name it by its case-relative path.
    fh.name = source.rel_path
    return fh


def read_original(source: SourceFile, max_bytes: int | None = None) -> bytes:
    """The original's bytes (the first ``max_bytes`` of them), after checking the SHA-256 of the
    whole file against the inventory's. The hash is the proof here, so a file merely touched
    since (same bytes) still reads."""
    fd, _st = _open_fd(source)
    try:
        keep = source.size + 1 if max_bytes is None else max_bytes
        sha256, data, _size = sha256_fd(fd, keep=keep)
    except OSError as exc:
        raise OriginalChanged(source.rel_path) from exc
    finally:
        os.close(fd)
    if sha256 != source.sha256:
        raise OriginalChanged(source.rel_path)
    return data


def copy_original(source: SourceFile, out: BinaryIO) -> os.stat_result:
    """Stream the original into ``out`` while hashing it, and return its fstat (for its times).
    Raises OriginalChanged, after writing, when the bytes copied are not the hashed ones: the
    caller discards ``out``. Errors writing ``out`` are the caller's (a full disk, say)."""
    fd, st = _open_fd(source)
    try:
        sha256, _data, _size = sha256_fd(fd, sink=out)
    finally:
        os.close(fd)
    if sha256 != source.sha256:
        raise OriginalChanged(source.rel_path)
    return st


def sniff(source: SourceFile, n: int = 64) -> bytes:
    """The first ``n`` bytes of the original (checked like :func:`open_original`)."""
    with open_original(source) as fh:
        return fh.read(n)


# ---------------------------------------------------------------------------------------------
# No local path in any output
# ---------------------------------------------------------------------------------------------

HIDDEN_PATH = "（路径已隐去）"

# An absolute POSIX path of at least two components, or a Windows drive path; what is left
# after the known paths were replaced by their case-relative names.
_ABSOLUTE_PATH = re.compile(
    r"""(?<![\w.~])(?:/(?:[^\s'"/\\:：，；）)]+/)+[^\s'"：，；）)]*|[A-Za-z]:\\[^\s'"：，；）)]*)"""
)


def public_message(text: str, source: SourceFile | None = None) -> str:
    """``text`` (a library's error message) with every local path replaced: the original's own
    path by its case-relative name, the case folder by 「案件文件夹」, the home folder by ``~``,
    and any other absolute path by 「（路径已隐去）」. One function for PyAV, PDFium and Pillow."""
    places: list[tuple[str | os.PathLike[str], str]] = []
    if source is not None:
        places.append((source.path, source.rel_path))
        depth = len(source.rel_path.split("/"))
        parents = Path(source.path).parents
        if len(parents) >= depth:
            places.append((parents[depth - 1], "案件文件夹"))
    return public_text(text, places)


def public_text(text: str, places: Iterable[tuple[str | os.PathLike[str], str]] = ()) -> str:
    """``text`` with each of ``places`` (a path and the name to show instead) replaced, the home
    folder shown as ``~`` and any other absolute path hidden: for everything we write."""
    replacements: list[tuple[str, str]] = []
    for place, label in places:
        path = os.fspath(place)
        replacements += [(path, label), (os.path.realpath(path), label)]
    home = os.path.expanduser("~")
    if home not in ("", "/", "~"):
        replacements += [(home, "~"), (os.path.realpath(home), "~")]
    # Longest first, so the file's own path wins over the folders that contain it.
    for old, new in sorted(set(replacements), key=lambda pair: -len(pair[0])):
        if len(old) > 1:
            text = text.replace(old, new)
    return _ABSOLUTE_PATH.sub(HIDDEN_PATH, text)
