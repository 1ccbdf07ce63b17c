"""Chat, pin and decision services, and the fragments they broadcast."""

import pytest

from incidents import selectors
from incidents.exceptions import InvalidInput, NotAllowed
from incidents.models import TimelineEvent
from incidents.services import (
    incident_chat_post,
    incident_message_decide,
    incident_message_pin,
)
from incidents.warroom import LANGUAGES, render_event, room_context

pytestmark = pytest.mark.django_db


@pytest.fixture
def pushes(monkeypatch):
    sent = {"broadcasts": [], "notices": []}
    monkeypatch.setattr(
        "incidents.events.broadcast",
        lambda group, type_, **payload: sent["broadcasts"].append((group, type_, payload)),
    )
    monkeypatch.setattr(
        "incidents.events.notify_user",
        lambda user_id, *, text, level="info": sent["notices"].append((user_id, text)),
    )
    return sent


def test_a_message_is_a_timeline_event_with_its_reply(room):
    first = incident_chat_post(actor=room.alice, incident_id=room.incident.id, text="  hello  ")
    reply = incident_chat_post(
        actor=room.bob, incident_id=room.incident.id, text="hi", reply_to_seq=first.seq
    )
    assert first.kind == TimelineEvent.Kind.MESSAGE
    assert first.text == "hello"
    assert reply.refers_to_id == first.id
    assert reply.seq == first.seq + 1


@pytest.mark.parametrize(
    ("text", "reply_to"),
    [("", None), ("   ", None), ("x" * 4001, None), ("ok", 9999)],
)
def test_bad_messages_are_refused(room, text, reply_to):
    before = room.incident.timeline.count()
    with pytest.raises(InvalidInput):
        incident_chat_post(
            actor=room.alice, incident_id=room.incident.id, text=text, reply_to_seq=reply_to
        )
    assert room.incident.timeline.count() == before


def test_4000_characters_is_allowed(room):
    event = incident_chat_post(actor=room.alice, incident_id=room.incident.id, text="x" * 4000)
    assert len(event.text) == 4000


def test_mentions_are_stored_and_notified_after_commit(
    room, make_user, pushes, django_capture_on_commit_callbacks
):
    make_user(username="gone", is_active=False)
    with django_capture_on_commit_callbacks(execute=True):
        event = incident_chat_post(
            actor=room.alice,
            incident_id=room.incident.id,
            text="@Bob and @exec, see this. @alice @gone @nobody mail a@bob",
        )
        assert pushes["notices"] == []
    assert set(event.data["mentions"]) == {room.bob.id, room.executive.id, room.alice.id}
    # the author is not notified of her own mention; the inactive and unknown are not stored
    assert sorted(uid for uid, _text in pushes["notices"]) == sorted(
        [room.bob.id, room.executive.id]
    )
    assert "mentioned you" in pushes["notices"][0][1]


