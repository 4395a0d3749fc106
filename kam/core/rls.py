"""The second wall: PostgreSQL row-level security behind the application's access rule.

The first wall is :func:`kam.accounts.selectors.account_list_for`: every view starts from
it. This module makes a view that forgets it read nothing foreign anyway, on PostgreSQL:

* Every table whose rows belong to an account carries a policy (:func:`scoped_tables`
  finds them from the models: a foreign key to ``accounts.Account``, or to a model that has
  one, and the simple-history tables of those). The policies apply to one NOLOGIN role
  (``settings.RLS_ROLE``, ``kam_scoped``): a row is visible when its account's team has
  the user named by the per-transaction setting ``kam.user_id``. Unset means nothing.
* :class:`RowLevelSecurityMiddleware` runs each web request in one transaction. For a
  manager or service rep it switches to that role (``set_config('role', ..., true)`` is
  ``SET LOCAL ROLE``) and names the user; for an administrator or an anonymous request it
  switches to the role with no user; roles that see every account stay on the login
  role. :func:`scope_to` re-scopes a request that authenticates later (an API token, a
  calendar feed's secret link).
* The login role, which owns the tables and runs migrations, is the bypass: background
  jobs and management commands run as it. Inside a scoped request the bypass is
  explicit: :func:`bypass` (a context manager), :func:`unscoped` (a view decorator, for
  public pages whose secret link is the credential), the admin site, and jobs that the
  immediate task backend runs inside the request.
* :func:`install` (after every ``kam migrate``) creates or checks the role, grants it the
  tables, and (re)creates the policies; :func:`check_row_level_security` makes ``kam
  check`` and ``kam serve`` fail when the role is missing or would not be held by them.

SQLite has no such wall: there everything here is a no-op and the application rule
stands alone. The wall is against forgotten filters, not against SQL injection: code that
can run arbitrary SQL can also ``RESET ROLE``.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar

from django.apps import apps
from django.conf import settings
from django.core import checks
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import ForeignKey, Lookup, Model
from django.http import FileResponse, HttpRequest, HttpResponseBase, StreamingHttpResponse
from django.utils.translation import gettext as _
from django_tasks.signals import task_finished, task_started

from kam.core import access
from kam.core.models import User

log = logging.getLogger(__name__)

#: The model every scoped row leads to, and the team table that says who sees which.
ACCOUNT_MODEL = "accounts.Account"
TEAM_MODEL = "accounts.TeamMembership"

#: Models with a path to an account that carry no policy, each with the reviewed reason.
#: A test fails when a model with such a path is neither covered nor listed here.
EXCLUDED: dict[str, str] = {
    TEAM_MODEL: (
        "The policies read it to find a user's accounts; a policy on it would recurse. "
        "It holds ids and team roles only: the names are in walled tables."
    ),
}

#: Models whose rows without an account belong to everyone who works with accounts: the
#: policy lets a row by when its account column is empty, else by the team as usual.
SHARED_WHEN_EMPTY: dict[str, str] = {
    "pricing.RateCard": (
        "The standard (list) card prices every account and has no account; a corporate "
        "group's card has none either (the application shows it to those who see one of "
        "the group's accounts). An account's own card stays behind the wall."
    ),
}

#: Paths to an account that are not foreign keys: model -> (column, target model, target
#: column). The facts name their billing code, whose row names the account.
LOOKUPS: dict[str, tuple[str, str, str]] = {
    "ledger.AccountMonth": ("billing_code", "accounts.BillingCode", "code"),
}

POLICY = "kam_account_scope"
USER_SETTING = "kam.user_id"
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class Scope(StrEnum):
    """What a request may read: every account (as the login role), the user's teams'
    (under the policies), or nothing (under the policies, with no user)."""

    ALL = "all"
    TEAM = "team"
    NONE = "none"


def scope_for(user: object) -> Scope:
    """The wall's view of ``account_list_for``: the same role facts, as a setting."""
    if not isinstance(user, User) or not user.is_active or not access.sees_customer_data(user):
        return Scope.NONE
    return Scope.ALL if access.sees_all_accounts(user) else Scope.TEAM


