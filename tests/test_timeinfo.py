"""Capture-time parsing: file-name patterns, EXIF strings, timecodes and the source ranking."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import pytest
from factories import sh
from hypothesis import given
from hypothesis import strategies as st

from evidencekit.model import SHANGHAI, Stamp, TimeSource
from evidencekit.rules.filename_times import is_save_time
from evidencekit.timeinfo import (
    MTIME_DETAIL,
    parse_exif_datetime,
    resolve_capture_time,
    time_from_filename,
)

NEW_YORK_WINTER = timezone(timedelta(hours=-5))


def ms(*args: int) -> datetime:
    """Shanghai datetime whose last argument is milliseconds."""
    *rest, milli = args
    return sh(*rest).replace(microsecond=milli * 1000)


# File names as phones, screenshot tools and chat apps write them (plus the WeChat/QQ PC screenshot tools).
EXAMPLES = [
    ("Screenshot_20201215-090626.png", sh(2020, 12, 15, 9, 6, 26), "安卓截图文件名"),
    ("Screenshot_20201215-090626-display-1.png", sh(2020, 12, 15, 9, 6, 26), "安卓截图文件名"),
    ("Screenshot_20250822-170932.jpg", sh(2025, 8, 22, 17, 9, 32), "安卓截图文件名"),
    ("Screenshot_2025-10-28-19-07-16-918_com.tencent.mm.jpg", ms(2025, 10, 28, 19, 7, 16, 918),
     "小米截图文件名（应用：微信）"),
    ("Screenshot_2019-03-07-10-05-44-727_com.taobao.taobao.png", ms(2019, 3, 7, 10, 5, 44, 727),
     "小米截图文件名（应用：淘宝）"),
    ("Screenshot_2024-11-26-23-55-33-852_com.ss.android.ugc.aweme.jpg", ms(2024, 11, 26, 23, 55, 33, 852),
     "小米截图文件名（应用：抖音）"),
    ("Screenshot_2020-10-20-00-14-12-600_com.example.shop.jpg", ms(2020, 10, 20, 0, 14, 12, 600),
     "小米截图文件名（应用 com.example.shop）"),
    ("Screenshot_20200911_010907_com.ss.android.ugc.aweme.jpg", sh(2020, 9, 11, 1, 9, 7),
     "华为/荣耀截图文件名（应用：抖音）"),
    ("Screenshot_20250819_134438_com.taobao.taobao.jpg", sh(2025, 8, 19, 13, 44, 38),
     "华为/荣耀截图文件名（应用：淘宝）"),
    ("Screenshot_20201114_170057_com.tencent.mm.jpg", sh(2020, 11, 14, 17, 0, 57),
     "华为/荣耀截图文件名（应用：微信）"),
    ("Screenshot_20240508_221724_Grader.png", sh(2024, 5, 8, 22, 17, 24), "三星截图文件名（应用：Grader）"),
    ("Screenshot_20241108_094517_抖音.jpg", sh(2024, 11, 8, 9, 45, 17), "三星截图文件名（应用：抖音）"),
    ("Screenrecorder-2020-12-17-16-32-03-350.mp4", ms(2020, 12, 17, 16, 32, 3, 350), "小米录屏文件名"),
    ("Screenrecorder-2023-05-20-22-02-55-536.mp4", ms(2023, 5, 20, 22, 2, 55, 536), "小米录屏文件名"),
    ("SVID_20240805_113052_1.mp4", sh(2024, 8, 5, 11, 30, 52), "华为录屏文件名"),
    ("Screen_Recording_20201028-103621_Chrome_1.mp4", sh(2020, 10, 28, 10, 36, 21),
     "三星录屏文件名（应用：Chrome）"),
    ("Screen_Recording_20201028-103621_Chrome.mp4", sh(2020, 10, 28, 10, 36, 21),
     "三星录屏文件名（应用：Chrome）"),
    ("screen-20241111-203015.mp4", sh(2024, 11, 11, 20, 30, 15), "安卓录屏文件名"),
    ("IMG_20250617_142301.jpg", sh(2025, 6, 17, 14, 23, 1), "相机照片文件名"),
    ("VID_20250617_142301.mp4", sh(2025, 6, 17, 14, 23, 1), "相机视频文件名"),
    # 1723315770 = 2024-08-10 18:49:30 UTC
    ("RPReplay_Final1723315770.mov", sh(2024, 8, 11, 2, 49, 30), "iOS 录屏文件名（Unix 时间）"),
    ("RPReplay_Final1723315770.MP4", sh(2024, 8, 11, 2, 49, 30), "iOS 录屏文件名（Unix 时间）"),
    ("20240810_184930123_iOS.jpg", ms(2024, 8, 11, 2, 49, 30, 123), "iOS 导出文件名（UTC 时间）"),
    # 1760603131640 ms = 2025-10-16 08:25:31.640 UTC
    ("mmexport1760603131640.jpg", ms(2025, 10, 16, 16, 25, 31, 640), "微信保存时间（非拍摄时间）"),
    ("mmexport1716130574783.jpg", ms(2024, 5, 19, 22, 56, 14, 783), "微信保存时间（非拍摄时间）"),
    ("微信图片_20191205083903.jpg", sh(2019, 12, 5, 8, 39, 3), "微信电脑版保存时间（非拍摄时间）"),
    ("微信图片_20260319120931_921_3.jpg", sh(2026, 3, 19, 12, 9, 31), "微信电脑版保存时间（非拍摄时间）"),
    ("微信图片_20260512152744_63_4.png", sh(2026, 5, 12, 15, 27, 44), "微信电脑版保存时间（非拍摄时间）"),
    ("微信截图_20241114190012.png", sh(2024, 11, 14, 19, 0, 12), "微信电脑版截图文件名"),
    ("QQ图片20191018162208.jpg", sh(2019, 10, 18, 16, 22, 8), "QQ 电脑版保存时间（非拍摄时间）"),
    ("QQ截图20191018162208.png", sh(2019, 10, 18, 16, 22, 8), "QQ 电脑版截图文件名"),
    ("直播间 20241110_201500 主播承诺.png", sh(2024, 11, 10, 20, 15, 0), "文件名中的日期时间"),
    ("Screenshot_2016-03-12-10-30-45.png", sh(2016, 3, 12, 10, 30, 45), "文件名中的日期时间"),
]


@pytest.mark.parametrize(("name", "expected", "detail"), EXAMPLES)
def test_known_patterns(name: str, expected: datetime, detail: str) -> None:
    stamp = time_from_filename(name, SHANGHAI)
    assert stamp is not None
    assert stamp.time == expected
    assert stamp.time.utcoffset() == timedelta(hours=8)
    assert stamp.source is TimeSource.FILENAME
    assert stamp.detail == detail
    assert stamp.has_seconds


def test_local_patterns_are_read_in_the_given_zone() -> None:
    stamp = time_from_filename("Screenshot_20201215-090626.png", NEW_YORK_WINTER)
    assert stamp is not None and stamp.time is not None
    assert stamp.time.replace(tzinfo=None) == datetime(2020, 12, 15, 9, 6, 26)
    assert stamp.time.utcoffset() == timedelta(hours=-5)


def test_epoch_patterns_are_utc_converted_to_the_zone() -> None:
    stamp = time_from_filename("RPReplay_Final1723315770.mov", NEW_YORK_WINTER)
    assert stamp is not None and stamp.time is not None
    assert stamp.time == datetime(2024, 8, 10, 18, 49, 30, tzinfo=UTC)
    assert stamp.time.replace(tzinfo=None) == datetime(2024, 8, 10, 13, 49, 30)
    ios = time_from_filename("20240810_184930123_iOS.jpg", UTC)
    assert ios is not None and ios.time == datetime(2024, 8, 10, 18, 49, 30, 123000, tzinfo=UTC)


def test_path_and_nfd_name_are_accepted() -> None:
    import unicodedata

    nfd = unicodedata.normalize("NFD", "evidence/chat/微信图片_20191205083903.jpg")
    stamp = time_from_filename(nfd, SHANGHAI)
    assert stamp is not None and stamp.time == sh(2019, 12, 5, 8, 39, 3)


def test_package_without_extension_is_kept_whole() -> None:
    stamp = time_from_filename("Screenshot_20200911_010907_com.ss.android.ugc.aweme", SHANGHAI)
    assert stamp is not None and stamp.detail == "华为/荣耀截图文件名（应用：抖音）"


@pytest.mark.parametrize(
    "name",
    [
        "IMG_1234.PNG",  # iOS screenshot: no time in the name
        "WechatIMG655.jpeg",
        "商品照片.jpg",
        "Screenshot_20201315-090626.png",  # month 13
        "Screenshot_20210230-090626.png",  # 30 February
        "Screenshot_20201215-250626.png",  # 25 o'clock
        "IMG_19991231_235959.jpg",  # before 2000
        "mmexport0000000000000.jpg",
        "RPReplay_Final0000000001.mov",
        "订单号 6912345678901234567.png",  # a long number is not a date
    ],
)
def test_impossible_or_absent_times_give_none(name: str) -> None:
    assert time_from_filename(name, SHANGHAI) is None


def test_times_after_the_clock_are_rejected() -> None:
    name = "Screenshot_20241114-190012.png"
    assert time_from_filename(name, SHANGHAI, not_after=sh(2024, 11, 14, 19, 0, 11)) is None
    exact = time_from_filename(name, SHANGHAI, not_after=sh(2024, 11, 14, 19, 0, 12))
    assert exact is not None and exact.time == sh(2024, 11, 14, 19, 0, 12)
    # A naive clock is read in the zone, an aware one compared as an instant.
    assert time_from_filename(name, SHANGHAI, not_after=datetime(2024, 11, 14, 19, 0, 11)) is None
    assert time_from_filename(name, SHANGHAI, not_after=datetime(2024, 11, 14, 11, 0, 12, tzinfo=UTC))
    # Epoch names obey the clock too.
    assert time_from_filename("mmexport1760603131640.jpg", SHANGHAI, not_after=sh(2025, 1, 1)) is None


def test_generic_fallback_takes_the_first_plausible_date() -> None:
    stamp = time_from_filename("x 20241399_120000 then 20241114_190012.png", SHANGHAI)
    assert stamp is not None and stamp.time == sh(2024, 11, 14, 19, 0, 12)


def test_minutes_only_name_has_no_seconds() -> None:
    stamp = time_from_filename("直播 2024-11-14 19.05.png", SHANGHAI)
    assert stamp is not None
    assert stamp.time == sh(2024, 11, 14, 19, 5, 0)
    assert not stamp.has_seconds
    assert stamp.format_time() == "2024-11-14 19:05"


# ---------------------------------------------------------------------------------------------
# Round trip: any datetime written in a pattern's format reads back exactly
# ---------------------------------------------------------------------------------------------


def _local(fmt: str) -> Callable[[datetime], str]:
    return lambda t: t.strftime(fmt)


def _milli(fmt: str) -> Callable[[datetime], str]:
    return lambda t: t.strftime(fmt).replace("{ms}", f"{t.microsecond // 1000:03d}")


def _epoch_s(t: datetime) -> str:
    return f"RPReplay_Final{int(t.timestamp())}.mov"


def _epoch_ms(t: datetime) -> str:
    return f"mmexport{int(t.timestamp()) * 1000 + t.microsecond // 1000}.jpg"


def _ios_utc(t: datetime) -> str:
    u = t.astimezone(UTC)
    return f"{u:%Y%m%d_%H%M%S}{u.microsecond // 1000:03d}_iOS.jpg"


# pattern -> (formatter, whether the name keeps milliseconds)
FORMATS: dict[str, tuple[Callable[[datetime], str], bool]] = {
    "aosp": (_local("Screenshot_%Y%m%d-%H%M%S.png"), False),
    "aosp_display": (_local("Screenshot_%Y%m%d-%H%M%S-display-1.png"), False),
    "miui": (_milli("Screenshot_%Y-%m-%d-%H-%M-%S-{ms}_com.tencent.mm.jpg"), True),
    "huawei": (_local("Screenshot_%Y%m%d_%H%M%S_com.taobao.taobao.jpg"), False),
    "samsung": (_local("Screenshot_%Y%m%d_%H%M%S_Chrome.png"), False),
    "mi_recorder": (_milli("Screenrecorder-%Y-%m-%d-%H-%M-%S-{ms}.mp4"), True),
    "svid": (_local("SVID_%Y%m%d_%H%M%S_1.mp4"), False),
    "samsung_rec": (_local("Screen_Recording_%Y%m%d-%H%M%S_Chrome_1.mp4"), False),
    "aosp_rec": (_local("screen-%Y%m%d-%H%M%S.mp4"), False),
    "img": (_local("IMG_%Y%m%d_%H%M%S.jpg"), False),
    "vid": (_local("VID_%Y%m%d_%H%M%S.mp4"), False),
    "rpreplay": (_epoch_s, False),
    "ios_utc": (_ios_utc, True),
    "mmexport": (_epoch_ms, True),
    "wechat_pc": (_local("微信图片_%Y%m%d%H%M%S.jpg"), False),
    "wechat_pc_new": (_local("微信图片_%Y%m%d%H%M%S_921_3.jpg"), False),
    "qq": (_local("QQ图片%Y%m%d%H%M%S.jpg"), False),
    "generic": (_local("商品 %Y%m%d_%H%M%S.png"), False),
}

ZONES = st.sampled_from([SHANGHAI, UTC, NEW_YORK_WINTER, timezone(timedelta(hours=5, minutes=30))])


@pytest.mark.parametrize("pattern", sorted(FORMATS))
@given(
    moment=st.datetimes(min_value=datetime(2000, 1, 2), max_value=datetime(2099, 12, 30)),
    tz=ZONES,
)
def test_round_trip(pattern: str, moment: datetime, tz: timezone) -> None:
    fmt, keeps_ms = FORMATS[pattern]
    moment = moment.replace(microsecond=(moment.microsecond // 1000) * 1000 if keeps_ms else 0, tzinfo=tz)
    stamp = time_from_filename(fmt(moment), tz)
    assert stamp is not None, fmt(moment)
    assert stamp.time == moment
    assert stamp.time is not None and stamp.time.utcoffset() == moment.utcoffset()
    assert stamp.has_seconds


@given(st.text(max_size=80), ZONES)
def test_time_from_filename_never_raises(text: str, tz: timezone) -> None:
    stamp = time_from_filename(text, tz, not_after=datetime(2030, 1, 1, tzinfo=UTC))
    assert stamp is None or (stamp.time is not None and stamp.time.tzinfo is not None)


@given(st.from_regex(r"[A-Za-z_]{0,12}[0-9_\- .]{6,30}(\.jpg)?", fullmatch=True), ZONES)
def test_time_from_filename_never_raises_on_digit_soup(text: str, tz: timezone) -> None:
    stamp = time_from_filename(text, tz)
    assert stamp is None or (stamp.time is not None and stamp.time.year >= 2000)


# ---------------------------------------------------------------------------------------------
# EXIF strings
# ---------------------------------------------------------------------------------------------


def test_exif_with_offset_keeps_the_offset() -> None:
    assert parse_exif_datetime("2024:03:15 14:32:00", "+08:00", SHANGHAI) == sh(2024, 3, 15, 14, 32, 0)
    tokyo = parse_exif_datetime("2024:03:15 14:32:00", "+09:00", SHANGHAI)
    assert tokyo == datetime(2024, 3, 15, 14, 32, tzinfo=timezone(timedelta(hours=9)))
    assert tokyo is not None and tokyo.utcoffset() == timedelta(hours=9)
    assert parse_exif_datetime("2024:03:15 14:32:00", "-0530", UTC) == datetime(
        2024, 3, 15, 14, 32, tzinfo=timezone(-timedelta(hours=5, minutes=30)))


def test_exif_naive_is_read_in_zone() -> None:
    moment = parse_exif_datetime("2024:03:15 14:32:00", None, NEW_YORK_WINTER)
    assert moment == datetime(2024, 3, 15, 14, 32, tzinfo=NEW_YORK_WINTER)
    # An unreadable offset is treated as absent rather than guessed at.
    assert parse_exif_datetime("2024:03:15 14:32:00\x00", "+25:00", SHANGHAI) == sh(2024, 3, 15, 14, 32, 0)


@pytest.mark.parametrize(
    "value",
    ["", "    :  :     :  :  ", "0000:00:00 00:00:00", "2024:02:30 10:00:00", "2024:03:15 24:00:00",
     "garbage", "1980:01:01 00:00:00", "2024:03:15"],
)
def test_exif_garbage_is_none(value: str) -> None:
    assert parse_exif_datetime(value, "+08:00", SHANGHAI) is None


@given(st.text(max_size=40), st.one_of(st.none(), st.text(max_size=10)))
def test_exif_parser_never_raises(value: str, offset: str | None) -> None:
    moment = parse_exif_datetime(value, offset, SHANGHAI)
    assert moment is None or moment.tzinfo is not None


# ---------------------------------------------------------------------------------------------
# Which time wins
# ---------------------------------------------------------------------------------------------

DECLARED = sh(2024, 11, 10, 20, 0, 0)
EXIF = Stamp(sh(2024, 11, 10, 20, 1, 0), TimeSource.EXIF)
CONTAINER = Stamp(sh(2024, 11, 10, 20, 3, 0), TimeSource.CONTAINER)
FILENAME = Stamp(sh(2024, 11, 10, 20, 2, 0), TimeSource.FILENAME, "安卓截图文件名")
MTIME = sh(2024, 11, 20, 9, 0, 0)


def test_declared_wins_over_everything() -> None:
    stamp = resolve_capture_time(declared=DECLARED, embedded=EXIF, filename=FILENAME, mtime=MTIME)
    assert stamp.source is TimeSource.DECLARED and stamp.time == DECLARED


def test_exif_outranks_filename() -> None:
    stamp = resolve_capture_time(declared=None, embedded=EXIF, filename=FILENAME, mtime=MTIME)
    assert stamp == EXIF


def test_filename_outranks_container() -> None:
    stamp = resolve_capture_time(declared=None, embedded=CONTAINER, filename=FILENAME, mtime=MTIME)
    assert stamp == FILENAME


def test_container_outranks_mtime() -> None:
    stamp = resolve_capture_time(declared=None, embedded=CONTAINER, filename=None, mtime=MTIME)
    assert stamp == CONTAINER


def test_mtime_is_last_and_flagged_weak() -> None:
    stamp = resolve_capture_time(declared=None, embedded=None, filename=None, mtime=MTIME)
    assert stamp.source is TimeSource.MTIME and stamp.time == MTIME
    assert stamp.detail == MTIME_DETAIL == "复制或同步文件会改变此时间，证明力弱"
    assert stamp.source.weak


def test_nothing_gives_none() -> None:
    assert resolve_capture_time(declared=None, embedded=None, filename=None, mtime=None) == Stamp.none()
    empty = Stamp(None, TimeSource.EXIF)
    assert resolve_capture_time(declared=None, embedded=empty, filename=None, mtime=None) == Stamp.none()


def test_naive_declared_is_read_in_zone_and_minutes_only_kept() -> None:
    stamp = resolve_capture_time(declared=datetime(2024, 11, 10, 20, 0), embedded=None, filename=None,
                                 mtime=None, declared_has_seconds=False, tz=NEW_YORK_WINTER)
    assert stamp.time == datetime(2024, 11, 10, 20, 0, tzinfo=NEW_YORK_WINTER)
    assert not stamp.has_seconds


def test_save_time_names_are_told_apart_from_capture_names() -> None:
    saved = time_from_filename("mmexport1760603131640.jpg", SHANGHAI)
    recorded = time_from_filename("Screenrecorder-2024-11-11-20-30-00-123.mp4", SHANGHAI)
    assert saved is not None and is_save_time(saved)
    assert recorded is not None and not is_save_time(recorded)


@pytest.mark.parametrize(("minutes", "suffix"), [
    (330, " UTC+5:30"), (345, " UTC+5:45"), (-570, " UTC-9:30"), (540, " UTC+9"), (-300, " UTC-5"), (0, " UTC"),
    (480, ""),
])
def test_format_datetime_writes_fractional_offsets_as_hours_and_minutes(minutes: int, suffix: str) -> None:
    from evidencekit.model import format_datetime

    moment = datetime(2024, 11, 14, 19, 0, 12, tzinfo=timezone(timedelta(minutes=minutes)))
    assert format_datetime(moment) == "2024-11-14 19:00:12" + suffix
