"""Settings of the backup query service, read from the environment.

With no environment at all the defaults are for local development: SQLite under ``var/``
(git-ignored), ``DEBUG`` on, localhost only. Production (``DEBUG=0``) refuses to start without
``SECRET_KEY`` and ``ALLOWED_HOSTS``. Every variable is listed in the README's settings table.
"""
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name, default):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), got {value!r}")


def env_list(name, default):
    value = os.environ.get(name)
    if not value:
        return default
    return [part.strip() for part in value.split(",") if part.strip()]


DEBUG = env_bool("DEBUG", True)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY is required when DEBUG=0")
    SECRET_KEY = "insecure-development-key-do-not-use-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS is required when DEBUG=0")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI's assets, served as static files: the docs need no internet
    "backups",
]

MIDDLEWARE = [
    "backups.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "backups.middleware.MessageMiddleware",  # Django's, its storage built on first use
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "backups.middleware.DatabaseUnavailableMiddleware",  # last: the first to see a view's exception
]

ROOT_URLCONF = "project.urls"
WSGI_APPLICATION = "project.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- database -----------------------------------------------------------------------------
DEFAULT_SQLITE_PATH = BASE_DIR / "var" / "db.sqlite3"
DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{DEFAULT_SQLITE_PATH}"
DB_CONNECT_TIMEOUT = int(os.environ.get("DB_CONNECT_TIMEOUT", "2"))
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL, conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")), conn_health_checks=True
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = DB_CONNECT_TIMEOUT
    # Not Django's SELECT 1 before each request's first query: project.db_health looks at the socket.
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = False
    DATABASES["default"]["TEST"] = {"NAME": os.environ.get("TEST_DATABASE_NAME") or None}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "backups:list"
LOGOUT_REDIRECT_URL = "login"

# --- API ----------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "backups.api.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [],
    "EXCEPTION_HANDLER": "backups.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Proxies trusted to append the client's address to X-Forwarded-For; 0: REMOTE_ADDR only.
    "NUM_PROXIES": int(os.environ.get("NUM_PROXIES", "0")),
}
# Failed X-Auth-Token attempts per client address and window (backups.api.throttling): then 429.
AUTH_FAILURE_LIMIT = int(os.environ.get("AUTH_FAILURE_LIMIT", "20"))
AUTH_FAILURE_WINDOW = int(os.environ.get("AUTH_FAILURE_WINDOW", "60"))
# The counters above live here. LocMemCache counts per process; with several gunicorn workers set
# CACHE_BACKEND=database (and run `manage.py createcachetable`) so that they share one count.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "django_cache"}
    if os.environ.get("CACHE_BACKEND") == "database"
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}
# Valid tokens are remembered per process for this many seconds (0: off), at most SIZE of them
# (backups.api.token_cache): a token revoked elsewhere is refused by every worker within SECONDS.
AUTH_TOKEN_CACHE_SECONDS = float(os.environ.get("AUTH_TOKEN_CACHE_SECONDS", "5"))
AUTH_TOKEN_CACHE_SIZE = int(os.environ.get("AUTH_TOKEN_CACHE_SIZE", "1024"))
# The OpenAPI description at /v1/openapi.json and its docs at /v1/docs/ (backups.api.openapi).
SPECTACULAR_SETTINGS = {
    "TITLE": "Backup query API (CSBS checkpoint items)",
    "DESCRIPTION": "Read-only query API of Cloud Server Backup Service checkpoint items. Every error is "
    '`{"error_code": "CSBS.xxxx", "error_msg": "..."}` with `Content-Type: application/json`.',
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"persistAuthorization": False, "displayRequestDuration": True},
    "POSTPROCESSING_HOOKS": ["backups.api.openapi.finish_schema"],
}

# --- production hardening (active when DEBUG=0) -------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
    if not SECURE_HSTS_PRELOAD:
        # Preloading binds the domain and every subdomain to HTTPS in browsers for months: the domain
        # owner's decision (SECURE_HSTS_PRELOAD=1), not a default. `check --deploy`'s reminder is silenced.
        SILENCED_SYSTEM_CHECKS = ["security.W021"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "backups.middleware.RequestIdLogFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["request_id"]},
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.db.backends": {"level": "WARNING"},
    },
}

