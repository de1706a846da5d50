"""``--mask-personal``: a dossier fit for public posting (a forum, a social-media complaint).

What is masked, in every text the dossier carries (pages, bookmarks, metadata, the manifest):

- the complainant's name, phone, address and email wherever they appear, and the street-level
  part of the merchant's address (an address keeps its province, city and district);
- in any text: mobile and landline numbers, resident ID numbers, email addresses, and street
  addresses (a road with a house number, an estate with a building number, and what follows);
- file names and paths (the manifest's too), titles, ``proves``, notes, ``events[].ref``, chat
  transcripts (speakers and messages), time details and findings.

No original is attached: an original is the user's file byte for byte, and its pixels or
metadata may show exactly what is masked here; a copy with only some of it masked would still
publish the rest. Hashes stay, so the owner of the originals can still prove them. Text inside
photos and screenshots is not read: ``redact:`` rectangles in case.yaml cover it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import fields, is_dataclass, replace
from enum import Enum
from typing import TYPE_CHECKING, Any, TypeVar

from evidencekit.model import Case

if TYPE_CHECKING:
    from evidencekit.buildtypes import Assessment

T = TypeVar("T")

# Mainland mobile numbers (11 digits starting 1[3-9]) and landlines with an area code.
_MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)[ -]?(\d{4})[ -]?(\d{4})(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)(0\d{2,3})-?(\d{7,8})(?!\d)")
# Resident ID: area (6), birth date (8, a real-looking date), sequence and check digit or X. The
# date keeps 18-digit order numbers from being taken for IDs.
_ID_CARD = re.compile(r"(?<![\dA-Za-z])(\d{6})((?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01]))"
                      r"(\d{3}[\dXx])(?![\dA-Za-z])")
_EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*(@[A-Za-z0-9.-]+\.[A-Za-z]{2,})")
# The part of an address after the district/county is the street-level detail.
_ADDRESS_TAIL = re.compile(r"^(.*?(?:省|自治区|市|区|县|旗))([^省市区县旗]*?(?:路|街|道|巷|弄|号|村|镇|乡|小区|大厦|栋|室).*)$")
# Street addresses inside free text: a road and house number, or an estate and building number,
# then the building, unit and room that follow. The name before the marker never spans a
# province/city/district word or punctuation, so "杭州市西湖区" stays and the rest goes.
_PLACE_CHAR = r"[^\s，。,.;；:：!！?？、（）()\[\]【】“”\"'省市区县旗在到寄送至住址是的]"
_MORE = r"(?:[\u4e00-\u9fffA-Za-z]{0,8}?[\dA-Za-z-]+\s*(?:号楼|栋|幢|座|单元|楼|层|室|号|户)?)*"
_STREET = re.compile(
    rf"{_PLACE_CHAR}{{1,10}}?(?:路|街|大道|巷|弄|胡同)\s*\d+[\d-]*\s*号{_MORE}"
    rf"|{_PLACE_CHAR}{{1,10}}?(?:小区|花园|公寓|大厦|家园|新村|苑)\s*\d+[\dA-Za-z-]*\s*(?:号楼|栋|幢|座|号){_MORE}")

# Fields that are identifiers, not text a person wrote: masking a digit run in a hash would break it.
_KEEP_FIELDS = frozenset({"sha256", "encoding", "code", "key", "root", "tz", "credit_code"})


def mask_name(name: str) -> str:
    if not name:
        return name
    return name[0] + "*" * max(1, len(name) - 1)


def mask_address(address: str) -> str:
    m = _ADDRESS_TAIL.match(address)
    if m:
        return m.group(1) + "****"
    return address[:6] + "****" if len(address) > 6 else "****"


class Masker:
    """Masks one case's personal data in any text, counting what it replaced."""

    def __init__(self, case: Case | None = None) -> None:
        self.counts: Counter[str] = Counter()
        literals: dict[str, tuple[str, str]] = {}  # text -> (replacement, what it is)
        if case is not None:
            c = case.complainant
            for address in (c.address, case.merchant.address):
                if address:
                    literals[address] = (mask_address(address), "详细地址")
                    tail = _ADDRESS_TAIL.match(address)
                    if tail and len(tail.group(2)) >= 4:
                        literals[tail.group(2)] = ("****", "详细地址")
            if c.phone:
                literals[c.phone] = (self._numbers(c.phone, count=False), "投诉人电话")
            if c.email:
                literals[c.email] = (_EMAIL.sub(lambda m: f"{m.group(1)}***{m.group(2)}", c.email), "投诉人邮箱")
            if len(c.name.strip()) >= 2:  # one character would be masked inside every word it starts
                literals[c.name.strip()] = (mask_name(c.name.strip()), "投诉人姓名")
        # Longest first: an address containing the name is masked as an address.
        self._literals = sorted(((k, *v) for k, v in literals.items() if k.strip()), key=lambda x: -len(x[0]))

    def text(self, text: str) -> str:
        if not text:
            return text
        for literal, replacement, what in self._literals:
            if literal in text and literal != replacement:
                self.counts[what] += text.count(literal)
                text = text.replace(literal, replacement)
        text = self._numbers(text)
        return self._sub(_STREET, lambda _m: "****", text, "详细地址")

    def _numbers(self, text: str, count: bool = True) -> str:
        what = (lambda name: name) if count else (lambda _name: "")
        text = self._sub(_ID_CARD, lambda m: m.group(1)[:4] + "*" * 10 + m.group(3)[-4:], text, what("身份证号"))
        text = self._sub(_MOBILE, lambda m: f"{m.group(1)}****{m.group(3)}", text, what("手机号"))
        text = self._sub(_LANDLINE, lambda m: f"{m.group(1)}-****{m.group(2)[-2:]}", text, what("固定电话"))
        return self._sub(_EMAIL, lambda m: f"{m.group(1)}***{m.group(2)}", text, what("邮箱"))

    def _sub(self, pattern: re.Pattern[str], repl: Callable[[re.Match[str]], str], text: str, what: str) -> str:
        new, n = pattern.subn(repl, text)
        if n and what:
            self.counts[what] += n
        return new

    def deep(self, value: T) -> T:
        """``value`` with every text inside it masked: strings, tuples, frozen dataclasses."""
        return _deep(value, self.text)


