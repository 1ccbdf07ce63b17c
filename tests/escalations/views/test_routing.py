"""Routing rules through the real page: ordered, first match wins, added,
edited in place, moved and deleted with htmx or plain POST; managers only."""

import re

import pytest
from django.urls import reverse

from escalations import config
from escalations.models import RoutingRule
from tests.escalations.views.conftest import HTMX

pytestmark = pytest.mark.django_db


def order() -> list[int]:
    return list(RoutingRule.objects.order_by("position", "id").values_list("id", flat=True))


@pytest.fixture
def rules(cast, make_policy):
    default = make_policy()
    nights = make_policy(name="Nights")
    first = config.routing_rule_save(
        actor=cast.manager,
        data={"policy": nights.id, "severities": ["sev0", "sev1"], "categories": ["csam_cse"]},
    )
    second = config.routing_rule_save(actor=cast.manager, data={"policy": default.id})
    return default, nights, first, second


@pytest.mark.parametrize(
    ("who", "status", "can_write"),
    [("manager", 200, True), ("rita", 200, False), ("bpo", 403, None), ("executive", 403, None)],
)
def test_the_page_per_role(client, cast, rules, who, status, can_write):
    client.force_login(getattr(cast, who))
    response = client.get(reverse("escalations:routing"))
    assert response.status_code == status
    if status != 200:
        return
    page = response.content.decode()
    assert "the first match wins" in page
    assert page.index("Nights") < page.index("T&amp;S default")  # in the order they are tried
    assert "SEV0" in page and "Child sexual abuse material / exploitation" in page
    assert ("Add a routing rule" in page) is can_write
    assert ("Move up" in page) is can_write


def test_add_a_rule_with_htmx_and_a_bad_one_is_refused_in_place(client, cast, rules):
    default, _nights, first, second = rules
    client.force_login(cast.manager)
    added = client.post(
        reverse("escalations:routing-create"),
        {"new-policy": default.id, "new-severities": ["sev2"], "new-team": cast.team.id},
        **HTMX,
    )
    assert added.status_code == 200 and 'id="routing"' in added.content.decode()
    rule = RoutingRule.objects.get(severities=["sev2"])
    assert order() == [first.id, second.id, rule.id] and rule.team == cast.team
    bad = client.post(reverse("escalations:routing-create"), {"new-severities": ["sev2"]}, **HTMX)
    page = bad.content.decode()
    assert bad.status_code == 422 and "Choose a policy." in page
    assert re.search(r'value="sev2"[^>]*checked', page)  # what was ticked stays ticked
    assert RoutingRule.objects.count() == 3


def test_edit_in_place_then_save(client, cast, rules):
    default, _nights, first, _second = rules
    client.force_login(cast.manager)
    form = client.get(reverse("escalations:routing") + f"?edit={first.id}", **HTMX)
    page = form.content.decode()
    assert form.status_code == 200 and "<html" not in page
    assert f'action="{reverse("escalations:routing-update", args=[first.id])}"' in page
    assert re.search(r'value="csam_cse"[^>]*checked', page)
    saved = client.post(
        reverse("escalations:routing-update", args=[first.id]),
        {f"rule{first.id}-policy": default.id, f"rule{first.id}-severities": ["sev3"]},
        **HTMX,
    )
    assert saved.status_code == 200
    first.refresh_from_db()
    assert (first.policy, first.severities, first.categories) == (default, ["sev3"], [])
    plain = client.get(reverse("escalations:routing") + f"?edit={first.id}")
    assert plain.status_code == 200 and "Save rule" in plain.content.decode()


def test_move_and_delete(client, cast, rules):
    _default, _nights, first, second = rules
    client.force_login(cast.manager)
    moved = client.post(reverse("escalations:routing-move", args=[second.id]), {"by": "up"})
    assert moved.status_code == 303 and order() == [second.id, first.id]
    client.post(reverse("escalations:routing-move", args=[second.id]), {"by": "down"}, **HTMX)
    assert order() == [first.id, second.id]
    deleted = client.post(reverse("escalations:routing-delete", args=[first.id]), **HTMX)
    assert deleted.status_code == 200 and order() == [second.id]
    assert client.post(reverse("escalations:routing-delete", args=[first.id])).status_code == 404


def test_responders_cannot_write(client, cast, rules):
    default, _nights, first, second = rules
    client.force_login(cast.rita)
    assert (
        client.post(reverse("escalations:routing-create"), {"new-policy": default.id}).status_code
        == 403
    )
    assert (
        client.post(reverse("escalations:routing-move", args=[second.id]), {"by": "up"}).status_code
        == 403
    )
    assert client.post(reverse("escalations:routing-delete", args=[first.id])).status_code == 403
    client.force_login(cast.executive)  # may not see routing rules at all
    assert client.post(reverse("escalations:routing-delete", args=[first.id])).status_code == 404
    assert order() == [first.id, second.id]
