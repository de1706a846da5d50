"""case.yaml → :class:`~evidencekit.model.Case`, with every problem reported at once.

The file comes from strangers (volunteers receive case folders from anyone), so it is composed
with PyYAML's *safe* loader into a node tree and never constructed into arbitrary objects. The
nodes carry line numbers, and their original scalar text: ``number: 6912345678901234567`` stays
a string with every digit, ``12:31`` is not read as the sexagesimal integer 751, ``399.00``
keeps its cents. Each key is checked against the schema below (and templates/case.yaml.tmpl); each problem becomes a
:class:`CaseProblem` and all of them are raised together in one :class:`CaseFileError`.
"""

from __future__ import annotations

import difflib
import os
import re
import stat
import string
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, tzinfo
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from importlib import resources
from pathlib import Path, PureWindowsPath
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from evidencekit.errors import CaseFileError, CaseFolderError, CaseProblem, TimeOutOfRange
from evidencekit.media.moments import parse_moment  # the one definition of a moment's timecode
from evidencekit.model import (
    SHANGHAI,
    Case,
    Complainant,
    Event,
    EventChannel,
    EvidenceKind,
    EvidenceOverride,
    Livestream,
    Merchant,
    Order,
    Problem,
    Rect,
)
from evidencekit.rules.catalog import Vocabulary, choices_text, load_rules, resolve_word
from evidencekit.timeinfo import parse_utc_offset

# ---------------------------------------------------------------------------------------------
# Allowed values. Platforms, problem types and claims are the keys of templates/platforms.yaml
# and templates/problem_types.yaml, so a volunteer who adds one there needs no code change;
# they are read on first use (templates cost ~0.1 s, which `evidencekit --help` should not pay).
# The Chinese spellings accepted in case.yaml come from there too (labels, aliases, folder names).
# ---------------------------------------------------------------------------------------------

SCHEMA_VERSION = 1


def allowed_platforms() -> tuple[str, ...]:
    return tuple(load_rules().platforms)


def allowed_problem_types() -> tuple[str, ...]:
    return tuple(load_rules().problem_types)


def allowed_claims() -> tuple[str, ...]:
    return tuple(load_rules().claim_labels)


_LAZY_CONSTANTS = {"PLATFORMS": allowed_platforms, "PROBLEM_TYPES": allowed_problem_types, "CLAIMS": allowed_claims}


def __getattr__(name: str) -> tuple[str, ...]:
    """``case.load.PROBLEM_TYPES`` etc., computed from templates/ when first asked for."""
    if name in _LAZY_CONSTANTS:
        return _LAZY_CONSTANTS[name]()
    raise AttributeError(name)


# The values case.yaml may write (the aliases in followup.yaml are mapped onto these).
EVENT_CHANNELS = tuple(channel.value for channel in EventChannel)

EVIDENCE_KINDS = tuple(kind.value for kind in EvidenceKind)

TRUE_WORDS = ("true", "yes", "on", "y", "是", "已确认", "已确认收货")
FALSE_WORDS = ("false", "no", "off", "n", "否", "未确认", "未确认收货")

# ---------------------------------------------------------------------------------------------
# Keys (each tuple matches the fields of the model dataclass it fills; a test checks that)
# ---------------------------------------------------------------------------------------------

TOP_LEVEL_KEYS = (
    "schema",
    "platform",
    "platform_name",
    "timezone",
    "complainant",
    "merchant",
    "livestream",
    "order",
    "problem",
    "claims",
    "events",
    "evidence",
)
EVENT_KEYS = ("time", "channel", "note", "ref")
EVIDENCE_KEYS = ("file", "kind", "title", "proves", "time", "note", "redact", "moments", "number")

# Chinese words a user may write as a top-level key; only used to suggest the English key.
_KEY_HINTS = {
    "版本": "schema",
    "平台": "platform",
    "时区": "timezone",
    "投诉人": "complainant",
    "消费者": "complainant",
    "商家": "merchant",
    "店铺": "merchant",
    "被投诉人": "merchant",
    "直播": "livestream",
    "直播间": "livestream",
    "订单": "order",
    "问题": "problem",
    "诉求": "claims",
    "要求": "claims",
    "跟进": "events",
    "记录": "events",
    "证据": "evidence",
}

CASE_FILE_NAMES = ("case.yaml", "case.yml")
MAX_CASE_FILE_BYTES = 1024 * 1024
TEMPLATE_NAME = "case.yaml.tmpl"
TEMPLATE_FIELDS = ("platform", "problem_type", "order_number", "product", "amount")

# Anchors and aliases let a 1 MiB file describe billions of nodes; the walk stops long before.
_MAX_NODES = 100_000
_MAX_PROBLEMS = 100
_MAX_AMOUNT = Decimal(100_000_000)
_CENT = Decimal("0.01")

_TOP = "(顶层)"
_SYNTAX = "(YAML 语法)"
_FILE = "(案件文件)"
_TIME_EXPECTED = "如 2024-11-14 19:21、2024-11-14 19:21:40 或 2024年11月14日 19:21（未写时区按案件时区）"
_PATH_EXPECTED = "相对于案件文件夹的路径，如 evidence/order/订单截图.png"
_OUTSIDE = "路径超出案件文件夹"

_NULL_TAG = "tag:yaml.org,2002:null"


