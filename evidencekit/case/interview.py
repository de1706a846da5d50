"""`init`'s questions: what a target needs that case.yaml does not have yet, asked one at a time.

Which facts a target needs is data: the target's ``fields`` in templates/targets.yaml (their
``when`` conditions included), the checklist's problem type, the target's ``credit_code`` rule and
its limitation period. Each answer is checked with the case loader's own parsing functions
(``parse_amount``, ``parse_time_answer``, ``resolve_word``), so what `init` accepts the loader
accepts, and it is written into case.yaml as text by :func:`evidencekit.case.edit.set_values`,
keeping the user's comments. This module asks nothing itself: the caller's ``ask`` does.
"""

from __future__ import annotations

import dataclasses
import re
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from evidencekit.case.edit import Value, case_zone, format_time, set_values
from evidencekit.case.load import (
    CASE_FILE_NAMES,
    find_case_file,
    load_case,
    parse_amount,
    parse_time_answer,
    yaml_quote,
)
from evidencekit.errors import CaseFileError
from evidencekit.model import SHANGHAI, Case
from evidencekit.rules.catalog import (
    Condition,
    TargetProfile,
    Vocabulary,
    case_value,
    limitation_period,
    load_rules,
    matches,
    resolve_word,
    target_profile,
    validate_credit_code,
)

if TYPE_CHECKING:
    from evidencekit.buildtypes import Assessment

# The order questions come in, by case.yaml path: where the shopper bought, what went wrong,
# the order, the merchant, the shopper, what happened, what they want. Within a section the
# target's own order is kept.
_SECTION_ORDER = ("platform", "platform_name", "problem.type", "order", "merchant", "complainant", "livestream", "problem", "claims")

# Paths whose value is one word of a vocabulary in templates/ (as the case loader reads them).
VOCABULARIES: dict[str, Vocabulary] = {"platform": "platform", "problem.type": "problem_type", "claims": "claim"}

_SEPARATORS = re.compile(r"[\s,，、;；/]+")


@dataclass(frozen=True)
class Proposal:
    """A value offered as the default answer, and where it was read (e.g. 证据3)."""

    value: str
    source: str = ""


def screenshot_proposals(assessment: Assessment) -> dict[str, Proposal]:
    """What OCR read off the case's screenshots (``readfacts.proposals_from``), by case.yaml path,
    each naming the screenshot's exhibit: `init --from` offers them as answers, the page as fills."""
    from evidencekit.readfacts import proposals_from

    return {path: Proposal(value, f"证据{number}截图") for path, (value, number) in proposals_from(assessment).items()}


@dataclass(frozen=True)
class Question:
    key: str  # the checklist's name for the fact (merchant.name)
    paths: tuple[str, ...]  # any one filled answers it; the answer is written to the first
    label: str
    required: bool = True
    why: str = ""
    when: Condition = ()
    current: str = ""  # the value case.yaml holds, when the loader refused it
    problem: str = ""  # the loader's words for that value
    tz: tzinfo = SHANGHAI  # the case's zone, for times written without one

    @property
    def path(self) -> str:
        return self.paths[0]

    @property
    def vocabulary(self) -> Vocabulary | None:
        return VOCABULARIES.get(self.path)

    @property
    def many(self) -> bool:
        return self.path == "claims"

    def choices(self) -> tuple[str, ...]:
        """The Chinese labels of the allowed words (empty for a free answer)."""
        if self.vocabulary is None:
            return ()
        return tuple(words[0] for words in load_rules().words(self.vocabulary).values())

    def parse(self, text: str) -> Value:
        """The YAML text to write for ``text``; ValueError with args (problem, expected) — the case
        loader's words — when the loader would refuse it."""
        text = text.strip()
        kind = value_type(self.path)
        if self.vocabulary is not None:
            words = [w for w in _SEPARATORS.split(text) if w] if self.many else [text]
            keys = [self._word(w) for w in words]
            return tuple(dict.fromkeys(keys)) if self.many else keys[0]
        if kind is Decimal:
            return yaml_quote(str(parse_amount(text)))
        if kind is datetime:
            return yaml_quote(format_time(parse_time_answer(text, self.tz), self.tz))
        if self.path == "merchant.credit_code":
            problem = validate_credit_code(text)
            if problem is not None:
                raise ValueError(problem, "营业执照上的 18 位统一社会信用代码")
        return yaml_quote(text)

    def _word(self, word: str) -> str:
        assert self.vocabulary is not None
        key = resolve_word(self.vocabulary, word, load_rules())
        if key is None:
            raise ValueError(f"“{word}”不是可用的取值", "可选：" + "、".join(self.choices()))
        return key if re.fullmatch(r"[a-z][a-z_]*", key) else yaml_quote(key)


@dataclass
class Interview:
    """What one interview did."""

    written: list[str] = field(default_factory=list)  # case.yaml paths, in answering order
    skipped: list[Question] = field(default_factory=list)  # left empty by the shopper
    proposed: list[str] = field(default_factory=list)  # paths written as proposed (with a comment)
    ended: bool = False  # the input ended before the last question


Ask = Callable[[Question, Proposal | None], str | None]  # the accepted answer; "" skips; None: input ended


