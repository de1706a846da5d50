"""Exit codes and the exceptions that carry them.

The library raises these; only the ``evidencekit.cli`` package turns them into messages and exit codes.
Messages are Chinese (users read them); identifiers stay English.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class ExitCode(IntEnum):
    """Stable exit codes, listed in README.md. Users' scripts rely on these numbers."""

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


class NoSuchCase(CaseFolderError):
    """A case name from a web request that is not a case folder directly inside the workspace."""


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


# raised by evidencekit.pdf.fonts
class FontError(EvidenceKitError):
    """A user-chosen font cannot be used (not found, not TrueType, CFF outlines)."""

    exit_code = ExitCode.USAGE


# raised while loading templates/ (evidencekit.rules.templatefile and the readers built on it)
class TemplateError(InternalError):
    """A file in templates/ is malformed: a bug in what we ship (or a volunteer's edit)."""


# raised by evidencekit.rules.lookups.target_profile
class UnknownTargetError(EvidenceKitError):
    """A target that is no Target (so targets.yaml has no profile for it)."""

    exit_code = ExitCode.USAGE


# raised by evidencekit.case.followup
class FollowupUsageError(EvidenceKitError):
    """A bad channel or an empty note given to ``log``."""

    exit_code = ExitCode.USAGE


class FollowupTimeError(FollowupUsageError):
    """A ``log --time`` that no known way of writing a time matches (the CLI names the option)."""


# raised by evidencekit.integrity.tsa
class TimestampError(EvidenceKitError):
    """The TSA could not be reached or answered with an HTTP error: retry, or try another TSA."""

    exit_code = ExitCode.INTERNAL


# raised by evidencekit.integrity.tsa
class CertificateFileError(EvidenceKitError):
    """A CA or TSA certificate file given on the command line cannot be read."""

    exit_code = ExitCode.USAGE


# raised by evidencekit.integrity.tsa
class TokenFileRefused(OutputError):
    """A ``.tsr`` beside a dossier that is a link, not a regular file, or too large to be a token."""


# ---------------------------------------------------------------------------------------------
# Raised and caught inside the library: each becomes a recorded problem, never an exit on its own
# ---------------------------------------------------------------------------------------------


# raised by evidencekit.case.load
class TimeOutOfRange(ValueError):
    """A well-formed time outside MIN_CASE_YEAR..MAX_CASE_YEAR (or not convertible to UTC)."""


# raised by evidencekit.media.budget
class BudgetExceeded(Exception):
    """The job ran out of time or memory; ``reason`` is the Chinese text for the dossier."""

    def __init__(self, what: str, reason: str) -> None:
        super().__init__(reason)
        self.what = what  # "time" | "memory"
        self.reason = reason


# raised by evidencekit.media.budget
class WorkerFailed(ValueError):
    """The child exited without an answer and without a signal (it could not run the job)."""


# raised by evidencekit.media.container
class UnsupportedContainer(ValueError):
    """The first bytes are none of the containers we open."""


# raised by evidencekit.media.container
class DecodeFailed(ValueError):
    """A decoder error, reduced to its (path-free) message so it crosses process boundaries."""


# raised by evidencekit.integrity.manifest
class ManifestError(ValueError):
    """The manifest is not one evidencekit wrote; ``reason`` is Chinese, for the user."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# What an exhibit shows when OriginalChanged is raised for it.
CHANGED_REASON = "原件在计算哈希之后被修改或替换，未生成预览；请确认没有程序正在改动证据文件后重新生成"


# raised by evidencekit.case.inventory.hash_file (inventory and inspect)
class NotRegularError(OSError):
    """What was opened is not a regular file (a FIFO or device swapped in); ``mode`` says which."""

    def __init__(self, mode: int) -> None:
        super().__init__("not a regular file")
        self.mode = mode


# raised by evidencekit.integrity.originals
class OriginalChanged(Exception):
    """The file at an original's path is no longer the file (or the bytes) that was hashed."""

    def __init__(self, rel_path: str) -> None:
        super().__init__(rel_path)
        self.rel_path = rel_path
        self.reason = CHANGED_REASON


# raised by evidencekit.interrupt
class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread so that it unwinds like Ctrl-C: work folders in TMPDIR
    are removed and worker processes are stopped by the code that created them."""


# raised by evidencekit.inspection_report
class InspectionRefused(Exception):
    """A file that cannot be inspected: missing, unreadable, a link or not a regular file."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# raised by evidencekit.media.suggest
class FeatureUnavailable(EvidenceKitError):
    """An option that needs an optional extra which is not installed. A usage error (exit 2):
    the command as typed cannot run in this installation, and the hint says how to add the extra."""

    exit_code = ExitCode.USAGE


class SuggestFailed(Exception):
    """No moments could be suggested for one recording (undecodable, over its budget)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
