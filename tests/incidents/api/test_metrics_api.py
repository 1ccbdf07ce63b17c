"""GET /api/v1/metrics/: the metrics over a period, who may read them, how
the parameters are checked, and the sections other apps add."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import yaml
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils.translation import gettext_lazy

from incidents.metrics import METRICS
from incidents.sections import SectionMetric, SectionTable, SummarySection
from incidents.services import incident_acknowledge, incident_transition
from incidents.signals import summary_sections_requested
from tests.incidents.api.conftest import error_fields
from tests.incidents.factories import category, declare
from tests.incidents.services.support import ANSWERS
from tscc.roles import Role
from tscc.services import api_token_create

pytestmark = pytest.mark.django_db

URL = "/metrics/"


@pytest.fixture
def worked(people):
    """Two incidents declared now: one acknowledged and resolved, one open."""
    a = declare(people.manager, category=category("spam_flood"), answers=ANSWERS["sev2"])
    incident_acknowledge(actor=people.manager, incident_id=a.id)
    incident_transition(actor=people.manager, incident_id=a.id, target="investigating")
    incident_transition(actor=people.manager, incident_id=a.id, target="resolved")
    b = declare(people.manager, category=category("rumor"), answers=ANSWERS["sev1"])
    return a, b


def test_executive_reads_every_metric(api_as, people, worked):
    response = api_as(people.executive).get(URL, {"bucket": "day", "time_zone": "UTC"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["bucket"] == "day"
    assert body["period"]["time_zone"] == "UTC"
    start = datetime.fromisoformat(body["period"]["start"])
    end = datetime.fromisoformat(body["period"]["end"])
    assert end - start == timedelta(days=30)
    assert [d["key"] for d in body["definitions"]] == list(METRICS)
    assert {d["unit"] for d in body["definitions"]} == {"count", "duration", "percent"}
    totals = body["totals"]
    assert totals["incidents"] == 2
    assert totals["by_category"] == {"rumor": 1, "spam_flood": 1}
    assert totals["mtta"]["count"] == 1 and isinstance(totals["mtta"]["mean"], float)
    assert totals["mttr"]["count"] == 1
    assert set(totals["ack_sla"]) == {"met", "judged", "percent"}
    assert [g["key"] for g in body["by_severity"]] == ["sev0", "sev1", "sev2", "sev3", "sev4"]
    assert [g["key"] for g in body["by_category"]] == ["rumor", "spam_flood"]
    assert len(body["series"]) == 31  # the days of [now - 30 days, now)
    assert sum(b["metrics"]["incidents"] for b in body["series"]) == 2
    assert body["excluded"] == {}
    assert isinstance(body["sections"], list)


def test_filters(api_as, people, worked):
    api = api_as(people.manager)
    assert api.get(URL, {"severity": "sev1"}).json()["totals"]["incidents"] == 1
    both = api.get(URL + "?severity=sev1&severity=sev2").json()
    assert both["totals"]["incidents"] == 2
    assert api.get(URL, {"category": "rumor"}).json()["totals"]["incidents"] == 1
    assert api.get(URL, {"team": 999999}).json()["totals"]["incidents"] == 0


def test_dates_and_datetimes_in_the_time_zone(api_as, people):
    api = api_as(people.executive)
    body = api.get(
        URL, {"start": "2026-03-01", "end": "2026-03-31", "time_zone": "Asia/Shanghai"}
    ).json()
    assert body["period"] == {
        "start": "2026-03-01T00:00:00+08:00",
        "end": "2026-04-01T00:00:00+08:00",  # the end day counts whole
        "time_zone": "Asia/Shanghai",
    }
    assert body["series"][0]["start"] == "2026-02-23"  # the Monday of the first week
    body = api.get(
        URL,
        {
            "start": "2026-03-01T09:00",
            "end": "2026-03-02T17:00+08:00",
            "bucket": "month",
            "time_zone": "UTC",
        },
    ).json()
    assert body["period"]["start"] == "2026-03-01T09:00:00+00:00"
    assert body["period"]["end"] == "2026-03-02T09:00:00+00:00"
    assert [b["start"] for b in body["series"]] == ["2026-03-01"]


def test_the_callers_time_zone_by_default(api_as, make_user):
    executive = make_user(Role.EXECUTIVE, time_zone="Asia/Kolkata")
    body = api_as(executive).get(URL).json()
    assert body["period"]["time_zone"] == "Asia/Kolkata"
    assert body["period"]["end"].endswith("+05:30")


@pytest.mark.parametrize(
    "params, fields",
    [
        ({"start": "yesterday"}, {"start"}),
        ({"end": "2026-13-01"}, {"end"}),
        ({"start": "2026-03-02", "end": "2026-03-01"}, {"end"}),
        ({"start": "2024-01-01", "end": "2026-03-01"}, {"start"}),
        ({"bucket": "year"}, {"bucket"}),
        ({"severity": "sev9"}, {"severity"}),
        ({"time_zone": "Mars/Olympus"}, {"time_zone"}),
        ({"team": "x"}, {"team"}),
    ],
)
def test_invalid_parameters_are_400_by_field(api_as, people, params, fields):
    response = api_as(people.executive).get(URL, params)
    assert response.status_code == 400
    assert error_fields(response) == fields


def test_at_most_two_years(api_as, people):
    api = api_as(people.executive)
    assert api.get(URL, {"start": "2024-03-01", "end": "2026-02-28"}).status_code == 200


@pytest.mark.parametrize("role", [Role.EXECUTIVE, Role.OPS_MANAGER, Role.ADMIN])
def test_summary_readers_may_read(api_as, make_user, role):
    assert api_as(make_user(role)).get(URL).status_code == 200


@pytest.mark.parametrize("role", [Role.BPO_LEAD, Role.RESPONDER])
def test_others_are_refused(api_as, make_user, role):
    assert api_as(make_user(role)).get(URL).status_code == 403


def test_anonymous_is_refused():
    assert Client().get("/api/v1" + URL).status_code in (401, 403)


def test_api_tokens_of_readers_are_accepted_and_of_bpo_leads_refused(make_user):
    executive, bpo = make_user(Role.EXECUTIVE), make_user(Role.BPO_LEAD)
    _token, secret = api_token_create(actor=executive, user=executive, name="report")
    ok = Client().get("/api/v1" + URL, HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert ok.status_code == 200
    _token, secret = api_token_create(actor=bpo, user=bpo, name="report")
    refused = Client().get("/api/v1" + URL, HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert refused.status_code == 403


def test_vendor_tokens_are_refused(make_user):
    from vendors import services as vendor_services

    manager = make_user(Role.OPS_MANAGER)
    vendor = vendor_services.vendor_create(actor=manager, code="luzon", name="Luzon", owner=manager)
    _token, secret = vendor_services.token_create(actor=manager, vendor_id=vendor.id, name="feed")
    response = Client().get("/api/v1" + URL, HTTP_AUTHORIZATION=f"Vendor {secret}")
    assert response.status_code == 403


def test_sections_are_serialised_generically(api_as, people):
    def receiver(sender, start, end, time_zone, **kwargs):
        return SummarySection(
            key="zz_test",
            title=gettext_lazy("Vendors"),
            metrics=[
                SectionMetric(
                    key="queue_sla",
                    label="Queue SLA",
                    definition="Share.",
                    unit="percent",
                    value=97.5,
                ),
                SectionMetric(key="none", label="None", definition="No.", unit="count", value=None),
            ],
            table=SectionTable(
                columns=["Vendor", gettext_lazy("Queues")],
                rows=[["Luzon", 3], [gettext_lazy("Vendors"), None]],
                units=["", "count"],
            ),
            link="/vendors/",
        )

    summary_sections_requested.connect(receiver, dispatch_uid="test-metrics-api")
    try:
        body = api_as(people.executive).get(URL).json()
    finally:
        summary_sections_requested.disconnect(dispatch_uid="test-metrics-api")
    section = next(s for s in body["sections"] if s["key"] == "zz_test")
    assert section == {
        "key": "zz_test",
        "title": "Vendors",
        "metrics": [
            {
                "key": "queue_sla",
                "label": "Queue SLA",
                "definition": "Share.",
                "unit": "percent",
                "value": 97.5,
                "detail": "",
            },
            {
                "key": "none",
                "label": "None",
                "definition": "No.",
                "unit": "count",
                "value": None,
                "detail": "",
            },
        ],
        "table": {
            "columns": ["Vendor", "Queues"],
            "rows": [["Luzon", 3], ["Vendors", None]],
            "units": ["", "count"],
        },
        "link": "/vendors/",
    }


def test_texts_in_the_requests_language(api_as, people):
    client = api_as(people.executive).client
    english = client.get("/api/v1" + URL, HTTP_ACCEPT_LANGUAGE="en").json()
    chinese = client.get("/api/v1" + URL, HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    assert english["definitions"][0]["label"] == "Incidents"
    assert [d["key"] for d in chinese["definitions"]] == [d["key"] for d in english["definitions"]]


def test_queries_do_not_grow_with_the_incidents(api_as, people):
    api = api_as(people.executive)

    def declare_some(n):
        for _ in range(n):
            declare(people.manager, category=category("spam_flood"), answers=ANSWERS["sev3"])

    declare_some(2)
    api.get(URL)  # caches the facts
    with CaptureQueriesContext(connection) as few:
        assert api.get(URL).json()["totals"]["incidents"] == 2
    declare_some(10)
    api.get(URL)
    with CaptureQueriesContext(connection) as many:
        assert api.get(URL).json()["totals"]["incidents"] == 12
    assert len(few) == len(many)


def test_schema_documents_the_operation(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", tmp_path / "s.yml")
    schema = yaml.safe_load((tmp_path / "s.yml").read_text())
    operation = schema["paths"]["/api/v1/metrics/"]["get"]
    assert operation["operationId"] == "v1_metrics_retrieve"
    assert {p["name"] for p in operation["parameters"]} >= {
        "start",
        "end",
        "severity",
        "category",
        "team",
        "bucket",
        "time_zone",
    }
    assert {"200", "400", "403"} <= set(operation["responses"])
