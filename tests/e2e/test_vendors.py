"""Vendors in a real browser: a BPO lead (in Chinese) posts figures that
breach the SLA and uploads a CSV with one bad row (nothing imported, the row
report shown); the ops manager then sees the breach and the automatic
trouble incident on the board, and the vendor's history page."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from incidents.models import Incident
from tests.e2e.test_incidents import sign_in
from tests.factories import TeamFactory
from tscc.roles import Role
from vendors import services
from vendors.models import Queue, QueueSnapshot

pytestmark = pytest.mark.browser

HOURS = 7 * 24 - 2


def history(queue: Queue, end, *, wave: float, qa: float) -> list[dict]:
    """A week of hourly figures for `queue`, the newest at `end`."""
    rows = []
    for h in range(HOURS):
        phase = (h % 24) / 24
        rows.append(
            {
                "queue_id": queue.id,
                "taken_at": (end - timedelta(hours=h)).isoformat(),
                "backlog": str(int(60 + 40 * wave * abs(phase - 0.5) * 2)),
                "inflow_per_hour": "360",
                "outflow_per_hour": "400",
                "oldest_item_minutes": "12",
                "sla_attainment": f"{97.5 - wave * (h % 24 == 19) * 3 + (h % 5) * 0.3:.1f}",
                "staffed_headcount": "20",
                "qa_accuracy": f"{qa + (h // 24) * 0.2:.1f}",
            }
        )
    return rows


@pytest.fixture
def vendors_world(make_user):
    team = TeamFactory(slug="ts-ops-intl", name="T&S Ops Intl")
    amy = make_user(
        username="amy",
        display_name="Amy Lin",
        role=Role.OPS_MANAGER,
        language="en",
        time_zone="Asia/Shanghai",
    )
    lead = make_user(
        username="mei",
        display_name="Mei Santos",
        role=Role.BPO_LEAD,
        language="zh-hans",
        time_zone="Asia/Manila",
    )
    luzon = services.vendor_create(
        actor=amy,
        code="luzon",
        name="Luzon BPO",
        name_zh="吕宋外包",
        team=team,
        owner=amy,
        markets=["sea", "us"],
        languages=["en", "tl"],
        contract_ref="MSA-2025-014",
    )
    straits = services.vendor_create(
        actor=amy, code="straits", name="Straits T&S", team=team, owner=amy, markets=["my"]
    )
    manila = services.site_create(
        actor=amy,
        vendor_id=luzon.id,
        name="Manila",
        name_zh="马尼拉",
        city="Manila",
        country="PH",
        time_zone="Asia/Manila",
        seats=300,
    )
    cebu = services.site_create(
        actor=amy,
        vendor_id=luzon.id,
        name="Cebu",
        name_zh="宿务",
        city="Cebu",
        country="PH",
        time_zone="Asia/Manila",
        seats=120,
    )
    kl = services.site_create(
        actor=amy,
        vendor_id=straits.id,
        name="KL",
        city="Kuala Lumpur",
        country="MY",
        time_zone="Asia/Kuala_Lumpur",
    )
    specs = [
        (luzon, manila, "en-video", "English video", "英语视频", "sea", "en", 20),
        (luzon, manila, "en-comments", "English comments", "英语评论", "us", "en", 12),
        (luzon, cebu, "tl-live", "Tagalog live", "他加禄语直播", "sea", "tl", 8),
        (straits, kl, "ms-video", "Malay video", "", "my", "ms", 10),
    ]
    queues = {}
    for vendor, site, code, name, name_zh, market, language, planned in specs:
        queues[code] = services.queue_create(
            actor=amy,
            vendor_id=vendor.id,
            site=site,
            code=code,
            name=name,
            name_zh=name_zh,
            market=market,
            language=language,
            sla_percent=95,
            sla_minutes=30,
            planned_headcount=planned,
        )
    Queue.objects.update(created_at=timezone.now() - timedelta(days=30))
    services.membership_set(actor=amy, vendor_id=luzon.id, user_id=lead.id)
    now = timezone.now().replace(second=0, microsecond=0)
    end = now - timedelta(minutes=7)
    if end.minute == 0:
        end -= timedelta(minutes=1)
    rows = []
    for i, queue in enumerate(queues.values()):
        rows += history(queue, end, wave=1 + i * 0.5, qa=95.5 - i)
    result = services.snapshots_import(actor=amy, rows=rows)
    assert result.ok, result.errors[:3]
    services.site_status_change(
        actor=amy,
        site_id=cebu.id,
        status="degraded",
        reason="Typhoon signal no. 2: half the floor working from home.",
    )
    return {"amy": amy, "lead": lead, "luzon": luzon, "queues": queues}


def test_lead_reports_a_breach_and_the_ops_manager_sees_it(
    asgi_server, vendors_world, browser, page, shot
):
    queue = vendors_world["queues"]["en-video"]
    luzon = vendors_world["luzon"]
    before = QueueSnapshot.objects.count()

    # The BPO lead, in Chinese, opens the portal from the menu.
    sign_in(page, asgi_server, "mei")
    page.locator("[data-nav=portal]").click()
    card = page.locator(f"#pq-{queue.id}")
    expect(card).to_be_visible()
    # Prefilled with the last figures; the time defaults to this hour in Manila.
    expect(card.locator(f"#id_q{queue.id}-backlog")).not_to_have_value("")
    # Figures for this minute (the history's latest is a few minutes old).
    manila_now = timezone.localtime(timezone.now(), ZoneInfo("Asia/Manila"))
    card.locator(f"#id_q{queue.id}-taken_at").fill(manila_now.strftime("%Y-%m-%dT%H:%M"))
    card.locator(f"#id_q{queue.id}-backlog").fill("900")
    card.locator(f"#id_q{queue.id}-sla_attainment").fill("88.5")
    card.locator(f"#id_q{queue.id}-oldest_item_minutes").fill("41")
    card.locator(f"#id_q{queue.id}-staffed_headcount").fill("14")
    card.locator("button[type=submit]").click()
    card = page.locator(f"#pq-{queue.id}")
    expect(card).to_have_attribute("data-level", "breach")
    expect(card.locator(".notice-ok")).to_be_visible()
    assert QueueSnapshot.objects.count() == before + 1

    # The breach opened one trouble incident, which the lead now sees (limited).
    incident = Incident.objects.get(category__code="vendor_outage")
    page.reload()
    expect(page.locator("#vendor-incidents")).to_contain_text(incident.reference)

    # A CSV with one bad row: nothing imported, the row report says why.
    top = timezone.now().replace(minute=0, second=0, microsecond=0)
    csv_text = (
        "queue,vendor,taken_at,backlog,inflow_per_hour,outflow_per_hour,"
        "oldest_item_minutes,sla_attainment,staffed_headcount\n"
        f"en-comments,luzon,{top.isoformat()},80,200,210,9,98.1,12\n"
        f"tl-live,luzon,{top.isoformat()},60,150,150,8,140,8\n"
    )
    page.set_input_files(
        "#id_file",
        files=[{"name": "figures.csv", "mimeType": "text/csv", "buffer": csv_text.encode()}],
    )
    page.locator("#upload button[type=submit]").click()
    report = page.locator("#upload .upload-report")
    expect(report).to_be_visible()
    expect(report.locator("tr[data-row='2']")).to_contain_text("sla_attainment")
    expect(report.locator("tbody tr")).to_have_count(1)
    assert QueueSnapshot.objects.count() == before + 1  # nothing half-imported
    page.locator(f"#pq-{queue.id}").scroll_into_view_if_needed()
    shot(page, "vendors-portal-zh")

    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="en-US")
    ops = context.new_page()
    sign_in(ops, asgi_server, "amy")
    ops.locator("[data-nav=vendors]").click()
    vendor_card = ops.locator("[data-vendor=luzon]")
    row = vendor_card.locator("tr[data-queue='en-video']")
    expect(row).to_have_attribute("data-level", "breach")
    expect(row).to_contain_text("SLA attainment below target")
    expect(row).to_contain_text("88.5%")
    expect(row.locator(".breach")).to_have_text("breached")
    expect(vendor_card.locator(".vcard-incidents")).to_contain_text(incident.reference)
    expect(vendor_card.locator(".site-pill", has_text="Cebu")).to_contain_text("Degraded")
    expect(ops.locator(".vboard-summary")).to_contain_text("1 Breached")
    shot(ops, "vendors-board-en")

    # New figures reach an open board without a reload (it polls; returning
    # to the tab polls at once).
    services.snapshot_post(
        actor=vendors_world["amy"],
        queue_id=vendors_world["queues"]["tl-live"].id,
        fields={
            "taken_at": timezone.now().replace(second=0, microsecond=0),
            "backlog": 70,
            "inflow_per_hour": 200,
            "outflow_per_hour": 260,
            "oldest_item_minutes": 9,
            "sla_attainment": 96.0,
            "staffed_headcount": 8,
        },
    )
    ops.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    expect(vendor_card.locator("tr[data-queue='tl-live']")).to_have_attribute("data-level", "warn")

    # Filters narrow the board in place.
    ops.locator("#vendor-filters select[name=level]").select_option("breach")
    expect(ops.locator("#vendor-board tr[data-queue]")).to_have_count(1)

    ops.goto(f"{asgi_server}/vendors/{luzon.id}/")
    expect(ops.locator("#queues tr[data-queue='en-video']")).to_have_attribute(
        "data-level", "breach"
    )
    expect(ops.locator("#incidents")).to_contain_text(incident.reference)
    expect(ops.locator("#vendor-history .qchart")).to_have_count(3)
    ops.locator("#vendor-history .seg-switch a", has_text="30 days").click()
    expect(ops.locator("#vendor-history .seg-switch .is-current")).to_have_text("30 days")
    ops.locator("#tokens input[name=name]").fill("Luzon WFM exporter")
    ops.locator("#tokens button[type=submit]", has_text="Create token").click()
    expect(ops.locator("#tokens [data-secret]")).to_contain_text("vnd_")
    ops.evaluate("window.scrollTo(0, 0)")
    shot(ops, "vendors-detail-en")
    context.close()


def test_the_board_updates_when_figures_arrive(asgi_server, vendors_world, page):
    """Figures posted elsewhere (here: a vendor token's system) show on an
    open board within seconds, not at the next 30 s poll."""
    import threading

    from django.db import connection

    sign_in(page, asgi_server, "amy")
    page.goto(f"{asgi_server}/vendors/")
    expect(page.locator("#vendor-board")).to_contain_text("Tagalog live")
    page.wait_for_timeout(1000)  # the board socket is open
    queue = vendors_world["queues"]["tl-live"]
    token, _secret = services.token_create(
        actor=vendors_world["amy"], vendor_id=vendors_world["luzon"].id, name="WFM"
    )

    def post():  # as the vendor's system would, outside the browser's event loop
        try:
            services.snapshot_post(
                actor=token,
                queue_id=queue.id,
                fields={
                    "taken_at": timezone.now().replace(second=0, microsecond=0),
                    "backlog": 4321,
                    "inflow_per_hour": 900,
                    "outflow_per_hour": 200,
                    "oldest_item_minutes": 55,
                    "sla_attainment": 71.0,
                    "staffed_headcount": 3,
                },
            )
        finally:
            connection.close()

    poster = threading.Thread(target=post)
    poster.start()
    poster.join(30)
    expect(page.locator("#vendor-board")).to_contain_text("4,321", timeout=8000)
