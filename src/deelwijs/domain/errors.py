"""Errors of the core. Each carries a stable code; messages are Dutch and may change."""

from __future__ import annotations

from dataclasses import dataclass

from deelwijs.errors import DeelwijsError


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with an input, located by a JSON path (`request[3].data[1]`)."""

    path: str
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class RequestError(DeelwijsError, ValueError):
    """A request could not be decided because it is malformed. Holds every problem found;
    `field` is the path of the first."""

    code = "invalid_request"
    status = 422

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))
        self.field = problems[0].path if problems else None

    def errors(self) -> list[dict]:
        return [{"path": p.path, "code": p.code, "message": p.message} for p in self.problems]
