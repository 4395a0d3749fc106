"""bench/web: every role's main pages and API reads under load, on a large archive.

``python -m bench.web`` builds (once; later runs reuse it) a PostgreSQL database with
``--accounts`` accounts, ``--per-role`` users of each role and ``--waybills`` waybills
imported through the real import path, serves it with ``kam serve`` (gunicorn,
``--workers``), and drives it with locust, headless: ``--users`` concurrent users with
``--think`` seconds between pages, for ``--duration`` seconds. It prints p50 / p95 / p99
and the error rate of every page per role, against the targets (p95 <= 300 ms,
p99 <= 800 ms, errors < 0.1 %). ``--accounts 2000 --waybills 200000`` is a quick first run.
"""

import argparse
import csv
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from bench.ledger.common import log

ROOT = Path(__file__).resolve().parents[2]
TARGET_P95_MS = 300.0
TARGET_P99_MS = 800.0
TARGET_ERRORS = 0.001
#: Requests per page and role, one at a time, before the load (the median is "alone").
ALONE_REPEAT = 3
DEFAULT_ACCOUNTS = 100_000
DEFAULT_WAYBILLS = 10_000_000
#: Users of each role in the load, relative (managers are most of a carrier's KAM staff).
ROLE_WEIGHTS = {"manager": 5, "department": 2, "service": 1, "director": 1, "analyst": 1}

#: (name, path with {placeholders}, weight). Placeholders are filled per role from the
#: data it may see; a page a role may not open (403/404 on the probe) is left out of its mix.
PAGES: list[tuple[str, str, int]] = [
    ("home", "/", 3),
    ("API me (the floor)", "/api/v1/me", 1),
    ("account list", "/accounts/", 3),
    ("account list by revenue", "/accounts/?sort=-revenue_12m", 1),
    ("account search", "/accounts/?q={search}", 1),
    ("account page", "/accounts/{account}/", 3),
    ("account page, tier 1", "/accounts/{tier1}/", 2),
    ("contact page", "/contacts/{contact}/", 1),
    ("groups", "/groups/", 1),
    ("group page", "/groups/{group}/", 1),
    ("segmentation portfolio", "/segmentation/", 1),
    ("key-account candidates", "/segmentation/candidates/", 1),
    ("alerts", "/segmentation/alerts/", 1),
    ("visit plan", "/coverage/plan/", 1),
    ("calendar", "/coverage/calendar/", 1),
    ("report queue", "/coverage/queue/", 1),
    ("follow-ups", "/coverage/follow-ups/", 1),
    ("coverage dashboard", "/coverage/dashboard/", 1),
    ("service queue", "/service/", 1),
    ("service dashboard", "/service/dashboard/", 1),
    ("imports", "/ledger/imports/", 1),
    ("unlinked codes", "/ledger/unlinked/", 1),
    ("API accounts", "/api/v1/accounts", 2),
    ("API accounts by revenue", "/api/v1/accounts?sort=-revenue_12m", 1),
    ("API account", "/api/v1/accounts/{account}", 2),
    ("API contacts of an account", "/api/v1/contacts?account_id={account}", 1),
    ("API ties of an account", "/api/v1/ties?account_id={account}", 1),
    ("API facts of an account", "/api/v1/facts?account_id={account}", 1),
    ("API account's segmentation", "/api/v1/segmentation/accounts/{account}", 1),
    ("API visits", "/api/v1/coverage/visits", 1),
    ("API follow-ups", "/api/v1/coverage/follow-ups", 1),
    ("API cases", "/api/v1/service/cases", 1),
]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.web", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432",
                        help="PostgreSQL server (a role that may create databases)")  # fmt: skip
    parser.add_argument("--accounts", type=int, default=DEFAULT_ACCOUNTS)
    parser.add_argument("--waybills", type=int, default=DEFAULT_WAYBILLS)
    parser.add_argument("--per-role", type=int, default=20, help="users of each role")
    parser.add_argument("--database", help="database name (default kam_benchweb, or "
                        "kam_benchweb_<accounts>_<waybills> for other sizes)")  # fmt: skip
    parser.add_argument("--data-dir", type=Path, default=Path(tempfile.gettempdir()),
                        help="where the database's lake lives (<data-dir>/<database>)")  # fmt: skip
    parser.add_argument("--rebuild", action="store_true", help="build the data set again")
    parser.add_argument("--build-only", action="store_true", help="build (or check) and stop")
    parser.add_argument("--drop", action="store_true", help="drop the database and lake at the end")
    parser.add_argument("--segmentation", choices=["auto", "on", "off"], default="auto",
                        help="run `kam segment` in the build (auto: up to 20,000 accounts; "
                        "its forecasts of 50,000 codes had not ended after 14 minutes)")  # fmt: skip
    parser.add_argument("--users", type=int, default=50, help="concurrent users")
    parser.add_argument("--spawn-rate", type=float, default=10.0)
    parser.add_argument("--think", default="2-6", help="seconds between pages, min-max")
    parser.add_argument("--duration", type=int, default=180, help="seconds of load")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=1, help="threads per gunicorn worker")
    parser.add_argument("--port", type=int, default=0, help="port to serve on (0: a free one)")
    parser.add_argument("--only", help="comma-separated roles to load (default all)")
    args = parser.parse_args(argv)
    args.segmentation_on = args.segmentation == "on" or (
        args.segmentation == "auto" and args.accounts <= 20_000
    )
    low, _, high = args.think.partition("-")
    args.think_range = (float(low), float(high or low))
    if args.database is None:
        default = (args.accounts, args.waybills) == (DEFAULT_ACCOUNTS, DEFAULT_WAYBILLS)
        args.database = (
            "kam_benchweb" if default else f"kam_benchweb_{args.accounts}_{args.waybills}"
        )
    return args


