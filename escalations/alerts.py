"""Inbound alerts from monitoring tools: integrations with their own bearer
tokens, payload parsers (generic JSON, Prometheus Alertmanager webhook v4) and
`alert_receive`, which deduplicates by key and opens or updates an incident.

A new firing key declares an incident as the integration's creator (the
incident_declared signal then starts paging by the routing rules); a repeated
key counts, noting every 10th repeat on the timeline; a resolved key is
recorded and noted, but the incident is left for people to resolve."""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from escalations.models import Alert, Integration
from incidents.domain.lifecycle import DONE_STATES
from incidents.domain.severity import ImpactAnswers, Severity
from incidents.exceptions import InvalidInput
from incidents.models import Category, Incident
from incidents.services import Declaration, incident_add_note, incident_declare
from tscc.exceptions import ApplicationError
from tscc.roles import Role

TOKEN_PREFIX = "int_"  # noqa: S105 (a prefix, not a secret)  # nosec B105
MAX_ITEMS = 200
NOTE_EVERY = 10  # a repeated alert is noted on the timeline every 10th repeat
TITLE_MAX = 200
KEY_MAX = 255
ALERTMANAGER_SEVERITY = {
    "critical": Severity.SEV1,
    "warning": Severity.SEV3,
    "info": Severity.SEV4,
}
MANAGERS = frozenset({Role.OPS_MANAGER, Role.ADMIN})


class NotAllowed(ApplicationError):
    code = "not_allowed"
    http_status = 403


class PayloadInvalid(ValueError):
    """The body is not a payload of the integration's kind; the message says why."""


@dataclass
class AlertItem:
    """One alert, whatever tool sent it."""

    dedup_key: str
    status: str  # "firing" or "resolved"
    title: str
    summary: str = ""
    severity: Severity | None = None
    labels: dict = field(default_factory=dict)
    payload: dict = field(default_factory=dict)


# --- integrations -----------------------------------------------------------


def integration_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def integration_create(
    *,
    actor,
    name: str,
    kind: str = Integration.Kind.GENERIC,
    default_category: str = "tooling_outage",
    default_severity: str = Severity.SEV2,
    team=None,
) -> tuple[Integration, str]:
    """A new integration and its token, shown this once (only its hash is kept).
    Its alerts are declared as `actor`, so only ops managers and admins may."""
    if getattr(actor, "role", None) not in MANAGERS:
        raise NotAllowed(_("Only ops managers and admins can add integrations."))
    if not name.strip():
        raise InvalidInput(_("Name the integration."), fields={"name": _("Required.")})
    if kind not in Integration.Kind.values:
        raise InvalidInput(_("Unknown integration kind."), fields={"kind": _("Unknown.")})
    if not Category.objects.filter(code=default_category).exists():
        raise InvalidInput(
            _("Unknown category."), fields={"default_category": _("Unknown category code.")}
        )
    if default_severity not in Severity.__members__.values():
        raise InvalidInput(
            _("Unknown severity."), fields={"default_severity": _("Use sev0 to sev4.")}
        )
    token = TOKEN_PREFIX + secrets.token_urlsafe(24)
    integration = Integration.objects.create(
        name=name.strip(),
        kind=kind,
        token_hash=integration_token_hash(token),
        prefix=token[:10],
        default_category=default_category,
        default_severity=default_severity,
        team=team,
        created_by=actor,
    )
    return integration, token


# --- parsers ----------------------------------------------------------------


def _key(value: str) -> str:
    """A dedup key that fits the column: long keys are replaced by their hash."""
    return value if len(value) <= KEY_MAX else hashlib.sha256(value.encode()).hexdigest()


def _severity(value, *, strict: bool) -> Severity | None:
    if value in (None, ""):
        return None
    text = str(value).strip().lower()
    if text in Severity.__members__.values():
        return Severity(text)
    if text in ALERTMANAGER_SEVERITY:
        return ALERTMANAGER_SEVERITY[text]
    if strict:
        raise PayloadInvalid(f"severity must be one of sev0-sev4, not {value!r}.")
    return None


