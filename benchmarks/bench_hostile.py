"""Bounded work on hostile case folders (issue 9, item 3): time, pages and peak memory.

    python benchmarks/bench_hostile.py [--chat-mb 5] [--chats 3] [--nul-mb 1] [--pdf-bomb] [--timeout 600]

Generates (seeded, in a temporary folder) a case with three 5 MB customer-service chat exports
of realistic-looking lines (WeChat multi-select, 千牛 and plain ``time speaker: text``) and one
1 MB chat export of NUL bytes; with ``--pdf-bomb`` also a ≈400 KB PDF whose single page's
Flate-compressed content stream inflates to ≈200 MB of drawing operators (made with pikepdf).
The case is built with the installed ``evidencekit`` CLI in a subprocess; printed: wall time,
page count of the dossier, peak RSS of the process tree (summed, sampled every 10 ms) and the
largest single process (``RUSAGE_CHILDREN.ru_maxrss``). Target: under 60 s and 600 MB.

Measured 2026-12-01 on the 2-vCPU benchmark machine (shared with other builds):

- before the page caps (5615571): no result — stopped by --timeout after 450 s at 955 MB
  peak and still growing (the issue measured 1,970 pages and 315 s CPU on the same inputs);
- after (hostile-bounds branch): 8.8 / 9.7 s wall, 8.7 / 8.9 s CPU, 127 pages, 202 MB peak;
- ``--pdf-bomb`` alone (no chats), before the PDF decode budget: 58 s, 4.0 GB peak;
- ``--pdf-bomb`` with the chats, after the decode budget (hostile-media branch, 256 MiB for
  PDFs): 10.8 s wall, 10.4 s CPU, 129 pages, 377 MB peak (largest process 273 MB); the bomb's
  exhibit says 超出内存上限 and keeps its hash and attachment.
"""

from __future__ import annotations

import argparse
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import zlib
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import tree_memory_kb  # one process-tree RSS sampler for all benchmarks

MB = 1024 * 1024

_PHRASES = (
    "亲，您好，请问有什么可以帮您？", "我收到的包是人造革，不是直播间说的头层牛皮", "麻烦提供一下订单号和商品照片",
    "订单号 6912345678901234567，照片已经发过去了", "好的亲，我这边帮您反馈给售后专员处理",
    "已经三天了还没有人联系我", "亲，售后那边正在核实，请您耐心等待", "直播间主播明确说了假一赔十",
    "这个需要质检报告才能确认哦", "我要求退货退款并按照法律规定赔偿", "[图片]", "[语音] 12\"",
    "好的", "嗯嗯", "请问还在吗？", "您的问题已经记录，处理结果会在 48 小时内通知您",
    "快递单号 SF1234567890123，已经签收了", "质量问题我们支持七天无理由退换", "谢谢", "OK",
)


def _lines(fmt: str, rng: random.Random, size: int) -> bytes:
    """``size`` bytes of a chat export in one of three formats, messages a few minutes apart."""
    out: list[str] = []
    total = 0
    when = datetime(2024, 11, 13, 9, 0, 0)
    speakers = ("好物优选旗舰店客服", "张三")
    while total < size:
        when += timedelta(seconds=rng.randint(5, 900))
        who = speakers[rng.random() < 0.5]
        text = rng.choice(_PHRASES)
        if rng.random() < 0.2:
            text += "，" + rng.choice(_PHRASES)
        if fmt == "wechat":
            block = f"{who}\n{when:%Y年%m月%d日 %H:%M}\n{text}\n\n"
        elif fmt == "qianniu":
            block = f"[{who}] {when:%Y-%m-%d %H:%M:%S}\n{text}\n{rng.choice(('已读', '未读'))}\n"
        else:
            block = f"{when:%Y-%m-%d %H:%M:%S} {who}: {text}\n"
        out.append(block)
        total += len(block.encode())
    return "".join(out).encode()[:size]


