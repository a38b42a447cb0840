"""Benchmark: Deelwijs's engine against the same policy in Cedar (cedarpy).

    .venv/bin/python bench/engine.py [--n 100000] [--seed 1] [--chunk 1000] [--no-gc-freeze]
                                     [--cli-only]

1. Generates N random, valid disclosure requests (seeded, reproducible).
2. Times our engine with full item output (outcome, grounds, reasons, rule ids, obligations;
   no Dutch text): engine only, `decide(parsed, ruleset)`, and end to end,
   `decide(parse_request(obj, ruleset), ruleset)`; each pass starts from a cold memo. For
   information also the engine with its memo cleared before every call (the worst case).
3. Times cedarpy on the same requests, one Cedar authorization request per data item, with
   the policy of bench/cedar/policies.cedar and the entities of bench/cedar/entities.json:
   one `is_authorized` call per item, one `is_authorized_batch` call per request, and, with
   --chunk, one `is_authorized_batch` call per chunk of requests (throughput only).
4. Checks that both agree on every item's allow/deny, and on its grounds (allowed) or its
   reason and deciding rule (denied). Exit 1 on any disagreement or Cedar evaluation error.
5. Times the full Dutch answer (the contract's JSON, explanations included) for the same
   requests: in process end to end, `decide_payload` (parse, decide, render) and orjson, one
   request at a time and as one batch; and through the `deelwijs decide` console script on one
   batch file of all N requests (one process: start, read, decide, write the indented answer
   to a file). Prints the command's rate over the faster in-process pass (issue 13: >= 0.5x)
   and checks that the command's answer equals the in-process answers. --cli-only runs only
   these passes.
6. Prints a compact report with the issue's targets next to the figures.

Before every pass the garbage collector is run and everything alive is frozen (gc.freeze()):
the benchmark's own inputs (N requests in three forms) and the previous passes' outputs are
not something a deciding process holds, and should not be scanned on its clock. Allocations
made during a pass are collected as usual. --no-gc-freeze measures without the freeze.

Every timing is measured here, on this run; nothing is estimated or carried over.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import math
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from importlib import metadata
from pathlib import Path

import cedarpy
import orjson

from deelwijs.domain import codes
from deelwijs.domain.engine import decide
from deelwijs.domain.request import parse_request
from deelwijs.rules import loader
from deelwijs.services.decisions import decide_payload

HERE = Path(__file__).resolve().parent
POLICIES = HERE / "cedar" / "policies.cedar"
ENTITIES = HERE / "cedar" / "entities.json"

TARGET_RATE = 100_000  # decisions/s of our engine, one process (the issue)
TARGET_RATIO = 13  # ours / cedarpy (the issue)
TARGET_CLI = 0.5  # `deelwijs decide` on one batch / in process, full answer (issue 13)

COVENANT_PARTIES = ("school", "swv", "leerplicht", "gemeente", "jeugdhulp", "jgz", "huisarts")
# The pairs the legal routes are about; half of the legal-route requests use one of them, so
# that the routes' allow branches are exercised, not only their NOT_A_PARTY refusals.
LEGAL_PAIRS = {
    "ots": [(None, "gi")],
    "meldcode": [(None, "veilig_thuis")],
    "verzuimmelding": [("school", "leerplicht")],
    "overdracht": [("school", "school"), ("kinderopvang", "school")],
    "raadsonderzoek": [(None, "raad")],
}


# --- request generation --------------------------------------------------------------------


def _maybe(rng: random.Random, obj: dict, key: str, value, default) -> None:
    """Set obj[key]: a non-default value always, the default value explicitly half the time."""
    if value != default or rng.random() < 0.5:
        obj[key] = value


def make_request(rng: random.Random) -> dict:
    """One random valid disclosure request, as the contract's JSON object."""
    purpose = rng.choice(codes.PURPOSES)
    discloser = rng.choice(codes.PARTIES)
    recipient = rng.choice(codes.PARTIES)
    if purpose in LEGAL_PAIRS and rng.random() < 0.5:
        d, r = rng.choice(LEGAL_PAIRS[purpose])
        discloser, recipient = d or discloser, r
    elif purpose in codes.COVENANT_PURPOSES and rng.random() < 0.5:
        discloser = rng.choice(COVENANT_PARTIES)
        recipient = rng.choice(COVENANT_PARTIES)

    req: dict = {}
    if rng.random() < 0.3:
        req["kind"] = "disclosure"
    d_obj: dict = {"party": discloser}
    if discloser in codes.HAT_WEARERS and rng.random() < 0.35:  # others: bad input (1.1)
        d_obj["hat"] = rng.choice(codes.HATS)
    _maybe(rng, d_obj, "acceded", rng.random() < 0.85, True)
    _maybe(rng, d_obj, "mandate", rng.random() < 0.85, True)
    r_obj: dict = {"party": recipient}
    _maybe(rng, r_obj, "acceded", rng.random() < 0.85, True)
    _maybe(rng, r_obj, "mandate", rng.random() < 0.85, True)
    if rng.random() < 0.6:
        r_obj["domain"] = rng.choice(codes.DOMAINS)
    subject: dict = {"age": rng.randint(0, 30)}
    _maybe(rng, subject, "anonymous", rng.random() < 0.02, False)
    _maybe(rng, subject, "startkwalificatie", rng.random() < 0.3, False)
    req.update(discloser=d_obj, recipient=r_obj, subject=subject, purpose=purpose)
    if rng.random() < 0.75:
        req["task"] = rng.choice(codes.TASKS)
    req["data"] = rng.sample(codes.CATEGORIES, rng.randint(1, 4))

    if rng.random() < 0.85:
        answers = ("given", "given", "refused", "none")
        consent: dict = {}
        _maybe(rng, consent, "parents", rng.choice(answers), "none")
        _maybe(rng, consent, "youth", rng.choice(answers), "none")
        _maybe(rng, consent, "written", rng.random() < 0.9, True)
        _maybe(rng, consent, "prior", rng.random() < 0.9, True)
        _maybe(rng, consent, "withdrawn", rng.random() < 0.05, False)
        req["consent"] = consent
    if rng.random() < 0.7:
        exceptions: dict = {}
        _maybe(rng, exceptions, "vital_interest", rng.random() < 0.12, False)
        if rng.random() < 0.2:
            exceptions["conflict_of_duties"] = {"documented": rng.random() < 0.6}
        _maybe(rng, exceptions, "legal_duty", rng.random() < 0.12, False)
        _maybe(rng, exceptions, "compatible_purpose", rng.random() < 0.12, False)
        _maybe(rng, exceptions, "weighing_documented", rng.random() < 0.3, False)
        req["exceptions"] = exceptions
    if rng.random() < 0.8:
        context: dict = {}
        if rng.random() < 0.6:
            context["help_request_domains"] = rng.sample(codes.DOMAINS, rng.randint(0, 3))
        _maybe(rng, context, "bulk", rng.random() < 0.01, False)
        _maybe(rng, context, "wams_in_force", rng.random() < 0.3, False)
        req["context"] = context
    return req


