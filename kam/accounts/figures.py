"""Figures other apps put on the account list: an annotation, sortable, paged with the list.

The archive may not import the apps built on it (``core <- accounts <- ledger <- ...``), yet
its list shows our own revenue from the ledger's facts. So an app registers a figure here in
its ``AppConfig.ready()``; :func:`kam.accounts.selectors.account_search` applies every
registered figure, and the list sorts by its key. A figure's annotation must be one SQL
expression (a correlated subquery at most): PostgreSQL then computes it for the rows of
the page only, unless the list is sorted by it; never a query per row.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import QuerySet

from .models import Account


@dataclass(frozen=True)
class Figure:
    key: str  # the annotation's name, also the sort key
    annotate: Callable[[QuerySet[Account]], QuerySet[Account]]
    #: The period or basis the figure covers, for the column's caption ("" when none).
    caption: Callable[[], str] = lambda: ""


_FIGURES: dict[str, Figure] = {}


def register(figure: Figure) -> None:
    """Add (or replace, by key) a figure of the account list."""
    _FIGURES[figure.key] = figure


def unregister(key: str) -> None:
    _FIGURES.pop(key, None)


def figures() -> list[Figure]:
    return list(_FIGURES.values())


def annotate(accounts: QuerySet[Account]) -> QuerySet[Account]:
    for figure in _FIGURES.values():
        accounts = figure.annotate(accounts)
    return accounts
