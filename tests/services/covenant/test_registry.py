"""The registry: organisations (KvK/OIN checks, duplicates), school boards' mandates and the
engine's `mandate` fact, accession forms and the engine's `acceded` fact, professionals."""

from __future__ import annotations

import datetime as dt

import pytest
from tests.services.helpers import START, outcomes, unit_of

from deelwijs.services.covenant import registry
from deelwijs.services.errors import Invalid, NotFound, Refused
from deelwijs.storage import orm


def _region(s, w) -> orm.Region:
    return s.get(orm.Region, w.region_id)


def test_an_organisation_with_a_valid_kvk_and_oin_is_registered(app, world):
    with app.transaction() as s:
        org = registry.create_organisation(unit_of(app, s), _region(s, world), "gemeente",
                                           "  Gemeente Voorbeelddorp ", kvk="12345678",
                                           oin="00000001001234567000", domain="wmo")
    with app.transaction() as s:
        view = registry.organisation_view(s, registry.organisation(s, org.id))
    assert view["name"] == "Gemeente Voorbeelddorp"
    assert (view["kvk"], view["oin"], view["domain"]) == ("12345678", "00000001001234567000",
                                                          "wmo")


@pytest.mark.parametrize(("kwargs", "code", "field"), [
    ({"kvk": "1234567"}, "invalid_kvk", "kvk"),
    ({"kvk": "1234567a"}, "invalid_kvk", "kvk"),
    ({"oin": "1234"}, "invalid_oin", "oin"),
    ({"oin": "0000000100123456700X"}, "invalid_oin", "oin"),
    ({"party": "sportclub"}, "unknown_code", "party"),
    ({"domain": "verkeer"}, "unknown_code", "domain"),
    ({"name": "  "}, "missing_field", "name"),
], ids=["a KvK number of seven digits", "a KvK number with a letter", "a short OIN",
        "an OIN with a letter", "an unknown party", "an unknown domain", "a blank name"])
def test_an_organisation_with_bad_registration_data_is_refused_and_nothing_is_written(
        app, build, kwargs, code, field):
    before = build.counts()
    args = {"party": "gemeente", "name": "Gemeente Elders", **kwargs}
    with pytest.raises(Invalid) as refused, app.transaction() as s:
        registry.create_organisation(unit_of(app, s), _region(s, build.w), args.pop("party"),
                                     args.pop("name"), **args)
    assert (refused.value.code, refused.value.field) == (code, field)
    assert refused.value.message  # Dutch, for the form
    assert build.counts() == before


def test_the_same_organisation_twice_in_a_region_is_a_duplicate(app, build):
    before = build.counts()
    with pytest.raises(Invalid) as refused, app.transaction() as s:
        registry.create_organisation(unit_of(app, s), _region(s, build.w), "leerplicht",
                                     "Leerplicht Voorbeeldstad")
    assert refused.value.code == "duplicate"
    assert "bestaat al" in refused.value.message
    assert build.counts() == before
    with app.transaction() as s:  # another region may have an organisation of that name
        u = unit_of(app, s)
        other = registry.create_region(u, "elders", "Andere regio")
        registry.create_organisation(u, other, "leerplicht", "Leerplicht Voorbeeldstad")


def test_managing_the_covenant_is_the_administrators_and_a_professional_writes_nothing(
        app, build):
    before = build.counts()
    with pytest.raises(Refused) as refused, app.transaction() as s:
        registry.create_organisation(unit_of(app, s, by=build.pro("alice")),
                                     _region(s, build.w), "gemeente", "Gemeente Elders")
    assert (refused.value.code, refused.value.field, refused.value.status) == (
        "admin_only", "by", 403)
    assert refused.value.message == "een organisatie aanmaken is voorbehouden aan het beheer"
    with pytest.raises(Refused) as refused, app.transaction() as s:
        registry.revoke_mandate(unit_of(app, s, by=build.pro("alice")), build.w.mandate_id,
                                dt.date(2024, 4, 1))
    assert refused.value.code == "admin_only"
    assert build.counts() == before


def test_a_professional_may_only_get_known_hats(app, build):
    with pytest.raises(Invalid) as refused, app.transaction() as s:
        registry.create_professional(unit_of(app, s),
                                     s.get(orm.Organisation, build.org("jeugdhulp")),
                                     "Frank", "wijkteamer", ["toeleiding", "directeur"])
    assert (refused.value.code, refused.value.field) == ("unknown_code", "hats")


