"""Who is on call (one schedule, or all at once), final shifts, my shifts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from oncall import services
from tests.oncall.api.conftest import API, days, error_fields, hours, iso, parse, top_of_hour
from tscc.services import api_token_create

pytestmark = pytest.mark.django_db


def add_schedules(cast, n: int, start: int = 0) -> None:
    """n schedules, each with a daily layer of two and an override."""
    anchor = top_of_hour(timezone.now()) - days(1)
    for i in range(start, start + n):
        schedule = services.schedule_save(
            actor=cast.manager, name=f"Schedule {i:02d}", time_zone="Europe/Dublin", team=cast.team
        )
        services.layer_create(
            actor=cast.manager,
            schedule=schedule,
            name="Primary",
            users=[cast.ana, cast.ben] if i % 2 else [cast.cai, cast.dan],
            unit="days",
            count=1,
            anchor=anchor,
        )
        services.override_create(
            actor=cast.manager,
            schedule=schedule,
            user=cast.dan,
            starts_at=anchor + days(3),
            ends_at=anchor + days(3) + hours(4),
        )


# --- One schedule -------------------------------------------------------------


def test_oncall_now_and_next(api_as, cast, rotation):
    response = api_as(cast.outsider).get(f"/schedules/{rotation.schedule.id}/oncall/")
    assert response.status_code == 200
    body = response.json()
    assert body["schedule"] == {
        "id": rotation.schedule.id,
        "name": "T&S Ops CN",
        "time_zone": "Asia/Shanghai",
    }
    assert body["now"]["user"] == {"id": cast.ben.id, "name": "Ben"}
    assert parse(body["now"]["start"]) == rotation.anchor + days(1)
    assert parse(body["now"]["end"]) == rotation.handoff
    assert body["now"]["layer"] == rotation.layer.id and body["now"]["override"] is None
    assert body["next"]["user"]["name"] == "Cai"
    assert parse(body["next"]["start"]) == rotation.handoff
    assert abs(parse(body["at"]) - timezone.now()) < timedelta(seconds=30)


def test_oncall_at_a_given_time(api_as, cast, rotation):
    api = api_as(cast.ana)
    at = rotation.handoff + days(1) + hours(2)
    body = api.get(f"/schedules/{rotation.schedule.id}/oncall/", {"at": iso(at)}).json()
    assert body["now"]["user"]["name"] == "Ana"
    assert parse(body["at"]) == at
    # An unencoded "+08:00" arrives as " 08:00" and still means +08:00.
    zoned = at.astimezone(timezone.get_fixed_timezone(480))
    raw = zoned.strftime("%Y-%m-%dT%H:%M:%S") + "+08:00"
    response = api.client.get(f"{API}/schedules/{rotation.schedule.id}/oncall/?at={raw}")
    assert response.status_code == 200, response.content
    assert parse(response.json()["at"]) == at


def test_a_gap_is_nobody(api_as, cast, rotation):
    services.layer_end(actor=cast.manager, layer_id=rotation.layer.id)
    body = api_as(cast.ana).get(f"/schedules/{rotation.schedule.id}/oncall/").json()
    assert body["now"]["user"] is None and body["next"] is None


@pytest.mark.parametrize("at", ["now", "2026-03-02T09:00:00", "2026-13-02T09:00:00Z"])
def test_oncall_refuses_bad_times(api_as, cast, rotation, at):
    response = api_as(cast.ana).get(f"/schedules/{rotation.schedule.id}/oncall/", {"at": at})
    assert response.status_code == 400
    assert error_fields(response) == {"at"}


@pytest.mark.parametrize("role", ["executive", "bpo"])
def test_oncall_is_404_for_roles_without_oncall(api_as, cast, rotation, role):
    response = api_as(getattr(cast, role)).get(f"/schedules/{rotation.schedule.id}/oncall/")
    assert response.status_code == 404


# --- Every schedule -----------------------------------------------------------


def test_oncall_now_for_every_schedule(api_as, cast, rotation):
    add_schedules(cast, 2)
    body = api_as(cast.ana).get("/oncall/now/").json()
    assert [row["schedule"]["name"] for row in body] == ["Schedule 00", "Schedule 01", "T&S Ops CN"]
    assert [row["now"]["user"]["name"] for row in body] == ["Dan", "Ben", "Ben"]
    assert [row["next"]["user"]["name"] for row in body] == ["Cai", "Ana", "Cai"]


def test_oncall_now_with_an_api_token(cast, rotation):
    _token, secret = api_token_create(actor=None, user=cast.manager, name="escalations")
    response = Client().get(f"{API}/oncall/now/", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == 200
    assert [row["now"]["user"]["name"] for row in response.json()] == ["Ben"]
    assert Client().get(f"{API}/oncall/now/").status_code in (401, 403)


def test_oncall_now_at_a_given_time(api_as, cast, rotation):
    at = rotation.handoff + hours(1)
    body = api_as(cast.ana).get("/oncall/now/", {"at": iso(at)}).json()
    assert [row["now"]["user"]["name"] for row in body] == ["Cai"]


@pytest.mark.parametrize("role", ["executive", "bpo"])
def test_oncall_now_refuses_roles_without_oncall(api_as, cast, rotation, role):
    assert api_as(getattr(cast, role)).get("/oncall/now/").status_code == 403


def test_oncall_now_refuses_a_bad_time(api_as, cast, rotation):
    response = api_as(cast.ana).get("/oncall/now/", {"at": "noon"})
    assert response.status_code == 400
    assert error_fields(response) == {"at"}


def test_oncall_now_queries_do_not_grow_with_schedules(api_as, cast):
    api = api_as(cast.manager)
    add_schedules(cast, 3)
    api.get("/oncall/now/")  # warm the session
    with CaptureQueriesContext(connection) as few:
        assert len(api.get("/oncall/now/").json()) == 3
    add_schedules(cast, 17, start=3)
    with CaptureQueriesContext(connection) as many:
        body = api.get("/oncall/now/").json()
    assert len(body) == 20 and all(row["now"]["user"] for row in body)
    # Session, user; schedules, layers, members, overrides; the people named.
    assert len(few) == len(many) == 7


# --- Shifts -------------------------------------------------------------------


def test_shifts_in_a_window(api_as, cast, rotation):
    start = rotation.anchor + days(1)
    response = api_as(cast.outsider).get(
        f"/schedules/{rotation.schedule.id}/shifts/",
        {"start": iso(start), "end": iso(start + days(3))},
    )
    assert response.status_code == 200
    body = response.json()
    assert [(s["user"]["name"], parse(s["start"]), parse(s["end"])) for s in body] == [
        ("Ben", start, start + days(1)),
        ("Cai", start + days(1), start + days(2)),
        ("Ana", start + days(2), start + days(3)),
    ]
    assert {s["layer"] for s in body} == {rotation.layer.id}


def test_shifts_default_to_the_next_14_days_and_show_gaps(api_as, cast, rotation):
    weekdays = services.schedule_save(
        actor=cast.manager, name="Business hours", time_zone="Asia/Shanghai", team=cast.team
    )
    services.layer_create(
        actor=cast.manager,
        schedule=weekdays,
        name="Office",
        users=[cast.ana],
        unit="weeks",
        count=1,
        anchor=rotation.anchor,
        restrictions=[{"days": [1, 2, 3, 4, 5], "start": "09:00", "end": "18:00"}],
    )
    before = timezone.now()
    body = api_as(cast.ana).get(f"/schedules/{weekdays.id}/shifts/").json()
    start, end = parse(body[0]["start"]), parse(body[-1]["end"])
    assert before <= start <= timezone.now()
    assert end - start == days(14)
    assert all(parse(a["end"]) == parse(b["start"]) for a, b in zip(body, body[1:], strict=False))
    gaps = [s for s in body if s["user"] is None]
    worked = [s for s in body if s["user"] is not None]
    assert len(worked) in (10, 11) and len(gaps) >= 9
    assert {s["user"]["id"] for s in worked} == {cast.ana.id}
    assert all(s["layer"] is None for s in gaps)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"start": "2026-03-01T00:00:00Z", "end": "2026-05-03T00:00:00Z"}, "end"),
        ({"start": "2026-03-01T00:00:00Z", "end": "2026-03-01T00:00:00Z"}, "end"),
        ({"end": "2026-03-01"}, "end"),
        ({"start": "2026-03-01T00:00"}, "start"),
    ],
)
def test_shifts_refuse_bad_windows(api_as, cast, rotation, params, field):
    response = api_as(cast.ana).get(f"/schedules/{rotation.schedule.id}/shifts/", params)
    assert response.status_code == 400
    assert error_fields(response) == {field}


def test_shifts_allow_62_days(api_as, cast, rotation):
    params = {"start": "2026-03-01T00:00:00Z", "end": "2026-05-02T00:00:00Z"}
    response = api_as(cast.ana).get(f"/schedules/{rotation.schedule.id}/shifts/", params)
    assert response.status_code == 200


@pytest.mark.parametrize("role", ["executive", "bpo"])
def test_shifts_are_404_for_roles_without_oncall(api_as, cast, rotation, role):
    response = api_as(getattr(cast, role)).get(f"/schedules/{rotation.schedule.id}/shifts/")
    assert response.status_code == 404


# --- My shifts ----------------------------------------------------------------


def test_my_shifts_across_schedules(api_as, cast, rotation):
    add_schedules(cast, 2)  # Schedule 01 rotates ana and ben
    start = rotation.handoff
    response = api_as(cast.ana).get(
        "/me/shifts/", {"start": iso(start), "end": iso(start + days(6))}
    )
    assert response.status_code == 200
    body = response.json()
    assert {row["schedule"]["name"] for row in body} == {"T&S Ops CN", "Schedule 01"}
    mine = [(row["schedule"]["name"], parse(row["start"])) for row in body]
    assert ("T&S Ops CN", start + days(1)) in mine and ("T&S Ops CN", start + days(4)) in mine
    assert mine == sorted(mine, key=lambda pair: pair[1])
    assert all(parse(row["end"]) > parse(row["start"]) for row in body)
    # Nobody else's shifts: ben's days on Schedule 01 are not in the list.
    other = api_as(cast.ben).get("/me/shifts/", {"start": iso(start), "end": iso(start + days(6))})
    theirs = {(row["schedule"]["id"], row["start"]) for row in other.json()}
    assert not theirs & {(row["schedule"]["id"], row["start"]) for row in body}


def test_my_shifts_default_to_the_next_14_days(api_as, cast, rotation):
    body = api_as(cast.cai).get("/me/shifts/").json()
    assert [parse(row["start"]) for row in body] == [
        rotation.handoff + days(3 * i) for i in range(5)
    ]


def test_my_shifts_refuse_a_bad_window(api_as, cast, rotation):
    response = api_as(cast.cai).get("/me/shifts/", {"end": iso(timezone.now() + days(90))})
    assert response.status_code == 400
    assert error_fields(response) == {"end"}


@pytest.mark.parametrize("role", ["executive", "bpo"])
def test_my_shifts_refuse_roles_without_oncall(api_as, cast, role):
    assert api_as(getattr(cast, role)).get("/me/shifts/").status_code == 403
