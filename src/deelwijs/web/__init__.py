"""The web app and the HTTP API (FastAPI, Jinja2 templates rendered on the server, htmx).

`create_app(settings)` builds the ASGI app; `deelwijs serve` runs it under uvicorn. What it
offers today needs no account and no database: the "Mag ik dit delen?" wizard, the decision
API (`POST /api/v1/decisions`, the same contract as `deelwijs decide`) and its documentation.
"""

from __future__ import annotations

from deelwijs.web.app import create_app

__all__ = ["create_app"]
