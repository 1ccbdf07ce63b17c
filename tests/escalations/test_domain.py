"""Escalation rules as pure functions: policy steps, personal notification
timing with quiet hours, and byte-exact signatures."""

import base64
import hashlib
import hmac
import urllib.parse
from datetime import UTC, datetime, time, timedelta

import pytest

from escalations.domain.notify import (
    DEFAULT_RULES,
    QuietHours,
    Rule,
    Urgency,
    plan_notifications,
    urgency_for,
)
from escalations.domain.policy import (
    Level,
    PolicySnapshot,
    Target,
    TargetKind,
    next_due,
    pages_nobody,
    step_at,
    steps,
)
from escalations.domain.signing import dingtalk_sign, feishu_sign, webhook_signature, webhook_verify

T0 = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)  # 11:00 in Shanghai
ONCALL = Target(TargetKind.SCHEDULE, 1)
LEAD = Target(TargetKind.USER, 7)
MANAGER = Target(TargetKind.USER, 9)
POLICY = PolicySnapshot(
    levels=(Level((ONCALL,), 5), Level((LEAD,), 10)), repeat=1, final=(MANAGER,)
)


def test_steps_run_levels_in_order_then_repeat_then_the_final_level():
    listed = [(s.number, s.round, s.level_index, s.targets, s.wait, s.final) for s in steps(POLICY)]
    assert listed == [
        (0, 0, 0, (ONCALL,), timedelta(minutes=5), False),
        (1, 0, 1, (LEAD,), timedelta(minutes=10), False),
        (2, 1, 0, (ONCALL,), timedelta(minutes=5), False),
        (3, 1, 1, (LEAD,), timedelta(minutes=10), False),
        (4, 1, -1, (MANAGER,), timedelta(0), True),
    ]
    assert step_at(POLICY, 5) is None and step_at(POLICY, -1) is None


@pytest.mark.parametrize(
    ("resolved", "due"), [(1, T0 + timedelta(minutes=5)), (3, T0 + timedelta(minutes=5)), (0, T0)]
)
def test_a_level_with_nobody_to_page_moves_on_at_once(resolved, due):
    assert next_due(step_at(POLICY, 0), T0, resolved_count=resolved) == due


@pytest.mark.parametrize(
    "bad",
    [
        {"levels": ()},
        {"levels": (Level((LEAD,), 5),), "repeat": -1},
        {"levels": (Level((LEAD,), -1),)},
    ],
)
def test_invalid_policies_are_refused(bad):
    with pytest.raises(ValueError):
        PolicySnapshot(**bad)


def test_the_health_check_finds_levels_that_would_page_nobody():
    def resolve(target):
        return [] if target.kind is TargetKind.SCHEDULE else [target.id]

    assert pages_nobody(POLICY, resolve) == [0]


@pytest.mark.parametrize(
    ("severity", "urgency"),
    [("sev0", Urgency.HIGH), ("sev2", Urgency.HIGH), ("sev3", Urgency.LOW), ("sev4", Urgency.LOW)],
)
def test_urgency_follows_severity(severity, urgency):
    assert urgency_for(severity) is urgency


def test_personal_rules_choose_channels_and_delays():
    rules = (
        Rule("app", 0, Urgency.HIGH),
        Rule("voice", 2, Urgency.HIGH),
        Rule("email", 10, Urgency.LOW),
    )
    plan = plan_notifications(rules, paged_at=T0, urgency=Urgency.HIGH, highest_severity=False)
    assert plan == [("app", T0), ("voice", T0 + timedelta(minutes=2))]


def test_someone_without_rules_still_gets_paged_by_the_defaults():
    plan = plan_notifications((), paged_at=T0, urgency=Urgency.HIGH, highest_severity=False)
    assert [c for c, _ in plan] == [r.channel for r in DEFAULT_RULES if r.urgency is Urgency.HIGH]


NIGHT = QuietHours(time(22), time(8), "Asia/Shanghai")
AT_NIGHT = datetime(2026, 3, 2, 16, 0, tzinfo=UTC)  # 00:00 in Shanghai


def test_quiet_hours_hold_low_urgency_until_morning():
    plan = plan_notifications(
        (Rule("email", 0, Urgency.LOW),),
        paged_at=AT_NIGHT,
        urgency=Urgency.LOW,
        highest_severity=False,
        quiet=NIGHT,
    )
    assert plan == [("email", datetime(2026, 3, 3, 0, 0, tzinfo=UTC))]  # 08:00 Shanghai


def test_quiet_hours_never_apply_to_the_highest_severities():
    plan = plan_notifications(
        (Rule("email", 0, Urgency.LOW),),
        paged_at=AT_NIGHT,
        urgency=Urgency.LOW,
        highest_severity=True,
        quiet=NIGHT,
    )
    assert plan == [("email", AT_NIGHT)]


def test_quiet_hours_do_not_hold_high_urgency():
    plan = plan_notifications(
        (Rule("voice", 0, Urgency.HIGH),),
        paged_at=AT_NIGHT,
        urgency=Urgency.HIGH,
        highest_severity=False,
        quiet=NIGHT,
    )
    assert plan == [("voice", AT_NIGHT)]


def test_outside_quiet_hours_nothing_moves():
    assert not NIGHT.contains(T0)
    assert NIGHT.ends_after(T0) == T0


def test_dingtalk_signature_matches_the_documented_sample_code():
    secret, timestamp = "SEC0123456789abcdef", 1_700_000_000_000
    # DingTalk's own Python sample: hmac(secret, "timestamp\\nsecret"), base64, quote_plus.
    string_to_sign = f"{timestamp}\n{secret}"
    expected = urllib.parse.quote_plus(
        base64.b64encode(
            hmac.new(
                secret.encode("utf-8"), string_to_sign.encode("utf-8"), digestmod=hashlib.sha256
            ).digest()
        )
    )
    assert dingtalk_sign(secret, timestamp) == expected


def test_feishu_signature_matches_the_documented_sample_code():
    secret, timestamp = "feishu-secret", 1_700_000_000
    string_to_sign = f"{timestamp}\n{secret}"
    expected = base64.b64encode(
        hmac.new(string_to_sign.encode("utf-8"), digestmod=hashlib.sha256).digest()
    ).decode()
    assert feishu_sign(secret, timestamp) == expected


def test_webhook_signatures_verify_and_catch_tampering_and_replay():
    body = b'{"incident":"INC-2026-00042"}'
    header = webhook_signature("s3cret", body, 1_700_000_000)
    assert header.startswith("t=1700000000,v1=")
    assert webhook_verify("s3cret", body, header, now_s=1_700_000_100)
    assert not webhook_verify("s3cret", body + b" ", header, now_s=1_700_000_100)
    assert not webhook_verify("other", body, header, now_s=1_700_000_100)
    assert not webhook_verify("s3cret", body, header, now_s=1_700_001_000)  # too old
    assert not webhook_verify("s3cret", body, "garbage", now_s=1_700_000_100)
