"""Issue 10: one function per fact, and tests that notice when a guarded behaviour breaks."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pikepdf
import pytest
from factories import make_case, make_display_image, sh

from evidencekit.letter import compose_letter
from evidencekit.media.moments import format_timecode, frame_caption
from evidencekit.model import EvidenceOverride, Frame
from evidencekit.pdf import appendix, checklist, cover, exhibits, index, summary, timeline
from evidencekit.pipeline import BuildResult
from evidencekit.rules import load_rules

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
    from evidencekit import batch, cliutil, followup

    for width in (batch.display_width, followup.display_width, cliutil.display_width):
        assert width("抖音") == 4
        assert width("ｆｕｌｌ") == 8  # full-width Latin
        assert width("e\u0301") == 1  # a combining accent takes no column
    assert cliutil.pad_to_width("抖音", 6) == "抖音  "


# ---------------------------------------------------------------------------------------------
# The limitation period: one computation for the checklist and for `status`
# ---------------------------------------------------------------------------------------------


def test_limitation_period_is_one_rule_for_checklist_and_status(tmp_path: Path) -> None:
    from evidencekit.followup import case_status
    from evidencekit.model import Problem
    from evidencekit.rules import build_checklist, limitation_period, target_profile

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
    import evidencekit.pack as pack_module
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
    result = pack_module.pack_case(example_case, "platform", tmp_path / "out", force=False,
                                   now=sh(2024, 11, 17, 9, 0, 0))
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
