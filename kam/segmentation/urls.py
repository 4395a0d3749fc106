from django.urls import path

from . import views

app_name = "segmentation"

urlpatterns = [
    path("", views.portfolio, name="portfolio"),
    path("run/", views.run_start, name="run_start"),
    path("runs/", views.run_list, name="runs"),
    path("runs/compare/", views.run_compare, name="run_compare"),
    path("runs/<int:pk>/", views.run_detail, name="run_detail"),
    path("proposals/", views.proposal_list, name="proposals"),
    path("proposals/<int:pk>/accept/", views.proposal_accept, name="proposal_accept"),
    path("accounts/<int:account_pk>/tier/", views.tier_override, name="tier_override"),
    path("candidates/", views.candidate_list, name="candidates"),
    path("alerts/", views.alert_list, name="alerts"),
    path("rules/", views.rules_edit, name="rules"),
]
