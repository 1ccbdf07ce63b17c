"""The vendor page's escalation contacts: ops managers set them; others
cannot; only operations people can be chosen."""

from __future__ import annotations

from django.urls import reverse

from tests.vendors.views.conftest import HTMX


def test_an_ops_manager_sets_the_escalation_contacts(client, cast):
    client.force_login(cast.manager)
    url = reverse("vendors:contacts", args=[cast.vendor.id])
    saved = client.post(url, {"people": [cast.responder.id]}, **HTMX)
    page = saved.content.decode()
    assert saved.status_code == 200 and page.startswith('<section class="card" id="contacts">')
    assert str(cast.responder) in page and "Saved." in page
    assert list(cast.vendor.escalation_contacts.all()) == [cast.responder]
    detail = client.get(reverse("vendors:detail", args=[cast.vendor.id])).content.decode()
    assert 'id="contacts"' in detail
    cleared = client.post(url, {}, **HTMX)
    assert cleared.status_code == 200 and not cast.vendor.escalation_contacts.exists()


def test_a_bpo_lead_cannot_be_chosen_and_input_is_kept(client, cast):
    client.force_login(cast.manager)
    url = reverse("vendors:contacts", args=[cast.vendor.id])
    refused = client.post(url, {"people": [cast.responder.id, cast.lead.id]}, **HTMX)
    assert refused.status_code == 422
    assert not cast.vendor.escalation_contacts.exists()


def test_only_ops_managers_may_set_contacts(client, cast):
    url = reverse("vendors:contacts", args=[cast.vendor.id])
    for user, status in (
        (cast.responder, 403),
        (cast.executive, 403),
        (cast.lead, 403),
        (cast.other_lead, 404),  # another vendor's page does not exist for them
    ):
        client.force_login(user)
        assert client.post(url, {"people": [cast.responder.id]}, **HTMX).status_code == status, user
    assert not cast.vendor.escalation_contacts.exists()
