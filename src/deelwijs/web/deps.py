"""Who is asking, and the unit of work a route does in their name.

Pages and the API share this module: a route asks for `Who` (the account and its Actor, from
the session cookie or a personal access token) as `who: Login` (pages: a login is
needed, else a redirect to the login page), `who: ApiLogin` (the API: else 401
problem+json) or `who: MaybeLogin` (pages open to all, such as the start page), and
does its work in `work(request, who)`: one transaction, committed before the response is
built, with the Unit (services/context.py) of that actor. Need to know is decided in the
services, never here: a route only says that someone must be logged in.

Sessions are server-side (services/accounts.py: only the SHA-256 of the cookie's token is
stored). The cookie is HttpOnly, SameSite=Lax and (unless DEELWIJS_COOKIE_SECURE=false)
Secure with the `__Host-` prefix. Every form of a logged-in page carries the session's CSRF
token (`csrf` field, or the X-CSRF-Token header for htmx), checked by `check_csrf`; forms
before login (the login page itself) use a double-submit cookie instead.
"""

from __future__ import annotations

import datetime as dt
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request
from starlette.datastructures import FormData
from starlette.responses import Response

from deelwijs.errors import DeelwijsError
from deelwijs.services import accounts
from deelwijs.services.app import App, open_app
from deelwijs.services.context import Actor, Unit
from deelwijs.services.errors import Refused, ServiceError
from deelwijs.services.log import audit
from deelwijs.storage import orm

LOGIN = "/inloggen"
SECOND_FACTOR = "/inloggen/tweede-factor"
ENROL = "/account/tweede-factor"
START = "/start"
_lock = threading.Lock()


class LoginRequired(DeelwijsError):
    """A page needs a login (or a finished second factor): answered with a redirect to `to`
    (web/errors.login_required), not with an error page."""

    code = "login_required"
    status = 401

    def __init__(self, to: str):
        super().__init__("log eerst in")
        self.to = to


Unauthenticated = accounts.Unauthenticated


class CsrfRefused(ServiceError):
    """A form or unsafe call of a browser's session without its CSRF token."""

    code = "csrf_refused"
    status = 403


def services(request: Request) -> App:
    """The services' App of this web app, opened on first use (the wizard and the decision
    API never need it): migrates the embedded database as the CLI does."""
    state = request.app.state
    app = getattr(state, "deelwijs", None)
    if app is None:
        with _lock:
            app = getattr(state, "deelwijs", None)
            if app is None:
                app = state.deelwijs = open_app(state.settings)
    return app


def policy(request: Request) -> accounts.Policy:
    return accounts.Policy.of(request.app.state.settings)


def cookie_name(request: Request) -> str:
    return "__Host-deelwijs" if request.app.state.settings.cookie_secure else "deelwijs"


def remote(request: Request) -> str | None:
    return request.client.host if request.client else None


@dataclass(frozen=True)
class Who:
    """The account logged in, its actor, and its web session (None with a token)."""

    account_id: int
    username: str
    display_name: str
    kind: str
    actor: Actor
    session_id: str | None = None
    csrf: str | None = None
    hat: str | None = None
    hats: tuple[str, ...] = ()
    second_factor: bool = False

    @property
    def by_token(self) -> bool:
        return self.session_id is None


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization") or ""
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def _now() -> dt.datetime:
    return accounts.utcnow()


def resolve(request: Request) -> tuple[Who | None, str | None]:
    """(Who, None) for a live session or token; (None, where to go) for a session halfway
    (second factor to give or to set up); (None, None) for nobody. Cached on the request."""
    if hasattr(request.state, "who"):
        return request.state.who
    result: tuple[Who | None, str | None] = (None, None)
    token = _bearer(request)
    cookie = request.cookies.get(cookie_name(request))
    if token is not None or cookie:
        app = services(request)
        now = _now()
        with app.transaction() as s:
            if token is not None:
                account = accounts.account_of_token(s, token, now=now, today=now.date())
                if account is None and not token.startswith(accounts.TOKEN_PREFIX):
                    from deelwijs.web import oidc  # a system's access token (client credentials)

                    account = oidc.account_of_bearer(request, s, token)
                if account is None:
                    raise Unauthenticated("unauthenticated", "het token is onbekend, "
                                          "ingetrokken of verlopen")
                result = (_who(s, account, None), None)
            else:
                found = accounts.session_of(s, cookie, now=now, policy=policy(request))
                if found is not None:
                    row, account = found
                    if row.second_factor_at is None:
                        result = (None, SECOND_FACTOR)
                    elif accounts.must_enrol(account):
                        result = (_who(s, account, row), ENROL)
                    else:
                        result = (_who(s, account, row), None)
    request.state.who = result
    return result


