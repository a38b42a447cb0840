"""Commands with which a region runs its covenant: regions and their rulesets, organisations
with signatories, signatures and mandates, professionals, youths, cases with meetings,
minutes, actions, accession forms and weighings, and the municipal workflow.

Every write command is one transaction and prints the record it wrote as JSON (with its
`version` where two people may edit it). Bad input prints one Dutch line `field: message` on
stderr and exits 2, with nothing on stdout and nothing written; so does a conflict with
someone who saved first (optimistic locking: name the `--version` you saw).
"""

from __future__ import annotations

import datetime as dt
import sys
from typing import Annotated

import typer

from deelwijs.cli import common
from deelwijs.cli.common import ID, VERSION, DateOpt
from deelwijs.cli.records import case_app, org_app, youth_app
from deelwijs.domain import exceptions as exc_domain

region_app = typer.Typer(help="Regio's en hun rulesets.", no_args_is_help=True,
                         rich_markup_mode=None)
ruleset_app = typer.Typer(help="De rulesets van een regio: activeren, tonen en controleren.",
                          no_args_is_help=True, rich_markup_mode=None)
region_app.add_typer(ruleset_app, name="ruleset")
signatory_app = typer.Typer(help="Ondertekenaars van een organisatie.", no_args_is_help=True,
                            rich_markup_mode=None)
org_app.add_typer(signatory_app, name="signatory")
mandate_app = typer.Typer(help="Schriftelijke machtigingen van een schoolbestuur aan een "
                          "samenwerkingsverband.", no_args_is_help=True, rich_markup_mode=None)
org_app.add_typer(mandate_app, name="mandate")
professional_app = typer.Typer(help="Professionals van een organisatie.", no_args_is_help=True,
                               rich_markup_mode=None)
meeting_app = typer.Typer(help="Overleggen van een casus: plannen en wijzigen.",
                          no_args_is_help=True, rich_markup_mode=None)
case_app.add_typer(meeting_app, name="meeting")
minute_app = typer.Typer(help="Verslagen per agendapunt.", no_args_is_help=True,
                         rich_markup_mode=None)
case_app.add_typer(minute_app, name="minute")
action_app = typer.Typer(help="Acties (afspraken) uit een overleg.", no_args_is_help=True,
                         rich_markup_mode=None)
case_app.add_typer(action_app, name="action")
accession_app = typer.Typer(help="Toetredingsformulieren (Bijlage 1) per casusoverleg.",
                            no_args_is_help=True, rich_markup_mode=None)
case_app.add_typer(accession_app, name="accession")
weighing_app = typer.Typer(help="Schriftelijke afwegingen (uitzonderingen) in een casus.",
                           no_args_is_help=True, rich_markup_mode=None)
case_app.add_typer(weighing_app, name="weighing")
youth_weighing_app = typer.Typer(
    help="Schriftelijke afwegingen over een jongere buiten een casus: het gebruik van een "
    "wettelijke bevoegdheid om te verstrekken (zoals art. 1:240 BW aan de Raad voor de "
    "Kinderbescherming).", no_args_is_help=True, rich_markup_mode=None)
youth_app.add_typer(youth_weighing_app, name="weighing")
workflow_app = typer.Typer(help="Het gemeentelijk werkproces: intake → beoordeling → onderzoek "
                           "met de inwoner → voorstel → besluit → coördinator.",
                           no_args_is_help=True, rich_markup_mode=None)

JsonOpt = Annotated[bool, typer.Option("--json", help="Als JSON in plaats van regels.")]
VersionOpt = Annotated[int, typer.Option("--version", help="De versie die u zag "
                                         "(optimistische vergrendeling).", parser=VERSION)]
ByOpt = Annotated[int, typer.Option("--by", help="Id van de professional die het doet.", parser=ID)]


def _text(value: str, field: str, limit: int = 200) -> str:
    """A text option: stripped, not empty, and not longer than its column."""
    value = (value or "").strip()
    if not value:
        common.fail(f"{field}: mag niet leeg zijn")
    if len(value) > limit:
        common.fail(f"{field}: te lang ({len(value)} tekens; ten hoogste {limit})")
    return value


# --- regions and rulesets ------------------------------------------------------------------


ControllerOpt = Annotated[str | None, typer.Option(
    "--controller", help="Naam van de verwerkingsverantwoordelijke (staat in de inzage voor "
    "ouders en jongeren).")]
AddressOpt = Annotated[str | None, typer.Option(
    "--controller-address", help="Postadres van de verwerkingsverantwoordelijke (regels "
    "gescheiden door een komma of een nieuwe regel).")]
OinOpt = Annotated[str | None, typer.Option(
    "--controller-oin", help="OIN (20 cijfers) van de verwerkingsverantwoordelijke: zo noemt "
    "het register van verwerkingsactiviteiten (VNG VAR) haar.")]
