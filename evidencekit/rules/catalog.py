"""Domain rules read from templates/: which evidence each problem needs, what each channel demands.

Everything a consumer-association volunteer might want to correct (problem types, evidence kinds,
per-channel limits, wording, legal bases) lives in YAML under templates/; this module only reads,
validates and applies it. The YAML is validated once at load, cross-file references included, so
a typo made while editing fails loudly with the file and key path instead of producing a silently
wrong checklist.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import os
import re
import string
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, NoReturn

import yaml

from evidencekit.errors import TemplateError, UnknownTargetError
from evidencekit.model import (
    Case,
    ChecklistItem,
    EvidenceKind,
    Exhibit,
    LegalBasis,
    RecordingInspection,
    Status,
    StatutoryAmount,
)
from evidencekit.rules.creditcode import validate_credit_code
from evidencekit.rules.filename_times import FilenameTimes, parse_filename_times
from evidencekit.rules.time_sources import TimeSources, parse_time_sources

# Section names the PDF renderer knows (pdf/render.py); a target may reorder or omit them.
SECTIONS = ("cover", "summary", "checklist", "index", "timeline", "exhibits", "appendix")
# 民事诉讼法 第六十六条: the only words allowed in the 证据种类 column.
EVIDENCE_TYPES = ("当事人的陈述", "书证", "物证", "视听资料", "电子数据", "证人证言", "鉴定意见", "勘验笔录")
# Values a letter field may draw on besides case.yaml paths; the `letter` command fills them in.
COMPUTED_SOURCES = frozenset({
    "merchant_name", "platform_name", "dispute_time", "problem_label", "complaint", "claims",
    "order_summary", "complainant_summary", "legal_bases", "amounts", "evidence_list", "subject",
    "reply_deadline",
})
# fields: one text per form field; message: one letter (the first field is the subject)
LETTER_FORMS = ("fields", "message")
DEADLINE_STARTS = frozenset({"submitted", "accepted", "refused", "signed", "discovered"})
TITLE_PLACEHOLDERS = frozenset({"platform", "product", "merchant", "complainant", "order_number", "target"})
EXHIBIT_TITLE_PLACEHOLDERS = frozenset({"label", "n", "file", "stem", "product"})
LAW_KINDS = frozenset({"statute", "regulation", "interpretation", "platform_rule"})
# Only these bind according to when the purchase happened; court interpretations and platform rules
# apply to disputes handled after they take effect.
_DATED_LAW_KINDS = frozenset({"statute", "regulation"})
# Closed vocabularies the code acts on (case/followup.py gives each step its own window); followup.yaml
# must name each one, and holds their wording and order.
EVENT_CHANNEL_KEYS = ("seller", "platform", "12315", "payment", "other")
LADDER_STEPS = frozenset({"seller", "platform", "12315", "payment", "court"})
_TEMPLATE_HINT = (
    "这是随程序安装的模板文件，可能在编辑时改坏了：请对照 templates/README.md 改正，或从代码仓库恢复原文件。"
)
_CENT = Decimal("0.01")


# ---------------------------------------------------------------------------------------------
# The rules, as frozen data
# ---------------------------------------------------------------------------------------------

Condition = tuple[tuple[str, tuple[object, ...]], ...]  # ((case path, accepted values), ...)


@dataclass(frozen=True)
class Advice:
    text: str
    when: Condition = ()


@dataclass(frozen=True)
class EvidenceKindRule:
    kind: EvidenceKind
    label: str
    folders: tuple[str, ...]
    title: str  # pattern, placeholders EXHIBIT_TITLE_PLACEHOLDERS
    proves: str
    source: str  # 证据来源
    evidence_type: str  # 证据种类


@dataclass(frozen=True)
class Requirement:
    kind: EvidenceKind
    label: str
    proves: str
    must_declare: bool = False  # the file alone is not enough: say which claim it shows


@dataclass(frozen=True)
class Urgency:
    key: str
    label: str
    hours: int | None
    advice: str


@dataclass(frozen=True)
class ProblemType:
    key: str
    label: str
    urgency: str
    required: tuple[Requirement, ...]
    supporting: tuple[Requirement, ...]
    legal: tuple[str, ...]
    punitive: str  # key into Rules.punitive; "" = use Rules.default_punitive
    advice: Mapping[str, tuple[Advice, ...]]  # "all" or a platform key


@dataclass(frozen=True)
class Claim:
    key: str
    label: str
    form_12315: str
    aliases: tuple[str, ...] = ()  # other words case.yaml may use (退一赔三)


@dataclass(frozen=True)
class Channel:
    name: str
    path: str
    response: str


@dataclass(frozen=True)
class PlatformTiming:
    seller_reply_hours: int  # timeline flags a seller reply as overdue after this
    platform_reply_hours: int | None
    typical_seller: str
    typical_platform: str
    typical_refund: str
    confirmed: bool
    source: str


@dataclass(frozen=True)
class Platform:
    key: str
    label: str  # short name used in titles and text: 抖音 / 淘宝 / 快手 / 电商
    full_name: str
    apps: tuple[str, ...]
    channels: tuple[Channel, ...]
    timing: PlatformTiming
    intervention: str
    intervention_confirmed: bool
    intervention_source: str
    advice: tuple[Advice, ...]
    legal_by_type: Mapping[str, tuple[str, ...]]
    aliases: tuple[str, ...] = ()  # other words case.yaml may use besides key and label (天猫)

    @property
    def seller_reply_hours(self) -> int:
        """After this many hours without a seller reply the timeline flags it as overdue."""
        return self.timing.seller_reply_hours


@dataclass(frozen=True)
class FieldRule:
    key: str
    label: str
    paths: tuple[str, ...]  # any one filled satisfies the rule
    required: bool = True
    why: str = ""
    when: Condition = ()


@dataclass(frozen=True)
class AttachmentRules:
    max_files: int | None
    max_file_bytes: int | None
    max_total_bytes: int | None
    formats: tuple[str, ...]  # lower-case extensions without the dot; () = any
    note: str
    confirmed: bool
    source: str


@dataclass(frozen=True)
class LetterField:
    name: str
    source: str  # a case path or one of COMPUTED_SOURCES
    limit: int | None = None
    required: bool = True
    confirmed: bool = True
    source_note: str = ""


@dataclass(frozen=True)
class Deadline:
    key: str
    label: str
    start: str  # one of DEADLINE_STARTS
    days: int | None
    hours: int | None
    working_days: bool
    basis: str  # article key, or "" when the number comes from `source`
    confirmed: bool
    source: str
    note: str


@dataclass(frozen=True)
class PackWording:
    """How `pack` names the parts of a channel's package, and which exhibits get upload slots first."""

    upload_heading: str
    text_heading: str
    text_note: str
    key_evidence: tuple[EvidenceKind, ...]  # every kind, most important first


