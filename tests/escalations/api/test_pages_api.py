"""Pages over the API: the caller's pages and their acknowledgement (404 for
a page that is neither theirs nor of an incident they command), an
incident's paging history without anyone's destination, and switching the
policy an incident pages by. Lists cost a fixed number of queries."""

from __future__ import annotations

import pytest

from escalations.models import Delivery, DeliveryAttempt, Escalation, Page, Timer
from escalations.services import timer_fire
from incidents.models import TimelineEvent
from incidents.services import incident_transition
from tests.escalations.api.conftest import error_fields, page_incident, queries_for

pytestmark = pytest.mark.django_db


# --- My pages --------------------------------------------------------------------------


def test_a_responder_lists_their_pages_with_incident_and_deliveries(api_as, cast, paging):
    response = api_as(cast.ana).get("/pages/")
    assert response.status_code == 200
    body = response.json()
    assert body["next"] is None
    [page] = body["results"]
    incident = paging.incident
    assert page["id"] == paging.ana_page.id and page["open"] is True
    assert page["incident"] == {
        "id": incident.id,
        "reference": incident.reference,
        "title": "Scam links trending in search",
        "severity": incident.severity,
        "state": incident.state,
    }
    assert (page["state"], page["step"], page["acknowledged_at"]) == ("triggered", 0, None)
    assert {d["channel"] for d in page["deliveries"]} == {"app", "webhook"}
    assert set(page["deliveries"][0]) == {"id", "channel", "state", "attempts", "sent_at"}


def test_open_pages_only(api_as, cast, paging):
    api = api_as(cast.ana)
    assert len(api.get("/pages/", {"open": "true"}).json()["results"]) == 1
    assert api.post(f"/pages/{paging.ana_page.id}/ack/").status_code == 200
    assert api.get("/pages/", {"open": "true"}).json()["results"] == []
    [page] = api.get("/pages/", {"open": "false"}).json()["results"]
    assert page["open"] is False
    response = api.get("/pages/", {"open": "perhaps"})
    assert response.status_code == 400 and error_fields(response) == {"open"}


def test_pages_are_newest_first_and_paginated(api_as, cast, policy, rule, reachable):
    made = [page_incident(cast.manager, cast.ana)[0] for _ in range(3)]
    api = api_as(cast.ben)
    first = api.get("/pages/", {"page_size": 2}).json()
    second = api.client.get(first["next"]).json()
    ids = [p["incident"]["id"] for p in first["results"] + second["results"]]
    assert ids == [i.id for i in reversed(made)]
    response = api.get("/pages/", {"cursor": "not-a-cursor"})
    assert response.status_code == 400 and error_fields(response) == {"cursor"}


def test_acknowledging_my_page_stops_the_escalation(api_as, cast, paging):
    response = api_as(cast.ben).post(f"/pages/{paging.ben_page.id}/ack/")
    assert response.status_code == 200
    page = response.json()
    assert page["state"] == "acknowledged" and page["acknowledged_at"] is not None
    assert page["open"] is False
    escalation = Escalation.objects.get(id=paging.escalation.id)
    assert escalation.state == "acknowledged" and escalation.acknowledged_by == cast.ben
    assert not Delivery.objects.filter(page__escalation=escalation, state="pending").exists()


def test_someone_elses_page_is_404_unless_they_command_the_incident(api_as, cast, paging):
    path = f"/pages/{paging.ben_page.id}/ack/"
    assert api_as(cast.outsider).post(path).status_code == 404
    assert api_as(cast.outsider).get("/pages/").json()["results"] == []
    assert Page.objects.get(id=paging.ben_page.id).state == "triggered"
    assert api_as(cast.ana).post(path).status_code == 200  # Ana commands the incident
    assert api_as(cast.manager).post(f"/pages/{paging.ana_page.id}/ack/").status_code == 200
    assert api_as(cast.ana).post("/pages/999999/ack/").status_code == 404


def test_the_page_list_costs_the_same_queries_for_many_pages(api_as, cast, policy, rule, reachable):
    api = api_as(cast.ana)
    page_incident(cast.manager, cast.ana)
    few, body = queries_for(api, "/pages/")
    assert len(body["results"]) == 1
    for _ in range(6):
        page_incident(cast.manager, cast.ben)
    many, body = queries_for(api, "/pages/")
    assert len(body["results"]) == 7
    assert all(len(p["deliveries"]) == 2 for p in body["results"])
    assert few == many == 4  # session, user, pages (with incidents), deliveries


# --- An incident's paging ----------------------------------------------------------------


