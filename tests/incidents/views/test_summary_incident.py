"""One incident's summary page and its PDF: generated from the record and
the timeline, in English or Chinese, readable by anyone who may view the
incident and changing nothing."""

from __future__ import annotations

import base64
import re
import zlib
from datetime import UTC, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from incidents.domain.severity import Severity
from incidents.models import IncidentTask, Market, RegulatoryReport
from incidents.services import (
    incident_pin_fact,
    incident_record_decision,
    incident_task_create,
    incident_task_update,
    incident_transition,
    status_update_publish,
)
from incidents.summaries import incident_summary
from incidents.views.summary_incident import summary_text
from incidents.views.summary_pdf import summary_pdf
from tests.incidents.factories import declare
from tscc.roles import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager(make_user):
    return make_user(role=Role.OPS_MANAGER, display_name="Olivia Ops")


@pytest.fixture
def commander(make_user):
    return make_user(role=Role.RESPONDER, display_name="Wang Min")


@pytest.fixture
def executive(make_user):
    return make_user(role=Role.EXECUTIVE, language="en")


@pytest.fixture
def incident(manager, commander):
    incident = declare(
        manager,
        title="Scam links trending in search",
        title_zh="搜索中的诈骗链接",
        summary="Scam links in the top search results.",
        severity=Severity.SEV2,
        severity_reason="set by the test",
        commander=commander,
        markets=Market.objects.filter(code="cn"),
    )
    incident_record_decision(
        actor=manager,
        incident_id=incident.id,
        text="Block the link domain platform-wide",
        reason="The links keep coming back",
    )
    incident_pin_fact(actor=manager, incident_id=incident.id, text="Around 4,000 users clicked")
    incident_task_create(
        actor=manager, incident_id=incident.id, title="Purge cached results", owner=commander
    )
    status_update_publish(
        actor=manager,
        incident_id=incident.id,
        audience="executives",
        text_en="Links removed; watching reposts.",
        text_zh="链接已删除，正在监控转发。",
    )
    RegulatoryReport.objects.create(
        incident=incident,
        kind=RegulatoryReport.Kind.INITIAL,
        authority="CAC",
        due_at=timezone.now() - timedelta(minutes=10),
    )
    return incident


def url(incident, name="summaries:incident", lang=None) -> str:
    path = reverse(name, args=[incident.id])
    return f"{path}?lang={lang}" if lang else path


# --- who may read it -------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.EXECUTIVE, Role.OPS_MANAGER, Role.ADMIN, Role.RESPONDER])
def test_anyone_who_may_view_the_incident_reads_it(client, make_user, incident, role):
    client.force_login(make_user(role=role))
    assert client.get(url(incident)).status_code == 200
    assert client.get(url(incident, "summaries:incident-pdf")).status_code == 200


def test_bpo_leads_get_not_found(client, make_user, incident):
    client.force_login(make_user(role=Role.BPO_LEAD))
    assert client.get(url(incident)).status_code == 404
    assert client.get(url(incident, "summaries:incident-pdf")).status_code == 404


def test_unknown_incident_is_not_found(client, executive):
    client.force_login(executive)
    assert client.get(reverse("summaries:incident", args=[999999])).status_code == 404


def test_anonymous_visitors_go_to_the_login_page(client, incident):
    response = client.get(url(incident))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("name", ["summaries:incident", "summaries:incident-pdf"])
def test_nothing_can_be_posted(client, executive, incident, name):
    client.force_login(executive)
    assert client.post(url(incident, name)).status_code == 405


def test_executive_sees_no_action(client, executive, incident):
    client.force_login(executive)
    content = client.get(url(incident)).content.decode().split('<main id="content"', 1)[1]
    assert "<form" not in content and "hx-post" not in content
    assert f'href="{reverse("incidents:detail", args=[incident.id])}"' not in content


# --- what it says ----------------------------------------------------------------


def test_sections_come_from_the_record_and_timeline(client, executive, incident):
    client.force_login(executive)
    html = client.get(url(incident)).content.decode()
    for section in (
        "what-happened",
        "impact",
        "being-done",
        "decisions",
        "key-facts",
        "current-state",
        "next-update",
        "reports",
    ):
        assert f'id="{section}"' in html
    assert incident.reference in html
    assert "Scam links in the top search results." in html
    assert "Block the link domain platform-wide" in html
    assert "The links keep coming back" in html
    assert "Around 4,000 users clicked" in html
    assert "Purge cached results" in html and "Wang Min" in html
    assert "Links removed; watching reposts." in html
    assert "Initial report to CAC, overdue since" in html
    assert "Next update due" in html
    assert Market.objects.get(code="cn").name_en in html


def test_share_link_and_pdf_link(client, executive, incident):
    client.force_login(executive)
    html = client.get(url(incident, lang="zh-hans")).content.decode()
    assert f'data-url="http://testserver{url(incident)}"' in html
    assert f'href="{url(incident, "summaries:incident-pdf", "zh-hans")}"' in html


