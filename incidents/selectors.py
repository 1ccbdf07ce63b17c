"""Reads shared by pages, the API and sockets. Each owns its query shape
(select/prefetch chosen once) and applies the permission filter."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import (
    CharField,
    Count,
    IntegerField,
    OuterRef,
    Prefetch,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce, NullIf

from incidents.domain.lifecycle import OPEN_STATES
from incidents.filters import IncidentFilter
from incidents.models import (
    GradingCriterion,
    GradingWorksheet,
    Incident,
    IncidentRole,
    IncidentTask,
    IncidentTimer,
    Participant,
    RegulatoryReport,
    Review,
    RoleAssignment,
    SeverityAssessment,
    StatusUpdate,
    TimelineEvent,
)
from tscc.roles import Role

VIEW_ROLES = {Role.OPS_MANAGER, Role.RESPONDER, Role.ADMIN, Role.EXECUTIVE}


def sees_every_incident(user) -> bool:
    return bool(
        user.is_authenticated and user.is_active and (user.is_superuser or user.role in VIEW_ROLES)
    )


def reports_visible_to(user) -> QuerySet[RegulatoryReport]:
    """Reports of the incidents `user` may see (no subquery when that is all)."""
    if sees_every_incident(user):
        return RegulatoryReport.objects.all()
    return RegulatoryReport.objects.filter(incident__in=incident_visible_to(user))


def incident_visible_to(user) -> QuerySet[Incident]:
    """Incidents `user` may see. BPO leads see none until vendor links exist."""
    if not user.is_authenticated or not user.is_active:
        return Incident.objects.none()
    if user.is_superuser or user.role in VIEW_ROLES:
        return Incident.objects.all()
    return Incident.objects.none()


def _active_roles_prefetch() -> Prefetch:
    return Prefetch(
        "role_assignments",
        queryset=RoleAssignment.objects.filter(released_at__isnull=True).select_related("user"),
        to_attr="active_roles",
    )


def _count(related: QuerySet) -> Subquery:
    counted = (
        related.filter(incident=OuterRef("pk"))
        .order_by()
        .values("incident")
        .annotate(n=Count("id"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def incident_list_for_triage(
    *, viewer, params: Mapping[str, Any]
) -> tuple[IncidentFilter, QuerySet]:
    """The triage list: filtered, searched and sorted from URL parameters, with
    the commander, category and open task and overdue report counts each row
    shows. The query count does not depend on the number of rows."""
    qs = (
        incident_visible_to(viewer)
        .select_related("category")
        .prefetch_related(_active_roles_prefetch(), "markets")
        .annotate(
            # Correlated subqueries, not joins with GROUP BY: the database
            # counts only for the rows of the page, after LIMIT.
            open_tasks=_count(IncidentTask.objects.filter(state=IncidentTask.State.OPEN)),
            pending_reports=_count(
                RegulatoryReport.objects.filter(state__in=RegulatoryReport.PENDING_STATES)
            ),
        )
    )
    filterset = IncidentFilter(params, queryset=qs)
    return filterset, filterset.qs


def incident_triage_filter(*, viewer, params: Mapping[str, Any]) -> IncidentFilter:
    """The triage filters over what the viewer may see; `.qs` is the plain
    ordered queryset (no joins), cheap to count and to page through."""
    return IncidentFilter(params, queryset=incident_visible_to(viewer))


def incident_triage_rows(ids: list[int]) -> list[dict]:
    """The rows of one triage page, in the given order, as plain values: the
    incident's columns, its category, commander name, open task and pending
    report counts (correlated subqueries), and its markets. Two queries for
    any page; loading by ids keeps the counts off the rows an OFFSET skips,
    and plain values skip building model instances."""
    commander = RoleAssignment.objects.filter(
        incident=OuterRef("pk"), role=IncidentRole.COMMANDER, released_at__isnull=True
    ).values(name=Coalesce(NullIf("user__display_name", Value("")), "user__username"))[:1]
    rows = {
        row["id"]: row
        for row in Incident.objects.filter(id__in=ids)
        .annotate(
            commander_name=Subquery(commander, output_field=CharField()),
            open_tasks=_count(IncidentTask.objects.filter(state=IncidentTask.State.OPEN)),
            pending_reports=_count(
                RegulatoryReport.objects.filter(state__in=RegulatoryReport.PENDING_STATES)
            ),
        )
        .values(
            "id",
            "year",
            "number",
            "title",
            "title_zh",
            "severity",
            "state",
            "declared_at",
            "category__name_en",
            "category__name_zh",
            "commander_name",
            "open_tasks",
            "pending_reports",
        )
    }
    for row in rows.values():
        row["markets"] = []
    links = Incident.markets.through.objects.filter(incident_id__in=ids).order_by("market__order")
    for link in links.values("incident_id", "market__name_en", "market__name_zh"):
        rows[link["incident_id"]]["markets"].append(
            (link["market__name_en"], link["market__name_zh"])
        )
    return [rows[i] for i in ids if i in rows]


def incident_get_for_detail(*, viewer, incident_id: int) -> Incident:
    """One incident with everything its page shows; Incident.DoesNotExist
    when it does not exist or the viewer may not see it (no existence leak)."""
    return (
        incident_visible_to(viewer)
        .select_related("category", "team", "created_by", "parent", "duplicate_of")
        .prefetch_related(
            _active_roles_prefetch(),
            "markets",
            "surfaces",
            "tags",
            "related",
            Prefetch("participants", queryset=Participant.objects.select_related("user")),
        )
        .get(id=incident_id)
    )


def incident_member_ids(incident: Incident) -> frozenset[int]:
    """Users who take part: role holders, participants, the declarer and the
    owning team's members. Cached on the instance for one request."""
    cached = getattr(incident, "_member_ids", None)
    if cached is not None:
        return cached
    ids = set(
        RoleAssignment.objects.filter(incident=incident, released_at__isnull=True).values_list(
            "user_id", flat=True
        )
    )
    ids |= set(Participant.objects.filter(incident=incident).values_list("user_id", flat=True))
    if incident.created_by_id:
        ids.add(incident.created_by_id)
    if incident.team_id:
        ids |= set(incident.team.members.values_list("id", flat=True))
    incident._member_ids = frozenset(ids)
    return incident._member_ids


