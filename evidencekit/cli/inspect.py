"""Command `inspect`: what evidencekit reads from each file, without building.

Registered in cli.py with ``main.add_command(inspect_command)``.
"""

# Library modules are imported inside each command, so `evidencekit --help` loads none of them.
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from evidencekit.cli.common import debug_option, handle_errors
from evidencekit.errors import ExitCode, UsageError


@click.command("inspect")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出（稳定接口，供脚本和测试使用）。")
@click.option("--tz", "zone", default="Asia/Shanghai", show_default=True,
              help="读文件名和无时区时间所用的时区，如 Asia/Shanghai、+09:00、UTC。")
@click.option("--suggest-moments", "suggest", is_flag=True,
              help="录屏：在画面变化处识别画面上的文字，找出主播的承诺（价格、正品、假一赔X……），"
                   "建议可粘贴进 case.yaml 的 moments:（需要可选组件 evidencekit[ocr]）。")
@click.option("--no-ocr", is_flag=True, help="不识别截图上的文字（不显示截图上看到的时间；带 EXIF 拍摄时间的照片本来就不识别）。")
@debug_option
@handle_errors
def inspect_command(files: tuple[Path, ...], as_json: bool, zone: str, suggest: bool, no_ocr: bool,
                    debug: bool) -> None:
    """查看 evidencekit 从每个文件读出了什么（不生成证据材料）：类型、时间及其来源和依据、
    提示，聊天记录的格式、编码和每条消息。用来回答「证据7 的时间为什么是这个」。

    文件可以在任何位置；链接和非普通文件不读取。有文件无法读取时退出码为 4（其余文件照常列出）。

    \b
    示例：
      evidencekit inspect IMG_20241113_151000.jpg
      evidencekit inspect 我的案件/evidence/chat/*.txt --json
      evidencekit inspect Screenshot_20241113-140500.png --tz +09:00
      evidencekit inspect 直播录屏.mp4 --suggest-moments

    --suggest-moments 没有安装 evidencekit[ocr] 时是用法错误（退出码 2），并提示安装方法。
    """
    from evidencekit.case.load import parse_timezone
    from evidencekit.inspection_report import format_reports, inspect_files
    from evidencekit.media.suggest import require_ocr, suggest_for_files

    try:
        tz = parse_timezone(zone)
    except ValueError as exc:
        raise UsageError(f"不认识的时区：{zone}", hint="例如 Asia/Shanghai、+08:00、UTC") from exc
    if suggest:
        require_ocr()  # before any file is read: exit 2 with how to add the extra
    reports = inspect_files(list(files), tz, ocr=not no_ocr)
    suggestions = suggest_for_files([(r.file, r.source, r.inspection) for r in reports], tz) if suggest else {}
    if as_json:
        out = []
        for r in reports:
            entry = r.to_json()
            if r.file in suggestions:
                entry.update(suggestions[r.file].to_json())
            out.append(entry)
        click.echo(json.dumps(out, ensure_ascii=False, indent=2))
    else:
        click.echo(format_reports(reports))
        for r in reports:
            if r.file in suggestions:
                click.echo(suggestions[r.file].to_text())
    failed = [r for r in reports if r.error]
    for r in failed:
        click.echo(f"错误：无法读取 {r.file}：{r.error}", err=True)
    if failed:
        sys.exit(int(ExitCode.FOLDER_UNUSABLE))
