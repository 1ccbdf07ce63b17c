"""The authorization matrix: every URL pattern, API route and socket message
type, asked by every kind of caller.

Routes are read from the resolver (and sockets from tscc/routing.py and the
consumers' code), so a route or frame type added without a rule here fails
("new route without an authorization rule: ..."), and a rule whose route is
gone fails too.

Callers (tests/authz_fixtures.py): anonymous, an ops manager, a responder in
no incident or team, the incident's joined member (also in the schedule's
team), its commander, an executive, an admin, the BPO lead of vendor A (the
objects' vendor) and of vendor B.

- Pages (PAGE_RULES): every caller, signed in with a session; anonymous
  callers must be sent to the login page. A GET is allowed when it answers
  2xx (a redirect elsewhere, e.g. a lead from the board to the portal, is a
  refusal); a POST (sent as htmx sends it) when it answers anything but
  401/403/404/405 or a redirect to the login page. Methods a function view
  has no rule for must be 405.
- API routes (API_RULES): each person's API token (`Authorization: Bearer
  tscc_...`: a token carries exactly its user's rights), no credentials,
  and vendor A's and B's vendor tokens. Allowed: anything but 401/403/404/
  405 (a 400/409 from a minimal body means the permission check was passed).
  Vendors API routes are crossed with nine kinds of caller, vendor tokens
  included, by tests/vendors/api/test_isolation.py: their rule is COVERED.
- A refused write leaves the main tables' row counts alone; every request
  runs in a savepoint rolled back afterwards, so no caller sees another's.
- Cells marked noted(...) are callers whose minimal body is refused (400/
  422) before the permission is checked: the matrix cannot tell those apart.
- SUSPECTED: cells believed wrong. They are asserted as they should be and
  xfail; strict: once fixed, the test fails until the entry is dropped.
- Sockets (SOCKET_RULES, FRAME_RULES): routes from tscc/routing.py and the
  frame types read from each consumer's receive(); connections and the war
  room's frames are asked for real through tscc.asgi.application."""

from __future__ import annotations

import ast
import asyncio
import contextlib
import inspect
import json
import re
import textwrap
from dataclasses import dataclass
from unittest import mock

import pytest
import pytest_asyncio
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.views import APIView

# --- the routes -----------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    name: str  # "namespace:name", or the pattern string when unnamed
    pattern: str  # the full pattern, for messages
    kwargs: tuple[str, ...]  # the captured URL kwargs
    callback: object

    @property
    def api(self) -> bool:
        return self.pattern.startswith("api/")

    @property
    def drf(self) -> bool:
        return getattr(self.callback, "cls", None) is not None


def _kwarg_names(pattern) -> list[str]:
    regex = pattern.regex
    return list(regex.groupindex)


def walk(patterns=None, prefix: str = "", namespace: str = "", kwargs=()) -> list[Route]:
    """Every URL pattern of the project, depth first, with namespaces. Django
    admin's own pages are one route (admin:index): the admin site is for
    admins (is_staff) and guarded by Django itself."""
    if patterns is None:
        patterns = get_resolver().url_patterns
    routes = []
    for p in patterns:
        text = prefix + str(p.pattern)
        names = (*kwargs, *_kwarg_names(p.pattern))
        if isinstance(p, URLResolver):
            ns = namespace
            if p.namespace:
                ns = f"{namespace}{p.namespace}:"
            if ns == "admin:":
                routes.append(Route("admin:index", text, (), None))
                continue
            routes += walk(p.url_patterns, text, ns, names)
        elif isinstance(p, URLPattern):
            name = f"{namespace}{p.name}" if p.name else text
            routes.append(Route(name, text, names, p.callback))
    return routes


# URL kwarg -> the world's attribute that fills it (routes may say otherwise).
KWARGS = {
    "incident_id": "incident",
    "object_id": "incident",
    "event_id": "note",
    "vendor_id": "vendor",
    "site_id": "site",
    "queue_id": "queue",
    "token_id": "vendor_token",
    "impact_id": "impact",
    "schedule_id": "schedule",
    "layer_id": "layer",
    "override_id": "override",
    "feed_id": "feed",
    "policy_id": "policy",
    "rule_id": "routing_rule",
    "method_id": "method",
    "page_id": "page",
    "list_id": "weekly_list",
    "integration_id": "integration",
    "task_id": "task",
    "report_id": "report",
}
KWARGS_BY_ROUTE = {
    "incidents:task-state": {"object_id": "task"},
    "incidents:task-claim": {"object_id": "task"},
    "incidents:report-draft": {"object_id": "report"},
    "incidents:report-submit": {"object_id": "report"},
    "incidents:report-not-required": {"object_id": "report"},
    "incidents:report-receipt": {"object_id": "report"},
    "incidents:report-supplement": {"object_id": "report"},
    "escalations:rule-delete": {"rule_id": "notification_rule"},
    "api-me-notification-rule": {"rule_id": "notification_rule"},
}


