"""Settings for Meridian, read from the environment with defaults that suit a laptop."""

from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from .env import envbool, envfloat, envint, envjson, envlist, envstr

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(envstr("MERIDIAN_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = envbool("DEBUG", False)
SANDBOX = envbool("SANDBOX", False)

SECRET_KEY = envstr("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is off. Export one, or run `make run` once in "
            "this checkout: it keeps one in var/secret_key, which manage.py then reads."
        )
    SECRET_KEY = "insecure-development-key-do-not-use-in-production"

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "ninja",
    "axes",
    "accounts",
    "regions",
    "watch",
    "sandbox",
    "deployer",
    "traffic",
    "alerts",
    "front",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Every page needs a login unless its view says otherwise (healthz, login, the API).
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    # Last, as django-axes asks: turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "controlplane.urls"
WSGI_APPLICATION = "controlplane.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            # Moments in the viewer's time zone and AWS console links, on every page.
            "builtins": ["lib.moments"],
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.meridian",
            ],
        },
    },
]

DATABASE_URL = envstr("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "meridian.sqlite3",
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Shared by every web and worker process (sparkline data, checker detail, rate budgets).
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": envstr("CACHE_URL", envstr("REDIS_URL", "redis://127.0.0.1:6379/0")),
        "KEY_PREFIX": "meridian",
        "TIMEOUT": 300,
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
# The lockout check runs before the password check, so a locked account cannot be guessed.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Login throttling: a user name, or a client address, is locked after this many failed logins
# in a row, for the cool-off period (manage.py unlock lifts it earlier).
AXES_FAILURE_LIMIT = envint("LOGIN_FAILURE_LIMIT", 12)
AXES_COOLOFF_TIME = timedelta(minutes=envint("LOGIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.lockouts.lockout_response"
AXES_CLIENT_IP_CALLABLE = "accounts.audit.client_ip"
# Lockouts are shown and lifted (audited) through accounts' own admin pages.
AXES_ENABLE_ADMIN = False
AXES_VERBOSE = False
# Successful logins are not kept (the audit trail records changes, not visits).
AXES_DISABLE_ACCESS_LOG = True
# Failed bearer tokens: an address that sends this many unknown or revoked tokens within the
# window gets 429 until the window ends (counted in the shared cache).
API_AUTH_FAILURE_LIMIT = envint("API_AUTH_FAILURE_LIMIT", 30)
API_AUTH_FAILURE_WINDOW = envint("API_AUTH_FAILURE_WINDOW", 300)
# The first admin that `make run` (manage.py ensure_admin) creates; no password: one is generated.
MERIDIAN_ADMIN_USER = envstr("MERIDIAN_ADMIN_USER", "admin")
MERIDIAN_ADMIN_PASSWORD = envstr("MERIDIAN_ADMIN_PASSWORD")
LOGIN_REDIRECT_URL = "regions:application_list"
LOGOUT_REDIRECT_URL = "accounts:login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(envstr("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# Security: safe defaults when DEBUG is off.
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", not DEBUG)
# Only behind a proxy that sets them: otherwise any client could claim HTTPS or an address.
TRUST_PROXY_HEADERS = envbool("TRUST_PROXY_HEADERS", False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if TRUST_PROXY_HEADERS else None
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = envbool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = envbool("CSRF_COOKIE_SECURE", not DEBUG)
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
# A request body over this many bytes answers 413 (the API's error shape under /api).
DATA_UPLOAD_MAX_MEMORY_SIZE = envint("DATA_UPLOAD_MAX_MEMORY_SIZE", 2621440)
# Scripts, styles and images only from the project itself: no inline script or style.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": envstr("LOG_LEVEL", "INFO")},
    "loggers": {
        "botocore": {"level": "WARNING"},
        "urllib3": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        # apprise's own lines can carry channel URLs (tokens): alerts logs its redacted words.
        "apprise": {"level": "WARNING", "propagate": False, "handlers": []},
    },
}

# Celery and Redis
REDIS_URL = envstr("REDIS_URL", "redis://127.0.0.1:6379/0")
CELERY_BROKER_URL = envstr("CELERY_BROKER_URL", REDIS_URL)
CELERY_RESULT_BACKEND = envstr("CELERY_RESULT_BACKEND", REDIS_URL)
DEPLOY_SOFT_TIME_LIMIT = envint("DEPLOY_SOFT_TIME_LIMIT", 3 * 3600)
DEPLOY_TIME_LIMIT = envint("DEPLOY_TIME_LIMIT", DEPLOY_SOFT_TIME_LIMIT + 300)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = envint("CELERY_TASK_SOFT_TIME_LIMIT", 300)
CELERY_TASK_TIME_LIMIT = envint("CELERY_TASK_TIME_LIMIT", 360)
# Longer than the longest task, so Redis never redelivers a deploy that is still running.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": DEPLOY_TIME_LIMIT + 600}
CELERY_RESULT_EXPIRES = 24 * 3600
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    "deployer.tasks.*": {"queue": "deploys"},
    "watch.tasks.*": {"queue": "polling"},
    "sandbox.tasks.*": {"queue": "polling"},
    "traffic.dns_tasks.*": {"queue": "polling"},
    "alerts.tasks.evaluate_alerts": {"queue": "polling"},
    "alerts.tasks.prune_alerts": {"queue": "polling"},
    "alerts.tasks.deliver_alert": {"queue": "default"},
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A task running when the broker connection drops is cancelled and delivered again; deploy
# tasks claim their row first and the reaper resumes following, so nothing runs twice.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
# A running deployment refreshes its heartbeat every poll; the reaper settles those whose
# heartbeat is older than this, from CloudFormation's own stack status.
DEPLOY_HEARTBEAT_TIMEOUT = envfloat("DEPLOY_HEARTBEAT_TIMEOUT", 300)
DEPLOY_POLL_INTERVAL = envfloat("DEPLOY_POLL_INTERVAL", 5)
# A plan older than this (seconds) must be made again before it is applied.
PLAN_MAX_AGE = envint("PLAN_MAX_AGE", 3600)
# During a bake between two waves, the deployed regions' health and alarms are read this often.
BAKE_CHECK_INTERVAL = envfloat("BAKE_CHECK_INTERVAL", 30)
# Seconds CloudFormation may take to create a change set, or to settle a stack before one.
DEPLOY_CHANGE_SET_TIMEOUT = envfloat("DEPLOY_CHANGE_SET_TIMEOUT", 600)
# Hooks for tests and benchmarks on moto (described in .env.example); unset in production.
DEPLOY_FOLLOW_DELAY = envfloat("DEPLOY_FOLLOW_DELAY", 0)
DEPLOY_AWS_ATTEMPTS = envint("DEPLOY_AWS_ATTEMPTS", 6)
DEPLOYER_TEMPLATES = envstr("DEPLOYER_TEMPLATES")
CELERY_TASK_ALWAYS_EAGER = False

# Watching (DESIGN §4)
POLL_INTERVAL = envint("POLL_INTERVAL", 30)
SAMPLE_RETENTION_DAYS = envint("SAMPLE_RETENTION_DAYS", 7)
LAG_WARN_MS = envint("LAG_WARN_MS", 2000)
LAG_CRIT_MS = envint("LAG_CRIT_MS", 10000)
ROLLUP_RETENTION_DAYS = envint("ROLLUP_RETENTION_DAYS", 90)
# Route 53 allows 5 requests/s per account, shared with CloudFormation's own calls.
ROUTE53_RATE = envint("ROUTE53_RATE", 2)
# The Redis key of that budget: one per AWS account, so every process of the installation shares it.
ROUTE53_BUDGET_KEY = envstr("ROUTE53_BUDGET_KEY", "meridian:route53:budget")
# How long the on-demand checker detail waits for a Route 53 budget slot before "busy".
ROUTE53_BUDGET_WAIT = envfloat("ROUTE53_BUDGET_WAIT", 2.0)
CHECKER_CACHE_SECONDS = envint("CHECKER_CACHE_SECONDS", 20)
# Meridian's own probe of each region's health endpoint (seconds; an interval of 0 turns it off).
PROBE_INTERVAL = envint("PROBE_INTERVAL", 10)
PROBE_TIMEOUT = envfloat("PROBE_TIMEOUT", 3)

# Alerts (docs/alerts.md)
# Links in messages point here: the address people open Meridian at.
SITE_URL = envstr("SITE_URL", "http://localhost:8000")
# A failed message is tried again this many times, waiting ALERT_RETRY_BACKOFF seconds doubled
# each time (with jitter), at most ALERT_RETRY_BACKOFF_MAX.
ALERT_DELIVERY_RETRIES = envint("ALERT_DELIVERY_RETRIES", 5)
ALERT_RETRY_BACKOFF = envint("ALERT_RETRY_BACKOFF", 10)
ALERT_RETRY_BACKOFF_MAX = envint("ALERT_RETRY_BACKOFF_MAX", 600)
# Seconds to connect to, and then to wait for, a notification service.
ALERT_SEND_TIMEOUT = envfloat("ALERT_SEND_TIMEOUT", 10)
# Resolved incidents and test messages older than this are forgotten, daily.
ALERT_RETENTION_DAYS = envint("ALERT_RETENTION_DAYS", 90)

# Drills (docs/region-switch.md, "Drills"): seconds between measurements of a drill's DNS
# shift, how long to wait for it (and for the answers back), and how often beat ends overdue
# drills, aborts failing ones and starts scheduled ones.
DRILL_POLL_INTERVAL = envfloat("DRILL_POLL_INTERVAL", 2)
DRILL_MEASURE_TIMEOUT = envint("DRILL_MEASURE_TIMEOUT", 300)
DRILL_SETTLE_INTERVAL = envint("DRILL_SETTLE_INTERVAL", 30)

def _every(task: str, seconds: float, expires: float) -> dict:
    """A beat entry; a run that waited past `expires` seconds is dropped, so a backlog never
    piles up."""
    return {"task": task, "schedule": seconds, "options": {"expires": max(expires, 1)}}


CELERY_BEAT_SCHEDULE = {
    "poll-metrics": _every("watch.tasks.poll_metrics", POLL_INTERVAL, POLL_INTERVAL - 2),
    "reap-deployments": _every("deployer.tasks.reap_deployments", 60, 55),
    "prune-samples": _every("watch.tasks.prune_samples", 3600, 1800),
    "settle-drills": _every("traffic.drill_tasks.settle_drills", DRILL_SETTLE_INTERVAL,
                            DRILL_SETTLE_INTERVAL - 5),
    "prune-alerts": _every("alerts.tasks.prune_alerts", 24 * 3600, 3600),
    # Each poll cycle compares every routing check's threshold with the region's traffic state.
    "check-routing-drift": _every("traffic.dns_tasks.check_routing_drift", POLL_INTERVAL,
                                  POLL_INTERVAL - 2),
}
if PROBE_INTERVAL > 0:
    CELERY_BEAT_SCHEDULE["probe-regions"] = _every("watch.tasks.probe_regions", PROBE_INTERVAL,
                                                   PROBE_INTERVAL - 1)
if SANDBOX:
    CELERY_BEAT_SCHEDULE["emit-sandbox-metrics"] = _every(
        "sandbox.tasks.emit_sandbox_metrics", POLL_INTERVAL, POLL_INTERVAL - 2)

# AWS
AWS_ENDPOINT_URL = envstr("AWS_ENDPOINT_URL")
AWS_DEFAULT_REGION = envstr("AWS_DEFAULT_REGION", "us-east-1")
AWS_CONNECT_TIMEOUT = envint("AWS_CONNECT_TIMEOUT", 5)
AWS_READ_TIMEOUT = envint("AWS_READ_TIMEOUT", 30)
AWS_MAX_ATTEMPTS = envint("AWS_MAX_ATTEMPTS", 8)

# Region switch (docs/region-switch.md): where the drain alarms live when an application names
# no control region (never us-east-1 by default: Route 53's control plane is there), and how
# long a traffic change may stay unfinished before another may start.
CONTROL_REGION = envstr("CONTROL_REGION", "us-west-2")
TRAFFIC_CHANGE_TIMEOUT = envint("TRAFFIC_CHANGE_TIMEOUT", 120)
# Region code → EDNS0 client subnet standing for clients near it (JSON), over the built-in table.
TRAFFIC_CLIENT_SUBNETS = envjson("TRAFFIC_CLIENT_SUBNETS", {})
# What DNS answers (docs/region-switch.md, "DNS answers"): TestDNSAnswer asks as this resolver
# (one that forwards the EDNS0 client subnet; empty: Route 53's default, a resolver in
# us-east-1), answers are kept this many seconds, and beat refreshes one application's this often.
TRAFFIC_RESOLVER_IP = envstr("TRAFFIC_RESOLVER_IP", "8.8.8.8")
TRAFFIC_DNS_TTL = envint("TRAFFIC_DNS_TTL", 60)
TRAFFIC_DNS_REFRESH = envint("TRAFFIC_DNS_REFRESH", 15)
if TRAFFIC_DNS_REFRESH > 0:
    CELERY_BEAT_SCHEDULE["refresh-dns-answers"] = _every(
        "traffic.dns_tasks.refresh_dns_answers", TRAFFIC_DNS_REFRESH, TRAFFIC_DNS_REFRESH - 1)

# Own app commands (docs/app-contract.md, "Trust"): run in their own PID namespace, as APP_UID
# when the worker is root, and only from a working folder inside APP_ROOTS.
APP_ISOLATION = envbool("APP_ISOLATION", True)
APP_UID = envint("APP_UID", 65534)
APP_GID = envint("APP_GID", 65534)
APP_ROOTS = envlist("APP_ROOTS", [str(Path.home())])

# Synth
SYNTH_TIMEOUT = envint("SYNTH_TIMEOUT", 600)
SYNTH_CACHE_DIR = Path(envstr("SYNTH_CACHE_DIR", str(VAR_DIR / "synth")))
SYNTH_CACHE_KEEP = envint("SYNTH_CACHE_KEEP", 20)
# The cloud assemblies of each application's last N succeeded deploys are kept for roll back.
ROLLBACK_KEEP = envint("ROLLBACK_KEEP", 5)
# One-region apps are synthesized once per region, this many at a time.
SYNTH_PARALLEL = envint("SYNTH_PARALLEL", 2)
# The built-in apps synthesize in a long-lived process per worker, recycled after this many
# synths or past this much memory (MiB, with its Node).
SYNTH_WARM = envbool("SYNTH_WARM", True)
SYNTH_WARM_MAX_SYNTHS = envint("SYNTH_WARM_MAX_SYNTHS", 50)
SYNTH_WARM_MAX_MB = envint("SYNTH_WARM_MAX_MB", 1536)
# Longest the asset publisher (cdk-assets) may run for one stack in one region.
ASSETS_TIMEOUT = envint("ASSETS_TIMEOUT", 900)

# API
NINJA_PAGINATION_PER_PAGE = 100
