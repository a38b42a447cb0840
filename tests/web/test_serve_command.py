"""`deelwijs serve` and `deelwijs start` as a person runs them: a real uvicorn in a subprocess
on a free port. The contract's checker passes against the running API."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from contextlib import closing
from pathlib import Path

import pytest
from tests.fixtures.cli import in_ci, run_script

from .conftest import (
    ROOT,
    deelwijs_script,
    free_port,
    serve_env,
    stop,
    wait_until_up,
)

TOOL = ROOT.parent / "shared" / "tools" / "check-decisions"


def _get(url: str) -> tuple[int, dict, bytes]:
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.status, dict(r.headers), r.read()


def test_serve_answers_pages_and_the_api(server):
    status, headers, body = _get(f"{server}/")
    assert status == 200 and b"Mag ik dit delen?" in body
    assert headers["x-frame-options"] == "DENY"
    assert "server" not in {k.lower() for k in headers}  # no version banner
    req = urllib.request.Request(f"{server}/api/v1/decisions", method="POST",
                                 data=json.dumps({"kind": "consent_required",
                                                  "subject": {"age": 16}}).encode(),
                                 headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        assert json.loads(r.read())["required"] == ["youth"]


def test_check_decisions_passes_against_the_running_api(server):
    if not TOOL.is_file():
        if in_ci():
            pytest.fail(f"{TOOL} ontbreekt; in CI moet die map er zijn")
        pytest.skip(f"{TOOL} ontbreekt (de voorbeelden staan naast het project)")
    run = subprocess.run([sys.executable, str(TOOL), "--url", f"{server}/api/v1/decisions"],
                         cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    expected = len(json.loads((ROOT.parent / "shared" / "spec" / "examples" /
                               "decisions.json").read_text(encoding="utf-8")))
    assert run.stdout.strip().splitlines()[-1] == f"{expected} passed, 0 failed", run.stdout
    assert "one by one" not in run.stderr  # the batch call worked


def test_a_port_in_use_is_refused_in_one_dutch_line(server, tmp_path):
    port = server.rsplit(":", 1)[1]
    run = subprocess.run([str(deelwijs_script()), "serve", "--port", port],
                         env=serve_env(tmp_path / "var"), capture_output=True, text=True,
                         timeout=60, check=False)
    assert run.returncode == 2
    assert run.stderr.strip() == (f"poort {port} op 127.0.0.1 is al in gebruik; kies een "
                                  "andere met --port")
    assert run.stdout == ""


def test_serve_with_several_workers(tmp_path):
    port = free_port()
    log = tmp_path / "serve.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([str(deelwijs_script()), "serve", "--port", str(port),
                                 "--workers", "2"], env=serve_env(tmp_path / "var"),
                                stdout=out, stderr=out, text=True)
    try:
        wait_until_up(f"http://127.0.0.1:{port}/api/v1/openapi.json", proc, log)
        for _ in range(20):
            status, _, body = _get(f"http://127.0.0.1:{port}/")
            assert status == 200 and b"Deelwijs" in body
        children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children")
        if children.exists():  # Linux: the supervisor runs two worker processes
            assert len(children.read_text().split()) >= 2
    finally:
        stop(proc)
    assert f"Deelwijs draait op http://127.0.0.1:{port}" in log.read_text()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Visitor:
    """A browser over plain HTTP, as far as these tests need one: cookies kept (whatever
    their flags), redirects not followed."""

    def __init__(self, base: str, headers: dict[str, str] | None = None):
        self.base, self.headers = base, headers or {}
        self.cookies: dict[str, str] = {}
        self.set_cookie: list[str] = []
        self._open = urllib.request.build_opener(_NoRedirect).open

    def go(self, path: str, form: dict | None = None) -> tuple[int, dict, str]:
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        headers = {**self.headers, "cookie": "; ".join(f"{k}={v}"
                                                       for k, v in self.cookies.items())}
        request = urllib.request.Request(self.base + path, data=data, headers=headers)
        try:
            response = self._open(request, timeout=30)
        except urllib.error.HTTPError as exc:  # a redirect or an error page
            response = exc
        for line in response.headers.get_all("set-cookie") or []:
            self.set_cookie.append(line)
            name, _, rest = line.partition("=")
            self.cookies[name] = rest.split(";")[0]
        return response.status, dict(response.headers), response.read().decode()

    def log_in(self, username: str, password: str) -> tuple[int, dict, str]:
        _, _, page = self.go("/inloggen")
        return self.go("/inloggen", {"csrf": CSRF.search(page).group(1),
                                     "username": username, "password": password})


CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def test_start_migrates_fills_the_demo_region_once_and_serves_the_app(tmp_path):
    """What `python3 dev.py start` runs: on a fresh DEELWIJS_VAR the embedded database is made
    and filled with the demo region and its personas, then the web app is served and its
    address, the personas with their passwords and the API's documentation are printed. A
    newcomer logs in over plain http://127.0.0.1 as a persona, and as the FG with the code of
    `deelwijs demo code fg`, run beside the running app."""
    port = free_port()
    var = tmp_path / "var"
    log = tmp_path / "start.log"
    base = f"http://127.0.0.1:{port}"
    with open(log, "w") as out:
        proc = subprocess.Popen([str(deelwijs_script()), "start", "--port", str(port)],
                                env=serve_env(var), stdout=out, stderr=subprocess.DEVNULL,
                                text=True, cwd=tmp_path)
    try:
        wait_until_up(f"{base}/", proc, log, timeout=300)
        ib = Visitor(base)
        status, headers, _ = ib.log_in("ib", "demo-wachtwoord-ib")
        assert (status, headers["location"]) == (303, "/start")
        # on the loopback over plain http the session cookie is not Secure (every browser
        # keeps it there), still HttpOnly and SameSite
        session = next(c for c in ib.set_cookie if c.startswith("deelwijs="))
        assert "HttpOnly" in session and "SameSite=lax" in session
        assert "Secure" not in session
        assert "Welkom," in ib.go("/start")[2]
        fg = Visitor(base)
        status, headers, _ = fg.log_in("fg", "demo-wachtwoord-fg")
        assert (status, headers["location"]) == (303, "/inloggen/tweede-factor")
        code = run_script(deelwijs_script(), "demo", "code", "fg", env=serve_env(var),
                          cwd=tmp_path)
        assert code.returncode == 0 and re.fullmatch(r"[0-9]{6}\n", code.stdout)
        _, _, form = fg.go("/inloggen/tweede-factor")
        status, headers, _ = fg.go("/inloggen/tweede-factor", {
            "csrf": CSRF.search(form).group(1), "code": code.stdout.strip()})
        assert (status, headers["location"]) == (303, "/start")
        assert "F. de Voorbeeld" in fg.go("/start")[2]
        status, _, _ = _get(f"{base}/api/v1/docs")
        assert status == 200
    finally:
        stop(proc)
    printed = log.read_text()
    assert "Demoregio: aangemaakt" in printed
    assert f"Demo-accounts op {base}/inloggen (alleen synthetische demogegevens" in printed
    for username in ("ib", "leerplicht", "wijkteam", "fg", "beheer", "ouder", "jongere"):
        assert re.search(rf"^  {username} +demo-wachtwoord-{username} +\S", printed, re.M)
    assert "; code voor de tweede stap: python3 dev.py code fg" in printed
    assert "; code voor de tweede stap: python3 dev.py code beheer" in printed
    assert f"API: {base}/api/v1/docs (OpenAPI: {base}/api/v1/openapi.json)" in printed
    lines = printed.splitlines()  # the address last, below the personas, once it answers
    assert lines.index(f"Deelwijs draait op {base} (stoppen: Ctrl+C)") > lines.index(
        f"API: {base}/api/v1/docs (OpenAPI: {base}/api/v1/openapi.json)")
    assert (var / "deelwijs.sqlite3").is_file()


def test_demo_code_refuses_an_account_that_is_no_demo_account(tmp_path):
    var = tmp_path / "var"
    proc = run_script(deelwijs_script(), "demo", "code", "fg", env=serve_env(var),
                      cwd=tmp_path)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.strip() == ("username: 'fg' is hier geen demo-account met de openbare "
                                   "democode (deelwijs demo maakt de demo-accounts)")


def _remotes(var: Path) -> list[str | None]:
    with closing(sqlite3.connect(var / "deelwijs.sqlite3")) as db:
        return [r[0] for r in db.execute("SELECT remote FROM account_event ORDER BY id")]


@pytest.mark.parametrize(("proxy", "seen"), [
    # the default: a proxy on this machine; its X-Forwarded-For's rightmost address that is
    # not the proxy counts (what the visitor put before it does not)
    (None, "203.0.113.7"),
    ("10.1.2.3", "127.0.0.1"),  # another proxy: the headers of 127.0.0.1 are not believed
])
def test_the_visitors_address_behind_a_proxy_is_the_one_the_proxy_gives(tmp_path, proxy,
                                                                        seen):
    port = free_port()
    var = tmp_path / "var"
    log = tmp_path / "serve.log"
    args = ["serve", "--port", str(port)] + (["--proxy", proxy] if proxy else [])
    with open(log, "w") as out:
        proc = subprocess.Popen([str(deelwijs_script()), *args], env=serve_env(var),
                                stdout=out, stderr=out, text=True, cwd=tmp_path)
    try:
        wait_until_up(f"http://127.0.0.1:{port}/", proc, log)
        visitor = Visitor(f"http://127.0.0.1:{port}", headers={
            "x-forwarded-for": "198.51.100.1, 203.0.113.7", "x-forwarded-proto": "https"})
        status, _, page = visitor.log_in("niemand", "geen-wachtwoord-123")
        assert status == 401 and "onjuiste gebruikersnaam of wachtwoord" in page
    finally:
        stop(proc)
    assert _remotes(var) == [seen]


@pytest.mark.parametrize(("value", "says"), [
    ("proxy.example", "--proxy: 'proxy.example' is geen IP-adres of netwerk (bijvoorbeeld "
     "127.0.0.1 of 10.0.0.0/24)"),
    (" , ", "--proxy: noem een of meer adressen of netwerken, gescheiden door komma's "
     "(bijvoorbeeld 127.0.0.1 of 10.0.0.0/24), of *"),
])
def test_serve_refuses_a_proxy_that_is_no_address(tmp_path, value, says):
    proc = run_script(deelwijs_script(), "serve", "--port", str(free_port()), "--proxy",
                      value, env=serve_env(tmp_path / "var"), cwd=tmp_path)
    assert (proc.returncode, proc.stdout, proc.stderr.strip()) == (2, "", says)


def test_start_refuses_a_port_in_use_before_it_writes_anything(server, tmp_path):
    var = tmp_path / "var"
    run = subprocess.run([str(deelwijs_script()), "start", "--port",
                          server.rsplit(":", 1)[1]], env=serve_env(var), capture_output=True,
                         text=True, timeout=60, check=False, cwd=tmp_path)
    assert run.returncode == 2 and "al in gebruik" in run.stderr
    assert not var.exists()  # no database made, no demo region built
