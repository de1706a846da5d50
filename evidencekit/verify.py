"""Check a dossier: does every file the manifest lists still have the hash it had at build time?

The manifest attached to the PDF is the reference. Its SHA-256 is the fingerprint printed on
the cover, so a reader who compares the two knows the manifest is the one the dossier was built
with; we also compare it with the copies we can read mechanically (the cover text and the PDF's
document properties), which catches a manifest swapped without redrawing the cover.

Files are checked either inside the PDF (the attached originals) or in a folder the user names
(``--originals``): a case folder copied from a phone, a Mac or a zip. There, a file is found by
its recorded path, and failing that anywhere by its bytes, so a renamed or moved original still
counts as unchanged (the claim is about content); a file that is at its path, or has its name,
but not its bytes has changed. Names are compared in NFC, because a folder copied from macOS
comes back in NFD.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from evidencekit.errors import VerificationFailed
from evidencekit.manifest import MANIFEST_NAME, fingerprint, parse_manifest
from evidencekit.tsa import (
    TOKEN_ATTACHMENT_NAME,
    TokenFileRefused,
    TokenResult,
    inspect_token,
    read_token_file,
    token_path_for,
    verify_token,
)

_CHUNK = 1024 * 1024
_EVIDENCE_FOLDERS = ("evidence", "证据")  # as inventory.EVIDENCE_FOLDER_NAMES
# Never evidence, never reported as extra: OS litter, the case file, our own outputs.
_IGNORED_NAMES = frozenset({".ds_store", "thumbs.db", "ehthumbs.db", "desktop.ini", ".gitkeep", ".localized",
                            "case.yaml"})
_FINGERPRINT_KEY = "/EvidencekitFingerprint"

NOT_EVIDENCEKIT = "这不是 evidencekit 生成的证据材料，或清单已被删除"


class FileStatus(StrEnum):
    """Per-file outcome; the value is a stable machine id, ``label`` is what users read."""

    MATCH = "match"
    CHANGED = "changed"
    MISSING = "missing"
    NOT_ATTACHED = "not_attached"  # the PDF carries no originals at all (over the size budget)
    EXTRA = "extra"

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def fails(self) -> bool:
        return self in (FileStatus.CHANGED, FileStatus.MISSING)


_LABELS = {
    FileStatus.MATCH: "一致",
    FileStatus.CHANGED: "已改变",
    FileStatus.MISSING: "缺失",
    FileStatus.NOT_ATTACHED: "未附原件",
    FileStatus.EXTRA: "多余",
}


@dataclass(frozen=True)
class FileCheck:
    status: FileStatus
    name: str  # manifest name; for an extra file its path relative to the folder checked
    path: str = ""  # the manifest's path, e.g. "evidence/order/a.png"
    exhibit: int | None = None
    expected_sha256: str = ""
    actual_sha256: str = ""
    found_at: str = ""  # attachment name, or path relative to the --originals folder
    note: str = ""  # Chinese

    @property
    def label(self) -> str:
        """``证据03 IMG_1234.jpg`` (or just the path of an extra file)."""
        return f"证据{self.exhibit:02d} {self.name}" if self.exhibit is not None else self.name

    def to_json(self) -> dict[str, Any]:
        return {
            "exhibit": self.exhibit,
            "name": self.name,
            "path": self.path,
            "status": self.status.value,
            "status_label": self.status.label,
            "expected_sha256": self.expected_sha256 or None,
            "actual_sha256": self.actual_sha256 or None,
            "found_at": self.found_at or None,
            "note": self.note or None,
        }


@dataclass(frozen=True)
class VerifyReport:
    pdf: Path
    fingerprint: str  # SHA-256 of the attached manifest: compare with the cover
    case_id: str
    generated_at: str
    tool_version: str
    source: str  # "attachments" | "originals"
    originals: Path | None
    files: tuple[FileCheck, ...]
    problems: tuple[str, ...] = ()  # failures not tied to one file (fingerprint, token, extra attachments)
    notices: tuple[str, ...] = ()  # worth reading, not a failure
    token: TokenResult | None = None
    token_source: str = ""
    cover_fingerprint: str | None = None  # as read from the cover, when it could be read
    checks: tuple[str, ...] = field(default=())  # what matched beyond the files, for the report

    @property
    def failed_files(self) -> tuple[FileCheck, ...]:
        return tuple(f for f in self.files if f.status.fails)

    @property
    def ok(self) -> bool:
        return not self.problems and not self.failed_files

    def count(self, status: FileStatus) -> int:
        return sum(1 for f in self.files if f.status is status)

    @property
    def summary(self) -> str:
        """One or two Chinese sentences: the verdict, naming what failed."""
        listed = sum(1 for f in self.files if f.status is not FileStatus.EXTRA)
        where = "PDF 内嵌的原件" if self.source == "attachments" else f"文件夹 {self.originals} 中的原件"
        if self.ok:
            if self.count(FileStatus.NOT_ATTACHED) and not self.count(FileStatus.MATCH):
                head = (f"未核对原件：{listed} 份原件没有附在 PDF 内。"
                        "请加 --originals 指定原件所在的文件夹再核对一次")
            else:
                head = f"校验通过：{where}共 {self.count(FileStatus.MATCH)} 份，与清单记录的 SHA-256 全部一致"
            extra = self.count(FileStatus.EXTRA)
            if extra:
                head += f"；另有 {extra} 个清单以外的文件（不影响结论）"
            return head + "。"
        parts = []
        changed = [f.label for f in self.files if f.status is FileStatus.CHANGED]
        missing = [f.label for f in self.files if f.status is FileStatus.MISSING]
        if changed:
            parts.append(f"{len(changed)} 份已改变（{'、'.join(changed)}）")
        if missing:
            parts.append(f"{len(missing)} 份缺失（{'、'.join(missing)}）")
        parts.extend(self.problems)
        return "校验未通过：" + "；".join(parts) + "。"

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "pdf": str(self.pdf),
            "fingerprint": self.fingerprint,
            "cover_fingerprint": self.cover_fingerprint,
            "case_id": self.case_id,
            "generated_at": self.generated_at,
            "tool_version": self.tool_version,
            "source": self.source,
            "originals": str(self.originals) if self.originals else None,
            "files": [f.to_json() for f in self.files],
            "problems": list(self.problems),
            "notices": list(self.notices),
            "token": self.token.to_json() if self.token else None,
            "token_source": self.token_source or None,
            "summary": self.summary,
        }


# ---------------------------------------------------------------------------------------------
# Entry points
# ---------------------------------------------------------------------------------------------


def verify_dossier(pdf: Path, originals: Path | None = None, *, ca_pem: bytes | None = None) -> VerifyReport:
    """Re-check every hash the manifest records; with ``ca_pem`` also the RFC 3161 token.

    Raises ``VerificationFailed`` only when there is nothing to check against (not a PDF, no
    manifest); every mismatch is a row in the report, so all of them are shown at once.
    """
    with _open_pdf(pdf) as doc:
        attachments = _attachments(doc)
        manifest = attachments.get(MANIFEST_NAME)
        if manifest is None:
            raise VerificationFailed(NOT_EVIDENCEKIT,
                                     hint=f"evidencekit 生成的 PDF 内嵌有名为 {MANIFEST_NAME} 的附件。")
        manifest_bytes = manifest.read_bytes()
        info_fingerprints = _info_fingerprints(doc)
        attached_token = attachments.get(TOKEN_ATTACHMENT_NAME)
        token_bytes_inside = attached_token.read_bytes() if attached_token else None
        doc_manifest = _parse(manifest_bytes)
        fp = fingerprint(manifest_bytes)
        problems: list[str] = []
        notices: list[str] = []
        checks: list[str] = []
        _check_info(info_fingerprints, fp, problems, checks)
        if originals is None:
            files = _check_attachments(doc_manifest, attachments, problems, notices)
        else:
            files = _check_folder(doc_manifest, originals, pdf)
    cover = _cover_fingerprint(pdf, fp)
    if cover is None:
        notices.append("未能从封面读出材料指纹，请人工核对封面上的「材料指纹」与上面的指纹是否相同")
    elif cover != fp:
        problems.append(f"封面上的材料指纹（{cover}）与 PDF 内的清单不符：清单被替换过")
    else:
        checks.append("封面上的材料指纹与清单一致")
    token, token_source = _check_token(pdf, token_bytes_inside, manifest_bytes, ca_pem, problems, notices)
    return VerifyReport(
        pdf=pdf,
        fingerprint=fp,
        case_id=str(doc_manifest.get("case_id", "")),
        generated_at=str(doc_manifest.get("generated_at", "")),
        tool_version=str(doc_manifest.get("tool_version", "")),
        source="attachments" if originals is None else "originals",
        originals=originals,
        files=tuple(files),
        problems=tuple(problems),
        notices=tuple(notices),
        token=token,
        token_source=token_source,
        cover_fingerprint=cover,
        checks=tuple(checks),
    )


def read_manifest(pdf: Path) -> bytes:
    """The manifest JSON attached to a dossier, exactly as attached (its SHA-256 is the fingerprint)."""
    with _open_pdf(pdf) as doc:
        manifest = _attachments(doc).get(MANIFEST_NAME)
        if manifest is None:
            raise VerificationFailed(NOT_EVIDENCEKIT,
                                     hint=f"evidencekit 生成的 PDF 内嵌有名为 {MANIFEST_NAME} 的附件。")
        data = manifest.read_bytes()
    _parse(data)
    return data


# ---------------------------------------------------------------------------------------------
# The PDF side
# ---------------------------------------------------------------------------------------------


class _Attachment:
    """An embedded file, read only when asked (originals may be tens of megabytes)."""

    def __init__(self, name: str, spec: Any) -> None:
        self.name = name
        self._spec = spec

    def read_bytes(self) -> bytes:
        return bytes(self._spec.get_file().read_bytes())


def _open_pdf(pdf: Path) -> Any:
    import pikepdf

    try:
        return pikepdf.open(pdf)
    except FileNotFoundError as exc:
        raise VerificationFailed(f"找不到文件：{pdf}") from exc
    except pikepdf.PasswordError as exc:
        raise VerificationFailed(f"{pdf} 有密码保护，无法核对", hint=NOT_EVIDENCEKIT + "？evidencekit 不加密。") from exc
    except (pikepdf.PdfError, OSError) as exc:
        raise VerificationFailed(f"{pdf} 不是可以读取的 PDF 文件（{exc}）", hint=NOT_EVIDENCEKIT + "。") from exc


def _attachments(doc: Any) -> dict[str, _Attachment]:
    found: dict[str, _Attachment] = {}
    for name, spec in doc.attachments.items():
        found[unicodedata.normalize("NFC", str(name))] = _Attachment(str(name), spec)
    return found


def _parse(manifest: bytes) -> dict[str, Any]:
    try:
        doc = parse_manifest(manifest)
    except (ValueError, UnicodeDecodeError) as exc:
        raise VerificationFailed(f"PDF 内的清单 {MANIFEST_NAME} 已损坏，无法核对", hint=NOT_EVIDENCEKIT + "。") from exc
    for entry in doc["files"]:
        if not isinstance(entry, dict) or not isinstance(entry.get("sha256"), str):
            raise VerificationFailed(f"PDF 内的清单 {MANIFEST_NAME} 格式不对（文件条目缺少 sha256）")
    return doc


def _info_fingerprints(doc: Any) -> list[str]:
    """Fingerprints written into the document properties (Keywords ``sha256:…``, or our own key)."""
    found: list[str] = []
    try:
        info = doc.docinfo
        own = info.get(_FINGERPRINT_KEY)
        if own is not None:
            found.append(str(own).strip().lower())
        keywords = info.get("/Keywords")
        if keywords is not None:
            found += [m.lower() for m in re.findall(r"sha256:([0-9a-fA-F]{64})", str(keywords))]
    except Exception:  # an unreadable info dictionary tells us nothing either way
        return []
    return found


def _check_info(found: list[str], fp: str, problems: list[str], checks: list[str]) -> None:
    if not found:
        return
    if any(f != fp for f in found):
        problems.append("PDF 文档属性中记录的材料指纹与 PDF 内的清单不符：清单被替换过")
    else:
        checks.append("文档属性中的材料指纹与清单一致")


def _cover_fingerprint(pdf: Path, fp: str) -> str | None:
    """The fingerprint as printed on page 1, or None when the text cannot be read.

    Text extraction breaks lines and may insert spaces, so whitespace is dropped before looking.
    """
    try:
        import pypdfium2 as pdfium

        doc = pdfium.PdfDocument(str(pdf))
        try:
            page = doc[0]
            textpage = page.get_textpage()
            text = textpage.get_text_range()
            textpage.close()
            page.close()
        finally:
            doc.close()
    except Exception:  # a cover we cannot read is a notice, never a crash
        return None
    flat = re.sub(r"\s+", "", str(text)).lower()
    if fp in flat:
        return fp
    match = re.search(r"sha-?256[:：]?([0-9a-f]{64})(?![0-9a-f])", flat)
    return match.group(1) if match else None


def _check_attachments(
    manifest: dict[str, Any], attachments: dict[str, _Attachment], problems: list[str], notices: list[str]
) -> list[FileCheck]:
    entries = manifest["files"]
    expected = {_attachment_name(e): e for e in entries}
    originals_inside = [a for n, a in attachments.items() if n in expected]
    rows: list[FileCheck] = []
    if entries and not originals_inside:
        # The build leaves originals out as a whole when they exceed the size budget.
        notices.append("PDF 内没有附原件（生成时原件总大小超过上限）；只核对了清单本身。"
                       "请加 --originals 指定原件所在的文件夹（案件文件夹或其 evidence/）再核对")
        for e in entries:
            rows.append(_row(e, FileStatus.NOT_ATTACHED, note="PDF 内未附原件"))
    else:
        for name, e in expected.items():
            att = attachments.get(name)
            if att is None:
                rows.append(_row(e, FileStatus.MISSING, note=f"PDF 内缺少附件 {name}"))
                continue
            actual = hashlib.sha256(att.read_bytes()).hexdigest()
            status = FileStatus.MATCH if actual == e["sha256"].lower() else FileStatus.CHANGED
            rows.append(_row(e, status, actual=actual, found_at=att.name))
    known = {*expected, MANIFEST_NAME, TOKEN_ATTACHMENT_NAME}
    for name in sorted(set(attachments) - known):
        # Someone added a file the manifest does not vouch for; a reader could take it for an exhibit.
        rows.append(FileCheck(FileStatus.EXTRA, name, found_at=name, note="清单中没有此附件"))
        problems.append(f"PDF 内有清单以外的附件「{name}」：生成之后被加入过")
    return rows


def _attachment_name(entry: dict[str, Any]) -> str:
    # Same rule as attach.attachment_name, computed from the manifest instead of an Exhibit.
    return unicodedata.normalize("NFC", f"证据{int(entry.get('exhibit') or 0):02d}_{entry.get('name', '')}")


def _row(entry: dict[str, Any], status: FileStatus, *, actual: str = "", found_at: str = "",
         note: str = "") -> FileCheck:
    exhibit = entry.get("exhibit")
    return FileCheck(
        status=status,
        name=unicodedata.normalize("NFC", str(entry.get("name", ""))),
        path=unicodedata.normalize("NFC", str(entry.get("path", ""))),
        exhibit=int(exhibit) if isinstance(exhibit, int) else None,
        expected_sha256=str(entry["sha256"]).lower(),
        actual_sha256=actual,
        found_at=found_at,
        note=note,
    )


# ---------------------------------------------------------------------------------------------
# The folder side (--originals)
# ---------------------------------------------------------------------------------------------


class _Folder:
    """Regular files under a folder, by NFC relative path, hashed lazily and at most once."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.files: dict[str, Path] = dict(_walk(root))
        self.by_name: dict[str, list[str]] = {}
        for rel in self.files:
            self.by_name.setdefault(rel.rsplit("/", 1)[-1], []).append(rel)
        self._hashes: dict[str, str | None] = {}

    def sha256(self, rel: str) -> str | None:
        if rel not in self._hashes:
            self._hashes[rel] = _hash_file(self.files[rel])
        return self._hashes[rel]

    def find_hash(self, digest: str, prefer: list[str]) -> str | None:
        for rel in [*prefer, *self.files]:
            if rel in self.files and self.sha256(rel) == digest:
                return rel
        return None


