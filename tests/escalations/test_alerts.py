"""Inbound alerts through the real endpoint and database: a new firing key
opens an incident (which pages by its routing rule), repeats are counted,
resolutions recorded, Alertmanager webhooks parsed; tokens, JSON and size
are checked."""

import json

import pytest

from escalations.alerts import integration_create
from escalations.models import (
    Alert,
    Escalation,
    EscalationPolicy,
    LevelTarget,
    PolicyLevel,
    RoutingRule,
)
from incidents.models import Incident, TimelineEvent
from tscc.roles import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager(make_user):
    return make_user(Role.OPS_MANAGER, username="mgr")


@pytest.fixture
def generic(manager):
    return integration_create(actor=manager, name="Grafana", kind="generic")


@pytest.fixture
def alertmanager(manager):
    return integration_create(actor=manager, name="Prometheus", kind="alertmanager")


def send(client, integration, token, body, **extra):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return client.post(
        f"/api/v1/integrations/{integration.id}/alerts/",
        data,
        content_type="application/json",
        **headers,
        **extra,
    )


FIRING = {
    "dedup_key": "api-5xx",
    "status": "firing",
    "title": "Moderation API 5xx",
    "summary": "Error rate above 5%",
}


def test_generic_firing_opens_an_incident(client, generic, manager):
    integration, token = generic
    assert integration.token_hash != token and token.startswith("int_")
    response = send(client, integration, token, FIRING)
    assert response.status_code == 202, response.content
    [result] = response.json()
    incident = Incident.objects.get()
    assert result == {
        "dedup_key": "api-5xx",
        "status": "firing",
        "incident": incident.reference,
        "created": True,
    }
    assert incident.title == "Moderation API 5xx"
    assert incident.category.code == "tooling_outage"
    assert incident.severity == "sev2"
    assert incident.created_by == manager
    alert = Alert.objects.get()
    assert alert.incident == incident and alert.count == 1


def test_the_same_key_again_opens_no_second_incident(client, generic):
    integration, token = generic
    send(client, integration, token, FIRING)
    response = send(client, integration, token, FIRING)
    assert response.status_code == 202
    assert response.json()[0]["created"] is False
    assert response.json()[0]["incident"] == Incident.objects.get().reference
    assert Alert.objects.get().count == 2


def test_every_tenth_repeat_is_noted(client, generic):
    integration, token = generic
    for _ in range(11):
        send(client, integration, token, FIRING)
    incident = Incident.objects.get()
    notes = TimelineEvent.objects.filter(incident=incident, kind="note")
    assert notes.count() == 1 and "10" in notes.get().text
    assert Alert.objects.get().count == 11


def test_resolved_is_recorded_and_the_incident_stays_open(client, generic):
    integration, token = generic
    send(client, integration, token, FIRING)
    response = send(client, integration, token, {**FIRING, "status": "resolved"})
    assert response.status_code == 202
    assert response.json()[0]["status"] == "resolved"
    alert = Alert.objects.get()
    assert alert.status == "resolved" and alert.resolved_at is not None
    incident = Incident.objects.get()
    assert incident.state == "triage"
    note = TimelineEvent.objects.get(incident=incident, kind="note")
    assert note.text.startswith("Alert resolved: Moderation API 5xx")


def am_alert(name, severity, fingerprint, status="firing"):
    return {
        "status": status,
        "labels": {"alertname": name, "severity": severity, "service": "moderation"},
        "annotations": {"summary": f"{name} summary", "description": f"{name} description"},
        "startsAt": "2025-01-01T00:00:00Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "fingerprint": fingerprint,
    }


