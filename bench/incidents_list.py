"""Benchmark: the triage list and the API list over 100,000 incidents.

    make bench-incidents                # SQLite under var/bench (embedded default)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tscc_bench make bench-incidents

Loads N incidents once (bulk, with markets, commanders, open tasks and owed
reports; reused on the next run), then requests each view R times in-process
through Django's test client (server time: middleware, query, render; no
network) and prints median and p95 in milliseconds with the query count.
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
os.environ.setdefault("TSCC_VAR_DIR", "var/bench")
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/13")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/tscc_bench")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost")

import django  # noqa: E402

django.setup()

from benchlib import ensure_database, report  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from incidents.models import (  # noqa: E402
    Category,
    Incident,
    IncidentCounter,
    IncidentRole,
    IncidentTask,
    Market,
    RegulatoryReport,
    RoleAssignment,
)
from tscc.models import User  # noqa: E402
from tscc.roles import Role  # noqa: E402

N = int(os.environ.get("BENCH_INCIDENTS", "100000"))
REPEAT = int(os.environ.get("BENCH_REPEAT", "40"))
OPEN_SHARE = 0.02
STATES_DONE = ["resolved", "closed", "closed", "closed", "cancelled"]
STATES_OPEN = ["triage", "investigating", "mitigating", "monitoring"]
SEVERITIES = ["sev0"] + ["sev1"] * 4 + ["sev2"] * 15 + ["sev3"] * 40 + ["sev4"] * 40
WORDS = [
    "scam",
    "rumour",
    "leak",
    "outage",
    "spam",
    "deepfake",
    "harassment",
    "typhoon",
    "gambling",
    "vendor",
    "live",
    "minors",
    "hash",
]


def populate() -> None:
    have = Incident.objects.count()
    if have >= N:
        print(f"reusing {have} incidents")
        return
    rng = random.Random(42)
    users = [
        User.objects.get_or_create(username=f"bench{i}", defaults={"role": Role.RESPONDER})[0]
        for i in range(40)
    ]
    categories = list(Category.objects.all())
    markets = list(Market.objects.all())
    now = timezone.now()
    started = time.perf_counter()
    batch = 5000
    for offset in range(have, N, batch):
        with transaction.atomic():
            rows = []
            for n in range(offset, min(offset + batch, N)):
                declared = now - timedelta(minutes=rng.randint(0, 2 * 365 * 24 * 60))
                is_open = rng.random() < OPEN_SHARE
                rows.append(
                    Incident(
                        year=2026,
                        number=n + 1,
                        title=f"{rng.choice(WORDS)} {rng.choice(WORDS)} incident {n}",
                        category=rng.choice(categories),
                        severity=rng.choice(SEVERITIES),
                        state=rng.choice(STATES_OPEN if is_open else STATES_DONE),
                        discovered_at=declared - timedelta(minutes=5),
                        declared_at=declared,
                        last_seq=1,
                    )
                )
            made = Incident.objects.bulk_create(rows)
            Through = Incident.markets.through
            Through.objects.bulk_create(
                [Through(incident_id=i.id, market_id=rng.choice(markets).id) for i in made]
            )
            RoleAssignment.objects.bulk_create(
                [
                    RoleAssignment(
                        incident=i,
                        role=IncidentRole.COMMANDER,
                        user=rng.choice(users),
                        assigned_at=i.declared_at,
                    )
                    for i in made
                    if rng.random() < 0.95
                ]
            )
            IncidentTask.objects.bulk_create(
                [
                    IncidentTask(
                        incident=i,
                        title="Follow up",
                        state="open" if rng.random() < 0.5 else "done",
                    )
                    for i in made
                    for _ in range(2)
                    if rng.random() < 0.3
                ]
            )
            RegulatoryReport.objects.bulk_create(
                [
                    RegulatoryReport(
                        incident=i,
                        authority="属地省级网信部门",
                        due_at=i.discovered_at + timedelta(hours=4),
                    )
                    for i in made
                    if rng.random() < 0.05
                ]
            )
        print(
            f"  loaded {min(offset + batch, N)}/{N} ({time.perf_counter() - started:.0f} s)",
            flush=True,
        )
    IncidentCounter.objects.update_or_create(year=2026, defaults={"last": N})
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def measure(client: Client, url: str, headers: dict | None = None) -> tuple[float, float, int]:
    headers = {"secure": True, **(headers or {})}  # production settings redirect to HTTPS
    for _ in range(3):
        status = client.get(url, **headers).status_code
        assert status == 200, f"{url} answered {status}"
    times = []
    for _ in range(REPEAT):
        started = time.perf_counter()
        response = client.get(url, **headers)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    with CaptureQueriesContext(connection) as queries:
        client.get(url, **headers)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1], len(queries)


def main() -> None:
    ensure_database()
    call_command("collectstatic", interactive=False, verbosity=0)  # production static manifest
    populate()
    viewer, _ = User.objects.get_or_create(
        username="bench-manager", defaults={"role": Role.OPS_MANAGER}
    )
    client = Client()
    client.force_login(viewer)
    htmx = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "incident-results"}
    scenarios = [
        ("triage: open incidents (default)", "/incidents/", None),
        ("triage: open, htmx results partial", "/incidents/", htmx),
        ("triage: all, newest first", "/incidents/?scope=all", None),
        (
            "triage: all, SEV1, sorted by severity",
            "/incidents/?scope=all&severity=sev1&sort=severity",
            None,
        ),
        ("triage: all, search 'typhoon'", "/incidents/?scope=all&q=typhoon", htmx),
        ("triage: all, page 200", "/incidents/?scope=all&page=200", htmx),
        ("api: incidents, open (default)", "/api/v1/incidents/", None),
        ("api: incidents, all", "/api/v1/incidents/?scope=all", None),
    ]
    print(
        f"\n{connection.vendor}, {Incident.objects.count():,} incidents "
        f"({Incident.objects.open().count():,} open), {REPEAT} requests each\n"
    )
    rows = []
    for name, url, headers in scenarios:
        try:
            median, p95, queries = measure(client, url, headers)
        except AssertionError as exc:
            rows.append((name, f"n/a ({exc})", "", None))
            continue
        result = f"p50 {median:.1f} ms, p95 {p95:.1f} ms, {queries} queries"
        rows.append((name, result, "", None))
    report("incidents", rows)


if __name__ == "__main__":
    main()
