"""Reads shared by the vendor pages, the portal and the API. Each applies the
permission filter of vendors.rules as a row filter: operations roles and
executives see every vendor, anyone else (a BPO lead) only the vendors they
belong to, and a VendorToken (the API's token auth) only its own vendor.
A lookup of another vendor's object returns None (404 upstream).

Query counts do not depend on the number of rows."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import (
    Avg,
    BigIntegerField,
    Count,
    F,
    Func,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Window,
)
from django.db.models.functions import NullIf, RowNumber, TruncWeek

from incidents.domain.lifecycle import OPEN_STATES
from incidents.models import Incident, StatusUpdate
from tscc.roles import OPERATIONS_ROLES, Role
from vendors.domain.health import Figures, Health, queue_health, vendor_health
from vendors.models import (
    IncidentImpact,
    Queue,
    QueueSnapshot,
    Site,
    SiteStatusChange,
    Vendor,
    VendorMembership,
    VendorToken,
)

SEES_EVERY_VENDOR = frozenset({*OPERATIONS_ROLES, Role.EXECUTIVE})


def sees_every_vendor(user) -> bool:
    return bool(
        user.is_authenticated
        and user.is_active
        and (user.is_superuser or user.role in SEES_EVERY_VENDOR)
    )


def member_vendor_ids(user, *, leads_only: bool = False) -> QuerySet:
    """A subquery of the ids of the vendors `user` belongs to (or leads)."""
    memberships = VendorMembership.objects.filter(user_id=user.pk)
    if leads_only:
        memberships = memberships.filter(role=VendorMembership.Role.LEAD)
    return memberships.values("vendor_id")


def is_member_of(user, vendor_id: int, *, leads_only: bool = False) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    return member_vendor_ids(user, leads_only=leads_only).filter(vendor_id=vendor_id).exists()


def _vendor_filter(user, qs: QuerySet, path: str) -> QuerySet:
    """Rows of `qs` (vendor reached by `path`) the viewer may see. A
    VendorToken as the viewer sees its own vendor's rows only."""
    if isinstance(user, VendorToken):
        if user.revoked_at is not None:
            return qs.none()
        return qs.filter(**{path: user.vendor_id})
    if sees_every_vendor(user):
        return qs
    if not user.is_authenticated or not user.is_active:
        return qs.none()
    return qs.filter(**{f"{path}__in": member_vendor_ids(user)})


def vendors_visible_to(user) -> QuerySet[Vendor]:
    """Vendors `user` may see, by name."""
    return _vendor_filter(user, Vendor.objects.all(), "id")


def sites_visible_to(user) -> QuerySet[Site]:
    return _vendor_filter(user, Site.objects.select_related("vendor"), "vendor_id")


def queues_visible_to(user) -> QuerySet[Queue]:
    return _vendor_filter(user, Queue.objects.select_related("vendor", "site"), "vendor_id")


def snapshots_visible_to(user) -> QuerySet[QueueSnapshot]:
    """Snapshots of queues `user` may see, newest first per queue."""
    return _vendor_filter(
        user, QueueSnapshot.objects.select_related("queue"), "queue__vendor_id"
    ).order_by("-taken_at", "-id")


def site_status_changes_visible_to(user) -> QuerySet[SiteStatusChange]:
    return _vendor_filter(
        user, SiteStatusChange.objects.select_related("site", "changed_by"), "site__vendor_id"
    )


def memberships_visible_to(user) -> QuerySet[VendorMembership]:
    return _vendor_filter(user, VendorMembership.objects.select_related("user"), "vendor_id")


def vendor_for(user, vendor_id: int) -> Vendor | None:
    """The vendor if `user` may see it, else None (404 upstream)."""
    return vendors_visible_to(user).filter(id=vendor_id).first()


def site_for(user, site_id: int) -> Site | None:
    return sites_visible_to(user).filter(id=site_id).first()


def queue_for(user, queue_id: int) -> Queue | None:
    return queues_visible_to(user).filter(id=queue_id).first()


def vendor_tokens(*, vendor: Vendor) -> QuerySet[VendorToken]:
    """A vendor's tokens, newest first (callers check vendors.manage)."""
    return VendorToken.objects.filter(vendor=vendor).select_related("created_by")


