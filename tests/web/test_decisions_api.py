"""POST /api/v1/decisions takes and returns exactly what `deelwijs decide` does.

Every worked example of the contract (../shared/spec/examples/decisions.json) and every request
of the shipped scenarios goes through both, as one batch per ruleset: the answers must be
equal. The scenarios' bad requests must be refused by both with the same problems (the API's
`errors` are the CLI's stderr lines), and so must malformed JSON."""

from __future__ import annotations

import json
import subprocess
from collections import defaultdict
from pathlib import Path

import pytest
from tests.fixtures.cli import clean_env, in_ci

from deelwijs.rules import scenario as scenarios
from deelwijs.web import openapi

from .conftest import ROOT, assert_security_headers, deelwijs_script

EXAMPLES = ROOT.parent / "shared" / "spec" / "examples" / "decisions.json"
URL = "/api/v1/decisions"


def cli(body: bytes | str, *args: str) -> subprocess.CompletedProcess:
    data = body.encode() if isinstance(body, str) else body
    return subprocess.run([str(deelwijs_script()), "decide", *args], input=data,
                          capture_output=True, env=clean_env(), timeout=300, check=False)


def api(client, body, ruleset: str | None = None, **params):
    query = {**({"ruleset": ruleset} if ruleset else {}), **params}
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post(URL, content=content, params=query,
                       headers={"content-type": "application/json"})


def _scenario_requests() -> dict[str, tuple[list, list]]:
    """Per built-in ruleset: (good requests, bad requests) of the shipped scenarios."""
    out: dict[str, tuple[list, list]] = defaultdict(lambda: ([], []))
    for path in scenarios.builtin_files():
        for sc in scenarios.load(path):
            good, bad = out[Path(sc.ruleset).name if "/" in sc.ruleset else sc.ruleset]
            (bad if "error" in sc.expect else good).append(sc.request)
    return dict(out)


def _examples() -> list:
    if not EXAMPLES.is_file():
        if in_ci():
            pytest.fail(f"{EXAMPLES} ontbreekt; in CI moet die map er zijn")
        pytest.skip(f"{EXAMPLES} ontbreekt (de voorbeelden staan naast het project)")
    return [case["request"] for case in json.loads(EXAMPLES.read_text(encoding="utf-8"))]


def test_the_contracts_worked_examples_get_the_clis_answers(client):
    requests = _examples()
    run = cli(json.dumps(requests))
    assert run.returncode == 0, run.stderr
    r = api(client, requests)
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    assert_security_headers(r)
    assert r.json() == json.loads(run.stdout)
    # one object in, one object out
    single = api(client, requests[0])
    assert single.json() == json.loads(run.stdout)[0]


@pytest.mark.parametrize("ruleset", sorted(_scenario_requests()))
def test_every_scenario_request_gets_the_clis_answer(client, ruleset):
    good, bad = _scenario_requests()[ruleset]
    assert good, ruleset
    run = cli(json.dumps(good), "--ruleset", ruleset)
    assert run.returncode == 0, run.stderr
    r = api(client, good, ruleset)
    assert r.status_code == 200
    assert r.json() == json.loads(run.stdout)
    explained = cli(json.dumps(good), "--ruleset", ruleset, "--explain")
    assert api(client, good, ruleset, explain="true").json() == json.loads(explained.stdout)
    if not bad:
        return
    # the bad requests, as one batch: the same problems, with the same JSON paths
    refused = cli(json.dumps(bad), "--ruleset", ruleset)
    assert refused.returncode == 2 and refused.stdout == b""
    r = api(client, bad, ruleset)
    assert r.status_code == 422
    problem = r.json()
    assert r.headers["content-type"] == "application/problem+json"
    assert problem["status"] == 422 and problem["code"] == "invalid_request"
    assert {"type", "title", "detail", "errors"} <= problem.keys()
    lines = [f"{e['path']}: {e['message']}" for e in problem["errors"]]
    assert lines == refused.stderr.decode().splitlines()


MALFORMED = [
    b"",
    b"{",
    b'{"kind": "consent_required", "subject": {"age": 12},}',
    b'{"a": NaN}',
    b"[1, 2] x",
    b'"tekst"',
    b"42",
    b'{"kind": "consent_required", "subject": {"age": 1' + b"0" * 30 + b"}}",
    b'{"kind": "consent_required", "subject": {"age": 12}, "x": "\\ud800"}',
    b'{"kind": "consent_required", "subject": {"age": 1e400}}',
    b'{"kind": "consent_required", "subject": {"age": 12.0}}',
    b'\xef\xbb\xbf{"kind": "consent_required", "subject": {"age": 12}}',
    b'{"kind": "consent_required", "subject": {"age": 12}, "x": "\\q"}',
    b"[" * 100_000,
]


@pytest.mark.parametrize("body", MALFORMED, ids=range(len(MALFORMED)))
def test_malformed_input_is_refused_as_the_cli_refuses_it(client, body):
    run = cli(body)
    r = api(client, body)
    if run.returncode == 0:  # what the CLI reads (a BOM), the API reads too
        assert r.status_code == 200 and r.json() == json.loads(run.stdout)
        return
    assert run.returncode == 2 and run.stdout == b""
    assert r.status_code in (400, 422), r.text
    assert r.headers["content-type"] == "application/problem+json"
    problem = r.json()
    expected = run.stderr.decode().strip()
    if r.status_code == 400:
        assert problem["code"] == "invalid_json"
        assert problem["detail"] == expected
        assert problem["errors"][0]["path"] == "request"
    else:
        assert [f"{e['path']}: {e['message']}" for e in problem["errors"]] == \
            expected.splitlines()


def test_bytes_that_are_not_utf8_are_a_400(client):
    r = api(client, b'{"a": "\xff"}')
    assert r.status_code == 400 and r.json()["code"] == "invalid_json"
    assert "UTF-8" in r.json()["detail"]


def test_only_built_in_rulesets_by_id_never_a_path(client):
    body = {"kind": "consent_required", "subject": {"age": 12}}
    for name in ("/etc/passwd", "regions/voorbeeldregio.yaml", "nergens"):
        r = api(client, body, name)
        assert r.status_code == 422
        assert r.json()["code"] == "ruleset_not_found"
        assert r.json()["errors"][0]["path"] == "ruleset"
    assert api(client, body, "voorbeeldregio").json()["ruleset"]["id"] == "voorbeeldregio"
    assert api(client, body, explain="misschien").status_code == 422


def test_a_regional_overleg_name_needs_its_ruleset(client):
    body = {"discloser": {"party": "school"}, "recipient": {"party": "swv"},
            "subject": {"age": 9}, "purpose": "TOM-tafel", "data": ["verzuim"]}
    assert api(client, body, "voorbeeldregio").json()["overleg"] == "TOM-tafel"
    refused = api(client, body)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["path"] == "request.purpose"


def test_too_many_requests_or_bytes_are_refused_before_deciding(client):
    one = {"kind": "consent_required", "subject": {"age": 12}}
    r = api(client, [one] * (openapi.MAX_BATCH + 1))
    assert r.status_code == 413 and r.json()["code"] == "too_large"
    assert api(client, [one] * openapi.MAX_BATCH).status_code == 200
    r = api(client, b" " * (openapi.MAX_BODY + 1))
    assert r.status_code == 413


def test_the_api_stores_nothing_and_needs_no_account(client, tmp_path):
    """No cookie is set, no session, and the app has no database to write to."""
    r = api(client, {"kind": "consent_required", "subject": {"age": 15}})
    assert r.status_code == 200 and "set-cookie" not in r.headers
