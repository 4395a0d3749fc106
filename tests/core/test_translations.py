"""The Simplified Chinese catalogue: complete, not fuzzy, placeholders intact, and in use.

The .mo file is git-ignored and built by ``make messages``; the runtime tests compile it
themselves (with Babel) when it is missing or older than the .po.
"""

import gettext as gettext_module
import os
import re
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from django.conf import settings
from django.utils import translation
from django.utils.translation import trans_real

from kam.accounts.models import TIER_CHOICES
from kam.core.models import Role

LC_MESSAGES = Path(settings.LOCALE_PATHS[0]) / "zh_Hans" / "LC_MESSAGES"
PO = LC_MESSAGES / "django.po"
MO = LC_MESSAGES / "django.mo"

#: %(name)s, %(n)d, %(v).2f, and the positional %s / %d; "%%" is a literal percent sign.
PLACEHOLDER = re.compile(r"%(?:\((\w+)\))?[#0 +-]*(?:\d+|\*)?(?:\.(?:\d+|\*))?[diouxXeEfFgGcrs%]")


def _catalog() -> Catalog:
    with PO.open("rb") as f:
        return read_po(f, locale="zh_Hans")


def _messages() -> list[Message]:
    return [m for m in _catalog() if m.id]  # the header has the empty msgid


def _texts(value: str | tuple[str, ...] | list[str]) -> list[str]:
    return list(value) if isinstance(value, tuple | list) else [value]


def _placeholders(text: str) -> Counter[str]:
    return Counter(m.group(0) for m in PLACEHOLDER.finditer(text) if m.group(0) != "%%")


def _label(message: Message) -> str:
    return repr(_texts(message.id)[0])


# --- the catalogue file ---------------------------------------------------------------------


def test_the_header_declares_simplified_chinese_with_one_plural_form() -> None:
    catalog = _catalog()
    assert not catalog.fuzzy
    header = dict(catalog.mime_headers)
    assert header["Language"] == "zh_Hans"
    assert "charset=utf-8" in header["Content-Type"].lower()
    assert catalog.num_plurals == 1
    assert catalog.plural_expr.strip() == "0"


def test_every_message_is_translated() -> None:
    untranslated = [_label(m) for m in _messages() if not all(s.strip() for s in _texts(m.string))]
    assert not untranslated, f"untranslated: {untranslated}"


def test_no_message_is_fuzzy() -> None:
    fuzzy = [_label(m) for m in _messages() if m.fuzzy]
    assert not fuzzy, f"fuzzy: {fuzzy}"


def test_python_format_placeholders_survive_translation() -> None:
    wrong = []
    for m in _messages():
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


def _compile_if_stale() -> None:
    if MO.exists() and MO.stat().st_mtime >= PO.stat().st_mtime:
        return
    fd, tmp = tempfile.mkstemp(dir=LC_MESSAGES, prefix=".django-", suffix=".mo")
    try:
        with os.fdopen(fd, "wb") as f:
            write_mo(f, _catalog())
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a .mo is an ordinary build file
        os.replace(tmp, MO)  # atomic: no other reader sees half a file
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _reset_translation_caches() -> None:
    trans_real._translations = {}
    trans_real._default = None
    gettext_module._translations.clear()  # the stdlib caches parsed .mo files by path


@pytest.fixture
def compiled_catalogue() -> Iterator[None]:
    _compile_if_stale()
    _reset_translation_caches()
    yield
    _reset_translation_caches()


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
