"""Accounts: who logs in, with what, and as whom they act (issue 13).

An account has one kind (services/context.py: `admin`, `professional`, `fg`, `parent`,
`youth`). What it may do is decided by the same access checks as every other use case
(services/access.py), from the `Actor` that `actor_for` makes of it; the web app, the API
and the CLI all turn a login, a session cookie or a personal access token into that Actor
here, so none of them has its own idea of who someone is.

- Passwords: argon2id (argon2-cffi's RFC 9106 low-memory profile), at least 12 characters;
  a hash made with older parameters is renewed at the next login.
- Lock-out: `Settings.login_max_failures` refused logins in a row lock the account for
  `login_lock_minutes`; a login with an unknown name costs the same time as a known one and
  says the same ("onjuiste gebruikersnaam of wachtwoord").
- Second factor: TOTP (RFC 6238, pyotp), required for the FG and administrators and
  optional for the others; each code is used once. The secret is sealed with a key derived
  from the master key (crypto.Keyring.seal).
- Web sessions and personal access tokens are random; only their SHA-256 is stored.
- `account_event` records logins, refusals, lock-outs, second factors, logouts, hats,
  tokens and an administrator acting for someone (no personal data of youths).

Every function takes the clock's time as `now` (naive UTC), so tests write time down.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import re
import secrets
from dataclasses import dataclass

import argon2
import pyotp
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from deelwijs.crypto import Keyring
from deelwijs.services import access
from deelwijs.services.context import (
    ADMIN,
    FG,
    PARENT,
    PROFESSIONAL,
    YOUTH,
    Actor,
    Unit,
)
from deelwijs.services.errors import Invalid, NotFound, Refused, ServiceError
from deelwijs.settings import Settings
from deelwijs.storage import orm

ACCOUNT_KINDS = (PROFESSIONAL, FG, ADMIN, PARENT, YOUTH)
SECOND_FACTOR_REQUIRED = frozenset({FG, ADMIN})
PASSWORD_MIN = 12
PASSWORD_MAX = 1024
USERNAME = re.compile(r"[a-z0-9][a-z0-9._@-]{1,99}")
TOKEN_PREFIX = "dw_"
TOTP_ISSUER = "Deelwijs"

_hasher = argon2.PasswordHasher()  # argon2id, RFC 9106 low-memory profile


def hash_password(password: str) -> str:
    """The argon2id hash of a password (its PHC string, parameters and salt included)."""
    return _hasher.hash(password)


@functools.cache
def _dummy() -> str:
    """A hash verified against when the name is unknown, so that a refusal takes as long
    either way (made when first needed: hashing at import would slow every CLI command)."""
    return _hasher.hash(secrets.token_urlsafe(16))


class LoginRefused(ServiceError):
    """Name or password (or code) wrong, the account locked or disabled. The message never
    says whether the name exists."""

    code = "login_refused"
    status = 401


class Unauthenticated(ServiceError):
    """No valid session or token: log in (or send a valid personal access token)."""

    code = "unauthenticated"
    status = 401


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Policy:
    """Lock-out and session limits (from the settings)."""

    max_failures: int = 5
    lock: dt.timedelta = dt.timedelta(minutes=15)
    session: dt.timedelta = dt.timedelta(hours=12)
    idle: dt.timedelta = dt.timedelta(minutes=30)

    @classmethod
    def of(cls, settings: Settings) -> Policy:
        return cls(settings.login_max_failures,
                   dt.timedelta(minutes=settings.login_lock_minutes),
                   dt.timedelta(hours=settings.session_hours),
                   dt.timedelta(minutes=settings.session_idle_minutes))


def event(session: Session, account_id: int | None, name: str, now: dt.datetime,
          remote: str | None = None, **detail) -> None:
    session.add(orm.AccountEvent(account_id=account_id, event=name, at=now,
                                 remote=(remote or None) and remote[:64], detail=detail))


# --- creating and changing accounts (the administrator's) -------------------------------------


def _check_username(name: str) -> str:
    value = (name or "").strip().lower()
    if not USERNAME.fullmatch(value):
        raise Invalid("invalid_username", "een gebruikersnaam is 2 tot 100 tekens: kleine "
                      "letters, cijfers en . _ @ -, te beginnen met een letter of cijfer",
                      "username")
    return value


def check_password(password: str, username: str = "", field: str = "password") -> None:
    if not isinstance(password, str) or len(password) < PASSWORD_MIN:
        raise Invalid("weak_password", f"een wachtwoord heeft minstens {PASSWORD_MIN} tekens",
                      field)
    if len(password) > PASSWORD_MAX:
        raise Invalid("too_long", f"een wachtwoord heeft hoogstens {PASSWORD_MAX} tekens", field)
    if username and password.strip().lower() == username.lower():
        raise Invalid("weak_password", "het wachtwoord mag niet de gebruikersnaam zijn", field)


def create(u: Unit, *, username: str, display_name: str, kind: str,
           region_id: int | None = None, professional_id: int | None = None,
           youth_id: int | None = None, guardian_id: int | None = None,
           email: str | None = None, password: str | None = None) -> orm.Account:
    """A new account (the administrator's act, in the administrator's region). A
    professional's account is linked to the professional (its region is theirs); a parent's
    to the guardian row of one child (more children: `link_subject`); a youth's to the
    youth. An FG or administrator names a region (an administrator of every region only by
    the operator). Without a password the account logs in only through OIDC, or after
    `set_password`."""
    s = u.session
    access.require_admin(u, "een account aanmaken")
    username = _check_username(username)
    display_name = (display_name or "").strip()
    if not display_name or len(display_name) > 200:
        raise Invalid("missing_field", "geef een naam van 1 tot 200 tekens", "display_name")
    if kind not in ACCOUNT_KINDS:
        raise Invalid("unknown_code", f"onbekende soort account '{kind}' (kies uit "
                      f"{', '.join(ACCOUNT_KINDS)})", "kind")
    if s.scalar(select(orm.Account.id).where(orm.Account.username == username)) is not None:
        raise Invalid("duplicate", f"de gebruikersnaam '{username}' bestaat al", "username")
    subject: tuple[int, int | None] | None = None
    if kind == PROFESSIONAL:
        pro = s.get(orm.Professional, professional_id) if professional_id else None
        if pro is None:
            raise NotFound("not_found", f"onbekende professional ({professional_id})",
                           "professional")
        if s.scalar(select(orm.Account.id).where(
                orm.Account.professional_id == pro.id)) is not None:
            raise Invalid("duplicate", f"{pro.name} heeft al een account", "professional")
        region_id = s.get(orm.Organisation, pro.organisation_id).region_id
    elif kind == PARENT:
        guardian = s.get(orm.Guardian, guardian_id) if guardian_id else None
        if guardian is None:
            raise NotFound("not_found", f"onbekende ouder ({guardian_id})", "guardian")
        region_id = s.get(orm.Youth, guardian.youth_id).region_id
        subject = (guardian.youth_id, guardian.id)
    elif kind == YOUTH:
        youth = s.get(orm.Youth, youth_id) if youth_id else None
        if youth is None:
            raise NotFound("not_found", f"onbekende jongere ({youth_id})", "youth")
        region_id = youth.region_id
        subject = (youth.id, None)
    elif region_id is None and (kind == FG or not u.actor.is_operator):
        raise Invalid("missing_field", "noem de regio van dit account", "region")
    if region_id is not None:
        if s.get(orm.Region, region_id) is None:
            raise NotFound("not_found", f"onbekende regio ({region_id})", "region")
        access.require_region(u, region_id, "region")
    if password is not None:
        check_password(password, username)
    account = orm.Account(
        username=username, display_name=display_name, kind=kind, region_id=region_id,
        professional_id=professional_id if kind == PROFESSIONAL else None,
        email=(email or "").strip() or None, failed_logins=0,
        password_hash=hash_password(password) if password is not None else None,
        created_at=utcnow())
    s.add(account)
    s.flush()
    if subject is not None:
        s.add(orm.AccountSubject(account_id=account.id, youth_id=subject[0],
                                 guardian_id=subject[1]))
    event(s, account.id, "created", utcnow(), by=_who(u))
    return account


def _who(u: Unit) -> str:
    actor = u.actor
    return "beheer" if actor.account_id is None else f"account:{actor.account_id}"


def link_subject(u: Unit, account: orm.Account, guardian_id: int) -> None:
    """A parent's account for one more child: the guardian row of that child."""
    access.require_admin(u, "een account koppelen")
    if account.kind != PARENT:
        raise Invalid("wrong_kind", "alleen een ouderaccount wordt aan een kind gekoppeld",
                      "account")
    guardian = u.session.get(orm.Guardian, guardian_id)
    if guardian is None:
        raise NotFound("not_found", f"onbekende ouder ({guardian_id})", "guardian")
    if u.session.get(orm.AccountSubject, (account.id, guardian.youth_id)) is None:
        u.session.add(orm.AccountSubject(account_id=account.id, youth_id=guardian.youth_id,
                                         guardian_id=guardian.id))