# ---------------------------------------------------------------------------------------------
# Public entry points
# ---------------------------------------------------------------------------------------------


def find_case_file(root: Path) -> Path | None:
    """The case file in ``root`` (``case.yaml`` before ``case.yml``), or None."""
    for name in CASE_FILE_NAMES:
        candidate = root / name
        if os.path.lexists(candidate):
            return candidate
    return None


def load_case(root: Path) -> Case:
    """Read ``root/case.yaml`` once into a :class:`Case`; a folder without one is zero-config.

    Raises :class:`CaseFolderError` when ``root`` is not a readable folder and
    :class:`CaseFileError` (every problem at once) when the case file cannot be used.
    """
    _check_folder(root)
    resolved_root = root.resolve()
    present = [name for name in CASE_FILE_NAMES if os.path.lexists(root / name)]
    if not present:
        return Case(root=resolved_root, has_case_file=False)
    case_file = root / present[0]
    if len(present) > 1:
        # Two files: the user may be editing the one we would ignore.
        raise CaseFileError(str(case_file), [CaseProblem(
            _FILE, "案件文件夹里同时有 case.yaml 和 case.yml，不知道该用哪一个",
            expected="只保留其中一个")])
    text, _encoding = read_case_text(case_file, resolved_root)
    return case_from_text(resolved_root, text, str(case_file))


def case_from_text(root: Path, text: str, where: str) -> Case:
    """The :class:`Case` that ``text`` would be as the case file of ``root`` (resolved), or
    :class:`CaseFileError` with every problem: what :func:`load_case` says of a file, said of a
    text before it is written (the page checks an edit with it)."""
    node = parse_case_yaml(text, where)
    walker = _Walker(root)
    try:
        case = walker.case(node)
    except _TooComplex:
        walker.problems.append(CaseProblem(
            _TOP, f"文件结构过于复杂（超过 {_MAX_NODES} 个节点，可能滥用了 YAML 锚点/别名）",
            expected="普通的键值和列表"))
    if walker.problems:
        raise CaseFileError(where, _ordered(walker.problems))
    return case


def read_case_text(case_file: Path, root: Path | None = None) -> tuple[str, str]:
    """The decoded text of a case file and the codec that decoded it.

    ``root`` (resolved), when given, is the folder the file must stay inside: a ``case.yaml``
    that is a link to ``/etc/shadow`` would otherwise end up quoted in our error messages.
    """
    where = str(case_file)

    def fail(message: str, expected: str = "") -> CaseFileError:
        return CaseFileError(where, [CaseProblem(_FILE, message, expected=expected)])

    try:
        if root is not None and not case_file.resolve().is_relative_to(root):
            raise fail(f"案件文件是指向文件夹外的链接（{_OUTSIDE}）", "案件文件夹里的普通文件")
        info = case_file.stat()
    except (OSError, RuntimeError) as exc:  # RuntimeError: a symlink loop on resolve()
        raise fail(f"无法读取案件文件：{exc}") from exc
    if not stat.S_ISREG(info.st_mode):
        raise fail("案件文件不是普通文件", "一个 YAML 文本文件")
    if info.st_size > MAX_CASE_FILE_BYTES:
        raise fail(f"案件文件过大（{info.st_size} 字节）", "不超过 1 MiB 的文本文件")
    try:
        with case_file.open("rb") as handle:
            data = handle.read(MAX_CASE_FILE_BYTES + 1)
    except OSError as exc:
        raise fail(f"无法读取案件文件：{exc}") from exc
    if len(data) > MAX_CASE_FILE_BYTES:  # grew between stat and read
        raise fail("案件文件过大", "不超过 1 MiB 的文本文件")
    decoded = decode_case_bytes(data)
    if decoded is None:
        raise fail("无法识别案件文件的文字编码", "UTF-8（推荐）或 GBK/GB18030 编码的文本文件")
    return decoded


