from datetime import timedelta

import pytest

from incidents.domain.lifecycle import State
from incidents.domain.severity import Severity
from incidents.exceptions import Conflict, InvalidInput, NotAllowed
from incidents.models import Incident, IncidentTimer, RegulatoryReport, Review
from incidents.services import (
    incident_acknowledge,
    incident_grade,
    incident_link,
    incident_merge,
    incident_transition,
    review_save,
    review_set_state,
)
from incidents.signals import incident_state_changed
from tests.incidents.factories import declare
from tests.incidents.services.support import (
    ANSWERS,
    criterion,
    events,
    fresh,
    last_event,
    last_seq,
    report,
    timers,
    walk,
)

pytestmark = pytest.mark.django_db

Kind = IncidentTimer.Kind
OK = "ok"

# (path from triage, target, reason, who, outcome): outcome is OK, an
# exception class, or a Conflict code.
TRANSITIONS = [
    ((), "investigating", "", "member", OK),
    ((), "investigating", "", "commander", OK),
    ((), "investigating", "", "manager", OK),
    ((), "investigating", "", "admin", OK),
    ((), "investigating", "", "outsider", NotAllowed),
    ((), "investigating", "", "executive", NotAllowed),
    ((), "investigating", "", "bpo_lead", NotAllowed),
    ((), "mitigating", "", "member", OK),
    ((), "resolved", "", "member", OK),
    ((), "monitoring", "", "member", "transition_not_allowed"),
    ((), "closed", "", "commander", "transition_not_allowed"),
    ((), "triage", "", "member", "transition_same_state"),
    ((), "merged", "dup", "commander", "transition_merge_only"),
    # cancel: command and a reason
    ((), "cancelled", "false alarm", "member", NotAllowed),
    ((), "cancelled", "false alarm", "outsider", NotAllowed),
    ((), "cancelled", "  ", "commander", "transition_reason_required"),
    ((), "cancelled", "false alarm", "commander", OK),
    ((), "cancelled", "false alarm", "deputy", OK),
    ((), "cancelled", "false alarm", "manager", OK),
    (("investigating",), "cancelled", "", "manager", "transition_reason_required"),
    (("investigating",), "cancelled", "false alarm", "commander", OK),
    (("mitigating",), "cancelled", "false alarm", "commander", "transition_not_allowed"),
    # steps back while live need no command
    (("mitigating",), "investigating", "", "member", OK),
    (("investigating", "monitoring"), "mitigating", "", "member", OK),
    # close: command
    (("resolved",), "closed", "", "member", NotAllowed),
    (("resolved",), "closed", "", "commander", OK),
    (("resolved",), "closed", "", "manager", OK),
    # reopen: command and a reason
    (("resolved",), "investigating", "back", "member", NotAllowed),
    (("resolved",), "investigating", "", "commander", "transition_reason_required"),
    (("resolved",), "investigating", "it came back", "commander", OK),
    (("resolved",), "triage", "it came back", "commander", "transition_not_allowed"),
    (("resolved", "closed"), "investigating", "it came back", "member", NotAllowed),
    (("resolved", "closed"), "investigating", "", "manager", "transition_reason_required"),
    (("resolved", "closed"), "investigating", "it came back", "deputy", OK),
    # out of cancelled: command and a reason
    (("cancelled",), "triage", "not a false alarm", "member", NotAllowed),
    (("cancelled",), "triage", "", "commander", "transition_reason_required"),
    (("cancelled",), "triage", "not a false alarm", "commander", OK),
    (("cancelled",), "investigating", "x", "commander", "transition_not_allowed"),
]


