"""The API's OpenAPI 3.1 document, written from the decision contract (shared/spec/decisions.md,
version 1.1; docs/decide.md), not generated from models: the endpoint itself validates with
the engine's own parser (domain.request), so that the API refuses exactly what
`deelwijs decide` refuses, with the same JSON paths and messages.

The code lists come from domain.codes; the regional overleg names from the built-in rulesets.
"""

from __future__ import annotations

from functools import cache

from deelwijs import __version__
from deelwijs.domain import codes
from deelwijs.domain.engine import RESTRICTED, RESTRICTION_RULE
from deelwijs.domain.request import MAX_AGE
from deelwijs.web import openapi_resources

CONTRACT_VERSION = "1.1"
MAX_BATCH = 10_000  # requests in one array
MAX_BODY = 16 * 1024 * 1024  # bytes

_BOOL = {"type": "boolean"}


def _bool(description: str, default: bool) -> dict:
    return {"type": "boolean", "default": default, "description": description}


def _enum(values, description: str | None = None, **extra) -> dict:
    out = {"type": "string", "enum": list(values), **extra}
    if description:
        out["description"] = description
    return out


def _obj(properties: dict, required=(), description: str | None = None, **extra) -> dict:
    out = {"type": "object", "additionalProperties": False, "properties": properties, **extra}
    if required:
        out["required"] = list(required)
    if description:
        out["description"] = description
    return out


def _age() -> dict:
    return {"type": "integer", "minimum": 0, "maximum": MAX_AGE,
            "description": "leeftijd van de jongere op de dag van de vraag"}


def _overleg_names() -> list[str]:
    from deelwijs.rules import loader

    names: list[str] = []
    for rid in loader.builtin_ids():
        for name in loader.resolve(rid).overleg_types:
            if name not in names:
                names.append(name)
    return names


def _ruleset_ids() -> list[str]:
    from deelwijs.rules import loader

    return loader.builtin_ids()


