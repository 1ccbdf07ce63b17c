"""The vendor portal: the snapshot form (valid figures reach the board;
invalid ones come back with field errors and every value kept), bulk upload
of CSV and XLSX (all or nothing, with a per-row report), site status with
a reason, the limited incident list and the template downloads."""

from __future__ import annotations

import io
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from incidents.models import StatusUpdate
from tests.incidents.factories import declare
from tests.vendors.views.conftest import HTMX
from vendors import services
from vendors.models import QueueSnapshot, SiteStatusChange

pytestmark = pytest.mark.django_db


def form_data(queue, **figures) -> dict:
    return {f"q{queue.id}-{name}": value for name, value in figures.items()}


def manila_wall(moment) -> str:
    return moment.astimezone(ZoneInfo("Asia/Manila")).strftime("%Y-%m-%dT%H:%M")


def test_the_form_is_prefilled_with_the_last_figures_and_this_hour(client, cast, healthy):
    services.snapshot_post(
        actor=cast.lead,
        queue_id=cast.queue.id,
        fields=healthy(taken_at=timezone.now() - timedelta(minutes=20), backlog=77),
    )
    client.force_login(cast.lead)
    page = client.get(reverse("vendors:portal")).content.decode()
    top = timezone.now().replace(minute=0, second=0, microsecond=0)
    assert f'name="q{cast.queue.id}-taken_at" value="{manila_wall(top)}"' in page
    assert f'name="q{cast.queue.id}-backlog" value="77"' in page
    assert f'name="q{cast.queue.id}-sla_attainment" value="98.5"' in page
    assert "(Asia/Manila)" in page


