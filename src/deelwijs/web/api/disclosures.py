"""Disclosures: recording one (the engine decides from the stored facts), one disclosure
with its content, and the disclosures of a youth or of a case."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from deelwijs.services.casus import cases, disclosures
from deelwijs.services.errors import NotFound
from deelwijs.storage import orm
from deelwijs.web import deps
from deelwijs.web.api.common import F, answer, body, csrf, ident
from deelwijs.web.deps import ApiLogin

router = APIRouter()

RECORD = {"to_org": F(int, True), "contents": F({str: str}, True, 20_000),
          "case_id": F(int), "youth_id": F(int), "purpose": F(str, max_length=80),
          "hat": F(str, max_length=40), "task": F(str, max_length=20),
          "meeting_id": F(int), "kind": F(str, max_length=20), "on": F(dt.date)}


@router.post("/disclosures")
async def record_disclosure(request: Request, who: ApiLogin) -> Response:
    csrf(request, who)
    b = await body(request, RECORD)

    def run():
        with deps.work(request, who) as u:
            row = disclosures.record(
                u, to_org_id=b["to_org"], contents=b["contents"], day=b.get("on") or u.today,
                kind=b.get("kind", "answer"), case_id=b.get("case_id"),
                youth_id=b.get("youth_id"), purpose=b.get("purpose"), hat=b.get("hat"),
                task=b.get("task", "both"), meeting_id=b.get("meeting_id"))
            return disclosures.view(u.session, row)

    return answer(await run_in_threadpool(run), 201)


@router.get("/disclosures/{disclosure_id}")
def read_disclosure(disclosure_id: str, request: Request, who: ApiLogin) -> Response:
    did = ident(disclosure_id, "disclosure")
    with deps.work(request, who) as u:
        row = u.session.get(orm.Disclosure, did)
        if row is None:
            raise NotFound("not_found", f"onbekende verstrekking ({did})", "disclosure")
        out = disclosures.read(u, row)
    return answer(out)


@router.get("/youths/{youth_id}/disclosures")
def youth_disclosures(youth_id: str, request: Request, who: ApiLogin) -> Response:
    yid = ident(youth_id, "youth")
    with deps.work(request, who) as u:
        out = disclosures.list_for_youth(u, yid)
    return answer(out)


@router.get("/cases/{case_id}/disclosures")
def case_disclosures(case_id: str, request: Request, who: ApiLogin) -> Response:
    cid = ident(case_id, "case")
    with deps.work(request, who) as u:
        out = cases.read_case(u, cid)["disclosures"]
    return answer(out)
