"""A vendor's sites and queues, set up by ops managers and admins
(vendors.manage): one page with both tables, each row edited in place (htmx
swaps the row for its form and back) and a form to add a site or a queue.
Deactivating is editing `is_active`; nothing is deleted here.

Anyone without vendors.manage gets 404, as for a vendor they cannot see.
Without JavaScript the same URLs answer whole pages."""

from __future__ import annotations

import zoneinfo
from functools import cache

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tscc.exceptions import ApplicationError
from tscc.forms import apply_error
from vendors import selectors, services
from vendors.forms import ZONE_LIST, QueueForm, SiteForm
from vendors.models import Queue, Site, Vendor
from vendors.views import present

NEW_SITE = "new-site"
NEW_QUEUE = "new-queue"


@cache
def _zones() -> list[str]:
    return sorted(zoneinfo.available_timezones())


def _vendor(request: HttpRequest, vendor_id: int) -> Vendor:
    if not request.user.has_perm("vendors.manage"):
        raise Http404
    vendor = selectors.vendor_for(request.user, vendor_id)
    if vendor is None:
        raise Http404
    return vendor


def _site(request: HttpRequest, vendor: Vendor, site_id: int) -> Site:
    site = selectors.site_for(request.user, site_id)
    if site is None or site.vendor_id != vendor.id:
        raise Http404
    return site


def _queue(request: HttpRequest, vendor: Vendor, queue_id: int) -> Queue:
    queue = selectors.queue_for(request.user, queue_id)
    if queue is None or queue.vendor_id != vendor.id:
        raise Http404
    return queue


def days_label(days) -> str:
    days = sorted(set(days or ()))
    if days == list(range(1, 8)):
        return _("Every day")
    return " ".join(str(WEEKDAYS_ABBR[d - 1]) for d in days if 1 <= d <= 7)


def site_row(site: Site, form: SiteForm | None = None, *, saved: bool = False) -> dict:
    status_class = present.SITE_STATUS_CLASS.get(site.status, "none")
    return {"site": site, "status_class": status_class, "form": form, "saved": saved}


def queue_row(queue: Queue, form: QueueForm | None = None, *, saved: bool = False) -> dict:
    return {"queue": queue, "days": days_label(queue.staffed_days), "form": form, "saved": saved}


def _site_edit_form(site: Site, data=None) -> SiteForm:
    return SiteForm(data, initial=SiteForm.initial_for(site), prefix=f"site-{site.id}")


def _queue_edit_form(queue: Queue, sites, data=None) -> QueueForm:
    return QueueForm(
        data, initial=QueueForm.initial_for(queue), sites=sites, prefix=f"queue-{queue.id}"
    )


def _page(
    request: HttpRequest,
    vendor: Vendor,
    *,
    site_forms: dict | None = None,
    queue_forms: dict | None = None,
    new_site: SiteForm | None = None,
    new_queue: QueueForm | None = None,
    status: int = 200,
) -> HttpResponse:
    setup = selectors.vendor_setup(vendor.id)
    site_forms, queue_forms = site_forms or {}, queue_forms or {}
    context = {
        "vendor": vendor,
        "site_rows": [site_row(s, site_forms.get(s.id)) for s in setup.sites],
        "queue_rows": [queue_row(q, queue_forms.get(q.id)) for q in setup.queues],
        "new_site": new_site or SiteForm(prefix=NEW_SITE),
        "new_queue": new_queue or QueueForm(prefix=NEW_QUEUE, sites=setup.sites),
        "zones": _zones(),
        "zone_list": ZONE_LIST,
        "nav_current": "vendors",
    }
    return render(request, "vendors/setup.html", context, status=status)


def _back(vendor: Vendor, anchor: str = "") -> HttpResponseRedirect:
    url = reverse("vendors:setup", args=[vendor.id])
    return HttpResponseRedirect(url + (f"#{anchor}" if anchor else ""), status=303)


@require_GET
@login_required
def vendor_setup(request: HttpRequest, vendor_id: int) -> HttpResponse:
    return _page(request, _vendor(request, vendor_id))


# --- sites --------------------------------------------------------------------


@require_POST
@login_required
def setup_site_create(request: HttpRequest, vendor_id: int) -> HttpResponse:
    vendor = _vendor(request, vendor_id)
    form = SiteForm(request.POST, prefix=NEW_SITE)
    status = 422
    if form.is_valid():
        try:
            site = services.site_create(actor=request.user, vendor_id=vendor.id, **form.values())
        except ApplicationError as exc:
            status = apply_error(form, exc)
        else:
            if not request.htmx:
                return _back(vendor, f"site-{site.id}")
            # The form, empty again; the new row joins the table and the
            # queue form's site list is redone (out of band).
            sites = selectors.vendor_setup_sites(vendor.id)
            context = {
                "vendor": vendor,
                "new_site": SiteForm(prefix=NEW_SITE),
                "added": site,
                "row": site_row(site),
                "queue_sites_oob": QueueForm(prefix=NEW_QUEUE, sites=sites)["site"].as_widget(
                    attrs={"hx-swap-oob": "true"}
                ),
            }
            return render(request, "vendors/setup.html#new-site", context)
    if not request.htmx:
        return _page(request, vendor, new_site=form, status=status)
    context = {"vendor": vendor, "new_site": form}
    return render(request, "vendors/setup.html#new-site", context, status=status)