def role_name() -> str:
    return str(getattr(settings, "RLS_ROLE", "kam_scoped"))


def enabled(using: str = DEFAULT_DB_ALIAS) -> bool:
    """The wall exists on PostgreSQL only."""
    return bool(connections[using].vendor == "postgresql")


# --- which tables ------------------------------------------------------------------------


@dataclass(frozen=True)
class Path:
    """One way from a row to an account: ``column`` holds the account's id (``target`` is
    None), or references ``target_column`` of the scoped table ``target``."""

    column: str
    target: str | None = None
    target_column: str = "id"
    shared_when_empty: bool = False  # a NULL ``column`` is everyone's (SHARED_WHEN_EMPTY)


@dataclass(frozen=True)
class ScopedTable:
    label: str
    table: str
    paths: tuple[Path, ...]


def _history_of(model: type[Model]) -> type[Model] | None:
    """The tracked model of a simple-history table (its rows copy the tracked columns)."""
    instance_type = getattr(model, "instance_type", None)
    if instance_type is not None and hasattr(model, "history_id"):
        return instance_type  # type: ignore[no-any-return]
    return None


def _direct_paths(model: type[Model], account: type[Model]) -> list[Path]:
    paths = []
    if model is account or _history_of(model) is account:
        # The account's own id (a history row keeps it in ``id``, without a foreign key).
        paths.append(Path(account._meta.pk.column))
    tracked = _history_of(model) or model
    shared = tracked._meta.label in SHARED_WHEN_EMPTY
    paths.extend(
        Path(f.column, shared_when_empty=shared)
        for f in model._meta.concrete_fields
        if isinstance(f, ForeignKey) and f.related_model is account
    )
    return paths


def _paths(excluded: Iterable[str]) -> dict[type[Model], tuple[Path, ...]]:
    account = apps.get_model(ACCOUNT_MODEL)
    excluded = set(excluded)
    models = [m for m in apps.get_models(include_auto_created=True) if not m._meta.proxy]
    paths: dict[type[Model], tuple[Path, ...]] = {}
    for m in models:
        direct = _direct_paths(m, account)
        if direct:
            paths[m] = tuple(direct)
    # Indirect paths, shortest first: in each round, foreign keys (and lookups) to models
    # that had a path before the round. Never through an excluded model: without a policy
    # it would let every row by.
    while True:
        known = dict(paths)
        for m in models:
            if m in known:
                continue
            via = [
                Path(f.column, f.related_model._meta.db_table, f.target_field.column)
                for f in m._meta.concrete_fields
                if isinstance(f, ForeignKey)
                and f.related_model is not m
                and f.related_model in known
                and f.related_model._meta.label not in excluded
            ]
            lookup = LOOKUPS.get(m._meta.label)
            if lookup and apps.get_model(lookup[1]) in known and lookup[1] not in excluded:
                via.append(Path(lookup[0], apps.get_model(lookup[1])._meta.db_table, lookup[2]))
            if via:
                paths[m] = tuple(via)
        if len(paths) == len(known):
            break
    return paths


def scoped_tables() -> list[ScopedTable]:
    """Every model whose rows belong to an account, with its paths to one.

    A model with a direct path (its own account column) uses that alone; otherwise its
    foreign keys to the scoped models nearest to an account are its paths, and any one of
    them makes a row visible: a tie between a manager's contact and someone else's is seen
    (and deleted with the contact) by that manager. Models listed in :data:`EXCLUDED` are
    left out.
    """
    return sorted(
        (
            ScopedTable(m._meta.label, m._meta.db_table, p)
            for m, p in _paths(EXCLUDED).items()
            if m._meta.label not in EXCLUDED
        ),
        key=lambda t: t.table,
    )


def accountable_models() -> set[str]:
    """Labels of every model with a path to an account, ignoring :data:`EXCLUDED` (what
    the test compares the covered and the excluded models with)."""
    return {m._meta.label for m in _paths(())}


