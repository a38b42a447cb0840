"""Constants and small helpers of the service tests (the fixtures are in conftest.py)."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.expression import Executable

from deelwijs.services import demo
from deelwijs.services.context import Actor, Unit, actor_of
from deelwijs.services.log import audit, binding
from deelwijs.storage import orm

START = dt.date(2020, 1, 1)  # the region's ruleset, signatures and mandate are from this day
TODAY = dt.date(2026, 3, 2)  # the tests' "today", always passed explicitly
BIRTH = dt.date(2014, 6, 15)  # the default youth: 11 on TODAY
TWO_PARENTS = (
    {"name": "Fatima de Vries", "relation": "moeder", "gezag": True},
    {"name": "Daan de Vries", "relation": "vader", "gezag": True},
)


def valid_bsn(n: int) -> str:
    """A synthetic BSN (passes the elfproef, starts with 9999), different for every n."""
    return demo.synthetic_bsn(random.Random(f"bsn-{n}"))


# --- the database --------------------------------------------------------------------------


def clean_tables(engine: Engine) -> None:
    """Remove every row of every table (the schema and alembic_version stay). The append-only
    triggers are bypassed as a superuser can: on PostgreSQL with session_replication_role."""
    tables = list(reversed(orm.Base.metadata.sorted_tables))
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SET LOCAL lock_timeout = '20s'"))
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            names = ", ".join(f'"{t.name}"' for t in tables)
            conn.execute(text(f"TRUNCATE TABLE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(table.delete())


def row_counts(engine: Engine) -> dict[str, int]:
    """Rows per table, straight from the database."""
    with engine.connect() as conn:
        return {t.name: conn.scalar(select(func.count()).select_from(t))
                for t in orm.Base.metadata.sorted_tables}


Statement = str | Executable | tuple[str | Executable, dict]


def _statements(statements: Iterable[Statement]) -> list[tuple[Executable, dict]]:
    out = []
    for statement in statements:
        sql, params = statement if isinstance(statement, tuple) else (statement, {})
        out.append((text(sql) if isinstance(sql, str) else sql, params))
    return out


class Tamper:
    """Changes rows behind the application's back, as someone with direct access to the
    database would (the attack tests' one way to do so; the `tamper` fixture):

    - `tamper(*statements)`: as the role that owns the tables, past the append-only
      triggers, which are switched back on before the commit. With DEELWIJS_TEST_APP_ROLE=1
      that is the owner role of `deelwijs db roles` (an owner-role insider: `ALTER TABLE …
      DISABLE TRIGGER USER`, allowed to the owner only); otherwise on PostgreSQL the server's
      superuser, who owns the tables then; on SQLite the triggers are dropped and created
      again around the statements (whoever can write the file can do that).
    - `tamper.as_app(*statements)`: as the app role itself, triggers in place: what an
      insider holding the application's own credentials can do.
    - `tamper.assert_app_role_refused(*statements)`: each statement, as the app role and in a
      transaction of its own, is refused and changes nothing: by PostgreSQL's privileges
      (SQLSTATE 42501 without the triggers' "deelwijs: …" message; only the app-role run has
      a role without privileges: elsewhere this checks nothing and returns False), or with
      `by="trigger"` by the append-only triggers (a column the app role may update, such as
      a log entry's body for the retention run; checked on every database).

    A statement is SQL text, a SQLAlchemy statement, or either with its parameters."""

    def __init__(self, owner: Engine, app: Engine, app_role: bool):
        self.owner = owner
        self.app = app
        self.app_role = app_role

    def __call__(self, *statements: Statement) -> None:
        with self.owner.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SET LOCAL lock_timeout = '20s'"))
                tables = conn.execute(text(
                    "SELECT DISTINCT c.relname FROM pg_trigger t "
                    "JOIN pg_class c ON c.oid = t.tgrelid "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = current_schema() AND NOT t.tgisinternal "
                    "AND t.tgenabled <> 'D' ORDER BY 1")).scalars().all()
                for table in tables:
                    conn.execute(text(f'ALTER TABLE "{table}" DISABLE TRIGGER USER'))
                self._run(conn, statements)
                for table in tables:
                    conn.execute(text(f'ALTER TABLE "{table}" ENABLE TRIGGER USER'))
            else:
                triggers = conn.execute(text(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                    "ORDER BY name")).all()
                for name, _ in triggers:
                    conn.execute(text(f'DROP TRIGGER "{name}"'))
                self._run(conn, statements)
                for _, sql in triggers:
                    conn.exec_driver_sql(sql)

    def as_app(self, *statements: Statement) -> None:
        with self.app.begin() as conn:
            self._run(conn, statements)

    def assert_app_role_refused(self, *statements: Statement, by: str = "privilege") -> bool:
        assert by in ("privilege", "trigger")
        if by == "privilege" and not self.app_role:
            return False
        for sql, params in _statements(statements):
            with pytest.raises(DBAPIError) as caught, self.app.begin() as conn:
                conn.execute(sql, params)
            error = caught.value.orig
            if self.app.dialect.name == "postgresql":  # both refusals: insufficient_privilege
                assert getattr(error, "sqlstate", None) == "42501", (sql, str(error))
            # the triggers' own message starts "deelwijs: "; PostgreSQL's privileges do not
            assert ("deelwijs: " in str(error)) == (by == "trigger"), (sql, str(error))
        return True

    @staticmethod
    def _run(conn: Connection, statements: Iterable[Statement]) -> None:
        for sql, params in _statements(statements):
            conn.execute(sql, params)


def outcomes(decision: dict) -> dict[str, tuple[str, list[str]]]:
    """{category: (outcome, grounds or reasons)} of a decision."""
    return {i["data"]: (i["outcome"], i["grounds"] if i["outcome"] == "allow" else i["reasons"])
            for i in decision["items"]}


def write_unbound(monkeypatch) -> None:
    """Have audit.prepare write entries as before revision 0006: without the field that binds
    the row (binding.FIELD), and in format 1 (the compact format 2 came after it)."""
    real = audit.prepare

    def prepare(*args, extra=None, **kwargs):
        extra = {k: v for k, v in (extra or {}).items() if k != binding.FIELD}
        return real(*args, extra=extra, compact=False, **kwargs)

    monkeypatch.setattr(audit, "prepare", prepare)


def unit_of(app, session, by=None, today: dt.date = TODAY, hat: str | None = None) -> Unit:
    """A unit of work for a test (services/context.py): the administrator, or the professional
    `by` (an id or a row) with `hat`; today is the tests' TODAY unless given."""
    if isinstance(by, Actor):
        actor = by
    else:
        actor = actor_of(session, by if by is None or isinstance(by, int) else by.id, "by", hat)
    return Unit(app, session, actor, today)
