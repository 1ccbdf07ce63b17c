"""Who may do what to an incident: one table over roles and permissions,
checked both as django-rules permissions and through the services."""

import pytest

from incidents import selectors
from incidents.exceptions import NotAllowed
from incidents.models import Incident, IncidentRole
from incidents.services import (
    incident_add_note,
    incident_assign_role,
    incident_confirm_severity,
    incident_hand_over_command,
    incident_join,
    report_save_draft,
)
from tests.factories import TeamFactory
from tests.incidents.factories import declare
from tests.incidents.services.support import fresh, report
from tscc.roles import Role

pytestmark = pytest.mark.django_db

PERMS = ("view", "declare", "join", "act", "command", "manage_reports")

# subject: the permissions it holds on the incident (everything else is refused)
TABLE = {
    "ops_manager": {"view", "declare", "join", "act", "command", "manage_reports"},
    "admin": {"view", "declare", "join", "act", "command", "manage_reports"},
    "superuser": {"view", "declare", "join", "act", "command", "manage_reports"},
    "responder_member": {"view", "declare", "join", "act"},
    "responder_declarer": {"view", "declare", "join", "act"},
    "responder_on_owning_team": {"view", "declare", "join", "act"},
    "responder_non_member": {"view", "declare", "join"},
    "responder_commander": {"view", "declare", "join", "act", "command"},
    "responder_deputy": {"view", "declare", "join", "act", "command"},
    "responder_liaison": {"view", "declare", "join", "act", "manage_reports"},
    "responder_former_commander": {"view", "declare", "join", "act"},
    "executive": {"view"},
    "bpo_lead": set(),
    "inactive_ops_manager": set(),
}
CASES = [(subject, perm, perm in allowed) for subject, allowed in TABLE.items() for perm in PERMS]


@pytest.fixture
def world(make_user):
    """One incident owned by a team, with someone in every position."""
    team = TeamFactory()
    manager = make_user(Role.OPS_MANAGER)
    people = {
        "ops_manager": manager,
        "admin": make_user(Role.ADMIN),
        "superuser": make_user(Role.RESPONDER, is_superuser=True),
        "responder_member": make_user(Role.RESPONDER),
        "responder_declarer": make_user(Role.RESPONDER),
        "responder_on_owning_team": make_user(Role.RESPONDER),
        "responder_non_member": make_user(Role.RESPONDER),
        "responder_commander": make_user(Role.RESPONDER),
        "responder_deputy": make_user(Role.RESPONDER),
        "responder_liaison": make_user(Role.RESPONDER),
        "responder_former_commander": make_user(Role.RESPONDER),
        "executive": make_user(Role.EXECUTIVE),
        "bpo_lead": make_user(Role.BPO_LEAD),
        "inactive_ops_manager": make_user(Role.OPS_MANAGER, is_active=False),
    }
    people["responder_on_owning_team"].teams.add(team)
    incident = declare(
        people["responder_declarer"],
        team=team,
        commander=people["responder_former_commander"],
        involves_personal_info=True,
    )
    incident_hand_over_command(
        actor=manager, incident_id=incident.id, to_user=people["responder_commander"]
    )
    incident_join(actor=people["responder_member"], incident_id=incident.id)
    for role, who in (
        (IncidentRole.DEPUTY, "responder_deputy"),
        (IncidentRole.REGULATORY_LIAISON, "responder_liaison"),
    ):
        incident_assign_role(actor=manager, incident_id=incident.id, role=role, user=people[who])
    return people, fresh(incident)


@pytest.mark.parametrize(("subject", "perm", "allowed"), CASES)
def test_permission_table(world, subject, perm, allowed):
    people, incident = world
    user = people[subject]
    if perm == "view":
        visible = selectors.incident_visible_to(user).filter(id=incident.id).exists()
        assert visible is allowed
        assert user.has_perm("incidents.view_incident", incident) is allowed
    elif perm == "declare":
        assert user.has_perm("incidents.declare") is allowed
    else:
        assert user.has_perm(f"incidents.{perm}", fresh(incident)) is allowed


def _declare(user, incident):
    declare(user)


def _view(user, incident):
    selectors.incident_get_for_detail(viewer=user, incident_id=incident.id)


def _join(user, incident):
    incident_join(actor=user, incident_id=incident.id)


def _act(user, incident):
    incident_add_note(actor=user, incident_id=incident.id, text="Seen it")


def _command(user, incident):
    incident_confirm_severity(actor=user, incident_id=incident.id)


def _manage_reports(user, incident):
    notice = report(incident, "pipl-authority-notice")
    report_save_draft(actor=user, report_id=notice.id, content_zh="报告")


SERVICE = {
    "view": (_view, Incident.DoesNotExist),
    "declare": (_declare, NotAllowed),
    "join": (_join, NotAllowed),
    "act": (_act, NotAllowed),
    "command": (_command, NotAllowed),
    "manage_reports": (_manage_reports, NotAllowed),
}


@pytest.mark.parametrize(("subject", "perm", "allowed"), CASES)
def test_the_services_apply_the_table(world, subject, perm, allowed):
    people, incident = world
    call, refusal = SERVICE[perm]
    if allowed:
        call(people[subject], incident)
    else:
        with pytest.raises(refusal):
            call(people[subject], incident)


def test_the_triage_list_follows_visibility(world):
    people, incident = world
    for subject, allowed in TABLE.items():
        count = selectors.open_incident_count(viewer=people[subject])
        assert count == (1 if "view" in allowed else 0), subject
