"""OpenID Connect: logging in through the identity provider of one's organisation, and systems
calling the API with the provider's access tokens (issue 13; docs/oidc.md).

Configured by DEELWIJS_OIDC_ISSUER, DEELWIJS_OIDC_CLIENT_ID and DEELWIJS_OIDC_CLIENT_SECRET
(settings.py); without an issuer none of this is active.

- `GET /inloggen/oidc`: the provider's authorization endpoint (from its discovery document,
  `{issuer}/.well-known/openid-configuration`, cached), with the authorization code flow, PKCE
  (S256), `state` and `nonce`. What the way back needs (state, nonce, the PKCE verifier and
  where to land) rides in a short-lived HttpOnly cookie sealed with the master key's secrets
  key (crypto.Keyring.seal: encrypted and authenticated), for this path only.
- `GET /inloggen/oidc/terug`: the code is exchanged (Authlib's OAuth2Session), the ID token
  checked (signature by the provider's JWKS, iss, aud, azp, exp, iat, nonce; joserfc), and the
  account found by `oidc_subject` == "issuer sub". Deelwijs makes no account for an unknown
  subject: an administrator links it (services/accounts.link_oidc). A disabled or locked
  account is refused. Every refusal is a Dutch page and an `oidc_refused` account event.
- The second factor: the provider's login counts as one when the ID token's `amr` names
  `mfa` or `otp`, or its `acr` is one of DEELWIJS_OIDC_MFA_ACR. Otherwise an account with a
  TOTP secret gives its code on /inloggen/tweede-factor, as after a password. The FG and
  administrators must still have TOTP set up (deps checks that on every request).
- `account_of_bearer`: web/deps.resolve asks it about a Bearer token that is not a personal
  access token. A JWT access token of the provider (client credentials) is accepted when its
  signature (JWKS), iss, aud (DEELWIJS_OIDC_API_AUDIENCE, else the client id) and exp hold and
  its client (`client_id` or `azp`) is linked to an account as "issuer client:<client id>".
  The system then acts as that account, with exactly its rights.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
from typing import Any
from urllib.parse import quote

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.requests_client import OAuth2Session
from fastapi import APIRouter, Request
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from deelwijs.services import accounts
from deelwijs.settings import Settings
from deelwijs.storage import orm
from deelwijs.web import deps
from deelwijs.web.auth import safe_next
from deelwijs.web.templating import render

router = APIRouter()
log = logging.getLogger("deelwijs.web.oidc")

START = "/inloggen/oidc"
CALLBACK = "/inloggen/oidc/terug"
COOKIE = "deelwijs_oidc"
SCOPE = "openid profile email"
ATTEMPT_SECONDS = 600  # a login started longer ago is refused on the way back
LEEWAY = 60  # seconds of clock skew allowed on exp, iat and nbf
DISCOVERY_SECONDS = 3600  # the discovery document and the JWKS are cached this long
JWKS_REFETCH_SECONDS = 60  # an unknown key id fetches the JWKS again, at most this often
TIMEOUT = 10  # seconds for each call to the provider
TOKEN_MAX = 16_384
# asymmetric signatures only: never `none`, never a shared secret
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512")
MFA_AMR = frozenset({"mfa", "otp"})

RETRY = "Probeer opnieuw in te loggen."


class _Refusal(Exception):
    """A login through the provider that does not go on: a Dutch page, and an event."""

    def __init__(self, reason: str, message: str, status: int = 403, *,
                 account_id: int | None = None, subject: str | None = None):
        super().__init__(reason)
        self.reason, self.message, self.status = reason, message, status
        self.account_id, self.subject = account_id, subject


def configured(settings: Settings) -> bool:
    return bool(settings.oidc_issuer and settings.oidc_client_id)


# --- the provider: discovery and keys, cached per issuer -------------------------------------


class Provider:
    """The discovery document and JWKS of one issuer, fetched when first needed and kept
    DISCOVERY_SECONDS; a token signed with a key id not in the JWKS fetches it again (key
    rotation), at most once per JWKS_REFETCH_SECONDS."""

    def __init__(self, issuer: str):
        self.issuer = issuer
        self._lock = threading.Lock()
        self._metadata: dict | None = None
        self._metadata_at = 0.0
        self._keys: KeySet | None = None
        self._keys_at = 0.0

    def _get(self, url: str) -> dict:
        try:
            response = requests.get(url, timeout=TIMEOUT, allow_redirects=False,
                                    headers={"accept": "application/json"})
            response.raise_for_status()
            data = response.json()
        except (requests.RequestException, ValueError) as exc:
            log.warning("OIDC: %s niet op te halen: %s", url, exc)
            raise _Refusal("provider_unreachable", "De inlogdienst van uw organisatie is nu "
                           "niet bereikbaar. Probeer het later opnieuw, of log in met uw "
                           "gebruikersnaam en wachtwoord.", 502) from None
        if not isinstance(data, dict):
            raise _Refusal("provider_invalid", "De inlogdienst van uw organisatie gaf een "
                           "onbruikbaar antwoord. Meld dit aan de beheerder.", 502)
        return data

    def metadata(self) -> dict:
        with self._lock:
            if self._metadata is None or time.monotonic() - self._metadata_at > \
                    DISCOVERY_SECONDS:
                data = self._get(self.issuer.rstrip("/") + "/.well-known/openid-configuration")
                issuer = data.get("issuer")
                needed = ("authorization_endpoint", "token_endpoint", "jwks_uri")
                if (not isinstance(issuer, str) or issuer.rstrip("/") != self.issuer.rstrip("/")
                        or not all(isinstance(data.get(k), str) for k in needed)):
                    log.warning("OIDC: het discovery-document van %s klopt niet (issuer %r)",
                                self.issuer, issuer)
                    raise _Refusal("provider_invalid", "De inlogdienst van uw organisatie is "
                                   "niet goed ingesteld. Meld dit aan de beheerder.", 502)
                self._metadata, self._metadata_at = data, time.monotonic()
                self._keys = None
            return self._metadata

    def keys(self, refresh: bool = False) -> KeySet:
        metadata = self.metadata()
        with self._lock:
            stale = self._keys is None or time.monotonic() - self._keys_at > DISCOVERY_SECONDS
            if stale or (refresh and time.monotonic() - self._keys_at > JWKS_REFETCH_SECONDS):
                data = self._get(metadata["jwks_uri"])
                try:
                    keys = KeySet.import_key_set(data)
                except (JoseError, ValueError, TypeError, KeyError) as exc:
                    log.warning("OIDC: de JWKS van %s is onbruikbaar: %s", self.issuer, exc)
                    raise _Refusal("provider_invalid", "De inlogdienst van uw organisatie "
                                   "is niet goed ingesteld. Meld dit aan de beheerder.",
                                   502) from None
                self._keys, self._keys_at = keys, time.monotonic()
            return self._keys

    def decode(self, token: str, **claims: Any) -> dict:
        """The claims of a JWT signed by one of the provider's keys and whose claims hold
        (joserfc's JWTClaimsRegistry options, with LEEWAY). Raises JoseError (or ValueError
        for a token that is no JWT at all)."""
        if not isinstance(token, str) or len(token) > TOKEN_MAX:
            raise ValueError("token too long")
        try:
            decoded = jwt.decode(token, self.keys(), algorithms=list(ALGORITHMS))
        except InvalidKeyIdError:
            decoded = jwt.decode(token, self.keys(refresh=True), algorithms=list(ALGORITHMS))
        jwt.JWTClaimsRegistry(leeway=LEEWAY, **claims).validate(decoded.claims)
        return decoded.claims


_providers: dict[str, Provider] = {}
_providers_lock = threading.Lock()


def provider(issuer: str) -> Provider:
    with _providers_lock:
        found = _providers.get(issuer)
        if found is None:
            found = _providers[issuer] = Provider(issuer)
        return found


# --- logging in ------------------------------------------------------------------------------


def _redirect_uri(request: Request) -> str:
    settings = request.app.state.settings
    base = settings.public_url or str(request.base_url).rstrip("/")
    return base + CALLBACK


def _client(request: Request) -> OAuth2Session:
    settings = request.app.state.settings
    return OAuth2Session(settings.oidc_client_id, settings.oidc_client_secret, scope=SCOPE,
                         redirect_uri=_redirect_uri(request), code_challenge_method="S256",
                         default_timeout=TIMEOUT)


def _page(request: Request, refusal: _Refusal) -> Response:
    response = render("auth/oidc_refused.html", status_code=refusal.status, who=None,
                      text=refusal.message, subject=refusal.subject,
                      reason=refusal.reason)
    _clear_attempt(request, response)
    return response


@router.get(START)
def begin(request: Request, terug: str = "") -> Response:
    """To the provider's login page; back at CALLBACK."""
    settings = request.app.state.settings
    if not configured(settings):
        return _page(request, _Refusal("not_configured", "Inloggen via uw organisatie is in "
                                       "deze Deelwijs niet ingesteld. Log in met uw "
                                       "gebruikersnaam en wachtwoord.", 404))
    try:
        metadata = provider(settings.oidc_issuer).metadata()
    except _Refusal as refusal:
        return _page(request, refusal)
    state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    verifier = secrets.token_urlsafe(48)
    with _client(request) as client:
        url, _ = client.create_authorization_url(metadata["authorization_endpoint"],
                                                 state=state, code_verifier=verifier,
                                                 nonce=nonce)
    attempt = {"purpose": "oidc", "state": state, "nonce": nonce, "verifier": verifier,
               "terug": safe_next(terug[:2000]) if terug else "", "at": int(time.time())}
    sealed = deps.services(request).keys.seal(json.dumps(attempt)).decode("ascii")
    response = RedirectResponse(url, status_code=303)
    response.set_cookie(COOKIE, sealed, max_age=ATTEMPT_SECONDS, httponly=True,
                        samesite="lax", secure=settings.cookie_secure, path=START)
    return response


