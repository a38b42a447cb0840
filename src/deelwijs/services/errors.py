"""Service errors: a stable code, a Dutch message, and where in the input the problem is.

The CLI prints them and exits 2; the web app will show the message on the page and the API
will answer problem+json. Nothing is written when one is raised. They are DeelwijsErrors
(deelwijs.errors); each instance names its own code (docs/errors.md).
"""

from __future__ import annotations

from deelwijs.errors import DeelwijsError


class ServiceError(DeelwijsError):
    code = "service_error"
    status = 400

    def __init__(self, code: str, message: str, field: str | None = None):
        super().__init__(message, code=code, field=field)


class Invalid(ServiceError):
    code = "invalid"
    status = 422


class NotFound(ServiceError):
    code = "not_found"
    status = 404


class Conflict(ServiceError):
    """Someone else changed the record first. Nothing of yours was saved; reload and retry."""

    code = "conflict"
    status = 409


class Refused(ServiceError):
    """The rules do not allow this (for example a workflow step out of order)."""

    code = "refused"
    status = 403
