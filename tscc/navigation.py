"""The shell's navigation: which sections each role sees.

An entry shows when the user holds its permission and its URL exists, so a
section appears in the menu once its app ships its pages.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class NavItem:
    key: str
    label: Promise
    url_name: str
    perm: str | None
    icon: str


NAV: tuple[NavItem, ...] = (
    NavItem("home", _("Overview"), "home", None, "grid"),
    NavItem("incidents", _("Incidents"), "incidents:list", "tscc.view_incidents", "alert"),
    NavItem("oncall", _("On-call"), "oncall:schedules", "tscc.view_oncall", "clock"),
    NavItem("pages", _("My pages"), "escalations:my-pages", "tscc.view_oncall", "alert"),
    NavItem("paging", _("Paging"), "escalations:policies", "escalations.view_policy", "bell"),
    NavItem("vendors", _("Vendors"), "vendors:board", "tscc.view_vendor_board", "building"),
    NavItem("portal", _("Vendor portal"), "vendors:portal", "tscc.view_vendor_portal", "building"),
    NavItem("summaries", _("Summaries"), "summaries:now", "tscc.view_summaries", "chart"),
    NavItem("api", _("API"), "api-docs", "tscc.view_api_docs", "code"),
    NavItem("admin", _("Admin"), "admin:index", "tscc.use_admin", "settings"),
)


def nav_for(user, *, items: tuple[NavItem, ...] = NAV) -> list[dict]:
    """The entries `user` may open, with resolved URLs, in menu order."""
    result = []
    for item in items:
        if item.perm is not None and not user.has_perm(item.perm):
            continue
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:
            continue
        result.append({"key": item.key, "label": item.label, "url": url, "icon": item.icon})
    return result
