"""templates/legal.yaml: laws with their kind and effective date, articles in our own words, and
the punitive-damages rules (multiplier, minimum, categories that force one).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from evidencekit.rules.templatefile import TemplateFile, parse_date, suggest, top_level

LAW_KINDS = frozenset({"statute", "regulation", "interpretation", "platform_rule"})
# Only these bind according to when the purchase happened; court interpretations and platform rules
# apply to disputes handled after they take effect.
DATED_LAW_KINDS = frozenset({"statute", "regulation"})


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


def parse_legal(doc: TemplateFile) -> tuple[dict[str, Law], dict[str, Article], dict[str, PunitiveRule], str]:
    top = top_level(doc, ("laws", "articles", "punitive", "default_punitive"))
    laws: dict[str, Law] = {}
    for key, node in doc.mapping(top["laws"], "laws", optional=None).items():
        path = f"laws.{key}"
        m = doc.mapping(node, path, ("name", "full_name", "kind"), ("effective", "source"))
        kind = doc.text(m, "kind", path)
        if kind not in LAW_KINDS:
            doc.fail(f"{path}.kind", f"应为 {'、'.join(sorted(LAW_KINDS))} 之一，实际是 {kind}")
        laws[key] = Law(key, doc.text(m, "name", path), doc.text(m, "full_name", path), kind,
                        parse_date(doc, m.get("effective"), f"{path}.effective"), doc.text(m, "source", path, ""))
    articles: dict[str, Article] = {}
    for key, node in doc.mapping(top["articles"], "articles", optional=None).items():
        path = f"articles.{key}"
        m = doc.mapping(node, path, ("law", "article", "summary"))
        law = doc.text(m, "law", path)
        if law not in laws:
            doc.fail(f"{path}.law", f"引用了不存在的法律 {law}{suggest(law, laws)}")
        articles[key] = Article(key, law, doc.text(m, "article", path), doc.text(m, "summary", path))
    punitive: dict[str, PunitiveRule] = {}
    for key, node in doc.mapping(top["punitive"], "punitive", optional=None).items():
        path = f"punitive.{key}"
        m = doc.mapping(node, path, ("article", "multiplier", "minimum"), ("categories",))
        article = doc.text(m, "article", path)
        if article not in articles:
            doc.fail(f"{path}.article", f"引用了不存在的条文 {article}{suggest(article, articles)}")
        multiplier = doc.number(m, "multiplier", path)
        minimum = doc.number(m, "minimum", path)
        assert multiplier is not None and minimum is not None  # required keys, checked above
        categories = frozenset(c.casefold() for c in doc.str_list(m, "categories", path))
        punitive[key] = PunitiveRule(key, article, multiplier, minimum, categories)
    default = doc.text(top, "default_punitive", "")
    if default not in punitive:
        doc.fail("default_punitive", f"应为 punitive 下的某一项，实际是 {default}")
    return laws, articles, punitive, default
