"""Satisfaction surveys (征询函): campaigns, unique links, answers, reminders, follow-ups.

A link's token is 32 random bytes (``secrets.token_urlsafe``); only its SHA-256 is stored,
so the database alone cannot answer a survey. A link works once, until the campaign's
expiry; a reminder issues a new link and retires the old one.
"""

import datetime
import hashlib
import secrets
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kam.accounts.models import Account, Contact, TeamMembership, TeamRole
from kam.core import deploy
from kam.core.errors import ApplicationError, PermissionDeniedError
from kam.core.models import Role, User

from . import services
from .models import (
    Campaign,
    CaseType,
    Channel,
    Invitation,
    Response,
    Severity,
    SurveyTemplate,
    default_dimensions,
)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def survey_url(token: str) -> str:
    return reverse("service:survey_answer", args=[token])


def template_default() -> SurveyTemplate:
    """The standard questionnaire (function, service quality, service level, price, overall)."""
    found = SurveyTemplate.objects.order_by("pk").first()
    if found is not None:
        return found
    return SurveyTemplate.objects.create(
        name_zh="大客户满意度征询函",
        name_en="Key-account satisfaction survey",
        intro_zh="感谢您一直以来的支持。请您对我们的服务打分，帮助我们改进。",
        intro_en="Thank you for your business. Please rate our service to help us improve.",
        dimensions=default_dimensions(),
    )


def campaign_targets(campaign: Campaign) -> QuerySet[Account]:
    """Accounts matching every filter the campaign sets (an empty filter matches all)."""
    accounts = Account.objects.filter(status="active")
    if campaign.tiers:
        accounts = accounts.filter(tier__in=campaign.tiers)
    if campaign.categories:
        from django.db.models import Q

        q = Q()
        for category in campaign.categories:
            field = Account.CATEGORY_FIELDS.get(category)  # type: ignore[call-overload]
            if field:
                q |= Q(**{field: True})
        accounts = accounts.filter(q)
    if campaign.industries:
        accounts = accounts.filter(industry_id__in=campaign.industries)
    if campaign.owners:
        accounts = accounts.filter(team__role=TeamRole.OWNER, team__user_id__in=campaign.owners)
    return accounts.distinct()


@transaction.atomic
def campaign_create(
    *,
    by: User,
    name: str,
    template: SurveyTemplate,
    expires_at: datetime.datetime,
    tiers: Iterable[int] = (),
    categories: Iterable[str] = (),
    industries: Iterable[int] = (),
    owners: Iterable[int] = (),
) -> Campaign:
    if not services.may_manage_service(by):
        raise PermissionDeniedError(_("Only the key-account department sends surveys."))
    if expires_at <= timezone.now():
        raise ValidationError({"expires_at": _("The links must expire in the future.")})
    campaign = Campaign(
        name=name.strip(), template=template, expires_at=expires_at, created_by=by,
        tiers=sorted(set(tiers)), categories=sorted(set(categories)),
        industries=sorted(set(industries)), owners=sorted(set(owners)),
    )  # fmt: skip
    campaign.full_clean()
    campaign.save()
    return campaign


def _require_base_url() -> None:
    """In production a survey link must be absolute: a contact opens it from the e-mail,
    outside KAM. (A local ``kam serve`` derives the address from its host and port.)"""
    if not settings.KAM_BASE_URL and settings.KAM_ENVIRONMENT == deploy.PRODUCTION:
        raise ApplicationError(_(
            "Survey e-mails need KAM's address for their links, and KAM_BASE_URL is not set: "
            "set it to the HTTPS address users open KAM at (e.g. "
            "KAM_BASE_URL=https://kam.example.com) and send again. Nothing was sent."))  # fmt: skip


def _mail(contact: Contact, campaign: Campaign, token: str, *, reminder: bool) -> EmailMessage:
    link = f"{settings.KAM_BASE_URL.rstrip('/')}{survey_url(token)}"
    template = campaign.template
    subject = f"{template.name_zh} / {template.name_en}"
    if reminder:
        subject = f"提醒 Reminder: {subject}"
    body = (
        f"{contact.name} 您好：\n\n{template.intro_zh}\n{link}\n"
        f"链接有效期至 {timezone.localtime(campaign.expires_at):%Y-%m-%d %H:%M}。\n\n"
        f"Dear {contact.name},\n\n{template.intro_en}\n{link}\n"
        f"The link works until {timezone.localtime(campaign.expires_at):%Y-%m-%d %H:%M} (UTC+8).\n"
    )
    return EmailMessage(subject=subject, body=body, to=[contact.email])


def _send(messages: list[EmailMessage]) -> None:
    if messages:
        transaction.on_commit(lambda: get_connection().send_messages(messages))


