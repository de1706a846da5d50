"""The complaint text for one channel, field by field, each within the channel's length limit.

Field order, names and limits come from templates/targets.yaml (``letter:`` of each target); this
module only fills them in from the case. A channel's web form rejects (or silently cuts) text over
its limit, so every field is fitted here: the text is built from small *pieces*, each with a rank
saying how much it matters; when the text is too long the least important pieces are dropped first,
then the longest remaining pieces are cut with "…". The order number is protected: it is what lets
the office find the transaction, so it is never dropped or cut. What was dropped or cut is kept on
the field (``LetterField.cuts``) and shown under it, so the user learns what the reader will not see.

A target whose letter is one message (email) is addressed to a ``Recipient`` (``--to``): the
salutation, subject, opening paragraph, the sections left out (the addressee is not listed against
itself), extra articles and the reply demanded come from that target's ``recipients`` in
targets.yaml. Its attachment list names the files actually sent when ``pack`` supplies them.

Missing facts are shown as visible placeholders (【请填写：投诉人电话】) so the user sees what to
add before submitting; they count against the limit like any other text.

The text is the user's plain text for a web form or an email: no markup is added.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from evidencekit.case.inventory import has_evidence_folder, is_evidence_folder, scan_evidence
from evidencekit.case.load import load_case
from evidencekit.media.moments import format_timecode, parse_moment
from evidencekit.model import Case, Event, EvidenceKind, Recipient, SourceFile, Target, format_datetime
from evidencekit.rules.catalog import (
    LetterField as FieldTemplate,
)
from evidencekit.rules.catalog import (
    RecipientWording,
    Rules,
    TargetProfile,
    case_value,
    kind_for_folder,
    legal_bases,
    legal_basis,
    load_rules,
    platform_display_name,
    statutory_amounts,
    target_profile,
)

if TYPE_CHECKING:
    from evidencekit.pipeline import BuildOptions


# A target whose letter_form (targets.yaml) is "message" gets one letter, not separate form fields:
# the first template field is the subject, the others become the sections of the body, in order.
BODY_FIELD = "正文"
# Whom a letter goes to when --to is not given.
DEFAULT_RECIPIENT = Recipient.MERCHANT
FINGERPRINT_PLACEHOLDER = "【见证据材料封面】"
ELLIPSIS = "…"

_CENT = Decimal("0.01")
_SENTENCE_END = "。！？!?；;…"
_SENTENCE_RE = re.compile(r"[^。！？!?；;\n]+[。！？!?；;]*")


# ---------------------------------------------------------------------------------------------
# The result
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Attachment:
    """A file sent with a message letter (email), named as the recipient receives it."""

    name: str
    description: str = ""  # what it holds, e.g. 第 1–12 页：证据1–4


@dataclass(frozen=True)
class Cut:
    """Something fitting took out of a field: a piece of the text dropped whole (``kept`` is
    empty), or shortened to ``kept`` (shown with "…")."""

    original: str
    kept: str = ""

    @property
    def dropped(self) -> bool:
        return not self.kept

    @property
    def removed(self) -> str:
        """The characters the reader of the field will not see."""
        return self.original[len(self.kept):]


@dataclass(frozen=True)
class LetterField:
    name: str
    text: str
    limit: int | None = None
    limit_note: str = ""  # where an unconfirmed limit comes from (shown by format_letter)
    cuts: tuple[Cut, ...] = ()  # what was dropped or shortened to fit ``limit``


@dataclass(frozen=True)
class Letter:
    target: Target
    fields: tuple[LetterField, ...]
    label: str = ""  # the channel's Chinese name, e.g. 全国12315平台
    form: str = "fields"  # the target's letter_form: fields | message (subject + body)
    recipient: Recipient | None = None  # message letters: whom it is addressed to
    recipient_label: str = ""  # 商家 / 平台 / 消协 / 市场监管部门

    def field(self, name: str) -> LetterField:
        for item in self.fields:
            if item.name == name:
                return item
        raise KeyError(name)


def letter_json(letter: Letter) -> dict[str, Any]:
    """``{"target": ..., "fields": [{"name", "text", "limit"}, ...]}`` (a stable format: scripts read it)."""
    return {
        "target": letter.target,
        "fields": [{"name": f.name, "text": f.text, "limit": f.limit} for f in letter.fields],
    }


def format_letter(letter: Letter) -> str:
    """Human-readable: each field with its character count, ready to copy in order."""
    to = f"，收件人：{letter.recipient_label}" if letter.recipient_label else ""
    title = f"投诉文字（{letter.label or letter.target}{to}）"
    lines = [title, "按顺序逐项复制到对应栏目；【请填写：…】处请补充后再提交。", ""]
    for item in letter.fields:
        count = f"{len(item.text)}/{item.limit} 字" if item.limit else f"{len(item.text)} 字"
        lines.append(f"━━ {item.name}（{count}）")
        if item.limit_note:
            lines.append(f"   字数上限为参考值：{item.limit_note}")
        lines.append(item.text)
        if item.cuts:
            lines.append(format_cuts(item))
        lines.append("")
    missing = letter_placeholders(letter)
    if missing:
        lines.append(f"还有 {missing} 处需要填写（【请填写：…】）：补进 case.yaml 后重新运行，或提交时手工填写。")
    cut = cut_summary(letter)
    if cut:
        lines.append(cut)
    return "\n".join(lines).rstrip() + "\n"


def format_cuts(item: LetterField) -> str:
    """What fitting took out of one field, in full, so the user can decide what to keep."""
    limit = f"不超过 {item.limit} 字" if item.limit else "符合字数上限"
    lines = [f"   ※ 为了{limit}，这一栏删去或截短了下面的内容："]
    for cut in item.cuts:
        if cut.dropped:
            lines.append(f"     删去：{cut.original}")
        else:
            lines.append(f"     截短：{cut.kept}{ELLIPSIS}（删去了“{cut.removed}”）")
    return "\n".join(lines)


def cut_summary(letter: Letter) -> str:
    """One closing line when any field was shortened ("" when every field fit as written)."""
    count = sum(1 for item in letter.fields if item.cuts)
    if not count:
        return ""
    return (f"有 {count} 栏为了不超过字数上限删去或截短了内容（见各栏下的“※”）；"
            "要保留被删去的内容，请改写得更短后重新运行。")


def format_cut_notice(letter: Letter) -> str:
    """The cuts of every field, for output that carries the letter itself in another form (--json)."""
    blocks = [f"━━ {item.name}\n{format_cuts(item)}" for item in letter.fields if item.cuts]
    return "\n".join([*blocks, cut_summary(letter)]) if blocks else ""


# ---------------------------------------------------------------------------------------------
# Composing
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Context:
    case: Case
    rules: Rules
    profile: TargetProfile
    fingerprint: str
    exhibits: tuple[str, ...]
    now: datetime
    recipient: RecipientWording | None = None  # message letters only
    attachments: tuple[Attachment, ...] = ()  # message letters: the files actually attached
    originals_attached: bool | None = None  # the attached dossier holds the originals (None: not known)


def letter_for_folder(root: Path, options: BuildOptions, *, fingerprint: str = "",
                      recipient: Recipient | None = None) -> Letter:
    """`letter`: the letter for ``options.target`` from a case folder, dated ``options.now`` in
    the case's time zone.

    Hashing is cheap next to rendering; a folder without evidence/ yet still gets its letter
    (with a placeholder for the evidence list) instead of an error."""
    case = load_case(root)
    rules = load_rules()
    summary: tuple[str, ...] = ()
    if has_evidence_folder(root):
        summary = summarize_evidence(scan_evidence(root, case.tz).files, rules)
    return compose_letter(case, options.target, rules, fingerprint=fingerprint, exhibits_summary=summary,
                          recipient=recipient, now=options.now.astimezone(case.tz))


def compose_letter(case: Case, target: Target, rules: Rules, *, fingerprint: str = "",
                   exhibits_summary: Sequence[str] = (), recipient: Recipient | None = None,
                   attachments: Sequence[Attachment] = (), originals_attached: bool | None = None,
                   now: datetime) -> Letter:
    """The letter for ``target`` (a key of targets.yaml), every field fitted to its limit.

    ``exhibits_summary`` lists the evidence in a few words each (see :func:`summarize_evidence`);
    ``fingerprint`` is the dossier's manifest SHA-256 when known; ``now`` dates the letter;
    ``recipient`` is whom a message letter (email) is addressed to (default: the merchant) and is
    ignored by targets whose letter is form fields. ``attachments`` are the files sent with a
    message letter (``pack`` knows them; without them the list names the dossier PDF), and
    ``originals_attached`` whether they hold the originals.
    """
    profile = target_profile(target, rules)
    ctx = _Context(case, rules, profile, fingerprint.strip(),
                   tuple(_clean(s) for s in exhibits_summary if _clean(s)), now)
    if profile.letter_form == "message" and profile.letter:
        wording = profile.recipients[recipient or DEFAULT_RECIPIENT]
        ctx = replace(ctx, recipient=wording, attachments=tuple(attachments), originals_attached=originals_attached)
        return Letter(profile.key, _message(ctx), profile.label, profile.letter_form, wording.key, wording.label)
    fields = tuple(_form_field(template, ctx) for template in profile.letter)
    return Letter(profile.key, fields, profile.label, profile.letter_form)


def _form_field(template: FieldTemplate, ctx: _Context) -> LetterField:
    draft = _draft(template, ctx, detailed=template.limit is None)
    note = template.source_note if not template.confirmed else ""
    fitted = fit(draft, template.limit)
    return LetterField(template.name, fitted.text, template.limit, note, fitted.cuts)


def _message(ctx: _Context) -> tuple[LetterField, ...]:
    """Subject plus one formal letter body: the recipient's salutation and opening paragraph, the
    remaining template fields as sections (less the ones the recipient omits), the signature."""
    wording = _wording(ctx)
    subject_template, *sections = ctx.profile.letter
    subject = _form_field(subject_template, ctx)
    case = ctx.case
    name = _clean(case.complainant.name)
    blocks = [_fill(wording.salutation, ctx), "", _fill(wording.opening, ctx), ""]
    matter_done = False
    for template in sections:
        if template.source in wording.omit or (template.source == "reply_deadline" and not wording.reply):
            continue
        if not matter_done and template.source in ("order_summary", "complaint"):
            blocks.append(f"投诉事项：{_matter(ctx)}")
            matter_done = True
        text = fit_text(_draft(template, ctx, detailed=True), template.limit)
        if "\n" in text:  # a numbered list gets its own paragraph
            if blocks[-1] != "":
                blocks.append("")
            blocks += [f"{template.name}：\n{text}", ""]
        else:
            blocks.append(f"{template.name}：{text}")
    if blocks[-1] != "":
        blocks.append("")
    if wording.closing:
        blocks += [_fill(wording.closing, ctx), ""]
    blocks.append(f"投诉人：{name or _placeholder('投诉人姓名')}")
    blocks.append(f"日期：{_local(ctx.now, case).date().isoformat()}")
    body = "\n".join(blocks)
    body_field = LetterField(BODY_FIELD, body, None)
    return (subject, body_field)


def _wording(ctx: _Context) -> RecipientWording:
    if ctx.recipient is None:
        return ctx.profile.recipients[DEFAULT_RECIPIENT]
    return ctx.recipient


def _recipient_values(ctx: _Context) -> dict[str, str]:
    """What a recipient's wording may name; a missing fact is a visible placeholder."""
    case = ctx.case
    merchant = _merchant_name(case) or _placeholder("被投诉经营者名称")
    return {
        "complainant": _clean(case.complainant.name),  # "本人张三", or just "本人"
        "merchant": merchant,
        "shop": _clean(case.merchant.shop_name) or merchant,
        "platform": _platform(ctx) or _placeholder("电商平台"),
        "order_number": _clean(case.order.number) or _placeholder("订单号"),
        "product": _clean(case.order.product) or _placeholder("商品名称"),
        "problem": _problem_label(ctx),
    }


