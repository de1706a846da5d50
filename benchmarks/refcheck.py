"""Are the dossiers still the same bytes? Reference builds before a change, comparisons after.

    python benchmarks/refcheck.py save DIR     # with the code before the change
    python benchmarks/refcheck.py check DIR    # after it: identical, or which objects differ

Two cases, each built with ``--reproducible`` (SOURCE_DATE_EPOCH fixed) and an empty
display-copy cache, from a fresh copy of the case folder (a build records exhibit numbers in
case.yaml): the example case (examples/make_example.py, originals attached) and a generated
one (4 photos + 4 screenshots from benchlib, ``--no-originals``). ``save`` keeps the case
folders beside the PDFs so ``check`` builds exactly the same inputs. When bytes differ,
``check`` lists per page whether the content stream or which image changed, and for images
the mean absolute pixel difference, so a display copy changed on purpose is told apart from
an accident.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from benchlib import HERE, build_cmd, ensure_inputs, make_case, python_cmd

CASES = {"example": ("--no-ocr",), "generated": ("--no-originals", "--no-ocr")}
EPOCH = "1731484800"  # 2024-11-13 08:00 UTC


def prepare_cases(dest: Path) -> None:
    subprocess.run(python_cmd(str(HERE.parent / "examples" / "make_example.py"), str(dest / "example")),
                   check=True, capture_output=True)
    make_case(ensure_inputs(4, 4), dest / "generated")


def build_all(cases: Path, out: Path) -> dict[str, Path]:
    built = {}
    for name, extra in CASES.items():
        with tempfile.TemporaryDirectory() as tmp:
            case = Path(tmp) / name
            shutil.copytree(cases / name, case)
            env = dict(os.environ, SOURCE_DATE_EPOCH=EPOCH, EVIDENCEKIT_CACHE_DIR=str(Path(tmp) / "cache"))
            pdf = out / f"{name}.pdf"
            subprocess.run(build_cmd(case, pdf, None, "--reproducible", *extra), env=env, cwd=tmp,
                           check=True, capture_output=True)
            built[name] = pdf
    return built


def _pixels_differ(a: object, b: object) -> str:
    from pikepdf import PdfImage
    from PIL import ImageChops, ImageStat

    ia, ib = PdfImage(a).as_pil_image(), PdfImage(b).as_pil_image()  # type: ignore[arg-type]
    if ia.size != ib.size or ia.mode != ib.mode:
        return f"size {ia.size}→{ib.size}"
    stat = ImageStat.Stat(ImageChops.difference(ia.convert("RGB"), ib.convert("RGB")))
    return f"mean |Δ| {sum(stat.mean) / 3:.2f}/255"


def _contents(page: object) -> bytes:
    import pikepdf

    streams = page.obj.get("/Contents")  # type: ignore[attr-defined]
    if streams is None:
        return b""
    if isinstance(streams, pikepdf.Array):
        return b"".join(s.read_bytes() for s in streams)
    return bytes(streams.read_bytes())


def describe_difference(ref: Path, new: Path) -> list[str]:
    import pikepdf

    lines = []
    with pikepdf.open(ref) as a, pikepdf.open(new) as b:
        if len(a.pages) != len(b.pages):
            return [f"pages {len(a.pages)} → {len(b.pages)}"]
        for n, (pa, pb) in enumerate(zip(a.pages, b.pages, strict=True), start=1):
            what = []
            if _contents(pa) != _contents(pb):
                what.append("content stream")
            # Image names are digests of their bytes: pair a page's images by their order.
            xa, xb = list(pa.get_images().values()), list(pb.get_images().values())
            if len(xa) != len(xb):
                what.append(f"images {len(xa)} → {len(xb)}")
            for k, (ia, ib) in enumerate(zip(xa, xb, strict=False), start=1):
                if ia.read_raw_bytes() != ib.read_raw_bytes():
                    what.append(f"image {k} ({_pixels_differ(ia, ib)})")
            if what:
                lines.append(f"page {n}: " + ", ".join(what))
        if not lines:
            lines.append("pages equal; difference in document-level objects (fonts, outline, attachments)")
    return lines


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[1] not in ("save", "check"):
        print(__doc__)
        return 2
    ref = Path(argv[2]).resolve()
    if argv[1] == "save":
        shutil.rmtree(ref, ignore_errors=True)
        (ref / "cases").mkdir(parents=True)
        prepare_cases(ref / "cases")
        for name, pdf in build_all(ref / "cases", ref).items():
            print(f"{name}: {digest(pdf)} {pdf.stat().st_size} B")
        return 0
    changed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name, pdf in build_all(ref / "cases", Path(tmp)).items():
            before = ref / pdf.name
            if digest(before) == digest(pdf):
                print(f"{name}: identical ({digest(pdf)})")
                continue
            changed += 1
            print(f"{name}: DIFFERENT {digest(before)} → {digest(pdf)} "
                  f"({before.stat().st_size} → {pdf.stat().st_size} B)")
            buf = io.StringIO()
            for line in describe_difference(before, pdf):
                print("  " + line, file=buf)
            print(buf.getvalue(), end="")
    return 1 if changed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
