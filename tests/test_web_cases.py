"""The case pages of evidencekit serve: the list, a new case, the facts form, the follow-up log.

The case folder on disk stays the single source of truth: what the page writes the CLI reads
(and the other way round), and the user's case.yaml keeps its comments, order and quoting.
"""

from __future__ import annotations

import difflib
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from webclient import WebClient
from webclient import make_case_folder as make_case

from evidencekit.case.followup import log_followup
from evidencekit.case.interview import Proposal
from evidencekit.case.load import load_case
from evidencekit.cli import main
from evidencekit.rules.catalog import load_rules
from evidencekit.web import facts

NOW = datetime(2024, 11, 20, 12, 0, tzinfo=UTC)

# A case.yaml as a person writes it: comments everywhere, their own order, quoting and spacing.
HAND_WRITTEN = """\
# 我的案件（手写）
schema: 1
platform: 抖音商城   # 在抖音直播间买的

order:
  product: '真皮手提包: 黑色'   # 单引号是我自己加的
  # 订单号要加引号
  number: "6912345678901234567"
  amount: 399.00

problem:
  type: 假货
  summary: >
    收到的包是人造革，
    与直播间说的不符

claims: [refund, 惩罚性赔偿]  # 两项

# 跟进
events:
  - time: 2024-11-14 20:05
    channel: seller
    note: 客服说等主管回复
"""


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    folder = tmp_path / "ws"
    folder.mkdir()
    return folder


@pytest.fixture
def web(ws: Path) -> WebClient:
    client = WebClient(ws)
    client.app.config["EK_NOW"] = lambda: NOW
    return client


def text_of(r: Any) -> str:
    return str(r.get_data(as_text=True))


def field_errors(page: str) -> dict[str, str]:
    """``.field-error[data-key]`` elements of a page: key -> their text."""
    out = {}
    for key, body in re.findall(r'<ul class="field-error" data-key="([^"]*)"[^>]*>(.*?)</ul>', page, re.S):
        out[key] = re.sub(r"<[^>]+>", " ", body).strip()
    return out


def changed_lines(before: str, after: str) -> list[str]:
    return [line for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
            if line[:1] in "+-" and not line.startswith(("+++", "---"))]


# ---------------------------------------------------------------------------------------------
# The case list
# ---------------------------------------------------------------------------------------------


def test_the_list_shows_each_case_with_urgency_deadline_and_last_event(web: WebClient, ws: Path) -> None:
    make_case(ws / "张三", HAND_WRITTEN)
    make_case(ws / "李四")
    page = text_of(web.get("/"))
    rows = dict(re.findall(r'<tr class="case-row[^"]*" data-case="([^"]+)">(.*?)</tr>', page, re.S))
    assert set(rows) == {"张三", "李四"}
    assert "2024-11-14 20:05 商家" in rows["张三"]  # last event, with the channel's Chinese name
    assert "商家答复" in rows["张三"]  # the deadline the seller's reply runs to
    assert "已逾期" in rows["张三"]  # 48 h after 2024-11-14 20:05 is long past on NOW
    assert "尚未记录" not in rows["张三"]
    assert 'href="/case/%E5%BC%A0%E4%B8%89/facts"' in rows["张三"]


def test_an_unreadable_case_is_a_row_with_its_chinese_error(web: WebClient, ws: Path) -> None:
    make_case(ws / "好的")
    make_case(ws / "坏的", "order:\n  amount: [1, 2\n")
    r = web.get("/")
    assert r.status_code == 200
    row = re.search(r'<tr class="case-row unreadable" data-case="坏的">(.*?)</tr>', text_of(r), re.S)
    assert row is not None and "无法读取：案件文件 坏的/case.yaml 有 1 处问题" in row.group(1)
    assert str(ws) not in text_of(r)
    assert 'data-case="好的"' in text_of(r)


def test_an_empty_workspace_says_how_to_start(web: WebClient) -> None:
    page = text_of(web.get("/"))
    assert "还没有案件" in page and 'id="new-case"' in page


# ---------------------------------------------------------------------------------------------
# A new case
# ---------------------------------------------------------------------------------------------


