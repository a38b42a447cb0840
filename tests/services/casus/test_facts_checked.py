"""Facts checked before they are stored (issue 11, item 10): a BSN in the free text of an
anonymous case or of a breach, birth dates and request days outside the contract's ages,
consent dated before birth or given by someone whose consent the youth's age does not ask
for. Each refusal is one Dutch message naming its field, and nothing is written."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from tests.services.helpers import BIRTH, TODAY, unit_of, valid_bsn

from deelwijs.services.casus import cases, consent, youths
from deelwijs.services.errors import Invalid, Refused
from deelwijs.services.log import breaches
from deelwijs.services.rights import requests as rights
from deelwijs.storage import orm

BSN = valid_bsn(1)
WRITTEN = {  # one BSN, as people write it
    "plain": BSN,
    "dots": f"{BSN[:3]}.{BSN[3:6]}.{BSN[6:]}",
    "spaces 4-2-3": f"{BSN[:4]} {BSN[4:6]} {BSN[6:]}",
    "in a sentence": f"Leerling met bsn {BSN[:4]}.{BSN[4:6]}.{BSN[6:]}, groep 7",
}
DAY = dt.date(2024, 3, 1)
FOUND = dt.datetime(2026, 3, 1, 9, 0)


def _refused(exc_info, code: str, field: str) -> str:
    err = exc_info.value
    assert (err.code, err.field) == (code, field), (err.code, err.field, err.message)
    assert BSN not in str(err), str(err)  # the message does not repeat the number
    return err.message


def _everything(app) -> dict:
    """Every stored text an anonymous case or a breach keeps as written."""
    with app.transaction() as s:
        return {"case": list(s.scalars(select(orm.Case.title))),
                "agenda": list(s.scalars(select(orm.Meeting.agenda))),
                "item": list(s.scalars(select(orm.AgendaItem.title))),
                "minute": list(s.scalars(select(orm.Minute.text))),
                "action": list(s.scalars(select(orm.Action.description))),
                "weighing": [str(a) for a in s.scalars(select(orm.ExceptionRecord.answers))],
                "breach": [f"{b.description} {b.measures} {b.no_notification_reason}"
                           for b in s.scalars(select(orm.Breach))]}


def _no_bsn_stored(app) -> None:
    for kind, texts in _everything(app).items():
        for text in texts:
            assert BSN not in "".join(c for c in text if c.isdigit()), (kind, text)


# --- a BSN in free text --------------------------------------------------------------------


@pytest.mark.parametrize("how", list(WRITTEN))
def test_a_bsn_in_the_title_of_an_anonymous_case_is_refused(app, build, how):
    before = build.counts()
    with pytest.raises(Invalid) as refused:
        build.case("oza", title=WRITTEN[how])
    message = _refused(refused, "contains_bsn", "title")
    assert "anonieme casus" in message and "BSN" in message
    assert build.counts() == before
    _no_bsn_stored(app)


def test_a_bsn_in_the_agenda_minutes_actions_or_weighing_of_an_anonymous_case_is_refused(
        app, build):
    case = build.case("oza", participants=("leerplicht", "swv"), title="Leerling groep 7")
    meeting = build.meeting(case, DAY, participants=("alice", "carol"))
    before = build.counts()
    with pytest.raises(Invalid) as refused:
        build.meeting(case, DAY, agenda=("Opening", WRITTEN["dots"]))
    _refused(refused, "contains_bsn", "agenda[1]")
    with app.transaction() as s:
        item = s.scalars(select(orm.AgendaItem.id)
                         .where(orm.AgendaItem.meeting_id == meeting)).first()
    alice = build.pro("alice")
    calls = {
        "agenda[0]": lambda s: cases.update_meeting(unit_of(app, s), meeting, 1,
                                                    agenda=[WRITTEN["plain"]]),
        "text": lambda s: cases.write_minute(unit_of(app, s, by=alice), item,
                                             f"Besproken: {WRITTEN['spaces 4-2-3']}"),
        "description": lambda s: cases.add_action(
            unit_of(app, s), s.get(orm.Meeting, meeting), s.get(orm.Professional, alice),
            f"Bel school over {BSN}", DAY + dt.timedelta(days=7)),
        "answers.consent_sought": lambda s: cases.record_exception(
            unit_of(app, s, by=alice), cases.get_case(s, case), "conflict_of_duties",
            {"consent_sought": f"ja, ouders van {WRITTEN['dots']} gebeld"},
            dt.datetime(2024, 3, 1, 10),
            to_org_ids=[build.org("leerplicht")], categories=["gedrag"]),
    }
    for field, call in calls.items():
        with pytest.raises(Invalid) as refused, app.transaction() as s:
            call(s)
        _refused(refused, "contains_bsn", field)
    assert build.counts() == before
    _no_bsn_stored(app)


def test_text_about_a_named_youth_is_encrypted_and_may_hold_the_bsn(app, build):
    """Only text kept as written is checked: about a youth it is encrypted with the youth's
    key (and destroyed with it)."""
    youth = build.youth(bsn=BSN)
    case = build.case("oza", youth_id=youth, title=f"Sem, bsn {WRITTEN['dots']}")
    with app.transaction() as s:
        assert cases.case_title(s, cases.get_case(s, case)) == f"Sem, bsn {WRITTEN['dots']}"
        assert s.get(orm.Case, case).title == ""


def test_numbers_that_are_no_bsn_stay_allowed(app, build):
    for title in ("Leerling groep 7, 12 jaar", "Tel. 06-12345678", "Casus 2024-03-01",
                  "IBAN NL91 ABNA 0417 1643 00", "Dossier 123456789"):  # 123456789: no elfproef
        build.case("oza", title=title)


def _breach(app, build, **kw) -> int:
    args = dict(region=build.w.region_id, organisation_id=build.org("school"),
                discovered_at=FOUND, description="Een mail ging naar de verkeerde ouder.",
                categories=["identificatie"], risk="onwaarschijnlijk", youth_ids=[],
                measures="Mail teruggeroepen.")
    args.update(kw)
    with app.transaction() as s:
        return breaches.record_breach(unit_of(app, s, by=build.pro("alice")), **args).id


@pytest.mark.parametrize("field", ["description", "measures"])
@pytest.mark.parametrize("how", list(WRITTEN))
def test_a_bsn_in_a_breach_is_refused(app, build, field, how):
    before = build.counts()
    with pytest.raises(Invalid) as refused:
        _breach(app, build, **{field: f"Het lek betrof {WRITTEN[how]}"})
    message = _refused(refused, "contains_bsn", field)
    assert "datalekkenregister" in message
    assert build.counts() == before


def test_a_bsn_in_a_breach_reason_is_refused(app, build):
    breach = _breach(app, build)
    before = build.counts()
    with pytest.raises(Invalid) as refused, app.transaction() as s:
        breaches.no_notification(unit_of(app, s, by=build.pro("alice")), breach,
                                 expected_version=1,
                                 reason=f"Alleen {WRITTEN['dots']} geraakt, versleuteld")
    _refused(refused, "contains_bsn", "reason")
    late = _breach(app, build, risk="hoog", discovered_at=FOUND - dt.timedelta(days=10))
    with pytest.raises(Invalid) as refused, app.transaction() as s:
        breaches.notify_ap(unit_of(app, s, by=build.pro("alice")), late, expected_version=1,
                           notified_at=FOUND, reference="AP-2026-1",
                           delay_reason=f"Eerst {BSN} nagezocht")
    _refused(refused, "contains_bsn", "delay_reason")
    assert build.counts()["breach"] == before["breach"] + 1
    _no_bsn_stored(app)


@pytest.mark.parametrize("text,found", [
    (BSN, BSN), (WRITTEN["dots"], BSN), (WRITTEN["spaces 4-2-3"], BSN),
    (f"{BSN[:2]}-{BSN[2:4]}-{BSN[4:6]}-{BSN[6:]}", BSN),
    (f"groep 3 {BSN}", BSN),  # a number before it is a group of its own
    ("".join(chr(0xFF10 + int(d)) for d in BSN), BSN),  # full-width digits
    (f"1{BSN}", None), (f"{BSN}1", None),  # part of a longer number
    ("123456789", None), ("NL91 ABNA 0417 1643 00", None), ("06-12345678", None),
    ("2024-03-01 om 10.30", None), ("", None),
])
def test_find_bsn(text, found):
    from deelwijs.domain.bsn import find_bsn

    assert find_bsn(text) == found


# --- birth dates and request days ----------------------------------------------------------


def _create(app, build, birth, today=TODAY):
    with app.transaction() as s:
        return youths.create_youth(unit_of(app, s, today=today),
                                   s.get(orm.Region, build.w.region_id), "Sem de Vries",
                                   birth).id


@pytest.mark.parametrize("birth,code", [
    (TODAY + dt.timedelta(days=1), "birth_in_future"),
    (dt.date(2138, 1, 1), "birth_in_future"),
    (dt.date(TODAY.year - 31, TODAY.month, TODAY.day), "too_old"),
    (dt.date(1900, 1, 1), "too_old"),
    ("2014-06-15", "wrong_type"),
    (dt.datetime(2014, 6, 15, 12), "wrong_type"),
])
def test_a_youth_is_born_on_or_before_registration_and_at_most_30_then(app, build, birth,
                                                                       code):
    before = build.counts()
    with pytest.raises(Invalid) as refused:
        _create(app, build, birth)
    assert (refused.value.code, refused.value.field) == (code, "birth")
    assert build.counts() == before


def test_the_ages_the_contract_decides_on_are_accepted_at_registration(app, build):
    _create(app, build, TODAY)  # born today: 0
    _create(app, build, dt.date(TODAY.year - 30, TODAY.month, TODAY.day) + dt.timedelta(days=1))


def test_a_request_dated_before_the_youths_birth_is_refused_not_answered_with_a_negative_age(
        app, build):
    """Was: 'De jongere is -112 jaar. Voor een kind jonger dan 12 ...'."""
    youth = build.youth()  # born 2014-06-15
    before = build.counts()
    for day in (dt.date(1902, 1, 1), BIRTH - dt.timedelta(days=1)):
        with pytest.raises(Invalid) as refused, app.transaction() as s:
            rights.inzage(unit_of(app, s, today=day), youth, requester="youth")
        assert (refused.value.code, refused.value.field) == ("before_birth", "today")
        assert " jaar" not in refused.value.message  # no age at all, let alone -112
        with pytest.raises(Invalid) as refused, app.transaction() as s:
            rights.rectify(unit_of(app, s, by=build.pro("alice"), today=day), youth, "name",
                           "Sem Jansen", requester="parent",
                           guardian_id=build.guardians(youth)[0])
        assert refused.value.code == "before_birth"
    assert build.counts() == before


def _rectify_birth(app, build, youth, value, today):
    with app.transaction() as s:
        return rights.rectify(unit_of(app, s, by=build.pro("alice"), today=today), youth,
                              "birth", value, requester="parent",
                              guardian_id=build.guardians(youth)[0])


def test_a_corrected_birth_date_lies_on_or_before_the_day_of_registration(app, build):
    youth = build.youth()
    registered = dt.date.today()  # created_at: the moment the row was written
    later = registered + dt.timedelta(days=200)  # a request dated later than the registration
    before = build.counts()
    with pytest.raises(Invalid) as refused:
        _rectify_birth(app, build, youth, (registered + dt.timedelta(days=1)).isoformat(),
                       later)
    assert (refused.value.code, refused.value.field) == ("born_after_registration", "value")
    with pytest.raises(Invalid) as refused:
        _rectify_birth(app, build, youth, dt.date(registered.year - 31, 1, 1).isoformat(),
                       registered)
    assert (refused.value.code, refused.value.field) == ("too_old", "value")
    assert build.counts() == before
    _rectify_birth(app, build, youth, "2014-06-16", registered)  # a real correction


def test_a_corrected_birth_date_is_not_after_a_recorded_consent(app, build):
    youth = build.youth()
    build.parents_consent(youth, given_on=dt.date(2020, 1, 10))
    before = build.counts()
    with pytest.raises(Invalid) as refused:
        _rectify_birth(app, build, youth, "2020-02-01", TODAY)
    assert (refused.value.code, refused.value.field) == ("consent_before_birth", "value")
    assert "10 januari 2020" in refused.value.message
    assert build.counts() == before


# --- consent: not before birth, only from whom the youth's age asks it ---------------------



def _consent(app, build, youth, role, given_on, answer="given", guardian=None, today=TODAY):
    with app.transaction() as s:
        return consent.record(unit_of(app, s, today=today), youths.get_youth(s, youth), role,
                              answer, ["oza"], ["gedrag"], given_on, guardian_id=guardian,
                              document_ref="TOEST-1")


def test_consent_dated_before_the_youths_birth_is_refused(app, build):
    youth = build.youth()
    mother = build.guardians(youth)[0]
    before = build.counts()
    for day in (BIRTH - dt.timedelta(days=1), dt.date(1990, 1, 1)):
        with pytest.raises(Invalid) as refused:
            _consent(app, build, youth, "parent", day, guardian=mother)
        assert (refused.value.code, refused.value.field) == ("before_birth", "given_on")
    assert build.counts() == before
    _consent(app, build, youth, "parent", BIRTH, guardian=mother)  # the day itself may


@pytest.mark.parametrize("years", [4, 11])
def test_a_child_under_12_gives_no_consent_of_its_own(app, build, years):
    """Was shown in the inzage as the 4-year-old's 'own consent'."""
    youth = build.youth()
    day = dt.date(BIRTH.year + years, 9, 1)
    before = build.counts()
    for answer in ("given", "refused"):
        with pytest.raises(Refused) as refused:
            _consent(app, build, youth, "youth", day, answer)
        assert (refused.value.code, refused.value.field) == ("too_young", "role")
        assert f"{years} jaar" in refused.value.message
        assert "ouders met gezag" in refused.value.message
    assert build.counts() == before
    _consent(app, build, youth, "parent", day, guardian=build.guardians(youth)[0])


