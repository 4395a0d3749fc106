"""Personal data is encrypted at rest: read the database behind the ORM's back.

The raw SQL checks and the byte-level check run on SQLite and on PostgreSQL: the bytes
are SQLite's serialized database, or PostgreSQL's heap files after a checkpoint.
"""

import datetime
from pathlib import Path

import pytest
from django.db import connection

from kam.accounts import services
from kam.accounts.models import Account, Contact
from kam.core.models import User

pytestmark = pytest.mark.django_db

SECRETS = {
    "phone_mobile": "13987654321",
    "phone_office": "0591-83306677",
    "email": "chen.meiling@secret-mail.example",
    "wechat": "meiling_wx_2026",
    "hobbies": "周末去武夷山徒步",
    "family": "丈夫在海关工作",
    "goals": "成为集团副总裁",
    "birthday": datetime.date(1979, 11, 23),
}
PLAIN_VALUES = [str(v) for v in SECRETS.values()]
NAME = "陈美玲"


@pytest.fixture
def stored(account_a: Account, owner: User) -> Contact:
    """A contact written and edited through the services, so history rows exist too."""
    contact = services.contact_create(by=owner, account=account_a, data={"name": NAME, **SECRETS})
    services.contact_update(
        by=owner, contact=contact, data={"title": "物流总监", "habits": "只喝普洱"}, version=1
    )
    return contact


def select_all(table: str) -> tuple[list[str], list[tuple]]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608 (fixed names)
        columns = [c[0] for c in cursor.description]
        return columns, cursor.fetchall()


def as_text(rows: list[tuple]) -> str:
    return "\n".join(" | ".join(str(value) for value in row) for row in rows)


def test_the_contact_table_holds_no_personal_value_in_plain_text(stored: Contact) -> None:
    columns, rows = select_all("accounts_contact")
    dump = as_text(rows)
    assert NAME in dump  # the check sees plain columns, so it would see a leak
    for value in [*PLAIN_VALUES, "只喝普洱"]:
        assert value not in dump, value
    row = dict(zip(columns, rows[-1], strict=True))
    for field in ("phone_mobile", "email", "wechat", "hobbies", "birthday", "habits"):
        assert row[field].startswith("gAAAAA"), field  # a Fernet token


def test_the_contact_history_has_no_personal_columns_or_values(stored: Contact) -> None:
    columns, rows = select_all("accounts_historicalcontact")
    assert len(rows) == 2
    assert set(columns).isdisjoint({*Contact.DETAIL_FIELDS, *Contact.PERSONAL_FIELDS})
    dump = as_text(rows)
    assert NAME in dump
    for value in [*PLAIN_VALUES, "只喝普洱"]:
        assert value not in dump, value


def test_the_access_log_records_field_names_not_values(
    stored: Contact, owner: User, session_client
) -> None:
    assert session_client(owner).get(f"/contacts/{stored.pk}").status_code == 200
    _, rows = select_all("core_accesslog")
    assert len(rows) == 3  # two edits and one view
    dump = as_text(rows)
    assert "hobbies" in dump
    for value in PLAIN_VALUES:
        assert value not in dump, value


def database_bytes(tables: list[str]) -> bytes:
    """The bytes the database keeps for ``tables``, as they are (or would be) on disk."""
    connection.ensure_connection()
    if connection.vendor == "sqlite":
        # sqlite3_serialize: the whole database as it would be written to disk, including
        # this test's uncommitted rows (the test database may live in memory).
        data = connection.connection.serialize()
        name = connection.settings_dict["NAME"]
        if isinstance(name, str | Path) and Path(name).is_file():
            data += Path(name).read_bytes()
        return data
    assert connection.vendor == "postgresql", connection.vendor
    chunks = []
    with connection.cursor() as cursor:
        # Write dirty pages (uncommitted rows too) to the heap files, then read the files.
        # Both need a superuser, as in CI (postgres@127.0.0.1, trust auth).
        cursor.execute("CHECKPOINT")
        for table in tables:
            cursor.execute("SELECT pg_read_binary_file(pg_relation_filepath(%s))", [table])
            chunks.append(bytes(cursor.fetchone()[0]))
    return b"".join(chunks)


def test_the_database_files_hold_no_personal_value(stored: Contact) -> None:
    data = database_bytes(["accounts_contact", "accounts_historicalcontact"])
    assert NAME.encode() in data  # the bytes hold the rows the test wrote
    for value in [*PLAIN_VALUES, "只喝普洱"]:
        assert value.encode() not in data, value
