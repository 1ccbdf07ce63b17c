"""Automatic trouble: a queue breached or projected to breach within the
hour, a queue with no report during its staffed shift, or a site going
down opens an incident, or updates the one already open for it.

Each kind of trouble has a key: `queue:<id>` (breach or projected breach),
`stale:<id>` (no report) and `site:<id>` (site down). The incident is
linked to the vendor by an IncidentImpact carrying the key; while that
incident is open, the same trouble adds a timeline note (at most one per
30 minutes per key, or at once when a site's status changed) instead of a
new incident. Once it is resolved, closed, cancelled or merged, the next
trouble opens a new incident.

Queue troubles (breach, projected breach, no report) of one vendor share an
incident: while any trouble incident of the vendor is open (its queues' or
a site's down), a new queue trouble joins it (an IncidentImpact with its
own key, and a note naming the queue and its figures) instead of opening
and paging another one. A site where a whole floor stopped would otherwise
page once per queue. A site down still opens its own incident (SEV2, above
a queue's SEV3) unless that site's is open, and a queue's second kind of
trouble (no report while breached) gets its own (an incident names a queue
once). The vendor row is locked while looking (FOR NO KEY UPDATE, which
foreign-key checks do not wait for), so two queues troubled at once open
one incident.

The queue (or site) row is locked while deciding, so two posts for the same
queue cannot both open an incident. Incidents are declared in the name of
the vendor's owner (an ops person; the vendor has none: a logged warning,
no incident), with the vendor's team as owning team, so escalations'
routing rules page that team's policy; the vendor's own escalation policy
(its levels) is asked for beside it, through incident_paging_requested,
once per incident. The vendor's leads get an in-app notice after commit.

Severity follows the rubric's operations dimension: a queue's trouble is
"one queue degraded" (1 -> SEV3), a site down is "partial vendor outage"
(2 -> SEV2)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from incidents.domain.severity import ImpactAnswers
from incidents.events import on_commit_notify
from incidents.models import Category, Incident, Market
from incidents.services import Declaration, incident_add_note, incident_declare
from incidents.signals import incident_paging_requested, send_on_commit
from tscc.exceptions import ApplicationError
from vendors.domain.health import Health, Level, Reason, SiteStatus
from vendors.models import IncidentImpact, Queue, QueueSnapshot, Site, Vendor, VendorMembership

logger = logging.getLogger(__name__)

TROUBLE_CATEGORY = "vendor_outage"
NOTE_EVERY = timedelta(minutes=30)
QUEUE_ANSWERS = ImpactAnswers(operations=1)  # "one queue degraded": SEV3
SITE_ANSWERS = ImpactAnswers(operations=2)  # "partial vendor outage": SEV2


def queue_trouble_key(queue_id: int) -> str:
    return f"queue:{queue_id}"


def stale_trouble_key(queue_id: int) -> str:
    return f"stale:{queue_id}"


def site_trouble_key(site_id: int) -> str:
    return f"site:{site_id}"


# --- texts ---------------------------------------------------------------------


def _pct(value: float) -> str:
    return f"{value:.1f}%"


def queue_figures_text(queue: Queue, snapshot: QueueSnapshot | None, health: Health) -> str:
    """One line on a queue's state for a timeline note or incident summary."""
    if snapshot is None:
        return _("no figures reported")
    parts = [
        _("attainment %(value)s (target %(target)s in %(minutes)d min)")
        % {
            "value": _pct(snapshot.sla_attainment),
            "target": _pct(queue.sla_percent),
            "minutes": queue.sla_minutes,
        },
        _("backlog %(count)d") % {"count": snapshot.backlog},
        _("oldest %(minutes)d min") % {"minutes": round(snapshot.oldest_item_minutes)},
        _("staffed %(staffed)d/%(planned)d")
        % {"staffed": snapshot.staffed_headcount, "planned": snapshot.planned_headcount},
    ]
    minutes = health.projected_breach_minutes
    if minutes is not None and minutes > 0 and Reason.PROJECTED_BREACH in health.reasons:
        parts.append(_("projected breach in %(minutes)d min") % {"minutes": round(minutes)})
    return ", ".join(parts)


def _queue_label(queue: Queue) -> tuple[str, str]:
    vendor = queue.vendor
    return (
        f"{vendor.name} / {queue.name}",
        f"{vendor.name_zh or vendor.name} / {queue.name_zh or queue.name}",
    )


# --- the shared path ----------------------------------------------------------


