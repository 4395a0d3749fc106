"""The ledger benchmark: synthetic waybills -> import -> facts, against DuckDB and pandas.

Run it with ``make bench`` or ``python -m bench.ledger --help``; the code is in
:mod:`bench.ledger.run`.
"""
