"""The case facts form: every case.yaml field, read, checked and written as the CLI does.

Which fields there are, in which order and under which Chinese words is data: the keys of
templates/case.yaml.tmpl (the file `init` writes, which lists every case.yaml key) with the
comment the template gives each, and the labels the targets and `init`'s questions give them
(templates/targets.yaml). A field's kind comes from the model (``interview.value_type``), its
choices from the rules API. Values are shown as the user wrote them (a refused value included,
with the loader's words next to it) and written with ``case.edit.set_values``, which keeps every
comment, blank line and quote of the user's file; a change the loader would refuse is not written.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from evidencekit.case.edit import Value, set_values
from evidencekit.case.interview import VOCABULARIES, Proposal, Question, target_questions, value_type
from evidencekit.case.load import (
    CASE_FILE_NAMES,
    case_from_text,
    find_case_file,
    parse_case_yaml,
    read_case_text,
    render_case_template,
    yaml_quote,
)
from evidencekit.errors import CaseFileError, CaseProblem
from evidencekit.rules.catalog import load_rules, resolve_word, target_profile

# Keys of the template that are not facts the shopper types: the format version, and the lists
# the other pages edit (follow-up log, evidence entries).
_NOT_FACTS = ("schema", "events", "evidence")
_MULTILINE = ("problem.details",)
_CLAUSE_END = re.compile(r"[，。：（(；,]")
_PLAIN_NUMBER = re.compile(r"\d{1,12}(?:\.\d{1,2})?")
_PLAIN_WORD = re.compile(r"[a-z][a-z_]*")


@dataclass(frozen=True)
class Field:
    key: str  # dotted case.yaml path: order.amount
    label: str  # Chinese
    note: str  # the template's comment on the key
    kind: str  # text | multiline | time | amount | number | yesno | choice | choices
    choices: tuple[tuple[str, str], ...] = ()  # (key, Chinese label) for choice / choices


@dataclass(frozen=True)
class Section:
    key: str  # "" for the top-level fields
    label: str
    fields: tuple[Field, ...]


@functools.cache
def case_sections() -> tuple[Section, ...]:
    """The form's sections and fields, in the template's order."""
    filled = render_case_template({})
    top = parse_case_yaml(filled, "(case.yaml.tmpl)")
    assert isinstance(top, MappingNode)
    lines = filled.splitlines()
    labels = _rule_labels()
    sections: list[Section] = []
    loose: list[Field] = []
    for key_node, value_node in top.value:
        key = key_node.value
        if key in _NOT_FACTS:
            continue
        if isinstance(value_node, MappingNode):
            fields = tuple(_field(f"{key}.{k.value}", lines, k, labels) for k, _v in value_node.value)
            header = _comment_block_above(lines, key_node.start_mark.line)
            sections.append(Section(key, _first_clause(header[0]) if header else key, fields))
        else:
            loose.append(_field(key, lines, key_node, labels))
    # Top-level fields (platform …) first, claims (a list under its own header) last.
    head = [f for f in loose if f.key != "claims"]
    tail = [f for f in loose if f.key == "claims"]
    return (Section("", "购物平台", tuple(head)), *sections, *(Section(f.key, f.label, (f,)) for f in tail))


def all_fields() -> tuple[Field, ...]:
    return tuple(f for section in case_sections() for f in section.fields)


def _rule_labels() -> dict[str, str]:
    """Labels the targets (and `init`'s questions) give a single case.yaml path."""
    rules = load_rules()
    out: dict[str, str] = {}
    for target in rules.targets:
        for question in target_questions(target_profile(target, rules)):
            if len(question.paths) == 1:
                out.setdefault(question.path, question.label)
    return out


def _field(key: str, lines: Sequence[str], key_node: ScalarNode, labels: Mapping[str, str]) -> Field:
    row = key_node.start_mark.line
    same_line = lines[row].partition("#")[2].strip() if "#" in lines[row] else ""
    above = _comment_lines_above(lines, row)
    note = same_line or " ".join(above)
    label = labels.get(key) or (_first_clause(note) if note else key)
    vocabulary = VOCABULARIES.get(key)
    if vocabulary is not None:
        words = load_rules().words(vocabulary)
        choices = tuple((k, w[0]) for k, w in words.items())
        return Field(key, label, note, "choices" if key == "claims" else "choice", choices)
    if key in _MULTILINE:
        return Field(key, label, note, "multiline")
    if key == "timezone":  # read by the loader into Case.tz, not a field of its own
        return Field(key, label, note, "text")
    kind = value_type(key)
    by_type = {datetime: "time", Decimal: "amount", int: "number", bool: "yesno"}
    return Field(key, label, note, by_type.get(kind, "text") if isinstance(kind, type) else "text")


def _comment_lines_above(lines: Sequence[str], row: int) -> list[str]:
    """The comment lines directly above ``row`` at its indentation (not a section's header)."""
    indent = len(lines[row]) - len(lines[row].lstrip())
    out: list[str] = []
    i = row - 1
    while i >= 0 and lines[i].strip().startswith("#") and not lines[i].strip().startswith("# ---"):
        if len(lines[i]) - len(lines[i].lstrip()) != indent:
            break
        out.insert(0, lines[i].strip().lstrip("#").strip())
        i -= 1
    return out


def _comment_block_above(lines: Sequence[str], row: int) -> list[str]:
    """The text of the ``# ----`` framed header above a section."""
    i = row - 1
    while i >= 0 and lines[i].strip().startswith("# ---"):
        i -= 1
    out: list[str] = []
    while i >= 0 and lines[i].strip().startswith("#") and not lines[i].strip().startswith("# ---"):
        out.insert(0, lines[i].strip().lstrip("#").strip())
        i -= 1
    return out


def _first_clause(text: str) -> str:
    return _CLAUSE_END.split(text, maxsplit=1)[0].strip() or text


# ---------------------------------------------------------------------------------------------
# The values as written, and the loader's problems by field
# ---------------------------------------------------------------------------------------------


@dataclass
class FactsState:
    """What the facts page shows of one case file."""

    values: dict[str, str | tuple[str, ...]] = field(default_factory=dict)  # as written
    problems: dict[str, list[str]] = field(default_factory=dict)  # dotted key (or "") -> messages
    unreadable: str = ""  # the file cannot be parsed at all: the form is not offered


def read_state(root: Path) -> FactsState:
    case_file = find_case_file(root)
    state = FactsState()
    if case_file is None:
        return state
    try:
        text, _codec = read_case_text(case_file, root.resolve())
        top = parse_case_yaml(text, case_file.name)
    except CaseFileError as exc:
        state.unreadable = "；".join(p.render() for p in exc.problems)
        return state
    state.values = written_values(top)
    try:
        case_from_text(root.resolve(), text, case_file.name)
    except CaseFileError as exc:
        state.problems = problems_by_field(exc.problems)
    return state


def written_values(top: Node | None) -> dict[str, str | tuple[str, ...]]:
    """Each field's text as case.yaml holds it (a list's items for claims); missing ones left out."""
    out: dict[str, str | tuple[str, ...]] = {}
    for f in all_fields():
        node: Node | None = top
        for part in f.key.split("."):
            node = _child(node, part)
        if isinstance(node, ScalarNode):
            out[f.key] = "" if node.tag == "tag:yaml.org,2002:null" else node.value
        elif isinstance(node, SequenceNode):
            out[f.key] = tuple(item.value for item in node.value[:100] if isinstance(item, ScalarNode))
    return out


def shown_values(values: Mapping[str, str | tuple[str, ...]]) -> dict[str, str | tuple[str, ...]]:
    """The written values as the form shows them: a platform or claim written in Chinese or as
    an alias (抖音商城) selects its choice; a value no choice names is shown as written."""
    rules = load_rules()
    out = dict(values)
    for f in all_fields():
        vocabulary = VOCABULARIES.get(f.key)
        value = values.get(f.key)
        if vocabulary is None or value is None:
            continue
        if isinstance(value, tuple):
            out[f.key] = tuple(resolve_word(vocabulary, v, rules) or v for v in value)
        elif value.strip():
            out[f.key] = resolve_word(vocabulary, value, rules) or value
    return out


def _child(node: Node | None, key: str) -> Node | None:
    if not isinstance(node, MappingNode):
        return None
    return next((v for k, v in node.value if isinstance(k, ScalarNode) and k.value == key), None)


def problems_by_field(problems: Sequence[CaseProblem]) -> dict[str, list[str]]:
    """The loader's messages under the field they are about: ``claims[1]`` → claims, a section
    that is not a mapping → its section, anything else (evidence, events, syntax) → ""."""
    keys = {f.key for f in all_fields()} | {s.key for s in case_sections()}
    out: dict[str, list[str]] = {}
    for problem in problems:
        path = re.sub(r"\[\d+\]$", "", problem.key_path)
        where = path if path in keys else ""
        message = problem.render() if not where else _without_key(problem)
        out.setdefault(where, []).append(message)
    return out


def _without_key(problem: CaseProblem) -> str:
    """The message shown next to its field (the field names the key already)."""
    rendered = problem.render()
    prefix = (f"第 {problem.line} 行 " if problem.line else "") + f"{problem.key_path}："
    return rendered[len(prefix):] if rendered.startswith(prefix) else rendered


# ---------------------------------------------------------------------------------------------
# Saving
# ---------------------------------------------------------------------------------------------


def yaml_text(f: Field, answer: str | Sequence[str]) -> Value:
    """The YAML text to write for a field's answer (as `init` writes answers)."""
    if f.kind == "choices":
        items = [a for a in answer if a] if not isinstance(answer, str) else [answer] if answer else []
        return tuple(_word(a) for a in dict.fromkeys(items)) if items else ""
    text = answer if isinstance(answer, str) else (answer[0] if answer else "")
    text = text.replace("\r\n", "\n").strip()
    if not text:
        return ""
    if f.kind == "choice":
        return _word(text)
    if f.kind == "yesno":
        return {"是": "true", "否": "false"}.get(text, yaml_quote(text))
    if f.kind in ("amount", "number") and _PLAIN_NUMBER.fullmatch(text):
        return text
    return yaml_quote(text)


def _word(key: str) -> str:
    return key if _PLAIN_WORD.fullmatch(key) else yaml_quote(key)


def _same(f: Field, written: str | tuple[str, ...] | None, answer: str | Sequence[str]) -> bool:
    """Whether the answer is what case.yaml already says (then its text is left alone)."""
    rules = load_rules()
    vocabulary = VOCABULARIES.get(f.key)
    if f.kind == "choices":
        before = written if isinstance(written, tuple) else ((written,) if written else ())
        keys = [resolve_word(vocabulary, w, rules) or w for w in before] if vocabulary else list(before)
        return list(dict.fromkeys(keys)) == list(dict.fromkeys(a for a in answer if a))
    text = (answer if isinstance(answer, str) else (answer[0] if answer else "")).replace("\r\n", "\n").strip()
    before_text = written.strip() if isinstance(written, str) else ""
    if f.kind == "choice" and vocabulary is not None and before_text:
        return (resolve_word(vocabulary, before_text, rules) or before_text) == text
    if f.kind == "yesno" and before_text:
        return {"是": "true", "否": "false"}.get(text, text) == before_text.lower()
    return before_text == text


@dataclass(frozen=True)
class SaveResult:
    written: tuple[str, ...]  # dotted keys changed
    problems: dict[str, list[str]]  # empty when saved


def save_facts(root: Path, answers: Mapping[str, str | Sequence[str]],
               proposals: Mapping[str, Proposal] | None = None) -> SaveResult:
    """Write the answers that differ from case.yaml, if the result loads; otherwise nothing.

    A problem on a form field, or one the case file did not have before, refuses the whole
    save; problems already there elsewhere (an evidence entry) do not block a fact edit.
    An answer equal to an OCR proposal gets the note `init` writes (由证据3截图识别，请核对).
    """
    case_file = find_case_file(root) or root / CASE_FILE_NAMES[0]
    resolved = root.resolve()
    before = read_state(root)
    if before.unreadable:
        return SaveResult((), {"": [before.unreadable]})
    changes: dict[str, Value] = {}
    notes: dict[str, str] = {}
    for f in all_fields():
        if f.key not in answers:
            continue
        answer = answers[f.key]
        if _same(f, before.values.get(f.key), answer):
            continue
        changes[f.key] = yaml_text(f, answer)
        proposal = (proposals or {}).get(f.key)
        if proposal is not None and proposal.source and isinstance(answer, str) and answer.strip() == proposal.value:
            notes[f.key] = f"由{proposal.source}识别，请核对"
    if not changes:
        return SaveResult((), {})
    old = {(p_key, m) for p_key, ms in before.problems.items() for m in ms if p_key == ""}

    def check(text: str) -> None:
        try:
            case_from_text(resolved, text, case_file.name)
        except CaseFileError as exc:
            found = problems_by_field(exc.problems)
            blocking = {k: v for k, v in found.items() if k or any(("", m) not in old for m in v)}
            if blocking:
                raise _Refused(found) from None

    try:
        # A zero-config case (evidence/ only) gets `init`'s commented template around its first values.
        set_values(case_file, changes, notes=notes, check=check, new_text=render_case_template({}))
    except _Refused as refused:
        return SaveResult((), refused.problems)
    except CaseFileError as exc:
        return SaveResult((), problems_by_field(exc.problems))
    return SaveResult(tuple(changes), {})


class _Refused(Exception):
    """The edited text has problems: raised from inside set_values so nothing is written."""

    def __init__(self, problems: dict[str, list[str]]) -> None:
        super().__init__("refused")
        self.problems = problems


def question_for(key: str) -> Question | None:
    """`init`'s question for a path (its check decides whether an OCR proposal is offered)."""
    rules = load_rules()
    for target in rules.targets:
        for question in target_questions(target_profile(target, rules)):
            if question.path == key:
                return question
    return None
