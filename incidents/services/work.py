"""Notes, decisions, key facts, tasks, status updates, the review, details."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from incidents.events import on_commit_notify
from incidents.exceptions import Conflict, InvalidInput
from incidents.models import (
    Incident,
    IncidentTask,
    Review,
    StatusUpdate,
    TimelineEvent,
)
from incidents.services.common import ensure, event_of, incident_lock, timeline_append
from incidents.services.declare import check_times
from incidents.services.reports import reports_sync
from incidents.services.timers import next_update_schedule, timers_arm_grading

MAX_TEXT = 20_000


def _text(value: str, field: str, *, required: bool = True, limit: int = MAX_TEXT) -> str:
    value = (value or "").strip()
    if required and not value:
        raise InvalidInput(_("This field is required."), fields={field: _("Required.")})
    if len(value) > limit:
        raise InvalidInput(
            _("Too long."), fields={field: _("At most %(n)s characters.") % {"n": limit}}
        )
    return value


@transaction.atomic
def incident_add_note(
    *, actor, incident_id: int, text: str, occurred_at: datetime | None = None
) -> TimelineEvent:
    """A note on the timeline; `occurred_at` may be earlier (recorded_at is now)."""
    incident = incident_lock(incident_id)
    ensure(actor, "incidents.act", incident)
    text = _text(text, "text")
    if occurred_at is not None and occurred_at > timezone.now() + timedelta(minutes=5):
        raise InvalidInput(
            _("A note cannot happen in the future."), fields={"occurred_at": _("In the future.")}
        )
    return timeline_append(
        incident=incident, kind="note", actor=actor, text=text, occurred_at=occurred_at
    )


@transaction.atomic
def incident_record_decision(
    *,
    actor,
    incident_id: int,
    text: str,
    policy: str = "",
    reason: str = "",
    refers_to_id: int | None = None,
) -> TimelineEvent:
    """The decision log: who decided what, the policy cited, and why. A
    decision taken from an event (a war-room message marked as decision)
    refers to it; that event is its context, so the reason is optional."""
    incident = incident_lock(incident_id)
    ensure(actor, "incidents.act", incident)
    source = event_of(incident, id=refers_to_id) if refers_to_id is not None else None
    text = _text(text, "text")
    reason = _text(reason, "reason", required=source is None)
    data = {"policy": _text(policy, "policy", required=False, limit=300), "reason": reason}
    if source is not None:
        data["seq"] = source.seq
    return timeline_append(
        incident=incident, kind="decision", actor=actor, text=text, data=data, refers_to=source
    )


@transaction.atomic
def incident_pin_fact(
    *, actor, incident_id: int, event_id: int | None = None, text: str = ""
) -> TimelineEvent:
    """Pin an event (or a new note) as a key fact; a pin is itself an event."""
    incident = incident_lock(incident_id)
    ensure(actor, "incidents.act", incident)
    if event_id is None:
        target = timeline_append(
            incident=incident, kind="note", actor=actor, text=_text(text, "text")
        )
    else:
        target = event_of(incident, id=event_id)
    return timeline_append(
        incident=incident,
        kind="fact_pinned",
        actor=actor,
        refers_to=target,
        data={"seq": target.seq},
    )


@transaction.atomic
def incident_unpin_fact(*, actor, incident_id: int, event_id: int) -> TimelineEvent:
    incident = incident_lock(incident_id)
    ensure(actor, "incidents.act", incident)
    target = event_of(incident, id=event_id)
    return timeline_append(
        incident=incident,
        kind="fact_unpinned",
        actor=actor,
        refers_to=target,
        data={"seq": target.seq},
    )


@transaction.atomic
def incident_task_create(
    *,
    actor,
    incident_id: int,
    title: str,
    owner=None,
    due_at: datetime | None = None,
    follow_up: bool = False,
) -> IncidentTask:
    incident = incident_lock(incident_id)
    ensure(actor, "incidents.act", incident)
    task = IncidentTask.objects.create(
        incident=incident,
        title=_text(title, "title", limit=300),
        owner=owner,
        due_at=due_at,
        follow_up=follow_up,
        created_by=actor,
    )
    timeline_append(
        incident=incident,
        kind="task_created",
        actor=actor,
        data={
            "task": task.id,
            "title": task.title,
            "owner": owner.id if owner else None,
            "owner_name": str(owner) if owner else "",
            "follow_up": follow_up,
        },
    )
    if owner is not None and owner.id != actor.id:
        on_commit_notify(
            [owner.id],
            text=_("%(ref)s: you own a task: %(title)s")
            % {"ref": incident.reference, "title": task.title},
        )
    return task


@transaction.atomic
def incident_task_update(
    *,
    actor,
    task_id: int,
    state: str | None = None,
    owner=...,
    due_at=...,
    title: str | None = None,
) -> IncidentTask:
    """Change a task's state, owner, due time or title; recorded on the timeline.
    Follow-ups stay workable after the incident closes."""
    incident_id = IncidentTask.objects.values_list("incident_id", flat=True).get(id=task_id)
    incident = incident_lock(incident_id)
    task = IncidentTask.objects.select_for_update().get(id=task_id)
    ensure(actor, "incidents.act", incident)
    changes = {}
    if state is not None and state != task.state:
        if state not in IncidentTask.State.values:
            raise InvalidInput(_("Unknown task state."), fields={"state": _("Unknown state.")})
        changes["state"] = [task.state, state]
        task.state = state
        task.completed_at = timezone.now() if state == IncidentTask.State.DONE else None
    if owner is not ... and (owner.id if owner else None) != task.owner_id:
        changes["owner"] = [task.owner_id, owner.id if owner else None]
        task.owner = owner
        if owner is not None and owner.id != actor.id:
            on_commit_notify(
                [owner.id],
                text=_("%(ref)s: you own a task: %(title)s")
                % {"ref": incident.reference, "title": task.title},
            )
    if due_at is not ... and due_at != task.due_at:
        changes["due_at"] = [task.due_at and task.due_at.isoformat(), due_at and due_at.isoformat()]
        task.due_at = due_at
    if title is not None and title.strip() != task.title:
        changes["title"] = [task.title, _text(title, "title", limit=300)]
        task.title = title.strip()
    if changes:
        task.save()
        timeline_append(
            incident=incident,
            kind="task_changed",
            actor=actor,
            data={"task": task.id, "title": task.title, "changes": changes},
        )
    return task


@transaction.atomic
def incident_task_claim(*, actor, task_id: int, take_over: bool = False) -> IncidentTask:
    """Make an open task the actor's. Claiming one's own task changes nothing;
    someone else's needs `take_over` (its previous owner is told)."""
    incident_id = IncidentTask.objects.values_list("incident_id", flat=True).get(id=task_id)
    incident = incident_lock(incident_id)
    task = IncidentTask.objects.select_for_update().get(id=task_id)
    ensure(actor, "incidents.act", incident)
    if task.state != IncidentTask.State.OPEN:
        raise InvalidInput(_("Only an open task can be claimed."))
    if task.owner_id == actor.id:
        return task
    previous = task.owner
    if previous is not None and not take_over:
        message = _("Already claimed by %(name)s.") % {"name": previous}
        raise InvalidInput(message, fields={"take_over": message})
    task.owner = actor
    task.save(update_fields=["owner"])
    timeline_append(
        incident=incident,
        kind="task_changed",
        actor=actor,
        data={
            "task": task.id,
            "title": task.title,
            "changes": {"owner": [previous.id if previous else None, actor.id]},
            "claimed": True,
        },
    )
    if previous is not None:
        on_commit_notify(
            [previous.id],
            text=_("%(ref)s: %(name)s took over your task: %(title)s")
            % {"ref": incident.reference, "name": actor, "title": task.title},
        )
    return task


