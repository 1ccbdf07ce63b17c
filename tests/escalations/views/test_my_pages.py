"""My pages: one tap acknowledges, and with htmx only the list comes back."""

import pytest
from django.urls import reverse

from escalations import services
from escalations.models import Escalation, Page, Timer
from tests.escalations.views.conftest import HTMX
from tests.incidents.factories import declare

pytestmark = pytest.mark.django_db


@pytest.fixture
def paged(cast, make_policy):
    """Rita is paged at level 1 of the default policy."""
    incident = declare(cast.manager)
    escalation = services.escalation_start(incident_id=incident.id, policy=make_policy())
    services.timer_fire(timer_id=Timer.objects.get(escalation=escalation, step=0).id)
    return Page.objects.get(user=cast.rita)


def test_acknowledge_with_htmx_swaps_the_list_only(client, cast, paged):
    client.force_login(cast.li)  # not Rita's page, not in command
    assert client.post(reverse("escalations:page-ack", args=[paged.id]), **HTMX).status_code == 404
    client.force_login(cast.rita)
    ack = client.post(reverse("escalations:page-ack", args=[paged.id]), **HTMX)
    page = ack.content.decode()
    assert ack.status_code == 200 and page.lstrip().startswith('<div id="my-pages"')
    assert "<html" not in page and "Nothing waiting for you." in page
    assert Escalation.objects.get().state == Escalation.State.ACKNOWLEDGED
    plain = client.post(reverse("escalations:page-ack", args=[paged.id]))
    assert plain.status_code == 303 and plain["Location"] == reverse("escalations:my-pages")
