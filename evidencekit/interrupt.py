"""SIGTERM handled like Ctrl-C.

A service manager, ``timeout`` or ``kill`` ends a process with SIGTERM, whose default action
skips every ``finally``: the work folder in TMPDIR holding the rendered dossier would stay,
and worker processes would be orphaned. While a command runs, SIGTERM therefore raises
:class:`Terminated` (a KeyboardInterrupt) in the main thread, so the same clean-up runs as for
Ctrl-C; the command then exits with 143 (128 + SIGTERM), Ctrl-C with 130.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator

from evidencekit.errors import Terminated

# Set while a SIGTERM raised Terminated in this process inside sigterm_as_interrupt: library code
# with a bare ``except:`` (reportlab's font parser) may have turned it into its own error.
_terminated = threading.Event()


def reraise_if_terminated() -> None:
    """Raise Terminated again if SIGTERM already fired: call it where third-party code that
    swallows every exception (``except:``) reports its own error instead."""
    if _terminated.is_set():
        raise Terminated()


def interrupted_exit_code(exc: KeyboardInterrupt) -> int:
    return 128 + int(signal.SIGTERM) if isinstance(exc, Terminated) else 130


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """While the block runs, SIGTERM raises :class:`Terminated` (once; a second SIGTERM during
    the clean-up is ignored so the clean-up can finish). Forked worker processes that inherit
    the handler die as SIGTERM asks. Outside the main thread (where no handler can be set)
    this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    owner = os.getpid()
    fired = False

    def on_term(signum: int, frame: object) -> None:
        nonlocal fired
        if os.getpid() != owner:
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        if not fired:
            fired = True
            _terminated.set()
            raise Terminated()

    _terminated.clear()
    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
        _terminated.clear()
