"""The shopper's self-check: `check`, `build --self-check` and the end of `build`.

The self-check speaks to the shopper in case.yaml keys and folder names; the dossier never
carries it, and `build --self-check` writes no file of its own.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from factories import make_jpeg, sh

from evidencekit.cli import main
from evidencekit.errors import ExitCode
from evidencekit.model import Status, Target
from evidencekit.pipeline import BuildOptions, assess_case
from evidencekit.rules.catalog import load_rules, megabytes_text, target_profile
from evidencekit.selfcheck import delivery_lines, format_self_check, self_check

NOW = sh(2024, 11, 14, 12, 0, 0)

# Discovered the day after signing, contacted the seller once: the seller's reply window runs.
CASE_YAML = """\
schema: 1
platform: douyin
complainant:
  name: 张三
order:
  number: "6912345678901234567"
  product: 真皮女士手提包
  amount: 399
  time: 2024-11-10 20:31
  signed_at: 2024-11-12 14:02
problem:
  type: not_as_shown
  summary: 收到的包是人造革
  discovered_at: 2024-11-13 09:00
claims: [return_refund]
events:
  - time: 2024-11-13 15:20
    channel: seller
    note: 联系客服要求退货退款
"""


def run(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def small_case(root: Path) -> Path:
    make_jpeg(root / "evidence" / "product" / "IMG_20241113_151000.jpg")
    (root / "case.yaml").write_text(CASE_YAML, encoding="utf-8")
    return root


@pytest.fixture
def case(tmp_path: Path) -> Path:
    return small_case(tmp_path / "我的案件")


def test_self_check_says_what_is_missing_why_and_where_to_put_it(case: Path) -> None:
    a = assess_case(case, BuildOptions(target=Target.COMPLAINT_12315, now=NOW))
    s = self_check(a, Target.COMPLAINT_12315, NOW, load_rules())
    todo = {t.label: t for t in s.todos}
    # Every missing or weak checklist item is a to-do, nothing present is.
    assert set(todo) == {i.label for i in a.checklist if i.status is not Status.PRESENT}
    order = todo["订单截图"]
    assert order.required and order.status is Status.MISSING
    assert "证明" in order.why  # why: what the missing evidence proves
    assert "evidence/order/" in order.how and "evidence/订单/" in order.how
    assert f"evidencekit add {case.resolve()}" in order.how and "--kind order" in order.how
    phone = todo["投诉人电话"]
    assert "case.yaml" in phone.how and "complainant.phone" in phone.how


def test_self_check_has_the_deadlines_and_next_escalation_step_from_status(case: Path) -> None:
    a = assess_case(case, BuildOptions(target=Target.COMPLAINT_12315, now=NOW))
    text = format_self_check(self_check(a, Target.COMPLAINT_12315, NOW, load_rules()))
    # case/followup.py computes them: signed 11-12, so the 7-day return window ends 11-19;
    # the seller was contacted 11-13 15:20 and has 48 hours on Douyin.
    assert "七日无理由退货期限" in text and "2024-11-19" in text
    assert "商家答复期限" in text and "2024-11-15 15:20" in text
    assert "下一步：2024-11-15 15:20 后申请平台介入" in text
    for advice in a.advice:  # the templates' advice, once each
        assert text.count(advice) == 1
    assert "还缺" in text and "订单截图" in text and "evidence/order/" in text


def test_check_prints_the_self_check(case: Path) -> None:
    code, out, _err = run("check", case, "--target", "12315")
    assert code == ExitCode.INCOMPLETE
    assert "怎么补：" in out and "evidence/order/" in out and "complainant.phone" in out
    assert "期限和下一步" in out and "七日无理由退货期限" in out
    assert "处理建议" in out


def test_build_ends_with_where_the_dossier_is_what_to_do_and_what_is_missing(case: Path) -> None:
    code, out, err = run("build", case, "--target", "12315")
    assert code == ExitCode.OK, err
    dossier = case.resolve() / "dossier-12315.pdf"
    assert dossier.is_file()
    assert f"已生成：{dossier}" in out
    limits = target_profile(Target.COMPLAINT_12315, load_rules()).attachments
    # What to do with it on 12315: where (targets.yaml pack.submit), with the limits of targets.yaml.
    submit = target_profile(Target.COMPLAINT_12315, load_rules()).pack
    assert submit is not None and submit.submit and submit.submit in out
    assert f"最多 {limits.max_files} 个文件" in out and "每个不超过 5 MB" in out
    assert "可以直接作为附件上传" in out or "evidencekit pack" in out
    assert "evidencekit letter" in out and "400 字" in out
    # What is still missing, and where the details are (no longer in the dossier).
    assert "还缺" in out and "订单截图" in out and "投诉人电话" in out
    assert "--self-check" in out and "证据清单页" not in out
    # The full self-check only on request.
    assert "怎么补：" not in out


def test_build_self_check_prints_the_report_and_writes_no_other_file(case: Path) -> None:
    before = {p.relative_to(case) for p in case.rglob("*")}
    code, out, err = run("build", case, "--target", "12315", "--self-check")
    assert code == ExitCode.OK, err
    added = {p.relative_to(case) for p in case.rglob("*")} - before
    assert [p.suffix for p in added] == [".pdf"]  # the dossier and nothing else
    assert "怎么补：" in out and "evidence/order/" in out and "期限和下一步" in out


def test_build_for_a_channel_that_takes_no_pdf_points_to_pack(case: Path) -> None:
    code, out, err = run("build", case, "--target", "platform")
    assert code == ExitCode.OK, err
    assert "jpg" in out and f'evidencekit pack {case.resolve()} --target platform' in out
    assert "可以直接作为附件上传" not in out


def test_build_for_a_pdf_that_is_too_big_points_to_pack(case: Path) -> None:
    profile = target_profile(Target.COMPLAINT_12315, load_rules())
    big = delivery_lines(case.resolve(), Target.COMPLAINT_12315, 6_000_000, load_rules())
    small = delivery_lines(case.resolve(), Target.COMPLAINT_12315, 1_000_000, load_rules())
    assert profile.attachments.max_file_bytes == 5_000_000
    assert any("超过 5 MB 的上限" in line and "evidencekit pack" in line for line in big)
    assert any("可以直接作为附件上传" in line for line in small)
    assert not any("的上限" in line for line in small)


def test_sizes_are_shown_so_that_a_file_over_a_limit_never_looks_within_it() -> None:
    assert megabytes_text(5_000_000) == "5 MB"
    assert megabytes_text(5_000_001) == "5.1 MB"
    assert megabytes_text(1) == "0.1 MB"


def test_check_json_carries_the_to_dos_deadlines_and_next_step(case: Path) -> None:
    code, out, _err = run("check", case, "--target", "12315", "--json")
    assert code == ExitCode.INCOMPLETE
    doc = json.loads(out)
    todo = {t["key"]: t for t in doc["todo"]}
    assert todo["evidence.order"]["status"] == "missing" and "evidence/order/" in todo["evidence.order"]["how"]
    assert "evidencekit add 我的案件 文件" in todo["evidence.order"]["how"]  # the folder's name, no local path
    assert str(case.parent) not in out
    assert todo["field.complainant.phone"]["required"] is True
    assert {d["key"] for d in doc["deadlines"]} >= {"no_reason_return", "seller_reply"}
    assert doc["next_step"]["step"] == "platform"


def test_build_names_the_files_to_look_at_again(case: Path) -> None:
    make_jpeg(case / "evidence" / "order" / "a.jpg")  # no time but the file's mtime: a warning
    code, out, err = run("build", case, "--target", "12315")
    assert code == ExitCode.OK, err
    assert "需要再看一下的文件：evidence/order/a.jpg" in out
