"""Stakeholder coverage rules: warnings on the plan and account pages when the people who
buy are not covered — no decision maker known, no coach (内线), an opponent with high
influence, a key contact not met in N days, no executive sponsor on our side for the top
tiers. Directors switch each rule on or off and set its parameter (:class:`CoverageRules`,
one row); each warning says what to do."""

import datetime
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from kam.accounts.models import Attitude, BuyingRole, Influence
from kam.core.errors import PermissionDeniedError
from kam.core.models import User

from . import selectors
from .models import CoverageRules
from .stakeholders import AccountPeople

#: The rules' switches, in the order pages list them.
SWITCHES = ("no_decision_maker", "no_coach", "opponent", "stale_contact", "no_sponsor")


@dataclass(frozen=True)
class Warning:
    rule: str
    text: str
    todo: str  # what to do about it
    #: The contact the warning is about (shown only to those who see contacts).
    contact_id: int | None = None
    contact_name: str = ""


def rules_get() -> CoverageRules:
    """The company's rules (the defaults, unsaved, until a director sets them)."""
    return CoverageRules.objects.order_by("pk").first() or CoverageRules()


def warnings_for(people: AccountPeople, *, tier: int | None, rules: CoverageRules,
                 today: datetime.date) -> list[Warning]:  # fmt: skip
    """The warnings of one account (no query: ``people`` holds what the rules read)."""
    out: list[Warning] = []
    if rules.no_decision_maker and not people.with_role(BuyingRole.ECONOMIC_BUYER):
        out.append(Warning("no_decision_maker", _("No decision maker is known."), _(
            "Find out who signs the logistics contract and record them as economic buyer "
            "on the account's contacts.")))  # fmt: skip
    if rules.no_coach and not people.with_role(BuyingRole.COACH):
        out.append(Warning("no_coach", _("No coach (内线) at the account."), _(
            "Win a supporter inside the account who tells us how they decide, and record "
            "them as coach.")))  # fmt: skip
    if rules.opponent:
        out.extend(
            Warning("opponent", _(
                "An opponent with high influence (%(role)s).") % {"role": p.role_label}, _(
                "Plan a meeting to learn their objections, and have a supporter or our "
                "executive sponsor speak to them."), p.pk, p.name)
            for p in people.people
            if p.attitude == Attitude.OPPONENT and p.influence == Influence.HIGH
        )  # fmt: skip
    if rules.stale_contact:
        for p in people.people:
            if not p.key:
                continue
            days = p.days_since_met(today)
            if days is None or days > rules.stale_days:
                text = (
                    _("A key contact (%(role)s) has never been met.") % {"role": p.role_label}
                    if days is None
                    else _("A key contact (%(role)s) was last met %(days)s days ago.")
                    % {"role": p.role_label, "days": days}
                )  # fmt: skip
                out.append(Warning("stale_contact", text, _(
                    "Plan a visit with them within %(days)s days and record them as an "
                    "attendee in the visit report.") % {"days": rules.stale_days},
                    p.pk, p.name))  # fmt: skip
    if (rules.no_sponsor and tier is not None and tier <= rules.sponsor_max_tier
            and not people.sponsors):  # fmt: skip
        out.append(Warning("no_sponsor", _(
            "No executive sponsor on our side for a tier %(tier)s account.") % {"tier": tier}, _(
            "Ask a director to sponsor the account and add them to its team as executive "
            "sponsor.")))  # fmt: skip
    return out


@transaction.atomic
def rules_set(*, by: User | None, values: dict[str, object]) -> CoverageRules:
    """Switch rules on or off and set their parameters (directors). Refused: a parameter
    out of its range, an unknown name; nothing changes then."""
    if by is not None and not selectors.may_edit_policy(by):
        raise PermissionDeniedError(_("You may not do this."))
    known = {*SWITCHES, "stale_days", "sponsor_max_tier"}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValidationError({unknown[0]: _("Unknown rule.")})
    errors: dict[str, str] = {}
    for name, low, high in (("stale_days", 7, 730), ("sponsor_max_tier", 1, 5)):
        if name in values:
            value = values[name]
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                errors[name] = _("Enter a whole number from %(low)s to %(high)s.") % {
                    "low": low, "high": high}  # fmt: skip
    for name in SWITCHES:
        if name in values and not isinstance(values[name], bool):
            errors[name] = _("Choose on or off.")
    if errors:
        raise ValidationError(errors)
    row = CoverageRules.objects.select_for_update().order_by("pk").first() or CoverageRules()
    for name, value in values.items():
        setattr(row, name, value)
    row._history_user = by  # simple-history's acting user
    row.full_clean()
    row.save()
    return row
