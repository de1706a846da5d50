"""Facts from OCR text boxes (rules/ocr_fields.py, templates/ocr_fields.yaml): fast, no engine."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from evidencekit.errors import TemplateError
from evidencekit.rules.ocr_fields import (
    ReadFact,
    TextBox,
    extract_facts,
    load_ocr_fields,
    load_ocr_fields_from,
)
from evidencekit.rules.ruleset import templates_folder

RULES = load_ocr_fields()


def box(text: str, left: int, top: int, width: int = 300, height: int = 40) -> TextBox:
    return TextBox(text, ((left, top), (left + width, top), (left + width, top + height), (left, top + height)), 0.99)


def facts(boxes: list[TextBox]) -> dict[str, ReadFact]:
    return {f.field: f for f in extract_facts(boxes, RULES)}


def test_labels_left_and_values_right_on_the_same_line() -> None:
    # Taobao-like: the label is one box, its value another at the right end of the line; the
    # engine dropped the space inside the times.
    boxes = [
        box("翠玉阁珠宝旗舰店>", 60, 290, 420),
        box("天然和田玉手镯冰种附证书", 330, 380, 520),
        box("¥1299.00", 330, 540, 180),
        box("实付款", 60, 690, 130), box("¥1299.00", 840, 690, 180),
        box("订单编号", 60, 790, 170), box("3912847561023847561", 600, 790, 420),
        box("创建时间", 60, 890, 170), box("2024-11-1610:02:31", 620, 890, 400),
        box("付款时间", 60, 990, 170), box("2024-11-16 10:03:05", 610, 990, 410),
        box("运单号", 60, 1090, 130), box("SF 1428 5739 20461", 680, 1090, 340),
        box("签收时间", 60, 1190, 170), box("2024-11-1814:20:05", 620, 1190, 400),
    ]
    found = facts(boxes)
    assert {k: f.value for k, f in found.items()} == {
        "order_number": "3912847561023847561",
        "amount": "1299.00",
        "order_time": "2024-11-16 10:02:31",
        "payment_time": "2024-11-16 10:03:05",
        "shop": "翠玉阁珠宝旗舰店",
        "product": "天然和田玉手镯冰种附证书",
        "tracking_number": "SF1428573920461",
        "sign_off_time": "2024-11-18 14:20:05",
    }
    # Each fact names the box it was read from: the value's box, not the label's.
    assert found["amount"].box is boxes[4]
    assert found["order_number"].box is boxes[6]
    assert found["shop"].box is boxes[0]
    assert found["amount"].name == "实付金额"


def test_label_and_value_in_one_box() -> None:
    # Pinduoduo-like: "label：value" in one box, full-width colons.
    boxes = [
        box("签收时间：2024-11-1509:12:44", 60, 340, 560),
        box("快递单号：YT7539182046351", 60, 410, 520),
        box("店铺：好运来农家特产店", 60, 580, 440),
        box("野生蜂蜜 500g×2 瓶", 290, 670, 360),
        box("实付：¥368.50", 290, 790, 260),
        box("订单编号：241116-580931274562819", 60, 1040, 700),
        box("下单时间：2024-11-1221:47:09", 60, 1130, 600),
        box("支付时间：2024-11-12 21:47:40", 60, 1220, 600),
    ]
    found = facts(boxes)
    assert found["order_number"].value == "241116-580931274562819"
    assert found["amount"].value == "368.50"
    assert found["order_time"].value == "2024-11-12 21:47:09"
    assert found["payment_time"].value == "2024-11-12 21:47:40"
    assert found["shop"].value == "好运来农家特产店"
    assert found["product"].value == "野生蜂蜜 500g×2 瓶"
    assert found["tracking_number"].value == "YT7539182046351"
    assert found["sign_off_time"].value == "2024-11-15 09:12:44"
    assert found["order_number"].box is boxes[5]


def test_value_on_the_line_below_the_label() -> None:
    # JD-like logistics: the sign-off sentence, its time on the next line; the label "合计"
    # with the amount in the same box, no colon.
    boxes = [
        box("运单号JDX019283746501", 60, 330, 420),
        box("您的订单已签收，签收人：本人", 100, 410, 460),
        box("2024-11-0117:55:38", 100, 460, 330),
        box("快递员正在为您派件", 100, 550, 320),
        box("2024-11-0108:02:10", 100, 600, 330),
        box("合计¥86.90", 60, 1000, 200),
        box("订单号：", 60, 1160, 150), box("302918475620", 320, 1160, 260),
    ]
    found = facts(boxes)
    assert found["sign_off_time"].value == "2024-11-01 17:55:38"
    assert found["sign_off_time"].box is boxes[2]
    assert found["tracking_number"].value == "JDX019283746501"
    assert found["amount"].value == "86.90"
    assert found["order_number"].value == "302918475620"


def test_times_dates_and_amounts_are_normalised() -> None:
    found = facts([box("下单时间：2024年11月6日 9:05", 0, 0, 500), box("实付款 ￥1,299.5元", 0, 100, 400)])
    assert found["order_time"].value == "2024-11-06 09:05"
    assert found["amount"].value == "1299.50"


def test_common_misreadings_of_separators_are_read_as_meant() -> None:
    # Read from a shrunk long screenshot: a colon read as a semicolon, a decimal point as a
    # comma. "¥86,90" must never become 86.00.
    found = facts([box("下单时间：2024-10-30 08;15:22", 0, 0, 500), box("合计 ¥86,90", 0, 100, 300),
                   box("付款时间：2024-10-30 08；16；01", 0, 200, 500)])
    assert found["order_time"].value == "2024-10-30 08:15:22"
    assert found["payment_time"].value == "2024-10-30 08:16:01"
    assert found["amount"].value == "86.90"
    assert facts([box("实付款 ¥1,299", 0, 0, 300)])["amount"].value == "1299.00"


def test_digits_that_only_look_like_a_time_are_not_a_time() -> None:
    assert "order_time" not in facts([box("下单时间：2024-13-45 10:02:31", 0, 0, 500)])
    assert "order_time" not in facts([box("下单时间：待付款", 0, 0, 300)])


def test_a_label_far_away_or_on_another_line_does_not_take_a_value() -> None:
    boxes = [box("订单编号", 60, 100, 170), box("3912847561023847561", 60, 600, 420),
             box("订单号", 60, 900, 120), box("共 3 件", 600, 980, 120)]
    assert "order_number" not in facts(boxes)


def test_a_code_longer_than_the_pattern_allows_is_not_taken() -> None:
    assert "tracking_number" not in facts([box("运单号：SF12345678901234567890123456", 0, 0, 600)])
    assert facts([box("运单号：SF1428573920461", 0, 0, 600)])["tracking_number"].value == "SF1428573920461"


def test_nothing_read_means_no_facts() -> None:
    assert extract_facts([], RULES) == ()
    assert extract_facts([box("10:41", 40, 22, 80), box("5G 87%", 880, 22, 120)], RULES) == ()


# ---------------------------------------------------------------------------------------------
# The template a volunteer edits
# ---------------------------------------------------------------------------------------------


def edited(tmp_path: Path, old: str, new: str) -> Path:
    folder = tmp_path / "templates"
    shutil.copytree(Path(str(templates_folder())), folder)
    path = folder / "ocr_fields.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return folder


def test_a_volunteer_adds_a_label(tmp_path: Path) -> None:
    before = extract_facts([box("交易单号：3912847561023847561", 0, 0, 600)], RULES)
    assert before == ()
    rules = load_ocr_fields_from(edited(tmp_path, "labels: [订单编号, ", "labels: [交易单号, 订单编号, "))
    (fact,) = extract_facts([box("交易单号：3912847561023847561", 0, 0, 600)], rules)
    assert (fact.field, fact.value) == ("order_number", "3912847561023847561")


@pytest.mark.parametrize(("old", "new", "message"), [
    ("kind: amount", "kind: money", "fields.amount.kind：应为 code、amount、time、text 之一"),
    ("follows: shop", "follows: shops", "fields.product.follows：应为 fields 下另一项的键名，实际是 shops（您是不是想写 shop？）"),
    ("(?P<yuan>", "(?P<yua>", "patterns.amount：缺少命名分组 (?P<yuan>…)"),
    ("(?P<M>[0-5]\\d)", "([0-5]\\d)", "patterns.time：缺少命名分组 (?P<M>…)"),
    ("value: '[A-Za-z]{0,4}\\d{8,22}'", "value: '[A-Za-z'", "fields.tracking_number.value：正则表达式有误"),
    ("labels: [付款时间, 支付时间]", "labels: []", "fields.payment_time.labels：至少写一个标签"),
    ("    name: 运单号\n", "    name: 运单号\n    lable: 单号\n", "fields.tracking_number.lable：未知的键"),
    ("kinds: [order, payment, logistics, aftersales]", "kinds: [order, pay]",
     "screens.kinds：应为证据类别的键名，实际是 pay（您是不是想写 payment？）"),
    ("tolerance_minutes: 5", "tolerance_minutes: 五", "screens.tolerance_minutes：应为正整数"),
    ("clock: '(?P<H>", "clock: '(", "screens.clock：缺少命名分组 (?P<H>…)"),
])
def test_template_mistakes_name_the_file_and_key(tmp_path: Path, old: str, new: str, message: str) -> None:
    with pytest.raises(TemplateError) as info:
        load_ocr_fields_from(edited(tmp_path, old, new))
    assert "templates/ocr_fields.yaml" in str(info.value)
    assert message in str(info.value)