def test_from_16_the_youth_decides_and_the_parents_answer_is_refused(app, build):
    youth = build.youth(birth=dt.date(2008, 6, 15), today=TODAY)  # 16 on 2024-06-15
    mother = build.guardians(youth)[0]
    before = build.counts()
    for answer in ("given", "refused"):
        with pytest.raises(Refused) as refused:
            _consent(app, build, youth, "parent", dt.date(2024, 6, 15), answer, guardian=mother)
        assert (refused.value.code, refused.value.field) == ("youth_decides", "role")
        assert "Vanaf 16 jaar beslist de jongere zelf" in refused.value.message
    assert build.counts() == before
    # the day before: 15, both count; from 12 the youth's own consent counts too
    series = _consent(app, build, youth, "parent", dt.date(2024, 6, 14), guardian=mother).series
    _consent(app, build, youth, "youth", dt.date(2020, 6, 15))  # 12
    _consent(app, build, youth, "youth", dt.date(2024, 6, 15))  # 16
    # a parent's consent given at 15 may be withdrawn at 16, not answered anew
    with pytest.raises(Refused) as refused, app.transaction() as s:
        consent.change(unit_of(app, s), series, 1, "given", dt.date(2024, 7, 1))
    assert refused.value.code == "youth_decides"
    with app.transaction() as s:
        assert consent.change(unit_of(app, s), series, 1, "withdrawn",
                              dt.date(2024, 7, 1)).version == 2


