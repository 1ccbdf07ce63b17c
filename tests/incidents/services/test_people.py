import pytest
from django.db import IntegrityError, transaction

from incidents.exceptions import Conflict, InvalidInput, NotAllowed
from incidents.models import IncidentRole, IncidentTimer, Participant, RoleAssignment
from incidents.services import (
    incident_add_note,
    incident_assign_role,
    incident_hand_over_command,
    incident_join,
    incident_release_role,
    incident_transition,
)
from incidents.signals import incident_commander_changed
from tests.incidents.factories import declare
from tests.incidents.services.support import events, fresh, last_event, last_seq, timers, walk
from tscc.roles import Role

pytestmark = pytest.mark.django_db

Kind = IncidentTimer.Kind


def active(incident, role=None) -> dict[str, int]:
    qs = RoleAssignment.objects.filter(incident=incident, released_at__isnull=True)
    if role:
        qs = qs.filter(role=role)
    return dict(qs.values_list("role", "user_id"))


def participants(incident) -> set[int]:
    return set(Participant.objects.filter(incident=incident).values_list("user_id", flat=True))


# --- one commander ------------------------------------------------------------------


def test_the_database_allows_one_active_holder_per_role(cast, staffed):
    incident = staffed()
    with pytest.raises(IntegrityError), transaction.atomic():
        RoleAssignment.objects.create(
            incident=incident, role=IncidentRole.COMMANDER, user=cast.member
        )
    # A released assignment does not count.
    RoleAssignment.objects.filter(incident=incident, role=IncidentRole.COMMANDER).update(
        released_at=incident.declared_at
    )
    RoleAssignment.objects.create(incident=incident, role=IncidentRole.COMMANDER, user=cast.member)
    assert active(incident, IncidentRole.COMMANDER) == {"commander": cast.member.id}


def test_assigning_a_second_commander_is_a_conflict(cast, staffed):
    incident = staffed()
    seq = last_seq(incident)
    with pytest.raises(Conflict) as refused:
        incident_assign_role(
            actor=cast.manager, incident_id=incident.id, role="commander", user=cast.member
        )
    assert refused.value.code == "commander_taken"
    assert active(incident, IncidentRole.COMMANDER) == {"commander": cast.commander.id}
    assert last_seq(incident) == seq


def test_taking_a_vacant_command_cancels_the_nudge(
    cast, pushes, django_capture_on_commit_callbacks
):
    incident = declare(cast.member)
    assert Kind.NO_COMMANDER in timers(incident)
    received = []

    def receiver(sender, **kwargs):
        received.append((kwargs["incident_id"], kwargs["user_id"]))

    incident_commander_changed.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            incident_assign_role(
                actor=cast.member, incident_id=incident.id, role="commander", user=cast.commander
            )
            assert received == []
    finally:
        incident_commander_changed.disconnect(receiver)

    assert received == [(incident.id, cast.commander.id)]
    assert Kind.NO_COMMANDER not in timers(incident)
    assert Kind.NO_COMMANDER in timers(incident, IncidentTimer.State.CANCELLED)
    assert active(incident) == {"commander": cast.commander.id}
    assert cast.commander.id in participants(incident)
    added, assigned = events(incident, "participant_added")[-1], last_event(incident)
    assert added.data["user"] == cast.commander.id
    assert assigned.kind == "role_assigned"
    assert assigned.data == {
        "role": "commander",
        "user": cast.commander.id,
        "name": str(cast.commander),
        "replaces": None,
    }


# --- handover -----------------------------------------------------------------------


def test_handover_is_an_explicit_recorded_act(
    cast, staffed, pushes, django_capture_on_commit_callbacks
):
    incident = staffed()
    before = RoleAssignment.objects.get(
        incident=incident, role=IncidentRole.COMMANDER, released_at__isnull=True
    )
    received = []

    def receiver(sender, **kwargs):
        received.append(kwargs["user_id"])

    incident_commander_changed.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            new = incident_hand_over_command(
                actor=cast.commander, incident_id=incident.id, to_user=cast.member, note="Shift end"
            )
    finally:
        incident_commander_changed.disconnect(receiver)

    before.refresh_from_db()
    assert before.released_at is not None
    assert (new.role, new.user, new.assigned_by, new.released_at) == (
        "commander",
        cast.member,
        cast.commander,
        None,
    )
    assert new.assigned_at >= before.released_at
    assert active(incident, IncidentRole.COMMANDER) == {"commander": cast.member.id}
    handed = last_event(incident)
    assert handed.kind == "command_handed_over"
    assert handed.actor == cast.commander
    assert handed.text == "Shift end"
    assert handed.data == {
        "from": cast.commander.id,
        "from_name": str(cast.commander),
        "to": cast.member.id,
        "to_name": str(cast.member),
    }
    assert received == [cast.member.id]
    assert pushes.seqs(incident.id)[-1] == handed.seq
    # The previous commander keeps taking part; the new one now commands.
    incident_add_note(actor=cast.commander, incident_id=incident.id, text="Still here")
    assert cast.member.has_perm("incidents.command", incident)
    assert not cast.commander.has_perm("incidents.command", incident)


