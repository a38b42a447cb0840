"""The pages: the start page and the "Mag ik dit delen?" wizard. No account, nothing stored.

Every form works without JavaScript. With htmx loaded, changing the ruleset, the discloser or
the purpose refreshes the form in place (the same GET as the form's "Bijwerken" button).
"""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from starlette.responses import Response

from deelwijs.rules import loader
from deelwijs.web import wizard
from deelwijs.web.deps import Login, MaybeLogin
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


# --- the start page of someone logged in: what this person can do here ----------------------

_START = {
    "professional": (
        "Hier werkt u aan de casussen van uw organisatie: u ziet alleen de casussen waaraan uw "
        "organisatie deelneemt, en alleen wat het convenant u laat zien.",
        [("Mag ik dit delen?", WIZARD, "Eerst even checken: mag ik dit delen, met wie en "
          "waarvoor? Zonder iets op te slaan."),
         ("Mijn casussen", "/casussen", "De casussen waaraan uw organisatie deelneemt: "
          "overleggen, verslagen, acties en wat er is gedeeld."),
         ("Mijn account", "/account", "Uw pet, uw wachtwoord, uw tweede stap en uw tokens.")]),
    "fg": (
        "Als privacyfunctionaris (FG) ziet u het verwerkingslog, het register en de datalekken "
        "van uw regio. De inhoud van casussen ziet u niet.",
        [("Verwerkingslog", "/fg/log", "Wie verwerkte wanneer welke gegevens, en of het log "
          "nog klopt."),
         ("Register van verwerkingen", "/fg/register", "Het register van "
          "verwerkingsactiviteiten (AVG art. 30) uit het convenant van uw regio."),
         ("Datalekken", "/fg/datalekken", "Gemelde datalekken, de 72-uurstermijn en wie "
          "geïnformeerd moet worden."),
         ("Mijn account", "/account", "Uw wachtwoord, uw tweede stap en uw tokens.")]),
    "admin": (
        "Als beheerder beheert u de organisaties en de accounts van uw regio. De inhoud van "
        "casussen ziet u niet.",
        [("Organisaties", "/beheer/organisaties", "De partijen van het convenant, hun "
          "ondertekening en hun professionals."),
         ("Accounts", "/beheer/accounts", "Accounts aanmaken, ontgrendelen en uitschakelen."),
         ("Mijn account", "/account", "Uw wachtwoord, uw tweede stap en uw tokens.")]),
    "parent": (
        "Hier ziet u welke gegevens over uw kind zijn gedeeld, met wie en waarom. U ziet alleen "
        "uw eigen kind, en alleen zolang u het gezag heeft.",
        [("Wie kreeg wat?", "/mijn-gegevens", "Welke organisaties welke gegevens over uw kind "
          "ontvingen, wanneer en op grond waarvan."),
         ("Mijn account", "/account", "Uw wachtwoord en uw tweede stap.")]),
    "youth": (
        "Hier ziet u welke gegevens over u zijn gedeeld, met wie en waarom.",
        [("Wie kreeg wat?", "/mijn-gegevens", "Welke organisaties welke gegevens over u "
          "ontvingen, wanneer en op grond waarvan."),
         ("Mijn account", "/account", "Uw wachtwoord en uw tweede stap.")]),
}


@router.get("/start")
def start(request: Request, who: Login) -> Response:
    intro, tasks = _START[who.kind]
    return render("start.html", who=who, intro=intro, tasks=tasks)