def environment(args: argparse.Namespace) -> dict[str, str]:
    data_dir = args.data_dir / args.database
    return {
        "DJANGO_SETTINGS_MODULE": "kam.settings",
        "KAM_DATABASE_URL": f"{args.server.rstrip('/')}/{args.database}",
        "KAM_DATA_DIR": str(data_dir),
        "KAM_LAKE_DIR": str(data_dir / "lake"),
        "KAM_LOG_LEVEL": "WARNING",
        # The segmentation run's alert e-mails would print on the console.
        "KAM_EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
    }


def admin_execute(args: argparse.Namespace, sql: str) -> Any:
    import psycopg

    with psycopg.connect(f"{args.server.rstrip('/')}/postgres", autocommit=True) as admin:
        cursor = admin.execute(sql)
        return cursor.fetchall() if cursor.description else None


def database_exists(args: argparse.Namespace) -> bool:
    return bool(admin_execute(args, f"SELECT 1 FROM pg_database WHERE datname = '{args.database}'"))  # noqa: S608 - our own database name


def drop(args: argparse.Namespace) -> None:
    admin_execute(args, f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
    shutil.rmtree(args.data_dir / args.database, ignore_errors=True)


def meta_of(args: argparse.Namespace) -> dict[str, Any] | None:
    """What the database holds (None: nothing finished), read before Django starts."""
    import psycopg

    from bench.web.dataset import META_TABLE

    with psycopg.connect(f"{args.server.rstrip('/')}/{args.database}") as con:
        if con.execute("SELECT to_regclass(%s)", [META_TABLE]).fetchone()[0] is None:
            return None
        row = con.execute(f"SELECT value FROM {META_TABLE} WHERE key = 'build'").fetchone()  # noqa: S608 - a constant name
    return row[0] if row else None


def main(argv: list[str] | None = None) -> None:
    from bench.web.dataset import BUILD_VERSION

    args = parse_args(argv)
    env = environment(args)
    data_dir = args.data_dir / args.database
    meta = None if args.rebuild or not database_exists(args) else meta_of(args)
    wanted = {"version": BUILD_VERSION, "accounts": args.accounts,
              "waybills": args.waybills, "per_role": args.per_role}  # fmt: skip
    if meta is not None and any(meta.get(k) != v for k, v in wanted.items()):
        sys.exit(
            f"database {args.database} holds another data set ({meta}); --rebuild or --database"
        )
    if meta is None:  # nothing, or a build that did not finish: start afresh
        drop(args)
        admin_execute(args, f'CREATE DATABASE "{args.database}"')
        data_dir.mkdir(parents=True, mode=0o700)
    os.environ.update(env)
    import django

    django.setup()
    from bench.web import dataset

    if meta is None:
        log(f"building {args.database}: {args.accounts:,} accounts, {args.waybills:,} waybills")
        started = time.perf_counter()
        meta = dataset.build(args, data_dir, env)
        meta["build_seconds"] = round(time.perf_counter() - started, 1)
        dataset.meta_write(meta)
        built_now = True
    else:
        from django.core.management import call_command

        log(f"reusing {args.database} (built {meta['built']}); migrating it to this code")
        call_command("migrate", verbosity=0, interactive=False)
        built_now = False
    try:
        if not args.build_only:
            results = load(args, env)
            report(args, meta, built_now, results)
    finally:
        from django.db import connections

        connections.close_all()
        if args.drop:
            drop(args)


# --- the plan: sessions and sample URLs per role -----------------------------------------------


def plan(args: argparse.Namespace) -> dict[str, Any]:
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from bench.web.dataset import ROLES, tier_bounds
    from kam.accounts.models import Account, Contact, CorporateGroup
    from kam.accounts.selectors import account_list_for
    from kam.core.models import User

    t1 = tier_bounds(args.accounts)[0]
    roles: dict[str, Any] = {}
    only = set(args.only.split(",")) if args.only else set(ROLES)
    for role in ROLES:
        users = list(User.objects.filter(username__startswith=f"bw_{role}_").order_by("pk"))
        sessions = []
        for user in users:
            store = SessionStore()
            store[SESSION_KEY] = str(user.pk)
            store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
            store[HASH_SESSION_KEY] = user.get_session_auth_hash()
            store.create()
            # What this user may open: a manager's sample is of their own accounts.
            visible = account_list_for(user)
            accounts = list(visible.order_by("?").values_list("pk", flat=True)[:100])
            tier1 = list(visible.filter(pk__lte=t1).order_by("?").values_list("pk", flat=True)[:30])
            contacts = list(
                Contact.objects.filter(account_id__in=accounts[:30]).values_list("pk", flat=True)[
                    :100
                ]
            )
            groups = list(
                CorporateGroup.objects.filter(accounts__in=Account.objects.filter(pk__in=accounts))
                .values_list("pk", flat=True)
                .distinct()[:30]
            )
            values = {
                "account": accounts, "tier1": tier1 or accounts[:10], "contact": contacts,
                "group": groups, "search": [str(n) for n in range(11, 100, 7)] + ["kehu1", "集团"],
            }  # fmt: skip
            sessions.append({"key": store.session_key, "values": values})
        pages = []
        for name, path, weight in PAGES:
            keys = [k for k in sessions[0]["values"] if "{" + k + "}" in path]
            if all(s["values"][k] for s in sessions for k in keys):
                pages.append([name, path, weight])
        roles[role] = {"sessions": sessions, "pages": pages, "user": users[0].username,
                       "weight": ROLE_WEIGHTS.get(role, 1) if role in only else 0}  # fmt: skip
    return {"roles": roles, "think": list(args.think_range), "cookie": settings.SESSION_COOKIE_NAME}


# --- serving and probing ----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(args: argparse.Namespace, env: dict[str, str], port: int, log_path: Path) -> Any:
    """``kam serve`` (gunicorn) in its own process group. The second factor is off for the
    served process (``KAM_TWO_FACTOR_ROLES=``): the bench's sessions are made directly."""
    served_env = {**os.environ, **env, "KAM_TWO_FACTOR_ROLES": ""}
    command = [str(Path(sys.executable).with_name("kam")), "serve", "--host", "127.0.0.1",
               "--port", str(port), "--workers", str(args.workers), "--no-worker"]  # fmt: skip
    if args.threads > 1:
        served_env["GUNICORN_CMD_ARGS"] = f"--threads {args.threads}"
    out = open(log_path, "w")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen(  # noqa: S603 - our own command
        command, env=served_env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
    )
    for _ in range(120):
        time.sleep(0.5)
        if process.poll() is not None:
            raise RuntimeError(f"kam serve exited ({process.returncode}); see {log_path}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2)  # noqa: S310
        except urllib.error.HTTPError:
            return process  # it answers (a redirect to the login page is followed)
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            continue
        return process
    stop(process)
    raise RuntimeError(f"kam serve did not answer; see {log_path}")


def stop(process: Any) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(process.pid, signal.SIGKILL)


def fill(path: str, values: dict[str, list[Any]], i: int) -> str:
    """``path`` with its placeholders filled by the ``i``-th (cyclic) of each value, quoted."""
    keys = [k for k in values if "{" + k + "}" in path]
    filled = path.format(**{k: values[k][i % len(values[k])] for k in keys})
    return urllib.parse.quote(filled, safe="/?=&-_")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def probe(
    base: str, the_plan: dict[str, Any], alone: dict[tuple[str, str], float]
) -> list[tuple[str, str, str]]:
    """Open each page :data:`ALONE_REPEAT` times per role, one request at a time (warming
    the workers; the median goes into ``alone``: the page's time without the load); drop
    the pages a role may not open. Returns (role, page, answer) of the dropped and the
    failing."""
    opener = urllib.request.build_opener(NoRedirect)
    notes = []
    for role, spec in the_plan["roles"].items():
        if not spec["weight"]:
            continue
        kept = []
        for name, path, weight in spec["pages"]:
            session = spec["sessions"][0]
            url = fill(path, session["values"], 0)
            request = urllib.request.Request(  # noqa: S310 - http to the server we started
                base + url, headers={"Cookie": f"{the_plan['cookie']}={session['key']}"}
            )
            times = []
            for _ in range(ALONE_REPEAT):
                started = time.perf_counter()
                try:
                    with opener.open(request, timeout=120) as response:
                        response.read()
                        status = response.status
                except urllib.error.HTTPError as exc:
                    status = exc.code
                except (urllib.error.URLError, http.client.HTTPException, OSError):
                    status = 0  # no answer (gunicorn restarts a worker stuck over --timeout)
                times.append(time.perf_counter() - started)
                if status != 200:
                    break
            alone[(role, name)] = sorted(times)[len(times) // 2] * 1000
            if status in (403, 404, 405):
                notes.append((role, name, f"{status}: not this role's page, left out"))
                continue
            if status != 200:
                notes.append((role, name, f"{status} on the probe (kept: counts as errors)"))
            kept.append([name, path, weight])
        spec["pages"] = kept
    return notes


def load(args: argparse.Namespace, env: dict[str, str]) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="bench_web_"))
    the_plan = plan(args)
    port = args.port or free_port()
    base = f"http://127.0.0.1:{port}"
    log(f"serving on {base} with {args.workers} gunicorn workers")
    server = serve(args, env, port, work / "serve.log")
    try:
        started = time.perf_counter()
        alone: dict[tuple[str, str], float] = {}
        notes = probe(base, the_plan, alone)
        log(f"probed every page once per role in {time.perf_counter() - started:.0f} s")
        (work / "plan.json").write_text(json.dumps(the_plan, ensure_ascii=False))
        command = [
            sys.executable, "-m", "locust", "-f", str(Path(__file__).with_name("locustfile.py")),
            "--headless", "--users", str(args.users), "--spawn-rate", str(args.spawn_rate),
            "--run-time", f"{args.duration}s", "--host", base, "--csv", str(work / "stats"),
            "--only-summary", "--loglevel", "WARNING", "--stop-timeout", "10",
        ]  # fmt: skip
        log(f"locust: {args.users} users, think {args.think} s, {args.duration} s")
        load_avg = os.getloadavg()[0]
        done = subprocess.run(  # noqa: S603 - our own command
            command, env={**os.environ, "BENCH_WEB_PLAN": str(work / "plan.json")},
            capture_output=True, text=True, check=False, cwd=ROOT,
        )  # fmt: skip
        if not (work / "stats_stats.csv").exists():
            raise RuntimeError(f"locust failed: {done.stderr[-2000:]}")
        with open(work / "stats_stats.csv", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        failures = []
        if (work / "stats_failures.csv").exists():
            with open(work / "stats_failures.csv", encoding="utf-8") as f:
                failures = list(csv.DictReader(f))
        return {"rows": rows, "failures": failures, "notes": notes, "work": work, "alone": alone,
                "load": (load_avg, os.getloadavg()[0]), "plan": the_plan}  # fmt: skip
    finally:
        stop(server)


# --- the report --------------------------------------------------------------------------------


def table(headers: list[str], rows: list[list[Any]]) -> str:
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join(" --- " for _ in headers) + "|"]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out)


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def report(
    args: argparse.Namespace, meta: dict[str, Any], built_now: bool, r: dict[str, Any]
) -> None:
    from bench.ledger.common import git

    head = git(ROOT, "rev-parse", "--short", "HEAD") or "?"
    dirty = git(ROOT, "--no-optional-locks", "diff", "--quiet", "HEAD", "--", "kam") is None
    counts = meta["counts"]
    print(f"# bench/web: {args.database} on {args.server}, git {head}"
          f"{' + uncommitted changes under kam/' if dirty else ''}\n")  # fmt: skip
    print(table(["data set", "rows"], [[k, f"{v:,}"] for k, v in counts.items()]))
    timings = ", ".join(f"{k} {v:.0f} s" for k, v in meta["timings"].items())
    rate = meta.get("import_rows_per_s")
    print(f"\nBuilt {meta['built']}{' (this run)' if built_now else ' (reused)'}: {timings}"
          f"{f', import {rate:,} rows/s' if rate else ''}.")  # fmt: skip
    print(f"Served by `kam serve` (gunicorn, {args.workers} workers x {args.threads} thread, "
          "DEBUG off) with KAM_TWO_FACTOR_ROLES= (no second factor: the bench's sessions are "
          "made directly in the session store). Row-level security on (managers and service "
          "reps run as kam_scoped).")  # fmt: skip
    print(f"Load: locust {version('locust')}, headless, {args.users} users "
          f"({', '.join(f'{k} {v}' for k, v in ROLE_WEIGHTS.items())} by weight), think "
          f"{args.think} s, {args.duration} s; load average {r['load'][0]:.1f} at the start, "
          f"{r['load'][1]:.1f} at the end ({os.cpu_count()} CPUs, shared with the server, "
          "PostgreSQL and locust).\n")  # fmt: skip
    rows = []
    overall = None
    for row in r["rows"]:
        if row["Name"] == "Aggregated":
            overall = row
            continue
        rows.append(summary_row(row, r["alone"]))
    rows.sort(key=lambda x: (x[0], x[1]))
    overall_row = summary_row(overall, {}) if overall else None
    headers = ["role", "page", "alone ms", "requests", "p50 ms", "p95 ms", "p99 ms", "errors",
               "p95 <= 300", "p99 <= 800", "errors < 0.1 %"]  # fmt: skip
    if overall_row:
        rows.append(["**all**", "**all pages**", "", *overall_row[3:]])
    print(table(headers, rows))
    missed = [x for x in rows if "MISS" in x[8:] and x[0] != "**all**"]
    print(f"\n{len(rows) - 1 - len(missed)} of {len(rows) - 1} role-pages meet every target "
          "under the load.")  # fmt: skip
    slow = sorted(((ms, role, page) for (role, page), ms in r["alone"].items()
                   if ms > TARGET_P95_MS), reverse=True)  # fmt: skip
    if slow:
        print("Slower than 300 ms even alone (one request at a time, before the load): "
              + "; ".join(f"{role} {page} {ms:.0f} ms" for ms, role, page in slow) + ".")  # fmt: skip
    if r["notes"]:
        print(
            "\nLeft out or failing on the probe (one request per role and page, before the load):\n"
        )
        print(table(["role", "page", "answer"], [list(n) for n in r["notes"]]))
    if r["failures"]:
        print("\nErrors during the load:\n")
        print(table(["request", "error", "count"],
                    [[f["Name"], f["Error"], f["Occurrences"]] for f in r["failures"]]))  # fmt: skip


def summary_row(row: dict[str, str], alone: dict[tuple[str, str], float]) -> list[Any]:
    role, _, page = row["Name"].partition(" | ")
    solo = alone.get((role, page))
    n = int(row["Request Count"])
    errors = int(row["Failure Count"])
    p50, p95, p99 = (
        float(row[k]) if row[k] not in ("", "N/A") else 0.0 for k in ("50%", "95%", "99%")
    )
    rate = errors / n if n else 0.0
    return [role, page, f"{solo:.0f}" if solo is not None else "", n, f"{p50:.0f}", f"{p95:.0f}", f"{p99:.0f}", f"{rate:.2%}",
            verdict(p95 <= TARGET_P95_MS), verdict(p99 <= TARGET_P99_MS),
            verdict(rate < TARGET_ERRORS)]  # fmt: skip


def version(package: str) -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as v

    try:
        return v(package)
    except PackageNotFoundError:
        return "?"
