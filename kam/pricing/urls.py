from django.urls import path

from . import views

app_name = "pricing"

urlpatterns = [
    path("", views.quote_list, name="quotes"),
    path("quotes/new/", views.quote_new, name="quote_new"),
    path("quotes/<int:pk>/", views.quote_detail, name="quote"),
    path("quotes/<int:pk>/edit/", views.quote_edit, name="quote_edit"),
    path("quotes/<int:pk>/what-if/", views.quote_whatif, name="quote_whatif"),
    path("quotes/<int:pk>/what-if.xlsx", views.quote_whatif_xlsx, name="quote_whatif_xlsx"),
    path("quotes/<int:pk>/action/", views.quote_action, name="quote_action"),
    path("quotes/<int:pk>/decide/", views.quote_decide, name="quote_decide"),
    path("quotes/<int:pk>/contract/", views.quote_contract, name="quote_contract"),
    path("cards/", views.card_list, name="cards"),
    path("cards/<int:pk>/", views.card_detail, name="card"),
    path("guidance/", views.guidance, name="guidance"),
    path("accounts/<int:pk>/realisation/", views.account_realisation, name="realisation"),
]

from . import doc_views  # noqa: E402  # the documents' routes, appended

urlpatterns += [
    path("quotes/<int:pk>/quote.pdf", doc_views.quote_pdf, name="quote_pdf"),
    path("quotes/<int:pk>/quote.xlsx", doc_views.quote_xlsx, name="quote_xlsx"),
    path("cards/<int:pk>/card.xlsx", doc_views.card_xlsx, name="card_xlsx"),
    path("cards/<int:pk>/import/", doc_views.card_import, name="card_import"),
    path("tender/", doc_views.tender, name="tender"),
    path("tender/bid.xlsx", doc_views.tender_bid, name="tender_bid"),
]
