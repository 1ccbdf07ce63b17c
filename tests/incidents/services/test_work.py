from datetime import timedelta

import pytest
from django.utils import timezone

from incidents import selectors
from incidents.domain.severity import Severity
from incidents.exceptions import Conflict, InvalidInput, NotAllowed
from incidents.models import (
    IncidentTask,
    IncidentTimer,
    Market,
    Review,
    StatusUpdate,
    Surface,
    TimelineEvent,
)
from incidents.services import (
    incident_add_note,
    incident_pin_fact,
    incident_record_decision,
    incident_task_claim,
    incident_task_create,
    incident_task_update,
    incident_unpin_fact,
    incident_update_details,
    review_save,
    review_set_state,
    status_update_publish,
)
from incidents.templatetags.incidents import event_sentence
from tests.factories import TeamFactory
from tests.incidents.services.support import (
    ANSWERS,
    fresh,
    last_event,
    last_seq,
    minutes,
    report,
    timers,
    walk,
)

Kind = IncidentTimer.Kind

pytestmark = pytest.mark.django_db


# --- notes -----------------------------------------------------------------------------


def test_a_note_may_record_something_that_happened_earlier(cast, staffed):
    incident = staffed()
    earlier = timezone.now() - timedelta(hours=1)
    note = incident_add_note(
        actor=cast.member, incident_id=incident.id, text="  Hot list cleared  ", occurred_at=earlier
    )
    assert (note.kind, note.actor, note.text) == ("note", cast.member, "Hot list cleared")
    assert note.occurred_at == earlier
    assert note.recorded_at > earlier
    assert note.seq == last_seq(incident)


def test_a_note_without_a_time_happened_now(cast, staffed):
    note = incident_add_note(actor=cast.member, incident_id=staffed().id, text="Now")
    assert note.occurred_at == note.recorded_at


@pytest.mark.parametrize(
    ("text", "occurred_at", "field"),
    [
        ("", None, "text"),
        ("   ", None, "text"),
        ("x" * 20_001, None, "text"),
        ("Later", timedelta(minutes=10), "occurred_at"),
    ],
)
def test_bad_notes_are_refused(cast, staffed, text, occurred_at, field):
    incident = staffed()
    seq = last_seq(incident)
    when = timezone.now() + occurred_at if occurred_at else None
    with pytest.raises(InvalidInput) as refused:
        incident_add_note(actor=cast.member, incident_id=incident.id, text=text, occurred_at=when)
    assert field in refused.value.fields
    assert last_seq(incident) == seq


def test_a_note_may_be_as_long_as_the_limit(cast, staffed):
    note = incident_add_note(actor=cast.member, incident_id=staffed().id, text="x" * 20_000)
    assert len(note.text) == 20_000


@pytest.mark.parametrize("who", ["outsider", "executive", "bpo_lead"])
def test_only_participants_write_notes(cast, staffed, who):
    with pytest.raises(NotAllowed):
        incident_add_note(actor=getattr(cast, who), incident_id=staffed().id, text="hi")


# --- decisions -------------------------------------------------------------------------


def test_a_decision_records_who_what_the_policy_and_why(cast, staffed):
    incident = staffed()
    decision = incident_record_decision(
        actor=cast.commander,
        incident_id=incident.id,
        text="Pull the hashtag from the hot list",
        policy="Hot list policy §4",
        reason="Spreading faster than review",
    )
    assert (decision.kind, decision.actor, decision.text) == (
        "decision",
        cast.commander,
        "Pull the hashtag from the hot list",
    )
    assert decision.data == {
        "policy": "Hot list policy §4",
        "reason": "Spreading faster than review",
    }
    assert list(selectors.incident_decisions(incident=incident)) == [decision]


