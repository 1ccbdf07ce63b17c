"""Paging more people by hand (`incident_page_people`): pages now, beside the
policy (which keeps paging), through each person's own rules and contact
methods (proven against a loopback sink), whoever is on call for a chosen
schedule, nobody paged twice, who may, bad input; acknowledging such a page
(the person comes: the policy and the incident are not acknowledged by it);
and the incident's end standing everyone down."""

from __future__ import annotations

import json
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from escalations import services
from escalations.models import (
    Delivery,
    Escalation,
    EscalationPolicy,
    LevelTarget,
    Page,
    PolicyLevel,
    RoutingRule,
    Timer,
)
from incidents.models import Incident, Participant, TimelineEvent
from incidents.services import incident_transition
from oncall import services as oncall_services
from tests.escalations.sink import PATHS, Sink
from tests.escalations.test_delivery_sink import acks_page, later, subscribe
from tests.incidents.factories import declare
from tscc.exceptions import ApplicationError, InvalidInput, NotAllowed
from tscc.roles import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def sink():
    with Sink(200) as server:
        yield server


@pytest.fixture
def cast(make_user):
    from types import SimpleNamespace

    manager = make_user(Role.OPS_MANAGER, username="mgr", display_name="Wang Min")
    rita = make_user(Role.RESPONDER, username="rita", display_name="Rita Responder")
    sam = make_user(Role.RESPONDER, username="sam", display_name="Sam Specialist")
    li = make_user(Role.RESPONDER, username="li", display_name="Li Lei")
    outsider = make_user(Role.RESPONDER, username="out", display_name="Olga Outsider")
    policy = EscalationPolicy.objects.create(name="Default")
    level = PolicyLevel.objects.create(policy=policy, position=0, wait_minutes=60)
    LevelTarget.objects.create(level=level, kind="user", user=rita)
    RoutingRule.objects.create(policy=policy, position=0)
    on_call = oncall_services.schedule_save(
        actor=manager, name="Legal on call", time_zone="Asia/Shanghai"
    )
    anchor = timezone.localtime(timezone.now(), ZoneInfo("Asia/Shanghai")) - timedelta(days=1)
    oncall_services.layer_create(
        actor=manager,
        schedule=on_call,
        name="Weekly",
        users=[li],
        unit="weeks",
        count=1,
        anchor=anchor.replace(minute=0, second=0, microsecond=0),
    )
    empty = oncall_services.schedule_save(
        actor=manager, name="Nobody yet", time_zone="Asia/Shanghai"
    )
    return SimpleNamespace(
        manager=manager,
        rita=rita,
        sam=sam,
        li=li,
        outsider=outsider,
        schedule=on_call,
        empty_schedule=empty,
        executive=make_user(Role.EXECUTIVE, username="exec"),
        bpo=make_user(Role.BPO_LEAD, username="bpo"),
        gone=make_user(Role.RESPONDER, username="gone", is_active=False),
    )


@pytest.fixture
def incident(cast):
    """Commanded by Rita and paging her by the policy (its first step fired)."""
    incident = declare(cast.manager, commander=cast.rita)
    escalation = services.escalation_start(incident_id=incident.id)
    services.timer_fire(timer_id=Timer.objects.get(escalation=escalation, step=0).id)
    return incident


def policy_escalation(incident) -> Escalation:
    return Escalation.objects.get(incident=incident, kind="policy")


def page(actor, incident, **kwargs) -> services.PeoplePaged:
    return services.incident_page_people(actor=actor, incident_id=incident.id, **kwargs)


def test_people_are_paged_now_by_their_own_rules_through_the_sink(cast, incident, sink):
    subscribe(cast.sam, sink.base, channels=("webhook", "feishu"))
    result = page(cast.rita, incident, user_ids=[cast.sam.id], message="Need payments eyes")
    assert result.skipped == []
    [sam_page] = result.pages
    adhoc = result.escalation
    assert (adhoc.kind, adhoc.state, adhoc.started_by) == ("adhoc", "active", cast.rita)
    assert adhoc.snapshot["message"] == "Need payments eyes"
    assert (sam_page.user, sam_page.state) == (cast.sam, "triggered")
    deliveries = Delivery.objects.filter(page=sam_page)
    assert sorted(deliveries.values_list("channel", flat=True)) == ["feishu", "webhook"]

    _fired, sent = services.sweep(now=later())
    assert sent == 3 and len(sink.requests) == 2  # and Rita's in-app page by the policy
    [hook] = sink.to(PATHS["webhook"])
    payload = json.loads(hook["body"])
    assert acks_page(payload["ack_url"], sam_page)
    assert "Need payments eyes" in payload["text"] and "Rita Responder" in payload["text"]
    [feishu] = sink.to(PATHS["feishu"])
    assert acks_page(json.loads(feishu["body"])["content"]["text"], sam_page)
    sam_page.refresh_from_db()
    assert sam_page.state == "notified"
    assert set(deliveries.values_list("state", flat=True)) == {"sent"}

    # The policy keeps paging: its escalation and next step are untouched.
    running = policy_escalation(incident)
    assert running.state == "active"
    assert Timer.objects.filter(escalation=running, state="pending").count() == 1
    assert services.escalation_start(incident_id=incident.id) == running

    [event] = TimelineEvent.objects.filter(incident=incident, kind="page", data__action="paged_by")
    assert event.data["names"] == ["Sam Specialist"]
    assert event.data["by"] == "Rita Responder" and event.text == "Need payments eyes"