FgNameOpt = Annotated[str | None, typer.Option(
    "--fg-name", help="Naam van de functionaris gegevensbescherming (FG).")]
FgEmailOpt = Annotated[str | None, typer.Option(
    "--fg-email", help="E-mailadres van de FG.")]
FgPhoneOpt = Annotated[str | None, typer.Option(
    "--fg-phone", help="Telefoonnummer van de FG.")]


@region_app.command("create")
def region_create(
    code: Annotated[str, typer.Argument(help="Korte code, bv. utrecht-west.")],
    name: Annotated[str, typer.Argument(help="Naam van de regio.")],
    wams: Annotated[bool, typer.Option("--wams", help="De Wams geldt in deze regio.")] = False,
    controller: ControllerOpt = None,
    controller_address: AddressOpt = None,
    controller_oin: OinOpt = None,
    fg_name: FgNameOpt = None,
    fg_email: FgEmailOpt = None,
    fg_phone: FgPhoneOpt = None,
) -> None:
    """Maak een regio aan. Activeer daarna een ruleset (region ruleset activate).

    Noem ook de verwerkingsverantwoordelijke en hoe de FG te bereiken is: de inzage voor ouders
    en jongeren noemt ze (later te zetten met region update)."""
    from deelwijs.services.covenant import registry

    code = _text(code, "region.code", 64)
    name = _text(name, "region.name")
    with common.unit() as u:
        common.show(registry.region_view(registry.create_region(
            u, code, name, wams, controller_name=controller,
            controller_address=controller_address, controller_oin=controller_oin,
            fg_name=fg_name, fg_email=fg_email, fg_phone=fg_phone)))


@region_app.command("update")
def region_update(
    code: Annotated[str, typer.Argument(help="Code van de regio.")],
    name: Annotated[str | None, typer.Option("--name", help="Nieuwe naam van de regio.")] = None,
    controller: ControllerOpt = None,
    controller_address: AddressOpt = None,
    controller_oin: OinOpt = None,
    fg_name: FgNameOpt = None,
    fg_email: FgEmailOpt = None,
    fg_phone: FgPhoneOpt = None,
) -> None:
    """Wijzig de naam van een regio, de verwerkingsverantwoordelijke of de gegevens van de FG.

    Alleen wat u noemt, verandert; een lege waarde ("") wist dat gegeven."""
    from deelwijs.services.covenant import registry

    given = {"controller_name": controller, "controller_address": controller_address,
             "controller_oin": controller_oin, "fg_name": fg_name, "fg_email": fg_email,
             "fg_phone": fg_phone}
    if name is None and all(v is None for v in given.values()):
        common.fail("region: noem wat er verandert (--name, --controller, --controller-address, "
              "--controller-oin, --fg-name, --fg-email of --fg-phone)")
    with common.unit() as u:
        region = registry.region_by_code(u.session, code)
        common.show(registry.region_view(registry.update_region(u, region, name=name, **given)))


@region_app.command("list")
def region_list(as_json: JsonOpt = False) -> None:
    """Alle regio's: id, code, naam (en of de Wams er geldt)."""
    from deelwijs.services.covenant import registry

    with common.unit() as u:
        rows = registry.list_regions(u)
    if as_json:
        common.show(rows)
        return
    for r in rows:
        wams = "  (Wams)" if r["wams_in_force"] else ""
        print(f"{r['id']:>5}  {r['code']:<20} {r['name']}{wams}")


@ruleset_app.command("activate")
def ruleset_activate(
    ruleset: Annotated[str, typer.Argument(help="Een ingebouwd id (model-convenant, "
                                           "voorbeeldregio), het pad van een YAML-bestand, of "
                                           "de digest (sha256:…) van een opgeslagen versie.")],
    region: Annotated[str, typer.Option("--region", help="Regiocode.")],
    on: DateOpt = None,
) -> None:
    """Maak een ruleset de actieve van de regio vanaf een datum. De versie wordt opgeslagen;
    eerdere besluiten blijven de versie noemen waaronder ze zijn genomen. Een regionaal
    bestand dat het model verruimt, wordt geweigerd (zie deelwijs rules check)."""
    from deelwijs.services.covenant import registry

    day = common.day(on)
    with common.unit() as u:
        s = u.session
        r = registry.region_by_code(s, region)
        registry.activate_ruleset(u, r, ruleset, day)
        common.show(registry.activation_view(s, registry.latest_activation(s, r)))


