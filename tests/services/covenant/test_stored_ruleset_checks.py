"""A region whose active stored ruleset fails today's checks decides no new disclosures.

The bad versions are written straight into the database with SQL, as an older Deelwijs
(whose loader let a file without `extends` through, contract 1.1) or an insider with
database access would have left them: the loader never sees them. Recording (or only
deciding) a disclosure under such a version is refused with `ruleset_invalid`, naming the
command that shows why and the one that replaces it, and writes nothing. Decisions made
before, also one made under the bad version itself, stay readable with their own digest."""

from __future__ import annotations

import copy
import datetime as dt
import json

import pytest
from sqlalchemy import select, text, update
from tests.services.helpers import unit_of

from deelwijs.rules import loader
from deelwijs.services.casus import disclosures
from deelwijs.services.covenant import registry
from deelwijs.services.errors import Refused
from deelwijs.services.rights import requests as rights
from deelwijs.storage import orm

BEFORE = dt.date(2024, 1, 15)  # voorbeeldregio (active since START) in force
BAD_FROM = dt.date(2024, 2, 1)  # the bad version activated
DAY = dt.date(2024, 3, 1)  # a disclosure under the bad version


def _json(doc: dict) -> dict:
    return json.loads(json.dumps(doc, ensure_ascii=False, default=str))


def _standalone_attack() -> dict:
    """A file without `extends` as an older loader compiled it: youth care and the GP public
    bodies, health data outside information, the OTS route to anyone."""
    doc = _json(loader.model().document)
    doc.update(id="eigen-model", version="1", title="Eigen model")
    for party in ("jeugdhulp", "huisarts"):
        doc["parties"][party]["kind"] = "public_body"
    doc["categories"]["gezondheid"]["side"] = "buitenkant"
    doc["legal_routes"]["ots"][0].pop("to")
    return doc


def _older_model() -> dict:
    """The model as an older release stored it: same id, another version and text."""
    doc = _json(loader.model().document)
    doc["version"] = "1.0.0"
    doc["rules"]["purpose.matrix"]["explanation"] = "Zoals het in 1.0 stond."
    return doc


def _region(**changes) -> dict:
    """voorbeeldregio's effective document under an id of its own."""
    doc = _json(loader.resolve("voorbeeldregio").document)
    origins = doc["rule_origins"]
    doc["rule_origins"] = {rid: "westregio" for rid in origins}
    doc.update(id="westregio", title="Westregio")
    for path, value in changes.items():
        *keys, last = path.split("/")
        at = doc
        for key in keys:
            at = at[key]
        at[last] = value
    return doc


BAD = {
    # name: (document, digest column (None: the document's own), words the problems name)
    "standalone_attack": (_standalone_attack, None,
                          ("[not_a_region]", "verruimt het model", "jeugdhulp")),
    "older_model": (_older_model, None, ("[not_a_region]", "oudere of gewijzigde versie")),
    "region_lets_childcare_in": (lambda: _region(**{"parties/kinderopvang/covenant": "always"}),
                                 None, ("[widens_party]", "kinderopvang")),
    "region_on_an_older_model": (
        lambda: _region(**{"rules/secrecy.professional/title": "Beroepsgeheim (1.0)"}), None,
        ("wijkt af van wat Deelwijs nu", "secrecy.professional")),
    "region_minutes_kept_longer": (
        lambda: _region(**{"retention/casusoverleg_verslag/years": 20}), None,
        ("[widens_retention]", "20 jaar")),
    "model_under_another_digest": (lambda: _json(loader.model().document),
                                   "sha256:" + "0" * 64, ("digest in de database",)),
}


def _store_bad(app, region_id: int, doc: dict, digest: str | None, on: dt.date
               ) -> tuple[int, str]:
    """Insert a version and its activation with plain SQL (no service, no loader)."""
    digest = digest or loader.digest_of(doc)
    now = dt.datetime(2024, 1, 31, 12, 0)
    with app.engine.begin() as conn:
        conn.execute(text("INSERT INTO ruleset_version (ruleset_id, version, digest, source, "
                          "stored_at) VALUES (:rid, :version, :digest, :source, :now)"),
                     {"rid": doc["id"], "version": doc["version"], "digest": digest,
                      "source": json.dumps(doc, sort_keys=True, ensure_ascii=False),
                      "now": now})
        version_id = conn.execute(text("SELECT id FROM ruleset_version WHERE digest = :d"),
                                  {"d": digest}).scalar_one()
        conn.execute(text("INSERT INTO ruleset_activation (region_id, ruleset_version_id, "
                          "activated_on, activated_at) VALUES (:r, :v, :on, :now)"),
                     {"r": region_id, "v": version_id, "on": on, "now": now})
    return version_id, digest


