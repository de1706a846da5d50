"""The main process works while the workers decode, instead of waiting (issue 15)."""

from __future__ import annotations

import multiprocessing
import threading
import time
from pathlib import Path
from typing import ClassVar

import pytest
from factories import make_case, make_jpeg, make_source_file

from evidencekit import pipeline
from evidencekit.cache import DisplayCache
from evidencekit.media import pool
from evidencekit.media.base import MediaContext
from evidencekit.model import ImageInspection
from evidencekit.pdf import fonts

FILES = pool.PARALLEL_MIN_FILES + 2


def jpeg_sources(root: Path) -> list:
    sources = []
    for n in range(FILES):
        path = make_jpeg(root / "evidence" / "product" / f"IMG_{n}.jpg", color=f"#{n:02x}7799")
        sources.append(make_source_file(root, f"evidence/product/IMG_{n}.jpg", path.read_bytes()))
    return sources


@pytest.fixture
def always_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pool, "SLOW_INSPECTION_S", -1.0)  # every decode counts as slow: pool at once


def test_meanwhile_runs_on_a_thread_while_workers_decode(tmp_path: Path, always_pool: None) -> None:
    root = tmp_path / "case"
    sources = jpeg_sources(root)
    ran: list[tuple[str, int]] = []

    def meanwhile() -> None:
        ran.append((threading.current_thread().name, len(multiprocessing.active_children())))

    ctx = MediaContext(cache=DisplayCache(tmp_path / "cache"))
    results = pool.inspect_files(make_case(root), sources, ctx, 2, None, meanwhile)
    assert ran == [("evidencekit-meanwhile", 2)]  # beside the two workers
    assert all(isinstance(r, ImageInspection) for r in results)
    assert all(t.name != "evidencekit-meanwhile" for t in threading.enumerate())  # done before return


def test_a_failing_meanwhile_costs_nothing(tmp_path: Path, always_pool: None) -> None:
    root = tmp_path / "case"
    sources = jpeg_sources(root)

    def fails() -> None:
        raise ValueError("a head start that did not work")

    ctx = MediaContext(cache=DisplayCache(tmp_path / "cache"))
    results = pool.inspect_files(make_case(root), sources, ctx, 2, None, fails)
    assert len(results) == FILES and all(r.preview_error == "" for r in results)


def test_no_pool_no_thread(tmp_path: Path) -> None:
    # A warm rebuild (or --jobs 1) never starts workers; nothing waits, so nothing runs beside.
    root = tmp_path / "case"
    sources = jpeg_sources(root)
    ran: list[str] = []
    ctx = MediaContext(cache=DisplayCache(tmp_path / "cache"))
    pool.inspect_files(make_case(root), sources, ctx, 1, None, lambda: ran.append("x"))
    assert ran == []