def path_for(route: Route, world, caller: str | None = None) -> str:
    if route.name == "admin:index":
        return reverse("admin:index")
    values = {}
    for kwarg in route.kwargs:
        if kwarg == "token":
            values[kwarg] = (
                world.feed_secret if route.name == "oncall-ical-feed" else world.ack_token
            )
        elif kwarg == "kind":
            values[kwarg] = "csv"
        else:
            attr = KWARGS_BY_ROUTE.get(route.name, {}).get(kwarg, KWARGS[kwarg])
            values[kwarg] = getattr(world, attr).pk
    if ":" not in route.name and "/" in route.name:  # unnamed
        raise AssertionError(f"unnamed route {route.pattern}: give it a name")
    return reverse(route.name, kwargs=values)


DRF_METHODS = ("get", "post", "put", "patch", "delete")


def methods_of(route: Route) -> list[str] | None:
    """The methods a class-based API view serves; None for function views
    (their rule lists them, and others must be 405)."""
    if route.drf:
        view = route.callback.cls
        return [m.upper() for m in DRF_METHODS if hasattr(view, m)]
    view_class = getattr(route.callback, "view_class", None)
    if view_class is not None and route.name not in ("login", "logout"):
        return [m.upper() for m in DRF_METHODS if hasattr(view_class, m)]
    return None


# --- the rules ------------------------------------------------------------------

MANAGERS = frozenset({"manager", "admin"})
OPS = MANAGERS | {"responder", "member", "commander"}
ACTORS = MANAGERS | {"member", "commander"}  # incidents.act on the incident
COMMAND = MANAGERS | {"commander"}  # incidents.command
READERS = OPS | {"executive"}  # incidents.view_incident, vendor board
SUMMARIES = MANAGERS | {"executive"}  # tscc.view_summaries
PEOPLE = READERS | {"lead_a", "lead_b"}  # every signed-in person
TEAM = MANAGERS | {"member"}  # oncall.manage_schedule (member is in its team)
OWNER = frozenset({"member"})  # the person whose contact method / rule / page it is
NOBODY = frozenset()
PUBLIC_API = PEOPLE | {"anonymous", "vendor:a", "vendor:b"}

COVERED = "covered by tests/vendors/api/test_isolation.py"

# Cells where the permission is checked only after the body is validated,
# so a minimal body gets 400 from callers who would be refused: the matrix
# cannot tell; they are listed so that a change shows up here.
VALIDATES_FIRST = "400 before the permission check"


def noted(base, *callers) -> dict:
    """`base` allowed, and `callers` counted as allowed because their minimal
    body is refused (400) before the permission is checked."""
    return {**dict.fromkeys(base), **dict.fromkeys(callers, VALIDATES_FIRST)}


