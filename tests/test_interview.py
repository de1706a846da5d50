"""`init` asks what the chosen target needs, in Chinese, checks each answer as the case loader
would, and writes it into case.yaml keeping everything else the user wrote."""

from __future__ import annotations

from pathlib import Path

import pytest

from evidencekit.case.edit import set_values
from evidencekit.case.load import yaml_quote
from evidencekit.errors import CaseFileError


@pytest.mark.parametrize(("before", "path", "value", "after"), [
    ("a: 1\norder:  # 订单\n  number: x\n", "order.amount", '"1"', "a: 1\norder:  # 订单\n  number: x\n  amount: \"1\"\n"),
    ("order: {number: x}\n", "order.amount", '"1"', 'order: {number: x, amount: "1"}\n'),
    ("order:\n# 说明\nclaims:\n", "order.amount", '"1"', 'order:\n  amount: "1"\n# 说明\nclaims:\n'),
    ("schema: 1\n", "complainant.name", '"张三"', 'schema: 1\ncomplainant:\n  name: "张三"\n'),
    ("claims: ~  # 诉求\n", "claims", ("refund", "punitive"), "claims:  # 诉求\n  - refund\n  - punitive\n"),
    ("claims:\n  - 退钱\n# 后面\n", "claims", ("refund",), "claims:\n  - refund\n# 后面\n"),
    ("platform: 拼夕夕 # 平台\n", "platform", "other", "platform: other # 平台\n"),
    ("x:\r\n  name:        # 姓名\r\n", "x.name", '"张三"', 'x:\r\n  name: "张三" # 姓名\r\n'),
])
def test_set_values_edits_the_text_in_place(tmp_path: Path, before: str, path: str, value: str | tuple[str, ...],
                                            after: str) -> None:
    case_file = tmp_path / "case.yaml"
    case_file.write_bytes(before.encode("utf-8"))
    set_values(case_file, {path: value})
    assert case_file.read_bytes().decode("utf-8") == after


def test_set_values_keeps_a_gbk_file_gbk(tmp_path: Path) -> None:
    case_file = tmp_path / "case.yaml"
    case_file.write_bytes("# 备注\ncomplainant:\n  name: 张三\n".encode("gb18030"))
    set_values(case_file, {"complainant.phone": yaml_quote("13800138000")})
    assert case_file.read_bytes().decode("gb18030") == '# 备注\ncomplainant:\n  name: 张三\n  phone: "13800138000"\n'


def test_set_values_refuses_a_section_that_is_not_a_mapping(tmp_path: Path) -> None:
    case_file = tmp_path / "case.yaml"
    case_file.write_text("order: 昨天买的\n", encoding="utf-8")
    with pytest.raises(CaseFileError):
        set_values(case_file, {"order.amount": '"1"'})
    assert case_file.read_text(encoding="utf-8") == "order: 昨天买的\n"
