"""Is this configuration fit to serve users? The production checks.

``kam serve`` asks before gunicorn starts when it serves in production (see
:func:`in_production`), ``kam.wsgi`` asks when ``KAM_ENVIRONMENT=production`` (a bare
``gunicorn kam.wsgi:application``), and ``kam check --deploy`` reports the same problems
as warnings ``kam.W001``... beside Django's own deployment checks. Each problem names
the variable that fixes it (docs/operations.md, "Production start").
"""

import ipaddress
import socket
import stat
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.http.request import split_domain_port, validate_host
from django.utils.translation import gettext as _

from kam.core.datadir import OWNER_ONLY_UMASK

#: The values of ``KAM_ENVIRONMENT``; unset means "decided by the address ``kam serve``
#: listens on" (:func:`in_production`).
PRODUCTION = "production"
DEVELOPMENT = "development"


@dataclass(frozen=True)
class Problem:
    id: str  # the system check's id
    text: str
    django_checks_it: bool = False  # Django's own `check --deploy` already warns about it


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1), nothing else."""
    host = host.strip().strip("[]")
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name, or 0.0.0.0-style wildcards written as names
        return False


def in_production(environment: str, host: str) -> bool:
    """Production is ``KAM_ENVIRONMENT=production``, or, with it unset, listening beyond loopback.

    ``make demo`` serves on 127.0.0.1 with the trial defaults; anything that other machines
    can reach must be configured for production unless ``KAM_ENVIRONMENT=development`` says
    in so many words that it is a trial.
    """
    if environment == PRODUCTION:
        return True
    if environment == DEVELOPMENT:
        return False
    return not is_loopback(host)


def local_base_url(host: str, port: int) -> str:
    """The address a local ``kam serve`` answers at, for links in e-mails when
    ``KAM_BASE_URL`` is unset outside production: a wildcard address (0.0.0.0, ::) becomes
    this machine's name."""
    name = host.strip().strip("[]")
    if name in {"", "0.0.0.0", "::"}:  # noqa: S104 - naming the wildcard, not binding it
        name = socket.getfqdn() or "localhost"
    if ":" in name:
        name = f"[{name}]"
    return f"http://{name}" if port == 80 else f"http://{name}:{port}"


def _base_url_problems() -> list[Problem]:
    base_url = settings.KAM_BASE_URL
    if not base_url:
        return [
            Problem(
                "kam.W002",
                _(
                    "KAM_BASE_URL is not set: set it to the HTTPS address users open KAM at, "
                    "e.g. KAM_BASE_URL=https://kam.example.com. Without it e-mails carry "
                    "relative links, and survey e-mails are not sent at all."
                ),
            )
        ]
    try:
        parts = urlsplit(base_url)
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        parts, port_ok = None, False
    if (
        parts is None
        or not port_ok
        or parts.scheme != "https"
        or not parts.hostname
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
        or parts.username
    ):
        return [
            Problem(
                "kam.W003",
                _(
                    "KAM_BASE_URL=%(value)s is not an https:// address of a host without a "
                    "path: use the form https://kam.example.com."
                )
                % {"value": base_url},
            )
        ]
    host, _port = split_domain_port(parts.netloc)
    if not validate_host(host, settings.ALLOWED_HOSTS):
        return [
            Problem(
                "kam.W004",
                _(
                    "KAM_ALLOWED_HOSTS does not include %(host)s, the host of KAM_BASE_URL: "
                    "every request to it would be refused. Add %(host)s to KAM_ALLOWED_HOSTS."
                )
                % {"host": host},
            )
        ]
    return []


def production_problems() -> list[Problem]:
    """Everything that makes the current settings unfit to serve users; empty when fit."""
    problems: list[Problem] = []
    if settings.DEBUG:
        problems.append(
            Problem(
                "kam.W001",
                _(
                    "KAM_DEBUG is on: error pages would show code and settings to anyone. "
                    "Set KAM_DEBUG=false."
                ),
                django_checks_it=True,
            )
        )
    problems += _base_url_problems()
    if not (settings.SESSION_COOKIE_SECURE and settings.CSRF_COOKIE_SECURE):
        problems.append(
            Problem(
                "kam.W005",
                _(
                    "Session and CSRF cookies would be sent without Secure, over plain HTTP "
                    "too: set KAM_SECURE=true (KAM behind an HTTPS proxy; it also turns on "
                    "HSTS)."
                ),
                django_checks_it=True,
            )
        )
    generated = settings.KAM_GENERATED_KEYS
    if "KAM_SECRET_KEY" in generated:
        problems.append(
            Problem(
                "kam.W006",
                _(
                    "KAM_SECRET_KEY is not set: the signing key was generated into %(path)s, "
                    "beside the data it protects. Set KAM_SECRET_KEY_FILE to a key file kept "
                    "outside KAM_DATA_DIR."
                )
                % {"path": generated["KAM_SECRET_KEY"]},
            )
        )
    if "KAM_FIELD_KEY" in generated:
        problems.append(
            Problem(
                "kam.W007",
                _(
                    "KAM_FIELD_KEY is not set: the key that encrypts personal data was "
                    "generated into %(path)s, beside the database. Set KAM_FIELD_KEY_FILE to a "
                    "key file kept outside KAM_DATA_DIR (kam genfieldkey makes one)."
                )
                % {"path": generated["KAM_FIELD_KEY"]},
            )
        )
    mode = settings.DATA_DIR.stat().st_mode
    if mode & OWNER_ONLY_UMASK:
        problems.append(
            Problem(
                "kam.W008",
                _(
                    "KAM_DATA_DIR %(path)s is open to other users (mode %(mode)s): make it "
                    "owner-only (chmod 700) or set KAM_DATA_DIR to a private directory."
                )
                % {"path": settings.DATA_DIR, "mode": f"{stat.S_IMODE(mode):04o}"},
            )
        )
    return problems


def refusal(problems: list[Problem], *, reason: str) -> str:
    """The whole refusal: why this is production, then every problem on a line of its own."""
    lines = [
        _("KAM does not start in production (%(reason)s) until these are fixed:")
        % {"reason": reason},
        *(f"  - {problem.text}" for problem in problems),
        _('See docs/operations.md, "Production start".'),
    ]
    return "\n".join(lines)


def production_reason(environment: str, host: str) -> str:
    if environment == PRODUCTION:
        return "KAM_ENVIRONMENT=production"
    return str(_("it would listen on %(host)s, which is not a loopback address") % {"host": host})


def refuse_unfit_production() -> None:
    """Raise ImproperlyConfigured naming every problem when ``KAM_ENVIRONMENT=production``."""
    if settings.KAM_ENVIRONMENT != PRODUCTION:
        return
    problems = production_problems()
    if problems:
        raise ImproperlyConfigured(refusal(problems, reason="KAM_ENVIRONMENT=production"))


def check_production(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    """``kam check --deploy``: the problems above that Django's own checks do not report."""
    return [
        checks.Warning(problem.text, id=problem.id)
        for problem in production_problems()
        if not problem.django_checks_it
    ]


checks.register(check_production, checks.Tags.security, deploy=True)