# route -> method -> callers allowed (API routes: asked with API tokens).
API_RULES: dict[str, dict[str, object]] = {
    "api-me": {"GET": PEOPLE, "PATCH": PEOPLE},
    "api-incident-list": {"GET": PEOPLE, "POST": OPS},  # leads: an empty list
    "api-incident-detail": {"GET": READERS, "PATCH": ACTORS},
    "api-grading-criteria": {"GET": READERS},
    "api-incident-transition": {"POST": noted(ACTORS, "responder")},
    "api-incident-severity": {"POST": noted(ACTORS, "responder")},
    "api-incident-severity-confirm": {"POST": COMMAND},
    "api-incident-grade": {"POST": noted(ACTORS, "responder")},
    "api-incident-roles": {"POST": noted(ACTORS, "responder")},
    "api-incident-handover": {"POST": noted(ACTORS, "responder")},
    "api-incident-join": {"POST": OPS},
    "api-incident-acknowledge": {"POST": ACTORS},
    "api-incident-merge": {"POST": noted(ACTORS, "responder")},
    "api-incident-links": {"POST": noted(ACTORS, "responder")},
    "api-incident-timeline": {"GET": READERS, "POST": noted(ACTORS, "responder")},
    "api-incident-decisions": {"POST": noted(ACTORS, "responder")},
    "api-incident-facts": {"GET": READERS, "POST": ACTORS},
    # DELETE of a fact that is not pinned: 404 for everyone who may act.
    "api-incident-fact": {"DELETE": NOBODY},
    "api-incident-tasks": {"GET": READERS, "POST": noted(ACTORS, "responder")},
    "api-task-detail": {"PATCH": ACTORS},
    "api-task-claim": {"POST": ACTORS},
    "api-incident-status-updates": {
        "GET": READERS,
        "POST": noted(ACTORS, "responder"),
    },
    "api-incident-reports": {"GET": READERS},
    "api-report-detail": {"PATCH": MANAGERS},  # incidents.manage_reports
    "api-report-submit": {"POST": noted(MANAGERS, *(OPS - MANAGERS))},
    "api-report-receipt": {"POST": MANAGERS},
    "api-report-not-required": {"POST": noted(MANAGERS, *(OPS - MANAGERS))},
    "api-report-supplement": {"POST": MANAGERS},
    "api-incident-review": {"GET": READERS, "PATCH": ACTORS},
    "api-incident-review-state": {"POST": noted(ACTORS, "responder")},
    "api-metrics": {"GET": SUMMARIES},
    "api-oncall-schedules": {
        "GET": OPS,
        "POST": noted(MANAGERS, *(PEOPLE - MANAGERS)),
    },
    "api-oncall-schedule": {"GET": OPS, "PATCH": TEAM},
    "api-oncall-layers": {
        "GET": OPS,
        "POST": noted(TEAM, "responder", "commander"),
    },
    "api-oncall-layer": {"GET": OPS, "PATCH": TEAM, "DELETE": TEAM},
    "api-oncall-overrides": {
        "GET": OPS,
        "POST": noted(TEAM, "responder", "commander"),
    },
    "api-oncall-override": {"DELETE": TEAM},
    "api-oncall-swaps": {"POST": noted(TEAM, "responder", "commander")},
    "api-oncall-schedule-now": {"GET": OPS},
    "api-oncall-shifts": {"GET": OPS},
    "api-oncall-now": {"GET": OPS},
    "api-oncall-my-shifts": {"GET": OPS},
    "api-oncall-feeds": {"GET": OPS, "POST": OPS},
    "api-oncall-feed": {"DELETE": TEAM},  # the feed's owner (member) and managers
    # Integration tokens only (tests/escalations/api): every person is 401.
    "api-integration-alerts": {"POST": NOBODY},
    "api-escalation-policies": {"GET": OPS, "POST": MANAGERS},
    "api-escalation-policy": {"GET": OPS, "PUT": MANAGERS, "DELETE": MANAGERS},
    "api-routing-rules": {"GET": OPS, "POST": MANAGERS},
    "api-routing-rule": {"GET": OPS, "PUT": MANAGERS, "DELETE": MANAGERS},
    "api-routing-rule-move": {"POST": MANAGERS},
    "api-me-contact-methods": {"GET": OPS, "POST": OPS},
    "api-me-contact-method": {"PUT": OWNER, "DELETE": OWNER},
    "api-me-contact-method-test": {"POST": OWNER},
    "api-me-notification-rules": {"GET": OPS, "POST": OPS},
    "api-me-notification-rule": {"PUT": OWNER, "DELETE": OWNER},
    "api-me-quiet-hours": {"GET": OPS, "PUT": OPS},
    "api-pages": {"GET": OPS},
    # The paged member, and whoever commands its incident.
    "api-page-ack": {"POST": COMMAND | OWNER},
    "api-incident-escalations": {"GET": OPS},
    "api-incident-escalations-switch": {"POST": OPS},
    "api-incident-page": {"POST": ACTORS},
    "api-vendors": COVERED,
    "api-vendor": COVERED,
    "api-vendor-incidents": COVERED,
    "api-vendor-sites": COVERED,
    "api-vendor-site": COVERED,
    "api-vendor-site-status": COVERED,
    "api-vendor-queues": COVERED,
    "api-vendor-queue": COVERED,
    "api-vendor-snapshots": COVERED,
    "api-vendor-snapshots-bulk": COVERED,
    # Public by decision: the schema describes the API and holds no data,
    # and vendors' own systems (vendor tokens) integrate from it. The menu
    # entry (tscc.view_api_docs) is shown to people who use the API.
    "api-schema": {"GET": PUBLIC_API},
    "api-docs": {"GET": PUBLIC_API},
}
# Cells believed wrong, asserted as they should be and expected to fail
# (none open. Three were looked at and are by design: executives read an
# incident's paging panel on its page, without its forms (the API's paging
# endpoints stay for the paged roles); responders and executives read a
# vendor's portal without its forms; the schema and its docs are public).
SUSPECTED: dict[tuple[str, str, str], str] = {}

