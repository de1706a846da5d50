"""Rules from templates/: template integrity, checklist, legal bases and statutory amounts."""

from __future__ import annotations

import pickle
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
import yaml
from factories import make_case, make_exhibit, make_source_file, sh
from hypothesis import given
from hypothesis import strategies as st

from evidencekit.errors import ExitCode, TemplateError, UnknownTargetError
from evidencekit.model import (
    Case,
    ChatFormat,
    ChatInspection,
    ChecklistItem,
    EventChannel,
    EvidenceKind,
    EvidenceOverride,
    Exhibit,
    Finding,
    ImageInspection,
    Moment,
    Recipient,
    Severity,
    Stamp,
    Status,
    Target,
    TimeSource,
    Transcript,
    VideoInspection,
)
from evidencekit.rules.catalog import (
    EVIDENCE_TYPES,
    SECTIONS,
    Rules,
    advice_for,
    build_checklist,
    checklist_complete,
    choices_text,
    dossier_title,
    exhibit_title,
    kind_for_folder,
    legal_bases,
    load_rules,
    load_rules_from,
    no_reason_return_deadline,
    resolve_word,
    statutory_amounts,
    target_profile,
    urgency_for,
)

TEMPLATE_FILES = ("problem_types.yaml", "evidence_kinds.yaml", "platforms.yaml", "targets.yaml", "legal.yaml",
                  "followup.yaml", "filename_times.yaml", "time_sources.yaml", "chat_formats.yaml",
                  "checklist_wording.yaml")
ALL_TYPES = ("not_received", "not_as_shown", "safety_hazard", "wrong_size", "minor_quality",
             "missing_parts", "quality", "counterfeit", "false_advertising", "price_fraud", "food_safety",
             "logistics", "service")
VALID_CODE = "91350100M000100Y43"
NOW = sh(2025, 1, 10, 12, 0, 0)


@pytest.fixture(scope="module")
def rules() -> Rules:
    return load_rules()


def _raw(name: str) -> dict:
    return yaml.safe_load(files("evidencekit.templates").joinpath(name).read_text(encoding="utf-8"))


ExhibitMaker = Callable[..., Exhibit]


@pytest.fixture
def exhibit(tmp_path: Path) -> ExhibitMaker:
    """``exhibit(kind, **exhibit fields)``: numbered in call order, file written under evidence/<kind>/."""
    counter = iter(range(1, 1000))

    def make(kind: EvidenceKind, name: str = "", **kw: object) -> Exhibit:
        number = next(counter)
        source = make_source_file(tmp_path, f"evidence/{kind.value}/{name or f'f{number}.png'}",
                                  data=str(number).encode(), kind=kind)
        return make_exhibit(number, source, **kw)

    return make


def _complete_case(root: Path, **kw: Any) -> Case:
    case = make_case(root, merchant=replace(make_case(root).merchant, credit_code=VALID_CODE))
    return replace(case, **kw)


def _by_key(items: tuple[ChecklistItem, ...]) -> dict[str, ChecklistItem]:
    return {item.key: item for item in items}


# ---------------------------------------------------------------------------------------------
# Template integrity (a volunteer's typo must fail here)
# ---------------------------------------------------------------------------------------------


def test_rules_are_loaded_once(rules: Rules) -> None:
    assert load_rules() is rules


def test_rules_pickle_for_worker_processes(rules: Rules) -> None:
    assert pickle.loads(pickle.dumps(rules)) == rules


@pytest.mark.parametrize("key", ALL_TYPES)
def test_every_problem_type_has_label_urgency_and_required_evidence(rules: Rules, key: str) -> None:
    ptype = rules.problem_types[key]
    assert re.search(r"[\u4e00-\u9fff]", ptype.label)
    assert ptype.urgency in rules.urgency
    assert ptype.required, key
    assert all(r.proves for r in (*ptype.required, *ptype.supporting))
    assert ptype.legal


def test_urgency_classes_follow_the_consumer_guidance(rules: Rules) -> None:
    for key in ("not_received", "not_as_shown", "safety_hazard"):
        assert rules.problem_types[key].urgency == "urgent"
    for key in ("wrong_size", "minor_quality", "missing_parts"):
        assert rules.problem_types[key].urgency == "general"
    assert rules.urgency["urgent"].hours == 24 and "24 小时" in rules.urgency["urgent"].label
    assert rules.urgency["general"].hours == 72 and "3 天" in rules.urgency["general"].label


def test_not_as_shown_requires_livestream_product_order_and_chat(rules: Rules) -> None:
    ptype = rules.problem_types["not_as_shown"]
    required = {r.kind for r in ptype.required}
    assert required == {EvidenceKind.ORDER, EvidenceKind.PRODUCT, EvidenceKind.LIVESTREAM, EvidenceKind.CHAT}
    assert {r.kind for r in ptype.supporting} >= {EvidenceKind.UNBOXING, EvidenceKind.LOGISTICS,
                                                  EvidenceKind.PAYMENT, EvidenceKind.COMPARISON}
    assert ptype.punitive == "consumer_law_55"
    assert rules.problem_types["food_safety"].punitive == "food_safety_148"


