"""Opportunities for solutions: the seeded catalogue, stage qualifiers, buying influences of
the same account only, findings of the same account only, won / lost with a reason, the
weighted pipeline and the API's access rules. Bad input is refused with nothing stored."""

import datetime
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from kam.accounts.models import Account, Contact
from kam.core.errors import ApplicationError, PermissionDeniedError
from kam.core.models import User
from kam.coverage import services as coverage
from kam.planning import selectors, services
from kam.planning.models import BuyingInfluence, Opportunity, Solution
from tests.conftest import assert_error

pytestmark = pytest.mark.django_db

D = Decimal
CLOSE = datetime.date(2026, 12, 31)


def message(exc: pytest.ExceptionInfo[ValidationError], field: str) -> str:
    return " ".join(exc.value.message_dict[field])


@pytest.fixture
def cold() -> Solution:
    return Solution.objects.get(code="cold-chain")


@pytest.fixture
def opp_a(account_a: Account, owner: User, cold: Solution, today: datetime.date) -> Opportunity:
    return services.opportunity_create(
        by=owner, account=account_a, solution=cold, owner=owner, annual_revenue=D("500000"),
        annual_margin=D("100000"), probability=20, expected_close=CLOSE,
    )  # fmt: skip


def finding_of(account: Account, by: User, today: datetime.date) -> Any:
    report = coverage.report_submit(
        by=by, account=account, visited_on=today, purpose="年度拜访", summary="客户提到冷链需求",
        findings=[{"kind": "opportunity", "severity": 2, "text": "客户需要冷链配送"}],
    )  # fmt: skip
    return report.findings.get()


def test_the_catalogue_is_seeded_and_directors_alone_edit_it(director: User, owner: User) -> None:
    codes = set(Solution.objects.values_list("code", flat=True))
    assert {"warehousing", "cod", "returns", "cold-chain", "same-city", "in-house"} <= codes
    assert len(codes) == 11
    with pytest.raises(PermissionDeniedError):
        services.solution_save(by=owner, code="x", name_zh="x", name_en="x")
    row = services.solution_save(by=director, code="customs", name_zh="清关", name_en="Customs")
    assert row.history.count() == 1
    with pytest.raises(ValidationError):
        services.solution_save(by=director, code="customs", name_zh="清关", name_en="Customs")


def test_bad_opportunities_are_refused_with_nothing_stored(
    account_a: Account, owner: User, cold: Solution, contact_b: Contact, colleague: User,
    account_b: Account, today: datetime.date,
) -> None:  # fmt: skip
    base: dict[str, Any] = dict(by=owner, account=account_a, solution=cold, owner=owner,
                                annual_revenue=D("1000"), expected_close=CLOSE)  # fmt: skip
    for p in (-1, 101):
        with pytest.raises(ValidationError) as exc:
            services.opportunity_create(**base, probability=p)
        assert "0 to 100" in message(exc, "probability")
    with pytest.raises(ValidationError) as exc:
        services.opportunity_create(**base, probability=10,
                                    influences=[(contact_b, "economic_buyer")])  # fmt: skip
    text = message(exc, "influences")
    assert "contact of this account" in text and contact_b.name not in text
    with pytest.raises(ValidationError) as exc:
        services.opportunity_create(**base, probability=10,
                                    finding=finding_of(account_b, colleague, today))  # fmt: skip
    assert "visit report on this account" in message(exc, "finding")
    assert "冷链" not in message(exc, "finding")
    assert not Opportunity.objects.exists() and not BuyingInfluence.objects.exists()


def test_from_a_finding_with_influences_of_the_same_account(
    account_a: Account, owner: User, cold: Solution, contact_a: Contact, today: datetime.date
) -> None:
    finding = finding_of(account_a, owner, today)
    opp = services.opportunity_create(
        by=owner, account=account_a, solution=cold, owner=owner, annual_revenue=D("1000"),
        probability=10, expected_close=CLOSE, finding=finding,
        influences=[(contact_a, "economic_buyer")],
    )  # fmt: skip
    assert opp.finding == finding
    assert list(opp.influences.values_list("contact", "role")) == [(contact_a.pk, "economic_buyer")]


