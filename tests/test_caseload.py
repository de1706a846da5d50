"""caseload: case.yaml → Case, every problem at once, paths kept inside the case folder."""

from __future__ import annotations

import dataclasses
import time
import unicodedata
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from factories import sh, write_file
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evidencekit.case import load as caseload
from evidencekit.case.load import (
    CLAIMS,
    EVENT_KEYS,
    EVIDENCE_KEYS,
    PROBLEM_TYPES,
    TOP_LEVEL_KEYS,
    find_case_file,
    load_case,
    parse_case_time,
    parse_timezone,
    render_case_template,
    yaml_quote,
)
from evidencekit.errors import CaseFileError, CaseFolderError, CaseProblem, ExitCode
from evidencekit.model import (
    SHANGHAI,
    Complainant,
    Event,
    EventChannel,
    EvidenceKind,
    EvidenceOverride,
    Livestream,
    Merchant,
    Order,
    Problem,
)

TOKYO = timezone(timedelta(hours=9))


def write_case(root: Path, text: str, encoding: str = "utf-8", name: str = "case.yaml") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    path = root / name
    path.write_bytes(text.encode(encoding))
    return path


def problems_of(root: Path) -> list[CaseProblem]:
    with pytest.raises(CaseFileError) as info:
        load_case(root)
    assert info.value.exit_code == ExitCode.CASE_INVALID
    return info.value.problems


def only_problem(root: Path) -> CaseProblem:
    problems = problems_of(root)
    assert len(problems) == 1, [p.render() for p in problems]
    return problems[0]


FULL_CASE = """\
# 我的案件
schema: 1
platform: douyin
complainant:
  name: 张三
  phone: 13800138000
  address: 上海市浦东新区世纪大道100号
  email: zhang@example.com
merchant:
  shop_name: 好物优选旗舰店
  company: 杭州好物优选电子商务有限公司
  credit_code: 91330106MA2B0XXXXX
  address: 浙江省杭州市西湖区文三路1号
livestream:
  room: 好物优选直播间
  host: 小美
  room_id: 123456789
  time: 2024-11-10 20:15
  replay_url: https://example.com/replay
order:
  number: 6912345678901234567
  time: 2024-11-10 20:31:05
  product: 真皮女士手提包
  spec: 黑色
  amount: 399.00
  quantity: 1
  category: bags
  signed_at: 2024/11/13 14:02
  confirmed_receipt: false
problem:
  type: not_as_shown
  summary: 收到的包是人造革
  details: |
    直播间宣称头层牛皮。
    收到后发现是人造革。
  discovered_at: 2024年11月14日 19:00
claims: [return_refund, punitive]
events:
  - time: 2024-11-14 20:05
    channel: seller
    note: 联系客服
    ref: 1024
  - channel: 12315
evidence:
  - file: evidence/livestream/rec.mp4
    kind: livestream
    title: 直播录屏
    proves: 主播承诺头层牛皮
    time: 2024-11-10 20:15:00
    note: 手机录屏
    redact: [[0, 0, 300, 80], [10, 20, 30, 40]]
    moments:
      - 00:12:31 主播承诺假一赔十
      - 12:31
"""


def test_full_case_loads_every_field(tmp_path: Path) -> None:
    write_case(tmp_path, FULL_CASE)
    write_file(tmp_path / "evidence/livestream/rec.mp4", b"v")
    case = load_case(tmp_path)
    assert case.root == tmp_path.resolve()
    assert case.has_case_file and case.schema == 1 and case.platform == "douyin"
    assert case.tz is SHANGHAI
    assert case.complainant == Complainant("张三", "13800138000", "上海市浦东新区世纪大道100号",
                                           "zhang@example.com")
    assert case.merchant == Merchant("好物优选旗舰店", "杭州好物优选电子商务有限公司",
                                     "91330106MA2B0XXXXX", "浙江省杭州市西湖区文三路1号")
    assert case.livestream == Livestream("好物优选直播间", "小美", "123456789", sh(2024, 11, 10, 20, 15),
                                         "https://example.com/replay")
    assert case.order == Order(
        number="6912345678901234567", time=sh(2024, 11, 10, 20, 31, 5), product="真皮女士手提包",
        spec="黑色", amount=Decimal("399.00"), quantity=1, category="bags",
        signed_at=sh(2024, 11, 13, 14, 2), confirmed_receipt=False,
    )
    assert case.problem == Problem("not_as_shown", "收到的包是人造革",
                                   "直播间宣称头层牛皮。\n收到后发现是人造革。", sh(2024, 11, 14, 19, 0))
    assert case.claims == ("return_refund", "punitive")
    assert case.events == (
        Event(sh(2024, 11, 14, 20, 5), "seller", "联系客服", "1024"),
        Event(None, "12315"),
    )
    assert case.evidence == (EvidenceOverride(
        file="evidence/livestream/rec.mp4", kind=EvidenceKind.LIVESTREAM, title="直播录屏",
        proves="主播承诺头层牛皮", time=sh(2024, 11, 10, 20, 15), note="手机录屏",
        redact=((0, 0, 300, 80), (10, 20, 30, 40)),
        moments=("00:12:31 主播承诺假一赔十", "12:31"),
    ),)
    assert case.override_for("evidence/livestream/rec.mp4") is case.evidence[0]


