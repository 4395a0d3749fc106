"""The ledger's section of the home page (工作台): a manager's book of business over the
twelve months ending with the ledger's latest month, as the account list's revenue column:
read from the same stored figures (:class:`kam.ledger.models.AccountRevenue`, see
:func:`kam.ledger.selectors.book_of_business`), not summed over the facts per request."""

import datetime

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import get_language

from kam.accounts.selectors import account_list_for
from kam.core.home import remember_my_accounts, section
from kam.core.models import Role, User

from . import selectors


def book_section(request: HttpRequest, user: User) -> str | None:
    if user.role != Role.MANAGER:
        return None
    book = selectors.book_of_business(account_list_for(user), as_of=_as_of())
    remember_my_accounts(request, book.accounts)
    growth = None if book.growth is None else round(100 * book.growth, 1)
    english = (get_language() or "").startswith("en")
    for mover in (*book.movers_up, *book.movers_down):
        mover["label"] = mover["name_en"] if english and mover["name_en"] else mover["name"]
    return section(request, "ledger/home/book.html", "book", book=book, growth=growth)


def _as_of() -> datetime.date:
    """The day after the period: the month after the ledger's latest (whose figures are
    stored), or today before any import."""
    latest = selectors.latest_ledger_month()
    if latest is None:
        return timezone.localdate()
    return (latest + datetime.timedelta(days=31)).replace(day=1)


def register() -> None:
    from kam.core import panels

    panels.register("home", "ledger.book", book_section, order=50)
