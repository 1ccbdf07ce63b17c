"""API token authentication: `Authorization: Bearer tscc_<secret>`.

The secret is looked up by its SHA-256, so no stored secret is ever compared
character by character. A revoked or expired token, or one whose user is
inactive, is refused with 401. Registered after SessionAuthentication, so the
browser (and the browsable docs) keep using the session.
"""

from __future__ import annotations

import hmac

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions, status
from rest_framework.authentication import BaseAuthentication, get_authorization_header

KEYWORD = "Bearer"
CHALLENGE = f'{KEYWORD} realm="api"'


class InvalidToken(exceptions.APIException):
    """401 with a Bearer challenge.

    Not an AuthenticationFailed: DRF turns that into 403 when the first
    authentication class (the session) has no challenge to offer, and a
    client with a bad token must learn that the token is the problem."""

    status_code = status.HTTP_401_UNAUTHORIZED
    default_detail = _("Invalid, expired or revoked API token.")
    default_code = "invalid_token"
    auth_header = f'{CHALLENGE}, error="invalid_token"'


class ApiTokenAuthentication(BaseAuthentication):
    def authenticate(self, request):
        # Imported here: DRF loads this class with its settings, which can
        # happen before the app registry is ready.
        from tscc.models import ApiToken
        from tscc.services import API_TOKEN_PREFIX, api_token_hash, api_token_mark_used

        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != KEYWORD.lower().encode():
            return None
        if len(parts) != 2:
            raise InvalidToken(_("Send the header as: Authorization: Bearer tscc_<secret>."))
        try:
            secret = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise InvalidToken() from None
        if not secret.startswith(API_TOKEN_PREFIX):
            raise InvalidToken()
        digest = api_token_hash(secret)
        token = ApiToken.objects.select_related("user").filter(key_hash=digest).first()
        now = timezone.now()
        if (
            token is None
            or not hmac.compare_digest(token.key_hash, digest)
            or not token.is_usable(now)
        ):
            raise InvalidToken()
        api_token_mark_used(token=token, now=now)
        return token.user, token

    def authenticate_header(self, request) -> str:
        return CHALLENGE


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "tscc.api.auth.ApiTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "tscc_<secret>",
            "description": (
                "An API token (manage.py create_api_token). It carries its user's role and rights."
            ),
        }