def test_long_numbers_keep_every_digit(tmp_path: Path) -> None:
    # As YAML ints or floats these would lose digits or leading zeros.
    write_case(tmp_path, "order:\n  number: 69123456789012345678901\ncomplainant:\n  phone: 013800138000\n"
                         "merchant:\n  credit_code: 913301060000000001\nlivestream:\n  room_id: 1.50\n")
    case = load_case(tmp_path)
    assert case.order.number == "69123456789012345678901"
    assert case.complainant.phone == "013800138000"
    assert case.merchant.credit_code == "913301060000000001"
    assert case.livestream.room_id == "1.50"


# -- zero-config and the folder itself ---------------------------------------------------------


def test_folder_without_case_file_is_zero_config(tmp_path: Path) -> None:
    (tmp_path / "evidence").mkdir()
    case = load_case(tmp_path)
    assert case.has_case_file is False
    assert case.root == tmp_path.resolve()
    assert case.order == Order() and case.evidence == ()
    assert find_case_file(tmp_path) is None


def test_empty_or_comment_only_case_file_gives_defaults(tmp_path: Path) -> None:
    write_case(tmp_path, "# 还没填\n\n")
    case = load_case(tmp_path)
    assert case.has_case_file is True
    assert case.platform == "" and case.claims == ()


def test_case_yml_is_accepted(tmp_path: Path) -> None:
    write_case(tmp_path, "platform: kuaishou\n", name="case.yml")
    assert find_case_file(tmp_path) == tmp_path / "case.yml"
    assert load_case(tmp_path).platform == "kuaishou"


def test_both_case_yaml_and_case_yml_is_a_problem(tmp_path: Path) -> None:
    write_case(tmp_path, "platform: kuaishou\n", name="case.yml")
    write_case(tmp_path, "platform: douyin\n")
    assert "case.yml" in only_problem(tmp_path).message


def test_missing_folder_is_folder_error_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "没有这个案件"
    with pytest.raises(CaseFolderError) as info:
        load_case(missing)
    assert info.value.exit_code == ExitCode.FOLDER_UNUSABLE
    assert str(missing) in info.value.message


def test_a_file_is_not_a_case_folder(tmp_path: Path) -> None:
    file = write_file(tmp_path / "case.txt", b"x")
    with pytest.raises(CaseFolderError) as info:
        load_case(file)
    assert str(file) in info.value.message


# -- the file as bytes ---------------------------------------------------------------------------


def test_gbk_encoded_case_file_loads(tmp_path: Path) -> None:
    write_case(tmp_path, "complainant:\n  name: 张三\n  address: 广东省深圳市\n", encoding="gbk")
    assert load_case(tmp_path).complainant.name == "张三"


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16"])
def test_bom_encoded_case_file_loads(tmp_path: Path, encoding: str) -> None:
    write_case(tmp_path, "complainant:\n  name: 李四\n", encoding=encoding)
    assert load_case(tmp_path).complainant.name == "李四"


def test_oversized_case_file_is_refused(tmp_path: Path) -> None:
    write_case(tmp_path, "# " + "x" * (1024 * 1024) + "\n")
    assert "过大" in only_problem(tmp_path).message


def test_case_file_linking_outside_the_folder_is_refused(tmp_path: Path) -> None:
    secret = write_file(tmp_path / "secret.yaml", b"platform: douyin\n")
    case_dir = tmp_path / "case"
    case_dir.mkdir()
    (case_dir / "case.yaml").symlink_to(secret)
    assert caseload._OUTSIDE in only_problem(case_dir).message


# -- problems ------------------------------------------------------------------------------------


def test_yaml_syntax_error_names_line_and_column(tmp_path: Path) -> None:
    write_case(tmp_path, "platform: douyin\norder:\n  number: 1\n   product: x\n")
    problem = only_problem(tmp_path)
    assert problem.line == 4
    assert "第 " in problem.message and "列" in problem.message
    assert problem.value == "product: x"


def test_full_width_colon_gets_a_hint(tmp_path: Path) -> None:
    write_case(tmp_path, "complainant:\n  name: 张三\n  phone：13800138000\n")
    problem = only_problem(tmp_path)
    assert problem.line == 3
    assert "中文冒号" in problem.message


