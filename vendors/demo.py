"""Demo vendors: three BPOs (Manila and Cebu; Dalian 大连 and Xi'an 西安;
Kuala Lumpur), five sites, twelve queues and 48 hours of hourly snapshots,
made through the services (so trouble checks run as they would live).

One queue (Huabei's live-stream queue) trends toward a breach over the last
hours, and the Manila site is degraded; the demo BPO lead leads Luzon.

Idempotent: vendors are created once; each run tops the hourly figures up to
the current hour, so a restarted demo is not all stale. Figures are
deterministic per queue and hour.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from incidents.models import Incident
from tscc.models import Team, User
from vendors import services
from vendors.domain.health import shift_start
from vendors.models import Queue, QueueSnapshot, Site, Vendor

HOURS = 48
TRENDING = ("huabei", "zh-live")
MANILA_REASON = "Grid power outage; on generators, reduced seats. Cebu covering priority queues."


@dataclass(frozen=True)
class QueueSpec:
    code: str
    name: str
    name_zh: str
    site: str
    language: str
    market: str
    content_type: str
    policy_area: str
    sla_percent: float
    sla_minutes: int
    planned: int
    aht: float  # seconds
    shift: tuple[time, time] = (time(0, 0), time(0, 0))
    days: tuple[int, ...] = (1, 2, 3, 4, 5, 6, 7)


VENDORS = [
    {
        "code": "luzon",
        "name": "Luzon Moderation Services",
        "name_zh": "吕宋内容审核服务",
        "contract_ref": "MSA-2025-014",
        "languages": ["en", "tl", "th", "vi", "id"],
        "markets": ["sea", "global"],
        "contacts": "Ops director: Ramon Cruz +63 2 8000 1000; 24/7 NOC: noc@luzon.example",
        "team": "ts-ops-intl",
        "sites": [
            ("Manila Ortigas", "马尼拉奥提加斯", "Manila", "PH", "Asia/Manila", 420),
            ("Cebu IT Park", "宿务 IT 园区", "Cebu", "PH", "Asia/Manila", 180),
        ],
        "queues": [
            QueueSpec("en-video", "English video", "英语视频", "Manila Ortigas", "en", "global",
                      "video", "violent extremism", 95, 30, 40, 48),
            QueueSpec("th-live", "Thai live streams", "泰语直播", "Manila Ortigas", "th", "sea",
                      "live", "sexual content", 95, 10, 18, 35),
            QueueSpec("vi-video", "Vietnamese short video", "越南语短视频", "Cebu IT Park", "vi",
                      "sea", "video", "general", 95, 30, 22, 42),
            QueueSpec("id-comments", "Indonesian comments", "印尼语评论", "Cebu IT Park", "id",
                      "sea", "comments", "hate speech", 95, 60, 16, 20,
                      (time(7, 0), time(23, 0))),
            QueueSpec("csam-priority", "Child safety priority", "儿童安全优先队列", "Cebu IT Park",
                      "en", "global", "mixed", "child safety", 99, 15, 12, 60),
        ],
    },
    {
        "code": "huabei",
        "name": "Huabei Content Services",
        "name_zh": "华北内容服务有限公司",
        "contract_ref": "HB-2026-003",
        "languages": ["zh"],
        "markets": ["cn"],
        "contacts": "值班经理 张伟 +86 411 8000 0000; 西安基地 刘洋 +86 29 8000 0000",
        "team": "ts-ops-cn",
        "sites": [
            ("Dalian Hi-tech Zone", "大连高新区基地", "Dalian 大连", "CN", "Asia/Shanghai", 600),
            ("Xi'an Software Park", "西安软件园基地", "Xi'an 西安", "CN", "Asia/Shanghai", 350),
        ],
        "queues": [
            QueueSpec("zh-live", "Live streams", "直播审核", "Dalian Hi-tech Zone", "zh", "cn",
                      "live", "general", 95, 10, 60, 30),
            QueueSpec("zh-video", "Short video", "短视频审核", "Dalian Hi-tech Zone", "zh", "cn",
                      "video", "general", 95, 30, 80, 40),
            QueueSpec("zh-comments", "Comments", "评论审核", "Xi'an Software Park", "zh", "cn",
                      "comments", "harassment", 95, 60, 45, 15,
                      (time(8, 0), time(0, 0))),
            QueueSpec("zh-ads", "Ads review", "广告审核", "Xi'an Software Park", "zh", "cn",
                      "ads", "fraud", 98, 120, 20, 90,
                      (time(9, 0), time(21, 0)), (1, 2, 3, 4, 5, 6)),
        ],
    },
    {
        "code": "straits",
        "name": "Straits Trust & Safety Sdn Bhd",
        "name_zh": "海峡信任与安全",
        "contract_ref": "STS-2024-221",
        "languages": ["ms", "zh", "en"],
        "markets": ["sea"],
        "contacts": "Account lead: Nurul Aziz +60 3 2000 0000",
        "team": "ts-ops-intl",
        "sites": [
            ("Kuala Lumpur Sentral", "吉隆坡中环", "Kuala Lumpur", "MY", "Asia/Kuala_Lumpur", 250),
        ],
        "queues": [
            QueueSpec("ms-video", "Malay video", "马来语视频", "Kuala Lumpur Sentral", "ms", "sea",
                      "video", "general", 95, 30, 24, 45),
            QueueSpec("zh-my-comments", "Chinese (Malaysia) comments", "马来西亚中文评论",
                      "Kuala Lumpur Sentral", "zh", "sea", "comments", "scams", 95, 60, 14, 18),
            QueueSpec("en-appeals", "English appeals", "英语申诉", "Kuala Lumpur Sentral", "en",
                      "global", "appeals", "general", 90, 1440, 10, 150,
                      (time(9, 0), time(18, 0)), (1, 2, 3, 4, 5)),
        ],
    },
]  # fmt: skip


def _escalation_levels(users: dict[str, User], owner: User) -> list[dict]:
    """Every demo vendor's own escalation policy: the responders first, then
    the ops manager if nobody acknowledged within 10 minutes."""
    first = [users[n].id for n in ("responder", "responder-dub") if n in users]
    levels = [{"wait_minutes": 10, "user_ids": first}] if first else []
    return [*levels, {"wait_minutes": 15, "user_ids": [owner.id]}]


def _create(admin: User, teams: dict[str, Team], owner: User, levels: list[dict]) -> None:
    for spec in VENDORS:
        vendor = services.vendor_create(
            actor=admin,
            code=spec["code"],
            name=spec["name"],
            name_zh=spec["name_zh"],
            contract_ref=spec["contract_ref"],
            languages=spec["languages"],
            markets=spec["markets"],
            contacts=spec["contacts"],
            team=teams.get(spec["team"]),
            owner=owner,
            escalation_levels=levels,
        )
        sites = {}
        for name, name_zh, city, country, zone, seats in spec["sites"]:
            sites[name] = services.site_create(
                actor=admin,
                vendor_id=vendor.id,
                name=name,
                name_zh=name_zh,
                city=city,
                country=country,
                time_zone=zone,
                seats=seats,
            )
        for q in spec["queues"]:
            services.queue_create(
                actor=admin,
                vendor_id=vendor.id,
                site=sites[q.site],
                code=q.code,
                name=q.name,
                name_zh=q.name_zh,
                language=q.language,
                market=q.market,
                content_type=q.content_type,
                policy_area=q.policy_area,
                sla_percent=q.sla_percent,
                sla_minutes=q.sla_minutes,
                planned_headcount=q.planned,
                staffed_from=q.shift[0],
                staffed_to=q.shift[1],
                staffed_days=list(q.days),
            )


def _figures(vendor_code: str, q: QueueSpec, zone: str, at: datetime, hours_ago: int) -> dict:
    """Believable hourly figures for one queue, the same on every run."""
    rng = random.Random(f"{vendor_code}/{q.code}/{at.isoformat()}")  # noqa: S311 - demo data  # nosec B311
    local_hour = at.astimezone(ZoneInfo(zone)).hour
    # Evening peak around 21:00 local, trough before dawn.
    daily = 1.0 + 0.25 * math.cos((local_hour - 21) / 24 * 2 * math.pi)
    staffed = max(1, round(q.planned * rng.uniform(0.92, 1.02)))
    aht = q.aht * rng.uniform(0.93, 1.07)
    outflow = staffed * 3600 / aht * 0.8
    ratio = rng.uniform(0.88, 1.02) * (0.85 + 0.15 * daily)
    capacity = outflow * q.sla_minutes / 60
    backlog_share = rng.uniform(0.12, 0.35)
    oldest_share = rng.uniform(0.25, 0.6)
    attainment = min(99.9, q.sla_percent + rng.uniform(1.2, 4.0))
    if (vendor_code, q.code) == TRENDING and hours_ago < 8:
        progress = (8 - hours_ago) / 8
        staffed = max(1, round(q.planned * (0.97 - 0.12 * progress)))
        outflow = staffed * 3600 / aht * 0.8
        capacity = outflow * q.sla_minutes / 60
        ratio = 1.0 + 0.35 * progress
        backlog_share = 0.35 + 0.55 * progress
        oldest_share = 0.5 + 0.4 * progress
        attainment = 98.5 - 3.0 * progress
    if vendor_code == "luzon" and q.site == "Manila Ortigas" and hours_ago < 3:
        staffed = max(1, round(q.planned * 0.82))
        outflow = staffed * 3600 / aht * 0.8
        capacity = outflow * q.sla_minutes / 60
    return {
        "taken_at": at,
        "backlog": round(capacity * backlog_share),
        "inflow_per_hour": round(outflow * ratio, 1),
        "outflow_per_hour": round(outflow, 1),
        "oldest_item_minutes": round(q.sla_minutes * oldest_share, 1),
        "sla_attainment": round(min(100.0, attainment), 1),
        "staffed_headcount": staffed,
        "planned_headcount": q.planned,
        "aht_seconds": round(aht, 1),
        "qa_accuracy": round(rng.uniform(95.0, 98.6), 1),
        "escalations": rng.randint(0, 4),
    }


def _top_up(actor: User, now: datetime) -> int:
    """Import the hourly figures missing over the last HOURS hours."""
    this_hour = now.replace(minute=0, second=0, microsecond=0)
    hours = [this_hour - timedelta(hours=h) for h in range(HOURS - 1, -1, -1)]
    specs = {(v["code"], q.code): q for v in VENDORS for q in v["queues"]}
    queues = Queue.objects.select_related("vendor", "site").filter(
        vendor__code__in=[v["code"] for v in VENDORS]
    )
    have = set(
        QueueSnapshot.objects.filter(queue__in=queues, taken_at__gte=hours[0]).values_list(
            "queue_id", "taken_at"
        )
    )
    rows = []
    for queue in queues:
        spec = specs.get((queue.vendor.code, queue.code))
        if spec is None:
            continue
        window = queue.targets().shift
        for at in hours:
            if (queue.id, at) in have:
                continue
            if shift_start(at, window) is None:
                continue
            hours_ago = round((this_hour - at).total_seconds() / 3600)
            row = _figures(queue.vendor.code, spec, queue.time_zone_name(), at, hours_ago)
            rows.append({"queue_id": queue.id, **row})
    if not rows:
        return 0
    result = services.snapshots_import(actor=actor, rows=rows, source=QueueSnapshot.Source.API)
    if not result.ok:
        raise RuntimeError(f"demo snapshots refused: {result.errors[:3]}")
    return result.created


def seed(stdout=None) -> int:
    """Create the demo vendors (once) and top their figures up to this hour.
    Returns how many snapshots it added."""
    users = {u.username: u for u in User.objects.all()}
    admin, manager = users.get("admin"), users.get("manager")
    if admin is None or manager is None:
        return 0
    now = timezone.now().astimezone(UTC)
    if not Vendor.objects.filter(code="luzon").exists():
        teams = {t.slug: t for t in Team.objects.all()}
        _create(admin, teams, owner=manager, levels=_escalation_levels(users, manager))
        luzon = Vendor.objects.get(code="luzon")
        lead = users.get("bpo-lead")
        if lead is not None:
            services.membership_set(actor=admin, vendor_id=luzon.id, user_id=lead.id)
        manila = Site.objects.get(vendor=luzon, name="Manila Ortigas")
        services.site_status_change(
            actor=manager,
            site_id=manila.id,
            status="degraded",
            reason=MANILA_REASON,
            source="admin",
        )
        outage = Incident.objects.filter(title__startswith="Manila site power outage").first()
        if outage is not None:
            services.impact_link(
                actor=manager, incident_id=outage.id, vendor_id=luzon.id, site_id=manila.id
            )
    added = _top_up(manager, now)
    if stdout is not None:
        stdout.write(f"Demo vendor snapshots: {added}.")
    return added