def test_a_person_without_rules_is_still_reached_in_the_app(cast, incident):
    [only] = page(cast.manager, incident, user_ids=[cast.sam.id]).pages
    assert list(Delivery.objects.filter(page=only).values_list("channel", flat=True)) == ["app"]


def test_a_schedule_pages_whoever_is_on_call_now(cast, incident):
    result = page(
        cast.manager,
        incident,
        user_ids=[cast.li.id],  # also on call: paged once
        schedule_ids=[cast.schedule.id, cast.empty_schedule.id],
    )
    assert [p.user for p in result.pages] == [cast.li]
    assert result.skipped == [
        {
            "kind": "schedule",
            "id": cast.empty_schedule.id,
            "name": "Nobody yet",
            "reason": "nobody_on_call",
        }
    ]
    only_schedule = page(cast.manager, incident, schedule_ids=[cast.empty_schedule.id])
    assert only_schedule.escalation is None and only_schedule.pages == []


def test_someone_with_an_open_page_is_not_paged_twice(cast, incident):
    first = page(cast.manager, incident, user_ids=[cast.sam.id])
    again = page(cast.manager, incident, user_ids=[cast.sam.id, cast.rita.id, cast.li.id])
    assert [p.user for p in again.pages] == [cast.li]
    assert again.skipped == [
        {"kind": "user", "id": cast.sam.id, "name": "Sam Specialist", "reason": "already_paged"},
        {"kind": "user", "id": cast.rita.id, "name": "Rita Responder", "reason": "already_paged"},
    ]
    [event] = TimelineEvent.objects.filter(
        incident=incident, data__action="paged_by", data__names=["Li Lei"]
    )
    assert event is not None
    nobody = page(cast.manager, incident, user_ids=[cast.sam.id])
    assert nobody.escalation is None and nobody.skipped[0]["reason"] == "already_paged"
    # Once acknowledged, the person may be paged again.
    services.page_acknowledge(actor=cast.sam, page_id=first.pages[0].id)
    assert [p.user for p in page(cast.manager, incident, user_ids=[cast.sam.id]).pages] == [
        cast.sam
    ]


def test_who_may_page_more_people(cast, incident):
    with pytest.raises(NotAllowed):  # a responder not taking part
        page(cast.outsider, incident, user_ids=[cast.sam.id])
    with pytest.raises(NotAllowed):
        page(cast.executive, incident, user_ids=[cast.sam.id])
    assert page(cast.rita, incident, user_ids=[cast.sam.id]).pages  # takes part (commands)
    assert not Escalation.objects.filter(incident=incident, started_by=cast.outsider).exists()
    incident_transition(actor=cast.manager, incident_id=incident.id, target="resolved")
    with pytest.raises(ApplicationError) as over:
        page(cast.manager, incident, user_ids=[cast.li.id])
    assert over.value.code == "incident_over"


@pytest.mark.parametrize(
    ("who", "kwargs", "field"),
    [
        ("nobody", {}, "user_ids"),
        ("unknown", {"user_ids": [999999]}, "user_ids"),
        ("gone", {}, "user_ids"),
        ("bpo", {}, "user_ids"),
        ("executive", {}, "user_ids"),
        ("sam", {"message": "x" * 501}, "message"),
        ("sam", {"schedule_ids": [999999]}, "schedule_ids"),
    ],
)
def test_bad_input_pages_nobody(cast, incident, who, kwargs, field):
    if who not in ("nobody", "unknown"):
        kwargs = {"user_ids": [getattr(cast, who).id], **kwargs}
    before = Page.objects.count()
    with pytest.raises(InvalidInput) as refused:
        page(cast.manager, incident, **kwargs)
    assert field in refused.value.fields
    assert Page.objects.count() == before
    assert not Escalation.objects.filter(kind="adhoc").exists()


def test_a_message_of_500_characters_is_fine(cast, incident):
    assert page(cast.manager, incident, user_ids=[cast.sam.id], message="x" * 500).pages