# --- the same request for Cedar ------------------------------------------------------------


def _ref(kind: str, code: str) -> dict:
    return {"__entity": {"type": kind, "id": code}}


_ACTION = {"type": "Action", "id": "disclose"}


def to_cedar(obj: dict) -> list[dict]:
    """The Cedar authorization requests of one disclosure request: one per data item.

    Reads the raw JSON object (not our parsed request) and fills in the contract's defaults.
    The context is serialised once per request here, outside the timed region (cedarpy would
    otherwise serialise the same dict once per item): the form most favourable to cedarpy.
    """
    d, r, s = obj["discloser"], obj["recipient"], obj["subject"]
    c, e, x = obj.get("consent", {}), obj.get("exceptions", {}), obj.get("context", {})
    ctx = {
        "recipient": _ref("Party", r["party"]),
        "acceded": r.get("acceded", True),
        "mandate": r.get("mandate", True),
        "discloser_acceded": d.get("acceded", True),
        "discloser_mandate": d.get("mandate", True),
        "age": s["age"],
        "startkwalificatie": s.get("startkwalificatie", False),
        "anonymous": s.get("anonymous", False),
        "purpose": _ref("Purpose", obj["purpose"]),
        "task": obj.get("task", "both"),
        "parents": c.get("parents", "none"),
        "youth": c.get("youth", "none"),
        "written": c.get("written", True),
        "prior": c.get("prior", True),
        "withdrawn": c.get("withdrawn", False),
        "vital_interest": e.get("vital_interest", False),
        "conflict_documented": e.get("conflict_of_duties", {}).get("documented", False),
        "legal_duty": e.get("legal_duty", False),
        "compatible_purpose": e.get("compatible_purpose", False),
        "weighing_documented": e.get("weighing_documented", False),
        "bulk": x.get("bulk", False),
        "wams_in_force": x.get("wams_in_force", False),
    }
    if "hat" in d:
        ctx["hat"] = _ref("Hat", d["hat"])
    if "domain" in r:
        ctx["recipient_domain"] = r["domain"]
    if "help_request_domains" in x:
        ctx["help_request_domains"] = list(x["help_request_domains"])
    context = json.dumps(ctx)
    principal = {"type": "Party", "id": d["party"]}
    return [{"principal": principal, "action": _ACTION,
             "resource": {"type": "Category", "id": cat}, "context": context}
            for cat in obj["data"]]


