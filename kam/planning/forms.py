"""Forms of the planning pages: they parse; the services decide."""

import datetime
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kam.accounts.models import TIER_CHOICES
from kam.core.forms import DateInput, Styled
from kam.core.models import User

from .models import Action, Horizon, Metric, PlanItem, PlanKind, PlanStatus, Review, Solution, Stage

FIRST_DAY = datetime.date(2000, 1, 1)
LAST_DAY = datetime.date(2100, 12, 31)


def _day(label: Any, required: bool = True) -> forms.DateField:
    return forms.DateField(label=label, widget=DateInput(), required=required,
                           validators=[_in_range])  # fmt: skip


def _in_range(day: datetime.date) -> None:
    if not FIRST_DAY <= day <= LAST_DAY:
        raise forms.ValidationError(_("Choose a day between 2000 and 2100."))


class StaffChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj)


class PlanForm(Styled):
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100)
    kind = forms.ChoiceField(label=pgettext_lazy("plan", "Type"), choices=PlanKind.choices)
    owner = StaffChoice(label=_("Owner"), queryset=User.objects.none())
    team_members = forms.ModelMultipleChoiceField(
        label=_("Plan team"), queryset=User.objects.none(), required=False,
        widget=forms.SelectMultiple(attrs={"size": 5}),
    )  # fmt: skip
    start = _day(_("Plan starts"), required=False)
    end = _day(_("Plan ends"), required=False)
    ambition = forms.CharField(
        label=_("Where the account should go"), max_length=4000, required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )  # fmt: skip

    def __init__(self, *args: Any, staff: QuerySet[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = staff  # type: ignore[attr-defined]
        self.fields["team_members"].queryset = staff  # type: ignore[attr-defined]


class ItemForm(Styled):
    kind = forms.ChoiceField(label=_("Kind"), choices=PlanItem.Kind.choices)
    text = forms.CharField(label=_("Text"), max_length=1000,
                           widget=forms.Textarea(attrs={"rows": 2}))  # fmt: skip
    finding = forms.TypedChoiceField(label=_("From a visit-report finding"), required=False,
                                     coerce=int, empty_value=None)  # fmt: skip
    case = forms.TypedChoiceField(label=_("From a service case"), required=False, coerce=int,
                                  empty_value=None)  # fmt: skip

    def __init__(self, *args: Any, findings: list[Any], cases: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["finding"].choices = (
            [("", "—")]
            + [  # type: ignore[attr-defined]
                (f.pk, f"{f.report.visit.day:%Y-%m-%d} · {f.get_kind_display()} · {f.text[:60]}")
                for f in findings
            ]
        )
        self.fields["case"].choices = (
            [("", "—")]
            + [  # type: ignore[attr-defined]
                (c.pk, f"{c.number} · {c.subject[:60]}") for c in cases
            ]
        )


class ObjectiveForm(Styled):
    metric = forms.ChoiceField(label=_("Metric"), choices=Metric.choices)
    title = forms.CharField(label=_("Objective"), max_length=300, required=False)
    baseline = forms.DecimalField(label=_("Baseline"), max_digits=20, decimal_places=2,
                                  required=False)  # fmt: skip
    target = forms.DecimalField(label=_("Target"), max_digits=20, decimal_places=2,
                                required=False)  # fmt: skip
    target_date = _day(_("Target date"), required=False)


class ActionForm(Styled):
    title = forms.CharField(label=pgettext_lazy("plan", "Action"), max_length=300)
    horizon = forms.TypedChoiceField(label=_("Horizon"), choices=Horizon.choices, coerce=int)
    owner = StaffChoice(label=_("Owner"), queryset=User.objects.none())
    due_date = _day(_("Due date"), required=False)
    resources = forms.CharField(label=_("Resources asked for"), max_length=1000, required=False)
    status = forms.ChoiceField(label=_("Status"), choices=Action.Status.choices, required=False)

    def __init__(self, *args: Any, staff: QuerySet[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = staff  # type: ignore[attr-defined]


class ReviewForm(Styled):
    decision = forms.ChoiceField(label=_("Decision"), choices=Review.Decision.choices)
    comment = forms.CharField(label=_("Comments"), max_length=4000, required=False,
                              widget=forms.Textarea(attrs={"rows": 3}))  # fmt: skip


class ListForm(forms.Form):
    q = forms.CharField(required=False, max_length=100)
    tier = forms.TypedChoiceField(choices=[("", "")] + TIER_CHOICES, coerce=int, required=False,
                                  empty_value=None)  # fmt: skip
    owner = forms.IntegerField(required=False, min_value=1, max_value=2**62)
    status = forms.ChoiceField(choices=[("", "")] + PlanStatus.choices, required=False)
    rag = forms.ChoiceField(choices=[("", ""), ("red", "red"), ("amber", "amber"),
                                     ("green", "green")], required=False)  # fmt: skip
    review_due = forms.BooleanField(required=False)
    year = forms.IntegerField(required=False, min_value=2000, max_value=2100)
    sort = forms.CharField(required=False, max_length=20)


class PolicyForm(Styled):
    def __init__(self, *args: Any, intervals: dict[int, int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for tier, label in TIER_CHOICES:
            self.fields[f"tier_{tier}"] = forms.IntegerField(
                label=label, min_value=7, max_value=730, initial=intervals.get(tier)
            )
        self._style()


# --- opportunities ---------------------------------------------------------------------------


class OpportunityListForm(forms.Form):
    stage = forms.ChoiceField(choices=[("", ""), ("open", "open"), *Stage.choices], required=False)
    solution = forms.IntegerField(required=False, min_value=1, max_value=2**62)
    owner = forms.IntegerField(required=False, min_value=1, max_value=2**62)
    tier = forms.TypedChoiceField(choices=[("", "")] + TIER_CHOICES, coerce=int, required=False,
                                  empty_value=None)  # fmt: skip
    sort = forms.CharField(required=False, max_length=20)


class OpportunityForm(Styled):
    """An opportunity's figures and texts. The probability is checked by the service (one
    message for the form and the API); the form only asks for a whole number."""

    solution = forms.ModelChoiceField(Solution.objects.none(), label=_("solution"))
    title = forms.CharField(label=_("title"), max_length=200, required=False)
    annual_revenue = forms.DecimalField(label=_("estimated annual revenue"), max_digits=14,
                                        decimal_places=2)  # fmt: skip
    annual_margin = forms.DecimalField(label=_("estimated annual margin"), max_digits=14,
                                       decimal_places=2, required=False)  # fmt: skip
    probability = forms.IntegerField(label=_("probability (%)"), min_value=-32768,
                                     max_value=32767)  # fmt: skip
    expected_close = forms.DateField(label=_("expected close date"),
                                     widget=forms.DateInput(attrs={"type": "date"}))  # fmt: skip
    decision_criteria = forms.CharField(label=_("decision criteria"), max_length=4000,
                                        required=False, widget=forms.Textarea(attrs={"rows": 2}))  # fmt: skip
    competitors = forms.CharField(label=_("competitors"), max_length=4000, required=False,
                                  widget=forms.Textarea(attrs={"rows": 2}))  # fmt: skip

    def __init__(self, *args: Any, solutions: QuerySet[Solution], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["solution"].queryset = solutions  # type: ignore[attr-defined]


class SolutionForm(Styled):
    code = forms.SlugField(label=_("code"), max_length=40)
    name_zh = forms.CharField(label=_("name (Chinese)"), max_length=100)
    name_en = forms.CharField(label=_("name (English)"), max_length=100)
    description = forms.CharField(label=_("description"), max_length=2000, required=False,
                                  widget=forms.Textarea(attrs={"rows": 2}))  # fmt: skip
    position = forms.IntegerField(label=_("position"), min_value=0, max_value=32767, initial=0)
    active = forms.BooleanField(label=_("active"), required=False, initial=True)
