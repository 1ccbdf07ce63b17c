"""Benchmark: the trends page for one year of data (5,000 incidents), and the
metrics behind it (incidents.metrics.incident_metrics) cold and warm.

    make bench-trends
    BENCH_REPEAT=20 .venv/bin/python bench/trends.py

Production settings (DEBUG=false), PostgreSQL: DATABASE_URL defaults to
postgres://postgres@127.0.0.1:5432/tscc_bench_trends (created and migrated if
missing), REDIS_URL to redis://127.0.0.1:6379/12, with a REDIS_PREFIX unique
to the run.

Data, loaded once and reused (bulk inserts, consistent with what the
services write): BENCH_INCIDENTS (default 5,000) incidents declared over the
last 365 days, each with its timeline: declared (with the detection times),
a role assigned, acknowledged or not, investigating, status updates every
30-60 minutes while open, sometimes a severity change, a note, monitoring and
resolved; a few cancelled or merged, the last days' ones still open; one in
ten with a regulatory report (submitted on time, late, or pending). About 13
events an incident (65,000 for the year).

And the vendors' year, as the ops board's bench has a month of it
(bench/vendors.py): BENCH_VENDORS (default 20) vendors with 25 queues each
(500), each queue with hourly snapshots for the last 365 days (4.4 million
rows, one INSERT … SELECT over generate_series, about 40 s once), and
incident links for one incident in twenty. The trends page shows their
health beside the incidents (vendors.metrics): whole final days from the
daily sums (QueueDayFigures, built once here and timed: beat keeps them in
production), the last week and the period's ragged start from the
snapshots.

Timed, BENCH_REPEAT (default 40) times after warm-ups, as an executive:
- the trends page, GET /summary/trends/?period=12m through Django's test
  client (when the page answers 404, it is not built yet: reported, and the
  metrics API below stands in for it);
- GET /api/v1/metrics/ for the year, weekly buckets (the same computation);
- incident_metrics() for the year, weekly buckets, alone;
- vendor_metrics() for the year alone (warm: the daily sums built);
each cold (the facts cache truncated before every run, so every incident's
facts are computed from its timeline and written; BENCH_COLD_REPEAT, default
5, runs) and warm (the cache filled, then VACUUM ANALYZE as autovacuum would
do after such a rewrite): p50, p95, this process's CPU time
(p50) and the query count. The target: the page's p95 under 300 ms (warm).
The machine's load average is printed: on a busy box wall time exceeds CPU.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tscc.settings")
os.environ.setdefault("TSCC_VAR_DIR", "var/bench-trends")
os.environ.setdefault("DEBUG", "false")  # production settings, as deployed
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("SECURE_PROXY_SSL_HEADER", "true")  # behind a TLS proxy, as deployed
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/tscc_bench_trends")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/12")
os.environ.setdefault("REDIS_PREFIX", f"bench-trends-{os.getpid()}-{int(time.time())}")

import django  # noqa: E402

django.setup()

from benchlib import ensure_database, report  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from incidents.metrics import incident_metrics  # noqa: E402
from incidents.models import (  # noqa: E402
    Category,
    Incident,
    IncidentMetricsFacts,
    RegulatoryReport,
    TimelineEvent,
)
from tscc.models import User  # noqa: E402
from tscc.roles import Role  # noqa: E402
from vendors.metrics import roll_up_days, vendor_metrics  # noqa: E402
from vendors.models import (  # noqa: E402
    IncidentImpact,
    Queue,
    QueueDayFigures,
    QueueSnapshot,
    SnapshotDay,
    Vendor,
)

INCIDENTS = int(os.environ.get("BENCH_INCIDENTS", "5000"))
REPEAT = int(os.environ.get("BENCH_REPEAT", "40"))
COLD_REPEAT = int(os.environ.get("BENCH_COLD_REPEAT", "5"))
TITLE = "Bench trends incident"
NUMBER_BASE = 500_000  # far from the numbers the declare service hands out
TARGET_MS = 300
VENDORS = int(os.environ.get("BENCH_VENDORS", "20"))
QUEUES_PER_VENDOR = 25
VENDOR_PREFIX = "bt-"
CPUS = len(os.sched_getaffinity(0))


# --- data ------------------------------------------------------------------------------


def users() -> tuple[User, User]:
    manager, _ = User.objects.get_or_create(
        username="bench-trends-mgr", defaults={"role": Role.OPS_MANAGER}
    )
    executive, _ = User.objects.get_or_create(
        username="bench-trends-exec", defaults={"role": Role.EXECUTIVE}
    )
    return manager, executive


SEVERITIES = ["sev0", "sev1", "sev2", "sev2", "sev3", "sev3", "sev3", "sev4", "sev4", "sev4"]


def one_incident(rng: random.Random, declared, now, actor_id: int):
    """(incident fields, [(kind, at, data, text)], [report fields]) as the services write them."""
    severity = rng.choice(SEVERITIES)
    discovered = declared - timedelta(minutes=rng.randint(0, 60))
    harm = discovered - timedelta(minutes=rng.randint(5, 600)) if rng.random() < 0.6 else None
    declared_data = {
        "severity": severity,
        "proposed": severity,
        "category": None,  # filled by the caller
        "discovered_at": discovered.isoformat(),
        "answers": {},
        "reasons": [],
    }
    if harm is not None:
        declared_data["harm_started_at"] = harm.isoformat()
    events = [("declared", declared, declared_data, "")]
    at = declared
    fields = {
        "severity": severity,
        "discovered_at": discovered,
        "harm_started_at": harm,
        "declared_at": declared,
    }

    def step(minutes_low, minutes_high):
        nonlocal at
        at = at + timedelta(minutes=rng.uniform(minutes_low, minutes_high))
        return at

    events.append(("role_assigned", step(0.1, 2), {"role": "commander", "user": actor_id}, ""))
    fate = rng.random()
    if fate < 0.03:  # a false alarm
        events.append(("state_changed", step(3, 30), {"from": "triage", "to": "cancelled"}, ""))
        fields["state"] = "cancelled"
        return fields, events, []
    if fate < 0.05:  # a duplicate, merged
        events.append(("merged", step(5, 40), {"into": None}, ""))
        events.append(("state_changed", at, {"from": "triage", "to": "merged"}, ""))
        fields["state"] = "merged"
        return fields, events, []
    if rng.random() < 0.85:
        events.append(("acknowledged", step(1, 40), {}, ""))
    events.append(("state_changed", step(1, 20), {"from": "triage", "to": "investigating"}, ""))
    fields["acknowledged_at"] = events[-1][1] if events[-2][0] != "acknowledged" else events[-2][1]
    duration = timedelta(minutes=rng.lognormvariate(5.5, 0.6))  # ~4 h median
    end = at + duration
    current = severity
    while True:
        nxt = at + timedelta(minutes=rng.uniform(30, 60) if rng.random() < 0.9 else 90)
        if nxt >= end or nxt >= now:
            break
        at = nxt
        if rng.random() < 0.05:
            new = rng.choice([s for s in ("sev0", "sev1", "sev2", "sev3") if s != current])
            events.append(("severity_changed", at, {"from": current, "to": new}, ""))
            current = new
        elif rng.random() < 0.1:
            events.append(("note", at, {}, "Checked the queues."))
        else:
            events.append(("status_update", at, {"audience": "company"}, "Update."))
    fields["severity"] = current
    if end >= now:  # still open
        fields["state"] = "investigating"
        return fields, events, []
    events.append(("state_changed", end, {"from": "investigating", "to": "monitoring"}, ""))
    resolved = end + timedelta(minutes=rng.uniform(10, 120))
    if resolved >= now:
        fields["state"] = "monitoring"
        fields["mitigated_at"] = end
        return fields, events, []
    events.append(("state_changed", resolved, {"from": "monitoring", "to": "resolved"}, ""))
    fields.update(state="resolved", mitigated_at=end, resolved_at=resolved)
    reports = []
    if rng.random() < 0.1:
        due = declared + timedelta(hours=rng.choice([1, 4, 24]))
        late = rng.random()
        submitted = None
        if late < 0.7:
            submitted = due - timedelta(minutes=rng.uniform(5, 50))
        elif late < 0.9:
            submitted = due + timedelta(minutes=rng.uniform(5, 120))
        reports.append(
            {
                "authority": "CAC",
                "due_at": due,
                "submitted_at": submitted if submitted is None or submitted < now else None,
                "state": "submitted" if submitted is not None and submitted < now else "required",
            }
        )
    return fields, events, reports


def load_year(manager: User) -> int:
    """The year's incidents, timelines and reports; nothing when already there."""
    have = Incident.objects.filter(title=TITLE).count()
    if have >= INCIDENTS:
        return 0
    Incident.objects.filter(title=TITLE).update(title=f"{TITLE} (old)")  # an older, partial set
    rng = random.Random(20261201)
    now = timezone.now()
    categories = list(Category.objects.filter(active=True).order_by("code"))
    start = now - timedelta(days=365)
    span = (now - timedelta(hours=2) - start).total_seconds()
    moments = sorted(start + timedelta(seconds=rng.uniform(0, span)) for _ in range(INCIDENTS))
    base = NUMBER_BASE + Incident.objects.filter(number__gte=NUMBER_BASE).count()
    plans = []
    for n, declared in enumerate(moments):
        fields, events, reports = one_incident(rng, declared, now, manager.id)
        category = categories[rng.randrange(len(categories))]
        events[0][2]["category"] = category.code
        plans.append((n, category, fields, events, reports))
    with transaction.atomic():
        incidents = Incident.objects.bulk_create(
            [
                Incident(
                    year=fields["declared_at"].year,
                    number=base + n,
                    title=TITLE,
                    category=category,
                    created_by=manager,
                    last_seq=len(events),
                    **fields,
                )
                for n, category, fields, events, _reports in plans
            ],
            batch_size=1000,
        )
        TimelineEvent.objects.bulk_create(
            [
                TimelineEvent(
                    incident_id=incident.id,
                    seq=seq,
                    kind=kind,
                    occurred_at=at,
                    recorded_at=at,
                    actor=manager,
                    text=text,
                    data=data,
                )
                for incident, (_n, _c, _f, events, _r) in zip(incidents, plans, strict=True)
                for seq, (kind, at, data, text) in enumerate(events, start=1)
            ],
            batch_size=5000,
        )
        RegulatoryReport.objects.bulk_create(
            [
                RegulatoryReport(incident_id=incident.id, **report)
                for incident, (_n, _c, _f, _e, reports) in zip(incidents, plans, strict=True)
                for report in reports
            ]
        )
    return len(plans)


