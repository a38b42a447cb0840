"""Constants and small helpers of the service tests (the fixtures are in conftest.py)."""

from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine

from deelwijs.services import demo
from deelwijs.storage import orm

TEST_DB_ENV = "DEELWIJS_TEST_DATABASE_URL"

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


def outcomes(decision: dict) -> dict[str, tuple[str, list[str]]]:
    """{category: (outcome, grounds or reasons)} of a decision."""
    return {i["data"]: (i["outcome"], i["grounds"] if i["outcome"] == "allow" else i["reasons"])
            for i in decision["items"]}
