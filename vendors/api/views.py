"""The vendors API: vendors, sites, queues, snapshots and a vendor's
incidents. See vendors.api.common for who sees what."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError

from tscc.exceptions import InvalidInput
from vendors import selectors, services
from vendors.api.auth import VendorTokenBulkThrottle, vendor_token_of
from vendors.api.common import (
    CONFLICT,
    DETAIL_ERRORS,
    DETAIL_WRITE_ERRORS,
    LIST_ERRORS,
    PAGE_PARAMETERS,
    READ_ERRORS,
    WRITE_ERRORS,
    IncidentPagination,
    Pagination,
    SnapshotPagination,
    VendorBaseApi,
    VendorManageApi,
    body_object,
    ok,
    or_404,
    page_of,
    paginated,
    parse,
    snapshot_posted,
)
from vendors.api.serializers import (
    MAX_BULK_ROWS,
    BulkCreatedOutputSerializer,
    BulkErrorOutputSerializer,
    QueueCreateInputSerializer,
    QueueDetailOutputSerializer,
    QueueFilterSerializer,
    QueueInputSerializer,
    QueueOutputSerializer,
    SiteCreateInputSerializer,
    SiteDetailOutputSerializer,
    SiteFilterSerializer,
    SiteInputSerializer,
    SiteOutputSerializer,
    SiteStatusChangeOutputSerializer,
    SiteStatusInputSerializer,
    SnapshotFilterSerializer,
    SnapshotInputSerializer,
    SnapshotOutputSerializer,
    SnapshotRowInputSerializer,
    VendorDetailOutputSerializer,
    VendorIncidentOutputSerializer,
    VendorInputSerializer,
    VendorOutputSerializer,
)
from vendors.models import QueueSnapshot, SiteStatusChange
from vendors.selectors import queue_healths, vendor_healths

TAGS = ["vendors"]
MAX_BULK_BYTES = 16 * 1024 * 1024
RECENT_CHANGES = 20
# A site's status fields change only through sites/<id>/status/.
SITE_STATUS_FIELDS = ("status", "status_reason", "status_changed_at")


def _id(name: str, description: str) -> OpenApiParameter:
    return OpenApiParameter(name, OpenApiTypes.INT, description=description)


# --- vendors ------------------------------------------------------------------------


def _vendor_detail(actor, vendor_id: int, status_code: int = status.HTTP_200_OK):
    vendor = or_404(selectors.vendor_for(actor, vendor_id), "vendor")
    health = vendor_healths([vendor], timezone.now(), rows=True)
    context = {"health": health, "actor": actor}
    return ok(VendorDetailOutputSerializer(vendor, context=context).data, status_code)


class VendorListApi(VendorManageApi):
    """GET: the vendors the caller may see (ops and executives: all; a BPO
    lead: theirs; a vendor token: its own), by id, each with its health now
    (the worst of its active queues and sites). A fixed number of queries
    whatever the number of vendors. POST (ops managers and admins): create a
    vendor; 201 with its detail."""

    @extend_schema(
        operation_id="v1_vendors_list",
        summary="List vendors",
        tags=TAGS,
        parameters=PAGE_PARAMETERS,
        responses={200: paginated(VendorOutputSerializer), **LIST_ERRORS},
    )
    def get(self, request):
        paginator = Pagination()
        vendors = page_of(paginator, selectors.vendors_visible_to(self.actor()), request, self)
        health = vendor_healths(vendors, timezone.now())
        data = VendorOutputSerializer(vendors, many=True, context={"health": health}).data
        return paginator.get_paginated_response(data)

    @extend_schema(
        operation_id="v1_vendors_create",
        summary="Create a vendor",
        tags=TAGS,
        request=VendorInputSerializer,
        responses={201: VendorDetailOutputSerializer, **WRITE_ERRORS},
    )
    def post(self, request):
        data = parse(VendorInputSerializer, request.data)
        vendor = services.vendor_create(actor=request.user, **data)
        return _vendor_detail(request.user, vendor.id, status.HTTP_201_CREATED)


class VendorDetailApi(VendorManageApi):
    """GET: one vendor with its active sites and queues (each queue's latest
    figures and health) and its own health. PATCH (ops managers and admins):
    change its fields."""

    @extend_schema(
        operation_id="v1_vendors_retrieve",
        summary="Read a vendor",
        tags=TAGS,
        responses={200: VendorDetailOutputSerializer, **DETAIL_ERRORS},
    )
    def get(self, request, vendor_id: int):
        return _vendor_detail(self.actor(), vendor_id)

    @extend_schema(
        operation_id="v1_vendors_partial_update",
        summary="Change a vendor",
        tags=TAGS,
        request=VendorInputSerializer(partial=True),
        responses={200: VendorDetailOutputSerializer, **DETAIL_WRITE_ERRORS},
    )
    def patch(self, request, vendor_id: int):
        data = parse(VendorInputSerializer, request.data, partial=True)
        services.vendor_update(actor=request.user, vendor_id=vendor_id, **data)
        return _vendor_detail(request.user, vendor_id)


class VendorIncidentListApi(VendorBaseApi):
    """The incidents linked to the vendor (automatic trouble or linked by
    hand), newest first, in the limited view a vendor may see: reference,
    title, category, severity, state and times."""

    @extend_schema(
        operation_id="v1_vendors_incidents_list",
        summary="List a vendor's incidents",
        tags=TAGS,
        parameters=PAGE_PARAMETERS,
        responses={200: paginated(VendorIncidentOutputSerializer), **DETAIL_ERRORS},
    )
    def get(self, request, vendor_id: int):
        vendor = or_404(selectors.vendor_for(self.actor(), vendor_id), "vendor")
        paginator = IncidentPagination()
        incidents = page_of(paginator, selectors.incidents_for_vendor(vendor), request, self)
        return paginator.get_paginated_response(
            VendorIncidentOutputSerializer(incidents, many=True).data
        )


# --- sites --------------------------------------------------------------------------


def _site_detail(actor, site_id: int, status_code: int = status.HTTP_200_OK):
    site = or_404(selectors.site_for(actor, site_id), "site")
    site.recent_changes = list(site.status_changes.order_by("-at", "-id")[:RECENT_CHANGES])
    return ok(SiteDetailOutputSerializer(site).data, status_code)


class SiteListApi(VendorManageApi):
    """GET: the sites the caller may see, by id; `vendor` filters. POST (ops
    managers and admins): create a site of the vendor `vendor_id`
    (operational); 201 with its detail."""

    @extend_schema(
        operation_id="v1_vendors_sites_list",
        summary="List sites",
        tags=TAGS,
        parameters=[_id("vendor", "Only this vendor's sites."), *PAGE_PARAMETERS],
        responses={200: paginated(SiteOutputSerializer), **LIST_ERRORS},
    )
    def get(self, request):
        filters = parse(SiteFilterSerializer, request.query_params)
        sites = selectors.sites_visible_to(self.actor())
        if "vendor" in filters:
            sites = sites.filter(vendor_id=filters["vendor"])
        paginator = Pagination()
        page = page_of(paginator, sites, request, self)
        return paginator.get_paginated_response(SiteOutputSerializer(page, many=True).data)

    @extend_schema(
        operation_id="v1_vendors_sites_create",
        summary="Create a site",
        tags=TAGS,
        request=SiteCreateInputSerializer,
        responses={201: SiteDetailOutputSerializer, **DETAIL_WRITE_ERRORS},
    )
    def post(self, request):
        data = parse(SiteCreateInputSerializer, request.data)
        site = services.site_create(actor=request.user, **data)
        return _site_detail(request.user, site.id, status.HTTP_201_CREATED)


class SiteDetailApi(VendorManageApi):
    """GET: one site with its latest status changes (newest first, at most
    20). PATCH (ops managers and admins): change its details; not its status
    (400 on `status`: that is POST sites/<id>/status/, with a reason)."""

    @extend_schema(
        operation_id="v1_vendors_sites_retrieve",
        summary="Read a site",
        tags=TAGS,
        responses={200: SiteDetailOutputSerializer, **DETAIL_ERRORS},
    )
    def get(self, request, site_id: int):
        return _site_detail(self.actor(), site_id)

    @extend_schema(
        operation_id="v1_vendors_sites_partial_update",
        summary="Change a site's details",
        description="Not its status: `status` is refused (400); "
        "use POST sites/{site_id}/status/, which takes a reason and keeps the history.",
        tags=TAGS,
        request=SiteInputSerializer(partial=True),
        responses={200: SiteDetailOutputSerializer, **DETAIL_WRITE_ERRORS},
    )
    def patch(self, request, site_id: int):
        body = request.data
        if isinstance(body, dict) and any(name in body for name in SITE_STATUS_FIELDS):
            url = reverse("api-vendor-site-status", kwargs={"site_id": site_id})
            message = _("A site's status changes through POST %(url)s, with a reason.") % {
                "url": url
            }
            raise InvalidInput(
                _("Check the site."),
                fields={name: message for name in SITE_STATUS_FIELDS if name in body},
            )
        data = parse(SiteInputSerializer, body, partial=True)
        services.site_update(actor=request.user, site_id=site_id, **data)
        return _site_detail(request.user, site_id)


class SiteStatusApi(VendorBaseApi):
    """Set a site's status (operational, degraded, down or bcp_active) with a
    reason (required unless operational); the vendor's leads, its token, ops
    managers and admins. A site going down opens or updates a trouble
    incident. 201 with the recorded change."""

    @extend_schema(
        operation_id="v1_vendors_sites_status_create",
        summary="Change a site's status",
        tags=TAGS,
        request=SiteStatusInputSerializer,
        responses={201: SiteStatusChangeOutputSerializer, **DETAIL_WRITE_ERRORS},
    )
    def post(self, request, site_id: int):
        body = body_object(request)
        change = services.site_status_change(
            actor=self.actor(),
            site_id=site_id,
            status=body.get("status"),
            reason=body.get("reason") if isinstance(body.get("reason"), str) else "",
            source=SiteStatusChange.Source.API,
        )
        return ok(SiteStatusChangeOutputSerializer(change).data, status.HTTP_201_CREATED)


# --- queues -------------------------------------------------------------------------


def _queue_detail(actor, queue_id: int, status_code: int = status.HTTP_200_OK):
    queue = or_404(selectors.queue_for(actor, queue_id), "queue")
    latest, health = queue_healths([queue], timezone.now())
    context = {"latest": latest, "health": health}
    return ok(QueueDetailOutputSerializer(queue, context=context).data, status_code)


def _queue_fields(data: dict) -> dict:
    """The service's fields from the validated body: `site_id` is `site`."""
    if "site_id" in data:
        data["site"] = data.pop("site_id")
    return data


