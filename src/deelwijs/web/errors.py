"""One place that turns errors into responses: a Dutch HTML page, or problem+json under /api/.

Handlers raise (or return `problem(...)` for input they refuse); this module decides what the
answer looks like. Problems follow RFC 9457: `type`, `title`, `status`, `detail`, plus `code`
(stable, for programs) and, for bad input, `errors`: one {path, code, message} per problem,
the path named as `deelwijs decide` names it (`request[3].data[1]`).

Every Deelwijs error (deelwijs.errors.DeelwijsError) becomes a problem by `problem_of`, from
its own code, status, message and field: one mapping, no branch per class.
"""

from __future__ import annotations

import json
import logging

import orjson
from fastapi import FastAPI, Request
from starlette.exceptions import HTTPException
from starlette.responses import Response

from deelwijs.errors import DeelwijsError
from deelwijs.web.templating import render

API_PREFIX = "/api/"
PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("deelwijs.web")

# status → (code, title); titles are Dutch, as every message a person reads
_STATUS = {
    400: ("bad_request", "Ongeldig verzoek"),
    403: ("forbidden", "Niet toegestaan"),
    404: ("not_found", "Niet gevonden"),
    405: ("method_not_allowed", "Methode niet toegestaan"),
    409: ("conflict", "Gewijzigd door een ander"),
    413: ("too_large", "Verzoek te groot"),
    415: ("unsupported_media_type", "Niet-ondersteund formaat"),
    422: ("invalid_request", "Ongeldige invoer"),
    500: ("internal_error", "Interne fout"),
}


def dumps(value) -> bytes:
    """orjson; Python's encoder (escaping) for the rare text orjson refuses (a lone surrogate
    from the input, echoed back in a message)."""
    try:
        return orjson.dumps(value)
    except (TypeError, orjson.JSONEncodeError):
        return json.dumps(value, ensure_ascii=True).encode()


def problem(status: int, detail: str, code: str | None = None, title: str | None = None,
            errors: list[dict] | None = None, headers: dict | None = None) -> Response:
    default_code, default_title = _STATUS.get(status, ("error", "Fout"))
    code = code or default_code
    body = {"type": f"/api/v1/docs#probleem-{code}", "title": title or default_title,
            "status": status, "detail": detail, "code": code}
    if errors is not None:
        body["errors"] = errors
    return Response(dumps(body), status_code=status, media_type=PROBLEM_JSON, headers=headers)


INTERNAL = ("Er ging iets mis in Deelwijs. Probeer het later opnieuw; meld het als het blijft "
            "gebeuren.")


def problem_of(exc: DeelwijsError) -> Response:
    """A Deelwijs error as problem+json: its status, its code, and its problems as `errors`
    ({path, code, message}: the field it names, or each problem of a request or ruleset).
    `detail` is `path: message` for one problem, a count for more, else the message. An
    error without a status is not the caller's doing (a setting, a file, the database): 500,
    with its code but without its message, which goes to the server's log."""
    if exc.status is None:
        log.error("fout in Deelwijs (%s): %s", exc.code, exc)
        return problem(500, INTERNAL, code=exc.code)
    errors = exc.errors()
    if len(errors) > 1:
        detail = f"{len(errors)} problemen; zie errors"
    elif errors:
        detail = f"{errors[0]['path']}: {errors[0]['message']}"
    else:
        detail = exc.message
    return problem(exc.status, detail, code=exc.code, errors=errors or None)


_PAGE_TEXT = {
    404: ("Pagina niet gevonden",
          "Deze pagina bestaat niet (meer). Controleer het adres, of ga naar de startpagina."),
    405: ("Dit kan hier niet",
          "Deze pagina kan niet op deze manier worden opgevraagd. Ga naar de startpagina en "
          "probeer het opnieuw."),
}


async def http_error(request: Request, exc: HTTPException) -> Response:
    status = exc.status_code
    headers = getattr(exc, "headers", None)
    if request.url.path.startswith(API_PREFIX):
        detail = {404: "Dit adres bestaat niet in de API. Zie /api/v1/docs.",
                  405: f"{request.method} kan niet op {request.url.path}."}.get(
                      status, str(exc.detail))
        return problem(status, detail, headers=headers)
    title, text = _PAGE_TEXT.get(status, (_STATUS.get(status, ("", "Fout"))[1],
                                          "Er ging iets mis met deze aanvraag."))
    template = "errors/404.html" if status == 404 else "errors/error.html"
    return render(template, status_code=status, headers=headers, title=title, text=text,
                  status=status, who=_who(request))


def _who(request: Request):
    """Who is logged in, where the request already found out (web.deps.resolve): the header
    of an error page then shows the account, not "Inloggen"."""
    found = getattr(request.state, "who", None)
    return found[0] if found else None


async def server_error(request: Request, exc: Exception) -> Response:
    """A bug of ours: a plain Dutch page (or problem) without a stack trace. The trace goes to
    the server's log only."""
    log.error("interne fout bij %s %s: %s: %s", request.method, request.url.path,
              type(exc).__name__, exc)
    if request.url.path.startswith(API_PREFIX):
        return problem(500, INTERNAL)
    return render("errors/error.html", status_code=500, title="Er ging iets mis",
                  text="Er ging iets mis in Deelwijs. Probeer het later opnieuw. Blijft het "
                  "gebeuren, meld het dan aan de beheerder.", status=500)


async def deelwijs_error(request: Request, exc: DeelwijsError) -> Response:
    """A Deelwijs error a handler did not catch: problem+json under /api/ (problem_of), else
    a Dutch page with its message; one without a status is a 500 page (server_error)."""
    if request.url.path.startswith(API_PREFIX):
        response = problem_of(exc)
        if exc.status == 401:
            response.headers["www-authenticate"] = 'Bearer realm="deelwijs"'
        return response
    if exc.status is None:
        return await server_error(request, exc)
    return render("errors/error.html", status_code=exc.status,
                  title=_STATUS.get(exc.status, ("", "Fout"))[1], text=exc.message,
                  status=exc.status, who=_who(request))


async def login_required(request: Request, exc) -> Response:
    """A page that needs a login (web.deps.LoginRequired): to the login page, and back.
    Under /api/ it is a 401 problem like any other."""
    from starlette.responses import RedirectResponse

    if request.url.path.startswith(API_PREFIX):
        return await deelwijs_error(request, exc)
    return RedirectResponse(exc.to, status_code=303)


def install(app: FastAPI) -> None:
    from deelwijs.web.deps import LoginRequired

    app.add_exception_handler(LoginRequired, login_required)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(DeelwijsError, deelwijs_error)
    app.add_exception_handler(Exception, server_error)