def test_every_legal_reference_in_the_yaml_resolves() -> None:
    """Read the raw files, independently of the loader, so a mistyped key is reported here by name."""
    articles = set(_raw("legal.yaml")["articles"])
    punitive = set(_raw("legal.yaml")["punitive"])
    problems = _raw("problem_types.yaml")
    refs: list[tuple[str, str]] = []
    for key, ptype in [("generic", problems["generic"]), *problems["types"].items()]:
        refs += [(f"problem_types.yaml {key}.legal", ref) for ref in ptype["legal"]]
        assert ptype["punitive"] == "none" or ptype["punitive"] in punitive, key
    for key, platform in _raw("platforms.yaml")["platforms"].items():
        for ptype_key, items in (platform.get("legal_by_type") or {}).items():
            assert ptype_key in problems["types"], (key, ptype_key)
            refs += [(f"platforms.yaml {key}.legal_by_type", ref) for ref in items]
    for key, target in _raw("targets.yaml")["targets"].items():
        refs += [(f"targets.yaml {key}.legal", ref) for ref in target.get("legal") or []]
        refs += [(f"targets.yaml {key}.deadlines", d["basis"]) for d in target.get("deadlines") or []
                 if d.get("basis")]
    unresolved = [(where, ref) for where, ref in refs if ref not in articles]
    assert not unresolved
    assert len(refs) > 50


def test_every_evidence_kind_has_wording(rules: Rules) -> None:
    for kind in EvidenceKind:
        rule = rules.kinds[kind]
        assert rule.label and rule.proves and rule.source
        assert rule.evidence_type in EVIDENCE_TYPES
        assert kind.value in rule.folders
    assert rules.kinds[EvidenceKind.ORDER].source == "申请人手机截图（购物平台订单详情页）"
    assert rules.kinds["order"].label == "订单截图"


@pytest.mark.parametrize(("folder", "kind"), [
    ("订单", EvidenceKind.ORDER), ("商品", EvidenceKind.PRODUCT), ("直播", EvidenceKind.LIVESTREAM),
    ("聊天", EvidenceKind.CHAT), ("开箱", EvidenceKind.UNBOXING), ("物流", EvidenceKind.LOGISTICS),
    ("支付", EvidenceKind.PAYMENT), ("对比", EvidenceKind.COMPARISON), ("报告", EvidenceKind.REPORT),
    ("其他", EvidenceKind.OTHER), ("Chat", EvidenceKind.CHAT),
])
def test_folder_aliases_from_the_product_spec(rules: Rules, folder: str, kind: EvidenceKind) -> None:
    assert kind_for_folder(folder, rules) is kind


def test_unknown_folder_has_no_kind(rules: Rules) -> None:
    assert kind_for_folder("截图", rules) is None


def test_exhibit_title_pattern(rules: Rules) -> None:
    # The index prints the file name under every title, so the default title is the kind label.
    title = exhibit_title(EvidenceKind.CHAT, rules, n=2, file_name="Screenshot_20241114-190012.png")
    assert title == "客服聊天记录"


def test_platform_reply_window_for_overdue_flags(rules: Rules) -> None:
    assert rules.platforms["douyin"].label == "抖音"
    taobao = rules.platforms["taobao"]
    assert taobao.seller_reply_hours == taobao.timing.seller_reply_hours == 48


def test_unconfirmed_numbers_are_marked_with_a_source(rules: Rules) -> None:
    profile = target_profile("12315", rules)
    assert not profile.attachments.confirmed and profile.attachments.source
    complaint = next(f for f in profile.letter if f.name == "投诉内容")
    assert not complaint.confirmed and complaint.source_note
    for platform in rules.platforms.values():
        assert platform.timing.source
        assert not platform.timing.confirmed


def _copy_templates(tmp_path: Path) -> Path:
    folder = tmp_path / "templates"
    folder.mkdir()
    for name in TEMPLATE_FILES:
        (folder / name).write_text(files("evidencekit.templates").joinpath(name).read_text("utf-8"), "utf-8")
    return folder


