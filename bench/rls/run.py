"""The row-level security benchmark: what the second wall costs a manager's queries.

A fresh PostgreSQL database (created, migrated, so the policies are installed, and
dropped at the end) gets a synthetic archive: ``--accounts`` accounts, ``--managers``
managers each owning an equal share, ``--contacts`` contacts, ``--visits`` visits with a
report on half of them and a finding on every report. Then the same SQL runs twice:
as the login role with the manager's filter written out (the baseline, what the
application rule alone costs), and under the wall (``SET LOCAL ROLE kam_scoped`` with the
manager's id, the policies added by PostgreSQL); once more under the wall with JIT on, to
show why the wall turns it off. Best of ``--repeat`` runs each.

Two of the queries forget the selector: they read a whole table, and under the wall get
the manager's rows only; their baseline is the whole table as the login role.

``python -m bench.rls`` (20,000 accounts, 600,000 visits) or ``--small`` for a quick run.
Needs PostgreSQL: ``--server postgresql://postgres@127.0.0.1:5432`` (a role that may
create databases; the default).
"""

import argparse
import os
import sys
import time
import uuid
from collections.abc import Callable
from contextlib import nullcontext
from typing import Any

QUERIES: list[tuple[str, str, str]] = [
    # (name, SQL under the wall, baseline SQL: the same with the application's filter)
    (
        "an account's contacts (account page)",
        "SELECT id, name FROM accounts_contact WHERE account_id = %(account)s "
        "ORDER BY name LIMIT 50",
        "SELECT id, name FROM accounts_contact WHERE account_id = %(account)s "
        "ORDER BY name LIMIT 50",
    ),
    (
        "a report's findings (two levels down)",
        "SELECT * FROM coverage_finding WHERE report_id = %(report)s",
        "SELECT * FROM coverage_finding WHERE report_id = %(report)s",
    ),
    (
        "the manager's latest 50 findings (selector)",
        "SELECT f.* FROM coverage_finding f JOIN coverage_visitreport r ON r.id = f.report_id "
        "JOIN coverage_visit v ON v.id = r.visit_id WHERE v.account_id IN (SELECT account_id "
        "FROM accounts_teammembership WHERE user_id = %(user)s) ORDER BY f.id DESC LIMIT 50",
        "SELECT f.* FROM coverage_finding f JOIN coverage_visitreport r ON r.id = f.report_id "
        "JOIN coverage_visit v ON v.id = r.visit_id WHERE v.account_id IN (SELECT account_id "
        "FROM accounts_teammembership WHERE user_id = %(user)s) ORDER BY f.id DESC LIMIT 50",
    ),
    (
        "the manager's visits in one quarter (selector)",
        "SELECT v.* FROM coverage_visit v WHERE v.person_id = %(user)s "
        "AND v.day BETWEEN '2024-01-01' AND '2024-03-31' ORDER BY v.day",
        "SELECT v.* FROM coverage_visit v WHERE v.person_id = %(user)s "
        "AND v.day BETWEEN '2024-01-01' AND '2024-03-31' ORDER BY v.day",
    ),
    (
        "all contacts, selector forgotten",
        "SELECT count(*) FROM accounts_contact",
        "SELECT count(*) FROM accounts_contact",
    ),
    (
        "all findings, selector forgotten",
        "SELECT count(*) FROM coverage_finding",
        "SELECT count(*) FROM coverage_finding",
    ),
]

SYNTHETIC = """
INSERT INTO core_user (password, is_superuser, username, first_name, last_name, email,
    is_staff, is_active, date_joined, role, display_name, phone)
SELECT '!', false, 'bench' || g, '', '', '', false, true, now(), 'manager', '经理' || g, ''
FROM generate_series(1, %(managers)s) g;
INSERT INTO accounts_account (name, name_en, legal_representative, main_products,
    profit_status, province_code, city_code, address, is_economic, is_group, is_strategic,
    is_important, is_potential, stage, coverage_model, status, notes, search_pinyin, version,
    created_at, updated_at, tier)
SELECT '客户' || g, 'Customer ' || g, '', '', 'unknown', '350000', '350100', '', false,
    false, false, false, false, 'basic', 'direct', 'active', '', '', 1, now(), now(), 3
FROM generate_series(1, %(accounts)s) g;
INSERT INTO accounts_teammembership (role, created_at, account_id, user_id)
SELECT 'owner', now(), a.id, u.id
FROM (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM accounts_account) a
JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM core_user
      WHERE username LIKE 'bench%%') u ON a.n %% %(managers)s = u.n;
INSERT INTO accounts_contact (name, title, department, phone_mobile, phone_office, email,
    wechat, birthday, family, hobbies, habits, social_ties, work_duties, performance, goals,
    buying_role, attitude, influence, closeness, trust, favour, version, created_at,
    updated_at, account_id)
SELECT '联系人' || g, '', '', '', '', '', '', '', '', '', '', '', '', '', '', 'user',
    'neutral', 'medium', 3, 3, 3, 1, now(), now(),
    (SELECT min(id) FROM accounts_account) + g %% %(accounts)s
FROM generate_series(1, %(contacts)s) g;
INSERT INTO coverage_visit (day, city_code, executive, priority, status, version, created_at,
    account_id, person_id)
SELECT date '2024-01-01' + g %% 700, '350100', false, false, 'done', 1, now(), t.account_id,
    t.user_id
FROM generate_series(1, %(visits)s) g
JOIN accounts_teammembership t
  ON t.id = (SELECT min(id) FROM accounts_teammembership) + g %% %(accounts)s;
INSERT INTO coverage_visitreport (purpose, summary, status, submitted_at, submitted_by_id,
    visit_id)
SELECT '季度回顾', '', 'submitted', now(), person_id, id FROM coverage_visit
WHERE (id / %(accounts)s) %% 2 = 0;  -- every second round over the accounts
INSERT INTO coverage_finding (kind, severity, text, report_id)
SELECT 'need', 2, '需要冷链', id FROM coverage_visitreport;
"""


