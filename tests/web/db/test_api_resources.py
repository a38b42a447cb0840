"""The API's resource endpoints (web/api/*.py) on the database: each endpoint's happy path and
its error paths (bad body, unknown id 404, refused 403, no token 401), CSRF for a browser's
session, the processing-log entry of a read and the caller's trace in it.

Who may see what is the matrix's subject (test_matrix_api.py); here the callers are those who
may, except where a refusal is the point."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from tests.web.db.api_scene import *  # noqa: F403 (the fixture scene)
from tests.web.db.api_scene import REGION, Scene
from tests.web.db.conftest import csrf_of, log_in

from deelwijs.rules import loader
from deelwijs.services.log import audit
from deelwijs.storage import orm

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"


@pytest.fixture
def api(web):
    with TestClient(web, base_url="https://testserver", raise_server_exceptions=False) as c:
        yield c


def call(api, sc: Scene, who: str | None, method: str, url: str, json=None, **kw):
    headers = {**sc.auth(who), **kw.pop("headers", {})}
    return api.request(method, "/api/v1" + url, json=json, headers=headers, **kw)


def problem(response, status: int, code: str | None = None, paths=()) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    if code is not None:
        assert body["code"] == code, body
    for path in paths:
        assert path in [e["path"] for e in body.get("errors", [])], body
    return body


def log_size(app, region_id: int) -> int:
    with app.transaction() as s:
        return s.scalar(select(func.count()).select_from(orm.LogEntry).where(
            orm.LogEntry.region_id == region_id))


def newest_entry(app, region_id: int) -> dict:
    with app.transaction() as s:
        row = s.scalars(select(orm.LogEntry).where(orm.LogEntry.region_id == region_id)
                        .order_by(orm.LogEntry.seq.desc())).first()
        return audit.body_of(row)


# --- authentication ---------------------------------------------------------------------------


def test_without_a_token_every_resource_answers_401_with_a_bearer_challenge(api, scene):
    for method, url in (("GET", f"/youths/{scene.youths['sem']}"), ("POST", "/cases"),
                        ("GET", f"/log/entries?region={REGION}")):
        response = call(api, scene, None, method, url, json={})
        problem(response, 401, "unauthenticated")
        assert response.headers["www-authenticate"].startswith("Bearer")
    wrong = api.get("/api/v1/cases?region=testregio",
                    headers={"authorization": "Bearer dw_not-a-real-token"})
    problem(wrong, 401, "unauthenticated")


def test_a_browser_session_needs_the_csrf_header_to_write_but_not_to_read(browser, scene):
    assert log_in(browser, "alice").status_code == 303
    body = {"region": REGION, "title": "Via de browser", "purpose": "oza", "anonymous": True}
    problem(browser.post("/api/v1/cases", json=body), 403, "csrf_refused")
    assert browser.get(f"/api/v1/cases?region={REGION}").status_code == 200
    token = csrf_of(browser.get("/account").text)
    made = browser.post("/api/v1/cases", json=body, headers={"x-csrf-token": token})
    assert made.status_code == 201, made.text
    assert made.json()["title"] == "Via de browser"


# --- bodies -------------------------------------------------------------------------------------


def test_a_body_that_is_no_json_or_no_object_is_refused_before_anything_is_written(
        api, scene, app):
    before = log_size(app, 1)
    problem(call(api, scene, "alice", "POST", "/cases", content=b"{not json",
                 headers={"content-type": "application/json"}), 400, "invalid_json")
    problem(call(api, scene, "alice", "POST", "/cases", content=b"",
                 headers={"content-type": "application/json"}), 400, "invalid_json")
    problem(call(api, scene, "alice", "POST", "/cases", json=[1, 2]), 422, "invalid_request",
            ["body"])
    big = {"region": REGION, "title": "x" * (1024 * 1024), "purpose": "oza"}
    problem(call(api, scene, "alice", "POST", "/cases", json=big), 413, "too_large")
    assert log_size(app, 1) == before


def test_every_problem_of_a_body_is_named_with_its_json_path(api, scene):
    body = {"region": REGION, "name": 12, "birth": "2015-13-01", "extra": True,
            "guardians": [{"name": "A", "relation": "moeder", "gezag": "ja"}, "B"]}
    found = problem(call(api, scene, "alice", "POST", "/youths", json=body), 422,
                    "invalid_request", ["name", "birth", "extra", "guardians[0].gezag",
                                        "guardians[1]"])
    codes = {e["path"]: e["code"] for e in found["errors"]}
    assert codes["name"] == "wrong_type" and codes["birth"] == "invalid_date"
    assert codes["extra"] == "unknown_field"
    missing = problem(call(api, scene, "alice", "POST", "/youths", json={}), 422)
    assert {e["path"] for e in missing["errors"]} == {"region", "name", "birth"}


# --- organisations ------------------------------------------------------------------------------


def test_organisations_are_listed_and_the_administrator_adds_one(api, scene):
    listed = call(api, scene, "alice", "GET", f"/organisations?region={REGION}")
    assert listed.status_code == 200
    assert "Stichting Onderwijs De Linde" in [o["name"] for o in listed.json()]
    problem(call(api, scene, "alice", "GET", "/organisations"), 422, "invalid_request",
            ["region"])
    problem(call(api, scene, "alice", "GET", "/organisations?region=nergens"), 404)
    body = {"region": REGION, "party": "jgz", "name": "JGZ Noord", "kvk": "12345678"}
    made = call(api, scene, "admin", "POST", "/organisations", json=body)
    assert made.status_code == 201, made.text
    assert made.json()["name"] == "JGZ Noord" and made.json()["party"] == "jgz"
    problem(call(api, scene, "alice", "POST", "/organisations", json=body), 403, "admin_only")
    problem(call(api, scene, "admin", "POST", "/organisations",
                 json={**body, "party": "bakkerij"}), 422, paths=["party"])


def test_the_administrator_changes_an_organisation(api, scene):
    url = f"/organisations/{scene.orgs['kinderopvang']}"
    changed = call(api, scene, "admin", "PATCH", url, json={"name": "Kinderopvang De Rups",
                                                             "kvk": "87654321"})
    assert changed.status_code == 200, changed.text
    assert changed.json()["name"] == "Kinderopvang De Rups"
    assert changed.json()["kvk"] == "87654321" and changed.json()["party"] == "kinderopvang"
    cleared = call(api, scene, "admin", "PATCH", url, json={"kvk": ""})
    assert cleared.json()["kvk"] is None and cleared.json()["name"] == "Kinderopvang De Rups"
    problem(call(api, scene, "admin", "PATCH", url, json={"kvk": "12"}), 422, "invalid_kvk",
            ["kvk"])
    problem(call(api, scene, "admin", "PATCH", url, json={"name": "JGZ Voorbeeldregio"}), 422,
            "duplicate", ["name"])
    problem(call(api, scene, "admin", "PATCH", url, json={"party": "school"}), 422,
            "invalid_request", ["party"])
    problem(call(api, scene, "admin", "PATCH", "/organisations/999999", json={}), 404)
    problem(call(api, scene, "alice", "PATCH", url, json={"name": "Overgenomen"}), 403,
            "admin_only")


# --- youths and consent ------------------------------------------------------------------------


def test_reading_a_youth_is_logged_with_the_callers_trace(api, scene, app):
    before = log_size(app, 1)
    response = call(api, scene, "alice", "GET", f"/youths/{scene.youths['sem']}",
                    headers={"traceparent": TRACEPARENT})
    assert response.status_code == 200
    assert response.json()["name"] == "Sem de Vries"
    assert response.headers["traceparent"].split("-")[1] == TRACE_ID
    assert log_size(app, 1) == before + 1
    entry = newest_entry(app, 1)
    assert entry["trace_id"] == TRACE_ID and entry["actie"] == "read"
    problem(call(api, scene, "alice", "GET", "/youths/999999"), 404, "not_found")
    problem(call(api, scene, "alice", "GET", "/youths/abc"), 404, "not_found")


def test_a_professional_registers_a_youth_with_the_bsn_masked(api, scene):
    body = {"region": REGION, "name": "Mila Jansen", "birth": "2015-03-01",
            "bsn": "999990019", "school_id": scene.orgs["school"],
            "guardians": [{"name": "Eva Jansen", "relation": "moeder", "gezag": True}]}
    made = call(api, scene, "alice", "POST", "/youths", json=body)
    assert made.status_code == 201, made.text
    view = made.json()
    assert view["name"] == "Mila Jansen" and view["bsn"] == "*****0019"
    assert view["guardians"][0]["gezag"] is True
    bad = call(api, scene, "alice", "POST", "/youths", json={**body, "bsn": "123456789"})
    problem(bad, 422, "invalid_bsn", ["bsn"])


def test_consent_is_recorded_and_listed(api, scene):
    sem = scene.youths["sem"]
    body = {"role": "parent", "answer": "given", "purposes": ["oza"],
            "categories": ["verzuim"], "guardian_id": scene.guardians["fatima"],
            "document_ref": "TOEST-9", "given_on": "2026-03-01"}
    made = call(api, scene, "alice", "POST", f"/youths/{sem}/consent", json=body)
    assert made.status_code == 201, made.text
    assert made.json()["version"] == 1
    listed = call(api, scene, "alice", "GET", f"/youths/{sem}/consent")
    assert [c["series"] for c in listed.json()] == [made.json()["series"]]
    problem(call(api, scene, "alice", "POST", f"/youths/{sem}/consent",
                 json={**body, "role": "oma"}), 422, "unknown_code", ["role"])
    problem(call(api, scene, "alice", "POST", f"/youths/{sem}/consent",
                 json={**body, "purposes": "oza"}), 422, "invalid_request", ["purposes"])
    problem(call(api, scene, "alice", "POST", "/youths/999999/consent", json=body), 404)
    # a sports club is no covenant party: it records no consent (403, nothing written)
    problem(call(api, scene, "sport", "POST", f"/youths/{sem}/consent", json=body), 403,
            "not_a_party")
    # the FG never records consent: refused before the youth is looked up, so an existing
    # youth and an unknown id get the same answer
    for youth in (sem, 999999):
        problem(call(api, scene, "fg", "POST", f"/youths/{youth}/consent", json=body), 403,
                "professional_only")
    assert len(call(api, scene, "alice", "GET", f"/youths/{sem}/consent").json()) == 1


# --- cases and meetings --------------------------------------------------------------------------


def test_a_professional_lists_only_the_cases_of_their_organisation(api, scene):
    alice = call(api, scene, "alice", "GET", f"/cases?region={REGION}").json()
    bob = call(api, scene, "bob", "GET", f"/cases?region={REGION}").json()
    assert [c["id"] for c in alice] == [scene.ids["case_a"]]
    assert [c["id"] for c in bob] == [scene.ids["case_b"]]
    problem(call(api, scene, "alice", "GET", f"/cases?region={REGION}&limit=0"), 422,
            paths=["limit"])


def test_reading_a_case_gives_its_meetings_and_disclosures_and_is_logged(api, scene, app):
    before = log_size(app, 1)
    response = call(api, scene, "carol", "GET", f"/cases/{scene.ids['case_a']}",
                    headers={"traceparent": TRACEPARENT})
    assert response.status_code == 200
    case = response.json()
    assert case["title"] == "Zorgen over Sem"
    assert [m["id"] for m in case["meetings"]] == [scene.ids["meeting_a"]]
    assert [d["id"] for d in case["disclosures"]] == [scene.ids["disclosure_a"]]
    assert log_size(app, 1) == before + 1
    assert newest_entry(app, 1)["trace_id"] == TRACE_ID
    listed = call(api, scene, "carol", "GET", f"/cases/{scene.ids['case_a']}/disclosures")
    assert [d["id"] for d in listed.json()] == [scene.ids["disclosure_a"]]
    problem(call(api, scene, "carol", "GET", "/cases/999999"), 404, "not_found")
    problem(call(api, scene, "fg", "GET", f"/cases/{scene.ids['case_a']}"), 403,
            "no_case_content")


def test_a_professional_opens_a_case(api, scene):
    body = {"region": REGION, "title": "Zorgen over Sem (2)", "purpose": "oza",
            "youth_id": scene.youths["sem"], "participants": [scene.orgs["leerplicht"]]}
    made = call(api, scene, "alice", "POST", "/cases", json=body)
    assert made.status_code == 201, made.text
    case = made.json()
    assert case["youth_id"] == scene.youths["sem"] and not case["anonymous"]
    assert {p["id"] for p in case["participants"]} == {scene.orgs["school"],
                                                       scene.orgs["leerplicht"]}
    problem(call(api, scene, "alice", "POST", "/cases", json={**body, "anonymous": True}),
            422, "invalid_request", ["youth_id"])
    problem(call(api, scene, "alice", "POST", "/cases", json={**body, "purpose": "roddel"}),
            422, paths=["purpose"])
    problem(call(api, scene, "alice", "POST", "/cases", json={**body, "youth_id": 999999}),
            404)


def test_a_meeting_is_planned_and_read_with_its_minutes(api, scene, app):
    case_a = scene.ids["case_a"]
    made = call(api, scene, "alice", "POST", f"/cases/{case_a}/meetings",
                json={"held_on": "2026-03-01", "agenda": ["Opening", "Voortgang"],
                      "participants": [scene.pros["alice"]]})
    assert made.status_code == 201, made.text
    assert [a["title"] for a in made.json()["agenda"]] == ["Opening", "Voortgang"]
    problem(call(api, scene, "alice", "POST", f"/cases/{case_a}/meetings",
                 json={"agenda": "Opening"}), 422, "invalid_request", ["agenda"])
    problem(call(api, scene, "alice", "POST", "/cases/999999/meetings", json={}), 404)
    before = log_size(app, 1)
    read = call(api, scene, "carol", "GET", f"/meetings/{scene.ids['meeting_a']}",
                headers={"traceparent": TRACEPARENT})
    assert read.status_code == 200
    assert read.json()["minutes"][0]["text"] == "Verslag van meeting_a: afspraken gemaakt."
    assert log_size(app, 1) == before + 1
    assert newest_entry(app, 1)["trace_id"] == TRACE_ID
    problem(call(api, scene, "carol", "GET", "/meetings/999999"), 404)
    problem(call(api, scene, "fg", "GET", f"/meetings/{scene.ids['meeting_a']}"), 403)


# --- disclosures --------------------------------------------------------------------------------


def test_a_disclosure_is_decided_from_the_stored_facts_and_read_back(api, scene, app):
    body = {"to_org": scene.orgs["swv"], "case_id": scene.ids["case_a"],
            "contents": {"verzuim": "Sem was 2 dagen afwezig."}, "on": "2026-03-01"}
    made = call(api, scene, "alice", "POST", "/disclosures", json=body,
                headers={"traceparent": TRACEPARENT})
    assert made.status_code == 201, made.text
    view = made.json()
    assert view["case_id"] == scene.ids["case_a"] and view["to_org"] == scene.orgs["swv"]
    assert newest_entry(app, 1)["trace_id"] == TRACE_ID  # written in the call's trace
    assert view["outcome"] in ("allow", "deny", "partial") and view["items"]
    read = call(api, scene, "alice", "GET", f"/disclosures/{scene.ids['disclosure_a']}")
    assert read.status_code == 200
    assert "decision" in read.json()
    assert read.json()["items"][0]["content"] == "Sem was 3 dagen afwezig."
    listed = call(api, scene, "alice", "GET", f"/youths/{scene.youths['sem']}/disclosures")
    assert scene.ids["disclosure_a"] in [d["id"] for d in listed.json()]
    problem(call(api, scene, "alice", "POST", "/disclosures", json={**body, "contents": {}}),
            422, "invalid_request", ["contents"])
    problem(call(api, scene, "alice", "POST", "/disclosures",
                 json={"contents": {"verzuim": "x"}}), 422, "invalid_request", ["to_org"])
    problem(call(api, scene, "alice", "POST", "/disclosures",
                 json={**body, "to_org": 999999}), 404)
    problem(call(api, scene, "alice", "GET", "/disclosures/999999"), 404, "not_found")
    problem(call(api, scene, "fg", "POST", "/disclosures", json=body), 403,
            "professional_only")
    # another organisation's case is unknown to bob (404, nothing of the case in the answer)
    unknown = problem(call(api, scene, "alice", "POST", "/disclosures",
                           json={**body, "case_id": 999999}), 404, "not_found")
    other = problem(call(api, scene, "bob", "POST", "/disclosures",
                         json={**body, "case_id": scene.ids["case_a"]}), 404, "not_found")
    assert other["detail"] == unknown["detail"].replace("999999", str(scene.ids["case_a"]))


# --- inzage ------------------------------------------------------------------------------------


def test_a_professional_records_an_inzage_for_a_parent(api, scene):
    sem = scene.youths["sem"]
    response = call(api, scene, "alice", "GET", f"/youths/{sem}/inzage?requester=parent"
                    f"&guardian_id={scene.guardians['fatima']}")
    assert response.status_code == 200, response.text
    assert response.json()["titel"] == "Inzage in uw gegevens"
    problem(call(api, scene, "alice", "GET", f"/youths/{sem}/inzage"), 422,
            "invalid_request", ["requester"])
    problem(call(api, scene, "alice", "GET", f"/youths/{sem}/inzage?requester=parent"
                 f"&guardian_id={scene.guardians['fatima']}&from=gisteren"), 422,
            "invalid_request", ["from"])
    problem(call(api, scene, "alice", "GET", "/youths/999999/inzage?requester=youth"), 404)


def test_a_parent_asks_inzage_for_their_own_child_without_naming_themselves(api, scene):
    response = call(api, scene, "ouder", "GET", f"/youths/{scene.youths['sem']}/inzage")
    assert response.status_code == 200, response.text


# --- the processing log, the register -----------------------------------------------------------


def test_the_fg_pages_through_the_log_and_verifies_it(api, scene):
    first = call(api, scene, "fg", "GET", f"/log/entries?region={REGION}&limit=1")
    assert first.status_code == 200
    page = first.json()
    assert len(page["entries"]) == 1 and page["next"] == page["entries"][0]["seq"]
    second = call(api, scene, "fg", "GET", f"/log/entries?region={REGION}&limit=1"
                  f"&after={page['next']}").json()
    assert second["entries"][0]["seq"] == page["next"] + 1
    everything = call(api, scene, "fg", "GET", f"/log/entries?region={REGION}&limit=500")
    assert everything.json()["next"] is None
    problem(call(api, scene, "fg", "GET", f"/log/entries?region={REGION}&limit=0"), 422,
            paths=["limit"])
    problem(call(api, scene, "fg", "GET", "/log/entries?region=nergens"), 404)
    problem(call(api, scene, "alice", "GET", f"/log/entries?region={REGION}"), 403,
            "fg_or_admin_only")
    verified = call(api, scene, "fg", "GET", f"/log/verify?region={REGION}")
    assert verified.status_code == 200 and verified.json()["ok"] is True
    problem(call(api, scene, "ouder", "GET", f"/log/verify?region={REGION}"), 403)


def test_the_register_is_the_export_of_the_regions_active_ruleset(api, scene):
    response = call(api, scene, "fg", "GET", f"/register?region={REGION}")
    assert response.status_code == 200
    doc = response.json()
    assert doc["register"]["ruleset"]["id"] == "voorbeeldregio" and doc["activiteiten"]
    problem(call(api, scene, "bob", "GET", f"/register?region={REGION}"), 403,
            "fg_or_admin_only")


# --- rulesets ----------------------------------------------------------------------------------


def test_rulesets_are_compared_checked_and_activated(api, scene):
    diff = call(api, scene, "fg", "GET", "/rulesets/diff?to=voorbeeldregio")
    assert diff.status_code == 200
    assert diff.json()["from"]["id"] == "model-convenant" and diff.json()["changes"]
    problem(call(api, scene, "fg", "GET", "/rulesets/diff?to=/etc/passwd"), 422,
            "invalid_request", ["to"])
    text = loader.builtin_path("voorbeeldregio").read_text(encoding="utf-8")
    ok = call(api, scene, "fg", "POST", "/rulesets/check", json={"text": text}).json()
    assert ok["ok"] is True and ok["ruleset"]["id"] == "voorbeeldregio"
    bad = call(api, scene, "fg", "POST", "/rulesets/check", json={"text": "id: [kapot"})
    assert bad.status_code == 200 and bad.json()["ok"] is False and bad.json()["problems"]
    problem(call(api, scene, "fg", "POST", "/rulesets/check", json={}), 422,
            "invalid_request", ["text"])
    body = {"region": REGION, "ruleset": "model-convenant", "on": "2026-03-01"}
    made = call(api, scene, "admin", "POST", "/rulesets/activate", json=body)
    assert made.status_code == 201, made.text
    assert made.json()["ruleset_id"] == "model-convenant"
    problem(call(api, scene, "admin", "POST", "/rulesets/activate",
                 json={**body, "ruleset": "/etc/passwd"}), 422, "invalid_request",
            ["ruleset"])
    problem(call(api, scene, "admin", "POST", "/rulesets/activate",
                 json={**body, "ruleset": "sha256:" + "0" * 64}), 404)
    problem(call(api, scene, "alice", "POST", "/rulesets/activate", json=body), 403,
            "admin_only")
