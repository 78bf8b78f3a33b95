"""Settings shared by every environment. Everything that differs comes from environment variables."""

import os
from decimal import Decimal
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
    # /metrics on the metrics port only; times everything below it (ops/metrics.py).
    "ops.metrics.MetricsMiddleware",
    # Health probes answer first: no host check, no session, no database beyond their own.
    "ops.middleware.HealthMiddleware",
    "ops.middleware.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "ops.middleware.DatabaseUnavailableMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "ops.auth.AuthenticationMiddleware",  # Django's, the session's user read with one fixed statement
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


POSTGRESQL_ENGINE = "config.postgresql"


def database_from_env() -> dict:
    """DATABASE_URL wins; else the split DATABASE_* variables the Helm chart sets from its Secret."""
    url = os.environ.get("DATABASE_URL")
    if url:
        config: dict = dict(dj_database_url.parse(url, conn_max_age=CONN_MAX_AGE, conn_health_checks=True))
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
        # Django's backend with a health check that costs a round trip only when the socket says
        # something is wrong (config/postgresql/base.py).
        config["ENGINE"] = POSTGRESQL_ENGINE
        # Plain cursors: fewer round trips, and safe behind a transaction-mode pooler (RDS Proxy, PgBouncer).
        config["DISABLE_SERVER_SIDE_CURSORS"] = True
        options = config.setdefault("OPTIONS", {})
        # A request never waits long on a lock or a slow query; the app answers 503 instead of hanging.
        options.setdefault("connect_timeout", DATABASE_CONNECT_TIMEOUT)
        if not env_bool("DATABASE_POOLED"):
            # Behind a transaction pooler (DATABASE_POOLED) this startup parameter is refused or pins the
            # connection; the pool's own connections carry the same timeouts (the role's defaults).
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

# --- Read replica (docs/capacity.md) ---------------------------------------------------------
# DATABASE_REPLICA_URL (or DATABASE_REPLICA_HOST, beside the split DATABASE_* variables) adds a
# "replica" alias: config.routers sends the stale-tolerant reads of REPLICA_READ_VIEWS there.
REPLICA_READ_VIEWS = env_list("REPLICA_READ_VIEWS", "orders:home,orders:order_create,api-v1:menu,orders:staff_orders,experiment:report")
# A visitor who wrote reads from the primary for this long (their own writes, despite replica lag).
REPLICA_PIN_SECONDS = float(os.environ.get("REPLICA_PIN_SECONDS", "5"))
# A replica further behind than this (or not answering) is skipped: reads go to the primary.
REPLICA_MAX_LAG_SECONDS = float(os.environ.get("REPLICA_MAX_LAG_SECONDS", "2"))


def replica_from_env(primary: dict) -> dict | None:
    url = os.environ.get("DATABASE_REPLICA_URL")
    if url:
        config: dict = dict(dj_database_url.parse(url, conn_max_age=CONN_MAX_AGE, conn_health_checks=True))
        config["ENGINE"] = POSTGRESQL_ENGINE
        config["OPTIONS"] = {k: v for k, v in primary.get("OPTIONS", {}).items()}
    elif os.environ.get("DATABASE_REPLICA_HOST") and primary["ENGINE"].endswith("postgresql"):
        config = dict(primary, OPTIONS=dict(primary.get("OPTIONS", {})))
        config.update(HOST=os.environ["DATABASE_REPLICA_HOST"], PORT=os.environ.get("DATABASE_REPLICA_PORT", "5432"))
    else:
        return None
    # The replica is reached directly (RDS Proxy has no reader endpoint for RDS instances).
    config["DISABLE_SERVER_SIDE_CURSORS"] = True
    config["OPTIONS"].update(connect_timeout=2, options="-c statement_timeout=15000")
    config["OPTIONS"].setdefault("application_name", f"pizza-{VARIANT}")
    config["TEST"] = {"MIRROR": "default"}
    return config


_replica = replica_from_env(DATABASES["default"])
if _replica:
    DATABASES["replica"] = _replica
    DATABASE_ROUTERS = ["config.routers.ReplicaRouter"]
    MIDDLEWARE.append("config.routers.ReplicaReadsMiddleware")

# --- Caches -------------------------------------------------------------------------------
# Switches live in the shared database; each process keeps them for one second only, so toggling
# orders_open on one variant closes all three within a second, at one query per process per second.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "waffle": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "waffle", "TIMEOUT": 1},
}
WAFFLE_CACHE_NAME = "waffle"
# "counters" is the alias for throttling and rate-limit counts (cache.incr); shared through Redis when set.
CACHES["counters"] = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "counters"}

# --- Shared cache (REDIS_URL; docs/capacity.md) -------------------------------------------
# REDIS_URL (ElastiCache: rediss:// with the auth token) shares the caches between processes and
# variants: a switch flipped on one pod is seen by all at once (waffle deletes its key on save),
# sessions are cached_db, counters are shared. Redis down costs speed, never an order (config.cache).
REDIS_URL = os.environ.get("REDIS_URL", "")


def redis_cache(prefix: str, timeout: int | None = 300) -> dict:
    return {
        "BACKEND": "config.cache.ResilientRedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": prefix,
        "TIMEOUT": timeout,
        # A cache that does not answer within a quarter second is treated as down.
        "OPTIONS": {"socket_connect_timeout": 0.25, "socket_timeout": 0.25},
    }


