"""The dossier PDF: structure, page numbers, links, fonts, escaping, reproducibility."""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
from dataclasses import replace
from decimal import Decimal
from io import BytesIO
from pathlib import Path

import pikepdf
import pypdfium2
import pytest
from factories import make_case, make_display_image, make_exhibit, make_source_file, sh
from reportlab.platypus import Spacer

from evidencekit.model import (
    AudioInspection,
    ChatInspection,
    ChatMessage,
    ChecklistItem,
    Dossier,
    EvidenceKind,
    Finding,
    Frame,
    ImageInspection,
    LegalBasis,
    Moment,
    PdfInspection,
    RefusedFile,
    Severity,
    Stamp,
    Status,
    StatutoryAmount,
    TextInspection,
    TimelineEntry,
    TimeSource,
    Transcript,
    VideoInspection,
)
from evidencekit.pdf import fonts as fonts_module
from evidencekit.pdf import render as render_module
from evidencekit.pdf.document import BODY_TEMPLATE, RenderContext, build_document
from evidencekit.pdf.fonts import load_fonts
from evidencekit.pdf.render import RenderResult, render_dossier
from evidencekit.pdf.text import Styles

MARKUP_CAPTION = "<b>x</b> & <font>"
MARKUP_TITLE = '开箱 <i>视频</i> & "引号"'
KIND_LABELS = {
    "order": "订单截图",
    "product": "商品照片",
    "livestream": "直播证据",
    "chat": "客服聊天记录",
    "unboxing": "开箱视频",
    "logistics": "物流信息",
    "payment": "支付凭证",
    "comparison": "对比图",
    "report": "检测报告",
    "other": "其他材料",
}
KIND_SOURCES = {k: "申请人手机截图" if k in ("order", "chat") else "申请人拍摄/保存" for k in KIND_LABELS}


@pytest.fixture(autouse=True)
def _no_system_fonts(monkeypatch: pytest.MonkeyPatch) -> None:
    # Results must not depend on which fonts this machine happens to have.
    monkeypatch.setattr(fonts_module, "SYSTEM_FALLBACK_PATHS", ())


def make_dossier(root: Path, exhibits: tuple = (), **kw: object) -> Dossier:
    case = make_case(root)
    base = Dossier(
        case=case,
        case_id="EK-20241114-0001",
        target="12315",
        title="关于好物优选旗舰店直播销售商品与宣传不符的投诉",
        exhibits=tuple(exhibits),
        refused=(),
        timeline=(),
        checklist=(),
        findings=(),
        legal=(),
        amounts=(),
        generated_at=sh(2024, 11, 15, 10, 0, 0),
        tool_version="0.1.0",
        fingerprint=hashlib.sha256(b"manifest").hexdigest(),
        manifest=b"{}",
        urgency="紧急（24 小时内处理）",
        target_label="全国12315平台",
        kind_labels=KIND_LABELS,
        kind_sources=KIND_SOURCES,
        problem_label="与直播展示完全不符",
        claim_labels=("退货退款", "三倍赔偿"),
    )
    return replace(base, **kw)  # type: ignore[arg-type]


