"""pdf/stream.py: the dossier written as it is formatted, holding no image bytes (issue 15)."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest
from PIL import Image
from reportlab.pdfbase.pdfdoc import PDFImageXObject
from reportlab.pdfgen.canvas import Canvas

from evidencekit.errors import InternalError
from evidencekit.pdf.document import ContentNamedPath
from evidencekit.pdf.stream import StreamingCanvas


def display_copy(folder: Path, seed: int) -> ContentNamedPath:
    img = Image.effect_noise((120, 90), 30 + seed).convert("RGB")
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=80)
    path = folder / f"copy{seed}.jpg"
    path.write_bytes(buf.getvalue())
    return ContentNamedPath(path, hashlib.sha256(buf.getvalue()).hexdigest())


def draw(canvas_class: type[Canvas], target: Path, images: list[ContentNamedPath]) -> Canvas:
    canv = canvas_class(str(target), invariant=1, pageCompression=1)
    for n, image in enumerate(images):
        canv.drawString(72, 72, f"page {n}")
        canv.drawImage(image, 72, 100, 120, 90, mask="auto")
        canv.drawImage(image, 72, 300, 60, 45, mask="auto")  # the same image again: one XObject
        canv.showPage()
    return canv


def image_objects(canv: Canvas) -> list[PDFImageXObject]:
    return [o for o in canv._doc.idToObject.values() if isinstance(o, PDFImageXObject)]


def test_same_bytes_as_reportlab_without_holding_images(tmp_path: Path) -> None:
    images = [display_copy(tmp_path, n) for n in range(5)]
    plain = draw(Canvas, tmp_path / "plain.pdf", images)
    plain.save()
    streaming = draw(StreamingCanvas, tmp_path / "streamed.pdf", images)
    held = image_objects(streaming)
    assert len(held) == 5
    # Until save, no display copy's bytes are in memory.
    assert not any(isinstance(o.streamContent, bytes) for o in held)
    streaming.save()
    assert (tmp_path / "streamed.pdf").read_bytes() == (tmp_path / "plain.pdf").read_bytes()
    # Nor after: each image was read back only while its object was written.
    assert not any(isinstance(o.streamContent, bytes) for o in held)


def test_a_display_copy_changed_before_save_is_refused(tmp_path: Path) -> None:
    images = [display_copy(tmp_path, 1)]
    canv = draw(StreamingCanvas, tmp_path / "out.pdf", images)
    Path(images[0].real_path).write_bytes(b"\xff\xd8 not the copy that was placed")
    with pytest.raises(InternalError, match="预览图"):
        canv.save()


def test_a_later_pass_replaces_the_work_file(tmp_path: Path) -> None:
    target = tmp_path / "rendered.pdf"
    target.write_bytes(b"an earlier pass")
    draw(StreamingCanvas, target, [display_copy(tmp_path, 2)]).save()
    assert target.read_bytes().startswith(b"%PDF-")


def test_paragraph_lines_are_dropped_once_drawn_for_real(tmp_path: Path) -> None:
    from evidencekit.pdf.fonts import load_fonts
    from evidencekit.pdf.text import MeasureCanvas, Styles, paragraph

    styles = Styles(load_fonts())
    para = paragraph("收到的商品与直播间展示的完全不一致，" * 8, styles.body)
    measure = MeasureCanvas(str(tmp_path / "m.pdf"))
    para.wrapOn(measure, 300, 800)
    para.drawOn(measure, 72, 72)
    assert para._ek_wrapped is not None  # the layout pass keeps them for the real pass
    real = Canvas(str(tmp_path / "r.pdf"))
    _, height = para.wrapOn(real, 300, 800)
    para.drawOn(real, 72, 72)
    # Drawn: the broken lines (an object per CJK character) are gone from memory.
    assert para._ek_wrapped is None and "blPara" not in para.__dict__
    # A later pass wraps again and gets the same lines.
    assert para.wrapOn(real, 300, 800)[1] == height
    para.drawOn(real, 72, 72)
