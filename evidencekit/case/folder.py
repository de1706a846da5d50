"""Creating a case folder (`init`) and copying evidence into it (`add`).

Source files are only ever read: `add` copies (keeping the modification time, which may be the
only time a file carries) and never moves or edits what the user pointed at.
"""

from __future__ import annotations

import os
import unicodedata
from pathlib import Path

from evidencekit.case.edit import number_added_files
from evidencekit.case.load import render_case_template
from evidencekit.errors import CaseFileError, CaseFolderError, OutputError
from evidencekit.fsutil import case_lock, make_dirs, refuse_special, sha256_file, write_atomically
from evidencekit.model import EvidenceKind

EVIDENCE_FOLDERS = tuple(kind.value for kind in EvidenceKind)


def create_case_folder(root: Path, answers: dict[str, str], *, force: bool = False) -> Path:
    case_file = root / "case.yaml"
    if os.path.lexists(case_file) and not force:
        raise OutputError(f"{case_file} 已存在", hint="不加 --no-input 运行可以只补问缺少的项目；加 --force 覆盖，或换一个文件夹")
    if root.exists() and not root.is_dir():
        raise OutputError(f"{root} 已存在且不是文件夹")
    refuse_special(case_file, "案件文件")  # a planted link is never written through, even with --force
    try:
        root.mkdir(parents=True, exist_ok=True)  # the folder the user named (their links are theirs)
    except OSError as exc:
        raise OutputError(f"无法创建案件文件夹 {root}：{exc.strerror}") from exc
    ensure_evidence_folders(root)
    write_atomically(case_file, render_case_template(answers).encode("utf-8"), what="案件文件", root=root)
    return root


def ensure_evidence_folders(root: Path) -> None:
    """The evidence/ subfolder of every kind (those already there are left as they are)."""
    for name in EVIDENCE_FOLDERS:
        make_dirs(root / "evidence" / name, root, what="证据文件夹")


def _sha256(path: Path) -> str:
    # Follows a link only where one is allowed: a source the user named (a destination that is
    # a link is refused before it is hashed).
    return sha256_file(path, what="文件", follow_links=True)


def add_files(root: Path, files: list[Path], kind: str, *, title: str = "", proves: str = ""
              ) -> dict[str, int | None]:
    """Copy ``files`` into evidence/<kind>/; return their case-relative paths, each with the
    exhibit number recorded for it (None in a case no build has numbered yet)."""
    if not root.is_dir():
        raise CaseFolderError(f"案件文件夹 {root} 不存在", hint=f"先运行 evidencekit init {root}")
    target_dir = root / "evidence" / kind
    for f in files:
        if not f.is_file():
            raise CaseFolderError(f"要添加的文件 {f} 不存在或不是普通文件")
    make_dirs(target_dir, root, what="证据文件夹")
    # Under the case lock: two `add` calls choosing the same free name must not overwrite each other.
    with case_lock(root, error=CaseFolderError):
        return _add_locked(root, target_dir, files, kind, title=title, proves=proves)


def _add_locked(root: Path, target_dir: Path, files: list[Path], kind: str, *, title: str, proves: str
                ) -> dict[str, int | None]:
    copied: list[str] = []
    for f in files:
        name = unicodedata.normalize("NFC", f.name)
        dest = target_dir / name
        digest = _sha256(f)
        n = 2
        # A link or a device already at a name is refused, never followed (nor hashed: /dev/zero).
        while refuse_special(dest, "证据文件"):
            if _sha256(dest) == digest:
                break  # the same file is already in the case
            dest = target_dir / f"{Path(name).stem}-{n}{Path(name).suffix}"
            n += 1
        if not os.path.lexists(dest):
            # The copy keeps the source's times: sometimes the only time a file has.
            write_atomically(dest, f, what="证据文件", root=root, times_from=f)
        copied.append(dest.relative_to(root).as_posix())
    try:
        numbers = number_added_files(root, [(rel, kind, title, proves) for rel in copied])
    except CaseFileError:
        if title or proves:
            raise
        numbers = {}  # nothing was asked of case.yaml; the build that reads it reports its problem
    return {rel: numbers.get(rel) for rel in copied}
