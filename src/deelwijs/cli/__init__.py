"""The `deelwijs` command line. `deelwijs decide` is the one stable interface to the engine."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from deelwijs import __version__
from deelwijs.cli import common
from deelwijs.errors import DeelwijsError

app = typer.Typer(
    name="deelwijs",
    help="Deelwijs: het privacyconvenant onderwijs–gemeenten–jeugdhulp als code. "
    "Beslist of gegevens over een jongere gedeeld mogen worden, met de artikelen erbij. "
    "De webapp (deelwijs start om uit te proberen, met demo-accounts; deelwijs serve op "
    "een server) is voor professionals, de FG, het beheer, ouders en jongeren, elk met een "
    "eigen account; \"Mag ik dit delen?\" en POST /api/v1/decisions vragen geen account.\n\n"
    "Wie handelt: met een persoonlijk toegangstoken in DEELWIJS_TOKEN (of een bestand in "
    "DEELWIJS_TOKEN_FILE) handelt deelwijs als dat account, met dezelfde toegangsregels als "
    "in de webapp (deelwijs account token new). Zonder token handelt deelwijs als het beheer "
    "van de installatie: wie de database en haar sleutels heeft. --by N is dan handelen "
    "namens professional N, vastgelegd met beide identiteiten.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)
rules_app = typer.Typer(help="Rulesets: controleren, tonen, vergelijken en testen.",
                        no_args_is_help=True, rich_markup_mode=None)
app.add_typer(rules_app, name="rules")

RulesetOpt = Annotated[
    str | None,
    typer.Option("--ruleset", "-r", help="Ruleset: een ingebouwd id (model-convenant, "
                 "voorbeeldregio), het pad van een YAML-bestand, of het id of de digest "
                 "(sha256:…) van een ruleset in de database. Standaard het modelconvenant."),
]


# The most `decide` reads from stdin or --file: room for a batch of 100,000 requests (one
# request is a few hundred bytes to a kilobyte), and little enough that /dev/zero or an
# endless stream ends in a clear error at once instead of memory filling up.
# docs/decide.md, 'Synopsis'.
REQUEST_MAX = 64 * 1024 * 1024


def _err(line: str) -> None:
    print(line, file=sys.stderr)


def _read_request(file: Path | None) -> str:
    """The request text from --file or stdin: at most REQUEST_MAX bytes of UTF-8 (a leading
    byte order mark is skipped). Anything else ends in one Dutch line and exit 2."""
    where = f"--file {file}" if file else "stdin"
    try:
        if file is None:
            data = sys.stdin.buffer.read(REQUEST_MAX + 1)
        else:
            with open(file, "rb") as fh:
                data = fh.read(REQUEST_MAX + 1)
    except IsADirectoryError:
        _err(f"request: {where} is een map, geen bestand")
        raise typer.Exit(2) from None
    except OSError as exc:
        from deelwijs.files import os_reason

        _err(f"request: kan {where} niet lezen ({os_reason(exc)})")
        raise typer.Exit(2) from None
    if len(data) > REQUEST_MAX:
        _err(f"request: {where} is groter dan {REQUEST_MAX // (1024 * 1024)} MiB; stuur "
             "minder verzoeken per keer")
        raise typer.Exit(2)
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        _err(f"request: {where} is geen UTF-8-tekst (byte {exc.start + 1} niet)")
        raise typer.Exit(2) from None


@app.command()
def decide(
    ruleset: RulesetOpt = None,
    explain: Annotated[bool, typer.Option(
        "--explain", help="Voeg per gegevenscategorie het volledige spoor toe: elke "
        "geraadpleegde regel, in volgorde, met zijn oordeel.")] = False,
    file: Annotated[Path | None, typer.Option(
        "--file", "-f", help="Lees het verzoek uit dit bestand in plaats van stdin.")] = None,
) -> None:
    """Beslis over één verzoek (JSON-object) of een lijst verzoeken (JSON-array).

    Leest JSON van stdin (of --file) en schrijft het besluit als JSON naar stdout.
    Exit 0: alles beslist (toestaan of weigeren). Exit 2: ongeldige invoer; dan staat er
    niets op stdout en op stderr één regel per probleem met het JSON-pad.
    """
    import gc

    # A batch makes millions of objects and no reference cycles. Left on, the collector would
    # scan them over and over while they grow (about a quarter of a 100,000-request run), so
    # it is off for the batch and afterwards as it was, also when the batch ends in an error.
    # What the batch made is freed by reference counting when _decide returns.
    enabled = gc.isenabled()
    gc.disable()
    try:
        _decide(ruleset, explain, file)
    finally:
        if enabled:
            gc.enable()


def _decide(ruleset: str | None, explain: bool, file: Path | None) -> None:
    from deelwijs.domain.contract import decide_payload, parse_json

    text = _read_request(file)
    try:
        payload = parse_json(text)
    except DeelwijsError as exc:  # NotJson: `request: why`
        common.refuse(exc)
    rs = common.load_ruleset(ruleset)
    try:
        answer = decide_payload(payload, rs, explain)
    except DeelwijsError as exc:  # RequestError: one line per problem, with its JSON path
        common.refuse(exc)
    _print_answer(answer)


def _print_answer(answer) -> None:
    """The answer on stdout: the same bytes as print(json.dumps(answer, ensure_ascii=False,
    indent=2)), written straight to the byte stream when stdout is UTF-8 without newline
    translation (else through the text stream, as print does)."""
    import codecs

    from deelwijs.services.decisions import answer_json

    data = answer_json(answer)
    out = sys.stdout
    if isinstance(data, bytes):
        buffer = getattr(out, "buffer", None)
        encoding = getattr(out, "encoding", None)
        try:
            utf8 = encoding is not None and codecs.lookup(encoding).name == "utf-8"
        except LookupError:
            utf8 = False
        if buffer is not None and utf8 and os.linesep == "\n":
            out.flush()
            buffer.write(data)
            buffer.flush()
            return
        data = data.decode("utf-8")
    out.write(data)


HostOpt = Annotated[str, typer.Option(
    "--host", help="Het adres waarop de webapp luistert (achter een reverse proxy: "
    "127.0.0.1).")]
PortOpt = Annotated[int, typer.Option("--port", min=1, max=65535, help="De poort.")]


def _serve(host: str, port: int, workers: int, access_log: bool, before=None,
           proxy: str | None = None) -> None:
    """Bind first (a port in use is said at once), then `before` (the demo region), then
    serve until Ctrl+C."""
    import contextlib

    from deelwijs.settings import load
    from deelwijs.web.server import bind, proxies_of, run

    try:
        load()
        proxies = proxies_of(proxy) if proxy is not None else None
        sock = bind(host, port)
    except DeelwijsError as exc:  # SettingsError, ServeError
        common.refuse(exc)
    if before is not None:
        before()
    # uvicorn stops gracefully on Ctrl+C, then passes the interrupt on
    with contextlib.suppress(KeyboardInterrupt):
        run(host, port, workers, access_log, sock=sock, proxies=proxies,
            say=lambda line: print(line, flush=True))
    print("Deelwijs is gestopt.")


LOOPBACK = ("127.0.0.1", "::1", "localhost")


@app.command()
def start(host: HostOpt = "127.0.0.1", port: PortOpt = 8000) -> None:
    """Start Deelwijs om uit te proberen: de ingebouwde database (bijgewerkt), de demoregio
    met een demo-account per rol als die er nog niet is, en de webapp op
    http://127.0.0.1:8000 ("Mag ik dit delen?", inloggen, de API en haar documentatie). Toont
    de demo-accounts met hun (openbare) wachtwoorden. Stoppen: Ctrl+C."""
    from deelwijs.web.server import url_of

    if host in LOOPBACK:
        # on this machine only, over plain http: the session cookie without Secure, so that
        # every browser keeps it on http://127.0.0.1 (Safari does not keep a Secure cookie
        # there); DEELWIJS_COOKIE_SECURE set in the environment wins
        os.environ.setdefault("DEELWIJS_COOKIE_SECURE", "false")
    url = url_of(host, port)

    def demo() -> None:
        from deelwijs.cli.records import print_personas, run_demo
        from deelwijs.settings import load

        counts = run_demo()
        print(f"Database: {load().database_url}")
        print("Demoregio: " + ("aangemaakt" if counts.get("created") else "al aanwezig")
              + " (deelwijs org list, youth list, case list, disclosure list --youth ID)")
        print("Regels: deelwijs rules show; een vraag aan de engine: deelwijs decide")
        print_personas(url)
        print(f"Mag ik dit delen?: {url}/mag-ik-dit-delen")
        print(f"API: {url}/api/v1/docs (OpenAPI: {url}/api/v1/openapi.json)", flush=True)

    _serve(host, port, 1, False, before=demo)


@app.command()
def serve(
    host: HostOpt = "127.0.0.1",
    port: PortOpt = 8000,
    workers: Annotated[int, typer.Option(
        "--workers", min=1, max=64, help="Aantal werkprocessen (op een server: ongeveer "
        "het aantal processorkernen).")] = 1,
    access_log: Annotated[bool, typer.Option(
        "--access-log", help="Schrijf elke aanvraag (methode, pad, status) naar de uitvoer. "
        "Standaard uit: de reverse proxy houdt dat bij.")] = False,
    proxy: Annotated[str | None, typer.Option(
        "--proxy", metavar="ADRESSEN", help="De adressen of netwerken van de reverse proxy "
        "(komma's ertussen), waarvan X-Forwarded-For en X-Forwarded-Proto geloofd worden: "
        "het echte adres van de bezoeker telt dan voor de limiet op inlogpogingen en staat "
        "in de accountgebeurtenissen. Standaard 127.0.0.1 en ::1 (een proxy op dezelfde "
        "machine; of FORWARDED_ALLOW_IPS); '*' alleen als niets anders de app kan "
        "bereiken.")] = None,
) -> None:
    """Start alleen de webapp en de API (uvicorn), op de database die DEELWIJS_DATABASE_URL
    noemt: inloggen met een account, "Mag ik dit delen?" zonder account, de API met een
    persoonlijk toegangstoken. Maakt geen demoregio en geen demo-accounts.
    Stoppen: Ctrl+C of SIGTERM. Op een server: achter een reverse proxy die TLS doet (README,
    docs/deploy.md); de database eerst bijwerken met deelwijs db upgrade."""
    _serve(host, port, workers, access_log, proxy=proxy)


@app.command()
def version() -> None:
    """Toon de versie van Deelwijs en van de ingebouwde rulesets."""
    from deelwijs.rules import loader

    print(f"deelwijs {__version__}")
    for rid in loader.builtin_ids():
        rs = loader.resolve(rid)
        print(f"{rs.id} {rs.version} {rs.digest}")


@rules_app.command("check")
def rules_check(
    paths: Annotated[list[Path], typer.Argument(help="Een of meer ruleset-bestanden (YAML).")],
    as_json: Annotated[bool, typer.Option("--json", help="Problemen als JSON.")] = False,
) -> None:
    """Controleer rulesets. Meldt elk probleem met bestand, regel en regel-id; exit 2 bij fouten.

    Een regionale ruleset (extends: model-convenant) mag het model alleen beperken; een
    verruiming van een wettelijke grens wordt geweigerd. Alleen het ingebouwde model staat op
    zichzelf: een bestand zonder extends wordt geweigerd. Een ingebouwd id (model-convenant,
    voorbeeldregio) mag ook. Dezelfde controle als bij decide --ruleset en region ruleset
    activate.
    """
    from deelwijs.rules.loader import RulesetError, resolve

    failed = False
    report = []
    for path in paths:
        try:
            rs = resolve(str(path))
        except RulesetError as exc:
            failed = True
            report.extend(p.as_dict() for p in exc.problems)
            if not as_json:
                for p in exc.problems:
                    _err(str(p))
            continue
        if not as_json:
            print(f"{path}: in orde ({rs.id} {rs.version}, {rs.digest})")
    if as_json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    if failed:
        raise typer.Exit(2)


@rules_app.command("show")
def rules_show(
    ruleset: RulesetOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Als JSON in plaats van tabellen.")]
    = False,
) -> None:
    """Toon een ruleset als leesbare tabellen: doel × categorie, partijen,
    toestemmingsleeftijden, bewaartermijnen, regionale overleggen en voorwaarden."""
    from deelwijs.rules import show

    rs = common.load_ruleset(ruleset)
    if as_json:
        print(json.dumps(show.as_json(rs), ensure_ascii=False, indent=2))
    else:
        print(show.render(rs))


@rules_app.command("diff")
def rules_diff(
    a: Annotated[str, typer.Argument(help="De basis, meestal model-convenant.")],
    b: Annotated[str, typer.Argument(help="De regionale ruleset (id of pad).")],
    as_json: Annotated[bool, typer.Option("--json", help="Als JSON.")] = False,
) -> None:
    """Wat ruleset B verandert ten opzichte van A: voor de FG die de regionale versie tekent.
    Elk veld dat de engine leest; elke wijziging gemarkeerd als verruiming, beperking of
    (andere) wijziging."""
    from deelwijs.rules import show

    ra, rb = common.load_ruleset(a), common.load_ruleset(b)
    changes = show.diff(ra, rb)
    if as_json:
        about = {side: {"title": rs.title, "extends": rs.extends}
                 for side, rs in (("from", ra), ("to", rb))}
        print(json.dumps({"from": ra.ref(), "to": rb.ref(), "about": about,
                          "summary": show.summary(changes), "changes": changes},
                         ensure_ascii=False, indent=2))
        return
    print(show.render_diff(ra, rb, changes))


def _scenario_problem(exc: Exception) -> str:
    """Why a scenario file could not be read, in Dutch."""
    import yaml

    from deelwijs.files import os_reason

    if isinstance(exc, OSError):
        return os_reason(exc)
    if isinstance(exc, UnicodeDecodeError):
        return f"geen UTF-8-tekst (byte {exc.start + 1})"
    if isinstance(exc, yaml.YAMLError):
        mark = getattr(exc, "problem_mark", None)
        return "geen geldige YAML" + (f" (regel {mark.line + 1})" if mark else "")
    if isinstance(exc, ValueError) and str(exc).startswith("groter dan"):
        return str(exc)
    return "niet de vorm van een scenariobestand (zie docs/rules.md, § 6.3)"


@rules_app.command("test")
def rules_test(
    paths: Annotated[list[Path] | None, typer.Argument(
        help="Scenariobestanden of mappen. Standaard: de ingebouwde scenario's.")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v",
                                          help="Toon ook geslaagde scenario's.")] = False,
) -> None:
    """Draai scenario's (YAML) door de engine. Exit 1 als er een faalt, 2 bij een onleesbaar
    bestand. Zie docs/rules.md voor het formaat."""
    import yaml

    from deelwijs.rules import scenario
    from deelwijs.rules.loader import RulesetError

    files: list[Path] = []
    for p in paths or scenario.builtin_files():
        files.extend(sorted(p.glob("**/*.yaml")) if p.is_dir() else [p])
    passed = failed = 0
    for f in files:
        try:
            scenarios = scenario.load(f)
        except (OSError, ValueError, KeyError, TypeError, AttributeError, IndexError,
                yaml.YAMLError) as exc:
            _err(f"{f}: geen geldig scenariobestand: {_scenario_problem(exc)}")
            raise typer.Exit(2) from None
        for sc in scenarios:
            try:
                problems, _ = scenario.check(sc)
            except RulesetError as exc:
                problems = [str(p) for p in exc.problems]
            if problems:
                failed += 1
                print(f"FAIL {f.name}:{sc.line} {sc.name}")
                for p in problems:
                    print(f"     {p}")
            else:
                passed += 1
                if verbose:
                    print(f"ok   {f.name}:{sc.line} {sc.name}")
    print(f"{passed} passed, {failed} failed")
    if failed:
        raise typer.Exit(1)


def _register() -> None:
    from deelwijs.cli import accounts, audit, keys, manage, records, register, retention, rights

    for module in (records, manage, register, audit, rights, retention, keys, accounts):
        module.register(app)


_register()


def main() -> None:
    """Entry point: never a traceback for the user, and every message Dutch (cli/nl.py: click's
    usage errors and help pages too)."""
    from deelwijs.cli import nl
    from deelwijs.tracing import trace

    try:
        # one trace per command; a caller passes its own on as TRACEPARENT (W3C format)
        with trace(os.environ.get("TRACEPARENT")):
            code = nl.run(nl.command_of(app))
        if code == 130:  # typer turns an interrupt into exit 130, without a word
            _err("afgebroken")
        sys.exit(code)
    except KeyboardInterrupt:
        _err("afgebroken")
        sys.exit(130)
    except SystemExit:
        raise
    except Exception as exc:  # a bug of ours: say so plainly, without a traceback
        _err(f"interne fout in deelwijs ({type(exc).__name__}: {exc}). Meld dit als issue.")
        sys.exit(1)


if __name__ == "__main__":
    main()