# --- the policies ------------------------------------------------------------------------


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def policy_sql(table: ScopedTable) -> str:
    """The USING / WITH CHECK expression of one table's policy.

    A direct path compares with the user's team accounts (an uncorrelated subquery: one
    hashed lookup per statement); an indirect one asks whether the parent row is visible,
    by its key (an index probe per row, under the parent's own policy), so a statement
    that reads a few child rows never scans the parents. The setting is read once per
    statement (an InitPlan), not per row. Unset or empty, it matches no team: nothing.

    The planner charges each probe of a parent the building of the parent's hashed set of
    team accounts; read from the team table's (user, role, account) index alone, that set
    is cheap enough that it probes. (Read from the table, its estimate made PostgreSQL
    hash every visible parent instead: a few contacts' ties read all 492,000 contacts of
    bench/web, 0.3 s a statement.)
    """
    team_table = apps.get_model(TEAM_MODEL)._meta.db_table
    user = f"(SELECT NULLIF(current_setting('{USER_SETTING}', true), '')::bigint)"
    # Identifiers from the models' metadata, quoted; no value from outside.
    team = f"SELECT account_id FROM {_q(team_table)} WHERE user_id = {user}"  # noqa: S608
    arms = []
    for p in table.paths:
        if p.target is None and p.shared_when_empty:
            arms.append(f"({_q(p.column)} IS NULL OR {_q(p.column)} IN ({team}))")
        elif p.target is None:
            arms.append(f"{_q(p.column)} IN ({team})")
        else:
            arms.append(
                f"EXISTS (SELECT 1 FROM {_q(p.target)} parent "  # noqa: S608 - idem
                f"WHERE parent.{_q(p.target_column)} = {_q(table.table)}.{_q(p.column)})"
            )
    return " OR ".join(arms)


@dataclass
class InstallReport:
    role_created: bool = False
    policies_created: list[str] = field(default_factory=list)
    policies_kept: list[str] = field(default_factory=list)
    policies_dropped: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _savepoint_try(connection: BaseDatabaseWrapper, sql: str) -> str | None:
    """Run one statement that may lack privileges; the error text, or None when it ran."""
    try:
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            cursor.execute(sql)
    except DatabaseError as exc:
        return str(exc).strip()
    return None


def _switch_error(connection: BaseDatabaseWrapper, role: str) -> str | None:
    """Why the login role cannot ``SET ROLE`` to ``role``, or None when it can."""
    try:
        with transaction.atomic(using=connection.alias):
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('role', %s, true)", [role])
            transaction.set_rollback(True, using=connection.alias)
    except DatabaseError as exc:
        return str(exc).strip()
    return None


