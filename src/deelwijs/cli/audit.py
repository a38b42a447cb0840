"""`deelwijs audit`: the processing log, its checkpoints and proofs.

`audit verify` recomputes every leaf, MAC, position and checkpoint from what is stored and
names every entry that was altered, removed, moved or inserted, and checks the log against the
checkpoints kept outside the database (the witness file, `--checkpoint FILE`); it exits 1 when
anything is wrong (2 on bad input). `audit prove` prints an inclusion proof of one entry,
`audit consistency` a consistency proof between two checkpoints, both recomputed from the
stored entries and checked before printing. `audit checkpoint` signs the log as it stands,
`audit cosign` adds a second party's cosignature (tlog-cosignature) after checking the log,
`audit cosigner-key` makes that party's key.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from deelwijs.cli.common import COUNT, ID

audit_app = typer.Typer(help="Het verwerkingslog: controleren, bewijzen, checkpoints.",
                        no_args_is_help=True, rich_markup_mode=None)

RegionOpt = Annotated[str | None, typer.Option("--region", help="Regiocode (standaard: alle).")]


def _key_lines(path: Path, option: str) -> list[str]:
    """The non-empty lines of a small key file (settings.read_secret_file)."""
    from deelwijs.cli import common
    from deelwijs.settings import SettingsError, read_secret_file
    try:
        text = read_secret_file(option, str(path))
    except SettingsError as exc:
        common.fail(str(exc))
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        common.fail(f"{option}: {path} is leeg")
    return lines


def _public_key(path: Path | None):
    """The verifier key lines (C2SP vkeys) of a file, by key name, so a supervisor can check
    checkpoints without the master key: a region's checkpoints open with the key whose
    name is the log's origin (`deelwijs audit key` prints one line per region)."""
    if path is None:
        return None
    from deelwijs.cli import common
    from deelwijs.domain import checkpoint as cp
    keys = {}
    for n, line in enumerate(_key_lines(path, "--public-key"), 1):
        try:
            name, key = cp.parse_verifier_key(line)
        except ValueError as exc:
            common.fail(f"--public-key: {path}, regel {n}: {exc}")
        keys[name] = key
    return keys


def _cosigners(paths: list[Path], configured: tuple[str, ...]) -> list:
    """(name, key) of the cosigners to check: from --cosigner-key files, else the configured
    DEELWIJS_COSIGNER_KEY lines."""
    from deelwijs.cli import common
    from deelwijs.domain import checkpoint as cp
    lines = [(f"--cosigner-key: {p}", line) for p in paths
             for line in _key_lines(p, "--cosigner-key")]
    if not paths:
        lines = [("DEELWIJS_COSIGNER_KEY", line) for line in configured]
    out = []
    for where, line in lines:
        try:
            out.append(cp.parse_cosigner_key(line))
        except ValueError as exc:
            common.fail(f"{where}: {exc}")
    return out


def _outside(paths: list[Path], witness_file: Path | None) -> tuple[list, list[str]]:
    """The checkpoints kept outside the database: the witness file's (when it exists) and
    those of each --checkpoint file; with a line per source for the report."""
    from deelwijs.cli import common
    from deelwijs.services.log import witness
    found, said = [], []
    if witness_file is not None:
        try:
            notes = witness.load(witness_file, missing_ok=True)
        except witness.WitnessError as exc:
            common.fail(f"getuigenbestand (DEELWIJS_WITNESS_FILE): {exc}")
        found += notes
        said.append(f"getuigenbestand {witness_file}: {len(notes)} checkpoints"
                    if witness_file.exists() else
                    f"getuigenbestand {witness_file} bestaat niet (nog)")
    for path in paths:
        try:
            notes = witness.load(path)
        except witness.WitnessError as exc:
            common.fail(f"--checkpoint: {exc}")
        if not notes:
            common.fail(f"--checkpoint: {path} bevat geen checkpoint")
        found += notes
        said.append(f"{path}: {len(notes)} checkpoint{'s' if len(notes) != 1 else ''}")
    return found, said