def _fill(template: str, ctx: _Context, **extra: str) -> str:
    """A recipient's wording with its placeholders filled in (checked when the template is loaded)."""
    return template.format_map({**_recipient_values(ctx), **extra})


def _draft(template: FieldTemplate, ctx: _Context, *, detailed: bool) -> Draft:
    source = template.source
    builders = {
        "merchant_name": lambda: _single(_merchant_detail(ctx) if detailed else _merchant_name(ctx.case),
                                         "被投诉经营者名称"),
        "platform_name": lambda: _single(_platform(ctx), "电商平台"),
        "dispute_time": lambda: _single(_dispute_time(ctx.case), "争议发生时间（发现问题的时间）"),
        "problem_label": lambda: _single(_problem_label(ctx), "问题类型"),
        "complaint": lambda: _complaint(ctx),
        "claims": lambda: _claims(ctx, numbered=detailed and ctx.profile.letter_form == "message"),
        "order_summary": lambda: _order_summary(ctx),
        "complainant_summary": lambda: _complainant_summary(ctx),
        "legal_bases": lambda: _legal(ctx),
        "amounts": lambda: _amounts(ctx),
        "evidence_list": lambda: _evidence_list(ctx),
        "subject": lambda: _subject(ctx),
        "reply_deadline": lambda: _single(_reply_deadline(ctx), "答复期限"),
    }
    if source in builders:
        return builders[source]()
    value = _value_text(case_value(ctx.case, source), ctx.case)
    label = template.name if template.required else f"{template.name}（可不填）"
    protect = source == "order.number"
    return _single(value, label, protect=protect)


