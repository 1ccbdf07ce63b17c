"""Who gets what from every vendors API route.

One parametrized test: every route of vendors.api.urls (read from its URL
patterns, so a route added without a case here fails) and every method it
serves, asked about vendor A's objects by each principal: an ops manager, a
responder, an executive, A's BPO lead, B's BPO lead, A's token, B's token, a
revoked token of A, and nobody.

- B's lead and B's token get 404 for A's vendor, site, queue and incidents,
  and posting figures or a status to A's queue or site is 404 as well; lists
  filtered on A come back without A's rows. (A bulk upload for A's queue is
  400 with "No such queue." on each row: it is a per-row report, and it
  says the same of ids that do not exist.)
- Managing vendors, sites and queues (creating and changing them) is for
  ops managers (and admins) only: 403 to everyone else, tokens and A's own
  lead included, before any id is looked up.
- Responders and executives read everything and report nothing (403).
- A revoked token is 401; no credentials at all, 403.
"""

from __future__ import annotations

import pytest
from django.urls import URLPattern

from tests.vendors.conftest import minutes_ago
from vendors.api import urls as vendor_urls
from vendors.models import Queue, QueueSnapshot, Site, SiteStatusChange, Vendor

PRINCIPALS = (
    "manager",
    "responder",
    "executive",
    "lead_a",
    "lead_b",
    "token_a",
    "token_b",
    "revoked",
    "anonymous",
)
METHODS = ("get", "post", "put", "patch", "delete")

# Outcomes: a status code, or "shown"/"hidden": 200 with A's row in the
# results, or without it.
READ = {
    "manager": 200,
    "responder": 200,
    "executive": 200,
    "lead_a": 200,
    "lead_b": 404,
    "token_a": 200,
    "token_b": 404,
    "revoked": 401,
    "anonymous": 403,
}
LIST = {p: {200: "shown", 404: "hidden"}.get(code, code) for p, code in READ.items()}
REPORT = {
    **READ,
    "manager": 201,
    "responder": 403,
    "executive": 403,
    "lead_a": 201,
    "token_a": 201,
}
BULK = {**REPORT, "lead_b": 400, "token_b": 400}
MANAGE = dict.fromkeys(PRINCIPALS, 403) | {"manager": 200, "revoked": 401}
CREATE = {**MANAGE, "manager": 201}


def _figures(minutes: int, **extra) -> dict:
    return {
        "taken_at": minutes_ago(minutes).isoformat(),
        "backlog": 40,
        "inflow_per_hour": 300,
        "outflow_per_hour": 320,
        "oldest_item_minutes": 10,
        "sla_attainment": 98.0,
        "staffed_headcount": 20,
        **extra,
    }