@ruleset_app.command("list")
def ruleset_list(
    region: Annotated[str, typer.Option("--region", help="Regiocode.")],
    as_json: JsonOpt = False,
) -> None:
    """De activeringen van een regio, nieuwste eerst, met digest; 'actief' is die van
    vandaag."""
    from deelwijs.services.covenant import registry

    with common.unit() as u:
        rows = registry.activations(u, registry.region_by_code(u.session, region))
    if as_json:
        common.show(rows)
        return
    for r in rows:
        mark = "  actief" if r["active"] else ""
        print(f"{r['id']:>5}  {r['activated_on']}  {r['ruleset_id']} {r['version']}  "
              f"{r['digest']}{mark}")


@ruleset_app.command("check")
def ruleset_check(
    region: Annotated[str, typer.Argument(metavar="REGION", help="Regiocode.")],
    on: DateOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Controleer de ruleset die de regio (op een datum) actief heeft met de controles van
    deze Deelwijs, zoals deelwijs rules check een bestand controleert. Een versie die faalt
    (bijvoorbeeld opgeslagen door een oudere Deelwijs) beslist geen nieuwe verstrekkingen;
    vervang hem met deelwijs region ruleset activate. Exit 2 bij problemen."""
    from deelwijs.services.covenant import registry

    day = common.day(on)
    with common.session() as (app, s):
        version, problems = app.check_active(s, registry.region_by_code(s, region).id, day)
        ref = {"ruleset_id": version.ruleset_id, "version": version.version,
               "digest": version.digest}
    if as_json:
        common.show({**ref, "ok": not problems, "problems": problems})
    elif not problems:
        print(f"{region}: in orde ({ref['ruleset_id']} {ref['version']}, {ref['digest']})")
    else:
        print(f"{region}: de actieve ruleset {ref['ruleset_id']} {ref['version']} "
              f"({ref['digest']}) voldoet niet; er wordt niets nieuws onder beslist:",
              file=sys.stderr)
        for p in problems:
            print(f"- {p}", file=sys.stderr)
        print(f"Vervang hem: deelwijs region ruleset activate model-convenant --region "
              f"{region} (of een regionaal bestand dat deelwijs rules check goedkeurt).",
              file=sys.stderr)
    if problems:
        raise typer.Exit(2)


# --- organisations -------------------------------------------------------------------------


@org_app.command("create")
def org_create(
    region: Annotated[str, typer.Option("--region", help="Regiocode.")],
    party: Annotated[str, typer.Option(help="Partijsoort: school, swv, leerplicht, gemeente, "
                                       "jeugdhulp, jgz, huisarts, veilig_thuis, gi, raad, "
                                       "kinderopvang of derde.")],
    name: Annotated[str, typer.Option(help="Naam van de organisatie.")],
    kvk: Annotated[str | None, typer.Option(help="KvK-nummer (8 cijfers).")] = None,
    oin: Annotated[str | None, typer.Option(help="OIN (20 cijfers).")] = None,
    domain: Annotated[str | None, typer.Option(help="Domein (gemeente): onderwijs, jeugd, wmo, "
                                               "participatie, schulden, wonen of zorg.")] = None,
) -> None:
    """Voeg een organisatie (convenantpartij) toe aan een regio."""
    from deelwijs.services.covenant import registry

    name = _text(name, "name")
    with common.unit() as u:
        s = u.session
        org = registry.create_organisation(u, registry.region_by_code(s, region), party, name,
                                           kvk=kvk, oin=oin, domain=domain)
        common.show(registry.organisation_view(s, org))


@signatory_app.command("add")
def signatory_add(
    org_id: Annotated[int, typer.Argument(metavar="ORG", help="Id van de organisatie.", parser=ID)],
    name: Annotated[str, typer.Option(help="Naam van de ondertekenaar.")],
    function: Annotated[str, typer.Option(help="Functie, bv. bestuurder.")],
) -> None:
    """Voeg een ondertekenaar toe (wie namens de organisatie tekent)."""
    from deelwijs.services.covenant import registry

    name, function = _text(name, "name"), _text(function, "function")
    with common.unit() as u:
        row = registry.add_signatory(u, registry.organisation(u.session, org_id), name,
                                     function)
        common.show(registry.signatory_view(row))


@org_app.command("sign")
def org_sign(
    org_id: Annotated[int, typer.Argument(metavar="ORG", help="Id van de organisatie die "
                                          "tekent.", parser=ID)],
    on: DateOpt = None,
    signatory: Annotated[int | None, typer.Option(help="Id van de ondertekenaar (van deze "
                                                  "organisatie).", parser=ID)] = None,
    on_behalf_of: Annotated[int | None, typer.Option(
        "--on-behalf-of", help="Id van het schoolbestuur waarvoor een samenwerkingsverband "
        "tekent (alleen met een machtiging die op die dag geldt).", parser=ID)] = None,
) -> None:
    """Teken het convenant: de rulesetversie die de regio op die dag actief heeft."""
    from deelwijs.services.covenant import registry

    day = common.day(on)
    with common.unit() as u:
        row = registry.sign_covenant(u, registry.organisation(u.session, org_id), None, day,
                                     signatory, on_behalf_of)
        common.show(registry.signature_view(u.session, row))


@mandate_app.command("grant")
def mandate_grant(
    school: Annotated[int, typer.Argument(metavar="SCHOOL", help="Id van het schoolbestuur.",
                                          parser=ID)],
    swv: Annotated[int, typer.Option(help="Id van het samenwerkingsverband.", parser=ID)],
    document: Annotated[str, typer.Option(help="Verwijzing naar de schriftelijke "
                                          "machtiging.")],
    on: DateOpt = None,
) -> None:
    """Leg de schriftelijke machtiging van een schoolbestuur aan een samenwerkingsverband
    vast: daarmee is het bestuur partij zolang de machtiging geldt."""
    from deelwijs.services.covenant import registry

    document = _text(document, "document_ref")
    day = common.day(on)
    with common.unit() as u:
        s = u.session
        row = registry.grant_mandate(u, registry.organisation(s, school, "school"),
                                     registry.organisation(s, swv, "swv"), day, document)
        common.show(registry.mandate_view(row))


@mandate_app.command("revoke")
def mandate_revoke(
    mandate_id: Annotated[int, typer.Argument(metavar="MANDATE", help="Id van de "
                                              "machtiging.", parser=ID)],
    on: DateOpt = None,
) -> None:
    """Trek een machtiging in vanaf een datum (de machtiging blijft bewaard)."""
    from deelwijs.services.covenant import registry

    day = common.day(on)
    with common.unit() as u:
        common.show(registry.mandate_view(registry.revoke_mandate(u, mandate_id, day)))


# --- professionals -------------------------------------------------------------------------


@professional_app.command("create")
def professional_create(
    org: Annotated[int, typer.Option(help="Id van de organisatie.", parser=ID)],
    name: Annotated[str, typer.Option(help="Naam.")],
    function: Annotated[str, typer.Option(help="Functie, bv. intern begeleider.")],
    hat: Annotated[list[str] | None, typer.Option(
        help="Pet die deze professional mag dragen, herhaalbaar: toeleiding, hulpverlening, "
        "coordinatie.")] = None,
) -> None:
    """Voeg een professional toe aan een organisatie."""
    from deelwijs.services.covenant import registry

    name, function = _text(name, "name"), _text(function, "function")
    with common.unit() as u:
        row = registry.create_professional(u, registry.organisation(u.session, org), name,
                                           function, hat or [])
        common.show(registry.professional_view(row))


@professional_app.command("list")
def professional_list(
    org: Annotated[int, typer.Option(help="Id van de organisatie.", parser=ID)],
    as_json: JsonOpt = False,
) -> None:
    """De professionals van een organisatie, met hun petten."""
    from deelwijs.services.covenant import registry

    with common.unit() as u:
        rows = registry.list_professionals(u, registry.organisation(u.session, org))
    if as_json:
        common.show(rows)
        return
    for p in rows:
        hats = f"  [{', '.join(p['hats'])}]" if p["hats"] else ""
        print(f"{p['id']:>5}  {p['name']:<28} {p['function']}{hats}")


# --- youths --------------------------------------------------------------------------------

_GEZAG = {"gezag": True, "geen-gezag": False}


def _guardians(values: list[str]) -> list[dict]:
    out = []
    for i, value in enumerate(values):
        parts = value.rsplit(":", 2)
        if len(parts) != 3 or not parts[0].strip():
            common.fail(f"--guardian[{i}]: gebruik 'naam:relatie:gezag' of "
                  "'naam:relatie:geen-gezag'")
        name, relation, gezag = (p.strip() for p in parts)
        if gezag not in _GEZAG:
            common.fail(f"--guardian[{i}]: '{gezag}' moet gezag of geen-gezag zijn")
        out.append({"name": _text(name, f"--guardian[{i}]"), "relation": relation,
                    "gezag": _GEZAG[gezag]})
    return out


@youth_app.command("create")
def youth_create(
    region: Annotated[str, typer.Option("--region", help="Regiocode.")],
    name: Annotated[str, typer.Option(help="Naam van de jongere.")],
    birth: Annotated[str, typer.Option(help="Geboortedatum JJJJ-MM-DD.")],
    bsn: Annotated[str | None, typer.Option(help="BSN (9 cijfers, elfproef).")] = None,
    school: Annotated[int | None, typer.Option(help="Id van het schoolbestuur.", parser=ID)] = None,
    guardian: Annotated[list[str] | None, typer.Option(
        help="Ouder of voogd, herhaalbaar: 'naam:relatie:gezag' of 'naam:relatie:geen-gezag'; "
        "relatie is moeder, vader, ouder, voogd of pleegouder. Bv. --guardian "
        "'Fatima de Vries:moeder:gezag'.")] = None,
    by: Annotated[int | None, typer.Option(
        "--by", help="Id van de professional die registreert (voor het verwerkingslog; "
        "zonder: de beheerder).", parser=ID)] = None,
    startkwalificatie: Annotated[bool, typer.Option(
        "--startkwalificatie/--geen-startkwalificatie",
        help="Heeft de jongere een startkwalificatie (diploma havo, vwo of mbo-2)? Bepaalt "
        "de kwalificatieplicht en de RMC-taak bij een verzuimmelding. Later verbeteren: "
        "deelwijs rights rectify --field startkwalificatie.")] = False,
) -> None:
    """Voeg een jongere toe, met ouders of voogden (met of zonder gezag). Naam,
    geboortedatum, BSN en de namen van de ouders worden versleuteld opgeslagen; de uitvoer
    toont het BSN gemaskeerd."""
    from deelwijs.services.casus import youths
    from deelwijs.services.covenant import registry

    name = _text(name, "name")
    born = common.day(birth, "birth")
    guardians = _guardians(guardian or [])
    with common.unit(by=by) as u:
        row = youths.create_youth(u, registry.region_by_code(u.session, region), name, born,
                                  bsn, school, guardians, startkwalificatie=startkwalificatie)
        common.show(youths.youth_view(u.keys, row, u.today))


# --- cases ---------------------------------------------------------------------------------


@case_app.command("open")
def case_open(
    region: Annotated[str, typer.Option("--region", help="Regiocode.")],
    purpose: Annotated[str, typer.Option(help="Doel (bv. oza, signalering) of de regionale "
                                         "naam van het overleg (bv. TOM-tafel).")],
    title: Annotated[str, typer.Option(help="Titel van de casus.")],
    by: ByOpt,
    participant: Annotated[list[int] | None, typer.Option(
        help="Id van een deelnemende organisatie, herhaalbaar (de organisatie van --by doet "
        "altijd mee).", parser=ID)] = None,
    youth: Annotated[int | None, typer.Option(help="Id van de jongere.", parser=ID)] = None,
    anonymous: Annotated[bool, typer.Option("--anonymous", help="Een anonieme casus: er "
                                            "wordt niets identificerends opgeslagen.")] = False,
    on: DateOpt = None,
) -> None:
    """Open een casus over een jongere (--youth) of een anonieme casus (--anonymous)."""
    from deelwijs.services.casus import cases
    from deelwijs.services.covenant import registry

    if (youth is None) == (not anonymous):
        common.fail("youth: kies --youth ID of --anonymous (precies één van de twee)")
    title = _text(title, "title")
    day = common.day(on)
    with common.unit(by=by) as u:
        row = cases.open_case(u, None, registry.region_by_code(u.session, region), title,
                              purpose, participant or [], day, youth)
        common.show(cases.case_view(u.session, row))


@case_app.command("close")
def case_close(
    case_id: Annotated[int, typer.Argument(metavar="CASE", help="Id van de casus.", parser=ID)],
    version: VersionOpt,
    by: ByOpt,
    on: DateOpt = None,
) -> None:
    """Sluit een casus. Vanaf de sluitdatum loopt de bewaartermijn van het verslag (zie
    deelwijs retention plan). Noem de versie die u zag."""
    from deelwijs.services.casus import cases

    day = common.day(on)
    with common.unit(by=by) as u:
        row = cases.close_case(u, case_id, version, day)
        common.show(cases.case_view(u.session, row))


@meeting_app.command("schedule")
def meeting_schedule(
    case_id: Annotated[int, typer.Argument(metavar="CASE", help="Id van de casus.", parser=ID)],
    agenda: Annotated[list[str] | None, typer.Option(help="Agendapunt, herhaalbaar, in "
                                                     "volgorde.")] = None,
    participant: Annotated[list[int] | None, typer.Option(
        help="Id van een deelnemende professional, herhaalbaar.", parser=ID)] = None,
    on: DateOpt = None,
) -> None:
    """Plan een overleg in een casus, met agenda en deelnemers. De uitvoer noemt de id's
    van de agendapunten (voor case minute write)."""
    from deelwijs.services.casus import cases

    items = [_text(a, f"agenda[{i}]") for i, a in enumerate(agenda or [])]
    day = common.day(on)
    with common.unit() as u:
        row = cases.schedule_meeting(u, cases.get_case(u.session, case_id), day, items,
                                     participant or [])
        common.show(cases.meeting_view(u.session, row))


@meeting_app.command("update")
def meeting_update(
    meeting_id: Annotated[int, typer.Argument(metavar="MEETING", help="Id van het overleg.",
                                              parser=ID)],
    version: VersionOpt,
    on: Annotated[str | None, typer.Option("--on", help="Nieuwe datum JJJJ-MM-DD.")] = None,
    agenda: Annotated[list[str] | None, typer.Option(
        help="De nieuwe agenda, herhaalbaar, in volgorde. Een punt met dezelfde titel houdt "
        "zijn id en verslag; een punt met een verslag kan niet van de agenda.")] = None,
) -> None:
    """Wijzig de datum of de agenda van een overleg. Noem de versie die u zag; heeft iemand
    anders het overleg intussen gewijzigd, dan wordt niets opgeslagen (exit 2)."""
    from deelwijs.services.casus import cases

    if on is None and not agenda:
        common.fail("meeting: niets te wijzigen; geef --on en/of --agenda")
    day = common.day(on, "--on") if on is not None else None
    items = [_text(a, f"agenda[{i}]") for i, a in enumerate(agenda)] if agenda else None
    with common.unit() as u:
        row = cases.update_meeting(u, meeting_id, version, day, items)
        common.show(cases.meeting_view(u.session, row))


@minute_app.command("write")
def minute_write(
    agenda_item: Annotated[int, typer.Argument(metavar="AGENDA_ITEM", help="Id van het "
                                               "agendapunt.", parser=ID)],
    by: ByOpt,
    text: Annotated[str, typer.Option(help="De tekst van het verslag.")],
    version: Annotated[int | None, typer.Option(
        "--version", help="Wijzig het bestaande verslag: de versie die u zag. Zonder: een "
        "nieuw verslag.", parser=VERSION)] = None,
    minute: Annotated[int | None, typer.Option(help="Id van het verslag (standaard het "
                                               "nieuwste van dit agendapunt).", parser=ID)] = None,
) -> None:
    """Schrijf het verslag van een agendapunt, of wijzig het (met --version)."""
    from deelwijs.services.casus import cases
    from deelwijs.services.errors import Invalid

    text = _text(text, "text", 100_000)
    with common.unit(by=by) as u:
        if minute is not None and version is None:  # (to the service: a conflict)
            cases.get_agenda_item(u.session, agenda_item)
            raise Invalid("missing_field", "noem bij een bestaand verslag de versie die u zag",
                          "expected_version")
        row = cases.write_minute(u, agenda_item, text, minute_id=minute,
                                 expected_version=version)
        common.show(cases.minute_view(u.session, row))


@action_app.command("add")
def action_add(
    meeting_id: Annotated[int, typer.Argument(metavar="MEETING", help="Id van het overleg.",
                                              parser=ID)],
    owner: Annotated[int, typer.Option(help="Id van de professional die de actie uitvoert.",
                                       parser=ID)],
    description: Annotated[str, typer.Option(help="Wat er gebeurt.")],
    due: Annotated[str, typer.Option(help="Deadline JJJJ-MM-DD.")],
    evaluate: Annotated[str | None, typer.Option(help="Evaluatiedatum JJJJ-MM-DD.")] = None,
) -> None:
    """Leg een actie uit een overleg vast, met eigenaar, deadline en evaluatiedatum."""
    from deelwijs.services.casus import cases
    from deelwijs.services.covenant import registry

    description = _text(description, "description", 100_000)
    due_on = common.day(due, "due_on")
    evaluate_on = common.day(evaluate, "evaluate_on") if evaluate is not None else None
    with common.unit() as u:
        row = cases.add_action(u, meeting_id, registry.professional(u.session, owner, "owner"),
                               description, due_on, evaluate_on)
        common.show(cases.action_view(u.session, row))


@accession_app.command("record")
def accession_record(
    case_id: Annotated[int, typer.Argument(metavar="CASE", help="Id van de casus.", parser=ID)],
    org: Annotated[int, typer.Option(help="Id van de toetredende organisatie (jeugdhulp, JGZ "
                                     "of huisarts) die aan de casus deelneemt.", parser=ID)],
    signed: Annotated[str, typer.Option(help="Datum van ondertekening JJJJ-MM-DD.")],
    document: Annotated[str, typer.Option(help="Verwijzing naar het formulier.")],
    notified: Annotated[str | None, typer.Option(
        help="Datum waarop het aan de deelnemers bekend is gemaakt (anders later met "
        "case accession notify).")] = None,
) -> None:
    """Leg een toetredingsformulier vast. De organisatie geldt als partij in deze casus
    vanaf de dag dat het formulier getekend én bekendgemaakt is."""
    from deelwijs.services.casus import cases
    from deelwijs.services.covenant import registry

    document = _text(document, "document_ref")
    signed_on = common.day(signed, "signed_on")
    notified_on = common.day(notified, "notified_on") if notified is not None else None
    with common.unit() as u:
        s = u.session
        case = cases.get_case(s, case_id)
        row = registry.record_accession(u, registry.organisation(s, org), case, signed_on,
                                        document, notified_on)
        common.show(registry.accession_view(row))


@accession_app.command("notify")
def accession_notify(
    form_id: Annotated[int, typer.Argument(metavar="FORM", help="Id van het "
                                           "toetredingsformulier.", parser=ID)],
    on: DateOpt = None,
) -> None:
    """Leg vast dat een toetredingsformulier aan de deelnemers bekend is gemaakt."""
    from deelwijs.services.covenant import registry

    day = common.day(on)
    with common.unit() as u:
        common.show(registry.accession_view(registry.notify_accession(u, form_id, day)))


def _questions_help(kinds: tuple[str, ...]) -> str:
    lines = []
    for kind in kinds:
        keys = ", ".join(f"{k} ({'ja/nee' if form == 'yes' else 'tekst'})"
                         for k, _, form in exc_domain.QUESTIONS[kind])
        lines.append(f"{kind}: {keys}.")
    return " ".join(lines)


def _answers(answer: list[str] | None) -> dict[str, str]:
    """--answer vraag=antwoord, each question once."""
    answers: dict[str, str] = {}
    for i, pair in enumerate(answer or []):
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            common.fail(f"--answer[{i}]: gebruik vraag=antwoord")
        if key in answers:
            common.fail(f"--answer[{i}]: vraag '{key}' staat er twee keer")
        answers[key] = value.strip()
    return answers


@weighing_app.command("record", help=(
    "Leg een schriftelijke afweging vast: elke vraag beantwoord, door wie, wanneer. Alleen "
    "een volledige afweging (elke vraag beantwoord, elke ja/nee-vraag met ja) telt voor de "
    "engine; de uitvoer noemt wat nog ontbreekt. Soorten en vragen: "
    + _questions_help(exc_domain.CASE_KINDS)))
def weighing_record(
    case_id: Annotated[int, typer.Argument(metavar="CASE", help="Id van de casus.", parser=ID)],
    kind: Annotated[str, typer.Option(help="conflict_of_duties, vital_interest, "
                                      "compatible_purpose of legal_duty.")],
    by: ByOpt,
    answer: Annotated[list[str] | None, typer.Option(
        help="vraag=antwoord, herhaalbaar (bv. --answer consent_sought=ja).")] = None,
    to: Annotated[list[int] | None, typer.Option(
        "--to", help="Id van een ontvangende organisatie waarvoor is afgewogen, herhaalbaar "
        "(verplicht bij conflict_of_duties en vital_interest; anders: de hele casus).",
        parser=ID)] = None,
    data: Annotated[list[str] | None, typer.Option(
        "--data", help="Gegevenscategorie die is afgewogen, herhaalbaar (verplicht bij "
        "conflict_of_duties en vital_interest).")] = None,
    until: Annotated[str | None, typer.Option(help="Geldig tot en met JJJJ-MM-DD.")] = None,
) -> None:
    from deelwijs.services.casus import cases

    answers = _answers(answer)
    valid_until = common.day(until, "valid_until") if until is not None else None
    at = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    with common.unit(by=by) as u:
        row = cases.record_exception(u, cases.get_case(u.session, case_id), kind, answers, at,
                                     to_org_ids=to or [], categories=data or [],
                                     valid_until=valid_until)
        out = cases.weighing_view(u.session, row, answers)
    common.show(out)


@youth_weighing_app.command("record", help=(
    "Leg de schriftelijke afweging vast voor het gebruik van een wettelijke bevoegdheid om "
    "gegevens over deze jongere te verstrekken (zoals art. 1:240 BW aan de Raad voor de "
    "Kinderbescherming): noodzaak, proportionaliteit en subsidiariteit. Alleen een volledige "
    "afweging telt, en alleen voor verstrekkingen door de organisatie van wie afwoog, aan de "
    "genoemde ontvangers, van de genoemde gegevens, vanaf vandaag tot en met --until. Soort "
    "en vragen: " + _questions_help(exc_domain.YOUTH_KINDS)))
def youth_weighing_record(
    youth: Annotated[int, typer.Argument(metavar="YOUTH", help="Id van de jongere.", parser=ID)],
    by: ByOpt,
    to: Annotated[list[int], typer.Option(
        "--to", help="Id van een ontvangende organisatie waarvoor is afgewogen, herhaalbaar.",
        parser=ID)],
    data: Annotated[list[str], typer.Option(
        "--data", help="Gegevenscategorie die is afgewogen, herhaalbaar.")],
    kind: Annotated[str, typer.Option(help="statutory_power (afweging gebruik wettelijke "
                                      "bevoegdheid).")] = "statutory_power",
    answer: Annotated[list[str] | None, typer.Option(
        help="vraag=antwoord, herhaalbaar (bv. --answer necessary=ja).")] = None,
    until: Annotated[str | None, typer.Option(help="Geldig tot en met JJJJ-MM-DD.")] = None,
) -> None:
    from deelwijs.services.casus import cases

    answers = _answers(answer)
    valid_until = common.day(until, "valid_until") if until is not None else None
    at = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    with common.unit(by=by) as u:
        row = cases.record_youth_weighing(u, youth, kind, answers, at, to_org_ids=to,
                                          categories=data, valid_until=valid_until)
        out = cases.weighing_view(u.session, row, answers)
    common.show(out)


# --- the municipal workflow ----------------------------------------------------------------


@workflow_app.command("open")
def workflow_open(
    youth: Annotated[int, typer.Option(help="Id van de jongere.", parser=ID)],
    by: ByOpt,
) -> None:
    """Open het werkproces voor een jongere (stand: nieuw; eerste stap: intake)."""
    from deelwijs.services.casus import cases

    with common.unit(by=by) as u:
        row = cases.open_workflow(u, None, youth)
        common.show(cases.workflow_view(u.session, row))


# the options each step reads; any other is refused, so nothing typed is silently dropped
_STEP_OPTIONS = {
    "intake": {"note"},
    "assessment": {"problems"},
    "investigation": {"domain", "with-resident"},
    "proposal": {"note"},
    "decision": {"outcome"},
    "coordinator": {"coordinator", "coordination"},
}


@workflow_app.command("step")
def workflow_step(
    workflow_id: Annotated[int, typer.Argument(metavar="WORKFLOW", help="Id van het "
                                               "werkproces.", parser=ID)],
    version: VersionOpt,
    step: Annotated[str, typer.Option(help="intake, assessment, investigation, proposal, "
                                      "decision of coordinator (in die volgorde).")],
    by: ByOpt,
    problems: Annotated[str | None, typer.Option(
        help="assessment: single (enkelvoudig; het werkproces eindigt) of multiple.")] = None,
    domain: Annotated[list[str] | None, typer.Option(
        help="investigation: domein van de hulpvraag, herhaalbaar (de reikwijdte die de "
        "inwoner bepaalt): onderwijs, jeugd, wmo, participatie, schulden, wonen, zorg.")] = None,
    with_resident: Annotated[bool, typer.Option(
        "--with-resident", help="investigation: het onderzoek gebeurde samen met de "
        "inwoner (verplicht).")] = False,
    outcome: Annotated[str | None, typer.Option(
        help="decision: accepted, declined of self_coordinated.")] = None,
    coordinator: Annotated[int | None, typer.Option(
        help="coordinator: id van de professional die coördineert.", parser=ID)] = None,
    coordination: Annotated[str | None, typer.Option(
        help="coordinator: licht of zwaar.")] = None,
    note: Annotated[str | None, typer.Option(help="intake, proposal: een notitie.")] = None,
    on: DateOpt = None,
) -> None:
    """Zet de volgende stap in het werkproces. Geen stap kan worden overgeslagen of
    herhaald; noem de versie die u zag."""
    from deelwijs.services.casus import cases

    given = {"problems": problems, "domain": domain or None,
             "with-resident": with_resident or None, "outcome": outcome,
             "coordinator": coordinator, "coordination": coordination, "note": note}
    if step in _STEP_OPTIONS:
        for opt, value in given.items():
            if value is not None and opt not in _STEP_OPTIONS[step]:
                common.fail(f"--{opt}: hoort niet bij stap '{step}'")
    details: dict = {}
    if problems is not None:
        details["problems"] = problems
    if domain:
        details["scope"] = list(domain)
    if with_resident:
        details["with_resident"] = True
    if outcome is not None:
        details["outcome"] = outcome
    if coordinator is not None:
        details["coordinator_id"] = coordinator
    if coordination is not None:
        details["coordination"] = coordination
    if note is not None:
        details["note"] = _text(note, "note", 100_000)
    day = common.day(on)
    with common.unit(by=by) as u:
        row = cases.take_step(u, workflow_id, version, step, details, day)
        common.show(cases.workflow_view(u.session, row))


@workflow_app.command("show")
def workflow_show(
    workflow_id: Annotated[int, typer.Argument(metavar="WORKFLOW", help="Id van het "
                                               "werkproces.", parser=ID)],
    by: common.ByOpt = None,
) -> None:
    """Eén werkproces: stand, reikwijdte, versie, mogelijke volgende stap en elke gezette
    stap met datum en wie (JSON). Alleen voor de gemeente of het wijkteam dat erin werkte
    (of het beheer); het inzien komt in het verwerkingslog."""
    from deelwijs.services.casus import cases

    with common.unit(by=by) as u:
        out = cases.read_workflow(u, workflow_id)
    common.show(out)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the deelwijs command."""
    app.add_typer(region_app, name="region")
    app.add_typer(professional_app, name="professional")
    app.add_typer(workflow_app, name="workflow")
