"""One worker process of test_concurrency_pg: its own App on the shared PostgreSQL database,
doing the same flows as its siblings at the same time. Every change carries a token (worker
and round), so the test can see afterwards which changes were saved.

Each round the worker
- appends its token to the meeting's agenda (read, then save with the version it read),
  retrying on a conflict until it is saved;
- appends its token to a minute, once: saved, or a conflict;
- toggles a consent series (given ↔ withdrawn) with the version it read, once;
- records a disclosure whose content is its token.
"""

from __future__ import annotations

import datetime as dt
import traceback

from deelwijs.services.app import open_app
from deelwijs.services.casus import cases, consent, disclosures
from deelwijs.services.context import actor_of, unit
from deelwijs.services.errors import Conflict
from deelwijs.settings import Settings
from deelwijs.storage import orm

DAY = dt.date(2024, 3, 1)
MAX_TRIES = 500


def run(url: str, master_key: bytes, ids: dict, worker: int, rounds: int, barrier,
        results) -> None:
    out = {"worker": worker, "meeting_saved": [], "meeting_conflicts": 0,
           "minute_saved": [], "minute_conflicts": 0, "consent_saved": [],
           "consent_conflicts": 0, "disclosures": [], "errors": []}
    try:
        app = open_app(Settings(database_url=url, master_key=master_key))
        barrier.wait(timeout=120)
        for i in range(rounds):
            token = f"w{worker}-r{i}"
            _meeting(app, ids, token, out)
            _minute(app, ids, token, out)
            _consent(app, ids, token, out)
            _disclose(app, ids, worker, token, out)
        app.engine.dispose()
    except Exception:
        out["errors"].append(traceback.format_exc())
    results.put(out)


def _meeting(app, ids, token, out) -> None:
    for _ in range(MAX_TRIES):
        with app.transaction() as s:
            seen = s.get(orm.Meeting, ids["meeting"])
            version, agenda = seen.version, "\n".join(cases.meeting_agenda(s, seen))
        try:
            with app.transaction() as s:
                cases.update_meeting(unit(app, s, today=DAY), ids["meeting"], version,
                                     agenda=f"{agenda}\n{token}")
        except Conflict:
            out["meeting_conflicts"] += 1
            continue
        out["meeting_saved"].append(token)
        return
    raise RuntimeError(f"{token}: meeting not saved after {MAX_TRIES} tries")


def _minute(app, ids, token, out) -> None:
    with app.transaction() as s:
        seen = s.get(orm.Minute, ids["minute"])
        version, text = seen.version, cases.minute_text(s, seen)
    try:
        with app.transaction() as s:
            cases.write_minute(unit(app, s, actor_of(s, ids["writer"]), DAY),
                               ids["agenda_item"], f"{text} {token}",
                               minute_id=ids["minute"], expected_version=version)
    except Conflict:
        out["minute_conflicts"] += 1
        return
    out["minute_saved"].append(token)


def _consent(app, ids, token, out) -> None:
    with app.transaction() as s:
        seen = consent.latest(s, ids["series"])
        version, answer = seen.version, seen.answer
    toggled = "withdrawn" if answer == "given" else "given"
    try:
        with app.transaction() as s:
            consent.change(unit(app, s, today=DAY), ids["series"], version, toggled, DAY,
                           document_ref=token)
    except Conflict:
        out["consent_conflicts"] += 1
        return
    out["consent_saved"].append(token)


def _disclose(app, ids, worker, token, out) -> None:
    who, to = (("alice", "leerplicht") if worker % 2 else ("carol", "school"))
    with app.transaction() as s:
        u = unit(app, s, actor_of(s, ids["pros"][who]), DAY)
        row = disclosures.record(u, to_org_id=ids["orgs"][to], contents={"gedrag": token},
                                 day=DAY, case_id=ids["case"], kind="minute")
        out["disclosures"].append(row.id)