def _attempt(request: Request) -> dict | None:
    """The login this browser started here (the sealed cookie), if not too old."""
    raw = request.cookies.get(COOKIE)
    if not raw or len(raw) > 4096:
        return None
    text = deps.services(request).keys.unseal(raw.encode("ascii", "replace"))
    try:
        attempt = json.loads(text) if text else None
    except ValueError:
        return None
    if not isinstance(attempt, dict) or attempt.get("purpose") != "oidc":
        return None
    at = attempt.get("at")
    if not isinstance(at, int) or not 0 <= time.time() - at <= ATTEMPT_SECONDS:
        return None
    if not all(isinstance(attempt.get(k), str) for k in ("state", "nonce", "verifier",
                                                           "terug")):
        return None
    return attempt


def _clear_attempt(request: Request, response: Response) -> None:
    if request.cookies.get(COOKIE):
        response.delete_cookie(COOKIE, path=START, httponly=True, samesite="lax",
                               secure=request.app.state.settings.cookie_secure)


@router.get(CALLBACK)
def callback(request: Request) -> Response:
    """The way back from the provider: the code for tokens, the ID token checked, a session
    for the linked account. Runs in the thread pool (it calls the provider)."""
    settings = request.app.state.settings
    now = accounts.utcnow()
    remote = deps.remote(request)
    try:
        if not configured(settings):
            raise _Refusal("not_configured", "Inloggen via uw organisatie is in deze Deelwijs "
                           "niet ingesteld.", 404)
        claims, attempt = _verified(request, settings)
        return _log_in(request, claims, attempt, now)
    except _Refusal as refusal:
        if refusal.reason != "not_configured":
            with deps.services(request).transaction() as s:
                accounts.event(s, refusal.account_id, "oidc_refused", now, remote,
                               reason=refusal.reason, subject=refusal.subject)
        return _page(request, refusal)


