import asyncio
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.utils import timezone

from incidents.domain.severity import ImpactAnswers, Severity
from incidents.events import incident_group
from incidents.exceptions import InvalidInput, NotAllowed
from incidents.models import (
    Incident,
    IncidentCounter,
    IncidentRole,
    IncidentRunbook,
    IncidentTask,
    IncidentTimer,
    Market,
    Participant,
    RegulatoryReport,
    RoleAssignment,
    SeverityAssessment,
    SeverityPolicy,
    Surface,
)
from incidents.services import incident_add_note, incident_hand_over_command
from incidents.signals import incident_declared
from tests.incidents.factories import declare
from tests.incidents.services.support import (
    ANSWERS,
    events,
    kinds,
    last_seq,
    minutes,
    report,
    report_codes,
    timers,
)
from tscc.roles import Role

pytestmark = pytest.mark.django_db

Kind = IncidentTimer.Kind


# --- numbering -------------------------------------------------------------


def test_references_are_numbered_per_year_without_gaps(cast):
    year = timezone.now().year
    IncidentCounter.objects.create(year=year - 1, last=41)

    first = declare(cast.manager)
    second = declare(cast.manager)
    with pytest.raises(InvalidInput):
        declare(cast.manager, title="   ")  # refused: must not use up a number
    third = declare(cast.manager)

    assert [i.reference for i in (first, second, third)] == [
        f"INC-{year}-00001",
        f"INC-{year}-00002",
        f"INC-{year}-00003",
    ]
    assert [(i.year, i.number) for i in (first, second, third)] == [(year, n) for n in (1, 2, 3)]
    assert IncidentCounter.objects.get(year=year).last == 3
    assert IncidentCounter.objects.get(year=year - 1).last == 41


def test_a_new_year_starts_at_one_whatever_last_year_reached(cast):
    year = timezone.now().year
    IncidentCounter.objects.create(year=year - 1, last=99_998)
    assert declare(cast.manager).reference == f"INC-{year}-00001"


# --- severity ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("answers", "severity", "reasons"),
    [
        (ImpactAnswers(), Severity.SEV4, ["no_impact"]),
        (
            ImpactAnswers(reach=1, operations=1),
            Severity.SEV3,
            ["dimension:reach", "dimension:operations"],
        ),
        (ImpactAnswers(reach=2, press=1), Severity.SEV2, ["dimension:reach"]),
        (
            ImpactAnswers(user_harm=3, press=3),
            Severity.SEV1,
            ["dimension:user_harm", "dimension:press"],
        ),
        (ImpactAnswers(legal=4, reach=2), Severity.SEV0, ["dimension:legal"]),
    ],
)
def test_severity_is_the_rubric_proposal(cast, answers, severity, reasons):
    incident = declare(cast.manager, answers=answers)

    assert incident.severity == severity
    assessment = SeverityAssessment.objects.get(incident=incident)
    assert (assessment.proposed, assessment.chosen, assessment.reason) == (severity, severity, "")
    assert assessment.answers == answers.as_dict()
    assert assessment.assessed_by == cast.manager
    (declared,) = events(incident, "declared")
    assert declared.seq == 1
    assert declared.actor == cast.manager
    assert declared.data["severity"] == severity
    assert declared.data["proposed"] == severity
    assert declared.data["reasons"] == reasons
    assert declared.data["answers"] == answers.as_dict()
    assert declared.data["category"] == "spam_flood"


@pytest.mark.parametrize("role", [Role.RESPONDER, Role.OPS_MANAGER])
def test_choosing_a_higher_severity_needs_a_reason(make_user, role):
    actor = make_user(role)
    with pytest.raises(InvalidInput) as refused:
        declare(actor, answers=ANSWERS[Severity.SEV2], severity=Severity.SEV1, severity_reason=" ")
    assert "severity_reason" in refused.value.fields
    assert not Incident.objects.exists()

    incident = declare(
        actor,
        answers=ANSWERS[Severity.SEV2],
        severity=Severity.SEV1,
        severity_reason="A journalist is asking",
    )
    assert incident.severity == Severity.SEV1
    assessment = SeverityAssessment.objects.get(incident=incident)
    assert (assessment.proposed, assessment.chosen) == (Severity.SEV2, Severity.SEV1)
    assert assessment.overridden
    assert assessment.reason == "A journalist is asking"
    (declared,) = events(incident, "declared")
    assert declared.text == "A journalist is asking"
    assert (declared.data["proposed"], declared.data["severity"]) == ("sev2", "sev1")


