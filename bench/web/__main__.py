"""``python -m bench.web``: see :mod:`bench.web.run`."""

from bench.web.run import main

if __name__ == "__main__":
    main()
