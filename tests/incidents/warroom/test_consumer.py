"""The war-room socket through the real ASGI app and the real channels-redis layer."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re

import pytest
import pytest_asyncio
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from incidents.consumers import PENDING_PRESENCE, RECHECKS
from incidents.models import TimelineEvent
from incidents.services import incident_acknowledge, incident_add_note
from tscc.asgi import application

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]

OPEN: list[WebsocketCommunicator] = []


@pytest_asyncio.fixture(autouse=True)
async def close_every_socket(transactional_db):
    """Every consumer ends with its test, even a failing one: a consumer left
    waiting on the channel layer holds the layer's receive lock on a dead loop."""
    yield
    while OPEN:
        tab = OPEN.pop()
        with contextlib.suppress(Exception):  # already gone
            await tab.disconnect(timeout=2)
    # Presence broadcasts scheduled by the departures end with the test too.
    pending = PENDING_PRESENCE | RECHECKS
    if pending:
        await asyncio.wait(list(pending), timeout=5)


SEQ = re.compile(r'<article class="room-event[^"]*" id="ev-(\d+)" data-seq="(\d+)"')


@database_sync_to_async
def session_cookie_for(user) -> bytes:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


async def connect(incident_id, user=None, *, resume: int | None = None):
    headers = [(b"origin", b"http://localhost"), (b"host", b"localhost")]
    if user is not None:
        headers.append((b"cookie", await session_cookie_for(user)))
    tab = WebsocketCommunicator(application, f"/ws/incidents/{incident_id}/", headers=headers)
    OPEN.append(tab)
    connected, _ = await tab.connect()
    if connected and resume is not None:
        await send(tab, type="resume", last_seq=resume)
        await until(tab, "room-sync")
    return tab, connected


async def send(tab, **frame):
    await tab.send_to(text_data=json.dumps(frame))


async def until(tab, marker: str, timeout: float = 5) -> str:
    """The next frame containing `marker`, skipping others (presence, events)."""
    while True:
        frame = await tab.receive_from(timeout=timeout)
        if marker in frame:
            return frame


async def events(tab, count: int) -> list[str]:
    """The next `count` event frames, skipping presence frames."""
    frames = []
    while len(frames) < count:
        frame = await tab.receive_from(timeout=5)
        if 'id="room-timeline"' in frame:
            frames.append(frame)
    return frames


def seqs(frames) -> list[int]:
    return [int(m[1]) for f in frames for m in SEQ.finditer(f)]


def error_code(frame: str) -> str:
    return re.search(r'data-code="([a-z_]+)"', frame)[1]


async def drain(tab):
    while not await tab.receive_nothing(timeout=0.2):
        await tab.receive_from()


def last_seq(incident) -> int:
    incident.refresh_from_db()
    return incident.last_seq


async def test_two_participants_see_each_others_messages_in_order(room):
    start = await database_sync_to_async(last_seq)(room.incident)
    alice, _ = await connect(room.incident.id, room.alice, resume=start)
    bob, _ = await connect(room.incident.id, room.bob, resume=start)

    await send(alice, type="chat", text="first from alice")
    first = await events(bob, 1)  # bob replies to what he has seen
    await send(bob, type="chat", text="then bob", reply_to=start + 1)
    # Alice answers once she has seen Bob (two sockets racing would commit
    # in either order).
    seen_by_alice = await events(alice, 2)
    await send(alice, type="chat", text="and alice again")

    seen_by_alice += await events(alice, 1)
    seen_by_bob = first + await events(bob, 2)
    assert seqs(seen_by_alice) == seqs(seen_by_bob) == [start + 1, start + 2, start + 3]
    assert "first from alice" in seen_by_bob[0]
    assert "then bob" in seen_by_alice[1] and f'data-reply-to="{start + 1}"' in seen_by_alice[1]
    for frame in seen_by_bob:
        assert "room-header" not in frame  # chat changes nothing the header shows
    for tab in (alice, bob):
        await tab.disconnect()


async def test_a_resume_gets_exactly_the_missed_events_in_order(room):
    start = await database_sync_to_async(last_seq)(room.incident)
    alice, _ = await connect(room.incident.id, room.alice, resume=start)
    bob, _ = await connect(room.incident.id, room.bob, resume=start)
    await send(alice, type="chat", text="one")
    assert seqs(await events(bob, 1)) == [start + 1]
    await bob.disconnect()

    for text in ("two", "three", "four"):
        await send(alice, type="chat", text=text)
    await events(alice, 4)

    bob, _ = await connect(room.incident.id, room.bob)
    await send(bob, type="resume", last_seq=start + 1)
    frames = []
    while True:
        frame = await bob.receive_from(timeout=5)
        if "room-sync" in frame:
            sync = frame
            break
        if "room-timeline" in frame:
            frames.append(frame)
    assert seqs(frames) == [start + 2, start + 3, start + 4]
    assert ["two" in frames[0], "three" in frames[1], "four" in frames[2]] == [True] * 3
    assert '<header id="room-header"' in frames[-1]
    assert sync == f'<div id="room-sync" hx-swap-oob="true" data-seq="{start + 4}"></div>'

    # live again, with no duplicate of what the resume sent
    await send(alice, type="chat", text="five")
    assert seqs(await events(bob, 1)) == [start + 5]
    await drain(bob)
    for tab in (alice, bob):
        await tab.disconnect()