def best(run: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - started)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--accounts", type=int, default=20_000)
    parser.add_argument("--managers", type=int, default=400)
    parser.add_argument("--contacts", type=int, default=200_000)
    parser.add_argument("--visits", type=int, default=600_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--small", action="store_true", help="a tenth of every size")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    args = parser.parse_args()
    if args.small:
        for name in ("accounts", "managers", "contacts", "visits"):
            setattr(args, name, max(1, getattr(args, name) // 10))

    import psycopg

    name = f"kam_bench_rls_{uuid.uuid4().hex[:8]}"
    server = args.server.rstrip("/")
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    os.environ["KAM_DATABASE_URL"] = f"{server}/{name}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kam.settings")
    try:
        run(args, name)
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}"')


def run(args: argparse.Namespace, name: str) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    from kam.core import rls
    from kam.core.models import User

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    sizes = {k: getattr(args, k) for k in ("accounts", "managers", "contacts", "visits")}
    with connection.cursor() as cursor:
        cursor.execute(SYNTHETIC, sizes)
        cursor.execute("ANALYZE")
        cursor.execute("SELECT count(*) FROM coverage_finding")
        findings = cursor.fetchone()[0]
    setup = time.perf_counter() - started

    manager = User.objects.filter(username__startswith="bench").order_by("pk")[7]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT t.account_id, min(r.id) FROM accounts_teammembership t "
            "JOIN coverage_visit v ON v.account_id = t.account_id "
            "JOIN coverage_visitreport r ON r.visit_id = v.id WHERE t.user_id = %s "
            "GROUP BY t.account_id ORDER BY t.account_id LIMIT 1",
            [manager.pk],
        )
        account, report = cursor.fetchone()
    params = {"account": account, "report": report, "user": manager.pk}

    def measure(sql: str, *, wall: bool, jit: str = "off", repeat: int) -> tuple[float, int]:
        """Best time of the query alone, inside one transaction under the scope (the
        statement that sets the scope is timed apart: once per request)."""
        with transaction.atomic(), rls.scoped(manager) if wall else nullcontext():
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('jit', %s, true)", [jit])

                def go() -> int:
                    cursor.execute(sql, params)
                    rows = cursor.fetchall()
                    return int(rows[0][0]) if sql.startswith("SELECT count") else len(rows)

                result = best(go, repeat)
            transaction.set_rollback(True)
        return result

    def scope_once() -> None:
        with transaction.atomic(), rls.scoped(manager):
            transaction.set_rollback(True)

    def empty_transaction() -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            transaction.set_rollback(True)

    print("# Row-level security benchmark (issue 13)\n")
    print(f"{args.accounts:,} accounts, {args.managers:,} managers (each on "
          f"{args.accounts // args.managers:,} accounts' teams), {args.contacts:,} contacts, "
          f"{args.visits:,} visits, {findings:,} reports and findings; PostgreSQL "
          f"{connection.pg_version // 10000}; set-up {setup:.0f} s (not measured). "
          f"Best of {args.repeat}.\n")  # fmt: skip
    print("| query | rows (login role) | rows (wall) | login role | wall | ratio | wall, JIT on |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for title, walled, baseline in QUERIES:
        base_time, base_rows = measure(baseline, wall=False, repeat=args.repeat)
        wall_time, wall_rows = measure(walled, wall=True, repeat=args.repeat)
        jit_time, _ = measure(walled, wall=True, jit="on", repeat=max(1, args.repeat // 2))
        print(f"| {title} | {base_rows:,} | {wall_rows:,} | {base_time * 1000:.2f} ms | "
              f"{wall_time * 1000:.2f} ms | {wall_time / base_time:.1f}x | "
              f"{jit_time * 1000:.2f} ms |")  # fmt: skip
    scope_time, _ = best(scope_once, args.repeat * 4)
    plain_time, _ = best(empty_transaction, args.repeat * 4)
    print(
        f"\nOnce per request: a transaction that sets the manager's scope "
        f"{scope_time * 1000:.2f} ms, one with a plain statement {plain_time * 1000:.2f} ms."
    )
    print(f"database {name} " + ("kept" if args.keep else "dropped"))
    sys.stdout.flush()
