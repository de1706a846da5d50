"""Command line: the only module that prints or exits.

Every command runs inside ``_run``: library errors become a Chinese message and their documented
exit code; anything else is a bug (exit 1) with a hint to rerun with ``--debug``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from evidencekit import __version__
from evidencekit.cliutil import (
    case_dir,
    debug_option,
    handle_errors,
    progress_printer,
    target_option,
)
from evidencekit.errors import ExitCode


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="evidencekit")
@click.option("--debug", is_flag=True, help="出错时显示完整的 Python 调用栈。")
def main(debug: bool) -> None:
    """evidencekit：把手机里的维权证据整理成一份带哈希、时间来源和证据目录的 PDF 证据材料。

    \b
    常用流程：
      evidencekit init 我的案件          # 建案件文件夹并回答几个问题
      evidencekit check 我的案件         # 看还缺什么证据
      evidencekit build 我的案件         # 生成 PDF 证据材料
    """


# ---------------------------------------------------------------------------------------------
# init / add
# ---------------------------------------------------------------------------------------------


def _interactive() -> bool:
    """Ask questions only when a person is at the keyboard (scripts get the blank template)."""
    return sys.stdin.isatty()


@main.command()
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
    from evidencekit.casefolder import create_case_folder
    from evidencekit.rules import load_rules

    answers: dict[str, str] = {}
    if not no_input and _interactive():
        rules = load_rules()
        click.echo("回答几个问题（直接回车可跳过，以后再在 case.yaml 里补）：")
        platforms = list(rules.platforms)
        click.echo("  平台：" + "，".join(f"{k}={v.label}" for k, v in rules.platforms.items()))
        answers["platform"] = click.prompt("购买平台", default=platforms[0], type=click.Choice(platforms),
                                           show_choices=False)
        types = list(rules.problem_types)
        click.echo("  问题类型：" + "，".join(f"{k}={v.label}" for k, v in rules.problem_types.items()))
        answers["problem_type"] = click.prompt("问题类型", default="", type=click.Choice([*types, ""]),
                                               show_choices=False, show_default=False)
        answers["order_number"] = click.prompt("订单号", default="", show_default=False)
        answers["product"] = click.prompt("商品名称", default="", show_default=False)
        answers["amount"] = click.prompt("实付金额（元）", default="", show_default=False)
    root = create_case_folder(Path(directory), answers, force=force)
    click.echo(f"已创建案件文件夹：{root}")
    click.echo("下一步：把证据文件放进 evidence/ 下对应的子文件夹，填写 case.yaml，然后运行")
    click.echo(f"  evidencekit check {directory}")


@main.command()
@click.argument("directory", type=click.Path(file_okay=False))
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--kind", "-k", required=True,
              type=click.Choice(["order", "product", "livestream", "chat", "unboxing", "logistics", "payment",
                                 "comparison", "report", "other"]),
              help="证据类别（决定放进哪个子文件夹）。")
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
    from evidencekit.casefolder import add_files

    copied = add_files(Path(directory), [Path(f) for f in files], kind, title=title, proves=proves)
    for rel in copied:
        click.echo(f"已复制：{rel}")


# ---------------------------------------------------------------------------------------------
# check / build
# ---------------------------------------------------------------------------------------------


@main.command()
@click.argument("directory", type=click.Path())
@target_option()
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出（供脚本使用）。")
@click.option("--strict", is_flag=True, help="较弱的证据也算不完整（退出码 6）。")
@click.option("--quiet", "-q", is_flag=True, help="不显示进度。")
@debug_option
@handle_errors
def check(directory: str, target: str, as_json: bool, strict: bool, quiet: bool, debug: bool) -> None:
    """检查案件：还缺哪些证据和案件信息，哪些证据较弱。齐全时退出码 0，缺少时 6。

    \b
    示例：
      evidencekit check 我的案件 --target 12315
      evidencekit check 我的案件 --json
    """
    from evidencekit.pipeline import BuildOptions, assess_case
    from evidencekit.report import check_report, checklist_complete_for

    a = assess_case(case_dir(directory), BuildOptions(target=target), progress_printer(quiet or as_json))
    complete = checklist_complete_for(a, strict)
    if as_json:
        click.echo(json.dumps(check_report(a, target, complete), ensure_ascii=False, indent=2))
    else:
        from evidencekit.report import format_check

        click.echo(format_check(a, target, complete))
    if not complete:
        sys.exit(int(ExitCode.INCOMPLETE))


@main.command()
@click.argument("directory", type=click.Path())
@target_option()
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="输出 PDF 路径（默认在案件文件夹里）。")
@click.option("--force", is_flag=True, help="覆盖已存在的输出文件。")
@click.option("--reproducible", is_flag=True, help="相同输入生成逐字节相同的 PDF（时间取自证据或 SOURCE_DATE_EPOCH）。")
@click.option("--strict", is_flag=True, help="有缺少或较弱的证据时不生成，退出码 6。")
@click.option("--font", type=click.Path(exists=True, dir_okay=False), help="改用另一个 TrueType 中文字体（.ttf/.ttc）。")
@click.option("--no-originals", is_flag=True, help="不把原件附在 PDF 里（公开分享时使用）。")
@click.option("--mask-personal", is_flag=True, help="隐去生成文字中的手机号、身份证号和详细地址（公开发布时使用）。")
@click.option("--attach-limit", type=int, default=50, show_default=True, help="原件总大小不超过此值（MB）时附在 PDF 里。")
@click.option("--jobs", "-j", type=click.IntRange(min=0), default=0, show_default=True,
              help="并行处理图片的进程数；0 表示按 CPU 核数自动选择。")
@click.option("--quiet", "-q", is_flag=True, help="不显示进度。")
@debug_option
@handle_errors
def build(directory: str, target: str, output: str | None, force: bool, reproducible: bool, strict: bool,
          font: str | None, no_originals: bool, mask_personal: bool, attach_limit: int, jobs: int, quiet: bool, debug: bool) -> None:
    """生成 PDF 证据材料：封面、投诉要点、证据清单、证据目录、时间线、各项证据和完整性附录。

    \b
    示例：
      evidencekit build 我的案件
      evidencekit build 我的案件 --target 12315 -o 投诉材料.pdf --force
    """
    from evidencekit.pipeline import BuildOptions, build_dossier

    options = BuildOptions(
        target=target,
        output=Path(output) if output else None,
        force=force,
        reproducible=reproducible,
        strict=strict,
        font=Path(font) if font else None,
        attach_originals=not no_originals,
        mask_personal=mask_personal,
        attach_limit=attach_limit * 1024 * 1024,
        jobs=jobs,
    )
    result = build_dossier(case_dir(directory), options, progress_printer(quiet))
    from evidencekit.report import format_build

    click.echo(format_build(result))


def _register_commands() -> None:
    """Commands that live in their own modules (each imports its heavy parts lazily)."""
    from evidencekit.cli_batch import batch
    from evidencekit.cli_followup import log, status
    from evidencekit.cli_inspect import inspect_command
    from evidencekit.cli_letter import letter
    from evidencekit.cli_pack import pack
    from evidencekit.cli_verify import stamp_command, verify_command

    for command in (letter, pack, verify_command, stamp_command, batch, log, status, inspect_command):
        main.add_command(command)


_register_commands()


if __name__ == "__main__":  # pragma: no cover
    main()