class QueueListApi(VendorManageApi):
    """GET: the queues the caller may see, by id, each with its health now
    and the time of its latest figures. `vendor` and `site` filter; `health`
    (repeatable: ok, unknown, warn, stale, breach) keeps the queues at those
    levels. A fixed number of queries whatever the number of queues. POST
    (ops managers and admins): create a queue of the vendor `vendor_id`, at
    one of its sites (`site_id`, optional); 201 with its detail."""

    @extend_schema(
        operation_id="v1_vendors_queues_list",
        summary="List queues",
        tags=TAGS,
        parameters=[
            _id("vendor", "Only this vendor's queues."),
            _id("site", "Only this site's queues."),
            OpenApiParameter(
                "health",
                OpenApiTypes.STR,
                many=True,
                explode=True,
                enum=["ok", "unknown", "warn", "stale", "breach"],
                description="Only queues at these health levels now.",
            ),
            *PAGE_PARAMETERS,
        ],
        responses={200: paginated(QueueOutputSerializer), **LIST_ERRORS},
    )
    def get(self, request):
        filters = parse(QueueFilterSerializer, request.query_params)
        queues = selectors.queues_visible_to(self.actor())
        if "vendor" in filters:
            queues = queues.filter(vendor_id=filters["vendor"])
        if "site" in filters:
            queues = queues.filter(site_id=filters["site"])
        now = timezone.now()
        paginator = Pagination()
        if filters.get("health"):
            # Health is computed, not stored: compute it for every matching
            # queue (four queries), then page through those at the levels.
            latest, health = queue_healths(list(queues), now)
            wanted = set(filters["health"])
            queues = queues.filter(id__in=[i for i, h in health.items() if h.level in wanted])
            page = page_of(paginator, queues, request, self)
        else:
            page = page_of(paginator, queues, request, self)
            latest, health = queue_healths(page, now)
        context = {"latest": latest, "health": health}
        return paginator.get_paginated_response(
            QueueOutputSerializer(page, many=True, context=context).data
        )

    @extend_schema(
        operation_id="v1_vendors_queues_create",
        summary="Create a queue",
        tags=TAGS,
        request=QueueCreateInputSerializer,
        responses={201: QueueDetailOutputSerializer, **DETAIL_WRITE_ERRORS},
    )
    def post(self, request):
        data = _queue_fields(dict(parse(QueueCreateInputSerializer, request.data)))
        queue = services.queue_create(actor=request.user, **data)
        return _queue_detail(request.user, queue.id, status.HTTP_201_CREATED)


