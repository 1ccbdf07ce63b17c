"""What the escalations API views share: the role gates, parsing input,
404 for what the caller may not see, the pages paginator and the documented
error answers.

A gate answers 403 to a whole role before any input is read or any row is
looked up, so it leaks nothing about ids; the services still decide every
write (and say 403 themselves for what the gate lets through)."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse
from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAuthenticated
from rest_framework.views import APIView

from escalations.api.serializers import PagingErrorOutputSerializer
from escalations.config import NotAllowed
from tscc.api.pagination import PAGE_PARAMETERS, CursorPage, paginated  # noqa: F401 - re-exported

VIEW_POLICY = "escalations.view_policy"
MANAGE_POLICY = "escalations.manage_policy"
MANAGE_CONTACTS = "escalations.manage_contacts"
# Who may be paged and take part in incidents (as the "My pages" page).
PAGED = "incidents.join"

POLICY_READ_REFUSED = _("Your role cannot see escalation policies.")
POLICY_WRITE_REFUSED = _("Only ops managers and admins change escalation policies and routing.")
SETTINGS_REFUSED = _("Your role has no notification settings.")
PAGING_REFUSED = _("Your role is not paged and cannot see paging.")
# The alerts endpoint's answer to bad JSON (already translated).


class PolicyAccess(BasePermission):
    """Operations read policies and routing rules; ops managers and admins
    change them."""

    def has_permission(self, request, view) -> bool:
        if request.method in SAFE_METHODS:
            perm, message = VIEW_POLICY, POLICY_READ_REFUSED
        else:
            perm, message = MANAGE_POLICY, POLICY_WRITE_REFUSED
        if request.user.has_perm(perm):
            return True
        raise NotAllowed(str(message))


class OwnSettingsAccess(BasePermission):
    """A person in operations manages their own notification settings."""

    def has_permission(self, request, view) -> bool:
        if request.user.has_perm(MANAGE_CONTACTS, request.user):
            return True
        raise NotAllowed(str(SETTINGS_REFUSED))


class PagingAccess(BasePermission):
    """Pages and paging history are for the people who are paged."""

    def has_permission(self, request, view) -> bool:
        if request.user.has_perm(PAGED):
            return True
        raise NotAllowed(str(PAGING_REFUSED))


class PolicyBaseApi(APIView):
    permission_classes = [IsAuthenticated, PolicyAccess]


class OwnSettingsBaseApi(APIView):
    permission_classes = [IsAuthenticated, OwnSettingsAccess]


class PagingBaseApi(APIView):
    permission_classes = [IsAuthenticated, PagingAccess]


def parse(serializer_class, data) -> dict:
    """Validated input, or 400 with the serializer's field errors."""
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def get_or_404(queryset: QuerySet, object_id: int):
    """The row of `queryset` (already limited to what the caller may see)."""
    try:
        return queryset.get(id=object_id)
    except queryset.model.DoesNotExist:
        raise Http404 from None


def ensure_exists(queryset: QuerySet, object_id: int) -> None:
    if not queryset.filter(id=object_id).exists():
        raise Http404


class PagePagination(CursorPage):
    """Newest first; stable under new pages, no COUNT."""

    ordering = ("-created_at", "-id")


BAD_INPUT = OpenApiResponse(
    description="Bad input: `{field: [errors]}`, or `{code, detail, fields}` from a rule."
)
REFUSED = OpenApiResponse(PagingErrorOutputSerializer, description="Not allowed for this user.")
NOT_FOUND = OpenApiResponse(description="No such object, or not visible to this user.")
CONFLICT = OpenApiResponse(
    PagingErrorOutputSerializer, description="Not possible in the current state."
)
READ_ERRORS = {403: REFUSED}
DETAIL_ERRORS = {403: REFUSED, 404: NOT_FOUND}
WRITE_ERRORS = {400: BAD_INPUT, 403: REFUSED}
DETAIL_WRITE_ERRORS = {400: BAD_INPUT, 403: REFUSED, 404: NOT_FOUND}