@pytest.mark.parametrize(
    ("text", "reason", "policy", "field"),
    [
        ("Pull it", "", "", "reason"),
        ("Pull it", "  ", "", "reason"),
        ("", "Because", "", "text"),
        ("Pull it", "Because", "p" * 301, "policy"),
    ],
)
def test_a_decision_needs_its_text_and_reason(cast, staffed, text, reason, policy, field):
    incident = staffed()
    with pytest.raises(InvalidInput) as refused:
        incident_record_decision(
            actor=cast.member, incident_id=incident.id, text=text, reason=reason, policy=policy
        )
    assert field in refused.value.fields
    assert list(selectors.incident_decisions(incident=incident)) == []


# --- key facts -------------------------------------------------------------------------


def key_facts(incident) -> list[int]:
    return [e.id for e in selectors.incident_key_facts(incident=incident)]


def test_pinning_and_unpinning_key_facts(cast, staffed):
    incident = staffed()
    first = incident_add_note(actor=cast.member, incident_id=incident.id, text="40k users")
    second = incident_add_note(actor=cast.member, incident_id=incident.id, text="Vendor site down")

    pin = incident_pin_fact(actor=cast.member, incident_id=incident.id, event_id=first.id)
    assert (pin.kind, pin.refers_to_id, pin.data) == ("fact_pinned", first.id, {"seq": first.seq})
    incident_pin_fact(actor=cast.member, incident_id=incident.id, event_id=second.id)
    assert key_facts(incident) == [first.id, second.id]

    unpin = incident_unpin_fact(actor=cast.member, incident_id=incident.id, event_id=first.id)
    assert (unpin.kind, unpin.refers_to_id) == ("fact_unpinned", first.id)
    assert key_facts(incident) == [second.id]


def test_a_fact_pinned_again_after_unpinning_is_a_key_fact_again(cast, staffed):
    incident = staffed()
    note = incident_add_note(actor=cast.member, incident_id=incident.id, text="40k users")
    incident_pin_fact(actor=cast.member, incident_id=incident.id, event_id=note.id)
    incident_unpin_fact(actor=cast.member, incident_id=incident.id, event_id=note.id)
    assert key_facts(incident) == []
    incident_pin_fact(actor=cast.member, incident_id=incident.id, event_id=note.id)
    assert key_facts(incident) == [note.id]


def test_a_fact_pinned_twice_shows_once(cast, staffed):
    incident = staffed()
    note = incident_add_note(actor=cast.member, incident_id=incident.id, text="40k users")
    incident_pin_fact(actor=cast.member, incident_id=incident.id, event_id=note.id)
    incident_pin_fact(actor=cast.commander, incident_id=incident.id, event_id=note.id)
    assert key_facts(incident) == [note.id]


def test_pinning_new_text_adds_a_note_and_pins_it(cast, staffed):
    incident = staffed()
    pin = incident_pin_fact(actor=cast.member, incident_id=incident.id, text="CAC called at 14:05")
    note = pin.refers_to
    assert (note.kind, note.text, note.seq) == ("note", "CAC called at 14:05", pin.seq - 1)
    assert key_facts(incident) == [note.id]


def test_only_this_incidents_events_can_be_pinned(cast, staffed):
    incident, other = staffed(), staffed()
    elsewhere = incident_add_note(actor=cast.member, incident_id=other.id, text="elsewhere")
    for action in (incident_pin_fact, incident_unpin_fact):
        with pytest.raises(InvalidInput) as refused:
            action(actor=cast.member, incident_id=incident.id, event_id=elsewhere.id)
        assert "event" in refused.value.fields
    with pytest.raises(InvalidInput):
        incident_pin_fact(actor=cast.member, incident_id=incident.id, text="  ")
    assert key_facts(incident) == []


# --- tasks -----------------------------------------------------------------------------


