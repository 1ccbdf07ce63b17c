import pytest

from incidents.domain.severity import ImpactAnswers, Severity
from incidents.models import IncidentRole, TimelineEvent
from incidents.services import (
    incident_assess_severity,
    incident_hand_over_command,
    incident_transition,
    status_update_publish,
)
from tests.incidents.factories import declare
from tscc.roles import Role

pytestmark = pytest.mark.django_db


def test_declare_run_and_resolve(make_user, django_capture_on_commit_callbacks):
    manager = make_user(Role.OPS_MANAGER)
    responder = make_user(Role.RESPONDER)
    with django_capture_on_commit_callbacks(execute=True):
        incident = declare(manager, commander=responder)
    assert incident.reference.startswith(f"INC-{incident.year}-0000")
    assert incident.severity == Severity.SEV2
    incident_assess_severity(
        actor=responder, incident_id=incident.id, answers=ImpactAnswers(user_harm=3)
    )
    incident_hand_over_command(
        actor=responder, incident_id=incident.id, to_user=manager, note="shift end"
    )
    status_update_publish(
        actor=manager, incident_id=incident.id, audience="executives", text_en="x", text_zh="中"
    )
    incident_transition(actor=manager, incident_id=incident.id, target="investigating")
    incident_transition(actor=manager, incident_id=incident.id, target="resolved")
    kinds = list(TimelineEvent.objects.filter(incident=incident).values_list("seq", "kind"))
    assert [s for s, _ in kinds] == list(range(1, len(kinds) + 1))
    assert ("declared" in [k for _, k in kinds]) and kinds[-1][1] == "state_changed"
    incident.refresh_from_db()
    assert incident.resolved_at and incident.acknowledged_at and incident.mitigated_at
    assert (
        incident.role_assignments.get(role=IncidentRole.COMMANDER, released_at__isnull=True).user
        == manager
    )
