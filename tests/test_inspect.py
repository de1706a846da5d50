"""`evidencekit inspect`: what is read from each file, without building (issue 11 item 1),
`check --json` exhibits (item 1) and the time phrase shown with every time (item 5)."""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path

import pypdfium2
import pytest
from click.testing import CliRunner
from factories import make_jpeg
from PIL import Image

from evidencekit.cli import main
from evidencekit.model import SHANGHAI, TimeSource


def _exif_jpeg(path: Path, when: str) -> Path:
    import piexif

    img = Image.new("RGB", (320, 240), "#48a")
    exif = piexif.dump({"0th": {}, "Exif": {piexif.ExifIFD.DateTimeOriginal: when.encode(),
                                            piexif.ExifIFD.OffsetTimeOriginal: b"+08:00"}, "GPS": {}})
    img.save(path, "JPEG", exif=exif)
    return path


def _run(*args: str) -> tuple[int, list[dict]]:
    result = CliRunner().invoke(main, ["inspect", "--json", *args])
    out = json.loads(result.stdout) if result.stdout.strip() else []
    return result.exit_code, out


def test_photo_with_exif(tmp_path: Path) -> None:
    photo = _exif_jpeg(tmp_path / "photo.jpg", "2024:03:15 14:32:00")
    code, out = _run(str(photo))
    assert code == 0
    [entry] = out
    assert entry["file"] == str(photo)
    assert entry["media"] == "image"
    assert entry["time"] == "2024-03-15T14:32:00+08:00"
    assert entry["time_source"] == "exif"
    assert entry["time_phrase"].startswith("拍摄时间")
    assert isinstance(entry["time_detail"], str)
    assert entry["findings"] == [] or all({"code", "message"} <= set(f) for f in entry["findings"])


def test_screenshot_with_file_name_time(tmp_path: Path) -> None:
    shot = make_jpeg(tmp_path / "Screenshot_2024-11-10-20-31-05-123_com.ss.android.ugc.aweme.jpg")
    code, [entry] = _run(str(shot))
    assert code == 0
    assert datetime.fromisoformat(entry["time"]) == datetime(2024, 11, 10, 20, 31, 5, 123000, tzinfo=SHANGHAI)
    assert entry["time_source"] == "filename"
    assert "截图" in entry["time_detail"]
    assert entry["time_phrase"].startswith("截图时间")


def test_save_time_is_called_a_save_time(tmp_path: Path) -> None:
    saved = make_jpeg(tmp_path / "mmexport1731242000000.jpg")
    code, [entry] = _run(str(saved))
    assert code == 0
    assert entry["time_source"] == "filename"
    assert entry["time_phrase"].startswith("保存时间（非拍摄时间）")


def test_tz_option_reads_local_names_in_that_zone(tmp_path: Path) -> None:
    shot = make_jpeg(tmp_path / "Screenshot_20241113-140500.png")
    code, [entry] = _run("--tz", "+09:00", str(shot))
    assert code == 0
    assert entry["time"] == "2024-11-13T14:05:00+09:00"


def test_chat_export_lists_every_message(tmp_path: Path) -> None:
    lines = ["[好物优选旗舰店:小美] 2024-11-15 10:02:15", "亲，已经帮您反馈给主管了",
             "[买家小张] 2024-11-15 10:05:00", "已经两天了", "第二行"]
    chat = tmp_path / "聊天记录.txt"
    chat.write_bytes(("\r\n".join(lines) + "\r\n").encode("gb18030"))
    code, [entry] = _run(str(chat))
    assert code == 0
    assert entry["media"] == "chat"
    assert entry["format"] == "qianniu"
    assert entry["encoding"] == "gb18030"
    assert [(m["time"], m["speaker"]) for m in entry["messages"]] == [
        ("2024-11-15T10:02:15+08:00", "好物优选旗舰店:小美"),
        ("2024-11-15T10:05:00+08:00", "买家小张"),
    ]
    assert entry["messages"][1]["text"] == "已经两天了\n第二行"
    assert {m["side"] for m in entry["messages"]} <= {"self", "other", "system"}
    assert entry["time_source"] == "content"
    assert entry["time"] == "2024-11-15T10:02:15+08:00"


def test_broken_file_is_a_finding_not_an_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    code, [entry] = _run(str(broken))
    assert code == 0
    assert entry["findings"], entry
    assert all(f["code"] and f["message"] for f in entry["findings"])
    assert entry["time_source"] == "mtime"
    assert entry["time_phrase"].startswith("文件修改时间")


def test_a_link_is_refused(tmp_path: Path) -> None:
    target = make_jpeg(tmp_path / "real.jpg")
    link = tmp_path / "link.jpg"
    os.symlink(target, link)
    result = CliRunner().invoke(main, ["inspect", "--json", str(link)])
    assert result.exit_code == 4
    [entry] = json.loads(result.stdout)
    assert "链接" in entry["error"]
    assert "链接" in result.stderr


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.jpg"
    os.mkfifo(fifo)
    result = CliRunner().invoke(main, ["inspect", str(fifo)])
    assert result.exit_code == 4
    assert "普通文件" in result.stderr


