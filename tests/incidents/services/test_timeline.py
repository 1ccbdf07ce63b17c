import threading

import pytest
from django.db import DatabaseError, connection, connections, transaction
from django.db.models import ProtectedError

from incidents.domain.severity import Severity
from incidents.exceptions import Conflict, InvalidInput, NotAllowed
from incidents.models import AppendOnlyError, Incident, TimelineEvent
from incidents.services import (
    incident_acknowledge,
    incident_add_note,
    incident_assess_severity,
    incident_assign_role,
    incident_grade,
    incident_hand_over_command,
    incident_join,
    incident_link,
    incident_merge,
    incident_pin_fact,
    incident_record_decision,
    incident_task_claim,
    incident_task_create,
    incident_task_update,
    incident_update_details,
    review_save,
    status_update_publish,
    timers_sweep,
)
from tests.incidents.factories import declare
from tests.incidents.services.support import ANSWERS, criterion, last_seq, minutes, timeline, walk
from tscc.roles import Role

pytestmark = pytest.mark.django_db


def assert_gap_free(incident):
    seqs = [e.seq for e in timeline(incident)]
    assert seqs == list(range(1, len(seqs) + 1))
    assert last_seq(incident) == len(seqs)


def test_sequence_numbers_stay_gap_free_under_many_operations(cast, staffed):
    incident = staffed(answers=ANSWERS[Severity.SEV3])
    other = staffed()
    duplicate = staffed()
    refused = 0

    def attempt(call):
        nonlocal refused
        try:
            call()
        except (InvalidInput, NotAllowed, Conflict):
            refused += 1

    i = incident.id
    steps = [
        lambda: incident_acknowledge(actor=cast.member, incident_id=i),
        lambda: incident_add_note(actor=cast.member, incident_id=i, text="first"),
        lambda: incident_add_note(actor=cast.outsider, incident_id=i, text="refused"),
        lambda: incident_join(actor=cast.outsider, incident_id=i),
        lambda: incident_assign_role(
            actor=cast.member, incident_id=i, role="scribe", user=cast.outsider
        ),
        lambda: incident_record_decision(actor=cast.commander, incident_id=i, text="d", reason=""),
        lambda: incident_record_decision(actor=cast.commander, incident_id=i, text="d", reason="r"),
        lambda: incident_assess_severity(
            actor=cast.member, incident_id=i, answers=ANSWERS[Severity.SEV1]
        ),
        lambda: incident_assess_severity(
            actor=cast.member, incident_id=i, answers=ANSWERS[Severity.SEV3]
        ),
        lambda: status_update_publish(
            actor=cast.member, incident_id=i, audience="company", text_en="x"
        ),
        lambda: status_update_publish(
            actor=cast.member, incident_id=i, audience="company", text_en="x", text_zh="甲"
        ),
        lambda: incident_task_create(
            actor=cast.member, incident_id=i, title="t", owner=cast.liaison
        ),
        lambda: incident_pin_fact(actor=cast.member, incident_id=i, text="key"),
        lambda: incident_grade(
            actor=cast.liaison,
            incident_id=i,
            in_scope=True,
            met={criterion("relatively_major").id: "1.1m"},
            rationale="r",
        ),
        lambda: incident_update_details(
            actor=cast.member, incident_id=i, involves_personal_info=True
        ),
        lambda: incident_link(
            actor=cast.member, incident_id=i, other_id=other.id, relation="related"
        ),
        lambda: incident_link(
            actor=cast.member, incident_id=other.id, other_id=i, relation="parent"
        ),
        lambda: incident_link(
            actor=cast.member, incident_id=i, other_id=other.id, relation="parent"
        ),
        lambda: incident_merge(actor=cast.commander, incident_id=duplicate.id, into_id=i),
        lambda: incident_hand_over_command(
            actor=cast.commander, incident_id=i, to_user=cast.deputy
        ),
        lambda: review_save(actor=cast.member, incident_id=i, summary="s"),
        lambda: walk(incident, cast.member, "investigating", "mitigating", "monitoring"),
        lambda: walk(incident, cast.member, "closed"),
        lambda: walk(incident, cast.member, "resolved"),
        lambda: timers_sweep(now=incident.declared_at + minutes(24 * 60)),
    ]
    for step in steps:
        attempt(step)
        for each in (incident, other, duplicate):
            assert_gap_free(each)

    assert refused >= 5
    for task in incident.tasks.all()[:3]:
        incident_task_update(actor=cast.member, task_id=task.id, state="done")
    assert_gap_free(incident)
    assert last_seq(incident) > 30
    kinds = {e.kind for e in timeline(incident)}
    assert {
        "declared",
        "role_assigned",
        "participant_added",
        "acknowledged",
        "note",
        "decision",
        "severity_changed",
        "status_update",
        "task_created",
        "task_changed",
        "fact_pinned",
        "grade_changed",
        "report",
        "details_changed",
        "linked",
        "merged",
        "command_handed_over",
        "review",
        "state_changed",
        "runbook_attached",
    } <= kinds


