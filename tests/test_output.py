"""Output checks: build (a file) and pack (a folder) refuse the same places in the same words."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from evidencekit.channels.pack import check_outdir
from evidencekit.errors import OutputError
from evidencekit.output import check_output


def _refusal(check: object, out: Path, root: Path) -> str:
    with pytest.raises(OutputError) as info:
        check(out, root, False)  # type: ignore[operator]
    return info.value.message


def test_a_missing_parent_folder_is_refused_alike(tmp_path: Path) -> None:
    root = tmp_path / "case"
    root.mkdir()
    file_msg = _refusal(check_output, tmp_path / "nowhere" / "dossier.pdf", root)
    dir_msg = _refusal(check_outdir, tmp_path / "nowhere" / "pack", root)
    assert file_msg == f"输出文件 {tmp_path / 'nowhere' / 'dossier.pdf'} 所在的文件夹 {tmp_path / 'nowhere'} 不存在"
    assert dir_msg == f"输出文件夹 {tmp_path / 'nowhere' / 'pack'} 所在的文件夹 {tmp_path / 'nowhere'} 不存在"


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="needs POSIX permissions, not root")
def test_a_read_only_parent_folder_is_refused_alike(tmp_path: Path) -> None:
    root = tmp_path / "case"
    root.mkdir()
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        messages = {_refusal(check_output, locked / "dossier.pdf", root),
                    _refusal(check_outdir, locked / "pack", root)}
    finally:
        locked.chmod(0o755)
    assert messages == {f"没有写入 {locked} 的权限"}
