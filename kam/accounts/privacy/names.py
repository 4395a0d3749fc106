"""Finding a person's name in free text, to replace it with a pseudonym. Pure: no Django.

"Whole word" depends on the script. Latin names (``John Smith``) match only where no
letter or digit touches them (``Smithers`` is not ``Smith``). Chinese has no spaces
between words, so a Chinese name matches wherever it occurs, except inside a longer name
that is kept (another person, a company: ``张伟明`` and ``张伟贸易有限公司`` are not
``张伟``). Names shorter than :data:`MIN_LENGTH` characters are never replaced in free text:
one character would hit ordinary words.
"""

import json
import re
from collections.abc import Iterable
from typing import Any

#: Letters and digits that make a Latin-script word continue.
_WORD = r"0-9A-Za-z\u00C0-\u024F"
_WORD_CHAR = re.compile(f"[{_WORD}]")
MIN_LENGTH = 2


def name_pattern(name: str, keep: Iterable[str] = ()) -> re.Pattern[str] | None:
    """A pattern whose ``hit`` group is an occurrence of ``name`` to replace, or ``None``
    when the name is too short to look for.

    ``keep``: longer texts that contain the name and must stay as they are; they are
    matched first (longest first), so an occurrence inside one of them is no hit.
    Case is ignored; any run of spaces in the name matches any run of white space.
    """
    name = " ".join(name.split())
    if len(name) < MIN_LENGTH:
        return None
    body = r"\s+".join(re.escape(part) for part in name.split(" "))
    before = f"(?<![{_WORD}])" if _WORD_CHAR.match(name[0]) else ""
    after = f"(?![{_WORD}])" if _WORD_CHAR.match(name[-1]) else ""
    hit = f"(?P<hit>{before}{body}{after})"
    lowered = name.casefold()
    kept = sorted(
        {k for k in (" ".join(k.split()) for k in keep) if len(k) > len(name)
         and lowered in k.casefold()},
        key=len,
        reverse=True,
    )  # fmt: skip
    if kept:
        alternatives = "|".join(r"\s+".join(re.escape(p) for p in k.split(" ")) for k in kept)
        return re.compile(f"(?P<keep>{alternatives})|{hit}", re.IGNORECASE)
    return re.compile(hit, re.IGNORECASE)


def replace_name(text: str, pattern: re.Pattern[str], pseudonym: str) -> str:
    """``text`` with every hit of ``pattern`` replaced by ``pseudonym``."""

    def one(match: re.Match[str]) -> str:
        return pseudonym if match.group("hit") is not None else match.group(0)

    return pattern.sub(one, text)


def replace_in_json(value: Any, pattern: re.Pattern[str], pseudonym: str) -> Any:
    """A JSON value (dicts, lists, strings...) with the name replaced in every string,
    keys included."""
    if isinstance(value, str):
        return replace_name(value, pattern, pseudonym)
    if isinstance(value, list):
        return [replace_in_json(v, pattern, pseudonym) for v in value]
    if isinstance(value, dict):
        return {
            replace_name(k, pattern, pseudonym): replace_in_json(v, pattern, pseudonym)
            for k, v in value.items()
        }
    return value


def json_escaped(name: str) -> str:
    """How ``name`` appears inside JSON text written with ASCII escapes (SQLite's JSON
    columns): ``张伟`` → ``\\u5f20\\u4f1f``."""
    return json.dumps(name)[1:-1]