def test_unknown_key_suggests_the_right_one(tmp_path: Path) -> None:
    write_case(tmp_path, "complainent:\n  name: 张三\norder:\n  numbr: '1'\nshop_name: 店\n订单: x\n")
    problems = problems_of(tmp_path)
    found = {p.key_path: p for p in problems}
    assert found["complainent"].suggestion == "complainant" and found["complainent"].line == 1
    assert found["order.numbr"].suggestion == "number" and found["order.numbr"].line == 4
    assert found["shop_name"].suggestion == "merchant.shop_name"
    assert found["订单"].suggestion == "order"
    assert "您是不是想写 complainant" in problems[0].render()


def test_wrong_types_are_reported(tmp_path: Path) -> None:
    write_case(tmp_path, "complainant: 张三\norder:\n  number: [1, 2]\nclaims: {a: 1}\n")
    found = {p.key_path: p for p in problems_of(tmp_path)}
    assert set(found) == {"complainant", "order.number", "claims"}
    assert "键值表" in found["complainant"].message and found["complainant"].value == "张三"
    assert "列表" in found["order.number"].message and found["order.number"].line == 3
    assert "列表" in found["claims"].message


def test_bad_enum_values_list_what_is_allowed(tmp_path: Path) -> None:
    write_case(tmp_path, "platform: pdd\nproblem:\n  type: not_as_shwon\nclaims: [refnd]\n"
                         "events:\n  - channel: wechat\n")
    found = {p.key_path: p for p in problems_of(tmp_path)}
    assert "douyin" in found["platform"].expected and "platform_name" in found["platform"].expected
    assert found["problem.type"].suggestion == "not_as_shown"
    assert found["claims[0]"].suggestion == "refund"
    assert "seller" in found["events[0].channel"].expected


def test_bad_time_is_reported_with_the_value(tmp_path: Path) -> None:
    write_case(tmp_path, "order:\n  time: 昨天晚上\n  signed_at: 2024-13-01 10:00\n")
    found = {p.key_path: p for p in problems_of(tmp_path)}
    assert found["order.time"].value == "昨天晚上" and found["order.time"].line == 2
    assert "2024-11-14" in found["order.time"].expected
    assert found["order.signed_at"].line == 3


@pytest.mark.parametrize(("value", "words"), [
    ("-1", "负数"), ("abc", "不是金额"), ("1.005", "两位小数"), ("1e20", "过大"), (".nan", "不是金额"),
])
def test_bad_amounts(tmp_path: Path, value: str, words: str) -> None:
    write_case(tmp_path, f"order:\n  amount: {value}\n")
    problem = only_problem(tmp_path)
    assert problem.key_path == "order.amount" and words in problem.message


@pytest.mark.parametrize(("value", "expected"), [
    ("399", "399.00"), ("'¥1,299.5'", "1299.50"), ("299元", "299.00"), ("0", "0.00"),
])
def test_amount_forms(tmp_path: Path, value: str, expected: str) -> None:
    write_case(tmp_path, f"order:\n  amount: {value}\n")
    amount = load_case(tmp_path).order.amount
    assert amount == Decimal(expected) and str(amount) == expected


@pytest.mark.parametrize("value", ["0", "-2", "1.5", "true", "99999999999"])
def test_quantity_must_be_a_positive_int(tmp_path: Path, value: str) -> None:
    write_case(tmp_path, f"order:\n  quantity: {value}\n")
    assert only_problem(tmp_path).key_path == "order.quantity"


def test_schema_must_be_1(tmp_path: Path) -> None:
    write_case(tmp_path, "schema: 2\n")
    assert only_problem(tmp_path).expected == "1"


def test_duplicate_key_is_reported(tmp_path: Path) -> None:
    write_case(tmp_path, "platform: douyin\nplatform: taobao\n")
    problem = only_problem(tmp_path)
    assert problem.key_path == "platform" and problem.line == 2


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    write_case(tmp_path, "- a\n- b\n")
    assert only_problem(tmp_path).key_path == caseload._TOP


def test_several_problems_are_reported_at_once_in_line_order(tmp_path: Path) -> None:
    write_case(tmp_path, "platfrom: douyin\norder:\n  amount: -5\n  time: 明天\n"
                         "evidence:\n  - file: ../../etc/hostname\n  - file: nothing.png\n")
    with pytest.raises(CaseFileError) as info:
        load_case(tmp_path)
    problems = info.value.problems
    assert [(p.key_path, p.line) for p in problems] == [
        ("platfrom", 1), ("order.amount", 3), ("order.time", 4),
        ("evidence[0].file", 6), ("evidence[1].file", 7),
    ]
    assert "5 处问题" in info.value.message
    assert "第 3 行 order.amount" in info.value.message


# -- evidence paths ------------------------------------------------------------------------------