def test_stages_advance_only_with_every_qualifier_answered_yes(
    opp_a: Opportunity, owner: User
) -> None:
    with pytest.raises(ValidationError) as exc:  # one qualifier unanswered
        services.opportunity_move(by=owner, opportunity=opp_a, stage="qualified",
                                  answers={"identified": {"need": True}})  # fmt: skip
    assert "answered yes" in message(exc, "qualifiers")
    with pytest.raises(ValidationError):  # answered no
        services.opportunity_move(by=owner, opportunity=opp_a, stage="qualified",
                                  answers={"identified": {"need": True, "contact": False}})  # fmt: skip
    with pytest.raises(ValidationError) as exc:  # skipping a stage without a reason
        services.opportunity_move(by=owner, opportunity=opp_a, stage="proposal",
                                  answers={"identified": {"need": True, "contact": True}})  # fmt: skip
    assert "skips a stage" in message(exc, "reason")
    opp_a.refresh_from_db()
    assert opp_a.stage == "identified" and opp_a.qualifiers == {}
    moved = services.opportunity_move(
        by=owner, opportunity=opp_a, stage="qualified",
        answers={"identified": {"need": True, "contact": True}},
    )  # fmt: skip
    assert moved.stage == "qualified"
    assert moved.qualifiers == {"identified": {"need": True, "contact": True}}
    skipped = services.opportunity_move(
        by=owner, opportunity=moved, stage="negotiation", reason="客户直接进入议价",
        answers={"qualified": {"budget": True, "decider": True, "timing": True}},
    )  # fmt: skip
    assert skipped.stage == "negotiation" and skipped.stage_reason == "客户直接进入议价"
    assert skipped.history.count() == 3


def test_won_or_lost_needs_a_reason_and_closes(opp_a: Opportunity, owner: User) -> None:
    for stage in ("won", "lost"):
        with pytest.raises(ValidationError) as exc:
            services.opportunity_move(by=owner, opportunity=opp_a, stage=stage, reason="  ")
        assert "won or lost" in message(exc, "reason")
    opp_a.refresh_from_db()
    assert opp_a.is_open and opp_a.closed_reason == ""
    lost = services.opportunity_move(by=owner, opportunity=opp_a, stage="lost",
                                     reason="价格高于竞争对手")  # fmt: skip
    assert lost.stage == "lost" and lost.probability == 0 and lost.closed_on is not None
    with pytest.raises(ApplicationError):
        services.opportunity_move(by=owner, opportunity=lost, stage="identified")


def test_weighted_pipeline_by_owner_tier_and_solution(
    opp_a: Opportunity, owner: User, director: User, account_a: Account
) -> None:
    services.opportunity_create(
        by=owner, account=account_a, solution=Solution.objects.get(code="cod"), owner=owner,
        annual_revenue=D("200000"), probability=50, expected_close=CLOSE,
    )  # fmt: skip
    by_solution = {
        r["label"]: r["weighted"] for r in selectors.weighted_pipeline(owner, "solution")
    }
    assert by_solution == {"Cold chain": D("100000.00"), "COD with fast remittance": D("100000.00")}
    by_owner = selectors.weighted_pipeline(director, "owner")
    assert [(r["key"], r["weighted"], r["count"]) for r in by_owner] == [
        (owner.pk, D("200000.00"), 2)
    ]
    by_tier = selectors.weighted_pipeline(owner, "tier")
    assert [(r["key"], r["revenue"]) for r in by_tier] == [(account_a.tier, D("700000.00"))]


