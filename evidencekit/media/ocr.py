"""Text in screenshots (OCR), with the optional ``evidencekit[ocr]`` extra.

:func:`ocr_image` reads the verified original's bytes (integrity.originals), decodes them with
the same Pillow format allow-list, byte limit and pixel limit as media.images, and runs the
engine in a budgeted child process (media.budget.run_budgeted) with a time and memory cap. The
result, text boxes with their corners in the upright original's pixels and the engine's
score, is cached by the original's SHA-256 and the engine's name and version, so a rebuild
never runs OCR again. rules.ocr_fields reads the facts out of the boxes.

The engine is RapidOCR (the ``rapidocr`` package, PP-OCR models shipped inside the wheel, run
by onnxruntime on the CPU, no download at run time). Without the extra, or with a broken
install, nothing raises: the result's ``error`` says, in Chinese, how to add it. The engine is
imported only in the child process, so this process never loads onnxruntime's thread pools.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from importlib import metadata, util
from typing import Any

from PIL import Image, ImageOps, UnidentifiedImageError

from evidencekit.errors import BudgetExceeded, OriginalChanged
from evidencekit.integrity.originals import read_original
from evidencekit.media.base import MediaContext
from evidencekit.media.budget import run_budgeted
from evidencekit.media.container import read_facts, write_facts
from evidencekit.media.images import (
    _HEIF_BRANDS,
    _HEIF_SUFFIXES,
    MAX_IMAGE_BYTES,
    _allowed_formats,
    _register_heif,
)
from evidencekit.model import SourceFile
from evidencekit.rules.ocr_fields import TextBox

ENGINE = "rapidocr"
# The package that provides ENGINE; its version is part of every cache key.
ENGINE_DISTRIBUTION = "rapidocr"
INSTALL_HINT = 'pip install "evidencekit[ocr]"'
# Bump when what is cached changes, so results of older code are not reused.
OCR_VERSION = 1

# Budget of one OCR run in its child process (importing the engine, loading its models,
# decoding, recognising). A 1080×2400 screenshot takes 5–6 CPU seconds, 10–15 s wall on a
# 2-core machine shared with other work (benchmarks/README.md); the engine scales every image
# to at most 2000 px on its longer side for detection, so 60 s is only reached by hostile input.
OCR_SECONDS = 60.0
# Address space the child may add (RLIMIT_AS counts onnxruntime's reservations, not only pages
# in use). Measured (benchmarks/bench_ocr.py --address-space): a 1080×2400 screenshot is read
# with 1280 MiB and not with 1024; a 4000×3000 photo with 2048 MiB and not with 1536. 3 GiB
# leaves a margin over both and still stops a runaway.
OCR_MEMORY = 3 * 1024**3

MSG_UNAVAILABLE = f"未安装文字识别（OCR）组件，无法读取截图中的文字。需要时运行 {INSTALL_HINT} 安装"
_MSG_BROKEN = "文字识别（OCR）组件无法加载（{error}），请重新安装：" + INSTALL_HINT
_MSG_EMPTY = "文件为空"
_MSG_TOO_LARGE = f"文件过大（超过 {MAX_IMAGE_BYTES // 1024**2} MB），未识别文字"
_MSG_UNKNOWN = "不是可识别的图片格式，未识别文字"
_MSG_DAMAGED = "图片数据损坏，无法解码，未识别文字"
_MSG_PIXELS = "图片像素过多（上限 {limit:,} 像素），未识别文字"
_MSG_FAILED = "文字识别失败（{error}），未识别文字"
_MSG_NO_HEIF = "无法解码 HEIC 图片（缺少 pillow-heif 组件），未识别文字"


@dataclass(frozen=True)
class OcrResult:
    """What OCR read in one original: its text boxes in reading order, and which engine read
    them (``rapidocr 3.10.0``); ``error`` (Chinese, for the user) is set when nothing could be read."""

    boxes: tuple[TextBox, ...] = ()
    engine: str = ""
    error: str = ""


def engine_version() -> str | None:
    """The installed engine's version, or None when the extra is not installed.

    Looks the package up without importing it (importing loads onnxruntime and OpenCV)."""
    try:
        if util.find_spec(ENGINE) is None:
            return None
        return metadata.version(ENGINE_DISTRIBUTION)
    except (ImportError, ValueError, metadata.PackageNotFoundError):
        # ValueError: a module set to None in sys.modules (how tests hide an installed package).
        return None


def ocr_unavailable_reason() -> str | None:
    """Chinese text saying how to add OCR, or None when the extra is installed."""
    return None if engine_version() is not None else MSG_UNAVAILABLE


def ocr_image(source: SourceFile, ctx: MediaContext) -> OcrResult:
    """The text boxes OCR reads in one still image; never raises for a bad image or a missing engine."""
    version = engine_version()
    if version is None:
        return OcrResult(error=MSG_UNAVAILABLE)
    engine = f"{ENGINE} {version}"
    path = ctx.cache.path_for(source.sha256, _params(version), ".json")
    cached = _from_json(read_facts(ctx.cache, path))
    if cached is not None:
        return OcrResult(cached, engine)
    if source.size == 0:
        return OcrResult(engine=engine, error=_MSG_EMPTY)
    if source.size > MAX_IMAGE_BYTES:
        return OcrResult(engine=engine, error=_MSG_TOO_LARGE)
    try:
        outcome = run_budgeted(_recognise, source, ctx.max_pixels, seconds=OCR_SECONDS, memory=OCR_MEMORY)
    except OriginalChanged as exc:
        return OcrResult(engine=engine, error=exc.reason)
    except BudgetExceeded as exc:
        return OcrResult(engine=engine, error=exc.reason.replace("解码", "文字识别"))
    except ImportError as exc:  # the package is there but does not load (a missing native library)
        return OcrResult(engine=engine, error=_MSG_BROKEN.format(error=type(exc).__name__))
    if isinstance(outcome, str):
        return OcrResult(engine=engine, error=outcome)
    write_facts(ctx.cache, path, {"version": OCR_VERSION, "engine": engine, "boxes": [_to_json(b) for b in outcome]})
    return OcrResult(outcome, engine)


def _params(version: str) -> dict[str, object]:
    return {"renderer": "ocr", "version": OCR_VERSION, "engine": ENGINE, "engine_version": version}


def _to_json(box: TextBox) -> dict[str, Any]:
    return {"text": box.text, "box": [list(p) for p in box.box], "score": box.score}


def _from_json(data: dict[str, Any] | None) -> tuple[TextBox, ...] | None:
    """The cached boxes, or None for an absent, stale or damaged sidecar (read again)."""
    if data is None or data.get("version") != OCR_VERSION:
        return None
    try:
        return tuple(
            TextBox(str(b["text"]), tuple((int(x), int(y)) for x, y in b["box"]), float(b["score"]))
            for b in data["boxes"]
        )
    except (KeyError, TypeError, ValueError):
        return None


# ---------------------------------------------------------------------------------------------
# In the budgeted child process
# ---------------------------------------------------------------------------------------------


def _recognise(source: SourceFile, max_pixels: int) -> tuple[TextBox, ...] | str:
    """Decode the verified bytes and run the engine: the boxes, or a Chinese reason for none."""
    image = _decode(source, max_pixels)
    if isinstance(image, str):
        return image
    try:
        return run_engine(image)
    except (ImportError, MemoryError):
        raise  # a broken extra, or the memory budget (media.budget says which): not the image
    except Exception as exc:  # the engine's own failure on odd input must not stop a build
        return _MSG_FAILED.format(error=type(exc).__name__)


def _decode(source: SourceFile, max_pixels: int) -> Image.Image | str:
    data = read_original(source)
    if not data:
        return _MSG_EMPTY
    head = data[:32]
    if source.suffix in _HEIF_SUFFIXES or (head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS):
        try:
            _register_heif()
        except ImportError:
            return _MSG_NO_HEIF
    # Our own size check below runs on the header, before any pixel is decoded.
    Image.MAX_IMAGE_PIXELS = max_pixels
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            im = Image.open(io.BytesIO(data), formats=_allowed_formats())
            if im.width * im.height > max_pixels:
                return _MSG_PIXELS.format(limit=max_pixels)
            return ImageOps.exif_transpose(im).convert("RGB")
        except UnidentifiedImageError:
            return _MSG_UNKNOWN
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            return _MSG_PIXELS.format(limit=max_pixels)
        except Exception:  # untrusted bytes: any decoder failure means "no text"
            return _MSG_DAMAGED


def run_engine(image: Image.Image) -> tuple[TextBox, ...]:
    """The engine on an RGB image: its boxes, top to bottom. Raises ImportError without the extra."""
    import numpy
    from rapidocr import RapidOCR

    engine = RapidOCR(params=_ENGINE_PARAMS)
    # OpenCV's channel order: the engine takes an array as BGR.
    output: Any = engine(numpy.asarray(image)[:, :, ::-1])  # RapidOCROutput, with det, cls and rec on
    if output.boxes is None or output.txts is None or output.scores is None:
        return ()
    boxes = []
    for corners, text, score in zip(output.boxes, output.txts, output.scores, strict=True):
        points = tuple((round(float(x)), round(float(y))) for x, y in corners)
        boxes.append(TextBox(str(text), points, round(float(score), 3)))
    return tuple(boxes)


# The wheel's own models (no model_root_dir, no download); the engine's log off (a library
# does not print); two threads for the two cores, as measured in benchmarks/README.md.
_ENGINE_PARAMS: dict[str, object] = {
    "Global.log_level": "critical",
    "EngineConfig.onnxruntime.intra_op_num_threads": 2,
    "EngineConfig.onnxruntime.inter_op_num_threads": 1,
}
