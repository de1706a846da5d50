"""OCR of generated 1080×2400 order screenshots (media/ocr.py), cold and warm cache.

    python benchmarks/bench_ocr.py [--rounds 2] [--address-space]

Needs the extra: ``pip install -e ".[ocr]"``. The screenshots are tests/ocr_screens.py's three
layouts (PNG, as the phone saves them). Each image is read by ``ocr_image`` with an empty cache:
wall time, CPU time of the OCR child process (importing the engine, loading its models,
decoding, recognising) and its peak RSS; then the warm rerun (cache hit, no OCR). Also checks
that order number, amount and order time were read correctly.

``--address-space`` finds the smallest RLIMIT_AS allowance (media.ocr.OCR_MEMORY) under which
a 1080×2400 screenshot and a 4000×3000 photo of a screen are still read.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))  # tests/ocr_screens.py draws the screenshots

import ocr_screens  # noqa: E402
from factories import make_source_file  # noqa: E402
from PIL import Image  # noqa: E402

from evidencekit.cache import DisplayCache  # noqa: E402
from evidencekit.media import ocr  # noqa: E402
from evidencekit.media.base import MediaContext  # noqa: E402
from evidencekit.model import SourceFile  # noqa: E402
from evidencekit.rules.ocr_fields import extract_facts, load_ocr_fields  # noqa: E402

MIB = 1024**2


def _children() -> tuple[float, float]:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024  # CPU s, peak RSS MB (Linux: KiB)


def _sources(root: Path) -> list[tuple[str, SourceFile]]:
    return [(layout, make_source_file(root, f"evidence/order/{layout}.png",
                                      ocr_screens.png_bytes(ocr_screens.screenshot(layout))))
            for layout in ocr_screens.LAYOUTS]


def _correct(layout: str, result: ocr.OcrResult) -> bool:
    values = {f.field: f.value for f in extract_facts(result.boxes, load_ocr_fields())}
    want = ocr_screens.FACTS[layout]
    return (values.get("order_number"), values.get("amount"), values.get("order_time")) == (
        want.order_number, want.amount, want.order_time)


def bench(rounds: int) -> None:
    walls, cpus, warm = [], [], []
    for _ in range(rounds):
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            ctx = MediaContext(cache=DisplayCache(root / "cache"))
            sources = _sources(root / "case")
            for layout, source in sources:
                cpu0, _ = _children()
                start = time.perf_counter()
                result = ocr.ocr_image(source, ctx)
                walls.append(time.perf_counter() - start)
                cpus.append(_children()[0] - cpu0)
                print(f"  {layout:10} {walls[-1]:5.2f} s wall, {cpus[-1]:5.2f} s CPU, "
                      f"{len(result.boxes)} boxes, facts {'correct' if _correct(layout, result) else 'WRONG'}"
                      f"{'; ' + result.error if result.error else ''}")
            start = time.perf_counter()
            for _layout, source in sources:
                ocr.ocr_image(source, MediaContext(cache=DisplayCache(root / "cache")))
            warm.append((time.perf_counter() - start) / len(sources))
    print(f"cold: median {statistics.median(walls):.2f} s wall (best {min(walls):.2f}), "
          f"median {statistics.median(cpus):.2f} s CPU per screenshot")
    print(f"peak RSS of an OCR child process: {_children()[1]:.0f} MB; "
          f"this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    print(f"warm (cache hit): median {statistics.median(warm) * 1000:.1f} ms per screenshot")


def address_space() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        shot = ocr_screens.screenshot("taobao")
        photo = Image.new("RGB", (4000, 3000), (90, 90, 90))
        photo.paste(shot.resize((1350, 3000)), (1300, 0))
        path = root / "photo.jpg"
        photo.save(path, "JPEG", quality=85)
        images = [("1080×2400 PNG", make_source_file(root / "case", "evidence/order/s.png", ocr_screens.png_bytes(shot))),
                  ("4000×3000 JPEG", make_source_file(root / "case", "evidence/order/p.jpg", path.read_bytes()))]
        for mib in (768, 1024, 1280, 1536, 2048):
            ocr.OCR_MEMORY = mib * MIB
            cells = []
            for name, source in images:
                result = ocr.ocr_image(source, MediaContext(cache=DisplayCache(root / f"cache-{mib}")))
                cells.append(f"{name}: {'read' if result.boxes else 'refused (' + result.error[:24] + ')'}")
            print(f"  {mib:5} MiB  " + "; ".join(cells))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--address-space", action="store_true")
    args = parser.parse_args()
    if ocr.engine_version() is None:
        sys.exit(ocr.MSG_UNAVAILABLE)
    print(f"{ocr.ENGINE} {ocr.engine_version()}, {os.cpu_count()} cores, load average "
          + " ".join(f"{x:.1f}" for x in os.getloadavg()))
    if args.address_space:
        address_space()
    else:
        bench(args.rounds)


if __name__ == "__main__":
    main()
