"""Batch builds: isolation of failures, deterministic summaries, worker processes, the CLI end to end.

Most tests inject fake build functions (module-level, so worker processes can unpickle them) that
write a small JSON "PDF" recording what they were asked; the last tests build real dossiers.
"""

from __future__ import annotations

import csv
import io
import json
import os
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from factories import make_jpeg

from evidencekit.channels.batch import (
    BatchOptions,
    BatchSummary,
    BuiltCase,
    CaseRow,
    build_one,
    display_width,
    find_cases,
    format_summary,
    run_batch,
    write_summary,
)
from evidencekit.cli.batch import batch
from evidencekit.errors import CaseFileError, CaseFolderError, CaseProblem, ExitCode, OutputError
from evidencekit.pipeline import BuildOptions

NOW = datetime(2024, 11, 20, 8, 0, 0, tzinfo=UTC)


# ---------------------------------------------------------------------------------------------
# Fake builds (module level: they must pickle by reference into worker processes)
# ---------------------------------------------------------------------------------------------


def fake_build(root: Path, options: BuildOptions) -> BuiltCase:
    """Fails for cases named *broken* (exit 3) and *buggy* (a bug); otherwise records its call."""
    if "broken" in root.name:
        raise CaseFileError(str(root / "case.yaml"), [CaseProblem("platfrom", "未知的键", line=2)])
    if "buggy" in root.name:
        raise ValueError("boom in " + root.name)
    assert options.output is not None
    record = {
        "pid": os.getpid(),
        "jobs": options.jobs,
        "target": options.target,
        "force": options.force,
        "reproducible": options.reproducible,
        "strict": options.strict,
        "now": options.now.isoformat(),
    }
    options.output.write_text(json.dumps(record), encoding="utf-8")
    incomplete = "bare" in root.name
    return BuiltCase(
        output=options.output,
        pages=len(root.name),
        size=options.output.stat().st_size,
        complete=not incomplete,
        missing=("订单号", "客服聊天记录") if incomplete else (),
        urgency="紧急（24 小时内处理）",
    )


def crashing_build(root: Path, options: BuildOptions) -> BuiltCase:
    """Kills its own process for *crash* cases, as a segfaulting decoder would."""
    if "crash" in root.name:
        os._exit(9)
    return fake_build(root, options)


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def make_cases(parent: Path, names: list[str]) -> Path:
    for name in names:
        (parent / name / "evidence").mkdir(parents=True)
    return parent


def recorded(row: CaseRow) -> dict[str, object]:
    assert row.output is not None
    data: dict[str, object] = json.loads(row.output.read_text(encoding="utf-8"))
    return data


def without_times(summary: BatchSummary) -> list[CaseRow]:
    return [replace(r, seconds=0.0) for r in summary.rows]


# ---------------------------------------------------------------------------------------------
# find_cases
# ---------------------------------------------------------------------------------------------


def test_find_cases_takes_sorted_case_subfolders_and_skips_hidden_and_others(tmp_path: Path) -> None:
    (tmp_path / "乙" / "evidence").mkdir(parents=True)
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "case.yaml").write_text("schema: 1\n", encoding="utf-8")
    (tmp_path / "a" / "evidence").mkdir(parents=True)
    (tmp_path / ".trash" / "evidence").mkdir(parents=True)  # hidden: skipped
    (tmp_path / "notes").mkdir()  # neither case.yaml nor evidence/
    (tmp_path / "loose.txt").write_text("x", encoding="utf-8")
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "case.yaml").mkdir()  # a folder named case.yaml is not a case file

    assert [p.name for p in find_cases(tmp_path)] == ["a", "b", "乙"]


def test_find_cases_with_no_case_folder_raises_chinese_folder_error(tmp_path: Path) -> None:
    (tmp_path / "notes").mkdir()
    with pytest.raises(CaseFolderError) as err:
        find_cases(tmp_path)
    assert err.value.exit_code == ExitCode.FOLDER_UNUSABLE
    assert "没有找到案件文件夹" in err.value.message


