"""Paging more people over the API: 201 with the pages made and who was
skipped, beside the policy (which keeps paging); 400 with field errors,
403 for those who may not act on the incident, 404 for an incident the
caller cannot see, 409 once it is over; in the schema."""

from __future__ import annotations

import pytest

from escalations.models import Delivery, Escalation, Page
from incidents.models import TimelineEvent
from incidents.services import incident_transition
from tests.escalations.api.conftest import error_fields

pytestmark = pytest.mark.django_db


def path(incident) -> str:
    return f"/incidents/{incident.id}/page/"


def test_201_with_the_pages_made_and_who_was_skipped(api_as, cast, paging):
    response = api_as(cast.ana).post(
        path(paging.incident),
        {"user_ids": [cast.outsider.id, cast.ben.id], "message": "Need a second pair of eyes"},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    escalation = body["escalation"]
    assert escalation["kind"] == "adhoc" and escalation["policy"] is None
    assert escalation["state"] == "active"
    assert escalation["message"] == "Need a second pair of eyes"
    assert escalation["started_by"] == {"id": cast.ana.id, "name": "Ana"}
    [paged] = body["paged"]
    assert paged["user"] == {"id": cast.outsider.id, "name": "Outsider"}
    assert paged["state"] == "triggered" and paged["deliveries"][0]["channel"] == "app"
    assert body["skipped"] == [
        {"kind": "user", "id": cast.ben.id, "name": "Ben", "reason": "already_paged"}
    ]
    assert escalation["pages"][0]["id"] == paged["id"]
    assert Delivery.objects.filter(page_id=paged["id"]).exists()
    assert Escalation.objects.get(id=paging.escalation.id).state == "active"  # the policy's
    assert TimelineEvent.objects.filter(
        incident=paging.incident, kind="page", data__action="paged_by", data__names=["Outsider"]
    ).exists()
    # The history lists both, the policy's with its name.
    history = api_as(cast.ana).get(f"/incidents/{paging.incident.id}/escalations/").json()
    assert [(e["kind"], e["policy"] and e["policy"]["name"]) for e in history] == [
        ("policy", "T&S default"),
        ("adhoc", None),
    ]


def test_everyone_skipped_is_still_201(api_as, cast, paging):
    response = api_as(cast.manager).post(path(paging.incident), {"user_ids": [cast.ana.id]})
    assert response.status_code == 201
    assert response.json()["escalation"] is None and response.json()["paged"] == []
    assert response.json()["skipped"][0]["reason"] == "already_paged"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({}, "user_ids"),
        ({"user_ids": []}, "user_ids"),
        ({"user_ids": ["x"]}, "user_ids"),
        ({"user_ids": 5}, "user_ids"),
        ({"user_ids": [999999]}, "user_ids"),
        ({"user_ids": "executive"}, "user_ids"),
        ({"user_ids": "bpo"}, "user_ids"),
        ({"schedule_ids": [999999]}, "schedule_ids"),
        ({"user_ids": "outsider", "message": "x" * 501}, "message"),
    ],
)
def test_bad_input_is_400(api_as, cast, paging, data, field):
    if isinstance(data.get("user_ids"), str) and data["user_ids"] != "x":
        data = {**data, "user_ids": [getattr(cast, data["user_ids"]).id]}
    response = api_as(cast.manager).post(path(paging.incident), data)
    assert response.status_code == 400, response.content
    assert field in error_fields(response)
    assert not Escalation.objects.filter(kind="adhoc").exists()


def test_403_404_409(api_as, cast, paging):
    refused = api_as(cast.outsider).post(path(paging.incident), {"user_ids": [cast.ben.id]})
    assert refused.status_code == 403 and refused.json()["code"] == "not_allowed"
    executive = api_as(cast.executive).post(path(paging.incident), {"user_ids": [cast.ben.id]})
    assert executive.status_code == 403
    missing = api_as(cast.manager).post("/incidents/999999/page/", {"user_ids": [cast.ben.id]})
    assert missing.status_code == 404
    incident_transition(actor=cast.manager, incident_id=paging.incident.id, target="resolved")
    over = api_as(cast.manager).post(path(paging.incident), {"user_ids": [cast.outsider.id]})
    assert over.status_code == 409 and over.json()["code"] == "incident_over"
    assert not Page.objects.filter(escalation__kind="adhoc").exists()
