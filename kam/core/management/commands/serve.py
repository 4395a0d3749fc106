"""``kam serve``: KAM's WSGI application under gunicorn, the documented production start."""

import subprocess
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from gunicorn.app.base import BaseApplication


class KamServer(BaseApplication):
    """gunicorn driven from Python: no config file, no command line of its own."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from kam.wsgi import application

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
        try:
            server.run()
        finally:
            if worker is not None:
                worker.terminate()
                try:
                    worker.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    worker.kill()