def test_taking_command_when_there_is_none_cancels_the_nudge(cast):
    incident = declare(cast.member)
    incident_hand_over_command(actor=cast.member, incident_id=incident.id, to_user=cast.member)
    handed = last_event(incident)
    assert handed.data["from"] is None
    assert handed.data["to"] == cast.member.id
    assert Kind.NO_COMMANDER not in timers(incident)
    assert active(incident) == {"commander": cast.member.id}


def test_an_outsider_cannot_take_vacant_command(cast):
    incident = declare(cast.member)
    with pytest.raises(NotAllowed):
        incident_hand_over_command(
            actor=cast.outsider, incident_id=incident.id, to_user=cast.outsider
        )
    assert Kind.NO_COMMANDER in timers(incident)


@pytest.mark.parametrize(
    ("who", "allowed"),
    [
        ("commander", True),
        ("deputy", True),
        ("manager", True),
        ("admin", True),
        ("member", False),
        ("liaison", False),
        ("outsider", False),
        ("executive", False),
        ("bpo_lead", False),
    ],
)
def test_who_may_hand_over_command(cast, staffed, make_user, who, allowed):
    incident = staffed()
    to_user = make_user(Role.RESPONDER)
    actor = getattr(cast, who)
    if allowed:
        incident_hand_over_command(actor=actor, incident_id=incident.id, to_user=to_user)
        assert active(incident, IncidentRole.COMMANDER) == {"commander": to_user.id}
        assert last_event(incident).actor == actor
    else:
        seq = last_seq(incident)
        with pytest.raises(NotAllowed):
            incident_hand_over_command(actor=actor, incident_id=incident.id, to_user=to_user)
        assert active(incident, IncidentRole.COMMANDER) == {"commander": cast.commander.id}
        assert last_seq(incident) == seq


def test_handing_over_to_the_commander_is_a_conflict(cast, staffed):
    incident = staffed()
    with pytest.raises(Conflict) as refused:
        incident_hand_over_command(
            actor=cast.manager, incident_id=incident.id, to_user=cast.commander
        )
    assert refused.value.code == "already_commander"


def test_a_deputy_who_takes_command_stops_being_deputy(cast, staffed):
    incident = staffed()
    incident_hand_over_command(actor=cast.commander, incident_id=incident.id, to_user=cast.deputy)
    roles = active(incident)
    assert roles["commander"] == cast.deputy.id
    assert "deputy" not in roles
    assert RoleAssignment.objects.get(incident=incident, role="deputy").released_at is not None


@pytest.mark.parametrize("role", [Role.EXECUTIVE, Role.BPO_LEAD])
def test_executives_and_bpo_leads_cannot_hold_roles(cast, staffed, make_user, role):
    incident = staffed()
    user = make_user(role)
    with pytest.raises(InvalidInput) as refused:
        incident_hand_over_command(actor=cast.manager, incident_id=incident.id, to_user=user)
    assert "user" in refused.value.fields
    for incident_role in IncidentRole.values:
        with pytest.raises((InvalidInput, Conflict)):
            incident_assign_role(
                actor=cast.manager, incident_id=incident.id, role=incident_role, user=user
            )
    assert user.id not in active(incident).values()
    assert user.id not in participants(incident)


def test_an_inactive_user_cannot_hold_a_role(cast, staffed, make_user):
    incident = staffed()
    gone = make_user(Role.RESPONDER, is_active=False)
    with pytest.raises(InvalidInput):
        incident_assign_role(actor=cast.manager, incident_id=incident.id, role="scribe", user=gone)


# --- other roles ----------------------------------------------------------------------


