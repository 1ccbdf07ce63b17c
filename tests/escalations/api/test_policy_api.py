"""Escalation policies and routing rules over the API: everyone in
operations reads them, ops managers change them, bad input is a 400 with
field errors, and the lists cost a fixed number of queries."""

from __future__ import annotations

import pytest

from escalations import config
from escalations.models import EscalationPolicy, PolicyLevel, RoutingRule
from oncall import services as oncall_services
from tests.escalations.api.conftest import error_fields, policy_data, queries_for

pytestmark = pytest.mark.django_db


# --- Policies ----------------------------------------------------------------------


def test_a_responder_lists_policies_with_named_targets_and_rule_counts(api_as, cast, rule):
    response = api_as(cast.outsider).get("/escalation-policies/")
    assert response.status_code == 200
    [policy] = response.json()
    assert policy["name"] == "T&S default" and policy["routing_rules"] == 1
    assert policy["final_user"] == {"id": cast.manager.id, "name": "Manager"}
    assert [level["wait_minutes"] for level in policy["levels"]] == [5, 6]
    assert policy["levels"][0]["targets"] == [
        {"kind": "user", "id": cast.ana.id, "name": "Ana"},
        {"kind": "user", "id": cast.ben.id, "name": "Ben"},
    ]
    assert policy["levels"][1]["targets"] == [
        {"kind": "team", "id": cast.team.id, "name": "T&S Ops CN"}
    ]


def test_a_manager_creates_a_policy(api_as, cast):
    schedule = oncall_services.schedule_save(
        actor=cast.manager, name="Primary", time_zone="Asia/Shanghai", team=cast.team
    )
    data = policy_data(
        [("schedule", schedule.id)], [("user", cast.ana.id)], repeat=2, team=cast.team.id
    )
    response = api_as(cast.manager).post("/escalation-policies/", data)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["repeat"] == 2 and body["team"]["slug"] == "ts-ops-cn"
    assert body["levels"][0]["targets"] == [
        {"kind": "schedule", "id": schedule.id, "name": "Primary"}
    ]
    assert body["routing_rules"] == 0
    assert EscalationPolicy.objects.filter(id=body["id"]).exists()


@pytest.mark.parametrize(
    "data, field",
    [
        ({"levels": []}, "name"),
        ({"name": "x", "levels": []}, "levels"),
        ({"name": "x", "levels": "two"}, "levels"),
        ({"name": "x", "levels": [{"targets": []}]}, "levels"),
        ({"name": "x", "levels": [{"targets": [{"kind": "pager", "id": 1}]}]}, "levels"),
        (
            {"name": "x", "levels": [{"wait_minutes": 0, "targets": [{"kind": "user", "id": 1}]}]},
            "levels",
        ),
        (
            {"name": "x", "repeat": 99, "levels": [{"targets": [{"kind": "user", "id": 1}]}]},
            "repeat",
        ),
        (
            {"name": "x", "team": "ops", "levels": [{"targets": [{"kind": "user", "id": 1}]}]},
            "team",
        ),
    ],
)
def test_malformed_policies_are_400_with_field_errors(api_as, cast, data, field):
    response = api_as(cast.manager).post("/escalation-policies/", data)
    assert response.status_code == 400
    assert field in error_fields(response)


@pytest.mark.parametrize("kind", ["user", "schedule", "team"])
@pytest.mark.parametrize("huge", [2**63, 2**70])
def test_ids_beyond_the_database_range_are_400_not_500(api_as, cast, kind, huge):
    api = api_as(cast.manager)
    response = api.post("/escalation-policies/", policy_data([(kind, huge)]))
    assert response.status_code == 400 and error_fields(response) == {"levels"}
    for field in ("team", "final_user"):
        response = api.post(
            "/escalation-policies/", policy_data([("user", cast.ana.id)], **{field: huge})
        )
        assert response.status_code == 400 and error_fields(response) == {field}
    for field in ("policy", "team"):
        response = api.post("/routing-rules/", {"policy": 1, field: huge})
        assert response.status_code == 400 and error_fields(response) == {field}
    assert not EscalationPolicy.objects.exists() and not RoutingRule.objects.exists()


