"""Shared pieces of the command line: error translation, common options, progress output.

Command modules (the other modules of this package) import from here; nothing here imports a command module.
"""

from __future__ import annotations

import contextlib
import functools
import sys
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

import click

from evidencekit.cli.click_zh import install as install_click_chinese
from evidencekit.errors import EvidenceKitError, ExitCode
from evidencekit.fsutil import disk_full_error, is_disk_full
from evidencekit.interrupt import interrupted_exit_code, sigterm_as_interrupt
from evidencekit.model import EvidenceKind, Target
from evidencekit.terminal import terminal_safe

if TYPE_CHECKING:
    from evidencekit.rules.catalog import Vocabulary

# Every command module imports this module before it declares an option, and click computes a
# few texts (a path option's "directory") when an option is declared: its Chinese goes in first.
install_click_chinese()

F = TypeVar("F", bound=Callable[..., Any])

# --target's choices: the values (12315, email …), which click.Choice(Target) would not offer.
TARGETS = tuple(target.value for target in Target)
# --kind's choices, the evidence/ folders `add` copies into.
KINDS = tuple(kind.value for kind in EvidenceKind)

# What each list a shopper picks from is called in "X 不是可用的……".
_VOCABULARY_NOUNS: dict[Vocabulary, str] = {
    "platform": "平台", "problem_type": "问题类型", "claim": "诉求", "kind": "证据类别", "target": "提交渠道",
    "channel": "跟进渠道",
}


class WordChoice(click.Choice[str]):
    """A choice among template keys (douyin, order, 12315 …) that also takes each key's Chinese
    label and aliases from templates/ (抖音, 订单, 全国12315平台 …) and returns the key.

    The keys are given in code so `--help` reads no template; the templates are read only for a
    value that is not a key. A wrong value is refused listing every key with its Chinese label.
    """

    def __init__(self, vocabulary: Vocabulary, keys: tuple[str, ...], *, blank_ok: bool = False) -> None:
        super().__init__(keys)
        self.vocabulary: Vocabulary = vocabulary
        self.blank_ok = blank_ok  # an `init` answer left empty

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        if not isinstance(value, str):
            return cast(str, super().convert(value, param, ctx))
        text = value.strip()
        if text in self.choices or (self.blank_ok and not text):
            return text
        from evidencekit.rules.catalog import load_rules, resolve_word

        key = resolve_word(self.vocabulary, text, load_rules())
        if key is None or key not in self.choices:
            self.fail(f"{text} 不是可用的{_VOCABULARY_NOUNS[self.vocabulary]}。可用：{self._listing()}", param, ctx)
        return key

    def get_missing_message(self, param: click.Parameter, ctx: click.Context | None) -> str:
        return f"可用：{self._listing()}"

    def _listing(self) -> str:
        from evidencekit.rules.catalog import choices_text, load_rules

        return choices_text(self.vocabulary, load_rules())


class _SafeStream:
    """A text stream that escapes controls on the way out (see ``terminal_safe``)."""

    def __init__(self, raw: Any) -> None:
        self.unfiltered = raw

    def write(self, text: str) -> int:
        self.unfiltered.write(terminal_safe(text, multiline=True))
        return len(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.unfiltered, name)


def unfiltered(stream: Any) -> Any:
    """The stream below a ``_SafeStream`` (for output that escapes its own text)."""
    return stream.unfiltered if isinstance(stream, _SafeStream) else stream


@contextlib.contextmanager
def _safe_output() -> Iterator[None]:
    """Every echo path of a command goes through ``terminal_safe`` while the command runs."""
    saved = sys.stdout, sys.stderr
    if sys.stdout is not None and not isinstance(sys.stdout, _SafeStream):
        sys.stdout = _SafeStream(sys.stdout)
    if sys.stderr is not None and not isinstance(sys.stderr, _SafeStream):
        sys.stderr = _SafeStream(sys.stderr)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved


def _echo_err(text: str) -> None:
    click.echo(terminal_safe(text, multiline=True), err=True)


