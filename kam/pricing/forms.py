"""The pricing pages' forms: a quote's terms, its discount and season rows, the customer's
target prices for reverse pricing, decisions, guidance."""

from decimal import Decimal
from typing import Any

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.translation import gettext_lazy as _

from kam.core.forms import DateInput, Styled

from .models import Product, QuoteStatus, Strategy, Zone


class ProposeForm(Styled):
    """The strategy that proposes the discounts, and its parameters."""

    strategy = forms.ChoiceField(label=_("Strategy"), choices=[])
    markup = forms.DecimalField(
        label=_("Markup on cost (%)"), required=False, max_digits=6, decimal_places=2,
        min_value=Decimal("0"), max_value=Decimal("500"),
    )  # fmt: skip
    target_margin = forms.DecimalField(
        label=_("Target margin (%)"), required=False, max_digits=5, decimal_places=2,
        min_value=Decimal("-50"), max_value=Decimal("95"),
    )  # fmt: skip
    offset = forms.DecimalField(
        label=_("Below the going rate (points)"), required=False, max_digits=5,
        decimal_places=2, min_value=Decimal("-50"), max_value=Decimal("50"),
    )  # fmt: skip

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        from .proposals import FORM_STRATEGIES

        labels = dict(Strategy.choices)
        self.fields["strategy"].choices = [(s, labels[s]) for s in FORM_STRATEGIES]  # type: ignore[attr-defined]


class QuoteForm(Styled):
    strategy = forms.ChoiceField(label=_("Strategy"), choices=Strategy.choices)
    valid_until = forms.DateField(label=_("Valid until"), widget=DateInput())
    terms = forms.CharField(
        label=_("Terms"), required=False, max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )  # fmt: skip
    workings = forms.JSONField(required=False, widget=forms.HiddenInput)

    def clean_workings(self) -> list[dict[str, str]]:
        value = self.cleaned_data.get("workings") or []
        if not isinstance(value, list) or not all(
            isinstance(w, dict) and all(isinstance(v, str) for v in w.values()) for w in value
        ):
            raise forms.ValidationError(_("The workings could not be read; propose again."))
        return [
            {"lane": w.get("lane", "")[:200], "text": w.get("text", "")[:1000]} for w in value[:500]
        ]


class DiscountForm(Styled):
    percent = forms.DecimalField(
        label=_("Discount (%)"), max_digits=7, decimal_places=4, required=False,
        validators=[MinValueValidator(Decimal("-100")), MaxValueValidator(Decimal("100"))],
    )  # fmt: skip
    product = forms.ChoiceField(
        label=_("Product"), required=False, choices=[("", _("Any product")), *Product.choices]
    )
    zone = forms.ModelChoiceField(
        label=_("Zone"), required=False, queryset=Zone.objects.all(), empty_label=_("Any zone"),
        to_field_name="code",
    )  # fmt: skip
    from_kg = forms.DecimalField(
        label=_("From (kg)"), required=False, max_digits=10, decimal_places=3,
        validators=[MinValueValidator(Decimal("0"))],
    )  # fmt: skip
    to_kg = forms.DecimalField(
        label=_("To (kg)"), required=False, max_digits=10, decimal_places=3,
        validators=[MinValueValidator(Decimal("0"))],
    )  # fmt: skip

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        lo, hi = data.get("from_kg"), data.get("to_kg")
        if data.get("percent") is None and (data.get("product") or data.get("zone") or hi):
            self.add_error("percent", _("Give the discount of this row."))
        if lo is not None and hi is not None and hi <= lo:
            self.add_error("to_kg", _("The band must end above where it starts."))
        return data


DiscountFormSet = forms.formset_factory(DiscountForm, extra=3, max_num=60)


class TargetForm(Styled):
    """One lane of the account's volume profile (kept in hidden fields) and the customer's
    target price per waybill in it; blank: the lane is not targeted."""

    product = forms.ChoiceField(choices=Product.choices, widget=forms.HiddenInput)
    zone = forms.CharField(max_length=20, widget=forms.HiddenInput)
    from_kg = forms.DecimalField(max_digits=10, decimal_places=3, widget=forms.HiddenInput)
    to_kg = forms.DecimalField(
        max_digits=10, decimal_places=3, required=False, widget=forms.HiddenInput
    )
    price = forms.DecimalField(
        label=_("Target price per waybill (¥)"), required=False, max_digits=12,
        decimal_places=4, min_value=Decimal("0"),
        # Text, not a number box: arrow keys move between rows instead of nudging the value.
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
        error_messages={
            "invalid": _("Type the target price as a number of yuan, e.g. 12.50."),
            "min_value": _("A target price cannot be negative."),
            "max_digits": _("The target price is too large."),
            "max_whole_digits": _("The target price is too large."),
            "max_decimal_places": _("Give the target price to at most four decimals."),
        },
    )  # fmt: skip


class BaseTargetFormSet(forms.BaseFormSet):  # type: ignore[misc]  # Django without stubs
    def clean(self) -> None:
        if any(self.errors):
            return
        if not any(f.cleaned_data.get("price") is not None for f in self.forms):
            raise forms.ValidationError(
                _("Give the customer's target price for at least one lane."), code="no_target"
            )


