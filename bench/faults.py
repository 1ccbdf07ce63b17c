"""Fault injection against the real stack: uvicorn (1 worker), a Celery worker
(every queue) and beat as separate processes, on PostgreSQL and a private
redis-server, with five faults injected under load.

    make bench-faults
    .venv/bin/python bench/faults.py            # all five
    BENCH_FAULTS=1,4 .venv/bin/python bench/faults.py

Defaults: DATABASE_URL=postgres://postgres@127.0.0.1:5432/tscc_bench_faults
(created and migrated if missing); Redis is a redis-server this script starts
on a free port (no persistence), so restarting it disturbs nothing else.
Production settings (DEBUG=false), as deployed.

Each scenario starts a fresh stack, a steady load, injects the fault, heals,
waits until the system has caught up, then checks the invariants against the
database and a local webhook sink that records every delivery's
idempotency key:

1. kill -9 the Celery worker (its whole process group) while pages are in
   flight (an incident declared every 100 ms, each paging a responder whose
   webhook is the sink); restart it 3 s later. Every page's delivery arrives
   exactly once by idempotency key (an at-least-once repeat of the same key
   is reported as a duplicate).
2. Restart Redis: kill -9 the private redis-server, start it empty on the
   same port 3 s later. Load: vendor snapshot posts (API, vendor token), war
   room chat over websockets, declarations paging. Every snapshot answered
   201 is in the database once; failures were errors, not 201s; every chat
   message acknowledged (echoed back to its poster) is on the timeline once;
   every declaration's page arrives.
3. PostgreSQL unavailable for 10 s: web, worker and beat reach PostgreSQL
   through a TCP proxy that closes every connection and refuses new ones for
   10 s (what a stopped server looks like). Requests fail fast (5xx), the web
   process serves again without a restart, worker and beat carry on.
4. Drop every websocket at once: kill -9 uvicorn with 100 war-room clients
   connected and chat posted at 5/s, start it again; every client reconnects,
   resumes from its last sequence, and ends with every event exactly once and
   in order.
5. kill -9 beat while BENCH_TIMERS (default 500) escalation steps fall due
   within 30 s, restart it 5 s later: every step fires once, one page and
   one delivery each; lateness (fired_at - due_at) reported.

"Caught up" means every page arrived at the sink and no delivery is still
pending in the database: a delivery claimed by a killed worker is re-sent
when its lease (ESCALATION_DELIVERY_LEASE_SECONDS, 60 s) runs out, which is
when an at-least-once repeat (the same idempotency key twice) shows. A
process that exits during a fault is reported ("did NOT recover by
itself") and restarted by the bench 5 s after the fault is healed, as
Compose's restart policy would, so the rest of the invariants still get
checked.

The table goes to stdout and to var/bench-faults/faults.md; process logs to
var/bench-faults/.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import logging
import os
import re
import socket
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tscc.settings")
os.environ.setdefault("TSCC_VAR_DIR", "var/bench-faults")
os.environ.setdefault("DEBUG", "false")  # production settings, as deployed
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz")
os.environ.setdefault("ALLOWED_HOSTS", "localhost,127.0.0.1")
os.environ.setdefault("SECURE_PROXY_SSL_HEADER", "true")  # behind a TLS proxy, as deployed
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/tscc_bench_faults")
os.environ.setdefault("LOG_LEVEL", "WARNING")


from stack import (  # noqa: E402
    RedisServer,
    RoomClient,
    Sink,
    Stack,
    free_port,
    kill_group,
    route_pages_to,
    session_cookie,
    users,
)

REDIS_PORT = free_port()
os.environ["REDIS_URL"] = f"redis://127.0.0.1:{REDIS_PORT}/0"
os.environ.setdefault("REDIS_PREFIX", f"bench-faults-{os.getpid()}")

import django  # noqa: E402

django.setup()

from benchlib import ensure_database, report  # noqa: E402
from django.db import connections, transaction  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.utils import timezone  # noqa: E402

from escalations.models import (  # noqa: E402
    Delivery,
    Escalation,
    EscalationPolicy,
    Page,
    Timer,
)
from escalations.services import policy_snapshot  # noqa: E402
from incidents.domain.severity import ImpactAnswers  # noqa: E402
from incidents.models import Category, Incident, IncidentCounter, TimelineEvent  # noqa: E402
from incidents.services import Declaration, incident_declare  # noqa: E402
from incidents.services.chat import incident_chat_post  # noqa: E402
from tests.e2e.freezable_proxy import FreezableProxy  # noqa: E402
from tscc.models import User  # noqa: E402
from tscc.roles import Role  # noqa: E402
from vendors import services as vendor_services  # noqa: E402
from vendors.models import Queue, QueueSnapshot, Vendor  # noqa: E402

LOG_DIR = ROOT / os.environ["TSCC_VAR_DIR"]
DIRECT_DB = os.environ["DATABASE_URL"]
ONLY = {int(n) for n in os.environ.get("BENCH_FAULTS", "1,2,3,4,5").split(",") if n}
ROOM_CLIENTS = int(os.environ.get("BENCH_ROOM_CLIENTS", "100"))
N_TIMERS = int(os.environ.get("BENCH_TIMERS", "500"))
VENDOR_QUEUES = 20

MARK = re.compile(r"FAULT(\d+)K")


SINK: Sink | None = None


# --- Data -------------------------------------------------------------------------


@dataclass
class World:
    manager: User
    paged: User
    policy: EscalationPolicy
    category: Category


def clear_leftovers() -> None:
    """Close what earlier scenarios left open, so their timers do not fire now."""
    Incident.objects.exclude(state__in=["resolved", "closed", "cancelled", "merged"]).update(
        state="closed"
    )
    Escalation.objects.filter(state="active").update(state="resolved")
    Timer.objects.filter(state="pending").update(state="cancelled")
    Delivery.objects.filter(state="pending").update(state="cancelled")


def setup_world() -> World:
    manager, _ = User.objects.get_or_create(
        username="faults-mgr", defaults={"role": Role.OPS_MANAGER}
    )
    paged, _ = User.objects.get_or_create(
        username="faults-oncall", defaults={"role": Role.RESPONDER}
    )
    policy = route_pages_to(paged, SINK.url, "Faults policy")
    year = timezone.now().year
    highest = (
        Incident.objects.filter(year=year)
        .order_by("-number")
        .values_list("number", flat=True)
        .first()
    )
    counter, _ = IncidentCounter.objects.get_or_create(year=year)
    if highest and counter.last < highest:
        counter.last = highest
        counter.save(update_fields=["last"])
    return World(manager, paged, policy, Category.objects.get(code="tooling_outage"))


def declare(world: World, title: str) -> Incident:
    return incident_declare(
        actor=world.manager,
        declaration=Declaration(
            title=title, category=world.category, answers=ImpactAnswers(operations=3)
        ),
    )


def vendor_token(world: World) -> tuple[list[int], str]:
    vendor, _ = Vendor.objects.get_or_create(
        code="faults-vendor", defaults={"name": "Faults vendor", "owner": world.manager}
    )
    Queue.objects.bulk_create(
        [
            Queue(vendor=vendor, code=f"fq{n:02d}", name=f"Faults {n:02d}", planned_headcount=20)
            for n in range(VENDOR_QUEUES)
        ],
        ignore_conflicts=True,
    )
    QueueSnapshot.objects.filter(queue__vendor=vendor).delete()
    _token, secret = vendor_services.token_create(
        actor=world.manager, vendor_id=vendor.id, name=f"faults-{time.time():.0f}"
    )
    return list(Queue.objects.filter(vendor=vendor).order_by("id").values_list("id", flat=True)), (
        secret
    )


def make_timers(world: World, n: int, begin_in: float, spread: float) -> list[int]:
    """n escalation steps (step 0 of fresh escalations) due from `begin_in`
    seconds from now over `spread` seconds; only beat's sweep fires them."""
    now = timezone.now()
    with transaction.atomic():
        counter, _ = IncidentCounter.objects.select_for_update().get_or_create(year=now.year)
        start = counter.last
        counter.last += n
        counter.save(update_fields=["last"])
    incidents = Incident.objects.bulk_create(
        [
            Incident(
                year=now.year,
                number=start + 1 + i,
                title=f"Faults timer {i}",
                category=world.category,
                severity="sev2",
                discovered_at=now,
                declared_at=now,
                created_by=world.manager,
            )
            for i in range(n)
        ]
    )
    snapshot = policy_snapshot(world.policy)
    escalations = Escalation.objects.bulk_create(
        [
            Escalation(incident=i, policy=world.policy, snapshot=snapshot, started_at=now)
            for i in incidents
        ]
    )
    begin = now + timedelta(seconds=begin_in)
    timers = Timer.objects.bulk_create(
        [
            Timer(
                kind=Timer.Kind.ESCALATE,
                escalation=e,
                step=0,
                due_at=begin + timedelta(seconds=spread * k / n),
            )
            for k, e in enumerate(escalations)
        ]
    )
    return [t.id for t in timers]


