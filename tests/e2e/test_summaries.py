"""An executive reads the summaries in a real browser: the open incidents
now, one incident's summary, in English then Chinese."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from incidents.domain.severity import Severity
from incidents.models import RegulatoryReport
from incidents.services import status_update_publish
from tests.conftest import PASSWORD
from tests.incidents.factories import declare
from tscc.roles import Role

pytestmark = pytest.mark.browser


def sign_in(page, base, username):
    page.goto(f"{base}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#live-status")).to_have_attribute("data-state", "open")


def test_executive_reads_now_and_an_incident_summary(asgi_server, page, make_user, shot):
    manager = make_user(username="amy", display_name="Amy Lin", role=Role.OPS_MANAGER)
    commander = make_user(username="wang", display_name="Wang Min", role=Role.RESPONDER)
    make_user(username="erin", display_name="Erin Exec", role=Role.EXECUTIVE, language="en")
    incident = declare(
        manager,
        title="Scam links flooding comments",
        title_zh="评论区诈骗链接泛滥",
        severity=Severity.SEV1,
        severity_reason="press is asking",
        commander=commander,
    )
    status_update_publish(
        actor=manager,
        incident_id=incident.id,
        audience="executives",
        text_en="Links removed; watching reposts.",
        text_zh="链接已删除，正在监控转发。",
    )
    RegulatoryReport.objects.create(
        incident=incident,
        kind=RegulatoryReport.Kind.INITIAL,
        authority="CAC",
        due_at=timezone.now() + timedelta(hours=1),
    )

    sign_in(page, asgi_server, "erin")
    page.get_by_role("link", name="Summaries").click()
    card = page.locator(f'article[data-incident="{incident.id}"]')
    expect(card).to_contain_text("Scam links flooding comments")
    expect(card.locator(".sum-para")).to_contain_text("Commander: Wang Min.")
    expect(card.locator(".sum-para")).to_contain_text("1 regulatory report owed")
    expect(page.locator("#summary-board")).to_have_attribute("hx-trigger", "every 60s")
    shot(page, "summaries-now-en")

    card.get_by_role("link", name="Scam links flooding comments").click()
    expect(page).to_have_url(re.compile(rf"/summary/incidents/{incident.id}/$"))
    expect(page.locator("h1")).to_contain_text(incident.reference)
    expect(page.locator("#decisions")).to_be_visible()
    expect(page.locator("#copy-link")).to_have_attribute(
        "data-url", re.compile(rf"/summary/incidents/{incident.id}/$")
    )
    expect(page.get_by_role("link", name="Download PDF")).to_have_attribute(
        "href", f"/summary/incidents/{incident.id}/pdf/?lang=en"
    )

    page.locator('.sum-tools a[data-lang="zh-hans"]').click()
    expect(page).to_have_url(re.compile(r"\?lang=zh-hans$"))
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.locator("h1")).to_contain_text("评论区诈骗链接泛滥")
    expect(page.locator("#being-done")).to_contain_text("链接已删除，正在监控转发。")
    shot(page, "summaries-incident-zh")

    page.locator('.sum-tools a[data-lang="en"]').click()
    expect(page.locator("h1")).to_contain_text("Scam links flooding comments")


def test_executive_narrows_the_trends_and_reads_a_definition(asgi_server, page, make_user, shot):
    manager = make_user(username="amy", display_name="Amy Lin", role=Role.OPS_MANAGER)
    make_user(username="erin", display_name="Erin Exec", role=Role.EXECUTIVE, language="en")
    now = timezone.now()
    declare(
        manager,
        title="Scam links flooding comments",
        severity=Severity.SEV1,
        severity_reason="press is asking",
        discovered_at=now - timedelta(minutes=5),
        harm_started_at=now - timedelta(minutes=35),
    )
    declare(manager, title="Spam wave in search", severity=Severity.SEV2)

    sign_in(page, asgi_server, "erin")
    page.goto(f"{asgi_server}/summary/trends/")
    tile = page.locator('article[data-metric="incidents"] .tile-value')
    expect(tile).to_have_text("2")
    expect(page.locator('article[data-metric="mttd"] .tile-value')).to_have_text("30 min")
    expect(page.locator("#chart-incidents svg.chart")).to_be_visible()
    expect(page.locator("#chart-categories")).to_contain_text("Spam")

    # A filter redraws the results in place and keeps the choice in the address.
    page.locator('#trends-filters input[name="severity"][value="sev1"]').check()
    expect(tile).to_have_text("1")
    expect(page).to_have_url(re.compile(r"severity=sev1"))
    mttd = page.locator('article[data-metric="mttd"] details.tile-def')
    mttd.locator("summary").click()
    expect(mttd.locator("p")).to_contain_text("harm")
    shot(page, "summaries-trends-en")

    # Nothing to change here: no form posts, no action buttons.
    expect(page.locator('main form[method="post"]')).to_have_count(0)