def get(u: Unit, account_id: int) -> orm.Account:
    """An account, for the administrator of its region (or its owner)."""
    account = u.session.get(orm.Account, account_id) if isinstance(account_id, int) else None
    if account is None or not _may_manage(u, account):
        raise NotFound("not_found", f"onbekend account ({account_id})", "account")
    return account


def _may_manage(u: Unit, account: orm.Account) -> bool:
    actor = u.actor
    if actor.account_id == account.id:
        return True
    if not actor.is_admin:
        return False
    return actor.region_id is None or actor.region_id == account.region_id


def by_username(session: Session, username: str) -> orm.Account | None:
    return session.scalar(select(orm.Account).where(
        orm.Account.username == (username or "").strip().lower()))


def set_password(u: Unit, account: orm.Account, password: str,
                 current: str | None = None) -> None:
    """A new password: by its owner (who gives the current one) or an administrator."""
    if not _may_manage(u, account):
        raise NotFound("not_found", f"onbekend account ({account.id})", "account")
    own = u.actor.account_id == account.id and account.password_hash is not None
    if own and (current is None or not _verify(account.password_hash, current)):
        raise Invalid("wrong_password", "het huidige wachtwoord klopt niet", "current")
    check_password(password, account.username)
    account.password_hash = hash_password(password)
    account.failed_logins = 0
    account.locked_until = None
    event(u.session, account.id, "password_set", utcnow(), by=_who(u))


