"""Build many case folders at once, one worker process per case, and tabulate the outcome.

A volunteer receives dozens of case folders from strangers; one of them is always broken. So each
case is built in isolation: every exception (ours, a bug, even a worker process that dies) becomes
a failed row with its exit code and a Chinese message, and the other cases carry on. Rows come
out sorted by case name whatever order the workers finish in, so two runs compare line by line.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import multiprocessing
import multiprocessing.connection
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from evidencekit.case.inventory import Inventory, has_evidence_folder
from evidencekit.case.load import CASE_FILE_NAMES
from evidencekit.dossier import source_date_epoch
from evidencekit.errors import CaseFolderError, EvidenceKitError, ExitCode, OutputError
from evidencekit.fsutil import absolute, make_dirs, write_atomically
from evidencekit.integrity.originals import public_text
from evidencekit.media.pool import Progress, available_cpus
from evidencekit.model import Status, Target
from evidencekit.pipeline import Assessment, BuildOptions, BuildResult, build_dossier, checklist_complete_for
from evidencekit.terminal import display_width, pad_to_width, terminal_safe

DEFAULT_OUTDIR_NAME = "_dossiers"
SUMMARY_CSV = "summary.csv"
SUMMARY_JSON = "summary.json"
# Per-case time limit (seconds): a case that takes longer is stopped and reported as 超时.
DEFAULT_CASE_TIMEOUT = 600.0
TIMEOUT_EXIT_CODE = int(ExitCode.FOLDER_UNUSABLE)  # the case folder cannot be used as it is
_KILL_GRACE = 2.0  # seconds between SIGINT (clean up) and SIGKILL


# ---------------------------------------------------------------------------------------------
# Values
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BatchOptions:
    """What `batch` is asked for: the build options every case shares (target, force,
    reproducible, strict, cache_dir, now; each case gets its own output and builds with one
    process) plus where the dossiers go, how many cases build at once and for how long."""

    build: BuildOptions
    outdir: Path | None = None  # default: CASES_DIR/_dossiers
    jobs: int | None = None  # cases built side by side; None: one per CPU
    case_timeout: float | None = DEFAULT_CASE_TIMEOUT  # seconds per case; None: no limit, no supervisor


@dataclass(frozen=True)
class BuiltCase:
    """What the summary needs from one successful build (small, so it crosses processes cheaply)."""

    output: Path
    pages: int
    size: int  # bytes
    complete: bool  # every required checklist item present
    missing: tuple[str, ...]  # labels of required items that are missing
    urgency: str  # Chinese label, e.g. 紧急（24 小时内处理）


BuildFn = Callable[[Path, BuildOptions], BuiltCase]


@dataclass(frozen=True)
class CaseJob:
    name: str  # the case folder's name; also the PDF's stem
    root: Path
    options: BuildOptions


@dataclass(frozen=True)
class CaseRow:
    """One line of the summary table."""

    case: str
    root: Path
    exit_code: int  # 0 when built
    message: str = ""  # Chinese reason when it failed
    complete: bool | None = None  # None when the case did not build
    missing: tuple[str, ...] = ()
    urgency: str = ""
    output: Path | None = None
    pages: int | None = None
    size: int | None = None
    seconds: float = 0.0
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.exit_code == ExitCode.OK

    @property
    def status(self) -> str:
        if self.timed_out:
            return "timeout"
        return "ok" if self.ok else "failed"

    @property
    def status_label(self) -> str:
        return "超时" if self.timed_out else ("已生成" if self.ok else "失败")


@dataclass(frozen=True)
class BatchSummary:
    cases_dir: Path
    outdir: Path
    target: Target
    jobs: int
    generated_at: datetime
    seconds: float
    rows: tuple[CaseRow, ...]  # sorted by case name

    @property
    def built(self) -> int:
        return sum(1 for r in self.rows if r.ok)

    @property
    def failed(self) -> int:
        return len(self.rows) - self.built

    @property
    def timed_out(self) -> int:
        return sum(1 for r in self.rows if r.timed_out)

    @property
    def incomplete(self) -> int:
        return sum(1 for r in self.rows if r.complete is False)

    @property
    def exit_code(self) -> int:
        """0 when every case built (incomplete checklists included), else the first failed row's code."""
        return next((r.exit_code for r in self.rows if not r.ok), int(ExitCode.OK))