# --- Keystone / IAM tokens (backups.keystone): accepted beside the local ones when the URL is set ---
# The identity v3 endpoint, e.g. https://iam.{region}.myhuaweicloud.com/v3; unset: local tokens only.
KEYSTONE_AUTH_URL = os.environ.get("KEYSTONE_AUTH_URL", "").rstrip("/")
# The service's own credentials (keystoneauth1's v3 Password), allowed to validate tokens.
KEYSTONE_USERNAME = os.environ.get("KEYSTONE_USERNAME", "")
KEYSTONE_PASSWORD = os.environ.get("KEYSTONE_PASSWORD", "")
KEYSTONE_PROJECT_NAME = os.environ.get("KEYSTONE_PROJECT_NAME", "")
KEYSTONE_USER_DOMAIN_NAME = os.environ.get("KEYSTONE_USER_DOMAIN_NAME") or "Default"
KEYSTONE_PROJECT_DOMAIN_NAME = os.environ.get("KEYSTONE_PROJECT_DOMAIN_NAME") or "Default"
# Role names (exact) that make a token an admin: any project's path, all_tenants.
KEYSTONE_ADMIN_ROLES = env_list("KEYSTONE_ADMIN_ROLES", ["admin"])
# Seconds a validation is reused (never past the token's expiry); a revocation is seen within it.
KEYSTONE_CACHE_TTL = int(os.environ.get("KEYSTONE_CACHE_TTL", "300"))
# Seconds each call to Keystone may take to connect and answer; then 503 CSBS.9503.
KEYSTONE_TIMEOUT = float(os.environ.get("KEYSTONE_TIMEOUT", "2"))
if KEYSTONE_AUTH_URL:
    if not (KEYSTONE_USERNAME and KEYSTONE_PASSWORD):
        raise ImproperlyConfigured(
            "KEYSTONE_AUTH_URL is set: KEYSTONE_USERNAME and KEYSTONE_PASSWORD (the service's own "
            "Keystone user, allowed to validate tokens) are required too"
        )
    if not KEYSTONE_AUTH_URL.startswith(("https://", "http://")):
        raise ImproperlyConfigured(f"KEYSTONE_AUTH_URL must be an http(s) URL, got {KEYSTONE_AUTH_URL!r}")
if not 0 <= KEYSTONE_CACHE_TTL <= 3600:
    raise ImproperlyConfigured(f"KEYSTONE_CACHE_TTL must be 0 to 3600 seconds, not {KEYSTONE_CACHE_TTL}")
if not 0 < KEYSTONE_TIMEOUT <= 30:
    raise ImproperlyConfigured(f"KEYSTONE_TIMEOUT must be over 0 and at most 30, not {KEYSTONE_TIMEOUT}")
# After the local tokens; inert while KEYSTONE_AUTH_URL is empty.
KEYSTONE_AUTHENTICATION = "backups.keystone.authentication.KeystoneAuthentication"
REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"].insert(1, KEYSTONE_AUTHENTICATION)
# keystoneauth1's debug log shows Keystone's answers (users, roles, catalog): not below WARNING.
LOGGING["loggers"]["keystoneauth"] = {"level": "WARNING"}

# --- scale-out: read replica, PgBouncer, bounded database waits, metrics (README "Scaling out") ------
# Imported here, not at the top: the module needs only psycopg2, and this block is the only user.
from backups.db.timeouts import connection_options  # noqa: E402

# Both database URLs point at PgBouncer in transaction mode: no server-side cursors (they live in a
# server session that the next transaction may not get), no startup ``options`` (the pooler sets
# statement_timeout itself). Django keeps no other session state: the servers run in UTC, so Django
# never sends SET TIME ZONE; psycopg2 prepares nothing on the server. CONN_MAX_AGE keeps Django's
# connections to the pooler (cheap to keep, the pooler shares the server connections).
DB_PGBOUNCER = env_bool("DB_PGBOUNCER", False)
# Seconds a statement may run (statement_timeout), and, in web processes, how long they wait for a
# server that stopped answering (this + 1 s; backups.db.timeouts). project/wsgi.py sets 3 for the web;
# management commands (imports run long COPYs) are unbounded unless this is set for them.
DB_QUERY_TIMEOUT = float(os.environ.get("DB_QUERY_TIMEOUT") or 0)
# A streaming replica for the reads of web requests (backups.db.router); unset: one database.
REPLICA_DATABASE_URL = os.environ.get("REPLICA_DATABASE_URL", "")
REPLICA_MAX_LAG = float(os.environ.get("REPLICA_MAX_LAG", "5"))
REPLICA_CHECK_INTERVAL = float(os.environ.get("REPLICA_CHECK_INTERVAL", "1"))
# After a write the client reads on the primary this long (a cookie): longer than lag + check interval.
REPLICA_PIN_SECONDS = int(
    os.environ.get("REPLICA_PIN_SECONDS") or int(REPLICA_MAX_LAG + REPLICA_CHECK_INTERVAL) + 1
)
if REPLICA_PIN_SECONDS <= REPLICA_MAX_LAG + REPLICA_CHECK_INTERVAL:
    raise ImproperlyConfigured("REPLICA_PIN_SECONDS must exceed REPLICA_MAX_LAG + REPLICA_CHECK_INTERVAL")
