"""media/ocr.py without the engine: the cache, the verified bytes, the limits and a missing extra.

The engine is replaced by a fake (``run_engine``), so these run with or without ``evidencekit[ocr]``;
tests/test_ocr_engine.py runs the real engine.
"""

from __future__ import annotations

import io
import subprocess
import sys
import time
from pathlib import Path

import pytest
from factories import make_source_file
from PIL import Image

from evidencekit.cache import DisplayCache
from evidencekit.errors import CHANGED_REASON
from evidencekit.media import ocr
from evidencekit.media.base import MediaContext
from evidencekit.model import SourceFile
from evidencekit.rules.ocr_fields import TextBox

ROOT = Path(__file__).resolve().parents[1]
BOXES = (TextBox("订单编号：3912847561023847561", ((10, 20), (400, 20), (400, 60), (10, 60)), 0.98),)


def png(size: tuple[int, int] = (120, 200)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, "white").save(buf, "PNG")
    return buf.getvalue()


def screenshot(tmp_path: Path, data: bytes | None = None, name: str = "order.png") -> SourceFile:
    return make_source_file(tmp_path / "case", f"evidence/order/{name}", png() if data is None else data)


def context(tmp_path: Path, **kw: object) -> MediaContext:
    return MediaContext(cache=DisplayCache(tmp_path / "cache"), **kw)  # type: ignore[arg-type]


