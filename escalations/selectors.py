"""Reads for the escalations pages: a person's pages, an incident's paging."""

from __future__ import annotations

from django.db.models import Count, IntegerField, OuterRef, Prefetch, QuerySet, Subquery
from django.db.models.functions import Coalesce

from escalations.models import (
    ContactMethod,
    Delivery,
    Escalation,
    EscalationPolicy,
    LevelTarget,
    NotificationRule,
    Page,
    PolicyLevel,
    QuietHours,
    RoutingRule,
)
from incidents.models import Incident

OPEN_PAGE_STATES = (Page.State.TRIGGERED, Page.State.NOTIFIED)


def user_pages(*, user, limit: int = 50) -> list[Page]:
    """The person's latest pages with their incident and deliveries."""
    return list(
        Page.objects.filter(user=user)
        .select_related("escalation__incident")
        .prefetch_related("deliveries")
        .order_by("-created_at")[:limit]
    )


def is_open(page: Page) -> bool:
    return page.state in OPEN_PAGE_STATES and page.escalation.state == Escalation.State.ACTIVE


def incident_paged_people(*, incident_id: int) -> dict[int, dict]:
    """Each person paged for the incident and not stood down (their latest
    page not resolved): {user id: state, its label, when paged}."""
    latest: dict[int, dict] = {}
    pages = (
        Page.objects.filter(escalation__incident_id=incident_id)
        .order_by("user_id", "-created_at", "-id")
        .values_list("user_id", "state", "created_at")
    )
    for user_id, state, created_at in pages:
        if user_id in latest:
            continue
        latest[user_id] = {"state": state, "label": Page.State(state).label, "at": created_at}
    return {uid: row for uid, row in latest.items() if row["state"] != Page.State.RESOLVED}


def user_page(*, user, page_id: int) -> Page | None:
    return Page.objects.filter(id=page_id, user=user).first()


def incident_paging(*, incident: Incident) -> list[Escalation]:
    """Every escalation of the incident with its pages and delivery attempts."""
    return list(
        Escalation.objects.filter(incident=incident)
        .prefetch_related("pages__user", "pages__deliveries__attempt_log")
        .order_by("started_at")
    )


# --- For the API (and any page that shows the same) ------------------------------


