"""Tandem settings: everything comes from the environment (see .env.example)."""

from __future__ import annotations

from pathlib import Path

from celery.schedules import crontab
from csp.constants import NONCE, NONE, SELF, UNSAFE_INLINE

from config.env import (
    env_bool,
    env_database,
    env_int,
    env_list,
    env_proxy_ssl_header,
    env_rate,
    env_redis_url,
    env_replica_database,
    env_str,
    env_timezone,
)

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY", "insecure-dev-key-change-me" if DEBUG else None)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "axes",
    "csp",
    "config",
    "alignment",
    "leads",
    "kpis",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "config.middleware.BodyLimitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "config.middleware.PrivatePagesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "axes.middleware.AxesMiddleware",  # last: it answers a locked-out login
]
# Login lockout (django-axes): AXES_FAILURE_LIMIT wrong passwords in a row for a username lock
# it for AXES_COOLOFF_HOURS; the login page says so (429). An admin unlocks it in the admin.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 10, minimum=1)
AXES_COOLOFF_TIME = env_int("AXES_COOLOFF_HOURS", 1, minimum=1)
# By username, wherever the attempts come from (rotating addresses don't reset it, and one
# office behind a NAT is not locked out by one person's typos): axes' W006 asks for the address.
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_ON_SUCCESS = True
SILENCED_SYSTEM_CHECKS = ["axes.W006"]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "csp.context_processors.nonce",
                "alignment.context_processors.role",
                "leads.context_processors.disputes",
            ],
        },
    },
]

DATABASES = {"default": env_database("DATABASE_URL", str(BASE_DIR / "db.sqlite3"))}
# An optional read replica: the KPI pages and the GET API read from it, everything else (and
# every request that writes) uses the primary. Unset: one database, no router (docs/scaling.md).
_replica = env_replica_database(
    "DATABASE_REPLICA_URL", DATABASES["default"], primary_name="DATABASE_URL"
)
DATABASE_ROUTERS: list[str] = []
if _replica is not None:
    DATABASES["replica"] = _replica
    DATABASE_ROUTERS = ["config.db_router.ReplicaRouter"]
    MIDDLEWARE.append("config.db_router.ReplicaReadsMiddleware")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_timezone("TIME_ZONE", "UTC")
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- Security (production values unless DEBUG) ---
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_PROXY_SSL_HEADER = env_proxy_ssl_header(
    "SECURE_PROXY_SSL_HEADER", "X-Forwarded-Proto: https"
)
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp): nothing from another origin, and no inline script or
# <style> without the request's nonce (templates write nonce="{{ CSP_NONCE }}"; Plotly's and
# htmx's own style rules go into such an element). Style *attributes* stay allowed: the bar
# widths are server-rendered `style="width: …"`, and they cannot run code.
_CSP_REPORT_URI = env_str("CSP_REPORT_URI", "").strip()
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [NONE],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "style-src-attr": [UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "manifest-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        **({"report-uri": [_CSP_REPORT_URI]} if _CSP_REPORT_URI else {}),
    }
}

# --- E-mail ---
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Tandem <tandem@localhost>")

