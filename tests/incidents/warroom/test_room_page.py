"""The war room page: who gets in, what they may do there, and how many
queries it costs. The live part (the socket) is tested with the consumer."""

import pytest
from django.urls import reverse

from incidents import services
from tests.incidents.factories import declare
from tscc.roles import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager(make_user):
    return make_user(Role.OPS_MANAGER, username="mgr", language="en")


@pytest.fixture
def incident(manager):
    return declare(manager, title="Scam links trending in search")


def room(incident):
    return reverse("incidents:room", args=[incident.id])


def test_ops_manager_gets_the_room_with_its_socket_and_forms(client, manager, incident):
    client.force_login(manager)
    response = client.get(room(incident))
    body = response.content.decode()
    assert response.status_code == 200
    assert f'ws-connect="/ws/incidents/{incident.id}/"' in body
    assert 'hx-ext="ws"' in body and "tscc/js/warroom.js" in body
    for element in ('id="room-header"', 'id="room-timeline"', 'id="room-presence"'):
        assert element in body
    assert f'data-seq="{incident.last_seq}"' in body  # the declaration, rendered server-side
    assert 'id="room-composer"' in body
    # The incident's own forms, reused: state, severity, handover, status update, tasks.
    for action in ("transition", "severity", "handover", "updates", "tasks"):
        assert reverse(f"incidents:{action}", args=[incident.id]) in body
    assert 'hx-select="#severity-form"' in body


def test_the_incident_page_links_to_its_room(client, manager, incident):
    client.force_login(manager)
    body = client.get(reverse("incidents:detail", args=[incident.id])).content.decode()
    assert f'href="{room(incident)}"' in body


def test_member_responder_may_post(client, make_user, manager):
    ray = make_user(Role.RESPONDER, username="ray")
    incident = declare(manager, commander=ray)
    client.force_login(ray)
    body = client.get(room(incident)).content.decode()
    assert 'id="room-composer"' in body and "is-readonly" not in body


def test_responder_outside_the_incident_reads_and_may_join(client, make_user, incident):
    client.force_login(make_user(Role.RESPONDER, username="ray"))
    body = client.get(room(incident)).content.decode()
    assert 'id="room-composer"' not in body and "is-readonly" in body
    assert reverse("incidents:join", args=[incident.id]) in body
    assert reverse("incidents:severity", args=[incident.id]) not in body


def test_executive_reads_only(client, make_user, incident):
    client.force_login(make_user(Role.EXECUTIVE, username="exec"))
    response = client.get(room(incident))
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="room-timeline"' in body and "is-readonly" in body
    assert 'id="room-composer"' not in body
    for action in ("transition", "severity", "handover", "updates", "tasks", "join"):
        assert reverse(f"incidents:{action}", args=[incident.id]) not in body


def test_bpo_lead_gets_404_not_a_hint(client, make_user, incident):
    client.force_login(make_user(Role.BPO_LEAD, username="bpo"))
    assert client.get(room(incident)).status_code == 404
    assert client.get(reverse("incidents:room", args=[incident.id + 999])).status_code == 404


def test_anonymous_is_sent_to_sign_in(client, incident):
    response = client.get(room(incident))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_only_get(client, manager, incident):
    client.force_login(manager)
    assert client.post(room(incident)).status_code == 405


def test_chinese_viewer_gets_the_room_in_chinese(client, make_user, incident):
    client.force_login(make_user(Role.OPS_MANAGER, username="li", language="zh-hans"))
    body = client.get(room(incident), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert 'data-lang="zh-hans"' in body
    assert "关键事实" in body and "任务" in body  # Key facts, Tasks


def test_query_count_does_not_grow_with_the_timeline(
    client, manager, incident, django_assert_max_num_queries
):
    client.force_login(manager)
    with django_assert_max_num_queries(80) as few:
        assert client.get(room(incident)).status_code == 200
    for i in range(40):
        services.incident_add_note(actor=manager, incident_id=incident.id, text=f"note {i}")
    for i in range(3):
        services.incident_task_create(
            actor=manager, incident_id=incident.id, title=f"task {i}", owner=None, due_at=None
        )
    with django_assert_max_num_queries(len(few.captured_queries) + 2) as many:
        response = client.get(room(incident))
    assert response.status_code == 200
    assert response.content.count(b'class="room-event') >= 41
    assert len(many.captured_queries) <= len(few.captured_queries) + 2
