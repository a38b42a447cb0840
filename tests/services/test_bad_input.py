"""Bad input gives a clear error (a code, a Dutch message, the field) and writes nothing: every
table has as many rows afterwards as before."""

from __future__ import annotations

import datetime as dt

import pytest

from deelwijs.services.casus import cases, consent, disclosures, youths
from deelwijs.services.context import PROFESSIONAL, Actor
from deelwijs.services.covenant import registry
from deelwijs.services.errors import Invalid, NotFound, ServiceError
from deelwijs.storage import orm

from .helpers import TODAY, unit_of, valid_bsn

DAY = dt.date(2024, 3, 1)
UNKNOWN = 987654


def _region(s, b):
    return s.get(orm.Region, b.w.region_id)


def _youth(s, b, **kwargs):
    args = {"name": "Sem de Vries", "birth": dt.date(2014, 6, 15), "today": TODAY,
            "bsn": valid_bsn(1), "guardians": [{"name": "Fatima de Vries", "gezag": True}],
            **kwargs}
    u = unit_of(b.app, s, today=args.pop("today"))
    return youths.create_youth(u, _region(s, b), args.pop("name"), args.pop("birth"), **args)


def _disclose(s, b, **kwargs):
    args = {"professional_id": b.pro("alice"), "to_org_id": b.org("leerplicht"),
            "contents": {"gedrag": "Onrustig"}, "day": DAY, "case_id": b.case_id, **kwargs}
    pro_id = args.pop("professional_id")
    # an unknown professional: an actor whose row is not there (the service reads it)
    by = (Actor(PROFESSIONAL, professional_id=pro_id, organisation_id=b.org("school"),
                region_id=b.w.region_id) if pro_id == UNKNOWN else pro_id)
    return disclosures.record(unit_of(b.app, s, by=by), **args)


def _case(s, b, participants):
    _, ruleset = b.app.active_ruleset(s, b.w.region_id, DAY)
    return cases.open_case(unit_of(b.app, s, by=b.pro("alice")), ruleset, _region(s, b), "Casus",
                           "oza", participants,
                           DAY)


def _consent(s, b, **kwargs):
    youth = youths.get_youth(s, b.youth_id)  # 9 on DAY: the parents with gezag consent
    args = {"role": "parent", "answer": "given", "purposes": ["oza"], "categories": ["gedrag"],
            "given_on": DAY, "today": DAY, "document_ref": "TOEST-1",
            "guardian_id": youth.guardians[0].id, **kwargs}
    u = unit_of(b.app, s, today=args.pop("today"))
    return consent.record(u, youth, args.pop("role"), args.pop("answer"), args.pop("purposes"),
                          args.pop("categories"), args.pop("given_on"), **args)


BAD = {
    "a youth with an invalid BSN":
        (lambda s, b: _youth(s, b, bsn="123456789"), Invalid, "invalid_bsn", "bsn"),
    "a youth born in the future":
        (lambda s, b: _youth(s, b, birth=TODAY + dt.timedelta(days=30)), Invalid,
         "birth_in_future", "birth"),
    "a youth whose parent has an unknown relation":
        (lambda s, b: _youth(s, b, guardians=[{"name": "X", "relation": "buurman",
                                               "gezag": True}]),
         Invalid, "unknown_code", "guardians[0].relation"),
    "a disclosure to an unknown organisation":
        (lambda s, b: _disclose(s, b, to_org_id=UNKNOWN), NotFound, "not_found", "to_org"),
    "a disclosure by an unknown professional":
        (lambda s, b: _disclose(s, b, professional_id=UNKNOWN), NotFound, "not_found",
         "professional"),
    "a disclosure in an unknown case":
        (lambda s, b: _disclose(s, b, case_id=UNKNOWN), NotFound, "not_found", "case"),
    "a disclosure of an unknown data category":
        (lambda s, b: _disclose(s, b, contents={"gedrag": "x", "gezondhied": "y"}), Invalid,
         "unknown_code", "categories"),
    "a disclosure of no data at all":
        (lambda s, b: _disclose(s, b, contents={}), Invalid, "missing_field", "categories"),
    "a disclosure of an unknown kind":
        (lambda s, b: _disclose(s, b, kind="roddel"), Invalid, "unknown_code", "kind"),
    "a case with an unknown organisation":
        (lambda s, b: _case(s, b, [b.org("leerplicht"), UNKNOWN]), NotFound, "not_found",
         "participants[1]"),
    "consent for an unknown recipient":
        (lambda s, b: _consent(s, b, recipient_ids=[UNKNOWN]), NotFound, "not_found",
         "recipient_ids"),
    "consent for an unknown purpose":
        (lambda s, b: _consent(s, b, purposes=["reclame"]), Invalid, "unknown_code",
         "purposes"),
    "written consent without a document":
        (lambda s, b: _consent(s, b, document_ref=None), Invalid, "missing_field",
         "document_ref"),
    "an organisation with an invalid KvK number":
        (lambda s, b: registry.create_organisation(unit_of(b.app, s), _region(s, b), "jeugdhulp",
                                                   "Nieuw", kvk="123"),
         Invalid, "invalid_kvk", "kvk"),
}


@pytest.mark.parametrize(("call", "error", "code", "field"), BAD.values(), ids=BAD.keys())
def test_bad_input_gives_a_clear_error_and_writes_nothing(app, build, call, error, code,
                                                          field):
    build.youth_id = build.youth(bsn=valid_bsn(2), name="Noor Jansen")
    build.case_id = build.case("oza", youth_id=build.youth_id)
    before = build.counts()
    with pytest.raises(ServiceError) as refused, app.transaction() as s:
        call(s, build)
    assert type(refused.value) is error
    assert (refused.value.code, refused.value.field) == (code, field)
    assert refused.value.message and refused.value.message.strip() == refused.value.message
    assert str(refused.value) == f"{field}: {refused.value.message}"
    assert build.counts() == before
