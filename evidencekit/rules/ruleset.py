"""Everything in templates/ as one frozen Rules: where the files are read from, loading them once
per process, and the references from one file into another checked at load.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Literal, get_args

from evidencekit.model import ChatFormat, Target
from evidencekit.rules.chat_formats import parse_chat_formats
from evidencekit.rules.checklist_wording import ChecklistWording, parse_checklist_wording
from evidencekit.rules.conditions import Advice
from evidencekit.rules.filename_times import FilenameTimes, parse_filename_times
from evidencekit.rules.followup import FollowupRules, parse_followup
from evidencekit.rules.legal import Article, Law, PunitiveRule, parse_legal
from evidencekit.rules.platforms import Platform, parse_platforms
from evidencekit.rules.problem_types import (
    Claim,
    EvidenceKindRule,
    ProblemType,
    Urgency,
    parse_evidence_kinds,
    parse_problem_types,
)
from evidencekit.rules.targets import TargetProfile, parse_targets
from evidencekit.rules.templatefile import TemplateFile, fold_word, read_template, suggest
from evidencekit.rules.time_sources import TimeSources, parse_time_sources

# The closed lists a shopper types a value from: case.yaml fields, `init` answers and options.
Vocabulary = Literal["platform", "problem_type", "claim", "kind", "target", "channel"]
VOCABULARIES: tuple[Vocabulary, ...] = get_args(Vocabulary)
# Where each vocabulary's entries are written: (template file, section of its entries).
_VOCABULARY_FILES: Mapping[Vocabulary, tuple[str, str]] = {
    "platform": ("platforms.yaml", "platforms"),
    "problem_type": ("problem_types.yaml", "types"),
    "claim": ("problem_types.yaml", "claims"),
    "kind": ("evidence_kinds.yaml", "kinds"),
    "target": ("targets.yaml", "targets"),
    "channel": ("followup.yaml", "channels"),
}


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
    targets: Mapping[str, TargetProfile]  # keyed by Target value; a Target works too
    default_target: Target
    laws: Mapping[str, Law]
    articles: Mapping[str, Article]
    punitive: Mapping[str, PunitiveRule]
    default_punitive: str
    followup: FollowupRules
    filename_times: FilenameTimes  # templates/filename_times.yaml (rules/filename_times.py)
    time_sources: TimeSources  # templates/time_sources.yaml (rules/time_sources.py)
    checklist_wording: ChecklistWording  # templates/checklist_wording.yaml (rules/checklist_wording.py)
    chat_formats: Mapping[str, str]  # templates/chat_formats.yaml: ChatFormat value -> Chinese name

    @property
    def claim_labels(self) -> Mapping[str, str]:
        """refund -> 退款, ... for every claim key in problem_types.yaml."""
        return {key: claim.label for key, claim in self.claims.items()}

    def words(self, vocabulary: Vocabulary) -> Mapping[str, tuple[str, ...]]:
        """Each entry's key -> (its Chinese label, its other accepted words), in template order:
        douyin -> (抖音, 抖音电商, 抖音商城). Evidence kinds accept their folder names."""
        match vocabulary:
            case "platform":
                return {k: (p.label, *p.aliases) for k, p in self.platforms.items()}
            case "problem_type":
                return {k: (p.label, *p.aliases) for k, p in self.problem_types.items()}
            case "claim":
                return {k: (c.label, *c.aliases) for k, c in self.claims.items()}
            case "kind":
                return {k: (r.label, *r.folders) for k, r in self.kinds.items()}
            case "target":
                return {k: (t.label, *t.aliases) for k, t in self.targets.items()}
            case "channel":
                return {k: (c.label, *c.aliases) for k, c in self.followup.channels.items()}

    def chat_format_label(self, chat_format: ChatFormat) -> str:
        """微信导出（CSV 表格）…: the name the exhibit page gives a chat export's format."""
        return self.chat_formats[chat_format]


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
    """Read and validate the ten template files in ``folder`` (tests point this at edited copies)."""
    legal = read_template(folder, "legal.yaml")
    laws, articles, punitive, default_punitive = parse_legal(legal)
    kinds = parse_evidence_kinds(read_template(folder, "evidence_kinds.yaml"))
    problems = read_template(folder, "problem_types.yaml")
    urgency, claims, generic, types = parse_problem_types(problems)
    platforms, common_advice = parse_platforms(read_template(folder, "platforms.yaml"))
    targets, default_target = parse_targets(read_template(folder, "targets.yaml"))
    followup = parse_followup(read_template(folder, "followup.yaml"))
    filename_times = parse_filename_times(read_template(folder, "filename_times.yaml"))
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
        time_sources=parse_time_sources(read_template(folder, "time_sources.yaml")),
        chat_formats=parse_chat_formats(read_template(folder, "chat_formats.yaml")),
        checklist_wording=parse_checklist_wording(read_template(folder, "checklist_wording.yaml")),
    )
    _check_references(rules)
    return rules