def _who(s, account: orm.Account, row: orm.WebSession | None) -> Who:
    hat = row.hat if row is not None else None
    return Who(account.id, account.username, account.display_name, account.kind,
               accounts.actor_for(s, account, hat),
               session_id=row.id if row is not None else None,
               csrf=row.csrf if row is not None else None, hat=hat,
               hats=tuple(accounts.hats_of(s, account)),
               second_factor=account.totp_confirmed_at is not None)


def maybe_login(request: Request) -> Who | None:
    """The account, or None (a page open to everyone). A halfway session counts as none."""
    who, _ = resolve(request)
    return who


def login(request: Request) -> Who:
    """A page that needs a login: else a redirect to the login page (or to the second factor
    still to give or set up), back here afterwards."""
    who, to = resolve(request)
    if who is not None and to is None:
        return who
    if to == ENROL and request.url.path.startswith("/account"):
        return who
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    raise LoginRequired(to or f"{LOGIN}?terug={quote(here, safe='')}")


def api_login(request: Request) -> Who:
    """An API call that needs an account: a personal access token (or a browser's session
    of the web app); else 401."""
    who, to = resolve(request)
    if who is None or to is not None:
        raise Unauthenticated("unauthenticated", "log in of stuur een persoonlijk "
                              "toegangstoken mee (Authorization: Bearer dw_...)")
    return who


Login = Annotated[Who, Depends(login)]
MaybeLogin = Annotated[Who | None, Depends(maybe_login)]
ApiLogin = Annotated[Who, Depends(api_login)]


def role(*kinds: str):
    """A dependency: logged in (page) as one of these kinds of account, else 403."""

    def check(who: Login) -> Who:
        if who.kind not in kinds:
            raise Refused("forbidden", "deze pagina is niet voor uw soort account")
        return who

    return check


@contextmanager
def work(request: Request, who: Who | None, today: dt.date | None = None) -> Iterator[Unit]:
    """One unit of work in `who`'s name: committed when the block ends without an error,
    rolled back (nothing written) when it raises. Its log entries name the account
    (audit.acting)."""
    app = services(request)
    actor = who.actor if who is not None else Actor.admin()
    with audit.acting(actor), app.transaction() as s:
        yield Unit(app, s, actor, today or dt.date.today())


# --- CSRF ------------------------------------------------------------------------------------

PRE_COOKIE = "deelwijs_csrf"


def check_csrf(request: Request, who: Who | None, form: FormData | None) -> None:
    """An unsafe request of a browser's session must carry the session's CSRF token (form
    field `csrf` or header X-CSRF-Token). Token requests (the API's Bearer) need none."""
    if who is None or who.by_token:
        return
    sent = (form.get("csrf") if form is not None else None) or request.headers.get(
        "x-csrf-token")
    check_token(sent, who.csrf)


def check_token(sent, expected: str | None) -> None:
    """The CSRF token sent is the session's (compared in constant time), else CsrfRefused."""
    if not isinstance(sent, str) or not secrets.compare_digest(sent, expected or ""):
        raise CsrfRefused("csrf_refused", "dit formulier is verlopen of komt niet van "
                          "Deelwijs; laad de pagina opnieuw en probeer het nog eens")


def pre_csrf(request: Request) -> str:
    """The double-submit token of a form before login (the login page): the cookie's value,
    or a new one that `set_pre_csrf` puts in a cookie."""
    return request.cookies.get(PRE_COOKIE) or secrets.token_urlsafe(24)


def set_pre_csrf(request: Request, response: Response, token: str) -> None:
    if request.cookies.get(PRE_COOKIE) != token:
        response.set_cookie(PRE_COOKIE, token, httponly=True, samesite="strict",
                            secure=request.app.state.settings.cookie_secure, path="/")


def check_pre_csrf(request: Request, form: FormData) -> None:
    cookie = request.cookies.get(PRE_COOKIE) or ""
    sent = form.get("csrf")
    if not cookie or not isinstance(sent, str) or not secrets.compare_digest(sent, cookie):
        raise CsrfRefused("csrf_refused", "dit formulier is verlopen of uw browser houdt geen "
                          "cookies bij; laad de pagina opnieuw en probeer het nog eens")


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    settings = request.app.state.settings
    response.set_cookie(cookie_name(request), token, httponly=True, samesite="lax",
                        secure=settings.cookie_secure, path="/",
                        max_age=int(settings.session_hours * 3600))


def clear_session_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(cookie_name(request), path="/",
                           secure=request.app.state.settings.cookie_secure, httponly=True,
                           samesite="lax")
