"""letter: channel texts in the template's field order, every field within its limit."""

from __future__ import annotations

import json
import unicodedata
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from factories import make_case, make_jpeg, sh
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evidencekit.case.load import yaml_quote
from evidencekit.channels.letter import (
    BODY_FIELD,
    Attachment,
    Cut,
    Draft,
    Letter,
    LetterField,
    Line,
    Piece,
    compose_letter,
    fit,
    fit_text,
    format_letter,
    letter_json,
    measure,
)
from evidencekit.cli.letter import letter as letter_command
from evidencekit.model import Complainant, Event, EvidenceOverride, Problem, Recipient
from evidencekit.rules.catalog import Rules, load_rules, load_rules_from, target_profile

NOW = sh(2024, 11, 17, 9, 0, 0)
ORDER_NO = "6912345678901234567"
FINGERPRINT = "ab" * 32
LONG_SUMMARY = "收到的包是人造革，与直播间宣称的头层牛皮完全不符，" * 30 + "。客服一直推脱不处理。" * 10
LONG_DETAILS = "包底有明显胶水痕迹，五金件掉色，内衬开线。" * 40


@pytest.fixture(scope="module")
def rules() -> Rules:
    return load_rules()


def long_case(tmp_path: Path):  # type: ignore[no-untyped-def]
    base = make_case(tmp_path)
    return replace(
        base,
        problem=Problem(type="not_as_shown", summary=LONG_SUMMARY, details=LONG_DETAILS,
                        discovered_at=sh(2024, 11, 13, 20, 0, 0)),
        events=tuple(Event(sh(2024, 11, 14 + i, 10, 0, 0), "seller", "客服说再等等" * 8, f"工号 {i}")
                     for i in range(5)),
        evidence=(EvidenceOverride(file="evidence/livestream/rec.mp4",
                                   moments=("00:12:31 主播承诺头层牛皮，假一赔十",)),),
    )


def fields_over_limit(letter: Letter) -> list[str]:
    return [f.name for f in letter.fields if f.limit is not None and measure(f.text) > f.limit]


# ---------------------------------------------------------------------------------------------
# Composition
# ---------------------------------------------------------------------------------------------


def test_12315_fields_follow_the_template_order_and_fit(rules: Rules, tmp_path: Path) -> None:
    letter = compose_letter(long_case(tmp_path), "12315", rules, exhibits_summary=["订单截图"], now=NOW)
    assert [f.name for f in letter.fields] == [t.name for t in target_profile("12315", rules).letter]
    assert fields_over_limit(letter) == []
    content = letter.field("投诉内容")
    assert content.limit == 400
    assert ORDER_NO in content.text
    assert content.text.startswith(f"1. 订单号 {ORDER_NO}")
    assert "…" in content.text  # the long summary was cut, visibly
    # Details are dropped before the first sentence of the summary is cut.
    assert "胶水痕迹" not in content.text
    assert "收到的包是人造革" in content.text


def test_12315_values_and_concrete_claims(rules: Rules, tmp_path: Path) -> None:
    letter = compose_letter(make_case(tmp_path), "12315", rules, now=NOW)
    assert letter.field("投诉对象").text == "杭州好物优选电子商务有限公司"
    assert letter.field("商品名称").text == "真皮女士手提包"
    assert letter.field("订单号").text == ORDER_NO
    assert letter.field("消费金额").text == "¥399.00"
    assert letter.field("电商平台").text == "抖音"
    claims = letter.field("诉求").text
    assert claims.startswith("退货退款 ¥399.00，并按《消费者权益保护法》第五十五条第一款赔偿 ¥1,197.00")
    assert "退货、赔偿损失" in claims  # the 12315 form's own options


