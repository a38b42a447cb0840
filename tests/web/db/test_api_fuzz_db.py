"""schemathesis against /api/v1/openapi.json with a professional's personal access token, on
the database of the service tests (SQLite, or PostgreSQL with DEELWIJS_TEST_DATABASE_URL):
generated requests to every endpoint, the authenticated resources included, must never give
a 5xx, and every response must match the document. The unauthenticated run (no database) is
tests/web/test_api_fuzz.py."""

from __future__ import annotations

from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from tests.services.helpers import unit_of
from tests.web.test_api_fuzz import CHECKS

from deelwijs.services import accounts
from deelwijs.storage import orm
from deelwijs.web import create_app

EXAMPLES = 25


@pytest.fixture
def token(app, world, builder) -> str:
    """Alice's token (the school's intern begeleider), with a youth and a case to find."""
    sem = builder.youth()
    builder.case("oza", youth_id=sem)
    with app.transaction() as s:
        account = accounts.create(unit_of(app, s), username="alice", display_name="Alice",
                                  password="Deelwijs-fuzz-2026!", kind="professional",
                                  professional_id=world.pros["alice"])
        return accounts.new_token(unit_of(app, s), s.get(orm.Account, account.id), "fuzz")[0]


def test_the_authenticated_api_answers_generated_requests_as_its_document_says(app, token):
    """One test over every operation (the database is made once): up to EXAMPLES generated
    requests per operation, each with the token."""
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", create_app(services=app))
    headers = {"Authorization": f"Bearer {token}"}
    labels, statuses = [], Counter()
    for result in schema.get_all_operations():
        operation = result.ok()
        labels.append(operation.label)

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(case):
            response = case.call_and_validate(checks=CHECKS, headers=headers)
            statuses[response.status_code] += 1

        check()
    assert "GET /api/v1/cases/{case_id}" in labels and len(labels) > 20
    # the token was sent: no call was refused for want of a login
    assert statuses[401] == 0 and statuses[200] > 0, statuses
