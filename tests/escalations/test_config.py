"""The configuration services: policies as a whole, routing rules in order,
and a person's own contact methods, rules and quiet hours; who may do what,
and bad input refused with the field it concerns, nothing half-saved."""

from __future__ import annotations

import pytest

from escalations import config, services
from escalations.models import (
    ContactMethod,
    EscalationPolicy,
    LevelTarget,
    NotificationRule,
    PolicyLevel,
    RoutingRule,
)
from oncall.models import Schedule
from tests.escalations.sink import PATHS, Sink
from tests.factories import TeamFactory
from tests.incidents.factories import declare
from tscc.roles import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def cast(make_user):
    return {
        "manager": make_user(Role.OPS_MANAGER, username="mgr"),
        "admin": make_user(Role.ADMIN, username="adm"),
        "responder": make_user(Role.RESPONDER, username="resp"),
        "other": make_user(Role.RESPONDER, username="other"),
        "bpo": make_user(Role.BPO_LEAD, username="bpo"),
        "exec": make_user(Role.EXECUTIVE, username="exec"),
    }


def levels(*targets_per_level, wait=5):
    return [
        {"wait_minutes": wait, "targets": [{"kind": k, "id": i} for k, i in targets]}
        for targets in targets_per_level
    ]


def test_a_policy_is_saved_and_replaced_as_a_whole(cast):
    team = TeamFactory()
    schedule = Schedule.objects.create(name="T&S Ops CN", team=team, time_zone="Asia/Shanghai")
    r, o = cast["responder"], cast["other"]
    policy = config.policy_save(
        actor=cast["manager"],
        data={
            "name": " SEV1 default ",
            "team": team.id,
            "repeat": 2,
            "final_user": cast["manager"].id,
            "levels": levels([("schedule", schedule.id), ("user", r.id)], [("team", team.id)]),
        },
    )
    assert policy.name == "SEV1 default"
    snap = services.policy_snapshot(policy)
    assert snap["repeat"] == 2
    assert snap["final"] == [{"kind": "user", "id": cast["manager"].id}]
    assert [lv["targets"] for lv in snap["levels"]] == [
        [{"kind": "schedule", "id": schedule.id}, {"kind": "user", "id": r.id}],
        [{"kind": "team", "id": team.id}],
    ]
    config.policy_save(
        actor=cast["admin"],
        policy_id=policy.id,
        data={"name": "SEV1 default", "levels": levels([("user", o.id)], wait=15)},
    )
    assert PolicyLevel.objects.filter(policy=policy).count() == 1
    level = PolicyLevel.objects.get(policy=policy)
    assert level.wait_minutes == 15
    assert list(LevelTarget.objects.filter(level=level).values_list("user_id", flat=True)) == [o.id]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": "", "levels": "ok"}, "name"),
        ({"name": "x" * 121, "levels": "ok"}, "name"),
        ({"name": "P", "levels": []}, "levels"),
        ({"name": "P", "levels": [{"wait_minutes": 5, "targets": []}]}, "levels.0.targets"),
        ({"name": "P", "levels": [{"wait_minutes": 0, "targets": "ok"}]}, "levels.0.wait_minutes"),
        (
            {"name": "P", "levels": [{"wait_minutes": "soon", "targets": "ok"}]},
            "levels.0.wait_minutes",
        ),
        (
            {"name": "P", "levels": [{"wait_minutes": 5, "targets": [{"kind": "robot", "id": 1}]}]},
            "levels.0.targets",
        ),
        (
            {
                "name": "P",
                "levels": [{"wait_minutes": 5, "targets": [{"kind": "user", "id": 999999}]}],
            },
            "levels.0.targets",
        ),
        (
            {"name": "P", "levels": [{"wait_minutes": 5, "targets": [{"kind": "user"}]}]},
            "levels.0.targets",
        ),
        ({"name": "P", "levels": "ok", "repeat": 10}, "repeat"),
        ({"name": "P", "levels": "ok", "team": 999999}, "team"),
        ({"name": "P", "levels": "ok", "team": "abc"}, "team"),
        ({"name": "P", "levels": "ok", "final_user": "1; drop"}, "final_user"),
        ({"name": "P", "levels": "ok", "final_user": "bpo"}, "final_user"),
        ({"name": "P", "levels": "not a list"}, "levels"),
    ],
)
def test_bad_policy_input_names_its_field_and_saves_nothing(cast, data, field):
    ok = levels([("user", cast["responder"].id)])
    data = dict(data)
    if data.get("levels") == "ok":
        data["levels"] = ok
    elif (
        isinstance(data.get("levels"), list)
        and data["levels"]
        and data["levels"][0].get("targets") == "ok"
    ):
        data["levels"][0]["targets"] = ok[0]["targets"]
    if data.get("final_user") == "bpo":
        data["final_user"] = cast["bpo"].id
    with pytest.raises(config.InvalidInput) as refused:
        config.policy_save(actor=cast["manager"], data=data)
    assert field in refused.value.fields
    assert not EscalationPolicy.objects.exists()


