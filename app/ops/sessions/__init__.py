"""Django's database sessions, read with one fixed statement instead of the ORM's `get()`.

Every staff page reads its session (and the user it names) before anything else; building that
`Session.objects.get(...)` query cost about 200 us of CPU a page, a twelfth of the staff table's
(docs/bench.md), for a statement that never changes. Here the same row is read by the same SQL
written out once, on the database the ORM would have used; everything else (the table, the
encoding, saving, expiry, the cache in front of it) is Django's, so releases with either engine
share their sessions. SESSION_ENGINE names `ops.sessions.db` or, with a shared cache,
`ops.sessions.cached_db`. Databases other than PostgreSQL (`make up`'s SQLite) take Django's path.
"""

from __future__ import annotations

from django.contrib.sessions.backends import db
from django.db import connections, router
from django.utils import timezone

SESSION_SQL = 'SELECT "session_data", "expire_date" FROM "{table}" WHERE "session_key" = %s AND "expire_date" > %s'


class FixedStatementRead(db.SessionStore):
    """Django's db SessionStore with `_get_session_from_db` as one fixed statement (a base for both engines)."""

    def _get_session_from_db(self):
        alias = router.db_for_read(self.model)
        connection = connections[alias]
        if connection.vendor != "postgresql":
            return super()._get_session_from_db()
        key = self.session_key
        with connection.cursor() as cursor:
            cursor.execute(SESSION_SQL.format(table=self.model._meta.db_table), [key, timezone.now()])
            row = cursor.fetchone()
        if row is None:  # none, or expired: as Django's, the key is forgotten (a new one is made on save)
            self._session_key = None
            return None
        session = self.model(session_key=key, session_data=row[0], expire_date=row[1])
        session._state.adding, session._state.db = False, alias
        return session
