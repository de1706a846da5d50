"""What the build benchmarks share: seeded inputs, the case folder, and measuring a process tree.

Imported by the scripts beside it (``python benchmarks/<script>.py`` puts this folder first on
``sys.path``). Every child runs with its working directory in a temporary folder and with
``python -P``, so a checkout never shadows the installed package (a non-editable install has
``evidencekit/templates`` inside the package; the checkout keeps templates/ at its root).
"""

from __future__ import annotations

import os
import platform
import random
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / ".data"
SH = timezone(timedelta(hours=8))
SAMPLE_S = 0.01  # RSS sampling period
CASE_YAML = "schema: 1\nplatform: douyin\nproblem: {type: not_as_shown}\n"
CASE_YAML_EDITED = "schema: 1\nplatform: douyin\nproblem: {type: quality}\n"


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
    """A 1080×2400 chat screenshot with Chinese text in the bundled font."""
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
    """The first ``photos`` photos and ``screens`` screenshots, generated once into .data/."""
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


def split_total(n: int) -> tuple[int, int]:
    """N images as photos and screenshots, 3:1 (60 + 20 for 80)."""
    return n * 3 // 4, n - n * 3 // 4


def make_case(inputs: list[Path], root: Path) -> Path:
    """A case folder of hard links to the inputs (photos under product/, screenshots under chat/)."""
    if root.exists():
        shutil.rmtree(root)
    for p in inputs:
        sub = "product" if p.suffix == ".jpg" else "chat"
        dest = root / "evidence" / sub / p.name
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(p, dest)
        except OSError:
            shutil.copy2(p, dest)
    (root / "case.yaml").write_text(CASE_YAML, encoding="utf-8")
    return root


def python_cmd(*args: str) -> list[str]:
    """This interpreter, with the script's folder and the cwd kept off sys.path (-P)."""
    return [sys.executable, "-P", *args]


def build_cmd(case: Path, out: Path, jobs: int | None, *extra: str) -> list[str]:
    cmd = python_cmd("-m", "evidencekit", "build", str(case), "-o", str(out), "--force", "-q", *extra)
    return [*cmd, "--jobs", str(jobs)] if jobs is not None else cmd


def tree_pids(pid: int) -> list[int]:
    """A process and all its descendants (Linux /proc)."""
    out, stack = [], [pid]
    while stack:
        p = stack.pop()
        out.append(p)
        try:
            with open(f"/proc/{p}/task/{p}/children") as fh:
                stack += [int(c) for c in fh.read().split()]
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return out


def tree_memory_kb(pid: int) -> tuple[int, int]:
    """(RSS, PSS) summed over a process and its descendants at one instant, in KiB.

    Summing instantaneous values is the honest peak for concurrent workers: the children's
    ru_maxrss would add peaks reached at different times (and report only waited-for ones).
    RSS counts the pages a forked worker still shares with the main process once per process;
    PSS (smaps_rollup) splits each shared page between its sharers, so its sum is what the
    machine actually holds. Both are reported."""
    rss = pss = 0
    for p in tree_pids(pid):
        try:
            with open(f"/proc/{p}/status") as fh:
                rss += next((int(line.split()[1]) for line in fh if line.startswith("VmRSS:")), 0)
            with open(f"/proc/{p}/smaps_rollup") as fh:
                pss += next((int(line.split()[1]) for line in fh if line.startswith("Pss:")), 0)
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return rss, pss


@dataclass(frozen=True)
class Measured:
    wall: float  # seconds
    cpu: float  # user + sys seconds of the process and every child it waited for
    rss: float  # peak summed RSS of the tree, MB
    pss: float = 0.0  # peak summed PSS of the tree, MB


