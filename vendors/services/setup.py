"""Setting vendors up: vendors, sites, queues, memberships and tokens. Ops
managers and admins only (vendors.manage)."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tscc.exceptions import InvalidInput
from tscc.roles import OPERATIONS_ROLES, Role
from vendors.exceptions import NotFound
from vendors.models import (
    MAX_ESCALATION_LEVELS,
    Queue,
    Site,
    Vendor,
    VendorEscalationLevel,
    VendorMembership,
    VendorToken,
)
from vendors.services import hotpath
from vendors.services.common import apply_and_save, ensure, get_visible

TOKEN_PREFIX = "vnd_"  # noqa: S105 (a prefix, not a secret)  # nosec B105
TOKEN_TOUCH_EVERY = 60  # seconds between last_used_at writes
MAX_LEVEL_WAIT = 24 * 60  # minutes a level of a vendor's escalation policy may wait

VENDOR_FIELDS = (
    "code",
    "name",
    "name_zh",
    "contract_ref",
    "contract_start",
    "contract_end",
    "languages",
    "markets",
    "contacts",
    "team",
    "owner",
    "is_active",
)
SITE_FIELDS = ("name", "name_zh", "city", "country", "time_zone", "seats", "is_active")
QUEUE_FIELDS = (
    "site",
    "code",
    "name",
    "name_zh",
    "content_type",
    "market",
    "language",
    "policy_area",
    "sla_percent",
    "sla_minutes",
    "planned_headcount",
    "staffed_from",
    "staffed_to",
    "staffed_days",
    "stale_after_minutes",
    "warn_attainment",
    "is_active",
)


@transaction.atomic
def vendor_create(*, actor, **fields: Any) -> Vendor:
    """A new vendor. Fields: those of Vendor (code, name, … team, owner).
    The owner must be an operations user: trouble incidents are declared in
    their name."""
    ensure(actor, "vendors.manage")
    levels = fields.pop("escalation_levels", None)
    vendor = apply_and_save(Vendor(), fields, allowed=VENDOR_FIELDS, message=_("Check the vendor."))
    if levels is not None:
        _set_levels_as_field(actor, vendor, levels)
    return vendor


@transaction.atomic
def vendor_update(*, actor, vendor_id: int, **fields: Any) -> Vendor:
    """Change a vendor's fields; `escalation_levels` (see
    vendor_set_escalation_levels) replaces its escalation policy."""
    ensure(actor, "vendors.manage")
    vendor = get_visible(actor, Vendor, vendor_id, lock=True)
    levels = fields.pop("escalation_levels", None)
    vendor = apply_and_save(vendor, fields, allowed=VENDOR_FIELDS, message=_("Check the vendor."))
    if levels is not None:
        _set_levels_as_field(actor, vendor, levels)
    return vendor


def _set_levels_as_field(actor, vendor: Vendor, levels) -> None:
    """vendor_set_escalation_levels for vendor_create/update, whose field is
    `escalation_levels`: its errors are named so."""
    try:
        vendor_set_escalation_levels(actor=actor, vendor_id=vendor.id, levels=levels)
    except InvalidInput as error:
        raise InvalidInput(
            error.message,
            fields={f"escalation_{name}": text for name, text in error.fields.items()},
        ) from None


def _level_people(raw, errors: dict, name: str) -> list[int]:
    if not isinstance(raw, list | tuple):
        errors[name] = _("Not a valid choice.")
        return []
    try:
        return list(dict.fromkeys(int(i) for i in raw))
    except (TypeError, ValueError):
        errors[name] = _("Not a valid choice.")
        return []


def _level_wait(raw, errors: dict, name: str) -> int:
    try:
        wait = int(raw)
    except (TypeError, ValueError):
        wait = 0
    if isinstance(raw, bool) or isinstance(raw, float) and not raw.is_integer():
        wait = 0
    if wait < 1:
        errors[name] = _("Wait at least one minute.")
    elif wait > MAX_LEVEL_WAIT:
        errors[name] = _("At most %(n)s minutes.") % {"n": MAX_LEVEL_WAIT}
    return wait


@transaction.atomic
def vendor_set_escalation_levels(*, actor, vendor_id: int, levels) -> Vendor:
    """The vendor's own escalation policy, replacing the one it had (an
    empty list: none). `levels` is [{"wait_minutes": int >= 1, "user_ids":
    [int, ...]}, ...], level 1 first, at most MAX_ESCALATION_LEVELS; each
    level pages at least one active operations person. When trouble at the
    vendor opens an incident, level 1 is paged at once (beside the owning
    team's policy) and each next level after the previous one's wait, unless
    someone acknowledged. Errors by field: "levels" and
    "levels.<n>.wait_minutes" / "levels.<n>.user_ids", n counting from 1."""
    ensure(actor, "vendors.manage")
    vendor = get_visible(actor, Vendor, vendor_id, lock=True)
    message = _("Check the escalation policy.")
    if not isinstance(levels, list | tuple):
        raise InvalidInput(message, fields={"levels": _("Give a list of levels.")})
    if len(levels) > MAX_ESCALATION_LEVELS:
        raise InvalidInput(
            message,
            fields={"levels": _("At most %(n)s levels.") % {"n": MAX_ESCALATION_LEVELS}},
        )
    errors: dict[str, str] = {}
    wanted = []
    for n, level in enumerate(levels, start=1):
        if not isinstance(level, dict):
            errors[f"levels.{n}"] = _("Give the level's wait and people.")
            continue
        wait = _level_wait(level.get("wait_minutes", 10), errors, f"levels.{n}.wait_minutes")
        ids = _level_people(level.get("user_ids"), errors, f"levels.{n}.user_ids")
        wanted.append((n, wait, ids))
    everyone = {uid for _n, _wait, ids in wanted for uid in ids}
    people = {
        u.id: u
        for u in get_user_model().objects.filter(
            id__in=everyone, is_active=True, role__in=[str(r) for r in OPERATIONS_ROLES]
        )
    }
    for n, _wait, ids in wanted:
        name = f"levels.{n}.user_ids"
        if name in errors:
            continue
        if not ids:
            errors[name] = _("Choose at least one person.")
        elif any(uid not in people for uid in ids):
            errors[name] = _("Only active people in operations can be paged.")
    if errors:
        raise InvalidInput(message, fields=errors)
    vendor.escalation_levels.all().delete()
    for n, wait, ids in wanted:
        level = VendorEscalationLevel.objects.create(vendor=vendor, position=n, wait_minutes=wait)
        level.users.set([people[uid] for uid in ids])
    return vendor


@transaction.atomic
def site_create(*, actor, vendor_id: int, **fields: Any) -> Site:
    """A new site of the vendor, operational."""
    ensure(actor, "vendors.manage")
    vendor = get_visible(actor, Vendor, vendor_id)
    return apply_and_save(
        Site(vendor=vendor), fields, allowed=SITE_FIELDS, message=_("Check the site.")
    )


@transaction.atomic
def site_update(*, actor, site_id: int, **fields: Any) -> Site:
    """Change a site's details (its status changes through site_status_change)."""
    ensure(actor, "vendors.manage")
    site = get_visible(actor, Site, site_id, lock=True)
    return apply_and_save(site, fields, allowed=SITE_FIELDS, message=_("Check the site."))


def _queue_site(vendor: Vendor, fields: dict[str, Any]) -> None:
    site = fields.get("site")
    if isinstance(site, int):
        fields["site"] = site = Site.objects.filter(id=site).first()
        if site is None:
            raise InvalidInput(_("Check the queue."), fields={"site": _("No such site.")})
    if site is not None and site.vendor_id != vendor.id:
        raise InvalidInput(
            _("Check the queue."), fields={"site": _("The site belongs to another vendor.")}
        )


def _save_queue(queue: Queue, fields: dict[str, Any]) -> Queue:
    code = fields.get("code")
    if (
        isinstance(code, str)
        and Queue.objects.filter(vendor_id=queue.vendor_id, code=code.strip())
        .exclude(id=queue.id)
        .exists()
    ):
        raise InvalidInput(
            _("Check the queue."),
            fields={"code": _("This vendor already has a queue with this code.")},
        )
    try:
        with transaction.atomic():
            return apply_and_save(
                queue, fields, allowed=QUEUE_FIELDS, message=_("Check the queue.")
            )
    except IntegrityError:  # created concurrently
        raise InvalidInput(
            _("Check the queue."),
            fields={"code": _("This vendor already has a queue with this code.")},
        ) from None


@transaction.atomic
def queue_create(*, actor, vendor_id: int, **fields: Any) -> Queue:
    """A new queue of the vendor; its site (optional) must be the vendor's."""
    ensure(actor, "vendors.manage")
    vendor = get_visible(actor, Vendor, vendor_id)
    _queue_site(vendor, fields)
    return _save_queue(Queue(vendor=vendor), fields)


@transaction.atomic
def queue_update(*, actor, queue_id: int, **fields: Any) -> Queue:
    ensure(actor, "vendors.manage")
    queue = get_visible(actor, Queue, queue_id, lock=True)
    _queue_site(queue.vendor, fields)
    return _save_queue(queue, fields)


# --- memberships ------------------------------------------------------------


@transaction.atomic
def membership_set(
    *, actor, vendor_id: int, user_id: int, role: str = VendorMembership.Role.LEAD
) -> VendorMembership:
    """Make the user a lead or agent of the vendor (creates or changes the
    membership). A lead who reports must hold the BPO lead role."""
    ensure(actor, "vendors.manage")
    vendor = get_visible(actor, Vendor, vendor_id)
    user = get_user_model().objects.filter(id=user_id, is_active=True).first()
    if user is None:
        raise InvalidInput(_("Check the membership."), fields={"user": _("No such user.")})
    if role not in VendorMembership.Role.values:
        raise InvalidInput(_("Check the membership."), fields={"role": _("Unknown role.")})
    if user.role != Role.BPO_LEAD:
        raise InvalidInput(
            _("Check the membership."),
            fields={"user": _("Only people with the BPO lead role belong to a vendor.")},
        )
    membership, _created = VendorMembership.objects.update_or_create(
        user=user, vendor=vendor, defaults={"role": role}
    )
    return membership


@transaction.atomic
def membership_remove(*, actor, membership_id: int) -> None:
    ensure(actor, "vendors.manage")
    deleted, _rows = VendorMembership.objects.filter(id=membership_id).delete()
    if not deleted:
        raise NotFound(_("No such membership."))


# --- tokens -----------------------------------------------------------------


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def token_create(*, actor, vendor_id: int, name: str) -> tuple[VendorToken, str]:
    """A new token for the vendor's own systems and its secret, returned this
    once (only its SHA-256 is kept). The token reports for that vendor only."""
    ensure(actor, "vendors.manage")
    vendor = get_visible(actor, Vendor, vendor_id)
    name = (name or "").strip()
    if not name:
        raise InvalidInput(_("Name the token."), fields={"name": _("Required.")})
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = VendorToken.objects.create(
        vendor=vendor,
        name=name[:120],
        prefix=secret[:8],
        key_hash=token_hash(secret),
        created_by=actor,
    )
    return token, secret


@transaction.atomic
def token_revoke(*, actor, token_id: int) -> VendorToken:
    """Revoke a token now (idempotent: a revoked token keeps its first date)."""
    ensure(actor, "vendors.manage")
    token = VendorToken.objects.select_for_update().filter(id=token_id).first()
    if token is None:
        raise NotFound(_("No such token."))
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def token_authenticate(secret: str) -> VendorToken | None:
    """The usable token for a presented secret, else None. The lookup is by
    the secret's SHA-256 (an index lookup on a hash, so no timing of string
    comparison leaks the secret); last_used_at is written at most once a
    minute."""
    if not secret or not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    # One SQL statement (every API call of a vendor's systems starts here).
    token = hotpath.usable_token(token_hash(secret))
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > TOKEN_TOUCH_EVERY:
        VendorToken.objects.filter(id=token.id).update(last_used_at=now)
        token.last_used_at = now
    return token
