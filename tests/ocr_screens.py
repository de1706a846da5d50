"""Generated order, payment and logistics screenshots for the OCR tests and benchmark.

Drawn with Pillow and the bundled font (evidencekit/fonts/) in three app-like layouts: a
Taobao-like order detail (labels left, values right), a Pinduoduo-like one (label and value in
one line) and a JD-like logistics page (a tracking timeline with the sign-off on top). Each is
1080×2400 like a phone screenshot; :func:`wechat_copy` makes what WeChat sends on: 720 px
wide, JPEG at quality 70. Every text is made up.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from importlib import resources

from PIL import Image, ImageDraw, ImageFont

WIDTH, HEIGHT = 1080, 2400
LAYOUTS = ("taobao", "pinduoduo", "jd")


@dataclass(frozen=True)
class ScreenFacts:
    """What a screenshot shows, as a person would read it."""

    order_number: str
    amount: str  # as printed after the currency sign
    order_time: str  # YYYY-MM-DD HH:MM:SS
    payment_time: str
    shop: str
    product: str
    tracking_number: str
    sign_off_time: str


FACTS = {
    "taobao": ScreenFacts("3912847561023847561", "1299.00", "2024-11-16 10:02:31", "2024-11-16 10:03:05",
                          "翠玉阁珠宝旗舰店", "天然和田玉手镯 冰种 附证书", "SF1428573920461", "2024-11-18 14:20:05"),
    "pinduoduo": ScreenFacts("241116-580931274562819", "368.50", "2024-11-12 21:47:09", "2024-11-12 21:47:40",
                             "好运来农家特产店", "野生蜂蜜 500g×2 瓶", "YT7539182046351", "2024-11-15 09:12:44"),
    "jd": ScreenFacts("302918475620", "86.90", "2024-10-30 08:15:22", "2024-10-30 08:16:01",
                      "鑫源数码专营店", "快充数据线 1 米 两根装", "JDX019283746501", "2024-11-01 17:55:38"),
}

_GREY = (110, 110, 110)
_BLACK = (25, 25, 25)
_RED = (226, 35, 26)


def _font(size: int) -> ImageFont.FreeTypeFont:
    path = resources.files("evidencekit.fonts") / "wqy-microhei.ttc"
    with resources.as_file(path) as real:
        return ImageFont.truetype(str(real), size)


def screenshot(layout: str) -> Image.Image:
    """A 1080×2400 screenshot in ``layout`` showing ``FACTS[layout]``."""
    facts = FACTS[layout]
    img = Image.new("RGB", (WIDTH, HEIGHT), (245, 245, 245))
    draw = ImageDraw.Draw(img)
    big, mid, small = _font(52), _font(42), _font(36)
    # Status bar and title, as on a phone.
    draw.rectangle((0, 0, WIDTH, 90), fill=(255, 255, 255))
    draw.text((40, 22), "10:41", font=small, fill=_BLACK)
    draw.text((880, 22), "5G 87%", font=small, fill=_BLACK)
    if layout == "taobao":
        draw.rectangle((0, 90, WIDTH, 230), fill=(255, 80, 0))
        draw.text((60, 125), "交易成功", font=big, fill=(255, 255, 255))
        _card(draw, 260, 620)
        draw.text((60, 290), f"{facts.shop} >", font=mid, fill=_BLACK)
        draw.rectangle((60, 370, 300, 610), fill=(200, 220, 210))
        draw.text((330, 380), facts.product, font=mid, fill=_BLACK)
        draw.text((330, 450), "颜色分类：默认", font=small, fill=_GREY)
        draw.text((330, 540), f"¥{facts.amount}", font=mid, fill=_BLACK)
        _card(draw, 650, 1300)
        rows = [("实付款", f"¥{facts.amount}"), ("订单编号", facts.order_number),
                ("创建时间", facts.order_time), ("付款时间", facts.payment_time),
                ("运单号", facts.tracking_number), ("签收时间", facts.sign_off_time)]
        y = 690
        for label, value in rows:
            draw.text((60, y), label, font=mid, fill=_GREY)
            width = draw.textlength(value, font=mid)
            draw.text((WIDTH - 60 - width, y), value, font=mid, fill=_RED if label == "实付款" else _BLACK)
            y += 100
    elif layout == "pinduoduo":
        draw.rectangle((0, 90, WIDTH, 200), fill=(255, 255, 255))
        draw.text((420, 115), "订单详情", font=big, fill=_BLACK)
        _card(draw, 230, 520)
        draw.text((60, 260), "已签收", font=big, fill=(60, 160, 60))
        draw.text((60, 340), f"签收时间：{facts.sign_off_time}", font=small, fill=_GREY)
        draw.text((60, 410), f"快递单号：{facts.tracking_number}", font=small, fill=_GREY)
        _card(draw, 550, 980)
        draw.text((60, 580), f"店铺：{facts.shop}", font=mid, fill=_BLACK)
        draw.rectangle((60, 660, 260, 860), fill=(230, 210, 160))
        draw.text((290, 670), facts.product, font=mid, fill=_BLACK)
        draw.text((290, 790), f"实付：¥{facts.amount}", font=mid, fill=_RED)
        _card(draw, 1010, 1400)
        y = 1040
        for line in (f"订单编号：{facts.order_number}", f"下单时间：{facts.order_time}",
                     f"支付时间：{facts.payment_time}", "支付方式：微信支付"):
            draw.text((60, y), line, font=mid, fill=_BLACK)
            y += 90
    elif layout == "jd":
        draw.rectangle((0, 90, WIDTH, 200), fill=(230, 30, 30))
        draw.text((60, 115), "订单详情", font=big, fill=(255, 255, 255))
        _card(draw, 230, 700)
        draw.text((60, 260), "物流信息", font=mid, fill=_BLACK)
        draw.text((60, 330), f"运单号 {facts.tracking_number}", font=small, fill=_GREY)
        draw.text((100, 410), "您的订单已签收，签收人：本人", font=small, fill=_BLACK)
        draw.text((100, 460), facts.sign_off_time, font=small, fill=_GREY)
        draw.text((100, 550), "快递员正在为您派件", font=small, fill=_GREY)
        draw.text((100, 600), facts.sign_off_time[:11] + "08:02:10", font=small, fill=_GREY)
        _card(draw, 730, 1100)
        draw.text((60, 760), facts.shop, font=mid, fill=_BLACK)
        draw.text((60, 840), facts.product, font=mid, fill=_BLACK)
        draw.text((60, 920), "数量：1", font=small, fill=_GREY)
        draw.text((60, 1000), f"合计 ¥{facts.amount}", font=mid, fill=_RED)
        _card(draw, 1130, 1500)
        y = 1160
        for label, value in (("订单号：", facts.order_number), ("下单时间：", facts.order_time),
                             ("付款时间：", facts.payment_time)):
            draw.text((60, y), label, font=mid, fill=_GREY)
            draw.text((320, y), value, font=mid, fill=_BLACK)
            y += 100
    else:
        raise ValueError(layout)
    return img


def _card(draw: ImageDraw.ImageDraw, top: int, bottom: int) -> None:
    draw.rounded_rectangle((20, top, WIDTH - 20, bottom), radius=24, fill=(255, 255, 255))


def png_bytes(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def wechat_copy(img: Image.Image) -> bytes:
    """What WeChat sends on: 720 px wide, JPEG at quality 70."""
    small = img.resize((720, round(img.height * 720 / img.width)), Image.Resampling.BILINEAR)
    buf = io.BytesIO()
    small.save(buf, "JPEG", quality=70)
    return buf.getvalue()
