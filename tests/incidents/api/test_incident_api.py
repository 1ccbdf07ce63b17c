"""The incidents collection and one incident: list, declare, detail, edit."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from incidents.domain.severity import ImpactAnswers
from incidents.models import GradingCriterion, Incident, Market
from incidents.services import incident_transition
from tests.factories import TeamFactory
from tests.incidents.api.conftest import error_fields
from tests.incidents.factories import declare
from tscc.roles import Role

pytestmark = pytest.mark.django_db

DECLARATION = {
    "title": "Self-harm challenge spreading in short video",
    "title_zh": "自残挑战在短视频传播",
    "summary": "A challenge video is being re-uploaded faster than takedowns.",
    "category": "viral_harm",
    "answers": {"user_harm": 3, "reach": 2},
    "markets": ["cn", "hk"],
    "surfaces": ["short-video", "feed"],
    "involves_minors": True,
}


# --- List ---------------------------------------------------------------------


def test_list_shows_open_incidents_newest_first(api_as, people, incident):
    older = declare(people.manager, title="Older")
    Incident.objects.filter(id=older.id).update(declared_at=timezone.now() - timedelta(hours=1))
    response = api_as(people.outsider).get("/incidents/")
    assert response.status_code == 200
    body = response.json()
    assert [row["id"] for row in body["results"]] == [incident.id, older.id]
    row = body["results"][0]
    assert row["reference"] == incident.reference
    assert re.fullmatch(r"INC-\d{4}-\d{5}", row["reference"])
    assert row["severity"] == "sev2" and row["state"] == "triage"
    assert row["category"] == "spam_flood"
    assert row["commander"] == {"id": people.commander.id, "name": str(people.commander)}
    assert row["url"] == f"/incidents/{incident.id}/"
    assert row["open_tasks"] >= 0 and row["pending_reports"] == 0
    assert {"declared_at", "discovered_at", "next_update_due_at", "resolved_at"} <= set(row)
    assert body["next"] is None and body["previous"] is None


def test_list_filters_like_the_triage_page(api_as, people, incident):
    severe = declare(people.manager, title="Leak of user data", answers=ImpactAnswers(legal=3))
    done = declare(people.manager, title="Done already")
    incident_transition(actor=people.manager, incident_id=done.id, target="resolved")
    api = api_as(people.executive)

    def ids(**params):
        response = api.get("/incidents/", params)
        assert response.status_code == 200, response.content
        return {row["id"] for row in response.json()["results"]}

    assert ids() == {incident.id, severe.id}
    assert ids(severity="sev1") == {severe.id}
    assert ids(scope="done") == {done.id}
    assert ids(scope="all") == {incident.id, severe.id, done.id}
    assert ids(q="leak of user") == {severe.id}
    assert ids(q=incident.reference) == {incident.id}
    assert ids(commander=people.commander.id) == {incident.id}
    assert ids(category="spam_flood", scope="all") == {incident.id, severe.id, done.id}


def test_list_refuses_bad_filters_and_unpageable_sorts(api_as, people, incident):
    api = api_as(people.manager)
    bad = api.get("/incidents/", {"severity": "sev9"})
    assert bad.status_code == 400 and "severity" in bad.json()
    sort = api.get("/incidents/", {"sort": "severity"})
    assert sort.status_code == 400 and "sort" in sort.json()
    assert api.get("/incidents/", {"sort": "declared"}).status_code == 200


def test_list_pages_with_a_cursor_and_caps_the_page_size(api_as, people):
    made = [declare(people.manager, title=f"Incident {n}") for n in range(5)]
    api = api_as(people.manager)
    first = api.get("/incidents/", {"page_size": 2}).json()
    assert [r["id"] for r in first["results"]] == [made[4].id, made[3].id]
    second = api.client.get(first["next"]).json()
    assert [r["id"] for r in second["results"]] == [made[2].id, made[1].id]
    oldest_first = api.get("/incidents/", {"sort": "declared", "page_size": 1}).json()
    assert oldest_first["results"][0]["id"] == made[0].id
    huge = api.get("/incidents/", {"page_size": 10_000}).json()
    assert len(huge["results"]) == 5


def test_a_bpo_lead_lists_nothing(api_as, people, incident):
    response = api_as(people.bpo).get("/incidents/")
    assert response.status_code == 200 and response.json()["results"] == []


def _list_queries(api) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = api.get("/incidents/", {"page_size": 200})
    assert response.status_code == 200
    return len(queries), len(response.json()["results"])


def test_list_query_count_does_not_grow_with_rows(api_as, people, make_user):
    api = api_as(people.manager)
    markets = list(Market.objects.filter(code__in=["cn", "hk"]))

    def make(n: int, prefix: str) -> None:
        for i in range(n):
            declare(
                people.manager,
                title=f"{prefix} {i}",
                commander=make_user(Role.RESPONDER),
                markets=markets,
                involves_personal_info=i % 2 == 0,  # owes a report
            )

    make(3, "Few")
    few, rows = _list_queries(api)
    assert rows == 3
    make(27, "Many")
    many, rows = _list_queries(api)
    assert rows == 30
    assert few == many == 5  # session, user, incidents page, roles, markets


# --- Declare ------------------------------------------------------------------


def test_declare_creates_the_incident(api_as, people):
    team = TeamFactory(slug="ts-ops-cn")
    response = api_as(people.outsider).post(
        "/incidents/", {**DECLARATION, "team": team.slug, "commander": people.commander.id}
    )
    assert response.status_code == 201, response.content
    body = response.json()
    incident = Incident.objects.get(id=body["id"])
    assert body["reference"] == incident.reference
    assert body["severity"] == "sev1"  # the rubric's proposal (user harm 3)
    assert body["assessment"]["proposed"] == "sev1"
    assert body["markets"] == ["cn", "hk"]
    assert sorted(body["surfaces"]) == ["feed", "short-video"]
    assert body["team"] == "ts-ops-cn"
    assert body["commander"]["id"] == people.commander.id
    assert body["involves_minors"] is True
    assert body["url"] == f"/incidents/{incident.id}/"
    assert incident.created_by == people.outsider


def test_declare_with_an_override_needs_a_reason(api_as, people):
    api = api_as(people.manager)
    response = api.post("/incidents/", {**DECLARATION, "severity": "sev0"})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert error_fields(response) == {"severity_reason"}
    ok = api.post("/incidents/", {**DECLARATION, "severity": "sev0", "severity_reason": "Press"})
    assert ok.status_code == 201 and ok.json()["severity"] == "sev0"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"category": "no-such-category"}, "category"),
        ({"answers": {"reach": 7}}, "answers"),
        ({"markets": ["atlantis"]}, "markets"),
        ({"title": ""}, "title"),
        ({"severity": "sev9"}, "severity"),
    ],
)
def test_declare_refuses_bad_input(api_as, people, change, field):
    response = api_as(people.manager).post("/incidents/", {**DECLARATION, **change})
    assert response.status_code == 400
    assert field in error_fields(response)


def test_declare_refuses_a_commander_who_cannot_hold_the_role(api_as, people):
    response = api_as(people.manager).post(
        "/incidents/", {**DECLARATION, "commander": people.executive.id}
    )
    assert response.status_code == 400
    assert error_fields(response) == {"commander"}
    assert not Incident.objects.exists()


@pytest.mark.parametrize("role", ["executive", "bpo"])
def test_declare_is_refused_to_readers(api_as, people, role):
    response = api_as(getattr(people, role)).post("/incidents/", DECLARATION)
    assert response.status_code == 403
    assert response.json()["code"] == "not_allowed"
    assert not Incident.objects.exists()


# --- Detail -------------------------------------------------------------------


def test_detail_has_people_links_and_the_latest_assessment(api_as, people, incident):
    other = declare(people.manager, title="Related wave")
    api = api_as(people.manager)
    linked = api.post(
        f"/incidents/{incident.id}/links/", {"other": other.id, "relation": "related"}
    )
    assert linked.status_code == 200
    response = api_as(people.executive).get(f"/incidents/{incident.id}/")
    assert response.status_code == 200
    body = response.json()
    assert body["roles"] == [
        {
            "role": "commander",
            "user": {"id": people.commander.id, "name": str(people.commander)},
            "assigned_at": body["roles"][0]["assigned_at"],
        }
    ]
    assert {p["user"]["id"] for p in body["participants"]} == {
        people.manager.id,
        people.commander.id,
    }
    assert body["related"] == [{"id": other.id, "reference": other.reference}]
    assert body["assessment"]["proposed"] == "sev2"
    assert body["assessment"]["answers"]["reach"] == 2
    assert "investigating" in body["next_states"] and "merged" not in body["next_states"]
    assert body["created_by"]["id"] == people.manager.id


def test_detail_is_404_for_a_bpo_lead_and_for_unknown_ids(api_as, people, incident):
    assert api_as(people.bpo).get(f"/incidents/{incident.id}/").status_code == 404
    assert api_as(people.manager).get("/incidents/999999/").status_code == 404


def test_patch_edits_details_and_records_them(api_as, people, incident):
    response = api_as(people.commander).patch(
        f"/incidents/{incident.id}/",
        {"title": "Scam links in search and feed", "markets": ["cn"], "is_cii": True},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["title"] == "Scam links in search and feed"
    assert body["markets"] == ["cn"] and body["is_cii"] is True
    assert incident.timeline.filter(kind="details_changed").count() == 1


def test_patch_moving_discovery_needs_a_reason(api_as, people, incident):
    api = api_as(people.manager)
    earlier = (incident.discovered_at - timedelta(hours=2)).isoformat()
    refused = api.patch(f"/incidents/{incident.id}/", {"discovered_at": earlier})
    assert refused.status_code == 400 and error_fields(refused) == {"reason"}
    ok = api.patch(
        f"/incidents/{incident.id}/", {"discovered_at": earlier, "reason": "Found older reports"}
    )
    assert ok.status_code == 200
    incident.refresh_from_db()
    assert incident.discovered_at.isoformat().startswith(earlier[:19])


def test_patch_refuses_bad_types(api_as, people, incident):
    response = api_as(people.manager).patch(
        f"/incidents/{incident.id}/", {"war_room_url": "not a url"}
    )
    assert response.status_code == 400 and error_fields(response) == {"war_room_url"}


@pytest.mark.parametrize("role", ["outsider", "executive"])
def test_patch_is_refused_to_people_who_do_not_act(api_as, people, incident, role):
    response = api_as(getattr(people, role)).patch(f"/incidents/{incident.id}/", {"title": "X"})
    assert response.status_code == 403
    incident.refresh_from_db()
    assert incident.title != "X"


# --- Grading criteria ---------------------------------------------------------


def test_grading_criteria_lists_the_active_ones(api_as, people):
    GradingCriterion.objects.filter(grade="general").update(active=False)
    response = api_as(people.outsider).get("/grading-criteria/")
    assert response.status_code == 200
    body = response.json()
    assert body and all(row["grade"] != "general" for row in body)
    assert len(body) == GradingCriterion.objects.filter(active=True).count()
    assert {"id", "text_zh", "text_en", "confidence", "source"} <= set(body[0])


def test_grading_criteria_are_not_for_bpo_leads(api_as, people):
    assert api_as(people.bpo).get("/grading-criteria/").status_code == 403


def test_the_api_needs_a_signed_in_user(client, incident):
    assert client.get("/api/v1/incidents/").status_code == 403
    assert client.get(f"/api/v1/incidents/{incident.id}/").status_code == 403


def test_detail_reports_durations_derived_from_the_timeline(make_user):
    from datetime import timedelta
    from unittest import mock

    from django.test import Client
    from django.utils import timezone

    from incidents.services import incident_transition
    from tests.incidents.factories import declare

    manager = make_user(Role.OPS_MANAGER)
    start = timezone.now() - timedelta(hours=2)
    with mock.patch("django.utils.timezone.now", return_value=start):
        incident = declare(manager)
    for minutes, target in ((4, "investigating"), (30, "monitoring"), (90, "resolved")):
        with mock.patch(
            "django.utils.timezone.now", return_value=start + timedelta(minutes=minutes)
        ):
            incident_transition(actor=manager, incident_id=incident.id, target=target)
    client = Client()
    client.force_login(manager)
    body = client.get(f"/api/v1/incidents/{incident.id}/").json()
    assert body["durations"] == {
        "to_acknowledge": 240.0,
        "to_mitigate": 1800.0,
        "to_resolve": 5400.0,
    }