# --- timing --------------------------------------------------------------------------------


class Run:
    """One timed pass: wall time of the whole loop and the latency of every call."""

    def __init__(self, label: str, decisions: int, wall_ns: int, lat_ns: list[int] | None):
        self.label = label
        self.decisions = decisions
        self.wall_ns = wall_ns
        self.lat = sorted(lat_ns) if lat_ns is not None else None

    @property
    def rate(self) -> float:
        return self.decisions / (self.wall_ns / 1e9)

    def pct(self, p: float) -> float | None:
        """Nearest-rank percentile of the per-call latency, in microseconds."""
        if not self.lat:
            return None
        k = min(len(self.lat) - 1, max(0, math.ceil(p / 100 * len(self.lat)) - 1))
        return self.lat[k] / 1000


def time_ours_engine(parsed: list, rs) -> tuple[Run, list]:
    rs.memo.clear()  # cold memo
    out: list = [None] * len(parsed)
    lat = [0] * len(parsed)
    clock = time.perf_counter_ns
    start = clock()
    for i, req in enumerate(parsed):
        t = clock()
        out[i] = decide(req, rs)
        lat[i] = clock() - t
    wall = clock() - start
    return Run("ours, engine only: decide()", len(parsed), wall, lat), out


def time_ours_e2e(objs: list[dict], rs) -> tuple[Run, list]:
    rs.memo.clear()  # cold memo
    out: list = [None] * len(objs)
    lat = [0] * len(objs)
    clock = time.perf_counter_ns
    start = clock()
    for i, obj in enumerate(objs):
        t = clock()
        out[i] = decide(parse_request(obj, rs), rs)
        lat[i] = clock() - t
    wall = clock() - start
    return Run("ours, end to end: parse_request() + decide()", len(objs), wall, lat), out


def time_ours_no_memo(parsed: list, rs) -> tuple[Run, list]:
    """Every item computed afresh: also checks the memo (situation_key) never changes answers."""
    memo = rs.memo
    out: list = [None] * len(parsed)
    lat = [0] * len(parsed)
    clock = time.perf_counter_ns
    start = clock()
    for i, req in enumerate(parsed):
        memo.clear()
        t = clock()
        out[i] = decide(req, rs)
        lat[i] = clock() - t
    wall = clock() - start
    memo.clear()
    return Run("ours, engine only, memo cleared before every call", len(parsed), wall, lat), out


# --- the full Dutch answer: in process and through `deelwijs decide` -----------------------


def time_full_in_process(objs: list[dict], rs) -> tuple[Run, list[bytes]]:
    """The contract's whole answer (Dutch explanations included), one request at a time:
    `decide_payload(obj)` (parse, decide, render) and its JSON bytes (orjson, as the API)."""
    rs.memo.clear()  # cold memo
    out: list = [None] * len(objs)
    lat = [0] * len(objs)
    dumps = orjson.dumps
    clock = time.perf_counter_ns
    start = clock()
    for i, obj in enumerate(objs):
        t = clock()
        out[i] = dumps(decide_payload(obj, rs))
        lat[i] = clock() - t
    wall = clock() - start
    return Run("in process, full answer, one request at a time", len(objs), wall, lat), out