def _deep(value: Any, text: Callable[[str], str]) -> Any:
    if isinstance(value, Enum):  # StrEnum values are names, not text
        return value
    if isinstance(value, str):
        return text(value)
    if isinstance(value, tuple):
        return tuple(_deep(item, text) for item in value)
    if is_dataclass(value) and not isinstance(value, type):
        changes = {f.name: _deep(getattr(value, f.name), text) for f in fields(value)
                   if f.init and f.name not in _KEEP_FIELDS}
        return replace(value, **changes)
    return value


def mask_case(case: Case, masker: Masker | None = None) -> Case:
    """The complainant's name, phone, address and email; personal data in every other text."""
    masker = masker or Masker(case)
    c = case.complainant
    phone = masker.text(c.phone)
    complainant = replace(
        masker.deep(c),
        name=mask_name(c.name),
        phone=phone if phone != c.phone or not c.phone else "*" * len(c.phone),
        address=mask_address(c.address) if c.address else "",
    )
    merchant = replace(masker.deep(case.merchant),
                       address=mask_address(case.merchant.address) if case.merchant.address else "")
    return replace(masker.deep(case), complainant=complainant, merchant=merchant)


def mask_assessment(a: Assessment) -> tuple[Assessment, tuple[str, ...]]:
    """--mask-personal for a whole assessed case, and what was masked (Chinese, for the terminal)."""
    masker = Masker(a.case)
    case = mask_case(a.case, masker)
    exhibits = masker.deep(a.exhibits)
    renamed = sum(1 for old, new in zip(a.exhibits, exhibits, strict=True) if old.source.rel_path != new.source.rel_path)
    masked = replace(a, case=case, exhibits=exhibits, findings=masker.deep(a.findings),
                     checklist=masker.deep(a.checklist), advice=masker.deep(a.advice),
                     inventory=masker.deep(a.inventory))
    c = a.case.complainant
    facts = [label for label, value in (("投诉人姓名", c.name), ("电话", c.phone), ("地址", c.address),
                                         ("邮箱", c.email)) if value]
    if a.case.merchant.address:
        facts.append("商家地址的街道门牌")
    parts = []
    if facts:
        parts.append("、".join(facts))
    in_text = [f"{what} {n} 处" for what, n in sorted(masker.counts.items()) if n]
    if in_text:
        parts.append("文字中" + "、".join(in_text))
    if renamed:
        parts.append(f"文件名 {renamed} 个")
    notes = ("已隐去个人信息（--mask-personal）：" + ("；".join(parts) if parts else "没有找到需要隐去的内容"),
             "原件未附（原件是未经改动的文件，可能含有这些信息）；哈希照常列出，持有原件可以核对",
             "照片和截图里的文字无法自动识别，请在 case.yaml 的 redact 里画矩形遮挡后重新生成")
    return masked, notes
