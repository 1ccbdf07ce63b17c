"""The paging configuration pages: a cast in every role, a team, an on-call
schedule with someone on call, and policies built through the real service."""

from datetime import timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from escalations import config
from oncall import services as oncall_services
from tscc.models import Team
from tscc.roles import Role

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def cast(make_user):
    team = Team.objects.create(name="T&S Ops CN", slug="ts-ops-cn", time_zone="Asia/Shanghai")
    manager = make_user(Role.OPS_MANAGER, username="wang", display_name="Wang Min")
    rita = make_user(Role.RESPONDER, username="rita", display_name="Rita Responder")
    li = make_user(Role.RESPONDER, username="li", display_name="Li Lei")
    li.teams.add(team)
    schedule = oncall_services.schedule_save(
        actor=manager, name="T&S Ops CN", time_zone="Asia/Shanghai", team=team
    )
    anchor = timezone.localtime(timezone.now(), ZoneInfo("Asia/Shanghai")) - timedelta(days=1)
    oncall_services.layer_create(
        actor=manager,
        schedule=schedule,
        name="Weekly",
        users=[li],
        unit="weeks",
        count=1,
        anchor=anchor.replace(minute=0, second=0, microsecond=0),
    )
    return SimpleNamespace(
        team=team,
        manager=manager,
        rita=rita,
        li=li,
        schedule=schedule,
        bpo=make_user(Role.BPO_LEAD, username="bpo"),
        executive=make_user(Role.EXECUTIVE, username="exec"),
    )


@pytest.fixture
def make_policy(cast):
    def make(name="T&S default", levels=None, **fields):
        levels = levels or [
            {
                "wait_minutes": 5,
                "targets": [
                    {"kind": "user", "id": cast.rita.id},
                    {"kind": "schedule", "id": cast.schedule.id},
                ],
            },
            {"wait_minutes": 10, "targets": [{"kind": "team", "id": cast.team.id}]},
        ]
        return config.policy_save(
            actor=cast.manager, data={"name": name, "levels": levels, **fields}
        )

    return make
