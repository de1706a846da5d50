"""templates/checklist_wording.yaml: what the checklist says of each item, in two wordings.

``recipient`` is the 证据清单 of the dossier that goes to the merchant, platform or 12315: facts
only, no case.yaml keys or evidence folders. ``shopper`` is the applicant's own check: what is
missing or weak, which key to fill in, which folder a file goes into. Every sentence's
placeholders are checked when the file is read, so a typo fails at load, not while rendering.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass

from evidencekit.rules.templatefile import TemplateFile, top_level

RECIPIENT_FIELDS: dict[str, frozenset[str]] = {
    "problem_type": frozenset({"label"}),
    "field": frozenset({"value"}),
    "credit_code": frozenset({"code"}),
    "limitation": frozenset({"start", "start_label", "last_day", "years", "basis"}),
    "limitation_basis": frozenset({"law", "article"}),
    "evidence": frozenset({"proves"}),
}
START_KEYS = ("problem.discovered_at", "order.time")  # rules/amounts.limitation_period's start keys
SHOPPER_FIELDS: dict[str, frozenset[str]] = {
    "case_file_missing": frozenset(),
    "problem_type_present": frozenset({"label", "urgency"}),
    "problem_type_unknown": frozenset({"value"}),
    "problem_type_missing": frozenset(),
    "problem_type_fallback": frozenset({"reason", "generic", "choices"}),
    "field_present": frozenset({"paths"}),
    "field_missing": frozenset({"label", "paths"}),
    "field_suggested": frozenset({"label", "paths"}),
    "field_why": frozenset({"reason", "why"}),
    "credit_code_missing": frozenset(),
    "credit_code_suggested": frozenset(),
    "credit_code_valid": frozenset({"code"}),
    "credit_code_invalid": frozenset({"problem"}),
    "limitation_unknown": frozenset({"years"}),
    "limitation_expired": frozenset({"start", "start_key", "years", "target", "basis"}),
    "limitation_open": frozenset({"start", "start_key", "last_day", "basis"}),
    "limitation_basis": frozenset({"law", "article"}),
    "purpose": frozenset({"proves"}),
    "evidence_missing": frozenset({"label", "purpose", "folder"}),
    "evidence_suggested": frozenset({"label", "purpose", "folder"}),
    "evidence_present": frozenset({"exhibits", "purpose"}),
    "evidence_weak": frozenset({"exhibits", "problems"}),
    "exhibit_no_preview": frozenset({"exhibit", "error"}),
    "exhibit_no_time": frozenset({"exhibit"}),
    "exhibit_mtime_only": frozenset({"exhibit"}),
    "exhibit_one_sided": frozenset({"exhibit"}),
    "undeclared_claim": frozenset(),
}


@dataclass(frozen=True)
class Wording:
    """One reader's sentences, keyed as in the template; ``say(key, **values)`` fills one in."""

    sentences: Mapping[str, str]

    def say(self, key: str, **values: object) -> str:
        return self.sentences[key].format(**values)


@dataclass(frozen=True)
class ChecklistWording:
    recipient: Wording
    start_labels: Mapping[str, str]  # problem.discovered_at -> 发现问题之日
    shopper: Wording


def _sentences(doc: TemplateFile, node: object, path: str, fields: Mapping[str, frozenset[str]],
               extra: tuple[str, ...] = ()) -> dict[str, str]:
    m = doc.mapping(node, path, required=tuple(fields), optional=extra)
    out: dict[str, str] = {}
    for key, allowed in fields.items():
        text = doc.text(m, key, path)
        try:
            used = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
        except ValueError as exc:
            doc.fail(f"{path}.{key}", f"花括号不成对：{exc}")
        unknown = used - allowed
        if unknown:
            usable = "、".join(f"{{{n}}}" for n in sorted(allowed)) or "无"
            doc.fail(f"{path}.{key}", f"未知的占位符 {'、'.join(sorted(unknown))}（可用的：{usable}）")
        out[key] = text
    return out


def parse_checklist_wording(doc: TemplateFile) -> ChecklistWording:
    """Read and validate checklist_wording.yaml."""
    top = top_level(doc, ("recipient", "shopper"))
    recipient = _sentences(doc, top["recipient"], "recipient", RECIPIENT_FIELDS, extra=("start_labels",))
    raw = doc.mapping(top["recipient"], "recipient", optional=None)
    labels_node = doc.mapping(raw.get("start_labels"), "recipient.start_labels", required=START_KEYS)
    labels = {key: doc.text(labels_node, key, "recipient.start_labels") for key in START_KEYS}
    shopper = _sentences(doc, top["shopper"], "shopper", SHOPPER_FIELDS)
    return ChecklistWording(Wording(recipient), labels, Wording(shopper))
