"""Rate limits on the ways in (issue 9), at the configured numbers.

- Sign-in: django-axes locks an account+address out after
  AXES_FAILURE_LIMIT (5) failures for AXES_COOLOFF_TIME (0.25 h): 429.
- Inbound alerts: the "alerts" DRF scope, 600/min per integration: the
  601st request in a minute gets 429 with Retry-After; another integration
  keeps its own budget; a wrong token is refused (401) before it can spend one.
- The API for people: "user" 1200/min per person (tokens included).

The windows are filled through DRF's own cache keys rather than by sending
hundreds of requests; the last ones are real requests through the real
throttle and the real cache (Redis).

Elsewhere, not repeated here: war-room chat, 10 writes per 10 s per person
per incident (tests/incidents/warroom/test_consumer.py::
test_a_flood_is_rate_limited); the public iCal feed, 60 per minute per address
(tests/oncall/test_ical.py::test_rate_limit_per_address); vendor tokens
(vendors/api/auth.py: 30000/hour, bulk 60/min).
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from rest_framework.throttling import SimpleRateThrottle, UserRateThrottle

from escalations.alerts import integration_create
from escalations.api.alerts import IntegrationRateThrottle
from tests.conftest import PASSWORD
from tscc.roles import Role
from tscc.services import api_token_create

pytestmark = pytest.mark.django_db

RATES = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]


def fill_window(key: str, requests: int) -> None:
    """Record `requests` requests just now in a DRF throttle's window."""
    now = SimpleRateThrottle.timer()
    cache.set(key, [now] * requests, 120)


# --- sign-in ---------------------------------------------------------------


def test_the_documented_login_limits():
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.AXES_COOLOFF_TIME == 0.25  # hours
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]


def test_login_locks_out_after_the_failure_limit_with_429(make_user):
    user = make_user(Role.RESPONDER, username="rl-amy")
    client = Client()
    url = reverse("login")
    codes = [
        client.post(url, {"username": user.username, "password": "wrong"}).status_code
        for _ in range(settings.AXES_FAILURE_LIMIT)
    ]
    assert codes == [200] * (settings.AXES_FAILURE_LIMIT - 1) + [429]
    # Locked: even the right password is refused, and nobody is signed in.
    right = client.post(url, {"username": user.username, "password": PASSWORD})
    assert right.status_code == 429
    assert "_auth_user_id" not in client.session


# --- inbound alerts -----------------------------------------------------------


def alert_post(integration_id: int, token: str):
    return Client().post(
        reverse("api-integration-alerts", args=[integration_id]),
        {"dedup_key": "rl", "status": "firing", "title": "Queue backlog"},
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )


def alerts_key(integration_id: int) -> str:
    return IntegrationRateThrottle.cache_format % {"scope": "alerts", "ident": integration_id}


def test_the_documented_alert_rate():
    assert RATES["alerts"] == "600/min"
    assert IntegrationRateThrottle().parse_rate(RATES["alerts"]) == (600, 60)


def test_inbound_alerts_get_429_past_the_rate_per_integration(make_user):
    manager = make_user(Role.OPS_MANAGER)
    first, first_secret = integration_create(actor=manager, name="RL monitor 1")
    second, second_secret = integration_create(actor=manager, name="RL monitor 2")
    limit, period = IntegrationRateThrottle().parse_rate(RATES["alerts"])
    cache.delete(alerts_key(second.id))
    fill_window(alerts_key(first.id), limit - 1)

    assert alert_post(first.id, first_secret).status_code == 202  # the limit-th
    refused = alert_post(first.id, first_secret)
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= period
    # Wrong tokens are refused before the throttle (and spend nothing).
    assert alert_post(first.id, "int_" + "x" * 40).status_code == 401
    assert alert_post(second.id, first_secret).status_code == 401
    # The other integration has a budget of its own.
    assert alert_post(second.id, second_secret).status_code == 202
    assert len(cache.get(alerts_key(first.id))) == limit
    cache.delete(alerts_key(first.id))
    cache.delete(alerts_key(second.id))


# --- the API for people -------------------------------------------------------------


def test_api_tokens_get_429_past_the_user_rate(make_user):
    assert RATES["user"] == "1200/min"
    user = make_user(Role.RESPONDER)
    _token, secret = api_token_create(actor=None, user=user, name="rl")
    client = Client(headers={"Authorization": f"Bearer {secret}"})
    url = reverse("api-incident-list")
    limit, _period = UserRateThrottle().parse_rate(RATES["user"])
    key = UserRateThrottle.cache_format % {"scope": "user", "ident": user.pk}
    fill_window(key, limit - 1)
    assert client.get(url).status_code == 200
    assert client.get(url).status_code == 429
    cache.delete(key)