# (route name, method) -> (path and body from the world, expected by principal,
# the row a list must show or hide).
CASES = {
    ("api-vendors", "get"): (lambda w: ("/", None), LIST, lambda w: w.vendor.id),
    ("api-vendors", "post"): (
        lambda w: ("/", {"code": "cebu", "name": "Cebu BPO"}),
        CREATE,
        None,
    ),
    ("api-vendor", "get"): (lambda w: (f"/{w.vendor.id}/", None), READ, None),
    ("api-vendor", "patch"): (
        lambda w: (f"/{w.vendor.id}/", {"contacts": "Night lead: +63 2 555 0100"}),
        MANAGE,
        None,
    ),
    ("api-vendor-incidents", "get"): (
        lambda w: (f"/{w.vendor.id}/incidents/", None),
        READ,
        None,
    ),
    ("api-vendor-sites", "get"): (
        lambda w: (f"/sites/?vendor={w.vendor.id}", None),
        LIST,
        lambda w: w.site.id,
    ),
    ("api-vendor-sites", "post"): (
        lambda w: (
            "/sites/",
            {
                "vendor_id": w.vendor.id,
                "name": "Davao",
                "city": "Davao",
                "country": "PH",
                "time_zone": "Asia/Manila",
            },
        ),
        CREATE,
        None,
    ),
    ("api-vendor-site", "get"): (lambda w: (f"/sites/{w.site.id}/", None), READ, None),
    ("api-vendor-site", "patch"): (
        lambda w: (f"/sites/{w.site.id}/", {"seats": 320}),
        MANAGE,
        None,
    ),
    ("api-vendor-site-status", "post"): (
        lambda w: (f"/sites/{w.site.id}/status/", {"status": "degraded", "reason": "Typhoon"}),
        REPORT,
        None,
    ),
    ("api-vendor-queues", "get"): (
        lambda w: (f"/queues/?vendor={w.vendor.id}", None),
        LIST,
        lambda w: w.queue.id,
    ),
    ("api-vendor-queues", "post"): (
        lambda w: (
            "/queues/",
            {"vendor_id": w.vendor.id, "site_id": w.site.id, "code": "tl-live", "name": "Live"},
        ),
        CREATE,
        None,
    ),
    ("api-vendor-queue", "get"): (lambda w: (f"/queues/{w.queue.id}/", None), READ, None),
    ("api-vendor-queue", "patch"): (
        lambda w: (f"/queues/{w.queue.id}/", {"planned_headcount": 25}),
        MANAGE,
        None,
    ),
    ("api-vendor-snapshots", "get"): (
        lambda w: (f"/snapshots/?vendor={w.vendor.id}", None),
        LIST,
        lambda w: w.snapshot.id,
    ),
    ("api-vendor-snapshots", "post"): (
        lambda w: ("/snapshots/", {"queue_id": w.queue.id, **_figures(5)}),
        REPORT,
        None,
    ),
    ("api-vendor-snapshots-bulk", "post"): (
        lambda w: (
            "/snapshots/bulk/",
            [{"queue_id": w.queue.id, **_figures(10)}, {"queue_id": w.queue.id, **_figures(15)}],
        ),
        BULK,
        None,
    ),
}


def _operations() -> list[tuple[str, str]]:
    operations = []
    for pattern in vendor_urls.urlpatterns:
        assert isinstance(pattern, URLPattern), pattern
        view = pattern.callback.view_class
        operations += [(pattern.name, m) for m in METHODS if hasattr(view, m)]
    return operations


def _state() -> tuple:
    """What a refused request must leave alone."""
    return (
        Vendor.objects.count(),
        QueueSnapshot.objects.count(),
        SiteStatusChange.objects.count(),
        list(Vendor.objects.order_by("id").values_list("contacts", flat=True)),
        list(Site.objects.order_by("id").values_list("status", "name", "seats")),
        list(Queue.objects.order_by("id").values_list("code", "site_id", "planned_headcount")),
    )


@pytest.mark.django_db
@pytest.mark.parametrize("principal", PRINCIPALS)
@pytest.mark.parametrize("route,method", _operations())
def test_every_route_for_every_principal(world, route, method, principal):
    assert (route, method) in CASES, f"no isolation case for {method.upper()} {route}"
    build, expected_by_principal, row_of = CASES[route, method]
    path, body = build(world)
    expected = expected_by_principal[principal]
    api = world.api(principal)
    before = _state()
    if method == "get":
        response = api.get(path)
    else:
        response = getattr(api.client, method)(
            api.prefix + path, body, content_type="application/json"
        )
    status = 200 if expected in ("shown", "hidden") else expected
    assert response.status_code == status, (principal, method, path, response.content[:300])
    if expected in ("shown", "hidden"):
        ids = [row["id"] for row in response.json()["results"]]
        assert (row_of(world) in ids) == (expected == "shown"), (principal, ids)
    if response.status_code >= 400:
        assert _state() == before, "a refused request changed something"
        if response.status_code == 404:
            assert response.json()["code"] == "not_found"
    if principal in ("lead_b", "token_b") and response.status_code < 300 and method == "get":
        # Nothing of A's leaks into B's answers.
        assert str(world.vendor.code) not in response.content.decode()