def incidents_for_vendor(vendor: Vendor | int) -> QuerySet[Incident]:
    """Incidents linked to the vendor by an IncidentImpact, newest first.
    The BPO lead's limited view: callers show reference, title, severity,
    state and times, not the timeline."""
    vendor_id = getattr(vendor, "pk", vendor)
    linked = IncidentImpact.objects.filter(vendor_id=vendor_id).values("incident_id")
    return (
        Incident.objects.filter(id__in=linked)
        .select_related("category")
        .order_by("-declared_at", "-id")
    )


def vendor_incidents_visible_to(user) -> QuerySet[Incident]:
    """Incidents linked to any vendor `user` may see (the portal's list)."""
    linked = _vendor_filter(user, IncidentImpact.objects.all(), "vendor_id").values("incident_id")
    return (
        Incident.objects.filter(id__in=linked)
        .select_related("category")
        .order_by("-declared_at", "-id")
    )


def incident_impacts(*, incident_id: int) -> QuerySet[IncidentImpact]:
    """What an incident touches, for its page (callers check the incident)."""
    return IncidentImpact.objects.filter(incident_id=incident_id).select_related(
        "vendor", "queue", "site"
    )


def open_trouble(trouble_key: str) -> IncidentImpact | None:
    """The newest link with this trouble key whose incident is still open."""
    return (
        IncidentImpact.objects.filter(
            trouble_key=trouble_key, incident__state__in=[s.value for s in OPEN_STATES]
        )
        .select_related("incident")
        .order_by("-created_at", "-id")
        .first()
    )


def open_vendor_trouble(vendor_id: int, *, queue_id: int) -> IncidentImpact | None:
    """The vendor's oldest automatic trouble link whose incident is open
    (queue, stale or site trouble) and does not already name queue
    `queue_id` (an incident links a queue once), with its incident."""
    return (
        IncidentImpact.objects.filter(
            vendor_id=vendor_id,
            trouble_key__isnull=False,
            incident__state__in=[s.value for s in OPEN_STATES],
        )
        .exclude(trouble_key="")
        .exclude(incident__vendor_impacts__queue_id=queue_id)
        .select_related("incident")
        .order_by("created_at", "id")
        .first()
    )


# --- health ----------------------------------------------------------------


def figures_of(snapshot: QueueSnapshot) -> Figures:
    return Figures(
        taken_at=snapshot.taken_at,
        backlog=snapshot.backlog,
        inflow_per_hour=snapshot.inflow_per_hour,
        outflow_per_hour=snapshot.outflow_per_hour,
        oldest_item_minutes=snapshot.oldest_item_minutes,
        sla_attainment=snapshot.sla_attainment,
        staffed_headcount=snapshot.staffed_headcount,
        planned_headcount=snapshot.planned_headcount,
    )


def latest_snapshots(queue_ids: Iterable[int] | QuerySet[Queue]) -> dict[int, QueueSnapshot]:
    """The latest snapshot of each queue, by queue id: one query for any
    number of queues. `queue_ids` are ids, or a Queue queryset (then used as
    a subquery, so no id list is sent). Each queue's newest row comes from
    the unique (queue, taken_at) index read backwards (a queue has one
    snapshot per moment, so taken_at alone orders them); no sort over a
    queue's history."""
    if isinstance(queue_ids, QuerySet):
        queues = queue_ids.order_by()
    else:
        queue_ids = list(queue_ids)
        if not queue_ids:
            return {}
        queues = Queue.objects.filter(id__in=queue_ids)
    latest = QueueSnapshot.objects.filter(queue=OuterRef("pk")).order_by("-taken_at")
    ids = queues.annotate(latest_id=Subquery(latest.values("id")[:1])).values("latest_id")
    # order_by(): the default ordering would join the queue and vendor tables to sort.
    return {s.queue_id: s for s in QueueSnapshot.objects.filter(id__in=ids).order_by()}


def health_of(queue: Queue, snapshot: QueueSnapshot | None, now: datetime) -> Health:
    """A queue's health now (`queue.site` loaded)."""
    return queue_health(figures_of(snapshot) if snapshot else None, queue.targets(), now)


@dataclass
class QueueRow:
    queue: Queue
    snapshot: QueueSnapshot | None
    health: Health
    series: list[tuple[datetime, float, int]] = field(default_factory=list)


