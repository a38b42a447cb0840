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


def _fail(line: str) -> None:
    print(line, file=sys.stderr)
    raise typer.Exit(2)


def _why(exc: OSError) -> str:
    import errno

    return {
        errno.ENOENT: "de map bestaat niet",
        errno.EACCES: "geen schrijfrechten",
        errno.EPERM: "geen schrijfrechten",
        errno.EISDIR: "dat is een map",
        errno.ENOTDIR: "een deel van het pad is geen map",
        errno.ENOSPC: "de schijf is vol",
        errno.EROFS: "het bestandssysteem is alleen-lezen",
    }.get(exc.errno, f"schrijffout (errno {exc.errno})")


def _activities(ruleset: str | None) -> list[dict]:
    from deelwijs.cli import _load_ruleset
    from deelwijs.domain import register

    return register.activities(_load_ruleset(ruleset))


@register_app.command("show")
def show(ruleset: RulesetOpt = None) -> None:
    """Toon het verwerkingsregister van een ruleset als leesbare lijst: per activiteit het
    doel, de grondslag, de verantwoordelijken, de gegevens, de ontvangers, de bewaartermijn
    en de beveiliging."""
    from deelwijs.domain import register

    print(register.render(_activities(ruleset)), end="")


@register_app.command("export")
def export(
    fmt: Annotated[str, typer.Option(
        "--format", "-f", help="json (met de VNG-velden onder 'vng') of csv (één regel per "
        "activiteit).")] = "json",
    ruleset: RulesetOpt = None,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="Schrijf naar dit bestand in plaats van naar stdout.")] = None,
) -> None:
    """Exporteer het verwerkingsregister als JSON of CSV (voor de FG of de Autoriteit
    Persoonsgegevens). Exit 2 bij een onbekend formaat, een onbekende ruleset of een bestand
    dat niet te schrijven is."""
    from deelwijs.domain import register

    kind = fmt.strip().lower()
    if kind not in FORMATS:
        _fail(f"--format: onbekend formaat '{fmt}' (kies uit: {', '.join(FORMATS)})")
    acts = _activities(ruleset)
    text = register.to_json(acts) if kind == "json" else register.to_csv(acts)
    if output is None:
        # CSV brings its own CRLF line ends (RFC 4180): no newline translation.
        with contextlib.suppress(AttributeError, ValueError):
            sys.stdout.reconfigure(newline="")
        sys.stdout.write(text)
        return
    try:
        with open(output, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
    except OSError as exc:
        _fail(f"--output: kan '{output}' niet schrijven: {_why(exc)}")
    print(f"Verwerkingsregister geschreven naar {output} ({len(acts)} activiteiten, {kind}).",
          file=sys.stderr)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the deelwijs command."""
    app.add_typer(register_app, name="register")