@audit_app.command("verify")
def verify_command(
    region: RegionOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Het rapport als JSON.")] = False,
    public_key: Annotated[Path | None, typer.Option(
        "--public-key", help="Controleer checkpoints met deze sleutelregels (deelwijs audit "
        "key: een regel per regio, met de herkomst van het log als naam) in plaats van de "
        "eigen sleutel.")] = None,
    checkpoint: Annotated[list[Path] | None, typer.Option(
        "--checkpoint", help="Een bestand met een of meer ondertekende checkpoints van buiten "
        "de database (deelwijs audit checkpoint --out, het getuigenbestand, deelwijs audit "
        "cosign): het log moet die bomen nog bevatten. Mag vaker.")] = None,
    cosigner_key: Annotated[list[Path] | None, typer.Option(
        "--cosigner-key", help="De sleutelregel van een medeondertekenaar (deelwijs audit "
        "cosigner-key); standaard DEELWIJS_COSIGNER_KEY. Dan moet een checkpoint van buiten "
        "door hem medeondertekend zijn. Mag vaker.")] = None,
    deep: Annotated[bool, typer.Option(
        "--deep", help="Beslis ook een steekproef van de verstrekkingen opnieuw uit de "
        "opgeslagen feiten en vergelijk de uitkomst per gegevenscategorie.")] = False,
    sample: Annotated[int, typer.Option(
        "--steekproef", help="Hoeveel verstrekkingen per regio --deep opnieuw beslist "
        "(standaard 200).", parser=COUNT)] = 200,
) -> None:
    """Controleer het hele verwerkingslog tegen de ondertekende checkpoints, ook die van
    buiten de database, en elke toestemmingsversie en verstrekking tegen haar logregel (exit
    1 bij fouten)."""
    from tqdm import tqdm

    from deelwijs.cli import common
    from deelwijs.services.log import verify

    key = _public_key(public_key)
    with common.session() as (app, s):
        cosigners = _cosigners(cosigner_key or [], app.settings.cosigner_keys)
        outside, sources = _outside(checkpoint or [], app.settings.witness_file)
        if region is not None:
            from deelwijs.services.covenant import registry
            registry.region_by_code(s, region)
        from deelwijs.services.casus import redecide
        total = verify.total_entries(s)
        with tqdm(total=total, unit=" regels", desc="controleren", file=sys.stderr,
                  disable=None, leave=False) as bar:
            report = verify.verify(s, app.keys, region, key, progress=bar.update,
                                   outside=outside, cosigners=cosigners,
                                   deep=sample if deep else 0, app=app,
                                   redecide=redecide.redecide if deep else None)
    if as_json:
        print(json.dumps(report.as_json(), ensure_ascii=False, indent=2))
    else:
        for code, summary in report.regions.items():
            extra = "".join(
                f", {text}" for text, show in (
                    (f"gedekt tot regel {summary.get('gedekt_tot', 0)}", "gedekt_tot" in summary),
                    (f"{summary.get('buiten')} van buiten de database", summary.get("buiten")),
                    (f"{summary.get('medeondertekend')} medeondertekend",
                     summary.get("medeondertekend"))) if show)
            print(f"{code}: {summary['regels']} regels, {summary['checkpoints']} checkpoints, "
                  f"wortel {summary['wortel']}{extra}")
            for line in _binding_lines(code, summary):
                print(line)
        for line in sources:
            print(line)
        if report.elsewhere:
            print(f"{report.elsewhere} checkpoint(s) van een ander log overgeslagen")
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
    from deelwijs.cli import common
    from deelwijs.services.log import verify

    with common.session() as (app, s):
        proof = verify.prove(s, app.keys, entry, region)
    if proof.get("nieuw_checkpoint"):
        witnessed = (" (het staat nu ook in het getuigenbestand)"
                     if app.settings.witness_file is not None else "")
        print(f"Nieuw checkpoint ondertekend bij {proof['boomgrootte']} regels: nog geen "
              f"checkpoint dekte deze regel{witnessed}.", file=sys.stderr)
    common.show(proof)
    if not proof["klopt"]:
        raise typer.Exit(1)