def disable(u: Unit, account: orm.Account, now: dt.datetime | None = None) -> None:
    """Disable an account: its sessions end and its tokens stop working."""
    if not u.actor.is_admin or not _may_manage(u, account):
        raise NotFound("not_found", f"onbekend account ({account.id})", "account")
    now = now or utcnow()
    account.disabled_at = now
    u.session.execute(update(orm.WebSession).where(
        orm.WebSession.account_id == account.id, orm.WebSession.ended_at.is_(None)).values(
        ended_at=now))
    event(u.session, account.id, "disabled", now, by=_who(u))


def unlock(u: Unit, account: orm.Account) -> None:
    access.require_admin(u, "een account ontgrendelen")
    if not _may_manage(u, account):
        raise NotFound("not_found", f"onbekend account ({account.id})", "account")
    account.failed_logins = 0
    account.locked_until = None
    event(u.session, account.id, "unlocked", utcnow(), by=_who(u))


# --- OpenID Connect (web/oidc.py, docs/oidc.md) -----------------------------------------------

OIDC_SUBJECT_MAX = 400


def oidc_subject(issuer: str, sub: str) -> str:
    """The `oidc_subject` of a person who logs in through the provider `issuer` as `sub`."""
    return f"{issuer} {sub}"


def oidc_client_subject(issuer: str, client_id: str) -> str:
    """The `oidc_subject` of a system that calls the API with the access tokens the provider
    `issuer` gives its client `client_id` (client credentials)."""
    return f"{issuer} client:{client_id}"


