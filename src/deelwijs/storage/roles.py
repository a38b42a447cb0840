"""Two database roles on PostgreSQL: an owner that migrates, and the app role that runs Deelwijs.

A role that owns a table can switch its triggers off (`ALTER TABLE … DISABLE TRIGGER`), drop
them, or truncate the table; the append-only triggers of the processing log and the consent
records then protect nothing against whoever holds that role. So in production the tables,
sequences, trigger functions and types belong to an owner role that only migrations use
(`deelwijs db upgrade`), and Deelwijs itself connects as an app role that owns nothing, is not
a superuser, has no TRIGGER, TRUNCATE or REFERENCES privilege anywhere, and gets per table
only what the code does there (`POLICY`):

- the log tables and the consent records: read and insert only; on `log_entry` also UPDATE
  of `body` and `pruned_at` (the retention run removes a body past its term; the trigger
  refuses every other change), on `log_head` UPDATE (every append advances the head; its
  frontier is checked against the entries and their MACs);
- disclosures: read, insert, and UPDATE of the columns the code changes (a disclosure made in
  an anonymous case gets the youth when the case is identified; the retention run wipes an
  item's content), never its outcome, decision or items;
- rulesets and their activations: read and insert;
- every other table: read, insert and update; DELETE only where the code deletes rows
  (agenda items taken off an agenda);
- every sequence: USAGE and SELECT (nextval for new ids).

`setup` (`deelwijs db roles --owner NAME --app NAME`) makes it so on the current database,
idempotently: it creates the roles that are missing, hands every table, sequence, function
and type of the schema (and the database, if the app role owned it) to the owner, grants the
app role exactly the above, and sets default privileges so that a table a later migration
creates is readable and insertable by the app role at once. `after_upgrade` (run by
`db.upgrade` after every migration on PostgreSQL) applies the full policy to new tables, and
hands objects that a superuser's migration created to the owner. It finds the two roles in
those default privileges (`configured`): no setup, nothing to do.

Everything happens in one transaction: a refusal leaves the database as it was. Messages are
Dutch (`RolesError`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

from deelwijs import files
from deelwijs.errors import DeelwijsError

SCHEMA = "public"
# a role name as `db roles` accepts it: a plain lower-case SQL identifier
NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
RESERVED = ("pg_", "public", "current_user", "session_user", "current_role", "none", "all")
PASSWORD_MAX = 1024  # bytes read from a password file at most

READ = ("SELECT",)
APPEND = ("SELECT", "INSERT")
ORDINARY = ("SELECT", "INSERT", "UPDATE")
# What the app role may do, per table; a table not named here gets ORDINARY, or APPEND when
# its name starts with one of APPEND_PREFIXES (a new log or consent table is append-only for
# the app until it is named here).
POLICY: dict[str, tuple[str, ...]] = {
    "alembic_version": READ,
    "log_entry": ("SELECT", "INSERT", "UPDATE (body, pruned_at)"),
    "log_head": ("SELECT", "INSERT", "UPDATE"),
    "log_checkpoint": APPEND,
    "consent_record": APPEND,
    "ruleset_version": APPEND,
    "ruleset_activation": APPEND,
    "disclosure": ("SELECT", "INSERT", "UPDATE (youth_id)"),
    "disclosure_item": ("SELECT", "INSERT", "UPDATE (content, content_enc)"),
    "agenda_item": (*ORDINARY, "DELETE"),
}
APPEND_PREFIXES = ("log_", "consent_")
SEQUENCES = ("USAGE", "SELECT")
# default privileges for tables a later migration creates, until after_upgrade refines them
DEFAULT_TABLES = APPEND
# tables whose rows are evidence: besides owner and app role nobody should write them
PROTECTED = ("log_entry", "log_head", "log_checkpoint", "consent_record", "disclosure",
             "disclosure_item")

_KINDS = {"r": "TABLE", "p": "TABLE", "v": "VIEW", "m": "MATERIALIZED VIEW",
          "f": "FOREIGN TABLE", "S": "SEQUENCE"}


class RolesError(DeelwijsError):
    """The roles cannot be set up as asked; the message (Dutch, one line) says why."""

    code = "roles_refused"


def app_privileges(table: str) -> tuple[str, ...]:
    """The privileges the app role gets on a table (SQL, column lists included)."""
    if table in POLICY:
        return POLICY[table]
    if table.startswith(APPEND_PREFIXES):
        return APPEND
    return ORDINARY


def check_name(name: str | None, option: str) -> str:
    if not name:
        raise RolesError(f"{option}: geef de naam van de rol, bijvoorbeeld {option} "
                         + ("deelwijs_eigenaar" if "owner" in option else "deelwijs_app"))
    if not NAME.match(name) or name.startswith(RESERVED[0]) or name in RESERVED[1:]:
        raise RolesError(f"{option}: '{name}' is geen bruikbare rolnaam; gebruik kleine "
                         "letters, cijfers en _ (hoogstens 63 tekens, niet beginnend met een "
                         "cijfer of pg_)")
    return name


def read_password(path: str | Path, option: str) -> str:
    """The password in a file (its first line; at most PASSWORD_MAX bytes)."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read(PASSWORD_MAX + 1)
    except OSError as exc:
        raise RolesError(f"{option}: kan {path} niet lezen ({files.os_reason(exc)})") from None
    if len(raw) > PASSWORD_MAX:
        raise RolesError(f"{option}: {path} is groter dan {PASSWORD_MAX} bytes; een "
                         "wachtwoordbestand bevat alleen het wachtwoord")
    try:
        value = raw.decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError:
        raise RolesError(f"{option}: {path} is geen UTF-8-tekst") from None
    if not value.strip():
        raise RolesError(f"{option}: {path} is leeg")
    if "\n" in value or "\r" in value or "\x00" in value:
        raise RolesError(f"{option}: {path} bevat meer dan één regel; zet alleen het "
                         "wachtwoord in het bestand")
    return value


