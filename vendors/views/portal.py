"""The vendor portal: a BPO lead's queues with their latest figures and a
fast form per queue, bulk upload (CSV or XLSX, all or nothing, with a
per-row report), site status, and the incidents linked to the vendor in a
limited view. Ops managers open any vendor's portal as its leads see it."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from incidents.models.reference import localized
from tscc.exceptions import ApplicationError
from tscc.forms import apply_error
from vendors import selectors, services
from vendors.forms import FIGURE_LABELS, SiteStatusForm, SnapshotForm, UploadForm
from vendors.models import QueueSnapshot, SiteStatusChange
from vendors.selectors import QueueRow, health_of, latest_snapshots, sees_every_vendor
from vendors.views import present
from vendors.views.board import incident_chip, queue_row

MAX_REPORTED_ERRORS = 200


def _hour_in(zone: str, now: datetime) -> str:
    local = now.astimezone(ZoneInfo(zone))
    return local.replace(minute=0, second=0, microsecond=0).strftime("%Y-%m-%dT%H:%M")


def snapshot_form(queue, snapshot: QueueSnapshot | None, now, data=None) -> SnapshotForm:
    """The queue's form: bound to what was posted, or prefilled with the
    latest figures and the current hour in the site's zone."""
    zone = queue.time_zone_name()
    if data is not None:
        return SnapshotForm(data, prefix=f"q{queue.id}", zone=zone)
    initial = {"taken_at": _hour_in(zone, now), "planned_headcount": queue.planned_headcount}
    if snapshot is not None:
        for name in FIGURE_LABELS:
            value = getattr(snapshot, name)
            if value is not None:
                initial[name] = f"{value:.10g}" if isinstance(value, float) else value
    return SnapshotForm(initial=initial, prefix=f"q{queue.id}", zone=zone)


def portal_queue(row: QueueRow, now, *, can_report: bool, form=None, saved=False) -> dict:
    out = queue_row(row, now, spark=False)
    out["form"] = (
        (form if form is not None else snapshot_form(row.queue, row.snapshot, now))
        if can_report
        else None
    )
    out["saved"] = saved
    return out


def portal_site(site, changes, *, can_report: bool, form=None, saved=False) -> dict:
    return {
        "site": site,
        "name": site.display_name,
        "status_class": present.SITE_STATUS_CLASS.get(site.status, "none"),
        "changes": changes,
        "form": (
            form
            if form is not None
            else SiteStatusForm(prefix=f"s{site.id}", initial={"status": site.status})
        )
        if can_report
        else None,
        "saved": saved,
    }


def limited_incidents(incidents) -> list[dict]:
    """What a vendor's lead may read of linked incidents: no timeline, no
    notes; the latest company-wide status update, in their language."""
    incidents = list(incidents[:20])
    updates = selectors.company_updates(i.id for i in incidents)
    rows = []
    for incident in incidents:
        chip = incident_chip(incident)
        update = updates.get(incident.id)
        chip["update"] = localized(update.text_en, update.text_zh) if update else ""
        chip["update_at"] = update.published_at if update else None
        rows.append(chip)
    return rows


def _portal(request, vendor=None) -> HttpResponse:
    user = request.user
    now = timezone.now()
    board = selectors.vendor_board(viewer=user, now=now, series_hours=0)
    if vendor is not None:
        board = [v for v in board if v.vendor.id == vendor.id]
    site_ids = [s.id for v in board for s in v.sites]
    changes = selectors.site_changes(site_ids)
    blocks = []
    for vendor_row in board:
        can_report = user.has_perm("vendors.report", vendor_row.vendor)
        blocks.append(
            {
                "vendor": vendor_row.vendor,
                "name": vendor_row.vendor.display_name,
                "level_class": present.LEVEL_CLASS[vendor_row.health.level],
                "level_label": present.level_label(vendor_row.health.level),
                "reasons": present.reasons_text(vendor_row.health),
                "can_report": can_report,
                "queues": [portal_queue(r, now, can_report=can_report) for r in vendor_row.queues],
                "sites": [
                    portal_site(s, changes.get(s.id, []), can_report=can_report)
                    for s in vendor_row.sites
                ],
            }
        )
    if vendor is not None:
        incidents = selectors.incidents_for_vendor(vendor)
    else:
        incidents = selectors.vendor_incidents_visible_to(user)
    can_upload = any(b["can_report"] for b in blocks)
    return render(
        request,
        "vendors/portal.html",
        {
            "blocks": blocks,
            "as_vendor": vendor,
            "incidents": limited_incidents(incidents),
            "upload_form": UploadForm() if can_upload else None,
            "sees_every_vendor": sees_every_vendor(user),
            "now": now,
            "nav_current": "vendors" if vendor is not None else "portal",
        },
    )