def decode_case_bytes(data: bytes) -> tuple[str, str] | None:
    """Decode with a BOM, else strict UTF-8, else GB18030 (old Windows editors save GBK)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        codecs: tuple[str, ...] = ("utf-16",)  # Notepad's "Unicode"; the codec reads the BOM
    else:
        codecs = ("utf-8-sig", "gb18030")
    for codec in codecs:
        try:
            return data.decode(codec), codec
        except UnicodeDecodeError:
            continue
    return None


# libyaml composes a case.yaml several times faster than PyYAML's pure-Python composer, and its
# tree has the same values, tags, flow styles and line/column/index marks, except where the two
# disagree: libyaml accepts a tab after a colon that the pure-Python scanner refuses, leaves a
# byte-order mark out of mark indexes, ends a collection at the end of a last line without a line
# break elsewhere, nests deeper before failing, and words its errors differently. Such texts, and
# every text libyaml refuses, are composed again by the pure-Python composer, whose errors and
# marks are what _syntax_problem reports; where PyYAML was built without libyaml only that one runs.
_FAST_LOADER: Any = getattr(yaml, "CSafeLoader", None)
_PURE_ONLY = re.compile("[\t\ufeff]")
_FAST_MAX_DEPTH = 64  # a real case.yaml nests 4 levels; the pure-Python composer fails near 500


class _NeedsPurePython(Exception):
    """libyaml's tree would differ from the pure-Python composer's, or libyaml refused the text."""


def _compose_fast(text: str) -> Node | None:
    if _FAST_LOADER is None or not text.endswith("\n") or _PURE_ONLY.search(text):
        raise _NeedsPurePython
    try:
        top = yaml.compose(text, Loader=_FAST_LOADER)
    except (yaml.YAMLError, UnicodeError) as exc:  # a lone surrogate cannot be encoded for libyaml
        raise _NeedsPurePython from exc
    # Without an alias (a shared node) the tree is as deep as the text nests, and no bigger.
    seen: set[int] = set()
    level: list[Node] = [top] if top is not None else []
    for _ in range(_FAST_MAX_DEPTH):
        level = [child for node in level if isinstance(node, (MappingNode, SequenceNode))
                 for child in _children(node)]
        if not level:
            return top
        before = len(seen)
        seen.update(map(id, level))
        if len(seen) - before < len(level):
            raise _NeedsPurePython
    raise _NeedsPurePython


def _children(node: MappingNode | SequenceNode) -> list[Node]:
    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    return list(node.value)


def parse_case_yaml(text: str, where: str) -> Node | None:
    """Compose (never construct) the YAML node tree; None for an empty file."""
    try:
        return _compose_fast(text)
    except _NeedsPurePython:
        pass
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        raise CaseFileError(where, [_syntax_problem(text, exc)]) from exc
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        raise CaseFileError(where, [CaseProblem(
            _SYNTAX, f"文件里有不能出现在 YAML 中的字符（U+{exc.character:04X}）" if isinstance(
                exc.character, int) else "文件里有不能出现在 YAML 中的字符",
            line=line, expected="可见的文字；请删除该字符")]) from exc
    except yaml.YAMLError as exc:
        raise CaseFileError(where, [CaseProblem(_SYNTAX, f"YAML 无法解析：{exc}")]) from exc
    except RecursionError as exc:
        raise CaseFileError(where, [CaseProblem(_SYNTAX, "列表或键值表嵌套层次过深")]) from exc


def parse_case_time(text: str, tz: tzinfo) -> datetime:
    """An aware datetime from the ways people write times; naive ones are taken in ``tz``.

    Accepts ``2024-11-14``, ``2024-11-14 19:21``, ``2024-11-14 19:21:40``, ``2024/11/14 19:21``,
    ``2024年11月14日 19:21``, ``2024年11月14日19时21分``, ISO ``2024-11-14T19:21:40+08:00``
    and YAML's ``2024-11-14 19:21:40.5 +8``. Raises ValueError otherwise.
    """
    match = _TIME_RE.match(text)
    if match is None:
        raise ValueError(f"unrecognised time: {text!r}")
    parts = match.groupdict()
    fraction = (parts["frac"] or "").ljust(6, "0")[:6]
    moment = datetime(
        int(parts["y"]), int(parts["mo"]), int(parts["d"]),
        int(parts["h"] or 0), int(parts["mi"] or 0), int(parts["s"] or 0), int(fraction or 0),
    )
    zone = _parse_offset(parts["tz"]) if parts["tz"] else tz
    return check_time_range(moment.replace(tzinfo=zone))


def parse_time_answer(text: str, tz: tzinfo) -> datetime:
    """:func:`parse_case_time`, raising ValueError with args (problem, expected): the words a time
    in case.yaml is refused with; `init` asks again with them."""
    try:
        return parse_case_time(text, tz)
    except TimeOutOfRange:
        raise ValueError("日期时间超出可用范围", _RANGE_EXPECTED) from None
    except (ValueError, OverflowError):
        raise ValueError("无法识别的日期时间", _TIME_EXPECTED) from None


# Dates a case can carry: livestream shopping happens well inside these years, and datetime
# arithmetic on the deadlines (7 days, 15 working days…) must never leave datetime's range.
MIN_CASE_YEAR = 1970
MAX_CASE_YEAR = 2100
_RANGE_EXPECTED = f"{MIN_CASE_YEAR} 年到 {MAX_CASE_YEAR} 年之间的日期，时区偏移在 -12:00 到 +14:00 之间"


def check_time_range(moment: datetime) -> datetime:
    try:
        utc = moment.astimezone(UTC)
    except (OverflowError, ValueError) as exc:
        raise TimeOutOfRange(f"time out of range: {moment!r}") from exc
    if not (MIN_CASE_YEAR <= moment.year <= MAX_CASE_YEAR and MIN_CASE_YEAR - 1 <= utc.year <= MAX_CASE_YEAR):
        raise TimeOutOfRange(f"time out of range: {moment!r}")
    return moment


def parse_timezone(text: str) -> tzinfo:
    """``Asia/Shanghai`` (→ ``model.SHANGHAI``), other IANA names, ``+08:00``, ``UTC+8``, ``UTC``."""
    value = text.strip()
    if value.lower() in ("asia/shanghai", "北京时间", "prc", "asia/chongqing", "asia/harbin"):
        return SHANGHAI
    if value.upper() in ("UTC", "GMT", "Z"):
        return UTC
    offset = re.fullmatch(r"(?:UTC|GMT)?\s*([+-]\d{1,2}(?::?\d{2})?)", value, re.IGNORECASE)
    if offset:
        return _parse_offset(offset.group(1))
    if not value or "\x00" in value:
        raise ValueError("empty time zone")
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise ValueError(f"unknown time zone {value!r}") from exc


def yaml_quote(text: str) -> str:
    """``text`` as a YAML double-quoted scalar that reads back as exactly ``text``."""
    out = ['"']
    for char in text:
        code = ord(char)
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif _yaml_printable(code):
            out.append(char)
        elif code <= 0xFF:
            out.append(f"\\x{code:02x}")
        elif code <= 0xFFFF:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


def render_case_template(answers: Mapping[str, str]) -> str:
    """The commented case.yaml that ``init`` writes, with ``answers`` filled in.

    Keys of ``answers`` are :data:`TEMPLATE_FIELDS`; a missing or empty answer leaves the value
    empty (YAML null, which the loader reads as "not given"). Values are quoted, so an order
    number keeps every digit and a colon in a product name does not break the file.
    """
    unknown = sorted(set(answers) - set(TEMPLATE_FIELDS))
    if unknown:
        raise ValueError(f"unknown template fields: {', '.join(unknown)}")
    template = case_template_text()
    values = {
        name: yaml_quote(answers[name].strip()) if answers.get(name, "").strip() else ""
        for name in TEMPLATE_FIELDS
    }
    return _fill_template(template, values)


def case_template_text() -> str:
    """templates/case.yaml.tmpl, placeholders unfilled: the commented list of every case.yaml key."""
    return resources.files("evidencekit.templates").joinpath(TEMPLATE_NAME).read_text("utf-8")


def _fill_template(template: str, values: Mapping[str, str]) -> str:
    """str.format for named fields only: no attribute/index lookups reach the values."""
    out = []
    for literal, field_name, spec, conversion in string.Formatter().parse(template):
        out.append(literal)
        if field_name is None:
            continue
        if field_name not in values or spec or conversion:
            raise ValueError(f"template has an unsupported placeholder {{{field_name}}}")
        out.append(values[field_name])
    # An empty answer leaves "key: " behind; trailing blanks carry no meaning in the template.
    return re.sub(r"[ \t]+$", "", "".join(out), flags=re.MULTILINE)


# ---------------------------------------------------------------------------------------------
# Reading the node tree
# ---------------------------------------------------------------------------------------------


class _TooComplex(Exception):
    pass


_NOT_GIVEN: Any = object()

Parser = Callable[[Node, str], Any]


class _Walker:
    """Walks the composed nodes along the schema, collecting problems instead of stopping."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.tz: tzinfo = SHANGHAI
        self.problems: list[CaseProblem] = []
        self.visited = 0

    # -- the whole case ------------------------------------------------------------------------

    def case(self, node: Node | None) -> Case:
        top = self.mapping(node, "", TOP_LEVEL_KEYS)
        if top is None:
            return Case(root=self.root)
        # The zone is read first: every naive time below depends on it.
        if "timezone" in top:
            self.tz = self.timezone(top["timezone"], "timezone")
        kw: dict[str, Any] = {}
        if "schema" in top:
            self.schema(top["schema"], "schema")
        simple: dict[str, Parser] = {
            "platform": lambda n, p: self.choice(
                n, p, "platform", note="；其他平台写 other，并在 platform_name 填写平台名称"),
            "platform_name": self.text,
        }
        for key, parse in simple.items():
            if key in top:
                value = parse(top[key], key)
                if value is not None:
                    kw[key] = value
        sections: dict[str, tuple[type, dict[str, Parser]]] = {
            "complainant": (Complainant, {
                "name": self.text, "phone": self.text, "address": self.text, "email": self.text,
            }),
            "merchant": (Merchant, {
                "shop_name": self.text, "company": self.text, "credit_code": self.text,
                "address": self.text,
            }),
            "livestream": (Livestream, {
                "room": self.text, "host": self.text, "room_id": self.text, "time": self.time,
                "replay_url": self.text,
            }),
            "order": (Order, {
                "number": self.text, "time": self.time, "product": self.text, "spec": self.text,
                "amount": self.amount, "quantity": self.quantity, "category": self.text,
                "signed_at": self.time, "confirmed_receipt": self.boolean,
            }),
            "problem": (Problem, {
                "type": lambda n, p: self.choice(n, p, "problem_type"),
                "summary": self.text, "details": self.text, "discovered_at": self.time,
            }),
        }
        for key, (cls, fields) in sections.items():
            if key in top:
                kw[key] = cls(**self.section(top[key], key, fields))
        if "claims" in top:
            claims = [self.choice(item, path, "claim")
                      for path, item in self.sequence(top["claims"], "claims")]
            kw["claims"] = tuple(dict.fromkeys(c for c in claims if c is not None))
        if "events" in top:
            kw["events"] = self.events(top["events"])
        if "evidence" in top:
            kw["evidence"], kw["retired_numbers"] = self.evidence(top["evidence"])
        return Case(root=self.root, tz=self.tz, **kw)

    def section(self, node: Node, path: str, fields: dict[str, Parser]) -> dict[str, Any]:
        found = self.mapping(node, path, tuple(fields))
        values: dict[str, Any] = {}
        for key, value_node in (found or {}).items():
            value = fields[key](value_node, f"{path}.{key}")
            if value is not None:
                values[key] = value
        return values

    def events(self, node: Node) -> tuple[Event, ...]:
        events = []
        for path, item in self.sequence(node, "events"):
            found = self.mapping(item, path, EVENT_KEYS)
            if found is None:
                continue
            time = self.time(found["time"], f"{path}.time") if "time" in found else None
            channel = None
            if "channel" in found:
                channel = self.choice(found["channel"], f"{path}.channel", "channel")
            note = self.text(found["note"], f"{path}.note") if "note" in found else None
            ref = self.text(found["ref"], f"{path}.ref") if "ref" in found else None
            events.append(Event(time=time, channel=EventChannel(channel or EventChannel.OTHER), note=note or "",
                                ref=ref or ""))
        return tuple(events)

    def evidence(self, node: Node) -> tuple[tuple[EvidenceOverride, ...], tuple[tuple[int, str], ...]]:
        """The entries, and the (number, file) of numbered entries whose file is gone."""
        items: list[EvidenceOverride] = []
        retired: list[tuple[int, str]] = []
        seen: dict[str, str] = {}
        numbers: dict[int, str] = {}
        for path, item in self.sequence(node, "evidence"):
            found = self.mapping(item, path, EVIDENCE_KEYS)
            if found is None:
                continue
            number = self.exhibit_number(found["number"], f"{path}.number") if "number" in found else None
            if number is not None:
                if number in numbers:
                    self.add(f"{path}.number", f"证据编号 {number} 已在 {numbers[number]} 使用", found["number"],
                             expected="每个证据文件一个不同的编号；要重新连续编号请运行 evidencekit build --renumber")
                    number = None
                else:
                    numbers[number] = path
            if "file" in found and number is not None:
                gone = self.removed_file(found["file"])
                if gone is not None:
                    # The file was numbered by an earlier build and then removed: its number
                    # stays taken, so a later file never silently becomes that exhibit.
                    retired.append((number, gone))
                    continue
            file = self.evidence_file(found["file"], f"{path}.file") if "file" in found else None
            if "file" not in found:
                self.add(path, "缺少 file（这一条说明的是哪个证据文件）", item, show_value=False,
                         expected=_PATH_EXPECTED)
            kw: dict[str, Any] = {}
            if "kind" in found:
                kind = self.choice(found["kind"], f"{path}.kind", "kind")
                if kind is not None:
                    kw["kind"] = EvidenceKind(kind)
            for key in ("title", "proves", "note"):
                if key in found:
                    text = self.text(found[key], f"{path}.{key}")
                    if text is not None:
                        kw[key] = text
            if "time" in found:
                kw["time"] = self.time(found["time"], f"{path}.time")
            if "redact" in found:
                kw["redact"] = self.redact(found["redact"], f"{path}.redact")
            if "moments" in found:
                kw["moments"] = self.moments(found["moments"], f"{path}.moments")
            if file is None:
                continue
            if file in seen:
                self.add(f"{path}.file", f"同一个文件已在 {seen[file]} 说明过", found["file"],
                         expected="每个文件只写一条，把说明合并到一处")
                continue
            seen[file] = path
            items.append(EvidenceOverride(file=file, number=number, **kw))
        return tuple(items), tuple(sorted(retired))

    def exhibit_number(self, node: Node, path: str) -> int | None:
        text = self.scalar(node, path)
        if text is None:
            return None
        if not re.fullmatch(r"\+?\d{1,6}", text) or int(text) == 0:
            self.add(path, "证据编号应为正整数", node, expected="1 到 999999 之间的整数，如 5（表示证据5）")
            return None
        return int(text)

    def removed_file(self, node: Node) -> str | None:
        """The normalised path of an evidence[].file that is well-formed but no longer exists."""
        text = node.value if isinstance(node, ScalarNode) and not _is_null(node) else ""
        rel, problem = _check_evidence_path(self.root, text) if text.strip() else ("", "")
        if rel or problem != "文件不存在":
            return None
        parts = [part for part in unicodedata.normalize("NFC", text.strip()).replace("\\", "/").split("/")
                 if part not in ("", ".")]
        return "/".join(parts if parts[0] == "evidence" else ["evidence", *parts])

    # -- containers ----------------------------------------------------------------------------

    def mapping(self, node: Node | None, path: str, allowed: tuple[str, ...]) -> dict[str, Node] | None:
        """The known keys of a mapping node; unknown or repeated keys become problems."""
        self.tick()
        where = path or _TOP
        if node is None or _is_null(node):
            return {}
        if not isinstance(node, MappingNode):
            hint = ""
            if isinstance(node, ScalarNode) and ("：" in node.value or re.search(r"\w:\S", node.value)):
                hint = "；键和值之间要用英文冒号加空格，如 name: 张三"
            self.add(where, "应为键值表（每行一个“键: 值”）", node,
                     expected="可用的键：" + ", ".join(allowed) + hint)
            return None
        found: dict[str, Node] = {}
        for key_node, value_node in node.value:
            self.tick()
            key = key_node.value if isinstance(key_node, ScalarNode) else None
            if key is None:
                self.add(_join(path, "?"), "键名应为文字", key_node,
                         expected="可用的键：" + ", ".join(allowed))
                continue
            key_path = _join(path, _shorten(key) or '""')
            if key not in allowed:
                self.add(key_path, f"未知的键“{_shorten(key)}”", key_node, show_value=False,
                         expected="可用的键：" + ", ".join(allowed),
                         suggestion=_suggest_key(key, allowed, top_level=not path))
                continue
            if key in found:
                self.add(key_path, "键重复出现（后一个会覆盖前一个）", key_node, show_value=False,
                         expected="每个键只写一次")
                continue
            found[key] = value_node
        return found

    def sequence(self, node: Node, path: str) -> list[tuple[str, Node]]:
        """``(key_path, item)`` pairs; a single scalar counts as a one-item list."""
        self.tick()
        if _is_null(node):
            return []
        if isinstance(node, SequenceNode):
            return [(f"{path}[{i}]", item) for i, item in enumerate(node.value)]
        if isinstance(node, ScalarNode):
            return [(path, node)]
        self.add(path, "应为列表（每项一行，以“- ”开头）", node)
        return []

    # -- scalars -------------------------------------------------------------------------------

    def scalar(self, node: Node, path: str) -> str | None:
        """The original text of a scalar (None when empty or null)."""
        self.tick()
        if isinstance(node, ScalarNode):
            if node.tag == _NULL_TAG:
                return None
            text: str = node.value.strip()
            return text or None
        shape = "列表" if isinstance(node, SequenceNode) else "键值表"
        self.add(path, f"应为单个值，不是{shape}", node)
        return None

    def text(self, node: Node, path: str) -> str | None:
        return self.scalar(node, path)

    def choice(self, node: Node, path: str, vocabulary: Vocabulary, note: str = "") -> str | None:
        """A key of ``vocabulary``, written as the key, its Chinese label or an alias (templates/)."""
        text = self.scalar(node, path)
        if text is None:
            return None
        rules = load_rules()
        key = resolve_word(vocabulary, text, rules)
        if key is not None:
            return key
        guesses = difflib.get_close_matches(text.lower(), tuple(rules.words(vocabulary)), n=1, cutoff=0.6)
        self.add(path, "不是可用的取值", node, expected=choices_text(vocabulary, rules) + note,
                 suggestion=guesses[0] if guesses else "")
        return None

    def schema(self, node: Node, path: str) -> None:
        text = self.scalar(node, path)
        if text is not None and text != str(SCHEMA_VERSION):
            self.add(path, "不支持的案件文件版本", node, expected=str(SCHEMA_VERSION))

    def timezone(self, node: Node, path: str) -> tzinfo:
        text = self.scalar(node, path)
        if text is None:
            return SHANGHAI
        try:
            return parse_timezone(text)
        except ValueError:
            self.add(path, "无法识别的时区", node, expected="Asia/Shanghai、+08:00 或 UTC+9 这样的写法")
            return SHANGHAI

    def time(self, node: Node, path: str) -> datetime | None:
        text = self.scalar(node, path)
        if text is None:
            return None
        try:
            return parse_time_answer(text, self.tz)
        except ValueError as exc:
            message, expected = exc.args
            self.add(path, message, node, expected=expected)
            return None

    def amount(self, node: Node, path: str) -> Decimal | None:
        text = self.scalar(node, path)
        if text is None:
            return None
        try:
            return parse_amount(text)
        except ValueError as exc:
            message, expected = exc.args
            self.add(path, message, node, expected=expected)
            return None

    def quantity(self, node: Node, path: str) -> int | None:
        text = self.scalar(node, path)
        if text is None:
            return None
        match = re.fullmatch(r"\+?(\d{1,9})\s*[件个份只双套盒瓶袋支台]?", text)
        if match is None or int(match.group(1)) == 0:
            self.add(path, "不是正整数", node, expected="购买数量，如 1 或 2")
            return None
        return int(match.group(1))

    def boolean(self, node: Node, path: str) -> bool | None:
        text = self.scalar(node, path)
        if text is None:
            return None
        if text.lower() in TRUE_WORDS:
            return True
        if text.lower() in FALSE_WORDS:
            return False
        self.add(path, "应为是或否", node, expected="true（是）或 false（否）")
        return None

    def evidence_file(self, node: Node, path: str) -> str | None:
        text = self.scalar(node, path)
        if text is None:
            self.add(path, "路径为空", node, expected=_PATH_EXPECTED)
            return None
        rel, problem = _check_evidence_path(self.root, text)
        if problem:
            self.add(path, problem, node, expected=_PATH_EXPECTED)
            return None
        return rel

    def redact(self, node: Node, path: str) -> tuple[Rect, ...]:
        expected = "遮盖区域列表，每项 [x, y, 宽, 高]（原图像素，x、y ≥ 0，宽、高 > 0），如 [[0, 0, 300, 80]]"
        items = self.sequence(node, path)
        if isinstance(node, ScalarNode) and items:
            self.add(path, "应为遮盖区域列表", node, expected=expected)
            return ()
        # A single flat [x, y, w, h] is unambiguous: accept it as one rectangle.
        if len(items) == 4 and all(isinstance(item, ScalarNode) for _, item in items):
            items = [(path, node)]
        rects: list[Rect] = []
        for item_path, item in items:
            self.tick()
            if not isinstance(item, SequenceNode) or len(item.value) != 4:
                self.add(item_path, "遮盖区域应为 4 个整数 [x, y, 宽, 高]", item, expected=expected)
                continue
            numbers = [self.pixel(part, f"{item_path}[{j}]") for j, part in enumerate(item.value)]
            if any(n is None for n in numbers):
                continue
            x, y, w, h = (n for n in numbers if n is not None)
            if w == 0 or h == 0:
                self.add(item_path, "遮盖区域的宽和高必须大于 0", item, expected=expected)
                continue
            rects.append((x, y, w, h))
        return tuple(rects)

    def pixel(self, node: Node, path: str) -> int | None:
        text = self.scalar(node, path)
        if text is None or not re.fullmatch(r"\d{1,7}", text):
            self.add(path, "不是非负整数（像素）", node, expected="0 到 9999999 之间的整数")
            return None
        return int(text)

    def moments(self, node: Node, path: str) -> tuple[str, ...]:
        moments = []
        for item_path, item in self.sequence(node, path):
            text = self.scalar(item, item_path)
            if text is None:
                continue
            if parse_moment(text) is None:
                self.add(item_path, "开头缺少有效的时间码", item,
                         expected="“时:分:秒 说明”或“分:秒 说明”，如 00:12:31 主播承诺假一赔十")
                continue
            moments.append(text)
        return tuple(moments)

    # -- bookkeeping ---------------------------------------------------------------------------

    def tick(self) -> None:
        self.visited += 1
        if self.visited > _MAX_NODES:
            raise _TooComplex

    def add(self, path: str, message: str, node: Node | None = None, *, show_value: bool = True,
            expected: str = "", suggestion: str = "") -> None:
        self.problems.append(CaseProblem(
            key_path=path,
            message=message,
            line=node.start_mark.line + 1 if node is not None else None,
            value=_describe(node) if node is not None and show_value else None,
            expected=expected,
            suggestion=suggestion,
        ))


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------

