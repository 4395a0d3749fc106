from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from .figures import CRITERIA
from .messages import CRITERION_LABELS, FIELD_LABELS
from .rules import Rules

NUMBER = {"class": "form-control form-control-sm", "step": "any", "inputmode": "decimal"}
SCALARS = ("economic_threshold", "abc_a", "abc_b", "economic_tier", "strategic_growth",
           "strategic_min_score", "potential_growth", "potential_min_percentile",
           "potential_min_months", "decline_drop", "silence_days", "daily_shipper_days",
           "lane_loss_share", "clv_horizon_months", "discount_rate")  # fmt: skip
INTEGERS = {"economic_tier", "potential_min_months", "silence_days", "daily_shipper_days",
            "clv_horizon_months"}  # fmt: skip


class RulesForm(forms.Form):
    """Every knob of :class:`Rules`; contradictions are checked by the service."""

    note = forms.CharField(label=_("What changed and why"), max_length=200, required=False,
                           widget=forms.TextInput(attrs={"class": "form-control form-control-sm"}))  # fmt: skip

    def __init__(self, *args: Any, rules: Rules, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in SCALARS:
            field_class = forms.IntegerField if name in INTEGERS else forms.FloatField
            self.fields[name] = field_class(label=FIELD_LABELS[name], initial=getattr(rules, name),
                                            widget=forms.NumberInput(attrs=NUMBER))  # fmt: skip
        for i, cut in enumerate(rules.tier_cutoffs, start=1):
            self.fields[f"cutoff_{i}"] = forms.FloatField(
                label=_("Tier %(n)s from score") % {"n": i},
                initial=cut,
                widget=forms.NumberInput(attrs=NUMBER),
            )
        for name in CRITERIA:
            self.fields[f"weight_{name}"] = forms.FloatField(
                label=CRITERION_LABELS[name],
                initial=rules.weights.get(name, 0.0),
                widget=forms.NumberInput(attrs=NUMBER),
            )

    def rules_data(self) -> dict[str, Any]:
        data = self.cleaned_data
        out: dict[str, Any] = {name: data[name] for name in SCALARS}
        out["tier_cutoffs"] = [data[f"cutoff_{i}"] for i in range(1, 5)]
        out["weights"] = {name: data[f"weight_{name}"] for name in CRITERIA}
        return out


class OverrideForm(forms.Form):
    tier = forms.TypedChoiceField(label=_("Tier"), coerce=int,
                                  choices=[(i, _("Tier %(n)s") % {"n": i}) for i in range(1, 6)],
                                  widget=forms.Select(attrs={"class": "form-select"}))  # fmt: skip
    reason = forms.CharField(label=_("Reason"), max_length=2000,
                             widget=forms.Textarea(attrs={"class": "form-control", "rows": 3}))  # fmt: skip


class NoteForm(forms.Form):
    note = forms.CharField(label=_("Note"), max_length=2000, required=False,
                           widget=forms.TextInput(attrs={"class": "form-control form-control-sm"}))  # fmt: skip


class ProspectForm(forms.Form):
    name = forms.CharField(label=_("Company name"), max_length=200,
                           widget=forms.TextInput(attrs={"class": "form-control form-control-sm"}))  # fmt: skip