@pytest.mark.parametrize(("path", "target", "reason", "who", "outcome"), TRANSITIONS)
def test_transition_rules(cast, staffed, path, target, reason, who, outcome):
    incident = walk(staffed(), cast.manager, *path)
    before_state, before_seq = incident.state, last_seq(incident)
    actor = getattr(cast, who)

    if outcome == OK:
        incident_transition(actor=actor, incident_id=incident.id, target=target, reason=reason)
        incident = fresh(incident)
        assert incident.state == target
        changed = events(incident, "state_changed")[-1]
        assert changed.seq == before_seq + 1
        assert changed.actor == actor
        assert changed.data["from"] == before_state
        assert changed.data["to"] == target
        assert changed.text == reason.strip()
        return

    expected = outcome if isinstance(outcome, type) else Conflict
    with pytest.raises(expected) as refused:
        incident_transition(actor=actor, incident_id=incident.id, target=target, reason=reason)
    if isinstance(outcome, str):
        assert refused.value.code == outcome
        assert str(refused.value.message)
    assert fresh(incident).state == before_state
    assert last_seq(incident) == before_seq


def test_an_unknown_state_is_invalid_input(cast, staffed):
    incident = staffed()
    with pytest.raises(InvalidInput) as refused:
        incident_transition(actor=cast.manager, incident_id=incident.id, target="bogus")
    assert "target" in refused.value.fields


# --- SEV0/SEV1 close --------------------------------------------------------------


@pytest.mark.parametrize("severity", [Severity.SEV0, Severity.SEV1])
def test_a_high_severity_incident_closes_only_after_its_review_is_published(
    cast, staffed, severity
):
    incident = walk(staffed(answers=ANSWERS[severity]), cast.manager, "resolved")
    with pytest.raises(Conflict) as refused:
        incident_transition(actor=cast.commander, incident_id=incident.id, target="closed")
    assert refused.value.code == "transition_review_required"

    review_save(
        actor=cast.member,
        incident_id=incident.id,
        summary="Scam links reached the hot list",
        impact="2 hours, 40k users",
        root_cause="Classifier threshold drifted",
    )
    review_set_state(actor=cast.member, incident_id=incident.id, state="in_review")
    with pytest.raises(Conflict) as refused:
        incident_transition(actor=cast.commander, incident_id=incident.id, target="closed")
    assert refused.value.code == "transition_review_required"

    review_set_state(actor=cast.commander, incident_id=incident.id, state="published")
    incident_transition(actor=cast.commander, incident_id=incident.id, target="closed")
    assert fresh(incident).state == State.CLOSED


@pytest.mark.parametrize("severity", [Severity.SEV0, Severity.SEV1])
def test_a_close_waiver_lets_a_high_severity_incident_close(cast, staffed, severity):
    incident = walk(staffed(answers=ANSWERS[severity]), cast.manager, "resolved")
    with pytest.raises(NotAllowed):
        review_save(actor=cast.member, incident_id=incident.id, close_waiver="Review next quarter")
    with pytest.raises(Conflict):
        incident_transition(actor=cast.commander, incident_id=incident.id, target="closed")

    review_save(
        actor=cast.commander, incident_id=incident.id, close_waiver="Joint review with vendor"
    )
    assert Review.objects.get(incident=incident).state == Review.State.DRAFT
    incident_transition(actor=cast.commander, incident_id=incident.id, target="closed")
    assert fresh(incident).state == State.CLOSED


@pytest.mark.parametrize("severity", [Severity.SEV2, Severity.SEV3, Severity.SEV4])
def test_lower_severities_close_without_a_review(cast, staffed, severity):
    incident = walk(staffed(answers=ANSWERS[severity]), cast.manager, "resolved")
    incident_transition(actor=cast.commander, incident_id=incident.id, target="closed")
    assert fresh(incident).state == State.CLOSED
    assert not Review.objects.filter(incident=incident).exists()


# --- stamps ---------------------------------------------------------------------