_AMOUNT_EXPECTED = "实际支付的金额（元），如 399 或 399.00，不能为负数"


def parse_amount(text: str) -> Decimal:
    """An amount paid, in yuan to the cent: "399", "￥399.00", "1,299 元". Raises ValueError with
    args (problem, expected), the words case.yaml's order.amount is refused with; `init` asks
    again with them."""
    cleaned = re.sub(r"[\s,，_]|^(?:¥|￥|RMB|CNY)|(?:元|块)$", "", text.strip(), flags=re.IGNORECASE)
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError("不是金额", _AMOUNT_EXPECTED) from None
    if not value.is_finite():
        raise ValueError("不是金额", _AMOUNT_EXPECTED)
    if value < 0:
        raise ValueError("金额不能为负数", _AMOUNT_EXPECTED)
    if value > _MAX_AMOUNT:
        raise ValueError("金额过大", f"不超过 {_MAX_AMOUNT} 元")
    if value != value.quantize(_CENT, rounding=ROUND_HALF_UP):
        raise ValueError("金额最多两位小数（精确到分）", _AMOUNT_EXPECTED)
    return value.quantize(_CENT)

_TIME_RE = re.compile(
    r"""^\s*
    (?P<y>\d{4})\s*(?:[-/.]|年)\s*(?P<mo>\d{1,2})\s*(?:[-/.]|月)\s*(?P<d>\d{1,2})\s*日?
    (?:
        (?:\s*[Tt]\s*|\s+|(?<=日))
        (?P<h>\d{1,2})\s*(?:[:：]|时|点)\s*(?P<mi>\d{1,2})
        (?:
            \s*(?:[:：]|分)\s*(?P<s>\d{1,2})(?:[.,](?P<frac>\d{1,9}))?\s*秒?
            |\s*分
        )?
    )?
    \s*(?P<tz>[Zz]|(?:UTC|GMT)?[+-]\d{1,2}(?::?\d{2})?)?
    \s*$""",
    re.VERBOSE,
)

