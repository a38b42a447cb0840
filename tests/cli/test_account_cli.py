"""`deelwijs account` and the command line as an account (issue 13, "The CLI is no back door"),
as a user runs the real console script, on SQLite or (with DEELWIJS_TEST_DATABASE_URL) on a
PostgreSQL database of this module's own.

- accounts of every kind are made, shown, listed, given a password (from a file or stdin,
  never as an argument), disabled, unlocked and linked; bad input for every option is refused
  with exit 2 and its field, and writes nothing;
- personal access tokens are made (shown once, or written 0600 with --out), listed without the
  token, and revoked; an unknown, revoked, expired or disabled account's token is refused on
  the variable's name and does nothing;
- with a professional's token the command line acts as that professional: a case of its own
  organisation is readable, another organisation's is not, and `--by` can only name itself
  (`by_mismatch`); commands that work on the installation itself are the operator's;
- the operator (no token) or an administrator's token with `--by` acts for the professional,
  recorded with both identities: the account event `act_for` and the log entry's body.

Commands that do not depend on each other run side by side (`together`), each its own process
and transaction.
"""

from __future__ import annotations

import datetime as dt
import os
import stat
import subprocess
from concurrent.futures import ThreadPoolExecutor

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import func, select, update
from tests.cli.cli_checks import ok, refused
from tests.fixtures.cli import clean_env, run_script
from tests.fixtures.postgres import fresh_database, server_url, unique_name
from tests.services.helpers import unit_of

from deelwijs.services.log import audit
from deelwijs.settings import Settings
from deelwijs.storage import db, orm

START = dt.date(2025, 1, 1)
PASSWORD = "een lang genoeg wachtwoord"


def together(run, *commands) -> list[subprocess.CompletedProcess]:
    with ThreadPoolExecutor(max_workers=3) as pool:
        return list(pool.map(lambda args: run(*args), commands))


def _world(url: str, key: bytes) -> dict:
    """Region `west` (voorbeeldregio) with a school, a second school, youth care and an SWV;
    Alice of the school, Bob of youth care, Carla of the other school; a youth with two
    parents and a second youth with one; a case of the school and youth care about the
    youth, and one of the other school alone; region `oost` with a professional."""
    from deelwijs.services.app import open_app
    from deelwijs.services.casus import cases, youths
    from deelwijs.services.covenant import registry

    app = open_app(Settings(url, key), migrate=True)
    ids: dict = {}
    try:
        with app.transaction() as s:
            u = unit_of(app, s)
            west = registry.create_region(u, "west", "Regio West")
            version = registry.activate_ruleset(u, west, "voorbeeldregio", START)
            orgs = {k: registry.create_organisation(u, west, party, name) for k, party, name in (
                ("school", "school", "Stichting De Linde"),
                ("school2", "school", "Stichting Het Baken"),
                ("jeugdhulp", "jeugdhulp", "Wijkteam Centrum"), ("swv", "swv", "SWV West"))}
            registry.sign_covenant(u, orgs["swv"], version, START)
            for school in ("school", "school2"):
                registry.grant_mandate(u, orgs[school], orgs["swv"], START, f"M-{school}")
            pros = {k: registry.create_professional(u, orgs[org], name, "medewerker")
                    for k, org, name in (("alice", "school", "Alice Bakker"),
                                         ("bob", "jeugdhulp", "Bob Jansen"),
                                         ("carla", "school2", "Carla de Boer"))}
            ids.update({k: p.id for k, p in pros.items()})
            today = dt.date.today()
            youth = youths.create_youth(unit_of(app, s, today=today), west, "Sem de Vries",
                                        dt.date(2015, 3, 1), guardians=[
                                            {"name": "Fatima de Vries", "relation": "moeder",
                                             "gezag": True},
                                            {"name": "Daan de Vries", "relation": "vader",
                                             "gezag": True}])
            sister = youths.create_youth(unit_of(app, s, today=today), west, "Lot de Vries",
                                         dt.date(2017, 5, 1), guardians=[
                                             {"name": "Fatima de Vries", "relation": "moeder",
                                              "gezag": True}])
            ids["youth"], ids["sister"] = youth.id, sister.id
            ids["guardians"] = [g.id for g in youth.guardians]
            ids["sister_guardian"] = sister.guardians[0].id
            ruleset = app.active_ruleset(s, west.id)[1]
            ids["case"] = cases.open_case(unit_of(app, s, by=pros["alice"]), ruleset, west,
                                          "Zorgen", "oza", [orgs["jeugdhulp"].id],
                                          dt.date(2025, 9, 2), youth=youth).id
            ids["other_case"] = cases.open_case(unit_of(app, s, by=pros["carla"]), ruleset,
                                                west, "Andere zorgen", "oza", [],
                                                dt.date(2025, 9, 2), youth=sister).id
            oost = registry.create_region(u, "oost", "Regio Oost")
            swv = registry.create_organisation(u, oost, "swv", "SWV Oost")
            ids["olga"] = registry.create_professional(u, swv, "Olga Oost", "consulent").id
    finally:
        app.engine.dispose()
    return ids


