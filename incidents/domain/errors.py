"""Errors the pure rules raise. Messages are built by the caller's layer
(translated there); a domain error carries a stable code and its facts."""

from __future__ import annotations


class DomainError(Exception):
    code = "domain_error"

    def __init__(self, code: str | None = None, **facts):
        super().__init__(code or self.code)
        if code is not None:
            self.code = code
        self.facts = facts


class TransitionNotAllowed(DomainError):
    code = "transition_not_allowed"


class SeverityOverrideInvalid(DomainError):
    code = "severity_override_invalid"
