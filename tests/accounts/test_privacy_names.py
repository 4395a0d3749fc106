"""Finding a name in free text (pure functions of kam.accounts.privacy.names)."""

import pytest

from kam.accounts.privacy.names import json_escaped, name_pattern, replace_in_json, replace_name


def _replace(name: str, text: str, keep: tuple[str, ...] = ()) -> str:
    pattern = name_pattern(name, keep)
    assert pattern is not None
    return replace_name(text, pattern, "#9")


def test_a_chinese_name_is_replaced_wherever_it_stands() -> None:
    assert _replace("张伟", "张伟说：与张伟、李娜见面") == "#9说：与#9、李娜见面"


def test_longer_names_to_keep_are_left_whole() -> None:
    keep = ("张伟明", "张伟贸易有限公司", "王芳")  # 王芳 does not contain the name: ignored
    text = "张伟明和张伟在张伟贸易有限公司"
    assert _replace("张伟", text, keep) == "张伟明和#9在张伟贸易有限公司"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Anna Smith called", "#9 called"),
        ("anna   smith", "#9"),  # any case, any run of spaces
        ("Anna\nSmith", "#9"),
        ("AnnaSmith or Anna Smithers", "AnnaSmith or Anna Smithers"),  # not whole words
        ("(Anna Smith)", "(#9)"),
        ("与Anna Smith见面", "与#9见面"),  # Chinese around a Latin name is a boundary
    ],
)
def test_a_latin_name_is_replaced_as_whole_words(text: str, expected: str) -> None:
    assert _replace("Anna Smith", text) == expected


def test_a_name_of_one_character_is_never_looked_for() -> None:
    assert name_pattern("王") is None
    assert name_pattern("  ") is None


def test_json_values_are_replaced_in_every_string_and_key() -> None:
    pattern = name_pattern("张伟")
    assert pattern is not None
    value = {"张伟": ["见张伟", 3, None, {"note": "张伟明"}], "n": 1.5}
    assert replace_in_json(value, pattern, "#9") == {
        "#9": ["见#9", 3, None, {"note": "#9明"}],
        "n": 1.5,
    }


def test_json_escaped_is_how_ascii_json_writes_the_name() -> None:
    assert json_escaped("张伟") == "\\u5f20\\u4f1f"
    assert json_escaped("Anna") == "Anna"
