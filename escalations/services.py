"""The paging engine: durable rows first, fast hints second (ARCHITECTURE.md).

An incident's escalation pages by a frozen snapshot of its policy. Each step
is a Timer row; firing is a state change under a row lock, so two sweeps or a
replayed task fire it once. Pages and deliveries are rows written in the
same transaction; deliveries are claimed with a lease, re-check that the page
is still open just before the provider call, carry an idempotency key, and
retry with backoff before falling back to the in-app channel.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from escalations.delivery import DeliveryError, Message, Target, adapter_for
from escalations.domain.notify import QuietHours as QuietHoursRule
from escalations.domain.notify import Rule, Urgency, plan_notifications, urgency_for
from escalations.domain.policy import Level, PolicySnapshot, Step, TargetKind, next_due, step_at
from escalations.domain.policy import Target as PolicyTarget
from escalations.models import (
    ContactMethod,
    Delivery,
    DeliveryAttempt,
    Escalation,
    EscalationPolicy,
    NotificationRule,
    Page,
    QuietHours,
    RoutingRule,
    Timer,
)
from incidents import services as incident_services
from incidents.domain.lifecycle import DONE_STATES, OPEN_STATES
from incidents.models import Incident
from oncall.models import Schedule
from oncall.selectors import oncall_user_ids
from tscc.exceptions import ApplicationError, InvalidInput, NotAllowed
from tscc.realtime import notify_user
from tscc.roles import OPERATIONS_ROLES

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
ACK_SALT = "tscc.page-ack"
ACK_MAX_AGE = 24 * 3600
HIGHEST = ("sev0", "sev1")
# A fast-path task owns what it was hinted for this long; the sweep takes over after.
HINT_GRACE = timedelta(seconds=3)
# An incident whose paging did not start on commit is started by the sweep.
MISSED_AFTER, MISSED_WITHIN = timedelta(seconds=10), timedelta(minutes=10)
MAX_PAGE_MESSAGE = 500


# --- Policies ----------------------------------------------------------------


def policy_snapshot(policy: EscalationPolicy) -> dict:
    levels = []
    for level in policy.levels.prefetch_related("targets").order_by("position"):
        levels.append(
            {
                "wait": level.wait_minutes,
                "targets": [{"kind": t.kind, "id": t.target_id} for t in level.targets.all()],
            }
        )
    final = [{"kind": "user", "id": policy.final_user_id}] if policy.final_user_id else []
    return {
        "policy": policy.id,
        "name": policy.name,
        "levels": levels,
        "repeat": policy.repeat,
        "final": final,
    }


def to_domain(snapshot: dict) -> PolicySnapshot:
    def targets(raw):
        return tuple(PolicyTarget(TargetKind(t["kind"]), t["id"]) for t in raw)

    return PolicySnapshot(
        levels=tuple(
            Level(targets(level["targets"]), level["wait"]) for level in snapshot["levels"]
        ),
        repeat=snapshot.get("repeat", 0),
        final=targets(snapshot.get("final", [])),
    )


def route(incident: Incident) -> EscalationPolicy | None:
    """The first routing rule that matches the incident's severity, category and team."""
    for rule in RoutingRule.objects.select_related("policy").order_by("position", "id"):
        if rule.severities and incident.severity not in rule.severities:
            continue
        if rule.categories and incident.category.code not in rule.categories:
            continue
        if rule.team_id and rule.team_id != incident.team_id:
            continue
        return rule.policy
    return None


def resolve_target(target: PolicyTarget, *, at: datetime) -> list[int]:
    """The people a target means at `at`: a user, whoever is on call, or a team."""
    User = get_user_model()
    if target.kind is TargetKind.USER:
        return list(User.objects.filter(id=target.id, is_active=True).values_list("id", flat=True))
    if target.kind is TargetKind.SCHEDULE:
        return oncall_user_ids(schedule_id=target.id, at=at)
    return list(
        User.objects.filter(
            teams=target.id, is_active=True, role__in=[r.value for r in OPERATIONS_ROLES]
        ).values_list("id", flat=True)
    )


# --- Starting, firing, ending --------------------------------------------------


@transaction.atomic
def escalation_start(
    *, incident_id: int, policy: EscalationPolicy | None = None, fire_now: bool = False
) -> Escalation | None:
    """Start paging for an incident by its routing rules (or `policy`). A
    second start while one is active returns the active one. With
    `fire_now` the first step fires in this transaction (its pages and
    deliveries are rows before it commits), so the on-commit task only has
    to send: one hop fewer between declaring and the first message."""
    incident = Incident.objects.select_for_update().select_related("category").get(id=incident_id)
    active = Escalation.objects.filter(
        incident=incident, kind=Escalation.Kind.POLICY, state=Escalation.State.ACTIVE
    ).first()
    if active is not None:
        return active
    policy = policy or route(incident)
    if policy is None or not policy.levels.exists():
        return None
    now = timezone.now()
    escalation = Escalation.objects.create(
        incident=incident, policy=policy, snapshot=policy_snapshot(policy), started_at=now
    )
    timer_id = _start_timer(escalation, now)
    if fire_now:
        _fire_inline(timer_id)
    return escalation


