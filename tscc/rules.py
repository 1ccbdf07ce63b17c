"""Who may do what: the project's one policy module (django-rules).

Views, the API and websocket consumers all ask `user.has_perm(name, obj)`;
each app adds its own rules in its `rules.py`, built from these predicates.
"""

from __future__ import annotations

import rules

from tscc.roles import OPERATIONS_ROLES, Role


def _has_role(*roles: Role):
    allowed = frozenset(roles)

    @rules.predicate(name=f"has_role({','.join(sorted(allowed))})")
    def predicate(user) -> bool:
        return bool(user and user.is_authenticated and user.is_active and user.role in allowed)

    return predicate


is_ops_manager = _has_role(Role.OPS_MANAGER)
is_responder = _has_role(Role.RESPONDER)
is_bpo_lead = _has_role(Role.BPO_LEAD)
is_executive = _has_role(Role.EXECUTIVE)
is_admin = _has_role(Role.ADMIN) | rules.is_superuser
is_operations = _has_role(*OPERATIONS_ROLES) | rules.is_superuser
can_read_summaries = is_executive | is_ops_manager | is_admin

# Screens of the shell; the apps add rules on their own objects.
rules.add_perm("tscc.view_incidents", is_operations | is_executive)
rules.add_perm("tscc.view_oncall", is_operations)
rules.add_perm("tscc.view_vendor_board", is_operations | is_executive)
rules.add_perm("tscc.view_vendor_portal", is_bpo_lead)
rules.add_perm("tscc.view_summaries", can_read_summaries)
rules.add_perm("tscc.use_admin", is_admin)
rules.add_perm("tscc.view_api_docs", rules.is_authenticated & ~is_bpo_lead)
