"""Layers: list, add, edit (a new version from the next handoff), end."""

from __future__ import annotations

import pytest
from django.utils import timezone

from oncall.models import Layer
from tests.oncall.api.conftest import days, error_fields, hours, iso, parse, top_of_hour

pytestmark = pytest.mark.django_db

WEEKDAYS = {"days": [1, 2, 3, 4, 5], "start": "09:00", "end": "18:00"}


def layer_body(cast, **overrides) -> dict:
    body = {
        "name": "Business hours",
        "users": [cast.dan.id, cast.ana.id],
        "unit": "weeks",
        "count": 1,
        "anchor": "2026-03-02T09:00:00+08:00",
        "priority": 1,
        "restrictions": [WEEKDAYS],
    }
    return body | overrides


def who(api, schedule, moment) -> str | None:
    response = api.get(f"/schedules/{schedule.id}/oncall/", {"at": iso(moment)})
    assert response.status_code == 200, response.content
    user = response.json()["now"]["user"]
    return user and user["name"]


# --- List and create ----------------------------------------------------------


def test_list_shows_layers_in_force_highest_first(api_as, cast, rotation):
    api = api_as(cast.ana)
    made = api.post(f"/schedules/{rotation.schedule.id}/layers/", layer_body(cast))
    assert made.status_code == 201, made.content
    response = api.get(f"/schedules/{rotation.schedule.id}/layers/")
    assert response.status_code == 200
    assert [row["name"] for row in response.json()] == ["Business hours", "Primary"]


def test_create_answers_the_layer_in_rotation_order(api_as, cast, rotation):
    response = api_as(cast.ana).post(f"/schedules/{rotation.schedule.id}/layers/", layer_body(cast))
    assert response.status_code == 201
    body = response.json()
    assert [u["id"] for u in body["users"]] == [cast.dan.id, cast.ana.id]
    assert body["restrictions"] == [WEEKDAYS]
    assert body["schedule"] == rotation.schedule.id
    assert body["previous"] is None and body["active_until"] is None
    assert parse(body["anchor"]) == parse("2026-03-02T09:00:00+08:00")


def test_outsider_cannot_add_a_layer(api_as, cast, rotation):
    response = api_as(cast.outsider).post(
        f"/schedules/{rotation.schedule.id}/layers/", layer_body(cast)
    )
    assert response.status_code == 403
    assert Layer.objects.filter(schedule=rotation.schedule).count() == 1


@pytest.mark.parametrize("role", ["executive", "bpo"])
def test_layers_are_404_for_roles_without_oncall(api_as, cast, rotation, role):
    api = api_as(getattr(cast, role))
    path = f"/schedules/{rotation.schedule.id}/layers/"
    assert api.get(path).status_code == 404
    assert api.post(path, layer_body(cast)).status_code == 404
    assert api.get(f"/layers/{rotation.layer.id}/").status_code == 404
    assert api.patch(f"/layers/{rotation.layer.id}/", {"name": "x"}).status_code == 404
    assert api.delete(f"/layers/{rotation.layer.id}/").status_code == 404


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"users": []}, {"users"}),
        ({"users": [999999]}, {"users"}),
        ({"unit": "months"}, {"unit"}),
        ({"count": 0}, {"count"}),
        ({"anchor": "2026-03-02T09:00:00"}, {"anchor"}),
        ({"anchor": "yesterday"}, {"anchor"}),
        ({"restrictions": [{"days": [0, 8], "start": "09:00", "end": "18:00"}]}, {"restrictions"}),
        ({"restrictions": [{"days": [1], "start": "9am", "end": "18:00"}]}, {"restrictions"}),
        ({"restrictions": [{"days": [1], "start": "09:00", "end": "09:00"}]}, {"restrictions"}),
        ({"time_zone": "Europe/Atlantis"}, {"time_zone"}),
    ],
)
def test_create_refuses_bad_input(api_as, cast, rotation, changes, fields):
    response = api_as(cast.manager).post(
        f"/schedules/{rotation.schedule.id}/layers/", layer_body(cast, **changes)
    )
    assert response.status_code == 400, response.content
    assert error_fields(response) == fields


def test_create_refuses_people_who_cannot_be_on_call(api_as, cast, rotation):
    response = api_as(cast.manager).post(
        f"/schedules/{rotation.schedule.id}/layers/",
        layer_body(cast, users=[cast.ana.id, cast.executive.id]),
    )
    assert response.status_code == 400
    assert response.json()["fields"] == {"users": "Choose responders."}


# --- Edit ---------------------------------------------------------------------


def test_editing_a_started_layer_makes_a_version_from_the_next_handoff(api_as, cast, rotation):
    api = api_as(cast.ana)
    schedule = rotation.schedule
    assert who(api, schedule, timezone.now()) == "Ben"
    response = api.patch(f"/layers/{rotation.layer.id}/", {"users": [cast.cai.id, cast.ana.id]})
    assert response.status_code == 200, response.content
    new = response.json()
    assert new["id"] != rotation.layer.id
    assert new["previous"] == rotation.layer.id
    assert parse(new["active_from"]) == rotation.handoff == parse(new["anchor"])
    assert [u["name"] for u in new["users"]] == ["Cai", "Ana"]
    rotation.layer.refresh_from_db()
    assert rotation.layer.active_until == rotation.handoff
    # Ben stays on until the handoff, then the new rotation runs.
    oncall = api.get(f"/schedules/{schedule.id}/oncall/").json()
    assert oncall["now"]["user"]["name"] == "Ben"
    assert parse(oncall["now"]["end"]) == rotation.handoff
    assert oncall["next"]["user"]["name"] == "Cai"
    assert who(api, schedule, rotation.handoff - hours(1)) == "Ben"
    assert who(api, schedule, rotation.handoff + hours(1)) == "Cai"
    assert who(api, schedule, rotation.handoff + days(1) + hours(1)) == "Ana"
    assert who(api, schedule, rotation.handoff + days(2) + hours(1)) == "Cai"
    layers = api.get(f"/schedules/{schedule.id}/layers/").json()
    assert {row["id"] for row in layers} == {rotation.layer.id, new["id"]}