def _text(obj: dict, name: str, where: str) -> str:
    value = obj.get(name, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise PayloadInvalid(f"{where}{name} must be a string.")
    return value.strip()


def _status(value, where: str) -> str:
    if value in (None, ""):
        return Alert.Status.FIRING
    if value not in Alert.Status.values:
        raise PayloadInvalid(f'{where}status must be "firing" or "resolved", not {value!r}.')
    return value


def _labels(value, where: str, name: str = "labels") -> dict:
    if value in (None, ""):
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise PayloadInvalid(f"{where}{name} must be an object of strings.")
    return value


def parse_generic(body) -> list[AlertItem]:
    """`{"dedup_key", "status", "title", "summary", "severity"}`, or a list of them."""
    objects = body if isinstance(body, list) else [body]
    if not objects:
        raise PayloadInvalid("Send at least one alert.")
    if len(objects) > MAX_ITEMS:
        raise PayloadInvalid(f"Send at most {MAX_ITEMS} alerts at once.")
    items = []
    for index, obj in enumerate(objects):
        where = f"[{index}]." if isinstance(body, list) else ""
        if not isinstance(obj, dict):
            raise PayloadInvalid(f"{where or 'The body '}must be a JSON object.")
        title = _text(obj, "title", where)
        key = obj.get("dedup_key")
        if key is not None and not isinstance(key, str | int):
            raise PayloadInvalid(f"{where}dedup_key must be a string.")
        key = str(key).strip() if key is not None else title
        if not key:
            raise PayloadInvalid(f"{where}title (or dedup_key) is required.")
        items.append(
            AlertItem(
                dedup_key=_key(key),
                status=_status(obj.get("status"), where),
                title=title or key,
                summary=_text(obj, "summary", where),
                severity=_severity(obj.get("severity"), strict=True),
                labels=_labels(obj.get("labels"), where),
                payload=obj,
            )
        )
    return items


def parse_alertmanager(body) -> list[AlertItem]:
    """The Alertmanager webhook (version 4): one item per alert in `alerts`."""
    if not isinstance(body, dict) or not isinstance(body.get("alerts"), list):
        raise PayloadInvalid('An Alertmanager webhook is an object with an "alerts" list.')
    if "version" in body and str(body["version"]) != "4":
        raise PayloadInvalid(
            f"Only Alertmanager webhook version 4 is supported, not {body['version']!r}."
        )
    alerts = body["alerts"]
    if not alerts:
        raise PayloadInvalid("The alerts list is empty.")
    if len(alerts) > MAX_ITEMS:
        raise PayloadInvalid(f"Send at most {MAX_ITEMS} alerts at once.")
    group_status = body.get("status")
    items = []
    for index, alert in enumerate(alerts):
        where = f"alerts[{index}]."
        if not isinstance(alert, dict):
            raise PayloadInvalid(f"alerts[{index}] must be an object.")
        labels = _labels(alert.get("labels"), where)
        annotations = _labels(alert.get("annotations"), where, "annotations")
        fingerprint = alert.get("fingerprint")
        if fingerprint is not None and not isinstance(fingerprint, str):
            raise PayloadInvalid(f"{where}fingerprint must be a string.")
        if not fingerprint:
            if not labels:
                raise PayloadInvalid(f"{where}needs a fingerprint or labels.")
            fingerprint = hashlib.sha256(json.dumps(labels, sort_keys=True).encode()).hexdigest()
        name = labels.get("alertname", "").strip() or _("Alert")
        summary = annotations.get("summary", "").strip()
        description = annotations.get("description", "").strip()
        items.append(
            AlertItem(
                dedup_key=_key(fingerprint),
                status=_status(alert.get("status") or group_status, where),
                title=f"{name}: {summary}" if summary else name,
                summary=description or summary,
                severity=_severity(labels.get("severity"), strict=False),
                labels=labels,
                payload=alert,
            )
        )
    return items


def alerts_parse(integration: Integration, body) -> list[AlertItem]:
    """The items of a decoded JSON body, by the integration's kind."""
    if integration.kind == Integration.Kind.ALERTMANAGER:
        return parse_alertmanager(body)
    return parse_generic(body)


# --- receiving --------------------------------------------------------------


def _as_item(item: AlertItem | dict) -> AlertItem:
    if isinstance(item, AlertItem):
        return item
    return AlertItem(
        dedup_key=_key(str(item.get("dedup_key") or item["title"])),
        status=item.get("status") or Alert.Status.FIRING,
        title=item.get("title") or str(item["dedup_key"]),
        summary=item.get("summary", ""),
        severity=_severity(item.get("severity"), strict=True),
        labels=item.get("labels") or {},
        payload=item.get("payload") or dict(item),
    )


def _declare(integration: Integration, item: AlertItem) -> Incident:
    severity = item.severity or Severity(integration.default_severity)
    return incident_declare(
        actor=integration.created_by,
        declaration=Declaration(
            title=item.title[:TITLE_MAX],
            summary=item.summary,
            category=Category.objects.get(code=integration.default_category),
            answers=ImpactAnswers(),
            severity=severity,
            severity_reason=_("Set by integration %(name)s") % {"name": integration.name},
            team=integration.team,
        ),
    )


def _note(integration: Integration, alert: Alert, text: str) -> None:
    if alert.incident_id is None:
        return
    incident_add_note(actor=integration.created_by, incident_id=alert.incident_id, text=text)


def _is_open(alert: Alert) -> bool:
    return alert.incident is not None and alert.incident.state not in {s.value for s in DONE_STATES}


def _receive_one(integration: Integration, item: AlertItem) -> Alert:
    now = timezone.now()
    alert, created = Alert.objects.select_for_update().get_or_create(
        integration=integration,
        dedup_key=item.dedup_key,
        defaults={
            "status": item.status,
            "payload": item.payload,
            "first_seen_at": now,
            "last_seen_at": now,
            "resolved_at": now if item.status == Alert.Status.RESOLVED else None,
        },
    )
    alert.incident_created = False
    if created:
        if item.status == Alert.Status.FIRING:
            alert.incident = _declare(integration, item)
            alert.save(update_fields=["incident"])
            alert.incident_created = True
        return alert

    alert.last_seen_at = now
    alert.payload = item.payload
    fields = ["last_seen_at", "payload"]
    if item.status == Alert.Status.RESOLVED:
        if alert.status == Alert.Status.FIRING:
            alert.status = Alert.Status.RESOLVED
            alert.resolved_at = now
            fields += ["status", "resolved_at"]
            alert.save(update_fields=fields)
            _note(integration, alert, _("Alert resolved: %(title)s") % {"title": item.title})
        else:
            alert.save(update_fields=fields)
        return alert

    alert.count += 1
    fields.append("count")
    if alert.status == Alert.Status.RESOLVED:
        # Firing again after it resolved: back on its incident if that is
        # still open, else on a new one.
        alert.status = Alert.Status.FIRING
        alert.resolved_at = None
        fields += ["status", "resolved_at"]
        if _is_open(alert):
            alert.save(update_fields=fields)
            _note(integration, alert, _("Alert firing again: %(title)s") % {"title": item.title})
        else:
            alert.incident = _declare(integration, item)
            alert.incident_created = True
            alert.save(update_fields=[*fields, "incident"])
        return alert
    alert.save(update_fields=fields)
    repeats = alert.count - 1
    if repeats % NOTE_EVERY == 0:
        _note(
            integration,
            alert,
            _("Alert repeated %(count)d times: %(title)s")
            % {"count": repeats, "title": item.title},
        )
    return alert


def alert_receive(*, integration: Integration, items: list[AlertItem | dict]) -> list[Alert]:
    """Record each alert in its own transaction, deduplicated by key. Each
    returned Alert carries `incident_created`: whether it opened an incident."""
    received = []
    for raw in items:
        item = _as_item(raw)
        with transaction.atomic():
            received.append(_receive_one(integration, item))
    return received
