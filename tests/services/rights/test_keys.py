"""Wrapping keys and their rotation (services/keys.py, crypto.Keyring): a backup taken before
a retention run stays readable while the wrapping key it was made under is configured, and
becomes unreadable once every live youth key is re-wrapped under a new key and the old one is
gone; rewrap is idempotent, resumable, skips shredded youths, and a dry run writes nothing;
without wrapping keys everything works as before and says rotation is not possible."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator

import pytest
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import select
from tests.services.helpers import TWO_PARENTS, unit_of

from deelwijs import settings as settings_mod
from deelwijs.crypto import Keyring
from deelwijs.services.app import App, open_app
from deelwijs.services.casus import cases, disclosures, youths
from deelwijs.services.errors import Invalid
from deelwijs.services.log import audit
from deelwijs.services.rights import keys, retention
from deelwijs.services.rights import requests as rights
from deelwijs.settings import SettingsError
from deelwijs.storage import orm

K1, K2, K3 = (Fernet.generate_key() for _ in range(3))
CONTENT = "12 uur ongeoorloofd"


@pytest.fixture
def reopen(settings) -> Iterator:
    """Open the test's database again with these wrapping keys (newest first), as an
    operator does by changing DEELWIJS_WRAPPING_KEYS and restarting."""
    opened: list[App] = []

    def open_with(*wrapping: bytes) -> App:
        app = open_app(dataclasses.replace(settings, wrapping_keys=tuple(wrapping)))
        opened.append(app)
        return app

    yield open_with
    for app in opened:
        app.engine.dispose()


def _youth_with_disclosure(app, build, name: str, closed_on: dt.date | None) -> dict:
    """A youth with a case (closed on `closed_on`, or open) and a disclosure whose content is
    encrypted with the youth's key."""
    youth = build.youth(name=name)
    case = build.case("oza", youth_id=youth, opened_on=dt.date(2023, 9, 1))
    meeting = build.meeting(case, dt.date(2023, 10, 2))
    disclosure = build.disclose("alice", "leerplicht", {"verzuim": CONTENT},
                                dt.date(2023, 10, 2), case_id=case, meeting_id=meeting,
                                kind="minute")
    with app.transaction() as s:
        cases.get_case(s, case).closed_on = closed_on
    return {"youth": youth, "disclosure": disclosure}


def _backup(app) -> dict:
    """What a backup of today holds: every youth's wrapped key, and the encrypted content of
    every disclosure item, by youth."""
    with app.engine.connect() as conn:
        wrapped = dict(conn.execute(select(orm.Youth.id, orm.Youth.key_wrapped)
                                    .order_by(orm.Youth.id)).all())
        content = dict(conn.execute(
            select(orm.Disclosure.youth_id, orm.DisclosureItem.content_enc)
            .join(orm.Disclosure, orm.Disclosure.id == orm.DisclosureItem.disclosure_id)
            .where(orm.DisclosureItem.content_enc.is_not(None))).all())
    return {"wrapped": {k: bytes(v) if v is not None else None for k, v in wrapped.items()},
            "content": {k: bytes(v) for k, v in content.items()}}


def _read_backup(app, backup: dict, youth_id: int) -> str:
    """Read a youth's disclosure content from a backup with this app's keys."""
    key = app.keys.unwrap(backup["wrapped"][youth_id])
    return app.keys.decrypt(key, backup["content"][youth_id])


def _name(app, youth_id: int) -> str:
    with app.transaction() as s:
        return youths.read_youth(unit_of(app, s), youth_id)["name"]


def _status(app) -> dict:
    with app.transaction() as s:
        return keys.status(unit_of(app, s))


def _rewrap(app, **kwargs) -> dict:
    """keys.rewrap as the administrator (it works in transactions of its own)."""
    with app.transaction() as s:
        return keys.rewrap(unit_of(app, s), **kwargs)


def _notice(app, **kwargs) -> str | None:
    with app.transaction() as s:
        return keys.rotation_notice(unit_of(app, s), **kwargs)


