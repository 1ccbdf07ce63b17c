from datetime import timedelta

import pytest
from django.utils import timezone

from incidents.domain.severity import ImpactAnswers, Severity
from incidents.exceptions import InvalidInput, NotAllowed
from incidents.models import (
    GradingCriterion,
    GradingWorksheet,
    IncidentRunbook,
    IncidentTask,
    IncidentTimer,
    RegulatoryReport,
    SeverityAssessment,
)
from incidents.services import (
    incident_assess_severity,
    incident_confirm_severity,
    incident_grade,
    report_save_draft,
    report_submit,
    timers_sweep,
)
from incidents.signals import incident_severity_changed
from tests.incidents.factories import declare
from tests.incidents.services.support import (
    ANSWERS,
    criterion,
    events,
    fresh,
    last_event,
    last_seq,
    minutes,
    report,
    report_codes,
    timers,
)

pytestmark = pytest.mark.django_db

Kind = IncidentTimer.Kind
State = RegulatoryReport.State


def runbook_names(incident) -> list[str]:
    return sorted(
        IncidentRunbook.objects.filter(incident=incident).values_list("runbook__name_en", flat=True)
    )


def grade(actor, incident, level=None, *, in_scope=True, evidence="measured", rationale="why"):
    met = {criterion(level).id: evidence} if level else {}
    return incident_grade(
        actor=actor, incident_id=incident.id, in_scope=in_scope, met=met, rationale=rationale
    )


# --- assessing -----------------------------------------------------------------------


def test_a_participant_may_raise_the_severity(cast, staffed):
    incident = staffed(answers=ANSWERS[Severity.SEV2])
    seq = last_seq(incident)

    assessment = incident_assess_severity(
        actor=cast.member, incident_id=incident.id, answers=ImpactAnswers(user_harm=3, reach=2)
    )

    incident = fresh(incident)
    assert incident.severity == Severity.SEV1
    assert (assessment.proposed, assessment.chosen, assessment.assessed_by) == (
        Severity.SEV1,
        Severity.SEV1,
        cast.member,
    )
    assert SeverityAssessment.objects.filter(incident=incident).count() == 2
    changed = events(incident, "severity_changed")[-1]
    assert changed.seq == seq + 1
    assert changed.actor == cast.member
    assert changed.data["from"] == "sev2"
    assert changed.data["to"] == "sev1"
    assert changed.data["proposed"] == "sev1"
    assert changed.data["assessment"] == assessment.id
    assert changed.data["reasons"] == ["dimension:user_harm"]
    assert changed.data["confirmed"] is False
    assert "Major incident basics" in runbook_names(incident)
    # The SEV1 cadence (60 min) is sooner than what SEV2 had left (240 min).
    assert incident.next_update_due_at < incident.declared_at + minutes(240)
    assert incident.next_update_due_at - changed.recorded_at <= minutes(60)
    assert timers(incident)[Kind.UPDATE_DUE] == incident.next_update_due_at


def test_escalating_attaches_the_runbooks_that_now_match_once(cast, staffed):
    incident = staffed(category_code="viral_harm", answers=ANSWERS[Severity.SEV3])
    assert runbook_names(incident) == []

    incident_assess_severity(
        actor=cast.member, incident_id=incident.id, answers=ANSWERS[Severity.SEV2]
    )
    assert runbook_names(incident) == ["Viral harmful content"]
    assert IncidentTask.objects.filter(incident=incident).count() == 3

    incident_assess_severity(
        actor=cast.member, incident_id=incident.id, answers=ANSWERS[Severity.SEV0]
    )
    assert runbook_names(incident) == ["Major incident basics", "Viral harmful content"]
    assert IncidentTask.objects.filter(incident=incident).count() == 6
    assert [e.data["name_en"] for e in events(incident, "runbook_attached")] == [
        "Viral harmful content",
        "Major incident basics",
    ]


def test_escalating_arms_the_grading_nudge(cast, staffed):
    incident = staffed(answers=ANSWERS[Severity.SEV3])
    assert Kind.GRADING_DUE not in timers(incident)
    incident_assess_severity(
        actor=cast.member, incident_id=incident.id, answers=ANSWERS[Severity.SEV2]
    )
    assert timers(incident)[Kind.GRADING_DUE] == incident.discovered_at + minutes(60)


