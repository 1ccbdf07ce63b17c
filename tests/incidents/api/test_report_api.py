"""Regulatory reports and the post-incident review."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from incidents.models import RegulatoryReport
from tests.incidents.api.conftest import error_fields
from tests.incidents.factories import declare

pytestmark = pytest.mark.django_db


@pytest.fixture
def owed(people):
    """An incident with personal information and minors: two reports owed."""
    incident = declare(
        people.manager,
        commander=people.commander,
        involves_personal_info=True,
        involves_minors=True,
    )
    reports = list(RegulatoryReport.objects.filter(incident=incident).order_by("id"))
    assert len(reports) == 2
    return incident, reports


# --- Reports ------------------------------------------------------------------


def test_list_reports(api_as, people, owed):
    incident, reports = owed
    response = api_as(people.executive).get(f"/incidents/{incident.id}/reports/")
    assert response.status_code == 200
    body = response.json()
    assert {r["id"] for r in body} == {r.id for r in reports}
    assert {r["obligation"] for r in body} == {"pipl-authority-notice", "minors-report"}
    assert all(r["state"] == "required" and r["due_at"] for r in body)


def test_reports_of_an_unseen_incident_are_404(api_as, people, owed):
    incident, reports = owed
    assert api_as(people.bpo).get(f"/incidents/{incident.id}/reports/").status_code == 404
    assert api_as(people.manager).patch("/reports/999999/", {"content_zh": "x"}).status_code == 404


def test_draft_submit_receipt_and_supplement(api_as, people, owed):
    _incident, (report, _other) = owed
    api = api_as(people.manager)
    draft = api.patch(f"/reports/{report.id}/", {"content_zh": "事件概况……"})
    assert draft.status_code == 200, draft.content
    assert draft.json()["state"] == "drafting" and draft.json()["content_zh"] == "事件概况……"
    english = api.patch(f"/reports/{report.id}/", {"content_en": "Summary"}).json()
    assert english["content_zh"] == "事件概况……" and english["content_en"] == "Summary"

    submitted_at = timezone.now() - timedelta(minutes=5)
    submitted = api.post(
        f"/reports/{report.id}/submit/",
        {"channel": "12387_web", "submitted_at": submitted_at.isoformat()},
    )
    assert submitted.status_code == 200, submitted.content
    body = submitted.json()
    assert body["state"] == "submitted" and len(body["content_sha256"]) == 64
    assert body["submitted_by"]["id"] == people.manager.id

    again = api.post(f"/reports/{report.id}/submit/", {"channel": "email"})
    assert again.status_code == 409
    frozen = api.patch(f"/reports/{report.id}/", {"content_zh": "改"})
    assert frozen.status_code == 409

    receipt = api.post(f"/reports/{report.id}/receipt/", {"reference_number": "CAC-2026-1"})
    assert receipt.status_code == 200
    assert receipt.json()["state"] == "acknowledged"
    assert receipt.json()["reference_number"] == "CAC-2026-1"

    supplement = api.post(f"/reports/{report.id}/supplement/")
    assert supplement.status_code == 201, supplement.content
    assert supplement.json()["kind"] == "supplementary"
    assert supplement.json()["supplements"] == report.id
    assert supplement.json()["state"] == "drafting"


def test_submit_needs_chinese_content_and_a_known_channel(api_as, people, owed):
    _incident, (report, _other) = owed
    api = api_as(people.manager)
    empty = api.post(f"/reports/{report.id}/submit/", {"channel": "email"})
    assert empty.status_code == 400 and error_fields(empty) == {"content_zh"}
    channel = api.post(f"/reports/{report.id}/submit/", {"channel": "pigeon"})
    assert channel.status_code == 400 and error_fields(channel) == {"channel"}


def test_draft_refuses_bad_types(api_as, people, owed):
    _incident, (report, _other) = owed
    response = api_as(people.manager).patch(f"/reports/{report.id}/", {"content_zh": ["x"]})
    assert response.status_code == 400 and error_fields(response) == {"content_zh"}


def test_receipt_of_an_unsubmitted_report_is_409(api_as, people, owed):
    _incident, (report, _other) = owed
    response = api_as(people.manager).post(f"/reports/{report.id}/receipt/")
    assert response.status_code == 409


def test_receipt_refuses_a_too_long_reference(api_as, people, owed):
    _incident, (report, _other) = owed
    response = api_as(people.manager).post(
        f"/reports/{report.id}/receipt/", {"reference_number": "x" * 200}
    )
    assert response.status_code == 400 and error_fields(response) == {"reference_number"}


def test_supplement_of_an_unsubmitted_report_is_409(api_as, people, owed):
    _incident, (report, _other) = owed
    assert api_as(people.manager).post(f"/reports/{report.id}/supplement/").status_code == 409


def test_supplement_of_an_unknown_report_is_404(api_as, people):
    assert api_as(people.manager).post("/reports/999999/supplement/").status_code == 404


def test_mark_not_required_needs_a_reason(api_as, people, owed):
    _incident, (_report, other) = owed
    api = api_as(people.manager)
    refused = api.post(f"/reports/{other.id}/not-required/", {"reason": " "})
    assert refused.status_code == 400 and error_fields(refused) == {"reason"}
    ok = api.post(f"/reports/{other.id}/not-required/", {"reason": "No minors after all"})
    assert ok.status_code == 200
    assert ok.json()["state"] == "not_required"
    assert ok.json()["not_required_reason"] == "No minors after all"


@pytest.mark.parametrize(
    ("path", "payload"),
    [
        ("", {"content_zh": "x"}),
        ("submit/", {"channel": "email"}),
        ("receipt/", {}),
        ("not-required/", {"reason": "r"}),
        ("supplement/", {}),
    ],
)
def test_reports_are_refused_to_a_commander_who_is_not_the_liaison(
    api_as, people, owed, path, payload
):
    _incident, (report, _other) = owed
    api = api_as(people.commander)
    call = api.patch if path == "" else api.post
    response = call(f"/reports/{report.id}/{path}", payload)
    assert response.status_code == 403
    report.refresh_from_db()
    assert report.state == "required"


def test_the_regulatory_liaison_manages_reports(api_as, people, owed):
    incident, (report, _other) = owed
    api_as(people.manager).post(
        f"/incidents/{incident.id}/roles/",
        {"role": "regulatory_liaison", "user": people.outsider.id},
    )
    response = api_as(people.outsider).patch(f"/reports/{report.id}/", {"content_zh": "内容"})
    assert response.status_code == 200


# --- Review -------------------------------------------------------------------


def test_review_is_an_empty_draft_until_written(api_as, people, incident):
    response = api_as(people.executive).get(f"/incidents/{incident.id}/review/")
    assert response.status_code == 200
    body = response.json()
    assert body["state"] == "draft" and body["summary"] == "" and body["updated_at"] is None


def test_write_and_publish_the_review(api_as, people, incident):
    api = api_as(people.commander)
    saved = api.patch(
        f"/incidents/{incident.id}/review/",
        {"summary": "Scam links", "impact": "3k users", "owner": people.commander.id},
    )
    assert saved.status_code == 200, saved.content
    assert saved.json()["summary"] == "Scam links"
    assert saved.json()["owner"]["id"] == people.commander.id

    missing = api.post(f"/incidents/{incident.id}/review/state/", {"state": "published"})
    assert missing.status_code == 400 and error_fields(missing) == {"root_cause"}

    api.patch(f"/incidents/{incident.id}/review/", {"root_cause": "Weak URL filter"})
    published = api.post(f"/incidents/{incident.id}/review/state/", {"state": "published"})
    assert published.status_code == 200
    assert published.json()["state"] == "published" and published.json()["published_at"]
    final = api.patch(f"/incidents/{incident.id}/review/", {"summary": "changed"})
    assert final.status_code == 409 and final.json()["code"] == "review_published"


def test_review_refuses_bad_input(api_as, people, incident):
    api = api_as(people.commander)
    owner = api.patch(f"/incidents/{incident.id}/review/", {"owner": 999999})
    assert owner.status_code == 400 and error_fields(owner) == {"owner"}
    state = api.post(f"/incidents/{incident.id}/review/state/", {"state": "shredded"})
    assert state.status_code == 400 and error_fields(state) == {"state"}


def test_review_is_refused_to_an_uninvolved_responder(api_as, people, incident):
    api = api_as(people.outsider)
    assert api.patch(f"/incidents/{incident.id}/review/", {"summary": "x"}).status_code == 403
    response = api.post(f"/incidents/{incident.id}/review/state/", {"state": "in_review"})
    assert response.status_code == 403


def test_only_the_commander_publishes_the_review(api_as, people, incident):
    api_as(people.outsider).post(f"/incidents/{incident.id}/join/")
    response = api_as(people.outsider).post(
        f"/incidents/{incident.id}/review/state/", {"state": "published"}
    )
    assert response.status_code == 403


def test_review_of_an_unseen_incident_is_404(api_as, people, incident):
    assert api_as(people.bpo).get(f"/incidents/{incident.id}/review/").status_code == 404
