"""The paging engine's guarantees (ARCHITECTURE.md, "Timers and pages:
durable first, fast second") proven against a real Celery worker and a real
beat (subprocesses), the real test database and a real Redis, no mocks:

1. a worker killed inside the provider call: the page is still delivered,
   and recorded once, after the delivery's lease;
2. a worker killed before the next level is due: it is paged within one
   sweep of the worker coming back;
3. Redis restarted empty (queued tasks lost): pages declared just before and
   during the outage are delivered once it is back;
4. concurrent sweeps and replayed fire tasks for one timer: one delivery;
5. an acknowledged escalation never escalates; resolving cancels its timers
   and pending deliveries.

The in-process versions (one process, services called directly) are in
test_engine.py and test_delivery_sink.py; these add what only separate
processes can show: SIGKILL, a broker that loses its data, real concurrency.
"""

from __future__ import annotations

import signal
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from escalations import services
from escalations.models import (
    ContactMethod,
    Delivery,
    DeliveryAttempt,
    Escalation,
    EscalationPolicy,
    LevelTarget,
    NotificationRule,
    Page,
    PolicyLevel,
    RoutingRule,
    Timer,
)
from escalations.tasks import fire_timer_task, sweep_escalations
from incidents.models import TimelineEvent
from incidents.services import incident_transition
from tests.escalations.conftest import LEASE_SECONDS, SWEEP_INTERVAL, wait_for
from tests.incidents.factories import declare
from tscc.roles import Role

pytestmark = pytest.mark.django_db(transaction=True)

# A due step fires no later than SWEEP_INTERVAL + this after the worker is
# back: beat publishes a sweep every SWEEP_INTERVAL (those published while no
# worker ran expire unrun), then the queue hop and the sweep's own work, the
# granularity of "back" (a ping every 0.25 s) and slack for a loaded CI box.
TIMER_TOLERANCE = 1.5


@pytest.fixture
def cast(make_user):
    """An ops manager who declares; `first` paged at level 1, `second` at
    level 2 (5 minutes later), by the policy every incident routes to."""
    manager = make_user(Role.OPS_MANAGER, username="mgr")
    first = make_user(Role.RESPONDER, username="first")
    second = make_user(Role.RESPONDER, username="second")
    policy = EscalationPolicy.objects.create(name="Guarantees", repeat=0)
    for position, user in enumerate((first, second)):
        level = PolicyLevel.objects.create(policy=policy, position=position, wait_minutes=5)
        LevelTarget.objects.create(level=level, kind="user", user=user)
    RoutingRule.objects.create(policy=policy, position=0)
    return manager, first, second


def subscribe(user, sink, delays=(0,)) -> str:
    """Page `user` by webhook to the sink, at each of `delays` (minutes)."""
    path = f"/hook/{user.username}"
    ContactMethod.objects.create(user=user, channel="webhook", address=sink.url(path))
    for delay in delays:
        for urgency in ("high", "low"):
            NotificationRule.objects.create(
                user=user, channel="webhook", delay_minutes=delay, urgency=urgency
            )
    return path


def escalation_of(incident) -> Escalation:
    return Escalation.objects.get(incident=incident)


