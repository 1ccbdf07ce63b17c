"""The incident pages through the real stack: forms, htmx partials,
no-JavaScript fallbacks, permissions and query counts."""

import re

import pytest
from django.urls import reverse

from incidents.domain.severity import ImpactAnswers
from incidents.models import Incident, TimelineEvent
from tests.incidents.factories import declare
from tscc.roles import Role

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def manager(make_user):
    return make_user(Role.OPS_MANAGER, username="mgr")


def test_triage_list_query_count_does_not_grow_with_rows(
    client, manager, django_assert_max_num_queries
):
    client.force_login(manager)
    for i in range(3):
        declare(manager, title=f"Incident {i}")
    with django_assert_max_num_queries(40) as few:
        assert client.get(reverse("incidents:list")).status_code == 200
    for i in range(30):
        declare(manager, title=f"More {i}")
    with django_assert_max_num_queries(len(few.captured_queries)) as many:
        response = client.get(reverse("incidents:list"))
    assert response.status_code == 200
    assert len(many.captured_queries) == len(few.captured_queries)
    assert response.content.count(b'class="row-link"') == 33


def test_filters_live_in_the_url_and_htmx_gets_only_the_results(client, manager):
    client.force_login(manager)
    declare(manager, title="Spam wave", category_code="spam_flood")
    declare(manager, title="Leaked chat logs", category_code="data_leak")
    response = client.get(
        reverse("incidents:list"),
        {"category": "data_leak"},
        **HTMX,
        HTTP_HX_TARGET="incident-results",
    )
    body = response.content.decode()
    assert "<html" not in body and 'id="incident-results"' in body
    assert "Leaked chat logs" in body and "Spam wave" not in body
    by_ref = client.get(
        reverse("incidents:list"), {"q": Incident.objects.get(title="Spam wave").reference}
    )
    assert b"Spam wave" in by_ref.content and b"Leaked chat logs" not in by_ref.content


def test_bad_filter_values_are_reported_not_crashed(client, manager):
    client.force_login(manager)
    response = client.get(
        reverse("incidents:list"), {"severity": "sev9", "declared_after": "yesterday"}
    )
    assert response.status_code == 200
    assert b"form-error" in response.content


def test_declare_through_the_form_without_javascript(client, manager):
    client.force_login(manager)
    response = client.post(
        reverse("incidents:declare"),
        {
            "title": "Live-streamed violence",
            "category": "live_stream",
            "user_harm": "4",
            "reach": "0",
            "legal": "0",
            "press": "0",
            "operations": "0",
        },
    )
    incident = Incident.objects.get(title="Live-streamed violence")
    assert response.status_code == 303 and response["Location"] == reverse(
        "incidents:detail", args=[incident.id]
    )
    assert incident.severity == "sev0"


def test_declare_errors_come_back_as_a_422_partial_and_lose_nothing(client, manager):
    client.force_login(manager)
    response = client.post(
        reverse("incidents:declare"),
        {
            "title": "Rumour about the flood",
            "category": "rumor",
            "user_harm": "1",
            "reach": "0",
            "legal": "0",
            "press": "0",
            "operations": "0",
            "severity": "sev0",
        },
        **HTMX,
    )
    body = response.content.decode()
    assert response.status_code == 422
    assert "<html" not in body and 'id="declare-form"' in body
    assert 'value="Rumour about the flood"' in body  # nothing typed is lost
    assert "A reason is required to override the rubric." in body
    assert not Incident.objects.exists()


def test_the_proposal_follows_the_answers(client, manager):
    client.force_login(manager)
    response = client.post(
        reverse("incidents:severity-preview"), {"legal": "3", "views": "2000000"}
    )
    body = response.content.decode()
    assert 'id="proposal"' in body and "sev-sev0" in body  # 2,000,000 views -> reach 4


