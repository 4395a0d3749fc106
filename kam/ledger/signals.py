"""Signals of the ledger, for the apps built on it (which the ledger may not import).

``import_committed(sender=ImportBatch, batch=...)`` is sent once an import's batch is
committed with at least one accepted row, outside its transaction: segmentation starts a
run from it. Receivers run through ``send_robust``: one that fails is logged and never
undoes or fails the import.
"""

from django.dispatch import Signal

import_committed = Signal()
