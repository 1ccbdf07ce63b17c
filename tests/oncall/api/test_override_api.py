"""Overrides and swaps: list by window, cover, swap, remove."""

from __future__ import annotations

import pytest

from oncall import services
from oncall.models import Override
from tests.oncall.api.conftest import days, error_fields, hours, iso, parse

pytestmark = pytest.mark.django_db


def who(api, schedule, moment) -> str | None:
    user = api.get(f"/schedules/{schedule.id}/oncall/", {"at": iso(moment)}).json()["now"]["user"]
    return user and user["name"]


def cover(cast, rotation, user, start, end, replaces=None):
    return services.override_create(
        actor=cast.manager,
        schedule=rotation.schedule,
        user=user,
        starts_at=start,
        ends_at=end,
        replaces=replaces,
    )


# --- List ---------------------------------------------------------------------


def test_list_filters_by_window(api_as, cast, rotation):
    h = rotation.handoff
    past = cover(cast, rotation, cast.dan, h - days(5), h - days(4))
    soon = cover(cast, rotation, cast.dan, h, h + hours(6))
    later = cover(cast, rotation, cast.ana, h + days(20), h + days(21))
    api = api_as(cast.outsider)
    path = f"/schedules/{rotation.schedule.id}/overrides/"
    assert [o["id"] for o in api.get(path).json()] == [soon.id, later.id]
    window = {"start": iso(h - days(6)), "end": iso(h + days(1))}
    body = api.get(path, window).json()
    assert [o["id"] for o in body] == [past.id, soon.id]
    assert body[1]["user"] == {"id": cast.dan.id, "name": "Dan"}
    assert body[1]["replaces"] is None and body[1]["swap_id"] is None
    assert body[1]["created_by"]["id"] == cast.manager.id


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"start": "2026-03-02T00:00:00+00:00", "end": "2026-03-01T00:00:00+00:00"}, "end"),
        ({"start": "2026-01-01T00:00:00Z", "end": "2027-03-01T00:00:00Z"}, "end"),
        ({"start": "soon"}, "start"),
        ({"start": "2026-03-02T00:00:00"}, "start"),
    ],
)
def test_list_refuses_bad_windows(api_as, cast, rotation, params, field):
    response = api_as(cast.ana).get(f"/schedules/{rotation.schedule.id}/overrides/", params)
    assert response.status_code == 400
    assert error_fields(response) == {field}


def test_list_is_404_for_an_executive(api_as, cast, rotation):
    response = api_as(cast.executive).get(f"/schedules/{rotation.schedule.id}/overrides/")
    assert response.status_code == 404


# --- Create -------------------------------------------------------------------


def test_team_responder_covers_for_someone(api_as, cast, rotation):
    api = api_as(cast.ana)
    h = rotation.handoff
    response = api.post(
        f"/schedules/{rotation.schedule.id}/overrides/",
        {
            "user": cast.dan.id,
            "starts_at": iso(h - hours(6)),
            "ends_at": iso(h + hours(6)),
            "replaces": cast.ben.id,
            "note": "Ben at the dentist",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["replaces"] == {"id": cast.ben.id, "name": "Ben"}
    assert body["note"] == "Ben at the dentist"
    assert parse(body["starts_at"]) == h - hours(6)
    # Only Ben's part is covered: Cai keeps the shift after the handoff.
    assert who(api, rotation.schedule, h - hours(1)) == "Dan"
    assert who(api, rotation.schedule, h + hours(1)) == "Cai"


def test_outsider_cannot_override(api_as, cast, rotation):
    h = rotation.handoff
    response = api_as(cast.outsider).post(
        f"/schedules/{rotation.schedule.id}/overrides/",
        {"user": cast.outsider.id, "starts_at": iso(h), "ends_at": iso(h + hours(1))},
    )
    assert response.status_code == 403
    assert not Override.objects.exists()


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"ends_at": "START"}, {"ends_at"}),
        ({"ends_at": "START+91d"}, {"ends_at"}),
        ({"replaces": "USER"}, {"replaces"}),
        ({"user": None}, {"user"}),
        ({"starts_at": "2026-03-02 09:00"}, {"starts_at"}),
    ],
)
def test_create_refuses_bad_input(api_as, cast, rotation, changes, fields):
    h = rotation.handoff
    body = {"user": cast.dan.id, "starts_at": iso(h), "ends_at": iso(h + hours(2))}
    for key, value in changes.items():
        body[key] = {"START": iso(h), "START+91d": iso(h + days(91)), "USER": cast.dan.id}.get(
            value, value
        )
    response = api_as(cast.manager).post(f"/schedules/{rotation.schedule.id}/overrides/", body)
    assert response.status_code == 400, response.content
    assert error_fields(response) == fields


