"""Small edits to a user's case.yaml that leave everything else exactly as they wrote it.

The file is the user's: their comments, spacing, quoting and key order matter to them, and a
YAML dump would destroy all of it. So an edit is a text splice at a position found from the
composed node tree (which carries character offsets), written back in the file's own encoding
and line endings. Every edited text is parsed again before it is written; if the new entry is
not where it should be, nothing is written and the user is told to edit by hand.

``events:`` shapes handled by :func:`append_event`:

- no ``events`` key: a new ``events:`` block is added at the end of the file;
- ``events:`` empty, ``null``/``~`` or ``[]``: the empty value is removed and a block list is
  started on the lines after the key, above any comments that follow it;
- a block list: the new item goes after the last line of the last item, with the same dash
  indentation and the same key offset as the first item;
- a flow list ``[{...}, {...}]``: the new item is appended inside the brackets in flow style
  (``, {time: ..., channel: ...}``), so one-line lists stay one-line lists;
- anything else (a mapping, a text): :class:`CaseFileError` naming ``events``.

:func:`record_numbers` and :func:`number_added_files` follow the same rules for the top-level
``evidence:`` list, and also set ``number:`` inside an existing entry.

:func:`set_values` sets single values (``order.amount``, ``claims``) for `init`, the same way.
"""

from __future__ import annotations

import re
import stat
import unicodedata
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from pathlib import Path

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from evidencekit.case.load import (
    CASE_FILE_NAMES,
    EVENT_CHANNELS,
    EVIDENCE_KINDS,
    MAX_CASE_FILE_BYTES,
    find_case_file,
    load_case,
    parse_case_yaml,
    parse_timezone,
    read_case_text,
    yaml_quote,
)
from evidencekit.errors import CaseFileError, CaseFolderError, CaseProblem
from evidencekit.fsutil import case_lock, write_atomically
from evidencekit.model import SHANGHAI, Event
from evidencekit.terminal import display_width

Fields = list[tuple[str, str]]  # (key, YAML scalar text) of the new item, in writing order


@dataclass(frozen=True)
class _Splice:
    start: int  # character offsets into the decoded text
    end: int
    text: str


def append_event(case_file: Path, event: Event) -> None:
    """Append ``event`` to the top-level ``events:`` list of ``case_file`` as text.

    A missing case file is created holding just ``schema: 1`` and the event, so ``log`` works
    in a zero-config folder. Raises :class:`CaseFileError` when the file cannot be parsed or
    its ``events`` is not a list, :class:`CaseFolderError` when it cannot be written.
    """
    _append_item(case_file, "events", lambda top: _event_fields(event, _case_zone(top)))


def record_numbers(root: Path, numbers: Mapping[str, int], *, drop: Collection[str] = ()) -> bool:
    """Write each file's exhibit number into its ``evidence:`` entry (``number: N``), adding an
    entry ``{file, number}`` for a file that has none; ``drop`` removes the entries of those
    files (the removed files whose numbers ``build --renumber`` gives out again).

    Returns False, writing nothing, when every number is already recorded. Raises like
    :func:`append_event`; a flow-style entry list cannot lose an entry (CaseFileError).
    """
    case_file = find_case_file(root) or root / CASE_FILE_NAMES[0]
    wanted = {_normal_path(rel): n for rel, n in numbers.items()}
    dropped = {_normal_path(rel) for rel in drop}

    def plan(text: str, top: Node | None) -> _Edit | None:
        newline = "\r\n" if "\r\n" in text else "\n"
        edit = _Edit(check=lambda after: _has_numbers(after, wanted, dropped))
        seen = set()
        for entry in _entries(top):
            seen.add(entry.file)
            if entry.file in dropped:
                edit.inside.append(_remove_entry(text, entry, str(case_file)))
                edit.removed += 1
            elif entry.file in wanted and entry.number != wanted[entry.file]:
                edit.inside.append(_number_splice(text, entry, wanted[entry.file], newline))
        edit.new_items = [[("file", yaml_quote(rel)), ("number", str(n))]
                          for rel, n in wanted.items() if rel not in seen]
        taken = {entry.number: entry.file for entry in _entries(top)
                 if entry.number is not None and entry.file not in wanted and entry.file not in dropped}
        clash = sorted((n, rel) for rel, n in wanted.items() if n in taken)
        if clash:  # another `add` or build numbered a file since this build read case.yaml
            n, rel = clash[0]
            raise CaseFileError(str(case_file), [CaseProblem(
                "evidence", f"证据编号 {n} 已记给 {taken[n]}，不能再记给 {rel}",
                expected="生成期间案件文件被改动过；请重新运行 evidencekit build")])
        return edit if edit.inside or edit.new_items else None

    return _edit(case_file, "evidence", plan)


