import re

import pytest
from django.utils.translation import gettext_lazy as _

from tscc.navigation import NavItem, nav_for
from tscc.roles import Role

pytestmark = pytest.mark.django_db

# Sections whose pages exist today; later issues add theirs to this table.
EXPECTED = {
    Role.OPS_MANAGER: {
        *("home", "incidents", "oncall", "pages", "paging", "vendors", "summaries", "api"),
    },
    Role.RESPONDER: {"home", "incidents", "oncall", "pages", "paging", "vendors", "api"},
    Role.BPO_LEAD: {"home", "portal"},
    Role.EXECUTIVE: {"home", "incidents", "vendors", "summaries", "api"},
    Role.ADMIN: {
        *("home", "incidents", "oncall", "pages", "paging", "vendors", "summaries", "api", "admin"),
    },
}


def nav_keys(html: bytes) -> set[str]:
    return set(re.findall(r'data-nav="([a-z]+)"', html.decode()))


@pytest.mark.parametrize("role", list(Role))
def test_navigation_shows_what_the_role_may_open(client, make_user, role):
    client.force_login(make_user(role=role))
    assert nav_keys(client.get("/").content) == EXPECTED[role]


def test_an_entry_needs_both_the_permission_and_an_existing_page(make_user):
    items = (
        NavItem("home", _("Overview"), "home", None, "grid"),
        NavItem("admin", _("Admin"), "admin:index", "tscc.use_admin", "settings"),
        NavItem("future", _("Later"), "nowhere:yet", None, "grid"),
    )
    responder = make_user(role=Role.RESPONDER)
    admin = make_user(role=Role.ADMIN)
    assert [i["key"] for i in nav_for(responder, items=items)] == ["home"]
    assert [i["key"] for i in nav_for(admin, items=items)] == ["home", "admin"]


def test_current_section_is_marked(client, make_user):
    client.force_login(make_user())
    html = client.get("/").content.decode()
    assert re.search(
        r'class="nav-item is-current"[^>]*aria-current="page"[^>]*data-nav="home"', html
    )


def test_admin_site_is_for_admins_only(client, make_user):
    client.force_login(make_user(role=Role.OPS_MANAGER))
    assert client.get("/admin/").status_code == 302  # to the admin login
    client.force_login(make_user(role=Role.ADMIN, is_staff=True))
    assert client.get("/admin/").status_code == 200
