"""What the API's resource routes share: reading and checking a JSON body, ids and query
parameters, and answering with orjson.

A route is a thin adapter: parse the body or parameters (shape and types only, here: each
problem with its JSON path, as problem+json's `errors`), make one service call with the Unit
of `deps.work`, and answer the service's view. Whether the caller may is the service's
question (services/access.py), never the route's: a route only needs a login (`ApiLogin`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from starlette.responses import Response

from deelwijs.domain.contract import NotJson
from deelwijs.domain.errors import Problem, RequestError
from deelwijs.services.covenant import registry
from deelwijs.web import deps, openapi
from deelwijs.web.errors import dumps

JSON = "application/json"
MAX_BODY = 1024 * 1024  # bytes: a resource's body is small
MAX_ID = 2**31 - 1  # the ids of the records are 32-bit integers (PostgreSQL's integer)


def answer(value: Any, status: int = 200) -> Response:
    return Response(dumps(value), status_code=status, media_type=JSON)


def refuse(*problems: tuple[str, str, str]) -> RequestError:
    """Bad input: (path, code, message) per problem, answered as 422 invalid_request."""
    return RequestError([Problem(*p) for p in problems])


@dataclass(frozen=True)
class F:
    """A body field: its type (str, int, bool, date, [str], [int], {str: str}, or a nested
    spec dict for a list of objects), whether it is required, and the longest text."""

    kind: Any
    required: bool = False
    max_length: int = 2000


_TYPE_NL = {str: "tekst", int: "een geheel getal (id)", bool: "true of false",
            dt.date: "een datum JJJJ-MM-DD"}


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _one(value, kind, path: str, max_length: int, problems: list) -> Any:
    if kind is str:
        if not isinstance(value, str):
            problems.append((path, "wrong_type", "moet tekst zijn"))
        elif len(value) > max_length:
            problems.append((path, "too_long", f"ten hoogste {max_length} tekens"))
        elif "\x00" in value:  # (no database keeps a NUL in text)
            problems.append((path, "invalid_character", "bevat een NUL-teken"))
        return value
    if kind is int:
        if not _is_int(value) or not 1 <= value <= MAX_ID:
            problems.append((path, "wrong_type", f"moet een id zijn (een geheel getal van 1 "
                             f"t/m {MAX_ID})"))
        return value
    if kind is bool:
        if not isinstance(value, bool):
            problems.append((path, "wrong_type", "moet true of false zijn"))
        return value
    if kind is dt.date:
        if not isinstance(value, str) or len(value) != 10:
            problems.append((path, "invalid_date", "moet een datum zijn: JJJJ-MM-DD"))
            return None
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            problems.append((path, "invalid_date", "moet een bestaande datum zijn: JJJJ-MM-DD"))
            return None
    if isinstance(kind, list):  # [item kind]
        if not isinstance(value, list):
            problems.append((path, "wrong_type", "moet een lijst zijn"))
            return value
        if len(value) > 100:
            problems.append((path, "too_many", "ten hoogste 100 elementen"))
            return value
        return [_one(v, kind[0], f"{path}[{i}]", max_length, problems)
                for i, v in enumerate(value)]
    if isinstance(kind, dict) and set(kind) == {str}:  # {str: str}
        if not isinstance(value, dict) or not value:
            problems.append((path, "wrong_type", "moet een object zijn met minstens één veld"))
            return value
        for k, v in value.items():
            _one(k, str, f"{path}.{k}", 80, problems)
            _one(v, kind[str], f"{path}.{k}", max_length, problems)
        return value
    if isinstance(kind, dict):  # a nested object
        return _object(value, kind, path, problems)
    raise TypeError(kind)


def _object(value, spec: dict[str, F], path: str, problems: list) -> dict:
    if not isinstance(value, dict):
        problems.append((path or "body", "wrong_type", "moet een JSON-object zijn"))
        return {}
    out = {}
    prefix = f"{path}." if path else ""
    for name in value:
        if name not in spec:
            problems.append((f"{prefix}{name}", "unknown_field",
                             f"onbekend veld (bekend: {', '.join(spec)})"))
    for name, field in spec.items():
        if name not in value or value[name] is None:
            if field.required:
                problems.append((f"{prefix}{name}", "missing_field", "dit veld is verplicht"))
            continue
        out[name] = _one(value[name], field.kind, f"{prefix}{name}", field.max_length,
                         problems)
    return out


async def body(request: Request, spec: dict[str, F]) -> dict:
    """The request's JSON object, checked against `spec` (unknown fields, missing fields,
    types): the fields given (dates as dates), or 422 with every problem's path. Not JSON:
    400; too big: 413."""
    from deelwijs.web.api.decisions import parse_body

    length = request.headers.get("content-length")
    if length and length.isascii() and length.isdigit() and int(length) > MAX_BODY:
        raise too_large()
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise too_large()
    if not raw.strip():
        raise NotJson("de body is leeg; stuur een JSON-object")
    value = parse_body(raw)
    problems: list = []
    out = _object(value, spec, "", problems)
    if problems:
        raise refuse(*problems)
    return out


def too_large() -> RequestError:
    """413: the body is larger than MAX_BODY."""
    error = RequestError([Problem("body", "too_large",
                                  f"ten hoogste {MAX_BODY // 1024} KiB per aanroep")])
    error.code, error.status = "too_large", 413
    return error


def ident(value: str, name: str) -> int:
    """A path's id: digits only (else 404: no such record)."""
    digits = value.isascii() and value.isdigit() and len(value) <= 10
    if not digits or not 1 <= int(value) <= MAX_ID:
        from deelwijs.services.errors import NotFound

        raise NotFound("not_found", f"onbekend id ({value[:40]})", name)
    return int(value)


def query_int(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 19 or not low <= int(raw) <= high:
        raise refuse((name, "wrong_type", f"{name} is een geheel getal van {low} t/m {high}"))
    return int(raw)


def query_text(request: Request, name: str, default: str | None = None) -> str:
    raw = request.query_params.get(name, default)
    if raw is None or not raw.strip():
        raise refuse((name, "missing_field", f"geef {name} mee"))
    if "\x00" in raw:
        raise refuse((name, "invalid_character", f"{name} bevat een NUL-teken"))
    return raw.strip()[:200]


def region(u, code: str):
    """The region by its code (registry.region_by_code: 404 when unknown)."""
    return registry.region_by_code(u.session, code)


def csrf(request: Request, who: deps.Who) -> None:
    """An unsafe call of a browser's session needs its CSRF header (a token call none)."""
    deps.check_csrf(request, who, None)


__all__ = ["JSON", "F", "answer", "body", "csrf", "ident", "openapi", "query_int",
           "query_text", "refuse", "region"]
