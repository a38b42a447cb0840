"""What the page modules share: the kinds of account a page is for, reading a form, and the
actor's region."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from deelwijs.services.context import Unit
from deelwijs.services.errors import Invalid, NotFound
from deelwijs.storage import orm
from deelwijs.web import deps
from deelwijs.web.deps import Who

# a page for one kind of account (else the 403 page: deps.role)
Professional = Annotated[Who, Depends(deps.role("professional"))]
Fg = Annotated[Who, Depends(deps.role("fg"))]
Admin = Annotated[Who, Depends(deps.role("admin"))]
Subject = Annotated[Who, Depends(deps.role("parent", "youth"))]


async def form_of(request: Request, *names: str) -> dict:
    """The form's fields named (and `csrf`), as text or None."""
    async with request.form(max_files=0, max_fields=40) as form:
        return {k: form.get(k) for k in ("csrf", *names)}


async def run(fn, *args):
    """A blocking function (database, password hashing) off the event loop."""
    return await run_in_threadpool(fn, *args)


def text(data: dict, name: str) -> str:
    value = data.get(name)
    return value.strip() if isinstance(value, str) else ""


def number(value: str | None, field: str, what: str) -> int | None:
    """A whole number typed in a form (None when empty), else Invalid on `field`."""
    value = (value or "").strip()
    if not value:
        return None
    if not value.isdigit() or len(value) > 12:
        raise Invalid("wrong_type", f"{what} is een nummer", field)
    return int(value)


def page_number(value: str | None) -> int:
    """?pagina=N: a whole number from 1 (anything else: the first page)."""
    return int(value) if value and value.isdigit() and 0 < len(value) < 9 and int(value) else 1


def region_of(u: Unit) -> orm.Region:
    """The region of the account acting (an account of every region has none to show)."""
    region = (u.session.get(orm.Region, u.actor.region_id)
              if u.actor.region_id is not None else None)
    if region is None:
        raise NotFound("not_found", "dit account hoort niet bij één regio; deze pagina toont "
                       "de gegevens van één regio", "region")
    return region


def ident(value: str, unknown: str, field: str) -> int:
    """An id from a page's address: a number, else the page of an unknown record (404), as
    the use case answers an id it does not know. `unknown`: "onbekende casus"."""
    if not value.isdigit() or len(value) > 12:
        raise NotFound("not_found", f"{unknown} ({value[:20]})", field)
    return int(value)