def test_api_list_read_create_update_advance_with_the_access_rules(
    session_client: Callable[..., Any], opp_a: Opportunity, owner: User, colleague: User,
    analyst: User, account_a: Account, account_b: Account, contact_a: Contact,
    contact_b: Contact, cold: Solution,
) -> None:  # fmt: skip
    api = session_client(owner)
    listing = api.get("/planning/opportunities?stage=open&sort=-revenue").json()
    assert listing["count"] == 1 and listing["items"][0]["weighted_revenue"] == "100000.00"
    url = "/planning/opportunities"
    body = {"account": account_a.pk, "solution": cold.pk, "annual_revenue": "1000",
            "probability": 30, "expected_close": "2026-11-30",
            "influences": [{"contact": contact_a.pk, "role": "coach"}]}  # fmt: skip
    created = api.post(url, body)
    assert created.status_code == 201, created.content
    new_id = created.json()["id"]
    assert created.json()["influences"][0]["name"] == contact_a.name
    assert_error(api.post(url, {**body, "probability": 120}), 422, "probability")
    bad = assert_error(api.post(url, {**body, "influences": [
        {"contact": contact_b.pk, "role": "coach"}]}), 422, "influences")  # fmt: skip
    assert contact_b.name not in str(bad)
    assert api.post(url, {**body, "account": account_b.pk}).status_code == 404
    assert Opportunity.objects.count() == 2
    patched = api.patch(f"{url}/{new_id}", {"probability": 60, "competitors": "顺丰"})
    assert patched.status_code == 200 and patched.json()["probability"] == 60
    assert_error(api.patch(f"{url}/{new_id}", {"probability": -5}), 422, "probability")
    advance = f"{url}/{new_id}/advance"
    assert_error(api.post(advance, {"stage": "qualified"}), 422, "qualifiers")
    moved = api.post(advance, {"stage": "qualified",
                               "answers": {"identified": {"need": True, "contact": True}}})  # fmt: skip
    assert moved.status_code == 200 and moved.json()["stage"] == "qualified"
    assert_error(api.post(advance, {"stage": "won"}), 422, "reason")
    # Another team's manager: 404 on every route; an analyst reads without contact names.
    other = session_client(colleague)
    assert other.get(f"{url}/{new_id}").status_code == 404
    assert other.patch(f"{url}/{new_id}", {"probability": 1}).status_code == 404
    assert other.post(advance, {"stage": "proposal"}).status_code == 404
    assert other.get(url).json()["count"] == 0
    reader = session_client(analyst)
    seen = reader.get(f"{url}/{new_id}")
    assert seen.status_code == 200
    assert seen.json()["influences"] == [{"contact": None, "name": "", "role": "coach"}]
    assert reader.patch(f"{url}/{new_id}", {"probability": 1}).status_code == 403
    assert Opportunity.objects.get(pk=new_id).probability == 60


# --- pages ------------------------------------------------------------------------------------


def test_pages_list_board_detail_move_and_pipeline(
    client: Any, opp_a: Opportunity, owner: User, colleague: User, analyst: User,
    director: User, contact_a: Contact, contact_b: Contact,
) -> None:  # fmt: skip
    client.force_login(owner)
    listing = client.get("/planning/opportunities/?stage=open&sort=-revenue")
    assert listing.status_code == 200 and opp_a.account.name in listing.content.decode()
    empty = client.get("/planning/opportunities/?stage=won")
    assert 'id="opportunity-empty"' in empty.content.decode()
    assert client.get("/planning/opportunities/board/").status_code == 200
    assert client.get("/planning/opportunities/pipeline/").status_code == 200
    url = f"/planning/opportunities/{opp_a.pk}/"
    assert client.get(url).status_code == 200
    # A contact of another account as an influence: refused on the page, nothing stored.
    form = {"solution": opp_a.solution_id, "annual_revenue": "500000", "probability": "20",
            "expected_close": "2026-12-31", "influence_contact": [str(contact_b.pk)],
            "influence_role": ["coach"]}  # fmt: skip
    page = client.post(url, form)
    assert page.status_code == 200 and contact_b.name not in page.content.decode()
    assert "采购影响人必须是本客户的联系人" in page.content.decode()  # the page's language
    assert not BuyingInfluence.objects.exists()
    page = client.post(url, {**form, "probability": "150", "influence_contact": []})
    assert "成功概率为 0 到 100 之间的百分比" in page.content.decode()
    opp_a.refresh_from_db()
    assert opp_a.probability == 20
    # The board's move: unanswered qualifiers refused; answered on the page, it moves.
    client.post(f"{url}move/", {"stage": "qualified", "next": "board"})
    opp_a.refresh_from_db()
    assert opp_a.stage == "identified"
    client.post(f"{url}move/", {"stage": "qualified", "answered": "identified",
                                "q:identified:need": "on", "q:identified:contact": "on"})  # fmt: skip
    opp_a.refresh_from_db()
    assert opp_a.stage == "qualified"
    client.force_login(colleague)
    assert client.get(url).status_code == 404
    assert client.post(f"{url}move/", {"stage": "lost", "reason": "x"}).status_code == 404
    client.force_login(analyst)
    assert client.get(url).status_code == 200
    assert client.post(f"{url}move/", {"stage": "lost", "reason": "x"}).status_code == 403
    client.force_login(owner)
    assert client.post("/planning/solutions/", {"code": "x", "name_zh": "x", "name_en": "x",
                                                "position": 1}).status_code == 403  # fmt: skip
    client.force_login(director)
    client.post("/planning/solutions/", {"code": "customs", "name_zh": "清关",
                                         "name_en": "Customs", "position": 5, "active": "on"})  # fmt: skip
    assert Solution.objects.filter(code="customs", active=True).exists()