def by_oidc_subject(session: Session, subject: str) -> orm.Account | None:
    if not subject or len(subject) > OIDC_SUBJECT_MAX:
        return None
    return session.scalar(select(orm.Account).where(orm.Account.oidc_subject == subject))


def link_oidc(u: Unit, account: orm.Account, subject: str | None) -> None:
    """Link an account to a login at the identity provider, "issuer sub" (oidc_subject; a
    system's client: "issuer client:<client id>"), or unlink it (None or ""). The
    administrator's act: Deelwijs never makes an account for an unknown subject."""
    access.require_admin(u, "een account koppelen")
    if not _may_manage(u, account):
        raise NotFound("not_found", f"onbekend account ({account.id})", "account")
    subject = (subject or "").strip()
    if not subject:
        if account.oidc_subject is not None:
            event(u.session, account.id, "oidc_unlinked", utcnow(), by=_who(u),
                  subject=account.oidc_subject)
            account.oidc_subject = None
        return
    issuer, _, sub = subject.partition(" ")
    if (len(subject) > OIDC_SUBJECT_MAX or not issuer.startswith(("https://", "http://"))
            or not sub or any(not c.isprintable() for c in subject)):
        raise Invalid("invalid_oidc_subject", "geef de koppeling als 'issuer sub': het adres "
                      "van de identiteitsprovider, een spatie en de sub van de gebruiker (of "
                      "client:<client id> van een systeem), samen hoogstens "
                      f"{OIDC_SUBJECT_MAX} tekens", "subject")
    other = by_oidc_subject(u.session, subject)
    if other is not None and other.id != account.id:
        raise Invalid("duplicate", "deze login bij de identiteitsprovider is al aan een ander "
                      "account gekoppeld", "subject")
    if account.oidc_subject != subject:
        account.oidc_subject = subject
        event(u.session, account.id, "oidc_linked", utcnow(), by=_who(u), subject=subject)


# --- logging in -------------------------------------------------------------------------------


def _verify(hash_: str, password: str) -> bool:
    try:
        return _hasher.verify(hash_, password)
    except (argon2.exceptions.VerificationError, argon2.exceptions.InvalidHashError):
        return False


REFUSED = "onjuiste gebruikersnaam of wachtwoord"


def locked(account: orm.Account, now: dt.datetime) -> bool:
    return account.locked_until is not None and account.locked_until > now


def authenticate(session: Session, username: str, password: str, *, now: dt.datetime,
                 policy: Policy, remote: str | None = None) -> orm.Account:
    """The account whose name and password these are, or LoginRefused. A refused password
    counts toward the lock-out; the message is the same for an unknown name, a wrong
    password, a locked or a disabled account (the event says which). A refusal commits the
    session before it is raised: its count and event must outlast the error (call it in a
    transaction of its own, as web/auth.py does)."""
    try:
        return _authenticate(session, username, password, now, policy, remote)
    except LoginRefused:
        session.commit()
        raise