def test_path_traversal_is_refused_naming_the_key(tmp_path: Path) -> None:
    write_case(tmp_path, "evidence:\n  - file: ../../etc/hostname\n")
    with pytest.raises(CaseFileError) as info:
        load_case(tmp_path)
    assert info.value.exit_code == 3
    (problem,) = info.value.problems
    assert problem.key_path == "evidence[0].file"
    assert "路径超出案件文件夹" in problem.message and problem.line == 2
    assert "evidence[0].file" in info.value.render()


@pytest.mark.parametrize("path", ["/etc/hostname", "C:/Windows/win.ini", "evidence/../../x.png",
                                  "evidence\\..\\..\\x.png"])
def test_absolute_and_dotdot_paths_are_refused(tmp_path: Path, path: str) -> None:
    write_case(tmp_path, f"evidence:\n  - file: {yaml_quote(path)}\n")
    problem = only_problem(tmp_path)
    assert problem.key_path == "evidence[0].file" and "路径超出案件文件夹" in problem.message


def test_symlink_leaving_the_folder_is_refused(tmp_path: Path) -> None:
    outside = write_file(tmp_path / "outside.png", b"x")
    case_dir = tmp_path / "case"
    (case_dir / "evidence/order").mkdir(parents=True)
    (case_dir / "evidence/order/a.png").symlink_to(outside)
    (case_dir / "evidence/linkdir").symlink_to(tmp_path, target_is_directory=True)
    write_case(case_dir, "evidence:\n  - file: evidence/order/a.png\n"
                         "  - file: evidence/linkdir/outside.png\n")
    problems = problems_of(case_dir)
    assert [p.key_path for p in problems] == ["evidence[0].file", "evidence[1].file"]
    assert all("路径超出案件文件夹" in p.message for p in problems)


def test_symlink_inside_the_folder_is_fine(tmp_path: Path) -> None:
    write_file(tmp_path / "evidence/order/a.png", b"x")
    (tmp_path / "evidence/order/b.png").symlink_to(tmp_path / "evidence/order/a.png")
    write_case(tmp_path, "evidence:\n  - file: evidence/order/b.png\n")
    assert load_case(tmp_path).evidence[0].file == "evidence/order/b.png"


def test_missing_file_and_directory_are_reported(tmp_path: Path) -> None:
    (tmp_path / "evidence/order").mkdir(parents=True)
    write_case(tmp_path, "evidence:\n  - file: evidence/order/nope.png\n  - file: evidence/order\n"
                         "  - title: 没写文件\n")
    found = {p.key_path: p for p in problems_of(tmp_path)}
    assert "不存在" in found["evidence[0].file"].message
    assert "不是普通文件" in found["evidence[1].file"].message
    assert "缺少 file" in found["evidence[2]"].message


def test_path_relative_to_evidence_is_normalised(tmp_path: Path) -> None:
    write_file(tmp_path / "evidence/order/a.png", b"x")
    write_file(tmp_path / "evidence/chat/b.png", b"x")
    write_case(tmp_path, "evidence:\n  - file: order/a.png\n  - file: ./evidence//chat/b.png\n"
                         "  - file: 'evidence\\order\\a.png'\n")
    problems = problems_of(tmp_path)  # the third names the same file as the first
    assert [p.key_path for p in problems] == ["evidence[2].file"]
    write_case(tmp_path, "evidence:\n  - file: order/a.png\n  - file: ./evidence//chat/b.png\n")
    assert [e.file for e in load_case(tmp_path).evidence] == ["evidence/order/a.png", "evidence/chat/b.png"]


def test_paths_are_stored_nfc(tmp_path: Path) -> None:
    name = "évidence照片.png"
    write_file(tmp_path / "evidence/product" / unicodedata.normalize("NFD", name), b"x")
    write_case(tmp_path, f"evidence:\n  - file: product/{unicodedata.normalize('NFD', name)}\n")
    assert load_case(tmp_path).evidence[0].file == f"evidence/product/{unicodedata.normalize('NFC', name)}"


def test_moments_need_a_leading_timecode(tmp_path: Path) -> None:
    write_file(tmp_path / "evidence/livestream/r.mp4", b"x")
    write_case(tmp_path, "evidence:\n  - file: livestream/r.mp4\n    moments:\n"
                         "      - 1:02:03.5 说明\n      - 主播承诺假一赔十\n      - 00:61:00 错\n"
                         "      - 75:10\n      - 00：12：31 全角冒号\n")
    problems = problems_of(tmp_path)
    assert [(p.key_path, p.line) for p in problems] == [
        ("evidence[0].moments[1]", 5), ("evidence[0].moments[2]", 6)]
    assert "时间码" in problems[0].message


