"""Demo schedules, made through the services (idempotent)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from oncall import services
from oncall.models import Schedule
from tscc.models import Team, User


def _monday_at(zone: str, hour: int) -> datetime:
    tz = ZoneInfo(zone)
    today = timezone.localtime(timezone.now(), tz).date()
    monday = today - timedelta(days=today.weekday() + 7)
    return datetime(monday.year, monday.month, monday.day, hour, tzinfo=tz)


def seed(stdout=None) -> int:
    if Schedule.objects.exists():
        return 0
    users = {u.username: u for u in User.objects.all()}
    admin = users.get("admin") or users.get("manager")
    if admin is None or "responder" not in users:
        return 0
    teams = {t.slug: t for t in Team.objects.all()}
    cn = services.schedule_save(
        actor=admin,
        name="T&S Ops CN — primary",
        time_zone="Asia/Shanghai",
        team=teams.get("ts-ops-cn"),
        description="Mainland China markets, 24/7.",
    )
    services.layer_create(
        actor=admin,
        schedule=cn,
        name="Weekly primary",
        users=[users["responder"], users["manager"]],
        unit="weeks",
        count=1,
        anchor=_monday_at("Asia/Shanghai", 10),
    )
    services.layer_create(
        actor=admin,
        schedule=cn,
        name="Business-hours lead",
        users=[users["manager"]],
        unit="days",
        count=1,
        anchor=_monday_at("Asia/Shanghai", 9),
        priority=10,
        restrictions=[{"days": [1, 2, 3, 4, 5], "start": "09:00", "end": "18:00"}],
    )
    intl = services.schedule_save(
        actor=admin,
        name="T&S Ops Intl — follow the sun",
        time_zone="UTC",
        team=teams.get("ts-ops-intl"),
        description="Dublin days, Shanghai days; nights uncovered.",
    )
    services.layer_create(
        actor=admin,
        schedule=intl,
        name="Dublin",
        users=[users["responder-dub"]],
        unit="days",
        count=1,
        anchor=_monday_at("Europe/Dublin", 9),
        time_zone="Europe/Dublin",
        restrictions=[{"days": [1, 2, 3, 4, 5, 6, 7], "start": "09:00", "end": "18:00"}],
    )
    services.layer_create(
        actor=admin,
        schedule=intl,
        name="Shanghai",
        users=[users["responder"]],
        unit="days",
        count=1,
        anchor=_monday_at("Asia/Shanghai", 9),
        time_zone="Asia/Shanghai",
        restrictions=[{"days": [1, 2, 3, 4, 5, 6, 7], "start": "09:00", "end": "18:00"}],
    )
    # Tuesday of next week, when the weekly rotation puts Li Lei on call.
    start = _monday_at("Asia/Shanghai", 9) + timedelta(days=15)
    services.override_create(
        actor=admin,
        schedule=cn,
        user=users["manager"],
        replaces=users["responder"],
        starts_at=start,
        ends_at=start + timedelta(hours=8),
        note="Li Lei at a training",
    )
    if stdout is not None:
        stdout.write("Demo schedules: 2.")
    return 2