def interview(root: Path, ask: Ask, *, target: str | None = None,
              proposals: Mapping[str, Proposal] | None = None) -> Interview:
    """Ask, one at a time, what ``target`` needs that the case in ``root`` lacks or holds in a form
    the loader refuses, writing each answer into case.yaml before the next question (an answer
    can make another question necessary: platform 其他 asks the platform's name).

    ``proposals`` (by case.yaml path) are offered as default answers, those the loader would
    refuse are not; an answer equal to a proposal with a ``source`` is written with a trailing
    comment saying where it was read and that it should be checked. ``ask`` returns an answer
    that :meth:`Question.parse` accepts, "" to leave it empty, None when the input has ended.
    Raises :class:`CaseFileError` for problems in case.yaml that no question can fix.
    """
    case_file = find_case_file(root) or root / CASE_FILE_NAMES[0]
    done = Interview()
    asked: set[str] = set()
    while True:
        question = next((q for q in pending_questions(root, target) if q.key not in asked), None)
        if question is None:
            return done
        asked.add(question.key)
        proposal = _acceptable((proposals or {}).get(question.path), question)
        answer = ask(question, proposal)
        if answer is None:
            done.ended = True
            return done
        if not answer.strip():
            done.skipped.append(question)
            continue
        value = question.parse(answer)
        notes = {}
        if proposal is not None and proposal.source and value == question.parse(proposal.value):
            notes[question.path] = f"由{proposal.source}识别，请核对"
            done.proposed.append(question.path)
        set_values(case_file, {question.path: value}, notes=notes)
        done.written.append(question.path)


def _acceptable(proposal: Proposal | None, question: Question) -> Proposal | None:
    """``proposal`` when the case loader would take its value for ``question``, else None."""
    if proposal is None:
        return None
    try:
        question.parse(proposal.value)
    except ValueError:
        return None
    return proposal


def pending_questions(root: Path, target: str | None = None) -> list[Question]:
    """The questions whose facts the case in ``root`` lacks or holds in a refused form, in asking order.

    Raises :class:`CaseFileError` when case.yaml has problems that no question can fix.
    """
    every = target_questions(target_profile(target, load_rules()))
    try:
        case = load_case(root)
    except CaseFileError as exc:
        # Its timezone is usable, or it would be a problem no question fixes.
        zone = case_zone(find_case_file(root) or root / CASE_FILE_NAMES[0]) or SHANGHAI
        refused: dict[str, Question] = {}
        for problem in exc.problems:
            path = re.sub(r"\[\d+\]$", "", problem.key_path)
            question = next((q for q in every if path in q.paths), None)
            if question is None:
                raise
            words = problem.message + (f"；应为：{problem.expected}" if problem.expected else "")
            refused.setdefault(question.key, dataclasses.replace(question, current=problem.value or "",
                                                                 problem=words, tz=zone))
        return [refused[q.key] for q in every if q.key in refused]
    out = []
    for question in every:
        question = dataclasses.replace(question, tz=case.tz)
        if not matches(case, question.when):
            continue
        values = [case_value(case, path) for path in question.paths]
        if question.path == "merchant.credit_code" and values[0]:
            refusal = validate_credit_code(str(values[0]))
            if refusal is not None:
                out.append(dataclasses.replace(question, current=str(values[0]), problem=refusal))
            continue
        if question.path == "problem.discovered_at":
            profile = target_profile(target, load_rules())
            if limitation_period(case, profile.limitation_years or 0) is None:
                out.append(question)
            continue
        if not any(v is not None and v != "" and v != () for v in values):
            out.append(question)
    return out


def target_questions(profile: TargetProfile) -> list[Question]:
    """Every question ``profile`` can ask, in asking order (conditions not yet applied)."""
    # The checklist always needs a problem type: it decides which evidence is required.
    questions = [Question("problem.type", ("problem.type",), "问题类型", why="决定需要哪些证据")]
    questions += [Question(rule.key, rule.paths, rule.label, rule.required, rule.why, rule.when)
                  for rule in profile.fields]
    if profile.credit_code_if_missing != "ignore":
        questions.append(Question("merchant.credit_code", ("merchant.credit_code",), "统一社会信用代码",
                                  profile.credit_code_if_missing == "required",
                                  "营业执照上的 18 位代码，便于准确找到被投诉人"))
    if profile.limitation_years:
        questions.append(Question("problem.discovered_at", ("problem.discovered_at",), "发现问题的时间", False,
                                  f"用于计算 {profile.limitation_years} 年的投诉时效"))
    return sorted(questions, key=lambda q: _rank(q.path))


def _rank(path: str) -> int:
    for i, section in enumerate(_SECTION_ORDER):
        if path == section or path.startswith(section + "."):
            return i
    return len(_SECTION_ORDER)


def value_type(path: str) -> object:
    """The type the case loader reads at ``path`` (datetime, Decimal, str …), from the model."""
    parts = path.split(".")
    cls: object = Case
    for part in parts:
        hints = typing.get_type_hints(cls)
        kind = hints[part]
        args = [a for a in typing.get_args(kind) if a is not type(None)]
        cls = args[0] if args else kind
    return cls
