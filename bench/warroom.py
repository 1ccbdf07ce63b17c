"""Benchmark: the war-room websocket under load, N clients in one incident's
room, against the real ASGI server (one uvicorn process, production settings,
PostgreSQL and Redis).

    make bench-warroom
    BENCH_ROOM_SIZES=200,1000 BENCH_MESSAGES=100 .venv/bin/python bench/warroom.py

Defaults: DATABASE_URL=postgres://postgres@127.0.0.1:5432/tscc_bench_room (created
and migrated if missing), REDIS_URL=redis://127.0.0.1:6379/10, a REDIS_PREFIX
unique to the run, N in BENCH_ROOM_SIZES (default 100,200,500,1000), M in
BENCH_MESSAGES (default 50) posted at BENCH_RATE (default 5) per second.

For each N, with a fresh uvicorn process (so its RSS is clean) and a fresh
incident:

1. BENCH_POSTERS (default 8) poster sockets connect, each an ops manager, and
   the first sends one warm-up message (templates loaded, code imported); the
   other 7 post in turn (the consumer allows 10 writes per user per 10 s).
2. N room members (responders) connect, BENCH_CONNECT_AT_ONCE (default 50)
   handshakes at a time (1000 at once: a reconnect storm); each sends
   ``{"type":"resume","last_seq":…}`` and waits for ``id="room-sync"``, then
   reads, and pings every 25 s as the page does (warroom.js PING_EVERY).
3. M chat messages, each carrying a marker; latency = arrival of the frame at
   a member minus the poster's send, both time.perf_counter() in this process
   (so it includes the server's transaction, rendering and fan-out, and this
   process's own reading: the load generator shares the cores).
4. Every member checks it got every sequence number once, in order; a member
   that sees a gap resumes from its last contiguous seq, and the gap counts
   as repaired when the missing events arrive. After the last post the bench
   waits for every delivery (until none arrived for 10 s, at most 180 s).

Memory per connection = uvicorn VmRSS after the N members are connected and
resumed minus VmRSS before they connect (after the warm-up), divided by N.
Channel-layer drops are the server's "channel layer dropped"/"channel layer
full" warnings (incidents/warroom.py), counted in its stderr, kept in
var/bench-room/uvicorn-N<n>.log; each room's raw numbers (arrival delays per
message, CPU split) go to var/bench-room/result-N<n>.json. The "other" column
is CPU that processes other than this one, the server, PostgreSQL and Redis
used while posting: a busy machine (tests running) shows there.
BENCH_UVICORN_ARGS adds uvicorn options, for experiments only (e.g.
"--ws-per-message-deflate false").
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
import re
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tscc.settings")
os.environ.setdefault("TSCC_VAR_DIR", "var/bench-room")
os.environ.setdefault("DEBUG", "false")  # production settings, as deployed
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz")
os.environ.setdefault("ALLOWED_HOSTS", "localhost,127.0.0.1")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/tscc_bench_room")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/10")
os.environ.setdefault("REDIS_PREFIX", f"bench-room-{os.getpid()}-{int(time.time())}")

import django  # noqa: E402

django.setup()

import websockets  # noqa: E402
from benchlib import ensure_database, free_port, report, start_uvicorn, stop_uvicorn  # noqa: E402
from stack import session_cookie, users  # noqa: E402
from websockets.asyncio.client import connect  # noqa: E402

from incidents.domain.severity import ImpactAnswers  # noqa: E402
from incidents.models import Category, Incident  # noqa: E402
from incidents.services import Declaration, incident_declare  # noqa: E402
from tscc.models import User  # noqa: E402
from tscc.roles import Role  # noqa: E402

SIZES = [int(n) for n in os.environ.get("BENCH_ROOM_SIZES", "100,200,500,1000").split(",")]
MESSAGES = int(os.environ.get("BENCH_MESSAGES", "50"))
RATE = float(os.environ.get("BENCH_RATE", "5"))
POSTERS = int(os.environ.get("BENCH_POSTERS", "8"))
CONNECT_AT_ONCE = int(os.environ.get("BENCH_CONNECT_AT_ONCE", "50"))
UVICORN_ARGS = os.environ.get("BENCH_UVICORN_ARGS", "").split()
PING_EVERY = 25.0  # static/tscc/js/warroom.js
SETTLE = 1.5  # seconds after the joins: presence broadcasts are coalesced (0.3 s)
# After the last post, wait for every delivery: until nothing arrived for
# DRAIN_IDLE seconds, at most DRAIN_MAX seconds.
DRAIN_IDLE = 10.0
DRAIN_MAX = 180.0
LOG_DIR = ROOT / os.environ["TSCC_VAR_DIR"]
CPUS = len(os.sched_getaffinity(0))

EVENT = 'id="room-timeline"'
SYNC = re.compile(r'id="room-sync"[^>]*data-seq="(\d+)"')
ERROR = re.compile(r'id="room-error"[^>]*data-code="([a-z_]+)"')
SEQ = re.compile(r'id="ev-(\d+)"')
MARK = re.compile(r"BENCH(\d+)K")
DROPS = ("channel layer dropped", "channel layer full")


# --- Setup (synchronous, Django) --------------------------------------------


def new_incident(commander: User, n: int) -> Incident:
    category = Category.objects.get(code="tooling_outage")
    return incident_declare(
        actor=commander,
        declaration=Declaration(
            title=f"Bench war room, {n} members",
            category=category,
            answers=ImpactAnswers(operations=3),
        ),
    )


def last_seq(incident_id: int) -> int:
    return Incident.objects.values_list("last_seq", flat=True).get(id=incident_id)


# --- The server -------------------------------------------------------------


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def comm_cpu(name: str) -> float:
    """CPU seconds of every process named `name`, with its reaped children
    (PostgreSQL backends exit when Django closes a connection)."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            head, tail = stat.read_text().rsplit(")", 1)
        except OSError:
            continue
        if head.split("(", 1)[1] == name:
            f = tail.split()
            total += sum(int(x) for x in f[11:15])
    return total / os.sysconf("SC_CLK_TCK")