def test_creating_a_task_is_on_the_timeline_and_tells_its_owner(
    cast, staffed, pushes, django_capture_on_commit_callbacks
):
    incident = staffed()
    due = timezone.now() + timedelta(hours=2)
    with django_capture_on_commit_callbacks(execute=True):
        task = incident_task_create(
            actor=cast.commander,
            incident_id=incident.id,
            title="  Block re-uploads  ",
            owner=cast.member,
            due_at=due,
        )
    assert (task.title, task.owner, task.due_at, task.state, task.created_by) == (
        "Block re-uploads",
        cast.member,
        due,
        IncidentTask.State.OPEN,
        cast.commander,
    )
    event = last_event(incident)
    assert event.kind == "task_created"
    assert event.data == {
        "task": task.id,
        "title": "Block re-uploads",
        "owner": cast.member.id,
        "owner_name": str(cast.member),
        "follow_up": False,
    }
    assert pushes.noticed() == [cast.member.id]
    assert "Block re-uploads" in pushes.notices[0][1]


def test_owning_your_own_task_sends_no_notice(
    cast, staffed, pushes, django_capture_on_commit_callbacks
):
    incident = staffed()
    with django_capture_on_commit_callbacks(execute=True):
        incident_task_create(
            actor=cast.member, incident_id=incident.id, title="Mine", owner=cast.member
        )
    assert pushes.notices == []


@pytest.mark.parametrize("title", ["", "   ", "t" * 301])
def test_a_task_needs_a_short_title(cast, staffed, title):
    incident = staffed()
    before = IncidentTask.objects.filter(incident=incident).count()
    with pytest.raises(InvalidInput) as refused:
        incident_task_create(actor=cast.member, incident_id=incident.id, title=title)
    assert "title" in refused.value.fields
    assert IncidentTask.objects.filter(incident=incident).count() == before


def test_updating_a_task_records_what_changed(
    cast, staffed, pushes, django_capture_on_commit_callbacks
):
    incident = staffed()
    task = incident_task_create(
        actor=cast.member, incident_id=incident.id, title="Block re-uploads"
    )
    due = timezone.now() + timedelta(hours=1)

    with django_capture_on_commit_callbacks(execute=True):
        task = incident_task_update(
            actor=cast.member, task_id=task.id, owner=cast.liaison, due_at=due, title="Block all"
        )
    event = last_event(incident)
    assert event.kind == "task_changed"
    assert event.data == {
        "task": task.id,
        "title": "Block all",
        "changes": {
            "owner": [None, cast.liaison.id],
            "due_at": [None, due.isoformat()],
            "title": ["Block re-uploads", "Block all"],
        },
    }
    assert pushes.noticed() == [cast.liaison.id]

    done = incident_task_update(actor=cast.liaison, task_id=task.id, state="done")
    assert done.state == IncidentTask.State.DONE
    assert done.completed_at is not None
    assert last_event(incident).data["changes"] == {"state": ["open", "done"]}

    reopened = incident_task_update(actor=cast.member, task_id=task.id, state="open")
    assert reopened.completed_at is None

    seq = last_seq(incident)
    incident_task_update(actor=cast.member, task_id=task.id, state="open", title="Block all")
    assert last_seq(incident) == seq


def test_a_cancelled_task_is_not_completed(cast, staffed):
    incident = staffed()
    task = incident_task_create(actor=cast.member, incident_id=incident.id, title="Maybe")
    task = incident_task_update(actor=cast.member, task_id=task.id, state="cancelled")
    assert (task.state, task.completed_at) == ("cancelled", None)


def test_bad_task_updates_are_refused(cast, staffed):
    incident = staffed()
    task = incident_task_create(actor=cast.member, incident_id=incident.id, title="Block")
    with pytest.raises(InvalidInput) as refused:
        incident_task_update(actor=cast.member, task_id=task.id, state="someday")
    assert "state" in refused.value.fields
    with pytest.raises(InvalidInput):
        incident_task_update(actor=cast.member, task_id=task.id, title="  ")
    with pytest.raises(NotAllowed):
        incident_task_update(actor=cast.outsider, task_id=task.id, state="done")
    task.refresh_from_db()
    assert (task.state, task.title) == ("open", "Block")


