"""The migration that moved the free-text consent note into lawful-basis records, both ways
(on PostgreSQL too: data and schema changes in one migration)."""

import datetime

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("accounts", "0003_seed_industries")]
AFTER = [("accounts", "0004_contact_privacy")]


@pytest.mark.django_db(transaction=True)
def test_consent_notes_become_records_and_back() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    try:
        old = executor.loader.project_state(BEFORE).apps
        account = old.get_model("accounts", "Account").objects.create(name="迁移测试有限公司")
        Contact = old.get_model("accounts", "Contact")
        written = Contact.objects.create(
            account=account, name="甲", consent_note="2024-05-06 签署同意书"
        )
        contract = Contact.objects.create(account=account, name="乙",
                                          consent_note="履行物流服务合同所必需")  # fmt: skip
        Contact.objects.create(account=account, name="丙", consent_note="")

        executor = MigrationExecutor(connection)
        executor.migrate(AFTER)
        new = executor.loader.project_state(AFTER).apps
        Record = new.get_model("accounts", "ConsentRecord")
        records = {r.contact_id: r for r in Record.objects.all()}
        assert set(records) == {written.pk, contract.pk}
        first = records[written.pk]
        assert (first.basis, first.obtained_on, first.evidence) == (
            "consent", datetime.date(2024, 5, 6), "2024-05-06 签署同意书",
        )  # fmt: skip
        assert "请核对" in first.purpose
        assert records[contract.pk].basis == "contract"
        history = new.get_model("accounts", "HistoricalConsentRecord").objects.all()
        assert {h.id for h in history} == {first.pk, records[contract.pk].pk}

        executor = MigrationExecutor(connection)
        executor.migrate(BEFORE)
        back = executor.loader.project_state(BEFORE).apps.get_model("accounts", "Contact")
        assert back.objects.get(pk=written.pk).consent_note == "2024-05-06 签署同意书"
        assert back.objects.get(name="丙").consent_note == ""
    finally:
        # Every app back to its latest migration, with what ``migrate`` does after.
        call_command("migrate", verbosity=0)
