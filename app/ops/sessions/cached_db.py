"""SESSION_ENGINE = "ops.sessions.cached_db": Django's cached database sessions; a cache miss reads
the row with one fixed statement."""

from django.contrib.sessions.backends import cached_db

from . import FixedStatementRead


class SessionStore(FixedStatementRead, cached_db.SessionStore):
    pass
