"""CWTS Desk settings, all from the environment (django-environ).

The embedded default is a SQLite file and a Redis on 127.0.0.1; a real deployment sets
DATABASE_URL, REDIS_URL, SECRET_KEY and ALLOWED_HOSTS.
"""

from pathlib import Path
from typing import Any

import django_stubs_ext
import environ
import structlog
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

# Lets generic classes such as ModelAdmin[Model] be subscripted at run time, as typed.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "insecure-development-key-only-used-with-debug"  # noqa: S105

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list(
    "CSRF_TRUSTED_ORIGINS", default=["http://127.0.0.1:8000", "http://localhost:8000"]
)

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "apps.accounts",
    "apps.instruments",
    "apps.audit",
    "apps.matching",
    "apps.trading",
    "apps.risk",
    "apps.breakers",
    "apps.desk",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "apps.accounts.middleware.ActingUserMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "project.urls"
ASGI_APPLICATION = "project.asgi.application"
WSGI_APPLICATION = "project.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'var' / 'desk.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default keeps its files in var/, which a fresh clone does not have yet.
    (BASE_DIR / "var").mkdir(exist_ok=True)
    # WAL lets the web tier read while the matcher journals; the busy timeout covers the
    # short window in which both want the write lock. Transactions take that lock when they
    # begin (IMMEDIATE): a deferred one that reads and then writes while the matcher commits
    # cannot wait for the lock and fails at once with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
    # A file, not memory, so that the live desk the browser tests start can share it.
    DATABASES["default"]["TEST"] = {"NAME": f"{DATABASES['default']['NAME']}.test"}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "desk"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "var" / "staticfiles")))
# WhiteNoise serves from the finders (below) and only warns when STATIC_ROOT is missing; keep
# the folder so that `collectstatic` has a place and the warning a reason to be real.
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
# Serve straight from static/ and the apps in every mode: the front end is built into static/
# by Vite with fixed names, so no collectstatic step stands between a build and a run.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            "hosts": [REDIS_URL],
            "prefix": env.str("CHANNEL_LAYER_PREFIX", default="asgi"),
            "capacity": 1000,
            "expiry": 30,
        },
    },
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first, so that an unauthenticated call is told 401 with how to authenticate.
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "project.api_errors.api_exception_handler",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "CWTS Desk API",
    "DESCRIPTION": "Orders, instruments and books of the CWTS trading desk.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI from the installed package, not a CDN: desks often run without internet.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
}

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Session close, in UTC (16:00 New York in winter): DAY orders expire then.
SESSION_CLOSE_UTC = env.str("SESSION_CLOSE_UTC", default="21:00")
_close_hour, _close_minute = (int(part) for part in SESSION_CLOSE_UTC.split(":"))
# Session open, in UTC (09:30 New York in winter): daily risk counters start again then.
SESSION_OPEN_UTC = env.str("SESSION_OPEN_UTC", default="13:30")
_open_hour, _open_minute = (int(part) for part in SESSION_OPEN_UTC.split(":"))
CELERY_BEAT_SCHEDULE = {
    "expire-day-orders": {
        "task": "apps.trading.tasks.expire_day_orders",
        "schedule": crontab(hour=_close_hour, minute=_close_minute, day_of_week="mon-fri"),
    },
    "reset-daily-risk": {
        "task": "apps.risk.tasks.reset_daily_risk",
        "schedule": crontab(hour=_open_hour, minute=_open_minute, day_of_week="mon-fri"),
    },
    # The session's open and close (from the breaker settings' local times) reach every shard.
    "start-session": {
        "task": "apps.breakers.tasks.start_session",
        "schedule": crontab(hour=_open_hour, minute=_open_minute, day_of_week="mon-fri"),
    },
    # Nightly, when the desk is quiet: the walk reads every row of the log.
    "audit-verify-chain": {
        "task": "apps.audit.tasks.verify_chain",
        "schedule": crontab(hour=2, minute=30),
    },
    "audit-purge-expired": {
        "task": "apps.audit.tasks.purge_expired",
        "schedule": crontab(hour=3, minute=30),
    },
}
CELERY_TIMEZONE = "UTC"

# The matcher: which shard owns which symbols, where its stream and keys live, and how long
# the gateway waits for an outcome.
MATCHER_SHARD_COUNT = env.int("MATCHER_SHARD_COUNT", default=1)
MATCHER_KEY_PREFIX = env.str("MATCHER_KEY_PREFIX", default="cwts")
MATCHER_HEARTBEAT_MAX_AGE_S = env.float("MATCHER_HEARTBEAT_MAX_AGE_S", default=5.0)
ORDER_REPLY_TIMEOUT_S = env.float("ORDER_REPLY_TIMEOUT_S", default=5.0)

# The event log: how long rows are kept (seven years and the two leap days they contain), and
# how many rows one purge transaction removes.
AUDIT_RETENTION_DAYS = env.int("AUDIT_RETENTION_DAYS", default=7 * 365 + 2)
AUDIT_PURGE_BATCH_ROWS = env.int("AUDIT_PURGE_BATCH_ROWS", default=10_000)

# Commands between engine snapshots: recovery replays at most this many from the log.
MATCHER_SNAPSHOT_EVERY = env.int("MATCHER_SNAPSHOT_EVERY", default=50_000)
# Engine snapshots kept per shard (recovery reads the latest; older ones and the client order
# id pages only they need are deleted as each new one is stored).
MATCHER_SNAPSHOTS_KEPT = env.int("MATCHER_SNAPSHOTS_KEPT", default=3)

_log_chain: list[Any] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "structured": {
            "()": structlog.stdlib.ProcessorFormatter,
            "processor": structlog.dev.ConsoleRenderer(colors=False)
            if DEBUG
            else structlog.processors.JSONRenderer(),
            "foreign_pre_chain": _log_chain,
        },
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "structured"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
structlog.configure(
    processors=[*_log_chain, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
    logger_factory=structlog.stdlib.LoggerFactory(),
    wrapper_class=structlog.stdlib.BoundLogger,
    cache_logger_on_first_use=True,
)