@pytest.mark.parametrize(("redact", "ok"), [
    ("[[0, 0, 10, 10]]", ((0, 0, 10, 10),)),
    ("[5, 6, 7, 8]", ((5, 6, 7, 8),)),
    ("[[0, 0, 0, 10]]", None),
    ("[[-1, 0, 10, 10]]", None),
    ("[[0, 0, 10]]", None),
    ("[[0, 0, 1.5, 10]]", None),
    ("oops", None),
])
def test_redact_rectangles(tmp_path: Path, redact: str, ok: tuple[tuple[int, ...], ...] | None) -> None:
    write_file(tmp_path / "evidence/chat/a.png", b"x")
    write_case(tmp_path, f"evidence:\n  - file: chat/a.png\n    redact: {redact}\n")
    if ok is None:
        assert only_problem(tmp_path).key_path.startswith("evidence[0].redact")
    else:
        assert load_case(tmp_path).evidence[0].redact == ok


def test_alias_bomb_stops_with_a_case_file_error(tmp_path: Path) -> None:
    moments = ", ".join(["'00:01 x'"] * 400)
    items = "\n".join(["  - {file: a, moments: *m}"] * 400)
    write_case(tmp_path, f"x: &m [{moments}]\nevidence:\n{items}\n")
    started = time.perf_counter()
    problems = problems_of(tmp_path)
    assert time.perf_counter() - started < 10  # a guard against a hang, not a timing test
    assert any("过于复杂" in p.message for p in problems)


def test_problem_list_is_capped(tmp_path: Path) -> None:
    write_case(tmp_path, "claims:\n" + "".join(f"  - bad{i}\n" for i in range(150)))
    problems = problems_of(tmp_path)
    assert len(problems) == caseload._MAX_PROBLEMS + 1
    assert "另有 50 处" in problems[-1].message


# -- aliases and time zones ----------------------------------------------------------------------


@pytest.mark.parametrize(("alias", "platform"), [("抖音", "douyin"), ("淘宝", "taobao"), ("天猫", "taobao"),
                                                  ("快手", "kuaishou"), ("Douyin", "douyin")])
def test_platform_aliases(tmp_path: Path, alias: str, platform: str) -> None:
    write_case(tmp_path, f"platform: {alias}\n")
    assert load_case(tmp_path).platform == platform


def test_other_chinese_aliases(tmp_path: Path) -> None:
    write_file(tmp_path / "evidence/订单/a.png", b"x")
    write_case(tmp_path, "claims: [退货退款, 假一赔三, punitive]\nevents:\n  - channel: 商家\n"
                         "order:\n  confirmed_receipt: 是\nevidence:\n  - file: 订单/a.png\n    kind: 订单\n")
    case = load_case(tmp_path)
    assert case.claims == ("return_refund", "punitive")
    assert case.events[0].channel is EventChannel.SELLER
    assert case.order.confirmed_receipt is True
    assert case.evidence[0].kind is EvidenceKind.ORDER and case.evidence[0].file == "evidence/订单/a.png"


@pytest.mark.parametrize(("word", "key"), [("假冒商品", "counterfeit"), ("假货", "counterfeit"),
                                          ("货不对板", "not_as_shown"), ("Counterfeit", "counterfeit")])
def test_problem_type_accepts_the_chinese_label_and_aliases(tmp_path: Path, word: str, key: str) -> None:
    write_case(tmp_path, f"problem:\n  type: {word}\n")
    assert load_case(tmp_path).problem.type == key


def test_an_unknown_choice_lists_the_chinese_choices(tmp_path: Path) -> None:
    write_case(tmp_path, "platform: 拼夕夕\nproblem:\n  type: 假的\nclaims: [退钱]\n")
    by_path = {p.key_path: p for p in problems_of(tmp_path)}
    assert "douyin 抖音 / taobao 淘宝" in by_path["platform"].expected
    assert "counterfeit 假冒商品" in by_path["problem.type"].expected
    assert "return_refund 退货退款" in by_path["claims[0]"].expected


def test_case_timezone_applies_to_naive_times_only(tmp_path: Path) -> None:
    write_case(tmp_path, "timezone: '+09:00'\norder:\n  time: 2024-11-10 20:31\n"
                         "  signed_at: 2024-11-13T14:02:00+08:00\n")
    case = load_case(tmp_path)
    assert case.tz.utcoffset(None) == timedelta(hours=9)
    assert case.order.time == datetime(2024, 11, 10, 20, 31, tzinfo=TOKYO)
    assert case.order.signed_at == sh(2024, 11, 13, 14, 2)


def test_named_timezone_and_bad_timezone(tmp_path: Path) -> None:
    write_case(tmp_path, "timezone: Asia/Tokyo\nlivestream:\n  time: 2024-11-10 20:15\n")
    case = load_case(tmp_path)
    assert case.tz == ZoneInfo("Asia/Tokyo")
    assert case.livestream.time == datetime(2024, 11, 10, 20, 15, tzinfo=TOKYO)
    write_case(tmp_path, "timezone: Mars/Olympus\n")
    assert only_problem(tmp_path).key_path == "timezone"