def install(using: str = DEFAULT_DB_ALIAS) -> InstallReport:
    """Create (or check) the role, grant it the tables, and put every policy in place.

    Idempotent: a policy whose expression has not changed is left alone (its comment holds
    a hash of the expression), so a ``kam migrate`` that changes nothing takes no locks.
    """
    report = InstallReport()
    connection = connections[using]
    if connection.vendor != "postgresql":
        return report
    role = role_name()
    if not _IDENTIFIER.match(role):
        report.problems.append(f"KAM_RLS_ROLE={role!r} is not a plain lower-case identifier.")
        return report
    existing_tables = set(connection.introspection.table_names())
    tables = [t for t in scoped_tables() if t.table in existing_tables]
    with transaction.atomic(using=using), connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        if cursor.fetchone() is None:
            error = _savepoint_try(connection, f"CREATE ROLE {_q(role)} NOLOGIN")
            # Roles belong to the whole server: another database's migration (a second
            # KAM, a parallel test worker) may have created it since the check.
            cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
            if error and cursor.fetchone() is None:
                report.problems.append(f"cannot create role {role}: {error}")
                return report
            report.role_created = not error
        if _switch_error(connection, role) is not None:
            error = _savepoint_try(connection, f"GRANT {_q(role)} TO CURRENT_USER")
            if error:
                report.problems.append(f"cannot grant role {role} to the login role: {error}")
        cursor.execute("SELECT current_schema()")
        schema = cursor.fetchone()[0]
        cursor.execute(f"GRANT USAGE ON SCHEMA {_q(schema)} TO {_q(role)}")
        model_tables = sorted(
            connection.introspection.django_table_names(only_existing=True, include_views=False)
        )
        cursor.execute(
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON {', '.join(map(_q, model_tables))} "
            f"TO {_q(role)}"
        )
        cursor.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {_q(schema)} TO {_q(role)}")

        cursor.execute(
            """SELECT c.relname, CASE WHEN c.relrowsecurity
                   THEN obj_description(p.oid, 'pg_policy') END
               FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid
               WHERE p.polname = %s AND c.relnamespace = current_schema()::regnamespace""",
            [POLICY],
        )
        current = dict(cursor.fetchall())  # table -> stamp (None if RLS is off)
        wanted = {t.table for t in tables}
        for table in tables:
            expression = policy_sql(table)
            stamp = "kam:" + hashlib.sha256(f"{role}\n{expression}".encode()).hexdigest()[:16]
            name = _q(table.table)
            if current.get(table.table) == stamp:
                report.policies_kept.append(table.table)
                continue
            cursor.execute(f"ALTER TABLE {name} ENABLE ROW LEVEL SECURITY")
            cursor.execute(f"DROP POLICY IF EXISTS {POLICY} ON {name}")
            cursor.execute(
                f"CREATE POLICY {POLICY} ON {name} TO {_q(role)} "
                f"USING ({expression}) WITH CHECK ({expression})"
            )
            cursor.execute(f"COMMENT ON POLICY {POLICY} ON {name} IS '{stamp}'")
            report.policies_created.append(table.table)
        for stale in sorted(set(current) - wanted):
            # A table that no longer leads to an account (or is now excluded).
            cursor.execute(f"DROP POLICY {POLICY} ON {_q(stale)}")
            cursor.execute(
                "SELECT count(*) FROM pg_policy WHERE polrelid = %s::regclass", [_q(stale)]
            )
            if cursor.fetchone()[0] == 0:
                cursor.execute(f"ALTER TABLE {_q(stale)} DISABLE ROW LEVEL SECURITY")
            report.policies_dropped.append(stale)
    return report


def install_after_migrate(sender: Any, using: str = DEFAULT_DB_ALIAS, **kwargs: Any) -> None:
    """``post_migrate`` receiver (connected for the core app, which migrate signals after
    every app's migrations have run)."""
    if not enabled(using):
        return
    report = install(using)
    verbosity = int(kwargs.get("verbosity", 1))
    for problem in report.problems:
        log.error("row-level security: %s", problem)
    if verbosity >= 1 and (report.policies_created or report.policies_dropped or report.problems):
        line = _(
            "Row-level security policies: %(created)d (re)created, %(kept)d unchanged, "
            "%(dropped)d dropped."
        ) % {
            "created": len(report.policies_created),
            "kept": len(report.policies_kept),
            "dropped": len(report.policies_dropped),
        }
        if report.problems:
            line += " " + _("Problems: %(count)d (see `kam check`).") % {
                "count": len(report.problems)
            }
        print("  " + line)


# --- the scoped transaction --------------------------------------------------------------


@dataclass(frozen=True)
class _Settings:
    """What is written: the role ("none" is the login role), the user, and JIT (off under
    the policies: their per-row subqueries make the planner's cost estimates large enough
    to trigger JIT compilation that takes longer than the query)."""

    role: str
    user_id: str
    jit: str


@dataclass
class _Frame:
    now: _Settings | None  # None: the login role, as the connection had it
    owns_transaction: bool  # the frame opened the transaction (and may roll it back)
    outer: _Settings | None = None  # what was in force before the frame's first write
    saved: list[_Settings | None] = field(default_factory=list)  # under a job or bypass
    #: The team's account ids of the user in force, read with the settings (None: not
    #: read, or a team membership changed since): see :func:`team_account_ids`.
    team_ids: list[int] | None = None

    @property
    def team_keys(self) -> Keys | None:
        """The ids as one :class:`Keys` (made once per read of the ids)."""
        if self.team_ids is None:
            return None
        if self._keys is None or self._keys.ids is not self.team_ids:
            self._keys = Keys(self.team_ids)
        return self._keys

    _keys: Keys | None = None


