"""Vendor fixtures, made through the services: two vendors with a site and
a queue each, an ops manager who owns them and a BPO lead of the first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from tests.factories import TeamFactory
from tscc.roles import Role
from vendors import services
from vendors.models import Queue


@pytest.fixture
def manager(make_user):
    return make_user(Role.OPS_MANAGER, username="mgr")


@pytest.fixture
def team(db):
    return TeamFactory(slug="ts-ops-intl", name="T&S Ops Intl")


@pytest.fixture
def vendor(manager, team):
    return services.vendor_create(
        actor=manager, code="luzon", name="Luzon BPO", name_zh="吕宋", team=team, owner=manager
    )


@pytest.fixture
def other_vendor(manager, team):
    return services.vendor_create(
        actor=manager, code="straits", name="Straits T&S", team=team, owner=manager
    )


@pytest.fixture
def site(manager, vendor):
    return services.site_create(
        actor=manager,
        vendor_id=vendor.id,
        name="Manila",
        city="Manila",
        country="PH",
        time_zone="Asia/Manila",
        seats=300,
    )


@pytest.fixture
def other_site(manager, other_vendor):
    return services.site_create(
        actor=manager,
        vendor_id=other_vendor.id,
        name="KL",
        city="Kuala Lumpur",
        country="MY",
        time_zone="Asia/Kuala_Lumpur",
    )


def established(queue):
    """The queue, as if created a month ago (a new queue is not stale)."""
    Queue.objects.filter(id=queue.id).update(created_at=timezone.now() - timedelta(days=30))
    queue.refresh_from_db()
    return queue


def established_queue(manager, vendor, site, *, code="en-video", name="English video", **extra):
    """A queue of `vendor` at `site` (95% within 30 min, 20 planned), as if
    created a month ago."""
    fields = {"sla_percent": 95, "sla_minutes": 30, "planned_headcount": 20, **extra}
    return established(
        services.queue_create(
            actor=manager, vendor_id=vendor.id, site=site, code=code, name=name, **fields
        )
    )


@pytest.fixture
def queue(manager, vendor, site):
    return established_queue(manager, vendor, site, market="sea")


@pytest.fixture
def other_queue(manager, other_vendor, other_site):
    return services.queue_create(
        actor=manager,
        vendor_id=other_vendor.id,
        site=other_site,
        code="en-video",
        name="English video (KL)",
        sla_percent=95,
        sla_minutes=30,
        planned_headcount=10,
    )


@pytest.fixture
def lead(make_user, manager, vendor):
    user = make_user(Role.BPO_LEAD, username="lead")
    services.membership_set(actor=manager, vendor_id=vendor.id, user_id=user.id)
    return user


@pytest.fixture
def healthy():
    """Figures of a healthy queue for 30-minute SLA, 20 planned, taken now."""

    def make(**overrides):
        fields = {
            "taken_at": timezone.now().replace(second=0, microsecond=0),
            "backlog": 50,
            "inflow_per_hour": 300,
            "outflow_per_hour": 320,
            "oldest_item_minutes": 12,
            "sla_attainment": 98.5,
            "staffed_headcount": 20,
        }
        fields.update(overrides)
        return fields

    return make


@pytest.fixture
def breached(healthy):
    def make(**overrides):
        return healthy(sla_attainment=81.0, oldest_item_minutes=48, backlog=400, **overrides)

    return make


def at(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def minutes_ago(n: int) -> datetime:
    return (timezone.now() - timedelta(minutes=n)).replace(second=0, microsecond=0)
