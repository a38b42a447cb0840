"""A professional's cases (read-only in this issue; the casusoverleg flows come later):
`/casussen`, the cases their organisation takes part in (cases.list_cases), and
`/casussen/{id}`, one case with its participants, meetings and disclosures (cases.read_case).
Both reads are logged by the use cases; another organisation's case is refused there."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from deelwijs.domain import labels
from deelwijs.services.casus import cases
from deelwijs.web import deps
from deelwijs.web.pages.common import Professional, ident, region_of
from deelwijs.web.templating import render

router = APIRouter()


@router.get("/casussen")
def case_list(request: Request, who: Professional) -> Response:
    with deps.work(request, who) as u:
        rows = cases.list_cases(u, region_of(u))
    return render("cases/list.html", who=who, cases=rows)


@router.get("/casussen/{case_id}")
def case_page(case_id: str, request: Request, who: Professional) -> Response:
    number = ident(case_id, "onbekende casus", "case")
    with deps.work(request, who) as u:
        case = cases.read_case(u, number)
    names = {p["id"]: p["name"] for p in case["participants"]}
    return render("cases/case.html", who=who, case=case, org_name=lambda i: names.get(
        i, f"organisatie {i}"), verdict=labels.OUTCOME_VERDICT)
