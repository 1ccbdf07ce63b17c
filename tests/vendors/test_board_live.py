"""The ops board's socket through the real channels-redis layer: who may
listen, a notice after figures commit, bursts coalesced."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.core.cache import cache

from tests.incidents.warroom.test_consumer import session_cookie_for
from tscc.asgi import application
from tscc.roles import Role
from vendors import realtime
from vendors.realtime import CHANGED_FRAME, COALESCE_SECONDS
from vendors.services import site_status_change, snapshot_post

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


async def board_socket(user):
    headers = [(b"origin", b"http://localhost"), (b"host", b"localhost")]
    if user is not None:
        headers.append((b"cookie", await session_cookie_for(user)))
    tab = WebsocketCommunicator(application, "/ws/vendors/board/", headers=headers)
    connected, _ = await tab.connect()
    return tab, connected


async def test_who_may_listen(make_user, lead):
    for user, allowed in (
        (None, False),
        (lead, False),  # a BPO lead has the portal, not the board
        (await database_sync_to_async(make_user)(Role.EXECUTIVE, username="ex"), True),
        (await database_sync_to_async(make_user)(Role.RESPONDER, username="re"), True),
    ):
        tab, connected = await board_socket(user)
        assert connected is allowed, user
        if connected:
            await tab.disconnect()


async def test_figures_and_site_changes_notify_open_boards_once_per_burst(
    manager, lead, queue, site, healthy
):
    await database_sync_to_async(cache.delete)("vendors:board-changed")
    realtime._last_sent = 0.0  # no notice of an earlier test's still counts
    tab, connected = await board_socket(manager)
    assert connected
    start = healthy()["taken_at"]
    for minutes in (0, 1, 2):  # a burst: one notice
        await database_sync_to_async(snapshot_post)(
            actor=lead,
            queue_id=queue.id,
            fields=healthy(taken_at=start - timedelta(minutes=minutes)),
        )
    assert await tab.receive_from(timeout=5) == CHANGED_FRAME
    assert await tab.receive_nothing(timeout=0.5)
    await asyncio.sleep(COALESCE_SECONDS + 0.2)  # the window passes
    await database_sync_to_async(site_status_change)(
        actor=lead, site_id=site.id, status="degraded", reason="Typhoon signal no. 8"
    )
    assert await tab.receive_from(timeout=5) == CHANGED_FRAME
    await tab.disconnect()
