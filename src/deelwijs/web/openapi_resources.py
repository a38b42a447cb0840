"""The resource endpoints of the API in the OpenAPI document (web/openapi.py adds them): paths,
request bodies (as web/api/*.py check them), response schemas written from the services'
views (services/views.py: a TypedDict each, turned into JSON Schema by `typed`), the bearer
security scheme and the problem responses (401, 403, 404, 409, 422).
"""

from __future__ import annotations

import types
import typing
from typing import Any, NotRequired, get_args, get_origin, get_type_hints

from deelwijs.services import views

REF = "#/components/schemas/"


def typed(td) -> dict:
    """A TypedDict as a JSON Schema object: its keys (required unless NotRequired), each
    value's type."""
    hints = get_type_hints(td, include_extras=True)
    props = {name: _type(t) for name, t in hints.items()}
    return {"type": "object", "properties": props,
            "required": [n for n in hints if n in td.__required_keys__]}


def _type(t) -> dict:
    origin = get_origin(t)
    if origin is NotRequired:
        return _type(get_args(t)[0])
    if t is Any:
        return {}
    if t is type(None):
        return {"type": "null"}
    if t is bool:
        return {"type": "boolean"}
    if t is int:
        return {"type": "integer"}
    if t is str:
        return {"type": "string"}
    if origin in (types.UnionType, typing.Union):
        return {"anyOf": [_type(a) for a in get_args(t)]}
    if origin is list:
        return {"type": "array", "items": _type(get_args(t)[0])}
    if origin is dict:
        return {"type": "object", "additionalProperties": _type(get_args(t)[1])}
    if isinstance(t, type) and hasattr(t, "__required_keys__"):
        return {"$ref": REF + t.__name__}
    raise TypeError(f"no schema for {t!r}")


_VIEWS = (views.GuardianView, views.YouthView, views.ShreddedYouthView, views.ParticipantView,
          views.CaseView, views.AgendaItemView, views.MeetingView, views.MinuteView,
          views.DisclosureItemView, views.DisclosureView, views.DisclosureReadView,
          views.OrganisationSignature, views.OrganisationMandate, views.OrganisationSignatory,
          views.OrganisationView, views.ActivationView, views.InzageOrganisationView)


def _arr(items: dict) -> dict:
    return {"type": "array", "items": items}


def _ref(name: str) -> dict:
    return {"$ref": REF + name}


_INT, _STR, _BOOL = {"type": "integer"}, {"type": "string"}, {"type": "boolean"}
_DATE = {"type": "string", "format": "date"}
MAX_ID = 2**31 - 1  # as web/api/common.py
_ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
_OBJ = {"type": "object"}


def _body(properties: dict, required=()) -> dict:
    return {"type": "object", "additionalProperties": False, "properties": properties,
            "required": list(required)}