@pytest.fixture(scope="module")
def store(deelwijs_script, tmp_path_factory):
    """The world above: on SQLite in var/ with var/master.key; on PostgreSQL in a database
    of its own with the key in a file outside var/. Yields the environment and the ids."""
    folder = tmp_path_factory.mktemp("accounts")
    var = folder / "var"
    var.mkdir(mode=0o700)
    key = Fernet.generate_key()

    def build(url: str, extra: dict):
        ids = _world(url, key)
        env = clean_env(DEELWIJS_VAR=str(var), PYTHONIOENCODING="utf-8", **extra)
        return {"folder": folder, "url": url, "env": env, "script": deelwijs_script, **ids}

    if server_url():
        key_file = folder / "master.key"
        key_file.write_bytes(key)
        with fresh_database(unique_name("deelwijs_accounts")) as url:
            yield build(url, {"DEELWIJS_DATABASE_URL": url,
                              "DEELWIJS_MASTER_KEY_FILE": str(key_file)})
    else:
        (var / "master.key").write_bytes(key)
        yield build(f"sqlite:///{var / 'deelwijs.sqlite3'}", {})


@pytest.fixture
def run(store):
    """`run(*args, stdin=..., env=...)`: the console script with the store's environment
    (plus `env`; a value None removes a variable)."""
    def run_(*args, stdin: str = "", env: dict | None = None) -> subprocess.CompletedProcess:
        merged = {**store["env"], **(env or {})}
        merged = {k: v for k, v in merged.items() if v is not None}
        return run_script(store["script"], *args, stdin=stdin, env=merged,
                          cwd=store["folder"])

    return run_


def as_token(token: str) -> dict:
    return {"DEELWIJS_TOKEN": token}


class Db:
    """Straight reads (and one write) on the store's database."""

    def __init__(self, url: str):
        self.url = url

    def __enter__(self):
        self.engine = db.make_engine(self.url)
        return self

    def __exit__(self, *exc):
        self.engine.dispose()

    def count(self, table) -> int:
        with self.engine.connect() as conn:
            return conn.scalar(select(func.count()).select_from(table))

    def events(self, name: str) -> list[tuple[int | None, dict]]:
        with self.engine.connect() as conn:
            return [(r.account_id, r.detail) for r in conn.execute(
                select(orm.AccountEvent.account_id, orm.AccountEvent.detail)
                .where(orm.AccountEvent.event == name).order_by(orm.AccountEvent.id))]

    def newest_body(self) -> dict:
        with self.engine.connect() as conn:
            row = conn.execute(select(orm.LogEntry).order_by(orm.LogEntry.id.desc())
                               .limit(1)).first()
        return audit.body_of(row)

    def pseudonym(self, professional_id: int) -> str:
        with self.engine.connect() as conn:
            return conn.scalar(select(orm.Professional.pseudonym).where(
                orm.Professional.id == professional_id))

    def execute(self, statement) -> None:
        with self.engine.begin() as conn:
            conn.execute(statement)


@pytest.fixture(scope="module")
def database(store):
    with Db(store["url"]) as d:
        yield d


def _new_token(run, account: int, name: str = "laptop", env: dict | None = None) -> dict:
    made = run("account", "token", "new", account, "--name", name, env=env)
    out = ok(made)
    assert made.stderr.startswith("Bewaar dit token nu"), made.stderr
    return out