@transaction.atomic
def status_update_publish(
    *, actor, incident_id: int, audience: str, text_en: str = "", text_zh: str = ""
) -> StatusUpdate:
    """Publish a status update. For SEV0 and SEV1 both languages are required;
    otherwise at least one. Sets when the next update is due from the
    severity's cadence."""
    incident = incident_lock(incident_id)
    ensure(actor, "incidents.act", incident)
    if audience not in StatusUpdate.Audience.values:
        raise InvalidInput(_("Choose an audience."), fields={"audience": _("Required.")})
    text_en = _text(text_en, "text_en", required=False)
    text_zh = _text(text_zh, "text_zh", required=False)
    if incident.is_high_severity:
        missing = {
            f: _("Required for SEV0 and SEV1.")
            for f, v in (("text_en", text_en), ("text_zh", text_zh))
            if not v
        }
        if missing:
            raise InvalidInput(
                _("A SEV0 or SEV1 update needs both English and Chinese before it is published."),
                fields=missing,
            )
    elif not (text_en or text_zh):
        raise InvalidInput(
            _("Write the update in English or Chinese."),
            fields={"text_en": _("Required."), "text_zh": _("Required.")},
        )
    now = timezone.now()
    if incident.is_open:
        next_update_schedule(incident, since=now)
    update = StatusUpdate.objects.create(
        incident=incident,
        audience=audience,
        text_en=text_en,
        text_zh=text_zh,
        severity=incident.severity,
        state=incident.state,
        author=actor,
        published_at=now,
        next_update_due_at=incident.next_update_due_at if incident.is_open else None,
    )
    timeline_append(
        incident=incident,
        kind="status_update",
        actor=actor,
        data={
            "update": update.id,
            "audience": audience,
            "text_en": text_en,
            "text_zh": text_zh,
            "next_due": update.next_update_due_at and update.next_update_due_at.isoformat(),
        },
    )
    return update


REVIEW_FIELDS = (
    "summary",
    "impact",
    "root_cause",
    "contributing_factors",
    "went_well",
    "went_badly",
    "lessons",
)
REVIEW_REQUIRED_TO_PUBLISH = ("summary", "impact", "root_cause")


