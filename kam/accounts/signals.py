"""Signals of the archive, for the apps built on it (which the archive may not import).

``account_changed(sender=Account, account=..., by=..., changes={field: (old, new)})`` is
sent by :func:`kam.accounts.services.account_update` after an account's fields were saved,
inside its transaction, with the fields whose value changed: planning records a
relationship stage changed on the account's form in the stage history.
"""

from django.dispatch import Signal

account_changed = Signal()
