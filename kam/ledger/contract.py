"""The waybill contract: the columns an import accepts, their aliases and their values.

Plain data, no Django: the importer, the docs table (``docs/ledger.md``) and the API's
schema all read it from here. Column headings are matched after :func:`normalize_heading`,
so ``计费重量(kg)``, ``计费重量（KG）`` and ``Chargeable weight`` all find ``weight_kg``.
"""

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

Kind = Literal[
    "code",  # an identifier: letters, digits, '-' and '_'
    "text",  # free text (never executed; neutralised in exports)
    "time",  # a date and time; naive values are Beijing time
    "region",  # a GB/T 2260 code or a province / city name
    "product",
    "status",
    "consignee",
    "count",  # a whole number >= 1
    "weight",  # kg, up to three decimals, >= 0
    "money",  # CNY, up to two decimals, >= 0
    "flag",  # yes / no
]


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    kind: Kind
    required: bool
    label_en: str
    label_zh: str
    aliases: tuple[str, ...] = ()
    max_length: int = 0  # for code and text


COLUMNS: tuple[Column, ...] = (
    Column("waybill_no", "code", True, "Waybill number", "运单号",
           ("运单编号", "单号", "快递单号", "waybill", "waybill number", "tracking number"), 40),
    Column("billing_code", "code", True, "Billing account code", "月结账号",
           ("月结卡号", "月结编码", "客户编码", "付款账号", "billing code", "account code"), 40),
    Column("ship_time", "time", True, "Ship time", "寄件时间",
           ("揽收时间", "收件时间", "发货时间", "寄件日期", "ship date", "pickup time")),
    Column("origin", "region", True, "Origin", "始发地",
           ("始发城市", "寄件城市", "寄件地", "原寄地", "origin city")),
    Column("destination", "region", True, "Destination", "目的地",
           ("目的城市", "收件城市", "收件地", "destination city")),
    Column("product", "product", True, "Product / service level", "产品",
           ("产品类型", "产品名称", "服务类型", "时效类型", "service level", "service")),
    Column("pieces", "count", True, "Pieces", "件数", ("包裹数", "piece count")),
    Column("weight_kg", "weight", True, "Chargeable weight (kg)", "计费重量",
           ("计费重", "重量", "chargeable weight", "weight")),
    Column("freight", "money", True, "Freight revenue (CNY)", "运费",
           ("运费金额", "基础运费", "freight revenue", "revenue")),
    Column("surcharges", "money", False, "Surcharges (CNY)", "附加费",
           ("增值服务费", "附加费用", "surcharge")),
    Column("cost", "money", False, "Cost (CNY)", "成本", ("成本金额", "运输成本")),
    Column("cod_amount", "money", False, "COD amount (CNY)", "代收货款",
           ("代收金额", "代收款", "cod", "cod amount")),
    Column("declared_value", "money", False, "Declared value (CNY)", "声明价值",
           ("保价金额", "保价", "declared value")),
    Column("goods_category", "text", False, "Goods category", "托寄物",
           ("货物类别", "物品类别", "托寄物内容", "goods", "category"), 60),
    Column("consignee_type", "consignee", False, "Consignee type", "收件人类型",
           ("收件类型", "客户类型", "consignee")),
    Column("status", "status", True, "Status", "状态", ("运单状态", "签收状态", "waybill status")),
    Column("delivered_time", "time", False, "Delivered time", "签收时间",
           ("妥投时间", "送达时间", "delivered at", "delivery time")),
    Column("promised_time", "time", False, "Promised time", "承诺送达时间",
           ("承诺时效", "应到时间", "承诺时间", "promised at", "due time")),
    Column("is_return", "flag", False, "Return flag", "逆向",
           ("是否逆向", "逆向件", "退货件", "return", "return flag", "reverse")),
)  # fmt: skip

BY_NAME = {c.name: c for c in COLUMNS}
REQUIRED = tuple(c.name for c in COLUMNS if c.required)

