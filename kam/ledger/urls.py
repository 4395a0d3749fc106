from django.urls import path

from . import views

app_name = "ledger"

urlpatterns = [
    path("imports/", views.import_list, name="imports"),
    path("imports/new/", views.import_new, name="import_new"),
    path("imports/<int:pk>/", views.import_detail, name="import_detail"),
    path("imports/<int:pk>/rejects.csv", views.rejects_csv, name="rejects_csv"),
    path("imports/<int:pk>/rejects.xlsx", views.rejects_xlsx, name="rejects_xlsx"),
    path("unlinked/", views.unlinked_list, name="unlinked"),
    path("unlinked/<str:code>/link/", views.code_link, name="code_link"),
    path("unlinked/<str:code>/prospect/", views.code_prospect, name="code_prospect"),
    path("facts.csv", views.facts_csv, name="facts_csv"),
    path("facts.xlsx", views.facts_xlsx, name="facts_xlsx"),
]