@pytest.fixture
def case(build) -> tuple[int, int]:
    """(youth, case): a TOM-tafel about a youth whose parents consented."""
    youth = build.youth()
    case = build.case("TOM-tafel", participants=("leerplicht", "jeugdhulp", "school"),
                      youth_id=youth)
    build.accede("jeugdhulp", case)
    build.parents_consent(youth, given_on=dt.date(2023, 12, 1))
    return youth, case


CONTENTS = {"verzuim": "Drie dagen ongeoorloofd afwezig", "gedrag": "Onrustig in de klas"}


def _refused(call) -> Refused:
    with pytest.raises(Refused) as caught:
        call()
    assert (caught.value.code, caught.value.field) == ("ruleset_invalid", "ruleset")
    return caught.value


@pytest.mark.parametrize("bad", list(BAD))
def test_no_disclosure_is_decided_or_recorded_under_a_stored_version_that_fails_today(
        app, build, case, bad):
    youth, case_id = case
    earlier = build.disclose("alice", "leerplicht", CONTENTS, BEFORE, case_id=case_id)
    make, digest, words = BAD[bad]
    _, digest = _store_bad(app, build.w.region_id, make(), digest, BAD_FROM)
    counts = build.counts()

    recorded = _refused(lambda: build.disclose("alice", "leerplicht", CONTENTS, DAY,
                                               case_id=case_id))
    message = recorded.message
    assert "regio testregio" in message and digest in message
    assert "deelwijs region ruleset check testregio" in message
    assert "deelwijs region ruleset activate" in message
    for word in words:
        assert word in message or any(word in p for p in _problems(app, build)), word
    assert build.counts() == counts  # nothing written, not even a log entry
    # only deciding (nothing recorded) is refused the same way; so is a disclosure outside
    # a case
    _refused(lambda: build.decide("alice", "leerplicht", ["verzuim"], DAY, case_id=case_id))
    _refused(lambda: build.disclose("carol", "school", {"verzuim": "x"}, DAY, youth_id=youth,
                                    purpose="eigen_taak"))
    assert build.counts() == counts
    # before the bad version was activated, the region's own version still decides
    assert build.decide("alice", "leerplicht", ["verzuim"], BEFORE, case_id=case_id)
    assert build.disclosure_view(earlier)["ruleset_digest"] == build.w.digest


def _problems(app, build, on: dt.date = DAY) -> list[str]:
    with app.transaction() as s:
        return app.check_active(s, build.w.region_id, on)[1]


def test_each_bad_version_has_its_problems_named_and_the_region_s_own_has_none(app, build):
    assert _problems(app, build) == []  # voorbeeldregio, stored by the service
    for i, (make, digest, words) in enumerate(BAD.values()):
        _store_bad(app, build.w.region_id, make(), digest, BAD_FROM + dt.timedelta(days=i))
        problems = _problems(app, build, BAD_FROM + dt.timedelta(days=i))
        assert problems, make
        for word in words:
            assert any(word in p for p in problems), (word, problems)
    # the verdict is kept per digest: asked again, the same list (not computed again)
    with app.transaction() as s:
        version, first = app.check_active(s, build.w.region_id, BAD_FROM)
        assert app.ruleset_problems(s, version.id, version.digest) is first


def test_a_decision_made_under_the_bad_version_stays_readable_with_its_digest(
        app, build, case, tamper):
    """An older release recorded a disclosure under the bad version: it is still shown, in
    the disclosure view and in the youth's inzage, under that version."""
    youth, case_id = case
    made = build.disclose("alice", "leerplicht", CONTENTS, BEFORE, case_id=case_id)
    version_id, digest = _store_bad(app, build.w.region_id, _standalone_attack(), None,
                                    BAD_FROM)
    with app.engine.connect() as conn:
        decision = conn.execute(select(orm.Disclosure.decision).where(
            orm.Disclosure.id == made)).scalar_one()
    decision = {**decision, "ruleset": {**decision["ruleset"], "id": "eigen-model",
                                        "version": "1", "digest": digest}}
    # as the older release wrote it (the owner: the app role may not change a decision)
    tamper(update(orm.Disclosure).where(orm.Disclosure.id == made).values(
        ruleset_version_id=version_id, ruleset_digest=digest, decision=decision,
        disclosed_on=DAY))
    _refused(lambda: build.disclose("alice", "leerplicht", CONTENTS, DAY, case_id=case_id))

    shown = build.disclosure_view(made)
    assert (shown["ruleset_digest"], shown["ruleset_version_id"]) == (digest, version_id)
    assert shown["decision"]["ruleset"]["digest"] == digest
    assert {i["data"]: i["content"] for i in shown["items"] if i["outcome"] == "allow"}
    with app.transaction() as s:
        listed = disclosures.list_for_youth(unit_of(app, s), youth)
        guardian = build.guardians(youth)[0]
        overview = rights.inzage(unit_of(app, s, today=DAY + dt.timedelta(days=1)), youth,
                                 requester="parent", guardian_id=guardian)
    assert [d["id"] for d in listed] == [made]
    assert len(overview["verstrekkingen"]) == 1
    assert digest in json.dumps(overview, ensure_ascii=False, default=str)


