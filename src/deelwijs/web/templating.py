"""Jinja2 templates, rendered on the server. One environment for every page."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

import jinja2
from starlette.responses import HTMLResponse

from deelwijs import __version__
from deelwijs.domain import labels

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"


@cache
def static_url(path: str) -> str:
    """/static/<path>?v=<content hash>: a changed file gets a new URL past every cache."""
    digest = hashlib.sha256((STATIC / path).read_bytes()).hexdigest()[:10]
    return f"/static/{path}?v={digest}"


env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=jinja2.select_autoescape(("html",)),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
# `labels`: the Dutch words for the codes (domain/labels.py), e.g. labels.HAT_CHOICE[code]
env.globals.update(static=static_url, version=__version__, labels=labels)


def render(name: str, status_code: int = 200, headers: dict | None = None,
           **context) -> HTMLResponse:
    return HTMLResponse(env.get_template(name).render(**context), status_code=status_code,
                        headers=headers)
