"""On PostgreSQL, the database itself refuses to change or delete a timeline
event; the model and queryset refuse on every backend. (Not on SQLite: its
test flush deletes rows one table at a time, and it is the embedded
development default, not where records are kept.)"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION incidents_timeline_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'timeline events are append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER incidents_timeline_append_only
  BEFORE UPDATE OR DELETE ON incidents_timelineevent
  FOR EACH ROW EXECUTE FUNCTION incidents_timeline_append_only();
"""
DROP = """
DROP TRIGGER IF EXISTS incidents_timeline_append_only ON incidents_timelineevent;
DROP FUNCTION IF EXISTS incidents_timeline_append_only();
"""


def run(sql):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return apply


class Migration(migrations.Migration):
    dependencies = [("incidents", "0002_reference_data")]

    operations = [migrations.RunPython(run(CREATE), run(DROP))]