@pytest.fixture
def fake_engine(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """The engine replaced by one that returns BOXES; records the size of each image it gets
    (in the parent's list only when it runs in this process, so tests read the cache instead)."""
    seen: list[tuple[int, int]] = []

    def fake(image: Image.Image) -> tuple[TextBox, ...]:
        seen.append(image.size)
        return BOXES

    monkeypatch.setattr(ocr, "engine_version", lambda: "9.9.9")
    monkeypatch.setattr(ocr, "run_engine", fake)
    return seen


def raising(image: Image.Image) -> tuple[TextBox, ...]:
    raise AssertionError("the engine ran again")


def test_a_second_run_reads_the_cache_and_never_runs_the_engine(
        tmp_path: Path, fake_engine: list[tuple[int, int]], monkeypatch: pytest.MonkeyPatch) -> None:
    source, ctx = screenshot(tmp_path), context(tmp_path)
    first = ocr.ocr_image(source, ctx)
    assert first == ocr.OcrResult(BOXES, "rapidocr 9.9.9")
    monkeypatch.setattr(ocr, "run_engine", raising)
    # A rebuild: a new context on the same cache folder.
    assert ocr.ocr_image(source, context(tmp_path)) == first


def test_the_cache_key_holds_the_engine_version(
        tmp_path: Path, fake_engine: list[tuple[int, int]], monkeypatch: pytest.MonkeyPatch) -> None:
    source, ctx = screenshot(tmp_path), context(tmp_path)
    ocr.ocr_image(source, ctx)
    monkeypatch.setattr(ocr, "engine_version", lambda: "10.0.0")
    monkeypatch.setattr(ocr, "run_engine", raising)
    again = ocr.ocr_image(source, ctx)
    assert again.boxes == ()
    assert again.error == "文字识别失败（AssertionError），未识别文字"


def test_the_engine_failing_is_a_message_not_a_crash_and_is_not_cached(
        tmp_path: Path, fake_engine: list[tuple[int, int]], monkeypatch: pytest.MonkeyPatch) -> None:
    source, ctx = screenshot(tmp_path), context(tmp_path)
    with monkeypatch.context() as m:
        m.setattr(ocr, "run_engine", raising)
        assert ocr.ocr_image(source, ctx).error.startswith("文字识别失败")
    assert ocr.ocr_image(source, ctx).boxes == BOXES


def test_the_engine_runs_on_the_verified_bytes_not_the_path(
        tmp_path: Path, fake_engine: list[tuple[int, int]]) -> None:
    # The file was hashed by the inventory, then replaced: OCR refuses it like every media module.
    source = screenshot(tmp_path)
    source.path.write_bytes(png((300, 300)))
    result = ocr.ocr_image(source, context(tmp_path))
    assert (result.boxes, result.error) == ((), CHANGED_REASON)


def test_the_image_is_decoded_upright_in_rgb(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # EXIF orientation 6 (rotated 90°): the engine gets the upright picture, so the boxes are
    # in the same coordinates as the display copy. Run in this process to see the image.
    exif = Image.Exif()
    exif[0x0112] = 6
    buf = io.BytesIO()
    Image.new("L", (200, 100), 200).save(buf, "JPEG", exif=exif.tobytes())
    source = screenshot(tmp_path, buf.getvalue(), "turned.jpg")
    seen: list[tuple[tuple[int, int], str]] = []
    monkeypatch.setattr(ocr, "run_engine", lambda image: seen.append((image.size, image.mode)) or ())
    assert ocr._recognise(source, 10**8) == ()
    assert seen == [((100, 200), "RGB")]


@pytest.mark.parametrize(("data", "message"), [
    (b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n", "不是可识别的图片格式，未识别文字"),
    (png()[:60], "图片数据损坏，无法解码，未识别文字"),
    (b"", "文件为空"),
])
def test_what_is_not_an_allowed_image_is_not_read(tmp_path: Path, fake_engine: list[tuple[int, int]],
                                                  monkeypatch: pytest.MonkeyPatch, data: bytes, message: str) -> None:
    # EPS is not on media.images' allow-list (Pillow would run Ghostscript for it).
    monkeypatch.setattr(ocr, "run_engine", raising)
    result = ocr.ocr_image(screenshot(tmp_path, data, "odd.png"), context(tmp_path))
    assert (result.boxes, result.error) == ((), message)


def test_the_pixel_limit_is_checked_before_decoding(
        tmp_path: Path, fake_engine: list[tuple[int, int]], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ocr, "run_engine", raising)
    result = ocr.ocr_image(screenshot(tmp_path), context(tmp_path, max_pixels=10_000))
    assert result.error == "图片像素过多（上限 10,000 像素），未识别文字"


def test_the_time_budget_stops_a_slow_engine(tmp_path: Path, fake_engine: list[tuple[int, int]],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    def slow(image: Image.Image) -> tuple[TextBox, ...]:
        time.sleep(30)
        return BOXES

    monkeypatch.setattr(ocr, "run_engine", slow)
    monkeypatch.setattr(ocr, "OCR_SECONDS", 0.5)
    started = time.monotonic()
    result = ocr.ocr_image(screenshot(tmp_path), context(tmp_path))
    assert time.monotonic() - started < 10
    assert result.boxes == ()
    assert "超出处理时限（0.5 秒），已停止文字识别" in result.error


def test_the_memory_budget_stops_a_greedy_engine(tmp_path: Path, fake_engine: list[tuple[int, int]],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    def greedy(image: Image.Image) -> tuple[TextBox, ...]:
        hoard = bytearray(1024**3)
        return BOXES if hoard else ()

    monkeypatch.setattr(ocr, "run_engine", greedy)
    monkeypatch.setattr(ocr, "OCR_MEMORY", 256 * 1024**2)
    result = ocr.ocr_image(screenshot(tmp_path), context(tmp_path))
    assert result.boxes == ()
    assert "超出内存上限（256 MB），已停止文字识别" in result.error


def test_without_the_extra_ocr_says_how_to_add_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "rapidocr", None)  # import rapidocr now fails, installed or not
    assert ocr.engine_version() is None
    result = ocr.ocr_image(screenshot(tmp_path), context(tmp_path))
    assert result == ocr.OcrResult(error=ocr.MSG_UNAVAILABLE)
    assert 'pip install "evidencekit[ocr]"' in result.error
    assert ocr.ocr_unavailable_reason() == ocr.MSG_UNAVAILABLE


def test_a_broken_install_says_to_reinstall(tmp_path: Path, fake_engine: list[tuple[int, int]],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(image: Image.Image) -> tuple[TextBox, ...]:
        raise ImportError("libonnxruntime.so: cannot open shared object file")

    monkeypatch.setattr(ocr, "run_engine", broken)
    result = ocr.ocr_image(screenshot(tmp_path), context(tmp_path))
    assert result.error == '文字识别（OCR）组件无法加载（ImportError），请重新安装：pip install "evidencekit[ocr]"'


_WITHOUT_ENGINE = """
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("rapidocr", "onnxruntime", "cv2", "numpy"):
            raise ImportError("blocked: " + name)
sys.meta_path.insert(0, Block())
from click.testing import CliRunner
from evidencekit.cli import main
from evidencekit.media import ocr
from evidencekit.rules.ocr_fields import extract_facts, load_ocr_fields, TextBox
import evidencekit.pipeline, evidencekit.media.dispatch, evidencekit.pdf.render
assert CliRunner().invoke(main, ["--help"]).exit_code == 0
assert ocr.ocr_unavailable_reason() == ocr.MSG_UNAVAILABLE, ocr.ocr_unavailable_reason()
box = TextBox("实付款：¥86.90", ((0, 0), (100, 0), (100, 20), (0, 20)), 1.0)
assert [f.value for f in extract_facts([box], load_ocr_fields())] == ["86.90"]
print("ok")
"""


def test_without_the_extra_everything_else_imports_and_runs() -> None:
    # A fresh interpreter where the engine and its libraries cannot be imported at all.
    proc = subprocess.run([sys.executable, "-c", _WITHOUT_ENGINE], capture_output=True, text=True,
                          timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"