def load_vendors(manager: User) -> int:
    """The vendors' year of hourly snapshots and incident links; nothing when
    already there. Returns the snapshots written."""
    codes = [f"{VENDOR_PREFIX}{i:02d}" for i in range(VENDORS)]
    Vendor.objects.bulk_create(
        [Vendor(code=c, name=f"Trends vendor {c[-2:]}", owner=manager) for c in codes],
        ignore_conflicts=True,
    )
    vendors = list(Vendor.objects.filter(code__in=codes).order_by("code"))
    year_ago = timezone.now() - timedelta(days=366)
    Queue.objects.bulk_create(
        [
            Queue(
                vendor=v,
                code=f"q{n:02d}",
                name=f"Queue {n:02d}",
                sla_percent=95,
                sla_minutes=30,
                planned_headcount=20,
                created_at=year_ago,
            )
            for v in vendors
            for n in range(QUEUES_PER_VENDOR)
        ],
        ignore_conflicts=True,
    )
    queues = Queue.objects.filter(vendor__in=vendors)
    hours = 365 * 24
    if QueueSnapshot.objects.filter(queue__in=queues).count() >= queues.count() * hours:
        return 0
    QueueSnapshot.objects.filter(queue__in=queues).delete()
    SnapshotDay.objects.all().delete()
    table = QueueSnapshot._meta.db_table
    with connection.cursor() as cursor:
        # Attainment 93.0-99.9 and QA 94-99.9 from a hash of (queue, hour):
        # the same year on every machine; about one hour in ten below target.
        cursor.execute(
            f"""
            INSERT INTO {table} (taken_at, backlog, inflow_per_hour, outflow_per_hour,
                oldest_item_minutes, sla_attainment, staffed_headcount, planned_headcount,
                qa_accuracy, source, created_at, queue_id)
            SELECT date_trunc('hour', now()) - make_interval(hours => h),
                40 + abs(hashtext(q.id || ':' || h)) %% 200, 300,
                280 + abs(hashtext(h || ':' || q.id)) %% 120,
                5 + abs(hashtext(q.id || '/' || h)) %% 25,
                93 + (abs(hashtext(q.id || '-' || h)) %% 70) / 10.0, 20, 20,
                94 + (abs(hashtext(h || '-' || q.id)) %% 60) / 10.0, 'api', now(), q.id
            FROM {Queue._meta.db_table} q CROSS JOIN generate_series(1, %s) h
            WHERE q.vendor_id = ANY(%s)
            """,  # noqa: S608 - table names from the models, values as parameters
            [hours, [v.id for v in vendors]],
        )
        written = cursor.rowcount
        cursor.execute(f"ANALYZE {table}")
    incidents = list(Incident.objects.filter(title=TITLE).order_by("id")[::20])
    queue_list = list(queues.order_by("id"))
    IncidentImpact.objects.bulk_create(
        [
            IncidentImpact(
                incident=incident,
                vendor_id=queue.vendor_id,
                queue=queue,
                trouble_key=f"queue:{queue.id}:{incident.id}" if n % 2 else "",
            )
            for n, incident in enumerate(incidents)
            for queue in [queue_list[n * 7 % len(queue_list)]]
        ],
        ignore_conflicts=True,
    )
    return written