def test_the_ages_come_from_the_regions_ruleset_in_force_on_the_day(app, build):
    """The ages are read from the ruleset in force when the consent was given (before the
    region's first ruleset: the model's, which a region cannot change)."""
    from deelwijs.rules import loader

    youth = build.youth()
    with app.transaction() as s:
        rule = consent.consent_rule(s, build.w.region_id, dt.date(2024, 1, 1))
        early = consent.consent_rule(s, build.w.region_id, dt.date(2019, 1, 1))
    model = loader.model().consent
    assert (rule.youth_and_parents_from, rule.youth_alone_from) == (12, 16)
    assert early == model
    with pytest.raises(Refused):
        _consent(app, build, youth, "youth", dt.date(2019, 1, 1))


def test_a_case_about_a_youth_does_not_open_before_their_birth(app, build):
    born = dt.date(2021, 5, 1)  # the region's ruleset is in force from 2020
    youth = build.youth(birth=born)
    before = build.counts()
    with pytest.raises(Invalid) as refused:
        build.case("oza", youth_id=youth, opened_on=born - dt.timedelta(days=1))
    assert (refused.value.code, refused.value.field) == ("before_birth", "opened_on")
    assert refused.value.message == ("de casus opent op 2021-04-30, vóór de geboortedatum van "
                                     "de jongere (2021-05-01)")
    assert build.counts() == before
    assert build.case("oza", youth_id=youth, opened_on=born)  # the day itself may


def test_an_anonymous_case_opened_before_the_birth_may_be_named_afterwards(app, build):
    """Concern about an unborn child: the case is anonymous until the child is born and
    registered, then named (identification)."""
    from deelwijs.services.casus import identification

    born = dt.date(2021, 5, 1)
    case = build.case("oza", participants=("leerplicht",), opened_on=born - dt.timedelta(days=90))
    youth = build.youth(birth=born)
    with app.transaction() as s:
        out = identification.identify_case(unit_of(app, s, by=build.pro("alice")), case, youth,
                                           TODAY)
    assert out is not None
    with app.transaction() as s:
        assert s.get(orm.Case, case).youth_id == youth
