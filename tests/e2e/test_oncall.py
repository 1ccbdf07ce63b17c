"""On-call in a real browser: the schedule page, and an override added in
place with htmx changes who is on call."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from oncall import services
from tests.e2e.test_incidents import sign_in
from tscc.models import Team
from tscc.roles import Role

pytestmark = pytest.mark.browser


def test_cover_a_shift_and_see_who_is_on_call(asgi_server, page, make_user, shot):
    team = Team.objects.create(name="T&S Ops CN", slug="ts-ops-cn", time_zone="Asia/Shanghai")
    amy = make_user(username="amy", display_name="Amy Lin", role=Role.OPS_MANAGER, language="en")
    li = make_user(username="li", display_name="Li Lei", role=Role.RESPONDER)
    make_user(username="ray", display_name="Ray Chen", role=Role.RESPONDER)
    li.teams.add(team)
    schedule = services.schedule_save(
        actor=amy, name="CN primary", time_zone="Asia/Shanghai", team=team
    )
    anchor = timezone.localtime(timezone.now(), ZoneInfo("Asia/Shanghai")) - timedelta(days=1)
    services.layer_create(
        actor=amy,
        schedule=schedule,
        name="Weekly",
        users=[li],
        unit="weeks",
        count=1,
        anchor=anchor.replace(minute=0, second=0, microsecond=0),
    )

    sign_in(page, asgi_server, "amy")
    page.get_by_role("link", name="On-call").click()
    expect(page.locator("tr[data-schedule]")).to_contain_text("Li Lei")
    page.get_by_role("link", name="CN primary").click()
    expect(page.locator(".nowcard")).to_contain_text("Li Lei")

    now = timezone.localtime(timezone.now(), ZoneInfo("Asia/Shanghai"))
    page.locator("#overrides summary").click()
    page.locator("#overrides select[name=user]").select_option(label="Ray Chen (ray)")
    page.locator("#overrides input[name=starts_at]").fill(
        (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    )
    page.locator("#overrides input[name=ends_at]").fill(
        (now + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M")
    )
    page.locator("#overrides").get_by_role("button", name="Add override").click()
    expect(page.locator(".nowcard")).to_contain_text("Ray Chen")
    expect(page.locator("#overrides .facts")).to_contain_text("Ray Chen")
    expect(page.locator(".tl-final .tl-seg.is-override")).to_have_count(1)
    shot(page, "oncall-schedule-en")
