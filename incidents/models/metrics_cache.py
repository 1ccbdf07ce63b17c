"""The metrics' per-incident facts, cached (incidents.metrics).

A row holds what incidents.domain.metrics computed for one incident from its
timeline, with what it was computed from: the incident's `last_seq` (every
timeline event moves it), a fingerprint of the inputs that are not timeline
events (the severity targets, the incident's regulatory reports, the
category and detection times on the row), and the `now` it was computed for
with the moment the facts stop being true by time alone (`valid_until`: a
clock not yet judged runs out). A row is served only when all of these
still match; anything else is recomputed from the timeline and overwritten.
It is a cache: deleting every row loses nothing.

The columns besides `facts` are the few values the aggregates read, so a
year of trends loads them without decoding every incident's JSON.
"""

from __future__ import annotations

from django.db import models

from incidents.models.incident import Incident


class IncidentMetricsFacts(models.Model):
    incident = models.OneToOneField(
        Incident, primary_key=True, on_delete=models.CASCADE, related_name="metrics_facts"
    )
    # What the facts were computed from: the timeline up to last_seq, and
    # the fingerprint of the other inputs (its parts, so the freshness test
    # runs in the query): the severity targets, the incident's reports, the
    # row's category and detection times (read when the DECLARED event lacks them).
    last_seq = models.PositiveIntegerField()
    targets_key = models.CharField(max_length=32)
    reports_key = models.CharField(max_length=32, blank=True)  # "": no report
    row_category = models.CharField(max_length=40)
    row_discovered_at = models.DateTimeField()
    row_harm_started_at = models.DateTimeField(null=True, blank=True)
    computed_for = models.DateTimeField()  # the `now` the facts are true from
    valid_until = models.DateTimeField(null=True, blank=True)  # None: until an input changes
    # What the aggregates read (incidents.metrics.MetricRow).
    declared_at = models.DateTimeField()
    category = models.CharField(max_length=40)
    severity_highest = models.CharField(max_length=8)
    state = models.CharField(max_length=16)
    time_to_detect = models.FloatField(null=True)  # seconds
    time_to_acknowledge = models.FloatField(null=True)
    time_to_mitigate = models.FloatField(null=True)
    time_to_resolve = models.FloatField(null=True)
    ack_outcome = models.CharField(max_length=8)
    cadence_outcome = models.CharField(max_length=8)
    reports_met = models.PositiveSmallIntegerField(default=0)
    reports_judged = models.PositiveSmallIntegerField(default=0)
    # Everything (incidents.domain.metrics.facts_to_json).
    facts = models.JSONField()

    class Meta:
        verbose_name = "incident metrics facts"
        verbose_name_plural = "incident metrics facts"

    def __str__(self) -> str:
        return f"metrics facts of incident {self.incident_id} at #{self.last_seq}"
