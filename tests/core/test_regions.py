"""The region lookup's English names: pinyin with its apostrophe, and the customary names."""

import pytest

from kam.core import regions


def _english(name_zh: str) -> str:
    return next(c.name_en for c in regions.cities() if c.name_zh == name_zh)


@pytest.mark.parametrize(
    ("name_zh", "name_en"),
    [
        ("广州市", "Guangzhou"),  # plain pinyin
        ("西安市", "Xi'an"),  # the apostrophe before a syllable starting with a vowel
        ("淮安市", "Huai'an"),
        ("哈尔滨市", "Harbin"),  # customary names
        ("呼和浩特市", "Hohhot"),
        ("乌鲁木齐市", "Urumqi"),
        ("拉萨市", "Lhasa"),
        ("延边朝鲜族自治州", "Yanbian"),  # the place, not the peoples
        ("黔西南布依族苗族自治州", "Qianxinan"),
        ("博尔塔拉蒙古自治州", "Bortala"),
    ],
)
def test_english_city_names(name_zh: str, name_en: str) -> None:
    assert _english(name_zh) == name_en


def test_every_city_has_a_short_english_name() -> None:
    names = [c.name_en for c in regions.cities() if "(" not in c.name_en]  # not "(counties)"
    long = [n for n in names if len(n) > 16 or n.endswith("zu")]  # "…zangzu": a people's name
    assert long == []
