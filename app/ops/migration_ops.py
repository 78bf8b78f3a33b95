"""Migration operations that stay safe while older releases keep serving on the same schema."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations


class AddIndexOnline(AddIndexConcurrently):
    """CREATE INDEX CONCURRENTLY on PostgreSQL (no write lock on a busy table); a plain index elsewhere.

    The migration holding it must say `atomic = False`: PostgreSQL refuses CONCURRENTLY in a transaction.
    """

    def _ensure_not_in_transaction(self, schema_editor):
        if not schema_editor.collect_sql:  # only printing SQL (sqlmigrate, the gate) runs nothing
            super()._ensure_not_in_transaction(schema_editor)

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        if self.index.opclasses:
            return None  # operator classes are PostgreSQL's; the SQLite default does without the index
        return migrations.AddIndex.database_forwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        if self.index.opclasses:
            return None
        return migrations.AddIndex.database_backwards(self, app_label, schema_editor, from_state, to_state)


class RunSQLOnPostgres(migrations.RunSQL):
    """RunSQL on PostgreSQL only (a function in PL/pgSQL, an index of PostgreSQL's); nothing elsewhere.

    The SQL is still collected when only printing (sqlmigrate, the expand/contract gate reads it).
    """

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)