@pytest.mark.parametrize(("text", "expected"), [
    ("2024-11-14", sh(2024, 11, 14, 0, 0)),
    ("2024-11-14 19:21", sh(2024, 11, 14, 19, 21)),
    ("2024-11-14 19:21:40", sh(2024, 11, 14, 19, 21, 40)),
    ("2024/11/14 19:21", sh(2024, 11, 14, 19, 21)),
    ("2024-1-5 9:05", sh(2024, 1, 5, 9, 5)),
    ("2024年11月14日 19:21", sh(2024, 11, 14, 19, 21)),
    ("2024年11月14日19时21分", sh(2024, 11, 14, 19, 21)),
    ("2024年11月14日 19时21分40秒", sh(2024, 11, 14, 19, 21, 40)),
    ("2024-11-14T19:21:40+08:00", sh(2024, 11, 14, 19, 21, 40)),
    ("2024-11-14T11:21:40Z", sh(2024, 11, 14, 19, 21, 40)),
    ("2024-11-14 19:21:40.5 +8", sh(2024, 11, 14, 19, 21, 40, 500000)),
    ("2024-11-14 06:21:40 -05:00", sh(2024, 11, 14, 19, 21, 40)),
])
def test_time_formats(text: str, expected: datetime) -> None:
    parsed = parse_case_time(text, SHANGHAI)
    assert parsed == expected and parsed.tzinfo is not None


@pytest.mark.parametrize("text", ["2024-11-14 25:00", "11-14 19:21", "昨天", "2024-02-30", "2024-11-1419:21",
                                  "2024-11-14 19:21 +15:00"])
def test_bad_time_formats(text: str) -> None:
    with pytest.raises(ValueError):
        parse_case_time(text, SHANGHAI)


def test_timezone_forms() -> None:
    assert parse_timezone("Asia/Shanghai") is SHANGHAI
    assert parse_timezone("+08:00") is SHANGHAI
    assert parse_timezone("UTC+9").utcoffset(None) == timedelta(hours=9)
    assert parse_timezone("-0330").utcoffset(None) == -timedelta(hours=3, minutes=30)
    for bad in ("", "../etc/passwd", "Asia", "+25:00"):
        with pytest.raises(ValueError):
            parse_timezone(bad)


# -- the template --------------------------------------------------------------------------------


ANSWERS = {
    "platform": "抖音",
    "problem_type": "not_as_shown",
    "order_number": "6912345678901234567",
    "product": '真皮手提包: 黑色 #1 "限量"',
    "amount": "¥399",
}


def test_rendered_template_loads_and_gives_the_answers_back(tmp_path: Path) -> None:
    write_case(tmp_path, render_case_template(ANSWERS))
    case = load_case(tmp_path)
    assert case.platform == "douyin"
    assert case.problem.type == "not_as_shown"
    assert case.order.number == "6912345678901234567"
    assert case.order.product == '真皮手提包: 黑色 #1 "限量"'
    assert case.order.amount == Decimal("399.00")


def test_template_without_answers_loads_as_empty(tmp_path: Path) -> None:
    write_case(tmp_path, render_case_template({}))
    case = load_case(tmp_path)
    assert (case.platform, case.order, case.problem, case.claims, case.events, case.evidence) == (
        "", Order(), Problem(), (), (), ())
    assert case.tz is SHANGHAI


def test_template_names_every_key_of_the_schema() -> None:
    root = yaml.compose(render_case_template({}), Loader=yaml.SafeLoader)
    assert isinstance(root, yaml.MappingNode)
    top = {k.value: v for k, v in root.value}
    assert tuple(top) == TOP_LEVEL_KEYS
    for section, cls in [("complainant", Complainant), ("merchant", Merchant), ("livestream", Livestream),
                         ("order", Order), ("problem", Problem)]:
        assert [k.value for k, _ in top[section].value] == [f.name for f in dataclasses.fields(cls)]
    text = render_case_template({})
    for key in EVENT_KEYS + EVIDENCE_KEYS + PROBLEM_TYPES + CLAIMS:
        assert key in text, key


def test_template_rejects_unknown_answers() -> None:
    with pytest.raises(ValueError):
        render_case_template({"ordernumber": "1"})


def test_allowed_values_match_the_rule_templates() -> None:
    # The rules engine reads these files; a type or claim known to one side only is a bug.
    def keys(name: str, section: str) -> set[str]:
        text = resources.files("evidencekit.templates").joinpath(name).read_text("utf-8")
        return set(yaml.safe_load(text)[section])

    assert keys("problem_types.yaml", "types") == set(PROBLEM_TYPES)
    assert keys("problem_types.yaml", "claims") == set(CLAIMS)
    assert keys("platforms.yaml", "platforms") == set(caseload.PLATFORMS)
    assert keys("evidence_kinds.yaml", "kinds") == set(caseload.EVIDENCE_KINDS)


