"""``python -m bench.ledger``: see :mod:`bench.ledger.run`."""

from bench.ledger.run import main

if __name__ == "__main__":  # spawned import workers re-read this module; only the parent runs
    main()
