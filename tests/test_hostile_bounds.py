"""Bounded work on small hostile inputs (issue 9, item 3): what a stranger's chat export or long
screenshot can cost in pages, and that every cut is said in the dossier while the whole original
stays hashed and attached."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pikepdf
import pypdfium2
import pytest
from PIL import Image

from evidencekit.media import chats
from evidencekit.media.base import MAX_EXHIBIT_PAGES
from evidencekit.model import SHANGHAI
from evidencekit.pipeline import BuildOptions, build_dossier

CASE_YAML = "schema: 1\nplatform: douyin\nproblem: {type: not_as_shown}\nmerchant: {shop_name: 好物优选旗舰店}\n"


def make_case(root: Path, files: dict[str, bytes]) -> Path:
    for rel, data in files.items():
        path = root / "evidence" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    (root / "case.yaml").write_text(CASE_YAML, encoding="utf-8")
    return root


def build(root: Path, **options: object) -> Path:
    out = root.parent / f"{root.name}.pdf"
    build_dossier(root, BuildOptions(output=out, force=True, jobs=1, **options))  # type: ignore[arg-type]
    return out


def page_texts(pdf: Path) -> list[str]:
    doc = pypdfium2.PdfDocument(str(pdf))
    try:
        return [doc[i].get_textpage().get_text_range() for i in range(len(doc))]
    finally:
        doc.close()


def exhibit_pages(texts: list[str], number: int) -> int:
    """Pages that carry exhibit ``number``'s footer (证据N　原始文件：…)."""
    footer = re.compile(rf"证据{number}\s原始文件：")  # text extraction gives U+3000 as a space
    return sum(1 for text in texts if footer.search(text))


def flat(text: str) -> str:
    """Page text without line breaks: notes may wrap anywhere."""
    return re.sub(r"[\r\n]+", "", text)


def attached(pdf: Path) -> dict[str, bytes]:
    with pikepdf.open(pdf) as doc:
        return {name: spec.get_file().read_bytes() for name, spec in doc.attachments.items()}


def plain_chat(count: int, text: str = "亲，您好，请问有什么可以帮您？订单号 6912345678901234567") -> bytes:
    lines = []
    for i in range(count):
        who = "好物优选旗舰店客服" if i % 2 else "张三"
        lines.append(f"2024-11-{13 + i // 1440:02d} {i // 60 % 24:02d}:{i % 60:02d}:00 {who}: 第{i + 1}条 {text}\n")
    return "".join(lines).encode()


# ---------------------------------------------------------------------------------------------
# Control characters
# ---------------------------------------------------------------------------------------------


def test_control_characters_become_one_marker_per_run() -> None:
    data = b"abc" + b"\x00" * 5000 + "买家说".encode() + b"\x01\x1b" + b"end\x07\n" + b"\xff" * 300 + b"\n"
    transcript, findings = chats.parse_chat(data, SHANGHAI)
    text = transcript.raw_text
    assert "〔控制字符×5000〕" in text and "〔控制字符×2〕" in text and "〔控制字符×1〕" in text
    assert not any(ch < " " and ch not in "\n\t" for ch in text)
    # A long run of undecodable bytes is one marker too, not 300 replacement characters.
    assert "\ufffd" * 4 not in text and "×300〕" in text
    assert "chat.control_chars" in {f.code for f in findings}


def test_nul_byte_chat_builds_to_a_few_pages(tmp_path: Path) -> None:
    small = build(make_case(tmp_path / "small", {"chat/聊天.txt": "你好".encode()}))
    nul = build(make_case(tmp_path / "nul", {"chat/聊天.txt": b"\x00" * 1024 * 1024}))
    texts = page_texts(nul)
    assert len(texts) <= len(page_texts(small)) + 1
    assert exhibit_pages(texts, 1) == 1
    assert "〔控制字符×1048576〕" in flat("".join(texts))


# ---------------------------------------------------------------------------------------------
# Per-exhibit page caps
# ---------------------------------------------------------------------------------------------


def test_long_chat_shows_first_pages_with_note_finding_and_whole_original(tmp_path: Path) -> None:
    data = plain_chat(2000)
    small = build(make_case(tmp_path / "small", {"chat/客服聊天.txt": plain_chat(4)}), max_exhibit_pages=3)
    long = build(make_case(tmp_path / "long", {"chat/客服聊天.txt": data}), max_exhibit_pages=3)
    texts = page_texts(long)
    assert exhibit_pages(texts, 1) <= 3 + 1
    # The timeline lists only the messages shown, so it does not grow with the file either.
    assert len(texts) <= len(page_texts(small)) + 3 + 3
    whole = flat("".join(texts))
    # The exhibit page's own notice; the finding of the same cut is the applicant's (check), not
    # the recipient's page.
    note = re.search(r"聊天记录共 2000 条，此处仅显示前 (\d+) 条.{0,40}完整内容见附件原件", whole)
    assert note is not None and 10 < int(note.group(1)) < 2000
    shown = int(note.group(1))
    assert f"第{shown}条" in whole and f"第{shown + 1}条" not in whole
    # The whole original is attached, byte for byte.
    assert hashlib.sha256(data).hexdigest() in {hashlib.sha256(b).hexdigest() for b in attached(long).values()}


