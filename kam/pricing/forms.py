"""The pricing pages' forms: a quote's terms, its discount rows, decisions, guidance."""

from decimal import Decimal

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
