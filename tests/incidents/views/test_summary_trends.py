"""The trends page and its CSV exports, on the hand-built set of
tests/incidents/test_metrics.py (known answers, a controlled clock)."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from incidents.domain.metrics import Bucket
from incidents.domain.severity import Severity
from incidents.views.summary_exports import safe_cell
from incidents.views.summary_trends import automatic_bucket
from tests.incidents import test_metrics as hand_built_set
from tests.incidents.test_metrics import DAY, NOW, T0, declare_at, mins, move
from tscc.roles import Role

pytestmark = pytest.mark.django_db

# The hand-built set's fixtures, shared with tests/incidents/test_metrics.py.
clock = hand_built_set.clock
manager = hand_built_set.manager
hand_built = hand_built_set.hand_built

URL = "/summary/trends/"
# The hand-built set's week, in the viewers' zone (Asia/Shanghai, the factory's).
WEEK = {"period": "custom", "from": "2026-03-02", "to": "2026-03-08"}


@pytest.fixture
def viewer(make_user, login):
    def make(role=Role.EXECUTIVE, **kwargs):
        user = make_user(role, username=f"viewer-{role}", **kwargs)
        return login(user)

    return make


def tile(html: str, key: str) -> str:
    match = re.search(
        rf'data-metric="{key}">.*?<div class="tile-value num">(.*?)</div>', html, re.DOTALL
    )
    assert match, key
    return match.group(1).strip()


def tile_block(html: str, key: str) -> str:
    match = re.search(
        rf'<article class="tile" data-metric="{key}">(.*?)</article>', html, re.DOTALL
    )
    assert match, key
    return match.group(1)


def read_csv(response) -> tuple[bytes, list[list[str]]]:
    raw = b"".join(response.streaming_content)
    return raw, list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


# --- the page ----------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.EXECUTIVE, Role.OPS_MANAGER, Role.ADMIN])
def test_page_shows_the_known_numbers(hand_built, viewer, role):
    response = viewer(role).get(URL, WEEK)
    assert response.status_code == 200
    html = response.content.decode()
    assert tile(html, "incidents") == "4"
    assert tile(html, "mtta") == "20 min"
    assert "median 20 min · p90 30 min · 3 incidents" in tile_block(html, "mtta")  # 10, 20, 30
    assert tile(html, "mttd") == "1h 00m"
    assert tile(html, "mttr") == "3h 46m"  # (200 + 260 + 220) / 3 min
    for key in ("ack_sla", "update_cadence", "reports_on_time"):
        assert tile(html, key) == "50.0%"
    assert "2 of 4" in tile_block(html, "ack_sla")
    # Definitions beside the numbers, and the scope.
    assert "How it's measured" in html
    assert "over incidents declared in the period that were acknowledged" in html
    assert "merged duplicates" in html
    assert "2 merged or cancelled incidents were left out." in html
    # Charts, accessible, and the by-severity table.
    assert html.count('<svg class="chart') == 4
    assert "<title>Incidents per day, by highest severity</title>" in html
    assert 'data-severity="sev1"' in html
    # Bucketed by day in the viewer's zone: C (17:00 UTC on 3 March) on 4 March.
    assert "<title>March 4, 2026: SEV1 1</title>" in html
    assert "<title>March 4, 2026: SEV2 1</title>" in html


def test_an_empty_metric_says_why(viewer, clock, manager):
    declare_at(clock, manager, T0, Severity.SEV2, "spam_flood")
    html = viewer().get(URL, WEEK).content.decode()
    assert tile(html, "incidents") == "1"
    assert tile(html, "mttr") == "—"
    assert "no incident resolved" in tile_block(html, "mttr")
    assert "no incident acknowledged" in tile_block(html, "mtta")
    empty = viewer(Role.OPS_MANAGER).get(URL, {**WEEK, "from": "2026-01-01", "to": "2026-01-02"})
    assert "no incident in the period" in tile_block(empty.content.decode(), "mtta")


def test_previous_period_of_equal_length(hand_built, viewer):
    # 3-4 March (Shanghai): B, C and D; 1-2 March: A.
    html = viewer().get(URL, {"from": "2026-03-03", "to": "2026-03-04"}).content.decode()
    assert tile(html, "incidents") == "3"
    incidents = tile_block(html, "incidents")
    assert "▲ 200.0%" in incidents and "delta-bad" in incidents
    assert "previous period: 1" in incidents
    mtta = tile_block(html, "mtta")  # (30 + 20) / 2 against A's 10
    assert tile(html, "mtta") == "25 min" and "▲ 150.0%" in mtta
    ack = tile_block(html, "ack_sla")  # 1 of 3 (B) against 1 of 1 (A): down 66.7 points
    assert "▼ 66.7 pts" in ack and "delta-bad" in ack
    assert "compared with March 1, 2026 – March 2, 2026" in html


def test_filters_by_severity_category_and_team(hand_built, viewer):
    client = viewer()
    assert tile(client.get(URL, {**WEEK, "severity": "sev1"}).content.decode(), "incidents") == "2"
    spam = client.get(URL, {**WEEK, "category": "spam_flood"}).content.decode()
    assert tile(spam, "incidents") == "2"
    assert 'value="spam_flood" checked' in spam  # the input is kept
    team = client.get(URL, {**WEEK, "team": hand_built["team"].id}).content.decode()
    assert tile(team, "incidents") == "1" and tile(team, "mttd") == "1h 00m"


@pytest.mark.parametrize(
    ("days", "bucket"),
    [(1, Bucket.DAY), (31, Bucket.DAY), (32, Bucket.WEEK), (180, Bucket.WEEK), (181, Bucket.MONTH)],
)
def test_bucket_follows_the_length(days, bucket):
    assert automatic_bucket(days) is bucket


def test_bucket_chosen_automatically_and_overridable(hand_built, viewer):
    client = viewer()
    assert "Incidents per day" in client.get(URL, WEEK).content.decode()
    weekly = client.get(URL, {**WEEK, "bucket": "week"}).content.decode()
    assert "Incidents per week" in weekly and "chosen for the length" not in weekly
    quarter = client.get(URL, {"from": "2026-01-01", "to": "2026-03-31"}).content.decode()
    assert "Incidents per week" in quarter
    year = client.get(URL, {"period": "12m"}).content.decode()
    assert "Incidents per month" in year
    # 12 months to 20 March 2026: April 2025 to March 2026.
    assert "2025-04" in year and "2026-03" in year and "2025-03" not in year


@pytest.mark.parametrize("period", ["7d", "30d", "90d", "quarter", "12m"])
def test_every_preset_period_renders(hand_built, viewer, period):
    response = viewer().get(URL, {"period": period})
    assert response.status_code == 200
    assert tile(response.content.decode(), "incidents").isdigit()


def test_default_is_the_last_30_days(hand_built, viewer):
    html = viewer().get(URL).content.decode()
    # NOW is 20 March: from 19 February; the hand-built week is inside.
    assert "Feb. 19, 2026 – March 20, 2026" in html
    assert tile(html, "incidents") == "5"  # A-D and G


@pytest.mark.parametrize(
    ("params", "status", "message"),
    [
        ({"from": "2026-03-08", "to": "2026-03-02"}, 422, "must not be before the first day"),
        ({"from": "2024-01-01", "to": "2026-03-02"}, 422, "at most two years"),
        ({"period": "custom", "from": "2026-03-02"}, 422, "Choose both"),
        ({"from": "2026-13-45", "to": "2026-03-02"}, 400, "Enter a valid date"),
        ({"period": "forever"}, 400, "Select a valid choice"),
        ({"severity": "sev9"}, 400, "Select a valid choice"),
    ],
)
def test_invalid_filters_are_refused_and_kept(viewer, params, status, message):
    response = viewer().get(URL, params)
    assert response.status_code == status
    html = response.content.decode()
    assert message in html and 'role="alert"' in html
    for value in params.values():
        if value not in ("forever", "sev9", "custom"):
            assert f'value="{value}"' in html  # the input is kept
    assert 'data-metric="incidents"' not in html


def test_htmx_gets_the_results_only(hand_built, viewer):
    response = viewer().get(
        URL, WEEK, headers={"HX-Request": "true", "HX-Target": "trends-results"}
    )
    html = response.content.decode()
    assert html.startswith('<section id="trends-results"') and "<html" not in html
    bad = viewer(Role.OPS_MANAGER).get(
        URL,
        {"from": "2026-03-08", "to": "2026-03-01"},
        headers={"HX-Request": "true", "HX-Target": "trends-results"},
    )
    assert bad.status_code == 422 and 'id="trends-results"' in bad.content.decode()


# --- who may read it ---------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.BPO_LEAD, Role.RESPONDER])
@pytest.mark.parametrize("name", ["trends", "metrics-csv", "incidents-csv"])
def test_others_are_refused(viewer, role, name):
    assert viewer(role).get(reverse(f"summaries:{name}"), WEEK).status_code in (403, 404)


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get(URL)
    assert response.status_code == 302 and "login" in response["Location"]


def test_the_page_is_read_only_for_an_executive(hand_built, viewer):
    client = viewer()
    html = client.get(URL, WEEK).content.decode()
    main = html[html.index('<main id="content"') : html.index("</main>")]
    forms = re.findall(r"<form\b[^>]*>", main)
    assert forms and all('method="get"' in f for f in forms)
    assert "csrfmiddlewaretoken" not in main
    assert not re.search(r"hx-(post|put|patch|delete)=", main)
    assert client.post(URL, WEEK).status_code == 405
    assert client.post(reverse("summaries:metrics-csv")).status_code == 405


# --- CSV ---------------------------------------------------------------------------


def test_metrics_csv(hand_built, viewer):
    response = viewer().get(reverse("summaries:metrics-csv"), WEEK)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "tscc-metrics-20260302-20260308.csv" in response["Content-Disposition"]
    raw, rows = read_csv(response)
    assert raw.startswith(b"\xef\xbb\xbf")
    header = rows[0]
    assert header[:3] == ["section", "metric", "label"]
    by = {(r[0], r[1], r[4], r[5]): dict(zip(header, r, strict=True)) for r in rows[1:]}
    total = by[("incidents", "incidents", "total", "2026-03-02")]
    assert (total["value"], total["unit"]) == ("4", "count")
    mtta = by[("incidents", "mtta", "total", "2026-03-02")]
    assert (mtta["label"], mtta["value"], mtta["unit"]) == (
        "Mean time to acknowledge",
        "1200.0",
        "seconds",
    )
    assert (mtta["numerator"], mtta["denominator"]) == ("3600.0", "3")
    assert mtta["definition"].startswith("Mean time from declaration to the first acknowledgement")
    assert by[("incidents", "mtta", "day", "2026-03-02")]["definition"] == ""
    ack = by[("incidents", "ack_sla", "total", "2026-03-02")]
    assert (ack["value"], ack["numerator"], ack["denominator"]) == ("50.0", "2", "4")
    # One row per metric per day, in the viewer's zone: 4 March holds C and D.
    assert by[("incidents", "incidents", "day", "2026-03-04")]["value"] == "2"
    days = {r[5] for r in rows[1:] if r[0] == "incidents" and r[4] == "day"}
    assert len(days) == 7


def test_metrics_csv_labels_in_the_viewers_language(hand_built, viewer):
    response = viewer(language="zh-hans").get(reverse("summaries:metrics-csv"), WEEK)
    _raw, rows = read_csv(response)
    assert rows[0][0] == "section"  # stable keys, whatever the language
    assert any(r[1] == "mtta" for r in rows)


def test_incidents_csv(hand_built, viewer):
    response = viewer().get(reverse("summaries:incidents-csv"), WEEK)
    raw, rows = read_csv(response)
    assert raw.startswith(b"\xef\xbb\xbf")
    header = rows[0]
    assert header[:4] == ["reference", "title", "title_zh", "category"]
    by_ref = {r[0]: dict(zip(header, r, strict=True)) for r in rows[1:]}
    assert len(by_ref) == 6  # A-F; G is after the period
    c = by_ref[hand_built["c"].reference]
    tc = T0 + DAY + timedelta(hours=16)
    assert c["declared_at"] == "2026-03-03T17:00:00Z"
    assert c["acknowledged_at"] == (tc + mins(20)).isoformat().replace("+00:00", "Z")
    assert c["resolved_at"] == "2026-03-03T20:00:00Z"
    assert (c["mtta_seconds"], c["mttr_seconds"]) == ("1200", "10800")
    assert (c["ack_within_target"], c["cadence_kept"], c["reports_on_time"]) == ("no", "yes", "yes")
    assert (c["severity_declared"], c["severity_highest"], c["state"]) == (
        "sev1",
        "sev1",
        "resolved",
    )
    b = by_ref[hand_built["b"].reference]
    assert (b["severity_declared"], b["severity_highest"]) == ("sev3", "sev1")
    assert by_ref[hand_built["e"].reference]["counted"] == "no"
    assert by_ref[hand_built["a"].reference]["counted"] == "yes"
    d = by_ref[hand_built["d"].reference]
    assert (d["acknowledged_at"], d["mtta_seconds"], d["reports_on_time"]) == ("", "", "no")
    sev1 = read_csv(viewer().get(reverse("summaries:incidents-csv"), {**WEEK, "severity": "sev1"}))
    assert len(sev1[1]) == 1 + 3  # B, C and E (declared SEV1, merged)


def test_csv_cells_cannot_run_as_formulas(viewer, clock, manager):
    for title in ('=HYPERLINK("http://x")', "+1+1", "-2", "@SUM(A1)", "ok = fine"):
        declare_at(clock, manager, T0, Severity.SEV2, "spam_flood", title=title, title_zh="=1+1")
    _raw, rows = read_csv(viewer().get(reverse("summaries:incidents-csv"), WEEK))
    titles = sorted(r[1] for r in rows[1:])
    assert titles == sorted(['\'=HYPERLINK("http://x")', "'+1+1", "'-2", "'@SUM(A1)", "ok = fine"])
    assert {r[2] for r in rows[1:]} == {"'=1+1"}
    assert safe_cell(-3) == -3 and safe_cell(None) == "" and safe_cell("a-b") == "a-b"


def test_csv_refuses_invalid_filters(viewer):
    response = viewer().get(
        reverse("summaries:metrics-csv"), {"from": "2026-03-08", "to": "2026-03-01"}
    )
    assert response.status_code == 422
    assert "must not be before" in response.content.decode()


# --- queries -----------------------------------------------------------------------


def _declare_many(clock, manager, n, at):
    for i in range(n):
        incident = declare_at(clock, manager, at + mins(i), Severity.SEV2, "spam_flood")
        move(clock, manager, incident, at + mins(i + 5), "resolved")
    clock.at(NOW)


@pytest.mark.parametrize("name", ["trends", "metrics-csv", "incidents-csv"])
def test_query_count_is_bounded_and_does_not_grow(
    viewer, clock, manager, name, django_assert_max_num_queries
):
    url = reverse(f"summaries:{name}")

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url, WEEK)
            if response.streaming:
                b"".join(response.streaming_content)
        assert response.status_code == 200
        return len(queries)

    _declare_many(clock, manager, 2, T0)
    client = viewer()  # signed in at NOW, after the clock moved
    few = count()
    _declare_many(clock, manager, 40, T0 + DAY)
    with django_assert_max_num_queries(25):
        many = count()
    assert few == many