def test_times_are_stamped_once_and_reopen_clears_resolution(cast, staffed):
    incident = staffed()
    stamps = ("acknowledged_at", "mitigated_at", "resolved_at", "closed_at", "handling_ended_at")

    def times():
        i = fresh(incident)
        return {name: getattr(i, name) for name in stamps}

    assert set(times().values()) == {None}

    incident = walk(incident, cast.member, "investigating")
    acknowledged = incident.acknowledged_at
    assert acknowledged is not None
    assert (incident.mitigated_at, incident.resolved_at) == (None, None)

    incident = walk(incident, cast.member, "mitigating", "monitoring")
    mitigated = incident.mitigated_at
    assert mitigated is not None and mitigated >= acknowledged
    assert incident.acknowledged_at == acknowledged

    incident = walk(incident, cast.member, "investigating", "monitoring", "resolved")
    assert (incident.acknowledged_at, incident.mitigated_at) == (acknowledged, mitigated)
    resolved = incident.resolved_at
    assert resolved is not None and resolved >= mitigated
    assert incident.handling_ended_at == resolved

    incident = walk(incident, cast.commander, "closed")
    closed = incident.closed_at
    assert closed is not None and closed >= resolved
    assert incident.resolved_at == resolved

    incident = walk(incident, cast.commander, "investigating")  # reopen
    assert (incident.resolved_at, incident.closed_at, incident.handling_ended_at) == (
        None,
        None,
        None,
    )
    assert (incident.acknowledged_at, incident.mitigated_at) == (acknowledged, mitigated)
    (reopened,) = [e for e in events(incident, "state_changed") if e.data["reopen"]]
    assert (reopened.data["from"], reopened.data["to"]) == ("closed", "investigating")

    incident = walk(incident, cast.member, "resolved")
    assert incident.resolved_at > resolved
    assert incident.handling_ended_at == incident.resolved_at
    assert (incident.acknowledged_at, incident.mitigated_at) == (acknowledged, mitigated)


def test_resolving_straight_from_triage_stamps_every_step_at_once(cast, staffed):
    incident = walk(staffed(), cast.member, "resolved")
    assert incident.acknowledged_at == incident.mitigated_at == incident.resolved_at
    assert incident.resolved_at is not None


def test_acknowledge_stamps_once_without_changing_state(cast, staffed):
    incident = staffed()
    with pytest.raises(NotAllowed):
        incident_acknowledge(actor=cast.outsider, incident_id=incident.id)

    incident_acknowledge(actor=cast.member, incident_id=incident.id)
    first = fresh(incident)
    assert first.acknowledged_at is not None
    assert first.state == State.TRIAGE
    seq = last_seq(incident)
    assert last_event(incident).kind == "acknowledged"

    incident_acknowledge(actor=cast.commander, incident_id=incident.id)
    assert fresh(incident).acknowledged_at == first.acknowledged_at
    assert last_seq(incident) == seq

    incident = walk(incident, cast.member, "investigating")
    assert incident.acknowledged_at == first.acknowledged_at


# --- clocks and owed reports on the way ------------------------------------------


def test_resolving_starts_the_30_day_summary_clock_of_a_graded_incident(cast, staffed):
    incident = staffed(answers=ANSWERS[Severity.SEV2])
    incident_grade(
        actor=cast.liaison,
        incident_id=incident.id,
        in_scope=True,
        met={criterion("relatively_major").id: "1.2 million accounts exposed"},
        rationale="Personal information of over a million people",
    )
    summary = report(incident, "cac-summary")
    assert summary.kind == RegulatoryReport.Kind.SUMMARY
    assert summary.due_at is None

    incident = walk(incident, cast.member, "investigating", "resolved")
    assert incident.handling_ended_at == incident.resolved_at
    assert report(incident, "cac-summary").due_at == incident.handling_ended_at + timedelta(days=30)

    incident = walk(incident, cast.commander, "investigating")  # reopen: handling goes on
    assert incident.handling_ended_at is None
    assert report(incident, "cac-summary").due_at is None

    incident = walk(incident, cast.member, "resolved")
    assert report(incident, "cac-summary").due_at == incident.handling_ended_at + timedelta(days=30)