# ---------------------------------------------------------------------------------------------
# Finding the cases
# ---------------------------------------------------------------------------------------------


def is_case_folder(path: Path) -> bool:
    return path.is_dir() and (any((path / name).is_file() for name in CASE_FILE_NAMES) or has_evidence_folder(path))


def find_cases(cases_dir: Path) -> list[Path]:
    """Direct subfolders that look like case folders, sorted by name; hidden folders skipped."""
    if not cases_dir.is_dir():
        raise CaseFolderError(f"案件总文件夹 {cases_dir} 不存在或不是文件夹",
                              hint="检查路径；batch 需要一个内含多个案件文件夹的文件夹")
    try:
        children = sorted(cases_dir.iterdir(), key=lambda p: p.name)
    except OSError as exc:
        raise CaseFolderError(f"无法读取文件夹 {cases_dir}：{exc.strerror}") from exc
    cases = [p for p in children if not p.name.startswith(".") and is_case_folder(p)]
    if not cases:
        if is_case_folder(cases_dir):
            raise CaseFolderError(f"{cases_dir} 本身是一个案件文件夹，其中没有子案件",
                                  hint=f"单个案件请用 evidencekit build {cases_dir}")
        raise CaseFolderError(f"{cases_dir} 下没有找到案件文件夹（含 case.yaml 或 evidence/ 的子文件夹）",
                              hint="把每个案件放在各自的子文件夹里，例如 案件总文件夹/张三/evidence/")
    return cases


# ---------------------------------------------------------------------------------------------
# Building one case (runs inside a worker process)
# ---------------------------------------------------------------------------------------------


def built_case_from(result: BuildResult) -> BuiltCase:

    d = result.dossier
    # checklist_complete_for is the one definition of "complete"; it only reads the checklist and
    # findings, so an Assessment rebuilt from the dossier answers exactly as `check` would.
    assessment = Assessment(d.case, Inventory((), d.refused, ()), d.exhibits, d.checklist, result.findings)
    missing = tuple(i.label for i in d.checklist if i.required and i.status is Status.MISSING)
    return BuiltCase(
        output=result.output,
        pages=result.page_count,
        size=result.size,
        complete=checklist_complete_for(assessment, strict=False),
        missing=missing,
        urgency=d.urgency,
    )


def build_one(root: Path, options: BuildOptions) -> BuiltCase:
    """The real build: one dossier, reduced to what the summary shows."""
    return built_case_from(build_dossier(root, options))


def run_case(build: BuildFn, job: CaseJob) -> CaseRow:
    """Build one case and never raise: whatever goes wrong becomes the row's exit code and message."""
    start = time.perf_counter()
    try:
        built = build(job.root, job.options)
    except EvidenceKitError as exc:
        return _failed(job, int(exc.exit_code), exc.render(), time.perf_counter() - start)
    except Exception as exc:  # a bug in one case must not end the batch
        return _failed(job, int(ExitCode.INTERNAL), _bug_message(job, exc), time.perf_counter() - start)
    return CaseRow(
        case=job.name,
        root=job.root,
        exit_code=int(ExitCode.OK),
        complete=built.complete,
        missing=built.missing,
        urgency=built.urgency,
        output=built.output,
        pages=built.pages,
        size=built.size,
        seconds=time.perf_counter() - start,
    )


def _bug_message(job: CaseJob, exc: BaseException) -> str:
    return (f"内部错误：{type(exc).__name__}: {exc}\n"
            f"提示：这是 evidencekit 的程序错误。请运行 evidencekit build {job.root} --debug 查看详情，"
            "并把输出附在问题报告里。")


def _failed(job: CaseJob, code: int, message: str, seconds: float) -> CaseRow:
    return CaseRow(case=job.name, root=job.root, exit_code=code, message=message, seconds=seconds)


# ---------------------------------------------------------------------------------------------
# The batch
# ---------------------------------------------------------------------------------------------