def escalations_start_missed(*, now: datetime | None = None) -> list[int]:
    """Start paging for incidents whose on-commit start was lost (the
    process died between the declaration's commit and the receiver, or the
    receiver failed): open, declared 10 s to 10 min ago, never escalated,
    and routed to a policy. Returns the incidents started."""
    now = now or timezone.now()
    candidates = Incident.objects.filter(
        state__in=[s.value for s in OPEN_STATES],
        declared_at__lte=now - MISSED_AFTER,
        declared_at__gte=now - MISSED_WITHIN,
    ).exclude(escalations__kind=Escalation.Kind.POLICY)  # people paged by hand do not count
    candidates = candidates.values_list("id", flat=True)
    started = []
    for incident_id in list(candidates):
        if escalation_start(incident_id=incident_id, fire_now=True) is not None:
            log.warning(
                "incident %s: paging started by the sweep (its start was lost)", incident_id
            )
            started.append(incident_id)
    return started


def _start_timer(escalation: Escalation, now: datetime) -> int:
    timer = Timer.objects.create(
        kind=Timer.Kind.ESCALATE,
        escalation=escalation,
        step=0,
        due_at=now,
        hinted_until=now + HINT_GRACE,
    )
    _fast_fire(timer.id)
    return timer.id


def _fire_inline(timer_id: int) -> None:
    """Fire a step now, in a savepoint: if it fails, starting the escalation
    still commits, and the on-commit task (or the sweep) fires it."""
    try:
        with transaction.atomic():
            timer_fire(timer_id=timer_id)
    except Exception:  # noqa: BLE001 - paging must not undo what started it
        log.exception("timer %s: firing in the starting transaction failed", timer_id)


@transaction.atomic
def escalation_switch(*, actor, incident_id: int, policy_id: int, reason: str = "") -> Escalation:
    """Page by another policy (or a fresh copy of the same one, to take in
    its edits): the running escalation stops as "replaced" and a new one
    starts at the first level from a new snapshot. On the timeline."""
    incident = Incident.objects.select_for_update().select_related("category").get(id=incident_id)
    if not actor.has_perm("incidents.command", incident):
        raise NotAllowed(_("Only the commander or an ops manager can change the paging policy."))
    if incident.state in {s.value for s in DONE_STATES}:
        raise ApplicationError(
            _("The incident is over: nobody is paged for it any more."), code="incident_over"
        )
    policy = EscalationPolicy.objects.filter(id=policy_id).first()
    if policy is None:
        raise InvalidInput(_("Choose a policy."), fields={"policy": _("No such policy.")})
    if not policy.levels.exists():
        raise InvalidInput(
            _("This policy has no levels: it would page nobody."),
            fields={"policy": _("No levels.")},
        )
    reason = (reason or "").strip()[:300]
    now = timezone.now()
    for running in Escalation.objects.select_for_update().filter(
        incident=incident, kind=Escalation.Kind.POLICY, state=Escalation.State.ACTIVE
    ):
        _close(running, Escalation.State.REPLACED, now)
        Page.objects.filter(
            escalation=running, state__in=[Page.State.TRIGGERED, Page.State.NOTIFIED]
        ).update(state=Page.State.ESCALATED)
    escalation = Escalation.objects.create(
        incident=incident,
        policy=policy,
        snapshot=policy_snapshot(policy),
        started_at=now,
        started_by=actor,
        reason=reason,
    )
    incident_services.incident_log_page(
        incident_id=incident.id,
        data={
            "action": "policy_switched",
            "names": [str(actor)],
            "policy": policy.name,
            "reason": reason,
        },
    )
    _start_timer(escalation, now)
    return escalation


# --- Paging people by hand ------------------------------------------------------------


@dataclass
class PeoplePaged:
    """What `incident_page_people` did: the ad-hoc escalation (None when
    everyone chosen was skipped), its pages, and who was skipped and why
    (`{"kind": "user"|"schedule", "id", "name", "reason"}`, reason
    "already_paged" or "nobody_on_call")."""

    escalation: Escalation | None
    pages: list[Page] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)


def _ids(values, name: str, errors: dict) -> list[int]:
    try:
        return list(dict.fromkeys(int(v) for v in values or ()))
    except (TypeError, ValueError):
        errors[name] = _("Not a valid choice.")
        return []


def _pageable_people(user_ids: list[int], errors: dict) -> dict:
    User = get_user_model()
    found = {u.id: u for u in User.objects.filter(id__in=user_ids)}
    operations = {r.value for r in OPERATIONS_ROLES}
    problems = []
    for uid in user_ids:
        user = found.get(uid)
        if user is None:
            problems.append(_("No such person (%(id)s).") % {"id": uid})
        elif not user.is_active:
            problems.append(_("%(name)s is no longer active.") % {"name": user})
        elif user.role not in operations:
            problems.append(
                _("%(name)s cannot be paged: only people in operations are.") % {"name": user}
            )
    if problems:
        errors["user_ids"] = " ".join(problems)
    return found


