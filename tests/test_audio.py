"""Call recordings: duration, container time, declared moments, bad files, cache."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import av
import pytest
from factories import make_source_file, sh
from mediagen import make_audio

from evidencekit.cache import DisplayCache
from evidencekit.media.audio import AUDIO_SUFFIXES, inspect_audio
from evidencekit.media.base import MediaContext
from evidencekit.media.moments import with_wall_times
from evidencekit.model import (
    EvidenceKind,
    EvidenceOverride,
    MediaType,
    SourceFile,
    TimeSource,
    display_images,
)

REL = "evidence/chat/客服通话.wav"


def _ctx(tmp_path: Path) -> MediaContext:
    return MediaContext(cache=DisplayCache(tmp_path / "cache"))


def _source(tmp_path: Path, audio: Path, rel: str = REL) -> SourceFile:
    return make_source_file(tmp_path, rel, audio.read_bytes(), kind=EvidenceKind.CHAT)


def _moments(*texts: str) -> EvidenceOverride:
    return EvidenceOverride(file=REL, moments=texts)


def test_wav_duration_is_exact(tmp_path: Path) -> None:
    audio = make_audio(tmp_path / "gen" / "call.wav", 3.5)
    insp = inspect_audio(_source(tmp_path, audio), None, _ctx(tmp_path))
    assert insp.media is MediaType.AUDIO
    assert insp.duration == 3.5
    assert insp.preview_error == "" and insp.findings == ()
    assert display_images(insp) == ()


@pytest.mark.parametrize("suffix", [".mp3", ".m4a", ".amr"])
def test_compressed_call_formats_have_a_duration(tmp_path: Path, suffix: str) -> None:
    assert suffix in AUDIO_SUFFIXES
    audio = make_audio(tmp_path / "gen" / f"call{suffix}", 3.0)
    insp = inspect_audio(_source(tmp_path, audio, f"evidence/chat/call{suffix}"), None, _ctx(tmp_path))
    assert insp.preview_error == ""
    assert insp.duration == pytest.approx(3.0, abs=0.2)  # encoder padding / bitrate estimates


def test_container_creation_time_is_a_container_stamp(tmp_path: Path) -> None:
    audio = make_audio(tmp_path / "gen" / "call.m4a", 1.0, creation_time="2024-11-12T07:30:05.000000Z")
    insp = inspect_audio(_source(tmp_path, audio, "evidence/chat/call.m4a"), None, _ctx(tmp_path))
    assert insp.embedded_time is not None
    assert insp.embedded_time.source is TimeSource.CONTAINER
    assert insp.embedded_time.time == sh(2024, 11, 12, 15, 30, 5)


def test_moments_are_parsed_and_get_wall_times(tmp_path: Path) -> None:
    audio = make_audio(tmp_path / "gen" / "call.wav", 5.0)
    override = _moments("00:00:02 客服承认是人造革", "00:03 同意退一赔三", "00:00:09 超出", "胡写")
    insp = inspect_audio(_source(tmp_path, audio), override, _ctx(tmp_path))
    assert [(m.offset, m.caption) for m in insp.moments] == [(2.0, "客服承认是人造革"), (3.0, "同意退一赔三")]
    assert [f.code for f in insp.findings] == ["audio.moment_beyond_end", "audio.moment_unparsed"]
    timed = with_wall_times(insp, sh(2024, 11, 12, 15, 0, 0))
    assert [m.wall_time for m in timed.moments] == [sh(2024, 11, 12, 15, 0, 2), sh(2024, 11, 12, 15, 0, 3)]


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"", id="zero-bytes"),
        pytest.param(b"RIFF\x00\x00\x00\x00WAVEgarbage" * 50, id="broken-wav"),
        pytest.param(b"\x00" * 3000, id="zeros"),
    ],
)
def test_undecodable_audio_gets_a_reason_not_an_exception(tmp_path: Path, data: bytes) -> None:
    source = make_source_file(tmp_path, REL, data, kind=EvidenceKind.CHAT)
    insp = inspect_audio(source, _moments("00:00:02 x"), _ctx(tmp_path))
    assert insp.media is MediaType.AUDIO
    assert insp.preview_error and any("\u4e00" <= ch <= "\u9fff" for ch in insp.preview_error)
    assert [f.code for f in insp.findings] == ["audio.undecodable"]
    assert insp.moments == ()


def _refuse_open(*args: Any, **kw: Any) -> Any:
    raise AssertionError("av.open called on a warm cache")


def test_warm_rebuild_opens_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    audio = make_audio(tmp_path / "gen" / "call.m4a", 2.0, creation_time="2024-11-12T07:30:05Z")
    source = _source(tmp_path, audio, "evidence/chat/call.m4a")
    cold = inspect_audio(source, _moments("00:00:01 x"), _ctx(tmp_path))
    monkeypatch.setattr(av, "open", _refuse_open)
    assert inspect_audio(source, _moments("00:00:01 x"), _ctx(tmp_path)) == cold
