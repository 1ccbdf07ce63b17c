"""A vendor's sites-and-queues page: ops managers list, add and edit sites
and queues in place (htmx rows); bad input comes back on the form (422)
with what was typed and nothing saved; everyone else gets 404 (anonymous:
the login page); the page's queries do not grow with its rows."""

from __future__ import annotations

from datetime import time

import pytest
from django.urls import reverse

from tests.vendors.views.conftest import HTMX
from vendors import services
from vendors.models import Queue, Site

pytestmark = pytest.mark.django_db


def site_data(prefix: str, **overrides) -> dict:
    data = {
        "name": "Cebu",
        "name_zh": "宿务",
        "city": "Cebu City",
        "country": "ph",
        "time_zone": "Asia/Manila",
        "seats": "120",
        "is_active": "on",
    }
    data.update(overrides)
    return {f"{prefix}-{k}": v for k, v in data.items() if v is not None}


def queue_data(prefix: str, **overrides) -> dict:
    data = {
        "site": "",
        "code": "th-live",
        "name": "Thai live",
        "name_zh": "",
        "content_type": "live",
        "market": "th",
        "language": "th",
        "policy_area": "violence",
        "sla_percent": "90",
        "sla_minutes": "15",
        "planned_headcount": "12",
        "staffed_from": "08:00",
        "staffed_to": "20:00",
        "staffed_days": ["1", "2", "3", "4", "5"],
        "stale_after_minutes": "30",
        "warn_attainment": "",
        "is_active": "on",
    }
    data.update(overrides)
    return {f"{prefix}-{k}": v for k, v in data.items() if v is not None}


def grow(cast, sites: int, queues: int, start: int = 0) -> None:
    made = [
        services.site_create(
            actor=cast.manager,
            vendor_id=cast.vendor.id,
            name=f"Site {i}",
            city="Cebu",
            country="PH",
            time_zone="Asia/Manila",
        )
        for i in range(start, start + sites)
    ]
    for i in range(start, start + queues):
        services.queue_create(
            actor=cast.manager,
            vendor_id=cast.vendor.id,
            site=made[i % len(made)] if made else None,
            code=f"q{i}",
            name=f"Queue {i}",
        )


def page_queries(client, cast, django_assert_max_num_queries) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    url = reverse("vendors:setup", args=[cast.vendor.id])
    with django_assert_max_num_queries(8), CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def test_the_page_lists_sites_and_queues_in_bounded_queries(
    client, cast, django_assert_max_num_queries
):
    client.force_login(cast.manager)
    grow(cast, sites=0, queues=1)  # 1 site, 2 queues
    few = page_queries(client, cast, django_assert_max_num_queries)
    grow(cast, sites=2, queues=18, start=1)  # 3 sites, 20 queues
    many = page_queries(client, cast, django_assert_max_num_queries)
    assert few == many

    page = client.get(reverse("vendors:setup", args=[cast.vendor.id])).content.decode()
    assert page.count('<tr id="site-') == 3 and page.count('<tr id="queue-') == 20
    assert f'id="site-{cast.other_site.id}"' not in page  # the other vendor's
    assert f'id="queue-{cast.other_queue.id}"' not in page
    assert 'id="new-site"' in page and 'id="new-queue"' in page
    assert '<datalist id="setup-zones">' in page and 'value="Asia/Manila"' in page


def test_the_vendor_page_links_to_setup_for_managers_only(client, cast):
    url = reverse("vendors:detail", args=[cast.vendor.id])
    setup = reverse("vendors:setup", args=[cast.vendor.id])
    client.force_login(cast.manager)
    assert setup in client.get(url).content.decode()
    client.force_login(cast.responder)
    assert setup not in client.get(url).content.decode()


def test_a_manager_adds_a_site(client, cast):
    client.force_login(cast.manager)
    url = reverse("vendors:setup-site-create", args=[cast.vendor.id])
    response = client.post(url, site_data("new-site"), **HTMX)
    assert response.status_code == 200
    site = Site.objects.get(vendor=cast.vendor, name="Cebu")
    assert (site.city, site.country, site.time_zone, site.seats, site.is_active) == (
        "Cebu City",
        "PH",
        "Asia/Manila",
        120,
        True,
    )
    page = response.content.decode()
    assert page.startswith('<div id="new-site"') and "Site Cebu added." in page
    # The row joins the table, the queue form's site list is redone.
    assert 'hx-swap-oob="beforeend:#site-rows"' in page and f'id="site-{site.id}"' in page
    assert 'id="id_new-queue-site"' in page and f'value="{site.id}"' in page

    without_htmx = client.post(url, site_data("new-site", name="Davao"))
    davao = Site.objects.get(vendor=cast.vendor, name="Davao")
    assert without_htmx.status_code == 303
    assert without_htmx["Location"].endswith(f"/setup/#site-{davao.id}")


