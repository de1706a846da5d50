"""The shopper's self-check: what is missing or weak, why, what to do and where to put the file,
the deadlines and the next escalation step; and what to do with a built dossier on its channel.

It speaks to the shopper, in case.yaml keys and folder names, so it is terminal text only: `check`
prints it, and `build --self-check` prints it after the build. It is never a page of the dossier
and never a file of `pack` (the recipient's dossier does not list the sender's weaknesses).
The deadlines and the next step are case/followup.py's, the same as `status` shows; the advice
is the templates' (Assessment.advice).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from evidencekit.buildtypes import Assessment
from evidencekit.case.followup import CaseStatus, case_status, format_status_details, status_json
from evidencekit.model import Finding, RefusedFile, Severity, Status, Target
from evidencekit.rules.catalog import Rules, megabytes_text, target_profile


@dataclass(frozen=True)
class Todo:
    """One checklist item that is missing or weak, and what the shopper can do about it."""

    key: str  # the checklist item's key, e.g. evidence.order, field.complainant.phone
    label: str
    required: bool
    status: Status  # MISSING or WEAK
    why: str  # the checklist's reason
    how: str  # the folder to put a file in, or the case.yaml key to fill


@dataclass(frozen=True)
class SelfCheck:
    root: Path
    target: Target
    target_label: str
    todos: tuple[Todo, ...]  # in checklist order
    warnings: tuple[Finding, ...]  # findings above INFO: files to look at again
    refused: tuple[RefusedFile, ...]
    status: CaseStatus  # urgency, deadlines and the next escalation step, as `status` computes them
    advice: tuple[str, ...]

    def group(self, required: bool, status: Status) -> tuple[Todo, ...]:
        return tuple(t for t in self.todos if t.required == required and t.status is status)


def self_check(a: Assessment, target: Target, now: datetime, rules: Rules, folder: Path | None = None) -> SelfCheck:
    """The self-check of an assessed case at ``now`` (aware) for one channel.

    ``folder`` is how the commands it suggests name the case folder: its full path by default;
    `check --json` passes the folder's name, so the JSON holds no local path.
    """
    root = folder or a.case.root
    timeless = {r.number for r in a.screens if not r.error and not r.shows_time}
    todos = []
    for item in a.checklist:
        if item.status is not Status.PRESENT:
            todos.append(Todo(item.key, item.label, item.required, item.status, item.reason,
                              remedy(item.key, item.status, root, target, rules)))
        elif item.key.startswith("evidence.") and item.exhibits and set(item.exhibits) <= timeless:
            # Present, but no screenshot of it shows a date or time (readfacts.py): officials may not take it.
            shown = "、".join(f"证据{n}" for n in item.exhibits)
            todos.append(Todo(item.key, item.label, item.required, Status.WEAK,
                              f"{shown} 的截图上看不到日期或时间，可能不被采信",
                              remedy(item.key, Status.WEAK, root, target, rules)))
    return SelfCheck(
        a.case.root, target, target_profile(target, rules).label, tuple(todos),
        tuple(f for f in a.findings if f.severity is not Severity.INFO), a.inventory.refused,
        case_status(a.case, rules, now.astimezone(a.case.tz)), a.advice)


def remedy(key: str, status: Status, root: Path, target: Target, rules: Rules) -> str:
    """What to do about one missing or weak checklist item: where the file goes, which key to fill."""
    if key.startswith("evidence."):
        kind = key.removeprefix("evidence.")
        folders = rules.kinds[kind].folders if kind in rules.kinds else ()
        names = [kind, *[f for f in folders if not f.isascii()][:1]]  # the English name and one Chinese alias
        where = " 或 ".join(f"evidence/{name}/" for name in names)
        add = f"evidencekit add {command_arg(root)} 文件… --kind {kind}"
        if status is Status.WEAK:
            return (f"补一份更清楚、带拍摄时间的文件放进 {where}（{add}）；已有的文件可在 case.yaml 的 evidence: "
                    "中为它写明 time（拍摄时间）、proves（证明什么）或 moments（录屏里的时间点）")
        return f"把文件放进 {where}，或运行 {add}"
    if key == "case_file":
        return f"运行 evidencekit init {command_arg(root)} 生成带中文说明的 case.yaml，再按下面各项填写"
    if key == "deadline.limitation":
        if status is Status.WEAK:
            return "在 case.yaml 中填写 problem.discovered_at（发现问题的时间）或 order.time（购买时间）"
        return rules.followup.step("court").how
    if key == "field.problem.type":
        return "在 case.yaml 的 problem.type 中填写问题类型（可选的值见上一行）"
    if key == "field.merchant.credit_code":
        return "在 case.yaml 的 merchant.credit_code 中填写 18 位统一社会信用代码"
    if key.startswith("field."):
        field = key.removeprefix("field.")
        paths = next((f.paths for f in target_profile(target, rules).fields if f.key == field), (field,))
        return f"在 case.yaml 中填写 {' 或 '.join(paths)}"
    return ""


def command_arg(path: Path) -> str:
    """A path as the shopper types it after a command (in quotes when it has spaces)."""
    text = str(path)
    return f'"{text}"' if any(ch.isspace() for ch in text) else text


_GROUPS = (
    (True, Status.MISSING, "✗", "还缺（必需）"),
    (True, Status.WEAK, "!", "较弱（必需项）"),
    (False, Status.WEAK, "!", "较弱"),
    (False, Status.MISSING, "-", "建议补充"),
)


def format_self_check(s: SelfCheck) -> str:
    """The self-check as terminal text: to-dos, files to look at, deadlines, next step, advice."""
    lines = [f"自查（只给你自己看，不要提交给对方）：{s.root}（提交渠道：{s.target_label}）"]
    for required, status, mark, heading in _GROUPS:
        todos = s.group(required, status)
        if not todos:
            continue
        lines += ["", f"{heading}："]
        for t in todos:
            lines.append(f"  {mark} {t.label}")
            lines.append(f"    为什么：{t.why}")
            if t.how:
                lines.append(f"    怎么补：{t.how}")
    if not s.todos:
        lines += ["", "证据清单的必需项和建议项都已具备。"]
    if s.warnings:
        lines += ["", "需要再看一下的文件："]
        lines += [f"  ! {f.subject + '：' if f.subject else ''}{f.message}" for f in s.warnings]
    if s.refused:
        lines += ["", "未读取的文件（不会出现在证据材料里）："]
        lines += [f"  - {r.rel_path}：{r.reason}" for r in s.refused]
    lines += ["", "期限和下一步："]
    # The advice is printed once below, not again inside the status block.
    lines += format_status_details(str(s.root), replace(s.status, advice=())).rstrip("\n").splitlines()
    if s.advice:
        lines += ["", "处理建议：", *(f"  - {text}" for text in s.advice)]
    return "\n".join(lines)


def self_check_json(s: SelfCheck) -> dict[str, Any]:
    """The keys `check --json` adds for the self-check: to-dos, and `status`'s urgency, deadlines, next step."""
    followup = status_json(s.root.name, s.status)
    return {
        "todo": [{"key": t.key, "label": t.label, "required": t.required, "status": t.status.value,
                  "why": t.why, "how": t.how} for t in s.todos],
        **{key: followup[key] for key in ("urgency", "deadlines", "next_step")},
    }


