"""Plain-text and JSON reports of an assessment or a build, for the CLI to print."""

from __future__ import annotations

from typing import Any

from evidencekit.model import Exhibit, Severity, Status, Target
from evidencekit.pipeline import Assessment, BuildResult
from evidencekit.rules.catalog import load_rules

_MARK = {Status.PRESENT: "✓", Status.MISSING: "✗", Status.WEAK: "!"}


def check_report(a: Assessment, target: Target, complete: bool) -> dict[str, Any]:
    return {
        "case": a.case.root.name,  # the folder's name: where it lives is not ours to write
        "target": target,
        "complete": complete,
        "has_case_file": a.case.has_case_file,
        "files": len(a.exhibits),
        "exhibits": [exhibit_entry(ex) for ex in a.exhibits],
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
    }


def exhibit_entry(ex: Exhibit) -> dict[str, Any]:
    """One exhibit of `check --json`: its number, file, kind and time with source (issue 11)."""
    return {
        "number": ex.number,
        "path": ex.source.rel_path,
        "kind": ex.kind.value,
        "time": ex.stamp.time.isoformat() if ex.stamp.time is not None else None,
        "time_source": ex.stamp.source.value,
        "time_detail": ex.stamp.detail,
        "time_phrase": load_rules().time_sources.phrase_for(ex.stamp),
    }


def format_check(a: Assessment, target: Target, complete: bool) -> str:
    lines = [f"案件：{a.case.root}（提交渠道：{target}，共 {len(a.exhibits)} 个证据文件）"]
    if not a.case.has_case_file:
        lines.append("注意：没有 case.yaml，案件信息全部缺失（可运行 evidencekit init 生成模板）。")
    lines.append("")
    lines.append("证据清单：")
    for item in a.checklist:
        need = "必需" if item.required else "辅助"
        refs = "、".join(f"证据{n}" for n in item.exhibits)
        refs = f"（{refs}）" if refs else ""
        lines.append(f"  {_MARK[item.status]} [{need}] {item.label}：{item.status.label}{refs} — {item.reason}")
    warnings = [f for f in a.findings if f.severity is not Severity.INFO]
    if warnings:
        lines.append("")
        lines.append("需要注意：")
        lines += [f"  ! {f.subject + '：' if f.subject else ''}{f.message}" for f in warnings]
    if a.inventory.refused:
        lines.append("")
        lines.append("未读取的文件：")
        lines += [f"  - {r.rel_path}：{r.reason}" for r in a.inventory.refused]
    lines += advice_lines(a.advice)
    lines.append("")
    lines.append("结论：必需项齐全。" if complete else "结论：不完整，请补齐上面标 ✗ 的项目（退出码 6）。")
    return "\n".join(lines)


def advice_lines(advice: tuple[str, ...]) -> list[str]:
    """The 处理建议 block of check and status (templates/ advice texts), with a blank line before."""
    if not advice:
        return []
    return ["", "处理建议：", *(f"  - {text}" for text in advice)]


def format_build(r: BuildResult) -> str:
    d = r.dossier
    missing = sum(1 for i in d.checklist if i.required and i.status is Status.MISSING)
    weak = sum(1 for i in d.checklist if i.status is Status.WEAK)
    size_mb = r.size / 1024 / 1024
    lines = [
        f"已生成：{r.output}",
        f"  {r.page_count} 页，{size_mb:.1f} MB，{len(d.exhibits)} 项证据"
        + ("，原件已附在 PDF 内" if d.originals_attached else "，原件未附（超出大小上限或 --no-originals）"),
        f"  指纹（清单 SHA-256）：{d.fingerprint}",
    ]
    if missing or weak:
        lines.append(f"  证据清单：缺少 {missing} 项，较弱 {weak} 项（详见 PDF 的证据清单页或 evidencekit check）")
    if d.refused:
        lines.append(f"  未读取的文件 {len(d.refused)} 个，已在证据目录中列出原因")
    return "\n".join(lines)
