"""Forms of the coverage pages: they parse; the services decide."""

import datetime
from typing import Any

from django import forms
from django.forms import formset_factory
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kam.accounts.models import TIER_CHOICES, Category, Contact, CoverageModel, Industry
from kam.core import regions
from kam.core.forms import DateInput, Styled
from kam.core.models import User

from .models import Assignment, Finding, FollowUp

#: Days the pages accept; far-off years would overflow date arithmetic.
FIRST_DAY = datetime.date(2000, 1, 1)
LAST_DAY = datetime.date(2100, 12, 31)


def clamp(day: datetime.date) -> datetime.date:
    return min(max(day, FIRST_DAY), LAST_DAY)


class PlanForm(Styled):
    start = forms.DateField(label=_("From"), widget=DateInput())
    weeks = forms.IntegerField(label=_("Weeks"), min_value=1, max_value=26, initial=12)


class MoveForm(Styled):
    day = forms.DateField(label=_("New date"), widget=DateInput())
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)


class ReportForm(Styled):
    visited_on = forms.DateField(label=_("Date of the visit"), widget=DateInput())
    purpose = forms.CharField(label=_("Purpose"), max_length=300)
    summary = forms.CharField(
        label=_("Summary"), max_length=8000, widget=forms.Textarea(attrs={"rows": 5})
    )
    contacts = forms.ModelMultipleChoiceField(
        label=_("Their attendees"), queryset=Contact.objects.none(), required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": _(
            "Attendees must be contacts of this account; this one is not: %(value)s.")},
    )  # fmt: skip
    staff = forms.ModelMultipleChoiceField(
        label=_("Our attendees"), queryset=User.objects.none(), required=False,
        widget=forms.SelectMultiple(attrs={"size": 4}),
    )  # fmt: skip

    def __init__(self, *args: Any, contacts: Any, staff: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Only this account's contacts that the user sees: another id, whoever's it is or
        # whether it exists at all, gets the same message naming the id posted.
        self.fields["contacts"].queryset = contacts
        self.contact_choices = list(contacts)
        self.fields["staff"].queryset = staff
        if not self.is_bound:
            self.initial.setdefault("visited_on", timezone.localdate())


class FindingForm(Styled):
    kind = forms.ChoiceField(label=_("Kind"), choices=[("", "—"), *Finding.Kind.choices],
                             required=False)  # fmt: skip
    severity = forms.TypedChoiceField(
        label=_("Severity"), choices=[("", "—"), *Finding.Severity.choices], coerce=int,
        required=False, empty_value=None,
    )  # fmt: skip
    text = forms.CharField(label=_("Finding"), max_length=1000, required=False)

    def is_blank(self) -> bool:
        data = self.cleaned_data
        return not (data.get("kind") or data.get("severity") or data.get("text"))


class FollowUpForm(Styled):
    title = forms.CharField(label=_("Next step"), max_length=300, required=False)
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=User.objects.none(), required=False)
    due_date = forms.DateField(label=_("Due date"), required=False, widget=DateInput())

    def __init__(self, *args: Any, owners: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owners if owners is not None else User.objects.none()

    def is_blank(self) -> bool:
        data = self.cleaned_data
        return not (data.get("title") or data.get("owner") or data.get("due_date"))


FindingFormSet = formset_factory(FindingForm, extra=3, max_num=20, validate_max=True)
FollowUpFormSet = formset_factory(FollowUpForm, extra=3, max_num=20, validate_max=True)


class FollowUpUpdateForm(Styled):
    status = forms.ChoiceField(label=_("Status"), choices=FollowUp.Status.choices)
    cancel_reason = forms.CharField(label=_("Reason for cancelling"), max_length=500,
                                    required=False)  # fmt: skip
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=User.objects.none(), required=False)
    due_date = forms.DateField(label=_("Due date"), required=False, widget=DateInput())

    def __init__(self, *args: Any, owners: Any = None, department: bool = False, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owners if owners is not None else User.objects.none()
        if not department:
            del self.fields["owner"]
            del self.fields["due_date"]
            self.fields["status"].choices = [
                c for c in FollowUp.Status.choices if c[0] != FollowUp.Status.CANCELLED
            ]


class RuleForm(Styled):
    tier = forms.TypedChoiceField(label=_("Tier"), choices=TIER_CHOICES, coerce=int)
    category = forms.ChoiceField(
        label=_("Category"), choices=[("", _("All categories")), *Category.choices],
        required=False,
    )  # fmt: skip
    coverage_model = forms.ChoiceField(label=_("Coverage model"), choices=CoverageModel.choices)
    # Not required: a row left without a cadence (the blank extra row) is no rule; a zero
    # is refused by the service with its message.
    cadence_days = forms.IntegerField(label=_("Visit every (days)"), max_value=366, required=False)
    executive_every = forms.IntegerField(label=_("Executive visit every (visits)"), min_value=0,
                                         max_value=52, initial=0)  # fmt: skip
    survey_months = forms.IntegerField(label=_("Survey every (months)"), min_value=1,
                                       max_value=60, initial=12)  # fmt: skip


RuleFormSet = formset_factory(RuleForm, extra=1, can_delete=True, max_num=60)


class PolicyNoteForm(Styled):
    note = forms.CharField(label=_("What changed"), max_length=300, required=False)


class CapacityForm(Styled):
    user = forms.ModelChoiceField(label=_("Person"), queryset=User.objects.none())
    visits_per_day = forms.IntegerField(label=_("Visits per working day"), max_value=20)

    def __init__(self, *args: Any, people: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = people


class AssignmentForm(Styled):
    user = forms.ModelChoiceField(label=_("Person"), queryset=User.objects.none())
    kind = forms.ChoiceField(label=_("Kind"), choices=Assignment.Kind.choices)
    industry = forms.ModelChoiceField(label=_("Industry"), queryset=Industry.objects.all(),
                                      required=False)  # fmt: skip
    province_code = forms.ChoiceField(label=_("Province"), required=False)
    city_code = forms.ChoiceField(label=_("City"), required=False)

    def __init__(self, *args: Any, people: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = people
        self.fields["province_code"].choices = [("", "—")] + [
            (r.code, r.name) for r in regions.provinces()
        ]
        self.fields["city_code"].choices = [("", "—")] + [
            (r.code, f"{regions.label(r.province_code)} · {r.name}") for r in regions.cities()
        ]


class PeriodForm(Styled):
    start = forms.DateField(label=_("From"), required=False, widget=DateInput())
    end = forms.DateField(label=_("To"), required=False, widget=DateInput())

    def period(self, today: datetime.date) -> tuple[datetime.date, datetime.date]:
        data = self.cleaned_data if self.is_valid() else {}
        end = clamp(data.get("end") or today)
        start = clamp(data.get("start") or end - datetime.timedelta(days=89))
        if start > end:
            start, end = end, start
        return start, end