def _authenticate(session: Session, username: str, password: str, now: dt.datetime,
                  policy: Policy, remote: str | None) -> orm.Account:
    account = by_username(session, username) if isinstance(username, str) else None
    if account is None or account.password_hash is None:
        _verify(_dummy(), password if isinstance(password, str) else "")
        event(session, account.id if account else None, "login_refused", now, remote,
              reason="unknown" if account is None else "no_password",
              username=(username or "")[:100] if account is None else None)
        raise LoginRefused("login_refused", REFUSED)
    if account.disabled_at is not None:
        _verify(_dummy(), password if isinstance(password, str) else "")
        event(session, account.id, "login_refused", now, remote, reason="disabled")
        raise LoginRefused("login_refused", REFUSED)
    if locked(account, now):
        _verify(_dummy(), password if isinstance(password, str) else "")
        event(session, account.id, "login_refused", now, remote, reason="locked")
        raise LoginRefused("account_locked", "dit account is tijdelijk geblokkeerd na te veel "
                           "mislukte pogingen; probeer het later opnieuw of vraag het beheer")
    if not isinstance(password, str) or not _verify(account.password_hash, password):
        _count_refusal(session, account, now, policy, remote, "login_refused",
                       reason="password")
        raise LoginRefused("login_refused", REFUSED)
    if _hasher.check_needs_rehash(account.password_hash):
        account.password_hash = hash_password(password)
    account.failed_logins = 0
    account.locked_until = None
    return account


def _count_refusal(session: Session, account: orm.Account, now: dt.datetime, policy: Policy,
                   remote: str | None, name: str, **detail) -> None:
    """One more refused password or code: the account is locked at the policy's count (the
    count starts again after the lock), else the refusal is recorded as `name`."""
    account.failed_logins = (account.failed_logins or 0) + 1
    if account.failed_logins >= policy.max_failures:
        account.locked_until = now + policy.lock
        account.failed_logins = 0
        event(session, account.id, "locked", now, remote, until=str(account.locked_until))
    else:
        event(session, account.id, name, now, remote, **detail)


def needs_second_factor(account: orm.Account) -> bool:
    """A TOTP code is asked at login: for every account that set one up."""
    return account.totp_confirmed_at is not None


def must_enrol(account: orm.Account) -> bool:
    """The FG and administrators must set up a second factor before anything else."""
    return account.kind in SECOND_FACTOR_REQUIRED and account.totp_confirmed_at is None


# --- TOTP -------------------------------------------------------------------------------------


def totp_begin(keys: Keyring, account: orm.Account) -> tuple[str, str]:
    """A new (unconfirmed) secret: (the secret in base32, its otpauth:// URI). It replaces an
    earlier unconfirmed one; a confirmed one stays until the new one is confirmed."""
    secret = pyotp.random_base32()
    if account.totp_confirmed_at is None:
        account.totp_sealed = keys.seal(secret)
    uri = pyotp.TOTP(secret).provisioning_uri(name=account.username, issuer_name=TOTP_ISSUER)
    return secret, uri


def _step(secret: str, code: str, now: dt.datetime) -> int | None:
    """The time step the code belongs to (now, or one step either side), or None."""
    code = (code or "").strip().replace(" ", "")
    if not re.fullmatch(r"[0-9]{6}", code):
        return None
    totp = pyotp.TOTP(secret)
    at = now.replace(tzinfo=dt.UTC)
    for delta in (0, -1, 1):
        moment = at + dt.timedelta(seconds=30 * delta)
        if secrets.compare_digest(totp.at(moment), code):
            return totp.timecode(moment)
    return None


def totp_confirm(session: Session, keys: Keyring, account: orm.Account, secret: str,
                 code: str, now: dt.datetime) -> None:
    """Confirm a secret from totp_begin with a code from the app: from now on it is asked."""
    step = _step(secret, code, now)
    if step is None:
        raise Invalid("wrong_code", "de code klopt niet; kijk in de app en probeer opnieuw",
                      "code")
    account.totp_sealed = keys.seal(secret)
    account.totp_confirmed_at = now
    account.totp_last_step = step
    event(session, account.id, "totp_enrolled", now)


