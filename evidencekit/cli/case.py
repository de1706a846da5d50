"""`init` and `add`: create a case folder, copy evidence into it."""

# Library modules are imported inside each command, so `evidencekit --help` loads none of them.
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from evidencekit.cli.common import (
    KINDS,
    WordChoice,
    debug_option,
    handle_errors,
)


def _interactive() -> bool:
    """Ask questions only when a person is at the keyboard (scripts get the blank template)."""
    return sys.stdin.isatty()


# click ends a question with an ASCII ": "; the questions are Chinese.
_SUFFIX = "："


class _AmountAnswer(click.ParamType):
    """The amount paid, checked as case.yaml's order.amount will be: "三百九十九元" is asked again
    with the case loader's words instead of failing at the next command. Empty skips."""

    name = "amount"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        from evidencekit.case.load import parse_amount

        text = str(value).strip()
        if not text:
            return ""
        try:
            return str(parse_amount(text))
        except ValueError as exc:
            problem, expected = exc.args
            self.fail(f"{problem}：{text}；应为：{expected}", param, ctx)


@click.command()
@click.argument("directory", type=click.Path(file_okay=False))
@click.option("--no-input", is_flag=True, help="不提问，直接写出空白模板。")
@click.option("--force", is_flag=True, help="覆盖已有的 case.yaml。")
@debug_option
@handle_errors
def init(directory: str, no_input: bool, force: bool, debug: bool) -> None:
    """创建案件文件夹：case.yaml 模板（带中文注释）和 evidence/ 下的分类子文件夹。

    \b
    示例：
      evidencekit init 我的案件
      evidencekit init 我的案件 --no-input
    """
    from evidencekit.case.folder import create_case_folder
    from evidencekit.rules.catalog import load_rules

    answers: dict[str, str] = {}
    if not no_input and _interactive():
        rules = load_rules()
        click.echo("回答几个问题（直接回车可跳过，以后再在 case.yaml 里补；平台和问题类型写英文或中文都可以）：")
        platforms = tuple(rules.platforms)
        click.echo("  平台：" + "，".join(f"{k}={v.label}" for k, v in rules.platforms.items()))
        answers["platform"] = click.prompt("购买平台", default=platforms[0], type=WordChoice("platform", platforms),
                                           show_choices=False, prompt_suffix=_SUFFIX)
        types = tuple(rules.problem_types)
        click.echo("  问题类型：" + "，".join(f"{k}={v.label}" for k, v in rules.problem_types.items()))
        answers["problem_type"] = click.prompt("问题类型", default="",
                                               type=WordChoice("problem_type", types, blank_ok=True),
                                               show_choices=False, show_default=False, prompt_suffix=_SUFFIX)
        answers["order_number"] = click.prompt("订单号", default="", show_default=False, prompt_suffix=_SUFFIX)
        answers["product"] = click.prompt("商品名称", default="", show_default=False, prompt_suffix=_SUFFIX)
        answers["amount"] = click.prompt("实付金额（元）", default="", type=_AmountAnswer(), show_default=False,
                                         prompt_suffix=_SUFFIX)
    root = create_case_folder(Path(directory), answers, force=force)
    click.echo(f"已创建案件文件夹：{root}")
    click.echo("下一步：把证据文件放进 evidence/ 下对应的子文件夹，填写 case.yaml，然后运行")
    click.echo(f"  evidencekit check {directory}")


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