@transaction.atomic
def incident_page_people(
    *, actor, incident_id: int, user_ids=(), schedule_ids=(), message: str = ""
) -> PeoplePaged:
    """Page people now for an incident, beside its policy: each chosen
    person, and whoever is on call now for each chosen schedule, with the
    incident's urgency and through their own notification rules and contact
    methods (retries, fallback, one-tap acknowledge), as a policy page.

    The pages belong to a new "ad hoc" escalation that runs next to the
    policy's (which keeps paging) and has no further steps; it ends when
    every page of it is acknowledged or the incident is over. Whoever
    already has an open page for the incident is skipped (and said so).
    Those who may act on the incident may page; on the timeline."""
    incident = Incident.objects.select_for_update().select_related("category").get(id=incident_id)
    if not actor.has_perm("incidents.act", incident):
        raise NotAllowed(_("Only people working on the incident can page more people."))
    if incident.state in {s.value for s in DONE_STATES}:
        raise ApplicationError(
            _("The incident is over: nobody is paged for it any more."), code="incident_over"
        )
    errors: dict[str, str] = {}
    user_ids = _ids(user_ids, "user_ids", errors)
    schedule_ids = _ids(schedule_ids, "schedule_ids", errors)
    message = (message or "").strip()
    if len(message) > MAX_PAGE_MESSAGE:
        errors["message"] = _("At most %(n)s characters.") % {"n": MAX_PAGE_MESSAGE}
    people = _pageable_people(user_ids, errors)
    schedules = {s.id: s for s in Schedule.objects.filter(id__in=schedule_ids)}
    missing = [sid for sid in schedule_ids if sid not in schedules]
    if missing:
        errors["schedule_ids"] = _("No such schedule (%(ids)s).") % {
            "ids": ", ".join(map(str, missing))
        }
    if not errors and not user_ids and not schedule_ids:
        errors["user_ids"] = _("Choose at least one person or schedule.")
    if errors:
        raise InvalidInput(_("Nobody was paged: check what you chose."), fields=errors)

    now = timezone.now()
    skipped: list[dict] = []
    wanted = list(user_ids)
    for sid in schedule_ids:
        on_call = oncall_user_ids(schedule_id=sid, at=now)
        if not on_call:
            name = schedules[sid].name
            skipped.append(
                {"kind": "schedule", "id": sid, "name": name, "reason": "nobody_on_call"}
            )
        wanted += [uid for uid in on_call if uid not in wanted]
    extra = [uid for uid in wanted if uid not in people]
    if extra:  # people on call: active ones only
        people.update(
            (u.id, u) for u in get_user_model().objects.filter(id__in=extra, is_active=True)
        )
    wanted = [uid for uid in wanted if uid in people]
    waiting = set(
        Page.objects.filter(
            escalation__incident=incident,
            escalation__state=Escalation.State.ACTIVE,
            state__in=[Page.State.TRIGGERED, Page.State.NOTIFIED],
            user_id__in=wanted,
        ).values_list("user_id", flat=True)
    )
    for uid in wanted:
        if uid in waiting:
            skipped.append(
                {"kind": "user", "id": uid, "name": str(people[uid]), "reason": "already_paged"}
            )
    to_page = [uid for uid in wanted if uid not in waiting]
    if not to_page:
        return PeoplePaged(escalation=None, skipped=skipped)
    escalation = Escalation.objects.create(
        incident=incident,
        kind=Escalation.Kind.ADHOC,
        snapshot={
            "name": "",
            "adhoc": True,
            "by": str(actor),
            "message": message,
            "users": user_ids,
            "schedules": schedule_ids,
            "levels": [],
            "repeat": 0,
            "final": [],
        },
        started_at=now,
        started_by=actor,
        reason=message[:300],
    )
    pages = []
    for uid in to_page:
        page = Page.objects.create(escalation=escalation, step=0, user=people[uid], created_at=now)
        _plan_deliveries(page, incident, now)
        pages.append(page)
    incident_services.incident_log_page(
        incident_id=incident.id,
        text=message,
        data={
            "action": "paged_by",
            "names": [str(people[uid]) for uid in to_page],
            "by": str(actor),
            "by_id": actor.id,
            "message": message,
        },
    )
    _fast_send(escalation.id)
    return PeoplePaged(escalation=escalation, pages=pages, skipped=skipped)


# --- Levels another app asks for ---------------------------------------------------

MAX_REQUESTED_LEVELS = 10
MAX_REQUESTED_NAME = 120