def run_batch(
    cases_dir: Path,
    options: BatchOptions,
    *,
    build: BuildFn = build_one,
    progress: Progress | None = None,
) -> BatchSummary:
    """Build every case under ``cases_dir`` into ``outdir/<case>.pdf``; never stops at a failed case.

    ``options.jobs`` worker processes build cases side by side (None: one per CPU). With ``case_timeout``
    (seconds) every case builds in a process of its own that is stopped, with everything it
    started, when it runs longer; the case is then reported as 超时. With ``case_timeout=None``
    one job builds in this process and more use a process pool. ``build`` must be a module-level
    function so it can be pickled.
    """
    started = time.perf_counter()
    source_date_epoch()  # a bad value fails the batch once, not every case
    cases = find_cases(cases_dir)
    jobs, case_timeout = options.jobs, options.case_timeout
    outdir = options.outdir if options.outdir is not None else cases_dir / DEFAULT_OUTDIR_NAME
    make_dirs(outdir, cases_dir, what="输出文件夹")  # never through a link planted among the cases
    _prepare_outdir(outdir)
    workers = max(1, min(jobs if jobs is not None else available_cpus(), len(cases)))
    # Each case builds its images with one process: the batch's pool already fills the cores.
    jobs_list = [
        CaseJob(
            name=root.name,
            root=root,
            options=replace(options.build, output=absolute(outdir / f"{root.name}.pdf"), jobs=1),
        )
        for root in cases
    ]
    total = len(jobs_list)
    done = 0

    def finished(row: CaseRow) -> None:
        nonlocal done
        done += 1
        if progress:
            progress(done, total, row.case)

    if case_timeout is not None:
        if progress:
            progress(0, total, "")
        rows = _run_supervised(build, jobs_list, workers, case_timeout, finished)
    elif workers == 1:
        rows = []
        for job in jobs_list:
            if progress:
                progress(done, total, job.name)
            rows.append(run_case(build, job))
            finished(rows[-1])
    else:
        if progress:
            progress(0, total, "")
        rows = _run_in_pool(build, jobs_list, workers, finished)
    return BatchSummary(
        cases_dir=cases_dir,
        outdir=outdir,
        target=options.build.target,
        jobs=workers,
        generated_at=options.build.now,
        seconds=time.perf_counter() - started,
        rows=tuple(sorted(rows, key=lambda r: r.case)),
    )


def _prepare_outdir(outdir: Path) -> None:
    try:
        outdir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"无法创建输出文件夹 {outdir}：{exc.strerror}", hint="用 -o 指定一个可写的位置") from exc
    if not os.access(outdir, os.W_OK):
        raise OutputError(f"没有写入输出文件夹 {outdir} 的权限", hint="用 -o 指定一个可写的位置")


def _run_in_pool(build: BuildFn, jobs_list: Sequence[CaseJob], workers: int,
                 finished: Callable[[CaseRow], None]) -> list[CaseRow]:
    rows: list[CaseRow] = []
    crashed: list[CaseJob] = []
    pool = ProcessPoolExecutor(max_workers=workers)
    try:
        futures: dict[Future[CaseRow], CaseJob] = {pool.submit(run_case, build, job): job for job in jobs_list}
        for fut in as_completed(futures):
            job = futures[fut]
            try:
                row = fut.result()
            except BrokenProcessPool:
                crashed.append(job)
                continue
            except Exception as exc:  # e.g. the build function could not be pickled
                row = _failed(job, int(ExitCode.INTERNAL), _bug_message(job, exc), 0.0)
            rows.append(row)
            finished(row)
    except BaseException:
        # Ctrl-C: drop the queued cases instead of waiting for every one of them to build.
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
    # A worker that dies (a crash in a native decoder, the OOM killer) breaks the whole pool and
    # every case still in it. Rerun those one by one, each in a fresh process of its own, so only
    # the case that kills its process fails.
    for job in sorted(crashed, key=lambda j: j.name):
        row = _run_isolated(build, job)
        rows.append(row)
        finished(row)
    return rows


