"""An anonymous case is put on a youth's name only when the identifying data may go to every
other participant (the consent that requires), and otherwise nothing changes."""

from __future__ import annotations

import datetime as dt

import pytest
from tests.services.helpers import TODAY, unit_of

from deelwijs.services.casus import identification
from deelwijs.services.errors import Invalid, Refused
from deelwijs.storage import orm


def _identify(app, build, case, youth, who="alice"):
    with app.transaction() as s:
        return identification.identify_case(unit_of(app, s, by=build.pro(who)), case, youth, TODAY)


def _case_row(app, case):
    with app.transaction() as s:
        row = s.get(orm.Case, case)
        return row.youth_id, row.anonymous


def test_a_youth_care_worker_cannot_name_an_anonymous_case_without_the_parents_consent(
        app, build):
    # the wijkteamer's professional secrecy covers even the youth's name
    case = build.case("oza", participants=("leerplicht", "swv"), creator="bob")
    youth = build.youth()
    before = build.counts()
    with pytest.raises(Refused) as refused:
        _identify(app, build, case, youth, who="bob")
    assert refused.value.code == "identification_refused"
    assert "Leerplicht Voorbeeldstad" in refused.value.message
    assert _case_row(app, case) == (None, True)
    assert build.counts() == before


def test_with_written_prior_consent_the_youth_care_worker_puts_the_case_on_the_youths_name(
        app, build):
    case = build.case("oza", participants=("leerplicht", "swv"), creator="bob")
    build.accede("jeugdhulp", case)  # a discloser brings data in only once acceded (1.1)
    youth = build.youth()
    build.parents_consent(youth, purposes=("oza",), categories=("identificatie",),
                          given_on=TODAY - dt.timedelta(days=3))
    decisions = _identify(app, build, case, youth, who="bob")
    assert set(decisions) == {build.org("leerplicht"), build.org("swv")}
    assert all(d["items"][0]["grounds"] == ["CONSENT"] for d in decisions.values())
    assert _case_row(app, case) == (youth, False)


def test_a_provider_without_a_notified_accession_form_keeps_the_case_anonymous(app, build):
    case = build.case("oza", participants=("jeugdhulp",))
    build.accede("jeugdhulp", case, notified_on=None)
    youth = build.youth()
    build.parents_consent(youth, purposes=("oza",), categories=("identificatie",),
                          given_on=TODAY - dt.timedelta(days=3))
    with pytest.raises(Refused):
        _identify(app, build, case, youth)
    assert _case_row(app, case) == (None, True)


def test_a_school_names_an_anonymous_case_to_public_parties_on_its_public_task(app, build):
    # identificatie is outside information: for public bodies the public task carries it
    case = build.case("oza", participants=("leerplicht", "swv"))
    youth = build.youth()
    decisions = _identify(app, build, case, youth)
    assert all(d["items"][0]["grounds"] == ["PUBLIC_TASK"] for d in decisions.values())
    assert _case_row(app, case) == (youth, False)


def test_a_case_already_on_a_name_cannot_be_identified_again(app, build):
    youth = build.youth()
    case = build.case("oza", youth_id=youth)
    with pytest.raises(Invalid) as invalid:
        _identify(app, build, case, youth)
    assert invalid.value.code == "not_anonymous"
