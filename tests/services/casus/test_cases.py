"""Cases, meetings, minutes and actions, and optimistic locking: two professionals saving the
same meeting or minute → the second gets a clear conflict and nothing is lost."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from tests.services.helpers import unit_of

from deelwijs.services.casus import cases
from deelwijs.services.errors import Conflict, Invalid, NotFound
from deelwijs.storage import orm

MEETING_DAY = dt.date(2024, 3, 1)


@pytest.fixture
def meeting(build) -> int:
    case = build.case("oza", participants=("leerplicht", "jeugdhulp"), youth_id=build.youth())
    return build.meeting(case, MEETING_DAY, agenda=("Opening", "Bespreking", "Afspraken"),
                         participants=("alice", "carol", "bob"))


def _agenda_item(app, meeting_id: int, position: int = 2) -> int:
    with app.transaction() as s:
        return s.scalars(select(orm.AgendaItem.id).where(
            orm.AgendaItem.meeting_id == meeting_id,
            orm.AgendaItem.position == position)).one()


def test_a_case_is_opened_under_the_regions_overleg_name_with_the_creator_as_participant(
        app, build):
    case = build.case("TOM-tafel", participants=("leerplicht",), creator="alice",
                      youth_id=build.youth())
    with app.transaction() as s:
        row = cases.get_case(s, case)
        orgs = {o.id for o in cases.participants(s, row)}
        assert (row.purpose, row.overleg, row.anonymous, row.version) == ("oza", "TOM-tafel",
                                                                          False, 1)
    assert orgs == {build.org("school"), build.org("leerplicht")}


def test_a_case_for_a_legal_route_or_an_unknown_overleg_is_refused(build):
    before = build.counts()
    for purpose in ("ots", "Koffietafel"):
        with pytest.raises(Invalid) as refused:
            build.case(purpose, youth_id=None)
        assert (refused.value.code, refused.value.field) == ("unknown_code", "purpose")
        assert "TOM-tafel" in refused.value.message  # says what may be chosen
    assert build.counts() == before


def test_two_professionals_saving_the_same_meeting_the_second_gets_a_conflict(app, meeting):
    alice_s, carol_s = app.sessions(), app.sessions()
    try:
        # both have the meeting open (the loaded rows stay in their sessions)
        seen_by_alice = alice_s.get(orm.Meeting, meeting)
        seen_by_carol = carol_s.get(orm.Meeting, meeting)
        assert seen_by_alice.version == seen_by_carol.version == 1

        cases.update_meeting(unit_of(app, alice_s), meeting, seen_by_alice.version,
                             agenda="Opening\nBespreking verzuim")
        alice_s.commit()
        with pytest.raises(Conflict) as conflict:
            cases.update_meeting(unit_of(app, carol_s), meeting, seen_by_carol.version,
                                 held_on=dt.date(2024, 3, 8), agenda="Opening\nRondvraag")
        carol_s.rollback()
    finally:
        alice_s.close()
        carol_s.close()
    assert conflict.value.code == "conflict"
    assert conflict.value.field == "expected_version"
    assert "door iemand anders gewijzigd" in conflict.value.message
    assert "niets van uw wijziging is opgeslagen" in conflict.value.message
    with app.transaction() as s:
        row = s.get(orm.Meeting, meeting)
        assert (cases.meeting_agenda(s, row), row.held_on, row.version) == (
            ["Opening", "Bespreking verzuim"], MEETING_DAY, 2)


def test_saving_a_meeting_with_the_version_seen_before_a_reload_is_a_conflict(app, meeting):
    with app.transaction() as s:
        cases.update_meeting(unit_of(app, s), meeting, 1, held_on=dt.date(2024, 3, 8))
    with pytest.raises(Conflict) as conflict, app.transaction() as s:
        cases.update_meeting(unit_of(app, s), meeting, 1, agenda="Oud")
    assert "versie 2, u zag 1" in conflict.value.message
    with app.transaction() as s:
        cases.update_meeting(unit_of(app, s), meeting, 2,
                             agenda="Na herladen")  # reload, then save: fine
        row = s.get(orm.Meeting, meeting)
        agenda = cases.meeting_agenda(s, row)
    assert (row.held_on, agenda, row.version) == (dt.date(2024, 3, 8), ["Na herladen"], 3)


def test_two_professionals_editing_the_same_minute_the_second_gets_a_conflict(
        app, build, meeting):
    item = _agenda_item(app, meeting)
    with app.transaction() as s:
        minute = cases.write_minute(unit_of(app, s, by=build.pro("alice")), item,
                                    "Sem verzuimt veel.").id
    alice_s, carol_s = app.sessions(), app.sessions()
    try:
        alice, carol = (alice_s.get(orm.Professional, build.pro("alice")),
                        carol_s.get(orm.Professional, build.pro("carol")))
        # both have the minute open (the loaded rows stay in their sessions)
        seen_by_alice = alice_s.get(orm.Minute, minute)
        seen_by_carol = carol_s.get(orm.Minute, minute)
        assert seen_by_alice.version == seen_by_carol.version == 1
        cases.write_minute(unit_of(app, alice_s, by=alice), item,
                           "Sem verzuimt veel; ouders komen op gesprek.", minute_id=minute,
                           expected_version=seen_by_alice.version)
        alice_s.commit()
        with pytest.raises(Conflict) as conflict:
            cases.write_minute(unit_of(app, carol_s, by=carol), item, "Sem verzuimt niet.",
                               minute_id=minute,
                               expected_version=seen_by_carol.version)
        carol_s.rollback()
    finally:
        alice_s.close()
        carol_s.close()
    assert "het verslag is intussen door iemand anders gewijzigd" in conflict.value.message
    with app.transaction() as s:
        row = s.get(orm.Minute, minute)
        assert (cases.minute_text(s, row), row.updated_by_id, row.version) == (
            "Sem verzuimt veel; ouders komen op gesprek.", build.pro("alice"), 2)


def test_changing_a_minute_without_saying_which_version_you_saw_is_a_conflict(
        app, build, meeting):
    item = _agenda_item(app, meeting)
    with app.transaction() as s:
        alice = s.get(orm.Professional, build.pro("alice"))
        minute = cases.write_minute(unit_of(app, s, by=alice), item, "Eerste tekst").id
    with pytest.raises(Conflict), app.transaction() as s:
        cases.write_minute(unit_of(app, s, by=build.pro("alice")), item, "Tweede tekst",
                           minute_id=minute)
    with app.transaction() as s:
        assert cases.minute_text(s, s.get(orm.Minute, minute)) == "Eerste tekst"


@pytest.mark.parametrize(("participants", "field"), [
    (("alice", "dave"), "participants[1]"),
    (("alice", "alice", "dave"), "participants[2]"),
], ids=["named second", "named third, after a duplicate"])
def test_a_meeting_with_a_professional_of_an_organisation_outside_the_case_is_refused(
        build, participants, field):
    case = build.case("oza", participants=("leerplicht",), youth_id=build.youth())
    before = build.counts()
    with pytest.raises(Invalid) as refused:
        build.meeting(case, MEETING_DAY, participants=participants)
    assert (refused.value.code, refused.value.field) == ("not_a_participant", field)
    assert "Dave Mulder" in refused.value.message
    assert build.counts() == before  # not even the meeting itself


def test_an_action_gets_an_owner_a_deadline_and_an_evaluation_date_not_before_the_meeting(
        app, build, meeting):
    with app.transaction() as s:
        m = s.get(orm.Meeting, meeting)
        bob = s.get(orm.Professional, build.pro("bob"))
        cases.add_action(unit_of(app, s), m, bob, "Gesprek met ouders plannen", MEETING_DAY +
                         dt.timedelta(days=14), evaluate_on=MEETING_DAY + dt.timedelta(days=42))
    with pytest.raises(Invalid) as refused, app.transaction() as s:
        cases.add_action(unit_of(app, s), s.get(orm.Meeting, meeting),
                         s.get(orm.Professional, build.pro("bob")), "Te laat",
                         MEETING_DAY - dt.timedelta(days=1))
    assert (refused.value.code, refused.value.field) == ("invalid_date", "due_on")
    with app.transaction() as s:
        actions = s.scalars(select(orm.Action)).all()
        texts = cases.texts_of_meeting(s, s.get(orm.Meeting, meeting))
        described = [(cases.action_description(texts, a), a.owner_id) for a in actions]
    assert described == [("Gesprek met ouders plannen", build.pro("bob"))]


def test_an_unknown_meeting_is_not_found(app):
    with pytest.raises(NotFound) as missing, app.transaction() as s:
        cases.update_meeting(unit_of(app, s), 424242, 1, agenda="x")
    assert missing.value.field == "meeting"


def test_closing_a_case_names_the_version_and_starts_its_retention_term(app, build):
    case = build.case("oza", participants=("school", "swv"), youth_id=build.youth())
    with app.transaction() as s:
        alice = s.get(orm.Professional, build.pro("alice"))
        row = cases.close_case(unit_of(app, s, by=alice, today=dt.date(2026, 6, 2)), case, 1,
                               dt.date(2026, 6, 1))
        assert (row.closed_on, row.version) == (dt.date(2026, 6, 1), 2)
    other = build.case("oza", participants=("school", "swv"), opened_on=dt.date(2026, 1, 5))
    before = build.counts()
    with app.transaction() as s:
        alice = s.get(orm.Professional, build.pro("alice"))
        with pytest.raises(Conflict, match="al gesloten"):
            cases.close_case(unit_of(app, s, by=alice, today=dt.date(2026, 6, 3)), case, 2,
                             dt.date(2026, 6, 3))
    for version, closed, by, field in (
            (7, dt.date(2026, 2, 1), "alice", "expected_version"),
            (1, dt.date(2030, 1, 1), "alice", "closed_on"),
            (1, dt.date(2025, 1, 1), "alice", "closed_on"),
            (1, dt.date(2026, 2, 1), "erin", "case")):  # not in the case: as unknown (404)
        with pytest.raises((Invalid, Conflict, NotFound)) as refused, app.transaction() as s:
            cases.close_case(unit_of(app, s, by=build.pro(by), today=dt.date(2026, 6, 3)), other,
                             version, closed)
        assert refused.value.field == field
    assert build.counts() == before


def test_only_a_participant_or_the_administrator_reads_a_case_or_sees_it_listed(app, build):
    """Need to know: a professional of an organisation that takes part in the case reads it
    and sees it listed; one of another organisation is refused (and nothing is logged) and
    does not see it; the administrator reads and lists everything. The refusal is the
    answer an unknown case gets (IDOR: 404, no hint that it exists)."""
    case = build.case("oza", participants=("leerplicht",), youth_id=build.youth())
    before = build.counts()
    with pytest.raises(NotFound) as refused, app.transaction() as s:
        cases.read_case(unit_of(app, s, by=build.pro("dave")), case)
    assert (refused.value.code, refused.value.field) == ("not_found", "case")
    assert refused.value.message == f"onbekende casus ({case})"
    assert build.counts() == before
    with app.transaction() as s:
        region = s.get(orm.Region, build.w.region_id)
        assert cases.read_case(unit_of(app, s, by=build.pro("alice")), case)["id"] == case
        assert cases.read_case(unit_of(app, s), case)["id"] == case
        listed = {who: [c["id"] for c in cases.list_cases(unit_of(app, s, by=by), region)]
                  for who, by in (("dave", build.pro("dave")), ("alice", build.pro("alice")),
                                  ("admin", None))}
    assert listed == {"dave": [], "alice": [case], "admin": [case]}
