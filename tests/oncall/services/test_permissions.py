"""Who may create schedules, manage them and add overrides: the rules and
the services agree, role by role."""

import pytest

from oncall.services import NotAllowed, layer_create, override_create, schedule_save
from tests.oncall.services.support import SH, at, hours

pytestmark = pytest.mark.django_db

MONDAY_9 = at(SH, 2026, 3, 2, 9)

TABLE = [
    # who, create_schedule, manage_schedule, override
    ("manager", True, True, True),
    ("admin", True, True, True),
    ("ana", False, True, True),  # a responder in the schedule's team
    ("outsider", False, False, False),  # a responder in another team
    ("executive", False, False, False),
    ("bpo_lead", False, False, False),
]


@pytest.mark.parametrize(("who", "create", "manage", "override"), TABLE)
def test_rules(cast, make_schedule, who, create, manage, override):
    user, schedule = getattr(cast, who), make_schedule()

    assert (
        user.has_perm("oncall.create_schedule"),
        user.has_perm("oncall.manage_schedule", schedule),
        user.has_perm("oncall.override", schedule),
    ) == (create, manage, override)


def attempt(action):
    try:
        action()
    except NotAllowed:
        return False
    return True


@pytest.mark.parametrize(("who", "create", "manage", "override"), TABLE)
def test_services_follow_the_rules(cast, make_schedule, who, create, manage, override):
    user, schedule = getattr(cast, who), make_schedule()

    outcome = (
        attempt(lambda: schedule_save(actor=user, name="New", time_zone="Asia/Shanghai")),
        attempt(
            lambda: layer_create(
                actor=user,
                schedule=schedule,
                name="Primary",
                users=[cast.ben],
                unit="days",
                count=1,
                anchor=MONDAY_9,
            )
        ),
        attempt(
            lambda: override_create(
                actor=user,
                schedule=schedule,
                user=cast.ben,
                starts_at=MONDAY_9,
                ends_at=MONDAY_9 + hours(2),
            )
        ),
    )

    assert outcome == (create, manage, override)


@pytest.mark.parametrize(("who", "allowed"), [("manager", True), ("admin", True), ("ana", False)])
def test_a_schedule_without_a_team_is_managed_by_managers_only(cast, make_schedule, who, allowed):
    schedule = make_schedule(team=None)
    user = getattr(cast, who)

    assert user.has_perm("oncall.manage_schedule", schedule) is allowed
    assert user.has_perm("oncall.override", schedule) is allowed


def test_an_inactive_manager_may_do_nothing(cast, make_schedule):
    schedule = make_schedule()
    cast.manager.is_active = False
    cast.manager.save(update_fields=["is_active"])

    assert not cast.manager.has_perm("oncall.create_schedule")
    assert not cast.manager.has_perm("oncall.manage_schedule", schedule)
    assert not cast.manager.has_perm("oncall.override", schedule)