@pytest.mark.parametrize(
    "body", ["[" * 50_000 + "]" * 50_000, '{"policy": ' + "[" * 50_000 + "]" * 50_000 + "}"]
)
def test_json_nested_too_deeply_is_400_not_500(api_as, cast, body):
    client = api_as(cast.manager).client
    response = client.post("/api/v1/routing-rules/", body, content_type="application/json")
    assert response.status_code == 400 and "detail" in response.json()
    assert not RoutingRule.objects.exists()


def test_the_service_refuses_targets_that_cannot_be_paged(api_as, cast):
    data = policy_data([("user", cast.executive.id)])
    response = api_as(cast.manager).post("/escalation-policies/", data)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert error_fields(response) == {"levels.0.targets"}
    data = policy_data([("user", cast.ana.id)], final_user=cast.bpo.id)
    response = api_as(cast.manager).post("/escalation-policies/", data)
    assert response.status_code == 400 and error_fields(response) == {"final_user"}


def test_put_replaces_a_policy_as_a_whole(api_as, cast, policy):
    data = policy_data([("user", cast.outsider.id)], name="Renamed")
    response = api_as(cast.manager).put(f"/escalation-policies/{policy.id}/", data)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["name"] == "Renamed" and body["final_user"] is None
    assert [t["id"] for level in body["levels"] for t in level["targets"]] == [cast.outsider.id]
    assert PolicyLevel.objects.filter(policy=policy).count() == 1
    assert api_as(cast.ana).get(f"/escalation-policies/{policy.id}/").json() == body


def test_a_policy_in_use_cannot_be_deleted(api_as, cast, policy, rule):
    api = api_as(cast.manager)
    response = api.delete(f"/escalation-policies/{policy.id}/")
    assert response.status_code == 409 and response.json()["code"] == "in_use"
    assert api.delete(f"/routing-rules/{rule.id}/").status_code == 204
    assert api.delete(f"/escalation-policies/{policy.id}/").status_code == 204
    assert not EscalationPolicy.objects.filter(id=policy.id).exists()


def test_unknown_policies_are_404(api_as, cast):
    api = api_as(cast.manager)
    assert api.get("/escalation-policies/999999/").status_code == 404
    data = policy_data([("user", cast.ana.id)])
    assert api.put("/escalation-policies/999999/", data).status_code == 404
    assert api.delete("/escalation-policies/999999/").status_code == 404


def test_a_responder_may_not_change_policies(api_as, cast, policy):
    api = api_as(cast.ana)
    data = policy_data([("user", cast.ana.id)])
    for response in (
        api.post("/escalation-policies/", data),
        api.put(f"/escalation-policies/{policy.id}/", data),
        api.delete(f"/escalation-policies/{policy.id}/"),
        # Refused before the input is read: no 400 for a role that may not.
        api.post("/escalation-policies/", {"name": ""}),
    ):
        assert response.status_code == 403
        assert response.json()["code"] == "not_allowed"
    assert EscalationPolicy.objects.filter(id=policy.id, name="T&S default").exists()


def test_the_policy_list_costs_the_same_queries_for_many_policies(api_as, cast):
    schedule = oncall_services.schedule_save(
        actor=cast.manager, name="Primary", time_zone="Asia/Shanghai"
    )

    def make(n: int, prefix: str) -> None:
        for i in range(n):
            data = policy_data(
                [("user", cast.ana.id), ("schedule", schedule.id)],
                [("team", cast.team.id), ("user", cast.ben.id)],
                name=f"{prefix} {i}",
                final_user=cast.manager.id,
                team=cast.team.id,
            )
            policy = config.policy_save(actor=cast.manager, data=data)
            config.routing_rule_save(actor=cast.manager, data={"policy": policy.id})

    api = api_as(cast.ana)
    make(2, "Few")
    few, body = queries_for(api, "/escalation-policies/")
    assert len(body) == 2
    make(10, "Many")
    many, body = queries_for(api, "/escalation-policies/")
    assert len(body) == 12 and all(p["routing_rules"] == 1 for p in body)
    # session, user, policies (with the rule count), levels, targets
    assert few == many == 5


# --- Routing rules -------------------------------------------------------------------


def test_routing_rules_are_listed_in_the_order_they_are_tried(api_as, cast, policy, other_policy):
    for p, severities in ((policy, ["sev0", "sev1"]), (other_policy, [])):
        config.routing_rule_save(
            actor=cast.manager, data={"policy": p.id, "severities": severities}
        )
    response = api_as(cast.outsider).get("/routing-rules/")
    assert response.status_code == 200
    first, second = response.json()
    assert (first["position"], first["policy"]["name"], first["severities"]) == (
        0,
        "T&S default",
        ["sev0", "sev1"],
    )
    assert (second["position"], second["policy"]["name"]) == (1, "Night shift")


