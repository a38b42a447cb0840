"""`deelwijs account`: accounts and their personal access tokens (issue 13).

The administrator's commands (services/accounts.py decides who may: the installation's
operator, without a token, everywhere; an administrator's account in its region; an account's
owner, with its own token, sees itself and makes and revokes its own tokens). A password is
never an argument (it would stay in the shell's history and in the process list): it comes
from a file (--password-file) or stdin (--password-stdin); without one the account logs in
only after `account password` or through OpenID Connect. A new token is shown once: on
stdout, or with --out in a file of its own (0600).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from deelwijs.cli import common
from deelwijs.cli.common import ID

account_app = typer.Typer(help="Accounts: aanmaken, tonen, wachtwoord, uitschakelen, "
                          "ontgrendelen, koppelen, en persoonlijke toegangstokens.",
                          no_args_is_help=True, rich_markup_mode=None)
token_app = typer.Typer(help="Persoonlijke toegangstokens (voor de API en DEELWIJS_TOKEN): "
                        "aanmaken, tonen, intrekken.", no_args_is_help=True,
                        rich_markup_mode=None)
account_app.add_typer(token_app, name="token")

# a password is at most 1,024 characters (services.accounts.PASSWORD_MAX): 4 bytes each
PASSWORD_READ_MAX = 4 * 1024
# the option that names each kind's link, and what it links to
LINKS = {"professional": ("--professional", "een professional"),
         "parent": ("--guardian", "een ouder (de ouder/voogd van één kind)"),
         "youth": ("--youth", "een jongere")}

AccountArg = Annotated[int, typer.Argument(metavar="ID", help="Id van het account.",
                                           parser=ID)]
PasswordFileOpt = Annotated[Path | None, typer.Option(
    "--password-file", help="Lees het wachtwoord uit dit bestand (één regel). Nooit als "
    "argument: dat blijft in de geschiedenis van de shell staan.")]
PasswordStdinOpt = Annotated[bool, typer.Option(
    "--password-stdin", help="Lees het wachtwoord van stdin (één regel).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Als JSON in plaats van regels.")]


def _one_line(text: str, option: str) -> str:
    """A password as read: without a trailing newline; more than one line is refused."""
    if text.endswith("\n"):
        text = text[:-1].removesuffix("\r")
    if "\n" in text or "\r" in text:
        common.fail(f"{option}: een wachtwoord is één regel")
    return text


def _password(file: Path | None, stdin: bool, required: bool) -> str | None:
    """The password of --password-file or --password-stdin (one of them), read before the
    database is opened; None when neither is given and none is `required`."""
    from deelwijs import files

    if file is not None and stdin:
        common.fail("--password-stdin: noem --password-file of --password-stdin, niet allebei")
    if file is not None:
        try:
            text = files.read_text(file, PASSWORD_READ_MAX, "wachtwoordbestand")
        except files.Unreadable as exc:
            common.fail(f"--password-file: {exc}")
        return _one_line(text, "--password-file")
    if stdin:
        data = sys.stdin.buffer.read(PASSWORD_READ_MAX + 1)
        if len(data) > PASSWORD_READ_MAX:
            common.fail(f"--password-stdin: meer dan {PASSWORD_READ_MAX} bytes; dat is geen "
                        "wachtwoord")
        try:
            return _one_line(data.decode("utf-8"), "--password-stdin")
        except UnicodeDecodeError:
            common.fail("--password-stdin: geen UTF-8-tekst")
    if required:
        common.fail("--password-file: noem --password-file of --password-stdin (een "
                    "wachtwoord staat nooit op de opdrachtregel)")
    return None


def _view(u, account) -> dict:
    from deelwijs.services import accounts

    out = accounts.view(account)
    if account.kind in ("parent", "youth"):
        out["subjects"] = [{"youth": s.youth_id, "guardian": s.guardian_id}
                           for s in accounts.subjects(u.session, account.id)]
    return out


@account_app.command("create")
def account_create(
    username: Annotated[str, typer.Argument(help="Gebruikersnaam: kleine letters, cijfers "
                                            "en . _ @ -.")],
    name: Annotated[str, typer.Option("--name", help="Naam zoals de persoon die leest.")],
    kind: Annotated[str, typer.Option(
        "--kind", help="Soort account: professional, fg, admin, parent of youth.")],
    professional: Annotated[int | None, typer.Option(
        help="Id van de professional (bij --kind professional).", parser=ID)] = None,
    guardian: Annotated[int | None, typer.Option(
        help="Id van de ouder of voogd (bij --kind parent; meer kinderen: account link).",
        parser=ID)] = None,
    youth: Annotated[int | None, typer.Option(
        help="Id van de jongere (bij --kind youth).", parser=ID)] = None,
    region: Annotated[str | None, typer.Option(
        "--region", help="Regiocode (bij --kind fg en admin; een beheerder zonder regio "
        "beheert elke regio en wordt alleen door het beheer van de installatie "
        "aangemaakt).")] = None,
    email: Annotated[str | None, typer.Option("--email", help="E-mailadres.")] = None,
    password_file: PasswordFileOpt = None,
    password_stdin: PasswordStdinOpt = False,
) -> None:
    """Maak een account aan. Een professional, ouder of jongere hoort bij zijn professional,
    ouder of jongere (en dus bij diens regio); een FG of beheerder noemt een regio.

    Zonder wachtwoord kan het account pas inloggen na account password of via OpenID
    Connect. De FG en een beheerder stellen bij de eerste keer inloggen een tweede factor
    in."""
    from deelwijs.services import accounts
    from deelwijs.services.covenant import registry

    given = {"--professional": professional, "--guardian": guardian, "--youth": youth,
             "--region": region}
    if kind in accounts.ACCOUNT_KINDS:
        link = LINKS.get(kind)
        allowed = link[0] if link else "--region"
        for option, value in given.items():
            if value is not None and option != allowed:
                common.fail(f"{option}: hoort niet bij een account van soort {kind} (dat "
                            f"noemt {allowed})")
        if link and given[link[0]] is None:
            common.fail(f"{link[0]}: een account van soort {kind} hoort bij {link[1]}; noem "
                        f"{link[0]} ID")
    password = _password(password_file, password_stdin, required=False)
    with common.unit() as u:
        region_id = registry.region_by_code(u.session, region).id if region else None
        account = accounts.create(u, username=username, display_name=name, kind=kind,
                                  region_id=region_id, professional_id=professional,
                                  youth_id=youth, guardian_id=guardian, email=email,
                                  password=password)
        common.show(_view(u, account))


@account_app.command("list")
def account_list(
    region: Annotated[str | None, typer.Option(
        "--region", help="Alleen de accounts van deze regio (regiocode).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """De accounts die u beheert: id, soort, gebruikersnaam, naam, en of het is
    uitgeschakeld of geblokkeerd."""
    from deelwijs.services import accounts
    from deelwijs.services.covenant import registry

    with common.unit() as u:
        region_id = registry.region_by_code(u.session, region).id if region else None
        rows = [accounts.view(a) for a in accounts.list_accounts(u, region_id)]
    if as_json:
        common.show(rows)
        return
    for a in rows:
        state = " (uitgeschakeld)" if a["disabled"] else " (geblokkeerd)" if a["locked"] else ""
        print(f"{a['id']:>5}  {a['kind']:<12} {a['username']:<30} {a['display_name']}{state}")


@account_app.command("show")
def account_show(account_id: AccountArg) -> None:
    """Eén account (JSON): soort, regio, professional of gekoppelde jongeren, tweede factor,
    geblokkeerd, uitgeschakeld, laatste keer ingelogd."""
    from deelwijs.services import accounts

    with common.unit() as u:
        common.show(_view(u, accounts.get(u, account_id)))


@account_app.command("password")
def account_password(
    account_id: AccountArg,
    password_file: PasswordFileOpt = None,
    password_stdin: PasswordStdinOpt = False,
) -> None:
    """Zet een nieuw wachtwoord (minstens 12 tekens) uit een bestand of van stdin; een
    blokkade na mislukte pogingen vervalt."""
    from deelwijs.services import accounts

    password = _password(password_file, password_stdin, required=True)
    with common.unit() as u:
        account = accounts.get(u, account_id)
        accounts.set_password(u, account, password)
        common.show(_view(u, account))


@account_app.command("disable")
def account_disable(account_id: AccountArg) -> None:
    """Schakel een account uit: het kan niet meer inloggen, zijn sessies eindigen en zijn
    tokens werken niet meer."""
    from deelwijs.services import accounts

    with common.unit() as u:
        account = accounts.get(u, account_id)
        accounts.disable(u, account)
        common.show(_view(u, account))


@account_app.command("unlock")
def account_unlock(account_id: AccountArg) -> None:
    """Hef de blokkade na te veel mislukte inlogpogingen op."""
    from deelwijs.services import accounts

    with common.unit() as u:
        account = accounts.get(u, account_id)
        accounts.unlock(u, account)
        common.show(_view(u, account))


@account_app.command("link")
def account_link(
    account_id: AccountArg,
    guardian: Annotated[int, typer.Option(
        help="Id van de ouder of voogd bij het andere kind.", parser=ID)],
) -> None:
    """Koppel een ouderaccount aan nog een kind: via de ouder/voogd van dat kind (het gezag
    wordt steeds daar gelezen)."""
    from deelwijs.services import accounts

    with common.unit() as u:
        account = accounts.get(u, account_id)
        accounts.link_subject(u, account, guardian)
        common.show(_view(u, account))


# --- tokens ----------------------------------------------------------------------------------


@token_app.command("new")
def token_new(
    account_id: AccountArg,
    name: Annotated[str, typer.Option("--name", help="Waarvoor het token is (bijvoorbeeld "
                                      "'laptop' of 'koppeling leerlingadministratie').")],
    expires: Annotated[str | None, typer.Option(
        "--expires", help="Dag JJJJ-MM-DD waarop het token verloopt: het werkt tot die dag "
        "(standaard: geen einde).")] = None,
    out: Annotated[Path | None, typer.Option(
        "--out", help="Schrijf het token naar dit bestand (0600; nooit over een bestaand "
        "bestand zonder --force) in plaats van naar stdout; gebruik het met "
        "DEELWIJS_TOKEN_FILE.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Vervang een bestaand "
                                        "--out-bestand.")] = False,
) -> None:
    """Maak een persoonlijk toegangstoken voor een account. Het token wordt één keer
    getoond (Deelwijs bewaart alleen een hash): in de JSON op stdout, of met --out alleen in
    dat bestand. Wie het token heeft, handelt als het account (DEELWIJS_TOKEN)."""
    from deelwijs.services import accounts

    target = common.output_target(out, force, "--out")
    expires_on = common.day(expires, "--expires") if expires is not None else None
    with common.unit() as u:
        token, row = accounts.new_token(u, accounts.get(u, account_id), name, expires_on)
        shown = accounts.token_view(row)
        if target is not None:
            common.write_output(target, token + "\n", force, "--out")
    print("Bewaar dit token nu: Deelwijs toont het niet nog een keer.", file=sys.stderr)
    common.show({**shown, **({"file": str(target)} if target is not None else
                             {"token": token})})


@token_app.command("list")
def token_list(account_id: AccountArg) -> None:
    """De tokens van een account (JSON): naam, begin van het token, gemaakt, verloopt,
    laatst gebruikt, ingetrokken. Nooit het token zelf."""
    from deelwijs.services import accounts

    with common.unit() as u:
        common.show([accounts.token_view(t)
                     for t in accounts.tokens(u, accounts.get(u, account_id))])


@token_app.command("revoke")
def token_revoke(token_id: Annotated[int, typer.Argument(
        metavar="TOKEN_ID", help="Id van het token (account token list).", parser=ID)]) -> None:
    """Trek een token in: het werkt meteen niet meer."""
    from deelwijs.services import accounts

    with common.unit() as u:
        common.show(accounts.token_view(accounts.revoke_token(u, token_id)))


def register(app: typer.Typer) -> None:
    """Add this module's commands to the deelwijs command."""
    app.add_typer(account_app, name="account")