def _requested_levels(levels, errors: dict) -> list[dict]:
    """Check the asked-for levels ({"wait_minutes", "user_ids"}, level 1
    first); errors by "levels.<n>.<field>", n counting from 1."""
    if not isinstance(levels, list | tuple) or not levels:
        errors["levels"] = _("Give at least one level.")
        return []
    if len(levels) > MAX_REQUESTED_LEVELS:
        errors["levels"] = _("At most %(n)s levels.") % {"n": MAX_REQUESTED_LEVELS}
        return []
    out = []
    for n, level in enumerate(levels, start=1):
        level = level if isinstance(level, dict) else {}
        try:
            wait = int(level.get("wait_minutes"))
        except (TypeError, ValueError):
            wait = 0
        if wait < 1:
            errors[f"levels.{n}.wait_minutes"] = _("Wait at least one minute.")
        raw = level.get("user_ids")
        field_name = f"levels.{n}.user_ids"
        user_ids = _ids(raw, field_name, errors) if isinstance(raw, list | tuple) else []
        if not user_ids and field_name not in errors:
            errors[field_name] = _("Choose at least one person.")
        out.append({"wait": wait, "user_ids": user_ids})
    return out


@transaction.atomic
def escalation_start_levels(
    *, actor, incident_id: int, name: str, levels, message: str = "", key: str = ""
) -> Escalation | None:
    """Page levels another app asks for (a vendor's own escalation policy),
    beside the incident's policy, exactly as a policy pages: level 1 now,
    each next level after the previous one's wait unless someone of this
    escalation acknowledged (durable timers, the sweep, one-tap acknowledge).

    `levels` is [{"wait_minutes": int >= 1, "user_ids": [int, ...]}, ...],
    level 1 first; `name` is shown on the incident page and timeline; `key`
    (default: the name) makes it idempotent: while an escalation with that
    key is active for the incident, asking again returns it and pages
    nobody new. People no longer active or not in operations are left out
    (they are checked when the levels are set); levels left with nobody are
    dropped, and when none remains nobody is paged (None). Those who may act
    on the incident may ask; on the timeline."""
    incident = Incident.objects.select_for_update().select_related("category").get(id=incident_id)
    if not actor.has_perm("incidents.act", incident):
        raise NotAllowed(_("Only people working on the incident can page more people."))
    if incident.state in {s.value for s in DONE_STATES}:
        raise ApplicationError(
            _("The incident is over: nobody is paged for it any more."), code="incident_over"
        )
    errors: dict[str, str] = {}
    name = (name or "").strip()[:MAX_REQUESTED_NAME]
    key = (key or name).strip()[:200]
    if not name:
        errors["name"] = _("Required.")
    message = (message or "").strip()
    if len(message) > MAX_PAGE_MESSAGE:
        errors["message"] = _("At most %(n)s characters.") % {"n": MAX_PAGE_MESSAGE}
    asked = _requested_levels(levels, errors)
    if errors:
        raise InvalidInput(_("Nobody was paged: check what you chose."), fields=errors)
    for running in Escalation.objects.filter(
        incident=incident, kind=Escalation.Kind.REQUESTED, state=Escalation.State.ACTIVE
    ):
        if running.snapshot.get("key") == key:
            return running
    everyone = {uid for level in asked for uid in level["user_ids"]}
    pageable = set(
        get_user_model()
        .objects.filter(
            id__in=everyone, is_active=True, role__in=[r.value for r in OPERATIONS_ROLES]
        )
        .values_list("id", flat=True)
    )
    if everyone - pageable:
        log.warning(
            "incident %s: %s: left out people who cannot be paged: %s",
            incident.id,
            key,
            sorted(everyone - pageable),
        )
    snapshot_levels = []
    for level in asked:
        ids = [uid for uid in level["user_ids"] if uid in pageable]
        if ids:
            snapshot_levels.append(
                {"wait": level["wait"], "targets": [{"kind": "user", "id": i} for i in ids]}
            )
    if not snapshot_levels:
        log.warning("incident %s: %s: nobody left to page", incident.id, key)
        return None
    now = timezone.now()
    escalation = Escalation.objects.create(
        incident=incident,
        kind=Escalation.Kind.REQUESTED,
        snapshot={
            "policy": None,
            "name": name,
            "key": key,
            "by": str(actor),
            "message": message,
            "levels": snapshot_levels,
            "repeat": 0,
            "final": [],
        },
        started_at=now,
        started_by=actor,
        reason=message[:300],
    )
    incident_services.incident_log_page(
        incident_id=incident.id,
        text=message,
        data={"action": "requested", "name": name, "by": str(actor), "by_id": actor.id},
    )
    _fire_inline(_start_timer(escalation, now))
    return escalation


def _fast_send(escalation_id: int) -> None:
    from escalations.tasks import send_deliveries_task

    transaction.on_commit(
        lambda: send_deliveries_task.apply_async((escalation_id,), queue="critical"), robust=True
    )


