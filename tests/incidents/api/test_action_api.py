"""Actions on one incident: lifecycle, severity, grade, people, links."""

from __future__ import annotations

import pytest

from incidents.models import GradingCriterion, IncidentRole, TimelineEvent
from tests.incidents.api.conftest import error_fields
from tests.incidents.factories import declare

pytestmark = pytest.mark.django_db


# --- Transition ---------------------------------------------------------------


def test_transition_moves_the_incident(api_as, people, incident):
    response = api_as(people.commander).post(
        f"/incidents/{incident.id}/transition/", {"target": "investigating"}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["state"] == "investigating"
    assert body["acknowledged_at"] is not None
    assert incident.timeline.filter(kind="state_changed").count() == 1


def test_an_illegal_transition_is_409(api_as, people, incident):
    response = api_as(people.manager).post(
        f"/incidents/{incident.id}/transition/", {"target": "closed"}
    )
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "transition_not_allowed"
    assert body["detail"]
    incident.refresh_from_db()
    assert incident.state == "triage"


def test_a_transition_that_needs_a_reason_is_409_without_one(api_as, people, incident):
    response = api_as(people.manager).post(
        f"/incidents/{incident.id}/transition/", {"target": "cancelled"}
    )
    assert response.status_code == 409
    assert response.json()["code"] == "transition_reason_required"


def test_transition_to_an_unknown_state_is_400(api_as, people, incident):
    response = api_as(people.manager).post(
        f"/incidents/{incident.id}/transition/", {"target": "exploded"}
    )
    assert response.status_code == 400 and error_fields(response) == {"target"}


def test_transition_is_refused_to_an_uninvolved_responder(api_as, people, incident):
    response = api_as(people.outsider).post(
        f"/incidents/{incident.id}/transition/", {"target": "investigating"}
    )
    assert response.status_code == 403
    assert response.json()["code"] == "not_allowed"


def test_transition_of_an_unseen_incident_is_404(api_as, people):
    response = api_as(people.manager).post("/incidents/424242/transition/", {"target": "closed"})
    assert response.status_code == 404


# --- Severity -----------------------------------------------------------------


def test_severity_assessment_takes_the_rubric_proposal(api_as, people, incident):
    response = api_as(people.commander).post(
        f"/incidents/{incident.id}/severity/", {"answers": {"user_harm": 3}}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["severity"] == "sev1"
    assert body["assessment"]["proposed"] == "sev1" and body["assessment"]["chosen"] == "sev1"


def test_severity_override_without_reason_is_400(api_as, people, incident):
    response = api_as(people.commander).post(
        f"/incidents/{incident.id}/severity/", {"answers": {"reach": 2}, "severity": "sev0"}
    )
    assert response.status_code == 400
    assert error_fields(response) == {"severity_reason"}


def test_severity_answers_out_of_range_are_400(api_as, people, incident):
    response = api_as(people.commander).post(
        f"/incidents/{incident.id}/severity/", {"answers": {"reach": 5}}
    )
    assert response.status_code == 400
    assert "reach" in response.json()["answers"]


def test_severity_is_refused_to_an_uninvolved_responder(api_as, people, incident):
    response = api_as(people.outsider).post(
        f"/incidents/{incident.id}/severity/", {"answers": {"user_harm": 4}}
    )
    assert response.status_code == 403
    incident.refresh_from_db()
    assert incident.severity == "sev2"


def test_confirm_severity_by_the_commander(api_as, people):
    incident = declare(people.commander)  # a responder's declaration stays unconfirmed
    assert incident.severity_confirmed_at is None
    api_as(people.manager).post(
        f"/incidents/{incident.id}/handover/", {"to_user": people.commander.id}
    )
    response = api_as(people.commander).post(f"/incidents/{incident.id}/severity/confirm/")
    assert response.status_code == 200, response.content
    assert response.json()["severity_confirmed_at"] is not None


def test_confirm_severity_is_refused_to_a_member_who_does_not_command(api_as, people):
    incident = declare(people.outsider)  # takes part, but no commander role
    response = api_as(people.outsider).post(f"/incidents/{incident.id}/severity/confirm/")
    assert response.status_code == 403


def test_confirm_severity_of_an_unknown_incident_is_404(api_as, people):
    assert api_as(people.manager).post("/incidents/424242/severity/confirm/").status_code == 404


# --- Grade --------------------------------------------------------------------


def test_grade_stores_a_worksheet(api_as, people, incident):
    criterion = GradingCriterion.objects.filter(active=True, grade="relatively_major").first()
    response = api_as(people.manager).post(
        f"/incidents/{incident.id}/grade/",
        {
            "in_scope": True,
            "met": [{"criterion": criterion.id, "evidence": "1.2 million accounts exposed"}],
            "rationale": "Leak confirmed by the data team.",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["grade"] == "relatively_major"
    met = [row for row in body["rows"] if row["met"]]
    assert [row["criterion"] for row in met] == [criterion.id]
    incident.refresh_from_db()
    assert incident.statutory_grade == "relatively_major"
    assert incident.severity == "sev1"  # raised to the grade's floor


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"in_scope": True, "rationale": ""}, "rationale"),
        (
            {"in_scope": True, "met": [{"criterion": 999999, "evidence": "x"}], "rationale": "r"},
            "met",
        ),
        ({"rationale": "r"}, "in_scope"),
    ],
)
def test_grade_refuses_bad_input(api_as, people, incident, payload, field):
    response = api_as(people.manager).post(f"/incidents/{incident.id}/grade/", payload)
    assert response.status_code == 400
    assert field in error_fields(response)