def totp_check(session: Session, keys: Keyring, account: orm.Account, code: str,
               now: dt.datetime, remote: str | None = None, *,
               policy: Policy | None = None) -> None:
    """A login's second factor. A code is accepted once (replay refused); a wrong code
    counts toward the lock-out like a wrong password (and, like authenticate, commits that
    before it raises)."""
    secret = keys.unseal(account.totp_sealed) if account.totp_sealed else None
    step = _step(secret, code, now) if secret else None
    if step is None or (account.totp_last_step is not None and step <= account.totp_last_step):
        _count_refusal(session, account, now, policy or Policy(), remote,
                       "second_factor_refused")
        session.commit()
        raise LoginRefused("wrong_code", "de code klopt niet of is al gebruikt")
    account.totp_last_step = step
    account.failed_logins = 0
    event(session, account.id, "second_factor", now, remote)


# --- web sessions -----------------------------------------------------------------------------


def open_session(session: Session, account: orm.Account, *, now: dt.datetime, policy: Policy,
                 second_factor: bool, remote: str | None = None,
                 method: str = "password") -> tuple[str, orm.WebSession]:
    """A new session after a password (and, where set up, a second factor): (the cookie's
    token, the row). `second_factor` False: only the second-factor page is open to it."""
    token = secrets.token_urlsafe(32)
    row = orm.WebSession(id=digest(token), account_id=account.id,
                         csrf=secrets.token_urlsafe(32), created_at=now, last_seen_at=now,
                         expires_at=now + policy.session,
                         second_factor_at=now if second_factor else None)
    session.add(row)
    if second_factor:
        account.last_login_at = now
        event(session, account.id, "login", now, remote, method=method)
    else:
        event(session, account.id, "password_ok", now, remote, method=method)
    return token, row


def session_of(session: Session, token: str | None, *, now: dt.datetime,
               policy: Policy) -> tuple[orm.WebSession, orm.Account] | None:
    """The live session of a cookie's token and its account, or None (unknown, ended,
    expired, idle too long, account disabled). Touches `last_seen_at` at most once a
    minute."""
    if not token or len(token) > 200:
        return None
    row = session.get(orm.WebSession, digest(token))
    if row is None or row.ended_at is not None or row.expires_at <= now:
        return None
    if row.last_seen_at + policy.idle <= now:
        row.ended_at = now
        return None
    account = session.get(orm.Account, row.account_id)
    if account is None or account.disabled_at is not None:
        return None
    if now - row.last_seen_at >= dt.timedelta(minutes=1):
        row.last_seen_at = now
    return row, account


def second_factor_done(session: Session, row: orm.WebSession, account: orm.Account,
                       now: dt.datetime, remote: str | None = None) -> None:
    row.second_factor_at = now
    account.last_login_at = now
    event(session, account.id, "login", now, remote, method="password+totp")


def end_session(session: Session, row: orm.WebSession, now: dt.datetime,
                remote: str | None = None) -> None:
    if row.ended_at is None:
        row.ended_at = now
        event(session, row.account_id, "logout", now, remote)


def hats_of(session: Session, account: orm.Account) -> list[str]:
    """The hats a professional may work under (a wijkteam's toeleiding, hulpverlening)."""
    if account.professional_id is None:
        return []
    pro = session.get(orm.Professional, account.professional_id)
    return list(pro.hats or []) if pro is not None else []


def switch_hat(session: Session, row: orm.WebSession, account: orm.Account, hat: str | None,
               now: dt.datetime, remote: str | None = None) -> None:
    """Put on another hat (or none): explicit, and recorded."""
    hat = hat or None
    if hat is not None and hat not in hats_of(session, account):
        raise Invalid("hat_not_allowed", "deze pet hoort niet bij uw functie", "hat")
    if row.hat != hat:
        event(session, account.id, "hat", now, remote, before=row.hat, after=hat)
        row.hat = hat


# --- personal access tokens (API and CLI) -----------------------------------------------------


