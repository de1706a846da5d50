"""The cold build's memory and start-up work: what the fonts cost, and that it changes no byte."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from reportlab.pdfbase.ttfonts import TTFont

from evidencekit.pdf import fonts as fonts_mod

BUNDLED = Path(fonts_mod.__file__).parent.parent / "fonts" / fonts_mod.BUNDLED_FONT_FILE
SUBSET = [ord(c) for c in "证据目录 SHA-256 0123456789abcdef 淘宝订单号：（元）¥"]


@pytest.fixture
def fresh_fonts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty font cache and no face loaded yet in this process."""
    monkeypatch.setenv("EVIDENCEKIT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(fonts_mod, "_REGISTERED", {})
    monkeypatch.setattr(fonts_mod, "_shared_tables", {}, raising=False)
    monkeypatch.setattr(fonts_mod, "_last_file", None, raising=False)
    return tmp_path / "cache"


@pytest.mark.parametrize("index", [fonts_mod.BUNDLED_FACE_INDEX, fonts_mod.BUNDLED_MONO_INDEX])
def test_compact_faces_embed_the_same_bytes_as_reportlab(fresh_fonts: Path, index: int) -> None:
    """Parsed or from the cache, a compacted face gives reportlab's own subset, widths and cmap."""
    reference = TTFont("EKrefFace", str(BUNDLED), subfontIndex=index)
    parsed = fonts_mod._load_ttfont("EKparsedFace", BUNDLED, index)
    cached = fonts_mod._load_ttfont("EKcachedFace", BUNDLED, index)
    assert list(fresh_fonts.joinpath("fonts").iterdir())
    expected = reference.face.makeSubset(SUBSET)
    for font in (parsed, cached):
        assert font.face.makeSubset(SUBSET) == expected
        assert font.face.charWidths == reference.face.charWidths
        assert font.face.charToGlyph == reference.face.charToGlyph
        assert font.stringWidth("证据目录 SHA-256 0123", 10) == reference.stringWidth("证据目录 SHA-256 0123", 10)


def test_the_two_bundled_faces_share_the_file_and_their_tables(fresh_fonts: Path) -> None:
    fonts = fonts_mod.load_fonts()
    from reportlab.pdfbase import pdfmetrics

    regular, mono = (pdfmetrics.getFont(f.name).face for f in (fonts.bundled, fonts.mono))
    assert regular._ttf_data is mono._ttf_data
    assert regular.glyphPos is mono.glyphPos


MEASURE = """
import sys, tracemalloc
from evidencekit.pdf.fonts import load_fonts
if sys.argv[1] == "measure":  # tracing a first parse (empty face cache) costs seconds, and is not asserted
    tracemalloc.start()
fonts = load_fonts()
assert fonts.runs("证据 SHA-256") == [(fonts.main, "证据 SHA-256")]
print(tracemalloc.get_traced_memory()[0])
"""


def test_loading_the_fonts_allocates_under_25_mb(fresh_fonts: Path) -> None:
    """Both bundled faces were 57 MB of Python objects (two copies of the 5 MB file, per-glyph
    lists of tuples, code point sets), held in the main process while the workers decode.
    Measured in a fresh interpreter, the second time (a normal build's: from the face cache)."""
    env = dict(os.environ, EVIDENCEKIT_CACHE_DIR=str(fresh_fonts))
    held = [int(subprocess.run([sys.executable, "-c", MEASURE, mode], env=env, check=True, capture_output=True,
                               text=True).stdout) for mode in ("fill-cache", "measure")]
    assert held[1] < 25_000_000, held


def test_the_heap_is_trimmed_before_the_workers_are_forked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker starts with a copy of the main process's resident pages: the heap the inline
    decodes freed is given back first, or every worker carries it (14 MB of the build's peak)."""
    from factories import make_case, make_jpeg, make_source_file

    from evidencekit.cache import DisplayCache
    from evidencekit.media import pool
    from evidencekit.media.base import MediaContext

    root = tmp_path / "case"
    sources = []
    for n in range(pool.PARALLEL_MIN_FILES + 2):
        path = make_jpeg(root / "evidence" / "product" / f"IMG_{n}.jpg", color=f"#{n:02x}7799")
        sources.append(make_source_file(root, f"evidence/product/IMG_{n}.jpg", path.read_bytes()))
    events: list[str] = []
    real_release, real_pool = pool.release_free_memory, pool.ProcessPoolExecutor

    def release() -> None:
        events.append("release")
        real_release()

    def executor(**kw: int) -> object:
        events.append("fork")
        return real_pool(**kw)

    monkeypatch.setattr(pool, "SLOW_INSPECTION_S", -1.0)  # every decode is slow: the pool after two
    monkeypatch.setattr(pool, "release_free_memory", release)
    monkeypatch.setattr(pool, "ProcessPoolExecutor", executor)
    results = pool.inspect_files(make_case(root), sources, MediaContext(cache=DisplayCache(tmp_path / "c")), 2, None)
    assert len(results) == len(sources)
    assert events == ["release", "fork"]