@audit_app.command("consistency")
def consistency_command(
    region: Annotated[str, typer.Option("--region", help="Regiocode.")],
    old: Annotated[int, typer.Argument(help="Grootte van het oude checkpoint.", parser=COUNT)],
    new: Annotated[int, typer.Argument(help="Grootte van het nieuwe checkpoint.", parser=COUNT)],
) -> None:
    """Druk een consistentiebewijs af: het oude checkpoint is een begin van het nieuwe."""
    from deelwijs.cli import common
    from deelwijs.services.log import verify

    if old > new or old < 0:
        common.fail("de oude grootte is niet groter dan de nieuwe, en niet negatief")
    with common.session() as (app, s):
        proof = verify.prove_consistency(s, app.keys, region, old, new)
    common.show(proof)
    if not proof["klopt"]:
        raise typer.Exit(1)


OutOpt = Annotated[Path | None, typer.Option(
    "--out", help="Schrijf naar dit bestand (0600; nooit over een bestaand bestand zonder "
    "--force, nooit over de database, een sleutel of in de gegevensmap).")]
ForceOpt = Annotated[bool, typer.Option("--force", help="Vervang een bestaand --out-bestand.")]


def _check_out(out: Path | None, force: bool) -> None:
    """Refuse an --out target before anything is read, signed or written."""
    from deelwijs.cli import common
    common.output_target(out, force, "--out")


def _write_out(out: Path, text: str, force: bool) -> None:
    from deelwijs.cli import common
    common.write_output(out, text, force, "--out")


def _region_ids(s, region: str | None) -> list[int]:
    from deelwijs.services.covenant import registry

    return registry.region_ids(s, region)


def _catch_up_witness(app) -> None:
    """Append to the witness file every checkpoint of the database that is newer than the
    newest one the file holds for its log (one a failed append left out)."""
    from deelwijs import files
    from deelwijs.services.log import audit, witness
    path = app.settings.witness_file
    if path is None:
        return
    try:
        held = witness.load(path, missing_ok=True)
    except witness.WitnessError as exc:
        print(f"getuigenbestand: {exc}", file=sys.stderr)
        return
    newest: dict[str, int] = {}
    for o in held:
        newest[o.origin] = max(newest.get(o.origin, -1), o.size)
    with app.transaction() as s:
        missing = [c.note for rid in _region_ids(s, None)
                   for c in audit.checkpoints(s, rid)
                   if c.size > newest.get(audit.origin(s, rid, app.keys), -1)]
    if missing:
        try:
            witness.append(path, missing)
        except OSError as exc:
            print(f"getuigenbestand {path}: kon {len(missing)} checkpoint(s) niet "
                  f"bijschrijven ({files.os_reason(exc, writing=True)})", file=sys.stderr)
            return
        print(f"getuigenbestand {path}: {len(missing)} ontbrekend(e) checkpoint(s) "
              "bijgeschreven", file=sys.stderr)


@audit_app.command("checkpoint")
def checkpoint_command(region: RegionOpt = None, out: OutOpt = None,
                       force: ForceOpt = False) -> None:
    """Onderteken nu een checkpoint (grootte en wortel) van het log van elke regio; ook in het
    getuigenbestand, en met --out in een bestand dat de database verlaat."""
    from deelwijs.cli import common
    from deelwijs.services.log import audit

    _check_out(out, force)
    with common.session() as (app, s):
        notes = [audit.checkpoint(s, app.keys, rid).note for rid in _region_ids(s, region)]
    with common.open_app() as app:
        _catch_up_witness(app)
    if out is None:
        print("\n".join(notes), end="")
        return
    _write_out(out, "".join(notes), force)
    print(f"{len(notes)} checkpoint(s) geschreven naar {out}", file=sys.stderr)


@audit_app.command("key")
def key_command(region: RegionOpt = None) -> None:
    """Toon de sleutelregels waarmee een toezichthouder checkpoints kan controleren: een per
    regio, met de herkomst van haar log als naam."""
    from deelwijs.cli import common
    from deelwijs.services.log import audit

    with common.unit() as u:
        lines = [line for rid in _region_ids(u.session, region)
                 for line in audit.verifier_keys(u, rid)]
    print("\n".join(lines))