def _check_folder(manifest: dict[str, Any], originals: Path, pdf: Path) -> list[FileCheck]:
    if not originals.is_dir():
        raise VerificationFailed(f"原件文件夹不存在或不是文件夹：{originals}")
    folder = _Folder(originals)
    used: set[str] = set()
    rows: list[FileCheck] = []
    for e in manifest["files"]:
        digest = str(e["sha256"]).lower()
        path = unicodedata.normalize("NFC", str(e.get("path", "")))
        name = unicodedata.normalize("NFC", str(e.get("name", "")))
        at_path = [c for c in _path_candidates(path) if c in folder.files]
        named = [r for r in folder.by_name.get(name, []) if r not in at_path]
        hit = folder.find_hash(digest, at_path + named)
        if hit is not None:
            used.add(hit)
            moved = "" if hit in at_path else "文件名或位置与清单不同，内容一致"
            rows.append(_row(e, FileStatus.MATCH, actual=digest, found_at=hit, note=moved))
            continue
        candidates = at_path or named
        if not candidates:
            rows.append(_row(e, FileStatus.MISSING, note=f"在 {originals} 中找不到此文件（按路径、文件名和内容都找过）"))
            continue
        candidate = candidates[0]
        used.add(candidate)
        actual = folder.sha256(candidate)
        if actual is None:
            rows.append(_row(e, FileStatus.MISSING, found_at=candidate, note="文件存在但无法读取（权限）"))
        else:
            rows.append(_row(e, FileStatus.CHANGED, actual=actual, found_at=candidate,
                             note="同名文件的内容与生成证据材料时不同"))
    refused = {unicodedata.normalize("NFC", str(r.get("path", ""))) for r in manifest.get("refused", [])
               if isinstance(r, dict)}
    refused |= {c for r in list(refused) for c in _path_candidates(r)}
    for rel in sorted(_extra_scope(folder, originals)):
        if rel in used or rel in refused or _ignorable(rel, pdf, originals):
            continue
        rows.append(FileCheck(FileStatus.EXTRA, rel, found_at=rel, actual_sha256=folder.sha256(rel) or "",
                              note="清单中没有此文件（可能是生成证据材料之后才放进来的）"))
    return rows


