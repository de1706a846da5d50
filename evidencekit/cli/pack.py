"""``evidencekit pack``: the files one channel accepts, in one folder, with a README."""

# Library modules are imported inside each command, so `evidencekit --help` loads none of them.
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from evidencekit.cli.common import (
    TARGETS,
    WordChoice,
    as_target,
    build_options,
    case_dir,
    debug_option,
    handle_errors,
    progress_printer,
    quiet_option,
)
from evidencekit.cli.letter import check_recipient, to_option
from evidencekit.model import Recipient

if TYPE_CHECKING:
    from evidencekit.pipeline import BuildOptions


@click.command()
@click.argument("directory", type=click.Path())
@click.option("--target", "-t", type=WordChoice("target", TARGETS), required=True, callback=as_target,
              help="提交渠道：12315 / email 邮件 / platform 平台介入 / payment 支付渠道投诉 / general 通用。")
@click.option("-o", "--output", "outdir", type=click.Path(file_okay=False),
              help="输出文件夹（默认 案件文件夹/pack-渠道名）。")
@click.option("--cap", type=click.FloatRange(min=0.1), default=None, metavar="MB",
              help="大小上限（MB，按 1,000,000 字节计）：email 为每封邮件的附件，其他渠道为每个文件；"
                   "默认取 templates/targets.yaml（email 15 MB，12315 5 MB）。")
@to_option
@build_options(force_help="替换已存在的输出文件夹（只替换本命令以前生成的文件夹）。")
@quiet_option
@debug_option
@handle_errors
def pack(directory: str, options: BuildOptions, outdir: str | None, cap: float | None,
         recipient: Recipient | None, quiet: bool, debug: bool) -> None:
    """按提交渠道的要求打包：可以直接上传的文件，加一份说明“什么文件传到哪里”的 README.txt。

    \b
    12315     不超过 4 个文件、每个不超过 5 MB（jpg/png/pdf/mp3/mp4）：证据材料 PDF 太大时
              按证据拆卷、必要时降低图片分辨率；剩下的名额放关键证据（短录屏、关键照片）。
    email     证据材料 PDF 不超过上限（默认 15 MB，base64 编码后约大三分之一），超过时
              不嵌入原件或拆卷；body.txt 为邮件主题和正文（--to 选收件人：商家、平台、
              消协、市场监管部门），附件清单与实际附上的文件一致。
    platform  关键页面转成 JPEG 图片（平台 App 一般不收 PDF），statement.txt 为申请说明。
    payment   同 platform，图片更少、说明更短。
    general   完整证据材料 PDF。
    原件没有嵌入交出的 PDF 时，原件/ 文件夹里有原样复制的原始文件和 SHA256SUMS.txt。

    \b
    示例：
      evidencekit pack 我的案件 --target 12315
      evidencekit pack 我的案件 --target email --cap 10 -o 邮件附件
      evidencekit pack 我的案件 --target email --to 消协
      evidencekit pack 我的案件 --target platform --force
    """
    from evidencekit.channels.pack import PackOptions, format_pack, pack_case

    check_recipient(options.target, recipient)
    pack_options = PackOptions(options, outdir=Path(outdir) if outdir else None,
                               cap_bytes=round(cap * 1_000_000) if cap is not None else None, recipient=recipient)
    result = pack_case(case_dir(directory), pack_options, progress_printer(quiet))
    click.echo(format_pack(result))
