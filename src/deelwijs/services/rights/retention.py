"""The retention run (bewaartermijnen): what Deelwijs holds about a youth, until when the
engine says it may be kept, and the destruction of what is past its term.

What Deelwijs holds about a youth is the casusoverleg's record: the registration (name, date
of birth, BSN, the parents), the minutes and disclosures of the youth's cases, disclosures
outside a case, the municipal workflow and the correction history. All of it is kept under
one term, the engine's `casusoverleg_verslag` (the region's ruleset may set its own), counted

- for each case, from the day it was closed;
- for each closed municipal workflow, from its last step;
- for disclosures outside a case, from the last of them;
- for a youth without any case, from the day of registration.

A youth is due when every one of those terms has passed (`keep_until <= today`, the engine's
"vernietigen uiterlijk op"). A youth is kept, whatever the dates, while a case or a municipal
workflow is open, while a restriction under AVG art. 18 lid 1 sub b or c is in force (the
data subject wants the data kept instead of erased, or needs it for a legal claim), or when
the region has no ruleset in force to ask.

Destruction is crypto-shredding (rights.shred_youth: the wrapped data key, the BSN hash and
the encrypted BSN are destroyed, and logged), after which the run also empties the youth's
ciphertext columns and their plaintext twins (`wipe`): minutes and disclosure contents, case
titles, agendas and agenda items, actions, weighing answers and workflow notes. Consent
records are append-only and hold no direct identifiers: they stay. Log entries are never
deleted: past the log's own term (audit.LOG_RETENTION) their body is removed and the leaf
hash stays, so the Merkle tree still verifies.

A dry run reads only: it writes nothing, not even a log entry. The run is idempotent. The plan
and the run are the administrator's (`plan(u)`, `run(u, dry_run)` on the unit's day
`u.today`; access.require_admin).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Callable

from sqlalchemy import Text, cast, func, or_, select, update
from sqlalchemy.orm import Session

from deelwijs.domain import labels
from deelwijs.domain import workflow as wf
from deelwijs.domain.contract import decide_payload
from deelwijs.domain.render import dutch_date
from deelwijs.domain.ruleset import Ruleset
from deelwijs.services import access
from deelwijs.services.app import App
from deelwijs.services.context import Unit
from deelwijs.services.covenant import registry
from deelwijs.services.errors import Invalid, NotFound
from deelwijs.services.log import audit
from deelwijs.services.rights import requests as rights
from deelwijs.storage import orm

RECORD = "casusoverleg_verslag"
# restrictions (AVG art. 18 lid 1) under which the data must be kept rather than destroyed
LEGAL_HOLD = ("onrechtmatig", "rechtsvordering")
HONOURED = ("toegewezen", "deels")

SHRED_REASON = "Vernietigen na afloop van de bewaartermijn"
WIPE_REASON = "Opschonen versleutelde gegevens na vernietiging"
PRUNE_REASON = "Opschonen verwerkingslog na afloop van de bewaartermijn"

Progress = Callable[[int, int], None]


# --- dates ---------------------------------------------------------------------------------

_DURATION = re.compile(r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?$")


def minus_duration(day: dt.date, duration: str) -> dt.date:
    """`day` minus an ISO 8601 duration of years, months, weeks and days (P25Y, P18M, P30D);
    the last day of the month where that day does not exist."""
    m = _DURATION.match(duration)
    if m is None or duration == "P":
        raise ValueError(f"unsupported ISO 8601 duration {duration!r}")
    years, months, weeks, days = (int(g or 0) for g in m.groups())
    back = rights.add_months(day, -(12 * years + months))
    return back - dt.timedelta(weeks=weeks, days=days)


def log_cutoff(today: dt.date) -> dt.datetime:
    """Entries registered before this moment are past the log's term on `today`: an entry is
    kept until its registration day plus LOG_RETENTION, and its body goes from that day on."""
    last = minus_duration(today, audit.LOG_RETENTION)
    return dt.datetime.combine(last + dt.timedelta(days=1), dt.time())


def _check_day(today, field: str = "today") -> None:
    if not isinstance(today, dt.date) or isinstance(today, dt.datetime):
        raise Invalid("wrong_type", "de datum van de vernietigingsronde ontbreekt", field)


# --- the plan ------------------------------------------------------------------------------


class _Terms:
    """The engine's retention answers, asked once per (ruleset, end date)."""

    def __init__(self):
        self._cache: dict[tuple[str, dt.date], dict] = {}

    def __call__(self, ruleset: Ruleset, ended_on: dt.date) -> dict:
        key = (ruleset.digest, ended_on)
        hit = self._cache.get(key)
        if hit is None:
            hit = decide_payload({"kind": "retention", "record": RECORD,
                                  "ended_on": ended_on.isoformat()}, ruleset)
            self._cache[key] = hit
        return hit