def handle_errors(func: F) -> F:
    """Translate exceptions into messages and exit codes; tracebacks only with --debug."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        debug = bool(kwargs.get("debug")) or bool(click.get_current_context().find_root().params.get("debug"))
        try:
            with sigterm_as_interrupt(), _safe_output():
                return func(*args, **kwargs)
        except EvidenceKitError as exc:
            if debug:
                traceback.print_exc()
            _echo_err(f"错误：{exc.render()}")
            sys.exit(int(exc.exit_code))
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException, SystemExit):
            raise
        except KeyboardInterrupt as exc:
            _echo_err("已中断；没有写出任何不完整的输出文件。")
            sys.exit(interrupted_exit_code(exc))
        except Exception as exc:
            if isinstance(exc, OSError) and is_disk_full(exc):  # wherever it happened: an output problem
                _echo_err(f"错误：{disk_full_error(getattr(exc, 'filename', None) or '临时文件夹', exc).render()}")
                sys.exit(int(ExitCode.OUTPUT))
            if debug:
                traceback.print_exc()
            _echo_err(
                f"内部错误：{type(exc).__name__}: {exc}\n"
                "这是 evidencekit 的程序错误，不是您的操作问题。请加 --debug 重新运行，并把输出附在问题报告里。"
            )
            sys.exit(int(ExitCode.INTERNAL))

    return wrapper  # type: ignore[return-value]


def debug_option(func: F) -> F:
    return click.option("--debug", is_flag=True, help="出错时显示完整的 Python 调用栈（供开发者排查）。")(func)


def as_target(_ctx: click.Context, _param: click.Parameter, value: str | None) -> Target | None:
    """Callback of every --target option: the command receives a Target, not the typed word."""
    return None if value is None else Target(value)


def target_option(default: Target = Target.GENERAL) -> Callable[[F], F]:
    return click.option(
        "--target", "-t", type=WordChoice("target", TARGETS), default=default.value, show_default=True,
        callback=as_target,
        help="提交渠道：general 通用 / platform 平台介入 / 12315 / email 邮件 / payment 支付渠道投诉"
             "（英文或中文都可以）。",
    )


FORCE_HELP = "覆盖已存在的输出文件。"
REPRODUCIBLE_HELP = "相同输入生成逐字节相同的 PDF（时间取自证据或 SOURCE_DATE_EPOCH）。"
STRICT_HELP = "有缺少或较弱的证据时不生成，退出码 6。"
NO_OCR_HELP = "不识别订单、付款、物流截图上的文字（不与 case.yaml 核对，不给证据材料加可搜索的文字层）。"
no_ocr_option = click.option("--no-ocr", is_flag=True, help=NO_OCR_HELP)


def build_options(*, force_help: str = FORCE_HELP, strict_help: str = STRICT_HELP) -> Callable[[F], F]:
    """--force, --reproducible, --strict and --no-ocr, declared once for every command that
    builds a dossier (build, pack, batch). The command receives them, with its --target, as one
    ``options: pipeline.BuildOptions``; what is its own (an output path, a size cap) it adds."""
    flags = (
        click.option("--force", is_flag=True, help=force_help),
        click.option("--reproducible", is_flag=True, help=REPRODUCIBLE_HELP),
        click.option("--strict", is_flag=True, help=strict_help),
        no_ocr_option,
    )

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, target: Target, force: bool, reproducible: bool, strict: bool, no_ocr: bool,
                    **kwargs: Any) -> Any:
            from evidencekit.pipeline import BuildOptions

            options = BuildOptions(target=target, force=force, reproducible=reproducible, strict=strict,
                                   ocr=not no_ocr)
            return func(*args, options=options, **kwargs)

        command: Any = wrapper
        for flag in reversed(flags):  # applied bottom-up, so --help lists them in this order
            command = flag(command)
        return cast(F, command)

    return decorate


def quiet_option(func: F) -> F:
    return click.option("--quiet", "-q", is_flag=True, help="不显示进度。")(func)


def case_dir(path: str) -> Path:
    return Path(path)


def progress_printer(quiet: bool) -> Callable[[int, int, str], None] | None:
    """A one-line progress bar on stderr, showing the current file; silent when not a terminal."""
    if quiet or not sys.stderr.isatty():
        return None

    def show(done: int, total: int, current: str) -> None:
        width = 24
        filled = int(width * done / total) if total else width
        name = terminal_safe(current)[-40:]
        err = unfiltered(sys.stderr)  # the carriage returns below are ours; the name is escaped
        err.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {name:<40}")
        if done >= total:
            err.write("\r" + " " * (width + 56) + "\r")
        err.flush()

    return show
