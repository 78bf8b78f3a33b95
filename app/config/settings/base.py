"""Settings shared by every environment. Everything that differs comes from environment variables."""

import os
from pathlib import Path

import dj_database_url

from config.variants import THEMES, VariantsError, load_variants

BASE_DIR = Path(__file__).resolve().parents[2]  # app/
THEMES_DIR = BASE_DIR / "themes"


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def stop(message: str) -> None:
    """Refuse to start with a one-line message instead of a traceback."""
    raise SystemExit(f"pizza: {message}")


# --- Variant and theme --------------------------------------------------------------------
# DEPLOY_ENV picks environments/<env>/variants.yaml, the one list of variants, themes and weights.
DEPLOY_ENV = os.environ.get("DEPLOY_ENV", "dev")
# VARIANTS_ROOT is the folder holding environments/ (the repository, or /app in the image).
VARIANTS_ROOT = Path(os.environ.get("VARIANTS_ROOT", BASE_DIR.parent))
try:
    VARIANT_SET = load_variants(DEPLOY_ENV, root=VARIANTS_ROOT)
except VariantsError as exc:
    stop(str(exc))
# VARIANT is the release this process serves; every order records it.
VARIANT = os.environ.get("VARIANT", VARIANT_SET.schema_owner)
if VARIANT not in VARIANT_SET.variants:
    stop(f"VARIANT={VARIANT!r} is not one of {', '.join(VARIANT_SET.variants)} (environments/{DEPLOY_ENV}/variants.yaml)")
# THEME is the design this process renders; it only picks templates and static files.
THEME = os.environ.get("THEME", VARIANT_SET.variants[VARIANT].theme)
if THEME not in THEMES:
    stop(f"THEME={THEME!r} is not one of {', '.join(THEMES)}")
# APP_VERSION is the image tag (the commit), shown by /healthz and the staff pages.
APP_VERSION = os.environ.get("APP_VERSION", "dev")

# --- Core ---------------------------------------------------------------------------------
SECRET_KEY = os.environ.get("SECRET_KEY", "")
DEBUG = False
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "waffle",
    "ops",
    "orders",
    "experiment",
]

MIDDLEWARE = [
    # Health probes answer first: no host check, no session, no database beyond their own.
    "ops.middleware.HealthMiddleware",
    "ops.middleware.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "ops.middleware.DatabaseUnavailableMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "experiment.middleware.VisitorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "waffle.middleware.WaffleMiddleware",
]

