"""The JSON API: one NinjaAPI, each app's router mounted under /api/v1/.

Programs authenticate with a bearer token (``kam token create``); the browser uses its
session (with CSRF). Every error has one shape: ``{"detail": ..., "errors": [...]}``.
"""

from ninja import NinjaAPI

from kam.accounts.api import router as accounts_router
from kam.accounts.privacy.api import router as privacy_router
from kam.core.api import BearerTokenAuth, SessionCsrfAuth, install_error_handlers
from kam.core.api import router as core_router
from kam.coverage.api import router as coverage_router
from kam.ledger.api import router as ledger_router
from kam.planning.api import router as planning_router
from kam.pricing.api import router as pricing_router
from kam.segmentation.api import router as segmentation_router
from kam.service.api import router as service_router

api = NinjaAPI(
    title="KAM API",
    version="1",
    description="Key-account management: the archive of accounts, groups, contacts, ties and teams; the shipment ledger (waybill imports, monthly facts); segmentation and account value; coverage and visits; service cases and surveys; account plans; rate cards and quotes.",
    auth=[BearerTokenAuth(), SessionCsrfAuth()],
    urls_namespace="api",
    openapi_url="/openapi.json",
    docs_url="/docs",
)
install_error_handlers(api)
api.add_router("/v1/", core_router)
api.add_router("/v1/", accounts_router)
api.add_router("/v1/", privacy_router)
api.add_router("/v1/", ledger_router)
api.add_router("/v1/", segmentation_router)
api.add_router("/v1/", coverage_router)
api.add_router("/v1/", service_router)
api.add_router("/v1/", planning_router)
api.add_router("/v1/", pricing_router)