def _run_supervised(build: BuildFn, jobs_list: Sequence[CaseJob], workers: int, limit: float,
                    finished: Callable[[CaseRow], None]) -> list[CaseRow]:
    """One process per case, at most ``workers`` at a time; a case over ``limit`` seconds is killed."""
    ctx = multiprocessing.get_context()
    pending = list(jobs_list)
    running: dict[Any, tuple[Any, CaseJob, float]] = {}  # receiving end → (process, job, start)
    rows: list[CaseRow] = []
    try:
        while pending or running:
            while pending and len(running) < workers:
                job = pending.pop(0)
                receive, send = ctx.Pipe(duplex=False)
                proc = ctx.Process(target=_case_process, args=(build, job, send), name=f"evidencekit-{job.name}")
                proc.start()
                send.close()
                running[receive] = (proc, job, time.monotonic())
            next_deadline = min(start + limit for _, _, start in running.values())
            waitables = [*running, *(proc.sentinel for proc, _, _ in running.values())]
            multiprocessing.connection.wait(waitables, timeout=max(0.0, next_deadline - time.monotonic()))
            for receive, (proc, job, start) in list(running.items()):
                row = _collect(receive, proc, job, start, limit)
                if row is None:
                    continue
                _stop(proc)
                receive.close()
                del running[receive]
                rows.append(row)
                finished(row)
    finally:
        # Ctrl-C or a bug: stop every case still building (they clean up their work folders on
        # the interrupt), then kill whatever is left; nothing outlives the batch.
        procs = [proc for proc, _job, _start in running.values()]
        for proc in procs:
            if proc.is_alive():
                _signal_group(proc, signal.SIGINT)
        deadline = time.monotonic() + _KILL_GRACE
        for proc in procs:
            proc.join(max(0.0, deadline - time.monotonic()))
            _stop(proc, grace=0.0)
        for receive in running:
            receive.close()
    return rows


def _collect(receive: Any, proc: Any, job: CaseJob, start: float, limit: float) -> CaseRow | None:
    """The finished case's row, a crashed or timed-out row, or None while it is still building."""
    elapsed = time.monotonic() - start
    if receive.poll():
        try:
            row = receive.recv()
        except (EOFError, OSError):
            row = None
        if isinstance(row, CaseRow):
            return row
        return _crashed(job, elapsed)
    if not proc.is_alive():
        return _crashed(job, elapsed)
    if elapsed >= limit:
        message = (f"超时：超过每个案件 {limit:g} 秒的时间上限，已停止处理此案件（其余案件照常生成）\n"
                   f"提示：单独运行 evidencekit build {job.root} 查看是哪个文件耗时过长；"
                   "确实需要更长时间时用 --timeout 放宽上限。")
        return replace(_failed(job, TIMEOUT_EXIT_CODE, message, elapsed), timed_out=True)
    return None


def _crashed(job: CaseJob, seconds: float) -> CaseRow:
    message = ("处理此案件时工作进程意外退出（可能是某个文件导致解码程序崩溃，或内存不足）\n"
               f"提示：请单独运行 evidencekit build {job.root} --debug 查找是哪个文件。")
    return _failed(job, int(ExitCode.INTERNAL), message, seconds)


def _case_process(build: BuildFn, job: CaseJob, send: Any) -> None:
    """Runs in the case's own process (and process group, so a kill reaches its helpers too)."""
    # The batch stops a case with SIGINT so that it removes its work folders; a batch started with
    # SIGINT ignored (nohup, a script's `&`, cron) would hand that on and the case would not hear it.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    if hasattr(os, "setpgid") and hasattr(os, "killpg"):
        with contextlib.suppress(OSError):
            os.setpgid(0, 0)
            _die_with_parent(os.getppid())
    try:
        row = run_case(build, job)
    except KeyboardInterrupt:  # stopped by the batch: the build's work folders are removed by now
        sys.exit(130)
    send.send(row)
    send.close()


def _die_with_parent(parent: int) -> None:
    """If the batch itself is killed (SIGKILL, a closed terminal), end this case's process group:
    in a group of its own it would otherwise build on, unseen, with every helper it started."""

    def watch() -> None:
        while True:
            time.sleep(0.25)  # a getppid() four times a second costs nothing
            if os.getppid() != parent:
                os.killpg(0, getattr(signal, "SIGKILL", signal.SIGTERM))

    threading.Thread(target=watch, name="evidencekit-parent-watch", daemon=True).start()