def test_a_responder_may_not_declare_below_the_proposal(cast):
    with pytest.raises(NotAllowed):
        declare(
            cast.member,
            answers=ANSWERS[Severity.SEV1],
            severity=Severity.SEV3,
            severity_reason="Looks smaller than it is",
        )
    assert not Incident.objects.exists()
    assert not IncidentCounter.objects.filter(last__gt=0).exists()


def test_an_ops_manager_may_declare_below_the_proposal_with_a_reason(cast):
    with pytest.raises(InvalidInput) as refused:
        declare(cast.manager, answers=ANSWERS[Severity.SEV1], severity=Severity.SEV3)
    assert "severity_reason" in refused.value.fields

    incident = declare(
        cast.manager,
        answers=ANSWERS[Severity.SEV1],
        severity=Severity.SEV3,
        severity_reason="Only an internal test account was affected",
    )
    assert incident.severity == Severity.SEV3
    assert SeverityAssessment.objects.get(incident=incident).proposed == Severity.SEV1


def test_choosing_the_proposal_explicitly_needs_no_reason(cast):
    incident = declare(cast.member, answers=ANSWERS[Severity.SEV2], severity=Severity.SEV2)
    assert incident.severity == Severity.SEV2


@pytest.mark.parametrize(
    ("role", "confirmed"),
    [(Role.OPS_MANAGER, True), (Role.ADMIN, True), (Role.RESPONDER, False)],
)
def test_severity_is_confirmed_when_someone_with_command_declares(make_user, role, confirmed):
    incident = declare(make_user(role))
    if confirmed:
        assert incident.severity_confirmed_at == incident.declared_at
    else:
        assert incident.severity_confirmed_at is None


# --- who may declare, what is checked ------------------------------------------


@pytest.mark.parametrize("role", [Role.EXECUTIVE, Role.BPO_LEAD])
def test_roles_that_do_not_work_incidents_cannot_declare(make_user, role):
    with pytest.raises(NotAllowed):
        declare(make_user(role))
    assert not Incident.objects.exists()


def test_a_title_is_required(cast):
    with pytest.raises(InvalidInput) as refused:
        declare(cast.manager, title="  ")
    assert "title" in refused.value.fields


def test_discovery_cannot_be_in_the_future(cast):
    with pytest.raises(InvalidInput) as refused:
        declare(cast.manager, discovered_at=timezone.now() + minutes(10))
    assert set(refused.value.fields) == {"discovered_at"}
    assert not Incident.objects.exists()


def test_a_little_clock_skew_on_discovery_is_tolerated(cast):
    discovered = timezone.now() + minutes(1)
    incident = declare(cast.manager, discovered_at=discovered)
    assert incident.discovered_at == discovered


def test_harm_cannot_begin_after_discovery(cast):
    discovered = timezone.now() - timedelta(hours=2)
    with pytest.raises(InvalidInput) as refused:
        declare(cast.manager, discovered_at=discovered, harm_started_at=discovered + minutes(1))
    assert set(refused.value.fields) == {"harm_started_at"}


def test_discovery_and_harm_are_kept_apart_from_declaration(cast):
    discovered = timezone.now() - timedelta(hours=3)
    harm = discovered - timedelta(days=2)
    before = timezone.now()
    incident = declare(cast.manager, discovered_at=discovered, harm_started_at=harm)
    incident.refresh_from_db()
    assert incident.discovered_at == discovered
    assert incident.harm_started_at == harm
    assert incident.declared_at >= before
    assert incident.created_by == cast.manager