# Canonical value -> accepted spellings (matched case-insensitively after trimming).
PRODUCTS: dict[str, tuple[str, ...]] = {
    "express": ("特快", "特快件", "特快专递", "次日达", "express"),
    "standard": ("标快", "标准快递", "标准件", "隔日达", "standard"),
    "ground": ("陆运", "陆运件", "经济快递", "ground", "economy"),
    "cold": ("冷运", "冷链", "冷运件", "cold", "cold chain"),
    "international": ("国际", "国际件", "国际快递", "international"),
}
STATUSES: dict[str, tuple[str, ...]] = {
    # In transit, in the order a waybill passes them (see STATUS_RANK).
    "picked_up": ("已揽收", "揽收", "已揽件", "picked up", "picked_up"),
    "in_transit": ("运输中", "在途", "在途中", "转运中", "in transit", "in_transit"),
    "out_for_delivery": ("派送中", "派件中", "正在派送", "out for delivery", "out_for_delivery"),
    # Final.
    "delivered": ("已签收", "签收", "妥投", "已妥投", "delivered"),
    "returned": ("退回", "已退回", "退件", "returned"),
    "lost": ("丢失", "遗失", "lost"),
    "damaged": ("破损", "损坏", "damaged"),
}
# A waybill not yet delivered: accepted without a delivered time, and replaced by a later
# import that brings it in a later state (an *update*, not a conflict).
IN_TRANSIT: tuple[str, ...] = ("picked_up", "in_transit", "out_for_delivery")
FINAL: tuple[str, ...] = ("delivered", "returned", "lost", "damaged")
# How far a waybill has got: an update must move it forward. Every final status ranks last,
# so a final waybill is never updated (a change to it is a conflict).
STATUS_RANK: dict[str, int] = {
    **{status: rank for rank, status in enumerate(IN_TRANSIT, start=1)},
    **dict.fromkeys(FINAL, len(IN_TRANSIT) + 1),
}
# What an update may change; a difference in any other column is a conflict.
UPDATABLE: tuple[str, ...] = ("status", "delivered_time")

CONSIGNEE_TYPES: dict[str, tuple[str, ...]] = {
    "consumer": ("个人", "消费者", "c", "toc", "2c", "consumer"),
    "business": ("企业", "公司", "商家", "b", "tob", "2b", "business"),
}
FLAGS: dict[bool, tuple[str, ...]] = {
    True: ("是", "y", "yes", "true", "1", "逆向", "退货"),
    False: ("否", "n", "no", "false", "0", "正向"),
}

# Accepted date-time spellings (strptime). Values with a UTC offset are also accepted.
TIME_FORMATS: tuple[str, ...] = (
    "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M", "%Y-%m-%d",
    "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%dT%H:%M",
    "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d",
    "%Y.%m.%d %H:%M:%S", "%Y.%m.%d %H:%M", "%Y.%m.%d",
    "%Y年%m月%d日 %H:%M:%S", "%Y年%m月%d日 %H:%M", "%Y年%m月%d日", "%Y年%m月%d日%H:%M:%S",
    "%Y%m%d%H%M%S", "%Y%m%d",
)  # fmt: skip
TIME_FORMATS_WITH_OFFSET: tuple[str, ...] = (
    "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%d %H:%M:%S%z",
)  # fmt: skip

_PARENTHESISED = re.compile(r"[(（\[【].*?[)）\]】]")
_SEPARATORS = re.compile(r"[\s_\-/:：]+")


def normalize_heading(heading: str) -> str:
    """Fold a column heading for matching: NFKC, lower case, no units, no separators."""
    text = unicodedata.normalize("NFKC", heading or "").strip().lower()
    text = text.lstrip("\ufeff")
    text = _PARENTHESISED.sub("", text)
    return _SEPARATORS.sub("", text)


def _heading_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for column in COLUMNS:
        for spelling in (column.name, column.label_en, column.label_zh, *column.aliases):
            index.setdefault(normalize_heading(spelling), column.name)
    return index


HEADING_INDEX = _heading_index()


@dataclass(frozen=True, slots=True)
class HeadingMatch:
    """How a file's headings map onto the contract."""

    mapping: dict[str, str]  # contract column -> the file's heading
    missing: tuple[str, ...]  # required contract columns not found
    unknown: tuple[str, ...]  # the file's headings that match nothing (ignored)
    repeated: tuple[str, ...]  # contract columns that two headings claim


def match_headings(headings: list[str]) -> HeadingMatch:
    mapping: dict[str, str] = {}
    unknown: list[str] = []
    repeated: list[str] = []
    for heading in headings:
        name = HEADING_INDEX.get(normalize_heading(heading))
        if name is None:
            if heading.strip():
                unknown.append(heading)
        elif name in mapping:
            repeated.append(name)
        else:
            mapping[name] = heading
    missing = tuple(name for name in REQUIRED if name not in mapping)
    return HeadingMatch(mapping, missing, tuple(unknown), tuple(repeated))


def value_table(choices: Mapping[Any, tuple[str, ...]]) -> list[tuple[str, object]]:
    """(folded spelling, canonical value) pairs, canonical names included."""
    pairs: dict[str, object] = {}
    for value, spellings in choices.items():
        for spelling in (str(value).lower(), *spellings):
            pairs.setdefault(spelling.strip().lower(), value)
    return list(pairs.items())
