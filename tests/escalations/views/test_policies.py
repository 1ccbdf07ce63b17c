"""Escalation policies through the real pages: the list per role, the editor
with levels added and removed (htmx and plain POST), errors in place with
nothing typed lost, delete refused while routing rules use a policy."""

import html
import re

import pytest
from django.test import Client
from django.urls import reverse

from escalations import config
from escalations.models import EscalationPolicy, LevelTarget
from tests.escalations.views.conftest import HTMX
from tscc.models import Team

pytestmark = pytest.mark.django_db


def text(response) -> str:
    """The page's text as a person reads it (tags dropped, entities decoded)."""
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode())))


def level_post(**fields) -> dict:
    """A policy form as the editor posts it: levels keyed in page order."""
    data = {"name": "Night desk", "team": "", "description": "", "repeat": "0", "final_user": ""}
    data.update(fields)
    return data


@pytest.mark.parametrize(
    ("who", "status", "can_create"),
    [("manager", 200, True), ("rita", 200, False), ("bpo", 403, None), ("executive", 403, None)],
)
def test_the_list_per_role(client, cast, make_policy, who, status, can_create):
    policy = make_policy()
    client.force_login(getattr(cast, who))
    response = client.get(reverse("escalations:policies"))
    assert response.status_code == status
    detail = client.get(reverse("escalations:policy", args=[policy.id]))
    if status == 403:
        assert detail.status_code == 404
        assert client.get(reverse("escalations:policy-new")).status_code == 403
        return
    page = response.content.decode()
    assert ("New policy" in page) is can_create
    assert detail.status_code == 200
    assert ('name="level"' in detail.content.decode()) is can_create  # the editor, or read-only
    assert "1. Rita Responder, On-call: T&S Ops CN · 5 min" in text(response)
    if not can_create:
        assert "Rita Responder, On-call: T&S Ops CN" in text(detail)


def test_the_list_summarises_levels_and_warns_about_a_level_that_pages_nobody(
    client, cast, make_policy
):
    make_policy()
    empty_team = Team.objects.create(name="Ops", slug="ops")
    make_policy(
        name="Nights",
        repeat=2,
        final_user=cast.manager.id,
        levels=[
            {"wait_minutes": 5, "targets": [{"kind": "user", "id": cast.rita.id}]},
            {"wait_minutes": 10, "targets": [{"kind": "team", "id": empty_team.id}]},
        ],
    )
    config.routing_rule_save(
        actor=cast.manager, data={"policy": EscalationPolicy.objects.get(name="Nights").id}
    )
    client.force_login(cast.rita)
    page = text(client.get(reverse("escalations:policies")))
    assert "1. Rita Responder, On-call: T&S Ops CN · 5 min → 2. Team T&S Ops CN · 10 min" in page
    assert "1. Rita Responder · 5 min → 2. Team Ops · 10 min" in page
    assert "2 more rounds" in page and "Wang Min" in page
    assert page.count("pages nobody now") == 1 and "Level 2 pages nobody now" in page
    row = re.search(
        r'data-policy="\d+">.*?Nights.*?</tr>',
        client.get(reverse("escalations:policies")).content.decode(),
        re.S,
    )
    assert re.search(r'num-col"><a href="/escalations/routing/">1</a>', row.group(0))


def test_the_list_and_routing_pages_do_not_grow_queries_with_rows(
    client, cast, make_policy, django_assert_max_num_queries
):
    make_policy(name="P0")
    config.routing_rule_save(actor=cast.manager, data={"policy": EscalationPolicy.objects.get().id})
    client.force_login(cast.manager)
    with django_assert_max_num_queries(30) as few_policies:
        assert client.get(reverse("escalations:policies")).status_code == 200
    with django_assert_max_num_queries(30) as few_rules:
        assert client.get(reverse("escalations:routing")).status_code == 200
    other = Team.objects.create(name="Intl", slug="intl")
    for i in range(1, 8):
        policy = make_policy(name=f"P{i}", team=other.id, final_user=cast.manager.id)
        config.routing_rule_save(
            actor=cast.manager,
            data={
                "policy": policy.id,
                "severities": ["sev1"],
                "categories": ["spam_flood"],
                "team": other.id,
            },
        )
    with django_assert_max_num_queries(len(few_policies.captured_queries)):
        page = client.get(reverse("escalations:policies")).content.decode()
    assert page.count("data-policy=") == 8
    with django_assert_max_num_queries(len(few_rules.captured_queries)):
        page = client.get(reverse("escalations:routing")).content.decode()
    assert page.count("data-rule=") == 8


