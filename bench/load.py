"""Mixed load against the real stack for BENCH_LOAD_SECONDS (default 600):
triage browsing, API writes, vendor snapshot posts, inbound alerts and
war-room clients at once, as on a bad day. Prints, per operation, the count,
errors, p50, p99 and max, and, per process, the CPU it used: what saturates
first.

    make bench-load
    BENCH_LOAD_SECONDS=120 BENCH_LOAD_SCALE=2 .venv/bin/python bench/load.py

The stack is as deployed, on this machine: uvicorn (BENCH_WEB_WORKERS
processes, default 2 as in docker-compose.yml), one Celery worker on every
queue (concurrency 2) and beat, production settings (DEBUG=false), its own
PostgreSQL database (DATABASE_URL, default tscc_bench_load, created and
migrated if missing, the demo data loaded once) and a private redis-server.
Pages go to a local webhook sink. The load generator is one asyncio process
(aiohttp and websockets) on the same two cores: its CPU is reported too.

The mix, multiplied by BENCH_LOAD_SCALE (default 1):

- 20 ops managers browsing: the triage list, its htmx results partial, an
  incident's page, the Now summary, the vendor board, the on-call schedules;
  a think time of 1-5 s between pages (a person, not a crawler);
- 10 API clients (responders' tokens, each joined to the 4 war-room
  incidents and 6 more): list open incidents, read a timeline, post a
  timeline note, add a task; 1-3 s apart;
- 5 vendor systems posting queue snapshots (vendor tokens): 60 queues each,
  each queue once a minute, so ~1 post per second per system; figures are
  healthy but for one post in 200, which breaches (automatic trouble);
- 2 monitoring integrations sending generic alerts, ~1 per second each, from
  a pool of 40 keys: new keys declare incidents (each pages the sink), repeats
  deduplicate, one in ten resolves its key;
- 4 war rooms with 50 members each (responders' sockets that resume on gaps,
  as the page does) and 2 chat posters each (ops managers) posting every 4 s;
  latency = the poster's send to each member's receipt.

A request that fails (status >= 400 other than an expected 409/422, a
timeout of 30 s, a refused connection) counts as an error. Raw numbers go to
var/bench-load/result.json and the table to var/bench-load/load.md; process
logs to var/bench-load/.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tscc.settings")
os.environ.setdefault("TSCC_VAR_DIR", "var/bench-load")
os.environ.setdefault("DEBUG", "false")  # production settings, as deployed
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz")
os.environ.setdefault("ALLOWED_HOSTS", "localhost,127.0.0.1")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/tscc_bench_load")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("SECURE_PROXY_SSL_HEADER", "true")  # behind a TLS proxy, as deployed

from stack import (  # noqa: E402
    MARK,
    RedisServer,
    RoomClient,
    Sink,
    Stack,
    free_port,
    route_pages_to,
    session_cookie,
    users,
)

REDIS_PORT = free_port()
os.environ["REDIS_URL"] = f"redis://127.0.0.1:{REDIS_PORT}/0"
os.environ.setdefault("REDIS_PREFIX", f"bench-load-{os.getpid()}")

import django  # noqa: E402

django.setup()

import aiohttp  # noqa: E402
from benchlib import ensure_database, report  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db.models import Q  # noqa: E402
from django.utils import timezone  # noqa: E402

from escalations.alerts import integration_create  # noqa: E402
from incidents.domain.severity import ImpactAnswers  # noqa: E402
from incidents.models import Category, Incident  # noqa: E402
from incidents.services import Declaration, incident_declare  # noqa: E402
from incidents.services.people import incident_join  # noqa: E402
from tscc.roles import Role  # noqa: E402
from tscc.services import api_token_create  # noqa: E402
from vendors import services as vendor_services  # noqa: E402
from vendors.models import Queue, Vendor  # noqa: E402

SECONDS = float(os.environ.get("BENCH_LOAD_SECONDS", "600"))
SCALE = float(os.environ.get("BENCH_LOAD_SCALE", "1"))
WEB_WORKERS = int(os.environ.get("BENCH_WEB_WORKERS", "2"))
# 1: websockets on a uvicorn process of their own (the proxy routes /ws/ there).
REALTIME = os.environ.get("BENCH_REALTIME_PROCESS", "0") == "1"
LOG_DIR = ROOT / os.environ["TSCC_VAR_DIR"]
DATABASE_URL = os.environ["DATABASE_URL"]
TIMEOUT = aiohttp.ClientTimeout(total=30)
# What the TLS proxy in front adds (production settings redirect plain HTTP).
PROXIED = {"X-Forwarded-Proto": "https"}


def scaled(n: int) -> int:
    return max(1, round(n * SCALE))


BROWSERS = scaled(20)
API_CLIENTS = scaled(10)
SNAPSHOT_POSTERS = scaled(5)
ALERT_SOURCES = scaled(2)
ROOMS = scaled(4)
ROOM_MEMBERS = 50
ROOM_POSTERS = 2
CHAT_EVERY = 4.0
VENDOR_QUEUES = 60 * SNAPSHOT_POSTERS  # each poster: 60 queues, one a second
ALERT_KEYS = 40
TROUBLED = 0.005  # one post in 200 breaches its queue's SLA (opens or updates trouble)


# --- Setup (synchronous, Django) ---------------------------------------------------


def seed(sink: Sink) -> dict:
    """The demo data once, then this run's people, tokens, integrations, a
    vendor with queues, and the incidents whose war rooms are used."""
    if not Vendor.objects.exists():
        call_command("seed_demo", force=True, verbosity=0)
    # Earlier runs' incidents (war rooms, alerts) are closed, so every run
    # starts from the demo's open incidents plus its own.
    earlier = Incident.objects.filter(
        Q(title__startswith="Load ") | Q(vendor_impacts__vendor__code="load-vendor")
    )
    Incident.objects.filter(id__in=earlier.values("id")).exclude(state="closed").update(
        state="closed"
    )
    managers = users("load-mgr", max(BROWSERS, ROOMS * ROOM_POSTERS), Role.OPS_MANAGER)
    responders = users("load-resp", max(API_CLIENTS, ROOM_MEMBERS), Role.RESPONDER)
    paged = users("load-oncall", 1, Role.RESPONDER)[0]

    # Every declaration (alerts included) pages one responder at the sink.
    route_pages_to(paged, sink.url, "Load policy")

    category = Category.objects.get(code="tooling_outage")
    rooms = [
        incident_declare(
            actor=managers[0],
            declaration=Declaration(
                title=f"Load war room {i} {time.strftime('%H:%M')}",
                category=category,
                answers=ImpactAnswers(operations=3),
            ),
        )
        for i in range(ROOMS)
    ]
    open_ids = list(
        Incident.objects.exclude(state__in=["resolved", "closed", "cancelled", "merged"])
        .order_by("-id")
        .values_list("id", flat=True)[:50]
    )

    vendor, _ = Vendor.objects.get_or_create(
        code="load-vendor", defaults={"name": "Load vendor", "owner": managers[0]}
    )
    Queue.objects.bulk_create(
        [
            Queue(vendor=vendor, code=f"lq{n:02d}", name=f"Load {n:02d}", planned_headcount=20)
            for n in range(VENDOR_QUEUES)
        ],
        ignore_conflicts=True,
    )
    queues = list(Queue.objects.filter(vendor=vendor).order_by("id").values_list("id", flat=True))
    vendor_secrets = [
        vendor_services.token_create(
            actor=managers[0], vendor_id=vendor.id, name=f"load-{time.time():.0f}-{i}"
        )[1]
        for i in range(SNAPSHOT_POSTERS)
    ]
    integrations = [
        integration_create(actor=managers[0], name=f"Load monitor {i}", kind="generic")
        for i in range(ALERT_SOURCES)
    ]
    api_secrets = [
        api_token_create(actor=None, user=u, name=f"load-{time.time():.0f}")[1]
        for u in responders[:API_CLIENTS]
    ]
    # Responders write to the incidents they joined (as a responder's tools do).
    room_ids = [i.id for i in rooms]
    worked = room_ids + [i for i in open_ids if i not in room_ids][:6]
    for user in responders[:API_CLIENTS]:
        for incident_id in worked:
            incident_join(actor=user, incident_id=incident_id)
    return {
        "manager_cookies": [session_cookie(u) for u in managers],
        "member_cookies": [session_cookie(u) for u in responders[:ROOM_MEMBERS]],
        "rooms": [(i.id, i.last_seq) for i in rooms],
        "open_ids": open_ids or [rooms[0].id],
        "worked_ids": worked,
        "queues": queues,
        "vendor_secrets": vendor_secrets,
        "integrations": [(i.id, token) for i, token in integrations],
        "api_secrets": api_secrets,
    }


# --- Measuring -----------------------------------------------------------------------


class Recorder:
    def __init__(self) -> None:
        self.samples: dict[str, list[float]] = defaultdict(list)  # op -> ms
        self.errors: dict[str, list[str]] = defaultdict(list)
        self.started = time.monotonic()
        self.wall_start = time.time()
        self.stop_at = self.started + SECONDS

    @property
    def running(self) -> bool:
        return time.monotonic() < self.stop_at

    def ok(self, op: str, ms: float) -> None:
        self.samples[op].append(ms)

    def fail(self, op: str, ms: float, why: str) -> None:
        self.samples[op].append(ms)
        self.errors[op].append(why)


async def timed(
    rec: Recorder, op: str, session: aiohttp.ClientSession, method: str, url: str, **kw
) -> tuple[int, str]:
    expected = kw.pop("expected", (200, 201, 202))
    t0 = time.perf_counter()
    try:
        async with session.request(
            method, url, timeout=TIMEOUT, allow_redirects=False, **kw
        ) as response:
            body = await response.text()
            ms = (time.perf_counter() - t0) * 1000
            if response.status in expected:
                rec.ok(op, ms)
            else:
                rec.fail(op, ms, f"{response.status}")
            return response.status, body
    except (TimeoutError, aiohttp.ClientError) as exc:
        rec.fail(op, (time.perf_counter() - t0) * 1000, type(exc).__name__)
        return 0, ""


async def pause(low: float, high: float) -> None:
    await asyncio.sleep(random.uniform(low, high))


# --- Clients -------------------------------------------------------------------------


async def browser(rec: Recorder, base: str, cookie: str, open_ids: list[int]) -> None:
    headers = {**PROXIED, "Cookie": cookie}
    htmx = {**headers, "HX-Request": "true", "HX-Target": "incident-results"}
    async with aiohttp.ClientSession(base, headers=headers) as s:
        await pause(0, 5)
        while rec.running:
            pick = random.random()
            if pick < 0.30:
                await timed(rec, "page: triage list", s, "GET", "/incidents/")
            elif pick < 0.45:
                await timed(
                    rec, "page: triage htmx partial", s, "GET", "/incidents/?q=", headers=htmx
                )
            elif pick < 0.70:
                incident = random.choice(open_ids)
                await timed(rec, "page: incident", s, "GET", f"/incidents/{incident}/")
            elif pick < 0.82:
                await timed(rec, "page: summary now", s, "GET", "/summary/")
            elif pick < 0.94:
                await timed(rec, "page: vendor board", s, "GET", "/vendors/")
            else:
                await timed(rec, "page: on-call schedules", s, "GET", "/oncall/")
            await pause(1, 5)


async def api_client(rec: Recorder, base: str, secret: str, open_ids: list[int]) -> None:
    headers = {**PROXIED, "Authorization": f"Bearer {secret}"}
    async with aiohttp.ClientSession(base, headers=headers) as s:
        await pause(0, 3)
        n = 0
        while rec.running:
            n += 1
            incident = random.choice(open_ids)
            pick = random.random()
            if pick < 0.30:
                await timed(rec, "api: list open incidents", s, "GET", "/api/v1/incidents/")
            elif pick < 0.55:
                await timed(
                    rec, "api: timeline", s, "GET", f"/api/v1/incidents/{incident}/timeline/"
                )
            elif pick < 0.85:
                await timed(
                    rec,
                    "api: post note",
                    s,
                    "POST",
                    f"/api/v1/incidents/{incident}/timeline/",
                    json={"text": f"Load note {n} from {secret[-4:]}"},
                )
            else:
                await timed(
                    rec,
                    "api: add task",
                    s,
                    "POST",
                    f"/api/v1/incidents/{incident}/tasks/",
                    json={"title": f"Load task {n}"},
                )
            await pause(1, 3)


def figures(queue: int, *, troubled: bool) -> dict:
    """A queue's figures this minute: healthy (attainment above the 95 %
    target, outflow keeping up), or, when `troubled`, breaching."""
    healthy = {
        "backlog": random.randint(50, 150),
        "inflow_per_hour": 300,
        "outflow_per_hour": random.randint(300, 360),
        "oldest_item_minutes": random.randint(1, 10),
        "sla_attainment": round(random.uniform(96, 99.9), 1),
        "staffed_headcount": random.randint(18, 20),
    }
    if troubled:
        healthy.update(
            backlog=900, outflow_per_hour=150, oldest_item_minutes=45, sla_attainment=82.0
        )
    return {
        "queue_id": queue,
        "taken_at": timezone.now().replace(second=0, microsecond=0).isoformat(),
        **healthy,
    }


async def snapshot_poster(rec: Recorder, base: str, secret: str, queues: list[int]) -> None:
    """A vendor's system: each of its queues' figures once a minute (the
    API keeps one snapshot per queue and minute), spread over the minute."""
    headers = {**PROXIED, "Authorization": f"Vendor {secret}"}
    every = 60.0 / len(queues)
    async with aiohttp.ClientSession(base, headers=headers) as s:
        await pause(0, every)
        n = 0
        while rec.running:
            queue = queues[n % len(queues)]
            n += 1
            await timed(
                rec,
                "api: vendor snapshot",
                s,
                "POST",
                "/api/v1/vendors/snapshots/",
                json=figures(queue, troubled=random.random() < TROUBLED),
                expected=(201, 409),  # 409: posted twice within a minute (a slow loop)
            )
            await pause(every * 0.8, every * 1.2)


async def alert_source(rec: Recorder, base: str, integration: tuple[int, str], k: int) -> None:
    integration_id, token = integration
    headers = {**PROXIED, "Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession(base, headers=headers) as s:
        while rec.running:
            key = f"load-{k}-{random.randrange(ALERT_KEYS)}"
            status = "resolved" if random.random() < 0.1 else "firing"
            await timed(
                rec,
                f"alerts: {status}",
                s,
                "POST",
                f"/api/v1/integrations/{integration_id}/alerts/",
                json={
                    "dedup_key": key,
                    "status": status,
                    "title": f"Load alert {key}",
                    "summary": "Error rate above threshold",
                },
            )
            await pause(0.7, 1.3)


async def war_room(rec: Recorder, ws_base: str, room: tuple[int, int], seeds: dict, k: int) -> dict:
    incident_id, since = room
    uri = ws_base.replace("http", "ws", 1) + f"/ws/incidents/{incident_id}/"
    origin = ws_base
    members = [RoomClient(uri, origin, c, since, MARK) for c in seeds["member_cookies"]]
    cookies = seeds["manager_cookies"][k * ROOM_POSTERS : (k + 1) * ROOM_POSTERS]
    posters = [RoomClient(uri, origin, c, since, MARK) for c in cookies]
    tasks = [asyncio.create_task(c.run()) for c in members + posters]
    sent: dict[int, float] = {}
    marker = k * 1_000_000
    unsent = 0
    deadline = time.monotonic() + 60  # the joins: every poster synced before posting
    while not all(p.synced for p in posters) and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    while rec.running:
        for poster in posters:
            marker += 1
            t = time.time()
            if await poster.send_chat(f"Load MARK{marker}K from room {k}"):
                sent[marker] = t
            else:
                unsent += 1  # the poster's socket was down
            await asyncio.sleep(CHAT_EVERY / ROOM_POSTERS)
    await asyncio.sleep(10)  # the last messages arrive
    for c in members + posters:
        await c.close()
    for task in tasks:
        task.cancel()
    delays, missing = [], 0
    per_message = []  # (seconds into the run, first arrival ms, last arrival ms)
    for m, t in sent.items():
        got = [(member.markers[m] - t) * 1000 for member in members if m in member.markers]
        missing += len(members) - len(got)
        delays += got
        if got:
            per_message.append((round(t - rec.wall_start, 1), round(min(got)), round(max(got))))
    return {
        "delays": delays,
        "per_message": per_message,
        "missing": missing,
        "duplicates": sum(m.duplicates for m in members),
        "out_of_order": sum(m.out_of_order for m in members),
        "reconnects": sum(len(m.closes) for m in members),
        "errors": [e for m in members + posters for e in m.errors],
        "sent": len(sent),
        "unsent": unsent,
    }


# --- CPU per process ---------------------------------------------------------------


def proc_cpu(pid: int) -> float:
    """CPU seconds of a process and its reaped children."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def group_cpu(pgid: int) -> float:
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:
            total += sum(int(x) for x in fields[11:15])
    return total / os.sysconf("SC_CLK_TCK")


