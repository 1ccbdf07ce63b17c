"""Automatic trouble: breaches, projected breaches, stale reports and sites
down open one incident per trouble, then notes; never duplicates."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, time, timedelta

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.utils import timezone

from incidents.models import Incident, TimelineEvent
from incidents.services import incident_transition
from tscc.realtime import user_group
from vendors.models import IncidentImpact
from vendors.services import (
    queue_trouble_evaluate,
    queue_update,
    site_status_change,
    snapshot_post,
    snapshots_import,
    stale_reports_check,
    vendor_update,
)

pytestmark = pytest.mark.django_db


def post(actor, queue, fields, capture):
    with capture(execute=True):
        return snapshot_post(actor=actor, queue_id=queue.id, fields=fields)


def notes(incident) -> list[str]:
    return list(
        TimelineEvent.objects.filter(incident=incident, kind="note").values_list("text", flat=True)
    )


def test_a_breach_opens_one_incident_and_tells_the_leads(
    lead, manager, team, queue, breached, django_capture_on_commit_callbacks
):
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(user_group(lead.id), channel)

    post(lead, queue, breached(), django_capture_on_commit_callbacks)

    incident = Incident.objects.get()
    assert incident.category.code == "vendor_outage"
    assert incident.severity == "sev3"
    assert incident.team == team
    assert incident.created_by == manager
    assert incident.title == "Luzon BPO / English video: SLA breached"
    assert incident.title_zh.startswith("吕宋 / English video")
    assert "attainment 81.0%" in incident.summary
    assert list(incident.markets.values_list("code", flat=True)) == ["sea"]
    impact = IncidentImpact.objects.get()
    assert (impact.vendor_id, impact.queue_id, impact.site_id) == (
        queue.vendor_id,
        queue.id,
        queue.site_id,
    )
    assert impact.trouble_key == f"queue:{queue.id}"
    notice = async_to_sync(layer.receive)(channel)
    assert notice["type"] == "user.notice" and incident.reference in notice["text"]


def test_a_healthy_post_opens_nothing(lead, queue, healthy, django_capture_on_commit_callbacks):
    post(lead, queue, healthy(), django_capture_on_commit_callbacks)
    assert not Incident.objects.exists()


def test_a_projected_breach_opens_an_incident(
    lead, queue, healthy, django_capture_on_commit_callbacks
):
    # Capacity 320 * 30/60 = 160; backlog 140 growing 100/h: 12 minutes.
    post(lead, queue, healthy(backlog=140, inflow_per_hour=420), django_capture_on_commit_callbacks)
    incident = Incident.objects.get()
    assert incident.title.endswith("SLA breach projected")
    assert "projected breach in 12 min" in incident.summary


def test_repeated_breaches_note_at_most_every_30_minutes(
    lead, queue, breached, django_capture_on_commit_callbacks
):
    now = timezone.now().replace(second=0, microsecond=0)
    post(
        lead,
        queue,
        breached(taken_at=now - timedelta(minutes=2)),
        django_capture_on_commit_callbacks,
    )
    post(
        lead,
        queue,
        breached(taken_at=now - timedelta(minutes=1)),
        django_capture_on_commit_callbacks,
    )
    incident = Incident.objects.get()
    assert notes(incident) == []  # the incident was just declared

    later = now + timedelta(minutes=31)
    assert queue_trouble_evaluate(queue_id=queue.id, now=later) == incident
    assert queue_trouble_evaluate(queue_id=queue.id, now=later + timedelta(minutes=5)) == incident
    assert Incident.objects.count() == 1
    [note] = notes(incident)
    assert note.startswith("Still breached: attainment 81.0%")


def test_a_resolved_incident_lets_the_next_breach_open_a_new_one(
    lead, manager, queue, breached, django_capture_on_commit_callbacks
):
    now = timezone.now().replace(second=0, microsecond=0)
    post(
        lead,
        queue,
        breached(taken_at=now - timedelta(minutes=1)),
        django_capture_on_commit_callbacks,
    )
    first = Incident.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        incident_transition(actor=manager, incident_id=first.id, target="resolved")
    post(lead, queue, breached(taken_at=now), django_capture_on_commit_callbacks)
    assert Incident.objects.count() == 2
    second = Incident.objects.exclude(id=first.id).get()
    assert second.is_open
    assert IncidentImpact.objects.filter(trouble_key=f"queue:{queue.id}").count() == 2


def test_an_import_checks_each_queue_once(
    lead, queue, breached, django_capture_on_commit_callbacks
):
    now = timezone.now().replace(second=0, microsecond=0)
    rows = [
        {"queue": "en-video", **breached(taken_at=now - timedelta(minutes=m))} for m in range(5)
    ]
    with django_capture_on_commit_callbacks(execute=True):
        assert snapshots_import(actor=lead, rows=rows).ok
    assert Incident.objects.count() == 1


def test_no_owner_no_incident_but_a_warning(
    lead, manager, vendor, queue, breached, caplog, django_capture_on_commit_callbacks
):
    vendor_update(actor=manager, vendor_id=vendor.id, owner=None)
    with caplog.at_level(logging.WARNING, logger="vendors.services.trouble"):
        post(lead, queue, breached(), django_capture_on_commit_callbacks)
    assert not Incident.objects.exists()
    assert "no active owner" in caplog.text


# --- sites ----------------------------------------------------------------------


def change(actor, site, status, reason, capture):
    with capture(execute=True):
        return site_status_change(actor=actor, site_id=site.id, status=status, reason=reason)


def test_a_site_down_opens_a_sev2_and_back_up_notes_it(
    lead, site, django_capture_on_commit_callbacks
):
    change(
        lead, site, "down", "Typhoon: power and network lost", django_capture_on_commit_callbacks
    )
    incident = Incident.objects.get()
    assert incident.severity == "sev2"
    assert incident.title == "Luzon BPO site Manila (Manila) is down"
    assert "Typhoon" in incident.summary
    assert IncidentImpact.objects.get().trouble_key == f"site:{site.id}"

    change(lead, site, "bcp_active", "Cebu took the queues", django_capture_on_commit_callbacks)
    change(lead, site, "operational", "", django_capture_on_commit_callbacks)
    assert Incident.objects.count() == 1
    assert [n.split(" since")[0] for n in notes(incident)] == [
        "Site status: Business-continuity plan active",
        "Site status: Operational",
    ]


def test_a_degraded_site_opens_nothing(lead, site, django_capture_on_commit_callbacks):
    change(
        lead, site, "degraded", "Half the seats on generator", django_capture_on_commit_callbacks
    )
    assert not Incident.objects.exists()


def test_down_twice_while_open_is_one_incident(lead, site, django_capture_on_commit_callbacks):
    change(lead, site, "down", "Power cut", django_capture_on_commit_callbacks)
    change(
        lead, site, "down", "Power cut; generator failed too", django_capture_on_commit_callbacks
    )
    incident = Incident.objects.get()
    assert notes(incident)[0].startswith("Site still down")


# --- stale reports ------------------------------------------------------------------

# Tuesday 1 December 2026, 06:00 UTC = 14:00 in Manila.
NOON_RUN = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)


@pytest.fixture
def day_shift_queue(manager, queue):
    """A queue staffed 09:00-18:00 Manila time, weekdays."""
    return queue_update(
        actor=manager,
        queue_id=queue.id,
        staffed_from=time(9),
        staffed_to=time(18),
        staffed_days=[1, 2, 3, 4, 5],
    )


def test_stale_in_the_staffed_window_opens_one_incident(
    day_shift_queue, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        [incident_id] = stale_reports_check(now=NOON_RUN)
    incident = Incident.objects.get(id=incident_id)
    assert incident.title == "Luzon BPO / English video: no status report"
    assert "no figures ever reported" in incident.summary
    assert IncidentImpact.objects.get().trouble_key == f"stale:{day_shift_queue.id}"
    # The next sweeps update it: a note after 30 minutes, no new incident.
    stale_reports_check(now=NOON_RUN + timedelta(minutes=1))
    stale_reports_check(now=NOON_RUN + timedelta(minutes=31))
    assert Incident.objects.count() == 1
    assert notes(incident)[0].startswith("Still no report")


def test_a_breached_queue_that_stops_reporting_gets_a_stale_incident_of_its_own(
    day_shift_queue, lead, breached, django_capture_on_commit_callbacks
):
    # Breached at 11:00 Manila, then silent past the stale period: the
    # breach's incident names the queue already (once per incident), so
    # the stale trouble opens its own rather than failing to join it.
    taken = NOON_RUN - timedelta(hours=3)
    with django_capture_on_commit_callbacks(execute=True):
        snapshot_post(actor=lead, queue_id=day_shift_queue.id, fields=breached(taken_at=taken))
    breach = queue_trouble_evaluate(queue_id=day_shift_queue.id, now=taken + timedelta(minutes=1))
    assert breach is not None
    with django_capture_on_commit_callbacks(execute=True):
        [stale_id] = stale_reports_check(now=NOON_RUN)
    assert stale_id != breach.id
    assert set(IncidentImpact.objects.values_list("trouble_key", flat=True)) == {
        f"queue:{day_shift_queue.id}",
        f"stale:{day_shift_queue.id}",
    }


@pytest.mark.parametrize(
    "now",
    [
        datetime(2026, 12, 1, 0, 30, tzinfo=UTC),  # 08:30 Manila: before the shift
        datetime(2026, 12, 1, 1, 30, tzinfo=UTC),  # 09:30: shift open 30 min only
        datetime(2026, 12, 1, 10, 0, tzinfo=UTC),  # 18:00: shift over
        datetime(2026, 12, 5, 6, 0, tzinfo=UTC),  # Saturday
    ],
)
def test_no_stale_trouble_outside_the_window_or_its_grace(day_shift_queue, now):
    assert stale_reports_check(now=now) == []
    assert not Incident.objects.exists()


def test_a_report_keeps_a_round_the_clock_queue_fresh_for_an_hour(lead, queue, healthy):
    snapshot = snapshot_post(actor=lead, queue_id=queue.id, fields=healthy())
    assert stale_reports_check(now=snapshot.taken_at + timedelta(minutes=59)) == []
    assert len(stale_reports_check(now=snapshot.taken_at + timedelta(minutes=60))) == 1
    assert "last figures for" in Incident.objects.get().summary


@pytest.fixture
def two_levels(make_user, manager, queue):
    """The vendor's own policy: `first`, then `second` 10 minutes later."""
    from tscc.roles import Role
    from vendors.services import vendor_set_escalation_levels

    first = make_user(Role.RESPONDER, username="vendor-first", display_name="Vendor First")
    second = make_user(Role.OPS_MANAGER, username="vendor-second", display_name="Vendor Second")
    vendor_set_escalation_levels(
        actor=manager,
        vendor_id=queue.vendor_id,
        levels=[
            {"wait_minutes": 10, "user_ids": [first.id]},
            {"wait_minutes": 20, "user_ids": [second.id]},
        ],
    )
    return first, second