# --- accounts of every kind ------------------------------------------------------------------


def test_accounts_of_every_kind_are_made_shown_and_listed(run, store, database, tmp_path):
    secret = tmp_path / "wachtwoord"
    secret.write_text(PASSWORD + "\n")
    pro, fg, admin, everywhere, parent, youth = map(ok, together(
        run,
        ("account", "create", "carla", "--name", "Carla de Boer", "--kind", "professional",
         "--professional", store["carla"], "--password-file", secret),
        ("account", "create", "fg.west", "--name", "F. Gee", "--kind", "fg",
         "--region", "west", "--email", "fg@west.example"),
        ("account", "create", "beheer.west", "--name", "B. Heer", "--kind", "admin",
         "--region", "west"),
        ("account", "create", "beheer", "--name", "Beheer", "--kind", "admin"),
        ("account", "create", "fatima", "--name", "Fatima de Vries", "--kind", "parent",
         "--guardian", store["guardians"][0]),
        ("account", "create", "sem", "--name", "Sem de Vries", "--kind", "youth",
         "--youth", store["youth"])))
    assert (pro["kind"], pro["professional_id"], pro["region_id"]) == (
        "professional", store["carla"], fg["region_id"])
    assert (fg["kind"], admin["kind"], admin["region_id"], everywhere["region_id"]) == (
        "fg", "admin", fg["region_id"], None)
    assert parent["subjects"] == [{"youth": store["youth"], "guardian": store["guardians"][0]}]
    assert youth["subjects"] == [{"youth": store["youth"], "guardian": None}]
    # a password from stdin; a second child for the parent; a lock lifted; disabled
    stdin = run("account", "password", fg["id"], "--password-stdin", stdin=PASSWORD + "\n")
    linked = run("account", "link", parent["id"], "--guardian", store["sister_guardian"])
    assert ok(stdin)["id"] == fg["id"]
    assert ok(linked)["subjects"] == [
        {"youth": store["youth"], "guardian": store["guardians"][0]},
        {"youth": store["sister"], "guardian": store["sister_guardian"]}]
    database.execute(update(orm.Account).where(orm.Account.id == youth["id"]).values(
        locked_until=dt.datetime(2999, 1, 1), failed_logins=3))
    assert ok(run("account", "show", youth["id"]))["locked"] is True
    unlocked, disabled = map(ok, together(run, ("account", "unlock", youth["id"]),
                                          ("account", "disable", everywhere["id"])))
    assert (unlocked["locked"], disabled["disabled"]) == (False, True)
    assert [e[0] for e in database.events("password_set")] == [fg["id"]]
    listed, west, text = together(run, ("account", "list", "--json"),
                                  ("account", "list", "--region", "west", "--json"),
                                  ("account", "list"))
    assert {a["username"] for a in ok(listed)} >= {
        "carla", "fg.west", "beheer.west", "beheer", "fatima", "sem"}
    assert "beheer" not in {a["username"] for a in ok(west)}
    assert "(uitgeschakeld)" in text.stdout and text.returncode == 0
    # the administrator of west sees west's accounts only, and makes none elsewhere
    token = _new_token(run, admin["id"])["token"]
    mine, elsewhere, other = (run(*c, env=as_token(token)) for c in (
        ("account", "list", "--json"), ("account", "list", "--region", "oost"),
        ("account", "show", everywhere["id"])))
    assert "beheer" not in {a["username"] for a in ok(mine)}
    refused(elsewhere, "region", "andere regio")
    refused(other, "account", "onbekend account")


