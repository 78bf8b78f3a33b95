"""SESSION_ENGINE = "ops.sessions.db": Django's database sessions, read with one fixed statement."""

from django.contrib.sessions.backends import db

from . import FixedStatementRead


class SessionStore(FixedStatementRead, db.SessionStore):
    pass
