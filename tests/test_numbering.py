"""numbering: exhibit numbers recorded in case.yaml stay put when evidence is added or removed."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pikepdf
from click.testing import CliRunner
from factories import make_jpeg

from evidencekit.cli import main
from evidencekit.errors import ExitCode
from evidencekit.integrity.manifest import MANIFEST_NAME
from evidencekit.pipeline import BuildOptions, assess_case


def run(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def numbers_in(pdf: Path) -> dict[str, int]:
    """path -> exhibit number, read from the manifest inside the dossier."""
    with pikepdf.open(pdf) as doc:
        manifest = json.loads(doc.attachments[MANIFEST_NAME].get_file().read_bytes())
    return {f["path"]: f["exhibit"] for f in manifest["files"]}


def make_case(root: Path) -> Path:
    ev = root / "evidence"
    make_jpeg(ev / "order" / "Screenshot_20241114-190012.jpg")
    make_jpeg(ev / "product" / "IMG_20241115_090000.jpg", color="#a33")
    make_jpeg(ev / "product" / "IMG_20241116_090000.jpg", color="#33a")
    (root / "case.yaml").write_text("# 我的案件\nschema: 1\norder:\n  number: '123'\n", encoding="utf-8")
    return root


FIRST = {"evidence/order/Screenshot_20241114-190012.jpg": 1, "evidence/product/IMG_20241115_090000.jpg": 2,
         "evidence/product/IMG_20241116_090000.jpg": 3}


def test_adding_a_file_to_a_built_case_keeps_the_old_exhibit_numbers(tmp_path: Path) -> None:
    root = make_case(tmp_path / "case")
    code, _out, err = run("build", root, "-o", tmp_path / "1.pdf")
    assert code == ExitCode.OK, err
    assert numbers_in(tmp_path / "1.pdf") == FIRST
    assert "# 我的案件" in (root / "case.yaml").read_text(encoding="utf-8")  # comments kept

    # An order screenshot from before the others: read in kind and time order it would be 证据1.
    new = make_jpeg(tmp_path / "Screenshot_20241113-080000.jpg", color="#3a3")
    code, out, err = run("add", root, new, "--kind", "order")
    assert code == ExitCode.OK, err
    assert "（证据4）" in out
    by_hand = make_jpeg(root / "evidence" / "order" / "Screenshot_20241112-080000.jpg", color="#aa3")
    assert by_hand.exists()

    code, out, err = run("build", root, "-o", tmp_path / "2.pdf")
    assert code == ExitCode.OK, err
    assert numbers_in(tmp_path / "2.pdf") == {
        **FIRST, "evidence/order/Screenshot_20241113-080000.jpg": 4,
        "evidence/order/Screenshot_20241112-080000.jpg": 5}
    assert "证据5 evidence/order/Screenshot_20241112-080000.jpg" in out

    code, out, err = run("build", root, "-o", tmp_path / "3.pdf", "--renumber")
    assert code == ExitCode.OK, err
    assert numbers_in(tmp_path / "3.pdf") == {
        "evidence/order/Screenshot_20241112-080000.jpg": 1, "evidence/order/Screenshot_20241113-080000.jpg": 2,
        "evidence/order/Screenshot_20241114-190012.jpg": 3, "evidence/product/IMG_20241115_090000.jpg": 4,
        "evidence/product/IMG_20241116_090000.jpg": 5}
    code, _out, err = run("build", root, "-o", tmp_path / "4.pdf")
    assert code == ExitCode.OK, err
    assert numbers_in(tmp_path / "4.pdf") == numbers_in(tmp_path / "3.pdf")


def test_a_removed_files_number_is_not_given_to_a_new_file(tmp_path: Path) -> None:
    root = make_case(tmp_path / "case")
    assert run("build", root, "-o", tmp_path / "1.pdf")[0] == ExitCode.OK
    os.remove(root / "evidence" / "product" / "IMG_20241116_090000.jpg")  # was 证据3
    make_jpeg(root / "evidence" / "product" / "IMG_20241117_090000.jpg")
    code, out, err = run("build", root, "-o", tmp_path / "2.pdf")
    assert code == ExitCode.OK, err
    assert numbers_in(tmp_path / "2.pdf") == {
        "evidence/order/Screenshot_20241114-190012.jpg": 1, "evidence/product/IMG_20241115_090000.jpg": 2,
        "evidence/product/IMG_20241117_090000.jpg": 4}
    assert "证据3（evidence/product/IMG_20241116_090000.jpg）已不在 evidence/ 中" in out

    code, out, err = run("build", root, "-o", tmp_path / "3.pdf", "--renumber")
    assert code == ExitCode.OK, err
    assert sorted(numbers_in(tmp_path / "3.pdf").values()) == [1, 2, 3]
    assert "IMG_20241116_090000" not in (root / "case.yaml").read_text(encoding="utf-8")


def test_check_numbers_like_build_but_writes_nothing(tmp_path: Path) -> None:
    root = make_case(tmp_path / "case")
    before = (root / "case.yaml").read_bytes()
    a = assess_case(root, BuildOptions(cache_dir=tmp_path / "cache"))
    assert {ex.source.rel_path: ex.number for ex in a.exhibits} == FIRST
    assert (root / "case.yaml").read_bytes() == before


def test_a_case_file_that_cannot_be_edited_still_gets_its_dossier(tmp_path: Path) -> None:
    root = make_case(tmp_path / "case")
    real = root / "real.yaml"  # a link inside the folder is read, never written through
    (root / "case.yaml").rename(real)
    (root / "case.yaml").symlink_to(real)
    code, out, err = run("build", root, "-o", tmp_path / "1.pdf")
    assert code == ExitCode.OK, err
    assert "未能把证据编号写入 case.yaml" in out
    assert "evidence" not in real.read_text(encoding="utf-8")


def test_a_folder_without_case_file_is_not_given_one(tmp_path: Path) -> None:
    root = make_case(tmp_path / "case")
    (root / "case.yaml").unlink()  # zero-config: `init` may still write the commented template
    code, out, err = run("build", root, "-o", tmp_path / "1.pdf")
    assert code == ExitCode.OK, err
    assert not (root / "case.yaml").exists()
    assert "没有 case.yaml，证据编号没有记下" in out


def test_a_repeated_number_stops_the_build_with_exit_3_and_the_line(tmp_path: Path) -> None:
    root = make_case(tmp_path / "case")
    with (root / "case.yaml").open("a", encoding="utf-8") as f:
        f.write("evidence:\n  - file: product/IMG_20241115_090000.jpg\n    number: 2\n"
                "  - file: product/IMG_20241116_090000.jpg\n    number: 2\n")
    code, _out, err = run("build", root, "-o", tmp_path / "1.pdf")
    assert code == ExitCode.CASE_INVALID
    assert "第 9 行" in err and "证据编号 2 已在 evidence[0] 使用" in err
    assert not (tmp_path / "1.pdf").exists()
