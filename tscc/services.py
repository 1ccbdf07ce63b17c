"""Writes that concern people and teams."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tscc.models import ApiToken, User

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


# --- API tokens ---------------------------------------------------------------

API_TOKEN_PREFIX = "tscc_"  # noqa: S105 - the public marker, not a secret  # nosec B105
# Write last_used_at at most this often, so a busy client does not turn every
# request into a write.
API_TOKEN_TOUCH_SECONDS = 60


def api_token_hash(secret: str) -> str:
    """The stored form of a secret. A plain SHA-256 suffices: the secret is
    256 random bits, so there is nothing to guess that a slow hash would
    protect."""
    return hashlib.sha256(secret.encode()).hexdigest()


def _may_manage_tokens_of(actor: User | None, user: User) -> bool:
    # None: an operator at the shell (management command).
    return actor is None or actor.pk == user.pk or actor.has_perm("tscc.use_admin")


@transaction.atomic
def api_token_create(
    *, actor: User | None, user: User, name: str, expires_at: datetime | None = None
) -> tuple[ApiToken, str]:
    """Create a token for `user` and return it with its secret
    (`tscc_<random>`), which is not stored and cannot be shown again.
    `actor` is the user themselves, an admin, or None for an operator at the
    shell. The token has exactly `user`'s rights, whatever their role."""
    if not _may_manage_tokens_of(actor, user):
        raise PermissionDenied
    name = (name or "").strip()
    errors = {}
    if not name:
        errors["name"] = _("Name the token after the client that will use it.")
    elif len(name) > ApiToken._meta.get_field("name").max_length:
        errors["name"] = _("The name is too long.")
    if expires_at is not None and expires_at <= timezone.now():
        errors["expires_at"] = _("The expiry must be in the future.")
    if not user.is_active:
        errors["user"] = _("This user is inactive.")
    if errors:
        raise ValidationError(errors)
    random_part = secrets.token_urlsafe(32)
    secret = API_TOKEN_PREFIX + random_part
    token = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=random_part[:8],
        key_hash=api_token_hash(secret),
        created_by=actor,
        expires_at=expires_at,
    )
    return token, secret


@transaction.atomic
def api_token_revoke(*, actor: User | None, token: ApiToken) -> ApiToken:
    """Revoke a token from now on. Idempotent: a revoked token keeps its
    first revocation time. Allowed to its user and to admins."""
    if not _may_manage_tokens_of(actor, token.user):
        raise PermissionDenied
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=token.revoked_at
        )
    return token


def api_token_mark_used(*, token: ApiToken, now: datetime) -> None:
    """Record that the token was used, at most once a minute per token."""
    last = token.last_used_at
    if last is not None and (now - last).total_seconds() < API_TOKEN_TOUCH_SECONDS:
        return
    token.last_used_at = now
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
