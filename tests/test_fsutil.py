"""write_atomically: the file is complete or absent, and no temporary file is left behind."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from evidencekit.errors import CaseFolderError, OutputError
from evidencekit.fsutil import sha256_file, write_atomically


def test_replaces_whole_file_and_copies_from_a_path(tmp_path: Path) -> None:
    target = tmp_path / "out.pdf"
    target.write_bytes(b"old")
    write_atomically(target, b"new contents", what="输出文件")
    assert target.read_bytes() == b"new contents"
    src = tmp_path / "src.bin"
    src.write_bytes(bytes(range(256)) * 5000)
    write_atomically(target, src, what="输出文件")
    assert target.read_bytes() == src.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.pdf", "src.bin"]


def test_failure_names_the_file_and_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="输出文件"):
        write_atomically(tmp_path / "missing-folder" / "x.pdf", b"x", what="输出文件")
    target = tmp_path / "dir-in-the-way"
    target.mkdir()
    with pytest.raises(CaseFolderError, match="案件文件"):
        write_atomically(target, b"x", what="案件文件", error=CaseFolderError)
    assert [p.name for p in tmp_path.iterdir()] == ["dir-in-the-way"]


@pytest.mark.skipif(not hasattr(os, "O_NOATIME"), reason="keeping the access time needs O_NOATIME")
def test_hashing_keeps_the_access_time_as_the_inventory_does(tmp_path: Path) -> None:
    """`add` hashes the file the user named; like the inventory, it leaves its access time alone."""
    path = tmp_path / "a.png"
    path.write_bytes(b"original bytes")
    os.utime(path, ns=(1_600_000_000_000_000_000, 1_700_000_000_000_000_000))  # relatime would bump it
    assert sha256_file(path, what="文件") == hashlib.sha256(b"original bytes").hexdigest()
    assert os.stat(path).st_atime_ns == 1_600_000_000_000_000_000
