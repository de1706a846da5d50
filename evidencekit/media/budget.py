"""A killable decode budget: run one decoding job in a child process with a time and memory cap.

A small hostile file can make a decoder work for minutes (a PDF page whose content stream
inflates to hundreds of MB of drawing operators) or allocate gigabytes. Such work runs here,
in a child process that is killed when its time is up and that runs under an address-space
limit (``RLIMIT_AS`` on Linux and macOS). The build pool's workers (media.pool.inspect_files)
are ordinary, non-daemon processes, so they may start these children too.

On POSIX the child is forked: it costs a few milliseconds and needs no re-import, and it
inherits the parent's state (cache, context). Elsewhere it is spawned. When no child process
can be started at all, the job runs inline without limits rather than not at all.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
import pickle
import signal
import sys
import time
from collections.abc import Callable
from typing import Any, TypeVar

from evidencekit.errors import BudgetExceeded, WorkerFailed

T = TypeVar("T")

# Per-file defaults (MediaContext.decode_seconds / decode_memory). Frames from a 10-minute 720p
# recording take 0.4 s (benchmarks/README.md), a 30-page report renders in 0.5 s and a 4K clip's
# frames in 0.9 s on a 2-core machine: 30 s is a wide margin, and keeps a build with a hostile
# file well under a minute.
DEFAULT_DECODE_SECONDS = 30.0
# Address space a decoder may add to what the process already had (RLIMIT_AS, so thread stacks
# and allocator reservations count, not only pages in use). Measured on a 2-core machine:
# - PDF rasterising: a 30-page report and a 600-dpi A4 scan render within 256 MiB, which also
#   stops a content-stream bomb early: the bomb-and-chats benchmark (benchmarks/bench_hostile.py
#   --pdf-bomb) peaks at about 375 MB for the whole process tree, against 645 MB at 384 MiB.
# - PyAV: a 4K H.264 clip decodes within 256 MiB, but a 4K 10-bit HEVC clip (iPhone HDR) needs
#   between 512 and 768 MiB (FFmpeg's frame threads each hold reference frames), so recordings
#   get 1 GiB; their frame size is capped by max_pixels before any decoding anyway.
DEFAULT_DECODE_MEMORY = 256 * 1024**2
DEFAULT_VIDEO_DECODE_MEMORY = 1024**3

# Backstop for a child whose parent died without killing it (RLIMIT_CPU): decoding threads use
# at most the two cores, so twice the wall budget plus a margin is never hit by honest work.
_CPU_FACTOR = 2
_CPU_MARGIN_S = 10


def time_reason(seconds: float) -> str:
    return f"超出处理时限（{seconds:g} 秒），已停止解码，未生成预览；原件已计算哈希并随证据材料附上"


def memory_reason(limit: int) -> str:
    return (f"超出内存上限（{limit / 1024**2:.0f} MB），已停止解码，未生成预览；"
            "原件已计算哈希并随证据材料附上")


def crash_reason(limit: int) -> str:
    return (f"解码进程异常终止（可能超出内存上限 {limit / 1024**2:.0f} MB，或文件已损坏），未生成预览；"
            "原件已计算哈希并随证据材料附上")


def run_budgeted(job: Callable[..., T], *args: Any, seconds: float, memory: int) -> T:
    """``job(*args)`` in a child process killed after ``seconds`` and limited to ``memory`` bytes
    more address space than it started with. Exceptions the job raises are raised here;
    running out of either budget raises BudgetExceeded."""
    for stream in (sys.stdout, sys.stderr):  # else the child would write its copy of the buffers too
        with contextlib.suppress(Exception):
            stream.flush()
    try:
        ctx = _context()
        receiver, sender = ctx.Pipe(duplex=False)
    except OSError:  # no pipes left: decode inline, unlimited, rather than not at all
        return job(*args)
    try:
        child = ctx.Process(target=_child, args=(sender, job, args, memory, seconds), daemon=True)
        child.start()
    except (OSError, ValueError, AssertionError):  # no processes here (or a daemonic parent)
        receiver.close()
        sender.close()
        return job(*args)
    sender.close()
    try:
        message: tuple[str, Any] | None = None
        if receiver.poll(seconds):
            with contextlib.suppress(EOFError, OSError):
                message = receiver.recv()
        else:
            raise BudgetExceeded("time", time_reason(seconds))
    finally:
        receiver.close()
        if message is None or child.is_alive():
            child.join(0.5 if message is not None else 0)
            if child.is_alive():
                child.kill()
        child.join()
    if message is None:
        # Died without a word: killed by the CPU backstop, or by a signal, most often the
        # allocator failing under the address-space limit (C++ code aborts rather than raising).
        code = child.exitcode or 0
        if code == -getattr(signal, "SIGXCPU", -1):
            raise BudgetExceeded("time", time_reason(seconds))
        if code < 0:
            raise BudgetExceeded("memory", crash_reason(memory))
        raise WorkerFailed(f"解码进程意外退出（退出码 {code}）")
    status, value = message
    if status == "ok":
        return value
    if status == "memory":
        raise BudgetExceeded("memory", memory_reason(memory))
    raise value


_PRELOAD = ["evidencekit.media.recordings", "evidencekit.media.audio", "evidencekit.media.documents",
            "av", "pypdfium2"]


def _context() -> Any:
    """fork when this process has a single thread (a few ms, nothing to re-import); else a
    fork server, since forking a process whose other threads may hold locks (malloc, FFmpeg)
    can leave the child deadlocked until its time is up."""
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and _single_threaded():
        return multiprocessing.get_context("fork")
    if "forkserver" in methods:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(_PRELOAD)
        return ctx
    return multiprocessing.get_context("spawn")


_THREAD_EXIT_WAIT_S = 0.05


def _single_threaded() -> bool:
    if not sys.platform.startswith("linux"):
        return False  # cannot count native threads cheaply; macOS does not fork safely anyway
    try:
        if len(os.listdir("/proc/self/task")) == 1:
            return True
        # Often the other threads belong to decoders nobody closed yet: collect, look again.
        gc.collect()
        # A thread just joined (inventory's hashing threads) can stay listed while the kernel
        # finishes it: give it a moment (at most _THREAD_EXIT_WAIT_S) before giving up the fork.
        deadline = time.monotonic() + _THREAD_EXIT_WAIT_S
        while len(os.listdir("/proc/self/task")) != 1:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.002)
        return True
    except OSError:
        return False


def _child(sender: Any, job: Callable[..., Any], args: tuple[Any, ...], memory: int, seconds: float) -> None:
    _die_with_parent()
    _limit("RLIMIT_CPU", int(seconds * _CPU_FACTOR + _CPU_MARGIN_S))
    _limit("RLIMIT_AS", _address_space() + memory)
    try:
        message: tuple[str, Any] = ("ok", job(*args))
    except MemoryError:
        message = ("memory", None)
    except BaseException as exc:  # handed to the parent, which decides what it means
        message = ("error", exc if _round_trips(exc) else RuntimeError(f"{type(exc).__name__}: {exc}"))
    try:
        sender.send(message)
    except MemoryError:
        sender.send(("memory", None))
    except Exception as exc:  # an exception that does not pickle
        sender.send(("error", RuntimeError(f"{type(exc).__name__}: {exc}")))
    sender.close()


def _round_trips(exc: BaseException) -> bool:
    """Whether the parent can unpickle ``exc`` (some C-extension errors cannot be rebuilt)."""
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return False
    return True


def _limit(name: str, value: int) -> None:
    try:
        import resource
    except ImportError:  # Windows: no rlimits; the time budget still holds
        return
    which = getattr(resource, name, None)
    if which is None:
        return
    with contextlib.suppress(ValueError, OSError):
        _soft, hard = resource.getrlimit(which)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(which, (value, hard))


def _address_space() -> int:
    """The process's current virtual size (Linux); 0 where unknown, making the limit absolute."""
    try:
        with open("/proc/self/statm", "rb") as fh:
            pages = int(fh.read().split()[0])
        return pages * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _die_with_parent() -> None:
    """Linux: the kernel kills this child when its parent dies, so none is left behind."""
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
    if os.getppid() == 1:  # the parent was already gone before the call took effect
        os._exit(1)