def _edit(folder: Path, name: str, old: str, new: str) -> None:
    path = folder / name
    text = path.read_text("utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), "utf-8")


def test_copied_templates_load(tmp_path: Path) -> None:
    copied = load_rules_from(_copy_templates(tmp_path))
    assert copied.problem_types.keys() == load_rules().problem_types.keys()


@pytest.mark.parametrize(("old", "new", "where"), [
    ('field: "{value}"', 'field: "{valeu}"', "recipient.field"),
    ('field_present: "已填写（{paths}）"', 'field_present: "已填写（{paths）"', "shopper.field_present"),
])
def test_checklist_wording_placeholders_are_checked_at_load(tmp_path: Path, old: str, new: str,
                                                             where: str) -> None:
    folder = _copy_templates(tmp_path)
    _edit(folder, "checklist_wording.yaml", old, new)
    with pytest.raises(TemplateError) as info:
        load_rules_from(folder)
    assert "templates/checklist_wording.yaml" in info.value.message and where in info.value.message


def test_mistyped_legal_reference_names_file_key_and_suggestion(tmp_path: Path) -> None:
    folder = _copy_templates(tmp_path)
    _edit(folder, "problem_types.yaml", "online_disputes_12, consumer_law_55]",
          "online_disputes_12, consumer_law_5]")
    with pytest.raises(TemplateError) as info:
        load_rules_from(folder)
    assert "templates/problem_types.yaml" in info.value.message
    assert "types.not_as_shown.legal" in info.value.message
    assert "consumer_law_55" in info.value.message  # the did-you-mean
    assert info.value.exit_code is ExitCode.INTERNAL


def test_broken_yaml_names_file_and_line(tmp_path: Path) -> None:
    folder = _copy_templates(tmp_path)
    _edit(folder, "targets.yaml", "default: general", "default: [general")
    with pytest.raises(TemplateError) as info:
        load_rules_from(folder)
    assert "templates/targets.yaml" in info.value.message
    assert re.search(r"第 \d+ 行", info.value.message)


def _drop(folder: Path, name: str, section: str, key: str) -> None:
    path = folder / name
    data = yaml.safe_load(path.read_text("utf-8"))
    del data[section][key]
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")


@pytest.mark.parametrize(("name", "section", "key"), [
    ("targets.yaml", "targets", Target.COMPLAINT_12315.value),
    ("targets.yaml", "targets", Target.PAYMENT.value),
    ("followup.yaml", "channels", EventChannel.COMPLAINT_12315.value),
    ("followup.yaml", "channels", EventChannel.OTHER.value),
    ("chat_formats.yaml", "formats", ChatFormat.QQNT.value),
])
def test_every_member_of_a_closed_vocabulary_needs_its_template_entry(tmp_path: Path, name: str, section: str,
                                                                      key: str) -> None:
    folder = _copy_templates(tmp_path)
    _drop(folder, name, section, key)
    with pytest.raises(TemplateError) as info:
        load_rules_from(folder)
    assert f"templates/{name}" in info.value.message
    assert section in info.value.message and key in info.value.message
    assert "缺少" in info.value.message


def test_a_target_the_code_does_not_know_is_refused(tmp_path: Path) -> None:
    folder = _copy_templates(tmp_path)
    path = folder / "targets.yaml"
    data = yaml.safe_load(path.read_text("utf-8"))
    data["targets"]["emial"] = data["targets"]["email"]  # --target could never choose it
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
    with pytest.raises(TemplateError) as info:
        load_rules_from(folder)
    assert "templates/targets.yaml" in info.value.message and "targets.emial" in info.value.message
    assert "email" in info.value.message  # the did-you-mean


# ---------------------------------------------------------------------------------------------
# Words a shopper types: keys, the Chinese labels the templates show, and their aliases
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("vocabulary", "word", "key"), [
    ("platform", "抖音", "douyin"), ("platform", "天猫", "taobao"), ("platform", "Douyin", "douyin"),
    ("problem_type", "假冒商品", "counterfeit"), ("problem_type", "假货", "counterfeit"),
    ("problem_type", "not_as_shown", "not_as_shown"), ("problem_type", "货不对板", "not_as_shown"),
    ("claim", "退货退款", "return_refund"), ("claim", "退一赔三", "punitive"),
    ("kind", "订单", "order"), ("kind", "订单截图", "order"), ("kind", "开箱视频", "unboxing"),
    ("target", "12315", "12315"), ("target", "全国12315平台", "12315"), ("target", "邮件", "email"),
    ("target", "平台介入", "platform"), ("target", "支付渠道", "payment"), ("target", "通用", "general"),
    ("channel", "商家", "seller"), ("channel", "客服", "seller"), ("channel", "平台", "platform"),
    ("channel", "消协", "other"),
])
def test_a_typed_word_resolves_to_its_key(rules: Rules, vocabulary: str, word: str, key: str) -> None:
    assert resolve_word(vocabulary, word, rules) == key  # type: ignore[arg-type]


def test_an_unknown_word_resolves_to_nothing(rules: Rules) -> None:
    assert resolve_word("platform", "拼多多", rules) is None
    assert resolve_word("kind", "截图", rules) is None


def test_choices_text_lists_each_key_with_its_chinese_label(rules: Rules) -> None:
    text = choices_text("platform", rules)
    assert text.startswith("douyin 抖音 / taobao 淘宝 / ")
    assert "counterfeit 假冒商品" in choices_text("problem_type", rules)
    assert "12315 全国12315平台" in choices_text("target", rules)


@pytest.mark.parametrize(("name", "path", "alias"), [
    ("problem_types.yaml", ("types", "quality", "aliases"), ["假货"]),  # counterfeit's alias
    ("platforms.yaml", ("platforms", "kuaishou", "aliases"), ["天猫"]),  # taobao's alias
    ("targets.yaml", ("targets", "email", "aliases"), ["支付渠道"]),  # payment's alias
    ("problem_types.yaml", ("claims", "refund", "aliases"), ["退货"]),  # return_refund's alias
])
def test_one_word_naming_two_entries_is_refused(tmp_path: Path, name: str, path: tuple[str, ...],
                                                alias: list[str]) -> None:
    folder = _copy_templates(tmp_path)
    file = folder / name
    data = yaml.safe_load(file.read_text("utf-8"))
    node = data
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = alias
    file.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
    with pytest.raises(TemplateError) as info:
        load_rules_from(folder)
    assert f"templates/{name}" in info.value.message and alias[0] in info.value.message
    assert ".".join(path[:-1]) in info.value.message


def test_every_chat_format_has_a_chinese_label(rules: Rules) -> None:
    for chat_format in ChatFormat:
        label = rules.chat_format_label(chat_format)
        assert label.strip() and not label.isascii(), chat_format


def test_target_profiles_are_keyed_by_target(rules: Rules) -> None:
    assert set(rules.targets) == {t.value for t in Target}
    assert all(rules.targets[t].key is t for t in Target)
    assert rules.default_target is Target.GENERAL


