"""The inzage (AVG art. 15): everything Deelwijs holds about a youth, for the youth or a
parent themselves, or recorded by a professional for them (services/rights/requests.py).
The request is recorded and logged."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request
from starlette.responses import Response

from deelwijs.services.rights import requests as rights
from deelwijs.web import deps
from deelwijs.web.api.common import MAX_ID, answer, ident, query_int, refuse
from deelwijs.web.deps import ApiLogin

router = APIRouter()
_TRUE = ("true", "1", "ja")


def _day(request: Request, name: str) -> dt.date | None:
    raw = request.query_params.get(name)
    if not raw:
        return None
    try:
        if len(raw) == 10:
            return dt.date.fromisoformat(raw)
    except ValueError:
        pass
    raise refuse((name, "invalid_date", f"{name} is een datum JJJJ-MM-DD"))


@router.get("/youths/{youth_id}/inzage")
def inzage(youth_id: str, request: Request, who: ApiLogin) -> Response:
    yid = ident(youth_id, "youth")
    q = request.query_params
    # who asks: a parent's or youth's own account asks for themselves; a professional names
    # the requester (the services decide whether either may)
    requester = q.get("requester") or (who.kind if who.kind in ("parent", "youth") else None)
    if requester is None:
        raise refuse(("requester", "missing_field", "wie vraagt inzage: parent of youth"))
    guardian = query_int(request, "guardian_id", 0, 1, MAX_ID) or None
    period_from, period_to = _day(request, "from"), _day(request, "to")
    with deps.work(request, who) as u:
        out = rights.inzage(u, yid, requester=requester, guardian_id=guardian,
                            period_from=period_from, period_to=period_to,
                            youth_agrees=(q.get("youth_agrees") or "").lower() in _TRUE)
    return answer(out)