if REPLICA_DATABASE_URL:
    DATABASES["replica"] = dj_database_url.parse(
        REPLICA_DATABASE_URL, conn_max_age=DATABASES["default"]["CONN_MAX_AGE"],
        conn_health_checks=DATABASES["default"].get("CONN_HEALTH_CHECKS", False)
    )
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
    DATABASE_ROUTERS = ["backups.db.router.PrimaryReplicaRouter"]
    MIDDLEWARE.insert(MIDDLEWARE.index("backups.middleware.RequestIdMiddleware") + 1,
                      "backups.db.router.ReplicaRoutingMiddleware")
for _database in DATABASES.values():
    if _database["ENGINE"] == "django.db.backends.postgresql":
        _database.setdefault("OPTIONS", {}).update(connection_options(
            connect_timeout=DB_CONNECT_TIMEOUT, query_timeout=DB_QUERY_TIMEOUT, through_pgbouncer=DB_PGBOUNCER
        ))
        _database["DISABLE_SERVER_SIDE_CURSORS"] = DB_PGBOUNCER
        if DB_PGBOUNCER:
            # Connections to the pooler outlive server restarts, so the per-request SELECT 1 of
            # CONN_HEALTH_CHECKS buys nothing there, and it would double the wait on a frozen server.
            _database["CONN_HEALTH_CHECKS"] = False

# Prometheus metrics at /metrics (backups.metrics): a bearer token, or loopback callers only.
METRICS_ENABLED = env_bool("METRICS_ENABLED", True)
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")
if METRICS_ENABLED:
    MIDDLEWARE.insert(0, "backups.metrics.MetricsMiddleware")

# Load balancers and Prometheus probe the app servers over plain HTTP: no redirect to HTTPS for them
# (they still send a Host header from ALLOWED_HOSTS).
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]

# Plain-HTTP deployments on loopback only (scripts/cluster): cookies without the Secure flag.
if not DEBUG and not env_bool("SECURE_COOKIES", True):
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = False

# --- the live mirror (backups.sync; README "Sync") ------------------------------------------------
SYNC_TIMEOUT = float(os.environ.get("SYNC_TIMEOUT", "30"))  # seconds to read an upstream answer
SYNC_CONNECT_TIMEOUT = float(os.environ.get("SYNC_CONNECT_TIMEOUT", "10"))
SYNC_ATTEMPTS = int(os.environ.get("SYNC_ATTEMPTS", "6"))  # tries of one request, the first included
SYNC_BACKOFF_INITIAL = float(os.environ.get("SYNC_BACKOFF_INITIAL", "1"))  # seconds, doubled per retry
SYNC_BACKOFF_MAX = float(os.environ.get("SYNC_BACKOFF_MAX", "60"))
SYNC_RETRY_AFTER_MAX = float(os.environ.get("SYNC_RETRY_AFTER_MAX", "300"))  # cap on a 429's Retry-After
SYNC_LEASE_SECONDS = int(os.environ.get("SYNC_LEASE_SECONDS", "600"))  # a run's lock, renewed every page
SYNC_GONE_RETENTION_DAYS = int(os.environ.get("SYNC_GONE_RETENTION_DAYS", "30"))  # then gone items are purged
SYNC_FRESHNESS_TTL = float(os.environ.get("SYNC_FRESHNESS_TTL", "30"))  # seconds X-Data-As-Of is reused
LOGGING["loggers"]["httpx"] = {"level": "WARNING"}  # one INFO line per upstream request otherwise
