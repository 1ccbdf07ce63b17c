"""Vendor errors with stable codes, on top of tscc.exceptions."""

from __future__ import annotations

from rest_framework import status

from tscc.exceptions import ApplicationError, InvalidInput


class NotFound(ApplicationError):
    """No such object, or not one the asker may see: the same answer for
    both, so another vendor's ids reveal nothing (pages and API: 404)."""

    code = "not_found"
    http_status = status.HTTP_404_NOT_FOUND


class DuplicateSnapshot(InvalidInput):
    """Figures for this queue and moment were already posted."""

    code = "duplicate"
    http_status = status.HTTP_409_CONFLICT
