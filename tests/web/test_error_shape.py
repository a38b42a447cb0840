"""Every Deelwijs error renders through the web app's one mapping (web/errors.py): under /api/
as problem+json with its code, its status and its field as the path of `errors`; elsewhere as
a Dutch page. An error without a status (a setting, a file, the database) is a 500 that keeps
its message to the server's log."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from tests.fixtures.errors import samples

from deelwijs.errors import DeelwijsError
from deelwijs.settings import Settings
from deelwijs.web import create_app
from deelwijs.web.errors import INTERNAL, PROBLEM_JSON

from .conftest import assert_security_headers

SAMPLES = samples()


@pytest.fixture(scope="module")
def raising() -> Iterator[TestClient]:
    """The app of conftest's `app`, with two routes of its own that raise sample `i`."""
    app = create_app(Settings(database_url="sqlite://", master_key=None))

    async def boom(i: int):
        raise SAMPLES[i]

    app.add_api_route("/api/v1/test-raise/{i}", boom)
    app.add_api_route("/test-raise/{i}", boom)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.mark.parametrize("i", range(len(SAMPLES)),
                         ids=[f"{type(e).__name__}-{i}" for i, e in enumerate(SAMPLES)])
def test_a_raised_error_is_problem_json_with_its_code_and_field(raising, i):
    error: DeelwijsError = SAMPLES[i]
    r = raising.get(f"/api/v1/test-raise/{i}")
    assert r.headers["content-type"] == PROBLEM_JSON
    assert_security_headers(r)
    body = r.json()
    assert body["code"] == error.code and body["type"] == f"/api/v1/docs#probleem-{error.code}"
    if error.status is None:  # not the caller's doing: nothing of the message shown
        assert (r.status_code, body["status"], body["detail"]) == (500, 500, INTERNAL)
        assert "errors" not in body
        return
    assert r.status_code == body["status"] == error.status
    errors = body.get("errors", [])
    assert errors == error.errors()
    if error.field is not None:
        assert errors[0]["path"] == error.field
    if len(errors) == 1:
        assert body["detail"] == f"{error.field}: {errors[0]['message']}"
    elif errors:
        assert body["detail"] == f"{len(errors)} problemen; zie errors"
    else:
        assert body["detail"] == error.message


@pytest.mark.parametrize("i", range(len(SAMPLES)),
                         ids=[f"{type(e).__name__}-{i}" for i, e in enumerate(SAMPLES)])
def test_a_raised_error_on_a_page_is_a_dutch_page_with_its_status(raising, i):
    error: DeelwijsError = SAMPLES[i]
    if error.code == "login_required":  # a page that needs a login: to the login page
        r = raising.get(f"/test-raise/{i}", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == error.to
        return
    r = raising.get(f"/test-raise/{i}")
    assert r.headers["content-type"].startswith("text/html")
    assert r.status_code == (error.status or 500)
    assert f"Foutcode {r.status_code}." in r.text
    if error.status is None:
        assert "Er ging iets mis in Deelwijs" in r.text and error.message not in r.text


def test_the_decision_api_answers_its_errors_through_the_same_mapping(client):
    """NotJson and RequestError, as the API always answered them (test_decisions_api)."""
    r = client.post("/api/v1/decisions", content=b"{nope")
    assert r.status_code == 400
    assert r.json()["errors"] == [{"path": "request", "code": "invalid_json",
                                   "message": r.json()["detail"].removeprefix("request: ")}]
    r = client.post("/api/v1/decisions", content=json.dumps({"subject": {"age": 3}}))
    body = r.json()
    assert r.status_code == 422 and body["code"] == "invalid_request"
    assert len(body["errors"]) > 1
    assert body["detail"] == f"{len(body['errors'])} problemen; zie errors"
