"""Two database roles on PostgreSQL (`deelwijs db roles`, storage/roles.py).

A fresh database `deelwijs_roles_<random>` is made on the test server for this module, with
two new roles: `deelwijs db roles` (the console script, as the server's superuser) creates
them, then `deelwijs db upgrade` migrates as the owner (DEELWIJS_MIGRATE_DATABASE_URL). The
tests here open the app as the app role (the `database_url` fixture below hands the shared
fixtures the app role's URL), build a region through the services, and show that the app
role can do everything Deelwijs does, but cannot switch off, drop or bypass the triggers,
nor change or remove log entries or consent versions. The database and both roles are
dropped at the end.

Only on PostgreSQL: SQLite has no roles (whoever can write the file can do anything).
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import subprocess
from dataclasses import dataclass

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from tests.fixtures.cli import clean_env, run_script
from tests.fixtures.postgres import TEST_DB_ENV, admin_engine, fresh_database
from tests.services.helpers import TODAY, clean_tables, unit_of, valid_bsn

from deelwijs.services.casus import cases, identification
from deelwijs.services.log import audit
from deelwijs.services.rights import requests as rights
from deelwijs.services.rights import retention
from deelwijs.storage import db, orm, roles

SERVER = os.environ.get(TEST_DB_ENV, "").strip()
# on SQLite: skipped (the bad-input tests at the end run on both)
postgres_only = pytest.mark.skipif(
    not SERVER.startswith("postgresql"),
    reason=f"alleen op PostgreSQL ({TEST_DB_ENV} is niet gezet): SQLite kent geen "
           "databaserollen, en de ingebouwde database heeft ze ook niet nodig")


@dataclass
class RolesDb:
    name: str
    owner: str
    app: str
    admin_url: str  # the server's superuser, on this database
    owner_url: str
    app_url: str
    setup_out: str
    upgrade_out: str


def _url(role: str | None, database: str) -> str:
    url = make_url(SERVER).set(database=database)
    if role is not None:
        url = url.set(username=role, password=None)
    return url.render_as_string(hide_password=False)


def _admin():
    return admin_engine(SERVER)


def _cli(script, tmp, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    """The real `deelwijs` console script with only these DEELWIJS_ variables."""
    return run_script(script, *args, cwd=tmp, env=clean_env(
        DEELWIJS_VAR=str(tmp / "var"), PYTHONIOENCODING="utf-8", **env))


@pytest.fixture(scope="module")
def roles_db(deelwijs_script, tmp_path_factory):
    if not SERVER.startswith("postgresql"):
        pytest.skip(f"alleen op PostgreSQL ({TEST_DB_ENV})")
    suffix = secrets.token_hex(4)
    name, owner, app = (f"deelwijs_roles_{suffix}", f"dw_owner_{suffix}",
                        f"dw_app_{suffix}")
    tmp = tmp_path_factory.mktemp("roles")
    with fresh_database(name, SERVER, roles=(app, owner)):
        password = tmp / "app.pw"
        password.write_text("een geheim wachtwoord\n")
        made = _cli(deelwijs_script, tmp, {"DEELWIJS_DATABASE_URL": _url(None, name)},
                    "db", "roles", "--owner", owner, "--app", app,
                    "--app-password-file", str(password))
        assert made.returncode == 0, made.stderr
        migrated = _cli(deelwijs_script, tmp, {
            "DEELWIJS_DATABASE_URL": _url(app, name),  # the app's: not used to migrate
            "DEELWIJS_MIGRATE_DATABASE_URL": _url(owner, name)}, "db", "upgrade")
        assert migrated.returncode == 0, migrated.stderr
        yield RolesDb(name, owner, app, _url(None, name), _url(owner, name), _url(app, name),
                      made.stdout, migrated.stdout)


@pytest.fixture
def database_url(roles_db) -> str:
    """The shared fixtures (settings, app, world, build) get the app role's URL; the tables
    are emptied by the superuser first."""
    engine = db.make_engine(roles_db.admin_url)
    try:
        clean_tables(engine)
    finally:
        engine.dispose()
    return roles_db.app_url


def _refused(url: str, statement: str) -> str:
    """Run one statement as the role of `url`; return the database's refusal (the test fails
    when it is allowed). Nothing is kept either way."""
    engine = db.make_engine(url)
    try:
        with engine.connect() as conn:
            try:
                conn.execute(text(statement))
            except DBAPIError as exc:
                return str(exc.orig)
            finally:
                conn.rollback()
    finally:
        engine.dispose()
    pytest.fail(f"toegestaan, maar had geweigerd moeten worden: {statement}")


def _allowed(url: str, statement: str) -> None:
    engine = db.make_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(text(statement))
            conn.rollback()
    finally:
        engine.dispose()


def _snapshot(url: str) -> dict:
    """Owners and privileges of everything in the database, and the default privileges."""
    engine = db.make_engine(url)
    try:
        with engine.connect() as conn:
            return {
                "relations": conn.execute(text(
                    "SELECT c.relname, c.relkind, pg_get_userbyid(c.relowner), "
                    "c.relacl::text, (SELECT array_agg(a.attname || '=' || a.attacl::text "
                    "ORDER BY a.attname) FROM pg_attribute a WHERE a.attrelid = c.oid AND "
                    "a.attacl IS NOT NULL AND NOT a.attisdropped) FROM pg_class c "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = 'public' ORDER BY 1")).all(),
                "functions": conn.execute(text(
                    "SELECT p.proname, pg_get_userbyid(p.proowner), p.proacl::text "
                    "FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
                    "WHERE n.nspname = 'public' ORDER BY 1")).all(),
                "defaults": conn.execute(text(
                    "SELECT pg_get_userbyid(defaclrole), defaclobjtype, defaclacl::text "
                    "FROM pg_default_acl ORDER BY 1, 2")).all(),
                "schema": conn.execute(text(
                    "SELECT pg_get_userbyid(nspowner), nspacl::text FROM pg_namespace "
                    "WHERE nspname = 'public'")).all(),
                "database": conn.execute(text(
                    "SELECT pg_get_userbyid(datdba) FROM pg_database "
                    "WHERE datname = current_database()")).all(),
            }
    finally:
        engine.dispose()


def _count(url: str, sql: str, **params) -> int:
    engine = db.make_engine(url)
    try:
        with engine.connect() as conn:
            return conn.scalar(text(sql), params)
    finally:
        engine.dispose()


# --- the setup ------------------------------------------------------------------------------


@pytest.mark.postgres
@postgres_only
def test_db_roles_makes_an_owner_of_everything_and_an_app_role_that_owns_nothing(roles_db):
    r = roles_db
    assert f"rol {r.owner} aangemaakt" in r.setup_out
    assert f"rol {r.app} aangemaakt" in r.setup_out
    assert f"wachtwoord van {r.app} gezet" in r.setup_out
    assert f"deelwijs db upgrade uit als {r.owner}" in r.setup_out  # it had no schema yet
    assert r.upgrade_out.splitlines()[0].startswith("database op schema ")
    assert f"rechten van {r.app} bijgewerkt op" in r.upgrade_out
    snapshot = _snapshot(r.admin_url)
    assert {owner for _, _, owner, _, _ in snapshot["relations"]} == {r.owner}
    assert {owner for _, owner, _ in snapshot["functions"]} == {r.owner}
    assert snapshot["database"] != [(r.app,)]
    attrs = _count(r.admin_url, "SELECT count(*) FROM pg_roles WHERE rolname = :a AND "
                   "(rolsuper OR rolcreaterole OR rolcreatedb OR rolbypassrls OR "
                   "rolreplication)", a=r.app)
    assert attrs == 0
    assert _count(r.admin_url, "SELECT count(*) FROM pg_authid WHERE rolname = :a AND "
                  "rolpassword LIKE 'SCRAM-SHA-256$%'", a=r.app) == 1
    assert not _count(r.admin_url, "SELECT pg_has_role(:a, :o, 'MEMBER')::int", a=r.app,
                      o=r.owner)
    # no TRIGGER, TRUNCATE or REFERENCES on any table, and no DELETE on the evidence
    for privilege in ("TRIGGER", "TRUNCATE", "REFERENCES"):
        assert _count(r.admin_url, "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON "
                      "n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'r' "
                      "AND has_table_privilege(:a, c.oid, :p)", a=r.app, p=privilege) == 0
    for table in ("log_entry", "log_head", "log_checkpoint", "consent_record", "disclosure",
                  "disclosure_item"):
        for privilege in ("DELETE", "TRUNCATE"):
            assert not _count(r.admin_url, "SELECT has_table_privilege(:a, :t, :p)::int",
                              a=r.app, t=table, p=privilege), (table, privilege)
    for table in ("log_checkpoint", "consent_record"):
        assert not _count(r.admin_url, "SELECT has_any_column_privilege(:a, :t, 'UPDATE')"
                          "::int", a=r.app, t=table), table


@pytest.mark.postgres
@postgres_only
def test_db_roles_a_second_time_changes_nothing(roles_db, deelwijs_script, tmp_path):
    r = roles_db
    before = _snapshot(r.admin_url)
    again = _cli(deelwijs_script, tmp_path, {"DEELWIJS_DATABASE_URL": r.admin_url},
                 "db", "roles", "--owner", r.owner, "--app", r.app)
    assert again.returncode == 0, again.stderr
    assert f"rol {r.owner} bestond al" in again.stdout
    assert f"rol {r.app} bestond al" in again.stdout
    assert f"alle tabellen, reeksen, functies en typen waren al van {r.owner}" in again.stdout
    assert "SELECT, INSERT: consent_record, log_checkpoint" in again.stdout
    assert _snapshot(r.admin_url) == before
    # the owner may run it again as well (DEELWIJS_MIGRATE_DATABASE_URL wins)
    by_owner = _cli(deelwijs_script, tmp_path, {"DEELWIJS_DATABASE_URL": r.app_url,
                                                "DEELWIJS_MIGRATE_DATABASE_URL": r.owner_url},
                    "db", "roles", "--owner", r.owner, "--app", r.app)
    assert by_owner.returncode == 0, by_owner.stderr
    assert _snapshot(r.admin_url) == before


# --- what the app role cannot do ----------------------------------------------------------


def _a_logged_region(build) -> int:
    """A youth with parents' consent and a case: log entries and consent versions exist."""
    youth = build.youth(bsn=valid_bsn(1))
    build.parents_consent(youth, given_on=dt.date(2024, 2, 1))
    build.case("oza", youth_id=youth)
    return youth


