"""Forms of the service pages (parsing only: the rules are in the services)."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kam.accounts.models import TIER_CHOICES, Account, Category, Contact, Industry
from kam.core.models import User

from .models import (
    Action,
    CaseType,
    Channel,
    RootCause,
    Severity,
    SlaPolicy,
    Status,
    SurveyTemplate,
)

_INPUT = {"class": "form-control"}
_SELECT = {"class": "form-select"}


class CaseForm(forms.Form):
    kind = forms.ChoiceField(label=_("Type"), choices=CaseType.choices,
                             widget=forms.Select(attrs=_SELECT))  # fmt: skip
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices,
                                widget=forms.Select(attrs=_SELECT))  # fmt: skip
    severity = forms.ChoiceField(label=_("Severity"), choices=Severity.choices,
                                 initial=Severity.MEDIUM, widget=forms.Select(attrs=_SELECT))  # fmt: skip
    subject = forms.CharField(label=_("Subject"), max_length=200,
                              widget=forms.TextInput(attrs=_INPUT))  # fmt: skip
    description = forms.CharField(label=_("Description"), max_length=4000, required=False,
                                  widget=forms.Textarea(attrs={**_INPUT, "rows": 4}))  # fmt: skip
    waybills = forms.CharField(
        label=_("Waybill numbers"), required=False, max_length=2000,
        help_text=_("Separated by spaces, commas or new lines."),
        widget=forms.Textarea(attrs={**_INPUT, "rows": 2}),
    )  # fmt: skip
    contacts = forms.ModelMultipleChoiceField(
        label=_("Contacts involved"), queryset=Contact.objects.none(), required=False,
        widget=forms.CheckboxSelectMultiple,
    )  # fmt: skip
    assignee = forms.ModelChoiceField(
        label=_("Assignee"), queryset=User.objects.none(), required=False,
        empty_label=_("By rule"),
        help_text=_("By rule: the account's service rep, else next in turn"),
        widget=forms.Select(attrs=_SELECT),
    )  # fmt: skip
    claim_amount = forms.DecimalField(
        label=_("Claimed amount (CNY)"), required=False, max_digits=14, decimal_places=2,
        min_value=0.01, widget=forms.NumberInput(attrs={**_INPUT, "step": "0.01"}),
    )  # fmt: skip

    def __init__(self, *args: Any, account: Account, contacts: Any, assignees: Any,
                 **kwargs: Any) -> None:  # fmt: skip
        super().__init__(*args, **kwargs)
        self.fields["contacts"].queryset = contacts
        self.fields["assignee"].queryset = assignees


class TransitionForm(forms.Form):
    action = forms.CharField(max_length=20)
    note = forms.CharField(label=_("Resolution note"), required=False, max_length=4000,
                           widget=forms.Textarea(attrs={**_INPUT, "rows": 3}))  # fmt: skip
    root_cause = forms.ModelChoiceField(
        label=_("Root cause"), queryset=RootCause.objects.filter(active=True), required=False,
        widget=forms.Select(attrs=_SELECT),
    )  # fmt: skip
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(label=_("Assignee"), queryset=User.objects.none(),
                                      widget=forms.Select(attrs=_SELECT))  # fmt: skip
    reason = forms.CharField(label=_("Reason"), required=False, max_length=200,
                             widget=forms.TextInput(attrs={**_INPUT, "placeholder": _("Optional")}))  # fmt: skip

    def __init__(self, *args: Any, assignees: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = assignees


class ClaimForm(forms.Form):
    amount = forms.DecimalField(label=_("Amount (CNY)"), max_digits=14, decimal_places=2,
                                min_value=0.01,
                                widget=forms.NumberInput(attrs={**_INPUT, "step": "0.01"}))  # fmt: skip


class QueueForm(forms.Form):
    SORTS = [("due", _("Time left")), ("-opened", _("Newest")), ("severity", _("Severity"))]
    scope = forms.ChoiceField(
        required=False, choices=[("mine", _("My queue")), ("all", _("Department"))]
    )
    sort = forms.ChoiceField(required=False, choices=SORTS)
    status = forms.ChoiceField(required=False, choices=[("", _("All open")), *Status.choices],
                               widget=forms.Select(attrs={"class": "form-select form-select-sm"}))  # fmt: skip
    kind = forms.ChoiceField(required=False, choices=[("", _("All types")), *CaseType.choices],
                             widget=forms.Select(attrs={"class": "form-select form-select-sm"}))  # fmt: skip
    account = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    q = forms.CharField(required=False, max_length=100,
                        widget=forms.TextInput(attrs={"class": "form-control form-control-sm",
                                                      "placeholder": _("Search")}))  # fmt: skip


def _shares(text: str) -> list[int]:
    try:
        return [int(p) for p in text.replace("，", ",").replace("%", "").split(",") if p.strip()]
    except ValueError:
        raise forms.ValidationError(
            _("Give the warnings as whole percentages, e.g. 50, 80.")
        ) from None


class PolicyForm(forms.ModelForm):
    warning_text = forms.CharField(
        label=_("Warnings at (percent of the target)"), required=False, max_length=100,
        initial="50, 80", widget=forms.TextInput(attrs=_INPUT),
        help_text=_("Comma-separated percentages below 100, e.g. 50, 80."),
    )  # fmt: skip
    response_hours = forms.DecimalField(label=_("First response target (hours)"), min_value=0.05,
                                        max_digits=7, decimal_places=2,
                                        widget=forms.NumberInput(attrs={**_INPUT, "step": "0.25"}))  # fmt: skip
    resolution_hours = forms.DecimalField(label=_("Resolution target (hours)"), min_value=0.05,
                                          max_digits=7, decimal_places=2,
                                          widget=forms.NumberInput(attrs={**_INPUT, "step": "0.25"}))  # fmt: skip
    warning_actions = forms.MultipleChoiceField(
        label=_("Actions on a warning"), required=False,
        choices=[c for c in Action.choices if c[0] != Action.REASSIGN],
        widget=forms.CheckboxSelectMultiple,
    )  # fmt: skip
    violation_actions = forms.MultipleChoiceField(label=_("Actions on a violation"), required=False,
                                                  choices=Action.choices,
                                                  widget=forms.CheckboxSelectMultiple)  # fmt: skip

    class Meta:
        model = SlaPolicy
        fields = [
            "name",
            "tier",
            "severity",
            "clock",
            "day_start",
            "day_end",
            "reassign_to",
            "active",
        ]
        widgets = {
            "name": forms.TextInput(attrs=_INPUT),
            "tier": forms.Select(attrs=_SELECT),
            "severity": forms.Select(attrs=_SELECT),
            "clock": forms.Select(attrs=_SELECT),
            "day_start": forms.TimeInput(attrs={**_INPUT, "type": "time"}, format="%H:%M"),
            "day_end": forms.TimeInput(attrs={**_INPUT, "type": "time"}, format="%H:%M"),
            "reassign_to": forms.Select(attrs=_SELECT),
            "active": forms.CheckboxInput(attrs={"class": "form-check-input"}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reassign_to"].queryset = User.objects.filter(
            is_active=True, role__in=["director", "department", "manager", "service"])  # fmt: skip
        if self.instance.pk:
            self.fields["warning_text"].initial = ", ".join(
                str(s) for s in self.instance.warning_shares
            )
            self.fields["response_hours"].initial = round(self.instance.response_minutes / 60, 2)
            self.fields["resolution_hours"].initial = round(
                self.instance.resolution_minutes / 60, 2
            )
            self.fields["warning_actions"].initial = self.instance.warning_actions
            self.fields["violation_actions"].initial = self.instance.violation_actions

    def clean_warning_text(self) -> list[int]:
        return _shares(self.cleaned_data.get("warning_text", ""))

    def apply(self) -> SlaPolicy:
        policy: SlaPolicy = self.instance
        for name in self.Meta.fields:
            setattr(policy, name, self.cleaned_data[name])
        policy.warning_shares = self.cleaned_data["warning_text"]
        policy.response_minutes = round(self.cleaned_data["response_hours"] * 60)
        policy.resolution_minutes = round(self.cleaned_data["resolution_hours"] * 60)
        policy.warning_actions = self.cleaned_data["warning_actions"]
        policy.violation_actions = self.cleaned_data["violation_actions"]
        return policy


class CampaignForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200, widget=forms.TextInput(attrs=_INPUT))
    template = forms.ModelChoiceField(label=_("Questionnaire"), queryset=SurveyTemplate.objects.all(),
                                      widget=forms.Select(attrs=_SELECT))  # fmt: skip
    expires_at = forms.DateTimeField(label=_("Links expire"),
                                     widget=forms.DateTimeInput(attrs={**_INPUT, "type": "datetime-local"}))  # fmt: skip
    tiers = forms.TypedMultipleChoiceField(label=_("Tiers"), choices=TIER_CHOICES, coerce=int,
                                           required=False, widget=forms.CheckboxSelectMultiple)  # fmt: skip
    categories = forms.MultipleChoiceField(label=_("Categories"), choices=Category.choices,
                                           required=False, widget=forms.CheckboxSelectMultiple)  # fmt: skip
    industries = forms.ModelMultipleChoiceField(label=_("Industries"), queryset=Industry.objects.all(),
                                                required=False,
                                                widget=forms.SelectMultiple(attrs={**_SELECT, "size": 5}))  # fmt: skip
    owners = forms.ModelMultipleChoiceField(
        label=_("Account owners"), required=False,
        queryset=User.objects.filter(is_active=True, role__in=["manager", "director", "department"]),
        widget=forms.SelectMultiple(attrs={**_SELECT, "size": 5}),
    )  # fmt: skip