# The theme's folders come first, so a theme overrides a shared template or file by its name.
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [THEMES_DIR / THEME / "templates", BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "ops.context_processors.variant",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------
# Persistent connections with a health check: one connection per worker, replaced when it breaks.
CONN_MAX_AGE = int(os.environ.get("CONN_MAX_AGE", "300"))


# Bounds on a database that does not answer (docs/chaos.md, scenario 7). A request waits at most
# about tcp_user_timeout (a broken persistent connection) + connect_timeout (the reconnect) before
# the app answers 503 + Retry-After, well under gunicorn's timeout (30 s).
DATABASE_CONNECT_TIMEOUT = int(os.environ.get("DATABASE_CONNECT_TIMEOUT", "3"))  # seconds; libpq's minimum is 2
DATABASE_TCP_USER_TIMEOUT_MS = int(os.environ.get("DATABASE_TCP_USER_TIMEOUT_MS", "3000"))
DATABASE_KEEPALIVES = {"keepalives": 1, "keepalives_idle": 2, "keepalives_interval": 1, "keepalives_count": 2}


def database_from_env() -> dict:
    """DATABASE_URL wins; else the split DATABASE_* variables the Helm chart sets from its Secret."""
    url = os.environ.get("DATABASE_URL")
    if url:
        config = dj_database_url.parse(url, conn_max_age=CONN_MAX_AGE, conn_health_checks=True)
    elif os.environ.get("DATABASE_HOST"):
        config = {
            "ENGINE": "django.db.backends.postgresql",
            "HOST": os.environ["DATABASE_HOST"],
            "PORT": os.environ.get("DATABASE_PORT", "5432"),
            "NAME": os.environ.get("DATABASE_NAME", "pizza"),
            "USER": os.environ.get("DATABASE_USER", ""),
            "PASSWORD": os.environ.get("DATABASE_PASSWORD", ""),
            "CONN_MAX_AGE": CONN_MAX_AGE,
            "CONN_HEALTH_CHECKS": True,
            "OPTIONS": {"sslmode": os.environ.get("DATABASE_SSLMODE", "require")},
        }
    else:
        config = {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("SQLITE_PATH", str(BASE_DIR.parent / ".stack" / "db.sqlite3")),
        }
    if config["ENGINE"].endswith("postgresql"):
        # Plain cursors: fewer round trips, and safe behind a transaction-mode pooler (RDS Proxy, PgBouncer).
        config["DISABLE_SERVER_SIDE_CURSORS"] = True
        options = config.setdefault("OPTIONS", {})
        # A request never waits long on a lock or a slow query; the app answers 503 instead of hanging.
        options.setdefault("connect_timeout", DATABASE_CONNECT_TIMEOUT)
        options.setdefault("options", "-c statement_timeout=15000 -c lock_timeout=5000")
        options.setdefault("application_name", f"pizza-{VARIANT}")
        # A database that vanishes (a failover, a partition: packets dropped, no RST) must not hang a
        # request either: the kernel drops a connection whose sent data stays unacknowledged for
        # tcp_user_timeout ms, and keepalives find one that went silent while waiting for an answer.
        options.setdefault("tcp_user_timeout", DATABASE_TCP_USER_TIMEOUT_MS)
        options.update({k: v for k, v in DATABASE_KEEPALIVES.items() if k not in options})
    else:
        # Three processes share one SQLite file: wait for the write lock instead of failing at once.
        config.setdefault("OPTIONS", {}).update({"timeout": 20, "transaction_mode": "IMMEDIATE"})
    return config


DATABASES = {"default": database_from_env()}

# --- Caches -------------------------------------------------------------------------------
# Switches live in the shared database; each process keeps them for one second only, so toggling
# orders_open on one variant closes all three within a second, at one query per process per second.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "waffle": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "waffle", "TIMEOUT": 1},
}
WAFFLE_CACHE_NAME = "waffle"
WAFFLE_CREATE_MISSING_SWITCHES = False

# --- Auth ---------------------------------------------------------------------------------
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "orders:staff_orders"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Requests -----------------------------------------------------------------------------
# A rejected CSRF token gets a readable page, not Django's debug text.
CSRF_FAILURE_VIEW = "orders.views.errors.csrf_failure"
# Nothing the order form needs comes near this; larger bodies are refused before parsing.
DATA_UPLOAD_MAX_MEMORY_SIZE = 256 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 100
# Page views write one exposure per visitor and day for the Experiment page; off to benchmark without it.
RECORD_EXPOSURES = env_bool("RECORD_EXPOSURES", True)

# --- Static files -------------------------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [THEMES_DIR / THEME / "static", BASE_DIR / "static"]
# Each theme collects into its own folder, so one image carries all three designs.
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles" / THEME))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- Internationalisation -----------------------------------------------------------------
LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Logging ------------------------------------------------------------------------------
# One JSON object per line on stdout; the request log can be switched off for benchmarks.
REQUEST_LOG = env_bool("REQUEST_LOG", True)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "ops.logging.JsonFormatter"}},
    "filters": {"request_id": {"()": "ops.logging.RequestIdFilter"}},
    "handlers": {
        "stdout": {"class": "logging.StreamHandler", "formatter": "json", "filters": ["request_id"]},
    },
    "root": {"handlers": ["stdout"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        # The request log below replaces Django's own per-request lines.
        "django.request": {"level": "ERROR"},
        "django.server": {"level": "WARNING"},
    },
}