def _q(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


@dataclass
class _Run:
    """One setup or post-migration step on a connection: runs statements with a Dutch
    description of each, so that a refusal by the database names what was refused."""
    conn: Connection
    me: str
    lines: list[str] = field(default_factory=list)

    def sql(self, statement: str, step: str):
        try:  # (as the driver gets it: a password verifier may hold ':' and '/')
            return self.conn.exec_driver_sql(statement)
        except DBAPIError as exc:
            raise _refused(exc, step, self.me) from None


def _refused(exc: DBAPIError, step: str, me: str) -> RolesError:
    state = getattr(exc.orig, "sqlstate", None)
    if state == "42501":
        return RolesError(f"niet toegestaan: {step}. De rol {me} mag dat niet; voer deelwijs "
                          "db roles uit als superuser (of, als de rollen al bestaan, als de "
                          "eigenaar-rol)")
    if state in ("55P03", "40P01"):
        return RolesError(f"{step}: de tabellen zijn in gebruik (geen slot binnen 30 "
                          "seconden); probeer het opnieuw als Deelwijs even stilligt")
    diag = getattr(exc.orig, "diag", None)
    detail = " ".join(str((diag.message_primary if diag is not None else None)
                          or exc.orig).split())
    return RolesError(f"{step}: de database weigerde dit ({state or 'onbekende fout'}: "
                      f"{detail})")


def _is_super(conn: Connection, role: str) -> bool:
    return bool(conn.scalar(text("SELECT rolsuper FROM pg_roles WHERE rolname = :r"),
                            {"r": role}))


def _member(conn: Connection, role: str, of: str) -> bool:
    """Whether `role` is a member of `of` (directly or not); False when `of` does not exist
    (pg_write_all_data before PostgreSQL 14)."""
    return bool(conn.scalar(text(
        "SELECT CASE WHEN EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :o) "
        "THEN pg_has_role(:r, :o, 'MEMBER') ELSE false END"), {"r": role, "o": of}))


# --- what the schema holds ----------------------------------------------------------------

_NOT_EXTENSION = ("NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = {cls}::regclass "
                  "AND e.objid = {oid} AND e.deptype = 'e')")


def _relations(conn: Connection) -> list[tuple[str, str, str]]:
    """(name, relkind, owner) of every table, view and free-standing sequence of the schema
    (not those of an extension; a sequence owned by a column follows its table)."""
    rows = conn.execute(text(
        "SELECT c.relname, c.relkind, pg_get_userbyid(c.relowner) FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = :s AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S') "
        "AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_depend d "
        "  WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid "
        "  AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i'))) AND "
        + _NOT_EXTENSION.format(cls="'pg_class'", oid="c.oid")
        + " ORDER BY c.relname"), {"s": SCHEMA})
    return [tuple(r) for r in rows]


def _sequences(conn: Connection) -> list[str]:
    """Every sequence of the schema (owned by a column or not), not an extension's."""
    return list(conn.scalars(text(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = :s AND c.relkind = 'S' AND "
        + _NOT_EXTENSION.format(cls="'pg_class'", oid="c.oid")
        + " ORDER BY c.relname"), {"s": SCHEMA}))


def _routines(conn: Connection) -> list[tuple[str, str]]:
    """(signature, owner) of every function and procedure of the schema, not an extension's."""
    rows = conn.execute(text(
        "SELECT p.oid::regprocedure::text, pg_get_userbyid(p.proowner) FROM pg_proc p "
        "JOIN pg_namespace n ON n.oid = p.pronamespace "
        "WHERE n.nspname = :s AND p.prokind IN ('f', 'p') AND "
        + _NOT_EXTENSION.format(cls="'pg_proc'", oid="p.oid")
        + " ORDER BY 1"), {"s": SCHEMA})
    return [tuple(r) for r in rows]


def _types(conn: Connection) -> list[tuple[str, str]]:
    """(name, owner) of every enum, domain, range and free-standing composite type."""
    rows = conn.execute(text(
        "SELECT t.oid::regtype::text, pg_get_userbyid(t.typowner) FROM pg_type t "
        "JOIN pg_namespace n ON n.oid = t.typnamespace "
        "LEFT JOIN pg_class c ON c.oid = t.typrelid "
        "WHERE n.nspname = :s AND (t.typtype IN ('e', 'd', 'r') "
        "  OR (t.typtype = 'c' AND c.relkind = 'c')) AND "
        + _NOT_EXTENSION.format(cls="'pg_type'", oid="t.oid")
        + " ORDER BY 1"), {"s": SCHEMA})
    return [tuple(r) for r in rows]


def _tables(conn: Connection) -> list[str]:
    return [name for name, kind, _ in _relations(conn) if kind != "S"]


# --- the steps ----------------------------------------------------------------------------

def _transfer(run: _Run, owner: str) -> dict[str, int]:
    """Hand every object of the schema to the owner; returns how many of each changed."""
    moved = {"tabellen": 0, "reeksen": 0, "functies": 0, "typen": 0}
    for name, kind, current in _relations(run.conn):
        if current != owner:
            run.sql(f"ALTER {_KINDS[kind]} {_q(SCHEMA)}.{_q(name)} OWNER TO {_q(owner)}",
                    f"eigenaar van {name} overzetten naar {owner}")
            moved["reeksen" if kind == "S" else "tabellen"] += 1
    for signature, current in _routines(run.conn):
        if current != owner:
            run.sql(f"ALTER ROUTINE {_q(SCHEMA)}.{signature} OWNER TO {_q(owner)}",
                    f"eigenaar van functie {signature} overzetten naar {owner}")
            moved["functies"] += 1
    for name, current in _types(run.conn):
        if current != owner:
            run.sql(f"ALTER TYPE {name} OWNER TO {_q(owner)}",
                    f"eigenaar van type {name} overzetten naar {owner}")
            moved["typen"] += 1
    return moved


def _grant(run: _Run, owner: str, app: str) -> dict[tuple[str, ...], list[str]]:
    """Give the app role exactly its privileges on every table and sequence (whatever it
    had before is revoked first); returns the tables per set of privileges."""
    groups: dict[tuple[str, ...], list[str]] = {}
    for table in _tables(run.conn):
        target = f"{_q(SCHEMA)}.{_q(table)}"
        privileges = app_privileges(table)
        run.sql(f"REVOKE ALL ON TABLE {target} FROM {_q(app)}",
                f"rechten van {app} op {table} intrekken")
        run.sql(f"GRANT {', '.join(privileges)} ON TABLE {target} TO {_q(app)}",
                f"{app} rechten geven op {table}")
        groups.setdefault(privileges, []).append(table)
    for seq in _sequences(run.conn):
        target = f"{_q(SCHEMA)}.{_q(seq)}"
        run.sql(f"REVOKE ALL ON SEQUENCE {target} FROM {_q(app)}",
                f"rechten van {app} op reeks {seq} intrekken")
        run.sql(f"GRANT {', '.join(SEQUENCES)} ON SEQUENCE {target} TO {_q(app)}",
                f"{app} rechten geven op reeks {seq}")
    return groups


def _defaults(run: _Run, owner: str, app: str) -> None:
    """Default privileges: what the app role gets on objects the owner creates later."""
    scope = f"ALTER DEFAULT PRIVILEGES FOR ROLE {_q(owner)} IN SCHEMA {_q(SCHEMA)}"
    step = f"standaardrechten van {owner} voor {app} zetten"
    run.sql(f"{scope} REVOKE ALL ON TABLES FROM {_q(app)}", step)
    run.sql(f"{scope} GRANT {', '.join(DEFAULT_TABLES)} ON TABLES TO {_q(app)}", step)
    run.sql(f"{scope} REVOKE ALL ON SEQUENCES FROM {_q(app)}", step)
    run.sql(f"{scope} GRANT {', '.join(SEQUENCES)} ON SEQUENCES TO {_q(app)}", step)


def _schema(run: _Run, owner: str, app: str) -> None:
    """The owner may create in the schema; the app role and PUBLIC may only use it."""
    conn = run.conn
    schema_owner = conn.scalar(text("SELECT pg_get_userbyid(nspowner) FROM pg_namespace "
                                    "WHERE nspname = :s"), {"s": SCHEMA})
    if schema_owner == app:
        run.sql(f"ALTER SCHEMA {_q(SCHEMA)} OWNER TO {_q(owner)}",
                f"eigenaar van schema {SCHEMA} overzetten naar {owner}")
    public_creates = conn.scalar(text(
        "SELECT EXISTS (SELECT 1 FROM pg_namespace n, "
        "aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) a "
        "WHERE n.nspname = :s AND a.grantee = 0 AND a.privilege_type = 'CREATE')"),
        {"s": SCHEMA})
    if public_creates:
        run.sql(f"REVOKE CREATE ON SCHEMA {_q(SCHEMA)} FROM PUBLIC",
                f"iedereen (PUBLIC) het recht ontnemen tabellen te maken in {SCHEMA}")
    if conn.scalar(text("SELECT has_schema_privilege(:r, :s, 'CREATE')"),
                   {"r": app, "s": SCHEMA}):
        run.sql(f"REVOKE CREATE ON SCHEMA {_q(SCHEMA)} FROM {_q(app)}",
                f"{app} het recht ontnemen tabellen te maken in {SCHEMA}")
    if not conn.scalar(text("SELECT has_schema_privilege(:r, :s, 'USAGE')"),
                       {"r": app, "s": SCHEMA}):
        run.sql(f"GRANT USAGE ON SCHEMA {_q(SCHEMA)} TO {_q(app)}",
                f"{app} toegang geven tot schema {SCHEMA}")
    if not conn.scalar(text("SELECT has_schema_privilege(:r, :s, 'CREATE')"),
                       {"r": owner, "s": SCHEMA}):
        run.sql(f"GRANT USAGE, CREATE ON SCHEMA {_q(SCHEMA)} TO {_q(owner)}",
                f"{owner} het recht geven tabellen te maken in {SCHEMA}")


def _others(conn: Connection, owner: str, app: str) -> list[str]:
    """Roles besides owner and app (and superusers) that may change the evidence tables."""
    rows = conn.execute(text(
        "SELECT DISTINCT r.rolname, c.relname FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "CROSS JOIN LATERAL aclexplode(c.relacl) a JOIN pg_roles r ON r.oid = a.grantee "
        "WHERE n.nspname = :s AND c.relname = ANY(:t) "
        "AND a.privilege_type IN ('UPDATE', 'DELETE', 'TRUNCATE', 'TRIGGER') "
        "AND r.rolname NOT IN (:o, :a) AND NOT r.rolsuper ORDER BY 1, 2"),
        {"s": SCHEMA, "t": list(PROTECTED), "o": owner, "a": app})
    found: dict[str, list[str]] = {}
    for role, table in rows:
        found.setdefault(role, []).append(table)
    return [f"let op: rol {role} mag ook {', '.join(tables)} wijzigen of legen; trek dat in "
            f"(REVOKE ALL ON … FROM {role}) als die rol niet voor Deelwijs is"
            for role, tables in found.items()]


def _summary(groups: dict[tuple[str, ...], list[str]], app: str) -> list[str]:
    out = [f"rechten van {app} per tabel (nooit TRUNCATE, TRIGGER of REFERENCES; reeksen: "
           f"{', '.join(SEQUENCES)}):"]
    def rank(privileges: tuple[str, ...]) -> float:  # from the least to the most
        return len(privileges) - 0.5 * any("(" in p for p in privileges)

    for privileges, tables in sorted(groups.items(), key=lambda g: (rank(g[0]), g[0])):
        out.append(f"  {', '.join(privileges)}: {', '.join(sorted(tables))}")
    return out


# --- setting up ---------------------------------------------------------------------------

def setup(engine: Engine, owner: str, app: str, *, owner_password: str | None = None,
          app_password: str | None = None) -> list[str]:
    """Set up the owner and the app role on the engine's database (idempotently) and return
    what was done, as Dutch lines. Refusals raise RolesError; nothing is changed then."""
    owner = check_name(owner, "--owner")
    app = check_name(app, "--app")
    if owner == app:
        raise RolesError("--owner en --app moeten verschillende rollen zijn: juist de "
                         "scheiding houdt de app-rol weg van de triggers")
    if engine.dialect.name != "postgresql":
        raise RolesError("databaserollen zijn er alleen voor PostgreSQL; de ingebouwde "
                         "SQLite-database heeft geen rollen en heeft ze niet nodig (wie bij het "
                         "bestand kan, kan alles)")
    with engine.connect() as conn, conn.begin():
        conn.execute(text("SET LOCAL lock_timeout = '30s'"))
        return _setup(conn, owner, app, owner_password, app_password)


def _setup(conn: Connection, owner: str, app: str, owner_password: str | None,
           app_password: str | None) -> list[str]:
    me = conn.scalar(text("SELECT current_user"))
    database = conn.scalar(text("SELECT current_database()"))
    run = _Run(conn, me)
    existing = {r.rolname: r for r in conn.execute(text(
        "SELECT rolname, rolsuper, rolcreaterole, rolcanlogin FROM pg_roles "
        "WHERE rolname IN (:o, :a)"), {"o": owner, "a": app})}
    if app in existing:
        role = existing[app]
        if role.rolsuper:
            raise RolesError(f"--app: rol {app} is superuser en kan dus alle triggers "
                             f"uitzetten; kies een andere rol of maak hem gewoon (ALTER ROLE "
                             f"{app} NOSUPERUSER)")
        if role.rolcreaterole:
            raise RolesError(f"--app: rol {app} mag rollen maken en zichzelf zo lid maken van "
                             f"de eigenaar; kies een andere rol of neem dat recht af (ALTER "
                             f"ROLE {app} NOCREATEROLE)")
        if owner in existing and _member(conn, app, owner):
            raise RolesError(f"--app: rol {app} is lid van de eigenaar {owner} en heeft dus "
                             f"diens rechten; trek dat lidmaatschap in (REVOKE {owner} FROM "
                             f"{app})")
        if _member(conn, app, "pg_write_all_data"):
            raise RolesError(f"--app: rol {app} is lid van pg_write_all_data en mag dus elke "
                             f"tabel wijzigen; trek dat in (REVOKE pg_write_all_data FROM "
                             f"{app})")
    if me == app:
        raise RolesError(f"niet toegestaan: u bent verbonden als de app-rol {app} zelf. Voer "
                         "deelwijs db roles uit als superuser of als de eigenaar-rol "
                         "(--url of DEELWIJS_MIGRATE_DATABASE_URL)")
    for name, label in ((owner, "eigenaar: migreert en bezit tabellen, triggers en "
                                "functies"),
                        (app, "app: draait Deelwijs, kan het log alleen lezen en aanvullen")):
        if name in existing:
            if not existing[name].rolcanlogin:
                run.sql(f"ALTER ROLE {_q(name)} LOGIN", f"rol {name} laten inloggen")
            run.lines.append(f"rol {name} bestond al ({label})")
        else:
            run.sql(f"CREATE ROLE {_q(name)} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE "
                    "NOREPLICATION NOBYPASSRLS", f"rol {name} aanmaken")
            run.lines.append(f"rol {name} aangemaakt ({label})")
    for name, password in ((owner, owner_password), (app, app_password)):
        if password is not None:
            verifier = _scram(conn, name, password)
            run.sql(f"ALTER ROLE {_q(name)} PASSWORD '{verifier.replace(chr(39), chr(39) * 2)}'",
                    f"wachtwoord van {name} zetten")
            run.lines.append(f"wachtwoord van {name} gezet (als SCRAM-SHA-256)")
    if conn.scalar(text("SELECT pg_get_userbyid(datdba) FROM pg_database "
                        "WHERE datname = current_database()")) == app:
        run.sql(f"ALTER DATABASE {_q(database)} OWNER TO {_q(owner)}",
                f"eigenaar van database {database} overzetten naar {owner}")
        run.lines.append(f"database {database} is nu van {owner} (was van {app})")
    _schema(run, owner, app)
    moved = _transfer(run, owner)
    if any(moved.values()):
        run.lines.append(f"naar eigenaar {owner} overgezet: "
                         + ", ".join(f"{n} {k}" for k, n in moved.items() if n))
    else:
        run.lines.append(f"alle tabellen, reeksen, functies en typen waren al van {owner}")
    groups = _grant(run, owner, app)
    _defaults(run, owner, app)
    if groups:
        run.lines.extend(_summary(groups, app))
    run.lines.append(f"nieuwe tabellen van {owner}: {app} krijgt meteen "
                     f"{', '.join(DEFAULT_TABLES)}; deelwijs db upgrade geeft daarna de rest")
    if not any("alembic_version" in tables for tables in groups.values()):
        run.lines.append(f"de database heeft nog geen schema: voer nu deelwijs db upgrade uit "
                         f"als {owner}")
    run.lines.extend(_others(conn, owner, app))
    return run.lines


def _scram(conn: Connection, role: str, password: str) -> str:
    """The SCRAM-SHA-256 verifier of a password, made by libpq on this side: the password
    itself never reaches the server (or its statement log)."""
    pgconn = conn.connection.dbapi_connection.pgconn
    return pgconn.encrypt_password(password.encode(), role.encode(),
                                   b"scram-sha-256").decode()


# --- after a migration --------------------------------------------------------------------

def configured(conn: Connection) -> list[tuple[str, str]]:
    """(owner, app) pairs that `setup` left in the database: the default privileges an owner
    set in the schema for tables, granting INSERT to another role."""
    rows = conn.execute(text(
        "SELECT DISTINCT pg_get_userbyid(d.defaclrole), r.rolname FROM pg_default_acl d "
        "JOIN pg_namespace n ON n.oid = d.defaclnamespace "
        "CROSS JOIN LATERAL aclexplode(d.defaclacl) a JOIN pg_roles r ON r.oid = a.grantee "
        "WHERE n.nspname = :s AND d.defaclobjtype = 'r' AND a.privilege_type = 'INSERT' "
        "AND a.grantee <> d.defaclrole ORDER BY 1, 2"), {"s": SCHEMA})
    return [tuple(r) for r in rows]


def after_upgrade(engine: Engine) -> list[str]:
    """After migrating: where `setup` made two roles, hand what the migration created to the
    owner (if a superuser ran it) and give the app role its privileges on every table,
    the new ones included. Skipped (nothing to do, or not allowed to) otherwise. Returns
    Dutch lines for the CLI."""
    if engine.dialect.name != "postgresql":
        return []
    with engine.connect() as conn, conn.begin():
        pairs = configured(conn)
        if not pairs:
            return []
        me = conn.scalar(text("SELECT current_user"))
        run = _Run(conn, me)
        superuser = _is_super(conn, me)
        for owner, app in pairs:
            if not (superuser or _member(conn, me, owner)):
                continue  # (the app role, say, opening an up-to-date database)
            # a superuser's migration created objects of its own: they go to the owner
            moved = _transfer(run, owner) if superuser else {}
            groups = _grant(run, owner, app)
            run.lines.append(f"rechten van {app} bijgewerkt op {sum(map(len, groups.values()))} "
                             f"tabellen" + (f"; {sum(moved.values())} objecten naar {owner} "
                                            "overgezet" if any(moved.values()) else ""))
        return run.lines