async def test_an_event_committed_during_a_resume_is_sent_once(room, monkeypatch):
    """Its live copy waits in the queue while the resume reads it from the database."""
    from incidents import warroom

    start = await database_sync_to_async(last_seq)(room.incident)
    read = warroom.catch_up_frames

    def commit_then_read(*args):
        monkeypatch.setattr(warroom, "catch_up_frames", read)
        incident_add_note(actor=room.alice, incident_id=room.incident.id, text="racing")
        return read(*args)

    monkeypatch.setattr(warroom, "catch_up_frames", commit_then_read)
    bob, _ = await connect(room.incident.id, room.bob)
    await send(bob, type="resume", last_seq=start)
    frames = [await until(bob, "room-timeline")]
    await until(bob, "room-sync")
    await database_sync_to_async(incident_add_note)(
        actor=room.alice, incident_id=room.incident.id, text="after"
    )
    frames += await events(bob, 1)
    assert seqs(frames) == [start + 1, start + 2]
    assert "racing" in frames[0]
    await bob.disconnect()


async def test_a_resume_from_beyond_the_last_event_is_put_back(room):
    start = await database_sync_to_async(last_seq)(room.incident)
    bob, _ = await connect(room.incident.id, room.bob)
    await send(bob, type="resume", last_seq=start + 50)
    assert f'data-seq="{start}"' in await until(bob, "room-sync")
    await database_sync_to_async(incident_add_note)(
        actor=room.alice, incident_id=room.incident.id, text="after"
    )
    assert seqs(await events(bob, 1)) == [start + 1]
    await bob.disconnect()


async def test_a_dropped_group_message_is_filled_from_the_database(room, monkeypatch):
    start = await database_sync_to_async(last_seq)(room.incident)
    bob, _ = await connect(room.incident.id, room.bob, resume=start)
    monkeypatch.setattr("incidents.events._send", lambda *a, **k: None)  # the layer drops it
    await database_sync_to_async(incident_add_note)(
        actor=room.alice, incident_id=room.incident.id, text="lost"
    )
    monkeypatch.undo()
    await database_sync_to_async(incident_add_note)(
        actor=room.alice, incident_id=room.incident.id, text="next"
    )
    frames = await events(bob, 2)
    assert seqs(frames) == [start + 1, start + 2]
    assert "lost" in frames[0]
    await bob.disconnect()


@pytest.mark.parametrize("who", ["bpo_lead", None])
async def test_who_may_not_see_the_incident_is_refused(room, who):
    _tab, connected = await connect(room.incident.id, getattr(room, who) if who else None)
    assert connected is False


async def test_an_inactive_user_and_a_missing_incident_are_refused(room):
    _tab, connected = await connect(room.incident.id + 1000, room.alice)
    assert connected is False
    room.bob.is_active = False
    await database_sync_to_async(room.bob.save)()
    _tab, connected = await connect(room.incident.id, room.bob)
    assert connected is False


@pytest.mark.parametrize("who", ["executive", "outsider"])
async def test_a_watcher_sees_the_room_but_cannot_write(room, who):
    start = await database_sync_to_async(last_seq)(room.incident)
    watcher, connected = await connect(room.incident.id, getattr(room, who), resume=start)
    assert connected
    await send(watcher, type="chat", text="let me in")
    frame = await until(watcher, "room-error")
    assert error_code(frame) == "read_only"
    assert not await database_sync_to_async(
        TimelineEvent.objects.filter(incident=room.incident, kind="message").exists
    )()
    alice, _ = await connect(room.incident.id, room.alice, resume=start)
    await send(alice, type="chat", text="you can read this")
    assert "you can read this" in (await events(watcher, 1))[0]
    await send(watcher, type="pin", seq=start + 1)
    assert error_code(await until(watcher, "room-error")) == "read_only"
    for tab in (alice, watcher):
        await tab.disconnect()


async def test_losing_access_is_noticed_on_the_next_message(room):
    bob, _ = await connect(room.incident.id, room.bob, resume=0)
    room.bob.role = "bpo_lead"
    await database_sync_to_async(room.bob.save)()
    await send(bob, type="chat", text="am I still in?")  # a write re-checks at once
    assert error_code(await until(bob, "room-error")) == "forbidden"
    assert (await bob.receive_output(timeout=5)) == {"type": "websocket.close", "code": 4403}
    await bob.disconnect()