def _rotation_entries(app) -> list[dict]:
    with app.engine.connect() as conn:
        rows = conn.execute(select(orm.LogEntry).order_by(orm.LogEntry.seq)).all()
    return [b for b in map(audit.body_of, rows) if b and "sleutelrotatie" in b]


def _wrapped(app) -> dict[int, bytes | None]:
    return _backup(app)["wrapped"]


# --- the acceptance: backups from before the shred become unreadable -----------------------


def test_a_backup_from_before_the_shred_is_unreadable_once_the_old_wrapping_key_is_gone(
        app, build, reopen):
    gone = _youth_with_disclosure(app, build, "Weg Termijn", dt.date(2024, 1, 10))
    kept = _youth_with_disclosure(app, build, "Blijft Bewaard", None)
    before_wrapping_keys = _backup(app)  # under the master key

    # the operator configures a wrapping key and moves every youth key under it
    first = reopen(K1)
    moved = _rewrap(first)
    assert (moved["rewrapped"], moved["already_current"], moved["shredded"]) == (2, 0, 0)
    assert first.keys.wrapped_by(_wrapped(first)[gone["youth"]]) == 0
    backup = _backup(first)

    # the retention run destroys what is past its term
    with first.transaction() as s:
        result = retention.run(unit_of(first, s), dry_run=False)
    assert result["shredded"] == 1 and result["youths"][0]["youth_id"] == gone["youth"]
    assert _wrapped(first)[gone["youth"]] is None
    # ... but the backup still holds the wrapped key and the ciphertext, readable with K1
    assert _read_backup(first, backup, gone["youth"]) == CONTENT

    # rotate: a new key in front, every live key re-wrapped under it
    both = reopen(K2, K1)
    assert _name(both, kept["youth"]) == "Blijft Bewaard"  # K1-wrapped keys still open
    rotated = _rewrap(both)
    assert (rotated["rewrapped"], rotated["shredded"], rotated["unreadable"]) == (1, 1, 0)
    status = _status(both)
    assert [k["youths"] for k in status["wrapping_keys"]] == [1, 0]
    assert status["old_keys_removable"] is True and "kunnen nu uit" in status["message"]

    # the old key is removed from the configuration (and destroyed)
    after = reopen(K2)
    for youth_id in (gone["youth"], kept["youth"]):
        with pytest.raises(InvalidToken):
            after.keys.unwrap(backup["wrapped"][youth_id])
        assert after.keys.wrapped_by(backup["wrapped"][youth_id]) is None
    # the live data still decrypts
    assert _name(after, kept["youth"]) == "Blijft Bewaard"
    with after.transaction() as s:
        item = s.scalars(select(orm.DisclosureItem).where(
            orm.DisclosureItem.disclosure_id == kept["disclosure"])).one()
        assert disclosures.content_of(after, s.get(orm.Youth, kept["youth"]), item) == CONTENT
    status = _status(after)
    assert (status["wrapping_keys"][0]["youths"], status["master_key"], status["unreadable"],
            status["shredded"]) == (1, 0, 0, 1)

    # honest about the limit: a backup from before any wrapping key was configured holds keys
    # wrapped by the master key, which is never destroyed
    assert _read_backup(after, before_wrapping_keys, gone["youth"]) == CONTENT

    # each real rewrap logged one entry for the region, naming no youth
    entries = _rotation_entries(after)
    assert [e["sleutelrotatie"]["opnieuw_verpakt"] for e in entries] == [2, 1]
    assert [e["sleutelrotatie"]["verpakkingssleutel"] for e in entries] == [
        first.keys.fingerprints[0], after.keys.fingerprints[0]]
    assert all(e["actie"] == "rekey" and e["verwerkteObjecten"] == [] and
               e["verwerkingsactiviteitId"].endswith("/registratie") for e in entries)


# --- rewrap: idempotent, resumable, skips shredded youths; a dry run writes nothing --------