@dataclass(frozen=True)
class TargetProfile:
    key: str
    label: str
    title: str
    legal: tuple[str, ...]
    fields: tuple[FieldRule, ...]
    credit_code_if_missing: str  # required | suggest | ignore
    credit_code_if_invalid: str  # missing | weak
    limitation_years: int | None
    limitation_basis: str
    attachments: AttachmentRules
    sections: tuple[str, ...]
    letter: tuple[LetterField, ...]
    deadlines: tuple[Deadline, ...]
    letter_form: str = "fields"  # one of LETTER_FORMS
    pack: PackWording | None = None  # None only for profiles built in code (tests)

    @property
    def statement_limit(self) -> int | None:
        """Character limit of the main complaint text on this channel (None = no limit)."""
        for item in self.letter:
            if item.source == "complaint":
                return item.limit
        return None


@dataclass(frozen=True)
class EventChannel:
    key: str  # one of EVENT_CHANNEL_KEYS
    label: str  # 商家: timeline and status
    action: str  # 联系商家: the letter's account of what was done
    aliases: tuple[str, ...] = ()  # other words case.yaml and `log --channel` accept (客服)


@dataclass(frozen=True)
class LadderStep:
    key: str  # one of LADDER_STEPS
    label: str  # 申请平台介入
    how: str  # what to do when this step is due
    urgent: str = ""  # platform only: what to do at once for an urgent problem


@dataclass(frozen=True)
class FollowupRules:
    """templates/followup.yaml: follow-up channels, the escalation ladder, fixed deadlines."""

    channels: Mapping[str, EventChannel]
    ladder: tuple[LadderStep, ...]  # in escalation order, court last
    no_reason_return_days: int
    no_reason_return_basis: str  # article key
    no_reason_return_label: str  # already formatted with the days
    no_reason_return_short: str  # for the status table
    no_reason_return_note: str
    platform_reply_hours: int  # when platforms.yaml gives a platform none
    reply_days: int  # a letter's reply deadline when the target gives none
    # Words in a 12315 follow-up note: accepted / refused or mediation ended / handed to ODR
    accepted_words: tuple[str, ...] = ()
    ended_words: tuple[str, ...] = ()
    odr_words: tuple[str, ...] = ()

    @property
    def channel_labels(self) -> Mapping[str, str]:
        return {key: c.label for key, c in self.channels.items()}

    @property
    def channel_aliases(self) -> Mapping[str, str]:
        """商家 / 客服 → seller …: each channel's label and aliases."""
        out: dict[str, str] = {}
        for key, channel in self.channels.items():
            for word in (channel.label, *channel.aliases):
                out.setdefault(word, key)
        return out

    @property
    def steps(self) -> tuple[str, ...]:
        return tuple(step.key for step in self.ladder)

    def step(self, key: str) -> LadderStep:
        return next(step for step in self.ladder if step.key == key)


@dataclass(frozen=True)
class Law:
    key: str
    name: str
    full_name: str
    kind: str
    effective: date | None
    source: str


@dataclass(frozen=True)
class Article:
    key: str
    law: str
    article: str
    summary: str


@dataclass(frozen=True)
class PunitiveRule:
    key: str
    article: str
    multiplier: Decimal
    minimum: Decimal
    categories: frozenset[str]  # casefolded order.category words that force this rule


@dataclass(frozen=True)
class Rules:
    """Everything in templates/. Mappings are plain dicts typed read-only, so Rules pickles for
    worker processes."""

    problem_types: Mapping[str, ProblemType]
    generic: ProblemType
    urgency: Mapping[str, Urgency]
    claims: Mapping[str, Claim]
    kinds: Mapping[str, EvidenceKindRule]  # keyed by EvidenceKind value; an EvidenceKind works too
    platforms: Mapping[str, Platform]
    common_advice: tuple[Advice, ...]
    targets: Mapping[str, TargetProfile]
    default_target: str
    laws: Mapping[str, Law]
    articles: Mapping[str, Article]
    punitive: Mapping[str, PunitiveRule]
    default_punitive: str
    followup: FollowupRules
    filename_times: FilenameTimes  # templates/filename_times.yaml (evidencekit/filename_patterns.py)
    time_sources: TimeSources  # templates/time_sources.yaml (rules/time_sources.py)

    @property
    def claim_labels(self) -> Mapping[str, str]:
        """refund -> 退款, ... for every claim key in problem_types.yaml."""
        return {key: claim.label for key, claim in self.claims.items()}


# ---------------------------------------------------------------------------------------------
# Loading and validation
# ---------------------------------------------------------------------------------------------


# Volunteers try an edited template set without reinstalling: point this at a folder holding the
# same files as templates/ (the whole set, not only the changed file).
TEMPLATES_ENV = "EVIDENCEKIT_TEMPLATES"


def templates_folder() -> Traversable | Path:
    """``$EVIDENCEKIT_TEMPLATES`` when set, else the templates installed with the package."""
    override = os.environ.get(TEMPLATES_ENV, "").strip()
    return Path(override) if override else files("evidencekit.templates")


@functools.cache
def load_rules() -> Rules:
    """The templates (see templates_folder), parsed and validated once per process.

    Cached: a caller that changes ``$EVIDENCEKIT_TEMPLATES`` mid-process calls
    ``load_rules.cache_clear()``.
    """
    return load_rules_from(templates_folder())


