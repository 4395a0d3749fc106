"""Service cases outlive no account: deleting an account with cases is refused, clearly."""

import pytest

from kam.accounts import services as archive
from kam.accounts.models import Account
from kam.core.errors import ConflictError
from kam.core.models import User

pytestmark = pytest.mark.django_db


def test_an_account_with_cases_is_not_deleted(complaint, director: User) -> None:  # noqa: ANN001
    account = Account.objects.get(pk=complaint.account_id)
    with pytest.raises(ConflictError, match="cannot be deleted") as caught:
        archive.account_delete(by=director, account=account)
    assert "lost" in str(caught.value)
    assert Account.objects.filter(pk=account.pk).exists()