def test_done_states_stop_the_nudges_and_reopen_rearms_the_update_clock(cast, make_user):
    incident = declare(make_user(), answers=ANSWERS[Severity.SEV1])  # a responder, no commander
    assert set(timers(incident)) == {
        Kind.NO_COMMANDER,
        Kind.SEVERITY_UNCONFIRMED,
        Kind.GRADING_DUE,
        Kind.UPDATE_DUE,
    }

    incident = walk(incident, cast.manager, "resolved")
    assert timers(incident) == {}
    assert incident.next_update_due_at is None

    incident = walk(incident, cast.manager, "investigating")
    (reopened,) = [e for e in events(incident, "state_changed") if e.data["reopen"]]
    # Due one SEV1 cadence (60 min) after the reopen.
    lead = incident.next_update_due_at - reopened.recorded_at
    assert timedelta(minutes=59) < lead <= timedelta(minutes=60)
    assert timers(incident) == {Kind.UPDATE_DUE: incident.next_update_due_at}


def test_cancelling_stops_the_nudges_and_coming_back_rearms_the_update_clock(cast, staffed):
    incident = staffed(answers=ANSWERS[Severity.SEV2])
    incident = walk(incident, cast.commander, "cancelled")
    assert timers(incident) == {}
    assert incident.next_update_due_at is None

    incident = walk(incident, cast.commander, "triage")
    assert incident.next_update_due_at is not None
    assert timers(incident) == {Kind.UPDATE_DUE: incident.next_update_due_at}


def test_state_changes_are_signalled_after_commit(
    cast, staffed, pushes, django_capture_on_commit_callbacks
):
    incident = staffed()
    received = []

    def receiver(sender, **kwargs):
        received.append((kwargs["incident_id"], kwargs["previous"], kwargs["current"]))

    incident_state_changed.connect(receiver)
    try:
        with django_capture_on_commit_callbacks() as callbacks:
            incident_transition(actor=cast.member, incident_id=incident.id, target="investigating")
            assert received == []
        for callback in callbacks:
            callback()
    finally:
        incident_state_changed.disconnect(receiver)
    assert received == [(incident.id, "triage", "investigating")]
    assert pushes.seqs(incident.id) == [last_seq(incident)]


# --- merge ----------------------------------------------------------------------


def test_merge_records_it_on_both_timelines(cast, staffed):
    duplicate = staffed(title="Scam links again")
    survivor = staffed(title="Scam links trending")
    survivor_seq = last_seq(survivor)

    incident_merge(
        actor=cast.commander, incident_id=duplicate.id, into_id=survivor.id, reason="Same wave"
    )

    duplicate, survivor = fresh(duplicate), fresh(survivor)
    assert duplicate.state == State.MERGED
    assert duplicate.duplicate_of == survivor
    assert list(survivor.duplicates.all()) == [duplicate]
    assert survivor.state == State.TRIAGE
    assert timers(duplicate) == {}
    assert duplicate.next_update_due_at is None

    changed, merged = (events(duplicate, k)[-1] for k in ("state_changed", "merged"))
    assert (changed.data["from"], changed.data["to"]) == ("triage", "merged")
    assert merged.seq > changed.seq
    assert merged.data == {"into": survivor.id, "ref": survivor.reference}
    assert merged.text == "Same wave"
    (other_side,) = events(survivor, "merged")
    assert other_side.data == {"from": duplicate.id, "ref": duplicate.reference}
    assert other_side.seq == survivor_seq + 1
    assert other_side.actor == cast.commander


def test_an_incident_cannot_be_merged_into_itself(cast, staffed):
    incident = staffed()
    with pytest.raises(InvalidInput) as refused:
        incident_merge(actor=cast.manager, incident_id=incident.id, into_id=incident.id)
    assert "into" in refused.value.fields


@pytest.mark.parametrize("target_path", [("resolved",), ("resolved", "closed"), ("cancelled",)])
def test_merge_only_into_an_open_incident(cast, staffed, target_path):
    duplicate = staffed()
    survivor = walk(staffed(), cast.manager, *target_path)
    with pytest.raises(Conflict) as refused:
        incident_merge(actor=cast.manager, incident_id=duplicate.id, into_id=survivor.id)
    assert refused.value.code == "merge_target_closed"
    assert fresh(duplicate).state == State.TRIAGE
    assert fresh(duplicate).duplicate_of is None


