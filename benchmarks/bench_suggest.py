"""Suggested moments (`inspect --suggest-moments`, evidencekit[ocr]) in a 10-minute 1280×720 live-room recording.

    python benchmarks/bench_suggest.py [--runs 2] [--still]

The recording (30 fps, keyframe every 30 frames, B-frames) shows Chinese captions burned in with
the bundled font, a new one every 30 s, half of them claims (假一赔十, ¥399, 七天无理由 ...); a
block (the host) moves every second, so every sample is a new scene and the reader works its
full MAX_READ_FRAMES — the worst case. ``--still`` drops the block: scenes are the captions.
It is made once with PyAV and kept in benchmarks/.data/ (git-ignored).

Each run reads it with a fresh cache (wall time, CPU seconds and peak RSS of the child process
that decodes and reads), checks that every claim caption is proposed while it is on screen, then runs again on the warm cache.
"""

from __future__ import annotations

import argparse
import hashlib
import platform
import resource
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))  # tests/mediagen.py makes the recording

from mediagen import make_captioned_video  # noqa: E402

from evidencekit.cache import DisplayCache  # noqa: E402
from evidencekit.media import ocr, suggest  # noqa: E402
from evidencekit.media.base import MediaContext  # noqa: E402
from evidencekit.model import EvidenceKind, SourceFile  # noqa: E402

DATA = HERE / ".data"
SECONDS, FPS, GOP, SIZE = 600, 30, 30, (1280, 720)
CLAIMS = ["官方正品 假一赔十", "直播间专享价 ¥399", "支持七天无理由退货", "100%纯棉 不起球", "全网最低价 今天只有这一波"]
OTHER = ["关注主播 点亮粉丝灯牌", "新来的宝宝点个赞", "左下角小黄车一号链接", "主播身高165穿M码", "库存不多了 抓紧下单"]


def captions() -> list[tuple[float, float, str]]:
    out = []
    for i in range(SECONDS // 30):
        words = (CLAIMS if i % 2 else OTHER)[(i // 2) % 5]
        out.append((i * 30.0, i * 30.0 + 30.0, words))
    return out


def recording(busy: bool) -> Path:
    name = f"live_{SECONDS}s_{SIZE[0]}x{SIZE[1]}_gop{GOP}{'_busy' if busy else '_still'}.mp4"
    path = DATA / name
    if not path.is_file():
        DATA.mkdir(parents=True, exist_ok=True)
        print(f"generating {path.name} (once) ...", flush=True)
        started = time.perf_counter()
        tmp = path.with_suffix(".part.mp4")
        make_captioned_video(tmp, SECONDS, captions(), size=SIZE, fps=FPS, gop=GOP, busy=busy)
        tmp.replace(path)
        print(f"  {time.perf_counter() - started:.1f} s, {path.stat().st_size / 1e6:.1f} MB", flush=True)
    return path


def source_for(path: Path) -> SourceFile:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return SourceFile(rel_path=f"evidence/livestream/{path.name}", path=path, size=path.stat().st_size,
                      sha256=digest.hexdigest(), mtime=datetime.fromtimestamp(path.stat().st_mtime, UTC),
                      kind=EvidenceKind.LIVESTREAM, kind_from_folder=True)


def check(found: suggest.Suggestions) -> tuple[int, float]:
    """How many of the distinct claim captions were proposed while on screen (a caption shown
    again later is proposed once, where first read), and the longest delay after it appeared."""
    hits, delay = 0, 0.0
    for words in CLAIMS:
        shown = [(start, end) for start, end, text in captions() if text == words]
        offsets = [m.offset - start for m in found.moments for start, end in shown
                   if start <= m.offset < end and words.split()[0] in m.text]
        if offsets:
            hits += 1
            delay = max(delay, min(offsets))
    return hits, delay


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--still", action="store_true", help="no moving block: scenes are the captions")
    args = parser.parse_args()
    if ocr.engine_version() is None:
        sys.exit('needs the OCR extra: pip install -e ".[ocr]"')
    source = source_for(recording(busy=not args.still))
    claims = len(CLAIMS)
    print(f"{platform.platform()}, Python {platform.python_version()}, {ocr.ENGINE} {ocr.engine_version()}")
    print(f"input: {SECONDS} s, {SIZE[0]}x{SIZE[1]}, {FPS} fps, GOP {GOP}, {source.size / 1e6:.1f} MB, "
          f"{'still' if args.still else 'busy'}, {claims} claim captions, each shown twice for 30 s")
    walls = []
    for run in range(args.runs):
        with tempfile.TemporaryDirectory() as cache_dir:
            ctx = MediaContext(cache=DisplayCache(Path(cache_dir)))
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            started = time.perf_counter()
            found = suggest.suggest(source, ctx)
            wall = time.perf_counter() - started
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
            scan = found.scan
            started = time.perf_counter()
            again = suggest.suggest(source, ctx)
            warm = time.perf_counter() - started
            assert again.moments == found.moments
            walls.append(wall)
            hits, delay = check(found)
            print(f"run {run + 1}: cold {wall:.1f} s wall, {cpu:.1f} s CPU, child peak RSS "
                  f"{after.ru_maxrss / 1024:.0f} MB; sampled {scan.sampled}, scenes {scan.scenes}, "
                  f"decoded {scan.decoded} frames, read {len(scan.frames)}, proposed {len(found.moments)}, "
                  f"claims found {hits}/{claims} (latest {delay:.1f} s after it appeared); warm {warm * 1000:.0f} ms; notes {list(scan.notes)}",
                  flush=True)
    print(f"median cold {statistics.median(walls):.1f} s")


if __name__ == "__main__":
    main()