ATTACKS = {
    # statement: what the database says when it refuses it
    "ALTER TABLE log_entry DISABLE TRIGGER ALL": "must be owner",
    "ALTER TABLE log_entry DISABLE TRIGGER USER": "must be owner",
    "ALTER TABLE log_entry DISABLE TRIGGER log_entry_update": "must be owner",
    "ALTER TABLE consent_record DISABLE TRIGGER ALL": "must be owner",
    "DROP TRIGGER log_entry_delete ON log_entry": "must be owner",
    "DROP TRIGGER consent_record_update ON consent_record": "must be owner",
    "DROP TABLE log_entry CASCADE": "must be owner",
    "DROP FUNCTION deelwijs_append_only() CASCADE": "must be owner",
    "CREATE OR REPLACE FUNCTION deelwijs_append_only() RETURNS trigger LANGUAGE plpgsql "
    "AS $$ BEGIN RETURN NEW; END $$": "permission denied for schema",
    "UPDATE log_entry SET seq = seq + 1000": "permission denied",
    "UPDATE log_entry SET mac = leaf_hash": "permission denied",
    "DELETE FROM log_entry": "permission denied",
    "TRUNCATE log_entry": "permission denied",
    "TRUNCATE log_entry, log_checkpoint": "permission denied",
    "DELETE FROM log_checkpoint": "permission denied",
    "UPDATE log_checkpoint SET size = 0": "permission denied",
    "DELETE FROM log_head": "permission denied",
    "UPDATE consent_record SET answer = 'given'": "permission denied",
    "DELETE FROM consent_record": "permission denied",
    "TRUNCATE consent_record": "permission denied",
    "UPDATE disclosure SET outcome = 'allow'": "permission denied",
    "DELETE FROM disclosure_item": "permission denied",
    "DELETE FROM disclosure": "permission denied",
    "UPDATE disclosure_item SET outcome = 'allow'": "permission denied",
    "SET session_replication_role = replica": "permission denied",
    "CREATE TABLE log_shadow (id int)": "permission denied",
    "ALTER ROLE CURRENT_USER SUPERUSER": "must be superuser",
}