# --- mandates: a school board is a party through its mandate to the SWV ----------------------


def test_a_school_board_is_a_party_while_its_mandate_is_in_force_and_not_after_revocation(
        app, build):
    youth = build.youth()
    case = build.case("oza", participants=("leerplicht", "school"), creator="carol",
                      youth_id=youth)
    before, revoked_on, after = dt.date(2024, 3, 1), dt.date(2024, 4, 1), dt.date(2024, 4, 2)

    def fact(day):
        return build.facts("carol", "school", ["onderwijspositie"], day,
                           case_id=case)[0]["recipient"]["mandate"]

    assert fact(before) is True
    assert outcomes(build.decide("carol", "school", ["onderwijspositie"], before,
                                 case_id=case)) == {"onderwijspositie": ("allow",
                                                                         ["PUBLIC_TASK"])}
    with app.transaction() as s:
        registry.revoke_mandate(unit_of(app, s), build.w.mandate_id, revoked_on)

    assert fact(before) is True  # decisions about days before the revocation stand
    assert fact(revoked_on) is False
    assert fact(after) is False
    decision = build.decide("carol", "school", ["onderwijspositie"], after, case_id=case)
    assert outcomes(decision) == {"onderwijspositie": ("deny", ["NOT_A_PARTY"])}
    assert "geen partij" in decision["explanation"]
    with app.transaction() as s:
        school = registry.organisation(s, build.org("school"))
        assert registry.school_is_party(s, school, after) is False
        view = registry.organisation_view(s, school)
    assert view["mandates"][0]["revoked_on"] == revoked_on.isoformat()


def test_a_mandate_cannot_be_revoked_twice_or_before_it_was_granted(app, build):
    with app.transaction() as s:
        registry.revoke_mandate(unit_of(app, s), build.w.mandate_id, dt.date(2024, 4, 1))
    with pytest.raises(Invalid) as twice, app.transaction() as s:
        registry.revoke_mandate(unit_of(app, s), build.w.mandate_id, dt.date(2024, 5, 1))
    assert twice.value.code == "already_revoked"
    with app.transaction() as s:
        u = unit_of(app, s)
        second = registry.create_organisation(u, _region(s, build.w), "school",
                                              "Stichting Onderwijs Het Baken")
        mandate = registry.grant_mandate(u, second, s.get(orm.Organisation, build.org("swv")),
                                         dt.date(2024, 1, 1), "MACHT-002")
    with pytest.raises(Invalid) as early, app.transaction() as s:
        registry.revoke_mandate(unit_of(app, s), mandate.id, dt.date(2023, 12, 31))
    assert early.value.code == "invalid_date"


def test_the_swv_cannot_sign_for_a_school_board_without_a_written_mandate(app, build):
    with app.transaction() as s:
        school = registry.create_organisation(unit_of(app, s), _region(s, build.w), "school",
                                              "Stichting Onderwijs Het Baken")
    before = build.counts()
    with pytest.raises(Invalid) as refused, app.transaction() as s:
        registry.sign_covenant(unit_of(app, s), s.get(orm.Organisation, build.org("swv")),
                               s.get(orm.RulesetVersion, build.w.version_id), START,
                               on_behalf_of=s.get(orm.Organisation, school.id))
    assert (refused.value.code, refused.value.field) == ("no_mandate", "on_behalf_of")
    assert build.counts() == before
    with pytest.raises(Invalid) as wrong, app.transaction() as s:
        registry.grant_mandate(unit_of(app, s), s.get(orm.Organisation, build.org("gemeente")),
                               s.get(orm.Organisation, build.org("swv")), START, "MACHT-X")
    assert wrong.value.code == "invalid_mandate"


# --- accession forms: a provider is a party of a case once its form is made known ------------


