"""On-call pages through the real stack: who is on call, the timeline in the
viewer's zone, htmx forms with errors in place, permissions, query counts."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from oncall import services
from oncall.models import Layer, Override, Schedule
from tscc.models import Team
from tscc.roles import Role

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}
SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def team():
    return Team.objects.create(name="T&S Ops CN", slug="ts-ops-cn", time_zone="Asia/Shanghai")


@pytest.fixture
def people(make_user, team):
    manager = make_user(Role.OPS_MANAGER, username="wang", display_name="Wang Min")
    li = make_user(Role.RESPONDER, username="li", display_name="Li Lei")
    aoife = make_user(Role.RESPONDER, username="aoife", display_name="Aoife Byrne")
    li.teams.add(team)
    return manager, li, aoife


def make_schedule(manager, team, users, name="CN primary"):
    schedule = services.schedule_save(
        actor=manager, name=name, time_zone="Asia/Shanghai", team=team
    )
    anchor = timezone.localtime(timezone.now(), SH).replace(
        hour=9, minute=0, second=0, microsecond=0
    ) - timedelta(days=7)
    services.layer_create(
        actor=manager,
        schedule=schedule,
        name="Daily",
        users=users,
        unit="days",
        count=1,
        anchor=anchor,
    )
    return schedule


def test_the_list_shows_who_is_on_call_now_with_constant_queries(
    client, people, team, django_assert_max_num_queries
):
    manager, li, aoife = people
    client.force_login(manager)
    make_schedule(manager, team, [li, aoife])
    with django_assert_max_num_queries(50) as few:
        page = client.get(reverse("oncall:schedules")).content.decode()
    assert "CN primary" in page and ("Li Lei" in page or "Aoife Byrne" in page)
    for i in range(10):
        make_schedule(manager, team, [li, aoife], name=f"S{i}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(reverse("oncall:schedules")).status_code == 200


def test_the_schedule_page_shows_the_timeline_in_the_viewers_zone(client, people, team, make_user):
    manager, li, aoife = people
    schedule = make_schedule(manager, team, [li, aoife])
    viewer = make_user(Role.RESPONDER, username="la", time_zone="America/Los_Angeles")
    client.force_login(viewer)
    page = client.get(reverse("oncall:detail", args=[schedule.id])).content.decode()
    assert page.count('class="tl-row') == 2  # one layer + final
    today = timezone.localtime(timezone.now(), ZoneInfo("America/Los_Angeles")).strftime("%m-%d")
    assert f'class="tl-day" style="left:0.0%">{today}</span>' in page
    assert "09:00" in page and "Asia/Shanghai" in page  # the handoff in the layer's own zone


def test_adding_a_layer_with_htmx_and_errors_in_place(client, people, team):
    manager, li, aoife = people
    schedule = make_schedule(manager, team, [li])
    client.force_login(manager)
    url = reverse("oncall:layers", args=[schedule.id])
    bad = client.post(
        url,
        {
            "name": "Nights",
            "participants": "li\nnobody",
            "unit": "days",
            "count": 1,
            "handoff": "2026-03-02T21:00",
            "priority": 5,
        },
        **HTMX,
    )
    assert bad.status_code == 422 and "Not a responder: nobody" in bad.content.decode()
    assert 'id="schedule-body"' in bad.content.decode() and "<html" not in bad.content.decode()
    ok = client.post(
        url,
        {
            "name": "Nights",
            "participants": "aoife\nli",
            "unit": "days",
            "count": 1,
            "handoff": "2026-03-02T21:00",
            "priority": 5,
            "restrict_days": [1, 2, 3, 4, 5, 6, 7],
            "restrict_start": "21:00",
            "restrict_end": "09:00",
        },
        **HTMX,
    )
    assert ok.status_code == 200
    layer = Layer.objects.get(name="Nights")
    assert [m.user.username for m in layer.members.order_by("position")] == ["aoife", "li"]
    assert layer.anchor == datetime(
        2026, 3, 2, 21, tzinfo=SH
    )  # typed as wall time in the schedule's zone
    assert layer.restrictions == [{"days": [1, 2, 3, 4, 5, 6, 7], "start": "21:00", "end": "09:00"}]


def test_an_override_form_without_javascript(client, people, team):
    manager, li, aoife = people
    schedule = make_schedule(manager, team, [li])
    client.force_login(li)  # a team member may cover
    response = client.post(
        reverse("oncall:overrides", args=[schedule.id]),
        {
            "user": aoife.id,
            "starts_at": "2026-12-01T09:00",
            "ends_at": "2026-12-01T18:00",
            "replaces": li.id,
        },
    )
    assert response.status_code == 303
    override = Override.objects.get()
    assert (override.user, override.replaces) == (aoife, li)
    backwards = client.post(
        reverse("oncall:overrides", args=[schedule.id]),
        {"user": aoife.id, "starts_at": "2026-12-02T09:00", "ends_at": "2026-12-01T18:00"},
        **HTMX,
    )
    assert (
        backwards.status_code == 422
        and "The end must be after the start." in backwards.content.decode()
    )


def test_outsiders_cannot_change_a_schedule(client, people, team):
    manager, li, aoife = people
    schedule = make_schedule(manager, team, [li])
    client.force_login(aoife)  # not in the team
    page = client.get(reverse("oncall:detail", args=[schedule.id])).content.decode()
    assert "Add a layer" not in page
    response = client.post(
        reverse("oncall:overrides", args=[schedule.id]),
        {"user": aoife.id, "starts_at": "2026-12-01T09:00", "ends_at": "2026-12-01T18:00"},
        **HTMX,
    )
    assert response.status_code == 403 and not Override.objects.exists()


@pytest.mark.parametrize(("role", "status"), [(Role.EXECUTIVE, 403), (Role.BPO_LEAD, 403)])
def test_on_call_pages_are_for_operations(client, make_user, people, team, role, status):
    schedule = make_schedule(people[0], team, [people[1]])
    client.force_login(make_user(role))
    assert client.get(reverse("oncall:schedules")).status_code == status
    assert client.get(reverse("oncall:detail", args=[schedule.id])).status_code == 404


def test_my_on_call_lists_my_shifts_across_schedules(client, people, team):
    manager, li, aoife = people
    make_schedule(manager, team, [li], name="A")
    make_schedule(manager, team, [aoife, li], name="B")
    client.force_login(li)
    page = client.get(reverse("oncall:me")).content.decode()
    assert page.count('href="/oncall/') >= 2 and ">A</a>" in page and ">B</a>" in page


def test_a_calendar_address_is_shown_once(client, people, team):
    manager, li, _aoife = people
    schedule = make_schedule(manager, team, [li])
    client.force_login(li)
    page = client.post(reverse("oncall:feed", args=[schedule.id]), **HTMX).content.decode()
    assert "/oncall/ical/cal_" in page
    again = client.get(reverse("oncall:detail", args=[schedule.id])).content.decode()
    assert "/oncall/ical/cal_" not in again  # only the prefix is kept
    assert Schedule.objects.get().feeds.count() == 1


def test_create_a_schedule_and_a_bad_zone_is_refused(client, people, team):
    manager, _li, _aoife = people
    client.force_login(manager)
    bad = client.post(
        reverse("oncall:create"), {"name": "Nights", "time_zone": "Mars/Olympus"}, **HTMX
    )
    assert (
        bad.status_code == 422 and "Mars/Olympus is not a known time zone." in bad.content.decode()
    )
    ok = client.post(
        reverse("oncall:create"), {"name": "Nights", "time_zone": "Europe/Dublin", "team": team.id}
    )
    schedule = Schedule.objects.get(name="Nights")
    assert ok.status_code == 303 and ok["Location"] == reverse("oncall:detail", args=[schedule.id])


def test_editing_a_started_layer_applies_from_the_next_handoff(client, people, team):
    manager, li, aoife = people
    schedule = make_schedule(manager, team, [li, aoife])
    layer = schedule.layers.get()
    before = client_now = timezone.now()
    client.force_login(manager)
    prefix = f"layer{layer.id}-"
    handoff = layer.anchor.astimezone(SH).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        reverse("oncall:layer-edit", args=[layer.id]),
        {
            prefix + "name": "Daily",
            prefix + "participants": "li\naoife\nwang",
            prefix + "unit": "days",
            prefix + "count": 1,
            prefix + "handoff": handoff,
            prefix + "priority": 0,
        },
        **HTMX,
    )
    assert response.status_code == 200
    old, new = Layer.objects.order_by("id")
    assert old.active_until is not None and old.active_until > before
    assert new.active_from == old.active_until and new.previous_id == old.id
    assert {m.user.username for m in new.members.all()} == {"li", "aoife", "wang"}
    from oncall.selectors import oncall_now

    now_row = oncall_now(schedules=Schedule.objects.all(), at=client_now)[0]
    assert now_row.now.end >= old.active_until  # whoever is on now stays on until the handoff


def test_a_refused_end_or_remove_shows_why_on_the_page(client, people, team):
    manager, li, aoife = people
    schedule = make_schedule(manager, team, [li])
    start = timezone.now() + timedelta(days=1)
    override = services.override_create(
        actor=manager,
        schedule=schedule,
        user=li,
        starts_at=start,
        ends_at=start + timedelta(hours=2),
    )
    client.force_login(aoife)  # not in the team
    layer = schedule.layers.get()
    ended = client.post(reverse("oncall:layer-end", args=[layer.id]), **HTMX)
    assert (
        ended.status_code == 403 and "You may not change this schedule." in ended.content.decode()
    )
    assert 'id="schedule-body"' in ended.content.decode()
    removed = client.post(reverse("oncall:override-delete", args=[override.id]), **HTMX)
    assert removed.status_code == 403 and Override.objects.filter(id=override.id).exists()
    layer.refresh_from_db()
    assert layer.active_until is None
