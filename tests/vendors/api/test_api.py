"""The vendors API: what each endpoint answers, the all-or-nothing bulk
upload, duplicates, filters, pagination with a fixed number of queries,
vendor-token authentication and throttling. Who may do what for every route
is in test_isolation.py."""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.vendors.api.conftest import token_api
from tests.vendors.conftest import minutes_ago
from vendors import services
from vendors.models import QueueSnapshot, SiteStatusChange, Vendor

pytestmark = pytest.mark.django_db


def figures(minutes: int = 0, **extra) -> dict:
    return {
        "taken_at": minutes_ago(minutes).isoformat(),
        "backlog": 40,
        "inflow_per_hour": 300,
        "outflow_per_hour": 320,
        "oldest_item_minutes": 10,
        "sla_attainment": 98.0,
        "staffed_headcount": 20,
        **extra,
    }


# --- reads ------------------------------------------------------------------------


def test_vendor_detail_has_sites_queues_and_health(api_as, manager, vendor, site, queue):
    services.snapshot_post(
        actor=manager,
        queue_id=queue.id,
        fields=figures(sla_attainment=81.0, oldest_item_minutes=48, backlog=400),
    )
    body = api_as(manager).get(f"/{vendor.id}/").json()
    assert body["code"] == "luzon" and body["name_zh"] == "吕宋"
    assert [s["id"] for s in body["sites"]] == [site.id]
    assert body["sites"][0]["status"] == "operational"
    [row] = body["queues"]
    assert row["id"] == queue.id and row["sla_attainment"] == 81.0 and row["backlog"] == 400
    assert row["health"]["level"] == "breach"
    assert "attainment_below_sla" in row["health"]["reasons"]
    assert body["health"]["level"] == "breach"


def test_queue_detail_has_latest_snapshot_health_and_projection(api_as, manager, queue):
    services.snapshot_post(actor=manager, queue_id=queue.id, fields=figures(30))
    latest = services.snapshot_post(
        actor=manager,
        queue_id=queue.id,
        # 30-minute SLA, outflow 320/h clears 160 in 30 min: 100 waiting,
        # growing by 180/h, reaches 160 in 20 minutes.
        fields=figures(1, backlog=100, inflow_per_hour=500, outflow_per_hour=320),
    )
    body = api_as(manager).get(f"/queues/{queue.id}/").json()
    assert body["latest_snapshot"]["id"] == latest.id
    assert body["latest_snapshot"]["vendor"] == queue.vendor_id
    assert body["health"]["level"] == "warn"
    assert body["health"]["reasons"] == ["projected_breach_within_60m"]
    assert body["health"]["projected_breach_minutes"] == pytest.approx(20.0)
    assert body["sla_minutes"] == 30 and body["site"] == queue.site_id


def test_queue_without_figures(api_as, manager, other_queue):
    body = api_as(manager).get(f"/queues/{other_queue.id}/").json()
    assert body["latest_snapshot"] is None and body["latest_taken_at"] is None
    assert body["health"]["level"] in ("unknown", "stale")


def test_queues_filter_by_health_vendor_and_site(api_as, manager, queue, other_queue, site):
    services.snapshot_post(actor=manager, queue_id=queue.id, fields=figures(sla_attainment=80.0))
    api = api_as(manager)
    breach = api.get("/queues/", {"health": "breach"}).json()["results"]
    assert [q["id"] for q in breach] == [queue.id]
    assert breach[0]["health"]["level"] == "breach"
    both = api.get("/queues/?health=breach&health=unknown&health=stale").json()["results"]
    assert {q["id"] for q in both} == {queue.id, other_queue.id}
    assert [q["id"] for q in api.get("/queues/", {"site": site.id}).json()["results"]] == [queue.id]
    assert [
        q["id"] for q in api.get("/queues/", {"vendor": other_queue.vendor_id}).json()["results"]
    ] == [other_queue.id]
    response = api.get("/queues/", {"health": "purple"})
    assert response.status_code == 400 and "health" in response.json()