@pytest.mark.parametrize(("name", "old", "new", "words"), [
    ("problem_types.yaml", "    must_declare: true", "    must_declar: true", "must_declare"),
    ("problem_types.yaml", "- kind: logistics\n        label: 物流签收记录截图",
     "- kind: logistic\n        label: x", "logistics"),
    ("targets.yaml", "    limit: 400", "    limit: 四百", "limit"),
    ("targets.yaml", "- key: complainant.phone", "- key: complainant.phon", "complainant.phone"),
    ("targets.yaml", "{platform}平台介入申请证据材料", "{platfrom}平台介入申请证据材料", "platform"),
    ("evidence_kinds.yaml", "folders: [chat, 聊天", "folders: [chat, 订单", "订单"),
    ("legal.yaml", "    multiplier: 10", "    multiplier: -10", "multiplier"),
    ("platforms.yaml", "when: {order.confirmed_receipt: true}", "when: {order.confirmed: true}",
     "order.confirmed"),
])
def test_volunteer_typos_fail_with_the_key(tmp_path: Path, name: str, old: str, new: str, words: str) -> None:
    folder = _copy_templates(tmp_path)
    _edit(folder, name, old, new)
    with pytest.raises(TemplateError) as info:
        load_rules_from(folder)
    assert f"templates/{name}" in info.value.message
    assert words in info.value.message


# ---------------------------------------------------------------------------------------------
# Targets
# ---------------------------------------------------------------------------------------------


def test_target_profiles(rules: Rules) -> None:
    t12315 = target_profile("12315", rules)
    assert t12315.attachments.max_files == 4
    assert t12315.attachments.max_file_bytes == 5_000_000
    assert set(t12315.attachments.formats) == {"jpg", "jpeg", "png", "pdf", "mp3", "mp4"}
    assert t12315.statement_limit == 400
    names = [f.name for f in t12315.letter]
    order = ["投诉对象", "商品名称", "订单号", "消费金额", "争议发生时间", "投诉内容", "诉求"]
    assert [n for n in names if n in order] == order
    assert next(f for f in t12315.letter if f.name == "商品名称").limit == 50
    assert {d.key: (d.days, d.working_days) for d in t12315.deadlines}["accept"] == (7, True)
    assert {d.key: d.days for d in t12315.deadlines}["mediation"] == 60
    assert {d.key: d.days for d in t12315.deadlines}["mediation_samr"] == 45
    assert target_profile("payment", rules).statement_limit == 300
    assert target_profile("platform", rules).statement_limit == 500
    assert target_profile("email", rules).attachments.max_total_bytes == 15_000_000
    assert target_profile(None, rules).key == "general"
    for profile in rules.targets.values():
        assert set(profile.sections) <= set(SECTIONS)
    assert target_profile("general", rules).sections == SECTIONS


def test_unknown_target_is_a_usage_error(rules: Rules) -> None:
    with pytest.raises(UnknownTargetError) as info:
        target_profile("12316", rules)
    assert info.value.exit_code is ExitCode.USAGE
    assert "12315" in info.value.message


def test_dossier_titles(rules: Rules, tmp_path: Path) -> None:
    case = make_case(tmp_path)
    assert dossier_title(case, "platform", rules) == "抖音平台介入申请证据材料"
    assert dossier_title(case, "12315", rules) == "全国12315平台投诉证据材料"
    assert dossier_title(case, "email", rules) == "消费投诉邮件附件：证据材料"
    assert dossier_title(case, "payment", rules) == "支付渠道交易投诉证据材料"
    assert dossier_title(replace(case, platform="other", platform_name="小红书"), "platform", rules) == \
        "小红书平台介入申请证据材料"
    assert dossier_title(replace(case, platform=""), "platform", rules) == "电商平台介入申请证据材料"


# ---------------------------------------------------------------------------------------------
# Statutory amounts and legal bases
# ---------------------------------------------------------------------------------------------


def test_food_punitive_is_ten_times_at_least_1000(rules: Rules, tmp_path: Path) -> None:
    base = make_case(tmp_path)
    case = replace(base, problem=replace(base.problem, type="food_safety"),
                   order=replace(base.order, amount=Decimal("89")), claims=("refund", "punitive"))
    (amount,) = statutory_amounts(case, rules)
    assert amount.amount == Decimal("1000.00")
    assert "食品安全法" in amount.law and amount.article == "第一百四十八条"
    assert amount.arithmetic == "10 × ¥89.00 = ¥890.00，不足 ¥1,000.00，按 ¥1,000.00 计"


def test_not_as_shown_punitive_is_three_times(rules: Rules, tmp_path: Path) -> None:
    (amount,) = statutory_amounts(make_case(tmp_path), rules)  # ¥399, not_as_shown, punitive claimed
    assert amount.amount == Decimal("1197.00")
    assert amount.arithmetic == "3 × ¥399.00 = ¥1,197.00"
    assert "消费者权益保护法" in amount.law and "第五十五条" in amount.article


def test_small_price_gets_the_500_minimum(rules: Rules, tmp_path: Path) -> None:
    case = make_case(tmp_path, order=replace(make_case(tmp_path).order, amount=Decimal("59.9")))
    (amount,) = statutory_amounts(case, rules)
    assert amount.amount == Decimal("500.00")
    assert amount.arithmetic == "3 × ¥59.90 = ¥179.70，不足 ¥500.00，按 ¥500.00 计"


def test_food_category_decides_even_for_other_problem_types(rules: Rules, tmp_path: Path) -> None:
    base = make_case(tmp_path)
    case = replace(base, problem=replace(base.problem, type="quality"),
                   order=replace(base.order, amount=Decimal("150"), category="食品/零食"))
    (amount,) = statutory_amounts(case, rules)
    assert amount.amount == Decimal("1500.00") and amount.article == "第一百四十八条"


def test_no_amount_without_a_punitive_claim_or_a_price(rules: Rules, tmp_path: Path) -> None:
    base = make_case(tmp_path)
    assert statutory_amounts(replace(base, claims=("return_refund",)), rules) == ()
    assert statutory_amounts(replace(base, order=replace(base.order, amount=None)), rules) == ()