def test_a_replaced_version_cannot_be_edited_but_its_successor_can(api_as, cast, rotation):
    api = api_as(cast.manager)
    new = api.patch(f"/layers/{rotation.layer.id}/", {"users": [cast.cai.id]}).json()
    again = api.patch(f"/layers/{rotation.layer.id}/", {"users": [cast.ana.id]})
    assert again.status_code == 409
    assert again.json()["code"] == "layer_replaced"
    # The successor has not started yet: it changes in place.
    response = api.patch(f"/layers/{new['id']}/", {"users": [cast.dan.id], "name": "Night"})
    assert response.status_code == 200
    assert response.json()["id"] == new["id"]
    assert [u["name"] for u in response.json()["users"]] == ["Dan"]


def test_renaming_a_started_layer_changes_it_in_place(api_as, cast, rotation):
    response = api_as(cast.ana).patch(f"/layers/{rotation.layer.id}/", {"name": "Primary CN"})
    assert response.status_code == 200
    assert response.json()["id"] == rotation.layer.id
    assert response.json()["name"] == "Primary CN"


def test_editing_a_layer_not_yet_started_changes_it_in_place(api_as, cast, rotation):
    api = api_as(cast.ana)
    anchor = top_of_hour(timezone.now()) + days(3)
    made = api.post(
        f"/schedules/{rotation.schedule.id}/layers/",
        layer_body(cast, anchor=iso(anchor), restrictions=[]),
    ).json()
    response = api.patch(
        f"/layers/{made['id']}/", {"users": [cast.ben.id], "unit": "days", "count": 2}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == made["id"] and body["previous"] is None
    assert (body["unit"], body["count"]) == ("days", 2)
    assert [u["id"] for u in body["users"]] == [cast.ben.id]


def test_outsider_cannot_edit_a_layer(api_as, cast, rotation):
    response = api_as(cast.outsider).patch(f"/layers/{rotation.layer.id}/", {"name": "Mine"})
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"users": []}, {"users"}),
        ({"count": -1}, {"count"}),
        ({"restrictions": [{"days": [], "start": "09:00", "end": "18:00"}]}, {"restrictions"}),
        ({"time_zone": "Nowhere/Special"}, {"time_zone"}),
        ({"users": [0]}, {"users"}),
    ],
)
def test_edit_refuses_bad_input(api_as, cast, rotation, changes, fields):
    response = api_as(cast.manager).patch(f"/layers/{rotation.layer.id}/", changes)
    assert response.status_code == 400, response.content
    assert error_fields(response) == fields
    assert Layer.objects.filter(schedule=rotation.schedule).count() == 1


def test_get_one_layer(api_as, cast, rotation):
    response = api_as(cast.outsider).get(f"/layers/{rotation.layer.id}/")
    assert response.status_code == 200
    assert response.json()["name"] == "Primary"


# --- End ----------------------------------------------------------------------


def test_ending_a_layer_leaves_a_gap_from_now(api_as, cast, rotation):
    api = api_as(cast.ana)
    assert api.delete(f"/layers/{rotation.layer.id}/").status_code == 204
    assert api.get(f"/schedules/{rotation.schedule.id}/layers/").json() == []
    ended = api.get(f"/schedules/{rotation.schedule.id}/layers/", {"include_ended": "true"})
    assert [row["id"] for row in ended.json()] == [rotation.layer.id]
    oncall = api.get(f"/schedules/{rotation.schedule.id}/oncall/").json()
    assert oncall["now"]["user"] is None and oncall["next"] is None
    assert who(api, rotation.schedule, timezone.now() - hours(2)) == "Ben"
    # Ending it again changes nothing.
    assert api.delete(f"/layers/{rotation.layer.id}/").status_code == 204


def test_ending_a_layer_drops_its_planned_version(api_as, cast, rotation):
    api = api_as(cast.manager)
    new = api.patch(f"/layers/{rotation.layer.id}/", {"users": [cast.cai.id]}).json()
    assert api.delete(f"/layers/{rotation.layer.id}/").status_code == 204
    assert not Layer.objects.filter(id=new["id"]).exists()
    assert who(api, rotation.schedule, rotation.handoff + hours(1)) is None


def test_outsider_cannot_end_a_layer(api_as, cast, rotation):
    assert api_as(cast.outsider).delete(f"/layers/{rotation.layer.id}/").status_code == 403
    rotation.layer.refresh_from_db()
    assert rotation.layer.active_until is None


def test_an_unknown_layer_is_404(api_as, cast):
    assert api_as(cast.manager).get("/layers/999999/").status_code == 404
    assert api_as(cast.manager).delete("/layers/999999/").status_code == 404
