"""``python -m bench.service``: see :mod:`bench.service.run`."""

from bench.service.run import main

if __name__ == "__main__":
    main()
