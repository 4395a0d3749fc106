"""Forms of the ledger's pages. They parse and validate input; services do the writing."""

from datetime import date
from typing import Any

from django import forms
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from kam.accounts.forms import BootstrapMixin
from kam.core import regions

from . import selectors
from .models import ImportBatch

ACCEPT = ".csv,.txt,.tsv,.xlsx,.parquet,.json,.ndjson,.jsonl"
ENCODING_CHOICES = [
    ("", _("Detect automatically")),
    ("utf-8", "UTF-8"),
    ("gb18030", _("GBK / GB18030 (Chinese Excel)")),
    ("utf-16", "UTF-16"),
]
FORMAT_CHOICES = [
    ("", _("Detect automatically")),
    ("csv", "CSV"),
    ("xlsx", _("Excel workbook (XLSX)")),
    ("parquet", "Parquet"),
    ("json", _("JSON / NDJSON")),
]
MONTH = r"^\d{4}-(0[1-9]|1[0-2])$"
CODE = r"^[A-Za-z0-9_-]+$"


class UploadForm(BootstrapMixin, forms.Form):
    file = forms.FileField(
        label=_("File"),
        error_messages={
            "required": _("Choose a file to import."),
            "empty": _("The file is empty."),
        },
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}),
    )
    encoding = forms.ChoiceField(
        required=False,
        choices=ENCODING_CHOICES,
        label=_("Text encoding"),
        help_text=_("For CSV files. Chinese Excel saves CSV as GBK / GB18030."),
    )
    format = forms.ChoiceField(
        required=False,
        choices=FORMAT_CHOICES,
        label=_("Format"),
        help_text=_("Normally read from the file itself."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._style()


class ImportFilterForm(forms.Form):
    status = forms.ChoiceField(
        required=False,
        choices=[("", _("Any status")), *ImportBatch.Status.choices],
        label=_("Status"),
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
    )


class UnlinkedFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=40, label=_("Search"))
    sort = forms.ChoiceField(required=False, choices=[(k, k) for k in selectors.UNLINKED_SORTS])


class AccountSearchForm(forms.Form):
    q = forms.CharField(required=False, max_length=100, label=_("Find the account"))


class LinkForm(BootstrapMixin, forms.Form):
    account = forms.IntegerField(
        min_value=1,
        label=_("Account"),
        error_messages={"required": _("Choose the account this code belongs to.")},
    )
    note = forms.CharField(required=False, max_length=200, label=_("Note"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._style()


class ProspectForm(BootstrapMixin, forms.Form):
    name = forms.CharField(max_length=200, label=_("Name"))
    name_en = forms.CharField(required=False, max_length=200, label=_("English name"))
    province_code = forms.ChoiceField(required=False, label=_("Province"))
    # A CharField, not a ChoiceField: the account model says when a city is not in the province.
    city_code = forms.CharField(required=False, max_length=6, label=_("City"), widget=forms.Select)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        province = self.data.get("province_code", "") if self.is_bound else ""
        self.fields["province_code"].choices = [
            ("", "—"),
            *((r.code, r.name) for r in regions.provinces()),
        ]
        self.fields["city_code"].widget.choices = [
            ("", "—"),
            *((r.code, r.name) for r in (regions.cities(province) if province else [])),
        ]
        self.fields["city_code"].widget.attrs["id"] = "id_city_code"
        self.fields["province_code"].widget.attrs.update(
            {
                "hx-get": reverse_lazy("region_cities"),
                "hx-target": "#id_city_code",
                "hx-trigger": "change",
                "hx-swap": "innerHTML",
            }
        )
        self._style()

    def service_data(self) -> dict[str, Any]:
        return {f: self.cleaned_data.get(f) or "" for f in self.fields}


def _month(value: str) -> date | None:
    if not value:
        return None
    year, month = value.split("-")
    return date(int(year), int(month), 1)


class FactsExportForm(forms.Form):
    """Which facts to download: an account's, a group tree's or one code's, by month."""

    account = forms.IntegerField(required=False, min_value=1)
    group = forms.IntegerField(required=False, min_value=1)
    code = forms.RegexField(required=False, regex=CODE, max_length=40)
    month_from = forms.RegexField(
        required=False, regex=MONTH, error_messages={"invalid": _("Write the month as YYYY-MM.")}
    )
    month_to = forms.RegexField(
        required=False, regex=MONTH, error_messages={"invalid": _("Write the month as YYYY-MM.")}
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not (data.get("account") or data.get("group") or data.get("code")):
            raise forms.ValidationError(
                _("Say whose facts: an account, a group or a billing code.")
            )
        start, end = _month(data.get("month_from") or ""), _month(data.get("month_to") or "")
        if start and end and start > end:
            self.add_error("month_to", _("The last month is before the first."))
        data["start"], data["end"] = start, end
        return data
