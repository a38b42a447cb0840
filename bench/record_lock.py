"""Diagnostic: how long a recorded disclosure holds its region's log head, under contention.

    PYTHONPATH=src .venv/bin/python bench/record_lock.py \
        [--url postgresql://postgres@127.0.0.1:5432/deelwijs_bench] [--clients 8] [--per-client 150]

Runs on a database that bench/disclosures.py built (its bench region and cases). --clients
processes record disclosures through services.casus.disclosures.record, one transaction
each (after 20 untimed ones per client), with the times of the steps taken around
audit.append_locked (the entry sealed again and written once the head is locked, when
another writer came first) and psycopg's COMMIT. Prints how many records found the head
moved on, and the mean and median of each step: from the start until the head was locked
and read, the new seal and the entry's statement, the rest of `record`, until the COMMIT is
sent, the COMMIT. From the lock until the COMMIT is done, every other writer of the region
waits. Information for bench/README.md (issue 11's record ratio); no target.
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing as mp
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

STEPS = ("start until the head is locked and read (facts, decision, write, wait)",
         "new seal + the entry's statement (locked)",
         "rest of record (locked)",
         "until the COMMIT is sent (locked)",
         "the COMMIT (locked until done)")


def client(url: str, work: list[dict], queue, barrier) -> None:
    import psycopg

    import disclosures as bench
    from deelwijs.services.casus import disclosures

    app = bench.bench_app(url)
    marks: dict[str, float] = {}
    locked = disclosures.audit.append_locked
    commit = psycopg.Connection.commit

    def timed_locked(*args, **kwargs):
        marks["in"] = time.perf_counter()
        out = locked(*args, **kwargs)
        marks["out"] = time.perf_counter()
        return out

    def timed_commit(self):
        marks["commit"] = time.perf_counter()
        out = commit(self)
        marks["done"] = time.perf_counter()
        return out

    disclosures.audit.append_locked = timed_locked
    psycopg.Connection.commit = timed_commit
    for w in work[:20]:
        with app.transaction() as s:
            bench.record(app, s, w)
    barrier.wait()
    rows = []
    for w in work[20:]:
        marks.clear()
        t0 = time.perf_counter()
        with app.transaction() as s:
            bench.record(app, s, w)
            returned = time.perf_counter()
        if "in" in marks:
            rows.append((marks["in"] - t0, marks["out"] - marks["in"],
                         returned - marks["out"], marks["commit"] - returned,
                         marks["done"] - marks["commit"]))
        else:
            rows.append(None)
    app.engine.dispose()
    queue.put(rows)


def main(argv: list[str] | None = None) -> int:
    import disclosures as bench

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", default=bench.DEFAULT_URL)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--per-client", type=int, default=150)
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args(argv)
    cases = bench.load_cases(args.url, bench.REGION)
    if not cases:
        raise SystemExit("no cases about youths in the bench region: run bench/disclosures.py")
    work = bench.make_work(cases, args.clients * (args.per_client + 20),
                           random.Random(args.seed), dt.date.today())
    ctx = mp.get_context("spawn")
    queue, barrier = ctx.Queue(), ctx.Barrier(args.clients)
    procs = [ctx.Process(target=client, args=(args.url, work[i::args.clients], queue, barrier))
             for i in range(args.clients)]
    for p in procs:
        p.start()
    rows = [r for _ in procs for r in queue.get()]
    for p in procs:
        p.join()
    moved = [r for r in rows if r is not None]
    print(f"{len(moved):,} of {len(rows):,} records found that another writer had come first "
          f"({args.clients} clients)")
    if moved:
        for k, name in enumerate(STEPS):
            values = [r[k] * 1000 for r in moved]
            print(f"  {name:<72} mean {statistics.fmean(values):6.2f} ms   "
                  f"p50 {statistics.median(values):6.2f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