def test_a_policy_name_is_escaped(client, cast, make_policy):
    make_policy(name="<script>alert(1)</script>")
    client.force_login(cast.rita)
    page = client.get(reverse("escalations:policies")).content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_create_a_two_level_policy_with_htmx(client, cast):
    client.force_login(cast.manager)
    row = client.get(reverse("escalations:policy-level"), **HTMX)
    assert row.status_code == 200 and row.content.decode().lstrip().startswith("<li")
    key = re.search(r'name="level" value="([a-z0-9]+)"', row.content.decode()).group(1)
    response = client.post(
        reverse("escalations:policy-new"),
        {
            **level_post(name="Night desk", team=cast.team.id, repeat="1"),
            "level": ["a1", key],
            "level-a1-wait": "5",
            "level-a1-users": [cast.rita.id],
            "level-a1-schedules": [cast.schedule.id],
            f"level-{key}-wait": "15",
            f"level-{key}-teams": [cast.team.id],
        },
        **HTMX,
    )
    assert response.status_code == 204
    assert response["HX-Redirect"] == reverse("escalations:policies")
    policy = EscalationPolicy.objects.get(name="Night desk")
    assert (policy.team, policy.repeat) == (cast.team, 1)
    levels = list(policy.levels.order_by("position"))
    assert [level.wait_minutes for level in levels] == [5, 15]
    assert {(t.kind, t.target_id) for t in LevelTarget.objects.filter(level=levels[0])} == {
        ("user", cast.rita.id),
        ("schedule", cast.schedule.id),
    }
    assert (
        "Policy “Night desk” saved." in client.get(reverse("escalations:policies")).content.decode()
    )


def test_without_javascript_add_and_remove_level_come_back_with_what_was_typed(client, cast):
    client.force_login(cast.manager)
    typed = {
        **level_post(name="Typed name", description="keep me"),
        "level": ["a1"],
        "level-a1-wait": "7",
        "level-a1-users": [cast.rita.id],
    }
    added = client.post(reverse("escalations:policy-new"), {**typed, "add_level": "1"})
    page = added.content.decode()
    assert added.status_code == 200 and not EscalationPolicy.objects.exists()
    keys = re.findall(r'name="level" value="([a-z0-9]+)"', page)
    assert len(keys) == 2 and keys[0] == "a1"
    assert 'value="Typed name"' in page and "keep me" in page and 'value="7"' in page
    assert f'<option value="{cast.rita.id}" selected>' in page
    removed = client.post(
        reverse("escalations:policy-new"),
        {**typed, "level": ["a1", keys[1]], "remove_level": "a1"},
    )
    assert re.findall(r'name="level" value="([a-z0-9]+)"', removed.content.decode()) == [keys[1]]
    saved = client.post(reverse("escalations:policy-new"), typed)
    assert saved.status_code == 303 and saved["Location"] == reverse("escalations:policies")
    assert EscalationPolicy.objects.get().name == "Typed name"