def test_grade_is_refused_to_an_uninvolved_responder(api_as, people, incident):
    response = api_as(people.outsider).post(
        f"/incidents/{incident.id}/grade/", {"in_scope": False, "rationale": "Not cyber."}
    )
    assert response.status_code == 403


# --- Roles and handover -------------------------------------------------------


def test_assign_a_role(api_as, people, incident):
    response = api_as(people.commander).post(
        f"/incidents/{incident.id}/roles/", {"role": "scribe", "user": people.outsider.id}
    )
    assert response.status_code == 200, response.content
    roles = {r["role"]: r["user"]["id"] for r in response.json()["roles"]}
    assert roles == {"commander": people.commander.id, "scribe": people.outsider.id}


def test_assign_the_taken_commander_role_is_409(api_as, people, incident):
    response = api_as(people.manager).post(
        f"/incidents/{incident.id}/roles/", {"role": "commander", "user": people.outsider.id}
    )
    assert response.status_code == 409 and response.json()["code"] == "commander_taken"


@pytest.mark.parametrize(
    ("who", "field"), [({"role": "chef"}, "role"), ({"role": "scribe", "user": 999999}, "user")]
)
def test_assign_role_refuses_bad_input(api_as, people, incident, who, field):
    payload = {"user": people.outsider.id, **who}
    response = api_as(people.manager).post(f"/incidents/{incident.id}/roles/", payload)
    assert response.status_code == 400 and field in error_fields(response)


def test_a_reader_cannot_hold_a_role(api_as, people, incident):
    response = api_as(people.manager).post(
        f"/incidents/{incident.id}/roles/", {"role": "scribe", "user": people.executive.id}
    )
    assert response.status_code == 400 and error_fields(response) == {"user"}


def test_assign_role_is_refused_to_an_uninvolved_responder(api_as, people, incident):
    response = api_as(people.outsider).post(
        f"/incidents/{incident.id}/roles/", {"role": "scribe", "user": people.outsider.id}
    )
    assert response.status_code == 403


def test_handover_passes_command(api_as, people, incident):
    response = api_as(people.commander).post(
        f"/incidents/{incident.id}/handover/",
        {"to_user": people.outsider.id, "note": "Shift change"},
    )
    assert response.status_code == 200, response.content
    assert response.json()["commander"]["id"] == people.outsider.id
    event = incident.timeline.get(kind="command_handed_over")
    assert event.text == "Shift change"


def test_handover_to_the_current_commander_is_409(api_as, people, incident):
    response = api_as(people.manager).post(
        f"/incidents/{incident.id}/handover/", {"to_user": people.commander.id}
    )
    assert response.status_code == 409 and response.json()["code"] == "already_commander"


def test_handover_without_a_user_is_400(api_as, people, incident):
    response = api_as(people.manager).post(f"/incidents/{incident.id}/handover/", {})
    assert response.status_code == 400 and error_fields(response) == {"to_user"}


def test_handover_is_refused_to_an_uninvolved_responder(api_as, people, incident):
    response = api_as(people.outsider).post(
        f"/incidents/{incident.id}/handover/", {"to_user": people.outsider.id}
    )
    assert response.status_code == 403


# --- Join and acknowledge -----------------------------------------------------


