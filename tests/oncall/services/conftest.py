"""Builders for the on-call service tests: a cast of people in two teams,
schedules and layers made through the services, and a recorder for the
notices that leave after commit."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace

import pytest
from django.utils import timezone

from oncall import services
from tests.oncall.services.support import days, hours, top_of_hour
from tscc.models import Team
from tscc.roles import Role

KEEP = object()  # "the cast's team" for make_schedule


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """The cast logs in nowhere; a slow hasher only slows every test down."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def cast(make_user):
    """Responders ana, ben, cai, dan and eli in team "T&S Ops CN"; outsider in
    "T&S Ops IE"; a manager, an admin, an executive and a BPO lead in none."""
    team = Team.objects.create(name="T&S Ops CN", slug="ts-ops-cn", time_zone="Asia/Shanghai")
    other = Team.objects.create(name="T&S Ops IE", slug="ts-ops-ie", time_zone="Europe/Dublin")
    people = SimpleNamespace(
        team=team,
        other_team=other,
        manager=make_user(Role.OPS_MANAGER, username="manager"),
        admin=make_user(Role.ADMIN, username="admin"),
        ana=make_user(Role.RESPONDER, username="ana"),
        ben=make_user(Role.RESPONDER, username="ben"),
        cai=make_user(Role.RESPONDER, username="cai"),
        dan=make_user(Role.RESPONDER, username="dan"),
        eli=make_user(Role.RESPONDER, username="eli"),
        outsider=make_user(Role.RESPONDER, username="outsider"),
        executive=make_user(Role.EXECUTIVE, username="executive"),
        bpo_lead=make_user(Role.BPO_LEAD, username="bpo"),
    )
    for user in (people.ana, people.ben, people.cai, people.dan, people.eli):
        user.teams.add(team)
    people.outsider.teams.add(other)
    return people


@pytest.fixture
def make_schedule(cast):
    """schedule_save as the ops manager; the team defaults to the cast's."""

    def make(name="T&S Ops CN", time_zone="Asia/Shanghai", team=KEEP, actor=None):
        return services.schedule_save(
            actor=actor or cast.manager,
            name=name,
            time_zone=time_zone,
            team=cast.team if team is KEEP else team,
        )

    return make


@pytest.fixture
def make_layer(cast):
    """layer_create as the ops manager: a daily rotation unless told."""

    def make(schedule, users, anchor, unit="days", count=1, actor=None, name="Primary", **kw):
        return services.layer_create(
            actor=actor or cast.manager,
            schedule=schedule,
            name=name,
            users=users,
            unit=unit,
            count=count,
            anchor=anchor,
            **kw,
        )

    return make


@pytest.fixture
def make_override(cast):
    """override_create as the ops manager."""

    def make(schedule, user, starts_at, ends_at, replaces=None, actor=None):
        return services.override_create(
            actor=actor or cast.manager,
            schedule=schedule,
            user=user,
            starts_at=starts_at,
            ends_at=ends_at,
            replaces=replaces,
        )

    return make


@pytest.fixture
def rotation(cast, make_schedule, make_layer):
    """Daily ana, ben, cai, dan in Shanghai since yesterday: ben is on call
    now (since three hours before the current hour) and cai would be next,
    from `handoff`, 21 hours after the current hour."""
    anchor = top_of_hour(timezone.now()) - days(1) - hours(3)
    schedule = make_schedule()
    layer = make_layer(schedule, [cast.ana, cast.ben, cast.cai, cast.dan], anchor)
    return SimpleNamespace(schedule=schedule, layer=layer, anchor=anchor, handoff=anchor + days(2))


@dataclass
class Notices:
    """What oncall.services handed to notify_user after commit."""

    sent: list[tuple[int, str, str]] = field(default_factory=list)

    def users(self) -> list[int]:
        return [user_id for user_id, _text, _level in self.sent]


@pytest.fixture
def notices(monkeypatch) -> Notices:
    """Record user notices instead of sending them (they leave only in
    on-commit callbacks; run those with django_capture_on_commit_callbacks)."""
    recorded = Notices()

    def notify_user(user_id, *, text, level="info"):
        recorded.sent.append((user_id, text, level))

    monkeypatch.setattr("oncall.services.notify_user", notify_user)
    return recorded
