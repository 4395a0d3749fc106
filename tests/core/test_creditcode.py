"""The unified social credit code check (GB 32100-2015)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kam.core import creditcode

KNOWN_VALID = "91350100M000100Y43"
first17s = st.text(alphabet=creditcode.ALPHABET, min_size=17, max_size=17)


def test_a_known_valid_code_passes() -> None:
    assert creditcode.problem(KNOWN_VALID) is None
    assert creditcode.check_character(KNOWN_VALID[:17]) == "3"


def test_a_wrong_check_character_is_refused_as_check() -> None:
    assert creditcode.problem(KNOWN_VALID[:17] + "4") == "check"


@pytest.mark.parametrize("code", [KNOWN_VALID[:17], KNOWN_VALID + "0", "", "9135"])
def test_a_code_of_the_wrong_length_is_refused_as_length(code: str) -> None:
    assert creditcode.problem(code) == "length"


@pytest.mark.parametrize("letter", ["I", "O", "Z", "S", "V"])
def test_letters_outside_the_alphabet_are_refused_as_character(letter: str) -> None:
    code = KNOWN_VALID[:8] + letter + KNOWN_VALID[9:]
    assert len(code) == 18
    assert creditcode.problem(code) == "character"


def test_lower_case_is_refused_until_normalized() -> None:
    typed = " 91350100m000100y43 "
    assert creditcode.problem(typed.strip()) == "character"
    assert creditcode.normalize(typed) == KNOWN_VALID
    assert creditcode.problem(creditcode.normalize(typed)) is None


def test_normalize_removes_inner_spaces() -> None:
    assert creditcode.normalize("9135 0100 M000 100Y 43") == KNOWN_VALID


@given(first17s)
def test_appending_the_check_character_gives_a_valid_code(first17: str) -> None:
    code = first17 + creditcode.check_character(first17)
    assert creditcode.problem(code) is None


@given(first17s, st.integers(min_value=0, max_value=17), st.integers(min_value=1, max_value=30))
def test_changing_any_single_character_makes_a_valid_code_invalid(
    first17: str, position: int, shift: int
) -> None:
    code = first17 + creditcode.check_character(first17)
    alphabet = creditcode.ALPHABET
    replacement = alphabet[(alphabet.index(code[position]) + shift) % len(alphabet)]
    changed = code[:position] + replacement + code[position + 1 :]
    assert changed != code
    assert creditcode.problem(changed) == "check"