def test_discovery_defaults_to_now(cast):
    incident = declare(cast.manager, discovered_at=None)
    assert incident.discovered_at == incident.declared_at


def test_descriptive_fields_are_stored(cast):
    incident = declare(
        cast.manager,
        title="  Scam links trending  ",
        title_zh="诈骗链接上热搜",
        summary=" Many accounts ",
        markets=Market.objects.filter(code__in=["cn", "hk"]),
        surfaces=Surface.objects.filter(code="search"),
        war_room_url="https://meet.example.test/war-room",
    )
    incident.refresh_from_db()
    assert (incident.title, incident.title_zh, incident.summary) == (
        "Scam links trending",
        "诈骗链接上热搜",
        "Many accounts",
    )
    assert sorted(incident.markets.values_list("code", flat=True)) == ["cn", "hk"]
    assert list(incident.surfaces.values_list("code", flat=True)) == ["search"]
    assert incident.state == "triage"
    assert incident.statutory_grade == "unassessed"


# --- people ------------------------------------------------------------------


def test_the_declarer_takes_part(cast):
    incident = declare(cast.member)
    assert list(Participant.objects.filter(incident=incident).values_list("user", flat=True)) == [
        cast.member.id
    ]
    assert not RoleAssignment.objects.filter(incident=incident).exists()
    assert cast.member.has_perm("incidents.act", incident)


def test_a_named_commander_holds_the_role_and_takes_part(cast):
    incident = declare(cast.manager, commander=cast.commander)

    (assignment,) = RoleAssignment.objects.filter(incident=incident)
    assert (assignment.role, assignment.user, assignment.assigned_by) == (
        IncidentRole.COMMANDER,
        cast.commander,
        cast.manager,
    )
    assert assignment.released_at is None
    assert kinds(incident)[:2] == ["declared", "role_assigned"]
    (assigned,) = events(incident, "role_assigned")
    assert assigned.data == {
        "role": "commander",
        "user": cast.commander.id,
        "name": str(cast.commander),
    }
    assert set(Participant.objects.filter(incident=incident).values_list("user", flat=True)) == {
        cast.manager.id,
        cast.commander.id,
    }


def test_a_declared_commander_still_takes_part_after_handing_over(cast):
    incident = declare(cast.manager, commander=cast.commander)
    incident_hand_over_command(
        actor=cast.commander, incident_id=incident.id, to_user=cast.manager, note="shift end"
    )
    note = incident_add_note(actor=cast.commander, incident_id=incident.id, text="Handover done")
    assert note.actor == cast.commander


@pytest.mark.parametrize("role", [Role.EXECUTIVE, Role.BPO_LEAD])
def test_a_commander_must_be_able_to_hold_a_role(cast, make_user, role):
    with pytest.raises(InvalidInput) as refused:
        declare(cast.manager, commander=make_user(role))
    assert "commander" in refused.value.fields
    assert not Incident.objects.exists()


# --- runbooks ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("category", "severity", "runbooks"),
    [
        ("csam_cse", Severity.SEV3, {"CSAM response"}),
        ("csam_cse", Severity.SEV0, {"CSAM response", "Major incident basics"}),
        ("spam_flood", Severity.SEV2, set()),
        ("spam_flood", Severity.SEV1, {"Major incident basics"}),
        ("viral_harm", Severity.SEV3, set()),
        ("viral_harm", Severity.SEV2, {"Viral harmful content"}),
        ("viral_harm", Severity.SEV1, {"Viral harmful content", "Major incident basics"}),
        ("reg_inquiry", Severity.SEV4, {"Regulator inquiry"}),
        ("data_leak", Severity.SEV4, {"Personal information breach"}),
        ("vendor_outage", Severity.SEV3, set()),
    ],
)
def test_runbooks_attach_by_category_and_severity(cast, category, severity, runbooks):
    incident = declare(cast.manager, category_code=category, answers=ANSWERS[severity])

    attached = IncidentRunbook.objects.filter(incident=incident).select_related("runbook")
    assert {a.runbook.name_en for a in attached} == runbooks
    assert {e.data["name_en"] for e in events(incident, "runbook_attached")} == runbooks
    for link in attached:
        items = list(link.runbook.items.all())
        tasks = IncidentTask.objects.filter(incident=incident, runbook_item__runbook=link.runbook)
        assert sorted(t.title for t in tasks) == sorted(i.title_en for i in items)
        for task in tasks:
            item = task.runbook_item
            assert task.title_zh == item.title_zh
            assert task.state == IncidentTask.State.OPEN
            assert task.created_by == cast.manager
            assert task.due_at == link.attached_at + minutes(item.due_minutes)
    assert IncidentTask.objects.filter(incident=incident).count() == sum(
        a.runbook.items.count() for a in attached
    )


