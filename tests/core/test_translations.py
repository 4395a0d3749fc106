"""The Simplified Chinese catalogue: complete, not fuzzy, placeholders intact, and in use.

The .mo file is git-ignored and built by ``make messages``; the runtime tests compile it
themselves (with Babel) when it is missing or older than the .po.
"""

import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po
from django.conf import settings
from django.utils import translation

from kam.accounts.models import TIER_CHOICES
from kam.core.models import Role
from tests import catalogues

# The project's catalogue, and one per app that keeps its own (kam/<app>/locale).
CATALOGUES = catalogues.CATALOGUES
per_catalogue = pytest.mark.parametrize(
    "po", CATALOGUES, ids=[str(p.relative_to(settings.BASE_DIR)) for p in CATALOGUES]
)

#: %(name)s, %(n)d, %(v).2f, and the positional %s / %d; "%%" is a literal percent sign.
PLACEHOLDER = re.compile(r"%(?:\((\w+)\))?[#0 +-]*(?:\d+|\*)?(?:\.(?:\d+|\*))?[diouxXeEfFgGcrs%]")


def _catalog(po: Path) -> Catalog:
    with po.open("rb") as f:
        return read_po(f, locale="zh_Hans")


def _messages(po: Path) -> list[Message]:
    return [m for m in _catalog(po) if m.id]  # the header has the empty msgid


def _texts(value: str | tuple[str, ...] | list[str]) -> list[str]:
    return list(value) if isinstance(value, tuple | list) else [value]


def _placeholders(text: str) -> Counter[str]:
    return Counter(m.group(0) for m in PLACEHOLDER.finditer(text) if m.group(0) != "%%")


def _label(message: Message) -> str:
    return repr(_texts(message.id)[0])


# --- the catalogue file ---------------------------------------------------------------------


@per_catalogue
def test_the_header_declares_simplified_chinese_with_one_plural_form(po: Path) -> None:
    catalog = _catalog(po)
    assert not catalog.fuzzy
    header = dict(catalog.mime_headers)
    assert header["Language"] == "zh_Hans"
    assert "charset=utf-8" in header["Content-Type"].lower()
    assert catalog.num_plurals == 1
    assert catalog.plural_expr.strip() == "0"


@per_catalogue
def test_every_message_is_translated(po: Path) -> None:
    untranslated = [
        _label(m) for m in _messages(po) if not all(s.strip() for s in _texts(m.string))
    ]
    assert not untranslated, f"untranslated: {untranslated}"


@per_catalogue
def test_no_message_is_fuzzy(po: Path) -> None:
    fuzzy = [_label(m) for m in _messages(po) if m.fuzzy]
    assert not fuzzy, f"fuzzy: {fuzzy}"


@per_catalogue
def test_python_format_placeholders_survive_translation(po: Path) -> None:
    wrong = []
    for m in _messages(po):
        ids = _texts(m.id)
        if "python-format" not in m.flags and not any(_placeholders(i) for i in ids):
            continue
        # Chinese has one plural form; it must carry the plural msgid's placeholders.
        expected = _placeholders(ids[-1])
        wrong += [(_label(m), s) for s in _texts(m.string) if _placeholders(s) != expected]
    assert not wrong, f"placeholders differ: {wrong}"


def test_placeholder_pattern() -> None:
    assert _placeholders("%(n)d of %(total)s, %s, 50 %%") == Counter(["%(n)d", "%(total)s", "%s"])


# --- the catalogue at run time --------------------------------------------------------------


@pytest.fixture
def compiled_catalogue() -> Iterator[None]:
    catalogues.compile_stale()
    catalogues.reset_caches()
    yield
    catalogues.reset_caches()


@pytest.mark.usefixtures("compiled_catalogue")
def test_chinese_is_served_for_zh_hans() -> None:
    with translation.override("zh-hans"):
        assert translation.gettext("Accounts") != "Accounts"
        assert translation.gettext("Account manager") == "客户经理"
        assert translation.gettext("Key-account department") == "大客户管理部"
        assert translation.gettext("Billing account code") == "月结账号"
        assert str(Role.DIRECTOR.label) == "总监"
        assert str(dict(TIER_CHOICES)[1]) == "1级"
        assert translation.ngettext("%(n)s account", "%(n)s accounts", 3) % {"n": 3} == "3 个客户"


@pytest.mark.usefixtures("compiled_catalogue")
def test_english_stays_english() -> None:
    with translation.override("en"):
        assert translation.gettext("Accounts") == "Accounts"
        assert translation.gettext("Account manager") == "Account manager"
        assert str(Role.DIRECTOR.label) == "Director"
        assert str(dict(TIER_CHOICES)[1]) == "Tier 1"  # lazy: not frozen at import time
        assert translation.ngettext("%(n)s account", "%(n)s accounts", 3) % {"n": 3} == "3 accounts"