def comm_cpu(name: str) -> float:
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            head, tail = stat.read_text().rsplit(")", 1)
        except OSError:
            continue
        if head.split("(", 1)[1] == name:
            total += sum(int(x) for x in tail.split()[11:15])
    return total / os.sysconf("SC_CLK_TCK")


def machine_busy() -> float:
    user, nice, system, _idle, _iowait, irq, softirq, steal = (
        int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]
    )
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def cpu_now(stack: Stack, redis: RedisServer) -> dict[str, float]:
    realtime = {"realtime (uvicorn)": group_cpu(stack.realtime.pid)} if stack.realtime else {}
    return {
        "web (uvicorn)": group_cpu(stack.web.pid),
        **realtime,
        "Celery worker": group_cpu(stack.worker.pid),
        "beat": group_cpu(stack.beat.pid),
        "PostgreSQL": comm_cpu("postgres"),
        "Redis": proc_cpu(redis.proc.pid),
        "load generator": proc_cpu(os.getpid()),
        "machine": machine_busy(),
    }


async def sample_cpu(rec: Recorder, stack: Stack, redis: RedisServer, out: list) -> None:
    """Per-process CPU every 10 s, as a share of one core."""
    last, t_last = cpu_now(stack, redis), time.monotonic()
    while rec.running:
        await asyncio.sleep(10)
        now, t_now = cpu_now(stack, redis), time.monotonic()
        span = t_now - t_last
        out.append({k: (now[k] - last[k]) / span * 100 for k in now})
        last, t_last = now, t_now