def _vendor_escalation(incident):
    from escalations.models import Escalation

    return Escalation.objects.get(incident=incident, kind=Escalation.Kind.REQUESTED)


def test_a_trouble_incident_pages_the_vendors_levels_one_after_the_other(
    two_levels, lead, queue, breached, django_capture_on_commit_callbacks
):
    """Level 1 at once (beside the team's policy, by their own rules); level 2
    after level 1's wait when nobody acknowledged; on the timeline by name."""
    from escalations.models import Page, Timer
    from escalations.services import sweep

    first, second = two_levels
    post(lead, queue, breached(), django_capture_on_commit_callbacks)

    incident = Incident.objects.get()
    escalation = _vendor_escalation(incident)
    assert escalation.snapshot["name"] == "Vendor Luzon BPO escalation"
    assert [p.user for p in escalation.pages.all()] == [first]
    assert escalation.pages.get().deliveries.exists()  # by first's own notification rules
    nxt = Timer.objects.get(escalation=escalation, step=1, state=Timer.State.PENDING)
    fired = Timer.objects.get(escalation=escalation, step=0).fired_at
    assert nxt.due_at - fired == timedelta(minutes=10)

    sweep(now=nxt.due_at - timedelta(seconds=1))
    assert not Page.objects.filter(user=second).exists()  # not yet
    sweep(now=nxt.due_at + timedelta(seconds=1))
    page = Page.objects.get(user=second)
    assert page.escalation_id == escalation.id and page.step == 1
    paged = TimelineEvent.objects.filter(incident=incident, kind="page", data__action="paged")
    assert [(e.data["names"], e.data["name"]) for e in paged.order_by("seq")] == [
        ([str(first)], "Vendor Luzon BPO escalation"),
        ([str(second)], "Vendor Luzon BPO escalation"),
    ]
    assert TimelineEvent.objects.filter(
        incident=incident, kind="page", data__action="requested"
    ).exists()