def test_a_bpo_lead_mentioned_is_not_notified(room, pushes, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        event = incident_chat_post(actor=room.alice, incident_id=room.incident.id, text="@bpo")
    assert event.data["mentions"] == [room.bpo_lead.id]
    assert pushes["notices"] == []


def test_pin_makes_the_message_a_key_fact(room):
    message = incident_chat_post(actor=room.bob, incident_id=room.incident.id, text="fact")
    pin = incident_message_pin(room.alice, room.incident.id, message.seq)
    assert pin.kind == TimelineEvent.Kind.FACT_PINNED
    assert pin.refers_to_id == message.id
    assert message.id in [e.id for e in selectors.incident_key_facts(incident=room.incident)]


def test_decision_refers_to_the_message(room):
    message = incident_chat_post(actor=room.bob, incident_id=room.incident.id, text="roll back")
    decision = incident_message_decide(room.alice, room.incident.id, message.seq)
    assert decision.kind == TimelineEvent.Kind.DECISION
    assert decision.text == "roll back"
    assert decision.refers_to_id == message.id
    assert decision.data["seq"] == message.seq
    assert decision in selectors.incident_decisions(incident=room.incident)


def test_pin_and_decide_only_messages(room):
    with pytest.raises(InvalidInput):
        incident_message_pin(room.alice, room.incident.id, 1)  # the declaration
    with pytest.raises(InvalidInput):
        incident_message_decide(room.alice, room.incident.id, 9999)


@pytest.mark.parametrize(
    ("who", "allowed"),
    [
        ("manager", True),
        ("alice", True),
        ("bob", True),
        ("outsider", False),
        ("executive", False),
        ("bpo_lead", False),
    ],
)
def test_permission_table(room, who, allowed):
    actor = getattr(room, who)
    incident_id = room.incident.id
    message = incident_chat_post(actor=room.alice, incident_id=incident_id, text="base")
    calls = [
        lambda: incident_chat_post(actor=actor, incident_id=incident_id, text="hello"),
        lambda: incident_message_pin(actor, incident_id, message.seq),
        lambda: incident_message_decide(actor, incident_id, message.seq),
    ]
    for call in calls:
        if allowed:
            call()
        else:
            with pytest.raises(NotAllowed):
                call()


def test_each_append_broadcasts_its_frame_in_every_language(
    room, pushes, django_capture_on_commit_callbacks
):
    from incidents.warroom import presence_touch

    presence_touch(room.incident.id, room.bob.id, "bob-tab")  # the room is watched
    with django_capture_on_commit_callbacks(execute=True):
        event = incident_chat_post(
            actor=room.alice, incident_id=room.incident.id, text="<script>alert(1)</script> @bob"
        )
    group, type_, payload = pushes["broadcasts"][-1]
    assert group == f"incident.{room.incident.id}"
    assert type_ == "incident.timeline_appended"
    assert payload["seq"] == event.seq
    assert set(payload["html"]) == set(LANGUAGES)
    for frame in payload["html"].values():
        assert frame.startswith('<div id="room-timeline" hx-swap-oob="beforeend"><article')
        assert f'id="ev-{event.seq}" data-seq="{event.seq}"' in frame
        assert "room-header" not in frame  # chat changes nothing the header shows
        assert "<script>" not in frame
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in frame
        assert f'<mark class="mention" data-user="{room.bob.id}">@bob</mark>' in frame
        assert 'data-local="datetime"' in frame


def test_a_change_the_header_shows_carries_the_header(
    room, pushes, django_capture_on_commit_callbacks
):
    from incidents.services import incident_acknowledge
    from incidents.warroom import presence_touch

    presence_touch(room.incident.id, room.bob.id, "bob-tab")
    with django_capture_on_commit_callbacks(execute=True):
        incident_acknowledge(actor=room.alice, incident_id=room.incident.id)
    _group, _type, payload = pushes["broadcasts"][-1]
    for frame in payload["html"].values():
        header = frame.split('<header id="room-header"')[1]
        assert f'data-seq="{payload["seq"]}"' in header


def test_the_page_context(room):
    incident_chat_post(actor=room.bob, incident_id=room.incident.id, text="hi")
    room.incident.refresh_from_db()
    context = room_context(room.incident, room.alice)
    assert context["can"] == {"act": True, "command": True}
    assert context["last_seq"] == room.incident.last_seq
    assert context["ws_path"] == f"/ws/incidents/{room.incident.id}/"
    assert context["header_html"].startswith('<header id="room-header"')
    assert context["presence_html"].startswith('<aside id="room-presence"')
    assert "Bob" in context["presence_html"]  # taking part, not here
    assert len(context["events_html"]) == room.incident.last_seq
    assert context["events_html"][-1].startswith('<article class="room-event room-event-message"')


def test_a_reply_quotes_its_message_escaped(room):
    first = incident_chat_post(
        actor=room.alice, incident_id=room.incident.id, text='<img src=x onerror="alert(1)">'
    )
    reply = incident_chat_post(
        actor=room.bob, incident_id=room.incident.id, text="why?", reply_to_seq=first.seq
    )
    html = render_event(
        TimelineEvent.objects.select_related("refers_to__actor").get(id=reply.id), "en"
    )
    assert f'data-reply-to="{first.seq}"' in html
    assert "<img" not in html
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html
