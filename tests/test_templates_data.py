"""Domain facts live in templates/: a platform or problem type added there needs no code change,
and the advice texts written there reach the shopper (check, status)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import click
import pypdfium2
import pytest
import yaml
from click.testing import CliRunner
from factories import make_exhibit, make_jpeg, make_source_file

from evidencekit.case.load import EVENT_CHANNELS, load_case
from evidencekit.channels.pack import key_exhibits
from evidencekit.cli import main
from evidencekit.cli.common import TARGETS
from evidencekit.model import EvidenceKind
from evidencekit.rules.catalog import EVENT_CHANNEL_KEYS, load_rules, load_rules_from
from evidencekit.timeinfo import time_from_filename
from evidencekit.timeline import build_timeline

ROOT = Path(__file__).resolve().parents[1]

NEW_PLATFORM_ADVICE = "在小红书订单页申请售后时，附上笔记截图。"
NEW_TYPE_ADVICE = "在自然光下拍摄商品，并截下详情页的颜色图。"
NEW_TYPE_LABEL = "颜色与商品详情页不符"

CASE_YAML = """\
schema: 1
platform: {platform}
complainant: {{name: 张三, phone: "13800138000", address: 上海市浦东新区世纪大道100号}}
merchant: {{shop_name: 好物优选旗舰店, company: 杭州好物优选电子商务有限公司, address: 浙江省杭州市西湖区文三路1号}}
order:
  number: "6912345678901234567"
  time: 2024-11-10 20:31
  product: 真皮女士手提包
  amount: 399
  signed_at: 2024-11-13 14:02
problem:
  type: {problem_type}
  summary: 收到的包颜色不对
  discovered_at: 2024-11-13 15:00
claims: [return_refund]
events:
  - time: 2024-11-13 16:00
    channel: seller
    note: 联系商家客服，要求退货
