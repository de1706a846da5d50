"""Exit codes and the exceptions that carry them.

The library raises these; only ``cli.py`` turns them into messages and exit codes.
Messages are Chinese (users read them); identifiers stay English.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class ExitCode(IntEnum):
    """Stable exit codes (PRODUCT.md §6). Users' scripts rely on these numbers."""

    OK = 0
    INTERNAL = 1
    USAGE = 2
    CASE_INVALID = 3
    FOLDER_UNUSABLE = 4
    OUTPUT = 5
    INCOMPLETE = 6
    VERIFY_FAILED = 7


class EvidenceKitError(Exception):
    """Base class: a message for the user, an exit code, and an optional remedy."""

    exit_code: ExitCode = ExitCode.INTERNAL

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def render(self) -> str:
        return f"{self.message}\n提示：{self.hint}" if self.hint else self.message


@dataclass(frozen=True)
class CaseProblem:
    """One problem in case.yaml, located precisely enough to fix without guessing."""

    key_path: str  # e.g. "merchant.credit_code" or "evidence[2].file"
    message: str  # Chinese, what is wrong
    line: int | None = None  # 1-based line in case.yaml
    value: str | None = None  # the value found, shortened
    expected: str = ""  # what would be accepted
    suggestion: str = ""  # "did you mean" candidate

    def render(self) -> str:
        where = f"第 {self.line} 行 " if self.line else ""
        parts = [f"{where}{self.key_path}：{self.message}"]
        if self.value is not None:
            parts.append(f"（当前值：{self.value}）")
        if self.expected:
            parts.append(f"；应为：{self.expected}")
        if self.suggestion:
            parts.append(f"；您是不是想写 {self.suggestion}？")
        return "".join(parts)


class UsageError(EvidenceKitError):
    """The command was called wrongly (an option or environment variable out of range)."""

    exit_code = ExitCode.USAGE


class CaseFileError(EvidenceKitError):
    """case.yaml cannot be used: every problem is reported at once."""

    exit_code = ExitCode.CASE_INVALID

    def __init__(self, path: str, problems: list[CaseProblem]) -> None:
        self.path = path
        self.problems = problems
        lines = [f"案件文件 {path} 有 {len(problems)} 处问题："]
        lines += [f"  - {p.render()}" for p in problems]
        super().__init__("\n".join(lines), hint="改正上面列出的键后重新运行；键名见 evidencekit init 生成的模板。")


class CaseFolderError(EvidenceKitError):
    """The case folder is missing, unreadable or has no evidence/ folder."""

    exit_code = ExitCode.FOLDER_UNUSABLE


class OutputError(EvidenceKitError):
    """The output path exists (without --force), is not writable, or lies inside evidence/."""

    exit_code = ExitCode.OUTPUT


class ChecklistIncomplete(EvidenceKitError):
    """Required evidence or case facts are missing (or, with --strict, weak)."""

    exit_code = ExitCode.INCOMPLETE


class VerificationFailed(EvidenceKitError):
    """A hash or a timestamp token does not match."""

    exit_code = ExitCode.VERIFY_FAILED


class InternalError(EvidenceKitError):
    exit_code = ExitCode.INTERNAL