def _fast_fire(timer_id: int) -> None:
    from escalations.tasks import fire_timer_task

    transaction.on_commit(
        lambda: fire_timer_task.apply_async((timer_id,), queue="critical"), robust=True
    )


def _rules_for(user_id: int) -> tuple[Rule, ...]:
    return tuple(
        Rule(r.channel, r.delay_minutes, Urgency(r.urgency))
        for r in NotificationRule.objects.filter(user_id=user_id)
    )


def _plan_deliveries(page: Page, incident: Incident, now: datetime) -> list[int]:
    methods = {
        m.channel: m for m in ContactMethod.objects.filter(user_id=page.user_id, enabled=True)
    }
    quiet = None
    hours = QuietHours.objects.filter(user_id=page.user_id, enabled=True).first()
    if hours is not None:
        quiet = QuietHoursRule(hours.start, hours.end, page.user.time_zone)
    plan = plan_notifications(
        _rules_for(page.user_id),
        paged_at=now,
        urgency=urgency_for(incident.severity),
        highest_severity=incident.severity in HIGHEST,
        quiet=quiet,
    )
    made = []
    for i, (channel, at) in enumerate(plan):
        if channel != "app" and channel not in methods:
            continue  # no contact method for this channel: skip it, the others still go
        method = methods.get(channel)
        delivery = Delivery.objects.create(
            page=page,
            channel=channel,
            destination=method.address if method else "",
            due_at=at,
            idempotency_key=f"page-{page.id}-{i}-{channel}",
            hinted_until=now + HINT_GRACE if at <= now else None,
        )
        made.append(delivery.id)
    if not made:  # never leave a page with no way to reach the person
        made.append(
            Delivery.objects.create(
                page=page,
                channel="app",
                due_at=now,
                idempotency_key=f"page-{page.id}-app",
                hinted_until=now + HINT_GRACE,
            ).id
        )
    return made


@transaction.atomic
def timer_fire(*, timer_id: int) -> bool:
    """Fire one escalation step exactly once. Returns whether it fired."""
    timer = Timer.objects.select_for_update().get(id=timer_id)
    if timer.state != Timer.State.PENDING:
        return False
    escalation = (
        Escalation.objects.select_for_update()
        .select_related("incident")
        .get(id=timer.escalation_id)
    )
    now = timezone.now()
    if escalation.state != Escalation.State.ACTIVE or escalation.step != timer.step:
        timer.state = Timer.State.CANCELLED
        timer.save(update_fields=["state"])
        return False
    timer.state, timer.fired_at = Timer.State.FIRED, now
    timer.save(update_fields=["state", "fired_at"])
    policy = to_domain(escalation.snapshot)
    step = step_at(policy, timer.step)
    incident = escalation.incident
    if step is None:
        escalation.state, escalation.ended_at = Escalation.State.EXHAUSTED, now
        escalation.save(update_fields=["state", "ended_at"])
        incident_services.incident_log_page(
            incident_id=incident.id, data={"action": "exhausted", **_asker_name(escalation)}
        )
        return True
    Page.objects.filter(
        escalation=escalation, state__in=[Page.State.TRIGGERED, Page.State.NOTIFIED]
    ).update(state=Page.State.ESCALATED)
    user_ids = sorted({uid for target in step.targets for uid in resolve_target(target, at=now)})
    users = {u.id: u for u in get_user_model().objects.filter(id__in=user_ids)}
    for uid in user_ids:
        page, created = Page.objects.get_or_create(
            escalation=escalation, step=step.number, user=users[uid]
        )
        if created:
            _plan_deliveries(page, incident, now)
    escalation.step = step.number + 1
    escalation.save(update_fields=["step"])
    Timer.objects.get_or_create(
        escalation=escalation,
        kind=Timer.Kind.ESCALATE,
        step=escalation.step,
        defaults={"due_at": next_due(step, now, resolved_count=len(user_ids))},
    )
    _log_step(incident, step, [str(users[u]) for u in user_ids], _asker_name(escalation))
    # What is due now is sent by the task that fired this step (or the sweep).
    return True


def _asker_name(escalation: Escalation) -> dict:
    """{"name": ...} for the timeline of an escalation another app asked for."""
    if escalation.kind == Escalation.Kind.REQUESTED:
        return {"name": escalation.snapshot.get("name", "")}
    return {}


def _log_step(incident: Incident, step: Step, names: list[str], extra: dict | None = None) -> None:
    level = "final" if step.final else f"{step.level_index + 1}/{step.round + 1}"
    extra = extra or {}
    if names:
        incident_services.incident_log_page(
            incident_id=incident.id,
            data={"action": "paged", "names": names, "level": level, **extra},
        )
        return
    incident_services.incident_log_page(
        incident_id=incident.id, data={"action": "nobody_to_page", "level": level, **extra}
    )
    commander = incident.role_assignments.filter(role="commander", released_at__isnull=True).first()
    if commander is not None:
        text = _("%(ref)s: level %(level)s had nobody to page.") % {
            "ref": incident.reference,
            "level": level,
        }
        transaction.on_commit(
            lambda: notify_user(commander.user_id, text=text, level="warning"), robust=True
        )