def test_short_complaint_keeps_every_fact(rules: Rules, tmp_path: Path) -> None:
    case = replace(make_case(tmp_path), events=(Event(sh(2024, 11, 14, 10, 0, 0), "seller", "等主管回复", "工号 7"),),
                   evidence=(EvidenceOverride(file="evidence/直播/rec.mp4", moments=("00:12:31 主播承诺假一赔十",)),))
    text = compose_letter(case, "12315", rules, exhibits_summary=["订单截图", "问题商品照片 3 份"],
                          now=NOW).field("投诉内容").text
    assert text.splitlines() == [
        f"1. 订单号 {ORDER_NO}，2024-11-10 下单，抖音直播间“好物优选直播间”（主播小美），商品：真皮女士手提包，"
        "实付 ¥399.00，2024-11-13 签收。",
        "2. 直播间宣称：主播承诺假一赔十（录屏 00:12:31）。",
        "3. 问题（与直播展示完全不符）：收到的包是人造革，与直播间宣称的头层牛皮不符。",
        "4. 协商经过：2024-11-14 联系商家（工号 7）：等主管回复。",
        "5. 证据：订单截图、问题商品照片 3 份。",
    ]


def test_shortening_never_cuts_a_timecode(rules: Rules, tmp_path: Path) -> None:
    # Long events force shortening; the short summary leaves room for the (capped) claim.
    case = replace(long_case(tmp_path), problem=make_case(tmp_path).problem, evidence=(EvidenceOverride(
        file="evidence/livestream/rec.mp4", moments=("00:00:06 主播口播并打出字幕：头层牛皮，假一赔十，七天无理由" * 4,)),))
    text = compose_letter(case, "payment", rules, now=NOW).field("问题描述").text
    assert measure(text) <= 300
    assert "…（录屏 00:00:06）" in text


def test_payment_statement_fits_300(rules: Rules, tmp_path: Path) -> None:
    # 微信支付's complaint API documents the consumer's complaint_detail as string[1, 300].
    letter = compose_letter(long_case(tmp_path), "payment", rules, exhibits_summary=["订单截图"] * 9, now=NOW)
    statement = letter.field("问题描述")
    assert statement.limit == 300
    assert measure(statement.text) <= 300
    assert ORDER_NO in statement.text
    assert fields_over_limit(letter) == []


def test_email_is_subject_and_formal_body_with_fingerprint(rules: Rules, tmp_path: Path) -> None:
    letter = compose_letter(make_case(tmp_path), "email", rules, fingerprint=FINGERPRINT,
                            exhibits_summary=["订单截图", "直播间承诺截图或录屏"], now=NOW)
    assert [f.name for f in letter.fields] == ["邮件主题", BODY_FIELD]
    subject = letter.field("邮件主题")
    assert subject.limit == 60 and measure(subject.text) <= 60
    assert ORDER_NO in subject.text and subject.text.endswith("的投诉")
    body = letter.field(BODY_FIELD).text
    assert "被投诉人：" not in body  # addressed to the merchant, which is not listed against itself
    for heading in ("投诉人：张三", "购物平台：抖音", "投诉事项：",
                    "事实经过：", "法律依据：", "诉求：", "答复期限：", "附件清单：", "日期：2024-11-17"):
        assert heading in body, heading
    assert f"SHA-256：{FINGERPRINT}" in body
    assert "请于 2024-11-24 前（7 日内）" in body  # targets.yaml: email reply deadline 7 days
    assert body.index("投诉人：") < body.index("事实经过：") < body.index("诉求：") < body.index("附件清单：")


def copied_templates(tmp_path: Path) -> Path:
    """The installed templates copied into tmp_path/templates, to be edited by a test."""
    from importlib.resources import files

    folder = tmp_path / "templates"
    folder.mkdir()
    for entry in files("evidencekit.templates").iterdir():
        if entry.name.endswith(".yaml"):
            (folder / entry.name).write_text(entry.read_text("utf-8"), "utf-8")
    return folder


def body_lines(letter: Letter) -> list[str]:
    return letter.field(BODY_FIELD).text.splitlines()