def test_snapshots_newest_first_with_filters(api_as, manager, queue, other_queue):
    made = [
        services.snapshot_post(actor=manager, queue_id=queue.id, fields=figures(m))
        for m in (50, 30, 10)
    ]
    services.snapshot_post(actor=manager, queue_id=other_queue.id, fields=figures(5))
    api = api_as(manager)
    rows = api.get("/snapshots/", {"queue": queue.id}).json()["results"]
    assert [r["id"] for r in rows] == [s.id for s in reversed(made)]
    window = {
        "queue": queue.id,
        "since": minutes_ago(40).isoformat(),
        "until": minutes_ago(10).isoformat(),
    }
    assert [r["id"] for r in api.get("/snapshots/", window).json()["results"]] == [made[1].id]
    by_vendor = api.get("/snapshots/", {"vendor": other_queue.vendor_id}).json()["results"]
    assert [r["queue"] for r in by_vendor] == [other_queue.id]
    assert api.get("/snapshots/", {"since": "yesterday"}).status_code == 400
    first = api.get("/snapshots/", {"page_size": 2}).json()
    assert len(first["results"]) == 2 and first["next"]
    assert api.get("/snapshots/", {"cursor": "bogus"}).status_code == 400


def test_vendor_incidents_are_a_limited_view(api_as, lead, manager, vendor):
    from tests.incidents.factories import declare

    incident = declare(manager, title="Luzon backlog")
    declare(manager, title="Unrelated")
    services.impact_link(actor=manager, incident_id=incident.id, vendor_id=vendor.id)
    [row] = api_as(lead).get(f"/{vendor.id}/incidents/").json()["results"]
    assert row["id"] == incident.id and row["reference"] == incident.reference
    assert set(row) == {
        "id",
        "reference",
        "title",
        "title_zh",
        "category",
        "severity",
        "state",
        "declared_at",
        "mitigated_at",
        "resolved_at",
        "closed_at",
    }


def test_site_detail_lists_status_changes(api_as, lead, site):
    api = api_as(lead)
    assert (
        api.post(f"/sites/{site.id}/status/", {"status": "down", "reason": "Power"}).status_code
        == 201
    )
    body = api.get(f"/sites/{site.id}/").json()
    assert body["status"] == "down" and body["status_reason"] == "Power"
    assert [(c["previous"], c["current"], c["source"]) for c in body["status_changes"]] == [
        ("operational", "down", "api")
    ]


# --- query counts -------------------------------------------------------------------


def _queries(api, path: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = api.get(path)
    assert response.status_code == 200, response.content
    return len(queries)


def _grow(manager, n: int, start: int) -> None:
    """n more vendors, each with a site, two queues and figures."""
    from tests.incidents.factories import declare

    for i in range(start, start + n):
        v = services.vendor_create(actor=manager, code=f"v{i}", name=f"Vendor {i}")
        s = services.site_create(
            actor=manager, vendor_id=v.id, name="S", city="C", country="PH", time_zone="UTC"
        )
        for code in ("a", "b"):
            q = services.queue_create(actor=manager, vendor_id=v.id, site=s, code=code, name=code)
            services.snapshot_post(actor=manager, queue_id=q.id, fields=figures(i % 50))
        incident = declare(manager, title=f"Trouble {i}")
        services.impact_link(actor=manager, incident_id=incident.id, vendor_id=v.id)


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/sites/",
        "/queues/",
        "/queues/?health=ok&health=warn&health=breach&health=unknown&health=stale",
        "/snapshots/",
        "/{vendor}/",
        "/{vendor}/incidents/",
    ],
)
def test_query_counts_do_not_grow_with_rows(api_as, manager, vendor, queue, path):
    api = api_as(manager)
    path = path.format(vendor=vendor.id)
    _grow(manager, 1, 0)
    few = _queries(api, path)
    _grow(manager, 4, 1)
    services.queue_create(actor=manager, vendor_id=vendor.id, code="extra", name="Extra")
    assert _queries(api, path) == few


# --- writes -------------------------------------------------------------------------


def test_post_one_snapshot(api_as, lead, queue):
    response = api_as(lead).post("/snapshots/", {"queue_id": queue.id, **figures(3)})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["queue"] == queue.id and body["source"] == "api"
    assert body["reported_by"] == lead.id
    assert body["planned_headcount"] == queue.planned_headcount
    assert datetime.fromisoformat(body["taken_at"]) == minutes_ago(3)


def test_a_token_posts_as_its_vendor(tokens, queue):
    api = token_api(tokens.secret_a)
    response = api.post("/snapshots/", {"queue_id": queue.id, **figures(3)})
    assert response.status_code == 201, response.content
    assert response.json()["source"] == "token" and response.json()["reported_by"] is None


def test_a_second_post_for_the_same_minute_is_409(api_as, lead, queue):
    api = api_as(lead)
    assert api.post("/snapshots/", {"queue_id": queue.id, **figures(3)}).status_code == 201
    again = api.post("/snapshots/", {"queue_id": queue.id, **figures(3, backlog=99)})
    assert again.status_code == 409
    assert again.json()["code"] == "duplicate" and "taken_at" in again.json()["fields"]
    assert QueueSnapshot.objects.count() == 1