def test_the_new_case_form_asks_inits_questions_with_chinese_choices(web: WebClient) -> None:
    page = text_of(web.get("/new"))
    assert 'name="case_name"' in page and 'id="create-case"' in page
    for key in ("problem.type", "order.number", "order.product", "claims", "platform"):
        assert f'name="{key}"' in page, key
    rules = load_rules()
    assert f">{rules.platforms['douyin'].label}</option>" in page
    assert f"> {rules.claims['punitive'].label}</label>" in page


def test_a_new_case_is_created_inside_the_workspace_with_its_answers(web: WebClient, ws: Path) -> None:
    r = web.post("/new", data={"case_name": "张三/../退款", "platform": "douyin", "order.number": "6912345678901234567",
                               "problem.type": "counterfeit", "claims": ["refund", "punitive"], "claims:shown": "1"})
    assert r.status_code == 303
    [made] = [p for p in ws.iterdir()]
    assert made.name == "张三_.._退款" and r.headers["Location"].endswith("/facts")
    assert (made / "evidence" / "order").is_dir()
    case = load_case(made)
    assert case.platform == "douyin" and case.order.number == "6912345678901234567"
    assert case.problem.type == "counterfeit" and case.claims == ("refund", "punitive")
    assert "# 姓名，与身份证一致" in (made / "case.yaml").read_text(encoding="utf-8")  # `init`'s template


def test_a_new_case_never_goes_over_an_existing_folder(web: WebClient, ws: Path) -> None:
    (ws / "张三").mkdir()
    (ws / "张三" / "mine.txt").write_text("别动")
    r = web.post("/new", data={"case_name": "张三", "order.product": "包"})
    assert r.status_code == 400
    assert "已有名为“张三”的文件夹" in field_errors(text_of(r))["case_name"]
    assert sorted(p.name for p in (ws / "张三").iterdir()) == ["mine.txt"]


def test_a_new_case_with_a_refused_answer_makes_nothing(web: WebClient, ws: Path) -> None:
    r = web.post("/new", data={"case_name": "王五", "platform": "火星商城", "order.product": "包"})
    assert r.status_code == 400
    errors = field_errors(text_of(r))
    assert "不是可用的取值" in errors["platform"]
    assert 'value="包"' in text_of(r)  # what was typed stays in the form
    assert list(ws.iterdir()) == []
    r = web.post("/new", data={"case_name": " ... "})
    assert r.status_code == 400 and "请填写案件名称" in field_errors(text_of(r))["case_name"]


# ---------------------------------------------------------------------------------------------
# The facts form
# ---------------------------------------------------------------------------------------------


def test_the_facts_form_covers_every_case_yaml_field(web: WebClient, ws: Path) -> None:
    make_case(ws / "张三")
    page = text_of(web.get("/case/张三/facts"))
    names = set(re.findall(r'name="([a-z_]+(?:\.[a-z_]+)?)"', page))
    expected = {
        "platform", "platform_name", "timezone", "claims",
        *(f"complainant.{k}" for k in ("name", "phone", "address", "email")),
        *(f"merchant.{k}" for k in ("shop_name", "company", "credit_code", "address")),
        *(f"livestream.{k}" for k in ("room", "host", "room_id", "time", "replay_url")),
        *(f"order.{k}" for k in ("number", "time", "product", "spec", "amount", "quantity", "category", "signed_at",
                                 "confirmed_receipt")),
        *(f"problem.{k}" for k in ("type", "summary", "details", "discovered_at")),
    }
    assert expected <= names, expected - names
    assert 'id="save-facts"' in page
    # Chinese labels and choices, from templates/
    assert "统一社会信用代码" in page and "实付金额" in page
    assert f">{load_rules().problem_types['counterfeit'].label}</option>" in page


def test_every_field_the_loader_reads_is_on_the_form() -> None:
    # The form's fields come from the template; the loader's sections must all be there.
    from evidencekit.model import Complainant, Livestream, Merchant, Order, Problem

    keys = {f.key for f in facts.all_fields()}
    for section, cls in (("complainant", Complainant), ("merchant", Merchant), ("livestream", Livestream),
                         ("order", Order), ("problem", Problem)):
        for name in cls.__dataclass_fields__:
            assert f"{section}.{name}" in keys


