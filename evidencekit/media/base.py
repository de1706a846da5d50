"""What every media module shares: the context it works in and the page box it fits to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import tzinfo

from evidencekit.cache import DisplayCache
from evidencekit.media.budget import (
    DEFAULT_DECODE_MEMORY,
    DEFAULT_DECODE_SECONDS,
    DEFAULT_VIDEO_DECODE_MEMORY,
)
from evidencekit.model import SHANGHAI

# The area an exhibit's content may fill on an A4 page, in points (1/72 in). pdf/exhibits.py
# draws inside exactly this box; media modules size and split display copies to it.
EXHIBIT_BOX_WIDTH_PT = 515.0
EXHIBIT_BOX_HEIGHT_PT = 620.0

# Refuse to decode images above this many pixels (a "pixel bomb"); 100 MP is well above any
# phone camera (iPhone 48 MP, Xiaomi 200 MP sensors save 50 MP by default).
MAX_IMAGE_PIXELS = 120_000_000

# Per-exhibit page cap: a long chat transcript, an unrecognised text or a very long screenshot
# shows at most this many pages (the first ones), says so in the dossier, and the whole original
# stays hashed and attached. PDF evidence shows its first 30 pages (documents.MAX_PAGES_SHOWN).
MAX_EXHIBIT_PAGES = 30


@dataclass
class MediaContext:
    """Passed to every ``inspect()``: where display copies go and how they are made."""

    cache: DisplayCache
    tz: tzinfo = SHANGHAI
    dpi: int = 150  # display-copy resolution at the exhibit box size
    jpeg_quality: int = 85
    max_pixels: int = MAX_IMAGE_PIXELS
    contact_sheet_frames: int = 12
    # Per-file budget for PDF rasterising and PyAV decoding (media/budget.py): the worker is
    # killed after this many seconds, and may add this many bytes of address space (PDFs;
    # recordings and audio get video_decode_memory).
    decode_seconds: float = DEFAULT_DECODE_SECONDS
    decode_memory: int = DEFAULT_DECODE_MEMORY
    video_decode_memory: int = DEFAULT_VIDEO_DECODE_MEMORY
    max_exhibit_pages: int = MAX_EXHIBIT_PAGES
    # Who is who in a chat export (the case's own names). They change how a transcript is read,
    # never a display copy, so no cache key holds them: see display_params.
    chat_self_names: tuple[str, ...] = ()
    chat_merchant_names: tuple[str, ...] = ()

    def display_params(self) -> dict[str, object]:
        """The settings of this context that change a display copy, for its cache key: the
        resolution and the JPEG quality. Each media module adds what is its own (moments, tile
        sizes, redactions, page cap); nothing else from the case belongs in a key, so editing
        case.yaml never re-decodes an original."""
        return {"dpi": self.dpi, "q": self.jpeg_quality}

    def box_pixels(self) -> tuple[int, int]:
        """The exhibit box in display-copy pixels at ``dpi``."""
        return (
            round(EXHIBIT_BOX_WIDTH_PT / 72 * self.dpi),
            round(EXHIBIT_BOX_HEIGHT_PT / 72 * self.dpi),
        )