def _regions(session: Session, region_code: str | None) -> list[orm.Region]:
    if region_code is not None:
        return [registry.region_by_code(session, region_code)]
    return list(session.scalars(select(orm.Region).order_by(orm.Region.id)))


def _record(what: str, basis: str, ended_on: dt.date | None, answer: dict | None,
            **ref) -> dict:
    return {"record": RECORD, "what": what, "basis": basis, **ref,
            "ended_on": ended_on.isoformat() if ended_on else None,
            "keep_until": answer["keep_until"] if answer else None,
            "rule": answer["rule"] if answer else None,
            "years": answer["years"] if answer else None}


def _plan_region(session: Session, app: App, region: orm.Region, today: dt.date,
                 terms: _Terms) -> list[dict]:
    try:
        version, ruleset = app.active_ruleset(session, region.id, today)
    except NotFound:
        version, ruleset = None, None
    youths = session.execute(
        select(orm.Youth.id, orm.Youth.created_at, orm.Youth.shredded_at,
               orm.Youth.key_wrapped.is_not(None).label("live"))
        .where(orm.Youth.region_id == region.id,
               or_(orm.Youth.key_wrapped.is_not(None), func.length(orm.Youth.name_enc) > 0))
        .order_by(orm.Youth.id)).all()
    if not youths:
        return []
    in_region = select(orm.Youth.id).where(orm.Youth.region_id == region.id)
    cases: dict[int, list] = defaultdict(list)
    for row in session.execute(select(orm.Case.id, orm.Case.youth_id, orm.Case.closed_on)
                               .where(orm.Case.youth_id.in_(in_region))
                               .order_by(orm.Case.id)):
        cases[row.youth_id].append(row)
    flows: dict[int, list] = defaultdict(list)
    for row in session.execute(
            select(orm.Workflow.id, orm.Workflow.youth_id, orm.Workflow.state,
                   func.max(orm.WorkflowStep.taken_on).label("last"))
            .outerjoin(orm.WorkflowStep, orm.WorkflowStep.workflow_id == orm.Workflow.id)
            .where(orm.Workflow.youth_id.in_(in_region))
            .group_by(orm.Workflow.id, orm.Workflow.youth_id, orm.Workflow.state)
            .order_by(orm.Workflow.id)):
        flows[row.youth_id].append(row)
    outside = dict(session.execute(
        select(orm.Disclosure.youth_id, func.max(orm.Disclosure.disclosed_on))
        .where(orm.Disclosure.youth_id.in_(in_region), orm.Disclosure.case_id.is_(None))
        .group_by(orm.Disclosure.youth_id)).all())
    holds: dict[int, list] = defaultdict(list)
    for r in session.scalars(select(orm.RightsRequest).where(
            orm.RightsRequest.youth_id.in_(in_region), orm.RightsRequest.kind == "beperking",
            orm.RightsRequest.status.in_(HONOURED), orm.RightsRequest.decided_on <= today)
            .order_by(orm.RightsRequest.id)):
        if (r.ends_on is None or r.ends_on > today) and \
                (r.scope or {}).get("reason") in LEGAL_HOLD:
            holds[r.youth_id].append(r)

    out = []
    for y in youths:
        base = {"youth_id": y.id, "region": region.code,
                "ruleset": ({"id": ruleset.id, "version": ruleset.version,
                             "digest": version.digest} if ruleset else None)}
        if not y.live:
            out.append({**base, "action": "wipe", "due": True, "keep_until": None,
                        "records": [], "blockers": [],
                        "reason": "De sleutel van deze jongere is al vernietigd"
                        + (f" (op {dutch_date(y.shredded_at.date())})" if y.shredded_at
                           else "")
                        + "; de onleesbare versleutelde gegevens worden nu ook gewist."})
            continue
        records, blockers = [], []
        if ruleset is None:
            blockers.append({"kind": "no_ruleset", "until": None,
                             "message": f"regio {region.code} heeft op {dutch_date(today)} "
                                        "geen actieve ruleset; zonder bewaartermijn wordt "
                                        "niets vernietigd"})
        for c in cases.get(y.id, ()):
            if c.closed_on is None:
                records.append(_record(f"verslag van casus {c.id}", "casus", None, None,
                                       case_id=c.id))
                blockers.append({"kind": "open_case", "case_id": c.id, "until": None,
                                 "message": f"casus {c.id} loopt nog; pas als die is "
                                            "afgesloten, begint de bewaartermijn"})
            elif ruleset is not None:
                records.append(_record(f"verslag van casus {c.id}", "casus", c.closed_on,
                                       terms(ruleset, c.closed_on), case_id=c.id))
        for f in flows.get(y.id, ()):
            if f.state not in wf.FINAL:
                blockers.append({"kind": "open_workflow", "workflow_id": f.id, "until": None,
                                 "message": f"het werkproces van de gemeente (nummer {f.id}) "
                                            f"loopt nog "
                                            f"({labels.WORKFLOW_STATE.get(f.state, f.state)})"})
            elif ruleset is not None and f.last is not None:
                records.append(_record(f"werkproces {f.id} van de gemeente", "werkproces",
                                       f.last, terms(ruleset, f.last), workflow_id=f.id))
        last_outside = outside.get(y.id)
        if last_outside is not None and ruleset is not None:
            records.append(_record("verstrekkingen buiten een casus", "verstrekking",
                                   last_outside, terms(ruleset, last_outside)))
        if not cases.get(y.id) and ruleset is not None:
            registered = y.created_at.date()
            records.append(_record("registratie van de jongere en de ouders", "registratie",
                                   registered, terms(ruleset, registered)))
        for r in holds.get(y.id, ()):
            blockers.append({"kind": "legal_hold", "request_id": r.id,
                             "until": r.ends_on.isoformat() if r.ends_on else None,
                             "message": f"er geldt een beperking van het gebruik (verzoek "
                                        f"{r.id}): {rights.RESTRICTION_REASONS[r.scope['reason']]}"
                                        "; zolang die geldt, blijven de gegevens bewaard"})
        dated = [r for r in records if r["keep_until"] is not None]
        last = max(dated, key=lambda r: r["keep_until"]) if dated else None
        keep_until = last["keep_until"] if last and len(dated) == len(records) else None
        waiting = [r for r in dated if dt.date.fromisoformat(r["keep_until"]) > today]
        due = not blockers and not waiting and last is not None
        if due:
            reason = (f"Alle bewaartermijnen zijn voorbij: de laatste liep tot "
                      f"{dutch_date(dt.date.fromisoformat(last['keep_until']))} "
                      f"({last['what']}, {last['years']} jaar na "
                      f"{labels.RETENTION_BASIS[last['basis']]}; regel {last['rule']}). "
                      "De gegevens worden vernietigd.")
        else:
            parts = [b["message"] for b in blockers]
            parts += [f"{r['what']} blijft bewaard tot "
                      f"{dutch_date(dt.date.fromisoformat(r['keep_until']))} ({r['years']} "
                      f"jaar na {labels.RETENTION_BASIS[r['basis']]}; regel {r['rule']})"
                      for r in sorted(waiting, key=lambda r: r["keep_until"], reverse=True)]
            reason = "Bewaren: " + "; ".join(parts) + "."
        out.append({**base, "action": "shred" if due else "keep", "due": due,
                    "keep_until": keep_until, "rule": last["rule"] if last else None,
                    "records": records, "blockers": blockers, "reason": reason})
    return out


