"""Benchmark: paging latency and timer lateness, against a real Celery worker
and beat over real Redis, with a worker killed and restarted once.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tscc_bench_esc \\
    REDIS_URL=redis://127.0.0.1:6379/9 make bench-escalations

1. Page latency: N incidents (default 500) declared at 20 per second; each
   pages one responder whose contact method is a webhook to a local HTTP sink
   (a real server on loopback). Latency = first webhook received minus the
   start of the declaring call (so it includes the declare transaction).
2. Timer lateness: 1,000 escalation steps due within one minute, fired by the
   beat sweep; lateness = fired_at minus due_at.
3. The same with the paging worker killed (SIGKILL) 25 s in and restarted 3 s
   later: nothing lost (every timer fired exactly once, one page each).

Workers as deployed (docker-compose.yml): one on the critical (paging) queue,
concurrency 2, and one on default and bulk.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tscc.settings")
os.environ.setdefault("TSCC_VAR_DIR", "var/bench")
os.environ.setdefault("DEBUG", "false")  # production settings, as deployed
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/tscc_bench_esc")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/9")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz")
os.environ.setdefault("ALLOWED_HOSTS", "localhost")

import django  # noqa: E402

django.setup()

from benchlib import ensure_database, report  # noqa: E402
from django.db import transaction  # noqa: E402
from django.utils import timezone  # noqa: E402
from stack import route_pages_to  # noqa: E402

from escalations.models import (  # noqa: E402
    Delivery,
    Escalation,
    EscalationPolicy,
    Page,
    Timer,
)
from escalations.services import policy_snapshot  # noqa: E402
from incidents.domain.severity import ImpactAnswers  # noqa: E402
from incidents.models import Category, Incident, IncidentCounter  # noqa: E402
from incidents.services import Declaration, incident_declare  # noqa: E402
from incidents.signals import incident_declared  # noqa: E402
from tscc.models import User  # noqa: E402
from tscc.roles import Role  # noqa: E402

N_PAGES = int(os.environ.get("BENCH_INCIDENTS", "500"))
RATE = 20.0
N_TIMERS = int(os.environ.get("BENCH_TIMERS", "1000"))
ARRIVALS: dict[str, float] = {}
COMMITS: dict[int, float] = {}


def _committed(sender, incident_id: int, **kwargs) -> None:
    COMMITS[incident_id] = time.time()


# incident_declared is sent on commit; this receiver goes first, so its time
# is the declaration's commit, before escalations writes a single paging row.
incident_declared.connect(_committed, dispatch_uid="bench.committed")
incident_declared.receivers.insert(0, incident_declared.receivers.pop())
incident_declared.sender_receivers_cache.clear()


class Sink(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        ARRIVALS.setdefault(body["title"].split()[-1], time.time())
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


def start_sink() -> str:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Sink)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}/hook"


def celery(*args: str) -> subprocess.Popen:
    return subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "celery", "-A", "tscc", *args, "--loglevel", "WARNING"],
        cwd=ROOT,
        env=dict(os.environ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def worker(queues: str = "critical", concurrency: int = 2) -> subprocess.Popen:
    """As deployed (docker-compose.yml): paging has its own worker on the
    critical queue, so pages never wait behind default or bulk work."""
    name = "paging" if queues == "critical" else "general"
    return celery(
        "worker",
        "-Q",
        queues,
        "--concurrency",
        str(concurrency),
        "-O",
        "fair",
        "--hostname",
        f"bench-{name}@%h",
    )


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def clear_leftovers() -> None:
    """Earlier runs leave open incidents and escalations behind; close them
    (bench data only) so their deadlines do not fire during this run."""
    Incident.objects.exclude(state__in=["resolved", "closed", "cancelled", "merged"]).update(
        state="closed"
    )
    Escalation.objects.filter(state="active").update(state="resolved")
    Timer.objects.filter(state="pending").update(state="cancelled")
    Delivery.objects.filter(state="pending").update(state="cancelled")


def setup(sink: str) -> tuple[User, EscalationPolicy]:
    manager, _ = User.objects.get_or_create(
        username="bench-mgr", defaults={"role": Role.OPS_MANAGER}
    )
    paged, _ = User.objects.get_or_create(
        username="bench-oncall", defaults={"role": Role.RESPONDER}
    )
    policy = route_pages_to(paged, sink, "Bench policy")
    year = timezone.now().year
    highest = (
        Incident.objects.filter(year=year)
        .order_by("-number")
        .values_list("number", flat=True)
        .first()
    )
    counter, _ = IncidentCounter.objects.get_or_create(year=year)
    if highest and counter.last < highest:  # data left by an older bench version
        counter.last = highest
        counter.save(update_fields=["last"])
    return manager, policy


def page_latency(manager: User) -> tuple[list[float], list[float]]:
    """(from the start of the declaring call, from its commit) in ms. The
    declaring call includes paging's own work after the commit (starting
    the escalation and firing its first step), as a web request would."""
    category = Category.objects.get(code="tooling_outage")
    started: dict[str, float] = {}
    committed: dict[str, float] = {}
    for i in range(N_PAGES):
        t0 = time.time()
        incident = incident_declare(
            actor=manager,
            declaration=Declaration(
                title=f"Bench page {i}", category=category, answers=ImpactAnswers(operations=3)
            ),
        )
        started[incident.reference] = t0
        committed[incident.reference] = COMMITS[incident.id]
        time.sleep(max(0.0, 1 / RATE - (time.time() - t0)))
    deadline = time.time() + 60
    while len([r for r in started if r in ARRIVALS]) < len(started) and time.time() < deadline:
        time.sleep(0.2)
    return (
        [(ARRIVALS[r] - t) * 1000 for r, t in started.items() if r in ARRIVALS],
        [(ARRIVALS[r] - t) * 1000 for r, t in committed.items() if r in ARRIVALS],
    )


def make_timers(manager: User, policy: EscalationPolicy) -> list[int]:
    category = Category.objects.get(code="tooling_outage")
    now = timezone.now()
    with transaction.atomic():  # reserve numbers, as declaring would
        counter, _ = IncidentCounter.objects.select_for_update().get_or_create(year=now.year)
        start = counter.last
        counter.last += N_TIMERS
        counter.save(update_fields=["last"])
    incidents = Incident.objects.bulk_create(
        [
            Incident(
                year=now.year,
                number=start + 1 + i,
                title=f"Bench timer {i}",
                category=category,
                severity="sev2",
                discovered_at=now,
                declared_at=now,
                created_by=manager,
            )
            for i in range(N_TIMERS)
        ]
    )
    snapshot = policy_snapshot(policy)
    escalations = Escalation.objects.bulk_create(
        [
            Escalation(incident=i, policy=policy, snapshot=snapshot, started_at=now)
            for i in incidents
        ]
    )
    begin = now + timedelta(seconds=5)
    timers = Timer.objects.bulk_create(
        [
            Timer(
                kind=Timer.Kind.ESCALATE,
                escalation=e,
                step=0,
                due_at=begin + timedelta(seconds=60 * k / N_TIMERS),
            )
            for k, e in enumerate(escalations)
        ]
    )
    return [t.id for t in timers]


def wait_fired(ids: list[int], limit: float) -> None:
    deadline = time.time() + limit
    while (
        Timer.objects.filter(id__in=ids, state=Timer.State.PENDING).exists()
        and time.time() < deadline
    ):
        time.sleep(1)


def lateness(ids: list[int]) -> list[float]:
    rows = Timer.objects.filter(id__in=ids, state=Timer.State.FIRED).values_list(
        "due_at", "fired_at"
    )
    return [(fired - due).total_seconds() for due, fired in rows]


def row(name: str, values: list[float], unit: str, expected: int, target: str, good) -> tuple:
    if not values:
        return (name, "nothing measured", target, False if target else None)
    result = (
        f"{len(values)}/{expected}: p50 {pct(values, 0.5):.1f} {unit}, "
        f"p99 {pct(values, 0.99):.1f} {unit}, max {max(values):.1f} {unit}"
    )
    return (name, result, target, good(values) if target else None)


def main() -> None:
    ensure_database()
    sink = start_sink()
    clear_leftovers()
    manager, policy = setup(sink)
    procs = [
        worker(),
        worker("default,bulk", 1),
        celery("beat", "--schedule", str(ROOT / "var" / "bench" / "beat-schedule")),
    ]
    try:
        time.sleep(6)
        latencies, after_commit = page_latency(manager)
        ids = make_timers(manager, policy)
        wait_fired(ids, 180)
        late = lateness(ids)
        ids_kill = make_timers(manager, policy)
        time.sleep(25)
        procs[0].send_signal(signal.SIGKILL)
        procs[0].wait()
        time.sleep(3)
        procs[0] = worker()
        wait_fired(ids_kill, 240)
        late_kill = lateness(ids_kill)
        pages_kill = Page.objects.filter(escalation__timers__id__in=ids_kill).count()
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
    complete = len(late_kill) == N_TIMERS and pages_kill == N_TIMERS
    report(
        "escalations",
        [
            row("page latency: declare call -> first webhook", latencies, "ms", N_PAGES, "", None),
            row(
                "page latency: commit -> first webhook",
                after_commit,
                "ms",
                N_PAGES,
                "p99 < 100 ms",
                lambda v: pct(v, 0.99) < 100,
            ),
            row(
                "timer lateness: fired - due",
                late,
                "s",
                N_TIMERS,
                "p99 < 1.2 s, max < 2 s",
                lambda v: pct(v, 0.99) < 1.2 and max(v) < 2,
            ),
            row(
                "timer lateness, paging worker killed + restarted",
                late_kill,
                "s",
                N_TIMERS,
                "nothing lost",
                lambda v: complete,
            ),
            (
                "pages made in the kill run",
                f"{pages_kill} for {N_TIMERS} steps",
                "one per step",
                pages_kill == N_TIMERS,
            ),
        ],
    )


if __name__ == "__main__":
    main()
