"""Walk the case folder's evidence/, hash every original first, and tell its kind by folder.

Case folders come from strangers (volunteers receive them), so the walk trusts nothing: links leaving
the case folder are refused without being opened, FIFOs and devices are never opened (a FIFO
would block), and every file is opened read-only with O_NOFOLLOW/O_NONBLOCK and checked to be
a regular file *after* opening, so a file swapped for something else mid-walk is caught too.
Nothing is silently dropped: whatever is not evidence becomes a ``RefusedFile`` with a reason.
"""

from __future__ import annotations

import difflib
import errno
import itertools
import os
import stat
import unicodedata
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path

from evidencekit.errors import CaseFolderError, NotRegularError
from evidencekit.fsutil import is_inside, open_keeping_atime, sha256_fd
from evidencekit.model import (
    SHANGHAI,
    EvidenceKind,
    FileIdentity,
    Finding,
    RefusedFile,
    Severity,
    SourceFile,
)
from evidencekit.rules.catalog import kind_for_folder as lookup
from evidencekit.rules.catalog import load_rules

EVIDENCE_FOLDER_NAMES = ("evidence", "证据")

# Files operating systems drop into folders; not evidence, but listed so nothing vanishes.
_JUNK_NAMES = frozenset({".ds_store", "thumbs.db", "ehthumbs.db", "desktop.ini", ".gitkeep", ".localized"})
JUNK_REASON = "系统生成的隐藏文件，已忽略"
# Same words for files and folders: telling them apart would mean looking outside the folder.
LINK_OUTSIDE_REASON = "链接指向案件文件夹之外（出于安全考虑，未读取其内容）"
# The same for a folder that is not a case folder (init --from's): the folder the user gave.
LINK_OUTSIDE_GIVEN_REASON = "链接指向所给文件夹之外（出于安全考虑，未读取其内容）"
BROKEN_LINK_REASON = "链接指向的文件不存在（断开的链接），无法读取"
DUPLICATE_DIR_LINK_REASON = "文件夹链接指向已经列出的文件夹（或形成循环），已跳过以免重复"
UNREADABLE_REASON = "没有读取权限，无法读取此文件"
UNREADABLE_DIR_REASON = "没有读取权限，无法列出此文件夹中的文件"

# A stranger's folder may hold a million files or a folder chain a thousand deep: the walk reads
# at most this many entries (files, folders and refusals) and this many folder levels below
# evidence/. A real case has tens to hundreds of files, a phone export a handful of levels.
MAX_WALK_ENTRIES = 5_000
MAX_WALK_DEPTH = 32


def too_many_reason() -> str:
    return f"案件文件夹中的文件和文件夹超过 {MAX_WALK_ENTRIES:,} 个的上限：从此文件夹起未读取，请只放入本案的证据"


def too_deep_reason() -> str:
    return f"文件夹层级超过 {MAX_WALK_DEPTH} 层的上限，未读取其中的文件"


@dataclass
class WalkBudget:
    """Entries a walk may still read; shared by the walks of one scan."""

    left: int = -1  # -1: not started (MAX_WALK_ENTRIES is read when the walk begins)
    exhausted: bool = False


@dataclass(frozen=True)
class Inventory:
    """What evidence/ holds: files to exhibit, things refused (with reasons), and findings."""

    files: tuple[SourceFile, ...]
    refused: tuple[RefusedFile, ...]
    findings: tuple[Finding, ...]


def kind_for_folder(name: str) -> EvidenceKind | None:
    """The evidence kind a first-level folder name stands for, or None if it says nothing.

    The names (English, plurals, Chinese aliases) live in templates/evidence_kinds.yaml."""

    return lookup(name, load_rules())


def folder_names() -> list[str]:
    """Every folder name that tells a kind (for "did you mean" hints)."""
    return [folder.casefold() for rule in load_rules().kinds.values() for folder in rule.folders]


def scan_evidence(root: Path, tz: tzinfo = SHANGHAI) -> Inventory:
    """List, hash and classify every file under the case folder's evidence/ (or 证据/).

    Files are sorted by folder, then NFC name, so the same folder always gives the same order.
    Raises CaseFolderError when the case folder or its evidence folder cannot be used.
    """
    case_root = _check_root(root)
    walker = _Walker(case_root, tz)
    for folder in _evidence_folders(case_root):
        walker.walk(folder)
    walker.hash_pending()
    return walker.result()


