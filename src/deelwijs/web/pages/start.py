"""The start page of someone logged in: what this person can do here, per kind of account,
as cards linking to the pages behind them."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from deelwijs.web.deps import Login
from deelwijs.web.pages.home import WIZARD
from deelwijs.web.templating import render

router = APIRouter()

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