# --- Celery: a real worker when REDIS_URL is set, otherwise tasks run in-process ---
REDIS_URL = env_redis_url("REDIS_URL")
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
# Without a broker, a write's KPI recompute runs in a background thread of the web process after
# the write commits (kpis.background); false: inside the request that made the write.
KPI_RECOMPUTE_IN_BACKGROUND = env_bool("KPI_RECOMPUTE_IN_BACKGROUND", not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
# With the broker down, a write queues its follow-up work (config.queue.enqueue) for at most
# about a second and carries on; the beat sweeps pick the work up once Redis is back.
CELERY_BROKER_CONNECTION_TIMEOUT = 1
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
CELERY_BEAT_SCHEDULE: dict = {
    "kpis-sweep-dirty-periods": {"task": "kpis.tasks.kpis_recompute_dirty_task", "schedule": 60.0},
    "kpis-recompute-dead-jobs": {
        "task": "kpis.tasks.recompute_jobs_dead_task",
        "schedule": 60.0,
    },
    "kpis-nightly-full-recompute": {
        "task": "kpis.tasks.kpis_recompute_all_task",
        "schedule": crontab(hour=2, minute=30),
    },
    "leads-sla-breaches": {
        "task": "leads.tasks.sla_breaches_notify_task",
        "schedule": 300.0,
    },
    "kpis-sal-commitment-pace": {
        "task": "kpis.tasks.sal_commitment_check_task",
        "schedule": crontab(hour=9, minute=0),
    },
    "leads-apply-due-versions": {
        "task": "leads.tasks.agreements_apply_due_task",
        "schedule": 60.0,
    },
}

# A full recompute (kpis.services.recompute_job_start) covers at most this many years back from
# the funnel's last day: a "since" before that is refused with a 400; the nightly one starts
# there at the earliest. A running job none of whose units started or finished for
# RECOMPUTE_DEAD_AFTER_SECONDS is dead: shown so, marked so by the beat sweep, and retried from
# the units it had not done.
RECOMPUTE_MAX_YEARS = env_int("RECOMPUTE_MAX_YEARS", 20, minimum=1)
RECOMPUTE_DEAD_AFTER_SECONDS = env_int("RECOMPUTE_DEAD_AFTER_SECONDS", 300, minimum=10)
# The longest range the KPI pages and GET /api/v1/kpis/ take (start to end); longer is a 400.
KPI_RANGE_MAX_YEARS = env_int("KPI_RANGE_MAX_YEARS", 10, minimum=1)

# A shared cache in production (debounces KPI recomputes across processes, counts the API
# throttle), failing open: with Redis unreachable it holds nothing and the app carries on.
CACHES = {
    "default": {"BACKEND": "config.cache.ResilientRedisCache", "LOCATION": REDIS_URL}
    if REDIS_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}

# How long the KPI pages keep what they rendered of a version of the snapshots, at most
# (kpis.render_cache; a recompute replaces it at once). 0 turns the page cache off.
KPI_PAGE_CACHE_SECONDS = env_int("KPI_PAGE_CACHE_SECONDS", 600, minimum=0)

# --- disputes ---
# Days after a rejection during which marketing may dispute it (leads.services.dispute_raise).
DISPUTE_WINDOW_DAYS = env_int("DISPUTE_WINDOW_DAYS", 14, minimum=1)
# The years a record's dates may fall in (ingest and imports refuse others with a 400): the
# calendar's edges, year 1 or 9999, leave no room for the periods around a date.
DATE_MIN_YEAR = env_int("DATE_MIN_YEAR", 1970, minimum=2)
DATE_MAX_YEAR = env_int("DATE_MAX_YEAR", 2100, minimum=DATE_MIN_YEAR)

# Uploaded CSV imports are kept here, a file per import (nothing deletes them yet); the web
# process and the Celery worker must both see it (a shared volume on different hosts).
MEDIA_ROOT = env_str("MEDIA_ROOT", str(BASE_DIR / "var" / "media"))
MEDIA_URL = "/media/"  # never served: imports are read by the app only
IMPORT_MAX_BYTES = env_int("IMPORT_MAX_BYTES", 200 * 1024 * 1024, minimum=1)
# Rows an import writes per committed chunk: the unit it resumes from.
IMPORT_CHUNK_ROWS = env_int("IMPORT_CHUNK_ROWS", 2000, minimum=1)

# --- API ---
API_MAX_BATCH = env_int("API_MAX_BATCH", 10_000, minimum=1)
# Per user (config.throttling): a burst in a short window and a sustained rate; "off" for none.
API_THROTTLE_BURST = env_rate("API_THROTTLE_BURST", "120/second")
API_THROTTLE_RATE = env_rate("API_THROTTLE_RATE", "1800/minute")
# Users whose tokens are not throttled: a trusted integration, a load test.
API_THROTTLE_EXEMPT_USERS = frozenset(env_list("API_THROTTLE_EXEMPT_USERS", []))
# Wrong tokens one address may send before its token requests get 429 for the window.
API_THROTTLE_BAD_TOKENS = env_rate("API_THROTTLE_BAD_TOKENS", "20/minute")
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "config.throttling.ThrottledTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "config.schema.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "config.api.Pagination",
    "DEFAULT_PARSER_CLASSES": [
        "config.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "PAGE_SIZE": 100,
    "DEFAULT_THROTTLE_CLASSES": ["config.throttling.ApiRateThrottle"],
    # The proxies in front of the app that add X-Forwarded-For (a TLS proxy: 1): the client's
    # address, which the throttles count by, is the one the last of them saw. 0 trusts none.
    "NUM_PROXIES": env_int("NUM_PROXIES", 0, minimum=0),
    "EXCEPTION_HANDLER": "config.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Tandem API",
    "DESCRIPTION": "Ingest marketing and sales events; read the shared KPIs.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Login everywhere but the login page (SPEC §9): the schema and its docs too, with a token
    # or a session like every other endpoint (DRF's default would let anyone read them).
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Choice sets that share a field name with another one get a name of their own.
    "ENUM_NAME_OVERRIDES": {
        "TeamEnum": ["marketing", "sales"],  # a team (its head, its approval)
        "RecordTeamEnum": "alignment.models._TEAM_CHOICES",  # a record's team; "" for none
        "FieldInsightKindEnum": "alignment.models.FieldInsight.Kind",
        "MeetingKindEnum": "alignment.models.Meeting.Kind",
        "DisputeStatusEnum": "leads.models.Dispute.Status",
        "DisputeOutcomeEnum": "leads.models.Dispute.Outcome",
    },
}
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 50 * 1024 * 1024, minimum=1)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}