_local = threading.local()


def _frames() -> list[_Frame]:
    frames: list[_Frame] = _local.__dict__.setdefault("frames", [])
    return frames


def active(using: str = DEFAULT_DB_ALIAS) -> bool:
    """Whether the current code runs inside a request's (or :func:`scoped`'s) transaction."""
    return using == DEFAULT_DB_ALIAS and bool(_frames())


def _write(
    connection: BaseDatabaseWrapper, values: _Settings
) -> tuple[_Settings, list[int] | None]:
    """Put ``values`` in force; the settings that were, read in the same statement, and
    the named user's team accounts (None when no user is named).

    ``set_config(..., true)`` is ``SET LOCAL``: it ends with the transaction (or with a
    savepoint that is rolled back), so a pooled connection never carries one request's
    scope into the next. The select list is evaluated left to right: the old values are
    read before the new ones are set (one statement, so a request pays one query). The
    team's ids come with them (an index-only read of the team table, which carries no
    policy), so a request's queries can name its accounts by key: see
    :func:`team_account_ids`.
    """
    team_table = apps.get_model(TEAM_MODEL)._meta.db_table
    ids = (
        f"ARRAY(SELECT account_id FROM {_q(team_table)} WHERE user_id = %s::bigint)"  # noqa: S608 - a model's table
        if values.user_id
        else "NULL"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('role'), coalesce(current_setting(%s, true), ''), "
            "current_setting('jit'), set_config('role', %s, true), "
            f"set_config(%s, %s, true), set_config('jit', %s, true), {ids}",
            [USER_SETTING, values.role, USER_SETTING, values.user_id, values.jit]
            + ([values.user_id] if values.user_id else []),
        )
        role, user_id, jit, _r, _u, _j, team = cursor.fetchone()
    return _Settings(role, user_id, jit), team


def _settings_for(user: object) -> _Settings | None:
    """None for the roles that see every account: nothing is foreign to them, so they
    run as the login role and the planner sees their queries without any policy."""
    scope = scope_for(user)
    if scope is Scope.ALL:
        return None
    user_id = str(getattr(user, "pk", "")) if scope is Scope.TEAM else ""
    return _Settings(role_name(), user_id, "off")


def _login() -> _Settings | None:
    """The login role's settings, as read before the first write; None if nothing was
    written (then they are still in force)."""
    return next((f.outer for f in _frames() if f.outer is not None), None)


def _set(frame: _Frame, values: _Settings | None, *, failed: bool = False) -> None:
    """Put ``values`` (None: the login role) in force for ``frame``.

    On an error path (``failed``) the transaction may be aborted; then nothing more can
    be read in it, so there is nothing to protect, and the original error is the one to
    report. Where the enclosing block will roll back, that undoes the settings anyway.
    """
    frame.now = values
    connection = connections[DEFAULT_DB_ALIAS]
    target = values if values is not None else _login()
    if target is None or connection.needs_rollback:
        return
    try:
        previous, team = _write(connection, target)
    except DatabaseError:
        if not failed:
            raise
        return
    frame.team_ids = team if values is not None else None
    if frame.outer is None:
        frame.outer = previous


@contextmanager
def _applied(values: _Settings | None, using: str = DEFAULT_DB_ALIAS) -> Iterator[_Frame]:
    """The block under ``values``, in a transaction.

    Outside a transaction this opens one, and its end undoes the settings. Inside one (a
    caller's ``atomic``; every test) the caller owns commit and rollback: the settings are
    set, and what was in force before is written back afterwards.
    """
    connection = connections[using]
    nested = connection.in_atomic_block
    with transaction.atomic(using=using) if not nested else nullcontext():
        frame = _Frame(None, owns_transaction=not nested)
        _frames().append(frame)
        failed = True
        try:
            _set(frame, values)
            yield frame
            failed = False
        finally:
            _frames().pop()
            if nested and frame.outer is not None:
                _set(frame, frame.outer, failed=failed)


