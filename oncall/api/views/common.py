"""What every on-call API view shares: loading a schedule, layer or override
the viewer may see (404 otherwise), the on-call gate on collections, parsing
input and loading the people that shifts name."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse

from oncall.models import Layer, LayerMember, Override, Schedule
from oncall.selectors import schedule_visible_to
from oncall.services import NotAllowed

VIEW_PERM = "oncall.view_schedule"

BAD_INPUT = OpenApiResponse(description="Bad input: errors by field.")
REFUSED = OpenApiResponse(description="Not allowed for this user (role or team).")
NOT_FOUND = OpenApiResponse(description="No such schedule, or not visible to this user.")
WRITE_ERRORS = {400: BAD_INPUT, 403: REFUSED, 404: NOT_FOUND}


def parse(serializer_class, data) -> dict:
    """Validated input, or 400 with the serializer's field errors."""
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def require_oncall(user) -> None:
    """Collections answer 403 to roles that see no schedules at all."""
    if not user.has_perm(VIEW_PERM):
        raise NotAllowed(_("Your role cannot see on-call schedules."))


def schedule_or_404(viewer, schedule_id: int, *, detail: bool = False) -> Schedule:
    """The schedule if `viewer` may see it (no existence leak); with `detail`,
    with its team and current layers loaded."""
    qs = schedule_detail_queryset(viewer) if detail else schedule_visible_to(viewer)
    try:
        return qs.get(id=schedule_id)
    except Schedule.DoesNotExist:
        raise Http404 from None


def _members() -> Prefetch:
    return Prefetch(
        "members",
        queryset=LayerMember.objects.select_related("user").order_by("position"),
        to_attr="ordered_members",
    )


def layers_with_members(qs: QuerySet[Layer]) -> QuerySet[Layer]:
    return qs.select_related("schedule").prefetch_related(_members())


def current_layers(*, include_ended: bool = False) -> QuerySet[Layer]:
    """Layers in force now or later (with `include_ended`, every version)."""
    qs = Layer.objects.order_by("-priority", "id")
    if not include_ended:
        qs = qs.filter(Q(active_until__isnull=True) | Q(active_until__gt=timezone.now()))
    return qs.prefetch_related(_members())


def schedule_detail_queryset(viewer) -> QuerySet[Schedule]:
    return (
        schedule_visible_to(viewer)
        .select_related("team")
        .prefetch_related(Prefetch("layers", queryset=current_layers(), to_attr="current_layers"))
    )


def layer_or_404(viewer, layer_id: int) -> Layer:
    qs = layers_with_members(Layer.objects.filter(schedule__in=schedule_visible_to(viewer)))
    try:
        return qs.get(id=layer_id)
    except Layer.DoesNotExist:
        raise Http404 from None


def overrides_with_people(qs: QuerySet[Override]) -> QuerySet[Override]:
    return qs.select_related("user", "replaces", "created_by")


def override_or_404(viewer, override_id: int) -> Override:
    qs = Override.objects.filter(schedule__in=schedule_visible_to(viewer))
    try:
        return qs.get(id=override_id)
    except Override.DoesNotExist:
        raise Http404 from None


def users_by_id(ids: Iterable[int | None]) -> dict:
    """The people named by shifts, in one query."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return {u.id: u for u in get_user_model().objects.filter(id__in=wanted)}
