"""The pages, one module per part: `home` (the home page and the "Mag ik dit delen?" wizard),
`start` (the start page per kind of account), `cases` (a professional's cases), `fg` (the
privacy officer's processing log, register and breaches), `beheer` (the administrator's
organisations and accounts) and `parent` (a parent's or youth's "who received what").

A page decides nothing about access itself: it needs a login (deps.Login) or a kind of
account (deps.role) and calls the use cases with the Unit of deps.work, which refuse what the
actor may not see (services/access.py); the refusal is the Dutch 403 or 404 page
(web/errors.py)."""

from __future__ import annotations

from fastapi import APIRouter

from deelwijs.web.pages import beheer, cases, fg, home, parent, start

WIZARD = home.WIZARD
router = APIRouter()
for _part in (home, start, cases, fg, beheer, parent):
    router.include_router(_part.router)
