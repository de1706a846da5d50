"""File-name times of Chinese phones and apps (issue 11 item 3; templates/filename_times.yaml).

The names below are written by us from each vendor's documented shape, not copied from anyone's
fixtures. Expected times are compared as instants: a name with an offset or ``Z`` is read in that
zone, a Pixel ``PXL_`` name is UTC, an epoch name is UTC, everything else is phone-local (UTC+8).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from importlib.resources import files
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from evidencekit.errors import TemplateError
from evidencekit.model import SHANGHAI, TimeSource
from evidencekit.rules.catalog import load_rules, load_rules_from
from evidencekit.rules.filename_times import FilenamePattern, find, is_save_time, stem_of
from evidencekit.timeinfo import time_from_filename

NEW_YORK = timezone(timedelta(hours=-5))


def sh(*args: int) -> datetime:
    """Shanghai time; a 7th argument is milliseconds."""
    y, mo, d, h, mi, s, *milli = args
    return datetime(y, mo, d, h, mi, s, (milli[0] if milli else 0) * 1000, tzinfo=SHANGHAI)


def utc(*args: int) -> datetime:
    return sh(*args).replace(tzinfo=UTC)


def at(offset_hours: float, *args: int) -> datetime:
    return sh(*args).replace(tzinfo=timezone(timedelta(hours=offset_hours)))


def md5(package: str) -> str:
    return hashlib.md5(package.encode()).hexdigest()


WECHAT, DOUYIN, TAOBAO, KUAISHOU = md5("com.tencent.mm"), md5("com.ss.android.ugc.aweme"), \
    md5("com.taobao.taobao"), md5("com.smile.gifmaker")
PDD, ALIPAY, JD = md5("com.xunmeng.pinduoduo"), md5("com.eg.android.AlipayGphone"), md5("com.jingdong.app.mall")

# ms epoch 1731582012345 = 2024-11-14 11:00:12.345 UTC = 19:00:12.345 in Shanghai
MS = 1731582012345

# name, expected instant or None, text the detail must contain ("" = don't check), save time?
ROWS: list[tuple[str, datetime | None, str, bool]] = [
    # OPPO / realme / OnePlus camera
    ("IMG20250704102740.jpg", sh(2025, 7, 4, 10, 27, 40), "OPPO", False),
    ("VID20250704102740.mp4", sh(2025, 7, 4, 10, 27, 40), "OPPO", False),
    ("IMG20241231235959.heic", sh(2024, 12, 31, 23, 59, 59), "OPPO", False),
    ("IMG20250704102740_BURST003.jpg", sh(2025, 7, 4, 10, 27, 40), "OPPO", False),
    ("IMG20250704102740_01.jpg", sh(2025, 7, 4, 10, 27, 40), "OPPO", False),
    ("IMG20251304102740.jpg", None, "", False),  # month 13
    ("IMG20250230102740.jpg", None, "", False),  # 30 February
    # ColorOS screenshots / recordings ending in md5(package)
    (f"Screenshot_2024-11-14-19-00-12-34_{WECHAT}.jpg", sh(2024, 11, 14, 19, 0, 12, 340), "微信", False),
    (f"Screenshot_2024-11-14-19-00-12-05_{DOUYIN}.jpg", sh(2024, 11, 14, 19, 0, 12, 50), "抖音", False),
    (f"Screenshot_2025-01-02-08-09-10-99_{TAOBAO}.png", sh(2025, 1, 2, 8, 9, 10, 990), "淘宝", False),
    (f"Screenshot_2025-03-04-21-30-00-00_{KUAISHOU}.jpg", sh(2025, 3, 4, 21, 30, 0), "快手", False),
    (f"Screenshot_2025-03-04-21-30-00-11_{PDD}.jpg", sh(2025, 3, 4, 21, 30, 0, 110), "拼多多", False),
    (f"Screenshot_2025-03-04-21-30-00-11_{ALIPAY}.jpg", sh(2025, 3, 4, 21, 30, 0, 110), "支付宝", False),
    (f"Screenshot_2025-03-04-21-30-00-11_{JD}.jpg", sh(2025, 3, 4, 21, 30, 0, 110), "京东", False),
    (f"Screenshot_2025-03-04-21-30-00-11_{'0' * 32}.jpg", sh(2025, 3, 4, 21, 30, 0, 110), "ColorOS", False),
    (f"Record_2024-11-14-19-00-12_{DOUYIN}.mp4", sh(2024, 11, 14, 19, 0, 12), "抖音", False),
    (f"Record_2024-11-14-19-00-12_{WECHAT}.mp4", sh(2024, 11, 14, 19, 0, 12), "微信", False),
    (f"Screenshot_2024-13-14-19-00-12-34_{WECHAT}.jpg", None, "", False),
    # WeChat
    (f"wx_camera_{MS}.jpg", sh(2024, 11, 14, 19, 0, 12, 345), "微信相机", False),
    (f"wx_camera_{MS}.mp4", sh(2024, 11, 14, 19, 0, 12, 345), "微信相机", False),
    (f"mmexport{MS}.jpg", sh(2024, 11, 14, 19, 0, 12, 345), "微信", True),
    (f"mmexport{'4a9c' * 8}_{MS}.jpeg", sh(2024, 11, 14, 19, 0, 12, 345), "微信", True),
    (f"mmexport{'ab12' * 8}_{MS}.mp4", sh(2024, 11, 14, 19, 0, 12, 345), "微信", True),
    (f"microMsg.{MS}.jpg", sh(2024, 11, 14, 19, 0, 12, 345), "微信", True),
    ("microMsg.1731582012345", sh(2024, 11, 14, 19, 0, 12, 345), "微信", True),
    ("微信图片_20241114190012.jpg", sh(2024, 11, 14, 19, 0, 12), "微信电脑版", True),
    ("微信图片_20241114190012_12_3.jpg", sh(2024, 11, 14, 19, 0, 12), "微信电脑版", True),
    ("mmexport0000000000000.jpg", None, "", False),
    # QQ / TIM
    ("TIM图片20191018162208.jpg", sh(2019, 10, 18, 16, 22, 8), "TIM", True),
    ("TIM截图20191018162208.png", sh(2019, 10, 18, 16, 22, 8), "TIM", False),
    ("QQ图片20191018162208.jpg", sh(2019, 10, 18, 16, 22, 8), "QQ", True),
    ("TIM图片20191318162208.jpg", None, "", False),
    # iOS
    ("ScreenRecording_11-14-2024 19-00-12_1.MP4", sh(2024, 11, 14, 19, 0, 12), "iOS", False),
    ("ScreenRecording_01-02-2025 08-09-10_1.mov", sh(2025, 1, 2, 8, 9, 10), "iOS", False),
    ("ScreenRecording_13-02-2025 08-09-10_1.MP4", None, "", False),  # MM-DD: month 13
    ("RPReplay_Final1731582012.MP4", sh(2024, 11, 14, 19, 0, 12), "iOS", False),
    ("20241114_110012345_iOS.jpg", sh(2024, 11, 14, 19, 0, 12, 345), "iOS", False),
    # macOS
    ("截屏2024-11-14 19.00.12.png", sh(2024, 11, 14, 19, 0, 12), "macOS", False),
    ("截屏2024-11-14 下午7.00.12.png", sh(2024, 11, 14, 19, 0, 12), "macOS", False),
    ("截屏2024-11-14 上午12.00.12.png", sh(2024, 11, 14, 0, 0, 12), "macOS", False),
    ("Screenshot 2019-05-21 at 10.45.52.png", sh(2019, 5, 21, 10, 45, 52), "macOS", False),
    ("Screenshot 2024-11-14 at 7.00.12\u202fPM.png", sh(2024, 11, 14, 19, 0, 12), "macOS", False),
    ("Screen Shot 2019-05-21 at 10.45.52 AM.png", sh(2019, 5, 21, 10, 45, 52), "macOS", False),
    ("Screen Shot 2019-05-21 at 12.45.52 PM.png", sh(2019, 5, 21, 12, 45, 52), "macOS", False),
    ("Screen Shot 2019-05-21 at 12.05.52 AM.png", sh(2019, 5, 21, 0, 5, 52), "macOS", False),
    ("Screen Recording 2024-11-14 at 19.00.12.mov", sh(2024, 11, 14, 19, 0, 12), "macOS", False),
    ("屏幕快照 2019-05-21 下午10.45.52.png", sh(2019, 5, 21, 22, 45, 52), "macOS", False),
    ("Screenshot 2019-05-21 at 25.45.52.png", None, "", False),
    ("Screen Shot 2019-05-21 at 13.45.52 PM.png", None, "", False),  # 13 PM is not a time
    # Google Pixel: UTC
    ("PXL_20241114_110012345.jpg", utc(2024, 11, 14, 11, 0, 12, 345), "Pixel", False),
    ("PXL_20241114_110012345.MP.jpg", utc(2024, 11, 14, 11, 0, 12, 345), "Pixel", False),
    ("PXL_20241114_110012345.NIGHT.jpg", utc(2024, 11, 14, 11, 0, 12, 345), "Pixel", False),
    ("PXL_20241113_200012345.mp4", utc(2024, 11, 13, 20, 0, 12, 345), "Pixel", False),
    ("PXL_20241114_110012345~2.jpg", utc(2024, 11, 14, 11, 0, 12, 345), "Pixel", False),
    ("PXL_20241114_250012345.jpg", None, "", False),
    # e-invoice downloads
    ("dzfp_25442000000123456789_某某电子商务有限公司_20250704102740.pdf",
     sh(2025, 7, 4, 10, 27, 40), "电子发票", True),
    ("dzfp_24312000000987654321_上海某某_科技有限公司_20241114190012.pdf",
     sh(2024, 11, 14, 19, 0, 12), "电子发票", True),
    ("dzfp_25442000000123456789_某某公司_20250704102740.ofd", sh(2025, 7, 4, 10, 27, 40), "电子发票", True),
    ("dzfp_25442000000123456789_某某公司_20251404102740.pdf", None, "", False),
    # explicit offsets and Z
    ("2024-11-14T11:00:12Z.png", utc(2024, 11, 14, 11, 0, 12), "", False),
    ("20241114T110012Z.jpg", utc(2024, 11, 14, 11, 0, 12), "", False),
    ("录屏 2024-11-14T19:00:12+08:00.mp4", sh(2024, 11, 14, 19, 0, 12), "", False),
    ("2024-11-14T06:00:12-05:00.jpg", at(-5, 2024, 11, 14, 6, 0, 12), "", False),
    ("2024-11-14 06.00.12-0500.jpg", at(-5, 2024, 11, 14, 6, 0, 12), "", False),
    ("photo_20241114_160012+0500.jpg", at(5, 2024, 11, 14, 16, 0, 12), "", False),
    ("2024-11-14T19:00:12+0800 订单.png", sh(2024, 11, 14, 19, 0, 12), "", False),
    ("2024-11-14T13:30:12+05:30.jpg", at(5.5, 2024, 11, 14, 13, 30, 12), "", False),
    # generic shapes
    ("2024-02-29 23:59:59.png", sh(2024, 2, 29, 23, 59, 59), "", False),
    ("直播 2024-02-29 23:59:59 截图.png", sh(2024, 2, 29, 23, 59, 59), "", False),
    ("2023-02-29 23:59:59.png", None, "", False),  # not a leap year
    ("2019-10-31 155703.jpg", sh(2019, 10, 31, 15, 57, 3), "", False),
    ("2019-10-31_155703.jpg", sh(2019, 10, 31, 15, 57, 3), "", False),
    ("20241114190012.jpg", sh(2024, 11, 14, 19, 0, 12), "", False),
    ("主播承诺20241114190012.png", sh(2024, 11, 14, 19, 0, 12), "", False),
    ("38271649502837.jpg", None, "", False),  # 14 random digits
    ("20241114996012.jpg", None, "", False),
    ("20241114_190012.jpg", sh(2024, 11, 14, 19, 0, 12), "", False),
    ("20241114_190012_001.jpg", sh(2024, 11, 14, 19, 0, 12), "", False),  # Samsung burst
    ("IMG_20241114_112233_BURST001.jpg", sh(2024, 11, 14, 11, 22, 33), "相机", False),
    ("IMG_20241114_112233_BURST001_COVER.jpg", sh(2024, 11, 14, 11, 22, 33), "相机", False),
    ("IMG_20241114_112233_1.jpg", sh(2024, 11, 14, 11, 22, 33), "相机", False),
    ("IMG_20241114_112233.jpg", sh(2024, 11, 14, 11, 22, 33), "相机", False),
    ("VID_20241114_112233.mp4", sh(2024, 11, 14, 11, 22, 33), "相机", False),
    ("Screenshot_2025-10-28-19-07-16-918_com.tencent.mm.jpg", sh(2025, 10, 28, 19, 7, 16, 918), "微信", False),
    ("Screenshot_20250819_134438_com.taobao.taobao.jpg", sh(2025, 8, 19, 13, 44, 38), "淘宝", False),
    ("Screenshot_20240508_221724_抖音.jpg", sh(2024, 5, 8, 22, 17, 24), "三星", False),
    ("Screenshot_20250822-170932.jpg", sh(2025, 8, 22, 17, 9, 32), "截图", False),
    ("Screenrecorder-2023-05-20-22-02-55-536.mp4", sh(2023, 5, 20, 22, 2, 55, 536), "小米", False),
    ("SVID_20240805_113052_1.mp4", sh(2024, 8, 5, 11, 30, 52), "华为", False),
    # digits that only look like a date
    ("IMG_18991231_235959.jpg", None, "", False),
    ("IMG_22000101_000000.jpg", None, "", False),
    ("21991231235959.jpg", None, "", False),
    ("18991231235959.jpg", None, "", False),
    ("2024-11-14 25:00:12.png", None, "", False),
    ("2024-11-14 19:61:12.png", None, "", False),
    ("订单号 6912345678901234567.png", None, "", False),
    ("IMG_1234.PNG", None, "", False),
    ("WechatIMG655.jpeg", None, "", False),
    ("Screenshot_20201315-090626.png", None, "", False),
]


@pytest.mark.parametrize(("name", "expected", "detail", "saved"), ROWS)
def test_name_table(name: str, expected: datetime | None, detail: str, saved: bool) -> None:
    stamp = time_from_filename(name, SHANGHAI)
    if expected is None:
        assert stamp is None, stamp
        return
    assert stamp is not None and stamp.time is not None
    assert stamp.source is TimeSource.FILENAME
    assert stamp.time == expected  # as instants
    assert stamp.time.utcoffset() is not None
    assert detail in stamp.detail, stamp.detail
    assert is_save_time(stamp) is saved, stamp.detail


def test_table_is_large_enough() -> None:
    assert len(ROWS) >= 80
    assert sum(1 for row in ROWS if row[1] is None) >= 15


def test_utc_names_do_not_depend_on_the_zone() -> None:
    for tz in (SHANGHAI, UTC, NEW_YORK):
        pxl = time_from_filename("PXL_20241114_110012345.jpg", tz)
        assert pxl is not None and pxl.time == datetime(2024, 11, 14, 11, 0, 12, 345000, tzinfo=UTC)
        z = time_from_filename("20241114T110012Z.jpg", tz)
        assert z is not None and z.time == datetime(2024, 11, 14, 11, 0, 12, tzinfo=UTC)
        local = time_from_filename("IMG20241114110012.jpg", tz)
        assert local is not None and local.time is not None
        assert local.time.replace(tzinfo=None) == datetime(2024, 11, 14, 11, 0, 12)
        assert local.time.utcoffset() == tz.utcoffset(None)


def test_offset_in_the_name_is_kept_and_named() -> None:
    stamp = time_from_filename("2024-11-14T06:00:12-05:00.jpg", SHANGHAI)
    assert stamp is not None and stamp.time is not None
    assert stamp.time.utcoffset() == timedelta(hours=-5)
    assert "-05:00" in stamp.detail


def test_details_are_chinese_and_name_the_app() -> None:
    stamp = time_from_filename(f"Screenshot_2024-11-14-19-00-12-34_{DOUYIN}.jpg", SHANGHAI)
    assert stamp is not None and stamp.detail == "OPPO/一加/realme（ColorOS）截图文件名（应用：抖音）"
    saved = time_from_filename(f"mmexport{MS}.jpg", SHANGHAI)
    assert saved is not None and saved.detail.endswith("（非拍摄时间）")
    camera = time_from_filename(f"wx_camera_{MS}.jpg", SHANGHAI)
    assert camera is not None and not is_save_time(camera)
    invoice = time_from_filename("dzfp_25442000000123456789_某某公司_20250704102740.pdf", SHANGHAI)
    assert invoice is not None and invoice.detail == "电子发票下载时间（非拍摄时间）"
    # Samsung-shaped names without an app label do not claim to be Samsung.
    bare = time_from_filename("Screenshot_20241114_190012.jpg", SHANGHAI)
    assert bare is not None and bare.detail == "截图文件名"
    bare_rec = time_from_filename("Screen_Recording_20241114-190012.mp4", SHANGHAI)
    assert bare_rec is not None and bare_rec.detail == "录屏文件名"
    pixel = time_from_filename("PXL_20241114_110012345.jpg", SHANGHAI)
    assert pixel is not None and "UTC" in pixel.detail


def test_not_after_still_applies() -> None:
    clock = sh(2024, 11, 14, 19, 0, 11)
    assert time_from_filename("PXL_20241114_110012345.jpg", SHANGHAI, not_after=clock) is None
    assert time_from_filename(f"wx_camera_{MS}.jpg", SHANGHAI, not_after=clock) is None
    assert time_from_filename("IMG20241114190012.jpg", SHANGHAI, not_after=clock) is None
    assert time_from_filename("IMG20241114190011.jpg", SHANGHAI, not_after=clock) is not None


# ---------------------------------------------------------------------------------------------
# Property: a datetime written in a pattern's shape reads back as the same instant
# ---------------------------------------------------------------------------------------------


def _local(fmt: str) -> Callable[[datetime], str]:
    return lambda t: t.strftime(fmt).replace("{cs}", f"{t.microsecond // 10000:02d}") \
        .replace("{ms}", f"{t.microsecond // 1000:03d}")


def _utc(fmt: str) -> Callable[[datetime], str]:
    return lambda t: _local(fmt)(t.astimezone(UTC))


def _epoch_ms(fmt: str) -> Callable[[datetime], str]:
    return lambda t: fmt.format(int(t.timestamp()) * 1000 + t.microsecond // 1000)


def _offset(fmt: str) -> Callable[[datetime], str]:
    def write(t: datetime) -> str:
        off = t.utcoffset() or timedelta()
        minutes = int(off.total_seconds()) // 60
        sign = "-" if minutes < 0 else "+"
        text = f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
        return t.strftime(fmt).replace("{off}", text)

    return write


def _twelve(t: datetime) -> str:
    hour = t.hour % 12 or 12
    return f"Screenshot {t:%Y-%m-%d} at {hour}.{t:%M.%S}\u202f{'PM' if t.hour >= 12 else 'AM'}.png"


# shape -> (writer, resolution in microseconds)
SHAPES: dict[str, tuple[Callable[[datetime], str], int]] = {
    "oppo": (_local("IMG%Y%m%d%H%M%S.jpg"), 1_000_000),
    "oppo_vid": (_local("VID%Y%m%d%H%M%S.mp4"), 1_000_000),
    "coloros": (_local(f"Screenshot_%Y-%m-%d-%H-%M-%S-{{cs}}_{WECHAT}.jpg"), 10_000),
    "coloros_rec": (_local(f"Record_%Y-%m-%d-%H-%M-%S_{TAOBAO}.mp4"), 1_000_000),
    "wx_camera": (_epoch_ms("wx_camera_{}.jpg"), 1000),
    "mmexport_md5": (_epoch_ms("mmexport" + "c0ffee00" * 4 + "_{}.mp4"), 1000),
    "micromsg": (_epoch_ms("microMsg.{}.jpg"), 1000),
    "tim": (_local("TIM图片%Y%m%d%H%M%S.jpg"), 1_000_000),
    "ios18_rec": (_local("ScreenRecording_%m-%d-%Y %H-%M-%S_1.MP4"), 1_000_000),
    "mac_cn": (_local("截屏%Y-%m-%d %H.%M.%S.png"), 1_000_000),
    "mac_en": (_local("Screenshot %Y-%m-%d at %H.%M.%S.png"), 1_000_000),
    "mac_12h": (_twelve, 1_000_000),
    "pixel": (_utc("PXL_%Y%m%d_%H%M%S{ms}.jpg"), 1000),
    "dzfp": (_local("dzfp_25442000000123456789_某某公司_%Y%m%d%H%M%S.pdf"), 1_000_000),
    "colon": (_local("%Y-%m-%d %H:%M:%S.png"), 1_000_000),
    "dashed_compact": (_local("%Y-%m-%d %H%M%S.jpg"), 1_000_000),
    "compact14": (_local("%Y%m%d%H%M%S.jpg"), 1_000_000),
    "burst": (_local("IMG_%Y%m%d_%H%M%S_BURST001.jpg"), 1_000_000),
    "iso_offset": (_offset("%Y-%m-%dT%H:%M:%S{off}.jpg"), 1_000_000),
    "iso_z": (_utc("%Y%m%dT%H%M%SZ.jpg"), 1_000_000),
}

ZONES = st.sampled_from([SHANGHAI, UTC, NEW_YORK, timezone(timedelta(hours=5, minutes=30))])


@pytest.mark.parametrize("shape", sorted(SHAPES))
@given(moment=st.datetimes(min_value=datetime(2000, 1, 2), max_value=datetime(2099, 12, 30)), tz=ZONES,
       written_in=ZONES)
def test_round_trip(shape: str, moment: datetime, tz: timezone, written_in: timezone) -> None:
    write, resolution = SHAPES[shape]
    moment = moment.replace(microsecond=moment.microsecond // resolution * resolution, tzinfo=written_in)
    if shape not in ("iso_offset",) and not shape.startswith(("pixel", "iso_z", "wx_", "mmexport", "micro")):
        moment = moment.replace(tzinfo=tz)  # local shapes are read in the case's zone
    name = write(moment)
    stamp = time_from_filename(name, tz)
    assert stamp is not None, name
    assert stamp.time == moment, name


# ---------------------------------------------------------------------------------------------
# The table itself: every entry's example is read by that entry; a broken entry fails at load
# ---------------------------------------------------------------------------------------------


def _patterns() -> list[FilenamePattern]:
    return list(load_rules().filename_times.patterns)


@pytest.mark.parametrize("pattern", _patterns(), ids=lambda p: p.key)
def test_every_example_is_read_by_its_own_entry(pattern: FilenamePattern) -> None:
    assert find(pattern, stem_of(pattern.example)), pattern.example
    stamp = time_from_filename(pattern.example, SHANGHAI)
    assert stamp is not None and stamp.time is not None, pattern.example
    assert stamp.detail.startswith((pattern.detail, pattern.detail_without_app)), (pattern.key, stamp.detail)
    assert is_save_time(stamp) is pattern.is_save


def test_required_vendors_are_covered() -> None:
    keys = {p.key for p in _patterns()}
    assert {"oppo_camera", "coloros_screenshot", "coloros_record", "wechat_camera", "wechat_save",
            "wechat_micromsg", "tim_image", "ios18_record", "macos_screenshot_cn", "macos_screenshot_en",
            "pixel_camera", "e_invoice", "generic_compact"} <= keys
    assert next(p for p in _patterns() if p.key == "pixel_camera").zone == "utc"


def test_md5_names_come_from_the_packages() -> None:
    assert md5("com.tencent.mm") == "e39d2c7de19156b0683cd93e8735f348"
    assert md5("com.ss.android.ugc.aweme") == "2332cb9b27b851b548ba47a91682926c"
    assert md5("com.taobao.taobao") == "090d9ae461b065ca11c329abb9cd0d70"
    assert md5("com.smile.gifmaker") == "73230ea9d8560975a5358fd7bd043f47"


def _copy(tmp_path: Path) -> Path:
    folder = tmp_path / "templates"
    folder.mkdir()
    source = files("evidencekit.templates")
    for entry in source.iterdir():
        if entry.name.endswith(".yaml"):
            (folder / entry.name).write_text(entry.read_text("utf-8"), "utf-8")
    return folder


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("    meaning: capture\n    zone: utc\n    regex: 'PXL_", "    meaning: taken\n    zone: utc\n    regex: 'PXL_",
         "meaning"),
        ("zone: utc\n    regex: 'PXL_", "zone: gmt\n    regex: 'PXL_", "zone"),
        ("regex: 'PXL_{date}_{time}{ms}'", "regex: 'PXL_{date}_({time}{ms}'", "正则"),
        ("regex: 'PXL_{date}_{time}{ms}'", "regex: 'PXL_{date}'", "年月日时分"),
        ("example: PXL_20241114_110012345.jpg", "example: PXL_20241314_110012345.jpg", "合理的时间"),
        ("example: PXL_20241114_110012345.jpg", "example: IMG_1234.jpg", "对不上"),
        ("regex: 'wx_camera_{epoch_ms}'", "regex: 'wx_camera_(?P<when>\\d+)'", "分组名"),
        ("  - key: tim_screenshot", "  - key: tim_image", "重复"),
    ],
)
def test_broken_entries_fail_at_load(tmp_path: Path, old: str, new: str, message: str) -> None:
    folder = _copy(tmp_path)
    path = folder / "filename_times.yaml"
    text = path.read_text("utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), "utf-8")
    with pytest.raises(TemplateError) as info:
        load_rules_from(folder)
    assert "filename_times.yaml" in info.value.message
    assert message in info.value.message, info.value.message
