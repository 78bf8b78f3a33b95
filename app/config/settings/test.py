"""Tests: a real PostgreSQL (TEST_DATABASE_URL), plus speed-ups only."""

import os

import dj_database_url

from .base import *  # noqa: F401,F403
from .base import POSTGRESQL_ENGINE

SECRET_KEY = "test-only-not-a-secret"
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]

_url = os.environ.get("TEST_DATABASE_URL")
if not _url:
    raise SystemExit("pizza: tests need PostgreSQL: run them with `make test` or set TEST_DATABASE_URL")
DATABASES = {"default": dict(dj_database_url.parse(_url, conn_max_age=0), ENGINE=POSTGRESQL_ENGINE)}
# The tests' queries go through PgBouncer in transaction mode (app/conftest.py): no WITH HOLD cursors.
DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
DATABASES["default"]["TEST"] = {"NAME": os.environ.get("TEST_DATABASE_NAME", "pizza_test")}

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
REQUEST_LOG = False
