"""Benchmark: who is on call for 200 schedules at once, and a 14-day timeline.

    make bench-oncall                   # SQLite under var/bench (embedded default)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tscc_bench_oncall make bench-oncall

Builds N schedules once through the services (reused on the next run): each
has 2-3 layers of 4-8 people drawn from 60 responders, in Asia/Shanghai,
Europe/Dublin or America/Los_Angeles, some restricted to business hours or to
a follow-the-sun half of the day, a few with overrides. Then times, R times
each, in-process: `selectors.oncall_now` over all schedules at once,
`selectors.schedule_shifts` for one schedule over 14 days, and, when the page
exists, the schedule page's 14-day timeline through Django's test client
(server time: middleware, queries, render; no network). Prints median and p95
in milliseconds with the query count.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tscc.settings")
os.environ.setdefault("TSCC_VAR_DIR", "var/bench")
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/tscc_bench_oncall")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost")

import django  # noqa: E402

django.setup()

from benchlib import ensure_database, report  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import NoReverseMatch, reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from oncall import selectors, services  # noqa: E402
from oncall.models import Layer, Override, Schedule  # noqa: E402
from tscc.models import Team, User  # noqa: E402
from tscc.roles import Role  # noqa: E402

N = int(os.environ.get("BENCH_SCHEDULES", "200"))
REPEAT = int(os.environ.get("BENCH_REPEAT", "40"))
PEOPLE = 60
PREFIX = "Bench schedule"
ZONES = ["Asia/Shanghai", "Europe/Dublin", "America/Los_Angeles"]
WEEKDAYS = [1, 2, 3, 4, 5]
# (unit, count) of the base rotation, and what the layers above it cover.
LENGTHS = [("days", 1), ("weeks", 1), ("hours", 12), ("days", 2)]
TOPS = [
    [{"days": WEEKDAYS, "start": "09:00", "end": "18:00"}],  # business hours
    [{"days": [1, 2, 3, 4, 5, 6, 7], "start": "08:00", "end": "20:00"}],  # follow-the-sun half
    [{"days": [1, 2, 3, 4, 5, 6, 7], "start": "20:00", "end": "08:00"}],  # nights
    [],
]


def last_monday_at(zone: str, hour: int, weeks_back: int) -> datetime:
    tz = ZoneInfo(zone)
    today = timezone.localtime(timezone.now(), tz).date()
    monday = today - timedelta(days=today.weekday() + 7 * weeks_back)
    return datetime(monday.year, monday.month, monday.day, hour, tzinfo=tz)


def populate(manager: User) -> None:
    have = Schedule.objects.filter(name__startswith=PREFIX).count()
    if have >= N:
        print(f"reusing {have} schedules")
        return
    rng = random.Random(42)
    people = [
        User.objects.get_or_create(
            username=f"bench-oncall-{i:02d}", defaults={"role": Role.RESPONDER}
        )[0]
        for i in range(PEOPLE)
    ]
    teams = [
        Team.objects.get_or_create(slug=f"bench-oncall-{i}", defaults={"name": f"Bench team {i}"})[
            0
        ]
        for i in range(10)
    ]
    started = time.perf_counter()
    now = timezone.now()
    for n in range(have, N):
        zone = ZONES[n % len(ZONES)]
        schedule = services.schedule_save(
            actor=manager, name=f"{PREFIX} {n:03d}", time_zone=zone, team=teams[n % len(teams)]
        )
        unit, count = LENGTHS[n % len(LENGTHS)]
        services.layer_create(
            actor=manager,
            schedule=schedule,
            name="Primary",
            users=rng.sample(people, rng.randint(4, 8)),
            unit=unit,
            count=count,
            anchor=last_monday_at(zone, 9, rng.randint(1, 6)),
        )
        for priority in range(1, rng.randint(2, 3)):
            other = ZONES[(n + priority) % len(ZONES)]
            follow_the_sun = n % 4 == 1
            services.layer_create(
                actor=manager,
                schedule=schedule,
                name=f"Layer {priority + 1}",
                users=rng.sample(people, rng.randint(4, 8)),
                unit=rng.choice(["days", "weeks"]),
                count=1,
                anchor=last_monday_at(other if follow_the_sun else zone, 9, rng.randint(1, 4)),
                priority=priority,
                time_zone=other if follow_the_sun else "",
                restrictions=TOPS[(n + priority) % len(TOPS)],
            )
        if n % 10 == 0:  # a few overrides around now
            for _ in range(rng.randint(1, 3)):
                start = now + timedelta(hours=rng.randint(-48, 120))
                services.override_create(
                    actor=manager,
                    schedule=schedule,
                    user=rng.choice(people),
                    starts_at=start,
                    ends_at=start + timedelta(hours=rng.randint(2, 36)),
                )
        if (n + 1) % 50 == 0:
            print(f"  built {n + 1}/{N} ({time.perf_counter() - started:.0f} s)", flush=True)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def measure(run: Callable[[], object]) -> tuple[float, float, int]:
    for _ in range(3):
        run()
    times = []
    for _ in range(REPEAT):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as queries:
        run()
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1], len(queries)


def page(client: Client, url: str) -> Callable[[], object]:
    def get():
        response = client.get(url, secure=True)  # production settings redirect to HTTPS
        assert response.status_code == 200, f"{url} answered {response.status_code}"
        return response

    return get


def main() -> None:
    ensure_database()
    call_command("collectstatic", interactive=False, verbosity=0)  # production static manifest
    manager, _ = User.objects.get_or_create(
        username="bench-manager", defaults={"role": Role.OPS_MANAGER}
    )
    populate(manager)
    client = Client()
    client.force_login(manager)
    now = timezone.now()
    # The busiest schedule: the most layers, then the most overrides.
    busiest = max(
        Schedule.objects.filter(name__startswith=PREFIX).prefetch_related("layers", "overrides"),
        key=lambda s: (len(s.layers.all()), len(s.overrides.all()), -s.id),
    )
    everyone = Schedule.objects.all()
    count = everyone.count()
    scenarios: list[tuple[str, Callable[[], object] | str]] = [
        (
            f"oncall_now: all {count} schedules",
            lambda: selectors.oncall_now(schedules=Schedule.objects.all(), at=now),
        ),
        (
            "schedule_shifts: one schedule, 14 days",
            lambda: selectors.schedule_shifts(
                schedule=busiest, start=now, end=now + timedelta(days=14)
            ),
        ),
    ]
    try:
        url = reverse("oncall:detail", args=[busiest.id]) + "?days=14"
    except NoReverseMatch:
        scenarios.append(("page: schedule, 14-day timeline", "n/a (page not built yet)"))
    else:
        scenarios.append(("page: schedule, 14-day timeline", page(client, url)))
    try:
        url = reverse("oncall:schedules")
    except NoReverseMatch:
        scenarios.append((f"page: schedules list ({count})", "n/a (page not built yet)"))
    else:
        scenarios.append((f"page: schedules list ({count}), now and next", page(client, url)))
    print(
        f"\n{connection.vendor}, {count:,} schedules, {Layer.objects.count():,} layers "
        f"({Layer.objects.exclude(restrictions=[]).count():,} restricted), "
        f"{Override.objects.count():,} overrides; busiest: {busiest.name} "
        f"({len(busiest.layers.all())} layers, {busiest.time_zone}); {REPEAT} runs each\n"
    )
    rows = []
    for name, run in scenarios:
        if isinstance(run, str):
            rows.append((name, run, "", None))
            continue
        try:
            median, p95, queries = measure(run)
        except AssertionError as exc:
            rows.append((name, f"n/a ({exc})", "", None))
            continue
        rows.append((name, f"p50 {median:.1f} ms, p95 {p95:.1f} ms, {queries} queries", "", None))
    report("oncall", rows)


if __name__ == "__main__":
    main()