def _check_references(rules: Rules) -> None:
    """Cross-file references: fail naming the file that holds the broken reference."""
    problems = TemplateFile("problem_types.yaml", None)
    for ptype in (rules.generic, *rules.problem_types.values()):
        path = "generic" if ptype is rules.generic else f"types.{ptype.key}"
        _check_articles(problems, f"{path}.legal", ptype.legal, rules)
        if ptype.punitive and ptype.punitive not in rules.punitive:
            problems.fail(f"{path}.punitive",
                          f"应为 none 或 legal.yaml 中 punitive 下的某一项，实际是 {ptype.punitive}")
        for scope in ptype.advice:
            if scope != "all" and scope not in rules.platforms:
                problems.fail(f"{path}.advice.{scope}",
                              f"应为 all 或 platforms.yaml 中的平台{suggest(scope, rules.platforms)}")
    platforms = TemplateFile("platforms.yaml", None)
    for platform in rules.platforms.values():
        for ptype_key, refs in platform.legal_by_type.items():
            path = f"platforms.{platform.key}.legal_by_type.{ptype_key}"
            if ptype_key not in rules.problem_types:
                platforms.fail(path, f"{ptype_key} 不是 problem_types.yaml 中的问题类型"
                                     f"{suggest(ptype_key, rules.problem_types)}")
            _check_articles(platforms, path, refs, rules)
    targets = TemplateFile("targets.yaml", None)
    for target in rules.targets.values():
        path = f"targets.{target.key}"
        _check_articles(targets, f"{path}.legal", target.legal, rules)
        if target.limitation_basis:
            _check_articles(targets, f"{path}.limitation_basis", (target.limitation_basis,), rules)
        _check_articles(targets, f"{path}.deadlines", [d.basis for d in target.deadlines if d.basis], rules)
        for wording in target.recipients.values():
            _check_articles(targets, f"{path}.recipients.{wording.key}.legal", wording.legal, rules)
    _check_articles(TemplateFile("followup.yaml", None), "no_reason_return.basis",
                    (rules.followup.no_reason_return_basis,), rules)
    for vocabulary in VOCABULARIES:
        _check_words(rules, vocabulary)


def _check_words(rules: Rules, vocabulary: Vocabulary) -> None:
    """A typed word (key, label or alias) must name one entry: 假货 cannot mean two problem types."""
    name, section = _VOCABULARY_FILES[vocabulary]
    owner: dict[str, str] = {}
    for key, words in rules.words(vocabulary).items():
        for word in (key, *words):
            first = owner.setdefault(fold_word(word), key)
            if first != key:
                TemplateFile(name, None).fail(
                    f"{section}.{key}", f"{word} 已经是 {section}.{first} 的名称或别名，同一个名字不能对应两项")


def _check_articles(doc: TemplateFile, path: str, refs: Iterable[str], rules: Rules) -> None:
    for ref in refs:
        if ref not in rules.articles:
            doc.fail(path, f"引用了 legal.yaml 中不存在的条文 {ref}{suggest(ref, rules.articles)}")