def load_rules_from(folder: Traversable | Path) -> Rules:
    """Read and validate the eight template files in ``folder`` (tests point this at edited copies)."""
    legal = _read(folder, "legal.yaml")
    laws, articles, punitive, default_punitive = _parse_legal(legal)
    kinds = _parse_evidence_kinds(_read(folder, "evidence_kinds.yaml"))
    problems = _read(folder, "problem_types.yaml")
    urgency, claims, generic, types = _parse_problem_types(problems)
    platforms, common_advice = _parse_platforms(_read(folder, "platforms.yaml"))
    targets, default_target = _parse_targets(_read(folder, "targets.yaml"))
    followup = _parse_followup(_read(folder, "followup.yaml"))
    filename_times = parse_filename_times(_read(folder, "filename_times.yaml"))
    rules = Rules(
        problem_types=types,
        generic=generic,
        urgency=urgency,
        claims=claims,
        kinds=kinds,
        platforms=platforms,
        common_advice=common_advice,
        targets=targets,
        default_target=default_target,
        laws=laws,
        articles=articles,
        punitive=punitive,
        default_punitive=default_punitive,
        followup=followup,
        filename_times=filename_times,
        time_sources=parse_time_sources(_read(folder, "time_sources.yaml")),
    )
    _check_references(rules)
    return rules


class _File:
    """Typed access to one template file's YAML, failing with the file name and key path."""

    def __init__(self, name: str, data: object) -> None:
        self.name = name
        self.data = data

    def fail(self, path: str, message: str) -> NoReturn:
        where = f"{path}：" if path else ""
        raise TemplateError(f"模板文件 templates/{self.name} 有误：{where}{message}", hint=_TEMPLATE_HINT)

    def mapping(self, node: object, path: str, required: Iterable[str] = (),
                optional: Iterable[str] | None = ()) -> dict[str, Any]:
        """A mapping with str keys. ``optional=None`` accepts any keys (entry names)."""
        if not isinstance(node, dict):
            self.fail(path, f"应为“键: 值”形式的映射，实际是 {_describe(node)}")
        # YAML reads an unquoted 12315 as a number; treat keys as names either way.
        out = {str(k): v for k, v in node.items()}
        required = tuple(required)
        if optional is not None:
            allowed = set(required) | set(optional)
            for key in out:
                if key not in allowed:
                    close = difflib.get_close_matches(key, sorted(allowed), n=1)
                    usable = "、".join(sorted(allowed))
                    hint = f"（您是不是想写 {close[0]}？）" if close else f"（可用的键：{usable}）"
                    self.fail(_join(path, key), f"未知的键{hint}")
        for key in required:
            if key not in out:
                self.fail(path, f"缺少键 {key}")
        return out

    def text(self, m: Mapping[str, Any], key: str, path: str, default: str | None = None) -> str:
        value = m.get(key)
        if value is None and default is not None:
            return default
        if not isinstance(value, str) or not value.strip():
            self.fail(_join(path, key), f"应为非空文字，实际是 {_describe(value)}")
        return value.strip()

    def flag(self, m: Mapping[str, Any], key: str, path: str, default: bool) -> bool:
        value = m.get(key, default)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.fail(_join(path, key), f"应为 true 或 false，实际是 {_describe(value)}")
        return value

    def count(self, m: Mapping[str, Any], key: str, path: str) -> int | None:
        """A positive whole number, or None when empty/absent."""
        value = m.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            self.fail(_join(path, key), f"应为正整数或留空，实际是 {_describe(value)}")
        return value

    def number(self, m: Mapping[str, Any], key: str, path: str) -> Decimal | None:
        value = m.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            self.fail(_join(path, key), f"应为数字，实际是 {_describe(value)}")
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            self.fail(_join(path, key), f"应为数字，实际是 {_describe(value)}")
        if not number.is_finite() or number <= 0:
            self.fail(_join(path, key), f"应为正数，实际是 {_describe(value)}")
        return number

    def str_list(self, m: Mapping[str, Any], key: str, path: str) -> tuple[str, ...]:
        return self.strings(m.get(key), _join(path, key))

    def strings(self, value: object, path: str) -> tuple[str, ...]:
        if value is None:
            return ()
        if not isinstance(value, list):
            self.fail(path, f"应为列表（如 [a, b]），实际是 {_describe(value)}")
        out = []
        for i, item in enumerate(value):
            if isinstance(item, bool) or not isinstance(item, str | int) or not str(item).strip():
                self.fail(f"{path}[{i}]", f"应为非空文字，实际是 {_describe(item)}")
            out.append(str(item).strip())
        return tuple(out)

    def items(self, m: Mapping[str, Any], key: str, path: str) -> list[tuple[str, object]]:
        """The entries of a list value, each with its key path."""
        value = m.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.fail(_join(path, key), f"应为列表，实际是 {_describe(value)}")
        return [(f"{_join(path, key)}[{i}]", item) for i, item in enumerate(value)]


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _describe(value: object) -> str:
    if value is None:
        return "空值"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _read(folder: Traversable | Path, name: str) -> _File:
    try:
        raw = folder.joinpath(name).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TemplateError(f"无法读取模板文件 templates/{name}：{exc}", hint=_TEMPLATE_HINT) from exc
    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"第 {mark.line + 1} 行第 {mark.column + 1} 列：" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise TemplateError(f"模板文件 templates/{name} 不是有效的 YAML：{where}{problem}",
                            hint=_TEMPLATE_HINT) from exc
    doc = _File(name, data)
    top = doc.mapping(data, "", optional=None)
    if top.get("schema") != 1:
        doc.fail("schema", f"应为 1，实际是 {_describe(top.get('schema'))}")
    return doc


def _top(doc: _File, required: Iterable[str], optional: Iterable[str] = ()) -> dict[str, Any]:
    return doc.mapping(doc.data, "", required=("schema", *required), optional=optional)