_ESCAPES = {"\\": "\\\\", '"': '\\"', "\t": "\\t", "\n": "\\n", "\r": "\\r", "\x85": "\\N",
            "\u2028": "\\L", "\u2029": "\\P", "\ufeff": "\\ufeff"}


def _yaml_printable(code: int) -> bool:
    # The YAML 1.1 printable set that PyYAML's reader accepts in a stream.
    return (0x20 <= code <= 0x7E or 0xA0 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD
            or 0x10000 <= code <= 0x10FFFF)


def _parse_offset(text: str) -> tzinfo:
    zone = parse_utc_offset(text)
    if zone is None:
        raise ValueError(f"bad or out-of-range offset {text!r}")
    return zone


def _check_evidence_path(root: Path, raw: str) -> tuple[str, str]:
    """``(normalised rel path, "")`` or ``("", Chinese problem)`` for an evidence[].file value."""
    text = unicodedata.normalize("NFC", raw.strip()).replace("\\", "/")
    if text.startswith("/") or PureWindowsPath(text).drive:
        return "", f"{_OUTSIDE}（不能写绝对路径）"
    parts = [part for part in text.split("/") if part not in ("", ".")]
    if ".." in parts:
        return "", f"{_OUTSIDE}（不能含有 ..）"
    if not parts:
        return "", "路径为空"
    rel = "/".join(parts)
    candidates = [rel] if parts[0] == "evidence" else [rel, f"evidence/{rel}"]
    for candidate in candidates:
        # Files copied off a Mac may carry decomposed (NFD) names on disk.
        for form in dict.fromkeys((candidate, unicodedata.normalize("NFD", candidate))):
            path = root / form
            try:
                if not os.path.lexists(path):
                    continue
                resolved = path.resolve()
                if not resolved.is_relative_to(root):
                    return "", f"{_OUTSIDE}（链接指向文件夹外）"
                if not stat.S_ISREG(resolved.stat().st_mode):
                    return "", "不是普通文件（是文件夹或特殊文件）"
            except (OSError, RuntimeError, ValueError):
                return "", "无法读取这个路径（可能是循环链接）"
            return candidate, ""
    return "", "文件不存在"