def number_added_files(root: Path, added: Sequence[tuple[str, str, str, str]]) -> dict[str, int]:
    """Describe files ``add`` just copied in, ``(rel_path, kind, title, proves)`` each.

    In a case whose ``evidence:`` already records exhibit numbers (it has been built), each new
    file gets the next number after every recorded one, removed files' included, so the next
    build keeps all earlier numbers. In a case never numbered, only a title or proves is written
    (the first build numbers everything in reading order). Returns the numbers given.
    """
    case_file = find_case_file(root) or root / CASE_FILE_NAMES[0]
    given: dict[str, int] = {}

    def plan(text: str, top: Node | None) -> _Edit | None:
        newline = "\r\n" if "\r\n" in text else "\n"
        given.clear()
        entries = {entry.file: entry for entry in _entries(top)}
        recorded = [entry.number for entry in entries.values() if entry.number is not None]
        following = max(recorded, default=0) + 1
        edit = _Edit(check=lambda after: _has_numbers(after, given, set()))
        for rel, kind, title, proves in added:
            rel = _normal_path(rel)
            entry = entries.get(rel)
            if recorded and (entry is None or entry.number is None) and rel not in given:
                given[rel], following = following, following + 1
            if entry is not None:  # the user's own words win; only a missing number is added
                if rel in given:
                    edit.inside.append(_number_splice(text, entry, given[rel], newline))
                continue
            if rel not in given and not (title or proves):
                continue
            fields = [("file", yaml_quote(rel))]
            if title or proves:
                fields.append(("kind", kind if kind in EVIDENCE_KINDS else yaml_quote(kind)))
                fields += [(k, yaml_quote(v)) for k, v in (("title", title), ("proves", proves)) if v]
            if rel in given:
                fields.append(("number", str(given[rel])))
            entries[rel] = _Entry(MappingNode("tag:yaml.org,2002:map", []), rel, given.get(rel), None)
            edit.new_items.append(fields)
        return edit if edit.inside or edit.new_items else None

    _edit(case_file, "evidence", plan)
    return dict(given)


def add_moments(root: Path, rel_path: str, moments: Sequence[str]) -> bool:
    """Write ``moments`` (``"00:01:12.4 画面文字：…"`` each) as the ``moments:`` of the ``evidence:``
    entry of ``rel_path``: a new entry when there is none, a key added to one without moments.
    An entry that already has ``moments:`` is left as the user wrote it (returns False)."""
    case_file = find_case_file(root) or root / CASE_FILE_NAMES[0]
    rel = _normal_path(rel_path)
    flow = "[" + ", ".join(yaml_quote(m) for m in moments) + "]"

    def written(top: Node | None) -> bool:
        entry = next((e for e in _entries(top) if e.file == rel), None)
        found = {k.value: v for k, v in entry.node.value} if entry is not None else {}
        value = found.get("moments")
        return isinstance(value, SequenceNode) and [getattr(v, "value", None) for v in value.value] == list(moments)

    def plan(text: str, top: Node | None) -> _Edit | None:
        if not moments:
            return None
        newline = "\r\n" if "\r\n" in text else "\n"
        entry = next((e for e in _entries(top) if e.file == rel), None)
        if entry is None:
            return _Edit(new_items=[[("file", yaml_quote(rel)), ("moments", flow)]], check=written)
        if any(isinstance(k, ScalarNode) and k.value == "moments" for k, _v in entry.node.value):
            return None
        item = entry.node
        if item.flow_style:
            at = item.value[-1][1].end_mark.index
            return _Edit(inside=[_Splice(at, at, f", moments: {flow}")], check=written)
        at, lead = _after_node(text, item, newline)
        indent = " " * item.value[0][0].start_mark.column
        return _Edit(inside=[_Splice(at, at, f"{lead}{indent}moments: {flow}{newline}")], check=written)

    return _edit(case_file, "evidence", plan)


def _append_item(case_file: Path, key: str, make_fields: Callable[[Node | None], Fields | None]) -> bool:
    def plan(_text: str, top: Node | None) -> _Edit | None:
        fields = make_fields(top)
        return None if fields is None else _Edit(new_items=[fields])

    return _edit(case_file, key, plan)


@dataclass
class _Edit:
    """What one edit does to the ``key:`` list: items appended at its end, and changes inside
    existing items (splices into the original text) that remove ``removed`` items."""

    new_items: list[Fields] = field(default_factory=list)
    inside: list[_Splice] = field(default_factory=list)
    removed: int = 0
    check: Callable[[Node | None], bool] = lambda _top: True  # the edited tree says what we meant


def _edit(case_file: Path, key: str, plan: Callable[[str, Node | None], _Edit | None]) -> bool:
    # Read, edit and write back under one lock: two `log` calls at once must not lose an event.
    with case_lock(case_file.parent, error=CaseFolderError):
        return _edit_locked(case_file, key, plan)


