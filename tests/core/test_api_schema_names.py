"""OpenAPI names a schema by its class name, so two apps' schemas with the same name
silently replace each other in the API description (one app's responses then fail the
other's schema). Every response and request schema of the API has its own name."""

import importlib
import inspect
from collections import defaultdict

from ninja import Schema

API_MODULES = ["kam.core.api", "kam.accounts.api", "kam.ledger.api", "kam.segmentation.api",
               "kam.coverage.api", "kam.service.api"]  # fmt: skip


def test_no_two_api_schemas_share_a_name() -> None:
    classes: dict[str, set[type]] = defaultdict(set)
    for name in API_MODULES:
        module = importlib.import_module(name)
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if issubclass(obj, Schema) and obj.__module__.startswith("kam."):
                classes[obj.__name__].add(obj)
    clashes = {n: sorted(c.__module__ for c in cs) for n, cs in classes.items() if len(cs) > 1}
    assert clashes == {}
