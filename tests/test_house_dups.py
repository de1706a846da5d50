"""Issue 10: one function per fact, and tests that notice when a guarded behaviour breaks."""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any, BinaryIO

import pikepdf
import pypdfium2
import pytest
from factories import make_case, make_display_image, make_jpeg, sh
from hypothesis import given
from hypothesis import strategies as st
from mediagen import make_video

from evidencekit import fsutil
from evidencekit.channels.letter import compose_letter
from evidencekit.errors import ExitCode, OutputError
from evidencekit.media.moments import format_timecode, frame_caption
from evidencekit.model import EvidenceOverride, Frame, TimeSource
from evidencekit.pdf import appendix, checklist, cover, exhibits, index, summary, timeline
from evidencekit.pipeline import BuildOptions, BuildResult, build_dossier
from evidencekit.rules.catalog import load_rules

NOW = sh(2024, 11, 17, 9, 0, 0)

# ---------------------------------------------------------------------------------------------
# Timecodes: one rule (floor to the whole second, as a video player shows a running time)
# ---------------------------------------------------------------------------------------------


def test_59_99_seconds_is_00_00_59_everywhere(tmp_path: Path) -> None:
    assert format_timecode(59.99) == "00:00:59"
    # The letter quotes a declared moment.
    case = replace(make_case(tmp_path), evidence=(
        EvidenceOverride(file="evidence/livestream/rec.mp4", moments=("00:00:59.99 主播承诺假一赔十",)),))
    text = compose_letter(case, "12315", load_rules(), exhibits_summary=["录屏"],
                          now=sh(2024, 11, 17, 9, 0, 0)).field("投诉内容").text
    assert "（录屏 00:00:59）" in text
    # The dossier: the caption under a frame image, the exhibit page's frame caption, the index.
    frame = Frame(image=make_display_image(tmp_path / "f.jpg"), offset=59.99, wall_time=None)
    assert frame_caption(59.99, None) == "00:00:59"
    assert exhibits._frame_caption(frame) == "00:00:59"
    assert exhibits.format_timecode is format_timecode
    assert index.format_timecode is format_timecode


# ---------------------------------------------------------------------------------------------
# Display width: one function for every terminal table
# ---------------------------------------------------------------------------------------------


def test_display_width_is_one_rule_for_status_and_batch_tables() -> None:
    from evidencekit import terminal
    from evidencekit.case import followup
    from evidencekit.channels import batch

    for width in (batch.display_width, followup.display_width, terminal.display_width):
        assert width is terminal.display_width
        assert width("抖音") == 4
        assert width("ｆｕｌｌ") == 8  # full-width Latin
        assert width("e\u0301") == 1  # a combining accent takes no column
    assert terminal.pad_to_width("抖音", 6) == "抖音  "


# ---------------------------------------------------------------------------------------------
# The limitation period: one computation for the checklist and for `status`
# ---------------------------------------------------------------------------------------------


def test_limitation_period_is_one_rule_for_checklist_and_status(tmp_path: Path) -> None:
    from evidencekit.case.followup import case_status
    from evidencekit.model import Problem
    from evidencekit.rules.catalog import build_checklist, limitation_period, target_profile

    rules = load_rules()
    years = target_profile("12315", rules).limitation_years
    assert years
    found = sh(2024, 2, 29, 23, 30, 0)  # a leap day, late in the evening
    case = replace(make_case(tmp_path), problem=Problem(type="not_as_shown", summary="假货", discovered_at=found))
    period = limitation_period(case, years)
    assert period is not None
    assert (period.start_day.isoformat(), period.start_key) == ("2024-02-29", "problem.discovered_at")
    assert period.last_day.isoformat() == f"{2024 + years}-02-28"
    for now, overdue in ((sh(2024 + years, 2, 28, 23, 59, 0), False), (sh(2024 + years, 3, 1, 0, 0, 1), True)):
        item = next(i for i in build_checklist(case, [], "12315", rules, now=now) if i.key == "deadline.limitation")
        status = next(d for d in case_status(case, rules, now).deadlines if d.key == "limitation")
        assert (item.status.value == "missing") is overdue
        assert (status.status == "overdue") is overdue
        assert status.due == period.last_day


