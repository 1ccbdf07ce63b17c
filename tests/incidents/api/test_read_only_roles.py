"""Executives read everything and change nothing; BPO leads see no incident
yet. Every write endpoint answers them 403 before reading their input."""

from __future__ import annotations

import pytest

from incidents.models import IncidentTask, RegulatoryReport, TimelineEvent
from tests.incidents.factories import declare

pytestmark = pytest.mark.django_db

# (method, path with {incident}/{task}/{report}/{event}, payload)
WRITES = [
    ("post", "/incidents/", {"title": "x", "category": "spam_flood", "answers": {}}),
    ("patch", "/incidents/{incident}/", {"title": "x"}),
    ("post", "/incidents/{incident}/transition/", {"target": "investigating"}),
    ("post", "/incidents/{incident}/severity/", {"answers": {"user_harm": 4}}),
    ("post", "/incidents/{incident}/severity/confirm/", {}),
    ("post", "/incidents/{incident}/grade/", {"in_scope": False, "rationale": "r"}),
    ("post", "/incidents/{incident}/roles/", {"role": "scribe", "user": 1}),
    ("post", "/incidents/{incident}/handover/", {"to_user": 1}),
    ("post", "/incidents/{incident}/join/", {}),
    ("post", "/incidents/{incident}/acknowledge/", {}),
    ("post", "/incidents/{incident}/merge/", {"into": 1}),
    ("post", "/incidents/{incident}/links/", {"other": 1, "relation": "related"}),
    ("post", "/incidents/{incident}/timeline/", {"text": "x"}),
    ("post", "/incidents/{incident}/decisions/", {"text": "x", "reason": "y"}),
    ("post", "/incidents/{incident}/facts/", {"text": "x"}),
    ("delete", "/incidents/{incident}/facts/{event}/", None),
    ("post", "/incidents/{incident}/tasks/", {"title": "x"}),
    ("patch", "/tasks/{task}/", {"state": "done"}),
    ("post", "/tasks/{task}/claim/", {"take_over": True}),
    ("post", "/incidents/{incident}/status-updates/", {"audience": "company", "text_en": "x"}),
    ("patch", "/reports/{report}/", {"content_zh": "x"}),
    ("post", "/reports/{report}/submit/", {"channel": "email"}),
    ("post", "/reports/{report}/receipt/", {}),
    ("post", "/reports/{report}/not-required/", {"reason": "r"}),
    ("post", "/reports/{report}/supplement/", {}),
    ("patch", "/incidents/{incident}/review/", {"summary": "x"}),
    ("post", "/incidents/{incident}/review/state/", {"state": "in_review"}),
    # Even malformed input: the role is refused before the input is read.
    ("post", "/incidents/{incident}/transition/", {"target": "nonsense"}),
]

READS = [
    "/incidents/",
    "/incidents/{incident}/",
    "/incidents/{incident}/timeline/",
    "/incidents/{incident}/facts/",
    "/incidents/{incident}/tasks/",
    "/incidents/{incident}/status-updates/",
    "/incidents/{incident}/reports/",
    "/incidents/{incident}/review/",
    "/grading-criteria/",
]


@pytest.fixture
def ids(people):
    incident = declare(people.manager, commander=people.commander, involves_personal_info=True)
    return {
        "incident": incident.id,
        "task": IncidentTask.objects.create(incident=incident, title="t").id,
        "report": RegulatoryReport.objects.filter(incident=incident).first().id,
        "event": TimelineEvent.objects.filter(incident=incident).first().id,
    }


@pytest.mark.parametrize("role", ["executive", "bpo"])
@pytest.mark.parametrize(("method", "path", "payload"), WRITES)
def test_readers_cannot_write(api_as, people, ids, role, method, path, payload):
    api = api_as(getattr(people, role))
    call = getattr(api, method)
    url = path.format(**ids)
    response = call(url) if payload is None else call(url, payload)
    assert response.status_code == 403, (url, response.content)
    assert response.json()["code"] == "not_allowed"
    assert TimelineEvent.objects.filter(actor=getattr(people, role)).count() == 0


@pytest.mark.parametrize("path", READS)
def test_executives_read_everything(api_as, people, ids, path):
    response = api_as(people.executive).get(path.format(**ids))
    assert response.status_code == 200, response.content


@pytest.mark.parametrize("path", [p for p in READS if "{incident}" in p])
def test_bpo_leads_see_no_incident(api_as, people, ids, path):
    assert api_as(people.bpo).get(path.format(**ids)).status_code == 404