def test_the_paging_history_shows_pages_deliveries_and_attempts(api_as, cast, paging):
    hook = Delivery.objects.get(page=paging.ben_page, channel="webhook")
    DeliveryAttempt.objects.create(delivery=hook, ok=False, detail="HTTP 502")
    response = api_as(cast.outsider).get(f"/incidents/{paging.incident.id}/escalations/")
    assert response.status_code == 200
    [escalation] = response.json()
    assert escalation["policy"] == {"id": paging.escalation.policy_id, "name": "T&S default"}
    assert (escalation["state"], escalation["step"]) == ("active", 1)
    assert escalation["started_by"] is None and escalation["reason"] == ""
    pages = {p["user"]["name"]: p for p in escalation["pages"]}
    assert set(pages) == {"Ana", "Ben"}
    [webhook] = [d for d in pages["Ben"]["deliveries"] if d["channel"] == "webhook"]
    assert webhook["attempt_log"] == [
        {"at": webhook["attempt_log"][0]["at"], "ok": False, "detail": "HTTP 502"}
    ]
    assert "destination" not in webhook  # and the client checks Ben's URL appears nowhere


def test_an_unknown_incident_has_no_paging_history(api_as, cast):
    assert api_as(cast.manager).get("/incidents/999999/escalations/").status_code == 404
    response = api_as(cast.manager).post("/incidents/999999/escalations/switch/", {"policy": 1})
    assert response.status_code == 404


def test_the_paging_history_costs_the_same_queries_for_many_escalations(
    api_as, cast, paging, other_policy
):
    api = api_as(cast.outsider)
    path = f"/incidents/{paging.incident.id}/escalations/"
    few, body = queries_for(api, path)
    assert len(body) == 1
    commander = api_as(cast.ana)
    for policy in (other_policy, paging.escalation.policy) * 2:
        response = commander.post(f"{path}switch/", {"policy": policy.id})
        assert response.status_code == 201
        escalation = Escalation.objects.get(id=response.json()["id"])
        timer_fire(timer_id=Timer.objects.get(escalation=escalation, step=0).id)
    for delivery in Delivery.objects.all():
        DeliveryAttempt.objects.create(delivery=delivery, ok=True, detail="")
    many, body = queries_for(api, path)
    assert len(body) == 5 and sum(len(e["pages"]) for e in body) == 8
    # session, user, incident, escalations (with people), pages, deliveries, attempts
    assert few == many == 7


# --- Switching the policy -------------------------------------------------------------------


def test_the_commander_switches_the_policy(api_as, cast, paging, other_policy):
    path = f"/incidents/{paging.incident.id}/escalations/switch/"
    data = {"policy": other_policy.id, "reason": "Night shift owns this"}
    response = api_as(cast.ana).post(path, data)
    assert response.status_code == 201, response.content
    new = response.json()
    assert new["policy"] == {"id": other_policy.id, "name": "Night shift"}
    assert new["started_by"] == {"id": cast.ana.id, "name": "Ana"}
    assert (new["state"], new["step"], new["reason"]) == ("active", 0, "Night shift owns this")
    escalation = Escalation.objects.get(id=new["id"])
    assert escalation.snapshot["levels"][0]["targets"] == [{"kind": "user", "id": cast.outsider.id}]
    old = Escalation.objects.get(id=paging.escalation.id)
    assert old.state == "replaced" and old.ended_at is not None
    assert set(old.pages.values_list("state", flat=True)) == {"escalated"}
    event = TimelineEvent.objects.filter(incident=paging.incident, kind="page").last()
    assert event.data["action"] == "policy_switched"
    assert (event.data["policy"], event.data["reason"]) == ("Night shift", "Night shift owns this")
    history = api_as(cast.manager).get(f"/incidents/{paging.incident.id}/escalations/").json()
    assert [e["state"] for e in history] == ["replaced", "active"]


def test_only_the_commander_or_a_manager_switches(api_as, cast, paging, other_policy):
    path = f"/incidents/{paging.incident.id}/escalations/switch/"
    response = api_as(cast.outsider).post(path, {"policy": other_policy.id})
    assert response.status_code == 403 and response.json()["code"] == "not_allowed"
    assert api_as(cast.ben).post(path, {"policy": other_policy.id}).status_code == 403
    assert Escalation.objects.filter(incident=paging.incident).count() == 1
    assert api_as(cast.manager).post(path, {"policy": other_policy.id}).status_code == 201


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"policy": "night"},
        {"policy": None},
        {"policy": 999999},
        {"policy": 2**64},
        {"policy": {"id": 1}},
        {"policy": 1, "reason": "x" * 301},
    ],
)
def test_a_malformed_switch_is_400(api_as, cast, paging, data):
    path = f"/incidents/{paging.incident.id}/escalations/switch/"
    response = api_as(cast.ana).post(path, data)
    assert response.status_code == 400
    assert error_fields(response) & {"policy", "reason"}
    assert Escalation.objects.filter(incident=paging.incident).count() == 1


def test_no_switch_once_the_incident_is_over(
    api_as, cast, paging, other_policy, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        incident_transition(actor=cast.manager, incident_id=paging.incident.id, target="resolved")
    path = f"/incidents/{paging.incident.id}/escalations/switch/"
    response = api_as(cast.ana).post(path, {"policy": other_policy.id})
    assert response.status_code == 409
    assert Escalation.objects.get(id=paging.escalation.id).state == "resolved"
