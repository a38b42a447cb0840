"""Benchmark: decisions per second over HTTP (POST /api/v1/decisions on `deelwijs serve`).

    .venv/bin/python bench/api.py [--n 20000] [--batch 100] [--clients 32] [--workers 2]
                                  [--cli-singles 50] [--wizard 400] [--seed 1] [--json]

1. Generates N random, valid disclosure requests (bench/engine.py's generator, seeded).
2. In process, the denominators: the same requests through `decide_payload` (the function the
   API and the CLI call) with the answer serialised by orjson, one request at a time and in
   batches; each pass starts from a cold engine memo.
3. `deelwijs decide`: the same N requests as one batch (one process, --file, the full Dutch
   answer on stdout), and the first --cli-singles requests one process each.
4. Over HTTP: starts `deelwijs serve --workers W` on a free port, then a second process (this
   file with --client) sends the N requests with 32 concurrent keep-alive connections: once as
   single requests, once as batches of --batch (a fresh server for each, so both start from a
   cold memo, like the in-process passes). Latency per HTTP call; p50 and p99.
5. The wizard: --wizard answer pages (POST /mag-ik-dit-delen, 4 clients), p50 and p99.
6. Prints a table with the issue's targets beside the figures. Every figure is measured in
   this run; nothing is estimated or carried over. The benchmark asserts nothing about time.

Every HTTP answer is checked for status 200, and the first 200 answers of each run are compared
with the in-process answers to the same requests.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import platform
import random
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BIN = Path(sys.executable).parent
TARGET_BATCHED = 3_000  # decisions/s over HTTP, batches of 100 (issue 13)
TARGET_SINGLE = 1_000  # decisions/s over HTTP, single requests
TARGET_WIZARD_P99_MS = 50
CHECKED = 200  # answers per HTTP run compared with the in-process answers


# --- the client (a second process) --------------------------------------------------------


async def _client_run(host: str, port: int, path: str, bodies: list[bytes], clients: int,
                      keep: int, content_type: bytes) -> dict:
    """Send every body once over `clients` keep-alive connections; latency per call."""
    latencies: list[int] = [0] * len(bodies)
    kept: dict[int, bytes] = {}
    errors: list[str] = []
    next_index = 0
    head = (f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\n").encode() + \
        b"Content-Type: " + content_type + b"\r\nContent-Length: "

    async def worker() -> None:
        nonlocal next_index
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while next_index < len(bodies):
                i = next_index
                next_index += 1
                body = bodies[i]
                started = time.perf_counter_ns()
                writer.write(head + str(len(body)).encode() + b"\r\n\r\n" + body)
                status_and_headers = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in status_and_headers.split(b"\r\n"):
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                payload = await reader.readexactly(length)
                latencies[i] = time.perf_counter_ns() - started
                status = status_and_headers[9:12]
                if status != b"200":
                    errors.append(f"{i}: HTTP {status.decode()}: {payload[:200]!r}")
                if i < keep:
                    kept[i] = payload
        finally:
            writer.close()

    started = time.perf_counter_ns()
    await asyncio.gather(*(worker() for _ in range(clients)))
    wall = time.perf_counter_ns() - started
    return {"wall_ns": wall, "latencies_ns": latencies, "errors": errors[:10],
            "error_count": len(errors), "kept": {str(k): v.decode() for k, v in kept.items()}}


def client_main(args) -> int:
    bodies = [line.encode() for line in Path(args.bodies).read_text().splitlines()]
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    ctype = b"application/x-www-form-urlencoded" if args.form else b"application/json"
    result = asyncio.run(_client_run("127.0.0.1", args.port, args.path, bodies, args.clients,
                                     args.keep, ctype))
    Path(args.out).write_text(json.dumps(result))
    return 0


# --- the server ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, workers: int, tmp: Path):
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("DEELWIJS_")}
        env.update(DEELWIJS_VAR=str(tmp / "var"), DEELWIJS_WITNESS_FILE="uit")
        self.log = open(tmp / f"serve-{self.port}.log", "w")  # noqa: SIM115
        self.proc = subprocess.Popen([str(BIN / "deelwijs"), "serve", "--port", str(self.port),
                                      "--workers", str(workers)], env=env, stdout=self.log,
                                     stderr=self.log)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"deelwijs serve stopte: zie {self.log.name}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/api/v1/openapi.json",
                                            timeout=2):
                    break
            except OSError:
                time.sleep(0.2)
        # every worker has imported and loaded the ruleset before timing starts
        body = json.dumps({"kind": "consent_required", "subject": {"age": 12}}).encode()
        for _ in range(workers * 8):
            req = urllib.request.Request(f"http://127.0.0.1:{self.port}/api/v1/decisions",
                                         data=body, method="POST")
            urllib.request.urlopen(req, timeout=10).read()

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def http_run(workers: int, tmp: Path, bodies: list[bytes], clients: int, path: str,
             form: bool = False) -> dict:
    server = Server(workers, tmp)
    try:
        src = tmp / "bodies.txt"
        src.write_bytes(b"\n".join(bodies))
        out = tmp / "client.json"
        cmd = [sys.executable, __file__, "--client", "--port", str(server.port),
               "--bodies", str(src), "--out", str(out), "--clients", str(clients),
               "--path", path, "--keep", str(CHECKED)]
        if form:
            cmd.append("--form")
        subprocess.run(cmd, check=True)
        return json.loads(out.read_text())
    finally:
        server.stop()


# --- figures -------------------------------------------------------------------------------


class Row:
    def __init__(self, label: str, decisions: int, wall_ns: int,
                 latencies_ns: list[int] | None = None, target: str = ""):
        self.label, self.decisions, self.wall_ns = label, decisions, wall_ns
        self.rate = decisions / (wall_ns / 1e9) if wall_ns else 0.0
        lat = sorted(latencies_ns or [])
        self.p50 = lat[len(lat) // 2] / 1e6 if lat else None
        self.p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] / 1e6 if lat else None
        self.target = target

    def as_dict(self) -> dict:
        return {"label": self.label, "decisions": self.decisions, "seconds": self.wall_ns / 1e9,
                "per_second": round(self.rate, 1), "p50_ms": self.p50, "p99_ms": self.p99,
                "target": self.target}


def _ms(v: float | None) -> str:
    return "" if v is None else f"{v:.2f}"


def in_process(objs: list[dict], rs, batch: int) -> tuple[Row, Row, list]:
    import orjson

    from deelwijs.services.decisions import decide_payload

    gc.collect()
    gc.freeze()
    rs.memo.clear()
    answers, lat = [], []
    started = time.perf_counter_ns()
    for obj in objs:
        t = time.perf_counter_ns()
        answer = decide_payload(obj, rs)
        orjson.dumps(answer)
        lat.append(time.perf_counter_ns() - t)
        answers.append(answer)
    single = Row("in process, one request at a time (decide_payload + orjson)", len(objs),
                 time.perf_counter_ns() - started, lat)
    gc.collect()
    rs.memo.clear()
    lat = []
    started = time.perf_counter_ns()
    for i in range(0, len(objs), batch):
        t = time.perf_counter_ns()
        orjson.dumps(decide_payload(objs[i:i + batch], rs))
        lat.append(time.perf_counter_ns() - t)
    batched = Row(f"in process, batches of {batch}", len(objs),
                  time.perf_counter_ns() - started, lat)
    gc.unfreeze()
    return single, batched, answers


def cli_runs(objs: list[dict], tmp: Path, singles: int) -> tuple[Row, Row | None]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEELWIJS_")}
    src = tmp / "requests.json"
    src.write_text(json.dumps(objs, ensure_ascii=False))
    started = time.perf_counter_ns()
    run = subprocess.run([str(BIN / "deelwijs"), "decide", "--file", str(src)], env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    wall = time.perf_counter_ns() - started
    if run.returncode:
        raise SystemExit(f"deelwijs decide: exit {run.returncode}: {run.stderr[:300]!r}")
    batch = Row(f"deelwijs decide, one batch of {len(objs)} (one process)", len(objs), wall)
    if not singles:
        return batch, None
    lat = []
    started = time.perf_counter_ns()
    for obj in objs[:singles]:
        t = time.perf_counter_ns()
        subprocess.run([str(BIN / "deelwijs"), "decide"], input=json.dumps(obj).encode(),
                       env=env, stdout=subprocess.DEVNULL, check=True)
        lat.append(time.perf_counter_ns() - t)
    single = Row(f"deelwijs decide, one process per request ({singles})", singles,
                 time.perf_counter_ns() - started, lat)
    return batch, single


def check_answers(result: dict, answers: list, per_call: int, label: str) -> None:
    if result["error_count"]:
        raise SystemExit(f"{label}: {result['error_count']} answers were not 200: "
                         f"{result['errors']}")
    for key, text in result["kept"].items():
        i = int(key)
        got = json.loads(text)
        want = answers[i * per_call:(i + 1) * per_call] if per_call > 1 else answers[i]
        if got != want:
            raise SystemExit(f"{label}: the answer to call {i} differs from in process")


def wizard_bodies(objs: list[dict], n: int) -> list[bytes]:
    """Answer-page form posts for the first n requests that the wizard's form can express."""
    out = []
    for obj in objs:
        if len(out) == n:
            break
        d, r, s = obj["discloser"], obj["recipient"], obj["subject"]
        c, e = obj.get("consent", {}), obj.get("exceptions", {})
        pairs = [("_form", "1"), ("ruleset", "model-convenant"), ("discloser", d["party"]),
                 ("hat", d.get("hat", "")), ("recipient", r["party"]),
                 ("age", str(s["age"])), ("purpose", obj["purpose"]),
                 ("parents", c.get("parents", "none")), ("youth", c.get("youth", "none")),
                 ("task", obj.get("task", "both"))]
        pairs += [("data", cat) for cat in obj["data"]]
        for flag, default in (("written", True), ("prior", True), ("withdrawn", False)):
            if c.get(flag, default):
                pairs.append((flag, "1"))
        for flag in ("vital_interest", "legal_duty", "compatible_purpose",
                     "weighing_documented"):
            if e.get(flag):
                pairs.append((flag, "1"))
        for side, src in (("discloser", d), ("recipient", r)):
            for flag in ("acceded", "mandate"):
                if src.get(flag, True):
                    pairs.append((f"{side}_{flag}", "1"))
        out.append(urllib.parse.urlencode(pairs).encode())
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=20_000, help="number of requests (20000)")
    ap.add_argument("--batch", type=int, default=100, help="requests per HTTP batch (100)")
    ap.add_argument("--clients", type=int, default=32, help="concurrent connections (32)")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 2,
                    help="deelwijs serve --workers (the number of cores)")
    ap.add_argument("--cli-singles", type=int, default=50,
                    help="requests sent to deelwijs decide one process each (50)")
    ap.add_argument("--wizard", type=int, default=400, help="wizard answer pages (400)")
    ap.add_argument("--seed", type=int, default=1, help="random seed (1)")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON too")
    # the client mode (run by this script in a second process)
    ap.add_argument("--client", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--port", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--bodies", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    ap.add_argument("--path", default="/api/v1/decisions", help=argparse.SUPPRESS)
    ap.add_argument("--keep", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--form", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.client:
        return client_main(args)

    sys.path.insert(0, str(HERE))
    from deelwijs.rules import loader
    from engine import make_request

    rs = loader.model()
    rng = random.Random(args.seed)
    objs = [make_request(rng) for _ in range(args.n)]
    print(f"{args.n} requests (seed {args.seed}); {os.cpu_count()} CPUs, "
          f"{platform.python_implementation()} {platform.python_version()}, "
          f"load average {os.getloadavg()[0]:.2f} at start", flush=True)

    single_ip, batched_ip, answers = in_process(objs, rs, args.batch)
    print("in process: done", flush=True)
    with tempfile.TemporaryDirectory(prefix="deelwijs-bench-") as tmpdir:
        tmp = Path(tmpdir)
        cli_batch, cli_single = cli_runs(objs, tmp, args.cli_singles)
        print("deelwijs decide: done", flush=True)
        singles = [json.dumps(o, ensure_ascii=False).encode() for o in objs]
        result = http_run(args.workers, tmp, singles, args.clients, "/api/v1/decisions")
        check_answers(result, answers, 1, "HTTP single")
        http_single = Row(f"HTTP, single requests ({args.clients} clients, "
                          f"{args.workers} workers)", len(objs), result["wall_ns"],
                          result["latencies_ns"], f">= {TARGET_SINGLE:,}/s")
        print("HTTP single requests: done", flush=True)
        batches = [json.dumps(objs[i:i + args.batch], ensure_ascii=False).encode()
                   for i in range(0, len(objs), args.batch)]
        result = http_run(args.workers, tmp, batches, args.clients, "/api/v1/decisions")
        check_answers(result, answers, args.batch, "HTTP batches")
        http_batch = Row(f"HTTP, batches of {args.batch} ({args.clients} clients, "
                         f"{args.workers} workers)", len(objs), result["wall_ns"],
                         result["latencies_ns"], f">= {TARGET_BATCHED:,}/s")
        print("HTTP batches: done", flush=True)
        wizard = None
        if args.wizard:
            forms = wizard_bodies(objs, args.wizard)
            result = http_run(args.workers, tmp, forms, 4, "/mag-ik-dit-delen", form=True)
            if result["error_count"]:
                raise SystemExit(f"wizard: {result['errors']}")
            wizard = Row("wizard answer pages (POST /mag-ik-dit-delen, 4 clients)",
                         len(forms), result["wall_ns"], result["latencies_ns"],
                         f"p99 <= {TARGET_WIZARD_P99_MS} ms")
            print("wizard: done", flush=True)

    rows = [http_single, http_batch, *([wizard] if wizard else []), single_ip, batched_ip,
            cli_batch, *([cli_single] if cli_single else [])]
    print(f"\nload average {os.getloadavg()[0]:.2f} at the end\n")
    print(f"{'':<62} {'decisions/s':>12} {'p50 ms':>8} {'p99 ms':>8}  target")
    for row in rows:
        unit = "pages/s" if row is wizard else ""
        print(f"{row.label:<62} {row.rate:>12,.0f} {_ms(row.p50):>8} {_ms(row.p99):>8}  "
              f"{row.target}{(' (' + unit + ')') if unit else ''}")
    print()
    for label, http in (("single", http_single), ("batched", http_batch)):
        print(f"HTTP {label}: {http.rate / single_ip.rate:.2f}x in process one at a time, "
              f"{http.rate / batched_ip.rate:.2f}x in process batched, "
              f"{http.rate / cli_batch.rate:.2f}x deelwijs decide (one batch)")
    print(f"deelwijs decide (one batch): {cli_batch.rate / batched_ip.rate:.2f}x in process "
          "batched")
    if args.json:
        print(json.dumps([r.as_dict() for r in rows], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
