"""Who may do what to an incident (django-rules; autodiscovered).

Ops managers and admins do everything; responders act on incidents they take
part in or their team owns, and may join any; executives read; BPO leads see
only incidents linked to their vendor (vendors issue), nothing yet.
"""

from __future__ import annotations

import rules

from tscc.rules import is_admin, is_executive, is_operations, is_ops_manager, is_responder


@rules.predicate
def is_member(user, incident) -> bool:
    """Holds a role, takes part, declared it, or belongs to the owning team."""
    if incident is None or not user.is_authenticated:
        return False
    from incidents.selectors import incident_member_ids

    return user.id in incident_member_ids(incident)


@rules.predicate
def is_commander(user, incident) -> bool:
    if incident is None or not user.is_authenticated:
        return False
    from incidents.selectors import incident_command_ids

    return user.id in incident_command_ids(incident)


@rules.predicate
def is_regulatory_liaison(user, incident) -> bool:
    if incident is None or not user.is_authenticated:
        return False
    from incidents.selectors import incident_role_holder_id

    return incident_role_holder_id(incident, "regulatory_liaison") == user.id


manages = is_ops_manager | is_admin
can_view = is_operations | is_executive

rules.add_perm("incidents.view_incident", can_view)
rules.add_perm("incidents.declare", is_operations)
rules.add_perm("incidents.join", is_operations)
rules.add_perm("incidents.act", manages | (is_responder & is_member))
rules.add_perm("incidents.command", manages | (is_responder & is_commander))
rules.add_perm("incidents.manage_reports", manages | (is_responder & is_regulatory_liaison))
