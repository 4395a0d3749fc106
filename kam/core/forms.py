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