def test_key_lists_match_the_model() -> None:
    assert tuple(f.name for f in dataclasses.fields(Event)) == EVENT_KEYS
    assert tuple(f.name for f in dataclasses.fields(EvidenceOverride)) == EVIDENCE_KEYS


@given(st.text())
def test_yaml_quote_round_trips(text: str) -> None:
    assert yaml.safe_load(yaml_quote(text)) == text
    assert yaml.safe_load(f"k: {yaml_quote(text)}  # c\n") == {"k": text}


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=40))
def test_any_answer_round_trips_through_the_template(text: str) -> None:
    rendered = render_case_template({"product": text})
    node = yaml.safe_load(rendered)
    assert node["order"]["product"] == (text.strip() or None)


# -- robustness ----------------------------------------------------------------------------------

_HYPOTHESIS = settings(max_examples=150, deadline=None,
                       suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

_KEYS = st.sampled_from([*TOP_LEVEL_KEYS, *EVENT_KEYS, *EVIDENCE_KEYS, "number", "amount", "name", "x", "0"])
_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=20),
                     st.sampled_from(["../x", "/etc/hostname", "00:12:31 a", "2024-11-14 19:21", "抖音"]))
_TREES = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(_KEYS, inner, max_size=5), max_leaves=25)


@_HYPOTHESIS
@given(st.binary(max_size=300) | st.text(max_size=300).map(lambda t: t.encode("utf-8", "surrogatepass")))
def test_arbitrary_bytes_load_or_raise_case_file_error(tmp_path: Path, data: bytes) -> None:
    (tmp_path / "case.yaml").write_bytes(data)
    try:
        load_case(tmp_path)
    except CaseFileError as exc:
        assert exc.problems and exc.render()


@_HYPOTHESIS
@given(st.dictionaries(_KEYS, _TREES, max_size=8))
def test_arbitrary_trees_load_or_raise_case_file_error(tmp_path: Path, tree: dict[str, object]) -> None:
    (tmp_path / "case.yaml").write_text(yaml.safe_dump(tree, allow_unicode=True), encoding="utf-8")
    try:
        load_case(tmp_path)
    except CaseFileError as exc:
        assert all(p.key_path for p in exc.problems)


_YAMLISH = st.lists(st.sampled_from([
    *TOP_LEVEL_KEYS, *EVIDENCE_KEYS, "number", "amount", ": ", ":", "\n", "  ", "- ", "[", "]", "{", "}",
    ", ", "&a ", "*a", "'", '"', "# c", "~", "null", "-1", "0", "1e9", "2024-11-14 19:21", "00:12:31 x",
    "../",
    "/etc/hostname", "evidence/x.png", "：", "\t", "|\n", "!!binary ", "!x ", "<<: ", "? ", "---\n", "\\",
]), max_size=60).map("".join)


@_HYPOTHESIS
@given(_YAMLISH)
def test_yaml_like_text_loads_or_raises_case_file_error(tmp_path: Path, text: str) -> None:
    (tmp_path / "case.yaml").write_text(text, encoding="utf-8")
    try:
        load_case(tmp_path)
    except CaseFileError as exc:
        assert exc.problems and all(p.key_path for p in exc.problems)


def test_event_channels_load_as_the_enum_whatever_yaml_makes_of_them(tmp_path: Path) -> None:
    # An unquoted 12315 is an int to YAML; quoted, a string; left out, the channel is "other".
    write_case(tmp_path, 'events:\n  - channel: 12315\n  - channel: "12315"\n  - channel: 平台\n  - note: 打过电话\n')
    channels = [e.channel for e in load_case(tmp_path).events]
    assert channels == [EventChannel.COMPLAINT_12315, EventChannel.COMPLAINT_12315, EventChannel.PLATFORM,
                        EventChannel.OTHER]
    assert all(type(c) is EventChannel for c in channels)


# ---------------------------------------------------------------------------------------------
# evidence[].number: the exhibit number recorded by add/build
# ---------------------------------------------------------------------------------------------


def _numbered_case(tmp_path: Path, entries: str) -> Path:
    for name in ("a.jpg", "b.jpg"):
        write_file(tmp_path / "evidence" / "product" / name, b"x")
    (tmp_path / "case.yaml").write_text("schema: 1\nevidence:\n" + entries, encoding="utf-8")
    return tmp_path


def test_evidence_number_is_read(tmp_path: Path) -> None:
    root = _numbered_case(tmp_path, "  - file: evidence/product/a.jpg\n    number: 7\n"
                                    "  - file: evidence/product/b.jpg\n")
    case = load_case(root)
    assert [(e.file, e.number) for e in case.evidence] == [
        ("evidence/product/a.jpg", 7), ("evidence/product/b.jpg", None)]