def _parse_legal(doc: _File) -> tuple[dict[str, Law], dict[str, Article], dict[str, PunitiveRule], str]:
    top = _top(doc, ("laws", "articles", "punitive", "default_punitive"))
    laws: dict[str, Law] = {}
    for key, node in doc.mapping(top["laws"], "laws", optional=None).items():
        path = f"laws.{key}"
        m = doc.mapping(node, path, ("name", "full_name", "kind"), ("effective", "source"))
        kind = doc.text(m, "kind", path)
        if kind not in LAW_KINDS:
            doc.fail(f"{path}.kind", f"应为 {'、'.join(sorted(LAW_KINDS))} 之一，实际是 {kind}")
        laws[key] = Law(key, doc.text(m, "name", path), doc.text(m, "full_name", path), kind,
                        _date(doc, m.get("effective"), f"{path}.effective"), doc.text(m, "source", path, ""))
    articles: dict[str, Article] = {}
    for key, node in doc.mapping(top["articles"], "articles", optional=None).items():
        path = f"articles.{key}"
        m = doc.mapping(node, path, ("law", "article", "summary"))
        law = doc.text(m, "law", path)
        if law not in laws:
            doc.fail(f"{path}.law", f"引用了不存在的法律 {law}{_suggest(law, laws)}")
        articles[key] = Article(key, law, doc.text(m, "article", path), doc.text(m, "summary", path))
    punitive: dict[str, PunitiveRule] = {}
    for key, node in doc.mapping(top["punitive"], "punitive", optional=None).items():
        path = f"punitive.{key}"
        m = doc.mapping(node, path, ("article", "multiplier", "minimum"), ("categories",))
        article = doc.text(m, "article", path)
        if article not in articles:
            doc.fail(f"{path}.article", f"引用了不存在的条文 {article}{_suggest(article, articles)}")
        multiplier = doc.number(m, "multiplier", path)
        minimum = doc.number(m, "minimum", path)
        assert multiplier is not None and minimum is not None  # required keys, checked above
        categories = frozenset(c.casefold() for c in doc.str_list(m, "categories", path))
        punitive[key] = PunitiveRule(key, article, multiplier, minimum, categories)
    default = doc.text(top, "default_punitive", "")
    if default not in punitive:
        doc.fail("default_punitive", f"应为 punitive 下的某一项，实际是 {default}")
    return laws, articles, punitive, default


def _date(doc: _File, value: object, path: str) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    doc.fail(path, f"应为日期（YYYY-MM-DD），实际是 {_describe(value)}")


def _parse_evidence_kinds(doc: _File) -> dict[str, EvidenceKindRule]:
    top = _top(doc, ("kinds",))
    entries = doc.mapping(top["kinds"], "kinds", optional=None)
    out: dict[str, EvidenceKindRule] = {}
    folder_owner: dict[str, str] = {}
    for key, node in entries.items():
        path = f"kinds.{key}"
        kind = _kind(doc, key, path)
        m = doc.mapping(node, path, ("label", "folders", "title", "proves", "source", "evidence_type"))
        folders = doc.str_list(m, "folders", path)
        if key not in folders:
            doc.fail(f"{path}.folders", f"必须保留英文文件夹名 {key}（程序生成的案件文件夹使用它）")
        for folder in folders:
            owner = folder_owner.setdefault(folder.casefold(), key)
            if owner != key:
                doc.fail(f"{path}.folders", f"文件夹名 {folder} 已经用于 {owner}，同一个名字不能对应两类证据")
        title = doc.text(m, "title", path)
        _check_placeholders(doc, title, EXHIBIT_TITLE_PLACEHOLDERS, f"{path}.title")
        evidence_type = doc.text(m, "evidence_type", path)
        if evidence_type not in EVIDENCE_TYPES:
            usable = "、".join(EVIDENCE_TYPES)
            doc.fail(f"{path}.evidence_type", f"应为 {usable} 之一，实际是 {evidence_type}")
        out[kind.value] = EvidenceKindRule(kind, doc.text(m, "label", path), folders, title,
                                     doc.text(m, "proves", path), doc.text(m, "source", path), evidence_type)
    for kind in EvidenceKind:
        if kind.value not in out:
            doc.fail("kinds", f"缺少证据种类 {kind.value}")
    return out


def _kind(doc: _File, value: str, path: str) -> EvidenceKind:
    try:
        return EvidenceKind(value)
    except ValueError:
        names = [k.value for k in EvidenceKind]
        doc.fail(path, f"{value} 不是证据种类{_suggest(value, names)}（可用：{'、'.join(names)}）")


def _check_placeholders(doc: _File, pattern: str, allowed: frozenset[str], path: str) -> None:
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(pattern) if name is not None}
    except ValueError as exc:
        doc.fail(path, f"花括号写法有误（{exc}）；花括号只用于占位符，如 {{product}}")
    for name in names:
        if name not in allowed:
            usable = "、".join(sorted(allowed))
            doc.fail(path, f"未知的占位符 {{{name}}}{_suggest(name, allowed)}（可用：{usable}）")


