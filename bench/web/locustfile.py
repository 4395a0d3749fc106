"""bench/web's load: one locust user class per role, reading the plan bench/web wrote.

Run by ``python -m bench.web`` (``locust -f bench/web/locustfile.py --headless ...`` with
``BENCH_WEB_PLAN`` naming the plan). Each simulated user takes one of its role's signed-in
sessions, then repeatedly thinks (``think`` seconds, uniform) and opens one of its role's
pages, chosen by weight, with one of that page's sample URLs. Redirects are not followed:
any answer but 200 is an error (a redirect to the login page would otherwise look fast).
"""

import itertools
import json
import os
import random
from typing import Any

from locust import HttpUser, between, task

from bench.web.run import fill

with open(os.environ["BENCH_WEB_PLAN"], encoding="utf-8") as _f:
    PLAN: dict[str, Any] = json.load(_f)


def _user_class(role: str, spec: dict[str, Any]) -> type[HttpUser]:
    sessions = itertools.cycle(spec["sessions"])  # [{"key", "values": {placeholder: [...]}}]
    pages = spec["pages"]  # [[name, path with {placeholders}, weight], ...]
    weights = [p[2] for p in pages]

    class RoleUser(HttpUser):
        weight = spec["weight"]
        wait_time = between(*PLAN["think"])

        def on_start(self) -> None:
            session = next(sessions)
            self.values = session["values"]
            self.client.cookies.set(PLAN["cookie"], session["key"])
            self.client.headers["Accept-Language"] = "zh-Hans"

        @task
        def page(self) -> None:
            name, path, _ = random.choices(pages, weights)[0]  # noqa: S311 - load mix, not secrets
            url = fill(path, self.values, random.randrange(1_000_000))  # noqa: S311
            with self.client.get(
                url, name=f"{role} | {name}", allow_redirects=False, catch_response=True
            ) as response:
                if response.status_code != 200:
                    response.failure(f"HTTP {response.status_code}")

    RoleUser.__name__ = f"{role.title()}User"
    return RoleUser


for _role, _spec in PLAN["roles"].items():
    if _spec["pages"] and _spec["sessions"]:
        globals()[f"{_role.title()}User"] = _user_class(_role, _spec)