def _close(escalation: Escalation, state: str, now: datetime) -> None:
    escalation.state, escalation.ended_at = state, now
    escalation.save(update_fields=["state", "ended_at", "acknowledged_at", "acknowledged_by"])
    Timer.objects.filter(escalation=escalation, state=Timer.State.PENDING).update(
        state=Timer.State.CANCELLED
    )
    Delivery.objects.filter(page__escalation=escalation, state=Delivery.State.PENDING).update(
        state=Delivery.State.CANCELLED
    )


@transaction.atomic
def page_acknowledge(*, actor, page_id: int) -> Page:
    """Acknowledge: the escalation stops (timers and pending deliveries are
    cancelled), the person joins the incident, and it is on the timeline.

    A page by hand (`incident_page_people`) is a request to one person to
    come and help, not the incident's acknowledgement: acknowledging it
    stops that person's notifications and they join the incident, but the
    policy keeps paging until its own page is acknowledged, and the incident
    is not acknowledged by it. The ad-hoc escalation ends once none of its
    pages waits any more.

    Levels another app asked for (`escalation_start_levels`) are a policy of
    their own: an acknowledgement stops their further levels (not the
    incident's policy, which keeps paging until its own page is
    acknowledged); the person joins and the incident is acknowledged."""
    page = Page.objects.select_for_update().select_related("escalation").get(id=page_id)
    escalation = Escalation.objects.select_for_update().get(id=page.escalation_id)
    if page.user_id != actor.id and not actor.has_perm("incidents.command", escalation.incident):
        raise NotAllowed(_("This page is for someone else."))
    now = timezone.now()
    newly = page.state != Page.State.ACKNOWLEDGED
    if newly:
        page.state, page.acknowledged_at = Page.State.ACKNOWLEDGED, now
        page.save(update_fields=["state", "acknowledged_at"])
    if escalation.kind == Escalation.Kind.ADHOC:
        if newly and escalation.state == Escalation.State.ACTIVE:
            _acknowledge_adhoc(escalation, page, actor, now)
        return page
    if escalation.state == Escalation.State.ACTIVE:
        escalation.acknowledged_at, escalation.acknowledged_by = now, actor
        _close(escalation, Escalation.State.ACKNOWLEDGED, now)
        incident_services.incident_join(actor=actor, incident_id=escalation.incident_id)
        incident_services.incident_acknowledge(actor=actor, incident_id=escalation.incident_id)
        incident_services.incident_log_page(
            incident_id=escalation.incident_id,
            data={"action": "acknowledged", "names": [str(actor)], **_asker_name(escalation)},
        )
    return page


def _acknowledge_adhoc(escalation: Escalation, page: Page, actor, now: datetime) -> None:
    Delivery.objects.filter(page=page, state=Delivery.State.PENDING).update(
        state=Delivery.State.CANCELLED
    )
    if not escalation.pages.filter(state__in=[Page.State.TRIGGERED, Page.State.NOTIFIED]).exists():
        escalation.acknowledged_at, escalation.acknowledged_by = now, actor
        _close(escalation, Escalation.State.ACKNOWLEDGED, now)
    # The paged person joins (also when the commander acknowledges for them).
    if page.user.has_perm("incidents.join"):
        incident_services.incident_join(actor=page.user, incident_id=escalation.incident_id)
    incident_services.incident_log_page(
        incident_id=escalation.incident_id,
        data={"action": "acknowledged", "names": [str(page.user)], "adhoc": True},
    )


@transaction.atomic
def escalations_resolve(*, incident_id: int) -> int:
    """The incident is done: every active escalation stops. Returns how many."""
    now = timezone.now()
    count = 0
    for escalation in Escalation.objects.select_for_update().filter(
        incident_id=incident_id, state=Escalation.State.ACTIVE
    ):
        _close(escalation, Escalation.State.RESOLVED, now)
        Page.objects.filter(escalation=escalation).exclude(state=Page.State.ACKNOWLEDGED).update(
            state=Page.State.RESOLVED
        )
        count += 1
    return count


# --- Deliveries ------------------------------------------------------------------


def _lease() -> timedelta:
    """A claimed delivery whose worker died is retried after this."""
    return timedelta(seconds=settings.ESCALATION_DELIVERY_LEASE_SECONDS)


def ack_token(page_id: int) -> str:
    return signing.TimestampSigner(salt=ACK_SALT).sign(str(page_id))


def page_from_token(token: str) -> Page | None:
    try:
        page_id = int(signing.TimestampSigner(salt=ACK_SALT).unsign(token, max_age=ACK_MAX_AGE))
    except (signing.BadSignature, ValueError):
        return None
    return Page.objects.select_related("escalation__incident", "user").filter(id=page_id).first()


