"""Pipeline behaviour across modules: timestamp tokens, whole-case media, parallelism, the cache."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from factories import make_exhibit, make_source_file
from reportlab.pdfgen.canvas import Canvas

from evidencekit.integrity.attach import attach_files
from evidencekit.integrity.stamp import existing_token
from evidencekit.integrity.verify import verify_dossier

FIXTURES = Path(__file__).parent / "fixtures" / "tsa"
MANIFEST = (FIXTURES / "manifest.json").read_bytes()
TOKEN = (FIXTURES / "response.tsr").read_bytes()


def test_token_beside_the_output_is_embedded_when_it_certifies_this_manifest(tmp_path: Path) -> None:
    output = tmp_path / "dossier.pdf"
    (tmp_path / "dossier.pdf.tsr").write_bytes(TOKEN)
    token, findings = existing_token(output, MANIFEST)
    assert token == TOKEN and findings == ()


def test_stale_token_is_not_embedded_and_says_why(tmp_path: Path) -> None:
    output = tmp_path / "dossier.pdf"
    (tmp_path / "dossier.pdf.tsr").write_bytes(TOKEN)
    token, findings = existing_token(output, MANIFEST + b" ")
    assert token is None
    assert findings and findings[0].code == "stamp.stale"


def test_embedded_token_verifies_offline(tmp_path: Path) -> None:
    plain = tmp_path / "plain.pdf"
    Canvas(str(plain)).save()
    src = make_source_file(tmp_path, "evidence/order/a.png", b"original bytes")
    out = tmp_path / "dossier.pdf"
    from datetime import UTC, datetime

    # The fixture manifest does not list a.png; attach no originals so only the token matters.
    attach_files(plain, out, exhibits=[make_exhibit(1, src)], manifest=MANIFEST, attach_originals=False,
                 reproducible=True, when=datetime(2024, 11, 16, tzinfo=UTC), token=TOKEN)
    report = verify_dossier(out, ca_pem=(FIXTURES / "ca.pem").read_bytes())
    assert report.token is not None and report.token.ok


# --- recordings, chat exports, audio and PDF evidence through a whole build --------------------


def _pdf_text(pdf: Path) -> str:
    import pypdfium2

    doc = pypdfium2.PdfDocument(str(pdf))
    try:
        return "\n".join(doc[i].get_textpage().get_text_range() for i in range(len(doc)))
    finally:
        doc.close()


def test_recording_chat_audio_and_pdf_evidence_in_one_dossier(tmp_path: Path) -> None:
    from click.testing import CliRunner
    from mediagen import make_audio, make_pdf, make_video

    from evidencekit.cli import main

    root = tmp_path / "case"
    ev = root / "evidence"
    video = ev / "livestream" / "Screenrecorder-2024-11-11-20-30-00-123.mp4"
    video.parent.mkdir(parents=True)
    make_video(video, 20)
    (ev / "chat").mkdir()
    qianniu = "\r\n".join([
        "[买家小张] 2024-11-13 15:20:11", "收到的包是人造革",
        "当前用户来自 抖音直播间",
        "[旗舰店客服:小美] 2024-11-13 15:21:40", "亲，我们都是正品哦",
    ]) + "\r\n"
    (ev / "chat" / "千牛.txt").write_bytes(qianniu.encode("gb18030"))
    wechat = "小张\n2024年11月14日 09:30\n请尽快处理\n\n旗舰店客服\n2024年11月14日 09:41\n已反馈主管\n"
    (ev / "chat" / "微信复制.txt").write_text(wechat, encoding="utf-8")
    audio = ev / "chat" / "客服电话.wav"
    make_audio(audio, 3)
    (ev / "report").mkdir()
    make_pdf(ev / "report" / "质检报告.pdf", 2)
    (root / "case.yaml").write_text(
        "evidence:\n"
        "  - file: evidence/livestream/Screenrecorder-2024-11-11-20-30-00-123.mp4\n"
        "    moments: ['00:00:07 主播承诺假一赔十']\n"
        "  - file: evidence/chat/客服电话.wav\n"
        "    time: 2024-11-14 10:00\n"
        "    moments: ['00:00:02 客服承认是人造革']\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["build", str(root), "-q"])
    assert result.exit_code == 0, result.stderr
    text = _pdf_text(root / "dossier.pdf")
    assert "2024-11-11 20:30:07" in text  # the moment's wall-clock time (start + 7 s)
    assert "主播承诺假一赔十" in text
    assert "00:00:05" in text  # a contact-sheet timecode
    # Chat messages (GB18030 千牛 with CRLF, WeChat minutes-only) join the timeline.
    timeline = text[text.index("时间线"):]
    for stamp in ("2024-11-13 15:20:11", "2024-11-13 15:21:40", "2024-11-14 09:30", "2024-11-14 09:41"):
        assert stamp in timeline
    assert "当前用户来自" in text  # system line kept
    assert "2024-11-14 10:00:02" in text  # audio moment at declared start + 2 s
    assert "共 2 页" in text  # the PDF report's page count in the index
    assert "时长 00:00:20" in text


def test_parallel_display_copies_give_the_same_dossier(example_source: Path, example_reproducible: Path,
                                                       tmp_path: Path) -> None:
    """Worker processes (cold cache each time) must not change order or bytes."""
    from click.testing import CliRunner

    from evidencekit.cli import main

    # example_reproducible is the --jobs 1 build, on a cache of its own that started empty
    assert any((example_reproducible.parent / "cache").rglob("*.jpg"))
    cache = tmp_path / "cache-2"
    out = tmp_path / "d2.pdf"
    result = CliRunner(env={"EVIDENCEKIT_CACHE_DIR": str(cache)}).invoke(
        main, ["build", str(example_source), "-o", str(out), "--reproducible", "-q", "--jobs", "2"])
    assert result.exit_code == 0, result.stderr
    assert any(cache.rglob("*.jpg"))  # display copies were really made in this run
    assert out.read_bytes() == example_reproducible.read_bytes()


def test_declared_kind_settles_an_unknown_folder(tmp_path: Path) -> None:
    from factories import make_jpeg

    from evidencekit.pipeline import BuildOptions, assess_case

    root = tmp_path / "case"
    make_jpeg(root / "evidence" / "截图" / "a.jpg")
    make_jpeg(root / "evidence" / "截图" / "b.jpg")
    (root / "case.yaml").write_text("evidence:\n  - file: evidence/截图/a.jpg\n    kind: order\n", encoding="utf-8")
    a = assess_case(root, BuildOptions(cache_dir=tmp_path / "cache"))
    unknown = {f.subject for f in a.findings if f.code == "kind.unknown_folder"}
    assert unknown == {"evidence/截图/b.jpg"}
    assert {ex.source.name: ex.kind.value for ex in a.exhibits} == {"a.jpg": "order", "b.jpg": "other"}


def test_exhibits_are_numbered_by_kind_then_time_then_path(tmp_path: Path) -> None:
    import os

    from factories import make_jpeg

    from evidencekit.pipeline import BuildOptions, assess_case

    root = tmp_path / "case"
    ev = root / "evidence"
    make_jpeg(ev / "product" / "IMG_20241113_151000.jpg")
    make_jpeg(ev / "product" / "IMG_20241112_090000.jpg")
    make_jpeg(ev / "order" / "Screenshot_20241114-100000.jpg")  # latest, but orders come first
    for name in ("b.jpg", "a.jpg"):  # no time in the name, the same mtime: by path
        os.utime(make_jpeg(ev / "product" / name), (1_800_000_000, 1_800_000_000))
    (root / "case.yaml").write_text(
        "evidence:\n  - file: evidence/product/b.jpg\n    title: 我起的标题\n", encoding="utf-8")
    a = assess_case(root, BuildOptions(cache_dir=tmp_path / "cache"))
    assert [(ex.number, ex.source.name) for ex in a.exhibits] == [
        (1, "Screenshot_20241114-100000.jpg"), (2, "IMG_20241112_090000.jpg"), (3, "IMG_20241113_151000.jpg"),
        (4, "a.jpg"), (5, "b.jpg")]
    titles = {ex.source.name: ex.title for ex in a.exhibits}
    assert titles["b.jpg"] == "我起的标题"
    assert titles["a.jpg"] and titles["a.jpg"] != "我起的标题"


def test_a_failing_step_after_render_leaves_no_work_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from factories import make_jpeg

    from evidencekit import pipeline

    root = tmp_path / "case"
    make_jpeg(root / "evidence" / "product" / "IMG_20241113_151000.jpg")
    seen: list[Path] = []

    def fails(final: Path, output: Path, force: bool) -> None:
        seen.append(final.parent)
        assert final.is_file()  # rendered and attached in the work folder
        raise RuntimeError("publish failed")

    monkeypatch.setattr(pipeline, "publish_file", fails)
    try:
        pipeline.build_dossier(root, pipeline.BuildOptions(cache_dir=tmp_path / "cache"))
    except RuntimeError as exc:  # checked while the exception, and what it holds, is alive
        assert str(exc) == "publish failed"
        assert seen and not seen[0].exists()
    else:
        pytest.fail("the build did not fail")
    assert not (root / "dossier.pdf").exists()


def test_rebuild_after_editing_case_yaml_decodes_nothing(example_case: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 6: display copies are reused from the cache; no image or recording is decoded."""
    import av
    from click.testing import CliRunner
    from PIL import Image

    from evidencekit.cli import main

    runner = CliRunner(env={"EVIDENCEKIT_CACHE_DIR": str(tmp_path / "cache")})
    first = runner.invoke(main, ["build", str(example_case), "-q", "--jobs", "1"])
    assert first.exit_code == 0, first.stderr
    path = example_case / "case.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("PU 人造革", "PU 合成革"), encoding="utf-8")

    def no_decoding(*args: object, **kwargs: object) -> None:
        raise AssertionError("decoded an original on a warm rebuild")

    monkeypatch.setattr(Image, "open", no_decoding)
    monkeypatch.setattr(av, "open", no_decoding)
    second = runner.invoke(main, ["build", str(example_case), "-q", "--force", "--jobs", "1"])
    assert second.exit_code == 0, second.stderr
    text = _pdf_text(example_case / "dossier.pdf")
    assert "PU 合成革" in text
    assert "未生成预览" not in text and "处理此文件时出错" not in text


