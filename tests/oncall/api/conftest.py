"""Fixtures for the on-call API: a JSON client per user, a cast of roles in
two teams, and a schedule with a daily rotation made through the services."""

from __future__ import annotations

from datetime import datetime, timedelta
from types import SimpleNamespace

import pytest
from django.test import Client
from django.utils import timezone

from oncall import services
from tests.api_client import Api as BaseApi
from tests.factories import TeamFactory
from tscc.roles import Role

API = "/api/v1/oncall"


class Api(BaseApi):
    """A signed-in (session) client that speaks JSON."""

    prefix = API


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


def days(n: float) -> timedelta:
    return timedelta(days=n)


def top_of_hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def iso(moment: datetime) -> str:
    return moment.isoformat()


def parse(value: str) -> datetime:
    return datetime.fromisoformat(value)


def error_fields(response) -> set[str]:
    """Field names of a 400, whether from a serializer or InvalidInput."""
    body = response.json()
    return set(body.get("fields", {})) if "code" in body else set(body)


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def api_as(db):
    def make(user) -> Api:
        client = Client()
        client.force_login(user)
        return Api(client)

    return make


@pytest.fixture
def cast(make_user):
    """Responders ana, ben, cai and dan in the schedule's team; an outsider
    responder in another team; a manager, an executive and a BPO lead."""
    team = TeamFactory(name="T&S Ops CN", slug="ts-ops-cn")
    other = TeamFactory(name="T&S Ops IE", slug="ts-ops-ie", time_zone="Europe/Dublin")
    people = SimpleNamespace(
        team=team,
        other_team=other,
        manager=make_user(Role.OPS_MANAGER, display_name="Manager"),
        ana=make_user(Role.RESPONDER, display_name="Ana"),
        ben=make_user(Role.RESPONDER, display_name="Ben"),
        cai=make_user(Role.RESPONDER, display_name="Cai"),
        dan=make_user(Role.RESPONDER, display_name="Dan"),
        outsider=make_user(Role.RESPONDER, display_name="Outsider"),
        executive=make_user(Role.EXECUTIVE, display_name="Executive"),
        bpo=make_user(Role.BPO_LEAD, display_name="BPO lead"),
    )
    for user in (people.ana, people.ben, people.cai, people.dan):
        user.teams.add(team)
    people.outsider.teams.add(other)
    return people


@pytest.fixture
def rotation(cast):
    """ "T&S Ops CN" (Shanghai): daily ana, ben, cai since yesterday. Ben is on
    call now, since three hours before the current hour; at `handoff` (21
    hours after the current hour) cai takes over."""
    schedule = services.schedule_save(
        actor=cast.manager, name="T&S Ops CN", time_zone="Asia/Shanghai", team=cast.team
    )
    anchor = top_of_hour(timezone.now()) - days(1) - hours(3)
    layer = services.layer_create(
        actor=cast.manager,
        schedule=schedule,
        name="Primary",
        users=[cast.ana, cast.ben, cast.cai],
        unit="days",
        count=1,
        anchor=anchor,
    )
    return SimpleNamespace(schedule=schedule, layer=layer, anchor=anchor, handoff=anchor + days(2))
