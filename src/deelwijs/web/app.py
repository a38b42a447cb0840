"""The app factory and the frame every response passes through.

`create_app(settings)` returns a FastAPI app. Every response, error pages and the 500 page
included, leaves through `Frame`, the outermost layer: it continues the caller's W3C trace
(the `traceparent` request header, deelwijs.tracing) or starts one, returns the trace with
this request's span as `traceparent`, and adds the security headers. It is a plain ASGI
wrapper (no BaseHTTPMiddleware): the decision API must stay fast.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

from deelwijs import tracing
from deelwijs.settings import Settings, load

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"

# No inline scripts or styles anywhere: every script and style sheet is a file of our own.
# img-src allows data: for the small SVG icons inside the Utrecht component CSS.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'")
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CSP.encode()),
    (b"strict-transport-security", b"max-age=63072000; includeSubDomains"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-content-type-options", b"nosniff"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), interest-cohort=()"),
)
_OWN = frozenset(name for name, _ in SECURITY_HEADERS)


class Frame:
    """Trace context in, trace context and security headers out, for every HTTP response."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = None
        for name, value in scope["headers"]:
            if name == b"traceparent":
                incoming = value.decode("latin-1")
                break
        with tracing.trace(incoming) as current:
            outgoing = current.traceparent(secrets.token_hex(8)).encode()

            async def send_framed(message) -> None:
                if message["type"] == "http.response.start":
                    headers = list(message.get("headers", ()))
                    present = {name.lower() for name, _ in headers}
                    headers.extend(h for h in SECURITY_HEADERS if h[0] not in present)
                    headers.append((b"traceparent", outgoing))
                    message["headers"] = headers
                await send(message)

            await self.app(scope, receive, send_framed)


class DeelwijsApp(FastAPI):
    """FastAPI with `Frame` outside Starlette's own error layer, so that a 500 page gets the
    same headers as any other response."""

    def build_middleware_stack(self):
        return Frame(super().build_middleware_stack())


class Static(StaticFiles):
    """Static files, cacheable for a day (the file names carry no version)."""

    def file_response(self, *args, **kwargs):
        response = super().file_response(*args, **kwargs)
        response.headers["cache-control"] = "public, max-age=86400"
        return response


def create_app(settings: Settings | None = None, services=None) -> FastAPI:
    """The Deelwijs web app. `settings` defaults to the environment's (deelwijs.settings);
    `services` is an App already open (tests), else it is opened on first use
    (web.deps.services)."""
    from deelwijs.web import api, auth, errors, oidc, pages

    app = DeelwijsApp(
        title="Deelwijs",
        # the API's OpenAPI document and its docs page are our own (api.py): written from the
        # decision contract, served without a CDN
        openapi_url=None, docs_url=None, redoc_url=None,
    )
    app.state.settings = settings if settings is not None else (
        services.settings if services is not None else load())
    if services is not None:
        app.state.deelwijs = services
    app.mount("/static", Static(directory=STATIC), name="static")
    app.include_router(api.router)
    app.include_router(auth.router)
    app.include_router(oidc.router)
    app.include_router(pages.router)
    errors.install(app)
    return app
