"""``django.contrib.admin`` with KAM's admin site (kam.core.adminsite: behind the second
factor). Kept apart from the site because an app config must import before the models."""

from django.contrib.admin.apps import AdminConfig


class KamAdminConfig(AdminConfig):
    default_site = "kam.core.adminsite.KamAdminSite"
