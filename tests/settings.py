"""Settings for the test suite: production settings with a throwaway key and plain HTTP."""

import os
import tempfile

os.environ.setdefault("SECRET_KEY", "tests-only-secret-key-not-for-production-0123456789")

from controlplane.settings import *  # noqa: E402,F403
from tests.fixtures.valkey import redis_for_tests  # noqa: E402

SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Worker processes started by tests must see the same database: keep SQLite test databases
# in a file (PostgreSQL test databases are shared by name anyway).
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    # One file per test run, so concurrent runs never share a database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-meridian-{os.getpid()}.sqlite3")}  # noqa: F405

# The test suite uses its own Redis database so it never meets a running installation's queue.
# Worker processes the tests start are told the URL; the test run itself looks for a Redis and
# starts a private Valkey server when none answers (a laptop without Redis).
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL") or redis_for_tests(
    REDIS_URL.rsplit("/", 1)[0] + "/15")  # noqa: F405
CELERY_BROKER_URL = TEST_REDIS_URL
CELERY_RESULT_BACKEND = TEST_REDIS_URL
REDIS_URL = TEST_REDIS_URL

STATIC_ROOT = VAR_DIR / "static-test"  # noqa: F405
STATIC_ROOT.mkdir(parents=True, exist_ok=True)

# Concurrent test runs share one Redis: each run's keys (queues, results) carry its own prefix.
TEST_KEY_PREFIX = os.environ.get("TEST_KEY_PREFIX") or f"t{os.getpid()}:"
# A test run's Route 53 budget is its own (its workers share it through TEST_KEY_PREFIX).
ROUTE53_BUDGET_KEY = TEST_KEY_PREFIX + "route53:budget"
CELERY_BROKER_TRANSPORT_OPTIONS = {
    **CELERY_BROKER_TRANSPORT_OPTIONS,  # noqa: F405
    "global_keyprefix": TEST_KEY_PREFIX,
}
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"global_keyprefix": TEST_KEY_PREFIX}

# Each test process keeps its own cache; tests clear it between tests.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# The test suite's own apps live in the checkout and in temporary folders; most tests run them
# as the test process itself (their Python is a virtualenv's), tests/deployer/test_app_isolation
# runs them isolated.
APP_ROOTS = [str(BASE_DIR), tempfile.gettempdir()]  # noqa: F405
APP_ISOLATION = envbool("APP_ISOLATION", False)  # noqa: F405
