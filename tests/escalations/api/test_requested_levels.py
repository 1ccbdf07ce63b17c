"""Levels another app asks for (a vendor's escalation policy): run beside
the incident's policy as a policy of their own, once per key; they never
count as the incident's policy; shown by their name on the paging panel
and in the API's history."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from escalations import services
from escalations.models import Escalation, Page, Timer
from tests.incidents.factories import declare
from tscc.exceptions import InvalidInput

pytestmark = pytest.mark.django_db

NAME = "Vendor Luzon BPO escalation"


def ask(cast, incident, levels=None, **kwargs):
    return services.escalation_start_levels(
        actor=cast.manager,
        incident_id=incident.id,
        name=NAME,
        key="vendor:1",
        levels=levels or [{"wait_minutes": 5, "user_ids": [cast.outsider.id]}],
        message="Queue breached",
        **kwargs,
    )


def test_requested_levels_run_beside_the_policy_once(api_as, client, cast, paging):
    requested = ask(cast, paging.incident)
    assert requested.kind == Escalation.Kind.REQUESTED
    assert requested.snapshot["levels"] == [
        {"wait": 5, "targets": [{"kind": "user", "id": cast.outsider.id}]}
    ]
    assert [p.user for p in requested.pages.all()] == [cast.outsider]
    assert ask(cast, paging.incident) == requested  # the same key while active: no restart
    assert Escalation.objects.filter(kind=Escalation.Kind.REQUESTED).count() == 1
    # The incident's policy is still its policy.
    assert services.escalation_start(incident_id=paging.incident.id) == paging.escalation

    client.force_login(cast.manager)
    panel = client.get(
        reverse("escalations:incident-pages", args=[paging.incident.id])
    ).content.decode()
    assert "Also paging by" in panel and NAME in panel and "Queue breached" in panel
    history = api_as(cast.manager).get(f"/incidents/{paging.incident.id}/escalations/").json()
    [row] = (
        [e for e in history if e["kind"] == "requested"]
        if isinstance(history, list)
        else [e for e in history["results"] if e["kind"] == "requested"]
    )
    assert row["name"] == NAME and row["policy"] is None and row["message"] == "Queue breached"


def test_acknowledging_stops_only_the_requested_levels(cast, paging):
    requested = ask(
        cast,
        paging.incident,
        levels=[
            {"wait_minutes": 5, "user_ids": [cast.outsider.id]},
            {"wait_minutes": 5, "user_ids": [cast.manager.id]},
        ],
    )
    services.page_acknowledge(actor=cast.outsider, page_id=requested.pages.get().id)
    requested.refresh_from_db()
    paging.escalation.refresh_from_db()
    assert requested.state == Escalation.State.ACKNOWLEDGED
    assert paging.escalation.state == Escalation.State.ACTIVE  # the policy keeps paging
    services.sweep(now=requested.started_at + timedelta(minutes=6))
    assert not Page.objects.filter(escalation=requested, user=cast.manager).exists()


def test_a_requested_escalation_does_not_stop_the_missed_start(cast, policy, rule):
    incident = declare(cast.manager, commander=cast.ana)
    ask(cast, incident)
    started = services.escalations_start_missed(now=incident.declared_at + timedelta(minutes=1))
    assert started == [incident.id]
    assert Escalation.objects.filter(incident=incident, kind=Escalation.Kind.POLICY).exists()


@pytest.mark.parametrize(
    ("levels", "field"),
    [
        ([{"wait_minutes": 0, "user_ids": [1]}], "levels.1.wait_minutes"),
        (
            [{"wait_minutes": 5, "user_ids": [1]}, {"wait_minutes": 5, "user_ids": []}],
            "levels.2.user_ids",
        ),
        ([], "levels"),
    ],
)
def test_bad_levels_page_nobody(cast, paging, levels, field):
    with pytest.raises(InvalidInput) as refused:
        services.escalation_start_levels(
            actor=cast.manager, incident_id=paging.incident.id, name=NAME, levels=levels
        )
    assert field in refused.value.fields
    assert not Escalation.objects.filter(kind=Escalation.Kind.REQUESTED).exists()
    assert Timer.objects.filter(escalation__kind=Escalation.Kind.REQUESTED).count() == 0
