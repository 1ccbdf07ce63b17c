import hashlib
from datetime import timedelta

import pytest
from django.utils import timezone

from incidents.exceptions import Conflict, InvalidInput, NotAllowed
from incidents.models import RegulatoryReport, TimelineEvent
from incidents.services import (
    incident_grade,
    incident_release_role,
    incident_update_details,
    report_add_supplement,
    report_mark_not_required,
    report_record_receipt,
    report_save_draft,
    report_submit,
)
from tests.incidents.services.support import (
    criterion,
    events,
    last_event,
    last_seq,
    report,
    walk,
)

pytestmark = pytest.mark.django_db

State = RegulatoryReport.State
ZH = "个人信息泄露事件报告：约1.2万名用户的手机号被泄露。"
EN = "Personal information breach: about 12,000 users' phone numbers leaked."


@pytest.fixture
def notice(cast, staffed):
    """The PIPL notice an incident involving personal information owes."""
    incident = staffed(
        involves_personal_info=True, discovered_at=timezone.now() - timedelta(hours=2)
    )
    return report(incident, "pipl-authority-notice")


def fresh_report(r: RegulatoryReport) -> RegulatoryReport:
    return RegulatoryReport.objects.get(id=r.id)


def submit(actor, notice, **kwargs):
    kwargs.setdefault("channel", "email")
    kwargs.setdefault("submitted_at", timezone.now())
    return report_submit(actor=actor, report_id=notice.id, **kwargs)


def test_draft_then_submit_freezes_the_content(cast, notice):
    draft = report_save_draft(actor=cast.liaison, report_id=notice.id, content_zh=ZH, content_en=EN)
    assert draft.state == State.DRAFTING
    assert (draft.content_zh, draft.content_en) == (ZH, EN)

    at = timezone.now() - timedelta(minutes=3)
    sent = submit(
        cast.liaison, notice, channel="12387_web", submitted_at=at, reference_number="R-1"
    )

    sent.refresh_from_db()
    assert sent.state == State.SUBMITTED
    assert (sent.channel, sent.submitted_at, sent.submitted_by, sent.reference_number) == (
        "12387_web",
        at,
        cast.liaison,
        "R-1",
    )
    assert sent.content_sha256 == hashlib.sha256(ZH.encode() + b"\0" + EN.encode()).hexdigest()
    event = last_event(sent.incident)
    assert (event.kind, event.actor) == ("report", cast.liaison)
    assert event.data == {
        "action": "submitted",
        "report": sent.id,
        "channel": "12387_web",
        "on_time": True,
        "reference": "R-1",
    }


def test_a_report_submitted_after_its_due_time_is_late(cast, staffed):
    incident = staffed(
        involves_personal_info=True, discovered_at=timezone.now() - timedelta(days=2)
    )
    notice = report(incident, "pipl-authority-notice")
    assert notice.is_overdue
    report_save_draft(actor=cast.liaison, report_id=notice.id, content_zh=ZH)
    submit(cast.liaison, notice)
    assert last_event(incident).data["on_time"] is False
    assert not report(incident, "pipl-authority-notice").is_overdue


def test_a_report_needs_its_content_in_chinese(cast, notice):
    report_save_draft(actor=cast.liaison, report_id=notice.id, content_zh="  ", content_en=EN)
    with pytest.raises(InvalidInput) as refused:
        submit(cast.liaison, notice)
    assert "content_zh" in refused.value.fields
    assert fresh_report(notice).state == State.DRAFTING


def test_a_required_report_without_a_draft_cannot_be_submitted(cast, notice):
    with pytest.raises(InvalidInput):
        submit(cast.liaison, notice)
    assert fresh_report(notice).state == State.REQUIRED


def test_a_submitted_report_is_final(cast, notice):
    report_save_draft(actor=cast.liaison, report_id=notice.id, content_zh=ZH)
    sent = submit(cast.liaison, notice)
    seq = last_seq(sent.incident)

    with pytest.raises(Conflict):
        submit(cast.liaison, notice)
    with pytest.raises(Conflict):
        report_save_draft(actor=cast.liaison, report_id=notice.id, content_zh="改写")
    with pytest.raises(Conflict):
        report_mark_not_required(actor=cast.liaison, report_id=notice.id, reason="changed mind")
    after = fresh_report(notice)
    assert (after.state, after.content_zh, after.content_sha256) == (
        State.SUBMITTED,
        ZH,
        sent.content_sha256,
    )
    assert last_seq(sent.incident) == seq


def test_a_submission_time_in_the_future_is_refused(cast, notice):
    report_save_draft(actor=cast.liaison, report_id=notice.id, content_zh=ZH)
    with pytest.raises(InvalidInput) as refused:
        submit(cast.liaison, notice, submitted_at=timezone.now() + timedelta(hours=1))
    assert "submitted_at" in refused.value.fields
    assert fresh_report(notice).state == State.DRAFTING


