"""The workspace a server was started on, and the one way a case name becomes a folder."""

from __future__ import annotations

import stat
from dataclasses import dataclass
from pathlib import Path

from evidencekit.channels.batch import is_case_folder
from evidencekit.errors import NoSuchCase


@dataclass(frozen=True)
class Workspace:
    root: Path  # absolute

    def case_names(self) -> list[str]:
        """Direct, non-hidden subfolders that are case folders (links are never followed)."""
        names = []
        try:
            children = sorted(self.root.iterdir(), key=lambda p: p.name)
        except OSError:
            return []
        for child in children[:MAX_CASES]:
            if child.name.startswith(".") or child.is_symlink():
                continue
            if is_case_folder(child):
                names.append(child.name)
        return names

    def case_root(self, name: str) -> Path:
        """The case folder called ``name``; NoSuchCase for anything else (paths, links, dots)."""
        if not name or name in {".", ".."} or "/" in name or "\\" in name or "\0" in name or name.startswith("."):
            raise NoSuchCase(f"没有名为 {name} 的案件")
        path = self.root / name
        try:
            mode = path.lstat().st_mode
        except OSError:
            raise NoSuchCase(f"没有名为 {name} 的案件") from None
        if not stat.S_ISDIR(mode) or not is_case_folder(path):
            raise NoSuchCase(f"没有名为 {name} 的案件")
        return path


MAX_CASES = 2000  # a workspace folder with more entries than this is only partly listed
