"""Rulesets: what a ruleset changes against another (`deelwijs rules diff --json`), the check
of a regional ruleset's text (`deelwijs rules check`), and the administrator activates one
for a region (`deelwijs region ruleset activate`). The API reads no files: a ruleset is a
built-in id, or for activation a stored version's digest or id."""

from __future__ import annotations

import datetime as dt
import re

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from deelwijs.rules import loader, show
from deelwijs.services.covenant import registry
from deelwijs.web import deps
from deelwijs.web.api.common import F, answer, body, csrf, query_text, refuse, region
from deelwijs.web.deps import ApiLogin

router = APIRouter()
_STORED = re.compile(r"^(sha256:[0-9a-f]{64}|[0-9]{1,18})$")

CHECK = {"text": F(str, True, loader.MAX_BYTES)}
ACTIVATE = {"region": F(str, True, 40), "ruleset": F(str, True, 80), "on": F(dt.date)}


def _builtin(name: str, field: str):
    if loader.builtin_path(name) is None:
        raise refuse((field, "ruleset_not_found", f"onbekende ruleset '{name}' (ingebouwd: "
                      f"{', '.join(loader.builtin_ids())})"))
    return loader.resolve(name)


@router.get("/rulesets/diff")
def diff(request: Request, who: ApiLogin) -> Response:
    ra = _builtin(query_text(request, "from", "model-convenant"), "from")
    rb = _builtin(query_text(request, "to"), "to")
    changes = show.diff(ra, rb)
    about = {side: {"title": rs.title, "extends": rs.extends} for side, rs in (("from", ra),
                                                                             ("to", rb))}
    return answer({"from": ra.ref(), "to": rb.ref(), "about": about,
                   "summary": show.summary(changes), "changes": changes})


@router.post("/rulesets/check")
async def check(request: Request, who: ApiLogin) -> Response:
    csrf(request, who)
    b = await body(request, CHECK)
    try:
        rs = loader.load_text(b["text"], "ruleset.yaml")
    except loader.RulesetError as exc:
        return answer({"ok": False, "ruleset": None,
                       "problems": [p.as_dict() for p in exc.problems]})
    return answer({"ok": True, "ruleset": rs.ref(), "problems": []})


@router.post("/rulesets/activate")
async def activate(request: Request, who: ApiLogin) -> Response:
    csrf(request, who)
    b = await body(request, ACTIVATE)
    name = b["ruleset"].strip()
    if loader.builtin_path(name) is None and not _STORED.match(name):
        raise refuse(("ruleset", "ruleset_not_found", "noem een ingebouwde ruleset ("
                      f"{', '.join(loader.builtin_ids())}) of een opgeslagen versie "
                      "(sha256:… of id); de API leest geen bestanden"))

    def run():
        with deps.work(request, who) as u:
            r = region(u, b["region"])
            registry.activate_ruleset(u, r, name, b.get("on") or u.today)
            return registry.activation_view(u.session, registry.latest_activation(u.session,
                                                                                   r))

    return answer(await run_in_threadpool(run), 201)