def test_email_to_the_merchant_addresses_it_and_does_not_list_it_as_respondent(rules: Rules,
                                                                               tmp_path: Path) -> None:
    letter = compose_letter(make_case(tmp_path), "email", rules, recipient=Recipient.MERCHANT, now=NOW)
    lines = body_lines(letter)
    assert lines[0] == "杭州好物优选电子商务有限公司："
    assert "贵方" in lines[2] and "好物优选旗舰店" in lines[2]
    assert not any(line.startswith(("被投诉人：", "致：")) for line in lines)
    assert "购物平台：抖音" in lines
    assert "答复期限：请于 2024-11-24 前（7 日内）书面答复处理结果。" in lines
    assert letter.field("邮件主题").text.startswith("关于订单 6912345678901234567")
    # Without --to the letter goes to the merchant, as before.
    assert compose_letter(make_case(tmp_path), "email", rules, now=NOW) == letter


def test_email_to_the_platform_names_the_shop_as_respondent(rules: Rules, tmp_path: Path) -> None:
    letter = compose_letter(make_case(tmp_path), "email", rules, recipient=Recipient.PLATFORM, now=NOW)
    lines = body_lines(letter)
    assert lines[0] == "抖音平台："
    assert "贵平台" in lines[2] and "介入" in lines[2]
    assert any(line.startswith("被投诉人：杭州好物优选电子商务有限公司") for line in lines)
    assert not any(line.startswith("购物平台：") for line in lines)  # the addressee itself
    assert "《消费者权益保护法》第四十四条" in letter.field(BODY_FIELD).text  # the platform's own liability
    assert any(line.startswith("答复期限：请于 2024-11-24 前") for line in lines)
    assert letter.field("邮件主题").text.startswith("申请平台介入：")


def test_email_to_the_consumer_association_asks_for_mediation_without_a_deadline(rules: Rules,
                                                                                 tmp_path: Path) -> None:
    letter = compose_letter(make_case(tmp_path), "email", rules, recipient=Recipient.CONSUMER_ASSOCIATION, now=NOW)
    lines = body_lines(letter)
    assert "消费者协会" in lines[0] and lines[0].endswith("：")
    assert "贵会" in lines[2] and "调解" in lines[2]
    assert any(line.startswith("被投诉人：杭州好物优选电子商务有限公司") for line in lines)
    assert "购物平台：抖音" in lines
    assert not any(line.startswith("答复期限") for line in lines)  # a merchant gets a deadline; an association does not
    subject = letter.field("邮件主题")
    assert subject.text.startswith("请求调解：好物优选旗舰店，订单 ") and measure(subject.text) <= 60


def test_email_to_market_regulation_cites_the_complaint_rules(rules: Rules, tmp_path: Path) -> None:
    letter = compose_letter(make_case(tmp_path), "email", rules, recipient=Recipient.MARKET_REGULATION, now=NOW)
    body = letter.field(BODY_FIELD).text
    assert body.splitlines()[0] == "市场监督管理部门："
    assert "《市场监督管理投诉举报处理暂行办法》第九条" in body
    assert "七个工作日内" in body
    assert "被投诉人：杭州好物优选电子商务有限公司" in body


@pytest.mark.parametrize("recipient", list(Recipient))
def test_every_recipient_gets_its_own_salutation_subject_and_opening(rules: Rules, tmp_path: Path,
                                                                     recipient: Recipient) -> None:
    letter = compose_letter(long_case(tmp_path), "email", rules, recipient=recipient, now=NOW)
    others = [compose_letter(long_case(tmp_path), "email", rules, recipient=r, now=NOW) for r in Recipient
              if r is not recipient]
    assert all(body_lines(letter)[0] != body_lines(o)[0] for o in others)
    assert all(letter.field("邮件主题").text != o.field("邮件主题").text for o in others)
    assert fields_over_limit(letter) == []
    assert letter.recipient is recipient
    assert f"，收件人：{rules.targets['email'].recipients[recipient].label}）" in format_letter(letter)