# Server-rendered pages: method -> callers allowed (anonymous: 302 to the
# login page, unless public). Listed so that the enumeration covers them.
PUBLIC = frozenset({"anonymous"}) | PEOPLE
PAGE_RULES: dict[str, dict[str, frozenset]] = {
    "home": {"GET": PEOPLE},
    "profile": {"GET": PEOPLE, "POST": PEOPLE},
    "login": {"GET": frozenset({"anonymous"}), "POST": PUBLIC},  # others: sent on
    "logout": {"POST": PUBLIC},
    "language-switch": {"POST": PUBLIC},
    "healthz": {"GET": PUBLIC},
    "system-status": {"GET": PEOPLE},
    "incidents:list": {"GET": READERS},
    "incidents:declare": {"GET": OPS, "POST": OPS},
    "incidents:severity-preview": {"POST": OPS},
    "incidents:detail": {"GET": READERS},
    "incidents:room": {"GET": READERS},
    "incidents:transition": {"POST": noted(ACTORS, "responder", "executive")},
    "incidents:acknowledge": {"POST": ACTORS},
    "incidents:join": {"POST": OPS},
    "incidents:severity": {"POST": noted(ACTORS, "responder", "executive")},
    "incidents:severity-confirm": {"POST": COMMAND},
    "incidents:roles": {"POST": noted(ACTORS, "responder", "executive")},
    "incidents:handover": {"POST": noted(ACTORS, "responder", "executive")},
    "incidents:notes": {"POST": noted(ACTORS, "responder", "executive")},
    "incidents:fact-pin": {"POST": ACTORS},
    "incidents:fact-unpin": {"POST": ACTORS},
    "incidents:tasks": {"POST": noted(ACTORS, "responder", "executive")},
    "incidents:task-state": {"POST": noted(ACTORS, "responder", "executive")},
    "incidents:task-claim": {"POST": ACTORS},
    "incidents:updates": {"POST": noted(ACTORS, "responder", "executive")},
    "incidents:grade": {"POST": noted(ACTORS, "responder", "executive")},
    "incidents:report-draft": {"POST": MANAGERS},
    "incidents:report-submit": {"POST": noted(MANAGERS, *(READERS - MANAGERS))},
    "incidents:report-not-required": {"POST": noted(MANAGERS, *(READERS - MANAGERS))},
    "incidents:report-receipt": {"POST": MANAGERS},
    "incidents:report-supplement": {"POST": MANAGERS},
    "incidents:review-page": {"GET": READERS},
    "incidents:review": {"POST": ACTORS},
    "incidents:review-state": {"POST": noted(ACTORS, "responder", "executive")},
    "incidents:links": {"POST": noted(ACTORS, "responder", "executive")},
    "incidents:merge": {"POST": noted(ACTORS, "responder", "executive")},
    "incidents:details": {"POST": noted(ACTORS, "responder", "executive")},
    # Secret-token URLs: whoever holds the token (no session needed).
    "oncall-ical-feed": {"GET": PUBLIC},
    "oncall:schedules": {"GET": OPS},
    "oncall:create": {"POST": MANAGERS},
    "oncall:me": {"GET": OPS, "POST": OPS},
    "oncall:my-feed": {"POST": OPS},
    "oncall:detail": {"GET": OPS},
    "oncall:layers": {"POST": noted(TEAM, "responder", "commander")},
    "oncall:layer-edit": {"POST": noted(TEAM, "responder", "commander")},
    "oncall:layer-end": {"POST": TEAM},
    "oncall:overrides": {"POST": noted(TEAM, "responder", "commander")},
    "oncall:override-delete": {"POST": TEAM},
    "oncall:feed": {"POST": OPS},
    "oncall:feed-revoke": {"POST": OWNER},  # the API also lets managers revoke it
    "escalations:ack": {"GET": PUBLIC, "POST": PUBLIC},
    "escalations:my-pages": {"GET": OPS},
    "escalations:page-ack": {"POST": OWNER},  # the API also lets commanders ack it
    # Read by whoever sees the incident (forms only for those who may act).
    "escalations:incident-pages": {"GET": READERS},
    "escalations:incident-switch": {"POST": COMMAND},
    "escalations:incident-page": {"POST": ACTORS},
    "escalations:policies": {"GET": OPS},
    "escalations:policy-new": {"GET": MANAGERS, "POST": MANAGERS},
    "escalations:policy-level": {"GET": MANAGERS},
    "escalations:policy": {"GET": OPS, "POST": MANAGERS},
    "escalations:policy-delete": {"POST": MANAGERS},
    "escalations:routing": {"GET": OPS},
    "escalations:routing-create": {"POST": MANAGERS},
    "escalations:routing-update": {"POST": MANAGERS},
    "escalations:routing-move": {"POST": MANAGERS},
    "escalations:routing-delete": {"POST": MANAGERS},
    "escalations:me": {"GET": OPS},
    "escalations:method-create": {"POST": OPS},
    "escalations:method-update": {"POST": OWNER},
    "escalations:method-delete": {"POST": OWNER},
    "escalations:method-test": {"POST": OWNER},
    "escalations:rule-create": {"POST": OPS},
    "escalations:rule-delete": {"POST": OWNER},
    "escalations:quiet-hours": {"POST": OPS},
    "vendors:board": {"GET": READERS},
    "vendors:portal": {"GET": frozenset({"lead_a", "lead_b"})},
    "vendors:upload": {"POST": MANAGERS | {"lead_a", "lead_b"}},
    "vendors:template": {"GET": MANAGERS | {"lead_a", "lead_b"}},
    "vendors:snapshot": {"POST": MANAGERS | {"lead_a"}},
    "vendors:site-status": {"POST": MANAGERS | {"lead_a"}},
    "vendors:detail": {"GET": READERS},
    # Its leads and ops managers report; responders and executives read.
    "vendors:portal-vendor": {"GET": READERS | {"lead_a"}},
    "vendors:link-incident": {"POST": MANAGERS},
    "vendors:token-create": {"POST": MANAGERS},
    "vendors:contacts": {"POST": MANAGERS},
    "vendors:token-revoke": {"POST": MANAGERS},
    "vendors:setup": {"GET": MANAGERS},
    "vendors:setup-site-create": {"POST": MANAGERS},
    "vendors:setup-site": {"GET": MANAGERS},  # a row (htmx); 303 to the setup page
    "vendors:setup-site-edit": {"GET": MANAGERS, "POST": MANAGERS},
    "vendors:setup-queue-create": {"POST": MANAGERS},
    "vendors:setup-queue": {"GET": MANAGERS},  # a row (htmx); 303 to the setup page
    "vendors:setup-queue-edit": {"GET": MANAGERS, "POST": MANAGERS},
    "vendors:impacts": {"GET": READERS},
    "vendors:impact-link": {"POST": noted(ACTORS, "responder", "executive")},
    "vendors:impact-unlink": {"POST": ACTORS},  # vendors.manage or incidents.act
    "summaries:now": {"GET": SUMMARIES},
    "summaries:incident": {"GET": READERS},  # who may view the incident
    "summaries:incident-pdf": {"GET": READERS},
    "summaries:trends": {"GET": SUMMARIES},
    "summaries:metrics-csv": {"GET": SUMMARIES},
    "summaries:incidents-csv": {"GET": SUMMARIES},
    "summaries:weekly": {"GET": SUMMARIES},
    "summaries:weekly-send": {"POST": MANAGERS},
    # Django's admin: is_staff admins only (its own login page otherwise).
    "admin:index": {"GET": frozenset({"admin"}), "POST": frozenset({"admin"})},
}