@pytest.mark.postgres
@postgres_only
def test_the_app_role_cannot_switch_off_or_bypass_the_protection(roles_db, app, build):
    """Each statement as the app role, on a database with log entries and consent versions
    (each in its own transaction, rolled back): every one refused by the database itself."""
    _a_logged_region(build)
    refusals = {statement: _refused(roles_db.app_url, statement) for statement in ATTACKS}
    wrong = {statement: refusal for statement, refusal in refusals.items()
             if ATTACKS[statement] not in refusal}
    assert wrong == {}


@pytest.mark.postgres
@postgres_only
def test_what_the_app_role_may_update_on_the_log_is_still_guarded_by_the_triggers(
        roles_db, app, build):
    _a_logged_region(build)
    # the columns the retention run prunes are granted; the trigger refuses a rewrite
    refusal = _refused(roles_db.app_url, "UPDATE log_entry SET body = '{}'")
    assert "UPDATE op log_entry geweigerd" in refusal
    _allowed(roles_db.app_url, "UPDATE log_entry SET body = NULL, pruned_at = now() "
             "WHERE false")
    _allowed(roles_db.app_url, "SELECT size, frontier FROM log_head FOR UPDATE")


@pytest.mark.postgres
@postgres_only
def test_the_owner_can_switch_the_triggers_off_which_is_why_the_app_is_not_the_owner(
        roles_db, app, build):
    _a_logged_region(build)
    # (rolled back; ALL would take the foreign keys' system triggers too: superuser only)
    _allowed(roles_db.owner_url, "ALTER TABLE log_entry DISABLE TRIGGER USER")
    assert "must be owner" in _refused(roles_db.app_url,
                                       "ALTER TABLE log_entry DISABLE TRIGGER USER")
    assert "permission denied" in _refused(roles_db.app_url, "DELETE FROM log_entry")


