"""Forms of the archive's pages. They parse and validate input; services do the writing."""

import html
from collections.abc import Iterator
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.forms.utils import flatatt
from django.utils.choices import BaseChoiceIterator
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from kam.core import regions
from kam.core.models import User

from .models import (
    TIER_CHOICES,
    Account,
    AccountStatus,
    Category,
    Contact,
    ContactTie,
    CorporateGroup,
    Industry,
    Stage,
    TeamRole,
)
from .selectors import ACCOUNT_SORTS


def _region_choices(items: list[regions.Region], empty: str) -> list[tuple[str, str]]:
    return [("", empty), *((r.code, r.name) for r in items)]


class LongSelect(forms.Select):
    """A select of many plain options (thousands of corporate groups), rendered in Python:
    Django renders each option through a template, 0.1 ms apiece, which made the account
    list's group filter most of the page's time with 5,000 groups (bench/web). Each value
    and label is escaped as Django's ``escape`` does (``html.escape``), without its lazy
    wrapper per call (``format_html`` per option was still 10 µs apiece)."""

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None,
               renderer: Any = None) -> SafeString:  # fmt: skip
        final = self.build_attrs(self.attrs, attrs or {})
        final["name"] = name
        selected = {str(v) for v in self.format_value(value)}
        options = "".join(
            f'<option value="{html.escape(str(v))}"{" selected" if str(v) in selected else ""}>'
            f"{html.escape(str(label))}</option>"
            for v, label in self.choices
        )
        # Escaped above: values and labels are the database's names, never trusted as HTML.
        return format_html("<select{}>{}</select>", flatatt(final), mark_safe(options))  # noqa: S308


class PlainChoices(BaseChoiceIterator):
    """Choices already as (value, label) pairs, kept as they are: Django normalizes a list
    of choices item by item whenever a form sets it, thousands of corporate groups on every
    account list."""

    def __init__(self, choices: list[tuple[Any, Any]]) -> None:
        self.choices = choices

    def __iter__(self) -> Iterator[tuple[Any, Any]]:
        return iter(self.choices)


class BootstrapMixin:
    """Bootstrap classes on every widget, and ``is-invalid`` where a field has errors."""

    def _style(self) -> None:
        for name, field in self.fields.items():  # type: ignore[attr-defined]
            widget = field.widget
            if isinstance(widget, forms.CheckboxSelectMultiple | forms.CheckboxInput):
                continue
            css = "form-select" if isinstance(widget, forms.Select) else "form-control"
            if self.is_bound and name in self.errors:  # type: ignore[attr-defined]
                css += " is-invalid"
            widget.attrs["class"] = css

    def full_clean(self) -> None:
        super().full_clean()  # type: ignore[misc]
        self._style()


