"""Secrets never reach the logs (issue 9).

Every path that handles a secret runs with every logger at DEBUG: a login
with a wrong and a right password, API tokens (`Bearer tscc_...`) bad and
good, vendor tokens (`Vendor vnd_...`) bad and good, an integration's
inbound-alert token (`Bearer int_...`), the one-tap acknowledge link's signed
token, and a webhook delivery signed with its contact method's secret, sent
to a sink that accepts it and to one that refuses it. No record may carry the
secret: not its message, args, traceback or extra attributes, and not the
report that AdminEmailHandler would mail for a django.request error (the
mail's text is rebuilt here from the record, as the handler builds it).
"""

from __future__ import annotations

import logging
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.views.debug import ExceptionReporter

from escalations import services as escalation_services
from escalations.alerts import integration_create
from escalations.models import Delivery, Escalation, Page
from tests.conftest import PASSWORD
from tests.escalations.sink import Sink
from tests.escalations.test_delivery_sink import cast, later, page_someone, subscribe
from tscc.roles import Role
from tscc.services import api_token_create
from vendors import services as vendor_services

pytestmark = pytest.mark.django_db

__all__ = ["cast"]  # a fixture, used by name below

# The attributes every LogRecord has; anything else came in through `extra`.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class _Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)


def _record_text(record: logging.LogRecord) -> str:
    parts = [str(record.msg), repr(record.args)]
    try:
        parts.append(record.getMessage())
    except Exception as exc:  # noqa: BLE001 - a bad format string is still a record
        parts.append(repr(exc))
    if record.exc_info:
        parts.append(logging.Formatter().formatException(record.exc_info))
    if record.stack_info:
        parts.append(record.stack_info)
    parts.extend(f"{k}={v!r}" for k, v in vars(record).items() if k not in _STANDARD)
    request = getattr(record, "request", None)
    if record.name.startswith("django.request") and request is not None:
        # What AdminEmailHandler mails for this record (the text version).
        exc_info = record.exc_info or (None, record.getMessage(), None)
        reporter = ExceptionReporter(request, *exc_info, is_email=True)
        parts.append(reporter.get_traceback_text())
    return "\n".join(parts)


@pytest.fixture
def logs():
    """Every record of every logger, at DEBUG, while the test runs."""
    handler = _Collect()
    touched: list[tuple[logging.Logger, int, bool]] = []
    loggers = [logging.getLogger()] + [
        lg for lg in logging.root.manager.loggerDict.values() if isinstance(lg, logging.Logger)
    ]
    for lg in loggers:
        attach = lg is logging.root or not lg.propagate
        touched.append((lg, lg.level, attach))
        lg.setLevel(logging.DEBUG)
        if attach:
            lg.addHandler(handler)
    yield handler
    for lg, level, attach in touched:
        lg.setLevel(level)
        if attach:
            lg.removeHandler(handler)


def assert_not_logged(handler: _Collect, *secrets: str) -> None:
    assert secrets and all(secrets)
    for record in handler.records:
        if record.name.startswith("factory."):
            continue  # factory-boy making the test's own users (set_password at DEBUG)
        text = _record_text(record)
        for secret in secrets:
            assert secret not in text, f"{record.name} logged a secret: {text[:500]}"


def test_login_passwords_are_not_logged(logs, make_user):
    user = make_user(Role.RESPONDER, username="pw-user")
    wrong = "Wrong-Pa55word-never-logged"
    client = Client()
    response = client.post(reverse("login"), {"username": user.username, "password": wrong})
    assert response.status_code == 200  # the form again, with its error
    response = client.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    assert logs.records  # the failure was logged (axes), just not the password
    assert_not_logged(logs, wrong, PASSWORD)


def test_api_tokens_are_not_logged(logs, make_user):
    user = make_user(Role.RESPONDER)
    _token, good = api_token_create(actor=None, user=user, name="logs")
    bad = "tscc_" + "B" * 40
    url = reverse("api-incident-list")
    assert Client(headers={"Authorization": f"Bearer {bad}"}).get(url).status_code == 401
    assert Client(headers={"Authorization": f"Bearer {good}"}).get(url).status_code == 200
    assert any(r.name == "django.request" for r in logs.records)  # "Unauthorized: ..."
    assert_not_logged(logs, good, bad)


