"""`deelwijs retention` (bewaartermijnen and the destruction run) and `deelwijs breach` (the
breach register).

`retention plan` shows what the run would destroy on a day and why; `retention run` does it
(`--dry-run`: count only, write nothing), with a progress bar on stderr. The breach commands
record a breach and what was notified to whom; `breach overdue` lists the breaches past the
72-hour deadline of the AP. Every write command is one transaction and prints JSON. Bad input
prints one Dutch line `field: message` on stderr and exits 2, with nothing on stdout and
nothing written; so does a conflict with someone who saved first (name the `--version` you
saw). Moments without a zone (`2026-03-02T14:30`) are Dutch time.
"""

from __future__ import annotations

import datetime as dt
import sys
from typing import Annotated

import typer

from deelwijs.cli import common
from deelwijs.cli.common import ID, VERSION

retention_app = typer.Typer(help="Bewaartermijnen: wat vernietigd wordt en waarom, en de "
                            "vernietigingsronde.", no_args_is_help=True, rich_markup_mode=None)
breach_app = typer.Typer(help="Het register van datalekken: vastleggen, melden bij de AP, "
                         "betrokkenen en partners informeren.", no_args_is_help=True,
                         rich_markup_mode=None)

OnOpt = Annotated[str | None, typer.Option("--on", help="Datum JJJJ-MM-DD (standaard: "
                                                        "vandaag).")]
RegionOpt = Annotated[str | None, typer.Option("--region", help="Regiocode (standaard: "
                                                                "alle regio's).")]
VersionOpt = Annotated[int, typer.Option("--version", help="De versie van het datalek die u "
                                         "zag (optimistische vergrendeling).", parser=VERSION)]
ByOpt = Annotated[int, typer.Option("--by", help="Id van de professional die het vastlegt.",
                                    parser=ID)]
AtOpt = Annotated[str | None, typer.Option("--at", help="Moment JJJJ-MM-DDTUU:MM, Nederlandse "
                                                        "tijd (standaard: nu).")]


def _moment(value: str | None, field: str) -> dt.datetime:
    """A moment from the command line as UTC without a zone (how Deelwijs stores moments);
    without a zone it is Dutch time."""
    from deelwijs.services.log.breaches import LOCAL

    if value is None:
        return dt.datetime.now(dt.UTC).replace(tzinfo=None)
    text = value.strip()
    try:
        if len(text) <= 10:
            raise ValueError
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        common.fail(f"{field}: '{value}' is geen moment in de vorm JJJJ-MM-DDTUU:MM")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=LOCAL)
    return moment.astimezone(dt.UTC).replace(tzinfo=None)


def _region(s, code: str | None):
    from deelwijs.services.covenant import registry

    return registry.region_by_code(s, code) if code is not None else None


# --- retention -----------------------------------------------------------------------------


@retention_app.command("plan")
def retention_plan(
    on: OnOpt = None,
    region: RegionOpt = None,
    all_: Annotated[bool, typer.Option("--all", help="Toon ook de jongeren die bewaard "
                                                     "blijven, met de reden.")] = False,
) -> None:
    """Wat de vernietigingsronde op een dag zou vernietigen, per jongere, met de
    bewaartermijnen van de engine en de reden (JSON). Schrijft niets."""
    from deelwijs.services.rights import retention

    day = common.day(on)
    with common.unit(today=day) as u:
        entries = retention.plan(u, region)
    due = [e for e in entries if e["due"]]
    common.show({"on": day.isoformat(), "due": len(due), "kept": len(entries) - len(due),
            "youths": entries if all_ else due})


