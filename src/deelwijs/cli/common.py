"""What every command of the `deelwijs` CLI shares (public, for the command modules):

- opening Deelwijs: `open_app` (settings, database, keys; migrates the embedded database),
  `session` (one transaction, a DeelwijsError printed as `field: message`, exit 2; the
  operator's only) and `unit` (one unit of work, services/context.py: the account of the
  personal access token, or the operator, and `--by`);
- who acts (README, "Who the command line acts as"): `token` (DEELWIJS_TOKEN or
  DEELWIJS_TOKEN_FILE) and `operator_only` (a command that works on the installation itself
  refuses a token);
- refusing: `fail` (a Dutch line, exit 2 unless told) and `refuse` (a DeelwijsError: a line
  per problem);
- reading input: `day` (JJJJ-MM-DD), `load_ruleset` (a built-in id or a file), the `Bounded`
  parsers ID, VERSION and COUNT (whole numbers the database can hold) and the options every
  group uses (RegionOpt, DateOpt, ByOpt, LimitOpt, CaseArg);
- writing output: `show` (JSON on stdout), `output_target` and `write_output` (a file only
  where it may go: never the database, a key or var/, never over a file without --force,
  always 0600).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from contextlib import contextmanager
from typing import Annotated, NoReturn

import typer

from deelwijs.errors import DeelwijsError

# --- numbers the database can hold ---------------------------------------------------------

DB_INTEGER_MAX = 2_147_483_647  # PostgreSQL integer: every id and version column (storage/orm.py)
DB_BIGINT_MAX = 9_223_372_036_854_775_807  # PostgreSQL bigint, SQLite INTEGER: sizes, limits


class Bounded:
    """A typer `parser` for a whole number the database can hold: digits only (no sign, no
    spaces inside, no 1e3 or 1_000), between `low` and `high`. Anything else is refused before
    the command runs, as `--option: '…' is geen geldig id (…)` and exit 2 (cli.main), never an
    OverflowError from the database ('interne fout')."""

    def __init__(self, what: str, low: int, high: int):
        self.what, self.low, self.high = what, low, high

    def __call__(self, value) -> int:
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        else:
            text = str(value).strip()
            shown = "".join(c if c.isprintable() else "?" for c in text[:24])
            shown += "…" if len(text) > 24 else ""
            if not (text.isascii() and text.isdigit()):
                raise ValueError(f"'{shown}' is geen geldig {self.what}: {self._range()}")
            # (at most as many digits as the largest allowed: int() of a huge text is slow)
            number = int(text) if len(text.lstrip("0")) <= len(str(self.high)) else self.high + 1
            value = shown
        if not self.low <= number <= self.high:
            raise ValueError(f"'{value}' is geen geldig {self.what}: {self._range()}")
        return number

    def _range(self) -> str:
        return f"een geheel getal van {self.low} tot en met {self.high}"


ID = Bounded("id", 1, DB_INTEGER_MAX)  # ids of every table the commands name
VERSION = Bounded("versienummer", 1, DB_INTEGER_MAX)  # optimistic locking: the version seen
COUNT = Bounded("aantal", 0, DB_BIGINT_MAX)  # limits, offsets, log sizes, batch sizes

RegionOpt = Annotated[str, typer.Option("--region", help="Regiocode.")]
DateOpt = Annotated[str | None, typer.Option("--on", help="Datum JJJJ-MM-DD (standaard: vandaag).")]


def fail(msg: str, code: int = 2) -> None:
    print(msg, file=sys.stderr)
    raise typer.Exit(code)


def refuse(exc: DeelwijsError) -> NoReturn:
    """A Deelwijs error (deelwijs.errors) as the CLI says it: its lines on stderr (`field:
    message`, or one line per problem of a request or ruleset) and exit 2."""
    print("\n".join(exc.lines()), file=sys.stderr)
    raise typer.Exit(2)


def output_target(path, force: bool, option: str):
    """The file an output option (`--pdf`, `--out`, `--output`) names, checked before
    anything is read, logged or written (files.check_target: not over an existing file
    without --force, never over the database, a key file or inside the data directory); a
    refusal is one Dutch line and exit 2. None when the option was not given."""
    from deelwijs import files

    if path is None:
        return None
    try:
        return files.check_target(path, force=force, option=option)
    except files.OutputRefused as exc:
        fail(str(exc))


def write_output(path, data: bytes | str, force: bool, option: str):
    """files.write_private (0600, atomically, checked again); a refusal is one Dutch line
    and exit 2. Returns the path written."""
    from deelwijs import files

    try:
        return files.write_private(path, data, force=force, option=option)
    except files.OutputRefused as exc:
        fail(str(exc))


def day(value: str | None, field: str = "--on") -> dt.date:
    if value is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        fail(f"{field}: '{value}' is geen datum in de vorm JJJJ-MM-DD")


ByOpt = Annotated[int | None, typer.Option(
    "--by", help="Id van de professional als wie dit gebeurt (voor de toegang en het "
    "verwerkingslog). Met het token van een professional: weglaten of het eigen id. Zonder "
    "token (het beheer) of met het token van een beheerder: handelen namens die professional, "
    "vastgelegd met beide identiteiten. Zonder --by en zonder token: het beheer.", parser=ID)]


LimitOpt = Annotated[int, typer.Option(help="Hoogstens zoveel.", parser=COUNT)]
CaseArg = Annotated[int, typer.Argument(help="Id van de casus.", parser=ID)]


def load_ruleset(name: str | None):
    """The ruleset a command names with --ruleset: built-in id or file, else stored in the
    database (services.rulesets.find_configured); otherwise its problems, one a line, and
    exit 2. A built-in id or a file is found by the loader alone: `decide` then starts
    without the database layer (SQLAlchemy is a large import)."""
    from deelwijs.rules import loader

    try:
        return loader.resolve(name)
    except loader.RulesetError:
        pass  # stored in the database, or not at all: rulesets.find_configured says which
    from deelwijs.services import rulesets

    try:
        found = rulesets.find_configured(name)
    except DeelwijsError as exc:  # RulesetError
        refuse(exc)
    return rulesets.of_version(found, label=f"database:{name}")


def show(obj) -> None:
    print(json.dumps(obj, ensure_ascii=False, indent=2, default=str))


@contextmanager
def open_app(migrate: bool | None = None, keys: bool = True):
    """The application on DEELWIJS_DATABASE_URL; with keys=False only its engine (migrating
    needs no master key). Every way opening or using the database can fail ends here as one
    Dutch line: a setting (exit 2), a master key that does not fit the data (exit 2), a
    database that cannot be reached (exit 1)."""
    from cryptography.fernet import InvalidToken
    from sqlalchemy.exc import ArgumentError, OperationalError

    engine = None
    try:
        if keys:
            from deelwijs.services.app import open_app

            app = open_app(migrate=migrate)
            engine = app.engine
            yield app
        else:
            from deelwijs.settings import load
            from deelwijs.storage import db

            engine = db.make_engine(load().database_url)
            if migrate:
                db.upgrade(engine)
            yield engine
    except DeelwijsError as exc:  # NotMigrated, SettingsError
        refuse(exc)
    except InvalidToken:
        fail("DEELWIJS_MASTER_KEY: de hoofdsleutel past niet bij de gegevens in deze "
              "database (een andere sleutel dan waarmee ze zijn versleuteld). Zet de juiste "
              "sleutel in DEELWIJS_MASTER_KEY of DEELWIJS_MASTER_KEY_FILE.")
    except OperationalError as exc:
        fail("database niet bereikbaar: " + " ".join(str(exc.orig or exc).split()), 1)
    except ArgumentError as exc:
        fail(f"DEELWIJS_DATABASE_URL: geen bruikbare database-URL ({exc})")
    finally:
        if engine is not None:
            engine.dispose()


# --- who acts: a personal access token, or the installation's operator -----------------------

TOKEN_ENV = "DEELWIJS_TOKEN"
TOKEN_FILE_ENV = "DEELWIJS_TOKEN_FILE"
TOKEN_FILE_MAX = 4096  # a token is 46 characters


def token() -> tuple[str, str] | None:
    """The personal access token the command acts with, and the variable it came from:
    DEELWIJS_TOKEN, or the file DEELWIJS_TOKEN_FILE names (surrounding whitespace ignored).
    None without either: the command acts as the installation's operator. Both at once, an
    unreadable or empty file: one Dutch line, exit 2."""
    from deelwijs import files

    value = os.environ.get(TOKEN_ENV, "").strip()
    path = os.environ.get(TOKEN_FILE_ENV, "")
    if value and path.strip():
        fail(f"{TOKEN_ENV}: zet {TOKEN_ENV} of {TOKEN_FILE_ENV}, niet allebei")
    if path.strip():
        try:
            value = files.read_text(path, TOKEN_FILE_MAX, "tokenbestand").strip()
        except files.Unreadable as exc:
            fail(f"{TOKEN_FILE_ENV}: {exc}")
        if not value:
            fail(f"{TOKEN_FILE_ENV}: {path} is leeg; er staat geen token in")
        return value, TOKEN_FILE_ENV
    return (value, TOKEN_ENV) if value else None


def operator_only() -> None:
    """A command that works on the installation itself, not through a use case that checks
    who acts (the log's checkpoints and proofs, the demo, a stored ruleset's check, ...), is
    the operator's: with a token it is refused (exit 2) before anything is opened."""
    given = [name for name in (TOKEN_ENV, TOKEN_FILE_ENV) if os.environ.get(name, "").strip()]
    if given:
        fail(f"{given[0]}: dit commando is alleen voor het beheer van de installatie (wie de "
             "database en haar sleutels heeft), niet voor een account; voer het uit zonder "
             f"{TOKEN_ENV} en {TOKEN_FILE_ENV}")


