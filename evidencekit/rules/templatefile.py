"""Reading one template file: YAML parsed safely, then typed access that fails with the file
name and key path (``模板文件 templates/targets.yaml 有误：targets.email.limit：…``), so a volunteer's
typo names where it is.
"""

from __future__ import annotations

import difflib
import string
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, NoReturn

import yaml

from evidencekit.errors import TemplateError

TEMPLATE_HINT = (
    "这是随程序安装的模板文件，可能在编辑时改坏了：请对照 templates/README.md 改正，或从代码仓库恢复原文件。"
)


class TemplateFile:
    """Typed access to one template file's YAML, failing with the file name and key path."""

    def __init__(self, name: str, data: object) -> None:
        self.name = name
        self.data = data

    def fail(self, path: str, message: str) -> NoReturn:
        where = f"{path}：" if path else ""
        raise TemplateError(f"模板文件 templates/{self.name} 有误：{where}{message}", hint=TEMPLATE_HINT)

    def mapping(self, node: object, path: str, required: Iterable[str] = (),
                optional: Iterable[str] | None = ()) -> dict[str, Any]:
        """A mapping with str keys. ``optional=None`` accepts any keys (entry names)."""
        if not isinstance(node, dict):
            self.fail(path, f"应为“键: 值”形式的映射，实际是 {describe(node)}")
        # YAML reads an unquoted 12315 as a number; treat keys as names either way.
        out = {str(k): v for k, v in node.items()}
        required = tuple(required)
        if optional is not None:
            allowed = set(required) | set(optional)
            for key in out:
                if key not in allowed:
                    close = difflib.get_close_matches(key, sorted(allowed), n=1)
                    usable = "、".join(sorted(allowed))
                    hint = f"（您是不是想写 {close[0]}？）" if close else f"（可用的键：{usable}）"
                    self.fail(join_path(path, key), f"未知的键{hint}")
        for key in required:
            if key not in out:
                self.fail(path, f"缺少键 {key}")
        return out

    def text(self, m: Mapping[str, Any], key: str, path: str, default: str | None = None) -> str:
        value = m.get(key)
        if value is None and default is not None:
            return default
        if not isinstance(value, str) or not value.strip():
            self.fail(join_path(path, key), f"应为非空文字，实际是 {describe(value)}")
        return value.strip()

    def flag(self, m: Mapping[str, Any], key: str, path: str, default: bool) -> bool:
        value = m.get(key, default)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.fail(join_path(path, key), f"应为 true 或 false，实际是 {describe(value)}")
        return value

    def count(self, m: Mapping[str, Any], key: str, path: str) -> int | None:
        """A positive whole number, or None when empty/absent."""
        value = m.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            self.fail(join_path(path, key), f"应为正整数或留空，实际是 {describe(value)}")
        return value

    def number(self, m: Mapping[str, Any], key: str, path: str) -> Decimal | None:
        value = m.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            self.fail(join_path(path, key), f"应为数字，实际是 {describe(value)}")
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            self.fail(join_path(path, key), f"应为数字，实际是 {describe(value)}")
        if not number.is_finite() or number <= 0:
            self.fail(join_path(path, key), f"应为正数，实际是 {describe(value)}")
        return number

    def str_list(self, m: Mapping[str, Any], key: str, path: str) -> tuple[str, ...]:
        return self.strings(m.get(key), join_path(path, key))

    def strings(self, value: object, path: str) -> tuple[str, ...]:
        if value is None:
            return ()
        if not isinstance(value, list):
            self.fail(path, f"应为列表（如 [a, b]），实际是 {describe(value)}")
        out = []
        for i, item in enumerate(value):
            if isinstance(item, bool) or not isinstance(item, str | int) or not str(item).strip():
                self.fail(f"{path}[{i}]", f"应为非空文字，实际是 {describe(item)}")
            out.append(str(item).strip())
        return tuple(out)

    def items(self, m: Mapping[str, Any], key: str, path: str) -> list[tuple[str, object]]:
        """The entries of a list value, each with its key path."""
        value = m.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.fail(join_path(path, key), f"应为列表，实际是 {describe(value)}")
        return [(f"{join_path(path, key)}[{i}]", item) for i, item in enumerate(value)]


def join_path(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def describe(value: object) -> str:
    if value is None:
        return "空值"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


# libyaml's loader reads the shipped templates in 0.03 s instead of 0.2 s (every command loads
# them once). The same safe constructors; the pure-Python one where PyYAML was built without it.
# case.yaml keeps the pure-Python composer: its error types and marks are what case/load.py reports.
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_template(folder: Traversable | Path, name: str) -> TemplateFile:
    try:
        raw = folder.joinpath(name).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TemplateError(f"无法读取模板文件 templates/{name}：{exc}", hint=TEMPLATE_HINT) from exc
    try:
        data = yaml.load(raw, Loader=_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"第 {mark.line + 1} 行第 {mark.column + 1} 列：" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise TemplateError(f"模板文件 templates/{name} 不是有效的 YAML：{where}{problem}",
                            hint=TEMPLATE_HINT) from exc
    doc = TemplateFile(name, data)
    top = doc.mapping(data, "", optional=None)
    if top.get("schema") != 1:
        doc.fail("schema", f"应为 1，实际是 {describe(top.get('schema'))}")
    return doc


def top_level(doc: TemplateFile, required: Iterable[str], optional: Iterable[str] = ()) -> dict[str, Any]:
    return doc.mapping(doc.data, "", required=("schema", *required), optional=optional)


def parse_date(doc: TemplateFile, value: object, path: str) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    doc.fail(path, f"应为日期（YYYY-MM-DD），实际是 {describe(value)}")


def check_placeholders(doc: TemplateFile, pattern: str, allowed: frozenset[str], path: str) -> None:
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(pattern) if name is not None}
    except ValueError as exc:
        doc.fail(path, f"花括号写法有误（{exc}）；花括号只用于占位符，如 {{product}}")
    for name in names:
        if name not in allowed:
            usable = "、".join(sorted(allowed))
            doc.fail(path, f"未知的占位符 {{{name}}}{suggest(name, allowed)}（可用：{usable}）")


def suggest(value: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(value, sorted(choices), n=1)
    return f"（您是不是想写 {close[0]}？）" if close else ""


def fold_word(word: str) -> str:
    """The form typed words and template names are compared in: NFC, trimmed, case-folded
    (Douyin = douyin; a macOS NFD name = the same name in NFC)."""
    return unicodedata.normalize("NFC", word).strip().casefold()