def test_build_parses_fonts_while_the_workers_decode(tmp_path: Path, always_pool: None,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "case"
    jpeg_sources(root)
    threads: list[str] = []
    real = fonts.load_fonts

    def spy(*args: object, **kw: object) -> fonts.FontSet:
        threads.append(threading.current_thread().name)
        return real(*args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(fonts, "load_fonts", spy)
    monkeypatch.setattr("evidencekit.pdf.render.load_fonts", spy)
    result = pipeline.build_dossier(root, pipeline.BuildOptions(cache_dir=tmp_path / "cache", jobs=2,
                                                                 output=tmp_path / "out.pdf", ocr=False))
    assert result.output.is_file()
    assert threads[0] == "evidencekit-meanwhile"  # first during inspect, then again (cached) by render
    assert threads[-1] == threading.main_thread().name


def test_renderer_imports_during_inventory_end_before_any_fork(tmp_path: Path, always_pool: None,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "case"
    jpeg_sources(root)
    importing: list[str] = []

    def slow_import() -> None:  # long enough to still run when inspect begins, unless joined
        importing.append(threading.current_thread().name)
        time.sleep(0.3)

    alive_at_fork: list[bool] = []
    real_inspect_files = pipeline.inspect_files

    def spy(*args: object, **kw: object) -> object:
        alive_at_fork.append(any(t.name == "evidencekit-import" for t in threading.enumerate()))
        return real_inspect_files(*args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(pipeline, "_import_renderer", slow_import)
    monkeypatch.setattr(pipeline, "inspect_files", spy)
    pipeline.build_dossier(root, pipeline.BuildOptions(cache_dir=tmp_path / "cache", jobs=2,
                                                       output=tmp_path / "out.pdf", ocr=False))
    assert importing == ["evidencekit-import"]
    assert alive_at_fork == [False]


def test_a_cache_hit_slowed_by_a_busy_machine_starts_no_workers(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    # Slow in wall time (the machine is busy), cheap in CPU: a cache hit, not a decode.
    root = tmp_path / "case"
    sources = jpeg_sources(root)

    def waits(src: object, override: object, ctx: MediaContext) -> ImageInspection:
        time.sleep(0.05)
        return ImageInspection()

    started: list[int] = []
    monkeypatch.setattr(pool, "inspect_source", waits)
    monkeypatch.setattr(pool, "ProcessPoolExecutor", lambda **kw: started.append(1))
    ctx = MediaContext(cache=DisplayCache(tmp_path / "cache"))
    results = pool.inspect_files(make_case(root), sources, ctx, 2, None)
    assert started == [] and len(results) == FILES


def test_a_cpu_heavy_inspection_hands_the_rest_to_workers(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "case"
    sources = jpeg_sources(root)
    clock = iter(range(0, 10_000))  # every inspection seems to cost a CPU second
    monkeypatch.setattr(pool, "cpu_seconds", lambda: float(next(clock)))
    ran: list[str] = []
    ctx = MediaContext(cache=DisplayCache(tmp_path / "cache"))
    results = pool.inspect_files(make_case(root), sources, ctx, 2, None, lambda: ran.append("beside workers"))
    assert ran == ["beside workers"] and len(results) == FILES


def test_one_slow_file_among_cache_hits_starts_no_workers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The first cache hit of a warm rebuild also imports its media module: slow once, then fast.
    root = tmp_path / "case"
    sources = jpeg_sources(root)
    ticks = iter([0.0, 1.0] + [1.0] * 100)  # the first file costs a CPU second, every other none
    monkeypatch.setattr(pool, "cpu_seconds", lambda: next(ticks))
    started: list[int] = []
    monkeypatch.setattr(pool, "ProcessPoolExecutor", lambda **kw: started.append(1))
    ctx = MediaContext(cache=DisplayCache(tmp_path / "cache"))
    results = pool.inspect_files(make_case(root), sources, ctx, 2, None)
    assert started == [] and len(results) == FILES


class InlineExecutor:
    """A ProcessPoolExecutor stand-in that runs each submitted file at once, in submission order."""

    submitted: ClassVar[list[str]] = []

    def __init__(self, **_kw: object) -> None:
        InlineExecutor.submitted = []

    def submit(self, fn, src, *args):  # type: ignore[no-untyped-def]
        from concurrent.futures import Future

        InlineExecutor.submitted.append(src.name)
        future: Future[object] = Future()
        future.set_result(fn(src, *args))
        return future

    def shutdown(self, **_kw: object) -> None:
        pass


def test_the_workers_take_the_largest_files_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A big file left for last keeps one worker busy while the other idles; results stay in file order."""
    from PIL import Image

    root = tmp_path / "case"
    sizes = [(400, 300), (1600, 1200), (800, 600), (2400, 1800), (200, 150), (1200, 900), (640, 480), (100, 80)]
    sources = []
    for n, size in enumerate(sizes):
        path = root / "evidence" / "product" / f"IMG_{n}.jpg"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.effect_noise(size, 60).convert("RGB").save(path, "JPEG")
        sources.append(make_source_file(root, f"evidence/product/IMG_{n}.jpg", path.read_bytes()))
    monkeypatch.setattr(pool, "ProcessPoolExecutor", InlineExecutor)
    monkeypatch.setattr(pool, "SLOW_INSPECTION_S", -1.0)
    results = pool.inspect_files(make_case(root), sources, MediaContext(cache=DisplayCache(tmp_path / "c")), 2, None)
    pooled = sources[pool.SLOW_IN_A_ROW:]
    assert InlineExecutor.submitted == [s.name for s in sorted(pooled, key=lambda s: -s.size)]
    assert [r.width for r in results if isinstance(r, ImageInspection)] == [w for w, _ in sizes]
