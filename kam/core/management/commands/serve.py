"""``kam serve``: KAM's WSGI application under gunicorn, the documented production start.

In production (``KAM_ENVIRONMENT=production``, or unset and listening beyond loopback) it
refuses to start, naming every problem at once, unless the configuration is fit
(:mod:`kam.core.deploy`). Its responses carry no ``Server`` header.
"""

import os
import subprocess
import sys
from typing import Any

import gunicorn.http.wsgi
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections
from django.utils.translation import gettext as _
from gunicorn.app.base import BaseApplication

from kam.core import deploy
from kam.core.datadir import OWNER_ONLY_UMASK

_original_default_headers = gunicorn.http.wsgi.Response.default_headers


def _default_headers_without_server(self: gunicorn.http.wsgi.Response) -> list[str]:
    return [
        line for line in _original_default_headers(self) if not line.lower().startswith("server:")
    ]


def drop_server_header() -> None:
    """Stop gunicorn from naming itself in a ``Server`` header on every response.

    gunicorn has no setting for it (benoitc/gunicorn#825); the header helps nobody but a
    scanner choosing what to try. Django and WhiteNoise send none of their own.
    """
    gunicorn.http.wsgi.Response.default_headers = _default_headers_without_server


class KamServer(BaseApplication):
    """gunicorn driven from Python: no config file, no command line of its own."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)
        drop_server_header()  # before the workers fork: they inherit it

    def load(self) -> Any:
        from django.db import connections

        from kam.wsgi import application

        # preload_app loads this in the master, which then forks the workers: a database
        # connection open here would be shared by every worker (interleaved replies:
        # "connection in transaction status INTRANS", rows of another query). Each worker
        # opens its own.
        connections.close_all()
        return application


def bind_address(host: str, port: int) -> str:
    """``host:port`` as gunicorn wants it, with brackets around an IPv6 address."""
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"{host}:{port}"


def build_server(*, host: str, port: int, workers: int, threads: int, timeout: int) -> KamServer:
    return KamServer(
        {
            "bind": [bind_address(host, port)],
            "workers": workers,
            "threads": threads,
            "timeout": timeout,
            "proc_name": "kam",
            # gunicorn's own files (worker heartbeats, a unix socket) as private as var/.
            "umask": OWNER_ONLY_UMASK,
            "accesslog": "-",
            "errorlog": "-",
            # Import Django once before forking: a broken configuration fails at start.
            "preload_app": True,
        }
    )


class Command(BaseCommand):
    help = (
        "Serve KAM with gunicorn. Defaults suit a laptop (127.0.0.1:8000, 2 workers); in "
        "production put a TLS proxy in front and choose --workers (about 2 x CPU cores)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
        parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
        parser.add_argument("--workers", type=int, default=2, help="worker processes")
        parser.add_argument("--threads", type=int, default=1, help="threads per worker")
        parser.add_argument(
            "--timeout", type=int, default=60, help="seconds before a stuck worker is restarted"
        )
        parser.add_argument(
            "--no-worker",
            action="store_true",
            help="do not start a background-job worker (run `kam worker` separately)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        port, workers, threads = options["port"], options["workers"], options["threads"]
        if not 0 < port < 65536:
            raise CommandError(f"--port must be between 1 and 65535, not {port}.")
        if workers < 1 or threads < 1:
            raise CommandError("--workers and --threads must be at least 1.")
        self.refuse_unfit_production(options["host"])
        self.derive_base_url(options["host"], port)
        self.check_migrations()
        server = build_server(
            host=options["host"],
            port=port,
            workers=workers,
            threads=threads,
            timeout=options["timeout"],
        )
        host = bind_address(options["host"], port)
        self.stdout.write(f"KAM is served at http://{host}/ ({workers} workers; Ctrl+C stops it)")
        self.stdout.flush()
        worker = None
        if not options["no_worker"]:
            # Imports run in the background; one worker beside the web server needs no set-up.
            worker = subprocess.Popen([sys.executable, "-m", "kam.cli", "worker"])  # noqa: S603 - our own command
        # The checks above queried the database; the workers must not inherit the connection.
        connections.close_all()
        try:
            server.run()
        finally:
            if worker is not None:
                worker.terminate()
                try:
                    worker.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    worker.kill()

    def derive_base_url(self, host: str, port: int) -> None:
        """Outside production, an unset KAM_BASE_URL is the address served here, so that
        e-mails (survey links, notifications) carry whole links; the background worker
        inherits it."""
        if settings.KAM_BASE_URL or deploy.in_production(settings.KAM_ENVIRONMENT, host):
            return
        settings.KAM_BASE_URL = deploy.local_base_url(host, port)
        os.environ["KAM_BASE_URL"] = settings.KAM_BASE_URL
        self.stdout.write(f"KAM_BASE_URL is not set: links in e-mails use {settings.KAM_BASE_URL}")

    def refuse_unfit_production(self, host: str) -> None:
        """In production, stop before gunicorn starts when anything is unfit, naming it all."""
        environment = settings.KAM_ENVIRONMENT
        if deploy.in_production(environment, host):
            problems = deploy.production_problems()
            if problems:
                reason = deploy.production_reason(environment, host)
                raise CommandError(deploy.refusal(problems, reason=reason))
        elif not deploy.is_loopback(host):
            self.stderr.write(
                _(
                    "KAM_ENVIRONMENT=development: serving on %(host)s without the production "
                    "checks. Only for a trial on a trusted network."
                )
                % {"host": host}
            )
