"""The main incident journey in a real browser: declare, change severity,
post a bilingual update, resolve. Every action goes through htmx."""

import re

import pytest
from playwright.sync_api import expect

from incidents.models import Incident
from tests.conftest import PASSWORD
from tscc.roles import Role

pytestmark = pytest.mark.browser


def sign_in(page, base, username):
    page.goto(f"{base}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#live-status")).to_have_attribute("data-state", "open")


def test_declare_classify_update_and_resolve(asgi_server, page, make_user, shot):
    make_user(username="amy", display_name="Amy Lin", role=Role.OPS_MANAGER, language="en")
    make_user(username="ray", display_name="Ray Chen", role=Role.RESPONDER, language="en")
    sign_in(page, asgi_server, "amy")

    page.get_by_role("link", name="Incidents").click()
    page.get_by_role("link", name="Declare incident").click()
    page.get_by_label("What is happening?").fill("Scam links flooding comments")
    page.get_by_label("Category").select_option("spam_flood")
    page.get_by_label("Commander").select_option(label="Ray Chen (Responder)")
    # The proposal follows the answers without a reload.
    page.locator(".rubric-row", has_text="Reach and virality").locator(".rubric-option").nth(
        2
    ).click()
    expect(page.locator("#proposal .sev")).to_have_text("SEV2 · High")
    page.locator(".rubric-row", has_text="Public and press attention").locator(
        ".rubric-option"
    ).nth(3).click()
    expect(page.locator("#proposal .sev")).to_have_text("SEV1 · Urgent")
    shot(page, "incident-declare-en")
    page.get_by_role("button", name="Declare incident").click()

    expect(page).to_have_url(re.compile(r"/incidents/\d+/$"))
    incident = Incident.objects.get(title="Scam links flooding comments")
    expect(page.locator("#header")).to_contain_text(incident.reference)
    expect(page.locator("#header .sev")).to_have_text("SEV1 · Urgent")
    expect(page.locator(".roles-mini")).to_contain_text("Ray Chen")

    # Raise the severity with a reason (an override of the rubric).
    page.locator("#severity summary").click()
    page.locator("#severity select[name=severity]").select_option("sev0")
    page.locator("#severity textarea[name=reason]").fill("Regulator called about it")
    page.locator("#severity").get_by_role("button", name="Set severity").click()
    expect(page.locator("#header .sev")).to_have_text("SEV0 · Critical")
    expect(page.locator("#timeline")).to_contain_text("Severity SEV1 → SEV0")

    # SEV0: an update in one language is refused, both is published.
    page.locator("#updates textarea[name=text_en]").fill("Links removed; monitoring reposts.")
    page.locator("#updates").get_by_role("button", name="Publish update").click()
    expect(page.locator("#updates .form-error")).to_contain_text("needs both English and Chinese")
    expect(page.locator("#updates textarea[name=text_en]")).to_have_value(
        "Links removed; monitoring reposts."
    )
    page.locator("#updates textarea[name=text_zh]").fill("链接已删除，正在监控转发。")
    page.locator("#updates").get_by_role("button", name="Publish update").click()
    expect(page.locator(".updates")).to_contain_text("链接已删除")

    page.get_by_role("button", name="Move to Investigating").click()
    expect(page.locator("#header .state")).to_have_text("Investigating")
    page.get_by_role("button", name="Move to Resolved").click()
    expect(page.locator("#header .state")).to_have_text("Resolved")
    shot(page, "incident-resolved-en")

    incident.refresh_from_db()
    assert incident.state == "resolved" and incident.severity == "sev0"
    kinds = list(incident.timeline.values_list("kind", flat=True))
    assert kinds[0] == "declared" and kinds.count("state_changed") == 2 and "status_update" in kinds


def test_triage_filters_update_in_place_and_in_the_url(asgi_server, page, make_user, shot):
    from tests.incidents.factories import declare

    amy = make_user(
        username="amy", display_name="Amy Lin", role=Role.OPS_MANAGER, language="zh-hans"
    )
    declare(amy, title="Rumour about the typhoon", category_code="rumor")
    declare(amy, title="Vendor site in Manila down", category_code="vendor_outage")
    sign_in(page, asgi_server, "amy")
    page.goto(f"{asgi_server}/incidents/")
    expect(page.locator("#incident-results .row-link")).to_have_count(2)
    page.locator("select[name=category]").select_option("rumor")
    expect(page.locator("#incident-results .row-link")).to_have_count(1)
    expect(page).to_have_url(re.compile(r"category=rumor"))
    expect(page.locator("#incident-results")).to_contain_text("Rumour about the typhoon")
    shot(page, "incident-list-zh")


def test_countdowns_keep_the_viewers_language_as_they_tick(asgi_server, page, make_user):
    from tests.incidents.factories import declare

    amy = make_user(
        username="amy", display_name="Amy Lin", role=Role.OPS_MANAGER, language="zh-hans"
    )
    incident = declare(amy, title="Rumour about the typhoon", category_code="rumor")
    sign_in(page, asgi_server, "amy")
    page.goto(f"{asgi_server}/incidents/{incident.id}/")
    countdown = page.locator("#header .countdown[data-due]").first
    expect(countdown).to_contain_text("后")  # "…后" (in …), rendered by the server
    page.evaluate("window.tsccTick()")
    expect(countdown).to_have_text(re.compile(r"(分钟|小时|天)"))
    expect(countdown).not_to_contain_text("min")