@retention_app.command("run")
def retention_run(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Proefronde: tel wat er zou "
                                          "gebeuren en schrijf niets.")] = False,
    on: OnOpt = None,
    region: RegionOpt = None,
) -> None:
    """De vernietigingsronde: vernietig de sleutel en de versleutelde gegevens van elke
    jongere wier bewaartermijnen voorbij zijn, en schoon logregels op die ouder zijn dan de
    bewaartermijn van het log (de regels zelf blijven). Elke vernietiging wordt gelogd.

    Back-ups van vóór de ronde bevatten de vernietigde sleutels nog; de uitvoer zegt hoe u
    ze onleesbaar maakt (deelwijs keys rewrap), of dat dat zonder verpakkingssleutels
    (DEELWIJS_WRAPPING_KEYS) niet mogelijk is."""
    from tqdm import tqdm

    from deelwijs.services.rights import keys, retention

    day = common.day(on)
    if not dry_run and day > dt.date.today():
        common.fail(f"--on: {day.isoformat()} ligt in de toekomst; een vernietigingsronde vooruit "
              "kan alleen als proefronde (--dry-run)")
    with common.unit(today=day) as u, tqdm(total=0, desc="vernietigingsronde", unit=" jongeren",
                                     file=sys.stderr, leave=False) as bar:

        def tick(done: int, total: int) -> None:
            bar.total = total
            bar.n = done
            bar.refresh()

        result = retention.run(u, dry_run, progress=tick, region_code=region)
    result["youths"] = [{k: e.get(k) for k in ("youth_id", "region", "action", "keep_until",
                                                "rule", "wiped")} for e in result["youths"]]
    # what this run means for the backups made before it (services/rights/keys.py)
    notice = keys.rotation_notice(u, result["shredded"], dry_run)
    result["key_rotation"] = {"possible": u.keys.can_rotate, "message": notice}
    common.show(result)
    if notice:
        print(notice, file=sys.stderr)


# --- breaches ------------------------------------------------------------------------------


@breach_app.command("record")
def breach_record(
    org: Annotated[int, typer.Option("--org", help="Id van de organisatie waar het lek "
                                                   "plaatsvond.", parser=ID)],
    description: Annotated[str, typer.Option("--description", help="Wat er is gebeurd.")],
    risk: Annotated[str, typer.Option("--risk", help="onwaarschijnlijk, risico of hoog.")],
    by: ByOpt,
    data: Annotated[list[str] | None, typer.Option(
        "--data", help="Gelekte gegevenscategorie, herhaalbaar.")] = None,
    youth: Annotated[list[int] | None, typer.Option(
        "--youth", help="Id van een geraakte jongere, herhaalbaar.", parser=ID)] = None,
    discovered: Annotated[str | None, typer.Option(
        "--discovered", help="Wanneer het lek ontdekt is, JJJJ-MM-DDTUU:MM Nederlandse tijd "
        "(standaard: nu).")] = None,
    measures: Annotated[str, typer.Option("--measures", help="Genomen maatregelen.")] = "",
    region: Annotated[str, typer.Option("--region", help="Regiocode.")] = "demo",
) -> None:
    """Leg een datalek vast. De AP-termijn is 72 uur na ontdekken; bij hoog risico moeten de
    betrokkenen geïnformeerd worden."""
    from deelwijs.services.covenant import registry
    from deelwijs.services.log import breaches

    moment = _moment(discovered, "--discovered")
    with common.unit(by=by) as u:
        row = breaches.record_breach(
            u, region=registry.region_by_code(u.session, region), organisation_id=org,
            discovered_at=moment, description=description, categories=list(data or []),
            risk=risk, youth_ids=list(youth or []), measures=measures)
        view = breaches.breach_view(u.session, row)
    common.show(view)


@breach_app.command("notify-ap")
def breach_notify_ap(
    breach: Annotated[int, typer.Argument(help="Id van het datalek.", parser=ID)],
    version: VersionOpt,
    reference: Annotated[str, typer.Option("--reference", help="Kenmerk van de melding bij "
                                                               "de AP.")],
    by: ByOpt,
    at: AtOpt = None,
    delay_reason: Annotated[str | None, typer.Option(
        "--delay-reason", help="Reden van de vertraging (verplicht na 72 uur).")] = None,
) -> None:
    """Leg vast dat het datalek bij de Autoriteit Persoonsgegevens is gemeld."""
    from deelwijs.services.log import breaches

    moment = _moment(at, "--at")
    with common.unit(by=by) as u:
        row = breaches.notify_ap(u, breach, expected_version=version, notified_at=moment,
                                 reference=reference, delay_reason=delay_reason)
        view = breaches.breach_view(u.session, row)
    common.show(view)


