"""`deelwijs rights`: the rights of the youth and the parents (AVG art. 15–18 and 21).

Every command records the request and its decision and logs it. Bad input prints one Dutch
line `field: message` on stderr and exits 2, with nothing on stdout and nothing written. A
refused erasure is a decision, not bad input: it is recorded, its reason goes to stderr and
the exit code is 1.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from deelwijs.cli.common import ID

rights_app = typer.Typer(
    help="Rechten van jongeren en ouders: inzage, verbeteren, wissen, beperken, bezwaar.",
    no_args_is_help=True, rich_markup_mode=None)

AsOpt = Annotated[str, typer.Option(
    "--as", help="Wie vraagt: youth (de jongere zelf) of parent (een ouder of voogd).")]
GuardianOpt = Annotated[int | None, typer.Option(
    "--guardian", help="Id van de ouder of voogd die vraagt (bij --as parent).", parser=ID)]
AgreesOpt = Annotated[bool, typer.Option(
    "--youth-agrees", help="De jongere (16 jaar of ouder) stemt in met het verzoek van de "
    "ouder.")]
ByOpt = Annotated[int | None, typer.Option("--by", help="Id van de professional die het "
                                                        "verzoek behandelt.", parser=ID)]
DateOpt = Annotated[str | None, typer.Option("--on", help="Datum van het verzoek JJJJ-MM-DD "
                                                          "(standaard: vandaag).")]
PurposeOpt = Annotated[list[str] | None, typer.Option(
    "--purpose", help="Doel (of regionale naam van het overleg), herhaalbaar; leeg: alle "
    "doelen.")]
DataOpt = Annotated[list[str] | None, typer.Option(
    "--data", help="Gegevenscategorie, herhaalbaar; leeg: alle categorieën.")]
RecipientOpt = Annotated[list[int] | None, typer.Option(
    "--recipient", help="Id van een ontvangende organisatie, herhaalbaar; leeg: iedereen.",
    parser=ID)]


def _opt_day(value: str | None, field: str):
    from deelwijs.cli import common

    return None if value is None else common.day(value, field)


@rights_app.command("inzage")
def inzage_command(
    youth: Annotated[int, typer.Argument(help="Id van de jongere.", parser=ID)],
    as_: AsOpt,
    guardian: GuardianOpt = None,
    youth_agrees: AgreesOpt = False,
    pdf: Annotated[Path | None, typer.Option("--pdf", help="Schrijf het overzicht ook als "
                                                           "PDF naar dit bestand (alleen "
                                                           "leesbaar voor u, 0600).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Vervang een bestaand bestand bij "
                                                        "--pdf.")] = False,
    period_from: Annotated[str | None, typer.Option("--from", help="Begin van de periode "
                                                                   "JJJJ-MM-DD.")] = None,
    period_to: Annotated[str | None, typer.Option("--to", help="Einde van de periode "
                                                               "JJJJ-MM-DD.")] = None,
    by: ByOpt = None,
    on: DateOpt = None,
) -> None:
    """Inzage: alles wat over de jongere is vastgelegd, als JSON (artikel 15 AVG).

    Met --pdf ook als PDF voor de ouder of jongere. Het verzoek wordt vastgelegd en gelogd."""
    from deelwijs.cli import common
    from deelwijs.documents import inzage_pdf
    from deelwijs.services.rights import requests as rights

    target = common.output_target(pdf, force, "--pdf")
    start, end, day = (_opt_day(period_from, "--from"), _opt_day(period_to, "--to"),
                       common.day(on))
    written: list[Path] = []
    try:
        with common.unit(by=by, today=day) as u:
            out = rights.inzage(u, youth, requester=as_, guardian_id=guardian,
                                period_from=start, period_to=end, youth_agrees=youth_agrees)
            if target is not None:  # written before the commit: a refusal records nothing
                written.append(common.write_output(target, inzage_pdf.render(out), force, "--pdf"))
    except BaseException:
        for path in written:  # not recorded after all: no copy without its record
            path.unlink(missing_ok=True)
        raise
    common.show(out)


@rights_app.command("rectify")
def rectify_command(
    youth: Annotated[int, typer.Argument(help="Id van de jongere.", parser=ID)],
    field: Annotated[str, typer.Option("--field", help="name, birth, school, guardian_name "
                                                       "of startkwalificatie.")],
    value: Annotated[str, typer.Option("--value", help="De juiste waarde (een datum als "
                                       "JJJJ-MM-DD, een school als id, startkwalificatie als "
                                       "ja of nee).")],
    by: Annotated[int, typer.Option("--by", help="Id van de professional die verbetert.",
                                    parser=ID)],
    as_: AsOpt,
    guardian: GuardianOpt = None,
    youth_agrees: AgreesOpt = False,
    of_guardian: Annotated[int | None, typer.Option(
        "--of-guardian", help="Id van de ouder van wie de naam verbeterd wordt "
        "(bij guardian_name).", parser=ID)] = None,
    on: DateOpt = None,
) -> None:
    """Verbeter een gegeven; de oude en de nieuwe waarde worden bewaard (artikel 16 AVG)."""
    from deelwijs.cli import common
    from deelwijs.services.rights import requests as rights

    day = common.day(on)
    with common.unit(by=by, today=day) as u:
        out = rights.rectify(u, youth, field, value, requester=as_, guardian_id=guardian,
                             youth_agrees=youth_agrees, target_guardian_id=of_guardian)
    common.show(out)


@rights_app.command("history")
def history_command(
    youth: Annotated[int, typer.Argument(help="Id van de jongere.", parser=ID)],
    by: ByOpt = None,
) -> None:
    """De geschiedenis van verbeteringen: oude en nieuwe waarden (JSON)."""
    from deelwijs.cli import common
    from deelwijs.services.rights import requests as rights

    with common.unit(by=by) as u:
        out = rights.corrections(u, youth)
    common.show(out)


@rights_app.command("erase")
def erase_command(
    youth: Annotated[int, typer.Argument(help="Id van de jongere.", parser=ID)],
    as_: AsOpt,
    guardian: GuardianOpt = None,
    youth_agrees: AgreesOpt = False,
    by: ByOpt = None,
    on: DateOpt = None,
) -> None:
    """Wis de gegevens door de sleutel van de jongere te vernietigen (artikel 17 AVG).

    Dat kan niet zolang iets nog bewaard moet blijven. Een weigering wordt vastgelegd; de
    reden staat op stderr (exit 1)."""
    from deelwijs.cli import common
    from deelwijs.services.rights import requests as rights

    day = common.day(on)
    refused = out = None
    with common.unit(by=by, today=day) as u:
        try:
            out = rights.erase(u, youth, requester=as_, guardian_id=guardian,
                               youth_agrees=youth_agrees)
        except rights.ErasureRefused as exc:
            refused = exc
    if refused is not None:
        common.fail(f"{refused.field}: {refused.message} (afwijzing vastgelegd als verzoek "
              f"{refused.request_id})", 1)
    common.show(out)


@rights_app.command("restrict")
def restrict_command(
    youth: Annotated[int, typer.Argument(help="Id van de jongere.", parser=ID)],
    as_: AsOpt,
    reason: Annotated[str, typer.Option("--reason", help="juistheid, onrechtmatig, "
                                        "rechtsvordering of bezwaar (art. 18 lid 1 AVG).")],
    purpose: PurposeOpt = None,
    data: DataOpt = None,
    recipient: RecipientOpt = None,
    until: Annotated[str | None, typer.Option("--until", help="Vanaf deze dag geldt de "
                                              "beperking niet meer: JJJJ-MM-DD.")] = None,
    guardian: GuardianOpt = None,
    youth_agrees: AgreesOpt = False,
    by: ByOpt = None,
    on: DateOpt = None,
) -> None:
    """Beperk het gebruik voor doelen, gegevens en ontvangers (artikel 18 AVG).

    Verstrekkingen in die reikwijdte worden daarna geweigerd. Wettelijke routes gaan door."""
    from deelwijs.cli import common
    from deelwijs.services.rights import requests as rights

    day, ends = common.day(on), _opt_day(until, "--until")
    with common.unit(by=by, today=day) as u:
        out = rights.restrict(u, youth, requester=as_, reason=reason, guardian_id=guardian,
                              youth_agrees=youth_agrees, purposes=purpose or [],
                              categories=data or [], recipient_ids=recipient or [],
                              ends_on=ends)
    common.show(out)


@rights_app.command("object")
def object_command(
    youth: Annotated[int, typer.Argument(help="Id van de jongere.", parser=ID)],
    as_: AsOpt,
    purpose: PurposeOpt = None,
    data: DataOpt = None,
    recipient: RecipientOpt = None,
    refuse: Annotated[str | None, typer.Option(
        "--refuse", help="Wijs het bezwaar af met deze motivering (dwingende gerechtvaardigde "
        "gronden, art. 21 lid 1 AVG).")] = None,
    guardian: GuardianOpt = None,
    youth_agrees: AgreesOpt = False,
    by: ByOpt = None,
    on: DateOpt = None,
) -> None:
    """Leg bezwaar vast tegen het gebruik voor doelen, gegevens en ontvangers (artikel 21 AVG).

    Toegewezen: in die reikwijdte telt de toestemming als geweigerd. Tegen een wettelijke
    plicht kan geen bezwaar worden gemaakt."""
    from deelwijs.cli import common
    from deelwijs.services.rights import requests as rights

    day = common.day(on)
    with common.unit(by=by, today=day) as u:
        out = rights.object_to(u, youth, requester=as_, guardian_id=guardian,
                               youth_agrees=youth_agrees, purposes=purpose or [],
                               categories=data or [], recipient_ids=recipient or [],
                               refusal=refuse)
    common.show(out)


@rights_app.command("lift")
def lift_command(
    request: Annotated[int, typer.Argument(help="Id van de beperking (of het bezwaar).",
                                           parser=ID)],
    reason: Annotated[str, typer.Option("--reason", help="Waarom de beperking wordt "
                                        "opgeheven (de jongere of ouder hoort dit).")],
    by: ByOpt = None,
    on: DateOpt = None,
) -> None:
    """Hef een beperking op (of trek een bezwaar in), vanaf de gegeven dag."""
    from deelwijs.cli import common
    from deelwijs.services.rights import requests as rights

    day = common.day(on)
    with common.unit(by=by, today=day) as u:
        out = rights.lift_restriction(u, request, motivation=reason)
    common.show(out)


@rights_app.command("list")
def list_command(
    youth: Annotated[int, typer.Argument(help="Id van de jongere.", parser=ID)],
    on: DateOpt = None,
) -> None:
    """Alle verzoeken over een jongere, en de beperkingen en bezwaren die op die dag gelden
    (JSON)."""
    from deelwijs.cli import common
    from deelwijs.services.casus import facts as stored_facts
    from deelwijs.services.rights import requests as rights

    day = common.day(on)
    with common.unit(today=day) as u:
        out = {"requests": rights.list_requests(u, youth),
               "active_restrictions": stored_facts.active_restrictions(u.session, youth, day),
               "active_objections": stored_facts.active_objections(u.session, youth, day)}
    common.show(out)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the deelwijs command."""
    app.add_typer(rights_app, name="rights")
