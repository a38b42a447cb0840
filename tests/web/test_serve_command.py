"""`deelwijs serve` and `deelwijs start` as a person runs them: a real uvicorn in a subprocess
on a free port. The contract's checker passes against the running API."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from tests.fixtures.cli import in_ci

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


def test_start_migrates_fills_the_demo_region_once_and_serves_the_app(tmp_path):
    """What `python3 dev.py start` runs: on a fresh DEELWIJS_VAR the embedded database is made
    and filled with the demo region, then the web app is served and its address printed."""
    port = free_port()
    var = tmp_path / "var"
    log = tmp_path / "start.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([str(deelwijs_script()), "start", "--port", str(port)],
                                env=serve_env(var), stdout=out, stderr=subprocess.DEVNULL,
                                text=True, cwd=tmp_path)
    try:
        wait_until_up(f"http://127.0.0.1:{port}/", proc, log, timeout=300)
    finally:
        stop(proc)
    printed = log.read_text()
    assert "Demoregio: aangemaakt" in printed
    assert f"Deelwijs draait op http://127.0.0.1:{port}" in printed
    assert (var / "deelwijs.sqlite3").is_file()


def test_start_refuses_a_port_in_use_before_it_writes_anything(server, tmp_path):
    var = tmp_path / "var"
    run = subprocess.run([str(deelwijs_script()), "start", "--port",
                          server.rsplit(":", 1)[1]], env=serve_env(var), capture_output=True,
                         text=True, timeout=60, check=False, cwd=tmp_path)
    assert run.returncode == 2 and "al in gebruik" in run.stderr
    assert not var.exists()  # no database made, no demo region built