@transaction.atomic
def campaign_send(*, by: User, campaign: Campaign, now: datetime.datetime | None = None
                  ) -> dict[str, int]:  # fmt: skip
    """Invite every contact with an e-mail address at the targeted accounts, once each."""
    if not services.may_manage_service(by):
        raise PermissionDeniedError(_("Only the key-account department sends surveys."))
    _require_base_url()
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.status != Campaign.CampaignStatus.DRAFT:
        raise ApplicationError(_("This campaign has been sent already."))
    now = now or timezone.now()
    if campaign.expires_at <= now:
        raise ApplicationError(_("The campaign's links would already have expired."))
    issued, without_email = campaign_issue(campaign, now=now)
    messages = [_mail(inv.contact, campaign, token, reminder=False) for inv, token in issued]
    accounts = campaign_targets(campaign)
    if not messages:
        raise ApplicationError(_("No contact with an e-mail address matches these filters."))
    campaign.status = Campaign.CampaignStatus.SENT
    campaign.sent_at = now
    campaign.save(update_fields=["status", "sent_at"])
    _send(messages)
    return {"invited": len(messages), "without_email": without_email,
            "accounts": accounts.count()}  # fmt: skip


def campaign_issue(campaign: Campaign, *, now: datetime.datetime
                   ) -> tuple[list[tuple[Invitation, str]], int]:  # fmt: skip
    """Create the invitations (one per contact with an e-mail address at the targeted
    accounts) and return them with their plain tokens, which exist only here."""
    issued: list[tuple[Invitation, str]] = []
    without_email = 0
    contacts = Contact.objects.filter(account__in=campaign_targets(campaign)).select_related(
        "account"
    )
    for contact in contacts:
        if not contact.email:
            without_email += 1
            continue
        token = secrets.token_urlsafe(32)
        invitation = Invitation.objects.create(
            campaign=campaign, account=contact.account, contact=contact,
            token_hash=token_hash(token), expires_at=campaign.expires_at, sent_at=now,
        )  # fmt: skip
        issued.append((invitation, token))
    return issued, without_email


@transaction.atomic
def campaign_remind(*, by: User, campaign: Campaign, now: datetime.datetime | None = None) -> int:
    """A new link for everyone who has not answered yet (the old link is retired)."""
    if not services.may_manage_service(by):
        raise PermissionDeniedError(_("Only the key-account department sends surveys."))
    _require_base_url()
    now = now or timezone.now()
    campaign = (
        Campaign.objects.select_for_update(of=("self",))
        .select_related("template")
        .get(pk=campaign.pk)
    )
    if campaign.status != Campaign.CampaignStatus.SENT or campaign.expires_at <= now:
        raise ApplicationError(_("Only a sent campaign whose links have not expired is reminded."))
    messages = []
    pending = Invitation.objects.select_for_update(of=("self",)).filter(
        campaign=campaign, answered_at__isnull=True).select_related("contact")  # fmt: skip
    for invitation in pending:
        token = secrets.token_urlsafe(32)
        invitation.previous_hashes = [*invitation.previous_hashes, invitation.token_hash][-10:]
        invitation.token_hash = token_hash(token)
        invitation.reminded_at = now
        invitation.reminders += 1
        invitation.save(update_fields=["previous_hashes", "token_hash", "reminded_at", "reminders"])
        messages.append(_mail(invitation.contact, campaign, token, reminder=True))
    _send(messages)
    return len(messages)


# --- the public answer page ---------------------------------------------------------------------


def invitation_lookup(token: str, *, now: datetime.datetime | None = None
                      ) -> tuple[Invitation | None, str]:  # fmt: skip
    """The invitation behind a token and its state: ``open``, ``used``, ``expired``,
    ``replaced`` (a reminder sent a newer link) or ``unknown`` (tampered or never issued)."""
    now = now or timezone.now()
    if not token or len(token) > 100:
        return None, "unknown"
    digest = token_hash(token)
    invitation = (
        Invitation.objects.select_related("campaign", "campaign__template", "contact", "account")
        .filter(token_hash=digest)
        .first()
    )
    if invitation is None:
        # The hex digest is unique text: a substring search of the JSON list finds it.
        replaced = Invitation.objects.filter(previous_hashes__icontains=digest).exists()
        return (None, "replaced") if replaced else (None, "unknown")
    if invitation.answered_at is not None:
        return invitation, "used"
    if invitation.expires_at <= now or invitation.campaign.status == Campaign.CampaignStatus.CLOSED:
        return invitation, "expired"
    return invitation, "open"