def test_an_unknown_channel_is_refused(cast, notice):
    report_save_draft(actor=cast.liaison, report_id=notice.id, content_zh=ZH)
    with pytest.raises(InvalidInput) as refused:
        submit(cast.liaison, notice, channel="carrier-pigeon")
    assert "channel" in refused.value.fields


def test_the_authoritys_receipt_is_recorded(cast, notice):
    with pytest.raises(Conflict):
        report_record_receipt(actor=cast.liaison, report_id=notice.id, reference_number="X")
    report_save_draft(actor=cast.liaison, report_id=notice.id, content_zh=ZH)
    submit(cast.liaison, notice, reference_number="SENT-1")
    received = report_record_receipt(
        actor=cast.liaison, report_id=notice.id, reference_number="PIPC-2026-7"
    )
    assert (received.state, received.reference_number) == (State.ACKNOWLEDGED, "PIPC-2026-7")
    assert last_event(received.incident).data == {"action": "acknowledged", "report": notice.id}


@pytest.mark.parametrize("acknowledged", [False, True])
def test_a_supplement_starts_from_the_submitted_content(cast, notice, acknowledged):
    report_save_draft(actor=cast.liaison, report_id=notice.id, content_zh=ZH, content_en=EN)
    original = submit(cast.liaison, notice)
    if acknowledged:
        report_record_receipt(actor=cast.liaison, report_id=notice.id, reference_number="A-1")

    supplement = report_add_supplement(actor=cast.liaison, report_id=notice.id)

    assert supplement.id != original.id
    assert supplement.supplements_id == original.id
    assert list(fresh_report(original).supplementary_reports.all()) == [supplement]
    assert (supplement.kind, supplement.state) == (
        RegulatoryReport.Kind.SUPPLEMENTARY,
        State.DRAFTING,
    )
    assert (supplement.content_zh, supplement.content_en) == (ZH, EN)
    assert (supplement.authority, supplement.obligation_id) == (
        original.authority,
        original.obligation_id,
    )
    assert supplement.due_at is None
    assert last_event(original.incident).data == {
        "action": "supplement",
        "report": supplement.id,
        "supplements": original.id,
    }

    report_save_draft(
        actor=cast.liaison, report_id=supplement.id, content_zh=ZH + "补充：人数更正为1.3万。"
    )
    sent = submit(cast.liaison, supplement)
    assert sent.state == State.SUBMITTED
    assert sent.content_sha256 != original.content_sha256
    assert fresh_report(original).content_zh == ZH


def test_only_a_submitted_report_can_be_supplemented(cast, notice):
    with pytest.raises(Conflict):
        report_add_supplement(actor=cast.liaison, report_id=notice.id)
    report_save_draft(actor=cast.liaison, report_id=notice.id, content_zh=ZH)
    with pytest.raises(Conflict):
        report_add_supplement(actor=cast.liaison, report_id=notice.id)
    assert RegulatoryReport.objects.filter(kind=RegulatoryReport.Kind.SUPPLEMENTARY).count() == 0


def test_marking_a_report_not_required_needs_a_reason(cast, notice):
    with pytest.raises(InvalidInput) as refused:
        report_mark_not_required(actor=cast.liaison, report_id=notice.id, reason="  ")
    assert "reason" in refused.value.fields
    assert fresh_report(notice).state == State.REQUIRED

    done = report_mark_not_required(
        actor=cast.liaison, report_id=notice.id, reason="Only hashed identifiers leaked"
    )
    assert (done.state, done.not_required_reason) == (
        State.NOT_REQUIRED,
        "Only hashed identifiers leaked",
    )
    event = last_event(done.incident)
    assert event.text == "Only hashed identifiers leaked"
    assert event.data["action"] == "not_required"
    assert not fresh_report(notice).is_overdue

    with pytest.raises(Conflict):
        report_mark_not_required(actor=cast.liaison, report_id=notice.id, reason="again")


def test_a_person_s_not_required_decision_survives_later_changes(cast, notice):
    report_mark_not_required(
        actor=cast.liaison, report_id=notice.id, reason="Only hashed identifiers leaked"
    )
    incident = walk(notice.incident, cast.member, "investigating", "resolved")
    incident_update_details(
        actor=cast.member, incident_id=incident.id, summary="Hashes only", reason=""
    )
    after = fresh_report(notice)
    assert after.state == State.NOT_REQUIRED
    assert after.not_required_reason == "Only hashed identifiers leaked"


