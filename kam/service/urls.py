from django.urls import path

from . import survey_views, views

app_name = "service"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("assign/", views.bulk_assign, name="bulk_assign"),
    path("cases/new/", views.case_new, name="case_new"),
    path("cases/<int:pk>/", views.case_detail, name="case_detail"),
    path("cases/<int:pk>/action/", views.case_action, name="case_action"),
    path("cases/<int:pk>/assign/", views.case_assign, name="case_assign"),
    path("cases/<int:pk>/claims/", views.claim_add, name="claim_add"),
    path("cases/<int:pk>/claims/<int:claim>/", views.claim_decide, name="claim_decide"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("policies/", views.policy_list, name="policies"),
    path("policies/new/", views.policy_edit, name="policy_new"),
    path("policies/<int:pk>/", views.policy_edit, name="policy_edit"),
    path("surveys/", survey_views.campaign_list, name="campaigns"),
    path("surveys/new/", survey_views.campaign_new, name="campaign_new"),
    path("surveys/results/", survey_views.results, name="results"),
    path("surveys/<int:pk>/", survey_views.campaign_detail, name="campaign_detail"),
    path("surveys/<int:pk>/send/", survey_views.campaign_send, name="campaign_send"),
    path("surveys/<int:pk>/remind/", survey_views.campaign_remind, name="campaign_remind"),
    # Public: the unique link is the credential (no login), see survey_views.survey_answer.
    path("s/<str:token>/", survey_views.survey_answer, name="survey_answer"),
]
