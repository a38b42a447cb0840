"""A youth's consent: every recorded version, and a professional records a new one."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from deelwijs.services import access
from deelwijs.services.casus import consent, youths
from deelwijs.web import deps
from deelwijs.web.api.common import F, answer, body, csrf, ident
from deelwijs.web.deps import ApiLogin

router = APIRouter()

RECORD = {"role": F(str, True, 20), "answer": F(str, True, 20), "purposes": F([str], True, 80),
          "categories": F([str], True, 80), "given_on": F(dt.date), "written": F(bool),
          "recipient_ids": F([int]), "guardian_id": F(int),
          "document_ref": F(str, max_length=500), "prior_to_meeting_id": F(int)}


@router.get("/youths/{youth_id}/consent")
def consent_history(youth_id: str, request: Request, who: ApiLogin) -> Response:
    yid = ident(youth_id, "youth")
    with deps.work(request, who) as u:
        out = consent.history(u, yid)
    return answer(out)


@router.post("/youths/{youth_id}/consent")
async def record_consent(youth_id: str, request: Request, who: ApiLogin) -> Response:
    yid = ident(youth_id, "youth")
    csrf(request, who)
    b = await body(request, RECORD)

    def run():
        with deps.work(request, who) as u:
            # who may never record consent is refused before the youth is looked up, so an
            # FG cannot tell an existing youth's id from an unknown one (services/access.py)
            access.require_party(u, "toestemming vastleggen")
            row = consent.record(
                u, youths.get_youth(u.session, yid), b["role"], b["answer"], b["purposes"],
                b["categories"], b.get("given_on") or u.today, b.get("written", True),
                b.get("recipient_ids"), b.get("guardian_id"), b.get("document_ref"),
                b.get("prior_to_meeting_id"))
            return {"series": row.series, "version": row.version, "answer": row.answer}

    return answer(await run_in_threadpool(run), 201)