def run_measured(cmd: list[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> Measured:
    """Run ``cmd``; its wall time, CPU time (wait4 rusage: the process plus its reaped
    workers) and the peak summed RSS and PSS of its process tree, sampled every 10 ms."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out: list[bytes] = []
    readers = [threading.Thread(target=lambda s=s: out.append(s.read()), daemon=True)  # type: ignore[misc]
               for s in (proc.stdout, proc.stderr)]
    for r in readers:
        r.start()
    peak = peak_pss = 0
    status = 0
    usage = None
    while True:
        rss, pss = tree_memory_kb(proc.pid)
        peak, peak_pss = max(peak, rss), max(peak_pss, pss)
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        time.sleep(SAMPLE_S)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    for r in readers:
        r.join()
    if proc.returncode != 0:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}\n"
                         + b"\n".join(out).decode("utf-8", "replace"))
    return Measured(wall, usage.ru_utime + usage.ru_stime, peak / 1024, peak_pss / 1024)


def load_average() -> str:
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return "n/a"
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def available_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def settings_line(jobs: int | None, sizes: str) -> str:
    """Everything a reader needs to compare figures between machines, in one line."""
    probe = subprocess.run(
        python_cmd("-c", "import evidencekit, importlib.metadata as m; "
                   "print(m.version('evidencekit'), evidencekit.__file__)"),
        capture_output=True, text=True, check=True)
    version, location = probe.stdout.split(maxsplit=1)
    from importlib.util import find_spec

    accel = "yes" if find_spec("_rl_accel") or find_spec("rl_accel") else "no"
    return (f"settings: jobs={'default (' + str(available_cpus()) + ')' if jobs is None else jobs} "
            f"sizes={sizes} python={platform.python_version()} evidencekit={version} "
            f"({'checkout' if 'site-packages' not in location else 'installed'}) rl_accel={accel} "
            f"cpus={available_cpus()} load={load_average()} "
            # PYTHONDONTWRITEBYTECODE=1 makes every child compile evidencekit again (~0.3 s with
            # an editable install); an installed wheel has its bytecode from pip.
            f"bytecode={'off (PYTHONDONTWRITEBYTECODE)' if os.environ.get('PYTHONDONTWRITEBYTECODE') else 'cached'}")


@dataclass(frozen=True)
class BuildRun:
    cold: Measured
    warm: Measured
    size_mb: float  # the dossier


def measure_build(photos: int, screens: int, jobs: int | None, work: Path) -> BuildRun:
    """A cold build (empty display-copy cache) then a warm one (only case.yaml edited)."""
    inputs = ensure_inputs(photos, screens)
    case = make_case(inputs, work / f"case-{photos}-{screens}")
    cache = work / "cache"
    shutil.rmtree(cache, ignore_errors=True)
    env = dict(os.environ, EVIDENCEKIT_CACHE_DIR=str(cache))
    out = work / "dossier.pdf"
    cold = run_measured(build_cmd(case, out, jobs, "--no-originals"), env, cwd=work)
    size = out.stat().st_size / 1024**2
    (case / "case.yaml").write_text(CASE_YAML_EDITED, encoding="utf-8")
    warm = run_measured(build_cmd(case, out, jobs, "--no-originals"), env, cwd=work)
    return BuildRun(cold, warm, size)


def measure_img2pdf(inputs: list[Path], work: Path) -> tuple[Measured, float]:
    """img2pdf on the same files onto A4 pages (it wraps JPEGs as they are)."""
    out = work / "img2pdf.pdf"
    m = run_measured(python_cmd("-m", "img2pdf", "--pagesize", "210mmx297mm", "-o", str(out),
                                *[str(p) for p in inputs]), cwd=work)
    return m, out.stat().st_size / 1024**2


def measure_floor(inputs: list[Path], jobs: int | None, work: Path) -> Measured:
    """bench_floor.py on the same files: hash, reduced decode, resize, encode on all cores.
    Its own wall and CPU figures (the work without interpreter start), with the tree's RSS."""
    listing = work / "floor-inputs.txt"
    listing.write_text("\n".join(str(p) for p in inputs), encoding="utf-8")
    cmd = [sys.executable, str(HERE / "bench_floor.py"), "--files", str(listing)]
    result_file = work / "floor-result.txt"
    m = run_measured([*cmd, "--jobs", str(jobs), "--result", str(result_file)] if jobs else
                     [*cmd, "--result", str(result_file)], cwd=work)
    wall, cpu = (float(x) for x in result_file.read_text(encoding="utf-8").split())
    return Measured(wall, cpu, m.rss, m.pss)
