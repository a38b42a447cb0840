"""Logging in and out, the second factor, and the account page.

- `/inloggen`: name and password (services/accounts.authenticate: argon2id, lock-out after
  DEELWIJS_LOGIN_MAX_FAILURES refusals), and a rate limit per address in this process
  (LOGIN_LIMIT attempts per LOGIN_WINDOW). A new session every time (no fixation).
- `/inloggen/tweede-factor`: the TOTP code, for an account that set one up.
- `/account/tweede-factor`: setting one up; the FG and administrators must, before anything.
- `/uitloggen` (POST, with the CSRF token): the session ends.
- `/account`: who you are, your hat (switching is recorded), your password, your personal
  access tokens for the API and the CLI.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import deque
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from deelwijs.domain import labels
from deelwijs.services import accounts
from deelwijs.services.errors import ServiceError
from deelwijs.storage import orm
from deelwijs.web import deps
from deelwijs.web.deps import Login, Who
from deelwijs.web.templating import render

router = APIRouter()
LOGIN_LIMIT = 20
LOGIN_WINDOW = 300.0  # seconds
KIND_NAMES = {"professional": "professional", "fg": "privacyfunctionaris (FG)",
              "admin": "beheerder", "parent": "ouder", "youth": "jongere"}


class RateLimit:
    """At most `limit` attempts per `window` seconds per key (an address), in this process.
    With several workers each counts on its own; the lock-out per account (in the database)
    holds across them."""

    def __init__(self, limit: int = LOGIN_LIMIT, window: float = LOGIN_WINDOW):
        self.limit, self.window = limit, window
        self._seen: dict[str, deque] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, now: float | None = None) -> bool:
        """Count an attempt; False when over the limit."""
        now = time.monotonic() if now is None else now
        with self._lock:
            seen = self._seen.setdefault(key, deque())
            while seen and seen[0] <= now - self.window:
                seen.popleft()
            if len(seen) >= self.limit:
                return False
            seen.append(now)
            if len(self._seen) > 10_000:  # forget addresses that went quiet
                for k in [k for k, v in self._seen.items() if not v]:
                    del self._seen[k]
            return True


def limiter(request: Request) -> RateLimit:
    state = request.app.state
    if not hasattr(state, "login_limit"):
        state.login_limit = RateLimit()
    return state.login_limit


def safe_next(target: str | None) -> str:
    """Only a path on this site (no //host, no scheme): else the start page."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return deps.START
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return deps.START
    return target


def _login_page(request: Request, *, error: str | None = None, username: str = "",
                status: int = 200, terug: str = "") -> Response:
    token = deps.pre_csrf(request)
    settings = request.app.state.settings
    response = render("auth/login.html", status_code=status, error=error, username=username,
                      csrf=token, terug=terug, who=None, oidc=bool(settings.oidc_issuer))
    deps.set_pre_csrf(request, response, token)
    return response


@router.get(deps.LOGIN)
def login_form(request: Request, terug: str = "") -> Response:
    who = deps.maybe_login(request)
    if who is not None:
        return RedirectResponse(safe_next(terug), status_code=303)
    return _login_page(request, terug=terug)


@router.post(deps.LOGIN)
async def login_submit(request: Request) -> Response:
    async with request.form(max_files=0, max_fields=20) as form:
        data = {k: form.get(k) for k in ("csrf", "username", "password", "terug")}
    return await _run(request, _login, data)


async def _run(request: Request, fn, *args):
    return await run_in_threadpool(fn, request, *args)


def _login(request: Request, data: dict) -> Response:
    username = data.get("username") if isinstance(data.get("username"), str) else ""
    password = data.get("password") if isinstance(data.get("password"), str) else ""
    terug = data.get("terug") if isinstance(data.get("terug"), str) else ""
    deps.check_pre_csrf(request, data)
    if not limiter(request).hit(deps.remote(request) or "?"):
        return _login_page(request, username=username, status=429, terug=terug,
                           error="Te veel inlogpogingen vanaf dit adres. Wacht een paar "
                           "minuten en probeer het opnieuw.")
    app = deps.services(request)
    now = accounts.utcnow()
    try:
        with app.transaction() as s:
            try:
                account = accounts.authenticate(s, username[:200], password[:2048], now=now,
                                                policy=deps.policy(request),
                                                remote=deps.remote(request))
            except accounts.LoginRefused as exc:
                refused = exc  # the refusal's events and counters are committed
            else:
                refused = None
                token, _ = accounts.open_session(
                    s, account, now=now, policy=deps.policy(request),
                    second_factor=not accounts.needs_second_factor(account),
                    remote=deps.remote(request))
                if accounts.needs_second_factor(account):
                    to = f"{deps.SECOND_FACTOR}?terug={terug}" if terug else deps.SECOND_FACTOR
                elif accounts.must_enrol(account):
                    to = deps.ENROL
                else:
                    to = safe_next(terug)
    except ServiceError as exc:
        refused = exc
    if refused is not None:
        return _login_page(request, username=username, status=401, terug=terug,
                           error=refused.message)
    response = RedirectResponse(to, status_code=303)
    deps.set_session_cookie(request, response, token)
    return response


def _halfway(request: Request, s) -> tuple[orm.WebSession, orm.Account] | None:
    found = accounts.session_of(s, request.cookies.get(deps.cookie_name(request)),
                                now=accounts.utcnow(), policy=deps.policy(request))
    if found is None or found[0].second_factor_at is not None:
        return None
    return found


@router.get(deps.SECOND_FACTOR)
def second_factor_form(request: Request, terug: str = "") -> Response:
    with deps.services(request).transaction() as s:
        found = _halfway(request, s)
        if found is None:
            return RedirectResponse(deps.LOGIN, status_code=303)
        csrf = found[0].csrf
    return render("auth/second_factor.html", csrf=csrf, error=None, terug=terug, who=None)


@router.post(deps.SECOND_FACTOR)
async def second_factor_submit(request: Request) -> Response:
    async with request.form(max_files=0, max_fields=20) as form:
        data = {k: form.get(k) for k in ("csrf", "code", "terug")}
    return await _run(request, _second_factor, data)


def _second_factor(request: Request, data: dict) -> Response:
    app = deps.services(request)
    now = accounts.utcnow()
    terug = data.get("terug") if isinstance(data.get("terug"), str) else ""
    error = None
    with app.transaction() as s:
        found = _halfway(request, s)
        if found is None:
            return RedirectResponse(deps.LOGIN, status_code=303)
        row, account = found
        deps.check_token(data.get("csrf"), row.csrf)
        try:
            accounts.totp_check(s, app.keys, account, str(data.get("code") or "")[:20], now,
                                deps.remote(request), policy=deps.policy(request))
        except accounts.LoginRefused as exc:
            error = exc.message
            if accounts.locked(account, now):
                accounts.end_session(s, row, now, deps.remote(request))
                error = ("Te veel foute codes: dit account is tijdelijk geblokkeerd. "
                         "Probeer het later opnieuw of vraag het beheer.")
        else:
            accounts.second_factor_done(s, row, account, now, deps.remote(request))
    if error is not None:
        return render("auth/second_factor.html", status_code=401, csrf=row.csrf, error=error,
                      terug=terug, who=None)
    return RedirectResponse(safe_next(terug), status_code=303)


@router.post("/uitloggen")
async def logout(request: Request) -> Response:
    async with request.form(max_files=0, max_fields=5) as form:
        data = {"csrf": form.get("csrf")}
    return await _run(request, _logout, data)


def _logout(request: Request, data: dict) -> Response:
    with deps.services(request).transaction() as s:
        found = accounts.session_of(s, request.cookies.get(deps.cookie_name(request)),
                                    now=accounts.utcnow(), policy=deps.policy(request))
        if found is not None:
            row, _account = found
            deps.check_token(data.get("csrf"), row.csrf)
            accounts.end_session(s, row, accounts.utcnow(), deps.remote(request))
    response = RedirectResponse("/?uitgelogd=1", status_code=303)
    deps.clear_session_cookie(request, response)
    return response


# --- the account page ------------------------------------------------------------------------


def _account_page(request: Request, who: Who, *, status: int = 200, message: str | None = None,
                  error: str | None = None, new_token: str | None = None) -> Response:
    with deps.work(request, who) as u:
        account = u.session.get(orm.Account, who.account_id)
        tokens = accounts.tokens(u, account)
        region = u.session.get(orm.Region, account.region_id) if account.region_id else None
        org = u.organisation
        view = {"username": account.username, "display_name": account.display_name,
                "kind": KIND_NAMES.get(account.kind, account.kind),
                "region": region.name if region else "alle regio's",
                "organisation": org.name if org else None,
                "second_factor": account.totp_confirmed_at is not None,
                "must_enrol": accounts.must_enrol(account),
                "tokens": [{"id": t.id, "name": t.name, "prefix": t.prefix,
                            "created": t.created_at.date().isoformat(),
                            "expires": t.expires_on.isoformat() if t.expires_on else None,
                            "used": t.last_used_at.isoformat(timespec="minutes")
                            if t.last_used_at else None,
                            "revoked": t.revoked_at is not None} for t in tokens]}
    hats = [("", "Geen pet (mijn gewone rol)")] + [
        (h, labels.HAT_CHOICE.get(h, h)) for h in who.hats]
    return render("auth/account.html", status_code=status, who=who, account=view, hats=hats,
                  message=message, error=error, new_token=new_token)


@router.get("/account")
def account_page(request: Request, who: Login) -> Response:
    return _account_page(request, who)


async def _form(request: Request, *names: str) -> dict:
    async with request.form(max_files=0, max_fields=30) as form:
        return {k: form.get(k) for k in ("csrf", *names)}


def _text(data: dict, name: str) -> str:
    value = data.get(name)
    return value if isinstance(value, str) else ""


@router.post("/account/pet")
async def switch_hat(request: Request, who: Login) -> Response:
    data = await _form(request, "hat")
    return await _run(request, _switch_hat, who, data)


def _switch_hat(request: Request, who: Who, data: dict) -> Response:
    deps.check_csrf(request, who, data)
    try:
        with deps.work(request, who) as u:
            row = u.session.get(orm.WebSession, who.session_id)
            account = u.session.get(orm.Account, who.account_id)
            accounts.switch_hat(u.session, row, account, _text(data, "hat") or None,
                                accounts.utcnow(), deps.remote(request))
    except ServiceError as exc:
        return _account_page(request, who, status=exc.status or 422, error=exc.message)
    return RedirectResponse("/account?pet=1", status_code=303)


@router.post("/account/wachtwoord")
async def change_password(request: Request, who: Login) -> Response:
    data = await _form(request, "current", "password", "again")
    return await _run(request, _change_password, who, data)


def _change_password(request: Request, who: Who, data: dict) -> Response:
    deps.check_csrf(request, who, data)
    if _text(data, "password") != _text(data, "again"):
        return _account_page(request, who, status=422,
                             error="de twee nieuwe wachtwoorden zijn niet gelijk")
    try:
        with deps.work(request, who) as u:
            account = u.session.get(orm.Account, who.account_id)
            accounts.set_password(u, account, _text(data, "password"),
                                  current=_text(data, "current"))
    except ServiceError as exc:
        return _account_page(request, who, status=exc.status or 422, error=exc.message)
    return _account_page(request, who, message="Uw wachtwoord is gewijzigd.")


@router.post("/account/tokens")
async def create_token(request: Request, who: Login) -> Response:
    data = await _form(request, "name", "expires")
    return await _run(request, _create_token, who, data)


def _create_token(request: Request, who: Who, data: dict) -> Response:
    deps.check_csrf(request, who, data)
    expires = None
    raw = _text(data, "expires").strip()
    if raw:
        try:
            expires = dt.date.fromisoformat(raw)
        except ValueError:
            return _account_page(request, who, status=422,
                                 error="de vervaldatum is geen datum (jjjj-mm-dd)")
    try:
        with deps.work(request, who) as u:
            account = u.session.get(orm.Account, who.account_id)
            token, _ = accounts.new_token(u, account, _text(data, "name"), expires)
    except ServiceError as exc:
        return _account_page(request, who, status=exc.status or 422, error=exc.message)
    return _account_page(request, who, status=201, new_token=token,
                         message="Het token is gemaakt. Kopieer het nu: het wordt niet "
                         "nog eens getoond.")


@router.post("/account/tokens/{token_id}/intrekken")
async def revoke_token(token_id: int, request: Request,
                       who: Login) -> Response:
    data = await _form(request)
    return await _run(request, _revoke_token, who, data, token_id)


def _revoke_token(request: Request, who: Who, data: dict, token_id: int) -> Response:
    deps.check_csrf(request, who, data)
    with deps.work(request, who) as u:
        accounts.revoke_token(u, token_id)
    return RedirectResponse("/account?ingetrokken=1", status_code=303)


# --- setting up the second factor ------------------------------------------------------------


@router.get(deps.ENROL)
def enrol_form(request: Request, who: Login) -> Response:
    with deps.work(request, who) as u:
        account = u.session.get(orm.Account, who.account_id)
        secret, uri = accounts.totp_begin(u.keys, account)
        required = accounts.must_enrol(account)
        done = account.totp_confirmed_at is not None
    return render("auth/enrol.html", who=who, secret=secret, uri=uri, required=required,
                  done=done, error=None, grouped=" ".join(
                      secret[i:i + 4] for i in range(0, len(secret), 4)))


@router.post(deps.ENROL)
async def enrol_submit(request: Request, who: Login) -> Response:
    data = await _form(request, "secret", "code")
    return await _run(request, _enrol, who, data)


def _enrol(request: Request, who: Who, data: dict) -> Response:
    deps.check_csrf(request, who, data)
    secret = _text(data, "secret").strip().upper()[:64]
    try:
        with deps.work(request, who) as u:
            account = u.session.get(orm.Account, who.account_id)
            accounts.totp_confirm(u.session, u.keys, account, secret,
                                  _text(data, "code")[:20], accounts.utcnow())
    except ServiceError as exc:
        grouped = " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))
        return render("auth/enrol.html", status_code=422, who=who, secret=secret,
                      uri=None, required=True, done=False, error=exc.message, grouped=grouped)
    return RedirectResponse(f"{deps.START}?tweede-factor=1", status_code=303)
