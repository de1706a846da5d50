"""Factory helpers: build model objects in one line, with sensible defaults (tests only)."""

from __future__ import annotations

import hashlib
import io
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

from evidencekit.model import (
    SHANGHAI,
    Case,
    Complainant,
    DisplayImage,
    EvidenceKind,
    Exhibit,
    ImageInspection,
    Livestream,
    Merchant,
    Order,
    Problem,
    SourceFile,
    Stamp,
    TimeSource,
)


def sh(*args: int) -> datetime:
    """An Asia/Shanghai datetime: ``sh(2024, 11, 14, 19, 0, 12)``."""
    return datetime(*args, tzinfo=SHANGHAI)  # type: ignore[arg-type]


def make_case(root: Path, **kw: Any) -> Case:
    base = Case(
        root=root,
        platform="douyin",
        complainant=Complainant(name="张三", phone="13800138000", address="上海市浦东新区世纪大道100号"),
        merchant=Merchant(
            shop_name="好物优选旗舰店",
            company="杭州好物优选电子商务有限公司",
            credit_code="91330106MA2B0K7L1L",
            address="浙江省杭州市西湖区文三路1号",
        ),
        livestream=Livestream(room="好物优选直播间", host="小美", time=sh(2024, 11, 10, 20, 15, 0)),
        order=Order(
            number="6912345678901234567",
            time=sh(2024, 11, 10, 20, 31, 5),
            product="真皮女士手提包",
            amount=Decimal("399.00"),
            quantity=1,
            signed_at=sh(2024, 11, 13, 14, 2, 0),
        ),
        problem=Problem(type="not_as_shown", summary="收到的包是人造革，与直播间宣称的头层牛皮不符"),
        claims=("return_refund", "punitive"),
    )
    return replace(base, **kw)


def write_file(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def make_source_file(root: Path, rel: str, data: bytes = b"x", kind: EvidenceKind = EvidenceKind.OTHER,
                     mtime: datetime | None = None) -> SourceFile:
    path = write_file(root / rel, data)
    return SourceFile(
        rel_path=rel,
        path=path,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        mtime=mtime or sh(2024, 11, 14, 9, 0, 0),
        kind=kind,
        kind_from_folder=kind is not EvidenceKind.OTHER,
    )


_JPEGS: dict[tuple[tuple[int, int], str], bytes] = {}


def make_jpeg(path: Path, size: tuple[int, int] = (800, 600), color: str = "#3a7") -> Path:
    """A plain JPEG; encoded once per process for each size and colour (the bytes never differ)."""
    key = ((size[0], size[1]), color)
    if key not in _JPEGS:
        img = Image.new("RGB", size, color)
        ImageDraw.Draw(img).rectangle((10, 10, size[0] // 2, size[1] // 2), fill="#fff")
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=85)
        _JPEGS[key] = buf.getvalue()
    return write_file(path, _JPEGS[key])


def make_display_image(path: Path, size: tuple[int, int] = (800, 600), caption: str = "") -> DisplayImage:
    make_jpeg(path, size)
    return DisplayImage(path=path, width=size[0], height=size[1],
                        sha256=hashlib.sha256(path.read_bytes()).hexdigest(), caption=caption)


def make_exhibit(number: int, source: SourceFile, **kw: Any) -> Exhibit:
    base = Exhibit(
        number=number,
        source=source,
        kind=source.kind,
        title=f"证据标题{number}",
        proves="证明商品与直播展示不符",
        note="",
        stamp=Stamp(sh(2024, 11, 14, 19, 0, 12), TimeSource.EXIF),
        inspection=ImageInspection(),
    )
    return replace(base, **kw)


def text_box(text: str, top: int, left: int = 20, height: int = 40) -> Any:
    """An OCR box as the engine gives it: ``text`` on one line at (left, top), 20 px a character."""
    from evidencekit.rules.ocr_fields import TextBox

    right = left + 20 * len(text)
    return TextBox(text, ((left, top), (right, top), (right, top + height), (left, top + height)), 0.95)


# An order screenshot as the fake OCR engines of the OCR tests read it. File-name time
# 2024-11-10 20:41:00 (Android's Screenshot_yyyy-mm-dd-hh-mm-ss-ms); status-bar clock 20:42.
ORDER_SCREEN_NAME = "Screenshot_2024-11-10-20-41-00-123.png"
ORDER_SCREEN_BOXES = (
    text_box("20:42", 10),
    text_box("订单编号：6912345678901234567", 300),
    text_box("实付款 ¥389.00", 400),
    text_box("下单时间：2024-11-10 20:31:05", 500),
)


def blank_png(size: tuple[int, int]) -> bytes:
    """A white PNG of ``size``: the fake OCR engines tell screenshots apart by their size."""
    buf = io.BytesIO()
    Image.new("RGB", size, "white").save(buf, "PNG")
    return buf.getvalue()