def schemas() -> dict:
    out = {td.__name__: typed(td) for td in _VIEWS}
    out["DisclosureReadView"] = typed(views.DisclosureReadView)
    out["AnyYouthView"] = {"anyOf": [_ref("YouthView"), _ref("ShreddedYouthView")]}
    out["CaseListItem"] = {"type": "object", "required": ["id", "purpose", "overleg",
                                                          "anonymous", "youth_id", "title"],
                           "properties": {"id": _INT, "purpose": _STR,
                                          "overleg": {"type": ["string", "null"]},
                                          "anonymous": _BOOL,
                                          "youth_id": {"type": ["integer", "null"]},
                                          "title": _STR}}
    out["CaseRead"] = {
        "type": "object",
        "required": ["id", "title", "purpose", "overleg", "anonymous", "youth_id",
                     "opened_on", "version", "participants", "meetings", "disclosures"],
        "properties": {
            "id": _INT, "title": _STR, "purpose": _STR,
            "overleg": {"type": ["string", "null"]}, "anonymous": _BOOL,
            "youth_id": {"type": ["integer", "null"]}, "opened_on": _DATE, "version": _INT,
            "participants": _arr(_ref("ParticipantView")),
            "meetings": _arr({"type": "object", "properties": {
                "id": _INT, "held_on": _DATE, "version": _INT,
                "agenda": _arr(_OBJ), "actions": _arr(_OBJ)}}),
            "disclosures": _arr(_ref("DisclosureView"))}}
    out["MeetingRead"] = {"allOf": [_ref("MeetingView"), {
        "type": "object", "required": ["minutes"],
        "properties": {"minutes": _arr(_ref("MinuteView"))}}]}
    out["ConsentVersion"] = {"type": "object", "required": [
        "series", "version", "role", "answer"], "properties": {
        "series": _STR, "version": _INT, "role": _STR, "guardian_id": {"type": ["integer",
                                                                               "null"]},
        "answer": _STR, "purposes": _arr(_STR), "categories": _arr(_STR)}}
    out["ConsentRecorded"] = {"type": "object", "required": ["series", "version", "answer"],
                              "properties": {"series": _STR, "version": _INT, "answer": _STR}}
    out["Inzage"] = {"type": "object", "description": "het overzicht van de inzage (AVG art. "
                     "15), met Nederlandse namen (docs/rights.md)"}
    out["LogPage"] = {"type": "object", "required": ["region", "entries", "next"],
                      "properties": {"region": _STR, "entries": _arr(_OBJ),
                                     "next": {"type": ["integer", "null"],
                                              "description": "de after van de volgende "
                                              "pagina; null op de laatste"}}}
    out["LogVerifyReport"] = {"type": "object", "required": ["region", "ok", "summary",
                                                            "problems"], "properties": {
        "region": _OBJ, "ok": _BOOL, "summary": _OBJ, "problems": _arr(_STR)}}
    out["Register"] = {"type": "object", "required": ["register", "activiteiten"],
                       "properties": {"register": _OBJ, "activiteiten": _arr(_OBJ)}}
    out["RulesetDiff"] = {"type": "object", "required": ["from", "to", "summary", "changes"],
                          "properties": {"from": _ref("RulesetRef"), "to": _ref("RulesetRef"),
                                         "about": _OBJ, "summary": _OBJ,
                                         "changes": _arr(_OBJ)}}
    out["RulesetCheck"] = {"type": "object", "required": ["ok", "ruleset", "problems"],
                           "properties": {"ok": _BOOL,
                                          "ruleset": {"anyOf": [_ref("RulesetRef"),
                                                                {"type": "null"}]},
                                          "problems": _arr(_OBJ)}}
    # request bodies (as web/api/*.py check them: unknown fields are refused)
    guardian = _body({"name": _STR, "relation": _STR, "gezag": _BOOL},
                     ("name", "relation", "gezag"))
    out["OrganisationCreate"] = _body({
        "region": _STR, "party": _STR, "name": _STR, "kvk": _STR, "oin": _STR,
        "domain": _STR}, ("region", "party", "name"))
    out["OrganisationUpdate"] = _body({"name": _STR, "kvk": _STR, "oin": _STR,
                                       "domain": _STR})
    out["YouthCreate"] = _body({
        "region": _STR, "name": _STR, "birth": _DATE, "bsn": _STR, "school_id": _ID,
        "guardians": _arr(guardian), "startkwalificatie": _BOOL}, ("region", "name", "birth"))
    out["ConsentCreate"] = _body({
        "role": {"type": "string", "enum": ["parent", "youth"]},
        "answer": {"type": "string", "enum": ["given", "refused"]},
        "purposes": _arr(_STR), "categories": _arr(_STR), "given_on": _DATE,
        "written": _BOOL, "recipient_ids": _arr(_ID), "guardian_id": _ID,
        "document_ref": _STR, "prior_to_meeting_id": _ID},
        ("role", "answer", "purposes", "categories"))
    out["CaseOpen"] = _body({
        "region": _STR, "title": _STR, "purpose": _STR, "participants": _arr(_ID),
        "youth_id": _ID, "anonymous": _BOOL, "opened_on": _DATE},
        ("region", "title", "purpose"))
    out["MeetingSchedule"] = _body({"held_on": _DATE, "agenda": _arr(_STR),
                                    "participants": _arr(_ID)})
    out["DisclosureRecord"] = _body({
        "to_org": _ID, "contents": {"type": "object", "additionalProperties": _STR,
                                    "minProperties": 1,
                                    "description": "per gegevenscategorie de inhoud"},
        "case_id": _ID, "youth_id": _ID, "purpose": _STR, "hat": _STR,
        "task": {"type": "string", "enum": ["own", "both", "recipient"]},
        "meeting_id": _ID, "kind": {"type": "string", "enum": ["minute", "document",
                                                               "answer"]},
        "on": _DATE}, ("to_org", "contents"))
    out["RulesetText"] = _body({"text": {"type": "string", "description": "een regionale "
                                         "ruleset als YAML-tekst"}}, ("text",))
    out["RulesetActivate"] = _body({"region": _STR, "ruleset": {
        "type": "string", "description": "een ingebouwd id, of de digest (sha256:…) of het "
        "id van een opgeslagen versie"}, "on": _DATE}, ("region", "ruleset"))
    return out