RULES = {**API_RULES, **PAGE_RULES}

# Form bodies for pages that look at a field before the permission.
PAGE_BODIES = {
    "escalations:rule-create": lambda w: {"urgency_form": "high"},
    "vendors:site-status": lambda w: {
        f"s{w.site.id}-status": "degraded",
        f"s{w.site.id}-reason": "Typhoon",
    },
}

# Rules for routes other engineers are adding now: tolerated while they do
# not resolve yet (drop a name once its route is merged).
PENDING: set[str] = set()


# --- every route has a rule, every rule a route ---------------------------------


def test_every_route_has_an_authorization_rule():
    routes = {r.name: r for r in walk()}
    missing = sorted(set(routes) - set(RULES))
    assert not missing, "new route without an authorization rule: " + ", ".join(
        f"{name} ({routes[name].pattern})" for name in missing
    )
    stale = sorted(set(RULES) - set(routes) - PENDING)
    assert not stale, "rule for a route that no longer exists: " + ", ".join(stale)
    for name, route in routes.items():
        served = methods_of(route)
        rule = RULES[name]
        if served is None or rule == COVERED:
            continue
        assert sorted(rule) == sorted(served), (
            f"{name}: serves {sorted(served)} but the rule covers {sorted(rule)}"
        )


# --- sockets --------------------------------------------------------------------

# Websocket route -> who may connect.
SOCKET_RULES = {
    "ws/live/": PEOPLE,  # every signed-in person: their own notices
    "ws/incidents/<int:incident_id>/": READERS,  # incidents.view_incident
    "ws/vendors/board/": READERS,  # tscc.view_vendor_board
}
# Consumer -> frame type -> who gets an answer (others: an error frame).
FRAME_RULES = {
    "incidents.consumers.WarRoomConsumer": {
        "resume": READERS,
        "ping": READERS,
        "chat": ACTORS,  # the executive gets "read_only"
        "pin": ACTORS,
        "decision": ACTORS,
    },
    "tscc.consumers.LiveConsumer": {"ping": PEOPLE},
    # The board only listens: every frame is ignored.
    "vendors.consumers.BoardConsumer": {},
}


