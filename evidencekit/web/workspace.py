"""The workspace a server was started on, and the one way a case name becomes a folder.

Two shapes, decided once when the server starts (``Workspace.open``):

- a folder holding case folders (the usual ``evidencekit serve 案件``): every direct, non-hidden
  subfolder that is a case is listed, and new cases are created directly inside it;
- a folder that is itself a case (``evidencekit serve 我的案件``): that one case is shown, as the
  shopper expects, and no new case is created beside it (its parent may be their Downloads).
"""

from __future__ import annotations

import itertools
import os
import stat
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from flask import current_app

from evidencekit.case.inventory import has_evidence_folder
from evidencekit.case.load import CASE_FILE_NAMES
from evidencekit.errors import NoSuchCase

MAX_CASES = 2000  # a workspace folder with more entries than this is only partly listed
MAX_NAME_CHARS = 80  # a case name longer than this is cut (folder names have a 255-byte limit)

# Characters no case name keeps: path separators, and those Windows refuses in folder names
# (a case folder is often zipped and sent to a volunteer on Windows).
_REFUSED_CHARS = frozenset('/\\:*?"<>|')


def is_case_folder(path: Path) -> bool:
    """What `batch` counts as a case (channels.batch.is_case_folder, which loads the whole build
    pipeline: too slow for serve's start); a test keeps the two the same."""
    return path.is_dir() and (any((path / name).is_file() for name in CASE_FILE_NAMES) or has_evidence_folder(path))


@dataclass(frozen=True)
class Workspace:
    root: Path  # absolute: the folder case names are looked up in
    only: str = ""  # the one case shown when the server was started on a case folder

    @classmethod
    def open(cls, folder: Path) -> Workspace:
        """The workspace for ``folder``: itself a case folder → that case alone."""
        folder = Path(os.path.abspath(folder))
        if is_case_folder(folder):
            # The folder the user named may be their own link: the case is where it leads.
            real = Path(os.path.realpath(folder))
            if real.parent != real:
                return cls(real.parent, only=real.name)
        return cls(folder)

    @property
    def single_case(self) -> bool:
        return bool(self.only)

    def case_names(self) -> list[str]:
        """Direct, non-hidden subfolders that are case folders (links are never followed)."""
        if self.only:
            return [self.only]
        try:
            with os.scandir(self.root) as entries:
                children = sorted(itertools.islice(entries, MAX_CASES), key=lambda e: e.name)
        except OSError:
            return []
        names = []
        for child in children:
            if child.name.startswith(".") or child.is_symlink() or not child.is_dir(follow_symlinks=False):
                continue
            if is_case_folder(Path(child.path)):
                names.append(child.name)
        return names

    def case_root(self, name: str) -> Path:
        """The case folder called ``name``; NoSuchCase for anything else (paths, links, dots)."""
        if (not name or name.startswith(".") or "\0" in name or any(c in _REFUSED_CHARS for c in name)
                or (self.only and name != self.only)):
            raise NoSuchCase(f"没有名为 {name} 的案件")
        path = self.root / name
        try:
            mode = path.lstat().st_mode
        except (OSError, ValueError):
            raise NoSuchCase(f"没有名为 {name} 的案件") from None
        if not stat.S_ISDIR(mode) or not is_case_folder(path):
            raise NoSuchCase(f"没有名为 {name} 的案件")
        return path

    def public_text(self, text: str) -> str:
        """``text`` with this machine's path to the workspace taken out (messages shown in the page)."""
        for prefix in dict.fromkeys((str(self.root) + os.sep, str(self.root))):
            text = text.replace(prefix, "")
        return text


def clean_case_name(raw: str) -> str:
    """A folder name from what the shopper typed: NFC, no controls, no path or Windows-refused
    characters (each becomes "_"), no leading dots or blanks, at most MAX_NAME_CHARS; "" when
    nothing usable is left."""
    text = unicodedata.normalize("NFC", raw)
    kept = []
    for char in text[: MAX_NAME_CHARS * 4]:
        if unicodedata.category(char)[0] == "C":  # controls, format (bidi) and unassigned characters
            continue
        kept.append("_" if char in _REFUSED_CHARS else char)
    name = " ".join("".join(kept).split())  # runs of blanks become one space, none at the ends
    name = name.lstrip(". ")[:MAX_NAME_CHARS].rstrip(". ")
    return "" if name in ("", ".", "..") or set(name) <= {"_", " "} else name


def current_workspace() -> Workspace:
    """The workspace of the app serving this request."""
    workspace: Workspace = current_app.config["EK_WORKSPACE"]
    return workspace


def case_root(name: str) -> Path:
    """The case folder a URL names (Workspace.case_root; NoSuchCase is the app's 404 page)."""
    return current_workspace().case_root(name)
