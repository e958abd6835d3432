"""Migration operations that stay portable to the SQLite file `make run` uses."""

from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db.migrations import AddIndex, RemoveIndex


class _ConcurrentlyIfPostgres:
    """The CONCURRENTLY operation on PostgreSQL (no table lock on a large table); its plain
    `fallback` elsewhere, where CONCURRENTLY does not exist. The migration must be non-atomic."""

    fallback: type

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        return self.fallback.database_forwards(
            self, app_label, schema_editor, from_state, to_state
        )

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        return self.fallback.database_backwards(
            self, app_label, schema_editor, from_state, to_state
        )


class AddIndexConcurrentlyIfPostgres(_ConcurrentlyIfPostgres, AddIndexConcurrently):
    """CREATE INDEX CONCURRENTLY on PostgreSQL; a plain AddIndex elsewhere."""

    fallback = AddIndex


class RemoveIndexConcurrentlyIfPostgres(_ConcurrentlyIfPostgres, RemoveIndexConcurrently):
    """DROP INDEX CONCURRENTLY on PostgreSQL; a plain RemoveIndex elsewhere."""

    fallback = RemoveIndex
