"""Migrations: the Alembic migrations build exactly the models' schema, the embedded database
migrates itself, and an un-migrated production database is refused with the fixing command."""

from __future__ import annotations

import os
import secrets
from contextlib import contextmanager

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from deelwijs.services.app import open_app
from deelwijs.settings import Settings
from deelwijs.storage import db, orm

from .helpers import TEST_DB_ENV


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


@contextmanager
def empty_postgres_database():
    """A new, empty (un-migrated) database on the test server, dropped afterwards."""
    server = os.environ[TEST_DB_ENV]
    admin = db.make_engine(server).execution_options(isolation_level="AUTOCOMMIT")
    name = f"deelwijs_leeg_{secrets.token_hex(4)}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE datname = :name AND pid <> pg_backend_pid()"),
                         {"name": name})
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@pytest.mark.postgres
def test_the_app_refuses_to_start_on_an_unmigrated_postgresql_database(postgres_url,
                                                                       master_key):
    if not postgres_url:
        pytest.skip(f"alleen met {TEST_DB_ENV} (PostgreSQL)")
    with empty_postgres_database() as url:
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
