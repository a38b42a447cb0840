"""Cases: the list of a region's (those the caller may see), one case, and opening one."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from deelwijs.services.casus import cases
from deelwijs.web import deps
from deelwijs.web.api.common import (
    F,
    answer,
    body,
    csrf,
    ident,
    query_int,
    query_text,
    refuse,
    region,
)
from deelwijs.web.deps import ApiLogin

router = APIRouter()

OPEN = {"region": F(str, True, 40), "title": F(str, True, 200), "purpose": F(str, True, 80),
        "participants": F([int]), "youth_id": F(int), "anonymous": F(bool),
        "opened_on": F(dt.date)}


@router.get("/cases")
def list_cases(request: Request, who: ApiLogin) -> Response:
    code = query_text(request, "region")
    limit = query_int(request, "limit", 50, 1, 500)
    with deps.work(request, who) as u:
        out = cases.list_cases(u, region(u, code), limit)
    return answer(out)


@router.get("/cases/{case_id}")
def read_case(case_id: str, request: Request, who: ApiLogin) -> Response:
    cid = ident(case_id, "case")
    with deps.work(request, who) as u:
        out = cases.read_case(u, cid)
    return answer(out)


@router.post("/cases")
async def open_case(request: Request, who: ApiLogin) -> Response:
    csrf(request, who)
    b = await body(request, OPEN)
    if ("youth_id" in b) == bool(b.get("anonymous")):
        raise refuse(("youth_id", "missing_field", "noem youth_id of zet anonymous op true "
                      "(precies één van de twee)"))

    def run():
        with deps.work(request, who) as u:
            row = cases.open_case(u, None, region(u, b["region"]), b["title"].strip(),
                                  b["purpose"], b.get("participants", []),
                                  b.get("opened_on") or u.today, b.get("youth_id"))
            return cases.case_view(u.session, row)

    return answer(await run_in_threadpool(run), 201)