def test_reports_owed_are_recomputed_when_the_facts_change(cast, staffed):
    discovered = timezone.now() - timedelta(hours=5)
    incident = staffed(discovered_at=discovered)
    assert not RegulatoryReport.objects.filter(incident=incident).exists()

    incident_update_details(actor=cast.member, incident_id=incident.id, involves_personal_info=True)
    notice = report(incident, "pipl-authority-notice")
    assert (notice.state, notice.due_at) == (State.REQUIRED, discovered + timedelta(hours=24))

    incident_update_details(
        actor=cast.member, incident_id=incident.id, involves_personal_info=False
    )
    notice = report(incident, "pipl-authority-notice")
    assert notice.state == State.NOT_REQUIRED
    assert notice.not_required_reason

    incident_update_details(actor=cast.member, incident_id=incident.id, involves_personal_info=True)
    assert report(incident, "pipl-authority-notice").state == State.REQUIRED


def test_a_moved_deadline_is_on_the_timeline(cast, staffed):
    discovered = timezone.now() - timedelta(hours=5)
    incident = staffed(discovered_at=discovered, involves_personal_info=True)
    notice = report(incident, "pipl-authority-notice")
    earlier = discovered - timedelta(hours=2)
    incident_update_details(
        actor=cast.member, incident_id=incident.id, discovered_at=earlier, reason="seen earlier"
    )
    assert report(incident, "pipl-authority-notice").due_at == earlier + timedelta(hours=24)
    moved = TimelineEvent.objects.get(incident=incident, kind="report", data__action="due_changed")
    assert moved.data["report"] == notice.id
    assert moved.data["from"] == (discovered + timedelta(hours=24)).isoformat()
    assert moved.data["due_at"] == (earlier + timedelta(hours=24)).isoformat()


@pytest.mark.parametrize(
    ("who", "allowed"),
    [
        ("liaison", True),
        ("manager", True),
        ("admin", True),
        ("member", False),
        ("commander", False),
        ("deputy", False),
        ("outsider", False),
        ("executive", False),
        ("bpo_lead", False),
    ],
)
def test_only_the_regulatory_liaison_or_an_ops_manager_manages_reports(cast, notice, who, allowed):
    actor = getattr(cast, who)
    if not allowed:
        for attempt in (
            lambda: report_save_draft(actor=actor, report_id=notice.id, content_zh=ZH),
            lambda: report_mark_not_required(actor=actor, report_id=notice.id, reason="x"),
        ):
            with pytest.raises(NotAllowed):
                attempt()
        report_save_draft(actor=cast.liaison, report_id=notice.id, content_zh=ZH)
        with pytest.raises(NotAllowed):
            submit(actor, notice)
        submit(cast.liaison, notice)
        with pytest.raises(NotAllowed):
            report_record_receipt(actor=actor, report_id=notice.id, reference_number="x")
        with pytest.raises(NotAllowed):
            report_add_supplement(actor=actor, report_id=notice.id)
        assert not RegulatoryReport.objects.filter(
            kind=RegulatoryReport.Kind.SUPPLEMENTARY
        ).exists()
        return
    report_save_draft(actor=actor, report_id=notice.id, content_zh=ZH)
    assert submit(actor, notice).submitted_by == actor
    report_record_receipt(actor=actor, report_id=notice.id, reference_number="R")
    assert report_add_supplement(actor=actor, report_id=notice.id).supplements_id == notice.id


def test_a_liaison_who_releases_the_role_no_longer_manages_reports(cast, notice):
    incident_release_role(
        actor=cast.commander, incident_id=notice.incident_id, role="regulatory_liaison"
    )
    with pytest.raises(NotAllowed):
        report_save_draft(actor=cast.liaison, report_id=notice.id, content_zh=ZH)


def test_supplements_are_left_alone_when_owed_reports_are_recomputed(cast, staffed):
    incident = staffed()
    incident_grade(
        actor=cast.liaison,
        incident_id=incident.id,
        in_scope=True,
        met={criterion("relatively_major").id: "1.1 million"},
        rationale="why",
    )
    initial = report(incident, "cac-initial")
    report_save_draft(actor=cast.liaison, report_id=initial.id, content_zh=ZH)
    submit(cast.liaison, initial)
    supplement = report_add_supplement(actor=cast.liaison, report_id=initial.id)

    incident_grade(
        actor=cast.liaison, incident_id=incident.id, in_scope=True, met={}, rationale="general"
    )

    supplement.refresh_from_db()
    assert supplement.state == State.DRAFTING
    assert report(incident, "cac-initial").state == State.SUBMITTED
    assert report(incident, "cac-summary").state == State.NOT_REQUIRED
    assert [
        e.data.get("obligation")
        for e in events(incident, "report")
        if e.data["action"] == "not_required"
    ] == ["cac-summary"]
