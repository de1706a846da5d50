"""casefile_edit: append to case.yaml as text, keeping every other byte the user wrote."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from factories import sh, write_file
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evidencekit.case.edit import append_event, number_added_files, record_numbers
from evidencekit.case.load import load_case, render_case_template
from evidencekit.errors import CaseFileError
from evidencekit.model import Event, EvidenceKind

EVENT = Event(sh(2024, 11, 15, 10, 0, 0), "seller", '客服说: "等主管回复" # 原话', "工号 1024")


def inserted_bytes(old: bytes, new: bytes) -> bytes:
    """What was inserted, asserting that ``new`` is ``old`` with one contiguous insertion."""
    prefix = 0
    while prefix < len(old) and old[prefix] == new[prefix]:
        prefix += 1
    suffix = 0
    while suffix < len(old) - prefix and old[-1 - suffix] == new[-1 - suffix]:
        suffix += 1
    assert prefix + suffix == len(old), "bytes outside the insertion changed"
    return new[prefix: len(new) - suffix]


def is_insertion_of(old: bytes, new: bytes, added: bytes) -> bool:
    return any(new == old[:k] + added + old[k:] for k in range(len(old) + 1))


def case_with(tmp_path: Path, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / "case.yaml"
    path.write_bytes(text.encode(encoding))
    return path


def test_template_keeps_every_comment_byte_for_byte(tmp_path: Path) -> None:
    path = case_with(tmp_path, render_case_template({"order_number": "6912345678901234567"}))
    old = path.read_bytes()
    append_event(path, EVENT)
    added = inserted_bytes(old, path.read_bytes())
    assert added.decode().startswith("  - time: ")
    case = load_case(tmp_path)
    assert case.events == (EVENT,)
    assert case.order.number == "6912345678901234567"


def test_second_event_goes_after_the_first_above_trailing_comments(tmp_path: Path) -> None:
    path = case_with(tmp_path, "events:\n  # 例：\n  #   - time: ...\n\n# 证据\nevidence:\n")
    append_event(path, EVENT)
    middle = path.read_bytes()
    second = Event(None, "12315", "已投诉", "")
    append_event(path, second)
    assert is_insertion_of(middle, path.read_bytes(), '  - channel: "12315"\n    note: "已投诉"\n'.encode())
    text = path.read_text()
    assert text.index('note: "已投诉"') < text.index("# 例：")
    assert load_case(tmp_path).events == (EVENT, second)


def test_no_events_key_appends_a_block_at_the_end(tmp_path: Path) -> None:
    path = case_with(tmp_path, "platform: douyin  # 平台\norder:\n  number: '1'")  # no final newline
    old = path.read_bytes()
    append_event(path, EVENT)
    added = inserted_bytes(old, path.read_bytes()).decode()
    assert added.startswith("\nevents:\n  - time: ")
    assert load_case(tmp_path).events == (EVENT,)


@pytest.mark.parametrize("value", ["", " ~", " null  # 还没有", " []"])
def test_empty_events_values(tmp_path: Path, value: str) -> None:
    path = case_with(tmp_path, f"# 头部注释\nevents:{value}\nevidence:\n")
    append_event(path, EVENT)
    text = path.read_text()
    assert text.startswith("# 头部注释\nevents:")
    assert text.endswith("evidence:\n")
    if "#" in value:
        assert "# 还没有\n" in text
    assert load_case(tmp_path).events == (EVENT,)


@pytest.mark.parametrize(("listing", "item_start"), [
    ("events:\n- channel: other\n  note: 旧记录\n", "- time:"),  # indentless
    ("events:\n    -   channel: other\n        note: 旧记录\n", "    -   time:"),  # wide indents
])
def test_existing_block_list_indentation_is_matched(tmp_path: Path, listing: str, item_start: str) -> None:
    path = case_with(tmp_path, listing + "# 结束\n")
    old = path.read_bytes()
    append_event(path, EVENT)
    added = inserted_bytes(old, path.read_bytes()).decode()
    assert added.startswith(item_start)
    events = load_case(tmp_path).events
    assert [e.note for e in events] == ["旧记录", EVENT.note]


def test_last_item_ending_in_a_block_scalar(tmp_path: Path) -> None:
    path = case_with(tmp_path, "events:\n  - channel: seller\n    note: |\n      第一行\n      # 不是注释\n"
                               "\n  # 真正的注释\nclaims: [refund]\n")
    old = path.read_bytes()
    append_event(path, EVENT)
    inserted_bytes(old, path.read_bytes())
    case = load_case(tmp_path)
    assert case.events[0].note == "第一行\n# 不是注释"
    assert case.events[1] == EVENT
    assert case.claims == ("refund",)


def test_flow_list_stays_a_flow_list(tmp_path: Path) -> None:
    path = case_with(tmp_path, "events: [{channel: seller, note: 旧}, ]  # 单行\n")
    old = path.read_bytes()
    append_event(path, EVENT)
    added = (', {time: "2024-11-15 10:00:00", channel: seller, note: "客服说: \\"等主管回复\\" # 原话", '
             'ref: "工号 1024"}')
    assert is_insertion_of(old, path.read_bytes(), added.encode())
    assert [e.note for e in load_case(tmp_path).events] == ["旧", EVENT.note]


@pytest.mark.parametrize("text", ["events:\n  channel: seller\n", "events: 联系过商家\n"])
def test_events_that_is_not_a_list_is_an_error_and_nothing_changes(tmp_path: Path, text: str) -> None:
    path = case_with(tmp_path, text)
    with pytest.raises(CaseFileError) as info:
        append_event(path, EVENT)
    assert info.value.problems[0].key_path == "events"
    assert path.read_text() == text


def test_invalid_yaml_is_an_error_and_nothing_changes(tmp_path: Path) -> None:
    path = case_with(tmp_path, "events:\n  - channel: [\n")
    with pytest.raises(CaseFileError):
        append_event(path, EVENT)
    assert path.read_text() == "events:\n  - channel: [\n"


def test_gbk_and_crlf_are_kept(tmp_path: Path) -> None:
    path = case_with(tmp_path, "# 案件\r\ncomplainant:\r\n  name: 张三\r\nevents:\r\n", encoding="gbk")
    old = path.read_bytes()
    append_event(path, EVENT)
    added = inserted_bytes(old, path.read_bytes())
    assert added.endswith(b"\r\n") and b"\n" not in added.replace(b"\r\n", b"")
    assert "等主管回复".encode("gbk") in added
    case = load_case(tmp_path)
    assert case.complainant.name == "张三" and case.events == (EVENT,)


def test_utf8_bom_is_kept(tmp_path: Path) -> None:
    path = case_with(tmp_path, "events:\n", encoding="utf-8-sig")
    append_event(path, EVENT)
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbfevents:\n") and data.count(b"\xef\xbb\xbf") == 1
    assert load_case(tmp_path).events == (EVENT,)


def test_missing_case_file_is_created(tmp_path: Path) -> None:
    append_event(tmp_path / "case.yaml", EVENT)
    case = load_case(tmp_path)
    assert case.has_case_file and case.events == (EVENT,)


def test_time_written_in_the_case_zone_or_with_its_offset(tmp_path: Path) -> None:
    path = case_with(tmp_path, "timezone: Asia/Tokyo\n")
    tokyo = datetime(2024, 11, 15, 10, 0, tzinfo=timezone(timedelta(hours=9)))
    append_event(path, Event(tokyo, "platform"))
    append_event(path, Event(sh(2024, 11, 15, 10, 0), "platform"))
    text = path.read_text()
    assert 'time: "2024-11-15 10:00:00"\n' in text  # the case's own zone: no offset needed
    assert 'time: "2024-11-15 10:00:00+08:00"\n' in text
    assert [e.time for e in load_case(tmp_path).events] == [tokyo, sh(2024, 11, 15, 10, 0)]


def test_symlinked_case_file_is_not_edited(tmp_path: Path) -> None:
    real = case_with(tmp_path, "events:\n")
    case_dir = tmp_path / "case"
    case_dir.mkdir()
    (case_dir / "case.yaml").symlink_to(real)
    with pytest.raises(CaseFileError):
        append_event(case_dir / "case.yaml", EVENT)
    assert real.read_text() == "events:\n"


def test_no_temporary_files_are_left_and_mode_is_kept(tmp_path: Path) -> None:
    path = case_with(tmp_path, "events:\n")
    path.chmod(0o640)
    append_event(path, EVENT)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["case.yaml"]
    assert path.stat().st_mode & 0o777 == 0o640


_HYPOTHESIS = settings(max_examples=60, deadline=None,
                       suppress_health_check=[HealthCheck.function_scoped_fixture])
_TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=30)


@_HYPOTHESIS
@given(note=_TEXT, ref=_TEXT, channel=st.sampled_from(["seller", "platform", "12315", "payment", "other"]),
       minutes=st.integers(0, 10**6))
def test_any_event_reads_back_exactly(tmp_path: Path, note: str, ref: str, channel: str,
                                      minutes: int) -> None:
    path = case_with(tmp_path, render_case_template({}))
    when = sh(2024, 1, 1, 0, 0) + timedelta(minutes=minutes)
    append_event(path, Event(when, channel, note.strip(), ref.strip()))
    event = load_case(tmp_path).events[-1]
    assert event == Event(when, channel, note.strip(), ref.strip())


# -- evidence entries ----------------------------------------------------------------------------


def test_number_added_files_describes_a_file_once(tmp_path: Path) -> None:
    write_file(tmp_path / "evidence/order/订单 1.png", b"x")
    path = case_with(tmp_path, render_case_template({}))
    old = path.read_bytes()
    assert number_added_files(tmp_path, [("evidence/order/订单 1.png", "order", "订单截图", "订单号与金额")]) == {}
    inserted_bytes(old, path.read_bytes())
    (item,) = load_case(tmp_path).evidence
    assert (item.file, item.kind, item.title, item.proves) == (
        "evidence/order/订单 1.png", EvidenceKind.ORDER, "订单截图", "订单号与金额")
    before = path.read_bytes()
    number_added_files(tmp_path, [("evidence/order/订单 1.png", "order", "另一个标题", "")])
    assert path.read_bytes() == before  # the user's own words win


def test_number_added_files_without_case_file(tmp_path: Path) -> None:
    write_file(tmp_path / "evidence/chat/a.png", b"x")
    number_added_files(tmp_path, [("evidence/chat/a.png", "chat", "聊天", "")])
    assert load_case(tmp_path).evidence[0].title == "聊天"


# -- record_numbers: the exhibit numbers a build gave -------------------------------------------


def _files(root: Path, *names: str) -> None:
    for name in names:
        write_file(root / "evidence" / "product" / name, b"x")


def _numbers(root: Path) -> dict[str, int | None]:
    return {e.file: e.number for e in load_case(root).evidence}


def test_record_numbers_keeps_comments_and_adds_what_is_missing(tmp_path: Path) -> None:
    _files(tmp_path, "a.jpg", "b.jpg", "c.jpg", "d.jpg")
    text = ("# 我的案件\nevidence:\n  # 第一张是正面\n  - file: evidence/product/a.jpg   # 正面\n"
            "    title: 正面\n  - file: product/b.jpg\n    number: 9\n  - file: evidence/product/c.jpg\n"
            "    note: |\n      多行\n      备注\n# 结尾的注释\n")
    path = case_with(tmp_path, text)
    assert record_numbers(tmp_path, {"evidence/product/a.jpg": 1, "evidence/product/b.jpg": 2,
                                     "evidence/product/c.jpg": 3, "evidence/product/d.jpg": 4})
    new = path.read_text(encoding="utf-8")
    assert new == ("# 我的案件\nevidence:\n  # 第一张是正面\n  - file: evidence/product/a.jpg   # 正面\n"
                   "    title: 正面\n    number: 1\n  - file: product/b.jpg\n    number: 2\n"
                   "  - file: evidence/product/c.jpg\n    note: |\n      多行\n      备注\n    number: 3\n"
                   '  - file: "evidence/product/d.jpg"\n    number: 4\n# 结尾的注释\n')
    assert _numbers(tmp_path)["evidence/product/c.jpg"] == 3
    assert load_case(tmp_path).evidence[2].note == "多行\n备注"
    before = path.read_bytes()
    assert record_numbers(tmp_path, {"evidence/product/a.jpg": 1}) is False  # nothing to change
    assert path.read_bytes() == before


def test_record_numbers_in_flow_style_and_crlf(tmp_path: Path) -> None:
    _files(tmp_path, "a.jpg", "b.jpg")
    path = case_with(tmp_path, "schema: 1\r\nevidence: [{file: product/a.jpg, title: 正面}]\r\n")
    record_numbers(tmp_path, {"evidence/product/a.jpg": 2, "evidence/product/b.jpg": 3})
    assert path.read_bytes() == ('schema: 1\r\nevidence: [{file: product/a.jpg, title: 正面, number: 2}, '
                                 '{file: "evidence/product/b.jpg", number: 3}]\r\n').encode()


def test_record_numbers_creates_the_case_file_and_starts_an_empty_list(tmp_path: Path) -> None:
    _files(tmp_path, "a.jpg")
    assert record_numbers(tmp_path, {"evidence/product/a.jpg": 1})
    assert _numbers(tmp_path) == {"evidence/product/a.jpg": 1}
    path = case_with(tmp_path, render_case_template({}))
    record_numbers(tmp_path, {"evidence/product/a.jpg": 1})
    assert _numbers(tmp_path) == {"evidence/product/a.jpg": 1}
    assert path.read_text(encoding="utf-8").startswith(render_case_template({}).split("evidence:")[0])


def test_record_numbers_drops_retired_entries_on_request(tmp_path: Path) -> None:
    _files(tmp_path, "a.jpg")
    path = case_with(tmp_path, "evidence:\n  - file: evidence/product/gone.jpg\n    number: 1\n    title: 旧\n"
                               "  # 留下的注释\n  - file: evidence/product/a.jpg\n    number: 2\n")
    assert load_case(tmp_path).retired_numbers == ((1, "evidence/product/gone.jpg"),)
    record_numbers(tmp_path, {"evidence/product/a.jpg": 1}, drop=["evidence/product/gone.jpg"])
    assert path.read_text(encoding="utf-8") == (
        "evidence:\n  # 留下的注释\n  - file: evidence/product/a.jpg\n    number: 1\n")


def test_number_added_files_continues_after_the_recorded_numbers(tmp_path: Path) -> None:
    _files(tmp_path, "a.jpg", "b.jpg", "c.jpg")
    case_with(tmp_path, "evidence:\n  - file: evidence/product/a.jpg\n    number: 1\n"
                        "  - file: evidence/product/gone.jpg\n    number: 5\n")
    given = number_added_files(tmp_path, [("evidence/product/b.jpg", "product", "背面", ""),
                                          ("evidence/product/c.jpg", "product", "", "")])
    assert given == {"evidence/product/b.jpg": 6, "evidence/product/c.jpg": 7}
    case = load_case(tmp_path)
    assert {e.file: (e.number, e.title) for e in case.evidence} == {
        "evidence/product/a.jpg": (1, ""), "evidence/product/b.jpg": (6, "背面"),
        "evidence/product/c.jpg": (7, "")}


def test_number_added_files_in_a_case_never_numbered_only_describes(tmp_path: Path) -> None:
    _files(tmp_path, "a.jpg", "b.jpg")
    case_with(tmp_path, "schema: 1\n")
    given = number_added_files(tmp_path, [("evidence/product/a.jpg", "product", "正面", ""),
                                          ("evidence/product/b.jpg", "product", "", "")])
    assert given == {}
    assert _numbers(tmp_path) == {"evidence/product/a.jpg": None}  # the first build numbers them


def test_record_numbers_never_writes_a_number_another_file_took_meanwhile(tmp_path: Path) -> None:
    _files(tmp_path, "a.jpg", "b.jpg")
    # `add` numbered b.jpg while a build that had read the file before was still running.
    path = case_with(tmp_path, "evidence:\n  - file: evidence/product/b.jpg\n    number: 1\n")
    before = path.read_bytes()
    with pytest.raises(CaseFileError) as info:
        record_numbers(tmp_path, {"evidence/product/a.jpg": 1})
    assert "证据编号 1" in info.value.render()
    assert path.read_bytes() == before


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(described=st.lists(st.tuples(st.sampled_from("abcd"), st.booleans(), st.booleans()), unique_by=lambda t: t[0],
                          max_size=4),
       order=st.permutations("abcd"), flow=st.booleans())
def test_record_numbers_keeps_every_line_and_sets_every_number(
        tmp_path: Path, described: list[tuple[str, bool, bool]], order: list[str], flow: bool) -> None:
    _files(tmp_path, *(f"{name}.jpg" for name in "abcd"))
    items = [(f"evidence/product/{name}.jpg", f"标题 {name}" if titled else "", numbered)
             for name, titled, numbered in described]
    if flow:
        text = "evidence: [" + ", ".join(
            "{file: " + rel + (f", title: {title}" if title else "") + (f", number: {i + 10}" if numbered else "")
            + "}" for i, (rel, title, numbered) in enumerate(items)) + "]  # 注释\n" if items else "evidence:\n"
    else:
        text = "evidence:\n" + "".join(
            f"  - file: {rel}  # 注释\n" + (f"    title: {title}\n" if title else "")
            + (f"    number: {i + 10}\n" if numbered else "") for i, (rel, title, numbered) in enumerate(items))
    text = "# 开头\n" + text + "# 结尾\n"
    path = case_with(tmp_path, text)
    wanted = {f"evidence/product/{name}.jpg": i for i, name in enumerate(order, start=1)}
    record_numbers(tmp_path, wanted)
    assert _numbers(tmp_path) == wanted
    new_lines = iter(path.read_text(encoding="utf-8").splitlines())
    for line in text.splitlines():  # every line the user wrote survives, in order (numbers aside)
        if "number:" not in line and "[" not in line:
            assert any(line == new for new in new_lines), line
