"""templates/evidence_kinds.yaml and problem_types.yaml: what each kind of evidence is called and
proves, and which evidence each problem type needs, with its urgency, claims and advice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from evidencekit.model import EvidenceKind
from evidencekit.rules.conditions import Advice, parse_advice
from evidencekit.rules.templatefile import TemplateFile, check_placeholders, suggest, top_level

# 民事诉讼法 第六十六条: the only words allowed in the 证据种类 column.
EVIDENCE_TYPES = ("当事人的陈述", "书证", "物证", "视听资料", "电子数据", "证人证言", "鉴定意见", "勘验笔录")
EXHIBIT_TITLE_PLACEHOLDERS = frozenset({"label", "n", "file", "stem", "product"})


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
    aliases: tuple[str, ...] = ()  # other words case.yaml and `init` accept (假货)


@dataclass(frozen=True)
class Claim:
    key: str
    label: str
    form_12315: str
    aliases: tuple[str, ...] = ()  # other words case.yaml may use (退一赔三)


def parse_evidence_kinds(doc: TemplateFile) -> dict[str, EvidenceKindRule]:
    top = top_level(doc, ("kinds",))
    entries = doc.mapping(top["kinds"], "kinds", optional=None)
    out: dict[str, EvidenceKindRule] = {}
    folder_owner: dict[str, str] = {}
    for key, node in entries.items():
        path = f"kinds.{key}"
        kind = parse_kind(doc, key, path)
        m = doc.mapping(node, path, ("label", "folders", "title", "proves", "source", "evidence_type"))
        folders = doc.str_list(m, "folders", path)
        if key not in folders:
            doc.fail(f"{path}.folders", f"必须保留英文文件夹名 {key}（程序生成的案件文件夹使用它）")
        for folder in folders:
            owner = folder_owner.setdefault(folder.casefold(), key)
            if owner != key:
                doc.fail(f"{path}.folders", f"文件夹名 {folder} 已经用于 {owner}，同一个名字不能对应两类证据")
        title = doc.text(m, "title", path)
        check_placeholders(doc, title, EXHIBIT_TITLE_PLACEHOLDERS, f"{path}.title")
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


def parse_kind(doc: TemplateFile, value: str, path: str) -> EvidenceKind:
    try:
        return EvidenceKind(value)
    except ValueError:
        names = [k.value for k in EvidenceKind]
        doc.fail(path, f"{value} 不是证据种类{suggest(value, names)}（可用：{'、'.join(names)}）")


def parse_problem_types(
    doc: TemplateFile,
) -> tuple[dict[str, Urgency], dict[str, Claim], ProblemType, dict[str, ProblemType]]:
    top = top_level(doc, ("urgency", "claims", "generic", "types"))
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


def _problem_type(doc: TemplateFile, key: str, node: object, path: str,
                  urgency: Mapping[str, Urgency]) -> ProblemType:
    m = doc.mapping(node, path, ("label", "urgency", "required", "legal", "punitive"),
                    ("supporting", "advice", "aliases"))
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
        advice[scope] = parse_advice(doc, items, f"{path}.advice.{scope}")
    return ProblemType(
        key=key,
        label=doc.text(m, "label", path),
        urgency=level,
        required=required,
        supporting=supporting,
        legal=doc.str_list(m, "legal", path),
        punitive="" if punitive == "none" else punitive,
        advice=advice,
        aliases=doc.str_list(m, "aliases", path),
    )


def _requirements(doc: TemplateFile, m: Mapping[str, Any], key: str, path: str) -> tuple[Requirement, ...]:
    out = []
    for item_path, node in doc.items(m, key, path):
        r = doc.mapping(node, item_path, ("kind", "proves"), ("label", "must_declare"))
        kind = parse_kind(doc, doc.text(r, "kind", item_path), f"{item_path}.kind")
        out.append(Requirement(kind, doc.text(r, "label", item_path, ""), doc.text(r, "proves", item_path),
                               doc.flag(r, "must_declare", item_path, False)))
    return tuple(out)