def new_token(u: Unit, account: orm.Account, name: str,
              expires_on: dt.date | None = None) -> tuple[str, orm.AccessToken]:
    """A personal access token for the account (its owner's or an administrator's act):
    (the token, shown once; its row)."""
    if not _may_manage(u, account):
        raise NotFound("not_found", f"onbekend account ({account.id})", "account")
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise Invalid("missing_field", "geef het token een naam van 1 tot 100 tekens", "name")
    if expires_on is not None and expires_on <= u.today:
        raise Invalid("invalid_date", "een token verloopt na vandaag", "expires")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = orm.AccessToken(account_id=account.id, name=name, token_hash=digest(token),
                          prefix=token[:10], created_at=utcnow(), expires_on=expires_on)
    u.session.add(row)
    u.session.flush()
    event(u.session, account.id, "token_created", utcnow(), token=row.id, by=_who(u))
    return token, row


def revoke_token(u: Unit, token_id: int) -> orm.AccessToken:
    """Revoke a personal access token (its owner's or an administrator's act); revoking it
    again changes nothing. Returns its row."""
    row = u.session.get(orm.AccessToken, token_id) if isinstance(token_id, int) else None
    account = u.session.get(orm.Account, row.account_id) if row is not None else None
    if account is None or not _may_manage(u, account):
        raise NotFound("not_found", f"onbekend token ({token_id})", "token")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        event(u.session, account.id, "token_revoked", row.revoked_at, token=row.id,
              by=_who(u))
    return row


def account_of_token(session: Session, token: str | None, *, now: dt.datetime,
                     today: dt.date) -> orm.Account | None:
    """The account of a live personal access token, or None."""
    if not token or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    row = session.scalar(select(orm.AccessToken).where(
        orm.AccessToken.token_hash == digest(token)))
    if row is None or row.revoked_at is not None or (
            row.expires_on is not None and row.expires_on <= today):
        return None
    account = session.get(orm.Account, row.account_id)
    if account is None or account.disabled_at is not None:
        return None
    if row.last_used_at is None or now - row.last_used_at >= dt.timedelta(minutes=1):
        row.last_used_at = now
    return account


# --- the actor of an account ------------------------------------------------------------------


def actor_for(session: Session, account: orm.Account, hat: str | None = None) -> Actor:
    """The Actor an account acts as (services/context.py)."""
    if account.kind == PROFESSIONAL:
        pro = session.get(orm.Professional, account.professional_id)
        org = session.get(orm.Organisation, pro.organisation_id)
        return Actor.of(pro, org.region_id, hat, account_id=account.id)
    if account.kind not in ACCOUNT_KINDS:
        raise Refused("wrong_kind", f"onbekende soort account '{account.kind}'", "account")
    return Actor(account.kind, region_id=account.region_id, account_id=account.id)


def subjects(session: Session, account_id: int) -> list[orm.AccountSubject]:
    """The youths a parent's or youth's account is linked to."""
    return list(session.scalars(select(orm.AccountSubject).where(
        orm.AccountSubject.account_id == account_id).order_by(orm.AccountSubject.youth_id)))


def view(account: orm.Account) -> dict:
    return {"id": account.id, "username": account.username,
            "display_name": account.display_name, "kind": account.kind,
            "region_id": account.region_id, "professional_id": account.professional_id,
            "second_factor": account.totp_confirmed_at is not None,
            "locked": account.locked_until is not None,
            "disabled": account.disabled_at is not None,
            "last_login_at": account.last_login_at.isoformat(timespec="seconds")
            if account.last_login_at else None}


# --- acting: the actor of a token, and an administrator acting for a professional -------------


def token_account(session: Session, token: str, *, now: dt.datetime, today: dt.date,
                  field: str = "DEELWIJS_TOKEN") -> orm.Account:
    """The account of a personal access token as a client presents it (the CLI's
    DEELWIJS_TOKEN, an API's bearer token): unknown, revoked, expired or of a disabled
    account is Unauthenticated (`invalid_token`, on `field`), and nothing is done."""
    account = account_of_token(session, (token or "").strip(), now=now, today=today)
    if account is None:
        raise Unauthenticated("invalid_token", "dit token is onbekend, ingetrokken of "
                              "verlopen, of zijn account is uitgeschakeld; er is niets gedaan",
                              field)
    return account


