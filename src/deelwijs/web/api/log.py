"""The processing log for the FG (and the administrator): a page of a region's entries, and
the verification of a region's log (services/log/oversight.py, as the FG's page)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from deelwijs.services.log import oversight
from deelwijs.web import deps
from deelwijs.web.api.common import answer, query_int, query_text, region
from deelwijs.web.deps import ApiLogin

router = APIRouter()


@router.get("/log/entries")
def log_entries(request: Request, who: ApiLogin) -> Response:
    code = query_text(request, "region")
    after = query_int(request, "after", 0, 0, 2**62)
    limit = query_int(request, "limit", 100, 1, oversight.PER_PAGE_MAX)
    with deps.work(request, who) as u:
        out = oversight.entries(u, region(u, code).id, after, limit)
    return answer(out)


@router.get("/log/verify")
def log_verify(request: Request, who: ApiLogin) -> Response:
    code = query_text(request, "region")
    with deps.work(request, who) as u:
        out = oversight.verify_log(u, region(u, code).id)
    return answer(out)
