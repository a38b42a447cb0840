"""Running a hot path's Core statements straight on the database driver.

SQLAlchemy builds a statement once and caches its compiled form, but every execution still
goes through its execution context, parameter processing, result metadata (which asks psycopg
for a description of every column) and row objects: several hundred Python calls per
statement. On the paths that run for every disclosure and every log entry that is most of the
CPU a record costs. Here a statement is compiled once for PostgreSQL with positional `$n`
parameters and run on the session's own psycopg connection, in the session's transaction, with
server-side prepared statements; rows come back as named tuples (index, attribute and
`_asdict()`, as SQLAlchemy's rows).

Only what those statements need is supported: plain values, and `JSON` parameters (sent as
JSON, as SQLAlchemy's JSON type does: Python None becomes JSON null). Other databases (SQLite)
run the statement through SQLAlchemy as before, so callers need not care which one they are on.
"""

from __future__ import annotations

import collections
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import psycopg
from psycopg.types.json import Json
from sqlalchemy import JSON
from sqlalchemy.dialects.postgresql import psycopg as pg_psycopg
from sqlalchemy.engine import Connection
from sqlalchemy.sql import ClauseElement

_DIALECT = pg_psycopg.dialect(paramstyle="numeric_dollar")
_PLACEHOLDER = re.compile(r"\$(\d+)")
_POSTCOMPILE = re.compile(r"__\[POSTCOMPILE_(\w+)\]")


@dataclass
class _Compiled:
    statement: ClauseElement  # kept, so that its id() is not reused while cached
    sql: bytes
    names: tuple[str, ...]  # the parameter of $1, $2, ...
    defaults: dict  # values bound in the statement itself (constants)
    json: frozenset[str]
    expanding: frozenset[str]  # rendered with the statement's own values: not to be given
    row: type | None = field(default=None)  # the named tuple of its result rows


_compiled: dict[int, _Compiled] = {}
_MAX_CACHED = 1024


def _compile(stmt: ClauseElement) -> _Compiled:
    hit = _compiled.get(id(stmt))
    if hit is not None and hit.statement is stmt:
        return hit
    c = stmt.compile(dialect=_DIALECT)
    sql = str(c)
    rendered_later = set(_POSTCOMPILE.findall(sql))
    names = [n for n in c.positiontup or () if n not in rendered_later]
    used = {int(n) for n in _PLACEHOLDER.findall(sql)}
    if used and max(used) != len(names):  # never silently bind a value to the wrong $n
        raise ValueError(f"unexpected parameters in compiled statement: {sorted(used)} "
                         f"for {names}")
    # IN lists and the like that the statement binds itself (SQLAlchemy renders them when it
    # executes) get $n of their own, with the statement's values; they cannot be given
    expanding, defaults = set(), {}

    def render(m: re.Match) -> str:
        name = m.group(1)
        bind = c.binds[name]
        if bind.required:
            raise ValueError(f"parameter {name!r} must be bound in the statement itself")
        expanding.add(name)
        values = list(bind.effective_value) if bind.expanding else [bind.effective_value]
        out = []
        for i, value in enumerate(values):
            key = f"{name}__{i}"
            names.append(key)
            defaults[key] = value
            out.append(f"${len(names)}")
        return ", ".join(out)

    sql = _POSTCOMPILE.sub(render, sql)
    for n in names:
        bind = c.binds.get(n)
        if bind is not None and not bind.required:
            defaults[n] = bind.effective_value
    json = frozenset(n for n in names if n in c.binds and isinstance(c.binds[n].type, JSON))
    out = _Compiled(stmt, sql.encode(), tuple(names), defaults, json, frozenset(expanding))
    if len(_compiled) >= _MAX_CACHED:  # statements are meant to be built once; stay bounded
        _compiled.clear()
    _compiled[id(stmt)] = out
    return out


@functools.lru_cache(maxsize=256)
def _row_type(names: tuple[str, ...]) -> type:
    return collections.namedtuple("Row", names, rename=True)


def _row_factory(compiled: _Compiled):
    def factory(cursor: psycopg.Cursor):
        if compiled.row is None:
            res = cursor.pgresult
            compiled.row = _row_type(tuple(res.fname(i).decode()
                                           for i in range(res.nfields)))
        return compiled.row._make
    return factory


def execute(conn: Connection, stmt: ClauseElement, params: Mapping | None = None
            ) -> list:
    """Run `stmt` with `params` in `conn`'s transaction and return its rows (none for a
    statement without RETURNING)."""
    if conn.dialect.name != "postgresql":
        result = conn.execute(stmt, dict(params or {}))
        return result.all() if result.returns_rows else []
    compiled = _compile(stmt)
    given = params or {}
    if compiled.expanding and not compiled.expanding.isdisjoint(given):
        raise ValueError(f"expanding parameters cannot be given here: "
                         f"{sorted(compiled.expanding & set(given))}")
    raw = conn.connection.driver_connection
    cur = psycopg.RawCursor(raw, row_factory=_row_factory(compiled))
    cur.execute(compiled.sql, _values(compiled, given), prepare=True)
    return cur.fetchall() if cur.pgresult is not None and cur.pgresult.nfields else []


def _values(compiled: _Compiled, given: Mapping) -> list:
    values = []
    for name in compiled.names:
        value = given[name] if name in given else compiled.defaults[name]
        values.append(Json(value) if name in compiled.json else value)
    return values


def execute_all(conn: Connection, batch: list[tuple[ClauseElement, Mapping]]) -> list[list]:
    """The rows of each (statement, parameters) in `batch`, in `conn`'s transaction. On
    PostgreSQL all of them go to the server at once (psycopg's pipeline mode): one round trip
    for the batch instead of one per statement. Elsewhere one after the other."""
    if conn.dialect.name != "postgresql" or len(batch) < 2:
        return [execute(conn, stmt, params) for stmt, params in batch]
    raw = conn.connection.driver_connection
    cursors = []
    with raw.pipeline():
        for stmt, params in batch:
            compiled = _compile(stmt)
            if compiled.expanding and not compiled.expanding.isdisjoint(params):
                raise ValueError(f"expanding parameters cannot be given here: "
                                 f"{sorted(compiled.expanding & set(params))}")
            cur = psycopg.RawCursor(raw, row_factory=_row_factory(compiled))
            cur.execute(compiled.sql, _values(compiled, params), prepare=True)
            cursors.append(cur)
    return [cur.fetchall() if cur.pgresult is not None and cur.pgresult.nfields else []
            for cur in cursors]
