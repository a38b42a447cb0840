"""The OpenAPI 3.1 document describes the decision contract 1.1 as the API speaks it: every
worked example and scenario request is valid against the request schema, every answer against
the response schema, every refusal against the problem schema; bad requests are refused by
the schema as by the engine's parser."""

from __future__ import annotations

import json

import pytest
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from deelwijs.domain import codes
from deelwijs.rules import scenario as scenarios

from .test_decisions_api import _examples, api

BASE = "urn:deelwijs:openapi"


@pytest.fixture(scope="module")
def document(client):
    r = client.get("/api/v1/openapi.json")
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    return r.json()


def validator(document: dict, name: str) -> Draft202012Validator:
    registry = Registry().with_resource(BASE, Resource.from_contents(
        document, default_specification=DRAFT202012))
    return Draft202012Validator({"$ref": f"{BASE}#/components/schemas/{name}"},
                                registry=registry, format_checker=FormatChecker())


def test_it_is_openapi_3_1_with_the_contract_1_1_fields(document):
    assert document["openapi"] == "3.1.0"
    schemas = document["components"]["schemas"]
    Draft202012Validator.check_schema(schemas["DisclosureRequest"])
    req = schemas["DisclosureRequest"]["properties"]
    assert {"acceded", "mandate", "hat", "party"} <= req["discloser"]["properties"].keys()
    assert "startkwalificatie" in req["subject"]["properties"]
    assert "weighing_documented" in req["exceptions"]["properties"]
    grounds = schemas["Item"]["properties"]["grounds"]["items"]["enum"]
    assert "LEGAL_POWER" in grounds and grounds == list(codes.GROUNDS)
    assert "TOM-tafel" in req["purpose"]["enum"]
    post = document["paths"]["/api/v1/decisions"]["post"]
    assert {"200", "400", "413", "422"} == post["responses"].keys()
    assert [p["name"] for p in post["parameters"]] == ["ruleset", "explain", "traceparent"]


def _all_requests():
    good, bad = [], []
    for path in scenarios.builtin_files():
        for sc in scenarios.load(path):
            (bad if "error" in sc.expect else good).append((sc.ruleset, sc.request))
    return good, bad


def test_every_good_request_and_its_answer_match_the_schemas(client, document):
    requests = validator(document, "Request")
    decisions = validator(document, "Decision")
    good, _ = _all_requests()
    examples = [("model-convenant", r) for r in _examples()]
    for ruleset, request in good + examples:
        errors = list(requests.iter_errors(request))
        assert not errors, (request, [e.message for e in errors][:3])
        name = ruleset.rsplit("/", 1)[-1].removesuffix(".yaml")
        for explain in ("false", "true"):
            answer = api(client, request, name, explain=explain)
            assert answer.status_code == 200, answer.text
            errors = list(decisions.iter_errors(answer.json()))
            assert not errors, (request, [e.message for e in errors][:3])


def test_every_bad_request_is_refused_by_the_schema_too_and_answered_as_a_problem(client,
                                                                                 document):
    requests = validator(document, "Request")
    problems = validator(document, "Problem")
    _, bad = _all_requests()
    assert bad
    for ruleset, request in bad:
        name = ruleset.rsplit("/", 1)[-1].removesuffix(".yaml")
        r = api(client, request, name)
        assert r.status_code == 422, r.text
        assert not list(problems.iter_errors(r.json()))
        problem = r.json()
        # the one thing a schema for every ruleset cannot know: which ruleset has which
        # regional overleg name
        if {(e["code"], e["path"].rsplit(".", 1)[-1]) for e in problem["errors"]} == {
                ("unknown_code", "purpose")}:
            continue
        assert not requests.is_valid(request), (json.dumps(request, ensure_ascii=False),
                                                problem["errors"])
    for body in (b"{", b"[" * 10):
        assert not list(problems.iter_errors(api(client, body).json()))


def test_a_restriction_of_processing_is_in_the_request_and_answer_schemas(client, document):
    """subject.restricted ({category: request id}, AVG art. 18) is accepted and documented,
    and the answer's reasons may be RESTRICTED (docs/decide.md)."""
    schemas = document["components"]["schemas"]
    restricted = schemas["DisclosureRequest"]["properties"]["subject"]["properties"]["restricted"]
    assert restricted["propertyNames"]["enum"] == list(codes.CATEGORIES)
    assert "AVG art. 18" in restricted["description"]
    assert "RESTRICTED" in schemas["Item"]["properties"]["reasons"]["items"]["enum"]
    request = {"discloser": {"party": "jeugdhulp"}, "recipient": {"party": "school"},
               "subject": {"age": 14, "restricted": {"gedrag": 12}},
               "purpose": "signalering", "data": ["gedrag", "onderwijspositie"]}
    assert validator(document, "Request").is_valid(request)
    for explain in ("false", "true"):
        answer = api(client, request, explain=explain)
        assert answer.status_code == 200, answer.text
        assert answer.json()["items"][0]["reasons"] == ["RESTRICTED"]
        assert not list(validator(document, "Decision").iter_errors(answer.json()))
    for wrong in ({"nope": 12}, {"gedrag": 0}, {"gedrag": "12"}, ["gedrag"]):
        bad = {**request, "subject": {"age": 14, "restricted": wrong}}
        assert not validator(document, "Request").is_valid(bad)
        assert api(client, bad).status_code == 422