def test_an_action_answers_the_page_body_for_htmx_and_redirects_without(client, manager):
    client.force_login(manager)
    incident = declare(manager)
    url = reverse("incidents:transition", args=[incident.id])
    plain = client.post(url, {"target": "investigating"})
    assert plain.status_code == 303 and plain["Location"].startswith(
        reverse("incidents:detail", args=[incident.id])
    )
    partial = client.post(url, {"target": "mitigating"}, **HTMX)
    assert partial.status_code == 200
    assert '<div id="incident-body"' in partial.content.decode() and b"<html" not in partial.content


def test_an_illegal_transition_is_a_409_with_a_clear_message(client, manager):
    client.force_login(manager)
    incident = declare(manager)
    response = client.post(
        reverse("incidents:transition", args=[incident.id]), {"target": "closed"}, **HTMX
    )
    assert response.status_code == 409
    assert "An incident cannot go from Triage to Closed." in response.content.decode()


def test_a_note_is_escaped_on_the_page(client, manager):
    client.force_login(manager)
    incident = declare(manager)
    client.post(
        reverse("incidents:notes", args=[incident.id]),
        {"kind": "note", "text": "<script>alert(1)</script>"},
    )
    page = client.get(reverse("incidents:detail", args=[incident.id])).content.decode()
    assert (
        "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    )


def test_a_status_update_for_sev1_needs_both_languages(client, manager):
    client.force_login(manager)
    incident = declare(manager, answers=ImpactAnswers(legal=3))
    assert incident.severity == "sev1"
    response = client.post(
        reverse("incidents:updates", args=[incident.id]),
        {"audience": "company", "text_en": "Contained."},
        **HTMX,
    )
    assert response.status_code == 422
    assert "needs both English and Chinese" in response.content.decode()
    assert not incident.status_updates.exists()


@pytest.mark.parametrize(
    ("role", "status"),
    [(Role.EXECUTIVE, 200), (Role.BPO_LEAD, 404), (Role.RESPONDER, 200)],
)
def test_who_can_open_an_incident(client, make_user, manager, role, status):
    incident = declare(manager)
    client.force_login(make_user(role))
    assert client.get(reverse("incidents:detail", args=[incident.id])).status_code == status


def test_an_executive_reads_but_cannot_act(client, make_user, manager):
    incident = declare(manager)
    client.force_login(make_user(Role.EXECUTIVE))
    page = client.get(reverse("incidents:detail", args=[incident.id])).content.decode()
    assert "Move to" not in page and "Add to timeline" not in page
    response = client.post(
        reverse("incidents:notes", args=[incident.id]), {"kind": "note", "text": "hi"}, **HTMX
    )
    assert response.status_code == 403
    assert not TimelineEvent.objects.filter(incident=incident, kind="note").exists()
    assert client.get(reverse("incidents:declare")).status_code == 403


def test_a_responder_joins_before_acting(client, make_user, manager):
    incident = declare(manager)
    responder = make_user(Role.RESPONDER)
    client.force_login(responder)
    refused = client.post(
        reverse("incidents:notes", args=[incident.id]), {"kind": "note", "text": "on it"}, **HTMX
    )
    assert refused.status_code == 403 and "Join it first" in refused.content.decode()
    client.post(reverse("incidents:join", args=[incident.id]))
    ok = client.post(
        reverse("incidents:notes", args=[incident.id]), {"kind": "note", "text": "on it"}, **HTMX
    )
    assert ok.status_code == 200


def test_csrf_is_enforced_on_actions(manager):
    from django.test import Client

    incident = declare(manager)
    client = Client(enforce_csrf_checks=True)
    client.force_login(manager)
    response = client.post(
        reverse("incidents:transition", args=[incident.id]), {"target": "investigating"}
    )
    assert response.status_code == 403
    incident.refresh_from_db()
    assert incident.state == "triage"


def test_report_flow_on_the_page(client, manager):
    client.force_login(manager)
    incident = declare(manager, involves_personal_info=True)
    report = incident.reports.get()
    missing = client.post(
        reverse("incidents:report-submit", args=[report.id]),
        {"channel": "email", "submitted_at": "2020-01-01T10:00"},
        **HTMX,
    )
    assert missing.status_code == 422 and "content in Chinese" in missing.content.decode()
    client.post(
        reverse("incidents:report-draft", args=[report.id]),
        {"content_zh": "事件报告", "content_en": ""},
    )
    done = client.post(
        reverse("incidents:report-submit", args=[report.id]),
        {"channel": "email", "submitted_at": "2020-01-01T10:00"},
    )
    assert done.status_code == 303
    report.refresh_from_db()
    assert report.state == "submitted" and len(report.content_sha256) == 64


def test_page_shows_times_in_the_viewers_zone(client, make_user, manager):
    incident = declare(manager)
    viewer = make_user(Role.OPS_MANAGER, time_zone="America/Los_Angeles")
    client.force_login(viewer)
    page = client.get(reverse("incidents:detail", args=[incident.id])).content.decode()
    from zoneinfo import ZoneInfo

    local = incident.declared_at.astimezone(ZoneInfo("America/Los_Angeles")).strftime("%m-%d %H:%M")
    assert re.search(rf"Declared</span><time[^>]*>{local}</time>", page)


def test_the_review_page_embeds_the_whole_timeline(client, manager):
    from incidents.services import incident_add_note, review_save

    client.force_login(manager)
    incident = declare(manager)
    incident_add_note(actor=manager, incident_id=incident.id, text="Hash set shared at 10:05")
    review_save(actor=manager, incident_id=incident.id, summary="Spam wave, contained in 2 h")
    page = client.get(reverse("incidents:review-page", args=[incident.id])).content.decode()
    assert "Spam wave, contained in 2 h" in page and "Hash set shared at 10:05" in page
    assert page.count('class="event event-') == incident.timeline.count()


def test_overdue_reports_stand_out_in_the_menu_and_the_list(client, manager):
    from datetime import timedelta

    from django.utils import timezone

    client.force_login(manager)
    incident = declare(
        manager, involves_personal_info=True, discovered_at=timezone.now() - timedelta(days=2)
    )
    assert incident.reports.get().is_overdue
    page = client.get(reverse("incidents:list")).content.decode()
    assert 'class="nav-badge"' in page and "Regulatory reports overdue" in page
    assert f"{incident.reference}</span>" in page


def test_a_long_timeline_shows_its_latest_100_events_and_every_decision(
    client, manager, django_assert_max_num_queries
):
    """A war room's timeline grows by thousands of events; the page loads the
    newest 100 (and the decisions on their own), so neither its queries nor
    the rows it reads grow with the timeline; the review page has them all."""
    from incidents.services import incident_add_note, incident_record_decision

    client.force_login(manager)
    incident = declare(manager, title="Long war room")
    incident_record_decision(
        actor=manager, incident_id=incident.id, text="Roll back the classifier", reason="FP spike"
    )
    url = reverse("incidents:detail", args=[incident.id])
    with django_assert_max_num_queries(60) as short:
        assert client.get(url).status_code == 200
    for n in range(120):
        incident_add_note(actor=manager, incident_id=incident.id, text=f"Chat line {n}")
    incident_add_note(actor=manager, incident_id=incident.id, text="The newest line")
    with django_assert_max_num_queries(len(short.captured_queries)):
        response = client.get(url)
    body = response.content.decode()
    timeline = body.split('<ol class="timeline">', 1)[1].split("</ol>", 1)[0]
    assert timeline.count('id="event-') == 100
    assert "The newest line" in timeline and "Chat line 119<" in timeline
    assert "Chat line 0<" not in timeline and "Chat line 18<" not in timeline
    assert "Showing the latest 100 events." in body
    review = client.get(reverse("incidents:review-page", args=[incident.id])).content.decode()
    assert "Chat line 0<" in review
    assert "Roll back the classifier" in body  # a decision from before the window
