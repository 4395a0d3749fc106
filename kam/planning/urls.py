from django.urls import path

from . import growth_views, health_views, opportunity_views, stage_views, views, wallet_views

app_name = "planning"

urlpatterns = [
    path("plans/", views.plan_list, name="list"),
    path("plans/new/", views.plan_new, name="new"),
    path("plans/<int:pk>/", views.plan_detail, name="detail"),
    path("plans/<int:pk>/edit/", views.plan_edit, name="edit"),
    path("plans/<int:pk>/submit/", views.plan_submit, name="submit"),
    path("plans/<int:pk>/review/", views.plan_review, name="review"),
    path("plans/<int:pk>/items/", views.item_add, name="item_add"),
    path("plans/<int:pk>/objectives/", views.objective_add, name="objective_add"),
    path("plans/<int:pk>/actions/", views.action_add, name="action_add"),
    path("plans/<int:pk>/plan.xlsx", views.plan_xlsx, name="xlsx"),
    path("plans/<int:pk>/plan.pdf", views.plan_pdf, name="pdf"),
    path("items/<int:pk>/", views.item_edit, name="item_edit"),
    path("items/<int:pk>/delete/", views.item_delete, name="item_delete"),
    path("objectives/<int:pk>/", views.objective_edit, name="objective_edit"),
    path("objectives/<int:pk>/delete/", views.objective_delete, name="objective_delete"),
    path("actions/<int:pk>/", views.action_edit, name="action_edit"),
    path("actions/<int:pk>/delete/", views.action_delete, name="action_delete"),
    path("actions/<int:pk>/follow-up/", views.action_track, name="action_track"),
    path("review-schedule/", views.policy, name="policy"),
    path("opportunities/", opportunity_views.opportunity_list, name="opportunities"),
    path("opportunities/board/", opportunity_views.opportunity_board, name="opportunity_board"),
    path(
        "opportunities/pipeline/",
        opportunity_views.opportunity_pipeline,
        name="opportunity_pipeline",
    ),  # fmt: skip
    path("opportunities/new/", opportunity_views.opportunity_new, name="opportunity_new"),
    path(
        "opportunities/<int:pk>/", opportunity_views.opportunity_detail, name="opportunity_detail"
    ),  # fmt: skip
    path(
        "opportunities/<int:pk>/move/", opportunity_views.opportunity_move, name="opportunity_move"
    ),  # fmt: skip
    path("solutions/", opportunity_views.solution_list, name="solutions"),
    path("solutions/<int:pk>/", opportunity_views.solution_list, name="solution_edit"),
    # --- whitespace and the department's measures (growth_views.py) ---
    path("whitespace/", growth_views.whitespace_grid, name="whitespace"),
    path("whitespace/whitespace.xlsx", growth_views.whitespace_xlsx, name="whitespace_xlsx"),
    path("measures/", growth_views.measures_page, name="measures"),
    # --- stakeholder map, coverage rules and account health (kam/planning/health_views.py)
    path("accounts/<int:pk>/stakeholders/", health_views.account_stakeholders,
         name="account_stakeholders"),
    path("accounts/<int:pk>/health/", health_views.account_health, name="account_health"),
    path("stakeholder-rules/", health_views.coverage_rules, name="coverage_rules"),
    path("health-settings/", health_views.health_settings, name="health_settings"),
    # --- share of wallet and relationship stages ---
    path("wallet/", wallet_views.wallet_portfolio, name="wallet"),
    path("wallet/accounts/<int:pk>/", wallet_views.wallet_account, name="wallet_account"),
    path(
        "wallet/accounts/<int:pk>/benchmark/",
        wallet_views.wallet_benchmark,
        name="wallet_benchmark",
    ),  # fmt: skip
    path("wallet/benchmarks/", wallet_views.benchmark_list, name="wallet_benchmarks"),
    path("competitors/", wallet_views.competitor_list, name="competitors"),
    path("competitors/<int:pk>/", wallet_views.competitor_list, name="competitor_edit"),
    path("stages/", stage_views.stage_portfolio, name="stages"),
    path("stages/criteria/", stage_views.stage_criteria, name="stage_criteria"),
    path("stages/accounts/<int:pk>/", stage_views.stage_account, name="stage_account"),
    path("stages/accounts/<int:pk>/propose/", stage_views.stage_propose, name="stage_propose"),
    path(
        "stage-proposals/<int:pk>/decide/",
        stage_views.proposal_decide,
        name="stage_proposal_decide",
    ),  # fmt: skip
]  # fmt: skip