def _path_candidates(path: str) -> list[str]:
    """The manifest path relative to a case folder, and the same path relative to its evidence/."""
    out = [path]
    head, _, rest = path.partition("/")
    if rest and unicodedata.normalize("NFC", head).casefold() in _EVIDENCE_FOLDERS:
        out.append(rest)
    return out


def _extra_scope(folder: _Folder, originals: Path) -> list[str]:
    """Where extra files count: the evidence folder(s) of a case folder, else the whole folder."""
    heads = {rel.split("/", 1)[0] for rel in folder.files if "/" in rel}
    evidence_heads = {h for h in heads if h.casefold() in _EVIDENCE_FOLDERS}
    if evidence_heads:
        return [rel for rel in folder.files if rel.split("/", 1)[0] in evidence_heads]
    return list(folder.files)


def _ignorable(rel: str, pdf: Path, originals: Path) -> bool:
    name = rel.rsplit("/", 1)[-1]
    low = name.casefold()
    if low in _IGNORED_NAMES or name.startswith("._"):
        return True
    if low.startswith("dossier") and low.endswith(".pdf"):
        return True
    if low.endswith(".pdf.tsr"):
        return True
    try:  # the dossier being verified may sit inside the folder it is checked against
        return (originals / rel).resolve() == pdf.resolve()
    except OSError:
        return False


