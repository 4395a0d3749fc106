from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kam.core.models import AccessLog


class AccessLogFilterForm(forms.Form):
    user = forms.CharField(required=False, max_length=150)
    whose = forms.CharField(required=False, max_length=200)
    action = forms.ChoiceField(required=False, choices=[("", _("All")), *AccessLog.Action.choices])
    date_from = forms.DateField(required=False)
    date_to = forms.DateField(required=False)

    def clean(self) -> dict[str, object]:
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", _("The end date is before the start date."))
        return data


class Styled(forms.Form):
    """Bootstrap classes on every widget, and ``is-invalid`` where a field has errors."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._style()

    def _style(self) -> None:
        for name, field in self.fields.items():
            widget = field.widget
            if isinstance(widget, forms.CheckboxSelectMultiple | forms.CheckboxInput):
                continue
            css = "form-select" if isinstance(widget, forms.Select) else "form-control"
            if self.is_bound and name in (self._errors or {}):
                css += " is-invalid"
            widget.attrs["class"] = css

    def full_clean(self) -> None:
        super().full_clean()
        self._style()


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)
