"""Consent versions and disclosures bound to the processing log both ways (services.binding),
and pruning only when due (migration 0006): what someone with direct database access does
to the rows is named by `verify`, one line per row naming the table and id, on SQLite and
on PostgreSQL. Each attack here got past `verify` before the binding ("in orde")."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import pytest
from alembic import command
from sqlalchemy import insert, select, text
from sqlalchemy.exc import DBAPIError
from tests.services.helpers import TODAY, outcomes, unit_of, write_unbound

from deelwijs.services.casus import identification, redecide
from deelwijs.services.log import audit, binding, verify
from deelwijs.storage import db, orm

DAY = dt.date(2024, 3, 1)
LONG_AGO = dt.datetime(1999, 5, 4, 12, 0)


def report(app, deep: int = 0) -> verify.Report:
    with app.transaction() as s:
        return verify.verify(s, app.keys, deep=deep, app=app, redecide=redecide.redecide)


def lines(rep: verify.Report, kind: str | None = None) -> list[str]:
    return [p.line() for p in rep.problems if kind is None or p.kind == kind]


@pytest.fixture
def refused(build):
    """(youth, case, disclosure): a case in which the school may share behaviour with the
    youth-care provider only with the parents' consent, which nobody gave: refused."""
    youth = build.youth()
    case = build.case("oza", participants=("school", "jeugdhulp", "swv"), youth_id=youth)
    build.accede("jeugdhulp", case)
    disclosure = build.disclose("alice", "jeugdhulp", {"gedrag": "Onrustig in de klas"}, DAY,
                                case_id=case)
    assert build.disclosure_view(disclosure)["outcome"] == "deny"
    return youth, case, disclosure


def entry_of(app, table: str, row_id: int) -> orm.LogEntry:
    """The log entry that binds a row."""
    with app.transaction() as s:
        for e in s.scalars(select(orm.LogEntry).order_by(orm.LogEntry.seq)):
            named = audit.body_of(e).get(binding.FIELD) if e.body else None
            if named and binding.parse_ref(named)[:2] == (table, row_id):
                return e
    raise AssertionError(f"no entry binds {table} {row_id}")


def test_every_consent_version_and_disclosure_names_its_row_and_digest(app, build, refused):
    youth, _, disclosure = refused
    [mother, _] = build.guardians(youth)
    series = build.consent(youth, "parent", guardian_id=mother, given_on=DAY)
    build.change_consent(series, 1, "withdrawn", DAY)
    with app.transaction() as s:
        rows = s.scalars(select(orm.ConsentRecord).order_by(orm.ConsentRecord.id)).all()
        for row in rows:
            entry = audit.body_of(entry_of(app, "consent_record", row.id))
            assert entry[binding.FIELD] == f"consent_record:{row.id}:{binding.consent_digest(row)}"
            # the canonical form as docs/audit.md writes it down
            documented = ["consent_record", 1, row.id, row.youth_id, row.series, row.version,
                          row.role, row.guardian_id, row.answer, row.purposes, row.categories,
                          row.recipient_ids, row.written, row.document_ref,
                          row.given_on.isoformat(), row.prior_to_meeting_id,
                          row.recorded_by_id]
            assert binding.consent_digest(row) == hashlib.sha256(
                audit.canonical(documented).encode()).hexdigest()
            assert entry["toestemming"]["versie"] == row.version
        stored = s.get(orm.Disclosure, disclosure)
        decision_text = s.execute(text("SELECT CAST(decision AS TEXT) FROM disclosure "
                                       "WHERE id = :d"), {"d": disclosure}).scalar_one()
        items = [[i.category, i.outcome, i.codes, i.rules] for i in s.scalars(
            select(orm.DisclosureItem).where(orm.DisclosureItem.disclosure_id == disclosure)
            .order_by(orm.DisclosureItem.id))]
        documented = ["disclosure", 1, *(getattr(stored, c) for c in (
            "id", "region_id", "case_id", "meeting_id", "from_org_id", "to_org_id",
            "professional_id", "hat", "purpose", "kind", "outcome", "ruleset_version_id",
            "ruleset_digest")), stored.disclosed_on.isoformat(),
            hashlib.sha256(decision_text.encode()).hexdigest(), items]
    assert json.loads(decision_text) == stored.decision
    body = audit.body_of(entry_of(app, "disclosure", disclosure))
    assert body["verstrekking"] == disclosure and body["actie"] == "deny"
    assert body[binding.FIELD] == (f"disclosure:{disclosure}:" + hashlib.sha256(
        audit.canonical(documented).encode()).hexdigest())
    rep = report(app)
    assert rep.ok, lines(rep)
    assert rep.regions["testregio"]["gebonden"] == {"toestemmingsversies": 2,
                                                    "verstrekkingen": 1}
    assert rep.regions["testregio"]["ongebonden"] == 0