@dataclass
class VendorRow:
    vendor: Vendor
    sites: list[Site]
    queues: list[QueueRow]
    health: Health


class EpochSeconds(Func):
    """A timestamp as whole seconds since 1970 (UTC): the board's series
    fetches thousands of moments, and a database integer costs a fraction of
    a timestamp's conversion to an aware datetime."""

    output_field = BigIntegerField()

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(
            compiler,
            connection,
            template="CAST(FLOOR(EXTRACT(EPOCH FROM %(expressions)s)) AS BIGINT)",
        )

    def as_sqlite(self, compiler, connection, **extra):
        # '%%%%s' is '%%s' in the SQL, which the SQLite backend turns into '%s'.
        return self.as_sql(
            compiler, connection, template="CAST(strftime('%%%%s', %(expressions)s) AS INTEGER)"
        )


def vendor_board(*, viewer, now: datetime, series_hours: int = 24) -> list[VendorRow]:
    """The ops board (and the portal, for a BPO lead): every active vendor
    the viewer may see, with its sites, its active queues, each queue's
    latest snapshot, health and a series of (taken_at, sla_attainment,
    backlog) for sparklines over the last `series_hours` (0: none), and the
    vendor's health. Five queries whatever the number of rows: vendors,
    their sites, queues, latest snapshots, series. The snapshot queries take
    the queues as a subquery (no list of hundreds of ids to plan), and the
    series comes as plain tuples, not model instances."""
    vendors = list(vendors_visible_to(viewer).filter(is_active=True))
    if not vendors:
        return []
    vendor_by_id = {v.id: v for v in vendors}
    queue_qs = Queue.objects.filter(vendor_id__in=list(vendor_by_id), is_active=True)
    # One query for the sites: the vendors' own (the active ones are listed),
    # and any a queue points at (for its time zone), instead of a Site per
    # queue from a join.
    sites = list(
        Site.objects.filter(
            Q(vendor_id__in=list(vendor_by_id)) | Q(id__in=queue_qs.values("site_id"))
        ).order_by("name", "id")
    )
    site_by_id = {s.id: s for s in sites}
    active_sites: dict[int, list[Site]] = defaultdict(list)
    site_vendor = Site.vendor.field
    for site in sites:
        vendor = vendor_by_id.get(site.vendor_id)
        if vendor is not None:
            site_vendor.set_cached_value(site, vendor)
            if site.is_active:
                active_sites[site.vendor_id].append(site)
    queues = list(queue_qs.order_by("vendor_id", "name", "id"))
    queue_site, queue_vendor = Queue.site.field, Queue.vendor.field
    for queue in queues:
        queue_vendor.set_cached_value(queue, vendor_by_id[queue.vendor_id])
        site = site_by_id.get(queue.site_id)
        if site is not None:  # None: no site (or one moved to since: loaded lazily)
            queue_site.set_cached_value(queue, site)
    snapshots = latest_snapshots(queue_qs) if queues else {}
    series: dict[int, list] = {}
    if series_hours and queues:
        rows = (
            QueueSnapshot.objects.filter(
                queue_id__in=queue_qs.values("id"),
                taken_at__gte=now - timedelta(hours=series_hours),
                taken_at__lte=now,
            )
            .order_by("queue_id", "taken_at")
            .values_list("queue_id", EpochSeconds("taken_at"), "sla_attainment", "backlog")
        )
        # Whole numbers and floats only, which need none of the ORM's
        # per-row converters: the query's own SQL, fetched as plain rows.
        sql, params = rows.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        moments: dict[int, datetime] = {}  # queues report at the same moments
        current, points = None, []
        for queue_id, seconds, attainment, backlog in rows:
            if queue_id != current:
                current, points = queue_id, series.setdefault(queue_id, [])
            taken_at = moments.get(seconds)
            if taken_at is None:
                taken_at = moments[seconds] = datetime.fromtimestamp(seconds, UTC)
            points.append((taken_at, attainment, backlog))
    by_vendor: dict[int, list[QueueRow]] = defaultdict(list)
    for queue in queues:
        snapshot = snapshots.get(queue.id)
        by_vendor[queue.vendor_id].append(
            QueueRow(queue, snapshot, health_of(queue, snapshot, now), series.get(queue.id, []))
        )
    board = []
    for vendor in vendors:
        vendor_sites = active_sites.get(vendor.id, [])
        rows = by_vendor.get(vendor.id, [])
        health = vendor_health((r.health for r in rows), (s.status for s in vendor_sites))
        board.append(VendorRow(vendor, vendor_sites, rows, health))
    return board