# --- what the app role can do: everything Deelwijs does ----------------------------------


@pytest.mark.postgres
@postgres_only
def test_a_region_is_built_and_kept_through_the_app_role(roles_db, app, build, monkeypatch):
    from deelwijs.services.log import verify

    with app.engine.connect() as conn:  # the app really runs as the app role
        assert conn.scalar(text("SELECT current_user")) == roles_db.app
    # log entries from long ago, whose bodies the retention run may prune
    monkeypatch.setattr(audit, "_now", lambda: dt.datetime(1999, 5, 4, 12))
    old = build.youth(name="Oud Geregistreerd")
    monkeypatch.undo()

    youth = build.youth(bsn=valid_bsn(2))
    mother, _ = build.guardians(youth)
    [series, _] = build.parents_consent(youth, given_on=dt.date(2023, 9, 1))
    assert build.change_consent(series, 1, "withdrawn", dt.date(2023, 9, 20)) == 2
    build.parents_consent(youth, given_on=dt.date(2023, 9, 21))
    case = build.case("oza", youth_id=youth, opened_on=dt.date(2023, 9, 1))
    meeting = build.meeting(case, dt.date(2023, 10, 2), agenda=("Opening", "Verzuim", "Rondvraag"))
    with app.transaction() as s:  # an agenda item taken off: the one DELETE the app does
        cases.update_meeting(unit_of(app, s), meeting, 1, agenda=["Opening", "Verzuim"])
    with app.transaction() as s:
        item = s.scalars(select(orm.AgendaItem.id).where(
            orm.AgendaItem.meeting_id == meeting).order_by(orm.AgendaItem.position)).first()
        cases.write_minute(unit_of(app, s, by=build.pro("alice")), item, "Sem zit vaak thuis.")
    allowed = build.disclose("alice", "leerplicht", {"verzuim": "12 uur ongeoorloofd"},
                             dt.date(2023, 10, 2), case_id=case, meeting_id=meeting,
                             kind="minute")
    denied = build.disclose("alice", "leerplicht", {"gezondheid": "Diagnose"},
                            dt.date(2023, 10, 2), case_id=case)
    assert build.disclosure_view(allowed)["outcome"] == "allow"
    assert build.disclosure_view(denied)["outcome"] == "deny"
    # an anonymous case put on a youth's name updates its disclosures
    anonymous = build.case("oza", participants=("leerplicht", "swv"))
    shared = build.disclose("alice", "swv", {"verzuim": "Vaak afwezig"}, dt.date(2024, 3, 1),
                            case_id=anonymous)
    named = build.youth(name="Later Genoemd")
    with app.transaction() as s:
        identification.identify_case(unit_of(app, s, by=build.pro("alice")), anonymous, named,
                                     TODAY)
    assert build.disclosure_view(shared)["youth_id"] == named
    with app.transaction() as s:
        rights.rectify(unit_of(app, s, by=build.pro("alice"), today=dt.date(2023, 11, 1)),
                       youth, "name", "Sem de Vries Jr", requester="parent", guardian_id=mother)
        overview = rights.inzage(unit_of(app, s), youth, requester="parent", guardian_id=mother)
    assert overview["casussen"][0]["id"] == case
    with app.transaction() as s:  # the case closed long ago: the youth is due
        cases.get_case(s, case).closed_on = dt.date(2024, 1, 10)

    with app.transaction() as s:
        result = retention.run(unit_of(app, s), dry_run=False)
    assert youth in [y["youth_id"] for y in result["youths"]]
    assert result["shredded"] >= 1 and result["log_pruned"] >= 1
    with app.transaction() as s:
        assert s.get(orm.Youth, youth).key_wrapped is None
        assert s.get(orm.Youth, old).key_wrapped is not None
        audit.checkpoint(s, app.keys, build.w.region_id)
        report = verify.verify(s, app.keys)
    assert report.ok, [p.line() for p in report.problems]


