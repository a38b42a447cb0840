"""`deelwijs audit`: the processing log, its checkpoints and proofs.

`audit verify` recomputes every leaf, MAC, position and checkpoint from what is stored and
names every entry that was altered, removed, moved or inserted; it exits 1 when anything is
wrong (2 on bad input). `audit prove` prints an inclusion proof of one entry, `audit
consistency` a consistency proof between two checkpoints, both checked before printing.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from deelwijs.cli_store import COUNT

audit_app = typer.Typer(help="Het verwerkingslog: controleren, bewijzen, checkpoints.",
                        no_args_is_help=True, rich_markup_mode=None)

RegionOpt = Annotated[str | None, typer.Option("--region", help="Regiocode (standaard: alle).")]


def _public_key(path: Path | None):
    """A verifier key line (C2SP vkey) from a file, so a supervisor can check checkpoints
    without the master key."""
    if path is None:
        return None
    from deelwijs.cli_store import _fail
    from deelwijs.domain import checkpoint as cp
    try:
        _name, key = cp.parse_verifier_key(path.read_text().strip())
    except OSError as exc:
        _fail(f"--public-key: kan {path} niet lezen: {exc.strerror}")
    except ValueError as exc:
        _fail(f"--public-key: {exc}")
    return key


@audit_app.command("verify")
def verify_command(
    region: RegionOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Het rapport als JSON.")] = False,
    public_key: Annotated[Path | None, typer.Option(
        "--public-key", help="Controleer checkpoints met deze sleutelregel (deelwijs audit "
        "key) in plaats van de eigen sleutel.")] = None,
    deep: Annotated[bool, typer.Option(
        "--deep", help="Beslis ook een steekproef van de verstrekkingen opnieuw uit de "
        "opgeslagen feiten en vergelijk de uitkomst per gegevenscategorie.")] = False,
    sample: Annotated[int, typer.Option(
        "--steekproef", help="Hoeveel verstrekkingen per regio --deep opnieuw beslist "
        "(standaard 200).", parser=COUNT)] = 200,
) -> None:
    """Controleer het hele verwerkingslog tegen de ondertekende checkpoints, en elke
    toestemmingsversie en verstrekking tegen haar logregel (exit 1 bij fouten)."""
    from tqdm import tqdm

    from deelwijs.cli_store import _session
    from deelwijs.services import verify

    key = _public_key(public_key)
    with _session() as (app, s):
        if region is not None:
            from deelwijs.services import registry
            registry.region_by_code(s, region)
        total = verify.total_entries(s)
        with tqdm(total=total, unit=" regels", desc="controleren", file=sys.stderr,
                  disable=None, leave=False) as bar:
            report = verify.verify(s, app.keys, region, key, progress=bar.update,
                                   deep=sample if deep else 0, app=app)
    if as_json:
        print(json.dumps(report.as_json(), ensure_ascii=False, indent=2))
    else:
        for code, summary in report.regions.items():
            print(f"{code}: {summary['regels']} regels, {summary['checkpoints']} checkpoints, "
                  f"wortel {summary['wortel']}")
            for line in _binding_lines(code, summary):
                print(line)
        for p in report.problems:
            print(p.line())
        print("in orde: niets gewijzigd, verwijderd, verplaatst of ingevoegd" if report.ok
              else f"NIET IN ORDE: {len(report.problems)} problemen")
    if not report.ok:
        raise typer.Exit(1)


def _binding_lines(code: str, summary: dict) -> list[str]:
    """What the summary says of the rows bound to the log (services.binding), in Dutch: one
    line for the rows from before the binding, and for those whose entry was pruned; with
    --deep one for the disclosures decided again."""
    out = []
    if summary.get("ongebonden"):
        out.append(f"{code}: {summary['ongebonden']} toestemmingsversies en verstrekkingen van "
                   "vóór de binding aan het log (migratie 0006): hun logregel noemt ze zonder "
                   "digest, hun inhoud is niet te controleren (ongebonden)")
    if summary.get("niet_meer_te_controleren"):
        out.append(f"{code}: {summary['niet_meer_te_controleren']} toestemmingsversies en "
                   "verstrekkingen waarvan de logregel na zijn bewaartermijn is opgeschoond: "
                   "niet meer te controleren")
    deep = summary.get("diep")
    if deep is not None:
        skipped = deep.get("niet_opnieuw_te_beslissen", 0) + deep.get("onder_andere_ruleset", 0)
        out.append(f"{code}: {deep['opnieuw_beslist']} verstrekkingen opnieuw beslist uit de "
                   f"opgeslagen feiten, {deep['afwijkend']} met een andere uitkomst"
                   + (f"; {skipped} niet opnieuw te beslissen" if skipped else ""))
    return out


@audit_app.command("prove")
def prove_command(
    entry: Annotated[str, typer.Argument(help="actieId van de logregel, of het volgnummer "
                                              "(dan met --region).")],
    region: RegionOpt = None,
) -> None:
    """Druk een inclusiebewijs af: de regel zit in de ondertekende boom."""
    from deelwijs.cli_store import _print, _session
    from deelwijs.services import verify

    with _session() as (app, s):
        proof = verify.prove(s, app.keys, entry, region)
    _print(proof)
    if not proof["klopt"]:
        raise typer.Exit(1)


@audit_app.command("consistency")
def consistency_command(
    region: Annotated[str, typer.Option("--region", help="Regiocode.")],
    old: Annotated[int, typer.Argument(help="Grootte van het oude checkpoint.")],
    new: Annotated[int, typer.Argument(help="Grootte van het nieuwe checkpoint.")],
) -> None:
    """Druk een consistentiebewijs af: het oude checkpoint is een begin van het nieuwe."""
    from deelwijs.cli_store import _fail, _print, _session
    from deelwijs.services import verify

    if old > new or old < 0:
        _fail("de oude grootte is niet groter dan de nieuwe, en niet negatief")
    with _session() as (app, s):
        proof = verify.prove_consistency(s, app.keys, region, old, new)
    _print(proof)
    if not proof["klopt"]:
        raise typer.Exit(1)


@audit_app.command("checkpoint")
def checkpoint_command(region: RegionOpt = None) -> None:
    """Onderteken nu een checkpoint (grootte en wortel) van het log van elke regio."""
    from sqlalchemy import select

    from deelwijs.cli_store import _session
    from deelwijs.services import audit, registry
    from deelwijs.storage import orm

    with _session() as (app, s):
        if region is not None:
            ids = [registry.region_by_code(s, region).id]
        else:
            ids = list(s.scalars(select(orm.Region.id).order_by(orm.Region.id)))
        notes = [audit.checkpoint(s, app.keys, rid).note for rid in ids]
    print("\n".join(notes), end="")


@audit_app.command("key")
def key_command() -> None:
    """Toon de sleutelregel waarmee een toezichthouder checkpoints kan controleren."""
    from deelwijs.cli_store import _app
    from deelwijs.services import audit

    with _app() as app:
        print(audit.verifier_key(app.keys))


@audit_app.command("log")
def log_command(
    youth: Annotated[int, typer.Option("--youth", help="Id van de jongere.")],
    limit: Annotated[int, typer.Option(help="Hoogstens zoveel regels.")] = 200,
) -> None:
    """Toon de logregels over één jongere (voor de FG; het log leest zichzelf zonder te loggen)."""
    from deelwijs.cli_store import _print, _session
    from deelwijs.services import audit, youths

    with _session() as (app, s):
        youths.get_youth(s, youth)
        rows = audit.entries_for_youth(s, app.keys, youth, limit)
        _print([audit.entry_view(r) for r in rows])


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")
