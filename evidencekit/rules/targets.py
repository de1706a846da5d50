"""templates/targets.yaml: one profile per Target (where a dossier is sent): the case facts it
asks for, attachment limits, section order, the letter's fields and limits, deadlines, pack wording.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from evidencekit.model import EvidenceKind, Recipient, Target
from evidencekit.rules.conditions import CASE_PATHS, Condition, parse_condition
from evidencekit.rules.problem_types import parse_kind
from evidencekit.rules.templatefile import TemplateFile, check_placeholders, join_path, suggest, top_level

# Section names the PDF renderer knows (pdf/render.py); a target may reorder or omit them.
SECTIONS = ("cover", "summary", "checklist", "index", "timeline", "exhibits", "appendix")
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
# What a recipient's salutation, subject, opening and closing may name; its reply adds the due date.
RECIPIENT_PLACEHOLDERS = frozenset({"complainant", "merchant", "shop", "platform", "order_number", "product",
                                    "problem"})
REPLY_PLACEHOLDERS = RECIPIENT_PLACEHOLDERS | {"due", "days"}
# targets.yaml has one profile per Target, no more: --target offers exactly these.
TARGET_KEYS = tuple(target.value for target in Target)


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

    @property
    def takes_pdf(self) -> bool:
        return not self.formats or "pdf" in self.formats

    @property
    def size_cap(self) -> int | None:
        """The largest file the channel takes (bytes): the smaller of the per-file and total limits."""
        caps = [c for c in (self.max_file_bytes, self.max_total_bytes) if c is not None]
        return min(caps) if caps else None

    def summary(self) -> str:
        """最多 4 个文件，每个不超过 5 MB，格式 jpg/png; "" when the channel sets no limit."""
        parts = []
        if self.max_files is not None:
            parts.append(f"最多 {self.max_files} 个文件")
        if self.max_file_bytes is not None:
            parts.append(f"每个不超过 {megabytes_text(self.max_file_bytes)}")
        if self.max_total_bytes is not None:
            parts.append(f"合计不超过 {megabytes_text(self.max_total_bytes)}")
        if self.formats:
            parts.append(f"格式 {'/'.join(self.formats)}")
        return "，".join(parts)


def megabytes_text(size: int) -> str:
    """Decimal megabytes as targets.yaml writes them (5 MB = 5,000,000 bytes), rounded up to 0.1 so a
    file shown as "5 MB" is never over a 5 MB limit it fails."""
    tenths = -(-size // 100_000)
    return f"{tenths // 10} MB" if tenths % 10 == 0 else f"{tenths / 10:.1f} MB"


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
    submit: str = ""  # where and how the shopper hands the dossier in (build says it at the end)


@dataclass(frozen=True)
class RecipientWording:
    """How a letter (letter_form: message) speaks to one recipient (``--to``)."""

    key: Recipient
    label: str  # 商家 / 平台 / 消协 / 市场监管部门
    salutation: str
    subject: str
    opening: str
    omit: tuple[str, ...]  # letter sources left out of the body (the addressee's own line)
    legal: tuple[str, ...]  # article keys cited besides the problem type's
    reply: str  # the 答复期限 text; "" = no reply is demanded and the section is left out
    closing: str


@dataclass(frozen=True)
class TargetProfile:
    key: Target
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
    aliases: tuple[str, ...] = ()  # other words --target accepts besides key and label (邮件)
    # message letters only: one wording per Recipient (fields targets have none)
    recipients: Mapping[Recipient, RecipientWording] = field(default_factory=dict)

    @property
    def statement_limit(self) -> int | None:
        """Character limit of the main complaint text on this channel (None = no limit)."""
        for item in self.letter:
            if item.source == "complaint":
                return item.limit
        return None


def parse_targets(doc: TemplateFile) -> tuple[dict[str, TargetProfile], Target]:
    top = top_level(doc, ("targets", "default", "key_evidence"))
    key_evidence = key_evidence_order(doc, top, "")
    entries = doc.mapping(top["targets"], "targets", optional=None)
    for key in entries:
        if key not in TARGET_KEYS:
            doc.fail(f"targets.{key}", f"{key} 不是程序认识的提交渠道{suggest(key, TARGET_KEYS)}"
                     f"（可用：{'、'.join(TARGET_KEYS)}）")
    for key in TARGET_KEYS:
        if key not in entries:
            doc.fail("targets", f"缺少提交渠道 {key}（--target 可以选它，每个渠道都要有一项）")
    out = {key: _target(doc, Target(key), node, f"targets.{key}", key_evidence) for key, node in entries.items()}
    default = doc.text(top, "default", "")
    if default not in out:
        doc.fail("default", f"应为 targets 下的某一项，实际是 {default}")
    return out, Target(default)


def key_evidence_order(doc: TemplateFile, m: Mapping[str, Any], path: str) -> tuple[EvidenceKind, ...]:
    """A ranking of evidence kinds; kinds left out follow in EvidenceKind order."""
    listed = [parse_kind(doc, k, join_path(path, "key_evidence")) for k in doc.str_list(m, "key_evidence", path)]
    return tuple(dict.fromkeys([*listed, *EvidenceKind]))


def _pack_wording(doc: TemplateFile, node: object, path: str, default_order: tuple[EvidenceKind, ...]) -> PackWording:
    m = doc.mapping(node, path, ("upload_heading", "text_heading"), ("text_note", "key_evidence", "submit"))
    order = key_evidence_order(doc, m, path) if m.get("key_evidence") else default_order
    return PackWording(doc.text(m, "upload_heading", path), doc.text(m, "text_heading", path),
                       doc.text(m, "text_note", path, ""), order, doc.text(m, "submit", path, ""))


def _target(doc: TemplateFile, key: Target, node: object, path: str,
            key_evidence: tuple[EvidenceKind, ...]) -> TargetProfile:
    m = doc.mapping(node, path,
                    ("label", "title", "fields", "credit_code", "attachments", "sections", "letter", "pack"),
                    ("legal", "limitation_years", "limitation_basis", "deadlines", "letter_form", "aliases",
                     "recipients"))
    letter_form = doc.text(m, "letter_form", path, "fields")
    if letter_form not in LETTER_FORMS:
        doc.fail(f"{path}.letter_form", f"应为 {'、'.join(LETTER_FORMS)} 之一，实际是 {letter_form}")
    title = doc.text(m, "title", path)
    check_placeholders(doc, title, TITLE_PLACEHOLDERS, f"{path}.title")
    fields = []
    for item_path, item in doc.items(m, "fields", path):
        f = doc.mapping(item, item_path, ("key", "label"), ("any_of", "required", "why", "when"))
        field_key = doc.text(f, "key", item_path)
        paths = doc.str_list(f, "any_of", item_path) or (field_key,)
        for p in paths:
            if p not in CASE_PATHS:
                doc.fail(f"{item_path}", f"{p} 不是 case.yaml 的字段{suggest(p, CASE_PATHS)}")
        fields.append(FieldRule(field_key, doc.text(f, "label", item_path), paths,
                                doc.flag(f, "required", item_path, True), doc.text(f, "why", item_path, ""),
                                parse_condition(doc, f.get("when"), f"{item_path}.when")))
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
            doc.fail(f"{path}.sections", f"未知的章节 {name}{suggest(name, SECTIONS)}（可用：{usable}）")
    if len(set(sections)) != len(sections) or not sections:
        doc.fail(f"{path}.sections", "章节不能为空，也不能重复")
    letter = []
    for item_path, item in doc.items(m, "letter", path):
        lf = doc.mapping(item, item_path, ("name", "source"),
                         ("limit", "required", "confirmed", "source_note"))
        source = doc.text(lf, "source", item_path)
        if source not in CASE_PATHS and source not in COMPUTED_SOURCES:
            doc.fail(f"{item_path}.source", f"{source} 既不是 case.yaml 的字段，也不是可自动生成的内容"
                     f"{suggest(source, CASE_PATHS | COMPUTED_SOURCES)}")
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
        aliases=doc.str_list(m, "aliases", path),
        recipients=_recipients(doc, m.get("recipients"), f"{path}.recipients", letter_form,
                               {item.source for item in letter}),
    )


def _recipients(doc: TemplateFile, node: object, path: str, letter_form: str,
                sources: set[str]) -> dict[Recipient, RecipientWording]:
    if letter_form != "message":
        if node is not None:
            doc.fail(path, "只有 letter_form: message（一封信）的渠道才按收件人写 recipients")
        return {}
    entries = doc.mapping(node, path, optional=None)
    keys = tuple(r.value for r in Recipient)
    for key in entries:
        if key not in keys:
            doc.fail(join_path(path, key), f"{key} 不是程序认识的收件人{suggest(key, keys)}（可用：{'、'.join(keys)}）")
    out = {}
    for recipient in Recipient:  # in Recipient order, whatever the file's order
        if recipient.value not in entries:
            doc.fail(path, f"缺少收件人 {recipient.value}（--to 可以选它，每个收件人都要有一项）")
        item_path = join_path(path, recipient.value)
        r = doc.mapping(entries[recipient.value], item_path, ("label", "salutation", "subject", "opening"),
                        ("omit", "legal", "reply", "closing"))
        texts = {key: doc.text(r, key, item_path, "" if key in ("reply", "closing") else None)
                 for key in ("label", "salutation", "subject", "opening", "reply", "closing")}
        for key in ("salutation", "subject", "opening", "closing"):
            check_placeholders(doc, texts[key], RECIPIENT_PLACEHOLDERS, join_path(item_path, key))
        check_placeholders(doc, texts["reply"], REPLY_PLACEHOLDERS, join_path(item_path, "reply"))
        omit = doc.str_list(r, "omit", item_path)
        for source in omit:
            if source not in sources:
                doc.fail(join_path(item_path, "omit"), f"{source} 不是本渠道 letter 里的栏目{suggest(source, sources)}")
        out[recipient] = RecipientWording(recipient, texts["label"], texts["salutation"], texts["subject"],
                                          texts["opening"], omit, doc.str_list(r, "legal", item_path),
                                          texts["reply"], texts["closing"])
    return out


def _megabytes(value: Decimal | None) -> int | None:
    # Decimal megabytes (1,000,000 bytes): the smaller reading of "5 MB", so a file we pass fits
    # whichever one the site meant.
    return None if value is None else int(value * 1_000_000)