def test_a_refused_value_is_shown_next_to_its_field_and_nothing_is_written(web: WebClient, ws: Path) -> None:
    case = make_case(ws / "张三", HAND_WRITTEN)
    before = (case / "case.yaml").read_bytes()
    r = web.post("/case/张三/facts", data={"order.amount": "-5", "order.signed_at": "昨天", "complainant.name": "张三"})
    assert r.status_code == 400
    errors = field_errors(text_of(r))
    assert "金额不能为负数" in errors["order.amount"]  # the loader's words
    assert "无法识别的日期时间" in errors["order.signed_at"]
    assert "complainant.name" not in errors
    assert (case / "case.yaml").read_bytes() == before
    assert 'value="-5"' in text_of(r)  # the typed value stays, to be corrected
    assert 'id="saved"' not in text_of(r)


def test_a_value_already_refused_in_the_file_is_shown_on_get(web: WebClient, ws: Path) -> None:
    make_case(ws / "张三", "schema: 1\norder:\n  quantity: 很多\nclaims: [退款, 飞机]\n")
    errors = field_errors(text_of(web.get("/case/张三/facts")))
    assert "不是正整数" in errors["order.quantity"]
    assert "不是可用的取值" in errors["claims"]


def test_comments_order_and_quoting_survive_a_page_edit(web: WebClient, ws: Path) -> None:
    case = make_case(ws / "张三", HAND_WRITTEN)
    form = dict(facts.shown_values(facts.read_state(case).values))
    form = {k: list(v) if isinstance(v, tuple) else v for k, v in form.items()}
    form.update({"order.amount": "299", "complainant.name": "张三", "claims:shown": "1"})
    r = web.post("/case/张三/facts", data=form)
    assert r.status_code == 200, field_errors(text_of(r))
    assert 'id="saved"' in text_of(r)
    after = (case / "case.yaml").read_text(encoding="utf-8")
    assert changed_lines(HAND_WRITTEN, after) == ["-  amount: 399.00", "+  amount: 299", "+complainant:",
                                                   '+  name: "张三"']
    assert load_case(case).order.amount == 299


def test_saving_an_unchanged_form_leaves_the_file_byte_for_byte(web: WebClient, ws: Path) -> None:
    case = make_case(ws / "张三", HAND_WRITTEN)
    before = (case / "case.yaml").read_bytes()
    values = facts.shown_values(facts.read_state(case).values)
    form = {k: list(v) if isinstance(v, tuple) else v for k, v in values.items()}
    r = web.post("/case/张三/facts", data={**form, "claims:shown": "1"})
    assert r.status_code == 200 and "没有改动" in text_of(r)
    assert (case / "case.yaml").read_bytes() == before


def test_choices_written_in_chinese_or_as_aliases_are_selected(web: WebClient, ws: Path) -> None:
    make_case(ws / "张三", HAND_WRITTEN)
    page = text_of(web.get("/case/张三/facts"))
    assert re.search(r'<option value="douyin" selected>', page)  # 抖音商城 is an alias of douyin
    assert re.search(r'<option value="counterfeit" selected>', page)  # 假货
    assert re.search(r'value="punitive"\s+checked', page)  # 惩罚性赔偿


def test_unticking_every_claim_clears_them_and_keeps_the_comments(web: WebClient, ws: Path) -> None:
    case = make_case(ws / "张三")
    template = (case / "case.yaml").read_text(encoding="utf-8")
    assert web.post("/case/张三/facts", data={"claims": ["refund"], "claims:shown": "1"}).status_code == 200
    assert load_case(case).claims == ("refund",)
    assert web.post("/case/张三/facts", data={"claims:shown": "1"}).status_code == 200
    assert load_case(case).claims == ()
    assert (case / "case.yaml").read_text(encoding="utf-8") == template


def test_a_case_edited_in_the_page_loads_and_checks_with_the_cli(web: WebClient, ws: Path) -> None:
    case = make_case(ws / "张三")
    (case / "evidence" / "order" / "订单.txt").write_text("订单号 6912345678901234567", encoding="utf-8")
    r = web.post("/case/张三/facts", data={
        "platform": "taobao", "order.number": "6912345678901234567", "order.product": "手提包: 黑色",
        "order.amount": "¥1,299.50", "order.signed_at": "2024年11月12日 10:00", "order.confirmed_receipt": "false",
        "problem.type": "quality", "problem.details": "第一行\n第二行 # 不是注释", "claims": ["return_refund"],
        "claims:shown": "1", "merchant.credit_code": "91330106MA2B0YQX2N",
    })
    assert r.status_code == 200, field_errors(text_of(r))
    loaded = load_case(case)
    assert loaded.order.product == "手提包: 黑色" and str(loaded.order.amount) == "1299.50"
    assert loaded.problem.details == "第一行\n第二行 # 不是注释" and loaded.order.confirmed_receipt is False
    result = CliRunner().invoke(main, ["check", str(case)])
    # 6: evidence is missing (one file only); never 3, a case file the loader refuses
    assert result.exit_code == 6, result.output
    assert "淘宝" in result.output and "处问题" not in result.output


