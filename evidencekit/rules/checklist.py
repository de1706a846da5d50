"""The checklist: for one case and target, each required or supporting item (case facts, credit
code, limitation period, evidence) as present, missing or weak, with the reason in Chinese.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from evidencekit.model import Case, ChecklistItem, EvidenceKind, Exhibit, RecordingInspection, Status
from evidencekit.rules.amounts import legal_basis, limitation_period
from evidencekit.rules.conditions import case_value, filled, matches
from evidencekit.rules.lookups import problem_type, target_profile
from evidencekit.rules.problem_types import Requirement
from evidencekit.rules.targets import FieldRule, TargetProfile

if TYPE_CHECKING:
    from evidencekit.rules.ruleset import Rules
from evidencekit.rules.creditcode import validate_credit_code


def build_checklist(case: Case, exhibits: Sequence[Exhibit], target: str | None, rules: Rules,
                    now: datetime) -> tuple[ChecklistItem, ...]:
    """Required and supporting items for this problem type and channel: present / missing / weak.

    ``now`` is the moment of the check (aware), used for the channel's time limit.
    """
    profile = target_profile(target, rules)
    items: list[ChecklistItem] = []
    if not case.has_case_file:
        items.append(ChecklistItem(
            "case_file", "案件信息文件（case.yaml）", False, Status.MISSING,
            "未找到 case.yaml，下列案件信息均按缺少处理；运行 evidencekit init 可生成带中文说明的模板",
        ))
    items.append(_problem_type_item(case, rules))
    items += [_field_item(case, rule) for rule in profile.fields if matches(case, rule.when)]
    credit = _credit_code_item(case, profile)
    if credit is not None:
        items.append(credit)
    if profile.limitation_years:
        items.append(_limitation_item(case, profile, rules, now))
    ptype = problem_type(case, rules)
    by_kind: dict[EvidenceKind, list[Exhibit]] = {}
    for exhibit in exhibits:
        if _deliberately_classified(exhibit, case):
            by_kind.setdefault(exhibit.kind, []).append(exhibit)
    for requirement in ptype.required:
        items.append(_evidence_item(case, requirement, True, by_kind.get(requirement.kind, []), rules))
    for requirement in ptype.supporting:
        items.append(_evidence_item(case, requirement, False, by_kind.get(requirement.kind, []), rules))
    return tuple(items)


def checklist_complete(items: Iterable[ChecklistItem], strict: bool) -> bool:
    """Complete = no required item missing; ``strict`` also refuses any weak item."""
    for item in items:
        if item.required and item.status is Status.MISSING:
            return False
        if strict and item.status is Status.WEAK:
            return False
    return True


def _problem_type_item(case: Case, rules: Rules) -> ChecklistItem:
    key, label = "field.problem.type", "问题类型"
    ptype = rules.problem_types.get(case.problem.type)
    if ptype is not None:
        urgency = rules.urgency[ptype.urgency].label
        return ChecklistItem(key, label, True, Status.PRESENT, f"{ptype.label}；紧急程度：{urgency}")
    choices = "、".join(f"{k}（{t.label}）" for k, t in rules.problem_types.items())
    generic = "、".join(_requirement_label(r, rules) for r in rules.generic.required)
    if case.problem.type:
        reason = f"问题类型 {case.problem.type} 不在模板 problem_types.yaml 中"
    else:
        reason = "缺少问题类型（problem.type）"
    return ChecklistItem(key, label, True, Status.MISSING,
                         f"{reason}，暂按通用清单检查（{generic}）；可选：{choices}")


def _field_item(case: Case, rule: FieldRule) -> ChecklistItem:
    paths = " 或 ".join(rule.paths)
    if any(filled(case_value(case, p)) for p in rule.paths):
        return ChecklistItem(f"field.{rule.key}", rule.label, rule.required, Status.PRESENT,
                             f"已填写（{paths}）")
    reason = f"缺少{rule.label}（{paths}）" if rule.required else f"建议填写{rule.label}（{paths}）"
    if rule.why:
        reason += f"：{rule.why}"
    return ChecklistItem(f"field.{rule.key}", rule.label, rule.required, Status.MISSING, reason)


def _credit_code_item(case: Case, profile: TargetProfile) -> ChecklistItem | None:
    key, label = "field.merchant.credit_code", "统一社会信用代码"
    code = case.merchant.credit_code.strip()
    if not code:
        if profile.credit_code_if_missing == "ignore":
            return None
        required = profile.credit_code_if_missing == "required"
        verb = "缺少" if required else "建议填写"
        return ChecklistItem(key, label, required, Status.MISSING,
                             f"{verb}被投诉经营者的统一社会信用代码（merchant.credit_code）：可在店铺首页的营业执照"
                             "信息或国家企业信用信息公示系统查到，便于准确找到被投诉人")
    problem = validate_credit_code(code)
    if problem is None:
        return ChecklistItem(key, label, False, Status.PRESENT, f"{code}：位数和校验位正确")
    if profile.credit_code_if_invalid == "missing":
        return ChecklistItem(key, label, True, Status.MISSING, f"{problem}（merchant.credit_code）")
    return ChecklistItem(key, label, False, Status.WEAK, f"{problem}（merchant.credit_code）")


def _limitation_item(case: Case, profile: TargetProfile, rules: Rules, now: datetime) -> ChecklistItem:
    years = profile.limitation_years or 0
    key, label = "deadline.limitation", f"投诉时效（{years} 年）"
    basis = ""
    if profile.limitation_basis:
        law_basis = legal_basis(profile.limitation_basis, rules)
        basis = f"（{law_basis.law}{law_basis.article}）"
    period = limitation_period(case, years)
    if period is None:
        return ChecklistItem(key, label, False, Status.WEAK,
                             f"无法判断是否已超过 {years} 年：未填写发现问题时间（problem.discovered_at）"
                             "或购买时间（order.time）")
    start_day, path, last_day = period.start_day, period.start_key, period.last_day
    today = now.astimezone(case.tz).date() if now.tzinfo else now.date()
    if today > last_day:
        return ChecklistItem(key, label, True, Status.MISSING,
                             f"自 {start_day.isoformat()}（{path}）起已超过 {years} 年，"
                             f"{profile.label}可以不予受理{basis}；可考虑向法院起诉")
    return ChecklistItem(key, label, True, Status.PRESENT,
                         f"自 {start_day.isoformat()}（{path}）起算，"
                         f"{last_day.isoformat()} 前可以投诉{basis}")


def _deliberately_classified(exhibit: Exhibit, case: Case) -> bool:
    """False for files that landed in "other" only because nothing told us their kind.

    Such files must not satisfy an "other" requirement (e.g. the courier's messages): the user
    has not said what they are.
    """
    if exhibit.kind is not EvidenceKind.OTHER or exhibit.source.kind_from_folder:
        return True
    override = case.override_for(exhibit.source.rel_path)
    return override is not None and override.kind is EvidenceKind.OTHER


def _requirement_label(requirement: Requirement, rules: Rules) -> str:
    return requirement.label or rules.kinds[requirement.kind].label


def _numbers(exhibits: Iterable[Exhibit]) -> str:
    return "、".join(e.label for e in exhibits)


def _exhibit_issues(exhibit: Exhibit) -> list[str]:
    """Why this one exhibit does not carry its weight on its own (empty = it does)."""
    issues = []
    if exhibit.inspection.preview_error:
        issues.append(f"{exhibit.label}无法显示（{exhibit.inspection.preview_error}）")
    if exhibit.stamp.source.weak:
        if exhibit.stamp.time is None:
            issues.append(f"{exhibit.label}没有可确认的拍摄或截图时间")
        else:
            issues.append(f"{exhibit.label}的时间只来自文件修改时间，复制或传输后会改变")
    for finding in exhibit.inspection.findings:
        if finding.code == "chat.one_sided":
            issues.append(f"{exhibit.label}的聊天记录只有一方的发言，看不出商家如何答复")
    return issues


def _declares_claim(exhibit: Exhibit, case: Case, requirement: Requirement, rules: Rules) -> bool:
    """Did the user say which claim this file shows (a proves text or timed moments)?"""
    override = case.override_for(exhibit.source.rel_path)
    if override is not None and (override.proves or override.moments):
        return True
    if isinstance(exhibit.inspection, RecordingInspection) and exhibit.inspection.moments:
        return True
    # A proves text that is neither template default was written by the user.
    defaults = {rules.kinds[exhibit.kind].proves, requirement.proves, ""}
    return exhibit.proves.strip() not in defaults


def _evidence_item(case: Case, requirement: Requirement, required: bool, exhibits: list[Exhibit],
                   rules: Rules) -> ChecklistItem:
    key = f"evidence.{requirement.kind.value}"
    label = _requirement_label(requirement, rules)
    purpose = f"证明目的：{requirement.proves}"
    if not exhibits:
        folder = requirement.kind.value
        verb = "缺少" if required else "建议补充"
        return ChecklistItem(key, label, required, Status.MISSING,
                             f"{verb}{label}（{purpose}）；请放入 evidence/{folder}/")
    numbers = tuple(e.number for e in exhibits)
    issues = {e.number: _exhibit_issues(e) for e in exhibits}
    sound = [e for e in exhibits if not issues[e.number]]
    declared = [e for e in sound if _declares_claim(e, case, requirement, rules)]
    if sound and (declared or not requirement.must_declare):
        return ChecklistItem(key, label, required, Status.PRESENT,
                             f"已提供：{_numbers(exhibits)}；{purpose}", numbers)
    problems = [text for e in exhibits for text in issues[e.number]]
    if sound and requirement.must_declare:
        problems.append("没有写明哪一份证明主播的哪一句承诺：请在 case.yaml 的 evidence: 中"
                        "为该文件填写 proves（如“主播称头层牛皮”）"
                        "或 moments（录屏中的时间点，如“00:12:31 主播承诺假一赔十”）")
    return ChecklistItem(key, label, required, Status.WEAK,
                         f"已提供：{_numbers(exhibits)}，但{'；'.join(problems)}", numbers)