def test_a_bad_new_site_comes_back_with_what_was_typed(client, cast):
    client.force_login(cast.manager)
    url = reverse("vendors:setup-site-create", args=[cast.vendor.id])
    response = client.post(url, site_data("new-site", time_zone="Mars/Olympus"), **HTMX)
    assert response.status_code == 422
    page = response.content.decode()
    assert "Mars/Olympus is not a known time zone." in page
    assert 'value="Cebu City"' in page and 'value="Mars/Olympus"' in page
    assert not Site.objects.filter(name="Cebu").exists()


def test_a_manager_edits_a_site_in_place(client, cast):
    client.force_login(cast.manager)
    url = reverse("vendors:setup-site-edit", args=[cast.vendor.id, cast.site.id])
    form = client.get(url, **HTMX)
    assert form.status_code == 200
    page = form.content.decode()
    assert page.startswith(f'<tr id="site-{cast.site.id}" class="setup-editing"')
    assert f'name="site-{cast.site.id}-time_zone"' in page and 'value="Asia/Manila"' in page

    data = site_data(f"site-{cast.site.id}", name="Manila North", seats="280", is_active=None)
    saved = client.post(url, data, **HTMX)
    assert saved.status_code == 200
    row = saved.content.decode()
    assert row.startswith(f'<tr id="site-{cast.site.id}"') and "Saved." in row
    assert "setup-inactive" in row  # deactivating is editing is_active
    cast.site.refresh_from_db()
    assert (cast.site.name, cast.site.seats, cast.site.is_active) == ("Manila North", 280, False)

    cancel = client.get(reverse("vendors:setup-site", args=[cast.vendor.id, cast.site.id]), **HTMX)
    assert cancel.status_code == 200 and "setup-editing" not in cancel.content.decode()


def test_a_site_with_a_bad_zone_is_refused_and_nothing_saved(client, cast):
    client.force_login(cast.manager)
    url = reverse("vendors:setup-site-edit", args=[cast.vendor.id, cast.site.id])
    data = site_data(f"site-{cast.site.id}", name="Renamed", time_zone="Asia/Atlantis")
    response = client.post(url, data, **HTMX)
    assert response.status_code == 422
    row = response.content.decode()
    assert row.startswith(f'<tr id="site-{cast.site.id}" class="setup-editing"')
    assert "Asia/Atlantis is not a known time zone." in row and "Check the site." in row
    assert 'value="Renamed"' in row and 'value="Asia/Atlantis"' in row  # nothing lost
    cast.site.refresh_from_db()
    assert (cast.site.name, cast.site.time_zone) == ("Manila", "Asia/Manila")

    whole_page = client.post(url, data)  # without JavaScript: the page, the row open
    assert whole_page.status_code == 422
    assert "Asia/Atlantis is not a known time zone." in whole_page.content.decode()


def test_a_manager_adds_a_queue(client, cast):
    client.force_login(cast.manager)
    url = reverse("vendors:setup-queue-create", args=[cast.vendor.id])
    response = client.post(url, queue_data("new-queue", site=str(cast.site.id)), **HTMX)
    assert response.status_code == 200
    queue = Queue.objects.get(vendor=cast.vendor, code="th-live")
    assert queue.site == cast.site and queue.staffed_days == [1, 2, 3, 4, 5]
    assert (queue.sla_percent, queue.sla_minutes, queue.planned_headcount) == (90, 15, 12)
    assert (queue.staffed_from, queue.staffed_to) == (time(8), time(20))
    assert queue.warn_attainment is None and queue.is_active
    page = response.content.decode()
    assert "Queue Thai live added." in page and 'hx-swap-oob="beforeend:#queue-rows"' in page
    assert f'id="queue-{queue.id}"' in page


