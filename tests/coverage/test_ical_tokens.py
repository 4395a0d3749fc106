"""Issue 13: iCalendar feed secrets are stored as hashes (like API and survey tokens); the
link is shown once, when made; existing links keep working through the migration."""

import hashlib
import re
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from icalendar import Calendar

from kam.core.models import User
from kam.coverage import services
from kam.coverage.models import FeedToken, Visit, feed_token_hash
from tests.coverage.test_views import client_for, post

pytestmark = pytest.mark.django_db

RENEW = "/coverage/calendar/renew-link/"


def _link(page: str) -> str:
    match = re.search(
        r'id="ical-url" value="[^"]*/coverage/ical/([^"/]+)\.ics"', page
    ) or re.search(r'value="[^"]*/coverage/ical/([^"/]+)\.ics"[^>]*id="ical-url"', page)
    assert match, "no calendar link on the page"
    return match.group(1)


def test_only_a_hash_of_the_secret_is_stored(owner: User) -> None:
    feed, plain = services.feed_token_renew(user=owner)
    assert feed.token_hash == hashlib.sha256(plain.encode()).hexdigest()
    stored = FeedToken.objects.values_list(*[f.attname for f in FeedToken._meta.concrete_fields])
    assert not any(plain in str(value) for row in stored for value in row)
    assert services.feed_user(plain) == owner
    assert services.feed_user(feed.token_hash) is None  # the hash is no key to the feed


def test_the_link_is_shown_once_when_made_and_then_works_without_a_session(
    visit: Visit, owner: User
) -> None:
    client = client_for(owner)
    page = client.get("/coverage/calendar/").content.decode()
    assert 'id="ical-renew"' in page and "/coverage/ical/" not in page  # none made yet
    assert not FeedToken.objects.exists()
    made = post(client, RENEW, {})
    assert made.status_code == 200 and "no-store" in made["Cache-Control"]
    plain = _link(made.content.decode())
    assert "cannot show it again" in made.content.decode()
    # The calendar page now says when the link was made, never the link itself.
    page = client.get("/coverage/calendar/").content.decode()
    assert plain not in page and 'id="ical-made"' in page
    feed = Client().get(f"/coverage/ical/{plain}.ics")
    assert feed.status_code == 200 and feed["Content-Type"].startswith("text/calendar")
    events = list(Calendar.from_ical(feed.content).walk("VEVENT"))
    assert [str(e["summary"]) for e in events] == [visit.account.name]


def test_a_new_link_replaces_the_old_one(owner: User) -> None:
    client = client_for(owner)
    old = _link(post(client, RENEW, {}).content.decode())
    again = post(client, RENEW, {}).content.decode()
    new = _link(again)
    assert new != old and 'id="ical-replaced"' in again
    assert Client().get(f"/coverage/ical/{old}.ics").status_code == 404
    assert Client().get(f"/coverage/ical/{new}.ics").status_code == 200
    assert FeedToken.objects.filter(user=owner).count() == 1


@pytest.mark.parametrize("token", ["wrong-token", "a" * 64])
def test_an_unknown_link_is_404(owner: User, token: str) -> None:
    services.feed_token_renew(user=owner)
    assert Client().get(f"/coverage/ical/{token}.ics").status_code == 404


def test_an_inactive_users_link_is_404(owner: User) -> None:
    _feed, plain = services.feed_token_renew(user=owner)
    owner.is_active = False
    owner.save()
    assert Client().get(f"/coverage/ical/{plain}.ics").status_code == 404


def test_making_a_link_needs_a_login_and_customer_data(admin: User) -> None:
    assert post(client_for(None), RENEW, {}).status_code == 302  # to the login page
    assert post(client_for(admin), RENEW, {}).status_code == 404
    assert not FeedToken.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_migration_hashes_existing_links_in_place(owner: User) -> None:
    """A phone subscribed before the upgrade keeps its feed."""
    before = [("coverage", "0001_visits_reports_follow_ups")]
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes("coverage")
    try:
        executor.migrate(before)
        executor.loader.build_graph()
        old_model: Any = executor.loader.project_state(before).apps.get_model(
            "coverage", "FeedToken"
        )
        old_model.objects.create(user_id=owner.pk, token="plain-secret-of-2025")
        executor.migrate(latest)
    finally:
        # Every app back to its latest migration (going back to coverage 0001 took the
        # apps built on coverage with it), with what ``migrate`` does after (policies).
        call_command("migrate", verbosity=0)
    assert FeedToken.objects.get().token_hash == feed_token_hash("plain-secret-of-2025")
    assert services.feed_user("plain-secret-of-2025") == owner
    assert Client().get("/coverage/ical/plain-secret-of-2025.ics").status_code == 200
