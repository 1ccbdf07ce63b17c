"""Secrets that travel in URL paths are masked in access logs.

Two links carry their secret in the path: the one-tap acknowledge link of a
page (/escalations/ack/<token>/) and a person's iCal feed
(/oncall/ical/<token>.ics). uvicorn's access log writes every request's full
path at INFO; anyone reading the logs could acknowledge pages or read
schedules. The filter masks the token and keeps the rest of the line.
"""

from __future__ import annotations

import logging
import re

SECRET_PATHS = (
    re.compile(r"(/escalations/ack/)[^/?\s]+"),
    re.compile(r"(/oncall/ical/)[^/?\s]+?(?=\.ics|[/?\s]|$)"),
)
MASK = r"\1[redacted]"


def redact(text: str) -> str:
    for pattern in SECRET_PATHS:
        text = pattern.sub(MASK, text)
    return text


class RedactSecretPaths(logging.Filter):
    """For uvicorn.access (args: client, method, path, http version, status)
    and any record whose message or string arguments hold such a path."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        return True


def install() -> None:
    """Mask secret paths in uvicorn's access log and Django's request log."""
    for name in ("uvicorn.access", "django.request", "django.server"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactSecretPaths) for f in logger.filters):
            logger.addFilter(RedactSecretPaths())