def _active_role_map(incident: Incident) -> dict[str, int]:
    roles = getattr(incident, "active_roles", None)
    if roles is None:
        roles = RoleAssignment.objects.filter(incident=incident, released_at__isnull=True)
    return {r.role: r.user_id for r in roles}


def incident_role_holder_id(incident: Incident, role: str) -> int | None:
    return _active_role_map(incident).get(role)


def incident_command_ids(incident: Incident) -> frozenset[int]:
    roles = _active_role_map(incident)
    return frozenset(
        uid for role, uid in roles.items() if role in (IncidentRole.COMMANDER, IncidentRole.DEPUTY)
    )


def incident_roles(incident: Incident) -> dict[str, RoleAssignment]:
    """Active role assignments by role, from the prefetch when there is one."""
    roles = getattr(incident, "active_roles", None)
    if roles is None:
        roles = RoleAssignment.objects.filter(
            incident=incident, released_at__isnull=True
        ).select_related("user")
    return {r.role: r for r in roles}


def timeline_list(*, incident: Incident, after_seq: int = 0, limit: int | None = None) -> QuerySet:
    qs = (
        TimelineEvent.objects.filter(incident=incident, seq__gt=after_seq)
        .select_related("actor")
        .order_by("seq")
    )
    return qs[:limit] if limit else qs


def timeline_latest(*, incident: Incident, limit: int) -> QuerySet:
    """The newest `limit` events, newest first."""
    return (
        TimelineEvent.objects.filter(incident=incident)
        .select_related("actor")
        .order_by("-seq")[:limit]
    )


def timeline_decisions(*, incident: Incident) -> QuerySet:
    """The decision log, oldest first."""
    return timeline_list(incident=incident).filter(kind=TimelineEvent.Kind.DECISION)