def test_an_executive_cannot_be_put_on_call(api_as, cast, rotation):
    h = rotation.handoff
    response = api_as(cast.manager).post(
        f"/schedules/{rotation.schedule.id}/overrides/",
        {"user": cast.executive.id, "starts_at": iso(h), "ends_at": iso(h + hours(2))},
    )
    assert response.status_code == 400
    assert error_fields(response) == {"user"}


# --- Delete -------------------------------------------------------------------


def test_delete_removes_the_override(api_as, cast, rotation):
    h = rotation.handoff
    override = cover(cast, rotation, cast.dan, h, h + hours(2))
    api = api_as(cast.ana)
    assert who(api, rotation.schedule, h + hours(1)) == "Dan"
    assert api.delete(f"/overrides/{override.id}/").status_code == 204
    assert who(api, rotation.schedule, h + hours(1)) == "Cai"
    assert api.delete(f"/overrides/{override.id}/").status_code == 404


def test_outsider_cannot_delete_and_executive_gets_404(api_as, cast, rotation):
    h = rotation.handoff
    override = cover(cast, rotation, cast.dan, h, h + hours(2))
    assert api_as(cast.outsider).delete(f"/overrides/{override.id}/").status_code == 403
    assert api_as(cast.executive).delete(f"/overrides/{override.id}/").status_code == 404
    assert Override.objects.filter(id=override.id).exists()


# --- Swap ---------------------------------------------------------------------


def swap_body(cast, rotation) -> dict:
    h = rotation.handoff
    return {
        "first": cast.cai.id,
        "first_start": iso(h),
        "first_end": iso(h + days(1)),
        "second": cast.ana.id,
        "second_start": iso(h + days(1)),
        "second_end": iso(h + days(2)),
        "note": "Trade",
    }


def test_swap_trades_shifts_and_is_removed_whole(api_as, cast, rotation):
    api = api_as(cast.cai)
    h = rotation.handoff
    response = api.post(f"/schedules/{rotation.schedule.id}/swaps/", swap_body(cast, rotation))
    assert response.status_code == 201, response.content
    first, second = response.json()
    assert first["swap_id"] == second["swap_id"] is not None
    assert (first["user"]["id"], first["replaces"]["id"]) == (cast.ana.id, cast.cai.id)
    assert (second["user"]["id"], second["replaces"]["id"]) == (cast.cai.id, cast.ana.id)
    assert who(api, rotation.schedule, h + hours(1)) == "Ana"
    assert who(api, rotation.schedule, h + days(1) + hours(1)) == "Cai"
    assert api.delete(f"/overrides/{first['id']}/").status_code == 204
    assert not Override.objects.exists()
    assert who(api, rotation.schedule, h + hours(1)) == "Cai"


def test_outsider_cannot_swap(api_as, cast, rotation):
    response = api_as(cast.outsider).post(
        f"/schedules/{rotation.schedule.id}/swaps/", swap_body(cast, rotation)
    )
    assert response.status_code == 403
    assert not Override.objects.exists()


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"first_end": "2020-01-01T00:00:00Z"}, {"first_end"}),
        ({"second_end": "2020-01-01T00:00:00Z"}, {"second_end"}),
        ({"second": None}, {"second"}),
        ({"first_start": "tomorrow"}, {"first_start"}),
    ],
)
def test_swap_refuses_bad_input(api_as, cast, rotation, changes, fields):
    body = swap_body(cast, rotation) | changes
    response = api_as(cast.manager).post(f"/schedules/{rotation.schedule.id}/swaps/", body)
    assert response.status_code == 400
    assert error_fields(response) == fields
    assert not Override.objects.exists()


def test_swap_with_oneself_is_refused(api_as, cast, rotation):
    body = swap_body(cast, rotation) | {"second": cast.cai.id}
    response = api_as(cast.manager).post(f"/schedules/{rotation.schedule.id}/swaps/", body)
    assert response.status_code == 400
    assert error_fields(response) == {"second"}
    assert not Override.objects.exists()
