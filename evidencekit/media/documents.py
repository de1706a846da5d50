"""PDF evidence (质检报告, 电子发票): page count and page images for the dossier.

Pages are rasterised, not imported as vector content:
- reportlab cannot place another PDF's page in its own output; that would need pdfrw or
  pikepdf to convert each page into a Form XObject, which reportlab does not support, and
  would copy the untrusted file's fonts, scripts-in-waiting and broken objects into ours;
- at 150 dpi, a page fitted to the exhibit box keeps 9-pt text legible on paper and screen;
- rendering through PDFium (pypdfium2, which bundles the library Chrome uses) isolates the
  dossier from whatever the original contains: only pixels cross over, and the original itself
  is attached unchanged for anyone who needs the vector text.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from evidencekit.errors import BudgetExceeded, OriginalChanged
from evidencekit.integrity.originals import public_message, read_original
from evidencekit.media.base import (
    EXHIBIT_BOX_HEIGHT_PT,
    EXHIBIT_BOX_WIDTH_PT,
    MAX_EXHIBIT_PAGES,
    MediaContext,
)
from evidencekit.media.budget import run_budgeted
from evidencekit.media.container import (
    cached_copies_valid,
    read_facts,
    save_jpeg,
    unusable,
    write_facts,
)
from evidencekit.model import (
    DisplayImage,
    EvidenceOverride,
    Finding,
    Inspection,
    MediaType,
    PdfInspection,
    Severity,
    SourceFile,
)

DOCUMENT_SUFFIXES = frozenset({".pdf"})

# More pages than this is a bundle, not an exhibit; the rest stay readable in the attachment.
MAX_PAGES_SHOWN = MAX_EXHIBIT_PAGES

# PDFium renders from memory (the verified bytes, never the path); a PDF above this size is
# attached but not previewed. Scanned 30-page reports are 5–20 MB.
MAX_PDF_BYTES = 256 * 1024**2

_FORMAT_VERSION = 1

# PDFium's load error codes (FPDF_ERR_*), named here so pypdfium2.raw need not be imported.
_ERR_PASSWORD = 4
_ERR_SECURITY = 5


def inspect_pdf(source: SourceFile, override: EvidenceOverride | None, ctx: MediaContext) -> Inspection:
    """Page count and the first :data:`MAX_PAGES_SHOWN` pages as images captioned 第 N/M 页.

    Never raises for a bad file: encrypted or damaged PDFs come back with ``preview_error``.
    """
    if source.size == 0:
        return unusable(MediaType.PDF, source, "pdf.unreadable", "文件为空（0 字节），无法预览")
    params = _params(ctx)
    facts_path = ctx.cache.path_for(source.sha256, {"what": "pdf-facts", **params}, ".json")
    if source.size > MAX_PDF_BYTES:
        return unusable(MediaType.PDF, source, "pdf.too_large",
                        f"文件过大（超过 {MAX_PDF_BYTES // 1024**2} MB），未生成预览；原件已计算哈希并随证据材料附上")
    facts = read_facts(ctx.cache, facts_path)
    if facts is not None and not cached_copies_valid(ctx.cache, _cached_pages(source.sha256, facts, ctx)):
        facts = None
    if facts is None:
        try:
            facts = run_budgeted(_render, source, ctx, seconds=ctx.decode_seconds, memory=ctx.decode_memory)
        except OriginalChanged as exc:
            return unusable(MediaType.PDF, source, "media.changed", exc.reason)
        except BudgetExceeded as exc:
            return unusable(MediaType.PDF, source, f"media.{exc.what}_budget", exc.reason)
        if facts.get("transient"):
            return unusable(MediaType.PDF, source, "pdf.unreadable", str(facts["error"]))
        write_facts(ctx.cache, facts_path, facts)
    if facts.get("error"):
        code = "pdf.encrypted" if facts.get("encrypted") else "pdf.unreadable"
        return unusable(MediaType.PDF, source, code, str(facts["error"]))

    count = int(facts["page_count"])
    images = tuple(
        DisplayImage(
            path=_page_path(source.sha256, i, ctx),
            width=int(page["width"]),
            height=int(page["height"]),
            sha256=str(page["sha256"]),
            caption=f"第 {i + 1}/{count} 页",
        )
        for i, page in enumerate(facts["pages"])
    )
    findings: list[Finding] = []
    if count > len(images):
        findings.append(
            Finding(
                Severity.INFO,
                "pdf.pages_truncated",
                f"共 {count} 页，仅展示前 {len(images)} 页，其余页面见附件中的原始文件",
                source.rel_path,
            )
        )
    return PdfInspection(images=images, page_count=count, findings=tuple(findings))


def _params(ctx: MediaContext) -> dict[str, Any]:
    return {"v": _FORMAT_VERSION, **ctx.display_params()}


def _cached_pages(sha256: str, facts: dict[str, Any], ctx: MediaContext) -> list[tuple[Path, str]]:
    pages = facts.get("pages", [])
    if not isinstance(pages, list) or not all(isinstance(p, dict) and "sha256" in p for p in pages):
        return [(_page_path(sha256, -1, ctx), "")]  # a foreign sidecar: never valid
    return [(_page_path(sha256, i, ctx), str(page["sha256"])) for i, page in enumerate(pages)]


def _page_path(sha256: str, index: int, ctx: MediaContext) -> Path:
    return ctx.cache.path_for(sha256, {"what": "pdf-page", "page": index, **_params(ctx)}, ".jpg")


def _render(source: SourceFile, ctx: MediaContext) -> dict[str, Any]:
    import pypdfium2 as pdfium  # lazily: PDFium is only needed when a case has PDFs

    data = read_original(source)  # the hashed bytes; raises OriginalChanged otherwise
    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        code = getattr(exc, "err_code", None)
        if code in (_ERR_PASSWORD, _ERR_SECURITY):
            reason = "PDF 已加密（需要密码才能打开），无法预览"
            return {"v": _FORMAT_VERSION, "encrypted": True, "error": reason}
        return {"v": _FORMAT_VERSION, "error": "无法解析 PDF：文件已损坏或不是 PDF"}
    except OSError as exc:
        # Not the file's fault (e.g. it vanished mid-build): do not cache this outcome.
        return {"transient": True, "error": f"无法读取 PDF：{exc.strerror or exc}"}
    try:
        count = len(document)
        if count == 0:
            return {"v": _FORMAT_VERSION, "error": "PDF 没有任何页面"}
        pages = []
        for index in range(min(count, MAX_PAGES_SHOWN)):
            page = document[index]
            try:
                width_pt, height_pt = page.get_size()  # already turned by the page's /Rotate
                # Fit the page to the exhibit box, then render at ctx.dpi: the pixels are exactly
                # what the box shows, so neither a poster-sized page nor a tiny receipt costs
                # more than one box of pixels, and small print stays readable.
                fit = min(EXHIBIT_BOX_WIDTH_PT / width_pt, EXHIBIT_BOX_HEIGHT_PT / height_pt)
                bitmap = page.render(scale=fit * ctx.dpi / 72, may_draw_forms=True)
                image = bitmap.to_pil()
            finally:
                page.close()
            path = _page_path(source.sha256, index, ctx)
            w, h, digest = save_jpeg(ctx.cache, path, image, ctx.jpeg_quality)
            pages.append({"width": w, "height": h, "sha256": digest})
    except (pdfium.PdfiumError, ValueError, ZeroDivisionError) as exc:
        return {"v": _FORMAT_VERSION, "error": f"无法渲染 PDF 页面（{public_message(str(exc), source)}）"}
    finally:
        document.close()
    return {"v": _FORMAT_VERSION, "page_count": count, "pages": pages, "error": ""}
