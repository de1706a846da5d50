"""Display copies of screenshots: reduced by an integer factor instead of resampled (issue 15).

What an official sees must not change: the new copy, drawn at the old copy's size, differs from
the old LANCZOS copy by a mean of less than MEAN_DIFF_LIMIT (of 255) per channel."""

from __future__ import annotations

import io
import random
from importlib.resources import as_file, files
from pathlib import Path

import pytest
from factories import make_source_file
from PIL import Image, ImageChops, ImageDraw, ImageFont, ImageStat

from evidencekit.cache import DisplayCache
from evidencekit.media import images
from evidencekit.media.base import MediaContext
from evidencekit.media.images import inspect_image, integer_reduction, plan_layout

# Measured on three seeded 1080×2400 chat screenshots with 40 px Chinese text: 1.4–1.9; the
# largest single-pixel difference is at glyph edges (≈ 90). See benchmarks/README.md.
MEAN_DIFF_LIMIT = 2.5


def chat_screenshot(seed: int = 7, size: tuple[int, int] = (1080, 2400), mode: str = "RGB") -> Image.Image:
    rng = random.Random(seed)
    with as_file(files("evidencekit.fonts") / "wqy-microhei.ttc") as fp:
        font = ImageFont.truetype(str(fp), 40)
    img = Image.new("RGB", size, (237, 237, 237))
    d = ImageDraw.Draw(img)
    for y in range(120, size[1] - 150, 150):
        x0 = 300 if rng.random() < 0.5 else 40
        d.rounded_rectangle((x0, y, x0 + 740, y + 110), 18, fill=(149, 236, 105) if x0 == 300 else "white")
        d.text((x0 + 24, y + 30), rng.choice(["收到的商品与直播间不一致", "请提供订单号", "主播说假一赔十"]),
               font=font, fill="black")
    return img.convert(mode)


def png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture
def ctx(tmp_path: Path) -> MediaContext:
    return MediaContext(cache=DisplayCache(tmp_path / "cache"))


def shown(tmp_path: Path, ctx: MediaContext, data: bytes, name: str = "shot.png") -> Image.Image:
    src = make_source_file(tmp_path / "case", f"evidence/chat/{name}", data)
    result = inspect_image(src, None, ctx)
    assert result.preview_error == "" and len(result.images) == 1
    out = Image.open(result.images[0].path)
    out.load()
    return out


def old_copy(img: Image.Image, ctx: MediaContext) -> Image.Image:
    """The display copy as RENDER_VERSION 4 made it: LANCZOS straight to the planned size."""
    layout = plan_layout(*img.size, ctx.box_pixels())
    return img.resize(layout.size, Image.Resampling.LANCZOS, reducing_gap=3.0)


def test_integer_reduction_keeps_at_least_the_target() -> None:
    assert integer_reduction((1080, 2400), (523, 1163)) == 2
    assert integer_reduction((4000, 3000), (966, 725)) == 4
    assert integer_reduction((1000, 700), (966, 676)) == 1  # never below the target
    assert integer_reduction((1081, 2401), (541, 1201)) == 2  # partial last box: ceil


def test_screenshot_is_reduced_not_resampled_and_looks_the_same(tmp_path: Path, ctx: MediaContext,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    original = chat_screenshot()
    resized: list[tuple[int, int]] = []
    real_resize = Image.Image.resize

    def spy(self: Image.Image, size: tuple[int, int], *args: object, **kw: object) -> Image.Image:
        resized.append(size)
        return real_resize(self, size, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(Image.Image, "resize", spy)
    copy = shown(tmp_path, ctx, png(original))
    monkeypatch.undo()
    assert copy.size == (540, 1200) and resized == []
    planned = old_copy(original, ctx)
    assert copy.width >= images.DRAFT_SLACK * planned.width
    # Drawn in the same box on the page, the new copy is the old one to within the limit.
    drawn = copy.convert("RGB").resize(planned.size, Image.Resampling.LANCZOS)
    diff = ImageStat.Stat(ImageChops.difference(drawn, planned.convert("RGB"))).mean
    assert sum(diff) / 3 < MEAN_DIFF_LIMIT


def test_transparent_screenshot_is_still_resampled_with_alpha(tmp_path: Path, ctx: MediaContext) -> None:
    # reduce() does not premultiply alpha; RGBA keeps the LANCZOS path and its planned size.
    copy = shown(tmp_path, ctx, png(chat_screenshot(mode="RGBA")), "alpha.png")
    assert copy.size == plan_layout(1080, 2400, ctx.box_pixels()).size


def test_long_screenshot_keeps_box_width(tmp_path: Path, ctx: MediaContext) -> None:
    # Split screenshots are never relaxed: text stays as large as the box allows.
    src = make_source_file(tmp_path / "case", "evidence/chat/long.png", png(chat_screenshot(size=(1080, 6000))))
    result = inspect_image(src, None, ctx)
    assert len(result.images) > 1
    assert all(im.width == ctx.box_pixels()[0] for im in result.images)
