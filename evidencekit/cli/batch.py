"""``evidencekit batch``: build every case folder under one folder, then print and save a summary."""

# Library modules are imported inside each command, so `evidencekit --help` loads none of them.
from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from evidencekit.cli.common import (
    build_options,
    debug_option,
    handle_errors,
    progress_printer,
    quiet_option,
    target_option,
)

if TYPE_CHECKING:
    from evidencekit.pipeline import BuildOptions

# Same as batch.DEFAULT_CASE_TIMEOUT (batch, and the pipeline it pulls in, load only when run).
DEFAULT_CASE_TIMEOUT = 600.0


@click.command()
@click.argument("cases_dir", metavar="CASES_DIR", type=click.Path(file_okay=False))
@click.option("-o", "--output", "outdir", type=click.Path(file_okay=False),
              help="PDF 和汇总表的输出文件夹（默认 CASES_DIR/_dossiers，自动创建）。")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
              help="同时生成的案件数（每个案件一个进程）；默认等于 CPU 核数。")
@target_option()
@build_options(force_help="覆盖已存在的 PDF；不加时已有输出的案件记为失败（退出码 5），其余照常生成。",
               strict_help="证据有缺少或较弱的案件不生成，记为失败（退出码 6）。")
@click.option("--timeout", "timeout", type=click.FloatRange(min=0), default=DEFAULT_CASE_TIMEOUT,
              show_default=True, metavar="SECONDS",
              help="每个案件的时间上限（秒）：超过的案件停止处理，在汇总表中记为「超时」，其余案件照常生成；0 表示不限。")
@quiet_option
@click.option("--json", "as_json", is_flag=True, help="把汇总以 JSON 打印到标准输出（与 summary.json 相同）。")
@debug_option
@handle_errors
def batch(cases_dir: str, outdir: str | None, jobs: int | None, options: BuildOptions, timeout: float, quiet: bool,
          as_json: bool, debug: bool) -> None:
    """批量生成：为 CASES_DIR 下每个案件子文件夹（含 case.yaml 或 evidence/）各生成一份 PDF。

    多个案件并行生成；某个案件出错只记为该案件失败，其余案件照常生成。

    结束后打印汇总表，并写出 OUTDIR/summary.csv（可直接用 Excel 打开）和 summary.json：每个案件的状态、退出码、证据清单是否齐全及缺少的项目、紧急程度、输出文件、页数、大小和用时。

    退出码：全部案件生成成功时为 0（即使部分案件证据清单不齐全）；否则为汇总表中（按案件名排序）第一个失败案件的退出码，例如 3 = case.yaml 有误，5 = 输出已存在。

    \b
    示例：
      evidencekit batch 案件汇总
      evidencekit batch 案件汇总 -o 证据材料 --jobs 4 --target 12315
      evidencekit batch 案件汇总 --force --json > 汇总.json
    """
    from evidencekit.channels.batch import (
        BatchOptions,
        format_summary,
        run_batch,
        summary_json,
        write_summary,
    )

    batch_options = BatchOptions(options, outdir=Path(outdir) if outdir else None, jobs=jobs,
                                 case_timeout=timeout or None)
    summary = run_batch(Path(cases_dir), batch_options, progress=progress_printer(quiet or as_json))
    csv_path, json_path = write_summary(summary, summary.outdir)
    if as_json:
        click.echo(summary_json(summary), nl=False)
    else:
        click.echo(format_summary(summary))
        click.echo(f"汇总表：{csv_path}")
        click.echo(f"        {json_path}")
    if summary.exit_code:
        sys.exit(summary.exit_code)
