"""Text bound for a terminal: stranger-supplied characters escaped, CJK column widths.

The CLI prints through these, and the library uses them to lay out tables it returns as text
(status, the batch summary), so they live below both.
"""

from __future__ import annotations

import re
import unicodedata

# Characters that must never reach a terminal raw from a stranger's file names or case text:
# C0 controls (ESC starts OSC/CSI sequences, BEL ends them), DEL, C1 controls (0x9B is an 8-bit
# CSI), line and paragraph separators, and the bidi controls that reorder what is displayed.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_UNSAFE_MULTILINE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029"
                               "\u202a-\u202e\u2066-\u2069]")


def terminal_safe(text: str, *, multiline: bool = False) -> str:
    """``text`` with every control and bidi character written as ``\\uXXXX``.

    The one escaping function for everything echoed to a terminal. ``multiline`` keeps newlines
    and tabs (for whole messages we laid out ourselves); without it they are escaped too (for a
    file name or any other single value from a case folder). ``\\uXXXX`` is also a valid JSON
    escape, so JSON output stays valid and decodes to the same value.
    """
    pattern = _UNSAFE_MULTILINE if multiline else _UNSAFE
    return pattern.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def display_width(text: str) -> int:
    """Terminal columns: CJK and full-width characters take two, combining marks none."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 0 if unicodedata.combining(ch) else 1
               for ch in text)


def pad_to_width(text: str, width: int) -> str:
    """``text`` followed by spaces up to ``width`` terminal columns."""
    return text + " " * (width - display_width(text))
