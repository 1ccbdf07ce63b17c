"""Reads for the escalations pages: a person's pages, an incident's paging."""

from __future__ import annotations

from escalations.models import Escalation, Page
from incidents.models import Incident

OPEN_PAGE_STATES = (Page.State.TRIGGERED, Page.State.NOTIFIED)


def user_pages(*, user, limit: int = 50) -> list[Page]:
    """The person's latest pages with their incident and deliveries."""
    return list(
        Page.objects.filter(user=user)
        .select_related("escalation__incident")
        .prefetch_related("deliveries")
        .order_by("-created_at")[:limit]
    )


def is_open(page: Page) -> bool:
    return page.state in OPEN_PAGE_STATES and page.escalation.state == Escalation.State.ACTIVE


def user_page(*, user, page_id: int) -> Page | None:
    return Page.objects.filter(id=page_id, user=user).first()


def incident_paging(*, incident: Incident) -> list[Escalation]:
    """Every escalation of the incident with its pages and delivery attempts."""
    return list(
        Escalation.objects.filter(incident=incident)
        .prefetch_related("pages__user", "pages__deliveries__attempt_log")
        .order_by("started_at")
    )