def test_the_csam_runbook_starts_with_preserving_hashes_only(cast):
    incident = declare(cast.manager, category_code="csam_cse", answers=ANSWERS[Severity.SEV0])
    first = IncidentTask.objects.filter(
        incident=incident, runbook_item__runbook__name_en="CSAM response"
    ).order_by("runbook_item__order")[0]
    assert first.title == "Preserve references and hashes only; never store the media"


# --- reports -----------------------------------------------------------------


def test_personal_information_owes_a_pipl_notice_a_day_after_discovery(cast):
    discovered = timezone.now() - timedelta(hours=3)
    incident = declare(cast.manager, discovered_at=discovered, involves_personal_info=True)

    assert report_codes(incident) == {"pipl-authority-notice"}
    notice = report(incident, "pipl-authority-notice")
    assert notice.due_at == discovered + timedelta(hours=24)
    assert notice.state == RegulatoryReport.State.REQUIRED
    assert notice.kind == RegulatoryReport.Kind.NOTICE
    assert notice.authority == "履行个人信息保护职责的部门"
    (owed,) = [e for e in events(incident, "report") if e.data["action"] == "owed"]
    assert owed.data["obligation"] == "pipl-authority-notice"
    assert owed.data["due_at"] == notice.due_at.isoformat()


def test_minors_owe_the_minors_report(cast):
    discovered = timezone.now() - timedelta(hours=1)
    incident = declare(cast.manager, discovered_at=discovered, involves_minors=True)
    assert report_codes(incident) == {"minors-report"}
    assert report(incident, "minors-report").due_at == discovered + timedelta(hours=24)


def test_an_ungraded_incident_without_personal_information_owes_nothing(cast):
    incident = declare(cast.manager, answers=ANSWERS[Severity.SEV0], is_cii=True)
    assert report_codes(incident) == set()


# --- timers --------------------------------------------------------------------


def test_a_responder_declaring_without_commander_arms_both_nudges(cast):
    incident = declare(cast.member, answers=ANSWERS[Severity.SEV3])
    assert timers(incident) == {
        Kind.NO_COMMANDER: incident.declared_at + minutes(2),
        Kind.SEVERITY_UNCONFIRMED: incident.declared_at + minutes(5),
    }


def test_a_manager_declaring_with_a_commander_arms_no_people_nudges(cast):
    incident = declare(cast.manager, commander=cast.commander, answers=ANSWERS[Severity.SEV3])
    assert timers(incident) == {}


@pytest.mark.parametrize(
    ("severity", "flags", "grading_minutes"),
    [
        (Severity.SEV0, {}, 60),
        (Severity.SEV1, {}, 60),
        (Severity.SEV2, {}, 60),
        (Severity.SEV3, {}, None),
        (Severity.SEV4, {}, None),
        (Severity.SEV2, {"is_cii": True}, 30),
        (Severity.SEV4, {"is_cii": True}, 30),
        (Severity.SEV3, {"involves_personal_info": True}, 60),
    ],
)
def test_grading_is_due_for_severe_cii_or_personal_information_incidents(
    cast, severity, flags, grading_minutes
):
    discovered = timezone.now() - minutes(20)
    incident = declare(
        cast.manager,
        commander=cast.commander,
        answers=ANSWERS[severity],
        discovered_at=discovered,
        **flags,
    )
    due = timers(incident).get(Kind.GRADING_DUE)
    if grading_minutes is None:
        assert due is None
    else:
        assert due == discovered + minutes(grading_minutes)