def _open(delivery: Delivery) -> bool:
    return (
        delivery.page.escalation.state == Escalation.State.ACTIVE
        and delivery.page.state != Page.State.ACKNOWLEDGED
    )


def _claim(delivery_id: int, now: datetime) -> Delivery | None:
    """Take a due delivery under its row lock and lease it; None if it is not
    due, already taken, or its page no longer needs it (cancelled then). A
    destination over its rate keeps the delivery pending until a slot frees
    (it is then bundled with whatever else waits for that destination)."""
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(skip_locked=True)
            .select_related("page__escalation__incident", "page__user")
            .filter(id=delivery_id, state=Delivery.State.PENDING, due_at__lte=now)
            .first()
        )
        if delivery is None:
            return None
        if not _open(delivery):
            delivery.state = Delivery.State.CANCELLED
            delivery.save(update_fields=["state"])
            return None
        free_at = _throttled_until(delivery, now)
        if free_at is not None:
            delivery.due_at, delivery.hinted_until = free_at, None
            delivery.save(update_fields=["due_at", "hinted_until"])
            return None
        delivery.attempts += 1
        delivery.due_at = now + _lease()
        delivery.save(update_fields=["attempts", "due_at"])
        return delivery


def _rate(channel: str) -> tuple[int, int] | None:
    """(messages, per seconds) allowed to one destination of a channel."""
    rate = settings.ESCALATION_THROTTLE.get(channel)
    return tuple(rate) if rate else None


def _throttled_until(delivery: Delivery, now: datetime) -> datetime | None:
    """When the destination may be sent to again, or None if it may now."""
    rate = _rate(delivery.channel)
    if rate is None or not delivery.destination:
        return None
    limit, seconds = rate
    window = timedelta(seconds=seconds)
    recent = list(
        Delivery.objects.filter(
            channel=delivery.channel,
            destination=delivery.destination,
            sent_at__gt=now - window,
            bundled_into__isnull=True,
        )
        .order_by("-sent_at")
        .values_list("sent_at", flat=True)[:limit]
    )
    if len(recent) < limit:
        return None
    return recent[-1] + window


def _claim_bundle(primary: Delivery, now: datetime) -> list[Delivery]:
    """Other due deliveries to the same destination, leased to go in one
    message with `primary` (human-read channels only: a webhook consumer
    gets one payload per page)."""
    if _rate(primary.channel) is None or not primary.destination:
        return []
    with transaction.atomic():
        others = list(
            Delivery.objects.select_for_update(skip_locked=True)
            .select_related("page__escalation__incident", "page__user")
            .filter(
                channel=primary.channel,
                destination=primary.destination,
                state=Delivery.State.PENDING,
                due_at__lte=now,
            )
            .exclude(id=primary.id)
            .order_by("due_at", "id")[:20]
        )
        bundle = []
        for other in others:
            if not _open(other):
                other.state = Delivery.State.CANCELLED
                other.save(update_fields=["state"])
                continue
            other.due_at = now + _lease()
            other.save(update_fields=["due_at"])
            bundle.append(other)
        return bundle


def _message(delivery: Delivery, bundle: list[Delivery] = ()) -> Message:
    incident = delivery.page.escalation.incident
    base = settings.TSCC_BASE_URL.rstrip("/")
    ack_url = f"{base}/escalations/ack/{ack_token(delivery.page_id)}/"
    title = f"[{incident.severity.upper()}] {incident.reference}"
    text = incident.display_title
    escalation = delivery.page.escalation
    if escalation.kind == Escalation.Kind.ADHOC and escalation.snapshot.get("message"):
        text += f"\n{escalation.snapshot.get('by', '')}: {escalation.snapshot['message']}"
    elif escalation.kind == Escalation.Kind.REQUESTED:
        text += f"\n{escalation.snapshot.get('name', '')}"
        if escalation.snapshot.get("message"):
            text += f": {escalation.snapshot['message']}"
    if bundle:  # the primary's ack link is the message's own; each other page adds its own
        title += f" (+{len(bundle)})"
        lines = [text]
        for other in bundle:
            inc = other.page.escalation.incident
            lines.append(f"+ [{inc.severity.upper()}] {inc.reference} {inc.display_title}")
            lines.append(f"  ✓ {base}/escalations/ack/{ack_token(other.page_id)}/")
        lines.append(f"⋯ {base}/escalations/pages/")
        text = "\n".join(lines)
    return Message(
        title=title,
        text=text,
        url=f"{base}/incidents/{incident.id}/",
        ack_url=ack_url,
        idempotency_key=delivery.idempotency_key,
    )


