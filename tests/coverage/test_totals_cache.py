"""The portfolio's coverage totals are kept a minute under a data version that every row
they read moves on, and that a login (which saves only the user's last login) does not."""

from django.contrib.auth.signals import user_logged_in
from django.test import RequestFactory

from kam.accounts.models import Account
from kam.core.models import User
from kam.coverage.selectors import _data_version


def test_a_login_keeps_the_totals_but_a_changed_account_or_user_moves_them(
    db: None, director: User, account_a: Account
) -> None:
    before = _data_version()

    request = RequestFactory().get("/")
    user_logged_in.send(sender=User, request=request, user=director)  # saves last_login only
    assert _data_version() == before

    account_a.tier = 2
    account_a.save()
    after_account = _data_version()
    assert after_account > before

    director.is_active = False
    director.save()
    assert _data_version() > after_account
