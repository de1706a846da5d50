"""Still images: facts (size, EXIF time, privacy metadata) and display copies for the PDF.

A display copy is a fresh JPEG at about ``ctx.dpi`` for the exhibit box, upright, in RGB or L,
carrying no metadata at all (no EXIF, XMP, ICC or comments), with any ``redact:`` rectangles
painted black before encoding. Tall screenshots become several overlapping segments, each as
wide as the box, instead of one unreadable strip.

Copies are cached by the original's SHA-256 plus every parameter that changes the output; a
small JSON sidecar keeps the facts, so a warm rebuild opens no original at all.

Originals are untrusted: a file that cannot be decoded never raises, it yields an Inspection
whose ``preview_error`` says why (in Chinese), and the size is checked from the header before
any pixel is decoded.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import math
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from PIL import Image, UnidentifiedImageError

from evidencekit.errors import CHANGED_REASON, OriginalChanged
from evidencekit.integrity.originals import read_original
from evidencekit.media.base import MAX_EXHIBIT_PAGES, MediaContext
from evidencekit.model import (
    DisplayImage,
    EvidenceOverride,
    Finding,
    ImageInspection,
    Inspection,
    Rect,
    Severity,
    SourceFile,
    Stamp,
    TimeSource,
)
from evidencekit.timeinfo import parse_exif_datetime, parse_exif_offset

IMAGE_SUFFIXES = frozenset(
    {".jpg", ".jpeg", ".png", ".webp", ".heic", ".heif", ".bmp", ".gif", ".tif", ".tiff"}
)
_HEIF_SUFFIXES = frozenset({".heic", ".heif"})
# Pillow would otherwise try every plugin it has, EPS among them, which runs Ghostscript on
# load: case folders come from strangers, so only the formats we mean to show are parsed.
# MPO (phone JPEGs with a depth map) needs no entry: Pillow's JPEG opener hands those out.
# None of these opens another file; Pillow parses the verified bytes from memory, never a path.
_FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF", "HEIF")
# Pillow decodes from memory (the verified bytes); a larger "image" is attached, not shown.
# Phone photos are 2–15 MB, a 200 MP JPEG about 60 MB.
MAX_IMAGE_BYTES = 256 * 1024**2
# ISO-BMFF major brands of HEIF stills; iPhone photos sent through chat apps often arrive as
# ".jpg" while still being HEIC, so the first bytes decide as well as the suffix.
_HEIF_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs",
                          b"mif1", b"msf1", b"mif2"})

# Bump when the rendering changes, so cached copies made by older code are not reused.
# 4: the sidecar keeps every embedded time (EXIF, XMP, IFD0 DateTime, GPS), not only EXIF's.
# 5: single-page PNG (and other non-JPEG) copies reduced by an integer factor (REDUCIBLE_MODES).
RENDER_VERSION = 5

# A picture up to this much taller than the box (at box width) is shrunk to fit on one page;
# beyond it, shrinking would make screenshot text unreadable, so it is split. 2.0 keeps an
# ordinary 20:9 phone screenshot (1080×2400) on one page at about half the box width (≈9 cm,
# wider than the phone's own screen), and splits real "long screenshots".
TALL_TOLERANCE = 2.0
# Consecutive segments share this fraction of a segment's height, so no chat line is cut in
# half without also appearing whole on one of the two pages.
SEGMENT_OVERLAP = 0.08
# A single-page picture may be decoded down to this fraction of its planned display width
# when that lets libjpeg use the next smaller DCT scale: a 4000×3000 photo then decodes at 1/4
# (1000 px, ≈140 dpi on the page) instead of 1/2 plus a resize — about 3× faster, and still
# sharper than any print of the page needs. Split screenshots are never relaxed.
DRAFT_SLACK = 0.9
# A pathological strip (say 10×100000 px) would otherwise become thousands of pages: at most
# this many pages (MediaContext.max_exhibit_pages, the per-exhibit page cap). A picture that
# needs up to MAX_SHRINK times as many is shrunk to fit; a longer one shows its first pages at
# full size, with a note, and the whole original stays attached.
MAX_SEGMENTS = MAX_EXHIBIT_PAGES
MAX_SHRINK = 1.5
# Splitting a sliver-thin image gains nothing: a segment this short holds no line of text.
MIN_SEGMENT_HEIGHT = 32

_WHITE = 255

# EXIF tags (numbers from the EXIF 2.32 / DNG specs) whose presence we report because they can
# identify a person, a place or a device; the display copy carries no EXIF at all.
_TAG_ORIENTATION = 0x0112
_TAG_DATETIME = 0x0132  # IFD0: when the file was last written
_TAG_ARTIST = 0x013B
_TAG_CAMERA_SERIAL = 0xC62F  # DNG CameraSerialNumber, also written by some vendors in IFD0
_TAG_EXIF_IFD = 0x8769
_TAG_GPS_IFD = 0x8825
_TAG_DATETIME_ORIGINAL = 0x9003
_TAG_DATETIME_DIGITIZED = 0x9004
_TAG_OFFSET_ORIGINAL = 0x9011
_TAG_OFFSET_DIGITIZED = 0x9012
_TAG_SUBSEC_ORIGINAL = 0x9291
_TAG_SUBSEC_DIGITIZED = 0x9292
_TAG_OFFSET_TIME = 0x9010  # the offset of IFD0 DateTime
_TAG_SUBSEC_TIME = 0x9290
_TAG_GPS_TIMESTAMP = 0x0007  # GPS IFD: UTC hours, minutes, seconds as rationals
_TAG_GPS_DATESTAMP = 0x001D  # GPS IFD: "YYYY:MM:DD", UTC

# XMP packets are read with a bounded regular expression, never an XML parser (no entity
# expansion, no network). A packet longer than this is cut; real ones are a few KB.
MAX_XMP_BYTES = 256 * 1024
_XMP_START = b"<x:xmpmeta"
_XMP_END = b"</x:xmpmeta>"
# (tag as stored, Chinese name) strongest first: photoshop:DateCreated and exif:DateTimeOriginal
# are the shot (Metadata Working Group), xmp:CreateDate is when the file was first made.
_XMP_TIMES = (
    ("exif:DateTimeOriginal", "XMP 拍摄时间 exif:DateTimeOriginal"),
    ("photoshop:DateCreated", "XMP 拍摄时间 photoshop:DateCreated"),
    ("xmp:CreateDate", "XMP 创建时间 xmp:CreateDate"),
)
_XMP_DATE = re.compile(
    r"(?P<dt>\d{4}-\d\d-\d\dT\d\d:\d\d(?::\d\d)?)(?:\.(?P<frac>\d+))?(?P<tz>Z|[+-]\d\d:?\d\d)?", re.ASCII
)
# How each embedded tag is named and ranked; the tag is what the sidecar keeps.
_TIME_SOURCES: dict[str, tuple[TimeSource, str]] = {
    "DateTimeOriginal": (TimeSource.EXIF, "EXIF DateTimeOriginal"),
    "DateTimeDigitized": (TimeSource.EXIF, "EXIF DateTimeDigitized"),
    **{tag: (TimeSource.XMP, name) for tag, name in _XMP_TIMES},
    "DateTime": (TimeSource.EXIF_DATETIME, "EXIF 修改时间 DateTime（无拍摄时间；编辑或另存会更新此时间）"),
    "GPS": (TimeSource.GPS, "GPS 时间 GPSDateStamp/GPSTimeStamp（UTC，为定位时刻，可能早于拍摄）"),
}

_IFD0_PRIVATE = ((_TAG_CAMERA_SERIAL, "相机序列号 CameraSerialNumber"), (_TAG_ARTIST, "作者 Artist"))
_EXIF_IFD_PRIVATE = (
    (0xA431, "机身序列号 BodySerialNumber"),
    (0xA435, "镜头序列号 LensSerialNumber"),
    (0xA420, "图像唯一编号 ImageUniqueID"),
    (0xA430, "机主姓名 CameraOwnerName"),
    (0x927C, "厂商私有数据 MakerNote"),
)
_GPS_LABEL = "GPS 位置"
_XMP_LABEL = "XMP 元数据"
_COMMENT_LABEL = "文件内注释"
_OTHER_EXIF_LABEL = "其余 EXIF 信息（设备型号、拍摄参数等）"

# Same mapping as ImageOps.exif_transpose; applied to the already reduced image, which is
# cheaper than transposing the full-resolution decode.
_TRANSPOSE: dict[int, Image.Transpose] = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}

_MSG_EMPTY = "文件为空"
_MSG_TRUNCATED = "图片数据不完整（文件可能被截断）"
_MSG_UNKNOWN = "不是可识别的图片格式"
_MSG_DAMAGED = "图片数据损坏，无法解码"
_MSG_NO_HEIF = "无法解码 HEIC 图片（缺少 pillow-heif 组件）"
_MSG_MEMORY = "图片过大，内存不足，无法解码"

_heif_registered = False


# ---------------------------------------------------------------------------------------------
# Public entry point
# ---------------------------------------------------------------------------------------------


def inspect_image(source: SourceFile, override: EvidenceOverride | None, ctx: MediaContext) -> Inspection:
    """Facts and display copies for one still image; never raises for a bad image."""
    rects = tuple(override.redact) if override is not None else ()
    params = _render_params(ctx, rects)
    cached = _load_cached(source, params, ctx)
    if cached is not None:
        return cached
    try:
        decoded = _decode(source, rects, ctx)
    except _Undecodable as failure:
        return _failed_inspection(source, failure, ctx)
    facts, images = _render(source, decoded, rects, params, ctx)
    _store_facts(source, params, facts, ctx)
    return _inspection(source, facts, images, ctx)


# ---------------------------------------------------------------------------------------------
# Facts: what we learn from an original, kept in the cache sidecar
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _ExifTime:
    """The raw embedded strings; parsed on use, so the cache holds nothing that depends on ``ctx.tz``."""

    tag: str  # a key of _TIME_SOURCES: "DateTimeOriginal", "DateTime", "xmp:CreateDate", "GPS", ...
    value: str
    offset: str
    subsec: str


@dataclass(frozen=True)
class _Segment:
    width: int
    height: int
    sha256: str
    caption: str


@dataclass(frozen=True)
class _Facts:
    width: int  # upright original
    height: int
    segments: tuple[_Segment, ...]
    times: tuple[_ExifTime, ...]  # every embedded time found, strongest first
    removed_metadata: tuple[str, ...]
    redacted: bool
    findings: tuple[tuple[str, str, str], ...]  # (severity, code, message); subject added on use

    def to_json(self) -> dict[str, Any]:
        return {
            "version": RENDER_VERSION,
            "width": self.width,
            "height": self.height,
            "segments": [
                {"width": s.width, "height": s.height, "sha256": s.sha256, "caption": s.caption}
                for s in self.segments
            ],
            "times": [{"tag": t.tag, "value": t.value, "offset": t.offset, "subsec": t.subsec}
                      for t in self.times],
            "removed_metadata": list(self.removed_metadata),
            "redacted": self.redacted,
            "findings": [list(f) for f in self.findings],
        }

    @classmethod
    def from_json(cls, data: Any) -> _Facts:
        """Raises KeyError/TypeError/ValueError on anything unexpected (treated as a cache miss)."""
        if data["version"] != RENDER_VERSION:
            raise ValueError("stale sidecar")
        times = tuple(
            _ExifTime(str(t["tag"]), str(t["value"]), str(t["offset"]), str(t["subsec"])) for t in data["times"]
        )
        segments = tuple(
            _Segment(int(s["width"]), int(s["height"]), str(s["sha256"]), str(s["caption"]))
            for s in data["segments"]
        )
        if not segments:
            raise ValueError("no segments")
        findings = []
        for item in data["findings"]:
            severity, code, message = (str(x) for x in item)
            Severity(severity)  # validates
            findings.append((severity, code, message))
        return cls(
            width=int(data["width"]),
            height=int(data["height"]),
            segments=segments,
            times=times,
            removed_metadata=tuple(str(x) for x in data["removed_metadata"]),
            redacted=bool(data["redacted"]),
            findings=tuple(findings),
        )


def _inspection(source: SourceFile, facts: _Facts, images: Sequence[DisplayImage],
                ctx: MediaContext) -> Inspection:
    stamp, time_findings = _exif_stamp(facts.times, ctx)
    findings = tuple(Finding(Severity(sev), code, msg, source.rel_path) for sev, code, msg in facts.findings)
    return ImageInspection(
        images=tuple(images),
        embedded_time=stamp,
        width=facts.width,
        height=facts.height,
        removed_metadata=facts.removed_metadata,
        redacted=facts.redacted,
        findings=findings + tuple(Finding(Severity.INFO, c, m, source.rel_path) for c, m in time_findings),
    )


def _exif_stamp(times: Sequence[_ExifTime], ctx: MediaContext) -> tuple[Stamp | None, list[tuple[str, str]]]:
    """The strongest usable embedded time as a Stamp, plus (code, message) notes for unusable ones."""
    notes: list[tuple[str, str]] = []
    for raw in times:
        if raw.tag not in _TIME_SOURCES:
            continue
        source, name = _TIME_SOURCES[raw.tag]
        moment = parse_exif_datetime(raw.value, raw.offset or None, ctx.tz)
        if moment is None:
            shown = raw.value.strip("\x00 ")[:40]
            what = "EXIF 拍摄时间" if source is TimeSource.EXIF else name.split("（")[0]
            notes.append(("image.exif_time_invalid", f"{what}无法识别（{raw.tag} = “{shown}”），未采用"))
            continue
        digits = re.sub(r"\D", "", raw.subsec)[:6]
        if digits and moment.microsecond == 0:
            moment = moment.replace(microsecond=int(digits.ljust(6, "0")))
        detail = name
        if source is TimeSource.GPS:
            moment = moment.astimezone(ctx.tz)  # UTC by the GPS spec; shown in the case zone
        elif parse_exif_offset(raw.offset or None) is None:
            detail += f"；未记录时区，按 {_describe_offset(moment)} 理解"
        return Stamp(moment, source, detail), notes
    return None, notes


def _describe_offset(moment: datetime) -> str:
    offset = moment.utcoffset()
    hours = 0.0 if offset is None else offset.total_seconds() / 3600
    return "UTC" if hours == 0 else f"UTC{hours:+g}"


def _failed_inspection(source: SourceFile, failure: _Undecodable, ctx: MediaContext) -> Inspection:
    if failure.reason == CHANGED_REASON:
        return ImageInspection(preview_error=failure.reason, findings=(
            Finding(Severity.WARNING, "media.changed", f"{source.name}：{failure.reason}", source.rel_path),))
    # The header was readable, so its capture time still helps the index and timeline.
    stamp, notes = _exif_stamp(failure.times, ctx)
    finding = Finding(Severity.WARNING, "image.undecodable",
                      f"{failure.reason}，未生成预览；原件已计算哈希并随证据材料附上", source.rel_path)
    return ImageInspection(
        embedded_time=stamp,
        width=failure.width,
        height=failure.height,
        findings=(finding, *(Finding(Severity.INFO, c, m, source.rel_path) for c, m in notes)),
        preview_error=failure.reason,
    )


# ---------------------------------------------------------------------------------------------
# Cache
# ---------------------------------------------------------------------------------------------


def _render_params(ctx: MediaContext, rects: Sequence[Rect]) -> dict[str, object]:
    box_w, box_h = ctx.box_pixels()
    return {
        "renderer": "image",
        "version": RENDER_VERSION,
        **ctx.display_params(),
        "box": [box_w, box_h],
        "max_pages": ctx.max_exhibit_pages,
        "redact": [list(r) for r in rects],
    }


def _segment_path(source: SourceFile, params: dict[str, object], index: int, ctx: MediaContext) -> Path:
    return ctx.cache.path_for(source.sha256, {**params, "segment": index}, ".jpg")


def _load_cached(source: SourceFile, params: dict[str, object], ctx: MediaContext) -> Inspection | None:
    facts_path = ctx.cache.path_for(source.sha256, params, ".json")
    if not ctx.cache.lookup(facts_path):
        return None
    try:
        facts = _Facts.from_json(json.loads(facts_path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        return None  # damaged or foreign sidecar: render again and overwrite it
    images = []
    for index, seg in enumerate(facts.segments):
        path = _segment_path(source, params, index, ctx)
        # The PDF's appendix lists this hash, so it must be of the file actually embedded.
        if not ctx.cache.verified(path, seg.sha256):
            return None  # pruned or changed: the sidecar alone is not enough
        images.append(DisplayImage(path, seg.width, seg.height, seg.sha256, seg.caption))
    return _inspection(source, facts, images, ctx)


def _store_facts(source: SourceFile, params: dict[str, object], facts: _Facts, ctx: MediaContext) -> None:
    # Written after every segment, so a present sidecar means the copies were complete.
    path = ctx.cache.path_for(source.sha256, params, ".json")
    with contextlib.suppress(OSError):  # no sidecar only costs decoding again next time
        ctx.cache.store(path, json.dumps(facts.to_json(), ensure_ascii=False, sort_keys=True).encode("utf-8"))


# ---------------------------------------------------------------------------------------------
# Decoding (everything that touches untrusted bytes)
# ---------------------------------------------------------------------------------------------


class _Undecodable(Exception):
    def __init__(self, reason: str, width: int | None = None, height: int | None = None,
                 times: tuple[_ExifTime, ...] = ()) -> None:
        super().__init__(reason)
        self.reason = reason
        self.width = width  # upright when known, so the index row still shows the size
        self.height = height
        self.times = times


@dataclass
class _Decoded:
    image: Image.Image  # upright, at display size; RGB, RGBA, L, LA or CMYK
    layout: Layout
    width: int  # upright original size
    height: int
    icc_profile: bytes | None
    times: tuple[_ExifTime, ...]
    removed_metadata: tuple[str, ...]
    findings: tuple[tuple[str, str, str], ...]


def _decode(source: SourceFile, rects: Sequence[Rect], ctx: MediaContext) -> _Decoded:
    """Open, check the header size, read metadata and decode at a reduced size where possible."""
    if source.size > MAX_IMAGE_BYTES:
        raise _Undecodable(f"文件过大（超过 {MAX_IMAGE_BYTES // 1024**2} MB）")
    try:
        data = read_original(source)
    except OriginalChanged as exc:
        raise _Undecodable(exc.reason) from exc
    head = data[:32]
    if not head:
        raise _Undecodable(_MSG_EMPTY)
    if source.suffix in _HEIF_SUFFIXES or (head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS):
        try:
            _register_heif()
        except ImportError as exc:
            raise _Undecodable(_MSG_NO_HEIF) from exc

    # Opening parses headers only, and is allowed at any claimed size: the metadata (the capture
    # time above all) is read before any pixel limit, so a refused image still has its time.
    # Our own check in _decode_opened then refuses, or picks a reduced decode, before a pixel
    # is decoded; Pillow's bomb check at our limit stays as a second line of defence for
    # decoders that meet larger frames later (they warn, which _decode_opened turns into errors).
    Image.MAX_IMAGE_PIXELS = None
    with warnings.catch_warnings():
        # Pillow warns about odd but usable files (corrupt MakerNote, ...); a library must not
        # print, and the file's problems surface as findings or preview errors instead.
        warnings.simplefilter("ignore")
        try:
            im = Image.open(io.BytesIO(data), formats=_allowed_formats())
        except UnidentifiedImageError as exc:
            raise _Undecodable(_MSG_UNKNOWN) from exc
        except Exception as exc:  # untrusted bytes: any parser failure means "no preview"
            raise _Undecodable(_describe_failure(exc)) from exc
        finally:
            Image.MAX_IMAGE_PIXELS = ctx.max_pixels
        with im:
            return _decode_opened(im, data, rects, ctx)


# Formats that can decode a reduced copy of a picture whose full size is over the pixel limit:
# libjpeg scales by 1/2, 1/4 or 1/8 while decoding; HEIF files carry a smaller thumbnail.
_REDUCIBLE = frozenset({"JPEG", "MPO", "HEIF"})
_JPEG_SCALES = (1, 2, 4, 8)
# Modes Image.reduce() averages correctly; RGBA/LA are left to LANCZOS, which premultiplies alpha.
REDUCIBLE_MODES = frozenset({"RGB", "L"})


def integer_reduction(size: tuple[int, int], target: tuple[int, int]) -> int:
    """The largest integer factor that keeps ``size`` at or above ``target`` (both in stored
    orientation), or 1. What libjpeg's draft() does for JPEG, done by a box average for the
    formats that decode at full size: a 1080×2400 screenshot planned at 581×1292 becomes
    540×1200 (93 % of the planned width, inside DRAFT_SLACK) with no resampling at all,
    measured about 10× cheaper than the LANCZOS resample it replaces."""
    factor = 1
    while factor < 64 and all(-(-side // (factor + 1)) >= want for side, want in zip(size, target, strict=True)):
        factor += 1
    return factor


def _decode_opened(im: Image.Image, data: bytes, rects: Sequence[Rect], ctx: MediaContext) -> _Decoded:
    stored_w, stored_h = im.size
    over_limit = stored_w * stored_h > ctx.max_pixels
    findings: list[tuple[str, str, str]] = []
    # A PNG eXIf chunk after the pixel data is only found by decoding; never for a PNG too
    # large to decode (its time is then read from chunks before the pixels only).
    png_trailing_exif = im.format == "PNG" and "exif" not in im.info and not over_limit
    try:
        if png_trailing_exif:
            # getexif() would load anyway, and PNGs are decoded at full size regardless.
            im.load()
        # PNG's getexif() decodes the whole image to look for a trailing eXIf chunk.
        no_exif_yet = im.format == "PNG" and "exif" not in im.info and over_limit
        orientation, times, removed = _read_metadata(im, Image.Exif() if no_exif_yet else im.getexif())
    except Exception as exc:
        if isinstance(exc, _BOMB_ERRORS):
            raise _Undecodable(_bomb_reason(stored_w, stored_h, ctx.max_pixels), stored_w, stored_h) from exc
        if png_trailing_exif:
            raise _Undecodable(_describe_failure(exc), stored_w, stored_h) from exc
        orientation, times, removed = 1, (), ()
        findings.append((Severity.INFO.value, "image.exif_unreadable",
                         "EXIF 信息损坏，无法读取拍摄时间和方向"))
    times = (*times, *_xmp_times(im, data))
    times = tuple(sorted(times, key=lambda t: _time_rank(t.tag)))
    if "original_orientation" in im.info:
        # pillow-heif has already applied the HEIF transform and rewritten Orientation to 1;
        # never rotate twice, whatever the EXIF says.
        orientation = 1
    turned = orientation in (5, 6, 7, 8)
    upright_w, upright_h = (stored_h, stored_w) if turned else (stored_w, stored_h)
    upright = (upright_w, upright_h)
    if over_limit and im.format not in _REDUCIBLE:
        raise _Undecodable(_bomb_reason(stored_w, stored_h, ctx.max_pixels), *upright, times)
    # MPO "frames" are a phone's depth map or preview, not content the viewer misses.
    if im.format != "MPO" and getattr(im, "is_animated", False):
        findings.append((Severity.INFO.value, "image.animated",
                         "该文件含多帧（动图或多页），预览只显示第一帧"))

    layout = plan_layout(upright_w, upright_h, ctx.box_pixels(), ctx.max_exhibit_pages)
    target = (layout.size[1], layout.size[0]) if turned else layout.size
    relaxed = len(layout.segments) == 1 and not rects
    if relaxed:
        target = (math.ceil(target[0] * DRAFT_SLACK), math.ceil(target[1] * DRAFT_SLACK))
    if over_limit and im.format in ("JPEG", "MPO"):
        target = _jpeg_target_within(stored_w, stored_h, target, ctx.max_pixels) or target
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            # JPEG: libjpeg decodes at 1/2, 1/4 or 1/8 scale, never below the requested size;
            # measured as the cheapest path. HEIF: pillow-heif picks the
            # smallest embedded thumbnail not smaller than the request. A no-op elsewhere.
            drafted = im.draft("RGB", target)
            if over_limit and drafted is None and im.format == "HEIF":
                drafted = im.draft("RGB", (1, 1))  # any thumbnail beats no picture at all
            if over_limit and im.size[0] * im.size[1] > ctx.max_pixels:
                # Even the reduced decode is too large (or there is no thumbnail): refuse.
                raise _Undecodable(_bomb_reason(stored_w, stored_h, ctx.max_pixels), *upright, times)
            im.load()
            working = _to_working_mode(im)
            # The same relaxed reduction for formats that decode at full size (PNG screenshots).
            boxed = relaxed and drafted is None and working.mode in REDUCIBLE_MODES
            reduced_by = integer_reduction(working.size, target) if boxed else 1
            if reduced_by > 1:
                working = working.reduce(reduced_by)
        except _Undecodable:
            raise
        except _BOMB_ERRORS as exc:
            raise _Undecodable(_bomb_reason(stored_w, stored_h, ctx.max_pixels), *upright, times) from exc
        except Exception as exc:  # untrusted bytes: any decoder failure means "no preview"
            raise _Undecodable(_describe_failure(exc), *upright, times) from exc
    if over_limit:
        if im.format == "HEIF":
            findings.append((Severity.INFO.value, "image.thumbnail_preview",
                             f"原图 {upright_w}×{upright_h}（{_pixels(stored_w * stored_h)}）超过解码上限，"
                             f"预览取自文件内嵌的 {working.width}×{working.height} 缩略图；完整原图见附件"))
        # The reduced decode may be smaller than the planned copy: never upscale it.
        reduced = (working.height, working.width) if turned else working.size
        layout = plan_layout(*reduced, ctx.box_pixels(), ctx.max_exhibit_pages)
    # ``box`` is the part of the (possibly reduced) decode that maps onto the whole original.
    box = drafted[1] if drafted is not None else (0.0, 0.0, float(working.width), float(working.height))
    if orientation in _TRANSPOSE:
        # Upright before resampling, so redaction rectangles (given upright) apply directly.
        box = transpose_box(box, working.size, _TRANSPOSE[orientation])
        working = working.transpose(_TRANSPOSE[orientation])
    if relaxed and (drafted is not None or reduced_by > 1) and working.width < layout.size[0]:
        # The reduced decode already is the display copy (see DRAFT_SLACK): no resampling.
        layout = Layout(working.size, ((0, working.height),))
    if rects:
        if working is im:
            working = im.copy()
        # Blacken at decode resolution too: otherwise the resampling filter would smear the
        # hidden pixels into the display pixels just outside the black box.
        _blacken(working, rects, upright_w, upright_h)
    if working.size != layout.size or box != (0, 0, *working.size):
        working = working.resize(layout.size, Image.Resampling.LANCZOS, box=box, reducing_gap=3.0)
    elif working is im:
        working = im.copy()  # ``im`` is closed (and unusable) once we return; this one is small
    icc = im.info.get("icc_profile")
    return _Decoded(
        image=working,
        layout=layout,
        width=upright_w,
        height=upright_h,
        icc_profile=icc if isinstance(icc, bytes) and icc else None,
        times=times,
        removed_metadata=removed,
        findings=tuple(findings),
    )


def _jpeg_target_within(width: int, height: int, target: tuple[int, int], limit: int) -> tuple[int, int] | None:
    """The draft request that makes libjpeg decode at a scale within ``limit`` pixels, or None.

    draft() picks the largest scale whose result is not smaller than the request, so asking for
    the size at the chosen scale (rounded down) gets that scale: the coarser of "fits the
    limit" and "still at least ``target``".
    """
    fits = [s for s in _JPEG_SCALES if math.ceil(width / s) * math.ceil(height / s) <= limit]
    if not fits:
        return None
    # Pillow's own rule: the largest scale s with s <= width // request (and the same for height).
    wanted = min(width // max(1, target[0]), height // max(1, target[1]))
    scale = max(fits[0], max((s for s in _JPEG_SCALES if s <= wanted), default=1))
    return max(1, width // scale), max(1, height // scale)


def _time_rank(tag: str) -> int:
    order = list(TimeSource)
    tags = list(_TIME_SOURCES)
    source = _TIME_SOURCES.get(tag, (TimeSource.NONE, ""))[0]
    return order.index(source) * 100 + (tags.index(tag) if tag in tags else 99)


_BOMB_ERRORS = (Image.DecompressionBombError, Image.DecompressionBombWarning)


def _allowed_formats() -> tuple[str, ...]:
    # Naming a plugin Pillow does not know is a KeyError (HEIF exists only once pillow-heif is
    # registered); init() loads Pillow's plugin list, which open() would do for WebP anyway.
    Image.init()
    return tuple(name for name in _FORMATS if name in Image.OPEN)


def _register_heif() -> None:
    # Deferred: pillow-heif loads 26 MB of native libraries, needed only when a HEIF is seen.
    global _heif_registered
    if not _heif_registered:
        import pillow_heif

        pillow_heif.register_heif_opener()
        _heif_registered = True


def _read_metadata(im: Image.Image, exif: Image.Exif) -> tuple[int, tuple[_ExifTime, ...], tuple[str, ...]]:
    """Orientation, embedded times and the privacy-relevant metadata present in the original."""
    orientation = exif.get(_TAG_ORIENTATION, 1)
    if not isinstance(orientation, int) or orientation not in range(1, 9):
        orientation = 1
    exif_ifd = exif.get_ifd(_TAG_EXIF_IFD) if _TAG_EXIF_IFD in exif else {}
    gps_ifd = exif.get_ifd(_TAG_GPS_IFD) if _TAG_GPS_IFD in exif else {}

    removed: list[str] = []
    # GPSVersionID (tag 0) alone carries no position; some phones write just that.
    if any(tag != 0 for tag in gps_ifd):
        removed.append(_GPS_LABEL)
    removed += [label for tag, label in _IFD0_PRIVATE if _present(exif.get(tag))]
    removed += [label for tag, label in _EXIF_IFD_PRIVATE if _present(exif_ifd.get(tag))]
    if im.info.get("xmp") or im.info.get("XML:com.adobe.xmp"):
        removed.append(_XMP_LABEL)
    if im.info.get("comment"):
        removed.append(_COMMENT_LABEL)
    pointers = {_TAG_EXIF_IFD, _TAG_GPS_IFD, _TAG_ORIENTATION}
    if any(tag not in pointers for tag in exif) or exif_ifd:
        removed.append(_OTHER_EXIF_LABEL)

    times: list[_ExifTime] = []
    for tag_name, ifd, value_tag, offset_tag, subsec_tag in (
        ("DateTimeOriginal", exif_ifd, _TAG_DATETIME_ORIGINAL, _TAG_OFFSET_ORIGINAL, _TAG_SUBSEC_ORIGINAL),
        ("DateTimeDigitized", exif_ifd, _TAG_DATETIME_DIGITIZED, _TAG_OFFSET_DIGITIZED, _TAG_SUBSEC_DIGITIZED),
        ("DateTime", exif, _TAG_DATETIME, _TAG_OFFSET_TIME, _TAG_SUBSEC_TIME),
    ):
        value = _text(ifd.get(value_tag))
        if value.strip("\x00 "):
            offset, subsec = _text(exif_ifd.get(offset_tag)), _text(exif_ifd.get(subsec_tag))
            times.append(_ExifTime(tag_name, value, offset, subsec))
    gps_time = _gps_time(gps_ifd)
    if gps_time is not None:
        times.append(gps_time)
    return orientation, tuple(times), tuple(removed)


def _gps_time(gps_ifd: Any) -> _ExifTime | None:
    """GPSDateStamp + GPSTimeStamp (UTC) as an EXIF-style string, or None when absent or odd."""
    date = _text(gps_ifd.get(_TAG_GPS_DATESTAMP)).strip("\x00 ")
    stamp = gps_ifd.get(_TAG_GPS_TIMESTAMP)
    if not date or not isinstance(stamp, tuple) or len(stamp) != 3:
        return None
    try:
        hours, minutes, seconds = (float(part) for part in stamp)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    if not (0 <= hours < 24 and 0 <= minutes < 60 and 0 <= seconds < 61) or hours % 1 or minutes % 1:
        return None
    whole = min(59, int(seconds))
    micro = round((seconds - int(seconds)) * 1_000_000) if seconds < 60 else 0
    subsec = f"{micro:06d}".rstrip("0") if 0 < micro < 1_000_000 else ""
    return _ExifTime("GPS", f"{date[:10]} {int(hours):02d}:{int(minutes):02d}:{whole:02d}", "Z", subsec)


def _xmp_packet(im: Image.Image, data: bytes) -> str:
    """The XMP packet Pillow found, or the first one in the bytes, at most MAX_XMP_BYTES."""
    for key in ("xmp", "XML:com.adobe.xmp"):
        found = im.info.get(key)
        if isinstance(found, bytes | str) and found:
            text = found if isinstance(found, str) else found.decode("utf-8", "replace")
            return text[:MAX_XMP_BYTES]
    start = data.find(_XMP_START)
    if start < 0:
        return ""
    end = data.find(_XMP_END, start, start + MAX_XMP_BYTES)
    stop = end + len(_XMP_END) if end >= 0 else start + MAX_XMP_BYTES
    return data[start:stop].decode("utf-8", "replace")


def _xmp_times(im: Image.Image, data: bytes) -> tuple[_ExifTime, ...]:
    """Creation times from the XMP packet, written as attributes or as elements."""
    packet = _xmp_packet(im, data)
    if not packet:
        return ()
    times = []
    for tag, _name in _XMP_TIMES:
        name = re.escape(tag)
        m = (re.search(rf"{name}\s*=\s*[\"']([^\"'<>]{{1,64}})[\"']", packet)
             or re.search(rf"<{name}>\s*([^<>]{{1,64}}?)\s*</{name}>", packet))
        if not m:
            continue
        value = m.group(1).strip()
        parsed = _XMP_DATE.fullmatch(value)
        if parsed is None:
            times.append(_ExifTime(tag, value, "", ""))  # reported as unreadable on use
            continue
        times.append(_ExifTime(tag, parsed["dt"], parsed["tz"] or "", (parsed["frac"] or "")[:6]))
    return tuple(times)


def _present(value: object) -> bool:
    if isinstance(value, bytes):
        return bool(value.strip(b"\x00 "))
    if isinstance(value, str):
        return bool(value.strip("\x00 "))
    return value is not None


def _text(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode("ascii", "replace")
    return value if isinstance(value, str) else ""


def _to_working_mode(im: Image.Image) -> Image.Image:
    """RGB, RGBA, L, LA or CMYK: modes LANCZOS resizes correctly (alpha is premultiplied)."""
    mode = im.mode
    if mode in ("RGB", "L") and "transparency" in im.info:
        return im.convert("RGBA" if mode == "RGB" else "LA")
    if mode in ("RGB", "RGBA", "L", "LA"):
        return im
    if mode == "CMYK":
        if im.format in ("JPEG", "MPO") and "adobe" not in im.info:
            # Pillow reads every CMYK JPEG with Adobe's inverted polarity; without the Adobe
            # APP14 marker the data is plain CMYK and must be inverted back.
            from PIL import ImageChops

            return ImageChops.invert(im)
        return im
    if mode == "1":
        return im.convert("L")
    if mode == "P":
        return im.convert("RGBA" if "transparency" in im.info else "RGB")
    if mode in ("PA", "RGBa"):
        return im.convert("RGBA")
    if mode == "La":
        return im.convert("LA")
    if mode.startswith("I;16"):
        # convert("L") would clip every value above 255 to white; scale 16 bits down instead.
        return im.convert("I").point(lambda v: v * (1 / 257)).convert("L")
    if mode in ("I", "F"):
        # 32-bit integer or float scans: stretch the used range (floats are often 0..1) to 8 bits.
        top = im.getextrema()[1]
        high = float(top) if isinstance(top, int | float) else 255.0
        high = max(high, 1.0 if mode == "F" and high <= 1.0 else 255.0)
        return im.point(lambda v: v * (255 / high)).convert("L")
    return im.convert("RGB")  # YCbCr, HSV, RGBX, ...; raises ValueError for LAB and the like


def _bomb_reason(width: int, height: int, limit: int) -> str:
    return f"图片像素过多（{width}×{height}），超过安全上限 {_pixels(limit)}"


def _pixels(n: int) -> str:
    """``1.2 亿像素`` / ``300 万像素`` / ``4096 像素``: how a Chinese reader says a pixel count."""
    if n >= 100_000_000:
        return f"{n / 100_000_000:.3g} 亿像素"
    if n >= 10_000:
        return f"{n / 10_000:.4g} 万像素"
    return f"{n} 像素"


def _describe_failure(exc: BaseException) -> str:
    if isinstance(exc, MemoryError):
        return _MSG_MEMORY
    if isinstance(exc, UnidentifiedImageError):
        return _MSG_UNKNOWN
    text = str(exc).lower()
    if isinstance(exc, EOFError) or "truncated" in text or "premature end" in text:
        return _MSG_TRUNCATED
    if isinstance(exc, ValueError) and "conversion" in text:
        return "不支持的图片颜色模式"
    return _MSG_DAMAGED


# ---------------------------------------------------------------------------------------------
# Layout: how big the display copy is and where it is split
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Layout:
    size: tuple[int, int]  # display copy before splitting, upright
    segments: tuple[tuple[int, int], ...]  # (top, bottom) rows of each page
    shrunk_to_cap: bool = False  # more than MAX_SEGMENTS were needed at box width
    needed: int = 0  # when only the first segments are shown: how many the whole image needs


def plan_layout(width: int, height: int, box: tuple[int, int], max_segments: int = MAX_SEGMENTS) -> Layout:
    """Display size and page segments for an upright ``width``×``height`` image.

    Never upscales. An image that would stand more than TALL_TOLERANCE above the box at box
    width keeps box width and is cut into box-shaped segments overlapping by SEGMENT_OVERLAP;
    at most ``max_segments`` of them (see MAX_SHRINK for what happens beyond).
    """
    box_w, box_h = box
    scale_w = min(1.0, box_w / width)
    disp_w = max(1, round(width * scale_w))
    disp_h = max(1, round(height * scale_w))
    # A segment has the box's aspect ratio at the display width, so the PDF fills the box width.
    seg_h = max(1, round(box_h * disp_w / box_w))
    if disp_h <= seg_h * TALL_TOLERANCE or seg_h < MIN_SEGMENT_HEIGHT:
        scale = min(1.0, box_w / width, box_h / height)
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        return Layout(size, ((0, size[1]),))
    overlap = math.ceil(seg_h * SEGMENT_OVERLAP)
    count = math.ceil((disp_h - seg_h) / (seg_h - overlap)) + 1
    max_segments = max(2, max_segments)
    if count > max_segments * MAX_SHRINK:
        # Shrinking further would make the text unreadable: the first pages at full size.
        tops = [i * (seg_h - overlap) for i in range(max_segments)]
        return Layout((disp_w, disp_h), tuple((top, top + seg_h) for top in tops), needed=count)
    shrunk = count > max_segments
    if shrunk:
        count = max_segments
        # Taller segments (shown smaller on the page) so the whole image fits in the cap.
        seg_h = math.ceil(disp_h / (1 + (count - 1) * (1 - SEGMENT_OVERLAP)))
    # Spread the starts evenly: every overlap is then at least SEGMENT_OVERLAP, none is huge.
    span = disp_h - seg_h
    tops = [round(i * span / (count - 1)) for i in range(count)]
    return Layout((disp_w, disp_h), tuple((top, top + seg_h) for top in tops), shrunk)


# ---------------------------------------------------------------------------------------------
# Rendering (our own pixels from here on; the one untrusted input left is the ICC profile,
# whose parse errors _to_srgb catches)
# ---------------------------------------------------------------------------------------------


def _render(source: SourceFile, decoded: _Decoded, rects: Sequence[Rect], params: dict[str, object],
            ctx: MediaContext) -> tuple[_Facts, list[DisplayImage]]:
    layout = decoded.layout
    disp_w = layout.size[0]
    im = _flatten(decoded.image, decoded.icc_profile)
    # Again at display size: resampling left grey fringes inside the boxes; now they are solid.
    redacted, problems = _blacken(im, rects, decoded.width, decoded.height)
    findings = list(decoded.findings)
    findings += [(Severity.WARNING.value, "image.redact_outside", problem) for problem in problems]
    count = len(layout.segments)
    if layout.shrunk_to_cap:
        findings.append((Severity.WARNING.value, "image.too_long",
                         f"图片过长，按 {count} 段显示时已缩小，文字可能偏小；建议分成多张截图"))
    if layout.needed:
        covered = round(100 * layout.segments[-1][1] / layout.size[1])
        findings.append((Severity.WARNING.value, "image.truncated",
                         f"长截图按页宽显示共需约 {layout.needed} 页，仅显示前 {count} 页（图片上部约 {covered}%）；"
                         "完整图片见附件原件"))

    segments: list[_Segment] = []
    images: list[DisplayImage] = []
    total = layout.needed or count
    for index, (top, bottom) in enumerate(layout.segments):
        piece = im if count == 1 else im.crop((0, top, disp_w, bottom))
        data = _encode_jpeg(piece, ctx.jpeg_quality)
        digest = hashlib.sha256(data).hexdigest()
        path = ctx.cache.store(_segment_path(source, params, index, ctx), data)
        caption = f"第 {index + 1}/{total} 段" if count > 1 else ""
        segments.append(_Segment(piece.width, piece.height, digest, caption))
        images.append(DisplayImage(path, piece.width, piece.height, digest, caption))
    facts = _Facts(
        width=decoded.width,
        height=decoded.height,
        segments=tuple(segments),
        times=decoded.times,
        removed_metadata=decoded.removed_metadata,
        redacted=redacted,
        findings=tuple(findings),
    )
    return facts, images


def _flatten(im: Image.Image, icc_profile: bytes | None) -> Image.Image:
    """RGB or L on white, in sRGB where the original carried a colour profile."""
    if im.mode in ("RGBA", "LA"):
        base_mode = "L" if im.mode == "LA" else "RGB"
        background = Image.new(base_mode, im.size, _WHITE if base_mode == "L" else (_WHITE,) * 3)
        background.paste(im.convert(base_mode), mask=im.getchannel("A"))
        im = background
    if icc_profile is not None and im.mode in ("RGB", "CMYK"):
        converted = _to_srgb(im, icc_profile)
        if converted is not None:
            return converted
    return im.convert("RGB") if im.mode == "CMYK" else im


def _to_srgb(im: Image.Image, icc_profile: bytes) -> Image.Image | None:
    # Phones tag photos Display P3 and print shops CMYK; shown untagged they would look
    # washed out or wrong. A profile LittleCMS cannot use is simply dropped.
    from PIL import ImageCms

    try:
        source_profile = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
        srgb = ImageCms.createProfile("sRGB")
        result = ImageCms.profileToProfile(im, source_profile, srgb, outputMode="RGB")
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return None
    return result


def _blacken(im: Image.Image, rects: Sequence[Rect], width: int, height: int) -> tuple[bool, list[str]]:
    """Paint ``rects`` (pixels of the upright ``width``×``height`` original) black on ``im``."""
    painted = False
    problems = []
    black = 0 if im.mode == "L" else (0,) * len(im.getbands())
    for rect in rects:
        box, problem = _redaction_box(rect, width, height, im.size)
        if problem:
            problems.append(problem)
        if box is not None:
            im.paste(black, box)
            painted = True
    return painted, problems


def transpose_box(box: tuple[float, float, float, float], size: tuple[int, int],
                  method: Image.Transpose) -> tuple[float, float, float, float]:
    """Where ``box`` (left, top, right, bottom) on an image of ``size`` lands after ``method``."""
    x0, y0, x1, y1 = box
    w, h = size
    T = Image.Transpose
    mapped = {
        T.FLIP_LEFT_RIGHT: (w - x1, y0, w - x0, y1),
        T.FLIP_TOP_BOTTOM: (x0, h - y1, x1, h - y0),
        T.ROTATE_180: (w - x1, h - y1, w - x0, h - y0),
        T.ROTATE_90: (y0, w - x1, y1, w - x0),  # counter-clockwise
        T.ROTATE_270: (h - y1, x0, h - y0, x1),  # clockwise
        T.TRANSPOSE: (y0, x0, y1, x1),
        T.TRANSVERSE: (h - y1, w - x1, h - y0, w - x0),
    }
    return mapped.get(method, box)


def _redaction_box(rect: Rect, width: int, height: int,
                   display: tuple[int, int]) -> tuple[tuple[int, int, int, int] | None, str]:
    """The display-copy box to blacken for ``rect`` (original upright pixels), or a problem."""
    x, y, w, h = rect
    if w <= 0 or h <= 0:
        return None, f"遮挡区域 {list(rect)} 的宽或高不大于 0，未遮挡任何内容"
    left, top = max(0, x), max(0, y)
    right, bottom = min(width, x + w), min(height, y + h)
    if left >= right or top >= bottom:
        return None, f"遮挡区域 {list(rect)} 超出图片范围（图片为 {width}×{height} 像素），未遮挡任何内容"
    sx, sy = display[0] / width, display[1] / height
    # One extra pixel on every side: rounding must never leave a sliver of the original.
    box = (
        max(0, math.floor(left * sx) - 1),
        max(0, math.floor(top * sy) - 1),
        min(display[0], math.ceil(right * sx) + 1),
        min(display[1], math.ceil(bottom * sy) + 1),
    )
    return box, ""


def _encode_jpeg(im: Image.Image, quality: int) -> bytes:
    # Pillow would otherwise carry a JPEG comment (and ImageCms an ICC profile) from ``info``
    # into the copy, and the copy must hold pixels only. ``im`` is ours, so clearing is safe.
    im.info = {}
    buffer = io.BytesIO()
    im.save(buffer, "JPEG", quality=quality, optimize=False, progressive=False)
    return buffer.getvalue()
