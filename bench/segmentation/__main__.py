"""``python -m bench.segmentation [--small]``: the figures benchmark, then the lifetime-value
and forecast benchmarks (``bench/segmentation/clv_bench.py``, ``forecast_bench.py``).

Each part can also run alone: ``python -m bench.segmentation.figures_bench --help``.
"""

import argparse
import sys

from bench.segmentation import clv_bench, figures_bench, forecast_bench


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.segmentation", description=__doc__)
    p.add_argument("--small", action="store_true", help="smoke sizes for every part")
    p.add_argument("--only", choices=["figures", "clv", "forecast"], help="run one part")
    args = p.parse_args(argv)
    small = ["--small"] if args.small else []
    if args.only in (None, "figures"):
        figures_bench.main(small)
    if args.only in (None, "clv"):
        clv_bench.main(small)
    if args.only in (None, "forecast"):
        forecast_bench.main(small)


if __name__ == "__main__":
    main(sys.argv[1:])
