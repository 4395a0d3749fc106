from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "kam.accounts"
    label = "accounts"
    verbose_name = _("Key-account archive")

    def ready(self) -> None:
        from kam.core.views import FIELD_LABELS

        from .models import Contact

        for name in (*Contact.DETAIL_FIELDS, *Contact.PERSONAL_FIELDS, "name"):
            FIELD_LABELS[name] = Contact._meta.get_field(name).verbose_name
