"""On PostgreSQL, trigram indexes make the triage search (case-insensitive
substring, `UPPER(col::text) LIKE UPPER('%…%')`) an index scan. Skipped on
SQLite and where the pg_trgm extension cannot be created (the search still
works, with a table scan)."""

from django.db import migrations

COLUMNS = ("title", "title_zh", "summary")


def forwards(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")
        if cursor.fetchone() is None:
            return
        cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for column in COLUMNS:
            cursor.execute(
                f"CREATE INDEX IF NOT EXISTS incident_{column}_trgm ON incidents_incident "
                f"USING gin (UPPER({column}::text) gin_trgm_ops)"
            )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for column in COLUMNS:
            cursor.execute(f"DROP INDEX IF EXISTS incident_{column}_trgm")


class Migration(migrations.Migration):
    dependencies = [("incidents", "0004_open_incidents_index")]

    operations = [migrations.RunPython(forwards, backwards)]
