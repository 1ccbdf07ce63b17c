"""Who may configure paging (django-rules; autodiscovered).

Everyone in operations reads policies and routing; ops managers and admins
change them. A person manages their own contact methods, notification rules
and quiet hours; an admin may manage anyone's (e.g. to set up a new hire)."""

from __future__ import annotations

import rules

from tscc.rules import is_admin, is_operations, is_ops_manager


@rules.predicate
def is_self(user, person) -> bool:
    return person is not None and user.is_authenticated and user.pk == person.pk


rules.add_perm("escalations.view_policy", is_operations)
rules.add_perm("escalations.manage_policy", is_ops_manager | is_admin)
rules.add_perm("escalations.manage_contacts", (is_operations & is_self) | is_admin)
