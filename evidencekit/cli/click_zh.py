"""click's own messages in Chinese: usage lines, help headings, parsing errors, prompts.

Two parts. The messages: click passes every message it shows through gettext: each of its modules calls a module-level
``_`` (``gettext.gettext``) and ``ngettext``. The standard way to translate them is a compiled
catalog selected by the LANGUAGE / LC_ALL / LANG of the user's environment, which would show
English to a shopper whose terminal is set to anything else. ``install`` therefore binds those two
names in click's modules to this catalog, so the messages are Chinese whatever the locale.
tests/test_cli.py reads click's source and fails when click adds or rewords a message this
catalog does not cover. The rest, which click does not pass through gettext ("[OPTIONS]" in a
usage line, the ASCII colon after a heading), is set on each command by ``adopt``.
"""

from __future__ import annotations

import importlib
import sys

import click

# click's msgid -> Chinese. Placeholders ({name!r}, %(prog)s) are click's and stay as they are.
MESSAGES: dict[str, str] = {
    # usage and help pages
    "Usage:": "用法：",
    "Options": "选项",
    "Commands": "命令",
    "Positional arguments": "参数",
    "Show this message and exit.": "显示此帮助并退出。",
    "Show the version and exit.": "显示版本并退出。",
    "%(prog)s, version %(version)s": "%(prog)s，版本 %(version)s",
    "default: {default}": "默认：{default}",
    "required": "必填",
    "env var: {var}": "环境变量：{var}",
    "(dynamic)": "（动态）",
    "deprecated": "已弃用",
    "DeprecationWarning: The command {name!r} is deprecated.{extra_message}":
        "弃用提示：命令 {name!r} 已弃用。{extra_message}",
    "DeprecationWarning: The {param_type} {name!r} is deprecated.{extra_message}":
        "弃用提示：{param_type} {name!r} 已弃用。{extra_message}",
    # usage errors
    "Error: {message}": "错误：{message}",
    "Try '{command} {option}' for help.": "运行 '{command} {option}' 查看帮助。",
    "Missing argument": "缺少参数",
    "Missing option": "缺少选项",
    "Missing parameter": "缺少参数",
    "Missing {param_type}": "缺少{param_type}",
    "Missing parameter: {param_name}": "缺少参数：{param_name}",
    "Missing command.": "缺少命令。",
    "No such option {name!r}.": "没有这个选项 {name!r}。",
    "No such command {name!r}.": "没有这个命令 {name!r}。",
    "Invalid value: {message}": "取值无效：{message}",
    "Invalid value for {param_hint}: {message}": "{param_hint} 的取值无效：{message}",
    "Option {name!r} does not take a value.": "选项 {name!r} 后面不能跟值。",
    "Argument {name!r} takes {nargs} values.": "参数 {name!r} 需要 {nargs} 个值。",
    "Invalid start character for option ({option})": "选项名的开头字符无效（{option}）",
    "Value must be an iterable.": "应为多个值。",
    "Could not open file {filename!r}: {message}": "无法打开文件 {filename!r}：{message}",
    "unknown error": "未知错误",
    # parameter types
    "file": "文件",
    "directory": "文件夹",
    "path": "路径",
    "{name} {filename!r} does not exist.": "{name} {filename!r} 不存在。",
    "{name} {filename!r} is a file.": "{name} {filename!r} 是文件，不是文件夹。",
    "{name} {filename!r} is a directory.": "{name} {filename!r} 是文件夹，不是文件。",
    "{name} {filename!r} is not readable.": "{name} {filename!r} 没有读取权限。",
    "{name} {filename!r} is not writable.": "{name} {filename!r} 没有写入权限。",
    "{name} {filename!r} is not executable.": "{name} {filename!r} 没有执行权限。",
    "Choose from:\n\t{choices}": "可选：\n\t{choices}",
    "{value!r} is not a valid {number_type}.": "{value!r} 不是有效的数字（{number_type}）。",
    "{value} is not in the range {range}.": "{value} 不在 {range} 范围内。",
    "{value!r} is not a valid boolean. Recognized values: {states}": "{value!r} 不是有效的是/否。可用：{states}",
    "{value!r} is not a valid UUID.": "{value!r} 不是有效的 UUID。",
    # prompts and terminal helpers
    "Aborted!": "已取消。",
    "Do you want to continue?": "要继续吗？",
    "Confirm the action without prompting.": "不再询问，直接确认。",
    "Repeat for confirmation": "请再输入一次以确认",
    "Error: The two entered values do not match.": "错误：两次输入的不一致。",
    "Error: invalid input": "错误：输入无效",
    "Press any key to continue...": "按任意键继续……",
    "d": "天",  # the days in a progress bar's remaining time
    "{editor}: Editing failed": "{editor}：编辑失败",
    "{editor}: Editing failed: {e}": "{editor}：编辑失败：{e}",
}