def test_bad_input_for_every_option_is_refused_with_its_field_and_writes_nothing(
        run, store, database, tmp_path):
    two_lines = tmp_path / "twee"
    two_lines.write_text("eerste regel\ntweede regel\n")
    weak = tmp_path / "zwak"
    weak.write_text("kort\n")
    create = ("account", "create")
    before = database.count(orm.Account)
    cases = [
        (("x", "--name", "X", "--kind", "fg", "--region", "west"), "username", "gebruikersnaam"),
        (("Ongeldig Naam", "--name", "X", "--kind", "fg", "--region", "west"), "username", ""),
        (("nieuw1", "--name", " ", "--kind", "fg", "--region", "west"), "display_name", "naam"),
        (("nieuw2", "--name", "X", "--kind", "baas"), "kind", "onbekende soort account"),
        (("nieuw3", "--name", "X", "--kind", "professional"), "--professional",
         "hoort bij een professional"),
        (("nieuw4", "--name", "X", "--kind", "professional", "--professional", 999_999),
         "professional", "onbekende professional"),
        (("nieuw5", "--name", "X", "--kind", "fg", "--professional", store["bob"]),
         "--professional", "hoort niet bij een account van soort fg"),
        (("nieuw6", "--name", "X", "--kind", "parent"), "--guardian", "ouder"),
        (("nieuw7", "--name", "X", "--kind", "parent", "--guardian", 999_999), "guardian",
         "onbekende ouder"),
        (("nieuw8", "--name", "X", "--kind", "youth", "--youth", 999_999), "youth",
         "onbekende jongere"),
        (("nieuw9", "--name", "X", "--kind", "youth", "--region", "west"), "--region",
         "hoort niet bij"),
        (("nieuw10", "--name", "X", "--kind", "fg"), "region", "noem de regio"),
        (("nieuw11", "--name", "X", "--kind", "fg", "--region", "noord"), "region",
         "onbekende regio"),
        (("nieuw12", "--name", "X", "--kind", "fg", "--region", "west", "--password-file",
          weak), "password", "minstens 12"),
        (("nieuw13", "--name", "X", "--kind", "fg", "--region", "west", "--password-file",
          two_lines), "--password-file", "één regel"),
        (("nieuw14", "--name", "X", "--kind", "fg", "--region", "west", "--password-file",
          tmp_path / "bestaat-niet"), "--password-file", "kan"),
        (("nieuw15", "--name", "X", "--kind", "fg", "--region", "west", "--password-file",
          weak, "--password-stdin"), "--password-stdin", "niet allebei"),
        (("nieuw16", "--name", "X", "--kind", "professional", "--professional", "abc"),
         "--professional", "geen geldig id"),
    ]
    results = together(run, *((*create, *args) for args, _, _ in cases))
    for (_, field, words), result in zip(cases, results, strict=True):
        refused(result, field, *([words] if words else []))
    taken = ok(run(*create, "dubbel", "--name", "X", "--kind", "fg", "--region", "west"))
    password = tmp_path / "goed"
    password.write_text(PASSWORD)
    more = [
        ((*create, "dubbel", "--name", "Y", "--kind", "fg", "--region", "west"), "username",
         "bestaat al"),
        (("account", "show", 999_999), "account", "onbekend account"),
        (("account", "show", "abc"), "account_id", "geen geldig id"),
        (("account", "password", taken["id"]), "--password-file", "noem --password-file"),
        (("account", "password", taken["id"], "--password-file", weak), "password",
         "minstens 12"),
        (("account", "password", 999_999, "--password-file", password), "account",
         "onbekend account"),
        (("account", "disable", 999_999), "account", "onbekend account"),
        (("account", "unlock", 999_999), "account", "onbekend account"),
        (("account", "link", taken["id"], "--guardian", store["guardians"][1]), "account",
         "alleen een ouderaccount"),
        (("account", "token", "new", taken["id"], "--name", " "), "name", "naam"),
        (("account", "token", "new", taken["id"], "--name", "x", "--expires", "morgen"),
         "--expires", "geen datum"),
        (("account", "token", "new", taken["id"], "--name", "x", "--expires",
          dt.date.today().isoformat()), "expires", "na vandaag"),
        (("account", "token", "new", taken["id"], "--name", "x", "--out", password),
         "--out", "bestaat al"),
        (("account", "token", "new", 999_999, "--name", "x"), "account", "onbekend account"),
        (("account", "token", "list", 999_999), "account", "onbekend account"),
        (("account", "token", "revoke", 999_999), "token", "onbekend token"),
    ]
    results = together(run, *(args for args, _, _ in more))
    for (_, field, words), result in zip(more, results, strict=True):
        refused(result, field, words)
    assert database.count(orm.Account) == before + 1
    assert ok(run("account", "token", "list", taken["id"])) == []
    assert password.read_text() == PASSWORD, "--out never writes over a file without --force"
    assert taken["id"] not in {e[0] for e in database.events("password_set")}


