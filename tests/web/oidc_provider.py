"""A small OpenID Connect provider for the tests (web/oidc.py): an http.server in a thread on a
free port of 127.0.0.1, with

- discovery (`/.well-known/openid-configuration`) and its keys (`/jwks`: one RS256 key,
  made when the provider starts);
- `/authorize`: approves the configured user at once (no login page) and sends the browser
  back with a code; it checks the client, the redirect address and that PKCE (S256) is used;
- `/token`: `authorization_code` (the client's secret, the redirect address and the PKCE
  verifier checked; a code works once), giving an ID token and an access token; and
  `client_credentials` for the systems in `clients`, giving a JWT access token.

A test changes what comes next through the attributes: `user` (the claims of the person who
logs in), `id_claims` (merged into the next ID tokens: a wrong nonce, an `exp` in the past,
`amr`), `sign_key` (another key to sign with: a forged token), `deny` (the user refuses).
`mint` makes a token directly. `reset()` puts everything back.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

from joserfc import jwt
from joserfc.jwk import RSAKey

KID = "sleutel-1"
CLIENT_ID = "deelwijs"
CLIENT_SECRET = "geheim-van-deelwijs-in-de-test"
SYSTEMS = {"schoolsysteem": "geheim-van-het-schoolsysteem",
           "ander-systeem": "geheim-van-een-ander-systeem"}
API_AUDIENCE = "deelwijs"
USER = {"sub": "medewerker-4711", "name": "Alice Intern", "email": "alice@example.test"}


def new_key(kid: str = KID) -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig", "alg": "RS256"})


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(
        b"=").decode()


class LocalProvider:
    def __init__(self) -> None:
        self.key = new_key()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.issuer = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.clients = {CLIENT_ID: CLIENT_SECRET, **SYSTEMS}
        self.codes: dict[str, dict] = {}
        self.seen: list[tuple[str, dict]] = []  # (path, parameters) of every request
        self.reset()
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def reset(self) -> None:
        self.user = dict(USER)
        self.id_claims: dict = {}
        self.sign_key: RSAKey | None = None
        self.deny = False
        self.codes.clear()
        self.seen.clear()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # --- tokens ------------------------------------------------------------------------------

    def mint(self, claims: dict, key: RSAKey | None = None, kid: str = KID) -> str:
        return jwt.encode({"alg": "RS256", "kid": kid}, claims, key or self.sign_key or self.key)

    def id_token(self, client_id: str, nonce: str | None) -> str:
        now = int(time.time())
        claims = {"iss": self.issuer, "aud": client_id, "azp": client_id, "iat": now,
                  "exp": now + 300, "auth_time": now, "amr": ["pwd"], **self.user}
        if nonce is not None:
            claims["nonce"] = nonce
        claims.update(self.id_claims)
        return self.mint({k: v for k, v in claims.items() if v is not None})

    def access_token(self, client_id: str, sub: str, **extra) -> str:
        now = int(time.time())
        claims = {"iss": self.issuer, "sub": sub, "aud": API_AUDIENCE, "client_id": client_id,
                  "azp": client_id, "iat": now, "exp": now + 300,
                  "jti": secrets.token_hex(8), "scope": "openid", **extra}
        return self.mint({k: v for k, v in claims.items() if v is not None})

    def discovery(self) -> dict:
        return {"issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "jwks_uri": f"{self.issuer}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
                "grant_types_supported": ["authorization_code", "client_credentials"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic",
                                                          "client_secret_post"],
                "scopes_supported": ["openid", "profile", "email"]}

    def jwks(self) -> dict:
        return {"keys": [self.key.as_dict(private=False)]}

    # --- the endpoints -----------------------------------------------------------------------

    def authorize(self, q: dict) -> tuple[int, dict, bytes]:
        """(status, headers, body): a redirect back with a code, or 400."""
        redirect = q.get("redirect_uri", "")
        if (q.get("client_id") != CLIENT_ID or q.get("response_type") != "code"
                or not redirect.endswith("/inloggen/oidc/terug")
                or q.get("code_challenge_method") != "S256" or not q.get("code_challenge")
                or "openid" not in q.get("scope", "").split()):
            return 400, {}, b"invalid_request"
        if self.deny:
            back = {"error": "access_denied", "state": q.get("state", "")}
        else:
            code = secrets.token_urlsafe(16)
            self.codes[code] = {"client_id": q["client_id"], "redirect_uri": redirect,
                                "challenge": q["code_challenge"], "nonce": q.get("nonce")}
            back = {"code": code, "state": q.get("state", "")}
        return 302, {"location": f"{redirect}?{urlencode(back)}"}, b""

    def token(self, form: dict, authorization: str | None) -> tuple[int, dict]:
        client_id, secret = form.get("client_id"), form.get("client_secret")
        if authorization and authorization.lower().startswith("basic "):
            raw = base64.b64decode(authorization[6:]).decode()
            client_id, _, secret = raw.partition(":")
        if client_id not in self.clients or self.clients[client_id] != secret:
            return 401, {"error": "invalid_client"}
        grant = form.get("grant_type")
        if grant == "client_credentials":
            if client_id == CLIENT_ID:
                return 400, {"error": "unauthorized_client"}
            return 200, {"access_token": self.access_token(client_id, client_id),
                         "token_type": "Bearer", "expires_in": 300}
        if grant != "authorization_code":
            return 400, {"error": "unsupported_grant_type"}
        found = self.codes.pop(form.get("code", ""), None)  # a code works once
        if (found is None or found["client_id"] != client_id
                or found["redirect_uri"] != form.get("redirect_uri")
                or s256(form.get("code_verifier", "")) != found["challenge"]):
            return 400, {"error": "invalid_grant"}
        return 200, {"access_token": self.access_token(client_id, self.user["sub"]),
                     "token_type": "Bearer", "expires_in": 300,
                     "id_token": self.id_token(client_id, found["nonce"])}


def _handler(provider: LocalProvider):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # quiet
            pass

        def _send(self, status: int, body: bytes, headers: dict | None = None,
                  kind: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("content-type", kind)
            self.send_header("content-length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def _json(self, status: int, data: dict) -> None:
            self._send(status, json.dumps(data).encode())

        def do_GET(self) -> None:  # http.server's names
            parts = urlsplit(self.path)
            q = {k: v[0] for k, v in parse_qs(parts.query).items()}
            provider.seen.append((parts.path, q))
            if parts.path == "/.well-known/openid-configuration":
                self._json(200, provider.discovery())
            elif parts.path == "/jwks":
                self._json(200, provider.jwks())
            elif parts.path == "/authorize":
                status, headers, body = provider.authorize(q)
                self._send(status, body, headers, "text/plain")
            else:
                self._json(404, {"error": "not_found"})

        def do_POST(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("content-length") or 0)
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            provider.seen.append((parts.path, form))
            if parts.path != "/token":
                self._json(404, {"error": "not_found"})
                return
            status, data = provider.token(form, self.headers.get("authorization"))
            self._json(status, data)

    return Handler
