"""schedule_save: who may create and edit a schedule, and what it accepts."""

import pytest

from oncall.models import Schedule
from oncall.services import InvalidInput, NotAllowed, schedule_save
from tscc.roles import Role

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", [Role.OPS_MANAGER, Role.ADMIN])
def test_ops_manager_or_admin_creates_a_schedule(cast, make_user, role):
    actor = make_user(role, username=f"creator-{role}")

    schedule = schedule_save(
        actor=actor,
        name="  T&S Ops CN  ",
        time_zone="Asia/Shanghai",
        team=cast.team,
        description="Mainland escalations",
    )

    stored = Schedule.objects.get(id=schedule.id)
    assert (stored.name, stored.time_zone, stored.team_id, stored.description) == (
        "T&S Ops CN",
        "Asia/Shanghai",
        cast.team.id,
        "Mainland escalations",
    )


@pytest.mark.parametrize("who", ["ana", "outsider", "executive", "bpo_lead"])
def test_others_may_not_create_a_schedule(cast, who):
    with pytest.raises(NotAllowed) as caught:
        schedule_save(
            actor=getattr(cast, who), name="Mine", time_zone="Asia/Shanghai", team=cast.team
        )

    assert caught.value.http_status == 403
    assert not Schedule.objects.exists()


def test_a_responder_in_the_team_edits_its_schedule(cast, make_schedule):
    schedule = make_schedule()

    schedule_save(
        actor=cast.ana,
        schedule=schedule,
        name="T&S Ops CN 24x7",
        time_zone="Europe/Dublin",
        team=cast.team,
    )

    stored = Schedule.objects.get(id=schedule.id)
    assert (stored.name, stored.time_zone, stored.team_id) == (
        "T&S Ops CN 24x7",
        "Europe/Dublin",
        cast.team.id,
    )


@pytest.mark.parametrize("who", ["outsider", "executive", "bpo_lead"])
def test_people_outside_the_team_may_not_edit_it(cast, make_schedule, who):
    schedule = make_schedule()

    with pytest.raises(NotAllowed):
        schedule_save(
            actor=getattr(cast, who),
            schedule=schedule,
            name="Taken",
            time_zone="UTC",
            team=cast.other_team,
        )

    stored = Schedule.objects.get(id=schedule.id)
    assert (stored.name, stored.time_zone, stored.team_id) == (
        "T&S Ops CN",
        "Asia/Shanghai",
        cast.team.id,
    )


@pytest.mark.parametrize(
    ("name", "time_zone", "field"),
    [
        ("", "Asia/Shanghai", "name"),
        ("   ", "Asia/Shanghai", "name"),
        ("T&S Ops CN", "Mars/Olympus_Mons", "time_zone"),
        ("T&S Ops CN", "", "time_zone"),
        ("T&S Ops CN", "../../etc/passwd", "time_zone"),
    ],
)
def test_invalid_input_names_the_field(cast, make_schedule, name, time_zone, field):
    with pytest.raises(InvalidInput) as caught:
        schedule_save(actor=cast.manager, name=name, time_zone=time_zone, team=cast.team)
    assert caught.value.http_status == 400
    assert set(caught.value.fields) == {field}
    assert caught.value.extra == {"fields": caught.value.fields}
    assert not Schedule.objects.exists()

    schedule = make_schedule()
    with pytest.raises(InvalidInput) as caught:
        schedule_save(
            actor=cast.manager, schedule=schedule, name=name, time_zone=time_zone, team=cast.team
        )
    assert set(caught.value.fields) == {field}
    assert Schedule.objects.get(id=schedule.id).name == "T&S Ops CN"
