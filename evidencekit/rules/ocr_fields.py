"""Facts read from a screenshot's text boxes (templates/ocr_fields.yaml): order number, amount, times, shop...

An OCR engine (media.ocr) turns a screenshot into :class:`TextBox` es; :func:`extract_facts`
finds the facts in them by the labels and patterns of the template, and every
:class:`ReadFact` keeps the box its value was read from. Pure data handling: no engine, no
image, so the extraction is tested on box lists alone.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from evidencekit.model import EvidenceKind
from evidencekit.rules.ruleset import templates_folder
from evidencekit.rules.templatefile import TemplateFile, read_template, suggest, top_level

OCR_FIELDS_FILE = "ocr_fields.yaml"
KINDS = ("code", "amount", "time", "text")
_TIME_GROUPS = ("Y", "m", "d", "H", "M")
# A value is looked for this many label heights below the label's box, at most.
_BELOW_LINES = 2.5
# Spaces OCR puts into (or between the characters of) a code.
_SPACES = re.compile(r"\s+")
# What separates a label from its value in one box: colons, spaces and the like.
_SEPARATORS = " \t:：;；,，、"


@dataclass(frozen=True)
class TextBox:
    """One box of text as the engine read it; ``box`` is its four corners in the original's pixels
    (clockwise from the top left, as the engine gives them)."""

    text: str
    box: tuple[tuple[int, int], ...]
    score: float

    @property
    def left(self) -> int:
        return min(x for x, _ in self.box)

    @property
    def right(self) -> int:
        return max(x for x, _ in self.box)

    @property
    def top(self) -> int:
        return min(y for _, y in self.box)

    @property
    def bottom(self) -> int:
        return max(y for _, y in self.box)

    @property
    def height(self) -> int:
        return max(1, self.bottom - self.top)

    @property
    def middle(self) -> float:
        return (self.top + self.bottom) / 2


@dataclass(frozen=True)
class FieldRule:
    key: str
    name: str
    kind: str
    labels: tuple[str, ...]
    value: re.Pattern[str] | None
    alone: re.Pattern[str] | None
    follows: str | None


@dataclass(frozen=True)
class ScreenRules:
    """Which screenshots are read, and how the status bar's clock is found (``screens:``)."""

    kinds: tuple[EvidenceKind, ...]
    clock: re.Pattern[str]  # a whole box holding the clock, groups H and M
    clock_band: float  # the clock's box ends within this share of the image's height, from the top
    tolerance_minutes: int  # clock and file-name time further apart than this are a finding


@dataclass(frozen=True)
class OcrFieldRules:
    fields: tuple[FieldRule, ...]  # in file order
    time: re.Pattern[str]
    amount: re.Pattern[str]
    screens: ScreenRules


@dataclass(frozen=True)
class ReadFact:
    """One fact read from a screenshot: ``value`` normalised (a time as ``2024-11-16 10:02:31``,
    an amount as ``1299.00``, a code without spaces), with the box it was read from."""

    field: str  # key in ocr_fields.yaml: order_number, amount, order_time, ...
    name: str  # its Chinese name: 订单编号, 实付金额, ...
    value: str
    box: TextBox


@functools.cache
def load_ocr_fields() -> OcrFieldRules:
    """templates/ocr_fields.yaml (or the one in ``$EVIDENCEKIT_TEMPLATES``), parsed once per process."""
    return load_ocr_fields_from(templates_folder())


def load_ocr_fields_from(folder: Traversable | Path) -> OcrFieldRules:
    return parse_ocr_fields(read_template(folder, OCR_FIELDS_FILE))


