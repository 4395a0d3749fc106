"""``python -m bench.coverage``: see :mod:`bench.coverage.run`."""

from bench.coverage.run import main

if __name__ == "__main__":
    main()
