from django.urls import path

from . import views

app_name = "coverage"

urlpatterns = [
    path("plan/", views.plan, name="plan"),
    path("plan/unserved.csv", views.plan_unserved_csv, name="plan_unserved_csv"),
    path("calendar/", views.calendar_view, name="calendar"),
    path("calendar/renew-link/", views.ical_renew, name="ical_renew"),
    path("ical/<str:token>.ics", views.ical_feed, name="ical"),
    path("visits/<int:pk>/move/", views.visit_move, name="visit_move"),
    path("reports/new/", views.report_new, name="report_new"),
    path("reports/<int:pk>/", views.report_detail, name="report_detail"),
    path("reports/<int:pk>/review/", views.report_review, name="report_review"),
    path("queue/", views.queue, name="queue"),
    path("follow-ups/", views.follow_up_list, name="follow_ups"),
    path("follow-ups/<int:pk>/", views.follow_up_detail, name="follow_up"),
    path("team/", views.team, name="team"),
    path("policy/", views.policy, name="policy"),
    path("dashboard/", views.dashboard, name="dashboard"),
]
