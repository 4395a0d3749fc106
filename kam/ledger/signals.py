"""Signals of the ledger, for the apps built on it (which the ledger may not import).

``import_committed(sender=ImportBatch, batch=...)`` is sent once an import's batch is
committed with at least one accepted row, outside its transaction: segmentation starts a
run from it. Receivers run through ``send_robust``: one that fails is logged and never
undoes or fails the import. Inside ``with quiet():`` nothing is sent (``kam demo`` imports
its batches quietly and runs segmentation itself, once, at the end).
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.dispatch import Signal

import_committed = Signal()

_quiet: ContextVar[bool] = ContextVar("kam_ledger_signals_quiet", default=False)


@contextmanager
def quiet() -> Iterator[None]:
    token = _quiet.set(True)
    try:
        yield
    finally:
        _quiet.reset(token)


def is_quiet() -> bool:
    return _quiet.get()
