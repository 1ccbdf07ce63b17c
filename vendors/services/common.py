"""Building blocks of the vendor services: who is asking, permission checks,
lookups that hide other vendors' objects, and model validation as
InvalidInput."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from tscc.exceptions import InvalidInput, NotAllowed
from vendors.exceptions import NotFound
from vendors.models import Queue, Site, Vendor, VendorToken

MESSAGES = {
    "vendors.view_vendor": _("You cannot see this vendor."),
    "vendors.report": _("Only this vendor's leads or an ops manager can report for it."),
    "vendors.manage": _("Only ops managers and admins can change vendors."),
}
NOT_FOUND = {
    "vendor": _("No such vendor."),
    "site": _("No such site."),
    "queue": _("No such queue."),
}

# Who reports figures: a person, or a vendor's own system through its token.
Actor = Any  # User | VendorToken


def ensure(actor, perm: str, obj=None) -> None:
    """Raise NotAllowed unless `actor` holds `perm` (on `obj`)."""
    if not actor.has_perm(perm, obj):
        raise NotAllowed(str(MESSAGES.get(perm, _("You may not do this."))))


def is_token(actor: Actor) -> bool:
    return isinstance(actor, VendorToken)


def ensure_can_report(actor: Actor, vendor: Vendor) -> None:
    """A token reports for its own vendor only (anything else is not found);
    a person needs vendors.report on the vendor. The caller has already
    hidden vendors the person may not see (NotFound)."""
    if is_token(actor):
        if actor.vendor_id != vendor.id or actor.revoked_at is not None:
            raise NotFound(str(NOT_FOUND["vendor"]))
        return
    ensure(actor, "vendors.report", vendor)


def visible(actor: Actor, model: type[models.Model]) -> models.QuerySet:
    """Rows of `model` (Vendor, Site or Queue) the actor (a person or a
    token) may see: the selectors' permission filter."""
    from vendors import selectors

    return {
        Vendor: selectors.vendors_visible_to,
        Site: selectors.sites_visible_to,
        Queue: selectors.queues_visible_to,
    }[model](actor)


def get_visible(actor: Actor, model: type[models.Model], obj_id, *, lock: bool = False):
    """The object if the actor may see it, else NotFound (the same for
    another vendor's ids as for ids that do not exist)."""
    name = model._meta.model_name
    try:
        obj_id = int(obj_id)
    except (TypeError, ValueError):
        raise NotFound(str(NOT_FOUND[name])) from None
    # By id: no ordering (first() would sort by Meta.ordering, joining
    # the vendor just to order one row).
    qs = visible(actor, model).filter(id=obj_id).order_by()
    if lock:
        qs = qs.select_for_update(of=("self",))
    obj = next(iter(qs[:1]), None)
    if obj is None:
        raise NotFound(str(NOT_FOUND[name]))
    return obj


def validation_fields(error: ValidationError) -> dict[str, str]:
    if hasattr(error, "error_dict"):
        return {
            ("form" if name == "__all__" else name): " ".join(str(m) for m in messages)
            for name, messages in error.message_dict.items()
        }
    return {"form": " ".join(str(m) for m in error.messages)}


def apply_and_save(
    instance: models.Model,
    fields: Mapping[str, Any],
    *,
    allowed: Iterable[str],
    message: str,
    exclude: Iterable[str] = (),
) -> models.Model:
    """Set `fields` (only names in `allowed`), validate the row (full_clean)
    and save it; InvalidInput with per-field messages when it is not valid."""
    allowed = set(allowed)
    unknown = sorted(set(fields) - allowed)
    if unknown:
        raise InvalidInput(
            str(message), fields={name: str(_("Not a field you can set.")) for name in unknown}
        )
    for name, value in fields.items():
        setattr(instance, name, value.strip() if isinstance(value, str) else value)
    try:
        instance.full_clean(exclude=list(exclude))
    except ValidationError as error:
        raise InvalidInput(str(message), fields=validation_fields(error)) from None
    instance.save()
    return instance
