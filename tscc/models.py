from __future__ import annotations

import zoneinfo

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from tscc.roles import Role

ROLE_LABELS = {
    Role.OPS_MANAGER: _("Ops manager"),
    Role.RESPONDER: _("Responder"),
    Role.BPO_LEAD: _("BPO lead"),
    Role.EXECUTIVE: _("Executive"),
    Role.ADMIN: _("Admin"),
}


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("%(value)s is not a known time zone."), params={"value": value})


def _default_time_zone() -> str:
    return settings.DEFAULT_USER_TIME_ZONE


class Team(models.Model):
    name = models.CharField(_("name"), max_length=120, unique=True)
    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    description = models.TextField(_("description"), blank=True)
    time_zone = models.CharField(
        _("time zone"), max_length=64, default=_default_time_zone, validators=[validate_time_zone]
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("team")
        verbose_name_plural = _("teams")

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """A person who uses TSCC. One role decides what they may see and do."""

    role = models.CharField(
        _("role"),
        max_length=20,
        choices=[(r.value, ROLE_LABELS[r]) for r in Role],
        default=Role.RESPONDER,
    )
    display_name = models.CharField(_("display name"), max_length=120, blank=True)
    language = models.CharField(
        _("language"), max_length=10, choices=settings.LANGUAGES, default="en"
    )
    time_zone = models.CharField(
        _("time zone"), max_length=64, default=_default_time_zone, validators=[validate_time_zone]
    )
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    teams = models.ManyToManyField(
        Team, related_name="members", blank=True, verbose_name=_("teams")
    )

    class Meta:
        ordering = ["username"]
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.display_name or self.get_full_name() or self.username

    @property
    def role_enum(self) -> Role:
        return Role(self.role)


class ApiToken(models.Model):
    """A bearer token for the REST API. Only the SHA-256 of the secret is
    stored; the secret is shown once, when the token is created. A token
    carries its user's role and rights, nothing more."""

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="api_tokens", verbose_name=_("user")
    )
    name = models.CharField(_("name"), max_length=120)
    prefix = models.CharField(
        _("prefix"), max_length=8, help_text=_("The first characters of the secret, to tell it.")
    )
    key_hash = models.CharField(_("SHA-256 of the secret"), max_length=64, unique=True)
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def is_usable(self, now) -> bool:
        """Not revoked, not expired, and its user may still sign in."""
        return (
            self.revoked_at is None
            and (self.expires_at is None or self.expires_at > now)
            and self.user.is_active
        )