def plan(u: Unit, region_code: str | None = None) -> list[dict]:
    """What the retention run would do on the unit's day (`u.today`, which may lie ahead),
    per youth (of one region or all); the administrator's (access.require_admin): every
    youth whose key is still there, with the records Deelwijs holds about them, each with
    the engine's keep_until and rule; what keeps them (`blockers`); `due` and `action`
    ("shred" or "keep"); and a Dutch `reason`. Youths shredded earlier (on request) whose
    ciphertext is still stored come with action "wipe". Reads only."""
    session, app, today = u.session, u.app, u.today
    access.require_admin(u, "Het plan van de vernietigingsronde")
    _check_day(today)
    terms = _Terms()
    out: list[dict] = []
    for region in _regions(session, region_code):
        out.extend(_plan_region(session, app, region, today, terms))
    return out


# --- the run -------------------------------------------------------------------------------

WIPED = ("youth", "guardian", "disclosure_item", "minute", "youth_correction", "casus",
         "meeting", "agenda_item", "action", "exception_record", "workflow_step")


def _apply(session: Session, model, where: list, values: dict, dry_run: bool) -> int:
    if dry_run:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0
    result = session.execute(update(model).where(*where).values(**values)
                             .execution_options(synchronize_session=False))
    return result.rowcount or 0