def delivery_send(*, delivery_id: int, now: datetime | None = None) -> bool:
    """Send one due delivery (at most once at a time; retried with backoff),
    with any other deliveries due to the same destination in one message."""
    now = now or timezone.now()
    delivery = _claim(delivery_id, now)
    if delivery is None:
        return False
    bundle = _claim_bundle(delivery, now)
    method = ContactMethod.objects.filter(
        user_id=delivery.page.user_id, channel=delivery.channel, enabled=True
    ).first()
    target = Target(delivery.page.user_id, delivery.destination, method.secret if method else "")
    try:
        provider_id = adapter_for(delivery.channel)(target, _message(delivery, bundle))
    except (DeliveryError, KeyError) as exc:
        _record_failure(delivery.id, str(exc)[:300], now, bundle)
        return False
    except Exception as exc:  # noqa: BLE001 - one bad adapter must not stop the sweep
        log.exception("delivery %s: unexpected adapter error", delivery.id)
        _record_failure(delivery.id, type(exc).__name__, now, bundle)
        return False
    with transaction.atomic():
        sent_at = timezone.now()
        d = Delivery.objects.select_for_update().get(id=delivery.id)
        d.state, d.sent_at, d.provider_id = Delivery.State.SENT, sent_at, provider_id[:200]
        d.save(update_fields=["state", "sent_at", "provider_id"])
        DeliveryAttempt.objects.create(delivery=d, ok=True, provider_id=provider_id[:200])
        ids = [b.id for b in bundle]
        Delivery.objects.filter(id__in=ids).update(
            state=Delivery.State.SENT, sent_at=sent_at, provider_id=d.provider_id, bundled_into=d
        )
        DeliveryAttempt.objects.bulk_create(
            DeliveryAttempt(
                delivery_id=i,
                ok=True,
                provider_id=d.provider_id,
                detail=f"bundled with delivery {d.id}",
            )
            for i in ids
        )
        Page.objects.filter(
            id__in=[d.page_id, *(b.page_id for b in bundle)], state=Page.State.TRIGGERED
        ).update(state=Page.State.NOTIFIED)
    return True


def _record_failure(
    delivery_id: int, error: str, now: datetime, bundle: list[Delivery] = ()
) -> None:
    log.warning("delivery %s failed: %s", delivery_id, error)
    with transaction.atomic():
        d = Delivery.objects.select_for_update().get(id=delivery_id)
        DeliveryAttempt.objects.create(delivery=d, ok=False, detail=error)
        d.last_error = error
        if d.attempts >= MAX_ATTEMPTS:
            d.state = Delivery.State.FAILED
            if d.channel != "app":  # fall back to the channel that needs no provider
                Delivery.objects.get_or_create(
                    idempotency_key=f"{d.idempotency_key}-fallback",
                    defaults={"page_id": d.page_id, "channel": "app", "due_at": timezone.now()},
                )
        else:
            d.due_at = now + timedelta(seconds=min(300, 5 * 2 ** (d.attempts - 1)))
        d.save(update_fields=["state", "due_at", "last_error"])
        # The bundled ones were not attempts of their own: due again at once
        # (they go alone, or with the next message to this destination).
        Delivery.objects.filter(id__in=[b.id for b in bundle], state=Delivery.State.PENDING).update(
            due_at=now
        )


# --- Sweeps ------------------------------------------------------------------------


def send_due_for_timer(*, timer_id: int) -> int:
    """Send the deliveries a just-fired step made due now (the fast path:
    no second task hop). The sweep covers anything this misses."""
    escalation_id = (
        Timer.objects.filter(id=timer_id).values_list("escalation_id", flat=True).first()
    )
    return send_due_for_escalation(escalation_id=escalation_id)


def send_due_for_escalation(*, escalation_id: int) -> int:
    """Send an escalation's deliveries that are due now (the fast path)."""
    ids = Delivery.objects.filter(
        page__escalation_id=escalation_id, state=Delivery.State.PENDING, due_at__lte=timezone.now()
    ).values_list("id", flat=True)
    return sum(delivery_send(delivery_id=d) for d in list(ids))


def sweep(*, now: datetime | None = None, limit: int = 200) -> tuple[int, int]:
    """Fire due timers and send due deliveries. The safety net under the
    on-commit fast path; beat runs it every second. What a fast-path task
    was just handed is left to it for HINT_GRACE, so the two do not race
    for fresh work (the task is quicker; the sweep takes over if it is lost)."""
    now = now or timezone.now()
    unhinted = Q(hinted_until__isnull=True) | Q(hinted_until__lte=now)
    timer_ids = list(
        Timer.objects.filter(unhinted, state=Timer.State.PENDING, due_at__lte=now)
        .order_by("due_at")
        .values_list("id", flat=True)[:limit]
    )
    fired, sent = 0, 0
    for timer_id in timer_ids:
        if timer_fire(timer_id=timer_id):
            fired += 1
            sent += send_due_for_timer(timer_id=timer_id)
    delivery_ids = list(
        Delivery.objects.filter(unhinted, state=Delivery.State.PENDING, due_at__lte=now)
        .order_by("due_at")
        .values_list("id", flat=True)[:limit]
    )
    sent += sum(delivery_send(delivery_id=d, now=now) for d in delivery_ids)
    return fired, sent
