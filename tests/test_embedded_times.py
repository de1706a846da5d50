"""Photos and recordings as phones make them now (issue 11 item 4).

200-megapixel photos decode reduced instead of being refused; a refused image keeps its EXIF
time; without DateTimeOriginal the next-best embedded times (IFD0 DateTime, XMP, GPS) are used
as their own weaker sources; recordings keep the local time and offset the device recorded.
"""

from __future__ import annotations

import io
import struct
import zlib
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import av
import piexif
import pytest
from factories import make_source_file
from mediagen import make_audio, make_video
from PIL import Image

from evidencekit.cache import DisplayCache
from evidencekit.media.audio import inspect_audio
from evidencekit.media.base import MediaContext
from evidencekit.media.container import container_time
from evidencekit.media.images import inspect_image
from evidencekit.media.recordings import inspect_recording
from evidencekit.model import Inspection, SourceFile, Stamp, TimeSource
from evidencekit.timeinfo import resolve_capture_time

PLUS8 = timezone(timedelta(hours=8))
PLUS9 = timezone(timedelta(hours=9))


@pytest.fixture
def ctx(tmp_path: Path) -> MediaContext:
    return MediaContext(cache=DisplayCache(tmp_path / "cache"))


def source(tmp_path: Path, name: str, data: bytes) -> SourceFile:
    return make_source_file(tmp_path / "case", f"evidence/product/{name}", data)


def exif_bytes(*, exif: dict[int, object] | None = None, gps: dict[int, object] | None = None,
               zeroth: dict[int, object] | None = None) -> bytes:
    return piexif.dump({"0th": zeroth or {}, "Exif": exif or {}, "GPS": gps or {}, "1st": {}})


DTO = {piexif.ExifIFD.DateTimeOriginal: b"2024:11:14 19:00:12", piexif.ExifIFD.OffsetTimeOriginal: b"+08:00"}
DTO_TIME = datetime(2024, 11, 14, 19, 0, 12, tzinfo=PLUS8)


def jpeg(size: tuple[int, int] = (80, 60), mode: str = "RGB", **kw: object) -> bytes:
    buf = io.BytesIO()
    Image.new(mode, size, 128).save(buf, "JPEG", **kw)
    return buf.getvalue()


def heic(size: tuple[int, int], thumbnails: list[int], exif: bytes) -> bytes:
    pillow_heif = pytest.importorskip("pillow_heif")
    pillow_heif.register_heif_opener()
    buf = io.BytesIO()
    Image.new("RGB", size, (120, 60, 30)).save(buf, "HEIF", quality=10, exif=exif, thumbnails=thumbnails,
                                                 enc_params={"preset": "ultrafast"})
    return buf.getvalue()


def with_app1(data: bytes, payload: bytes) -> bytes:
    """``data`` (a JPEG) with one more APP1 segment right after SOI."""
    assert data[:2] == b"\xff\xd8"
    return data[:2] + b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload + data[2:]


def xmp_packet(body: str) -> bytes:
    """An XMP packet as Adobe apps write it, wrapped for a JPEG APP1 segment."""
    text = (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        f'{body}</rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
    )
    return b"http://ns.adobe.com/xap/1.0/\x00" + text.encode("utf-8")


