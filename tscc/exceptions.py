"""Domain errors and how the API shows them."""

from __future__ import annotations

from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler


class ApplicationError(Exception):
    """A rule said no. `code` is stable for clients; `message` is for people."""

    code = "application_error"
    http_status = status.HTTP_409_CONFLICT

    def __init__(self, message: str, *, code: str | None = None, extra: dict | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.extra = extra or {}


class NotAllowed(ApplicationError):
    """The asker's role or relation to the object does not allow this."""

    code = "not_allowed"
    http_status = status.HTTP_403_FORBIDDEN


class InvalidInput(ApplicationError):
    """Input a form or serializer could not catch alone; `fields` maps field
    names to messages (forms put them on their fields, the API returns them)."""

    code = "invalid"
    http_status = status.HTTP_400_BAD_REQUEST

    def __init__(self, message: str, *, fields: dict | None = None):
        super().__init__(message, extra={"fields": fields or {}})
        self.fields = fields or {}


def api_exception_handler(exc, context):
    if isinstance(exc, ApplicationError):
        body = {"code": exc.code, "detail": str(exc.message), **exc.extra}
        return Response(body, status=exc.http_status)
    return exception_handler(exc, context)