def test_find_cases_on_a_single_case_folder_points_to_build(tmp_path: Path) -> None:
    (tmp_path / "evidence" / "order").mkdir(parents=True)
    with pytest.raises(CaseFolderError) as err:
        find_cases(tmp_path)
    assert "本身是一个案件文件夹" in err.value.message
    assert "evidencekit build" in err.value.hint


def test_find_cases_on_a_missing_folder_raises_folder_error(tmp_path: Path) -> None:
    with pytest.raises(CaseFolderError):
        find_cases(tmp_path / "nope")


# ---------------------------------------------------------------------------------------------
# run_batch with injected builds
# ---------------------------------------------------------------------------------------------


def test_failures_are_recorded_per_case_and_the_rest_build(tmp_path: Path) -> None:
    cases = make_cases(tmp_path / "cases", ["d_ok", "c_broken", "a_ok", "b_buggy"])
    summary = run_batch(cases, BatchOptions(BuildOptions(now=NOW),
                                            outdir=tmp_path / "out", jobs=1), build=fake_build)

    assert [r.case for r in summary.rows] == ["a_ok", "b_buggy", "c_broken", "d_ok"]
    rows = {r.case: r for r in summary.rows}
    assert rows["a_ok"].ok and rows["d_ok"].ok
    assert rows["a_ok"].output == (tmp_path / "out" / "a_ok.pdf").resolve()
    assert rows["a_ok"].output.is_file()
    assert (rows["a_ok"].pages, rows["a_ok"].complete, rows["a_ok"].urgency) == (4, True, "紧急（24 小时内处理）")
    assert rows["c_broken"].exit_code == ExitCode.CASE_INVALID
    assert "platfrom" in rows["c_broken"].message and rows["c_broken"].output is None
    assert rows["b_buggy"].exit_code == ExitCode.INTERNAL
    assert "ValueError" in rows["b_buggy"].message and "boom in b_buggy" in rows["b_buggy"].message
    assert not (tmp_path / "out" / "c_broken.pdf").exists()
    assert (summary.built, summary.failed) == (2, 2)
    # The first failed row decides the exit code (1 here), not the largest code (3).
    assert summary.exit_code == ExitCode.INTERNAL


def test_exit_code_is_zero_when_all_built_even_if_incomplete(tmp_path: Path) -> None:
    cases = make_cases(tmp_path / "cases", ["bare", "full"])
    summary = run_batch(cases, BatchOptions(BuildOptions(now=NOW),
                                            outdir=tmp_path / "out", jobs=1), build=fake_build)
    assert summary.exit_code == 0
    assert summary.incomplete == 1
    bare = summary.rows[0]
    assert (bare.complete, bare.missing) == (False, ("订单号", "客服聊天记录"))


def test_each_case_is_built_single_process_with_the_batch_options(tmp_path: Path) -> None:
    cases = make_cases(tmp_path / "cases", ["a", "b", "c"])
    build = BuildOptions(target="12315", force=True, reproducible=True, strict=True, now=NOW)
    summary = run_batch(cases, BatchOptions(build, outdir=tmp_path / "out", jobs=2), build=fake_build)
    for row in summary.rows:
        assert recorded(row) | {"pid": 0} == {"pid": 0, "jobs": 1, "target": "12315", "force": True,
                                               "reproducible": True, "strict": True, "now": NOW.isoformat()}


def test_jobs_2_runs_cases_in_worker_processes_with_the_same_rows_as_jobs_1(tmp_path: Path) -> None:
    names = ["e_ok", "b_buggy", "a_bare", "d_broken", "c_ok", "f_ok"]
    # Without a per-case time limit one job builds inline; with one (the default) every case has a process.
    inline = BatchOptions(BuildOptions(now=NOW), outdir=tmp_path / "out1", jobs=1, case_timeout=None)
    one = run_batch(make_cases(tmp_path / "one", names), inline, build=fake_build)
    two = run_batch(make_cases(tmp_path / "two", names), BatchOptions(BuildOptions(now=NOW),
                                                                      outdir=tmp_path / "out2", jobs=2),
                               build=fake_build)

    def comparable(s: BatchSummary, base: Path) -> list[tuple[object, ...]]:
        return [(r.case, r.exit_code, r.complete, r.missing, r.urgency, r.pages,
                 r.output.relative_to(base.resolve()) if r.output else None,
                 r.message.replace(str(s.cases_dir), "")) for r in without_times(s)]

    assert comparable(one, tmp_path / "out1") == comparable(two, tmp_path / "out2")
    assert two.jobs == 2
    assert {recorded(r)["pid"] for r in one.rows if r.ok} == {os.getpid()}  # jobs=1: inline
    assert os.getpid() not in {recorded(r)["pid"] for r in two.rows if r.ok}


