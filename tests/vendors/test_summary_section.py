"""The vendors' section of the summaries: answered through incidents'
signal, aggregated over every active vendor, a row per vendor, shown on the
trends page and written in its metrics CSV."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from incidents.sections import summary_sections
from tests.vendors import test_metrics as vendor_figures
from tests.vendors.test_metrics import END, START, more_vendors, snap
from tscc.roles import Role
from vendors.metrics import VENDOR_METRICS, VendorMetricKey
from vendors.models import IncidentImpact
from vendors.summary import vendor_section

pytestmark = pytest.mark.django_db

# The hand-built snapshots of tests/vendors/test_metrics.py (known answers).
figures = vendor_figures.figures
queue2 = vendor_figures.queue2


def section():
    sections = list(summary_sections(start=START, end=END, time_zone="UTC"))
    assert [s.key for s in sections].count("vendors") == 1
    return next(s for s in sections if s.key == "vendors")


def test_the_signal_is_answered_with_every_vendor_aggregated(figures):
    s = section()
    metrics = {m.key: m for m in s.metrics}
    assert list(metrics) == list(VENDOR_METRICS)
    sla = metrics[VendorMetricKey.SLA_ATTAINMENT]
    # luzon's queues (46,700 + 9,500 over 600 of outflow) and straits' (100 x 50).
    assert sla.value == pytest.approx((46_700 + 9_500 + 5_000) / 650)
    assert sla.unit == "percent" and str(sla.definition).endswith(".")
    assert sla.detail == "6 queue snapshots"
    assert metrics[VendorMetricKey.BELOW_TARGET].value == pytest.approx(100 * 2 / 6)  # a percent
    assert metrics[VendorMetricKey.NEAR_TARGET].value == pytest.approx(100 * 2 / 6)
    assert metrics[VendorMetricKey.QA_ACCURACY].value == 90
    # i1, i2 (luzon) and i4 (straits); i3 was cancelled. Trouble: i1 and i4.
    assert metrics[VendorMetricKey.LINKED_INCIDENTS].value == 3
    assert metrics[VendorMetricKey.TROUBLE_INCIDENTS].value == 2
    assert s.link == reverse("vendors:board")


def test_one_row_per_vendor(figures):
    table = section().table
    assert [str(c) for c in table.columns] == [
        "Vendor",
        "Queue SLA attainment",
        "Snapshots below target",
        "QA accuracy",
        "Trouble incidents",
    ]
    assert table.units == ["", "percent", "percent", "percent", "count"]
    luzon, straits = table.rows
    assert luzon[0] == "Luzon BPO"
    assert luzon[1] == pytest.approx((46_700 + 9_500) / 600)
    assert luzon[2:] == [pytest.approx(40.0), 90, 1]
    assert straits == ["Straits T&S", 100, 0.0, None, 1]
    with translation.override("zh-hans"):
        assert section().table.rows[0][0] == "吕宋"


def test_an_incident_linked_to_two_vendors_counts_once(figures, manager, vendor, other_vendor):
    both = IncidentImpact.objects.filter(trouble_key__startswith="site:").get().incident
    IncidentImpact.objects.create(incident=both, vendor=vendor)
    metrics = {m.key: m.value for m in section().metrics}
    assert metrics[VendorMetricKey.LINKED_INCIDENTS] == 3
    assert metrics[VendorMetricKey.TROUBLE_INCIDENTS] == 2


def test_a_quiet_period_has_nothing_to_measure(figures):
    quiet = vendor_section(start=END, end=END + timedelta(hours=1))
    values = {m.key: m.value for m in quiet.metrics}
    assert values[VendorMetricKey.SLA_ATTAINMENT] is None
    assert values[VendorMetricKey.LINKED_INCIDENTS] == 0
    assert all(m.detail == "" for m in quiet.metrics)


def test_queries_do_not_grow_with_the_vendors(figures, manager):
    with CaptureQueriesContext(connection) as few:
        vendor_section(start=START, end=END)
    more_vendors(manager, 6, 3)
    with CaptureQueriesContext(connection) as many:
        rows = vendor_section(start=START, end=END).table.rows
    assert len(rows) == 8
    assert len(few) == len(many) <= 6


# --- on the trends page and in its CSV ----------------------------------------------


@pytest.fixture
def one_snapshot(queue, other_vendor):
    snap(queue, 1, 92, 100, qa=97)


def test_the_trends_page_shows_the_vendor_section(one_snapshot, make_user, client):
    client.force_login(make_user(Role.EXECUTIVE, username="exec"))
    html = client.get(reverse("summaries:trends")).content.decode()
    start = html.index('data-section="vendors"')
    part = html[start : html.index("</section>", start)]
    assert "Vendor health" in part and "Queue SLA attainment" in part
    assert "How it&#x27;s measured" in part or "How it's measured" in part
    assert "Luzon BPO" in part and "92.0%" in part and "97.0%" in part
    assert "Straits T&amp;S" in part  # no snapshot: a row with dashes
    assert (
        "nothing to measure in the period"
        not in part.split("<table")[0]
        .split('data-metric="queue_sla_attainment"')[1]
        .split("</article>")[0]
    )


def test_the_vendor_section_says_the_incident_filters_do_not_apply(one_snapshot, make_user, client):
    client.force_login(make_user(Role.EXECUTIVE, username="exec"))

    def vendor_part(params):
        html = client.get(reverse("summaries:trends"), params).content.decode()
        start = html.index('data-section="vendors"')
        return html[start : html.index("</section>", start)]

    note = "the severity, category and team filters apply to incidents only"
    assert note not in vendor_part({})
    filtered = vendor_part({"severity": "sev1"})
    assert note in filtered and "92.0%" in filtered  # the figures are the same


def test_the_metrics_csv_has_the_vendor_rows(one_snapshot, make_user, client):
    client.force_login(make_user(Role.OPS_MANAGER, username="boss"))
    response = client.get(reverse("summaries:metrics-csv"))
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    header = rows[0]
    vendor_rows = [dict(zip(header, r, strict=True)) for r in rows[1:] if r[0] == "vendors"]
    total = next(
        r for r in vendor_rows if r["metric"] == "queue_sla_attainment" and not r["subject"]
    )
    assert (total["value"], total["unit"]) == ("92.0", "percent")
    luzon = [r for r in vendor_rows if r["subject"] == "Luzon BPO"]
    assert {r["metric"]: r["value"] for r in luzon} == {
        "queue_sla_attainment": "92.0",
        "snapshots_below_target": "100.0",
        "qa_accuracy": "97.0",
        "trouble_incidents": "0",
    }


def test_a_bpo_lead_cannot_read_the_summaries(lead, client):
    client.force_login(lead)
    for name in ("trends", "metrics-csv", "incidents-csv"):
        assert client.get(reverse(f"summaries:{name}")).status_code in (403, 404)