# ---------------------------------------------------------------------------------------------
# Field contents
# ---------------------------------------------------------------------------------------------


def _merchant_name(case: Case) -> str:
    return _clean(case.merchant.company) or _clean(case.merchant.shop_name)


def _merchant_detail(ctx: _Context) -> str:
    m = ctx.case.merchant
    name = _merchant_name(ctx.case)
    if not name:
        return ""
    parts = [name]
    if m.company and m.shop_name and _clean(m.shop_name) != name:
        parts[0] += f"（店铺：{_clean(m.shop_name)}）"
    if m.credit_code:
        parts.append(f"统一社会信用代码 {_clean(m.credit_code)}")
    parts.append(f"地址：{_clean(m.address) or _placeholder('被投诉人地址')}")
    return "，".join(parts)


def _platform(ctx: _Context) -> str:
    """抖音 / 淘宝 / 快手 or the user's platform_name; "" when unknown (the generic 电商 says nothing)."""
    case = ctx.case
    known = case.platform in ctx.rules.platforms and case.platform != "other"
    if not known and not case.platform_name.strip():
        return ""
    return _clean(platform_display_name(case, ctx.rules))


def _dispute_time(case: Case) -> str:
    moment = case.problem.discovered_at or case.order.signed_at or case.order.time
    return _format_moment(moment, case) if moment else ""


