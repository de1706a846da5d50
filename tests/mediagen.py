"""Generators for test recordings, call audio and PDFs (tests, the example case, benchmarks).

Videos carry their frame number as a row of black/white squares across the top, so a test can
read back exactly which frame a display copy shows (:func:`read_frame_index`), plus the time
burned in as text for people looking at the pages.
"""

from __future__ import annotations

import array
import math
import wave
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

import av
from PIL import Image, ImageDraw, ImageFont

INDEX_BITS = 16  # 65,536 frames: a 10-minute 30 fps benchmark needs 18,000
_SQUARES_ACROSS = 20  # each square is width/20 wide, the 16 bit squares use the left 80 %


def _bit_square(width: int) -> int:
    return width // _SQUARES_ACROSS


def draw_frame_index(img: Image.Image, index: int) -> None:
    """Draw ``index`` as INDEX_BITS squares (most significant first) along the top edge."""
    size = _bit_square(img.width)
    draw = ImageDraw.Draw(img)
    for bit in range(INDEX_BITS):
        on = (index >> (INDEX_BITS - 1 - bit)) & 1
        x = bit * size
        draw.rectangle((x, 0, x + size - 1, size - 1), fill=(255, 255, 255) if on else (0, 0, 0))


def read_frame_index(img: Image.Image) -> int:
    """The frame number drawn by :func:`draw_frame_index`, from a (possibly scaled) copy."""
    gray = img.convert("L")
    size = gray.width / _SQUARES_ACROSS
    value = 0
    for bit in range(INDEX_BITS):
        centre = (int((bit + 0.5) * size), int(size / 2))
        value = (value << 1) | (1 if gray.getpixel(centre) >= 128 else 0)  # type: ignore[operator]
    return value


def make_video(
    path: Path,
    seconds: float,
    size: tuple[int, int] = (320, 240),
    fps: int = 10,
    gop: int = 10,
    burn_timecode: bool = True,
    creation_time: str | None = None,
    rotation: int = 0,
    preset: str = "veryfast",
    busy: bool = False,
    frozen: tuple[float, float] | None = None,
) -> Path:
    """An H.264 MP4 (.mov/.mkv by suffix; VP8 for .webm) whose frame n shows n in squares and n/fps as text.

    ``size`` is the upright picture. With ``rotation`` 90/270 the pixels are stored turned and a
    display matrix says how to turn them back, as phones record portrait video.
    ``creation_time`` is written to the container (e.g. ``"2024-11-11T12:30:00.000000Z"``).
    The default preset uses B-frames, so decode order differs from display order as in real
    phone recordings.
    ``busy`` adds a black bar covering a sixth of the picture that moves to another quarter of
    the width every second, so frames a second apart never look alike (a presenter moving).
    ``frozen`` (start, end) in seconds: the frames from start up to end repeat the frame at
    start, index squares included, as a screen recorder encodes a screen that does not change.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    width, height = size
    stored = (height, width) if rotation % 180 == 90 else (width, height)
    font = ImageFont.load_default(size=max(12, height // 8))
    background = Image.new("RGB", size, (40, 70, 110))
    ImageDraw.Draw(background).rectangle(
        (width // 10, height // 2, width - width // 10, height - height // 10), fill=(220, 220, 200)
    )
    turn_back = {
        90: Image.Transpose.ROTATE_270,
        180: Image.Transpose.ROTATE_180,
        270: Image.Transpose.ROTATE_90,
    }
    total = round(seconds * fps)
    with av.open(str(path), mode="w") as container:
        if creation_time:
            container.metadata["creation_time"] = creation_time
        webm = path.suffix.lower() == ".webm"  # browser recordings: VP8 in WebM
        stream = container.add_stream("libvpx" if webm else "libx264", rate=fps)
        stream.width, stream.height = stored
        stream.pix_fmt = "yuv420p"
        stream.codec_context.gop_size = gop
        stream.codec_context.thread_type = "AUTO"
        if webm:
            stream.options = {"deadline": "realtime", "cpu-used": "8", "crf": "10", "b": "1M"}
        else:
            stream.options = {"preset": preset, "crf": "20", "scenecut": "0"}  # keyframes exactly every gop
        if rotation % 360:
            stream.set_display_rotation(rotation % 360)
        frozen_frames = range(round(frozen[0] * fps), round(frozen[1] * fps)) if frozen else range(0)
        for n in range(total):
            shown = frozen_frames.start if n in frozen_frames else n
            img = background.copy()
            if busy:
                x = (shown // fps) % 4 * width // 4
                ImageDraw.Draw(img).rectangle((x, height // 3, x + width // 4 - 1, height - 1), fill=(0, 0, 0))
            draw_frame_index(img, shown)
            if burn_timecode:
                t = shown / fps
                text = f"{int(t // 3600):02d}:{int(t // 60) % 60:02d}:{t % 60:04.1f}"
                ImageDraw.Draw(img).text(
                    (width // 8, height // 2 + height // 12), text, fill=(0, 0, 0), font=font
                )
                # A moving block keeps the encoder honest (not every frame identical but the text).
                x = int((shown * 7) % max(1, width - width // 8))
                ImageDraw.Draw(img).rectangle(
                    (x, height // 5, x + width // 8, height // 3), fill=(200, 60, 60)
                )
            if rotation % 360:
                img = img.transpose(turn_back[rotation % 360])
            frame = av.VideoFrame.from_image(img)
            frame.pts = n
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def _tone(seconds: float, sample_rate: int) -> bytes:
    samples = array.array(
        "h",
        (
            int(8000 * math.sin(2 * math.pi * 440 * i / sample_rate))
            for i in range(round(seconds * sample_rate))
        ),
    )
    return samples.tobytes()


def make_audio(path: Path, seconds: float, sample_rate: int = 8000, creation_time: str | None = None) -> Path:
    """A mono 440 Hz tone. ``.wav`` via the stdlib; ``.mp3``/``.m4a``/``.amr`` via PyAV."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pcm = _tone(seconds, sample_rate)
    suffix = path.suffix.lower()
    if suffix == ".wav":
        with wave.open(str(path), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(sample_rate)
            out.writeframes(pcm)
        return path
    codec = {".mp3": "libmp3lame", ".m4a": "aac", ".amr": "libopencore_amrnb"}[suffix]
    if suffix == ".amr":
        sample_rate = 8000  # AMR-NB is 8 kHz only
        pcm = _tone(seconds, sample_rate)
    with av.open(str(path), mode="w") as container:
        if creation_time:
            container.metadata["creation_time"] = creation_time
        stream = container.add_stream(codec, rate=sample_rate)
        stream.layout = "mono"  # type: ignore[union-attr]
        if suffix == ".amr":
            stream.bit_rate = 12200
        chunk = 1024
        total = len(pcm) // 2
        for start in range(0, total, chunk):
            n = min(chunk, total - start)
            frame = av.AudioFrame(format="s16", layout="mono", samples=n)
            frame.planes[0].update(pcm[start * 2 : (start + n) * 2])
            frame.sample_rate = sample_rate
            frame.pts = start
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def make_pdf(path: Path, pages: int, password: str | None = None, lines: Sequence[str] = ()) -> Path:
    """An A4 PDF; page n has a black bar n/(pages+1) of the page wide (see :func:`read_page_bar`).

    Chinese ``lines`` are drawn with the bundled WenQuanYi font so pages look like a 质检报告.
    With ``password`` the file is encrypted and cannot be opened without it.
    """
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    import evidencekit.fonts

    font_file = Path(evidencekit.fonts.__file__).parent / "wqy-microhei.ttc"
    if "MediagenCJK" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("MediagenCJK", str(font_file), subfontIndex=0))
    path.parent.mkdir(parents=True, exist_ok=True)
    encrypt = None
    if password is not None:
        from reportlab.lib.pdfencrypt import StandardEncryption

        encrypt = StandardEncryption(password)
    page_w, page_h = A4
    c = canvas.Canvas(str(path), pagesize=A4, encrypt=encrypt, initialFontName="MediagenCJK", invariant=1)
    text = list(lines) or ["检验报告", "样品名称：真皮女士手提包", "检验结论：面料为聚氨酯合成革，非牛皮"]
    for n in range(1, pages + 1):
        c.setFillColorRGB(0, 0, 0)
        c.rect(0, page_h - 60, page_w * n / (pages + 1), 60, stroke=0, fill=1)
        c.setFont("MediagenCJK", 20)
        y = page_h - 120
        for line in text:
            c.drawString(72, y, line)
            y -= 30
        c.drawString(72, y, f"第 {n} 页")
        c.showPage()
    c.save()
    return path


