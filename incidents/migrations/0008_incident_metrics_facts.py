import django.db.models.deletion
from django.db import migrations, models


def facts_out_of_line(apps, schema_editor):
    """On PostgreSQL, keep the full facts JSON (about 1 KB) out of the rows
    (TOAST) so reading a year's compact columns scans little."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "ALTER TABLE incidents_incidentmetricsfacts SET (toast_tuple_target = 128)"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0007_weekly_report"),
    ]

    operations = [
        migrations.CreateModel(
            name="IncidentMetricsFacts",
            fields=[
                (
                    "incident",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="metrics_facts",
                        serialize=False,
                        to="incidents.incident",
                    ),
                ),
                ("last_seq", models.PositiveIntegerField()),
                ("targets_key", models.CharField(max_length=32)),
                ("reports_key", models.CharField(blank=True, max_length=32)),
                ("row_category", models.CharField(max_length=40)),
                ("row_discovered_at", models.DateTimeField()),
                ("row_harm_started_at", models.DateTimeField(blank=True, null=True)),
                ("computed_for", models.DateTimeField()),
                ("valid_until", models.DateTimeField(blank=True, null=True)),
                ("declared_at", models.DateTimeField()),
                ("category", models.CharField(max_length=40)),
                ("severity_highest", models.CharField(max_length=8)),
                ("state", models.CharField(max_length=16)),
                ("time_to_detect", models.FloatField(null=True)),
                ("time_to_acknowledge", models.FloatField(null=True)),
                ("time_to_mitigate", models.FloatField(null=True)),
                ("time_to_resolve", models.FloatField(null=True)),
                ("ack_outcome", models.CharField(max_length=8)),
                ("cadence_outcome", models.CharField(max_length=8)),
                ("reports_met", models.PositiveSmallIntegerField(default=0)),
                ("reports_judged", models.PositiveSmallIntegerField(default=0)),
                ("facts", models.JSONField()),
            ],
            options={
                "verbose_name": "incident metrics facts",
                "verbose_name_plural": "incident metrics facts",
            },
        ),
        migrations.RunPython(facts_out_of_line, migrations.RunPython.noop),
    ]