def test_a_case_edited_with_the_cli_shows_in_the_page(web: WebClient, ws: Path) -> None:
    case = make_case(ws / "张三")
    runner = CliRunner()
    assert runner.invoke(main, ["log", str(case), "已申请平台介入", "--channel", "platform", "--time",
                                "2024-11-17 09:30", "--ref", "PT-1"]).exit_code == 0
    page = text_of(web.get("/case/张三/followup"))
    assert "已申请平台介入" in page and "PT-1" in page and "2024-11-17 09:30" in page


def test_a_hostile_case_yaml_is_a_chinese_error_not_a_500(web: WebClient, ws: Path) -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(12))
    for name, text in (("语法", "order:\n  amount: [1, 2\n"), ("炸弹", bomb), ("顶层列表", "- 1\n- 2\n"),
                       ("控制字符", "order:\n  product: \x07\n"), ("段落不是表", "order: 12\n")):
        make_case(ws / name, text)
        for page in ("facts", "followup"):
            r = web.get(f"/case/{name}/{page}")
            assert r.status_code == 200, (name, page)
            assert "field-error" in text_of(r), (name, page)
            assert str(ws) not in text_of(r)
        r = web.post(f"/case/{name}/facts", data={"order.product": "包"})
        assert r.status_code in (200, 400), name
        assert web.get("/").status_code == 200


def test_a_syntax_error_offers_no_form(web: WebClient, ws: Path) -> None:
    case = make_case(ws / "张三", "order:\n  product: [1, 2\n")
    before = (case / "case.yaml").read_bytes()
    page = text_of(web.get("/case/张三/facts"))
    assert "无法读取" in page and 'id="save-facts"' not in page
    assert web.post("/case/张三/facts", data={"order.product": "包"}).status_code == 400
    assert (case / "case.yaml").read_bytes() == before


def test_without_the_ocr_extra_the_page_says_how_to_get_it(web: WebClient, ws: Path) -> None:
    make_case(ws / "张三")
    page = text_of(web.get("/case/张三/facts"))
    assert 'id="ocr-missing"' in page and "evidencekit[ocr]" in page
    assert 'id="read-screenshots"' not in page