@transaction.atomic
def review_save(
    *, actor, incident_id: int, owner=..., close_waiver: str | None = None, **fields
) -> Review:
    """Create or edit the post-incident review. A published review is final;
    a close waiver needs the commander or an ops manager."""
    incident = incident_lock(incident_id)
    ensure(actor, "incidents.act", incident)
    review, _created = Review.objects.get_or_create(incident=incident)
    if review.state == Review.State.PUBLISHED:
        raise Conflict(
            _("The review is published; it can no longer change."), code="review_published"
        )
    unknown = set(fields) - set(REVIEW_FIELDS)
    assert not unknown, f"unknown review fields: {unknown}"
    changed = []
    for name, value in fields.items():
        value = _text(value, name, required=False)
        if value != getattr(review, name):
            setattr(review, name, value)
            changed.append(name)
    if owner is not ... and (owner.id if owner else None) != review.owner_id:
        review.owner = owner
        changed.append("owner")
    if close_waiver is not None and close_waiver.strip() != review.close_waiver:
        ensure(actor, "incidents.command", incident)
        review.close_waiver = close_waiver.strip()
        changed.append("close_waiver")
    if changed or _created:
        review.save()
        timeline_append(
            incident=incident,
            kind="review",
            actor=actor,
            data={"action": "edited", "fields": changed},
        )
    return review


@transaction.atomic
def review_set_state(*, actor, incident_id: int, state: str) -> Review:
    incident = incident_lock(incident_id)
    review, _created = Review.objects.get_or_create(incident=incident)
    ensure(
        actor, "incidents.command" if state == Review.State.PUBLISHED else "incidents.act", incident
    )
    if state not in Review.State.values:
        raise InvalidInput(_("Unknown review state."), fields={"state": _("Unknown state.")})
    if review.state == Review.State.PUBLISHED:
        raise Conflict(
            _("The review is published; it can no longer change."), code="review_published"
        )
    if state == Review.State.PUBLISHED:
        missing = {
            f: _("Required to publish.")
            for f in REVIEW_REQUIRED_TO_PUBLISH
            if not getattr(review, f).strip()
        }
        if missing:
            raise InvalidInput(
                _("Fill in the summary, impact and root cause before publishing."), fields=missing
            )
        review.published_at = timezone.now()
    review.state = state
    review.save()
    timeline_append(
        incident=incident, kind="review", actor=actor, data={"action": "state", "state": state}
    )
    return review


DETAIL_FIELDS = (
    "title",
    "title_zh",
    "summary",
    "war_room_url",
    "is_cii",
    "involves_personal_info",
    "involves_minors",
    "team",
)


@transaction.atomic
def incident_update_details(
    *,
    actor,
    incident_id: int,
    reason: str = "",
    markets=None,
    surfaces=None,
    discovered_at: datetime | None = None,
    harm_started_at=...,
    **fields,
) -> Incident:
    """Edit the descriptive fields. Moving the discovery time moves statutory
    clocks, so it needs a reason; every change is on the timeline as a diff."""
    incident = incident_lock(incident_id)
    ensure(actor, "incidents.act", incident)
    unknown = set(fields) - set(DETAIL_FIELDS)
    assert not unknown, f"unknown detail fields: {unknown}"
    diff = {}
    for name, value in fields.items():
        if name in ("title", "title_zh", "summary"):
            value = _text(
                value, name, required=name == "title", limit=200 if name != "summary" else MAX_TEXT
            )
        old = getattr(incident, name)
        if value != old:
            diff[name] = [getattr(old, "pk", old), getattr(value, "pk", value)]
            setattr(incident, name, value)
    if discovered_at is not None and discovered_at != incident.discovered_at:
        if not reason.strip():
            raise InvalidInput(
                _("Moving the discovery time moves statutory clocks: say why."),
                fields={"reason": _("Required.")},
            )
        diff["discovered_at"] = [incident.discovered_at.isoformat(), discovered_at.isoformat()]
        incident.discovered_at = discovered_at
    if harm_started_at is not ... and harm_started_at != incident.harm_started_at:
        diff["harm_started_at"] = [
            incident.harm_started_at and incident.harm_started_at.isoformat(),
            harm_started_at and harm_started_at.isoformat(),
        ]
        incident.harm_started_at = harm_started_at
    check_times(
        now=timezone.now(),
        discovered_at=incident.discovered_at,
        harm_started_at=incident.harm_started_at,
    )
    for name, values in (("markets", markets), ("surfaces", surfaces)):
        if values is None:
            continue
        before = sorted(getattr(incident, name).values_list("code", flat=True))
        after = sorted(v.code for v in values)
        if before != after:
            getattr(incident, name).set(values)
            diff[name] = [before, after]
    if diff:
        incident.save()
        timeline_append(
            incident=incident,
            kind="details_changed",
            actor=actor,
            text=reason.strip(),
            data={"changes": diff},
        )
        timers_arm_grading(incident)
        reports_sync(incident=incident, actor=actor)
    return incident


@transaction.atomic
def incident_log_page(*, incident_id: int, text: str = "", data: dict) -> TimelineEvent:
    """Record paging on the timeline (called by escalations; no actor: the
    system pages). `data["action"]` says what happened: paged, escalated,
    nobody_to_page, acknowledged, exhausted."""
    incident = incident_lock(incident_id)
    return timeline_append(incident=incident, kind="page", text=text, data=data)
