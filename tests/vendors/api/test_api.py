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
from vendors.models import Queue, QueueSnapshot, Site, SiteStatusChange, Vendor

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
    # Rows made through the API count the same as any other.
    site = api.post(
        "/sites/",
        {
            "vendor_id": vendor.id,
            "name": "Davao",
            "city": "Davao",
            "country": "PH",
            "time_zone": "UTC",
        },
    )
    assert site.status_code == 201, site.content
    made = api.post(
        "/queues/",
        {"vendor_id": vendor.id, "site_id": site.json()["id"], "code": "api", "name": "API"},
    )
    assert made.status_code == 201, made.content
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


# --- sites and queues ----------------------------------------------------------------


def field_errors(response) -> dict:
    """A 400's errors by field: `{field: [errors]}` from a serializer, or the
    `fields` of `{code, detail, fields}` from a service's rule."""
    assert response.status_code == 400, (response.status_code, response.content)
    body = response.json()
    return body["fields"] if body.get("code") == "invalid" else body


def _rows() -> tuple:
    return (
        list(Site.objects.order_by("id").values()),
        list(Queue.objects.order_by("id").values()),
        SiteStatusChange.objects.count(),
    )


NEW_SITE = {"name": "Davao", "city": "Davao", "country": "PH", "time_zone": "Asia/Manila"}


def test_manage_sites(api_as, manager, vendor, site):
    api = api_as(manager)
    response = api.post("/sites/", {"vendor_id": vendor.id, **NEW_SITE, "seats": 120})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["vendor"] == vendor.id and body["name"] == "Davao" and body["seats"] == 120
    assert body["status"] == "operational" and body["status_changes"] == []
    created = Site.objects.get(id=body["id"])
    assert (created.vendor_id, created.time_zone, created.is_active) == (
        vendor.id,
        "Asia/Manila",
        True,
    )

    response = api.patch(f"/sites/{site.id}/", {"name_zh": "马尼拉", "seats": 350})
    assert response.status_code == 200, response.content
    assert response.json()["seats"] == 350 and response.json()["name_zh"] == "马尼拉"
    site.refresh_from_db()
    assert (site.name, site.name_zh, site.seats) == ("Manila", "马尼拉", 350)
    assert api.patch("/sites/999999/", {"seats": 1}).status_code == 404


@pytest.mark.parametrize(
    "body,field",
    [
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"seats": -1}, "seats"),
        ({"country": "PHL"}, "country"),
        ({"city": ""}, "city"),
        ({"name": "x" * 121}, "name"),
        ({"vendor_id": "abc"}, "vendor_id"),
        ({"vendor_id": None}, "vendor_id"),
    ],
)
def test_bad_site_input_is_400_and_writes_nothing(api_as, manager, vendor, site, body, field):
    before = _rows()
    response = api_as(manager).post("/sites/", {"vendor_id": vendor.id, **NEW_SITE, **body})
    assert field in field_errors(response)
    assert _rows() == before


def test_a_missing_vendor_is_404_and_a_site_name_is_unique_per_vendor(
    api_as, manager, vendor, other_vendor
):
    api = api_as(manager)
    before = _rows()
    assert api.post("/sites/", {"vendor_id": 999_999, **NEW_SITE}).status_code == 404
    assert api.post("/sites/", {**NEW_SITE}).status_code == 400
    assert _rows() == before
    assert api.post("/sites/", {"vendor_id": vendor.id, **NEW_SITE}).status_code == 201
    again = api.post("/sites/", {"vendor_id": vendor.id, **NEW_SITE})
    assert again.status_code == 400
    # Another vendor may have a site of the same name.
    assert api.post("/sites/", {"vendor_id": other_vendor.id, **NEW_SITE}).status_code == 201


def test_bad_site_patch_is_400_and_changes_nothing(api_as, manager, site):
    api = api_as(manager)
    before = _rows()
    assert "time_zone" in field_errors(api.patch(f"/sites/{site.id}/", {"time_zone": "Nowhere"}))
    assert "seats" in field_errors(api.patch(f"/sites/{site.id}/", {"seats": -5, "city": "Cebu"}))
    assert _rows() == before


def test_a_site_s_status_is_not_patched(api_as, manager, site):
    before = _rows()
    response = api_as(manager).patch(
        f"/sites/{site.id}/", {"status": "down", "status_reason": "Power", "seats": 1}
    )
    fields = field_errors(response)
    assert set(fields) == {"status", "status_reason"}
    assert f"/api/v1/vendors/sites/{site.id}/status/" in fields["status"]
    assert _rows() == before
    site.refresh_from_db()
    assert site.status == "operational" and site.seats == 300


NEW_QUEUE = {"code": "tl-live", "name": "Tagalog live"}


