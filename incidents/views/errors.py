from __future__ import annotations

from incidents.exceptions import InvalidInput
from tscc.exceptions import ApplicationError


def apply_error(form, exc: ApplicationError) -> int:
    """Put a service's refusal on the form; return the HTTP status to answer.

    Field errors land on their fields when the form has them; the message
    itself is the form's error. Validation answers 422 (htmx swaps it)."""
    if isinstance(exc, InvalidInput):
        placed = False
        for name, message in exc.fields.items():
            if name in form.fields:
                form.add_error(name, str(message))
                placed = True
        if not placed or exc.message:
            form.add_error(None, str(exc.message))
        return 422
    form.add_error(None, str(exc.message))
    return exc.http_status