def test_a_worker_that_dies_fails_only_its_own_case(tmp_path: Path) -> None:
    cases = make_cases(tmp_path / "cases", ["a", "b_crash", "c", "d", "e"])
    summary = run_batch(cases, BatchOptions(BuildOptions(now=NOW),
                                            outdir=tmp_path / "out", jobs=2), build=crashing_build)
    assert [(r.case, r.exit_code) for r in summary.rows] == [("a", 0), ("b_crash", 1), ("c", 0), ("d", 0), ("e", 0)]
    assert "工作进程意外退出" in summary.rows[1].message


def test_default_outdir_is_created_inside_cases_dir_and_not_taken_for_a_case(tmp_path: Path) -> None:
    cases = make_cases(tmp_path / "cases", ["a"])
    first = run_batch(cases, BatchOptions(BuildOptions(now=NOW), jobs=1), build=fake_build)
    assert first.outdir == cases / "_dossiers"
    assert (cases / "_dossiers" / "a.pdf").is_file()
    write_summary(first, first.outdir)
    again = run_batch(cases, BatchOptions(BuildOptions(force=True, now=NOW), jobs=1), build=fake_build)
    assert [r.case for r in again.rows] == ["a"]


def test_no_more_workers_than_cases(tmp_path: Path) -> None:
    cases = make_cases(tmp_path / "cases", ["a"])
    summary = run_batch(cases, BatchOptions(BuildOptions(now=NOW),
                                            outdir=tmp_path / "out", jobs=8, case_timeout=None),
                        build=fake_build)
    assert summary.jobs == 1
    assert recorded(summary.rows[0])["pid"] == os.getpid()  # one case, no time limit: built inline, no pool


def test_unusable_outdir_fails_the_batch_before_any_case_with_exit_5(tmp_path: Path) -> None:
    cases = make_cases(tmp_path / "cases", ["a"])
    (tmp_path / "out").write_text("a file, not a folder", encoding="utf-8")
    with pytest.raises(OutputError) as err:
        run_batch(cases, BatchOptions(BuildOptions(now=NOW),
                                      outdir=tmp_path / "out", jobs=1), build=fake_build)
    assert err.value.exit_code == ExitCode.OUTPUT


def test_progress_reports_every_case_and_ends_at_total(tmp_path: Path) -> None:
    cases = make_cases(tmp_path / "cases", ["a", "b_buggy", "c"])
    for jobs in (1, 2):
        calls: list[tuple[int, int, str]] = []

        def record(done: int, total: int, current: str, calls: list[tuple[int, int, str]] = calls) -> None:
            calls.append((done, total, current))

        run_batch(cases, BatchOptions(BuildOptions(now=NOW),
                                      outdir=tmp_path / f"out{jobs}", jobs=jobs),
                  build=fake_build, progress=record)
        assert calls[-1][:2] == (3, 3)
        assert {c for _, _, c in calls} >= {"a", "b_buggy", "c"}
        assert all(t == 3 for _, t, _ in calls)


# ---------------------------------------------------------------------------------------------
# Summary files and table
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def mixed_summary(tmp_path: Path) -> BatchSummary:
    cases = make_cases(tmp_path / "cases", ["张三", "c_broken", "a_bare"])
    return run_batch(cases, BatchOptions(BuildOptions(now=NOW),
                                         outdir=tmp_path / "out", jobs=1), build=fake_build)