def _verified(request: Request, settings: Settings) -> tuple[dict, dict]:
    """The ID token's claims and the attempt, after every check; else _Refusal."""
    params = request.query_params
    error = params.get("error")
    if error:
        shown = "".join(c for c in error[:60] if c.isalnum() or c in "_-")
        raise _Refusal("provider_error", "De inlogdienst van uw organisatie heeft het inloggen "
                       f"niet afgerond ({shown}). " + RETRY, 401)
    attempt = _attempt(request)
    if attempt is None:
        raise _Refusal("no_attempt", "Deze inlogpoging is verlopen of niet in deze browser "
                       "begonnen. " + RETRY, 400)
    state = params.get("state") or ""
    if not secrets.compare_digest(state.encode(), attempt["state"].encode()):
        raise _Refusal("state", "Deze inlogpoging hoort niet bij deze browser (de controle "
                       "op 'state' klopt niet). " + RETRY, 400)
    code = params.get("code")
    if not code or len(code) > 2048:
        raise _Refusal("no_code", "De inlogdienst stuurde geen code terug. " + RETRY, 400)
    prov = provider(settings.oidc_issuer)
    metadata = prov.metadata()
    try:
        with _client(request) as client:
            token = client.fetch_token(metadata["token_endpoint"], code=code,
                                       grant_type="authorization_code",
                                       code_verifier=attempt["verifier"])
    except (AuthlibBaseError, requests.RequestException, ValueError, TypeError) as exc:
        log.warning("OIDC: de code is niet in te wisselen: %s: %s", type(exc).__name__, exc)
        raise _Refusal("token_refused", "De inlogdienst van uw organisatie wisselde de "
                       "inlogcode niet in. " + RETRY, 502) from None
    id_token = token.get("id_token") if isinstance(token, dict) else None
    if not isinstance(id_token, str):
        raise _Refusal("no_id_token", "De inlogdienst stuurde geen ID-token. Meld dit aan de "
                       "beheerder.", 502)
    issuer = metadata["issuer"]
    try:
        claims = prov.decode(id_token, iss={"essential": True, "value": issuer},
                             aud={"essential": True, "value": settings.oidc_client_id},
                             sub={"essential": True}, exp={"essential": True},
                             iat={"essential": True},
                             nonce={"essential": True, "value": attempt["nonce"]})
        azp = claims.get("azp")
        if azp is not None and azp != settings.oidc_client_id:
            raise JoseError("azp is another client")
    except (JoseError, ValueError, TypeError) as exc:
        log.warning("OIDC: ID-token geweigerd: %s: %s", type(exc).__name__, exc)
        raise _Refusal("id_token", "Het antwoord van de inlogdienst kon niet worden "
                       "gecontroleerd (het ID-token is ongeldig of verlopen). " + RETRY,
                       401) from None
    return claims, attempt


