"""handoffs_plan and handoffs_send_due with an explicit `now`: one notice per
shift start, 15 minutes ahead, sent once, cancelled when the shift goes."""

import asyncio
from types import SimpleNamespace

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer

from oncall.models import HandoffNotice
from oncall.services import handoffs_plan, handoffs_send_due, override_delete
from tests.oncall.services.support import SH, at, hours
from tscc.realtime import user_group

pytestmark = pytest.mark.django_db

MONDAY_9 = at(SH, 2026, 3, 2, 9)
NOON = MONDAY_9 + hours(3)  # Monday 12:00 in Shanghai: ana is on call
TUESDAY_9 = MONDAY_9 + hours(24)  # ben takes over
LEAD = hours(0.25)
PENDING, SENT, CANCELLED = (
    HandoffNotice.State.PENDING,
    HandoffNotice.State.SENT,
    HandoffNotice.State.CANCELLED,
)


@pytest.fixture
def daily(cast, make_schedule, make_layer):
    """Daily ana, ben, cai from Monday 09:00 in Shanghai."""
    schedule = make_schedule()
    make_layer(schedule, [cast.ana, cast.ben, cast.cai], MONDAY_9)
    return SimpleNamespace(schedule=schedule)


def planned(state=None) -> list[tuple]:
    qs = HandoffNotice.objects.order_by("shift_start", "user__username")
    if state is not None:
        qs = qs.filter(state=state)
    return list(qs.values_list("user__username", "shift_start", "notify_at", "state"))


@pytest.mark.parametrize(
    ("unit", "count", "expected"),
    [
        ("days", 1, [("ben", TUESDAY_9)]),
        ("hours", 12, [("ben", MONDAY_9 + hours(12)), ("cai", TUESDAY_9)]),
        (
            "hours",
            4,
            [(["ana", "ben", "cai"][k % 3], MONDAY_9 + hours(4 * k)) for k in range(1, 7)],
        ),
        ("weeks", 1, []),
    ],
)
def test_a_notice_is_planned_once_per_shift_start_in_the_next_day(
    cast, make_schedule, make_layer, unit, count, expected
):
    schedule = make_schedule()
    make_layer(schedule, [cast.ana, cast.ben, cast.cai], MONDAY_9, unit=unit, count=count)

    assert handoffs_plan(now=NOON) == len(expected)
    assert handoffs_plan(now=NOON) == 0
    assert handoffs_plan(now=NOON + hours(1)) == 0

    assert planned() == [(name, start, start - LEAD, PENDING) for name, start in expected]
    for notice in HandoffNotice.objects.all():
        assert notice.shift_end > notice.shift_start


def test_a_shift_starting_within_the_lead_is_noticed_at_once(cast, daily):
    now = TUESDAY_9 - hours(0.1)

    handoffs_plan(now=now)

    assert planned() == [("ben", TUESDAY_9, now, PENDING)]


def test_nobody_is_noticed_for_a_gap_or_for_the_shift_under_way(cast, make_schedule, make_layer):
    schedule = make_schedule()
    make_layer(
        schedule,
        [cast.ana, cast.ben],
        MONDAY_9,
        restrictions=[{"days": [1, 2, 3, 4, 5], "start": "09:00", "end": "18:00"}],
    )

    handoffs_plan(now=NOON)

    assert planned() == [("ben", TUESDAY_9, TUESDAY_9 - LEAD, PENDING)]


def test_a_due_notice_is_sent_once(cast, daily, notices, django_capture_on_commit_callbacks):
    handoffs_plan(now=NOON)

    with django_capture_on_commit_callbacks(execute=True):
        early = handoffs_send_due(now=TUESDAY_9 - LEAD - hours(1 / 60))
        due = handoffs_send_due(now=TUESDAY_9 - LEAD)
        again = handoffs_send_due(now=TUESDAY_9 - LEAD)
        later = handoffs_send_due(now=TUESDAY_9 + hours(1))

    assert (early, due, again, later) == (0, 1, 0, 0)
    assert planned(SENT) == [("ben", TUESDAY_9, TUESDAY_9 - LEAD, SENT)]
    assert HandoffNotice.objects.get().sent_at == TUESDAY_9 - LEAD
    assert notices.sent == [
        (cast.ben.id, "You are on call for T&S Ops CN from 2026-03-03 09:00 CST.", "info")
    ]


def test_planning_again_after_sending_changes_nothing(cast, daily, notices):
    handoffs_plan(now=NOON)
    handoffs_send_due(now=TUESDAY_9 - LEAD)

    assert handoffs_plan(now=TUESDAY_9 - hours(0.1)) == 0
    assert planned() == [("ben", TUESDAY_9, TUESDAY_9 - LEAD, SENT)]


def test_an_override_that_removes_a_shift_cancels_its_notice(
    cast, daily, make_override, notices, django_capture_on_commit_callbacks
):
    handoffs_plan(now=NOON)
    make_override(daily.schedule, cast.dan, TUESDAY_9, TUESDAY_9 + hours(24), replaces=cast.ben)

    assert handoffs_plan(now=NOON + hours(1)) == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert handoffs_send_due(now=TUESDAY_9) == 1

    assert planned() == [
        ("ben", TUESDAY_9, TUESDAY_9 - LEAD, CANCELLED),
        ("dan", TUESDAY_9, TUESDAY_9 - LEAD, SENT),
    ]
    assert notices.users() == [cast.dan.id]


def test_a_notice_comes_back_when_the_override_goes(cast, daily, make_override, notices):
    handoffs_plan(now=NOON)
    cover = make_override(
        daily.schedule, cast.dan, TUESDAY_9, TUESDAY_9 + hours(24), replaces=cast.ben
    )
    handoffs_plan(now=NOON + hours(1))

    override_delete(actor=cast.manager, override_id=cover.id)
    handoffs_plan(now=NOON + hours(2))

    assert planned() == [
        ("ben", TUESDAY_9, TUESDAY_9 - LEAD, PENDING),
        ("dan", TUESDAY_9, TUESDAY_9 - LEAD, CANCELLED),
    ]
    assert handoffs_send_due(now=TUESDAY_9) == 1
    assert planned(SENT)[0][0] == "ben"


def test_the_notice_reaches_the_users_websocket_group(
    cast, daily, django_capture_on_commit_callbacks
):
    handoffs_plan(now=NOON)

    def send():
        with django_capture_on_commit_callbacks(execute=True):
            handoffs_send_due(now=TUESDAY_9 - LEAD)

    async def listen():
        layer = get_channel_layer()
        channel = await layer.new_channel()
        await layer.group_add(user_group(cast.ben.id), channel)
        try:
            await sync_to_async(send)()
            return await asyncio.wait_for(layer.receive(channel), timeout=5)
        finally:
            await layer.group_discard(user_group(cast.ben.id), channel)

    assert async_to_sync(listen)() == {
        "type": "user.notice",
        "text": "You are on call for T&S Ops CN from 2026-03-03 09:00 CST.",
        "level": "info",
    }