@audit_app.command("cosigner-key")
def cosigner_key_command(
    name: Annotated[str, typer.Option("--name", help="De naam van de medeondertekenaar, "
                                      "bijvoorbeeld fg.voorbeeldregio.nl/verwerkingslog.")],
    out: Annotated[Path, typer.Option("--out", help="Het bestand voor de privésleutel "
                                      "(0600); bewaar het buiten het bereik van de beheerder.")],
    force: ForceOpt = False,
) -> None:
    """Maak de sleutel van een medeondertekenaar (de FG): de privésleutel gaat naar --out, de
    sleutelregel voor DEELWIJS_COSIGNER_KEY verschijnt op het scherm."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from deelwijs.cli import common
    from deelwijs.domain import checkpoint as cp

    key = Ed25519PrivateKey.generate()
    try:
        line = cp.private_key(name, key)
    except ValueError as exc:
        common.fail(f"--name: {exc}")
    _check_out(out, force)
    _write_out(out, line + "\n", force)
    print(cp.cosigner_key(name, key.public_key()))
    print(f"privésleutel geschreven naar {out}; zet de regel hierboven in "
          "DEELWIJS_COSIGNER_KEY", file=sys.stderr)


@audit_app.command("cosign")
def cosign_command(
    key: Annotated[Path, typer.Option("--key", help="De privésleutel van de "
                                      "medeondertekenaar (deelwijs audit cosigner-key).")],
    region: RegionOpt = None,
    checkpoint: Annotated[list[Path] | None, typer.Option(
        "--checkpoint", help="Eerder medeondertekende checkpoints (uw eigen kopie): het log "
        "moet die bomen nog bevatten. Mag vaker.")] = None,
    out: OutOpt = None,
    force: ForceOpt = False,
) -> None:
    """Medeonderteken het log zoals het nu staat (C2SP tlog-cosignature), nadat het hele log
    is gecontroleerd, ook tegen het getuigenbestand en --checkpoint; weigert (exit 1) als er
    iets niet klopt. Het medeondertekende checkpoint komt in het getuigenbestand en op het
    scherm of in --out: bewaar zelf een kopie."""
    import time

    from deelwijs import files
    from deelwijs.cli import common
    from deelwijs.domain import checkpoint as cp
    from deelwijs.services.log import audit, verify, witness

    try:
        name, private = cp.parse_private_key(_key_lines(key, "--key")[0])
    except ValueError as exc:
        common.fail(f"--key: {exc}")
    _check_out(out, force)
    with common.session() as (app, s):
        config = app.settings
        outside, _ = _outside(checkpoint or [], config.witness_file)
        for o in outside:  # our own earlier cosignatures must still hold
            try:
                cp.open_cosignature(o.note, private.public_key(), name)
            except cp.CheckpointError as exc:
                common.fail(f"{o.source}: {exc}", 1)
        report = verify.verify(s, app.keys, region, outside=outside)
        if not report.ok:
            for p in report.problems:
                print(p.line())
            print(f"NIET IN ORDE: {len(report.problems)} problemen; niets medeondertekend")
            raise typer.Exit(1)
        notes = [audit.checkpoint(s, app.keys, rid).note for rid in _region_ids(s, region)]
    now = int(time.time())
    cosigned = [cp.cosign(private, name, note, now) for note in notes]
    if config.witness_file is not None:
        try:
            witness.append(config.witness_file, cosigned)
        except OSError as exc:
            print(f"getuigenbestand {config.witness_file}: kon niet bijschrijven "
                  f"({files.os_reason(exc, writing=True)})", file=sys.stderr)
    if out is None:
        print("\n".join(cosigned), end="")
        return
    _write_out(out, "".join(cosigned), force)
    print(f"{len(cosigned)} medeondertekend(e) checkpoint(s) geschreven naar {out}",
          file=sys.stderr)


@audit_app.command("log")
def log_command(
    youth: Annotated[int, typer.Option("--youth", help="Id van de jongere.", parser=ID)],
    limit: Annotated[int, typer.Option(help="Hoogstens zoveel regels.", parser=COUNT)] = 200,
) -> None:
    """Toon de logregels over één jongere (voor de FG; het log leest zichzelf zonder te loggen)."""
    from deelwijs.cli import common
    from deelwijs.services.casus import youths
    from deelwijs.services.log import audit

    with common.unit() as u:
        youths.get_youth(u.session, youth)
        rows = audit.entries_for_youth(u, youth, limit)
        common.show([audit.entry_view(r) for r in rows])


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")
