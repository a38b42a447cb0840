"""The home page and the "Mag ik dit delen?" wizard. No account, nothing stored.

Every form works without JavaScript. With htmx loaded, changing the ruleset, the discloser or
the purpose refreshes the form in place (the same GET as the form's "Bijwerken" button).
"""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from starlette.responses import Response

from deelwijs.rules import loader
from deelwijs.web import wizard
from deelwijs.web.deps import MaybeLogin
from deelwijs.web.templating import render

router = APIRouter()
WIZARD = "/mag-ik-dit-delen"


@router.get("/")
def home(who: MaybeLogin) -> Response:
    return render("home.html", who=who, wizard_url=WIZARD,
                  rulesets=[(rs.id, rs.title, rs.version) for rs in wizard.rulesets()])


def _form_page(form: wizard.Form, status_code: int = 200) -> Response:
    rs = wizard.ruleset_for(form)
    summary = [(name, form.errors[name]) for name in (*wizard.FIELD_ORDER, "")
               if name in form.errors]
    return render("wizard/form.html", status_code=status_code, form=form.values,
                  errors=form.errors, summary=summary, choices=wizard.choices(rs, form),
                  ruleset=rs, wizard_url=WIZARD, model_id=loader.MODEL_ID)


@router.api_route(WIZARD, methods=["GET", "POST"])
async def wizard_page(request: Request) -> Response:
    """GET: the form (prefilled from the query: "change your answers", a refresh by htmx or
    the form's update button). POST: the answer, or the form with its problems (422)."""
    if request.method == "GET":
        return _form_page(wizard.read(request.query_params))
    async with request.form(max_files=0, max_fields=200) as data:
        form = wizard.read(data, submitted=True)
    decided = wizard.decide(form)
    if decided is None:
        return _form_page(form, status_code=422)
    asked, answer = decided
    return render("wizard/answer.html", answer=wizard.answer_view(form, asked, answer),
                  edit_url=f"{WIZARD}?{wizard.query(form)}", wizard_url=WIZARD,
                  request_json=json.dumps(asked, ensure_ascii=False, indent=2))