@pytest.mark.parametrize("who", ["responder", "bpo", "exec"])
def test_only_managers_and_admins_change_policies_and_routing(cast, who):
    data = {"name": "P", "levels": levels([("user", cast["responder"].id)])}
    with pytest.raises(config.NotAllowed):
        config.policy_save(actor=cast[who], data=data)
    policy = config.policy_save(actor=cast["manager"], data=data)
    with pytest.raises(config.NotAllowed):
        config.routing_rule_save(actor=cast[who], data={"policy": policy.id})
    with pytest.raises(config.NotAllowed):
        config.policy_delete(actor=cast[who], policy_id=policy.id)


def test_routing_rules_match_in_order_and_can_be_moved(cast):
    manager = cast["manager"]
    a = config.policy_save(
        actor=manager, data={"name": "A", "levels": levels([("user", cast["responder"].id)])}
    )
    b = config.policy_save(
        actor=manager, data={"name": "B", "levels": levels([("user", cast["other"].id)])}
    )
    catch_all = config.routing_rule_save(actor=manager, data={"policy": a.id})
    specific = config.routing_rule_save(
        actor=manager,
        data={"policy": b.id, "severities": ["sev2", "sev3"], "categories": "spam_flood"},
    )
    assert (catch_all.position, specific.position) == (0, 1)
    incident = declare(manager)  # spam_flood
    assert services.route(incident) == a  # first match wins
    assert config.routing_rule_move(actor=manager, rule_id=specific.id, by=-1) == [
        specific.id,
        catch_all.id,
    ]
    incident.refresh_from_db()
    expected = b if incident.severity in ("sev2", "sev3") else a
    assert services.route(incident) == expected
    with pytest.raises(config.InvalidInput) as bad:
        config.routing_rule_save(actor=manager, data={"policy": a.id, "severities": ["sev9"]})
    assert "severities" in bad.value.fields
    with pytest.raises(config.InvalidInput) as bad:
        config.routing_rule_save(actor=manager, data={"policy": a.id, "categories": ["nope"]})
    assert "categories" in bad.value.fields
    for missing in ({}, {"policy": "abc"}, {"policy": 999999}):
        with pytest.raises(config.InvalidInput) as bad:
            config.routing_rule_save(actor=manager, data=missing)
        assert "policy" in bad.value.fields
    # A policy that routing uses cannot be deleted; once unused it can.
    with pytest.raises(config.InUse):
        config.policy_delete(actor=manager, policy_id=a.id)
    config.routing_rule_delete(actor=manager, rule_id=catch_all.id)
    config.policy_delete(actor=manager, policy_id=a.id)
    assert not EscalationPolicy.objects.filter(id=a.id).exists()
    assert RoutingRule.objects.count() == 1


@pytest.mark.parametrize(
    ("channel", "address", "stored"),
    [
        ("email", "ops@example.com", "ops@example.com"),
        ("sms", "+86 138-0013-8000", "+8613800138000"),
        ("voice", "+353 1 234 5678", "+35312345678"),
        ("feishu", "https://open.feishu.cn/open-apis/bot/v2/hook/x", None),
        ("slack", "https://hooks.slack.com/services/T/B/x", None),
    ],
)
def test_contact_addresses_are_checked_per_channel(cast, channel, address, stored):
    method = config.contact_method_save(
        actor=cast["responder"],
        user_id=cast["responder"].id,
        data={"channel": channel, "address": address},
    )
    assert method.address == (stored or address)


@pytest.mark.parametrize(
    ("channel", "address", "field"),
    [
        ("email", "not-an-email", "address"),
        ("sms", "13800138000", "address"),
        ("voice", "+0123", "address"),
        ("webhook", "ftp://example.com/x", "address"),
        ("dingtalk", "javascript:alert(1)", "address"),
        ("pager", "123", "channel"),
        ("email", "", "address"),
    ],
)
def test_bad_contact_addresses_are_refused(cast, channel, address, field):
    with pytest.raises(config.InvalidInput) as refused:
        config.contact_method_save(
            actor=cast["responder"],
            user_id=cast["responder"].id,
            data={"channel": channel, "address": address},
        )
    assert field in refused.value.fields
    assert not ContactMethod.objects.exists()


