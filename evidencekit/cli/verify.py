"""Commands `verify` and `stamp`: check a dossier's hashes and trusted time; obtain a timestamp.

Registered on the group in cli/__init__.py.
"""

# Library modules are imported inside each command, so `evidencekit --help` loads none of them.
from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from evidencekit.cli.common import debug_option, handle_errors
from evidencekit.errors import VerificationFailed
from evidencekit.terminal import display_width, pad_to_width, terminal_safe

if TYPE_CHECKING:  # the verify/tsa machinery (urllib, cryptography) loads only when used
    from evidencekit.integrity.tsa import TokenResult
    from evidencekit.integrity.verify import VerifyReport


@click.command("verify")
@click.argument("pdf", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--originals", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="原件所在的文件夹（案件文件夹或其中的 evidence/），逐一核对其中的文件；不指定时核对 PDF 内嵌的原件。")
@click.option("--ca", "ca_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="时间戳机构的根证书（PEM），用来验证 PDF 旁边的 .tsr 时间戳。")
@click.option("--max-attachment", "max_attachment_mb", type=click.IntRange(min=1), default=None, metavar="MB",
              help="每个内嵌原件解压后的大小上限（MB，默认 512）；超过的原件不核对，记为「超过上限」（退出码 7）。")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出核对结果（供程序使用）。")
@debug_option
@handle_errors
def verify_command(pdf: Path, originals: Path | None, ca_file: Path | None, max_attachment_mb: int | None, as_json: bool,
                   debug: bool) -> None:
    """核对证据材料：PDF 内清单记录的每个文件的 SHA-256 是否仍然一致。

    全部一致时退出码为 0；有文件已改变、缺失，或时间戳不符时退出码为 7，并写明是哪些文件。
    同样为 7 的还有：页面上的图片不是清单记录的显示副本、PDF 在生成之后被增量更新（追加修改）过、
    封面上读不出材料指纹、清单损坏或格式不对、附件解压后超过核对上限（默认 512 MB）。

    \b
    示例：
      evidencekit verify dossier.pdf
      evidencekit verify dossier.pdf --originals 我的案件
      evidencekit verify dossier.pdf --ca tsa-root.pem
      evidencekit verify dossier.pdf --json
    """
    from evidencekit.integrity.verify import verify_dossier

    ca_pem = ca_file.read_bytes() if ca_file is not None else None
    limit = max_attachment_mb * 1024 * 1024 if max_attachment_mb is not None else None  # None: verify's own
    report = verify_dossier(pdf, originals, ca_pem=ca_pem, max_attachment=limit)
    if as_json:
        click.echo(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
    else:
        click.echo(render_report(report))
    if not report.ok:
        raise VerificationFailed(terminal_safe(report.summary), hint=_failure_hint(report))


@click.command("stamp")
@click.argument("pdf", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--tsa", "tsa_url", required=True, metavar="URL",
              help="RFC 3161 时间戳服务的地址（http:// 或 https://）。")
@click.option("--force", is_flag=True, help="覆盖已有的 .tsr 时间戳文件。")
@debug_option
@handle_errors
def stamp_command(pdf: Path, tsa_url: str, force: bool, debug: bool) -> None:
    """向时间戳机构申请可信时间戳，证明这份证据材料（其清单）在此刻之前已经存在。

    需要联网。时间戳保存在 PDF 旁边，文件名为「PDF 文件名.tsr」；PDF 本身不会被改动。
    提交证据时把 .tsr 文件和 PDF 放在一起。

    \b
    示例：
      evidencekit stamp dossier.pdf --tsa https://freetsa.org/tsr
      evidencekit verify dossier.pdf --ca freetsa-cacert.pem
    """
    from evidencekit.integrity.stamp import stamp_dossier
    from evidencekit.integrity.tsa import format_gen_time, inspect_token
    from evidencekit.integrity.verify import read_manifest

    out = stamp_dossier(pdf, tsa_url, force=force)
    token = inspect_token(out.read_bytes(), read_manifest(pdf))
    click.echo(f"已取得时间戳：{format_gen_time(token.gen_time)}")
    if token.tsa_name:
        click.echo(f"  时间戳机构：{token.tsa_name}")
    click.echo(f"  已保存：{out}")
    click.echo(f"核对方法：evidencekit verify {pdf} --ca 时间戳机构的根证书.pem")


# ---------------------------------------------------------------------------------------------
# Text report
# ---------------------------------------------------------------------------------------------


def render_report(report: VerifyReport) -> str:
    from evidencekit.integrity.verify import FileStatus

    safe = terminal_safe  # names and notes come from a stranger's dossier: one line each, no controls
    lines = [f"核对：{safe(str(report.pdf))}"]
    meta = [f"案件编号 {report.case_id}" if report.case_id else "",
            f"生成时间 {report.generated_at}" if report.generated_at else "",
            f"evidencekit {report.tool_version}" if report.tool_version else ""]
    if any(meta):
        lines.append("  " + safe("，".join(m for m in meta if m)))
    lines.append(f"材料指纹（清单 SHA-256）：{report.fingerprint}")
    lines.append("  请与封面上的「材料指纹」逐字核对。")
    lines += [f"  ✓ {c}" for c in report.checks]
    where = "PDF 内嵌的原件" if report.source == "attachments" else f"文件夹 {safe(str(report.originals))} 中的文件"
    lines.append("")
    lines.append(f"逐个文件（{where}）：")
    if not report.files:
        lines.append("  （清单中没有文件）")
    width = max((display_width(f.status.label) for f in report.files), default=2)
    for f in report.files:
        mark = "✗" if f.status.fails else ("!" if f.status is FileStatus.EXTRA else "✓")
        line = f"  {mark} {pad_to_width(f.status.label, width)}  {safe(f.label)}"
        moved = report.source == "originals" and f.status is not FileStatus.EXTRA
        if moved and f.found_at and not _same_place(f.found_at, f.path):
            line += f"  ← {safe(f.found_at)}"
        lines.append(line)
        if f.status is FileStatus.CHANGED:
            lines.append(f"        清单记录 {f.expected_sha256}")
            lines.append(f"        现在是   {f.actual_sha256}")
        if f.note:
            lines.append(f"        {safe(f.note)}")
    if report.token is not None:
        lines.append("")
        lines.append(safe(_token_line(report.token, report.token_source)))
    if report.notices:
        lines.append("")
        lines += [f"注意：{safe(n)}" for n in report.notices]
    lines.append("")
    lines.append("结论：" + safe(report.summary))
    return "\n".join(lines)


def _same_place(found_at: str, path: str) -> bool:
    """True when a file was found where the manifest says (relative to the case or its evidence/)."""
    return found_at == path or path.endswith("/" + found_at)


def _token_line(token: TokenResult, source: str) -> str:
    from evidencekit.integrity.tsa import format_gen_time

    state = "有效" if token.ok and token.signature_checked else ("未通过" if not token.ok else "未验证签名")
    text = f"时间戳（{source}）：{state}"
    if token.gen_time is not None:
        text += f"，时间 {format_gen_time(token.gen_time)}"
    if token.tsa_name:
        text += f"，机构 {token.tsa_name}"
    return text


def _failure_hint(report: VerifyReport) -> str:
    if report.source == "attachments":
        return ("已改变或缺失的文件与生成证据材料时不同：PDF 在生成之后被改动过。"
                "请向提供者索要原始 PDF，或用 --originals 核对原件。")
    return ("已改变的文件与生成证据材料时的内容不同（哪怕只改了一个字节）；缺失的文件在该文件夹中找不到。"
            "请找回原始文件，或重新生成证据材料。")