def incident_key_facts(*, incident: Incident) -> list[TimelineEvent]:
    """Pinned facts still pinned, oldest first (pins and unpins are events)."""
    events = list(
        TimelineEvent.objects.filter(
            incident=incident,
            kind__in=[TimelineEvent.Kind.FACT_PINNED, TimelineEvent.Kind.FACT_UNPINNED],
        ).order_by("seq")
    )
    # Replay pins and unpins in order: the last word on each event counts, so
    # a fact pinned again after an unpin is back, and one pinned twice shows once.
    pinned: dict[int, None] = {}
    for e in events:
        if e.kind == TimelineEvent.Kind.FACT_PINNED:
            pinned.setdefault(e.refers_to_id)
        else:
            pinned.pop(e.refers_to_id, None)
    keep = list(pinned)
    by_id = TimelineEvent.objects.select_related("actor").in_bulk(keep)
    return [by_id[i] for i in keep if i in by_id]


def incident_decisions(*, incident: Incident) -> QuerySet:
    return TimelineEvent.objects.filter(
        incident=incident, kind=TimelineEvent.Kind.DECISION
    ).select_related("actor")


def incident_tasks(*, incident: Incident) -> QuerySet:
    return IncidentTask.objects.filter(incident=incident).select_related("owner")


def incident_status_updates(*, incident: Incident) -> QuerySet:
    return StatusUpdate.objects.filter(incident=incident).select_related("author")


def incident_reports(*, incident: Incident) -> QuerySet:
    return RegulatoryReport.objects.filter(incident=incident).select_related(
        "obligation", "submitted_by"
    )


def open_incident_count(*, viewer) -> int:
    return incident_visible_to(viewer).filter(state__in=[s.value for s in OPEN_STATES]).count()


def overdue_reports(*, viewer, limit: int = 5) -> list[RegulatoryReport]:
    """Reports past due and not submitted, most overdue first."""
    from django.utils import timezone

    return list(
        reports_visible_to(viewer)
        .filter(
            state__in=RegulatoryReport.PENDING_STATES,
            due_at__lt=timezone.now(),
        )
        .select_related("incident", "obligation")
        .order_by("due_at")[:limit]
    )


def incident_ended_at(*, incident: Incident):
    """When a cancelled or merged incident left the open states (the last
    move to cancelled or merged on its timeline); None if it never did."""
    return (
        TimelineEvent.objects.filter(
            incident=incident,
            kind=TimelineEvent.Kind.STATE_CHANGED,
            data__to__in=["cancelled", "merged"],
        )
        .order_by("-seq")
        .values_list("occurred_at", flat=True)
        .first()
    )


def incident_durations(*, incident: Incident, events=None):
    """Times to acknowledge, mitigate and resolve, derived from the timeline's
    state changes and acknowledgements (not from the cached columns)."""
    from incidents.domain.durations import StateChange, derive_durations
    from incidents.domain.lifecycle import State

    if events is None:
        events = TimelineEvent.objects.filter(
            incident=incident,
            kind__in=[TimelineEvent.Kind.STATE_CHANGED, TimelineEvent.Kind.ACKNOWLEDGED],
        )
    states = {s.value for s in State}
    changes = [
        StateChange(e.occurred_at, State(e.data["to"]), seq=e.seq)
        for e in events
        if e.kind == TimelineEvent.Kind.STATE_CHANGED and e.data.get("to") in states
    ] + [
        StateChange(e.occurred_at, State.TRIAGE, acknowledged=True, seq=e.seq)
        for e in events
        if e.kind == TimelineEvent.Kind.ACKNOWLEDGED
    ]
    return derive_durations(declared_at=incident.declared_at, changes=changes)


def incident_latest_assessment(*, incident: Incident) -> SeverityAssessment | None:
    return (
        SeverityAssessment.objects.filter(incident=incident).order_by("-assessed_at", "-id").first()
    )


def incident_review(*, incident: Incident) -> Review | None:
    return Review.objects.filter(incident=incident).select_related("owner").first()


def incident_latest_grading(*, incident: Incident) -> GradingWorksheet | None:
    return GradingWorksheet.objects.filter(incident=incident).select_related("graded_by").first()


