"""The decision contract over HTTP, the API's OpenAPI document, its documentation page and
/me (who a call acts as). The decisions need no account and store nothing.

`POST /api/v1/decisions` takes and returns exactly what `deelwijs decide` does: the same
request objects (or an array of them), the same answers, the same problems with the same JSON
paths. It reads the body itself and answers with pre-serialised orjson bytes (no request or
response models): the engine's parser is the validation.
"""

from __future__ import annotations

import json
import re

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response

from deelwijs.domain.contract import NotJson, decide_payload, parse_json
from deelwijs.errors import DeelwijsError
from deelwijs.rules import loader
from deelwijs.web import openapi
from deelwijs.web.deps import ApiLogin
from deelwijs.web.errors import dumps, problem, problem_of
from deelwijs.web.templating import render

router = APIRouter()

# orjson reads an integer beyond 64 bits as a float, Python's json as an int: a body with 19
# or more digits in a row (rare: only such numbers or long digit strings) is read by json
_LONG_NUMBER = re.compile(rb"[0-9]{19}")
_TRUE, _FALSE = {"true", "1", "ja", "yes"}, {"false", "0", "nee", "no", ""}


class _Refused(Exception):
    def __init__(self, response: Response):
        self.response = response


def parse_body(body: bytes):
    """The request's JSON, as `deelwijs decide` reads it: orjson for speed; where orjson
    refuses or would read otherwise, Python's json decides (it reads what the CLI reads, such
    as integers beyond 64 bits, 1e400 or a leading byte order mark, and words a problem the
    way the CLI does). Raises NotJson."""
    if not _LONG_NUMBER.search(body):
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError:
            pass
    try:
        text = body.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise NotJson(f"de body is geen UTF-8-tekst (byte {exc.start + 1} niet)") from None
    return parse_json(text)


def _ruleset(request: Request):
    name = request.query_params.get("ruleset") or None
    if name is None:
        return loader.model()
    if loader.builtin_path(name) is None:  # never a path: the API reads no files
        ids = ", ".join(loader.builtin_ids())
        message = f"onbekende ruleset '{name}' (ingebouwd: {ids})"
        raise _Refused(problem(422, message, code="ruleset_not_found", errors=[
            {"path": "ruleset", "code": "ruleset_not_found", "message": message}]))
    return loader.resolve(name)


def _explain(request: Request) -> bool:
    raw = request.query_params.get("explain")
    if raw is None:
        return False
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    message = f"explain moet true of false zijn, niet '{raw}'"
    raise _Refused(problem(422, message, errors=[
        {"path": "explain", "code": "wrong_type", "message": message}]))


async def _read_body(request: Request) -> bytes:
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > openapi.MAX_BODY:
        raise _Refused(_too_large())
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > openapi.MAX_BODY:
            raise _Refused(_too_large())
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large() -> Response:
    return problem(413, f"Ten hoogste {openapi.MAX_BODY // (1024 * 1024)} MiB per aanroep; "
                   "verdeel de verzoeken over meer aanroepen.")


@router.post("/decisions")
async def decisions(request: Request) -> Response:
    try:
        rs = _ruleset(request)
        explain = _explain(request)
        payload = parse_body(await _read_body(request))
        if isinstance(payload, list) and len(payload) > openapi.MAX_BATCH:
            return problem(413, f"Ten hoogste {openapi.MAX_BATCH} verzoeken per aanroep; "
                           f"deze lijst heeft er {len(payload)}.")
        answer = decide_payload(payload, rs, explain)
    except _Refused as refused:
        return refused.response
    except DeelwijsError as exc:  # NotJson (400), RequestError (422): web/errors.problem_of
        return problem_of(exc)
    return Response(dumps(answer), media_type="application/json")


@router.get("/me")
def me(who: ApiLogin) -> Response:
    """Who this call acts as: the account of the token (or the browser's session)."""
    actor = who.actor
    return Response(dumps({
        "account": {"id": who.account_id, "username": who.username,
                    "display_name": who.display_name, "kind": who.kind},
        "actor": {"kind": actor.kind, "region_id": actor.region_id,
                  "organisation_id": actor.organisation_id,
                  "professional_id": actor.professional_id, "hat": actor.hat},
        "by_token": who.by_token}), media_type="application/json")


