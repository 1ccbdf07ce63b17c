"""Every write to paging configuration: escalation policies (edited as a
whole: name, team, levels and their targets, repeat, final notify), routing
rules, and a person's contact methods, notification rules and quiet hours.

One transaction each; input is checked here, so the pages, the API and the
admin share one set of rules and messages. Running escalations page by their
frozen snapshot: nothing here changes them (see `services.escalation_switch`).
"""

from __future__ import annotations

import re
from datetime import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from escalations.delivery import DeliveryError, Message, Target, adapter_for
from escalations.domain.notify import Urgency
from escalations.domain.policy import TargetKind
from escalations.models import (
    ContactMethod,
    EscalationPolicy,
    LevelTarget,
    NotificationRule,
    PolicyLevel,
    QuietHours,
    RoutingRule,
)
from incidents.domain.severity import Severity
from incidents.models import Category
from oncall.models import Schedule
from tscc.exceptions import ApplicationError, InvalidInput, NotAllowed
from tscc.models import Team
from tscc.roles import OPERATIONS_ROLES

MAX_LEVELS = 10
MAX_TARGETS = 20
MAX_REPEAT = 9
MAX_WAIT_MINUTES = 24 * 60
MAX_DELAY_MINUTES = 120
PHONE = re.compile(r"^\+[1-9]\d{6,14}$")  # E.164
URL_CHANNELS = ("webhook", "feishu", "dingtalk", "wecom", "slack")


class ConfigError(ApplicationError):
    code = "config_error"


class InUse(ConfigError):
    code = "in_use"
    http_status = 409


def _ensure(actor, perm: str, obj=None) -> None:
    if not actor.has_perm(perm, obj):
        raise NotAllowed(_("You may not change this."))