# --- paths ---------------------------------------------------------------------------------

_TRACE = {"traceparent": {"$ref": "#/components/headers/traceparent"}}
_SECURITY = [{"bearer": []}]
_TRACEPARENT = {"type": "string", "pattern": "^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$",
                "description": "W3C trace context: het spoor van de aanroeper, voortgezet"}


def _problem(description: str) -> dict:
    return {"description": description, "headers": _TRACE,
            "content": {"application/problem+json": {"schema": _ref("Problem")}}}


_PROBLEMS = {
    "400": _problem("de body is geen (bruikbare) JSON"),
    "401": {**_problem("geen of een ongeldig token (Authorization: Bearer dw_...)"),
            "headers": {**_TRACE, "www-authenticate": {"schema": _STR}}},
    "403": _problem("dit mag deze gebruiker niet (de services beslissen: need to know)"),
    "404": _problem("onbekend, of niet van uw organisatie (dan ook 404: geen hint)"),
    "409": _problem("intussen gewijzigd door een ander, of een conflict"),
    "413": _problem("te grote body"),
    "422": _problem("ongeldige invoer: elk probleem met zijn JSON-pad in errors"),
}


def _ok(status: str, description: str, schema: dict) -> dict:
    return {status: {"description": description, "headers": _TRACE,
                     "content": {"application/json": {"schema": schema}}}}


def _op(op_id: str, summary: str, ok: dict, *, params=(), body: str | None = None,
        write: bool = False, description: str | None = None) -> dict:
    responses = {**ok, **{k: v for k, v in _PROBLEMS.items()
                          if k not in ("400", "413") or body is not None}}
    out = {"operationId": op_id, "summary": summary, "security": _SECURITY,
           "parameters": [*params, {"name": "traceparent", "in": "header", "required": False,
                                    "schema": _TRACEPARENT}],
           "responses": responses}
    if write:
        out["parameters"].append({"name": "X-CSRF-Token", "in": "header", "required": False,
                                  "description": "alleen bij een browsersessie (niet bij een "
                                  "token)", "schema": _STR})
    if description:
        out["description"] = description
    if body is not None:
        out["requestBody"] = {"required": True, "content": {"application/json": {
            "schema": _ref(body)}}}
    return out


def _path(name: str, what: str) -> dict:
    return {"name": name, "in": "path", "required": True, "description": what,
            "schema": _ID}


def _query(name: str, what: str, schema: dict, required: bool = False) -> dict:
    return {"name": name, "in": "query", "required": required, "description": what,
            "schema": schema}


_REGION = _query("region", "de regiocode", {"type": "string", "minLength": 1}, True)


