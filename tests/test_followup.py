"""followup: recording events in case.yaml, deadlines, and the next escalation step."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from factories import make_case, sh
from hypothesis import given
from hypothesis import strategies as st

from evidencekit.case.followup import (
    CaseStatus,
    StatusFailure,
    add_working_days,
    case_status,
    format_status_details,
    format_status_table,
    record_event,
    status_json,
)
from evidencekit.case.load import load_case, render_case_template
from evidencekit.cli.followup import log as log_command
from evidencekit.cli.followup import status as status_command
from evidencekit.errors import CaseFolderError, ExitCode, FollowupUsageError
from evidencekit.model import SHANGHAI, Event
from evidencekit.rules.catalog import Rules, load_rules

NOW = sh(2024, 11, 20, 12, 0, 0)


@pytest.fixture(scope="module")
def rules() -> Rules:
    return load_rules()


def runner_group() -> click.Group:
    return click.Group(commands=[log_command, status_command])


def invoke(*args: object) -> click.testing.Result:
    return CliRunner().invoke(runner_group(), [str(a) for a in args])


def template_case(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    text = render_case_template({"platform": "douyin", "order_number": "6912345678901234567",
                                 "problem_type": "wrong_size"})
    (root / "case.yaml").write_text(text, encoding="utf-8")
    return root


# ---------------------------------------------------------------------------------------------
# Recording
# ---------------------------------------------------------------------------------------------


def test_record_event_keeps_comments_and_loads_back(tmp_path: Path) -> None:
    root = template_case(tmp_path / "case")
    before = (root / "case.yaml").read_text(encoding="utf-8")
    event = record_event(root, "  客服说\n等主管回复 ", channel="商家", ref="工号 1024",
                         time=datetime(2024, 11, 15, 10, 0))
    after = (root / "case.yaml").read_text(encoding="utf-8")
    comments = [line for line in before.splitlines() if line.lstrip().startswith("#")]
    assert comments and all(line in after.splitlines() for line in comments)
    assert len(after) > len(before)
    case = load_case(root)
    assert case.events == (event,)
    assert event == Event(sh(2024, 11, 15, 10, 0, 0), "seller", "客服说 等主管回复", "工号 1024")


def test_record_event_refuses_a_folder_without_case_file(tmp_path: Path) -> None:
    (tmp_path / "case").mkdir()
    with pytest.raises(CaseFolderError) as info:
        record_event(tmp_path / "case", "已联系", time=NOW)
    assert "evidencekit init" in info.value.hint
    assert not (tmp_path / "case" / "case.yaml").exists()


def test_record_event_validates_channel_and_text(tmp_path: Path) -> None:
    root = template_case(tmp_path / "case")
    with pytest.raises(FollowupUsageError) as info:
        record_event(root, "已联系", channel="wechat", time=NOW)
    assert info.value.exit_code is ExitCode.USAGE and "seller" in info.value.hint
    with pytest.raises(FollowupUsageError):
        record_event(root, "   ", time=NOW)
    assert load_case(root).events == ()


def test_cli_log_writes_the_event(tmp_path: Path) -> None:
    root = template_case(tmp_path / "case")
    result = invoke("log", root, "已申请平台介入", "--channel", "platform", "--ref", "工单 88",
                    "--time", "2024年11月17日 09:30")
    assert result.exit_code == 0, result.output
    assert "已记录跟进：2024-11-17 09:30 平台（工单 88）：已申请平台介入" in result.stdout
    assert "下一步：" in result.stdout
    assert load_case(root).events == (Event(sh(2024, 11, 17, 9, 30, 0), "platform", "已申请平台介入", "工单 88"),)


def test_cli_log_defaults_to_now_and_seller(tmp_path: Path) -> None:
    root = template_case(tmp_path / "case")
    result = invoke("log", root, "第一次联系")
    assert result.exit_code == 0, result.output
    (event,) = load_case(root).events
    assert event.channel == "seller" and event.time is not None and event.time.tzinfo is not None


def test_cli_log_errors(tmp_path: Path) -> None:
    root = template_case(tmp_path / "case")
    bad_time = invoke("log", root, "x", "--time", "昨天")
    assert bad_time.exit_code == 2 and "--time" in bad_time.output
    bad_channel = invoke("log", root, "x", "--channel", "wechat")
    assert bad_channel.exit_code == 2
    (tmp_path / "empty").mkdir()
    no_file = invoke("log", tmp_path / "empty", "x")
    assert no_file.exit_code == 4 and "evidencekit init" in no_file.output
    assert load_case(root).events == ()


# ---------------------------------------------------------------------------------------------
# Working days and deadlines
# ---------------------------------------------------------------------------------------------


def test_working_days_skip_weekends() -> None:
    assert add_working_days(date(2024, 11, 15), 7) == date(2024, 11, 26)  # Friday → Tuesday after next
    assert add_working_days(date(2024, 11, 16), 1) == date(2024, 11, 18)  # Saturday → Monday
    assert add_working_days(date(2024, 11, 18), 5) == date(2024, 11, 25)
    assert add_working_days(date(2024, 11, 18), 0) == date(2024, 11, 18)


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 1, 1)), st.integers(0, 80))
def test_working_days_property(start: date, n: int) -> None:
    end = add_working_days(start, n)
    days = [start + timedelta(days=i) for i in range(1, (end - start).days + 1)]
    assert sum(d.weekday() < 5 for d in days) == n
    assert n == 0 or end.weekday() < 5


def deadline(status: CaseStatus, key: str):  # type: ignore[no-untyped-def]
    return next(d for d in status.deadlines if d.key == key)


def test_no_reason_return_window_starts_the_day_after_signing(rules: Rules, tmp_path: Path) -> None:
    case = make_case(tmp_path)  # signed 2024-11-13 14:02 → last day 2024-11-20
    d = deadline(case_status(case, rules, sh(2024, 11, 20, 23, 59, 0)), "no_reason_return")
    assert d.due == date(2024, 11, 20) and d.status == "soon"
    assert deadline(case_status(case, rules, sh(2024, 11, 21, 0, 0, 0)), "no_reason_return").status == "overdue"
    assert deadline(case_status(case, rules, sh(2024, 11, 14, 9, 0, 0)), "no_reason_return").status == "ok"


def test_12315_accept_then_mediation(rules: Rules, tmp_path: Path) -> None:
    submitted = Event(sh(2024, 11, 1, 10, 0, 0), "12315", "已提交投诉", "")
    case = replace(make_case(tmp_path), events=(submitted,))
    s = case_status(case, rules, NOW)
    accept = deadline(s, "12315.accept")
    assert accept.due == date(2024, 11, 12) and accept.status == "overdue"
    assert "法定节假日" in accept.note
    assert s.next_step.step == "payment" and s.next_step.not_before is None

    accepted = replace(case, events=(submitted, Event(sh(2024, 11, 5, 10, 0, 0), "12315", "已受理", "")))
    s = case_status(accepted, rules, NOW)
    assert deadline(s, "12315.mediation").due == date(2025, 1, 4)  # 60 days (实施条例)
    assert deadline(s, "12315.mediation_samr").due == add_working_days(date(2024, 11, 5), 45)
    assert not any(d.key == "12315.accept" for d in s.deadlines)
    assert s.next_step.step == "payment" and s.next_step.not_before == date(2025, 1, 4)

    ended = replace(case, events=(submitted, Event(sh(2024, 11, 8, 10, 0, 0), "12315", "不予受理", "")))
    s = case_status(ended, rules, sh(2024, 11, 9, 9, 0, 0))
    assert s.next_step.step == "payment" and "不予受理" in s.next_step.reason


def test_three_year_limit_sends_to_court(rules: Rules, tmp_path: Path) -> None:
    s = case_status(make_case(tmp_path), rules, sh(2027, 11, 11, 9, 0, 0))
    assert deadline(s, "limitation").status == "overdue"
    assert s.next_step.step == "court"


def test_urgent_fresh_case_goes_to_platform_at_once(rules: Rules, tmp_path: Path) -> None:
    s = case_status(make_case(tmp_path), rules, NOW)  # not_as_shown is urgent
    assert s.next_step.step == "platform" and s.next_step.not_before is None
    assert "紧急" in s.next_step.reason


# ---------------------------------------------------------------------------------------------
# Three cases at different stages
# ---------------------------------------------------------------------------------------------


def three_cases(tmp_path: Path) -> list[tuple[str, CaseStatus]]:
    base = make_case(tmp_path)
    general = replace(base.problem, type="wrong_size", discovered_at=NOW - timedelta(hours=2))
    seller = replace(base, problem=general,
                     events=(Event(NOW - timedelta(days=3), "seller", "客服说等主管回复", "工号 1024"),))
    platform = replace(base, problem=general, events=(
        Event(NOW - timedelta(days=4), "seller", "拒绝退货", ""),
        Event(NOW - timedelta(days=1), "platform", "已申请平台介入", "工单 88"),
    ))
    fresh = replace(base, problem=general, events=())
    rules = load_rules()
    return [(name, case_status(case, rules, NOW)) for name, case in
            (("卖家案", seller), ("平台案", platform), ("新案", fresh))]


def test_next_step_for_each_stage(tmp_path: Path) -> None:
    (_, seller), (_, platform), (_, fresh) = three_cases(tmp_path)
    assert seller.stage == "seller" and seller.next_step.step == "platform"
    assert seller.next_step.not_before is None
    assert [d.key for d in seller.overdue] == ["seller_reply"]
    assert platform.stage == "platform" and platform.next_step.step == "12315"
    assert platform.next_step.not_before == NOW + timedelta(days=2)  # douyin: 72 h after the platform contact
    assert platform.overdue == ()
    assert fresh.stage == "" and fresh.next_step.step == "seller"
    assert deadline(fresh, "urgency").due == NOW + timedelta(hours=70)  # general: within 72 h of discovery


def test_status_table(tmp_path: Path) -> None:
    rows: list[tuple[str, CaseStatus | StatusFailure]] = [*three_cases(tmp_path)]
    rows.append(("坏案", StatusFailure("案件文件夹不存在：坏案\n提示：…", 4)))
    lines = format_status_table(rows).splitlines()
    assert [c.strip() for c in lines[0].split("|")] == ["案件", "紧急程度", "最近跟进", "逾期", "下一步"]
    seller, platform, fresh, broken = lines[2:]
    assert seller.split("|")[3].strip() == "商家答复"
    assert seller.endswith("现在申请平台介入")
    assert platform.endswith("2024-11-22 12:00 后向全国12315平台投诉")
    assert "2024-11-19 12:00 平台" in platform
    assert fresh.endswith("现在联系商家客服") and "| 无" in fresh
    assert broken.endswith("无法读取：案件文件夹不存在：坏案")
    # Columns line up in terminal cells (CJK characters are two cells wide).
    from evidencekit.case.followup import display_width

    bars = {tuple(display_width(line[: i]) for i, ch in enumerate(line) if ch == "|") for line in lines[2:]}
    assert len(bars) == 1


def test_status_details_and_json(tmp_path: Path) -> None:
    (name, seller), *_ = three_cases(tmp_path)
    details = format_status_details(name, seller)
    assert "[已逾期] 商家答复期限（最近一次联系商家后 48 小时）：2024-11-19 12:00" in details
    assert "下一步：现在申请平台介入——商家答复已逾期" in details
    data = status_json(name, seller)
    assert data["next_step"]["step"] == "platform"
    assert data["overdue"] == ["seller_reply"]
    assert data["last_event"]["ref"] == "工号 1024"
    assert {"key", "label", "due", "status", "note"} == set(data["deadlines"][0])
    json.dumps(data, ensure_ascii=False)  # serialisable
    assert status_json("x", StatusFailure("坏", 3)) == {"case": "x", "error": "坏", "exit_code": 3}


# ---------------------------------------------------------------------------------------------
# status command
# ---------------------------------------------------------------------------------------------


def case_with_events(root: Path, *events: tuple[timedelta, str, str]) -> Path:
    """A template case whose events happened ``ago`` before the real clock (status reads it)."""
    template_case(root)
    now = datetime.now(SHANGHAI).replace(microsecond=0)
    for ago, channel, note in events:
        record_event(root, note, channel=channel, time=now - ago)
    return root


def test_cli_status_three_cases_and_a_broken_one(tmp_path: Path) -> None:
    seller = case_with_events(tmp_path / "seller", (timedelta(days=3), "seller", "等回复"))
    platform = case_with_events(tmp_path / "platform", (timedelta(days=5), "seller", "拒绝"),
                                (timedelta(hours=1), "platform", "已申请"))
    fresh = template_case(tmp_path / "fresh")
    result = invoke("status", seller, platform, fresh, tmp_path / "missing")
    assert result.exit_code == 0, result.output
    rows = {line.split("|")[0].strip(): line for line in result.stdout.splitlines() if "|" in line}
    assert rows[str(seller)].endswith("现在申请平台介入")
    assert "后向全国12315平台投诉" in rows[str(platform)]
    assert rows[str(fresh)].endswith("现在联系商家客服")
    assert "无法读取：案件文件夹不存在" in rows[str(tmp_path / "missing")]
    assert "案件文件夹不存在" in result.stderr


def test_cli_status_json(tmp_path: Path) -> None:
    seller = case_with_events(tmp_path / "seller", (timedelta(days=3), "seller", "等回复"))
    result = invoke("status", seller, tmp_path / "missing", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data[0]["next_step"]["step"] == "platform"
    assert data[1]["exit_code"] == 4


def test_cli_status_exits_with_the_first_error_when_all_fail(tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "case.yaml").write_text("schema: 1\nplatfrom: douyin\n", encoding="utf-8")
    result = invoke("status", broken, tmp_path / "missing")
    assert result.exit_code == 3
    assert "platfrom" in result.output
    assert invoke("status", tmp_path / "missing").exit_code == 4


def test_cli_help_has_examples() -> None:
    for name in ("log", "status"):
        result = invoke(name, "--help")
        assert result.exit_code == 0 and "示例：" in result.output


def test_cli_status_on_a_folder_that_is_not_a_case_says_so_and_exits_4(tmp_path: Path) -> None:
    # No case.yaml and no evidence folder: not a case, so no next step is advised.
    plain = tmp_path / "下载"
    plain.mkdir()
    (plain / "notes.txt").write_text("x", encoding="utf-8")
    result = invoke("status", plain)
    assert result.exit_code == ExitCode.FOLDER_UNUSABLE
    assert "不是案件文件夹" in result.stderr
    assert "下一步：" not in result.output and "联系商家" not in result.output and "处理建议" not in result.output
    data = json.loads(invoke("status", plain, "--json").stdout)
    assert data == [{"case": str(plain), "error": data[0]["error"], "exit_code": 4}]
    assert "不是案件文件夹" in data[0]["error"]


def test_cli_status_on_a_zero_config_case_still_advises(tmp_path: Path) -> None:
    # An evidence folder without case.yaml is a case (it builds): status still shows its next step.
    zero = tmp_path / "zero"
    (zero / "evidence" / "order").mkdir(parents=True)
    result = invoke("status", zero)
    assert result.exit_code == 0, result.output
    assert "下一步：现在联系商家客服" in result.stdout