def test_a_forged_consent_insert_that_turns_a_refusal_into_an_allowance_is_named(
        app, build, refused):
    youth, case, _ = refused
    forged = []
    # as the app role itself: it may insert consent versions, and no trigger covers INSERT
    with app.engine.begin() as conn:
        for guardian in build.guardians(youth):
            forged.append(conn.execute(insert(orm.ConsentRecord.__table__).values(
                youth_id=youth, series=f"vervalst-{guardian}", version=1, role="parent",
                guardian_id=guardian, answer="given", purposes=["oza"], categories=["gedrag"],
                recipient_ids=[], written=True, document_ref="NEP-1",
                given_on=dt.date(2024, 2, 1), recorded_at=dt.datetime(2024, 2, 1, 9, 0))
                .returning(orm.ConsentRecord.id)).scalar_one())
    # the forged consent does what it was made for: the same question is now allowed
    allowed = build.disclose("alice", "jeugdhulp", {"gedrag": "Onrustig in de klas"}, DAY,
                             case_id=case)
    assert outcomes(build.disclosure_view(allowed)["decision"])["gedrag"][0] == "allow"

    rep = report(app)
    assert not rep.ok
    assert sorted(lines(rep)) == sorted(
        f"testregio: consent_record {i}: rij zonder logregel: geen logregel legt deze "
        "toestemmingsversie vast: buiten Deelwijs om ingevoegd, of de logregel is verwijderd"
        for i in forged)


@pytest.mark.parametrize("flip", ["disclosure and items", "items only", "decision only"])
def test_a_disclosure_flipped_from_deny_to_allow_is_named(app, build, refused, flip, tamper):
    _, _, disclosure = refused
    allowed = dict(build.disclosure_view(disclosure)["decision"], outcome="allow")
    allowed["items"] = [dict(i, outcome="allow", grounds=["CONSENT"], reasons=[])
                        for i in allowed["items"]]
    statements = []
    if flip != "items only":
        statements.append(("UPDATE disclosure SET outcome = 'allow', decision = :d "
                           "WHERE id = :id" if flip == "disclosure and items" else
                           "UPDATE disclosure SET decision = :d WHERE id = :id",
                           {"d": json.dumps(allowed), "id": disclosure}))
    if flip != "decision only":
        statements.append(("UPDATE disclosure_item SET outcome = 'allow', codes = :c "
                           "WHERE disclosure_id = :id", {"c": '["CONSENT"]', "id": disclosure}))
    if app.engine.dialect.name == "postgresql":
        statements = [(sql.replace(":d ", "CAST(:d AS json) ").replace(":c ", "CAST(:c AS json) "),
                       params) for sql, params in statements]
    # no trigger on disclosures, but the app role may not change an outcome or a decision
    tamper.assert_app_role_refused(*statements)
    tamper(*statements)
    entry = entry_of(app, "disclosure", disclosure)
    rep = report(app)
    assert lines(rep) == [
        f"testregio: disclosure {disclosure}: rij gewijzigd: de inhoud past niet meer bij wat "
        f"logregel {entry.seq} (actieId {entry.actie_id}) over deze verstrekking vastlegde"]


def test_content_put_into_a_refused_item_is_named(app, build, refused, tamper):
    _, _, disclosure = refused
    # as the app role itself: it may update an item's content (the retention run wipes it)
    tamper.as_app(("UPDATE disclosure_item SET content = 'verzonnen' "
                   "WHERE disclosure_id = :id", {"id": disclosure}))
    assert lines(report(app)) == [f"testregio: disclosure {disclosure}: rij gewijzigd: het "
                                  "geweigerde onderdeel gedrag bevat inhoud"]


def test_a_disclosure_moved_to_another_youth_is_named(app, build, refused, tamper):
    _, _, disclosure = refused
    other = build.youth(name="Noor Jansen")
    # as the app role itself: it may set a disclosure's youth (identification does)
    tamper.as_app(("UPDATE disclosure SET youth_id = :y WHERE id = :id",
                   {"y": other, "id": disclosure}))
    [line] = lines(report(app))
    assert line.startswith(f"testregio: disclosure {disclosure}: rij gewijzigd: de verstrekking "
                           "gaat nu over een andere jongere dan logregel ")