def test_vendor_tokens_are_not_logged(logs, make_user):
    manager = make_user(Role.OPS_MANAGER)
    vendor = vendor_services.vendor_create(
        actor=manager, code="logs-v", name="Logs BPO", owner=manager
    )
    _token, good = vendor_services.token_create(actor=manager, vendor_id=vendor.id, name="feed")
    bad = "vnd_" + "C" * 40
    url = reverse("api-vendors")
    assert Client(headers={"Authorization": f"Vendor {bad}"}).get(url).status_code == 401
    assert Client(headers={"Authorization": f"Vendor {good}"}).get(url).status_code == 200
    assert_not_logged(logs, good, bad)


def test_integration_tokens_are_not_logged_even_in_a_500_report(logs, make_user, monkeypatch):
    manager = make_user(Role.OPS_MANAGER)
    integration, secret = integration_create(actor=manager, name="Logs monitor")
    bad = "int_" + "D" * 40
    url = reverse("api-integration-alerts", args=[integration.id])
    alert = {"dedup_key": "logs-1", "status": "firing", "title": "Disk full"}

    def post(token: str, client: Client | None = None):
        client = client or Client()
        return client.post(
            url,
            alert,
            content_type="application/json",
            headers={"Authorization": f"Bearer {token}"},
        )

    assert post(bad).status_code == 401
    assert post(secret).status_code == 202

    # A crash after authentication: django.request logs an ERROR with the
    # request, and AdminEmailHandler would mail its META (the header too).
    def crash(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("escalations.api.alerts.alert_receive", crash)
    client = Client(raise_request_exception=False)
    assert post(secret, client).status_code == 500
    errors = [r for r in logs.records if r.name == "django.request" and r.levelno >= 40]
    assert errors and "HTTP_AUTHORIZATION" in _record_text(errors[-1])  # the META was there
    assert_not_logged(logs, secret, bad)


def test_ack_link_tokens_are_not_logged(logs, make_user):
    from tests.incidents.factories import declare

    manager = make_user(Role.OPS_MANAGER)
    responder = make_user(Role.RESPONDER)
    incident = declare(manager)
    escalation = Escalation.objects.create(
        incident=incident, kind="adhoc", snapshot={}, started_by=manager
    )
    page = Page.objects.create(escalation=escalation, user=responder, step=0)
    token = escalation_services.ack_token(page.id)
    url = f"/escalations/ack/{token}/"
    client = Client()
    assert client.get(url).status_code == 200
    assert client.post(url).status_code == 200
    page.refresh_from_db()
    assert page.state == Page.State.ACKNOWLEDGED
    assert_not_logged(logs, token)


@pytest.mark.parametrize("status", [200, 500])
def test_webhook_signing_secrets_are_not_logged(logs, cast, status):
    manager, responder = cast
    with Sink(status) as sink:
        subscribe(responder, sink.base, channels=("webhook", "dingtalk"))
        escalation = page_someone(manager)
        escalation_services.sweep(now=later())
        assert len(sink.requests) == 2
    sent = Delivery.objects.filter(page__escalation=escalation, state="sent").count()
    assert sent == (2 if status == 200 else 0)
    if status == 500:
        assert any("failed: HTTP 500" in r.getMessage() for r in logs.records)
    # The one-tap links that went out (their tokens are secrets too).
    tokens = {
        token
        for request in sink.requests
        for token in re.findall(r"/escalations/ack/([^/\s\"]+)/", request["body"].decode())
    }
    assert tokens
    assert_not_logged(
        logs,
        "wh-secret-123",  # the webhook's HMAC key (tests/escalations/test_delivery_sink.py)
        "SECdd-secret-789",  # DingTalk's signing secret
        *tokens,
    )
