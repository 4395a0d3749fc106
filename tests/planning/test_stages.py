"""Relationship stages: versioned entry criteria, evaluation from data (share of wallet,
products, won solutions, executive sponsor, years of business) with the rest confirmed by
a person, proposals (command, page, API) accepted or overridden with a reason, the stage
history with time in stage, the transition matrix per period; skipping a stage without a
reason is refused and nothing changes."""

import datetime
from collections.abc import Callable
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import Client

from kam.accounts.models import Account, TeamRole
from kam.core.errors import ApplicationError, PermissionDeniedError
from kam.core.models import User
from kam.planning import stages, wallet
from kam.planning.models import StageChange, StageCriteria, StageProposal
from tests.conftest import assert_error
from tests.factories import TeamMembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

D = Decimal


def client_for(user: User, language: str = "en") -> Client:
    client = Client(headers={"Accept-Language": language})
    client.force_login(user)
    return client


def message(exc: pytest.ExceptionInfo[ValidationError], field: str) -> str:
    return " ".join(exc.value.message_dict[field])


def stage_of(account: Account) -> str:
    return Account.objects.values_list("stage", flat=True).get(pk=account.pk)


@pytest.fixture
def evidence_a(owner: User, account_a: Account, facts_a: None, today: datetime.date) -> None:
    """account_a (cooperative): 24 months of one product, our share 40 % of its wallet."""
    wallet.estimate_add(by=owner, account=account_a, total_spend=D("300000"), source="customer",
                        confidence="high")  # fmt: skip


def test_evaluation_reads_the_data_and_leaves_the_rest_to_a_person(
    account_a: Account, evidence_a: None, today: datetime.date
) -> None:
    facts = stages.facts_for([account_a.pk], today=today)[account_a.pk]
    assert facts.share == 40.0 and facts.products == 1 and facts.solutions == 0
    assert facts.executive_sponsor is False and facts.years == 2.0
    # cooperative needs 2 products: the data say one step down, with the evidence.
    target, evidence = stages.evaluate("cooperative", facts, stages.DEFAULT_CRITERIA)
    assert target == "basic"
    assert {"stage": "cooperative", "criterion": "min_products", "required": 2, "value": 1,
            "met": False} in evidence  # fmt: skip
    # With one product enough, interdependent waits on a sponsor (known: no) and so stays.
    criteria = {**stages.DEFAULT_CRITERIA, "cooperative": {"min_share": 15},
                "interdependent": {"min_share": 35, "min_contract_months": 12}}  # fmt: skip
    target, evidence = stages.evaluate("cooperative", facts, criteria)
    assert target == "interdependent"
    unknown = [e for e in evidence if e["met"] is None]
    assert [e["criterion"] for e in unknown] == ["min_contract_months"]


def test_criteria_are_versioned_and_directors_alone_edit_them(
    director: User, owner: User, today: datetime.date
) -> None:
    with pytest.raises(PermissionDeniedError):
        stages.criteria_set(by=owner, criteria=stages.DEFAULT_CRITERIA)
    first = stages.criteria_set(by=director, criteria=stages.DEFAULT_CRITERIA, note="初版")
    changed = {**stages.DEFAULT_CRITERIA, "basic": {"min_products": 1, "min_share": "5"}}
    second = stages.criteria_set(by=director, criteria=changed, note="初级要求份额")
    assert (first.version, second.version) == (1, 2)
    assert second.criteria["basic"] == {"min_products": 1, "min_share": 5.0}
    assert StageCriteria.objects.count() == 2 and stages.current_criteria() == second
    with pytest.raises(ApplicationError):
        stages.criteria_set(by=director, criteria=changed)
    with pytest.raises(ValidationError) as exc:
        stages.criteria_set(by=director, criteria={"basic": {"min_share": "150"}})
    assert "from 0 to 100" in message(exc, "basic")
    assert StageCriteria.objects.count() == 2


