import re

import pytest
from django.apps import apps
from django.contrib import admin

from tscc.roles import Role

pytestmark = pytest.mark.django_db


def test_home_shows_times_in_the_viewers_zone(client, make_user):
    client.force_login(make_user(time_zone="Europe/Dublin"))
    html = client.get("/").content.decode()
    assert "Europe/Dublin" in html
    assert 'class="tz"' in html


def test_profile_saves_preferences(client, make_user):
    user = make_user(language="en", time_zone="Asia/Shanghai")
    client.force_login(user)
    response = client.post(
        "/me/",
        {
            "display_name": "Amy W",
            "language": "en",
            "time_zone": "America/Los_Angeles",
            "phone": "+1 415 555 0100",
        },
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert (user.display_name, user.time_zone, user.phone) == (
        "Amy W",
        "America/Los_Angeles",
        "+1 415 555 0100",
    )


def test_profile_errors_come_back_as_a_422_partial_for_htmx(client, make_user):
    user = make_user(time_zone="Asia/Shanghai")
    client.force_login(user)
    response = client.post(
        "/me/",
        {"display_name": "X", "language": "en", "time_zone": "Mars/Base", "phone": "12"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert html.lstrip().startswith('<form id="profile-form"')
    assert "Mars/Base" in html  # the input is kept, nothing is lost
    assert "international format" in html
    user.refresh_from_db()
    assert user.time_zone == "Asia/Shanghai"


def test_profile_escapes_what_people_type(client, make_user):
    user = make_user(display_name="<script>alert(1)</script>")
    client.force_login(user)
    html = client.get("/").content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_not_found_page_is_ours_for_visitors_and_users(client, make_user):
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert b"error-code" in response.content and b"TSCC" in response.content
    client.force_login(make_user())
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert b'class="sidebar"' in response.content


def test_every_model_has_an_admin():
    ours = [
        m
        for m in apps.get_models()
        if m._meta.app_label in {"tscc", "incidents", "oncall", "escalations", "vendors"}
    ]
    assert ours
    assert [m.__name__ for m in ours if not admin.site.is_registered(m)] == []


def test_api_me_and_schema(client, make_user):
    assert client.get("/api/v1/me/").status_code == 403
    client.force_login(make_user(username="amy", role=Role.OPS_MANAGER))
    me = client.get("/api/v1/me/").json()
    assert (me["username"], me["role"]) == ("amy", "ops_manager")
    response = client.patch(
        "/api/v1/me/", {"time_zone": "Nowhere/City"}, content_type="application/json"
    )
    assert response.status_code == 400
    assert "time_zone" in response.json()
    response = client.patch(
        "/api/v1/me/", {"time_zone": "Europe/Dublin"}, content_type="application/json"
    )
    assert response.json()["time_zone"] == "Europe/Dublin"
    schema = client.get("/api/schema/", headers={"Accept": "application/json"})
    assert schema.status_code == 200
    assert "/api/v1/me/" in schema.json()["paths"]
    assert client.get("/api/docs/").status_code == 200


def test_seed_demo_is_idempotent_and_has_every_role():
    from django.core.management import call_command

    from tscc.models import Team, User

    call_command("seed_demo")
    call_command("seed_demo")
    assert {u.role for u in User.objects.all()} == {r.value for r in Role}
    assert User.objects.count() == 6
    assert Team.objects.count() == 2
    assert User.objects.get(username="manager").check_password("tscc-demo-2026")


def test_demo_incidents_give_every_trend_a_number():
    """The demo's year of incidents measures MTTD too: some record when the
    harm began (25 min to 6 h before discovery)."""
    from datetime import timedelta

    from django.core.management import call_command
    from django.utils import timezone

    from incidents.metrics import incident_metrics

    call_command("seed_demo")
    now = timezone.now()
    totals = incident_metrics(start=now - timedelta(days=90), end=now, cache=False).totals
    assert totals.mttd.count == 7
    assert timedelta(minutes=5) <= totals.mttd.median <= timedelta(hours=6)
    assert totals.mtta.count > 0 and totals.mttr.count > 0


def test_each_clock_shows_its_own_zone(client, make_user):
    client.force_login(make_user(time_zone="Asia/Shanghai"))
    html = client.get("/").content.decode()
    offsets = dict(re.findall(r'data-zone="([^"]+)">.*?UTC([+-]\d{4})</td>', html))
    assert offsets["UTC"] == "+0000"
    assert offsets["Asia/Shanghai"] == "+0800"
    assert offsets["America/Los_Angeles"] in {"-0800", "-0700"}
    assert offsets["Europe/Dublin"] in {"+0000", "+0100"}
