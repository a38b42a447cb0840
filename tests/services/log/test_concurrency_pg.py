"""Scale-out: eight processes, each with its own App, run the same flows at once against one
PostgreSQL database. No update is lost: every saved change is there, every change that was not
saved got a Conflict, and the counts add up. (PostgreSQL only: SQLite has a single writer.)"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import queue
from collections import Counter

import pytest
from sqlalchemy import select
from tests.fixtures.postgres import skip_without_postgres
from tests.services.helpers import unit_of

from deelwijs.services.casus import cases, disclosures
from deelwijs.services.log import verify
from deelwijs.storage import orm

from . import concurrency_worker

pytestmark = pytest.mark.postgres

WORKERS = 8
ROUNDS = 10
DAY = concurrency_worker.DAY


@pytest.fixture
def shared(app, build, postgres_url) -> dict:
    """What the workers share: a meeting with a minute, a consent series, a case."""
    skip_without_postgres("SQLite heeft één schrijver")
    edited = build.youth(name="Noor Jansen")
    mother, _ = build.guardians(edited)
    series = build.consent(edited, "parent", guardian_id=mother, given_on=DAY)

    youth = build.youth()
    case = build.case("oza", participants=("leerplicht", "school"), youth_id=youth)
    build.parents_consent(youth, given_on=dt.date(2024, 2, 1))
    meeting = build.meeting(case, DAY, agenda=("Opening",), participants=("alice", "carol"))
    with app.transaction() as s:
        item = s.scalars(select(orm.AgendaItem.id)
                         .where(orm.AgendaItem.meeting_id == meeting)).one()
        minute = cases.write_minute(unit_of(app, s, by=build.pro("carol")), item, "Verslag:").id
    return {"meeting": meeting, "agenda_item": item, "minute": minute, "series": series,
            "case": case, "writer": build.pro("carol"), "pros": dict(build.w.pros),
            "orgs": dict(build.w.orgs), "url": postgres_url}


def _run_workers(shared: dict, master_key: bytes) -> list[dict]:
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(WORKERS), ctx.Queue()
    procs = [ctx.Process(target=concurrency_worker.run,
                         args=(shared["url"], master_key, shared, n, ROUNDS, barrier, results))
             for n in range(WORKERS)]
    for p in procs:
        p.start()
    out = []
    try:
        for _ in procs:
            out.append(results.get(timeout=300))
    except queue.Empty:
        pytest.fail(f"slechts {len(out)} van de {WORKERS} processen gaven antwoord")
    finally:
        for p in procs:
            p.join(timeout=30)
            if p.is_alive():
                p.terminate()
                p.join()
    return out


def test_eight_processes_editing_and_disclosing_at_once_lose_no_update(app, shared,
                                                                       master_key, monkeypatch):
    monkeypatch.setenv("DEELWIJS_CHECKPOINT_EVERY", "7")  # the workers sign checkpoints too
    results = _run_workers(shared, master_key)
    assert [r["errors"] for r in results] == [[]] * WORKERS
    attempts = WORKERS * ROUNDS

    def saved(key):
        return [t for r in results for t in r[key]]

    def conflicts(key):
        return sum(r[key] for r in results)

    with app.transaction() as s:
        meeting = s.get(orm.Meeting, shared["meeting"])
        agenda = cases.meeting_agenda(s, meeting)
        minute = s.get(orm.Minute, shared["minute"])
        versions = s.scalars(select(orm.ConsentRecord)
                             .where(orm.ConsentRecord.series == shared["series"])
                             .order_by(orm.ConsentRecord.version)).all()
        stored = s.scalars(select(orm.Disclosure)
                           .where(orm.Disclosure.case_id == shared["case"])).all()
        items = s.scalars(select(orm.DisclosureItem)).all()
        minute_text = cases.minute_text(s, minute)
        youth = s.get(orm.Youth, stored[0].youth_id)
        contents = [disclosures.content_of(app, youth, i) for i in items]
        log = verify.verify(s, app.keys)

    # the meeting: every worker retried until saved; each save is in the agenda exactly once
    tokens = saved("meeting_saved")
    assert len(tokens) == attempts
    assert Counter(agenda[1:]) == Counter(tokens)
    assert meeting.version == 1 + attempts

    # the minute: one try each; what was saved is there, the rest got a conflict
    tokens = saved("minute_saved")
    assert len(tokens) + conflicts("minute_conflicts") == attempts
    assert Counter(minute_text.split()[1:]) == Counter(tokens)
    assert minute.version == 1 + len(tokens)

    # the consent series: one version per saved change, none doubled, none lost; each change
    # was made on the newest version, so given and withdrawn strictly alternate
    tokens = saved("consent_saved")
    assert len(tokens) + conflicts("consent_conflicts") == attempts
    assert [v.version for v in versions] == list(range(1, len(tokens) + 2))
    assert Counter(v.document_ref for v in versions[1:]) == Counter(tokens)
    assert [v.answer for v in versions] == [("given", "withdrawn")[i % 2]
                                            for i in range(len(versions))]

    # the disclosures: all recorded, each with its own content, all allowed
    assert len(stored) == attempts
    assert sorted(d.id for d in stored) == sorted(saved("disclosures"))
    assert {d.outcome for d in stored} == {"allow"}
    assert sorted(contents) == sorted(
        f"w{w}-r{r}" for w in range(WORKERS) for r in range(ROUNDS))

    # the processing log: written by 8 processes at once, its leaves ordered by the database,
    # it verifies whole: no position doubled or skipped, every checkpoint consistent
    assert log.ok, [p.line() for p in log.problems]
    assert log.regions and sum(r["regels"] for r in log.regions.values()) >= (
        attempts + len(saved("consent_saved")))
    assert sum(r["checkpoints"] for r in log.regions.values()) >= 2

    # the workers did overlap (else this test would prove nothing)
    assert (conflicts("meeting_conflicts") + conflicts("minute_conflicts")
            + conflicts("consent_conflicts")) > 0
