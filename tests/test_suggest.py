"""Suggested moments in recordings (media/suggest.py) with a faked OCR engine: scene-change
sampling, reading, the cache, `inspect --suggest-moments` and the missing extra.

The engine is replaced by one that reads the frame number drawn by tests/mediagen.py and
returns a caption for it, so these run with or without ``evidencekit[ocr]``;
tests/test_suggest_engine.py runs the real engine.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from factories import make_source_file
from mediagen import make_captioned_video, make_video, read_frame_index
from PIL import Image

from evidencekit.cache import DisplayCache
from evidencekit.cli import main
from evidencekit.errors import FeatureUnavailable, SuggestFailed
from evidencekit.media import ocr, suggest
from evidencekit.media.base import MediaContext
from evidencekit.media.moments import parse_moment
from evidencekit.model import SourceFile
from evidencekit.rules.moment_claims import load_moment_claims
from evidencekit.rules.ocr_fields import TextBox

FPS = 10
SECONDS = 60
FROZEN = (10.0, 40.0)  # a static stretch: the host's card stays on screen for 30 s
CLAIM_FRAMES = {  # frame number -> what the faked engine reads there
    round(FROZEN[0] * FPS): "正品保障 假一赔十",
}


def _box(text: str, top: int) -> TextBox:
    return TextBox(text, ((10, top), (300, top), (300, top + 20), (10, top + 20)), 0.95)


def fake_read(image: Image.Image) -> tuple[TextBox, ...]:
    index = read_frame_index(image)
    boxes = [_box(f"关注主播 第{index}帧", 10), _box("直播间专享价 ¥399", 200)]
    if index in CLAIM_FRAMES:
        boxes.append(_box(CLAIM_FRAMES[index], 120))
    return tuple(boxes)


@pytest.fixture
def fake_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    # The child process is forked, so it runs the patched functions.
    monkeypatch.setattr(ocr, "engine_version", lambda: "9.9.9")
    monkeypatch.setattr(ocr, "run_engine", fake_read)


@pytest.fixture(scope="module")
def recording_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    # busy: a bar moves every second, so outside the static stretch every sample is a new scene.
    path = make_video(tmp_path_factory.mktemp("rec") / "rec.mp4", SECONDS, fps=FPS, gop=FPS,
                      busy=True, frozen=FROZEN)
    return path.read_bytes()


def recording(tmp_path: Path, data: bytes, rel: str = "evidence/livestream/录屏.mp4") -> SourceFile:
    return make_source_file(tmp_path / "case", rel, data)


def context(tmp_path: Path) -> MediaContext:
    return MediaContext(cache=DisplayCache(tmp_path / "cache"))


def test_a_static_stretch_is_read_once_and_decoding_is_bounded(
        tmp_path: Path, fake_engine: None, recording_bytes: bytes) -> None:
    scan = suggest.read_recording_text(recording(tmp_path, recording_bytes), context(tmp_path))
    samples = suggest.sample_plan(SECONDS)
    assert len(samples) == SECONDS / suggest.SAMPLE_INTERVAL_S
    assert scan.sampled == len(samples)
    inside = [f.offset for f in scan.frames if FROZEN[0] <= f.offset < FROZEN[1]]
    # 15 samples of the same screen: one scene, read where it starts and every RESCAN_S after.
    assert inside == [11.0, 11.0 + suggest.RESCAN_S, 11.0 + 2 * suggest.RESCAN_S]
    assert scan.scenes == len(samples) - 15 + 1
    assert len(scan.frames) == scan.scenes + 2
    # Decoding: each sample needs at most one keyframe interval (FPS frames) decoded, in both passes.
    assert scan.decoded <= (len(samples) + len(scan.frames)) * (FPS + 1)
    assert scan.decoded < SECONDS * FPS * 2
    assert scan.notes == ()


def test_new_text_on_the_same_caption_band_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A still live room; the contact sheet would show one tile for each of these.
    monkeypatch.setattr(ocr, "engine_version", lambda: "9.9.9")
    monkeypatch.setattr(ocr, "run_engine", lambda image: ())
    # A second caption band appears at 4 s: a new scene, read where it appears.
    video = make_captioned_video(tmp_path / "a.mp4", 8, [(0, 8, "关注主播 点亮灯牌"), (4, 8, "官方正品 假一赔十")])
    scan = suggest.read_recording_text(recording(tmp_path, video.read_bytes()), context(tmp_path))
    assert (scan.sampled, scan.scenes) == (4, 2)
    assert [f.offset for f in scan.frames] == [1.0, 5.0]
    # One digit of the price changes at 6 s: too small to tell from the encoder's noise, so it is
    # read by the rescan RESCAN_S later, not missed.
    video = make_captioned_video(tmp_path / "b.mp4", 12, [(0, 6, "直播间专享价 ¥399"), (6, 12, "直播间专享价 ¥199")])
    scan = suggest.read_recording_text(recording(tmp_path, video.read_bytes(), "evidence/b.mp4"), context(tmp_path))
    assert (scan.sampled, scan.scenes) == (6, 1)
    assert [f.offset for f in scan.frames] == [1.0, 1.0 + suggest.RESCAN_S]


def test_claims_are_proposed_where_first_read_with_the_text_and_phrase(
        tmp_path: Path, fake_engine: None, recording_bytes: bytes) -> None:
    moments = suggest.suggest_moments(recording(tmp_path, recording_bytes), context(tmp_path))
    # The price card is on every frame: proposed once, where it is first read.
    assert [m.text for m in moments] == ["直播间专享价 ¥399", "正品保障 假一赔十"]
    first, card = moments
    assert first.offset < suggest.SAMPLE_INTERVAL_S
    assert [(m.claim, m.phrase) for m in first.matches] == [("price", "¥399")]
    assert FROZEN[0] <= card.offset < FROZEN[0] + suggest.SAMPLE_INTERVAL_S
    assert [(m.claim, m.phrase) for m in card.matches] == [("genuine", "正品"), ("fake_compensation", "假一赔十")]
    moment = parse_moment(card.line)
    assert moment is not None and moment.offset == pytest.approx(card.offset)
    assert moment.caption == "画面文字：正品保障 假一赔十（正品承诺「正品」、假一赔X「假一赔十」）"


def test_a_second_run_reads_the_cache_and_never_decodes(
        tmp_path: Path, fake_engine: None, recording_bytes: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    source = recording(tmp_path, recording_bytes)
    first = suggest.read_recording_text(source, context(tmp_path))

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("decoded again")

    monkeypatch.setattr(suggest, "decode_in_worker", never)
    assert suggest.read_recording_text(source, context(tmp_path)) == first


def test_the_frames_read_are_the_verified_original(
        tmp_path: Path, fake_engine: None, recording_bytes: bytes) -> None:
    source = recording(tmp_path, recording_bytes)
    source.path.write_bytes(recording_bytes[:-10] + b"0123456789")  # replaced after hashing
    with pytest.raises(SuggestFailed) as err:
        suggest.suggest_moments(source, context(tmp_path))
    assert "改动" in err.value.reason or "变化" in err.value.reason


def test_propose_keeps_a_caption_once_and_leaves_text_without_claims() -> None:
    frames = [suggest.FrameText(1.0, ("关注主播",)),
              suggest.FrameText(3.5, ("七天无理由退货", "点赞")),
              suggest.FrameText(9.0, ("七天 无理由退货", "100%纯棉")),]
    moments = suggest.propose(frames, load_moment_claims())
    assert [(m.offset, m.text) for m in moments] == [(3.5, "七天无理由退货"), (9.0, "100%纯棉")]


def test_without_the_extra_suggesting_says_how_to_add_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, recording_bytes: bytes) -> None:
    monkeypatch.setattr(ocr, "engine_version", lambda: None)
    with pytest.raises(FeatureUnavailable):
        suggest.suggest_moments(recording(tmp_path, recording_bytes), context(tmp_path))
    path = tmp_path / "rec.mp4"
    path.write_bytes(recording_bytes)
    result = CliRunner().invoke(main, ["inspect", str(path), "--suggest-moments"])
    assert result.exit_code == 2
    assert "--suggest-moments 需要文字识别（OCR）组件" in result.output
    assert 'pip install "evidencekit[ocr]"' in result.output
    # Without the option the extra is never asked for.
    assert CliRunner().invoke(main, ["inspect", str(path)]).exit_code == 0


def test_inspect_prints_the_moments_and_a_snippet_that_pastes_into_case_yaml(
        tmp_path: Path, fake_engine: None, recording_bytes: bytes) -> None:
    path = tmp_path / "我的案件" / "evidence" / "livestream" / "直播录屏.mp4"
    path.parent.mkdir(parents=True)
    path.write_bytes(recording_bytes)
    result = CliRunner().invoke(main, ["inspect", str(path), "--suggest-moments"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "建议的时刻（录屏画面文字识别）：" in out
    assert "比较了 30 个画面，其中 16 处画面变化，识别了 18 个画面的文字" in out
    assert "读到：正品保障 假一赔十" in out and "对上：正品承诺「正品」、假一赔X「假一赔十」" in out
    snippet = out[out.index("# 建议的时刻"):]
    data = yaml.safe_load(snippet)
    entry = data["evidence"][0]
    assert entry["file"] == "evidence/livestream/直播录屏.mp4"
    moments = [parse_moment(line) for line in entry["moments"]]
    assert all(m is not None for m in moments)
    assert [m.caption for m in moments if m is not None][1].startswith("画面文字：正品保障 假一赔十")


def test_inspect_json_adds_the_suggestions_to_each_recording(
        tmp_path: Path, fake_engine: None, recording_bytes: bytes) -> None:
    rec = tmp_path / "rec.mp4"
    rec.write_bytes(recording_bytes)
    photo = tmp_path / "note.txt"
    photo.write_text("不是录屏", encoding="utf-8")
    result = CliRunner().invoke(main, ["inspect", "--json", "--suggest-moments", str(rec), str(photo)])
    assert result.exit_code == 0, result.output
    video, text = json.loads(result.output)
    assert "suggested_moments" not in text
    card = video["suggested_moments"][1]
    assert card["text"] == "正品保障 假一赔十"
    assert card["phrases"][1] == {"claim": "fake_compensation", "name": "假一赔X", "phrase": "假一赔十"}
    assert card["moment"].startswith(card["timecode"] + " 画面文字：")
    assert video["moments_snippet"].startswith("# 建议的时刻")
    assert "evidence/livestream/rec.mp4" in video["moments_snippet"]


def test_an_undecodable_recording_is_a_reason_not_a_crash(tmp_path: Path, fake_engine: None) -> None:
    rec = tmp_path / "broken.mp4"
    rec.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 400)
    result = CliRunner().invoke(main, ["inspect", "--json", "--suggest-moments", str(rec)])
    assert result.exit_code == 0, result.output
    (entry,) = json.loads(result.output)
    assert entry["suggested_moments"] == []
    assert entry["suggest_error"]


@pytest.mark.parametrize(("given", "expected"), [
    ("我的案件/evidence/livestream/a.mp4", "evidence/livestream/a.mp4"),
    ("/home/x/evidence/直播/b.mov", "evidence/直播/b.mov"),
    ("Downloads/录屏.mp4", "evidence/livestream/录屏.mp4"),
    ("evidence.mp4", "evidence/livestream/evidence.mp4"),
])
def test_the_snippet_names_the_file_as_case_yaml_does(given: str, expected: str) -> None:
    assert suggest.case_file_path(given) == expected


def test_a_broken_extra_is_a_reason_and_is_not_cached(
        tmp_path: Path, fake_engine: None, recording_bytes: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(image: Image.Image) -> tuple[TextBox, ...]:
        raise ImportError("libonnxruntime.so: cannot open shared object file")

    source = recording(tmp_path, recording_bytes)
    with monkeypatch.context() as m:
        m.setattr(ocr, "run_engine", broken)
        with pytest.raises(SuggestFailed) as err:
            suggest.suggest_moments(source, context(tmp_path))
    assert err.value.reason == '文字识别（OCR）组件无法加载（ImportError），请重新安装：pip install "evidencekit[ocr]"'
    assert len(suggest.suggest_moments(source, context(tmp_path))) == 2