def _edit_locked(case_file: Path, key: str, plan: Callable[[str, Node | None], _Edit | None]) -> bool:
    where = str(case_file)
    manual = f"请用文本编辑器在 {key}: 下手动添加这一项"
    if case_file.is_symlink():
        # Replacing a link would silently turn it into a file; writing through it could
        # reach outside the case folder.
        raise CaseFileError(where, [CaseProblem("(案件文件)", "案件文件是符号链接，不自动修改",
                                                expected=manual)])
    if not case_file.exists():
        text, codec, bom = "schema: 1\n", "utf-8", b""
        original = b""
    else:
        text, codec = read_case_text(case_file)
        original = case_file.read_bytes()
        bom, codec = _bom_and_codec(original, codec)
    newline = "\r\n" if "\r\n" in text else "\n"

    before = parse_case_yaml(text, where)
    edit = plan(text, before)
    if edit is None:
        return False
    splices = list(edit.inside)
    if edit.new_items:
        splices += _plan(text, before, key, edit.new_items, newline, where, manual)
    new_text = _apply(text, splices)
    _check_result(new_text, key, _item_count(before, key) + len(edit.new_items) - edit.removed, edit.check,
                  where, manual)

    new_bytes = _encode_spliced(original, text, splices, new_text, bom, codec)
    if len(new_bytes) > MAX_CASE_FILE_BYTES:
        raise CaseFileError(where, [CaseProblem(key, "添加后案件文件将超过 1 MiB",
                                                expected="删减过长的内容后再添加")])
    _write_atomically(case_file, new_bytes)
    return True


@dataclass(frozen=True)
class _Entry:
    node: MappingNode
    file: str  # normalised as _normal_path
    number: int | None
    number_node: ScalarNode | None


def _normal_path(raw: str) -> str:
    """An ``evidence[].file`` value as the loader resolves it inside evidence/ (NFC, ``/``)."""
    text = unicodedata.normalize("NFC", raw.strip()).replace("\\", "/")
    parts = [part for part in text.split("/") if part not in ("", ".")]
    return "/".join(parts if parts[:1] == ["evidence"] else ["evidence", *parts])


def _entries(top: Node | None) -> list[_Entry]:
    """The mapping items of the top-level ``evidence:`` list that name a file."""
    _, value = _find_key(top, "evidence") if isinstance(top, MappingNode) else (None, None)
    out = []
    for item in value.value if isinstance(value, SequenceNode) else []:
        if not isinstance(item, MappingNode):
            continue
        found = {k.value: v for k, v in item.value if isinstance(k, ScalarNode)}
        file_node, number_node = found.get("file"), found.get("number")
        if not isinstance(file_node, ScalarNode) or not file_node.value.strip():
            continue
        number = None
        if isinstance(number_node, ScalarNode) and re.fullmatch(r"\+?\d{1,6}", number_node.value.strip()):
            number = int(number_node.value.strip()) or None
        out.append(_Entry(item, _normal_path(file_node.value), number,
                          number_node if isinstance(number_node, ScalarNode) else None))
    return out


def _has_numbers(top: Node | None, wanted: Mapping[str, int], dropped: set[str]) -> bool:
    found = {entry.file: entry.number for entry in _entries(top)}
    return all(found.get(rel) == n for rel, n in wanted.items()) and not dropped & set(found)


def _number_splice(text: str, entry: _Entry, number: int, newline: str) -> _Splice:
    """Set ``number:`` in one existing entry: its value replaced, or the key added last."""
    node = entry.number_node
    if node is not None:
        start, end = node.start_mark.index, node.end_mark.index
        return _Splice(start, end, f" {number}" if text[start - 1 : start] == ":" else str(number))
    item = entry.node
    if item.flow_style:
        at = item.value[-1][1].end_mark.index
        return _Splice(at, at, f", number: {number}")
    at, lead = _after_node(text, item, newline)
    indent = " " * item.value[0][0].start_mark.column
    return _Splice(at, at, f"{lead}{indent}number: {number}{newline}")


def _remove_entry(text: str, entry: _Entry, where: str) -> _Splice:
    """The lines of one block-style entry, from its dash to the end of its last line."""
    item = entry.node
    if item.flow_style or text[: item.start_mark.index].rstrip(" ").endswith(("[", ",", "{")):
        raise CaseFileError(where, [CaseProblem("evidence", "一行写成的 evidence 列表无法自动删除条目",
                                                line=item.start_mark.line + 1,
                                                expected=f"请手动删除 file: {entry.file} 这一条")])
    start = text.rfind("\n", 0, item.start_mark.index) + 1
    end, _ = _after_node(text, item, "\n")
    return _Splice(start, end, "")


# ---------------------------------------------------------------------------------------------
# Where the new item goes
# ---------------------------------------------------------------------------------------------