def test_manage_queues(api_as, manager, vendor, site, queue):
    api = api_as(manager)
    response = api.post(
        "/queues/",
        {
            "vendor_id": vendor.id,
            "site_id": site.id,
            **NEW_QUEUE,
            "language": "tl",
            "sla_percent": 90,
            "sla_minutes": 15,
            "planned_headcount": 12,
            "staffed_from": "22:00",
            "staffed_to": "06:00",
            "staffed_days": [1, 2, 3, 4, 5],
            "warn_attainment": 93.5,
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["vendor"], body["site"], body["code"]) == (vendor.id, site.id, "tl-live")
    assert body["staffed_from"] == "22:00:00" and body["staffed_days"] == [1, 2, 3, 4, 5]
    assert body["latest_snapshot"] is None and body["health"]["level"] == "unknown"
    created = Queue.objects.get(id=body["id"])
    assert (created.sla_percent, created.sla_minutes, created.planned_headcount) == (90, 15, 12)
    assert created.warn_attainment == 93.5 and created.language == "tl"

    no_site = api.post("/queues/", {"vendor_id": vendor.id, "code": "misc", "name": "Misc"})
    assert no_site.status_code == 201 and no_site.json()["site"] is None

    response = api.patch(f"/queues/{queue.id}/", {"planned_headcount": 25, "site_id": None})
    assert response.status_code == 200, response.content
    assert response.json()["planned_headcount"] == 25 and response.json()["site"] is None
    queue.refresh_from_db()
    assert queue.planned_headcount == 25 and queue.site_id is None
    assert queue.code == "en-video" and queue.sla_minutes == 30
    assert api.patch("/queues/999999/", {"name": "x"}).status_code == 404


@pytest.mark.parametrize(
    "body,field",
    [
        ({"planned_headcount": -1}, "planned_headcount"),
        ({"site_id": "other"}, "site"),
        ({"site_id": 999_999}, "site"),
        ({"code": "en-video"}, "code"),
        ({"code": "not a slug"}, "code"),
        ({"sla_percent": 0}, "sla_percent"),
        ({"stale_after_minutes": 2}, "stale_after_minutes"),
        ({"staffed_days": [0, 8]}, "staffed_days"),
        ({"staffed_days": []}, "staffed_days"),
        ({"staffed_from": "25:00"}, "staffed_from"),
        ({"warn_attainment": 101}, "warn_attainment"),
    ],
)
def test_bad_queue_input_is_400_and_writes_nothing(
    api_as, manager, vendor, queue, other_site, body, field
):
    if body.get("site_id") == "other":
        body = {"site_id": other_site.id}
    before = _rows()
    response = api_as(manager).post("/queues/", {"vendor_id": vendor.id, **NEW_QUEUE, **body})
    assert field in field_errors(response)
    assert _rows() == before


def test_bad_queue_patch_is_400_and_changes_nothing(api_as, manager, queue, other_site):
    api = api_as(manager)
    before = _rows()
    response = api.patch(f"/queues/{queue.id}/", {"site_id": other_site.id, "name": "Moved"})
    assert field_errors(response) == {"site": "The site belongs to another vendor."}
    response = api.patch(f"/queues/{queue.id}/", {"planned_headcount": -3, "name": "Moved"})
    assert "planned_headcount" in field_errors(response)
    assert api.post("/queues/", {"vendor_id": 999_999, **NEW_QUEUE}).status_code == 404
    assert _rows() == before


@pytest.mark.parametrize("who", ["lead", "token", "responder"])
def test_only_ops_managers_manage_sites_and_queues(
    api_as, make_user, lead, tokens, vendor, site, queue, who
):
    from tscc.roles import Role

    api = {
        "lead": lambda: api_as(lead),
        "token": lambda: token_api(tokens.secret_a),
        "responder": lambda: api_as(make_user(Role.RESPONDER)),
    }[who]()
    before = _rows()
    answers = [
        api.post("/sites/", {"vendor_id": vendor.id, **NEW_SITE}),
        api.patch(f"/sites/{site.id}/", {"seats": 1}),
        api.post("/queues/", {"vendor_id": vendor.id, **NEW_QUEUE}),
        api.patch(f"/queues/{queue.id}/", {"planned_headcount": 1}),
        # Refused before any lookup: an id that does not exist is 403 too.
        api.patch("/queues/999999/", {"planned_headcount": 1}),
        api.patch("/sites/999999/", {"status": "down"}),
    ]
    assert [r.status_code for r in answers] == [403] * len(answers)
    assert {r.json()["code"] for r in answers} == {"not_allowed"}
    assert _rows() == before
    # Reading is unchanged.
    assert api.get(f"/sites/{site.id}/").status_code == 200
    assert api.get(f"/queues/{queue.id}/").status_code == 200


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


def test_a_vendors_escalation_levels_are_read_and_set_through_the_api(
    api_as, make_user, manager, vendor, lead
):
    from tscc.roles import Role

    duty = make_user(Role.RESPONDER, username="duty-api")
    api = api_as(manager)
    levels = [
        {"wait_minutes": 5, "user_ids": [duty.id]},
        {"wait_minutes": 30, "user_ids": [manager.id, duty.id]},
    ]
    changed = api.patch(f"/{vendor.id}/", {"escalation_levels": levels})
    assert changed.status_code == 200, changed.content
    assert changed.json()["escalation_levels"] == [
        {"wait_minutes": 5, "user_ids": [duty.id]},
        {"wait_minutes": 30, "user_ids": sorted([manager.id, duty.id])},
    ]
    assert api.get(f"/{vendor.id}/").json()["escalation_levels"][0]["user_ids"] == [duty.id]
    assert api_as(lead).get(f"/{vendor.id}/").json()["escalation_levels"] is None  # managers only
    refused = api.patch(
        f"/{vendor.id}/",
        {"contacts": "x", "escalation_levels": [{"wait_minutes": 5, "user_ids": [lead.id]}]},
    )
    assert refused.status_code == 400
    assert "escalation_levels.1.user_ids" in refused.json()["fields"]
    vendor.refresh_from_db()
    assert [lv.wait_minutes for lv in vendor.escalation_levels.all()] == [
        5,
        30,
    ]  # nothing half-changed
    assert vendor.contacts != "x"
    too_many = api.patch(f"/{vendor.id}/", {"escalation_levels": [levels[0]] * 6})
    assert too_many.status_code == 400 and "escalation_levels" in too_many.json()["fields"]
    cleared = api.patch(f"/{vendor.id}/", {"escalation_levels": []})
    assert cleared.status_code == 200 and cleared.json()["escalation_levels"] == []
