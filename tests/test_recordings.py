"""Screen recordings: declared moments, contact sheet, wall-clock times, bad files, cache."""

from __future__ import annotations

import itertools
import shutil
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import av
import pikepdf
import pypdfium2
import pytest
from factories import make_source_file, sh
from hypothesis import given
from hypothesis import strategies as st
from mediagen import make_audio, make_video, read_frame_index
from PIL import Image

from evidencekit.cache import DisplayCache
from evidencekit.media import recordings
from evidencekit.media.base import MediaContext
from evidencekit.media.moments import format_timecode, parse_moment, with_wall_times
from evidencekit.media.recordings import (
    SAMPLES_PER_TILE,
    TILE_FIT,
    FrameFinder,
    SheetPicker,
    inspect_recording,
    sample_times,
    sheet_times,
)
from evidencekit.model import (
    SHANGHAI,
    EvidenceKind,
    EvidenceOverride,
    MediaType,
    SourceFile,
    TimeSource,
    VideoInspection,
)

NAME = "Screenrecorder-2024-11-11-20-30-00-123.mp4"
REL = f"evidence/livestream/{NAME}"
FPS = 10


@pytest.fixture(scope="module")
def videos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each generated once per module: 20 s at 10 fps, frame n shows n (see mediagen)."""
    root = tmp_path_factory.mktemp("videos")
    made = {
        "short_gop": make_video(
            root / NAME, 20, fps=FPS, gop=10, creation_time="2024-11-11T12:30:00.000000Z"
        ),
        "one_gop": make_video(root / "long_gop.mp4", 20, fps=FPS, gop=300),
        "mkv": make_video(root / "clip.mkv", 20, fps=FPS, gop=10),
        "webm": make_video(root / "clip.webm", 20, fps=FPS, gop=30),
        "portrait": make_video(root / "portrait.mp4", 4, size=(240, 320), fps=FPS, gop=10, rotation=90),
        "busy": make_video(root / "busy.mp4", 20, fps=FPS, gop=10, busy=True),
        # A screen that stands still from 5 s to 15 s (it shows frame 50 throughout).
        "frozen": make_video(root / "frozen.mp4", 20, fps=FPS, gop=10, busy=True, frozen=(5.0, 15.0)),
    }
    for path in made.values():  # the fixture checks itself before any test relies on it
        with av.open(str(path)) as c:
            assert c.streams.video[0].frames in (0, 40, 200)
    return made


def _source(tmp_path: Path, video: Path, rel: str = REL) -> SourceFile:
    return make_source_file(tmp_path, rel, video.read_bytes(), kind=EvidenceKind.LIVESTREAM)


def _ctx(tmp_path: Path, **kw: Any) -> MediaContext:
    return MediaContext(cache=DisplayCache(tmp_path / "cache"), **kw)


def _shown_index(path: Path) -> int:
    with Image.open(path) as img:
        return read_frame_index(img)


def _moments(*texts: str) -> EvidenceOverride:
    return EvidenceOverride(file=REL, moments=texts)


# ---------------------------------------------------------------------------------------------
# The acceptance example
# ---------------------------------------------------------------------------------------------


def test_moment_at_7s_shows_frame_70_captioned_with_wall_clock_time(
    tmp_path: Path, videos: dict[str, Path]
) -> None:
    insp = inspect_recording(
        _source(tmp_path, videos["short_gop"]), _moments("00:00:07 主播承诺假一赔十"), _ctx(tmp_path)
    )
    assert insp.media is MediaType.VIDEO and insp.preview_error == ""
    declared = [f for f in insp.frames if f.declared]
    assert len(declared) == 1
    frame = declared[0]
    assert frame.offset == 7.0
    assert frame.caption == "主播承诺假一赔十"
    assert _shown_index(frame.image.path) == 70  # the pixels really are frame 7.0 s × 10 fps

    start = sh(2024, 11, 11, 20, 30, 0).replace(microsecond=123_000)
    timed = with_wall_times(insp, start)
    frame = timed.frames[0]
    assert frame.wall_time == datetime(2024, 11, 11, 20, 30, 7, 123_000, tzinfo=SHANGHAI)
    assert frame.image.caption == "00:00:07 · 2024-11-11 20:30:07"
    assert frame.caption == "主播承诺假一赔十"
    assert timed.moments[0].wall_time == frame.wall_time
    assert timed.start_time == start


def test_contact_sheet_is_evenly_spaced_tiles_with_timecodes(tmp_path: Path, videos: dict[str, Path]) -> None:
    insp = inspect_recording(_source(tmp_path, videos["busy"]), None, _ctx(tmp_path, contact_sheet_frames=12))
    tiles = [f for f in insp.frames if not f.declared]
    assert len(tiles) == 12
    gaps = [b.offset - a.offset for a, b in itertools.pairwise(tiles)]
    assert max(gaps) - min(gaps) <= 1 / FPS + 1e-9  # even, up to one frame of rounding
    for tile in tiles:
        assert tile.image.caption == format_timecode(tile.offset)
        assert tile.caption == ""  # the moment text slot; the renderer prints the timecode once
        assert tile.image.width <= TILE_FIT[0]
        assert _shown_index(tile.image.path) == round(tile.offset * FPS)


def test_facts_duration_size_and_container_time(tmp_path: Path, videos: dict[str, Path]) -> None:
    insp = inspect_recording(_source(tmp_path, videos["short_gop"]), None, _ctx(tmp_path))
    assert insp.duration == pytest.approx(20.0, abs=0.15)
    assert (insp.width, insp.height) == (320, 240)
    assert insp.embedded_time is not None
    assert insp.embedded_time.source is TimeSource.CONTAINER
    assert insp.embedded_time.time == sh(2024, 11, 11, 20, 30, 0)  # stored as 12:30 UTC
    assert insp.embedded_time.time.utcoffset() == timedelta(hours=8)


def test_declared_moments_come_first_then_the_sheet(tmp_path: Path, videos: dict[str, Path]) -> None:
    insp = inspect_recording(
        _source(tmp_path, videos["busy"]),
        _moments("00:00:15 第二个", "00:00:03 第一个"),
        _ctx(tmp_path, contact_sheet_frames=4),
    )
    assert [f.declared for f in insp.frames] == [True, True, False, False, False, False]
    assert [f.caption for f in insp.frames[:2]] == ["第二个", "第一个"]  # declaration order kept
    assert [m.offset for m in insp.moments] == [15.0, 3.0]


# ---------------------------------------------------------------------------------------------
# Choosing the contact sheet
# ---------------------------------------------------------------------------------------------


def _tiles(insp: Any) -> list[Any]:
    return [f for f in insp.frames if not f.declared]


def test_a_still_stretch_is_shown_once_and_the_sheet_still_spans_the_recording(
    tmp_path: Path, videos: dict[str, Path]
) -> None:
    insp = inspect_recording(_source(tmp_path, videos["frozen"]), None, _ctx(tmp_path, contact_sheet_frames=4))
    tiles = _tiles(insp)
    assert insp.sheet_samples == 12  # three sampled times per tile
    # Six of the twelve samples fall in the still stretch (5–15 s); one tile stands for them.
    assert [t.offset for t in tiles] == [2.5, 5.8, 15.8, 17.5]
    still = tiles[1]
    assert _shown_index(still.image.path) == 50
    assert still.until == pytest.approx(14.1)  # the last sample there (14.17 s) is frame 141
    assert [t.until for t in tiles if t is not still] == [None, None, None]
    for tile in tiles:
        if tile is not still:
            assert _shown_index(tile.image.path) == round(tile.offset * FPS)


def test_sampling_is_bounded_and_includes_the_even_tile_times() -> None:
    long = sample_times(3600.0, 12)
    assert len(long) == 12 * SAMPLES_PER_TILE  # an hour decodes 36 frames for the sheet, not more
    assert set(sheet_times(3600.0, 12)) <= set(long)
    assert long[0] < 60 and long[-1] > 3540
    # Too short for three samples a second apart per tile: one sample per tile.
    assert sample_times(20.0, 12) == sheet_times(20.0, 12)
    assert sample_times(20.0, 0) == []


def test_past_the_decode_limit_only_the_tiles_own_times_are_sampled(
    tmp_path: Path, videos: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(recordings, "SAMPLE_DECODE_PIXELS", 0)
    insp = inspect_recording(_source(tmp_path, videos["frozen"]), None, _ctx(tmp_path, contact_sheet_frames=4))
    assert insp.sheet_samples == 4  # 2.5, 7.5, 12.5 and 17.5 s: the even tile times
    tiles = _tiles(insp)
    assert [(t.offset, t.until) for t in tiles] == [(2.5, None), (7.5, 12.5), (17.5, None)]
    assert _shown_index(tiles[1].image.path) == 50


def test_picker_skips_blank_and_repeated_samples_and_keeps_one_per_slice() -> None:
    flat, a, b = bytes(256), bytes(range(256)), bytes(255 - v for v in range(256))
    picker = SheetPicker(tiles=2, per_tile=3)
    kept = [picker.offer(i, sig) for i, sig in enumerate((flat, a, a, a, b, a))]
    assert kept == [False, True, False, False, True, True]
    assert picker.blank == 1
    # Slice 1 (samples 3–5) has two new pictures: the one nearer the slice's middle is shown.
    assert picker.chosen() == [(1, 3), (4, 4)]

    empty = SheetPicker(tiles=1, per_tile=3)
    assert [empty.offer(i, flat) for i in range(3)] == [False, False, False]
    assert empty.chosen() == [(0, 0)]  # an all-blank recording still shows its first sample


def test_changing_how_tiles_are_chosen_is_not_served_from_an_older_cache_entry(
    tmp_path: Path, videos: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = _ctx(tmp_path, contact_sheet_frames=4)
    source = _source(tmp_path, videos["frozen"])
    assert [t.offset for t in _tiles(inspect_recording(source, None, ctx))] == [2.5, 5.8, 15.8, 17.5]
    monkeypatch.setattr(recordings, "NEAR_DUPLICATE", 0.0)  # no two samples look alike any more
    assert [t.offset for t in _tiles(inspect_recording(source, None, ctx))] == [2.5, 7.5, 12.5, 17.5]


# ---------------------------------------------------------------------------------------------
# Exactness whichever way the frames are reached
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["short_gop", "one_gop", "mkv", "webm"])
def test_every_requested_time_shows_the_frame_on_screen_then(
    tmp_path: Path, videos: dict[str, Path], which: str
) -> None:
    times = [
        "00:00:19.9",
        "00:00:00",
        "00:00:03.25",
        "00:00:03.3",
        "00:00:07",
        "00:00:11.05",
        "00:00:12",
        "00:00:20",
    ]
    insp = inspect_recording(
        _source(tmp_path, videos[which], f"evidence/livestream/{which}{videos[which].suffix}"),
        _moments(*(f"{t} 时刻" for t in times)),
        _ctx(tmp_path, contact_sheet_frames=0),
    )
    assert insp.findings == ()
    for text, frame in zip(times, insp.frames, strict=True):
        moment = parse_moment(text)
        assert moment is not None
        # The last frame at or before the moment (20.0 is the end: the last frame, 19.9 s).
        expected = min(199, int(moment.offset * FPS + 1e-9))
        assert _shown_index(frame.image.path) == expected, text
        assert frame.offset == pytest.approx(expected / FPS)


class _CountingContainer:
    """Delegates to a PyAV container, counting seeks (PyAV's classes cannot be patched)."""

    def __init__(self, inner: Any, seekable: bool = True) -> None:
        self.inner = inner
        self.seeks = 0
        self.seekable = seekable

    def seek(self, *args: Any, **kw: Any) -> None:
        self.seeks += 1
        if not self.seekable:
            raise OSError("Operation not permitted")
        self.inner.seek(*args, **kw)

    def decode(self, *args: Any, **kw: Any) -> Any:
        return self.inner.decode(*args, **kw)


def _decode_work(
    video: Path, times: list[float], use_index: bool = True, seekable: bool = True
) -> tuple[int, int, list[float]]:
    """Frames decoded, seeks made and the offsets of the frames found for ``times``."""
    with av.open(str(video)) as container:
        counting = _CountingContainer(container, seekable)
        finder = FrameFinder(counting, container.streams.video[0])  # type: ignore[arg-type]
        if not use_index:
            finder.keyframes = None  # as for files without a seek index
        decoded = 0
        original = finder._decoded

        def counted() -> Any:
            nonlocal decoded
            for frame in original():
                decoded += 1
                yield frame

        finder._decoded = counted  # type: ignore[method-assign]
        found = [finder.offset_of(f) for _, f in finder.frames_at(times) if f is not None]
    return decoded, counting.seeks, found


@pytest.mark.parametrize("use_index", [True, False])
def test_sparse_times_seek_instead_of_decoding_everything(videos: dict[str, Path], use_index: bool) -> None:
    decoded, seeks, found = _decode_work(videos["short_gop"], [3.0, 11.0, 17.5], use_index)
    assert found == [3.0, 11.0, 17.5]
    assert seeks == 3
    assert decoded <= 3 * 12  # about one GOP each, out of 200 frames


@pytest.mark.parametrize("use_index", [True, False])
def test_dense_times_in_one_long_gop_become_a_single_pass(videos: dict[str, Path], use_index: bool) -> None:
    times = [i + 0.5 for i in range(20)]
    decoded, seeks, found = _decode_work(videos["one_gop"], times, use_index)
    assert found == times
    assert seeks == 1  # re-seeking to the only keyframe would decode the file 20 times over
    assert decoded <= 200


def test_unseekable_input_is_decoded_forward(videos: dict[str, Path]) -> None:
    decoded, _, found = _decode_work(videos["short_gop"], [3.0, 11.0, 17.5], seekable=False)
    assert found == [3.0, 11.0, 17.5]
    assert decoded == 177  # frames 0–175 in one pass, and 176 to know 175 was the one on screen


# ---------------------------------------------------------------------------------------------
# Declared moments that cannot be shown
# ---------------------------------------------------------------------------------------------


def test_moment_past_the_end_is_a_warning_not_a_frame(tmp_path: Path, videos: dict[str, Path]) -> None:
    insp = inspect_recording(
        _source(tmp_path, videos["short_gop"]),
        _moments("00:00:07 有效", "00:01:05 超出"),
        _ctx(tmp_path, contact_sheet_frames=0),
    )
    assert [f.caption for f in insp.frames] == ["有效"], insp
    assert [m.caption for m in insp.moments] == ["有效"]
    codes = [f.code for f in insp.findings]
    assert codes == ["video.moment_beyond_end"]
    assert "00:01:05" in insp.findings[0].message and insp.findings[0].subject == REL


def test_unreadable_moment_is_a_warning(tmp_path: Path, videos: dict[str, Path]) -> None:
    insp = inspect_recording(
        _source(tmp_path, videos["short_gop"]), _moments("七秒的时候"), _ctx(tmp_path, contact_sheet_frames=0)
    )
    assert insp.frames == ()
    assert [f.code for f in insp.findings] == ["video.moment_unparsed"]


# ---------------------------------------------------------------------------------------------
# Orientation
# ---------------------------------------------------------------------------------------------


def test_portrait_recording_is_shown_upright(tmp_path: Path, videos: dict[str, Path]) -> None:
    insp = inspect_recording(
        _source(tmp_path, videos["portrait"], "evidence/unboxing/p.mp4"),
        _moments("00:00:02 开箱"),
        _ctx(tmp_path, contact_sheet_frames=2),
    )
    assert (insp.width, insp.height) == (240, 320)
    frame = insp.frames[0]
    assert (frame.image.width, frame.image.height) == (240, 320)
    assert _shown_index(frame.image.path) == 20  # the index squares only read right side up


# ---------------------------------------------------------------------------------------------
# Files that cannot be decoded
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make_bytes",
    [
        pytest.param(lambda good: b"", id="zero-bytes"),
        pytest.param(lambda good: b"\x00\x01garbage" * 500, id="garbage"),
        pytest.param(lambda good: good[: len(good) // 2], id="truncated"),
    ],
)
def test_undecodable_recording_gets_a_reason_not_an_exception(
    tmp_path: Path, videos: dict[str, Path], make_bytes: Any
) -> None:
    data = make_bytes(videos["short_gop"].read_bytes())
    source = make_source_file(tmp_path, REL, data, kind=EvidenceKind.LIVESTREAM)
    insp = inspect_recording(source, _moments("00:00:07 主播承诺假一赔十"), _ctx(tmp_path))
    assert insp.media is MediaType.VIDEO
    assert insp.preview_error and any("\u4e00" <= ch <= "\u9fff" for ch in insp.preview_error)
    assert insp.frames == ()
    assert [f.code for f in insp.findings] == ["video.undecodable"]
    assert insp.findings[0].subject == REL


def test_audio_only_container_is_treated_as_audio(tmp_path: Path) -> None:
    audio = make_audio(tmp_path / "gen" / "call.m4a", 2.0)
    source = make_source_file(tmp_path, "evidence/chat/call.3gp", audio.read_bytes())
    insp = inspect_recording(source, None, _ctx(tmp_path))
    assert insp.media is MediaType.AUDIO
    assert insp.duration == pytest.approx(2.0, abs=0.1)


# ---------------------------------------------------------------------------------------------
# Cache
# ---------------------------------------------------------------------------------------------


def _refuse_open(*args: Any, **kw: Any) -> Any:
    raise AssertionError("av.open called on a warm cache")


def test_warm_rebuild_opens_nothing(
    tmp_path: Path, videos: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    source = _source(tmp_path, videos["short_gop"])
    override = _moments("00:00:07 主播承诺假一赔十", "00:05:00 超出")
    cold = inspect_recording(source, override, _ctx(tmp_path))
    monkeypatch.setattr(av, "open", _refuse_open)
    warm = inspect_recording(source, override, _ctx(tmp_path))
    assert warm == cold


def test_a_missing_frame_file_is_extracted_again(
    tmp_path: Path, videos: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    source = _source(tmp_path, videos["short_gop"])
    cold = inspect_recording(source, _moments("00:00:07 x"), _ctx(tmp_path))
    cold.frames[0].image.path.unlink()
    opened = tmp_path / "opened"  # decoding runs in a worker process: it leaves a mark
    real_open = av.open
    monkeypatch.setattr(av, "open", lambda *a, **k: opened.touch() or real_open(*a, **k))
    again = inspect_recording(source, _moments("00:00:07 x"), _ctx(tmp_path))
    assert opened.exists() and again.frames[0].image.path.is_file()
    assert again == cold


def test_new_moment_is_not_served_from_an_older_cache_entry(tmp_path: Path, videos: dict[str, Path]) -> None:
    source = _source(tmp_path, videos["short_gop"])
    inspect_recording(source, _moments("00:00:07 x"), _ctx(tmp_path))
    later = inspect_recording(source, _moments("00:00:07 x", "00:00:12 y"), _ctx(tmp_path))
    assert [_shown_index(f.image.path) for f in later.frames if f.declared] == [70, 120]


def test_copying_the_recording_elsewhere_reuses_the_cache(
    tmp_path: Path, videos: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _source(tmp_path, videos["short_gop"])
    inspect_recording(first, None, _ctx(tmp_path))
    shutil.copy(first.path, tmp_path / "copy.mp4")
    monkeypatch.setattr(av, "open", _refuse_open)
    moved = replace(first, path=tmp_path / "copy.mp4", rel_path="evidence/other/copy.mp4")
    assert inspect_recording(moved, None, _ctx(tmp_path)).frames  # keyed by content, not by path


# ---------------------------------------------------------------------------------------------
# Moments: parsing, formatting, wall-clock times
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "offset", "caption"),
    [
        ("00:12:31 主播承诺假一赔十", 751.0, "主播承诺假一赔十"),
        ("12:31 text", 751.0, "text"),
        ("1:02:03.5 text", 3723.5, "text"),
        ("00：00：07　说明", 7.0, "说明"),  # full-width colons and space, as typed on a phone IME
        ("00:00:07-主播说", 7.0, "主播说"),
        ("  00:00:07  ", 7.0, ""),
        ("75:00 长录屏", 4500.0, "长录屏"),
        ("00:00:07 5折", 7.0, "5折"),
    ],
)
def test_parse_moment_examples(text: str, offset: float, caption: str) -> None:
    assert parse_moment(text) == parse_moment(text) is not None
    moment = parse_moment(text)
    assert moment is not None and (moment.offset, moment.caption) == (offset, caption)


@pytest.mark.parametrize(
    "text", ["", "主播承诺", "00:75:00 x", "00:00:61 x", "12:3145 x", "7 s 说明", "1:2", "1:2:03 x"]
)
def test_parse_moment_rejects(text: str) -> None:
    assert parse_moment(text) is None


@given(st.text())
def test_parse_moment_never_raises(text: str) -> None:
    moment = parse_moment(text)
    assert moment is None or (moment.offset >= 0 and moment.caption == moment.caption.strip())


_SEPARATORS = "-–—:：,，、"


@given(
    st.integers(0, 99),
    st.integers(0, 59),
    st.integers(0, 59),
    st.integers(0, 999),
    st.text().map(str.strip).filter(lambda c: not c or c[0] not in _SEPARATORS),
)
def test_timecode_round_trips(h: int, m: int, s: int, ms: int, caption: str) -> None:
    offset = h * 3600 + m * 60 + s + ms / 1000
    moment = parse_moment(f"{format_timecode(offset, precise=True)} {caption}")
    assert moment is not None
    assert moment.offset == pytest.approx(offset, abs=1e-6)
    assert moment.caption == caption


def test_format_timecode_floors_like_a_player() -> None:
    assert format_timecode(4.9) == "00:00:04"
    assert format_timecode(3723.5) == "01:02:03"
    assert format_timecode(3723.5, precise=True) == "01:02:03.5"
    assert format_timecode(59.9996, precise=True) == "00:01:00"


def test_with_wall_times_without_start_clears_them(tmp_path: Path, videos: dict[str, Path]) -> None:
    insp = inspect_recording(
        _source(tmp_path, videos["short_gop"]), _moments("00:00:07 x"), _ctx(tmp_path, contact_sheet_frames=1)
    )
    timed = with_wall_times(insp, sh(2024, 11, 11, 20, 30, 0))
    cleared = with_wall_times(timed, None)
    assert all(f.wall_time is None for f in cleared.frames)
    assert cleared.moments[0].wall_time is None and cleared.start_time is None
    assert cleared.frames[0].image.caption == "00:00:07"
    assert cleared.frames == insp.frames


def test_sheet_times_short_clip_gets_one_tile_per_second() -> None:
    assert sheet_times(3.5, 12) == [0.583, 1.75, 2.917]
    assert sheet_times(0.4, 12) == [0.2]
    assert sheet_times(0.0, 12) == []


def test_recordings_module_does_not_import_av_at_import_time() -> None:
    assert "av" not in vars(recordings)


# ---------------------------------------------------------------------------------------------
# The exhibit pages: a recording without moments opens on its contact sheet
# ---------------------------------------------------------------------------------------------

EXAMPLE_MOMENTS = '    moments:\n      - "00:00:06 主播口播并打出字幕：头层牛皮 假一赔十"\n'
NOW = datetime(2024, 11, 20, 8, 0, 0, tzinfo=UTC)


def _without_moments(case: Path, busy: bool = False) -> Path:
    """The example case with its recording's moment removed; with ``busy``, the recording
    replaced by one whose every sample is new, so the sheet has four rows of portrait tiles."""
    if busy:
        make_video(case / "evidence" / "livestream" / "Screenrecorder-2024-11-10-20-25-00-123.mp4", 12,
                   size=(360, 640), fps=FPS, gop=10, busy=True)
    yaml_path = case / "case.yaml"
    text = yaml_path.read_text(encoding="utf-8")
    assert EXAMPLE_MOMENTS in text  # the example's only declared moment
    yaml_path.write_text(text.replace(EXAMPLE_MOMENTS, ""), encoding="utf-8")
    return case


def _video_exhibit(exhibits: Any) -> Any:
    return next(ex for ex in exhibits if isinstance(ex.inspection, VideoInspection))


def _page(pdf_path: Path, number: int) -> tuple[str, list[Any]]:
    """The text and the image XObjects of 1-based page ``number``."""
    doc = pypdfium2.PdfDocument(str(pdf_path))
    try:
        text = doc[number - 1].get_textpage().get_text_range().replace("\r\n", "\n")
    finally:
        doc.close()
    with pikepdf.open(pdf_path) as pdf:
        images = [(int(im.Width), int(im.Height)) for im in pdf.pages[number - 1].get_images().values()]
    return text, images


@pytest.mark.parametrize("busy", [False, True], ids=["example", "twelve-new-tiles"])
def test_first_page_of_a_recording_without_moments_holds_frames(example_case: Path, busy: bool) -> None:
    from evidencekit.pipeline import BuildOptions, build_dossier

    built = build_dossier(_without_moments(example_case, busy), BuildOptions(now=NOW))
    ex = _video_exhibit(built.dossier.exhibits)
    assert ex.inspection.moments == ()
    first, _ = built.exhibit_pages[ex.number]
    text, images = _page(built.output, first)
    assert len(images) >= 3  # at least one row of tiles under the exhibit header
    assert all(width <= TILE_FIT[0] for width, _ in images)  # tiles, not a full-page picture
    flowing = text.replace("\n", "")  # the note wraps wherever the font size puts its line ends
    assert "画面概览" in flowing and "显示的时间点" in flowing
    tiles = _tiles(ex.inspection)
    assert len(tiles) == (12 if busy else 3)  # the example shows three distinct screens
    for tile in tiles:
        assert format_timecode(tile.offset) in text


def test_sheet_heading_after_a_declared_moment_keeps_with_the_first_tiles(example_case: Path) -> None:
    from evidencekit.pipeline import BuildOptions, build_dossier

    built = build_dossier(example_case, BuildOptions(now=NOW))  # the example declares one moment
    ex = _video_exhibit(built.dossier.exhibits)
    first, last = built.exhibit_pages[ex.number]
    pages = [_page(built.output, n) for n in range(first, last + 1)]
    assert len(pages[0][1]) >= 1  # the declared moment's frame under the header
    heading = [images for text, images in pages if "画面概览" in text]
    assert len(heading) == 1 and len(heading[0]) >= 3  # never alone at the foot of a page


def test_platform_upload_of_a_recording_shows_its_frames(example_case: Path, tmp_path: Path) -> None:
    from evidencekit.channels.pack import PackOptions, pack_case
    from evidencekit.pipeline import BuildOptions

    result = pack_case(_without_moments(example_case, busy=True),
                       PackOptions(BuildOptions(target="platform", now=NOW), outdir=tmp_path / "out"))
    number = _video_exhibit(key_exhibits_of(example_case)).number
    upload = next(f for f in result.uploads if f.exhibits == (number,))
    with Image.open(result.outdir / upload.name) as img:
        grey = img.convert("L")
    # Below the exhibit header band and above the page footer: the tiles, not empty paper.
    body = grey.crop((0, grey.height * 25 // 100, grey.width, grey.height * 85 // 100))
    inked = sum(body.histogram()[:200]) / (body.width * body.height)
    assert inked > 0.2, inked


def key_exhibits_of(case: Path) -> list[Any]:
    from evidencekit.pipeline import BuildOptions, assess_case

    return list(assess_case(case, BuildOptions(now=NOW)).exhibits)