def test_a_deleted_disclosure_is_named(app, build, refused, tamper):
    _, _, disclosure = refused
    entry = entry_of(app, "disclosure", disclosure)
    deletes = [("DELETE FROM disclosure_item WHERE disclosure_id = :id", {"id": disclosure}),
               ("DELETE FROM disclosure WHERE id = :id", {"id": disclosure})]
    tamper.assert_app_role_refused(*deletes)
    tamper(*deletes)
    assert lines(report(app)) == [
        f"testregio: disclosure {disclosure}: rij verwijderd: logregel {entry.seq} (actieId "
        f"{entry.actie_id}) noemt deze verstrekking, maar de rij bestaat niet meer"]


def test_a_deleted_entry_of_a_kept_disclosure_is_named_by_the_log_and_by_the_row(
        app, build, refused, tamper):
    _, _, disclosure = refused
    entry = entry_of(app, "disclosure", disclosure)
    delete = ("DELETE FROM log_entry WHERE id = :id", {"id": entry.id})
    tamper.assert_app_role_refused(delete)
    tamper(delete)
    rep = report(app)
    assert any(p.kind == "missing" for p in rep.problems)  # the chain has a gap
    assert (f"testregio: disclosure {disclosure}: rij zonder logregel: geen logregel legt "
            "deze verstrekking vast: buiten Deelwijs om ingevoegd, of de logregel is "
            "verwijderd") in lines(rep)


def test_a_deleted_consent_version_is_named(app, build, refused, tamper):
    youth, _, _ = refused
    [mother, _] = build.guardians(youth)
    build.consent(youth, "parent", guardian_id=mother, given_on=DAY)
    with app.transaction() as s:
        row_id = s.scalars(select(orm.ConsentRecord.id)).one()
    delete = ("DELETE FROM consent_record WHERE id = :id", {"id": row_id})
    tamper.assert_app_role_refused(delete)
    tamper(delete)
    [line] = lines(report(app))
    assert line.startswith(f"testregio: consent_record {row_id}: rij verwijderd: logregel ")


def test_rows_written_at_the_same_time_as_verify_are_not_mistaken(app, build, refused,
                                                                  monkeypatch):
    """A consent recorded between verify's read of the rows and of the entries (another
    snapshot on PostgreSQL) is neither a row without entry nor an entry without row."""
    youth, _, _ = refused
    [mother, _] = build.guardians(youth)
    real = binding._read_disclosures

    def meanwhile(*args, **kwargs):
        out = real(*args, **kwargs)
        build.consent(youth, "parent", guardian_id=mother, given_on=DAY)  # its own transaction
        return out

    monkeypatch.setattr(binding, "_read_disclosures", meanwhile)
    rep = report(app)
    assert rep.ok, lines(rep)


def test_an_anonymous_disclosure_stays_bound_when_its_case_is_put_on_a_name(app, build, tamper):
    """Identification puts the case's disclosures on the youth's name (youth_id changes and
    their content is encrypted): bound, not altered; moving one to another youth is named."""
    case = build.case("oza", participants=("leerplicht", "swv"), creator="bob")
    build.accede("jeugdhulp", case)
    anonymous = build.disclose("bob", "leerplicht", {"gedrag": "Onrustig"}, DAY, case_id=case)
    youth = build.youth()
    build.parents_consent(youth, purposes=("oza",), categories=("identificatie",),
                          given_on=TODAY - dt.timedelta(days=3))
    with app.transaction() as s:
        identification.identify_case(unit_of(app, s, by=build.pro("bob")), case, youth, TODAY)
    assert build.disclosure_view(anonymous)["youth_id"] == youth
    rep = report(app, deep=50)
    assert rep.ok, lines(rep)
    assert rep.regions["testregio"]["diep"]["niet_opnieuw_te_beslissen"] == 1

    other = build.youth(name="Noor Jansen")
    tamper.as_app(("UPDATE disclosure SET youth_id = :y WHERE id = :id",  # the app role may
                   {"y": other, "id": anonymous}))
    [line] = lines(report(app))
    assert line.startswith(f"testregio: disclosure {anonymous}: rij gewijzigd: logregel ")
    assert line.endswith("legde een anonieme verstrekking vast; die gaat nu over een jongere "
                         "die niet die van haar casus is")


