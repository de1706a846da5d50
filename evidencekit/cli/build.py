"""`check` and `build`: what is missing, and the PDF dossier."""

# Library modules are imported inside each command, so `evidencekit --help` loads none of them.
from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import click

from evidencekit.cli.common import (
    build_options,
    case_dir,
    debug_option,
    handle_errors,
    no_ocr_option,
    progress_printer,
    quiet_option,
    target_option,
)
from evidencekit.errors import ExitCode
from evidencekit.model import Target

if TYPE_CHECKING:
    from evidencekit.pipeline import BuildOptions

@click.command()
@click.argument("directory", type=click.Path())
@target_option()
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出（供脚本使用）。")
@click.option("--strict", is_flag=True, help="较弱的证据也算不完整（退出码 6）。")
@no_ocr_option
@quiet_option
@debug_option
@handle_errors
def check(directory: str, target: Target, as_json: bool, strict: bool, no_ocr: bool, quiet: bool,
          debug: bool) -> None:
    """检查案件：还缺哪些证据和案件信息，哪些证据较弱。齐全时退出码 0，缺少时 6。

    \b
    示例：
      evidencekit check 我的案件 --target 12315
      evidencekit check 我的案件 --json
    """
    from evidencekit.pipeline import BuildOptions, assess_case, checklist_complete_for
    from evidencekit.report import check_report, format_check

    options = BuildOptions(target=target, ocr=not no_ocr)
    a = assess_case(case_dir(directory), options, progress_printer(quiet or as_json))
    complete = checklist_complete_for(a, strict)
    if as_json:
        click.echo(json.dumps(check_report(a, target, complete, options.now), ensure_ascii=False, indent=2))
    else:
        click.echo(format_check(a, target, complete, options.now))
    if not complete:
        sys.exit(int(ExitCode.INCOMPLETE))


@click.command()
@click.argument("directory", type=click.Path())
@target_option()
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="输出 PDF 路径（默认在案件文件夹里）。")
@build_options()
@click.option("--font", type=click.Path(exists=True, dir_okay=False), help="改用另一个 TrueType 中文字体（.ttf/.ttc）。")
@click.option("--no-originals", is_flag=True, help="不把原件附在 PDF 里（公开分享时使用）。")
@click.option("--mask-personal", is_flag=True,
              help="公开发布用：隐去投诉人姓名、手机号、身份证号和详细地址（文字、文件名、清单），不附原件。")
@click.option("--renumber", is_flag=True,
              help="按类别和时间重新连续编号（默认沿用 case.yaml 里记下的证据编号，新文件排在最后）。")
@click.option("--attach-limit", type=int, default=50, show_default=True, help="原件总大小不超过此值（MB）时附在 PDF 里。")
@click.option("--jobs", "-j", type=click.IntRange(min=0), default=0, show_default=True,
              help="并行处理图片的进程数；0 表示按 CPU 核数自动选择。")
@click.option("--self-check", "self_check", is_flag=True,
              help="生成后在终端显示自查：还缺什么、为什么、怎么补、期限和下一步（只给自己看，不写进证据材料）。")
@quiet_option
@debug_option
@handle_errors
def build(directory: str, options: BuildOptions, output: str | None, font: str | None, no_originals: bool,
          mask_personal: bool, attach_limit: int, jobs: int, self_check: bool, renumber: bool, quiet: bool,
          debug: bool) -> None:
    """生成 PDF 证据材料：封面、投诉要点、证据清单、证据目录、时间线、各项证据和完整性附录。

    最后说明证据材料在哪里、在所选渠道怎么提交，以及还缺什么；--self-check 显示完整的自查。

    \b
    示例：
      evidencekit build 我的案件
      evidencekit build 我的案件 --target 12315 -o 投诉材料.pdf --force
      evidencekit build 我的案件 --target 12315 --self-check
      evidencekit build 我的案件 --renumber
    """
    from evidencekit.pipeline import build_dossier

    options = replace(
        options,
        output=Path(output) if output else None,
        font=Path(font) if font else None,
        attach_originals=not no_originals,
        mask_personal=mask_personal,
        renumber=renumber,
        attach_limit=attach_limit * 1024 * 1024,
        jobs=jobs,
    )
    result = build_dossier(case_dir(directory), options, progress_printer(quiet))
    from evidencekit.report import format_build

    click.echo(format_build(result, options.now, full_self_check=self_check))
    for note in result.notes:
        click.echo(f"  {note}")
