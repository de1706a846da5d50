"""`init` and `add`: create a case folder, copy evidence into it."""

# Library modules are imported inside each command, so `evidencekit --help` loads none of them.
from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from evidencekit.cli.common import (
    KINDS,
    TARGETS,
    WordChoice,
    as_target,
    debug_option,
    handle_errors,
)
from evidencekit.model import Target

if TYPE_CHECKING:
    from evidencekit.case.interview import Proposal, Question


# The questions are Chinese: they end with a full-width colon.
_SUFFIX = "："


def _read_answer(prompt: str, accept: Callable[[str], object], default: str = "") -> str | None:
    """One line from stdin (a terminal or a pipe), asked again with ``accept``'s refusal — the
    case loader's words — until ``accept`` takes it; an empty line is ``default`` ("" skips),
    None is the end of input."""
    while True:
        click.echo(prompt + _SUFFIX, nl=False)
        line = sys.stdin.readline()
        if not line:
            click.echo()
            return None
        text = line.strip()
        if not sys.stdin.isatty():
            click.echo(text)  # piped answers appear in the transcript as if typed
        text = text or default
        if not text:
            return ""
        try:
            accept(text)
        except ValueError as exc:
            problem, expected = exc.args
            click.echo(f"  {problem}：{text}；应为：{expected}，请重新输入")
            continue
        return text


def _ask_target() -> str | None:
    from evidencekit.rules.catalog import load_rules, resolve_word

    rules = load_rules()
    labels = "、".join(profile.label for profile in rules.targets.values())
    click.echo(f"  可选：{labels}（直接回车：{rules.targets[rules.default_target].label}）")

    def accept(text: str) -> str:
        key = resolve_word("target", text, rules)
        if key is None:
            raise ValueError(f"“{text}”不是可用的提交渠道", f"可选：{labels}")
        return key

    answer = _read_answer("打算向哪里投诉", accept)
    return accept(answer) if answer else None


def _ask(question: Question, proposal: Proposal | None) -> str | None:
    if question.problem:
        click.echo(f"  case.yaml 里的{question.label}“{question.current}”：{question.problem}")
    notes = []
    if question.choices():
        notes.append("可选：" + "、".join(question.choices()) + ("（可写多项，用顿号隔开）" if question.many else ""))
    if question.why:
        notes.append(question.why)
    if proposal is not None and proposal.source:
        notes.append(f"方括号里的值读自{proposal.source}，请核对；直接回车采用")
    for note in notes:
        click.echo(f"  {note}")
    prompt = question.label + ("（可不填）" if not question.required else "")
    if proposal is not None:
        prompt += f" [{proposal.value}]"
    return _read_answer(prompt, question.parse, proposal.value if proposal is not None else "")


@click.command()
@click.argument("directory", type=click.Path(file_okay=False))
@click.option("--target", "-t", type=WordChoice("target", TARGETS), default=None, callback=as_target,
              help="打算向哪里投诉，决定要问哪些信息：general 通用 / platform 平台介入 / 12315 / email 邮件 / "
                   "payment 支付渠道投诉（英文或中文都可以）；不写时先问这一项。")
@click.option("--no-input", is_flag=True, help="不提问，直接写出空白模板。")
@click.option("--force", is_flag=True, help="覆盖已有的 case.yaml（重新从空白模板开始）。")
@debug_option
@handle_errors
def init(directory: str, target: Target | None, no_input: bool, force: bool, debug: bool) -> None:
    """创建案件文件夹，逐项提问填好 case.yaml（投诉渠道需要的每一项，回答写中文即可）。

    已有 case.yaml 时只问缺少或写得不对的项目，保留您写的其他内容和注释。
    回答也可以从管道读入（每行一个）；--no-input 只写出带中文说明的空白模板。

    \b
    示例：
      evidencekit init 我的案件
      evidencekit init 我的案件 --target 12315
      evidencekit init 我的案件 --no-input
    """
    from evidencekit.case.folder import create_case_folder, ensure_evidence_folders
    from evidencekit.case.interview import interview, pending_questions
    from evidencekit.case.load import find_case_file

    root = Path(directory)
    if force or no_input or find_case_file(root) is None:
        create_case_folder(root, {}, force=force)
        click.echo(f"已创建案件文件夹：{root}")
    else:
        ensure_evidence_folders(root)
        click.echo(f"案件文件夹已存在：{root}，只问缺少或写得不对的项目")
    chosen = target.value if target is not None else None
    if not no_input:
        intro = "请回答下面的问题（直接回车跳过，以后再运行这条命令补填；可选项写中文名称即可）："
        if target is None:
            click.echo(intro)
            chosen = _ask_target()
        elif pending_questions(root, chosen):
            click.echo(intro)
        done = interview(root, _ask, target=chosen)
        if done.ended:
            click.echo("输入已结束，其余问题没有问。")
        if done.written:
            click.echo(f"已写入 case.yaml：{len(done.written)} 项")
        again = f"evidencekit init {directory}" + (f" --target {chosen}" if chosen else "")
        missing = [q.label for q in pending_questions(root, chosen) if q.required]
        if missing:
            click.echo("还缺：" + "、".join(missing) + f"（再运行 {again} 补填，或直接编辑 case.yaml）")
        elif not (done.written or done.skipped or done.ended):
            from evidencekit.rules.catalog import load_rules, target_profile

            click.echo(f"{target_profile(chosen, load_rules()).label}需要的案件信息都已填写。")
    click.echo("下一步：把证据文件放进 evidence/ 下对应的子文件夹（或用 evidencekit add），然后运行")
    click.echo(f"  evidencekit check {directory}" + (f" --target {chosen}" if chosen else ""))


@click.command()
@click.argument("directory", type=click.Path(file_okay=False))
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--kind", "-k", required=True, type=WordChoice("kind", KINDS),
              help="证据类别（决定放进哪个子文件夹），英文或中文都可以：order 订单、product 商品、livestream 直播、"
                   "chat 聊天、unboxing 开箱、logistics 物流、payment 支付、comparison 对比、report 报告、other 其他。")
@click.option("--title", default="", help="证据名称，写进 case.yaml。")
@click.option("--proves", default="", help="证明目的，写进 case.yaml。")
@debug_option
@handle_errors
def add(directory: str, files: tuple[str, ...], kind: str, title: str, proves: str, debug: bool) -> None:
    """把文件复制进案件（不移动、不修改原文件），可记录证据名称和证明目的。

    \b
    示例：
      evidencekit add 我的案件 ~/Downloads/Screenshot_20241114-190012.png --kind order --title 订单详情
    """
    from evidencekit.case.folder import add_files

    copied = add_files(Path(directory), [Path(f) for f in files], kind, title=title, proves=proves)
    for rel, number in copied.items():
        # A built case: the new file is numbered after every earlier exhibit, which keep theirs.
        click.echo(f"已复制：{rel}" + (f"（证据{number}）" if number is not None else ""))