def _lead_ids(vendor: Vendor) -> list[int]:
    return list(
        VendorMembership.objects.filter(
            vendor=vendor, role=VendorMembership.Role.LEAD, user__is_active=True
        ).values_list("user_id", flat=True)
    )


def _escalation_levels(vendor: Vendor) -> list[dict]:
    """The vendor's escalation policy as incident_paging_requested takes it."""
    from vendors.selectors import vendor_escalation_levels

    return [
        {"wait_minutes": level.wait_minutes, "user_ids": [u.id for u in level.users.all()]}
        for level in vendor_escalation_levels(vendor=vendor)
    ]


def _raise_trouble(
    *,
    key: str,
    vendor: Vendor,
    now: datetime,
    title: str,
    title_zh: str,
    summary: str,
    note: str,
    answers: ImpactAnswers,
    queue: Queue | None = None,
    site: Site | None = None,
    market: str = "",
    note_now: bool = False,
    join_vendor: bool = False,
    join_note: str = "",
) -> Incident | None:
    """Open an incident for `key`, or note on the open one (at most every
    NOTE_EVERY unless `note_now`). With `join_vendor`, a new trouble joins
    the vendor's open trouble incident (noting `join_note`) rather than
    opening one. The caller holds the queue or site lock."""
    from vendors.selectors import open_trouble, open_vendor_trouble

    owner = vendor.owner
    impact = open_trouble(key)
    if impact is None and join_vendor and queue is not None:
        # One at a time per vendor. NO KEY: the lock must not hold up the
        # foreign-key checks of other writes that name the vendor (a site
        # going down links its incident to it), which would deadlock.
        Vendor.objects.select_for_update(no_key=True).filter(id=vendor.id).first()
        impact = open_trouble(key)  # joined while we waited for the lock
        shared = None
        if impact is None:
            # Not one that already names this queue (for another of its
            # troubles): that trouble gets an incident of its own.
            shared = open_vendor_trouble(vendor.id, queue_id=queue.id)
        if shared is not None:
            return _join(
                shared, key=key, vendor=vendor, queue=queue, site=site, now=now, note=join_note
            )
    if impact is not None:
        due = impact.trouble_noted_at is None or now - impact.trouble_noted_at >= NOTE_EVERY
        if not (due or note_now):
            return impact.incident
        if owner is None or not owner.is_active:
            logger.warning("vendors: trouble %s: vendor %s has no owner to note it", key, vendor.id)
            return impact.incident
        try:
            incident_add_note(actor=owner, incident_id=impact.incident_id, text=note)
        except ApplicationError as error:
            logger.warning("vendors: trouble %s: note refused: %s", key, error.message)
            return impact.incident
        IncidentImpact.objects.filter(id=impact.id).update(trouble_noted_at=now)
        return impact.incident
    if owner is None or not owner.is_active:
        logger.warning(
            "vendors: trouble %s: vendor %s has no active owner; no incident declared",
            key,
            vendor.id,
        )
        return None
    try:
        incident = incident_declare(
            actor=owner,
            declaration=Declaration(
                title=title[:200],
                title_zh=title_zh[:200],
                summary=summary,
                category=Category.objects.get(code=TROUBLE_CATEGORY),
                answers=answers,
                discovered_at=min(now, timezone.now()),
                team=vendor.team,
                markets=Market.objects.filter(code=market) if market else [],
            ),
        )
    except (ApplicationError, Category.DoesNotExist) as error:
        logger.warning(
            "vendors: trouble %s: could not declare as %s: %s",
            key,
            owner.id,
            getattr(error, "message", error),
        )
        return None
    IncidentImpact.objects.create(
        incident=incident,
        vendor=vendor,
        queue=queue,
        site=site,
        trouble_key=key,
        trouble_noted_at=now,
        created_at=now,
    )
    levels = _escalation_levels(vendor)
    if levels:
        # The vendor's own policy, beside the team's; escalations does the paging.
        send_on_commit(
            incident_paging_requested,
            incident_id=incident.id,
            actor_id=owner.id,
            levels=levels,
            name=_("Vendor %(name)s escalation") % {"name": vendor.display_name},
            key=f"vendor:{vendor.id}",
            message=summary[:500],
        )
    on_commit_notify(
        _lead_ids(vendor),
        text=_("%(reference)s opened: %(title)s")
        % {"reference": incident.reference, "title": incident.title},
        level="warning",
    )
    logger.info("vendors: trouble %s opened incident %s", key, incident.id)
    return incident