@pytest.mark.parametrize(
    ("severity", "cadence"),
    [
        (Severity.SEV0, 30),
        (Severity.SEV1, 60),
        (Severity.SEV2, 240),
        (Severity.SEV3, None),
        (Severity.SEV4, None),
    ],
)
def test_the_next_update_is_due_by_the_severity_policy(cast, severity, cadence):
    incident = declare(cast.manager, commander=cast.commander, answers=ANSWERS[severity])
    policy = SeverityPolicy.objects.get(severity=severity)
    assert policy.update_minutes == cadence
    if cadence is None:
        assert incident.next_update_due_at is None
        assert Kind.UPDATE_DUE not in timers(incident)
    else:
        assert incident.next_update_due_at == incident.declared_at + minutes(cadence)
        assert timers(incident)[Kind.UPDATE_DUE] == incident.next_update_due_at
    assert Incident.objects.get(id=incident.id).next_update_due_at == incident.next_update_due_at


def test_the_update_cadence_is_read_from_the_policy_rows(cast):
    SeverityPolicy.objects.filter(severity=Severity.SEV2).update(update_minutes=45)
    incident = declare(cast.manager, answers=ANSWERS[Severity.SEV2])
    assert incident.next_update_due_at == incident.declared_at + minutes(45)


# --- after commit ---------------------------------------------------------------


def test_incident_declared_is_sent_after_commit_only(
    cast, pushes, django_capture_on_commit_callbacks
):
    received = []

    def receiver(sender, **kwargs):
        received.append(kwargs["incident_id"])

    incident_declared.connect(receiver)
    try:
        with django_capture_on_commit_callbacks() as callbacks:
            incident = declare(cast.manager, commander=cast.commander)
        assert received == []
        assert pushes.broadcasts == []
        for callback in callbacks:
            callback()
    finally:
        incident_declared.disconnect(receiver)

    assert received == [incident.id]
    assert pushes.seqs(incident.id) == list(range(1, last_seq(incident) + 1))
    assert {t for _g, t, _p in pushes.broadcasts} == {"incident.timeline_appended"}


def test_a_refused_declaration_sends_nothing(cast, pushes, django_capture_on_commit_callbacks):
    received = []

    def receiver(sender, **kwargs):
        received.append(kwargs["incident_id"])

    incident_declared.connect(receiver)
    try:
        with (
            django_capture_on_commit_callbacks(execute=True) as callbacks,
            pytest.raises(InvalidInput),
        ):
            declare(cast.manager, discovered_at=timezone.now() + timedelta(days=1))
    finally:
        incident_declared.disconnect(receiver)
    assert callbacks == []
    assert received == []
    assert pushes.broadcasts == []


async def _receive(layer, channel, count):
    return [await asyncio.wait_for(layer.receive(channel), timeout=5) for _ in range(count)]


def test_declare_reaches_the_incident_group_over_the_channel_layer(
    cast, django_capture_on_commit_callbacks
):
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    with django_capture_on_commit_callbacks() as callbacks:
        incident = declare(cast.manager, commander=cast.commander)
    group = incident_group(incident.id)
    async_to_sync(layer.group_add)(group, channel)
    try:
        for callback in callbacks:
            callback()
        messages = async_to_sync(_receive)(layer, channel, last_seq(incident))
    finally:
        async_to_sync(layer.group_discard)(group, channel)

    assert [(m["type"], m["seq"], m["kind"]) for m in messages] == [
        ("incident.timeline_appended", e.seq, e.kind) for e in incident.timeline.order_by("seq")
    ]
