"""The pricing app's modules stay small enough to read (STYLE.md rule 22), and the
strategies package keeps the names its callers use."""

from pathlib import Path

import kam.pricing
from kam.pricing import strategies

LIMIT = 800


def test_no_pricing_module_passes_800_lines() -> None:
    root = Path(kam.pricing.__file__).parent
    long = {
        str(path.relative_to(root)): n
        for path in root.rglob("*.py")
        if "migrations" not in path.parts
        and (n := len(path.read_text(encoding="utf-8").splitlines())) > LIMIT
    }
    assert long == {}


def test_the_strategies_package_exports_what_callers_use() -> None:
    assert strategies.__file__.endswith("__init__.py")
    for name in strategies.__all__:
        assert getattr(strategies, name) is not None
    for name in ("reverse", "TargetPrice", "COST_PLUS", "STEP_TEXTS", "sealed_bid", "money_up"):
        assert name in strategies.__all__