def test_people_manage_only_their_own_settings_admins_anyone(cast):
    r, o = cast["responder"], cast["other"]
    data = {"channel": "sms", "address": "+8613800138000"}
    with pytest.raises(config.NotAllowed):
        config.contact_method_save(actor=o, user_id=r.id, data=data)
    with pytest.raises(config.NotAllowed):
        config.contact_method_save(actor=cast["manager"], user_id=r.id, data=data)
    with pytest.raises(config.NotAllowed):
        config.contact_method_save(actor=cast["bpo"], user_id=cast["bpo"].id, data=data)
    method = config.contact_method_save(actor=cast["admin"], user_id=r.id, data=data)
    with pytest.raises(config.NotAllowed):
        config.notification_rule_save(
            actor=o, user_id=r.id, data={"channel": "sms", "urgency": "high"}
        )
    with pytest.raises(config.NotAllowed):
        config.contact_method_delete(actor=o, user_id=r.id, method_id=method.id)
    # Another person's method id under one's own user id finds nothing.
    with pytest.raises(config.InvalidInput):
        config.contact_method_save(actor=o, user_id=o.id, method_id=method.id, data=data)
    assert ContactMethod.objects.get(id=method.id).user == r


def test_secrets_are_kept_unless_replaced_or_cleared(cast):
    r = cast["responder"]
    method = config.contact_method_save(
        actor=r,
        user_id=r.id,
        data={
            "channel": "dingtalk",
            "address": "https://oapi.dingtalk.com/robot/send?access_token=t",
            "secret": "SECabc",
        },
    )
    same = config.contact_method_save(
        actor=r,
        user_id=r.id,
        method_id=method.id,
        data={"channel": "dingtalk", "address": method.address, "secret": ""},
    )
    assert same.secret == "SECabc"
    cleared = config.contact_method_save(
        actor=r,
        user_id=r.id,
        method_id=method.id,
        data={"channel": "dingtalk", "address": method.address, "clear_secret": True},
    )
    assert cleared.secret == ""


def test_notification_rules_need_a_contact_method_for_their_channel(cast):
    r = cast["responder"]
    with pytest.raises(config.InvalidInput) as refused:
        config.notification_rule_save(
            actor=r, user_id=r.id, data={"channel": "sms", "urgency": "high"}
        )
    assert "channel" in refused.value.fields
    app = config.notification_rule_save(
        actor=r, user_id=r.id, data={"channel": "app", "urgency": "high"}
    )
    assert app.delay_minutes == 0
    method = config.contact_method_save(
        actor=r, user_id=r.id, data={"channel": "sms", "address": "+8613800138000"}
    )
    sms = config.notification_rule_save(
        actor=r, user_id=r.id, data={"channel": "sms", "urgency": "high", "delay_minutes": "1"}
    )
    assert sms.delay_minutes == 1
    for bad, field in (
        ({"delay_minutes": 500}, "delay_minutes"),
        ({"urgency": "urgent"}, "urgency"),
    ):
        with pytest.raises(config.InvalidInput) as refused:
            config.notification_rule_save(
                actor=r, user_id=r.id, data={"channel": "sms", "urgency": "high", **bad}
            )
        assert field in refused.value.fields
    # Removing the channel's last contact method removes its rules too.
    config.contact_method_delete(actor=r, user_id=r.id, method_id=method.id)
    assert list(NotificationRule.objects.filter(user=r).values_list("channel", flat=True)) == [
        "app"
    ]


def test_send_test_reaches_the_robot_or_says_why_not(cast):
    r = cast["responder"]
    with Sink(200) as sink:
        method = config.contact_method_save(
            actor=r,
            user_id=r.id,
            data={"channel": "feishu", "address": sink.base + PATHS["feishu"]},
        )
        config.contact_method_test(actor=r, user_id=r.id, method_id=method.id)
        assert len(sink.requests) == 1
    with Sink(500) as failing:
        method = config.contact_method_save(
            actor=r,
            user_id=r.id,
            data={"channel": "slack", "address": failing.base + PATHS["slack"]},
        )
        with pytest.raises(config.ConfigError) as refused:
            config.contact_method_test(actor=r, user_id=r.id, method_id=method.id)
        assert "HTTP 500" in refused.value.message
    with pytest.raises(config.NotAllowed):
        config.contact_method_test(actor=cast["other"], user_id=r.id, method_id=method.id)