def test_lowering_the_severity_needs_command(cast, staffed):
    incident = staffed(answers=ANSWERS[Severity.SEV1])
    for actor in (cast.member, cast.liaison):
        with pytest.raises(NotAllowed):
            incident_assess_severity(
                actor=actor, incident_id=incident.id, answers=ANSWERS[Severity.SEV2]
            )
    assert fresh(incident).severity == Severity.SEV1
    assert SeverityAssessment.objects.filter(incident=incident).count() == 1

    incident_assess_severity(
        actor=cast.commander, incident_id=incident.id, answers=ANSWERS[Severity.SEV2]
    )
    incident = fresh(incident)
    assert incident.severity == Severity.SEV2
    changed = last_event(incident)
    assert (changed.kind, changed.data["to"], changed.data["confirmed"]) == (
        "severity_changed",
        "sev2",
        True,
    )
    assert incident.severity_confirmed_at >= changed.recorded_at - timedelta(seconds=1)
    # The update due under SEV1 (60 min) is sooner than a fresh SEV2 cadence: it stays.
    assert incident.next_update_due_at == incident.declared_at + minutes(60)
    assert timers(incident)[Kind.UPDATE_DUE] == incident.next_update_due_at


@pytest.mark.parametrize("who", ["manager", "deputy", "admin"])
def test_others_in_command_may_lower_it_too(cast, staffed, who):
    incident = staffed(answers=ANSWERS[Severity.SEV1])
    incident_assess_severity(
        actor=getattr(cast, who), incident_id=incident.id, answers=ANSWERS[Severity.SEV3]
    )
    assert fresh(incident).severity == Severity.SEV3


def test_choosing_below_the_proposal_needs_command_and_a_reason(cast, staffed):
    incident = staffed(answers=ANSWERS[Severity.SEV3])
    with pytest.raises(NotAllowed):
        incident_assess_severity(
            actor=cast.member,
            incident_id=incident.id,
            answers=ANSWERS[Severity.SEV1],
            severity=Severity.SEV2,
            reason="Contained already",
        )
    with pytest.raises(InvalidInput) as refused:
        incident_assess_severity(
            actor=cast.commander,
            incident_id=incident.id,
            answers=ANSWERS[Severity.SEV1],
            severity=Severity.SEV2,
        )
    assert "severity_reason" in refused.value.fields
    assessment = incident_assess_severity(
        actor=cast.commander,
        incident_id=incident.id,
        answers=ANSWERS[Severity.SEV1],
        severity=Severity.SEV2,
        reason="Contained already",
    )
    assert (assessment.proposed, assessment.chosen, assessment.reason) == (
        "sev1",
        "sev2",
        "Contained already",
    )
    assert last_event(incident).text == "Contained already"


def test_choosing_above_the_proposal_needs_a_reason(cast, staffed):
    incident = staffed(answers=ANSWERS[Severity.SEV3])
    with pytest.raises(InvalidInput) as refused:
        incident_assess_severity(
            actor=cast.member,
            incident_id=incident.id,
            answers=ANSWERS[Severity.SEV3],
            severity=Severity.SEV1,
        )
    assert "severity_reason" in refused.value.fields
    incident_assess_severity(
        actor=cast.member,
        incident_id=incident.id,
        answers=ANSWERS[Severity.SEV3],
        severity=Severity.SEV1,
        reason="Press is calling",
    )
    assert fresh(incident).severity == Severity.SEV1


def test_an_outsider_cannot_assess(cast, staffed):
    incident = staffed()
    with pytest.raises(NotAllowed):
        incident_assess_severity(
            actor=cast.outsider, incident_id=incident.id, answers=ANSWERS[Severity.SEV0]
        )


def test_re_answering_without_a_change_records_only_the_assessment(cast, staffed):
    incident = staffed(answers=ANSWERS[Severity.SEV2])
    seq = last_seq(incident)
    incident_assess_severity(
        actor=cast.member, incident_id=incident.id, answers=ImpactAnswers(reach=2, press=2)
    )
    assert last_seq(incident) == seq
    assert SeverityAssessment.objects.filter(incident=incident).count() == 2


