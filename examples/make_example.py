"""Generate the example case: a complete, synthetic 抖音 livestream complaint.

    python examples/make_example.py [OUTDIR]     (default: examples/case)

Everything is drawn in code (seeded, so every run gives the same bytes): phone photos with EXIF
(one with GPS, one rotated), screenshots with Chinese text, a tall chat screenshot, a 千牛 chat
export in GB18030 with CRLF, and a short screen recording of the live room. No real person,
shop or order is depicted.
"""

from __future__ import annotations

import os
import random
import shutil
import sys
from datetime import datetime, timedelta, timezone
from importlib.resources import as_file, files
from pathlib import Path

import piexif
from PIL import Image, ImageDraw, ImageFont

SH = timezone(timedelta(hours=8))
HERE = Path(__file__).resolve().parent


def font(size: int) -> ImageFont.FreeTypeFont:
    with as_file(files("evidencekit.fonts") / "wqy-microhei.ttc") as path:
        return ImageFont.truetype(str(path), size, index=0)


def exif_bytes(when: datetime, *, gps: bool = False, orientation: int = 1) -> bytes:
    stamp = when.strftime("%Y:%m:%d %H:%M:%S").encode()
    exif: dict[str, dict[int, object]] = {
        "0th": {
            piexif.ImageIFD.Make: b"ExamplePhone",
            piexif.ImageIFD.Model: b"EP-1",
            piexif.ImageIFD.Orientation: orientation,
        },
        "Exif": {
            piexif.ExifIFD.DateTimeOriginal: stamp,
            piexif.ExifIFD.OffsetTimeOriginal: b"+08:00",
            piexif.ExifIFD.BodySerialNumber: b"SN-0000-EXAMPLE",
        },
        "GPS": {},
    }
    if gps:
        exif["GPS"] = {
            piexif.GPSIFD.GPSLatitudeRef: b"N",
            piexif.GPSIFD.GPSLatitude: ((31, 1), (13, 1), (4944, 100)),
            piexif.GPSIFD.GPSLongitudeRef: b"E",
            piexif.GPSIFD.GPSLongitude: ((121, 1), (28, 1), (2532, 100)),
        }
    return piexif.dump(exif)


def product_photo(path: Path, when: datetime, rng: random.Random, *, label: str, gps: bool = False,
                  rotate: bool = False) -> None:
    """A 1600×1200 'photo' of the bag, with noise so it compresses like a real photo."""
    w, h = 1600, 1200
    img = Image.new("RGB", (w, h), (196, 180, 160))
    d = ImageDraw.Draw(img)
    for _ in range(60):
        x, y = rng.randrange(w), rng.randrange(h)
        r = rng.randrange(20, 160)
        c = tuple(rng.randrange(120, 220) for _ in range(3))
        d.ellipse((x - r, y - r, x + r, y + r), fill=c)  # type: ignore[arg-type]
    d.rounded_rectangle((420, 300, 1180, 900), 40, fill=(92, 60, 38), outline=(40, 25, 15), width=8)
    d.arc((620, 140, 980, 460), 180, 360, fill=(40, 25, 15), width=22)
    d.text((460, 940), label, font=font(56), fill=(20, 20, 20))
    noise = Image.effect_noise((w, h), 24).convert("RGB")
    img = Image.blend(img, noise, 0.12)
    if rotate:
        # Stored sideways with Orientation=6, as phones do: the viewer must rotate it upright.
        img = img.transpose(Image.Transpose.ROTATE_90)
    img.save(path, "JPEG", quality=88, exif=exif_bytes(when, gps=gps, orientation=6 if rotate else 1))


def screenshot(path: Path, title: str, rows: list[tuple[str, str]], *, height: int = 2400,
               fmt: str = "PNG") -> None:
    w = 1080
    img = Image.new("RGB", (w, height), (245, 245, 245))
    d = ImageDraw.Draw(img)
    d.rectangle((0, 0, w, 180), fill=(254, 44, 85))
    d.text((60, 60), title, font=font(64), fill="white")
    y = 240
    for left, right in rows:
        d.rounded_rectangle((40, y, w - 40, y + 150), 24, fill="white")
        d.text((80, y + 45), left, font=font(46), fill=(60, 60, 60))
        d.text((w - 80, y + 45), right, font=font(46), fill=(20, 20, 20), anchor="ra")
        y += 180
        if y > height - 200:
            break
    img.save(path, fmt)