TargetFormSet = forms.formset_factory(TargetForm, formset=BaseTargetFormSet, extra=0, max_num=500)


class SeasonForm(Styled):
    """A season of the quote's card: a surcharge, or (negative) an off-season reduction,
    on its dates. Only a kept (ticked) row that is filled in counts."""

    keep = forms.BooleanField(label=_("Keep"), required=False, initial=True)
    name = forms.CharField(label=_("Season"), required=False, max_length=60)
    start = forms.DateField(label=_("First day"), required=False, widget=DateInput())
    end = forms.DateField(label=_("Last day"), required=False, widget=DateInput())
    percent = forms.DecimalField(
        label=_("Surcharge (%)"), required=False, max_digits=6, decimal_places=3,
        min_value=Decimal("-100"), max_value=Decimal("100"),
        error_messages={
            "invalid": _("Type the percentage as a number, e.g. 5 or -10."),
            # Django fills these with the limit (%-formatting): a literal % is doubled.
            "min_value": _("A reduction cannot take off more than the freight (-100 %%)."),
            "max_value": _("A season's surcharge is at most 100 %%."),
            "max_decimal_places": _("Give the percentage to at most three decimals."),
        },
    )  # fmt: skip

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["keep"].widget.attrs["aria-label"] = _("Keep this season")

    def filled(self) -> bool:
        data = getattr(self, "cleaned_data", {})
        return any(data.get(k) not in (None, "") for k in ("name", "start", "end", "percent"))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("keep") or not self.filled():
            return data
        for name, message in (
            ("name", _("Name the season.")),
            ("start", _("Give the season's first day.")),
            ("end", _("Give the season's last day.")),
            ("percent", _("Give the season's percentage (negative for a reduction).")),
        ):
            if data.get(name) in (None, "") and name not in self.errors:
                self.add_error(name, message)
        start, end = data.get("start"), data.get("end")
        if start and end and end < start:
            self.add_error("end", _("The season ends before it starts."))
        return data


class BaseSeasonFormSet(forms.BaseFormSet):  # type: ignore[misc]  # Django without stubs
    def kept(self) -> list[tuple[Any, dict[str, Any]]]:
        """The kept, filled-in rows (form, cleaned data)."""
        return [
            (f, f.cleaned_data) for f in self.forms
            if getattr(f, "cleaned_data", None) and f.cleaned_data.get("keep") and f.filled()
        ]  # fmt: skip

    def clean(self) -> None:
        if any(self.errors):
            return
        rows = sorted(self.kept(), key=lambda pair: pair[1]["start"])
        for (_f, a), (form, b) in zip(rows, rows[1:], strict=False):
            if b["start"] <= a["end"]:
                form.add_error(None, _("This season overlaps “%(other)s” (%(start)s to %(end)s).") % {
                    "other": a["name"], "start": a["start"], "end": a["end"],
                })  # fmt: skip
        if any(self.errors):
            raise forms.ValidationError(_("Seasons may not overlap."), code="overlap")


SeasonFormSet = forms.formset_factory(SeasonForm, formset=BaseSeasonFormSet, extra=2, max_num=24)


def season_initial(seasons: Any, *, keep: bool = True) -> list[dict[str, Any]]:
    """Rows of the season formset from seasons (``strategies.Season`` or card peaks)."""
    return [
        {"keep": keep, "name": s.name, "start": s.start, "end": s.end,
         "percent": None if not keep and not s.percent else s.percent}
        for s in seasons
    ]  # fmt: skip


class DecisionForm(Styled):
    decision = forms.ChoiceField(
        label=_("Decision"), choices=[("approved", _("Approve")), ("returned", _("Return"))]
    )
    comment = forms.CharField(
        label=_("Comment"), required=False, max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )  # fmt: skip


class ContractForm(Styled):
    contract_from = forms.DateField(label=_("Contract from"), widget=DateInput())
    contract_to = forms.DateField(label=_("Contract to"), required=False, widget=DateInput())


class QuoteListForm(forms.Form):
    q = forms.CharField(required=False, max_length=100)
    status = forms.ChoiceField(required=False, choices=[("", ""), *QuoteStatus.choices])
    mine = forms.BooleanField(required=False)
    awaiting = forms.BooleanField(required=False)


class GuidanceForm(Styled):
    target_discount = forms.DecimalField(
        label=_("Target discount (%)"), max_digits=6, decimal_places=3,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )  # fmt: skip
    normal_discount = forms.DecimalField(
        label=_("Normal discount (%)"), max_digits=6, decimal_places=3,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )  # fmt: skip
    floor_discount = forms.DecimalField(
        label=_("Floor discount (%)"), max_digits=6, decimal_places=3,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )  # fmt: skip
    margin_floor = forms.DecimalField(
        label=_("Margin floor (%)"), max_digits=6, decimal_places=3,
        validators=[MinValueValidator(Decimal("-100")), MaxValueValidator(Decimal("100"))],
    )  # fmt: skip

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        t, n, f = (data.get(k) for k in ("target_discount", "normal_discount", "floor_discount"))
        if None not in (t, n, f) and not t <= n <= f:  # type: ignore[operator]
            raise forms.ValidationError(
                _("The discounts must rise from target to normal to floor.")
            )
        return data
