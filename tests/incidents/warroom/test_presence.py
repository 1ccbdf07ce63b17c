"""Presence at scale and paging in the presence panel, through the real
channels-redis layer: joins share broadcasts, responders who were paged
and have not joined are listed until they come in."""

from __future__ import annotations

import asyncio

import pytest
from channels.db import database_sync_to_async

from escalations import services as escalation_services
from escalations.models import EscalationPolicy, LevelTarget, Page, PolicyLevel, RoutingRule
from incidents import warroom
from tests.incidents.warroom.test_consumer import (
    close_every_socket,  # noqa: F401 - the autouse fixture, for this module too
    connect,
    presence_names,
    until,
)
from tscc.roles import Role

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


def section(frame: str, css: str) -> str:
    marker = f'<ul class="{css}">'
    return frame.split(marker)[1].split("</ul>")[0] if marker in frame else ""


async def presence_frames(tab, quiet: float = 1.0) -> list[str]:
    """Every presence frame until the room has been quiet for `quiet` seconds."""
    frames = []
    while not await tab.receive_nothing(timeout=quiet):  # a timeout would end the consumer
        frame = await tab.receive_from()
        if "room-presence" in frame:
            frames.append(frame)
    return frames


async def test_many_joins_at_once_share_a_few_presence_broadcasts(room, make_user):
    alice, _ = await connect(room.incident.id, room.alice)
    await until(alice, "room-presence")
    crowd = [
        await database_sync_to_async(make_user)(
            Role.RESPONDER, username=f"crowd{n}", display_name=f"Crowd{n:02d}"
        )
        for n in range(25)
    ]
    tabs = await asyncio.gather(*(connect(room.incident.id, user) for user in crowd))
    assert all(ok for _tab, ok in tabs)
    frames = await presence_frames(alice)
    # 25 joins within a few coalescing windows: a few frames, not 25.
    assert 1 <= len(frames) <= 6, len(frames)
    last = frames[-1]
    assert 'data-count="26"' in last
    assert sorted(presence_names(last)) == sorted(["Alice"] + [f"Crowd{n:02d}" for n in range(25)])


async def test_a_long_presence_list_is_cut_with_a_count(room, make_user, settings):
    users = [
        await database_sync_to_async(make_user)(
            Role.OPS_MANAGER, username=f"m{n:03d}", display_name=f"Person{n:03d}"
        )
        for n in range(warroom.PRESENCE_SHOWN + 5)
    ]
    for user in users:
        await database_sync_to_async(warroom.presence_touch)(
            room.incident.id, user.id, f"c{user.id}"
        )
    alice, _ = await connect(room.incident.id, room.alice)
    frame = await until(alice, "room-presence")
    assert f'data-count="{warroom.PRESENCE_SHOWN + 6}"' in frame
    assert len(presence_names(frame)) == warroom.PRESENCE_SHOWN
    assert "and 6 more" in section(frame, "room-present")


@pytest.fixture
def paging_carol(room, make_user):
    carol = make_user(Role.RESPONDER, username="carol", display_name="Carol")
    policy = EscalationPolicy.objects.create(name="Room test", repeat=0)
    level = PolicyLevel.objects.create(policy=policy, position=0, wait_minutes=5)
    LevelTarget.objects.create(level=level, kind="user", user=carol)
    RoutingRule.objects.create(policy=policy, position=0)
    return carol


async def test_paged_responders_are_listed_until_they_join(room, paging_carol):
    carol = paging_carol
    alice, _ = await connect(room.incident.id, room.alice)
    first = await until(alice, "room-presence")
    assert "Carol" not in first  # not paged yet

    await database_sync_to_async(escalation_services.escalation_start)(
        incident_id=room.incident.id, fire_now=True
    )
    paged = await until(alice, "room-paged")
    assert "Carol" in section(paged, "room-paged")
    assert 'data-page-state="' in paged
    assert "Carol" not in section(paged, "room-absent")

    page = await database_sync_to_async(Page.objects.get)(user=carol)
    await database_sync_to_async(escalation_services.page_acknowledge)(actor=carol, page_id=page.id)
    acked = await until(alice, "room-paged")
    assert 'data-page-state="acknowledged"' in section(acked, "room-paged")

    await connect(room.incident.id, carol)  # she comes in: present, no longer waited for
    here = await until(alice, "room-presence")
    assert "Carol" in presence_names(here)
    assert "room-paged" not in here