def _stop(proc: Any, grace: float = _KILL_GRACE) -> None:
    """End a case's process and every process it started; reap it.

    SIGINT first: Python turns it into KeyboardInterrupt, so the build unwinds and removes its
    temporary work folder (with the half-rendered dossier); after ``grace`` seconds the whole
    process group is killed (a decoder stuck in native code never sees the interrupt).
    """
    if proc.pid is None:
        return
    if proc.is_alive() and grace > 0:
        _signal_group(proc, signal.SIGINT)
        proc.join(grace)
    _signal_group(proc, getattr(signal, "SIGKILL", signal.SIGTERM))
    proc.join()


def _signal_group(proc: Any, sig: int) -> None:
    try:
        if hasattr(os, "killpg"):
            os.killpg(proc.pid, sig)
        elif proc.is_alive():
            proc.kill()
    except (ProcessLookupError, PermissionError):
        pass


def _run_isolated(build: BuildFn, job: CaseJob) -> CaseRow:
    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=1) as solo:
        try:
            return solo.submit(run_case, build, job).result()
        except BrokenProcessPool:
            message = ("处理此案件时工作进程意外退出（可能是某个文件导致解码程序崩溃，或内存不足）\n"
                       f"提示：请单独运行 evidencekit build {job.root} --debug 查找是哪个文件。")
            return _failed(job, int(ExitCode.INTERNAL), message, time.perf_counter() - start)
        except Exception as exc:
            return _failed(job, int(ExitCode.INTERNAL), _bug_message(job, exc), time.perf_counter() - start)


# ---------------------------------------------------------------------------------------------
# The summary: CSV, JSON, readable table
# ---------------------------------------------------------------------------------------------

CSV_HEADER = ("案件", "状态", "退出码", "证据清单", "缺少项数", "缺少项目", "紧急程度", "输出文件",
              "页数", "大小（字节）", "用时（秒）", "说明")


def _complete_label(row: CaseRow) -> str:
    if row.complete is None:
        return "—"
    return "齐全" if row.complete else "不齐全"


def csv_cell(text: str) -> str:
    """A cell a spreadsheet shows as text: one starting with = + - @ (or tab/CR) is a formula
    to Excel and LibreOffice (CSV injection), so it gets a leading apostrophe."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _csv_row(row: CaseRow, outdir: Path) -> list[str]:
    return [csv_cell(cell) for cell in _csv_cells(row, outdir)]


def _written_output(row: CaseRow, outdir: Path) -> str | None:
    """The dossier as the summary names it: relative to OUTDIR, where the summary lies."""
    if row.output is None:
        return None
    try:
        return row.output.relative_to(outdir).as_posix()
    except ValueError:
        return public_text(str(row.output))


def _written_message(row: CaseRow) -> str:
    """A failure's message without the local folders it names (the case is named by itself)."""
    return public_text(row.message, [(row.root, row.case)])


def _csv_cells(row: CaseRow, outdir: Path) -> list[str]:
    return [
        row.case,
        row.status_label,
        str(row.exit_code),
        _complete_label(row) if row.ok else "",
        str(len(row.missing)) if row.ok else "",
        "、".join(row.missing),
        row.urgency,
        _written_output(row, outdir) or "",
        str(row.pages) if row.pages is not None else "",
        str(row.size) if row.size is not None else "",
        f"{row.seconds:.2f}",
        _written_message(row),
    ]


def summary_dict(summary: BatchSummary) -> dict[str, Any]:
    return {
        "cases_dir": summary.cases_dir.name,
        "outdir": _written_outdir(summary),
        "target": summary.target,
        "jobs": summary.jobs,
        "generated_at": summary.generated_at.isoformat(timespec="seconds"),
        "seconds": round(summary.seconds, 3),
        "exit_code": summary.exit_code,
        "total": len(summary.rows),
        "built": summary.built,
        "failed": summary.failed,
        "incomplete": summary.incomplete,
        "timed_out": summary.timed_out,
        "cases": [
            {
                "case": r.case,
                "path": _written_path(r, summary),
                "status": r.status,
                "exit_code": r.exit_code,
                "message": _written_message(r),
                "complete": r.complete,
                "missing_count": len(r.missing),
                "missing": list(r.missing),
                "urgency": r.urgency,
                "output": _written_output(r, summary.outdir),
                "pages": r.pages,
                "size": r.size,
                "seconds": round(r.seconds, 3),
            }
            for r in summary.rows
        ],
    }


