"""The incident's paging panel: the policy paging now, and switching it from
the panel (for those who may command the incident), re-rendered in place."""

import pytest
from django.urls import reverse

from escalations import services
from escalations.models import Escalation, Timer
from incidents.services import incident_transition
from tests.escalations.views.conftest import HTMX
from tests.incidents.factories import declare

pytestmark = pytest.mark.django_db


@pytest.fixture
def paging(cast, make_policy):
    default = make_policy()
    nights = make_policy(
        name="Nights",
        levels=[{"wait_minutes": 3, "targets": [{"kind": "user", "id": cast.li.id}]}],
    )
    incident = declare(cast.manager)
    escalation = services.escalation_start(incident_id=incident.id, policy=default)
    services.timer_fire(timer_id=Timer.objects.get(escalation=escalation, step=0).id)
    return incident, default, nights


def test_the_panel_shows_the_policy_paging_now(client, cast, paging):
    incident, _default, _nights = paging
    client.force_login(cast.rita)  # not in command: reads, cannot switch
    page = client.get(reverse("escalations:incident-pages", args=[incident.id])).content.decode()
    assert "Paging by" in page and "T&amp;S default" in page and "Level 1 of 2" in page
    assert "Rita Responder" in page  # paged at level 1
    assert "Switch policy" not in page
    client.force_login(cast.manager)
    page = client.get(reverse("escalations:incident-pages", args=[incident.id])).content.decode()
    assert "Switch policy" in page and "csrfmiddlewaretoken" in page


def test_switch_policy_from_the_panel(client, cast, paging):
    incident, _default, nights = paging
    client.force_login(cast.manager)
    response = client.post(
        reverse("escalations:incident-switch", args=[incident.id]),
        {"switch-policy": nights.id, "switch-reason": "Night desk takes it"},
        **HTMX,
    )
    page = response.content.decode()
    assert response.status_code == 200 and page.lstrip().startswith('<div id="incident-pages"')
    assert "Switched by Wang Min" in page and "Night desk takes it" in page
    running = Escalation.objects.get(incident=incident, state=Escalation.State.ACTIVE)
    assert running.policy == nights and running.snapshot["name"] == "Nights"
    assert Escalation.objects.filter(incident=incident, state="replaced").count() == 1
    plain = client.post(
        reverse("escalations:incident-switch", args=[incident.id]), {"switch-policy": nights.id}
    )
    assert plain.status_code == 303
    assert plain["Location"] == reverse("incidents:detail", args=[incident.id]) + "#paging"


def test_a_refused_switch_is_shown_in_the_panel(client, cast, paging, make_user):
    incident, _default, nights = paging
    url = reverse("escalations:incident-switch", args=[incident.id])
    client.force_login(cast.rita)  # may see the incident, may not command it
    refused = client.post(url, {"switch-policy": nights.id}, **HTMX)
    assert refused.status_code == 403
    assert "Only the commander or an ops manager" in refused.content.decode()
    assert client.post(url, {"switch-policy": nights.id}).status_code == 403
    assert client.post(url, {"switch-policy": ""}, **HTMX).status_code == 403  # not 422 first
    client.force_login(cast.manager)
    empty = client.post(url, {"switch-policy": ""}, **HTMX)
    assert empty.status_code == 422 and "Choose a policy." in empty.content.decode()
    incident_transition(actor=cast.manager, incident_id=incident.id, target="resolved")
    over = client.post(url, {"switch-policy": nights.id}, **HTMX)
    assert over.status_code == 409 and "The incident is over" in over.content.decode()
    assert Escalation.objects.get(incident=incident).policy.name == "T&S default"
    client.force_login(cast.bpo)
    assert client.post(url, {"switch-policy": nights.id}, **HTMX).status_code == 404