class QueueDetailApi(VendorManageApi):
    """GET: one queue with its targets, latest snapshot, health level and
    reasons, and the projected minutes to an SLA breach. PATCH (ops managers
    and admins): change its fields (`site_id`: one of its vendor's sites, or
    null)."""

    @extend_schema(
        operation_id="v1_vendors_queues_retrieve",
        summary="Read a queue",
        tags=TAGS,
        responses={200: QueueDetailOutputSerializer, **DETAIL_ERRORS},
    )
    def get(self, request, queue_id: int):
        return _queue_detail(self.actor(), queue_id)

    @extend_schema(
        operation_id="v1_vendors_queues_partial_update",
        summary="Change a queue",
        tags=TAGS,
        request=QueueInputSerializer(partial=True),
        responses={200: QueueDetailOutputSerializer, **DETAIL_WRITE_ERRORS},
    )
    def patch(self, request, queue_id: int):
        data = _queue_fields(dict(parse(QueueInputSerializer, request.data, partial=True)))
        services.queue_update(actor=request.user, queue_id=queue_id, **data)
        return _queue_detail(request.user, queue_id)


# --- snapshots ----------------------------------------------------------------------


class PayloadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"


class SnapshotListApi(VendorBaseApi):
    """GET: snapshots of the queues the caller may see, newest first;
    `queue`, `vendor`, `since` and `until` (taken_at in [since, until))
    filter. POST: one queue's figures (the vendor's leads, its token, ops
    managers and admins); 201 with the snapshot, 409 when that queue's
    figures for that minute were already posted."""

    @extend_schema(
        operation_id="v1_vendors_snapshots_list",
        summary="List snapshots",
        tags=TAGS,
        parameters=[
            _id("queue", "Only this queue's snapshots."),
            _id("vendor", "Only this vendor's snapshots."),
            OpenApiParameter("since", OpenApiTypes.DATETIME, description="Taken at or after."),
            OpenApiParameter("until", OpenApiTypes.DATETIME, description="Taken before."),
            *PAGE_PARAMETERS,
        ],
        responses={200: paginated(SnapshotOutputSerializer), **LIST_ERRORS},
    )
    def get(self, request):
        filters = parse(SnapshotFilterSerializer, request.query_params)
        snapshots = selectors.snapshots_visible_to(self.actor())
        if "queue" in filters:
            snapshots = snapshots.filter(queue_id=filters["queue"])
        if "vendor" in filters:
            snapshots = snapshots.filter(queue__vendor_id=filters["vendor"])
        if "since" in filters:
            snapshots = snapshots.filter(taken_at__gte=filters["since"])
        if "until" in filters:
            snapshots = snapshots.filter(taken_at__lt=filters["until"])
        paginator = SnapshotPagination()
        page = page_of(paginator, snapshots, request, self)
        return paginator.get_paginated_response(SnapshotOutputSerializer(page, many=True).data)

    @extend_schema(
        operation_id="v1_vendors_snapshots_create",
        summary="Post a queue's figures",
        tags=TAGS,
        request=SnapshotInputSerializer,
        responses={201: SnapshotOutputSerializer, **DETAIL_WRITE_ERRORS, 409: CONFLICT},
    )
    def post(self, request):
        # vendors/api/ingest.py answers the same post for a vendor token
        # (without the middleware chain and DRF); both end in snapshot_posted.
        return ok(*snapshot_posted(self.actor(), request.data))


