"""Calendar feeds: a secret URL shown once, listed by prefix, revocable."""

from __future__ import annotations

import pytest
from django.test import Client

from oncall import services
from oncall.models import CalendarFeed

pytestmark = pytest.mark.django_db


def fetch(url: str):
    return Client(REMOTE_ADDR="10.20.0.1").get(url.removeprefix("http://testserver"))


def test_personal_feed_url_is_shown_once_and_works(api_as, cast, rotation):
    api = api_as(cast.ana)
    response = api.post("/feeds/", {})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["schedule"] is None
    assert body["url"].startswith("http://testserver/oncall/ical/cal_")
    assert body["url"].endswith(".ics")
    token = body["url"].rsplit("/", 1)[1].removesuffix(".ics")
    assert token.startswith(body["prefix"]) and len(token) > len(body["prefix"]) + 20
    calendar = fetch(body["url"])
    assert calendar.status_code == 200
    assert calendar["Content-Type"] == "text/calendar; charset=utf-8"
    listed = api.get("/feeds/").json()
    assert [row["id"] for row in listed] == [body["id"]]
    assert "url" not in listed[0] and token not in str(listed)


def test_schedule_feed(api_as, cast, rotation):
    response = api_as(cast.outsider).post("/feeds/", {"schedule": rotation.schedule.id})
    assert response.status_code == 201
    assert response.json()["schedule"]["id"] == rotation.schedule.id
    assert b"Ben on call" in fetch(response.json()["url"]).content


def test_feed_list_shows_only_my_live_feeds(api_as, cast, rotation):
    mine, _token = services.feed_create(actor=cast.ana, schedule=rotation.schedule)
    gone, _token = services.feed_create(actor=cast.ana)
    services.feed_revoke(actor=cast.ana, feed_id=gone.id)
    services.feed_create(actor=cast.ben)
    body = api_as(cast.ana).get("/feeds/").json()
    assert [row["id"] for row in body] == [mine.id]
    assert body[0]["schedule"]["name"] == "T&S Ops CN"


@pytest.mark.parametrize("role", ["executive", "bpo"])
def test_roles_without_oncall_get_no_feeds(api_as, cast, rotation, role):
    api = api_as(getattr(cast, role))
    assert api.get("/feeds/").status_code == 403
    assert api.post("/feeds/", {}).status_code == 403
    response = api.post("/feeds/", {"schedule": rotation.schedule.id})
    assert response.status_code == 400
    assert not CalendarFeed.objects.exists()


@pytest.mark.parametrize("schedule", [999999, "abc"])
def test_create_refuses_an_unknown_schedule(api_as, cast, schedule):
    response = api_as(cast.ana).post("/feeds/", {"schedule": schedule})
    assert response.status_code == 400
    assert set(response.json()) == {"schedule"}


def test_revoke_stops_the_url(api_as, cast, rotation):
    api = api_as(cast.ana)
    body = api.post("/feeds/", {}).json()
    assert api.delete(f"/feeds/{body['id']}/").status_code == 204
    assert fetch(body["url"]).status_code == 404
    assert api.get("/feeds/").json() == []
    assert api.delete(f"/feeds/{body['id']}/").status_code == 204  # harmless twice


def test_only_the_owner_or_a_manager_revokes(api_as, cast, rotation):
    feed, _token = services.feed_create(actor=cast.ana)
    assert api_as(cast.ben).delete(f"/feeds/{feed.id}/").status_code == 403
    feed.refresh_from_db()
    assert feed.revoked_at is None
    assert api_as(cast.manager).delete(f"/feeds/{feed.id}/").status_code == 204
    feed.refresh_from_db()
    assert feed.revoked_at is not None


def test_revoking_an_unknown_feed_is_404(api_as, cast):
    assert api_as(cast.ana).delete("/feeds/999999/").status_code == 404