def _schemas() -> dict:
    party = _enum(codes.PARTIES, "partijcode (de organisatiesoort)")
    consent_answer = _enum(codes.CONSENT_ANSWERS, default="none")
    ruleset_ref = _obj({"id": {"type": "string"}, "version": {"type": "string"},
                        "digest": {"type": "string", "pattern": "^sha256:[0-9a-f]{64}$"}},
                       ("id", "version", "digest"),
                       "de ruleset waaronder beslist is; de digest maakt het antwoord "
                       "herleidbaar")
    rules_block = {
        "type": "object",
        "description": "elke regel die besliste, met titel en wetsartikelen",
        "additionalProperties": _obj({
            "title": {"type": "string"},
            "citations": _obj({"avg": {"type": "string"}, "sector": {"type": "string"},
                               "convenant": {"type": "string"}}),
            "fg_judgement": {"type": "boolean", "const": True,
                             "description": "een oordeel van de FG waar de regels de zaak "
                             "open laten"},
            "origin": {"type": "string", "description": "de ruleset waar de regel vandaan "
                       "komt, als dat niet het model is"},
        }, ("title", "citations")),
    }
    disclosure = _obj({
        "kind": {"const": "disclosure", "default": "disclosure"},
        "discloser": _obj({
            "party": party,
            "hat": _enum(codes.HATS, "de pet van een wijkteamprofessional (pettenvraagstuk); "
                         "alleen bij partij jeugdhulp of gemeente"),
            "acceded": _bool("toetredingsformulier getekend en bekendgemaakt (jeugdhulp, jgz, "
                             "huisarts)", True),
            "mandate": _bool("schriftelijk mandaat (schoolbestuur via het SWV)", True),
        }, ("party",), "wie deelt",
            **{"if": {"required": ["hat"]},
               "then": {"properties": {"party": {"enum": list(codes.HAT_WEARERS)}}}}),
        "recipient": _obj({
            "party": party,
            "acceded": _bool("toetredingsformulier getekend en bekendgemaakt", True),
            "mandate": _bool("schriftelijk mandaat", True),
            "domain": _enum(codes.DOMAINS, "het domein waarin de ontvanger werkt"),
        }, ("party",), "met wie"),
        "subject": _obj({
            "age": _age(),
            "anonymous": _bool("de casus wordt zonder identificerende gegevens besproken",
                               False),
            "startkwalificatie": _bool("de jongere heeft een startkwalificatie", False),
            "restricted": {
                "type": "object",
                "propertyNames": {"enum": list(codes.CATEGORIES)},
                "additionalProperties": {"type": "integer", "minimum": 1},
                "description": "de categorieën onder een beperking van de verwerking (AVG "
                "art. 18) op de dag, elk met het nummer van het verzoek dat haar beperkte: "
                "{\"gedrag\": 12}. Zo'n categorie wordt geweigerd vóór elke andere toets "
                f"(reden {RESTRICTED}, regel {RESTRICTION_RULE})"},
        }, ("age",), "over welke jongere"),
        "purpose": {"type": "string", "enum": [*codes.PURPOSES, *_overleg_names()],
                    "description": "het overleg of de wettelijke route; een regionale "
                    "overlegnaam (zoals 'TOM-tafel') alleen onder de ruleset die hem kent"},
        "task": _enum(codes.TASKS, "wiens taak (ABC): own = A, both = B, recipient = C",
                      default="both"),
        "data": {"type": "array", "minItems": 1, "uniqueItems": True,
                 "items": _enum(codes.CATEGORIES), "description": "de gegevenscategorieën"},
        "consent": _obj({
            "parents": consent_answer, "youth": consent_answer,
            "written": _bool("schriftelijk gegeven", True),
            "prior": _bool("vóór het overleg gegeven", True),
            "withdrawn": _bool("ingetrokken", False),
        }, description="toestemming: parents = elke ouder met gezag"),
        "exceptions": _obj({
            "vital_interest": _bool("vitaal belang (AVG art. 6 lid 1 sub d / 9 lid 2 sub c)",
                                    False),
            "conflict_of_duties": _obj({"documented": _bool("afweging vastgelegd", False)},
                                       description="conflict van plichten"),
            "legal_duty": _bool("een wettelijke plicht tot verstrekken", False),
            "compatible_purpose": _bool("verenigbaar doel getoetst (AVG art. 6 lid 4)", False),
            "weighing_documented": _bool("noodzaakafweging voor een wettelijke bevoegdheid "
                                         "vastgelegd (bijv. art. 1:240 BW)", False),
        }),
        "context": _obj({
            "help_request_domains": {"type": "array", "uniqueItems": True,
                                     "items": _enum(codes.DOMAINS)},
            "bulk": _bool("het verzoek betreft veel mensen (lijsten, profilering)", False),
            "wams_in_force": _bool("de Wams is wet", False),
        }),
    }, ("discloser", "recipient", "subject", "purpose", "data"),
        "Mag dit gedeeld worden? (kind disclosure, de standaard)")
    absence = _obj({
        "kind": {"const": "absence_report"},
        "subject": _obj({"age": _age(), "startkwalificatie": _bool("", False)}, ("age",)),
        "absence": _obj({
            "type": _enum(codes.ABSENCE_TYPES),
            "unauthorised_hours": {"type": "number", "minimum": 0},
            "school_weeks": {"type": "integer", "minimum": 1},
        }, ("type",),
            **{"if": {"properties": {"type": {"const": "ongeoorloofd"}}},
               "then": {"required": ["unauthorised_hours", "school_weeks"]}}),
    }, ("kind", "subject", "absence"), "Moet de school dit verzuim melden?")
    consent_required = _obj({
        "kind": {"const": "consent_required"},
        "subject": _obj({"age": _age()}, ("age",)),
    }, ("kind", "subject"), "Wiens toestemming is nodig?")
    retention = _obj({
        "kind": {"const": "retention"},
        "record": _enum(codes.RECORDS),
        "ended_on": {"type": "string", "format": "date",
                     "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
                     "description": "de dag van vertrek of het einde van de hulp (tot en met "
                                    "het jaar 9000)"},
    }, ("kind", "record", "ended_on"), "Tot wanneer bewaren?")
    item = _obj({
        "data": _enum(codes.CATEGORIES),
        "outcome": _enum(("allow", "deny")),
        "reasons": {"type": "array", "items": _enum((*codes.REASONS, RESTRICTED))},
        "grounds": {"type": "array", "items": _enum(codes.GROUNDS)},
        "rules": {"type": "array", "items": {"type": "string"}},
        "explanation": {"type": "string"},
        "trace": {"type": "array", "description": "alleen met explain=true",
                  "items": _obj({"rule": {"type": "string"},
                                 "verdict": _enum(("not_applicable", "pass", "allow",
                                                   "deny")),
                                 "note": {"type": "string"}}, ("rule", "verdict"))},
    }, ("data", "outcome", "reasons", "grounds", "rules", "explanation"))
    disclosure_out = _obj({
        "kind": {"const": "disclosure"},
        "outcome": _enum(("allow", "deny", "partial")),
        "purpose": _enum(codes.PURPOSES),
        "overleg": {"type": "string", "description": "de regionale overlegnaam, als die "
                    "gevraagd werd"},
        "items": {"type": "array", "items": {"$ref": "#/components/schemas/Item"}},
        "obligations": {"type": "array", "items": _enum(codes.OBLIGATIONS)},
        "explanation": {"type": "string"},
        "rules": {"$ref": "#/components/schemas/Rules"},
        "ruleset": {"$ref": "#/components/schemas/RulesetRef"},
    }, ("kind", "outcome", "purpose", "items", "obligations", "explanation", "rules",
        "ruleset"))
    absence_out = _obj({
        "kind": {"const": "absence_report"},
        "duty": _enum(("mandatory", "optional", "none")),
        "deadline_working_days": {"type": ["integer", "null"]},
        "grounds": {"type": "array", "items": _enum(codes.GROUNDS)},
        "rules": {"type": "array", "items": {"type": "string"}},
        "explanation": {"type": "string"},
        "ruleset": {"$ref": "#/components/schemas/RulesetRef"},
    }, ("kind", "duty", "deadline_working_days", "grounds", "rules", "explanation",
        "ruleset"))
    consent_out = _obj({
        "kind": {"const": "consent_required"},
        "required": {"type": "array", "items": _enum(("parents", "youth"))},
        "rules": {"type": "array", "items": {"type": "string"}},
        "explanation": {"type": "string"},
        "ruleset": {"$ref": "#/components/schemas/RulesetRef"},
    }, ("kind", "required", "rules", "explanation", "ruleset"))
    retention_out = _obj({
        "kind": {"const": "retention"},
        "record": _enum(codes.RECORDS),
        "keep_until": {"type": "string", "format": "date"},
        "term": _enum(("minimum", "maximum")),
        "years": {"type": "integer"},
        "rule": {"type": "string"},
        "explanation": {"type": "string"},
        "ruleset": {"$ref": "#/components/schemas/RulesetRef"},
    }, ("kind", "record", "keep_until", "term", "years", "rule", "explanation", "ruleset"))
    one_request = {"oneOf": [{"$ref": f"#/components/schemas/{n}"} for n in (
        "DisclosureRequest", "AbsenceReportRequest", "ConsentRequiredRequest",
        "RetentionRequest")]}
    one_decision = {"oneOf": [{"$ref": f"#/components/schemas/{n}"} for n in (
        "DisclosureDecision", "AbsenceReportDecision", "ConsentRequiredDecision",
        "RetentionDecision")]}
    problem_out = {
        "type": "object",
        "required": ["type", "title", "status", "detail", "code"],
        "properties": {
            "type": {"type": "string", "format": "uri-reference"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "code": {"type": "string", "description": "stabiele code van het probleem"},
            "errors": {"type": "array", "items": _obj({
                "path": {"type": "string", "description": "het JSON-pad, zoals deelwijs "
                         "decide het noemt: request[3].data[1]"},
                "code": {"type": "string"},
                "message": {"type": "string"},
            }, ("path", "code", "message"))},
        },
    }
    return {
        "Request": one_request,
        "DisclosureRequest": disclosure,
        "AbsenceReportRequest": absence,
        "ConsentRequiredRequest": consent_required,
        "RetentionRequest": retention,
        "Decision": one_decision,
        "DisclosureDecision": disclosure_out,
        "Item": item,
        "Rules": rules_block,
        "RulesetRef": ruleset_ref,
        "AbsenceReportDecision": absence_out,
        "ConsentRequiredDecision": consent_out,
        "RetentionDecision": retention_out,
        "Problem": problem_out,
    }


EXAMPLE_REQUEST = {
    "discloser": {"party": "jeugdhulp"}, "recipient": {"party": "school"},
    "subject": {"age": 14}, "purpose": "oza", "data": ["hulpverlening"],
    "consent": {"parents": "given", "youth": "refused"},
}

_TRACEPARENT = {"type": "string",
                "pattern": "^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$",
                "description": "W3C trace context: het spoor van de aanroeper, voortgezet"}


def _problem_response(description: str) -> dict:
    return {"description": description,
            "headers": {"traceparent": {"$ref": "#/components/headers/traceparent"}},
            "content": {"application/problem+json": {
                "schema": {"$ref": "#/components/schemas/Problem"}}}}


@cache
def document() -> dict:
    """The OpenAPI 3.1 document (built once per process)."""
    trace_header = {"$ref": "#/components/headers/traceparent"}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Deelwijs API",
            "version": __version__,
            "summary": "Mag ik dit delen? Het privacyconvenant onderwijs–gemeenten–jeugdhulp "
                       "als code.",
            "description": (
                "Het beslissingscontract (versie " + CONTRACT_VERSION + ") over HTTP: "
                "`POST /api/v1/decisions` neemt precies wat `deelwijs decide` neemt (één "
                "verzoek als object, of een lijst verzoeken) en geeft precies hetzelfde "
                "antwoord. Geen account nodig; er wordt niets opgeslagen. De andere adressen gaan "
                "over opgeslagen gegevens en vragen een persoonlijk toegangstoken (Authorization: "
                "Bearer dw_...); wat u ziet, beslist need to know. Foute invoer geeft "
                "problem+json (RFC 9457) met per probleem het JSON-pad."),
            "license": {"name": "EUPL-1.2", "identifier": "EUPL-1.2"},
        },
        "servers": [{"url": "/"}],
        "paths": {
            "/api/v1/decisions": {"post": {
                "operationId": "decide",
                "summary": "Beslis over één verzoek of een lijst verzoeken",
                "description": (
                    "Een object geeft een object; een lijst geeft een lijst, in dezelfde "
                    "volgorde. Is één verzoek in de lijst fout, dan wordt niets beslist en "
                    f"noemt het antwoord elk probleem. Ten hoogste {MAX_BATCH} verzoeken en "
                    f"{MAX_BODY // (1024 * 1024)} MiB per aanroep."),
                "parameters": [
                    {"name": "ruleset", "in": "query", "required": False,
                     "description": "de ingebouwde ruleset (standaard het modelconvenant)",
                     "schema": {"type": "string", "enum": _ruleset_ids(),
                                "default": "model-convenant"}},
                    {"name": "explain", "in": "query", "required": False,
                     "description": "voeg per gegevenscategorie het volledige spoor toe",
                     "schema": {"type": "boolean", "default": False}},
                    {"name": "traceparent", "in": "header", "required": False,
                     "schema": _TRACEPARENT},
                ],
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": {"oneOf": [
                        {"$ref": "#/components/schemas/Request"},
                        {"type": "array", "maxItems": MAX_BATCH,
                         "items": {"$ref": "#/components/schemas/Request"}},
                    ]},
                    "example": EXAMPLE_REQUEST,
                }}},
                "responses": {
                    "200": {"description": "het besluit (of de lijst besluiten)",
                            "headers": {"traceparent": trace_header},
                            "content": {"application/json": {"schema": {"oneOf": [
                                {"$ref": "#/components/schemas/Decision"},
                                {"type": "array",
                                 "items": {"$ref": "#/components/schemas/Decision"}},
                            ]}}}},
                    "400": _problem_response("geen (bruikbare) JSON"),
                    "413": _problem_response("te groot verzoek"),
                    "422": _problem_response("ongeldige invoer: elk probleem met zijn "
                                             "JSON-pad in errors"),
                },
            }},
            "/api/v1/openapi.json": {"get": {
                "operationId": "openapi",
                "summary": "Dit document",
                "responses": {"200": {"description": "OpenAPI 3.1",
                                      "headers": {"traceparent": trace_header},
                                      "content": {"application/json": {
                                          "schema": {"type": "object"}}}}},
            }},
            **openapi_resources.paths(),
            "/api/v1/docs": {"get": {
                "operationId": "docs",
                "summary": "De documentatie van de API als webpagina",
                "responses": {"200": {"description": "HTML",
                                      "headers": {"traceparent": trace_header},
                                      "content": {"text/html": {
                                          "schema": {"type": "string"}}}}},
            }},
        },
        "components": {
            "schemas": {**_schemas(), **openapi_resources.schemas()},
            "securitySchemes": openapi_resources.SECURITY_SCHEMES,
            "headers": {"traceparent": {"schema": _TRACEPARENT,
                                        "description": "het spoor met de span van dit "
                                                       "verzoek (W3C trace context)"}},
        },
    }
