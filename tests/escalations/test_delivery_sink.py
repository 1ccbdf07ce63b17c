"""Deliveries to a real HTTP server on loopback: each robot's wire format and
signature, exactly-once sending, the re-check before the provider call, and
retries with backoff falling back to the in-app channel."""

from __future__ import annotations

import json
import re
import time
from datetime import timedelta
from urllib.parse import parse_qs, unquote_plus, urlsplit

import pytest
from django.utils import timezone

from escalations import services
from escalations.domain.signing import dingtalk_sign, feishu_sign, webhook_verify
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
from tests.escalations.sink import PATHS, Sink
from tests.incidents.factories import declare
from tscc.roles import Role

pytestmark = pytest.mark.django_db

SECRETS = {
    "webhook": "wh-secret-123",
    "feishu": "fs-secret-456",
    "dingtalk": "SECdd-secret-789",
}
CHANNELS = ("webhook", "feishu", "dingtalk", "wecom", "slack")


@pytest.fixture
def sink():
    with Sink(200) as server:
        yield server


@pytest.fixture
def failing_sink():
    with Sink(500) as server:
        yield server


@pytest.fixture
def cast(make_user):
    manager = make_user(Role.OPS_MANAGER, username="mgr")
    responder = make_user(Role.RESPONDER, username="resp", display_name="Rita Responder")
    policy = EscalationPolicy.objects.create(name="Sink policy")
    level = PolicyLevel.objects.create(policy=policy, position=0, wait_minutes=60)
    LevelTarget.objects.create(level=level, kind="user", user=responder)
    RoutingRule.objects.create(policy=policy, position=0)
    return manager, responder


def subscribe(user, base: str, channels=CHANNELS) -> None:
    for channel in channels:
        ContactMethod.objects.create(
            user=user,
            channel=channel,
            address=base + PATHS[channel],
            secret=SECRETS.get(channel, ""),
        )
        for urgency in ("high", "low"):
            NotificationRule.objects.create(
                user=user, channel=channel, delay_minutes=0, urgency=urgency
            )


def page_someone(manager) -> Escalation:
    incident = declare(manager)
    escalation = services.escalation_start(incident_id=incident.id)
    assert escalation is not None
    timer = Timer.objects.get(escalation=escalation, step=0)
    assert services.timer_fire(timer_id=timer.id) is True
    return escalation


def acks_page(text: str, page: Page) -> bool:
    """Whether `text` carries a valid one-tap link for `page` (each message
    is signed when it is sent, so two messages' links may differ in time)."""
    tokens = re.findall(r"/escalations/ack/([^/\s]+)/", text)
    return any((found := services.page_from_token(t)) and found.id == page.id for t in tokens)


def later(seconds: float = 1):
    """A moment past the fast path's grace: the sweep's view once a hint was lost."""
    return timezone.now() + services.HINT_GRACE + timedelta(seconds=seconds)


def test_every_channel_gets_its_wire_format_once(cast, sink):
    manager, responder = cast
    subscribe(responder, sink.base)
    escalation = page_someone(manager)
    deliveries = Delivery.objects.filter(page__escalation=escalation)
    assert sorted(deliveries.values_list("channel", flat=True)) == sorted(CHANNELS)

    _fired, sent = services.sweep(now=later())
    assert sent == len(CHANNELS)
    assert len(sink.requests) == len(CHANNELS)
    for channel in CHANNELS:
        assert len(sink.to(PATHS[channel])) == 1, channel
    assert all(r["method"] == "POST" for r in sink.requests)
    assert set(deliveries.values_list("state", flat=True)) == {"sent"}
    page = Page.objects.get(escalation=escalation)
    assert page.state == "notified"

    # Generic webhook: JSON fields and a verifiable HMAC signature.
    [hook] = sink.to(PATHS["webhook"])
    payload = json.loads(hook["body"])
    assert set(payload) == {"title", "text", "url", "ack_url", "idempotency_key"}
    assert payload["idempotency_key"] == hook["headers"]["idempotency-key"]
    assert acks_page(payload["ack_url"], page)
    header = hook["headers"]["x-tscc-signature"]
    now_s = int(time.time())
    assert webhook_verify(SECRETS["webhook"], hook["body"], header, now_s=now_s)
    assert not webhook_verify("wrong", hook["body"], header, now_s=now_s)
    assert not webhook_verify(SECRETS["webhook"], hook["body"] + b" ", header, now_s=now_s)

    # Feishu: text message with timestamp and sign in the body.
    [feishu] = sink.to(PATHS["feishu"])
    body = json.loads(feishu["body"])
    assert body["msg_type"] == "text" and acks_page(body["content"]["text"], page)
    assert body["sign"] == feishu_sign(SECRETS["feishu"], int(body["timestamp"]))
    assert abs(int(body["timestamp"]) - now_s) < 60

    # DingTalk: timestamp (ms) and url-encoded sign as query parameters.
    [ding] = sink.to(PATHS["dingtalk"])
    query = parse_qs(urlsplit(ding["path"]).query)
    assert query["access_token"] == ["tok"]
    ts = int(query["timestamp"][0])
    assert abs(ts / 1000 - now_s) < 60
    assert query["sign"] == [unquote_plus(dingtalk_sign(SECRETS["dingtalk"], ts))]
    body = json.loads(ding["body"])
    assert body["msgtype"] == "text" and acks_page(body["text"]["content"], page)

    # WeCom and Slack: plain text carrying the title and the one-tap link.
    [wecom] = sink.to(PATHS["wecom"])
    body = json.loads(wecom["body"])
    assert body["msgtype"] == "text"
    assert payload["title"] in body["text"]["content"]
    assert acks_page(body["text"]["content"], page)
    [slack] = sink.to(PATHS["slack"])
    text = json.loads(slack["body"])["text"]
    assert payload["title"] in text and acks_page(text, page)

    # No secret ever travels in a message.
    for request in sink.requests:
        for secret in SECRETS.values():
            assert secret.encode() not in request["body"]
            assert secret not in request["path"]

    # A second sweep (and a replayed send) delivers nothing more.
    assert services.sweep(now=later(2)) == (0, 0)
    for delivery in deliveries:
        assert services.delivery_send(delivery_id=delivery.id, now=later(2)) is False
    assert len(sink.requests) == len(CHANNELS)


