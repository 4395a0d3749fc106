"""Prints the size of the access matrix at the end of the run."""

from typing import Any


def pytest_terminal_summary(terminalreporter: Any) -> None:
    import sys

    test_matrix = sys.modules.get("tests.access.test_matrix")
    if test_matrix is None:
        return

    counts = test_matrix.COUNTS
    if not counts:
        return
    from .world import PERSONAS

    kinds = {k.removeprefix("kind "): v for k, v in counts.items() if k.startswith("kind ")}
    terminalreporter.write_sep("-", "access matrix")
    terminalreporter.write_line(
        f"{counts['page routes']} page routes + {counts['API operations']} API operations "
        f"× {len(PERSONAS)} roles × {len(kinds)} id kinds ("
        + ", ".join(f"{k}: {v}" for k, v in sorted(kinds.items()))
        + f"): {counts['calls']} responses checked for foreign data, "
        f"{counts['comparisons']} foreign / missing pairs compared"
    )
