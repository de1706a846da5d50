"""统一社会信用代码 (unified social credit code) checks, GB 32100-2015.

The 12315 form finds the respondent by name or credit code, and one wrong character sends a
complaint to the wrong company or back to the complainant. The check character catches almost
every single-character slip, so we verify it before anything is submitted.
"""

from __future__ import annotations

import unicodedata

# GB 32100-2015 code alphabet: digits and capitals without I, O, Z, S, V (too easily misread).
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUE = {ch: i for i, ch in enumerate(ALPHABET)}
# Weight of position i (0-based) is 3**i mod 31, as tabulated in the standard.
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
LENGTH = 18
_EXCLUDED = "IOZSV"


def normalize_credit_code(code: str) -> str:
    """Full-width to half-width, spaces removed, upper case: how users paste codes from web pages."""
    text = unicodedata.normalize("NFKC", code)
    return "".join(text.split()).upper()


def check_character(body: str) -> str:
    """The 18th character for a 17-character ``body`` already in the code alphabet."""
    if len(body) != LENGTH - 1 or any(ch not in _VALUE for ch in body):
        raise ValueError("body must be 17 characters of the GB 32100 alphabet")
    total = sum(_VALUE[ch] * weight for ch, weight in zip(body, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def validate_credit_code(code: str) -> str | None:
    """None when ``code`` is a well-formed code with a correct check character, else a Chinese reason.

    Lower case, full-width characters and spaces are tolerated (see ``normalize_credit_code``);
    callers that store the code should store the normalized form.
    """
    text = normalize_credit_code(code)
    if not text:
        return "统一社会信用代码为空"
    if len(text) != LENGTH:
        return f"统一社会信用代码应为 {LENGTH} 位，当前为 {len(text)} 位"
    bad = [ch for ch in text if ch not in _VALUE]
    if bad:
        shown = "、".join(dict.fromkeys(bad))
        return f"统一社会信用代码含有不允许的字符：{shown}（只用数字和大写字母，且不用 I、O、Z、S、V）"
    expected = check_character(text[:-1])
    if text[-1] != expected:
        return (f"统一社会信用代码校验位不符：按前 17 位计算第 18 位应为 {expected}，"
                f"实际为 {text[-1]}，请核对是否抄错")
    return None