def _written_path(row: CaseRow, summary: BatchSummary) -> str:
    try:
        return row.root.relative_to(summary.cases_dir).as_posix()
    except ValueError:
        return row.case


def _written_outdir(summary: BatchSummary) -> str:
    try:
        return summary.outdir.relative_to(summary.cases_dir).as_posix()
    except ValueError:
        return public_text(str(summary.outdir))


def summary_json(summary: BatchSummary) -> str:
    return json.dumps(summary_dict(summary), ensure_ascii=False, indent=2) + "\n"


def summary_csv(summary: BatchSummary) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    writer.writerows(_csv_row(r, summary.outdir) for r in summary.rows)
    return buf.getvalue()


def write_summary(summary: BatchSummary, outdir: Path) -> tuple[Path, Path]:
    """``summary.csv`` (UTF-8 with BOM: Excel on Chinese Windows otherwise guesses GBK and shows
    mojibake) and ``summary.json``; each replaced atomically, so a reader never sees half a table."""
    csv_path = outdir / SUMMARY_CSV
    json_path = outdir / SUMMARY_JSON
    _write_atomic(csv_path, summary_csv(summary).encode("utf-8-sig"))
    _write_atomic(json_path, summary_json(summary).encode("utf-8"))
    return csv_path, json_path


def _write_atomic(path: Path, data: bytes) -> None:
    write_atomically(path, data, what="汇总表")


def _table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    body = [list(r) for r in rows]
    widths = [max(display_width(c) for c in col) for col in zip(header, *body, strict=True)]
    lines = ["  ".join(pad_to_width(c, w) for c, w in zip(header, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(pad_to_width(c, w) for c, w in zip(r, widths, strict=True)).rstrip() for r in body]
    return lines


def _size_label(size: int | None) -> str:
    if size is None:
        return "—"
    return f"{size / 1024 / 1024:.1f} MB" if size >= 1024 * 1024 else f"{size / 1024:.0f} KB"


def format_summary(summary: BatchSummary) -> str:
    header = ("案件", "状态", "退出码", "证据清单", "紧急程度", "页数", "大小", "用时")
    table = _table(header, (
        (
            terminal_safe(r.case),
            r.status_label,
            str(r.exit_code),
            (_complete_label(r) + (f"（缺 {len(r.missing)} 项）" if r.missing else "")) if r.ok else "—",
            r.urgency or "—",
            str(r.pages) if r.pages is not None else "—",
            _size_label(r.size),
            f"{r.seconds:.1f} 秒",
        )
        for r in summary.rows
    ))
    lines = [f"批量生成：{terminal_safe(str(summary.cases_dir))}（提交渠道：{summary.target}，{summary.jobs} 个进程）",
             "", *table]
    incomplete = [r for r in summary.rows if r.ok and r.missing]
    if incomplete:
        lines += ["", "证据清单不齐全："]
        lines += [f"  {terminal_safe(r.case)}：缺少 {terminal_safe('、'.join(r.missing))}" for r in incomplete]
    failed = [r for r in summary.rows if not r.ok]
    if failed:
        lines += ["", "失败的案件："]
        for r in failed:
            first, *rest = [terminal_safe(line) for line in r.message.splitlines()] or [""]
            lines.append(f"  {terminal_safe(r.case)}（退出码 {r.exit_code}）：{first}")
            lines += [f"    {line}" for line in rest]
    timed_out = f"（其中超时 {summary.timed_out} 个）" if summary.timed_out else ""
    lines += ["", f"共 {len(summary.rows)} 个案件：已生成 {summary.built} 个，失败 {summary.failed} 个{timed_out}，"
                  f"证据清单不齐全 {summary.incomplete} 个；用时 {summary.seconds:.1f} 秒。",
              f"PDF 输出在：{terminal_safe(str(summary.outdir))}"]
    return "\n".join(lines)


__all__ = [
    "BatchSummary",
    "BuildFn",
    "BuiltCase",
    "CaseJob",
    "CaseRow",
    "build_one",
    "find_cases",
    "format_summary",
    "run_batch",
    "run_case",
    "summary_dict",
    "write_summary",
]