def _problem_label(ctx: _Context) -> str:
    ptype = ctx.rules.problem_types.get(ctx.case.problem.type)
    return ptype.label if ptype else ""


def _matter(ctx: _Context) -> str:
    label = _problem_label(ctx) or _placeholder("问题类型")
    product = _clean(ctx.case.order.product)
    return f"{label}（{product}）" if product else label


def _complaint(ctx: _Context) -> Draft:
    """Short numbered facts, easy to retype: order, host's claim, what arrived, contacts, evidence."""
    case = ctx.case
    lines = [_order_line(ctx)]
    claims = _host_claims(ctx)
    if claims:
        lines.append(Line([Piece(caption, after=where, rank=Rank.FIRST_CLAIM if i == 0 else Rank.MORE_CLAIMS + i,
                                 lead="；", share=0.15)
                           for i, (caption, where) in enumerate(claims)], head="直播间宣称：", tail="。"))
    label = _problem_label(ctx)
    head = f"问题（{label}）：" if label else "问题："
    summary = _sentences(case.problem.summary)
    details = _sentences(case.problem.details)
    pieces = [Piece(s, rank=Rank.KEEP if i == 0 else Rank.MORE_SUMMARY + i, lead="", share=0.5 if i == 0 else 0.25)
              for i, s in enumerate(summary)]
    pieces += [Piece(s, rank=Rank.DETAILS + i, lead="", share=0.25) for i, s in enumerate(details)]
    if not pieces:
        pieces = [Piece(_placeholder("问题描述"), atomic=True)]
    lines.append(Line(pieces, head=head))
    events = _event_pieces(ctx)
    if events:
        lines.append(Line(events, head="协商经过：", tail="。"))
    if ctx.exhibits:
        lines.append(Line([Piece(s, rank=Rank.FIRST_EVIDENCE + i if i < 3 else Rank.MORE_EVIDENCE + i, lead="、",
                                 share=0.05) for i, s in enumerate(ctx.exhibits)], head="证据：", tail="。"))
    else:
        lines.append(Line([Piece(_placeholder("证据材料"), rank=Rank.EVIDENCE_PLACEHOLDER, atomic=True)],
                          head="证据："))
    return Draft(lines, numbered=True)


class Rank:
    """How soon a piece is dropped when the text is too long: higher goes first; KEEP never."""

    KEEP = 0
    FIRST_EVIDENCE = 1  # + position: the first three items of the evidence list
    LATEST_EVENT = 5
    FIRST_CLAIM = 5
    AMOUNT = 7
    ORDER_DATE = 8
    SIGNED = 9
    FIRST_EVENT = 10
    ROOM = 12
    MORE_SUMMARY = 13  # + position
    EVIDENCE_PLACEHOLDER = 15
    HOST = 16
    SPEC = 17
    MORE_CLAIMS = 18  # + position
    MORE_EVIDENCE = 20  # + position
    MIDDLE_EVENTS = 24  # + distance from the latest
    DETAILS = 40  # + position: later sentences of the details go first


def _order_line(ctx: _Context) -> Line:
    case = ctx.case
    order = case.order
    number = _clean(order.number)
    if number:
        pieces = [Piece(number, before="订单号 ", protect=len(number))]
    else:
        pieces = [Piece(_placeholder("订单号"), atomic=True)]
    if order.time:
        pieces.append(Piece(f"{_format_date(order.time, case)} 下单", rank=Rank.ORDER_DATE))
    platform = _platform(ctx)
    room = _clean(case.livestream.room)
    if room:
        pieces.append(Piece(room, before=f"{platform}直播间“", after="”", rank=Rank.ROOM, share=0.05))
        if case.livestream.host:
            pieces.append(Piece(_clean(case.livestream.host), before="（主播", after="）", lead="",
                                rank=Rank.HOST, share=0.05))
    elif platform:
        pieces.append(Piece(f"{platform}直播间", rank=Rank.ROOM))
    product = _clean(order.product)
    if product:
        pieces.append(Piece(product, before="商品：", share=0.1))
        if order.spec:
            pieces.append(Piece(_clean(order.spec), before="（", after="）", lead="", rank=Rank.SPEC, share=0.05))
    else:
        pieces.append(Piece("商品：" + _placeholder("商品名称"), atomic=True))
    if order.amount is not None:
        pieces.append(Piece(f"实付 {_money(order.amount)}", rank=Rank.AMOUNT, atomic=True))
    else:
        pieces.append(Piece("实付 " + _placeholder("实付金额"), rank=Rank.AMOUNT, atomic=True))
    if order.signed_at:
        pieces.append(Piece(f"{_format_date(order.signed_at, case)} 签收", rank=Rank.SIGNED, atomic=True))
    return Line(pieces, tail="。")


