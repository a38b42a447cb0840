"""Meetings of a case: planning one, and reading one with its minutes (the read is logged)."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from deelwijs.services.casus import cases
from deelwijs.web import deps
from deelwijs.web.api.common import F, answer, body, csrf, ident
from deelwijs.web.deps import ApiLogin

router = APIRouter()

SCHEDULE = {"held_on": F(dt.date), "agenda": F([str], max_length=200),
            "participants": F([int])}


@router.post("/cases/{case_id}/meetings")
async def schedule_meeting(case_id: str, request: Request, who: ApiLogin) -> Response:
    cid = ident(case_id, "case")
    csrf(request, who)
    b = await body(request, SCHEDULE)

    def run():
        with deps.work(request, who) as u:
            row = cases.schedule_meeting(u, cases.get_case(u.session, cid),
                                         b.get("held_on") or u.today,
                                         [a.strip() for a in b.get("agenda", [])],
                                         b.get("participants", []))
            return cases.meeting_view(u.session, row)

    return answer(await run_in_threadpool(run), 201)


@router.get("/meetings/{meeting_id}")
def read_meeting(meeting_id: str, request: Request, who: ApiLogin) -> Response:
    mid = ident(meeting_id, "meeting")
    with deps.work(request, who) as u:
        out = cases.read_meeting(u, mid)
    return answer(out)