def _suggest(value: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(value, sorted(choices), n=1)
    return f"（您是不是想写 {close[0]}？）" if close else ""


def _parse_problem_types(
    doc: _File,
) -> tuple[dict[str, Urgency], dict[str, Claim], ProblemType, dict[str, ProblemType]]:
    top = _top(doc, ("urgency", "claims", "generic", "types"))
    urgency: dict[str, Urgency] = {}
    for key, node in doc.mapping(top["urgency"], "urgency", optional=None).items():
        path = f"urgency.{key}"
        m = doc.mapping(node, path, ("label",), ("hours", "advice"))
        urgency[key] = Urgency(key, doc.text(m, "label", path), doc.count(m, "hours", path),
                               doc.text(m, "advice", path, ""))
    claims: dict[str, Claim] = {}
    for key, node in doc.mapping(top["claims"], "claims", optional=None).items():
        path = f"claims.{key}"
        m = doc.mapping(node, path, ("label", "form_12315"), ("aliases",))
        claims[key] = Claim(key, doc.text(m, "label", path), doc.text(m, "form_12315", path),
                            doc.str_list(m, "aliases", path))
    generic = _problem_type(doc, "generic", top["generic"], "generic", urgency)
    types = {
        key: _problem_type(doc, key, node, f"types.{key}", urgency)
        for key, node in doc.mapping(top["types"], "types", optional=None).items()
    }
    return urgency, claims, generic, types


def _problem_type(doc: _File, key: str, node: object, path: str,
                  urgency: Mapping[str, Urgency]) -> ProblemType:
    m = doc.mapping(node, path, ("label", "urgency", "required", "legal", "punitive"),
                    ("supporting", "advice"))
    level = doc.text(m, "urgency", path)
    if level not in urgency:
        doc.fail(f"{path}.urgency", f"应为 {'、'.join(urgency)} 之一，实际是 {level}")
    required = _requirements(doc, m, "required", path)
    if not required:
        doc.fail(f"{path}.required", "至少要列出一项必需证据")
    supporting = _requirements(doc, m, "supporting", path)
    seen: set[EvidenceKind] = set()
    for item in (*required, *supporting):
        if item.kind in seen:
            doc.fail(path, f"证据种类 {item.kind.value} 在 required / supporting 中出现了不止一次")
        seen.add(item.kind)
    punitive = doc.text(m, "punitive", path)
    advice: dict[str, tuple[Advice, ...]] = {}
    for scope, items in doc.mapping(m.get("advice") or {}, f"{path}.advice", optional=None).items():
        advice[scope] = _advice_list(doc, items, f"{path}.advice.{scope}")
    return ProblemType(
        key=key,
        label=doc.text(m, "label", path),
        urgency=level,
        required=required,
        supporting=supporting,
        legal=doc.str_list(m, "legal", path),
        punitive="" if punitive == "none" else punitive,
        advice=advice,
    )


def _requirements(doc: _File, m: Mapping[str, Any], key: str, path: str) -> tuple[Requirement, ...]:
    out = []
    for item_path, node in doc.items(m, key, path):
        r = doc.mapping(node, item_path, ("kind", "proves"), ("label", "must_declare"))
        kind = _kind(doc, doc.text(r, "kind", item_path), f"{item_path}.kind")
        out.append(Requirement(kind, doc.text(r, "label", item_path, ""), doc.text(r, "proves", item_path),
                               doc.flag(r, "must_declare", item_path, False)))
    return tuple(out)


def _advice_list(doc: _File, node: object, path: str) -> tuple[Advice, ...]:
    if node is None:
        return ()
    if not isinstance(node, list):
        doc.fail(path, f"应为列表，实际是 {_describe(node)}")
    out = []
    for i, item in enumerate(node):
        item_path = f"{path}[{i}]"
        if isinstance(item, str) and item.strip():
            out.append(Advice(item.strip()))
            continue
        a = doc.mapping(item, item_path, ("text",), ("when",))
        when = _condition(doc, a.get("when"), f"{item_path}.when")
        out.append(Advice(doc.text(a, "text", item_path), when))
    return tuple(out)


def _condition(doc: _File, node: object, path: str) -> Condition:
    if node is None:
        return ()
    out = []
    for key, wanted in doc.mapping(node, path, optional=None).items():
        if key not in CASE_PATHS:
            doc.fail(f"{path}.{key}", f"不是 case.yaml 的字段{_suggest(key, CASE_PATHS)}")
        values = tuple(wanted) if isinstance(wanted, list) else (wanted,)
        out.append((key, values))
    return tuple(out)


def _parse_platforms(doc: _File) -> tuple[dict[str, Platform], tuple[Advice, ...]]:
    top = _top(doc, ("platforms",), ("common_advice",))
    common = _advice_list(doc, top.get("common_advice"), "common_advice")
    out: dict[str, Platform] = {}
    for key, node in doc.mapping(top["platforms"], "platforms", optional=None).items():
        path = f"platforms.{key}"
        m = doc.mapping(node, path, ("label", "full_name", "channels", "timing", "intervention"),
                        ("apps", "advice", "legal_by_type", "aliases"))
        channels = []
        for item_path, item in doc.items(m, "channels", path):
            c = doc.mapping(item, item_path, ("name", "path"), ("response",))
            channels.append(Channel(doc.text(c, "name", item_path), doc.text(c, "path", item_path),
                                    doc.text(c, "response", item_path, "")))
        tpath = f"{path}.timing"
        t = doc.mapping(m["timing"], tpath, ("seller_reply_hours", "confirmed", "source"),
                        ("platform_reply_hours", "typical_seller", "typical_platform", "typical_refund"))
        seller_hours = doc.count(t, "seller_reply_hours", tpath)
        if seller_hours is None:
            doc.fail(f"{tpath}.seller_reply_hours", "应为正整数（小时）")
        timing = PlatformTiming(
            seller_hours, doc.count(t, "platform_reply_hours", tpath),
            doc.text(t, "typical_seller", tpath, ""), doc.text(t, "typical_platform", tpath, ""),
            doc.text(t, "typical_refund", tpath, ""), doc.flag(t, "confirmed", tpath, False),
            doc.text(t, "source", tpath),
        )
        ipath = f"{path}.intervention"
        i = doc.mapping(m["intervention"], ipath, ("route", "confirmed", "source"))
        legal_by_type = {
            ptype: doc.strings(refs, f"{path}.legal_by_type.{ptype}")
            for ptype, refs in doc.mapping(m.get("legal_by_type") or {}, f"{path}.legal_by_type",
                                           optional=None).items()
        }
        out[key] = Platform(
            key=key, label=doc.text(m, "label", path), full_name=doc.text(m, "full_name", path),
            apps=doc.str_list(m, "apps", path), channels=tuple(channels), timing=timing,
            intervention=doc.text(i, "route", ipath),
            intervention_confirmed=doc.flag(i, "confirmed", ipath, False),
            intervention_source=doc.text(i, "source", ipath),
            advice=_advice_list(doc, m.get("advice"), f"{path}.advice"),
            legal_by_type=legal_by_type,
            aliases=doc.str_list(m, "aliases", path),
        )
    if "other" not in out:
        doc.fail("platforms", "缺少 other（未列出的平台都按它处理）")
    return out, common


def _parse_targets(doc: _File) -> tuple[dict[str, TargetProfile], str]:
    top = _top(doc, ("targets", "default", "key_evidence"))
    key_evidence = _key_evidence(doc, top, "")
    out = {key: _target(doc, key, node, f"targets.{key}", key_evidence)
           for key, node in doc.mapping(top["targets"], "targets", optional=None).items()}
    default = doc.text(top, "default", "")
    if default not in out:
        doc.fail("default", f"应为 targets 下的某一项，实际是 {default}")
    return out, default


def _key_evidence(doc: _File, m: Mapping[str, Any], path: str) -> tuple[EvidenceKind, ...]:
    """A ranking of evidence kinds; kinds left out follow in EvidenceKind order."""
    listed = [_kind(doc, k, _join(path, "key_evidence")) for k in doc.str_list(m, "key_evidence", path)]
    return tuple(dict.fromkeys([*listed, *EvidenceKind]))


def _pack_wording(doc: _File, node: object, path: str, default_order: tuple[EvidenceKind, ...]) -> PackWording:
    m = doc.mapping(node, path, ("upload_heading", "text_heading"), ("text_note", "key_evidence"))
    order = _key_evidence(doc, m, path) if m.get("key_evidence") else default_order
    return PackWording(doc.text(m, "upload_heading", path), doc.text(m, "text_heading", path),
                       doc.text(m, "text_note", path, ""), order)


def _target(doc: _File, key: str, node: object, path: str,
            key_evidence: tuple[EvidenceKind, ...]) -> TargetProfile:
    m = doc.mapping(node, path,
                    ("label", "title", "fields", "credit_code", "attachments", "sections", "letter", "pack"),
                    ("legal", "limitation_years", "limitation_basis", "deadlines", "letter_form"))
    letter_form = doc.text(m, "letter_form", path, "fields")
    if letter_form not in LETTER_FORMS:
        doc.fail(f"{path}.letter_form", f"应为 {'、'.join(LETTER_FORMS)} 之一，实际是 {letter_form}")
    title = doc.text(m, "title", path)
    _check_placeholders(doc, title, TITLE_PLACEHOLDERS, f"{path}.title")
    fields = []
    for item_path, item in doc.items(m, "fields", path):
        f = doc.mapping(item, item_path, ("key", "label"), ("any_of", "required", "why", "when"))
        field_key = doc.text(f, "key", item_path)
        paths = doc.str_list(f, "any_of", item_path) or (field_key,)
        for p in paths:
            if p not in CASE_PATHS:
                doc.fail(f"{item_path}", f"{p} 不是 case.yaml 的字段{_suggest(p, CASE_PATHS)}")
        fields.append(FieldRule(field_key, doc.text(f, "label", item_path), paths,
                                doc.flag(f, "required", item_path, True), doc.text(f, "why", item_path, ""),
                                _condition(doc, f.get("when"), f"{item_path}.when")))
    cpath = f"{path}.credit_code"
    c = doc.mapping(m["credit_code"], cpath, ("if_missing", "if_invalid"))
    if_missing, if_invalid = doc.text(c, "if_missing", cpath), doc.text(c, "if_invalid", cpath)
    if if_missing not in ("required", "suggest", "ignore"):
        doc.fail(f"{cpath}.if_missing", f"应为 required、suggest 或 ignore，实际是 {if_missing}")
    if if_invalid not in ("missing", "weak"):
        doc.fail(f"{cpath}.if_invalid", f"应为 missing 或 weak，实际是 {if_invalid}")
    apath = f"{path}.attachments"
    a = doc.mapping(m["attachments"], apath, ("confirmed", "source"),
                    ("max_files", "max_file_mb", "max_total_mb", "formats", "note"))
    attachments = AttachmentRules(
        doc.count(a, "max_files", apath), _megabytes(doc.number(a, "max_file_mb", apath)),
        _megabytes(doc.number(a, "max_total_mb", apath)),
        tuple(f.lower().lstrip(".") for f in doc.str_list(a, "formats", apath)),
        doc.text(a, "note", apath, ""), doc.flag(a, "confirmed", apath, False), doc.text(a, "source", apath),
    )
    sections = doc.str_list(m, "sections", path)
    for name in sections:
        if name not in SECTIONS:
            usable = "、".join(SECTIONS)
            doc.fail(f"{path}.sections", f"未知的章节 {name}{_suggest(name, SECTIONS)}（可用：{usable}）")
    if len(set(sections)) != len(sections) or not sections:
        doc.fail(f"{path}.sections", "章节不能为空，也不能重复")
    letter = []
    for item_path, item in doc.items(m, "letter", path):
        lf = doc.mapping(item, item_path, ("name", "source"),
                         ("limit", "required", "confirmed", "source_note"))
        source = doc.text(lf, "source", item_path)
        if source not in CASE_PATHS and source not in COMPUTED_SOURCES:
            doc.fail(f"{item_path}.source", f"{source} 既不是 case.yaml 的字段，也不是可自动生成的内容"
                     f"{_suggest(source, CASE_PATHS | COMPUTED_SOURCES)}")
        letter.append(LetterField(doc.text(lf, "name", item_path), source, doc.count(lf, "limit", item_path),
                                  doc.flag(lf, "required", item_path, True),
                                  doc.flag(lf, "confirmed", item_path, True),
                                  doc.text(lf, "source_note", item_path, "")))
    deadlines = []
    for item_path, item in doc.items(m, "deadlines", path):
        d = doc.mapping(item, item_path, ("key", "label", "start"),
                        ("days", "hours", "working_days", "basis", "confirmed", "source", "note"))
        start = doc.text(d, "start", item_path)
        if start not in DEADLINE_STARTS:
            doc.fail(f"{item_path}.start", f"应为 {'、'.join(sorted(DEADLINE_STARTS))} 之一，实际是 {start}")
        days, hours = doc.count(d, "days", item_path), doc.count(d, "hours", item_path)
        if (days is None) == (hours is None):
            doc.fail(item_path, "days 和 hours 必须填且只填一个")
        basis = doc.text(d, "basis", item_path, "")
        if not basis and not d.get("source"):
            doc.fail(item_path, "没有 basis（依据条文）时必须写 source（出处）")
        deadlines.append(Deadline(doc.text(d, "key", item_path), doc.text(d, "label", item_path), start,
                                  days, hours, doc.flag(d, "working_days", item_path, False), basis,
                                  doc.flag(d, "confirmed", item_path, bool(basis)),
                                  doc.text(d, "source", item_path, ""), doc.text(d, "note", item_path, "")))
    return TargetProfile(
        key=key, label=doc.text(m, "label", path), title=title, legal=doc.str_list(m, "legal", path),
        fields=tuple(fields), credit_code_if_missing=if_missing, credit_code_if_invalid=if_invalid,
        limitation_years=doc.count(m, "limitation_years", path),
        limitation_basis=doc.text(m, "limitation_basis", path, ""),
        attachments=attachments, sections=sections, letter=tuple(letter), deadlines=tuple(deadlines),
        letter_form=letter_form, pack=_pack_wording(doc, m["pack"], f"{path}.pack", key_evidence),
    )


def _parse_followup(doc: _File) -> FollowupRules:
    top = _top(doc, ("channels", "ladder", "no_reason_return", "notes_12315", "platform_reply_hours",
                     "reply_days"))
    channels: dict[str, EventChannel] = {}
    entries = doc.mapping(top["channels"], "channels", required=EVENT_CHANNEL_KEYS, optional=())
    for key, node in entries.items():
        path = f"channels.{key}"
        m = doc.mapping(node, path, ("label", "action"), ("aliases",))
        channels[key] = EventChannel(key, doc.text(m, "label", path), doc.text(m, "action", path),
                                     doc.str_list(m, "aliases", path))
    ladder = []
    steps = doc.mapping(top["ladder"], "ladder", required=sorted(LADDER_STEPS), optional=())
    for key, node in steps.items():
        path = f"ladder.{key}"
        m = doc.mapping(node, path, ("label", "how"), ("urgent",) if key == "platform" else ())
        ladder.append(LadderStep(key, doc.text(m, "label", path), doc.text(m, "how", path),
                                 doc.text(m, "urgent", path, "")))
    if ladder[-1].key != "court":
        doc.fail("ladder", "court（向法院起诉）必须是最后一步")
    path = "no_reason_return"
    r = doc.mapping(top[path], path, ("days", "basis", "label", "short"), ("note",))
    days = doc.count(r, "days", path)
    if days is None:
        doc.fail(f"{path}.days", "应为正整数（天）")
    label = doc.text(r, "label", path)
    _check_placeholders(doc, label, frozenset({"days"}), f"{path}.label")
    platform_hours = doc.count(top, "platform_reply_hours", "")
    reply_days = doc.count(top, "reply_days", "")
    if platform_hours is None or reply_days is None:
        doc.fail("", "platform_reply_hours 和 reply_days 应为正整数")
    short = doc.text(r, "short", path)
    _check_placeholders(doc, short, frozenset({"days"}), f"{path}.short")
    notes = doc.mapping(top["notes_12315"], "notes_12315", ("accepted", "ended", "odr"))
    words = {key: doc.str_list(notes, key, "notes_12315") for key in ("accepted", "ended", "odr")}
    for key, found in words.items():
        if not found:
            doc.fail(f"notes_12315.{key}", "至少要写一个词")
    return FollowupRules(channels, tuple(ladder), days, doc.text(r, "basis", path), label.format(days=days),
                         short.format(days=days), doc.text(r, "note", path, ""), platform_hours, reply_days,
                         words["accepted"], words["ended"], words["odr"])


def _megabytes(value: Decimal | None) -> int | None:
    # Decimal megabytes (1,000,000 bytes): the smaller reading of "5 MB", so a file we pass fits
    # whichever one the site meant.
    return None if value is None else int(value * 1_000_000)


def _check_references(rules: Rules) -> None:
    """Cross-file references: fail naming the file that holds the broken reference."""
    problems = _File("problem_types.yaml", None)
    for ptype in (rules.generic, *rules.problem_types.values()):
        path = "generic" if ptype is rules.generic else f"types.{ptype.key}"
        _check_articles(problems, f"{path}.legal", ptype.legal, rules)
        if ptype.punitive and ptype.punitive not in rules.punitive:
            problems.fail(f"{path}.punitive",
                          f"应为 none 或 legal.yaml 中 punitive 下的某一项，实际是 {ptype.punitive}")
        for scope in ptype.advice:
            if scope != "all" and scope not in rules.platforms:
                problems.fail(f"{path}.advice.{scope}",
                              f"应为 all 或 platforms.yaml 中的平台{_suggest(scope, rules.platforms)}")
    platforms = _File("platforms.yaml", None)
    for platform in rules.platforms.values():
        for ptype_key, refs in platform.legal_by_type.items():
            path = f"platforms.{platform.key}.legal_by_type.{ptype_key}"
            if ptype_key not in rules.problem_types:
                platforms.fail(path, f"{ptype_key} 不是 problem_types.yaml 中的问题类型"
                                     f"{_suggest(ptype_key, rules.problem_types)}")
            _check_articles(platforms, path, refs, rules)
    targets = _File("targets.yaml", None)
    for target in rules.targets.values():
        path = f"targets.{target.key}"
        _check_articles(targets, f"{path}.legal", target.legal, rules)
        if target.limitation_basis:
            _check_articles(targets, f"{path}.limitation_basis", (target.limitation_basis,), rules)
        _check_articles(targets, f"{path}.deadlines", [d.basis for d in target.deadlines if d.basis], rules)
    _check_articles(_File("followup.yaml", None), "no_reason_return.basis",
                    (rules.followup.no_reason_return_basis,), rules)


def _check_articles(doc: _File, path: str, refs: Iterable[str], rules: Rules) -> None:
    for ref in refs:
        if ref not in rules.articles:
            doc.fail(path, f"引用了 legal.yaml 中不存在的条文 {ref}{_suggest(ref, rules.articles)}")


def _case_paths() -> frozenset[str]:
    """Every dotted case.yaml path a template may name (``order.amount``, ``claims``, ...)."""
    blank = Case(root=Path("."))
    out = set()
    for f in dataclasses.fields(blank):
        if f.name in ("root", "has_case_file", "tz", "events", "evidence"):
            continue
        value = getattr(blank, f.name)
        if dataclasses.is_dataclass(value):
            out |= {f"{f.name}.{sub.name}" for sub in dataclasses.fields(value)}
        else:
            out.add(f.name)
    return frozenset(out)


CASE_PATHS = _case_paths()


# ---------------------------------------------------------------------------------------------
# Small look-ups used by the pipeline and renderers
# ---------------------------------------------------------------------------------------------


def case_value(case: Case, path: str) -> object:
    """The value at a validated dotted path; empty strings read as None."""
    value: object = case
    for part in path.split("."):
        value = getattr(value, part)
    return None if value == "" else value


def _filled(value: object) -> bool:
    return value is not None and value != "" and value != ()


def _matches(case: Case, when: Condition) -> bool:
    for path, wanted in when:
        value = case_value(case, path)
        if isinstance(value, tuple):
            if not any(v in wanted for v in value):
                return False
        elif value not in wanted:
            return False
    return True


def problem_type(case: Case, rules: Rules) -> ProblemType:
    """The case's problem type, or the generic checklist when it is empty or unknown."""
    return rules.problem_types.get(case.problem.type, rules.generic)


def platform_rules(case: Case, rules: Rules) -> Platform:
    return rules.platforms.get(case.platform, rules.platforms["other"])


def platform_display_name(case: Case, rules: Rules) -> str:
    """抖音 / 淘宝 / 快手, the user's platform_name for other platforms, else the generic 电商."""
    if case.platform in rules.platforms and case.platform != "other":
        return rules.platforms[case.platform].label
    return case.platform_name.strip() or rules.platforms["other"].label


def target_profile(target: str | None, rules: Rules) -> TargetProfile:
    """The channel profile; ``None`` or ``""`` means the default (general)."""
    key = target or rules.default_target
    try:
        return rules.targets[key]
    except KeyError:
        raise UnknownTargetError(
            f"未知的提交渠道：{key}{_suggest(key, rules.targets)}",
            hint=f"--target 可用：{'、'.join(rules.targets)}",
        ) from None


def dossier_title(case: Case, target: str | None, rules: Rules) -> str:
    profile = target_profile(target, rules)
    return profile.title.format(
        platform=platform_display_name(case, rules),
        product=case.order.product,
        merchant=case.merchant.company or case.merchant.shop_name,
        complainant=case.complainant.name,
        order_number=case.order.number,
        target=profile.label,
    )


def kind_for_folder(name: str, rules: Rules) -> EvidenceKind | None:
    """The evidence kind a folder under evidence/ stands for (English or Chinese alias).
    Matched after NFC normalisation and casefold(), so "Order" and a macOS NFD name work too."""
    wanted = unicodedata.normalize("NFC", name).strip().casefold()
    for rule in rules.kinds.values():
        if any(wanted == folder.casefold() for folder in rule.folders):
            return rule.kind
    return None


def exhibit_title(kind: EvidenceKind, rules: Rules, *, n: int, file_name: str, product: str = "") -> str:
    """The default 证据名称 for an exhibit the user did not title."""
    rule = rules.kinds[kind]
    return rule.title.format(label=rule.label, n=n, file=file_name, stem=Path(file_name).stem,
                             product=product)


def urgency_for(case: Case, rules: Rules) -> str:
    """Chinese urgency label, e.g. 紧急（24 小时内处理）."""
    return rules.urgency[problem_type(case, rules).urgency].label


def advice_for(case: Case, rules: Rules) -> tuple[str, ...]:
    """What to do next: urgency, common, platform and problem-type advice whose conditions hold."""
    ptype = problem_type(case, rules)
    platform = platform_rules(case, rules)
    candidates = [Advice(rules.urgency[ptype.urgency].advice)] if rules.urgency[ptype.urgency].advice else []
    candidates += [*rules.common_advice, *platform.advice, *ptype.advice.get("all", ()),
                   *ptype.advice.get(platform.key, ())]
    return tuple(dict.fromkeys(a.text for a in candidates if _matches(case, a.when)))


# ---------------------------------------------------------------------------------------------
# Legal bases and statutory amounts
# ---------------------------------------------------------------------------------------------


def legal_basis(key: str, rules: Rules) -> LegalBasis:
    article = rules.articles[key]
    return LegalBasis(rules.laws[article.law].name, article.article, article.summary)


def legal_bases(case: Case, rules: Rules) -> tuple[LegalBasis, ...]:
    """Articles for the problem type (plus the platform's own rules and the punitive basis if claimed).

    Statutes and regulations that took effect after the purchase are left out: they did not govern
    the sale, and citing them would weaken the complaint.
    """
    ptype = problem_type(case, rules)
    keys = [*ptype.legal, *platform_rules(case, rules).legal_by_type.get(ptype.key, ())]
    if "punitive" in case.claims:
        keys.append(punitive_rule_for(case, rules).article)
    bought = case.order.time.astimezone(case.tz).date() if case.order.time else None
    out = []
    for key in dict.fromkeys(keys):
        law = rules.laws[rules.articles[key].law]
        if bought and law.effective and law.kind in _DATED_LAW_KINDS and bought < law.effective:
            continue
        out.append(legal_basis(key, rules))
    return tuple(out)


def punitive_rule_for(case: Case, rules: Rules) -> PunitiveRule:
    """Food goes by 食品安全法 whatever the problem type; otherwise the type's basis or the default."""
    words = {w.casefold() for w in re.split(r"[/,，、;；|\s]+", case.order.category) if w}
    for rule in rules.punitive.values():
        if words & rule.categories:
            return rule
    return rules.punitive[problem_type(case, rules).punitive or rules.default_punitive]


def _yuan(value: Decimal) -> str:
    return f"¥{value:,.2f}"


def statutory_amounts(case: Case, rules: Rules) -> tuple[StatutoryAmount, ...]:
    """The statutory extra compensation, only when claimed and the price paid is known."""
    if "punitive" not in case.claims or case.order.amount is None:
        return ()
    rule = punitive_rule_for(case, rules)
    price = case.order.amount.quantize(_CENT, ROUND_HALF_UP)
    product = (rule.multiplier * price).quantize(_CENT, ROUND_HALF_UP)
    minimum = rule.minimum.quantize(_CENT, ROUND_HALF_UP)
    times = format(rule.multiplier.normalize(), "f")
    arithmetic = f"{times} × {_yuan(price)} = {_yuan(product)}"
    amount = product
    if product < minimum:
        arithmetic += f"，不足 {_yuan(minimum)}，按 {_yuan(minimum)} 计"
        amount = minimum
    article = rules.articles[rule.article]
    return (StatutoryAmount(rules.laws[article.law].name, article.article, amount, arithmetic),)


def no_reason_return_deadline(signed_at: datetime, rules: Rules, tz: tzinfo | None = None) -> date:
    """Last day to send a no-reason return notice: followup.yaml's days (7), counted from the day
    after signing."""
    local = signed_at.astimezone(tz) if tz is not None and signed_at.tzinfo is not None else signed_at
    return local.date() + timedelta(days=rules.followup.no_reason_return_days)


# ---------------------------------------------------------------------------------------------
# The checklist
# ---------------------------------------------------------------------------------------------


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
    items += [_field_item(case, rule) for rule in profile.fields if _matches(case, rule.when)]
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
    if any(_filled(case_value(case, p)) for p in rule.paths):
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


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a non-leap target year
        return day.replace(year=day.year + years, day=28)


@dataclass(frozen=True)
class LimitationPeriod:
    """The complaint limitation period: from the day the buyer knew of the problem, ``years`` long."""

    years: int
    start_day: date  # in the case's zone; the start day itself is not counted
    start_key: str  # the case.yaml key the start came from: problem.discovered_at or order.time
    last_day: date  # the last day on which a complaint is still accepted


def limitation_period(case: Case, years: int) -> LimitationPeriod | None:
    """When the limitation period of ``years`` starts and ends; None when case.yaml gives no start."""
    if case.problem.discovered_at is not None:
        start, key = case.problem.discovered_at, "problem.discovered_at"
    elif case.order.time is not None:
        start, key = case.order.time, "order.time"
    else:
        return None
    start_day = start.astimezone(case.tz).date() if start.tzinfo else start.date()
    return LimitationPeriod(years, start_day, key, _add_years(start_day, years))


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