def test_ocr_proposals_are_one_click_fills_and_saved_with_inits_note(web: WebClient, ws: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from evidencekit import pipeline
    from evidencekit.media import ocr
    from evidencekit.web import views_cases

    case = make_case(ws / "张三")
    monkeypatch.setattr(ocr, "engine_version", lambda: "test-engine")
    seen: list[Path] = []

    def proposals(assessment: Any) -> dict[str, Proposal]:
        seen.append(assessment)
        return {"order.number": Proposal("6912345678901234567", "证据1截图"),
                "order.amount": Proposal("不是金额", "证据2截图")}  # the loader would refuse it: not offered

    monkeypatch.setattr(pipeline, "assess_case", lambda root, _options: Path(root))
    monkeypatch.setattr(views_cases, "screenshot_proposals", proposals)
    page = text_of(web.get("/case/张三/facts"))
    assert 'id="read-screenshots"' in page
    page = text_of(web.post("/case/张三/facts", data={"action": "ocr"}))
    assert seen == [case]
    fills = re.findall(r'class="ocr-fill" data-key="([^"]+)" data-value="([^"]+)"', page)
    assert fills == [("order.number", "6912345678901234567")]
    r = web.post("/case/张三/facts", data={"order.number": "6912345678901234567",
                                           "proposal:order.number": "6912345678901234567",
                                           "source:order.number": "证据1截图"})
    assert r.status_code == 200
    line = next(ln for ln in (case / "case.yaml").read_text(encoding="utf-8").splitlines()
                if ln.startswith("  number:"))
    assert line.endswith("由证据1截图识别，请核对")


# ---------------------------------------------------------------------------------------------
# Follow-up
# ---------------------------------------------------------------------------------------------


def test_an_event_added_in_the_page_is_logged_as_log_does(web: WebClient, ws: Path) -> None:
    case = make_case(ws / "张三", HAND_WRITTEN)
    r = web.post("/case/张三/followup", data={"note": "已申请平台介入", "channel": "platform", "ref": "PT-1",
                                              "time": "2024-11-17 09:30"})
    assert r.status_code == 200
    assert "已记录跟进：2024-11-17 09:30 平台：已申请平台介入" in text_of(r)
    events = load_case(case).events
    assert [(e.channel, e.note, e.ref) for e in events][-1] == ("platform", "已申请平台介入", "PT-1")
    after = (case / "case.yaml").read_text(encoding="utf-8")
    assert after.startswith(HAND_WRITTEN)  # appended; nothing above changed
    assert "平台处理" in text_of(r) and 'id="next-step"' in text_of(r)


def test_an_event_without_a_time_is_logged_now(web: WebClient, ws: Path) -> None:
    case = make_case(ws / "张三")
    assert web.post("/case/张三/followup", data={"note": "打了客服电话", "channel": "商家"}).status_code == 200
    [event] = load_case(case).events
    assert event.time == NOW and event.channel == "seller"


def test_follow_up_refusals_are_next_to_their_field(web: WebClient, ws: Path) -> None:
    case = make_case(ws / "张三")
    before = (case / "case.yaml").read_bytes()
    errors = field_errors(text_of(web.post("/case/张三/followup", data={"note": "x", "time": "下周"})))
    assert "无法识别的时间" in errors["time"]
    errors = field_errors(text_of(web.post("/case/张三/followup", data={"note": "x", "channel": "飞鸽"})))
    assert "未知的跟进渠道" in errors["channel"]
    errors = field_errors(text_of(web.post("/case/张三/followup", data={"note": "   "})))
    assert "不能为空" in errors["note"]
    assert (case / "case.yaml").read_bytes() == before


def test_the_follow_up_page_lists_events_and_deadlines(web: WebClient, ws: Path) -> None:
    case = make_case(ws / "张三", HAND_WRITTEN.replace("order:\n", "order:\n  signed_at: 2024-11-12 10:00\n"))
    log_followup(case, "已受理", channel="12315", ref="1234567890", when="2024-11-18 10:00", now=NOW,
                 rules=load_rules())
    page = text_of(web.get("/case/张三/followup"))
    assert page.count('<tr class="event">') == 2
    keys = re.findall(r'<tr class="deadline \w+" data-key="([^"]+)"', page)
    assert "no_reason_return" in keys and any(k.startswith("12315.") for k in keys)


def test_a_cleared_value_leaves_its_comment_in_its_column(web: WebClient, ws: Path) -> None:
    case = make_case(ws / "张三")
    template = (case / "case.yaml").read_text(encoding="utf-8")
    web.post("/case/张三/facts", data={"complainant.name": "欧阳娜娜", "order.amount": "399", "platform_name": "拼多多"})
    assert load_case(case).complainant.name == "欧阳娜娜"
    r = web.post("/case/张三/facts", data={"complainant.name": "", "order.amount": "", "platform_name": ""})
    assert r.status_code == 200
    assert (case / "case.yaml").read_text(encoding="utf-8") == template


def test_a_new_case_that_fails_half_way_leaves_nothing_behind(web: WebClient, ws: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from evidencekit.errors import CaseFolderError
    from evidencekit.web import views_cases

    def fail(*_args: object, **_kw: object) -> None:
        raise CaseFolderError("磁盘坏了")

    monkeypatch.setattr(views_cases, "set_values", fail)
    r = web.post("/new", data={"case_name": "张三", "order.product": "包"})
    assert r.status_code == 400 and "磁盘坏了" in text_of(r)
    assert list(ws.iterdir()) == []  # neither the case nor its hidden staging folder


def test_a_zero_config_case_gets_inits_commented_template_on_its_first_save(web: WebClient, ws: Path) -> None:
    (ws / "张三" / "evidence").mkdir(parents=True)
    assert web.get("/case/张三/facts").status_code == 200
    assert web.post("/case/张三/facts", data={"order.product": "保温杯"}).status_code == 200
    text = (ws / "张三" / "case.yaml").read_text(encoding="utf-8")
    assert '  product: "保温杯"' in text and "# 姓名，与身份证一致" in text
    assert load_case(ws / "张三").order.product == "保温杯"