def test_a_worker_killed_inside_the_provider_call_still_delivers_the_page_once(
    cast, make_sink, celery_stack
):
    manager, first, _second = cast
    sink = make_sink(hold_first=True)
    path = subscribe(first, sink)
    stack = celery_stack()
    stack.start_beat()
    doomed = stack.start_worker()
    stack.wait_ready(doomed)

    escalation = escalation_of(declare(manager))
    assert sink.first_arrived.wait(20), stack.logs()
    delivery = Delivery.objects.get(page__escalation=escalation)
    # The worker is inside the provider call: claimed (leased for the
    # subprocesses' ESCALATION_DELIVERY_LEASE_SECONDS), nothing recorded yet.
    assert (delivery.state, delivery.attempts) == ("pending", 1)
    assert not DeliveryAttempt.objects.filter(delivery=delivery).exists()
    lease = (delivery.due_at - sink.requests[0]["at"]).total_seconds()
    assert LEASE_SECONDS - 1 < lease <= LEASE_SECONDS, lease

    stack.kill(doomed)
    fresh = stack.start_worker()
    stack.wait_ready(fresh)
    wait_for(
        lambda: Delivery.objects.get(id=delivery.id).state == "sent",
        timeout=30,
        what="the page to be delivered by the fresh worker",
        logs=stack.logs,
    )
    stack.wait_sweeps(fresh, 2)  # and nothing more goes out after it

    delivery.refresh_from_db()
    assert len(sink.requests) == 2, sink.requests
    hung, redelivered = sink.to(path)  # the held one, then the same sent again
    # The same idempotency key both times, so the receiver can drop the repeat.
    assert hung["headers"]["idempotency-key"] == delivery.idempotency_key
    assert redelivered["headers"]["idempotency-key"] == delivery.idempotency_key
    assert redelivered["json"]["idempotency_key"] == delivery.idempotency_key
    # Sent again only once the lease of the dead worker's claim ran out.
    assert (redelivered["at"] - hung["at"]).total_seconds() >= LEASE_SECONDS - 0.5
    # Recorded once: one page, one delivery, one successful attempt.
    assert delivery.attempts == 2
    assert list(
        DeliveryAttempt.objects.filter(delivery__page__escalation=escalation).values_list(
            "ok", flat=True
        )
    ) == [True]
    assert Page.objects.filter(escalation=escalation).count() == 1
    assert Delivery.objects.filter(page__escalation=escalation).count() == 1
    assert Page.objects.get(escalation=escalation).state == "notified"


def test_the_next_level_is_paged_within_a_sweep_of_the_worker_coming_back(
    cast, make_sink, celery_stack
):
    manager, first, second = cast
    sink = make_sink()
    first_path, second_path = subscribe(first, sink), subscribe(second, sink)
    stack = celery_stack()
    stack.start_beat()
    doomed = stack.start_worker()
    stack.wait_ready(doomed)

    escalation = escalation_of(declare(manager))
    wait_for(
        lambda: Delivery.objects.filter(page__escalation=escalation, state="sent").exists(),
        timeout=20,
        what="level 1 paged",
        logs=stack.logs,
    )
    step = Timer.objects.get(escalation=escalation, step=1)
    assert step.state == "pending"

    # The worker dies before level 2 is due (a few seconds ahead, not 5 min)
    # and stays dead until well after.
    stack.kill(doomed)
    due = timezone.now() + timedelta(seconds=1.5)
    Timer.objects.filter(id=step.id).update(due_at=due)
    while timezone.now() < due + timedelta(seconds=2):
        time.sleep(0.1)
    step.refresh_from_db()
    assert step.state == "pending"  # beat alone fires nothing

    respawned = timezone.now()
    fresh = stack.start_worker()
    back = stack.wait_ready(fresh)
    wait_for(
        lambda: Timer.objects.get(id=step.id).state == "fired",
        timeout=20,
        what="level 2 to fire",
        logs=stack.logs,
    )
    step.refresh_from_db()
    # Fired by the fresh worker, late only by the outage plus at most one
    # sweep period (and the hop) after the worker is back.
    assert step.fired_at >= max(due, respawned)
    after_back = (step.fired_at - back).total_seconds()
    assert after_back <= SWEEP_INTERVAL + TIMER_TOLERANCE, after_back

    wait_for(lambda: sink.to(second_path), timeout=20, what="level 2 delivered", logs=stack.logs)

    # The receiver sees the request before the worker records its answer.
    def page_states():
        rows = Page.objects.filter(escalation=escalation).values_list("user__username", "state")
        return dict(rows)

    wait_for(
        lambda: page_states().get("second") == "notified",
        timeout=20,
        what="level 2 recorded as notified",
        logs=stack.logs,
    )
    assert page_states() == {"first": "escalated", "second": "notified"}
    assert Page.objects.get(escalation=escalation, user=second).step == 1
    assert len(sink.to(first_path)) == 1 and len(sink.to(second_path)) == 1


