"""What the vendors API views share: authentication (people and vendor
tokens), throttles, the manage gate, pagination, health in bulk, parsing and
the documented error answers.

Reads go through the vendor-scoped selectors with the request's actor (the
person, or the vendor token), so another vendor's rows are simply not there:
a list leaves them out, a detail is 404, the same answer as for an id that
does not exist. Writes go through vendors.services with the same actor; they
raise NotFound (404), NotAllowed (403) and InvalidInput (400) themselves."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from tscc.api.auth import ApiTokenAuthentication
from tscc.api.pagination import PAGE_PARAMETERS, CursorPage, paginated  # noqa: F401 - re-exported
from tscc.exceptions import InvalidInput, NotAllowed
from vendors import services
from vendors.api.auth import (
    PeopleRateThrottle,
    VendorTokenAuthentication,
    VendorTokenThrottle,
    actor_of,
)
from vendors.api.serializers import VendorErrorOutputSerializer, snapshot_output
from vendors.exceptions import NotFound as VendorNotFound
from vendors.models import QueueSnapshot
from vendors.services.common import NOT_FOUND as NOT_FOUND_MESSAGES

MANAGE = "vendors.manage"
MANAGE_REFUSED = _("Only ops managers and admins can change vendors.")
SEND_OBJECT = _("Send a JSON object.")


class ManageGate(BasePermission):
    """Reads for whoever may see the vendor (the selectors decide); writes
    on vendors themselves for ops managers and admins only, refused before
    any input is read or any id looked up (a vendor token holds no rights)."""

    def has_permission(self, request, view) -> bool:
        if request.method in SAFE_METHODS or request.user.has_perm(MANAGE):
            return True
        raise NotAllowed(str(MANAGE_REFUSED))


class VendorBaseApi(APIView):
    authentication_classes = [
        SessionAuthentication,
        ApiTokenAuthentication,
        VendorTokenAuthentication,
    ]
    permission_classes = [IsAuthenticated]
    throttle_classes = [AnonRateThrottle, PeopleRateThrottle, VendorTokenThrottle]

    def actor(self):
        return actor_of(self.request)


class VendorManageApi(VendorBaseApi):
    permission_classes = [IsAuthenticated, ManageGate]


def parse(serializer_class, data, *, partial: bool = False) -> dict:
    """Validated input, or 400 with the serializer's field errors."""
    serializer = serializer_class(data=data, partial=partial)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def body_object(request) -> dict:
    """The JSON body, which must be an object."""
    return object_of(request.data)


def object_of(data) -> dict:
    if not isinstance(data, dict):
        raise InvalidInput(str(SEND_OBJECT))
    return data


def snapshot_posted(actor, data) -> tuple[dict, int]:
    """POST snapshots/: the body (a JSON object naming `queue_id`) posted
    as `actor`; the answer's data and status (201). Raises the services'
    errors (400, 404, 409)."""
    body = object_of(data)
    queue_id = body.get("queue_id")
    if isinstance(queue_id, str) and queue_id.strip().isdigit():
        queue_id = int(queue_id)
    if not isinstance(queue_id, int) or isinstance(queue_id, bool):
        message = _("Required.") if queue_id in (None, "") else _("A whole number.")
        raise InvalidInput(str(_("Check the figures.")), fields={"queue_id": message})
    snapshot = services.snapshot_post(
        actor=actor, queue_id=queue_id, fields=body, source=QueueSnapshot.Source.API
    )
    return snapshot_output(snapshot), 201


def or_404(obj, kind: str):
    """`obj`, or 404 `{code: not_found, detail}` (kind: vendor, site, queue)."""
    if obj is None:
        raise VendorNotFound(str(NOT_FOUND_MESSAGES[kind]))
    return obj


# --- pagination -------------------------------------------------------------------


class Pagination(CursorPage):
    ordering = ("id",)


class SnapshotPagination(Pagination):
    """Newest first."""

    ordering = ("-taken_at", "-id")


class IncidentPagination(Pagination):
    ordering = ("-declared_at", "-id")


def page_of(paginator: Pagination, queryset, request, view) -> list:
    return list(paginator.paginate_queryset(queryset, request, view=view))


# --- health in bulk ---------------------------------------------------------------


# --- documented errors ------------------------------------------------------------

BAD_INPUT = OpenApiResponse(
    description="Bad input: `{field: [errors]}`, or `{code, detail, fields}` from a rule."
)
REFUSED = OpenApiResponse(
    VendorErrorOutputSerializer,
    description="Not allowed: no credentials, or a role (or vendor token) that may not do this.",
)
UNAUTHORIZED = OpenApiResponse(description="A bad, revoked or expired token.")
NOT_FOUND = OpenApiResponse(
    VendorErrorOutputSerializer,
    description="No such object, or one of a vendor the caller may not see (the same answer).",
)
CONFLICT = OpenApiResponse(VendorErrorOutputSerializer, description="Already posted.")
THROTTLED = OpenApiResponse(description="Too many requests; retry after `Retry-After` seconds.")
READ_ERRORS = {401: UNAUTHORIZED, 403: REFUSED, 429: THROTTLED}
LIST_ERRORS = {400: BAD_INPUT, **READ_ERRORS}
DETAIL_ERRORS = {**READ_ERRORS, 404: NOT_FOUND}
WRITE_ERRORS = {400: BAD_INPUT, **READ_ERRORS}
DETAIL_WRITE_ERRORS = {400: BAD_INPUT, **DETAIL_ERRORS}


def ok(data, status_code: int = 200) -> Response:
    return Response(data, status=status_code)
