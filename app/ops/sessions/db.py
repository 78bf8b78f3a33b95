"""SESSION_ENGINE = "ops.sessions.db": Django's database sessions, read with one fixed statement."""

from . import FixedStatementRead


class SessionStore(FixedStatementRead):
    pass
