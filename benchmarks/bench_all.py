"""Cold build, warm rebuild, img2pdf and the floor, side by side, in one run.

    python benchmarks/bench_all.py [--runs 5] [--photos 60 --screens 20] [--jobs N]
    python benchmarks/bench_all.py --rss 20,80,200,500 [--jobs N]

Runs from anywhere, with an installed or an editable evidencekit (every child runs with
``python -P`` from a temporary folder, so the checkout never shadows the installed package).
Without ``--jobs`` the build gets what a user gets: the CLI default (one worker per CPU).

Each run does, in this order: a cold build (empty display-copy cache, ``--no-originals``), a
warm rebuild (only case.yaml edited, cache kept), img2pdf onto A4 pages, and the floor
(bench_floor.py: hashing, reduced decode, resize, encode alone on every core). Printed per
run: wall and CPU seconds (user + sys of the process and its reaped workers, from wait4), the
load average before the run, peak RSS, and the ratios cold ÷ img2pdf, cold ÷ floor and warm ÷
cold, in wall time and in CPU time. On a shared machine read the CPU columns.

``--rss``: one cold and one warm build per size (3 photos : 1 screenshot), peak memory summed
over the main process and its workers at the same instant, sampled every 10 ms from /proc: VmRSS
(counts the pages a forked worker shares with the main process in every process) and PSS from
smaps_rollup (shared pages split between their sharers: what the machine holds) — not the sum of
ru_maxrss, which adds peaks reached at different times.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from benchlib import (
    BuildRun,
    Measured,
    ensure_inputs,
    load_average,
    measure_build,
    measure_floor,
    measure_img2pdf,
    settings_line,
    split_total,
)


@dataclass(frozen=True)
class Run:
    load: str  # one-minute load average before the run
    build: BuildRun
    img2pdf: Measured
    floor: Measured

    def ratios(self) -> tuple[float, float, float, float, float, float]:
        """cold ÷ img2pdf, cold ÷ floor, warm ÷ cold: in wall time, then in CPU time."""
        cold, warm, base, floor = self.build.cold, self.build.warm, self.img2pdf, self.floor
        return (cold.wall / base.wall, cold.wall / floor.wall, warm.wall / cold.wall,
                cold.cpu / base.cpu, cold.cpu / floor.cpu, warm.cpu / cold.cpu)


def run_once(photos: int, screens: int, jobs: int | None, work: Path) -> Run:
    load = load_average().split()[0]
    built = measure_build(photos, screens, jobs, work)
    inputs = ensure_inputs(photos, screens)
    base, _ = measure_img2pdf(inputs, work)
    return Run(load, built, base, measure_floor(inputs, jobs, work))


def side_by_side(args: argparse.Namespace) -> None:
    print("| run | load | cold s (CPU) | warm s (CPU) | img2pdf s (CPU) | floor s (CPU) | cold RSS (PSS) MB "
          "| warm RSS (PSS) MB | output MB | cold÷img2pdf | cold÷floor | warm÷cold | CPU: cold÷img2pdf "
          "| CPU: cold÷floor | CPU: warm÷cold |")
    print("|" + "---|" * 15)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in range(1, args.runs + 1):
            r = run_once(args.photos, args.screens, args.jobs, Path(tmp))
            q = r.ratios()
            rows.append(q)
            c, w, b, f = r.build.cold, r.build.warm, r.img2pdf, r.floor
            print(f"| {n} | {r.load} | {c.wall:.2f} ({c.cpu:.2f}) | {w.wall:.2f} ({w.cpu:.2f}) "
                  f"| {b.wall:.2f} ({b.cpu:.2f}) | {f.wall:.2f} ({f.cpu:.2f}) | {c.rss:.0f} ({c.pss:.0f}) | {w.rss:.0f} ({w.pss:.0f}) "
                  f"| {r.build.size_mb:.1f} | {q[0]:.2f}× | {q[1]:.2f}× | {q[2]:.0%} | {q[3]:.2f}× | {q[4]:.2f}× "
                  f"| {q[5]:.0%} |", flush=True)
    med = [statistics.median(col) for col in zip(*rows, strict=True)]
    print(f"\nmedian of {args.runs}: cold ÷ img2pdf {med[0]:.2f}× (CPU {med[3]:.2f}×), cold ÷ floor "
          f"{med[1]:.2f}× (CPU {med[4]:.2f}×), warm ÷ cold {med[2]:.0%} (CPU {med[5]:.0%}); load after: "
          f"{load_average()}")


def memory(args: argparse.Namespace) -> None:
    print("| images | load | cold s (CPU) | cold peak RSS (PSS) MB | warm s (CPU) | warm peak RSS (PSS) MB "
          "| output MB |")
    print("|---|---|---|---|---|---|---|")
    peaks = {}
    with tempfile.TemporaryDirectory() as tmp:
        for total in (int(x) for x in args.rss.split(",")):
            photos, screens = split_total(total)
            load = load_average().split()[0]
            r = measure_build(photos, screens, args.jobs, Path(tmp))
            c, w = r.cold, r.warm
            peaks[total] = (max(c.rss, w.rss), max(c.pss, w.pss))
            print(f"| {total} ({photos}+{screens}) | {load} | {c.wall:.2f} ({c.cpu:.2f}) | {c.rss:.0f} ({c.pss:.0f}) "
                  f"| {w.wall:.2f} ({w.cpu:.2f}) | {w.rss:.0f} ({w.pss:.0f}) | {r.size_mb:.1f} |", flush=True)
    sizes = sorted(peaks)
    if len(sizes) > 1:
        low = 80 if 80 in peaks else sizes[0]
        (r0, p0), (r1, p1) = peaks[low], peaks[sizes[-1]]
        print(f"\npeak {low} → {sizes[-1]} images: RSS {r0:.0f} → {r1:.0f} MB ({r1 / r0 - 1:+.0%}), "
              f"PSS {p0:.0f} → {p1:.0f} MB ({p1 / p0 - 1:+.0%})")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--photos", type=int, default=60)
    ap.add_argument("--screens", type=int, default=20)
    ap.add_argument("--jobs", type=int, default=None, help="default: what a user gets (one per CPU)")
    ap.add_argument("--rss", default="", help="comma-separated totals, e.g. 20,80,200,500")
    args = ap.parse_args()
    sizes = args.rss or f"{args.photos}+{args.screens}"
    print(settings_line(args.jobs, sizes) + (f" runs={args.runs}" if not args.rss else ""), flush=True)
    memory(args) if args.rss else side_by_side(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
