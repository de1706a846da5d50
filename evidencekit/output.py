"""The user's output path: where it is, what it may not be, and the one write to it.

All work happens in a private work folder; ``publish`` is the only step that touches the
user's path, so a failure leaves no partial file."""

from __future__ import annotations

import contextlib
import os
import tempfile
import unicodedata
from collections.abc import Iterator
from pathlib import Path

from evidencekit.case.inventory import is_evidence_folder
from evidencekit.case.load import CASE_FILE_NAMES
from evidencekit.errors import OutputError
from evidencekit.fsutil import (
    disk_full_error,
    is_disk_full,
    is_inside,
    refuse_special,
    resolve_output_path,
    write_atomically,
)
from evidencekit.model import Target


@contextlib.contextmanager
def work_folder() -> Iterator[str]:
    """The private work folder in TMPDIR that holds the rendered dossier until it is published.

    Removed on success, on any error, on Ctrl-C and on SIGTERM (the CLI turns SIGTERM into an
    exception, see cli/common.py). A full TMPDIR is an output problem (exit 5), not a crash."""
    try:
        with tempfile.TemporaryDirectory(prefix="evidencekit-") as work:
            yield work
    except OSError as exc:
        if is_disk_full(exc):
            raise disk_full_error(tempfile.gettempdir(), exc, "临时文件") from exc
        raise


def resolve_output(root: Path, output: Path | None, target: Target) -> Path:
    """The absolute output path (see :func:`fsutil.resolve_output_path`)."""
    if output is None:
        name = "dossier.pdf" if target == Target.GENERAL else f"dossier-{target}.pdf"
        return root.resolve() / name
    return resolve_output_path(root, output, "输出文件")


def refuse_inside_evidence(out: Path, root: Path, what: str) -> None:
    """Refuse an output path in an evidence folder of the case: evidence/, 证据/ in any letter
    case, existing or not (the next build would walk it), and wherever a link among them points.
    ``build`` and ``pack`` both ask here."""
    case_root = root.resolve()
    folders: list[tuple[str, Path]] = []
    with contextlib.suppress(OSError), os.scandir(case_root) as entries:
        for entry in entries:
            if is_evidence_folder(entry.name):
                folders += [(entry.name, case_root / entry.name), (entry.name, Path(os.path.realpath(entry.path)))]
    if is_inside(out, case_root) and out != case_root:
        first = out.relative_to(case_root).parts[0]
        if is_evidence_folder(first):
            folders.append((first, case_root / first))
    for name, folder in folders:
        if is_inside(out, folder):
            raise OutputError(f"{what} {out} 位于 {name}/ 证据文件夹内；证据文件夹只放原件",
                              hint="用 -o 指定证据文件夹以外的位置")


def check_output(output: Path, root: Path, force: bool) -> None:
    """Refuse an output path we must not write, before any work is done."""
    refuse_inside_evidence(output, root, "输出文件")
    case_root = root.resolve()
    if is_inside(output, case_root) and output != case_root:
        parts = [unicodedata.normalize("NFC", p).casefold() for p in output.relative_to(case_root).parts]
        if len(parts) == 1 and parts[0] in CASE_FILE_NAMES:
            raise OutputError(f"输出文件 {output} 是案件文件 {output.name}，不能用证据材料覆盖它",
                              hint="用 -o 指定一个 .pdf 文件名")
    if os.path.isdir(output) and not os.path.islink(output):
        raise OutputError(f"输出路径 {output} 是一个文件夹", hint="用 -o 指定一个 .pdf 文件名")
    exists = refuse_special(output, "输出文件")  # a link or a device is refused even with --force
    if exists and not force:
        raise OutputError(f"输出文件 {output} 已存在", hint="加 --force 覆盖，或用 -o 指定另一个文件名")
    check_parent(output, "输出文件")


def check_parent(out: Path, what: str) -> None:
    """Refuse ``out`` (``build``'s file, ``pack``'s folder) when the folder it goes in is missing
    or not writable."""
    parent = out.parent
    if not parent.is_dir():
        raise OutputError(f"{what} {out} 所在的文件夹 {parent} 不存在", hint="先创建该文件夹，或用 -o 指定另一个位置")
    if not os.access(parent, os.W_OK):
        raise OutputError(f"没有写入 {parent} 的权限", hint="用 -o 指定一个可写的位置")


def publish(src: Path, output: Path, force: bool) -> None:
    """Move the finished file into place atomically: the only write to the user's path."""
    if refuse_special(output, "输出文件") and not force:
        raise OutputError(f"输出文件 {output} 已存在", hint="加 --force 覆盖")
    write_atomically(output, src, what="输出文件")
