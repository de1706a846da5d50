"""Still images: orientation, colour modes, metadata stripping, splitting, redaction, bad files, cache."""

from __future__ import annotations

import io
import itertools
import math
import os
import struct
import subprocess
import sys
import zlib
from datetime import datetime, timedelta, timezone
from pathlib import Path

import piexif
import pytest
from factories import make_source_file
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageChops, ImageDraw, ImageFile

from evidencekit.cache import DisplayCache
from evidencekit.media import images
from evidencekit.media.base import MediaContext
from evidencekit.media.images import (
    IMAGE_SUFFIXES,
    MAX_SEGMENTS,
    SEGMENT_OVERLAP,
    TALL_TOLERANCE,
    inspect_image,
    plan_layout,
)
from evidencekit.model import EvidenceOverride, Inspection, MediaType, Severity, SourceFile, TimeSource

RED = (255, 0, 0)
BLUE = (0, 0, 255)


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def ctx(tmp_path: Path) -> MediaContext:
    return MediaContext(cache=DisplayCache(tmp_path / "cache"))


def encode(img: Image.Image, fmt: str, **kw: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def source(tmp_path: Path, name: str, data: bytes) -> SourceFile:
    return make_source_file(tmp_path / "case", f"evidence/product/{name}", data)


def only_copy(result: Inspection) -> Image.Image:
    assert result.preview_error == ""
    assert len(result.images) == 1
    shown = Image.open(result.images[0].path)
    shown.load()
    return shown


def close(pixel: object, expected: tuple[int, ...], tol: int = 24) -> bool:
    values = pixel if isinstance(pixel, tuple) else (pixel,)
    return all(abs(int(a) - b) <= tol for a, b in zip(values, expected, strict=True))


def brightest(img: Image.Image) -> int:
    """The largest channel value anywhere in ``img``."""
    return max(high for _low, high in img.convert("RGB").getextrema())  # type: ignore[misc]


def marked(size: tuple[int, int], corner: int = 40) -> Image.Image:
    """White image with a red block in its top-left corner (to see where the corner ends up)."""
    img = Image.new("RGB", size, "white")
    img.paste(RED, (0, 0, corner, corner))
    return img


def exif_bytes(*, orientation: int | None = None, exif: dict[int, object] | None = None,
               gps: dict[int, object] | None = None, zeroth: dict[int, object] | None = None) -> bytes:
    zeroth = dict(zeroth or {})
    if orientation is not None:
        zeroth[piexif.ImageIFD.Orientation] = orientation
    return piexif.dump({"0th": zeroth, "Exif": exif or {}, "GPS": gps or {}, "1st": {}})


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose IHDR claims ``width``×``height`` but that holds no pixel data at all."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    idat = chunk(b"IDAT", zlib.compress(b""))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + idat + chunk(b"IEND", b"")


@pytest.fixture
def decoded_sizes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """Sizes at which originals were actually decoded (empty: nothing was decoded)."""
    sizes: list[tuple[int, int]] = []
    real_load = ImageFile.ImageFile.load

    def spy(self: ImageFile.ImageFile) -> object:
        if self.tile:  # the first load decodes; later calls return the pixels already there
            sizes.append(self.size)
        return real_load(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", spy)
    return sizes


# ---------------------------------------------------------------------------------------------
# orientation and colour modes
# ---------------------------------------------------------------------------------------------


def test_orientation_6_gives_upright_copy(tmp_path: Path, ctx: MediaContext) -> None:
    # Stored 400×300 with the red block top-left; Orientation 6 means "rotate 90° clockwise to
    # view", so upright the block is top-right and the picture is portrait.
    data = encode(marked((400, 300), 100), "JPEG", quality=95, exif=exif_bytes(orientation=6))
    result = inspect_image(source(tmp_path, "rot.jpg", data), None, ctx)
    assert (result.width, result.height) == (300, 400)
    shown = only_copy(result)
    assert shown.size == (300, 400)
    assert close(shown.getpixel((shown.width - 20, 20)), RED)
    assert close(shown.getpixel((20, 20)), (255, 255, 255))


def test_large_jpeg_is_reduced_to_box_at_dpi_and_never_upscaled(tmp_path: Path, ctx: MediaContext) -> None:
    box_w, box_h = ctx.box_pixels()
    big = inspect_image(source(tmp_path, "big.jpg", encode(marked((4000, 3000), 400), "JPEG")), None, ctx)
    assert (big.width, big.height) == (4000, 3000)
    # Within DRAFT_SLACK of the box width (the 1/4-scale decode, no resampling), never above it.
    assert box_w * images.DRAFT_SLACK <= big.images[0].width <= box_w and big.images[0].height <= box_h
    small = inspect_image(source(tmp_path, "small.png", encode(marked((200, 100)), "PNG")), None, ctx)
    assert (small.images[0].width, small.images[0].height) == (200, 100)
    assert only_copy(small).format == "JPEG"


def test_jpeg_is_decoded_at_reduced_scale_with_draft(tmp_path: Path, ctx: MediaContext,
                                                    decoded_sizes: list[tuple[int, int]]) -> None:
    data = encode(marked((4000, 3000), 400), "JPEG")
    result = inspect_image(source(tmp_path, "photo.jpg", data), None, ctx)
    # libjpeg scaled by 1/4 while decoding: 1000 px is within DRAFT_SLACK of the 1073 px box,
    # so that decode is the display copy itself (measured as the cheapest path).
    assert decoded_sizes == [(1000, 750)]
    assert result.images[0].width == 1000


def test_redacted_jpeg_keeps_full_box_resolution(tmp_path: Path, ctx: MediaContext,
                                                 decoded_sizes: list[tuple[int, int]]) -> None:
    data = encode(marked((4000, 3000), 400), "JPEG")
    override = EvidenceOverride(file="x", redact=((0, 0, 100, 100),))
    result = inspect_image(source(tmp_path, "photo.jpg", data), override, ctx)
    assert decoded_sizes == [(2000, 1500)]
    assert result.images[0].width == ctx.box_pixels()[0]


def test_cmyk_jpeg_with_adobe_marker_shows_right_colours(tmp_path: Path, ctx: MediaContext) -> None:
    cmyk = Image.new("CMYK", (120, 80), (0, 0, 0, 0))  # white paper
    cmyk.paste((0, 255, 255, 0), (0, 0, 60, 80))  # magenta + yellow = red
    data = encode(cmyk, "JPEG", quality=95)
    assert b"Adobe" in data  # the Photoshop-style inverted polarity Pillow assumes
    shown = only_copy(inspect_image(source(tmp_path, "cmyk.jpg", data), None, ctx))
    assert shown.mode == "RGB"
    assert close(shown.getpixel((20, 40)), RED, 40)
    assert close(shown.getpixel((100, 40)), (255, 255, 255), 40)


def _strip_app14(data: bytes) -> bytes:
    at = data.index(b"\xff\xee")
    length = struct.unpack(">H", data[at + 2 : at + 4])[0]
    return data[:at] + data[at + 2 + length :]


def test_cmyk_jpeg_without_adobe_marker_is_not_shown_inverted(tmp_path: Path, ctx: MediaContext) -> None:
    cmyk = Image.new("CMYK", (120, 80), (0, 0, 0, 0))
    cmyk.paste((0, 255, 255, 0), (0, 0, 60, 80))
    # Pillow writes inverted values; pre-inverting stores plain CMYK, then drop the marker.
    data = _strip_app14(encode(ImageChops.invert(cmyk), "JPEG", quality=95))
    assert b"Adobe" not in data
    shown = only_copy(inspect_image(source(tmp_path, "plain_cmyk.jpg", data), None, ctx))
    assert close(shown.getpixel((20, 40)), RED, 40)
    assert close(shown.getpixel((100, 40)), (255, 255, 255), 40)


def test_rgba_png_is_composited_on_white(tmp_path: Path, ctx: MediaContext) -> None:
    img = Image.new("RGBA", (100, 60), (0, 0, 0, 0))  # fully transparent black
    img.paste((255, 0, 0, 255), (0, 0, 50, 60))
    img.paste((255, 0, 0, 128), (50, 0, 100, 60))
    shown = only_copy(inspect_image(source(tmp_path, "alpha.png", encode(img, "PNG")), None, ctx))
    assert shown.mode == "RGB"
    assert close(shown.getpixel((25, 30)), RED)
    assert close(shown.getpixel((75, 30)), (255, 127, 127))


def test_la_png_is_composited_on_white_in_grey(tmp_path: Path, ctx: MediaContext) -> None:
    img = Image.new("LA", (80, 40), (0, 0))
    img.paste((0, 255), (0, 0, 40, 40))
    shown = only_copy(inspect_image(source(tmp_path, "la.png", encode(img, "PNG")), None, ctx))
    assert shown.mode == "L"
    assert close(shown.getpixel((20, 20)), (0,))
    assert close(shown.getpixel((60, 20)), (255,))


def test_16bit_png_is_scaled_not_clipped(tmp_path: Path, ctx: MediaContext) -> None:
    img = Image.new("I;16", (80, 40), 40000)
    img.paste(Image.new("I;16", (40, 40), 1000), (0, 0))
    data = encode(img, "PNG")
    assert Image.open(io.BytesIO(data)).mode == "I;16"
    shown = only_copy(inspect_image(source(tmp_path, "deep.png", data), None, ctx))
    assert shown.mode == "L"
    assert close(shown.getpixel((60, 20)), (40000 // 257,), 4)  # plain convert("L") gives 255
    assert close(shown.getpixel((20, 20)), (1000 // 257,), 4)


def test_palette_with_transparency_is_white_where_transparent(tmp_path: Path, ctx: MediaContext) -> None:
    img = Image.new("P", (60, 30), 0)
    img.putpalette([0, 0, 0, 0, 0, 255] + [0] * 762)  # index 0 black, index 1 blue
    img.paste(1, (30, 0, 60, 30))
    data = encode(img, "PNG", transparency=0)
    shown = only_copy(inspect_image(source(tmp_path, "pal.png", data), None, ctx))
    assert close(shown.getpixel((10, 15)), (255, 255, 255))
    assert close(shown.getpixel((50, 15)), BLUE)


def test_rgb_png_with_colour_key_transparency_is_white_there(tmp_path: Path, ctx: MediaContext) -> None:
    img = Image.new("RGB", (60, 30), (0, 0, 0))
    img.paste(BLUE, (30, 0, 60, 30))
    data = encode(img, "PNG", transparency=(0, 0, 0))  # tRNS: pure black means transparent
    shown = only_copy(inspect_image(source(tmp_path, "key.png", data), None, ctx))
    assert close(shown.getpixel((10, 15)), (255, 255, 255))
    assert close(shown.getpixel((50, 15)), BLUE)


def test_one_bit_image_becomes_grey(tmp_path: Path, ctx: MediaContext) -> None:
    img = Image.new("1", (40, 20), 1)
    img.paste(0, (0, 0, 20, 20))
    shown = only_copy(inspect_image(source(tmp_path, "bw.png", encode(img, "PNG")), None, ctx))
    assert shown.mode == "L"
    assert close(shown.getpixel((5, 10)), (0,)) and close(shown.getpixel((35, 10)), (255,))


def test_webp_with_exif_orientation(tmp_path: Path, ctx: MediaContext) -> None:
    data = encode(marked((160, 120), 40), "WEBP", lossless=True, exif=exif_bytes(orientation=8))
    result = inspect_image(source(tmp_path, "shot.webp", data), None, ctx)
    shown = only_copy(result)
    # Orientation 8 = rotate 90° counter-clockwise to view: stored top-left ends bottom-left.
    assert shown.size == (120, 160)
    assert close(shown.getpixel((10, shown.height - 10)), RED)


def test_heic_is_decoded_upright_once_with_its_exif_time(tmp_path: Path, ctx: MediaContext) -> None:
    pillow_heif = pytest.importorskip("pillow_heif")
    pillow_heif.register_heif_opener()
    exif = exif_bytes(orientation=6, exif={piexif.ExifIFD.DateTimeOriginal: b"2024:11:14 19:00:12",
                                           piexif.ExifIFD.OffsetTimeOriginal: b"+08:00"})
    data = encode(marked((64, 48), 24), "HEIF", quality=95, exif=exif)
    # Named .jpg on purpose: chat apps rename HEIC files; the first bytes must decide.
    result = inspect_image(source(tmp_path, "IMG_0001.jpg", data), None, ctx)
    shown = only_copy(result)
    assert (result.width, result.height) == (48, 64)
    assert shown.size == (48, 64)  # rotated exactly once
    assert close(shown.getpixel((shown.width - 6, 6)), RED, 40)
    assert close(shown.getpixel((6, 6)), (255, 255, 255), 40)
    assert result.embedded_time is not None
    assert result.embedded_time.time == datetime(2024, 11, 14, 19, 0, 12, tzinfo=timezone(timedelta(hours=8)))


def test_animated_gif_shows_first_frame_and_says_so(tmp_path: Path, ctx: MediaContext) -> None:
    frames = [Image.new("RGB", (40, 40), c) for c in (RED, BLUE)]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:])
    result = inspect_image(source(tmp_path, "anim.gif", data), None, ctx)
    assert close(only_copy(result).getpixel((20, 20)), RED)
    assert "image.animated" in {f.code for f in result.findings}


def test_phone_mpo_jpeg_shows_main_image_without_animation_note(tmp_path: Path, ctx: MediaContext) -> None:
    data = encode(Image.new("RGB", (64, 48), RED), "MPO", save_all=True,
                  append_images=[Image.new("RGB", (32, 24), BLUE)])
    result = inspect_image(source(tmp_path, "portrait.jpg", data), None, ctx)
    assert close(only_copy(result).getpixel((32, 24)), RED)
    assert (result.width, result.height) == (64, 48)
    assert result.findings == ()


# ---------------------------------------------------------------------------------------------
# EXIF time and privacy metadata
# ---------------------------------------------------------------------------------------------


def test_exif_time_with_offset_and_subseconds(tmp_path: Path, ctx: MediaContext) -> None:
    exif = exif_bytes(exif={
        piexif.ExifIFD.DateTimeOriginal: b"2024:03:15 14:32:00",
        piexif.ExifIFD.OffsetTimeOriginal: b"+09:00",
        piexif.ExifIFD.SubSecTimeOriginal: b"25",
    })
    result = inspect_image(source(tmp_path, "t.jpg", encode(marked((80, 60)), "JPEG", exif=exif)), None, ctx)
    stamp = result.embedded_time
    assert stamp is not None and stamp.source is TimeSource.EXIF
    assert stamp.time == datetime(2024, 3, 15, 14, 32, 0, 250000, tzinfo=timezone(timedelta(hours=9)))
    assert "未记录时区" not in stamp.detail


def test_exif_time_without_offset_uses_context_zone_and_says_so(tmp_path: Path, ctx: MediaContext) -> None:
    exif = exif_bytes(exif={piexif.ExifIFD.DateTimeOriginal: b"2024:03:15 14:32:00"})
    result = inspect_image(source(tmp_path, "t.png", encode(marked((80, 60)), "PNG", exif=exif)), None, ctx)
    assert result.embedded_time is not None
    assert result.embedded_time.time == datetime(2024, 3, 15, 14, 32, tzinfo=ctx.tz)
    assert "未记录时区" in result.embedded_time.detail


def test_unreadable_exif_time_is_not_used_and_noted(tmp_path: Path, ctx: MediaContext) -> None:
    exif = exif_bytes(exif={piexif.ExifIFD.DateTimeOriginal: b"0000:00:00 00:00:00"})
    result = inspect_image(source(tmp_path, "t.jpg", encode(marked((80, 60)), "JPEG", exif=exif)), None, ctx)
    assert result.embedded_time is None
    assert "image.exif_time_invalid" in {f.code for f in result.findings}


def test_privacy_metadata_is_reported_and_absent_from_display_copy(tmp_path: Path, ctx: MediaContext) -> None:
    from PIL import ImageCms

    exif = exif_bytes(
        zeroth={piexif.ImageIFD.Make: b"Xiaomi", piexif.ImageIFD.Model: b"23127PN0CC"},
        exif={
            piexif.ExifIFD.DateTimeOriginal: b"2024:03:15 14:32:00",
            piexif.ExifIFD.BodySerialNumber: b"SN-SECRET-123456",
            piexif.ExifIFD.MakerNote: b"VENDORBLOB" * 10,
        },
        gps={
            piexif.GPSIFD.GPSLatitudeRef: b"N",
            piexif.GPSIFD.GPSLatitude: ((31, 1), (13, 1), (4944, 100)),
            piexif.GPSIFD.GPSLongitudeRef: b"E",
            piexif.GPSIFD.GPSLongitude: ((121, 1), (28, 1), (2532, 100)),
        },
    )
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF/></x:xmpmeta>'
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    # With and without a colour profile: the profile conversion must not be what cleans up.
    for name, extra in (("gps.jpg", {}), ("gps_icc.jpg", {"icc_profile": icc})):
        data = encode(marked((200, 150)), "JPEG", exif=exif, xmp=xmp, comment=b"owner: Zhang San", **extra)
        result = inspect_image(source(tmp_path, name, data), None, ctx)
        removed = " ".join(result.removed_metadata)
        for expected in ("GPS", "BodySerialNumber", "MakerNote", "XMP", "注释"):
            assert expected in removed
        shown = only_copy(result)
        assert len(shown.getexif()) == 0
        assert not {"exif", "xmp", "icc_profile", "comment"} & set(shown.info)
        raw = result.images[0].path.read_bytes()
        for secret in (b"Exif", b"SN-SECRET", b"VENDORBLOB", b"xmpmeta", b"Zhang San", b"Xiaomi"):
            assert secret not in raw


@pytest.mark.parametrize("profile", ["srgb", "garbage"])
def test_colour_profile_is_applied_or_dropped_never_fatal(tmp_path: Path, ctx: MediaContext,
                                                          profile: str) -> None:
    from PIL import ImageCms

    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    icc = srgb if profile == "srgb" else b"x" * 200
    data = encode(Image.new("RGB", (80, 40), (30, 120, 200)), "JPEG", icc_profile=icc)
    result = inspect_image(source(tmp_path, f"{profile}.jpg", data), None, ctx)
    shown = only_copy(result)
    assert "icc_profile" not in shown.info
    assert close(shown.getpixel((40, 20)), (30, 120, 200), 12)


def test_clean_screenshot_reports_nothing_removed(tmp_path: Path, ctx: MediaContext) -> None:
    result = inspect_image(source(tmp_path, "plain.png", encode(marked((80, 60)), "PNG")), None, ctx)
    assert result.removed_metadata == ()
    assert result.embedded_time is None


# ---------------------------------------------------------------------------------------------
# layout and tall screenshots
# ---------------------------------------------------------------------------------------------


def test_tall_screenshot_is_split_into_overlapping_box_width_segments(tmp_path: Path,
                                                                      ctx: MediaContext) -> None:
    box_w, box_h = ctx.box_pixels()
    layout = plan_layout(1080, 6000, (box_w, box_h))
    (_, first_bottom), (second_top, _) = layout.segments[0], layout.segments[1]
    # A blue line in the middle of the first overlap, mapped back to original rows.
    scale = layout.size[0] / 1080
    band_mid = (second_top + first_bottom) / 2 / scale
    img = Image.new("RGB", (1080, 6000), "white")
    ImageDraw.Draw(img).rectangle((0, band_mid - 6, 1079, band_mid + 6), fill=BLUE)
    result = inspect_image(source(tmp_path, "long.png", encode(img, "PNG")), None, ctx)

    count = len(result.images)
    assert count == len(layout.segments) >= 5
    assert [i.caption for i in result.images] == [f"第 {n}/{count} 段" for n in range(1, count + 1)]
    for display in result.images:
        assert (display.width, display.height) == (box_w, box_h)  # readable: full box width
        with Image.open(display.path) as seg:
            assert seg.size == (box_w, box_h)
    row = round(band_mid * scale)
    with Image.open(result.images[0].path) as first, Image.open(result.images[1].path) as second:
        assert close(first.getpixel((box_w // 2, row - layout.segments[0][0])), BLUE, 40)
        assert close(second.getpixel((box_w // 2, row - second_top)), BLUE, 40)


def test_slightly_tall_and_wide_images_fit_on_one_page(ctx: MediaContext) -> None:
    box = ctx.box_pixels()
    wide = plan_layout(4000, 500, box)
    assert len(wide.segments) == 1 and wide.size[0] == box[0]
    slightly = plan_layout(box[0], int(box[1] * (TALL_TOLERANCE - 0.05)), box)
    assert len(slightly.segments) == 1 and slightly.size[1] == box[1]


@settings(max_examples=300, deadline=None)
@given(
    width=st.integers(1, 5000),
    height=st.integers(1, 120_000),
    box=st.tuples(st.integers(200, 2000), st.integers(200, 2000)),
)
def test_layout_covers_image_never_upscales_and_overlaps(width: int, height: int,
                                                        box: tuple[int, int]) -> None:
    layout = plan_layout(width, height, box)
    disp_w, disp_h = layout.size
    assert disp_w <= max(width, 1) and disp_h <= max(height, 1) + 1
    assert disp_w <= box[0]
    segs = layout.segments
    assert segs[0][0] == 0 and (segs[-1][1] == disp_h or layout.needed > len(segs))  # whole, or the first pages
    assert len(segs) <= MAX_SEGMENTS
    if len(segs) == 1:
        assert disp_h <= box[1]
        return
    seg_h = segs[0][1] - segs[0][0]
    for (top_a, bottom_a), (top_b, bottom_b) in itertools.pairwise(segs):
        assert bottom_b - top_b == seg_h
        assert bottom_a - top_b >= SEGMENT_OVERLAP * seg_h - 1  # consecutive pages overlap
        assert top_b > top_a
    if not layout.shrunk_to_cap:
        # the segment has the box's shape, so the page shows it at full box width
        assert abs(seg_h / disp_w - box[1] / box[0]) < 2 / disp_w + 0.01


# ---------------------------------------------------------------------------------------------
# redaction
# ---------------------------------------------------------------------------------------------


def _noisy(size: tuple[int, int]) -> Image.Image:
    return Image.merge("RGB", [Image.effect_noise(size, 60).point(lambda v: 128 + v // 2)] * 3)


def test_redact_rect_is_uniform_black_in_upright_coordinates(tmp_path: Path, ctx: MediaContext) -> None:
    # Stored 3000×2400 with Orientation 6: upright it is 2400×3000, and the rectangles are
    # given in upright pixels. Scaled by ~0.43, so rounding is exercised.
    data = encode(_noisy((3000, 2400)), "JPEG", quality=90, exif=exif_bytes(orientation=6))
    rect = (333, 777, 901, 455)
    override = EvidenceOverride(file="x", redact=(rect, (2390, 2990, 500, 500)))  # 2nd: clipped
    result = inspect_image(source(tmp_path, "id.jpg", data), override, ctx)
    assert result.redacted
    assert not [f for f in result.findings if f.code == "image.redact_outside"]
    shown = only_copy(result).convert("L")
    assert shown.size == (round(2400 * shown.height / 3000), shown.height)
    s = shown.width / 2400
    x0, y0, x1, y1 = (round(v * s) for v in (rect[0], rect[1], rect[0] + rect[2], rect[1] + rect[3]))
    assert brightest(shown.crop((x0, y0, x1, y1))) <= 24  # the whole box (JPEG ringing at edges)
    assert brightest(shown.crop((x0 + 3, y0 + 3, x1 - 3, y1 - 3))) <= 12  # nothing of the noise
    assert brightest(shown.crop((x1 + 10, y0, min(shown.width, x1 + 60), y1))) > 120
    assert brightest(shown.crop((shown.width - 2, shown.height - 2, shown.width, shown.height))) <= 40


@settings(max_examples=300, deadline=None)
@given(
    size=st.tuples(st.integers(50, 9000), st.integers(50, 9000)),
    display_w=st.integers(20, 1100),
    rect=st.tuples(st.integers(-100, 9000), st.integers(-100, 9000),
                   st.integers(1, 3000), st.integers(1, 3000)),
)
def test_redaction_box_covers_every_display_pixel_the_rect_touches(
    size: tuple[int, int], display_w: int, rect: tuple[int, int, int, int]
) -> None:
    width, height = size
    display = (min(display_w, width), max(1, round(height * min(display_w, width) / width)))
    box, problem = images._redaction_box(rect, width, height, display)
    x, y, w, h = rect
    left, top, right, bottom = max(0, x), max(0, y), min(width, x + w), min(height, y + h)
    if left >= right or top >= bottom:
        assert box is None and "超出图片范围" in problem
        return
    assert box is not None and problem == ""
    sx, sy = display[0] / width, display[1] / height
    # Every display pixel the rect touches is inside the box, with one pixel to spare on each
    # side, so rounding never leaves a row of the original showing.
    assert box[0] <= max(0, int(left * sx) - 1) and box[1] <= max(0, int(top * sy) - 1)
    assert box[2] >= min(display[0], math.ceil(right * sx) + 1)
    assert box[3] >= min(display[1], math.ceil(bottom * sy) + 1)
    assert 0 <= box[0] < box[2] <= display[0] and 0 <= box[1] < box[3] <= display[1]


def test_redact_in_overlap_is_black_on_both_segments(tmp_path: Path, ctx: MediaContext) -> None:
    box = ctx.box_pixels()
    layout = plan_layout(1080, 4000, box)
    scale = layout.size[0] / 1080
    mid = (layout.segments[1][0] + layout.segments[0][1]) / 2 / scale
    img = Image.new("RGB", (1080, 4000), (200, 220, 240))
    rect = (100, int(mid) - 20, 400, 40)
    result = inspect_image(source(tmp_path, "chat.png", encode(img, "PNG")),
                           EvidenceOverride(file="x", redact=(rect,)), ctx)
    row = round(mid * scale)
    for index in (0, 1):
        with Image.open(result.images[index].path) as seg:
            y = row - layout.segments[index][0]
            assert brightest(seg.crop((round(250 * scale), y, round(250 * scale) + 1, y + 1))) <= 12


def test_redact_rect_outside_image_is_a_warning(tmp_path: Path, ctx: MediaContext) -> None:
    override = EvidenceOverride(file="x", redact=((5000, 5000, 10, 10),))
    result = inspect_image(source(tmp_path, "r.png", encode(marked((100, 80)), "PNG")), override, ctx)
    assert not result.redacted
    warning = next(f for f in result.findings if f.code == "image.redact_outside")
    assert warning.severity is Severity.WARNING
    assert "遮挡区域" in warning.message and "超出图片范围" in warning.message
    assert warning.subject == "evidence/product/r.png"


# ---------------------------------------------------------------------------------------------
# files that cannot be shown
# ---------------------------------------------------------------------------------------------


def _assert_no_preview(result: Inspection, reason: str) -> None:
    assert result.media is MediaType.IMAGE
    assert result.images == ()
    assert reason in result.preview_error
    finding = next(f for f in result.findings if f.code == "image.undecodable")
    assert finding.severity is Severity.WARNING and reason in finding.message


def test_empty_file(tmp_path: Path, ctx: MediaContext) -> None:
    _assert_no_preview(inspect_image(source(tmp_path, "e.jpg", b""), None, ctx), "文件为空")


def test_text_file_named_jpg(tmp_path: Path, ctx: MediaContext) -> None:
    data = "这不是图片，是聊天记录\n".encode() * 20
    _assert_no_preview(inspect_image(source(tmp_path, "n.jpg", data), None, ctx), "不是可识别的图片格式")


def test_formats_outside_the_allowlist_are_not_parsed(tmp_path: Path, ctx: MediaContext) -> None:
    # Pillow can open EPS (and would run Ghostscript to decode it); an untrusted ".jpg" that is
    # really PostScript must not get that far.
    eps = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n"
    assert Image.open(io.BytesIO(eps)).format == "EPS"
    _assert_no_preview(inspect_image(source(tmp_path, "ps.jpg", eps), None, ctx), "不是可识别的图片格式")


def test_truncated_jpeg_is_broken_not_half_grey_and_keeps_exif_time(tmp_path: Path,
                                                                     ctx: MediaContext) -> None:
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
    exif = exif_bytes(exif={piexif.ExifIFD.DateTimeOriginal: b"2024:03:15 14:32:00"})
    data = encode(_noisy((800, 600)), "JPEG", quality=90, exif=exif)
    result = inspect_image(source(tmp_path, "cut.jpg", data[: len(data) // 2]), None, ctx)
    _assert_no_preview(result, "图片数据不完整")
    assert (result.width, result.height) == (800, 600)
    assert result.embedded_time is not None  # the header survived; its time still counts


def test_truncated_png(tmp_path: Path, ctx: MediaContext) -> None:
    data = encode(_noisy((300, 300)), "PNG")
    result = inspect_image(source(tmp_path, "cut.png", data[: len(data) // 2]), None, ctx)
    assert result.images == () and result.preview_error
    assert "image.undecodable" in {f.code for f in result.findings}




def test_pixel_bomb_far_over_limit_is_refused_from_header(tmp_path: Path, ctx: MediaContext,
                                                          decoded_sizes: list[tuple[int, int]]) -> None:
    data = png_header_only(40000, 40000)  # 1.6 billion pixels claimed in a ~60-byte file
    result = inspect_image(source(tmp_path, "bomb.png", data), None, ctx)
    _assert_no_preview(result, "图片像素过多")
    assert "安全上限 1.2 亿像素" in result.preview_error
    assert decoded_sizes == []


def test_pixel_bomb_just_over_limit_names_its_size(tmp_path: Path, ctx: MediaContext,
                                                   decoded_sizes: list[tuple[int, int]]) -> None:
    data = png_header_only(12000, 11000)  # 132 MP: over our limit, under Pillow's hard error
    result = inspect_image(source(tmp_path, "big.png", data), None, ctx)
    _assert_no_preview(result, "图片像素过多（12000×11000）")
    assert (result.width, result.height) == (12000, 11000)
    assert decoded_sizes == []


def test_pixel_limit_comes_from_context(tmp_path: Path) -> None:
    small_limit = MediaContext(cache=DisplayCache(tmp_path / "c"), max_pixels=5000)
    result = inspect_image(source(tmp_path, "p.png", encode(marked((100, 100)), "PNG")), None, small_limit)
    _assert_no_preview(result, "图片像素过多（100×100）")


# ---------------------------------------------------------------------------------------------
# cache, originals, imports
# ---------------------------------------------------------------------------------------------


def test_warm_cache_gives_identical_result_without_opening_the_original(
    tmp_path: Path, ctx: MediaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    exif = exif_bytes(
        exif={piexif.ExifIFD.DateTimeOriginal: b"2024:03:15 14:32:00"},
        gps={piexif.GPSIFD.GPSLatitudeRef: b"N", piexif.GPSIFD.GPSLatitude: ((31, 1), (13, 1), (49, 1))},
    )
    img = Image.new("RGB", (1080, 3000), "white")
    data = encode(img, "JPEG", exif=exif)
    src = source(tmp_path, "warm.jpg", data)
    override = EvidenceOverride(file="x", redact=((10, 10, 100, 100), (9000, 9000, 5, 5)))
    cold = inspect_image(src, override, ctx)
    assert len(cold.images) > 1 and cold.findings and cold.embedded_time is not None

    opened: list[object] = []

    def refuse(fp: object, *_a: object, **_k: object) -> None:
        opened.append(fp)
        raise OSError("the original was opened on a warm cache")

    monkeypatch.setattr(Image, "open", refuse)
    hits = ctx.cache.hits
    warm = inspect_image(src, override, ctx)
    assert warm == cold
    assert opened == []
    assert ctx.cache.hits > hits
    # Other parameters are another cache entry, so the original must be opened again.
    inspect_image(src, EvidenceOverride(file="x", redact=((0, 0, 5, 5),)), ctx)
    assert len(opened) == 1  # from the verified bytes in memory, never by name


def test_damaged_cached_copy_is_rendered_again(tmp_path: Path, ctx: MediaContext) -> None:
    src = source(tmp_path, "d.png", encode(marked((300, 200)), "PNG"))
    first = inspect_image(src, None, ctx)
    first.images[0].path.write_bytes(b"not the copy we hashed")
    again = inspect_image(src, None, ctx)
    assert again == first
    assert Image.open(again.images[0].path).size == (300, 200)


def test_display_copy_hash_is_of_the_file(tmp_path: Path, ctx: MediaContext) -> None:
    import hashlib

    result = inspect_image(source(tmp_path, "h.png", encode(marked((300, 200)), "PNG")), None, ctx)
    display = result.images[0]
    assert display.sha256 == hashlib.sha256(display.path.read_bytes()).hexdigest()
    assert display.path.is_relative_to(ctx.cache.root)


def test_original_bytes_and_mtime_are_untouched(tmp_path: Path, ctx: MediaContext) -> None:
    data = encode(marked((400, 300)), "JPEG", exif=exif_bytes(orientation=6, gps={
        piexif.GPSIFD.GPSLatitudeRef: b"N", piexif.GPSIFD.GPSLatitude: ((31, 1), (13, 1), (49, 1))}))
    src = source(tmp_path, "o.jpg", data)
    os.utime(src.path, ns=(1_600_000_000_000_000_000, 1_600_000_000_000_000_000))
    before = src.path.stat().st_mtime_ns
    inspect_image(src, EvidenceOverride(file="x", redact=((0, 0, 50, 50),)), ctx)
    assert src.path.read_bytes() == data
    assert src.path.stat().st_mtime_ns == before


def test_import_is_cheap_and_heif_support_loads_only_when_needed() -> None:
    code = (
        "import sys, evidencekit.media.images as m\n"
        "assert 'pillow_heif' not in sys.modules\n"
        "assert 'PIL.ImageCms' not in sys.modules\n"
        "print(len(m.IMAGE_SUFFIXES))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "10"


def test_suffixes_for_the_dispatcher() -> None:
    expected = {".jpg", ".jpeg", ".png", ".webp", ".heic", ".heif", ".bmp", ".gif", ".tif", ".tiff"}
    assert expected == IMAGE_SUFFIXES
    assert images.RENDER_VERSION >= 1


@pytest.mark.parametrize("orientation", [1, 6])
def test_display_copy_does_not_depend_on_the_hidden_pixels(tmp_path: Path, ctx: MediaContext,
                                                           orientation: int) -> None:
    # Two originals that differ only inside the rectangle must give byte-identical copies:
    # nothing of what is hidden may reach them, not even through the resampling filter's tail.
    rect = (601, 401, 497, 297)  # upright pixels
    base = _noisy((1800, 1200))  # random, so made once and shared
    copies = []
    for name, secret in (("a.jpg", Image.new("L", (rect[2], rect[3]), 255)),
                         ("b.jpg", Image.effect_noise((rect[2], rect[3]), 80))):
        upright = base.copy()
        upright.paste(secret.convert("RGB"), rect[:2])
        # Store it so that applying the orientation gives ``upright`` back.
        stored = upright.transpose(Image.Transpose.ROTATE_90) if orientation == 6 else upright
        data = encode(stored, "PNG", compress_level=1, exif=exif_bytes(orientation=orientation))
        result = inspect_image(source(tmp_path, name.replace("jpg", "png"), data),
                               EvidenceOverride(file="x", redact=(rect,)), ctx)
        assert (result.width, result.height) == (1800, 1200) and result.redacted
        copies.append(result.images[0].path.read_bytes())
    assert copies[0] == copies[1]


@pytest.mark.parametrize("method", list(Image.Transpose))
def test_transpose_box_matches_pillow(method: Image.Transpose) -> None:
    img = Image.new("L", (7, 4), 0)
    box = (1, 0, 3, 3)
    img.paste(255, box)
    assert images.transpose_box(box, img.size, method) == img.transpose(method).getbbox()


def test_rotated_jpeg_decoded_with_draft_is_upright(tmp_path: Path, ctx: MediaContext,
                                                   decoded_sizes: list[tuple[int, int]]) -> None:
    data = encode(marked((4000, 3000), 600), "JPEG", exif=exif_bytes(orientation=3))
    result = inspect_image(source(tmp_path, "r180.jpg", data), None, ctx)
    assert decoded_sizes == [(1000, 750)]
    shown = only_copy(result)
    assert close(shown.getpixel((shown.width - 30, shown.height - 30)), RED)
    assert close(shown.getpixel((30, 30)), (255, 255, 255))


@pytest.mark.parametrize(("size", "pages"), [((1080, 2400), 1), ((1179, 2556), 1), ((1080, 5200), 5)])
def test_ordinary_phone_screenshots_stay_on_one_page_long_ones_split(size: tuple[int, int], pages: int) -> None:
    box = MediaContext(cache=DisplayCache(Path("/nonexistent"))).box_pixels()
    layout = images.plan_layout(*size, box)
    assert len(layout.segments) == pages
    if pages == 1:
        # Shrunk to fit but still at least half the box wide: readable like the phone itself.
        assert layout.size[0] >= box[0] // 2 - 1