@pytest.mark.postgres
@postgres_only
def test_db_upgrade_as_the_owner_gives_the_app_role_its_rights_on_new_tables(
        roles_db, database_url, deelwijs_script, tmp_path):
    """Down to 0001 and up again as the owner: the log tables are dropped and made anew by
    the migration, and the app role gets exactly its privileges on them again. The app role
    itself cannot migrate."""
    from alembic import command

    before = _snapshot(roles_db.admin_url)
    owner = db.make_engine(roles_db.owner_url)
    try:
        command.downgrade(db.alembic_config(owner), "0001")
        assert _count(roles_db.admin_url, "SELECT count(*) FROM pg_class WHERE relname = "
                      "'log_entry'") == 0
        by_app = _cli(deelwijs_script, tmp_path, {"DEELWIJS_DATABASE_URL": roles_db.app_url},
                      "db", "upgrade")
        assert (by_app.returncode, by_app.stdout) == (2, "")
        assert by_app.stderr.strip() == (
            "niet toegestaan: de rol in DEELWIJS_DATABASE_URL mag het schema niet wijzigen. "
            "Migreer als de eigenaar-rol (DEELWIJS_MIGRATE_DATABASE_URL of --url; zie "
            "deelwijs db roles)")
        assert db.current_revision(owner) == "0001"  # nothing of it was kept
        lines = db.upgrade(owner)
    finally:
        owner.dispose()
    assert len(lines) == 1 and lines[0].startswith(f"rechten van {roles_db.app} bijgewerkt op")
    after = _snapshot(roles_db.admin_url)
    tables = {r[0]: r for r in after["relations"] if r[1] == "r"}
    assert {r[2] for r in tables.values()} == {roles_db.owner}
    assert {r[0]: r[3:] for r in before["relations"] if r[1] == "r"} == {
        name: r[3:] for name, r in tables.items()}
    assert "must be owner" in _refused(roles_db.app_url,
                                       "ALTER TABLE log_entry DISABLE TRIGGER ALL")