def paths() -> dict:
    youth = _path("youth_id", "id van de jongere")
    case = _path("case_id", "id van de casus")
    return {
        "/api/v1/organisations": {
            "get": _op("listOrganisations", "De organisaties (convenantpartijen) van een "
                       "regio", _ok("200", "de organisaties",
                                    _arr(_ref("OrganisationView"))), params=[_REGION]),
            "post": _op("createOrganisation", "Voeg een organisatie toe (het beheer)",
                        _ok("201", "de nieuwe organisatie", _ref("OrganisationView")),
                        body="OrganisationCreate", write=True)},
        "/api/v1/organisations/{organisation_id}": {
            "patch": _op("updateOrganisation", "Wijzig naam, KvK, OIN of domein van een "
                         "organisatie (het beheer); lege tekst wist een veld",
                         _ok("200", "de organisatie", _ref("OrganisationView")),
                         params=[_path("organisation_id", "id van de organisatie")],
                         body="OrganisationUpdate", write=True)},
        "/api/v1/youths": {
            "post": _op("createYouth", "Registreer een jongere met ouders of voogden (een "
                        "professional)", _ok("201", "de jongere (BSN gemaskeerd)",
                                             _ref("YouthView")),
                        body="YouthCreate", write=True)},
        "/api/v1/youths/{youth_id}": {
            "get": _op("readYouth", "De gegevens van een jongere (het inzien wordt gelogd)",
                       _ok("200", "de jongere", _ref("AnyYouthView")), params=[youth])},
        "/api/v1/youths/{youth_id}/consent": {
            "get": _op("listConsent", "Elke versie van elke toestemming van de jongere",
                       _ok("200", "de toestemmingen", _arr(_ref("ConsentVersion"))),
                       params=[youth]),
            "post": _op("recordConsent", "Leg een toestemming of weigering vast",
                        _ok("201", "de nieuwe reeks", _ref("ConsentRecorded")),
                        params=[youth], body="ConsentCreate", write=True)},
        "/api/v1/youths/{youth_id}/disclosures": {
            "get": _op("listYouthDisclosures", "De verstrekkingen over een jongere, nieuwste "
                       "eerst", _ok("200", "de verstrekkingen (zonder inhoud)",
                                    _arr(_ref("DisclosureView"))), params=[youth])},
        "/api/v1/youths/{youth_id}/inzage": {
            "get": _op("inzage", "Inzage (AVG art. 15): alles over de jongere",
                       _ok("200", "het overzicht; het verzoek is vastgelegd en gelogd",
                           _ref("Inzage")),
                       params=[youth,
                               _query("requester", "wie vraagt (bij een account van een "
                                      "ouder of jongere: die zelf)",
                                      {"type": "string", "enum": ["parent", "youth"]}),
                               _query("guardian_id", "de ouder die vraagt (voor een "
                                      "professional)", _ID),
                               _query("from", "begin van de periode", _DATE),
                               _query("to", "einde van de periode", _DATE),
                               _query("youth_agrees", "de jongere stemt in", _BOOL)],
                       description="Voor de ouder (met gezag) of de jongere zelf, of "
                       "vastgelegd door een professional voor hen. Het verzoek wordt "
                       "vastgelegd (daarom een schrijvende GET).")},
        "/api/v1/cases": {
            "get": _op("listCases", "De casussen van een regio waarin uw organisatie "
                       "deelneemt", _ok("200", "de casussen", _arr(_ref("CaseListItem"))),
                       params=[_REGION, _query("limit", "hoeveel", {
                           "type": "integer", "minimum": 1, "maximum": 500})]),
            "post": _op("openCase", "Open een casus over een jongere of een anonieme casus",
                        _ok("201", "de casus", _ref("CaseView")), body="CaseOpen",
                        write=True)},
        "/api/v1/cases/{case_id}": {
            "get": _op("readCase", "Eén casus met deelnemers, overleggen en verstrekkingen "
                       "(het inzien wordt gelogd)", _ok("200", "de casus", _ref("CaseRead")),
                       params=[case])},
        "/api/v1/cases/{case_id}/disclosures": {
            "get": _op("listCaseDisclosures", "De verstrekkingen in een casus",
                       _ok("200", "de verstrekkingen", _arr(_ref("DisclosureView"))),
                       params=[case])},
        "/api/v1/cases/{case_id}/meetings": {
            "post": _op("scheduleMeeting", "Plan een overleg in een casus",
                        _ok("201", "het overleg", _ref("MeetingView")), params=[case],
                        body="MeetingSchedule", write=True)},
        "/api/v1/meetings/{meeting_id}": {
            "get": _op("readMeeting", "Eén overleg met agenda en verslag (het inzien wordt "
                       "gelogd)", _ok("200", "het overleg", _ref("MeetingRead")),
                       params=[_path("meeting_id", "id van het overleg")])},
        "/api/v1/disclosures": {
            "post": _op("recordDisclosure", "Leg een verstrekking vast: de engine beslist "
                        "uit de opgeslagen feiten", _ok("201", "de verstrekking, ook als (een "
                                                        "deel) geweigerd is",
                                                        _ref("DisclosureView")),
                        body="DisclosureRecord", write=True)},
        "/api/v1/disclosures/{disclosure_id}": {
            "get": _op("readDisclosure", "Eén verstrekking met besluit en inhoud (het inzien "
                       "wordt gelogd)", _ok("200", "de verstrekking",
                                            _ref("DisclosureReadView")),
                       params=[_path("disclosure_id", "id van de verstrekking")])},
        "/api/v1/log/entries": {
            "get": _op("logEntries", "Een pagina van het verwerkingslog van een regio (FG)",
                       _ok("200", "de regels", _ref("LogPage")),
                       params=[_REGION,
                               _query("after", "na dit volgnummer", {
                                   "type": "integer", "minimum": 0, "maximum": 2**62}),
                               _query("limit", "hoeveel", {"type": "integer", "minimum": 1,
                                                           "maximum": 500})])},
        "/api/v1/log/verify": {
            "get": _op("logVerify", "Controleer het verwerkingslog van een regio (FG)",
                       _ok("200", "het rapport", _ref("LogVerifyReport")), params=[_REGION])},
        "/api/v1/register": {
            "get": _op("register", "Het register van verwerkingsactiviteiten van een regio",
                       _ok("200", "het register (zoals deelwijs register export)",
                           _ref("Register")), params=[_REGION])},
        "/api/v1/rulesets/diff": {
            "get": _op("rulesetDiff", "Wat een ingebouwde ruleset verandert ten opzichte van "
                       "een andere", _ok("200", "de verschillen", _ref("RulesetDiff")),
                       params=[_query("from", "de basis (standaard het model)",
                                      {"type": "string"}),
                               _query("to", "de regionale ruleset", {"type": "string"},
                                      True)])},
        "/api/v1/rulesets/check": {
            "post": _op("rulesetCheck", "Controleer de tekst van een regionale ruleset",
                        _ok("200", "in orde of de problemen", _ref("RulesetCheck")),
                        body="RulesetText", write=True)},
        "/api/v1/rulesets/activate": {
            "post": _op("rulesetActivate", "Activeer een ruleset voor een regio (het "
                        "beheer)", _ok("201", "de activering", _ref("ActivationView")),
                        body="RulesetActivate", write=True)},
        "/api/v1/me": {
            "get": _op("me", "Voor wie deze aanroep handelt", _ok("200", "het account",
                                                                  {"type": "object"}))},
    }


SECURITY_SCHEMES = {"bearer": {
    "type": "http", "scheme": "bearer", "bearerFormat": "dw_...",
    "description": "een persoonlijk toegangstoken (maak er een op /account), of de sessie "
                   "van de browser (dan bij schrijven de header X-CSRF-Token)"}}

__all__ = ["SECURITY_SCHEMES", "paths", "schemas", "typed"]