# --- tokens --------------------------------------------------------------------------------


def test_tokens_are_made_listed_and_revoked_and_a_dead_token_does_nothing(
        run, store, database, tmp_path):
    account = ok(run("account", "create", "bob", "--name", "Bob Jansen", "--kind",
                     "professional", "--professional", store["bob"]))["id"]
    shown = _new_token(run, account, "api")
    assert shown["token"].startswith("dw_") and shown["token"].startswith(shown["prefix"])
    target = tmp_path / "token"
    written = ok(run("account", "token", "new", account, "--name", "laptop", "--out", target,
                     "--expires", (dt.date.today() + dt.timedelta(days=30)).isoformat()))
    assert "token" not in written and written["file"] == str(target)
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    from_file = target.read_text().strip()
    assert from_file.startswith(written["prefix"]) and from_file != shown["token"]
    listed = ok(run("account", "token", "list", account))
    assert [(t["name"], t["prefix"], t["revoked_at"]) for t in listed] == [
        ("api", shown["prefix"], None), ("laptop", written["prefix"], None)]
    assert shown["token"] not in str(listed) and from_file not in str(listed)
    # both tokens act as Bob; the file through DEELWIJS_TOKEN_FILE
    by_env = run("case", "show", store["case"], env=as_token(shown["token"]))
    by_file = run("case", "show", store["case"], env={"DEELWIJS_TOKEN_FILE": str(target)})
    assert ok(by_env)["id"] == ok(by_file)["id"] == store["case"]
    revoked = ok(run("account", "token", "revoke", shown["id"]))
    assert revoked["revoked_at"] is not None
    # a token of its own may revoke itself (its owner's act)
    own = _new_token(run, account, "eigen")
    assert ok(run("account", "token", "revoke", own["id"], env=as_token(own["token"])))[
        "revoked_at"]
    database.execute(update(orm.AccessToken).where(orm.AccessToken.id == written["id"])
                     .values(expires_on=dt.date.today()))
    entries, events = database.count(orm.LogEntry), database.count(orm.AccountEvent)
    dead = [as_token(shown["token"]), as_token(own["token"]),
            {"DEELWIJS_TOKEN_FILE": str(target)}, as_token("dw_onbekend"),
            as_token("geen-token")]
    results = [run("case", "show", store["case"], env=env) for env in dead]
    for env, result in zip(dead, results, strict=True):
        refused(result, next(iter(env)), "onbekend, ingetrokken of verlopen", "niets gedaan")
    # a disabled account's live token is dead too
    live = _new_token(run, account, "nog een")
    ok(run("account", "disable", account))
    refused(run("youth", "list", "--region", "west", env=as_token(live["token"])),
            "DEELWIJS_TOKEN", "onbekend, ingetrokken of verlopen")
    assert database.count(orm.LogEntry) == entries
    assert database.count(orm.AccountEvent) == events + 2  # `nog een` made, then disabled
    # a token and a token file at once, an empty or missing file: refused before anything
    empty = tmp_path / "leeg"
    empty.write_text("\n")
    both, blank, missing = (run("case", "show", store["case"], env=env) for env in (
        {"DEELWIJS_TOKEN": live["token"], "DEELWIJS_TOKEN_FILE": str(target)},
        {"DEELWIJS_TOKEN_FILE": str(empty)},
        {"DEELWIJS_TOKEN_FILE": str(tmp_path / "weg")}))
    refused(both, "DEELWIJS_TOKEN", "niet allebei")
    refused(blank, "DEELWIJS_TOKEN_FILE", "leeg")
    refused(missing, "DEELWIJS_TOKEN_FILE", "kan")


# --- acting as an account ------------------------------------------------------------------


