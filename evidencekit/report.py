"""Plain-text and JSON reports of an assessment or a build, for the CLI to print."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from evidencekit.buildtypes import Assessment, BuildResult
from evidencekit.model import Exhibit, Status, Target
from evidencekit.readfacts import TIME_FIELDS, ScreenRead, visible_times
from evidencekit.rules.catalog import load_rules, megabytes_text
from evidencekit.selfcheck import (
    command_arg,
    delivery_lines,
    format_self_check,
    self_check,
    self_check_json,
    still_missing,
)

_MARK = {Status.PRESENT: "✓", Status.MISSING: "✗", Status.WEAK: "!"}


def check_report(a: Assessment, target: Target, complete: bool, now: datetime) -> dict[str, Any]:
    reads = {r.number: r for r in a.screens}
    return {
        "case": a.case.root.name,  # the folder's name: where it lives is not ours to write
        "target": target,
        "complete": complete,
        "has_case_file": a.case.has_case_file,
        "files": len(a.exhibits),
        "exhibits": [exhibit_entry(ex, reads.get(ex.number)) for ex in a.exhibits],
        "ocr_note": a.ocr_note,
        "refused": [{"path": r.rel_path, "reason": r.reason} for r in a.inventory.refused],
        "checklist": [
            {
                "key": i.key,
                "label": i.label,
                "required": i.required,
                "status": i.status.value,
                "reason": i.reason,
                "exhibits": list(i.exhibits),
            }
            for i in a.checklist
        ],
        "findings": [
            {"severity": f.severity.value, "code": f.code, "message": f.message, "subject": f.subject}
            for f in a.findings
        ],
        "advice": list(a.advice),
        **self_check_json(self_check(a, target, now, load_rules(), folder=Path(a.case.root.name))),
    }


def exhibit_entry(ex: Exhibit, read: ScreenRead | None = None) -> dict[str, Any]:
    """One exhibit of `check --json`: its number, file, kind and time with source (issue 11), and
    what OCR read on it (the status bar's clock, the facts)."""
    ocr: dict[str, Any] = {}
    if read is not None:
        ocr = {"visible_time": read.clock or None,
               "read": [{"field": f.field, "name": f.name, "value": f.value} for f in read.facts],
               "ocr_error": read.error}
    return {
        "number": ex.number,
        "path": ex.source.rel_path,
        "kind": ex.kind.value,
        "time": ex.stamp.time.isoformat() if ex.stamp.time is not None else None,
        "time_source": ex.stamp.source.value,
        "time_detail": ex.stamp.detail,
        "time_phrase": load_rules().time_sources.phrase_for(ex.stamp),
        **ocr,
    }


def format_check(a: Assessment, target: Target, complete: bool, now: datetime) -> str:
    """`check`: the whole checklist at a glance, then the shopper's self-check (selfcheck.py)."""
    lines = [f"案件：{a.case.root}（提交渠道：{target}，共 {len(a.exhibits)} 个证据文件）"]
    if not a.case.has_case_file:
        lines.append("注意：没有 case.yaml，案件信息全部缺失（可运行 evidencekit init 生成模板）。")
    lines.append("")
    lines.append("证据清单：")
    for item in a.checklist:
        need = "必需" if item.required else "辅助"
        refs = "、".join(f"证据{n}" for n in item.exhibits)
        refs = f"（{refs}）" if refs else ""
        # What is missing or weak is explained once, in the self-check below.
        reason = f" — {item.reason}" if item.status is Status.PRESENT else "（见下面的自查）"
        lines.append(f"  {_MARK[item.status]} [{need}] {item.label}：{item.status.label}{refs}{reason}")
    lines += ocr_lines(a)
    lines.append("")
    lines.append(format_self_check(self_check(a, target, now, load_rules())))
    lines.append("")
    lines.append("结论：必需项齐全。" if complete else "结论：不完整，请补齐上面标 ✗ 的项目（退出码 6）。")
    return "\n".join(lines)


def ocr_lines(a: Assessment) -> list[str]:
    """What OCR read on each screenshot, the visible time beside the exhibit's own; or, once, how to add OCR."""
    if a.ocr_note:
        return ["", a.ocr_note]
    if not a.screens:
        return []
    phrases = load_rules().time_sources
    exhibits = {ex.number: ex for ex in a.exhibits}
    lines = ["", "截图上的文字（文字识别）："]
    for r in a.screens:
        ex = exhibits[r.number]
        lines.append(f"  证据{r.number} {r.rel_path}：截图上的时间 {'、'.join(visible_times(r)) or '无'}；"
                     f"{phrases.phrase_for(ex.stamp)} {ex.stamp.format_time()}")
        if r.error:
            lines.append(f"    未读出文字：{r.error}")
        others = [f"{f.name} {f.value}" for f in r.facts if f.field not in TIME_FIELDS]
        if others:
            lines.append(f"    读出：{'；'.join(others)}")
    return lines


def format_build(r: BuildResult, now: datetime, full_self_check: bool = False) -> str:
    """`build`: where the dossier is, what to do with it on its channel, and what is still missing
    (the whole self-check with ``full_self_check``, for `build --self-check`)."""
    d = r.dossier
    rules = load_rules()
    lines = [
        f"已生成：{r.output}",
        f"  {r.page_count} 页，{megabytes_text(r.size)}，{len(d.exhibits)} 项证据"
        + ("，原件已附在 PDF 内" if d.originals_attached else "，原件未附（超出大小上限或 --no-originals）"),
        f"  指纹（清单 SHA-256）：{d.fingerprint}",
    ]
    if d.refused:
        lines.append(f"  未读取的文件 {len(d.refused)} 个，已在证据目录中列出原因")
    root = r.assessment.case.root
    lines += delivery_lines(root, d.target, r.size, rules)
    s = self_check(r.assessment, d.target, now, rules)
    if full_self_check:
        lines += ["", format_self_check(s)]
        return "\n".join(lines)
    missing = still_missing(s)
    if missing:
        lines.append("还没有补齐（证据材料里不写这些，只告诉你）：")
        lines += [f"  {line}" for line in missing]
        lines.append(f"  怎么补、期限和下一步：evidencekit check {command_arg(root)} --target {d.target}，"
                     "或 build 时加 --self-check")
    return "\n".join(lines)