def queue_history(
    *, viewer, queue_id: int, since: datetime, until: datetime
) -> QuerySet[QueueSnapshot] | None:
    """A queue's snapshots in [since, until), oldest first; None when the
    viewer may not see the queue."""
    if queue_for(viewer, queue_id) is None:
        return None
    return QueueSnapshot.objects.filter(
        queue_id=queue_id, taken_at__gte=since, taken_at__lt=until
    ).order_by("taken_at")


def vendor_weekly_figures(*, viewer, vendor_id: int, since: datetime) -> list[dict] | None:
    """The vendor's figures by ISO week (weeks start Monday, UTC) and queue
    since `since`: SLA attainment weighted by outflow (a busy hour counts
    more than a quiet one), mean QA accuracy (of the snapshots that report
    it), escalations, and the number of snapshots. One query; None when the
    viewer may not see the vendor. Rows: {"week", "queue_id", "attainment",
    "qa_accuracy", "escalations", "snapshots"}, ordered by week then queue."""
    if vendor_for(viewer, vendor_id) is None:
        return None
    return list(
        QueueSnapshot.objects.filter(queue__vendor_id=vendor_id, taken_at__gte=since)
        .annotate(week=TruncWeek("taken_at"))
        .values("week", "queue_id")
        .annotate(
            attainment=Sum(F("sla_attainment") * F("outflow_per_hour"))
            / NullIf(Sum("outflow_per_hour"), 0.0),
            qa_accuracy=Avg("qa_accuracy"),
            escalations=Sum("escalations"),
            snapshots=Count("id"),
        )
        .order_by("week", "queue_id")
    )


# --- Health of many queues and vendors at once (the API) ---------------------------


def queue_healths(
    queues: list[Queue], now: datetime
) -> tuple[dict[int, QueueSnapshot], dict[int, Health]]:
    """The latest snapshot and health of each queue (`site` loaded): two
    queries whatever the number of queues."""
    latest = latest_snapshots(q.id for q in queues)
    return latest, {q.id: health_of(q, latest.get(q.id), now) for q in queues}


def vendor_healths(vendors: list, now: datetime, *, rows: bool = False) -> dict[int, Health]:
    """Each vendor's health (its active queues and sites), in four queries
    whatever the number of vendors. With `rows`, each vendor also gets
    `active_sites` and `queue_rows` (QueueRow) for its detail."""
    ids = [v.id for v in vendors]
    if not ids:
        return {}
    sites: dict[int, list[Site]] = {i: [] for i in ids}
    for site in Site.objects.filter(vendor_id__in=ids, is_active=True).order_by("name", "id"):
        sites[site.vendor_id].append(site)
    queues = list(
        Queue.objects.filter(vendor_id__in=ids, is_active=True)
        .select_related("site")
        .order_by("name", "id")
    )
    latest, healths = queue_healths(queues, now)
    by_vendor: dict[int, list[QueueRow]] = {i: [] for i in ids}
    for queue in queues:
        by_vendor[queue.vendor_id].append(QueueRow(queue, latest.get(queue.id), healths[queue.id]))
    result = {}
    for vendor in vendors:
        queue_rows = by_vendor[vendor.id]
        result[vendor.id] = vendor_health(
            (r.health for r in queue_rows), (s.status for s in sites[vendor.id])
        )
        if rows:
            vendor.active_sites = sites[vendor.id]
            vendor.queue_rows = queue_rows
    return result


# --- Reads of the vendor pages (given ids already filtered by the selectors above) ---