async def test_losing_access_stops_the_events_a_quiet_socket_is_sent(room, monkeypatch):
    monkeypatch.setattr("incidents.consumers.ACCESS_RECHECK", 0)  # re-check every event
    start = await database_sync_to_async(last_seq)(room.incident)
    bob, _ = await connect(room.incident.id, room.bob, resume=start)
    await drain(bob)
    room.bob.role = "bpo_lead"
    await database_sync_to_async(room.bob.save)()
    await database_sync_to_async(incident_add_note)(
        actor=room.alice, incident_id=room.incident.id, text="secret"
    )
    frame = await bob.receive_from(timeout=5)
    assert error_code(frame) == "forbidden"
    assert (await bob.receive_output(timeout=5)) == {"type": "websocket.close", "code": 4403}
    assert await bob.receive_nothing(timeout=0.5)
    await bob.disconnect()


async def test_a_flood_is_rate_limited(room):
    start = await database_sync_to_async(last_seq)(room.incident)
    alice, _ = await connect(room.incident.id, room.alice, resume=start)
    for n in range(13):
        await send(alice, type="chat", text=f"flood {n}")
    codes, posted = [], []
    while len(codes) + len(posted) < 13:
        frame = await alice.receive_from(timeout=5)
        if "room-error" in frame:
            codes.append(error_code(frame))
        elif "room-timeline" in frame:
            posted.extend(seqs([frame]))
    assert codes == ["rate_limited"] * 3
    assert posted == list(range(start + 1, start + 11))
    await alice.disconnect()


@pytest.mark.parametrize(
    "payload",
    ["<script>alert(1)</script>", '<img src=x onerror="alert(1)">', '"><svg/onload=alert(1)>'],
)
async def test_an_xss_payload_arrives_escaped(room, payload):
    start = await database_sync_to_async(last_seq)(room.incident)
    alice, _ = await connect(room.incident.id, room.alice, resume=start)
    bob, _ = await connect(room.incident.id, room.bob, resume=start)
    await send(alice, type="chat", text=payload)
    frame = (await events(bob, 1))[0]
    for tag in ("<script", "<img", "<svg"):
        assert tag not in frame
    assert "&lt;" in frame
    for tab in (alice, bob):
        await tab.disconnect()


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("x" * (8 * 1024 + 1), "frame_too_large"),
        (json.dumps({"type": "chat", "text": "y" * 9000}), "frame_too_large"),
        ("not json", "malformed"),
        (json.dumps(["chat"]), "malformed"),
        (json.dumps({"type": "resume"}), "malformed"),
        (json.dumps({"type": "pin", "seq": "one"}), "malformed"),
        (json.dumps({"type": "chat", "text": 5}), "malformed"),
        (json.dumps({"type": "shout"}), "unknown_type"),
        (json.dumps({"type": "chat", "text": "   "}), "invalid"),
        (json.dumps({"type": "chat", "text": "z" * 4001}), "invalid"),
        (json.dumps({"type": "decision", "seq": 1}), "invalid"),
    ],
)
async def test_bad_frames_get_an_error_fragment_and_keep_the_socket(room, frame, code):
    alice, _ = await connect(room.incident.id, room.alice, resume=0)
    await alice.send_to(text_data=frame)
    error = await until(alice, "room-error")
    assert error.startswith('<div id="room-error" hx-swap-oob="true" data-code=')
    assert error_code(error) == code
    await send(alice, type="ping", HEADERS={"HX-Request": "true"})
    assert await until(alice, "room-pong") == '<div id="room-pong" hx-swap-oob="true"></div>'
    await alice.disconnect()


async def test_a_binary_frame_is_malformed(room):
    alice, _ = await connect(room.incident.id, room.alice, resume=0)
    await alice.send_to(bytes_data=b"\x00\x01")
    assert error_code(await until(alice, "room-error")) == "malformed"
    await alice.disconnect()


async def test_htmx_style_string_values_are_accepted(room):
    start = await database_sync_to_async(last_seq)(room.incident)
    alice, _ = await connect(room.incident.id, room.alice)
    await send(alice, type="resume", last_seq=str(start), HEADERS={"HX-Trigger": "x"})
    await until(alice, "room-sync")
    await send(alice, type="chat", text="msg", reply_to="")
    await events(alice, 1)
    await send(alice, type="pin", seq=str(start + 1))
    await send(alice, type="decision", seq=str(start + 1))
    frames = await events(alice, 2)
    assert "room-event-fact_pinned" in frames[0]
    assert "room-event-decision" in frames[1]
    await alice.disconnect()