@pytest.mark.parametrize(
    "body,field",
    [
        ({"sla_attainment": 140}, "sla_attainment"),
        ({"backlog": -1}, "backlog"),
        ({"backlog": 1.5}, "backlog"),
        ({"taken_at": "2026-12-01T09:00"}, "taken_at"),
        ({"staffed_headcount": None}, "staffed_headcount"),
        ({"queue_id": None}, "queue_id"),
        ({"queue_id": "abc"}, "queue_id"),
    ],
)
def test_bad_figures_are_400_on_their_field(api_as, lead, queue, body, field):
    response = api_as(lead).post("/snapshots/", {"queue_id": queue.id, **figures(3), **body})
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid" and field in response.json()["fields"]
    assert not QueueSnapshot.objects.exists()


def test_a_body_that_is_not_an_object_is_400(api_as, lead):
    response = api_as(lead).client.post(
        "/api/v1/vendors/snapshots/", [1, 2], content_type="application/json"
    )
    assert response.status_code == 400 and response.json()["code"] == "invalid"


def test_bulk_all_or_nothing(api_as, lead, queue, tokens):
    api = api_as(lead)
    rows = [{"queue_id": queue.id, **figures(m)} for m in range(1, 41)]
    rows[7]["sla_attainment"] = "lots"
    rows[20]["queue_id"] = 999_999
    rows[30] = "not a row"
    response = api.post_json("/snapshots/bulk/", rows)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert [(e["row"], e["field"]) for e in body["errors"]] == [
        (8, "sla_attainment"),
        (21, "queue_id"),
        (31, "row"),
    ]
    assert not QueueSnapshot.objects.exists()

    del rows[30]
    rows[7]["sla_attainment"] = 97.5
    rows[20]["queue_id"] = queue.id
    response = token_api(tokens.secret_a).post_json("/snapshots/bulk/", rows)
    assert response.status_code == 201, response.content
    assert response.json() == {"created": 39, "queues": [queue.id]}
    assert QueueSnapshot.objects.filter(queue=queue, source="token").count() == 39

    again = api.post_json("/snapshots/bulk/", rows[:2])
    assert again.status_code == 400
    assert {e["field"] for e in again.json()["errors"]} == {"taken_at"}


def test_bulk_by_queue_code(api_as, lead, queue):
    response = api_as(lead).post_json(
        "/snapshots/bulk/", [{"queue": "en-video", "vendor": "luzon", **figures(2)}]
    )
    assert response.status_code == 201 and response.json()["created"] == 1


def test_bulk_limits(api_as, lead, queue, monkeypatch):
    api = api_as(lead)
    response = api.post_json("/snapshots/bulk/", {"rows": []})
    assert response.status_code == 400 and response.json()["errors"][0]["row"] == 0
    response = api.post_json("/snapshots/bulk/", [{}] * 20_001)
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"row": 0, "field": "row", "message": "At most 20000 rows at once."}
    ]
    monkeypatch.setattr("vendors.api.views.MAX_BULK_BYTES", 100)
    response = api.post_json("/snapshots/bulk/", [{"queue_id": queue.id, **figures(2)}])
    assert response.status_code == 413
    assert not QueueSnapshot.objects.exists()


def test_site_status(api_as, tokens, site):
    api = token_api(tokens.secret_a)
    response = api.post(f"/sites/{site.id}/status/", {"status": "bcp_active", "reason": "Flood"})
    assert response.status_code == 201, response.content
    assert response.json()["current"] == "bcp_active" and response.json()["source"] == "api"
    site.refresh_from_db()
    assert site.status == "bcp_active"
    response = api.post(f"/sites/{site.id}/status/", {"status": "down"})
    assert response.status_code == 400 and "reason" in response.json()["fields"]
    response = api.post(f"/sites/{site.id}/status/", {"status": "on fire", "reason": "x"})
    assert response.status_code == 400 and "status" in response.json()["fields"]
    assert SiteStatusChange.objects.count() == 1


