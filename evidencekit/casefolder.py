"""Creating a case folder (`init`) and copying evidence into it (`add`).

Source files are only ever read: `add` copies (keeping the modification time, which may be the
only time a file carries) and never moves or edits what the user pointed at.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import unicodedata
from pathlib import Path

from evidencekit.errors import CaseFolderError, OutputError
from evidencekit.model import EvidenceKind

EVIDENCE_FOLDERS = tuple(kind.value for kind in EvidenceKind)


def create_case_folder(root: Path, answers: dict[str, str], *, force: bool = False) -> Path:
    from evidencekit.caseload import render_case_template

    case_file = root / "case.yaml"
    if case_file.exists() and not force:
        raise OutputError(f"{case_file} 已存在", hint="加 --force 覆盖，或换一个文件夹")
    if root.exists() and not root.is_dir():
        raise OutputError(f"{root} 已存在且不是文件夹")
    try:
        for name in EVIDENCE_FOLDERS:
            (root / "evidence" / name).mkdir(parents=True, exist_ok=True)
        text = render_case_template(answers)
        tmp = case_file.with_suffix(".yaml.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, case_file)
    except OSError as exc:
        raise OutputError(f"无法创建案件文件夹 {root}：{exc.strerror}") from exc
    return root


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1024 * 1024):
            h.update(chunk)
    return h.hexdigest()


def add_files(root: Path, files: list[Path], kind: str, *, title: str = "", proves: str = "") -> list[str]:
    """Copy ``files`` into evidence/<kind>/; return their case-relative paths."""
    if not root.is_dir():
        raise CaseFolderError(f"案件文件夹 {root} 不存在", hint=f"先运行 evidencekit init {root}")
    target_dir = root / "evidence" / kind
    for f in files:
        if not f.is_file():
            raise CaseFolderError(f"要添加的文件 {f} 不存在或不是普通文件")
    target_dir.mkdir(parents=True, exist_ok=True)
    copied: list[str] = []
    for f in files:
        name = unicodedata.normalize("NFC", f.name)
        dest = target_dir / name
        digest = _sha256(f)
        n = 2
        while dest.exists():
            if _sha256(dest) == digest:
                break  # the same file is already in the case
            dest = target_dir / f"{Path(name).stem}-{n}{Path(name).suffix}"
            n += 1
        if not dest.exists():
            tmp = dest.with_name(f".{dest.name}.tmp")
            shutil.copy2(f, tmp)  # copy2 keeps mtime: sometimes the only time a file has
            os.replace(tmp, dest)
        rel = dest.relative_to(root).as_posix()
        copied.append(rel)
        if title or proves:
            from evidencekit.casefile_edit import append_evidence

            append_evidence(root, rel, kind=kind, title=title, proves=proves)
    return copied