def _answers_clean(template: SurveyTemplate, ratings: Mapping[str, Any], nps: Any,
                   comment: str) -> tuple[dict[str, int], int | None, str]:  # fmt: skip
    errors: dict[str, str] = {}
    clean: dict[str, int] = {}
    for dim in template.dimensions:
        value = ratings.get(dim["key"])
        try:
            number = int(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            errors[f"rating_{dim['key']}"] = _("Choose a rating from 1 to 5.")
            continue
        if not 1 <= number <= 5 or str(value).strip() not in {str(number)}:
            errors[f"rating_{dim['key']}"] = _("Choose a rating from 1 to 5.")
        else:
            clean[dim["key"]] = number
    nps_value: int | None = None
    if template.ask_nps:
        try:
            nps_value = int(nps)
            if not 0 <= nps_value <= 10 or str(nps).strip() != str(nps_value):
                raise ValueError
        except (TypeError, ValueError):
            errors["nps"] = _("Choose a number from 0 to 10.")
    comment = (comment or "").strip() if template.ask_comment else ""
    if len(comment) > 4000:
        errors["comment"] = _("Please keep the comment under 4,000 characters.")
    if errors:
        raise ValidationError(errors)
    return clean, nps_value, comment


@transaction.atomic
def response_submit(
    *,
    token: str,
    ratings: Mapping[str, Any],
    nps: Any = None,
    comment: str = "",
    language: str = "",
    now: datetime.datetime | None = None,
) -> Response:
    """Store one answer. Refuses a used, expired, replaced or unknown link and answers out
    of range; a low score opens a follow-up case for the account owner."""
    now = now or timezone.now()
    invitation, state = invitation_lookup(token, now=now)
    if invitation is None or state != "open":
        raise ApplicationError(state_message(state), field="token")
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.answered_at is not None:  # a second submit racing the first
        raise ApplicationError(state_message("used"), field="token")
    template = invitation.campaign.template
    clean, nps_value, comment = _answers_clean(template, ratings, nps, comment)
    average = (
        (Decimal(sum(clean.values())) / len(clean)).quantize(Decimal("0.01")) if clean else None
    )
    response = Response.objects.create(
        invitation=invitation, campaign=invitation.campaign, account=invitation.account,
        ratings=clean, average=average, nps=nps_value, comment=comment,
        language=language[:10], submitted_at=now,
    )  # fmt: skip
    invitation.answered_at = now
    invitation.save(update_fields=["answered_at"])
    low = [k for k, v in clean.items() if v <= template.low_rating]
    if nps_value is not None and nps_value <= template.low_nps:
        low.append("nps")
    if low:
        response.follow_up = _follow_up(invitation, response, low, now)
        response.save(update_fields=["follow_up"])
    return response


def _follow_up(invitation: Invitation, response: Response, low: list[str],
               now: datetime.datetime) -> Any:  # fmt: skip
    account = invitation.account
    owner = services.account_owner(account)
    if owner is None or not services.may_work_cases(owner):
        owner = invitation.campaign.created_by
    if owner is None:
        owner = User.objects.filter(role=Role.DEPARTMENT, is_active=True).first()
    if owner is None:
        return None
    names = {d["key"]: d["zh"] for d in invitation.campaign.template.dimensions}
    with translation.override(settings.LANGUAGE_CODE):
        parts = [f"{names.get(k, k)} {response.ratings[k]}/5" for k in low if k != "nps"]
        if "nps" in low:
            parts.append(f"NPS {response.nps}/10")
        subject = _("Low survey score from %(contact)s: %(scores)s") % {
            "contact": invitation.contact.name, "scores": ", ".join(parts)}  # fmt: skip
        description = _("Survey “%(campaign)s”. Comment: %(comment)s") % {
            "campaign": invitation.campaign.name, "comment": response.comment or "—"}  # fmt: skip
    return services.case_open(
        by=None, account=account, kind=CaseType.COMPLAINT, channel=Channel.SURVEY,
        severity=Severity.MEDIUM, subject=subject[:200], description=description,
        contacts=[invitation.contact], assignee=owner, now=now,
    )  # fmt: skip


def state_message(state: str) -> str:
    return {
        "used": _("This link has already been used: your answer was received. Thank you!"),
        "expired": _(
            "This link has expired. Please contact your account manager if you "
            "would still like to answer."
        ),  # fmt: skip
        "replaced": _("A newer link was sent to you by e-mail; please use that one."),
        "unknown": _("This link is not valid. Please check that you copied all of it."),
    }.get(state, _("This link is not valid. Please check that you copied all of it."))


def owner_of(account_ids: Iterable[int]) -> dict[int, User]:
    rows = TeamMembership.objects.filter(account_id__in=list(account_ids),
                                         role=TeamRole.OWNER).select_related("user")  # fmt: skip
    return {r.account_id: r.user for r in rows}