def test_severity_changes_are_signalled_after_commit(
    cast, staffed, pushes, django_capture_on_commit_callbacks
):
    incident = staffed(answers=ANSWERS[Severity.SEV2])
    received = []

    def receiver(sender, **kwargs):
        received.append((kwargs["previous"], kwargs["current"]))

    incident_severity_changed.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            incident_assess_severity(
                actor=cast.member, incident_id=incident.id, answers=ANSWERS[Severity.SEV0]
            )
            assert received == []
    finally:
        incident_severity_changed.disconnect(receiver)
    assert received == [("sev2", "sev0")]


# --- confirming ------------------------------------------------------------------------


def test_the_commander_confirms_the_severity(cast):
    incident = declare(cast.member, commander=cast.commander)  # a responder declares
    assert incident.severity_confirmed_at is None
    assert Kind.SEVERITY_UNCONFIRMED in timers(incident)

    with pytest.raises(NotAllowed):
        incident_confirm_severity(actor=cast.member, incident_id=incident.id)

    incident_confirm_severity(actor=cast.commander, incident_id=incident.id)
    incident = fresh(incident)
    confirmed = last_event(incident)
    assert confirmed.kind == "severity_changed"
    assert confirmed.data == {"from": "sev2", "to": "sev2", "confirmed": True}
    assert incident.severity == Severity.SEV2
    assert incident.severity_confirmed_at is not None
    assert incident.severity_confirmed_at <= confirmed.recorded_at
    assert Kind.SEVERITY_UNCONFIRMED not in timers(incident)
    assert Kind.SEVERITY_UNCONFIRMED in timers(incident, IncidentTimer.State.CANCELLED)


def test_an_ops_manager_may_confirm(cast):
    incident = declare(cast.member)
    incident_confirm_severity(actor=cast.manager, incident_id=incident.id)
    assert fresh(incident).severity_confirmed_at is not None
    assert Kind.SEVERITY_UNCONFIRMED not in timers(incident)


def test_a_commander_who_raises_the_severity_confirms_it(cast):
    incident = declare(cast.member, commander=cast.commander)
    incident_assess_severity(
        actor=cast.commander, incident_id=incident.id, answers=ANSWERS[Severity.SEV1]
    )
    assert fresh(incident).severity_confirmed_at is not None
    assert Kind.SEVERITY_UNCONFIRMED not in timers(incident)
    assert events(incident, "severity_changed")[-1].data["confirmed"] is True


# --- grading ---------------------------------------------------------------------------


def test_the_worksheet_keeps_the_criteria_as_evaluated(cast, staffed):
    incident = staffed(answers=ANSWERS[Severity.SEV2])
    assert Kind.GRADING_DUE in timers(incident)
    retired = GradingCriterion.objects.get(order=110)
    retired.active = False
    retired.save()
    met = criterion("relatively_major")

    worksheet = incident_grade(
        actor=cast.liaison,
        incident_id=incident.id,
        in_scope=True,
        met={met.id: "1.2 million accounts in the dump"},
        rationale="Over a million people's personal information",
    )

    active = list(GradingCriterion.objects.filter(active=True))
    assert (worksheet.instrument, worksheet.version) == ("CAC-2025-Measures", "2025-09-11")
    assert worksheet.grade == "relatively_major"
    assert worksheet.in_scope is True
    assert worksheet.graded_by == cast.liaison
    assert worksheet.rationale == "Over a million people's personal information"
    assert [r["criterion"] for r in worksheet.rows] == [c.id for c in active]
    assert retired.id not in [r["criterion"] for r in worksheet.rows]
    for row, c in zip(worksheet.rows, active, strict=True):
        assert row == {
            "criterion": c.id,
            "grade": c.grade,
            "text_zh": c.text_zh,
            "text_en": c.text_en,
            "confidence": c.confidence,
            "met": c.id == met.id,
            "evidence": "1.2 million accounts in the dump" if c.id == met.id else "",
        }

    # An admin corrects the annex later: the worksheet still shows what was evaluated.
    original = met.text_zh
    met.text_zh = "个人信息泄露≥200万人"
    met.save()
    row = next(r for r in GradingWorksheet.objects.get(id=worksheet.id).rows if r["met"])
    assert row["text_zh"] == original

    incident = fresh(incident)
    assert incident.statutory_grade == "relatively_major"
    (graded,) = events(incident, "grade_changed")
    assert graded.data == {
        "from": "unassessed",
        "to": "relatively_major",
        "worksheet": worksheet.id,
    }
    assert graded.text == "Over a million people's personal information"
    assert Kind.GRADING_DUE not in timers(incident)


