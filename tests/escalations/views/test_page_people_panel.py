"""Paging more people from the incident's paging panel: the form for those
who may act on the incident, the result in place (who was paged, who was
skipped), errors beside the input kept, and a panel whose cost does not
grow with the pages."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from escalations import services
from escalations.models import Escalation, Page, Timer
from incidents.services import incident_transition
from tests.escalations.views.conftest import HTMX
from tests.incidents.factories import declare
from tscc.roles import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def incident(cast, make_policy):
    """Commanded by Rita; the policy pages Rita and whoever is on call (Li)."""
    incident = declare(cast.manager, commander=cast.rita)
    escalation = services.escalation_start(incident_id=incident.id, policy=make_policy())
    services.timer_fire(timer_id=Timer.objects.get(escalation=escalation, step=0).id)
    return incident


@pytest.fixture
def sam(make_user):
    return make_user(Role.RESPONDER, username="sam", display_name="Sam Specialist")


def panel(client, incident) -> str:
    response = client.get(reverse("escalations:incident-pages", args=[incident.id]))
    assert response.status_code == 200
    return response.content.decode()


def test_the_form_is_for_those_who_may_act(client, cast, incident, sam, make_user):
    client.force_login(cast.rita)  # commands the incident
    page = panel(client, incident)
    assert "Page more people" in page and 'name="page-user_ids"' in page
    assert "Sam Specialist" in page and "T&amp;S Ops CN" in page  # a person, a schedule
    people = page.split('name="page-user_ids"')[1].split("</select>")[0]
    assert f'value="{cast.bpo.id}"' not in people and f'value="{cast.rita.id}"' in people
    for reader in (cast.executive, make_user(Role.RESPONDER, username="outsider")):
        client.force_login(reader)
        assert "Page more people" not in panel(client, incident)
    client.force_login(cast.manager)
    incident_transition(actor=cast.manager, incident_id=incident.id, target="resolved")
    assert "Page more people" not in panel(client, incident)


def test_paging_from_the_panel_shows_who_was_paged_and_skipped(client, cast, incident, sam):
    client.force_login(cast.rita)
    url = reverse("escalations:incident-page", args=[incident.id])
    response = client.post(
        url,
        {"page-user_ids": [sam.id, cast.li.id], "page-message": "Need payments eyes"},
        **HTMX,
    )
    body = response.content.decode()
    assert response.status_code == 200 and body.lstrip().startswith('<div id="incident-pages"')
    assert "Paged Sam Specialist." in body
    assert "Skipped:" in body and "Li Lei (already paged, not acknowledged yet)" in body
    assert "Paged by Rita Responder" in body and "Need payments eyes" in body  # history
    [adhoc] = Escalation.objects.filter(incident=incident, kind="adhoc")
    assert [p.user for p in adhoc.pages.all()] == [sam]
    assert Escalation.objects.get(incident=incident, kind="policy").state == "active"

    plain = client.post(url, {"page-schedule_ids": [cast.schedule.id]})
    assert plain.status_code == 303
    assert plain["Location"] == reverse("incidents:detail", args=[incident.id]) + "#paging"


def test_errors_keep_the_input(client, cast, incident, sam):
    client.force_login(cast.manager)
    url = reverse("escalations:incident-page", args=[incident.id])
    long = "Too long " * 60
    response = client.post(url, {"page-user_ids": [sam.id], "page-message": long}, **HTMX)
    body = response.content.decode()
    assert response.status_code == 422
    assert "At most 500 characters." in body and long.strip() in body
    assert f'<option value="{sam.id}" selected>' in body
    assert "<details open" in body
    empty = client.post(url, {"page-message": "Anyone?"}, **HTMX)
    assert empty.status_code == 422
    assert "Choose at least one person or schedule." in empty.content.decode()
    assert "Anyone?" in empty.content.decode()
    assert not Page.objects.filter(escalation__kind="adhoc").exists()


def test_refusals(client, cast, incident, sam, make_user):
    url = reverse("escalations:incident-page", args=[incident.id])
    client.force_login(make_user(Role.RESPONDER, username="outsider"))
    refused = client.post(url, {"page-user_ids": [sam.id]}, **HTMX)
    assert refused.status_code == 403
    assert "Only people working on the incident" in refused.content.decode()
    assert client.post(url, {"page-user_ids": [sam.id]}).status_code == 403
    client.force_login(cast.bpo)
    assert client.post(url, {"page-user_ids": [sam.id]}, **HTMX).status_code == 404
    client.force_login(cast.manager)
    incident_transition(actor=cast.manager, incident_id=incident.id, target="resolved")
    over = client.post(url, {"page-user_ids": [sam.id]}, **HTMX)
    assert over.status_code == 409 and "The incident is over" in over.content.decode()
    assert not Page.objects.filter(escalation__kind="adhoc").exists()


def test_the_panel_costs_the_same_with_more_pages(client, cast, incident, make_user):
    client.force_login(cast.manager)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            panel(client, incident)
        return len(queries)

    extra = [make_user(Role.RESPONDER, username=f"extra{i}") for i in range(4)]
    services.incident_page_people(
        actor=cast.manager, incident_id=incident.id, user_ids=[extra[0].id]
    )
    before = count()
    for person in extra[1:]:
        services.incident_page_people(
            actor=cast.manager, incident_id=incident.id, user_ids=[person.id], message="more"
        )
    assert count() == before