def test_pages_declared_around_a_redis_restart_are_delivered_once_it_is_back(
    private_redis, cast, make_sink, celery_stack
):
    manager, first, _second = cast
    sink = make_sink()
    path = subscribe(first, sink)
    stack = celery_stack(redis_url=private_redis.url)
    beat = stack.start_beat()
    worker = stack.start_worker()
    stack.wait_ready(worker)

    # Freeze the worker so that what is queued from now on stays queued. Once
    # beat's sweeps pile up in the queue, no fetch of the worker is pending.
    stack.signal(worker, signal.SIGSTOP)
    wait_for(lambda: len(stack.queued()) >= 2, timeout=10, what="sweeps left in the queue")

    before = declare(manager)  # just before the restart: its hint is queued...
    hint = (
        "escalations.tasks.fire_timer_task",
        [escalation_of(before).timers.get(step=0).id],
    )
    assert hint in stack.queued()
    private_redis.crash()  # ...and lost with everything else in Redis

    started = time.monotonic()
    during = declare(manager)  # Redis down: the hint fails, the declaration stands
    declare_seconds = time.monotonic() - started
    assert declare_seconds < 10  # the failed publish gives up quickly
    assert escalation_of(during).state == "active"
    # Its first step fired in the declaring transaction: the page is a row,
    # its delivery waits for a task that never got queued.
    assert Delivery.objects.get(page__escalation=escalation_of(during)).state == "pending"

    private_redis.start()
    assert hint not in stack.queued()  # it came back empty
    stack.signal(worker, signal.SIGCONT)

    def delivered():
        sent = Delivery.objects.filter(
            page__escalation__incident__in=[before, during], state="sent"
        )
        return sent.count() == 2

    wait_for(delivered, timeout=45, what="both pages delivered after the restart", logs=stack.logs)
    stack.wait_sweeps(worker, 2)

    # The same worker and beat reconnected by themselves.
    assert worker.popen.poll() is None and beat.popen.poll() is None
    urls = sorted(r["json"]["url"].rstrip("/").rsplit("/", 1)[-1] for r in sink.to(path))
    assert urls == sorted([str(before.id), str(during.id)])  # once each
    assert len(sink.requests) == 2
    for incident in (before, during):
        escalation = escalation_of(incident)
        assert Page.objects.filter(escalation=escalation).count() == 1
        assert Delivery.objects.get(page__escalation=escalation).state == "sent"
        attempts = DeliveryAttempt.objects.filter(delivery__page__escalation=escalation)
        assert list(attempts.values_list("ok", flat=True)) == [True]


def test_concurrent_sweeps_and_replayed_fire_tasks_deliver_once(cast, make_sink, celery_stack):
    manager, first, _second = cast
    sink = make_sink()
    path = subscribe(first, sink)
    stack = celery_stack()

    # No worker yet. Two pages to race for, their hints' grace over (as when
    # a hinted task is lost), so the sweeps go for them too:
    # - a step due to fire (its timer pending);
    # - a step fired by a worker that died before sending (its delivery due).
    # (A declaration fires its first step in its own transaction, so the
    # pending one is started by hand, as a switch of policy would.)
    unsent = escalation_of(declare(manager))
    assert unsent.timers.get(step=0).state == "fired"
    policy = RoutingRule.objects.get().policy
    RoutingRule.objects.all().delete()
    started = services.escalation_start(incident_id=declare(manager).id, policy=policy)
    timer = started.timers.get()
    assert timer.state == "pending"
    Timer.objects.filter(id=timer.id).update(hinted_until=None)
    Delivery.objects.filter(page__escalation=unsent).update(hinted_until=None)
    # Queued behind the two declarations' hints: two sweeps, three replays of
    # the first one's fire task, one more sweep.
    sweeps = [sweep_escalations.apply_async(queue="critical") for _ in range(2)]
    replays = [fire_timer_task.apply_async((timer.id,), queue="critical") for _ in range(3)]
    sweeps.append(sweep_escalations.apply_async(queue="critical"))
    fire, sweep = "escalations.tasks.fire_timer_task", "escalations.tasks.sweep_escalations"
    assert [task for task, _args in stack.queued()] == [
        fire,
        fire,
        sweep,
        sweep,
        fire,
        fire,
        fire,
        sweep,
    ]

    # Four worker processes take the first four at once; beat sweeps on top.
    worker = stack.start_worker(concurrency=4)
    stack.start_beat()
    stack.wait_ready(worker)
    tracked = replays + sweeps
    results = wait_for(
        lambda: all(stack.result(t.id) for t in tracked) and [stack.result(t.id) for t in tracked],
        timeout=30,
        what="the replays and sweeps to finish",
        logs=stack.logs,
    )
    assert {r["status"] for r in results} == {"SUCCESS"}, results
    # They did run at the same time: several were taken before any finished.
    log = worker.log.read_text().splitlines()
    first_done = next(i for i, line in enumerate(log) if " succeeded in " in line)
    assert sum(" received" in line for line in log[:first_done]) >= 3, "\n".join(log)

    escalations = [timer.escalation, unsent]
    wait_for(
        lambda: (
            Delivery.objects.filter(page__escalation__in=escalations, state="sent").count() == 2
        ),
        timeout=20,
        what="both pages delivered",
        logs=stack.logs,
    )
    late = fire_timer_task.apply_async((timer.id,), queue="critical")  # replayed once more
    assert (
        wait_for(lambda: stack.result(late.id), timeout=20, what="the late replay")["result"]
        is False
    )
    stack.wait_sweeps(worker, 2)

    # At most one of the tracked tasks fired the timer (or its hint did).
    fired = [r["result"] for r in results[: len(replays)]]
    fired += [r["result"][0] for r in results[len(replays) :]]
    assert sum(fired) <= 1, results
    timer.refresh_from_db()
    assert timer.state == "fired"
    for escalation in escalations:
        assert escalation.pages.count() == 1
        assert escalation.timers.filter(step=1).count() == 1
        paged = TimelineEvent.objects.filter(
            incident=escalation.incident, kind="page", data__action="paged"
        )
        assert paged.count() == 1
        deliveries = Delivery.objects.filter(page__escalation=escalation)
        assert list(deliveries.values_list("state", flat=True)) == ["sent"]
        assert DeliveryAttempt.objects.filter(delivery__in=deliveries).count() == 1
    # One webhook per page, each for its own incident.
    urls = sorted(r["json"]["url"].rstrip("/").rsplit("/", 1)[-1] for r in sink.to(path))
    assert urls == sorted(str(e.incident_id) for e in escalations)
    assert len(sink.requests) == 2