def test_assigning_a_role_makes_the_holder_take_part(cast, staffed, make_user):
    incident = staffed()
    scribe = make_user(Role.RESPONDER)
    assert not scribe.has_perm("incidents.act", incident)

    assignment = incident_assign_role(
        actor=cast.member, incident_id=incident.id, role="scribe", user=scribe
    )
    assert (assignment.role, assignment.user, assignment.assigned_by) == (
        "scribe",
        scribe,
        cast.member,
    )
    assert scribe.id in participants(incident)
    assert scribe.has_perm("incidents.act", fresh(incident))  # members are cached per instance
    assert [e.kind for e in events(incident, "participant_added")][-1] == "participant_added"
    assert last_event(incident).data["role"] == "scribe"


def test_giving_a_held_role_to_someone_else_releases_it(cast, staffed, make_user):
    incident = staffed()
    other = make_user(Role.RESPONDER)
    incident_assign_role(actor=cast.member, incident_id=incident.id, role="deputy", user=other)
    assert active(incident)["deputy"] == other.id
    assert last_event(incident).data["replaces"] == cast.deputy.id
    assert RoleAssignment.objects.filter(incident=incident, role="deputy").count() == 2


def test_giving_a_role_to_its_holder_changes_nothing(cast, staffed):
    incident = staffed()
    seq = last_seq(incident)
    incident_assign_role(
        actor=cast.member, incident_id=incident.id, role="deputy", user=cast.deputy
    )
    assert last_seq(incident) == seq
    assert RoleAssignment.objects.filter(incident=incident, role="deputy").count() == 1


def test_an_unknown_role_is_invalid_input(cast, staffed):
    incident = staffed()
    with pytest.raises(InvalidInput) as refused:
        incident_assign_role(
            actor=cast.manager, incident_id=incident.id, role="mascot", user=cast.member
        )
    assert "role" in refused.value.fields


def test_an_outsider_cannot_assign_roles(cast, staffed):
    incident = staffed()
    with pytest.raises(NotAllowed):
        incident_assign_role(
            actor=cast.outsider, incident_id=incident.id, role="scribe", user=cast.outsider
        )


def test_releasing_a_role_is_recorded(cast, staffed):
    incident = staffed()
    incident_release_role(actor=cast.member, incident_id=incident.id, role="regulatory_liaison")
    assert "regulatory_liaison" not in active(incident)
    released = last_event(incident)
    assert released.kind == "role_released"
    assert released.data == {
        "role": "regulatory_liaison",
        "user": cast.liaison.id,
        "name": str(cast.liaison),
    }
    seq = last_seq(incident)
    incident_release_role(actor=cast.member, incident_id=incident.id, role="regulatory_liaison")
    assert last_seq(incident) == seq


def test_an_open_incident_keeps_its_commander(cast, staffed):
    incident = staffed()
    with pytest.raises(NotAllowed):
        incident_release_role(actor=cast.member, incident_id=incident.id, role="commander")
    with pytest.raises(Conflict) as refused:
        incident_release_role(actor=cast.commander, incident_id=incident.id, role="commander")
    assert refused.value.code == "commander_required"

    walk(incident, cast.commander, "resolved")
    incident_release_role(actor=cast.commander, incident_id=incident.id, role="commander")
    assert "commander" not in active(incident)


# --- joining -------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.RESPONDER, Role.OPS_MANAGER, Role.ADMIN])
def test_operations_people_may_join_once(cast, staffed, make_user, role):
    incident = staffed()
    user = make_user(role)
    assert incident_join(actor=user, incident_id=incident.id) is True
    joined = last_event(incident)
    assert (joined.kind, joined.actor, joined.data["user"]) == ("participant_added", user, user.id)
    seq = last_seq(incident)
    assert incident_join(actor=user, incident_id=incident.id) is False
    assert last_seq(incident) == seq
    assert user.id in participants(incident)


@pytest.mark.parametrize("role", [Role.EXECUTIVE, Role.BPO_LEAD])
def test_readers_cannot_join(staffed, make_user, role):
    incident = staffed()
    with pytest.raises(NotAllowed):
        incident_join(actor=make_user(role), incident_id=incident.id)


def test_joining_lets_a_responder_act(cast, staffed):
    incident = staffed()
    with pytest.raises(NotAllowed):
        incident_transition(actor=cast.outsider, incident_id=incident.id, target="investigating")
    incident_join(actor=cast.outsider, incident_id=incident.id)
    incident_transition(actor=cast.outsider, incident_id=incident.id, target="investigating")