# Django's database sessions, each read with one fixed statement (ops/sessions); cached in Redis when set.
SESSION_ENGINE = "ops.sessions.db"
if REDIS_URL:
    CACHES = {"default": redis_cache("pizza"), "waffle": redis_cache("waffle", 30), "counters": redis_cache("counters", None)}
    SESSION_ENGINE = "ops.sessions.cached_db"
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
# The Experiment page's plan: the smallest relative lift worth detecting, and the per-order revenue cap
# (one party order must not decide the revenue comparison). The salt is read by experiment.assignment.
EXPERIMENT_MDE = float(os.environ.get("EXPERIMENT_MDE", "0.10"))
EXPERIMENT_REVENUE_CAP = Decimal(os.environ.get("EXPERIMENT_REVENUE_CAP", "150.00"))

# --- Static files -------------------------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [THEMES_DIR / THEME / "static", BASE_DIR / "static"]
# Each theme collects into its own folder, so one image carries all three designs.
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles" / THEME))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # WhiteNoise's CompressedManifestStaticFilesStorage, each URL worked out once per process (config/storage.py).
    "staticfiles": {"BACKEND": "config.storage.StaticFilesStorage"},
}

# --- Internationalisation -----------------------------------------------------------------
LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Logging ------------------------------------------------------------------------------
# One JSON object per line on stdout; the request log can be switched off for benchmarks.
REQUEST_LOG = env_bool("REQUEST_LOG", True)
LOGGING: dict = {
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

# --- Metrics ------------------------------------------------------------------------------
# METRICS_PORT is the second listener gunicorn binds for the scraper; /metrics is answered there only (0: off).
METRICS_PORT = int(os.environ.get("METRICS_PORT", "0"))

# --- Security: accounts, body limits, headers (issue 16) -----------------------------------
from config.limits import MAX_FORM_BYTES  # noqa: E402  (the load balancer reads the same module)

INSTALLED_APPS += ["axes", "csp"]
MIDDLEWARE.insert(MIDDLEWARE.index("ops.middleware.RequestLogMiddleware") + 1, "ops.middleware.BadInputMiddleware")
MIDDLEWARE += [
    "ops.middleware.CSPMiddleware",  # django-csp's, the header built once (ops/middleware.py)
    "ops.middleware.SecurityHeadersMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as axes asks: it turns a lockout into the 429 page
]
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_FORM_BYTES
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
# 5 wrong passwords for one account from one address lock that pair out for 15 minutes (429), on
# /accounts/login/ and /admin/login/ alike; counted where every process sees it (ops.lockout).
AXES_HANDLER = "ops.lockout.SharedCounterHandler"
AXES_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = float(os.environ.get("LOGIN_LOCKOUT_MINUTES", "15")) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "ops.lockout.client_ip"
AXES_VERBOSE = False
# TRUSTED_PROXY_COUNT is how many proxies append to X-Forwarded-For in front of the app (ALB or HAProxy: 1).
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "1"))
LOGOUT_REDIRECT_URL = "login"
# No inline script or style anywhere: everything comes from this origin's static files.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
LOGGING["filters"]["level_by_cause"] = {"()": "ops.logging.LevelByCauseFilter"}
LOGGING["handlers"]["stdout"]["filters"].append("level_by_cause")
LOGGING["loggers"]["axes"] = {"level": "WARNING"}

# --- Mobile API (app/api) -----------------------------------------------------------------
INSTALLED_APPS += ["ninja", "api"]  # ninja: its Swagger UI files, served locally (no CDN)
# Under /api/ every error becomes a problem document, including those of the middleware below it.
MIDDLEWARE.insert(MIDDLEWARE.index("ops.middleware.RequestLogMiddleware") + 1, "api.middleware.ProblemMiddleware")
# An order is under 2 KB; larger bodies get 413 before parsing, deeper ones 400 before json.loads.
API_MAX_BODY_BYTES = int(os.environ.get("API_MAX_BODY_BYTES", str(16 * 1024)))
API_MAX_JSON_DEPTH = 32
# Idempotency-Key records live this long (then a retry is a new order); purge_idempotency_keys deletes them.
API_IDEMPOTENCY_TTL_HOURS = int(os.environ.get("API_IDEMPOTENCY_TTL_HOURS", "24"))
# An attempt still unfinished after this long is taken to be dead, and a retry with its key takes over.
API_IDEMPOTENCY_IN_FLIGHT_SECONDS = int(os.environ.get("API_IDEMPOTENCY_IN_FLIGHT_SECONDS", "10"))
# New-order attempts per client (address) per window; 0 switches the limit off (load tests).
API_ORDER_RATE_LIMIT = int(os.environ.get("API_ORDER_RATE_LIMIT", "20"))
API_ORDER_RATE_WINDOW = int(os.environ.get("API_ORDER_RATE_WINDOW", "60"))
# How many proxies append to X-Forwarded-For before the app (HAProxy or the ALB: 1; CloudFront + ALB: 2).
API_PROXY_HOPS = int(os.environ.get("API_PROXY_HOPS", "1"))

# --- Shop time zone -----------------------------------------------------------------------
# Times on pages (staff table, status page) and the day boundaries of filters are the shop's local
# time; the zone is named on the pages that show times. Stored times stay UTC (USE_TZ).
SHOP_TIME_ZONE = os.environ.get("SHOP_TIME_ZONE", "Europe/Copenhagen")
try:
    import zoneinfo

    zoneinfo.ZoneInfo(SHOP_TIME_ZONE)
except (ValueError, zoneinfo.ZoneInfoNotFoundError):
    stop(f"SHOP_TIME_ZONE={SHOP_TIME_ZONE!r} is not an IANA time zone name (for example Europe/Copenhagen)")
TIME_ZONE = SHOP_TIME_ZONE
# How often (seconds) an open status page asks whether its order has moved on.
STATUS_POLL_SECONDS = int(os.environ.get("STATUS_POLL_SECONDS", "15"))