def pdf_bomb(path: Path, inflated_mb: int = 200) -> None:
    """One page whose content stream inflates to ``inflated_mb`` MB of drawing operators."""
    import pikepdf

    # Stroked line segments: cheap to write, costly to rasterise; 200 MB deflate to ≈400 KB.
    unit = b"0 0 m 1 1 l S\n"
    chunk = unit * (MB // len(unit))
    comp = zlib.compressobj(9)
    parts = [comp.compress(chunk) for _ in range(inflated_mb)]
    parts.append(comp.flush())
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(595, 842))
    stream = pikepdf.Stream(pdf, b"".join(parts))
    stream.Filter = pikepdf.Name.FlateDecode
    pdf.pages[0].Contents = pdf.make_indirect(stream)
    pdf.save(path)


def make_case(root: Path, *, chats: int, chat_mb: float, nul_mb: float, bomb: bool) -> None:
    rng = random.Random(9)
    chat_dir = root / "evidence" / "chat"
    chat_dir.mkdir(parents=True)
    formats = ("wechat", "qianniu", "plain")
    for i in range(chats):
        fmt = formats[i % len(formats)]
        (chat_dir / f"客服聊天_{i + 1}_{fmt}.txt").write_bytes(_lines(fmt, rng, int(chat_mb * MB)))
    if nul_mb:
        (chat_dir / "空白聊天.txt").write_bytes(b"\x00" * int(nul_mb * MB))
    if bomb:
        report = root / "evidence" / "report"
        report.mkdir(parents=True)
        pdf_bomb(report / "质检报告.pdf")
    (root / "case.yaml").write_text(
        "schema: 1\nplatform: douyin\nproblem: {type: not_as_shown}\nmerchant: {shop_name: 好物优选旗舰店}\n",
        encoding="utf-8",
    )


def page_count(pdf: Path) -> int:
    import pikepdf

    with pikepdf.open(pdf) as doc:
        return len(doc.pages)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--chats", type=int, default=3)
    ap.add_argument("--chat-mb", type=float, default=5.0)
    ap.add_argument("--nul-mb", type=float, default=1.0)
    ap.add_argument("--pdf-bomb", action="store_true", help="add the content-stream-bomb PDF")
    ap.add_argument("--timeout", type=float, default=600.0, help="stop the build after this many seconds")
    ap.add_argument("--keep", action="store_true", help="keep the generated case folder")
    args = ap.parse_args()

    exe = shutil.which("evidencekit")
    cmd_base = [exe] if exe else [sys.executable, "-m", "evidencekit"]
    work = Path(tempfile.mkdtemp(prefix="ek-hostile-"))
    try:
        root = work / "case"
        make_case(root, chats=args.chats, chat_mb=args.chat_mb, nul_mb=args.nul_mb, bomb=args.pdf_bomb)
        out = work / "dossier.pdf"
        cmd = [*cmd_base, "build", str(root), "-o", str(out), "--force", "-q"]
        env = {**__import__("os").environ, "EVIDENCEKIT_CACHE_DIR": str(work / "cache")}
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        peak = 0
        timed_out = False
        while proc.poll() is None:
            peak = max(peak, tree_memory_kb(proc.pid)[0])
            if time.perf_counter() - t0 > args.timeout:
                timed_out = True
                proc.kill()
                break
            time.sleep(0.01)
        _, err = proc.communicate()
        wall = time.perf_counter() - t0
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        inputs = f"{args.chats} × {args.chat_mb:g} MB chats + {args.nul_mb:g} MB NUL chat"
        if args.pdf_bomb:
            inputs += " + content-stream-bomb PDF"
        print(f"inputs: {inputs}")
        if timed_out:
            print(f"TIMED OUT after {wall:.1f} s (peak tree RSS {peak / 1024:.0f} MB)")
            return 1
        if proc.returncode != 0:
            print(f"build failed (exit {proc.returncode}):\n{err}")
            return 1
        print(f"wall {wall:.1f} s · CPU (children) {usage.ru_utime + usage.ru_stime:.1f} s · "
              f"pages {page_count(out)} · peak tree RSS {peak / 1024:.0f} MB · "
              f"largest process {usage.ru_maxrss / 1024:.0f} MB · output {out.stat().st_size / MB:.1f} MB")
        return 0
    finally:
        if args.keep:
            print(f"kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