def test_a_missing_file_is_exit_4_and_the_others_still_shown(tmp_path: Path) -> None:
    photo = _exif_jpeg(tmp_path / "photo.jpg", "2024:03:15 14:32:00")
    result = CliRunner().invoke(main, ["inspect", "--json", str(tmp_path / "nope.jpg"), str(photo)])
    assert result.exit_code == 4
    missing, ok = json.loads(result.stdout)
    assert missing["error"] and ok["time_source"] == "exif"


def test_a_folder_is_refused(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["inspect", "--json", str(tmp_path)])
    assert result.exit_code == 4
    assert "文件夹" in json.loads(result.stdout)[0]["error"]


def test_usage_errors_are_exit_2(tmp_path: Path) -> None:
    assert CliRunner().invoke(main, ["inspect"]).exit_code == 2
    photo = make_jpeg(tmp_path / "a.jpg")
    assert CliRunner().invoke(main, ["inspect", "--tz", "Mars/Olympus", str(photo)]).exit_code == 2


def test_plain_text_output_names_time_and_source(tmp_path: Path) -> None:
    photo = _exif_jpeg(tmp_path / "photo.jpg", "2024:03:15 14:32:00")
    result = CliRunner().invoke(main, ["inspect", str(photo)])
    assert result.exit_code == 0
    assert "2024-03-15 14:32:00" in result.stdout and "拍摄时间" in result.stdout


def test_every_time_source_has_a_phrase_and_strength() -> None:
    from evidencekit.rules.catalog import load_rules

    table = load_rules().time_sources
    missing = [s.value for s in TimeSource if s.value not in table.sources]
    assert not missing, f"templates/time_sources.yaml lacks {missing}"
    for source in TimeSource:
        entry = table.entry(source)
        assert entry.phrase and entry.meaning and entry.strength in ("strong", "medium", "weak")
        assert entry.phrase.count("（") <= 1, "no nested brackets in a phrase"


# ---------------------------------------------------------------------------------------------
# The example case: build, inspect and check agree
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, example_source: Path) -> tuple[Path, Path]:
    import shutil

    case = tmp_path_factory.mktemp("inspect-example") / "case"
    shutil.copytree(example_source, case, copy_function=shutil.copy2)
    out = case.parent / "dossier.pdf"
    result = CliRunner().invoke(main, ["build", str(case), "-o", str(out), "-q", "--reproducible"])
    assert result.exit_code == 0, result.output
    return case, out


def _check_json(case: Path) -> dict:
    result = CliRunner().invoke(main, ["check", str(case), "--json"])
    return json.loads(result.stdout)


def test_check_json_lists_every_exhibit_with_time_and_source(built: tuple[Path, Path]) -> None:
    case, _ = built
    report = _check_json(case)
    files = sorted(str(p.relative_to(case)) for p in (case / "evidence").rglob("*") if p.is_file())
    assert report["files"] == len(files)
    assert sorted(e["path"] for e in report["exhibits"]) == files
    assert [e["number"] for e in report["exhibits"]] == list(range(1, len(files) + 1))
    for e in report["exhibits"]:
        assert {"kind", "time", "time_source", "time_detail", "time_phrase"} <= set(e)
        assert e["time"] is None or datetime.fromisoformat(e["time"]).tzinfo is not None


def test_build_and_inspect_give_the_same_time_and_source(built: tuple[Path, Path]) -> None:
    case, _ = built
    exhibits = {e["path"]: e for e in _check_json(case)["exhibits"]}
    code, out = _run(*(str(case / rel) for rel in exhibits))
    assert code == 0
    for rel, entry in zip(exhibits, out, strict=True):
        assert (entry["time"], entry["time_source"], entry["time_detail"]) == (
            exhibits[rel]["time"], exhibits[rel]["time_source"], exhibits[rel]["time_detail"]), rel


def _pdf_text(path: Path) -> list[str]:
    doc = pypdfium2.PdfDocument(path)
    try:
        return [doc[i].get_textpage().get_text_range() for i in range(len(doc))]
    finally:
        doc.close()


def _flat(text: str) -> str:
    return "".join(text.split())


def test_time_phrase_in_index_and_exhibit_header(built: tuple[Path, Path]) -> None:
    case, pdf = built
    pages = [_flat(p) for p in _pdf_text(pdf)]
    index = next(p for p in pages if "证据目录" in p and "页码" in p)
    exhibits = _check_json(case)["exhibits"]
    for e in exhibits:
        assert _flat(e["time_phrase"]) in index, e
    for e in exhibits:
        header = next(p for p in pages if f"证据{e['number']}" in p and _flat(e["time_phrase"]) in p
                      and "时间：" in p and p is not index)
        assert header
    assert any("截图时间" in p for p in pages if p is not index)
    appendix = next(p for p in pages if "时间来源说明" in p)
    for word in ("强", "中", "弱", "拍摄时间", "文件修改时间"):
        assert word in appendix


def test_example_times_are_aware(built: tuple[Path, Path]) -> None:
    case, _ = built
    for e in _check_json(case)["exhibits"]:
        if e["time"]:
            assert datetime.fromisoformat(e["time"]).utcoffset() == SHANGHAI.utcoffset(None)