def _join(
    shared: IncidentImpact,
    *,
    key: str,
    vendor: Vendor,
    queue: Queue | None,
    site: Site | None,
    now: datetime,
    note: str,
) -> Incident:
    """Link the trouble `key` to the vendor's open trouble incident and say
    so on its timeline (no new incident, no new page)."""
    IncidentImpact.objects.create(
        incident_id=shared.incident_id,
        vendor=vendor,
        queue=queue,
        site=site,
        trouble_key=key,
        trouble_noted_at=now,
        created_at=now,
    )
    owner = vendor.owner
    if owner is not None and owner.is_active:
        try:
            incident_add_note(actor=owner, incident_id=shared.incident_id, text=note)
        except ApplicationError as error:
            logger.warning("vendors: trouble %s: note refused: %s", key, error.message)
    logger.info("vendors: trouble %s joined incident %s", key, shared.incident_id)
    return shared.incident


# --- queues ----------------------------------------------------------------------


def _queue_locked(queue_id: int) -> Queue | None:
    return (
        # NO KEY: snapshots being inserted for the queue check their foreign
        # key against it and need not wait for a trouble decision.
        Queue.objects.select_for_update(of=("self",), no_key=True)
        .select_related("vendor__owner", "vendor__team", "site")
        .filter(id=queue_id, is_active=True, vendor__is_active=True)
        .first()
    )


@transaction.atomic
def queue_trouble_evaluate(*, queue_id: int, now: datetime | None = None) -> Incident | None:
    """Check one queue's latest figures: breached or projected to breach
    within the hour opens or updates its `queue:<id>` incident. Returns the
    incident concerned, or None (healthy, or no owner to declare as)."""
    from vendors.selectors import health_of, latest_snapshots

    now = now or timezone.now()
    queue = _queue_locked(queue_id)
    if queue is None:
        return None
    snapshot = latest_snapshots([queue.id]).get(queue.id)
    health = health_of(queue, snapshot, now)
    if not health.is_trouble or health.level is Level.STALE:
        return None
    figures = queue_figures_text(queue, snapshot, health)
    label, label_zh = _queue_label(queue)
    breached = health.level is Level.BREACH
    return _raise_trouble(
        key=queue_trouble_key(queue.id),
        vendor=queue.vendor,
        now=now,
        # Titles in English and Chinese whatever the language of the request
        # that raised the trouble (English is the catalogue's source).
        title=f"{label}: SLA breached" if breached else f"{label}: SLA breach projected",
        title_zh=f"{label_zh}：{'SLA 未达标' if breached else '预计 SLA 即将未达标'}",
        summary=figures,
        note=(_("Still breached: %(figures)s") if breached else _("Still at risk: %(figures)s"))
        % {"figures": figures},
        answers=QUEUE_ANSWERS,
        queue=queue,
        site=queue.site,
        market=queue.market,
        join_vendor=True,
        join_note=(
            _("Also breached: %(queue)s: %(figures)s")
            if breached
            else _("Also at risk: %(queue)s: %(figures)s")
        )
        % {"queue": label, "figures": figures},
    )


def queues_trouble_evaluate(*, queue_ids: Iterable[int], now: datetime | None = None) -> list[int]:
    """Check many queues at once (after an import): their health in three
    queries, then queue_trouble_evaluate, each in its own transaction, for
    the troubled ones only. Returns the ids of the incidents concerned."""
    from vendors.selectors import health_of, latest_snapshots

    now = now or timezone.now()
    queues = list(
        Queue.objects.filter(id__in=list(queue_ids), is_active=True).select_related("site")
    )
    latest = latest_snapshots(q.id for q in queues)
    incident_ids = []
    for queue in queues:
        if not health_of(queue, latest.get(queue.id), now).is_trouble:
            continue
        try:
            incident = queue_trouble_evaluate(queue_id=queue.id, now=now)
        except Exception:
            logger.exception("vendors: trouble check of queue %s failed", queue.id)
            continue
        if incident is not None:
            incident_ids.append(incident.id)
    return incident_ids


