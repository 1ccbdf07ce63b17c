"""Schedules: list, create, read, edit."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from oncall import services
from tests.oncall.api.conftest import error_fields

pytestmark = pytest.mark.django_db


def make_schedules(cast, n: int) -> None:
    for i in range(n):
        services.schedule_save(
            actor=cast.manager, name=f"Schedule {i:02d}", time_zone="Europe/Dublin", team=cast.team
        )


# --- List ---------------------------------------------------------------------


def test_list_shows_schedules_by_name(api_as, cast, rotation):
    services.schedule_save(actor=cast.manager, name="Ads review", time_zone="Europe/Dublin")
    response = api_as(cast.outsider).get("/schedules/")
    assert response.status_code == 200
    body = response.json()
    assert [row["name"] for row in body] == ["Ads review", "T&S Ops CN"]
    assert body[0]["team"] is None
    assert body[1]["team"] == {"id": cast.team.id, "slug": "ts-ops-cn", "name": "T&S Ops CN"}
    assert body[1]["time_zone"] == "Asia/Shanghai"
    assert {"id", "description", "created_at", "updated_at"} <= set(body[1])


@pytest.mark.parametrize("role", ["executive", "bpo"])
def test_list_refuses_roles_without_oncall(api_as, cast, rotation, role):
    response = api_as(getattr(cast, role)).get("/schedules/")
    assert response.status_code == 403
    assert response.json()["code"] == "not_allowed"


def test_list_queries_do_not_grow_with_schedules(api_as, cast):
    api = api_as(cast.ana)
    make_schedules(cast, 3)
    api.get("/schedules/")  # warm the session
    with CaptureQueriesContext(connection) as few:
        assert len(api.get("/schedules/").json()) == 3
    make_schedules(cast, 17)
    with CaptureQueriesContext(connection) as many:
        assert len(api.get("/schedules/").json()) == 20
    assert len(few) == len(many) == 3  # session, user, schedules with teams


# --- Create -------------------------------------------------------------------


def test_manager_creates_a_schedule(api_as, cast):
    response = api_as(cast.manager).post(
        "/schedules/",
        {"name": " Live review ", "time_zone": "Europe/Dublin", "team": "ts-ops-ie"},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["name"] == "Live review"
    assert body["team"]["slug"] == "ts-ops-ie"
    assert body["layers"] == []


def test_responder_cannot_create_a_schedule(api_as, cast):
    response = api_as(cast.ana).post("/schedules/", {"name": "X", "time_zone": "Asia/Shanghai"})
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("data", "fields"),
    [
        ({"time_zone": "Asia/Shanghai"}, {"name"}),
        ({"name": "X", "time_zone": "Mars/Olympus"}, {"time_zone"}),
        ({"name": "X", "time_zone": "Asia/Shanghai", "team": "nope"}, {"team"}),
        ({"name": "  ", "time_zone": "Asia/Shanghai"}, {"name"}),
    ],
)
def test_create_refuses_bad_input(api_as, cast, data, fields):
    response = api_as(cast.manager).post("/schedules/", data)
    assert response.status_code == 400
    assert error_fields(response) == fields


# --- Detail and edit ----------------------------------------------------------


def test_detail_shows_the_layers_in_force(api_as, cast, rotation):
    response = api_as(cast.outsider).get(f"/schedules/{rotation.schedule.id}/")
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "T&S Ops CN"
    (layer,) = body["layers"]
    assert layer["id"] == rotation.layer.id
    assert [u["name"] for u in layer["users"]] == ["Ana", "Ben", "Cai"]
    assert layer["unit"] == "days" and layer["count"] == 1


@pytest.mark.parametrize("role", ["executive", "bpo"])
def test_detail_is_404_for_roles_without_oncall(api_as, cast, rotation, role):
    api = api_as(getattr(cast, role))
    assert api.get(f"/schedules/{rotation.schedule.id}/").status_code == 404
    response = api.patch(f"/schedules/{rotation.schedule.id}/", {"name": "Mine"})
    assert response.status_code == 404


def test_detail_of_an_unknown_schedule_is_404(api_as, cast):
    assert api_as(cast.manager).get("/schedules/999999/").status_code == 404


def test_team_responder_edits_the_schedule(api_as, cast, rotation):
    response = api_as(cast.ana).patch(
        f"/schedules/{rotation.schedule.id}/", {"description": "Follow the sun."}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["description"] == "Follow the sun."
    assert body["name"] == "T&S Ops CN" and body["team"]["slug"] == "ts-ops-cn"


def test_responder_outside_the_team_cannot_edit(api_as, cast, rotation):
    response = api_as(cast.outsider).patch(f"/schedules/{rotation.schedule.id}/", {"name": "Mine"})
    assert response.status_code == 403
    rotation.schedule.refresh_from_db()
    assert rotation.schedule.name == "T&S Ops CN"


def test_edit_refuses_an_unknown_zone(api_as, cast, rotation):
    response = api_as(cast.manager).patch(
        f"/schedules/{rotation.schedule.id}/", {"time_zone": "Asia/Atlantis"}
    )
    assert response.status_code == 400
    assert error_fields(response) == {"time_zone"}