@given(st.decimals(min_value=Decimal("0.01"), max_value=Decimal("1000000"), places=2))
def test_amount_is_multiple_or_minimum(price: Decimal) -> None:
    rules = load_rules()
    case = make_case(Path("/case"), order=replace(make_case(Path("/case")).order, amount=price))
    (amount,) = statutory_amounts(case, rules)
    assert amount.amount == max(price * 3, Decimal(500))
    assert amount.arithmetic.startswith(f"3 × ¥{price:,.2f} = ")


def test_legal_bases_for_not_as_shown(rules: Rules, tmp_path: Path) -> None:
    bases = legal_bases(make_case(tmp_path), rules)
    cited = {(b.law, b.article) for b in bases}
    assert ("《消费者权益保护法》", "第二十三条") in cited
    assert ("《消费者权益保护法》", "第五十五条第一款") in cited
    assert any("网络消费纠纷" in law and article == "第十二条" for law, article in cited)
    # a 2024 purchase is not governed by the 2026 livestream regulation
    assert not any("直播电商监督管理办法" in law for law, _ in cited)
    assert all(b.summary for b in bases)


def test_livestream_regulation_cited_for_purchases_after_it_took_effect(rules: Rules, tmp_path: Path) -> None:
    base = make_case(tmp_path)
    case = replace(base, order=replace(base.order, time=sh(2026, 3, 1, 20, 0, 0)))
    cited = {(b.law, b.article) for b in legal_bases(case, rules)}
    assert ("《直播电商监督管理办法》", "第三十四条") in cited


def test_taobao_rules_added_for_taobao_cases(rules: Rules, tmp_path: Path) -> None:
    base = make_case(tmp_path)
    case = replace(base, platform="taobao", problem=replace(base.problem, type="not_received"), claims=())
    cited = {(b.law, b.article) for b in legal_bases(case, rules)}
    assert ("《淘宝平台争议处理规则》", "第三十八条") in cited
    assert ("《电子商务法》", "第五十一条") in cited
    assert not any(article.startswith("第五十五条") for _, article in cited)


def test_no_reason_return_deadline_counts_from_the_day_after_signing(rules: Rules) -> None:
    assert no_reason_return_deadline(sh(2024, 11, 13, 14, 2, 0), rules).isoformat() == "2024-11-20"
    assert no_reason_return_deadline(sh(2024, 11, 13, 23, 59, 0), rules).isoformat() == "2024-11-20"
    # signed 2024-11-13 17:00 UTC is already 11-14 in Shanghai
    utc = datetime(2024, 11, 13, 17, 0, tzinfo=UTC)
    assert no_reason_return_deadline(utc, rules, tz=timezone(timedelta(hours=8))).isoformat() == "2024-11-21"


def test_urgency_and_claim_labels(rules: Rules, tmp_path: Path) -> None:
    case = make_case(tmp_path)
    assert urgency_for(case, rules) == "紧急（24 小时内处理）"
    wrong_size = replace(case, problem=replace(case.problem, type="wrong_size"))
    assert urgency_for(wrong_size, rules) == "一般（3 天内处理）"
    assert tuple(rules.claim_labels[c] for c in case.claims) == ("退货退款", "惩罚性赔偿")


def test_advice_follows_conditions(rules: Rules, tmp_path: Path) -> None:
    base = make_case(tmp_path, platform="taobao")
    confirmed = advice_for(replace(base, order=replace(base.order, confirmed_receipt=True)), rules)
    assert any("第七十六条" in a for a in confirmed)
    assert not any(a == "问题解决前不要点击“确认收货”。" for a in confirmed)
    unconfirmed = advice_for(base, rules)
    assert "问题解决前不要点击“确认收货”。" in unconfirmed
    assert any("第六条" in a for a in unconfirmed)  # punitive claimed: Taobao will not handle it
    assert not any("淘宝" in a for a in advice_for(replace(base, platform="douyin"), rules))


# ---------------------------------------------------------------------------------------------
# The checklist
# ---------------------------------------------------------------------------------------------


def _full_evidence(exhibit: ExhibitMaker) -> list[Exhibit]:
    kinds = [EvidenceKind.ORDER, EvidenceKind.PRODUCT, EvidenceKind.CHAT, EvidenceKind.UNBOXING,
             EvidenceKind.LOGISTICS, EvidenceKind.PAYMENT, EvidenceKind.COMPARISON]
    items = [exhibit(kind) for kind in kinds]
    items.append(exhibit(EvidenceKind.LIVESTREAM, proves="证明主播称包是头层牛皮"))
    return items


def test_complete_douyin_not_as_shown_case_for_12315(rules: Rules, tmp_path: Path,
                                                     exhibit: ExhibitMaker) -> None:
    items = build_checklist(_complete_case(tmp_path), _full_evidence(exhibit), "12315", rules, NOW)
    assert [i for i in items if i.status is not Status.PRESENT] == []
    assert checklist_complete(items, strict=True)
    by_key = _by_key(items)
    assert by_key["evidence.livestream"].exhibits == (8,)
    assert by_key["field.merchant.credit_code"].status is Status.PRESENT
    assert by_key["deadline.limitation"].status is Status.PRESENT