# ---------------------------------------------------------------------------------------------
# pack takes page numbers from the renderer, not from the PDF's bookmarks
# ---------------------------------------------------------------------------------------------


def test_pack_uses_the_renderers_page_map_even_when_bookmarks_are_renamed(
        example_case: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import evidencekit.channels.pack as pack_module
    from evidencekit.channels.pack import PackOptions
    from evidencekit.pdf import document

    def renamed_anchor(ctx: document.RenderContext, key: str, title: str, level: int) -> document.Hook:
        return real_anchor(ctx, key, f"第{len(key)}项", level)  # no "证据N", no section titles

    real_anchor = document.anchor
    for module in (exhibits, index, checklist, summary, timeline, appendix, cover):
        monkeypatch.setattr(module, "anchor", renamed_anchor)
    built: list[BuildResult] = []

    def spy(*args: object, **kw: object) -> BuildResult:
        result = real_build(*args, **kw)  # type: ignore[arg-type]
        built.append(result)
        return result

    real_build = pack_module.build_dossier
    monkeypatch.setattr(pack_module, "build_dossier", spy)
    options = BuildOptions(target="platform", now=sh(2024, 11, 17, 9, 0, 0))
    result = pack_module.pack_case(example_case, PackOptions(options, outdir=tmp_path / "out"))
    (build,) = built
    with pikepdf.open(result.outdir / "证据材料.pdf") as pdf, pdf.open_outline() as outline:
        assert not any(str(item.title).startswith("证据") for item in outline.root)  # the premise
    images = [f for f in result.uploads if f.name.endswith(".jpg")]
    assert images[0].pages == (build.section_pages["summary"],) * 2
    with_exhibits = [f for f in images if f.exhibits]
    assert len(with_exhibits) == len(images) - 1 >= 2
    for f in with_exhibits:
        first, _last = build.exhibit_pages[f.exhibits[0]]
        assert f.pages == (first, first)


# ---------------------------------------------------------------------------------------------
# Behaviours no test noticed breaking
# ---------------------------------------------------------------------------------------------


def _small_case(root: Path) -> Path:
    make_jpeg(root / "evidence" / "product" / "IMG_20241113_151000.jpg")
    return root


def _pdf_text(pdf: Path) -> str:
    doc = pypdfium2.PdfDocument(str(pdf))
    try:
        return "".join(doc[i].get_textpage().get_text_range() for i in range(len(doc)))
    finally:
        doc.close()


def test_a_failure_while_writing_the_output_leaves_the_old_output_intact(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    case = _small_case(tmp_path / "c")
    old = b"%PDF-1.7 the dossier of yesterday\n" * 100
    (case / "dossier.pdf").write_bytes(old)
    real_open = fsutil.open_regular

    class DiskFullHalfway:
        def __init__(self, inner: BinaryIO) -> None:
            self.inner, self.reads = inner, 0

        def read(self, n: int = -1) -> bytes:
            self.reads += 1
            if self.reads > 1:
                raise OSError(errno.ENOSPC, "No space left on device")
            return self.inner.read(n)

    @contextlib.contextmanager
    def failing(path: Path, *, what: str = "文件", **kw: Any) -> Iterator[Any]:
        with real_open(path, what=what, **kw) as inp:
            # Only the copy of the finished PDF to the user's path fails (the inventory also reads).
            yield DiskFullHalfway(inp) if path.name == "final.pdf" else inp

    monkeypatch.setattr(fsutil, "CHUNK", 4096)
    monkeypatch.setattr(fsutil, "open_regular", failing)
    with pytest.raises(OutputError):
        build_dossier(case, BuildOptions(force=True, now=NOW))
    assert (case / "dossier.pdf").read_bytes() == old
    assert sorted(p.name for p in case.iterdir()) == ["dossier.pdf", "evidence"]  # no partial or temp file


def test_mask_personal_masks_phone_numbers_inside_chat_exports(tmp_path: Path) -> None:
    case = _small_case(tmp_path / "c")
    chat = ("买家\n2024年11月14日 10:00\n我的电话是 13912345678，请回电\n\n"
            "好物优选客服\n2024年11月14日 10:05\n好的\n")
    (case / "evidence" / "chat").mkdir(parents=True)
    (case / "evidence" / "chat" / "聊天记录.txt").write_text(chat, encoding="utf-8")
    plain = build_dossier(case, BuildOptions(output=tmp_path / "plain.pdf", now=NOW))
    assert "13912345678" in _pdf_text(plain.output)  # the premise: the transcript is typeset
    masked = build_dossier(case, BuildOptions(output=tmp_path / "masked.pdf", mask_personal=True, now=NOW))
    text = _pdf_text(masked.output)
    assert "13912345678" not in text
    assert "139****5678" in text


def test_strict_refuses_a_case_whose_only_fault_is_a_warning(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from evidencekit import pipeline
    from evidencekit.cli import main
    from evidencekit.model import Finding, Severity, Status

    case = _small_case(tmp_path / "c")

    def complete_but_warned(ctx: pipeline.BuildContext) -> None:
        pipeline.assess(ctx)
        a = ctx.assessment
        items = tuple(replace(i, status=Status.PRESENT) for i in a.checklist)  # nothing missing or weak
        warning = Finding(Severity.WARNING, "test.warning", "这条警告只在测试里出现", "x.jpg")
        ctx.assessment = replace(a, checklist=items, findings=(*a.findings, warning))

    steps = tuple(complete_but_warned if s is pipeline.assess else s for s in pipeline.BUILD_STEPS)
    assert steps != pipeline.BUILD_STEPS
    monkeypatch.setattr(pipeline, "BUILD_STEPS", steps)
    result = CliRunner().invoke(main, ["build", str(case), "--strict"])
    assert result.exit_code == ExitCode.INCOMPLETE == 6
    assert "这条警告只在测试里出现" in result.stderr
    assert not list(case.rglob("*.pdf")) and not list(case.rglob("*.tmp"))


def test_frames_get_no_wall_clock_time_when_the_only_time_is_the_file_mtime(tmp_path: Path) -> None:
    case = tmp_path / "c"
    video = make_video(case / "evidence" / "unboxing" / "rec.mp4", 3.0)  # no creation_time, no date in name
    when = sh(2024, 11, 13, 20, 0, 0).timestamp()
    os.utime(video, (when, when))
    result = build_dossier(case, BuildOptions(output=tmp_path / "out.pdf", now=NOW))
    (exhibit,) = [ex for ex in result.dossier.exhibits if ex.source.name == "rec.mp4"]
    assert exhibit.stamp.source is TimeSource.MTIME  # the premise
    insp = exhibit.inspection
    assert insp.frames
    assert insp.start_time is None
    assert all(f.wall_time is None for f in insp.frames)
    assert all("2024-11-13" not in f.image.caption for f in insp.frames)
    text = _pdf_text(result.output)
    assert "20:00:01" not in text and "20:00:02" not in text  # no start + offset under any frame


# ---------------------------------------------------------------------------------------------
# UTC offsets: one parser for EXIF OffsetTime and for case.yaml times and tz
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "minutes"), [
    ("+08:00", 480), ("-0530", -330), ("Z", 0), ("UTC+9", 540), ("+8", 480), ("GMT-03:00", -180),
    ("+14:00", 840), ("-12:00", -720),
])
def test_an_offset_means_the_same_in_exif_and_in_case_yaml(text: str, minutes: int) -> None:
    from datetime import timedelta

    from evidencekit.case.load import parse_timezone
    from evidencekit.timeinfo import parse_exif_datetime, parse_utc_offset

    zone = parse_utc_offset(text)
    assert zone is not None and zone.utcoffset(None) == timedelta(minutes=minutes)
    assert parse_timezone(text).utcoffset(None) == timedelta(minutes=minutes)
    exif = parse_exif_datetime("2024:03:15 14:32:00", text)
    assert exif is not None and exif.utcoffset() == timedelta(minutes=minutes)


@pytest.mark.parametrize("text", ["-13:00", "+15", "+08:60", "8", "++08", "UTC+08:0", ""])
def test_an_offset_refused_in_case_yaml_is_ignored_in_exif(text: str) -> None:
    from datetime import timedelta

    from evidencekit.case.load import parse_timezone
    from evidencekit.timeinfo import parse_exif_datetime, parse_utc_offset

    assert parse_utc_offset(text) is None
    with pytest.raises(ValueError):
        parse_timezone(text)
    exif = parse_exif_datetime("2024:03:15 14:32:00", text)  # falls back to the case's zone
    assert exif is not None and exif.utcoffset() == timedelta(hours=8)


@given(st.text(alphabet="+-:0123456789ZUTCGMutc \x00", max_size=12))
def test_parse_utc_offset_never_raises_and_stays_on_earth(text: str) -> None:
    from datetime import timedelta

    from evidencekit.timeinfo import parse_utc_offset

    zone = parse_utc_offset(text)
    if zone is not None:
        offset = zone.utcoffset(None)
        assert offset is not None and timedelta(hours=-12) <= offset <= timedelta(hours=14)


@pytest.mark.parametrize("offset", ["Z", "+08:00", "+0800", "-0530", "+14:00", "-12:00", "+0000", "-00:00",
                                    "+14:01", "-1201", "+08:60", "+2400"])
def test_an_offset_in_a_file_name_means_what_it_means_in_exif(offset: str) -> None:
    from evidencekit.timeinfo import parse_utc_offset, time_from_filename

    stamp = time_from_filename(f"2024-11-14T19:00:12{offset}.jpg")
    zone = parse_utc_offset(offset)
    if zone is None:  # off the Earth's offsets: the name gives no time at all
        assert stamp is None
    else:
        assert stamp is not None and stamp.time is not None
        assert stamp.time.utcoffset() == zone.utcoffset(None)
        assert stamp.time.tzinfo is zone or stamp.time.tzinfo == zone


# ---------------------------------------------------------------------------------------------
# File hashes: one reader for `add` (casefolder) and `verify --originals`
# ---------------------------------------------------------------------------------------------


def test_one_file_hasher_and_verify_does_not_follow_a_planted_link(tmp_path: Path) -> None:
    import hashlib

    from evidencekit.case import folder as casefolder
    from evidencekit.integrity import verify

    data = b"original bytes" * 100_000
    original = tmp_path / "a.jpg"
    original.write_bytes(data)
    expected = hashlib.sha256(data).hexdigest()
    assert fsutil.sha256_file(original, what="文件") == expected
    assert casefolder._sha256(original) == verify._hash_file(original) == expected
    # A link swapped in after verify listed the folder (it lists regular files only) is not read.
    (tmp_path / "b.jpg").symlink_to(original)
    assert verify._hash_file(tmp_path / "b.jpg") is None
    assert verify._hash_file(tmp_path / "gone.jpg") is None


# ---------------------------------------------------------------------------------------------
# Output checks: build and pack refuse the same places
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["证据", "Evidence"])
def test_pack_refuses_an_outdir_that_would_become_an_evidence_folder(tmp_path: Path, name: str) -> None:
    from evidencekit.channels.pack import PackOptions, pack_case

    case = _small_case(tmp_path / "c")  # has evidence/ only: 证据/ and Evidence/ do not exist yet
    with pytest.raises(OutputError, match="证据文件夹内"):
        pack_case(case, PackOptions(BuildOptions(target="12315", now=NOW), outdir=case / name))
    with pytest.raises(OutputError, match="证据文件夹内"):
        build_dossier(case, BuildOptions(output=case / name / "dossier.pdf", now=NOW))
    assert sorted(p.name for p in case.iterdir()) == ["evidence"]


def test_a_link_at_an_output_path_is_refused_for_files_and_folders_alike(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "real.pdf").write_bytes(b"x")
    (tmp_path / "dir-link").symlink_to(tmp_path / "real")
    (tmp_path / "file-link.pdf").symlink_to(tmp_path / "real.pdf")
    for check, link in ((fsutil.refuse_special, "file-link.pdf"), (fsutil.refuse_link_dir, "dir-link")):
        with pytest.raises(OutputError, match="是一个链接"):
            check(tmp_path / link, "输出")
    assert fsutil.refuse_special(tmp_path / "real.pdf", "输出") and fsutil.refuse_link_dir(tmp_path / "real", "输出")
    assert not fsutil.refuse_special(tmp_path / "none", "输出") and not fsutil.refuse_link_dir(tmp_path / "none")