def still_missing(s: SelfCheck) -> list[str]:
    """One line per group of what is still missing or weak, and the files with warnings (empty when
    there is nothing to do)."""
    lines = []
    for required, status, _mark, heading in _GROUPS:
        todos = s.group(required, status)
        if todos:
            lines.append(f"{heading}：{'、'.join(t.label for t in todos)}")
    subjects = list(dict.fromkeys(f.subject for f in s.warnings if f.subject))
    if subjects:
        lines.append(f"需要再看一下的文件：{'、'.join(subjects)}")
    return lines


def delivery_lines(root: Path, target: Target, size: int, rules: Rules) -> list[str]:
    """What to do with a dossier of ``size`` bytes on ``target``: where it goes, within which limits
    (templates/targets.yaml), and when `pack` must cut it to fit."""
    profile = target_profile(target, rules)
    limits = profile.attachments
    pack = f"evidencekit pack {command_arg(root)} --target {target}"
    letter = f"evidencekit letter {command_arg(root)} --target {target}"
    submit = profile.pack.submit if profile.pack else ""
    if target == Target.GENERAL:
        return [submit] if submit else []
    lines = [f"提交到{profile.label}" + (f"：{submit}" if submit else "")]
    summary = limits.summary()
    if summary:
        unconfirmed = "（未经官方核实）" if not limits.confirmed else ""
        lines.append(f"  附件限制{unconfirmed}：{summary}")
    if limits.note:
        lines.append(f"  {limits.note}")
    cap = limits.size_cap
    if not limits.takes_pdf:
        lines.append(f"  这个渠道不收 PDF：运行 {pack}，按生成的 README.txt 上传图片、填写文字")
    elif cap is not None and size > cap:
        lines.append(f"  这份 PDF 有 {megabytes_text(size)}，超过 {megabytes_text(cap)} 的上限：运行 {pack}，"
                     "按生成的 README.txt 分卷上传")
    else:
        lines.append(f"  这份 PDF 可以直接作为附件上传；按渠道整理好的文件和说明：{pack}")
    limit = profile.statement_limit
    field = next((f.name for f in profile.letter if f.source == "complaint"), "投诉文字")
    lines.append(f"  要填写的文字：{letter}" + (f"（{field}不超过 {limit} 字）" if limit else ""))
    return lines