def test_missing_phone_for_12315(rules: Rules, tmp_path: Path, exhibit: ExhibitMaker) -> None:
    case = _complete_case(tmp_path)
    case = replace(case, complainant=replace(case.complainant, phone=""))
    items = build_checklist(case, _full_evidence(exhibit), "12315", rules, NOW)
    phone = _by_key(items)["field.complainant.phone"]
    assert phone.status is Status.MISSING and phone.required
    assert phone.reason.startswith("缺少投诉人电话（complainant.phone）")
    assert not checklist_complete(items, strict=False)
    # the platform channel does not ask for the complainant's phone
    platform_items = build_checklist(case, _full_evidence(exhibit), "platform", rules, NOW)
    assert "field.complainant.phone" not in _by_key(platform_items)
    assert checklist_complete(platform_items, strict=False)


def test_recipient_statement_claims_facts_and_only_what_is_there(rules: Rules, tmp_path: Path,
                                                                 exhibit: ExhibitMaker) -> None:
    """The recipient's wording names facts; a missing or weak item claims nothing."""
    case = _complete_case(tmp_path)
    case = replace(case, complainant=replace(case.complainant, phone=""),
                   merchant=replace(case.merchant, credit_code="91330106MA2B0XXXXX"))
    evidence = [e for e in _full_evidence(exhibit) if e.kind is not EvidenceKind.CHAT]
    by_key = _by_key(build_checklist(case, evidence, "12315", rules, NOW))
    assert by_key["field.complainant.name"].statement == case.complainant.name
    assert by_key["field.complainant.phone"].statement == ""
    assert by_key["field.merchant.credit_code"].statement == ""
    assert by_key["evidence.chat"].statement == ""
    assert by_key["evidence.livestream"].statement == by_key["evidence.livestream"].reason.split("证明目的：")[1]
    limitation = by_key["deadline.limitation"].statement
    assert "购买之日" in limitation and "第十五条" in limitation
    for item in by_key.values():
        assert not re.search(r"[a-z_]+\.[a-z_]+|evidence/|case\.yaml", item.statement), item


def test_merchant_name_accepts_company_or_shop(rules: Rules, tmp_path: Path, exhibit: ExhibitMaker) -> None:
    case = _complete_case(tmp_path)
    shop_only = replace(case, merchant=replace(case.merchant, company=""))
    assert _by_key(build_checklist(shop_only, [], "12315", rules, NOW))["field.merchant.name"].status \
        is Status.PRESENT
    neither = replace(shop_only, merchant=replace(shop_only.merchant, shop_name=""))
    item = _by_key(build_checklist(neither, [], "12315", rules, NOW))["field.merchant.name"]
    assert item.status is Status.MISSING
    assert "merchant.company 或 merchant.shop_name" in item.reason


def test_invalid_credit_code(rules: Rules, tmp_path: Path, exhibit: ExhibitMaker) -> None:
    case = make_case(tmp_path, merchant=replace(make_case(tmp_path).merchant, credit_code="91330106MA2B0XXXXX"))
    evidence = _full_evidence(exhibit)
    item = _by_key(build_checklist(case, evidence, "12315", rules, NOW))["field.merchant.credit_code"]
    assert item.status is Status.MISSING and item.required
    assert "校验位" in item.reason and "merchant.credit_code" in item.reason
    platform_items = build_checklist(case, evidence, "platform", rules, NOW)
    item = _by_key(platform_items)["field.merchant.credit_code"]
    assert item.status is Status.WEAK and not item.required
    assert checklist_complete(platform_items, strict=False)
    assert not checklist_complete(platform_items, strict=True)


def test_absent_credit_code_is_a_suggestion_for_12315(rules: Rules, tmp_path: Path) -> None:
    case = _complete_case(tmp_path)
    case = replace(case, merchant=replace(case.merchant, credit_code=""))
    item = _by_key(build_checklist(case, [], "12315", rules, NOW))["field.merchant.credit_code"]
    assert item.status is Status.MISSING and not item.required
    assert "field.merchant.credit_code" not in _by_key(build_checklist(case, [], "platform", rules, NOW))


@pytest.mark.parametrize(("now", "status"), [
    (sh(2024, 6, 1, 23, 0, 0), Status.PRESENT),
    (sh(2024, 6, 2, 0, 30, 0), Status.MISSING),
])
def test_three_year_limit_for_12315(rules: Rules, tmp_path: Path, exhibit: ExhibitMaker,
                                    now: datetime, status: Status) -> None:
    case = _complete_case(tmp_path)
    case = replace(case, problem=replace(case.problem, discovered_at=sh(2021, 6, 1, 10, 0, 0)))
    items = build_checklist(case, _full_evidence(exhibit), "12315", rules, now)
    item = _by_key(items)["deadline.limitation"]
    assert item.status is status and item.required
    assert "problem.discovered_at" in item.reason
    if status is Status.MISSING:
        assert "超过 3 年" in item.reason and "第十五条" in item.reason
        assert not checklist_complete(items, strict=False)
    # other channels have no such limit
    assert "deadline.limitation" not in _by_key(build_checklist(case, [], "platform", rules, now))


def test_three_year_limit_falls_back_to_order_time(rules: Rules, tmp_path: Path) -> None:
    case = _complete_case(tmp_path)  # order.time 2024-11-10, no discovered_at
    item = _by_key(build_checklist(case, [], "12315", rules, sh(2028, 1, 1, 0, 0, 0)))["deadline.limitation"]
    assert item.status is Status.MISSING and "order.time" in item.reason
    undated = replace(case, order=replace(case.order, time=None))
    item = _by_key(build_checklist(undated, [], "12315", rules, NOW))["deadline.limitation"]
    assert item.status is Status.WEAK


