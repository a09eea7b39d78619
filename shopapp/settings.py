"""Settings, all read from the environment (django-environ); see .env.example for every variable.

They fail closed: SLIPSTREAM_ENV defaults to production, where every secret is required. The demo,
the tests and the benchmarks opt in to development (Makefile, pyproject.toml), which runs on
embedded defaults: SQLite and MLflow under `var/`, a Redis the project starts itself, and published
development secrets, which are refused unless SHOPIFY_APP_URL is a loopback address.

Importing them does nothing but read: `var/` is made by what first writes there, and the local
Redis is started by the first process that needs one (shopapp/redis.py:redis_url).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

from shopapp.envvars import secret_read, value_or_default

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()
if (BASE_DIR / ".env").exists():
    env.read_env(BASE_DIR / ".env")

_ENV = env.str("SLIPSTREAM_ENV", default="production")
if _ENV not in ("production", "development"):
    raise ImproperlyConfigured(f"SLIPSTREAM_ENV must be production or development, not {_ENV!r}.")
PRODUCTION = _ENV == "production"
VAR_DIR = Path(env.str("SLIPSTREAM_VAR_DIR", default=str(BASE_DIR / "var")))

# Where Shopify sends merchants back to (the app's own public origin, https in production).
SHOPIFY_APP_URL = env.str("SHOPIFY_APP_URL", default="" if PRODUCTION else "http://127.0.0.1:8000")
SHOPIFY_APP_URL = SHOPIFY_APP_URL.rstrip("/")
_APP_URL = urlsplit(SHOPIFY_APP_URL)
# Development on this machine only. The development defaults below are published in this repository,
# so anyone could sign session tokens, webhooks and app-proxy requests with them: they serve only
# an app nobody else can reach.
LOCAL = not PRODUCTION and _APP_URL.hostname in ("localhost", "127.0.0.1", "::1")


def _secret(name: str, dev_default: str) -> str:
    return secret_read(
        env, name, dev_default, local=LOCAL, production=PRODUCTION, app_url=SHOPIFY_APP_URL
    )


SECRET_KEY = _secret("DJANGO_SECRET_KEY", "dev-only-insecure-key-never-use-in-production")
# The app's client id and secret from the Partner Dashboard.
SHOPIFY_API_KEY = _secret("SHOPIFY_API_KEY", "slipstream-dev-client-id")
SHOPIFY_API_SECRET = _secret(
    "SHOPIFY_API_SECRET", "slipstream-dev-client-secret-not-for-production"
)
# The previous secret while a rotation is under way: signatures made with it still verify.
SHOPIFY_API_SECRET_OLD = env.str("SHOPIFY_API_SECRET_OLD", default="")
if PRODUCTION and (_APP_URL.scheme != "https" or not _APP_URL.hostname):
    raise ImproperlyConfigured(
        "SHOPIFY_APP_URL is required when SLIPSTREAM_ENV=production: the app's public https "
        "origin, e.g. https://slipstream.example.com."
    )
# Keys that encrypt the shops' access and refresh tokens at rest (Fernet keys, comma-separated).
# The first encrypts; every one decrypts, so a new key goes first and the old one stays until
# `manage.py tokens_rekey` has re-encrypted every token (docs/operations.md).
SHOPIFY_TOKEN_KEYS: list[str] = [k for k in env.list("SHOPIFY_TOKEN_KEYS", default=[]) if k]
if not SHOPIFY_TOKEN_KEYS:
    if PRODUCTION:
        raise ImproperlyConfigured(
            "SHOPIFY_TOKEN_KEYS is required when SLIPSTREAM_ENV=production. Generate a key with "
            "`python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())'`."
        )
    SHOPIFY_TOKEN_KEYS = []  # development: derived from SECRET_KEY (shopapp/shops/crypto.py)
# Tests and local runs only: send Shopify-bound HTTP (OAuth, Admin API) to this origin instead of
# https://{shop}, where a stand-in Shopify answers. Refused in production.
SHOPIFY_ORIGIN_OVERRIDE = env.str("SHOPIFY_ORIGIN_OVERRIDE", default="")
if PRODUCTION and SHOPIFY_ORIGIN_OVERRIDE:
    raise ImproperlyConfigured("SHOPIFY_ORIGIN_OVERRIDE must not be set in production.")

# DEBUG shows settings and tracebacks to whoever gets an error page: local development only.
DEBUG = env.bool("DJANGO_DEBUG", default=LOCAL)
if DEBUG and PRODUCTION:
    raise ImproperlyConfigured("DJANGO_DEBUG must not be on in production.")
# By default the app URL's host (and, locally, the loopback names): never "*".
_APP_HOST = _APP_URL.hostname or ""
_APP_HOSTS = [f"[{_APP_HOST}]" if ":" in _APP_HOST else _APP_HOST] if _APP_HOST else []
ALLOWED_HOSTS: list[str] = env.list(
    "DJANGO_ALLOWED_HOSTS",
    default=_APP_HOSTS + (["localhost", "127.0.0.1", "[::1]"] if LOCAL else []),
)


def _tls(name: str, default: object, cast: type) -> Any:
    return value_or_default(env, name, default, cast)


# TLS ends at the reverse proxy in front of gunicorn (docs/operations.md), which tells Django a
# request came over https in a header: X-Forwarded-Proto unless DJANGO_SECURE_PROXY_SSL_HEADER
# names another ("none" trusts none). The proxy must set that header itself, overwriting a
# client's, or any client could claim https.
_SSL_HEADER = _tls("DJANGO_SECURE_PROXY_SSL_HEADER", "X-Forwarded-Proto" if PRODUCTION else "", str)
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_" + _SSL_HEADER.upper().replace("-", "_"), "https")
    if _SSL_HEADER and _SSL_HEADER.lower() != "none"
    else None
)
SECURE_SSL_REDIRECT = _tls("DJANGO_SECURE_SSL_REDIRECT", PRODUCTION, bool)
# The load balancer's health probe speaks plain HTTP to gunicorn directly.
SECURE_REDIRECT_EXEMPT = [r"^health$"]
# Sent on https responses only. One year; subdomains and preloading are the operator's call.
SECURE_HSTS_SECONDS = _tls("DJANGO_SECURE_HSTS_SECONDS", 31_536_000 if PRODUCTION else 0, int)
SECURE_HSTS_INCLUDE_SUBDOMAINS = _tls("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", False, bool)
SECURE_HSTS_PRELOAD = _tls("DJANGO_SECURE_HSTS_PRELOAD", False, bool)
SESSION_COOKIE_SECURE = not LOCAL
CSRF_COOKIE_SECURE = not LOCAL

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.staticfiles",
    "shopapp.shops",
    "shopapp.events",
    "shopapp.recs",
    "shopapp.privacy",
    "shopapp.web",
]

MIDDLEWARE = [
    "shopapp.web.timing.ServerTimingMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
]

# Overridden only by the benchmarks that serve a baseline view beside the real ones
# (bench/collector.py and bench/proxy.py: bench.urls).
ROOT_URLCONF = env.str("DJANGO_ROOT_URLCONF", default="shopapp.urls")

# The demo (shopapp/demo/: `manage.py demo`, its storefront, its signing stand-in for the app proxy
# and its stand-in admin) is installed only while SLIPSTREAM_DEMO is on: `make demo` sets it for
# `manage.py demo`, which sets it for the processes it starts. What it changes is named once, here;
# the tests that exercise the demo install the same (tests/conftest.py:demo_app, and the browser
# tests' live server), the others run without it.
DEMO = env.bool("SLIPSTREAM_DEMO", default=False)
DEMO_SETTINGS: dict[str, Any] = {
    "INSTALLED_APPS": [*INSTALLED_APPS, "shopapp.demo"],
    # Lets its stand-in admin frame the app's pages (and hands them its token hook).
    "MIDDLEWARE": [*MIDDLEWARE, "shopapp.demo.middleware.demo_admin_frame"],
    # The app's URLs and the demo's.
    "ROOT_URLCONF": "shopapp.demo.urls",
}
if DEMO and not LOCAL:
    raise ImproperlyConfigured(
        "SLIPSTREAM_DEMO is for `make demo` only: refused in production and when SHOPIFY_APP_URL "
        "is not a loopback address."
    )
if DEMO:
    INSTALLED_APPS, MIDDLEWARE, ROOT_URLCONF = (
        DEMO_SETTINGS[name] for name in ("INSTALLED_APPS", "MIDDLEWARE", "ROOT_URLCONF")
    )
WSGI_APPLICATION = "shopapp.wsgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": False,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'slipstream.sqlite3'}")
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Django's, making the file's folder on first connect (var/ does not exist in a fresh clone).
    DATABASES["default"]["ENGINE"] = "shopapp.sqlite3"
    # A file, not pytest-django's in-memory default: integration tests share it with a worker.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "UTC"

STATIC_URL = "static/"
# The storefront assets are served from the theme extension itself, so the demo page loads the very
# files Shopify would serve.
STATICFILES_DIRS = [("theme_extension", BASE_DIR / "theme_extension" / "assets")]
STATIC_ROOT = VAR_DIR / "static"

# Collector limits: a tp2 body above this is refused with 413 before it is parsed.
COLLECTOR_MAX_BODY_BYTES = env.int("COLLECTOR_MAX_BODY_BYTES", default=1024 * 1024)
COLLECTOR_MAX_EVENTS = env.int("COLLECTOR_MAX_EVENTS", default=500)
DATA_UPLOAD_MAX_MEMORY_SIZE = COLLECTOR_MAX_BODY_BYTES
# Events per minute: for a whole shop, and for one shopper (a person browses a few pages a minute;
# hundreds of events a minute from one id is a bot or a loop).
COLLECTOR_RATE_PER_SHOP = env.int("COLLECTOR_RATE_PER_SHOP", default=120_000)
COLLECTOR_RATE_PER_SHOPPER = env.int("COLLECTOR_RATE_PER_SHOPPER", default=600)
# Events per minute for one shop from one client address (an IPv6 /64): a shopper's id is the
# client's to choose, its address is not. 600 is an office of 50 people each browsing the shop at
# a page every 5 s; it must stay >= COLLECTOR_MAX_EVENTS or a full batch could never pass.
COLLECTOR_RATE_PER_ADDRESS = env.int("COLLECTOR_RATE_PER_ADDRESS", default=600)
# Distinct visitor ids (duid) one address may bring to one shop in an hour: every new one is new
# state (a window, a list, history), and inventing them is free. A returning one always passes.
COLLECTOR_NEW_VISITORS_PER_ADDRESS = env.int("COLLECTOR_NEW_VISITORS_PER_ADDRESS", default=100)
if COLLECTOR_RATE_PER_ADDRESS < COLLECTOR_MAX_EVENTS:
    raise ImproperlyConfigured("COLLECTOR_RATE_PER_ADDRESS must be >= COLLECTOR_MAX_EVENTS.")
# The client's address is REMOTE_ADDR unless our own proxies name it in a header (e.g.
# X-Forwarded-For); hops = how many of our proxies append to X-Forwarded-For. No header is trusted
# by default: anyone can send one (shopapp/web/clientaddr.py, docs/operations.md).
TRUSTED_PROXY_HEADER = env.str("SLIPSTREAM_TRUSTED_PROXY_HEADER", default="")
TRUSTED_PROXY_HOPS = env.int("SLIPSTREAM_TRUSTED_PROXY_HOPS", default=1)
if TRUSTED_PROXY_HOPS < 1:
    raise ImproperlyConfigured("SLIPSTREAM_TRUSTED_PROXY_HOPS must be 1 or more.")

# The demo store's money format (Shopify's shop.money_format), used by its Liquid rendering.
DEMO_MONEY_FORMAT = "${{amount}}"
# The demo's storefront, and its stand-in for Shopify's app proxy, which signs whatever a browser
# asks it to: only `manage.py demo` turns them on, with SLIPSTREAM_DEMO, for the processes it
# starts, and they sign and verify with the demo's own random secret (made once per var dir), never
# the app's.
DEMO_APP_PROXY = env.bool("SLIPSTREAM_DEMO_APP_PROXY", default=False)
DEMO_APP_PROXY_SECRET_FILE = VAR_DIR / "demo-secret"
DEMO_APP_PROXY_SECRET = ""
if DEMO_APP_PROXY:
    if not LOCAL:
        raise ImproperlyConfigured(
            "SLIPSTREAM_DEMO_APP_PROXY is for `manage.py demo` only: refused in production and "
            "when SHOPIFY_APP_URL is not a loopback address."
        )
    if DEMO_APP_PROXY_SECRET_FILE.exists():
        DEMO_APP_PROXY_SECRET = DEMO_APP_PROXY_SECRET_FILE.read_text().strip()
    _own = DEMO_APP_PROXY_SECRET and SHOPIFY_API_SECRET == DEMO_APP_PROXY_SECRET
    if not _own or SHOPIFY_API_SECRET_OLD:
        raise ImproperlyConfigured(
            "SLIPSTREAM_DEMO_APP_PROXY signs with the demo's own secret "
            f"({DEMO_APP_PROXY_SECRET_FILE}, made by `manage.py demo`), which must also be the "
            "process's SHOPIFY_API_SECRET (and SHOPIFY_API_SECRET_OLD unset). Run the demo with "
            "`make demo`."
        )
    if not DEMO:
        raise ImproperlyConfigured(
            "SLIPSTREAM_DEMO_APP_PROXY serves the demo, which SLIPSTREAM_DEMO installs: "
            "`manage.py demo` sets both for its processes. Run the demo with `make demo`."
        )

# Empty in development means the project's own Redis (shopapp/devredis.py), which the first process
# to need one starts: shopapp/redis.py:redis_url, Celery's broker in shopapp/celery.py.
REDIS_URL: str = env.str("REDIS_URL", default="")
if PRODUCTION and not REDIS_URL:
    raise ImproperlyConfigured("REDIS_URL is required when SLIPSTREAM_ENV=production.")

MLFLOW_TRACKING_URI = env.str(
    "MLFLOW_TRACKING_URI", default=f"sqlite:///{VAR_DIR / 'mlflow' / 'mlflow.db'}"
)
# Where new MLflow experiments keep artifacts when the tracking store is local (a server decides
# this itself). Without it MLflow writes ./mlruns into whatever directory a process started in.
MLFLOW_ARTIFACT_ROOT = env.str(
    "MLFLOW_ARTIFACT_ROOT", default=str(VAR_DIR / "mlflow" / "artifacts")
)

# Celery: one queue per stage so a slow stage never blocks ingestion (docs/operations.md).
CELERY_BROKER_URL = REDIS_URL  # empty: the project's own Redis, resolved by shopapp/celery.py
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# How long a task taken by a worker that died stays invisible before it is delivered again. It must
# exceed the longest task's hard time limit (90 s), or a slow task would run twice at once.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", 600)}
CELERY_TASK_ROUTES = {
    "slipstream.ingest.*": {"queue": "ingest"},
    "slipstream.recommend.*": {"queue": "recommend"},
    "slipstream.publish.*": {"queue": "publish"},
    "slipstream.train.*": {"queue": "train"},
}
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    "popular-lists": {"task": "slipstream.recommend.popular_refresh_all", "schedule": 60.0},
    "trending-lists": {"task": "slipstream.recommend.trending_refresh_all", "schedule": 60.0},
    "covisitation": {"task": "slipstream.train.covisit_refresh_all", "schedule": 6 * 3600.0},
    # Each shop whose models are due (daily, or new with history): queued one by one.
    "retraining": {"task": "slipstream.train.shop_models_retrain_all", "schedule": 3600.0},
    "metaobjects-cleanup": {
        "task": "slipstream.publish.metaobjects_cleanup_all",
        "schedule": 24 * 3600.0,
    },
    # Expiring offline tokens live an hour: refresh the ones due within the next 20 minutes.
    "token-refresh": {"task": "slipstream.publish.tokens_refresh", "schedule": 300.0},
    "data-exports-expire": {"task": "slipstream.ingest.exports_expire", "schedule": 3600.0},
    # Interaction history past each shop's history_retention_days (bounded batches, train queue).
    "interactions-expire": {
        "task": "slipstream.train.interactions_expire",
        "schedule": 24 * 3600.0,
    },
    "catalog-sync": {"task": "slipstream.publish.shop_setup_all", "schedule": 24 * 3600.0},
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULER = "shopapp.celery:VarDirScheduler"  # makes var/ before it writes there

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

# A worker's loaded models, all shops together, weighed by their saved size; past it the least
# recently used are evicted (shopapp.recs.predictors).
PREDICTOR_CACHE_MB = env.int("SLIPSTREAM_PREDICTOR_CACHE_MB", default=512)