def machine_cpu() -> float:
    """Busy CPU seconds of the whole machine, from /proc/stat."""
    user, nice, system, _idle, _iowait, irq, softirq, steal = (
        int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]
    )
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def cpu_split(server_pid: int) -> dict[str, float]:
    return {
        "machine": machine_cpu(),
        "server": cpu_seconds(server_pid),
        "bench": own_cpu(),
        "postgres": comm_cpu("postgres"),
        "redis": comm_cpu("redis-server"),
    }


def cpu_used(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    used = {k: after[k] - before[k] for k in before}
    used["other"] = used["machine"] - sum(v for k, v in used.items() if k != "machine")
    return used


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# --- Clients ----------------------------------------------------------------


class Member:
    """One socket in the room: reads every frame, checks the sequence."""

    def __init__(self, uri: str, origin: str, cookie: str) -> None:
        self.uri, self.origin, self.cookie = uri, origin, cookie
        self.ws = None
        self.synced = asyncio.Event()
        self.handshake: float | None = None  # seconds
        self.to_sync: float | None = None  # connect start -> room-sync
        self.failure: str | None = None
        self.closed: str | None = None
        self.arrivals: dict[int, float] = {}  # marker -> perf_counter
        self.seen: set[int] = set()
        self.high = 0  # highest seq seen
        self.missing: set[int] = set()
        self.gaps = 0  # events found missing (a later seq came first)
        self.repaired = 0  # of those, delivered afterwards
        self.duplicates = 0
        self.resumes = 0
        self.errors: list[str] = []
        self.tasks: list[asyncio.Task] = []

    async def open(self, since: int) -> None:
        self.high = since
        t0 = time.perf_counter()
        try:
            self.ws = await connect(
                self.uri,
                additional_headers=[("Origin", self.origin), ("Cookie", self.cookie)],
                max_size=None,
                ping_interval=None,  # the server pings; the page pings with frames
                open_timeout=120,
                close_timeout=5,
            )
        except Exception as exc:  # counted: refused, timed out, reset
            self.failure = f"{type(exc).__name__}: {exc}"[:200]
            return
        self.handshake = time.perf_counter() - t0
        self.tasks.append(asyncio.create_task(self.read()))
        await self.ws.send(json.dumps({"type": "resume", "last_seq": since}))
        try:
            await asyncio.wait_for(self.synced.wait(), 120)
        except TimeoutError:
            self.failure = "no room-sync within 120 s"
            return
        self.to_sync = time.perf_counter() - t0
        self.tasks.append(asyncio.create_task(self.ping()))

    async def read(self) -> None:
        try:
            async for frame in self.ws:
                now = time.perf_counter()
                if isinstance(frame, bytes):
                    continue
                if EVENT in frame:
                    for m in MARK.finditer(frame):
                        self.arrivals.setdefault(int(m[1]), now)
                    for seq in SEQ.findall(frame):
                        await self.see(int(seq))
                elif (m := SYNC.search(frame)) is not None:
                    self.synced.set()
                elif (m := ERROR.search(frame)) is not None:
                    self.errors.append(m[1])
        except websockets.ConnectionClosed as exc:
            self.closed = f"{exc.rcvd.code if exc.rcvd else 'no close frame'}"
        except Exception as exc:
            self.closed = f"{type(exc).__name__}: {exc}"[:200]

    async def see(self, seq: int) -> None:
        if seq in self.seen:
            self.duplicates += 1
            return
        self.seen.add(seq)
        if seq in self.missing:
            self.missing.discard(seq)
            self.repaired += 1
        if seq > self.high + 1:
            lost = set(range(self.high + 1, seq)) - self.seen
            if lost:
                self.gaps += len(lost)
                self.missing |= lost
                # As the page does: resume from the last contiguous seq.
                self.resumes += 1
                resume = {"type": "resume", "last_seq": min(self.missing) - 1}
                await self.ws.send(json.dumps(resume))
        self.high = max(self.high, seq)

    async def ping(self) -> None:
        while True:
            await asyncio.sleep(PING_EVERY)
            try:
                await self.ws.send('{"type":"ping"}')
            except websockets.ConnectionClosed:
                return

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        if self.ws is not None:
            with contextlib.suppress(Exception):  # closing anyway
                await self.ws.close()


async def open_all(members: list[Member], since: int, at_once: int) -> float:
    gate = asyncio.Semaphore(at_once)

    async def one(member: Member) -> None:
        async with gate:
            await member.open(since)

    t0 = time.perf_counter()
    await asyncio.gather(*(one(m) for m in members))
    return time.perf_counter() - t0


async def close_all(members: list[Member]) -> None:
    for i in range(0, len(members), 100):
        await asyncio.gather(*(m.close() for m in members[i : i + 100]))


# --- One room ---------------------------------------------------------------


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


async def run_room(n: int, viewers: list[User], posters: list[User], commander: User) -> dict:
    incident = await asyncio.to_thread(new_incident, commander, n)
    member_cookies = await asyncio.to_thread(lambda: [session_cookie(u) for u in viewers[:n]])
    poster_cookies = await asyncio.to_thread(lambda: [session_cookie(u) for u in posters])
    port = free_port()
    log = LOG_DIR / f"uvicorn-N{n}.log"
    server = start_uvicorn(port, log, "--ws", "websockets-sansio", *UVICORN_ARGS)
    print(f"  uvicorn pid {server.pid} on port {port}, incident {incident.id}", flush=True)
    uri = f"ws://localhost:{port}/ws/incidents/{incident.id}/"
    origin = f"http://localhost:{port}"
    sockets = [Member(uri, origin, c) for c in poster_cookies]
    members = [Member(uri, origin, c) for c in member_cookies]
    result: dict = {"n": n, "log": str(log)}
    try:
        since = await asyncio.to_thread(last_seq, incident.id)
        await open_all(sockets, since, CONNECT_AT_ONCE)
        failed = [s.failure for s in sockets if s.failure]
        if failed:
            raise RuntimeError(f"poster sockets failed: {failed[:3]}")
        # Warm-up: one message through the whole path before measuring.
        await sockets[0].ws.send(json.dumps({"type": "chat", "text": "warm-up"}))
        deadline = time.monotonic() + 30
        while sockets[0].high <= since and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        await asyncio.sleep(1.0)
        since = await asyncio.to_thread(last_seq, incident.id)
        rss_before = rss_kib(server.pid)
        cpu0 = cpu_seconds(server.pid)
        connect_s = await open_all(members, since, CONNECT_AT_ONCE)
        connect_cpu = cpu_seconds(server.pid) - cpu0
        await asyncio.sleep(SETTLE)
        rss_after = rss_kib(server.pid)
        live = [m for m in members if m.failure is None]
        print(
            f"  N={n}: {len(live)}/{n} joined in {connect_s:.1f} s "
            f"(server CPU {connect_cpu:.1f} s); RSS {rss_before} -> {rss_after} KiB",
            flush=True,
        )

        sent: dict[int, float] = {}
        lag: list[float] = []  # the load generator's own lateness in sending
        gc.collect()
        gc.disable()  # no collector pauses in the load generator while measuring
        cpu0, t0 = cpu_split(server.pid), time.perf_counter()
        post_started = time.time()
        for k in range(MESSAGES):
            await asyncio.sleep(max(0.0, t0 + k / RATE - time.perf_counter()))
            poster = sockets[1 + k % (len(sockets) - 1)]
            sent[k] = time.perf_counter()
            lag.append((sent[k] - t0 - k / RATE) * 1000)
            await poster.ws.send(json.dumps({"type": "chat", "text": f"load test BENCH{k}K"}))
        expected = len(live) * MESSAGES
        deadline = time.perf_counter() + DRAIN_MAX
        got, progress = -1, time.perf_counter()
        while time.perf_counter() < deadline and time.perf_counter() - progress < DRAIN_IDLE:
            now = sum(len(m.arrivals) for m in live)
            if now >= expected:
                break
            if now > got:
                got, progress = now, time.perf_counter()
            await asyncio.sleep(0.1)
        post_wall = time.perf_counter() - t0
        gc.enable()
        cpu = cpu_used(cpu0, cpu_split(server.pid))
        await asyncio.sleep(1.0)  # late gap repairs
        final = await asyncio.to_thread(last_seq, incident.id)

        lat, first, last = [], [], []
        for k, t in sent.items():
            got = [m.arrivals[k] - t for m in live if k in m.arrivals]
            lat.extend(got)
            if got:
                first.append(min(got))
            if len(got) == len(live) and got:
                last.append(max(got))
        wanted = set(range(since + 1, final + 1))
        result.update(
            connected=len(live),
            failures=[m.failure for m in members if m.failure],
            connect_s=connect_s,
            handshake=[m.handshake for m in members if m.handshake is not None],
            to_sync=[m.to_sync for m in members if m.to_sync is not None],
            lat=[x * 1000 for x in lat],
            first=[x * 1000 for x in first],
            last=[x * 1000 for x in last],
            delivered=len(lat),
            expected=expected,
            rss_before=rss_before,
            rss_after=rss_after,
            gaps=sum(m.gaps for m in live),
            repaired=sum(m.repaired for m in live),
            resumes=sum(m.resumes for m in live),
            duplicates=sum(m.duplicates for m in live),
            missing_at_end=sum(len(wanted - m.seen) for m in live),
            members_missing=sum(1 for m in live if wanted - m.seen),
            closed=[m.closed for m in members if m.closed],
            member_errors=sum(len(m.errors) for m in live),
            poster_errors=[e for s in sockets for e in s.errors],
            events=final - since,
            post_started=post_started,
            per_message=[
                {
                    "k": k,
                    "at": sent[k] - t0,
                    "arrived": sorted(
                        round((m.arrivals[k] - t) * 1000, 1) for m in live if k in m.arrivals
                    ),
                }
                for k, t in sent.items()
            ],
            cpu=cpu,
            post_wall=post_wall,
            send_lag=max(lag),
        )
    finally:
        await close_all(members + sockets)
        stop_uvicorn(server)
    text = log.read_text(errors="replace")
    result["drops"] = sum(1 for line in text.splitlines() if any(d in line for d in DROPS))
    result["warnings"] = sum(
        1 for line in text.splitlines() if "WARNING" in line or "ERROR" in line
    )
    result["tracebacks"] = text.count("Traceback")
    raw = LOG_DIR / f"result-N{n}.json"
    raw.write_text(json.dumps(result))
    return result


def show(r: dict) -> str:
    def ms(values: list[float], q: float | None = None) -> str:
        if not values:
            return "-"
        return f"{(max(values) if q is None else pct(values, q)):.0f}"

    hs = [x * 1000 for x in r["handshake"]]
    per_conn = (r["rss_after"] - r["rss_before"]) / max(1, r["connected"])
    return (
        f"{r['n']:>5} {r['connected']:>5} {ms(hs, 0.5):>6} {ms(hs, 0.99):>6} "
        f"{ms(r['lat'], 0.5):>6} {ms(r['lat'], 0.99):>6} {ms(r['lat']):>6} "
        f"{ms(r['last'], 0.5):>6} {ms(r['last'], 0.99):>6} {per_conn:>7.1f} "
        f"{r['drops']:>5} {r['gaps']:>5}/{r['repaired']:<5} "
        f"{100 * r['cpu']['other'] / (CPUS * r['post_wall']):>5.0f}%"
    )


HEADER = (
    f"{'N':>5} {'conn':>5} {'hs50':>6} {'hs99':>6} {'p50':>6} {'p99':>6} {'max':>6} "
    f"{'last50':>6} {'last99':>6} {'KiB/conn':>7} {'drops':>5} {'gaps/repaired':<11} {'other':>6}"
)


def details(r: dict) -> str:
    sync = [x * 1000 for x in r["to_sync"]]
    lines = [
        f"N={r['n']}: joined {r['connected']}/{r['n']} in {r['connect_s']:.1f} s; "
        f"connect->room-sync p50 {pct(sync, 0.5):.0f} ms p99 {pct(sync, 0.99):.0f} ms"
        if sync
        else f"N={r['n']}: nobody joined",
        f"  deliveries {r['delivered']}/{r['expected']} ({r['events']} events appended); "
        f"first member per message p50 {pct(r['first'], 0.5) if r['first'] else 0:.0f} ms "
        f"p99 {pct(r['first'], 0.99) if r['first'] else 0:.0f} ms; "
        f"messages reaching every member {len(r['last'])}/{MESSAGES}",
        f"  RSS {r['rss_before']} -> {r['rss_after']} KiB; "
        f"CPU s while posting and delivering ({r['post_wall']:.1f} s wall, "
        f"{CPUS * r['post_wall']:.1f} CPU s on {CPUS} cores): "
        + ", ".join(f"{k} {v:.1f}" for k, v in r["cpu"].items())
        + f"; the load generator's sends late by up to {r['send_lag']:.0f} ms",
        f"  drops logged {r['drops']}; gaps {r['gaps']} repaired {r['repaired']} "
        f"(resumes {r['resumes']}, duplicates {r['duplicates']}); missing at end "
        f"{r['missing_at_end']} in {r['members_missing']} members; member error frames "
        f"{r['member_errors']}; poster errors {len(r['poster_errors'])} "
        f"{sorted(set(r['poster_errors']))}",
        f"  connect failures {len(r['failures'])} {sorted(set(r['failures']))[:3]}; "
        f"closed early {len(r['closed'])} {sorted(set(r['closed']))[:3]}; "
        f"server log warnings/errors {r['warnings']}, tracebacks {r['tracebacks']} "
        f"({r['log']})",
    ]
    return "\n".join(lines)


async def main_async(viewers: list[User], posters: list[User], commander: User) -> list[dict]:
    results = []
    for n in SIZES:
        print(f"room of {n} ...", flush=True)
        results.append(await run_room(n, viewers, posters, commander))
        print(details(results[-1]), flush=True)
    return results


def main() -> None:
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    ensure_database(collectstatic=False)
    commander = users("bench-room-cmd", 1, Role.OPS_MANAGER)[0]
    posters = users("bench-room-poster", max(2, POSTERS), Role.OPS_MANAGER)
    viewers = users("bench-room-member", max(SIZES), Role.RESPONDER)
    print(
        f"{CPUS} CPUs; {MESSAGES} messages at {RATE:g}/s "
        f"from {len(posters) - 1} posters; prefix {os.environ['REDIS_PREFIX']}",
        flush=True,
    )
    try:
        import uvloop
    except ImportError:
        uvloop = None
    run = uvloop.run if uvloop is not None else asyncio.run  # the server's loop too
    results = run(main_async(viewers, posters, commander))
    print()
    print("handshake (hs), post->arrival (p50/p99/max) and last member per message in ms;")
    print("other = CPU used by other processes while posting, share of the machine")
    print(HEADER)
    for r in results:
        print(show(r))
    report("warroom", [summary_row(r) for r in results])


def summary_row(r: dict) -> tuple[str, str, str, bool | None]:
    """One room for the summary table; targets: 1,000 clients on one process,
    a 200-member room's p99 under 75 ms, under 100 KiB a connection."""
    lat = r["lat"]
    per_conn = (r["rss_after"] - r["rss_before"]) / max(1, r["connected"])
    whole = r["delivered"] == r["expected"] and r["duplicates"] == 0
    result = (
        f"{r['connected']}/{r['n']} joined; post->arrival p50 {pct(lat, 0.5):.0f} ms, "
        f"p99 {pct(lat, 0.99):.0f} ms; {per_conn:.1f} KiB/conn; "
        f"{r['delivered']}/{r['expected']} delivered"
        if lat
        else f"{r['connected']}/{r['n']} joined; nothing delivered"
    )
    if r["n"] == 200:
        return (
            f"war room, {r['n']} members",
            result,
            "p99 < 75 ms",
            bool(lat) and whole and pct(lat, 0.99) < 75,
        )
    if r["n"] == 1000:
        return (
            f"war room, {r['n']} members",
            result,
            "1,000 joined",
            r["connected"] == 1000 and whole,
        )
    return (f"war room, {r['n']} members", result, "", None)


if __name__ == "__main__":
    main()
