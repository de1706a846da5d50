"""The host's claims worth a moment in a recording (templates/moment_claims.yaml): prices,
正品/保真, 假一赔X, 100%, 七天无理由...

media.suggest reads the on-screen text of a recording; :func:`match_claims` says which claims a
line of that text makes. Pure text handling: no engine, no video, so matching is tested on
strings alone.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from importlib.resources.abc import Traversable
from pathlib import Path

from evidencekit.rules.ruleset import templates_folder
from evidencekit.rules.templatefile import TemplateFile, read_template, top_level

MOMENT_CLAIMS_FILE = "moment_claims.yaml"
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class ClaimRule:
    key: str
    name: str
    phrases: tuple[str, ...]  # compared with the compact text (see compact)
    patterns: tuple[re.Pattern[str], ...]


@dataclass(frozen=True)
class ClaimMatch:
    """One claim found in a line of text: its key, Chinese name and the words that matched."""

    claim: str
    name: str
    phrase: str


@functools.cache
def load_moment_claims() -> tuple[ClaimRule, ...]:
    """templates/moment_claims.yaml (or the one in ``$EVIDENCEKIT_TEMPLATES``), parsed once per process."""
    return load_moment_claims_from(templates_folder())


def load_moment_claims_from(folder: Traversable | Path) -> tuple[ClaimRule, ...]:
    return parse_moment_claims(read_template(folder, MOMENT_CLAIMS_FILE))


def parse_moment_claims(doc: TemplateFile) -> tuple[ClaimRule, ...]:
    top = top_level(doc, required=("claims",))
    rules = []
    for key, node in doc.mapping(top["claims"], "claims", optional=None).items():
        path = f"claims.{key}"
        m = doc.mapping(node, path, required=("name", "example"), optional=("phrases", "patterns"))
        phrases = tuple(compact(p) for p in doc.str_list(m, "phrases", path))
        patterns = []
        for i, pattern in enumerate(doc.str_list(m, "patterns", path)):
            try:
                patterns.append(re.compile(pattern))
            except re.error as exc:
                doc.fail(f"{path}.patterns[{i}]", f"正则表达式有误（{exc}）")
        if not phrases and not patterns:
            doc.fail(path, "phrases 和 patterns 至少写一个")
        rule = ClaimRule(key=key, name=doc.text(m, "name", path), phrases=phrases, patterns=tuple(patterns))
        example = doc.text(m, "example", path)
        if not _matches(rule, compact(example)):
            doc.fail(f"{path}.example", f"“{example}”对不上这一项的 phrases 和 patterns")
        rules.append(rule)
    if not rules:
        doc.fail("claims", "至少写一项")
    return tuple(rules)


def compact(text: str) -> str:
    """``"７天 无理由"`` -> ``"7天无理由"``: full-width forms folded (NFKC), spaces removed, as OCR
    puts spaces between characters unpredictably."""
    return _SPACES.sub("", unicodedata.normalize("NFKC", text))


def match_claims(text: str, rules: tuple[ClaimRule, ...]) -> tuple[ClaimMatch, ...]:
    """The claims ``text`` makes, in the template's order, each with the first words that matched."""
    line = compact(text)
    found = []
    for rule in rules:
        phrase = _matches(rule, line)
        if phrase:
            found.append(ClaimMatch(rule.key, rule.name, phrase))
    return tuple(found)


def _matches(rule: ClaimRule, line: str) -> str:
    for phrase in rule.phrases:
        if phrase in line:
            return phrase
    for pattern in rule.patterns:
        m = pattern.search(line)
        if m is not None and m.group(0):
            return m.group(0)
    return ""