def test_every_event_is_pushed_after_commit_in_order(
    cast, staffed, pushes, django_capture_on_commit_callbacks
):
    from incidents.warroom import presence_leave, presence_touch

    incident = staffed()
    start = last_seq(incident)
    presence_touch(incident.id, cast.member.id, "tab-1")  # someone is in the room
    with django_capture_on_commit_callbacks(execute=True):
        incident_add_note(actor=cast.member, incident_id=incident.id, text="a")
        with pytest.raises(InvalidInput):
            incident_add_note(actor=cast.member, incident_id=incident.id, text="")
        incident_add_note(actor=cast.member, incident_id=incident.id, text="b")
        assert pushes.broadcasts == []
    assert [(g, t, p["seq"], p["kind"]) for g, t, p in pushes.broadcasts] == [
        (f"incident.{incident.id}", "incident.timeline_appended", start + 1, "note"),
        (f"incident.{incident.id}", "incident.timeline_appended", start + 2, "note"),
    ]
    # each carries its war-room frame, rendered once per language (incidents.warroom)
    for _g, _t, payload in pushes.broadcasts:
        assert set(payload["html"]) == {"en", "zh-hans"}
        assert f'data-seq="{payload["seq"]}"' in payload["html"]["en"]

    # Nobody in the room: the bare sequence leaves, nothing is rendered.
    presence_leave(incident.id, cast.member.id, "tab-1")
    with django_capture_on_commit_callbacks(execute=True):
        incident_add_note(actor=cast.member, incident_id=incident.id, text="c")
    assert pushes.broadcasts[-1][2]["seq"] == start + 3
    assert "html" not in pushes.broadcasts[-1][2]


def test_a_rolled_back_operation_pushes_nothing(
    cast, staffed, pushes, django_capture_on_commit_callbacks
):
    incident = staffed()
    seq = last_seq(incident)
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        incident_add_note(actor=cast.member, incident_id=incident.id, text="lost")
        raise RuntimeError("the request failed later")
    assert callbacks == []
    assert pushes.broadcasts == []
    assert last_seq(incident) == seq


# --- append-only ----------------------------------------------------------------------------


def test_an_event_cannot_be_changed_or_deleted_through_the_orm(cast, staffed):
    incident = staffed()
    event = incident_add_note(actor=cast.member, incident_id=incident.id, text="as it was")

    event.text = "rewritten"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.save(update_fields=["text"])
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        TimelineEvent.objects.filter(id=event.id).update(text="rewritten")
    with pytest.raises(AppendOnlyError):
        TimelineEvent.objects.filter(id=event.id).delete()
    with pytest.raises(AppendOnlyError):
        incident.timeline.all().delete()

    assert TimelineEvent.objects.get(id=event.id).text == "as it was"
    assert TimelineEvent.objects.filter(incident=incident).count() == last_seq(incident)


def test_an_incident_with_a_timeline_cannot_be_deleted(cast, staffed):
    incident = staffed()
    with pytest.raises(ProtectedError), transaction.atomic():
        Incident.objects.get(id=incident.id).delete()
    assert Incident.objects.filter(id=incident.id).exists()


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE incidents_timelineevent SET text = 'rewritten' WHERE id = %s",
        "DELETE FROM incidents_timelineevent WHERE id = %s",
    ],
)
def test_on_postgresql_the_database_refuses_raw_changes(cast, staffed, sql):
    if connection.vendor != "postgresql":
        pytest.skip("the append-only trigger exists on PostgreSQL only")
    incident = staffed()
    event = incident_add_note(actor=cast.member, incident_id=incident.id, text="as it was")
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, [event.id])
    assert TimelineEvent.objects.get(id=event.id).text == "as it was"


# --- concurrency (PostgreSQL: real row locks) ---------------------------------------------


def _in_threads(count, work):
    barrier = threading.Barrier(count)
    errors = []

    def run(n):
        try:
            barrier.wait(timeout=10)
            work(n)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []


@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_get_unique_gap_free_numbers(make_user, pushes):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no row locks; concurrency is checked on PostgreSQL")
    manager = make_user(Role.OPS_MANAGER)
    incident = declare(manager)
    start = last_seq(incident)

    def work(n):
        for i in range(5):
            incident_add_note(actor=manager, incident_id=incident.id, text=f"{n}.{i}")

    _in_threads(8, work)
    assert_gap_free(incident)
    assert last_seq(incident) == start + 40


@pytest.mark.django_db(transaction=True)
def test_concurrent_declarations_get_unique_gap_free_references(make_user, pushes):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no row locks; concurrency is checked on PostgreSQL")
    manager = make_user(Role.OPS_MANAGER)

    _in_threads(6, lambda n: declare(manager, title=f"Wave {n}"))
    numbers = sorted(Incident.objects.values_list("number", flat=True))
    assert numbers == [1, 2, 3, 4, 5, 6]


@pytest.mark.django_db(transaction=True)
def test_concurrent_claims_leave_one_owner(make_user, pushes):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no row locks; concurrency is checked on PostgreSQL")
    manager = make_user(Role.OPS_MANAGER)
    incident = declare(manager)
    task = incident_task_create(actor=manager, incident_id=incident.id, title="Block")
    people = [make_user(Role.OPS_MANAGER) for _ in range(6)]
    won, refused = [], []

    def work(n):
        try:
            incident_task_claim(actor=people[n], task_id=task.id)
            won.append(people[n])
        except InvalidInput as error:
            refused.append(error.message)

    _in_threads(6, work)
    assert len(won) == 1 and len(refused) == 5
    assert set(refused) == {f"Already claimed by {won[0]}."}
    task.refresh_from_db()
    assert task.owner == won[0]
    claims = TimelineEvent.objects.filter(incident=incident, kind="task_changed")
    assert [e.data["changes"]["owner"] for e in claims] == [[None, won[0].id]]
