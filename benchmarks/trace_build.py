"""Where a build's time goes: per-stage wall time and every process's CPU over time.

    python benchmarks/trace_build.py [--photos 60 --screens 20] [--jobs N] [--warm] [--bin 0.25]

Builds a generated case cold (empty display-copy cache; ``--warm``: once to fill it, then the
traced rebuild after a case.yaml edit) in a child process whose pipeline steps are wrapped to
log when they start and end (CLOCK_MONOTONIC, shared by every process on the machine). This
process meanwhile samples /proc/PID/stat (utime + stime) of the child and of every worker it
starts, every 20 ms. Printed: each stage's wall time, the CPU the main process and the
workers spent during it and their peak RSS (the main process alone, and all of them summed at
one instant), then a timeline in ``--bin``-second bins of the cores in use, main
and workers apart — a single-core tail shows as ``workers 0.00`` beside ``main ≈ 1.00``.
The sums are checked against the child's rusage (wait4).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from benchlib import CASE_YAML_EDITED, ensure_inputs, make_case, python_cmd, tree_pids

TICK = os.sysconf("SC_CLK_TCK")
SAMPLE_S = 0.02

# Runs in the child: wrap every build step, then hand over to the CLI as a user would call it.
RUNNER = r"""
import json, sys, time
log = open(sys.argv[1], "a", buffering=1)
log.write(json.dumps(["start", time.monotonic()]) + "\n")
import evidencekit.pipeline as p

def traced(step):
    def run(ctx):
        log.write(json.dumps([step.__name__, time.monotonic()]) + "\n")
        try:
            step(ctx)
        finally:
            log.write(json.dumps(["/" + step.__name__, time.monotonic()]) + "\n")
    run.__name__ = step.__name__
    return run

p.BUILD_STEPS = tuple(traced(s) for s in p.BUILD_STEPS)
from evidencekit.cli import main
sys.argv = ["evidencekit", *sys.argv[2:]]
# At exit, as the console script ends: its exit hooks run before the process ends (cli._Main).
import atexit
atexit.register(lambda: log.write(json.dumps(["end", time.monotonic()]) + "\n"))
main()
"""


PAGE_MB = os.sysconf("SC_PAGE_SIZE") / 1024**2


def cpu_ticks(pid: int) -> tuple[int, float] | None:
    """CPU ticks (utime + stime, fields 14 and 15 of stat) and resident MB (field 24)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return int(fields[11]) + int(fields[12]), int(fields[21]) * PAGE_MB


Samples = dict[int, list[tuple[float, int]]]


def trace(cmd: list[str], env: dict[str, str], cwd: Path) -> tuple[float, Samples, Samples, float]:
    """Run ``cmd``; (start time, {pid: [(t, cpu ticks)]}, {pid: [(t, RSS MB)]}, rusage CPU s)."""
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    samples: Samples = defaultdict(list)
    rss: Samples = defaultdict(list)
    while True:
        now = time.monotonic()
        for pid in tree_pids(proc.pid):
            got = cpu_ticks(pid)
            if got is not None:
                samples[pid].append((now, got[0]))
                rss[pid].append((now, got[1]))  # type: ignore[arg-type]
        done, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if done:
            break
        time.sleep(SAMPLE_S)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"build failed: {proc.stderr.read().decode() if proc.stderr else ''}")
    return t0, samples, rss, usage.ru_utime + usage.ru_stime