def test_follow_ups_stay_workable_after_the_incident_closes(cast, staffed):
    incident = staffed()
    task = incident_task_create(
        actor=cast.member, incident_id=incident.id, title="Retrain classifier", follow_up=True
    )
    walk(incident, cast.commander, "resolved", "closed")
    done = incident_task_update(actor=cast.member, task_id=task.id, state="done")
    assert done.state == "done"
    assert IncidentTask.objects.get(id=task.id).follow_up is True


def test_claiming_an_unowned_task_makes_it_yours(
    cast, staffed, pushes, django_capture_on_commit_callbacks
):
    incident = staffed()
    task = incident_task_create(actor=cast.commander, incident_id=incident.id, title="Block")
    with django_capture_on_commit_callbacks(execute=True):
        claimed = incident_task_claim(actor=cast.member, task_id=task.id)
    assert claimed.owner == cast.member
    assert IncidentTask.objects.get(id=task.id).owner == cast.member
    event = last_event(incident)
    assert (event.kind, event.actor) == ("task_changed", cast.member)
    assert event.data == {
        "task": task.id,
        "title": "Block",
        "changes": {"owner": [None, cast.member.id]},
        "claimed": True,
    }
    assert pushes.notices == []  # nobody else to tell
    assert event_sentence(event) == "Task claimed: Block"


def test_claiming_your_own_task_changes_nothing(cast, staffed):
    incident = staffed()
    task = incident_task_create(
        actor=cast.commander, incident_id=incident.id, title="Block", owner=cast.member
    )
    seq = last_seq(incident)
    assert incident_task_claim(actor=cast.member, task_id=task.id).owner == cast.member
    assert incident_task_claim(actor=cast.member, task_id=task.id, take_over=True).owner_id == (
        cast.member.id
    )
    assert last_seq(incident) == seq


def test_someone_elses_task_is_refused_with_their_name(cast, staffed):
    incident = staffed()
    task = incident_task_create(
        actor=cast.commander, incident_id=incident.id, title="Block", owner=cast.liaison
    )
    seq = last_seq(incident)
    with pytest.raises(InvalidInput) as refused:
        incident_task_claim(actor=cast.member, task_id=task.id)
    assert refused.value.message == f"Already claimed by {cast.liaison}."
    assert "take_over" in refused.value.fields
    assert IncidentTask.objects.get(id=task.id).owner == cast.liaison
    assert last_seq(incident) == seq


def test_taking_over_a_task_tells_its_previous_owner(
    cast, staffed, pushes, django_capture_on_commit_callbacks
):
    incident = staffed()
    task = incident_task_create(
        actor=cast.commander, incident_id=incident.id, title="Block", owner=cast.liaison
    )
    with django_capture_on_commit_callbacks(execute=True):
        taken = incident_task_claim(actor=cast.member, task_id=task.id, take_over=True)
    assert IncidentTask.objects.get(id=task.id).owner == taken.owner == cast.member
    event = last_event(incident)
    assert event.data["changes"] == {"owner": [cast.liaison.id, cast.member.id]}
    assert event.data["claimed"] is True
    assert event_sentence(event) == "Task taken over: Block"
    assert pushes.noticed() == [cast.liaison.id]
    assert str(cast.member) in pushes.notices[0][1] and "Block" in pushes.notices[0][1]


@pytest.mark.parametrize("state", ["done", "cancelled"])
def test_only_an_open_task_can_be_claimed(cast, staffed, state):
    incident = staffed()
    task = incident_task_create(actor=cast.commander, incident_id=incident.id, title="Block")
    incident_task_update(actor=cast.commander, task_id=task.id, state=state)
    seq = last_seq(incident)
    with pytest.raises(InvalidInput):
        incident_task_claim(actor=cast.member, task_id=task.id, take_over=True)
    assert IncidentTask.objects.get(id=task.id).owner is None
    assert last_seq(incident) == seq