def test_rewrap_is_idempotent_resumable_skips_shredded_youths_and_a_dry_run_writes_nothing(
        app, build, reopen):
    ids = [build.youth(name=f"Jongere {n}") for n in range(4)]
    with app.transaction() as s:
        assert rights.shred_youth(s, s.get(orm.Youth, ids[0]), "Vernietigen op verzoek")
    first = reopen(K1)
    untouched = _wrapped(first), len(_rotation_entries(first))

    dry = _rewrap(first, dry_run=True, batch_size=2)
    assert (dry["dry_run"], dry["rewrapped"], dry["live"], dry["shredded"]) == (True, 3, 3, 1)
    assert "Proefronde" in dry["message"]
    assert (_wrapped(first), len(_rotation_entries(first))) == untouched

    ticks = []
    done = _rewrap(first, batch_size=2, progress=lambda d, t: ticks.append((d, t)))
    assert (done["rewrapped"], done["already_current"], done["shredded"]) == (3, 0, 1)
    assert ticks == [(0, 3), (2, 3), (3, 3)]
    wrapped = _wrapped(first)
    assert wrapped[ids[0]] is None  # the shredded youth stays without a key
    assert all(first.keys.is_current(wrapped[i]) for i in ids[1:])
    assert len(_rotation_entries(first)) == 1

    again = _rewrap(first, batch_size=2)
    assert (again["rewrapped"], again["already_current"]) == (0, 3)
    assert _wrapped(first) == wrapped and len(_rotation_entries(first)) == 1

    # interrupted after the first batch: what was done stays, a second run does the rest
    second = reopen(K2, K1)

    def stop(done: int, total: int) -> None:
        if done == 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _rewrap(second, batch_size=1, progress=stop)
    assert [second.keys.wrapped_by(w) for w in _wrapped(second).values() if w] == [0, 1, 1]
    assert _status(second)["to_rewrap"] == 2
    rest = _rewrap(second, batch_size=1)
    assert (rest["rewrapped"], rest["already_current"]) == (2, 1)
    assert _status(second)["to_rewrap"] == 0
    assert [_name(reopen(K2), i) for i in ids[1:]] == ["Jongere 1", "Jongere 2", "Jongere 3"]


def test_a_key_shredded_while_rewrap_runs_is_not_brought_back(app, build, reopen,
                                                             monkeypatch):
    """The write compares before it replaces: a key destroyed (in another transaction)
    between the batch's read and its write stays destroyed, and is counted as changed."""
    youth, other = build.youth(), build.youth(name="Ander Kind")
    first = reopen(K1)
    real = first.keys.rewrap

    def shred_first(wrapped: bytes) -> bytes:
        with app.transaction() as s:
            rights.shred_youth(s, s.get(orm.Youth, youth), "Vernietigen op verzoek")
        monkeypatch.setattr(first.keys, "rewrap", real)
        return real(wrapped)

    monkeypatch.setattr(first.keys, "rewrap", shred_first)
    result = _rewrap(first)
    assert (result["rewrapped"], result["changed"], result["live"]) == (1, 1, 2)
    assert "intussen gewijzigd" in result["message"]
    assert _wrapped(first)[youth] is None
    assert first.keys.is_current(_wrapped(first)[other])


# --- without wrapping keys: unchanged, and rotation is impossible --------------------------