def test_realistic_size_chat_is_capped_at_the_default_limit(tmp_path: Path) -> None:
    # ≈ 370 KB, a long customer-service export: five times what the default 30 pages show (about
    # 550 messages), so the cut is the default limit's. Parsing ten times as many (2 MB) cost the
    # suite 2 s and checked nothing more; test_docs holds the limit to what the docs say.
    data = plain_chat(3_000)
    pdf = build(make_case(tmp_path / "case", {"chat/客服聊天.txt": data}))
    texts = page_texts(pdf)
    assert exhibit_pages(texts, 1) <= MAX_EXHIBIT_PAGES + 1
    assert len(texts) <= 2 * MAX_EXHIBIT_PAGES + 10
    assert "聊天记录共 3000 条，此处仅显示前" in flat("".join(texts))


def test_unrecognised_text_is_capped_too(tmp_path: Path) -> None:
    data = "".join(f"第{i}行 没有时间的文字，不是任何聊天格式\n" for i in range(5000)).encode()
    pdf = build(make_case(tmp_path / "case", {"chat/备忘.txt": data}), max_exhibit_pages=2)
    texts = page_texts(pdf)
    assert exhibit_pages(texts, 1) <= 2 + 1
    assert re.search(r"原文共 5000 行，此处仅显示前 \d+ 行.{0,40}完整内容见附件原件", flat("".join(texts)))


def test_one_huge_message_is_clipped_not_typeset_whole() -> None:
    body = "长" * 9000 + "\n" + "\n".join(f"第{i}行" for i in range(3000))
    transcript, findings = chats.parse_chat(f"2024-11-14 19:21 我: {body}\n".encode(), SHANGHAI)
    text = transcript.messages[0].text
    assert len(text) <= chats.MAX_MESSAGE_CHARS + 100 and text.count("\n") <= chats.MAX_MESSAGE_LINES + 1
    assert "chat.long_messages" in {f.code for f in findings}


# ---------------------------------------------------------------------------------------------
# Bounded parsing
# ---------------------------------------------------------------------------------------------


def test_hostile_lines_parse_with_bounded_output(monkeypatch: pytest.MonkeyPatch) -> None:
    # The line limit lowered, so proving the cut does not take 200,000 lines (test_docs holds the
    # real value to what the docs say).
    monkeypatch.setattr(chats, "MAX_CHAT_LINES", 2_000)
    # Lines built to make a backtracking regex explode: long runs of what a header starts with.
    evil = [
        "2024-11-14 " * 2000,
        "[" + "客" * 9000,
        "2024-11-14 19:21" + " " * 9000 + "x",
        "由" + "转" * 5000 + "交给" * 3000,
        "0" * 9000,
        "2024-11-14\t" * 900 + "19:21:00",
    ]
    lines = evil + ["x"] * (chats.MAX_CHAT_LINES + 10)
    transcript, findings = chats.parse_chat("\n".join(lines).encode(), SHANGHAI)
    assert "chat.too_many_lines" in {f.code for f in findings}
    assert transcript.raw_lines <= chats.MAX_CHAT_LINES + 1
def test_timeline_lists_shown_messages_and_finds_replies_beyond_the_cut(tmp_path: Path) -> None:
    from datetime import timedelta

    from factories import make_case as model_case
    from factories import make_exhibit, make_source_file, sh

    from evidencekit.model import ChatInspection, ChatMessage, Transcript
    from evidencekit.timeline import build_timeline

    t0 = sh(2024, 11, 14, 9, 0, 0)
    sides = ["self", "other"] * 5 + ["self", "self", "other", "self", "self"]
    messages = tuple(ChatMessage(t0 + timedelta(hours=i), "张三" if side == "self" else "客服", f"m{i}", side)
                     for i, side in enumerate(sides))
    transcript = Transcript(format="plain", encoding="utf-8", messages=messages, shown=11)
    source = make_source_file(tmp_path, "evidence/chat/a.txt", b"x")
    exhibit = make_exhibit(1, source, inspection=ChatInspection(transcript=transcript))
    chat = [e for e in build_timeline(model_case(tmp_path), [exhibit]) if e.category == "chat"]
    # The 11 shown, then only the last message nobody answered (m14), flagged.
    assert [e.label.rsplit("：", 1)[1] for e in chat] == [f"m{i}" for i in range(11)] + ["m14"]
    # m10 was answered only by m12, beyond the cut: the reply was still found (2 h, no flag).
    assert chat[10].flag == "" and chat[-1].flag == "此后未见对方回复"
    assert all(e.flag == "" for e in chat[:-1])


# ---------------------------------------------------------------------------------------------
# Tall screenshots
# ---------------------------------------------------------------------------------------------


def test_tall_screenshot_shows_first_pages_with_note(tmp_path: Path) -> None:
    strip = tmp_path / "strip.png"
    Image.new("L", (200, 40_000), 200).save(strip)
    data = strip.read_bytes()
    pdf = build(make_case(tmp_path / "case", {"chat/长截图.png": data}))
    texts = page_texts(pdf)
    assert exhibit_pages(texts, 1) <= MAX_EXHIBIT_PAGES + 1
    whole = flat("".join(texts))
    assert re.search(rf"仅显示前 {MAX_EXHIBIT_PAGES} 页.{{0,40}}完整图片见附件原件", whole)
    assert hashlib.sha256(data).hexdigest() in {hashlib.sha256(b).hexdigest() for b in attached(pdf).values()}
