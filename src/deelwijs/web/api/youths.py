"""Youths: one youth's record (its read is logged), and a professional registers one."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from deelwijs.services.casus import youths
from deelwijs.web import deps
from deelwijs.web.api.common import F, answer, body, csrf, ident, region
from deelwijs.web.deps import ApiLogin

router = APIRouter()

GUARDIAN = {"name": F(str, True, 200), "relation": F(str, True, 40), "gezag": F(bool, True)}
CREATE = {"region": F(str, True, 40), "name": F(str, True, 200), "birth": F(dt.date, True),
          "bsn": F(str, max_length=20), "school_id": F(int),
          "guardians": F([GUARDIAN]), "startkwalificatie": F(bool)}


@router.get("/youths/{youth_id}")
def read_youth(youth_id: str, request: Request, who: ApiLogin) -> Response:
    yid = ident(youth_id, "youth")
    with deps.work(request, who) as u:
        out = youths.read_youth(u, yid)
    return answer(out)


@router.post("/youths")
async def create_youth(request: Request, who: ApiLogin) -> Response:
    csrf(request, who)
    b = await body(request, CREATE)

    def run():
        with deps.work(request, who) as u:
            row = youths.create_youth(u, region(u, b["region"]), b["name"].strip(), b["birth"],
                                      b.get("bsn"), b.get("school_id"), b.get("guardians", []),
                                      startkwalificatie=b.get("startkwalificatie", False))
            return youths.youth_view(u.keys, row, u.today)

    return answer(await run_in_threadpool(run), 201)