def test_recipient_wording_comes_from_the_template(rules: Rules, tmp_path: Path) -> None:
    folder = copied_templates(tmp_path)
    path = folder / "targets.yaml"
    text = path.read_text("utf-8")
    assert '"消费者协会（消费者权益保护委员会）："' in text
    path.write_text(text.replace('"消费者协会（消费者权益保护委员会）："', '"上海市消费者权益保护委员会："'), "utf-8")
    edited = load_rules_from(folder)
    letter = compose_letter(make_case(tmp_path), "email", edited, recipient=Recipient.CONSUMER_ASSOCIATION, now=NOW)
    assert body_lines(letter)[0] == "上海市消费者权益保护委员会："


def test_a_form_target_may_ask_for_a_subject(tmp_path: Path) -> None:
    folder = copied_templates(tmp_path)
    path = folder / "targets.yaml"
    old = "      - name: 问题类型\n        source: problem_label\n"
    text = path.read_text("utf-8")
    assert old in text
    path.write_text(text.replace(old, old + "      - name: 标题\n        source: subject\n", 1), "utf-8")
    letter = compose_letter(make_case(tmp_path), "general", load_rules_from(folder), now=NOW)
    assert letter.field("标题").text == "关于订单 6912345678901234567（真皮女士手提包）与直播展示完全不符的投诉"


def test_recipient_is_ignored_by_form_targets(rules: Rules, tmp_path: Path) -> None:
    plain = compose_letter(make_case(tmp_path), "12315", rules, now=NOW)
    assert compose_letter(make_case(tmp_path), "12315", rules, recipient=Recipient.PLATFORM, now=NOW).fields \
        == plain.fields


def attachment_section(letter: Letter) -> list[str]:
    lines = body_lines(letter)
    start = lines.index("附件清单：") + 1
    return lines[start:lines.index("", start)]


def test_email_attachment_list_is_the_attached_files_not_the_evidence_kinds(rules: Rules, tmp_path: Path) -> None:
    files = [Attachment("证据材料-第1卷.pdf", "第 1–10 页：证据1–3"), Attachment("证据材料-第2卷.pdf", "第 11–20 页：证据4–9")]
    letter = compose_letter(make_case(tmp_path), "email", rules, fingerprint=FINGERPRINT, attachments=files,
                            originals_attached=False, exhibits_summary=["订单截图", "问题商品照片 2 份"], now=NOW)
    section = attachment_section(letter)
    numbered = [line for line in section if line[:1].isdigit()]
    assert numbered == ["1. 证据材料-第1卷.pdf（第 1–10 页：证据1–3）", "2. 证据材料-第2卷.pdf（第 11–20 页：证据4–9）"]
    assert "分 2 封邮件发送" in section[2]
    assert f"材料指纹 SHA-256：{FINGERPRINT}" in section[3]
    assert "内含证据：订单截图、问题商品照片 2 份。" in section
    assert any("原始文件没有随邮件发送" in line for line in section)


def test_email_attachment_list_without_pack_names_the_dossier_only(rules: Rules, tmp_path: Path) -> None:
    letter = compose_letter(make_case(tmp_path), "email", rules, exhibits_summary=["订单截图", "支付凭证"], now=NOW)
    section = attachment_section(letter)
    assert [line for line in section if line[:1].isdigit()] == ["1. 证据材料 PDF"]
    assert "内含证据：订单截图、支付凭证。" in section
    assert not any("原始文件" in line for line in section)  # not known without pack


def test_email_without_fingerprint_points_to_the_cover(rules: Rules, tmp_path: Path) -> None:
    body = compose_letter(make_case(tmp_path), "email", rules, now=NOW).field(BODY_FIELD).text
    assert "【见证据材料封面】" in body


