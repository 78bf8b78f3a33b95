"""Settings of the floor app: Django's defaults where it has them, nothing the product adds."""

from __future__ import annotations

import os
import secrets

import dj_database_url

DEBUG = False
# Random per start (the master loads it once: preload_app); nothing signed outlives the run.
SECRET_KEY = secrets.token_urlsafe(50)
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = ["stack.bench.floor"]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
]
ROOT_URLCONF = "stack.bench.floor.urls"
WSGI_APPLICATION = "stack.bench.floor.wsgi.application"
# Persistent connections, as the product's (CONN_MAX_AGE 300).
DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"], conn_max_age=300)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "DIRS": [], "APP_DIRS": True}]
USE_TZ = True
LOGGING_CONFIG = None
