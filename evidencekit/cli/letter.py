"""``evidencekit letter``: the complaint text for a channel, in its field order and length limits.

Registered on the group in cli/__init__.py.
"""

# Library modules are imported inside each command, so `evidencekit --help` loads none of them.
from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any, TypeVar

import click

from evidencekit.cli.common import case_dir, debug_option, handle_errors, target_option
from evidencekit.model import Recipient, Target

F = TypeVar("F", bound=Callable[..., Any])

# What --to accepts: each Recipient's value and the Chinese names a shopper types. Kept here, not
# read from templates/, so `--help` and the usage check load no template (tests check that each
# recipient's label in targets.yaml is among these words).
RECIPIENT_WORDS: dict[str, Recipient] = {
    **{r.value: r for r in Recipient},
    "商家": Recipient.MERCHANT, "卖家": Recipient.MERCHANT, "店铺": Recipient.MERCHANT,
    "经营者": Recipient.MERCHANT,
    "平台": Recipient.PLATFORM, "电商平台": Recipient.PLATFORM,
    "消协": Recipient.CONSUMER_ASSOCIATION, "消费者协会": Recipient.CONSUMER_ASSOCIATION,
    "消保委": Recipient.CONSUMER_ASSOCIATION, "消费者权益保护委员会": Recipient.CONSUMER_ASSOCIATION,
    "市场监管部门": Recipient.MARKET_REGULATION, "市场监管": Recipient.MARKET_REGULATION,
    "市场监管局": Recipient.MARKET_REGULATION, "市场监督管理部门": Recipient.MARKET_REGULATION,
    "市场监督管理局": Recipient.MARKET_REGULATION,
}


def _recipient(_ctx: click.Context, _param: click.Parameter, value: str | None) -> Recipient | None:
    return None if value is None else RECIPIENT_WORDS[value]


def check_recipient(target: Target, recipient: Recipient | None) -> None:
    """A usage error for --to with a target whose letter has no addressee. Checked in the command,
    not in the callback: click runs callbacks in command-line order, so --target may come later."""
    if recipient is not None and target is not Target.EMAIL:
        raise click.UsageError(f"--to 只用于 --target email（邮件投诉）；{target} 的投诉文字按表单栏目填写，没有收件人。")


def to_option(func: F) -> F:
    """--to for the email letter (letter, pack); the command calls check_recipient."""
    return click.option(
        "--to", "recipient", type=click.Choice(tuple(RECIPIENT_WORDS)), default=None, callback=_recipient,
        metavar="收件人",
        help="邮件写给谁（只用于 --target email）：商家 merchant（默认）/ 平台 platform / "
             "消协 consumer_association / 市场监管部门 market_regulation。称呼、主题和正文随之改变。",
    )(func)


def _fingerprint(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str:
    if not value:
        return ""
    value = value.strip().lower()
    if not re.fullmatch(r"[0-9a-f]{64}", value):
        raise click.BadParameter("应为 64 位十六进制的 SHA-256（证据材料封面上的“材料指纹”）")
    return value


@click.command()
@click.argument("directory", type=click.Path())
@target_option()
@to_option
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出：{target, fields: [{name, text, limit}]}。")
@click.option("--fingerprint", callback=_fingerprint, metavar="SHA256",
              help="证据材料的指纹（build 生成的 PDF 封面上的 SHA-256），写进附件清单；不给则留作【见证据材料封面】。")
@debug_option
@handle_errors
def letter(directory: str, target: Target, recipient: Recipient | None, as_json: bool, fingerprint: str,
           debug: bool) -> None:
    """生成投诉文字：按提交渠道的栏目顺序和字数上限，逐栏给出可直接复制的文字。

    缺少的信息显示为【请填写：…】；超出字数上限的栏目会先删去次要内容，再截断并以“…”结尾，订单号始终保留；
    删去和截短了什么，逐条列在该栏下面（--json 时写到标准错误）。

    \b
    示例：
      evidencekit letter 我的案件 --target 12315
      evidencekit letter 我的案件 --target email --fingerprint 3f7a…（64 位）
      evidencekit letter 我的案件 --target email --to 消协
      evidencekit letter 我的案件 --target payment --json
    """
    from evidencekit.channels.letter import format_cut_notice, format_letter, letter_for_folder, letter_json
    from evidencekit.pipeline import BuildOptions

    check_recipient(target, recipient)
    result = letter_for_folder(case_dir(directory), BuildOptions(target=target), fingerprint=fingerprint,
                               recipient=recipient)
    if as_json:
        click.echo(json.dumps(letter_json(result), ensure_ascii=False, indent=2))
        notice = format_cut_notice(result)
        if notice:  # stdout stays one JSON document; the person running it still learns what was cut
            click.echo(notice, err=True)
    else:
        click.echo(format_letter(result), nl=False)
