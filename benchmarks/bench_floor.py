"""The floor: the build's unavoidable work on the same inputs, alone, on every core.

    python benchmarks/bench_floor.py --photos 60 --screens 20 [--jobs N]
    python benchmarks/bench_floor.py --files LIST.txt [--jobs N]      (one path a line)

Per file, in a pool of N processes (default: every CPU): SHA-256 of the bytes, the reduced
decode (libjpeg draft for JPEG; full decode plus the integer box reduction for PNG), the resize
to the planned display size where one is still needed, and the JPEG encode at the build's
quality — the sizes from evidencekit's own plan_layout, so the floor does exactly the pixel
work of a display copy and nothing else (no metadata, no cache, no typesetting, no PDF).
Prints the wall and CPU seconds of that work (interpreter start and imports excluded: the
floor is the pixel work itself); bench_all.py runs it beside the build as "× floor".
"""

from __future__ import annotations

import argparse
import hashlib
import io
import math
import os
import sys
import time
from multiprocessing import get_context
from pathlib import Path

from benchlib import available_cpus, ensure_inputs
from PIL import Image

# Imported before the pool forks, so the workers time pixel work only.
from evidencekit.media.base import EXHIBIT_BOX_HEIGHT_PT, EXHIBIT_BOX_WIDTH_PT, MediaContext
from evidencekit.media.images import DRAFT_SLACK, REDUCIBLE_MODES, integer_reduction, plan_layout


def display_copy(path: str) -> int:
    dpi, quality = MediaContext.dpi, MediaContext.jpeg_quality
    box = (round(EXHIBIT_BOX_WIDTH_PT / 72 * dpi), round(EXHIBIT_BOX_HEIGHT_PT / 72 * dpi))
    data = Path(path).read_bytes()
    hashlib.sha256(data).hexdigest()
    im = Image.open(io.BytesIO(data))
    layout = plan_layout(*im.size, box)
    single = len(layout.segments) == 1
    target = tuple(math.ceil(s * DRAFT_SLACK) for s in layout.size) if single else layout.size
    im.draft("RGB", target)  # type: ignore[arg-type]
    im.load()
    work = im.convert("RGB") if im.mode not in REDUCIBLE_MODES else im
    if single and im.format != "JPEG":
        factor = integer_reduction(work.size, target)  # type: ignore[arg-type]
        work = work.reduce(factor) if factor > 1 else work
    if work.width > layout.size[0]:
        work = work.resize(layout.size, Image.Resampling.LANCZOS, reducing_gap=3.0)
    encoded = 0
    for top, bottom in layout.segments if not single else ((0, work.height),):
        buf = io.BytesIO()
        work.crop((0, top, work.width, min(bottom, work.height))).save(buf, "JPEG", quality=quality)
        encoded += buf.tell()
    return encoded


def run(paths: list[str], jobs: int) -> tuple[float, float]:
    """Wall and CPU seconds (this process and its workers) of the floor work on ``paths``."""
    t0, c0 = time.perf_counter(), os.times()
    pool = get_context("fork").Pool(jobs)
    pool.map(display_copy, paths, chunksize=1)
    pool.close()
    pool.join()  # reaped, so the workers' CPU is in children_user/children_system
    c1 = os.times()
    cpu = (c1.user - c0.user) + (c1.system - c0.system) + (c1.children_user - c0.children_user) \
        + (c1.children_system - c0.children_system)
    return time.perf_counter() - t0, cpu


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--photos", type=int, default=60)
    ap.add_argument("--screens", type=int, default=20)
    ap.add_argument("--files", type=Path, help="a file listing the inputs, one path a line")
    ap.add_argument("--jobs", type=int, default=available_cpus())
    ap.add_argument("--result", type=Path, help="also write 'wall cpu' (seconds) to this file")
    args = ap.parse_args()
    if args.files:
        paths = [p for p in args.files.read_text(encoding="utf-8").splitlines() if p]
    else:
        paths = [str(p) for p in ensure_inputs(args.photos, args.screens)]
    wall, cpu = run(paths, args.jobs)
    if args.result:
        args.result.write_text(f"{wall} {cpu}", encoding="utf-8")
    print(f"floor: {len(paths)} files, jobs={args.jobs}: wall {wall:.2f} s, CPU {cpu:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
