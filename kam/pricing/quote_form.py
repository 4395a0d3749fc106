"""The quote form (new or change): propose the discounts with a strategy, type or check the
discount and season rows, save.

"Propose" runs a strategy on the account's own last twelve months and fills the discount
rows and the workings. Reverse pricing works in two steps that need no JavaScript: picking
it and pressing "Propose" lists the lanes of the account's volume profile with a target
price input each; pressing "Propose" again with some targets typed runs the strategy.
Differential pricing proposes the season rows the manager keeps (the coming 11.11, 12.12
and Spring Festival are offered unticked). "Save" stores the quote with its discounts and
seasons, all or nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from kam.accounts.models import Account
from kam.core.errors import ApplicationError
from kam.core.views import form_errors

from . import proposals, quotes, rating, strategies, whatif
from .forms import (
    DiscountFormSet,
    ProposeForm,
    QuoteForm,
    SeasonFormSet,
    TargetFormSet,
    season_initial,
)
from .models import Quote, RateCard

#: What the page's save does with the form's data, the discounts and the seasons (None:
#: the form had no season rows, leave the card's as they are).
Save = Callable[[dict[str, Any], list[rating.Discount], "list[strategies.Season] | None"], Quote]


def discounts_of(formset: Any) -> list[rating.Discount]:
    rows = []
    for data in formset.cleaned_data:
        if not data or data.get("percent") is None:
            continue
        zone = data.get("zone")
        rows.append(
            rating.Discount(
                data["percent"],
                data.get("product") or None,
                zone.code if zone else None,
                data.get("from_kg") or Decimal("0"),
                data.get("to_kg"),
            )  # fmt: skip
        )
    return rows


def seasons_of(formset: Any) -> list[strategies.Season]:
    """The kept, filled-in season rows of a valid season formset."""
    return [
        strategies.Season(d["name"].strip(), d["start"], d["end"], d["percent"])
        for _form, d in formset.kept()
    ]


def _discount_initial(card: RateCard | None) -> list[dict[str, Any]]:
    if card is None:
        return [{"percent": None}]
    return [
        {"percent": d.percent, "product": d.product, "zone": d.zone.code if d.zone else None,
         "from_kg": d.from_kg or None, "to_kg": d.to_kg}
        for d in card.discounts.select_related("zone")
    ] or [{"percent": None}]  # fmt: skip


def _proposal_rows(discounts: list[rating.Discount]) -> list[dict[str, Any]]:
    return [
        {"percent": d.percent, "product": d.product or "", "zone": d.zone,
         "from_kg": d.from_kg or None, "to_kg": d.to_kg}
        for d in proposals.card_discounts(discounts)
    ]  # fmt: skip


def _lane_key(product: Any, zone: Any, from_kg: Any, to_kg: Any) -> str:
    return f"{product}|{zone}|{from_kg}|{'' if to_kg is None else to_kg}"


def _target_rows(formset: Any, lanes: list[proposals.TargetLane]) -> list[tuple[Any, Any]]:
    """Each target row with the lane it stands for (None: no longer in the profile)."""
    by_key = {_lane_key(*lane.key): lane for lane in lanes}
    rows = []
    for form in formset.forms:
        values = [form[name].value() for name in ("product", "zone", "from_kg", "to_kg")]
        rows.append((form, by_key.get(_lane_key(*(v if v != "" else None for v in values)))))
    return rows


def _targets(formset: Any) -> list[strategies.TargetPrice]:
    return [
        strategies.TargetPrice(d["product"], d["zone"], d["from_kg"], d["to_kg"], d["price"])
        for d in formset.cleaned_data
        if d.get("price") is not None
    ]


class _Proposing:
    """What "Propose" produced: the outcome (None: nothing ran), the target rows of reverse
    pricing and whether they still wait for prices."""

    def __init__(self) -> None:
        self.outcome: proposals.Outcome | None = None
        self.targets: Any = None
        self.target_rows: list[tuple[Any, Any]] = []
        self.asking: bool = False


def _propose(
    request: HttpRequest, account: Account, params: dict[str, Any], seasons_form: Any
) -> _Proposing:
    today = timezone.localdate()
    done = _Proposing()
    strategy = params["strategy"]
    seasons: list[strategies.Season] = []
    if strategy == strategies.DIFFERENTIAL and seasons_form is not None:
        if not seasons_form.is_valid():
            done.outcome = proposals.Outcome(
                error=_("Correct the season rows below, then propose again.")
            )
            return done
        seasons = seasons_of(seasons_form)
    if strategy != strategies.REVERSE:
        done.outcome = proposals.propose(
            strategy, account, quotes.list_card(today), params, today=today, seasons=seasons
        )
        return done
    # Reverse pricing: the lanes first, then the customer's prices in them.
    if proposals.margin_floor(account.tier) is None:
        done.outcome = proposals.Outcome(error=proposals.no_floor_text(account.tier))
        return done
    list_card = quotes.list_card(today)
    found = whatif.volume_profile(Account.objects.filter(pk=account.pk), list_card)
    if found is None:
        done.outcome = proposals.Outcome(error=proposals.no_shipments_text())
        return done
    lanes = proposals.lanes_of(found[0])
    if "t-TOTAL_FORMS" not in request.POST:
        done.targets = TargetFormSet(
            prefix="t",
            initial=[{"product": lane.product, "zone": lane.zone, "from_kg": lane.from_kg,
                      "to_kg": lane.to_kg} for lane in lanes],
        )  # fmt: skip
        done.asking = True
        if done.targets.forms:
            done.targets.forms[0].fields["price"].widget.attrs["autofocus"] = True
    else:
        done.targets = TargetFormSet(request.POST, prefix="t")
        if done.targets.is_valid():
            done.outcome = proposals.propose(
                strategy, account, list_card, params, today=today,
                targets=_targets(done.targets), found=found,
            )  # fmt: skip
    done.target_rows = _target_rows(done.targets, lanes)
    return done


def quote_page(
    request: HttpRequest, account: Account | None, quote: Quote | None, save: Save
) -> HttpResponse:
    """The quote form (new or change): "propose" runs a strategy on the account's own
    shipments and fills the discount rows and workings; "save" stores the quote."""
    today = timezone.localdate()
    posting = request.method == "POST"
    proposing = posting and "propose" in request.POST
    posted = request.POST if posting and not proposing else None
    if quote is not None:
        initial = {"strategy": quote.strategy, "valid_until": quote.valid_until,
                   "terms": quote.terms, "workings": quote.workings}  # fmt: skip
        rows = _discount_initial(quote.card)
        season_rows = season_initial(quote.card.peaks.all())
    else:
        initial = {"strategy": "cost_plus", "valid_until": today + timezone.timedelta(days=30)}
        rows = []
        season_rows = season_initial(proposals.suggested_seasons(today), keep=False)
    # Season rows travel with both buttons; a post without them (an older page, a script)
    # leaves the card's seasons as they are.
    has_seasons = posting and "s-TOTAL_FORMS" in request.POST
    seasons_form = (
        SeasonFormSet(request.POST, prefix="s")
        if has_seasons
        else SeasonFormSet(prefix="s", initial=season_rows)
    )
    propose_form = ProposeForm(request.POST if proposing else None, prefix="p")
    proposing_done = _Proposing()
    if proposing and propose_form.is_valid() and account is not None:
        p = propose_form.cleaned_data
        proposing_done = _propose(request, account, p, seasons_form if has_seasons else None)
        outcome = proposing_done.outcome
        initial = {"strategy": p["strategy"],
                   "valid_until": request.POST.get("valid_until") or initial["valid_until"],
                   "terms": request.POST.get("terms", ""),
                   "workings": outcome.workings if outcome else []}  # fmt: skip
        if outcome is not None and not outcome.error:
            rows = _proposal_rows(outcome.discounts)
        elif "d-TOTAL_FORMS" in request.POST:
            # Nothing proposed yet (reverse pricing's first step, a bad target): the rows
            # the manager had stay as they were.
            filled = DiscountFormSet(request.POST, prefix="d")
            if filled.is_valid():
                rows = _proposal_rows(discounts_of(filled)) or rows
    form = QuoteForm(posted, initial=initial)
    formset = DiscountFormSet(posted, prefix="d", initial=rows)
    if posted is not None and form.is_valid() and formset.is_valid():
        if has_seasons and not seasons_form.is_valid():
            form.add_error(None, _("Correct the season rows: nothing was saved."))
        else:
            try:
                saved = save(
                    form.cleaned_data,
                    discounts_of(formset),
                    seasons_of(seasons_form) if has_seasons else None,
                )
            except (ValidationError, ApplicationError) as exc:
                form_errors(form, exc)
            else:
                return redirect("pricing:quote", saved.pk)
    return render(request, "pricing/quote_form.html", {
        "form": form, "formset": formset, "seasons": seasons_form, "account": account,
        "quote": quote, "propose_form": propose_form, "outcome": proposing_done.outcome,
        "targets": proposing_done.targets, "target_rows": proposing_done.target_rows,
        "asking": proposing_done.asking, "nav": "pricing",
    })  # fmt: skip