def test_errors_come_back_in_place_with_nothing_typed_lost(client, cast):
    client.force_login(cast.manager)

    def post(second_wait=None, *, first_wait="5", **fields):
        """The editor posted with htmx: level a1 pages Rita, level b2 nobody."""
        data = {
            **level_post(**fields),
            "level": ["a1"],
            "level-a1-wait": first_wait,
            "level-a1-users": [cast.rita.id],
        }
        if second_wait is not None:
            data.update({"level": ["a1", "b2"], "level-b2-wait": second_wait})
        return client.post(reverse("escalations:policy-new"), data, **HTMX)

    response = post("abc", name="", description="Night cover")
    page = response.content.decode()
    assert response.status_code == 422 and "<html" not in page and 'id="policy-editor"' in page
    assert "Name the policy." in page and "Night cover" in page
    assert f'<option value="{cast.rita.id}" selected>' in page and 'value="abc"' in page
    named = post("10", name="Nights")
    page = named.content.decode()
    assert named.status_code == 422
    second = page[page.index('value="b2"') :]
    assert "Add at least one target." in second  # on the second level, where it belongs
    assert "Add at least one target." not in page[: page.index('value="b2"')]
    wait = post(first_wait="0", name="Nights")
    assert wait.status_code == 422 and "Between 1 and 1440." in wait.content.decode()
    assert not EscalationPolicy.objects.exists()


def test_edit_a_policy_replaces_its_levels(client, cast, make_policy):
    policy = make_policy()
    client.force_login(cast.manager)
    page = client.get(reverse("escalations:policy", args=[policy.id])).content.decode()
    assert "Running incidents keep paging by the version of this policy" in page
    assert page.count('name="level"') == 2
    response = client.post(
        reverse("escalations:policy", args=[policy.id]),
        {
            **level_post(name="T&S default v2"),
            "level": ["0"],
            "level-0-wait": "3",
            "level-0-users": [cast.li.id],
        },
    )
    assert response.status_code == 303
    policy.refresh_from_db()
    assert policy.name == "T&S default v2" and policy.levels.count() == 1


def test_delete_is_refused_while_routing_rules_use_it(client, cast, make_policy):
    policy = make_policy()
    rule = config.routing_rule_save(actor=cast.manager, data={"policy": policy.id})
    client.force_login(cast.manager)
    refused = client.post(reverse("escalations:policy-delete", args=[policy.id]), **HTMX)
    page = refused.content.decode()
    assert refused.status_code == 409 and "Routing rules use this policy" in page
    assert 'id="policy-editor"' in page and 'value="T&amp;S default"' in page
    edit_url = reverse("escalations:policy", args=[policy.id])
    assert f'action="{edit_url}"' in page  # saving from here still saves, not deletes
    config.routing_rule_delete(actor=cast.manager, rule_id=rule.id)
    deleted = client.post(reverse("escalations:policy-delete", args=[policy.id]))
    assert deleted.status_code == 303 and not EscalationPolicy.objects.exists()


def test_responders_read_but_cannot_write(client, cast, make_policy):
    policy = make_policy()
    client.force_login(cast.rita)
    data = {**level_post(), "level": ["a1"], "level-a1-wait": "5", "level-a1-users": [cast.rita.id]}
    assert client.post(reverse("escalations:policy-new"), data).status_code == 403
    assert client.post(reverse("escalations:policy", args=[policy.id]), data).status_code == 403
    assert client.post(reverse("escalations:policy-delete", args=[policy.id])).status_code == 403
    assert client.get(reverse("escalations:policy-level")).status_code == 403
    assert EscalationPolicy.objects.get().name == "T&S default"
    client.force_login(cast.executive)
    assert client.post(reverse("escalations:policy-delete", args=[policy.id])).status_code == 404


def test_a_write_without_the_csrf_token_is_refused(cast):
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.manager)
    data = {**level_post(), "level": ["a1"], "level-a1-wait": "5", "level-a1-users": [cast.rita.id]}
    assert client.post(reverse("escalations:policy-new"), data).status_code == 403
    assert not EscalationPolicy.objects.exists()
    page = client.get(reverse("escalations:policy-new")).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    ok = client.post(reverse("escalations:policy-new"), {**data, "csrfmiddlewaretoken": token})
    assert ok.status_code == 303 and EscalationPolicy.objects.exists()