@pytest.mark.parametrize("who", ["executive", "outsider"])
def test_who_cannot_act_cannot_claim(cast, staffed, who):
    incident = staffed()
    task = incident_task_create(actor=cast.commander, incident_id=incident.id, title="Block")
    with pytest.raises(NotAllowed):
        incident_task_claim(actor=getattr(cast, who), task_id=task.id)
    assert IncidentTask.objects.get(id=task.id).owner is None


# --- status updates --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("severity", "text_en", "text_zh", "missing"),
    [
        (Severity.SEV0, "Contained", "已控制", None),
        (Severity.SEV0, "Contained", "", {"text_zh"}),
        (Severity.SEV0, "", "已控制", {"text_en"}),
        (Severity.SEV1, "Contained", "  ", {"text_zh"}),
        (Severity.SEV1, "", "", {"text_en", "text_zh"}),
        (Severity.SEV1, "Contained", "已控制", None),
        (Severity.SEV2, "Contained", "", None),
        (Severity.SEV2, "", "已控制", None),
        (Severity.SEV2, "", "", {"text_en", "text_zh"}),
        (Severity.SEV3, "Contained", "", None),
        (Severity.SEV4, "", "已控制", None),
        (Severity.SEV4, " ", " ", {"text_en", "text_zh"}),
    ],
)
def test_status_update_languages(cast, staffed, severity, text_en, text_zh, missing):
    incident = staffed(answers=ANSWERS[severity])
    seq = last_seq(incident)
    publish = lambda: status_update_publish(  # noqa: E731
        actor=cast.member,
        incident_id=incident.id,
        audience="executives",
        text_en=text_en,
        text_zh=text_zh,
    )
    if missing:
        with pytest.raises(InvalidInput) as refused:
            publish()
        assert set(refused.value.fields) == missing
        assert last_seq(incident) == seq
        assert not StatusUpdate.objects.filter(incident=incident).exists()
        return
    update = publish()
    assert (update.text_en, update.text_zh) == (text_en.strip(), text_zh.strip())
    assert (update.severity, update.state, update.author) == (severity, "triage", cast.member)
    event = last_event(incident)
    assert event.kind == "status_update"
    assert event.data["update"] == update.id
    assert event.data["audience"] == "executives"
    assert event.data["next_due"] == (
        update.next_update_due_at and update.next_update_due_at.isoformat()
    )


def test_a_status_update_sets_when_the_next_is_due(cast, staffed):
    incident = staffed(answers=ANSWERS[Severity.SEV0])
    update = status_update_publish(
        actor=cast.member, incident_id=incident.id, audience="company", text_en="a", text_zh="甲"
    )
    assert update.next_update_due_at == update.published_at + minutes(30)
    assert fresh(incident).next_update_due_at == update.next_update_due_at


def test_a_status_update_after_resolution_sets_no_next_one(cast, staffed):
    incident = walk(staffed(answers=ANSWERS[Severity.SEV2]), cast.member, "resolved")
    update = status_update_publish(
        actor=cast.member, incident_id=incident.id, audience="company", text_en="Resolved."
    )
    assert update.next_update_due_at is None
    assert update.state == "resolved"
    assert fresh(incident).next_update_due_at is None


def test_a_status_update_needs_a_known_audience(cast, staffed):
    with pytest.raises(InvalidInput) as refused:
        status_update_publish(
            actor=cast.member, incident_id=staffed().id, audience="press", text_en="x"
        )
    assert "audience" in refused.value.fields


# --- review ----------------------------------------------------------------------------


def test_saving_the_review_records_the_fields_changed(cast, staffed):
    incident = staffed()
    review = review_save(
        actor=cast.member,
        incident_id=incident.id,
        owner=cast.member,
        summary="Scam links on the hot list",
        went_well="Fast removal",
    )
    assert (review.state, review.owner, review.summary, review.went_well) == (
        Review.State.DRAFT,
        cast.member,
        "Scam links on the hot list",
        "Fast removal",
    )
    event = last_event(incident)
    assert (event.kind, event.data["action"]) == ("review", "edited")
    assert sorted(event.data["fields"]) == ["owner", "summary", "went_well"]

    seq = last_seq(incident)
    review_save(actor=cast.member, incident_id=incident.id, summary="Scam links on the hot list")
    assert last_seq(incident) == seq


