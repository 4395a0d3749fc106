"""Every write of the segmentation app: rule sets, runs, tier decisions, alerts, prospects.

``run_enqueue`` is the hook other apps call (the ledger after an import commits).
"""

import datetime
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from kam.accounts import services as account_services
from kam.accounts.models import Account
from kam.core import access
from kam.core.errors import ApplicationError, PermissionDeniedError
from kam.core.models import Role, User

from . import messages, runner
from .models import Alert, RuleSet, Run, TierChange, TierProposal
from .rules import Rules, problems


def _require(allowed: bool, message: str) -> None:
    if not allowed:
        raise PermissionDeniedError(message)


def may_run(user: User) -> bool:
    return access.is_active_user(user) and user.role in {Role.DIRECTOR, Role.DEPARTMENT}


def may_decide_tiers(user: User) -> bool:
    return access.is_active_user(user) and user.role in {Role.DIRECTOR, Role.DEPARTMENT}


def may_edit_rules(user: User) -> bool:
    return access.is_active_user(user) and user.role == Role.DIRECTOR


# --- rules -----------------------------------------------------------------------------------


def rule_set_current() -> RuleSet:
    """The newest rule set; version 1 (the defaults) is created on first use."""
    current = RuleSet.objects.order_by("-version").first()
    if current is None:
        with transaction.atomic():
            current, _created = RuleSet.objects.get_or_create(
                version=1, defaults={"rules": Rules().to_dict(), "note": RuleSet.DEFAULTS_NOTE}
            )
    return current


def rules_check(data: Mapping[str, Any]) -> Rules:
    """Build rules from ``data``; raise ``ValidationError`` (per field) when they contradict."""
    try:
        rules = Rules.from_dict({**Rules().to_dict(), **data})
    except (TypeError, ValueError) as exc:
        raise ValidationError({"__all__": [str(exc)]}) from exc
    found = problems(rules)
    if found:
        errors: dict[str, list[str]] = {}
        for p in found:
            errors.setdefault(p.field, []).append(messages.problem_text(p.code, p.params))
        raise ValidationError(errors)
    return rules


@transaction.atomic
def rule_set_create(*, by: User, data: Mapping[str, Any], note: str = "") -> RuleSet:
    """Save a new version of the rules (directors only). Contradictions are refused."""
    _require(may_edit_rules(by), _("Only directors may change the segmentation rules."))
    rules = rules_check(data)
    last = RuleSet.objects.select_for_update().aggregate(v=Max("version"))["v"] or 0
    return RuleSet.objects.create(
        version=last + 1, rules=rules.to_dict(), note=note[:200], created_by=by
    )


# --- runs --------------------------------------------------------------------------------------


def run_create(
    *, trigger: str, by: User | None = None, as_of: datetime.date | None = None,
    import_batch_id: int | None = None,
) -> Run:  # fmt: skip
    if by is not None:
        _require(may_run(by), _("Only the key-account department and directors may start a run."))
    return Run.objects.create(
        rule_set=rule_set_current(), trigger=trigger, created_by=by,
        as_of=as_of.replace(day=1) if as_of else None, import_batch_id=import_batch_id,
    )  # fmt: skip


def run_enqueue(
    *, trigger: str = Run.Trigger.IMPORT, by: User | None = None,
    import_batch_id: int | None = None,
) -> Run:  # fmt: skip
    """Queue a run for the background worker (after the current transaction commits).

    The ledger calls ``run_enqueue(trigger="import", import_batch_id=batch.pk)`` when an
    import has committed. A run already queued is reused, so a burst of imports makes one run.
    """
    queued = Run.objects.filter(status=Run.Status.QUEUED).order_by("created_at").first()
    if queued is not None and by is None:
        return queued
    run = run_create(trigger=trigger, by=by, import_batch_id=import_batch_id)
    from .tasks import run_segmentation

    transaction.on_commit(lambda: run_segmentation.enqueue(run.pk))
    return run


def run_execute(*, run: Run, progress: runner.Progress | None = None) -> Run:
    """Run now, in this process. A failure marks the run failed (and is raised again)."""
    try:
        return runner.execute(run, progress)
    except Exception as exc:
        Run.objects.filter(pk=run.pk).update(
            status=Run.Status.FAILED, finished_at=timezone.now(), error=str(exc)[:2000]
        )
        raise


# --- tiers ---------------------------------------------------------------------------------------


def _set_tier(*, by: User, account: Account, tier: int) -> None:
    # Through the archive's service: its field history records the change and who made it.
    account_services.account_update(by=by, account=account, data={"tier": tier}, version=None)


