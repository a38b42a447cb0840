"""Commands over the database: migrate, demo data, and the casusoverleg from the command line.

Every command opens the database of DEELWIJS_DATABASE_URL (default: the embedded SQLite file
under var/, migrated automatically). Errors print `field: message` in Dutch and exit 2;
nothing is written then.
"""

from __future__ import annotations

import datetime as dt
import sys
from contextlib import contextmanager
from typing import Annotated

import typer

from deelwijs.cli import common
from deelwijs.cli.common import (
    COUNT,
    ID,
    VERSION,
    Bounded,
    ByOpt,
    CaseArg,
    DateOpt,
    LimitOpt,
    RegionOpt,
)
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
        common.fail(f"{source}: {what} '{missing.group(2)}' bestaat niet op die server; "
              + ("maak hem eerst aan (createdb) of noem een andere database"
                 if what == "database" else "noem een bestaande rol in de URL"))
    if "password authentication failed" in raw:
        common.fail(f"{source}: aanmelden geweigerd (wachtwoord onjuist)")
    common.fail("database niet bereikbaar: " + raw, 1)


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
            common.fail(f"{source}: geen bruikbare database-URL; verwacht bijvoorbeeld "
                  "postgresql://rol@host:5432/database")
        yield engine, source
    except DeelwijsError as exc:  # SettingsError, RolesError
        common.refuse(exc)
    except OperationalError as exc:
        _connect_problem(exc, source)
    except DBAPIError as exc:  # (a migration the connected role may not run)
        if getattr(exc.orig, "sqlstate", None) == "42501":
            common.fail(f"niet toegestaan: de rol in {source} mag het schema niet wijzigen. "
                        "Migreer als de eigenaar-rol (DEELWIJS_MIGRATE_DATABASE_URL of --url; "
                        "zie deelwijs db roles)")
        common.fail("de database weigerde dit: " + " ".join(str(exc.orig or exc).split()), 1)
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
        common.fail(str(exc))
    with _owner_engine(url) as (engine, _):
        for line in roles.setup(engine, owner, app, **passwords):
            print(line)


@db_app.command("check")
def db_check() -> None:
    """Controleer of de database op het nieuwste schema staat (exit 1 als dat niet zo is)."""
    from deelwijs.storage.db import current_revision, head_revision

    with common.open_app(migrate=False, keys=False) as engine:
        current, head = current_revision(engine), head_revision()
    print(f"schema {current or '(leeg)'}; nieuwste {head}")
    if current != head:
        common.fail("niet bijgewerkt: voer uit deelwijs db upgrade", 1)


# --- demo ----------------------------------------------------------------------------------


def run_demo(youths: int = 200) -> dict:
    from tqdm import tqdm

    from deelwijs.services import demo
    from deelwijs.services.errors import ServiceError

    common.operator_only()
    with common.open_app() as app:
        if demo.exists(app):
            return {"created": False}
        try:
            with tqdm(total=youths + 2, desc="demoregio", unit="stap") as bar:
                return demo.build(app, dt.date.today(), youths_n=youths, progress=bar.update)
        except ServiceError as exc:
            common.fail(str(exc))


demo_app = typer.Typer(invoke_without_command=True, no_args_is_help=False,
                       subcommand_metavar="[code GEBRUIKER]", rich_markup_mode=None)


@demo_app.callback()
def demo_command(
    ctx: typer.Context,
    youths: Annotated[int, typer.Option(help="Aantal jongeren (1 tot en met 9000).",
                                        parser=Bounded("aantal jongeren", 1, 9000))] = 200,
) -> None:
    """Vul een nieuwe database met een synthetische demoregio (idempotent): organisaties van
    elk type, jongeren met ouders, toestemming in elke stand, casussen van elk doel,
    overleggen, toegestane en geweigerde verstrekkingen, en een demo-account per rol (met
    openbare wachtwoorden: alleen voor demogegevens). `deelwijs demo code fg` geeft de code
    voor de tweede stap van de FG en de beheerder."""
    if ctx.invoked_subcommand is not None:
        return
    counts = run_demo(youths)
    if not counts.get("created"):
        print("De demoregio bestaat al; er is niets veranderd.")
        return
    labels = {"organisations": "organisaties", "youths": "jongeren", "cases": "casussen",
              "consents": "toestemmingen", "disclosures": "verstrekkingen",
              "accounts": "demo-accounts"}
    print("Demoregio aangemaakt: " + ", ".join(f"{counts[k]} {v}" for k, v in labels.items()))
    print_personas()


