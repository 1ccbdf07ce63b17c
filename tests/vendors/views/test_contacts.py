"""The vendor page's escalation policy panel (id "contacts"): ops managers
set levels of people with their waits, add and remove levels without
saving; refused input is shown per level (422) with nothing lost; others
cannot."""

from __future__ import annotations

from django.urls import reverse

from tests.vendors.views.conftest import HTMX


def levels_of(vendor):
    return [
        (level.wait_minutes, [u.id for u in level.users.all()])
        for level in vendor.escalation_levels.order_by("position")
    ]


def test_an_ops_manager_sets_the_escalation_policy(client, cast):
    client.force_login(cast.manager)
    url = reverse("vendors:contacts", args=[cast.vendor.id])
    added = client.post(url, {"count": "0", "add": "1"}, **HTMX)
    page = added.content.decode()
    assert added.status_code == 200 and page.startswith('<section class="card" id="contacts">')
    assert 'name="levels.1.user_ids"' in page and 'name="levels.2.user_ids"' not in page
    assert not cast.vendor.escalation_levels.exists()  # adding a row saves nothing

    data = {
        "count": "2",
        "levels.1.user_ids": [cast.responder.id],
        "levels.1.wait_minutes": "5",
        "levels.2.user_ids": [cast.manager.id],
        "levels.2.wait_minutes": "20",
    }
    saved = client.post(url, data, **HTMX)
    page = saved.content.decode()
    assert saved.status_code == 200 and "Saved." in page and str(cast.responder) in page
    assert levels_of(cast.vendor) == [(5, [cast.responder.id]), (20, [cast.manager.id])]
    detail = client.get(reverse("vendors:detail", args=[cast.vendor.id])).content.decode()
    assert 'id="contacts"' in detail and "Escalation policy" in detail
    assert 'name="levels.2.wait_minutes"' in detail and 'value="20"' in detail

    removed = client.post(url, {**data, "remove": "1"}, **HTMX).content.decode()
    assert 'name="levels.2.user_ids"' not in removed and 'value="20"' in removed
    assert len(levels_of(cast.vendor)) == 2  # removing a row saves nothing either
    client.post(
        url,
        {"count": "1", "levels.1.user_ids": [cast.manager.id], "levels.1.wait_minutes": "20"},
        **HTMX,
    )
    assert levels_of(cast.vendor) == [(20, [cast.manager.id])]
    cleared = client.post(url, {"count": "0"}, **HTMX)
    assert cleared.status_code == 200 and not cast.vendor.escalation_levels.exists()


def test_refused_levels_show_per_level_and_input_is_kept(client, cast):
    client.force_login(cast.manager)
    url = reverse("vendors:contacts", args=[cast.vendor.id])
    refused = client.post(
        url,
        {
            "count": "2",
            "levels.1.user_ids": [cast.responder.id],
            "levels.1.wait_minutes": "0",
            "levels.2.user_ids": [],
            "levels.2.wait_minutes": "15",
        },
        **HTMX,
    )
    page = refused.content.decode()
    assert refused.status_code == 422
    assert page.count('class="error"') == 1  # the wait of level 1 (a form check)
    assert 'value="15"' in page and f'value="{cast.responder.id}" selected' in page
    assert not cast.vendor.escalation_levels.exists()
    refused = client.post(
        url,
        {
            "count": "2",
            "levels.1.user_ids": [cast.responder.id],
            "levels.1.wait_minutes": "5",
            "levels.2.user_ids": [],
            "levels.2.wait_minutes": "15",
        },
        **HTMX,
    )
    page = refused.content.decode()
    assert refused.status_code == 422  # the service: level 2 pages nobody
    assert "Choose at least one person." in page and "Check the escalation policy." in page
    assert 'value="15"' in page and 'value="5"' in page
    assert not cast.vendor.escalation_levels.exists()


def test_a_bpo_lead_cannot_be_chosen(client, cast):
    client.force_login(cast.manager)
    url = reverse("vendors:contacts", args=[cast.vendor.id])
    data = {
        "count": "1",
        "levels.1.user_ids": [cast.responder.id, cast.lead.id],
        "levels.1.wait_minutes": "10",
    }
    assert client.post(url, data, **HTMX).status_code == 422
    assert not cast.vendor.escalation_levels.exists()


def test_only_ops_managers_may_set_the_policy(client, cast):
    url = reverse("vendors:contacts", args=[cast.vendor.id])
    data = {"count": "1", "levels.1.user_ids": [cast.responder.id], "levels.1.wait_minutes": "10"}
    for user, status in (
        (cast.responder, 403),
        (cast.executive, 403),
        (cast.lead, 403),
        (cast.other_lead, 404),  # another vendor's page does not exist for them
    ):
        client.force_login(user)
        assert client.post(url, data, **HTMX).status_code == status, user
    assert not cast.vendor.escalation_levels.exists()
