"""POST /api/v1/vendors/snapshots/ for a vendor token, as a direct route.

A vendor's own systems post one queue's figures at a time, possibly
hundreds a second (issue 7 asks for 400). Through the full stack a post
spent most of its CPU outside the post itself: the middleware chain, URL
resolution and DRF's request, negotiation and throttle machinery. This
route answers the same request from tscc.asgihandler's pooled thread
without them (see that module for what it keeps: host validation, HTTPS
redirects, language, security headers, error handling and logging).

It takes only requests with `Authorization: Vendor …` and a JSON body
(`application/json`, UTF-8); people (sessions, API tokens) and any other
content type go through Django and DRF as before. What it answers, and
how, is DRF's view's, step for step (SnapshotListApi.post):

1. authentication: VendorTokenAuthentication's header rules and
   vendors.services.token_authenticate; 401 with its challenge;
2. throttle: the `vendor_token` rate per token (token_throttle_wait);
   429 with Retry-After;
3. the body: the API's JSON parser (BoundedJSONParser); an empty body is
   an empty object, as DRF reads it;
4. vendors.api.common.snapshot_posted, the view's own code, then the
   services' errors rendered by the API's exception handler; DRF's
   `Allow` and `Vary: Accept` headers.

tests/vendors/api/test_ingest.py sends each case through both and
compares the answers."""

from __future__ import annotations

import io

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_vary_headers
from rest_framework import exceptions
from rest_framework.renderers import JSONRenderer

from tscc.api.parsers import BoundedJSONParser
from tscc.asgihandler import DirectRoute
from tscc.exceptions import api_exception_handler
from vendors.api.auth import (
    VendorTokenAuthentication,
    VendorTokenThrottle,
    token_throttle_wait,
)
from vendors.api.common import snapshot_posted

PATH = "/api/v1/vendors/snapshots/"
JSON_RANGES = {b"application/json", b"application/*", b"*/*", b""}
HTML_RANGES = {b"text/html", b"text/*"}
ALLOW = "GET, POST, HEAD, OPTIONS"  # DRF's Allow for SnapshotListApi
_renderer = JSONRenderer()
_parser = BoundedJSONParser()
_authentication = VendorTokenAuthentication()


def wants(headers: dict[bytes, bytes]) -> bool:
    """A vendor token's JSON post; anything else takes the full stack. A
    request that also carries a session cookie too: DRF would try the
    session first."""
    if headers.get(b"authorization", b"")[:7].lower() != b"vendor ":
        return False
    if settings.SESSION_COOKIE_NAME.encode() + b"=" in headers.get(b"cookie", b""):
        return False
    media, _, params = headers.get(b"content-type", b"").partition(b";")
    if media.strip().lower() != b"application/json":
        return False
    if params.strip().lower().replace(b'"', b"") not in (b"", b"charset=utf-8"):
        return False
    # Where DRF's negotiation would answer JSON: a range JSON meets, none
    # its browsable API meets (text/html); otherwise 406 or the browsable
    # API, DRF's to give.
    accept = headers.get(b"accept", b"*/*")
    ranges = {m.split(b";")[0].strip().lower() for m in accept.split(b",")}
    return bool(ranges & JSON_RANGES) and not ranges & HTML_RANGES


def respond(request: HttpRequest) -> HttpResponse:
    try:
        token = _authenticated(request)
        wait = token_throttle_wait(token, VendorTokenThrottle.scope)
        if wait is not None:
            raise exceptions.Throttled(wait)
        data, status = snapshot_posted(token, _body(request))
        return _json(data, status)
    except Exception as exc:
        answer = api_exception_handler(exc, {})
        if answer is None:
            raise  # not an API error: Django's handler500 (503 for an outage)
        response = _json(answer.data, answer.status_code)
        for name in ("WWW-Authenticate", "Retry-After"):  # what the handler sets
            if name in answer:
                response[name] = answer[name]
        return response


def _authenticated(request: HttpRequest):
    """The token, or InvalidVendorToken (401). wants() saw the scheme, so
    the header is never absent here."""
    found = _authentication.authenticate(request)
    if found is None:  # wants() lets only "Vendor …" in
        raise exceptions.NotAuthenticated()
    _principal, token = found
    return token


def _body(request: HttpRequest):
    body = request.body
    if not body:
        return {}
    return _parser.parse(io.BytesIO(body), "application/json", {"encoding": "utf-8"})


def _json(data, status: int) -> HttpResponse:
    response = HttpResponse(_renderer.render(data), status=status, content_type="application/json")
    response["Content-Length"] = str(len(response.content))  # as CommonMiddleware sets it
    response["Allow"] = ALLOW
    patch_vary_headers(response, ("Accept",))
    return response


route = DirectRoute(methods=("POST",), wants=wants, respond=respond)