# ---------------------------------------------------------------------------------------------
# The case folder itself
# ---------------------------------------------------------------------------------------------


def _check_root(root: Path) -> Path:
    root = Path(root)
    try:
        if not root.exists():
            raise CaseFolderError(f"案件文件夹不存在：{root}",
                                  hint="检查路径是否写对；可以用 evidencekit init 新建案件文件夹。")
        if not root.is_dir():
            raise CaseFolderError(f"不是文件夹：{root}", hint="请给出案件文件夹的路径，而不是其中某个文件。")
        resolved = root.resolve(strict=True)
        with os.scandir(resolved):
            pass
    except PermissionError as exc:
        raise CaseFolderError(f"没有权限读取案件文件夹：{root}", hint="检查文件夹权限后重试。") from exc
    except OSError as exc:
        raise CaseFolderError(f"无法读取案件文件夹：{root}（{exc.strerror or exc}）") from exc
    return resolved


def evidence_folder_names(folder: Path) -> list[str]:
    """The names in ``folder`` that are evidence folders (evidence/, 证据/ in any letter case and
    normalisation), evidence/ first: the order in which a walk lists them."""
    with os.scandir(folder) as entries:
        return sorted(
            (e.name for e in entries if is_evidence_folder(e.name)),
            key=lambda n: (EVIDENCE_FOLDER_NAMES.index(unicodedata.normalize("NFC", n).casefold()), n),
        )


def is_evidence_folder(name: str) -> bool:
    return unicodedata.normalize("NFC", name).casefold() in EVIDENCE_FOLDER_NAMES


def has_evidence_folder(folder: Path) -> bool:
    """Whether ``folder`` holds a folder :func:`scan_evidence` would walk (False when unreadable)."""
    try:
        return any((folder / name).is_dir() for name in evidence_folder_names(folder))
    except OSError:
        return False


def _evidence_folders(case_root: Path) -> list[Path]:
    """evidence/ and/or 证据/ (both are walked if both exist: nothing is left behind)."""
    found: list[Path] = []
    for name in evidence_folder_names(case_root):
        folder = case_root / name
        if not is_inside(Path(os.path.realpath(folder)), case_root):
            raise CaseFolderError(
                f"案件文件夹 {case_root} 中的 {name}/ 是指向案件文件夹之外的链接，出于安全考虑不予读取",
                hint="把证据文件复制到案件文件夹内的 evidence/ 文件夹中。",
            )
        if not folder.is_dir():
            continue
        try:
            with os.scandir(folder):
                pass
        except OSError as exc:
            raise CaseFolderError(f"无法读取证据文件夹：{folder}（{exc.strerror or exc}）",
                                  hint="检查文件夹权限后重试。") from exc
        found.append(folder)
    if not found:
        raise CaseFolderError(
            f"案件文件夹 {case_root} 中没有 evidence/ 文件夹",
            hint="在案件文件夹中新建 evidence/（或「证据/」）文件夹并放入证据文件；"
            "evidencekit init 可以建好全部子文件夹。",
        )
    return found


# ---------------------------------------------------------------------------------------------
# The walk
# ---------------------------------------------------------------------------------------------


