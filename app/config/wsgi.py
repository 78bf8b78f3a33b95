"""WSGI entry point for gunicorn (`gunicorn -c gunicorn.conf.py config.wsgi`)."""

import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

application = get_wsgi_application()
# Import every view now, not on the first request: a release whose code cannot load stops at
# start-up (gunicorn preloads this module) instead of passing its readiness probe and failing later.
get_resolver().url_patterns  # noqa: B018 (the access is the point: it imports every view)