def test_summary_csv_has_bom_chinese_header_and_one_row_per_case(mixed_summary: BatchSummary) -> None:
    csv_path, _ = write_summary(mixed_summary, mixed_summary.outdir)
    raw = csv_path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # Excel needs the BOM to read UTF-8
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][:4] == ["案件", "状态", "退出码", "证据清单"]
    assert [r[0] for r in rows[1:]] == ["a_bare", "c_broken", "张三"]
    by_case = {r[0]: dict(zip(rows[0], r, strict=True)) for r in rows[1:]}
    assert by_case["a_bare"]["缺少项目"] == "订单号、客服聊天记录"
    assert by_case["a_bare"]["证据清单"] == "不齐全"
    assert by_case["c_broken"]["状态"] == "失败" and by_case["c_broken"]["退出码"] == "3"
    assert "platfrom" in by_case["c_broken"]["说明"]
    assert by_case["张三"]["输出文件"].endswith("张三.pdf")


def test_summary_json_shape(mixed_summary: BatchSummary) -> None:
    _, json_path = write_summary(mixed_summary, mixed_summary.outdir)
    data = json.loads(json_path.read_text(encoding="utf-8"))
    assert (data["total"], data["built"], data["failed"], data["incomplete"], data["exit_code"]) == (3, 2, 1, 1, 3)
    assert data["generated_at"] == "2024-11-20T08:00:00+00:00"
    assert [c["case"] for c in data["cases"]] == ["a_bare", "c_broken", "张三"]
    bare, broken, ok = data["cases"]
    assert set(bare) == {"case", "path", "status", "exit_code", "message", "complete", "missing_count",
                         "missing", "urgency", "output", "pages", "size", "seconds"}
    assert (bare["status"], bare["complete"], bare["missing_count"], bare["missing"]) == (
        "ok", False, 2, ["订单号", "客服聊天记录"])
    assert (broken["status"], broken["exit_code"], broken["output"], broken["complete"]) == ("failed", 3, None, None)
    assert ok["output"].endswith("张三.pdf") and ok["size"] > 0 and ok["pages"] == 2


def test_format_summary_aligns_columns_and_explains_failures_and_gaps(mixed_summary: BatchSummary) -> None:
    text = format_summary(mixed_summary)
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("案件"))
    table = lines[start:start + 2 + len(mixed_summary.rows)]
    # Column "状态" starts at the same display column on every row, CJK names included.
    cols = [display_width(line[:line.index(word)])
            for line, word in zip(table, ["状态", " -", "已生成", "失败", "已生成"], strict=True)]
    cols[1] += 1  # " -" is found one column before the second dash run starts
    assert len(set(cols)) == 1
    assert "a_bare：缺少 订单号、客服聊天记录" in text
    assert "c_broken（退出码 3）" in text and "platfrom" in text
    assert "已生成 2 个，失败 1 个" in text


# ---------------------------------------------------------------------------------------------
# Real builds
# ---------------------------------------------------------------------------------------------


def make_real_case(root: Path, case_yaml: str | None, folders: tuple[str, ...] = ("product",)) -> Path:
    for i, sub in enumerate(folders):
        make_jpeg(root / "evidence" / sub / f"IMG_20241113_15000{i}.jpg", size=(320, 240))
    if case_yaml is not None:
        (root / "case.yaml").write_text(case_yaml, encoding="utf-8")
    return root


FULL_CASE = """\
schema: 1
platform: douyin
order: {number: "6912345678901234567", product: 真皮女士手提包, amount: 399.00}
problem: {type: not_as_shown, summary: 收到的包是人造革}
claims: [return_refund]
"""


def test_existing_output_without_force_fails_that_case_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                             ) -> None:
    monkeypatch.setenv("EVIDENCEKIT_CACHE_DIR", str(tmp_path / "cache"))
    cases = tmp_path / "cases"
    make_real_case(cases / "a", None)
    make_real_case(cases / "b", None)
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.pdf").write_bytes(b"earlier dossier")

    summary = run_batch(cases, BatchOptions(BuildOptions(now=NOW), outdir=out, jobs=1), build=build_one)
    assert [(r.case, r.exit_code) for r in summary.rows] == [("a", ExitCode.OUTPUT), ("b", 0)]
    assert "已存在" in summary.rows[0].message
    assert (out / "a.pdf").read_bytes() == b"earlier dossier"
    assert (out / "b.pdf").read_bytes().startswith(b"%PDF")