def test_a_queue_code_taken_or_another_vendors_site_is_refused(client, cast):
    client.force_login(cast.manager)
    url = reverse("vendors:setup-queue-create", args=[cast.vendor.id])
    taken = client.post(url, queue_data("new-queue", code=cast.queue.code), **HTMX)
    assert taken.status_code == 422
    assert "This vendor already has a queue with this code." in taken.content.decode()
    assert 'value="Thai live"' in taken.content.decode()
    theirs = client.post(url, queue_data("new-queue", site=str(cast.other_site.id)), **HTMX)
    assert theirs.status_code == 422  # not one of the choices
    assert not Queue.objects.filter(code="th-live").exists()


def test_a_manager_edits_a_queue_in_place(client, cast):
    client.force_login(cast.manager)
    url = reverse("vendors:setup-queue-edit", args=[cast.vendor.id, cast.queue.id])
    form = client.get(url, **HTMX)
    assert form.status_code == 200
    assert f'name="queue-{cast.queue.id}-sla_minutes"' in form.content.decode()

    prefix = f"queue-{cast.queue.id}"
    data = queue_data(prefix, code=cast.queue.code, site=str(cast.site.id), warn_attainment="97")
    saved = client.post(url, data, **HTMX)
    assert saved.status_code == 200
    assert saved.content.decode().startswith(f'<tr id="queue-{cast.queue.id}"')
    cast.queue.refresh_from_db()
    assert (cast.queue.name, cast.queue.sla_minutes, cast.queue.warn_attainment) == (
        "Thai live",
        15,
        97,
    )

    bad = queue_data(prefix, code=cast.queue.code, sla_percent="140", staffed_days=[])
    refused = client.post(url, bad, **HTMX)
    assert refused.status_code == 422
    row = refused.content.decode()
    assert "Ensure this value is less than or equal to 100." in row and 'value="140"' in row
    assert "This field cannot be blank." in row  # no staffed day ticked
    cast.queue.refresh_from_db()
    assert cast.queue.sla_percent == 90 and cast.queue.staffed_days == [1, 2, 3, 4, 5]


def _urls(cast) -> list[tuple[str, str]]:
    v, s, q = cast.vendor.id, cast.site.id, cast.queue.id
    return [
        ("get", reverse("vendors:setup", args=[v])),
        ("post", reverse("vendors:setup-site-create", args=[v])),
        ("get", reverse("vendors:setup-site", args=[v, s])),
        ("get", reverse("vendors:setup-site-edit", args=[v, s])),
        ("post", reverse("vendors:setup-site-edit", args=[v, s])),
        ("post", reverse("vendors:setup-queue-create", args=[v])),
        ("get", reverse("vendors:setup-queue", args=[v, q])),
        ("get", reverse("vendors:setup-queue-edit", args=[v, q])),
        ("post", reverse("vendors:setup-queue-edit", args=[v, q])),
    ]


@pytest.mark.parametrize("role", ["lead", "other_lead", "executive", "responder"])
def test_only_ops_managers_see_the_setup(client, cast, role):
    client.force_login(getattr(cast, role))
    for method, url in _urls(cast):
        data = site_data("new-site") if "sites" in url else queue_data("new-queue")
        for extra in ({}, HTMX):
            if method == "get":
                response = client.get(url, **extra)
            else:
                response = client.post(url, data, **extra)
            assert response.status_code == 404, (role, method, url)
    assert not Site.objects.filter(name="Cebu").exists()
    assert not Queue.objects.filter(code="th-live").exists()


def test_anonymous_goes_to_the_login_page(client, cast):
    for method, url in _urls(cast):
        response = getattr(client, method)(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/"), url


def test_another_vendors_rows_are_404_under_this_vendor(client, cast):
    client.force_login(cast.manager)
    v = cast.vendor.id
    assert client.get(reverse("vendors:setup", args=[99999])).status_code == 404
    edit_site = reverse("vendors:setup-site-edit", args=[v, cast.other_site.id])
    edit_queue = reverse("vendors:setup-queue-edit", args=[v, cast.other_queue.id])
    assert client.get(edit_site, **HTMX).status_code == 404
    assert (
        client.post(edit_site, site_data(f"site-{cast.other_site.id}"), **HTMX).status_code == 404
    )
    assert client.get(edit_queue, **HTMX).status_code == 404
    cast.other_site.refresh_from_db()
    assert cast.other_site.name == "KL"