def wipe(session: Session, youth_id: int, dry_run: bool = False) -> dict[str, int]:
    """Empty the youth's ciphertext (unreadable once the key is gone) and the plaintext twins
    of the free text about the youth (minutes, disclosure contents, case titles, agendas and
    their items, actions, weighing answers, workflow notes; plaintext is there only in rows
    written before revision 0003 or while a case was anonymous): NULL where the column allows
    it, else empty. Returns the rows changed (or, in a dry run, that would change) per
    table."""
    case_ids = select(orm.Case.id).where(orm.Case.youth_id == youth_id)
    items = select(orm.DisclosureItem.id).join(
        orm.Disclosure, orm.Disclosure.id == orm.DisclosureItem.disclosure_id).where(
        or_(orm.Disclosure.youth_id == youth_id, orm.Disclosure.case_id.in_(case_ids)))
    minutes = select(orm.AgendaItem.id).join(
        orm.Meeting, orm.Meeting.id == orm.AgendaItem.meeting_id).where(
        orm.Meeting.case_id.in_(case_ids))
    meeting_ids = select(orm.Meeting.id).where(orm.Meeting.case_id.in_(case_ids))
    return {
        "youth": _apply(session, orm.Youth, [
            orm.Youth.id == youth_id,
            or_(func.length(orm.Youth.name_enc) > 0, func.length(orm.Youth.birth_enc) > 0)],
            {"name_enc": b"", "birth_enc": b""}, dry_run),
        "guardian": _apply(session, orm.Guardian, [
            orm.Guardian.youth_id == youth_id, func.length(orm.Guardian.name_enc) > 0],
            {"name_enc": b""}, dry_run),
        "disclosure_item": _apply(session, orm.DisclosureItem, [
            orm.DisclosureItem.id.in_(items),
            or_(orm.DisclosureItem.content_enc.is_not(None),
                orm.DisclosureItem.content.is_not(None))],
            {"content_enc": None, "content": None}, dry_run),
        "minute": _apply(session, orm.Minute, [
            orm.Minute.agenda_item_id.in_(minutes),
            or_(orm.Minute.text_enc.is_not(None), orm.Minute.text != "")],
            {"text_enc": None, "text": "", "version": orm.Minute.version + 1}, dry_run),
        "youth_correction": _apply(session, orm.YouthCorrection, [
            orm.YouthCorrection.youth_id == youth_id,
            or_(orm.YouthCorrection.old_enc.is_not(None),
                orm.YouthCorrection.new_enc.is_not(None))],
            {"old_enc": None, "new_enc": None}, dry_run),
        "casus": _apply(session, orm.Case, [
            orm.Case.id.in_(case_ids),
            or_(orm.Case.title_enc.is_not(None), orm.Case.title != "")],
            {"title_enc": None, "title": "", "version": orm.Case.version + 1}, dry_run),
        "meeting": _apply(session, orm.Meeting, [
            orm.Meeting.id.in_(meeting_ids),
            or_(orm.Meeting.agenda_enc.is_not(None), orm.Meeting.agenda != "")],
            {"agenda_enc": None, "agenda": "", "version": orm.Meeting.version + 1}, dry_run),
        "agenda_item": _apply(session, orm.AgendaItem, [
            orm.AgendaItem.meeting_id.in_(meeting_ids),
            or_(orm.AgendaItem.title_enc.is_not(None), orm.AgendaItem.title != "")],
            {"title_enc": None, "title": ""}, dry_run),
        "action": _apply(session, orm.Action, [
            orm.Action.meeting_id.in_(meeting_ids),
            or_(orm.Action.description_enc.is_not(None), orm.Action.description != "")],
            {"description_enc": None, "description": ""}, dry_run),
        "exception_record": _apply(session, orm.ExceptionRecord, [
            orm.ExceptionRecord.case_id.in_(case_ids),
            or_(orm.ExceptionRecord.answers_enc.is_not(None),
                cast(orm.ExceptionRecord.answers, Text) != "[]")],
            {"answers_enc": None, "answers": []}, dry_run),
        "workflow_step": _wipe_notes(session, youth_id, dry_run),
    }


def _wipe_notes(session: Session, youth_id: int, dry_run: bool) -> int:
    """The notes of the youth's workflow steps: encrypted (note_enc) or, written before
    revision 0003, in the step's details."""
    steps = session.scalars(select(orm.WorkflowStep).join(
        orm.Workflow, orm.Workflow.id == orm.WorkflowStep.workflow_id).where(
        orm.Workflow.youth_id == youth_id)).all()
    changed = [st for st in steps if st.note_enc is not None or "note" in (st.details or {})]
    if not dry_run:
        for st in changed:
            st.note_enc = None
            st.details = {k: v for k, v in (st.details or {}).items() if k != "note"}
        session.flush()
    return len(changed)