def test_missing_facts_become_visible_placeholders(rules: Rules, tmp_path: Path) -> None:
    base = make_case(tmp_path)
    case = replace(base, complainant=Complainant(name="张三", address="上海"),
                   order=replace(base.order, amount=None), merchant=replace(base.merchant, credit_code=""))
    letter = compose_letter(case, "12315", rules, now=NOW)
    assert letter.field("投诉人电话").text == "【请填写：投诉人电话】"
    assert letter.field("消费金额").text == "【请填写：消费金额】"
    assert letter.field("统一社会信用代码").text == "【请填写：统一社会信用代码（可不填）】"
    assert "实付 【请填写：实付金额】" in letter.field("投诉内容").text
    email = compose_letter(case, "email", rules, now=NOW).field(BODY_FIELD).text
    assert "电话 【请填写：投诉人电话】" in email
    assert "还有" in format_letter(letter) and "需要填写" in format_letter(letter)


def test_empty_case_fits_and_is_all_placeholders(rules: Rules, tmp_path: Path) -> None:
    from evidencekit.model import Case

    for target in rules.targets:
        letter = compose_letter(Case(root=tmp_path, has_case_file=False), target, rules, now=NOW)
        assert fields_over_limit(letter) == []
        assert all(f.text for f in letter.fields)  # nothing silently empty
    letter = compose_letter(Case(root=tmp_path), "12315", rules, now=NOW)
    assert letter.field("订单号").text == "【请填写：订单号（可不填）】"
    assert letter.field("电商平台").text == "【请填写：电商平台】"


def test_letter_json_shape_is_exact(rules: Rules, tmp_path: Path) -> None:
    data = letter_json(compose_letter(make_case(tmp_path), "payment", rules, now=NOW))
    assert set(data) == {"target", "fields"}
    assert data["target"] == "payment"
    assert all(set(f) == {"name", "text", "limit"} for f in data["fields"])
    assert [f["limit"] for f in data["fields"]] == [None, None, None, 300, None]


def test_format_letter_shows_counts(rules: Rules, tmp_path: Path) -> None:
    letter = Letter("12315", (LetterField("投诉内容", "一二三", 400), LetterField("订单号", "123", None)), "全国12315平台")
    text = format_letter(letter)
    assert "━━ 投诉内容（3/400 字）" in text
    assert "━━ 订单号（3 字）" in text
    assert text.startswith("投诉文字（全国12315平台）")


# ---------------------------------------------------------------------------------------------
# Fitting
# ---------------------------------------------------------------------------------------------


def test_fit_drops_highest_rank_first_then_cuts() -> None:
    draft = Draft([Line([Piece("A" * 10), Piece("B" * 10, rank=5), Piece("C" * 10, rank=9)])])
    assert fit_text(draft, None) == "A" * 10 + "，" + "B" * 10 + "，" + "C" * 10
    assert fit_text(draft, 25) == "A" * 10 + "，" + "B" * 10  # C (rank 9) went first
    assert fit_text(draft, 8) == "A" * 7 + "…"


def test_fit_never_cuts_the_protected_prefix() -> None:
    number = "1234567890123456789"
    draft = Draft([Line([Piece(number + "以及很长很长的说明" * 5, protect=len(number))])])
    assert fit_text(draft, 22) == number + "以及…"
    # Only when the protected text alone cannot fit is it cut (and still marked with "…").
    assert fit_text(draft, 10) == number[:9] + "…"


def test_fit_shortens_long_pieces_evenly() -> None:
    draft = Draft([Line([Piece("甲" * 100), Piece("乙" * 100)])])
    out = fit_text(draft, 61)
    first, second = out.split("，")
    assert measure(out) <= 61
    assert abs(len(first) - len(second)) <= 1 and first.endswith("…")


def test_numbering_closes_up_after_a_dropped_line() -> None:
    draft = Draft([Line([Piece("一")]), Line([Piece("很长的次要内容" * 5, rank=3)]), Line([Piece("三")])],
                  numbered=True)
    assert fit_text(draft, 12) == "1. 一\n2. 三"