def test_unknown_review_fields_are_a_programming_error(cast, staffed):
    with pytest.raises(AssertionError):
        review_save(actor=cast.member, incident_id=staffed().id, blame="someone")


def test_publishing_needs_command_and_the_three_core_fields(cast, staffed):
    incident = staffed()
    review_save(actor=cast.member, incident_id=incident.id, summary="What happened")
    with pytest.raises(NotAllowed):
        review_set_state(actor=cast.member, incident_id=incident.id, state="published")
    with pytest.raises(InvalidInput) as refused:
        review_set_state(actor=cast.commander, incident_id=incident.id, state="published")
    assert set(refused.value.fields) == {"impact", "root_cause"}
    assert Review.objects.get(incident=incident).state == Review.State.DRAFT

    review_set_state(actor=cast.member, incident_id=incident.id, state="in_review")
    review_save(
        actor=cast.member, incident_id=incident.id, impact="40k users", root_cause="Threshold drift"
    )
    review = review_set_state(actor=cast.commander, incident_id=incident.id, state="published")
    assert review.state == Review.State.PUBLISHED
    assert review.published_at is not None
    assert last_event(incident).data == {"action": "state", "state": "published"}


def test_a_published_review_is_final(cast, staffed):
    incident = staffed()
    review_save(
        actor=cast.member,
        incident_id=incident.id,
        summary="s",
        impact="i",
        root_cause="r",
    )
    review_set_state(actor=cast.manager, incident_id=incident.id, state="published")
    seq = last_seq(incident)
    for attempt in (
        lambda: review_save(actor=cast.manager, incident_id=incident.id, summary="rewritten"),
        lambda: review_save(actor=cast.manager, incident_id=incident.id, close_waiver="w"),
        lambda: review_set_state(actor=cast.manager, incident_id=incident.id, state="draft"),
        lambda: review_set_state(actor=cast.manager, incident_id=incident.id, state="published"),
    ):
        with pytest.raises(Conflict) as refused:
            attempt()
        assert refused.value.code == "review_published"
    assert Review.objects.get(incident=incident).summary == "s"
    assert last_seq(incident) == seq


def test_an_unknown_review_state_is_invalid(cast, staffed):
    with pytest.raises(InvalidInput) as refused:
        review_set_state(actor=cast.member, incident_id=staffed().id, state="archived")
    assert "state" in refused.value.fields


def test_outsiders_cannot_touch_the_review(cast, staffed):
    incident = staffed()
    with pytest.raises(NotAllowed):
        review_save(actor=cast.outsider, incident_id=incident.id, summary="x")
    with pytest.raises(NotAllowed):
        review_set_state(actor=cast.outsider, incident_id=incident.id, state="in_review")
    assert not Review.objects.filter(incident=incident).exists()


# --- details ---------------------------------------------------------------------------


def test_details_changes_are_recorded_as_a_diff(cast, staffed):
    incident = staffed(markets=Market.objects.filter(code="cn"))
    team = TeamFactory()
    incident_update_details(
        actor=cast.member,
        incident_id=incident.id,
        title="Scam links on the hot list",
        summary="Wider than thought",
        team=team,
        markets=Market.objects.filter(code__in=["cn", "hk"]),
        surfaces=Surface.objects.filter(code="search"),
    )
    incident = fresh(incident)
    assert (incident.title, incident.summary, incident.team) == (
        "Scam links on the hot list",
        "Wider than thought",
        team,
    )
    event = last_event(incident)
    assert event.kind == "details_changed"
    assert event.data["changes"] == {
        "title": ["Scam links trending in search", "Scam links on the hot list"],
        "summary": ["", "Wider than thought"],
        "team": [None, team.id],
        "markets": [["cn"], ["cn", "hk"]],
        "surfaces": [[], ["search"]],
    }