def test_a_professionals_token_acts_as_that_professional_and_nobody_else(
        run, store, database):
    account = ok(run("account", "create", "alice.a", "--name", "Alice Bakker", "--kind",
                     "professional", "--professional", store["alice"]))
    token = as_token(_new_token(run, account["id"])["token"])
    events = len(database.events("act_for"))
    own, own_by, listed = (run(*args, env=token) for args in (
        ("case", "show", store["case"]),
        ("case", "show", store["case"], "--by", store["alice"]),
        ("case", "list", "--region", "west", "--by", store["alice"])))
    assert ok(own)["id"] == ok(own_by)["id"] == store["case"]
    assert listed.returncode == 0, listed.stderr
    body = database.newest_body()
    assert body["gebruiker"] == database.pseudonym(store["alice"])
    assert audit.UITGEVOERD_DOOR not in body
    entries = database.count(orm.LogEntry)
    other, other_by, mismatch, list_mismatch, admin_cmd, region = (
        run(*args, env=token) for args in (
            ("case", "show", store["other_case"]),
            ("case", "show", store["other_case"], "--by", store["carla"]),
            ("case", "show", store["case"], "--by", store["bob"]),
            ("case", "list", "--region", "west", "--by", store["bob"]),
            ("org", "show", 1),
            ("account", "list")))
    # another organisation's case is unknown to her (need to know: 404, no hint it exists)
    refused(other, "case", f"onbekende casus ({store['other_case']})")
    refused(other_by, "by", "met dit token handelt u als uzelf", f"({store['alice']})")
    refused(mismatch, "by", "met dit token handelt u als uzelf")
    refused(list_mismatch, "by", "met dit token handelt u als uzelf")
    refused(admin_cmd, "DEELWIJS_TOKEN", "alleen voor het beheer van de installatie")
    refused(region, "account", "voorbehouden aan het beheer")
    # --professional of `case identify` is checked the same way
    identify = run("case", "identify", store["case"], "--youth", store["youth"],
                   "--professional", store["bob"], env=token)
    refused(identify, "professional", "met dit token handelt u als uzelf")
    assert database.count(orm.LogEntry) == entries
    assert len(database.events("act_for")) == events


def test_acting_for_a_professional_is_an_administrators_act_recorded_with_both_identities(
        run, store, database):
    alice = store["alice"]
    shown = ok(run("case", "show", store["case"], "--by", alice))  # the operator, no token
    assert shown["id"] == store["case"]
    body = database.newest_body()
    assert (body["gebruiker"], body[audit.UITGEVOERD_DOOR]) == (database.pseudonym(alice),
                                                                "beheer")
    assert database.events("act_for")[-1] == (None, {"by": "beheer", "professional": alice,
                                                     "command": "deelwijs case show"})
    # an administrator's account of the region: its id in the log, its act in the events
    admin = ok(run("account", "create", "beheer.w", "--name", "B. Heer", "--kind", "admin",
                   "--region", "west"))["id"]
    token = as_token(_new_token(run, admin)["token"])
    ok(run("case", "show", store["case"], "--by", alice, env=token))
    assert database.newest_body()[audit.UITGEVOERD_DOOR] == f"account:{admin}"
    assert database.events("act_for")[-1] == (admin, {
        "by": f"account:{admin}", "professional": alice, "command": "deelwijs case show"})
    # without --by an administrator sees no case content; nor may it act outside its region;
    # an FG never acts for anyone
    fg = ok(run("account", "create", "fg.w", "--name", "F. Gee", "--kind", "fg",
                "--region", "west"))["id"]
    fg_token = as_token(_new_token(run, fg)["token"])
    entries, events = database.count(orm.LogEntry), len(database.events("act_for"))
    plain, outside, fg_by = (
        run("case", "show", store["case"], env=token),
        run("case", "show", store["case"], "--by", store["olga"], env=token),
        run("case", "show", store["case"], "--by", alice, env=fg_token))
    refused(plain, "by", "alleen voor professionals van de deelnemende organisaties")
    refused(outside, "by", "onbekende professional")
    refused(fg_by, "by", "namens een professional handelt alleen het beheer")
    assert database.count(orm.LogEntry) == entries
    assert len(database.events("act_for")) == events


def test_the_help_says_who_the_command_line_acts_as(run):
    root = run("--help")
    assert root.returncode == 0
    text = " ".join(root.stdout.split())
    assert "DEELWIJS_TOKEN" in text and "Zonder token handelt deelwijs als het beheer" in text
    by = " ".join(run("case", "show", "--help").stdout.split())
    assert "--by" in by and "beide identiteiten" in by