def acting(session: Session, account: orm.Account | None, by: int | None, *,
           hat: str | None = None, field: str = "by", command: str = "",
           now: dt.datetime | None = None) -> Actor:
    """Who acts, when `account` (None: the installation's operator, whoever holds the
    database and its keys) names the professional `by` (None: nobody), as the CLI's `--by`:

    - a professional's account acts as itself: `by` is left out or is its own professional,
      else Refused `by_mismatch` on `field`;
    - the operator or an administrator's account with `by` acts FOR that professional (an
      administrator's act): the professional's actor with `acted_by` ("beheer", or the
      account's name) and `account_id` the administrator's, and an account event `act_for`
      naming the administrator, the professional and `command` (a command's name, never its
      arguments). An administrator of one region acts only for a professional of that region
      (another is "onbekend", as any id the actor may not see);
    - an FG, a parent or a youth never acts for anyone (`by_mismatch`);
    - without `by`: the account's own actor (actor_for), or Actor.admin() for the operator.

    An unknown professional is NotFound on `field`."""
    if account is None and by is None:
        return Actor.admin()
    if account is not None and account.kind == PROFESSIONAL:
        if by is not None and by != account.professional_id:
            raise Refused("by_mismatch", f"met dit token handelt u als uzelf: laat --{field} "
                          f"weg of noem uw eigen id ({account.professional_id})", field)
        return actor_for(session, account, hat)
    if by is None:
        return actor_for(session, account, hat)
    if account is not None and account.kind != ADMIN:
        raise Refused("by_mismatch", "namens een professional handelt alleen het beheer; "
                      f"laat --{field} weg", field)
    pro = session.get(orm.Professional, by) if isinstance(by, int) else None
    region_id = session.get(orm.Organisation, pro.organisation_id).region_id if pro else None
    if pro is None or (account is not None and account.region_id is not None
                       and account.region_id != region_id):
        raise NotFound("not_found", f"onbekende professional ({by})", field)
    acted_by = "beheer" if account is None else account.username
    actor = Actor.of(pro, region_id, hat, account_id=account.id if account else None,
                     acted_by=acted_by)
    event(session, account.id if account else None, "act_for", now or utcnow(),
          by="beheer" if account is None else f"account:{account.id}", professional=pro.id,
          command=(command or "")[:200] or None)
    return actor


# --- reading accounts and tokens (the administrator's, or the owner's) -------------------------


def list_accounts(u: Unit, region_id: int | None = None) -> list[orm.Account]:
    """The accounts an administrator manages: of `region_id` (its own, for an administrator
    of one region), else every account it may manage, by id."""
    access.require_admin(u, "accounts bekijken", "account")
    if region_id is not None:
        access.require_region(u, region_id, "region")
    stmt = select(orm.Account).order_by(orm.Account.id)
    region = region_id if region_id is not None else u.actor.region_id
    if region is not None:
        stmt = stmt.where(orm.Account.region_id == region)
    return list(u.session.scalars(stmt))


def tokens(u: Unit, account: orm.Account) -> list[orm.AccessToken]:
    """An account's personal access tokens (never the tokens themselves), by id."""
    if not _may_manage(u, account):
        raise NotFound("not_found", f"onbekend account ({account.id})", "account")
    return list(u.session.scalars(select(orm.AccessToken).where(
        orm.AccessToken.account_id == account.id).order_by(orm.AccessToken.id)))


def _stamp(value: dt.datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value is not None else None


def token_view(row: orm.AccessToken) -> dict:
    return {"id": row.id, "account": row.account_id, "name": row.name, "prefix": row.prefix,
            "created_at": _stamp(row.created_at),
            "expires_on": row.expires_on.isoformat() if row.expires_on else None,
            "last_used_at": _stamp(row.last_used_at), "revoked_at": _stamp(row.revoked_at)}