@pytest.mark.postgres
@postgres_only
def test_a_table_a_superusers_migration_creates_goes_to_the_owner(roles_db):
    admin = db.make_engine(roles_db.admin_url)
    try:
        with admin.begin() as conn:
            conn.execute(text("CREATE TABLE log_extra (id serial PRIMARY KEY, note text)"))
            conn.execute(text("CREATE TABLE extra_notes (id serial PRIMARY KEY, note text)"))
        try:
            lines = roles.after_upgrade(admin)  # as db.upgrade runs it after migrating
            assert lines and lines[0].startswith(f"rechten van {roles_db.app} bijgewerkt")
            assert "objecten naar" in lines[0]
            owners = {r[0]: r[2] for r in _snapshot(roles_db.admin_url)["relations"]}
            assert owners["log_extra"] == owners["extra_notes"] == roles_db.owner
            _allowed(roles_db.app_url, "INSERT INTO log_extra (note) VALUES ('x')")
            assert "permission denied" in _refused(roles_db.app_url, "DELETE FROM log_extra")
            assert "permission denied" in _refused(roles_db.app_url,
                                                   "UPDATE log_extra SET note = 'y'")
            _allowed(roles_db.app_url, "INSERT INTO extra_notes (note) VALUES ('x')")
            _allowed(roles_db.app_url, "UPDATE extra_notes SET note = 'y'")
        finally:
            with admin.begin() as conn:
                conn.execute(text("DROP TABLE IF EXISTS log_extra, extra_notes"))
    finally:
        admin.dispose()


# --- bad input ------------------------------------------------------------------------------


def test_db_roles_on_sqlite_says_there_are_no_roles(deelwijs_script, tmp_path):
    run = _cli(deelwijs_script, tmp_path, {"DEELWIJS_DATABASE_URL":
                                           f"sqlite:///{tmp_path / 'db' / 'd.sqlite3'}"},
               "db", "roles", "--owner", "dw_eigenaar", "--app", "dw_app")
    assert (run.returncode, run.stdout) == (2, "")
    assert run.stderr.strip() == ("databaserollen zijn er alleen voor PostgreSQL; de "
                                  "ingebouwde SQLite-database heeft geen rollen en heeft ze "
                                  "niet nodig (wie bij het bestand kan, kan alles)")


@pytest.mark.parametrize(("args", "message"), [
    ((), "--owner: geef de naam van de rol, bijvoorbeeld --owner deelwijs_eigenaar"),
    (("--owner", "dw_eigenaar"), "--app: geef de naam van de rol, bijvoorbeeld --app "
                                 "deelwijs_app"),
    (("--owner", "Eigenaar-1", "--app", "dw_app"), "--owner: 'Eigenaar-1' is geen bruikbare "
     "rolnaam; gebruik kleine letters, cijfers en _ (hoogstens 63 tekens, niet beginnend met "
     "een cijfer of pg_)"),
    (("--owner", "dw_x", "--app", "pg_monitor"), "--app: 'pg_monitor' is geen bruikbare "
     "rolnaam; gebruik kleine letters, cijfers en _ (hoogstens 63 tekens, niet beginnend met "
     "een cijfer of pg_)"),
    (("--owner", "dw_x", "--app", "dw_x"), "--owner en --app moeten verschillende rollen zijn: "
     "juist de scheiding houdt de app-rol weg van de triggers"),
    (("--owner", "dw_x", "--app", "dw_y", "--app-password-file", "/nergens/pw"),
     "--app-password-file: kan /nergens/pw niet lezen (het bestand bestaat niet)"),
    (("--owner", "dw_x", "--app", "dw_y", "--owner-password-file", "/dev/zero"),
     "--owner-password-file: /dev/zero is groter dan 1024 bytes; een wachtwoordbestand bevat "
     "alleen het wachtwoord"),
    (("--owner", "dw_x", "--app", "dw_y", "--url", "geen-url"),
     "--url: geen bruikbare database-URL; verwacht bijvoorbeeld "
     "postgresql://rol@host:5432/database"),
])
def test_db_roles_refuses_bad_input_in_dutch(deelwijs_script, tmp_path, args, message):
    run = _cli(deelwijs_script, tmp_path, {}, "db", "roles", *args)
    assert (run.returncode, run.stdout, run.stderr.strip()) == (2, "", message)


