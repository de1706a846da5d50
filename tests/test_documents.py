"""PDF evidence: page count, legible rasterised pages, encrypted/corrupt files, cache."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pypdfium2
import pytest
from factories import make_source_file
from mediagen import make_pdf, read_page_bar
from PIL import Image

from evidencekit.cache import DisplayCache
from evidencekit.media.base import MediaContext
from evidencekit.media.documents import MAX_PAGES_SHOWN, inspect_pdf
from evidencekit.model import EvidenceKind, MediaType, Severity, SourceFile

REL = "evidence/report/质检报告.pdf"


def _ctx(tmp_path: Path, **kw: Any) -> MediaContext:
    return MediaContext(cache=DisplayCache(tmp_path / "cache"), **kw)


def _source(tmp_path: Path, pdf: Path) -> SourceFile:
    return make_source_file(tmp_path, REL, pdf.read_bytes(), kind=EvidenceKind.REPORT)


def test_pages_are_rasterised_in_order_and_fill_the_box(tmp_path: Path) -> None:
    pdf = make_pdf(tmp_path / "gen" / "r.pdf", 3)
    ctx = _ctx(tmp_path)
    insp = inspect_pdf(_source(tmp_path, pdf), None, ctx)
    assert insp.media is MediaType.PDF and insp.preview_error == ""
    assert insp.page_count == 3
    assert [img.caption for img in insp.images] == ["第 1/3 页", "第 2/3 页", "第 3/3 页"]
    box_w, box_h = ctx.box_pixels()
    for n, img in enumerate(insp.images, start=1):
        with Image.open(img.path) as page:
            assert page.format == "JPEG" and page.size == (img.width, img.height)
            assert read_page_bar(page) == pytest.approx(n / 4, abs=0.01)  # page n really is page n
        # An A4 page is height-limited in the box: full box height at ctx.dpi, i.e. legible.
        assert img.height == box_h and img.width <= box_w
        assert img.width == pytest.approx(box_h * 595.28 / 841.89, abs=2)


def test_dpi_sets_the_raster_size(tmp_path: Path) -> None:
    pdf = make_pdf(tmp_path / "gen" / "r.pdf", 1)
    low = inspect_pdf(_source(tmp_path, pdf), None, _ctx(tmp_path, dpi=100))
    high = inspect_pdf(_source(tmp_path, pdf), None, _ctx(tmp_path, dpi=200))
    assert high.images[0].height == pytest.approx(2 * low.images[0].height, abs=2)


def test_long_pdf_shows_the_first_pages_and_says_so(tmp_path: Path) -> None:
    pdf = make_pdf(tmp_path / "gen" / "long.pdf", MAX_PAGES_SHOWN + 2)
    insp = inspect_pdf(_source(tmp_path, pdf), None, _ctx(tmp_path, dpi=30))
    assert insp.page_count == MAX_PAGES_SHOWN + 2
    assert len(insp.images) == MAX_PAGES_SHOWN
    assert insp.images[-1].caption == f"第 {MAX_PAGES_SHOWN}/{MAX_PAGES_SHOWN + 2} 页"
    assert [(f.severity, f.code) for f in insp.findings] == [(Severity.INFO, "pdf.pages_truncated")]


def test_encrypted_pdf_gets_a_reason(tmp_path: Path) -> None:
    pdf = make_pdf(tmp_path / "gen" / "e.pdf", 1, password="secret")
    insp = inspect_pdf(_source(tmp_path, pdf), None, _ctx(tmp_path))
    assert "加密" in insp.preview_error
    assert insp.images == () and insp.page_count is None
    assert [f.code for f in insp.findings] == ["pdf.encrypted"]


@pytest.mark.parametrize(
    "make_bytes",
    [
        pytest.param(lambda good: b"", id="zero-bytes"),
        pytest.param(lambda good: b"%PDF-1.4\ngarbage\n" * 20, id="garbage"),
        pytest.param(lambda good: good[:200], id="truncated"),
    ],
)
def test_corrupt_pdf_gets_a_reason_not_an_exception(tmp_path: Path, make_bytes: Any) -> None:
    good = make_pdf(tmp_path / "gen" / "r.pdf", 2).read_bytes()
    source = make_source_file(tmp_path, REL, make_bytes(good), kind=EvidenceKind.REPORT)
    insp = inspect_pdf(source, None, _ctx(tmp_path))
    assert insp.preview_error and any("\u4e00" <= ch <= "\u9fff" for ch in insp.preview_error)
    assert insp.images == ()
    assert [f.code for f in insp.findings] == ["pdf.unreadable"]
    assert insp.findings[0].subject == REL


def test_warm_rebuild_opens_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = _source(tmp_path, make_pdf(tmp_path / "gen" / "r.pdf", 2))
    cold = inspect_pdf(source, None, _ctx(tmp_path))

    def refuse(*args: Any, **kw: Any) -> Any:
        raise AssertionError("PDF opened on a warm cache")

    monkeypatch.setattr(pypdfium2, "PdfDocument", refuse)
    assert inspect_pdf(source, None, _ctx(tmp_path)) == cold


def test_a_missing_page_image_is_rendered_again(tmp_path: Path) -> None:
    source = _source(tmp_path, make_pdf(tmp_path / "gen" / "r.pdf", 2))
    cold = inspect_pdf(source, None, _ctx(tmp_path))
    cold.images[1].path.unlink()
    again = inspect_pdf(source, None, _ctx(tmp_path))
    assert again == cold and again.images[1].path.is_file()