# --- pruning only when due ------------------------------------------------------------------


@pytest.fixture
def old_and_new(app, build, monkeypatch):
    """A youth registered long ago (its entry past the log's term) and one today."""
    monkeypatch.setattr(audit, "_now", lambda: LONG_AGO)
    old = build.youth(name="Oud")
    monkeypatch.undo()
    new = build.youth(name="Nieuw")
    with app.transaction() as s:
        subjects = {app.keys.subject(old): "old", app.keys.subject(new): "new"}
        return {subjects[e.subject]: e.seq for e in s.scalars(select(orm.LogEntry))
                if e.subject in subjects}


PRUNE = "UPDATE log_entry SET body = NULL, pruned_at = :t WHERE seq = :seq"


def test_a_body_goes_only_after_its_term(app, old_and_new):
    with pytest.raises(DBAPIError, match="bewaartermijn"), app.engine.begin() as conn:
        conn.execute(text(PRUNE), {"t": audit.now(), "seq": old_and_new["new"]})
    with pytest.raises(DBAPIError, match="bewaartermijn"), app.engine.begin() as conn:
        # a pruned_at far ahead does not make a fresh entry due, nor an old one
        conn.execute(text(PRUNE), {"t": dt.datetime(2099, 1, 1), "seq": old_and_new["new"]})
    with pytest.raises(DBAPIError, match="bewaartermijn"), app.engine.begin() as conn:
        conn.execute(text(PRUNE), {"t": dt.datetime(2099, 1, 1), "seq": old_and_new["old"]})
    with app.engine.begin() as conn:  # past its term: the one UPDATE the triggers allow
        conn.execute(text(PRUNE), {"t": audit.now(), "seq": old_and_new["old"]})
    rep = report(app)
    assert rep.ok, lines(rep)
    with app.transaction() as s:
        assert verify.prove(s, app.keys, str(old_and_new["old"]), "testregio")["klopt"]


@pytest.mark.parametrize("pruned_at", ["now", "future"])
def test_a_body_removed_early_past_the_trigger_is_named(app, old_and_new, pruned_at, tamper):
    at = audit.now() if pruned_at == "now" else dt.datetime(2099, 1, 1)
    early = (PRUNE, {"t": at, "seq": old_and_new["new"]})
    tamper.assert_app_role_refused(early, by="trigger")  # the app role may prune when due
    tamper(early)
    rep = report(app)
    [problem] = rep.problems
    assert (problem.kind, problem.seq) == ("pruned_early", old_and_new["new"])
    assert problem.line().startswith(f"testregio: regel {old_and_new['new']} (id ")
    assert ": te vroeg opgeschoond: " in problem.line()
    assert ("binnen de bewaartermijn (P25Y na " if pruned_at == "now"
            else "ligt in de toekomst") in problem.line()


def test_the_rule_of_the_trigger_and_of_verify(app):
    registered = dt.datetime(2001, 3, 2, 23, 59)
    assert not audit.prunable(registered, dt.datetime(2026, 2, 28, 12))
    assert audit.prunable(registered, dt.datetime(2026, 3, 1, 0, 1))  # a day's leeway
    assert audit.prunable(dt.datetime(2000, 2, 29, 12), dt.datetime(2025, 2, 27))
    assert f"P{audit.LOG_RETENTION_YEARS}Y" == audit.LOG_RETENTION


# --- verify --deep --------------------------------------------------------------------------


def test_deep_decides_again_and_names_a_decision_its_stored_facts_no_longer_give(
        app, build, tamper):
    """A fact that is not bound to the log (gezag) changed behind the app's back: the rows
    and entries still agree, so only deciding again shows it."""
    youth = build.youth()
    mother, father = build.guardians(youth)
    case = build.case("oza", participants=("school", "jeugdhulp", "swv"), youth_id=youth)
    build.accede("jeugdhulp", case)
    build.consent(youth, "parent", guardian_id=mother, given_on=dt.date(2024, 2, 1))
    build.consent(youth, "parent", "refused", guardian_id=father, given_on=dt.date(2024, 2, 1))
    kept = build.disclose("alice", "jeugdhulp", {"gedrag": "Onrustig"}, DAY, case_id=case)
    assert build.disclosure_view(kept)["outcome"] == "deny"
    rep = report(app, deep=50)
    assert rep.ok, lines(rep)
    assert rep.regions["testregio"]["diep"] == {"opnieuw_beslist": 1, "afwijkend": 0}

    tamper.as_app(("UPDATE guardian SET has_gezag = false WHERE id = :id",  # the app role may
                   {"id": father}))
    assert report(app).ok  # without --deep: nothing bound changed
    rep = report(app, deep=50)
    assert lines(rep) == [
        f"testregio: disclosure {kept}: besluit wijkt af: opnieuw beslist uit de opgeslagen "
        f"feiten onder dezelfde ruleset ({build.w.digest}): gedrag was deny, is nu allow"]


