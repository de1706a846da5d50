"""pdf/linecache.py: a rebuild takes its line breaks from the last build, same bytes (issue 15)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from reportlab.platypus.paragraph import Paragraph

from evidencekit.cli import main
from evidencekit.pdf import linecache
from evidencekit.pdf.fonts import load_fonts
from evidencekit.pdf.text import MUTED, DossierParagraph, Seg, Styles, para


def rebuild(example_reproducible: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
            lines: bytes | None = None) -> tuple[bytes, int, int]:
    """The example case built again with --reproducible on a copy of the first build's cache
    (its line cache replaced by ``lines`` if given): the dossier's bytes and how many
    paragraphs were broken into lines and how many of them reportlab broke itself."""
    root = example_reproducible.parent
    cache = tmp_path / "cache"
    shutil.copytree(root / "cache", cache)
    if lines is not None:
        (line_file,) = (cache / "lines").glob("*.json")
        line_file.write_bytes(lines)
    case = tmp_path / "case"
    shutil.copytree(root / "case", case, copy_function=shutil.copy2)
    asked, broken = [], []
    original, ours = Paragraph.breakLinesCJK, DossierParagraph.breakLinesCJK

    def counting(self: Paragraph, widths: Any) -> Any:
        broken.append(1)
        return original(self, widths)

    def asking(self: DossierParagraph, widths: Any) -> Any:
        asked.append(1)
        return ours(self, widths)

    monkeypatch.setattr(Paragraph, "breakLinesCJK", counting)
    monkeypatch.setattr(DossierParagraph, "breakLinesCJK", asking)
    out = tmp_path / "again.pdf"
    result = CliRunner(env={"EVIDENCEKIT_CACHE_DIR": str(cache)}).invoke(
        main, ["build", str(case), "-o", str(out), "--reproducible", "-q", "--jobs", "1"])
    assert result.exit_code == 0, result.stderr
    return out.read_bytes(), len(asked), len(broken)


def line_files(example_reproducible: Path) -> list[Path]:
    return sorted((example_reproducible.parent / "cache" / "lines").glob("*.json"))


def test_rebuild_reuses_line_breaks_with_the_same_bytes(
    example_reproducible: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert len(line_files(example_reproducible)) == 1  # the cold build stored its line breaks
    data, asked, broken = rebuild(example_reproducible, tmp_path, monkeypatch)
    assert data == example_reproducible.read_bytes()
    # Nearly every paragraph's lines came from the cache; reportlab still breaks the pieces of
    # paragraphs split over a page, which are not kept.
    assert asked > 200
    assert broken < asked / 20


@pytest.mark.parametrize("damage", ["garbage", "shapes", "other text", "other fragment"])
def test_a_damaged_line_cache_costs_time_never_a_different_dossier(
    example_reproducible: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: str
) -> None:
    (source,) = line_files(example_reproducible)
    doc = json.loads(source.read_text(encoding="utf-8"))
    entries = doc["entries"]
    for key, entry in entries.items():
        if damage == "shapes":
            entries[key] = [entry[0], "x", None, {"a": 1}][: len(entry)]
        elif damage == "other text":  # well formed, but not the paragraph's characters
            for line in entry[-1]:
                if entry[0] == 0:
                    line[1] = "伪造" + line[1]
                else:
                    for word in line[-1]:
                        word[1] = "伪造" + word[1]
        elif damage == "other fragment":  # a fragment the paragraph does not have
            for line in entry[-1] if entry[0] == 1 else []:
                for word in line[-1]:
                    word[0] = 99
            if entry[0] == 0:
                entry[1] = "10"
    planted = b"\xff{not json" if damage == "garbage" else json.dumps(doc, ensure_ascii=False).encode()
    data, asked, broken = rebuild(example_reproducible, tmp_path, monkeypatch, planted)
    assert data == example_reproducible.read_bytes()
    assert broken > asked / 2  # the entries were refused, the lines broken afresh


def test_the_key_is_the_text_its_look_the_widths_and_the_font() -> None:
    fonts = load_fonts(None)
    styles = Styles(fonts)
    cache = linecache.LineCache(None, {})

    def key(*parts: str | Seg, width: float = 80.0) -> str | None:
        p = para(fonts, styles.cell, *parts)
        return cache.key(p.frags, [width, width], "")

    base = key("订单号 123", "\n", Seg("拍摄时间", color=MUTED))
    assert base is not None
    assert key("订单号 123", "\n", Seg("拍摄时间", color=MUTED)) == base
    assert key("订单号 124", "\n", Seg("拍摄时间", color=MUTED)) != base
    assert key("订单号 123", "\n", Seg("拍摄时间")) != base
    assert key("订单号 123", "\n", Seg("拍摄时间", color=MUTED), width=81) != base
    linecache._font_digests[fonts.main] = "0" * 64  # another font file under the same name
    try:
        assert key("订单号 123", "\n", Seg("拍摄时间", color=MUTED)) != base
    finally:
        del linecache._font_digests[fonts.main]


def test_the_line_cache_lives_in_the_builds_cache_folder(example_reproducible: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """BuildOptions.cache_dir names the build's cache: its line breaks go there too, never to the
    user's default cache folder."""
    from evidencekit import pipeline

    default = tmp_path / "default-cache"
    monkeypatch.setenv("EVIDENCEKIT_CACHE_DIR", str(default))
    case = tmp_path / "case"
    shutil.copytree(example_reproducible.parent / "case", case, copy_function=shutil.copy2)
    pipeline.build_dossier(case, pipeline.BuildOptions(cache_dir=tmp_path / "cache", jobs=1, ocr=False,
                                                       output=tmp_path / "d.pdf"))
    assert list((tmp_path / "cache" / "lines").glob("*.json"))
    assert not (default / "lines").exists()
