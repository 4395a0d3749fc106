"""``python -m bench.rls``: see :mod:`bench.rls.run`."""

from bench.rls.run import main

if __name__ == "__main__":
    main()