def test_a_proposal_from_the_data_is_accepted_by_the_owner_with_history(
    owner: User, account_a: Account, evidence_a: None, today: datetime.date
) -> None:
    proposal = stages.proposal_create(by=owner, account=account_a)
    assert (proposal.from_stage, proposal.to_stage) == ("cooperative", "basic")
    assert proposal.criteria.version == 1  # the version it was evaluated with
    with pytest.raises(ApplicationError):
        stages.proposal_create(by=owner, account=account_a, to_stage="interdependent")
    stages.proposal_decide(by=owner, proposal=proposal, accept=True)
    assert stage_of(account_a) == "basic"
    change = StageChange.objects.get()
    assert (change.from_stage, change.to_stage, change.on, change.proposal_id) == (
        "cooperative", "basic", today, proposal.pk)  # fmt: skip
    assert account_a.history.filter(stage="basic", history_user=owner).exists()
    proposal.refresh_from_db()
    assert proposal.status == "accepted" and proposal.decided_by == owner
    with pytest.raises(ApplicationError):
        stages.proposal_decide(by=owner, proposal=proposal, accept=True)


def test_criteria_without_data_must_be_confirmed_or_the_proposal_overridden_with_a_reason(
    owner: User, department: User, service_rep: User, account_a: Account, evidence_a: None,
    today: datetime.date,
) -> None:  # fmt: skip
    proposal = stages.proposal_create(by=owner, account=account_a, to_stage="interdependent")
    with pytest.raises(PermissionDeniedError):
        stages.proposal_decide(by=service_rep, proposal=proposal, accept=True)
    with pytest.raises(ValidationError) as exc:
        stages.proposal_decide(by=department, proposal=proposal, accept=True)
    assert "Contract term" in message(exc, "confirmed")
    with pytest.raises(ValidationError) as exc:
        stages.proposal_decide(by=department, proposal=proposal, accept=False)
    assert "reason" in message(exc, "reason")
    assert stage_of(account_a) == "cooperative" and not StageChange.objects.exists()
    stages.proposal_decide(by=department, proposal=proposal, accept=False,
                           reason="合同尚未续签")  # fmt: skip
    proposal.refresh_from_db()
    assert proposal.status == "overridden" and proposal.decision_reason == "合同尚未续签"
    assert stage_of(account_a) == "cooperative" and not StageChange.objects.exists()


def test_skipping_a_stage_without_a_reason_is_refused_and_nothing_changes(
    owner: User, department: User, account_a: Account, today: datetime.date
) -> None:
    with pytest.raises(ValidationError) as exc:
        stages.proposal_create(by=owner, account=account_a, to_stage="exploratory")
    assert "skips a stage" in message(exc, "reason")
    with pytest.raises(ValidationError) as exc:
        stages.stage_set(by=department, account=account_a, stage="integrated")
    assert "skips a stage" in message(exc, "reason")
    assert stage_of(account_a) == "cooperative" and not StageProposal.objects.exists()
    assert not StageChange.objects.exists()
    stages.stage_set(
        by=department, account=account_a, stage="integrated", reason="集团总部统一外包"
    )
    assert stage_of(account_a) == "integrated"


