"""Writes that concern people and teams."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction

from tscc.models import User

PREFERENCE_FIELDS = frozenset({"display_name", "language", "time_zone", "phone"})


@transaction.atomic
def user_update_preferences(*, actor: User, user: User, **fields) -> User:
    """Change a user's own preferences. Only the user (or an admin) may."""
    if actor.pk != user.pk and not actor.has_perm("tscc.use_admin"):
        raise PermissionDenied
    unknown = set(fields) - PREFERENCE_FIELDS
    assert not unknown, f"user_update_preferences got unknown fields {sorted(unknown)}"
    for name, value in fields.items():
        setattr(user, name, value)
    user.full_clean(exclude=["password", "username"])
    user.save(update_fields=sorted(fields))
    return user


def user_set_language(*, user: User, language: str) -> None:
    if language not in {code for code, _ in settings.LANGUAGES}:
        raise ValueError(f"unsupported language {language!r}")
    if user.is_authenticated and user.language != language:
        user_update_preferences(actor=user, user=user, language=language)
