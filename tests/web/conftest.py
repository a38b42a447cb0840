"""Fixtures for the web tests.

`client` is the app in process (FastAPI's TestClient). `server` is `deelwijs serve` in a
subprocess on a free port, with its own empty DEELWIJS_VAR (the app needs no database today).
`deelwijs_cli` runs the venv's `deelwijs` command, for comparing the API with the CLI.
"""

from __future__ import annotations

import re
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tests.fixtures.cli import clean_env, find_script

from deelwijs.settings import Settings
from deelwijs.web import create_app

ROOT = Path(__file__).resolve().parents[2]
SECURITY_HEADERS = {
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
}
TRACEPARENT = re.compile(r"^00-[0-9a-f]{32}-[0-9a-f]{16}-01$")


def deelwijs_script() -> Path:
    """The venv's `deelwijs` (tests/fixtures/cli.py), outside a fixture: the project's .venv,
    else the one beside this Python."""
    return find_script()


def assert_security_headers(response) -> None:
    headers = response.headers
    for name, value in SECURITY_HEADERS.items():
        assert headers.get(name) == value, (name, headers.get(name))
    csp = headers["content-security-policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert headers["strict-transport-security"].startswith("max-age=")
    assert TRACEPARENT.match(headers["traceparent"]), headers["traceparent"]


@pytest.fixture(scope="session")
def app():
    return create_app(Settings(database_url="sqlite://", master_key=None))


@pytest.fixture(scope="session")
def client(app) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url: str, proc: subprocess.Popen, log: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"deelwijs stopte met exit {proc.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    proc.kill()
    pytest.fail(f"deelwijs serve antwoordde niet binnen {timeout:.0f} s op {url}")


def serve_env(var: Path) -> dict[str, str]:
    return clean_env(DEELWIJS_VAR=str(var), DEELWIJS_WITNESS_FILE="uit")


@pytest.fixture(scope="session")
def server(tmp_path_factory) -> Iterator[str]:
    """`deelwijs serve` on a free port; its base URL."""
    port = free_port()
    var = tmp_path_factory.mktemp("serve") / "var"
    log = var.parent / "serve.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([str(deelwijs_script()), "serve", "--port", str(port)],
                                env=serve_env(var), cwd=var.parent, stdout=out, stderr=out,
                                text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{base}/", proc, log)
        yield base
    finally:
        stop(proc)


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
