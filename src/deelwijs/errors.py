"""The one base of Deelwijs's errors: a stable code, a Dutch message, and where the problem is.

Every error class of the package derives from `DeelwijsError` (besides ValueError,
LookupError or RuntimeError where callers catch those). What it carries is what problem+json
(RFC 9457) needs:

- `code`: stable, snake_case, English: for programs and tests (docs/errors.md lists them).
  A class has its own; classes that name several problems (ServiceError and its subclasses,
  WorkflowError, NoStanding) take one per instance.
- `message`: the Dutch text a person reads, as the CLI prints it today.
- `field`: the input field or JSON path the problem is about (`youth`, `request[3].data[1]`),
  or None.
- `status`: the HTTP status where the error has one (ServiceError's 422, 404, 409, 403, …);
  None for errors that are not the caller's doing (settings, files, the database, the
  server), which the web app answers as 500 without their message.

`str(error)` stays what it was: `field: message` when the field is given with the error,
else the message. `errors()` and `lines()` are the same problems as problem+json's `errors`
and as the CLI's lines on stderr. This module sits in the lowest layer (it imports nothing),
so that every module may import it, the domain included.
"""

from __future__ import annotations


class DeelwijsError(Exception):
    """A Deelwijs error: `code`, Dutch `message`, `field` (or JSON path) and `status`."""

    code: str = "error"
    status: int | None = None
    field: str | None = None

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None):
        if code is not None:
            self.code = code
        if field is not None:
            self.field = field
        self.message = message
        super().__init__(f"{field}: {message}" if field else message)

    def errors(self) -> list[dict]:
        """Each problem as {path, code, message} (problem+json's `errors`): the field this
        error names, if it names one; errors with a list of problems give each."""
        if not self.field:
            return []
        return [{"path": self.field, "code": self.code, "message": self.message}]

    def lines(self) -> list[str]:
        """What the CLI prints on stderr: `path: message` for each problem, else the
        message."""
        return [f"{e['path']}: {e['message']}" for e in self.errors()] or [self.message]