@contextmanager
def scoped(user: object, using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """Run the block in a transaction that sees what ``user`` may see, and no more.

    What the middleware does for a request; a job or command acting for one user may use
    it too. A no-op on SQLite.
    """
    if not enabled(using) or using != DEFAULT_DB_ALIAS:
        yield
        return
    with _applied(_settings_for(user), using):
        yield


def scope_to(user: object) -> None:
    """Re-scope the running transaction to ``user``: for a request that authenticates
    after the middleware (an API token, a calendar feed's secret link). A no-op outside
    one (SQLite, commands, jobs)."""
    if active():
        _set(_frames()[-1], _settings_for(user))


def team_account_ids(user: object) -> Keys | None:
    """The ids of ``user``'s team accounts when the running transaction is scoped to that
    user and read them with its settings; None otherwise (SQLite, a command, a job, a
    bypass, another user, or a team membership saved or deleted since).

    Why: under the policies PostgreSQL cannot know how many rows a user's team leaves
    (it guesses half), so a manager's page that filters by ``account IN (their team)``
    scanned every visit of 100,000 accounts. Named by key, the accounts' rows are read by
    index (bench/web: a manager's visit list 364 -> 7 ms). The policies still hold: the
    ids only narrow what the application asks for.
    """
    if not active():
        return None
    frame = _frames()[-1]
    if (
        frame.now is None
        or frame.team_ids is None
        or frame.now.user_id != str(getattr(user, "pk", ""))
    ):
        return None
    return frame.team_keys


class Keys:
    """Ids for a ``__kam_any`` lookup, held in one object: a list given to ``filter()``
    is walked element by element for expressions (3.7 ms for a manager's 2,700 account
    ids, seven times a page)."""

    __slots__ = ("_literal", "ids")

    def __init__(self, ids: list[int]) -> None:
        self.ids = ids
        self._literal: str | None = None

    @property
    def literal(self) -> str:
        """The ids as one array literal, ``{1,2,3}``, made once: psycopg dumping a list of
        2,700 ints took 4 ms a statement, ten statements a page."""
        if self._literal is None:
            self._literal = "{" + ",".join(str(int(i)) for i in self.ids) + "}"
        return self._literal


class AnyKey(Lookup):  # type: ignore[misc]
    """``field__kam_any=[ids]``: ``field = ANY((SELECT %s)::bigint[])``, the ids as one
    array parameter behind a sub-select. An ``IN (...)`` list of a manager's 2,700 account
    ids made PostgreSQL estimate each id against the column's statistics: 18-24 ms of
    planning per query on bench/web. Behind the sub-select the array is a parameter: the
    planner assumes a short list, so it reads the rows by index (what a team's share
    wants), and plans in a fraction of a millisecond. PostgreSQL only (the ids only exist
    there); elsewhere an ``IN`` list."""

    lookup_name = "kam_any"
    prepare_rhs = False

    def as_sql(self, compiler: Any, connection: BaseDatabaseWrapper) -> tuple[str, list[Any]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        keys = self.rhs if isinstance(self.rhs, Keys) else Keys([int(v) for v in self.rhs])
        ids = keys.ids
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY((SELECT %s::bigint[])::bigint[])", [*lhs_params, keys.literal]
        if not ids:
            return "1 = 0", []
        return f"{lhs} IN ({', '.join(['%s'] * len(ids))})", [*lhs_params, *ids]


def team_changed(sender: Any, **kwargs: Any) -> None:
    """A team membership was saved or deleted: the ids read with the settings may be
    stale, so every open frame forgets them (its queries fall back to the team join)."""
    for frame in _frames():
        frame.team_ids = None


def _enter_bypass() -> None:
    frame = _frames()[-1]
    frame.saved.append(frame.now)
    _set(frame, None)


def _leave_bypass(failed: bool) -> None:
    frame = _frames()[-1]
    _set(frame, frame.saved.pop(), failed=failed)


@contextmanager
def bypass() -> Iterator[None]:
    """Run the block as the login role (no policies) inside a scoped request.

    For work that legitimately reads across accounts on a user's behalf: keep the block
    small and say why beside it. A no-op outside a scoped transaction, where the login
    role is in force already.
    """
    if not active():
        yield
        return
    _enter_bypass()
    failed = True
    try:
        yield
        failed = False
    finally:
        _leave_bypass(failed)


_View = TypeVar("_View", bound=Callable[..., Any])


def unscoped(view: _View) -> _View:
    """Mark a view that runs under the bypass: a public page whose secret link is the
    credential and which looks its one record up itself (a survey invitation)."""
    view.kam_rls_bypass = True  # type: ignore[attr-defined]
    return view


def _job_started(sender: Any, **kwargs: Any) -> None:
    """Jobs run under the bypass: one that the immediate backend runs inside a request
    (the tests; ``KAM_TASK_BACKEND`` set to it) as much as one in ``kam worker``."""
    if active():
        _enter_bypass()


def _job_finished(sender: Any, **kwargs: Any) -> None:
    # Raises if the job left the transaction broken: the request fails rather than going
    # on as the login role.
    if active() and _frames()[-1].saved:
        _leave_bypass(failed=False)


task_started.connect(_job_started, dispatch_uid="kam-rls-job-started")
task_finished.connect(_job_finished, dispatch_uid="kam-rls-job-finished")


# --- the middleware ----------------------------------------------------------------------


def _scoped_stream(
    content: Iterable[bytes], values: _Settings | None, using: str
) -> Iterator[bytes]:
    """A streaming body is read after the middleware has returned: read it inside a
    scoped transaction of its own, under the request's final settings."""
    with _applied(values, using):
        yield from content


def _requester(request: HttpRequest) -> object:
    """The user the request acts for; nobody while the session still owes its second
    factor (the gate lets such a session reach the API, which refuses it)."""
    from kam.core import twofactor

    user = request.user
    if user.is_authenticated and twofactor.needs_verification(request):
        return None
    return user


class RowLevelSecurityMiddleware:
    """One transaction per request under the user's scope (PostgreSQL; a no-op elsewhere).

    Placed after the authentication middleware. The admin site and views marked
    :func:`unscoped` switch to the bypass. A server error (an exception turned into a 5xx
    answer) rolls the whole request back, as Django's ``ATOMIC_REQUESTS`` would; the
    decision waits for the answer, because the error pages themselves read the database
    (a 404 page's navigation), which a transaction already marked for rollback refuses.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        using = DEFAULT_DB_ALIAS
        if not enabled(using):
            return self.get_response(request)
        with _applied(_settings_for(_requester(request)), using) as frame:
            response = self.get_response(request)
            if response.status_code >= 500 and frame.owns_transaction:
                transaction.set_rollback(True, using=using)
            final = frame.now
        if isinstance(response, StreamingHttpResponse) and not (
            isinstance(response, FileResponse) and response.file_to_stream is not None
        ):
            response.streaming_content = _scoped_stream(response.streaming_content, final, using)
        return response

    def process_view(
        self, request: HttpRequest, view: Callable[..., Any], args: Any, kwargs: Any
    ) -> None:
        if not active():
            return
        match = request.resolver_match
        admin_site = match is not None and match.namespace == "admin"
        user = _requester(request)
        staff = access.is_active_user(user) and getattr(user, "is_staff", False)
        if getattr(view, "kam_rls_bypass", False) or (admin_site and staff):
            # The admin site shows configuration only, but deleting a user must reach the
            # rows that name them: it runs as the login role, as the commands do (until the
            # request ends, which undoes the frame's settings).
            _enter_bypass()


# --- checks ------------------------------------------------------------------------------


def _migrations_pending(connection: BaseDatabaseWrapper) -> bool:
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    return bool(executor.migration_plan(executor.loader.graph.leaf_nodes()))


def _wall_problems(connection: BaseDatabaseWrapper, role: str) -> list[tuple[str, str, str]]:
    """(id, message, hint) for each way the wall is not up."""
    login = _("<KAM's login role>")
    hint = _(
        "As a database administrator: CREATE ROLE %(role)s NOLOGIN; GRANT %(role)s TO "
        "%(login)s; then run `kam migrate` (docs/operations.md, Databases)."
    ) % {"role": role, "login": login}
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = %s", [role])
        row = cursor.fetchone()
        if row is None:
            return [
                (
                    "E102",
                    _("The database role %(role)s for row-level security does not exist.")
                    % {"role": role},
                    hint,
                )
            ]
        problems = []
        if row[0] or row[1]:
            problems.append(
                (
                    "E103",
                    _(
                        "The database role %(role)s is a superuser or has BYPASSRLS: "
                        "the policies would not apply to it."
                    )
                    % {"role": role},
                    f"ALTER ROLE {role} NOSUPERUSER NOBYPASSRLS;",
                )
            )
        switch_error = _switch_error(connection, role)
        if switch_error is not None:
            problems.append(
                (
                    "E104",
                    _("KAM's login role cannot switch to %(role)s: %(error)s")
                    % {"role": role, "error": switch_error},
                    f"GRANT {role} TO {login};",
                )
            )
        cursor.execute(
            """SELECT c.relname FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid
               WHERE p.polname = %s AND c.relrowsecurity
               AND c.relnamespace = current_schema()::regnamespace""",
            [POLICY],
        )
        with_policy = {r[0] for r in cursor.fetchall()}
        existing = set(connection.introspection.table_names(cursor))
    missing = [
        t.table for t in scoped_tables() if t.table in existing and t.table not in with_policy
    ]
    if missing:
        problems.append(
            (
                "E106",
                _("Tables without their row-level security policy: %(tables)s.")
                % {"tables": ", ".join(missing)},
                _("Run `kam migrate`, which installs the policies."),
            )
        )
    return problems


def check_row_level_security(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """``kam check`` / ``kam serve``: on PostgreSQL the role must exist, be one the login
    role can switch to, be subject to policies, and every scoped table must have its
    policy; otherwise KAM refuses to start rather than serve without the wall.

    While migrations are pending (a new database, an upgrade) the same findings are
    warnings: ``kam migrate``, which runs this check first, is what puts the wall up.
    """
    connection = connections[DEFAULT_DB_ALIAS]
    if connection.vendor != "postgresql":
        return []
    role = role_name()
    if not _IDENTIFIER.match(role):
        return [
            checks.Error(
                _("KAM_RLS_ROLE=%(value)s is not a plain lower-case identifier.")
                % {"value": repr(role)},
                id="kam.E101",
            )
        ]
    try:
        problems = _wall_problems(connection, role)
        pending = bool(problems) and _migrations_pending(connection)
    except DatabaseError as exc:
        return [
            checks.Warning(
                _("Row-level security could not be checked: %(error)s") % {"error": exc},
                id="kam.W105",
            )
        ]
    if pending:
        return [
            checks.Warning(
                _("%(problem)s `kam migrate` will set it up.") % {"problem": message},
                hint=hint,
                id=f"kam.W{n[1:]}",
            )
            for n, message, hint in problems
        ]
    return [checks.Error(message, hint=hint, id=f"kam.{n}") for n, message, hint in problems]


def check_superuser(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """``kam check --deploy``: a superuser login bypasses every policy."""
    connection = connections[DEFAULT_DB_ALIAS]
    if connection.vendor != "postgresql":
        return []
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            row = cursor.fetchone()
    except DatabaseError:
        return []  # reported by check_row_level_security
    if row and row[0]:
        return [
            checks.Warning(
                _("KAM connects to PostgreSQL as a superuser."),
                hint=_("Connect as the role that owns KAM's tables, without SUPERUSER."),
                id="kam.W107",
            )
        ]
    return []
