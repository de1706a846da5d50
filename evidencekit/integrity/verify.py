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

The dossier is a stranger's file, so nothing in it is trusted beyond what is checked here:

- the manifest is parsed into a validated ``manifest.Manifest`` (wrong types, no files,
  non-finite numbers or deep nesting are a failure with a reason, never a crash);
- every attachment is decoded in chunks straight into SHA-256, never past the size its entry
  records nor past ``MAX_ATTACHMENT_BYTES``;
- every image a page shows must be a display copy the manifest lists. reportlab embeds a JPEG
  display copy unchanged as a ``/DCTDecode`` image XObject, so the stream's bytes (after any
  text or Flate encoding a later save added) are exactly the file ``display_sha256`` covers; an
  image with extra keys (/SMask, /Decode, …), another format, or an inline image fails;
- the file must hold one revision: an incremental update (a second xref section via /Prev or
  /XRefStm, or an earlier end-of-file marker outside any stream) fails, because a viewer shows
  the updated objects;
- the cover must show the fingerprint.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import mmap
import os
import re
import unicodedata
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from evidencekit.case.inventory import (
    evidence_folder_names,
    hash_file,
    is_evidence_folder,
    nfc_name,
    walk_tree,
)
from evidencekit.case.load import CASE_FILE_NAMES
from evidencekit.errors import ManifestError, NotRegularError, TokenFileRefused, VerificationFailed
from evidencekit.fsutil import is_inside
from evidencekit.integrity.manifest import (
    MANIFEST_NAME,
    MAX_MANIFEST_BYTES,
    Manifest,
    ManifestFile,
    fingerprint,
    parse_manifest,
)
from evidencekit.integrity.tsa import (
    MAX_TOKEN_BYTES,
    TOKEN_ATTACHMENT_NAME,
    TokenResult,
    inspect_token,
    read_token_file,
    token_path_for,
    verify_token,
)

_CHUNK = 1024 * 1024
# Limits on a dossier handed to us by a stranger (issue 9). An attachment is decoded in chunks
# and never beyond the size its manifest entry records, nor beyond this.
MAX_ATTACHMENT_BYTES = 512 * 1024 * 1024  # originals are attached within --attach-limit (default 50 MB)
MAX_IMAGE_BYTES = 64 * 1024 * 1024  # one page image (a display copy is a JPEG of a few MB)
MAX_FORM_DEPTH = 8  # nested form XObjects searched for images
MAX_CONTENT_BYTES = 32 * 1024 * 1024  # decoded drawing instructions of one page (ours: tens of KB)
MAX_REVISIONS = 64  # xref sections followed through /Prev
_FINGERPRINT_KEY = "/EvidencekitFingerprint"

NOT_EVIDENCEKIT = "这不是 evidencekit 生成的证据材料，或清单已被删除"


class FileStatus(StrEnum):
    """Per-file outcome; the value is a stable machine id, ``label`` is what users read."""

    MATCH = "match"
    CHANGED = "changed"
    MISSING = "missing"
    NOT_ATTACHED = "not_attached"  # the PDF carries no originals at all (over the size budget)
    EXTRA = "extra"
    TOO_LARGE = "too_large"  # over MAX_ATTACHMENT_BYTES: refused unread


    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def fails(self) -> bool:
        return self in (FileStatus.CHANGED, FileStatus.MISSING, FileStatus.TOO_LARGE)