@breach_app.command("no-notification")
def breach_no_notification(
    breach: Annotated[int, typer.Argument(help="Id van het datalek.", parser=ID)],
    version: VersionOpt,
    reason: Annotated[str, typer.Option("--reason", help="Waarom het lek niet gemeld "
                                                         "wordt.")],
    by: ByOpt,
) -> None:
    """Leg vast waarom het datalek niet bij de AP gemeld wordt (alleen als een risico
    onwaarschijnlijk is)."""
    from deelwijs.services.log import breaches

    with common.unit(by=by) as u:
        row = breaches.no_notification(u, breach, expected_version=version, reason=reason)
        view = breaches.breach_view(u.session, row)
    common.show(view)


@breach_app.command("inform")
def breach_inform(
    breach: Annotated[int, typer.Argument(help="Id van het datalek.", parser=ID)],
    youth: Annotated[int, typer.Option("--youth", help="Id van de geïnformeerde jongere.",
                                       parser=ID)],
    version: VersionOpt,
    by: ByOpt,
    on: OnOpt = None,
) -> None:
    """Leg vast dat een jongere (of de ouders) over het datalek is geïnformeerd."""
    from deelwijs.services.log import breaches

    day = common.day(on)
    with common.unit(by=by) as u:
        row = breaches.inform_subject(u, breach, youth, expected_version=version,
                                      informed_on=day)
        view = breaches.breach_view(u.session, row)
    common.show(view)


@breach_app.command("notify-partners")
def breach_notify_partners(
    breach: Annotated[int, typer.Argument(help="Id van het datalek.", parser=ID)],
    version: VersionOpt,
    by: ByOpt,
    at: AtOpt = None,
) -> None:
    """Leg vast dat de convenantpartners over het datalek zijn geïnformeerd."""
    from deelwijs.services.log import breaches

    moment = _moment(at, "--at")
    with common.unit(by=by) as u:
        row = breaches.notify_partners(u, breach, expected_version=version,
                                       notified_at=moment)
        view = breaches.breach_view(u.session, row)
    common.show(view)


@breach_app.command("list")
def breach_list(region: RegionOpt = None) -> None:
    """Alle datalekken, nieuwste eerst: id, ontdekt, risico, stand van de AP-melding."""
    from deelwijs.services.log import breaches

    with common.unit() as u:
        rows = breaches.list_breaches(u, _region(u.session, region))
        lines = [f"{b.id:>5}  {breaches.local(b.discovered_at)}  {b.risk:<16} "
                 f"{breaches.ap_status(b)}" for b in rows]
    for line in lines:
        print(line)


@breach_app.command("show")
def breach_show(breach: Annotated[int, typer.Argument(help="Id van het datalek.",
                                                      parser=ID)]) -> None:
    """Eén datalek met betrokkenen en meldingen (JSON)."""
    from deelwijs.services.log import breaches

    with common.unit() as u:
        view = breaches.breach_view(u.session, breaches.get_breach(u, breach))
    common.show(view)


@breach_app.command("overdue")
def breach_overdue(region: RegionOpt = None, at: AtOpt = None) -> None:
    """Datalekken waarvan de termijn van 72 uur voorbij is, zonder melding bij de AP en
    zonder vastgelegde reden om niet te melden (JSON)."""
    from deelwijs.services.log import breaches

    moment = _moment(at, "--at")
    with common.unit() as u:
        rows = breaches.overdue(u, moment, _region(u.session, region))
        views = [breaches.breach_view(u.session, b, moment) for b in rows]
    common.show(views)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the deelwijs command."""
    app.add_typer(retention_app, name="retention")
    app.add_typer(breach_app, name="breach")
