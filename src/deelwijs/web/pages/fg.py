"""The privacy officer's pages (FG): `/fg/log`, the region's processing log page by page with
the result of verifying it; `/fg/register`, the register of processing activities (AVG art.
30) of the region's ruleset in force; `/fg/datalekken`, the region's breaches with the
72-hour term. Never case content: the use cases (services/log/oversight.py,
services/covenant/processing_register.py, breaches) show what an FG may see."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from deelwijs.services.covenant import processing_register
from deelwijs.services.log import breaches, oversight
from deelwijs.web import deps
from deelwijs.web.pages.common import Fg, page_number, region_of
from deelwijs.web.templating import render

router = APIRouter()


@router.get("/fg/log")
def log_page(request: Request, who: Fg, pagina: str = "") -> Response:
    with deps.work(request, who) as u:
        page = oversight.log_page(u, page=page_number(pagina))
        checked = oversight.verify_log(u)
    return render("fg/log.html", who=who, log=page, checked=checked)


@router.get("/fg/register")
def register_page(request: Request, who: Fg) -> Response:
    with deps.work(request, who) as u:
        register = processing_register.register_of(u)
    return render("fg/register.html", who=who, register=register)


@router.get("/fg/datalekken")
def breaches_page(request: Request, who: Fg) -> Response:
    with deps.work(request, who) as u:
        region = region_of(u)
        rows = [breaches.breach_view(u.session, b)
                for b in breaches.list_breaches(u, region)]
    return render("fg/breaches.html", who=who, breaches=rows, region=region.name)
