"""Accounts (services/accounts.py): creating them, passwords and lock-out, the second factor,
web sessions, personal access tokens, and the actor an account acts as."""

from __future__ import annotations

import datetime as dt

import pyotp
import pytest
from sqlalchemy import select
from tests.services.conftest import Builder
from tests.services.helpers import unit_of

from deelwijs.services import accounts
from deelwijs.services.context import Actor
from deelwijs.services.errors import Invalid, NotFound, Refused
from deelwijs.storage import orm

PASSWORD = "een-lang-wachtwoord"
NOW = dt.datetime(2026, 3, 2, 9, 0, 0)
POLICY = accounts.Policy(max_failures=3, lock=dt.timedelta(minutes=10),
                         session=dt.timedelta(hours=8), idle=dt.timedelta(minutes=30))


def make(app, **kw) -> int:
    kw.setdefault("display_name", "Iemand")
    kw.setdefault("password", PASSWORD)
    with app.transaction() as s:
        return accounts.create(unit_of(app, s), **kw).id


def events(app, account_id: int) -> list[str]:
    with app.transaction() as s:
        return list(s.scalars(select(orm.AccountEvent.event).where(
            orm.AccountEvent.account_id == account_id).order_by(orm.AccountEvent.id)))


def login(app, username: str, password: str = PASSWORD, now: dt.datetime = NOW):
    with app.transaction() as s:
        return accounts.authenticate(s, username, password, now=now, policy=POLICY).id


# --- creating ---------------------------------------------------------------------------------


def test_each_kind_of_account_is_linked_to_what_it_is_for(app, world):
    b = Builder(app, world)
    youth = b.youth()
    guardian = b.guardians(youth)[0]
    ids = {
        "pro": make(app, username="alice", kind="professional",
                    professional_id=world.pros["alice"]),
        "fg": make(app, username="fg", kind="fg", region_id=world.region_id),
        "admin": make(app, username="beheer", kind="admin", region_id=world.region_id),
        "parent": make(app, username="ouder", kind="parent", guardian_id=guardian),
        "youth": make(app, username="sem", kind="youth", youth_id=youth),
    }
    with app.transaction() as s:
        pro = s.get(orm.Account, ids["pro"])
        assert pro.region_id == world.region_id and pro.professional_id == world.pros["alice"]
        assert pro.password_hash.startswith("$argon2id$")
        actor = accounts.actor_for(s, pro, "toeleiding")
        assert actor == Actor("professional", professional_id=world.pros["alice"],
                              organisation_id=world.orgs["school"], region_id=world.region_id,
                              hat="toeleiding", account_id=pro.id)
        assert accounts.actor_for(s, s.get(orm.Account, ids["fg"])).kind == "fg"
        assert [(a.youth_id, a.guardian_id) for a in accounts.subjects(s, ids["parent"])] == [
            (youth, guardian)]
        assert [(a.youth_id, a.guardian_id) for a in accounts.subjects(s, ids["youth"])] == [
            (youth, None)]
        assert s.get(orm.Account, ids["youth"]).region_id == world.region_id


@pytest.mark.parametrize(("kw", "error", "code", "field"), [
    ({"username": "x", "kind": "fg"}, Invalid, "invalid_username", "username"),
    ({"username": "Bad Name", "kind": "fg"}, Invalid, "invalid_username", "username"),
    ({"username": "ok", "kind": "superuser"}, Invalid, "unknown_code", "kind"),
    ({"username": "ok", "kind": "professional"}, NotFound, "not_found", "professional"),
    ({"username": "ok", "kind": "professional", "professional_id": 999}, NotFound,
     "not_found", "professional"),
    ({"username": "ok", "kind": "parent", "guardian_id": 999}, NotFound, "not_found",
     "guardian"),
    ({"username": "ok", "kind": "youth"}, NotFound, "not_found", "youth"),
    ({"username": "ok", "kind": "fg"}, Invalid, "missing_field", "region"),
    ({"username": "ok", "kind": "fg", "region_id": 999}, NotFound, "not_found", "region"),
    ({"username": "ok", "kind": "fg", "region": None, "password": "kort"}, Invalid,
     "weak_password", "password"),
    ({"username": "ok", "kind": "admin", "display_name": ""}, Invalid, "missing_field",
     "display_name"),
])
def test_bad_input_is_refused_and_nothing_is_written(app, world, kw, error, code, field):
    kw = dict(kw)
    if kw.pop("region", 1) is None:
        kw["region_id"] = world.region_id
    with pytest.raises(error) as caught:
        make(app, **kw)
    assert (caught.value.code, caught.value.field) == (code, field)
    with app.transaction() as s:
        assert s.scalar(select(orm.Account.id)) is None


