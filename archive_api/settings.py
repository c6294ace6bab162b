"""Settings for the letters archive, read from the environment (django-environ).

One module for every deployment: the environment variables documented in README.md
choose the database, debug mode, hosts and API limits. Nothing secret is kept here.
"""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

DEBUG = env.bool("DJANGO_DEBUG", default=False)

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
# Without a key (and debug off) the archive refuses to *serve*: archive_api/wsgi.py
# (loaded by gunicorn and runserver) and `check --deploy` stop with MISSING_SECRET_KEY.
# Commands that sign nothing (migrate, makemigrations, load_seeds, export_datapackage)
# still run; anything that would sign with an empty key fails in Django itself.
MISSING_SECRET_KEY = (
    "DJANGO_SECRET_KEY is not set. The archive refuses to start without a secret key "
    "when DJANGO_DEBUG is off. Set DJANGO_SECRET_KEY to a long random string (for "
    "example: python -c 'import secrets; print(secrets.token_urlsafe(50))'), or set "
    "DJANGO_DEBUG=1 for local development only."
)
if not SECRET_KEY and DEBUG:
    SECRET_KEY = "django-insecure-local-development-only"  # noqa: S105 (debug only)

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

# Production security, on by default whenever debug is off. The archive runs behind a
# TLS-terminating proxy that sets X-Forwarded-Proto (and must strip it from clients).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
SECURE_HSTS_SECONDS = env.int(
    "DJANGO_SECURE_HSTS_SECONDS", default=0 if DEBUG else 60 * 60 * 24 * 365
)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool(
    "DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True
)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "axes",
    "letters",
    "datapackage",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "letters.limits.QueryTimeLimitMiddleware",
    # Last, as django-axes asks: it turns lockouts into a clear 429 page.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses locked-out logins
    "django.contrib.auth.backends.ModelBackend",
]
# Admin login attempts: lock a username+address pair after AXES_FAILURE_LIMIT failures
# for AXES_COOLOFF_MINUTES; the client address comes from the proxy's header.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_MINUTES", default=15.0) / 60
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]

ROOT_URLCONF = "archive_api.urls"

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

WSGI_APPLICATION = "archive_api.wsgi.application"

# Database: an SQLite file under var/ unless DATABASE_URL says otherwise
# (postgresql://user:password@host:5432/name for larger deployments).
_default_sqlite = VAR_DIR / "archive.sqlite3"
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{_default_sqlite}")
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    if DATABASES["default"]["NAME"] == str(_default_sqlite):
        VAR_DIR.mkdir(exist_ok=True)
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            # IMMEDIATE avoids "database is locked" when a read transaction upgrades.
            "transaction_mode": "IMMEDIATE",
            "timeout": env.float("DATABASE_SQLITE_TIMEOUT", default=20.0),
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # No JIT compilation. PostgreSQL compiles a query once its estimated cost passes
    # jit_above_cost, which the facet counts of large sets do: at 100k letters the
    # compilation alone took 0.75 s of a 1.4 s facet query, and
    # `search=letter&facets=person,organisation` answered in 2.3 s with it against
    # 0.7 s without (docs/benchmarks.md, seventeenth session). The archive's queries
    # are short and bounded by the statement time limit: the JIT never pays back.
    # A DATABASE_URL that sets jit itself (?options=-c jit=on) is left as it is.
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    if "jit" not in _options.get("options", ""):
        _options["options"] = f"{_options.get('options', '')} -c jit=off".strip()
# letter_published_ids carries the facets' columns as non-key (INCLUDE) columns on
# PostgreSQL; SQLite has none and builds the plain index, which is what it needs
# there (letters/models.py). Django warns about that on SQLite: models.W040.
SILENCED_SYSTEM_CHECKS = ["models.W040"]
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", 0))
# A kept connection is checked before each request reuses it: a database restart or a
# dropped connection costs one reconnect, not an error.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation." + name}
    for name in (
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    )
]

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "archive_api.storage.ArchiveStaticStorage"
        )
    },
}
# Serve static files from the app folders when collectstatic has not run (tests, dev).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# The archive's public address (the data package's homepage).
ARCHIVE_PUBLIC_URL = env.str("ARCHIVE_PUBLIC_URL", default="http://127.0.0.1:8000/")

# Where the published data package lives (see datapackage/build.py).
DATAPACKAGE_DIR = Path(env.str("DATAPACKAGE_DIR", default=str(VAR_DIR / "datapackage")))

# The read-only public API.
API_QUERY_TIME_LIMIT_MS = env.int("API_QUERY_TIME_LIMIT_MS", default=3000)
API_PAGE_SIZE = 50
API_MAX_PAGE_SIZE = 500
REST_FRAMEWORK = {
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_SCHEMA_CLASS": "letters.schema.ArchiveAutoSchema",
    "DEFAULT_PAGINATION_CLASS": "letters.pagination.ArchivePagination",
    "PAGE_SIZE": API_PAGE_SIZE,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
    ],
    "DEFAULT_RENDERER_CLASSES": [
        "letters.renderers.FastJSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
        "letters.renderers.ArchiveCSVRenderer",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.AnonRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("API_ANON_THROTTLE_RATE", default="120/min"),
    },
    "EXCEPTION_HANDLER": "letters.api_errors.exception_handler",
    "URL_FORMAT_OVERRIDE": "format",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Letters archive API",
    "DESCRIPTION": (
        "Read-only access to the published records of the letters archive: letters, "
        "persons, organisations, places and offices, with filters, facets, free-text "
        "search and CSV. Only published letters, and the people and bodies they "
        "involve, are visible."
    ),
    "VERSION": "1.0.0",
    "OAS_VERSION": "3.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "LetterKindEnum": "letters.vocabularies.LetterKind",
        "OrganisationKindEnum": "letters.vocabularies.OrganisationKind",
        "LanguageEnum": "letters.vocabularies.LANGUAGES",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", "WARNING")},
}