def nfc_name(name: str) -> str:
    """The name as the user sees it: NFC, and GB18030 bytes (old Windows zips) decoded."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # undecodable bytes, kept by Python as lone surrogates
        raw = os.fsencode(name)
        try:
            name = raw.decode("gb18030")
        except UnicodeDecodeError:
            name = raw.decode("utf-8", "replace")
    return unicodedata.normalize("NFC", name)


_Key = tuple[tuple[str, ...], str]


@dataclass(frozen=True)
class Entry:
    """One thing a walk met: a regular file to read (``refused`` empty), or something that is
    not evidence, with the reason (a link leaving the folder, a device, OS litter, …)."""

    rel: tuple[str, ...]  # NFC names, from the walk's prefix down to this entry
    path: Path
    refused: str = ""
    target: Path | None = None  # a followed link's resolved target, checked to be inside the root

    @property
    def to_open(self) -> Path:
        """What to open (never following a link: one planted since the walk is refused)."""
        return self.target if self.target is not None else self.path


def walk_tree(start: Path, root: Path, prefix: tuple[str, ...], covered: list[str] | None = None,
              budget: WalkBudget | None = None, outside_reason: str = LINK_OUTSIDE_REASON) -> Iterator[Entry]:
    """Every file and refusal under ``start``, the one walk of a folder a stranger prepared.

    Used for a case folder's evidence/ (``scan_evidence``) and for a folder ``verify
    --originals`` checks against, so both see the same files. A link is followed only when it
    resolves inside ``root`` (decided before the target is looked at); a folder link into a
    folder already walked (``covered``: real paths, shared between walks) is refused, so a
    loop ends; FIFOs, sockets and devices are refused unopened; OS litter (``.DS_Store``,
    ``._*``, …) is refused. Depth costs no recursion: the walk keeps its own stack; it reads at
    most MAX_WALK_ENTRIES entries (``budget``, shared between walks) and MAX_WALK_DEPTH levels.
    A folder that would go over the entry limit is refused whole, and so is every folder after it.
    ``outside_reason``: the words for a link leaving ``root`` (a case folder unless told).
    """
    covered = covered if covered is not None else []
    budget = budget if budget is not None else WalkBudget()
    if budget.left < 0:
        budget.left = MAX_WALK_ENTRIES
    real = os.path.realpath(start)
    if real in covered:  # 证据/ is a link to evidence/: its files are listed already
        return
    covered.append(real)
    stack: list[tuple[Path, tuple[str, ...]]] = [(start, prefix)]
    while stack:
        folder, rel = stack.pop()
        if budget.exhausted:
            yield Entry(rel, folder, too_many_reason())
            continue
        if len(rel) - len(prefix) > MAX_WALK_DEPTH:
            yield Entry(rel, folder, too_deep_reason())
            continue
        subfolders: list[tuple[Path, tuple[str, ...]]] = []
        yield from _scan_folder(folder, rel, root, covered, subfolders, budget, outside_reason)
        stack.extend(reversed(subfolders))


def _scan_folder(folder: Path, rel: tuple[str, ...], root: Path, covered: list[str],
                 subfolders: list[tuple[Path, tuple[str, ...]]], budget: WalkBudget,
                 outside_reason: str) -> Iterator[Entry]:
    try:
        with os.scandir(folder) as it:
            listed = list(itertools.islice(it, budget.left + 1))  # never more than the limit in memory
            if len(listed) > budget.left:
                budget.exhausted = True
                yield Entry(rel, folder, too_many_reason())
                return
            budget.left -= len(listed)
            entries = sorted(listed, key=lambda e: nfc_name(e.name))
    except PermissionError:
        yield Entry(rel, folder, UNREADABLE_DIR_REASON)
        return
    except OSError as exc:
        yield Entry(rel, folder, f"无法列出此文件夹中的文件（{exc.strerror or exc}）")
        return
    for entry in entries:
        path = folder / entry.name
        entry_rel = (*rel, nfc_name(entry.name))
        if entry.name.casefold() in _JUNK_NAMES or entry.name.startswith("._"):
            yield Entry(entry_rel, path, JUNK_REASON)
            continue
        try:
            mode = entry.stat(follow_symlinks=False).st_mode
        except OSError as exc:
            yield Entry(entry_rel, path, f"无法读取（{exc.strerror or exc}）")
            continue
        link_target = None
        if stat.S_ISLNK(mode):
            target = _follow_link(path, root, outside_reason)
            if isinstance(target, str):
                yield Entry(entry_rel, path, target)
                continue
            mode = target
            link_target = Path(os.path.realpath(path))
            if stat.S_ISDIR(mode):
                real = os.path.realpath(path)
                if any(is_inside(Path(real), Path(done)) for done in covered):
                    yield Entry(entry_rel, path, DUPLICATE_DIR_LINK_REASON)
                    continue
                covered.append(real)
        if stat.S_ISDIR(mode):
            subfolders.append((path, entry_rel))
        elif stat.S_ISREG(mode):
            yield Entry(entry_rel, path, target=link_target)
        else:
            yield Entry(entry_rel, path, special_reason(mode))


def _follow_link(path: Path, root: Path, outside_reason: str) -> int | str:
    """The mode of a link's target if it may be followed, else the reason it is refused."""
    real = os.path.realpath(path)
    if not is_inside(Path(real), root):
        # Decided before any stat of the target: the answer must not depend on (and so
        # reveal) whether or what something exists outside the folder.
        return outside_reason
    try:
        return os.stat(path).st_mode
    except FileNotFoundError:
        return BROKEN_LINK_REASON
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "链接形成循环，无法读取"
        return f"无法读取链接指向的文件（{exc.strerror or exc}）"