def _plan(text: str, top: Node | None, key: str, new_items: list[Fields], newline: str, where: str,
          manual: str) -> list[_Splice]:
    """Where ``new_items`` go: after the last item of the ``key:`` list, in its style."""
    if top is None:  # empty or comments only
        return [_append_block(text, "", key, new_items, newline)]
    if not isinstance(top, MappingNode) or top.flow_style:
        raise CaseFileError(where, [CaseProblem("(顶层)", "顶层不是逐行书写的键值表，无法自动添加记录",
                                                line=top.start_mark.line + 1, expected=manual)])
    key_node, value = _find_key(top, key)
    if key_node is None or value is None:
        indent = " " * top.value[0][0].start_mark.column if top.value else ""
        return [_append_block(text, indent, key, new_items, newline)]
    line = value.start_mark.line + 1

    if isinstance(value, SequenceNode) and value.flow_style and value.value:
        last_end = value.value[-1].end_mark.index
        return [_Splice(last_end, last_end, "".join(", " + _flow_item(f) for f in new_items))]

    empty_flow = isinstance(value, SequenceNode) and value.flow_style and not value.value
    if (isinstance(value, ScalarNode) and value.tag == "tag:yaml.org,2002:null") or empty_flow:
        # Start a block list right under the key; later appends land after its last item,
        # so the list stays above any comment lines that follow the key.
        splices = []
        if value.end_mark.index > value.start_mark.index:  # "~", "null", "[]"
            splices.append(_Splice(value.start_mark.index, value.end_mark.index, ""))
        at, lead = _after_line(text, key_node.end_mark.index, newline)
        dash = " " * (key_node.start_mark.column + 2)
        splices.append(_Splice(at, at, lead + _block_items(new_items, dash, 2, newline)))
        # Splices are applied back to front; the removal may sit after the insertion point.
        return sorted(splices, key=lambda s: s.start)

    if isinstance(value, SequenceNode):
        items = value.value
        dash_column = value.start_mark.column
        offset = 2
        if isinstance(items[0], MappingNode) and not items[0].flow_style:
            offset = max(items[0].start_mark.column - dash_column, 1)
        at, lead = _after_node(text, items[-1], newline)
        return [_Splice(at, at, lead + _block_items(new_items, " " * dash_column, offset, newline))]

    raise CaseFileError(where, [CaseProblem(key, "应为列表，无法自动添加", line=line, expected=manual)])


def _find_key(top: MappingNode, key: str) -> tuple[ScalarNode | None, Node | None]:
    for key_node, value in top.value:
        if isinstance(key_node, ScalarNode) and key_node.value == key:
            return key_node, value
    return None, None


def _append_block(text: str, indent: str, key: str, new_items: list[Fields], newline: str) -> _Splice:
    lead = newline if text and not text.endswith("\n") else ""
    block = f"{lead}{indent}{key}:{newline}{_block_items(new_items, indent + '  ', 2, newline)}"
    return _Splice(len(text), len(text), block)


def _after_line(text: str, index: int, newline: str) -> tuple[int, str]:
    """Position just after the line holding ``index`` (and a newline to add if the file ends)."""
    found = text.find("\n", index)
    if found == -1:
        return len(text), newline
    return found + 1, ""


def _after_node(text: str, node: Node, newline: str) -> tuple[int, str]:
    """Position just after the line where ``node``'s own text ends (and a newline to add)."""
    end = _content_end(node)
    if end > 0 and text[end - 1] == "\n":  # a block scalar already ended its line
        return end, ""
    return _after_line(text, end, newline)


def _content_end(node: Node) -> int:
    """End of the last character that belongs to ``node``.

    Block collections end where the next token starts, i.e. after any comments and blank lines
    that follow them; inserting there would push the user's comments above the new item. Their
    last leaf ends where its own text ends.
    """
    if isinstance(node, MappingNode) and not node.flow_style and node.value:
        return max(max(_content_end(k), _content_end(v)) for k, v in node.value)
    if isinstance(node, SequenceNode) and not node.flow_style and node.value:
        return max(_content_end(item) for item in node.value)
    return int(node.end_mark.index)


# ---------------------------------------------------------------------------------------------
# How the new item is written
# ---------------------------------------------------------------------------------------------


def _case_zone(top: Node | None) -> tzinfo | None:
    """The zone naive times in this file are read in (None when its ``timezone`` is unusable)."""
    if not isinstance(top, MappingNode):
        return SHANGHAI
    for key_node, value in top.value:
        if isinstance(key_node, ScalarNode) and key_node.value == "timezone":
            if not isinstance(value, ScalarNode) or value.tag == "tag:yaml.org,2002:null":
                return SHANGHAI if _is_empty(value) else None
            try:
                return parse_timezone(value.value)
            except ValueError:
                return None
    return SHANGHAI