# --- timing ------------------------------------------------------------------------------


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))]


def timed(fn, repeat: int, *, cold: bool = False) -> tuple[float, float, float, int]:
    """p50 and p95 in ms, this process's CPU time p50 (the machine may be
    busy with other work: wall time then exceeds CPU time), and the queries
    of one more (cold or warm) run."""

    def prepare():
        if cold:
            empty_cache()

    if not cold:
        fn()
        settle()
        for _ in range(3):
            fn()
    times, cpu = [], []
    for _ in range(repeat):
        prepare()
        started, cpu_started = time.perf_counter(), time.process_time()
        fn()
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - cpu_started) * 1000)
    prepare()
    with CaptureQueriesContext(connection) as queries:
        fn()
    return statistics.median(times), pct(times, 0.95), statistics.median(cpu), len(queries)


def empty_cache() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {IncidentMetricsFacts._meta.db_table}")


def settle() -> None:
    """What autovacuum does soon after a full recompute (the cold runs
    rewrote every row): the warm runs read a table without dead rows."""
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {IncidentMetricsFacts._meta.db_table}")


def getter(client: Client, url: str):
    def get():
        response = client.get(url, secure=True)
        assert response.status_code == 200, (url, response.status_code)
        return response

    return get


def main() -> None:
    print(
        f"machine: {CPUS} CPUs, load average {os.getloadavg()[0]:.1f}; "
        f"database {connection.settings_dict['NAME']}"
    )
    ensure_database(collectstatic=True)
    manager, executive = users()
    started = time.perf_counter()
    loaded = load_year(manager)
    incidents = Incident.objects.filter(title=TITLE)
    count = incidents.count()
    events = TimelineEvent.objects.filter(incident__title=TITLE).count()
    print(
        f"data: {count:,} incidents, {events:,} timeline events "
        f"({loaded:,} incidents loaded now, {time.perf_counter() - started:.1f} s)"
    )
    started = time.perf_counter()
    written = load_vendors(manager)
    snapshots = QueueSnapshot.objects.filter(queue__vendor__code__startswith=VENDOR_PREFIX)
    print(
        f"vendors: {VENDORS} vendors, {VENDORS * QUEUES_PER_VENDOR} queues, "
        f"{snapshots.count():,} snapshots ({written:,} loaded now, "
        f"{time.perf_counter() - started:.1f} s)"
    )
    now = timezone.now()
    year_start = now - timedelta(days=365)
    SnapshotDay.objects.all().delete()
    QueueDayFigures.objects.all().delete()
    started = time.perf_counter()
    summed = roll_up_days(year_start.date(), now.date())
    rolled_ms = (time.perf_counter() - started) * 1000
    with connection.cursor() as cursor:  # as autovacuum would, after such a write
        cursor.execute(f"ANALYZE {QueueDayFigures._meta.db_table}")

    def metrics():
        incident_metrics(start=year_start, end=now, bucket="week", time_zone="Asia/Shanghai")

    def vendors_year():
        vendor_metrics(start=year_start, end=now)

    client = Client()
    client.force_login(executive)
    page_url = "/summary/trends/?period=12m"
    page_ready = client.get(page_url, secure=True).status_code == 200
    api_url = (
        f"/api/v1/metrics/?start={year_start.date().isoformat()}"
        f"&end={now.date().isoformat()}&bucket=week"
    )
    api_ready = client.get(api_url, secure=True).status_code == 200

    measures = []
    if page_ready:
        measures.append((f"GET {page_url} (trends page)", getter(client, page_url), True))
    else:
        print(f"the trends page ({page_url}) answers 404: not built yet; the API stands in")
    if api_ready:
        measures.append(
            (
                f"GET /api/v1/metrics/ (year, weekly){'' if page_ready else ' [page stand-in]'}",
                getter(client, api_url),
                not page_ready,
            )
        )
    measures.append(("incident_metrics() (year, weekly)", metrics, not (page_ready or api_ready)))
    measures.append(("vendor_metrics() (year, 500 queues)", vendors_year, None))

    rows = [
        (
            "vendor daily sums built from nothing (once)",
            f"{summed} days, {QueueDayFigures.objects.count():,} rows in {rolled_ms:,.0f} ms",
            "",
            None,
        )
    ]
    for label, fn, judged in measures:
        for cold in (True, False) if judged is not None else (False,):
            p50, p95, cpu, queries = timed(fn, COLD_REPEAT if cold else REPEAT, cold=cold)
            good = p95 < TARGET_MS if judged and not cold else None
            rows.append(
                (
                    f"{label} {'cold' if cold else 'warm'}",
                    f"p50 {p50:.1f} ms, p95 {p95:.1f} ms, CPU p50 {cpu:.1f} ms, {queries} queries",
                    f"p95 < {TARGET_MS} ms" if good is not None else "",
                    good,
                )
            )
    report("trends", rows)


if __name__ == "__main__":
    main()
