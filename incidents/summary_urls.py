"""Summaries: what executives read, and the metrics the team is judged by
(mounted at /summary/)."""

from django.urls import path

from incidents.views import (
    summary_exports,
    summary_incident,
    summary_now,
    summary_trends,
    summary_weekly,
)

app_name = "summaries"

urlpatterns = [
    path("", summary_now.now, name="now"),
    path("incidents/<int:incident_id>/", summary_incident.incident_summary, name="incident"),
    path(
        "incidents/<int:incident_id>/pdf/",
        summary_incident.incident_summary_pdf,
        name="incident-pdf",
    ),
    path("trends/", summary_trends.trends, name="trends"),
    path("trends/metrics.csv", summary_exports.metrics_csv, name="metrics-csv"),
    path("trends/incidents.csv", summary_exports.incidents_csv, name="incidents-csv"),
    path("weekly/", summary_weekly.weekly, name="weekly"),
    path("weekly/<int:list_id>/send/", summary_weekly.weekly_send, name="weekly-send"),
]
