"""Analysts see visit reports but not the contacts who attended (the access matrix found
the report page naming them)."""

import pytest
from django.test import Client

from kam.accounts.models import Contact
from kam.coverage.models import VisitReport

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("who", ["owner", "director", "analyst"])
def test_the_report_page_names_attendees_only_to_those_who_see_contacts(
    who: str, report: VisitReport, contact_a: Contact, request: pytest.FixtureRequest
) -> None:
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(request.getfixturevalue(who))
    page = client.get(f"/coverage/reports/{report.pk}/")
    assert page.status_code == 200
    assert (contact_a.name in page.content.decode()) is (who != "analyst")
    assert report.summary in page.content.decode()
