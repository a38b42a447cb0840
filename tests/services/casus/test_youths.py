"""Youths and their parents: the BSN is validated (python-stdnum) and never stored in plain
text, only encrypted plus a keyed hash for look-up; only parents with gezag consent."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text
from tests.services.helpers import BIRTH, TODAY, outcomes, unit_of, valid_bsn

from deelwijs.crypto import Keyring
from deelwijs.services.casus import consent, youths
from deelwijs.services.errors import Invalid, NotFound
from deelwijs.storage import orm


def _raw_rows(engine, table: str) -> list[dict]:
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(text(f"SELECT * FROM {table}"))]


def _as_bytes(value) -> bytes:
    if isinstance(value, memoryview):
        return value.tobytes()
    if isinstance(value, bytes):
        return value
    return str(value).encode()


def test_the_bsn_name_and_birth_date_are_nowhere_in_plain_text_in_the_database(app, build):
    bsn = valid_bsn(1)
    youth = build.youth(bsn=bsn, name="Sem Zwaluwstaart")
    row = _raw_rows(app.engine, "youth")[0]
    assert row["id"] == youth
    for column, value in row.items():
        if value is None:
            continue
        assert bsn.encode() not in _as_bytes(value), column
        assert b"Zwaluwstaart" not in _as_bytes(value), column
        assert BIRTH.isoformat().encode() not in _as_bytes(value), column
    assert row["bsn_hash"] != bsn and len(row["bsn_hash"]) == 64
    for table in [t.name for t in orm.Base.metadata.sorted_tables]:
        for r in _raw_rows(app.engine, table):
            for value in r.values():
                if value is not None:
                    assert bsn.encode() not in _as_bytes(value), table
                    assert b"Fatima de Vries" not in _as_bytes(value), table


def test_a_youth_is_found_by_bsn_through_the_keyed_hash(app, build, master_key):
    bsn = valid_bsn(2)
    youth = build.youth(bsn=bsn)
    build.youth(bsn=valid_bsn(3), name="Noor Jansen")
    with app.transaction() as s:
        region = s.get(orm.Region, build.w.region_id)
        found = youths.find_by_bsn(unit_of(app, s), region, f"{bsn[:4]} {bsn[4:6]} {bsn[6:]}")
        assert found.id == youth
        assert found.bsn_hash == Keyring(master_key).bsn_hash(bsn)
        view = youths.youth_view(app.keys, found, TODAY)
        with pytest.raises(NotFound):
            youths.find_by_bsn(unit_of(app, s), region, valid_bsn(4))
    # the hash is keyed: another master key gives another hash, so it cannot be looked up
    # in a table of all BSNs without the key
    assert Keyring(Fernet.generate_key()).bsn_hash(bsn) != found.bsn_hash
    assert view["bsn"] == f"*****{bsn[-4:]}"
    assert view["name"] == "Sem de Vries"
    assert view["age"] == 11
    assert [(g["name"], g["gezag"]) for g in view["guardians"]] == [
        ("Fatima de Vries", True), ("Daan de Vries", True)]


@pytest.mark.parametrize("bsn", ["123456789", "12345678", "9999000000a", "000000000"],
                         ids=["fails the elfproef", "eight digits", "has a letter", "all zeros"])
def test_an_invalid_bsn_is_refused_with_a_clear_error_and_nothing_is_written(build, bsn):
    before = build.counts()
    with pytest.raises(Invalid) as refused:
        build.youth(bsn=bsn)
    assert (refused.value.code, refused.value.field) == ("invalid_bsn", "bsn")
    assert "geen geldig BSN" in refused.value.message
    assert build.counts() == before


def test_a_birth_date_in_the_future_is_refused_and_nothing_is_written(build):
    before = build.counts()
    with pytest.raises(Invalid) as refused:
        build.youth(birth=TODAY + dt.timedelta(days=1), today=TODAY)
    assert (refused.value.code, refused.value.field) == ("birth_in_future", "birth")
    assert "toekomst" in refused.value.message
    assert build.counts() == before


def test_the_same_bsn_twice_in_a_region_is_refused(build):
    build.youth(bsn=valid_bsn(5))
    before = build.counts()
    with pytest.raises(Invalid) as refused:
        build.youth(bsn=valid_bsn(5), name="Iemand Anders")
    assert refused.value.code == "duplicate"
    assert build.counts() == before


def test_a_parent_without_a_statement_about_gezag_is_refused(build):
    with pytest.raises(Invalid) as refused:
        build.youth(guardians=[{"name": "Ilse Dekker", "relation": "moeder"}])
    assert (refused.value.code, refused.value.field) == ("missing_field", "guardians[0].gezag")


def test_a_parent_without_gezag_cannot_consent_and_is_not_needed_for_consent(app, build):
    youth = build.youth(guardians=[
        {"name": "Fatima de Vries", "relation": "moeder", "gezag": True},
        {"name": "Daan de Vries", "relation": "vader", "gezag": False},
    ])
    mother, father = build.guardians(youth)
    before = build.counts()
    with pytest.raises(Invalid) as refused:
        build.consent(youth, "parent", guardian_id=father, given_on=dt.date(2024, 2, 1))
    assert (refused.value.code, refused.value.field) == ("no_gezag", "guardian_id")
    assert "geen gezag" in refused.value.message
    assert build.counts() == before

    other = build.youth(name="Noor Jansen")
    with pytest.raises(Invalid) as wrong:  # a parent of another youth
        build.consent(other, "parent", guardian_id=mother, given_on=dt.date(2024, 2, 1))
    assert wrong.value.code == "unknown_guardian"

    # the one parent with gezag is every parent with gezag: her consent suffices
    case = build.case("oza", youth_id=youth)
    build.consent(youth, "parent", guardian_id=mother, given_on=dt.date(2024, 2, 1))
    assert outcomes(build.decide("alice", "leerplicht", ["gedrag"], dt.date(2024, 3, 1),
                                 case_id=case)) == {"gedrag": ("allow", ["CONSENT"])}
    with app.transaction() as s:
        assert consent.count(s) == 1