def parse_ocr_fields(doc: TemplateFile) -> OcrFieldRules:
    top = top_level(doc, required=("patterns", "fields", "screens"))
    patterns = doc.mapping(top["patterns"], "patterns", required=("time", "amount"))
    time = _regex(doc, doc.text(patterns, "time", "patterns"), "patterns.time")
    _require_groups(doc, time, _TIME_GROUPS, "patterns.time")
    amount = _regex(doc, doc.text(patterns, "amount", "patterns"), "patterns.amount")
    _require_groups(doc, amount, ("yuan",), "patterns.amount")
    fields = []
    for key, node in doc.mapping(top["fields"], "fields", optional=None).items():
        path = f"fields.{key}"
        m = doc.mapping(node, path, required=("name", "kind", "labels"),
                        optional=("value", "alone", "follows"))
        kind = doc.text(m, "kind", path)
        if kind not in KINDS:
            doc.fail(f"{path}.kind", f"应为 {'、'.join(KINDS)} 之一，实际是 {kind}{suggest(kind, KINDS)}")
        value = _regex(doc, doc.text(m, "value", path), f"{path}.value") if m.get("value") is not None else None
        alone = _regex(doc, doc.text(m, "alone", path), f"{path}.alone") if m.get("alone") is not None else None
        if alone is not None:
            _require_groups(doc, alone, ("value",), f"{path}.alone")
        follows = doc.text(m, "follows", path) if m.get("follows") is not None else None
        fields.append(FieldRule(key=key, name=doc.text(m, "name", path), kind=kind,
                                labels=_labels(doc, m, path), value=value, alone=alone,
                                follows=follows))
    keys = [f.key for f in fields]
    for rule in fields:
        if rule.follows is not None and (rule.follows not in keys or rule.follows == rule.key):
            doc.fail(f"fields.{rule.key}.follows",
                     f"应为 fields 下另一项的键名，实际是 {rule.follows}{suggest(rule.follows, keys)}")
    return OcrFieldRules(fields=tuple(fields), time=time, amount=amount, screens=_screens(doc, top["screens"]))


def _screens(doc: TemplateFile, node: object) -> ScreenRules:
    m = doc.mapping(node, "screens", required=("kinds", "clock", "clock_band", "tolerance_minutes"))
    kinds = []
    for key in doc.str_list(m, "kinds", "screens"):
        if key not in EvidenceKind.__members__.values():
            usable = tuple(k.value for k in EvidenceKind)
            doc.fail("screens.kinds", f"应为证据类别的键名，实际是 {key}{suggest(key, usable)}")
        kinds.append(EvidenceKind(key))
    clock = _regex(doc, doc.text(m, "clock", "screens"), "screens.clock")
    _require_groups(doc, clock, ("H", "M"), "screens.clock")
    band = doc.number(m, "clock_band", "screens")
    if band is None or not 0 < band <= 1:
        doc.fail("screens.clock_band", f"应为 0 到 1 之间的比例，实际是 {band}")
    minutes = doc.count(m, "tolerance_minutes", "screens")
    if minutes is None:
        doc.fail("screens.tolerance_minutes", "应写分钟数，例如 5")
    return ScreenRules(tuple(kinds), clock, float(band), minutes)


def _labels(doc: TemplateFile, m: dict[str, Any], path: str) -> tuple[str, ...]:
    labels = doc.str_list(m, "labels", path)
    if not labels:
        doc.fail(f"{path}.labels", "至少写一个标签，例如 [订单编号]")
    return labels