"""


@pytest.fixture
def clean_rules() -> Iterator[None]:
    """Rules are cached per process: clear before and after a test that changes where they come from."""
    load_rules.cache_clear()
    yield
    load_rules.cache_clear()


@pytest.fixture
def edited_templates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clean_rules: None) -> Path:
    """A copy of templates/ with a new platform (xiaohongshu) and a new problem type (wrong_color)."""
    folder = tmp_path / "templates"
    shutil.copytree(ROOT / "templates", folder)
    platforms_file = folder / "platforms.yaml"
    platforms = yaml.safe_load(platforms_file.read_text(encoding="utf-8"))
    platforms["platforms"]["xiaohongshu"] = {
        "label": "小红书",
        "full_name": "小红书电商",
        "channels": [{"name": "订单页联系商家", "path": "小红书 App →“我”→“订单”→“联系商家”"}],
        "timing": {"seller_reply_hours": 24, "typical_seller": "2 小时", "confirmed": False, "source": "测试"},
        "intervention": {"route": "订单页申请售后", "confirmed": False, "source": "测试"},
        "advice": [NEW_PLATFORM_ADVICE],
    }
    platforms_file.write_text(yaml.safe_dump(platforms, allow_unicode=True, sort_keys=False), encoding="utf-8")
    types_file = folder / "problem_types.yaml"
    types = yaml.safe_load(types_file.read_text(encoding="utf-8"))
    types["types"]["wrong_color"] = {
        "label": NEW_TYPE_LABEL,
        "urgency": "general",
        "required": [
            {"kind": "order", "proves": "证明购买了该商品"},
            {"kind": "product", "label": "自然光下的商品照片", "proves": "证明实际颜色"},
        ],
        "legal": ["consumer_law_23"],
        "punitive": "none",
        "advice": {"all": [NEW_TYPE_ADVICE]},
    }
    types_file.write_text(yaml.safe_dump(types, allow_unicode=True, sort_keys=False), encoding="utf-8")
    monkeypatch.setenv("EVIDENCEKIT_TEMPLATES", str(folder))
    return folder


def _case(tmp_path: Path, platform: str, problem_type: str) -> Path:
    root = tmp_path / "case"
    (root / "evidence" / "order").mkdir(parents=True)
    make_jpeg(root / "evidence" / "order" / "order.jpg")
    (root / "case.yaml").write_text(CASE_YAML.format(platform=platform, problem_type=problem_type),
                                    encoding="utf-8")
    return root


def _run(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code in (0, 6), result.output
    return result.stdout


def _cover_text(case: Path, *extra: str) -> str:
    out = case / "dossier.pdf"
    result = CliRunner().invoke(main, ["build", str(case), "-o", str(out), "--force", "-q", *extra])
    assert result.exit_code == 0, result.output
    doc = pypdfium2.PdfDocument(str(out))
    try:
        return str(doc[0].get_textpage().get_text_range())
    finally:
        doc.close()


def _platform_row(cover: str) -> str:
    lines = [line.strip() for line in cover.replace("\r", "").split("\n")]
    at = next(i for i, line in enumerate(lines) if line.startswith("购物平台"))
    row = lines[at].removeprefix("购物平台").strip()
    return row or lines[at + 1]


def test_templates_folder_variable_points_the_loader_elsewhere(edited_templates: Path) -> None:
    shipped = load_rules_from(ROOT / "templates")
    assert "xiaohongshu" not in shipped.platforms and "wrong_color" not in shipped.problem_types
    rules = load_rules()
    assert rules.platforms["xiaohongshu"].label == "小红书"
    assert rules.problem_types["wrong_color"].label == NEW_TYPE_LABEL


def test_a_platform_and_problem_type_added_in_yaml_show_everywhere(edited_templates: Path,
                                                                   tmp_path: Path) -> None:
    case = _case(tmp_path, "xiaohongshu", "wrong_color")
    cover = _cover_text(case, "--target", "platform")
    assert _platform_row(cover) == "小红书"
    assert "小红书平台介入申请证据材料" in cover
    assert NEW_TYPE_LABEL in cover

    report = json.loads(_run("check", str(case), "--json", "-q"))
    items = {i["key"]: i for i in report["checklist"]}
    assert items["field.problem.type"]["status"] == "present"
    assert NEW_TYPE_LABEL in items["field.problem.type"]["reason"]
    assert items["evidence.product"]["label"] == "自然光下的商品照片"

    platform_letter = _run("letter", str(case), "--target", "platform")
    assert NEW_TYPE_LABEL in platform_letter
    letter_12315 = _run("letter", str(case), "--target", "12315")
    assert "小红书" in letter_12315

    status = _run("status", str(case))
    assert "参考：小红书商家客服一般2 小时内回复" in status
    assert "24 小时" in status  # the new platform's seller_reply_hours
    assert NEW_PLATFORM_ADVICE in status
    assert NEW_TYPE_ADVICE in status


def test_other_platform_has_one_label_everywhere(tmp_path: Path, clean_rules: None) -> None:
    label = load_rules().platforms["other"].label
    case = _case(tmp_path, "other", "not_as_shown")
    cover = _cover_text(case, "--target", "platform")
    assert _platform_row(cover) == label
    assert f"{label}平台介入申请证据材料" in cover
    status = _run("status", str(case))
    assert f"参考：{label}商家客服一般" in status
    assert "platform_name 中写明平台名称" in status


def test_other_platform_with_a_name_shows_that_name_everywhere(tmp_path: Path, clean_rules: None) -> None:
    case = _case(tmp_path, "other\nplatform_name: 拼多多", "not_as_shown")
    cover = _cover_text(case, "--target", "platform")
    assert _platform_row(cover) == "拼多多"
    assert "拼多多平台介入申请证据材料" in cover
    assert "拼多多" in _run("letter", str(case), "--target", "12315")
    status = _run("status", str(case))
    assert "参考：拼多多商家客服一般" in status
    assert "platform_name 中写明平台名称" not in status  # that advice only shows while the name is missing


def test_advice_from_templates_appears_in_check_and_status(tmp_path: Path, clean_rules: None) -> None:
    rules = load_rules()
    platform_advice = rules.platforms["douyin"].advice[0].text
    type_advice = rules.problem_types["not_as_shown"].advice["all"][0].text
    case = _case(tmp_path, "douyin", "not_as_shown")

    text = _run("check", str(case), "-q")
    assert "处理建议" in text
    assert platform_advice in text and type_advice in text
    report = json.loads(_run("check", str(case), "--json", "-q"))
    assert platform_advice in report["advice"] and type_advice in report["advice"]

    status = _run("status", str(case))
    assert platform_advice in status and type_advice in status
    (row,) = json.loads(_run("status", str(case), "--json"))
    assert platform_advice in row["advice"] and type_advice in row["advice"]


def test_cli_target_choices_are_the_templates_targets(clean_rules: None) -> None:
    # cli.common.TARGETS is spelled out so `--help` need not read templates/; this keeps them equal.
    assert set(TARGETS) == set(load_rules().targets)


def test_follow_up_wording_and_deadlines_come_from_templates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                             clean_rules: None) -> None:
    folder = tmp_path / "templates"
    shutil.copytree(ROOT / "templates", folder)
    followup_file = folder / "followup.yaml"
    followup = yaml.safe_load(followup_file.read_text(encoding="utf-8"))
    followup["channels"]["seller"] = {"label": "卖家", "action": "找卖家"}
    followup["ladder"]["platform"]["label"] = "请平台处理"
    followup["ladder"]["platform"]["how"] = "到售后页点“平台介入”"
    followup["no_reason_return"]["days"] = 15
    followup["no_reason_return"]["label"] = "无理由退货（签收次日起 {days} 天）"
    followup_file.write_text(yaml.safe_dump(followup, allow_unicode=True, sort_keys=False), encoding="utf-8")
    targets_file = folder / "targets.yaml"
    targets = yaml.safe_load(targets_file.read_text(encoding="utf-8"))
    del targets["targets"]["12315"]["limitation_years"], targets["targets"]["12315"]["limitation_basis"]
    targets_file.write_text(yaml.safe_dump(targets, allow_unicode=True, sort_keys=False), encoding="utf-8")
    monkeypatch.setenv("EVIDENCEKIT_TEMPLATES", str(folder))
    case = _case(tmp_path, "douyin", "not_as_shown")

    status = _run("status", str(case))
    assert "2024-11-13 16:00 卖家" in status  # the last follow-up's channel
    assert "请平台处理" in status and "到售后页点“平台介入”" in status
    assert "无理由退货（签收次日起 15 天）：2024-11-28" in status
    assert "投诉时效" not in status  # targets.yaml no longer gives 12315 a limitation period
    (row,) = json.loads(_run("status", str(case), "--json"))
    assert row["next_step"]["label"] == "请平台处理"

    letter = _run("letter", str(case), "--target", "12315")
    assert "找卖家：联系商家客服，要求退货" in letter
    entries = build_timeline(load_case(case), [])
    assert "联系卖家：联系商家客服，要求退货" in [e.label for e in entries]


def test_case_yaml_may_name_platforms_kinds_and_claims_in_the_templates_words(
        edited_templates: Path, tmp_path: Path) -> None:
    root = _case(tmp_path, "小红书", "wrong_color")
    text = (root / "case.yaml").read_text(encoding="utf-8").replace("claims: [return_refund]", "claims: [退一赔三]")
    text += "evidence:\n  - file: evidence/order/order.jpg\n    kind: 订单截图\n"
    (root / "case.yaml").write_text(text, encoding="utf-8")
    case = load_case(root)
    assert case.platform == "xiaohongshu"  # the label in platforms.yaml
    assert case.claims == ("punitive",)  # an alias in problem_types.yaml
    assert case.evidence[0].kind is not None and case.evidence[0].kind.value == "order"  # a folder name


def test_cli_kind_choices_are_the_templates_kinds(clean_rules: None) -> None:
    # Listed in code so `--help` need not read templates/; this keeps the two from drifting apart.
    kind = next(p for p in main.commands["add"].params if p.name == "kind")
    assert isinstance(kind.type, click.Choice)
    assert set(kind.type.choices) == set(load_rules().kinds)


def test_pack_wording_and_upload_order_come_from_targets_yaml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                              clean_rules: None) -> None:
    folder = tmp_path / "templates"
    shutil.copytree(ROOT / "templates", folder)
    targets_file = folder / "targets.yaml"
    targets = yaml.safe_load(targets_file.read_text(encoding="utf-8"))
    targets["targets"]["12315"]["pack"]["upload_heading"] = "上传到 12315 的附件（测试）"
    targets["targets"]["12315"]["pack"]["text_heading"] = "表单内容（测试）"
    targets["targets"]["12315"]["pack"]["text_note"] = "请对照输入（测试）。"
    targets_file.write_text(yaml.safe_dump(targets, allow_unicode=True, sort_keys=False), encoding="utf-8")
    monkeypatch.setenv("EVIDENCEKIT_TEMPLATES", str(folder))
    case = _case(tmp_path, "douyin", "not_as_shown")
    out = tmp_path / "pack"
    result = CliRunner().invoke(main, ["pack", str(case), "--target", "12315", "-o", str(out), "-q"])
    assert result.exit_code == 0, result.output
    readmes = {p.name: p.read_bytes().decode("utf-8-sig") for p in out.glob("*.txt")}
    readme = readmes["README.txt"]
    assert "一、上传到 12315 的附件（测试）" in readme
    assert "三、表单内容（测试）" in readme
    assert "    请对照输入（测试）。" in readme


def test_key_evidence_order_is_read_from_targets_yaml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     clean_rules: None) -> None:
    exhibits = [make_exhibit(n, make_source_file(tmp_path, f"evidence/{k}/{n}.jpg", kind=EvidenceKind(k)),
                             kind=EvidenceKind(k))
                for n, k in enumerate(("order", "payment", "livestream"), start=1)]
    assert [e.kind.value for e in key_exhibits(exhibits, "12315", load_rules())] == ["livestream", "order", "payment"]
    assert [e.kind.value for e in key_exhibits(exhibits, "payment", load_rules())] == ["payment", "order", "livestream"]
    folder = tmp_path / "templates"
    shutil.copytree(ROOT / "templates", folder)
    targets_file = folder / "targets.yaml"
    targets = yaml.safe_load(targets_file.read_text(encoding="utf-8"))
    targets["targets"]["12315"]["pack"]["key_evidence"] = ["order", "payment", "livestream"]
    targets_file.write_text(yaml.safe_dump(targets, allow_unicode=True, sort_keys=False), encoding="utf-8")
    monkeypatch.setenv("EVIDENCEKIT_TEMPLATES", str(folder))
    load_rules.cache_clear()
    assert [e.kind.value for e in key_exhibits(exhibits, "12315", load_rules())] == ["order", "payment", "livestream"]


def test_words_that_mark_a_12315_note_come_from_followup_yaml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                               clean_rules: None) -> None:
    folder = tmp_path / "templates"
    shutil.copytree(ROOT / "templates", folder)
    followup_file = folder / "followup.yaml"
    followup = yaml.safe_load(followup_file.read_text(encoding="utf-8"))
    followup["notes_12315"]["accepted"].append("收到受理短信")
    followup_file.write_text(yaml.safe_dump(followup, allow_unicode=True, sort_keys=False), encoding="utf-8")
    monkeypatch.setenv("EVIDENCEKIT_TEMPLATES", str(folder))
    case = _case(tmp_path, "douyin", "not_as_shown")
    text = (root := case / "case.yaml").read_text(encoding="utf-8")
    text += ("  - time: 2024-11-20 10:00\n    channel: \"12315\"\n    note: 提交投诉\n"
             "  - time: 2024-11-22 10:00\n    channel: \"12315\"\n    note: 收到受理短信\n")
    root.write_text(text, encoding="utf-8")
    (row,) = json.loads(_run("status", str(case), "--json"))
    assert "12315.mediation" in [d["key"] for d in row["deadlines"]]


def test_follow_up_channel_aliases_come_from_followup_yaml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                           clean_rules: None) -> None:
    assert EVENT_CHANNELS == EVENT_CHANNEL_KEYS  # the closed vocabulary both modules check against
    folder = tmp_path / "templates"
    shutil.copytree(ROOT / "templates", folder)
    followup_file = folder / "followup.yaml"
    followup = yaml.safe_load(followup_file.read_text(encoding="utf-8"))
    followup["channels"]["seller"]["aliases"] = ["客服", "卖家"]
    followup_file.write_text(yaml.safe_dump(followup, allow_unicode=True, sort_keys=False), encoding="utf-8")
    monkeypatch.setenv("EVIDENCEKIT_TEMPLATES", str(folder))
    case = _case(tmp_path, "douyin", "not_as_shown")
    text = (case / "case.yaml").read_text(encoding="utf-8").replace("channel: seller", "channel: 卖家")
    (case / "case.yaml").write_text(text, encoding="utf-8")
    assert [e.channel for e in load_case(case).events] == ["seller"]
    result = CliRunner().invoke(main, ["log", str(case), "又联系了一次", "--channel", "卖家",
                                       "--time", "2024-11-14 10:00"])
    assert result.exit_code == 0, result.output
    assert [e.channel for e in load_case(case).events] == ["seller", "seller"]
    bad = CliRunner().invoke(main, ["log", str(case), "x", "--channel", "wechat"])
    assert bad.exit_code == 2 and "未知的跟进渠道：wechat" in bad.output


def test_a_platform_app_listed_in_platforms_yaml_names_the_screenshot_source(edited_templates: Path) -> None:
    platforms_file = edited_templates / "platforms.yaml"
    platforms = yaml.safe_load(platforms_file.read_text(encoding="utf-8"))
    platforms["platforms"]["xiaohongshu"]["apps"] = ["com.example.redbook"]
    platforms_file.write_text(yaml.safe_dump(platforms, allow_unicode=True, sort_keys=False), encoding="utf-8")
    load_rules.cache_clear()
    stamp = time_from_filename("Screenshot_2024-11-26-23-55-33-852_com.example.redbook.jpg")
    assert stamp is not None and stamp.detail == "小米截图文件名（应用：小红书）"
    douyin = time_from_filename("Screenshot_2024-11-26-23-55-33-852_com.ss.android.ugc.aweme.jpg")
    assert douyin is not None and douyin.detail == "小米截图文件名（应用：抖音）"


def test_pack_help_quotes_the_limits_in_targets_yaml(clean_rules: None) -> None:
    # The help is static text so `--help` reads no templates; this keeps its numbers true.
    rules = load_rules()
    help_text = "".join(CliRunner().invoke(main, ["pack", "--help"]).output.split())  # click wraps lines
    limits_12315 = rules.targets["12315"].attachments
    email = rules.targets["email"].attachments
    assert limits_12315.max_files is not None and limits_12315.max_file_bytes is not None
    assert email.max_total_bytes is not None
    mb_12315, mb_email = limits_12315.max_file_bytes // 1_000_000, email.max_total_bytes // 1_000_000
    assert f"不超过{limits_12315.max_files}个文件、每个不超过{mb_12315}MB" in help_text
    assert f"（{'/'.join(f for f in limits_12315.formats if f != 'jpeg')}）" in help_text
    assert f"email{mb_email}MB，12315{mb_12315}MB" in help_text
    assert f"默认{mb_email}MB" in help_text


def test_chat_format_names_on_the_exhibit_page_come_from_chat_formats_yaml(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clean_rules: None) -> None:
    folder = tmp_path / "templates"
    shutil.copytree(ROOT / "templates", folder)
    formats_file = folder / "chat_formats.yaml"
    formats = yaml.safe_load(formats_file.read_text(encoding="utf-8"))
    formats["formats"]["plain"]["label"] = "带时间的纯文本（测试）"
    formats_file.write_text(yaml.safe_dump(formats, allow_unicode=True, sort_keys=False), encoding="utf-8")
    monkeypatch.setenv("EVIDENCEKIT_TEMPLATES", str(folder))
    case = _case(tmp_path, "douyin", "not_as_shown")
    chat = case / "evidence" / "chat" / "chat.txt"
    chat.parent.mkdir()
    chat.write_text("2024-11-14 19:21 客服: 您好\n2024-11-14 19:22 我: 包的颜色不对\n", encoding="utf-8")
    out = case / "dossier.pdf"
    result = CliRunner().invoke(main, ["build", str(case), "-o", str(out), "--force", "-q"])
    assert result.exit_code == 0, result.output
    doc = pypdfium2.PdfDocument(str(out))
    try:
        text = "".join(page.get_textpage().get_text_range() for page in doc)
    finally:
        doc.close()
    assert "格式：带时间的纯文本（测试）" in text.replace("\r", "").replace("\n", "")
    assert "格式：纯文本" not in text
