"""The retention run: the plan (which youth is due, by which of the engine's terms, and what
keeps the others), crypto-shredding with the wiping of every encrypted field, the pruning of
log bodies past the log's own term, dry runs and idempotence."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from tests.services.helpers import TODAY, row_counts, unit_of

from deelwijs.domain.exceptions import QUESTIONS
from deelwijs.services.casus import cases, disclosures, youths
from deelwijs.services.covenant import registry
from deelwijs.services.errors import Invalid, NotFound
from deelwijs.services.log import audit
from deelwijs.services.rights import requests as rights
from deelwijs.services.rights import retention
from deelwijs.storage import orm

CLOSED_LONG_AGO = dt.date(2024, 1, 10)  # voorbeeldregio: 1 year → keep until 2025-01-10
CLOSED_RECENTLY = dt.date(2025, 6, 1)  # → keep until 2026-06-01, after TODAY


def _close(app, case_id: int, on: dt.date) -> None:
    with app.transaction() as s:
        cases.get_case(s, case_id).closed_on = on


def _registered(app, youth_id: int, on: dt.date) -> None:
    with app.transaction() as s:
        s.get(orm.Youth, youth_id).created_at = dt.datetime.combine(on, dt.time(9))


def _minute(app, build, meeting_id: int, text: str) -> int:
    with app.transaction() as s:
        item = s.scalars(select(orm.AgendaItem).where(orm.AgendaItem.meeting_id == meeting_id)
                         .order_by(orm.AgendaItem.position)).first()
        return cases.write_minute(unit_of(app, s, by=build.pro("alice")), item.id, text).id


def _full_youth(app, build, name: str = "Sem de Vries", bsn: str | None = None) -> dict:
    """A youth with a BSN, two parents, a case with a meeting (two agenda items), a minute, an
    action, a written weighing, a disclosure with stored content, and a corrected name: every
    encrypted column filled."""
    youth = build.youth(name=name, bsn=bsn)
    mother, _ = build.guardians(youth)
    case = build.case("oza", youth_id=youth, opened_on=dt.date(2023, 9, 1))
    meeting = build.meeting(case, dt.date(2023, 10, 2))
    minute = _minute(app, build, meeting, f"{name} zit vaak thuis.")
    with app.transaction() as s:
        alice = s.get(orm.Professional, build.pro("alice"))
        cases.add_action(unit_of(app, s), s.get(orm.Meeting, meeting), alice,
                         f"Bellen met de moeder van {name}",
                         dt.date(2023, 10, 16))
        cases.record_exception(unit_of(app, s, by=alice), cases.get_case(s, case),
                               "compatible_purpose",
                               {k: "ja" for k, _, _ in QUESTIONS["compatible_purpose"]},
                               dt.datetime(2023, 10, 2, 10))
    disclosure = build.disclose("alice", "leerplicht", {"verzuim": "12 uur ongeoorloofd"},
                                dt.date(2023, 10, 2), case_id=case, meeting_id=meeting,
                                kind="minute")
    with app.transaction() as s:
        rights.rectify(unit_of(app, s, by=build.pro("alice"), today=dt.date(2023, 11, 1)),
                       youth, "name", f"{name} Jr", requester="parent", guardian_id=mother)
    return {"youth": youth, "case": case, "meeting": meeting, "minute": minute,
            "disclosure": disclosure, "mother": mother}


def _plan(app, today=TODAY, region=None) -> dict[int, dict]:
    with app.transaction() as s:
        return {e["youth_id"]: e for e in retention.plan(unit_of(app, s, today=today), region)}


def _run(app, today=TODAY, dry_run=False) -> dict:
    with app.transaction() as s:
        return retention.run(unit_of(app, s, today=today), dry_run)


def _log(app) -> list[tuple]:
    with app.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(
            select(orm.LogEntry.id, orm.LogEntry.seq, orm.LogEntry.body,
                   orm.LogEntry.pruned_at, orm.LogEntry.leaf_hash).order_by(orm.LogEntry.id))]


def _state(app) -> tuple:
    """Everything the run could touch: row counts, the log, and every youth-data column."""
    with app.engine.connect() as conn:
        data = [tuple(conn.execute(select(*t.c).order_by(*t.primary_key.columns)))
                for t in (orm.Youth.__table__, orm.Guardian.__table__,
                          orm.DisclosureItem.__table__, orm.Minute.__table__,
                          orm.YouthCorrection.__table__, orm.ConsentRecord.__table__,
                          orm.Case.__table__, orm.Meeting.__table__, orm.AgendaItem.__table__,
                          orm.Action.__table__, orm.ExceptionRecord.__table__,
                          orm.WorkflowStep.__table__)]
    return row_counts(app.engine), _log(app), data


# --- the plan ------------------------------------------------------------------------------


def test_the_plan_names_each_youths_terms_from_the_engine_and_what_keeps_the_others(
        app, build):
    past = build.youth(name="Past Termijn")
    past_case = build.case("oza", youth_id=past)
    _close(app, past_case, CLOSED_LONG_AGO)
    within = build.youth(name="Binnen Termijn")
    _close(app, build.case("oza", youth_id=within), CLOSED_RECENTLY)
    open_ = build.youth(name="Open Casus")
    _close(app, build.case("oza", youth_id=open_), CLOSED_LONG_AGO)
    still_open = build.case("oza", youth_id=open_)
    flow = build.youth(name="Open Werkproces")
    _close(app, build.case("oza", youth_id=flow), CLOSED_LONG_AGO)
    with app.transaction() as s:
        workflow = cases.open_workflow(unit_of(app, s, by=build.pro("dave")),
                                       s.get(orm.Region, build.w.region_id),
                                       s.get(orm.Youth, flow)).id
    registered_only = build.youth(name="Alleen Geregistreerd")
    _registered(app, registered_only, dt.date(2024, 5, 1))
    new = build.youth(name="Net Geregistreerd")
    _registered(app, new, dt.date(2025, 12, 1))

    plan = _plan(app)
    assert set(plan) == {past, within, open_, flow, registered_only, new}
    due = plan[past]
    assert (due["due"], due["action"], due["keep_until"], due["rule"]) == (
        True, "shred", "2025-01-10", "retention.casusoverleg_verslag")
    [record] = due["records"]
    assert record == {"record": "casusoverleg_verslag", "what": f"verslag van casus {past_case}",
                      "basis": "casus", "case_id": past_case, "ended_on": "2024-01-10",
                      "keep_until": "2025-01-10", "rule": "retention.casusoverleg_verslag",
                      "years": 1}
    assert due["ruleset"]["id"] == "voorbeeldregio"
    assert "10 januari 2025" in due["reason"] and "vernietigd" in due["reason"]

    assert (plan[within]["due"], plan[within]["keep_until"]) == (False, "2026-06-01")
    assert "blijft bewaard tot 1 juni 2026" in plan[within]["reason"]
    assert plan[open_]["due"] is False and plan[open_]["keep_until"] is None
    assert [(b["kind"], b["case_id"]) for b in plan[open_]["blockers"]] == [
        ("open_case", still_open)]
    assert f"casus {still_open} loopt nog" in plan[open_]["reason"]
    assert [(b["kind"], b["workflow_id"]) for b in plan[flow]["blockers"]] == [
        ("open_workflow", workflow)]
    # no case: the term counts from the registration
    assert (plan[registered_only]["due"], plan[registered_only]["keep_until"]) == (
        True, "2025-05-01")
    assert plan[registered_only]["records"][0]["basis"] == "registratie"
    assert (plan[new]["due"], plan[new]["keep_until"]) == (False, "2026-12-01")


def test_the_term_is_the_one_of_the_regions_ruleset_in_force_on_the_day(app, build):
    youth = build.youth()
    _close(app, build.case("oza", youth_id=youth), dt.date(2024, 6, 1))
    assert _plan(app)[youth]["keep_until"] == "2025-06-01"  # voorbeeldregio: 1 year
    with app.transaction() as s:
        registry.activate_ruleset(unit_of(app, s), s.get(orm.Region, build.w.region_id),
                                  "model-convenant", dt.date(2026, 1, 1))
    entry = _plan(app)[youth]
    assert (entry["keep_until"], entry["due"]) == ("2026-06-01", False)  # the model: 2 years
    assert entry["ruleset"]["id"] == "model-convenant"
    assert _plan(app, dt.date(2025, 12, 31))[youth]["keep_until"] == "2025-06-01"


def test_a_restriction_for_a_legal_claim_keeps_the_data_past_its_term(app, build):
    youth = build.youth()
    mother, _ = build.guardians(youth)
    _close(app, build.case("oza", youth_id=youth), CLOSED_LONG_AGO)
    with app.transaction() as s:
        rights.restrict(unit_of(app, s, today=dt.date(2026, 1, 5)), youth, requester="parent",
                        guardian_id=mother, reason="rechtsvordering")
    entry = _plan(app)[youth]
    assert entry["due"] is False
    assert [b["kind"] for b in entry["blockers"]] == ["legal_hold"]
    assert "rechtszaak" in entry["reason"]


def test_bad_input_is_refused(app, build):
    with app.transaction() as s, pytest.raises(NotFound) as exc:
        retention.plan(unit_of(app, s), "geenregio")
    assert exc.value.field == "region"
    with app.transaction() as s, pytest.raises(Invalid) as exc:
        retention.plan(unit_of(app, s, today="2026-03-02"))
    assert exc.value.field == "today"
    tomorrow = dt.date.today() + dt.timedelta(days=1)
    with app.transaction() as s, pytest.raises(Invalid) as exc:
        retention.run(unit_of(app, s, today=tomorrow), dry_run=False)
    assert (exc.value.field, exc.value.code) == ("today", "invalid_date")
    assert "proefronde" in exc.value.message
    with app.transaction() as s:  # looking ahead is a dry run
        assert retention.run(unit_of(app, s, today=tomorrow), dry_run=True)["dry_run"] is True


# --- the run -------------------------------------------------------------------------------


def test_a_dry_run_changes_nothing(app, build):
    data = _full_youth(app, build, bsn="999990019")
    _close(app, data["case"], CLOSED_LONG_AGO)
    before = _state(app)

    result = _run(app, dry_run=True)

    assert (result["dry_run"], result["due"], result["shredded"]) == (True, 1, 1)
    assert result["wiped"] == {"youth": 1, "guardian": 2, "disclosure_item": 1, "minute": 1,
                               "youth_correction": 1, "casus": 1, "meeting": 1,
                               "agenda_item": 2, "action": 1, "exception_record": 1,
                               "workflow_step": 0}
    assert [y["youth_id"] for y in result["youths"]] == [data["youth"]]
    assert _state(app) == before
    assert _plan(app)[data["youth"]]["due"] is True


def test_a_youth_past_the_term_is_shredded_and_every_encrypted_field_is_unreadable(
        app, build):
    gone = _full_youth(app, build, "Sem de Vries", bsn="999990019")
    _close(app, gone["case"], CLOSED_LONG_AGO)
    within = _full_youth(app, build, "Noor Bakker")
    _close(app, within["case"], CLOSED_RECENTLY)
    running = _full_youth(app, build, "Lina Bos")
    with app.transaction() as s:
        consents_before = [(c.id, c.answer, c.version) for c in s.scalars(
            select(orm.ConsentRecord).order_by(orm.ConsentRecord.id))]
        wrapped = s.get(orm.Youth, gone["youth"]).key_wrapped
    counts = row_counts(app.engine)

    result = _run(app)

    assert (result["dry_run"], result["due"], result["shredded"], result["kept"]) == (
        False, 1, 1, 2)
    assert result["wiped"]["disclosure_item"] == 1 and result["wiped"]["minute"] == 1
    with app.transaction() as s:
        y = s.get(orm.Youth, gone["youth"])
        assert y.shredded_at is not None
        assert (y.key_wrapped, y.bsn_hash, y.bsn_enc, y.name_enc, y.birth_enc) == (
            None, None, None, b"", b"")
        assert [g.name_enc for g in y.guardians] == [b"", b""]
        items = s.scalars(select(orm.DisclosureItem).where(
            orm.DisclosureItem.disclosure_id == gone["disclosure"])).all()
        assert [(i.content_enc, i.content) for i in items] == [(None, None)]
        minute = s.get(orm.Minute, gone["minute"])
        assert (minute.text_enc, minute.text) == (None, "")
        assert cases.minute_text(s, minute) == ""
        # the free text of the case: no ciphertext left, no plaintext either
        case = s.get(orm.Case, gone["case"])
        assert (case.title_enc, case.title) == (None, "")
        assert cases.case_title(s, case) == "[vernietigd]"
        meeting = s.get(orm.Meeting, gone["meeting"])
        assert (meeting.agenda_enc, meeting.agenda) == (None, "")
        assert {(i.title_enc, i.title) for i in s.scalars(select(orm.AgendaItem).where(
            orm.AgendaItem.meeting_id == gone["meeting"]))} == {(None, "")}
        assert {(a.description_enc, a.description) for a in s.scalars(select(orm.Action).where(
            orm.Action.meeting_id == gone["meeting"]))} == {(None, "")}
        assert {(w.answers_enc, tuple(w.answers)) for w in s.scalars(
            select(orm.ExceptionRecord).where(orm.ExceptionRecord.case_id == gone["case"]))
                } == {(None, ())}
        corrections = s.scalars(select(orm.YouthCorrection).where(
            orm.YouthCorrection.youth_id == gone["youth"])).all()
        assert [(c.old_enc, c.new_enc) for c in corrections] == [(None, None)]
        assert youths.youth_view(app.keys, y, TODAY) == {"id": y.id, "shredded": True}
        view = disclosures.view(s, s.get(orm.Disclosure, gone["disclosure"]),
                                with_content=True, app=app)
        assert view["items"][0]["content"] in (None, "[vernietigd]")
        # the wrapped key is nowhere in the youth table any more
        assert wrapped not in {r for (r,) in s.execute(select(orm.Youth.key_wrapped))}
        # the metadata of the case and disclosure stays, and so do the consent records
        assert s.get(orm.Disclosure, gone["disclosure"]).outcome == "allow"
        assert [(c.id, c.answer, c.version) for c in s.scalars(
            select(orm.ConsentRecord).order_by(orm.ConsentRecord.id))] == consents_before
        # the kept youths are untouched and readable
        for kept in (within, running):
            k = s.get(orm.Youth, kept["youth"])
            assert k.key_wrapped is not None
            assert youths.youth_view(app.keys, k, TODAY)["name"].endswith(" Jr")
            assert cases.minute_text(s, s.get(orm.Minute, kept["minute"])).endswith(
                "zit vaak thuis.")
        [entry] = [e for e in audit.entries_for_youth(unit_of(app, s), gone["youth"])
                   if audit.body_of(e)["actie"] == "erase"]
        body = audit.body_of(entry)
    assert entry.activity_id == "voorbeeldregio/registratie"
    assert (body["regel"], body["bewaren_tot"]) == ("retention.casusoverleg_verslag",
                                                     "2025-01-10")
    assert body["handelingNaam"] == retention.SHRED_REASON
    assert body["gewist"] == result["wiped"]
    assert {k: body["gewist"][k] for k in ("minute", "casus", "meeting", "agenda_item",
                                           "action", "exception_record")} == {
        "minute": 1, "casus": 1, "meeting": 1, "agenda_item": 2, "action": 1,
        "exception_record": 1}
    # the youth's name was in the action: it is nowhere in the case's tables any more
    with app.engine.connect() as conn:
        for table in ("casus", "meeting", "agenda_item", "action", "exception_record",
                      "minute"):
            rows = conn.execute(select(orm.Base.metadata.tables[table])).all()
            assert not any("Sem de Vries" in str(v) for r in rows for v in r), table
    after = row_counts(app.engine)
    assert after["log_entry"] == counts["log_entry"] + 1  # one erase entry, nothing deleted
    # and the checkpoint the run ends with (audit.checkpoint_all)
    assert after["log_checkpoint"] == counts["log_checkpoint"] + 1
    grown = ("log_entry", "log_checkpoint")
    assert {k: v for k, v in after.items() if k not in grown} == {
        k: v for k, v in counts.items() if k not in grown}


def test_a_second_run_does_nothing(app, build):
    data = _full_youth(app, build)
    _close(app, data["case"], CLOSED_LONG_AGO)
    assert _run(app)["shredded"] == 1
    before = _state(app)

    again = _run(app)

    assert (again["due"], again["shredded"], again["cleaned"], again["log_pruned"]) == (
        0, 0, 0, 0)
    assert set(again["wiped"].values()) == {0}
    assert _state(app) == before
    assert data["youth"] not in _plan(app)


def test_a_youth_erased_on_request_gets_its_ciphertext_wiped_by_the_next_run(app, build):
    youth = build.youth()
    mother, _ = build.guardians(youth)
    with app.transaction() as s:
        rights.erase(unit_of(app, s), youth, requester="parent", guardian_id=mother)
    entry = _plan(app)[youth]
    assert (entry["action"], entry["due"]) == ("wipe", True)
    assert "al vernietigd" in entry["reason"]

    result = _run(app)

    assert (result["shredded"], result["cleaned"]) == (0, 1)
    assert (result["wiped"]["youth"], result["wiped"]["guardian"]) == (1, 2)
    with app.transaction() as s:
        y = s.get(orm.Youth, youth)
        assert (y.name_enc, y.birth_enc, [g.name_enc for g in y.guardians]) == (
            b"", b"", [b"", b""])
        handelingen = [audit.body_of(e)["handelingNaam"]
                       for e in audit.entries_for_youth(unit_of(app, s), youth)]
    assert handelingen.count(retention.WIPE_REASON) == 1
    assert _run(app)["cleaned"] == 0


def test_the_run_after_an_erasure_on_request_empties_the_cases_free_text(app, build):
    data = _full_youth(app, build)
    _close(app, data["case"], CLOSED_LONG_AGO)
    with app.transaction() as s:  # the key goes; the emptied columns wait for the run
        rights.erase(unit_of(app, s), data["youth"], requester="parent", guardian_id=data["mother"])
    with app.transaction() as s:
        assert s.get(orm.Case, data["case"]).title_enc is not None
    assert _plan(app)[data["youth"]]["action"] == "wipe"

    result = _run(app)

    assert (result["shredded"], result["cleaned"]) == (0, 1)
    assert {k: result["wiped"][k] for k in ("casus", "meeting", "agenda_item", "action",
                                            "exception_record", "workflow_step")} == {
        "casus": 1, "meeting": 1, "agenda_item": 2, "action": 1, "exception_record": 1,
        "workflow_step": 0}
    with app.transaction() as s:
        case = s.get(orm.Case, data["case"])
        meeting = s.get(orm.Meeting, data["meeting"])
        assert (case.title, case.title_enc, meeting.agenda, meeting.agenda_enc) == (
            "", None, "", None)
        [entry] = [audit.body_of(e) for e in audit.entries_for_youth(unit_of(app, s), data["youth"])
                   if audit.body_of(e)["handelingNaam"] == retention.WIPE_REASON]
    assert entry["gewist"]["casus"] == 1


def test_log_bodies_past_the_logs_term_are_pruned_and_the_log_still_verifies(
        app, build, monkeypatch):
    verify = pytest.importorskip("deelwijs.services.log.verify")
    long_ago = dt.datetime(1999, 5, 4, 12, 0)
    monkeypatch.setattr(audit, "_now", lambda: long_ago)
    old = [build.youth(name=f"Oud {i}") for i in range(3)]
    monkeypatch.undo()
    recent = build.youth(name="Nieuw")
    with app.transaction() as s:
        audit.checkpoint(s, app.keys, build.w.region_id)
    with app.engine.connect() as conn:
        then = {e.id for e in conn.execute(select(orm.LogEntry))
                if e.body is not None and audit.body_of(e)["tijdstip"].startswith("1999")}
    old_entries = [row for row in _log(app) if row[0] in then]
    assert len(old_entries) == len(old)
    before = _log(app)

    assert _run(app, dry_run=True)["log_pruned"] == len(old)
    assert _log(app) == before
    result = _run(app)

    assert result["log_pruned"] == len(old)
    assert result["log_cutoff"] == "2001-03-03T00:00:00"
    after = {row[0]: row for row in _log(app)}
    assert set(after) >= {row[0] for row in before}  # no entry was deleted
    for eid, seq, _body, _pruned, leaf in old_entries:
        assert after[eid][1] == seq
        assert after[eid][2] is None and after[eid][3] is not None
        assert after[eid][4] == leaf
    for row in before:
        if row not in old_entries:
            assert after[row[0]] == row
    with app.transaction() as s:
        report = verify.verify(s, app.keys)
        assert report.ok, [p.line() for p in report.problems]
        pruned_view = audit.entry_view(s.get(orm.LogEntry, old_entries[0][0]))
        assert "opgeschoond" in pruned_view
        [note] = [audit.body_of(e) for e in s.scalars(select(orm.LogEntry))
                  if e.body and audit.body_of(e).get("opgeschoond")]
        assert note["opgeschoond"]["regels"] == len(old)
        assert note["verwerkingsactiviteitId"].endswith("/verwerkingslog")
        # the youths themselves are not touched by the log's term
        assert all(s.get(orm.Youth, y).key_wrapped is not None for y in [*old, recent])
    assert _run(app)["log_pruned"] == 0


def test_minus_duration_handles_years_months_and_leap_days():
    assert retention.minus_duration(dt.date(2026, 3, 2), "P25Y") == dt.date(2001, 3, 2)
    assert retention.minus_duration(dt.date(2028, 2, 29), "P1Y") == dt.date(2027, 2, 28)
    assert retention.minus_duration(dt.date(2026, 3, 31), "P1M") == dt.date(2026, 2, 28)
    assert retention.minus_duration(dt.date(2026, 3, 2), "P1Y2M10D") == dt.date(2024, 12, 23)
    assert retention.minus_duration(dt.date(2026, 3, 2), "P2W") == dt.date(2026, 2, 16)
    with pytest.raises(ValueError):
        retention.minus_duration(dt.date(2026, 3, 2), "25 jaar")
