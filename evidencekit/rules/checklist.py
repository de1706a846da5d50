"""The checklist: for one case and target, each required or supporting item (case facts, credit
code, limitation period, evidence) as present, missing or weak. Each item has two wordings
(templates/checklist_wording.yaml): ``reason`` for the applicant, which names the case.yaml key
or evidence folder, and ``statement`` for the recipient's 证据清单, which states the facts the
item claims and is empty when the item claims nothing (missing, or weak case facts).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from evidencekit.model import (
    Case,
    ChecklistItem,
    EvidenceKind,
    Exhibit,
    RecordingInspection,
    Status,
    format_datetime,
)
from evidencekit.rules.amounts import legal_basis, limitation_period
from evidencekit.rules.conditions import case_value, filled, matches
from evidencekit.rules.lookups import platform_display_name, problem_type, target_profile
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
    shopper = rules.checklist_wording.shopper
    items: list[ChecklistItem] = []
    if not case.has_case_file:
        items.append(ChecklistItem(
            "case_file", "案件信息文件（case.yaml）", False, Status.MISSING, shopper.say("case_file_missing"),
        ))
    items.append(_problem_type_item(case, rules))
    items += [_field_item(case, rule, rules) for rule in profile.fields if matches(case, rule.when)]
    credit = _credit_code_item(case, profile, rules)
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
    wording = rules.checklist_wording
    ptype = rules.problem_types.get(case.problem.type)
    if ptype is not None:
        urgency = rules.urgency[ptype.urgency].label
        return ChecklistItem(key, label, True, Status.PRESENT,
                             wording.shopper.say("problem_type_present", label=ptype.label, urgency=urgency),
                             statement=wording.recipient.say("problem_type", label=ptype.label))
    choices = "、".join(f"{k}（{t.label}）" for k, t in rules.problem_types.items())
    generic = "、".join(_requirement_label(r, rules) for r in rules.generic.required)
    if case.problem.type:
        reason = wording.shopper.say("problem_type_unknown", value=case.problem.type)
    else:
        reason = wording.shopper.say("problem_type_missing")
    return ChecklistItem(key, label, True, Status.MISSING,
                         wording.shopper.say("problem_type_fallback", reason=reason, generic=generic,
                                             choices=choices))


def _fact(case: Case, path: str, rules: Rules) -> str:
    """What the case says at ``path``, as the recipient reads it (labels, not keys)."""
    value = case_value(case, path)
    if path == "platform":
        return platform_display_name(case, rules)
    if path == "claims" and isinstance(value, tuple):
        labels = rules.claim_labels
        return "、".join(labels.get(str(v), str(v)) for v in value)
    if isinstance(value, Decimal):
        return f"¥{value:,.2f}"
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, tuple):
        return "、".join(str(v) for v in value)
    return str(value).strip()


def _field_item(case: Case, rule: FieldRule, rules: Rules) -> ChecklistItem:
    wording = rules.checklist_wording
    paths = " 或 ".join(rule.paths)
    filled_paths = [p for p in rule.paths if filled(case_value(case, p))]
    if filled_paths:
        value = _fact(case, filled_paths[0], rules)
        return ChecklistItem(f"field.{rule.key}", rule.label, rule.required, Status.PRESENT,
                             wording.shopper.say("field_present", paths=paths),
                             statement=wording.recipient.say("field", value=value))
    verb = "field_missing" if rule.required else "field_suggested"
    reason = wording.shopper.say(verb, label=rule.label, paths=paths)
    if rule.why:
        reason = wording.shopper.say("field_why", reason=reason, why=rule.why)
    return ChecklistItem(f"field.{rule.key}", rule.label, rule.required, Status.MISSING, reason)


def _credit_code_item(case: Case, profile: TargetProfile, rules: Rules) -> ChecklistItem | None:
    key, label = "field.merchant.credit_code", "统一社会信用代码"
    wording = rules.checklist_wording
    code = case.merchant.credit_code.strip()
    if not code:
        if profile.credit_code_if_missing == "ignore":
            return None
        required = profile.credit_code_if_missing == "required"
        return ChecklistItem(key, label, required, Status.MISSING,
                             wording.shopper.say("credit_code_missing" if required else "credit_code_suggested"))
    problem = validate_credit_code(code)
    if problem is None:
        return ChecklistItem(key, label, False, Status.PRESENT, wording.shopper.say("credit_code_valid", code=code),
                             statement=wording.recipient.say("credit_code", code=code))
    status = Status.MISSING if profile.credit_code_if_invalid == "missing" else Status.WEAK
    return ChecklistItem(key, label, status is Status.MISSING, status,
                         wording.shopper.say("credit_code_invalid", problem=problem))


def _limitation_item(case: Case, profile: TargetProfile, rules: Rules, now: datetime) -> ChecklistItem:
    years = profile.limitation_years or 0
    wording = rules.checklist_wording
    key, label = "deadline.limitation", f"投诉时效（{years} 年）"
    basis = recipient_basis = ""
    if profile.limitation_basis:
        law_basis = legal_basis(profile.limitation_basis, rules)
        basis = wording.shopper.say("limitation_basis", law=law_basis.law, article=law_basis.article)
        recipient_basis = wording.recipient.say("limitation_basis", law=law_basis.law, article=law_basis.article)
    period = limitation_period(case, years)
    if period is None:
        return ChecklistItem(key, label, False, Status.WEAK, wording.shopper.say("limitation_unknown", years=years))
    start_day, path, last_day = period.start_day, period.start_key, period.last_day
    today = now.astimezone(case.tz).date() if now.tzinfo else now.date()
    if today > last_day:
        return ChecklistItem(key, label, True, Status.MISSING,
                             wording.shopper.say("limitation_expired", start=start_day.isoformat(), start_key=path,
                                                 years=years, target=profile.label, basis=basis))
    return ChecklistItem(key, label, True, Status.PRESENT,
                         wording.shopper.say("limitation_open", start=start_day.isoformat(), start_key=path,
                                             last_day=last_day.isoformat(), basis=basis),
                         statement=wording.recipient.say(
                             "limitation", start=start_day.isoformat(), start_label=wording.start_labels[path],
                             years=years, last_day=last_day.isoformat(), basis=recipient_basis))


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


def _exhibit_issues(exhibit: Exhibit, rules: Rules) -> list[str]:
    """Why this one exhibit does not carry its weight on its own (empty = it does)."""
    say = rules.checklist_wording.shopper.say
    issues = []
    if exhibit.inspection.preview_error:
        issues.append(say("exhibit_no_preview", exhibit=exhibit.label, error=exhibit.inspection.preview_error))
    if exhibit.stamp.source.weak:
        if exhibit.stamp.time is None:
            issues.append(say("exhibit_no_time", exhibit=exhibit.label))
        else:
            issues.append(say("exhibit_mtime_only", exhibit=exhibit.label))
    for finding in exhibit.inspection.findings:
        if finding.code == "chat.one_sided":
            issues.append(say("exhibit_one_sided", exhibit=exhibit.label))
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
    wording = rules.checklist_wording
    say = wording.shopper.say
    purpose = say("purpose", proves=requirement.proves)
    if not exhibits:
        verb = "evidence_missing" if required else "evidence_suggested"
        return ChecklistItem(key, label, required, Status.MISSING,
                             say(verb, label=label, purpose=purpose, folder=requirement.kind.value))
    numbers = tuple(e.number for e in exhibits)
    # The exhibits are in the dossier whatever the applicant still has to add: the recipient's
    # list names them with what they prove.
    statement = wording.recipient.say("evidence", proves=requirement.proves)
    issues = {e.number: _exhibit_issues(e, rules) for e in exhibits}
    sound = [e for e in exhibits if not issues[e.number]]
    declared = [e for e in sound if _declares_claim(e, case, requirement, rules)]
    if sound and (declared or not requirement.must_declare):
        return ChecklistItem(key, label, required, Status.PRESENT,
                             say("evidence_present", exhibits=_numbers(exhibits), purpose=purpose), numbers,
                             statement=statement)
    problems = [text for e in exhibits for text in issues[e.number]]
    if sound and requirement.must_declare:
        problems.append(say("undeclared_claim"))
    return ChecklistItem(key, label, required, Status.WEAK,
                         say("evidence_weak", exhibits=_numbers(exhibits), problems="；".join(problems)), numbers,
                         statement=statement)
