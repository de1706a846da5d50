"""`init` asks what the chosen target needs, in Chinese, checks each answer as the case loader
would, and writes it into case.yaml keeping everything else the user wrote."""

from __future__ import annotations

import os
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from factories import make_jpeg

from evidencekit.case.edit import set_values
from evidencekit.case.folder import create_case_folder
from evidencekit.case.interview import Proposal, Question, interview, pending_questions, target_questions
from evidencekit.case.load import load_case, render_case_template, yaml_quote
from evidencekit.cli import main
from evidencekit.errors import CaseFileError, ExitCode
from evidencekit.rules.catalog import load_rules, target_profile

# Every answer a shopper gives for a 12315 complaint, by the question's label; a list is typed
# in turn (the first is refused and asked again).
ANSWERS_12315: dict[str, list[str]] = {
    "打算向哪里投诉": ["全国12315平台"],
    "购物平台": ["抖音"],
    "问题类型": ["质量问题"],
    "商品名称": ["真皮女士手提包"],
    "消费金额": ["三百九十九元", "399"],
    "购买时间": ["2024年11月10日 20:31"],
    "订单号（可不填）": ["6912345678901234567"],
    "被投诉经营者名称": ["杭州好物优选电子商务有限公司"],
    "被投诉经营者地址": ["浙江省杭州市西湖区文三路1号"],
    "统一社会信用代码（可不填）": ["91330106MA2B0K7L1L"],
    "投诉人姓名": ["张三"],
    "投诉人电话": ["13800138000"],
    "投诉人通讯地址": ["上海市浦东新区世纪大道100号"],
    "争议事实（问题描述）": ["包的提手用了三天就断裂，商家拒绝退货"],
    "投诉请求（诉求）": ["退货退款、惩罚性赔偿"],
}


def _evidence_for_quality(root: Path) -> None:
    """The evidence a 商品质量问题 complaint requires: order, product and chat screenshots."""
    make_jpeg(root / "evidence" / "order" / "Screenshot_20241110-203200.jpg")
    make_jpeg(root / "evidence" / "product" / "IMG_20241113_151000.jpg")
    make_jpeg(root / "evidence" / "chat" / "Screenshot_20241114-190012.jpg")


def _waits_for_input(master: int, pid: int, silence: float = 0.3) -> bool:
    """Whether the child, whose output so far ends in "：", now waits for an answer. On a loaded
    machine a line such as "提示：…" can arrive in two reads, and its first half must not be taken
    for a prompt: nothing more may arrive, and the child must be asleep on the terminal (Linux:
    /proc shows it sleeping in ``wait_woken``, where a read of a terminal waits; a child that
    blocks writing has output waiting, so ``select`` sees it first). Where /proc does not say,
    ``silence`` seconds with no output count as waiting."""
    deadline = time.monotonic() + silence
    while not select.select([master], [], [], 0.01)[0]:
        if _asleep_reading(pid) or time.monotonic() >= deadline:
            return True
    return False


