"""``python -m bench.pricing [--rows N]``: see :mod:`bench.pricing.run`."""

from bench.pricing.run import main

if __name__ == "__main__":
    main()
