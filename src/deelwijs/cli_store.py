"""Commands over the database: migrate, demo data, and the casusoverleg from the command line.

Every command opens the database of DEELWIJS_DATABASE_URL (default: the embedded SQLite file
under var/, migrated automatically). Errors print `field: message` in Dutch and exit 2;
nothing is written then.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from contextlib import contextmanager
from typing import Annotated, NoReturn

import typer

from deelwijs.errors import DeelwijsError

db_app = typer.Typer(help="Database: bijwerken en controleren.", no_args_is_help=True,
                     rich_markup_mode=None)
org_app = typer.Typer(help="Organisaties (convenantpartijen).", no_args_is_help=True,
                      rich_markup_mode=None)
youth_app = typer.Typer(help="Jongeren, hun ouders en hun toestemmingen.", no_args_is_help=True,
                        rich_markup_mode=None)
case_app = typer.Typer(help="Casussen en overleggen.", no_args_is_help=True,
                       rich_markup_mode=None)
disclosure_app = typer.Typer(help="Verstrekkingen: vastleggen, tonen, per jongere.",
                             no_args_is_help=True, rich_markup_mode=None)
consent_app = typer.Typer(help="Toestemming vastleggen, wijzigen of intrekken.",
                          no_args_is_help=True, rich_markup_mode=None)

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


def _fail(msg: str, code: int = 2) -> None:
    print(msg, file=sys.stderr)
    raise typer.Exit(code)


def _refuse(exc: DeelwijsError) -> NoReturn:
    """A Deelwijs error (deelwijs.errors) as the CLI says it: its lines on stderr (`field:
    message`, or one line per problem of a request or ruleset) and exit 2."""
    print("\n".join(exc.lines()), file=sys.stderr)
    raise typer.Exit(2)


def _output_target(path, force: bool, option: str):
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
        _fail(str(exc))


def _write_output(path, data: bytes | str, force: bool, option: str):
    """files.write_private (0600, atomically, checked again); a refusal is one Dutch line
    and exit 2. Returns the path written."""
    from deelwijs import files

    try:
        return files.write_private(path, data, force=force, option=option)
    except files.OutputRefused as exc:
        _fail(str(exc))


def _day(value: str | None, field: str = "--on") -> dt.date:
    if value is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        _fail(f"{field}: '{value}' is geen datum in de vorm JJJJ-MM-DD")


ByOpt = Annotated[int | None, typer.Option(
    "--by", help="Id van de professional die dit inziet (voor het verwerkingslog; zonder: "
    "beheer).", parser=ID)]


LimitOpt = Annotated[int, typer.Option(help="Hoogstens zoveel.", parser=COUNT)]
CaseArg = Annotated[int, typer.Argument(help="Id van de casus.", parser=ID)]


def _load_ruleset(name: str | None):
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
        _refuse(exc)
    return rulesets.of_version(found, label=f"database:{name}")


def _print(obj) -> None:
    print(json.dumps(obj, ensure_ascii=False, indent=2, default=str))


@contextmanager
def _app(migrate: bool | None = None, keys: bool = True):
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
        _refuse(exc)
    except InvalidToken:
        _fail("DEELWIJS_MASTER_KEY: de hoofdsleutel past niet bij de gegevens in deze "
              "database (een andere sleutel dan waarmee ze zijn versleuteld). Zet de juiste "
              "sleutel in DEELWIJS_MASTER_KEY of DEELWIJS_MASTER_KEY_FILE.")
    except OperationalError as exc:
        _fail("database niet bereikbaar: " + " ".join(str(exc.orig or exc).split()), 1)
    except ArgumentError as exc:
        _fail(f"DEELWIJS_DATABASE_URL: geen bruikbare database-URL ({exc})")
    finally:
        if engine is not None:
            engine.dispose()


@contextmanager
def _session():
    with _app() as app:
        try:
            with app.transaction() as s:
                yield app, s
        except DeelwijsError as exc:  # ServiceError, RulesetError
            _refuse(exc)


@contextmanager
def _unit(by: int | None = None, hat: str | None = None, today: dt.date | None = None,
          field: str = "by"):
    """One unit of work for a command (services/context.py): the actor is the professional
    of `--by` (an unknown one is refused with `field`, the option's name), or the
    administrator without it; today is the clock's date unless given."""
    from deelwijs.services.context import Unit, actor_of

    with _session() as (app, s):
        try:
            actor = actor_of(s, by, field, hat)
        except DeelwijsError as exc:
            _refuse(exc)
        yield Unit(app, s, actor, today or dt.date.today())


# --- db ------------------------------------------------------------------------------------


UrlOpt = Annotated[str | None, typer.Option(
    "--url", help="De database-URL van de eigenaar-rol (standaard: "
    "DEELWIJS_MIGRATE_DATABASE_URL, anders DEELWIJS_DATABASE_URL).")]


def _connect_problem(exc, source: str) -> None:
    """A connection that failed, as one Dutch line: a database or role that does not exist
    is bad input (exit 2), anything else unreachable (exit 1)."""
    import re

    raw = " ".join(str(exc.orig or exc).split())
    missing = re.search(r'(database|role) "([^"]+)" does not exist', raw)
    if missing:
        what = "database" if missing.group(1) == "database" else "rol"
        _fail(f"{source}: {what} '{missing.group(2)}' bestaat niet op die server; "
              + ("maak hem eerst aan (createdb) of noem een andere database"
                 if what == "database" else "noem een bestaande rol in de URL"))
    if "password authentication failed" in raw:
        _fail(f"{source}: aanmelden geweigerd (wachtwoord onjuist)")
    _fail("database niet bereikbaar: " + raw, 1)


@contextmanager
def _owner_engine(url: str | None):
    """An engine for migrating and setting up roles (no master key needed): on --url, else
    DEELWIJS_MIGRATE_DATABASE_URL, else DEELWIJS_DATABASE_URL. Returns (engine, source), the
    source naming where the URL came from (for messages)."""
    from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError

    from deelwijs.settings import load
    from deelwijs.storage import db

    engine = None
    try:
        if url is not None:
            source = "--url"
        else:
            config = load()
            url, source = ((config.migrate_url, "DEELWIJS_MIGRATE_DATABASE_URL")
                           if config.migrate_url else
                           (config.database_url, "DEELWIJS_DATABASE_URL"))
        try:
            engine = db.make_engine(url)
        except ArgumentError:
            _fail(f"{source}: geen bruikbare database-URL; verwacht bijvoorbeeld "
                  "postgresql://rol@host:5432/database")
        yield engine, source
    except DeelwijsError as exc:  # SettingsError, RolesError
        _refuse(exc)
    except OperationalError as exc:
        _connect_problem(exc, source)
    except DBAPIError as exc:  # (a migration the connected role may not run)
        if getattr(exc.orig, "sqlstate", None) == "42501":
            _fail(f"niet toegestaan: de rol in {source} mag het schema niet wijzigen. Migreer "
                  "als de eigenaar-rol (DEELWIJS_MIGRATE_DATABASE_URL of --url; zie deelwijs "
                  "db roles)")
        _fail("de database weigerde dit: " + " ".join(str(exc.orig or exc).split()), 1)
    finally:
        if engine is not None:
            engine.dispose()


@db_app.command("upgrade")
def db_upgrade(url: UrlOpt = None) -> None:
    """Werk de database bij naar het nieuwste schema (nodig voor PostgreSQL), als de
    eigenaar-rol (DEELWIJS_MIGRATE_DATABASE_URL of --url). Met twee rollen (deelwijs db
    roles) krijgt de app-rol daarna zijn rechten op nieuwe tabellen. Daarvoor is geen
    hoofdsleutel nodig."""
    from deelwijs.storage.db import current_revision, head_revision, upgrade

    with _owner_engine(url) as (engine, _):
        lines = upgrade(engine)
        print(f"database op schema {current_revision(engine)} (nieuwste: {head_revision()})")
        for line in lines:
            print(line)


@db_app.command("roles")
def db_roles(
    owner: Annotated[str | None, typer.Option(
        "--owner", help="De eigenaar-rol: migreert, bezit tabellen, triggers en functies.")
    ] = None,
    app: Annotated[str | None, typer.Option(
        "--app", help="De app-rol waarmee Deelwijs draait: kan het log alleen lezen en "
        "aanvullen, en geen trigger uitzetten.")] = None,
    owner_password_file: Annotated[str | None, typer.Option(
        "--owner-password-file", help="Bestand met het wachtwoord voor de eigenaar-rol.")
    ] = None,
    app_password_file: Annotated[str | None, typer.Option(
        "--app-password-file", help="Bestand met het wachtwoord voor de app-rol.")] = None,
    url: UrlOpt = None,
) -> None:
    """Zet op PostgreSQL twee rollen op (idempotent): een eigenaar die migreert en een
    app-rol die het verwerkingslog en de toestemmingen alleen kan lezen en aanvullen.
    Maakt ontbrekende rollen aan, zet alle tabellen, reeksen en functies op naam van de
    eigenaar, geeft de app-rol precies wat Deelwijs nodig heeft en zet standaardrechten voor
    latere migraties. Voer dit uit als superuser (of als de eigenaar-rol)."""
    from deelwijs.storage import roles

    try:
        owner = roles.check_name(owner, "--owner")
        app = roles.check_name(app, "--app")
        passwords = {
            key: roles.read_password(path, option) if path is not None else None
            for key, path, option in (
                ("owner_password", owner_password_file, "--owner-password-file"),
                ("app_password", app_password_file, "--app-password-file"))}
    except roles.RolesError as exc:
        _fail(str(exc))
    with _owner_engine(url) as (engine, _):
        for line in roles.setup(engine, owner, app, **passwords):
            print(line)


@db_app.command("check")
def db_check() -> None:
    """Controleer of de database op het nieuwste schema staat (exit 1 als dat niet zo is)."""
    from deelwijs.storage.db import current_revision, head_revision

    with _app(migrate=False, keys=False) as engine:
        current, head = current_revision(engine), head_revision()
    print(f"schema {current or '(leeg)'}; nieuwste {head}")
    if current != head:
        _fail("niet bijgewerkt: voer uit deelwijs db upgrade", 1)


# --- demo ----------------------------------------------------------------------------------


def run_demo(youths: int = 200) -> dict:
    from tqdm import tqdm

    from deelwijs.services import demo
    from deelwijs.services.errors import ServiceError

    with _app() as app:
        if demo.exists(app):
            return {"created": False}
        try:
            with tqdm(total=youths + 2, desc="demoregio", unit="stap") as bar:
                return demo.build(app, dt.date.today(), youths_n=youths, progress=bar.update)
        except ServiceError as exc:
            _fail(str(exc))


def demo_command(
    youths: Annotated[int, typer.Option(help="Aantal jongeren (1 tot en met 9000).",
                                        parser=Bounded("aantal jongeren", 1, 9000))] = 200,
) -> None:
    """Vul een nieuwe database met een synthetische demoregio (idempotent): organisaties van
    elk type, jongeren met ouders, toestemming in elke stand, casussen van elk doel,
    overleggen en toegestane en geweigerde verstrekkingen."""
    counts = run_demo(youths)
    if not counts.get("created"):
        print("De demoregio bestaat al; er is niets veranderd.")
        return
    labels = {"organisations": "organisaties", "youths": "jongeren", "cases": "casussen",
              "consents": "toestemmingen", "disclosures": "verstrekkingen"}
    print("Demoregio aangemaakt: " + ", ".join(f"{counts[k]} {v}" for k, v in labels.items()))


# --- organisations -------------------------------------------------------------------------


@org_app.command("list")
def org_list(region: RegionOpt = "demo") -> None:
    """Alle organisaties van een regio, per partijsoort."""
    from deelwijs.services.covenant import registry

    with _unit() as u:
        rows = registry.list_organisations(u, registry.region_by_code(u.session, region))
    for o in rows:
        print(f"{o['id']:>5}  {o['party']:<13} {o['name']}")


@org_app.command("show")
def org_show(org_id: Annotated[int, typer.Argument(help="Id van de organisatie.",
                                                  parser=ID)]) -> None:
    """Eén organisatie met ondertekeningen, machtigingen en ondertekenaars (JSON)."""
    from deelwijs.services.covenant import registry

    with _session() as (_, s):
        _print(registry.organisation_view(s, registry.organisation(s, org_id)))


# --- youths --------------------------------------------------------------------------------


@youth_app.command("list")
def youth_list(region: RegionOpt = "demo", limit: LimitOpt = 50,
               offset: Annotated[int, typer.Option(help="Sla zoveel jongeren over.",
                                                   parser=COUNT)] = 0,
               by: ByOpt = None) -> None:
    """Jongeren van een regio (BSN gemaskeerd). Elke getoonde jongere komt in het
    verwerkingslog."""
    from deelwijs.services.casus import youths
    from deelwijs.services.covenant import registry

    with _unit(by=by) as u:
        rows = youths.list_youths(u, registry.region_by_code(u.session, region), limit, offset)
    for y in rows:
        print(f"{y['id']:>5}  {y['age']:>2} jr  {y['name']}")


@youth_app.command("show")
def youth_show(youth_id: Annotated[int, typer.Argument(help="Id van de jongere.", parser=ID)],
               by: ByOpt = None) -> None:
    """Eén jongere: ouders (met of zonder gezag), toestemmingen met geschiedenis en
    verstrekkingen (JSON). Het inzien komt in het verwerkingslog."""
    from deelwijs.services.casus import consent, disclosures, youths

    with _unit(by=by) as u:
        y = youths.get_youth(u.session, youth_id)
        view = youths.read_youth(u, y.id)
        view["consent"] = consent.history(u, y.id)
        view["disclosures"] = disclosures.list_for_youth(u, y.id)
    _print(view)


# --- cases ---------------------------------------------------------------------------------


@case_app.command("list")
def case_list(region: RegionOpt = "demo", limit: LimitOpt = 50) -> None:
    """Casussen van een regio (elke getoonde casus over een jongere wordt gelogd als
    raadpleging)."""
    from deelwijs.services.casus import cases
    from deelwijs.services.covenant import registry

    with _unit() as u:
        r = registry.region_by_code(u.session, region)
        for c in cases.list_cases(u, r, limit):
            who = "anoniem" if c["anonymous"] else f"jongere {c['youth_id']}"
            print(f"{c['id']:>5}  {c['purpose']:<22} {c['overleg'] or '':<18} {who:<14} "
                  f"{c['title']}")


@case_app.command("show")
def case_show(case_id: CaseArg) -> None:
    """Eén casus met deelnemers, overleggen, agenda, acties en verstrekkingen (JSON); over
    een jongere wordt het inzien gelogd."""
    from deelwijs.services.casus import cases

    with _unit() as u:
        out = cases.read_case(u, case_id)
    _print(out)


@case_app.command("identify")
def case_identify(
    case_id: CaseArg,
    youth: Annotated[int, typer.Option(help="Id van de jongere.", parser=ID)],
    professional: Annotated[int, typer.Option(help="Id van de professional.", parser=ID)],
    on: DateOpt = None,
) -> None:
    """Zet een anonieme casus op naam, alleen als identificerende gegevens naar elke
    deelnemer mogen (met de toestemming die dat vraagt). Anders verandert er niets."""
    from deelwijs.services.casus import identification
    from deelwijs.services.context import Unit, actor_of

    day = _day(on)
    with _session() as (app, s):  # (the actor is --professional: unknown, its field names it)
        u = Unit(app, s, actor_of(s, professional, "professional"), dt.date.today())
        identification.identify_case(u, case_id, youth, day)
    print(f"Casus {case_id} staat nu op naam van jongere {youth}.")


# --- disclosures ---------------------------------------------------------------------------


@disclosure_app.command("list")
def disclosure_list(youth: Annotated[int, typer.Option(help="Id van de jongere.",
                                                       parser=ID)]) -> None:
    """Elke verstrekking over één jongere, nieuwste eerst."""
    from deelwijs.services.casus import disclosures

    with _unit() as u:
        rows = disclosures.list_for_youth(u, youth)
    for d in rows:
        cats = ", ".join(f"{i['data']}:{i['outcome']}" for i in d["items"])
        print(f"{d['id']:>6}  {d['on']}  {d['outcome']:<7} {d['from_org']}→{d['to_org']}  "
              f"{d['purpose']}  [{cats}]")


@disclosure_app.command("show")
def disclosure_show(disclosure_id: Annotated[int, typer.Argument(
                        help="Id van de verstrekking.", parser=ID)],
                    by: ByOpt = None) -> None:
    """Eén verstrekking met het volledige besluit en de inhoud (JSON). Het inzien van de
    inhoud komt in het verwerkingslog."""
    from deelwijs.services.casus import disclosures
    from deelwijs.services.errors import NotFound
    from deelwijs.storage import orm

    with _unit(by=by) as u:
        row = u.session.get(orm.Disclosure, disclosure_id)
        if row is None:
            raise NotFound("not_found", f"onbekende verstrekking ({disclosure_id})",
                           "disclosure")
        out = disclosures.read(u, row)
        out["decision"] = row.decision
    _print(out)


@disclosure_app.command("record")
def disclosure_record(
    professional: Annotated[int, typer.Option(help="Id van de professional die deelt.", parser=ID)],
    to: Annotated[int, typer.Option("--to", help="Id van de ontvangende organisatie.", parser=ID)],
    data: Annotated[list[str], typer.Option(
        "--data", help="categorie=inhoud, herhaalbaar (bv. --data verzuim='3 dagen').")],
    case: Annotated[int | None, typer.Option(help="Id van de casus.", parser=ID)] = None,
    youth: Annotated[int | None, typer.Option(help="Id van de jongere (zonder casus).",
                                              parser=ID)] = None,
    purpose: Annotated[str | None, typer.Option(help="Doel (zonder casus).")] = None,
    hat: Annotated[str | None, typer.Option(help="Pet: toeleiding, hulpverlening, "
                                            "coordinatie.")] = None,
    task: Annotated[str, typer.Option(help="own, both of recipient (ABC).")] = "both",
    meeting: Annotated[int | None, typer.Option(help="Id van het overleg.", parser=ID)] = None,
    kind: Annotated[str, typer.Option(help="minute, document of answer.")] = "answer",
    on: DateOpt = None,
) -> None:
    """Leg een verstrekking vast: de engine beslist uit de opgeslagen feiten. Ook een
    geweigerde poging wordt vastgelegd, met het besluit dat zegt waarom, maar zonder de inhoud
    van wat niet mocht. Exit 0 ook als (een deel) geweigerd is."""
    from deelwijs.services.casus import disclosures

    contents = {}
    for i, pair in enumerate(data):
        cat, sep, text = pair.partition("=")
        if not sep or not cat:
            _fail(f"--data[{i}]: gebruik categorie=inhoud")
        if cat in contents:
            _fail(f"--data[{i}]: categorie '{cat}' staat er twee keer")
        contents[cat] = text
    day = _day(on)
    with _unit(by=professional, hat=hat, field="professional") as u:
        row = disclosures.record(u, to_org_id=to, contents=contents, day=day, kind=kind,
                                 case_id=case, youth_id=youth, purpose=purpose, hat=hat,
                                 task=task, meeting_id=meeting)
        out = disclosures.view(u.session, row)
    _print(out)


# --- consent -------------------------------------------------------------------------------


@consent_app.command("record")
def consent_record(
    youth: Annotated[int, typer.Option(help="Id van de jongere.", parser=ID)],
    role: Annotated[str, typer.Option(help="parent (ouder met gezag) of youth.")],
    answer: Annotated[str, typer.Option(help="given of refused.")],
    purpose: Annotated[list[str], typer.Option(help="Doel, herhaalbaar.")],
    data: Annotated[list[str], typer.Option(help="Gegevenscategorie, herhaalbaar.")],
    guardian: Annotated[int | None, typer.Option(help="Id van de ouder (bij parent).",
                                                 parser=ID)] = None,
    recipient: Annotated[list[int] | None, typer.Option(
        help="Id van een ontvangende organisatie, herhaalbaar (leeg: alle partijen).",
        parser=ID)] = None,
    document: Annotated[str | None, typer.Option(help="Verwijzing naar het formulier.")] = None,
    not_written: Annotated[bool, typer.Option("--not-written",
                                              help="Mondeling gegeven.")] = False,
    prior_to: Annotated[int | None, typer.Option(help="Id van het overleg waarvóór de "
                                                 "toestemming is gegeven.", parser=ID)] = None,
    on: DateOpt = None,
) -> None:
    """Leg toestemming of weigering vast (versie 1 van een nieuwe reeks)."""
    from deelwijs.services.casus import consent, youths

    with _unit() as u:
        row = consent.record(u, youths.get_youth(u.session, youth), role, answer, purpose, data,
                             _day(on), written=not not_written,
                             recipient_ids=recipient or [], guardian_id=guardian,
                             document_ref=document, prior_to_meeting_id=prior_to)
        _print({"series": row.series, "version": row.version, "answer": row.answer})


@consent_app.command("change")
def consent_change(
    series: str,
    version: Annotated[int, typer.Option(help="De versie die u zag (optimistische "
                                         "vergrendeling).", parser=VERSION)],
    answer: Annotated[str, typer.Option(help="withdrawn, given of refused.")] = "withdrawn",
    on: DateOpt = None,
) -> None:
    """Wijzig of trek toestemming in: een nieuwe versie; de oude blijft bewaard."""
    from deelwijs.services.casus import consent

    with _unit() as u:
        row = consent.change(u, series, version, answer, _day(on))
        _print({"series": row.series, "version": row.version, "answer": row.answer})


key_app = typer.Typer(help="Sleutels.", no_args_is_help=True, rich_markup_mode=None)


@key_app.command("new")
def key_new() -> None:
    """Maak een nieuwe hoofdsleutel voor DEELWIJS_MASTER_KEY (bewaar hem als geheim)."""
    from cryptography.fernet import Fernet

    print(Fernet.generate_key().decode())


def register(app: typer.Typer) -> None:
    app.add_typer(key_app, name="key")
    app.add_typer(db_app, name="db")
    app.command("demo")(demo_command)
    app.add_typer(org_app, name="org")
    app.add_typer(youth_app, name="youth")
    app.add_typer(case_app, name="case")
    app.add_typer(disclosure_app, name="disclosure")
    app.add_typer(consent_app, name="consent")
