"""``--mask-personal``: hide phone numbers, ID numbers and street addresses in generated text.

For dossiers that will be posted publicly (a forum, a social-media complaint). It masks the
text we generate and the chat transcripts we typeset; it cannot see text inside photos or
screenshots — use ``redact:`` rectangles in case.yaml for those. Hashes and attachments are
untouched (use ``--no-originals`` as well when posting publicly).
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING

from evidencekit.model import Case, ChatInspection, ChatMessage, Exhibit, TextInspection

if TYPE_CHECKING:
    from evidencekit.pipeline import Assessment

# Mainland mobile numbers (11 digits starting 1[3-9]) and landlines with an area code.
_MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)[ -]?(\d{4})[ -]?(\d{4})(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)(0\d{2,3})-?(\d{7,8})(?!\d)")
# Resident ID: 17 digits + digit or X.
_ID_CARD = re.compile(r"(?<![\dA-Za-z])(\d{6})(\d{8})(\d{3}[\dXx])(?![\dA-Za-z])")
# The part of an address after the district/county is the street-level detail.
_ADDRESS_TAIL = re.compile(r"^(.*?(?:省|自治区|市|区|县|旗))([^省市区县旗]*?(?:路|街|道|巷|弄|号|村|镇|乡|小区|大厦|栋|室).*)$")
_EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*(@[A-Za-z0-9.-]+\.[A-Za-z]{2,})")


def mask_text(text: str) -> str:
    text = _ID_CARD.sub(lambda m: m.group(1)[:4] + "*" * 10 + m.group(3)[-4:], text)
    text = _MOBILE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)
    text = _LANDLINE.sub(lambda m: f"{m.group(1)}-****{m.group(2)[-2:]}", text)
    text = _EMAIL.sub(lambda m: f"{m.group(1)}***{m.group(2)}", text)
    return text


def mask_address(address: str) -> str:
    m = _ADDRESS_TAIL.match(address)
    if m:
        return m.group(1) + "****"
    return address[:6] + "****" if len(address) > 6 else "****"


def mask_name(name: str) -> str:
    if not name:
        return name
    return name[0] + "*" * max(1, len(name) - 1)


def mask_case(case: Case) -> Case:
    """The complainant's name, phone, address and email; any phone/ID in free text."""
    c = case.complainant
    complainant = replace(
        c,
        name=mask_name(c.name),
        phone=mask_text(c.phone) if _MOBILE.search(c.phone) or _LANDLINE.search(c.phone) else "*" * len(c.phone),
        address=mask_address(c.address) if c.address else "",
        email=mask_text(c.email),
    )
    problem = replace(case.problem, summary=mask_text(case.problem.summary), details=mask_text(case.problem.details))
    events = tuple(replace(e, note=mask_text(e.note)) for e in case.events)
    evidence = tuple(replace(e, note=mask_text(e.note), title=mask_text(e.title)) for e in case.evidence)
    return replace(case, complainant=complainant, problem=problem, events=events, evidence=evidence)


def mask_exhibit(exhibit: Exhibit, self_names: tuple[str, ...] = ()) -> Exhibit:
    """Chat transcripts: numbers in message text, and the shopper's own name as speaker."""
    insp = exhibit.inspection
    ex = replace(exhibit, title=mask_text(exhibit.title), note=mask_text(exhibit.note))
    if not isinstance(insp, ChatInspection | TextInspection) or insp.transcript is None:
        return ex
    transcript = insp.transcript

    def one(m: ChatMessage) -> ChatMessage:
        speaker = mask_name(m.speaker) if m.speaker in self_names else m.speaker
        return replace(m, speaker=speaker, text=mask_text(m.text))

    masked = replace(
        transcript,
        messages=tuple(one(m) for m in transcript.messages),
        raw_text=mask_text(transcript.raw_text),
    )
    return replace(ex, inspection=replace(insp, transcript=masked))


def mask_assessment(a: Assessment) -> Assessment:
    """--mask-personal for a whole assessed case: its case.yaml facts and every exhibit's text."""
    self_names = tuple(n for n in (a.case.complainant.name,) if n)
    return replace(a, case=mask_case(a.case), exhibits=tuple(mask_exhibit(ex, self_names) for ex in a.exhibits))