def test_an_acknowledgement_at_level_1_stops_the_vendors_policy(
    two_levels, lead, queue, breached, django_capture_on_commit_callbacks
):
    from escalations.models import Escalation, Page, Timer
    from escalations.services import page_acknowledge, sweep

    first, second = two_levels
    post(lead, queue, breached(), django_capture_on_commit_callbacks)
    escalation = _vendor_escalation(Incident.objects.get())
    due = Timer.objects.get(escalation=escalation, step=1).due_at

    page_acknowledge(actor=first, page_id=escalation.pages.get().id)

    sweep(now=due + timedelta(minutes=1))
    escalation.refresh_from_db()
    assert escalation.state == Escalation.State.ACKNOWLEDGED
    assert not Page.objects.filter(user=second).exists()


def test_repeated_trouble_does_not_restart_the_vendors_policy(
    two_levels, manager, lead, queue, breached, django_capture_on_commit_callbacks
):
    """Notes every 30 minutes while the incident is open; the vendor's policy
    started once, and asking again with its key returns the running one."""
    from escalations.models import Escalation, Page
    from incidents.signals import incident_paging_requested

    now = timezone.now().replace(second=0, microsecond=0)
    post(
        lead,
        queue,
        breached(taken_at=now - timedelta(minutes=1)),
        django_capture_on_commit_callbacks,
    )
    incident = Incident.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        queue_trouble_evaluate(queue_id=queue.id, now=now + timedelta(minutes=31))
    assert len(notes(incident)) == 1
    incident_paging_requested.send(
        sender="test",
        incident_id=incident.id,
        actor_id=manager.id,
        levels=[{"wait_minutes": 5, "user_ids": [two_levels[1].id]}],
        name="Vendor Luzon BPO escalation",
        key=f"vendor:{queue.vendor_id}",
    )
    assert Escalation.objects.filter(incident=incident, kind="requested").count() == 1
    assert Page.objects.filter(escalation__incident=incident).count() == 1


