"""Claiming a task from the incident page and the war room: the button each
viewer sees, the task board answered to htmx, refusals shown on the board."""

import re

import pytest
from django.urls import reverse

from incidents import services
from incidents.models import IncidentTask, TimelineEvent
from tests.incidents.factories import declare
from tscc.roles import Role

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def manager(make_user):
    return make_user(Role.OPS_MANAGER, username="mgr", display_name="Mia Manager", language="en")


@pytest.fixture
def ray(make_user):
    return make_user(Role.RESPONDER, username="ray", display_name="Ray Responder", language="en")


@pytest.fixture
def incident(manager, ray):
    return declare(manager, commander=ray)


def task(incident, actor, title, owner=None):
    return services.incident_task_create(
        actor=actor, incident_id=incident.id, title=title, owner=owner
    )


def claim_url(t) -> str:
    return reverse("incidents:task-claim", args=[t.id])


def board(body: str) -> str:
    """The task board's markup (up to the add-task form)."""
    start = body.index('<div id="task-board">')
    return body[start : body.index("</details>", start)]


def row(body: str, title: str) -> str:
    """One task's <li> on the board."""
    match = re.search(
        r'<li class="task [^"]*">(?:(?!</li>).)*' + re.escape(title), board(body), re.S
    )
    assert match, title
    end = board(body).index("</li>", match.start())
    return board(body)[match.start() : end]


@pytest.mark.parametrize("where", ["detail", "room"])
def test_each_viewer_sees_claim_take_over_or_nothing(client, manager, ray, incident, where):
    task(incident, manager, "Unowned one")
    task(incident, manager, "Ray's one", owner=ray)
    task(incident, manager, "Mia's one", owner=manager)
    done = task(incident, manager, "Finished one")
    services.incident_task_update(actor=manager, task_id=done.id, state="done")
    client.force_login(manager)
    body = client.get(reverse(f"incidents:{where}", args=[incident.id])).content.decode()

    unowned = row(body, "Unowned one")
    assert claim_url(IncidentTask.objects.get(title="Unowned one")) in unowned
    assert ">Claim</button>" in unowned and 'name="take_over"' not in unowned
    theirs = row(body, "Ray&#x27;s one")
    assert '<input type="hidden" name="take_over" value="1">' in theirs
    assert ">Take over</button>" in theirs
    for title in ("Mia&#x27;s one", "Finished one"):
        assert "task-claim" not in row(body, title)


def test_an_executive_sees_no_claim_button(client, make_user, manager, incident):
    task(incident, manager, "Unowned one")
    client.force_login(make_user(Role.EXECUTIVE))
    body = client.get(reverse("incidents:room", args=[incident.id])).content.decode()
    assert "Unowned one" in body and "task-claim" not in body


def test_claiming_answers_the_board_with_the_viewer_as_owner(client, manager, ray, incident):
    t = task(incident, manager, "Export the URL list")
    client.force_login(ray)
    response = client.post(claim_url(t), {}, **HTMX)
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" not in body
    claimed = row(body, "Export the URL list")
    assert "Ray Responder" in claimed and "task-claim" not in claimed
    assert IncidentTask.objects.get(id=t.id).owner == ray
    event = TimelineEvent.objects.filter(incident=incident).order_by("-seq").first()
    assert (event.kind, event.actor, event.data["claimed"]) == ("task_changed", ray, True)
    assert "Task claimed: Export the URL list" in body  # on the page's timeline


def test_without_javascript_claiming_redirects_to_the_tasks(client, manager, ray, incident):
    t = task(incident, manager, "Export the URL list")
    client.force_login(ray)
    response = client.post(claim_url(t))
    assert response.status_code == 303
    assert response["Location"] == reverse("incidents:detail", args=[incident.id]) + "#tasks"
    assert IncidentTask.objects.get(id=t.id).owner == ray


def test_someone_elses_task_is_refused_on_the_board_unless_taken_over(
    client, manager, ray, incident
):
    t = task(incident, manager, "Export the URL list", owner=manager)
    client.force_login(ray)
    refused = client.post(claim_url(t), {}, **HTMX)
    assert refused.status_code == 422
    assert "Already claimed by Mia Manager." in board(refused.content.decode())
    assert IncidentTask.objects.get(id=t.id).owner == manager

    taken = client.post(claim_url(t), {"take_over": "1"}, **HTMX)
    assert taken.status_code == 200
    assert "Ray Responder" in row(taken.content.decode(), "Export the URL list")
    assert IncidentTask.objects.get(id=t.id).owner == ray


def test_who_may_not_act_or_see_cannot_claim(client, make_user, manager, incident):
    t = task(incident, manager, "Export the URL list")
    client.force_login(make_user(Role.EXECUTIVE))
    assert client.post(claim_url(t), {}, **HTMX).status_code == 403
    client.force_login(make_user(Role.BPO_LEAD))
    assert client.post(claim_url(t), {}, **HTMX).status_code == 404
    client.force_login(manager)
    assert client.get(claim_url(t)).status_code == 405
    assert client.post(reverse("incidents:task-claim", args=[t.id + 999])).status_code == 404
    assert IncidentTask.objects.get(id=t.id).owner is None


def test_claim_buttons_cost_no_queries(
    client, manager, ray, incident, django_assert_max_num_queries
):
    task(incident, manager, "First")
    client.force_login(manager)
    url = reverse("incidents:room", args=[incident.id])
    client.get(url)  # warm caches (permissions, content types)
    with django_assert_max_num_queries(80) as few:
        assert client.get(url).status_code == 200
    for i in range(6):
        task(incident, manager, f"task {i}", owner=(None, ray, manager)[i % 3])
    with django_assert_max_num_queries(len(few.captured_queries)) as many:
        body = client.get(url).content.decode()
    assert body.count('class="inline-form task-claim"') == 5  # 1 + 2 unowned, 2 Ray's
    assert len(many.captured_queries) == len(few.captured_queries)