def _walk(root: Path) -> Iterator[tuple[str, Path]]:
    """Regular files only, links not followed: a stranger's folder may link to /dev/zero."""
    stack: list[tuple[Path, str]] = [(root, "")]
    while stack:
        folder, prefix = stack.pop()
        try:
            with os.scandir(folder) as it:
                entries = list(it)
        except OSError:
            continue
        for entry in entries:
            rel = prefix + unicodedata.normalize("NFC", entry.name)
            try:
                mode = entry.stat(follow_symlinks=False).st_mode
            except OSError:
                continue
            if stat.S_ISDIR(mode):
                stack.append((Path(entry.path), rel + "/"))
            elif stat.S_ISREG(mode):
                yield rel, Path(entry.path)


def _hash_file(path: Path) -> str | None:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(_CHUNK):
                digest.update(chunk)
    except OSError:
        return None
    return digest.hexdigest()


# ---------------------------------------------------------------------------------------------
# The timestamp token
# ---------------------------------------------------------------------------------------------


def _check_token(
    pdf: Path, inside: bytes | None, manifest: bytes, ca_pem: bytes | None, problems: list[str], notices: list[str]
) -> tuple[TokenResult | None, str]:
    beside = token_path_for(pdf)
    # The file beside the PDF wins: it is what `evidencekit stamp` just wrote.
    if os.path.lexists(beside):  # read only a small regular file, never through a link
        try:
            data, source = read_token_file(beside), str(beside)
        except TokenFileRefused as exc:
            problems.append(f"时间戳未通过：{exc.message}")
            return None, ""
    elif inside is not None:
        data, source = inside, f"PDF 内的附件 {TOKEN_ATTACHMENT_NAME}"
    else:
        if ca_pem is not None:
            problems.append(f"指定了 --ca，但没有找到时间戳（{beside.name}，或 PDF 内的附件 {TOKEN_ATTACHMENT_NAME}）")
        return None, ""
    result = verify_token(data, manifest, ca_pem) if ca_pem is not None else inspect_token(data, manifest)
    if not result.ok:
        problems.append(f"时间戳未通过：{result.message}")
    elif not result.signature_checked:
        notices.append(result.message)
    return result, source