def test_a_password_equal_to_the_name_and_a_duplicate_name_are_refused(app, world):
    with pytest.raises(Invalid) as caught:
        make(app, username="wachtwoord12345", kind="fg", region_id=world.region_id,
             password="Wachtwoord12345")
    assert caught.value.code == "weak_password"
    make(app, username="fg", kind="fg", region_id=world.region_id)
    with pytest.raises(Invalid) as caught:
        make(app, username="FG", kind="fg", region_id=world.region_id)
    assert (caught.value.code, caught.value.field) == ("duplicate", "username")
    make(app, username="alice", kind="professional", professional_id=world.pros["alice"])
    with pytest.raises(Invalid) as caught:
        make(app, username="alice2", kind="professional", professional_id=world.pros["alice"])
    assert (caught.value.code, caught.value.field) == ("duplicate", "professional")


def test_only_an_administrator_creates_accounts_and_only_in_its_region(app, world):
    with app.transaction() as s:
        with pytest.raises(Refused) as caught:
            accounts.create(unit_of(app, s, by=world.pros["alice"]), username="x1",
                            display_name="X", kind="fg", region_id=world.region_id)
        assert caught.value.code == "admin_only"
    admin = make(app, username="beheer", kind="admin", region_id=world.region_id)
    with app.transaction() as s:
        other = orm.Region(code="elders", name="Elders")
        s.add(other)
        s.flush()
        as_admin = unit_of(app, s)
        as_admin.actor = accounts.actor_for(s, s.get(orm.Account, admin))
        accounts.create(as_admin, username="fg2", display_name="FG", kind="fg",
                        region_id=world.region_id)
        with pytest.raises(Refused) as caught:
            accounts.create(as_admin, username="fg3", display_name="FG", kind="fg",
                            region_id=other.id)
        assert caught.value.code == "other_region"
        with pytest.raises(Invalid) as caught:  # only the operator makes an all-region admin
            accounts.create(as_admin, username="root2", display_name="R", kind="admin")
        assert caught.value.field == "region"


# --- passwords and lock-out -------------------------------------------------------------------


def test_login_is_by_name_in_any_case_and_refuses_alike(app, world):
    account = make(app, username="fg", kind="fg", region_id=world.region_id)
    assert login(app, " FG ") == account
    for name, password in (("fg", "verkeerd-wachtwoord"), ("niemand", PASSWORD)):
        with pytest.raises(accounts.LoginRefused) as caught:
            login(app, name, password)
        assert (caught.value.code, caught.value.message) == ("login_refused",
                                                             accounts.REFUSED)


def test_refusals_in_a_row_lock_the_account_for_a_while(app, world):
    account = make(app, username="fg", kind="fg", region_id=world.region_id)
    for _ in range(POLICY.max_failures):
        with pytest.raises(accounts.LoginRefused):
            login(app, "fg", "verkeerd-wachtwoord")
    with pytest.raises(accounts.LoginRefused) as caught:
        login(app, "fg")
    assert caught.value.code == "account_locked"
    assert login(app, "fg", now=NOW + POLICY.lock + dt.timedelta(seconds=1)) == account
    assert events(app, account)[1:] == ["login_refused", "login_refused", "locked",
                                        "login_refused"]