# --- rows from before the binding -------------------------------------------------------------


def test_rows_from_before_the_binding_are_unbound_not_forged(app, build, refused,
                                                             monkeypatch, tamper):
    youth, case, _ = refused  # bound
    write_unbound(monkeypatch)
    [mother, _] = build.guardians(youth)
    old_series = build.consent(youth, "parent", guardian_id=mother, given_on=DAY)
    old_disclosure = build.disclose("alice", "jeugdhulp", {"gedrag": "Onrustig"}, DAY,
                                    case_id=case)
    monkeypatch.undo()
    rep = report(app)
    assert rep.ok, lines(rep)
    assert rep.regions["testregio"]["ongebonden"] == 2
    assert rep.regions["testregio"]["gebonden"] == {"toestemmingsversies": 0,
                                                    "verstrekkingen": 1}
    # an unbound row is still paired with the entry that names it: deleted, it is missed
    with app.transaction() as s:
        consent_id = s.scalars(select(orm.ConsentRecord.id).where(
            orm.ConsentRecord.series == old_series)).one()
    deletes = [("DELETE FROM disclosure_item WHERE disclosure_id = :id", {"id": old_disclosure}),
               ("DELETE FROM disclosure WHERE id = :id", {"id": old_disclosure}),
               ("DELETE FROM consent_record WHERE id = :id", {"id": consent_id})]
    tamper.assert_app_role_refused(*deletes)
    tamper(*deletes)
    found = lines(report(app))
    assert len(found) == 2
    assert found[0].startswith(f"testregio: consent_record (reeks {old_series}, versie 1): "
                               "rij verwijderd: logregel ")
    assert found[1].startswith(f"testregio: disclosure {old_disclosure}: rij verwijderd: ")


def test_verify_json_names_the_row(app, build, refused, tamper):
    _, _, disclosure = refused
    changed = ("UPDATE disclosure SET purpose = 'oza2' WHERE id = :id", {"id": disclosure})
    tamper.assert_app_role_refused(changed)
    tamper(changed)
    [problem] = report(app).as_json()["problemen"]
    assert (problem["soort"], problem["rij"]) == ("row_altered", f"disclosure {disclosure}")


# --- migration 0006 on a database that already has entries -----------------------------------


def test_0006_downgrades_and_upgrades_a_database_with_entries(app, build, refused,
                                                              monkeypatch, owner_engine):
    """Rows and entries written before the binding, then 0006 down and up on this test's
    database (SQLite or PostgreSQL): the trigger's rule comes and goes, the entries stay,
    verify reports the old rows as unbound."""
    youth, case, _ = refused
    write_unbound(monkeypatch)
    build.parents_consent(youth, given_on=dt.date(2024, 2, 1))
    build.disclose("alice", "jeugdhulp", {"gedrag": "Onrustig"}, DAY, case_id=case)
    monkeypatch.undo()
    cfg = db.alembic_config(owner_engine)  # migrations are the owner's (db roles)
    fresh = {"t": audit.now(), "seq": 0}
    try:
        command.downgrade(cfg, "0005")
        command.upgrade(cfg, "0006")
        with pytest.raises(DBAPIError, match="bewaartermijn"), app.engine.begin() as conn:
            conn.execute(text(PRUNE), fresh)
        rep = report(app)
        assert rep.ok, lines(rep)
        assert rep.regions["testregio"]["ongebonden"] == 3  # two consents, one disclosure
        assert rep.regions["testregio"]["gebonden"]["verstrekkingen"] == 1
        command.downgrade(cfg, "0005")
        with app.engine.begin() as conn:  # the rule before 0006: any body, any time
            conn.execute(text(PRUNE), fresh)
    finally:
        # as `deelwijs db upgrade`: with two roles the app role gets its privileges on the
        # tables the later migrations make anew (0008's accounts), as later tests need
        db.upgrade(owner_engine)
    assert db.current_revision(app.engine) == db.head_revision()
    assert [p.kind for p in report(app).problems] == ["pruned_early"]