def _host_claims(ctx: _Context) -> list[tuple[str, str]]:
    """The declared moments of livestream evidence: (what the host said, "（录屏 00:12:31）")."""
    out: list[tuple[str, str]] = []
    for item in ctx.case.evidence:
        parts = item.file.split("/")
        folder = parts[1] if len(parts) > 2 and is_evidence_folder(parts[0]) else parts[0]
        kind = item.kind or kind_for_folder(folder, ctx.rules)
        if kind is not EvidenceKind.LIVESTREAM:
            continue
        for text in item.moments:
            moment = parse_moment(text)
            if moment is None:
                caption = _clean(text)
                if caption:
                    out.append((caption, ""))
            elif _clean(moment.caption):
                # The timecode is a fixed suffix: shortening may cut the words, never the time.
                out.append((_clean(moment.caption), f"（录屏 {format_timecode(moment.offset)}）"))
    return list(dict.fromkeys(out))


def _event_pieces(ctx: _Context) -> list[Piece]:
    events = _sorted_events(ctx.case.events)
    pieces = []
    last = len(events) - 1
    for i, event in enumerate(events):
        if i == last:
            rank = Rank.LATEST_EVENT
        elif i == 0:
            rank = Rank.FIRST_EVENT
        else:
            rank = Rank.MIDDLE_EVENTS + (last - i)
        pieces.append(Piece(_event_text(event, ctx), rank=rank, lead="；", share=0.15))
    return pieces


def _sorted_events(events: Iterable[Event]) -> list[Event]:
    timed = sorted((e for e in events if e.time is not None), key=lambda e: cast(datetime, e.time))
    return [*timed, *(e for e in events if e.time is None)]


def _event_text(event: Event, ctx: _Context) -> str:
    case = ctx.case
    when = f"{_format_date(event.time, case)} " if event.time else ""
    channel = ctx.rules.followup.channels.get(event.channel)
    action = channel.action if channel is not None else event.channel
    ref = f"（{_clean(event.ref)}）" if event.ref.strip() else ""
    note = f"：{_clean(event.note)}" if event.note.strip() else ""
    return f"{when}{action}{ref}{note}"


def _claims(ctx: _Context, *, numbered: bool) -> Draft:
    """Concrete actions: 退货退款 ¥399.00，并按《消费者权益保护法》第五十五条第一款赔偿 ¥1,197.00."""
    case, rules = ctx.case, ctx.rules
    amount = _money(case.order.amount) if case.order.amount is not None else _placeholder("实付金额")
    items: list[str] = []
    for key in case.claims:
        claim = rules.claims.get(key)
        label = claim.label if claim else key
        if key in ("refund", "return_refund"):
            items.append(f"{label} {amount}")
        elif key == "compensation":
            items.append(f"{label} {_placeholder('损失金额')}")
        elif key == "punitive":
            statutory = statutory_amounts(case, rules)
            if statutory:
                s = statutory[0]
                extra = f"（{s.arithmetic}）" if numbered else ""
                items.append(f"按{s.law}{s.article}赔偿 {_money(s.amount)}{extra}")
            else:
                items.append(f"{label} {_placeholder('实付金额（用于计算赔偿）')}")
        else:
            items.append(label)
    if not items:
        return _single("", "诉求（如退货退款、赔偿）")
    if numbered:
        return Draft([Line([Piece(text, atomic=True)], tail="。" if i == len(items) - 1 else "；")
                      for i, text in enumerate(items)], numbered=True)
    pieces = [Piece(text, atomic=True, lead="，并") for text in items]
    lines = [Line(pieces)]
    if ctx.profile.key == Target.COMPLAINT_12315:
        options = [rules.claims[k].form_12315 for k in case.claims if k in rules.claims]
        if options:
            lines.append(Line([Piece("、".join(dict.fromkeys(options)), rank=Rank.DETAILS)],
                              head="（表单“诉求”可选：", tail="）"))
    return Draft(lines, separator="\n")


def _order_summary(ctx: _Context) -> Draft:
    case = ctx.case
    o = case.order
    parts = [f"订单号 {_clean(o.number) or _placeholder('订单号')}"]
    parts.append(f"下单时间 {_format_moment(o.time, case) if o.time else _placeholder('下单时间')}")
    product = _clean(o.product) or _placeholder("商品名称")
    if o.spec:
        product += f"（{_clean(o.spec)}）"
    if o.quantity:
        product += f" × {o.quantity}"
    parts.append(f"商品 {product}")
    parts.append(f"实付 {_money(o.amount) if o.amount is not None else _placeholder('实付金额')}")
    live = case.livestream
    if live.room:
        host = f"（主播 {_clean(live.host)}）" if live.host else ""
        parts.append(f"直播间 {_clean(live.room)}{host}")
    if o.signed_at:
        parts.append(f"签收时间 {_format_moment(o.signed_at, case)}")
    if case.problem.discovered_at:
        parts.append(f"发现问题 {_format_moment(case.problem.discovered_at, case)}")
    return Draft([Line([Piece(p, lead="；", atomic=i == 0) for i, p in enumerate(parts)], tail="。")])


