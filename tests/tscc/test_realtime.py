"""The live socket, through the real ASGI app and the real channels-redis layer."""

import json

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from channels_redis.core import RedisChannelLayer
from django.test import Client

from tscc.asgi import application
from tscc.realtime import notify_user, user_group

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


@database_sync_to_async
def session_cookie_for(user) -> bytes:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


async def connect(user=None, origin=b"http://localhost"):
    headers = [(b"origin", origin), (b"host", b"localhost")]
    if user is not None:
        headers.append((b"cookie", await session_cookie_for(user)))
    communicator = WebsocketCommunicator(application, "/ws/live/", headers=headers)
    connected, _ = await communicator.connect()
    return communicator, connected


@pytest.fixture
def users(make_user):
    return make_user(username="alice"), make_user(username="bob")


async def test_layer_is_the_real_redis_layer():
    assert isinstance(get_channel_layer(), RedisChannelLayer)


async def test_a_notice_reaches_every_tab_of_its_user_and_no_one_else(users):
    alice, bob = users
    alice_tab1, ok1 = await connect(alice)
    alice_tab2, ok2 = await connect(alice)
    bob_tab, ok3 = await connect(bob)
    assert ok1 and ok2 and ok3

    await database_sync_to_async(notify_user)(
        alice.id, text="Paged: INC-1 <b>SEV1</b>", level="danger"
    )

    for tab in (alice_tab1, alice_tab2):
        frame = json.loads(await tab.receive_from(timeout=5))
        assert frame == {"type": "notice", "text": "Paged: INC-1 <b>SEV1</b>", "level": "danger"}
    assert await bob_tab.receive_nothing(timeout=0.3)
    for tab in (alice_tab1, alice_tab2, bob_tab):
        await tab.disconnect()


async def test_one_consumer_reaches_another_through_the_layer(users):
    """A message sent to a group from one connection arrives at another."""
    alice, _ = users
    listener, _ = await connect(alice)
    sender, _ = await connect(alice)
    layer = get_channel_layer()

    await layer.group_send(
        user_group(alice.id), {"type": "user.notice", "text": "hi", "level": "info"}
    )

    assert json.loads(await listener.receive_from(timeout=5))["text"] == "hi"
    assert json.loads(await sender.receive_from(timeout=5))["text"] == "hi"
    await listener.disconnect()
    await sender.disconnect()


async def test_ping_round_trip(users):
    tab, _ = await connect(users[0])
    await tab.send_to(text_data=json.dumps({"type": "ping", "id": "42"}))
    assert json.loads(await tab.receive_from(timeout=5)) == {"type": "pong", "id": "42"}
    await tab.disconnect()


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("not json", "malformed_json"),
        (json.dumps({"type": "shout"}), "unknown_type"),
        (json.dumps(["ping"]), "unknown_type"),
        ("x" * 5000, "frame_too_large_or_binary"),
    ],
)
async def test_bad_frames_get_an_error_frame_and_keep_the_socket(users, frame, code):
    tab, _ = await connect(users[0])
    await tab.send_to(text_data=frame)
    assert json.loads(await tab.receive_from(timeout=5)) == {"type": "error", "code": code}
    await tab.send_to(text_data=json.dumps({"type": "ping"}))
    assert json.loads(await tab.receive_from(timeout=5))["type"] == "pong"
    await tab.disconnect()


async def test_anonymous_socket_is_refused():
    tab, connected = await connect(None)
    assert connected is False


async def test_inactive_user_is_refused(make_user):
    user = await database_sync_to_async(make_user)(username="gone", is_active=False)
    tab, connected = await connect(user)
    assert connected is False


async def test_foreign_origin_is_refused(users):
    tab, connected = await connect(users[0], origin=b"https://evil.example")
    assert connected is False


async def test_health_round_trip_is_not_starved_by_an_open_socket(users):
    """channels-redis reads process-local channels through one receive loop;
    the health check once used its own prefix and timed out behind a socket."""
    import asyncio

    from tscc.health import _channel_layer_roundtrip

    tab, ok = await connect(users[0])
    assert ok
    await asyncio.sleep(0.2)  # the consumer now waits in layer.receive()
    loop = asyncio.get_running_loop()
    started = loop.time()
    await _channel_layer_roundtrip()
    assert loop.time() - started < 1.0
    await tab.disconnect()
