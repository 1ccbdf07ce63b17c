"""Hostile input on forms, the API and the war-room chat (issue 9).

- XSS: markup typed into incident titles and summaries (the declare form),
  notes, tasks, status updates, a vendor site's status reason (the portal)
  and a chat message never comes back unescaped, on every page that shows it.
- CSRF: a signed-in browser's POST without the token is refused (403) and
  changes nothing, on pages and on the API with the session; an API token
  needs no CSRF token (no cookie rides along: documented behaviour).
- Open redirect: every `next` / back target (sign-in, sign-out, language,
  the vendor portal's Referer-based back link) refuses another site.
- Mass assignment: fields the API does not take (created_by, last_seq, state
  by PATCH, id, a user's role, is_superuser, a snapshot's vendor or source)
  are ignored or refused, and the row does not change.
- SQL injection: search and filter parameters with SQL in them answer 200 or
  400, never 500, and never more rows than an honest filter would.

A bug found here is asserted as the correct behaviour and marked
xfail(strict=True, reason="BUG: ...").
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from types import SimpleNamespace

import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import PASSWORD
from tests.factories import TeamFactory, UserFactory
from tests.incidents.factories import declare
from tests.vendors.builders import vendor_with_site_and_queue
from tscc.roles import Role

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
PAYLOADS = (SCRIPT, IMG)
# What must never appear in a page: the payloads' live markup.
RAW = ("<script>alert(1)", "<img src=x onerror=alert(1)>")
# How Django's autoescape writes them.
ESCAPED = {
    SCRIPT: "&lt;script&gt;alert(1)&lt;/script&gt;",
    IMG: "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;",
}
EVIL = "https://evil.example/"


def assert_no_raw_markup(response, where: str = "") -> str:
    body = response.content.decode()
    for raw in RAW:
        assert raw not in body, f"unescaped {raw!r} in {where or response.request['PATH_INFO']}"
    return body


# --- the world ------------------------------------------------------------------


@pytest.fixture
def hw(db):
    """A manager commanding an incident, an executive, a BPO lead of vendor A
    (with a site and a queue), a second incident and a weekly report list."""
    from tscc.services import api_token_create
    from vendors import services as vendor_services

    w = SimpleNamespace()
    team = TeamFactory(slug="hostile-team", name="Hostile team")
    w.manager = UserFactory(username="hi-manager", role=Role.OPS_MANAGER)
    w.responder = UserFactory(username="hi-responder", role=Role.RESPONDER)
    w.executive = UserFactory(username="hi-executive", role=Role.EXECUTIVE)
    w.lead = UserFactory(username="hi-lead", role=Role.BPO_LEAD)
    w.manager.teams.add(team)
    w.incident = declare(w.manager, commander=w.manager, title="Visible incident alpha")
    w.other = declare(w.manager, title="Second incident bravo")
    w.vendor, w.site, w.queue = vendor_with_site_and_queue(w.manager, team, code="hi-a")
    w.other_vendor = vendor_services.vendor_create(
        actor=w.manager, code="hi-b", name="Vendor B", team=team, owner=w.manager
    )
    w.other_site = vendor_services.site_create(
        actor=w.manager,
        vendor_id=w.other_vendor.id,
        name="Cebu",
        city="Cebu",
        country="PH",
        time_zone="Asia/Manila",
    )
    w.other_queue = vendor_services.queue_create(
        actor=w.manager,
        vendor_id=w.other_vendor.id,
        site=w.other_site,
        code="hi-q-b",
        name="Queue B",
        sla_percent=95,
        sla_minutes=30,
        planned_headcount=10,
    )
    vendor_services.membership_set(actor=w.manager, vendor_id=w.vendor.id, user_id=w.lead.id)
    w.vendor_token, w.vendor_secret = vendor_services.token_create(
        actor=w.manager, vendor_id=w.vendor.id, name="feed A"
    )
    _token, w.manager_secret = api_token_create(actor=None, user=w.manager, name="hostile")
    _token, w.responder_secret = api_token_create(actor=None, user=w.responder, name="hostile")
    return w


def signed_in(user, **kwargs) -> Client:
    client = Client(**kwargs)
    client.force_login(user)
    return client


def bearer(secret: str, **kwargs) -> Client:
    return Client(headers={"Authorization": f"Bearer {secret}"}, **kwargs)


def rubric() -> dict:
    return {"user_harm": 1, "reach": 1, "legal": 0, "press": 0, "operations": 0}


# --- XSS -----------------------------------------------------------------------------


@pytest.mark.parametrize("payload", PAYLOADS, ids=["script", "img"])
def test_xss_declare_form_title_and_summary_are_escaped_everywhere(hw, payload):
    from incidents.models import Incident

    client = signed_in(hw.manager)
    response = client.post(
        reverse("incidents:declare"),
        {"title": payload, "summary": payload, "category": "spam_flood", **rubric()},
    )
    assert response.status_code == 303, response.content.decode()[:2000]
    incident = Incident.objects.get(title=payload)
    assert incident.summary == payload  # stored as typed: escaping is the page's job

    pages = [
        reverse("incidents:detail", args=[incident.id]),
        reverse("incidents:room", args=[incident.id]),
        reverse("incidents:list"),
        reverse("incidents:list") + "?scope=all",
        reverse("summaries:now"),
        reverse("summaries:incident", args=[incident.id]),
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        body = assert_no_raw_markup(response, url)
        if url != reverse("summaries:now"):
            assert ESCAPED[payload] in body, f"the title is not shown (escaped) on {url}"
    # The executive's read of the same pages.
    executive = signed_in(hw.executive)
    for url in (reverse("summaries:now"), reverse("summaries:incident", args=[incident.id])):
        response = executive.get(url)
        assert response.status_code == 200, url
        assert_no_raw_markup(response, url)


@pytest.mark.parametrize("payload", PAYLOADS, ids=["script", "img"])
def test_xss_note_task_and_status_update_are_escaped(hw, payload):
    from incidents.models import IncidentTask, StatusUpdate, TimelineEvent

    client = signed_in(hw.manager)
    incident_id = hw.incident.id
    response = client.post(
        reverse("incidents:notes", args=[incident_id]), {"kind": "note", "text": payload}
    )
    assert response.status_code == 303
    response = client.post(
        reverse("incidents:notes", args=[incident_id]),
        {"kind": "decision", "text": payload, "reason": payload, "policy": payload},
    )
    assert response.status_code == 303
    response = client.post(reverse("incidents:tasks", args=[incident_id]), {"title": payload})
    assert response.status_code == 303
    response = client.post(
        reverse("incidents:updates", args=[incident_id]),
        {"audience": StatusUpdate.Audience.COMPANY, "text_en": payload, "text_zh": payload},
    )
    assert response.status_code == 303, response.content.decode()[:3000]
    assert TimelineEvent.objects.filter(incident_id=incident_id, text=payload).exists()
    assert IncidentTask.objects.filter(incident_id=incident_id, title=payload).exists()

    for url in (
        reverse("incidents:detail", args=[incident_id]),
        reverse("incidents:room", args=[incident_id]),
        reverse("incidents:review-page", args=[incident_id]),
        reverse("summaries:incident", args=[incident_id]),
        reverse("summaries:now"),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        body = assert_no_raw_markup(response, url)
        if url == reverse("incidents:detail", args=[incident_id]):
            assert ESCAPED[payload] in body
    # The htmx partial of the incident body, as the page swaps it in.
    response = client.get(reverse("incidents:detail", args=[incident_id]), HTTP_HX_REQUEST="true")
    assert_no_raw_markup(response, "incident page (htmx)")


@pytest.mark.parametrize("payload", PAYLOADS, ids=["script", "img"])
def test_xss_vendor_site_status_reason_is_escaped_on_board_and_portal(hw, payload):
    from vendors.models import SiteStatusChange

    lead = signed_in(hw.lead)
    prefix = f"s{hw.site.id}"
    response = lead.post(
        reverse("vendors:site-status", args=[hw.site.id]),
        {f"{prefix}-status": "degraded", f"{prefix}-reason": payload},
    )
    assert response.status_code == 303, response.content.decode()[:2000]
    assert SiteStatusChange.objects.filter(site=hw.site, reason=payload).exists()
    for url in (reverse("vendors:portal"),):
        response = lead.get(url)
        assert response.status_code == 200, url
        assert ESCAPED[payload] in assert_no_raw_markup(response, url)
    manager = signed_in(hw.manager)
    for url in (
        reverse("vendors:board"),
        reverse("vendors:portal-vendor", args=[hw.vendor.id]),
        reverse("vendors:detail", args=[hw.vendor.id]),
    ):
        response = manager.get(url)
        assert response.status_code == 200, url
        assert_no_raw_markup(response, url)
    response = manager.get(reverse("vendors:portal-vendor", args=[hw.vendor.id]))
    assert ESCAPED[payload] in response.content.decode()
    # The htmx partial that answers the portal's form.
    response = lead.post(
        reverse("vendors:site-status", args=[hw.site.id]),
        {f"{prefix}-status": "down", f"{prefix}-reason": payload},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert_no_raw_markup(response, "site status partial")


@pytest.mark.parametrize("payload", PAYLOADS, ids=["script", "img"])
def test_xss_api_written_text_is_escaped_on_pages(hw, payload):
    """The same payloads written through the API (title by PATCH, a task, a
    note) show escaped on the pages."""
    api = bearer(hw.manager_secret)
    incident_id = hw.incident.id
    base = f"/api/v1/incidents/{incident_id}/"
    assert (
        api.patch(base, {"title": payload, "summary": payload}, "application/json").status_code
        == 200
    )
    assert api.post(base + "tasks/", {"title": payload}, "application/json").status_code == 201
    assert api.post(base + "timeline/", {"text": payload}, "application/json").status_code == 201
    client = signed_in(hw.manager)
    for url in (
        reverse("incidents:detail", args=[incident_id]),
        reverse("incidents:list"),
        reverse("incidents:room", args=[incident_id]),
        reverse("summaries:incident", args=[incident_id]),
        reverse("summaries:now"),
        reverse("vendors:board"),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert_no_raw_markup(response, url)


@pytest.mark.parametrize("payload", PAYLOADS, ids=["script", "img"])
def test_xss_names_in_hand_built_html_are_escaped(hw, payload):
    """Names stored with markup (as the admin or an import could write them):
    the person's display name, the vendor's, site's and queue's names, codes,
    market and language. The board's rows and the war room's frames are HTML
    written in Python, not by the template engine."""
    from incidents.services import incident_add_note, incident_task_create
    from tscc.models import User
    from vendors.models import Queue, Site, Vendor

    incident_add_note(actor=hw.manager, incident_id=hw.incident.id, text="by the manager")
    incident_task_create(
        actor=hw.manager, incident_id=hw.incident.id, title="owned", owner=hw.manager
    )
    User.objects.filter(id=hw.manager.id).update(display_name=payload)
    Vendor.objects.filter(id=hw.vendor.id).update(name=payload, contacts=payload)
    Site.objects.filter(id=hw.site.id).update(name=payload, city=payload, status_reason=payload)
    Queue.objects.filter(id=hw.queue.id).update(
        # code, market and language hold 20 characters (PostgreSQL enforces it)
        name=payload,
        code=payload[:20],
        market=payload[:20],
        language=payload[:20],
    )
    manager = signed_in(hw.manager)
    for client, url in (
        (manager, reverse("vendors:board")),
        (manager, reverse("vendors:board") + "?level=ok"),
        (manager, reverse("vendors:detail", args=[hw.vendor.id])),
        (manager, reverse("vendors:portal-vendor", args=[hw.vendor.id])),
        (manager, reverse("vendors:setup", args=[hw.vendor.id])),
        (manager, reverse("incidents:detail", args=[hw.incident.id])),
        (manager, reverse("incidents:room", args=[hw.incident.id])),
        (manager, reverse("incidents:list")),
        (manager, reverse("summaries:now")),
        (manager, reverse("summaries:incident", args=[hw.incident.id])),
        (manager, reverse("home")),
        (manager, reverse("profile")),
        (signed_in(hw.lead), reverse("vendors:portal")),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert_no_raw_markup(response, url)


# --- XSS through the war-room chat (the real ASGI app) ---------------------------------


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_xss_chat_message_is_escaped_live_and_on_the_room_page():
    from channels.db import database_sync_to_async

    from incidents.models import TimelineEvent
    from tests.incidents.warroom.test_consumer import OPEN, connect, events, send

    @database_sync_to_async
    def setup():
        manager = UserFactory(username="hi-chat-manager", role=Role.OPS_MANAGER)
        incident = declare(manager, commander=manager)
        incident.refresh_from_db()
        return manager, incident

    @database_sync_to_async
    def room_page(user, incident_id):
        client = signed_in(user)
        return client.get(reverse("incidents:room", args=[incident_id]))

    @database_sync_to_async
    def stored(incident_id):
        return list(
            TimelineEvent.objects.filter(
                incident_id=incident_id, kind=TimelineEvent.Kind.MESSAGE
            ).values_list("text", flat=True)
        )

    manager, incident = await setup()
    try:
        tab, connected = await connect(incident.id, manager, resume=incident.last_seq)
        assert connected
        frames = []
        for payload in PAYLOADS:
            await send(tab, type="chat", text=payload)
            frames += await events(tab, 1)
        for frame in frames:
            for raw in RAW:
                assert raw not in frame
        assert ESCAPED[SCRIPT] in frames[0]
        assert sorted(await stored(incident.id)) == sorted(PAYLOADS)
        response = await room_page(manager, incident.id)
        assert response.status_code == 200
        body = assert_no_raw_markup(response, "room page")
        assert ESCAPED[SCRIPT] in body
    finally:
        while OPEN:
            socket = OPEN.pop()
            # already gone, or slow to go (a cancelled wait is not an Exception)
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await socket.disconnect(timeout=5)


# --- CSRF ----------------------------------------------------------------------------


def _csrf_client(user) -> Client:
    return signed_in(user, enforce_csrf_checks=True)


def _counts():
    from incidents.models import Incident, TimelineEvent
    from vendors.models import QueueSnapshot

    return (
        Incident.objects.count(),
        TimelineEvent.objects.count(),
        QueueSnapshot.objects.count(),
    )


def test_csrf_page_posts_without_token_are_refused_and_change_nothing(hw, mailoutbox):
    from incidents.models import WeeklyReportList

    weekly = WeeklyReportList.objects.create(
        name="Weekly", recipients="someone@example.test", created_by=hw.manager
    )
    client = _csrf_client(hw.manager)
    incident_id = hw.incident.id
    before = _counts()
    state = hw.incident.state
    posts = [
        (
            reverse("incidents:declare"),
            {"title": "CSRF", "category": "spam_flood", **rubric()},
        ),
        (reverse("incidents:notes", args=[incident_id]), {"kind": "note", "text": "CSRF"}),
        (reverse("incidents:tasks", args=[incident_id]), {"title": "CSRF"}),
        (
            reverse("incidents:transition", args=[incident_id]),
            {"target": "cancelled", "reason": "CSRF"},
        ),
        (
            reverse("vendors:snapshot", args=[hw.queue.id]),
            {"backlog": "5", "inflow_per_hour": "1", "outflow_per_hour": "1"},
        ),
        (
            reverse("vendors:site-status", args=[hw.site.id]),
            {f"s{hw.site.id}-status": "down", f"s{hw.site.id}-reason": "CSRF"},
        ),
        (reverse("language-switch"), {"language": "zh-hans", "next": "/"}),
        (
            reverse("profile"),
            {"display_name": "CSRF", "language": "zh-hans", "time_zone": "UTC", "phone": ""},
        ),
        (reverse("summaries:weekly-send", args=[weekly.id]), {}),
        (reverse("logout"), {}),
    ]
    for url, data in posts:
        response = client.post(url, data)
        assert response.status_code == 403, url
        # The htmx flavour of the same POST is refused too.
        response = client.post(url, data, HTTP_HX_REQUEST="true")
        assert response.status_code == 403, url
    assert _counts() == before
    hw.incident.refresh_from_db()
    assert hw.incident.state == state
    hw.manager.refresh_from_db()
    assert hw.manager.display_name != "CSRF" and hw.manager.language == "en"
    hw.site.refresh_from_db()
    assert hw.site.status != "down"
    assert mailoutbox == []
    # Still signed in: the logout without a token did nothing either.
    assert client.get(reverse("home")).status_code == 200


def test_csrf_a_post_with_the_token_goes_through(hw):
    """The control: the same client with the token is not refused."""
    client = _csrf_client(hw.manager)
    client.get(reverse("incidents:detail", args=[hw.incident.id]))
    token = client.cookies["csrftoken"].value
    response = client.post(
        reverse("incidents:notes", args=[hw.incident.id]),
        {"kind": "note", "text": "with token", "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 303


def test_csrf_api_with_session_needs_the_token(hw):
    from incidents.models import TimelineEvent

    client = _csrf_client(hw.manager)
    before = TimelineEvent.objects.count()
    url = f"/api/v1/incidents/{hw.incident.id}/timeline/"
    writes = [
        ("post", url, {"text": "CSRF"}),
        ("patch", f"/api/v1/incidents/{hw.incident.id}/", {"title": "CSRF"}),
        ("patch", "/api/v1/me/", {"display_name": "CSRF"}),
        ("post", "/api/v1/vendors/snapshots/", {"queue_id": hw.queue.id, "backlog": 1}),
    ]
    for method, path, body in writes:
        response = getattr(client, method)(path, json.dumps(body), "application/json")
        assert response.status_code == 403, path
        assert "csrf" in response.content.decode().lower(), path
    assert TimelineEvent.objects.count() == before
    hw.manager.refresh_from_db()
    assert hw.manager.display_name != "CSRF"
    # Reads need no token.
    assert client.get(url).status_code == 200
    # With the token the session write goes through.
    client.get(reverse("home"))
    token = client.cookies["csrftoken"].value
    response = client.post(url, {"text": "ok"}, "application/json", HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 201


def test_csrf_api_token_needs_no_csrf_token(hw):
    """Documented: a Bearer token is not ambient (no browser sends it by
    itself), so the API takes it without a CSRF token."""
    client = Client(
        enforce_csrf_checks=True, headers={"Authorization": f"Bearer {hw.manager_secret}"}
    )
    response = client.post(
        f"/api/v1/incidents/{hw.incident.id}/timeline/", {"text": "by token"}, "application/json"
    )
    assert response.status_code == 201
    response = client.patch("/api/v1/me/", {"display_name": "Token"}, "application/json")
    assert response.status_code == 200


def test_csrf_session_plus_bearer_still_checks_the_session(hw):
    """A browser with a session that also sends a bogus Bearer header gets no
    way around the CSRF check (the session is read first)."""
    client = _csrf_client(hw.manager)
    response = client.post(
        f"/api/v1/incidents/{hw.incident.id}/timeline/",
        {"text": "mixed"},
        "application/json",
        HTTP_AUTHORIZATION="Bearer tscc_not-a-real-secret",
    )
    assert response.status_code in (401, 403)


# --- open redirect ------------------------------------------------------------------

OFFSITE = [
    EVIL,
    "//evil.example/",
    "http://evil.example",
    "https:evil.example",
    "/\\evil.example/",
    "\\\\evil.example",
    " https://evil.example/",
    "javascript:alert(1)",
    "https://localhost.evil.example/",
    "https://evil.example/@localhost",
]


def _offsite(location: str) -> bool:
    from urllib.parse import urlsplit

    location = location.strip()
    parts = urlsplit(location.replace("\\", "/"))
    return bool(parts.scheme and parts.scheme not in ("http", "https")) or (
        parts.netloc not in ("", "testserver", "localhost")
    )


@pytest.mark.parametrize("target", OFFSITE)
def test_open_redirect_login_next(hw, target):
    client = Client()
    url = reverse("login")
    response = client.get(url, {"next": target})
    assert response.status_code == 200
    # The target comes back only inside form values, escaped: never as a link.
    assert_no_raw_markup(response, "login")
    assert f'href="{target}' not in response.content.decode()
    response = client.post(
        url + "?next=" + target,
        {"username": hw.manager.username, "password": PASSWORD, "next": target},
    )
    assert response.status_code == 302
    assert not _offsite(response["Location"]), response["Location"]
    # Signed in already (redirect_authenticated_user): the GET redirects, safely.
    response = client.get(url, {"next": target})
    assert response.status_code == 302
    assert not _offsite(response["Location"]), response["Location"]


def test_open_redirect_login_next_on_site_is_kept(hw):
    response = Client().post(
        reverse("login"),
        {"username": hw.manager.username, "password": PASSWORD, "next": "/incidents/"},
    )
    assert response["Location"] == "/incidents/"


@pytest.mark.parametrize("target", OFFSITE)
def test_open_redirect_logout_next(hw, target):
    client = signed_in(hw.manager)
    response = client.post(reverse("logout") + "?next=" + target, {"next": target})
    assert response.status_code in (200, 302)
    if response.status_code == 302:
        assert not _offsite(response["Location"]), response["Location"]


@pytest.mark.parametrize("target", OFFSITE)
def test_open_redirect_language_switch(hw, target):
    for client in (Client(), signed_in(hw.manager)):
        response = client.post(reverse("language-switch"), {"language": "en", "next": target})
        assert response.status_code == 302
        assert response["Location"] == "/"


def test_open_redirect_language_switch_on_site_is_kept(hw):
    response = signed_in(hw.manager).post(
        reverse("language-switch"), {"language": "en", "next": "/incidents/?scope=all"}
    )
    assert response["Location"] == "/incidents/?scope=all"


@pytest.mark.parametrize(
    "referer",
    [
        "https://evil.example/vendors/",
        "//evil.example/vendors/",
        "http://evil.example/x?/vendors/",
        "javascript:alert(1)//vendors/",
    ],
)
def test_open_redirect_vendor_portal_back_link(hw, referer):
    """The portal's forms go back to the page they came from (the Referer)
    when it is on this site and under /vendors/; otherwise to the portal."""
    lead = signed_in(hw.lead)
    prefix = f"s{hw.site.id}"
    response = lead.post(
        reverse("vendors:site-status", args=[hw.site.id]),
        {f"{prefix}-status": "degraded", f"{prefix}-reason": "slow"},
        HTTP_REFERER=referer,
    )
    assert response.status_code == 303
    assert response["Location"] == reverse("vendors:portal")
    response = lead.post(
        reverse("vendors:snapshot", args=[hw.queue.id]),
        {"backlog": "x"},
        HTTP_REFERER=referer,
    )
    assert response.status_code == 303
    assert response["Location"] == reverse("vendors:portal")


def test_open_redirect_vendor_portal_back_link_on_site_is_kept(hw):
    lead = signed_in(hw.lead)
    prefix = f"s{hw.site.id}"
    back = "http://testserver/vendors/portal/?x=1"
    response = lead.post(
        reverse("vendors:site-status", args=[hw.site.id]),
        {f"{prefix}-status": "degraded", f"{prefix}-reason": "slow"},
        HTTP_REFERER=back,
    )
    assert response["Location"] == back


def test_no_other_view_redirects_to_a_parameter():
    """The inventory behind the tests above: the only views that redirect to
    a caller-chosen target are sign-in and sign-out (Django's, `next`), the
    language switch (`next`) and the vendor portal (Referer). A new one must
    join the tests here."""
    import pathlib

    root = pathlib.Path(__file__).resolve().parent.parent
    found = set()
    pattern = re.compile(
        r"""GET\.get\(\s*["'](next|return_to|redirect|back|url)["']"""
        r"""|POST\.get\(\s*["'](next|return_to|redirect|back|url)["']"""
        r"""|headers\.get\(\s*["']referer["']""",
        re.IGNORECASE,
    )
    for app in ("tscc", "incidents", "escalations", "oncall", "vendors"):
        for path in (root / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            if pattern.search(path.read_text()):
                found.add(str(path.relative_to(root)))
    assert found == {"tscc/views.py", "vendors/views/portal.py"}


# --- mass assignment ----------------------------------------------------------------


def test_mass_assignment_incident_patch_ignores_protected_fields(hw):
    from incidents.models import Incident

    incident = Incident.objects.get(id=hw.incident.id)
    before = {
        f: getattr(incident, f)
        for f in ("id", "state", "created_by_id", "last_seq", "number", "year", "severity")
    }
    api = bearer(hw.manager_secret)
    response = api.patch(
        f"/api/v1/incidents/{incident.id}/",
        {
            "id": incident.id + 1000,
            "state": "closed",
            "created_by": hw.responder.id,
            "created_by_id": hw.responder.id,
            "last_seq": 999_999,
            "number": 99_999,
            "year": 1999,
            "severity": "sev1",
            "closed_at": "2020-01-01T00:00:00Z",
            "title": "Renamed",
        },
        "application/json",
    )
    assert response.status_code in (200, 400)
    incident.refresh_from_db()
    after = {f: getattr(incident, f) for f in before}
    if response.status_code == 200:
        # The one real field changed; every other stays; last_seq moves
        # only by the timeline (one event for the edit at most).
        assert incident.title == "Renamed"
        assert after["last_seq"] in (before["last_seq"], before["last_seq"] + 1)
        after["last_seq"] = before["last_seq"]
    assert after == before
    assert incident.closed_at is None
    assert not Incident.objects.filter(id=before["id"] + 1000).exists()


def test_mass_assignment_incident_declare_ignores_protected_fields(hw):
    from incidents.models import Incident

    api = bearer(hw.manager_secret)
    response = api.post(
        "/api/v1/incidents/",
        {
            "title": "Fresh",
            "category": "spam_flood",
            "answers": rubric(),
            "state": "closed",
            "created_by": hw.responder.id,
            "last_seq": 500,
            "id": 424242,
            "number": 1,
            "year": 1999,
            "closed_at": "2020-01-01T00:00:00Z",
        },
        "application/json",
    )
    assert response.status_code == 201, response.content
    incident = Incident.objects.get(id=response.json()["id"])
    assert incident.id != 424242
    assert incident.state == "triage"
    assert incident.created_by_id == hw.manager.id
    assert incident.year != 1999
    assert incident.closed_at is None
    assert incident.last_seq < 500


def test_mass_assignment_me_cannot_change_role_or_flags(hw):
    from tscc.models import User

    api = bearer(hw.responder_secret)
    response = api.patch(
        "/api/v1/me/",
        {
            "role": Role.ADMIN.value if hasattr(Role.ADMIN, "value") else "admin",
            "is_superuser": True,
            "is_staff": True,
            "is_active": False,
            "username": "hijacked",
            "id": hw.manager.id,
            "teams": ["hostile-team"],
            "display_name": "Me",
        },
        "application/json",
    )
    assert response.status_code in (200, 400)
    user = User.objects.get(id=hw.responder.id)
    assert user.role == Role.RESPONDER
    assert not user.is_superuser and not user.is_staff and user.is_active
    assert user.username == "hi-responder"
    assert not user.teams.exists()
    manager = User.objects.get(id=hw.manager.id)
    assert manager.display_name != "Me"
    if response.status_code == 200:
        assert response.json()["role"] == user.role


def test_mass_assignment_profile_form_cannot_change_role(hw):
    from tscc.models import User

    client = signed_in(hw.responder)
    response = client.post(
        reverse("profile"),
        {
            "display_name": "Profile",
            "language": "en",
            "time_zone": "UTC",
            "phone": "",
            "role": "admin",
            "is_superuser": "on",
            "is_staff": "on",
            "username": "hijacked",
        },
    )
    assert response.status_code == 302
    user = User.objects.get(id=hw.responder.id)
    assert user.display_name == "Profile"
    assert user.role == Role.RESPONDER and not user.is_superuser and not user.is_staff
    assert user.username == "hi-responder"


def test_mass_assignment_task_patch_cannot_move_the_task(hw):
    from incidents.models import IncidentTask
    from incidents.services import incident_task_create

    task = incident_task_create(actor=hw.manager, incident_id=hw.incident.id, title="Look")
    api = bearer(hw.manager_secret)
    response = api.patch(
        f"/api/v1/tasks/{task.id}/",
        {"incident": hw.other.id, "incident_id": hw.other.id, "id": task.id + 100, "title": "T"},
        "application/json",
    )
    assert response.status_code in (200, 400)
    task = IncidentTask.objects.get(id=task.id)
    assert task.incident_id == hw.incident.id


def test_mass_assignment_vendor_token_snapshot_stays_with_its_vendor(hw):
    """A vendor token cannot post for another vendor's queue, nor choose the
    snapshot's vendor, source or author."""
    from vendors.models import QueueSnapshot

    vendor = Client(headers={"Authorization": f"Vendor {hw.vendor_secret}"})
    figures = {"backlog": 3, "inflow_per_hour": 1, "outflow_per_hour": 1, "oldest_item_minutes": 1}
    response = vendor.post(
        "/api/v1/vendors/snapshots/",
        {"queue_id": hw.other_queue.id, **figures},
        "application/json",
    )
    assert response.status_code in (403, 404)
    assert not QueueSnapshot.objects.filter(queue=hw.other_queue).exists()
    response = vendor.post(
        "/api/v1/vendors/snapshots/",
        {
            "queue_id": hw.queue.id,
            "vendor_id": hw.other_vendor.id,
            "vendor": hw.other_vendor.id,
            "queue": hw.other_queue.id,
            "source": "portal",
            "created_by": hw.manager.id,
            "posted_by": hw.manager.id,
            "id": 777_777,
            **figures,
        },
        "application/json",
    )
    assert response.status_code in (201, 400), response.content
    if response.status_code == 201:
        snapshot = QueueSnapshot.objects.get(id=response.json()["id"])
        assert snapshot.id != 777_777
        assert snapshot.queue_id == hw.queue.id
        assert snapshot.source == QueueSnapshot.Source.API
        assert response.json()["vendor"] == hw.vendor.id
    assert not QueueSnapshot.objects.filter(queue=hw.other_queue).exists()


def test_mass_assignment_vendor_token_cannot_change_another_vendors_site(hw):
    vendor = Client(headers={"Authorization": f"Vendor {hw.vendor_secret}"})
    response = vendor.post(
        f"/api/v1/vendors/sites/{hw.other_site.id}/status/",
        {"status": "down", "reason": "not mine", "vendor": hw.vendor.id},
        "application/json",
    )
    assert response.status_code in (403, 404)
    hw.other_site.refresh_from_db()
    assert hw.other_site.status != "down"


def test_mass_assignment_site_patch_refuses_status_and_vendor(hw):
    api = bearer(hw.manager_secret)
    response = api.patch(
        f"/api/v1/vendors/sites/{hw.site.id}/",
        {"status": "down", "status_reason": "sneaky"},
        "application/json",
    )
    assert response.status_code == 400
    response = api.patch(
        f"/api/v1/vendors/sites/{hw.site.id}/",
        {"vendor": hw.other_vendor.id, "vendor_id": hw.other_vendor.id, "name": "Renamed"},
        "application/json",
    )
    assert response.status_code in (200, 400)
    hw.site.refresh_from_db()
    assert hw.site.vendor_id == hw.vendor.id
    assert hw.site.status != "down"


def test_mass_assignment_vendor_patch_ignores_id_and_created_at(hw):
    from vendors.models import Vendor

    before = Vendor.objects.get(id=hw.vendor.id)
    api = bearer(hw.manager_secret)
    response = api.patch(
        f"/api/v1/vendors/{hw.vendor.id}/",
        {"id": hw.other_vendor.id, "created_at": "2000-01-01T00:00:00Z", "name": "Renamed A"},
        "application/json",
    )
    assert response.status_code in (200, 400)
    after = Vendor.objects.get(id=hw.vendor.id)
    assert after.created_at == before.created_at
    assert Vendor.objects.get(id=hw.other_vendor.id).name == "Vendor B"


# --- SQL injection ------------------------------------------------------------------

SQL = [
    "' OR 1=1 --",
    "' OR '1'='1",
    "%' UNION SELECT username, password FROM tscc_user --",
    "1; DROP TABLE incidents_incident; --",
    '" OR ""="',
    "') OR ('x'='x",
    "\\'; SELECT pg_sleep(5); --",
    "%",
    "_",
]


@pytest.mark.parametrize("payload", SQL)
def test_sqli_triage_search_does_not_widen(hw, payload):
    from incidents.models import Incident

    client = signed_in(hw.manager)
    response = client.get(reverse("incidents:list"), {"q": payload, "scope": "all"})
    assert response.status_code == 200
    body = response.content.decode()
    expected = Incident.objects.filter(title__icontains=payload).exists() or (
        Incident.objects.filter(summary__icontains=payload).exists()
    )
    if not expected:
        assert "Visible incident alpha" not in body
        assert "Second incident bravo" not in body
    assert "pbkdf2" not in body and "argon2" not in body and "md5$" not in body
    assert Incident.objects.count() >= 2  # nothing dropped


@pytest.mark.parametrize("payload", SQL)
def test_sqli_api_incident_filters(hw, payload):
    api = bearer(hw.manager_secret)
    for params in (
        {"q": payload, "scope": "all"},
        {"category": payload},
        {"market": payload},
        {"state": payload},
        {"severity": payload},
        {"commander": payload},
        {"sort": payload},
        {"declared_after": payload},
        {"scope": payload},
        {"cursor": payload},
        {"page_size": payload},
    ):
        response = api.get("/api/v1/incidents/", params)
        assert response.status_code in (200, 400), (params, response.status_code)
        if response.status_code == 200 and "q" in params and payload not in ("%", "_"):
            assert response.json()["results"] == [], params


@pytest.mark.parametrize("payload", SQL)
def test_sqli_other_api_filters(hw, payload):
    api = bearer(hw.manager_secret)
    for path, params in (
        ("/api/v1/metrics/", {"category": payload}),
        ("/api/v1/metrics/", {"since": payload, "until": payload}),
        ("/api/v1/vendors/queues/", {"health": payload}),
        ("/api/v1/vendors/queues/", {"vendor": payload}),
        ("/api/v1/vendors/sites/", {"vendor": payload}),
        ("/api/v1/vendors/snapshots/", {"queue": payload, "since": payload}),
        ("/api/v1/vendors/", {"limit": payload, "offset": payload}),
        ("/api/v1/pages/", {"state": payload}),
        ("/api/v1/oncall/schedules/", {"team": payload}),
        ("/api/v1/oncall/oncall/now/", {"at": payload}),
    ):
        response = api.get(path, params)
        assert response.status_code in (200, 400), (path, params, response.status_code)
        if response.status_code == 200 and path == "/api/v1/vendors/queues/":
            data = response.json()
            rows = data["results"] if isinstance(data, dict) else data
            assert rows == [], (path, params)


@pytest.mark.parametrize("payload", SQL)
def test_sqli_pages_filters(hw, payload):
    client = signed_in(hw.manager)
    for path, params in (
        (reverse("vendors:board"), {"vendor": payload, "level": payload, "market": payload}),
        (reverse("summaries:trends"), {"category": payload, "period": payload}),
        (reverse("summaries:weekly"), {"week": payload}),
        (reverse("incidents:list"), {"category": payload, "market": payload, "sort": payload}),
        (reverse("incidents:list"), {"commander": payload, "declared_after": payload}),
    ):
        response = client.get(path, params)
        assert response.status_code in (200, 400), (path, params, response.status_code)
    response = client.get(reverse("vendors:board"), {"vendor": payload})
    assert "Queue A" not in response.content.decode()
