"""The war room over a connection that dies without closing (a half-open
socket): the page notices the silence, reconnects by itself and shows what
was said meanwhile, once."""

import pytest
from playwright.sync_api import expect

from tests.e2e.freezable_proxy import FreezableProxy
from tests.e2e.test_incidents import sign_in
from tests.e2e.test_warroom import open_room
from tests.incidents.factories import declare
from tscc.roles import Role

pytestmark = pytest.mark.browser


@pytest.fixture
def proxy(asgi_server):
    proxy = FreezableProxy(int(asgi_server.rsplit(":", 1)[1]))
    yield f"http://localhost:{proxy.port}", proxy
    proxy.close()


@pytest.fixture
def watched_page(browser):
    context = browser.new_context(viewport={"width": 1360, "height": 820}, locale="en-US")
    # Ping every second, a socket silent for 3 s is dead (25 s and 60 s in use).
    context.add_init_script("window.TSCC_ROOM_TIMINGS = {ping: 1000, stale: 3000};")
    page = context.new_page()
    yield page
    context.close()


def test_a_silent_socket_is_replaced_and_nothing_is_missed(
    asgi_server, proxy, page, watched_page, make_user
):
    via_proxy, tcp = proxy
    amy = make_user(username="amy", display_name="Amy Lin", role=Role.OPS_MANAGER)
    make_user(username="li", display_name="Li Wei", role=Role.RESPONDER, language="en")
    incident = declare(amy, title="Spam wave", commander=amy)
    sign_in(page, asgi_server, "amy")
    sign_in(watched_page, via_proxy, "li")
    open_room(page, asgi_server, incident)
    open_room(watched_page, via_proxy, incident)
    room = watched_page.locator("#room")

    assert tcp.freeze_open_connections() >= 1  # Li's sockets go silent, still "open"
    text = page.locator("#room-composer textarea")
    text.fill("Said while Li's line was dead")
    text.press("Enter")
    expect(text).to_have_value("")

    expect(room).to_have_attribute("data-reconnects", "1", timeout=15000)
    expect(room).to_have_attribute("data-state", "open")
    said = watched_page.locator(".room-message", has_text="Said while Li's line was dead")
    expect(said).to_have_count(1)
    # Once replaced, the new socket stays: no second reconnect.
    watched_page.wait_for_timeout(4000)
    expect(room).to_have_attribute("data-reconnects", "1")
