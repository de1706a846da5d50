"""Inspecting many files: inline while the display-copy cache answers, then a worker pool.

One bad file becomes a finding on its inspection, never the end of the build."""

from __future__ import annotations

import contextlib
import ctypes
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed

from evidencekit.media.base import MediaContext
from evidencekit.media.dispatch import inspect_source
from evidencekit.model import Case, Finding, Inspection, Severity, SourceFile, UnknownInspection

Progress = Callable[[int, int, str], None]  # (done, total, current file)

PARALLEL_MIN_FILES = 6  # fewer files left than this are not worth a worker pool
SLOW_IN_A_ROW = 2  # this many slow files in a row start the pool
# CPU seconds, not wall: on a loaded machine a cache hit can take longer than 20 ms of wall
# time, which started a pool of workers for a warm rebuild that needed none.
SLOW_INSPECTION_S = 0.02  # a cache hit takes about 1 ms of CPU; a real decode 30–100 ms


def available_cpus() -> int:
    """CPUs this process may use (respects affinity masks and container limits on Linux)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def inspect_one(src: SourceFile, case: Case, ctx: MediaContext, inspect_source: Callable[..., Inspection]
                 ) -> Inspection:
    override = case.override_for(src.rel_path)
    try:
        return inspect_source(src, override, ctx)
    except Exception as exc:  # one bad file is a finding, never the end of the build
        reason = f"处理此文件时出错（{type(exc).__name__}），未生成预览；原件已计算哈希并附上"
        return UnknownInspection(
            preview_error=reason,
            findings=(Finding(Severity.WARNING, "media.failed", reason, src.rel_path),),
        )


def inspect_files(case: Case, files: Sequence[SourceFile], ctx: MediaContext, jobs: int,
                   progress: Progress | None, meanwhile: Callable[[], None] | None = None) -> list[Inspection]:
    """Inspect in order, inline while files come from the display-copy cache; as soon as one
    needs real decoding, hand the rest to ``jobs`` worker processes. A warm rebuild thus never
    pays for starting a pool, and a cold build spreads the decoding over the cores.

    ``meanwhile`` runs on a thread of this process while the workers decode (it would
    otherwise sit waiting for them): started only once every worker has been forked, so no
    worker inherits a lock the thread holds, and finished before this returns."""

    total = len(files)
    results: list[Inspection | None] = [None] * total
    i = slow_in_a_row = 0
    while i < total:
        if progress:
            progress(i, total, files[i].rel_path)
        started = cpu_seconds()
        results[i] = inspect_one(files[i], case, ctx, inspect_source)
        i += 1
        # Two in a row: the first file of a kind also pays for importing its media module (and
        # Pillow's plugins), which made a warm rebuild start workers it did not need.
        slow_in_a_row = slow_in_a_row + 1 if cpu_seconds() - started > SLOW_INSPECTION_S else 0
        if slow_in_a_row >= SLOW_IN_A_ROW and jobs > 1 and total - i >= PARALLEL_MIN_FILES:
            break
    if i < total:
        release_free_memory()  # what the inline decodes freed: not copied into every worker
        pool = ProcessPoolExecutor(max_workers=min(jobs, total - i))
        helper = None
        try:
            # Largest first: a big file left for last would keep one worker busy while the others idle.
            order = sorted(range(i, total), key=lambda k: -files[k].size)
            futures = {pool.submit(inspect_one, files[k], case, ctx, inspect_source): k for k in order}
            if meanwhile is not None and workers_started(pool):
                helper = threading.Thread(target=_quietly, args=(meanwhile,), name="evidencekit-meanwhile")
                helper.start()
            for done, fut in enumerate(as_completed(futures), start=i + 1):
                k = futures[fut]
                results[k] = fut.result()
                if progress:
                    progress(done, total, files[k].rel_path)
        except BaseException:
            stop_workers(pool)
            raise
        finally:
            if helper is not None:
                helper.join()
        pool.shutdown()
    if progress:
        progress(total, total, "")
    return [r for r in results if r is not None]


def cpu_seconds() -> float:
    """CPU time of this process and of the children it has reaped (PDF and recording decoding
    runs in budgeted child processes, media/budget.py)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def release_free_memory() -> None:
    """Give the heap the process no longer uses back to the system (glibc's ``malloc_trim``).

    A decoded photo's buffers, once freed, stay in the heap as resident pages; a worker forked
    then starts with a copy of all of them. Elsewhere than glibc this does nothing."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).malloc_trim(0)


def workers_started(pool: ProcessPoolExecutor) -> bool:
    """Whether every worker of ``pool`` is already forked (fork start: all at the first submit).

    A thread started after that cannot leave a held lock (the import lock above all) in a worker."""
    processes = getattr(pool, "_processes", None) or {}
    return len(processes) == getattr(pool, "_max_workers", -1)


def _quietly(work: Callable[[], None]) -> None:
    # Only a head start: whatever fails here is met again, and reported, where it belongs.
    with contextlib.suppress(Exception):
        work()


def stop_workers(pool: ProcessPoolExecutor) -> None:
    """End a pool at once (an error, Ctrl-C, SIGTERM): queued work is cancelled and the worker
    processes are terminated, never left running as orphans. Leaving the ``with`` block instead
    would first wait for every queued file to be decoded."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in processes:
        if proc.is_alive():
            proc.terminate()
    for proc in processes:
        proc.join(timeout=5)
        if proc.is_alive():
            proc.kill()
            proc.join(timeout=5)
