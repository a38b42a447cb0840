"""schemathesis against /api/v1/openapi.json, in process: generated requests (valid and
invalid) must never give a 5xx, and every response must match the document (status code,
content type, headers, body schema). A modest number of examples keeps this well under a
minute; the document itself is checked against the contract in test_openapi_document.py."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from deelwijs.settings import Settings
from deelwijs.web import create_app

schema = schemathesis.openapi.from_asgi(
    "/api/v1/openapi.json", create_app(Settings(database_url="sqlite://", master_key=None)))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]


@schema.parametrize()
@settings(max_examples=40, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
def test_the_api_answers_every_generated_request_as_its_document_says(case):
    case.call_and_validate(checks=CHECKS)