def test_language_toggle(client, executive, make_user, incident):
    client.force_login(executive)
    english = client.get(url(incident)).content.decode()
    assert '<html lang="en">' in english
    assert "Scam links trending in search" in english and "链接已删除" not in english
    chinese = client.get(url(incident, lang="zh-hans")).content.decode()
    assert '<html lang="zh-hans">' in chinese
    assert "搜索中的诈骗链接" in chinese and "链接已删除，正在监控转发。" in chinese
    assert incident.category.name_zh in chinese
    # A Chinese reader defaults to Chinese and may switch to English.
    client.force_login(make_user(role=Role.EXECUTIVE, language="zh-hans"))
    assert "搜索中的诈骗链接" in client.get(url(incident)).content.decode()
    assert "Scam links trending" in client.get(url(incident, lang="en")).content.decode()
    # An unknown language falls back to the reader's.
    assert "搜索中的诈骗链接" in client.get(url(incident, lang="fr")).content.decode()


def test_user_text_is_escaped(client, executive, manager):
    incident = declare(manager, title="<script>alert(1)</script>", summary="<b>bold</b>")
    client.force_login(executive)
    html = client.get(url(incident)).content.decode()
    assert "<script>alert(1)" not in html and "<b>bold" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_durations_and_state(executive, incident):
    summary = incident_summary(executive, incident.id, timezone.now())
    assert summary.commander == "Wang Min"
    assert summary.durations.open_for >= timedelta(0)
    assert [r.overdue for r in summary.reports_owed] == [True]
    assert [d.text for d in summary.decisions] == ["Block the link domain platform-wide"]
    assert [f.text for f in summary.key_facts] == ["Around 4,000 users clicked"]


def test_a_cancelled_incident_was_open_until_it_was_cancelled(executive, manager):
    incident = declare(manager, title="False alarm")
    incident_transition(actor=manager, incident_id=incident.id, target="cancelled", reason="No.")
    later = timezone.now() + timedelta(hours=5)
    summary = incident_summary(executive, incident.id, later)
    assert summary.durations.open_for < timedelta(minutes=1)


def test_page_query_count_is_bounded(client, executive, incident, django_assert_max_num_queries):
    client.force_login(executive)
    with django_assert_max_num_queries(30):
        client.get(url(incident))


# --- the PDF ---------------------------------------------------------------------


def test_pdf_download(client, executive, incident):
    client.force_login(executive)
    response = client.get(url(incident, "summaries:incident-pdf", "zh-hans"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        f'attachment; filename="{incident.reference}-summary-zh.pdf"'
    )
    assert response.content.startswith(b"%PDF")
    english = client.get(url(incident, "summaries:incident-pdf", "en"))
    assert f"{incident.reference}-summary-en.pdf" in english["Content-Disposition"]


def test_pdf_text_holds_the_facts(executive, incident):
    summary = incident_summary(executive, incident.id, timezone.now())
    with translation.override("en"):
        pdf = summary_pdf(summary, summary_text(summary), lang="en", compress=False)
    assert pdf.startswith(b"%PDF")
    assert incident.reference.encode() in pdf
    assert b"Block the link domain platform-wide" in pdf
    assert b"Purge cached results" in pdf
    # What the page's cards show: who decided and who wrote, the severity.
    assert pdf.count(b"Olivia Ops") >= 2  # the decision's and the update's author
    assert b"Severity: SEV2" in pdf and b"State: Triage" in pdf


def test_pdf_has_the_pages_closing_facts(client, executive, manager, incident):
    for task in IncidentTask.objects.filter(incident=incident):
        incident_task_update(actor=manager, task_id=task.id, state=IncidentTask.State.DONE)
    incident_transition(actor=manager, incident_id=incident.id, target="resolved")
    client.force_login(executive)
    body = pdf_text(client.get(url(incident, "summaries:incident-pdf", "en")).content)
    assert b"Time to resolve" in body
    assert b"1 task done" in body


def test_pdf_in_chinese_uses_the_cjk_font_and_escapes(executive, manager):
    incident = declare(manager, title="<b>A & B</b>", title_zh="<b>甲 & 乙</b>")
    summary = incident_summary(executive, incident.id, timezone.now())
    with translation.override("zh-hans"):
        pdf = summary_pdf(summary, summary_text(summary), lang="zh-hans", compress=False)
    assert pdf.startswith(b"%PDF") and b"STSong-Light" in pdf
    assert incident.reference.encode() in pdf


def pdf_text(pdf: bytes) -> bytes:
    """The PDF's content streams, decoded (reportlab writes them ASCII85 over
    Flate)."""
    out = []
    for head, stream in re.findall(rb"<<(.*?)>>\s*stream\r?\n(.*?)endstream", pdf, re.S):
        if b"ASCII85Decode" in head:
            stream = base64.a85decode(stream.strip().removesuffix(b"~>"))
        if b"FlateDecode" in head:
            stream = zlib.decompress(stream)
        out.append(stream)
    return b"\n".join(out)


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "America/Los_Angeles"])
def test_times_are_in_the_readers_zone_on_the_page_and_in_the_pdf(
    client, make_user, incident, zone
):
    reader = make_user(role=Role.EXECUTIVE, language="en", time_zone=zone)
    client.force_login(reader)
    declared = incident.declared_at.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")
    in_utc = incident.declared_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M")
    assert declared != in_utc
    html = client.get(url(incident)).content.decode()
    assert declared in html and in_utc not in html
    body = pdf_text(client.get(url(incident, "summaries:incident-pdf", "en")).content)
    assert declared.encode() in body and in_utc.encode() not in body
    assert zone.encode() in body  # "Generated … (Asia/Shanghai)"