def test_an_acknowledged_page_sends_nothing(cast, sink):
    manager, responder = cast
    subscribe(responder, sink.base)
    escalation = page_someone(manager)
    page = Page.objects.get(escalation=escalation)
    services.page_acknowledge(actor=responder, page_id=page.id)
    assert services.sweep(now=later()) == (0, 0)
    assert sink.requests == []
    assert set(
        Delivery.objects.filter(page__escalation=escalation).values_list("state", flat=True)
    ) == {"cancelled"}


def test_the_send_rechecks_the_page_just_before_the_provider_call(cast, sink):
    """The race: a sweep listed the due deliveries, then the page was
    acknowledged before the claim; the claim re-checks and cancels."""
    manager, responder = cast
    subscribe(responder, sink.base)
    escalation = page_someone(manager)
    due = list(
        Delivery.objects.filter(page__escalation=escalation, state="pending").values_list(
            "id", flat=True
        )
    )
    assert len(due) == len(CHANNELS)
    # Acknowledged between listing and sending, deliveries still pending.
    Page.objects.filter(escalation=escalation).update(state=Page.State.ACKNOWLEDGED)
    for delivery_id in due:
        assert services.delivery_send(delivery_id=delivery_id, now=later()) is False
    assert sink.requests == []
    assert set(Delivery.objects.filter(id__in=due).values_list("state", flat=True)) == {"cancelled"}


def test_a_failing_sink_retries_with_backoff_then_falls_back_to_the_app(cast, failing_sink):
    manager, responder = cast
    subscribe(responder, failing_sink.base, channels=("webhook",))
    escalation = page_someone(manager)
    delivery = Delivery.objects.get(page__escalation=escalation)
    assert delivery.channel == "webhook"

    at = later()
    gaps = []
    for attempt in range(1, services.MAX_ATTEMPTS + 1):
        _fired, sent = services.sweep(now=at)
        assert sent == 0
        delivery.refresh_from_db()
        assert delivery.attempts == attempt
        assert len(failing_sink.requests) == attempt
        assert DeliveryAttempt.objects.filter(delivery=delivery, ok=False).count() == attempt
        assert delivery.last_error == "HTTP 500"
        if attempt < services.MAX_ATTEMPTS:
            assert delivery.state == "pending"
            gaps.append((delivery.due_at - at).total_seconds())
            # Not retried before its backoff has passed.
            assert services.sweep(now=delivery.due_at - timedelta(seconds=1))[1] == 0
            assert len(failing_sink.requests) == attempt
            at = delivery.due_at
    assert gaps == [5, 10, 20, 40]  # growing backoff
    assert delivery.state == "failed"
    assert (
        not Delivery.objects.filter(page__escalation=escalation, channel="webhook")
        .exclude(state="failed")
        .exists()
    )

    fallback = Delivery.objects.get(page__escalation=escalation, channel="app")
    assert fallback.state == "pending"
    assert fallback.idempotency_key == f"{delivery.idempotency_key}-fallback"
    _fired, sent = services.sweep(now=later(2))
    assert sent == 1
    fallback.refresh_from_db()
    assert fallback.state == "sent"
    assert len(failing_sink.requests) == services.MAX_ATTEMPTS  # the app needs no provider
    assert services.sweep(now=later(3)) == (0, 0)
