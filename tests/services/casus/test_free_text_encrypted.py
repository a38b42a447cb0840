"""Free text about an identifiable youth (case title, agenda and agenda items, actions, the
answers of a written weighing, workflow notes) is stored encrypted with the youth's own key,
so that crypto-shredding reaches it; an anonymous case keeps it as written until it is put on
a youth's name."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, text
from tests.services.helpers import TODAY, unit_of

from deelwijs.domain.exceptions import QUESTIONS
from deelwijs.services.casus import cases, disclosures, identification
from deelwijs.services.casus import facts as stored_facts
from deelwijs.services.casus.youth_text import SHREDDED, Texts
from deelwijs.services.errors import Invalid
from deelwijs.services.log import audit
from deelwijs.services.rights import requests as rights
from deelwijs.services.rights import retention
from deelwijs.storage import orm

DAY = dt.date(2024, 3, 1)
TITLE = "Zorgen om Sem, thuis bij oma"
AGENDA = ("Opening", "Gesprek met moeder over de scheiding")
ACTION = "Moeder bellen over de opname van vader"
ANSWER = "Vader dreigde de school binnen te komen"
NOTE = "Moeder vraagt hulp bij schulden"
WEIGHING = {k: ANSWER for k, _, _ in QUESTIONS["compatible_purpose"]}
# pieces of those texts to look for in what is stored: each holds a space, which a Fernet
# token (url-safe base64) never does, so a ciphertext cannot match one by chance
PHRASES = (b"om Sem", b"bij oma", b"de scheiding", b"de opname", b"binnen te komen",
           b"bij schulden")


def _fill(app, build, case: int) -> dict:
    """A meeting with an agenda, an action and a written weighing in the case."""
    meeting = build.meeting(case, DAY, agenda=AGENDA)
    with app.transaction() as s:
        alice = s.get(orm.Professional, build.pro("alice"))
        action = cases.add_action(unit_of(app, s), s.get(orm.Meeting, meeting), alice, ACTION,
                                  DAY + dt.timedelta(days=7)).id
        weighing = cases.record_exception(unit_of(app, s, by=alice), cases.get_case(s, case),
                                          "compatible_purpose",
                                          WEIGHING, dt.datetime(2024, 3, 1, 10)).id
    return {"case": case, "meeting": meeting, "action": action, "weighing": weighing}


def _raw(app, table: str, columns: str, row_id: int) -> tuple:
    """Columns as stored, past the ORM (what a backup or a database dump holds)."""
    with app.engine.connect() as conn:
        return tuple(conn.execute(text(f"SELECT {columns} FROM {table} WHERE id = :i"),
                                  {"i": row_id}).one())


def _stored_bytes(app) -> bytes:
    """Every text and bytes value of the case tables, as one blob (for "is X anywhere?")."""
    out = []
    with app.engine.connect() as conn:
        for table in ("casus", "meeting", "agenda_item", "action", "exception_record",
                      "workflow_step"):
            for row in conn.execute(text(f"SELECT * FROM {table}")):
                for v in row:
                    if isinstance(v, bytes | memoryview):
                        out.append(bytes(v))
                    elif v is not None:
                        out.append(str(v).encode())
    return b"\n".join(out)


def _flow_with_note(app, build, youth: int) -> int:
    with app.transaction() as s:
        flow = cases.open_workflow(unit_of(app, s, by=build.pro("dave")),
                                   s.get(orm.Region, build.w.region_id),
                                   s.get(orm.Youth, youth))
        cases.take_step(unit_of(app, s, by=build.pro("dave")), flow.id, flow.version, "intake",
                        {"note": NOTE},
                        DAY)
        return flow.id


def test_about_an_identifiable_youth_the_free_text_is_stored_only_encrypted(app, build):
    youth = build.youth()
    made = _fill(app, build, build.case("oza", youth_id=youth, title=TITLE))
    flow = _flow_with_note(app, build, youth)

    title, title_enc = _raw(app, "casus", "title, title_enc", made["case"])
    assert title == "" and title_enc is not None
    agenda, agenda_enc = _raw(app, "meeting", "agenda, agenda_enc", made["meeting"])
    assert agenda == "" and agenda_enc is not None
    description, description_enc = _raw(app, "action", "description, description_enc",
                                        made["action"])
    assert description == "" and description_enc is not None
    with app.engine.connect() as conn:
        items = conn.execute(text("SELECT title, title_enc FROM agenda_item WHERE meeting_id = "
                                  ":m ORDER BY position"), {"m": made["meeting"]}).all()
        step_enc = conn.execute(text("SELECT note_enc FROM workflow_step")).scalar_one()
    assert [t for t, _ in items] == ["", ""] and all(enc is not None for _, enc in items)
    answers_enc, = _raw(app, "exception_record", "answers_enc", made["weighing"])
    for enc, plain in [(title_enc, TITLE), (agenda_enc, "\n".join(AGENDA)),
                       (description_enc, ACTION), (step_enc, NOTE), (answers_enc, ANSWER),
                       *((enc, t) for (_, enc), t in zip(items, AGENDA, strict=True))]:
        assert plain.encode() not in bytes(enc)
    # none of the words is anywhere in those tables, in any column
    blob = _stored_bytes(app)
    for phrase in PHRASES:
        assert phrase not in blob

    # and every view gives the text back
    with app.transaction() as s:
        case = s.get(orm.Case, made["case"])
        assert cases.case_view(s, case)["title"] == TITLE
        meeting = s.get(orm.Meeting, made["meeting"])
        assert [i["title"] for i in cases.meeting_view(s, meeting)["agenda"]] == list(AGENDA)
        assert cases.meeting_agenda(s, meeting) == list(AGENDA)
        assert cases.action_view(s, s.get(orm.Action, made["action"]))["description"] == ACTION
        row = s.get(orm.ExceptionRecord, made["weighing"])
        assert row.answers == [] and row.complete is True
        answers = cases.exception_answers(Texts.for_case(s, case), row)
        assert {a["answer"] for a in answers} == {ANSWER}
        assert [a["key"] for a in answers] == list(WEIGHING)
        # the encrypted weighing still counts: its completeness is kept beside the ciphertext
        assert stored_facts.documented_exceptions(s, case.id) == {"compatible_purpose"}
        view = cases.workflow_view(s, s.get(orm.Workflow, flow))
        assert view["steps"][0]["details"] == {"note": NOTE}
        step = s.scalars(select(orm.WorkflowStep)).one()
        assert step.details == {} and step.note_enc is not None


def test_the_inzage_overview_shows_the_decrypted_case_text(app, build):
    youth = build.youth()
    mother, _ = build.guardians(youth)
    made = _fill(app, build, build.case("oza", youth_id=youth, title=TITLE))
    with app.transaction() as s:
        overview = rights.inzage(unit_of(app, s), youth, requester="parent", guardian_id=mother)
    [case] = overview["casussen"]
    assert case["titel"] == TITLE
    [meeting] = case["overleggen"]
    assert meeting["agenda"] == list(AGENDA)
    assert [a["omschrijving"] for a in meeting["afspraken"]] == [ACTION]
    assert any(TITLE in r["wat"] for r in overview["bewaartermijnen"])
    assert made["case"] == case["id"]


def test_an_anonymous_case_keeps_its_text_as_written_until_it_is_put_on_a_name(app, build):
    made = _fill(app, build, build.case("oza", participants=("leerplicht", "swv"),
                                        title=TITLE))
    shared = build.disclose("alice", "swv", {"verzuim": "Vaak afwezig sinds de opname"}, DAY,
                            case_id=made["case"], meeting_id=made["meeting"], kind="minute")
    assert _raw(app, "disclosure", "youth_id", shared) == (None,)
    assert _raw(app, "casus", "title, title_enc", made["case"]) == (TITLE, None)
    assert _raw(app, "action", "description, description_enc", made["action"]) == (ACTION,
                                                                                      None)
    assert _raw(app, "meeting", "agenda, agenda_enc", made["meeting"]) == ("\n".join(AGENDA),
                                                                          None)
    with app.engine.connect() as conn:
        assert conn.execute(text("SELECT title, title_enc FROM agenda_item WHERE meeting_id = "
                                 ":m ORDER BY position"), {"m": made["meeting"]}).all() == [
            (t, None) for t in AGENDA]
    assert _raw(app, "exception_record", "answers_enc", made["weighing"]) == (None,)
    with app.transaction() as s:
        row = s.get(orm.ExceptionRecord, made["weighing"])
        assert {a["answer"] for a in row.answers} == {ANSWER}  # as written, in the plain column
        assert cases.read_case(unit_of(app, s), made["case"])["title"] == TITLE
    youth = build.youth()

    with app.transaction() as s:  # the school names it to public parties on its public task
        identification.identify_case(unit_of(app, s, by=build.pro("alice")), made["case"], youth,
                                     TODAY)

    title, title_enc = _raw(app, "casus", "title, title_enc", made["case"])
    assert title == "" and title_enc is not None
    assert _raw(app, "meeting", "agenda", made["meeting"]) == ("",)
    assert _raw(app, "action", "description", made["action"]) == ("",)
    blob = _stored_bytes(app)
    assert b"bij oma" not in blob and b"de opname" not in blob and b"de scheiding" not in blob
    # the disclosure made while the case was anonymous: now on the youth's name, encrypted
    assert _raw(app, "disclosure", "youth_id", shared) == (youth,)
    with app.engine.connect() as conn:
        [(content, content_enc)] = conn.execute(text(
            "SELECT content, content_enc FROM disclosure_item WHERE disclosure_id = :d"),
            {"d": shared}).all()
    assert content is None and content_enc is not None
    assert build.disclosure_view(shared)["items"][0]["content"] == (
        "Vaak afwezig sinds de opname")
    with app.transaction() as s:
        assert [d["id"] for d in disclosures.list_for_youth(unit_of(app, s), youth)] == [shared]
    with app.transaction() as s:
        case = s.get(orm.Case, made["case"])
        assert cases.case_title(s, case) == TITLE
        assert cases.meeting_agenda(s, s.get(orm.Meeting, made["meeting"])) == list(AGENDA)
        row = s.get(orm.ExceptionRecord, made["weighing"])
        assert {a["answer"] for a in cases.exception_answers(Texts.for_case(s, case), row)
                } == {ANSWER}


def test_once_the_youth_is_shredded_the_text_is_unreadable_and_no_new_text_is_taken(
        app, build):
    youth = build.youth()
    made = _fill(app, build, build.case("oza", youth_id=youth, title=TITLE))
    flow = _flow_with_note(app, build, youth)
    with app.transaction() as s:
        fresh = cases.open_workflow(unit_of(app, s, by=build.pro("dave")),
                                    s.get(orm.Region, build.w.region_id),
                                    s.get(orm.Youth, youth)).id
        item = s.scalars(select(orm.AgendaItem.id).where(
            orm.AgendaItem.meeting_id == made["meeting"])).first()
    with app.transaction() as s:
        assert rights.shred_youth(s, s.get(orm.Youth, youth), "Vernietigen op verzoek")

    with app.transaction() as s:
        case = s.get(orm.Case, made["case"])
        assert cases.case_title(s, case) == SHREDDED
        assert cases.meeting_agenda(s, s.get(orm.Meeting, made["meeting"])) == [SHREDDED]
        assert cases.action_view(s, s.get(orm.Action, made["action"]))["description"] == (
            SHREDDED)
        assert cases.exception_answers(Texts.for_case(s, case),
                                       s.get(orm.ExceptionRecord, made["weighing"])) == []
        view = cases.workflow_view(s, s.get(orm.Workflow, flow))
        assert view["steps"][0]["details"] == {"note": SHREDDED}

    before = build.counts()
    attempts = [
        lambda s: cases.schedule_meeting(unit_of(app, s), cases.get_case(s, made["case"]), DAY,
                                         ["Nieuw punt"], []),
        lambda s: cases.update_meeting(unit_of(app, s), made["meeting"], 1, agenda=["Ander punt"]),
        lambda s: cases.add_action(unit_of(app, s), s.get(orm.Meeting, made["meeting"]),
                                   s.get(orm.Professional, build.pro("alice")), "Nieuw",
                                   DAY + dt.timedelta(days=3)),
        lambda s: cases.record_exception(unit_of(app, s, by=build.pro("alice")),
                                         cases.get_case(s, made["case"]),
                                         "compatible_purpose", WEIGHING,
                                         dt.datetime(2024, 3, 2, 9)),
        lambda s: cases.take_step(unit_of(app, s, by=build.pro("dave")), fresh, 1, "intake",
                                  {"note": NOTE},
                                  DAY),
        lambda s: cases.write_minute(unit_of(app, s, by=build.pro("alice")), item,
                                     "Nog een verslag"),
        lambda s: cases.open_case(unit_of(app, s, by=build.pro("alice")), None,
                                  s.get(orm.Region, build.w.region_id), TITLE, "oza",
                                  [build.org("swv")], DAY, youth),
    ]
    for attempt in attempts:
        with pytest.raises(Invalid) as refused, app.transaction() as s:
            attempt(s)
        assert refused.value.code == "shredded"
        assert "vernietigd" in refused.value.message
    assert build.counts() == before
    assert _raw(app, "meeting", "version", made["meeting"]) == (1,)
    assert _raw(app, "workflow", "state, version", fresh) == ("new", 1)


def test_a_new_agenda_keeps_the_encrypted_items_whose_title_stays_with_their_minutes(
        app, build):
    made = _fill(app, build, build.case("oza", youth_id=build.youth(), title=TITLE))
    with app.transaction() as s:
        opening, talk = s.scalars(select(orm.AgendaItem.id).where(
            orm.AgendaItem.meeting_id == made["meeting"]).order_by(orm.AgendaItem.position))
        minute = cases.write_minute(unit_of(app, s, by=build.pro("alice")), talk,
                                    "Moeder vertelde over de scheiding").id

    # an item with a minute cannot go; the refusal names its (decrypted) title
    with pytest.raises(Invalid) as refused, app.transaction() as s:
        cases.update_meeting(unit_of(app, s), made["meeting"], 1, agenda=["Opening"])
    assert refused.value.code == "has_minute"
    assert f"'{AGENDA[1]}' heeft een verslag" in refused.value.message

    with app.transaction() as s:  # the titles are compared decrypted, not as ciphertext
        cases.update_meeting(unit_of(app, s), made["meeting"], 1,
                             agenda=[AGENDA[1], "Rondvraag over oma"])
    with app.engine.connect() as conn:
        rows = conn.execute(text("SELECT id, position, title, title_enc FROM agenda_item "
                                 "WHERE meeting_id = :m ORDER BY position"),
                            {"m": made["meeting"]}).all()
    assert [(r.id == talk, r.position, r.title) for r in rows] == [(True, 1, ""), (False, 2, "")]
    assert opening not in {r.id for r in rows}  # no minute: it went
    assert all(r.title_enc is not None for r in rows)
    assert _raw(app, "meeting", "agenda, version", made["meeting"]) == ("", 2)
    assert b"over oma" not in _stored_bytes(app)
    with app.transaction() as s:
        meeting = s.get(orm.Meeting, made["meeting"])
        assert cases.meeting_agenda(s, meeting) == [AGENDA[1], "Rondvraag over oma"]
        assert [i["title"] for i in cases.meeting_view(s, meeting)["agenda"]] == [
            AGENDA[1], "Rondvraag over oma"]
        kept = s.get(orm.Minute, minute)
        assert kept.agenda_item_id == talk
        assert cases.minute_text(s, kept) == "Moeder vertelde over de scheiding"


def test_the_retention_run_empties_the_ciphertext_and_older_plaintext(app, build):
    youth = build.youth()
    made = _fill(app, build, build.case("oza", youth_id=youth, title=TITLE))
    with app.transaction() as s:  # as written before revision 0003: plaintext, no ciphertext
        s.execute(text("UPDATE action SET description = :d, description_enc = NULL "
                       "WHERE id = :i"), {"d": ACTION, "i": made["action"]})
        flow = cases.open_workflow(unit_of(app, s, by=build.pro("dave")),
                                   s.get(orm.Region, build.w.region_id),
                                   s.get(orm.Youth, youth))
        s.add(orm.WorkflowStep(workflow_id=flow.id, step="intake", details={"note": NOTE},
                               taken_on=DAY, professional_id=build.pro("dave")))
        flow.state = "declined"  # a closed workflow does not keep the youth's data
        cases.get_case(s, made["case"]).closed_on = dt.date(2024, 1, 10)
    with app.transaction() as s:
        assert cases.action_description(cases.texts_of_meeting(
            s, s.get(orm.Meeting, made["meeting"])), s.get(orm.Action, made["action"])) == ACTION

    with app.transaction() as s:
        dry = retention.run(unit_of(app, s), dry_run=True)
    assert {k: dry["wiped"][k] for k in ("casus", "meeting", "agenda_item", "action",
                                         "exception_record", "workflow_step")} == {
        "casus": 1, "meeting": 1, "agenda_item": 2, "action": 1, "exception_record": 1,
        "workflow_step": 1}
    assert b"de opname" in _stored_bytes(app)  # the dry run changed nothing

    with app.transaction() as s:
        done = retention.run(unit_of(app, s), dry_run=False)
    assert done["shredded"] == 1 and done["wiped"] == dry["wiped"]
    assert _raw(app, "casus", "title, title_enc", made["case"]) == ("", None)
    assert _raw(app, "meeting", "agenda, agenda_enc", made["meeting"]) == ("", None)
    assert _raw(app, "action", "description, description_enc", made["action"]) == ("", None)
    assert _raw(app, "exception_record", "answers_enc", made["weighing"]) == (None,)
    blob = _stored_bytes(app)
    for phrase in (b"de opname", b"bij schulden", b"Gesprek met moeder"):
        assert phrase not in blob
    with app.transaction() as s:
        step = s.scalars(select(orm.WorkflowStep)).one()
        assert (step.details, step.note_enc) == ({}, None)


def _reads(app, youth: int) -> list[dict]:
    with app.transaction() as s:
        return [audit.body_of(e) for e in audit.entries_for_youth(unit_of(app, s), youth)
                if audit.body_of(e)["actie"] == "read"]


def test_reading_a_case_about_a_youth_is_logged_and_an_anonymous_one_is_not(app, build):
    youth = build.youth()
    named = _fill(app, build, build.case("oza", youth_id=youth, title=TITLE))["case"]
    anonymous = build.case("oza", participants=("leerplicht", "swv"), title="Groep 7")
    assert _reads(app, youth) == []

    with app.transaction() as s:
        shown = cases.read_case(unit_of(app, s, by=build.pro("alice")), named)
        assert cases.read_case(unit_of(app, s), anonymous)["title"] == "Groep 7"
    assert shown["title"] == TITLE
    assert shown["meetings"][0]["agenda"] == list(AGENDA)
    assert shown["meetings"][0]["actions"][0]["description"] == ACTION
    [read] = _reads(app, youth)
    assert (read["handelingNaam"], read["verwerkingId"]) == ("Inzien casus",
                                                            f"deelwijs:casus:{named}")
    assert read["verwerkingsactiviteitId"].endswith("/oza")

    with app.transaction() as s:
        listed = cases.list_cases(unit_of(app, s), s.get(orm.Region, build.w.region_id))
    assert {c["id"]: c["title"] for c in listed} == {named: TITLE, anonymous: "Groep 7"}
    assert [r["handelingNaam"] for r in _reads(app, youth)] == [
        "Inzien casus", "Raadplegen lijst casussen"]

    with app.transaction() as s:  # a shredded youth's case holds nothing to read: not logged
        rights.shred_youth(s, s.get(orm.Youth, youth), "Vernietigen op verzoek")
    with app.transaction() as s:
        assert cases.read_case(unit_of(app, s), named)["title"] == SHREDDED
    assert len(_reads(app, youth)) == 2