def test_manage_vendors(api_as, manager, team, vendor):
    api = api_as(manager)
    response = api.post(
        "/",
        {
            "code": "cebu",
            "name": "Cebu BPO",
            "languages": ["en", "ceb"],
            "team": team.id,
            "owner": manager.id,
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["languages"] == ["en", "ceb"] and body["team"] == team.id
    assert body["sites"] == [] and body["queues"] == []
    assert body["health"]["level"] == "unknown"
    response = api.patch(
        f"/{body['id']}/", {"contract_start": "2026-01-01", "contract_end": "2025-01-01"}
    )
    assert response.status_code == 400 and "contract_end" in response.json()["fields"]
    response = api.patch(f"/{body['id']}/", {"is_active": False})
    assert response.status_code == 200 and response.json()["is_active"] is False
    assert api.post("/", {"code": "luzon", "name": "Again"}).status_code == 400
    assert api.post("/", {"name": "No code"}).status_code == 400
    assert api.patch("/999999/", {"name": "x"}).status_code == 404
    assert Vendor.objects.count() == 2


# --- tokens -------------------------------------------------------------------------


def test_token_header_errors_are_401_with_a_challenge(tokens):
    for header in ("Vendor", "Vendor a b", "Vendor vnd_nope", f"Vendor {tokens.secret_revoked}"):
        response = Client(headers={"Authorization": header}).get("/api/v1/vendors/queues/")
        assert response.status_code == 401, header
        assert response["WWW-Authenticate"].startswith('Vendor realm="vendors"')


def test_a_vendor_token_works_nowhere_else(tokens):
    client = Client(headers={"Authorization": f"Vendor {tokens.secret_a}"})
    assert client.get("/api/v1/incidents/").status_code == 403
    assert client.get("/api/v1/me/").status_code == 403


def test_an_inactive_vendor_s_token_is_refused(tokens, manager, vendor):
    services.vendor_update(actor=manager, vendor_id=vendor.id, is_active=False)
    assert token_api(tokens.secret_a).get("/queues/").status_code == 401


def test_people_can_use_their_api_token(make_user, lead, queue):
    from tscc.services import api_token_create

    _token, secret = api_token_create(actor=lead, user=lead, name="script")
    client = Client(headers={"Authorization": f"Bearer {secret}"})
    response = client.post(
        "/api/v1/vendors/snapshots/",
        {"queue_id": queue.id, **figures(4)},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content


def test_tokens_are_throttled_per_token(settings, tokens, queue, api_as, lead):
    rates = dict(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"])
    rates.update({"vendor_token": "3/min", "vendor_token_bulk": "1/min"})
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    api = token_api(tokens.secret_a)
    assert [api.get("/queues/").status_code for _ in range(4)] == [200, 200, 200, 429]
    assert 0 < int(api.get("/queues/")["Retry-After"]) <= 60
    # Another token, and people, have their own counts.
    assert token_api(tokens.secret_b).get("/queues/").status_code == 200
    assert api_as(lead).get("/queues/").status_code == 200
    rows = [{"queue_id": queue.id, **figures(2)}]
    bulk = token_api(tokens.secret_a)
    assert bulk.post_json("/snapshots/bulk/", rows).status_code == 201
    rows = [{"queue_id": queue.id, **figures(3)}]
    assert bulk.post_json("/snapshots/bulk/", rows).status_code == 429


def test_the_schema_documents_every_vendors_operation():
    import yaml
    from django.core.management import call_command

    from tests.vendors.api.test_isolation import _operations

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "schema.yml"
        call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
        schema = yaml.safe_load(out.read_text())
    operations = [
        (path, method, op)
        for path, item in schema["paths"].items()
        if path.startswith("/api/v1/vendors/")
        for method, op in item.items()
    ]
    assert len(operations) == len(_operations())
    for path, method, op in operations:
        assert op["operationId"].startswith("v1_vendors"), (path, method)
        assert op.get("summary") and "403" in op["responses"], (path, method)
        assert any(code.startswith("2") for code in op["responses"]), (path, method)
        if "{" in path:
            assert "404" in op["responses"], (path, method)
    security = schema["components"]["securitySchemes"]
    assert "vendorToken" in security


def test_a_vendors_escalation_contacts_are_set_through_the_api(
    api_as, make_user, manager, vendor, lead
):
    from tscc.roles import Role

    duty = make_user(Role.RESPONDER, username="duty-api")
    api = api_as(manager)
    changed = api.patch(f"/{vendor.id}/", {"escalation_contacts": [duty.id]})
    assert changed.status_code == 200, changed.content
    assert list(vendor.escalation_contacts.all()) == [duty]
    refused = api.patch(f"/{vendor.id}/", {"contacts": "x", "escalation_contacts": [lead.id]})
    assert refused.status_code == 400
    assert "escalation_contacts" in refused.json()["fields"]
    vendor.refresh_from_db()
    assert list(vendor.escalation_contacts.all()) == [duty]  # nothing half-changed
    assert vendor.contacts != "x"
