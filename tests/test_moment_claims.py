"""The host's claims in on-screen text (templates/moment_claims.yaml): matching on strings alone."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from evidencekit.errors import TemplateError
from evidencekit.rules.moment_claims import compact, load_moment_claims, load_moment_claims_from, match_claims

ROOT = Path(__file__).resolve().parents[1]


def found(text: str) -> list[tuple[str, str]]:
    return [(m.claim, m.phrase) for m in match_claims(text, load_moment_claims())]


@pytest.mark.parametrize(("text", "expected"), [
    ("直播间专享价 ¥399", [("price", "¥399")]),
    ("到手价：￥１２９.９", [("price", "¥129.9")]),
    ("今天只要 59 元", [("price", "59元")]),
    ("官方正品 假一赔十", [("genuine", "官方正品"), ("fake_compensation", "假一赔十")]),
    ("假 一 赔 3", [("fake_compensation", "假一赔3")]),
    ("保真 支持专柜验货", [("genuine", "保真")]),
    ("１００％纯棉", [("hundred_percent", "100%")]),
    ("支持七天无理由退货", [("no_reason_return", "七天无理由")]),
    ("7 天无理由", [("no_reason_return", "7天无理由")]),
    ("全网最低价 不满意包退", [("lowest_price", "全网最低"), ("return_promise", "包退")]),
])
def test_claims_are_found_in_ocr_text(text: str, expected: list[tuple[str, str]]) -> None:
    assert found(text) == expected


@pytest.mark.parametrize("text", ["00:01:12.5", "关注主播 点亮粉丝灯牌", "2024-11-11 20:30", "库存 100 件", ""])
def test_text_without_a_claim_matches_nothing(text: str) -> None:
    assert found(text) == []


def test_compact_folds_full_width_forms_and_drops_spaces() -> None:
    assert compact("７天 无理由　１００％ ￥５") == "7天无理由100%¥5"


def _edited(tmp_path: Path, old: str, new: str) -> Path:
    folder = tmp_path / "templates"
    shutil.copytree(ROOT / "templates", folder)
    path = folder / "moment_claims.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")
    return folder


def test_a_volunteer_adds_a_phrase_without_code(tmp_path: Path) -> None:
    folder = _edited(tmp_path, "phrases: [全网最低, 最低价", "phrases: [亏本清仓, 全网最低, 最低价")
    rules = load_moment_claims_from(folder)
    assert [(m.claim, m.phrase) for m in match_claims("亏本清仓 最后十单", rules)] == [("lowest_price", "亏本清仓")]


@pytest.mark.parametrize(("old", "new", "message"), [
    ("example: 假一赔十", "example: 假一赔", "claims.fake_compensation.example：“假一赔”对不上"),
    ("'100%'", "'100(%'", "claims.hundred_percent.patterns[0]：正则表达式有误"),
    ("    example: 不满意包退", "    exmple: 不满意包退", "claims.return_promise.exmple：未知的键"),
])
def test_a_broken_template_names_the_key(tmp_path: Path, old: str, new: str, message: str) -> None:
    with pytest.raises(TemplateError) as err:
        load_moment_claims_from(_edited(tmp_path, old, new))
    assert message in err.value.message
