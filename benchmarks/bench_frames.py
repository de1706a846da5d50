"""Frame extraction from a 10-minute 1280×720 H.264 screen recording, cold display cache.

    python benchmarks/bench_frames.py [--runs 3]

The recording (30 fps, keyframe every 30 frames, B-frames, burned-in frame numbers) is made
once with PyAV and kept in benchmarks/.data/ (git-ignored): generating it takes 2–6 minutes
on a 2-core machine.
Each run inspects it with a fresh cache: 6 declared moments alone, then the same moments plus
the default 12-tile contact sheet, and checks every frame shows the frame number it should.
"""

from __future__ import annotations

import argparse
import hashlib
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))  # tests/mediagen.py makes the recording

from mediagen import make_video, read_frame_index  # noqa: E402
from PIL import Image  # noqa: E402

from evidencekit.cache import DisplayCache  # noqa: E402
from evidencekit.media.base import MediaContext  # noqa: E402
from evidencekit.media.recordings import inspect_recording  # noqa: E402
from evidencekit.model import EvidenceKind, EvidenceOverride, SourceFile  # noqa: E402

DATA = HERE / ".data"
SECONDS, FPS, GOP, SIZE = 600, 30, 30, (1280, 720)
MOMENTS = (
    "00:00:07 主播展示“头层牛皮”",
    "00:01:12.5 主播承诺假一赔十",
    "00:03:31 主播说支持专柜验货",
    "00:05:05 小黄车商品标题",
    "00:07:48 主播报价 399 元",
    "00:09:59 直播结束前再次承诺",
)


def recording() -> Path:
    path = DATA / f"Screenrecorder-2024-11-11-20-30-00-123_{SECONDS}s_{SIZE[0]}x{SIZE[1]}_gop{GOP}.mp4"
    if not path.is_file():
        DATA.mkdir(parents=True, exist_ok=True)
        print(f"generating {path.name} (once) ...", flush=True)
        started = time.perf_counter()
        tmp = path.with_suffix(".part.mp4")
        make_video(tmp, SECONDS, size=SIZE, fps=FPS, gop=GOP)
        tmp.replace(path)
        print(f"  {time.perf_counter() - started:.1f} s, {path.stat().st_size / 1e6:.1f} MB", flush=True)
    return path


def source_for(path: Path) -> SourceFile:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return SourceFile(
        rel_path=f"evidence/livestream/{path.name}",
        path=path,
        size=path.stat().st_size,
        sha256=digest.hexdigest(),
        mtime=datetime.fromtimestamp(path.stat().st_mtime, UTC),
        kind=EvidenceKind.LIVESTREAM,
        kind_from_folder=True,
    )


def run_once(source: SourceFile, sheet: int) -> tuple[float, int]:
    override = EvidenceOverride(file=source.rel_path, moments=MOMENTS)
    with tempfile.TemporaryDirectory() as cache_dir:
        ctx = MediaContext(cache=DisplayCache(Path(cache_dir)), contact_sheet_frames=sheet)
        started = time.perf_counter()
        insp = inspect_recording(source, override, ctx)
        elapsed = time.perf_counter() - started
        assert insp.preview_error == "" and not insp.findings, (insp.preview_error, insp.findings)
        for frame in insp.frames:  # every frame is the one on screen at its offset
            with Image.open(frame.image.path) as img:
                assert read_frame_index(img) == round(frame.offset * FPS), frame
    return elapsed, len(insp.frames)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    source = source_for(recording())
    print(f"{platform.platform()}, Python {platform.python_version()}")
    print(f"input: {SECONDS} s, {SIZE[0]}x{SIZE[1]}, {FPS} fps, GOP {GOP}, {source.size / 1e6:.1f} MB")
    for label, sheet in (("6 moments", 0), ("6 moments + 12-tile contact sheet", 12)):
        times = []
        frames = 0
        for _ in range(args.runs):
            elapsed, frames = run_once(source, sheet)
            times.append(elapsed)
        median = statistics.median(times)
        print(f"{label:36s} frames={frames:2d}  min {min(times):.3f} s  median {median:.3f} s  (cold cache)")


if __name__ == "__main__":
    main()
