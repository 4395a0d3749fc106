"""KAM's WSGI application: ``kam serve`` runs it under gunicorn (docs/operations.md)."""

import os

from kam.core.datadir import owner_only_umask

# Before the settings create var/: everything KAM writes there is its user's alone (as in
# kam.cli, for a server that imports this module directly).
owner_only_umask()
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kam.settings")

from django.core.wsgi import get_wsgi_application  # noqa: E402 - after the umask

application = get_wsgi_application()

from kam.core.deploy import refuse_unfit_production  # noqa: E402 - needs Django set up

# With KAM_ENVIRONMENT=production a bare `gunicorn kam.wsgi:application` refuses to serve an
# unfit configuration too (kam serve checks before it starts gunicorn at all).
refuse_unfit_production()
