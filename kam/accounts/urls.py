from django.urls import include, path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/", views.account_list, name="account_list"),
    path("accounts/export.xlsx", views.account_export, name="account_export"),
    path("accounts/new/", views.account_create, name="account_create"),
    path("accounts/<int:pk>/", views.account_detail, name="account_detail"),
    path("accounts/<int:pk>/edit/", views.account_edit, name="account_edit"),
    path("accounts/<int:pk>/delete/", views.account_delete, name="account_delete"),
    path("accounts/<int:pk>/billing-codes/", views.billing_code_add, name="billing_code_add"),
    path(
        "accounts/<int:pk>/billing-codes/<int:code_id>/remove/",
        views.billing_code_remove,
        name="billing_code_remove",
    ),
    path("accounts/<int:pk>/team/", views.team_add, name="team_add"),
    path("accounts/<int:pk>/team/<int:member_id>/remove/", views.team_remove, name="team_remove"),
    path("accounts/<int:pk>/contacts/new/", views.contact_create, name="contact_create"),
    path("contacts/<int:pk>/", views.contact_detail, name="contact_detail"),
    path("contacts/<int:pk>/edit/", views.contact_edit, name="contact_edit"),
    path("contacts/<int:pk>/erase/", views.contact_erase, name="contact_erase"),
    path("contacts/<int:pk>/ties/", views.tie_add, name="tie_add"),
    path("contacts/<int:pk>/ties/<int:tie_id>/delete/", views.tie_delete, name="tie_delete"),
    path("contacts/<int:pk>/staff-ties/", views.staff_tie_add, name="staff_tie_add"),
    path(
        "contacts/<int:pk>/staff-ties/<int:tie_id>/delete/",
        views.staff_tie_delete,
        name="staff_tie_delete",
    ),
    path("groups/", views.group_list, name="group_list"),
    path("groups/new/", views.group_form, name="group_create"),
    path("groups/<int:pk>/", views.group_detail, name="group_detail"),
    path("groups/<int:pk>/edit/", views.group_form, name="group_edit"),
    path("groups/<int:pk>/delete/", views.group_delete, name="group_delete"),
    path("regions/cities", views.region_cities, name="region_cities"),
    path("", include("kam.accounts.privacy.urls")),
]