def chat_screenshot(path: Path, messages: list[tuple[str, str]]) -> None:
    """A long (1080×≈3900) customer-service chat screenshot: split across pages, never shrunk."""
    w, h = 1080, 5200
    img = Image.new("RGB", (w, h), (237, 237, 237))
    d = ImageDraw.Draw(img)
    d.rectangle((0, 0, w, 160), fill=(250, 250, 250))
    d.text((w // 2, 50), "好物优选旗舰店 客服", font=font(52), fill="black", anchor="ma")
    y = 220
    f = font(44)
    for side, text in messages:
        lines = [text[i : i + 16] for i in range(0, len(text), 16)]
        bh = 40 + 60 * len(lines)
        if side == "me":
            box = (w - 80 - 760, y, w - 80, y + bh)
            d.rounded_rectangle(box, 20, fill=(149, 236, 105))
        else:
            box = (80, y, 80 + 760, y + bh)
            d.rounded_rectangle(box, 20, fill="white")
        for i, line in enumerate(lines):
            d.text((box[0] + 30, y + 20 + 60 * i), line, font=f, fill="black")
        y += bh + 50
        if y > h - 300:
            break
    # A long screenshot ends where the conversation ends.
    img.crop((0, 0, w, min(h, y + 120))).save(path, "PNG")


QIANNIU_CHAT = [
    ("[买家小张] 2024-11-13 15:20:11", "你好，收到的包摸起来是人造革，不是直播间说的头层牛皮"),
    ("[好物优选旗舰店:小美] 2024-11-13 15:21:40", "亲，我们都是正品哦，可以看一下吊牌"),
    ("[买家小张] 2024-11-13 15:23:02", "吊牌上写的是PU，直播间主播说是头层牛皮，假一赔十"),
    ("[买家小张] 2024-11-13 15:23:30", "我要求退货退款，并按承诺赔偿"),
    ("", "当前用户来自 抖音直播间"),
    ("[好物优选旗舰店:小美] 2024-11-15 10:02:15", "亲，已经帮您反馈给主管了，请耐心等待"),
    ("[买家小张] 2024-11-15 10:05:00", "已经两天了，请给一个明确的处理时间"),
]


def qianniu_export() -> bytes:
    lines: list[str] = []
    for head, body in QIANNIU_CHAT:
        if head:
            lines.append(head)
        lines.append(body)
    return ("\r\n".join(lines) + "\r\n").encode("gb18030")


def recording(path: Path, seconds: int = 12) -> None:
    """A small 'screen recording' of the live room, the host's claim shown from 5 s to 9 s."""
    import av

    fps = 10
    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height = 360, 640
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": "28", "preset": "veryfast", "g": str(fps)}
        big, small = font(34), font(24)
        for i in range(seconds * fps):
            t = i / fps
            img = Image.new("RGB", (360, 640), (30, 30, 40))
            d = ImageDraw.Draw(img)
            d.rectangle((0, 0, 360, 70), fill=(254, 44, 85))
            d.text((20, 18), "好物优选直播间", font=big, fill="white")
            d.rounded_rectangle((60, 180, 300, 420), 20, fill=(92, 60, 38))
            d.text((20, 560), f"录屏 {t:05.1f}s", font=small, fill=(200, 200, 200))
            if 5 <= t < 9:
                d.rectangle((10, 440, 350, 540), fill=(255, 220, 0))
                d.text((24, 450), "头层牛皮 假一赔十", font=big, fill="black")
            frame = av.VideoFrame.from_image(img)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def credit_code_with_check(body17: str) -> str:
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
    total = sum(alphabet.index(c) * wt for c, wt in zip(body17, weights, strict=True))
    return body17 + alphabet[(31 - total % 31) % 31]


CASE_YAML = """\
# 示例案件（合成数据，不涉及真实人物、店铺或订单）
schema: 1
platform: douyin

complainant:
  name: 张小明
  phone: "13800138000"
  address: 上海市浦东新区世纪大道100号
  email: zhang@example.com

merchant:
  shop_name: 好物优选旗舰店
  company: 杭州好物优选电子商务有限公司
  credit_code: "{credit_code}"
  address: 浙江省杭州市西湖区文三路1号

livestream:
  room: 好物优选直播间
  host: 小美
  time: 2024-11-10 20:15

order:
  number: "6912345678901234567"
  time: 2024-11-10 20:31:05
  product: 头层牛皮女士手提包
  spec: 棕色 中号
  amount: 399
  quantity: 1
  signed_at: 2024-11-13 14:02
  confirmed_receipt: false

problem:
  type: not_as_shown
  summary: 直播间宣称头层牛皮、假一赔十，收到的包吊牌写明为 PU 人造革
  details: |
    11月10日在好物优选直播间观看直播，主播小美多次口头承诺"头层牛皮，假一赔十"。
    11月13日签收后发现包体为人造革，吊牌材质一栏写明 PU。联系客服两天未获处理。
  discovered_at: 2024-11-13 15:10

claims: [return_refund, punitive]

events:
  - time: 2024-11-13 15:20
    channel: seller
    note: 在线联系客服说明材质不符，要求退货退款并按承诺赔偿
  - time: 2024-11-15 10:05
    channel: seller
    note: 客服仍称"反馈主管"，未给处理时间

evidence:
  - file: evidence/livestream/Screenrecorder-2024-11-10-20-25-00-123.mp4
    title: 直播间录屏（主播承诺头层牛皮、假一赔十）
    proves: 直播间对商品材质的宣传与承诺
    moments:
      - "00:00:06 主播口播并打出字幕：头层牛皮 假一赔十"
  - file: evidence/product/IMG_20241113_151000.jpg
    title: 商品吊牌特写
    proves: 吊牌材质标注为 PU，与直播宣传不符
  - file: evidence/logistics/Screenshot_20241113-140500.png
    note: 签收人一行涉及他人信息，显示副本中已遮挡（原件未改动）
    redact: [[40, 780, 1000, 150]]   # x, y, 宽, 高（像素）
"""


def make_example(out: Path) -> Path:
    rng = random.Random(20241110)
    if out.exists():
        shutil.rmtree(out)
    ev = out / "evidence"
    for sub in ("order", "product", "livestream", "chat", "logistics", "payment"):
        (ev / sub).mkdir(parents=True)

    code = credit_code_with_check("91330106MA2B0K7L1")
    (out / "case.yaml").write_text(CASE_YAML.format(credit_code=code), encoding="utf-8")

    screenshot(ev / "order" / "Screenshot_2024-11-10-20-31-05-123_com.ss.android.ugc.aweme.jpg",
               "订单详情", [("订单编号", "6912345678901234567"), ("商品", "头层牛皮女士手提包"),
                           ("规格", "棕色 中号"), ("实付款", "¥399.00"), ("下单时间", "2024-11-10 20:31:05"),
                           ("店铺", "好物优选旗舰店")], fmt="JPEG")
    t0 = datetime(2024, 11, 13, 15, 10, 0, tzinfo=SH)
    product_photo(ev / "product" / "IMG_20241113_151000.jpg", t0, rng, label="吊牌：材质 PU", gps=True)
    product_photo(ev / "product" / "IMG_20241113_151230.jpg", t0 + timedelta(minutes=2, seconds=30), rng,
                  label="包体内侧：无皮纹", rotate=True)
    screenshot(ev / "logistics" / "Screenshot_20241113-140500.png", "物流详情",
               [("快递", "示例速运"), ("状态", "已签收"), ("签收时间", "2024-11-13 14:02"),
                ("签收人", "本人")], height=1600)
    screenshot(ev / "payment" / "mmexport1731242000000.jpg", "支付成功",
               [("金额", "¥399.00"), ("收款方", "抖音电商"), ("时间", "2024-11-10 20:31")],
               height=1400, fmt="JPEG")
    chat_screenshot(ev / "chat" / "Screenshot_2024-11-13-15-25-40-511_com.ss.android.ugc.aweme.png",
                    [("me" if "买家" in head else "other", body) for head, body in QIANNIU_CHAT if head] * 3)
    (ev / "chat" / "千牛聊天记录.txt").write_bytes(qianniu_export())
    recording(ev / "livestream" / "Screenrecorder-2024-11-10-20-25-00-123.mp4")

    # Fixed modification times, so the example is the same on every machine.
    fixed = datetime(2024, 11, 16, 9, 0, tzinfo=SH).timestamp()
    for path in sorted(ev.rglob("*")):
        if path.is_file():
            os.utime(path, (fixed, fixed))
    return out


def main(argv: list[str]) -> int:
    out = Path(argv[1]) if len(argv) > 1 else HERE / "case"
    make_example(out)
    print(f"示例案件已生成：{out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