_LABELS = {
    FileStatus.MATCH: "一致",
    FileStatus.CHANGED: "已改变",
    FileStatus.MISSING: "缺失",
    FileStatus.NOT_ATTACHED: "未附原件",
    FileStatus.EXTRA: "多余",
    FileStatus.TOO_LARGE: "超过上限",
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
        too_large = [f.label for f in self.files if f.status is FileStatus.TOO_LARGE]
        if changed:
            parts.append(f"{len(changed)} 份已改变（{'、'.join(changed)}）")
        if missing:
            parts.append(f"{len(missing)} 份缺失（{'、'.join(missing)}）")
        if too_large:
            parts.append(f"{len(too_large)} 份超过核对上限、未核对（{'、'.join(too_large)}）")
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


def verify_dossier(pdf: Path, originals: Path | None = None, *, ca_pem: bytes | None = None,
                   max_attachment: int | None = None) -> VerifyReport:
    """Re-check every hash the manifest records; with ``ca_pem`` also the RFC 3161 token.

    Raises ``VerificationFailed`` only when there is nothing to check against (not a PDF, no
    manifest); every mismatch is a row in the report, so all of them are shown at once.
    """
    problems: list[str] = []
    notices: list[str] = []
    checks: list[str] = []
    with _open_pdf(pdf) as doc:
        attachments = _attachments(doc)
        manifest_bytes = _manifest_bytes(attachments)
        info_fingerprints = _info_fingerprints(doc)
        attached_token = attachments.get(TOKEN_ATTACHMENT_NAME)
        token_bytes_inside = _token_bytes(attached_token, problems)
        doc_manifest = _parse(manifest_bytes)
        fp = fingerprint(manifest_bytes)
        _check_revisions(pdf, doc, problems, checks)
        _check_info(info_fingerprints, fp, problems, checks)
        try:
            _check_page_images(doc, doc_manifest, problems, notices, checks)
            cover_readable = _check_page_content(doc, problems)
        except Exception as exc:  # a page tree a stranger damaged must give a verdict, not a crash
            if isinstance(exc, VerificationFailed):
                raise
            problems.append(f"PDF 的页面结构已损坏，无法核对页面图片（{type(exc).__name__}）")
            cover_readable = False
        if originals is None:
            limit = max_attachment if max_attachment is not None else MAX_ATTACHMENT_BYTES
            files = _check_attachments(doc_manifest, attachments, problems, notices, limit)
        else:
            files = _check_folder(doc_manifest, originals, pdf)
    cover = _cover_fingerprint(pdf, fp) if cover_readable else None
    if cover is None:
        problems.append("封面上读不出材料指纹：evidencekit 生成的封面印有「材料指纹」（清单的 SHA-256），"
                        "这份 PDF 的封面被换过或被改过")
    elif cover != fp:
        problems.append(f"封面上的材料指纹（{cover}）与 PDF 内的清单不符：清单被替换过")
    else:
        checks.append("封面上的材料指纹与清单一致")
    token, token_source = _check_token(pdf, token_bytes_inside, manifest_bytes, ca_pem, problems, notices)
    return VerifyReport(
        pdf=pdf,
        fingerprint=fp,
        case_id=doc_manifest.case_id,
        generated_at=doc_manifest.generated_at,
        tool_version=doc_manifest.tool_version,
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
        data = _manifest_bytes(_attachments(doc))
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

    def streams(self) -> list[Any]:
        """The embedded file stream(s): /F and /UF may name different streams in a forged PDF."""
        ef = self._spec.obj.get("/EF")
        found: list[Any] = []
        if ef is not None:
            for key in ("/F", "/UF"):
                stream = ef.get(key)
                if stream is not None and all(stream.objgen != s.objgen or stream.objgen == (0, 0)
                                              for s in found):
                    found.append(stream)
        return found

    def read_limited(self, limit: int) -> bytes:
        """The decoded content, refused (VerificationFailed) once it would exceed ``limit`` bytes."""
        streams = self.streams()
        if not streams:
            raise VerificationFailed(f"PDF 内的附件「{self.name}」没有内容")
        out = bytearray()
        for piece in _decode_chunks(streams[0], limit):
            out += piece
        return bytes(out)


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
    """Attachments by NFC name. Two spellings of one name (NFC and NFD) are two entries in a
    viewer's list but one here, so that is refused: the one not checked could be the one read."""
    found: dict[str, _Attachment] = {}
    for name, spec in doc.attachments.items():
        key = unicodedata.normalize("NFC", str(name))
        if key in found:
            raise VerificationFailed(f"PDF 内有两个同名附件「{key}」（写法不同，显示相同）：生成之后被加入过",
                                     hint="evidencekit 生成的 PDF 中每个附件名只出现一次。请向提供者索要原始 PDF。")
        found[key] = _Attachment(str(name), spec)
    return found


def _manifest_bytes(attachments: dict[str, _Attachment]) -> bytes:
    manifest = attachments.get(MANIFEST_NAME)
    if manifest is None:
        raise VerificationFailed(NOT_EVIDENCEKIT, hint=f"evidencekit 生成的 PDF 内嵌有名为 {MANIFEST_NAME} 的附件。")
    try:
        return manifest.read_limited(MAX_MANIFEST_BYTES)
    except _DecodeError as exc:
        raise VerificationFailed(f"PDF 内的清单 {MANIFEST_NAME} 无法读取：{exc.reason}", hint=NOT_EVIDENCEKIT + "。") from exc


def _token_bytes(attached: _Attachment | None, problems: list[str]) -> bytes | None:
    if attached is None:
        return None
    try:
        return attached.read_limited(MAX_TOKEN_BYTES)
    except _DecodeError as exc:
        problems.append(f"PDF 内的时间戳附件 {TOKEN_ATTACHMENT_NAME} 无法读取：{exc.reason}")
        return None


def _parse(manifest: bytes) -> Manifest:
    try:
        return parse_manifest(manifest)
    except ManifestError as exc:
        raise VerificationFailed(f"PDF 内的清单 {MANIFEST_NAME} 已损坏或被改过，无法核对：{exc.reason}",
                                 hint=NOT_EVIDENCEKIT + "。") from exc


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
    manifest: Manifest, attachments: dict[str, _Attachment], problems: list[str], notices: list[str], limit: int
) -> list[FileCheck]:
    entries = manifest.files
    expected = {e.attachment_name: e for e in entries}
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
            rows.append(_check_one_attachment(e, att, limit))
    known = {*expected, MANIFEST_NAME, TOKEN_ATTACHMENT_NAME}
    for name in sorted(set(attachments) - known):
        # Someone added a file the manifest does not vouch for; a reader could take it for an exhibit.
        rows.append(FileCheck(FileStatus.EXTRA, name, found_at=name, note="清单中没有此附件"))
        problems.append(f"PDF 内有清单以外的附件「{name}」：生成之后被加入过")
    return rows


def _check_one_attachment(e: ManifestFile, att: _Attachment, limit: int) -> FileCheck:
    """Stream the attachment through SHA-256, never decoding past its recorded size or the limit."""
    if e.size > limit:
        return _row(e, FileStatus.TOO_LARGE, found_at=att.name,
                    note=f"清单记录的大小 {e.size} 字节超过核对上限 {limit / 1024 / 1024:g} MB，未核对"
                         "（确实需要时用 --max-attachment 放宽）")
    streams = att.streams()
    if not streams:
        return _row(e, FileStatus.CHANGED, found_at=att.name, note="附件没有内容")
    actual = ""
    for stream in streams:
        digest = hashlib.sha256()
        size = 0
        try:
            for piece in _decode_chunks(stream, e.size):
                size += len(piece)
                digest.update(piece)
        except _DecodeError as exc:
            note = (f"解压后比清单记录的大小（{e.size} 字节）大，已停止读取" if exc.over_limit
                    else f"附件无法解码：{exc.reason}")
            return _row(e, FileStatus.CHANGED, found_at=att.name, note=note)
        actual = digest.hexdigest()
        if actual != e.sha256:
            note = "" if size == e.size else f"大小 {size} 字节，清单记录 {e.size} 字节"
            return _row(e, FileStatus.CHANGED, actual=actual, found_at=att.name, note=note)
    return _row(e, FileStatus.MATCH, actual=actual, found_at=att.name)


def _row(entry: ManifestFile, status: FileStatus, *, actual: str = "", found_at: str = "",
         note: str = "") -> FileCheck:
    return FileCheck(
        status=status,
        name=entry.name,
        path=entry.path,
        exhibit=entry.exhibit,
        expected_sha256=entry.sha256,
        actual_sha256=actual,
        found_at=found_at,
        note=note,
    )


# ---------------------------------------------------------------------------------------------
# Bounded stream decoding
# ---------------------------------------------------------------------------------------------


class _DecodeError(VerificationFailed):
    def __init__(self, reason: str, *, over_limit: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.over_limit = over_limit


def _filters(stream: Any) -> tuple[list[str], bool]:
    """The stream's filter names, and whether it has decode parameters."""
    import pikepdf

    raw = stream.get("/Filter")
    if raw is None:
        names: list[str] = []
    elif isinstance(raw, pikepdf.Name):
        names = [str(raw)]
    elif isinstance(raw, pikepdf.Array):
        names = [str(n) for n in raw]
    else:
        raise _DecodeError("编码方式（/Filter）格式不对")
    parms = stream.get("/DecodeParms")
    has_parms = parms is not None and not (isinstance(parms, pikepdf.Array) and all(
        p is None or (isinstance(p, pikepdf.Dictionary) and not p.keys()) for p in parms))
    return names, has_parms


def _decode_chunks(stream: Any, limit: int, filters: list[str] | None = None) -> Iterator[bytes]:
    """Yield the stream decoded through ``filters`` (default: all of them) in chunks.

    Only the filters evidencekit's output can carry are accepted (none, Flate, ASCII hex and 85);
    the total is refused with ``_DecodeError(over_limit=True)`` as soon as it passes ``limit``.
    """
    names, has_parms = _filters(stream)
    if filters is None:
        filters = names
    if has_parms and filters:
        raise _DecodeError("带解码参数（/DecodeParms）的编码方式不受支持")
    unknown = [f for f in filters if f not in ("/FlateDecode", "/Fl", "/ASCIIHexDecode", "/AHx",
                                                "/ASCII85Decode", "/A85")]
    if unknown:
        raise _DecodeError(f"不支持的编码方式 {unknown[0]}")
    try:
        raw = bytes(stream.read_raw_bytes())
    except Exception as exc:  # pikepdf.PdfError and friends: a damaged stream is a finding
        raise _DecodeError("数据无法读取") from exc
    produced = 0
    for piece in _chain(raw, filters, limit):
        produced += len(piece)
        if produced > limit:
            raise _DecodeError(f"解码后超过 {limit} 字节上限", over_limit=True)
        yield piece


def _chain(data: bytes, filters: list[str], limit: int) -> Iterator[bytes]:
    if not filters:
        for i in range(0, len(data), _CHUNK):
            yield data[i:i + _CHUNK]
        return
    head, rest = filters[0], filters[1:]
    if head in ("/ASCIIHexDecode", "/AHx", "/ASCII85Decode", "/A85"):
        # Text encodings shrink their input: decoding at once is bounded by the raw size.
        try:
            if head in ("/ASCIIHexDecode", "/AHx"):
                text = re.sub(rb"\s", b"", data).split(b">", 1)[0]
                decoded = binascii.unhexlify(text + b"0" * (len(text) % 2))
            else:
                body = data.strip()
                body = body[:-2] if body.endswith(b"~>") else body
                decoded = base64.a85decode(body.removeprefix(b"<~"), adobe=False, ignorechars=b" \t\r\n")
        except (ValueError, binascii.Error) as exc:
            raise _DecodeError("ASCII 编码的数据已损坏") from exc
        yield from _chain(decoded, rest, limit)
        return
    inflater = zlib.decompressobj()

    def inflated() -> Iterator[bytes]:
        produced = 0
        try:
            for i in range(0, len(data), 64 * 1024):
                buf = data[i:i + 64 * 1024]
                while buf:
                    out = inflater.decompress(buf, _CHUNK)
                    produced += len(out)
                    if out:
                        yield out
                    if produced > limit:
                        return  # the caller refuses it
                    buf = inflater.unconsumed_tail
                    if inflater.eof:
                        return
            tail = inflater.flush()
            if tail:
                yield tail
        except zlib.error as exc:
            raise _DecodeError("压缩数据已损坏") from exc

    if not rest:
        yield from inflated()
    else:  # a text encoding after Flate (never written by us): bounded by the limit
        collected = bytearray()
        for piece in inflated():
            collected += piece
            if len(collected) > limit:
                raise _DecodeError(f"解码后超过 {limit} 字节上限", over_limit=True)
        yield from _chain(bytes(collected), rest, limit)


# ---------------------------------------------------------------------------------------------
# Page images: every image drawn must be a display copy the manifest records
# ---------------------------------------------------------------------------------------------

# What reportlab writes for a JPEG display copy; anything else (/SMask, /Mask, /Decode, …) can
# change what is shown while leaving the JPEG bytes alone.
_IMAGE_KEYS = frozenset({"/Type", "/Subtype", "/Width", "/Height", "/ColorSpace", "/BitsPerComponent",
                         "/Filter", "/Length", "/Name"})
_JPEG_SPACES = {1: "/DeviceGray", 3: "/DeviceRGB", 4: "/DeviceCMYK"}


def _check_page_images(doc: Any, manifest: Manifest, problems: list[str], notices: list[str],
                       checks: list[str]) -> None:
    """Every image a page shows must be a display copy the manifest records (a failure if not).

    A recorded display copy on no page is only a notice: a `pack` volume holds some pages only.
    """
    expected = {d for f in manifest.files for d in f.display_sha256}
    seen: set[str] = set()
    bad: dict[int, list[str]] = {}
    count = 0
    for number, page in enumerate(doc.pages, start=1):
        for image, why in _page_images(page):
            count += 1
            if why:
                bad.setdefault(number, []).append(why)
                continue
            digest, why = _image_digest(image)
            if digest in expected:
                seen.add(digest)
            else:
                bad.setdefault(number, []).append(why or "不是清单记录的任何显示副本")
    for number, reasons in sorted(bad.items()):
        problems.append(f"第 {number} 页的页面图片与清单记录的显示副本不符（{'；'.join(sorted(set(reasons)))}）："
                        "PDF 在生成之后被改过")
    missing = expected - seen
    if missing:
        notices.append(f"清单记录的 {len(missing)} 张显示副本不在这份 PDF 的页面上"
                       "（分卷上传的 PDF 只含部分页面；完整的证据材料中应全部出现）")
    if not bad and count:
        checks.append(f"页面图片共 {len(seen)} 张，与清单记录的显示副本（display_sha256）全部一致")


def _check_page_content(doc: Any, problems: list[str]) -> bool:
    """Each page's drawing instructions decode within MAX_CONTENT_BYTES and hold no inline image
    (an image written into the instructions themselves, which no manifest hash covers).

    Returns whether the cover page is safe to hand to the text extractor.
    """
    import pikepdf

    cover_ok = True
    for number, page in enumerate(doc.pages, start=1):
        holders: list[Any] = [page.obj]
        holders += [xo for xo, _ in _page_images(page, forms=True)]
        reason = ""
        for holder in holders:
            contents = holder.get("/Contents") if not isinstance(holder, pikepdf.Stream) else holder
            streams = [contents] if isinstance(contents, pikepdf.Stream) else (
                [c for c in contents if isinstance(c, pikepdf.Stream)] if isinstance(contents, pikepdf.Array) else [])
            total = 0
            try:
                for stream in streams:
                    for piece in _decode_chunks(stream, MAX_CONTENT_BYTES - total):
                        total += len(piece)
            except _DecodeError as exc:
                reason = f"页面内容无法核对（{exc.reason}）"
                break
            try:
                inline = pikepdf.parse_content_stream(holder if isinstance(holder, pikepdf.Stream) else page, "BI ID EI")
            except pikepdf.PdfError:
                reason = "页面内容无法解析"
                break
            if inline:
                reason = "页面内容中直接嵌有清单没有记录的图片（内联图片）"
                break
        if reason:
            problems.append(f"第 {number} 页：{reason}：PDF 在生成之后被改过")
            if number == 1:
                cover_ok = False
    return cover_ok


def _page_images(page: Any, forms: bool = False) -> Iterator[tuple[Any, str]]:
    """Image XObjects a page can show: its resources, nested forms, annotation appearances."""
    import pikepdf

    stack: list[tuple[Any, int]] = [(page.obj, 0)]
    annots = page.obj.get("/Annots")
    if isinstance(annots, pikepdf.Array):
        for annot in annots:
            ap = annot.get("/AP") if isinstance(annot, pikepdf.Dictionary) else None
            if isinstance(ap, pikepdf.Dictionary):
                for value in ap.values():
                    appearances = value.values() if isinstance(value, pikepdf.Dictionary) and not isinstance(
                        value, pikepdf.Stream) else [value]
                    stack += [(f, 1) for f in appearances if isinstance(f, pikepdf.Stream)]
    visited: set[tuple[int, int]] = set()
    while stack:
        holder, depth = stack.pop()
        if holder.objgen != (0, 0):
            if holder.objgen in visited:
                continue
            visited.add(holder.objgen)
        if forms and isinstance(holder, pikepdf.Stream):
            yield holder, ""  # a form or an annotation's appearance: drawing instructions of its own
        resources = _resources(holder)
        xobjects = resources.get("/XObject") if isinstance(resources, pikepdf.Dictionary) else None
        if not isinstance(xobjects, pikepdf.Dictionary):
            continue
        for _name, xo in xobjects.items():
            if not isinstance(xo, pikepdf.Stream):
                continue
            subtype = xo.get("/Subtype")
            if subtype == "/Image":
                if not forms:
                    yield xo, ""
            elif subtype == "/Form":
                if depth >= MAX_FORM_DEPTH:
                    if not forms:
                        yield xo, "嵌套层次过深"
                else:
                    stack.append((xo, depth + 1))


def _resources(holder: Any) -> Any:
    """/Resources, inherited from the page tree as viewers do when a page has none of its own."""
    node, hops = holder, 0
    while node is not None and hops < 32:
        resources = node.get("/Resources")
        if resources is not None:
            return resources
        node = node.get("/Parent") if node.get("/Type") == "/Page" or node.get("/Type") == "/Pages" else None
        hops += 1
    return None


def _image_digest(image: Any) -> tuple[str, str]:
    """SHA-256 of the JPEG an image XObject holds, the bytes a display copy's hash covers."""
    extra = sorted(set(image.keys()) - _IMAGE_KEYS)
    if extra:
        return "", f"图片带有 {extra[0]}"
    try:
        names, _ = _filters(image)
        if not names or names[-1] not in ("/DCTDecode", "/DCT"):
            return "", "不是 JPEG 图片"
        digest = hashlib.sha256()
        head = b""
        for piece in _decode_chunks(image, MAX_IMAGE_BYTES, names[:-1]):
            if len(head) < 65536:
                head += piece[:65536]
            digest.update(piece)
    except _DecodeError as exc:
        return "", exc.reason
    shape = _jpeg_shape(head)
    width, height, space = image.get("/Width"), image.get("/Height"), image.get("/ColorSpace")
    declared = (width if isinstance(width, int) else -1, height if isinstance(height, int) else -1, str(space))
    if shape is None or (shape[0], shape[1], _JPEG_SPACES.get(shape[2], "")) != declared:
        return "", "图片的尺寸或色彩空间与 JPEG 数据不符"
    return digest.hexdigest(), ""


def _jpeg_shape(data: bytes) -> tuple[int, int, int] | None:
    """(width, height, components) from the first SOF marker of a JPEG, or None."""
    if not data.startswith(b"\xff\xd8"):
        return None
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:
            i += 1
            continue
        length = int.from_bytes(data[i + 2:i + 4], "big")
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height = int.from_bytes(data[i + 5:i + 7], "big")
            width = int.from_bytes(data[i + 7:i + 9], "big")
            return width, height, data[i + 9]
        i += 2 + length
    return None


# ---------------------------------------------------------------------------------------------
# Revisions: a dossier is written once; an incremental update appends another revision
# ---------------------------------------------------------------------------------------------


def _check_revisions(pdf: Path, doc: Any, problems: list[str], checks: list[str]) -> None:
    count = _revision_count(pdf, doc)
    if count is None:
        problems.append("PDF 的文件结尾不完整（找不到交叉引用表），无法确认生成之后是否被改动过")
    elif count > 1:
        problems.append(f"PDF 有 {count} 个修订版本：生成之后被增量更新（追加修改）过 {count - 1} 次，"
                        "阅读器显示的是修改后的内容")
    else:
        checks.append("PDF 只有生成时写入的一个版本，之后没有被追加修改")


def _revision_count(pdf: Path, doc: Any) -> int | None:
    """How many revisions: xref sections chained by /Prev, and end-of-file markers outside streams."""
    try:
        with pdf.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
            return _count_revisions(data, doc)
    except Exception:  # an unreadable structure is reported as such (None), never a crash
        return None


def _count_revisions(data: Any, doc: Any) -> int | None:
    tail_start = max(0, len(data) - 4096)
    ends = list(re.finditer(rb"startxref\s+(\d+)\s+%%EOF\s*$", data[tail_start:]))
    if not ends:
        return None
    offset: int | None = int(ends[-1].group(1))
    sections = 0
    seen: set[int] = set()
    xref_tables: list[int] = []
    while offset is not None:
        if offset in seen or offset >= len(data) or sections >= MAX_REVISIONS:
            return max(sections, 2)  # a loop or a bad offset is not what we write either
        seen.add(offset)
        sections += 1
        if data[offset:offset + 4] == b"xref":
            xref_tables.append(offset)
            trailer = data.find(b"trailer", offset)
            end = data.find(b"startxref", trailer) if trailer >= 0 else -1
            header = data[trailer:end] if trailer >= 0 and end >= 0 else b""
        else:
            end = data.find(b"stream", offset)
            header = data[offset:end] if end >= 0 else b""
        if not header:
            return max(sections, 2)
        if re.search(rb"/XRefStm\b", header):
            sections += 1  # a hybrid file: readers also consult this cross-reference stream
        prev = re.search(rb"/Prev\s+(\d+)", header)
        offset = int(prev.group(1)) if prev else None
    if sections > 1:
        return sections
    # A revision appended with a complete xref of its own has no /Prev; the first revision's
    # end-of-file marker is then still in the file, outside any stream.
    markers = _markers_outside_streams(data, doc)
    return max(1, markers)


def _markers_outside_streams(data: Any, doc: Any) -> int:
    import pikepdf

    regions: list[tuple[int, int]] = []
    offsets = _xref_offsets(data)
    for obj in doc.objects:
        if not isinstance(obj, pikepdf.Stream):
            continue
        start = offsets.get(obj.objgen[0])
        if start is None:
            continue
        m = re.compile(rb"stream\r?\n").search(data, start)
        if m is None:
            continue
        length = obj.stream_dict.get("/Length")
        regions.append((m.end(), m.end() + int(length) if isinstance(length, int) else m.end()))
    regions.sort()
    count = 0
    for m in re.finditer(rb"%%EOF", data):
        pos = m.start()
        if not any(a <= pos < b for a, b in regions):
            count += 1
    return count


def _xref_offsets(data: Any) -> dict[int, int]:
    """Object number → offset from the last classic xref table (what qpdf writes for us)."""
    tail_start = max(0, len(data) - 4096)
    ends = list(re.finditer(rb"startxref\s+(\d+)", data[tail_start:]))
    if not ends:
        return {}
    offset = int(ends[-1].group(1))
    if data[offset:offset + 4] != b"xref":
        return {}
    trailer = data.find(b"trailer", offset)
    table = data[offset + 4:trailer if trailer >= 0 else len(data)]
    found: dict[int, int] = {}
    lines = iter(table.split())
    for first in lines:
        try:
            start, count = int(first), int(next(lines))
        except (ValueError, StopIteration):
            break
        for number in range(start, start + count):
            try:
                off, _gen, kind = next(lines), next(lines), next(lines)
            except StopIteration:
                return found
            if kind == b"n":
                found[number] = int(off)
    return found


# ---------------------------------------------------------------------------------------------
# The folder side (--originals)
# ---------------------------------------------------------------------------------------------


class _Folder:
    """Regular files under a folder, by NFC relative path (each with what to open: a link's
    checked target), hashed lazily and at most once."""

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


def _check_folder(manifest: Manifest, originals: Path, pdf: Path) -> list[FileCheck]:
    if not originals.is_dir():
        raise VerificationFailed(f"原件文件夹不存在或不是文件夹：{originals}")
    folder = _Folder(originals)
    used: set[str] = set()
    rows: list[FileCheck] = []
    for e in manifest.files:
        digest, path, name = e.sha256, e.path, e.name
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
    refused = set(manifest.refused)
    refused |= {c for r in list(refused) for c in _path_candidates(r)}
    for rel in sorted(_extra_scope(folder, originals, pdf)):
        if rel in used or rel in refused:
            continue
        rows.append(FileCheck(FileStatus.EXTRA, rel, found_at=rel, actual_sha256=folder.sha256(rel) or "",
                              note="清单中没有此文件（可能是生成证据材料之后才放进来的）"))
    return rows


def _path_candidates(path: str) -> list[str]:
    """The manifest path relative to a case folder, and the same path relative to its evidence/."""
    out = [path]
    head, _, rest = path.partition("/")
    if rest and is_evidence_folder(head):
        out.append(rest)
    return out


def _extra_scope(folder: _Folder, originals: Path, pdf: Path) -> list[str]:
    """Where extra files count: every file the inventory would list in the evidence folder(s)
    of a case folder (or in an evidence folder named itself); in any other folder every file
    but the case file and our own outputs (dossier*.pdf, its .tsr token, the PDF being verified)."""
    if is_evidence_folder(originals.name):
        return list(folder.files)
    evidence_heads = {rel.split("/", 1)[0] for rel in folder.files if "/" in rel and is_evidence_folder(rel.split("/", 1)[0])}
    if evidence_heads:
        return [rel for rel in folder.files if rel.split("/", 1)[0] in evidence_heads]
    return [rel for rel in folder.files if not _ours(rel, pdf, originals)]


def _ours(rel: str, pdf: Path, originals: Path) -> bool:
    low = rel.rsplit("/", 1)[-1].casefold()
    if low in CASE_FILE_NAMES or (low.startswith("dossier") and low.endswith(".pdf")) or low.endswith(".pdf.tsr"):
        return True
    try:  # the dossier being verified may sit inside the folder it is checked against
        return (originals / rel).resolve() == pdf.resolve()
    except OSError:
        return False


def _walk(root: Path) -> Iterator[tuple[str, Path]]:
    """The regular files the inventory's walk accepts (links only within ``root``, no devices,
    no OS litter), by NFC path relative to ``root``. A case folder's evidence folders are walked
    first and exactly as a build walks them, so the files seen there are the ones a build lists;
    then the whole folder, for originals moved elsewhere in it."""
    real_root = root.resolve()
    try:
        heads = [] if is_evidence_folder(root.name) else evidence_folder_names(root)
    except OSError:  # unreadable: the walk below says nothing either
        heads = []
    covered: list[str] = []
    for name in heads:
        folder = root / name
        if is_inside(Path(os.path.realpath(folder)), real_root) and folder.is_dir():
            for entry in walk_tree(folder, real_root, (nfc_name(name),), covered):
                if not entry.refused:
                    yield "/".join(entry.rel), entry.to_open
    for entry in walk_tree(root, real_root, ()):
        if not entry.refused:
            yield "/".join(entry.rel), entry.to_open


def _hash_file(path: Path) -> str | None:
    """None when the file is gone, unreadable or no longer a regular file (a link at ``path``,
    one planted after the walk, is not followed)."""
    try:
        return hash_file(path, follow_link=False)[0]
    except (OSError, NotRegularError):
        return None


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
