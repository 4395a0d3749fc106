from django.contrib import admin
from django.urls import include, path

from kam.api import api

urlpatterns = [
    path("", include("kam.core.urls")),
    path("", include("kam.accounts.urls")),
    path("ledger/", include("kam.ledger.urls")),
    path("segmentation/", include("kam.segmentation.urls")),
    path("coverage/", include("kam.coverage.urls")),
    path("service/", include("kam.service.urls")),
    path("planning/", include("kam.planning.urls")),
    path("pricing/", include("kam.pricing.urls")),
    path("api/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
