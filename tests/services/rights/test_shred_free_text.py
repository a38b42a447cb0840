"""Crypto-shredding reaches the free text about a youth: the case's title, the agenda of a
meeting and its items, actions, the answers of a written weighing and the notes of workflow
steps. The inzage overview shows that text decrypted; the retention run (or shred_youth and
wipe) leaves neither the ciphertext nor any plaintext of it in the database, also of rows
written in plaintext before revision 0003."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, text, update
from tests.services.helpers import unit_of

from deelwijs.domain.exceptions import QUESTIONS
from deelwijs.services.casus import cases
from deelwijs.services.casus.youth_text import SHREDDED, Texts
from deelwijs.services.rights import requests as rights
from deelwijs.services.rights import retention
from deelwijs.storage import orm

DAY = dt.date(2024, 3, 1)
CLOSED = dt.date(2024, 1, 10)  # long enough ago: the youth is due on TODAY
TITLE = "Zorgen om Sem, woont bij oma Ans"
AGENDA = ("Opening", "Gesprek met moeder over de scheiding")
ACTION = "Moeder bellen over de opname van vader"
ANSWER = "Vader dreigde de school binnen te komen"
NOTE = "Moeder vraagt hulp bij schulden"
# as written before revision 0003: in plaintext, no ciphertext
OLD_TITLE = "Eerdere zorgen om Sem en zijn zusje"
OLD_ITEM = "Terugblik op de uithuisplaatsing"
OLD_ACTION = "Huisbezoek bij de grootouders plannen"
OLD_ANSWER = "Oom is eerder veroordeeld"
OLD_NOTE = "Vader heeft een contactverbod"
SECRETS = (TITLE, *AGENDA[1:], ACTION, ANSWER, NOTE, OLD_TITLE, OLD_ITEM, OLD_ACTION,
           OLD_ANSWER, OLD_NOTE)
FREE_TEXT = ("casus", "meeting", "agenda_item", "action", "exception_record", "workflow_step")


def _pro(s, build, key: str = "alice") -> orm.Professional:
    return s.get(orm.Professional, build.pro(key))


def _case_with_text(app, build, youth: int, title: str = TITLE) -> dict:
    """A case about the youth with a meeting (agenda), an action and a written weighing,
    through the services (so encrypted with the youth's key)."""
    case = build.case("oza", youth_id=youth, title=title)
    meeting = build.meeting(case, DAY, agenda=AGENDA)
    with app.transaction() as s:
        action = cases.add_action(unit_of(app, s), s.get(orm.Meeting, meeting), _pro(s, build),
                                  ACTION,
                                  DAY + dt.timedelta(days=7)).id
        weighing = cases.record_exception(
            unit_of(app, s, by=_pro(s, build)), cases.get_case(s, case), "compatible_purpose",
            {k: ANSWER for k, _, _ in QUESTIONS["compatible_purpose"]},
            dt.datetime(2024, 3, 1, 10)).id
        items = s.scalars(select(orm.AgendaItem.id).where(orm.AgendaItem.meeting_id == meeting)
                          .order_by(orm.AgendaItem.position)).all()
    return {"case": case, "meeting": meeting, "items": list(items), "action": action,
            "weighing": weighing}


def _closed_flow_with_note(app, build, youth: int) -> int:
    """A municipal workflow about the youth with a note (encrypted) on a step, and a second
    step whose note is in its details as before revision 0003; the workflow has ended."""
    with app.transaction() as s:
        dave = _pro(s, build, "dave")
        flow = cases.open_workflow(unit_of(app, s, by=dave), s.get(orm.Region, build.w.region_id),
                                   s.get(orm.Youth, youth))
        cases.take_step(unit_of(app, s, by=dave), flow.id, flow.version, "intake", {"note": NOTE},
                        DAY)
        s.add(orm.WorkflowStep(workflow_id=flow.id, step="intake", details={"note": OLD_NOTE},
                               taken_on=DAY, professional_id=dave.id))
        s.flush()
        flow.state = "declined"  # an ended workflow does not keep the youth's data
        return flow.id


def _older_plaintext(app, build, youth: int) -> dict:
    """A second case about the youth as it was stored before revision 0003: every text in
    its plaintext column, written with SQL past the services, the *_enc columns NULL."""
    made = _case_with_text(app, build, youth, title="wordt overschreven")
    with app.engine.begin() as conn:
        conn.execute(update(orm.Case.__table__).where(orm.Case.id == made["case"])
                     .values(title=OLD_TITLE, title_enc=None))
        conn.execute(update(orm.Meeting.__table__).where(orm.Meeting.id == made["meeting"])
                     .values(agenda="\n".join((AGENDA[0], OLD_ITEM)), agenda_enc=None))
        for item, title in zip(made["items"], (AGENDA[0], OLD_ITEM), strict=True):
            conn.execute(update(orm.AgendaItem.__table__).where(orm.AgendaItem.id == item)
                         .values(title=title, title_enc=None))
        conn.execute(update(orm.Action.__table__).where(orm.Action.id == made["action"])
                     .values(description=OLD_ACTION, description_enc=None))
        conn.execute(update(orm.ExceptionRecord.__table__)
                     .where(orm.ExceptionRecord.id == made["weighing"])
                     .values(answers=[{"question": q, "answer": OLD_ANSWER, "by": 1,
                                       "at": "2024-03-01T10:00:00"}
                                      for q, _, _ in QUESTIONS["compatible_purpose"]],
                             answers_enc=None))
    return made


def _close(app, *case_ids: int) -> None:
    with app.transaction() as s:
        for case_id in case_ids:
            cases.get_case(s, case_id).closed_on = CLOSED


def _rows(app, table: str, columns: str, where: str, **params) -> list[tuple]:
    """Columns as stored, past the ORM (what a backup or a dump of the database holds)."""
    with app.engine.connect() as conn:
        return [tuple(bytes(v) if isinstance(v, memoryview) else v for v in r)
                for r in conn.execute(text(f"SELECT {columns} FROM {table} WHERE {where} "
                                           "ORDER BY id"), params)]


def _stored(app) -> str:
    """Every value of the free-text tables, as one text (for "is X anywhere?")."""
    out = []
    with app.engine.connect() as conn:
        for table in FREE_TEXT:
            for row in conn.execute(text(f"SELECT * FROM {table}")):
                out.extend(bytes(v).decode("latin-1") if isinstance(v, bytes | memoryview)
                           else str(v) for v in row if v is not None)
    return "\n".join(out)


def _youth_rows(app, made: dict, flow: int | None = None) -> dict[str, list[tuple]]:
    """The free-text columns (plaintext and ciphertext) of one case (and workflow)."""
    out = {
        "casus": _rows(app, "casus", "title, title_enc", "id = :i", i=made["case"]),
        "meeting": _rows(app, "meeting", "agenda, agenda_enc", "id = :i", i=made["meeting"]),
        "agenda_item": _rows(app, "agenda_item", "title, title_enc", "meeting_id = :i",
                             i=made["meeting"]),
        "action": _rows(app, "action", "description, description_enc", "id = :i",
                        i=made["action"]),
    }
    with app.transaction() as s:  # JSON as the dialect gives it back: through the table
        out["exception_record"] = [tuple(r) for r in s.execute(
            select(orm.ExceptionRecord.__table__.c.answers,
                   orm.ExceptionRecord.__table__.c.answers_enc)
            .where(orm.ExceptionRecord.__table__.c.id == made["weighing"]))]
        if flow is not None:
            out["workflow_step"] = [tuple(r) for r in s.execute(
                select(orm.WorkflowStep.__table__.c.details,
                       orm.WorkflowStep.__table__.c.note_enc)
                .where(orm.WorkflowStep.__table__.c.workflow_id == flow)
                .order_by(orm.WorkflowStep.__table__.c.id))]
    return out


WIPED_ROWS = {"casus": [("", None)], "meeting": [("", None)],
              "agenda_item": [("", None), ("", None)], "action": [("", None)],
              "exception_record": [([], None)]}


# --- the retention run ---------------------------------------------------------------------


def test_after_the_retention_run_no_text_about_the_youth_remains(app, build):
    youth = build.youth()
    new = _case_with_text(app, build, youth)
    old = _older_plaintext(app, build, youth)
    flow = _closed_flow_with_note(app, build, youth)
    _close(app, new["case"], old["case"])
    # the same text about a youth that is kept, and in an anonymous case: not touched
    kept_youth = build.youth(name="Noor Jansen")
    kept = _case_with_text(app, build, kept_youth)
    anonymous = build.case("oza", participants=("leerplicht", "swv"), title=OLD_TITLE)
    kept_before = _youth_rows(app, kept)
    stored = _stored(app)
    for secret in (OLD_TITLE, OLD_ITEM, OLD_ACTION, OLD_ANSWER, OLD_NOTE):
        assert secret in stored  # the older rows hold plaintext
    for secret in (TITLE, AGENDA[1], ACTION, ANSWER, NOTE):
        assert secret not in stored  # the newer only ciphertext

    with app.transaction() as s:
        dry = retention.run(unit_of(app, s), dry_run=True)
    assert [y["youth_id"] for y in dry["youths"]] == [youth]
    counts = {"casus": 2, "meeting": 2, "agenda_item": 4, "action": 2, "exception_record": 2,
              "workflow_step": 2}
    assert {k: dry["wiped"][k] for k in FREE_TEXT} == counts
    assert _stored(app) == stored  # a dry run changes nothing

    with app.transaction() as s:
        done = retention.run(unit_of(app, s), dry_run=False)
    assert done["shredded"] == 1 and done["wiped"] == dry["wiped"]
    assert _youth_rows(app, new) == _youth_rows(app, old) == WIPED_ROWS
    assert _youth_rows(app, new, flow)["workflow_step"] == [({}, None), ({}, None)]
    stored = _stored(app)
    for secret in SECRETS:
        if secret != OLD_TITLE:  # (the anonymous case's title, as written)
            assert secret not in stored, secret
    assert _rows(app, "casus", "title, title_enc", "id = :i", i=anonymous) == [(OLD_TITLE,
                                                                                 None)]
    assert _youth_rows(app, kept) == kept_before
    with app.transaction() as s:
        assert cases.case_title(s, s.get(orm.Case, kept["case"])) == TITLE
        assert cases.case_title(s, s.get(orm.Case, new["case"])) == SHREDDED

    # the optimistic-locking versions of the changed case and meeting went up
    assert _rows(app, "casus", "version", "id IN (:a, :b)", a=new["case"], b=old["case"]) \
        == [(3,), (3,)]
    assert _rows(app, "meeting", "version", "id IN (:a, :b)", a=new["meeting"],
                 b=old["meeting"]) == [(2,), (2,)]

    with app.transaction() as s:  # nothing left to do: a second run changes nothing
        again = retention.run(unit_of(app, s), dry_run=False)
    assert again["due"] == 0 and set(again["wiped"].values()) == {0}


def test_shred_youth_and_wipe_empty_the_text_and_a_second_wipe_finds_nothing(app, build):
    youth = build.youth()
    new = _case_with_text(app, build, youth)
    old = _older_plaintext(app, build, youth)
    flow = _closed_flow_with_note(app, build, youth)
    with app.transaction() as s:  # (the erasure on request: the key goes first)
        assert rights.shred_youth(s, s.get(orm.Youth, youth), "Wissen op verzoek")
    with app.transaction() as s:
        texts = Texts.for_youth(s, youth)
        # the ciphertext is unreadable now; the older plaintext is still there until the wipe
        assert cases.case_title(s, s.get(orm.Case, new["case"]), texts) == SHREDDED
        assert cases.case_title(s, s.get(orm.Case, old["case"]), texts) == OLD_TITLE

    with app.transaction() as s:
        assert retention.wipe(s, youth, dry_run=True) == {
            "youth": 1, "guardian": 2, "disclosure_item": 0, "minute": 0,
            "youth_correction": 0, "casus": 2, "meeting": 2, "agenda_item": 4, "action": 2,
            "exception_record": 2, "workflow_step": 2}
    with app.transaction() as s:
        wiped = retention.wipe(s, youth)
    assert {k: wiped[k] for k in FREE_TEXT} == {
        "casus": 2, "meeting": 2, "agenda_item": 4, "action": 2, "exception_record": 2,
        "workflow_step": 2}
    assert _youth_rows(app, new) == _youth_rows(app, old) == WIPED_ROWS
    assert _youth_rows(app, new, flow)["workflow_step"] == [({}, None), ({}, None)]
    stored = _stored(app)
    for secret in SECRETS:
        assert secret not in stored, secret
    with app.transaction() as s:
        assert set(retention.wipe(s, youth).values()) == {0}
        assert cases.case_title(s, s.get(orm.Case, old["case"])) == SHREDDED
        view = cases.workflow_view(s, s.get(orm.Workflow, flow))
        assert [st["details"] for st in view["steps"]] == [{}, {}]


def test_a_wipe_leaves_the_rest_of_a_workflow_step_as_it_was(app, build):
    youth = build.youth()
    with app.transaction() as s:
        dave = _pro(s, build, "dave")
        flow = cases.open_workflow(unit_of(app, s, by=dave), s.get(orm.Region, build.w.region_id),
                                   s.get(orm.Youth, youth))
        s.add(orm.WorkflowStep(workflow_id=flow.id, step="intake", taken_on=DAY,
                               details={"note": OLD_NOTE, "met": "moeder"},
                               professional_id=dave.id))
        s.add(orm.WorkflowStep(workflow_id=flow.id, step="intake", taken_on=DAY,
                               details={"met": "vader"}, professional_id=dave.id))
        flow_id = flow.id
    with app.transaction() as s:
        assert retention.wipe(s, youth)["workflow_step"] == 1
    with app.transaction() as s:
        steps = s.scalars(select(orm.WorkflowStep).where(orm.WorkflowStep.workflow_id == flow_id)
                          .order_by(orm.WorkflowStep.id)).all()
        assert [(st.details, st.note_enc) for st in steps] == [({"met": "moeder"}, None),
                                                               ({"met": "vader"}, None)]


# --- the inzage ------------------------------------------------------------------------------


def test_the_inzage_shows_the_decrypted_text_and_the_older_plaintext(app, build):
    youth = build.youth()
    mother, _ = build.guardians(youth)
    new = _case_with_text(app, build, youth)
    old = _older_plaintext(app, build, youth)
    assert _rows(app, "casus", "title", "id = :i", i=new["case"]) == [("",)]

    with app.transaction() as s:
        overview = rights.inzage(unit_of(app, s), youth, requester="parent", guardian_id=mother)
    shown = {c["id"]: c for c in overview["casussen"]}
    assert (shown[new["case"]]["titel"], shown[old["case"]]["titel"]) == (TITLE, OLD_TITLE)
    [meeting] = shown[new["case"]]["overleggen"]
    assert meeting["agenda"] == list(AGENDA)
    assert [a["omschrijving"] for a in meeting["afspraken"]] == [ACTION]
    [meeting] = shown[old["case"]]["overleggen"]
    assert meeting["agenda"] == [AGENDA[0], OLD_ITEM]
    assert [a["omschrijving"] for a in meeting["afspraken"]] == [OLD_ACTION]
    assert [r["wat"] for r in overview["bewaartermijnen"][:2]] == [
        f"verslag van de casus '{TITLE}'", f"verslag van de casus '{OLD_TITLE}'"]


def test_the_inzage_is_the_same_whether_the_text_is_encrypted_or_older_plaintext(app, build):
    youth = build.youth()
    mother, _ = build.guardians(youth)
    made = _case_with_text(app, build, youth)
    with app.transaction() as s:
        cases.write_minute(unit_of(app, s, by=_pro(s, build)), made["items"][1],
                           "Sem slaapt slecht.")

    def parts() -> tuple:
        with app.transaction() as s:
            overview = rights.inzage(unit_of(app, s), youth, requester="parent", guardian_id=mother)
        return overview["casussen"], overview["bewaartermijnen"]

    encrypted = parts()
    with app.engine.begin() as conn:  # the same text, stored as before revision 0003
        conn.execute(update(orm.Case.__table__).where(orm.Case.id == made["case"])
                     .values(title=TITLE, title_enc=None))
        for item, title in zip(made["items"], AGENDA, strict=True):
            conn.execute(update(orm.AgendaItem.__table__).where(orm.AgendaItem.id == item)
                         .values(title=title, title_enc=None))
        conn.execute(update(orm.Action.__table__).where(orm.Action.id == made["action"])
                     .values(description=ACTION, description_enc=None))
    assert parts() == encrypted


def test_an_erasure_refused_names_the_case_by_its_decrypted_title(app, build):
    youth = build.youth()
    mother, _ = build.guardians(youth)
    made = _case_with_text(app, build, youth)
    old = _older_plaintext(app, build, youth)
    with pytest.raises(rights.ErasureRefused) as refused, app.transaction() as s:
        rights.erase(unit_of(app, s), youth, requester="parent", guardian_id=mother)
    assert [(b["kind"], b["case_id"]) for b in refused.value.blockers] == [
        ("open_case", made["case"]), ("open_case", old["case"])]
    assert f"de casus '{TITLE}' (nummer {made['case']}) loopt nog" in refused.value.message
    assert f"de casus '{OLD_TITLE}' (nummer {old['case']}) loopt nog" in refused.value.message
