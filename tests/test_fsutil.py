"""write_atomically: the file is complete or absent, and no temporary file is left behind."""

from __future__ import annotations

from pathlib import Path

import pytest

from evidencekit.errors import CaseFolderError, OutputError
from evidencekit.fsutil import write_atomically


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