def test_a_success_resets_the_count(app, world):
    make(app, username="fg", kind="fg", region_id=world.region_id)
    for _ in range(POLICY.max_failures - 1):
        with pytest.raises(accounts.LoginRefused):
            login(app, "fg", "verkeerd-wachtwoord")
    login(app, "fg")
    with pytest.raises(accounts.LoginRefused) as caught:
        login(app, "fg", "verkeerd-wachtwoord")
    assert caught.value.code == "login_refused"  # one refusal, not a lock


def test_a_disabled_account_cannot_log_in_and_its_sessions_end(app, world):
    account = make(app, username="fg", kind="fg", region_id=world.region_id)
    with app.transaction() as s:
        token, _ = accounts.open_session(s, s.get(orm.Account, account), now=NOW,
                                         policy=POLICY, second_factor=True)
    with app.transaction() as s:
        accounts.disable(unit_of(app, s), s.get(orm.Account, account), NOW)
    with app.transaction() as s:
        assert accounts.session_of(s, token, now=NOW, policy=POLICY) is None
    with pytest.raises(accounts.LoginRefused) as caught:
        login(app, "fg")
    assert caught.value.code == "login_refused"


def test_an_owner_changes_a_password_with_the_current_one(app, world):
    account = make(app, username="fg", kind="fg", region_id=world.region_id)
    with app.transaction() as s:
        row = s.get(orm.Account, account)
        me = unit_of(app, s)
        me.actor = accounts.actor_for(s, row)
        with pytest.raises(Invalid) as caught:
            accounts.set_password(me, row, "nog-een-lang-wachtwoord", current="fout")
        assert caught.value.code == "wrong_password"
        accounts.set_password(me, row, "nog-een-lang-wachtwoord", current=PASSWORD)
    assert login(app, "fg", "nog-een-lang-wachtwoord") == account


# --- the second factor ------------------------------------------------------------------------


def code_at(secret: str, at: dt.datetime) -> str:
    return pyotp.TOTP(secret).at(at.replace(tzinfo=dt.UTC))


def test_a_second_factor_is_confirmed_then_asked_and_each_code_works_once(app, world):
    account = make(app, username="fg", kind="fg", region_id=world.region_id)
    with app.transaction() as s:
        row = s.get(orm.Account, account)
        assert accounts.must_enrol(row) and not accounts.needs_second_factor(row)
        secret, uri = accounts.totp_begin(app.keys, row)
        assert uri.startswith("otpauth://totp/Deelwijs:fg?secret=")
        assert secret not in row.totp_sealed.decode("latin-1")  # sealed, not in the clear
        with pytest.raises(Invalid) as caught:
            accounts.totp_confirm(s, app.keys, row, secret, "12345x", NOW)
        assert caught.value.code == "wrong_code"
        accounts.totp_confirm(s, app.keys, row, secret, code_at(secret, NOW), NOW)
        assert accounts.needs_second_factor(row) and not accounts.must_enrol(row)
    later = NOW + dt.timedelta(minutes=5)
    with app.transaction() as s:
        row = s.get(orm.Account, account)
        accounts.totp_check(s, app.keys, row, code_at(secret, later), later)
    with app.transaction() as s, pytest.raises(accounts.LoginRefused) as caught:
        accounts.totp_check(s, app.keys, s.get(orm.Account, account), code_at(secret, later),
                            later)
    assert caught.value.code == "wrong_code"
    with app.transaction() as s:  # the next step's code is fine; a code 30 s late too
        accounts.totp_check(s, app.keys, s.get(orm.Account, account),
                            code_at(secret, later + dt.timedelta(seconds=30)),
                            later + dt.timedelta(seconds=50))


def test_wrong_codes_lock_the_account_like_wrong_passwords(app, world):
    account = make(app, username="fg", kind="fg", region_id=world.region_id)
    with app.transaction() as s:
        row = s.get(orm.Account, account)
        secret, _ = accounts.totp_begin(app.keys, row)
        accounts.totp_confirm(s, app.keys, row, secret, code_at(secret, NOW), NOW)
    for _ in range(POLICY.max_failures):
        with app.transaction() as s, pytest.raises(accounts.LoginRefused):
            accounts.totp_check(s, app.keys, s.get(orm.Account, account), "000000", NOW,
                                policy=POLICY)
    with app.transaction() as s:
        assert accounts.locked(s.get(orm.Account, account), NOW)