def _is_empty(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.tag == "tag:yaml.org,2002:null"


def format_time(moment: datetime, zone: tzinfo | None) -> str:
    """A time as case.yaml writes it (reads back as the same instant in a case in ``zone``)."""
    # Users read this file: write the time as they would when it is in the case's own zone,
    # and with its offset otherwise, so it reads back as the same instant either way.
    if zone is not None and moment.tzinfo is not None and moment.replace(tzinfo=zone) == moment:
        return moment.strftime("%Y-%m-%d %H:%M:%S")
    return moment.isoformat(sep=" ", timespec="seconds")


def _event_fields(event: Event, zone: tzinfo | None) -> Fields:
    fields = []
    if event.time is not None:
        fields.append(("time", yaml_quote(format_time(event.time, zone))))
    # Plain for the usual words (readable); quoted otherwise, including "12315", which a
    # plain scalar would turn into a number for any other YAML reader.
    plain = event.channel in EVENT_CHANNELS and re.fullmatch(r"[a-z]+", event.channel)
    fields.append(("channel", event.channel if plain else yaml_quote(event.channel)))
    if event.note:
        fields.append(("note", yaml_quote(event.note)))
    if event.ref:
        fields.append(("ref", yaml_quote(event.ref)))
    return fields


def _block_item(fields: Fields, dash_indent: str, offset: int, newline: str) -> str:
    body_indent = dash_indent + " " * offset
    lines = []
    for i, (key, value) in enumerate(fields):
        prefix = dash_indent + "-" + " " * (offset - 1) if i == 0 else body_indent
        lines.append(f"{prefix}{key}: {value}{newline}")
    return "".join(lines)


def _block_items(items: list[Fields], dash_indent: str, offset: int, newline: str) -> str:
    return "".join(_block_item(fields, dash_indent, offset, newline) for fields in items)


def _flow_item(fields: Fields) -> str:
    return "{" + ", ".join(f"{key}: {value}" for key, value in fields) + "}"


# ---------------------------------------------------------------------------------------------
# Checking and writing
# ---------------------------------------------------------------------------------------------


def _apply(text: str, splices: list[_Splice]) -> str:
    """Splices in order of position; several insertions at one position keep their list order."""
    out, position = [], 0
    for splice in sorted(splices, key=lambda s: s.start):
        out += [text[position : splice.start], splice.text]
        position = splice.end
    out.append(text[position:])
    return "".join(out)


def _item_count(top: Node | None, key: str) -> int:
    if not isinstance(top, MappingNode):
        return 0
    _, value = _find_key(top, key)
    return len(value.value) if isinstance(value, SequenceNode) else 0


def _check_result(new_text: str, key: str, count: int, check: Callable[[Node | None], bool], where: str,
                  manual: str) -> None:
    """The edited text must parse and hold exactly ``count`` items that pass ``check``;
    otherwise write nothing."""
    try:
        after = parse_case_yaml(new_text, where)
    except CaseFileError:
        after = None
    if after is None or _item_count(after, key) != count or not check(after):
        raise CaseFileError(where, [CaseProblem(key, "无法在不改动其他内容的前提下自动添加",
                                                expected=manual)])


def _bom_and_codec(original: bytes, codec: str) -> tuple[bytes, str]:
    """The byte-order mark to keep and a codec that writes text without one."""
    if codec == "utf-16":
        return (original[:2], "utf-16-le" if original.startswith(b"\xff\xfe") else "utf-16-be")
    if codec == "utf-8-sig":
        return (b"\xef\xbb\xbf", "utf-8") if original.startswith(b"\xef\xbb\xbf") else (b"", "utf-8")
    return b"", codec


def _encode_spliced(original: bytes, text: str, splices: list[_Splice], new_text: str,
                    bom: bytes, codec: str) -> bytes:
    """Splice the encoded pieces into the original bytes, so untouched bytes stay untouched.

    Offsets are found by encoding the text before each splice; if that does not reproduce the
    original bytes (a codec that does not round-trip), the whole text is encoded instead.
    """
    body = original[len(bom):]
    out = bytearray()
    position = 0  # in characters
    byte_position = 0
    for splice in sorted(splices, key=lambda s: s.start):
        untouched = text[position : splice.start].encode(codec)
        if body[byte_position : byte_position + len(untouched)] != untouched:
            return bom + new_text.encode(codec)
        out += untouched
        byte_position += len(untouched) + len(text[splice.start : splice.end].encode(codec))
        out += splice.text.encode(codec)
        position = splice.end
    tail = text[position:].encode(codec)
    if body[byte_position:] != tail:
        return bom + new_text.encode(codec)
    return bom + bytes(out) + tail


def case_zone(case_file: Path) -> tzinfo | None:
    """The zone naive times in ``case_file`` are read in (None when its ``timezone`` is unusable)."""
    if not case_file.exists():
        return SHANGHAI
    text, _codec = read_case_text(case_file)
    return _case_zone(parse_case_yaml(text, str(case_file)))


def _write_atomically(path: Path, data: bytes) -> None:
    """Keep the file's permissions; fsync, because this is the user's own case file."""
    try:
        mode = stat.S_IMODE(path.lstat().st_mode) if path.exists() else 0o644
    except OSError:
        mode = 0o644
    write_atomically(path, data, what="案件文件", error=CaseFolderError, mode=mode, fsync=True)


# ---------------------------------------------------------------------------------------------
# Setting single values (`init` answers)
# ---------------------------------------------------------------------------------------------

Value = str | tuple[str, ...]  # a YAML scalar text, or the scalar texts of a list's items


def set_values(case_file: Path, values: Mapping[str, Value], *, notes: Mapping[str, str] | None = None,
               check: Callable[[str], None] | None = None, new_text: str = "schema: 1\n") -> None:
    """Set each dotted path (``platform``, ``order.amount``, ``claims``) of ``case_file`` to a
    value, as text, leaving every other line, comment and blank as the user wrote it.

    A scalar is written after the key's colon (an empty value keeps its comment where it was,
    eating padding spaces so the comment stays in its column), or replaces the old value; a
    list is written as a block list under its key (a flow list or a single value is replaced by
    a flow list). A missing key is added after the last key of its section; a missing section
    is added at the end of the file. A missing file is created holding ``new_text`` (``schema: 1``).
    ``notes`` (by path, for scalar values) are written as a trailing comment on the value's line,
    after the comment already there (``# 订单编号；由证据3截图识别，请核对``).
    ``check`` is called, under the lock, with the new text before it is written: an exception it
    raises (the page's: the case loader's problems) leaves the file as it was.
    Raises :class:`CaseFileError` when a path's parent is not a mapping or the result does not
    read back as meant (nothing is written), :class:`CaseFolderError` when it cannot be written.
    ``""`` clears a value (a list included); a comment after a cleared value keeps its column.
    """
    with case_lock(case_file.parent, error=CaseFolderError):
        _set_values_locked(case_file, values, notes or {}, check, new_text)


def _set_values_locked(case_file: Path, values: Mapping[str, Value], notes: Mapping[str, str],
                       check: Callable[[str], None] | None, new_text: str) -> None:
    where = str(case_file)
    manual = "请用文本编辑器在 case.yaml 里填写"
    if case_file.is_symlink():
        raise CaseFileError(where, [CaseProblem("(案件文件)", "案件文件是符号链接，不自动修改",
                                                expected=manual)])
    if not case_file.exists():
        text, codec, bom = new_text, "utf-8", b""
    else:
        text, codec = read_case_text(case_file)
        bom, codec = _bom_and_codec(case_file.read_bytes(), codec)
    newline = "\r\n" if "\r\n" in text else "\n"
    for path, value in values.items():
        top = parse_case_yaml(text, where)
        text = _apply(text, _set_splices(text, top, path.split("."), value, newline, where, manual))
    for path, note in notes.items():
        text = _apply(text, _note_splices(text, parse_case_yaml(text, where), path.split("."), note))
    after = parse_case_yaml(text, where)
    for path, value in values.items():
        if _read_back(after, path.split(".")) != _plain(value):
            raise CaseFileError(where, [CaseProblem(path, "无法在不改动其他内容的前提下自动填写",
                                                    expected=f"{manual} {path}")])
    data = bom + text.encode(codec)
    if len(data) > MAX_CASE_FILE_BYTES:
        raise CaseFileError(where, [CaseProblem(path, "填写后案件文件将超过 1 MiB", expected="删减过长的内容")])
    if check is not None:
        check(text)
    _write_atomically(case_file, data)


def _note_splices(text: str, top: Node | None, keys: list[str], note: str) -> list[_Splice]:
    """``# note`` at the end of the line of the scalar at ``keys`` (after a comment already there);
    none when there is no such scalar on one line."""
    node: Node | None = top
    for key in keys:
        if not isinstance(node, MappingNode):
            return []
        node = _find_key(node, key)[1]
    if not isinstance(node, ScalarNode) or node.style in ("|", ">"):
        return []
    end = node.end_mark.index
    line_end = text.find("\n", end)
    line_end = len(text) if line_end < 0 else line_end
    if text[line_end - 1 : line_end] == "\r":
        line_end -= 1
    rest = text[end:line_end]
    note = note.replace("\r", " ").replace("\n", " ")
    if rest.lstrip().startswith("#"):
        return [_Splice(line_end, line_end, f"；{note}")]
    return [_Splice(line_end, line_end, f"  # {note}")]


def _plain(value: Value) -> str | tuple[str, ...]:
    """What the YAML text of ``value`` reads back as."""
    def one(scalar: str) -> str:
        node = parse_case_yaml(f"v: {scalar}\n", "(value)")
        assert isinstance(node, MappingNode)
        return str(node.value[0][1].value)
    return one(value) if isinstance(value, str) else tuple(one(item) for item in value)


def _read_back(top: Node | None, keys: list[str]) -> str | tuple[str, ...] | None:
    node: Node | None = top
    for key in keys:
        if not isinstance(node, MappingNode):
            return None
        node = _find_key(node, key)[1]
    if isinstance(node, ScalarNode):
        return str(node.value)
    if isinstance(node, SequenceNode):
        return tuple(str(item.value) if isinstance(item, ScalarNode) else "" for item in node.value)
    return None


def _set_splices(text: str, top: Node | None, keys: list[str], value: Value, newline: str, where: str,
                 manual: str) -> list[_Splice]:
    if top is None:
        return [_Splice(len(text), len(text), _lead(text, newline) + _new_block(keys, value, "", newline))]
    parent: Node = top
    for depth, key in enumerate(keys):
        path = ".".join(keys[: depth + 1])
        if not isinstance(parent, MappingNode) or (parent.flow_style and depth + 1 < len(keys)):
            raise CaseFileError(where, [CaseProblem(".".join(keys[:depth]) or "(顶层)", "应为逐行书写的键值表，无法自动填写",
                                                    line=parent.start_mark.line + 1, expected=f"{manual} {path}")])
        key_node, node = _find_key(parent, key)
        if key_node is None or node is None:
            return [_add_key(text, parent, keys[depth:], value, newline)]
        if depth + 1 < len(keys) and _is_empty(node):
            # "order:" with nothing under it: the keys go on the lines after it.
            # "~" or "null" written after the key is dropped.
            splices = [_Splice(node.start_mark.index, node.end_mark.index, "")] if node.value else []
            at, lead = _after_line(text, key_node.end_mark.index, newline)
            indent = " " * (key_node.start_mark.column + 2)
            return [*splices, _Splice(at, at, lead + _new_block(keys[depth + 1:], value, indent, newline))]
        if depth + 1 == len(keys):
            return [_replace_value(text, key_node, node, value, newline)]
        parent = node
    raise AssertionError("unreachable")


def _lead(text: str, newline: str) -> str:
    """The newline to write before text appended to a file that does not end with one."""
    return newline if text and not text.endswith("\n") else ""


def _new_block(keys: list[str], value: Value, indent: str, newline: str) -> str:
    """``keys[0]:`` and what is under it, as lines at ``indent``."""
    lines = []
    for depth, key in enumerate(keys[:-1]):
        lines.append(f"{indent}{'  ' * depth}{key}:{newline}")
    inner = indent + "  " * (len(keys) - 1)
    if isinstance(value, str):
        lines.append(f"{inner}{keys[-1]}: {value}{newline}")
    else:
        lines.append(f"{inner}{keys[-1]}:{newline}")
        lines += [f"{inner}  - {item}{newline}" for item in value]
    return "".join(lines)


def _add_key(text: str, parent: MappingNode, keys: list[str], value: Value, newline: str) -> _Splice:
    if parent.flow_style:  # {name: 张三}: the new key goes inside the braces
        inner = _flow_value(value)
        if parent.value:
            at = parent.value[-1][1].end_mark.index
            return _Splice(at, at, f", {keys[0]}: {inner}")
        return _Splice(parent.start_mark.index, parent.end_mark.index, f"{{{keys[0]}: {inner}}}")
    if not parent.value:
        return _Splice(len(text), len(text), _lead(text, newline) + _new_block(keys, value, "", newline))
    at, lead = _after_node(text, parent, newline)
    indent = " " * parent.value[0][0].start_mark.column
    return _Splice(at, at, lead + _new_block(keys, value, indent, newline))


def _flow_value(value: Value) -> str:
    return value if isinstance(value, str) else "[" + ", ".join(value) + "]"


def _replace_value(text: str, key_node: ScalarNode, node: Node, value: Value, newline: str) -> _Splice:
    start, end = node.start_mark.index, node.end_mark.index
    if value == "" and isinstance(node, SequenceNode) and not node.flow_style and node.value:
        # A block list cleared: its item lines go, the comments after them stay.
        first = text.rfind("\n", 0, node.value[0].start_mark.index) + 1
        last, lead = _after_node(text, node.value[-1], newline)
        return _Splice(first, last, lead)
    if (isinstance(value, tuple) and _is_empty(node)) or (isinstance(value, tuple) and isinstance(node, SequenceNode) \
            and not node.flow_style and node.value):
        # A block list under the key: after the key's line, or in place of the old items.
        dash = " " * (key_node.start_mark.column + 2)
        items = "".join(f"{dash}- {item}{newline}" for item in value)
        if isinstance(node, SequenceNode):
            dash = " " * node.start_mark.column
            items = "".join(f"{dash}- {item}{newline}" for item in value)
            first = text.rfind("\n", 0, node.value[0].start_mark.index) + 1
            last, lead = _after_node(text, node.value[-1], newline)
            return _Splice(first, last, lead + items)
        at, lead = _after_line(text, key_node.end_mark.index, newline)
        # "~" or "null" written after the key is dropped together.
        if not node.value:
            return _Splice(at, at, lead + items)
        start -= text[start - 1 : start] == " "  # "claims: ~" loses the blank before the "~" too
        return _Splice(start, at, text[end:at] + lead + items)
    new = _flow_value(value)
    if _is_empty(node) and not node.value:
        colon = text.find(":", key_node.end_mark.index)
        at = colon + 1
        padding = len(text[at:]) - len(text[at:].lstrip(" "))
        rest = text[at + padding : at + padding + 1]
        # "name:          # 姓名": the value takes the place of padding, the comment keeps its column.
        width = display_width(new) + 1
        eaten = 0
        if rest == "#":  # a longer value pushes the comment, two spaces after it
            eaten = width if padding > width else max(padding - 2, 0)
        return _Splice(at, at + eaten, f" {new}")
    if end > 0 and text[end - 1] == "\n":  # a block scalar ends its line
        return _Splice(start, end, new + newline)
    if not new and isinstance(node, ScalarNode):
        line_end = text.find("\n", end)
        rest = text[end : len(text) if line_end < 0 else line_end]
        if rest.lstrip(" ").startswith("#"):  # "name: 张三   # 姓名": the comment stays in its column
            return _Splice(start, end, " " * display_width(text[start:end]))
        start -= text[start - 1 : start] == " "  # no blank left at the end of the line
    return _Splice(start, end, new)


# ---------------------------------------------------------------------------------------------
# Per-file fields of one evidence entry (the evidence page of `serve`)
# ---------------------------------------------------------------------------------------------

EVIDENCE_FIELD_KEYS = ("title", "proves", "time", "note", "moments", "redact")
EvidenceValue = str | Sequence[str] | Sequence[Sequence[int]]


def evidence_field_text(key: str, value: EvidenceValue) -> str:
    """The YAML text ``key`` is written with: a quoted text, or a one-line flow list
    (``moments: ["00:12 主播承诺", …]``, ``redact: [[0, 0, 300, 80], …]``)."""
    if key not in EVIDENCE_FIELD_KEYS:
        raise ValueError(f"not an evidence field: {key}")
    if key == "moments":
        return "[" + ", ".join(yaml_quote(str(m)) for m in value) + "]"
    if key == "redact":
        return "[" + ", ".join("[" + ", ".join(str(int(n)) for n in rect) + "]" for rect in value) + "]"
    return yaml_quote(str(value))


def set_evidence_fields(root: Path, rel_path: str, fields: Mapping[str, EvidenceValue]) -> None:
    """Set ``fields`` (title, proves, time, note, moments, redact) of the ``evidence:`` entry of
    ``rel_path``, as text: a value replaced where the key is, a key added after the entry's last
    line where it is not, a new entry ``{file, …}`` where the file has none. Everything else stays
    as the user wrote it (comments included).

    The edited file is then read by the loader itself: when it refuses something the edit brought
    in, the file is put back byte for byte and :class:`CaseFileError` carries the loader's own
    problems (``evidence[2].time`` …), so a page shows the same messages as ``check``."""
    case_file = find_case_file(root) or root / CASE_FILE_NAMES[0]
    rel = _normal_path(rel_path)
    texts = {key: evidence_field_text(key, value) for key, value in fields.items()}
    if not texts:
        return

    def written(top: Node | None) -> bool:
        entry = next((e for e in _entries(top) if e.file == rel), None)
        found = {k.value for k, _v in entry.node.value if isinstance(k, ScalarNode)} if entry else set()
        return set(texts) <= found

    def plan(text: str, top: Node | None) -> _Edit | None:
        newline = "\r\n" if "\r\n" in text else "\n"
        entry = next((e for e in _entries(top) if e.file == rel), None)
        if entry is None:
            return _Edit(new_items=[[("file", yaml_quote(rel)), *texts.items()]], check=written)
        present = {k.value: (k, v) for k, v in entry.node.value if isinstance(k, ScalarNode)}
        splices = [_field_splice(text, *present[key], value, newline) for key, value in texts.items()
                   if key in present]
        added = [(key, value) for key, value in texts.items() if key not in present]
        item = entry.node
        if added and item.flow_style:
            at = item.value[-1][1].end_mark.index
            splices.append(_Splice(at, at, "".join(f", {k}: {v}" for k, v in added)))
        elif added:
            at, lead = _after_node(text, item, newline)
            indent = " " * item.value[0][0].start_mark.column
            splices.append(_Splice(at, at, lead + "".join(f"{indent}{k}: {v}{newline}" for k, v in added)))
        return _Edit(inside=splices, check=written)

    with case_lock(root, error=CaseFolderError):
        before_bytes = case_file.read_bytes() if case_file.exists() and not case_file.is_symlink() else None
        before = {(p.key_path, p.message) for p in _loader_problems(root)}
        _edit(case_file, "evidence", plan)
        new = [p for p in _loader_problems(root) if (p.key_path, p.message) not in before]
        if new:
            if before_bytes is None:
                case_file.unlink(missing_ok=True)
            else:
                _write_atomically(case_file, before_bytes)
            raise CaseFileError(str(case_file), new)


def _field_splice(text: str, key_node: ScalarNode, node: Node, value: str, newline: str) -> _Splice:
    """``value`` (one-line YAML) in place of the value of ``key_node``."""
    if isinstance(node, MappingNode | SequenceNode) and not node.flow_style:
        # A block list under the key becomes the one-line list, from the colon to its last item.
        colon = text.find(":", key_node.end_mark.index)
        return _Splice(colon + 1, _content_end(node), f" {value}")
    return _replace_value(text, key_node, node, value, newline)


def _loader_problems(root: Path) -> list[CaseProblem]:
    """What the loader refuses in the case file of ``root`` (none when it loads)."""
    try:
        load_case(root)
    except CaseFileError as exc:
        return list(exc.problems)
    return []