def _suggest_key(key: str, allowed: tuple[str, ...], top_level: bool) -> str:
    guesses = difflib.get_close_matches(key.strip().lower(), allowed, n=1, cutoff=0.6)
    if guesses:
        return guesses[0]
    if top_level:
        if key.strip() in _KEY_HINTS:
            return _KEY_HINTS[key.strip()]
        # A nested key written at the top (e.g. shop_name): name where it belongs.
        for section, keys in _NESTED_KEYS.items():
            if key.strip().lower() in keys:
                return f"{section}.{key.strip().lower()}"
    return ""


_NESTED_KEYS: dict[str, tuple[str, ...]] = {
    "complainant": ("name", "phone", "email"),
    "merchant": ("shop_name", "company", "credit_code"),
    "livestream": ("room", "host", "room_id", "replay_url"),
    "order": ("number", "product", "spec", "amount", "quantity", "category", "signed_at",
              "confirmed_receipt"),
    "problem": ("type", "summary", "details", "discovered_at"),
}


def _syntax_problem(text: str, exc: yaml.MarkedYAMLError) -> CaseProblem:
    reason = "; ".join(part for part in (exc.context, exc.problem) if part) or "YAML error"
    # A key without its colon, or an unclosed quote, is only noticed lines later: point at
    # where it started, which is the line the user has to fix.
    starts_earlier = exc.context in ("while scanning a simple key", "while scanning a quoted scalar")
    mark = exc.context_mark if starts_earlier and exc.context_mark else exc.problem_mark or exc.context_mark
    message = next((chinese for english, chinese in _SYNTAX_MESSAGES if english in reason), "YAML 格式错误")
    line_text = ""
    if mark is not None:
        lines = text.splitlines()
        line_text = lines[mark.line] if mark.line < len(lines) else ""
        message = f"第 {mark.column + 1} 列，{message}"
    if "：" in line_text:
        message += "；这一行用了中文冒号“：”，键后面请用英文冒号加空格"
    elif "\t" in line_text and "Tab" not in message:
        message += "；这一行含有 Tab，请改用空格缩进"
    return CaseProblem(
        key_path=_SYNTAX,
        message=f"{message}（{reason}）",
        line=mark.line + 1 if mark is not None else None,
        value=_shorten(line_text.strip()) if line_text.strip() else None,
        expected="每行“键: 值”，冒号后有空格，同一层的键缩进相同；值里有冒号或 # 时请加英文双引号",
    )


