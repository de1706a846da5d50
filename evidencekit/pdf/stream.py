"""Writing the PDF as it is formatted, so memory stays flat however many images a case has.

reportlab keeps every image's bytes from ``drawImage`` until ``save()``, then formats the whole
file into one list of byte strings and joins it: peak memory grew with the display copies
(about three copies of them at the end). ``StreamingCanvas`` instead forgets an image's bytes
once reportlab has read its size (the display copy stays in the cache, named by its SHA-256),
and its ``save()`` formats object after object straight into the file, reading each image back
(and checking its digest) only while that one object is written. The bytes written are the
ones reportlab would have written: the same objects, in the same order, formatted by the same
code; only where they are held differs.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any, BinaryIO

from reportlab import rl_config
from reportlab.pdfbase.pdfdoc import (
    PDFCrossReferenceTable,
    PDFDocument,
    PDFImageXObject,
    PDFIndirectObject,
    PDFTrailer,
    pdfdocEnc,
)
from reportlab.pdfgen.canvas import Canvas, _digester

from evidencekit.errors import InternalError
from evidencekit.fsutil import create_new_fd, read_regular

# A display copy is at most a few MB (an A4 box at 150 dpi); anything larger is not ours.
MAX_DISPLAY_COPY_BYTES = 64 * 1024**2


class _Deferred:
    """Where an image's bytes are until the file is written: the display copy and its digest."""

    __slots__ = ("path", "sha256")

    def __init__(self, path: str, sha256: str) -> None:
        self.path, self.sha256 = path, sha256


class StreamingCanvas(Canvas):
    """reportlab's Canvas, holding no image bytes and writing its file as it formats it."""

    def drawImage(self, image: Any, x: float, y: float, width: float | None = None,
                  height: float | None = None, mask: Any = None, *args: Any, **kw: Any) -> Any:
        sha256, real_path = getattr(image, "content_sha256", None), getattr(image, "real_path", None)
        if sha256 is None or real_path is None:
            return super().drawImage(image, x, y, width, height, mask, *args, **kw)
        # The name reportlab gives the image XObject (canvas.drawImage, for a path).
        reg_name = self._doc.getXObjectName(_digester(("%s%s" % (image, mask)).encode()))  # noqa: UP031
        known = reg_name in self._doc.idToObject
        result = super().drawImage(image, x, y, width, height, mask, *args, **kw)
        obj = self._doc.idToObject.get(reg_name)
        if not known and isinstance(obj, PDFImageXObject) and isinstance(obj.streamContent, bytes):
            obj.streamContent = _Deferred(real_path, sha256)
        return result

    def save(self) -> None:
        if len(self._code):
            self.showPage()
        target = self._filename
        if hasattr(target, "write"):
            write_document(self._doc, self, target)
            return
        path = Path(target)
        path.unlink(missing_ok=True)  # a private work file an earlier pass wrote
        with os.fdopen(create_new_fd(path, what="排版文件", mode=0o600), "wb") as out:
            write_document(self._doc, self, out)


class _FileSink:
    """reportlab's PDFFile (an output collector that knows its offset), writing through."""

    def __init__(self, out: BinaryIO, pdf_version: tuple[int, int]) -> None:
        self.out = out
        self.offset = 0
        self.add(pdfdocEnc("%%PDF-%s.%s" % pdf_version)  # noqa: UP031 (reportlab's own header)
                 + b"\n%\223\214\213\236 ReportLab Generated PDF document (opensource)\n")

    def add(self, s: Any) -> int:
        data = pdfdocEnc(s)
        at = self.offset
        self.out.write(data)
        self.offset = at + len(data)
        return at


def _load(deferred: _Deferred) -> bytes:
    data = read_regular(Path(deferred.path), what="预览图", max_bytes=MAX_DISPLAY_COPY_BYTES, error=InternalError)
    if hashlib.sha256(data).hexdigest() != deferred.sha256:
        raise InternalError("预览图在排版期间被改动", hint="请重新生成；如果再次出现，请删除缓存文件夹后重试。")
    return data


def write_document(doc: PDFDocument, canvas: Canvas, out: BinaryIO) -> None:
    """``doc.SaveToFile`` (GetPDFData, then PDFDocument.format of reportlab 5.1) into ``out``,
    one object at a time."""
    if getattr(doc, "_savedToFile", False):
        raise RuntimeError("a PDFDocument can only be saved once")
    doc._savedToFile = True
    for fnt in doc.delayedFonts:
        fnt.addObjects(doc)
    doc.info.invariant = doc.invariant
    doc.info.digest(doc.signature)
    doc.Reference(doc.Catalog)
    doc.Reference(doc.info)
    doc.Outlines.prepare(doc, canvas)
    if doc.Outlines.ready < 0:
        doc.Catalog.Outlines = None
    doc.encrypt.prepare(doc)
    cat, info = doc.Catalog, doc.info
    doc.Reference(cat)
    doc.Reference(info)
    encrypt_info = doc.encrypt.info()
    encrypt_ref = doc.Reference(encrypt_info) if encrypt_info else None
    sink = _FileSink(out, doc._pdfVersion)
    ids = []
    counter = 0
    while True:  # objects may be added while others are formatted: until none is left
        counter += 1
        if counter not in doc.numberToId:
            break
        oid = doc.numberToId[counter]
        obj = doc.idToObject[oid]
        deferred = getattr(obj, "streamContent", None)
        if isinstance(deferred, _Deferred):
            obj.streamContent = _load(deferred)
        formatted = PDFIndirectObject(oid, obj).format(doc)
        if isinstance(deferred, _Deferred):
            obj.streamContent = deferred  # this object's bytes are in the file now
        if not rl_config.invariant and rl_config.pdfComments:
            sink.add("%% %s: class %s \n" % (ascii(oid), obj.__class__.__name__[:50]))  # noqa: UP031
        doc.idToOffset[oid] = sink.add(formatted)
        ids.append(oid)
    count = len(doc.numberToId)
    if counter - 1 != count:
        raise InternalError(f"PDF 对象编号不连续（{counter - 1} / {count}）")
    xref = PDFCrossReferenceTable()
    xref.addsection(0, ids)
    xref_offset = sink.add(xref.format(doc))
    trailer = PDFTrailer(startxref=xref_offset, Size=count + 1, Root=doc.Reference(cat),
                         Info=doc.Reference(info), Encrypt=encrypt_ref, ID=doc.ID())
    sink.add(trailer.format(doc))
    if getattr(doc, "_digiSigs", None):
        raise InternalError("PDF 数字签名不支持流式写出")
