"""Build-time, peak-memory and output-size benchmark against img2pdf (the baseline).

    python benchmarks/bench_build.py --photos 60 --screens 20 [--scale 20,40,80] [--jobs 1]

Inputs are generated (seeded) into benchmarks/.data/ and reused: 4000×3000 JPEG "phone photos"
with EXIF and noise (≈3–5 MB each, like phone photos), 1080×2400 PNG chat screenshots with
Chinese text. Each run is a separate process; peak memory is the summed RSS of the process
and its workers, sampled every 10 ms. Results print as a Markdown table for benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / ".data"
SH = timezone(timedelta(hours=8))


def gen_photo(path: Path, seed: int, size: tuple[int, int] = (4000, 3000)) -> None:
    """A noisy "phone photo" with EXIF capture time; blob sizes scale with the picture."""
    import piexif
    from PIL import Image, ImageDraw, ImageFilter

    rng = random.Random(seed)
    w, h = size
    scale = w / 4000
    img = Image.linear_gradient("L").resize((w, h)).convert("RGB")
    d = ImageDraw.Draw(img)
    for _ in range(40):
        x, y, r = rng.randrange(w), rng.randrange(h), int(rng.randrange(100, 700) * scale)
        d.ellipse((x - r, y - r, x + r, y + r), fill=tuple(rng.randrange(256) for _ in range(3)))  # type: ignore[arg-type]
    img = img.filter(ImageFilter.GaussianBlur(max(2, round(6 * scale))))
    noise = Image.effect_noise((w, h), 40).convert("RGB")
    img = Image.blend(img, noise, 0.18)
    when = datetime(2024, 11, 13, 15, 0, tzinfo=SH) + timedelta(seconds=37 * seed)
    exif = piexif.dump({"0th": {piexif.ImageIFD.Make: b"Bench"}, "Exif": {
        piexif.ExifIFD.DateTimeOriginal: when.strftime("%Y:%m:%d %H:%M:%S").encode(),
        piexif.ExifIFD.OffsetTimeOriginal: b"+08:00"}})
    img.save(path, "JPEG", quality=90, exif=exif)


def gen_screen(path: Path, seed: int) -> None:
    from importlib.resources import as_file, files

    from PIL import Image, ImageDraw, ImageFont

    rng = random.Random(seed)
    with as_file(files("evidencekit.fonts") / "wqy-microhei.ttc") as fp:
        font = ImageFont.truetype(str(fp), 40)
    img = Image.new("RGB", (1080, 2400), (237, 237, 237))
    d = ImageDraw.Draw(img)
    y = 120
    phrases = ["亲，已经帮您反馈了", "收到的商品与直播间不一致", "请提供订单号", "主播说假一赔十", "请耐心等待处理"]
    while y < 2250:
        mine = rng.random() < 0.5
        x0 = 300 if mine else 40
        d.rounded_rectangle((x0, y, x0 + 740, y + 110), 18, fill=(149, 236, 105) if mine else "white")
        d.text((x0 + 24, y + 30), rng.choice(phrases), font=font, fill="black")
        y += 150
    img.save(path, "PNG")


def ensure_inputs(photos: int, screens: int) -> list[Path]:
    DATA.mkdir(exist_ok=True)
    out: list[Path] = []
    for i in range(photos):
        p = DATA / f"IMG_20241113_{150000 + i:06d}.jpg"
        if not p.exists():
            gen_photo(p, i)
        out.append(p)
    for i in range(screens):
        p = DATA / f"Screenshot_20241113-{160000 + i:06d}.png"
        if not p.exists():
            gen_screen(p, 1000 + i)
        out.append(p)
    return out


def make_case(inputs: list[Path], root: Path) -> Path:
    if root.exists():
        shutil.rmtree(root)
    for p in inputs:
        sub = "product" if p.suffix == ".jpg" else "chat"
        dest = root / "evidence" / sub / p.name
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.link(p, dest) if hasattr(os, "link") else shutil.copy2(p, dest)
    (root / "case.yaml").write_text("schema: 1\nplatform: douyin\nproblem: {type: not_as_shown}\n", encoding="utf-8")
    return root


def _tree_rss_kb(pid: int) -> int:
    """Resident memory of a process and all its descendants (Linux /proc), in KiB."""
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        try:
            with open(f"/proc/{p}/status") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            with open(f"/proc/{p}/task/{p}/children") as fh:
                stack += [int(c) for c in fh.read().split()]
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return total


def run_measured(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Run cmd; return (wall seconds, peak summed RSS MB of the process tree, sampled every 10 ms).

    Summing the tree matters: with --jobs the display copies are made in worker processes, and
    the largest single process would understate what the machine must hold."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, _tree_rss_kb(proc.pid))
        time.sleep(0.01)
    wall = time.perf_counter() - t0
    out, err = proc.communicate()
    if proc.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{out}\n{err}")
    return wall, peak / 1024


def bench(photos: int, screens: int, jobs: int, work: Path) -> dict[str, float]:
    inputs = ensure_inputs(photos, screens)
    case = make_case(inputs, work / f"case-{photos}-{screens}")
    cache = work / "cache"
    shutil.rmtree(cache, ignore_errors=True)
    env = dict(os.environ, EVIDENCEKIT_CACHE_DIR=str(cache))
    exe = [sys.executable, "-m", "evidencekit"]
    out = work / "dossier.pdf"
    cold = run_measured([*exe, "build", str(case), "-o", str(out), "--force", "-q", "--no-originals",
                         "--jobs", str(jobs)], env)
    size = out.stat().st_size / 1024 / 1024
    # Warm: edit case.yaml only, rebuild (every display copy should come from the cache).
    (case / "case.yaml").write_text("schema: 1\nplatform: douyin\nproblem: {type: quality}\n", encoding="utf-8")
    warm = run_measured([*exe, "build", str(case), "-o", str(out), "--force", "-q", "--no-originals",
                         "--jobs", str(jobs)], env)
    base_out = work / "img2pdf.pdf"
    a4 = "210mmx297mm"
    base = run_measured([sys.executable, "-m", "img2pdf", "--pagesize", a4, "-o", str(base_out),
                         *[str(p) for p in inputs]])
    return {
        "n": photos + screens,
        "cold_s": cold[0], "cold_rss": cold[1], "warm_s": warm[0], "warm_rss": warm[1], "size_mb": size,
        "img2pdf_s": base[0], "img2pdf_rss": base[1], "img2pdf_mb": base_out.stat().st_size / 1024 / 1024,
    }


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--photos", type=int, default=60)
    ap.add_argument("--screens", type=int, default=20)
    ap.add_argument("--scale", default="", help="comma-separated totals, e.g. 20,80,200 (3:1 photos:screens)")
    ap.add_argument("--jobs", type=int, default=1)
    args = ap.parse_args()
    sizes = [(args.photos, args.screens)]
    if args.scale:
        sizes = [(n * 3 // 4, n - n * 3 // 4) for n in (int(x) for x in args.scale.split(","))]
    print("| images | build cold s | cold peak RSS MB | warm s | warm RSS MB | output MB "
          "| img2pdf s | img2pdf RSS MB | img2pdf MB |")
    print("|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for photos, screens in sizes:
            r = bench(photos, screens, args.jobs, Path(tmp))
            print(f"| {r['n']:.0f} ({photos}+{screens}) | {r['cold_s']:.2f} | {r['cold_rss']:.0f} | {r['warm_s']:.2f} "
                  f"| {r['warm_rss']:.0f} | {r['size_mb']:.1f} | {r['img2pdf_s']:.2f} | {r['img2pdf_rss']:.0f} "
                  f"| {r['img2pdf_mb']:.1f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