def test_join_makes_a_responder_take_part(api_as, people, incident):
    response = api_as(people.outsider).post(f"/incidents/{incident.id}/join/")
    assert response.status_code == 200
    assert people.outsider.id in {p["user"]["id"] for p in response.json()["participants"]}
    again = api_as(people.outsider).post(f"/incidents/{incident.id}/join/")
    assert again.status_code == 200
    assert incident.timeline.filter(kind="participant_added").count() == 1


def test_join_an_unknown_incident_is_404(api_as, people):
    assert api_as(people.outsider).post("/incidents/424242/join/").status_code == 404


def test_acknowledge_stamps_once(api_as, people, incident):
    response = api_as(people.commander).post(f"/incidents/{incident.id}/acknowledge/")
    assert response.status_code == 200
    first = response.json()["acknowledged_at"]
    assert first is not None
    again = api_as(people.manager).post(f"/incidents/{incident.id}/acknowledge/")
    assert again.json()["acknowledged_at"] == first


def test_acknowledge_is_refused_to_an_uninvolved_responder(api_as, people, incident):
    assert api_as(people.outsider).post(f"/incidents/{incident.id}/acknowledge/").status_code == 403


def test_acknowledge_an_unknown_incident_is_404(api_as, people):
    assert api_as(people.manager).post("/incidents/424242/acknowledge/").status_code == 404


# --- Merge and links ----------------------------------------------------------


def test_merge_into_another_open_incident(api_as, people, incident):
    survivor = declare(people.manager, title="The main wave")
    response = api_as(people.manager).post(
        f"/incidents/{incident.id}/merge/", {"into": survivor.id, "reason": "Same campaign"}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["state"] == "merged"
    assert body["duplicate_of"] == {"id": survivor.id, "reference": survivor.reference}
    assert TimelineEvent.objects.filter(incident=survivor, kind="merged").exists()


@pytest.mark.parametrize("into", ["self", 999999, None])
def test_merge_refuses_bad_targets(api_as, people, incident, into):
    payload = {"into": incident.id if into == "self" else into}
    response = api_as(people.manager).post(f"/incidents/{incident.id}/merge/", payload)
    assert response.status_code == 400 and error_fields(response) == {"into"}


def test_merge_is_refused_to_a_member_who_does_not_command(api_as, people, incident):
    survivor = declare(people.outsider, title="The main wave")
    api_as(people.outsider).post(f"/incidents/{incident.id}/join/")
    response = api_as(people.outsider).post(
        f"/incidents/{incident.id}/merge/", {"into": survivor.id}
    )
    assert response.status_code == 403


def test_link_as_parent(api_as, people, incident):
    parent = declare(people.manager, title="Umbrella incident")
    response = api_as(people.commander).post(
        f"/incidents/{incident.id}/links/", {"other": parent.id, "relation": "parent"}
    )
    assert response.status_code == 200, response.content
    assert response.json()["parent"] == {"id": parent.id, "reference": parent.reference}


def test_a_link_cycle_is_409(api_as, people, incident):
    child = declare(people.manager, title="Child")
    api = api_as(people.manager)
    assert (
        api.post(
            f"/incidents/{child.id}/links/", {"other": incident.id, "relation": "parent"}
        ).status_code
        == 200
    )
    response = api.post(
        f"/incidents/{incident.id}/links/", {"other": child.id, "relation": "parent"}
    )
    assert response.status_code == 409 and response.json()["code"] == "link_cycle"


@pytest.mark.parametrize(("relation", "field"), [("sibling", "relation"), ("related", "other")])
def test_link_refuses_bad_input(api_as, people, incident, relation, field):
    response = api_as(people.manager).post(
        f"/incidents/{incident.id}/links/", {"other": 999999, "relation": relation}
    )
    assert response.status_code == 400 and field in error_fields(response)


def test_link_is_refused_to_an_uninvolved_responder(api_as, people, incident):
    other = declare(people.manager, title="Other")
    response = api_as(people.outsider).post(
        f"/incidents/{incident.id}/links/", {"other": other.id, "relation": "related"}
    )
    assert response.status_code == 403


def test_roles_are_unchanged_after_refusals(api_as, people, incident):
    api_as(people.executive).post(
        f"/incidents/{incident.id}/roles/", {"role": "scribe", "user": people.outsider.id}
    )
    assert not incident.role_assignments.filter(role=IncidentRole.SCRIBE).exists()