@pytest.mark.postgres
@postgres_only
def test_db_roles_on_an_unknown_database_says_so(deelwijs_script, tmp_path):
    name = f"deelwijs_bestaat_niet_{secrets.token_hex(3)}"
    run = _cli(deelwijs_script, tmp_path, {"DEELWIJS_DATABASE_URL": _url(None, name)},
               "db", "roles", "--owner", "dw_x", "--app", "dw_y")
    assert (run.returncode, run.stdout) == (2, "")
    assert run.stderr.strip() == (f"DEELWIJS_DATABASE_URL: database '{name}' bestaat niet op "
                                  "die server; maak hem eerst aan (createdb) of noem een "
                                  "andere database")


@pytest.mark.postgres
@postgres_only
def test_db_roles_is_refused_to_the_app_role_and_to_a_role_without_rights(
        roles_db, deelwijs_script, tmp_path):
    r = roles_db
    as_app = _cli(deelwijs_script, tmp_path, {}, "db", "roles", "--owner", r.owner, "--app",
                  r.app, "--url", r.app_url)
    assert (as_app.returncode, as_app.stdout) == (2, "")
    assert as_app.stderr.strip() == (
        f"niet toegestaan: u bent verbonden als de app-rol {r.app} zelf. Voer deelwijs db "
        "roles uit als superuser of als de eigenaar-rol (--url of "
        "DEELWIJS_MIGRATE_DATABASE_URL)")

    nobody, new_owner, new_app = (f"dw_niemand_{secrets.token_hex(3)}",
                                  f"dw_o_{secrets.token_hex(3)}", f"dw_a_{secrets.token_hex(3)}")
    admin = _admin()
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE ROLE "{nobody}" LOGIN'))
        before = _snapshot(r.admin_url)
        run = _cli(deelwijs_script, tmp_path, {}, "db", "roles", "--owner", new_owner,
                   "--app", new_app, "--url", _url(nobody, r.name))
        assert (run.returncode, run.stdout) == (2, "")
        assert run.stderr.strip() == (
            f"niet toegestaan: rol {new_owner} aanmaken. De rol {nobody} mag dat niet; voer "
            "deelwijs db roles uit als superuser (of, als de rollen al bestaan, als de "
            "eigenaar-rol)")
        # the owner role may not create roles either; nothing was changed
        by_owner = _cli(deelwijs_script, tmp_path, {}, "db", "roles", "--owner", r.owner,
                        "--app", new_app, "--url", r.owner_url)
        assert by_owner.returncode == 2
        assert by_owner.stderr.startswith(f"niet toegestaan: rol {new_app} aanmaken.")
        assert _count(r.admin_url, "SELECT count(*) FROM pg_roles WHERE rolname IN "
                      "(:o, :a)", o=new_owner, a=new_app) == 0
        assert _snapshot(r.admin_url) == before
        # a superuser as the app role is refused by name
        superuser = make_url(SERVER).username
        run = _cli(deelwijs_script, tmp_path, {}, "db", "roles", "--owner", r.owner,
                   "--app", superuser, "--url", r.admin_url)
        assert run.returncode == 2
        assert run.stderr.startswith(f"--app: rol {superuser} is superuser")
        # as is one that may write every table, or create roles (and so join the owner)
        with admin.connect() as conn:
            conn.execute(text(f'GRANT pg_write_all_data TO "{nobody}"'))
        run = _cli(deelwijs_script, tmp_path, {}, "db", "roles", "--owner", r.owner,
                   "--app", nobody, "--url", r.admin_url)
        assert (run.returncode, run.stderr.strip()) == (2, (
            f"--app: rol {nobody} is lid van pg_write_all_data en mag dus elke tabel "
            f"wijzigen; trek dat in (REVOKE pg_write_all_data FROM {nobody})"))
        with admin.connect() as conn:
            conn.execute(text(f'REVOKE pg_write_all_data FROM "{nobody}"'))
            conn.execute(text(f'ALTER ROLE "{nobody}" CREATEROLE'))
        run = _cli(deelwijs_script, tmp_path, {}, "db", "roles", "--owner", r.owner,
                   "--app", nobody, "--url", r.admin_url)
        assert run.returncode == 2
        assert run.stderr.startswith(f"--app: rol {nobody} mag rollen maken")
        assert _snapshot(r.admin_url) == before
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP ROLE IF EXISTS "{nobody}"'))
        admin.dispose()
