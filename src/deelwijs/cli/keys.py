"""`deelwijs keys`: the wrapping keys (verpakkingssleutels) that wrap the youths' data keys,
and their rotation (docs/retention.md § 4; the logic is in services/rights/keys.py).

`keys new` prints a new wrapping key; `keys rewrap [--dry-run]` re-wraps every live youth key
under the newest wrapping key, in batches (one transaction each), with a progress bar on
stderr, and prints the counts as JSON; `keys status` prints how many youth keys are under
each key, so the operator knows when the old one can be destroyed. A setting that cannot be
used (a malformed key in DEELWIJS_WRAPPING_KEYS) prints one Dutch line naming the variable on
stderr and exits 2; nothing is written then. `keys rewrap` exits 1 when a youth key fits none
of the configured keys (the JSON on stdout says how many).
"""

from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Annotated

import typer

from deelwijs.cli import common
from deelwijs.cli.common import COUNT

keys_app = typer.Typer(
    help="Verpakkingssleutels (DEELWIJS_WRAPPING_KEYS): de sleutels die de sleutels van de "
    "jongeren verpakken. Roteer ze na een vernietigingsronde, zodat ook oudere back-ups "
    "onleesbaar worden (zie docs/retention.md § 4). Niet te verwarren met de hoofdsleutel "
    "(DEELWIJS_MASTER_KEY), die nooit vervangen wordt.",
    no_args_is_help=True, rich_markup_mode=None)

BatchOpt = Annotated[int, typer.Option("--batch-size", help="Aantal jongeren per transactie "
                                                            "(standaard 500).", parser=COUNT)]


@contextmanager
def _progress(desc: str):
    """A progress callback for the services, drawing a bar on stderr from its first call on
    (so an error raised before any progress prints as one clean line)."""
    from tqdm import tqdm

    bars = []

    def tick(done: int, total: int) -> None:
        if not bars:
            bars.append(tqdm(total=total, desc=desc, unit=" jongeren", file=sys.stderr,
                             leave=False))
        bar = bars[0]
        bar.total = total
        bar.n = done
        bar.refresh()

    try:
        yield tick
    finally:
        for bar in bars:
            bar.close()


def _check_batch(batch_size: int) -> None:
    if batch_size < 1:
        common.fail(f"--batch-size: {batch_size} is te klein; geef een geheel getal van minstens 1")


@keys_app.command("new")
def keys_new() -> None:
    """Maak een nieuwe verpakkingssleutel.

    Zet hem vooraan in DEELWIJS_WRAPPING_KEYS (de
    eerste sleutel verpakt, alle sleutels ontsleutelen) en bewaar hem als geheim, apart van
    de back-ups van de database. Schrijft niets in de database."""
    from cryptography.fernet import Fernet

    print(Fernet.generate_key().decode())


@keys_app.command("status")
def keys_status(batch_size: BatchOpt = 500) -> None:
    """Tel de sleutels per verpakkingssleutel (JSON).

    Hoeveel sleutels van jongeren onder elke ingestelde verpakkingssleutel staan (nieuwste
    eerst, met een vingerafdruk), hoeveel onder de hoofdsleutel, hoeveel onder geen enkele
    (onleesbaar) en hoeveel vernietigd zijn, en of de oudere verpakkingssleutels nu weg
    kunnen. Schrijft niets."""
    from deelwijs.services.rights import keys

    _check_batch(batch_size)
    with common.unit() as u, _progress("sleutels tellen") as tick:
        result = keys.status(u, progress=tick, batch_size=batch_size)
    common.show(result)


@keys_app.command("rewrap")
def keys_rewrap(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Proefronde: tel wat opnieuw "
                                          "verpakt zou worden en schrijf niets.")] = False,
    batch_size: BatchOpt = 500,
) -> None:
    """Verpak alle sleutels opnieuw onder de nieuwste.

    Verpak de sleutel van elke jongere opnieuw onder de nieuwste verpakkingssleutel (de
    eerste in DEELWIJS_WRAPPING_KEYS), per portie in een eigen transactie. Sleutels die er al
    onder staan en vernietigde jongeren worden overgeslagen, dus opnieuw draaien na een
    onderbreking is veilig. Wordt gelogd in het verwerkingslog (één regel per regio). Controleer
    daarna met `deelwijs keys status` en vernietig pas dan de oude verpakkingssleutel."""
    from deelwijs.services.errors import ServiceError
    from deelwijs.services.rights import keys

    _check_batch(batch_size)
    with common.unit() as u, _progress("opnieuw verpakken") as tick:
        try:
            result = keys.rewrap(u, dry_run=dry_run, batch_size=batch_size, progress=tick)
        except ServiceError as exc:
            common.fail(str(exc))
    common.show(result)
    if result["unreadable"]:
        print(f"let op: {result['unreadable']} sleutel(s) passen bij geen enkele ingestelde "
              "sleutel en zijn niet opnieuw verpakt (zie message)", file=sys.stderr)
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the deelwijs command."""
    app.add_typer(keys_app, name="keys")