@transaction.atomic
def _stale_trouble(queue_id: int, now: datetime) -> Incident | None:
    from vendors.selectors import health_of, latest_snapshots

    queue = _queue_locked(queue_id)
    if queue is None:
        return None
    snapshot = latest_snapshots([queue.id]).get(queue.id)
    if health_of(queue, snapshot, now).level is not Level.STALE:
        return None
    label, label_zh = _queue_label(queue)
    since = (
        _("last figures for %(time)s UTC") % {"time": f"{snapshot.taken_at:%Y-%m-%d %H:%M}"}
        if snapshot
        else _("no figures ever reported")
    )
    text = _("No report for %(minutes)d minutes during the staffed shift (%(since)s).") % {
        "minutes": queue.stale_after_minutes,
        "since": since,
    }
    return _raise_trouble(
        key=stale_trouble_key(queue.id),
        vendor=queue.vendor,
        now=now,
        title=f"{label}: no status report",
        title_zh=f"{label_zh}：未按时报送状态",
        summary=text,
        note=_("Still no report: %(text)s") % {"text": text},
        answers=QUEUE_ANSWERS,
        queue=queue,
        site=queue.site,
        market=queue.market,
        join_vendor=True,
        join_note=_("Also no report: %(queue)s: %(text)s") % {"queue": label, "text": text},
    )


def stale_reports_check(*, now: datetime | None = None) -> list[int]:
    """The periodic sweep (Celery beat, every minute): every active queue in
    its staffed shift with no snapshot for its stale_after_minutes opens or
    updates its `stale:<id>` incident. Health of all queues in three
    queries; each stale queue in its own transaction. Returns incident ids."""
    from vendors.selectors import health_of, latest_snapshots

    now = now or timezone.now()
    queues = list(
        Queue.objects.filter(is_active=True, vendor__is_active=True).select_related("site")
    )
    latest = latest_snapshots(q.id for q in queues)
    incident_ids = []
    for queue in queues:
        if health_of(queue, latest.get(queue.id), now).level is not Level.STALE:
            continue
        try:
            incident = _stale_trouble(queue.id, now)
        except Exception:
            logger.exception("vendors: stale check of queue %s failed", queue.id)
            continue
        if incident is not None:
            incident_ids.append(incident.id)
    return incident_ids


# --- sites -------------------------------------------------------------------------


@transaction.atomic
def site_trouble_evaluate(*, site_id: int, now: datetime | None = None) -> Incident | None:
    """A site that is down opens or updates its `site:<id>` incident; a site
    back up (or degraded, or on its continuity plan) notes its new status on
    the open incident, once per change."""
    from vendors.models import SITE_STATUS_LABELS
    from vendors.selectors import open_trouble

    now = now or timezone.now()
    site = (
        Site.objects.select_for_update(of=("self",), no_key=True)
        .select_related("vendor__owner", "vendor__team")
        .filter(id=site_id)
        .first()
    )
    if site is None:
        return None
    key = site_trouble_key(site.id)
    changed_since_note = False
    impact = open_trouble(key)
    if impact is not None and site.status_changed_at is not None:
        changed_since_note = (
            impact.trouble_noted_at is None or impact.trouble_noted_at < site.status_changed_at
        )
    status = SiteStatus(site.status)
    status_text = _("%(status)s since %(time)s UTC") % {
        "status": SITE_STATUS_LABELS[status],
        "time": f"{site.status_changed_at or now:%Y-%m-%d %H:%M}",
    }
    if site.status_reason:
        status_text += f": {site.status_reason}"
    if status is not SiteStatus.DOWN:
        if impact is None or not changed_since_note:
            return None
        return _raise_trouble(
            key=key,
            vendor=site.vendor,
            now=now,
            title="",
            title_zh="",
            summary="",
            note=_("Site status: %(status)s") % {"status": status_text},
            answers=SITE_ANSWERS,
            note_now=True,
        )
    vendor = site.vendor
    return _raise_trouble(
        key=key,
        vendor=vendor,
        now=now,
        title=f"{vendor.name} site {site.name} ({site.city}) is down",
        title_zh=(
            f"{vendor.name_zh or vendor.name} {site.name_zh or site.name}（{site.city}）基地中断"
        ),
        summary=status_text,
        note=_("Site still down: %(status)s") % {"status": status_text},
        answers=SITE_ANSWERS,
        site=site,
        note_now=changed_since_note,
    )


def trouble_evaluate(
    *, queue_id: int | None = None, site_id: int | None = None, now: datetime | None = None
) -> Incident | None:
    """Check one queue or one site for trouble (see the module docstring)."""
    assert (queue_id is None) != (site_id is None), "give queue_id or site_id"
    if queue_id is not None:
        return queue_trouble_evaluate(queue_id=queue_id, now=now)
    return site_trouble_evaluate(site_id=site_id, now=now)