def sample_dossier(root: Path) -> Dossier:
    """Several exhibits of every shape, including a transcript that runs over several pages."""
    img = root / "display"
    ex: list = []
    src = make_source_file(root, "evidence/order/订单.png", b"order", EvidenceKind.ORDER)
    ex.append(
        make_exhibit(
            1,
            src,
            title="订单详情截图",
            inspection=ImageInspection(
                width=1080,
                height=2340,
                images=(make_display_image(img / "o.jpg", (360, 780)),),
            ),
        )
    )
    src = make_source_file(root, "evidence/product/包.jpg", b"product", EvidenceKind.PRODUCT)
    ex.append(
        make_exhibit(
            2,
            src,
            title=MARKUP_TITLE,
            note="包内衬有明显胶水痕迹",
            inspection=ImageInspection(
                width=4000,
                height=3000,
                redacted=True,
                removed_metadata=("GPS", "BodySerialNumber"),
                findings=(
                    Finding(
                        Severity.WARNING, "time.mtime_only", "只有文件修改时间", "evidence/product/包.jpg"
                    ),
                ),
                images=(make_display_image(img / "p.jpg", (800, 600), caption=MARKUP_CAPTION),),
            ),
        )
    )
    messages = (
        *(
            ChatMessage(
                sh(2024, 11, 14, 9, i // 60, i % 60),
                "我" if i % 2 else "好物优选客服",
                f"第{i}条消息：" + ("您好，请问这个包是真皮的吗？" * (1 + i % 4)),
                "self" if i % 2 else "other",
            )
            for i in range(90)
        ),
        ChatMessage(sh(2024, 11, 14, 10, 0, 0), "", "对方已撤回一条消息", "system"),
    )
    src = make_source_file(root, "evidence/chat/聊天.txt", b"chat", EvidenceKind.CHAT)
    ex.append(
        make_exhibit(
            3,
            src,
            title="与客服的聊天记录",
            inspection=ChatInspection(transcript=Transcript("wechat", "gb18030", messages)),
        )
    )
    frames = (
        Frame(
            make_display_image(img / "f1.jpg", (640, 360)),
            751.0,
            sh(2024, 11, 10, 20, 27, 31),
            "主播承诺假一赔十",
            declared=True,
        ),
        *(Frame(make_display_image(img / f"s{i}.jpg", (320, 180)), i * 60.0, None) for i in range(5)),
    )
    src = make_source_file(root, "evidence/livestream/录屏.mp4", b"video", EvidenceKind.LIVESTREAM)
    ex.append(
        make_exhibit(
            4,
            src,
            title="直播录屏",
            inspection=VideoInspection(
                width=1920,
                height=1080,
                duration=1800.0,
                frames=frames,
                moments=(Moment(751.0, "主播承诺假一赔十"),),
            ),
        )
    )
    src = make_source_file(root, "evidence/other/通话.m4a", b"audio", EvidenceKind.OTHER)
    ex.append(
        make_exhibit(
            5,
            src,
            title="客服电话录音",
            inspection=AudioInspection(
                duration=125.5,
                moments=(Moment(65.0, "客服承认是人造革", sh(2024, 11, 14, 15, 1, 5)),),
            ),
        )
    )
    src = make_source_file(root, "evidence/report/质检.pdf", b"pdf", EvidenceKind.REPORT)
    ex.append(
        make_exhibit(
            6,
            src,
            title="质检报告",
            inspection=PdfInspection(
                page_count=2,
                images=(
                    make_display_image(img / "r1.jpg", (600, 850)),
                    make_display_image(img / "r2.jpg", (600, 850)),
                ),
            ),
        )
    )
    src = make_source_file(root, "evidence/unboxing/坏.mov", b"broken", EvidenceKind.UNBOXING)
    ex.append(
        make_exhibit(
            7,
            src,
            title="开箱视频",
            stamp=Stamp(sh(2024, 11, 13, 18, 0, 0), TimeSource.MTIME),
            inspection=VideoInspection(preview_error="视频文件已损坏，无法解码"),
        )
    )
    src = make_source_file(root, "evidence/chat/导出.txt", b"raw", EvidenceKind.CHAT)
    ex.append(
        make_exhibit(
            8,
            src,
            title="未识别的聊天导出",
            inspection=TextInspection(
                transcript=Transcript("unknown", "utf-8", raw_text="第一行 <tag>\n    缩进行 & 符号\n\n末行"),
            ),
        )
    )
    return make_dossier(
        root,
        tuple(ex),
        refused=(RefusedFile("evidence/other/link.jpg", "符号链接指向案件文件夹之外，已拒绝读取"),),
        checklist=(
            ChecklistItem("evidence.order", "订单截图", True, Status.PRESENT, "已有订单截图", (1,)),
            ChecklistItem("evidence.livestream", "直播承诺证据", True, Status.WEAK, "录屏时间来源较弱", (4,)),
            ChecklistItem(
                "field.merchant.credit_code", "统一社会信用代码", True, Status.MISSING, "案件文件未填写"
            ),
        ),
        findings=(
            Finding(
                Severity.WARNING, "time.mtime_only", "开箱视频只有文件修改时间", "evidence/unboxing/坏.mov"
            ),
        ),
        timeline=(
            TimelineEntry(sh(2024, 11, 10, 20, 15, 0), "直播开始", "livestream"),
            TimelineEntry(sh(2024, 11, 10, 20, 31, 5), "下单", "order", exhibit=1),
            TimelineEntry(
                sh(2024, 11, 14, 9, 0, 0), "联系客服", "chat", exhibit=3, flag="商家超过 48 小时未回复"
            ),
        ),
        legal=(
            LegalBasis("《消费者权益保护法》", "第五十五条", "经营者提供商品有欺诈行为的，按价款三倍赔偿"),
        ),
        amounts=(
            StatutoryAmount(
                "《消费者权益保护法》", "第五十五条", Decimal("1197.00"), "3 × ¥399.00 = ¥1,197.00"
            ),
        ),
    )


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> tuple[Dossier, Path, RenderResult]:
    root = tmp_path_factory.mktemp("case")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(fonts_module, "SYSTEM_FALLBACK_PATHS", ())
        dossier = sample_dossier(root)
        out = root / "out.pdf"
        result = render_dossier(dossier, out, reproducible=True)
    return dossier, out, result


def page_texts(path: Path) -> list[str]:
    doc = pypdfium2.PdfDocument(path)
    try:
        return [doc[i].get_textpage().get_text_range() for i in range(len(doc))]
    finally:
        doc.close()


def normalized(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\u3000", " "))


def exhibit_first_pages(texts: list[str], dossier: Dossier) -> dict[int, int]:
    """Where each exhibit really starts: the first page carrying its footer (1-based)."""
    pages: dict[int, int] = {}
    for number, text in enumerate(texts, start=1):
        for ex in dossier.exhibits:
            if f"{ex.label} 原始文件：{ex.source.name}" in normalized(text):
                pages.setdefault(ex.number, number)
    return pages


def page_number_of(pdf: pikepdf.Pdf, page_obj: pikepdf.Object) -> int:
    for i, page in enumerate(pdf.pages, start=1):
        if page.obj.objgen == page_obj.objgen:
            return i
    raise AssertionError("destination is not a page of this PDF")


# ---------------------------------------------------------------------------------------------


def test_every_page_has_numbered_footer_and_case_id(rendered: tuple[Dossier, Path, RenderResult]) -> None:
    dossier, out, result = rendered
    texts = page_texts(out)
    assert result.page_count == len(texts) > 10
    for number, text in enumerate(texts, start=1):
        flat = normalized(text)
        assert f"第 {number} 页 / 共 {len(texts)} 页" in flat
        assert dossier.case_id in flat
        assert dossier.title in flat


def test_exhibits_start_where_result_says(rendered: tuple[Dossier, Path, RenderResult]) -> None:
    dossier, out, result = rendered
    actual = exhibit_first_pages(page_texts(out), dossier)
    assert actual == result.exhibit_pages
    # The 91-message transcript (exhibit 3) runs over several pages, so later numbers depend on it.
    assert result.exhibit_pages[4] - result.exhibit_pages[3] >= 3


def test_index_rows_print_and_link_to_the_real_first_page(
    rendered: tuple[Dossier, Path, RenderResult],
) -> None:
    dossier, out, _ = rendered
    actual = exhibit_first_pages(page_texts(out), dossier)
    index_page = next(
        i for i, t in enumerate(page_texts(out)) if t.lstrip().startswith("证据目录") or "\n证据目录" in t
    )
    pdf = pikepdf.open(out)
    doc = pypdfium2.PdfDocument(out)
    try:
        textpage = doc[index_page].get_textpage()
        seen: dict[int, int] = {}
        for annot in pdf.pages[index_page].obj.get("/Annots", []):
            left, bottom, right, top = (float(v) for v in annot.Rect)
            row = normalized(textpage.get_text_bounded(left, bottom, right, top)).strip()
            match = re.match(r"证据(\d+) .* (\d+)(?:–\d+)?$", row)
            assert match, row
            number, printed = int(match[1]), int(match[2])
            assert printed == actual[number], row
            assert page_number_of(pdf, annot.Dest[0]) == actual[number]
            seen[number] = printed
    finally:
        doc.close()
        pdf.close()
    assert sorted(seen) == [ex.number for ex in dossier.exhibits]


def test_outline_lists_sections_and_nests_exhibits(rendered: tuple[Dossier, Path, RenderResult]) -> None:
    dossier, out, result = rendered
    with pikepdf.open(out) as pdf, pdf.open_outline() as outline:
        assert str(pdf.Root.PageMode) == "/UseOutlines"  # the reader opens the bookmarks panel
        top = [item.title for item in outline.root]
        assert top == ["封面", "投诉要点", "证据清单", "证据目录", "时间线", "证据", "完整性附录"]
        exhibits = next(item for item in outline.root if item.title == "证据")
        assert [c.title for c in exhibits.children] == [f"{ex.label} {ex.title}" for ex in dossier.exhibits]
        for child, ex in zip(exhibits.children, dossier.exhibits, strict=True):
            destination = child.destination
            assert isinstance(destination, pikepdf.Array)
            assert page_number_of(pdf, destination[0]) == result.exhibit_pages[ex.number]


def test_timeline_rows_link_to_their_exhibit(rendered: tuple[Dossier, Path, RenderResult]) -> None:
    _, out, result = rendered
    texts = page_texts(out)
    timeline_page = next(i for i, t in enumerate(texts) if "商家超过 48 小时未回复" in t)
    with pikepdf.open(out) as pdf:
        targets = sorted(page_number_of(pdf, a.Dest[0]) for a in pdf.pages[timeline_page].obj["/Annots"])
    assert targets == sorted([result.exhibit_pages[1], result.exhibit_pages[3]])


def test_user_markup_is_shown_literally(rendered: tuple[Dossier, Path, RenderResult]) -> None:
    _, out, result = rendered
    texts = page_texts(out)
    product_page = normalized(texts[result.exhibit_pages[2] - 1])
    assert MARKUP_CAPTION in product_page
    assert MARKUP_TITLE in product_page
    raw_page = normalized(texts[result.exhibit_pages[8] - 1])
    assert "第一行 <tag>" in raw_page
    assert "缩进行 & 符号" in raw_page


def test_all_fonts_are_embedded(rendered: tuple[Dossier, Path, RenderResult]) -> None:
    _, out, _ = rendered
    with pikepdf.open(out) as pdf:
        fonts = [
            obj
            for obj in pdf.objects
            if isinstance(obj, pikepdf.Dictionary) and obj.get("/Type") == pikepdf.Name.Font
        ]
        assert fonts
        for font in fonts:
            assert font.Subtype == pikepdf.Name.TrueType, font.BaseFont
            assert "/FontFile2" in font.FontDescriptor, font.BaseFont


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils not installed")
def test_poppler_renders_without_font_complaints(
    rendered: tuple[Dossier, Path, RenderResult], tmp_path: Path
) -> None:
    _, out, _ = rendered
    run = subprocess.run(
        ["pdftoppm", "-r", "20", "-png", "-f", "1", "-l", "4", str(out), str(tmp_path / "p")],
        capture_output=True,
        text=True,
        check=True,
    )
    assert run.stderr == ""
    assert len(list(tmp_path.glob("p-*.png"))) == 4


def test_preview_error_page_says_why_and_what_remains(rendered: tuple[Dossier, Path, RenderResult]) -> None:
    dossier, out, result = rendered
    page = normalized(page_texts(out)[result.exhibit_pages[7] - 1])
    assert "无法生成预览：视频文件已损坏，无法解码" in page
    assert "仍列入证据目录和完整性附录" in page
    assert dossier.exhibits[6].source.sha256 in page


def test_each_kind_shows_its_facts_and_content(rendered: tuple[Dossier, Path, RenderResult]) -> None:
    _, out, result = rendered
    texts = page_texts(out)
    first = {n: normalized(texts[p - 1]) for n, p in result.exhibit_pages.items()}
    assert "分辨率：1080×2340" in first[1]
    assert "显示副本已按声明遮挡部分区域" in first[2]
    assert "格式：" in first[3] and "编码 GB18030" in first[3] and "消息：91 条" in first[3]
    assert "分辨率：1920×1080" in first[4] and "时长：00:30:00" in first[4] and "截取画面：6 帧" in first[4]
    # A call recording has no frames: its page is the moments table.
    assert "时长：00:02:05" in first[5] and "现实时间" in first[5] and "客服承认是人造革" in first[5]
    assert "页数：2" in first[6] and "第 1/2 页" in first[6]
    assert "现实时间" not in first[4]  # frames shown, so no moments table


def test_refused_files_are_listed_under_the_index(rendered: tuple[Dossier, Path, RenderResult]) -> None:
    _, out, _ = rendered
    index_text = normalized(next(t for t in page_texts(out) if "未纳入的文件" in t))
    assert "evidence/other/link.jpg 符号链接指向案件文件夹之外，已拒绝读取" in index_text


def test_every_exhibit_page_names_its_original(rendered: tuple[Dossier, Path, RenderResult]) -> None:
    dossier, out, result = rendered
    texts = page_texts(out)
    appendix = next(i for i, t in enumerate(texts, start=1) if "一、原始文件清单" in t)
    starts = [*sorted(result.exhibit_pages.values()), appendix]
    for ex in dossier.exhibits:
        first = result.exhibit_pages[ex.number]
        last = min(p for p in starts if p > first) - 1
        for page in range(first, last + 1):
            assert ex.source.sha256 in texts[page - 1]


def test_appendix_has_hashes_removed_metadata_and_instructions(
    rendered: tuple[Dossier, Path, RenderResult],
) -> None:
    dossier, out, _ = rendered
    appendix = normalized(" ".join(page_texts(out)[-2:]))
    for ex in dossier.exhibits:
        assert ex.source.sha256[:32] in appendix.replace(" ", "")
    redacted_copy = dossier.exhibits[1].inspection.images[0].sha256
    assert redacted_copy[:32] in appendix.replace(" ", "")
    assert "GPS、BodySerialNumber" in appendix
    for command in (
        "certutil -hashfile 文件名 SHA256",
        "shasum -a 256 文件名",
        "sha256sum 文件名",
        "evidencekit verify 证据材料.pdf",
    ):
        assert command in appendix
    assert dossier.fingerprint in appendix.replace(" ", "")


def test_document_metadata(rendered: tuple[Dossier, Path, RenderResult]) -> None:
    dossier, out, _ = rendered
    with pikepdf.open(out) as pdf:
        info = pdf.docinfo
        assert str(info.Title) == dossier.title
        assert str(info.Author) == "张三"
        assert str(info.Creator) == "evidencekit 0.1.0"
        assert dossier.fingerprint in str(info.Keywords)
        assert str(pdf.Root.Lang) == "zh-CN"


def test_reproducible_renders_are_byte_identical(tmp_path: Path) -> None:
    dossier = sample_dossier(tmp_path)
    render_dossier(dossier, tmp_path / "a.pdf", reproducible=True)
    render_dossier(dossier, tmp_path / "b.pdf", reproducible=True)
    assert (tmp_path / "a.pdf").read_bytes() == (tmp_path / "b.pdf").read_bytes()


@pytest.mark.parametrize("layout_only", [True, False])
def test_a_layout_pass_leaves_the_story_as_it_found_it(tmp_path: Path, layout_only: bool) -> None:
    # The next pass lays out the same flowables: what reportlab marks on them must not carry over.
    fonts = load_fonts(system_paths=())
    ctx = RenderContext(dossier=make_dossier(tmp_path), fonts=fonts, styles=Styles(fonts))
    ctx.begin_pass({}, None, layout_only=layout_only)
    heading = ctx.para(ctx.styles.h2, "二、显示副本")  # grouped with what follows: keepWithNext cleared
    too_tall = Spacer(1, 200)  # does not fit below the first spacer: marked as postponed
    story = [Spacer(1, 600), heading, ctx.para(ctx.styles.body, "正文"), too_tall]
    build_document(ctx, story, BytesIO(), first_template=BODY_TEMPLATE, reproducible=True)
    assert ctx.page_count == 2
    assert "keepWithNext" not in vars(heading)
    assert heading.getKeepWithNext() == 1
    assert not hasattr(too_tall, "_postponed")


def test_further_layout_passes_over_the_kept_story_change_nothing(
    rendered: tuple[Dossier, Path, RenderResult], tmp_path: Path
) -> None:
    # A third pass (page numbers moved) is rare; it must lay the kept flowables out as before.
    dossier, out, result = rendered
    fonts = load_fonts(system_paths=())
    ctx = RenderContext(dossier=dossier, fonts=fonts, styles=Styles(fonts))
    ctx.begin_pass({}, None, layout_only=True)
    render_module._layout(ctx, BytesIO(), reproducible=True)
    for name in ("b.pdf", "c.pdf", "d.pdf"):
        known, total = dict(ctx.pages), ctx.page_count
        ctx.begin_pass(known, total, layout_only=False)
        render_module._layout(ctx, tmp_path / name, reproducible=True)
        assert (ctx.pages, ctx.page_count) == (known, total)
        assert (tmp_path / name).read_bytes() == out.read_bytes()
    assert tuple(ctx.findings) + fonts.findings() == result.findings


def test_missing_glyph_becomes_a_marker_and_one_finding(tmp_path: Path) -> None:
    src = make_source_file(tmp_path, "evidence/chat/吉.txt", b"c", EvidenceKind.CHAT)
    messages = tuple(
        ChatMessage(sh(2024, 11, 14, 9, 0, i), "客服", "𠮷野家的包 𠮷", "other") for i in range(3)
    )
    exhibit = make_exhibit(
        1,
        src,
        inspection=ChatInspection(transcript=Transcript("wechat", "utf-8", messages)),
    )
    result = render_dossier(make_dossier(tmp_path, (exhibit,)), tmp_path / "out.pdf")
    text = page_texts(tmp_path / "out.pdf")[result.exhibit_pages[1] - 1]
    assert "[U+20BB7]野家的包 [U+20BB7]" in text
    missing = [f for f in result.findings if f.code == "font.missing_glyph"]
    assert len(missing) == 1
    assert missing[0].severity is Severity.WARNING
    assert "U+20BB7" in missing[0].message
    assert missing[0].subject == "evidence/chat/吉.txt"


def test_missing_glyph_in_running_header_is_reported(tmp_path: Path) -> None:
    result = render_dossier(make_dossier(tmp_path, title="关于𠮷野家的投诉"), tmp_path / "out.pdf")
    assert "[U+20BB7]" in page_texts(tmp_path / "out.pdf")[0]
    assert [f.code for f in result.findings] == ["font.missing_glyph"]


def test_dossier_without_exhibits_still_renders(tmp_path: Path) -> None:
    result = render_dossier(make_dossier(tmp_path), tmp_path / "out.pdf")
    assert result.exhibit_pages == {}
    assert any("没有可展示的证据文件" in t for t in page_texts(tmp_path / "out.pdf"))


def test_section_order_is_followed(tmp_path: Path) -> None:
    dossier = make_dossier(tmp_path, section_order=("cover", "index", "appendix"))
    render_dossier(dossier, tmp_path / "out.pdf")
    with pikepdf.open(tmp_path / "out.pdf") as pdf, pdf.open_outline() as outline:
        assert [item.title for item in outline.root] == ["封面", "证据目录", "完整性附录"]


def test_missing_display_copy_is_a_notice_not_a_crash(tmp_path: Path) -> None:
    image = make_display_image(tmp_path / "gone.jpg")
    image.path.unlink()
    src = make_source_file(tmp_path, "evidence/product/a.jpg", b"a", EvidenceKind.PRODUCT)
    exhibit = make_exhibit(1, src, inspection=ImageInspection(images=(image,)))
    result = render_dossier(make_dossier(tmp_path, (exhibit,)), tmp_path / "out.pdf")
    assert "显示副本丢失" in page_texts(tmp_path / "out.pdf")[result.exhibit_pages[1] - 1]
    assert [f.code for f in result.findings] == ["pdf.display_copy_missing"]


def test_long_unbroken_text_wraps_instead_of_failing(tmp_path: Path) -> None:
    name = "截图" + "x" * 300 + ".png"
    src = make_source_file(tmp_path, f"evidence/order/{name[:120]}", b"a", EvidenceKind.ORDER)
    exhibit = make_exhibit(
        1,
        src,
        title="长" * 450,
        note="N" * 2000,
        inspection=ImageInspection(images=(make_display_image(tmp_path / "tall.jpg", (300, 2400)),)),
    )
    result = render_dossier(make_dossier(tmp_path, (exhibit,)), tmp_path / "out.pdf")
    texts = page_texts(tmp_path / "out.pdf")
    assert result.page_count >= 7
    # Table cells cannot break across pages, so an absurd title is clipped there, visibly.
    index_text = re.sub(r"\s+", "", next(t for t in texts if "证据目录" in t))
    assert "（共450字，已截断）" in index_text
    # The note is a paragraph: it runs on in full.
    assert sum(t.count("N") for t in texts) >= 2000


@pytest.mark.skipif(
    not Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf").is_file(),
    reason="needs a Latin-only TrueType font",
)
def test_user_font_comes_first_and_cjk_falls_back(tmp_path: Path) -> None:
    dossier = make_dossier(tmp_path, font_path=Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"))
    result = render_dossier(dossier, tmp_path / "out.pdf")
    with pikepdf.open(tmp_path / "out.pdf") as pdf:
        names = {
            str(o.BaseFont)
            for o in pdf.objects
            if isinstance(o, pikepdf.Dictionary) and o.get("/Type") == pikepdf.Name.Font
        }
    assert any("DejaVuSans" in n for n in names)
    assert any("WenQuanYiMicroHei" in n for n in names)
    assert result.findings == ()
    assert dossier.title in normalized(page_texts(tmp_path / "out.pdf")[0])
