"""The authorization matrix of the API (issue 13): every endpoint × every persona, allowed or
forbidden, as the services decide it (services/access.py; the routes only ask for a login).

    A  allowed: 2xx
    F  forbidden: 401, 403 or 404
    N  not the caller's (IDOR): exactly 404, with no trace of the record in the answer
    (anonymous: 401 everywhere)

The personas are tests/web/db/conftest.py's; the records tests/web/db/api_scene.py's: case A
(school, leerplicht, SWV: alice and carol) about Sem, case B (jeugdhulp, gemeente: bob) about
Noor, a meeting and a disclosure in each. `sport` is a sports club's trainer, not a covenant
party.

A star (`N*`) would mark a known gap: a use case that still lacks its check (GAPS says why;
none is open today). Such a cell is expected to answer wrongly; when it answers rightly the
test fails ("gap closed"), so that the star is removed (strict, as xfail(strict=True)); when
only starred cells answer wrongly, the test xfails.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from tests.web.db.api_scene import *  # noqa: F403 (the fixture scene)
from tests.web.db.api_scene import REGION, Scene

from deelwijs.rules import loader

COLUMNS = ("alice", "bob", "carol", "sport", "fg", "admin", "ouder", "ouder2", "ouder_ander",
           "jongere")

# the matrix (services/access.py decides every cell; GAPS names the cells it does not yet)
#                                        alice bob carol sport fg admin ouder ouder2 o_ander jongere
MATRIX = {
    "GET /organisations":                 "A    A   A     A     A  A     A     A      A       A",
    "POST /organisations":                "F    F   F     F     F  A     F     F      F       F",
    "PATCH /organisations/{org}":         "F    F   F     F     F  A     F     F      F       F",
    "GET /youths/{sem}":                  "A    N   A     N     F  F     A     F      N       A",
    "GET /youths/{noor}":                 "N    A   N     N     F  F     N     N      N       N",
    "POST /youths":                       "A    A   A     F     F  F     F     F      F       F",
    "GET /youths/{sem}/consent":          "A    N   A     N     F  F     A     F      N       A",
    "POST /youths/{sem}/consent":         "A    A   A     F     F  F     F     F      F       F",
    "GET /youths/{sem}/disclosures":      "A    N   A     N     F  F     A     F      N       A",
    "GET /youths/{sem}/inzage":           "A    N   A     N     F  F     A     F      N       A",
    "GET /cases":                         "A    A   A     A     F  F     F     F      F       F",
    "GET /cases/{a}":                     "A    N   A     N     F  F     F     F      F       F",
    "GET /cases/{b}":                     "N    A   N     N     F  F     F     F      F       F",
    "POST /cases":                        "A    A   A     F     F  F     F     F      F       F",
    "GET /cases/{a}/disclosures":         "A    N   A     N     F  F     F     F      F       F",
    "POST /cases/{a}/meetings":           "A    N   A     N     F  F     F     F      F       F",
    "GET /meetings/{a}":                  "A    N   A     N     F  F     F     F      F       F",
    "GET /meetings/{b}":                  "N    A   N     N     F  F     F     F      F       F",
    "POST /disclosures":                  "A    N   A     F     F  F     F     F      F       F",
    "GET /disclosures/{a}":               "A    N   A     N     F  F     A     F      N       A",
    "GET /disclosures/{b}":               "N    A   N     N     F  F     N     N      N       N",
    "GET /log/entries":                   "F    F   F     F     A  A     F     F      F       F",
    "GET /log/verify":                    "F    F   F     F     A  A     F     F      F       F",
    "GET /register":                      "F    F   F     F     A  A     F     F      F       F",
    "GET /rulesets/diff":                 "A    A   A     A     A  A     A     A      A       A",
    "POST /rulesets/check":               "A    A   A     A     A  A     A     A      A       A",
    "POST /rulesets/activate":            "F    F   F     F     F  A     F     F      F       F",
    "GET /me":                            "A    A   A     A     A  A     A     A      A       A",
}

# a star (`N*`) marks a known gap: a use case that still lacks its check, with the reason here;
# none is open since the need-to-know checks of issue 13 (services/access.py)
GAPS: dict[str, str] = {}


def expected(endpoint: str, persona: str) -> tuple[str, bool]:
    """(A, F or N; whether the cell is a known gap)."""
    cell = MATRIX[endpoint].split()[COLUMNS.index(persona)]
    return cell[0], cell.endswith("*")


def request_of(endpoint: str, sc: Scene) -> tuple[str, str, dict | None, str | None]:
    """(method, url, JSON body, a text of the record that must not leak on a 404)."""
    method, path = endpoint.split(" ", 1)
    ids, youths, orgs = sc.ids, sc.youths, sc.orgs
    url = "/api/v1" + path.format(sem=youths["sem"], noor=youths["noor"], a=ids["case_a"],
                                  b=ids["case_b"], org=orgs["kinderopvang"])
    leak = None
    if path.startswith("/meetings/"):
        url = f"/api/v1/meetings/{ids['meeting_' + path[-2]]}"
        leak = "Verslag van"
    if path.startswith("/disclosures/"):
        url = f"/api/v1/disclosures/{ids['disclosure_' + path[-2]]}"
        leak = "Noor" if path.endswith("{b}") else "Sem"
    if "{noor}" in path or path.endswith("{b}"):
        leak = leak or "Noor"
    body = {
        "POST /organisations": {"region": REGION, "party": "derde", "name": "Matrix BV"},
        "PATCH /organisations/{org}": {"name": "Kinderopvang De Rups"},
        "POST /youths": {"region": REGION, "name": "Matrix Kind", "birth": "2015-01-01",
                         "guardians": [{"name": "M. Ouder", "relation": "moeder",
                                        "gezag": True}]},
        "POST /youths/{sem}/consent": {"role": "parent", "answer": "given",
                                       "purposes": ["oza"], "categories": ["verzuim"],
                                       "guardian_id": sc.guardians["fatima"],
                                       "document_ref": "TOEST-1"},
        "POST /cases": {"region": REGION, "title": "Matrix", "purpose": "oza",
                        "anonymous": True},
        "POST /cases/{a}/meetings": {"agenda": ["Opening"]},
        "POST /disclosures": {"to_org": orgs["swv"], "case_id": ids["case_a"],
                              "contents": {"verzuim": "2 dagen afwezig"}},
        "POST /rulesets/check": {"text": loader.builtin_path("voorbeeldregio").read_text(
            encoding="utf-8")},
        "POST /rulesets/activate": {"region": REGION, "ruleset": "voorbeeldregio"},
    }.get(endpoint)
    query = {"GET /organisations": f"?region={REGION}", "GET /cases": f"?region={REGION}",
             "GET /log/entries": f"?region={REGION}", "GET /log/verify": f"?region={REGION}",
             "GET /register": f"?region={REGION}", "GET /rulesets/diff": "?to=voorbeeldregio",
             "GET /youths/{sem}/inzage": f"?requester=parent&guardian_id="
                                         f"{sc.guardians['fatima']}"}.get(endpoint, "")
    return method, url + query, body, leak


def outcome(code: str, response, leak: str | None) -> bool:
    status = response.status_code
    if code == "A":
        return 200 <= status < 300
    if code == "F":
        return status in (401, 403, 404)
    return status == 404 and (leak is None or leak not in response.text)


def test_the_matrix_has_a_cell_for_every_resource_endpoint_and_persona():
    from deelwijs.web import openapi

    documented = {f"{m.upper()} {p.removeprefix('/api/v1')}"
                  for p, ops in openapi.document()["paths"].items() for m in ops
                  if p not in ("/api/v1/decisions", "/api/v1/openapi.json", "/api/v1/docs")}
    covered = {e.split(" ")[0] + " " + e.split(" ")[1].replace("{sem}", "{youth_id}")
               .replace("{noor}", "{youth_id}").replace("{a}", "{case_id}")
               .replace("{b}", "{case_id}").replace("{org}", "{organisation_id}")
               for e in MATRIX}
    covered = {c.replace("/meetings/{case_id}", "/meetings/{meeting_id}")
               .replace("/disclosures/{case_id}", "/disclosures/{disclosure_id}")
               for c in covered}
    assert documented == covered
    assert all(len(row.split()) == len(COLUMNS) for row in MATRIX.values())
    starred = {e for e, row in MATRIX.items() if "*" in row}
    assert starred == set(GAPS)


@pytest.mark.parametrize("persona", [None, *COLUMNS])
def test_every_endpoint_answers_each_persona_as_the_matrix_says(persona, scene, web):
    wrong, gaps, closed = [], [], []
    with TestClient(web, base_url="https://testserver", raise_server_exceptions=False) as c:
        for endpoint in MATRIX:
            method, url, body, leak = request_of(endpoint, scene)
            response = c.request(method, url, json=body, headers=scene.auth(persona))
            assert response.status_code < 500, (endpoint, response.text)
            if persona is None:
                if response.status_code != 401:
                    wrong.append((endpoint, response.status_code))
                continue
            code, gap = expected(endpoint, persona)
            ok = outcome(code, response, leak)
            if gap and ok:
                closed.append(endpoint)
            elif gap:
                gaps.append((endpoint, response.status_code, GAPS[endpoint]))
            elif not ok:
                wrong.append((endpoint, code, response.status_code, response.text[:160]))
    assert not wrong, f"{persona}: answered against the matrix: {wrong}"
    assert not closed, f"{persona}: gap closed, remove its star from MATRIX: {closed}"
    if gaps:
        pytest.xfail(f"{persona}: known gaps of the services: {gaps}")
