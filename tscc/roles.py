"""The roles people have in TSCC. Pure: no ORM, no settings."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    OPS_MANAGER = "ops_manager"
    RESPONDER = "responder"
    BPO_LEAD = "bpo_lead"
    EXECUTIVE = "executive"
    ADMIN = "admin"


# Roles that work incidents (as opposed to reading summaries or a vendor portal).
OPERATIONS_ROLES = frozenset({Role.OPS_MANAGER, Role.RESPONDER, Role.ADMIN})