def command_name() -> str:
    """The command being run, without its arguments ("deelwijs case show"): what an account
    event records of an administrator's act (arguments may hold personal data)."""
    try:  # typer carries its own click (cli/nl.py uses it too)
        from typer._click.globals import get_current_context
    except ImportError:  # an older typer, on the installed click
        from click import get_current_context

    ctx = get_current_context(silent=True)
    return ctx.command_path if ctx is not None else ""


@contextmanager
def session():
    """One transaction on the database, as the installation's operator: refused with a
    token (operator_only). A command that acts for someone uses `unit`."""
    operator_only()
    with open_app() as app:
        try:
            with app.transaction() as s:
                yield app, s
        except DeelwijsError as exc:  # ServiceError, RulesetError
            refuse(exc)


@contextmanager
def unit(by: int | None = None, hat: str | None = None, today: dt.date | None = None,
          field: str = "by"):
    """One unit of work for a command (services/context.py). Who acts (services/accounts.py,
    `acting`): the account of the personal access token (`token`; unknown, revoked,
    expired or of a disabled account: refused on the variable's name, nothing done), or the
    installation's operator without one; `by` (`--by`, or the option named `field`) is the
    token's own professional, or the professional the operator or an administrator acts for
    (recorded with both identities: an account event, and every processing-log entry of the
    unit names the administrator beside the professional, audit.acting). An unknown
    professional or a `--by` the token may not give is refused on `field`. Today is the
    clock's date unless given."""
    from deelwijs.services.context import Unit

    given = token()
    with open_app() as app:
        try:
            with app.transaction() as s:
                if given is None and by is None:  # the operator (accounts not even imported)
                    from deelwijs.services.context import Actor

                    actor = Actor.admin()
                    yield Unit(app, s, actor, today or dt.date.today())
                    return
                from deelwijs.services import accounts
                from deelwijs.services.log import audit

                now = accounts.utcnow()
                account = None if given is None else accounts.token_account(
                    s, given[0], now=now, today=dt.date.today(), field=given[1])
                actor = accounts.acting(s, account, by, hat=hat, field=field,
                                        command=command_name(), now=now)
                with audit.acting(actor):
                    yield Unit(app, s, actor, today or dt.date.today())
        except DeelwijsError as exc:  # ServiceError, RulesetError
            refuse(exc)
