"""The work on an incident: timeline, decisions, key facts, tasks, status updates."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from incidents.domain.severity import ImpactAnswers
from incidents.models import IncidentTask
from incidents.services import incident_add_note
from tests.incidents.api.conftest import error_fields
from tests.incidents.factories import declare

pytestmark = pytest.mark.django_db


# --- Timeline -----------------------------------------------------------------


def test_timeline_lists_events_in_sequence(api_as, people, incident):
    response = api_as(people.executive).get(f"/incidents/{incident.id}/timeline/")
    assert response.status_code == 200
    events = response.json()["results"]
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert events[0]["kind"] == "declared"
    assert events[0]["actor"] == {"id": people.manager.id, "name": str(people.manager)}


def test_timeline_after_seq_and_cursor_pages(api_as, people, incident):
    for n in range(4):
        incident_add_note(actor=people.manager, incident_id=incident.id, text=f"note {n}")
    incident.refresh_from_db()
    api = api_as(people.manager)
    tail = api.get(f"/incidents/{incident.id}/timeline/", {"after_seq": incident.last_seq - 2})
    assert [e["text"] for e in tail.json()["results"]] == ["note 2", "note 3"]
    first = api.get(f"/incidents/{incident.id}/timeline/", {"page_size": 2}).json()
    second = api.client.get(first["next"]).json()
    assert [e["seq"] for e in first["results"] + second["results"]] == [1, 2, 3, 4]


def test_timeline_refuses_a_bad_after_seq(api_as, people, incident):
    response = api_as(people.manager).get(
        f"/incidents/{incident.id}/timeline/", {"after_seq": "soon"}
    )
    assert response.status_code == 400 and error_fields(response) == {"after_seq"}


def test_timeline_of_an_unseen_incident_is_404(api_as, people, incident):
    assert api_as(people.bpo).get(f"/incidents/{incident.id}/timeline/").status_code == 404


def _timeline_queries(api, incident) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as queries:
        response = api.get(f"/incidents/{incident.id}/timeline/", {"page_size": 200})
    assert response.status_code == 200
    return len(queries), len(response.json()["results"])


def test_timeline_query_count_does_not_grow_with_events(api_as, people, make_user, incident):
    api = api_as(people.manager)
    few, rows = _timeline_queries(api, incident)
    for n in range(30):
        actor = make_user("ops_manager")
        incident_add_note(actor=actor, incident_id=incident.id, text=f"note {n}")
    many, more_rows = _timeline_queries(api, incident)
    assert more_rows == rows + 30
    assert few == many == 4  # session, user, incident, events


def test_add_a_note(api_as, people, incident):
    earlier = timezone.now() - timedelta(minutes=20)
    response = api_as(people.commander).post(
        f"/incidents/{incident.id}/timeline/",
        {"text": "Takedown queue at 4k", "occurred_at": earlier.isoformat()},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["kind"] == "note" and body["text"] == "Takedown queue at 4k"
    assert body["seq"] == incident.timeline.count()


@pytest.mark.parametrize("payload", [{"text": "  "}, {}])
def test_a_note_needs_text(api_as, people, incident, payload):
    response = api_as(people.commander).post(f"/incidents/{incident.id}/timeline/", payload)
    assert response.status_code == 400 and error_fields(response) == {"text"}


def test_a_note_is_refused_to_an_uninvolved_responder(api_as, people, incident):
    response = api_as(people.outsider).post(f"/incidents/{incident.id}/timeline/", {"text": "hi"})
    assert response.status_code == 403


# --- Decisions ----------------------------------------------------------------


def test_record_a_decision(api_as, people, incident):
    response = api_as(people.commander).post(
        f"/incidents/{incident.id}/decisions/",
        {"text": "Block the domain", "policy": "Spam policy 4.2", "reason": "Phishing"},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["kind"] == "decision"
    assert body["data"] == {"policy": "Spam policy 4.2", "reason": "Phishing"}


def test_a_decision_needs_a_reason(api_as, people, incident):
    response = api_as(people.commander).post(
        f"/incidents/{incident.id}/decisions/", {"text": "Block the domain", "reason": ""}
    )
    assert response.status_code == 400 and error_fields(response) == {"reason"}


def test_a_decision_is_refused_to_an_uninvolved_responder(api_as, people, incident):
    response = api_as(people.outsider).post(
        f"/incidents/{incident.id}/decisions/", {"text": "x", "reason": "y"}
    )
    assert response.status_code == 403


# --- Key facts ----------------------------------------------------------------


def test_pin_list_and_unpin_a_fact(api_as, people, incident):
    note = incident_add_note(actor=people.manager, incident_id=incident.id, text="Source: bot farm")
    api = api_as(people.commander)
    pinned = api.post(f"/incidents/{incident.id}/facts/", {"event": note.id})
    assert pinned.status_code == 201, pinned.content
    assert pinned.json()["kind"] == "fact_pinned" and pinned.json()["refers_to"] == note.id
    facts = api.get(f"/incidents/{incident.id}/facts/").json()
    assert [f["id"] for f in facts] == [note.id]
    assert api.delete(f"/incidents/{incident.id}/facts/{note.id}/").status_code == 204
    assert api.get(f"/incidents/{incident.id}/facts/").json() == []
    assert api.delete(f"/incidents/{incident.id}/facts/{note.id}/").status_code == 404


def test_pin_a_new_note_as_a_fact(api_as, people, incident):
    response = api_as(people.manager).post(
        f"/incidents/{incident.id}/facts/", {"text": "Started in the SEA market"}
    )
    assert response.status_code == 201
    facts = api_as(people.manager).get(f"/incidents/{incident.id}/facts/").json()
    assert [f["text"] for f in facts] == ["Started in the SEA market"]


def test_pin_an_event_of_another_incident_is_400(api_as, people, incident):
    other = declare(people.manager, title="Other")
    foreign = other.timeline.first()
    response = api_as(people.manager).post(
        f"/incidents/{incident.id}/facts/", {"event": foreign.id}
    )
    assert response.status_code == 400 and error_fields(response) == {"event"}


def test_pinning_is_refused_to_an_uninvolved_responder(api_as, people, incident):
    note = incident_add_note(actor=people.manager, incident_id=incident.id, text="x")
    api = api_as(people.outsider)
    assert api.post(f"/incidents/{incident.id}/facts/", {"event": note.id}).status_code == 403
    api_as(people.manager).post(f"/incidents/{incident.id}/facts/", {"event": note.id})
    assert api.delete(f"/incidents/{incident.id}/facts/{note.id}/").status_code == 403


# --- Tasks --------------------------------------------------------------------


def test_create_list_and_update_tasks(api_as, people, incident):
    api = api_as(people.commander)
    due = timezone.now() + timedelta(hours=1)
    created = api.post(
        f"/incidents/{incident.id}/tasks/",
        {"title": "Export the URL list", "owner": people.commander.id, "due_at": due.isoformat()},
    )
    assert created.status_code == 201, created.content
    task = created.json()
    assert task["owner"]["id"] == people.commander.id and task["state"] == "open"
    listed = api.get(f"/incidents/{incident.id}/tasks/").json()
    assert task["id"] in {t["id"] for t in listed}
    done = api.patch(f"/tasks/{task['id']}/", {"state": "done", "owner": None})
    assert done.status_code == 200, done.content
    assert done.json()["state"] == "done" and done.json()["owner"] is None
    assert done.json()["completed_at"] is not None


@pytest.mark.parametrize(("payload", "field"), [({"title": " "}, "title"), ({}, "title")])
def test_a_task_needs_a_title(api_as, people, incident, payload, field):
    response = api_as(people.commander).post(f"/incidents/{incident.id}/tasks/", payload)
    assert response.status_code == 400 and error_fields(response) == {field}


def test_task_update_refuses_an_unknown_state(api_as, people, incident):
    task = IncidentTask.objects.create(incident=incident, title="t")
    response = api_as(people.commander).patch(f"/tasks/{task.id}/", {"state": "maybe"})
    assert response.status_code == 400 and error_fields(response) == {"state"}


def test_tasks_are_refused_to_an_uninvolved_responder(api_as, people, incident):
    task = IncidentTask.objects.create(incident=incident, title="t")
    api = api_as(people.outsider)
    assert api.post(f"/incidents/{incident.id}/tasks/", {"title": "x"}).status_code == 403
    assert api.patch(f"/tasks/{task.id}/", {"state": "done"}).status_code == 403
    task.refresh_from_db()
    assert task.state == "open"


def test_tasks_of_an_unseen_incident_are_404(api_as, people, incident):
    assert api_as(people.bpo).get(f"/incidents/{incident.id}/tasks/").status_code == 404
    assert api_as(people.manager).patch("/tasks/999999/", {"state": "done"}).status_code == 404


def test_claiming_a_task(api_as, people, incident):
    task = IncidentTask.objects.create(incident=incident, title="Export the URL list")
    api = api_as(people.commander)
    claimed = api.post(f"/tasks/{task.id}/claim/", {"take_over": False})
    assert claimed.status_code == 200, claimed.content
    assert claimed.json() == api.get(f"/incidents/{incident.id}/tasks/").json()[0]
    assert claimed.json()["owner"] == {"id": people.commander.id, "name": str(people.commander)}
    again = api.post(f"/tasks/{task.id}/claim/")  # no body: take_over defaults to false
    assert again.status_code == 200 and again.json() == claimed.json()


def test_someone_elses_task_is_a_400_unless_taken_over(api_as, people, incident):
    task = IncidentTask.objects.create(incident=incident, title="t", owner=people.commander)
    api = api_as(people.manager)
    refused = api.post(f"/tasks/{task.id}/claim/", {"take_over": False})
    assert refused.status_code == 400
    assert refused.json()["code"] == "invalid"
    assert refused.json()["detail"] == f"Already claimed by {people.commander}."
    assert error_fields(refused) == {"take_over"}
    taken = api.post(f"/tasks/{task.id}/claim/", {"take_over": True})
    assert taken.status_code == 200 and taken.json()["owner"]["id"] == people.manager.id


def test_a_done_task_cannot_be_claimed(api_as, people, incident):
    task = IncidentTask.objects.create(incident=incident, title="t", state="done")
    refused = api_as(people.commander).post(f"/tasks/{task.id}/claim/", {})
    assert refused.status_code == 400 and refused.json()["code"] == "invalid"
    bad = api_as(people.commander).post(f"/tasks/{task.id}/claim/", {"take_over": "maybe"})
    assert bad.status_code == 400 and error_fields(bad) == {"take_over"}


def test_claims_refused_like_task_updates(api_as, people, incident):
    task = IncidentTask.objects.create(incident=incident, title="t")
    assert api_as(people.outsider).post(f"/tasks/{task.id}/claim/", {}).status_code == 403
    # Readers are refused before anything is looked up (test_read_only_roles).
    assert api_as(people.bpo).post(f"/tasks/{task.id}/claim/", {}).status_code == 403
    assert api_as(people.manager).post("/tasks/999999/claim/", {}).status_code == 404
    task.refresh_from_db()
    assert task.owner is None


def test_the_claim_is_in_the_schema(client, people):
    client.force_login(people.manager)
    schema = client.get("/api/schema/", headers={"Accept": "application/json"}).json()
    operation = schema["paths"]["/api/v1/tasks/{task_id}/claim/"]["post"]
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/TaskClaimInput"}
    assert schema["components"]["schemas"]["TaskClaimInput"]["properties"] == {
        "take_over": {"type": "boolean", "default": False}
    }
    responses = operation["responses"]
    assert responses["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/TaskOutput"
    }
    # Either field errors ({"take_over": [...]}) or a rule's {code, detail}.
    assert responses["400"]["content"]["application/json"]["schema"]["type"] == "object"
    assert "no longer open" in responses["400"]["description"]


# --- Status updates -----------------------------------------------------------


def test_publish_and_list_status_updates(api_as, people, incident):
    api = api_as(people.commander)
    response = api.post(
        f"/incidents/{incident.id}/status-updates/",
        {"audience": "executives", "text_en": "Contained in CN."},
    )
    assert response.status_code == 201, response.content
    assert response.json()["author"]["id"] == people.commander.id
    listed = api_as(people.executive).get(f"/incidents/{incident.id}/status-updates/").json()
    assert [u["text_en"] for u in listed["results"]] == ["Contained in CN."]


def test_a_high_severity_update_needs_both_languages(api_as, people):
    incident = declare(people.manager, answers=ImpactAnswers(user_harm=4))
    response = api_as(people.manager).post(
        f"/incidents/{incident.id}/status-updates/",
        {"audience": "company", "text_en": "Investigating."},
    )
    assert response.status_code == 400 and error_fields(response) == {"text_zh"}


def test_an_update_needs_an_audience(api_as, people, incident):
    response = api_as(people.manager).post(
        f"/incidents/{incident.id}/status-updates/", {"text_en": "x"}
    )
    assert response.status_code == 400 and error_fields(response) == {"audience"}


def test_updates_are_refused_to_an_uninvolved_responder(api_as, people, incident):
    response = api_as(people.outsider).post(
        f"/incidents/{incident.id}/status-updates/", {"audience": "company", "text_en": "x"}
    )
    assert response.status_code == 403
