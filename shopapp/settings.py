"""Settings, all read from the environment (django-environ); see .env.example for every variable.

With nothing set, Slipstream runs on embedded defaults: SQLite and MLflow under `var/`, and a Redis
the project starts itself. SLIPSTREAM_ENV=production makes every secret required.
"""

from __future__ import annotations

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()
if (BASE_DIR / ".env").exists():
    env.read_env(BASE_DIR / ".env")

PRODUCTION = env.str("SLIPSTREAM_ENV", default="development") == "production"
VAR_DIR = Path(env.str("SLIPSTREAM_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _secret(name: str, dev_default: str) -> str:
    """A secret: required in production (start-up stops with a clear message), defaulted in dev."""
    value: str = env.str(name, default="")
    if value:
        return value
    if PRODUCTION:
        raise ImproperlyConfigured(
            f"{name} is required when SLIPSTREAM_ENV=production. Set it in the environment "
            f"(see .env.example); Slipstream will not start without it."
        )
    return dev_default


SECRET_KEY = _secret("DJANGO_SECRET_KEY", "dev-only-insecure-key-never-use-in-production")
# The app's client id and secret from the Partner Dashboard. The dev defaults sign the demo's
# simulated app-proxy requests; a real store never sees them.
SHOPIFY_API_KEY = _secret("SHOPIFY_API_KEY", "slipstream-dev-client-id")
SHOPIFY_API_SECRET = _secret(
    "SHOPIFY_API_SECRET", "slipstream-dev-client-secret-not-for-production"
)
# The previous secret while a rotation is under way: signatures made with it still verify.
SHOPIFY_API_SECRET_OLD = env.str("SHOPIFY_API_SECRET_OLD", default="")
# Where Shopify sends merchants back to (the app's own public origin, https in production).
SHOPIFY_APP_URL = env.str("SHOPIFY_APP_URL", default="http://127.0.0.1:8000").rstrip("/")
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

DEBUG = env.bool("DJANGO_DEBUG", default=not PRODUCTION)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[] if PRODUCTION else ["*"])

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.staticfiles",
    "shopapp.shops",
    "shopapp.events",
    "shopapp.recs",
    "shopapp.privacy",
    "shopapp.web",
    "shopapp.demo",
]

MIDDLEWARE = [
    "shopapp.web.timing.ServerTimingMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
]

# Overridden only by bench/collector.py, to serve its baseline view beside the real ones.
ROOT_URLCONF = env.str("DJANGO_ROOT_URLCONF", default="shopapp.urls")
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
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
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

# The demo store's money format (Shopify's shop.money_format), used by its Liquid rendering.
DEMO_MONEY_FORMAT = "${{amount}}"
# The demo's stand-in for Shopify's app proxy (signs requests as Shopify would); off in production.
DEMO_APP_PROXY = env.bool("SLIPSTREAM_DEMO_APP_PROXY", default=not PRODUCTION)

_redis_url: str = env.str("REDIS_URL", default="")
if not _redis_url:
    if PRODUCTION:
        raise ImproperlyConfigured("REDIS_URL is required when SLIPSTREAM_ENV=production.")
    from shopapp.devredis import local_redis_url

    _redis_url = local_redis_url(VAR_DIR)
REDIS_URL = _redis_url

MLFLOW_TRACKING_URI = env.str(
    "MLFLOW_TRACKING_URI", default=f"sqlite:///{VAR_DIR / 'mlflow' / 'mlflow.db'}"
)
# Where new MLflow experiments keep artifacts when the tracking store is local (a server decides
# this itself). Without it MLflow writes ./mlruns into whatever directory a process started in.
MLFLOW_ARTIFACT_ROOT = env.str(
    "MLFLOW_ARTIFACT_ROOT", default=str(VAR_DIR / "mlflow" / "artifacts")
)
if MLFLOW_TRACKING_URI.startswith("sqlite:///"):
    (VAR_DIR / "mlflow").mkdir(parents=True, exist_ok=True)

# Celery: one queue per stage so a slow stage never blocks ingestion (docs/operations.md).
CELERY_BROKER_URL = REDIS_URL
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
    "popular-lists": {"task": "slipstream.recommend.popular", "schedule": 60.0},
    "trending-lists": {"task": "slipstream.recommend.trending", "schedule": 60.0},
    "covisitation": {"task": "slipstream.train.covisit", "schedule": 6 * 3600.0},
    "retraining": {"task": "slipstream.train.retrain", "schedule": 24 * 3600.0},
    "metaobjects-cleanup": {
        "task": "slipstream.publish.metaobjects_cleanup",
        "schedule": 24 * 3600.0,
    },
    # Expiring offline tokens live an hour: refresh the ones due within the next 20 minutes.
    "token-refresh": {"task": "slipstream.publish.tokens_refresh", "schedule": 300.0},
    "data-exports-expire": {"task": "slipstream.ingest.exports_expire", "schedule": 3600.0},
    "catalog-sync": {"task": "slipstream.publish.catalog_sync_all", "schedule": 24 * 3600.0},
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

# Which registered model kind serves (`slipstream-<kind>`); each shop's settings pick the alias.
SERVING_MODEL_KIND = env.str("SLIPSTREAM_SERVING_MODEL", default="popularity")
