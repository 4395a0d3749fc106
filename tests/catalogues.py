"""The Simplified Chinese catalogues (the project's and each app's), compiled when stale.

The .mo files are git-ignored build output of ``make messages``; a test run straight after
editing a .po (or on a clone where nobody ran make) compiles them here, in place.
"""

import gettext as gettext_module
import os
import tempfile
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from django.conf import settings
from django.utils.translation import trans_real

CATALOGUES = [
    Path(settings.LOCALE_PATHS[0]) / "zh_Hans" / "LC_MESSAGES" / "django.po",
    *sorted((Path(settings.BASE_DIR) / "kam").glob("*/locale/zh_Hans/LC_MESSAGES/django.po")),
]


def compile_stale() -> None:
    for po in CATALOGUES:
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as f:
            catalog = read_po(f, locale="zh_Hans")
        fd, tmp = tempfile.mkstemp(dir=po.parent, prefix=".django-", suffix=".mo")
        try:
            with os.fdopen(fd, "wb") as f:
                write_mo(f, catalog, use_fuzzy=True)  # as `make messages` does
            os.chmod(tmp, 0o644)  # mkstemp makes it private; a .mo is an ordinary build file
            os.replace(tmp, mo)  # atomic: no other reader sees half a file
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def reset_caches() -> None:
    trans_real._translations = {}
    trans_real._default = None
    gettext_module._translations.clear()  # the stdlib caches parsed .mo files by path
