"""An administrator acting for a professional (the CLI's `--by` without a token or with an
administrator's token, services/accounts.acting) is recorded with both identities: every
processing-log entry written inside `audit.acting` names the professional as `gebruiker` and
the administrator as `uitgevoerdDoor` ("beheer" for the installation's operator,
"account:<id>" for an administrator's account), in format 2 as in format 1; the data
subject's view withholds both; an entry written outside it, or by a professional acting for
themselves, has no such key; and the account event `act_for` names the administrator, the
professional and the command."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from tests.services.helpers import unit_of

from deelwijs.domain import log_format
from deelwijs.services import accounts
from deelwijs.services.casus import cases
from deelwijs.services.context import Actor
from deelwijs.services.errors import NotFound, Refused
from deelwijs.services.log import audit
from deelwijs.storage import orm

DAY = dt.date(2024, 3, 1)


def newest_entry(app) -> orm.LogEntry:
    with app.transaction() as s:
        return s.scalars(select(orm.LogEntry).order_by(orm.LogEntry.id.desc())).first()


def act_for_events(app) -> list[tuple[int | None, dict]]:
    with app.transaction() as s:
        return [(e.account_id, e.detail) for e in s.scalars(
            select(orm.AccountEvent).where(orm.AccountEvent.event == "act_for")
            .order_by(orm.AccountEvent.id))]


@pytest.fixture
def case_id(build):
    youth = build.youth()
    return build.case("oza", participants=("school", "jeugdhulp", "swv"), youth_id=youth)


def read_as(app, case_id: int, account: orm.Account | None, by: int | None,
            command: str = "deelwijs case show") -> Actor:
    """Read the case as the CLI does: the actor of `acting`, inside `audit.acting`."""
    with app.transaction() as s:
        actor = accounts.acting(s, account and s.get(orm.Account, account.id), by,
                                command=command)
        with audit.acting(actor):
            cases.read_case(unit_of(app, s, by=actor), case_id)
    return actor


def make_account(app, **kw) -> orm.Account:
    with app.transaction() as s:
        return accounts.create(unit_of(app, s), **kw)


def test_the_operator_acting_for_a_professional_is_recorded_with_both_identities(
        app, build, case_id):
    alice = build.pro("alice")
    actor = read_as(app, case_id, None, alice)
    assert (actor.kind, actor.professional_id, actor.acted_by, actor.account_id) == (
        "professional", alice, "beheer", None)
    row = newest_entry(app)
    body = audit.body_of(row)
    with app.transaction() as s:
        pseudonym = s.get(orm.Professional, alice).pseudonym
    assert (body["gebruiker"], body[audit.UITGEVOERD_DOOR]) == (pseudonym, "beheer")
    assert row.body.startswith("[2,"), "stored in format 2, the key among the other keys"
    assert log_format.expand(row.body, row.subject, row.activity_id, row.registered_at) == body
    assert act_for_events(app) == [(None, {"by": "beheer", "professional": alice,
                                           "command": "deelwijs case show"})]
    # the standards' view keeps it; the data subject's view withholds it with `gebruiker`
    assert audit.entry_view(row)[audit.UITGEVOERD_DOOR] == "beheer"
    mine = audit.entry_view(row, for_subject=True)
    assert audit.UITGEVOERD_DOOR not in mine and "gebruiker" not in mine


def test_an_administrators_account_acting_is_named_by_its_id_never_its_name(
        app, build, world, case_id):
    alice = build.pro("alice")
    admin = make_account(app, username="beheerder.west", display_name="B. Heer",
                         kind="admin", region_id=world.region_id)
    actor = read_as(app, case_id, admin, alice)
    assert (actor.acted_by, actor.account_id) == ("beheerder.west", admin.id)
    row = newest_entry(app)
    assert audit.body_of(row)[audit.UITGEVOERD_DOOR] == f"account:{admin.id}"
    assert "beheerder.west" not in row.body
    assert act_for_events(app) == [(admin.id, {"by": f"account:{admin.id}",
                                               "professional": alice,
                                               "command": "deelwijs case show"})]


def test_in_format_1_the_key_is_in_the_canonical_body(app, world):
    with app.transaction() as s:
        pro = s.get(orm.Professional, world.pros["alice"])
        actor = Actor.of(pro, world.region_id, acted_by="beheer")
        with audit.acting(actor):
            full = audit.prepare(app.keys, region_id=world.region_id, actie="read",
                                 activity="voorbeeldregio/oza", activity_version="1@x",
                                 professional=pro, compact=False)
        plain = audit.prepare(app.keys, region_id=world.region_id, actie="read",
                              activity="voorbeeldregio/oza", activity_version="1@x",
                              professional=pro, compact=False)
    assert '"uitgevoerdDoor":"beheer"' in full.body
    assert "uitgevoerdDoor" not in plain.body, "outside acting the key is gone again"


def test_a_professional_acting_for_themselves_writes_no_such_key_and_no_event(
        app, build, case_id):
    alice = build.pro("alice")
    account = make_account(app, username="alice", display_name="Alice Bakker",
                           kind="professional", professional_id=alice)
    for by in (None, alice):
        actor = read_as(app, case_id, account, by)
        assert (actor.professional_id, actor.acted_by, actor.account_id) == (
            alice, None, account.id)
        assert audit.UITGEVOERD_DOOR not in audit.body_of(newest_entry(app))
    assert act_for_events(app) == []


def test_who_may_not_act_for_whom(app, build, world):
    alice, bob = build.pro("alice"), build.pro("bob")
    pro = make_account(app, username="alice", display_name="Alice Bakker",
                       kind="professional", professional_id=alice)
    fg = make_account(app, username="fg.west", display_name="F. Gee", kind="fg",
                      region_id=world.region_id)
    with app.transaction() as s:
        u = unit_of(app, s)
        other = accounts.create(u, username="beheer.oost", display_name="B. Oost",
                                kind="admin", region_id=_other_region(u).id)
    for account, by, error, code in ((pro, bob, Refused, "by_mismatch"),
                                     (fg, alice, Refused, "by_mismatch"),
                                     (other, alice, NotFound, "not_found"),
                                     (None, 999_999, NotFound, "not_found")):
        with pytest.raises(error) as exc, app.transaction() as s:
            accounts.acting(s, account and s.get(orm.Account, account.id), by, field="by")
        assert (exc.value.code, exc.value.field) == (code, "by"), exc.value
    assert act_for_events(app) == []


def _other_region(u):
    from deelwijs.services.covenant import registry

    return registry.create_region(u, "oost", "Regio Oost")
