"""The ops board: health, figures, projections, sparklines, open trouble
incidents, filters, the polled partial, and a query count that does not
grow with the number of vendors."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.vendors.views.conftest import HTMX
from vendors import services
from vendors.models import Queue

pytestmark = pytest.mark.django_db


def test_board_shows_health_figures_and_projection(client, cast, healthy, breached):
    services.snapshot_post(actor=cast.lead, queue_id=cast.queue.id, fields=breached())
    services.snapshot_post(
        actor=cast.manager,
        queue_id=cast.other_queue.id,
        fields=healthy(backlog=120, inflow_per_hour=400, outflow_per_hour=320),
    )
    services.site_status_change(
        actor=cast.lead, site_id=cast.site.id, status="degraded", reason="Power cut"
    )
    client.force_login(cast.executive)
    page = client.get(reverse("vendors:board")).content.decode()
    assert 'data-queue="en-video" data-level="breach"' in page
    assert "SLA attainment below target" in page and "oldest item past the SLA time" in page
    assert "81.0%" in page and ">breached<" in page
    # 120 waiting, 80 more per hour, capacity 160 in 30 min: breach in 30 min.
    assert "breach in 30 min" in page and "breach projected within the hour" in page
    assert "Power cut" in page and "Degraded" in page
    assert page.count('<svg class="spark"') == 2
    assert 'name="language" value="zh-hans"' in page  # the shell's switch is intact


def test_board_lists_open_trouble_incidents(
    client, cast, breached, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.snapshot_post(actor=cast.lead, queue_id=cast.queue.id, fields=breached())
    client.force_login(cast.manager)
    page = client.get(reverse("vendors:board")).content.decode()
    assert 'class="vcard-incidents"' in page and "INC-" in page and "SLA breached" in page


def test_filters_and_the_polled_partial(client, cast, healthy, breached):
    services.snapshot_post(actor=cast.lead, queue_id=cast.queue.id, fields=breached())
    services.snapshot_post(actor=cast.manager, queue_id=cast.other_queue.id, fields=healthy())
    client.force_login(cast.manager)
    url = reverse("vendors:board")
    page = client.get(url, {"level": "breach"}).content.decode()
    assert 'data-vendor="luzon"' in page and 'data-vendor="straits"' not in page
    page = client.get(url, {"vendor": cast.other_vendor.id}).content.decode()
    assert 'data-vendor="straits"' in page and 'data-vendor="luzon"' not in page
    page = client.get(url, {"market": "sea"}).content.decode()
    assert 'data-vendor="luzon"' in page and 'data-vendor="straits"' not in page
    page = client.get(url, {"level": "stale"}).content.decode()
    assert "No queue matches these filters." in page
    partial = client.get(url, {"level": "breach"}, HTTP_HX_TARGET="vendor-board", **HTMX)
    body = partial.content.decode()
    assert body.lstrip().startswith('<div id="vendor-board"')
    assert "board:changed, every 30s [" in body and "level=breach" in body
    assert "<html" not in body


def make_vendors(manager, team, count: int, offset: int = 0) -> None:
    """`count` vendors, each with a site, two queues and 6 hours of figures."""
    top = timezone.now().replace(minute=0, second=0, microsecond=0)
    rows = []
    for i in range(offset, offset + count):
        vendor = services.vendor_create(
            actor=manager, code=f"v{i}", name=f"Vendor {i}", team=team, owner=manager
        )
        site = services.site_create(
            actor=manager,
            vendor_id=vendor.id,
            name=f"Site {i}",
            city="Manila",
            country="PH",
            time_zone="Asia/Manila",
        )
        for code in ("video", "live"):
            queue = services.queue_create(
                actor=manager, vendor_id=vendor.id, site=site, code=code, name=code.title()
            )
            rows += [
                {
                    "queue_id": queue.id,
                    "taken_at": (top - timedelta(hours=h)).isoformat(),
                    "backlog": 10 + h,
                    "inflow_per_hour": 100,
                    "outflow_per_hour": 110,
                    "oldest_item_minutes": 5,
                    "sla_attainment": 97 + h / 10,
                    "staffed_headcount": 5,
                }
                for h in range(6)
            ]
        services.site_status_change(
            actor=manager, site_id=site.id, status="degraded", reason="Flood"
        )
    assert services.snapshots_import(actor=manager, rows=rows).ok
    Queue.objects.update(created_at=timezone.now() - timedelta(days=30))


def board_queries(client) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("vendors:board"))
    assert response.status_code == 200
    return len(queries), response.content.decode()


def test_board_queries_do_not_grow_with_vendors(client, manager, team):
    client.force_login(manager)
    make_vendors(manager, team, 3)
    few, page = board_queries(client)
    assert page.count("<tr data-queue=") == 6
    make_vendors(manager, team, 7, offset=3)
    many, page = board_queries(client)
    assert page.count("<tr data-queue=") == 20 and page.count('<svg class="spark"') == 20
    assert few == many
    assert many <= 14, many


def test_every_vendor_table_has_its_header(client, manager, team):
    client.force_login(manager)
    make_vendors(manager, team, 3)
    _count, page = board_queries(client)
    assert page.count('<section class="card card-flush vcard') == 3
    assert page.count('<thead><tr>\n        <th scope="col">Queue</th>') == 3
    assert page.count('<th scope="col" class="num-col">In / h</th>') == 3
    assert page.count('<th scope="col">24 h</th>\n      </tr></thead>') == 3