def test_a_professional_records_an_accession_only_in_a_case_of_their_organisation(app, build):
    case = build.case("oza", participants=("jeugdhulp", "leerplicht"))
    before = build.counts()
    with pytest.raises(NotFound) as refused, app.transaction() as s:
        registry.record_accession(unit_of(app, s, by=build.pro("dave")),
                                  s.get(orm.Organisation, build.org("jeugdhulp")),
                                  s.get(orm.Case, case), START, "TOETR-1")
    # a case the professional's organisation is not in: as an unknown one (IDOR, 404)
    assert (refused.value.code, refused.value.field) == ("not_found", "case")
    assert build.counts() == before
    with app.transaction() as s:
        bob = unit_of(app, s, by=build.pro("bob"))
        form = registry.record_accession(bob, s.get(orm.Organisation, build.org("jeugdhulp")),
                                         s.get(orm.Case, case), START, "TOETR-1")
        assert registry.notify_accession(bob, form.id, START).notified_on == START


def test_a_provider_whose_accession_form_is_signed_but_not_made_known_is_not_a_party(
        app, build):
    youth = build.youth()
    case = build.case("oza", participants=("jeugdhulp", "leerplicht"), youth_id=youth)
    form = build.accede("jeugdhulp", case, signed_on=dt.date(2024, 1, 10), notified_on=None)
    day = dt.date(2024, 2, 1)

    facts = build.facts("alice", "jeugdhulp", ["identificatie"], day, case_id=case)
    assert facts[0]["recipient"]["acceded"] is False
    decision = build.decide("alice", "jeugdhulp", ["identificatie"], day, case_id=case)
    assert outcomes(decision) == {"identificatie": ("deny", ["NOT_A_PARTY"])}

    with app.transaction() as s:
        registry.notify_accession(unit_of(app, s), form, dt.date(2024, 2, 15))
    # not yet made known on the day of the disclosure: still no party on that day
    assert outcomes(build.decide("alice", "jeugdhulp", ["identificatie"], day,
                                 case_id=case)) == {"identificatie": ("deny", ["NOT_A_PARTY"])}
    later = dt.date(2024, 3, 1)
    assert build.facts("alice", "jeugdhulp", ["identificatie"], later,
                       case_id=case)[0]["recipient"]["acceded"] is True
    assert outcomes(build.decide("alice", "jeugdhulp", ["identificatie"], later,
                                 case_id=case)) == {"identificatie": ("allow", ["PUBLIC_TASK"])}


def test_an_accession_form_counts_only_for_its_own_case(build):
    youth = build.youth()
    first = build.case("oza", participants=("jeugdhulp",), youth_id=youth)
    second = build.case("oza", participants=("jeugdhulp",), youth_id=youth, title="Tweede")
    build.accede("jeugdhulp", first, signed_on=START, notified_on=START)
    day = dt.date(2024, 3, 1)
    assert outcomes(build.decide("alice", "jeugdhulp", ["identificatie"], day,
                                 case_id=first))["identificatie"][0] == "allow"
    assert outcomes(build.decide("alice", "jeugdhulp", ["identificatie"], day,
                                 case_id=second)) == {"identificatie": ("deny", ["NOT_A_PARTY"])}


def test_a_gp_is_no_party_in_the_voorbeeldregio_even_with_an_accession_form(build):
    youth = build.youth()
    case = build.case("oza", participants=("huisarts",), youth_id=youth)
    build.accede("huisarts", case)
    assert outcomes(build.decide("alice", "huisarts", ["identificatie"], dt.date(2024, 3, 1),
                                 case_id=case)) == {"identificatie": ("deny", ["NOT_A_PARTY"])}


def test_an_accession_form_is_only_for_providers_and_cannot_be_made_known_before_signing(
        app, build):
    case = build.case("oza", participants=("jeugdhulp", "gemeente"), youth_id=build.youth())
    with pytest.raises(Invalid) as wrong_party:
        build.accede("gemeente", case)
    assert wrong_party.value.code == "not_accession_party"
    with pytest.raises(Invalid) as early:
        build.accede("jeugdhulp", case, signed_on=dt.date(2024, 2, 1),
                     notified_on=dt.date(2024, 1, 1))
    assert early.value.code == "invalid_date"
    form = build.accede("jeugdhulp", case, signed_on=dt.date(2024, 2, 1), notified_on=None)
    with pytest.raises(Invalid) as early_notice, app.transaction() as s:
        registry.notify_accession(unit_of(app, s), form, dt.date(2024, 1, 31))
    assert early_notice.value.code == "invalid_date"
    assert build.counts()["accession_form"] == 1
