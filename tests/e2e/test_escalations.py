"""Paging configuration in a real browser: a manager builds a two-level
policy with "Add level" (htmx) and saves it; a responder adds an SMS
contact method and notification rules and reads the sequence. And paging
more people from the war room: they show up as paged, not here yet."""

import re

import pytest
from playwright.sync_api import expect

from escalations.models import EscalationPolicy
from tests.e2e.test_incidents import sign_in
from tests.e2e.test_warroom import open_room
from tests.incidents.factories import declare
from tscc.models import Team
from tscc.roles import Role

pytestmark = pytest.mark.browser


def test_build_a_policy_and_set_up_my_notifications(asgi_server, browser, page, make_user, shot):
    team = Team.objects.create(name="T&S Ops CN", slug="ts-ops-cn", time_zone="Asia/Shanghai")
    make_user(username="amy", display_name="Amy Lin", role=Role.OPS_MANAGER, language="en")
    rita = make_user(
        username="rita", display_name="Rita Responder", role=Role.RESPONDER, language="en"
    )
    rita.teams.add(team)

    sign_in(page, asgi_server, "amy")
    page.get_by_role("link", name="Paging").click()
    page.get_by_role("link", name="New policy").click()
    page.get_by_label("Name", exact=True).fill("Night desk")
    first = page.locator(".level-row").nth(0)
    first.locator("input[type=number]").fill("5")
    first.locator("select[name$=-users]").select_option(label="Rita Responder")

    page.get_by_role("button", name="Add level").click()  # a new row, fetched with htmx
    expect(page.locator(".level-row")).to_have_count(2)
    second = page.locator(".level-row").nth(1)
    second.locator("input[type=number]").fill("10")
    second.locator("select[name$=-teams]").select_option(label="T&S Ops CN")
    page.get_by_role("button", name="Add level").click()
    expect(page.locator(".level-row")).to_have_count(3)
    page.locator(".level-row").nth(2).get_by_role("button", name="Remove").click()
    expect(page.locator(".level-row")).to_have_count(2)
    shot(page, "escalations-policy-editor-en")
    page.get_by_role("button", name="Save policy").click()

    expect(page).to_have_url(re.compile(r"/escalations/policies/$"))
    row = page.locator("tr[data-policy]", has_text="Night desk")
    expect(row).to_contain_text("1. Rita Responder · 5 min → 2. Team T&S Ops CN · 10 min")
    policy = EscalationPolicy.objects.get(name="Night desk")
    assert [level.wait_minutes for level in policy.levels.order_by("position")] == [5, 10]
    shot(page, "escalations-policies-en")

    context = browser.new_context(viewport={"width": 1360, "height": 820}, locale="en-US")
    responder = context.new_page()
    sign_in(responder, asgi_server, "rita")
    responder.locator(".usermenu summary").click()
    responder.get_by_role("link", name="My notifications").click()
    methods = responder.locator("#methods")
    methods.get_by_label("Channel").select_option(label="SMS")
    methods.get_by_label("Address").fill("+86 138 0013 8000")
    methods.get_by_role("button", name="Add contact method").click()
    expect(responder.locator("#methods .method")).to_contain_text("+8613800138000")

    high = responder.locator("[data-urgency=high]")
    high.get_by_label("Channel").select_option(label="In-app")
    high.get_by_role("button", name="Add rule").click()
    expect(responder.locator("[data-urgency=high] .rule-list li")).to_have_count(1)
    high = responder.locator("[data-urgency=high]")
    high.get_by_label("Channel").select_option(label="SMS")
    high.get_by_label("After (minutes)").fill("2")
    high.get_by_role("button", name="Add rule").click()
    expect(responder.locator("[data-seq=high]")).to_have_text("In-app at once → SMS after 2 min")
    shot(responder, "escalations-my-notifications-en")
    context.close()


def test_page_more_people_from_the_war_room(asgi_server, page, make_user, shot):
    amy = make_user(username="amy", display_name="Amy Lin", role=Role.OPS_MANAGER, language="en")
    make_user(username="sam", display_name="Sam Specialist", role=Role.RESPONDER, language="en")
    incident = declare(amy, title="Payment scam wave", commander=amy)
    sign_in(page, asgi_server, "amy")
    open_room(page, asgi_server, incident)

    paging = page.locator("#room-paging")
    paging.get_by_text("Page more people").click()
    paging.get_by_label("People").select_option(label="Sam Specialist")
    paging.get_by_label("Message").fill("Need payments eyes on this")
    paging.get_by_role("button", name="Page now").click()
    expect(paging.locator(".paged-result")).to_contain_text("Paged Sam Specialist.")
    expect(paging).to_contain_text("Paged by Amy Lin")
    # The page event reaches the room: Sam is listed as paged, not here yet.
    expect(page.locator("#room-presence .room-paged")).to_contain_text("Sam Specialist")
    expect(page.locator("#room-timeline")).to_contain_text("Need payments eyes on this")
    shot(page, "escalations-page-more-people-en")
