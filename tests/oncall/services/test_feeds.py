"""Calendar feeds: a secret shown once, stored as a hash, revocable."""

import hashlib
from datetime import timedelta

import pytest
from django.utils import timezone

from oncall.models import CalendarFeed
from oncall.services import NotAllowed, feed_create, feed_lookup, feed_revoke

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("for_schedule", [True, False])
def test_a_feed_token_is_shown_once_and_only_its_hash_is_kept(cast, make_schedule, for_schedule):
    schedule = make_schedule() if for_schedule else None

    feed, token = feed_create(actor=cast.ana, schedule=schedule)

    stored = CalendarFeed.objects.get(id=feed.id)
    assert token.startswith("cal_") and len(token) >= 30
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert stored.prefix == token[:10]
    assert (stored.owner_id, stored.schedule_id) == (cast.ana.id, schedule and schedule.id)
    row = CalendarFeed.objects.filter(id=feed.id).values().get()
    assert not any(token in str(value) for value in row.values())


def test_each_feed_gets_its_own_token(cast):
    tokens = {feed_create(actor=cast.ana)[1] for _ in range(5)}

    assert len(tokens) == 5


def test_lookup_finds_the_feed_and_notes_its_use(cast, make_schedule):
    feed, token = feed_create(actor=cast.ana, schedule=make_schedule())

    found = feed_lookup(token)

    assert found.id == feed.id
    assert found.schedule.name == "T&S Ops CN"
    assert CalendarFeed.objects.get(id=feed.id).last_used_at is not None


@pytest.mark.parametrize(("last_used", "touched"), [(1, False), (10, True)])
def test_lookup_notes_use_at_most_every_five_minutes(cast, last_used, touched):
    feed, token = feed_create(actor=cast.ana)
    earlier = timezone.now() - timedelta(minutes=last_used)
    CalendarFeed.objects.filter(id=feed.id).update(last_used_at=earlier)

    feed_lookup(token)

    assert (CalendarFeed.objects.get(id=feed.id).last_used_at != earlier) is touched


@pytest.mark.parametrize(
    "token", ["", "cal_", "cal_not-a-token-at-all-000000000000", "' OR 1=1 --"]
)
def test_unknown_tokens_find_nothing(cast, token):
    feed_create(actor=cast.ana)

    assert feed_lookup(token) is None


def test_a_revoked_feed_finds_nothing(cast):
    feed, token = feed_create(actor=cast.ana)

    feed_revoke(actor=cast.ana, feed_id=feed.id)

    assert feed_lookup(token) is None
    assert CalendarFeed.objects.get(id=feed.id).revoked_at is not None


def test_a_feed_of_an_inactive_owner_finds_nothing(cast):
    feed, token = feed_create(actor=cast.ana)
    cast.ana.is_active = False
    cast.ana.save(update_fields=["is_active"])

    assert feed_lookup(token) is None


@pytest.mark.parametrize(
    ("who", "allowed"),
    [
        ("ana", True),  # the owner
        ("manager", True),
        ("admin", True),
        ("ben", False),  # a teammate
        ("outsider", False),
        ("executive", False),
        ("bpo_lead", False),
    ],
)
def test_only_the_owner_or_a_manager_revokes(cast, make_schedule, who, allowed):
    feed, token = feed_create(actor=cast.ana, schedule=make_schedule())

    if allowed:
        feed_revoke(actor=getattr(cast, who), feed_id=feed.id)
    else:
        with pytest.raises(NotAllowed):
            feed_revoke(actor=getattr(cast, who), feed_id=feed.id)

    assert (feed_lookup(token) is None) is allowed


def test_revoking_twice_keeps_the_first_time(cast):
    feed, _token = feed_create(actor=cast.ana)
    feed_revoke(actor=cast.ana, feed_id=feed.id)
    first = CalendarFeed.objects.get(id=feed.id).revoked_at

    feed_revoke(actor=cast.manager, feed_id=feed.id)

    assert CalendarFeed.objects.get(id=feed.id).revoked_at == first


@pytest.mark.parametrize("who", ["executive", "bpo_lead"])
def test_people_who_cannot_see_a_schedule_get_no_feed_of_it(cast, make_schedule, who):
    schedule = make_schedule()

    with pytest.raises(NotAllowed):
        feed_create(actor=getattr(cast, who), schedule=schedule)

    assert not CalendarFeed.objects.exists()


@pytest.mark.parametrize("who", ["executive", "bpo_lead"])
def test_people_outside_operations_get_no_personal_feed(cast, who):
    with pytest.raises(NotAllowed):
        feed_create(actor=getattr(cast, who))

    assert not CalendarFeed.objects.exists()


def test_a_feed_of_an_owner_moved_out_of_operations_finds_nothing(cast, make_schedule):
    _feed, token = feed_create(actor=cast.ana, schedule=make_schedule())
    cast.ana.role = "executive"
    cast.ana.save(update_fields=["role"])

    assert feed_lookup(token) is None
