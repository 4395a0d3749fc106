"""A person with something in every app, for the privacy tests (export, erasure): built
through each app's services, as real use leaves it."""

import datetime
from dataclasses import dataclass

from django.db import connection
from django.test import Client
from django.utils import timezone

from kam.accounts import services as archive
from kam.accounts.models import Account, ConsentRecord, Contact, LawfulBasis
from kam.accounts.privacy.names import json_escaped
from kam.core.models import User
from kam.core.notify import notify
from kam.coverage import services as coverage
from kam.coverage.models import VisitReport
from kam.service import services as service
from kam.service import surveys
from kam.service.models import Case, Response
from tests.factories import ContactFactory, ContactTieFactory, StaffTieFactory

#: Distinctive enough that no fixture or seed data holds it by chance.
NAME = "欧阳震华"


@dataclass
class World:
    person: Contact
    colleague: Contact  # at the same account; their social ties mention the person
    report: VisitReport
    case: Case
    response: Response


def build(*, account: Account, owner: User, service_rep: User, department: User) -> World:
    """``NAME`` at ``account`` with ties, a lawful basis, a correction, a visit report they
    attended (whose summary, finding and follow-up quote them), a service case about them
    with a note, a survey invitation answered with a low score (which opens a follow-up
    case and notifies its assignee), a notification and the access-log rows of being
    viewed on the page and through the API."""
    person = ContactFactory(account=account, name=NAME, title="物流总监")
    colleague = ContactFactory(
        account=account, name="司马青", social_ties=f"与{NAME}是大学同学", family="已婚"
    )
    ContactTieFactory(from_contact=person, to_contact=colleague, note=f"{NAME}的老同事")
    StaffTieFactory(contact=person, user=owner, note=f"常与{NAME}打球")
    ConsentRecord.objects.create(
        contact=person, basis=LawfulBasis.CONSENT, purpose="维护业务联系",
        obtained_on=datetime.date(2026, 1, 5), evidence=f"{NAME}签署的同意书 2026-01",
        recorded_by=owner,
    )  # fmt: skip
    archive.contact_update(
        by=owner, contact=person, data={"phone_mobile": "13900001111"}, version=None,
        requested_by_person=True, reason=f"{NAME}要求更正手机号",
    )  # fmt: skip
    today = timezone.localdate()
    report = coverage.report_submit(
        by=owner, account=account, visited_on=today, purpose=f"拜访{NAME}",
        summary=f"{NAME}表示明年扩大华南仓配；{NAME}的上级也在场。", contacts=[person],
        findings=[{"kind": "need", "severity": 2, "text": f"{NAME}需要冷链方案"}],
        follow_ups=[{"title": f"给{NAME}发送报价", "owner": owner,
                     "due_date": today + datetime.timedelta(days=3)}],
    )  # fmt: skip
    case = service.case_open(
        by=owner, account=account, kind="complaint", channel="phone", severity="medium",
        subject=f"{NAME}投诉延误", description=f"{NAME}来电说整批货物延误两天。",
        contacts=[person], assignee=service_rep,
    )  # fmt: skip
    service.case_note(by=service_rep, case=case, text=f"已回电{NAME}，约定明天回复。")
    campaign = surveys.campaign_create(
        by=department, name="满意度调查", template=surveys.template_default(),
        expires_at=datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=14),
    )  # fmt: skip
    issued, _without = surveys.campaign_issue(campaign, now=datetime.datetime.now(datetime.UTC))
    token = next(t for inv, t in issued if inv.contact_id == person.pk)
    dims = [d["key"] for d in campaign.template.dimensions]
    response = surveys.response_submit(
        token=token, ratings=dict.fromkeys(dims, 1), nps=2, comment=f"我是{NAME}，服务太慢。"
    )
    notify([owner], subject=f"请联系{NAME}", body=f"{NAME}下周来访。", email=False)
    web = Client()
    web.force_login(owner)
    assert web.get(f"/contacts/{person.pk}/").status_code == 200
    assert web.get(f"/api/v1/contacts/{person.pk}").status_code == 200
    return World(person, colleague, report, case, response)


def tables_holding(text: str) -> dict[str, int]:
    """Rows per ``table.column`` whose text holds ``text`` (also as JSON escapes), over every
    text, character and JSON column of every table, found with the database's introspection."""
    found: dict[str, int] = {}
    needles = [text, json_escaped(text)]
    quote = connection.ops.quote_name
    find = "INSTR({col}, %s) > 0" if connection.vendor == "sqlite" else "STRPOS({col}, %s) > 0"
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            for column in connection.introspection.get_table_description(cursor, table):
                kind = connection.introspection.get_field_type(column.type_code, column)
                if kind not in ("CharField", "TextField", "JSONField"):
                    continue
                as_text = f"CAST({quote(column.name)} AS TEXT)"
                where = " OR ".join(find.format(col=as_text) for _ in needles)
                cursor.execute(f"SELECT COUNT(*) FROM {quote(table)} WHERE {where}", needles)  # noqa: S608
                count = cursor.fetchone()[0]
                if count:
                    found[f"{table}.{column.name}"] = count
    return found


def columns_scanned() -> int:
    """How many columns :func:`tables_holding` looks at (the scan must not be empty)."""
    n = 0
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            for column in connection.introspection.get_table_description(cursor, table):
                kind = connection.introspection.get_field_type(column.type_code, column)
                n += kind in ("CharField", "TextField", "JSONField")
    return n