@pytest.mark.parametrize(
    ("is_cii", "owed", "hours"),
    [(False, "cac-initial", 4), (True, "cac-initial-cii", 1)],
)
def test_a_relatively_major_grade_owes_the_cac_initial_report(cast, staffed, is_cii, owed, hours):
    discovered = timezone.now() - timedelta(minutes=37, seconds=11, microseconds=5)
    incident = staffed(answers=ANSWERS[Severity.SEV2], discovered_at=discovered, is_cii=is_cii)

    grade(cast.liaison, incident, "relatively_major")

    assert report_codes(incident) == {owed, "cac-summary"}
    initial = report(incident, owed)
    assert initial.due_at == discovered + timedelta(hours=hours)
    assert (initial.kind, initial.state) == (RegulatoryReport.Kind.INITIAL, State.REQUIRED)
    summary = report(incident, "cac-summary")
    assert (summary.kind, summary.due_at) == (RegulatoryReport.Kind.SUMMARY, None)
    owed_events = {e.data["obligation"]: e for e in events(incident, "report")}
    assert owed_events[owed].data["due_at"] == initial.due_at.isoformat()


def test_a_relatively_major_grade_raises_the_severity_to_sev1(cast, staffed):
    incident = staffed(answers=ANSWERS[Severity.SEV3])
    grade(cast.liaison, incident, "relatively_major")

    incident = fresh(incident)
    assert incident.severity == Severity.SEV1
    raised = events(incident, "severity_changed")[-1]
    assert raised.data["floor_from_grade"] == "relatively_major"
    assert (raised.data["from"], raised.data["to"]) == ("sev3", "sev1")
    assert raised.text
    assert "Major incident basics" in runbook_names(incident)
    assert incident.next_update_due_at is not None


@pytest.mark.parametrize(
    ("start", "level", "expected"),
    [
        (Severity.SEV0, "relatively_major", Severity.SEV0),
        (Severity.SEV1, "relatively_major", Severity.SEV1),
        (Severity.SEV2, "major", Severity.SEV0),
        (Severity.SEV4, "especially_major", Severity.SEV0),
        (Severity.SEV3, "general", Severity.SEV3),
        (Severity.SEV3, None, Severity.SEV3),
    ],
)
def test_the_grade_sets_a_severity_floor_only(cast, staffed, start, level, expected):
    incident = staffed(answers=ANSWERS[start])
    changes = len(events(incident, "severity_changed"))
    grade(cast.liaison, incident, level)
    assert fresh(incident).severity == expected
    assert len(events(incident, "severity_changed")) == changes + (start != expected)


def test_a_later_assessment_keeps_the_grade_floor(cast, staffed):
    incident = staffed(answers=ANSWERS[Severity.SEV2])
    grade(cast.liaison, incident, "relatively_major")
    assessment = incident_assess_severity(
        actor=cast.commander, incident_id=incident.id, answers=ANSWERS[Severity.SEV3]
    )
    assert assessment.proposed == Severity.SEV1
    assert fresh(incident).severity == Severity.SEV1


@pytest.mark.parametrize(
    ("in_scope", "level", "expected", "reports"),
    [
        (False, "especially_major", "not_applicable", set()),
        (True, None, "general", set()),
        (True, "general", "general", set()),
        (True, "major", "major", {"cac-initial", "cac-summary"}),
    ],
)
def test_grades_from_the_worksheet(cast, staffed, in_scope, level, expected, reports):
    incident = staffed()
    worksheet = grade(cast.liaison, incident, level, in_scope=in_scope)
    assert worksheet.grade == expected
    assert fresh(incident).statutory_grade == expected
    assert report_codes(incident) == reports
    if not in_scope:
        assert not any(r["met"] for r in worksheet.rows)


