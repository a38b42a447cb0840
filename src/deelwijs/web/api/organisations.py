"""Organisations (covenant parties) of a region: the list; the administrator adds or changes
one."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from deelwijs.services.covenant import registry
from deelwijs.web import deps
from deelwijs.web.api.common import F, answer, body, csrf, ident, query_text, region
from deelwijs.web.deps import ApiLogin

router = APIRouter()

CREATE = {"region": F(str, True, 40), "party": F(str, True, 40), "name": F(str, True, 200),
          "kvk": F(str, max_length=20), "oin": F(str, max_length=40),
          "domain": F(str, max_length=40)}


@router.get("/organisations")
def list_organisations(request: Request, who: ApiLogin) -> Response:
    code = query_text(request, "region")
    with deps.work(request, who) as u:
        out = registry.list_organisations(u, region(u, code))
    return answer(out)


@router.post("/organisations")
async def create_organisation(request: Request, who: ApiLogin) -> Response:
    csrf(request, who)
    b = await body(request, CREATE)

    def run():
        with deps.work(request, who) as u:
            org = registry.create_organisation(
                u, region(u, b["region"]), b["party"], b["name"].strip(), kvk=b.get("kvk"),
                oin=b.get("oin"), domain=b.get("domain"))
            return registry.organisation_view(u.session, org)

    return answer(await run_in_threadpool(run), 201)


UPDATE = {"name": F(str, max_length=200), "kvk": F(str, max_length=20),
          "oin": F(str, max_length=40), "domain": F(str, max_length=40)}


@router.patch("/organisations/{organisation_id}")
async def update_organisation(organisation_id: str, request: Request, who: ApiLogin
                              ) -> Response:
    oid = ident(organisation_id, "organisation")
    csrf(request, who)
    b = await body(request, UPDATE)

    def run():
        with deps.work(request, who) as u:
            org = registry.update_organisation(u, registry.organisation(u.session, oid), **b)
            return registry.organisation_view(u.session, org)

    return answer(await run_in_threadpool(run))