def presence_names(frame: str) -> list[str]:
    present = frame.split('<ul class="room-present">')[1].split("</ul>")[0]
    return re.findall(
        r'<li data-user="\d+"><span class="presence-dot" aria-hidden="true"></span> (\w+)', present
    )


async def test_presence_shows_who_is_in_the_room(room):
    alice, _ = await connect(room.incident.id, room.alice)
    first = await until(alice, "room-presence")
    assert first.startswith('<aside id="room-presence" class="room-presence" hx-swap-oob="true"')
    assert presence_names(first) == ["Alice"]
    assert "Bob" in first.split('class="room-absent"')[1]  # taking part, not here

    bob, _ = await connect(room.incident.id, room.bob)
    both = await until(alice, "room-presence")
    assert presence_names(both) == ["Alice", "Bob"]
    assert presence_names(await until(bob, "room-presence")) == ["Alice", "Bob"]
    assert "Commander" in both

    second_tab, _ = await connect(room.incident.id, room.bob)
    assert presence_names(await until(alice, "room-presence")) == ["Alice", "Bob"]
    await second_tab.disconnect()
    assert presence_names(await until(alice, "room-presence")) == ["Alice", "Bob"]
    await bob.disconnect()
    assert presence_names(await until(alice, "room-presence")) == ["Alice"]
    await alice.disconnect()


async def test_a_chinese_speaker_gets_the_chinese_fragment(room):
    room.bob.language = "zh-hans"
    await database_sync_to_async(room.bob.save)()
    start = await database_sync_to_async(last_seq)(room.incident)
    bob, _ = await connect(room.incident.id, room.bob, resume=start)
    alice, _ = await connect(room.incident.id, room.alice, resume=start)
    await database_sync_to_async(incident_acknowledge)(
        actor=room.alice, incident_id=room.incident.id
    )
    zh = (await events(bob, 1))[0]
    en = (await events(alice, 1))[0]
    assert '<header id="room-header"' in zh and '<header id="room-header"' in en
    assert zh != en  # the header's labels are translated
    for tab in (alice, bob):
        await tab.disconnect()


async def test_an_idle_room_stays_connected_past_the_redis_read_timeout(room):
    """redis-py 8 times reads out after 5 s by default, which killed every
    socket idle for longer than channels-redis's 5 s blocking pop."""
    start = await database_sync_to_async(last_seq)(room.incident)
    alice, _ = await connect(room.incident.id, room.alice, resume=start)
    await until(alice, "room-presence")
    assert await alice.receive_nothing(timeout=7)  # nothing, and no crash
    await database_sync_to_async(incident_add_note)(
        actor=room.bob, incident_id=room.incident.id, text="still here?"
    )
    assert seqs(await events(alice, 1)) == [start + 1]
    await alice.disconnect()


async def test_pins_and_decisions_count_against_the_same_rate_limit(room):
    start = await database_sync_to_async(last_seq)(room.incident)
    alice, _ = await connect(room.incident.id, room.alice, resume=start)
    await send(alice, type="chat", text="a fact worth pinning")
    await events(alice, 1)
    for n in range(11):
        await send(alice, type="pin" if n % 2 else "decision", seq=start + 1)
    codes = []
    while len(codes) < 2:
        frame = await alice.receive_from(timeout=5)
        if "room-error" in frame and error_code(frame) == "rate_limited":
            codes.append("rate_limited")
    assert codes == ["rate_limited", "rate_limited"]  # the 11th and 12th write in the window
    await alice.disconnect()


async def test_members_are_re_checked_together_in_the_background(room, monkeypatch):
    """A due re-check does not hold the event back; the room's members due at
    once are answered by one batch; who lost access is then closed."""
    from incidents import selectors

    batches = []
    real = selectors.room_viewer_ids

    def counted(**kwargs):
        batches.append(set(kwargs["user_ids"]))
        return real(**kwargs)

    monkeypatch.setattr(selectors, "room_viewer_ids", counted)
    start = await database_sync_to_async(last_seq)(room.incident)
    alice, _ = await connect(room.incident.id, room.alice, resume=start)
    bob, _ = await connect(room.incident.id, room.bob, resume=start)
    await drain(alice)
    await drain(bob)
    monkeypatch.setattr("incidents.consumers.ACCESS_RECHECK", 0.001)  # both are due now
    room.bob.role = "bpo_lead"
    await database_sync_to_async(room.bob.save)()
    await database_sync_to_async(incident_add_note)(
        actor=room.manager, incident_id=room.incident.id, text="first after the change"
    )
    assert seqs(await events(alice, 1)) == [start + 1]
    assert error_code(await until(bob, "room-error")) == "forbidden"
    assert (await bob.receive_output(timeout=5)) == {"type": "websocket.close", "code": 4403}
    assert {room.alice.id, room.bob.id} in batches  # one batch for both
    await alice.disconnect()