def _frame_types(consumer) -> set[str]:
    """The frame types a consumer's receive() dispatches on, read from its
    code: the keys of a dict literal of handlers, or the strings compared
    with frame.get("type")."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(consumer.receive)))
    types = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Dict)
            and node.keys
            and all(isinstance(v, ast.Attribute) for v in node.values)
        ):
            types |= {k.value for k in node.keys if isinstance(k, ast.Constant)}
        if isinstance(node, ast.Compare) and "type" in ast.unparse(node.left):
            types |= {c.value for c in node.comparators if isinstance(c, ast.Constant)}
    return types


def test_every_socket_route_and_frame_type_has_a_rule():
    from django.utils.module_loading import import_string

    from tscc.routing import websocket_urlpatterns

    routes = {str(p.pattern): p for p in websocket_urlpatterns}
    assert set(routes) == set(SOCKET_RULES), (
        "new socket route without an authorization rule: "
        f"{sorted(set(routes) - set(SOCKET_RULES))}; "
        f"stale: {sorted(set(SOCKET_RULES) - set(routes))}"
    )
    consumers = {
        f"{p.callback.consumer_class.__module__}.{p.callback.consumer_class.__name__}"
        for p in routes.values()
    }
    assert consumers == set(FRAME_RULES), consumers
    for dotted, rules in FRAME_RULES.items():
        found = _frame_types(import_string(dotted))
        assert found == set(rules), (
            f"{dotted}: new frame type without an authorization rule: "
            f"{sorted(found - set(rules))}; stale: {sorted(set(rules) - found)}"
        )


# The war room and the board, connected for real (tscc.asgi.application,
# the channels-redis layer): transactional tests, so they run before the
# HTTP classes (whose world holds a transaction open while they run).

SOCKETS_OPEN: list = []


async def _connect(path: str, user=None):
    from channels.db import database_sync_to_async
    from channels.testing import WebsocketCommunicator
    from django.test import Client

    from tscc.asgi import application

    headers = [(b"origin", b"http://localhost"), (b"host", b"localhost")]
    if user is not None:

        def cookie():
            client = Client()
            client.force_login(user)
            return f"sessionid={client.cookies['sessionid'].value}".encode()

        headers.append((b"cookie", await database_sync_to_async(cookie)()))
    tab = WebsocketCommunicator(application, path, headers=headers)
    SOCKETS_OPEN.append(tab)
    connected, _ = await tab.connect(timeout=5)
    return tab, connected


async def _answer(tab, marker_ok: str) -> str:
    """'ok' when a frame with `marker_ok` comes, the error code when an
    error frame does (presence and other frames are skipped)."""
    while True:
        frame = await tab.receive_from(timeout=5)
        code = re.search(r'id="room-error"[^>]*data-code="([a-z_]+)"', frame)
        if code:
            return code[1]
        if marker_ok in frame:
            return "ok"


@pytest_asyncio.fixture
async def sockets_closed(transactional_db):
    yield
    from incidents.consumers import PENDING_PRESENCE, RECHECKS

    while SOCKETS_OPEN:
        tab = SOCKETS_OPEN.pop()
        with contextlib.suppress(Exception):
            await tab.disconnect(timeout=2)
    pending = PENDING_PRESENCE | RECHECKS
    if pending:
        await asyncio.wait(list(pending), timeout=5)


@pytest.fixture
def socket_world(transactional_db):
    from tests.authz_fixtures import build_world

    return build_world()


SOCKET_PATHS = {
    "ws/live/": lambda w: "/ws/live/",
    "ws/incidents/<int:incident_id>/": lambda w: f"/ws/incidents/{w.incident.id}/",
    "ws/vendors/board/": lambda w: "/ws/vendors/board/",
}


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_socket_connect_matrix(socket_world, sockets_closed):
    from tests.authz_fixtures import SESSION_CALLERS

    wrong = []
    for route, allowed in SOCKET_RULES.items():
        path = SOCKET_PATHS[route](socket_world)
        for caller in SESSION_CALLERS:
            user = None if caller == "anonymous" else getattr(socket_world, caller)
            tab, connected = await _connect(path, user)
            if connected != (caller in allowed):
                wrong.append(f"{route} {caller}: {'accepted' if connected else 'refused'}")
            if connected:
                await tab.disconnect(timeout=2)
                SOCKETS_OPEN.remove(tab)
    assert not wrong, "socket connections:\n  " + "\n  ".join(wrong)


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_war_room_frame_matrix(socket_world, sockets_closed):
    from channels.db import database_sync_to_async

    """Every frame type of the war room, sent by each caller who may open
    it: answered, or an error frame (chat, pin and decision are writes:
    `read_only` for a non-member responder and the executive)."""
    w = socket_world
    path = SOCKET_PATHS["ws/incidents/<int:incident_id>/"](w)
    seq = None  # pins and decisions are of a chat message: one each

    def chat() -> int:
        from incidents.services import incident_chat_post

        return incident_chat_post(actor=w.commander, incident_id=w.incident.id, text="to pin").seq

    frames = {
        "resume": ({"type": "resume", "last_seq": 0}, "room-sync"),
        "ping": ({"type": "ping"}, "room-pong"),
        "chat": ({"type": "chat", "text": "authz matrix"}, "room-timeline"),
        "pin": ({"type": "pin", "seq": seq}, "room-timeline"),
        "decision": ({"type": "decision", "seq": seq}, "room-timeline"),
    }
    assert set(frames) == set(FRAME_RULES["incidents.consumers.WarRoomConsumer"])
    wrong = []
    readers = SOCKET_RULES["ws/incidents/<int:incident_id>/"]
    for caller in sorted(readers):
        tab, connected = await _connect(path, getattr(w, caller))
        assert connected, caller
        await tab.send_to(text_data=json.dumps(frames["resume"][0]))
        assert await _answer(tab, "room-sync") == "ok"
        for kind, (frame, marker) in frames.items():
            if kind in ("pin", "decision"):  # a fresh message of the commander's
                frame = {**frame, "seq": await database_sync_to_async(chat)()}
                while "to pin" not in await tab.receive_from(timeout=5):
                    pass  # its own broadcast first: not the answer
            await tab.send_to(text_data=json.dumps(frame))
            got = await _answer(tab, marker)
            allowed = caller in FRAME_RULES["incidents.consumers.WarRoomConsumer"][kind]
            if (got == "ok") != allowed:
                wrong.append(f"{kind} by {caller}: {got}")
            elif not allowed and got != "read_only":
                wrong.append(f"{kind} by {caller}: error {got}, expected read_only")
        await tab.disconnect(timeout=2)
        SOCKETS_OPEN.remove(tab)
    assert not wrong, "war-room frames:\n  " + "\n  ".join(wrong)


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_live_and_board_frames(socket_world, sockets_closed):
    """The live socket answers a ping (its only frame type) with a pong,
    anything else with an error; the board ignores every frame."""
    w = socket_world
    live, _ = await _connect("/ws/live/", w.lead_a)
    await live.send_to(text_data=json.dumps({"type": "ping", "id": "1"}))
    assert json.loads(await live.receive_from(timeout=5))["type"] == "pong"
    await live.send_to(text_data=json.dumps({"type": "chat"}))
    assert json.loads(await live.receive_from(timeout=5)) == {
        "type": "error",
        "code": "unknown_type",
    }
    board, connected = await _connect("/ws/vendors/board/", w.executive)
    assert connected
    await board.send_to(text_data=json.dumps({"type": "ping"}))
    assert await board.receive_nothing(timeout=0.3)


# --- the API over HTTP ----------------------------------------------------------


@pytest.fixture(scope="class")
def world(django_db_setup, django_db_blocker):
    """Built once for the class inside a transaction rolled back at its end;
    each request runs in a savepoint of its own, rolled back too."""
    from django.db import transaction

    from tests.authz_fixtures import build_world, clients_for
    from tscc.health import Check

    with django_db_blocker.unblock(), transaction.atomic():
        w = build_world()
        w.clients = clients_for(w)
        quick = Check(ok=True, ms=0.0)
        with (
            mock.patch.object(APIView, "check_throttles", lambda self, request: None),
            # /healthz and /status/ would wait for a Celery worker's ping.
            mock.patch("tscc.health.check_celery", lambda broker_ok: quick),
            mock.patch("tscc.health.check_channel_layer", lambda: quick),
        ):
            yield w
        transaction.set_rollback(True)


def _api_cases():
    cases = []
    for route in walk():
        rule = API_RULES.get(route.name)
        if not route.api or not isinstance(rule, dict):
            continue
        cases += [pytest.param(route, method, id=f"{route.name}-{method}") for method in rule]
    return cases


def _allowed(rule, caller: str) -> tuple[bool, str | None]:
    """Whether `caller` (a person's name) is allowed, and a note."""
    if isinstance(rule, dict):
        note = rule.get(caller)
        return caller in rule, note if isinstance(note, str) else None
    return caller in rule, None


def _counts() -> tuple:
    from escalations.models import EscalationPolicy, RoutingRule
    from incidents.models import Incident, IncidentTask, TimelineEvent
    from oncall.models import Layer, Override, Schedule

    return tuple(
        m.objects.count()
        for m in (
            Incident,
            IncidentTask,
            TimelineEvent,
            Schedule,
            Layer,
            Override,
            EscalationPolicy,
            RoutingRule,
        )
    )


REFUSED = {401, 403, 404, 405}
# Routes asked by fewer callers: each answer of the schema generates all of
# it (seconds); one caller of each kind says the same.
CALLERS_FOR = dict.fromkeys(
    ("api-schema", "api-docs"),
    (
        "anonymous",
        "token:manager",
        "token:executive",
        "token:lead_a",
        "token:lead_b",
        "vendor:a",
        "vendor:b",
    ),
)


def _expect_suspected(name: str, method: str, reproduced: list[str]) -> None:
    """Strict: a suspected bug must reproduce exactly (xfail); once fixed,
    the test fails until its SUSPECTED entries are dropped."""
    listed = sorted(c for (n, m, c) in SUSPECTED if (n, m) == (name, method))
    if not listed:
        return
    seen = sorted(r.split(": ", 1)[0] for r in reproduced)
    assert seen == listed, f"{method} {name}: SUSPECTED lists {listed}, reproduced {seen}"
    pytest.xfail("authorization bug: " + "; ".join(reproduced))


@pytest.mark.django_db
class TestApiMatrix:
    @pytest.mark.parametrize("route,method", _api_cases())
    def test_api_route(self, world, route, method):
        from django.db import transaction

        from tests.authz_fixtures import TOKEN_CALLERS, VENDOR_TOKEN_CALLERS

        rule = API_RULES[route.name][method]
        path = path_for(route, world)
        wrong, suspected = [], []
        callers = CALLERS_FOR.get(route.name, ("anonymous", *TOKEN_CALLERS, *VENDOR_TOKEN_CALLERS))
        for caller in callers:
            person = caller.removeprefix("token:")
            allowed = _allowed(rule, person)[0]
            with transaction.atomic():
                before = _counts() if method != "GET" else None
                client = world.clients[caller]
                if method == "GET":
                    response = client.get(path)
                else:
                    response = getattr(client, method.lower())(
                        path, {}, content_type="application/json"
                    )
                status = response.status_code
                if status in REFUSED and method != "GET":
                    assert _counts() == before, f"{caller}: a refused {method} changed rows"
                transaction.set_rollback(True)
            got = status not in REFUSED
            if got != allowed:
                cell = (route.name, method, caller)
                if cell in SUSPECTED:
                    suspected.append(f"{caller}: {status} ({SUSPECTED[cell]})")
                else:
                    wrong.append(
                        f"{caller}: {status} (expected {'allowed' if allowed else 'refused'})"
                    )
        assert not wrong, f"{method} {path}:\n  " + "\n  ".join(wrong)
        _expect_suspected(route.name, method, suspected)


# --- the pages over HTTP --------------------------------------------------------


def _page_cases():
    cases = []
    for route in walk():
        rule = PAGE_RULES.get(route.name)
        if route.api or rule is None:
            continue
        cases += [pytest.param(route, method, id=f"{route.name}-{method}") for method in rule]
        if methods_of(route) is None:  # a function view: other methods are 405
            cases += [
                pytest.param(route, method, id=f"{route.name}-{method}-405")
                for method in ("GET", "POST")
                if method not in rule
            ]
    return cases


def _to_login(response) -> bool:
    return response.status_code == 302 and "login/" in response.get("Location", "")


@pytest.mark.django_db
class TestPageMatrix:
    @pytest.mark.parametrize("route,method", _page_cases())
    def test_page_route(self, world, route, method):
        from django.db import transaction
        from django.test import Client

        from tests.authz_fixtures import SESSION_CALLERS

        rule = PAGE_RULES[route.name].get(method)
        path = path_for(route, world)
        wrong, suspected = [], []
        for caller in SESSION_CALLERS if rule is not None else ("admin",):
            client = world.clients[caller]
            if route.name == "logout":  # signs the shared client out
                client = Client()
                if caller != "anonymous":
                    client.force_login(getattr(world, caller))
            with transaction.atomic():
                before = _counts() if method == "POST" else None
                body = PAGE_BODIES.get(route.name, lambda w: {})(world) if method == "POST" else {}
                # POSTs as htmx sends them: the same decisions, and a partial
                # (not the whole page) comes back with a form's errors.
                headers = {"HX-Request": "true"} if method == "POST" else {}
                response = getattr(client, method.lower())(path, body, headers=headers)
                status = response.status_code
                htmx_row = route.name in ("vendors:setup-site", "vendors:setup-queue")
                refused = status in REFUSED or (_to_login(response) and route.name != "logout")
                if method == "GET" and status in (301, 302, 303) and not htmx_row:
                    refused = True  # sent elsewhere (a lead from the board to the portal)
                if refused and method == "POST":
                    assert _counts() == before, f"{caller}: a refused POST changed rows"
                transaction.set_rollback(True)
            if rule is None:
                if status != 405:
                    wrong.append(f"{caller}: {status} (a method without a rule: expected 405)")
                continue
            allowed = caller in rule
            if allowed == refused and (route.name, method, caller) in SUSPECTED:
                suspected.append(f"{caller}: {status} ({SUSPECTED[route.name, method, caller]})")
            elif allowed == refused:
                wrong.append(
                    f"{caller}: {status} {response.get('Location', '')}"
                    f" (expected {'allowed' if allowed else 'refused'})"
                )
            elif refused and caller == "anonymous" and status != 405 and not _to_login(response):
                # Pages send the anonymous to the login page, not a 403.
                wrong.append(f"anonymous: {status} (expected a redirect to the login page)")
        assert not wrong, f"{method} {path}:\n  " + "\n  ".join(wrong)
        _expect_suspected(route.name, method, suspected)