def second_factor_by_provider(claims: dict, settings: Settings) -> bool:
    """The provider's login was multi-factor: `amr` names mfa or otp, or `acr` is one of
    DEELWIJS_OIDC_MFA_ACR."""
    amr = claims.get("amr")
    if isinstance(amr, list) and MFA_AMR.intersection(a for a in amr if isinstance(a, str)):
        return True
    acr = claims.get("acr")
    return isinstance(acr, str) and acr in settings.oidc_mfa_acr


def _log_in(request: Request, claims: dict, attempt: dict, now) -> Response:
    settings = request.app.state.settings
    subject = accounts.oidc_subject(claims["iss"], claims["sub"])
    remote = deps.remote(request)
    terug = attempt["terug"]
    with deps.services(request).transaction() as s:
        account = accounts.by_oidc_subject(s, subject)
        if account is None:
            raise _Refusal("unknown_subject", "U bent bij uw organisatie ingelogd, maar deze "
                           "login is nog niet aan een account in Deelwijs gekoppeld. Vraag de "
                           "beheerder van uw regio om dat te doen en geef deze code door:",
                           403, subject=subject)
        if account.disabled_at is not None:
            raise _Refusal("disabled", "Uw account in Deelwijs is uitgeschakeld. Vraag de "
                           "beheerder van uw regio.", 403, account_id=account.id)
        if accounts.locked(account, now):
            raise _Refusal("locked", "Uw account in Deelwijs is tijdelijk geblokkeerd na te "
                           "veel mislukte pogingen. Probeer het later opnieuw of vraag de "
                           "beheerder.", 403, account_id=account.id)
        by_provider = second_factor_by_provider(claims, settings)
        done = by_provider or not accounts.needs_second_factor(account)
        token, _row = accounts.open_session(
            s, account, now=now, policy=deps.policy(request), second_factor=done,
            remote=remote, method="oidc+mfa" if by_provider else "oidc")
        if not done:
            to = deps.SECOND_FACTOR + (f"?terug={quote(terug, safe='')}" if terug else "")
        elif accounts.must_enrol(account):
            to = deps.ENROL
        else:
            to = safe_next(terug)
    response = RedirectResponse(to, status_code=303)
    deps.set_session_cookie(request, response, token)
    _clear_attempt(request, response)
    return response


# --- systems: the provider's access tokens on the API ----------------------------------------


def account_of_bearer(request: Request, session: Session, token: str) -> orm.Account | None:
    """The account a system acts as with this access token of the provider (client
    credentials), or None: no OIDC configured, not a JWT, a signature or claim that does not
    hold, an ID token, Deelwijs's own client, a client no account is linked to, or a disabled
    account."""
    settings = request.app.state.settings
    if not configured(settings) or token.count(".") != 2 or len(token) > TOKEN_MAX:
        return None
    prov = provider(settings.oidc_issuer)
    try:
        issuer = prov.metadata()["issuer"]
        claims = prov.decode(token, iss={"essential": True, "value": issuer},
                             aud={"essential": True, "value": settings.oidc_api_audience
                                  or settings.oidc_client_id},
                             exp={"essential": True})
    except (_Refusal, JoseError, ValueError, TypeError) as exc:
        log.info("OIDC: access token geweigerd: %s", getattr(exc, "reason", exc))
        return None
    client = claims.get("client_id") or claims.get("azp")
    if ("nonce" in claims or not isinstance(client, str) or not client
            or client == settings.oidc_client_id):
        return None  # an ID token, or a person's token for Deelwijs itself: no system's
    subject = accounts.oidc_client_subject(issuer, client)
    account = accounts.by_oidc_subject(session, subject)
    if account is None:
        log.warning("OIDC: client %r is aan geen account gekoppeld (%s)", client, subject)
        return None
    if account.disabled_at is not None:
        return None
    return account