def test_a_resolved_incident_cannot_be_merged(cast, staffed):
    duplicate = walk(staffed(), cast.manager, "resolved")
    survivor = staffed()
    with pytest.raises(Conflict) as refused:
        incident_merge(actor=cast.manager, incident_id=duplicate.id, into_id=survivor.id)
    assert refused.value.code == "transition_not_allowed"


def test_merging_needs_command_of_the_duplicate_and_a_part_in_the_survivor(cast, staffed):
    duplicate = staffed()
    survivor = declare(cast.manager)  # the commander takes no part in this one
    for actor in (cast.member, cast.outsider, cast.executive):
        with pytest.raises(NotAllowed):
            incident_merge(actor=actor, incident_id=duplicate.id, into_id=survivor.id)
    with pytest.raises(NotAllowed):
        incident_merge(actor=cast.commander, incident_id=duplicate.id, into_id=survivor.id)
    assert fresh(duplicate).state == State.TRIAGE

    incident_merge(actor=cast.manager, incident_id=duplicate.id, into_id=survivor.id)
    assert fresh(duplicate).state == State.MERGED


def test_a_merged_incident_stays_merged(cast, staffed):
    duplicate, survivor = staffed(), staffed()
    incident_merge(actor=cast.manager, incident_id=duplicate.id, into_id=survivor.id)
    for target, reason in (("triage", "x"), ("investigating", "x"), ("resolved", "")):
        with pytest.raises(Conflict):
            incident_transition(
                actor=cast.manager, incident_id=duplicate.id, target=target, reason=reason
            )


# --- links ----------------------------------------------------------------------


def test_related_links_go_both_ways(cast, staffed):
    first, second = staffed(), staffed()
    incident_link(actor=cast.member, incident_id=first.id, other_id=second.id, relation="related")

    assert list(first.related.all()) == [second]
    assert list(second.related.all()) == [first]
    (mine,) = events(first, "linked")
    (theirs,) = events(second, "linked")
    assert mine.data == {"relation": "related", "other": second.id, "ref": second.reference}
    assert theirs.data == {"relation": "related", "other": first.id, "ref": first.reference}


def test_a_parent_link_is_recorded_on_both_sides(cast, staffed):
    child, parent = staffed(), staffed()
    incident_link(actor=cast.member, incident_id=child.id, other_id=parent.id, relation="parent")

    assert fresh(child).parent == fresh(parent)
    assert list(fresh(parent).children.all()) == [fresh(child)]
    assert events(child, "linked")[0].data["relation"] == "parent"
    assert events(parent, "linked")[0].data == {
        "relation": "child",
        "other": child.id,
        "ref": child.reference,
    }


@pytest.mark.parametrize("depth", [1, 2, 3])
def test_a_parent_cycle_is_refused(cast, staffed, depth):
    chain = [staffed() for _ in range(depth + 1)]
    for child, parent in zip(chain, chain[1:], strict=False):
        incident_link(
            actor=cast.manager, incident_id=child.id, other_id=parent.id, relation="parent"
        )
    top, bottom = chain[-1], chain[0]
    seq = last_seq(top)

    with pytest.raises(Conflict) as refused:
        incident_link(actor=cast.manager, incident_id=top.id, other_id=bottom.id, relation="parent")
    assert refused.value.code == "link_cycle"
    assert fresh(top).parent is None
    assert last_seq(top) == seq


@pytest.mark.parametrize(
    ("same", "relation", "field"),
    [(True, "related", "other"), (False, "sibling", "relation")],
)
def test_bad_links_are_invalid_input(cast, staffed, same, relation, field):
    first, second = staffed(), staffed()
    other = first if same else second
    with pytest.raises(InvalidInput) as refused:
        incident_link(
            actor=cast.manager, incident_id=first.id, other_id=other.id, relation=relation
        )
    assert field in refused.value.fields


def test_linking_needs_a_part_in_the_incident(cast, staffed):
    first, second = staffed(), staffed()
    with pytest.raises(NotAllowed):
        incident_link(
            actor=cast.outsider, incident_id=first.id, other_id=second.id, relation="related"
        )
    assert not Incident.objects.get(id=first.id).related.exists()
