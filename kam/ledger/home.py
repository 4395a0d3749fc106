"""The ledger's section of the home page (工作台): a manager's book of business, from the
monthly facts of the accounts they see (one grouped query, see
:func:`kam.ledger.selectors.book_of_business`)."""

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import get_language

from kam.accounts.selectors import account_list_for
from kam.core.home import section
from kam.core.models import Role, User

from . import selectors


def book_section(request: HttpRequest, user: User) -> str | None:
    if user.role != Role.MANAGER:
        return None
    book = selectors.book_of_business(account_list_for(user), as_of=timezone.localdate())
    growth = None if book.growth is None else round(100 * book.growth, 1)
    english = (get_language() or "").startswith("en")
    for mover in (*book.movers_up, *book.movers_down):
        mover["label"] = mover["name_en"] if english and mover["name_en"] else mover["name"]
    return section(request, "ledger/home/book.html", "book", book=book, growth=growth)


def register() -> None:
    from kam.core import panels

    panels.register("home", "ledger.book", book_section, order=50)