@pytest.fixture
def layout_passes(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """The layout passes of the renders that follow, in order: True for a measuring pass."""
    from evidencekit.pdf import render

    passes: list[bool] = []
    real_layout = render._layout

    def counting(ctx, target, *, reproducible):  # type: ignore[no-untyped-def]
        passes.append(ctx.layout_only)
        return real_layout(ctx, target, reproducible=reproducible)

    monkeypatch.setattr(render, "_layout", counting)
    return passes


def test_layout_hint_skips_the_measuring_pass_and_a_stale_hint_is_corrected(
        example_source: Path, example_reproducible: Path, tmp_path: Path, layout_passes: list[bool]) -> None:
    import json

    from click.testing import CliRunner

    from evidencekit.cli import main

    # The display copies that example_reproducible's build made, without its layout hint: these
    # builds lay out from a cold hint, not decode the originals again.
    shutil.copytree(example_reproducible.parent / "cache", tmp_path / "cache",
                    ignore=shutil.ignore_patterns("layout"))
    runner = CliRunner(env={"EVIDENCEKIT_CACHE_DIR": str(tmp_path / "cache")})

    def build(name: str) -> bytes:
        layout_passes.clear()
        out = tmp_path / name
        result = runner.invoke(main, ["build", str(example_source), "-o", str(out), "--reproducible", "-q"])
        assert result.exit_code == 0, result.stderr
        return out.read_bytes()

    first = build("a.pdf")
    assert layout_passes == [True, False]  # measure, then the real pass
    second = build("b.pdf")
    assert layout_passes == [False]  # the hint was right: one real pass
    assert second == first
    (hint,) = (tmp_path / "cache" / "layout").iterdir()
    doc = json.loads(hint.read_text(encoding="utf-8"))
    doc["pages"] = {k: v + 3 for k, v in doc["pages"].items()}
    doc["total"] += 5
    hint.write_text(json.dumps(doc), encoding="utf-8")
    third = build("c.pdf")
    assert layout_passes == [False, False]  # wrong numbers detected and laid out again
    assert third == first


def test_a_moved_case_folder_keeps_its_layout_hint(example_case: Path, tmp_path: Path,
                                                  layout_passes: list[bool]) -> None:
    """The hint is kept for the evidence, not for the folder's path: a case folder renamed or
    moved (a volunteer's copy) rebuilds in one pass. Another target has other pages: no hint."""
    from click.testing import CliRunner

    from evidencekit.cli import main

    runner = CliRunner(env={"EVIDENCEKIT_CACHE_DIR": str(tmp_path / "cache")})

    def build(case: Path, *args: str) -> list[bool]:
        layout_passes.clear()
        result = runner.invoke(main, ["build", str(case), "-q", "--force", "--jobs", "1", *args])
        assert result.exit_code == 0, result.stderr
        return list(layout_passes)

    assert build(example_case) == [True, False]
    moved = example_case.rename(tmp_path / "改名后的案件")
    assert build(moved) == [False]
    assert build(moved, "--target", "email") == [True, False]


def test_renaming_the_shop_re_decodes_no_image(example_case: Path, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 10: chat names are not part of a display copy's cache key; a new shop name in
    case.yaml reuses every image, frame and page from the cache."""
    import av
    import pypdfium2
    from click.testing import CliRunner
    from PIL import Image

    from evidencekit.cli import main

    runner = CliRunner(env={"EVIDENCEKIT_CACHE_DIR": str(tmp_path / "cache")})
    first = runner.invoke(main, ["build", str(example_case), "-q", "--jobs", "1"])
    assert first.exit_code == 0, first.stderr
    path = example_case / "case.yaml"
    text = path.read_text(encoding="utf-8")
    assert "好物优选旗舰店" in text
    path.write_text(text.replace("好物优选旗舰店", "好物优选官方店"), encoding="utf-8")

    def no_decoding(*args: object, **kwargs: object) -> None:
        raise AssertionError("decoded an original after renaming the shop")

    monkeypatch.setattr(Image, "open", no_decoding)
    monkeypatch.setattr(av, "open", no_decoding)
    monkeypatch.setattr(pypdfium2, "PdfDocument", no_decoding)
    second = runner.invoke(main, ["build", str(example_case), "-q", "--force", "--jobs", "1"])
    assert second.exit_code == 0, second.stderr
    monkeypatch.undo()  # reading the result back needs PDFium
    out = _pdf_text(example_case / "dossier.pdf")
    assert "好物优选官方店" in out
    assert "未生成预览" not in out and "处理此文件时出错" not in out and "无法解码" not in out