def test_unchanged_details_record_nothing(cast, staffed):
    incident = staffed()
    seq = last_seq(incident)
    incident_update_details(
        actor=cast.member, incident_id=incident.id, title=incident.title, markets=[]
    )
    assert last_seq(incident) == seq


def test_moving_discovery_needs_a_reason_and_moves_the_statutory_clocks(cast, staffed):
    discovered = timezone.now() - timedelta(hours=2)
    incident = staffed(involves_personal_info=True, discovered_at=discovered)
    earlier = discovered - timedelta(hours=5)

    with pytest.raises(InvalidInput) as refused:
        incident_update_details(actor=cast.member, incident_id=incident.id, discovered_at=earlier)
    assert "reason" in refused.value.fields
    assert fresh(incident).discovered_at == discovered

    incident_update_details(
        actor=cast.member,
        incident_id=incident.id,
        discovered_at=earlier,
        reason="The first user report came in at 09:00",
    )
    assert fresh(incident).discovered_at == earlier
    event = TimelineEvent.objects.filter(incident=incident, kind="details_changed").last()
    assert event.text == "The first user report came in at 09:00"
    assert event.data["changes"] == {"discovered_at": [discovered.isoformat(), earlier.isoformat()]}
    assert report(incident, "pipl-authority-notice").due_at == earlier + timedelta(hours=24)
    moved = last_event(incident)  # the report's deadline moved with it, on the record
    assert (moved.kind, moved.data["action"], moved.seq) == ("report", "due_changed", event.seq + 1)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"discovered_at": timedelta(hours=1), "reason": "clock"}, "discovered_at"),
        ({"harm_started_at": timedelta(hours=1)}, "harm_started_at"),
        ({"title": "  "}, "title"),
        ({"title": "t" * 201}, "title"),
    ],
)
def test_bad_details_are_refused(cast, staffed, changes, field):
    incident = staffed()
    seq = last_seq(incident)
    kwargs = dict(changes)
    for name in ("discovered_at", "harm_started_at"):
        if name in kwargs:
            kwargs[name] = timezone.now() + kwargs[name]
    with pytest.raises(InvalidInput) as refused:
        incident_update_details(actor=cast.member, incident_id=incident.id, **kwargs)
    assert field in refused.value.fields
    assert last_seq(incident) == seq
    assert fresh(incident).title == incident.title


def test_flagging_cii_arms_the_grading_nudge(cast, staffed):
    incident = staffed(answers=ANSWERS[Severity.SEV3])
    assert not IncidentTimer.objects.filter(incident=incident, kind="grading_due").exists()
    incident_update_details(actor=cast.member, incident_id=incident.id, is_cii=True)
    timer = IncidentTimer.objects.get(incident=incident, kind="grading_due", state="pending")
    assert timer.due_at == incident.discovered_at + minutes(30)


def test_flagging_cii_later_brings_the_grading_nudge_forward(cast, staffed):
    incident = staffed(answers=ANSWERS[Severity.SEV2])
    assert timers(incident)[Kind.GRADING_DUE] == incident.discovered_at + minutes(60)
    incident_update_details(actor=cast.member, incident_id=incident.id, is_cii=True)
    assert timers(incident)[Kind.GRADING_DUE] == incident.discovered_at + minutes(30)


def test_moving_discovery_moves_the_grading_nudge(cast, staffed):
    incident = staffed(answers=ANSWERS[Severity.SEV2])
    earlier = incident.discovered_at - timedelta(minutes=20)
    incident_update_details(
        actor=cast.member, incident_id=incident.id, discovered_at=earlier, reason="first report"
    )
    assert timers(incident)[Kind.GRADING_DUE] == earlier + minutes(60)