def test_fit_reports_what_it_dropped_and_what_it_shortened() -> None:
    draft = Draft([Line([Piece("A" * 10), Piece("B" * 10, rank=5), Piece("C" * 10, before="（", after="）", rank=9)])])
    assert fit(draft, None).cuts == ()
    assert fit(draft, 40).cuts == ()
    assert fit(draft, 25).cuts == (Cut("（" + "C" * 10 + "）"),)  # dropped whole, decorations included
    assert fit(draft, 8).cuts == (Cut("A" * 10, "A" * 7), Cut("B" * 10), Cut("（" + "C" * 10 + "）"))
    shortened = Cut("A" * 10, "A" * 7)
    assert not shortened.dropped and shortened.removed == "AAA"
    assert Cut("B" * 10).dropped and Cut("B" * 10).removed == "B" * 10


def test_fit_reports_a_piece_capped_to_its_share() -> None:
    draft = Draft([Line([Piece("甲" * 50, share=0.5), Piece("乙" * 10)])])
    result = fit(draft, 40)
    assert measure(result.text) <= 40
    assert result.cuts == (Cut("甲" * 50, "甲" * 20),)


def test_fit_reports_a_last_resort_cut_of_the_whole_text() -> None:
    number = "1234567890123456789"
    result = fit(Draft([Line([Piece(number, protect=len(number))])]), 10)
    assert result.text == number[:9] + "…"
    assert result.cuts == (Cut(number, number[:9]),)


def test_letter_fields_carry_what_was_cut(rules: Rules, tmp_path: Path) -> None:
    letter = compose_letter(long_case(tmp_path), "12315", rules, exhibits_summary=["订单截图"], now=NOW)
    cuts = letter.field("投诉内容").cuts
    assert any(c.dropped and "胶水痕迹" in c.original for c in cuts)  # a sentence of the details
    assert any(not c.dropped and c.original.startswith("收到的包是人造革") for c in cuts)  # the summary, shortened
    assert letter.field("订单号").cuts == ()
    short = compose_letter(make_case(tmp_path), "12315", rules, now=NOW)
    assert all(f.cuts == () for f in short.fields)


def test_format_letter_shows_what_was_cut() -> None:
    field = LetterField("问题描述", "甲…", 3, cuts=(Cut("甲乙丙", "甲"), Cut("丁戊")))
    text = format_letter(Letter("payment", (field, LetterField("诉求", "退款")), "支付渠道投诉"))
    assert "为了不超过 3 字，这一栏删去或截短了下面的内容" in text
    assert "删去：丁戊" in text
    assert "截短：甲…（删去了“乙丙”）" in text
    assert "有 1 栏为了不超过字数上限删去或截短了内容" in text
    plain = format_letter(Letter("payment", (LetterField("诉求", "退款"),), "支付渠道投诉"))
    assert "删去" not in plain and "截短" not in plain


def test_line_breaks_count_twice() -> None:
    assert measure("a\nb") == 4


printable = st.text(st.characters(codec="utf-8"), max_size=600)  # any character but lone surrogates


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(summary=printable, details=printable, product=printable, name=printable, address=printable,
       room=printable, note=printable, moment=printable,
       number=st.text("0123456789ABCDEF-", min_size=1, max_size=30),
       evidence=st.lists(printable, max_size=12))
def test_random_texts_never_exceed_a_limit(rules: Rules, tmp_path: Path, summary: str, details: str, product: str,
                                           name: str, address: str, room: str, note: str, moment: str,
                                           number: str, evidence: list[str]) -> None:
    base = make_case(tmp_path)
    case = replace(
        base,
        complainant=Complainant(name=name, phone="", address=address),
        problem=Problem(type="not_as_shown", summary=summary, details=details),
        order=replace(base.order, number=number, product=product),
        livestream=replace(base.livestream, room=room),
        events=(Event(sh(2024, 11, 14, 10, 0, 0), "seller", note, note[:20]),) * 3,
        evidence=(EvidenceOverride(file="evidence/livestream/a.mp4", moments=(moment, f"00:00:01 {moment}")),),
    )
    recipients: list[Recipient | None] = [None, *Recipient]
    for target, recipient in [(t, r) for t in rules.targets for r in (recipients if t == "email" else [None])]:
        letter = compose_letter(case, target, rules, fingerprint=FINGERPRINT, exhibits_summary=evidence,
                                recipient=recipient, now=NOW)
        assert fields_over_limit(letter) == [], (target, recipient)
        for f in letter.fields:
            assert all(ch == "\n" or unicodedata.category(ch) != "Cc" for ch in f.text)  # plain text only
            if f.name in ("投诉内容", "问题描述"):
                assert number.strip() in f.text


