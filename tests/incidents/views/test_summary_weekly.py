"""/summary/weekly/: the report previewed as e-mailed, the week picker, the
lists, "send now" for managers only, and a bounded number of queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.urls import reverse

from incidents.models import WeeklyReportList, WeeklyReportRun
from tests.incidents.factories import declare
from tscc.roles import Role

pytestmark = pytest.mark.django_db
URL = "/summary/weekly/"
# Tuesday 8 December 2026, 10:00 in Shanghai: last week is 2026-W49.
NOW = datetime(2026, 12, 8, 2, 0, tzinfo=UTC)


@dataclass
class Clock:
    now: datetime


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    c = Clock(NOW)
    monkeypatch.setattr("django.utils.timezone.now", lambda: c.now)
    return c


@pytest.fixture
def report_list():
    execs = WeeklyReportList.objects.create(
        name="Executives",
        recipients="ceo@example.com\ncoo@example.com",
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    WeeklyReportRun.objects.create(
        report_list=execs,
        week_start=datetime(2026, 11, 16).date(),
        state="failed",
        attempts=2,
        last_error="ConnectionRefusedError: SMTP down",
    )
    return execs


def test_route_names():
    assert reverse("summaries:weekly") == URL
    assert reverse("summaries:weekly-send", args=[7]) == "/summary/weekly/7/send/"


def test_executive_reads_the_report_and_lists_without_a_send_button(login, make_user, report_list):
    client = login(make_user(Role.EXECUTIVE, username="weekly-exec"))
    response = client.get(URL)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Weekly report" in body and 'id="weekly-email"' in body
    assert "TSCC 每周报告 / Weekly report · " in body  # the e-mail's subject
    assert "srcdoc=" in body and "Executives" in body
    assert "SMTP down" in body  # last run's state and error
    assert "data-send-now" not in body


def test_manager_gets_a_send_button_per_list(login, make_user, report_list):
    client = login(make_user(Role.OPS_MANAGER, username="weekly-mgr"))
    response = client.get(URL)
    assert response.status_code == 200
    assert f'data-send-now="{report_list.id}"'.encode() in response.content
    assert reverse("summaries:weekly-send", args=[report_list.id]).encode() in response.content


@pytest.mark.parametrize("role", [Role.RESPONDER, Role.BPO_LEAD])
def test_responders_and_bpo_leads_are_refused(login, make_user, role):
    client = login(make_user(role))
    assert client.get(URL).status_code == 403


def test_anonymous_is_sent_to_log_in(client):
    response = client.get(URL)
    assert response.status_code == 302 and "login" in response["Location"]


def test_an_iso_week_is_shown_and_a_bad_one_explained(login, make_user):
    client = login(make_user(Role.EXECUTIVE, username="weekly-exec"))
    response = client.get(URL, {"week": "2026-W47"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "Weekly report · 2026-W47" in body
    assert "?week=2026-W46" in body  # previous
    assert "?week=2026-W48" in body  # next (the week is long over)
    bad = client.get(URL, {"week": "2026-W99"})
    assert bad.status_code == 400
    assert "is not an ISO week such as 2026-W47" in bad.content.decode()
    future = client.get(URL, {"week": "2099-W01"})
    assert future.status_code == 400 and "has not ended yet" in future.content.decode()


def test_manager_sends_now_and_the_schedule_is_untouched(login, make_user, report_list):
    client = login(make_user(Role.OPS_MANAGER, username="weekly-mgr"))
    response = client.post(reverse("summaries:weekly-send", args=[report_list.id]), follow=True)
    assert response.status_code == 200
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["ceo@example.com", "coo@example.com"]
    assert "sent to 2 recipients" in response.content.decode()
    assert WeeklyReportRun.objects.get().state == "failed"  # the scheduled run is left alone


@pytest.mark.parametrize("role", [Role.EXECUTIVE, Role.RESPONDER, Role.BPO_LEAD])
def test_others_may_not_send_now(login, make_user, report_list, role):
    client = login(make_user(role))
    response = client.post(reverse("summaries:weekly-send", args=[report_list.id]))
    assert response.status_code == 403
    assert mail.outbox == []


def test_send_now_is_post_only(login, make_user, report_list):
    client = login(make_user(Role.OPS_MANAGER, username="weekly-mgr"))
    assert client.get(reverse("summaries:weekly-send", args=[report_list.id])).status_code == 405


def test_query_count_does_not_grow_with_incidents_or_lists(
    login, make_user, report_list, clock, django_assert_max_num_queries
):
    client = login(make_user(Role.EXECUTIVE, username="weekly-exec"))
    manager = make_user(Role.OPS_MANAGER, username="weekly-builder")
    clock.now = NOW - timedelta(days=6)  # Wednesday of W49
    declare(manager, title="One")
    clock.now = NOW
    with django_assert_max_num_queries(40) as few:
        assert client.get(URL, {"week": "2026-W49"}).status_code == 200
    clock.now = NOW - timedelta(days=6)
    for i in range(20):
        declare(manager, title=f"More {i}", title_zh=f"更多 {i}")
    for i in range(5):
        WeeklyReportList.objects.create(name=f"List {i}", recipients=f"l{i}@example.com")
    clock.now = NOW
    with django_assert_max_num_queries(len(few.captured_queries)) as many:
        response = client.get(URL, {"week": "2026-W49"})
    assert response.status_code == 200
    assert len(many.captured_queries) == len(few.captured_queries)
    assert "更多 19" in response.content.decode()