# --- Load -------------------------------------------------------------------------


class Declarer(threading.Thread):
    """Declares an incident every `every` seconds (in this process, on the
    direct database connection), each paging the sink's responder."""

    def __init__(self, world: World, every: float, tag: str) -> None:
        super().__init__(daemon=True)
        self.world, self.every, self.tag = world, every, tag
        self.stop = threading.Event()
        self.declared: list[tuple[int, float]] = []  # (incident id, time)
        self.failures: list[str] = []

    def run(self) -> None:
        n = 0
        try:
            while not self.stop.is_set():
                t0 = time.time()
                try:
                    incident = declare(self.world, f"Faults {self.tag} {n}")
                    self.declared.append((incident.id, t0))
                except Exception as exc:  # counted
                    self.failures.append(f"{type(exc).__name__}: {exc}"[:120])
                n += 1
                self.stop.wait(max(0.0, self.every - (time.time() - t0)))
        finally:
            connections.close_all()


class SnapshotPoster(threading.Thread):
    """POST /api/v1/vendors/snapshots/ every `every` seconds, one unique
    (queue, minute) each; records status, latency and the answered id."""

    def __init__(self, port: int, secret: str, queues: list[int], every: float) -> None:
        super().__init__(daemon=True)
        self.port, self.secret, self.queues, self.every = port, secret, queues, every
        self.stop = threading.Event()
        self.results: list[dict] = []
        self.base = timezone.now().replace(second=0, microsecond=0) - timedelta(minutes=1)

    def body(self, j: int) -> dict:
        return {
            "queue_id": self.queues[j % len(self.queues)],
            "taken_at": (self.base - timedelta(minutes=j // len(self.queues))).isoformat(),
            "backlog": 50 + j % 50,
            "inflow_per_hour": 300,
            "outflow_per_hour": 350,
            "oldest_item_minutes": 5,
            "sla_attainment": 99.0,
            "staffed_headcount": 20,
        }

    def run(self) -> None:
        conn = None
        headers = {
            "Authorization": f"Vendor {self.secret}",
            "Content-Type": "application/json",
            "Host": "localhost",
            "X-Forwarded-Proto": "https",
        }
        j = 0
        while not self.stop.is_set():
            t0 = time.time()
            body = self.body(j)
            result = {"j": j, "t": t0, "queue": body["queue_id"], "taken_at": body["taken_at"]}
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                conn.request(
                    "POST", "/api/v1/vendors/snapshots/", body=json.dumps(body), headers=headers
                )
                response = conn.getresponse()
                answer = response.read()
                result["status"] = response.status
                if response.status == 201:
                    result["id"] = json.loads(answer)["id"]
                elif response.will_close:
                    conn.close()
                    conn = None
            except Exception as exc:  # connection refused/reset/timeout: an error
                result["status"] = type(exc).__name__
                with contextlib.suppress(Exception):
                    conn.close()
                conn = None
            result["latency"] = time.time() - t0
            self.results.append(result)
            j += 1
            self.stop.wait(max(0.0, self.every - (time.time() - t0)))


def check_snapshots(poster: SnapshotPoster) -> dict:
    """201s present once; errors not written (or reported); latencies."""
    ok = [r for r in poster.results if r["status"] == 201]
    failed = [r for r in poster.results if r["status"] != 201]
    rows = QueueSnapshot.objects.filter(queue_id__in=poster.queues)
    by_key = Counter(
        (q, t.isoformat()) for q, t in rows.values_list("queue_id", "taken_at").iterator()
    )
    ids = set(rows.values_list("id", flat=True))

    def key(r: dict) -> tuple[int, str]:
        return r["queue"], datetime.fromisoformat(r["taken_at"]).isoformat()

    missing = [r for r in ok if r["id"] not in ids or by_key[key(r)] == 0]
    duplicated = [r for r in ok if by_key[key(r)] > 1]
    written = [r for r in failed if by_key[key(r)] > 0]
    # 503 says "retry" (Retry-After): a retry of a post that did commit meets
    # the queue's one-per-minute key (409), so nothing is stored twice.
    written_anyway = [r for r in written if r["status"] != 503]
    retry_committed = [r for r in written if r["status"] == 503]
    statuses = Counter(str(r["status"]) for r in failed)
    return {
        "posted": len(poster.results),
        "ok": len(ok),
        "failed": len(failed),
        "missing": len(missing),
        "duplicated": len(duplicated),
        "written_anyway": len(written_anyway),
        "retry_committed": len(retry_committed),
        "statuses": dict(statuses),
        "max_failed_latency": max((r["latency"] for r in failed), default=0.0),
        "max_latency": max((r["latency"] for r in poster.results), default=0.0),
    }


def first_ok_after(poster: SnapshotPoster, t: float) -> float | None:
    """When the first post started after `t` whose answer was 201, with every
    later post 201 too (the service is back for good)."""
    after = [r for r in poster.results if r["t"] >= t]
    for i, r in enumerate(after):
        if all(x["status"] == 201 for x in after[i:]):
            return r["t"] + r["latency"]
    return None


def page_keys(incident_ids: list[int]) -> tuple[set[str], set[int]]:
    """The webhook deliveries' keys for these incidents, and the incidents
    that have no webhook delivery at all (paging never started)."""
    rows = list(
        Delivery.objects.filter(
            page__escalation__incident_id__in=incident_ids, channel="webhook"
        ).values_list("idempotency_key", "page__escalation__incident_id")
    )
    paged = {i for _, i in rows}
    return {k for k, _ in rows}, set(incident_ids) - paged


def wait_pages(incident_ids: list[int], limit: float) -> tuple[set[str], set[int]]:
    """Until every page arrived at the sink AND the database agrees (no
    delivery still pending: one claimed by a killed worker is re-sent when
    its lease runs out, which is when an at-least-once repeat shows)."""
    deadline = time.monotonic() + limit
    while True:
        keys, unpaged = page_keys(incident_ids)
        arrived = SINK.counts()
        settled = not Delivery.objects.filter(
            idempotency_key__in=keys, state=Delivery.State.PENDING
        ).exists()
        if (not unpaged and settled and all(arrived[k] for k in keys)) or (
            time.monotonic() > deadline
        ):
            return keys, unpaged
        time.sleep(0.5)


SINK_NOTES: list[str] = []  # what page_verdict noticed that is not a loss or a duplicate


def page_verdict(keys: set[str], unpaged: set[int]) -> tuple[list[str], dict]:
    arrived = SINK.counts()
    lost = sorted(k for k in keys if not arrived[k])
    dups = {k: arrived[k] for k in keys if arrived[k] > 1}
    problems = []
    pending = Delivery.objects.filter(idempotency_key__in=keys, state=Delivery.State.PENDING)
    if pending.exists():
        problems.append(f"{pending.count()} deliveries still pending in the database")
    if unpaged:
        problems.append(f"{len(unpaged)} incidents never paged (ids {sorted(unpaged)[:5]})")
    if lost:
        problems.append(f"{len(lost)} pages not delivered ({lost[:3]})")
    # TSCC's own records: one delivery per page and channel, one page per
    # incident here (the only level pages one responder).
    doubled = (
        Delivery.objects.filter(idempotency_key__in=keys)
        .values("page_id", "channel")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count()
    )
    if doubled:
        problems.append(f"{doubled} pages with more than one delivery record")
    if dups:
        # The provider had the request when the worker died, before "sent"
        # was committed: re-sent after the lease with the same key. Exactly
        # once to an outside provider cannot be had; the key lets the
        # receiver show the page once (every channel's payload carries it).
        SINK_NOTES.append(
            f"{len(dups)} deliveries re-sent with the same idempotency key (at-least-once: "
            f"the worker died inside the provider call; {list(dups)[:2]})"
        )
    return problems, {"pages": len(keys), "lost": len(lost), "dups": len(dups)}


def warm_up(world: World, limit: float = 90) -> None:
    """One declaration through worker and beat: the stack is serving."""
    incident = declare(world, "Faults warm-up")
    keys, unpaged = wait_pages([incident.id], limit)
    arrived = SINK.counts()
    if unpaged or not all(arrived[k] for k in keys):
        raise RuntimeError("warm-up page not delivered: worker or beat not working")


# --- War-room clients ---------------------------------------------------------------


def db_seqs(incident_id: int, after: int) -> list[int]:
    return list(
        TimelineEvent.objects.filter(incident_id=incident_id, seq__gt=after)
        .order_by("seq")
        .values_list("seq", flat=True)
    )


def last_seq(incident_id: int) -> int:
    return Incident.objects.values_list("last_seq", flat=True).get(id=incident_id)


# --- Scenarios ----------------------------------------------------------------------


@dataclass
class Row:
    n: int
    fault: str
    result: str = "not run"
    recovery: str = "-"
    notes: list[str] = field(default_factory=list)


def fmt(seconds: float | None) -> str:
    return "never" if seconds is None else f"{max(0.0, seconds):.1f} s"


def scenario_worker(world: World, row: Row) -> None:
    stack = Stack("s1", LOG_DIR, DIRECT_DB)
    stack.start()
    declarer = None
    try:
        warm_up(world)
        # The provider answers after 0.2 s, so the kill finds deliveries the
        # sink has received and the worker has not yet marked sent.
        SINK.delay = 0.5
        declarer = Declarer(world, 0.1, "s1")
        declarer.start()
        time.sleep(5)
        deadline = time.monotonic() + 5  # kill while the sink holds a delivery
        while SINK.inflight == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        sent_before = len(SINK.calls)
        in_flight_at_kill = SINK.inflight
        kill_group(stack.worker)
        killed = time.time()
        time.sleep(3)
        stack.start_worker()
        restarted = time.time()
        time.sleep(7)
        declarer.stop.set()
        declarer.join(30)
        ids = [i for i, _ in declarer.declared]
        keys, unpaged = wait_pages(ids, 150)
        problems, stats = page_verdict(keys, unpaged)
        if declarer.failures:
            problems.append(f"{len(declarer.failures)} declarations failed")
        last = SINK.last_arrival(keys)
        row.result = "ok" if not problems else "; ".join(problems)
        row.recovery = fmt(last - restarted if last else None) + " (restart → last page)"
        in_flight = Delivery.objects.filter(idempotency_key__in=keys, attempts__gt=1).count()
        row.notes += [
            f"{len(ids)} incidents declared at 10/s; {stats['pages']} webhook pages, "
            f"{stats['lost']} lost, {stats['dups']} duplicate keys",
            f"worker killed {killed - declarer.declared[0][1]:.1f} s in "
            f"({sent_before} sink calls before, {in_flight_at_kill} at the sink unanswered "
            f"when killed; provider answers in {SINK.delay:.1f} s), {in_flight} deliveries "
            "needed >1 attempt",
            f"stack after: {stack.alive()}",
        ]
    finally:
        SINK.delay = 0.0
        if declarer:
            declarer.stop.set()
        stack.stop()


def scenario_redis(world: World, row: Row, redis: RedisServer) -> None:
    stack = Stack("s2", LOG_DIR, DIRECT_DB)
    stack.start()
    declarer = poster = None
    clients: list[RoomClient] = []
    try:
        warm_up(world)
        queues, secret = vendor_token(world)
        incident = declare(world, "Faults war room (Redis restart)")
        managers = users("faults-s2-poster", 3, Role.OPS_MANAGER)
        watcher_user = users("faults-s2-watcher", 1, Role.RESPONDER)[0]
        cookies = [session_cookie(u) for u in managers]
        watcher_cookie = session_cookie(watcher_user)
        since = last_seq(incident.id)
        uri = f"ws://localhost:{stack.port}/ws/incidents/{incident.id}/"
        origin = f"http://localhost:{stack.port}"
        posters = [RoomClient(uri, origin, c, since, MARK) for c in cookies]
        watcher = RoomClient(uri, origin, watcher_cookie, since, MARK)
        clients = [*posters, watcher]
        sent: dict[int, float] = {}
        marks = {"killed": 0.0, "back": 0.0}
        died: list[str] = []

        async def chat_load() -> None:
            tasks = [asyncio.create_task(c.run()) for c in clients]
            deadline = time.time() + 25
            n = 0
            while time.time() < deadline:
                for p in posters:
                    if await p.send_chat(f"chat FAULT{n}K"):
                        sent[n] = time.time()
                        n += 1
                await asyncio.sleep(1.2)
            await asyncio.sleep(3)
            # Acknowledged = echoed back; give the slow ones time, then stop.
            for c in clients:
                await c.close()
            await asyncio.wait(tasks, timeout=10)

        def fault() -> None:
            time.sleep(5)
            redis.kill()
            marks["killed"] = time.time()
            time.sleep(3)
            redis.start()
            marks["back"] = time.time()
            time.sleep(5)
            died.extend(stack.revive())
            marks["revived"] = time.time()

        poster = SnapshotPoster(stack.port, secret, queues, 0.1)
        declarer = Declarer(world, 0.25, "s2")
        faulter = threading.Thread(target=fault, daemon=True)
        poster.start()
        declarer.start()
        faulter.start()
        asyncio.run(chat_load())
        faulter.join(30)
        poster.stop.set()
        declarer.stop.set()
        poster.join(60)
        declarer.join(60)
        back = marks["back"]
        ids = [i for i, _ in declarer.declared]
        keys, unpaged = wait_pages(ids, 120)
        problems, stats = page_verdict(keys, unpaged)
        snaps = check_snapshots(poster)
        if snaps["missing"] or snaps["duplicated"]:
            problems.append(
                f"snapshots answered 201: {snaps['missing']} missing, "
                f"{snaps['duplicated']} duplicated"
            )
        # Chat: acknowledged = the poster saw its own marker come back.
        acked: dict[int, float] = {}
        for p in posters:
            for m, t in p.markers.items():
                if m in sent:
                    acked.setdefault(m, t)
        texts = Counter(
            int(m[1])
            for text in TimelineEvent.objects.filter(
                incident=incident, kind=TimelineEvent.Kind.MESSAGE
            ).values_list("text", flat=True)
            if (m := MARK.search(text))
        )
        chat_missing = [m for m in acked if texts[m] == 0]
        chat_dup = [m for m in texts if texts[m] > 1]
        if chat_missing or chat_dup:
            problems.append(
                f"chat: {len(chat_missing)} acknowledged missing, {len(chat_dup)} duplicated"
            )
        unacked_in_db = [m for m in sent if m not in acked and texts[m]]
        watcher_after = [m for m, t in watcher.markers.items() if t > back]
        first_ok = first_ok_after(poster, marks["killed"])
        last_page = SINK.last_arrival(keys)
        first_ack = min((t for t in acked.values() if t > back), default=None)
        if died:
            problems.insert(
                0,
                "did NOT recover by itself: " + "; ".join(died) + " — restarted by the bench "
                "5 s after Redis came back (as a supervisor would)",
            )
        row.result = "ok" if not problems else "; ".join(problems)
        row.recovery = (
            f"posts {fmt(first_ok - back if first_ok else None)}, "
            f"chat {fmt(first_ack - back if first_ack else None)}, "
            f"pages {fmt(last_page - back if last_page else None)} (after Redis back)"
        )
        row.notes += [
            f"snapshots: {snaps['posted']} posted, {snaps['ok']} × 201, {snaps['failed']} "
            f"failed {snaps['statuses']} (slowest failure {snaps['max_failed_latency']:.1f} s), "
            f"{snaps['written_anyway']} failed-but-written",
            f"chat: {len(sent)} sent, {len(acked)} acknowledged, {len(unacked_in_db)} "
            f"unacknowledged but on the timeline, {sum(len(p.closes) for p in posters)} "
            f"poster reconnects",
            f"watcher socket: {len(watcher.closes)} reconnects, "
            f"{len(watcher_after)} messages received after Redis came back",
            f"{len(ids)} declarations ({len(declarer.failures)} failed), {stats['pages']} "
            f"pages, {stats['lost']} lost, {stats['dups']} duplicate keys",
            f"stack after: {stack.alive()}",
        ]
    finally:
        for t in (declarer, poster):
            if t:
                t.stop.set()
        stack.stop()


class OutageProxy(FreezableProxy):
    """FreezableProxy that can also behave like a stopped server: every open
    connection closed, new ones accepted and closed at once."""

    def __init__(self, upstream_port: int) -> None:
        self.down = threading.Event()
        super().__init__(upstream_port)

    def _accept(self) -> None:
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.down.is_set():
                client.close()
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            except OSError:
                client.close()
                continue
            conn = {"sockets": (client, upstream), "frozen": threading.Event()}
            with self.lock:
                self.connections.append(conn)
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(conn, src, dst), daemon=True).start()

    def stop_server(self) -> int:
        self.down.set()
        with self.lock:
            conns, self.connections = self.connections, []
        for conn in conns:
            for s in conn["sockets"]:
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                with contextlib.suppress(OSError):
                    s.close()
        return len(conns)

    def start_server(self) -> None:
        self.down.clear()


def scenario_postgres(world: World, row: Row) -> None:
    from urllib.parse import urlsplit, urlunsplit

    url = urlsplit(DIRECT_DB)
    proxy = OutageProxy(url.port or 5432)
    via_proxy = urlunsplit(url._replace(netloc=f"{url.username}@127.0.0.1:{proxy.port}"))
    stack = Stack("s3", LOG_DIR, via_proxy)
    stack.start()
    declarer = poster = None
    try:
        warm_up(world)
        queues, secret = vendor_token(world)
        poster = SnapshotPoster(stack.port, secret, queues, 0.1)
        declarer = Declarer(world, 0.25, "s3")
        poster.start()
        declarer.start()
        time.sleep(5)
        closed = proxy.stop_server()
        down = time.time()
        time.sleep(10)
        proxy.start_server()
        healed = time.time()
        time.sleep(5)
        died = stack.revive()
        time.sleep(7)
        poster.stop.set()
        declarer.stop.set()
        poster.join(60)
        declarer.join(60)
        ids = [i for i, _ in declarer.declared]
        keys, unpaged = wait_pages(ids, 120)
        problems, stats = page_verdict(keys, unpaged)
        snaps = check_snapshots(poster)
        if snaps["missing"] or snaps["duplicated"]:
            problems.append(
                f"snapshots answered 201: {snaps['missing']} missing, "
                f"{snaps['duplicated']} duplicated"
            )
        during = [r for r in poster.results if down <= r["t"] < healed]
        hung = [r for r in during if r["latency"] > 10]
        if hung:
            problems.append(f"{len(hung)} requests hung > 10 s during the outage")
        if snaps["written_anyway"]:
            problems.append(f"{snaps['written_anyway']} posts answered an error but written")
        if snaps["retry_committed"]:
            row.notes.append(
                f"{snaps['retry_committed']} posts answered 503 (retry) though committed: "
                "the connection broke between COMMIT and the reply; a retry meets the "
                "one-per-minute key (409), nothing stored twice"
            )
        server_errors = [r for r in during if r["status"] == 500]
        if server_errors:
            problems.append(f"{len(server_errors)} answered 500 during the outage (not 503)")
        after = [r for r in poster.results if r["t"] >= healed + 5]
        after_errors = [r for r in after if r["status"] != 201]
        if after_errors:
            problems.append(
                f"{len(after_errors)} errors more than 5 s after PostgreSQL came back "
                f"({Counter(str(r['status']) for r in after_errors)})"
            )
        if died:
            problems.insert(
                0,
                "did NOT recover by itself: " + "; ".join(died) + " — restarted by the bench "
                "5 s after PostgreSQL came back",
            )
        first_ok = first_ok_after(poster, down)
        last_page = SINK.last_arrival(keys)
        during_status = Counter(str(r["status"]) for r in during)
        row.result = "ok" if not problems else "; ".join(problems)
        row.recovery = (
            f"web {fmt(first_ok - healed if first_ok else None)}, "
            f"pages {fmt(last_page - healed if last_page else None)} (after PostgreSQL back)"
        )
        from django.conf import settings

        with SINK.lock:
            late_pages = sum(1 for k, _, t in SINK.calls if k in keys and t > healed + 20)
        row.notes += [
            f"proxy closed {closed} open connections, refused new ones for 10 s",
            f"{late_pages} pages arrived > 20 s after PostgreSQL came back (a delivery "
            f"claimed when the outage hit waits out its lease, "
            f"ESCALATION_DELIVERY_LEASE_SECONDS={settings.ESCALATION_DELIVERY_LEASE_SECONDS})",
            f"posts during the outage: {dict(during_status)}, slowest "
            f"{max((r['latency'] for r in during), default=0):.2f} s; "
            f"{snaps['ok']}/{snaps['posted']} × 201 overall",
            f"{len(ids)} declarations (direct DB), {stats['pages']} pages, "
            f"{stats['lost']} lost, {stats['dups']} duplicate keys",
            f"stack after: {stack.alive()} (no restart)",
        ]
    finally:
        for t in (declarer, poster):
            if t:
                t.stop.set()
        stack.stop()
        proxy.close()


def scenario_websockets(world: World, row: Row) -> None:
    stack = Stack("s4", LOG_DIR, DIRECT_DB)
    stack.start_web()  # the room needs no worker; beat/worker would only add noise
    try:
        incident = declare(world, "Faults war room (all sockets dropped)")
        members = users("faults-s4-member", ROOM_CLIENTS, Role.RESPONDER)
        cookies = [session_cookie(u) for u in members]
        since = last_seq(incident.id)
        uri = f"ws://localhost:{stack.port}/ws/incidents/{incident.id}/"
        origin = f"http://localhost:{stack.port}"
        clients = [RoomClient(uri, origin, c, since, MARK) for c in cookies]
        marks: dict[str, float] = {}
        stop_posting = threading.Event()
        posted: list[int] = []

        def post_chat() -> None:
            n = 0
            try:
                while not stop_posting.is_set():
                    t0 = time.time()
                    with contextlib.suppress(Exception):
                        event = incident_chat_post(
                            actor=world.manager, incident_id=incident.id, text=f"m FAULT{n}K"
                        )
                        posted.append(event.seq)
                    n += 1
                    stop_posting.wait(max(0.0, 0.2 - (time.time() - t0)))
            finally:
                connections.close_all()

        async def run() -> None:
            tasks = []
            for i in range(0, len(clients), 25):
                tasks += [asyncio.create_task(c.run()) for c in clients[i : i + 25]]
                await asyncio.sleep(0.3)
            deadline = time.time() + 60
            while time.time() < deadline and not all(c.syncs for c in clients):
                await asyncio.sleep(0.2)
            marks["connected"] = sum(1 for c in clients if c.syncs)
            poster = threading.Thread(target=post_chat, daemon=True)
            poster.start()
            await asyncio.sleep(6)
            await asyncio.to_thread(kill_group, stack.web)
            marks["killed"] = time.time()
            await asyncio.to_thread(stack.start_web)
            marks["restarted"] = time.time()
            deadline = time.time() + 60
            while time.time() < deadline and not all(
                any(t > marks["killed"] for t in c.syncs) for c in clients
            ):
                await asyncio.sleep(0.1)
            marks["all_synced"] = time.time()
            await asyncio.sleep(6)
            stop_posting.set()
            await asyncio.to_thread(poster.join, 30)
            final = await asyncio.to_thread(last_seq, incident.id)
            deadline = time.time() + 30
            while time.time() < deadline and not all(c.high >= final for c in clients):
                await asyncio.sleep(0.2)
            for c in clients:
                await c.close()
            await asyncio.wait(tasks, timeout=15)

        asyncio.run(run())
        expected = db_seqs(incident.id, since)
        problems = []
        incomplete = duplicated = disordered = 0
        for c in clients:
            if c.order != expected:
                if set(c.order) != set(expected):
                    incomplete += 1
                elif c.out_of_order:
                    disordered += 1
            duplicated += c.duplicates > 0
        if incomplete:
            worst = min(clients, key=lambda c: len(c.seen))
            problems.append(
                f"{incomplete} clients missing events (worst {len(worst.seen)}/{len(expected)})"
            )
        if duplicated:
            problems.append(f"{duplicated} clients got an event twice")
        if disordered:
            problems.append(f"{disordered} clients got events out of order")
        not_back = [c for c in clients if not any(t > marks["killed"] for t in c.syncs)]
        back_after = sorted(
            min(t for t in c.syncs if t > marks["killed"]) - marks["killed"]
            for c in clients
            if c not in not_back
        )
        closed_after = sorted(
            min((t for t in c.closes if t > marks["killed"] - 1), default=float("nan"))
            - marks["killed"]
            for c in clients
        )
        if not_back:
            problems.append(f"{len(not_back)} clients never reconnected")
        row.result = "ok" if not problems else "; ".join(problems)
        row.recovery = (
            f"{fmt(marks['all_synced'] - marks['killed'])} (kill → all {len(clients)} "
            "reconnected and caught up)"
        )
        row.notes += [
            f"{marks['connected']}/{len(clients)} connected before; uvicorn killed -9 and "
            f"restarted in {marks['restarted'] - marks['killed']:.1f} s",
            f"{len(posted)} chat messages at 5/s; {len(expected)} timeline events checked "
            "per client (exactly once, in order)",
            f"reconnect attempts: {sum(len(c.closes) for c in clients)}; socket closed seen "
            f"{closed_after[0]:.1f}–{closed_after[-1]:.1f} s after the kill; back in sync "
            f"p50 {back_after[len(back_after) // 2] if back_after else 0:.1f} s, max "
            f"{back_after[-1] if back_after else 0:.1f} s",
        ]
    finally:
        stack.stop()


def scenario_beat(world: World, row: Row) -> None:
    stack = Stack("s5", LOG_DIR, DIRECT_DB)
    stack.start()
    try:
        warm_up(world)
        ids = make_timers(world, N_TIMERS, begin_in=3, spread=30)
        created = time.time()
        time.sleep(10)
        kill_group(stack.beat)
        killed = time.time()
        time.sleep(5)
        stack.start_beat()
        restarted = time.time()
        deadline = time.monotonic() + 240
        while (
            Timer.objects.filter(id__in=ids, state=Timer.State.PENDING).exists()
            and time.monotonic() < deadline
        ):
            time.sleep(0.5)
        timers = Timer.objects.filter(id__in=ids)
        escalation_ids = list(timers.values_list("escalation_id", flat=True))
        incident_ids = list(
            Escalation.objects.filter(id__in=escalation_ids).values_list("incident_id", flat=True)
        )
        keys, unpaged = wait_pages(incident_ids, 120)
        problems, stats = page_verdict(keys, unpaged)
        pending = timers.filter(state=Timer.State.PENDING).count()
        if pending:
            problems.append(f"{pending} steps never fired")
        pages_per = Counter(
            dict(
                Page.objects.filter(escalation_id__in=escalation_ids)
                .values_list("escalation_id")
                .annotate(n=Count("id"))
                .values_list("escalation_id", "n")
            )
        )
        twice = [e for e, n in pages_per.items() if n > 1]
        if twice:
            problems.append(f"{len(twice)} steps fired twice (two pages)")
        late = [
            ((f - d).total_seconds(), d.timestamp())
            for d, f in timers.filter(state=Timer.State.FIRED).values_list("due_at", "fired_at")
        ]
        gap = [s for s, due in late if killed <= due < restarted]
        steady = [s for s, due in late if due < killed - 1 or due > restarted + 5]
        caught_up = max(
            (f.timestamp() for d, f in timers.values_list("due_at", "fired_at") if f),
            default=None,
        )
        in_gap = [
            f.timestamp()
            for d, f in timers.values_list("due_at", "fired_at")
            if f and d.timestamp() < restarted
        ]
        fired_times = sorted(f.timestamp() for f in timers.values_list("fired_at", flat=True) if f)
        span = fired_times[-1] - fired_times[0] if len(fired_times) > 1 else 0
        row.notes.append(
            f"sweep throughput {len(fired_times) / span if span else 0:.1f} steps/s "
            f"({len(fired_times)} fired over {span:.0f} s)"
        )
        row.result = "ok" if not problems else "; ".join(problems)
        row.recovery = (
            f"{fmt(max(in_gap) - restarted if in_gap else None)} (restart → last overdue "
            "step fired)"
        )
        row.notes += [
            f"{N_TIMERS} steps due over 30 s, the first {killed - created - 3:.1f} s before "
            "the kill; "
            f"beat down {restarted - killed:.1f} s; {len(gap)} fell due while it was down",
            f"lateness max {max((s for s, _ in late), default=0):.1f} s (steps due while "
            f"down: max {max(gap, default=0):.1f} s; others: max "
            f"{max(steady, default=0):.1f} s)",
            f"{stats['pages']} webhook pages, {stats['lost']} lost, {stats['dups']} duplicate "
            f"keys; all fired by {fmt(caught_up - created if caught_up else None)} after "
            "creation",
            f"stack after: {stack.alive()}",
        ]
    finally:
        stack.stop()


# --- Main ---------------------------------------------------------------------------


FAULTS = {
    1: "kill -9 Celery worker mid-delivery, restart after 3 s",
    2: "kill -9 Redis, restart empty after 3 s",
    3: "PostgreSQL down 10 s (connections closed, new refused)",
    4: "drop every websocket (kill -9 uvicorn, restart)",
    5: "kill -9 beat with steps due, restart after 5 s",
}


def table(rows: list[Row]) -> str:
    lines = [
        "| # | fault | invariant result | time to recover | notes |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        notes = "<br>".join(n.replace("|", "/") for n in r.notes)
        lines.append(f"| {r.n} | {r.fault} | {r.result} | {r.recovery} | {notes} |")
    return "\n".join(lines)


def main() -> None:
    global SINK
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    for old in LOG_DIR.glob("s[0-9]-*.log"):
        old.unlink()
    # This process's own log lines (Celery publish failures while Redis is
    # down, and so on) go to a file, not between the table's lines.
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.addHandler(logging.FileHandler(LOG_DIR / "bench.log"))
    ensure_database()
    redis = RedisServer(REDIS_PORT, LOG_DIR)
    redis.start()
    SINK = Sink()
    rows = [Row(n, FAULTS[n]) for n in sorted(ONLY)]
    started = time.time()
    try:
        world = setup_world()
        for row in rows:
            print(f"scenario {row.n}: {row.fault} ...", flush=True)
            t0 = time.time()
            clear_leftovers()
            if redis.proc is None or redis.proc.poll() is not None:
                redis.start()
            try:
                if row.n == 1:
                    scenario_worker(world, row)
                elif row.n == 2:
                    scenario_redis(world, row, redis)
                elif row.n == 3:
                    scenario_postgres(world, row)
                elif row.n == 4:
                    scenario_websockets(world, row)
                elif row.n == 5:
                    scenario_beat(world, row)
            except Exception as exc:  # the run goes on; the row says why
                logging.exception("scenario %s", row.n)
                row.result = f"ERROR {type(exc).__name__}: {exc}"[:300]
            row.notes += SINK_NOTES
            SINK_NOTES.clear()
            print(f"  {row.result} | {row.recovery} ({time.time() - t0:.0f} s)", flush=True)
            connections.close_all()
    finally:
        clear_leftovers()
        redis.kill()
    md = table(rows)
    print()
    print(md)
    print(f"\n(total {time.time() - started:.0f} s; logs in {LOG_DIR})")
    header = (
        "# Fault injection (bench/faults.py)\n\n"
        f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
        f"{os.cpu_count()} CPUs, PostgreSQL + private redis-server, production settings.\n\n"
    )
    (LOG_DIR / "faults.md").write_text(header + md + "\n")
    report(
        "faults",
        [
            (
                f"fault {r.n}: {r.fault}",
                f"{r.result}; recovered: {r.recovery}"
                + "".join(f"; {n}" for n in r.notes if "idempotency key" in n),
                "nothing lost or duplicated",
                None if r.result == "not run" else r.result == "ok",
            )
            for r in rows
        ],
    )


if __name__ == "__main__":
    main()