def test_cli_batch_end_to_end_with_a_broken_case(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVIDENCEKIT_CACHE_DIR", str(tmp_path / "cache"))
    cases = tmp_path / "cases"
    make_real_case(cases / "bare", None)  # zero-config: builds, checklist incomplete
    make_real_case(cases / "broken", "schema: 1\nplatfrom: douyin\n")  # typo in a key: exit 3
    make_real_case(cases / "full", FULL_CASE, folders=("order", "product", "livestream", "chat"))

    result = CliRunner().invoke(batch, [str(cases), "--jobs", "2", "--quiet"])
    assert result.exit_code == ExitCode.CASE_INVALID, result.output
    out = cases / "_dossiers"
    assert (out / "bare.pdf").read_bytes().startswith(b"%PDF")
    assert (out / "full.pdf").read_bytes().startswith(b"%PDF")
    assert not (out / "broken.pdf").exists()
    assert "broken（退出码 3）" in result.output and "platform" in result.output
    data = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    rows = {c["case"]: c for c in data["cases"]}
    assert [c["case"] for c in data["cases"]] == ["bare", "broken", "full"]
    assert (rows["bare"]["status"], rows["bare"]["complete"]) == ("ok", False)
    assert "订单号" in rows["bare"]["missing"]
    assert (rows["full"]["status"], rows["full"]["complete"], rows["full"]["missing"]) == ("ok", True, [])
    assert rows["full"]["urgency"] == "紧急（24 小时内处理）"  # not_as_shown is an urgent problem type
    assert rows["full"]["pages"] >= 5 and rows["full"]["size"] == (out / "full.pdf").stat().st_size
    assert (rows["broken"]["status"], rows["broken"]["exit_code"]) == ("failed", 3)
    assert (out / "summary.csv").read_bytes().startswith(b"\xef\xbb\xbf")

    # Rerun: without --force the built cases fail with 5; with --force they are rebuilt.
    again = CliRunner().invoke(batch, [str(cases), "--jobs", "2", "--quiet", "--json"])
    assert again.exit_code == ExitCode.OUTPUT, again.output
    codes = {c["case"]: c["exit_code"] for c in json.loads(again.output)["cases"]}
    assert codes == {"bare": 5, "broken": 3, "full": 5}
    forced = CliRunner().invoke(batch, [str(cases), "--jobs", "1", "--quiet", "--json", "--force"])
    assert {c["case"]: c["exit_code"] for c in json.loads(forced.output)["cases"]} == {
        "bare": 0, "broken": 3, "full": 0}


def test_cli_batch_on_a_folder_without_cases_exits_4(tmp_path: Path) -> None:
    result = CliRunner().invoke(batch, [str(tmp_path)])
    assert result.exit_code == ExitCode.FOLDER_UNUSABLE
    assert "没有找到案件文件夹" in result.output


def test_summary_files_hold_no_local_path(mixed_summary: BatchSummary, tmp_path: Path) -> None:
    # Issue 9: nothing we write names where the volunteer's folders live; the summary sits in
    # OUTDIR, so outputs are named relative to it and cases by their folder name.
    csv_path, json_path = write_summary(mixed_summary, mixed_summary.outdir)
    for path in (csv_path, json_path):
        text = path.read_text(encoding="utf-8-sig")
        assert str(tmp_path) not in text and os.path.realpath(tmp_path) not in text, path.name
    data = json.loads(json_path.read_text(encoding="utf-8"))
    ok = next(c for c in data["cases"] if c["case"] == "张三")
    assert ok["path"] == "张三" and ok["output"] == "张三.pdf"
    assert (mixed_summary.outdir / ok["output"]).is_file()