def _int(value, field: str, low: int, high: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise InvalidInput(
            _("Check the highlighted fields."), fields={field: _("A whole number.")}
        ) from None
    if not low <= number <= high:
        raise InvalidInput(
            _("Check the highlighted fields."),
            fields={field: _("Between %(low)s and %(high)s.") % {"low": low, "high": high}},
        )
    return number


def _id(value, field: str) -> int:
    """An id from input: a positive whole number, or the field's error."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = 0
    if number <= 0 or isinstance(value, bool):
        raise InvalidInput(_("Check the highlighted fields."), fields={field: _("Not found.")})
    return number


def _team(team_id, field: str = "team") -> Team | None:
    if team_id in (None, ""):
        return None
    team = Team.objects.filter(id=_id(team_id, field)).first()
    if team is None:
        raise InvalidInput(_("Check the highlighted fields."), fields={field: _("No such team.")})
    return team


def _responder(user_id, field: str):
    if user_id in (None, ""):
        return None
    user = (
        get_user_model()
        .objects.filter(
            id=_id(user_id, field), is_active=True, role__in=[r.value for r in OPERATIONS_ROLES]
        )
        .first()
    )
    if user is None:
        raise InvalidInput(
            _("Check the highlighted fields."),
            fields={field: _("Choose an active person in operations.")},
        )
    return user


# --- Policies --------------------------------------------------------------------


def _clean_levels(raw_levels) -> list[tuple[int, list[tuple[str, int]]]]:
    """[(wait_minutes, [(kind, id), ...]), ...], every target checked to exist."""
    if not isinstance(raw_levels, list | tuple):
        raise InvalidInput(_("Levels must be a list."), fields={"levels": _("A list.")})
    if len(raw_levels) > MAX_LEVELS:
        raise InvalidInput(
            _("At most %(n)s levels.") % {"n": MAX_LEVELS},
            fields={"levels": _("At most %(n)s levels.") % {"n": MAX_LEVELS}},
        )
    levels = []
    wanted: dict[str, set[int]] = {k.value: set() for k in TargetKind}
    for i, raw in enumerate(raw_levels):
        field = f"levels.{i}"
        if not isinstance(raw, dict):
            raise InvalidInput(_("Check the highlighted fields."), fields={field: _("An object.")})
        wait = _int(raw.get("wait_minutes", 5), f"{field}.wait_minutes", 1, MAX_WAIT_MINUTES)
        targets = raw.get("targets") or []
        if not isinstance(targets, list | tuple) or not targets:
            raise InvalidInput(
                _("Each level pages someone: add a person, a schedule or a team."),
                fields={f"{field}.targets": _("Add at least one target.")},
            )
        if len(targets) > MAX_TARGETS:
            raise InvalidInput(
                _("Check the highlighted fields."),
                fields={f"{field}.targets": _("At most %(n)s targets.") % {"n": MAX_TARGETS}},
            )
        cleaned = []
        for target in targets:
            kind = str((target or {}).get("kind", "")) if isinstance(target, dict) else ""
            if kind not in wanted:
                raise InvalidInput(
                    _("Check the highlighted fields."),
                    fields={f"{field}.targets": _("A target is a user, a schedule or a team.")},
                )
            try:
                target_id = int(target.get("id"))
            except (TypeError, ValueError):
                raise InvalidInput(
                    _("Check the highlighted fields."),
                    fields={f"{field}.targets": _("Each target needs an id.")},
                ) from None
            if (kind, target_id) not in cleaned:
                cleaned.append((kind, target_id))
                wanted[kind].add(target_id)
        levels.append((wait, cleaned))
    found = {
        "user": set(
            get_user_model()
            .objects.filter(
                id__in=wanted["user"],
                is_active=True,
                role__in=[r.value for r in OPERATIONS_ROLES],
            )
            .values_list("id", flat=True)
        ),
        "schedule": set(
            Schedule.objects.filter(id__in=wanted["schedule"]).values_list("id", flat=True)
        ),
        "team": set(Team.objects.filter(id__in=wanted["team"]).values_list("id", flat=True)),
    }
    for i, (_wait, targets) in enumerate(levels):
        missing = [f"{k}:{t}" for k, t in targets if t not in found[k]]
        if missing:
            raise InvalidInput(
                _("Some targets do not exist or cannot be paged: %(which)s.")
                % {"which": ", ".join(missing)},
                fields={
                    f"levels.{i}.targets": _("Unknown or inactive: %(which)s.")
                    % {"which": ", ".join(missing)}
                },
            )
    return levels


@transaction.atomic
def policy_save(*, actor, policy_id: int | None = None, data: dict) -> EscalationPolicy:
    """Create or replace a policy as a whole. `data`: name, description,
    team (id), repeat, final_user (id), levels: [{wait_minutes, targets:
    [{kind: user|schedule|team, id}]}]. Running escalations keep their
    snapshot; new incidents (and switches) page by the new version."""
    _ensure(actor, "escalations.manage_policy")
    name = str(data.get("name") or "").strip()
    if not name:
        raise InvalidInput(_("Name the policy."), fields={"name": _("Required.")})
    if len(name) > 120:
        raise InvalidInput(_("Check the highlighted fields."), fields={"name": _("Too long.")})
    levels = _clean_levels(data.get("levels") or [])
    if not levels:
        raise InvalidInput(
            _("A policy needs at least one level."), fields={"levels": _("Add a level.")}
        )
    fields = {
        "name": name,
        "description": str(data.get("description") or "")[:4000],
        "team": _team(data.get("team")),
        "repeat": _int(data.get("repeat", 0) or 0, "repeat", 0, MAX_REPEAT),
        "final_user": _responder(data.get("final_user"), "final_user"),
    }
    if policy_id is None:
        policy = EscalationPolicy.objects.create(**fields)
    else:
        policy = EscalationPolicy.objects.select_for_update().filter(id=policy_id).first()
        if policy is None:
            raise InvalidInput(_("No such policy."))
        for key, value in fields.items():
            setattr(policy, key, value)
        policy.save()
        PolicyLevel.objects.filter(policy=policy).delete()
    for position, (wait, targets) in enumerate(levels):
        level = PolicyLevel.objects.create(policy=policy, position=position, wait_minutes=wait)
        LevelTarget.objects.bulk_create(
            LevelTarget(level=level, kind=kind, **{f"{kind}_id": target_id})
            for kind, target_id in targets
        )
    return policy


@transaction.atomic
def policy_delete(*, actor, policy_id: int) -> None:
    """Delete a policy no routing rule uses. Escalations that ran by it keep
    their snapshot (and their history)."""
    _ensure(actor, "escalations.manage_policy")
    policy = EscalationPolicy.objects.select_for_update().filter(id=policy_id).first()
    if policy is None:
        return
    if policy.routes.exists():
        raise InUse(_("Routing rules use this policy: point them elsewhere first."))
    policy.delete()


# --- Routing rules -------------------------------------------------------------------


def _codes(values, allowed: set[str], field: str) -> list[str]:
    if values in (None, ""):
        return []
    if isinstance(values, str):
        values = [v for v in values.split(",") if v.strip()]
    if not isinstance(values, list | tuple):
        raise InvalidInput(_("Check the highlighted fields."), fields={field: _("A list.")})
    cleaned = []
    for value in values:
        value = str(value).strip()
        if value not in allowed:
            raise InvalidInput(
                _("Check the highlighted fields."),
                fields={field: _("Unknown: %(value)s.") % {"value": value}},
            )
        if value not in cleaned:
            cleaned.append(value)
    return cleaned


@transaction.atomic
def routing_rule_save(*, actor, rule_id: int | None = None, data: dict) -> RoutingRule:
    """Create or change a routing rule. `data`: policy (id), severities and
    categories (codes; empty means any), team (id or empty), position
    (optional: new rules go last)."""
    _ensure(actor, "escalations.manage_policy")
    policy = None
    if data.get("policy") not in (None, ""):
        policy = EscalationPolicy.objects.filter(id=_id(data["policy"], "policy")).first()
    if policy is None:
        raise InvalidInput(_("Choose a policy."), fields={"policy": _("Required.")})
    fields = {
        "policy": policy,
        "severities": _codes(data.get("severities"), {s.value for s in Severity}, "severities"),
        "categories": _codes(
            data.get("categories"),
            set(Category.objects.values_list("code", flat=True)),
            "categories",
        ),
        "team": _team(data.get("team")),
    }
    if rule_id is None:
        if data.get("position") in (None, ""):
            last = RoutingRule.objects.aggregate(m=Max("position"))["m"]
            fields["position"] = 0 if last is None else last + 1
        else:
            fields["position"] = _int(data["position"], "position", 0, 10_000)
        return RoutingRule.objects.create(**fields)
    rule = RoutingRule.objects.select_for_update().filter(id=rule_id).first()
    if rule is None:
        raise InvalidInput(_("No such routing rule."))
    if data.get("position") not in (None, ""):
        fields["position"] = _int(data["position"], "position", 0, 10_000)
    for key, value in fields.items():
        setattr(rule, key, value)
    rule.save()
    return rule


@transaction.atomic
def routing_rule_delete(*, actor, rule_id: int) -> None:
    _ensure(actor, "escalations.manage_policy")
    RoutingRule.objects.filter(id=rule_id).delete()


@transaction.atomic
def routing_rule_move(*, actor, rule_id: int, by: int) -> list[int]:
    """Move a rule up (by=-1) or down (by=1) in the order the first match is
    taken; positions are renumbered 0..n-1. Returns the new order."""
    _ensure(actor, "escalations.manage_policy")
    order = list(
        RoutingRule.objects.select_for_update()
        .order_by("position", "id")
        .values_list("id", flat=True)
    )
    if rule_id not in order:
        raise InvalidInput(_("No such routing rule."))
    i = order.index(rule_id)
    j = max(0, min(len(order) - 1, i + by))
    order.insert(j, order.pop(i))
    for position, rid in enumerate(order):
        RoutingRule.objects.filter(id=rid).exclude(position=position).update(position=position)
    return order


# --- A person's contact methods, rules and quiet hours ---------------------------------


def _person(actor, user_id: int):
    person = get_user_model().objects.filter(id=user_id).first()
    if person is None or not actor.has_perm("escalations.manage_contacts", person):
        raise NotAllowed(_("You may only change your own notification settings."))
    return person


def check_address(channel: str, address: str) -> str:
    address = (address or "").strip()
    field = {"address": _("Required.")}
    if not address:
        raise InvalidInput(_("Enter where to send it."), fields=field)
    try:
        if channel == "email":
            EmailValidator()(address)
        elif channel in ("sms", "voice"):
            compact = re.sub(r"[\s\-()]", "", address)
            if not PHONE.match(compact):
                raise ValidationError("phone")
            address = compact
        elif channel in URL_CHANNELS:
            URLValidator(schemes=["https", "http"])(address)
        else:
            raise InvalidInput(_("Choose a channel."), fields={"channel": _("Unknown channel.")})
    except ValidationError:
        hint = {
            "email": _("An e-mail address, e.g. ops@example.com."),
            "sms": _("A phone number in international form, e.g. +8613800138000."),
            "voice": _("A phone number in international form, e.g. +8613800138000."),
        }.get(channel, _("An http(s) URL of the robot or endpoint."))
        raise InvalidInput(_("Check the address."), fields={"address": hint}) from None
    return address


@transaction.atomic
def contact_method_save(
    *, actor, user_id: int, method_id: int | None = None, data: dict
) -> ContactMethod:
    """Add or change a contact method. A blank `secret` on change keeps the
    stored one (it is never shown back); `clear_secret` removes it."""
    person = _person(actor, user_id)
    channel = str(data.get("channel") or "")
    if channel not in ContactMethod.Channel.values:
        raise InvalidInput(_("Choose a channel."), fields={"channel": _("Unknown channel.")})
    address = check_address(channel, str(data.get("address") or ""))
    secret = str(data.get("secret") or "").strip()
    if len(secret) > 200:
        raise InvalidInput(_("Check the highlighted fields."), fields={"secret": _("Too long.")})
    enabled = data.get("enabled", True)
    enabled = enabled not in (False, "false", "0", "off", "", None)
    if method_id is None:
        return ContactMethod.objects.create(
            user=person, channel=channel, address=address, secret=secret, enabled=enabled
        )
    method = ContactMethod.objects.select_for_update().filter(id=method_id, user=person).first()
    if method is None:
        raise InvalidInput(_("No such contact method."))
    method.channel, method.address, method.enabled = channel, address, enabled
    if secret:
        method.secret = secret
    elif data.get("clear_secret"):
        method.secret = ""  # clearing it, not a password  # nosec B105
    method.save()
    return method


@transaction.atomic
def contact_method_delete(*, actor, user_id: int, method_id: int) -> None:
    person = _person(actor, user_id)
    method = ContactMethod.objects.filter(id=method_id, user=person).first()
    if method is None:
        return
    if (
        not ContactMethod.objects.filter(user=person, channel=method.channel)
        .exclude(id=method.id)
        .exists()
    ):
        NotificationRule.objects.filter(user=person, channel=method.channel).delete()
    method.delete()


def contact_method_test(*, actor, user_id: int, method_id: int) -> str:
    """Send a test message now through the method's provider; returns the
    provider's id, or raises ConfigError with the provider's refusal."""
    person = _person(actor, user_id)
    method = ContactMethod.objects.filter(id=method_id, user=person).first()
    if method is None:
        raise InvalidInput(_("No such contact method."))
    base = settings.TSCC_BASE_URL.rstrip("/")
    message = Message(
        title=_("TSCC test notification"),
        text=_("This is a test. If you can read it, TSCC can page you here."),
        url=f"{base}/escalations/me/",
        ack_url=f"{base}/escalations/me/",
        idempotency_key=f"test-{method.id}-{person.id}",
    )
    try:
        return adapter_for(method.channel)(
            Target(person.id, method.address, method.secret), message
        )
    except DeliveryError as exc:
        raise ConfigError(
            _("The test did not go through: %(error)s") % {"error": str(exc)[:200]},
            code="delivery_failed",
        ) from None


@transaction.atomic
def notification_rule_save(
    *, actor, user_id: int, rule_id: int | None = None, data: dict
) -> NotificationRule:
    """`data`: channel ("app" or one of the person's contact-method
    channels), delay_minutes (0-120), urgency ("high" or "low")."""
    person = _person(actor, user_id)
    channel = str(data.get("channel") or "")
    if channel != "app" and not ContactMethod.objects.filter(user=person, channel=channel).exists():
        raise InvalidInput(
            _("Add a contact method for this channel first."),
            fields={"channel": _("No contact method for this channel.")},
        )
    urgency = str(data.get("urgency") or "")
    if urgency not in {u.value for u in Urgency}:
        raise InvalidInput(
            _("Check the highlighted fields."), fields={"urgency": _("High or low.")}
        )
    delay = _int(data.get("delay_minutes", 0) or 0, "delay_minutes", 0, MAX_DELAY_MINUTES)
    if rule_id is None:
        return NotificationRule.objects.create(
            user=person, channel=channel, delay_minutes=delay, urgency=urgency
        )
    rule = NotificationRule.objects.select_for_update().filter(id=rule_id, user=person).first()
    if rule is None:
        raise InvalidInput(_("No such notification rule."))
    rule.channel, rule.delay_minutes, rule.urgency = channel, delay, urgency
    rule.save()
    return rule


@transaction.atomic
def notification_rule_delete(*, actor, user_id: int, rule_id: int) -> None:
    person = _person(actor, user_id)
    NotificationRule.objects.filter(id=rule_id, user=person).delete()


def _time(value, field: str) -> time:
    if isinstance(value, time):
        return value
    try:
        return time.fromisoformat(str(value))
    except ValueError:
        raise InvalidInput(
            _("Check the highlighted fields."), fields={field: _("A time such as 22:00.")}
        ) from None


@transaction.atomic
def quiet_hours_save(*, actor, user_id: int, data: dict) -> QuietHours | None:
    """Set (start, end, in the person's own zone) or clear (enabled false or
    no times) a person's quiet hours. SEV0 and SEV1 ignore them."""
    person = _person(actor, user_id)
    enabled = data.get("enabled", True) not in (False, "false", "0", "off", "", None)
    if not enabled or not (data.get("start") or data.get("end")):
        QuietHours.objects.filter(user=person).delete()
        return None
    start, end = _time(data.get("start"), "start"), _time(data.get("end"), "end")
    if start == end:
        raise InvalidInput(
            _("Quiet hours must start and end at different times."),
            fields={"end": _("Different from the start.")},
        )
    quiet, _created = QuietHours.objects.update_or_create(
        user=person, defaults={"start": start, "end": end, "enabled": True}
    )
    return quiet
