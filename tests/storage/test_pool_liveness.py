"""A connection the pool hands out is checked without a round trip (storage.db): one that the
server ended while it sat in the pool (a restart, pg_terminate_backend) is replaced, and the
transaction that asked for it runs as if nothing happened."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import text

from deelwijs.storage import db


def _pid(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT pg_backend_pid()")).scalar_one()


def _end(admin, pid: int) -> None:
    with admin.connect() as conn:
        assert conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar_one()
    for _ in range(200):  # until the server has really closed it
        with admin.connect() as conn:
            if not conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE pid = :p"),
                                {"p": pid}).scalar_one():
                return
        time.sleep(0.01)
    raise AssertionError(f"backend {pid} did not end")


@pytest.fixture
def pg_url(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("alleen op PostgreSQL: SQLite heeft geen verbindingen die de server kan "
                    "beëindigen")
    return database_url


@pytest.fixture
def admin(pg_url, admin_url):
    engine = db.make_engine(admin_url)
    yield engine
    engine.dispose()


def test_a_connection_the_server_ended_is_replaced(pg_url, admin):
    engine = db.make_engine(pg_url)
    try:
        first = _pid(engine)
        assert _pid(engine) == first  # the pool hands out the same connection again
        _end(admin, first)
        with engine.begin() as conn:  # no error: the dead connection is never used
            second = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
            assert conn.execute(text("SELECT 1")).scalar_one() == 1
        assert second != first
        assert _pid(engine) == second
    finally:
        engine.dispose()


def test_every_pooled_connection_the_server_ended_is_replaced(pg_url, admin):
    engine = db.make_engine(pg_url)
    try:
        held = [engine.connect() for _ in range(3)]
        pids = [c.execute(text("SELECT pg_backend_pid()")).scalar_one() for c in held]
        for c in held:
            c.close()  # back into the pool
        for pid in pids:
            _end(admin, pid)
        again = [engine.connect() for _ in range(3)]
        try:
            new = [c.execute(text("SELECT pg_backend_pid()")).scalar_one() for c in again]
        finally:
            for c in again:
                c.close()
        assert not set(new) & set(pids)
    finally:
        engine.dispose()


def test_a_live_idle_connection_is_kept(pg_url):
    engine = db.make_engine(pg_url)
    try:
        with engine.connect() as conn:
            raw = conn.connection.dbapi_connection
            conn.rollback()
            assert db.idle_connection_alive(raw)
        raw.close()
        assert not db.idle_connection_alive(raw)
    finally:
        engine.dispose()
