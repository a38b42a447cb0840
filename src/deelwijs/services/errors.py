"""Service errors: a stable code, a Dutch message, and where in the input the problem is.

The CLI prints them and exits 2; the web app will show the message on the page and the API
will answer problem+json. Nothing is written when one is raised.
"""

from __future__ import annotations


class ServiceError(Exception):
    status = 400

    def __init__(self, code: str, message: str, field: str | None = None):
        self.code = code
        self.message = message
        self.field = field
        super().__init__(f"{field}: {message}" if field else message)


class Invalid(ServiceError):
    status = 422


class NotFound(ServiceError):
    status = 404


class Conflict(ServiceError):
    """Someone else changed the record first. Nothing of yours was saved; reload and retry."""

    status = 409


class Refused(ServiceError):
    """The rules do not allow this (for example a workflow step out of order)."""

    status = 403