def test_valid_figures_are_saved_and_the_board_shows_them(client, cast, breached):
    client.force_login(cast.lead)
    now = timezone.now()
    figures = breached(taken_at=manila_wall(now))
    response = client.post(
        reverse("vendors:snapshot", args=[cast.queue.id]), form_data(cast.queue, **figures), **HTMX
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert page.startswith(f'<article id="pq-{cast.queue.id}"')
    assert "Figures saved." in page and 'data-level="breach"' in page
    snapshot = QueueSnapshot.objects.get(queue=cast.queue)
    assert snapshot.taken_at == now.replace(second=0, microsecond=0)  # Manila wall time read
    assert snapshot.backlog == 400 and snapshot.reported_by == cast.lead
    assert snapshot.source == "portal" and snapshot.planned_headcount == 20
    client.force_login(cast.manager)
    board = client.get(reverse("vendors:board")).content.decode()
    assert 'data-queue="en-video" data-level="breach"' in board and "81.0%" in board


def test_invalid_figures_come_back_with_errors_and_values_kept(client, cast, healthy):
    client.force_login(cast.lead)
    figures = healthy(taken_at=manila_wall(timezone.now()), sla_attainment="140", backlog="-3")
    figures["staffed_headcount"] = ""
    response = client.post(
        reverse("vendors:snapshot", args=[cast.queue.id]), form_data(cast.queue, **figures), **HTMX
    )
    page = response.content.decode()
    assert response.status_code == 422
    assert "Check the figures." in page
    assert "A percentage from 0 to 100." in page and "Cannot be negative." in page
    assert "Required." in page
    assert f'name="q{cast.queue.id}-sla_attainment" value="140"' in page
    assert f'name="q{cast.queue.id}-backlog" value="-3"' in page
    assert f'name="q{cast.queue.id}-inflow_per_hour" value="300"' in page
    assert not QueueSnapshot.objects.exists()
    # A second post for the same minute is refused in place (409).
    good = form_data(cast.queue, **healthy(taken_at=manila_wall(timezone.now())))
    url = reverse("vendors:snapshot", args=[cast.queue.id])
    assert client.post(url, good, **HTMX).status_code == 200
    again = client.post(url, good, **HTMX)
    assert again.status_code == 409 and "Already posted for this time." in again.content.decode()
    # Without htmx: back to the portal with a message.
    plain = client.post(url, good)
    assert plain.status_code == 303 and plain["Location"] == reverse("vendors:portal")


# --- upload ------------------------------------------------------------------


HEADER = (
    "queue,taken_at,backlog,inflow_per_hour,outflow_per_hour,oldest_item_minutes,"
    "sla_attainment,staffed_headcount"
)


def upload(client, name: str, data: bytes, **extra):
    return client.post(
        reverse("vendors:upload"), {"file": SimpleUploadedFile(name, data), **extra}, **HTMX
    )


def test_csv_upload_is_all_or_nothing_with_a_row_report(client, cast):
    top = timezone.now().replace(minute=0, second=0, microsecond=0)
    lines = [
        f"en-video,{(top - timedelta(hours=h)).isoformat()},40,300,310,10,98.2,20" for h in range(3)
    ]
    lines[1] = f"en-video,{(top - timedelta(hours=1)).isoformat()},40,300,310,10,140,20"
    lines.append(f"nope,{top.isoformat()},40,300,310,10,98,20")
    client.force_login(cast.lead)
    response = upload(client, "f.csv", ("\n".join([HEADER, *lines]) + "\n").encode())
    page = response.content.decode()
    assert response.status_code == 422
    assert "Nothing was imported: 2 problems in a file of 4 rows." in page
    assert 'data-row="2"' in page and "sla_attainment" in page
    assert 'data-row="4"' in page and "No such queue." in page
    assert not QueueSnapshot.objects.exists()
    # Fixed: every row goes in.
    del lines[3]
    lines[1] = f"en-video,{(top - timedelta(hours=1)).isoformat()},40,300,310,10,97,20"
    response = upload(client, "f.csv", ("\n".join([HEADER, *lines]) + "\n").encode())
    assert response.status_code == 200 and "3 rows imported." in response.content.decode()
    assert QueueSnapshot.objects.filter(queue=cast.queue, source="upload").count() == 3


def test_xlsx_upload_with_date_cells(client, cast):
    top = timezone.now().replace(minute=0, second=0, microsecond=0)
    workbook = Workbook()
    sheet = workbook.active
    sheet.append([*HEADER.split(","), "time_zone"])
    for h in range(2):
        wall = (top - timedelta(hours=h)).astimezone(ZoneInfo("Asia/Manila"))
        sheet.append(
            ["en-video", wall.replace(tzinfo=None), 40, 300, 310, 10, 98.2, 20, "Asia/Manila"]
        )
    sheet.append(["en-video", "yesterday", 40, 300, 310, 10, 98.2, 20, "Asia/Manila"])
    out = io.BytesIO()
    workbook.save(out)
    client.force_login(cast.lead)
    bad = upload(client, "f.xlsx", out.getvalue())
    assert bad.status_code == 422 and 'data-row="3"' in bad.content.decode()
    assert not QueueSnapshot.objects.exists()
    sheet.delete_rows(4)
    out = io.BytesIO()
    workbook.save(out)
    good = upload(client, "f.xlsx", out.getvalue())
    assert good.status_code == 200 and "2 rows imported." in good.content.decode()
    assert set(QueueSnapshot.objects.values_list("taken_at", flat=True)) == {
        top,
        top - timedelta(hours=1),
    }


def test_unreadable_files_and_other_vendors_queues(client, cast):
    client.force_login(cast.lead)
    response = upload(client, "f.xls", b"whatever")
    assert response.status_code == 422 and ".xlsx" in response.content.decode()
    response = upload(client, "f.xlsx", b"PK\x03\x04broken")
    assert response.status_code == 422 and "Excel" in response.content.decode()
    # Vendor B's queue is "no such queue" to vendor A's lead.
    top = timezone.now().replace(minute=0, second=0, microsecond=0).isoformat()
    text = f"queue_id,{HEADER.split(',', 1)[1]}\n{cast.other_queue.id},{top},1,1,1,1,99,1\n"
    response = upload(client, "f.csv", text.encode())
    assert response.status_code == 422 and "No such queue." in response.content.decode()
    assert not QueueSnapshot.objects.exists()


def test_a_manager_uploads_for_the_vendor_they_view(client, cast):
    """Both vendors have a queue "en-video": the portal's vendor fills the
    missing vendor column."""
    top = timezone.now().replace(minute=0, second=0, microsecond=0).isoformat()
    data = f"{HEADER}\nen-video,{top},1,1,1,1,99,1\n".encode()
    client.force_login(cast.manager)
    ambiguous = upload(client, "f.csv", data)
    assert ambiguous.status_code == 422 and "add the vendor column" in ambiguous.content.decode()
    response = upload(client, "f.csv", data, vendor=cast.other_vendor.id)
    assert response.status_code == 200
    assert QueueSnapshot.objects.get().queue == cast.other_queue


def test_templates_list_the_leads_queues(client, cast):
    client.force_login(cast.lead)
    csv_text = client.get(reverse("vendors:template", args=["csv"])).content.decode("utf-8-sig")
    assert csv_text.splitlines()[1].startswith("en-video,luzon,")
    response = client.get(reverse("vendors:template", args=["xlsx"]))
    assert response["Content-Disposition"].endswith('.xlsx"')
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    assert [c.value for c in sheet[2]][:2] == ["en-video", "luzon"]


# --- site status -------------------------------------------------------------


def test_site_status_needs_a_reason_and_keeps_history(client, cast):
    client.force_login(cast.lead)
    url = reverse("vendors:site-status", args=[cast.site.id])
    prefix = f"s{cast.site.id}"
    missing = client.post(url, {f"{prefix}-status": "down", f"{prefix}-reason": ""}, **HTMX)
    page = missing.content.decode()
    assert missing.status_code == 422
    assert "A reason is required unless the site is operational." in page
    assert '<option value="down" selected>' in page
    assert not SiteStatusChange.objects.exists()
    done = client.post(
        url, {f"{prefix}-status": "down", f"{prefix}-reason": "Fire alarm, floor evacuated"}, **HTMX
    )
    page = done.content.decode()
    assert done.status_code == 200 and page.startswith(f'<div id="ps-{cast.site.id}"')
    assert "Site status changed." in page and "Fire alarm, floor evacuated" in page
    assert "Operational → <strong>Down</strong>" in page
    cast.site.refresh_from_db()
    assert cast.site.status == "down"
    change = SiteStatusChange.objects.get()
    assert change.changed_by == cast.lead and change.source == "portal"


# --- incidents ---------------------------------------------------------------


def test_linked_incidents_in_a_limited_view(client, cast):
    incident = declare(cast.manager, title="Queue outage", title_zh="队列中断")
    services.impact_link(actor=cast.manager, incident_id=incident.id, vendor_id=cast.vendor.id)
    StatusUpdate.objects.create(
        incident=incident,
        audience="company",
        text_en="Vendor queues recovering.",
        text_zh="供应商队列正在恢复。",
        severity=incident.severity,
        state=incident.state,
    )
    StatusUpdate.objects.create(
        incident=incident,
        audience="responders",
        text_en="Internal: suspect a bad deploy.",
        severity=incident.severity,
        state=incident.state,
        published_at=timezone.now() + timedelta(seconds=1),
    )
    client.force_login(cast.lead)
    page = client.get(reverse("vendors:portal")).content.decode()
    assert incident.reference in page and "Queue outage" in page
    assert "Vendor queues recovering." in page
    assert "suspect a bad deploy" not in page
    assert reverse("incidents:detail", args=[incident.id]) not in page  # no way in
    cast.lead.language = "zh-hans"
    cast.lead.save()
    page = client.get(reverse("vendors:portal")).content.decode()
    assert "队列中断" in page and "供应商队列正在恢复。" in page
    client.force_login(cast.other_lead)
    assert incident.reference not in client.get(reverse("vendors:portal")).content.decode()
