"""The administrator's pages (beheer): `/beheer/organisaties`, the organisations of the
region with their party and their signature of the covenant (registry.list_organisations),
and `/beheer/accounts`, the region's accounts (accounts.list_accounts) with a form to make
one (accounts.create) and, per account, unlock and disable (accounts.unlock, .disable). Every
form carries the session's CSRF token and works without JavaScript; an action on an account
the administrator does not manage is answered as an unknown account (404, by the use case)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from deelwijs.services import accounts
from deelwijs.services.covenant import registry
from deelwijs.services.errors import ServiceError
from deelwijs.storage import orm
from deelwijs.web import deps
from deelwijs.web.deps import Who
from deelwijs.web.pages.common import Admin, form_of, ident, number, region_of, run, text
from deelwijs.web.templating import render

router = APIRouter()
ACCOUNTS = "/beheer/accounts"
KINDS = [("professional", "Professional"), ("fg", "Privacyfunctionaris (FG)"),
         ("admin", "Beheerder"), ("parent", "Ouder of voogd"), ("youth", "Jongere")]
FIELDS = ("username", "display_name", "kind", "professional", "guardian", "youth", "email",
          "password")
DONE = {"aangemaakt": "Het account is aangemaakt.",
        "ontgrendeld": "Het account is ontgrendeld.",
        "uitgeschakeld": "Het account is uitgeschakeld: de sessies zijn beëindigd en de tokens "
                         "werken niet meer."}


@router.get("/beheer/organisaties")
def organisations(request: Request, who: Admin) -> Response:
    with deps.work(request, who) as u:
        region = region_of(u)
        rows = registry.list_organisations(u, region)
    return render("beheer/organisations.html", who=who, organisations=rows,
                  region=region.name, names={o["id"]: o["name"] for o in rows})


def _accounts_page(request: Request, who: Who, *, status: int = 200, form: dict | None = None,
                   errors: dict | None = None, message: str | None = None) -> Response:
    with deps.work(request, who) as u:
        region = region_of(u)
        rows = [accounts.view(a) for a in accounts.list_accounts(u, region.id)]
        pros = [(str(p["id"]), f"{p['name']} ({o['name']})")
                for o in registry.list_organisations(u, region)
                for p in registry.list_professionals(u, u.session.get(orm.Organisation,
                                                                      o["id"]))]
    form = {name: "" for name in FIELDS} | {"kind": "professional"} | (form or {})
    form["password"] = ""
    return render("beheer/accounts.html", status_code=status, who=who, accounts=rows,
                  region=region.name, kinds=KINDS, professionals=pros, form=form,
                  errors=errors or {}, message=message,
                  summary=list((errors or {}).items()))


@router.get(ACCOUNTS)
def accounts_page(request: Request, who: Admin, gedaan: str = "") -> Response:
    return _accounts_page(request, who, message=DONE.get(gedaan))


@router.post(ACCOUNTS)
async def create_account(request: Request, who: Admin) -> Response:
    data = await form_of(request, *FIELDS)
    return await run(_create, request, who, data)


def _create(request: Request, who: Who, data: dict) -> Response:
    deps.check_csrf(request, who, data)
    form = {name: text(data, name) for name in FIELDS}
    kind = form["kind"]
    password = data.get("password") if isinstance(data.get("password"), str) else ""
    linked = {"professional": ("professional_id", "de professional"),
              "parent": ("guardian_id", "het nummer van de ouder"),
              "youth": ("youth_id", "het nummer van de jongere")}
    field = {"professional": "professional", "parent": "guardian", "youth": "youth"}
    try:
        kw = {}
        if kind in linked:
            name, what = linked[kind]
            kw[name] = number(form[field[kind]], field[kind], what)
        with deps.work(request, who) as u:
            accounts.create(u, username=form["username"], display_name=form["display_name"],
                            kind=kind, region_id=who.actor.region_id,
                            email=form["email"] or None, password=password or None, **kw)
    except ServiceError as exc:
        return _accounts_page(request, who, status=exc.status or 422, form=form,
                              errors={exc.field or "": exc.message})
    return RedirectResponse(f"{ACCOUNTS}?gedaan=aangemaakt", status_code=303)


@router.post(ACCOUNTS + "/{account_id}/ontgrendelen")
async def unlock(account_id: str, request: Request, who: Admin) -> Response:
    data = await form_of(request)
    return await run(_act, request, who, data, account_id, "ontgrendeld")


@router.post(ACCOUNTS + "/{account_id}/uitschakelen")
async def disable(account_id: str, request: Request, who: Admin) -> Response:
    data = await form_of(request)
    return await run(_act, request, who, data, account_id, "uitgeschakeld")


def _act(request: Request, who: Who, data: dict, account_id: str, done: str) -> Response:
    deps.check_csrf(request, who, data)
    target = ident(account_id, "onbekend account", "account")
    with deps.work(request, who) as u:
        account = accounts.get(u, target)
        if done == "ontgrendeld":
            accounts.unlock(u, account)
        else:
            accounts.disable(u, account)
    return RedirectResponse(f"{ACCOUNTS}?gedaan={done}", status_code=303)