def test_acknowledged_never_escalates_and_resolved_cancels_on_a_real_worker(
    cast, make_sink, celery_stack
):
    manager, first, second = cast
    sink = make_sink()
    # A second webhook a minute after the first: still pending when it ends.
    first_path = subscribe(first, sink, delays=(0, 1))
    second_path = subscribe(second, sink)
    stack = celery_stack()
    stack.start_beat()
    worker = stack.start_worker()
    stack.wait_ready(worker)

    acked, resolved = declare(manager), declare(manager)
    escalations = [escalation_of(acked), escalation_of(resolved)]
    wait_for(
        lambda: (
            Delivery.objects.filter(page__escalation__in=escalations, state="sent").count() == 2
        ),
        timeout=20,
        what="both level-1 pages delivered",
        logs=stack.logs,
    )
    # Level 2 and the later webhook are made due in two seconds...
    soon = timezone.now() + timedelta(seconds=2)
    later = Delivery.objects.filter(page__escalation__in=escalations, state="pending")
    assert later.count() == 2
    later.update(due_at=soon)
    Timer.objects.filter(escalation__in=escalations, step=1, state="pending").update(due_at=soon)
    # ...but one escalation is acknowledged and the other incident resolved first.
    services.page_acknowledge(actor=first, page_id=Page.objects.get(escalation=escalations[0]).id)
    incident_transition(actor=manager, incident_id=resolved.id, target="resolved")
    assert timezone.now() < soon, "too slow to act before the step was due: inconclusive"

    while timezone.now() < soon:
        time.sleep(0.1)
    stack.wait_sweeps(worker, 3)  # sweeps that would have fired them have run

    for escalation, state in zip(escalations, ("acknowledged", "resolved"), strict=True):
        escalation.refresh_from_db()
        assert escalation.state == state
        assert escalation.timers.get(step=1).state == "cancelled"
        assert list(escalation.pages.values_list("user__username", "state")) == [("first", state)]
        deliveries = Delivery.objects.filter(page__escalation=escalation)
        assert sorted(deliveries.values_list("state", flat=True)) == ["cancelled", "sent"]
    assert sink.to(second_path) == []
    assert len(sink.to(first_path)) == 2
