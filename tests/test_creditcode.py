"""统一社会信用代码 checks (GB 32100-2015)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from evidencekit.rules.creditcode import (
    ALPHABET,
    check_character,
    normalize_credit_code,
    validate_credit_code,
)

# Published codes of well-known companies plus the example quoted in many guides.
KNOWN_VALID = [
    "91350100M000100Y43",
    "9144030071526726XG",
    "91330100799655058B",
    "91110108551385082Q",
]


@pytest.mark.parametrize("code", KNOWN_VALID)
def test_known_valid_codes_pass(code: str) -> None:
    assert validate_credit_code(code) is None


def test_check_character_matches_known_code() -> None:
    assert check_character("91350100M000100Y4") == "3"


def test_user_typing_variants_are_tolerated() -> None:
    # lower case, spaces, full-width characters copied from a web page
    assert validate_credit_code(" 91350100m000100y43 ") is None
    assert validate_credit_code("9135 0100 M000 100Y 43") is None
    assert validate_credit_code("９１３５０１００Ｍ０００１００Ｙ４３") is None
    assert normalize_credit_code("９１ab") == "91AB"


def test_every_single_character_slip_is_caught() -> None:
    code = KNOWN_VALID[0]
    for position in range(len(code)):
        for replacement in ALPHABET:
            if replacement == code[position]:
                continue
            mutated = code[:position] + replacement + code[position + 1:]
            assert validate_credit_code(mutated) is not None, mutated


def test_wrong_check_character_names_the_expected_one() -> None:
    reason = validate_credit_code("91350100M000100Y44")
    assert reason is not None
    assert "校验位" in reason and "应为 3" in reason and "实际为 4" in reason


def test_factory_placeholder_code_is_invalid() -> None:
    # tests/factories.py uses this placeholder; the checklist tests rely on it being invalid.
    assert validate_credit_code("91330106MA2B0XXXXX") is not None


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("", "为空"),
        ("   ", "为空"),
        ("91350100M000100Y4", "18 位"),
        ("91350100M000100Y433", "18 位"),
        ("91350100I000100Y43", "不允许的字符：I"),
        ("9135010OS000100Y43", "不允许的字符：O、S"),
        ("91350100-000100Y43", "不允许的字符：-"),
    ],
)
def test_malformed_codes_give_a_reason(code: str, words: str) -> None:
    reason = validate_credit_code(code)
    assert reason is not None and words in reason


def test_check_character_rejects_bad_body() -> None:
    with pytest.raises(ValueError):
        check_character("ABC")
    with pytest.raises(ValueError):
        check_character("9135010OM000100Y4")


@given(st.text(max_size=40))
def test_never_raises_on_arbitrary_text(text: str) -> None:
    result = validate_credit_code(text)
    assert result is None or isinstance(result, str)


@given(st.text(alphabet=ALPHABET, min_size=17, max_size=17))
def test_any_body_with_its_check_character_validates(body: str) -> None:
    assert validate_credit_code(body + check_character(body)) is None


@given(st.text(alphabet=ALPHABET, min_size=17, max_size=17), st.integers(0, 17), st.integers(1, 30))
def test_any_single_substitution_is_detected(body: str, position: int, shift: int) -> None:
    code = body + check_character(body)
    replaced = ALPHABET[(ALPHABET.index(code[position]) + shift) % 31]
    mutated = code[:position] + replaced + code[position + 1:]
    assert validate_credit_code(mutated) is not None
