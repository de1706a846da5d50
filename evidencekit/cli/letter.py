"""``evidencekit letter``: the complaint text for a channel, in its field order and length limits.

Registered on the group in cli/__init__.py.
"""

# Library modules are imported inside each command, so `evidencekit --help` loads none of them.
from __future__ import annotations

import json
import re

import click

from evidencekit.cli.common import case_dir, debug_option, handle_errors, target_option
from evidencekit.model import Target


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
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出：{target, fields: [{name, text, limit}]}。")
@click.option("--fingerprint", callback=_fingerprint, metavar="SHA256",
              help="证据材料的指纹（build 生成的 PDF 封面上的 SHA-256），写进附件清单；不给则留作【见证据材料封面】。")
@debug_option
@handle_errors
def letter(directory: str, target: Target, as_json: bool, fingerprint: str, debug: bool) -> None:
    """生成投诉文字：按提交渠道的栏目顺序和字数上限，逐栏给出可直接复制的文字。

    缺少的信息显示为【请填写：…】；超出字数上限的栏目会先删去次要内容，再截断并以“…”结尾，订单号始终保留；
    删去和截短了什么，逐条列在该栏下面（--json 时写到标准错误）。

    \b
    示例：
      evidencekit letter 我的案件 --target 12315
      evidencekit letter 我的案件 --target email --fingerprint 3f7a…（64 位）
      evidencekit letter 我的案件 --target payment --json
    """
    from evidencekit.channels.letter import format_cut_notice, format_letter, letter_for_folder, letter_json
    from evidencekit.pipeline import BuildOptions

    result = letter_for_folder(case_dir(directory), BuildOptions(target=target), fingerprint=fingerprint)
    if as_json:
        click.echo(json.dumps(letter_json(result), ensure_ascii=False, indent=2))
        notice = format_cut_notice(result)
        if notice:  # stdout stays one JSON document; the person running it still learns what was cut
            click.echo(notice, err=True)
    else:
        click.echo(format_letter(result), nl=False)
