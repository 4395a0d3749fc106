"""Facts that hold for a whole page, read once while it is rendered.

A page made of panels from many apps (:mod:`kam.core.panels`) asked the database the same
question several times: each app's panel reads the ledger's latest month, for instance.
Inside :func:`page_scope` (``panels.render`` opens one) :func:`page_fact` computes a fact
once and hands the same value to every later asker; outside it, it just computes it.

Only facts that do not depend on who asks belong here (settings, the latest import...):
access decisions stay with the selectors.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

_T = TypeVar("_T")

_FACTS: ContextVar[dict[str, Any] | None] = ContextVar("kam_page_facts", default=None)


@contextmanager
def page_scope() -> Iterator[None]:
    """Share :func:`page_fact`'s values within the block (and the blocks nested in it)."""
    if _FACTS.get() is not None:
        yield
        return
    token = _FACTS.set({})
    try:
        yield
    finally:
        _FACTS.reset(token)


def page_fact(key: str, compute: Callable[[], _T]) -> _T:
    """``compute()``, once per :func:`page_scope` for ``key``."""
    facts = _FACTS.get()
    if facts is None:
        return compute()
    if key not in facts:
        facts[key] = compute()
    return facts[key]  # type: ignore[no-any-return]  # the value compute() returned for key