def test_activating_a_checked_ruleset_lets_the_region_decide_again(app, build, case):
    _, case_id = case
    _store_bad(app, build.w.region_id, _standalone_attack(), None, BAD_FROM)
    _refused(lambda: build.disclose("alice", "leerplicht", CONTENTS, DAY, case_id=case_id))
    with app.transaction() as s:
        region = s.get(orm.Region, build.w.region_id)
        version = registry.activate_ruleset(unit_of(app, s), region, "voorbeeldregio", BAD_FROM)
        assert version.id == build.w.version_id  # the same stored version, activated again
    made = build.disclose("alice", "leerplicht", CONTENTS, DAY, case_id=case_id)
    assert build.disclosure_view(made)["ruleset_digest"] == build.w.digest


def test_region_ruleset_check_prints_why_and_how_to_replace_it(
        app, build, deelwijs, database_url, master_key):
    _store_bad(app, build.w.region_id, _standalone_attack(), None, BAD_FROM)
    env = dict(DEELWIJS_DATABASE_URL=database_url, DEELWIJS_MASTER_KEY=master_key.decode(),
               # the test database lies in tmp_path, where the default witness file would
               # be refused (it must lie outside the database's folder): not needed here
               DEELWIJS_WITNESS_FILE="uit")

    def run(*args):
        return deelwijs("region", "ruleset", "check", *args, env=env)

    bad = run("testregio", "--on", DAY.isoformat())
    assert (bad.returncode, bad.stdout) == (2, ""), bad.stderr
    lines = bad.stderr.splitlines()
    assert lines[0].startswith("testregio: de actieve ruleset eigen-model 1 ")
    assert any("[not_a_region]" in line for line in lines[1:])
    assert any("verruimt het model" in line and "gezondheid" in line for line in lines)
    assert "deelwijs region ruleset activate" in lines[-1]
    as_json = run("testregio", "--on", DAY.isoformat(), "--json")
    data = json.loads(as_json.stdout)
    assert as_json.returncode == 2 and data["ok"] is False
    assert data["ruleset_id"] == "eigen-model" and data["problems"] == [
        line[2:] for line in lines[1:-1]]
    good = run("testregio", "--on", BEFORE.isoformat())
    assert good.returncode == 0, good.stderr
    assert good.stdout.startswith("testregio: in orde (voorbeeldregio ")
    unknown = run("nergens")
    assert (unknown.returncode, unknown.stdout) == (2, "")


def test_the_check_is_pure_a_copy_of_a_bad_document_fails_the_same(app, build):
    """A version is judged by its document: the same attack under a fresh App (another
    process) gets the same problems."""
    doc = copy.deepcopy(_standalone_attack())
    _store_bad(app, build.w.region_id, doc, None, BAD_FROM)
    from deelwijs.services.app import open_app

    other = open_app(app.settings)
    try:
        with other.transaction() as s:
            theirs = other.check_active(s, build.w.region_id, DAY)[1]
    finally:
        other.engine.dispose()
    assert theirs == _problems(app, build) and theirs


@pytest.mark.parametrize("bad", list(BAD))
def test_a_stored_version_that_fails_today_cannot_be_activated_again(app, build, bad, tamper):
    """Activating by digest (as `region ruleset activate sha256:…` does) runs the same checks
    as deciding under it: the version is refused up front, and no activation is written."""
    make, digest, words = BAD[bad]
    doc = make()
    version_id, digest = _store_bad(app, build.w.region_id, doc, digest, BAD_FROM)
    # keep only the stored version, not its activation (activations are append-only to the
    # app role: the owner removes it)
    unactivated = ("DELETE FROM ruleset_activation WHERE ruleset_version_id = :v",
                   {"v": version_id})
    tamper.assert_app_role_refused(unactivated)
    tamper(unactivated)
    with app.transaction() as s:
        before = s.scalar(select(orm.RulesetActivation.id).order_by(
            orm.RulesetActivation.id.desc()).limit(1))
        region = s.get(orm.Region, build.w.region_id)
        with pytest.raises(Refused) as caught:
            registry.activate_ruleset(unit_of(app, s), region, digest, DAY)
        assert caught.value.code == "ruleset_invalid"
        assert all(w in str(caught.value) for w in words[:1]), str(caught.value)
    with app.transaction() as s:
        after = s.scalar(select(orm.RulesetActivation.id).order_by(
            orm.RulesetActivation.id.desc()).limit(1))
    assert after == before