def cpu_between(series: list[tuple[float, int]], a: float, b: float) -> float:
    """CPU seconds a process spent between times a and b (linear between samples)."""
    def at(t: float) -> float:
        if not series or t <= series[0][0]:
            return series[0][1] if series else 0
        for (t1, c1), (t2, c2) in itertools.pairwise(series):
            if t1 <= t <= t2:
                return c1 + (c2 - c1) * (t - t1) / max(t2 - t1, 1e-9)
        return series[-1][1]
    return (at(b) - at(a)) / TICK


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--photos", type=int, default=60)
    ap.add_argument("--screens", type=int, default=20)
    ap.add_argument("--jobs", type=int, default=None)
    ap.add_argument("--warm", action="store_true", help="trace the rebuild after a case.yaml edit")
    ap.add_argument("--bin", type=float, default=0.25)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        case = make_case(ensure_inputs(args.photos, args.screens), work / "case")
        cache = work / "cache"
        shutil.rmtree(cache, ignore_errors=True)
        env = dict(os.environ, EVIDENCEKIT_CACHE_DIR=str(cache))
        jobs = ["--jobs", str(args.jobs)] if args.jobs is not None else []
        build = ["build", str(case), "-o", str(work / "d.pdf"), "--force", "-q", "--no-originals", *jobs]
        if args.warm:
            subprocess.run(python_cmd("-m", "evidencekit", *build), env=env, cwd=work, check=True,
                           capture_output=True)
            (case / "case.yaml").write_text(CASE_YAML_EDITED, encoding="utf-8")
        log = work / "stages.jsonl"
        t0, samples, rss, rusage_cpu = trace(python_cmd("-c", RUNNER, str(log), *build), env, work)
        events = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    main_pid = min(samples, key=lambda p: samples[p][0][0])
    workers = [p for p in samples if p != main_pid]
    end = max(s[-1][0] for s in samples.values())
    marks = {name: t for name, t in events}
    stages = [("interpreter", t0, marks["start"]), ("imports, CLI", marks["start"], marks["load"])]
    stages += [(name, t, marks["/" + name]) for name, t in events if not name.startswith("/")
               and name not in ("start", "end")]
    stages.append(("exit", marks["end"], end))
    def peak_rss(a: float, b: float) -> tuple[float, float]:
        """Peak RSS MB of the main process, and of all processes at one sampling instant."""
        by_time: dict[float, float] = defaultdict(float)
        main_peak = 0.0
        for pid, series in rss.items():
            for t, mb in series:
                if a <= t <= b:
                    by_time[t] += mb
                    main_peak = max(main_peak, mb) if pid == main_pid else main_peak
        return main_peak, max(by_time.values(), default=0.0)

    print(f"{'stage':<14} {'start s':>8} {'wall s':>7} {'main CPU':>9} {'workers CPU':>12} "
          f"{'main RSS MB':>12} {'tree RSS MB':>12}")
    for name, a, b in stages:
        w_cpu = sum(cpu_between(samples[p], a, b) for p in workers)
        m_rss, t_rss = peak_rss(a, b)
        print(f"{name:<14} {a - t0:8.2f} {b - a:7.2f} {cpu_between(samples[main_pid], a, b):9.2f} {w_cpu:12.2f} "
              f"{m_rss:12.0f} {t_rss:12.0f}")
    total_main = cpu_between(samples[main_pid], t0, end)
    total_workers = sum(cpu_between(samples[p], t0, end) for p in workers)
    print(f"{'total':<14} {'':8} {end - t0:7.2f} {total_main:9.2f} {total_workers:12.2f}"
          f"   (rusage: {rusage_cpu:.2f} CPU s; {len(workers)} workers)")
    print(f"\ncores in use per {args.bin:g} s (main | workers), and the stage running in the main process:")
    t = t0
    while t < end:
        m = cpu_between(samples[main_pid], t, t + args.bin) / args.bin
        w = sum(cpu_between(samples[p], t, t + args.bin) for p in workers) / args.bin
        stage = next((n for n, a, b in stages if a <= t + args.bin / 2 < b), "")
        print(f"{t - t0:6.2f}  main {m:4.2f} | workers {w:4.2f}  {'#' * round(10 * m):<10}|{'+' * round(10 * w):<20} {stage}")
        t += args.bin
    return 0


if __name__ == "__main__":
    sys.exit(main())