@require_GET
@login_required
def portal(request: HttpRequest) -> HttpResponse:
    """The portal of the vendors the BPO lead belongs to."""
    if sees_every_vendor(request.user):
        return HttpResponseRedirect(reverse("vendors:board"))
    if not request.user.has_perm("tscc.view_vendor_portal"):
        raise PermissionDenied
    return _portal(request)


@require_GET
@login_required
def portal_as_vendor(request: HttpRequest, vendor_id: int) -> HttpResponse:
    """One vendor's portal as its leads see it: its leads and ops managers
    (who report for it), and the people who may read the vendor's pages
    (responders, executives: read-only, no forms)."""
    vendor = selectors.vendor_for(request.user, vendor_id)
    if vendor is None:
        raise Http404
    return _portal(request, vendor)


def _back(request) -> str:
    referer = request.headers.get("referer", "")
    if "/vendors/" in referer and url_has_allowed_host(request, referer):
        return referer
    return reverse("vendors:portal")


def url_has_allowed_host(request, url: str) -> bool:
    from django.utils.http import url_has_allowed_host_and_scheme

    return url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )


# --- the snapshot form -------------------------------------------------------------


def _queue_partial(request, queue, *, form=None, saved=False, error="", status=200):
    now = timezone.now()
    snapshot = latest_snapshots([queue.id]).get(queue.id)
    row = QueueRow(queue, snapshot, health_of(queue, snapshot, now))
    q = portal_queue(row, now, can_report=True, form=form, saved=saved)
    return render(request, "vendors/_portal_queue.html", {"q": q, "error": error}, status=status)


@require_POST
@login_required
def snapshot_create(request: HttpRequest, queue_id: int) -> HttpResponse:
    """Post one queue's figures from the portal: the queue's card comes back
    with its new health, or with the errors and every typed value kept."""
    queue = selectors.queue_for(request.user, queue_id)
    if queue is None:
        raise Http404
    form = snapshot_form(queue, None, timezone.now(), data=request.POST)
    form.is_valid()
    try:
        services.snapshot_post(
            actor=request.user,
            queue_id=queue.id,
            fields=form.figures(),
            source=QueueSnapshot.Source.PORTAL,
        )
    except ApplicationError as exc:
        status = apply_error(form, exc)
        if not request.htmx:
            if status == 403:
                raise PermissionDenied from None
            messages.error(request, str(exc.message))
            return HttpResponseRedirect(_back(request), status=303)
        return _queue_partial(
            request, queue, form=form, error=" ".join(form.non_field_errors()), status=status
        )
    if not request.htmx:
        messages.success(request, _("Figures saved."))
        return HttpResponseRedirect(_back(request), status=303)
    return _queue_partial(request, queue, saved=True)


# --- site status -------------------------------------------------------------------


def _site_partial(request, site, *, form=None, saved=False, error="", status=200):
    changes = selectors.site_changes([site.id]).get(site.id, [])
    s = portal_site(site, changes, can_report=True, form=form, saved=saved)
    return render(request, "vendors/_portal_site.html", {"s": s, "error": error}, status=status)