def _regex(doc: TemplateFile, pattern: str, path: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as exc:
        doc.fail(path, f"正则表达式有误（{exc}）")


def _require_groups(doc: TemplateFile, pattern: re.Pattern[str], groups: Sequence[str], path: str) -> None:
    missing = [g for g in groups if g not in pattern.groupindex]
    if missing:
        doc.fail(path, f"缺少命名分组 {'、'.join(f'(?P<{g}>…)' for g in missing)}")


# ---------------------------------------------------------------------------------------------
# Extraction
# ---------------------------------------------------------------------------------------------


def extract_facts(boxes: Sequence[TextBox], rules: OcrFieldRules) -> tuple[ReadFact, ...]:
    """The facts found in ``boxes``, at most one per field (the first in reading order), in the
    template's field order."""
    ordered = sorted(boxes, key=lambda b: (b.top, b.left))
    found: dict[str, ReadFact] = {}
    for rule in rules.fields:
        if rule.follows is None:
            fact = _labelled(rule, ordered, rules) or _alone(rule, ordered)
        else:
            fact = _labelled(rule, ordered, rules)
        if fact is not None:
            found[rule.key] = fact
    for rule in rules.fields:
        if rule.key not in found and rule.follows is not None and rule.follows in found:
            fact = _following(rule, found[rule.follows].box, ordered, rules)
            if fact is not None:
                found[rule.key] = fact
    return tuple(found[rule.key] for rule in rules.fields if rule.key in found)


def _labelled(rule: FieldRule, boxes: Sequence[TextBox], rules: OcrFieldRules) -> ReadFact | None:
    for label in rule.labels:
        for box in boxes:
            at = box.text.find(label)
            if at < 0:
                continue
            rest = box.text[at + len(label):].lstrip(_SEPARATORS)
            value = _value(rule, rest, rules)
            if value is not None:
                return ReadFact(rule.key, rule.name, value, box)
            for neighbour in (*_right_of(box, boxes), *_below(box, boxes)):
                value = _value(rule, neighbour.text.lstrip(_SEPARATORS), rules)
                if value is not None:
                    return ReadFact(rule.key, rule.name, value, neighbour)
    return None


def _alone(rule: FieldRule, boxes: Sequence[TextBox]) -> ReadFact | None:
    if rule.alone is None:
        return None
    for box in boxes:
        m = rule.alone.fullmatch(box.text.strip())
        if m is not None and m.group("value"):
            return ReadFact(rule.key, rule.name, m.group("value"), box)
    return None


def _following(rule: FieldRule, anchor: TextBox, boxes: Sequence[TextBox],
               rules: OcrFieldRules) -> ReadFact | None:
    later = [b for b in boxes if (b.top, b.left) > (anchor.top, anchor.left) and b is not anchor]
    if not later:
        return None
    value = _value(rule, later[0].text.strip(), rules)
    return ReadFact(rule.key, rule.name, value, later[0]) if value is not None else None


def _right_of(label: TextBox, boxes: Sequence[TextBox]) -> list[TextBox]:
    """Boxes on the label's line, to its right, nearest first."""
    row = [b for b in boxes if b is not label and b.left >= label.right - label.height
           and abs(b.middle - label.middle) <= label.height / 2]
    return sorted(row, key=lambda b: b.left)


def _below(label: TextBox, boxes: Sequence[TextBox]) -> list[TextBox]:
    """Boxes just below the label that overlap its column, nearest first."""
    under = [b for b in boxes if b is not label and b.top >= label.middle
             and b.top - label.bottom <= label.height * _BELOW_LINES
             and b.left < label.right and b.right > label.left]
    return sorted(under, key=lambda b: b.top)


def _value(rule: FieldRule, text: str, rules: OcrFieldRules) -> str | None:
    if not text:
        return None
    if rule.kind == "time":
        return _time(text, rules.time)
    if rule.kind == "amount":
        return _amount(text, rules.amount)
    if rule.kind == "code":
        text = _SPACES.sub("", text)
    if rule.value is None:
        return text.strip() or None
    m = rule.value.match(text)
    if m is None:
        return None
    if rule.kind == "code" and m.end() < len(text) and text[m.end()].isalnum():
        return None  # a longer code than the pattern allows is not this one
    return m.group(0).strip() or None


def _time(text: str, pattern: re.Pattern[str]) -> str | None:
    for m in pattern.finditer(text):
        parts = {g: int(m.group(g)) for g in _TIME_GROUPS}
        seconds = m.group("S") if "S" in pattern.groupindex else None
        try:
            moment = datetime(parts["Y"], parts["m"], parts["d"], parts["H"], parts["M"],
                              int(seconds) if seconds else 0)
        except ValueError:
            continue  # digits that only look like a time
        return moment.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")
    return None


def _amount(text: str, pattern: re.Pattern[str]) -> str | None:
    m = pattern.search(text)
    if m is None:
        return None
    yuan = m.group("yuan").replace(",", "")
    fen = (m.group("fen") if "fen" in pattern.groupindex else None) or ""
    return f"{int(yuan)}.{fen.ljust(2, '0')}"