def open_incidents_by_vendor(vendor_ids: Iterable[int]) -> dict[int, list[Incident]]:
    """Open incidents linked to each vendor, newest first, each once."""
    vendor_ids = list(vendor_ids)
    if not vendor_ids:
        return {}
    links = (
        IncidentImpact.objects.filter(
            vendor_id__in=vendor_ids, incident__state__in=[s.value for s in OPEN_STATES]
        )
        .select_related("incident")
        .order_by("-incident__declared_at", "-incident_id")
    )
    out: dict[int, list[Incident]] = defaultdict(list)
    seen: set[tuple[int, int]] = set()
    for link in links:
        if (link.vendor_id, link.incident_id) not in seen:
            seen.add((link.vendor_id, link.incident_id))
            out[link.vendor_id].append(link.incident)
    return out


def site_changes(site_ids: Iterable[int], *, per_site: int = 5) -> dict[int, list]:
    """The latest `per_site` status changes of each site, newest first (one
    query: numbered per site by a window function)."""
    site_ids = list(site_ids)
    if not site_ids:
        return {}
    out: dict[int, list[SiteStatusChange]] = defaultdict(list)
    changes = (
        SiteStatusChange.objects.filter(site_id__in=site_ids)
        .annotate(
            n=Window(
                RowNumber(), partition_by=[F("site_id")], order_by=[F("at").desc(), F("id").desc()]
            )
        )
        .filter(n__lte=per_site)
        .select_related("changed_by")
        .order_by("site_id", "-at", "-id")
    )
    for change in changes:
        out[change.site_id].append(change)
    return out


def vendor_link_targets(vendor_ids: Iterable[int]) -> tuple[QuerySet[Queue], QuerySet[Site]]:
    """The active queues and sites an incident can be linked to, for vendors
    the caller may already see."""
    ids = list(vendor_ids)
    return (
        Queue.objects.filter(vendor_id__in=ids, is_active=True).order_by("name", "id"),
        Site.objects.filter(vendor_id__in=ids, is_active=True).order_by("name", "id"),
    )


def vendor_escalation_levels(*, vendor: Vendor) -> list:
    """The vendor's escalation policy, level 1 first, each with its people."""
    return list(
        vendor.escalation_levels.order_by("position").prefetch_related(
            Prefetch("users", queryset=get_user_model().objects.order_by("display_name", "id"))
        )
    )


def company_updates(incident_ids: Iterable[int]) -> dict[int, StatusUpdate]:
    """The latest company-wide status update of each incident (the most
    public text an incident has)."""
    incident_ids = list(incident_ids)
    if not incident_ids:
        return {}
    out: dict[int, StatusUpdate] = {}
    updates = StatusUpdate.objects.filter(
        incident_id__in=incident_ids, audience=StatusUpdate.Audience.COMPANY
    ).order_by("incident_id", "-published_at", "-id")
    for update in updates:
        out.setdefault(update.incident_id, update)
    return out


def vendor_series(
    vendor_id: int, *, since: datetime, until: datetime
) -> dict[int, list[tuple[datetime, float, int, float | None]]]:
    """(taken_at, sla_attainment, backlog, qa_accuracy) by queue, oldest first."""
    rows = (
        QueueSnapshot.objects.filter(
            queue__vendor_id=vendor_id, taken_at__gte=since, taken_at__lte=until
        )
        .order_by("queue_id", "taken_at")
        .values_list("queue_id", "taken_at", "sla_attainment", "backlog", "qa_accuracy")
    )
    out: dict[int, list] = defaultdict(list)
    for queue_id, taken_at, attainment, backlog, qa in rows:
        out[queue_id].append((taken_at, attainment, backlog, qa))
    return out


def vendor_sites(vendor_id: int) -> list[Site]:
    return list(Site.objects.filter(vendor_id=vendor_id).order_by("-is_active", "name", "id"))


@dataclass
class VendorSetup:
    sites: list[Site]
    queues: list[Queue]


def vendor_setup_sites(vendor_id: int) -> list[Site]:
    """A vendor's sites, inactive ones too, by name (callers check
    vendors.manage)."""
    return list(Site.objects.filter(vendor_id=vendor_id).order_by("name", "id"))


def vendor_setup(vendor_id: int) -> VendorSetup:
    """A vendor's sites and queues, inactive ones too, by name, for its
    setup page: two queries for any number of rows (callers check
    vendors.manage)."""
    queues = Queue.objects.filter(vendor_id=vendor_id).select_related("site")
    return VendorSetup(
        sites=vendor_setup_sites(vendor_id), queues=list(queues.order_by("name", "id"))
    )
