"""One room served by two ASGI processes at once: the Redis channel layer
carries the fan-out, presence is shared, and a process that dies takes only
its own sockets with it."""

from __future__ import annotations

import asyncio
import json
import re

import pytest
import websockets
from channels.db import database_sync_to_async

from incidents.services import incident_add_note
from tests.incidents.warroom.test_consumer import last_seq, session_cookie_for
from tests.processes import AsgiServer

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]

SEQ = re.compile(r'<article class="room-event[^"]*" id="ev-(\d+)" data-seq="(\d+)"')


@pytest.fixture
def servers(transactional_db, tmp_path):
    started = [AsgiServer(tmp_path / f"asgi{n}.log") for n in (1, 2)]
    yield started
    for server in started:
        server.stop()


async def open_tab(server: AsgiServer, incident_id: int, user, since: int):
    cookie = (await session_cookie_for(user)).decode()
    tab = await websockets.connect(
        f"{server.ws}/ws/incidents/{incident_id}/",
        additional_headers={"Cookie": cookie, "Origin": f"http://localhost:{server.port}"},
        max_size=None,
    )
    await tab.send(json.dumps({"type": "resume", "last_seq": since}))
    tab.caught_up = []  # sequences the resume sent
    async with asyncio.timeout(10):
        while 'id="room-sync"' not in (frame := await tab.recv()):
            tab.caught_up += [int(m[1]) for m in SEQ.finditer(frame)]
    return tab


async def until(tab, marker: str, timeout: float = 10) -> str:
    async with asyncio.timeout(timeout):
        while True:
            frame = await tab.recv()
            if marker in frame:
                return frame


async def test_two_processes_serve_one_room(room, servers):
    one, two = servers
    start = await database_sync_to_async(last_seq)(room.incident)
    alice = await open_tab(one, room.incident.id, room.alice, start)
    bob = await open_tab(two, room.incident.id, room.bob, start)

    # Presence is shared: alice (on process one) sees bob (on process two).
    frame = await until(alice, "Bob")
    assert "room-presence" in frame and "Alice" in frame

    # A message posted on one process reaches a socket on the other, and a
    # change made outside both (this test process) reaches both.
    await alice.send(json.dumps({"type": "chat", "text": "from process one"}))
    got = await until(bob, "from process one")
    assert [int(m[1]) for m in SEQ.finditer(got)] == [start + 1]
    await bob.send(json.dumps({"type": "chat", "text": "and back from two"}))
    assert "and back from two" in await until(alice, "and back from two")
    await database_sync_to_async(incident_add_note)(
        actor=room.manager, incident_id=room.incident.id, text="a note from elsewhere"
    )
    for tab in (alice, bob):
        assert f'data-seq="{start + 3}"' in await until(tab, "a note from elsewhere")

    # Process one dies: bob keeps the room; alice reconnects to two and gets
    # what she missed, in order.
    one.stop()
    await bob.send(json.dumps({"type": "chat", "text": "said while one was down"}))
    await until(bob, "said while one was down")
    alice = await open_tab(two, room.incident.id, room.alice, start + 3)
    assert alice.caught_up == [start + 4]  # exactly what she missed
    await alice.send(json.dumps({"type": "chat", "text": "alice is back"}))
    assert "alice is back" in await until(bob, "alice is back")
    await alice.close()
    await bob.close()