def time_full_in_process_batch(objs: list[dict], rs) -> Run:
    """The same as one batch, as `deelwijs decide` gets it: `decide_payload(objs)` + orjson."""
    rs.memo.clear()  # cold memo
    clock = time.perf_counter_ns
    start = clock()
    orjson.dumps(decide_payload(objs, rs))
    wall = clock() - start
    return Run("in process, full answer, one batch", len(objs), wall, None)


def deelwijs_script() -> Path:
    return Path(sys.executable).parent / ("deelwijs.exe" if os.name == "nt" else "deelwijs")


def time_cli(objs: list[dict], tmp: Path) -> tuple[Run, Run, bytes]:
    """`deelwijs decide --file` on one batch file of every request (one process, process start
    and writing the indented answer to a file included), and on `[]` (process start alone).
    No database: the DEELWIJS_ variables are left out, so the model covenant is built in."""
    src, dst = tmp / "requests.json", tmp / "answers.json"
    src.write_text(json.dumps(objs, ensure_ascii=False), encoding="utf-8")
    (tmp / "empty.json").write_text("[]", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEELWIJS_")}
    runs = []
    for label, path, n in ((f"deelwijs decide --file, one batch of {len(objs):,}", src,
                            len(objs)),
                           ("deelwijs decide --file on [] (process start)", tmp / "empty.json",
                            0)):
        with open(dst, "wb") as out:
            start = time.perf_counter_ns()
            run = subprocess.run([str(deelwijs_script()), "decide", "--file", str(path)],
                                 stdout=out, stderr=subprocess.PIPE, env=env, check=False)
            wall = time.perf_counter_ns() - start
        if run.returncode:
            raise SystemExit(f"deelwijs decide: exit {run.returncode}: "
                             f"{run.stderr.decode(errors='replace')[:500]}")
        runs.append(Run(label, n, wall, None))
        if n:
            answer = dst.read_bytes()
    return runs[0], runs[1], answer


def time_cedar_single(creqs: list[list[dict]], ps, es) -> tuple[Run, list]:
    is_authorized = cedarpy.is_authorized
    out: list = [None] * len(creqs)
    lat = [0] * len(creqs)
    clock = time.perf_counter_ns
    start = clock()
    for i, items in enumerate(creqs):
        t = clock()
        out[i] = [is_authorized(q, ps, es) for q in items]
        lat[i] = clock() - t
    wall = clock() - start
    return Run("cedarpy, is_authorized per item", len(creqs), wall, lat), out


def time_cedar_batch(creqs: list[list[dict]], ps, es) -> tuple[Run, list]:
    batch = cedarpy.is_authorized_batch
    out: list = [None] * len(creqs)
    lat = [0] * len(creqs)
    clock = time.perf_counter_ns
    start = clock()
    for i, items in enumerate(creqs):
        t = clock()
        out[i] = batch(items, ps, es)
        lat[i] = clock() - t
    wall = clock() - start
    return Run("cedarpy, is_authorized_batch per request", len(creqs), wall, lat), out


def time_cedar_chunks(creqs: list[list[dict]], ps, es, chunk: int) -> tuple[Run, list]:
    batch = cedarpy.is_authorized_batch
    chunks = []
    for lo in range(0, len(creqs), chunk):
        part = creqs[lo:lo + chunk]
        chunks.append(([q for items in part for q in items], [len(items) for items in part]))
    results: list = []
    clock = time.perf_counter_ns
    start = clock()
    for flat, _sizes in chunks:
        results.append(batch(flat, ps, es))
    wall = clock() - start
    out: list = []
    for (_flat, sizes), res in zip(chunks, results, strict=True):
        k = 0
        for size in sizes:
            out.append(res[k:k + size])
            k += size
    label = f"cedarpy, is_authorized_batch per {chunk:,} requests"
    return Run(label, len(creqs), wall, None), out


# --- agreement -----------------------------------------------------------------------------


def cedar_verdict(result) -> tuple[bool, frozenset[str], tuple[str, ...]]:
    """(allowed, codes of the policies that decided, deciding rule ids) from @id annotations."""
    ids = result.diagnostics.id_annotations_by_reason.values()
    parts = [a.split() for a in ids]
    return (result.allowed, frozenset(p[1] for p in parts), tuple(sorted(p[2] for p in parts)))


def compare(objs: list[dict], ours: list, theirs: list) -> dict:
    items = decisions_differ = detail_differ = errors = 0
    examples: list[str] = []
    detail_examples: list[str] = []
    for obj, dec, res in zip(objs, ours, theirs, strict=True):
        for item, r in zip(dec.items, res, strict=True):
            items += 1
            if r.diagnostics.errors:
                errors += 1
                if len(examples) < 5:
                    examples.append(f"Cedar error on {item.data}: {r.diagnostics.errors[0]}\n"
                                    f"      request: {json.dumps(obj)}")
            allowed, their_codes, their_rules = cedar_verdict(r)
            ours_allowed = item.outcome == "allow"
            if allowed != ours_allowed:
                decisions_differ += 1
                if len(examples) < 5:
                    examples.append(
                        f"{item.data}: ours {item.outcome} {list(item.grounds or item.reasons)} "
                        f"{list(item.rules)}; cedar {'allow' if allowed else 'deny'} "
                        f"{sorted(their_codes)} {list(their_rules)}\n"
                        f"      request: {json.dumps(obj)}")
                continue
            if ours_allowed:
                same = their_codes == frozenset(item.grounds)
            else:
                same = (their_codes == frozenset(item.reasons)
                        and their_rules == (item.rules[0],))
            if not same:
                detail_differ += 1
                if len(detail_examples) < 5:
                    detail_examples.append(
                        f"{item.data}: ours {item.outcome} {list(item.grounds or item.reasons)} "
                        f"{list(item.rules)}; cedar {sorted(their_codes)} {list(their_rules)}\n"
                        f"      request: {json.dumps(obj)}")
    return {"items": items, "decisions_differ": decisions_differ, "detail_differ": detail_differ,
            "errors": errors, "examples": examples, "detail_examples": detail_examples}


def same_outcomes(a: list, b: list) -> int:
    """How many items two Cedar passes decide differently (they must not)."""
    return sum(x.allowed != y.allowed
               for ra, rb in zip(a, b, strict=True) for x, y in zip(ra, rb, strict=True))


# --- report --------------------------------------------------------------------------------


def _load() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def _fmt_us(v: float | None) -> str:
    return "n/a" if v is None else f"{v:,.1f}"


def _row(run: Run, target: str = "") -> str:
    return (f"  {run.label:<52} {run.rate:>12,.0f} {_fmt_us(run.pct(50)):>9} "
            f"{_fmt_us(run.pct(99)):>9}  {target}")


def full_answer(objs: list[dict], rs, settle) -> tuple[list[str], bool]:
    """The full Dutch answer in process and through `deelwijs decide`, in this run: report
    lines, and whether the command's answer equals the in-process answers."""
    settle()
    single, answers = time_full_in_process(objs, rs)
    settle()
    batch = time_full_in_process_batch(objs, rs)
    settle()
    with tempfile.TemporaryDirectory(prefix="deelwijs-bench-") as tmp:
        cli, start, printed = time_cli(objs, Path(tmp))
    same = orjson.loads(printed) == [orjson.loads(a) for a in answers]
    del printed, answers
    best = max(single, batch, key=lambda r: r.rate)
    ratio = cli.rate / best.rate
    met = "MET" if ratio >= TARGET_CLI else "NOT MET"
    lines = [
        f"  {'full Dutch answer (the contract JSON), per request':<52} {'decisions/s':>12} "
        f"{'p50 us':>9} {'p99 us':>9}",
        _row(single, "decide_payload(obj) + orjson.dumps"),
        _row(batch, "decide_payload(all) + orjson.dumps"),
        _row(cli, f"{cli.wall_ns / 1e9:.2f} s wall, process start included"),
        f"  {start.label:<52} {'':>12} {'':>9} {'':>9}  {start.wall_ns / 1e9:.2f} s wall",
        f"  deelwijs decide / in process (the faster in-process pass: "
        f"{best.label.removeprefix('in process, full answer, ')}): {ratio:.2f}x   "
        f"target >= {TARGET_CLI}x: {met}",
        "  deelwijs decide's answer equals the in-process answers (parsed): "
        + ("yes" if same else "NO"),
    ]
    return lines, same


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=100_000, help="number of requests (100000)")
    ap.add_argument("--seed", type=int, default=1, help="random seed (1)")
    ap.add_argument("--chunk", type=int, default=0,
                    help="also time cedarpy with one batch call per CHUNK requests (throughput "
                         "only; adds about a minute at n=100000); 0, the default, skips it")
    ap.add_argument("--no-gc-freeze", action="store_true",
                    help="do not gc.freeze() the inputs and earlier outputs before each pass")
    ap.add_argument("--cli-only", action="store_true",
                    help="only the full-answer passes (in process and `deelwijs decide`) and "
                         "their ratio; no engine-only or Cedar passes")
    args = ap.parse_args(argv)

    rs = loader.model()
    rng = random.Random(args.seed)

    def settle() -> None:
        gc.collect()
        if not args.no_gc_freeze:
            gc.freeze()

    if args.cli_only:
        objs = [make_request(rng) for _ in range(args.n)]
        for obj in objs:
            parse_request(obj, rs)  # every request must be valid
        print(f"Deelwijs full-answer benchmark, {dt.datetime.now().isoformat(timespec='seconds')}"
              f", load average {_load()}")
        print(f"  Python {platform.python_version()} on {platform.machine()}, "
              f"{os.cpu_count()} CPUs; ruleset {rs.id} {rs.version}; {args.n:,} requests "
              f"(seed {args.seed})")
        lines, same = full_answer(objs, rs, settle)
        print("\n".join(lines))
        print(f"  load average at the end: {_load()}")
        return 0 if same else 1

    t = time.perf_counter()
    objs = [make_request(rng) for _ in range(args.n)]
    parsed = [parse_request(obj, rs) for obj in objs]  # every request must be valid
    creqs = [to_cedar(obj) for obj in objs]
    prep_s = time.perf_counter() - t
    n_items = sum(len(q) for q in creqs)

    t = time.perf_counter()
    ps = cedarpy.PolicySet.from_str(POLICIES.read_text(encoding="utf-8"))
    es = cedarpy.Entities.from_json_str(ENTITIES.read_text(encoding="utf-8"))
    cedar_setup_s = time.perf_counter() - t

    settle()
    engine, ours = time_ours_engine(parsed, rs)
    memo_situations = sum(1 for k in rs.memo if k != "__outside__")
    memo_items = sum(len(v) for k, v in rs.memo.items() if k != "__outside__")
    settle()
    e2e, ours_e2e = time_ours_e2e(objs, rs)
    settle()
    no_memo, ours_no_memo = time_ours_no_memo(parsed, rs)
    settle()
    single, cedar_single = time_cedar_single(creqs, ps, es)
    settle()
    batch, cedar_batch = time_cedar_batch(creqs, ps, es)
    cedar_runs = [single, batch]
    passes = [cedar_single, cedar_batch]
    if args.chunk > 0:
        settle()
        chunked, cedar_chunked = time_cedar_chunks(creqs, ps, es, args.chunk)
        cedar_runs.append(chunked)
        passes.append(cedar_chunked)
    full_lines, full_same = full_answer(objs, rs, settle)

    # Agreement: our three passes must be identical (memo on, cold, off); ours against the
    # per-request batch pass;
    # every cedarpy pass must decide every item as that pass did.
    ours_consistent = all(a.items == b.items == c.items
                          for a, b, c in zip(ours, ours_e2e, ours_no_memo, strict=True))
    result = compare(objs, ours, cedar_batch)
    cedar_consistent = sum(same_outcomes(cedar_batch, p) for p in passes)

    outcomes = Counter(item.outcome for d in ours for item in d.items)
    why = Counter((item.grounds or item.reasons)[0] for d in ours for item in d.items)
    per_purpose = Counter(obj["purpose"] for obj in objs)

    fastest = max(cedar_runs, key=lambda r: r.rate)
    fastest_lat = max((r for r in cedar_runs if r.lat), key=lambda r: r.rate)
    ratio_engine = engine.rate / fastest.rate
    ratio_e2e = e2e.rate / fastest.rate

    def met(ok: bool) -> str:
        return "MET" if ok else "NOT MET"

    print(f"Deelwijs engine benchmark, {dt.datetime.now().isoformat(timespec='seconds')}, "
          f"load average at the end {_load()}")
    print(f"  Python {platform.python_version()} on {platform.machine()}, "
          f"{os.cpu_count()} CPUs, one process; cedarpy {metadata.version('cedarpy')}; "
          f"ruleset {rs.id} {rs.version}")
    print(f"  {args.n:,} requests (seed {args.seed}), {n_items:,} data items "
          f"({n_items / args.n:.2f} per request), every purpose "
          f"({min(per_purpose.values()):,}..{max(per_purpose.values()):,} each)")
    print(f"  items: {outcomes['allow']:,} allow, {outcomes['deny']:,} deny; most common "
          + ", ".join(f"{k} {v:,}" for k, v in why.most_common(6)))
    print(f"  setup (untimed): generate + parse + translate to Cedar {prep_s:.1f}s, "
          f"cedar PolicySet ({len(ps)} policies) + Entities ({len(es)}) {cedar_setup_s:.3f}s")
    print("  garbage collector: " + ("runs as usual, nothing frozen (--no-gc-freeze)"
                                     if args.no_gc_freeze else
                                     "inputs and earlier outputs frozen (gc.freeze()) before "
                                     "each pass; collects the pass's own allocations"))
    print("  our memo is cold (ruleset.memo.clear()) at the start of each of our passes; "
          f"the engine pass left {memo_situations:,} situations,")
    print(f"  {memo_items:,} item decisions computed = {memo_items / n_items:.1%} of items "
          "(the rest served by the memo)")
    print()
    print(f"  {'per decision = one request with all its items':<52} {'decisions/s':>12} "
          f"{'p50 us':>9} {'p99 us':>9}  target")
    print(_row(engine, f">= {TARGET_RATE:,}/s: {met(engine.rate >= TARGET_RATE)}"))
    print(_row(e2e, f">= {TARGET_RATE:,}/s: {met(e2e.rate >= TARGET_RATE)}"))
    print(_row(no_memo, "(worst case, for information)"))
    for run in cedar_runs:
        print(_row(run, "fastest cedarpy" if run is fastest else ""))
    print()
    print(f"  ours / cedarpy (fastest cedarpy pass: {fastest.label.removeprefix('cedarpy, ')}):")
    print(f"    engine only {ratio_engine:,.1f}x, end to end {ratio_e2e:,.1f}x   "
          f"target >= {TARGET_RATIO}x: engine only {met(ratio_engine >= TARGET_RATIO)}, "
          f"end to end {met(ratio_e2e >= TARGET_RATIO)}")
    if fastest_lat is not fastest:
        print(f"    p50 latency vs {fastest_lat.label.removeprefix('cedarpy, ')}: engine only "
              f"{fastest_lat.pct(50) / engine.pct(50):,.1f}x, "
              f"end to end {fastest_lat.pct(50) / e2e.pct(50):,.1f}x lower")
    print(f"    worst case (memo cleared every call) vs fastest cedarpy: "
          f"{no_memo.rate / fastest.rate:,.1f}x")
    print()
    print(f"  agreement on {result['items']:,} items: {result['decisions_differ']:,} allow/deny "
          f"disagreements, {result['detail_differ']:,} grounds/reason differences, "
          f"{result['errors']:,} Cedar evaluation errors")
    same = "identical" if ours_consistent else "DIFFER"
    print(f"  consistency: our three passes (memo, end to end, no memo) {same}; "
          f"cedarpy passes differ on {cedar_consistent:,} items")
    for ex in result["examples"]:
        print(f"    DISAGREE {ex}")
    for ex in result["detail_examples"]:
        print(f"    DETAIL   {ex}")
    print()
    print("\n".join(full_lines))

    bad = (result["decisions_differ"] or result["detail_differ"] or result["errors"]
           or cedar_consistent or not ours_consistent or not full_same)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