class _Walker:
    def __init__(self, case_root: Path, tz: tzinfo) -> None:
        self.case_root = case_root
        self.tz = tz
        self.files: list[tuple[_Key, SourceFile]] = []
        self.refused: list[tuple[_Key, RefusedFile]] = []
        self.findings: list[tuple[_Key, Finding]] = []
        self.covered: list[str] = []  # real paths of directories that are (or will be) walked
        self.budget = WalkBudget()  # one entry limit for all evidence folders of the case
        # Regular files still to hash: path, what to open (a link's checked target), rel.
        self.pending: list[tuple[Path, Path, tuple[str, ...]]] = []

    def walk(self, evidence_dir: Path) -> None:
        for entry in walk_tree(evidence_dir, self.case_root, (nfc_name(evidence_dir.name),), self.covered,
                               self.budget):
            if entry.refused:
                self._refuse(entry.rel, entry.refused)
            else:
                # Hashed after the walk, several files at a time (see hash_pending).
                self.pending.append((entry.path, entry.to_open, entry.rel))

    def hash_pending(self) -> None:
        """Hash every file found. hashlib releases the GIL on large buffers, so a few threads
        read and hash side by side: about twice as fast on two cores for phone-sized files."""
        def attempt(item: tuple[Path, Path, tuple[str, ...]]) -> _Hashed | BaseException:
            try:
                return hash_file(item[1], follow_link=False)
            except (OSError, NotRegularError) as exc:
                return exc

        pending, self.pending = self.pending, []
        with ThreadPoolExecutor(max_workers=HASH_THREADS) as pool:
            outcomes = list(pool.map(attempt, pending))
        for (path, _opened, rel), outcome in zip(pending, outcomes, strict=True):
            self._record(path, rel, outcome)

    def _record(self, path: Path, rel: tuple[str, ...],
                outcome: _Hashed | BaseException) -> None:
        rel_path = "/".join(rel)
        try:
            if isinstance(outcome, BaseException):
                raise outcome
            sha256, size, st_pair = outcome
        except PermissionError:
            self._refuse(rel, UNREADABLE_REASON)
            return
        except NotRegularError as exc:
            self._refuse(rel, special_reason(exc.mode))
            return
        except OSError as exc:
            self._refuse(rel, f"无法读取此文件（{exc.strerror or exc}）")
            return
        st, after = st_pair
        if size != st.st_size or FileIdentity.of(after) != FileIdentity.of(st):
            self._note(rel, Finding(
                Severity.WARNING, "inventory.changed_while_reading",
                f"读取「{rel_path}」时文件发生了变化，请确认没有程序正在写入该文件后重新生成", rel_path,
            ))
        kind, from_folder = self._kind(rel)
        self.files.append((_sort_key(rel), SourceFile(
            rel_path=rel_path,
            path=path,
            size=size,
            sha256=sha256,
            mtime=mtime_of(st, self.tz),
            kind=kind,
            kind_from_folder=from_folder,
            identity=FileIdentity.of(st),
        )))

    def _kind(self, rel: tuple[str, ...]) -> tuple[EvidenceKind, bool]:
        rel_path = "/".join(rel)
        if len(rel) < 3:  # directly in evidence/
            self._note(rel, Finding(
                Severity.WARNING, "kind.unknown_folder",
                f"「{rel_path}」直接放在 {rel[0]}/ 中，无法从文件夹判断证据类别，已归为「其他」；"
                "请移入 order、chat 等子文件夹，或在 case.yaml 的 evidence: 中写明 kind",
                rel_path,
            ))
            return EvidenceKind.OTHER, False
        kind = kind_for_folder(rel[1])
        if kind is not None:
            return kind, True
        close = difflib.get_close_matches(rel[1].casefold(), folder_names(), n=1, cutoff=0.75)
        hint = f"（文件夹名是不是想写 {close[0]}？）" if close else ""
        self._note(rel, Finding(
            Severity.WARNING, "kind.unknown_folder",
            f"无法从文件夹「{rel[1]}」判断「{rel_path}」的证据类别，已归为「其他」{hint}；"
            "请改用 order、chat 等文件夹名（或中文 订单、聊天 等），或在 case.yaml 的 evidence: 中写明 kind",
            rel_path,
        ))
        return EvidenceKind.OTHER, False

    def _refuse(self, rel: tuple[str, ...], reason: str) -> None:
        self.refused.append((_sort_key(rel), RefusedFile("/".join(rel), reason)))

    def _note(self, rel: tuple[str, ...], finding: Finding) -> None:
        self.findings.append((_sort_key(rel), finding))

    def result(self) -> Inventory:
        files = [f for _, f in sorted(self.files, key=lambda item: item[0])]
        findings = [f for _, f in sorted(self.findings, key=lambda item: item[0])]
        seen: dict[str, int] = {}
        for f in files:
            seen[f.rel_path] = seen.get(f.rel_path, 0) + 1
        for rel_path, count in sorted(seen.items()):
            if count > 1:  # e.g. one NFC and one NFD spelling of a name, side by side on Linux
                findings.append(Finding(
                    Severity.WARNING, "inventory.duplicate_name",
                    f"有 {count} 个文件的名称都显示为「{rel_path}」（字符编码不同），"
                    "请改名以便区分，否则 case.yaml 中对它的说明会同时用于这些文件",
                    rel_path,
                ))
        return Inventory(
            files=tuple(files),
            refused=tuple(r for _, r in sorted(self.refused, key=lambda item: item[0])),
            findings=tuple(findings),
        )