@demo_app.command("code")
def demo_code(
    username: Annotated[str, typer.Argument(
        metavar="GEBRUIKER", help="De gebruikersnaam van een demo-account met een tweede "
        "stap: fg of beheer.")],
) -> None:
    """De code van nu voor de tweede stap van een demo-account (fg, beheer). Alleen voor de
    demo-accounts van de demoregio, waarvan het geheim openbaar is; elk ander account wordt
    geweigerd."""
    from deelwijs.services import demo
    from deelwijs.services.errors import ServiceError

    with common.open_app() as app:
        try:
            code, left = demo.code(app, username)
        except ServiceError as exc:
            common.refuse(exc)
    print(code)
    print(f"(nog {left} s geldig; elke code werkt één keer)", file=sys.stderr)


def print_personas(url: str | None = None) -> None:
    """The demo accounts: username, password, who (and how to get the code of the FG and the
    administrator). `url`: the web app's address, to say where to log in."""
    from deelwijs.services import demo

    with common.open_app() as app:
        shown = demo.personas(app)
    if not shown:
        print("Deze demoregio is van vóór de demo-accounts: verwijder de map van de database "
              "(DEELWIJS_VAR, standaard var/) en start opnieuw om ze te krijgen.")
        return
    where = f" op {url}/inloggen" if url else ""
    print(f"Demo-accounts{where} (alleen synthetische demogegevens; deze wachtwoorden zijn "
          "openbaar):")
    rows = [("gebruiker", "wachtwoord", "wie"),
            *((p["username"], p["password"], p["name"] + (
                f"; code voor de tweede stap: python3 dev.py code {p['username']}"
                if p["second_factor"] else "")) for p in shown)]
    wide = [max(len(r[i]) for r in rows) for i in range(2)]
    for r in rows:
        print(f"  {r[0]:<{wide[0]}}  {r[1]:<{wide[1]}}  {r[2]}")


# --- organisations -------------------------------------------------------------------------


@org_app.command("list")
def org_list(region: RegionOpt = "demo") -> None:
    """Alle organisaties van een regio, per partijsoort."""
    from deelwijs.services.covenant import registry

    with common.unit() as u:
        rows = registry.list_organisations(u, registry.region_by_code(u.session, region))
    for o in rows:
        print(f"{o['id']:>5}  {o['party']:<13} {o['name']}")


@org_app.command("show")
def org_show(org_id: Annotated[int, typer.Argument(help="Id van de organisatie.",
                                                  parser=ID)]) -> None:
    """Eén organisatie met ondertekeningen, machtigingen en ondertekenaars (JSON)."""
    from deelwijs.services.covenant import registry

    with common.session() as (_, s):
        common.show(registry.organisation_view(s, registry.organisation(s, org_id)))


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

    with common.unit(by=by) as u:
        rows = youths.list_youths(u, registry.region_by_code(u.session, region), limit, offset)
    for y in rows:
        print(f"{y['id']:>5}  {y['age']:>2} jr  {y['name']}")


@youth_app.command("show")
def youth_show(youth_id: Annotated[int, typer.Argument(help="Id van de jongere.", parser=ID)],
               by: ByOpt = None) -> None:
    """Eén jongere: ouders (met of zonder gezag), toestemmingen met geschiedenis en
    verstrekkingen (JSON). Het inzien komt in het verwerkingslog."""
    from deelwijs.services.casus import consent, disclosures, youths

    with common.unit(by=by) as u:
        y = youths.get_youth(u.session, youth_id)
        view = youths.read_youth(u, y.id)
        view["consent"] = consent.history(u, y.id)
        view["disclosures"] = disclosures.list_for_youth(u, y.id)
    common.show(view)