def _count_of(related: QuerySet, field: str) -> Coalesce:
    counted = (
        related.filter(**{field: OuterRef("pk")})
        .order_by()
        .values(field)
        .annotate(n=Count("id"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def policies_with_levels() -> QuerySet[EscalationPolicy]:
    """Every policy by name with its team, final person, levels (in order)
    and their targets' users, schedules and teams, and `routing_rules`, how
    many rules use it: three queries for any number of policies."""
    targets = LevelTarget.objects.select_related("user", "schedule", "team").order_by("id")
    levels = PolicyLevel.objects.order_by("position").prefetch_related(
        Prefetch("targets", queryset=targets)
    )
    return (
        EscalationPolicy.objects.select_related("team", "final_user")
        .annotate(routing_rules=_count_of(RoutingRule.objects.all(), "policy"))
        .prefetch_related(Prefetch("levels", queryset=levels))
        .order_by("name", "id")
    )


def routing_rules_with_policy() -> QuerySet[RoutingRule]:
    """The routing rules in the order they are tried, with policy and team."""
    return RoutingRule.objects.select_related("policy", "team").order_by("position", "id")


def user_contact_methods(*, user) -> QuerySet[ContactMethod]:
    return ContactMethod.objects.filter(user=user).order_by("channel", "id")


def user_notification_rules(*, user) -> QuerySet[NotificationRule]:
    return NotificationRule.objects.filter(user=user).order_by("urgency", "delay_minutes", "id")


def user_quiet_hours(*, user) -> QuietHours | None:
    return QuietHours.objects.filter(user=user).first()


def pages_with_incident() -> QuerySet[Page]:
    """Pages with their escalation, incident and deliveries (in due order)."""
    return Page.objects.select_related("escalation__incident").prefetch_related(
        Prefetch("deliveries", queryset=Delivery.objects.order_by("due_at", "id"))
    )


def user_page_list(*, user, open_only: bool = False) -> QuerySet[Page]:
    """The person's pages, newest first; `open_only`: those still waiting
    for an acknowledgement (see `is_open`)."""
    qs = pages_with_incident().filter(user=user)
    if open_only:
        qs = qs.filter(state__in=OPEN_PAGE_STATES, escalation__state=Escalation.State.ACTIVE)
    return qs.order_by("-created_at", "-id")


def page_acknowledgeable(*, user, page_id: int) -> Page | None:
    """The page if `user` may acknowledge it (the rule of
    services.page_acknowledge: their own, or they may command its incident);
    None otherwise, as if it did not exist."""
    page = Page.objects.select_related("escalation__incident").filter(id=page_id).first()
    if page is None:
        return None
    if page.user_id == user.id or user.has_perm("incidents.command", page.escalation.incident):
        return page
    return None


def incident_escalations(*, incident_id: int) -> QuerySet[Escalation]:
    """The incident's escalations, oldest first, with who started and
    acknowledged them, their pages (with the person), deliveries and every
    attempt: four queries for any number."""
    deliveries = Delivery.objects.order_by("due_at", "id").prefetch_related("attempt_log")
    pages = (
        Page.objects.select_related("user")
        .order_by("step", "created_at", "id")
        .prefetch_related(Prefetch("deliveries", queryset=deliveries))
    )
    return (
        Escalation.objects.filter(incident_id=incident_id)
        .select_related("started_by", "acknowledged_by")
        .prefetch_related(Prefetch("pages", queryset=pages))
        .order_by("started_at", "id")
    )


# --- For the paging configuration pages -------------------------------------------


def policy_empty_levels(*, policies, at) -> dict[int, list[int]]:
    """Per policy id, the positions of levels that would page nobody at `at`
    (the auditor's `pages_nobody` check, resolved in bulk), for policies
    loaded by `policies_with_levels`: at most four more queries."""
    from escalations.domain.policy import Level, PolicySnapshot, Target, TargetKind, pages_nobody
    from oncall.models import Schedule
    from oncall.selectors import oncall_now
    from tscc.models import User
    from tscc.roles import OPERATIONS_ROLES

    targets = [t for p in policies for level in p.levels.all() for t in level.targets.all()]
    schedule_ids = {t.schedule_id for t in targets if t.kind == TargetKind.SCHEDULE}
    team_ids = {t.team_id for t in targets if t.kind == TargetKind.TEAM}
    on_call = (
        oncall_now(schedules=Schedule.objects.filter(id__in=schedule_ids), at=at, horizon_days=8)
        if schedule_ids
        else []
    )
    staffed = (
        User.teams.through.objects.filter(
            team_id__in=team_ids,
            user__is_active=True,
            user__role__in=[r.value for r in OPERATIONS_ROLES],
        ).values_list("team_id", flat=True)
        if team_ids
        else []
    )
    reachable = {
        TargetKind.USER: {t.user_id for t in targets if t.kind == "user" and t.user.is_active},
        TargetKind.SCHEDULE: {row.schedule.id for row in on_call if row.now.user_id is not None},
        TargetKind.TEAM: set(staffed),
    }

    def resolve(target: Target) -> list[int]:
        return [target.id] if target.id in reachable[target.kind] else []

    found = {}
    for policy in policies:
        levels = list(policy.levels.all())
        if not levels:
            continue
        snapshot = PolicySnapshot(
            levels=tuple(
                Level(
                    tuple(Target(TargetKind(t.kind), t.target_id) for t in level.targets.all()),
                    level.wait_minutes,
                )
                for level in levels
            )
        )
        empty = pages_nobody(snapshot, resolve)
        if empty:
            found[policy.id] = [levels[i].position for i in empty]
    return found


def policy_target_choices() -> dict[str, list[tuple[int, str]]]:
    """Whom a level may page, by name: active people in operations,
    schedules and teams (three queries)."""
    from oncall.models import Schedule
    from tscc.models import Team, User
    from tscc.roles import OPERATIONS_ROLES

    people = User.objects.filter(is_active=True, role__in=[r.value for r in OPERATIONS_ROLES])
    return {
        "people": sorted(((u.id, str(u)) for u in people), key=lambda c: c[1].lower()),
        "schedules": list(Schedule.objects.order_by("name", "id").values_list("id", "name")),
        "teams": list(Team.objects.order_by("name").values_list("id", "name")),
    }


def page_target_choices() -> dict[str, list[tuple[int, str]]]:
    """Whom someone may page by hand, by name: active people in operations
    and on-call schedules (two queries)."""
    from oncall.models import Schedule
    from tscc.models import User
    from tscc.roles import OPERATIONS_ROLES

    people = User.objects.filter(is_active=True, role__in=[r.value for r in OPERATIONS_ROLES])
    return {
        "people": sorted(((u.id, str(u)) for u in people), key=lambda c: c[1].lower()),
        "schedules": list(Schedule.objects.order_by("name", "id").values_list("id", "name")),
    }


def policy_choices(*, pageable_only: bool = False) -> list[tuple[int, str]]:
    """(id, name) of every policy by name; `pageable_only`: those with at
    least one level (what an incident may be switched to)."""
    qs = EscalationPolicy.objects.all()
    if pageable_only:
        qs = qs.filter(levels__isnull=False).distinct()
    return list(qs.order_by("name", "id").values_list("id", "name"))


def category_choices() -> list[tuple[str, str]]:
    """(code, name in the active language) of every incident category."""
    from incidents.models import Category

    return [(c.code, c.name) for c in Category.objects.order_by("order", "code")]


def escalation_next_due(*, escalation_id: int):
    """When the running escalation next moves on (its pending timer), or None."""
    from escalations.models import Timer

    return (
        Timer.objects.filter(escalation_id=escalation_id, state=Timer.State.PENDING)
        .order_by("due_at")
        .values_list("due_at", flat=True)
        .first()
    )


def team_choices() -> list[tuple[int, str]]:
    from tscc.models import Team

    return list(Team.objects.order_by("name").values_list("id", "name"))


def policy_get(*, policy_id: int) -> EscalationPolicy | None:
    """One policy loaded as `policies_with_levels` loads them, or None."""
    return policies_with_levels().filter(id=policy_id).first()


def routing_rule_get(*, rule_id: int) -> RoutingRule | None:
    return routing_rules_with_policy().filter(id=rule_id).first()


def user_contact_method_get(*, user, method_id: int) -> ContactMethod | None:
    """The person's own contact method, or None (someone else's is not there)."""
    return user_contact_methods(user=user).filter(id=method_id).first()


def user_notification_rule_get(*, user, rule_id: int) -> NotificationRule | None:
    """The person's own notification rule, or None."""
    return user_notification_rules(user=user).filter(id=rule_id).first()