def test_regrading_to_general_releases_pending_reports_but_not_submitted_ones(cast, staffed):
    incident = staffed(involves_personal_info=True)
    grade(cast.liaison, incident, "relatively_major")
    initial = report(incident, "cac-initial")
    report_save_draft(actor=cast.liaison, report_id=initial.id, content_zh="初始报告")
    report_submit(
        actor=cast.liaison, report_id=initial.id, channel="12387_web", submitted_at=timezone.now()
    )
    submitted = report(incident, "cac-initial")

    grade(cast.liaison, incident, "general", rationale="Only 8,000 people after recount")

    summary = report(incident, "cac-summary")
    assert summary.state == State.NOT_REQUIRED
    assert summary.not_required_reason.strip()
    after = report(incident, "cac-initial")
    assert after.state == State.SUBMITTED
    assert (after.content_sha256, after.submitted_at) == (
        submitted.content_sha256,
        submitted.submitted_at,
    )
    assert report(incident, "pipl-authority-notice").state == State.REQUIRED
    released = [e for e in events(incident, "report") if e.data["action"] == "not_required"]
    assert [e.data["obligation"] for e in released] == ["cac-summary"]

    # Graded up again: the released duty is owed again.
    grade(cast.liaison, incident, "relatively_major", rationale="The recount was wrong")
    assert report(incident, "cac-summary").state == State.REQUIRED
    assert report(incident, "cac-initial").state == State.SUBMITTED


@pytest.mark.parametrize(
    ("who", "allowed"),
    [
        ("liaison", True),
        ("commander", True),
        ("deputy", True),
        ("manager", True),
        ("admin", True),
        ("member", False),
        ("outsider", False),
        ("executive", False),
    ],
)
def test_who_may_grade(cast, staffed, who, allowed):
    incident = staffed()
    if allowed:
        assert grade(getattr(cast, who), incident, "general").graded_by == getattr(cast, who)
    else:
        with pytest.raises(NotAllowed):
            grade(getattr(cast, who), incident, "general")
        assert not GradingWorksheet.objects.exists()


@pytest.mark.parametrize(
    ("met", "rationale", "field"),
    [
        ("ok", "  ", "rationale"),
        ("no-evidence", "why", "met"),
        ("unknown", "why", "met"),
    ],
)
def test_grading_needs_a_rationale_and_evidence(cast, staffed, met, rationale, field):
    incident = staffed()
    criterion_id = criterion("major").id
    met = {
        "ok": {criterion_id: "12 million rows"},
        "no-evidence": {criterion_id: "  "},
        "unknown": {999_999: "evidence"},
    }[met]
    with pytest.raises(InvalidInput) as refused:
        incident_grade(
            actor=cast.liaison, incident_id=incident.id, in_scope=True, met=met, rationale=rationale
        )
    assert field in refused.value.fields
    assert not GradingWorksheet.objects.exists()
    assert fresh(incident).statutory_grade == "unassessed"


def test_a_grading_nudge_cancelled_by_a_lower_severity_comes_back_when_it_rises(cast, staffed):
    incident = staffed(answers=ANSWERS[Severity.SEV2])
    due = incident.discovered_at + minutes(60)
    assert timers(incident)[Kind.GRADING_DUE] == due

    incident_assess_severity(
        actor=cast.commander, incident_id=incident.id, answers=ANSWERS[Severity.SEV3]
    )
    assert Kind.GRADING_DUE not in timers(incident)

    incident_assess_severity(
        actor=cast.member, incident_id=incident.id, answers=ANSWERS[Severity.SEV1]
    )
    assert timers(incident)[Kind.GRADING_DUE] == due


def test_a_fired_grading_nudge_is_not_armed_again(cast, staffed):
    incident = staffed(answers=ANSWERS[Severity.SEV2])
    assert timers_sweep(now=incident.discovered_at + minutes(61)) == 1
    incident_assess_severity(
        actor=cast.member, incident_id=incident.id, answers=ANSWERS[Severity.SEV0]
    )
    assert Kind.GRADING_DUE not in timers(incident)


def test_a_raise_by_a_member_needs_confirming_again(cast, staffed):
    incident = staffed(answers=ANSWERS[Severity.SEV3])
    assert incident.severity_confirmed_at is not None  # declared by an ops manager
    incident_assess_severity(
        actor=cast.member, incident_id=incident.id, answers=ANSWERS[Severity.SEV1]
    )
    incident = fresh(incident)
    assert (incident.severity, incident.severity_confirmed_at) == (Severity.SEV1, None)
    assert Kind.SEVERITY_UNCONFIRMED in timers(incident)
    incident_confirm_severity(actor=cast.commander, incident_id=incident.id)
    incident = fresh(incident)
    assert incident.severity_confirmed_at is not None
    assert Kind.SEVERITY_UNCONFIRMED not in timers(incident)
