"""The evidence and self-check pages of `evidencekit serve`, through the Flask test client (no browser).

Upload lands the exact bytes under a sanitised name and shows the hash and time at once; field
edits go through the comment-preserving editor and the loader's own messages; redaction is
stored as ``redact:`` and the preview is the blacked-out display copy; a link leaving the case
is never listed, previewed or served.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from PIL import Image
from webclient import WebClient, make_case_folder

from evidencekit.case.edit import set_evidence_fields
from evidencekit.case.load import load_case
from evidencekit.cli import main
from evidencekit.web.views_evidence import MAX_NAME_BYTES, MAX_UPLOAD_FILES, safe_file_name

CASE = "我的案件"


def png_bytes(size: tuple[int, int] = (400, 600), color: str = "#2a9d8f") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "PNG")
    return buffer.getvalue()


def upload(web: WebClient, files: list[tuple[bytes, str]], kind: str = "order", name: str = CASE,
           mtimes: list[str] | None = None) -> Any:
    data: dict[str, Any] = {"kind": kind, "files": [(io.BytesIO(b), n) for b, n in files]}
    if mtimes is not None:
        data["mtime"] = mtimes
    return web.post(f"/case/{name}/evidence/upload", data=data, content_type="multipart/form-data")


@pytest.fixture
def web(tmp_path: Path) -> WebClient:
    make_case_folder(tmp_path / CASE)
    return WebClient(tmp_path)


@pytest.fixture
def root(web: WebClient, tmp_path: Path) -> Path:
    return tmp_path / CASE


def evidence_files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in (root / "evidence").rglob("*") if p.is_file())


# ---------------------------------------------------------------------------------------------
# Upload
# ---------------------------------------------------------------------------------------------


def test_upload_copies_the_exact_bytes_and_shows_hash_and_time(web: WebClient, root: Path) -> None:
    data = png_bytes()
    # 2024-11-14 19:00:12 +08:00 as the browser's File.lastModified (ms)
    r = upload(web, [(data, "订单截图.png")], mtimes=["1731582012000"])
    assert r.status_code == 200, r.get_json()
    [shown] = r.get_json()["files"]
    assert shown["file"] == "evidence/order/订单截图.png"
    assert (root / shown["file"]).read_bytes() == data
    assert shown["sha256"] == hashlib.sha256(data).hexdigest()
    assert shown["time"] == "2024-11-14 19:00:12"
    assert shown["time_phrase"].startswith("文件修改时间")
    assert shown["number"] == 1
    page = web.get(f"/case/{CASE}/evidence").get_data(as_text=True)
    assert hashlib.sha256(data).hexdigest() in page and "订单截图.png" in page


@pytest.mark.parametrize(("raw", "expected"), [
    ("../x.jpg", "x.jpg"),
    ("a/b.jpg", "b.jpg"),
    ("..\\..\\c.jpg", "c.jpg"),
    (".hidden.jpg", "hidden.jpg"),
    ("..", "文件"),
    ("a\x00b\x1b[31m\nc\u202e.jpg", "ab[31mc.jpg"),
    ('con<>:"|?*.png', "con_______.png"),
])
def test_hostile_names_are_sanitised(raw: str, expected: str) -> None:
    assert safe_file_name(raw) == expected


def test_hostile_names_land_inside_the_kind_folder(web: WebClient, root: Path) -> None:
    names = ["../逃出.png", "a/b.png", ".hidden.png", "ctl\x01\x7f.png", "长" * 500 + ".png"]
    files = [(png_bytes(color=c), n) for c, n in zip(["#111", "#222", "#333", "#444", "#555"], names, strict=True)]
    r = upload(web, files)
    assert r.status_code == 200, r.get_json()
    landed = evidence_files(root)
    assert len(landed) == 5
    assert all(rel.startswith("evidence/order/") and rel.count("/") == 2 for rel in landed)
    assert not any(Path(rel).name.startswith(".") for rel in landed)
    assert "evidence/order/逃出.png" in landed and "evidence/order/b.png" in landed
    assert "evidence/order/hidden.png" in landed and "evidence/order/ctl.png" in landed
    long_name = next(Path(rel).name for rel in landed if rel.startswith("evidence/order/长"))
    assert MAX_NAME_BYTES - 3 < len(long_name.encode("utf-8")) <= MAX_NAME_BYTES and long_name.endswith(".png")
    assert not (root.parent / "逃出.png").exists()


def test_colliding_names_never_overwrite(web: WebClient, root: Path) -> None:
    first, second = png_bytes(color="#111"), png_bytes(color="#eee")
    assert upload(web, [(first, "同名.png")]).status_code == 200
    r = upload(web, [(second, "同名.png"), (first, "同名.png")])
    assert r.status_code == 200
    assert (root / "evidence/order/同名.png").read_bytes() == first
    assert (root / "evidence/order/同名-2.png").read_bytes() == second
    # The same bytes again are the file already there, not a third copy.
    assert [f["file"] for f in r.get_json()["files"]] == ["evidence/order/同名-2.png", "evidence/order/同名.png"]
    assert len(evidence_files(root)) == 2


def test_oversize_upload_is_refused_with_413_and_writes_nothing(web: WebClient, root: Path) -> None:
    web.app.config["EK_MAX_UPLOAD"] = 10_000
    r = upload(web, [(os.urandom(20_000), "大.png")])
    assert r.status_code == 413
    assert "过大" in (r.get_json()["error"] if r.is_json else r.get_data(as_text=True))
    assert evidence_files(root) == []


def test_one_oversize_file_is_refused_even_under_the_request_limit(web: WebClient, root: Path) -> None:
    web.app.config["EK_MAX_UPLOAD"] = 1_000_000
    web.app.config["EK_MAX_FILE"] = 5_000
    r = upload(web, [(png_bytes(), "小.png"), (os.urandom(8_000), "大.png")])
    assert r.status_code == 413
    assert evidence_files(root) == []


def test_too_many_files_are_refused(web: WebClient, root: Path) -> None:
    files = [(f"{i}".encode(), f"{i}.txt") for i in range(MAX_UPLOAD_FILES + 1)]
    r = upload(web, files, kind="other")
    assert r.status_code == 400
    assert evidence_files(root) == []


def test_unknown_kind_is_refused(web: WebClient, root: Path) -> None:
    r = upload(web, [(png_bytes(), "a.png")], kind="../../x")
    assert r.status_code == 400
    assert evidence_files(root) == []


# ---------------------------------------------------------------------------------------------
# Fields
# ---------------------------------------------------------------------------------------------


def comment_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.lstrip().startswith("#")]


def test_field_edits_keep_every_comment_and_load(web: WebClient, root: Path) -> None:
    upload(web, [(png_bytes(), "订单.png")])
    before = (root / "case.yaml").read_text(encoding="utf-8")
    assert len(comment_lines(before)) > 20
    r = web.post(f"/case/{CASE}/evidence/fields", json={
        "file": "evidence/order/订单.png", "title": "订单详情页", "proves": "购买时间和金额",
        "time": "2024-11-14 19:00:12", "moments": ""})
    assert r.status_code == 200, r.get_json()
    after = (root / "case.yaml").read_text(encoding="utf-8")
    assert comment_lines(after) == comment_lines(before)
    assert "moments" not in after.split("\nevidence:")[-1]  # an untouched empty field adds no key
    o = load_case(root).override_for("evidence/order/订单.png")
    assert o is not None and (o.title, o.proves) == ("订单详情页", "购买时间和金额")
    assert o.time is not None and o.time.isoformat() == "2024-11-14T19:00:12+08:00"
    # The shopper's own comments inside and after the entry, then an edit again: the value is
    # replaced in place (not added twice) and every comment stays.
    mine = after.replace('    title: "订单详情页"\n', '    title: "订单详情页"  # 自己写的说明\n    # 下一行是证明目的\n')
    (root / "case.yaml").write_text(mine + "# 文件末尾的备注\n", encoding="utf-8")
    r = web.post(f"/case/{CASE}/evidence/fields", json={"file": "evidence/order/订单.png", "title": "订单页"})
    assert r.status_code == 200, r.get_json()
    again = (root / "case.yaml").read_text(encoding="utf-8")
    assert comment_lines(again) == comment_lines(mine + "# 文件末尾的备注\n")
    assert '    title: "订单页"  # 自己写的说明\n' in again
    assert again.count("title:") == after.count("title:")
    assert load_case(root).override_for("evidence/order/订单.png").title == "订单页"  # type: ignore[union-attr]


def test_a_value_the_loader_refuses_comes_back_by_field_and_nothing_is_written(web: WebClient, root: Path) -> None:
    upload(web, [(png_bytes(), "订单.png")])
    web.post(f"/case/{CASE}/evidence/fields", json={"file": "evidence/order/订单.png", "title": "订单页"})
    before = (root / "case.yaml").read_bytes()
    r = web.post(f"/case/{CASE}/evidence/fields", json={"file": "evidence/order/订单.png", "time": "上周三"})
    assert r.status_code == 400
    errors = r.get_json()["errors"]
    assert "无法识别的日期时间" in errors["time"] and "上周三" in errors["time"]
    r = web.post(f"/case/{CASE}/evidence/fields", json={"file": "evidence/order/订单.png", "moments": "主播承诺"})
    assert "时间码" in r.get_json()["errors"]["moments"]
    assert (root / "case.yaml").read_bytes() == before


def test_moments_are_written_as_a_list(web: WebClient, root: Path) -> None:
    upload(web, [(b"\x00" * 10, "录屏.mp4")], kind="livestream")
    rel = "evidence/livestream/录屏.mp4"
    r = web.post(f"/case/{CASE}/evidence/fields", json={"file": rel, "moments": "00:12:31 主播承诺假一赔十\n\n01:02 展示标签"})
    assert r.status_code == 200, r.get_json()
    assert load_case(root).override_for(rel).moments == ("00:12:31 主播承诺假一赔十", "01:02 展示标签")  # type: ignore[union-attr]


# ---------------------------------------------------------------------------------------------
# Redaction and previews
# ---------------------------------------------------------------------------------------------


def test_redaction_is_stored_and_the_preview_is_black_there_while_the_original_is_untouched(
        web: WebClient, root: Path) -> None:
    data = png_bytes((400, 600), "#e9c46a")
    upload(web, [(data, "聊天.png")], kind="chat")
    rel = "evidence/chat/聊天.png"
    r = web.post(f"/case/{CASE}/evidence/redact", json={"file": rel, "rects": [[0, 0, 200, 150.4]]})
    assert r.status_code == 200, r.get_json()
    assert load_case(root).override_for(rel).redact == ((0, 0, 200, 150),)  # type: ignore[union-attr]
    assert "redact: [[0, 0, 200, 150]]" in (root / "case.yaml").read_text(encoding="utf-8")
    [segment] = r.get_json()["row"]["segments"]
    preview = web.get(segment["url"])
    assert preview.status_code == 200 and preview.mimetype == "image/jpeg"
    im = Image.open(io.BytesIO(preview.data)).convert("RGB")
    sx, sy = im.width / 400, im.height / 600
    assert max(im.getpixel((int(100 * sx), int(75 * sy)))) < 20  # inside the rectangle: black
    assert im.getpixel((int(300 * sx), int(400 * sy)))[0] > 200  # outside: the picture
    assert (root / rel).read_bytes() == data

    # Removed again: the preview shows the picture where the rectangle was.
    r = web.post(f"/case/{CASE}/evidence/redact", json={"file": rel, "rects": []})
    assert r.status_code == 200
    assert load_case(root).override_for(rel).redact == ()  # type: ignore[union-attr]
    im = Image.open(io.BytesIO(web.get(r.get_json()["row"]["segments"][0]["url"]).data)).convert("RGB")
    assert im.getpixel((int(100 * sx), int(75 * sy)))[0] > 200


def test_bad_rectangles_are_refused(web: WebClient, root: Path) -> None:
    upload(web, [(png_bytes(), "a.png")])
    r = web.post(f"/case/{CASE}/evidence/redact", json={"file": "evidence/order/a.png", "rects": [[1, 2, 3]]})
    assert r.status_code == 400
    r = web.post(f"/case/{CASE}/evidence/redact", json={"file": "evidence/order/a.png", "rects": "x"})
    assert r.status_code == 400


def test_a_link_leaving_the_case_is_not_listed_previewed_or_served(web: WebClient, root: Path, tmp_path: Path) -> None:
    secret = tmp_path / "outside" / "secret.png"
    secret.parent.mkdir()
    secret.write_bytes(png_bytes(color="#ff0000"))
    (root / "evidence/order/link.png").symlink_to(secret)
    page = web.get(f"/case/{CASE}/evidence").get_data(as_text=True)
    assert 'data-file="evidence/order/link.png"' not in page
    assert "链接指向案件文件夹之外" in page  # listed as refused, with the reason
    assert web.get(f"/case/{CASE}/evidence/preview/1/0").status_code == 404
    for url in ("fields", "redact"):
        r = web.post(f"/case/{CASE}/evidence/{url}", json={"file": "evidence/order/link.png", "title": "x", "rects": []})
        assert r.status_code == 404
    assert "link.png" not in (root / "case.yaml").read_text(encoding="utf-8")
    data = web.get(f"/case/{CASE}/selfcheck?format=json").get_json()
    assert data["exhibits"] == []
    assert [r["path"] for r in data["refused"]] == ["evidence/order/link.png"]


def test_case_names_outside_the_workspace_are_404(web: WebClient) -> None:
    for name in ("..", ".hidden", "没有", "%2e%2e"):
        assert web.get(f"/case/{name}/evidence").status_code == 404


# ---------------------------------------------------------------------------------------------
# Self-check
# ---------------------------------------------------------------------------------------------


def test_selfcheck_follows_the_files(web: WebClient) -> None:
    def missing() -> set[str]:
        r = web.get(f"/case/{CASE}/selfcheck?format=json")
        assert r.status_code == 200
        return {t["key"] for t in r.get_json()["todo"] if t["status"] == "missing"}

    assert "evidence.order" in missing()
    upload(web, [(png_bytes(), "订单.png")])
    assert "evidence.order" not in missing()
    page = web.get(f"/case/{CASE}/selfcheck?target=12315").get_data(as_text=True)
    assert "还缺（必需）" in page and "怎么补" in page


def test_a_long_screenshot_maps_each_segment_to_the_rows_of_the_original(web: WebClient, root: Path) -> None:
    # A chat scrolled over several screens: the dossier shows it in overlapping segments; the page
    # draws on each, so each says which rows of the original it shows.
    tall = Image.new("RGB", (1080, 6000), "#ffffff")
    tall.paste((0, 0, 255), (0, 4000, 1080, 6000))  # the bottom third blue
    buffer = io.BytesIO()
    tall.save(buffer, "PNG")
    upload(web, [(buffer.getvalue(), "长截图.png")], kind="chat")
    page = web.get(f"/case/{CASE}/evidence").get_data(as_text=True)
    assert page.count('class="segment drawable"') > 2
    r = web.post(f"/case/{CASE}/evidence/redact", json={"file": "evidence/chat/长截图.png",
                                                         "rects": [[0, 5000, 1080, 500]]})
    segments = r.get_json()["row"]["segments"]
    assert segments[0]["top"] == 0 and abs(segments[-1]["bottom"] - 6000) < 1
    assert all(a["top"] < b["top"] < a["bottom"] for a, b in itertools.pairwise(segments))  # overlapping
    # Row 5250 of the original, in a segment that shows it, is black; row 4900 is still blue.
    seg = next(s for s in segments if s["top"] <= 4900 and s["bottom"] >= 5250)
    im = Image.open(io.BytesIO(web.get(seg["url"]).data)).convert("RGB")

    def row(y: int) -> int:
        return round((y - seg["top"]) * im.height / (seg["bottom"] - seg["top"]))

    assert max(im.getpixel((500, row(5250)))) < 20
    assert im.getpixel((500, row(4900)))[2] > 200 and im.getpixel((500, row(4900)))[0] < 40


def test_a_declared_time_in_another_zone_is_shown_with_its_offset_and_kept(web: WebClient, root: Path) -> None:
    rel = "evidence/order/订单.png"
    upload(web, [(png_bytes(), "订单.png")])
    r = web.post(f"/case/{CASE}/evidence/fields", json={"file": rel, "time": "2024-11-14T10:00:00+09:00"})
    assert r.status_code == 200, r.get_json()
    row = r.get_json()["row"]
    assert row["declared_time"] == "2024-11-14 10:00:00+09:00"
    # The page sends the field back as it showed it, with a new title: the instant is unchanged.
    r = web.post(f"/case/{CASE}/evidence/fields", json={"file": rel, "title": "订单", "time": row["declared_time"]})
    assert r.status_code == 200, r.get_json()
    moment = load_case(root).override_for(rel).time  # type: ignore[union-attr]
    assert moment is not None and moment.isoformat() == "2024-11-14T10:00:00+09:00"
    assert r.get_json()["row"]["time"] == "2024-11-14 10:00:00 UTC+9"  # the zone named, as in the dossier


def test_a_hostile_file_name_in_the_case_is_shown_as_text(web: WebClient, root: Path) -> None:
    evil = '<img src=x onerror="alert(1)">.png'
    (root / "evidence/order" / evil).write_bytes(png_bytes())
    page = web.get(f"/case/{CASE}/evidence").get_data(as_text=True)
    assert "<img src=x" not in page
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;.png" in page
    data = web.get(f"/case/{CASE}/selfcheck").get_data(as_text=True)
    assert "<img src=x" not in data


def test_files_the_cli_added_show_with_their_words_and_numbers(web: WebClient, root: Path, tmp_path: Path) -> None:
    source = tmp_path / "Screenshot_20241114-190012.png"
    source.write_bytes(png_bytes())
    result = CliRunner().invoke(main, ["add", str(root), str(source), "--kind", "order", "--title", "订单详情"])
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(main, ["build", str(root), "--no-ocr", "-q"])
    assert result.exit_code == 0, result.output
    page = web.get(f"/case/{CASE}/evidence").get_data(as_text=True)
    assert 'data-file="evidence/order/Screenshot_20241114-190012.png" data-number="1"' in page
    assert 'value="订单详情"' in page
    assert "2024-11-14 19:00:12（截图时间（按文件名））" in page  # the time read from the name, and its source


def test_an_unreadable_case_file_is_named_on_the_page_without_a_traceback(web: WebClient, root: Path) -> None:
    (root / "case.yaml").write_text("schema: 1\norder:\n  amount: 很多\n", encoding="utf-8")
    r = web.get(f"/case/{CASE}/evidence")
    assert r.status_code == 200
    text = r.get_data(as_text=True)
    assert "order.amount" in text and "Traceback" not in text and str(root.parent) not in text
    r = web.get(f"/case/{CASE}/selfcheck?format=json")
    assert r.status_code == 409 and "order.amount" in r.get_json()["error"]
    # Files can still be dropped in: add never needed case.yaml for them.
    assert upload(web, [(png_bytes(), "订单.png")]).get_json()["ok"] is True
    assert (root / "evidence/order/订单.png").is_file()


@pytest.mark.parametrize("evidence", [
    "evidence: [{file: evidence/order/a.png, title: 旧的}]  # 一行写的列表\n",
    "evidence:\n  - file: evidence/order/a.png\n    title: 旧的  # 标题\n    moments:\n      - \"00:01 开头\"\n    # 条目里的注释\n",
])
def test_set_evidence_fields_edits_flow_and_block_entries_in_place(tmp_path: Path, evidence: str) -> None:
    root = make_case_folder(tmp_path / "c", "schema: 1  # 版本\n" + evidence + "# 最后的注释\n")
    (root / "evidence/order/a.png").write_bytes(png_bytes())
    set_evidence_fields(root, "evidence/order/a.png", {"title": "新的", "redact": [[1, 2, 3, 4]], "moments": ["00:02 主播承诺"]})
    text = (root / "case.yaml").read_text(encoding="utf-8")
    assert comment_lines(text) == comment_lines("schema: 1  # 版本\n" + evidence + "# 最后的注释\n")
    assert [line.split("#")[1] for line in text.splitlines() if "#" in line] == \
        [line.split("#")[1] for line in ("schema: 1  # 版本\n" + evidence + "# 最后的注释\n").splitlines() if "#" in line]
    o = load_case(root).override_for("evidence/order/a.png")
    assert o is not None and (o.title, o.redact, o.moments) == ("新的", ((1, 2, 3, 4),), ("00:02 主播承诺",))