class SnapshotBulkApi(VendorBaseApi):
    """Many snapshots at once: a JSON list of rows (at most 20,000), each a
    queue's figures as in POST snapshots/, naming its queue by `queue_id`, or
    by `queue` (code) and `vendor` (code). All or nothing: 201 with the
    number created, or 400 with every problem as `errors: [{row, field,
    message}]` (row 1 is the first) and nothing written. A row for a queue
    the caller may not report for is "No such queue." A vendor token may
    send 60 a minute."""

    throttle_classes = [*VendorBaseApi.throttle_classes[:2], VendorTokenBulkThrottle]

    @extend_schema(
        operation_id="v1_vendors_snapshots_bulk_create",
        summary="Post many queues' figures, all or nothing",
        tags=TAGS,
        request=SnapshotRowInputSerializer(many=True),
        responses={
            201: BulkCreatedOutputSerializer,
            400: OpenApiResponse(
                BulkErrorOutputSerializer, description="Nothing was written; every problem."
            ),
            413: OpenApiResponse(description="The body is over 16 MB."),
            **READ_ERRORS,
        },
    )
    def post(self, request):
        length = request.META.get("CONTENT_LENGTH") or "0"
        if not length.isdigit() or int(length) > MAX_BULK_BYTES:
            raise PayloadTooLarge(_("The body is too large (at most 16 MB)."))
        try:
            rows = request.data
        except ParseError as exc:  # a body its content type promised and did not hold
            return self._errors([services.RowError(0, "row", str(exc.detail))])
        if not isinstance(rows, list):
            return self._errors([services.RowError(0, "row", _("Send a JSON list of rows."))])
        if len(rows) > MAX_BULK_ROWS:
            message = _("At most %(max)d rows at once.") % {"max": MAX_BULK_ROWS}
            return self._errors([services.RowError(0, "row", message)])
        source = None if vendor_token_of(request) else QueueSnapshot.Source.API
        result = services.snapshots_import(actor=self.actor(), rows=rows, source=source)
        if not result.ok:
            return self._errors(result.errors)
        return ok({"created": result.created, "queues": result.queue_ids}, status.HTTP_201_CREATED)

    def _errors(self, errors):
        body = {
            "code": "invalid",
            "detail": _("Nothing was written: fix the rows listed and send them again."),
            "errors": [e.as_dict() for e in errors],
        }
        return ok(body, status.HTTP_400_BAD_REQUEST)
