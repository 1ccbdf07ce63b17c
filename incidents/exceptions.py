"""Incident errors with stable codes. Messages are translated here, once, for
the pages, the API and the sockets alike."""

from __future__ import annotations

from rest_framework import status

from incidents.domain.errors import TransitionNotAllowed
from incidents.labels import STATE_LABELS, TRANSITION_ERRORS
from tscc.exceptions import ApplicationError


class IncidentError(ApplicationError):
    code = "incident_error"


class NotAllowed(IncidentError):
    """The actor may not do this to this incident."""

    code = "not_allowed"
    http_status = status.HTTP_403_FORBIDDEN


class InvalidInput(IncidentError):
    """Input a form or serializer could not catch alone; `fields` maps names to messages."""

    code = "invalid"
    http_status = status.HTTP_400_BAD_REQUEST

    def __init__(
        self, message: str, *, fields: dict[str, str] | None = None, code: str | None = None
    ):
        super().__init__(message, code=code, extra={"fields": fields or {}})
        self.fields = fields or {}


class Conflict(IncidentError):
    """The incident's state does not allow this now."""

    code = "conflict"


def transition_error(error: TransitionNotAllowed) -> Conflict:
    facts = {k: STATE_LABELS.get(v, v) for k, v in error.facts.items()}
    message = TRANSITION_ERRORS[error.code] % facts
    return Conflict(str(message), code=f"transition_{error.code}")
