"""storage.fast runs a hot path's Core statements on the driver (PostgreSQL) or through
SQLAlchemy (SQLite): the rows and the effects are the same either way."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import bindparam, func, select, text, update
from tests.services.helpers import START

from deelwijs.storage import fast, orm

_ORG = orm.Organisation.__table__
_DISCLOSURE = orm.Disclosure.__table__


def test_rows_equal_sqlalchemys_with_in_lists_and_constants(app, world):
    stmt = (select(_ORG.c.id, _ORG.c.party, _ORG.c.name, func.count().over().label("n"))
            .where(_ORG.c.region_id == bindparam("r"),
                   _ORG.c.party.in_(["school", "jeugdhulp", "gemeente"]))
            .order_by(_ORG.c.id))
    with app.transaction() as s:
        conn = s.connection()
        expected = [tuple(r) for r in conn.execute(stmt, {"r": world.region_id})]
        got = fast.execute(conn, stmt, {"r": world.region_id})
        again = fast.execute(conn, stmt, {"r": world.region_id})  # the cached form
    assert expected, "the world has organisations of these parties"
    assert [tuple(r) for r in got] == expected == [tuple(r) for r in again]
    assert got[0].party == expected[0][1]  # by attribute, as SQLAlchemy's rows
    assert got[0]._asdict()["name"] == expected[0][2]


def test_json_parameters_are_sent_as_json(app, world):
    decision = {"outcome": "deny", "items": [], "note": None}
    stmt = text("INSERT INTO disclosure (region_id, from_org_id, to_org_id, professional_id, "
                "purpose, kind, outcome, decision, ruleset_version_id, ruleset_digest, "
                "disclosed_on, created_at) VALUES (:region_id, :org, :org, :pro, 'oza', "
                "'answer', 'deny', :decision, :version, 'x', :day, :at) RETURNING id").bindparams(
        bindparam("decision", type_=_DISCLOSURE.c.decision.type))
    with app.transaction() as s:
        conn = s.connection()
        rows = fast.execute(conn, stmt, {
            "region_id": world.region_id, "org": world.orgs["school"],
            "pro": world.pros["alice"], "decision": decision, "version": world.version_id,
            "day": START,
            "at": dt.datetime(2026, 1, 5, 9, 30)})
        stored = conn.execute(select(_DISCLOSURE.c.decision)
                              .where(_DISCLOSURE.c.id == rows[0][0])).scalar_one()
        s.rollback()
    assert stored == decision


def test_an_in_list_of_the_statement_cannot_be_given(app, postgres_url):
    if postgres_url is None:
        pytest.skip("SQLAlchemy runs the statement itself on SQLite")
    stmt = select(_ORG.c.id).where(_ORG.c.party.in_(["school"]))
    with app.transaction() as s, pytest.raises(ValueError, match="expanding"):
        fast.execute(s.connection(), stmt, {"party_1": ["jgz"]})


def test_a_statement_without_rows_returns_no_rows(app, world):
    stmt = (update(_ORG).where(_ORG.c.id == bindparam("org_id"))
            .values(name=bindparam("new_name")))
    with app.transaction() as s:
        assert fast.execute(s.connection(), stmt, {"org_id": world.orgs["jgz"],
                                                   "new_name": "JGZ Anders"}) == []
        name = s.connection().execute(select(_ORG.c.name).where(
            _ORG.c.id == world.orgs["jgz"])).scalar_one()
    assert name == "JGZ Anders"


def test_a_batch_gives_each_statements_rows_in_order(app, world):
    by_party = (select(_ORG.c.id).where(_ORG.c.party == bindparam("party"))
                .order_by(_ORG.c.id))
    rename = (update(_ORG).where(_ORG.c.id == bindparam("org_id"))
              .values(name=bindparam("new_name")))
    with app.transaction() as s:
        conn = s.connection()
        school, renamed, jgz = fast.execute_all(conn, [
            (by_party, {"party": "school"}),
            (rename, {"org_id": world.orgs["jgz"], "new_name": "JGZ Anders"}),
            (by_party, {"party": "jgz"})])
    assert [r[0] for r in school] == [world.orgs["school"]]
    assert renamed == []
    assert [r[0] for r in jgz] == [world.orgs["jgz"]]