def _complainant_summary(ctx: _Context) -> Draft:
    c = ctx.case.complainant
    parts = [
        _clean(c.name) or _placeholder("投诉人姓名"),
        f"电话 {_clean(c.phone) or _placeholder('投诉人电话')}",
        f"地址 {_clean(c.address) or _placeholder('投诉人通讯地址')}",
    ]
    if c.email:
        parts.append(f"邮箱 {_clean(c.email)}")
    return Draft([Line([Piece(p, lead="，") for p in parts])])


def _legal(ctx: _Context) -> Draft:
    bases = legal_bases(ctx.case, ctx.rules)
    if ctx.recipient is not None:  # what this recipient's own duty rests on, after the case's articles
        extra = (legal_basis(key, ctx.rules) for key in ctx.recipient.legal)
        bases = tuple(dict.fromkeys([*bases, *extra]))
    if not bases:
        return _single("", "法律依据")
    return Draft([Line([Piece(f"{b.law}{b.article}：{b.summary}")]) for b in bases], numbered=True)


def _amounts(ctx: _Context) -> Draft:
    amounts = statutory_amounts(ctx.case, ctx.rules)
    if not amounts:
        return Draft([Line([Piece("未主张惩罚性赔偿", atomic=True)])])
    return Draft([Line([Piece(f"{a.law}{a.article}：{a.arithmetic}")]) for a in amounts], numbered=True)


def _evidence_list(ctx: _Context) -> Draft:
    if ctx.profile.letter_form == "message":
        return _attachment_list(ctx)
    fingerprint = ctx.fingerprint or FINGERPRINT_PLACEHOLDER
    lines = [Line([Piece(f"证据材料 PDF（清单指纹 SHA-256：{fingerprint}）", atomic=True)])]
    if ctx.exhibits:
        lines += [Line([Piece(s, rank=Rank.MORE_EVIDENCE + i)]) for i, s in enumerate(ctx.exhibits)]
    else:
        lines.append(Line([Piece(_placeholder("证据材料"), atomic=True, rank=Rank.EVIDENCE_PLACEHOLDER)]))
    return Draft(lines, numbered=True)


def _attachment_list(ctx: _Context) -> Draft:
    """What a letter's reader finds attached: the files by name (numbered), then the fingerprint
    that ties them to one dossier and, in words, the evidence they hold."""
    files = ctx.attachments or (Attachment("证据材料 PDF"),)
    texts = [f"{i}. {a.name}" + (f"（{a.description}）" if a.description else "") for i, a in enumerate(files, 1)]
    if len(files) > 1:
        texts.append(f"附件较大，分 {len(files)} 封邮件发送，每封附上面的一个文件，正文相同。")
    fingerprint = ctx.fingerprint or FINGERPRINT_PLACEHOLDER
    same = "（各卷出自同一份证据材料）" if len(files) > 1 else ""
    texts.append(f"证据材料封面上的材料指纹 SHA-256：{fingerprint}{same}")
    if ctx.exhibits:
        texts.append(f"内含证据：{'、'.join(ctx.exhibits)}。")
    if ctx.originals_attached is False:
        texts.append("原始文件没有随邮件发送（证据材料中列有每个原件的 SHA-256），需要时可另行提供。")
    return Draft([Line([Piece(text, atomic=True)]) for text in texts])


# ``（{product}）`` in a subject: the brackets belong to the placeholder and go with it.
_SUBJECT_SLOT = re.compile(r"(（?)\{(\w+)\}(）?)")


# The subject of a form target that asks for one (targets.yaml recipients exist only for letters).
_FORM_SUBJECT = "关于订单 {order_number}（{product}）{problem}的投诉"


def _subject(ctx: _Context) -> Draft:
    """The recipient's subject line as pieces: its own words are kept whole, the order number is
    protected, the problem type is dropped first and long names are cut evenly."""
    case = ctx.case
    values = _recipient_values(ctx)
    pieces: list[Piece] = []
    template = _wording(ctx).subject if ctx.profile.recipients else _FORM_SUBJECT
    position = 0
    for match in _SUBJECT_SLOT.finditer(template):
        if match.start() > position:
            pieces.append(Piece(template[position:match.start()], atomic=True, lead=""))
        position = match.end()
        before, name, after = match.groups()
        value = _clean(case.order.product) if name == "product" else values[name]
        if not value:
            continue  # a missing product or problem type is left out with its brackets
        if name == "order_number" and _clean(case.order.number):
            pieces.append(Piece(value, before=before, after=after, protect=len(value), lead=""))
        elif value.startswith("【"):
            pieces.append(Piece(value, before=before, after=after, atomic=True, lead=""))
        else:
            pieces.append(Piece(value, before=before, after=after, lead="", rank=1 if name == "problem" else 0))
    if position < len(template):
        pieces.append(Piece(template[position:], atomic=True, lead=""))
    return Draft([Line(pieces)])


