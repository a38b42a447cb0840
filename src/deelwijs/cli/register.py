"""`deelwijs register`: the register of processing activities (AVG art. 30) of a ruleset.

`show` prints it as readable Dutch text; `export` writes it as JSON (with the VNG VAR mapping)
or CSV, to stdout or a file. Bad input (an unknown ruleset, an unknown format, a file that
cannot be written) gives one Dutch line on stderr, nothing on stdout, and exit 2.
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import Annotated

import typer

FORMATS = ("json", "csv")

register_app = typer.Typer(
    help="Verwerkingsregister (art. 30 AVG): de verwerkingsactiviteiten van een ruleset "
    "tonen of exporteren als JSON of CSV.",
    no_args_is_help=True, rich_markup_mode=None)

RulesetOpt = Annotated[
    str | None,
    typer.Option("--ruleset", "-r", help="Ruleset: een ingebouwd id (model-convenant, "
                 "voorbeeldregio), het pad van een YAML-bestand, of het id of de digest "
                 "(sha256:…) van een ruleset in de database. Standaard het modelconvenant."),
]


RegionOpt = Annotated[
    str | None,
    typer.Option("--region", help="Regiocode: noem de verwerkingsverantwoordelijke van de regio "
                 "(naam, adres, FG en het OIN voor de VNG-velden) en gebruik, zonder --ruleset, "
                 "de actieve ruleset van de regio."),
]


def _register(ruleset: str | None, region: str | None) -> tuple[list[dict], dict | None]:
    """The activities of the ruleset (the region's active one when only --region is given)
    and, with --region, the region's controller."""
    from deelwijs.domain import register

    if region is None:
        return _activities(ruleset), None
    from deelwijs.cli import common
    from deelwijs.services.covenant import registry

    rs = None
    with common.unit() as u:
        row = registry.region_by_code(u.session, region)
        controller = registry.controller(u, row)
        if ruleset is None:
            _version, rs = u.app.active_ruleset(u.session, row.id)
    return (register.activities(rs) if rs is not None else _activities(ruleset)), controller


def _activities(ruleset: str | None) -> list[dict]:
    from deelwijs.cli import common
    from deelwijs.domain import register

    return register.activities(common.load_ruleset(ruleset))


@register_app.command("show")
def show(ruleset: RulesetOpt = None, region: RegionOpt = None) -> None:
    """Toon het verwerkingsregister van een ruleset als leesbare lijst: per activiteit het
    doel, de grondslag, de verantwoordelijken, de gegevens, de ontvangers, de bewaartermijn
    en de beveiliging."""
    from deelwijs.domain import register

    acts, controller = _register(ruleset, region)
    print(register.render(acts, controller), end="")


@register_app.command("export")
def export(
    fmt: Annotated[str, typer.Option(
        "--format", "-f", help="json (met de VNG-velden onder 'vng') of csv (één regel per "
        "activiteit).")] = "json",
    ruleset: RulesetOpt = None,
    region: RegionOpt = None,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="Schrijf naar dit bestand in plaats van naar stdout (een nieuw "
        "bestand, 0600).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Vervang een bestaand bestand bij "
                                                        "--output.")] = False,
) -> None:
    """Exporteer het verwerkingsregister als JSON of CSV (voor de FG of de Autoriteit
    Persoonsgegevens). Exit 2 bij een onbekend formaat, een onbekende ruleset of een bestand
    dat niet te schrijven is. Een bestaand bestand wordt alleen met --force vervangen; de
    database, een sleutelbestand en de gegevensmap nooit."""
    from deelwijs.cli import common
    from deelwijs.domain import register

    kind = fmt.strip().lower()
    if kind not in FORMATS:
        common.fail(f"--format: onbekend formaat '{fmt}' (kies uit: {', '.join(FORMATS)})")
    common.output_target(output, force, "--output")  # before the ruleset is read: quick and clear
    acts, controller = _register(ruleset, region)
    text = register.to_json(acts, controller) if kind == "json" else register.to_csv(acts)
    missing = register.vng_missing(controller) if region is not None and kind == "json" else None
    if missing:
        print(f"Let op: {missing}", file=sys.stderr)
    if output is None:
        # CSV brings its own CRLF line ends (RFC 4180): no newline translation.
        with contextlib.suppress(AttributeError, ValueError):
            sys.stdout.reconfigure(newline="")
        sys.stdout.write(text)
        return
    common.write_output(output, text, force, "--output")
    print(f"Verwerkingsregister geschreven naar {output} ({len(acts)} activiteiten, {kind}).",
          file=sys.stderr)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the deelwijs command."""
    app.add_typer(register_app, name="register")