class AccountFilterForm(BootstrapMixin, forms.Form):
    """The account list's search, filters and sort, from the query string."""

    q = forms.CharField(required=False, max_length=100, label=_("Search"))
    tier = forms.TypedMultipleChoiceField(
        required=False, coerce=int, choices=TIER_CHOICES, label=_("Tier"),
    )  # fmt: skip
    category = forms.MultipleChoiceField(
        required=False, choices=Category.choices, label=_("Category")
    )
    industry = forms.ChoiceField(required=False, label=_("Industry"))
    province = forms.ChoiceField(required=False, label=_("Province"))
    owner = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, label=_("Owner"))
    stage = forms.MultipleChoiceField(required=False, choices=Stage.choices, label=_("Stage"))
    status = forms.ChoiceField(
        required=False, choices=[("", _("Any status")), *AccountStatus.choices], label=_("Status")
    )
    group = forms.TypedChoiceField(
        required=False, coerce=int, empty_value=None, label=_("Group"), widget=LongSelect
    )
    sort = forms.ChoiceField(
        required=False,
        choices=[(k, k) for key in ACCOUNT_SORTS for k in (key, f"-{key}")],
    )

    def __init__(self, *args: Any, owners: list[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["industry"].choices = [("", _("All industries"))] + [
            (i.code, str(i)) for i in Industry.objects.all()
        ]
        self.fields["province"].choices = _region_choices(regions.provinces(), _("All provinces"))
        self.fields["owner"].choices = [("", _("Any owner"))] + [(u.pk, str(u)) for u in owners]
        # Thousands of groups: names, not model instances (str() asked the language each).
        english = (get_language() or "").startswith("en")
        self.fields["group"].choices = PlainChoices([("", _("Any group"))] + [
            (pk, name_en if english and name_en else name)
            for pk, name, name_en in CorporateGroup.objects.values_list("pk", "name", "name_en")
        ])  # fmt: skip
        self._style()

    def search_arguments(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "q": data.get("q") or "",
            "tiers": data.get("tier") or None,
            "categories": data.get("category") or None,
            "industry": data.get("industry") or "",
            "province": data.get("province") or "",
            "owner": data.get("owner"),
            "stages": data.get("stage") or None,
            "status": data.get("status") or "",
            "group": data.get("group"),
            "sort": data.get("sort") or "name",
        }


class AccountForm(BootstrapMixin, forms.ModelForm):
    categories = forms.MultipleChoiceField(
        required=False, choices=Category.choices, widget=forms.CheckboxSelectMultiple,
        label=_("Categories"),
    )  # fmt: skip
    province_code = forms.ChoiceField(required=False, label=_("Province"))
    # A CharField, not a ChoiceField: the model says when a city is not in the province.
    city_code = forms.CharField(required=False, label=_("City"), widget=forms.Select)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Account
        fields = [
            "name", "name_en", "credit_code", "legal_representative", "industry", "employees",
            "main_products", "annual_output_value", "profit_status", "province_code", "city_code",
            "address", "group", "tier", "stage", "coverage_model", "logistics_spend_estimate",
            "inhouse_logistics_share", "status", "notes",
        ]  # fmt: skip
        widgets = {"notes": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        province = (self.data.get("province_code") if self.is_bound else None) or (
            self.instance.province_code if self.instance.pk else ""
        )
        self.fields["province_code"].choices = _region_choices(regions.provinces(), "—")
        self.fields["city_code"].widget.choices = _region_choices(
            regions.cities(province) if province else [], "—"
        )
        self.fields["city_code"].widget.attrs.update({"id": "id_city_code"})
        self.fields["province_code"].widget.attrs.update(
            {
                "hx-get": "/regions/cities",
                "hx-target": "#id_city_code",
                "hx-trigger": "change",
                "hx-swap": "innerHTML",
            }  # fmt: skip
        )
        self.fields["credit_code"].widget.attrs.update(
            {"autocomplete": "off", "spellcheck": "false"}
        )
        if self.instance.pk:
            self.fields["categories"].initial = self.instance.categories
            self.fields["version"].initial = self.instance.version
        self._style()

    def service_data(self) -> dict[str, Any]:
        data = {f: self.cleaned_data.get(f) for f in self.Meta.fields}
        data["categories"] = self.cleaned_data.get("categories", [])
        return data


class ContactForm(BootstrapMixin, forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Contact
        fields = [
            "name", "title", "department", "reports_to", "buying_role", "attitude", "influence",
            "closeness", "trust", "favour", "last_contacted",
            *Contact.DETAIL_FIELDS, *Contact.PERSONAL_FIELDS,
        ]  # fmt: skip
        widgets = {
            "last_contacted": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "birthday": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            # Encrypted fields are text columns; contact details are one line each.
            **{f: forms.TextInput() for f in Contact.DETAIL_FIELDS},
            **{
                f: forms.Textarea(attrs={"rows": 2})
                for f in Contact.PERSONAL_FIELDS
                if f != "birthday"
            },
        }

    def __init__(
        self, *args: Any, account: Account, protected_fields: tuple[str, ...], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        for name in (*Contact.DETAIL_FIELDS, *Contact.PERSONAL_FIELDS):
            if name not in protected_fields:
                del self.fields[name]
        others = (
            account.contacts.exclude(pk=self.instance.pk)
            if self.instance.pk
            else account.contacts.all()
        )
        self.fields["reports_to"].queryset = others.filter(erased_at__isnull=True)
        for name in ("closeness", "trust", "favour"):
            self.fields[name].widget.attrs.update({"min": 1, "max": 5})
        if self.instance.pk:
            self.fields["version"].initial = self.instance.version
        self._style()

    def service_data(self) -> dict[str, Any]:
        return {f: self.cleaned_data.get(f) for f in self.fields if f != "version"}


class TieForm(BootstrapMixin, forms.Form):
    to_contact = forms.ModelChoiceField(queryset=Contact.objects.none(), label=_("Knows"))
    kind = forms.ChoiceField(
        choices=ContactTie._meta.get_field("kind").choices, label=_("Relation")
    )
    note = forms.CharField(required=False, max_length=500, label=_("Note"))
    since = forms.DateField(
        required=False, label=_("Since"), widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, contacts: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "tie_%s")  # the contact page also has the staff-tie form
        super().__init__(*args, **kwargs)
        self.fields["to_contact"].queryset = contacts
        self.fields["to_contact"].label_from_instance = lambda c: (
            f"{c.name} · {c.title} · {c.account}"
        )
        self._style()


class StaffTieForm(BootstrapMixin, forms.Form):
    user = forms.ModelChoiceField(
        queryset=User.objects.none(), label=_("Our staff"), empty_label=_("Choose a person…")
    )
    strength = forms.TypedChoiceField(
        coerce=int, initial=3, label=_("How well (1–5)"),
        choices=[(i, str(i)) for i in range(1, 6)],
    )  # fmt: skip
    note = forms.CharField(required=False, max_length=500, label=_("Note"))
    since = forms.DateField(
        required=False, label=_("Since"), widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, users: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "staff_tie_%s")
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = users
        self._style()


class TeamMemberForm(BootstrapMixin, forms.Form):
    user = forms.ModelChoiceField(
        queryset=User.objects.none(), label=_("User"), empty_label=_("Choose a person…")
    )
    role = forms.ChoiceField(choices=TeamRole.choices, label=_("Team role"))

    def __init__(self, *args: Any, users: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = users
        self._style()


class BillingCodeForm(BootstrapMixin, forms.Form):
    code = forms.RegexField(
        regex=r"^[A-Za-z0-9_-]+$", max_length=40, label=_("Billing account code"),
        error_messages={"invalid": _("Use letters, digits, “-” and “_” only.")},
    )  # fmt: skip
    note = forms.CharField(required=False, max_length=200, label=_("Note"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._style()


class GroupForm(BootstrapMixin, forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = CorporateGroup
        fields = ["name", "name_en", "parent", "notes"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["parent"].queryset = CorporateGroup.objects.exclude(pk=self.instance.pk)
            self.fields["version"].initial = self.instance.version
        self._style()

    def service_data(self) -> dict[str, Any]:
        return {f: self.cleaned_data.get(f) for f in self.Meta.fields}


def refuse_on_form(form: forms.BaseForm, exc: Exception) -> None:
    """Put a service's refusal on the form: a ValidationError field by field, an
    ApplicationError (conflict, permission) as a form-wide error."""
    if not isinstance(exc, ValidationError):
        form.add_error(None, str(getattr(exc, "message", exc)))
    elif hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)