def test_acknowledging_a_page_by_hand_brings_the_person_not_the_incident(cast, incident):
    state_before = Incident.objects.get(id=incident.id).state
    result = page(cast.manager, incident, user_ids=[cast.sam.id, cast.li.id])
    sam_page, li_page = sorted(result.pages, key=lambda p: p.user.username != "sam")
    services.page_acknowledge(actor=cast.sam, page_id=sam_page.id)

    sam_page.refresh_from_db()
    assert sam_page.state == "acknowledged"
    assert Participant.objects.filter(incident=incident, user=cast.sam).exists()
    assert set(Delivery.objects.filter(page=sam_page).values_list("state", flat=True)) <= {
        "cancelled",
        "sent",
    }
    assert TimelineEvent.objects.filter(
        incident=incident, data__action="acknowledged", data__names=["Sam Specialist"]
    ).exists()
    # The policy keeps paging, the incident is not acknowledged by it.
    running = policy_escalation(incident)
    assert running.state == "active" and running.acknowledged_by is None
    assert Timer.objects.filter(escalation=running, state="pending").exists()
    assert Page.objects.get(escalation=running, user=cast.rita).state == "triggered"
    assert Incident.objects.get(id=incident.id).state == state_before
    # Li's page still waits: the ad-hoc escalation goes on until both answer.
    adhoc = Escalation.objects.get(id=result.escalation.id)
    assert adhoc.state == "active"
    services.page_acknowledge(actor=cast.rita, page_id=li_page.id)  # the commander, for Li
    adhoc.refresh_from_db()
    assert (adhoc.state, adhoc.acknowledged_by) == ("acknowledged", cast.rita)
    assert Participant.objects.filter(incident=incident, user=cast.li).exists()
    assert policy_escalation(incident).state == "active"


def test_acknowledging_the_policy_page_leaves_pages_by_hand_open(cast, incident):
    result = page(cast.manager, incident, user_ids=[cast.sam.id])
    rita_page = Page.objects.get(escalation=policy_escalation(incident), user=cast.rita)
    services.page_acknowledge(actor=cast.rita, page_id=rita_page.id)
    assert policy_escalation(incident).state == "acknowledged"
    assert Escalation.objects.get(id=result.escalation.id).state == "active"
    assert Page.objects.get(id=result.pages[0].id).state == "triggered"


def test_resolving_the_incident_stands_everyone_down(
    cast, incident, django_capture_on_commit_callbacks
):
    result = page(cast.manager, incident, user_ids=[cast.sam.id])
    Delivery.objects.filter(page=result.pages[0]).update(due_at=timezone.now() + timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=True):
        incident_transition(actor=cast.manager, incident_id=incident.id, target="resolved")
    adhoc = Escalation.objects.get(id=result.escalation.id)
    assert adhoc.state == "resolved"
    assert Page.objects.get(id=result.pages[0].id).state == "resolved"
    assert set(Delivery.objects.filter(page=result.pages[0]).values_list("state", flat=True)) == {
        "cancelled"
    }
    assert policy_escalation(incident).state == "resolved"


def test_switching_the_policy_leaves_pages_by_hand_alone(cast, incident):
    result = page(cast.manager, incident, user_ids=[cast.sam.id])
    other = EscalationPolicy.objects.create(name="Nights")
    level = PolicyLevel.objects.create(policy=other, position=0, wait_minutes=5)
    LevelTarget.objects.create(level=level, kind="user", user=cast.li)
    services.escalation_switch(actor=cast.manager, incident_id=incident.id, policy_id=other.id)
    assert Escalation.objects.get(id=result.escalation.id).state == "active"
    assert Page.objects.get(id=result.pages[0].id).state == "triggered"
    kinds = Escalation.objects.filter(incident=incident).values_list("kind", "state")
    assert sorted(kinds) == [("adhoc", "active"), ("policy", "active"), ("policy", "replaced")]


def test_a_page_by_hand_does_not_stop_the_missed_start_sweep(cast):
    incident = declare(cast.manager, commander=cast.rita)
    page(cast.manager, incident, user_ids=[cast.sam.id])
    Incident.objects.filter(id=incident.id).update(
        declared_at=timezone.now() - timedelta(seconds=30)
    )
    assert services.escalations_start_missed() == [incident.id]
    assert policy_escalation(incident).state == "active"


def test_the_one_tap_link_acknowledges_a_page_by_hand(client, cast, incident):
    [sam_page] = page(cast.manager, incident, user_ids=[cast.sam.id]).pages
    url = f"/escalations/ack/{services.ack_token(sam_page.id)}/"
    assert b"Acknowledge" in client.get(url).content
    done = client.post(url)
    assert done.status_code == 200 and b"taking part in the incident" in done.content
    assert Page.objects.get(id=sam_page.id).state == "acknowledged"
    assert policy_escalation(incident).state == "active"