# (English fragment of PyYAML's message, what to tell the user); first match wins.
_SYNTAX_MESSAGES = (
    ("mapping values are not allowed here",
     "这里不能出现“键: 值”（值里有冒号加空格时请给值加英文双引号，或检查缩进）"),
    ("could not find expected ':'", "这一行缺少“键: 值”中的冒号，或缩进不一致"),
    ("while scanning a quoted scalar", "引号没有闭合"),
    ("found character '\\t' that cannot start any token", "不能用 Tab 缩进，请改用空格"),
    ("found undefined alias", "引用了未定义的别名（*名称）"),
    ("expected a single document", "文件里只能有一个 YAML 文档（请删除多余的 ---）"),
    ("expected ',' or ']'", "方括号 [ ] 没有闭合或缺少逗号"),
    ("expected ',' or '}'", "花括号 { } 没有闭合或缺少逗号"),
    ("expected <block end>", "缩进不一致（同一层的键或列表项要左边对齐）"),
    ("did not find expected key", "缩进不一致或缺少键"),
    ("found unexpected end of stream", "引号或括号没有闭合"),
)


def _is_null(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.tag == _NULL_TAG


def _describe(node: Node) -> str:
    if isinstance(node, ScalarNode):
        return _shorten(node.value)
    return "（列表）" if isinstance(node, SequenceNode) else "（键值表）"


def _shorten(text: str, limit: int = 60) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _ordered(problems: Iterable[CaseProblem]) -> list[CaseProblem]:
    ordered = sorted(problems, key=lambda p: p.line if p.line is not None else 0)
    if len(ordered) > _MAX_PROBLEMS:
        rest = len(ordered) - _MAX_PROBLEMS
        more = CaseProblem(_TOP, f"另有 {rest} 处问题未列出，请先改正上面的问题")
        ordered = [*ordered[:_MAX_PROBLEMS], more]
    return ordered


def _check_folder(root: Path) -> None:
    hint = "请确认案件文件夹的路径"
    try:
        if not root.exists():
            raise CaseFolderError(f"案件文件夹不存在：{root}", hint=hint)
        if not root.is_dir():
            raise CaseFolderError(f"不是文件夹：{root}", hint=hint)
        with os.scandir(root):
            pass
    except OSError as exc:
        raise CaseFolderError(f"无法读取案件文件夹：{root}（{exc.strerror or exc}）",
                              hint="请检查文件夹的读取权限") from exc