def test_without_wrapping_keys_the_master_key_wraps_and_rotation_is_not_possible(
        app, build, reopen, master_key):
    youth = build.youth(name="Sem de Vries")
    assert app.keys.can_rotate is False and app.keys.fingerprints == ()
    wrapped = _wrapped(app)[youth]
    assert Fernet(master_key).decrypt(wrapped) == app.keys.unwrap(wrapped)  # as before
    assert app.keys.wrapped_by(wrapped) == 0 and app.keys.is_current(wrapped)

    status = _status(app)
    assert (status["rotation_possible"], status["master_key"], status["wrapping_keys"],
            status["to_rewrap"]) == (False, 1, [], 0)
    assert "niet mogelijk" in status["message"]
    assert _notice(app) == keys.NO_ROTATION
    assert "niet mogelijk" in keys.NO_ROTATION
    with pytest.raises(Invalid) as refused:
        _rewrap(app)
    assert refused.value.field == "DEELWIJS_WRAPPING_KEYS"

    # configuring wrapping keys later: the master-wrapped key still opens; new youths go under
    # the newest wrapping key, which the master key alone does not open
    first = reopen(K1)
    assert _name(first, youth) == "Sem de Vries"
    assert first.keys.wrapped_by(wrapped) == 1  # after the one wrapping key: the master key
    assert _notice(first) is None
    assert "keys rewrap" in _notice(first, shredded=1)
    assert _notice(first, shredded=1, dry_run=True) is None
    with first.transaction() as s:
        region = s.get(orm.Region, build.w.region_id)
        new = youths.create_youth(unit_of(first, s), region, "Nieuw Kind", dt.date(2015, 1, 1),
                                  guardians=list(TWO_PARENTS)).id
    assert first.keys.wrapped_by(_wrapped(first)[new]) == 0
    with pytest.raises(InvalidToken):
        app.keys.unwrap(_wrapped(app)[new])


def test_the_log_keys_do_not_depend_on_the_wrapping_keys(master_key):
    plain, wrapped = Keyring(master_key), Keyring(master_key, [K1, K2])
    assert plain.subject(7) == wrapped.subject(7)
    assert plain.entry_mac(3, b"x" * 32) == wrapped.entry_mac(3, b"x" * 32)
    assert plain.bsn_hash("999990019") == wrapped.bsn_hash("999990019")
    assert plain.verify_key.public_bytes_raw() == wrapped.verify_key.public_bytes_raw()


# --- bad settings ----------------------------------------------------------------------------


@pytest.mark.parametrize(("wrapping", "words"), [
    ([b"kapot"], "sleutel 1 van de lijst is geen geldige sleutel"),
    ([K1, b"AAAA"], "sleutel 2 van de lijst is geen geldige sleutel"),
    ([K1, K1], "sleutel 2 staat al eerder in de lijst"),
    (["master"], "sleutel 1 is de hoofdsleutel"),
])
def test_a_malformed_wrapping_key_is_refused_naming_the_variable(master_key, wrapping, words):
    wrapping = [master_key if k == "master" else k for k in wrapping]
    with pytest.raises(SettingsError) as refused:
        Keyring(master_key, wrapping)
    assert str(refused.value).startswith("DEELWIJS_WRAPPING_KEYS: ")
    assert words in str(refused.value)


def test_the_wrapping_keys_are_read_from_the_environment_or_a_file(monkeypatch, tmp_path):
    for name in ("DEELWIJS_WRAPPING_KEYS", "DEELWIJS_WRAPPING_KEYS_FILE"):
        monkeypatch.delenv(name, raising=False)
    assert settings_mod.load().wrapping_keys == ()
    monkeypatch.setenv("DEELWIJS_WRAPPING_KEYS", f" {K2.decode()},\n{K1.decode()} ,")
    assert settings_mod.load().wrapping_keys == (K2, K1)
    listing = tmp_path / "wrapping.keys"
    listing.write_text(f"{K3.decode()}\n{K2.decode()}\n\n")
    monkeypatch.setenv("DEELWIJS_WRAPPING_KEYS_FILE", str(listing))
    assert settings_mod.load().wrapping_keys == (K3, K2)  # the file wins, as for the master key
    monkeypatch.setenv("DEELWIJS_WRAPPING_KEYS_FILE", str(tmp_path / "missing"))
    with pytest.raises(SettingsError) as refused:
        settings_mod.load()
    assert str(refused.value).startswith("DEELWIJS_WRAPPING_KEYS_FILE: kan ")


def test_rewrap_refuses_bad_arguments(app, reopen):
    first = reopen(K1)
    for kwargs, field in (({"dry_run": "ja"}, "dry_run"), ({"batch_size": 0}, "batch_size"),
                          ({"batch_size": True}, "batch_size")):
        with pytest.raises(Invalid) as refused:
            _rewrap(first, **kwargs)
        assert refused.value.field == field