@require_POST
@login_required
def site_status(request: HttpRequest, site_id: int) -> HttpResponse:
    site = selectors.site_for(request.user, site_id)
    if site is None:
        raise Http404
    form = SiteStatusForm(request.POST, prefix=f"s{site.id}")
    status = 422
    if form.is_valid():
        try:
            services.site_status_change(
                actor=request.user,
                site_id=site.id,
                status=form.cleaned_data["status"],
                reason=form.cleaned_data["reason"],
                source=SiteStatusChange.Source.PORTAL,
            )
        except ApplicationError as exc:
            status = apply_error(form, exc)
        else:
            if not request.htmx:
                messages.success(request, _("Site status changed."))
                return HttpResponseRedirect(_back(request), status=303)
            site = selectors.site_for(request.user, site.id)
            return _site_partial(request, site, saved=True)
    if not request.htmx:
        if status == 403:
            raise PermissionDenied
        messages.error(request, " ".join(e for errs in form.errors.values() for e in errs))
        return HttpResponseRedirect(_back(request), status=303)
    return _site_partial(
        request, site, form=form, error=" ".join(form.non_field_errors()), status=status
    )


# --- bulk upload -------------------------------------------------------------------


def _upload_partial(request, *, form, vendor=None, result=None, rows=None, error="", status=200):
    report = []
    more = 0
    if result is not None and result.errors:
        for e in result.errors[:MAX_REPORTED_ERRORS]:
            row = rows[e.row - 1] if rows and 0 < e.row <= len(rows) else {}
            report.append(
                {
                    "row": e.row or "—",
                    "field": e.field,
                    "message": e.message,
                    "queue": row.get("queue") or row.get("queue_id") or "",
                    "taken_at": row.get("taken_at", ""),
                }
            )
        more = len(result.errors) - len(report)
    return render(
        request,
        "vendors/_upload.html",
        {
            "upload_form": form,
            "result": result,
            "report": report,
            "more": more,
            "rows_read": len(rows or []),
            "error": error,
            "as_vendor": vendor,
        },
        status=status,
    )


@require_POST
@login_required
def upload(request: HttpRequest) -> HttpResponse:
    """Import a CSV or XLSX file of snapshots: everything or nothing."""
    if not services.reportable_vendors(request.user):
        raise PermissionDenied
    form = UploadForm(request.POST, request.FILES)
    vendor = None
    if request.POST.get("vendor", "").isdigit():
        vendor = selectors.vendor_for(request.user, int(request.POST["vendor"]))
    if not form.is_valid():
        return _upload_partial(request, form=form, vendor=vendor, status=422)
    try:
        rows = services.parse_snapshot_file(form.cleaned_data["file"])
        if vendor is not None:
            for row in rows:
                if not row.get("vendor") and not row.get("queue_id"):
                    row["vendor"] = vendor.code
        result = services.snapshots_import(
            actor=request.user, rows=rows, source=QueueSnapshot.Source.UPLOAD
        )
    except ApplicationError as exc:
        status = apply_error(form, exc)
        return _upload_partial(
            request,
            form=form,
            vendor=vendor,
            error=" ".join(form.non_field_errors()),
            status=status,
        )
    if result.ok:
        return _upload_partial(request, form=UploadForm(), vendor=vendor, result=result, rows=rows)
    return _upload_partial(request, form=form, vendor=vendor, result=result, rows=rows, status=422)


def _template_rows(request) -> list[dict]:
    """One line per queue the viewer reports for (of one vendor if asked)."""
    vendors = services.reportable_vendors(request.user)
    wanted = request.GET.get("vendor")
    if wanted:
        vendors = [v for v in vendors if str(v.id) == wanted]
    queues = (
        selectors.queues_visible_to(request.user)
        .filter(vendor__in=vendors, is_active=True)
        .order_by("vendor__code", "code")
    )
    return [
        {"queue": q.code, "vendor": q.vendor.code, "time_zone": q.time_zone_name()} for q in queues
    ]


@require_GET
@login_required
def template_download(request: HttpRequest, kind: str) -> HttpResponse:
    if not services.reportable_vendors(request.user):
        raise PermissionDenied
    rows = _template_rows(request)
    if kind == "xlsx":
        response = HttpResponse(
            services.snapshot_template_xlsx(rows),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    else:
        response = HttpResponse(
            "\ufeff" + services.snapshot_template_csv(rows), content_type="text/csv; charset=utf-8"
        )
    response["Content-Disposition"] = f'attachment; filename="snapshots-template.{kind}"'
    return response


__all__ = [
    "portal",
    "portal_as_vendor",
    "site_status",
    "snapshot_create",
    "template_download",
    "upload",
]
