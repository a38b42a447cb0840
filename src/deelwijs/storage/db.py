"""Engines, sessions and migrations.

The embedded default (SQLite under var/) is migrated automatically on start. PostgreSQL is
migrated by an explicit `deelwijs db upgrade`; the app refuses to start on an un-migrated
PostgreSQL database and says which command fixes it. In production PostgreSQL has two roles
(storage.roles): the owner migrates (DEELWIJS_MIGRATE_DATABASE_URL), the app role runs.
"""

from __future__ import annotations

import select
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, event, exc
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from deelwijs import files
from deelwijs.errors import DeelwijsError

MIGRATIONS = Path(__file__).parent / "migrations"


class NotMigrated(DeelwijsError, RuntimeError):
    """The database schema is not at the newest migration."""

    code = "not_migrated"


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = files.sqlite_path(url)
        if path is not None:
            # created private: the folder 0700, the file 0600 (umask-proof); SQLite gives
            # its -wal, -shm and -journal files the mode of the database file
            files.create_private_file(path)
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.close()

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    engine = create_engine(url)

    @event.listens_for(engine, "checkout")
    def _alive_or_replaced(dbapi_conn, _record, _proxy):
        # SQLAlchemy replaces a connection that raises this here, and tries again
        if not idle_connection_alive(dbapi_conn):
            raise exc.DisconnectionError("de verbinding met de database is verbroken")

    return engine


def idle_connection_alive(dbapi_conn) -> bool:
    """Whether a pooled psycopg connection, taken from the pool, can still be used: told
    without a round trip to the server (which pool_pre_ping would cost on every transaction).
    It is open and idle, and the server has written nothing to it since it went back into
    the pool: the server of an idle connection only writes to it to end it (a restart,
    pg_terminate_backend, idle_session_timeout: an error, then the end of the connection),
    or for LISTEN, which Deelwijs does not use. A connection that fails this is replaced."""
    from psycopg import pq

    try:
        if dbapi_conn.closed or dbapi_conn.broken:
            return False
        pgconn = dbapi_conn.pgconn
        if (pgconn.status != pq.ConnStatus.OK
                or pgconn.transaction_status != pq.TransactionStatus.IDLE):
            return False
        return not _readable(pgconn.socket)
    except Exception:  # a socket that cannot be asked about is not one to use
        return False


def _readable(fd: int) -> bool:
    """Whether the socket has something to read, or was closed, right now (no waiting)."""
    if hasattr(select, "poll"):
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        return bool(poller.poll(0))  # POLLHUP and POLLERR are reported even if not asked
    readable, _, broken = select.select([fd], [], [fd], 0)
    return bool(readable or broken)


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def head_revision() -> str:
    script = ScriptDirectory.from_config(alembic_config(None))  # type: ignore[arg-type]
    return script.get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine) -> list[str]:
    """Migrate to the newest revision. On PostgreSQL with two roles (`deelwijs db roles`)
    the app role then gets its privileges on the new tables too (roles.after_upgrade);
    returns what that did, as Dutch lines ([] otherwise)."""
    command.upgrade(alembic_config(engine), "head")
    if engine.dialect.name == "postgresql":
        from deelwijs.storage import roles

        return roles.after_upgrade(engine)
    return []


def ensure_ready(engine: Engine, embedded: bool) -> None:
    """Migrate the embedded database; refuse an un-migrated production database."""
    if current_revision(engine) == head_revision():
        return
    if embedded:
        upgrade(engine)
        return
    raise NotMigrated(
        "De database is niet bijgewerkt naar het nieuwste schema. "
        "Voer eerst uit: deelwijs db upgrade"
    )


def session_factory(engine: Engine, info: dict | None = None) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False, info=info or {})


@contextmanager
def transaction(factory: sessionmaker[Session]):
    """One unit of work: commit at the end, roll back everything on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