def test_history_time_in_stage_and_the_transition_matrix_per_period(
    department: User, owner: User, colleague: User, account_a: Account, account_b: Account,
    today: datetime.date,
) -> None:  # fmt: skip
    stages.stage_set(by=department, account=account_a, stage="interdependent",
                     on=datetime.date(2026, 2, 1))  # fmt: skip
    stages.stage_set(by=department, account=account_a, stage="cooperative",
                     on=datetime.date(2026, 5, 1), reason="份额下降")  # fmt: skip
    stages.stage_set(by=department, account=account_b, stage="cooperative",
                     on=datetime.date(2026, 4, 10))  # fmt: skip
    history = stages.account_history(account_a, today=today)
    assert [(h.change.to_stage, h.days) for h in history] == [("cooperative", 75),
                                                               ("interdependent", 89)]  # fmt: skip
    assert stages.stage_since(account_a) == datetime.date(2026, 5, 1)
    year = stages.portfolio(department, *stages.period_bounds("2026"))
    assert (year.changes, year.up, year.down) == (3, 2, 1)
    matrix = {row[0]: row[2] for row in year.matrix}
    assert matrix["cooperative"][stages.index("interdependent")] == 1
    assert matrix["basic"][stages.index("cooperative")] == 1
    q2 = stages.portfolio(department, *stages.period_bounds("2026Q2"))
    assert (q2.changes, q2.up, q2.down) == (2, 1, 1)
    mine = stages.portfolio(owner, *stages.period_bounds("2026"))  # account_b is not the owner's
    assert (mine.changes, mine.up, mine.down) == (2, 1, 1)
    assert dict((s, n) for s, _l, n in mine.distribution)["cooperative"] == 1
    assert stages.period_bounds("2026Q5") is None and stages.period_bounds("x") is None


def test_the_command_proposes_for_the_portfolio_once(
    owner: User, account_a: Account, evidence_a: None, account_b: Account, today: datetime.date
) -> None:
    out = StringIO()
    call_command("stage_proposals", "--dry-run", stdout=out)
    # account_a: one product where cooperative needs two; account_b: no products at all.
    assert "2 evaluated, 2 proposed" in out.getvalue() and not StageProposal.objects.exists()
    call_command("stage_proposals", stdout=out)
    assert set(StageProposal.objects.values_list("account_id", "to_stage")) == {
        (account_a.pk, "basic"), (account_b.pk, "exploratory")}  # fmt: skip
    call_command("stage_proposals", "--json", stdout=out)
    assert StageProposal.objects.count() == 2 and '"proposed": 0' in out.getvalue()


def test_proposals_are_listed_for_the_owner_and_the_department_only(
    owner: User, colleague: User, department: User, service_rep: User, account_a: Account,
    evidence_a: None, today: datetime.date,
) -> None:  # fmt: skip
    proposal = stages.proposal_create(by=owner, account=account_a)
    assert list(stages.proposals_to_decide(owner)) == [proposal]
    assert list(stages.proposals_to_decide(department)) == [proposal]
    assert not stages.proposals_to_decide(service_rep).exists()  # on the team, not a decider
    assert not stages.proposal_list_for(colleague).exists()
    home = client_for(owner).get("/").content.decode()
    assert 'id="home-stage-proposals-list"' in home and account_a.name_en in home
    assert 'id="home-stage-proposals-list"' not in client_for(service_rep).get("/").content.decode()
    sponsor = UserFactory(role="department")
    TeamMembershipFactory(account=account_a, user=sponsor, role=TeamRole.EXECUTIVE_SPONSOR)
    assert stages.facts_for([account_a.pk])[account_a.pk].executive_sponsor is True


def test_pages_propose_decide_and_refuse_in_the_users_language(
    owner: User, colleague: User, department: User, account_a: Account, evidence_a: None,
    today: datetime.date,
) -> None:  # fmt: skip
    client = client_for(owner)
    page = client.get(f"/planning/stages/accounts/{account_a.pk}/").content.decode()
    assert "The data support a move to" in page and "Products used at least" in page
    zh = client_for(owner, "zh-hans").post(
        f"/planning/stages/accounts/{account_a.pk}/propose/", {"stage": "integrated"}, follow=True
    ).content.decode()  # fmt: skip
    assert "跳过" in zh and not StageProposal.objects.exists()
    client.post(f"/planning/stages/accounts/{account_a.pk}/propose/", {"stage": ""})
    proposal = StageProposal.objects.get()
    assert client_for(colleague).post(
        f"/planning/stage-proposals/{proposal.pk}/decide/", {"decision": "accept"}
    ).status_code == 404  # fmt: skip
    portfolio = client_for(department).get("/planning/stages/").content.decode()
    assert account_a.name_en in portfolio and 'id="stage-matrix"' in portfolio
    client.post(f"/planning/stage-proposals/{proposal.pk}/decide/", {"decision": "accept"})
    assert stage_of(account_a) == "basic"
    account_page = client.get(f"/accounts/{account_a.pk}/").content.decode()
    assert "Basic" in account_page and 'id="wallet-panel-stage"' in account_page
    criteria = client_for(owner).post("/planning/stages/criteria/", {"basic:min_products": "2"})
    assert criteria.status_code == 403


