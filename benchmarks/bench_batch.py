"""Batch wall time with one worker process against two (or more).

    python benchmarks/bench_batch.py [--cases 30] [--jobs 1,2] [--repeat 1]

Inputs are generated (seeded) once into benchmarks/.data/batch/ and reused, with bench_build.py's
generators: each case folder holds five 1600×1200 JPEG photos with EXIF time and noise (so they
compress like phone photos) and one 1080×2400 PNG chat screenshot. Every case's images differ, so no display copy is shared between
cases. Each run is a fresh ``python -m evidencekit batch`` process with an empty cache folder
(EVIDENCEKIT_CACHE_DIR) and a fresh output folder. Results print as a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from benchlib import gen_photo, gen_screen  # noqa: E402  (the same generated inputs)

DATA = HERE / ".data" / "batch"
PHOTOS_PER_CASE = 5

CASE_YAML = """\
schema: 1
platform: douyin
order: {{number: "69{n:017d}", product: 真皮女士手提包, amount: 399.00}}
problem: {{type: not_as_shown, summary: 收到的包是人造革，与直播间宣称的头层牛皮不符}}
claims: [return_refund]
"""


def ensure_cases(count: int) -> Path:
    """``count`` case folders under .data/batch/cases, generated once (a marker file says complete)."""
    root = DATA / f"cases-{count}"
    if (root / ".complete").exists():
        return root
    shutil.rmtree(root, ignore_errors=True)
    for n in range(count):
        case = root / f"case-{n:02d}"
        for i in range(PHOTOS_PER_CASE):
            seed = n * 100 + i
            when = datetime(2024, 11, 13, 15, 0) + timedelta(seconds=41 * seed)
            sub = "order" if i == 0 else "product"
            path = case / "evidence" / sub / f"IMG_{when:%Y%m%d_%H%M%S}.jpg"
            path.parent.mkdir(parents=True, exist_ok=True)
            gen_photo(path, seed, size=(1600, 1200))
        chat = case / "evidence" / "chat" / f"Screenshot_20241114-{190000 + n:06d}.png"
        chat.parent.mkdir(parents=True, exist_ok=True)
        gen_screen(chat, 5000 + n)
        (case / "case.yaml").write_text(CASE_YAML.format(n=n), encoding="utf-8")
    (root / ".complete").write_text("ok\n", encoding="utf-8")
    return root


def batch_command() -> list[str]:
    from evidencekit.cli import main

    if "batch" in main.commands:
        return [sys.executable, "-m", "evidencekit", "batch"]
    # Until the command is registered in cli.py, run it directly (same code, same process shape).
    return [sys.executable, "-c", "from evidencekit.cli.batch import batch; batch(prog_name='evidencekit batch')"]


def run_once(cases: Path, jobs: int, work: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the batch and its workers) for one fresh batch process."""
    cache = work / f"cache-{jobs}"
    out = work / f"out-{jobs}"
    shutil.rmtree(cache, ignore_errors=True)
    shutil.rmtree(out, ignore_errors=True)
    env = dict(os.environ, EVIDENCEKIT_CACHE_DIR=str(cache))
    cmd = [*batch_command(), str(cases), "-o", str(out), "--jobs", str(jobs), "--quiet", "--force"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stdout}\n{proc.stderr}")
    built = len(list(out.glob("*.pdf")))
    if built != len([p for p in cases.iterdir() if p.is_dir()]):
        raise SystemExit(f"only {built} dossiers built\n{proc.stdout}")
    return wall, cpu


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=30)
    ap.add_argument("--jobs", default="1,2", help="comma-separated worker counts; the first is the baseline")
    ap.add_argument("--repeat", type=int, default=1, help="runs per worker count; the median is reported")
    args = ap.parse_args()
    job_counts = [int(j) for j in args.jobs.split(",")]
    t0 = time.perf_counter()
    cases = ensure_cases(args.cases)
    print(f"inputs ready in {time.perf_counter() - t0:.1f} s: {cases}", file=sys.stderr)
    walls: dict[int, list[float]] = {j: [] for j in job_counts}
    cpus: dict[int, list[float]] = {j: [] for j in job_counts}
    with tempfile.TemporaryDirectory() as tmp:
        # Interleaved (1, 2, 1, 2, ...) so drifting load from other programs hits every count alike.
        for _ in range(args.repeat):
            for jobs in job_counts:
                wall, cpu = run_once(cases, jobs, Path(tmp))
                walls[jobs].append(wall)
                cpus[jobs].append(cpu)
                print(f"--jobs {jobs}: {wall:.2f} s wall, {cpu:.2f} s CPU, load {os.getloadavg()[0]:.2f}",
                      file=sys.stderr)
    times = {j: statistics.median(walls[j]) for j in job_counts}
    cpu_med = {j: statistics.median(cpus[j]) for j in job_counts}
    base = times[job_counts[0]]
    print("| cases | images | CPUs | " + " | ".join(f"--jobs {j} s (CPU s)" for j in job_counts)
          + " | " + " | ".join(f"speed-up {j}" for j in job_counts[1:]) + " |")
    print("|---" * (3 + len(job_counts) + len(job_counts) - 1) + "|")
    print(f"| {args.cases} | {args.cases * (PHOTOS_PER_CASE + 1)} | {os.cpu_count()} | "
          + " | ".join(f"{times[j]:.2f} ({cpu_med[j]:.1f})" for j in job_counts) + " | "
          + " | ".join(f"{base / times[j]:.2f}×" for j in job_counts[1:]) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
