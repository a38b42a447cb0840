"""Errors of the core. Each carries a stable code; messages are Dutch and may change."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with an input, located by a JSON path (`request[3].data[1]`)."""

    path: str
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class RequestError(ValueError):
    """A request could not be decided because it is malformed. Holds every problem found."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))