@transaction.atomic
def proposal_accept(*, by: User, proposal: TierProposal) -> TierChange:
    _require(may_decide_tiers(by), _("Only the key-account department and directors decide tiers."))
    locked = (
        TierProposal.objects.select_for_update(of=("self",))
        .select_related("account")
        .get(pk=proposal.pk)
    )
    if locked.status != TierProposal.Status.OPEN:
        raise ApplicationError(
            _("This proposal has already been decided or replaced by a newer run.")
        )
    account = locked.account
    change = TierChange.objects.create(
        account=account, run_id=locked.run_id, proposal=locked, from_tier=account.tier,
        to_tier=locked.proposed_tier, kind=TierChange.Kind.ACCEPTED, by=by,
        reason=" ".join(messages.reason_text(r["code"], r["params"])
                        for r in locked.valuation.reasons[:1]),
    )  # fmt: skip
    _set_tier(by=by, account=account, tier=locked.proposed_tier)
    locked.status = TierProposal.Status.ACCEPTED
    locked.decided_by, locked.decided_at = by, timezone.now()
    locked.save(update_fields=["status", "decided_by", "decided_at"])
    return change


@transaction.atomic
def proposals_accept(*, by: User, proposals: Iterable[TierProposal]) -> int:
    """Accept several proposals at once; all or none."""
    count = 0
    for proposal in proposals:
        proposal_accept(by=by, proposal=proposal)
        count += 1
    return count


@transaction.atomic
def tier_override(
    *, by: User, account: Account, tier: int, reason: str, proposal: TierProposal | None = None
) -> TierChange:
    """Set a tier other than the proposal's, with a reason (required)."""
    _require(may_decide_tiers(by), _("Only the key-account department and directors decide tiers."))
    if tier not in (1, 2, 3, 4, 5):
        raise ValidationError({"tier": _("A tier is a number from 1 to 5.")})
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why you override the proposal.")})
    if len(reason) > 2000:
        raise ValidationError({"reason": _("At most 2000 characters.")})
    change = TierChange.objects.create(
        account=account, run_id=proposal.run_id if proposal else None, proposal=proposal,
        from_tier=account.tier, to_tier=tier, kind=TierChange.Kind.OVERRIDE, reason=reason, by=by,
    )  # fmt: skip
    _set_tier(by=by, account=account, tier=tier)
    if proposal is not None and proposal.status == TierProposal.Status.OPEN:
        proposal.status = TierProposal.Status.OVERRIDDEN
        proposal.decided_by, proposal.decided_at = by, timezone.now()
        proposal.save(update_fields=["status", "decided_by", "decided_at"])
    return change


# --- alerts --------------------------------------------------------------------------------------


def _alert_note(alert: Alert, note: str) -> None:
    note = (note or "").strip()
    if len(note) > 2000:
        raise ValidationError({"note": _("At most 2000 characters.")})
    if note:
        alert.note = f"{alert.note}\n{note}".strip() if alert.note else note


@transaction.atomic
def alert_acknowledge(*, by: User, alert: Alert, note: str = "") -> Alert:
    locked = Alert.objects.select_for_update().get(pk=alert.pk)
    if locked.status != Alert.Status.OPEN:
        raise ApplicationError(_("Only an open alert can be acknowledged."))
    _alert_note(locked, note)
    locked.status = Alert.Status.ACKNOWLEDGED
    locked.acknowledged_by, locked.acknowledged_at = by, timezone.now()
    locked.save()
    return locked


@transaction.atomic
def alert_resolve(*, by: User, alert: Alert, note: str) -> Alert:
    locked = Alert.objects.select_for_update().get(pk=alert.pk)
    if locked.status == Alert.Status.RESOLVED:
        raise ApplicationError(_("This alert is already resolved."))
    if not (note or "").strip():
        raise ValidationError({"note": _("Say how the alert was resolved.")})
    _alert_note(locked, note)
    locked.status = Alert.Status.RESOLVED
    if locked.acknowledged_at is None:
        locked.acknowledged_by, locked.acknowledged_at = by, timezone.now()
    locked.resolved_by, locked.resolved_at = by, timezone.now()
    locked.save()
    return locked


# --- candidates ----------------------------------------------------------------------------------


@transaction.atomic
def candidate_prospect_create(*, by: User, code: str, name: str) -> Account:
    """Create a prospect account for a candidate billing code and link the code (through the
    ledger's service, which checks the code is still unlinked)."""
    from kam.ledger import services as ledger_services

    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("Give the company's name.")})
    return ledger_services.prospect_from_code(by=by, code=code, data={"name": name[:200]})