def test_a_vendor_without_levels_pages_only_the_teams_policy(
    lead, queue, breached, django_capture_on_commit_callbacks
):
    from escalations.models import Escalation

    post(lead, queue, breached(), django_capture_on_commit_callbacks)
    assert not Escalation.objects.filter(incident=Incident.objects.get()).exists()


def test_queues_of_one_vendor_in_trouble_share_one_incident(
    two_levels,
    lead,
    manager,
    vendor,
    site,
    queue,
    breached,
    healthy,
    django_capture_on_commit_callbacks,
):
    from tests.vendors.conftest import established_queue

    second = established_queue(manager, vendor, site, code="zh-live", name="Chinese live")
    from escalations.models import Page

    post(lead, queue, breached(), django_capture_on_commit_callbacks)
    incident = Incident.objects.get()
    # Another queue at risk: it joins the open incident, no second page.
    post(
        lead, second, healthy(backlog=140, inflow_per_hour=420), django_capture_on_commit_callbacks
    )
    assert Incident.objects.count() == 1
    keys = set(
        IncidentImpact.objects.filter(incident=incident).values_list("trouble_key", flat=True)
    )
    assert keys == {f"queue:{queue.id}", f"queue:{second.id}"}
    first, _second = two_levels
    assert [p.user for p in _vendor_escalation(incident).pages.all()] == [first]
    assert Page.objects.filter(user=first).count() == 1  # paged once, not per queue
    [note] = notes(incident)
    assert note.startswith("Also at risk: Luzon BPO / Chinese live: ")
    # Its next trouble is a note on the shared incident, as for the first queue.
    later = timezone.now() + timedelta(minutes=31)
    assert queue_trouble_evaluate(queue_id=second.id, now=later) == incident
    assert notes(incident)[-1].startswith("Still at risk:")
    # Once it is resolved, the next trouble opens a new incident.
    with django_capture_on_commit_callbacks(execute=True):
        incident_transition(actor=manager, incident_id=incident.id, target="resolved")
    post(
        lead,
        second,
        breached(taken_at=healthy()["taken_at"] + timedelta(minutes=1)),
        django_capture_on_commit_callbacks,
    )
    assert Incident.objects.exclude(id=incident.id).get().is_open


def test_another_vendor_s_trouble_is_its_own_incident(
    lead, manager, queue, other_queue, breached, django_capture_on_commit_callbacks
):
    post(lead, queue, breached(), django_capture_on_commit_callbacks)
    post(manager, other_queue, breached(), django_capture_on_commit_callbacks)
    assert Incident.objects.count() == 2
