"""The JSON API under /api/v1: `router` gathers the routes of each module.

- decisions.py: POST /decisions (no account, nothing stored), /me, /openapi.json, /docs;
- one module per resource (organisations, youths, consent, cases, meetings, disclosures,
  inzage, log, register, rulesets): thin adapters over the service use cases (common.py).

The OpenAPI document is hand-written (web/openapi.py and web/openapi_resources.py).
"""

from __future__ import annotations

from fastapi import APIRouter

from deelwijs.web.api import (
    cases,
    consent,
    decisions,
    disclosures,
    inzage,
    log,
    meetings,
    organisations,
    register,
    rulesets,
    youths,
)
from deelwijs.web.api.decisions import PROBLEMS, field_rows, parse_body

router = APIRouter(prefix="/api/v1")
for _module in (decisions, organisations, youths, consent, cases, meetings, disclosures,
                inzage, log, register, rulesets):
    router.include_router(_module.router)

__all__ = ["PROBLEMS", "field_rows", "parse_body", "router"]
