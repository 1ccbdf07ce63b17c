"""Every vendor page for every role: ops manager, responder, executive, the
BPO lead of vendor A, the BPO lead of vendor B (404 on A's objects) and
anonymous (to the login page)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.incidents.factories import declare
from tests.vendors.views.conftest import HTMX
from vendors import services

pytestmark = pytest.mark.django_db

ROLES = ("manager", "responder", "executive", "lead", "other_lead", "anonymous")


def get_as(client, cast, role: str, url: str):
    client.logout()
    if role != "anonymous":
        client.force_login(getattr(cast, role))
    return client.get(url)


def expect(response, want) -> None:
    if isinstance(want, str):  # a redirect target
        assert response.status_code == 302, response.status_code
        assert response["Location"].startswith(want), response["Location"]
    else:
        assert response.status_code == want, (response.status_code, want)


@pytest.mark.parametrize(
    "role,want",
    [
        ("manager", 200),
        ("responder", 200),
        ("executive", 200),
        ("lead", "/vendors/portal/"),
        ("other_lead", "/vendors/portal/"),
        ("anonymous", "/login/"),
    ],
)
def test_board(client, cast, role, want):
    expect(get_as(client, cast, role, reverse("vendors:board")), want)


@pytest.mark.parametrize(
    "role,want",
    [
        ("manager", "/vendors/"),
        ("responder", "/vendors/"),
        ("executive", "/vendors/"),
        ("lead", 200),
        ("other_lead", 200),
        ("anonymous", "/login/"),
    ],
)
def test_portal(client, cast, role, want):
    response = get_as(client, cast, role, reverse("vendors:portal"))
    expect(response, want)
    if want == 200:
        page = response.content.decode()
        mine, theirs = (
            (cast.queue, cast.other_queue) if role == "lead" else (cast.other_queue, cast.queue)
        )
        assert f'id="pq-{mine.id}"' in page and f'id="pq-{theirs.id}"' not in page
        mine_site, theirs_site = (
            (cast.site, cast.other_site) if role == "lead" else (cast.other_site, cast.site)
        )
        assert f'id="ps-{mine_site.id}"' in page and f'id="ps-{theirs_site.id}"' not in page


@pytest.mark.parametrize(
    "role,want",
    [
        ("manager", 200),
        ("responder", 200),
        ("executive", 200),
        ("lead", 200),
        ("other_lead", 404),
        ("anonymous", "/login/"),
    ],
)
def test_portal_of_vendor_a(client, cast, role, want):
    response = get_as(client, cast, role, reverse("vendors:portal-vendor", args=[cast.vendor.id]))
    expect(response, want)
    if role in ("responder", "executive"):  # they read, they do not report
        assert "Post figures" not in response.content.decode()
    if role in ("manager", "lead"):
        assert "Post figures" in response.content.decode()


@pytest.mark.parametrize(
    "role,want",
    [
        ("manager", 200),
        ("responder", 200),
        ("executive", 200),
        ("lead", None),  # their own vendor: to the portal view of it
        ("other_lead", 404),
        ("anonymous", "/login/"),
    ],
)
def test_vendor_detail_of_vendor_a(client, cast, role, want):
    if want is None:
        want = reverse("vendors:portal-vendor", args=[cast.vendor.id])
    response = get_as(client, cast, role, reverse("vendors:detail", args=[cast.vendor.id]))
    expect(response, want)
    if role in ("responder", "executive"):
        page = response.content.decode()
        assert 'id="tokens"' not in page and "Link an incident" not in page
    if role == "manager":
        page = response.content.decode()
        assert 'id="tokens"' in page and "Link an incident" in page


@pytest.mark.parametrize(
    "role,want",
    [
        ("manager", 200),
        ("responder", 200),
        ("executive", 200),
        ("lead", 404),
        ("other_lead", 404),
        ("anonymous", "/login/"),
    ],
)
def test_incident_impacts_panel(client, cast, role, want):
    incident = declare(cast.manager)
    url = reverse("vendors:impacts", args=[incident.id])
    expect(get_as(client, cast, role, url), want)


@pytest.mark.parametrize(
    "role,want",
    [
        ("manager", 200),
        ("responder", 403),
        ("executive", 403),
        ("lead", 200),
        ("other_lead", 200),
        ("anonymous", "/login/"),
    ],
)
def test_template_downloads(client, cast, role, want):
    response = get_as(client, cast, role, reverse("vendors:template", args=["csv"]))
    expect(response, want)
    if role == "other_lead":
        text = response.content.decode()
        assert "straits" in text and "luzon" not in text


def test_unknown_ids_are_404(client, cast):
    client.force_login(cast.manager)
    assert client.get("/vendors/template.exe").status_code == 404
    assert client.get(reverse("vendors:detail", args=[99999])).status_code == 404
    assert client.get(reverse("vendors:portal-vendor", args=[99999])).status_code == 404
    assert client.get(reverse("vendors:impacts", args=[99999])).status_code == 404


def test_vendor_b_lead_gets_404_on_every_write_to_vendor_a(client, cast):
    _token, _secret = services.token_create(actor=cast.manager, vendor_id=cast.vendor.id, name="x")
    incident = declare(cast.manager)
    client.force_login(cast.other_lead)
    posts = [
        reverse("vendors:snapshot", args=[cast.queue.id]),
        reverse("vendors:site-status", args=[cast.site.id]),
        reverse("vendors:token-create", args=[cast.vendor.id]),
        reverse("vendors:token-revoke", args=[cast.vendor.id, _token.id]),
        reverse("vendors:link-incident", args=[cast.vendor.id]),
        reverse("vendors:impact-link", args=[incident.id]),
    ]
    for url in posts:
        assert client.post(url, {}, **HTMX).status_code == 404, url
        assert client.post(url, {}).status_code == 404, url


def test_readers_may_not_write(client, cast):
    for role in ("responder", "executive"):
        client.force_login(getattr(cast, role))
        snapshot = client.post(reverse("vendors:snapshot", args=[cast.queue.id]), {}, **HTMX)
        assert snapshot.status_code == 403
        status = client.post(
            reverse("vendors:site-status", args=[cast.site.id]),
            {f"s{cast.site.id}-status": "down", f"s{cast.site.id}-reason": "x"},
            **HTMX,
        )
        assert status.status_code == 403
        assert client.post(reverse("vendors:upload")).status_code == 403
        tokens = client.post(reverse("vendors:token-create", args=[cast.vendor.id]), {"name": "x"})
        assert tokens.status_code == 403


def test_menu_entries(client, cast):
    client.force_login(cast.manager)
    assert 'data-nav="vendors"' in client.get("/").content.decode()
    client.force_login(cast.lead)
    page = client.get("/").content.decode()
    assert 'data-nav="portal"' in page and 'data-nav="vendors"' not in page