# click's (singular, plural) -> Chinese (for one, for several).
PLURALS: dict[tuple[str, str], tuple[str, str]] = {
    ("Got unexpected extra argument ({args})", "Got unexpected extra arguments ({args})"):
        ("多余的参数（{args}）", "多余的参数（{args}）"),
    ("Takes {nargs} values but 1 was given.", "Takes {nargs} values but {len} were given."):
        ("需要 {nargs} 个值，只给了 1 个。", "需要 {nargs} 个值，给了 {len} 个。"),
    ("Did you mean {possibility}?", "(Did you mean one of: {possibilities}?)"):
        ("您是不是想写 {possibility}？", "（您是不是想写其中之一：{possibilities}？）"),
    ("Option {name!r} requires an argument.", "Option {name!r} requires {nargs} arguments."):
        ("选项 {name!r} 需要一个值。", "选项 {name!r} 需要 {nargs} 个值。"),
    ("{value!r} is not {choice}.", "{value!r} is not one of {choices}."):
        ("{value!r} 不是 {choice}。", "{value!r} 不是 {choices} 之一。"),
    ("{value!r} does not match the format {format}.", "{value!r} does not match the formats {formats}."):
        ("{value!r} 不符合格式 {format}。", "{value!r} 不符合以下任何一种格式：{formats}。"),
    ("{len_type} values are required, but {len_value} was given.",
     "{len_type} values are required, but {len_value} were given."):
        ("需要 {len_type} 个值，给了 {len_value} 个。", "需要 {len_type} 个值，给了 {len_value} 个。"),
}

# click's modules that call ``_`` or ``ngettext``; _winconsole is imported on Windows only.
_CLICK_MODULES = ("click._termui_impl", "click.core", "click.decorators", "click.exceptions",
                  "click.formatting", "click.parser", "click.shell_completion", "click.termui", "click.types",
                  "click.utils", *(("click._winconsole",) if sys.platform == "win32" else ()))


def gettext(message: str) -> str:
    return MESSAGES.get(message, message)


def ngettext(singular: str, plural: str, n: int) -> str:
    forms = PLURALS.get((singular, plural))
    if forms is None:
        return singular if n == 1 else plural
    return forms[0] if n == 1 else forms[1]


def install() -> None:
    """Bind click's ``_`` and ``ngettext`` to this catalog. Must run before any command declares
    its options: click computes a few texts (a path option's "directory") when it is declared."""
    for name in _CLICK_MODULES:
        module = importlib.import_module(name)
        if hasattr(module, "_"):
            module._ = gettext  # type: ignore[attr-defined]
        if hasattr(module, "ngettext"):
            module.ngettext = ngettext  # type: ignore[attr-defined]


OPTIONS_METAVAR = "[选项]"
SUBCOMMAND_METAVAR = "命令 [参数]..."


class ChineseHelpFormatter(click.HelpFormatter):
    """click's help layout with full-width colons after 用法 and after each heading."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, args, gettext("Usage:") if prefix is None else prefix)

    def write_heading(self, heading: str) -> None:
        self.write(f"{'':>{self.current_indent}}{heading}：\n")


class ChineseContext(click.Context):
    formatter_class = ChineseHelpFormatter


def adopt(command: click.Command) -> None:
    """Chinese placeholders in ``command``'s usage line and its help page's layout
    (Command.context_class and options_metavar are click's documented attributes)."""
    command.context_class = ChineseContext
    command.options_metavar = OPTIONS_METAVAR
    if isinstance(command, click.Group):
        command.subcommand_metavar = SUBCOMMAND_METAVAR
