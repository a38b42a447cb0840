"""Migrations: the Alembic migrations build exactly the models' schema, the embedded database
migrates itself, and an un-migrated production database is refused with the fixing command."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from tests.fixtures.postgres import fresh_database, skip_without_postgres, unique_name

from deelwijs.services.app import open_app
from deelwijs.settings import Settings
from deelwijs.storage import db, orm


def test_the_migrations_build_exactly_the_schema_of_the_models(app):
    with app.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        differences = compare_metadata(context, orm.Base.metadata)
    assert differences == []


def test_the_test_database_is_at_the_newest_migration(app):
    assert db.current_revision(app.engine) == db.head_revision()
    tables = set(inspect(app.engine).get_table_names())
    assert {t.name for t in orm.Base.metadata.sorted_tables} <= tables
    assert "alembic_version" in tables


def test_an_unmigrated_sqlite_database_outside_embedded_mode_is_refused(tmp_path):
    engine = db.make_engine(f"sqlite:///{tmp_path / 'leeg.sqlite3'}")
    try:
        with pytest.raises(db.NotMigrated, match="deelwijs db upgrade"):
            db.ensure_ready(engine, embedded=False)
        assert db.current_revision(engine) is None  # refusing did not migrate
        db.upgrade(engine)
        db.ensure_ready(engine, embedded=False)  # after the upgrade it starts
    finally:
        engine.dispose()


def test_the_embedded_sqlite_database_is_migrated_automatically_on_start(tmp_path, master_key):
    url = f"sqlite:///{tmp_path / 'var' / 'deelwijs.sqlite3'}"
    app = open_app(Settings(database_url=url, master_key=master_key))
    try:
        assert app.settings.embedded
        assert db.current_revision(app.engine) == db.head_revision()
    finally:
        app.engine.dispose()


@pytest.mark.postgres
def test_the_app_refuses_to_start_on_an_unmigrated_postgresql_database(postgres_url,
                                                                       master_key):
    skip_without_postgres()
    with fresh_database(unique_name("deelwijs_leeg")) as url:
        settings = Settings(database_url=url, master_key=master_key)
        assert not settings.embedded
        engine = db.make_engine(url)
        try:
            with pytest.raises(db.NotMigrated) as refused:
                db.ensure_ready(engine, embedded=False)
            assert "deelwijs db upgrade" in str(refused.value)
            with pytest.raises(db.NotMigrated, match="deelwijs db upgrade"):
                open_app(settings)
            assert db.current_revision(engine) is None  # nothing was migrated behind our back
            assert "organisation" not in inspect(engine).get_table_names()

            db.upgrade(engine)  # what `deelwijs db upgrade` does
            app = open_app(settings)
            assert db.current_revision(app.engine) == db.head_revision()
            app.engine.dispose()
        finally:
            engine.dispose()


# --- 0004: youth.startkwalificatie and weighings about a youth -----------------------------

_ROWS_0003 = (
    "INSERT INTO region (id, code, name, wams_in_force) VALUES (1, 'r', 'Regio', false)",
    "INSERT INTO organisation (id, region_id, party, name, created_at) "
    "VALUES (1, 1, 'jgz', 'JGZ', '2026-01-01 00:00:00')",
    "INSERT INTO professional (id, organisation_id, name, function, hats, pseudonym, active) "
    "VALUES (1, 1, 'Erin', 'jeugdverpleegkundige', '[]', 'p1', true)",
    "INSERT INTO youth (id, region_id, name_enc, birth_enc, created_at) "
    "VALUES (1, 1, :blob, :blob, '2026-01-01 00:00:00')",
    "INSERT INTO casus (id, region_id, youth_id, anonymous, purpose, title, opened_on, "
    "created_by_id, version) VALUES (1, 1, 1, false, 'oza', 'Casus', '2026-01-02', 1, 1)",
    "INSERT INTO exception_record (id, case_id, kind, answers, complete, recorded_by_id, "
    "recorded_at, to_org_ids, categories) VALUES (1, 1, 'legal_duty', '[]', true, 1, "
    "'2026-01-03 00:00:00', '[]', '[]')",
)


def _columns(engine, table: str) -> set[str]:
    return {c["name"] for c in inspect(engine).get_columns(table)}


def _walk_0004(url: str) -> None:
    """From 0003 with rows to 0004 and back, and up again: existing youths get no
    startkwalificatie, a weighing about a youth needs no case, and a downgrade keeps the
    youths and the weighings in a case (only the weighings about a youth go)."""
    from alembic import command

    engine = db.make_engine(url)
    try:
        cfg = db.alembic_config(engine)
        command.upgrade(cfg, "0003")
        with engine.begin() as conn:
            for sql in _ROWS_0003:
                conn.execute(text(sql), {"blob": b"x"})
        command.upgrade(cfg, "0004")
        assert "startkwalificatie" in _columns(engine, "youth")
        assert "youth_id" in _columns(engine, "exception_record")
        with engine.begin() as conn:
            assert conn.execute(text("SELECT startkwalificatie FROM youth")).scalar_one() in (
                False, 0)
            conn.execute(text(
                "INSERT INTO exception_record (id, case_id, youth_id, kind, answers, complete, "
                "recorded_by_id, recorded_at, to_org_ids, categories) VALUES (2, NULL, 1, "
                "'statutory_power', '[]', true, 1, '2026-01-04 00:00:00', '[1]', "
                "'[\"thuissituatie\"]')"))
            conn.execute(text("UPDATE youth SET startkwalificatie = true"))
        command.downgrade(cfg, "0003")
        assert db.current_revision(engine) == "0003"
        assert "startkwalificatie" not in _columns(engine, "youth")
        assert "youth_id" not in _columns(engine, "exception_record")
        with engine.connect() as conn:
            assert conn.execute(text("SELECT id FROM youth")).scalars().all() == [1]
            assert conn.execute(text("SELECT id, case_id FROM exception_record")).all() == [
                (1, 1)]
        command.upgrade(cfg, "head")
        assert db.current_revision(engine) == db.head_revision()
        with engine.connect() as conn:
            assert conn.execute(text("SELECT startkwalificatie FROM youth")).scalar_one() in (
                False, 0)
    finally:
        engine.dispose()


def test_0004_upgrades_and_downgrades_with_rows_on_sqlite(tmp_path):
    _walk_0004(f"sqlite:///{tmp_path / 'walk.sqlite3'}")


@pytest.mark.postgres
def test_0004_upgrades_and_downgrades_with_rows_on_postgresql(postgres_url):
    skip_without_postgres()
    with fresh_database(unique_name("deelwijs_leeg")) as url:
        _walk_0004(url)