@pytest.mark.parametrize("value", ["0", "-3", "二", "1.5", "007x", "9999999999"])
def test_evidence_number_must_be_a_positive_integer(tmp_path: Path, value: str) -> None:
    root = _numbered_case(tmp_path, f"  - file: evidence/product/a.jpg\n    number: {value}\n")
    with pytest.raises(CaseFileError) as info:
        load_case(root)
    assert info.value.exit_code == ExitCode.CASE_INVALID
    [problem] = info.value.problems
    assert problem.key_path == "evidence[0].number" and problem.line == 4
    assert "正整数" in problem.message


def test_a_repeated_evidence_number_names_both_entries(tmp_path: Path) -> None:
    root = _numbered_case(tmp_path, "  - file: evidence/product/a.jpg\n    number: 3\n"
                                    "  - file: evidence/product/b.jpg\n    number: 3\n")
    with pytest.raises(CaseFileError) as info:
        load_case(root)
    [problem] = info.value.problems
    assert problem.key_path == "evidence[1].number" and problem.line == 6
    assert "证据编号 3" in problem.message and "evidence[0]" in problem.message
    assert "第 6 行" in info.value.render()


def test_a_numbered_entry_whose_file_is_gone_keeps_its_number_retired(tmp_path: Path) -> None:
    root = _numbered_case(tmp_path, "  - file: evidence/product/a.jpg\n    number: 1\n"
                                    "  - file: evidence/product/gone.jpg\n    number: 2\n")
    case = load_case(root)
    assert [e.file for e in case.evidence] == ["evidence/product/a.jpg"]
    assert case.retired_numbers == ((2, "evidence/product/gone.jpg"),)


def test_an_unnumbered_entry_whose_file_is_gone_is_still_an_error(tmp_path: Path) -> None:
    root = _numbered_case(tmp_path, "  - file: evidence/product/gone.jpg\n    title: 没了\n")
    with pytest.raises(CaseFileError) as info:
        load_case(root)
    assert info.value.problems[0].message == "文件不存在"


# ---------------------------------------------------------------------------------------------
# libyaml composes case.yaml where its tree equals the pure-Python composer's
# ---------------------------------------------------------------------------------------------


def _composed(text: str, monkeypatch: pytest.MonkeyPatch, fast: bool) -> object:
    """Every node's kind, tag, value, style and marks, or the problems, as one comparable value."""
    with monkeypatch.context() as patch:
        if not fast:
            patch.setattr(caseload, "_FAST_LOADER", None)
        try:
            top = caseload.parse_case_yaml(text, "case.yaml")
        except CaseFileError as exc:
            return [dataclasses.astuple(problem) for problem in exc.problems]
    nodes: list[tuple[object, ...]] = []
    stack = [top] if top is not None else []
    while stack:
        node = stack.pop()
        # A plain scalar's style is "" from libyaml and None from the pure-Python composer.
        style = node.style or None if isinstance(node, yaml.ScalarNode) else node.flow_style
        value = node.value if isinstance(node, yaml.ScalarNode) else len(node.value)
        nodes.append((type(node).__name__, node.tag, value, style, *(
            (mark.index, mark.line, mark.column) for mark in (node.start_mark, node.end_mark))))
        if isinstance(node, yaml.MappingNode):
            stack.extend(part for pair in node.value for part in pair)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
    return nodes


# The case.yaml template and two templates with block lists, flow lists, quotes and comments.
_SHIPPED_YAML = ("case.yaml.tmpl", "followup.yaml", "time_sources.yaml")
_VARIANTS = {
    "as shipped": lambda t: t, "CRLF": lambda t: t.replace("\n", "\r\n"), "CR": lambda t: t.replace("\n", "\r"),
    "BOM": lambda t: "\ufeff" + t, "astral": lambda t: t.replace("a", "😀a", 3),
    "NEL and LS": lambda t: t.replace("\n", "\x85", 2).replace("\n", "\u2028", 2),
    "tab after colon": lambda t: t.replace(": ", ":\t", 2), "control character": lambda t: t.replace("a", "\x07", 1),
    "second document": lambda t: t + "\n---\n", "lone surrogate": lambda t: t.replace("a", "\ud800", 1),
    "deep": lambda t: t + "\nx: " + "[" * 600 + "]" * 600 + "\n",
}


@pytest.mark.parametrize("name", _SHIPPED_YAML)
def test_fast_composer_gives_the_pure_python_tree_or_problem(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    text = resources.files("evidencekit.templates").joinpath(name).read_text(encoding="utf-8")
    for variant, change in _VARIANTS.items():
        changed = change(text)
        assert _composed(changed, monkeypatch, fast=True) == _composed(changed, monkeypatch, fast=False), variant


@_HYPOTHESIS
@given(_YAMLISH)
def test_fast_composer_agrees_on_yaml_like_text(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    for whole in (text, text + "\n"):
        assert _composed(whole, monkeypatch, fast=True) == _composed(whole, monkeypatch, fast=False)
