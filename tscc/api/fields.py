"""Fields shared by the API's serializers."""

from __future__ import annotations

from datetime import UTC, datetime

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)


class DateTimeField(serializers.DateTimeField):
    """DRF's DateTimeField, refusing instants before 1970 or from 2200 on.
    Nothing in TSCC happens then, and before 1901 the time-zone database
    gives local mean time (Asia/Shanghai +08:05:43), an offset with seconds
    that RFC 3339 cannot write, so the answer would not be a valid date-time."""

    default_error_messages = {
        "out_of_range": _("Use a time between 1970 and 2200."),
    }

    def to_internal_value(self, value):
        parsed = super().to_internal_value(value)
        aware = parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
        if not EARLIEST <= aware < LATEST:
            self.fail("out_of_range")
        return parsed
