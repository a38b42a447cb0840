"""The inzage overview (AVG art. 15) of a youth with several cases, meetings, minutes, actions
and workflows: every part lands under its own case, meeting and workflow, in order, nothing of
another youth shows, and the number of statements does not grow with the youth's data (one
statement per table, not one per case, meeting or agenda item)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import event, select
from tests.services.helpers import unit_of

from deelwijs.services.casus import cases
from deelwijs.services.rights import requests as rights
from deelwijs.storage import orm

STEP_DAY = dt.date(2024, 3, 1)


def _inzage(app, youth: int, **kwargs) -> dict:
    with app.transaction() as s:
        return rights.inzage(unit_of(app, s), youth, requester="parent",
                             guardian_id=kwargs.pop("guardian_id"), **kwargs)


def _items(app, meeting_id: int) -> list[int]:
    with app.transaction() as s:
        return list(s.scalars(select(orm.AgendaItem.id).where(
            orm.AgendaItem.meeting_id == meeting_id).order_by(orm.AgendaItem.position)))


def _minute(app, build, item_id: int, text: str) -> None:
    with app.transaction() as s:
        cases.write_minute(unit_of(app, s, by=build.pro("alice")), item_id, text)


def _action(app, build, meeting_id: int, text: str, due_on: dt.date) -> None:
    with app.transaction() as s:
        cases.add_action(unit_of(app, s), s.get(orm.Meeting, meeting_id),
                         s.get(orm.Professional, build.pro("alice")), text, due_on)


STEPS = {"intake": {}, "assessment": {"problems": "multiple"},
         "investigation": {"scope": ["onderwijs", "wonen"], "with_resident": True}}


def _workflow(app, build, youth: int, steps: list[str]) -> int:
    with app.transaction() as s:
        dave = s.get(orm.Professional, build.pro("dave"))
        flow = cases.open_workflow(unit_of(app, s, by=dave), s.get(orm.Region, build.w.region_id),
                                   s.get(orm.Youth, youth))
        for step in steps:
            flow = cases.take_step(unit_of(app, s, by=dave), flow.id, flow.version, step,
                                   STEPS[step], STEP_DAY)
        return flow.id


def _meetings(app, build, youth: int, title: str, opened_on: dt.date, participants,
              meetings: list[tuple[dt.date, tuple[str, ...]]]) -> tuple[int, list[int]]:
    case = build.case("TOM-tafel", youth_id=youth, title=title, opened_on=opened_on,
                      participants=participants)
    return case, [build.meeting(case, day, agenda=agenda) for day, agenda in meetings]


@pytest.fixture
def rich(app, build):
    """A youth with two cases (the second opened first), three meetings (one case's meetings
    scheduled out of date order), minutes written out of agenda order, actions, two
    workflows and a consent naming its recipients; and another youth with the same kinds of
    data, none of which may show."""
    youth = build.youth(name="Sem de Vries")
    other = build.youth(name="Fenna Oosterhout")
    first, (late, early) = _meetings(
        app, build, youth, "Eerste casus", dt.date(2024, 1, 10), ("leerplicht", "swv"),
        [(dt.date(2024, 2, 1), ("Opening", "Bespreking", "Rondvraag")),
         (dt.date(2024, 1, 20), ("Start",))])
    second, (third,) = _meetings(
        app, build, youth, "Tweede casus", dt.date(2024, 1, 5), ("jeugdhulp",),
        [(dt.date(2024, 2, 15), ("Opening", "Afspraken"))])
    theirs, (foreign,) = _meetings(
        app, build, other, "Casus van een ander", dt.date(2024, 1, 5), ("swv",),
        [(dt.date(2024, 2, 1), ("Opening",))])
    opening, _, rondvraag = _items(app, late)
    _minute(app, build, rondvraag, "Rondvraag: niets.")
    _minute(app, build, opening, "Welkom; afspraken van vorige keer besproken.")
    _minute(app, build, _items(app, third)[1], "Afspraak: dagelijkse check-in.")
    _minute(app, build, _items(app, foreign)[0], "Geheim van een ander kind.")
    _action(app, build, late, "Gesprek met ouders", dt.date(2024, 2, 10))
    _action(app, build, third, "Evaluatie plannen", dt.date(2024, 3, 1))
    _action(app, build, late, "Rooster aanpassen", dt.date(2024, 2, 20))
    _action(app, build, foreign, "Actie van een ander kind", dt.date(2024, 3, 1))
    flows = [_workflow(app, build, youth, ["intake", "assessment", "investigation"]),
             _workflow(app, build, youth, [])]
    _workflow(app, build, other, ["intake"])
    mother, _ = build.guardians(youth)
    build.consent(youth, "parent", guardian_id=mother, given_on=dt.date(2024, 1, 6),
                  recipients=("jeugdhulp", "leerplicht"))
    build.parents_consent(other, given_on=dt.date(2024, 1, 6))
    build.disclose("alice", "jeugdhulp", {"gedrag": "Onrustig in de klas"}, dt.date(2024, 2, 15),
                   case_id=second, meeting_id=third, kind="minute")
    build.disclose("alice", "swv", {"gedrag": "Van een ander kind"}, dt.date(2024, 2, 1),
                   case_id=theirs, meeting_id=foreign, kind="minute")
    return {"youth": youth, "other": other, "first": first, "second": second,
            "meetings": (late, early, third), "flows": flows, "mother": mother}


def test_every_part_is_under_its_own_case_meeting_and_workflow(app, build, rich):
    out = _inzage(app, rich["youth"], guardian_id=rich["mother"])
    late, early, third = rich["meetings"]
    second, first = out["casussen"]  # by opening day
    assert (second["id"], first["id"]) == (rich["second"], rich["first"])
    assert [m["id"] for m in first["overleggen"]] == [early, late]  # by day
    assert first["overleggen"][0] == {"id": early, "datum": "2024-01-20", "agenda": ["Start"],
                                      "verslagen": [], "afspraken": []}
    held = first["overleggen"][1]
    assert held["agenda"] == ["Opening", "Bespreking", "Rondvraag"]
    assert held["verslagen"] == [  # in agenda order, not in the order they were written
        {"agendapunt": "Opening", "tekst": "Welkom; afspraken van vorige keer besproken."},
        {"agendapunt": "Rondvraag", "tekst": "Rondvraag: niets."}]
    assert [(a["omschrijving"], a["deadline"], a["klaar_op"]) for a in held["afspraken"]] == [
        ("Gesprek met ouders", "2024-02-10", None), ("Rooster aanpassen", "2024-02-20", None)]
    [meeting] = second["overleggen"]
    assert meeting["id"] == third
    assert meeting["verslagen"] == [{"agendapunt": "Afspraken",
                                     "tekst": "Afspraak: dagelijkse check-in."}]
    assert [a["omschrijving"] for a in meeting["afspraken"]] == ["Evaluatie plannen"]
    assert sorted(first["deelnemers"]) == sorted([
        "Stichting Onderwijs De Linde", "Leerplicht Voorbeeldstad",
        "Samenwerkingsverband Passend Onderwijs Voorbeeldregio"])
    assert sorted(second["deelnemers"]) == sorted(["Stichting Onderwijs De Linde",
                                                   "Wijkteam Centrum"])
    assert [(f["id"], [s["stap"] for s in f["stappen"]]) for f in out["werkprocessen"]] == [
        (rich["flows"][0], ["intake", "assessment", "investigation"]), (rich["flows"][1], [])]
    assert len(out["werkprocessen"][0]["hulpvraag_over"]) == 2
    [disclosure] = out["verstrekkingen"]
    assert (disclosure["casus_id"], disclosure["aan"]["naam"]) == (second["id"],
                                                                  "Wijkteam Centrum")
    [item] = disclosure["gegevens"]  # refused: only the mother consented
    assert (item["code"], item["gedeeld"], item["inhoud"]) == ("gedrag", False, None)
    assert [r["wie"] for r in out["toestemmingen"]] == ["Fatima de Vries (moeder)"]
    assert out["toestemmingen"][0]["ontvangers"] == ["Wijkteam Centrum",
                                                    "Leerplicht Voorbeeldstad"]
    # retention: by case id, both still open
    assert [b["wat"] for b in out["bewaartermijnen"][:2]] == [
        "verslag van de casus 'Eerste casus'", "verslag van de casus 'Tweede casus'"]
    text = json.dumps(out, ensure_ascii=False)
    for foreign in ("Fenna", "Casus van een ander", "Geheim van een ander kind",
                    "Actie van een ander kind", "Van een ander kind"):
        assert foreign not in text


def _statements(app, youth: int, mother: int) -> int:
    seen = []

    def count(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(app.engine, "before_cursor_execute", count)
    try:
        _inzage(app, youth, guardian_id=mother)
    finally:
        event.remove(app.engine, "before_cursor_execute", count)
    return len(seen)


def test_the_statements_do_not_grow_with_the_youths_data(app, build, rich):
    youth, mother = rich["youth"], rich["mother"]
    _inzage(app, youth, guardian_id=mother)  # rulesets compiled, caches warm
    before = _statements(app, youth, mother)
    third = rich["meetings"][2]
    more = build.meeting(rich["first"], dt.date(2024, 3, 1), agenda=("Een", "Twee", "Drie"))
    for item in _items(app, more):
        _minute(app, build, item, "Nog een verslag.")
    _action(app, build, more, "Nog een actie", dt.date(2024, 3, 10))
    build.disclose("alice", "jeugdhulp", {"gedrag": "Onrustig"}, dt.date(2024, 3, 1),
                   case_id=rich["second"], meeting_id=third, kind="minute")
    _workflow(app, build, youth, ["intake"])
    assert _statements(app, youth, mother) == before
    build.case("TOM-tafel", youth_id=youth, title="Derde casus", opened_on=dt.date(2024, 3, 1))
    # a case adds one statement: its participants, read as before (in the database's order)
    assert _statements(app, youth, mother) <= before + 1