def _asleep_reading(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        wchan = Path(f"/proc/{pid}/wchan").read_text().strip()
    except (OSError, IndexError):
        return False
    return state == "S" and wchan in ("wait_woken", "n_tty_read")


def _run_in_pty(args: list[str], answers: dict[str, list[str]], timeout: float = 60.0) -> tuple[int, str, list[str]]:
    """Run the command on a pseudo-terminal, answering each prompt (a line ending in "：" that
    waits for input) from ``answers``; returns the exit code, the transcript and the prompts."""
    master, slave = os.openpty()
    env = {**os.environ, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "COLUMNS": "100"}
    proc = subprocess.Popen([sys.executable, "-m", "evidencekit", *args], stdin=slave, stdout=slave,
                            stderr=slave, env=env, close_fds=True)
    os.close(slave)
    remaining = {label: list(values) for label, values in answers.items()}
    output = b""
    answered_at = 0  # transcript position after the last answer
    prompts: list[str] = []
    deadline = time.monotonic() + timeout
    try:
        while True:
            if time.monotonic() > deadline:
                raise AssertionError("init did not finish in time:\n" + output.decode("utf-8", "replace"))
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(master, 4096)
                except OSError:  # the child closed the terminal
                    chunk = b""
                if not chunk:
                    break
                output += chunk
            elif proc.poll() is not None:
                break
            text = output[answered_at:].decode("utf-8", "replace")
            if text.endswith("：") and _waits_for_input(master, proc.pid):
                prompt = text.splitlines()[-1][:-1]
                label = re.sub(r" \[.*\]$", "", prompt)
                assert remaining.get(label), f"unexpected question {prompt!r}:\n{output.decode('utf-8', 'replace')}"
                prompts.append(label)
                os.write(master, (remaining[label].pop(0) + "\n").encode("utf-8"))
                answered_at = len(output)
        code = proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    return code, output.decode("utf-8", "replace").replace("\r\n", "\n"), prompts


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
def test_every_prompt_answered_in_chinese_on_a_terminal_gives_a_case_12315_accepts(tmp_path: Path) -> None:
    case = tmp_path / "我的案件"
    _evidence_for_quality(case)
    code, transcript, prompts = _run_in_pty(["init", str(case)], ANSWERS_12315)
    assert code == ExitCode.OK, transcript
    # Each question was asked once, the refused amount once more, with the loader's words.
    assert sorted(prompts) == sorted(label for label, values in ANSWERS_12315.items() for _ in values)
    assert "不是金额：三百九十九元；应为：实际支付的金额（元），如 399 或 399.00" in transcript
    assert "可选：抖音、淘宝" in transcript  # choices shown as Chinese labels
    assert "还缺" not in transcript
    loaded = load_case(case)
    assert loaded.platform == "douyin" and loaded.problem.type == "quality"
    assert loaded.claims == ("return_refund", "punitive")
    assert str(loaded.order.amount) == "399.00" and loaded.order.number == "6912345678901234567"
    result = CliRunner().invoke(main, ["check", str(case), "--target", "12315"])
    assert result.exit_code == ExitCode.OK, result.stdout + result.stderr
    assert "必需项齐全" in result.stdout


def test_answers_piped_on_stdin_are_read(tmp_path: Path) -> None:
    case = tmp_path / "c"
    # platform, problem type, order number, product, then the input ends.
    answers = "淘宝\n假冒商品\n6912345678901234567\n运动鞋\n"
    done = subprocess.run([sys.executable, "-m", "evidencekit", "init", str(case), "--target", "通用"],
                          input=answers.encode("utf-8"), capture_output=True, timeout=60,
                          env={**os.environ, "LANG": "C.UTF-8"})
    out = done.stdout.decode("utf-8")
    assert done.returncode == ExitCode.OK, out + done.stderr.decode("utf-8")
    loaded = load_case(case)
    assert (loaded.platform, loaded.problem.type) == ("taobao", "counterfeit")
    assert loaded.order.number == "6912345678901234567" and loaded.order.product == "运动鞋"
    assert "购物平台（可不填）：淘宝" in out  # the piped answer is shown after its question
    assert "输入已结束" in out and "还缺：" in out


def test_no_input_writes_the_blank_template(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["init", str(tmp_path / "c"), "--no-input"], input="淘宝\n")
    assert result.exit_code == ExitCode.OK, result.stderr
    assert (tmp_path / "c" / "case.yaml").read_text(encoding="utf-8") == render_case_template({})
    assert "打算向哪里投诉" not in result.stdout and "请回答" not in result.stdout


_COMPLETE_BUT_PHONE = """\
# 我自己的备注：2024-11-14 已打过客服电话
schema: 1
platform: 抖音   # 在直播间买的
complainant:
  name: 张三
  address: 上海市浦东新区世纪大道100号
merchant:
  company: 杭州好物优选电子商务有限公司   # 营业执照上抄的
  credit_code: "91330106MA2B0K7L1L"
  address: 浙江省杭州市西湖区文三路1号
order:
  number: "6912345678901234567"
  time: 2024-11-10 20:31
  product: 真皮女士手提包
  amount: {amount}
problem:
  type: 质量问题
  summary: 提手三天就断裂
claims: [退货退款]
"""


def _invoke(case: Path, answers: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["init", str(case), *args], input=answers)
    return result.exit_code, result.stdout + result.stderr


def test_an_existing_case_is_asked_only_the_missing_field_and_keeps_the_comments(tmp_path: Path) -> None:
    case = tmp_path / "c"
    case.mkdir()
    before = _COMPLETE_BUT_PHONE.replace("{amount}", '"399"')
    (case / "case.yaml").write_text(before, encoding="utf-8")
    code, out = _invoke(case, "13800138000\n", "--target", "12315")
    assert code == ExitCode.OK, out
    asked = [line for line in out.splitlines() if re.match(r"^\S.*：", line) and not line.startswith(("案件", "请", "已", "下一步"))]
    assert asked == ["投诉人电话：13800138000"], out
    after = (case / "case.yaml").read_text(encoding="utf-8")
    # One line added under complainant; every other line, comments included, is unchanged.
    assert after.splitlines() == [*before.splitlines()[:6], '  phone: "13800138000"', *before.splitlines()[6:]]
    assert load_case(case).complainant.phone == "13800138000"
    assert (case / "evidence" / "order").is_dir()


def test_a_refused_value_is_asked_again_with_the_loaders_words(tmp_path: Path) -> None:
    case = tmp_path / "c"
    case.mkdir()
    (case / "case.yaml").write_text(_COMPLETE_BUT_PHONE.replace("{amount}", "三百九十九元"), encoding="utf-8")
    code, out = _invoke(case, "四百\n399\n13800138000\n", "--target", "12315")
    assert code == ExitCode.OK, out
    assert "case.yaml 里的消费金额“三百九十九元”：不是金额" in out
    assert "不是金额：四百；应为：实际支付的金额（元），如 399 或 399.00" in out
    text = (case / "case.yaml").read_text(encoding="utf-8")
    assert '  amount: "399.00"\n' in text and "# 营业执照上抄的" in text
    assert str(load_case(case).order.amount) == "399.00"


def test_a_problem_no_question_fixes_is_reported_before_asking(tmp_path: Path) -> None:
    case = tmp_path / "c"
    case.mkdir()
    (case / "case.yaml").write_text("schema: 1\nevents: 昨天\norder:\n  amount: 三百\n", encoding="utf-8")
    with pytest.raises(CaseFileError, match="events"):
        pending_questions(case, "12315")


def test_other_platform_asks_for_its_name(tmp_path: Path) -> None:
    case = tmp_path / "c"
    code, out = _invoke(case, "平台介入\n其他\n拼多多\n")
    assert code == ExitCode.OK, out
    loaded = load_case(case)
    assert loaded.platform == "other" and loaded.platform_name == "拼多多"


def test_interview_offers_proposals_by_case_path(tmp_path: Path) -> None:
    root = create_case_folder(tmp_path / "c", {})
    offered: dict[str, Proposal | None] = {}

    def ask(question: Question, proposal: Proposal | None) -> str:
        offered[question.path] = proposal
        return proposal.value if proposal is not None else ""  # the shopper accepts what was read

    done = interview(root, ask, target="payment", proposals={"order.amount": Proposal("￥86.90", "证据3")})
    assert offered["order.amount"] == Proposal("￥86.90", "证据3")
    assert [q.path for q in done.skipped if q.path == "order.amount"] == []
    assert done.written == ["order.amount"] and not done.ended
    assert str(load_case(root).order.amount) == "86.90"


def test_a_proposed_value_is_written_with_a_comment_to_check_it(tmp_path: Path) -> None:
    root = create_case_folder(tmp_path / "c", {})
    done = interview(root, lambda q, p: p.value if p is not None else "", target="payment",
                     proposals={"order.amount": Proposal("¥389.00", "证据3截图")})
    assert done.proposed == ["order.amount"]
    line = next(x for x in (root / "case.yaml").read_text(encoding="utf-8").splitlines() if "amount:" in x)
    assert line.startswith('  amount: "389.00"') and line.endswith("# 由证据3截图识别，请核对"), line
    assert str(load_case(root).order.amount) == "389.00"


def test_a_typed_value_unlike_the_proposal_has_no_comment(tmp_path: Path) -> None:
    root = create_case_folder(tmp_path / "c", {})
    interview(root, lambda q, p: "390" if p is not None else "", target="payment",
              proposals={"order.amount": Proposal("389.00", "证据3截图")})
    text = (root / "case.yaml").read_text(encoding="utf-8")
    assert '  amount: "390.00"' in text and "识别" not in text


def test_set_values_adds_the_note_after_the_value_when_the_line_has_no_comment(tmp_path: Path) -> None:
    case_file = tmp_path / "case.yaml"
    case_file.write_text("schema: 1\norder:\n  number:\n  amount: 1\n", encoding="utf-8")
    set_values(case_file, {"order.number": '"6912345678901234567"'}, notes={"order.number": "由证据1截图识别，请核对"})
    assert case_file.read_text(encoding="utf-8") == (
        'schema: 1\norder:\n  number: "6912345678901234567"  # 由证据1截图识别，请核对\n  amount: 1\n')


def test_set_values_adds_the_note_after_a_comment_already_on_the_line(tmp_path: Path) -> None:
    case_file = tmp_path / "case.yaml"
    case_file.write_text("schema: 1\r\norder:\r\n  time:          # 下单时间\r\n", encoding="utf-8")
    set_values(case_file, {"order.time": '"2024-11-10 20:31:05"'}, notes={"order.time": "由证据1截图识别，请核对"})
    assert case_file.read_bytes().decode("utf-8") == (
        'schema: 1\r\norder:\r\n  time: "2024-11-10 20:31:05"  # 下单时间；由证据1截图识别，请核对\r\n')


def test_a_proposal_the_loader_refuses_is_not_offered_nor_written(tmp_path: Path) -> None:
    root = create_case_folder(tmp_path / "c", {})
    offered: dict[str, Proposal | None] = {}

    def ask(question: Question, proposal: Proposal | None) -> str:
        offered[question.path] = proposal
        return proposal.value if proposal is not None else ""

    done = interview(root, ask, target="payment", proposals={"order.amount": Proposal("三百八十九", "证据3截图")})
    assert "order.amount" in offered and offered["order.amount"] is None
    assert "order.amount" not in done.written
    assert load_case(root).order.amount is None


def test_questions_come_from_the_targets_fields() -> None:
    rules = load_rules()
    for key, profile in rules.targets.items():
        asked = {q.key for q in target_questions(profile)}
        assert {rule.key for rule in profile.fields} <= asked, key
    first = [q.path for q in target_questions(target_profile("12315", rules))][:3]
    assert first == ["platform", "platform_name", "problem.type"]


@pytest.mark.parametrize(("before", "path", "value", "after"), [
    ("a: 1\norder:  # 订单\n  number: x\n", "order.amount", '"1"', "a: 1\norder:  # 订单\n  number: x\n  amount: \"1\"\n"),
    ("order: {number: x}\n", "order.amount", '"1"', 'order: {number: x, amount: "1"}\n'),
    ("order:\n# 说明\nclaims:\n", "order.amount", '"1"', 'order:\n  amount: "1"\n# 说明\nclaims:\n'),
    ("schema: 1\n", "complainant.name", '"张三"', 'schema: 1\ncomplainant:\n  name: "张三"\n'),
    ("claims: ~  # 诉求\n", "claims", ("refund", "punitive"), "claims:  # 诉求\n  - refund\n  - punitive\n"),
    ("claims:\n  - 退钱\n# 后面\n", "claims", ("refund",), "claims:\n  - refund\n# 后面\n"),
    ("platform: 拼夕夕 # 平台\n", "platform", "other", "platform: other # 平台\n"),
    ("x:\r\n  name:        # 姓名\r\n", "x.name", '"张三"', 'x:\r\n  name: "张三" # 姓名\r\n'),
])
def test_set_values_edits_the_text_in_place(tmp_path: Path, before: str, path: str, value: str | tuple[str, ...],
                                            after: str) -> None:
    case_file = tmp_path / "case.yaml"
    case_file.write_bytes(before.encode("utf-8"))
    set_values(case_file, {path: value})
    assert case_file.read_bytes().decode("utf-8") == after


def test_set_values_keeps_a_gbk_file_gbk(tmp_path: Path) -> None:
    case_file = tmp_path / "case.yaml"
    case_file.write_bytes("# 备注\ncomplainant:\n  name: 张三\n".encode("gb18030"))
    set_values(case_file, {"complainant.phone": yaml_quote("13800138000")})
    assert case_file.read_bytes().decode("gb18030") == '# 备注\ncomplainant:\n  name: 张三\n  phone: "13800138000"\n'


def test_set_values_refuses_a_section_that_is_not_a_mapping(tmp_path: Path) -> None:
    case_file = tmp_path / "case.yaml"
    case_file.write_text("order: 昨天买的\n", encoding="utf-8")
    with pytest.raises(CaseFileError):
        set_values(case_file, {"order.amount": '"1"'})
    assert case_file.read_text(encoding="utf-8") == "order: 昨天买的\n"


def test_a_complete_case_is_asked_nothing_and_left_byte_for_byte(example_case: Path) -> None:
    before = (example_case / "case.yaml").read_bytes()
    code, out = _invoke(example_case, "", "--target", "12315")
    assert code == ExitCode.OK, out
    assert "全国12315平台需要的案件信息都已填写" in out and "请回答" not in out
    assert (example_case / "case.yaml").read_bytes() == before
