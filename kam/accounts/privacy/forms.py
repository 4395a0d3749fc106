"""Forms of the personal-information pages."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from ..forms import BootstrapMixin
from ..models import ConsentRecord, LawfulBasis

_DATE = {"type": "date"}


class ConsentForm(BootstrapMixin, forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = ConsentRecord
        fields = ["basis", "purpose", "obtained_on", "withdrawn_on", "evidence"]
        widgets = {
            "obtained_on": forms.DateInput(attrs=_DATE, format="%Y-%m-%d"),
            "withdrawn_on": forms.DateInput(attrs=_DATE, format="%Y-%m-%d"),
            "evidence": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["version"].initial = self.instance.version
        self.fields["basis"].choices = [("", _("Choose a basis…")), *LawfulBasis.choices]
        self._style()

    def service_data(self) -> dict[str, Any]:
        return {f: self.cleaned_data.get(f) for f in self.Meta.fields}


class CorrectionForm(BootstrapMixin, forms.Form):
    """On the contact's edit form: was this change asked for by the person (PIPL Art. 46)?"""

    requested = forms.BooleanField(
        required=False, label=_("The person asked for this correction"),
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )  # fmt: skip
    reason = forms.CharField(
        required=False, max_length=90, label=_("What they asked for"),
        help_text=_("Recorded in the contact's history; do not repeat the old values."),
    )  # fmt: skip

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "correction")
        super().__init__(*args, **kwargs)
        self._style()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("requested") and not (data.get("reason") or "").strip():
            self.add_error("reason", _("Say briefly what the person asked to correct."))
        return data
