"""Which folders hold a case's evidence, and which folders are cases: the inventory's answer
(evidence/ or 证据/ in any letter case, case.yaml or case.yml) is every command's answer."""

from __future__ import annotations

from pathlib import Path

from factories import make_jpeg, sh

from evidencekit.case.inventory import scan_evidence
from evidencekit.channels.batch import find_cases
from evidencekit.channels.letter import letter_for_folder
from evidencekit.pipeline import BuildOptions

CASE_YAML = ("schema: 1\nplatform: douyin\nproblem: {type: not_as_shown, summary: 收到的包是人造革}\n"
             "merchant: {shop_name: 好物优选旗舰店}\norder: {product: 真皮女士手提包, time: 2024-11-10 20:31}\n")
NOW = sh(2024, 11, 17, 9, 0, 0)


def test_the_letter_lists_evidence_in_a_folder_the_build_walks(tmp_path: Path) -> None:
    root = tmp_path / "case"
    root.mkdir()
    (root / "case.yaml").write_text(CASE_YAML, encoding="utf-8")
    make_jpeg(root / "Evidence" / "order" / "order.jpg")
    assert [f.rel_path for f in scan_evidence(root).files] == ["Evidence/order/order.jpg"]
    letter = letter_for_folder(root, BuildOptions(target="12315", now=NOW))
    assert "订单截图" in "".join(f.text for f in letter.fields)


def test_batch_finds_a_case_whose_file_is_case_yml(tmp_path: Path) -> None:
    cases = tmp_path / "cases"
    for name, case_file in (("a", "case.yaml"), ("b", "case.yml")):
        (cases / name).mkdir(parents=True)
        (cases / name / case_file).write_text(CASE_YAML, encoding="utf-8")
    assert [p.name for p in find_cases(cases)] == ["a", "b"]


def test_the_letter_reads_a_kind_from_a_case_yaml_path_as_the_inventory_does(tmp_path: Path) -> None:
    root = tmp_path / "case"
    (root / "Evidence" / "livestream").mkdir(parents=True)
    (root / "Evidence" / "livestream" / "rec.mp4").write_bytes(b"not decoded for a letter")
    (root / "case.yaml").write_text(
        CASE_YAML + "evidence:\n  - file: Evidence/livestream/rec.mp4\n    moments: ['00:12:31 主播承诺假一赔十']\n",
        encoding="utf-8")
    letter = letter_for_folder(root, BuildOptions(target="12315", now=NOW))
    assert "（录屏 00:12:31）" in "".join(f.text for f in letter.fields)