def _prune_log(session: Session, region: orm.Region, cutoff: dt.datetime, dry_run: bool
               ) -> int:
    n = audit.prune(session, region.id, cutoff, dry_run)
    if n and not dry_run:
        audit.log_system(session, region_id=region.id, name="verwerkingslog", actie="erase",
                         handeling=PRUNE_REASON,
                         extra={"opgeschoond": {"regels": n, "geregistreerd_voor":
                                                cutoff.isoformat(),
                                                "bewaartermijn": audit.LOG_RETENTION}})
    return n


def run(u: Unit, dry_run: bool, progress: Progress | None = None,
        region_code: str | None = None) -> dict:
    """Apply the plan of the unit's day (`u.today`), as the operator of the installation
    (access.require_operator: it runs over every region): crypto-shred every due youth
    (rights.shred_youth), empty their ciphertext (`wipe`), finish the wiping of youths
    shredded earlier, and remove the bodies of log entries past audit.LOG_RETENTION (the
    rows and leaf hashes stay). Each destruction is logged ("erase", activity
    "registratie", with the engine's rule and keep_until); the log pruning once per region
    ("verwerkingslog").

    A dry run computes the same counts and writes nothing. `u.today` may not lie after the
    real date for a real run (that would destroy data before its term). `progress(done,
    total)` is called as youths are handled. Returns the counts and the handled youths."""
    session, app, today = u.session, u.app, u.today
    access.require_operator(u, "De vernietigingsronde")
    _check_day(today)
    if not isinstance(dry_run, bool):
        raise Invalid("wrong_type", "geef aan of dit een proefronde is (dry_run)", "dry_run")
    if not dry_run and today > dt.date.today():
        raise Invalid("invalid_date", f"{today.isoformat()} ligt in de toekomst: dan zou "
                      "Deelwijs gegevens vernietigen die nog bewaard moeten worden. Kijk "
                      "vooruit met een proefronde (--dry-run)", "today")
    regions = _regions(session, region_code)
    terms = _Terms()
    entries: list[dict] = []
    for region in regions:
        entries.extend(_plan_region(session, app, region, today, terms))
    handled = [e for e in entries if e["due"]]
    tick = progress or (lambda done, total: None)
    tick(0, len(handled))
    wiped = dict.fromkeys(WIPED, 0)
    shredded = cleaned = 0
    for done, entry in enumerate(handled, 1):
        counts = wipe(session, entry["youth_id"], dry_run)
        for k, v in counts.items():
            wiped[k] += v
        entry["wiped"] = counts
        if entry["action"] == "shred":
            shredded += 1
            if not dry_run:
                youth = session.get(orm.Youth, entry["youth_id"])
                rights.shred_youth(session, youth, SHRED_REASON, extra={
                    "regel": entry["rule"], "bewaren_tot": entry["keep_until"],
                    "ruleset_digest": entry["ruleset"]["digest"],
                    "bewaartermijnen": [{k: r[k] for k in ("what", "basis", "ended_on",
                                                          "keep_until", "rule")}
                                        for r in entry["records"]],
                    "gewist": counts})
        else:
            cleaned += 1
            if not dry_run:
                youth = session.get(orm.Youth, entry["youth_id"])
                audit.log_system(session, region_id=youth.region_id, name="registratie",
                                 actie="erase", youth_id=youth.id,
                                 categories=["identificatie"], handeling=WIPE_REASON,
                                 extra={"gewist": counts})
        tick(done, len(handled))
    cutoff = log_cutoff(today)
    pruned = sum(_prune_log(session, region, cutoff, dry_run) for region in regions)
    if not dry_run:
        session.flush()
        # the run's entries under a checkpoint (also in the witness file) before it ends
        audit.checkpoint_all(session, app.keys, [r.id for r in regions])
    return {
        "on": today.isoformat(), "dry_run": dry_run, "regions": [r.code for r in regions],
        "checked": len(entries), "due": len(handled), "shredded": shredded,
        "cleaned": cleaned, "kept": len(entries) - len(handled), "wiped": wiped,
        "log_retention": audit.LOG_RETENTION, "log_cutoff": cutoff.isoformat(),
        "log_pruned": pruned, "youths": handled,
    }
