"""Render and process-exit costs of a build (issue 15): the same results, less work."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

# A command run the way the console script runs it (evidencekit.cli:run). The object ``d`` says
# whether the interpreter tore the module down (its __del__ runs then); the atexit hook stands
# for the cleanups (temporary folders) that must run either way.
SCRIPT = textwrap.dedent("""
    import atexit, sys, threading
    class Teardown:
        def __del__(self):
            sys.stdout.write("teardown\\n"); sys.stdout.flush()
    d = Teardown()
    atexit.register(lambda: print("atexit", flush=True))
    if sys.argv[1] == "thread":
        stop = threading.Event()
        threading.Thread(target=stop.wait, args=(2,)).start()
    from evidencekit.cli import run
    sys.argv = ["evidencekit", *sys.argv[2:]]
    run()
""")


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", SCRIPT, *args], capture_output=True, text=True, timeout=60)


def test_success_ends_the_process_without_teardown_but_after_the_cleanups() -> None:
    done = run_cli("-", "--version")
    assert done.returncode == 0, done.stderr
    assert "evidencekit" in done.stdout  # printed and flushed before the end
    assert "atexit" in done.stdout
    assert "teardown" not in done.stdout


@pytest.mark.parametrize("args", [("-", "no-such-command"), ("thread", "--version")])
def test_failure_or_a_running_thread_exits_the_ordinary_way(args: tuple[str, ...]) -> None:
    done = run_cli(*args)
    assert ("teardown" in done.stdout) and ("atexit" in done.stdout), done.stdout + done.stderr


def test_module_entry_uses_the_fast_end() -> None:
    main = (__import__("evidencekit.__main__", fromlist=["run"]))
    from evidencekit.cli import run

    assert main.run is run
