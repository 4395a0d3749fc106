"""Time pages alone (one request at a time) on bench/web's data set, in-process with
Django's test Client (``force_login``, no second factor), with each page's query count.

    .venv/bin/python -m bench.web.alone                   # the coverage pages
    .venv/bin/python -m bench.web.alone director=/coverage/dashboard/ department=/coverage/queue/
    V=1 .venv/bin/python -m bench.web.alone               # and each page's slowest queries
    V=1 W=100000 .venv/bin/python -m bench.web.alone ...  # with their whole SQL

The test Client runs the whole middleware stack, so a page is measured as it is served:
managers and service reps under row-level security (kam.core.rls's middleware switches to
the ``kam_scoped`` role), each line says which (``rls`` or ``login role``).

The environment is bench/web's for ``kam_benchweb`` unless set. The first of four requests
warms caches; compare the best of the others between runs made one after the other (a
shared machine: print the load average with them)."""

import os
import sys
import tempfile
import time
from pathlib import Path

PAGES = [
    ("director", "/coverage/dashboard/"),
    ("department", "/coverage/dashboard/"),
    ("department", "/coverage/queue/"),
]


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kam.settings")
    os.environ.setdefault("KAM_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/kam_benchweb")
    data = Path(tempfile.gettempdir()) / "kam_benchweb"  # bench/web's default --data-dir
    os.environ.setdefault("KAM_DATA_DIR", str(data))
    os.environ.setdefault("KAM_LAKE_DIR", str(data / "lake"))
    os.environ.setdefault("KAM_LOG_LEVEL", "WARNING")
    os.environ["KAM_TWO_FACTOR_ROLES"] = ""
    import django  # noqa: PLC0415

    django.setup()
    from django.conf import settings  # noqa: PLC0415
    from django.db import connection  # noqa: PLC0415
    from django.test import Client  # noqa: PLC0415
    from django.test.utils import CaptureQueriesContext  # noqa: PLC0415

    from kam.core.models import User  # noqa: PLC0415

    settings.ALLOWED_HOSTS = ["*"]
    pages = [tuple(a.split("=", 1)) for a in sys.argv[1:]] or PAGES
    for role, url in pages:
        user = User.objects.filter(role=role, is_active=True).order_by("id").first()
        client = Client()
        client.force_login(user)
        times = []
        for _ in range(4):
            with CaptureQueriesContext(connection) as ctx:
                t = time.perf_counter()
                response = client.get(url)
                times.append((time.perf_counter() - t) * 1000)
            if response.status_code != 200:
                raise SystemExit(f"{role} {url}: HTTP {response.status_code}")
        shown = " ".join(f"{x:.0f}" for x in times)
        scoped = any("set_config('role'" in q["sql"] and settings.RLS_ROLE in q["sql"]
                     for q in ctx.captured_queries)  # fmt: skip
        print(f"{role:10} {url:28} {len(ctx.captured_queries):3} queries  ms: {shown}  "
              f"best of the last 3: {min(times[1:]):.0f}  "
              f"({'rls' if scoped else 'login role'})")  # fmt: skip
        if os.environ.get("V"):
            for q in sorted(ctx.captured_queries, key=lambda q: -float(q["time"]))[
                : int(os.environ.get("N") or 8)
            ]:
                print("   ", q["time"], q["sql"][: int(os.environ.get("W") or 300)])
    print("load average:", " ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()
