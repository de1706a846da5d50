"""Conditions on a case (``when: {order.confirmed_receipt: true}``) and the advice they guard:
the case.yaml paths a template may name, reading a value at such a path, and matching.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from evidencekit.model import Case
from evidencekit.rules.templatefile import TemplateFile, describe, suggest

Condition = tuple[tuple[str, tuple[object, ...]], ...]  # ((case path, accepted values), ...)


@dataclass(frozen=True)
class Advice:
    text: str
    when: Condition = ()


def parse_condition(doc: TemplateFile, node: object, path: str) -> Condition:
    if node is None:
        return ()
    out = []
    for key, wanted in doc.mapping(node, path, optional=None).items():
        if key not in CASE_PATHS:
            doc.fail(f"{path}.{key}", f"不是 case.yaml 的字段{suggest(key, CASE_PATHS)}")
        values = tuple(wanted) if isinstance(wanted, list) else (wanted,)
        out.append((key, values))
    return tuple(out)


def parse_advice(doc: TemplateFile, node: object, path: str) -> tuple[Advice, ...]:
    if node is None:
        return ()
    if not isinstance(node, list):
        doc.fail(path, f"应为列表，实际是 {describe(node)}")
    out = []
    for i, item in enumerate(node):
        item_path = f"{path}[{i}]"
        if isinstance(item, str) and item.strip():
            out.append(Advice(item.strip()))
            continue
        a = doc.mapping(item, item_path, ("text",), ("when",))
        when = parse_condition(doc, a.get("when"), f"{item_path}.when")
        out.append(Advice(doc.text(a, "text", item_path), when))
    return tuple(out)


def _case_paths() -> frozenset[str]:
    """Every dotted case.yaml path a template may name (``order.amount``, ``claims``, ...)."""
    blank = Case(root=Path("."))
    out = set()
    for f in dataclasses.fields(blank):
        if f.name in ("root", "has_case_file", "tz", "events", "evidence", "retired_numbers"):
            continue
        value = getattr(blank, f.name)
        if dataclasses.is_dataclass(value):
            out |= {f"{f.name}.{sub.name}" for sub in dataclasses.fields(value)}
        else:
            out.add(f.name)
    return frozenset(out)


CASE_PATHS = _case_paths()


def case_value(case: Case, path: str) -> object:
    """The value at a validated dotted path; empty strings read as None."""
    value: object = case
    for part in path.split("."):
        value = getattr(value, part)
    return None if value == "" else value


def filled(value: object) -> bool:
    return value is not None and value != "" and value != ()


def matches(case: Case, when: Condition) -> bool:
    for path, wanted in when:
        value = case_value(case, path)
        if isinstance(value, tuple):
            if not any(v in wanted for v in value):
                return False
        elif value not in wanted:
            return False
    return True