# ---------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------


def invoke(*args: object) -> click.testing.Result:
    group = click.Group(commands=[letter_command])
    return CliRunner().invoke(group, ["letter", *[str(a) for a in args]])


def write_case(root: Path, *, phone: str = "13800138000") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "case.yaml").write_text(
        "# 我的案件\nschema: 1\nplatform: douyin\n"
        f"complainant:\n  name: 张三\n  phone: {yaml_quote(phone) if phone else ''}\n  address: 上海市浦东新区\n"
        "merchant:\n  company: 杭州好物优选电子商务有限公司\n  address: 杭州市西湖区文三路1号\n"
        f"order:\n  number: \"{ORDER_NO}\"\n  product: 真皮女士手提包\n  amount: 399.00\n  time: 2024-11-10 20:31\n"
        f"problem:\n  type: not_as_shown\n  summary: {yaml_quote(LONG_SUMMARY)}\n  details: {yaml_quote(LONG_DETAILS)}\n"
        "claims: [return_refund, punitive]\n",
        encoding="utf-8",
    )
    make_jpeg(root / "evidence" / "order" / "order.jpg")
    make_jpeg(root / "evidence" / "商品" / "a.jpg")
    make_jpeg(root / "evidence" / "商品" / "b.jpg")
    return root


def test_cli_12315_json_fits_and_keeps_the_order_number(tmp_path: Path) -> None:
    root = write_case(tmp_path / "case")
    result = invoke(root, "--target", "12315", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["target"] == "12315"
    for f in data["fields"]:
        assert f["limit"] is None or len(f["text"]) <= f["limit"], f["name"]
    content = next(f for f in data["fields"] if f["name"] == "投诉内容")
    assert content["limit"] == 400 and ORDER_NO in content["text"]
    assert "订单截图、问题商品照片 2 份" in content["text"]  # summarised from evidence/ without rendering


def test_cli_text_output_and_missing_phone(tmp_path: Path) -> None:
    root = write_case(tmp_path / "case", phone="")
    result = invoke(root, "-t", "12315")
    assert result.exit_code == 0, result.output
    assert "━━ 投诉内容（" in result.stdout and "/400 字）" in result.stdout
    assert "【请填写：投诉人电话】" in result.stdout


def test_cli_email_with_fingerprint(tmp_path: Path) -> None:
    root = write_case(tmp_path / "case")
    result = invoke(root, "--target", "email", "--fingerprint", FINGERPRINT.upper(), "--json")
    assert result.exit_code == 0, result.output
    names = [f["name"] for f in json.loads(result.stdout)["fields"]]
    assert names == ["邮件主题", "正文"]
    assert FINGERPRINT in json.loads(result.stdout)["fields"][1]["text"]


def test_cli_says_what_it_cut_to_fit_a_limit(tmp_path: Path) -> None:
    root = write_case(tmp_path / "case")
    result = invoke(root, "-t", "12315")
    assert result.exit_code == 0, result.output
    assert "为了不超过 400 字，这一栏删去或截短了下面的内容" in result.stdout
    assert "删去：包底有明显胶水痕迹" in result.stdout  # the dropped sentence, shown in full
    assert "截短：收到的包是人造革" in result.stdout
    fits = invoke(root, "-t", "general")
    assert fits.exit_code == 0 and "删去" not in fits.output and "截短" not in fits.output


def test_cli_json_keeps_stdout_json_and_says_what_it_cut_on_stderr(tmp_path: Path) -> None:
    result = invoke(write_case(tmp_path / "case"), "-t", "12315", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["target"] == "12315"
    assert "删去：包底有明显胶水痕迹" in result.stderr


@pytest.mark.parametrize(("word", "recipient"), [
    ("merchant", "merchant"), ("商家", "merchant"), ("platform", "platform"), ("平台", "platform"),
    ("消协", "consumer_association"), ("consumer_association", "consumer_association"),
    ("消费者协会", "consumer_association"), ("市场监管部门", "market_regulation"),
    ("market_regulation", "market_regulation"), ("市场监管", "market_regulation"),
])
def test_cli_to_accepts_english_and_chinese_names(tmp_path: Path, word: str, recipient: str) -> None:
    root = write_case(tmp_path / "case")
    result = invoke(root, "-t", "email", "--to", word)
    assert result.exit_code == 0, result.output
    expected = compose_letter(load_case_for(root), "email", load_rules(), recipient=Recipient(recipient),
                              now=NOW).field(BODY_FIELD).text.splitlines()[0]
    assert expected in result.stdout


def load_case_for(root: Path):  # type: ignore[no-untyped-def]
    from evidencekit.case.load import load_case

    return load_case(root)


def test_cli_to_is_only_for_email(tmp_path: Path) -> None:
    result = invoke(write_case(tmp_path / "case"), "-t", "12315", "--to", "消协")
    assert result.exit_code == 2
    assert "--to 只用于 --target email" in result.output
    reversed_order = invoke(write_case(tmp_path / "case"), "--to", "消协", "-t", "payment")
    assert reversed_order.exit_code == 2 and "--to 只用于 --target email" in reversed_order.output
    default_target = invoke(write_case(tmp_path / "case"), "--to", "平台")  # general
    assert default_target.exit_code == 2


def test_cli_to_refuses_an_unknown_recipient(tmp_path: Path) -> None:
    result = invoke(write_case(tmp_path / "case"), "-t", "email", "--to", "法院")
    assert result.exit_code == 2
    assert "消协" in result.output  # the Chinese choices are listed


def test_every_recipient_label_is_accepted_by_to(rules: Rules) -> None:
    from evidencekit.cli.letter import RECIPIENT_WORDS

    for recipient, wording in rules.targets["email"].recipients.items():
        assert RECIPIENT_WORDS[wording.label] is recipient


def test_cli_rejects_a_malformed_fingerprint(tmp_path: Path) -> None:
    result = invoke(write_case(tmp_path / "case"), "--fingerprint", "abc")
    assert result.exit_code == 2
    assert "SHA-256" in result.output


def test_cli_missing_folder_is_exit_4(tmp_path: Path) -> None:
    result = invoke(tmp_path / "nope")
    assert result.exit_code == 4
    assert "案件文件夹不存在" in result.output


def test_cli_invalid_case_file_is_exit_3(tmp_path: Path) -> None:
    root = tmp_path / "case"
    root.mkdir()
    (root / "case.yaml").write_text("schema: 1\norderr: {}\n", encoding="utf-8")
    result = invoke(root)
    assert result.exit_code == 3
    assert "orderr" in result.output


def test_cli_folder_without_evidence_still_gets_a_letter(tmp_path: Path) -> None:
    root = tmp_path / "case"
    root.mkdir()
    result = invoke(root, "--target", "general")
    assert result.exit_code == 0, result.output
    assert "【请填写：证据材料】" in result.stdout


def test_cli_help_has_an_example() -> None:
    result = invoke("--help")
    assert result.exit_code == 0 and "示例：" in result.output


def test_case_amount_decimal_is_money(rules: Rules, tmp_path: Path) -> None:
    case = replace(make_case(tmp_path), order=replace(make_case(tmp_path).order, amount=Decimal("1234.5")))
    assert compose_letter(case, "payment", rules, now=NOW).field("金额").text == "¥1,234.50"
