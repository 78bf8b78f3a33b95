"""ops.sessions: Django's database sessions read with one fixed statement, shared with Django's own engines."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.sessions.backends import cached_db as django_cached_db
from django.contrib.sessions.backends import db as django_db
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ops.sessions import cached_db, db

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("writer", "reader"), [(django_db, db), (db, django_db), (django_cached_db, cached_db)])
def test_a_session_written_by_one_engine_is_read_by_the_other(writer, reader):
    """Releases with Django's engine and with ours share their visitors' sessions."""
    saved = writer.SessionStore()
    saved["cart"] = {"pizza": 3}
    saved.save()
    if reader is cached_db:
        from django.core.cache import caches

        caches["default"].clear()  # a cache miss: the row is read from the database
    assert reader.SessionStore(saved.session_key)["cart"] == {"pizza": 3}


def test_the_read_is_one_statement():
    saved = db.SessionStore()
    saved["a"] = 1
    saved.save()
    with CaptureQueriesContext(connection) as queries:
        assert db.SessionStore(saved.session_key)["a"] == 1
    assert len(queries) == 1 and "django_session" in queries[0]["sql"]


def test_an_expired_or_unknown_session_is_empty_and_its_key_forgotten():
    saved = db.SessionStore()
    saved["a"] = 1
    saved.save()
    Session.objects.filter(session_key=saved.session_key).update(expire_date=timezone.now() - timedelta(seconds=1))
    for key in (saved.session_key, "x" * 32):
        store = db.SessionStore(key)
        assert dict(store.items()) == {} and store.session_key is None