@require_GET
@login_required
def setup_site(request: HttpRequest, vendor_id: int, site_id: int) -> HttpResponse:
    """The site's row as shown (what Cancel puts back)."""
    vendor = _vendor(request, vendor_id)
    site = _site(request, vendor, site_id)
    if not request.htmx:
        return _back(vendor, f"site-{site.id}")
    return render(
        request, "vendors/_setup_site_row.html", {"vendor": vendor, "row": site_row(site)}
    )


@require_http_methods(["GET", "POST"])
@login_required
def setup_site_edit(request: HttpRequest, vendor_id: int, site_id: int) -> HttpResponse:
    """GET: the site's row as a form. POST: save it; the row comes back as
    shown, or as the form with what was typed and the errors (422)."""
    vendor = _vendor(request, vendor_id)
    site = _site(request, vendor, site_id)
    status = 200
    if request.method == "GET":
        form = _site_edit_form(site)
    else:
        form = _site_edit_form(site, request.POST)
        status = 422
        if form.is_valid():
            try:
                site = services.site_update(actor=request.user, site_id=site.id, **form.values())
            except ApplicationError as exc:
                status = apply_error(form, exc)
            else:
                if not request.htmx:
                    return _back(vendor, f"site-{site.id}")
                context = {"vendor": vendor, "row": site_row(site, saved=True)}
                return render(request, "vendors/_setup_site_row.html", context)
    if not request.htmx:
        return _page(request, vendor, site_forms={site.id: form}, status=status)
    context = {"vendor": vendor, "row": site_row(site, form)}
    return render(request, "vendors/_setup_site_row.html", context, status=status)


# --- queues -------------------------------------------------------------------


@require_POST
@login_required
def setup_queue_create(request: HttpRequest, vendor_id: int) -> HttpResponse:
    vendor = _vendor(request, vendor_id)
    sites = selectors.vendor_setup_sites(vendor.id)
    form = QueueForm(request.POST, prefix=NEW_QUEUE, sites=sites)
    status = 422
    if form.is_valid():
        try:
            queue = services.queue_create(actor=request.user, vendor_id=vendor.id, **form.values())
        except ApplicationError as exc:
            status = apply_error(form, exc)
        else:
            if not request.htmx:
                return _back(vendor, f"queue-{queue.id}")
            context = {
                "vendor": vendor,
                "new_queue": QueueForm(prefix=NEW_QUEUE, sites=sites),
                "added": queue,
                "row": queue_row(queue),
            }
            return render(request, "vendors/setup.html#new-queue", context)
    if not request.htmx:
        return _page(request, vendor, new_queue=form, status=status)
    context = {"vendor": vendor, "new_queue": form}
    return render(request, "vendors/setup.html#new-queue", context, status=status)


@require_GET
@login_required
def setup_queue(request: HttpRequest, vendor_id: int, queue_id: int) -> HttpResponse:
    """The queue's row as shown (what Cancel puts back)."""
    vendor = _vendor(request, vendor_id)
    queue = _queue(request, vendor, queue_id)
    if not request.htmx:
        return _back(vendor, f"queue-{queue.id}")
    context = {"vendor": vendor, "row": queue_row(queue)}
    return render(request, "vendors/_setup_queue_row.html", context)


@require_http_methods(["GET", "POST"])
@login_required
def setup_queue_edit(request: HttpRequest, vendor_id: int, queue_id: int) -> HttpResponse:
    """GET: the queue's row as a form. POST: save it; the row comes back as
    shown, or as the form with what was typed and the errors (422)."""
    vendor = _vendor(request, vendor_id)
    queue = _queue(request, vendor, queue_id)
    sites = selectors.vendor_setup_sites(vendor.id)
    status = 200
    if request.method == "GET":
        form = _queue_edit_form(queue, sites)
    else:
        form = _queue_edit_form(queue, sites, request.POST)
        status = 422
        if form.is_valid():
            try:
                queue = services.queue_update(
                    actor=request.user, queue_id=queue.id, **form.values()
                )
            except ApplicationError as exc:
                status = apply_error(form, exc)
            else:
                if not request.htmx:
                    return _back(vendor, f"queue-{queue.id}")
                context = {"vendor": vendor, "row": queue_row(queue, saved=True)}
                return render(request, "vendors/_setup_queue_row.html", context)
    if not request.htmx:
        return _page(request, vendor, queue_forms={queue.id: form}, status=status)
    context = {"vendor": vendor, "row": queue_row(queue, form)}
    return render(request, "vendors/_setup_queue_row.html", context, status=status)
