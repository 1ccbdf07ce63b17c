"""Personal notification rules: which channels, after which delay, for a
page of a given urgency; quiet hours never hold back the highest severities."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo


class Urgency(StrEnum):
    HIGH = "high"
    LOW = "low"


@dataclass(frozen=True)
class Rule:
    channel: str  # "app", "email", "sms", "voice", "feishu", ...
    delay_minutes: int
    urgency: Urgency


@dataclass(frozen=True)
class QuietHours:
    start: time
    end: time  # end <= start wraps past midnight
    time_zone: str

    def contains(self, moment: datetime) -> bool:
        local = moment.astimezone(ZoneInfo(self.time_zone)).time()
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def ends_after(self, moment: datetime) -> datetime:
        """The first instant at or after `moment` outside quiet hours."""
        zone = ZoneInfo(self.time_zone)
        local = moment.astimezone(zone)
        candidate = local.replace(
            hour=self.end.hour, minute=self.end.minute, second=0, microsecond=0
        )
        if candidate <= local:
            candidate += timedelta(days=1)
        return candidate if self.contains(moment) else moment


DEFAULT_RULES = (
    # [P] app at once, SMS after 1 minute, a call after 3 for high urgency;
    # app then e-mail after 5 for low urgency.
    Rule("app", 0, Urgency.HIGH),
    Rule("sms", 1, Urgency.HIGH),
    Rule("voice", 3, Urgency.HIGH),
    Rule("app", 0, Urgency.LOW),
    Rule("email", 5, Urgency.LOW),
)


def plan_notifications(
    rules: tuple[Rule, ...],
    *,
    paged_at: datetime,
    urgency: Urgency,
    highest_severity: bool,
    quiet: QuietHours | None = None,
) -> list[tuple[str, datetime]]:
    """(channel, when) for one person's page, in time order. A person with no
    rule for this urgency gets the defaults (so a page always reaches them);
    quiet hours delay low-urgency sends, never a page of the highest
    severities."""
    assert paged_at.tzinfo is not None, "paged_at must be timezone-aware"
    chosen = [r for r in rules if r.urgency == urgency] or [
        r for r in DEFAULT_RULES if r.urgency == urgency
    ]
    plan = []
    for rule in chosen:
        at = paged_at + timedelta(minutes=rule.delay_minutes)
        if quiet is not None and not highest_severity and urgency is Urgency.LOW:
            at = quiet.ends_after(at)
        plan.append((rule.channel, at))
    return sorted(plan, key=lambda item: (item[1], item[0]))


def urgency_for(severity: str) -> Urgency:
    """SEV0-SEV2 page with high urgency; SEV3-SEV4 with low [P]."""
    return Urgency.HIGH if severity in ("sev0", "sev1", "sev2") else Urgency.LOW
