from django.urls import path

from . import views

urlpatterns = [
    path("contacts/<int:pk>/privacy/", views.contact_privacy, name="contact_privacy"),
    path(
        "contacts/<int:pk>/privacy/export.json",
        views.contact_export,
        {"fmt": "json"},
        name="contact_export_json",
    ),
    path(
        "contacts/<int:pk>/privacy/export.xlsx",
        views.contact_export,
        {"fmt": "xlsx"},
        name="contact_export_xlsx",
    ),
    path("contacts/<int:pk>/privacy/bases/new/", views.consent_create, name="consent_create"),
    path(
        "contacts/<int:pk>/privacy/bases/<int:record_id>/edit/",
        views.consent_edit,
        name="consent_edit",
    ),
    path(
        "contacts/<int:pk>/privacy/bases/<int:record_id>/delete/",
        views.consent_delete,
        name="consent_delete",
    ),
    path("privacy/retention/", views.retention_list, name="privacy_retention"),
    path("privacy/retention/<int:pk>/", views.retention_detail, name="privacy_retention_detail"),
]
