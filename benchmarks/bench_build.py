"""Build time, peak memory and output size against img2pdf (the baseline), one run per size.

    python benchmarks/bench_build.py [--photos 60 --screens 20] [--scale 20,80,200] [--jobs N]

Runs from anywhere, with an installed or editable package (children run with ``python -P``
from a temporary folder). Without ``--jobs`` the build gets the CLI default (one worker per
CPU), as a user does; the settings used are printed first. Inputs are generated (seeded) into
benchmarks/.data/ and reused (benchlib.py). Peak memory is the summed RSS of the process and its
workers, sampled every 10 ms. For five runs side by side with the floor, use bench_all.py.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from benchlib import ensure_inputs, measure_build, measure_img2pdf, settings_line, split_total


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--photos", type=int, default=60)
    ap.add_argument("--screens", type=int, default=20)
    ap.add_argument("--scale", default="", help="comma-separated totals, e.g. 20,80,200 (3:1 photos:screens)")
    ap.add_argument("--jobs", type=int, default=None, help="default: what a user gets (one per CPU)")
    args = ap.parse_args()
    sizes = [(args.photos, args.screens)]
    if args.scale:
        sizes = [split_total(int(x)) for x in args.scale.split(",")]
    print(settings_line(args.jobs, args.scale or f"{args.photos}+{args.screens}"))
    print("| images | build cold s (CPU) | cold peak RSS MB | warm s (CPU) | warm RSS MB | output MB "
          "| img2pdf s | img2pdf RSS MB | img2pdf MB |")
    print("|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for photos, screens in sizes:
            r = measure_build(photos, screens, args.jobs, Path(tmp))
            base, base_mb = measure_img2pdf(ensure_inputs(photos, screens), Path(tmp))
            c, w = r.cold, r.warm
            print(f"| {photos + screens} ({photos}+{screens}) | {c.wall:.2f} ({c.cpu:.2f}) | {c.rss:.0f} "
                  f"| {w.wall:.2f} ({w.cpu:.2f}) | {w.rss:.0f} | {r.size_mb:.1f} | {base.wall:.2f} "
                  f"| {base.rss:.0f} | {base_mb:.1f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