# --- Report ---------------------------------------------------------------------------


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def markdown(rec: Recorder, rooms: list[dict], cpu: list[dict], sink: Sink, elapsed: float) -> str:
    lines = [
        f"Mixed load for {elapsed:.0f} s (scale {SCALE:g}: {BROWSERS} browsers, {API_CLIENTS} API "
        f"clients, {SNAPSHOT_POSTERS} snapshot posters, {ALERT_SOURCES} alert sources, "
        f"{ROOMS} war rooms × {ROOM_MEMBERS} members; uvicorn × {WEB_WORKERS}"
        + ("; websockets on a process of their own)" if REALTIME else ")"),
        "",
        "| operation | requests | per second | errors | p50 ms | p99 ms | max ms |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    total = failed = 0
    for op in sorted(rec.samples):
        ms = rec.samples[op]
        errors = rec.errors.get(op, [])
        total += len(ms)
        failed += len(errors)
        lines.append(
            f"| {op} | {len(ms):,} | {len(ms) / elapsed:.1f} | {len(errors)} | "
            f"{pct(ms, 0.5):.0f} | {pct(ms, 0.99):.0f} | {max(ms):.0f} |"
        )
    delays = [d for r in rooms for d in r["delays"]]
    sent = sum(r["sent"] for r in rooms)
    missing = sum(r["missing"] for r in rooms)
    if delays:
        lines.append(
            f"| ws: chat post → each member | {len(delays):,} deliveries of {sent:,} posts | "
            f"{len(delays) / elapsed:.1f} | {missing} missing | {pct(delays, 0.5):.0f} | "
            f"{pct(delays, 0.99):.0f} | {max(delays):.0f} |"
        )
    lines.append("")
    lines.append(
        f"HTTP error rate: {failed} of {total:,} ({failed / max(total, 1) * 100:.2f} %); "
        f"war rooms: {missing} deliveries missing, "
        f"{sum(r['duplicates'] for r in rooms)} duplicated, "
        f"{sum(r['out_of_order'] for r in rooms)} out of order, "
        f"{sum(r['reconnects'] for r in rooms)} reconnects, "
        f"{sum(r['unsent'] for r in rooms)} posts not sent (poster not connected); "
        f"pages delivered to the sink: "
        f"{len(sink.counts())} ({sum(sink.counts().values()) - len(sink.counts())} repeats)."
    )
    slowest = sorted((m for r in rooms for m in r["per_message"]), key=lambda m: -m[2])[:5]
    if slowest:
        lines.append(
            "Slowest chat messages (s into the run: first member ms / last member ms): "
            + ", ".join(f"{at:.0f} s: {first}/{last}" for at, first, last in slowest)
        )
    kinds = defaultdict(int)
    for op, errors in rec.errors.items():
        for e in errors:
            kinds[f"{op}: {e}"] += 1
    if kinds:
        lines.append("Errors: " + "; ".join(f"{k} × {v}" for k, v in sorted(kinds.items())))
    if cpu:
        lines += ["", "| process | CPU mean (% of a core) | CPU max (10 s) |"]
        lines += ["| --- | ---: | ---: |"]
        for name in cpu[0]:
            values = [c[name] for c in cpu]
            lines.append(f"| {name} | {statistics.mean(values):.0f} | {max(values):.0f} |")
    return "\n".join(lines)


def summary_rows(rec: Recorder, rooms: list[dict], cpu: list[dict], elapsed: float) -> list:
    rows = []
    for op in sorted(rec.samples):
        ms, errors = rec.samples[op], rec.errors.get(op, [])
        rows.append(
            (
                f"load: {op}",
                f"{len(ms) / elapsed:.1f}/s, p50 {pct(ms, 0.5):.0f} ms, "
                f"p99 {pct(ms, 0.99):.0f} ms, {len(errors)} errors",
                "",
                None,
            )
        )
    total = sum(len(v) for v in rec.samples.values())
    failed = sum(len(v) for v in rec.errors.values())
    rate = failed / max(total, 1) * 100
    rows.append(
        ("load: HTTP error rate", f"{failed} of {total:,} ({rate:.2f} %)", "< 0.1 %", rate < 0.1)
    )
    delays = [d for r in rooms for d in r["delays"]]
    missing = sum(r["missing"] for r in rooms)
    if delays:
        rows.append(
            (
                "load: war-room chat, post -> each member",
                f"p50 {pct(delays, 0.5):.0f} ms, p99 {pct(delays, 0.99):.0f} ms, {missing} missing",
                "none missing",
                missing == 0,
            )
        )
    if cpu:
        means = {k: statistics.mean(c[k] for c in cpu) for k in cpu[0] if k != "machine"}
        busiest = max(means, key=means.get)
        machine = statistics.mean(c["machine"] for c in cpu)
        rows.append(
            (
                "load: busiest process (saturates first)",
                f"{busiest} {means[busiest]:.0f} % of a core; machine {machine:.0f} % of "
                f"{len(os.sched_getaffinity(0)) * 100} %",
                "",
                None,
            )
        )
    return rows


# --- Main -------------------------------------------------------------------------------


async def drive(stack: Stack, redis: RedisServer, seeds: dict) -> tuple:
    base = f"http://127.0.0.1:{stack.port}"
    rec = Recorder()
    cpu: list[dict] = []
    sampler = asyncio.create_task(sample_cpu(rec, stack, redis, cpu))
    rooms = [
        asyncio.create_task(war_room(rec, f"http://127.0.0.1:{stack.ws_port}", room, seeds, k))
        for k, room in enumerate(seeds["rooms"])
    ]
    managers = seeds["manager_cookies"]
    clients = [
        *(browser(rec, base, cookie, seeds["open_ids"]) for cookie in managers[:BROWSERS]),
        *(api_client(rec, base, secret, seeds["worked_ids"]) for secret in seeds["api_secrets"]),
        *(
            snapshot_poster(rec, base, secret, seeds["queues"][k::SNAPSHOT_POSTERS])
            for k, secret in enumerate(seeds["vendor_secrets"])
        ),
        *(alert_source(rec, base, source, k) for k, source in enumerate(seeds["integrations"])),
    ]
    t0 = time.monotonic()
    await asyncio.gather(*clients)
    room_results = await asyncio.gather(*rooms)
    sampler.cancel()
    return rec, room_results, cpu, time.monotonic() - t0


def main() -> None:
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    ensure_database(collectstatic=True)
    redis = RedisServer(REDIS_PORT, LOG_DIR)
    redis.start()
    sink = Sink()
    seeds = seed(sink)
    stack = Stack("load", LOG_DIR, DATABASE_URL, web_workers=WEB_WORKERS, realtime=REALTIME)
    try:
        stack.start()
        time.sleep(3)
        print(f"stack up ({stack.alive()}); load for {SECONDS:.0f} s …", flush=True)
        rec, rooms, cpu, elapsed = asyncio.run(drive(stack, redis, seeds))
        time.sleep(5)  # the last pages
        text = markdown(rec, rooms, cpu, sink, min(elapsed, SECONDS))
        print(text)
        print(f"\nprocesses at the end: {stack.alive()}")
        report("load", summary_rows(rec, rooms, cpu, min(elapsed, SECONDS)))
        (LOG_DIR / "load.md").write_text(text + "\n")
        (LOG_DIR / "result.json").write_text(
            json.dumps(
                {
                    "samples": rec.samples,
                    "errors": rec.errors,
                    "cpu": cpu,
                    "rooms": [{k: v for k, v in r.items() if k != "delays"} for r in rooms],
                },
                default=str,
            )
        )
    finally:
        stack.stop()
        redis.kill()


if __name__ == "__main__":
    main()