def test_one_sided_chat_is_weak(rules: Rules, tmp_path: Path, exhibit: ExhibitMaker) -> None:
    finding = Finding(Severity.WARNING, "chat.one_sided", "只有一方的发言")
    evidence = [e for e in _full_evidence(exhibit) if e.kind is not EvidenceKind.CHAT]
    one_sided = exhibit(EvidenceKind.CHAT,
                        inspection=ChatInspection(transcript=Transcript("plain", "utf-8"), findings=(finding,)))
    items = build_checklist(_complete_case(tmp_path), [*evidence, one_sided], "12315", rules, NOW)
    chat = _by_key(items)["evidence.chat"]
    assert chat.status is Status.WEAK and chat.exhibits == (one_sided.number,)
    assert "一方" in chat.reason and one_sided.label in chat.reason
    assert checklist_complete(items, strict=False) and not checklist_complete(items, strict=True)
    # a complete transcript alongside it satisfies the requirement
    full = exhibit(EvidenceKind.CHAT, inspection=ChatInspection(transcript=Transcript("plain", "utf-8")))
    items = build_checklist(_complete_case(tmp_path), [*evidence, one_sided, full], "12315", rules, NOW)
    assert _by_key(items)["evidence.chat"].status is Status.PRESENT


@pytest.mark.parametrize(("stamp", "words"), [
    (Stamp(sh(2024, 11, 14, 9, 0, 0), TimeSource.MTIME), "文件修改时间"),
    (Stamp.none(), "没有可确认"),
])
def test_time_only_from_mtime_is_weak(rules: Rules, tmp_path: Path, exhibit: ExhibitMaker,
                                      stamp: Stamp, words: str) -> None:
    evidence = [e for e in _full_evidence(exhibit) if e.kind is not EvidenceKind.PRODUCT]
    photos = [exhibit(EvidenceKind.PRODUCT, stamp=stamp), exhibit(EvidenceKind.PRODUCT, stamp=stamp)]
    product = _by_key(build_checklist(_complete_case(tmp_path), [*evidence, *photos], "12315", rules, NOW))[
        "evidence.product"]
    assert product.status is Status.WEAK
    assert words in product.reason
    assert product.exhibits == tuple(p.number for p in photos)
    # one photo with a real capture time is enough
    good = exhibit(EvidenceKind.PRODUCT)
    items = build_checklist(_complete_case(tmp_path), [*evidence, *photos, good], "12315", rules, NOW)
    assert _by_key(items)["evidence.product"].status is Status.PRESENT


def test_unviewable_image_is_weak(rules: Rules, tmp_path: Path, exhibit: ExhibitMaker) -> None:
    evidence = [e for e in _full_evidence(exhibit) if e.kind is not EvidenceKind.ORDER]
    broken = exhibit(EvidenceKind.ORDER,
                     inspection=ImageInspection(preview_error="图片文件已损坏"))
    item = _by_key(build_checklist(_complete_case(tmp_path), [*evidence, broken], "12315", rules, NOW))[
        "evidence.order"]
    assert item.status is Status.WEAK and "图片文件已损坏" in item.reason


def test_livestream_must_say_which_claim_it_shows(rules: Rules, tmp_path: Path,
                                                  exhibit: ExhibitMaker) -> None:
    default_proves = rules.kinds[EvidenceKind.LIVESTREAM].proves
    evidence = [e for e in _full_evidence(exhibit) if e.kind is not EvidenceKind.LIVESTREAM]
    bare = exhibit(EvidenceKind.LIVESTREAM, name="live.mp4", proves=default_proves)
    case = _complete_case(tmp_path)
    item = _by_key(build_checklist(case, [*evidence, bare], "12315", rules, NOW))["evidence.livestream"]
    assert item.status is Status.WEAK and "moments" in item.reason and "proves" in item.reason
    # declared in case.yaml: a moment in the recording
    declared = replace(case, evidence=(EvidenceOverride(file=bare.source.rel_path,
                                                        moments=("00:12:31 主播承诺头层牛皮",)),))
    item = _by_key(build_checklist(declared, [*evidence, bare], "12315", rules, NOW))["evidence.livestream"]
    assert item.status is Status.PRESENT
    # or found by the recording inspector
    timed = replace(bare, inspection=VideoInspection(moments=(Moment(751.0, "主播承诺"),)))
    item = _by_key(build_checklist(case, [*evidence, timed], "12315", rules, NOW))["evidence.livestream"]
    assert item.status is Status.PRESENT


def test_missing_required_and_supporting_evidence(rules: Rules, tmp_path: Path,
                                                  exhibit: ExhibitMaker) -> None:
    order = exhibit(EvidenceKind.ORDER)
    items = _by_key(build_checklist(_complete_case(tmp_path), [order], "12315", rules, NOW))
    livestream = items["evidence.livestream"]
    assert livestream.status is Status.MISSING and livestream.required
    assert "evidence/livestream/" in livestream.reason and livestream.label == "直播间承诺截图或录屏"
    unboxing = items["evidence.unboxing"]
    assert unboxing.status is Status.MISSING and not unboxing.required
    assert unboxing.reason.startswith("建议补充")
    assert items["evidence.order"].status is Status.PRESENT and items["evidence.order"].exhibits == (1,)