def png_header_with_exif(width: int, height: int, exif: bytes) -> bytes:
    """A PNG claiming ``width``×``height`` with an eXIf chunk before (empty) pixel data."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    raw_exif = exif[6:] if exif.startswith(b"Exif\x00\x00") else exif
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"eXIf", raw_exif)
            + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b""))


def shown(result: Inspection) -> Image.Image:
    assert result.preview_error == "", result.preview_error
    assert len(result.images) == 1
    img = Image.open(result.images[0].path)
    img.load()
    return img


# ---------------------------------------------------------------------------------------------
# 200 MP photos decode reduced; bombs are still refused but keep their time
# ---------------------------------------------------------------------------------------------


def test_real_200mp_jpeg_gets_a_reduced_preview_and_its_exif_time(tmp_path: Path, ctx: MediaContext) -> None:
    # 16320×12240 = 199.8 MP, as Samsung/Xiaomi 200 MP modes save; grey compresses to ~3 MB.
    data = jpeg((16320, 12240), "L", quality=50, exif=exif_bytes(exif=DTO))
    result = inspect_image(source(tmp_path, "IMG20250704102740.jpg", data), None, ctx)
    img = shown(result)
    assert (result.width, result.height) == (16320, 12240)
    assert img.width <= ctx.box_pixels()[0]
    assert result.embedded_time is not None and result.embedded_time.time == DTO_TIME


def test_pixel_limit_applies_to_the_reduced_jpeg_decode(tmp_path: Path) -> None:
    small = MediaContext(cache=DisplayCache(tmp_path / "c"), max_pixels=1_000_000)
    data = jpeg((2400, 1800), exif=exif_bytes(exif=DTO))  # 4.3 MP stored, ≤ 1 MP at 1/4 scale
    result = inspect_image(source(tmp_path, "big.jpg", data), None, small)
    shown(result)
    assert (result.width, result.height) == (2400, 1800)
    assert result.embedded_time is not None and result.embedded_time.time == DTO_TIME


def test_heic_over_the_limit_uses_its_embedded_thumbnail(tmp_path: Path) -> None:
    small = MediaContext(cache=DisplayCache(tmp_path / "c"), max_pixels=500_000)
    data = heic((1200, 900), [320], exif_bytes(exif=DTO))
    result = inspect_image(source(tmp_path, "20250704_102740.heic", data), None, small)
    img = shown(result)
    assert (result.width, result.height) == (1200, 900)
    assert img.size == (320, 240)
    assert result.embedded_time is not None and result.embedded_time.time == DTO_TIME
    assert "image.thumbnail_preview" in {f.code for f in result.findings}


def test_heic_over_the_limit_without_thumbnail_is_refused_but_keeps_its_time(tmp_path: Path) -> None:
    small = MediaContext(cache=DisplayCache(tmp_path / "c"), max_pixels=500_000)
    data = heic((1200, 900), [], exif_bytes(exif=DTO))
    result = inspect_image(source(tmp_path, "x.heic", data), None, small)
    assert result.images == () and "图片像素过多" in result.preview_error
    assert result.embedded_time is not None and result.embedded_time.time == DTO_TIME


def test_png_bomb_is_refused_and_keeps_its_exif_time(tmp_path: Path, ctx: MediaContext) -> None:
    data = png_header_with_exif(50000, 50000, exif_bytes(exif=DTO))
    result = inspect_image(source(tmp_path, "bomb.png", data), None, ctx)
    assert result.images == () and "图片像素过多" in result.preview_error
    assert (result.width, result.height) == (50000, 50000)
    assert result.embedded_time is not None and result.embedded_time.time == DTO_TIME
    assert result.embedded_time.source is TimeSource.EXIF


# ---------------------------------------------------------------------------------------------
# Next-best embedded times
# ---------------------------------------------------------------------------------------------


def test_ifd0_datetime_is_used_without_datetimeoriginal(tmp_path: Path, ctx: MediaContext) -> None:
    exif = exif_bytes(zeroth={piexif.ImageIFD.DateTime: b"2024:11:14 20:01:02"},
                      exif={piexif.ExifIFD.OffsetTime: b"+09:00"})
    result = inspect_image(source(tmp_path, "a.jpg", jpeg(exif=exif)), None, ctx)
    stamp = result.embedded_time
    assert stamp is not None and stamp.source is TimeSource.EXIF_DATETIME
    assert stamp.time == datetime(2024, 11, 14, 20, 1, 2, tzinfo=PLUS9)
    assert "EXIF 修改时间 DateTime" in stamp.detail
    assert stamp.source.label == "EXIF 修改时间"


@pytest.mark.parametrize("body, expected, named", [
    ('<rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/" '
     'xmp:CreateDate="2024-11-14T19:00:12+09:00"/>',
     datetime(2024, 11, 14, 19, 0, 12, tzinfo=PLUS9), "XMP 创建时间 xmp:CreateDate"),
    ('<rdf:Description rdf:about="" xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/" '
     'xmlns:xmp="http://ns.adobe.com/xap/1.0/"><photoshop:DateCreated>2024-11-14T18:59:59.50'
     '</photoshop:DateCreated><xmp:CreateDate>2024-11-14T19:30:00+08:00</xmp:CreateDate></rdf:Description>',
     datetime(2024, 11, 14, 18, 59, 59, 500000, tzinfo=PLUS8), "XMP 拍摄时间 photoshop:DateCreated"),
])
def test_xmp_creation_time_is_used_without_exif(tmp_path: Path, ctx: MediaContext, body: str,
                                               expected: datetime, named: str) -> None:
    data = with_app1(jpeg(), xmp_packet(body))
    result = inspect_image(source(tmp_path, "x.jpg", data), None, ctx)
    stamp = result.embedded_time
    assert stamp is not None and stamp.source is TimeSource.XMP
    assert stamp.time == expected
    assert named in stamp.detail


def test_xmp_time_is_found_in_a_png(tmp_path: Path, ctx: MediaContext) -> None:
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    packet = xmp_packet('<rdf:Description xmp:CreateDate="2024-11-14T19:00:12Z"/>')
    info.add_itxt("XML:com.adobe.xmp", packet.split(b"\x00", 1)[1].decode("utf-8"))
    buf = io.BytesIO()
    Image.new("RGB", (40, 30)).save(buf, "PNG", pnginfo=info)
    result = inspect_image(source(tmp_path, "x.png", buf.getvalue()), None, ctx)
    assert result.embedded_time is not None and result.embedded_time.source is TimeSource.XMP
    assert result.embedded_time.time == datetime(2024, 11, 14, 19, 0, 12, tzinfo=UTC)


GPS = {piexif.GPSIFD.GPSDateStamp: b"2024:11:14", piexif.GPSIFD.GPSTimeStamp: ((11, 1), (0, 1), (12, 1)),
       piexif.GPSIFD.GPSLatitudeRef: b"N", piexif.GPSIFD.GPSLatitude: ((31, 1), (13, 1), (0, 1))}


def test_gps_time_is_utc_and_used_without_other_times(tmp_path: Path, ctx: MediaContext) -> None:
    result = inspect_image(source(tmp_path, "g.jpg", jpeg(exif=exif_bytes(gps=GPS))), None, ctx)
    stamp = result.embedded_time
    assert stamp is not None and stamp.source is TimeSource.GPS
    assert stamp.time == datetime(2024, 11, 14, 11, 0, 12, tzinfo=UTC)
    assert stamp.time.utcoffset() == timedelta(hours=8)  # shown in the case zone
    assert "GPS" in stamp.detail and "UTC" in stamp.detail
    assert stamp.source.label == "GPS 时间"


def test_ranking_in_one_file(tmp_path: Path, ctx: MediaContext) -> None:
    datetime_tag = {piexif.ImageIFD.DateTime: b"2024:11:14 20:00:00"}
    everything = exif_bytes(zeroth=datetime_tag, exif=DTO, gps=GPS)
    assert inspect_image(source(tmp_path, "1.jpg", jpeg(exif=everything)), None, ctx).embedded_time == Stamp(
        DTO_TIME, TimeSource.EXIF, "EXIF DateTimeOriginal")
    no_original = inspect_image(source(tmp_path, "2.jpg", jpeg(exif=exif_bytes(zeroth=datetime_tag, gps=GPS))),
                                None, ctx).embedded_time
    assert no_original is not None and no_original.source is TimeSource.EXIF_DATETIME
    xmp = xmp_packet('<rdf:Description xmp:CreateDate="2024-11-14T19:00:12+08:00"/>')
    with_xmp = inspect_image(source(tmp_path, "3.jpg", with_app1(jpeg(exif=exif_bytes(zeroth=datetime_tag)), xmp)),
                             None, ctx).embedded_time
    assert with_xmp is not None and with_xmp.source is TimeSource.XMP


def test_invalid_datetimeoriginal_falls_back_and_says_so(tmp_path: Path, ctx: MediaContext) -> None:
    exif = exif_bytes(zeroth={piexif.ImageIFD.DateTime: b"2024:11:14 20:00:00"},
                      exif={piexif.ExifIFD.DateTimeOriginal: b"0000:00:00 00:00:00"})
    result = inspect_image(source(tmp_path, "z.jpg", jpeg(exif=exif)), None, ctx)
    assert result.embedded_time is not None and result.embedded_time.source is TimeSource.EXIF_DATETIME
    assert "image.exif_time_invalid" in {f.code for f in result.findings}


def test_resolve_ranks_embedded_sources_between_exif_and_file_name() -> None:
    t = datetime(2024, 11, 14, 12, tzinfo=PLUS8)

    def stamp(source: TimeSource, hours: int) -> Stamp:
        return Stamp(t + timedelta(hours=hours), source, source.value)

    order = [TimeSource.EXIF, TimeSource.XMP, TimeSource.EXIF_DATETIME, TimeSource.GPS, TimeSource.FILENAME]
    for i, better in enumerate(order):
        for worse in order[i + 1:]:
            got = resolve_capture_time(declared=None, embedded=stamp(better, 1), filename=None, mtime=None)
            assert got.source is better
            if worse is TimeSource.FILENAME:
                got = resolve_capture_time(declared=None, embedded=stamp(better, 1),
                                           filename=stamp(worse, 2), mtime=t)
                assert got.source is better
    for embedded in order[:-1]:
        got = resolve_capture_time(declared=None, embedded=stamp(embedded, 1), filename=None, mtime=t)
        assert got.source is embedded and not got.source.weak


def test_existing_time_source_values_are_unchanged() -> None:
    assert [s.value for s in (TimeSource.DECLARED, TimeSource.EXIF, TimeSource.FILENAME, TimeSource.CONTENT,
                              TimeSource.CONTAINER, TimeSource.MTIME, TimeSource.NONE)] == [
        "declared", "exif", "filename", "content", "container", "mtime", "none"]


# ---------------------------------------------------------------------------------------------
# Recordings: the device's local time and offset beat a re-mux creation_time
# ---------------------------------------------------------------------------------------------


def remux(src: Path, dst: Path, metadata: dict[str, str], options: dict[str, str] | None = None) -> Path:
    with av.open(str(src)) as inp, av.open(str(dst), "w", options=options or {}) as out:
        out.metadata.update(metadata)
        streams = {}
        for s in inp.streams:
            streams[s.index] = out.add_stream_from_template(s)
        for packet in inp.demux():
            if packet.dts is None:
                continue
            packet.stream = streams[packet.stream.index]
            out.mux(packet)
    return dst


def test_quicktime_creationdate_keeps_the_device_offset(tmp_path: Path, ctx: MediaContext) -> None:
    plain = make_video(tmp_path / "plain.mov", 1.0)
    data = remux(plain, tmp_path / "IMG_0001.MOV", {
        "com.apple.quicktime.creationdate": "2024-11-14T19:00:12+0900",
        "creation_time": "2024-11-15T03:00:00.000000Z",  # re-muxed later by an editing app
    }, {"movflags": "use_metadata_tags"}).read_bytes()
    result = inspect_recording(source(tmp_path, "IMG_0001.MOV", data), None, ctx)
    stamp = result.embedded_time
    assert stamp is not None and stamp.source is TimeSource.CONTAINER
    assert stamp.time == datetime(2024, 11, 14, 19, 0, 12, tzinfo=PLUS9)
    assert stamp.time.utcoffset() == timedelta(hours=9)  # the offset the device recorded
    assert stamp.format_time() == "2024-11-14 19:00:12 UTC+9"


def test_itunes_date_with_offset_beats_creation_time_in_audio(tmp_path: Path, ctx: MediaContext) -> None:
    plain = make_audio(tmp_path / "plain.m4a", 1.0)
    data = remux(plain, tmp_path / "call.m4a", {
        "date": "2024-11-14T19:00:12+0530",
        "creation_time": "2024-11-15T03:00:00.000000Z",
    }).read_bytes()
    result = inspect_audio(source(tmp_path, "call.m4a", data), None, ctx)
    stamp = result.embedded_time
    assert stamp is not None
    assert stamp.time == datetime(2024, 11, 14, 19, 0, 12, tzinfo=timezone(timedelta(hours=5, minutes=30)))
    assert stamp.time.utcoffset() == timedelta(hours=5, minutes=30)


def test_container_time_reading() -> None:
    local = container_time({"com.apple.quicktime.creationdate": "2024-11-14T19:00:12+0900",
                            "creation_time": "2024-11-15T03:00:00Z"}, PLUS8)
    assert local is not None and local[0].utcoffset() == timedelta(hours=9)
    # A bare year (what many taggers write into ``date``) is no time of day: creation_time is used.
    fallback = container_time({"date": "2024", "creation_time": "2024-11-15T03:00:00Z"}, PLUS8)
    assert fallback is not None and fallback[0] == datetime(2024, 11, 15, 3, tzinfo=UTC)
    assert fallback[0].utcoffset() == timedelta(hours=8)
    # A ``date`` without an offset is not trusted over creation_time either.
    naive = container_time({"date": "2024-11-14T19:00:12", "creation_time": "2024-11-15T03:00:00Z"}, PLUS8)
    assert naive is not None and naive[0] == datetime(2024, 11, 15, 3, tzinfo=UTC)


def test_xmp_time_is_found_in_the_bytes_when_pillow_does_not_expose_it(tmp_path: Path, ctx: MediaContext) -> None:
    # A packet Pillow does not hand out as ``xmp`` (here inside a GIF comment block) is found by
    # scanning the verified bytes.
    packet = xmp_packet('<rdf:Description xmp:CreateDate="2024-11-14T19:00:12+09:00"/>').split(b"\x00", 1)[1]
    buf = io.BytesIO()
    Image.new("P", (40, 30)).save(buf, "GIF", comment=packet[:255])
    opened = Image.open(io.BytesIO(buf.getvalue()))
    assert "xmp" not in opened.info and "XML:com.adobe.xmp" not in opened.info
    result = inspect_image(source(tmp_path, "scan.gif", buf.getvalue()), None, ctx)
    assert result.embedded_time is not None and result.embedded_time.source is TimeSource.XMP
    assert result.embedded_time.time == datetime(2024, 11, 14, 19, 0, 12, tzinfo=PLUS9)


def test_an_unclosed_xmp_packet_is_read_only_up_to_the_bound(tmp_path: Path, ctx: MediaContext) -> None:
    from evidencekit.media import images

    filler = b" " * (images.MAX_XMP_BYTES + 10)
    packet = b'<x:xmpmeta xmlns:x="adobe:ns:meta/">' + filler + b'xmp:CreateDate="2024-11-14T19:00:12Z"'
    buf = io.BytesIO()
    Image.new("RGB", (40, 30)).save(buf, "TIFF", tiffinfo={700: packet})
    result = inspect_image(source(tmp_path, "long.tif", buf.getvalue()), None, ctx)
    assert result.embedded_time is None  # past the bound: not read


def test_refused_bomb_time_wins_over_mtime_in_the_dossier(tmp_path: Path, ctx: MediaContext) -> None:
    data = png_header_with_exif(50000, 50000, exif_bytes(exif=DTO))
    result = inspect_image(source(tmp_path, "bomb.png", data), None, ctx)
    chosen = resolve_capture_time(declared=None, embedded=result.embedded_time, filename=None,
                                  mtime=datetime(2026, 1, 1, tzinfo=PLUS8))
    assert chosen.source is TimeSource.EXIF and chosen.time == DTO_TIME


def test_fallback_times_survive_the_cache_sidecar(tmp_path: Path, ctx: MediaContext) -> None:
    xmp = xmp_packet('<rdf:Description xmp:CreateDate="2024-11-14T19:00:12+09:00"/>')
    for name, data in (("gps.jpg", jpeg(exif=exif_bytes(gps=GPS))),
                       ("xmp.jpg", with_app1(jpeg(), xmp)),
                       ("dt.jpg", jpeg(exif=exif_bytes(zeroth={piexif.ImageIFD.DateTime: b"2024:11:14 20:00:00"})))):
        src = source(tmp_path, name, data)
        cold = inspect_image(src, None, ctx)
        warm = inspect_image(src, None, ctx)  # from the JSON sidecar
        assert cold.embedded_time is not None and warm.embedded_time == cold.embedded_time