def test_the_api_lists_proposes_and_decides_with_the_same_rules(
    session_client: Callable[..., Any], owner: User, colleague: User, account_a: Account,
    evidence_a: None, today: datetime.date,
) -> None:  # fmt: skip
    api = session_client(owner)
    skip = api.post(f"/planning/accounts/{account_a.pk}/stage-proposals", {"stage": "integrated"})
    assert_error(skip, 422, "reason")
    created = api.post(f"/planning/accounts/{account_a.pk}/stage-proposals", {})
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["to_stage"] == "basic" and body["criteria_version"] == 1
    other = session_client(colleague)
    assert other.post(f"/planning/stage-proposals/{body['id']}/decide",
                      {"decision": "accept"}).status_code == 404  # fmt: skip
    assert other.get("/planning/stage-proposals").json()["count"] == 0
    assert other.get(f"/planning/accounts/{account_a.pk}/stage-history").status_code == 404
    decided = api.post(f"/planning/stage-proposals/{body['id']}/decide", {"decision": "accept"})
    assert decided.status_code == 200 and decided.json()["status"] == "accepted"
    history = api.get(f"/planning/accounts/{account_a.pk}/stage-history").json()
    assert history["stage"] == "basic" and history["changes"][0]["from_stage"] == "cooperative"
    assert api.get("/planning/stage-proposals?to_decide=true").json()["count"] == 0


def test_the_proposals_list_costs_the_same_queries_for_more_proposals(
    owner: User, department: User, today: datetime.date
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import AccountFactory

    def propose(n: int) -> None:
        for _ in range(n):
            account = AccountFactory(tier=1, stage="basic")
            TeamMembershipFactory(account=account, user=owner, role=TeamRole.OWNER)
            stages.proposal_create(by=owner, account=account, to_stage="cooperative")

    client = client_for(department)
    propose(1)
    with CaptureQueriesContext(connection) as one:
        assert client.get("/planning/stages/").status_code == 200
    propose(4)
    with CaptureQueriesContext(connection) as five:
        page = client.get("/planning/stages/").content.decode()
    assert page.count("/planning/stages/accounts/") == 5
    assert len(five.captured_queries) == len(one.captured_queries)


def test_a_stage_changed_on_the_account_page_joins_the_stage_history(
    owner: User, account_a: Account, today: datetime.date, api_as: Callable
) -> None:
    from kam.accounts import services as archive

    before = stage_of(account_a)
    archive.account_update(by=owner, account=account_a, data={"notes": "新备注"}, version=None)
    assert not StageChange.objects.exists()  # another field: no stage change
    after = stages.STAGES[stages.index(before) + 1]
    account_a.refresh_from_db()
    response = api_as(owner).patch(
        f"/accounts/{account_a.pk}", {"stage": after, "version": account_a.version}
    )
    assert response.status_code == 200, response.content
    change = StageChange.objects.get()
    assert (change.from_stage, change.to_stage, change.on, change.by) == (
        before,
        after,
        today,
        owner,
    )
    assert change.reason == "Changed on the account's page" and change.proposal is None
    # Through the stages' own service: one row, with its own reason.
    stages.stage_set(by=owner, account=account_a, stage=before, reason="回到原阶段")
    assert StageChange.objects.count() == 2
    assert StageChange.objects.order_by("-id").first().reason == "回到原阶段"