def test_without_problem_type_the_generic_list_applies(rules: Rules, tmp_path: Path,
                                                       exhibit: ExhibitMaker) -> None:
    case = _complete_case(tmp_path)
    case = replace(case, problem=replace(case.problem, type=""))
    items = build_checklist(case, [exhibit(EvidenceKind.ORDER)], "general", rules, NOW)
    by_key = _by_key(items)
    ptype = by_key["field.problem.type"]
    assert ptype.status is Status.MISSING and ptype.required and "problem.type" in ptype.reason
    required = {i.key for i in items if i.key.startswith("evidence.") and i.required}
    assert required == {"evidence.order", "evidence.product", "evidence.chat"}
    assert not checklist_complete(items, strict=False)
    assert urgency_for(case, rules) == rules.urgency["other"].label


def test_unknown_problem_type_is_named(rules: Rules, tmp_path: Path) -> None:
    case = _complete_case(tmp_path)
    case = replace(case, problem=replace(case.problem, type="broken_screen"))
    item = _by_key(build_checklist(case, [], "general", rules, NOW))["field.problem.type"]
    assert item.status is Status.MISSING and "broken_screen" in item.reason


def test_no_case_file_lists_the_missing_case_facts(rules: Rules, tmp_path: Path,
                                                   exhibit: ExhibitMaker) -> None:
    case = Case(root=tmp_path, has_case_file=False)
    items = build_checklist(case, [exhibit(EvidenceKind.ORDER)], "12315", rules, NOW)
    by_key = _by_key(items)
    assert by_key["case_file"].status is Status.MISSING and "case.yaml" in by_key["case_file"].reason
    for key in ("field.complainant.name", "field.complainant.phone", "field.complainant.address",
                "field.merchant.name", "field.merchant.address", "field.claims", "field.order.amount"):
        assert by_key[key].status is Status.MISSING and by_key[key].required, key
    assert by_key["deadline.limitation"].status is Status.WEAK
    assert not checklist_complete(items, strict=False)


def test_other_platform_needs_its_name(rules: Rules, tmp_path: Path) -> None:
    case = replace(_complete_case(tmp_path), platform="other")
    item = _by_key(build_checklist(case, [], "12315", rules, NOW))["field.platform_name"]
    assert item.status is Status.MISSING
    named = replace(case, platform_name="小红书")
    item = _by_key(build_checklist(named, [], "12315", rules, NOW))["field.platform_name"]
    assert item.status is Status.PRESENT
    douyin = build_checklist(_complete_case(tmp_path), [], "12315", rules, NOW)
    assert "field.platform_name" not in _by_key(douyin)


def test_checklist_complete_semantics() -> None:
    present = ChecklistItem("a", "a", True, Status.PRESENT, "")
    optional_missing = ChecklistItem("b", "b", False, Status.MISSING, "")
    weak = ChecklistItem("c", "c", False, Status.WEAK, "")
    required_missing = ChecklistItem("d", "d", True, Status.MISSING, "")
    assert checklist_complete([present, optional_missing], strict=True)
    assert checklist_complete([present, weak], strict=False)
    assert not checklist_complete([present, weak], strict=True)
    assert not checklist_complete([present, required_missing], strict=False)


def test_unclassified_files_do_not_count_as_other_evidence(rules: Rules, tmp_path: Path) -> None:
    base = _complete_case(tmp_path)
    case = replace(base, problem=replace(base.problem, type="not_received"))
    loose = make_exhibit(1, make_source_file(tmp_path, "evidence/IMG_0001.png", kind=EvidenceKind.OTHER))
    assert not loose.source.kind_from_folder
    item = _by_key(build_checklist(case, [loose], "general", rules, NOW))["evidence.other"]
    assert item.status is Status.MISSING
    filed = replace(loose, source=replace(loose.source, kind_from_folder=True))
    item = _by_key(build_checklist(case, [filed], "general", rules, NOW))["evidence.other"]
    assert item.status is Status.PRESENT
    override = EvidenceOverride(file=loose.source.rel_path, kind=EvidenceKind.OTHER)
    declared = replace(case, evidence=(override,))
    item = _by_key(build_checklist(declared, [loose], "general", rules, NOW))["evidence.other"]
    assert item.status is Status.PRESENT


def test_email_has_wording_for_every_recipient(rules: Rules) -> None:
    recipients = target_profile("email", rules).recipients
    assert list(recipients) == list(Recipient)
    for wording in recipients.values():
        assert wording.label and wording.salutation and wording.subject and wording.opening
    assert target_profile("12315", rules).recipients == {}


def test_a_recipient_missing_from_the_email_target_is_named(tmp_path: Path) -> None:
    folder = _copy_templates(tmp_path)
    path = folder / "targets.yaml"
    data = yaml.safe_load(path.read_text("utf-8"))
    del data["targets"]["email"]["recipients"]["market_regulation"]
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
    with pytest.raises(TemplateError) as info:
        load_rules_from(folder)
    assert "targets.email.recipients" in info.value.message and "market_regulation" in info.value.message
    assert "缺少" in info.value.message


def test_an_unknown_placeholder_in_a_recipient_subject_is_refused(tmp_path: Path) -> None:
    folder = _copy_templates(tmp_path)
    _edit(folder, "targets.yaml", "申请平台介入：订单 {order_number}", "申请平台介入：订单 {order_no}")
    with pytest.raises(TemplateError) as info:
        load_rules_from(folder)
    assert "targets.email.recipients.platform.subject" in info.value.message
    assert "order_number" in info.value.message  # the did-you-mean


def test_a_recipient_citing_a_missing_article_is_refused(tmp_path: Path) -> None:
    folder = _copy_templates(tmp_path)
    _edit(folder, "targets.yaml", "legal: [consumer_law_44]", "legal: [consumer_law_4]")
    with pytest.raises(TemplateError) as info:
        load_rules_from(folder)
    assert "targets.email.recipients.platform.legal" in info.value.message
