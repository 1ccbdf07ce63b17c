import re

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD
from tscc.roles import Role

pytestmark = pytest.mark.browser


def test_log_in_switch_language_and_see_the_overview(
    asgi_server, page, make_user, shot, celery_worker_process
):
    make_user(username="amy", display_name="Amy Lin", role=Role.OPS_MANAGER, language="en")

    page.goto(f"{asgi_server}/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/$"))
    shot(page, "login-en")
    page.get_by_label("Username").fill("amy")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("heading", name="Good to see you, Amy Lin")).to_be_visible()
    expect(page.locator("#live-status")).to_have_attribute("data-state", "open")  # websocket up
    expect(page.locator("#system-status .pill").first).to_be_visible()  # htmx-loaded card

    page.get_by_role("button", name="中文").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.get_by_role("heading", name="欢迎回来，Amy Lin")).to_be_visible()
    expect(page.locator("nav.nav")).to_contain_text("概览")
    expect(page.locator("#live-status")).to_have_attribute("data-state", "open")
    expect(page.locator("#system-status .pill").first).to_be_visible()
    # Worker running and a socket open in the same server: every check is green.
    expect(page.locator("#system-status .pill-bad")).to_have_count(0)
    shot(page, "home-zh")


def test_form_errors_are_swapped_into_the_page(asgi_server, page, make_user, shot):
    make_user(username="amy", role=Role.RESPONDER, language="en")
    page.goto(f"{asgi_server}/login/")
    page.get_by_label("Username").fill("amy")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{asgi_server}/me/")

    page.get_by_label("Phone").fill("12345")
    page.get_by_role("button", name="Save").click()

    expect(page.locator("#profile-form .error")).to_contain_text("international format")
    expect(page.get_by_label("Phone")).to_have_value("12345")  # nothing typed is lost
    shot(page, "profile-error-en")
