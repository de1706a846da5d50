"""An invisible text layer over a screenshot's picture, so an official can search and copy its text.

OCR (readfacts.py) gives text boxes in the upright original's pixels; the picture on the page is
a display copy, scaled and, for a long screenshot, cut into overlapping segments (media.images
plan_layout). :func:`place_words` maps each box onto the segment that shows it, as fractions
of the drawn image; :func:`draw_words` writes them in text render mode 3 (neither filled nor
stroked: invisible, but extracted by pdftotext and found by a reader's search).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from reportlab.pdfgen.canvas import Canvas

from evidencekit.media.images import SEGMENT_OVERLAP
from evidencekit.model import ImageInspection
from evidencekit.pdf.fonts import FontSet
from evidencekit.rules.ocr_fields import TextBox

INVISIBLE = 3  # PDF text render mode: no fill, no stroke


@dataclass(frozen=True)
class Word:
    """One box's text on a drawn image, its edges as fractions of the image (top and left from
    the top left corner)."""

    text: str
    left: float
    top: float
    right: float
    bottom: float


def segment_tops(width: int, height: int, disp_w: int, seg_h: int, count: int, truncated: bool) -> list[int]:
    """Where each of ``count`` segments of ``seg_h`` rows starts in the display copy of a
    ``width``×``height`` original shown ``disp_w`` wide, as media.images.plan_layout cuts them:
    evenly spread over the whole picture, or, when only the first pages are shown, one
    segment less the overlap apart."""
    if count <= 1:
        return [0]
    if truncated:
        step = seg_h - math.ceil(seg_h * SEGMENT_OVERLAP)
        return [i * step for i in range(count)]
    disp_h = max(1, round(height * disp_w / width))
    span = disp_h - seg_h
    return [round(i * span / (count - 1)) for i in range(count)]


def place_words(boxes: Sequence[TextBox], width: int, height: int, disp_w: int, seg_h: int, count: int,
                truncated: bool) -> list[tuple[Word, ...]]:
    """Per segment, the words it shows: a box wholly inside a segment is on it (on both where
    segments overlap); one that straddles a cut is on the segment holding its middle."""
    scale = disp_w / width
    tops = segment_tops(width, height, disp_w, seg_h, count, truncated)
    placed: list[list[Word]] = [[] for _ in tops]
    for b in boxes:
        if not b.text.strip():
            continue
        top, bottom, middle = b.top * scale, b.bottom * scale, b.middle * scale
        inside = [i for i, t in enumerate(tops) if t <= top and bottom <= t + seg_h]
        if not inside:
            inside = [i for i, t in enumerate(tops) if t <= middle < t + seg_h][:1]
        for i in inside:
            t = tops[i]
            placed[i].append(Word(b.text, b.left * scale / disp_w, (top - t) / seg_h,
                                  min(1.0, b.right * scale / disp_w), (bottom - t) / seg_h))
    return [tuple(words) for words in placed]


def words_for(insp: ImageInspection, boxes: Sequence[TextBox]) -> list[tuple[Word, ...]]:
    """The words on each display image of a screenshot; none for a blackened (redacted) one."""
    images = insp.images
    if not boxes or not images or insp.redacted or not insp.width or not insp.height:
        return [() for _ in images]
    truncated = any(f.code == "image.truncated" for f in insp.findings)
    return place_words(boxes, insp.width, insp.height, images[0].width, images[0].height, len(images), truncated)


def draw_words(canv: Canvas, fonts: FontSet, x: float, y: float, width: float, height: float,
               words: Sequence[Word]) -> None:
    """The words over an image drawn at (x, y) with ``width``×``height`` points, invisibly, each
    stretched to its box so a selection covers what the picture shows."""
    for w in words:
        size = max(1.0, (w.bottom - w.top) * height * 0.8)
        box_w = (w.right - w.left) * width
        runs = fonts.runs(w.text)
        natural = sum(canv.stringWidth(text, font, size) for font, text in runs)
        text = canv.beginText()
        text.setTextRenderMode(INVISIBLE)
        text.setTextOrigin(x + w.left * width, y + (1 - w.bottom) * height + size * 0.2)
        if natural > 0 and box_w > 0:
            text.setHorizScale(100 * box_w / natural)
        for font, part in runs:
            text.setFont(font, size)
            text.textOut(part)
        canv.drawText(text)