def test_alertmanager_webhook_opens_one_incident_per_alert(client, alertmanager):
    integration, token = alertmanager
    body = {
        "version": "4",
        "status": "firing",
        "receiver": "tscc",
        "groupKey": "{}:{}",
        "alerts": [
            am_alert("QueueBacklog", "critical", "aaa111"),
            am_alert("SlowReviews", "warning", "bbb222"),
        ],
    }
    response = send(client, integration, token, body)
    assert response.status_code == 202, response.content
    assert [r["created"] for r in response.json()] == [True, True]
    incidents = {i.title: i for i in Incident.objects.all()}
    assert incidents["QueueBacklog: QueueBacklog summary"].severity == "sev1"
    assert incidents["SlowReviews: SlowReviews summary"].severity == "sev3"
    assert incidents["SlowReviews: SlowReviews summary"].summary == "SlowReviews description"

    again = send(client, integration, token, body)
    assert again.status_code == 202
    assert [r["created"] for r in again.json()] == [False, False]
    assert Incident.objects.count() == 2
    assert sorted(Alert.objects.values_list("dedup_key", "count")) == [
        ("aaa111", 2),
        ("bbb222", 2),
    ]


def test_alertmanager_without_fingerprint_dedupes_by_labels(client, alertmanager):
    integration, token = alertmanager
    alert = am_alert("QueueBacklog", "info", "")
    body = {"version": "4", "status": "firing", "alerts": [alert]}
    send(client, integration, token, body)
    send(client, integration, token, body)
    assert Incident.objects.get().severity == "sev4"
    assert Alert.objects.get().count == 2


@pytest.mark.parametrize(
    ("header", "token"),
    [(True, "int_wrong"), (True, "tscc_nope"), (False, None)],
)
def test_wrong_or_missing_token_is_401(client, generic, header, token):
    integration, _token = generic
    response = send(client, integration, token if header else None, FIRING)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert not Alert.objects.exists()


def test_another_integrations_token_is_401(client, generic, alertmanager):
    integration, _token = generic
    _other, other_token = alertmanager
    assert send(client, integration, other_token, FIRING).status_code == 401


def test_inactive_integration_is_404(client, generic):
    integration, token = generic
    integration.active = False
    integration.save()
    assert send(client, integration, token, FIRING).status_code == 404


def test_bad_json_is_400(client, generic):
    integration, token = generic
    response = send(client, integration, token, "{not json")
    assert response.status_code == 400
    assert "JSON" in response.json()["detail"]


def test_bad_shape_is_400(client, generic, alertmanager):
    integration, token = generic
    response = send(client, integration, token, {"status": "exploded", "title": "x"})
    assert response.status_code == 400 and "status" in response.json()["detail"]
    am, am_token = alertmanager
    response = send(client, am, am_token, FIRING)
    assert response.status_code == 400 and "alerts" in response.json()["detail"]
    assert not Incident.objects.exists()


def test_too_large_is_413(client, generic):
    integration, token = generic
    body = {**FIRING, "summary": "x" * (300 * 1024)}
    assert send(client, integration, token, body).status_code == 413
    assert not Alert.objects.exists()


def test_only_managers_create_integrations(make_user):
    from escalations.alerts import NotAllowed

    with pytest.raises(NotAllowed):
        integration_create(actor=make_user(Role.RESPONDER), name="x", kind="generic")


def test_an_opened_incident_pages_by_its_routing_rule(
    client, generic, make_user, django_capture_on_commit_callbacks
):
    integration, token = generic
    responder = make_user(Role.RESPONDER, username="first")
    policy = EscalationPolicy.objects.create(name="Tooling", repeat=0)
    level = PolicyLevel.objects.create(policy=policy, position=0, wait_minutes=5)
    LevelTarget.objects.create(level=level, kind="user", user=responder)
    RoutingRule.objects.create(policy=policy, position=0, categories=["tooling_outage"])
    with django_capture_on_commit_callbacks(execute=True):
        response = send(client, integration, token, {**FIRING, "severity": "sev1"})
    assert response.status_code == 202
    incident = Incident.objects.get()
    assert incident.severity == "sev1"
    escalation = Escalation.objects.get(incident=incident)
    assert escalation.policy == policy
    assert escalation.snapshot["levels"][0]["targets"] == [{"kind": "user", "id": responder.id}]


def test_json_nested_past_the_recursion_limit_is_a_400(client, generic):
    integration, token = generic
    deep = "[" * 50_000 + "]" * 50_000
    response = send(client, integration, token, deep)
    assert response.status_code == 400
    assert not Alert.objects.exists()
