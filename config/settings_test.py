"""Test settings: the same as production but fast and quiet."""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("SECRET_KEY", "test-secret-key")
os.environ.setdefault("DEBUG", "false")

from config.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"] = []  # noqa: F405
# Tests run tasks in-process; the broker tests switch a real worker on explicitly.
CELERY_TASK_ALWAYS_EAGER = True
# …and a write's recompute in the request, so that a test reads its numbers right after.
KPI_RECOMPUTE_IN_BACKGROUND = False
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
# Tests always have a `replica` alias: a second connection to the primary's test database
# (`TEST: MIRROR`), so that the router's tests can switch the router on. Nothing routes to it
# unless DATABASE_ROUTERS says so, as in production without DATABASE_REPLICA_URL.
DATABASES.setdefault("replica", {**DATABASES["default"], "TEST": {"MIRROR": "default"}})  # noqa: F405
# Uploaded imports go to a directory of this test process, removed with the temp dir (a process
# a test starts on the test database is given the test's: TEST_MEDIA_ROOT).
MEDIA_ROOT = os.environ.get("TEST_MEDIA_ROOT") or tempfile.mkdtemp(prefix="tandem-test-media-")
