"""The region's register of processing activities, as `deelwijs register export --format json
--region R` gives it (services/covenant/processing_register.py)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from deelwijs.services.covenant import processing_register
from deelwijs.web import deps
from deelwijs.web.api.common import answer, query_text, region
from deelwijs.web.deps import ApiLogin

router = APIRouter()


@router.get("/register")
def register(request: Request, who: ApiLogin) -> Response:
    code = query_text(request, "region")
    with deps.work(request, who) as u:
        out = processing_register.export(u, region(u, code).id)
    return answer(out)