def read_page_bar(img: Image.Image) -> float:
    """The width of the black bar along the top of a rendered :func:`make_pdf` page, 0..1."""
    gray = img.convert("L")
    row = gray.height * 30 // 842  # middle of the 60-pt bar on an 842-pt page
    dark = sum(1 for x in range(gray.width) if gray.getpixel((x, row)) < 128)  # type: ignore[operator]
    return dark / gray.width


def make_captioned_video(
    path: Path,
    seconds: float,
    captions: Sequence[tuple[float, float, str]],
    size: tuple[int, int] = (640, 360),
    fps: int = 10,
    gop: int = 10,
    preset: str = "veryfast",
    busy: bool = False,
) -> Path:
    """An H.264 MP4 of a live room: a still background and Chinese captions burned in with the
    bundled font — ``captions`` (start, end, text) in seconds, each a white band across the
    lower third while it is on screen. ``busy``: a block (the host) moves every second, so no
    two seconds look alike."""
    path.parent.mkdir(parents=True, exist_ok=True)
    width, height = size
    with resources.as_file(resources.files("evidencekit.fonts") / "wqy-microhei.ttc") as font_file:
        font = ImageFont.truetype(str(font_file), max(16, height // 12))
    background = Image.new("RGB", size, (90, 60, 70))
    ImageDraw.Draw(background).ellipse((width // 3, height // 8, 2 * width // 3, height // 2), fill=(200, 170, 150))
    drawn: dict[tuple[str, ...], Image.Image] = {}
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        stream.codec_context.gop_size = gop
        stream.codec_context.thread_type = "AUTO"
        stream.options = {"preset": preset, "crf": "20", "scenecut": "0"}
        for n in range(round(seconds * fps)):
            t = n / fps
            shown = tuple(text for start, end, text in captions if start <= t < end)
            if shown not in drawn:
                img = background.copy()
                draw = ImageDraw.Draw(img)
                for i, text in enumerate(shown):
                    top = height * 2 // 3 - i * (height // 7)
                    draw.rectangle((0, top, width, top + height // 8), fill=(250, 250, 250))
                    draw.text((width // 20, top + height // 80), text, fill=(20, 20, 20), font=font)
                drawn[shown] = img
            img = drawn[shown]
            if busy:
                img = img.copy()
                x = (n // fps) % 5 * width // 5
                ImageDraw.Draw(img).rectangle((x, height // 10, x + width // 5, height // 2), fill=(30, 30, 30))
            frame = av.VideoFrame.from_image(img)
            frame.pts = n
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path