# --- cases ---------------------------------------------------------------------------------


@case_app.command("list")
def case_list(region: RegionOpt = "demo", limit: LimitOpt = 50, by: ByOpt = None) -> None:
    """Casussen van een regio (elke getoonde casus over een jongere wordt gelogd als
    raadpleging)."""
    from deelwijs.services.casus import cases
    from deelwijs.services.covenant import registry

    with common.unit(by=by) as u:
        r = registry.region_by_code(u.session, region)
        for c in cases.list_cases(u, r, limit):
            who = "anoniem" if c["anonymous"] else f"jongere {c['youth_id']}"
            print(f"{c['id']:>5}  {c['purpose']:<22} {c['overleg'] or '':<18} {who:<14} "
                  f"{c['title']}")


@case_app.command("show")
def case_show(case_id: CaseArg, by: ByOpt = None) -> None:
    """Eén casus met deelnemers, overleggen, agenda, acties en verstrekkingen (JSON); over
    een jongere wordt het inzien gelogd."""
    from deelwijs.services.casus import cases

    with common.unit(by=by) as u:
        out = cases.read_case(u, case_id)
    common.show(out)


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

    day = common.day(on)
    with common.unit(by=professional, field="professional") as u:
        identification.identify_case(u, case_id, youth, day)
    print(f"Casus {case_id} staat nu op naam van jongere {youth}.")


# --- disclosures ---------------------------------------------------------------------------


@disclosure_app.command("list")
def disclosure_list(youth: Annotated[int, typer.Option(help="Id van de jongere.",
                                                       parser=ID)]) -> None:
    """Elke verstrekking over één jongere, nieuwste eerst."""
    from deelwijs.services.casus import disclosures

    with common.unit() as u:
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

    with common.unit(by=by) as u:
        row = u.session.get(orm.Disclosure, disclosure_id)
        if row is None:
            raise NotFound("not_found", f"onbekende verstrekking ({disclosure_id})",
                           "disclosure")
        out = disclosures.read(u, row)
        out["decision"] = row.decision
    common.show(out)


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
            common.fail(f"--data[{i}]: gebruik categorie=inhoud")
        if cat in contents:
            common.fail(f"--data[{i}]: categorie '{cat}' staat er twee keer")
        contents[cat] = text
    day = common.day(on)
    with common.unit(by=professional, hat=hat, field="professional") as u:
        row = disclosures.record(u, to_org_id=to, contents=contents, day=day, kind=kind,
                                 case_id=case, youth_id=youth, purpose=purpose, hat=hat,
                                 task=task, meeting_id=meeting)
        out = disclosures.view(u.session, row)
    common.show(out)


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

    with common.unit() as u:
        row = consent.record(u, youths.get_youth(u.session, youth), role, answer, purpose, data,
                             common.day(on), written=not not_written,
                             recipient_ids=recipient or [], guardian_id=guardian,
                             document_ref=document, prior_to_meeting_id=prior_to)
        common.show({"series": row.series, "version": row.version, "answer": row.answer})


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

    with common.unit() as u:
        row = consent.change(u, series, version, answer, common.day(on))
        common.show({"series": row.series, "version": row.version, "answer": row.answer})


key_app = typer.Typer(help="Sleutels.", no_args_is_help=True, rich_markup_mode=None)


@key_app.command("new")
def key_new() -> None:
    """Maak een nieuwe hoofdsleutel voor DEELWIJS_MASTER_KEY (bewaar hem als geheim)."""
    from cryptography.fernet import Fernet

    print(Fernet.generate_key().decode())


def register(app: typer.Typer) -> None:
    app.add_typer(key_app, name="key")
    app.add_typer(db_app, name="db")
    app.add_typer(demo_app, name="demo")
    app.add_typer(org_app, name="org")
    app.add_typer(youth_app, name="youth")
    app.add_typer(case_app, name="case")
    app.add_typer(disclosure_app, name="disclosure")
    app.add_typer(consent_app, name="consent")
