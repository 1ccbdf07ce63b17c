"""Per-vendor tokens: `Authorization: Vendor vnd_<secret>`, and their throttles.

A vendor's own systems post their queue figures and site status with a
VendorToken (made by an ops manager in the admin or through
vendors.services.token_create). The request's `auth` is the token and its
`user` a VendorPrincipal: authenticated (so IsAuthenticated lets it in) but
holding no permission at all, so every rule-based gate (vendors.manage, the
incidents and escalations APIs) refuses it. The vendors API passes the token
itself to the selectors and services (`actor_of`), which limit it to its own
vendor: another vendor's objects are not found (404), exactly as for a BPO
lead of another vendor.

Only the vendors API lists this class; the rest of the API does not accept
vendor tokens at all.

Throttles: people keep the project's user/anon rates. A token is counted in
fixed windows in Redis (one round trip a request, whatever the rate; DRF's
SimpleRateThrottle keeps every timestamp of the window and rewrites the whole
list on each request, too slow at hundreds of requests a second):

- `vendor_token` (reads, single snapshots, site status): 30000/hour per
  token. A vendor's systems posting every queue every 5 minutes need a few
  thousand an hour; the headroom lets a backlog of missed reports (or the
  bench's burst of 400 posts/s for ~10 s) through, yet caps a runaway loop
  at about 8 requests/s averaged over the hour.
- `vendor_token_bulk` (POST snapshots/bulk/, up to 20,000 rows each):
  60/min per token, at most 1.2 million rows a minute.

Both can be changed with DEFAULT_THROTTLE_RATES in settings.REST_FRAMEWORK
("vendor_token", "vendor_token_bulk")."""

from __future__ import annotations

import time

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions, status
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.throttling import BaseThrottle, UserRateThrottle

from tscc.redisclient import count_hit

KEYWORD = "Vendor"
CHALLENGE = f'{KEYWORD} realm="vendors"'

DEFAULT_RATES = {
    "vendor_token": "30000/hour",  # a rate, not a password  # nosec B105
    "vendor_token_bulk": "60/min",  # a rate  # nosec B105
}
PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class InvalidVendorToken(exceptions.APIException):
    """401 with a Vendor challenge (see tscc.api.auth.InvalidToken for why
    not AuthenticationFailed)."""

    status_code = status.HTTP_401_UNAUTHORIZED
    default_detail = _("Invalid or revoked vendor token.")
    default_code = "invalid_token"
    auth_header = f'{CHALLENGE}, error="invalid_token"'


class VendorPrincipal:
    """request.user for a vendor token: signed in, but no person and no
    rights (has_perm is always False)."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False
    pk = id = None
    role = ""

    def __init__(self, token):
        self.token = token
        self.vendor_id = token.vendor_id

    def __str__(self) -> str:
        return f"vendor token {self.token.prefix}… ({self.token.vendor_id})"

    def has_perm(self, perm, obj=None) -> bool:
        return False

    def has_perms(self, perms, obj=None) -> bool:
        return False

    def has_module_perms(self, app_label) -> bool:
        return False

    def get_username(self) -> str:
        return str(self)


def vendor_token_of(request):
    """The VendorToken the request came with, or None (a person)."""
    from vendors.models import VendorToken

    auth = getattr(request, "auth", None)
    return auth if isinstance(auth, VendorToken) else None


def actor_of(request):
    """Who acts for the selectors and services: the token, or the person."""
    return vendor_token_of(request) or request.user


class VendorTokenAuthentication(BaseAuthentication):
    def authenticate(self, request):
        from vendors.services import token_authenticate

        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != KEYWORD.lower().encode():
            return None
        if len(parts) != 2:
            raise InvalidVendorToken(_("Send the header as: Authorization: Vendor vnd_<secret>."))
        try:
            secret = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise InvalidVendorToken() from None
        token = token_authenticate(secret)
        if token is None:
            raise InvalidVendorToken()
        return VendorPrincipal(token), token

    def authenticate_header(self, request) -> str:
        return CHALLENGE


class VendorTokenScheme(OpenApiAuthenticationExtension):
    target_class = "vendors.api.auth.VendorTokenAuthentication"
    name = "vendorToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": (
                "A vendor's own systems: `Vendor vnd_<secret>` (a per-vendor token an ops "
                "manager creates). It reads and reports for its own vendor only."
            ),
        }


# --- throttles -------------------------------------------------------------------


def parse_rate(rate: str) -> tuple[int, int]:
    """ "30000/hour" -> (30000, 3600)."""
    count, period = rate.split("/")
    return int(count), PERIODS[period.strip()[0].lower()]


class PeopleRateThrottle(UserRateThrottle):
    """The project's per-user rate, for people only (a vendor token has no
    user id; it has throttles of its own)."""

    def get_cache_key(self, request, view):
        if vendor_token_of(request) is not None:
            return None
        return super().get_cache_key(request, view)


class VendorTokenThrottle(BaseThrottle):
    """Requests per token in fixed windows of the rate's period, counted
    with one Redis round trip. People are not counted here."""

    scope = "vendor_token"

    def allow_request(self, request, view) -> bool:
        token = vendor_token_of(request)
        if token is None:
            return True
        self._wait = token_throttle_wait(token, self.scope)
        return self._wait is None

    def wait(self) -> float | None:
        return getattr(self, "_wait", None)


def token_throttle_wait(token, scope: str) -> float | None:
    """Count one request of `token` in `scope`'s current window: None when
    it may go on, else the seconds until the window ends."""
    rates = settings.REST_FRAMEWORK.get("DEFAULT_THROTTLE_RATES", {})
    limit, period = parse_rate(rates.get(scope) or DEFAULT_RATES[scope])
    now = time.time()
    window = int(now // period)
    # By the secret's hash, not the id: ids can come back (a rolled-back
    # insert on SQLite), a hash cannot.
    count = count_hit(f"throttle:{scope}:{token.key_hash[:24]}:{window}", period + 1)
    return None if count <= limit else (window + 1) * period - now


class VendorTokenBulkThrottle(VendorTokenThrottle):
    scope = "vendor_token_bulk"