def _sort_key(rel: tuple[str, ...]) -> tuple[tuple[str, ...], str]:
    # (folder components, name): a folder's own files come before its subfolders' files, and
    # folders compare part by part, never through where "/" happens to sort.
    return rel[:-1], rel[-1]


_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_BINARY", 0)
    | getattr(os, "O_NONBLOCK", 0)  # a FIFO swapped in after the check must not block us
    | getattr(os, "O_NOFOLLOW", 0)  # checked paths only: a link swapped in is not followed
)


def open_readonly(path: Path) -> int:
    return open_keeping_atime(path, _OPEN_FLAGS)


HASH_THREADS = 4

# What hashing one file gives: SHA-256, bytes read, and the fstat before and after reading.
_Hashed = tuple[str, int, tuple[os.stat_result, os.stat_result]]


def hash_file(path: Path, *, follow_link: bool = True) -> _Hashed:
    """SHA-256, bytes read and the fstat taken before and after reading, from one read-only
    descriptor (the two differ when something wrote to the file while it was hashed).

    With ``follow_link`` a link at ``path`` (one the caller checked) is opened at its resolved
    target; without, ``path`` is opened as it is, with O_NOFOLLOW: a link there, planted after a
    walk (:attr:`Entry.to_open`), is refused (ELOOP)."""
    fd = open_readonly(Path(os.path.realpath(path)) if follow_link and path.is_symlink() else path)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise NotRegularError(st.st_mode)
        sha256, _, size = sha256_fd(fd)
        after = os.fstat(fd)
    finally:
        os.close(fd)
    return sha256, size, (st, after)


def mtime_of(st: os.stat_result, tz: tzinfo) -> datetime:
    # Integer nanoseconds avoid float rounding and platform limits of fromtimestamp().
    return (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=st.st_mtime_ns // 1000)).astimezone(tz)


def special_reason(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "命名管道（FIFO）不是普通文件，未读取"
    if stat.S_ISSOCK(mode):
        return "套接字不是普通文件，未读取"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "设备文件不是普通文件，未读取"
    return "不是普通文件，未读取"