def test_a_manager_creates_replaces_and_deletes_a_routing_rule(api_as, cast, policy, other_policy):
    api = api_as(cast.manager)
    data = {
        "policy": policy.id,
        "severities": ["sev1"],
        "categories": ["spam_flood"],
        "team": cast.team.id,
    }
    response = api.post("/routing-rules/", data)
    assert response.status_code == 201, response.content
    made = response.json()
    assert made["categories"] == ["spam_flood"] and made["team"]["id"] == cast.team.id
    response = api.put(f"/routing-rules/{made['id']}/", {"policy": other_policy.id})
    assert response.status_code == 200
    replaced = response.json()
    assert replaced["policy"] == {"id": other_policy.id, "name": "Night shift"}
    assert (replaced["severities"], replaced["categories"], replaced["team"]) == ([], [], None)
    assert replaced["position"] == made["position"]
    assert api.get(f"/routing-rules/{made['id']}/").json() == replaced
    assert api.delete(f"/routing-rules/{made['id']}/").status_code == 204
    assert not RoutingRule.objects.exists()


@pytest.mark.parametrize(
    "data, field",
    [
        ({"policy": None}, "policy"),
        ({"policy": "first"}, "policy"),
        ({"policy": 999999}, "policy"),
        ({"severities": ["sev9"]}, "severities"),
        ({"severities": "sev1"}, "severities"),
        ({"categories": ["no_such_category"]}, "categories"),
        ({"position": -1}, "position"),
    ],
)
def test_malformed_routing_rules_are_400_with_field_errors(api_as, cast, policy, data, field):
    response = api_as(cast.manager).post("/routing-rules/", {"policy": policy.id} | data)
    assert response.status_code == 400
    assert field in error_fields(response)


def test_moving_a_routing_rule_answers_the_new_order(api_as, cast, policy):
    rules = [
        config.routing_rule_save(actor=cast.manager, data={"policy": policy.id}) for _ in "abc"
    ]
    api = api_as(cast.manager)
    response = api.post(f"/routing-rules/{rules[2].id}/move/", {"by": -1})
    assert response.status_code == 200
    assert response.json() == {"order": [rules[0].id, rules[2].id, rules[1].id]}
    response = api.post(f"/routing-rules/{rules[0].id}/move/", {"by": -1})  # already first
    assert response.json()["order"][0] == rules[0].id
    for by in (0, 2, "up", None):
        response = api.post(f"/routing-rules/{rules[0].id}/move/", {"by": by})
        assert response.status_code == 400 and error_fields(response) == {"by"}
    assert api.post("/routing-rules/999999/move/", {"by": 1}).status_code == 404
    assert (
        api_as(cast.ana).post(f"/routing-rules/{rules[0].id}/move/", {"by": 1}).status_code == 403
    )


def test_unknown_routing_rules_are_404(api_as, cast, policy):
    api = api_as(cast.manager)
    assert api.get("/routing-rules/999999/").status_code == 404
    assert api.put("/routing-rules/999999/", {"policy": policy.id}).status_code == 404
    assert api.delete("/routing-rules/999999/").status_code == 404


def test_a_responder_may_not_change_routing_rules(api_as, cast, policy, rule):
    api = api_as(cast.ana)
    assert api.post("/routing-rules/", {"policy": policy.id}).status_code == 403
    assert api.put(f"/routing-rules/{rule.id}/", {"policy": policy.id}).status_code == 403
    assert api.delete(f"/routing-rules/{rule.id}/").status_code == 403
    assert RoutingRule.objects.filter(id=rule.id).exists()


def test_the_routing_rule_list_costs_the_same_queries_for_many_rules(api_as, cast, policy):
    def make(n: int) -> None:
        for _ in range(n):
            config.routing_rule_save(
                actor=cast.manager, data={"policy": policy.id, "team": cast.team.id}
            )

    api = api_as(cast.ana)
    make(2)
    few, body = queries_for(api, "/routing-rules/")
    make(10)
    many, body = queries_for(api, "/routing-rules/")
    assert len(body) == 12
    assert few == many == 3  # session, user, rules (with policy and team)
