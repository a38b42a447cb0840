"""A parent's or youth's own page: `/mijn-gegevens`, who received what about their child (or
about themselves), from the inzage of the rights of the data subject (services/rights:
AVG art. 15). Each view is an inzage: recorded as a request and logged, as the law asks.

The children are those linked to the account (accounts.subjects); with one, `/mijn-gegevens`
shows that child, with more it lists them. A child not linked to the account is answered as
an unknown one (404); a parent without gezag, or a youth or parent the rules do not (yet) let
ask, gets the use case's refusal (403)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from deelwijs.services import accounts
from deelwijs.services.errors import NotFound
from deelwijs.services.rights import requests
from deelwijs.web import deps
from deelwijs.web.deps import Who
from deelwijs.web.pages.common import Subject, ident
from deelwijs.web.templating import render

router = APIRouter()
HOME = "/mijn-gegevens"


def _overview(request: Request, who: Who, youth_id: int, several: bool) -> Response:
    with deps.work(request, who) as u:
        link = next((s for s in accounts.subjects(u.session, who.account_id)
                     if s.youth_id == youth_id), None)
        if link is None:  # (as require_subject answers another child: h-access)
            raise NotFound("not_found", f"onbekende jongere ({youth_id})", "youth")
        out = requests.inzage(u, youth_id, requester=who.kind,
                              guardian_id=link.guardian_id if who.kind == "parent" else None)
    return render("parent/overview.html", who=who, inzage=out, several=several)


@router.get(HOME)
def my_data(request: Request, who: Subject) -> Response:
    with deps.work(request, who) as u:
        ids = [s.youth_id for s in accounts.subjects(u.session, who.account_id)]
    if len(ids) == 1:
        return _overview(request, who, ids[0], several=False)
    return render("parent/choose.html", who=who, youth_ids=ids, home=HOME)


@router.get(HOME + "/{youth_id}")
def child_data(youth_id: str, request: Request, who: Subject) -> Response:
    number = ident(youth_id, "onbekende jongere", "youth")
    return _overview(request, who, number, several=True)