def incident_recent_nudges(*, incident: Incident, limit: int = 3) -> list[IncidentTimer]:
    return list(
        IncidentTimer.objects.filter(incident=incident, state=IncidentTimer.State.FIRED).order_by(
            "-fired_at"
        )[:limit]
    )


def grading_criteria() -> QuerySet[GradingCriterion]:
    """The annex criteria a grading is evaluated against now."""
    return GradingCriterion.objects.filter(active=True)


def incident_by_reference(*, viewer, reference: str) -> Incident | None:
    """An incident the viewer may see, by its reference (INC-2026-00042)."""
    from incidents.filters import REFERENCE

    match = REFERENCE.match(reference or "")
    if not match:
        return None
    return incident_visible_to(viewer).filter(year=int(match[1]), number=int(match[2])).first()


def task_visible_to(viewer) -> QuerySet[IncidentTask]:
    return IncidentTask.objects.filter(incident__in=incident_visible_to(viewer))


def report_visible_to(viewer) -> QuerySet[RegulatoryReport]:
    return RegulatoryReport.objects.filter(incident__in=incident_visible_to(viewer))


def severity_policy(*, severity: str):
    from incidents.models import SeverityPolicy

    return SeverityPolicy.objects.filter(severity=severity).first()


def incident_first_commander(*, incident: Incident) -> RoleAssignment | None:
    """Who first took command (the "commander named" clock is met then)."""
    return (
        incident.role_assignments.filter(role=IncidentRole.COMMANDER)
        .order_by("assigned_at")
        .first()
    )


def room_viewer(*, user_id: int, incident_id: int):
    """The user as the database has them now, or None unless they are active
    and may see the incident (a war-room socket re-checks: roles change)."""
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.filter(id=user_id, is_active=True).first()
    incident = Incident.objects.filter(id=incident_id).first()
    if user is None or incident is None:
        return None
    return user if user.has_perm("incidents.view_incident", incident) else None


def room_viewer_ids(*, user_ids, incident_id: int) -> set[int]:
    """Which of `user_ids` may still see the incident (room_viewer for many,
    in two queries: the war room re-checks its members in batches)."""
    from django.contrib.auth import get_user_model

    incident = Incident.objects.filter(id=incident_id).first()
    if incident is None:
        return set()
    users = get_user_model().objects.filter(id__in=list(user_ids), is_active=True)
    return {user.id for user in users if user.has_perm("incidents.view_incident", incident)}


def room_events(*, incident_id: int, after_seq: int = 0, limit: int | None = None):
    """Timeline events after `after_seq`, in order, with what a war-room
    fragment shows (author, the event replied to and its author)."""
    qs = (
        TimelineEvent.objects.filter(incident_id=incident_id, seq__gt=after_seq)
        .select_related("actor", "refers_to", "refers_to__actor")
        .order_by("seq")
    )
    return list(qs[:limit] if limit else qs)


def room_incident(*, incident_id: int) -> Incident:
    """The incident as the war-room header shows it, read fresh."""
    return (
        Incident.objects.select_related("category")
        .prefetch_related(_active_roles_prefetch())
        .get(id=incident_id)
    )


def incident_overdue_report_count(*, incident: Incident, now) -> int:
    return RegulatoryReport.objects.filter(
        incident=incident, state__in=RegulatoryReport.PENDING_STATES, due_at__lt=now
    ).count()


def room_members(*, incident_id: int, extra_ids=()) -> tuple[dict[int, list[str]], set[int], dict]:
    """Who takes part in an incident's room: (user id -> roles held now, the
    ids of role holders and participants, the users by id including
    `extra_ids`)."""
    from django.contrib.auth import get_user_model

    roles: dict[int, list[str]] = {}
    for user_id, role in RoleAssignment.objects.filter(
        incident_id=incident_id, released_at__isnull=True
    ).values_list("user_id", "role"):
        roles.setdefault(user_id, []).append(role)
    member_ids = set(roles) | set(
        Participant.objects.filter(incident_id=incident_id).values_list("user_id", flat=True)
    )
    users = get_user_model().objects.in_bulk(member_ids | set(extra_ids))
    return roles, member_ids, users