def _reply_deadline(ctx: _Context) -> str:
    days = next((d.days for d in ctx.profile.deadlines if d.start == "submitted" and d.days), None)
    days = days or ctx.rules.followup.reply_days
    due = (_local(ctx.now, ctx.case) + timedelta(days=days)).date()
    wording = _wording(ctx) if ctx.profile.recipients else None
    if wording is None:
        return f"请于 {due.isoformat()} 前（{days} 日内）书面答复处理结果。"
    return _fill(wording.reply, ctx, due=due.isoformat(), days=str(days))


def _value_text(value: object, case: Case) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return _money(value)
    if isinstance(value, datetime):
        return _format_moment(value, case)
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, tuple):
        return "、".join(_clean(str(v)) for v in value)
    return _clean(str(value))


# ---------------------------------------------------------------------------------------------
# Evidence summary (used by the letter command without rendering anything)
# ---------------------------------------------------------------------------------------------


def summarize_evidence(files: Iterable[SourceFile], rules: Rules) -> tuple[str, ...]:
    """``("订单截图", "问题商品照片 3 份", ...)``: one short item per evidence kind, in kind order."""
    counts = Counter(f.kind for f in files)
    out = []
    for kind in EvidenceKind:
        if counts[kind]:
            label = rules.kinds[kind].label if kind in rules.kinds else kind.value
            out.append(label if counts[kind] == 1 else f"{label} {counts[kind]} 份")
    return tuple(out)


# ---------------------------------------------------------------------------------------------
# Fitting text into a limit
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Piece:
    """A fragment of a field's text. ``before``/``after`` are fixed decorations that are never cut."""

    text: str
    rank: int = Rank.KEEP  # 0: never dropped; higher ranks are dropped first
    lead: str = "，"  # separator before this piece unless it is the first one left in its line
    before: str = ""
    after: str = ""
    protect: int = 0  # leading characters of ``text`` that cutting must keep (the order number)
    atomic: bool = False  # placeholders and amounts: kept whole or dropped, never cut
    share: float | None = None  # when the text is too long, first cut this piece to this share of the limit
    uid: int = field(default=-1, compare=False)  # set by fit() to find the piece again after cutting

    def render(self, first: bool) -> str:
        return ("" if first else self.lead) + self.before + self.text + self.after


@dataclass(frozen=True)
class Line:
    pieces: list[Piece]
    head: str = ""  # printed before the pieces while at least one piece is left
    tail: str = ""  # appended unless the text already ends with sentence punctuation

    def render(self) -> str:
        body = "".join(p.render(i == 0) for i, p in enumerate(self.pieces))
        if not body:
            return ""
        # A sentence-ending tail ("。") is not doubled after the user's own punctuation.
        if self.tail and (self.tail not in _SENTENCE_END or body[-1] not in _SENTENCE_END):
            body += self.tail
        return self.head + body


@dataclass(frozen=True)
class Draft:
    lines: list[Line]
    numbered: bool = False
    separator: str = "\n"

    def render(self) -> str:
        rendered = [text for text in (line.render() for line in self.lines) if text]
        if self.numbered:
            rendered = [f"{i}. {text}" for i, text in enumerate(rendered, 1)]
        return self.separator.join(rendered)


def measure(text: str) -> int:
    """Characters a web form may count: a line break counts twice, because a browser submits a
    textarea with CRLF line breaks and some sites count both characters."""
    return len(text) + text.count("\n")


@dataclass(frozen=True)
class Fitted:
    text: str
    cuts: tuple[Cut, ...] = ()  # in the order of the pieces; a last-resort cut of the whole text last


def fit_text(draft: Draft, limit: int | None) -> str:
    """The text of :func:`fit`."""
    return fit(draft, limit).text


def fit(draft: Draft, limit: int | None) -> Fitted:
    """Render ``draft`` within ``limit`` characters (by :func:`measure`), saying what was cut.

    0. cut pieces that carry a ``share`` down to that share of the limit, so one rambling
       sentence of the user's cannot crowd out every other fact;
    1. drop pieces of rank > 0, highest rank first (ties: the later piece first);
    2. cut the long non-atomic pieces down to a common length with "…" (see :func:`_cut_level`),
       keeping each piece's protected prefix;
    3. as a last resort cut the whole text (only when protected text alone exceeds the limit).
    """
    text = draft.render()
    if limit is None or measure(text) <= limit:
        return Fitted(text)
    originals: list[Piece] = []
    lines = []
    for line in draft.lines:
        pieces = []
        for piece in line.pieces:
            piece = replace(piece, uid=len(originals))
            originals.append(piece)
            pieces.append(_capped(piece, limit))
        lines.append(replace(line, pieces=pieces))
    current = replace(draft, lines=lines)
    text = current.render()

    def result(final: str, whole: Cut | None = None) -> Fitted:
        left = {p.uid: p for line in lines for p in line.pieces}
        cuts = []
        for piece in originals:
            now = left.get(piece.uid)
            if now is None:
                cuts.append(Cut(piece.before + piece.text + piece.after))
            elif now.text != piece.text:
                cuts.append(Cut(piece.text, now.text.removesuffix(ELLIPSIS)))
        return Fitted(final, tuple(cuts) + ((whole,) if whole else ()))

    while measure(text) > limit:
        # max() of (rank, line, position): the highest rank, and among equals the later piece.
        candidates = [(p.rank, li, pi) for li, line in enumerate(lines) for pi, p in enumerate(line.pieces)
                      if p.rank > 0]
        if not candidates:
            break
        _, li, pi = max(candidates)
        del lines[li].pieces[pi]
        text = current.render()
    if measure(text) <= limit:
        return result(text)

    cuttable = [(li, pi) for li, line in enumerate(lines) for pi, p in enumerate(line.pieces) if not p.atomic]
    level = _cut_level([lines[li].pieces[pi] for li, pi in cuttable], measure(text) - limit)
    for li, pi in cuttable:
        piece = lines[li].pieces[pi]
        keep = max(level, piece.protect, 1)
        if keep + len(ELLIPSIS) < len(piece.text):
            lines[li].pieces[pi] = replace(piece, text=_cut(piece.text, keep) + ELLIPSIS)
    text = current.render()
    if measure(text) <= limit:
        return result(text)
    final = hard_cut(text, limit)
    return result(final, Cut(text, final.removesuffix(ELLIPSIS)))


