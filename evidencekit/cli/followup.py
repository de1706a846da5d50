"""``evidencekit log`` and ``evidencekit status``: record follow-ups, show deadlines and next steps.

Registered on the group in cli/__init__.py.
"""

# Library modules are imported inside each command, so `evidencekit --help` loads none of them.
from __future__ import annotations

import json
import sys
from datetime import UTC, datetime

import click

from evidencekit.cli.common import case_dir, debug_option, handle_errors
from evidencekit.errors import FollowupTimeError
from evidencekit.model import EventChannel, format_datetime


@click.command()
@click.argument("directory", type=click.Path())
@click.argument("text")
# A plain string, checked by followup.normalize_channel: the Chinese names come from
# templates/followup.yaml, which `--help` should not have to read.
@click.option("--channel", "-c", metavar="CHANNEL", default=EventChannel.SELLER.value, show_default=True,
              help="联系的是谁：seller 商家 / platform 平台 / 12315 / payment 支付渠道 / other 其他。")
@click.option("--ref", default="", help="工单号、投诉编号或客服工号。")
@click.option("--time", "when", metavar="TIME",
              help="联系时间，如 2024-11-15 10:00 或 2024年11月15日 10:00（默认现在，按案件时区）。")
@debug_option
@handle_errors
def log(directory: str, text: str, channel: str, ref: str, when: str | None, debug: bool) -> None:
    """记录一次跟进（联系了谁、对方怎么说），写进 case.yaml 的 events，保留文件里原有的注释。

    12315 受理后请记一条含“已受理”的跟进，status 会据此计算调解期限。

    \b
    示例：
      evidencekit log 我的案件 "商家客服说等主管回复" --ref "工号 1024"
      evidencekit log 我的案件 "已申请平台介入" --channel platform --time "2024-11-17 09:30"
      evidencekit log 我的案件 "已受理" --channel 12315 --ref 1234567890
    """
    from evidencekit.case.followup import log_followup
    from evidencekit.rules.catalog import load_rules

    try:
        logged = log_followup(case_dir(directory), text, channel=channel, ref=ref, when=when,
                              now=datetime.now(UTC), rules=load_rules())
    except FollowupTimeError as exc:
        raise click.BadParameter(exc.message, param_hint="--time") from None
    event, step = logged.event, logged.status.next_step
    ref_text = f"（{event.ref}）" if event.ref else ""
    click.echo(f"已记录跟进：{format_datetime(logged.time, False)} {logged.channel_label}{ref_text}：{event.note}")
    click.echo(f"下一步：{step.summary()}——{step.reason}")


@click.command()
@click.argument("directories", nargs=-1, required=True, type=click.Path())
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出（每个案件一项）。")
@debug_option
@handle_errors
def status(directories: tuple[str, ...], as_json: bool, debug: bool) -> None:
    """查看一个或多个案件的期限和下一步：紧急程度、最近跟进、已逾期的期限、下一步升级渠道。

    读不了的案件显示为一行错误，其余照常显示；全部失败时以第一个错误的退出码结束。

    \b
    示例：
      evidencekit status 我的案件
      evidencekit status 案件/* --json
    """
    from evidencekit.case.followup import (
        CaseStatus,
        StatusFailure,
        format_status_details,
        format_status_table,
        status_json,
        statuses,
    )
    from evidencekit.rules.catalog import load_rules

    rows = statuses([(d, case_dir(d)) for d in directories], load_rules(), datetime.now(UTC))
    if not as_json:
        for name, s in rows:
            if isinstance(s, StatusFailure):
                click.echo(f"错误（{name}）：{s.message}", err=True)
    if as_json:
        click.echo(json.dumps([status_json(name, s) for name, s in rows], ensure_ascii=False, indent=2))
    else:
        click.echo(format_status_table(rows))
        for name, s in rows:
            if isinstance(s, CaseStatus):
                click.echo(format_status_details(name, s))
    failures = [s for _, s in rows if isinstance(s, StatusFailure)]
    if failures and len(failures) == len(rows):
        sys.exit(failures[0].exit_code)