@router.get("/openapi.json")
async def openapi_document() -> Response:
    return Response(_openapi_bytes(), media_type="application/json")


def _openapi_bytes(_cache: list = []) -> bytes:  # noqa: B006 (a per-process cache)
    if not _cache:
        _cache.append(orjson.dumps(openapi.document()))
    return _cache[0]


PROBLEMS = (
    ("invalid_json", 400, "De body is geen (bruikbare) JSON, of geen UTF-8."),
    ("invalid_request", 422, "Een of meer verzoeken kloppen niet: onbekende code, ontbrekend "
     "veld, verkeerd type, leeftijd buiten 0 t/m 30. Zie errors."),
    ("ruleset_not_found", 422, "De gevraagde ruleset is geen ingebouwde ruleset."),
    ("too_large", 413, "Te veel verzoeken of te veel bytes in één aanroep."),
    ("unauthenticated", 401, "Geen, een onbekend, ingetrokken of verlopen token (Authorization: "
     "Bearer dw_...), of geen ingelogde browsersessie."),
    ("csrf_refused", 403, "Een schrijvende aanroep vanuit een browsersessie zonder de header "
     "X-CSRF-Token van die sessie."),
    ("not_found", 404, "Dit adres bestaat niet in de API, of het gegeven bestaat niet of is niet "
     "van uw organisatie (dan ook 404, zonder meer te zeggen)."),
    ("conflict", 409, "Iemand anders wijzigde het gegeven eerst; laad opnieuw."),
    ("method_not_allowed", 405, "Deze methode kan niet op dit adres (de header Allow noemt "
     "wat wel kan)."),
    ("internal_error", 500, "Een fout in Deelwijs zelf. Meld het als het blijft gebeuren."),
)


def _values(schema: dict) -> str:
    if "enum" in schema:
        return ", ".join(str(v) for v in schema["enum"])
    kind = schema.get("type", "")
    text = {"boolean": "true of false", "integer": "geheel getal", "string": "tekst",
            "array": "lijst", "object": "object", "number": "getal"}.get(kind, str(kind))
    if kind == "integer" and "minimum" in schema:
        text += f" {schema['minimum']} t/m {schema['maximum']}"
    if kind == "array" and "enum" in schema.get("items", {}):
        text += " van: " + ", ".join(schema["items"]["enum"])
    if "default" in schema:
        text += f" (standaard {str(schema['default']).lower()})"
    return text


def field_rows(schema: dict, prefix: str = "") -> list[tuple[str, str, str]]:
    """The fields of a request schema as (dotted name, values, meaning), for the docs page."""
    rows = []
    required = set(schema.get("required", ()))
    for name, sub in schema.get("properties", {}).items():
        dotted = f"{prefix}{name}"
        meaning = sub.get("description", "")
        if name in required:
            meaning = f"verplicht. {meaning}" if meaning else "verplicht"
        if sub.get("type") == "object" and sub.get("properties"):
            if meaning:
                rows.append((dotted, "object", meaning))
            rows.extend(field_rows(sub, f"{dotted}."))
        else:
            rows.append((dotted, _values(sub), meaning))
    return rows


@router.get("/docs")
async def docs() -> Response:
    doc = openapi.document()
    schemas = doc["components"]["schemas"]
    return render("api/docs.html", doc=doc, contract=openapi.CONTRACT_VERSION,
                  example_line=json.dumps(openapi.EXAMPLE_REQUEST, ensure_ascii=False),
                  answer=json.dumps(decide_payload(openapi.EXAMPLE_REQUEST, loader.model()),
                                    ensure_ascii=False, indent=2),
                  fields=field_rows(schemas["DisclosureRequest"]), problems=PROBLEMS,
                  max_batch=openapi.MAX_BATCH,
                  max_mib=openapi.MAX_BODY // (1024 * 1024),
                  rulesets=loader.builtin_ids())