def _capped(piece: Piece, limit: int) -> Piece:
    if piece.share is None or piece.atomic:
        return piece
    keep = max(int(limit * piece.share), piece.protect, 1)
    if keep + len(ELLIPSIS) >= len(piece.text):
        return piece
    return replace(piece, text=_cut(piece.text, keep) + ELLIPSIS)


def _cut_level(pieces: Sequence[Piece], excess: int) -> int:
    """The longest length L such that cutting every piece longer than L down to L (plus "…")
    saves ``excess`` characters: long pieces are shortened evenly instead of one losing it all."""

    def saved(level: int) -> int:
        total = 0
        for p in pieces:
            keep = max(level, p.protect, 1)
            total += max(0, len(p.text) - keep - len(ELLIPSIS))
        return total

    low, high = 0, max((len(p.text) for p in pieces), default=0)
    if saved(low) < excess:
        return low  # cannot be saved by cutting alone; hard_cut finishes
    while low < high:  # saved() only grows as the level falls: find the highest level that suffices
        mid = (low + high + 1) // 2
        if saved(mid) >= excess:
            low = mid
        else:
            high = mid - 1
    return low


def hard_cut(text: str, limit: int) -> str:
    """The longest prefix of ``text`` that fits ``limit`` with "…" appended."""
    if limit <= 0:
        return ""
    if limit < len(ELLIPSIS) + 1:
        return ELLIPSIS[:limit]
    end = len(text)
    while end > 0 and measure(text[:end]) + len(ELLIPSIS) > limit:
        end -= 1
    return _cut(text, end) + ELLIPSIS


def _cut(text: str, keep: int) -> str:
    """``text[:keep]`` without a dangling combining mark, joiner or trailing space."""
    out = text[:keep]
    while out and (unicodedata.combining(out[-1]) or out[-1] in "\u200d\ufe0f" or out[-1].isspace()):
        out = out[:-1]
    return out


# ---------------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------------


def _single(value: str, label: str, *, protect: bool = False) -> Draft:
    if not value:
        return Draft([Line([Piece(_placeholder(label), atomic=True)])])
    return Draft([Line([Piece(value, protect=len(value) if protect else 0)])])


def _placeholder(label: str) -> str:
    return f"【请填写：{label}】"


def _clean(text: str) -> str:
    """User text as one line of plain text: NFC, no control characters, whitespace collapsed."""
    text = unicodedata.normalize("NFC", text or "")
    text = "".join(" " if unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch for ch in text)
    return re.sub(r"\s+", " ", text).strip()


def _sentences(text: str) -> list[str]:
    """Sentences of a user text (split at 。！？；and line breaks), each ending in punctuation."""
    out = []
    for raw in _SENTENCE_RE.findall(unicodedata.normalize("NFC", text or "")):
        sentence = _clean(raw)
        if not sentence or all(ch in _SENTENCE_END for ch in sentence):
            continue
        if sentence[-1] not in _SENTENCE_END:
            sentence += "。"
        out.append(sentence)
    return out


def _money(value: Decimal) -> str:
    return f"¥{value.quantize(_CENT, ROUND_HALF_UP):,.2f}"


def _local(moment: datetime, case: Case) -> datetime:
    return moment.astimezone(case.tz) if moment.tzinfo is not None else moment.replace(tzinfo=case.tz)


def _format_moment(moment: datetime, case: Case) -> str:
    return format_datetime(_local(moment, case), with_seconds=False)


def _format_date(moment: datetime | None, case: Case) -> str:
    return _local(moment, case).date().isoformat() if moment else ""


def letter_placeholders(letter: Letter) -> int:
    """How many 【请填写：…】 placeholders the letter still holds."""
    return sum(item.text.count("【请填写") for item in letter.fields)