# --- sessions and tokens ----------------------------------------------------------------------


def test_a_session_ends_when_idle_too_long_expired_or_ended(app, world):
    account = make(app, username="fg", kind="fg", region_id=world.region_id)
    with app.transaction() as s:
        row = s.get(orm.Account, account)
        idle, _ = accounts.open_session(s, row, now=NOW, policy=POLICY, second_factor=True)
        busy, _ = accounts.open_session(s, row, now=NOW, policy=POLICY, second_factor=True)
        ended, ended_row = accounts.open_session(s, row, now=NOW, policy=POLICY,
                                                 second_factor=True)
        accounts.end_session(s, ended_row, NOW)
    with app.transaction() as s:
        assert accounts.session_of(s, "onzin", now=NOW, policy=POLICY) is None
        assert accounts.session_of(s, ended, now=NOW, policy=POLICY) is None
        step = NOW
        while step < NOW + POLICY.session - dt.timedelta(minutes=20):
            step += dt.timedelta(minutes=20)
            assert accounts.session_of(s, busy, now=step, policy=POLICY) is not None
        assert accounts.session_of(s, busy, now=NOW + POLICY.session, policy=POLICY) is None
        assert accounts.session_of(s, idle, now=NOW + POLICY.idle, policy=POLICY) is None
    with app.transaction() as s:  # only the digest is stored
        ids = set(s.scalars(select(orm.WebSession.id)))
        assert idle not in ids and accounts.digest(idle) in ids


def test_a_token_works_until_revoked_or_expired(app, world):
    account = make(app, username="carol", kind="professional",
                   professional_id=world.pros["carol"])
    with app.transaction() as s:
        u = unit_of(app, s)
        row = s.get(orm.Account, account)
        with pytest.raises(Invalid) as caught:
            accounts.new_token(u, row, "")
        assert caught.value.field == "name"
        with pytest.raises(Invalid) as caught:
            accounts.new_token(u, row, "oud", expires_on=u.today)
        assert caught.value.field == "expires"
        token, _ = accounts.new_token(u, row, "zaaksysteem")
        short, short_row = accounts.new_token(u, row, "kort",
                                              expires_on=u.today + dt.timedelta(days=1))
    with app.transaction() as s:
        assert accounts.account_of_token(s, token, now=NOW, today=NOW.date()).id == account
        assert accounts.account_of_token(s, short, now=NOW,
                                         today=short_row.expires_on) is None
        assert accounts.account_of_token(s, "dw_onzin", now=NOW, today=NOW.date()) is None
        assert accounts.account_of_token(s, token[3:], now=NOW, today=NOW.date()) is None
        token_id = s.scalar(select(orm.AccessToken.id).where(
            orm.AccessToken.name == "zaaksysteem"))
        accounts.revoke_token(unit_of(app, s), token_id)
    with app.transaction() as s:
        assert accounts.account_of_token(s, token, now=NOW, today=NOW.date()) is None
        with pytest.raises(NotFound):
            accounts.revoke_token(unit_of(app, s), 999)


def test_hats_are_those_of_the_professional_and_a_switch_is_recorded(app, world):
    account = make(app, username="bob", kind="professional", professional_id=world.pros["bob"])
    with app.transaction() as s:
        row = s.get(orm.Account, account)
        _, session_row = accounts.open_session(s, row, now=NOW, policy=POLICY,
                                               second_factor=True)
        assert accounts.hats_of(s, row) == ["toeleiding", "hulpverlening"]
        accounts.switch_hat(s, session_row, row, "hulpverlening", NOW)
        with pytest.raises(Invalid) as caught:
            accounts.switch_hat(s, session_row, row, "coordinatie", NOW)
        assert caught.value.code == "hat_not_allowed"
        assert session_row.hat == "hulpverlening"
    assert events(app, account)[-1] == "hat"
