"""The pages and the frame around every response: Dutch pages, error pages without a stack
trace, security headers, W3C trace context, and no inline script or style anywhere."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from deelwijs.settings import Settings
from deelwijs.web import create_app

from .conftest import TRACEPARENT, assert_security_headers

PAGES = ["/", "/mag-ik-dit-delen", "/api/v1/docs"]
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
INLINE_STYLE = re.compile(r"<style\b|\sstyle\s*=|\son[a-z]+\s*=", re.I)


def assert_clean_html(html: str) -> None:
    """What the Content Security Policy would block: inline scripts, style elements and
    attributes, event-handler attributes; and every page is Dutch."""
    assert '<html lang="nl"' in html
    assert not INLINE_SCRIPT.search(html), INLINE_SCRIPT.search(html).group(0)
    assert not INLINE_STYLE.search(html), INLINE_STYLE.search(html).group(0)
    assert "cdn" not in html.lower() and "https://" not in html.split("</head>")[0]


@pytest.mark.parametrize("path", PAGES)
def test_every_page_is_dutch_framed_and_free_of_inline_code(client, path):
    r = client.get(path)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert_security_headers(r)
    assert_clean_html(r.text)


def test_the_start_page_says_what_a_visitor_can_do_without_an_account(client):
    html = client.get("/").text
    assert "Wat kunt u hier zonder account?" in html
    assert 'href="/mag-ik-dit-delen"' in html and 'href="/api/v1/docs"' in html
    # a visitor is offered the login, and nobody is logged in
    assert 'href="/inloggen"' in html and "Uitloggen" not in html
    for rid in ("model-convenant", "voorbeeldregio"):
        assert rid in html


def test_static_files_are_served_with_their_licences(client):
    for path in ("vendor/utrecht-component-library-css/index.css",
                 "vendor/voorbeeld-design-tokens/theme.css", "vendor/htmx.org/htmx.min.js",
                 "app.css", "app.js", "vendor/utrecht-component-library-css/LICENSE.md",
                 "vendor/htmx.org/LICENSE", "vendor/voorbeeld-design-tokens/LICENSE.md"):
        r = client.get(f"/static/{path}")
        assert r.status_code == 200, path
        assert_security_headers(r)
    html = client.get("/").text
    for asset in re.findall(r'(?:href|src)="(/static/[^"]+)"', html):
        assert client.get(asset).status_code == 200, asset


def test_an_unknown_page_is_a_dutch_404_page(client):
    r = client.get("/bestaat-niet")
    assert r.status_code == 404
    assert "Pagina niet gevonden" in r.text and 'href="/"' in r.text
    assert_security_headers(r)
    assert_clean_html(r.text)


def test_a_wrong_method_is_a_dutch_405_page_naming_what_is_allowed(client):
    r = client.put("/mag-ik-dit-delen")
    assert r.status_code == 405
    assert "Dit kan hier niet" in r.text
    assert set(r.headers["allow"].replace(" ", "").split(",")) == {"GET", "POST"}
    assert_security_headers(r)


def test_under_the_api_errors_are_problem_json(client):
    r = client.get("/api/v1/bestaat-niet")
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["status"] == 404 and body["code"] == "not_found" and body["title"]
    assert body["type"].startswith("/api/v1/docs#")
    assert_security_headers(r)
    r = client.get("/api/v1/decisions")
    assert r.status_code == 405 and r.headers["allow"] == "POST"
    assert r.json()["code"] == "method_not_allowed"


def _broken_app():
    app = create_app(Settings(database_url="sqlite://", master_key=None))

    async def boom():
        raise RuntimeError("geheim detail uit de stack")

    app.add_api_route("/kapot", boom)
    app.add_api_route("/api/v1/kapot", boom)
    return app


def test_a_bug_is_a_plain_dutch_500_page_without_a_stack_trace_and_with_the_headers():
    with TestClient(_broken_app(), raise_server_exceptions=False) as c:
        page = c.get("/kapot")
        api = c.get("/api/v1/kapot")
    assert page.status_code == 500
    assert "Er ging iets mis" in page.text
    assert "Traceback" not in page.text and "geheim detail" not in page.text
    assert "RuntimeError" not in page.text
    assert_security_headers(page)
    assert api.status_code == 500 and api.headers["content-type"] == "application/problem+json"
    assert api.json()["code"] == "internal_error"
    assert "geheim detail" not in api.text and "Traceback" not in api.text
    assert_security_headers(api)


def test_the_callers_trace_is_continued_and_returned_with_a_span_of_this_request(client):
    caller = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    first = client.get("/", headers={"traceparent": caller}).headers["traceparent"]
    second = client.get("/", headers={"traceparent": caller}).headers["traceparent"]
    assert first.split("-")[1] == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert first.split("-")[2] != "00f067aa0ba902b7"  # our own span
    assert first != second  # a span per request
    # no (or an invalid) traceparent starts a new trace
    fresh = client.get("/", headers={"traceparent": "00-zz-00-01"}).headers["traceparent"]
    assert TRACEPARENT.match(fresh) and fresh.split("-")[1] != first.split("-")[1]
    other = client.get("/").headers["traceparent"]
    assert other.split("-")[1] not in (first.split("-")[1], fresh.split("-")[1])
