"""Running a region's covenant: the look-ups and views the management commands need on top
of registry, cases and youths.

The checks themselves (a signatory, a school, a youth or a professional from another
organisation or region, a minute, an action or a weighing by someone outside the case, text
too long for its column) live in those services, so that the CLI, the web app and the API
refuse the same input with the same message. What is left here turns the ids a user types
into records (NotFound with a field) and adds the CLI's conveniences. Every failure is a
ServiceError with a field, so nothing is written.
"""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from deelwijs.domain import exceptions as exc_domain
from deelwijs.rules import loader
from deelwijs.services import audit, cases, registry, youths
from deelwijs.services.app import App, version_problems
from deelwijs.services.errors import Invalid, NotFound, Refused
from deelwijs.services.youth_text import Texts
from deelwijs.storage import orm


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


# --- regions and rulesets ------------------------------------------------------------------


def region_view(region: orm.Region) -> dict:
    return {"id": region.id, "code": region.code, "name": region.name,
            "wams_in_force": bool(region.wams_in_force),
            # the controller and its FG, named in a parent's inzage (None: not recorded)
            **{name: getattr(region, name) for name in registry.CONTROLLER_FIELDS}}


def list_regions(session: Session) -> list[dict]:
    return [region_view(r) for r in session.scalars(select(orm.Region).order_by(orm.Region.code))]


def activate_ruleset(session: Session, region: orm.Region, name: str, on: dt.date
                     ) -> orm.RulesetActivation:
    """registry.activate_ruleset for a built-in id or a file; a ruleset stored in the database
    is also found by its digest (sha256:…) or id, as `deelwijs decide --ruleset` finds it."""
    try:
        registry.activate_ruleset(session, region, name, on)
    except loader.RulesetError as exc:
        if exc.problems[0].code != "not_found":
            raise
        stored = session.scalars(select(orm.RulesetVersion).where(
            (orm.RulesetVersion.digest == name) | (orm.RulesetVersion.ruleset_id == name))
            .order_by(orm.RulesetVersion.id.desc()).limit(1)).first()
        if stored is None:
            ids = ", ".join(loader.builtin_ids())
            raise NotFound("not_found", f"onbekende ruleset '{name}': geen ingebouwd id "
                           f"({ids}), geen bestand en geen opgeslagen versie", "ruleset"
                           ) from None
        problems = version_problems(lambda: loader.from_document(
            json.loads(stored.source), f"ruleset {stored.digest}"), stored.digest)
        if problems:
            more = f" (en nog {len(problems) - 1})" if len(problems) > 1 else ""
            raise Refused(
                "ruleset_invalid",
                f"opgeslagen ruleset {stored.ruleset_id} {stored.version} ({stored.digest}) "
                f"voldoet niet aan de controles van deze Deelwijs en wordt niet geactiveerd: "
                f"{problems[0]}{more}. Activeer het model of een regionaal bestand dat "
                "deelwijs rules check goedkeurt.", "ruleset") from None
        session.add(orm.RulesetActivation(region_id=region.id, ruleset_version_id=stored.id,
                                          activated_on=on))
        session.flush()
    return session.scalars(select(orm.RulesetActivation)
                           .where(orm.RulesetActivation.region_id == region.id)
                           .order_by(orm.RulesetActivation.id.desc()).limit(1)).one()


def activation_view(session: Session, row: orm.RulesetActivation, active_id: int | None = None
                    ) -> dict:
    version = session.get(orm.RulesetVersion, row.ruleset_version_id)
    out = {"id": row.id, "activated_on": row.activated_on.isoformat(),
           "ruleset_id": version.ruleset_id, "version": version.version,
           "digest": version.digest}
    if active_id is not None:
        out["active"] = row.id == active_id
    return out


def activations(session: Session, region: orm.Region, today: dt.date) -> list[dict]:
    """The region's activations, newest first; `active` marks the one in force today."""
    rows = session.scalars(select(orm.RulesetActivation)
                           .where(orm.RulesetActivation.region_id == region.id)
                           .order_by(orm.RulesetActivation.activated_on.desc(),
                                     orm.RulesetActivation.id.desc())).all()
    active = next((r.id for r in rows if r.activated_on <= today), None)
    return [activation_view(session, r, active if active is not None else -1) for r in rows]


# --- organisations: signatures and mandates -------------------------------------------------


def sign(session: Session, app: App, org: orm.Organisation, on: dt.date,
         signatory_id: int | None = None, on_behalf_of_id: int | None = None
         ) -> orm.CovenantSignature:
    """The organisation signs the ruleset version its region has in force on the day
    (registry.sign_covenant checks the signatory and the board signed for)."""
    signatory = None
    if signatory_id is not None:
        signatory = session.get(orm.Signatory, signatory_id)
        if signatory is None:
            raise NotFound("not_found", f"onbekende ondertekenaar ({signatory_id})",
                           "signatory")
    behalf = None
    if on_behalf_of_id is not None:
        behalf = registry.organisation(session, on_behalf_of_id, "on_behalf_of")
    try:
        version, _ = app.active_ruleset(session, org.region_id, on)
    except NotFound as exc:
        raise NotFound(exc.code, exc.message, "on") from None
    return registry.sign_covenant(session, org, version, on, signatory, behalf)


def signature_view(session: Session, row: orm.CovenantSignature) -> dict:
    version = session.get(orm.RulesetVersion, row.ruleset_version_id)
    return {"id": row.id, "organisation_id": row.organisation_id,
            "signed_on": row.signed_on.isoformat(), "signatory_id": row.signatory_id,
            "on_behalf_of": row.on_behalf_of_id, "ruleset_id": version.ruleset_id,
            "ruleset_version": version.version, "digest": version.digest}


def grant_mandate(session: Session, school: orm.Organisation, swv: orm.Organisation,
                  on: dt.date, document_ref: str) -> orm.Mandate:
    return registry.grant_mandate(session, school, swv, on, document_ref)


def mandate_view(row: orm.Mandate) -> dict:
    return {"id": row.id, "school": row.school_id, "swv": row.swv_id,
            "granted_on": row.granted_on.isoformat(), "document_ref": row.document_ref,
            "revoked_on": _iso(row.revoked_on)}


def signatory_view(row: orm.Signatory) -> dict:
    return {"id": row.id, "organisation_id": row.organisation_id, "name": row.name,
            "function": row.function}


# --- professionals -------------------------------------------------------------------------


def professional_view(row: orm.Professional) -> dict:
    return {"id": row.id, "organisation_id": row.organisation_id, "name": row.name,
            "function": row.function, "hats": list(row.hats or []), "active": row.active}


def list_professionals(session: Session, org: orm.Organisation) -> list[dict]:
    rows = session.scalars(select(orm.Professional)
                           .where(orm.Professional.organisation_id == org.id)
                           .order_by(orm.Professional.id))
    return [professional_view(p) for p in rows]


# --- youths --------------------------------------------------------------------------------


def create_youth(session: Session, app: App, region: orm.Region, name: str, birth: dt.date,
                 today: dt.date, bsn: str | None, school_id: int | None,
                 guardians: list[dict], by: orm.Professional | None = None,
                 startkwalificatie: bool = False) -> orm.Youth:
    school = None
    if school_id is not None:
        school = registry.organisation(session, school_id, "school")
    return youths.create_youth(session, app.keys, region, name, birth, today, bsn=bsn,
                               school=school, guardians=guardians, by=by,
                               startkwalificatie=startkwalificatie)


# --- cases ---------------------------------------------------------------------------------


def open_case(session: Session, app: App, region: orm.Region, title: str, purpose: str,
              participants: list[int], by: orm.Professional, on: dt.date,
              youth_id: int | None) -> orm.Case:
    youth = youths.get_youth(session, youth_id) if youth_id is not None else None
    try:
        _, ruleset = app.active_ruleset(session, region.id, on)
    except NotFound as exc:
        raise NotFound(exc.code, exc.message, "on") from None
    return cases.open_case(session, ruleset, region, title, purpose, participants, by, on,
                           youth=youth)


def case_view(session: Session, case: orm.Case) -> dict:
    return {"id": case.id, "region_id": case.region_id, "title": cases.case_title(session, case),
            "purpose": case.purpose, "overleg": case.overleg, "anonymous": case.anonymous,
            "youth_id": case.youth_id, "opened_on": case.opened_on.isoformat(),
            "created_by": case.created_by_id, "version": case.version,
            "participants": [{"id": o.id, "party": o.party, "name": o.name}
                             for o in cases.participants(session, case)]}


def read_case(session: Session, case_id: int, by: orm.Professional | None = None) -> dict:
    """One case with its participants, meetings (agenda, actions) and disclosures, its free
    text decrypted, for someone to read: about an identifiable youth the read is logged."""
    from deelwijs.services import disclosures

    case = cases.get_case(session, case_id)
    texts = Texts.for_case(session, case)
    meetings = session.scalars(select(orm.Meeting).where(orm.Meeting.case_id == case.id)
                               .order_by(orm.Meeting.held_on, orm.Meeting.id)).all()
    out = {"id": case.id, "title": cases.case_title(session, case, texts),
           "purpose": case.purpose, "overleg": case.overleg, "anonymous": case.anonymous,
           "youth_id": case.youth_id, "opened_on": case.opened_on, "version": case.version,
           "participants": [{"id": o.id, "party": o.party, "name": o.name}
                            for o in cases.participants(session, case)],
           "meetings": [{"id": m.id, "held_on": m.held_on, "version": m.version,
                         "agenda": cases.meeting_agenda(session, m, texts),
                         "actions": [{"description": cases.action_description(texts, a),
                                      "owner": a.owner_id, "due_on": a.due_on,
                                      "evaluate_on": a.evaluate_on}
                                     for a in session.scalars(select(orm.Action).where(
                                         orm.Action.meeting_id == m.id)
                                         .order_by(orm.Action.id))]}
                        for m in meetings],
           "disclosures": [disclosures.view(session, d) for d in session.scalars(
               select(orm.Disclosure).where(orm.Disclosure.case_id == case.id)
               .order_by(orm.Disclosure.id))]}
    _log_case_read(session, case, texts, by, "Inzien casus")
    return out


def list_cases(session: Session, region: orm.Region, limit: int = 50,
               by: orm.Professional | None = None) -> list[dict]:
    """A page of the region's cases with their titles decrypted: one read logged per case
    about an identifiable youth shown."""
    rows = session.scalars(select(orm.Case).where(orm.Case.region_id == region.id)
                           .order_by(orm.Case.id).limit(limit)).all()
    out = []
    for case in rows:
        texts = Texts.for_case(session, case)
        out.append({"id": case.id, "purpose": case.purpose, "overleg": case.overleg,
                    "anonymous": case.anonymous, "youth_id": case.youth_id,
                    "title": cases.case_title(session, case, texts)})
        _log_case_read(session, case, texts, by, "Raadplegen lijst casussen")
    return out


def _log_case_read(session: Session, case: orm.Case, texts: Texts,
                   by: orm.Professional | None, handeling: str) -> None:
    if not texts.identifiable or texts.shredded:  # nothing about a person to read
        return
    audit.log_system(session, region_id=case.region_id, name=case.purpose, actie="read",
                     youth_id=case.youth_id, categories=[], professional=by,
                     uitvoerder=session.get(orm.Organisation, by.organisation_id) if by else None,
                     handeling=handeling, verwerking=f"Casusoverleg {case.purpose}",
                     verwerking_id=f"deelwijs:casus:{case.id}")


def meeting_view(session: Session, meeting: orm.Meeting) -> dict:
    items = session.scalars(select(orm.AgendaItem).where(orm.AgendaItem.meeting_id == meeting.id)
                            .order_by(orm.AgendaItem.position, orm.AgendaItem.id)).all()
    pros = session.scalars(select(orm.MeetingParticipant.professional_id).where(
        orm.MeetingParticipant.meeting_id == meeting.id)).all()
    texts = cases.texts_of_meeting(session, meeting)
    return {"id": meeting.id, "case_id": meeting.case_id, "held_on": meeting.held_on.isoformat(),
            "version": meeting.version,
            "agenda": [{"id": i.id, "position": i.position, "title": cases.item_title(texts, i)}
                       for i in items],
            "participants": sorted(pros)}


def update_meeting(session: Session, meeting_id: int, expected_version: int,
                   held_on: dt.date | None, agenda: list[str] | None) -> orm.Meeting:
    """cases.update_meeting: the agenda items follow a new agenda (an item that stays keeps
    its id and minutes; one with a minute cannot be left out)."""
    return cases.update_meeting(session, meeting_id, expected_version, held_on,
                                list(agenda) if agenda is not None else None)


def minute_target(session: Session, agenda_item_id: int, minute_id: int | None) -> int:
    """The minute of an agenda item to change: the one named, else the item's newest."""
    if minute_id is not None:
        minute = session.get(orm.Minute, minute_id)
        if minute is None or minute.agenda_item_id != agenda_item_id:
            raise NotFound("not_found", f"onbekend verslag bij dit agendapunt ({minute_id})",
                           "minute")
        return minute.id
    found = session.scalars(select(orm.Minute.id).where(orm.Minute.agenda_item_id ==
                                                        agenda_item_id)
                            .order_by(orm.Minute.id.desc()).limit(1)).first()
    if found is None:
        raise NotFound("not_found", "dit agendapunt heeft nog geen verslag (laat --version weg "
                       "voor een nieuw verslag)", "minute")
    return found


def write_minute(session: Session, agenda_item_id: int, text: str, by: orm.Professional,
                 expected_version: int | None = None, minute_id: int | None = None
                 ) -> orm.Minute:
    """cases.write_minute (which checks that the writer takes part in the case); with a
    version but no minute id, the item's newest minute is the one changed."""
    item = session.get(orm.AgendaItem, agenda_item_id)
    if item is None:
        raise NotFound("not_found", f"onbekend agendapunt ({agenda_item_id})", "agenda_item")
    if expected_version is None:
        if minute_id is not None:
            raise Invalid("missing_field", "noem bij een bestaand verslag de versie die u zag",
                          "expected_version")
        return cases.write_minute(session, agenda_item_id, text, by)
    target = minute_target(session, agenda_item_id, minute_id)
    return cases.write_minute(session, agenda_item_id, text, by, target, expected_version)


def minute_view(session: Session, row: orm.Minute) -> dict:
    return {"id": row.id, "agenda_item_id": row.agenda_item_id, "version": row.version,
            "text": cases.minute_text(session, row), "updated_by": row.updated_by_id}


def add_action(session: Session, meeting_id: int, owner: orm.Professional, description: str,
               due_on: dt.date, evaluate_on: dt.date | None) -> orm.Action:
    meeting = session.get(orm.Meeting, meeting_id)
    if meeting is None:
        raise NotFound("not_found", f"onbekend overleg ({meeting_id})", "meeting")
    return cases.add_action(session, meeting, owner, description, due_on, evaluate_on)


def action_view(session: Session, row: orm.Action) -> dict:
    texts = cases.texts_of_meeting(session, session.get(orm.Meeting, row.meeting_id))
    return {"id": row.id, "meeting_id": row.meeting_id, "owner": row.owner_id,
            "description": cases.action_description(texts, row),
            "due_on": row.due_on.isoformat(),
            "evaluate_on": _iso(row.evaluate_on), "done_on": _iso(row.done_on)}


def record_accession(session: Session, case: orm.Case, org: orm.Organisation,
                     signed_on: dt.date, document_ref: str, notified_on: dt.date | None
                     ) -> orm.AccessionForm:
    """registry.record_accession: a form by one of the case's participating organisations."""
    return registry.record_accession(session, org, case, signed_on, document_ref, notified_on)


def accession_view(row: orm.AccessionForm) -> dict:
    return {"id": row.id, "organisation_id": row.organisation_id, "case_id": row.case_id,
            "signed_on": row.signed_on.isoformat(), "notified_on": _iso(row.notified_on),
            "document_ref": row.document_ref}


def record_weighing(session: Session, case: orm.Case, kind: str, answers: dict[str, str],
                    by: orm.Professional, at: dt.datetime, to_org_ids: list[int],
                    categories: list[str], valid_until: dt.date | None) -> dict:
    """cases.record_exception, with what is still missing for a complete weighing."""
    row = cases.record_exception(session, case, kind, answers, by, at, to_org_ids=to_org_ids,
                                 categories=categories, valid_until=valid_until)
    return _weighing_view(row, answers, Texts.for_case(session, case))


def record_youth_weighing(session: Session, youth_id: int, kind: str, answers: dict[str, str],
                          by: orm.Professional, at: dt.datetime, to_org_ids: list[int],
                          categories: list[str], valid_until: dt.date | None) -> dict:
    """cases.record_youth_weighing (a weighing about a youth outside a case), with what is
    still missing for a complete weighing."""
    youth = youths.get_youth(session, youth_id)
    row = cases.record_youth_weighing(session, youth, kind, answers, by, at,
                                      to_org_ids=to_org_ids, categories=categories,
                                      valid_until=valid_until)
    return _weighing_view(row, answers, Texts.for_youth(session, youth.id))


def _weighing_view(row: orm.ExceptionRecord, answers: dict[str, str], texts: Texts) -> dict:
    kind = row.kind
    unanswered = [{"key": k, "question": q} for k, q, _ in exc_domain.QUESTIONS[kind]
                  if not str(answers.get(k, "")).strip()]
    _, problems = exc_domain.check_answers(kind, answers)
    return {"id": row.id, "case_id": row.case_id, "youth_id": row.youth_id, "kind": kind,
            "label": exc_domain.LABEL_NL[kind], "complete": row.complete,
            "recorded_by": row.recorded_by_id, "recorded_at": row.recorded_at.isoformat(),
            "to_org_ids": list(row.to_org_ids or []), "categories": list(row.categories or []),
            "valid_until": _iso(row.valid_until),
            "answers": [{"key": a["key"], "question": a["question"], "answer": a["answer"]}
                        for a in cases.exception_answers(texts, row)],
            "unanswered": unanswered, "problems": problems}


# --- the municipal workflow ----------------------------------------------------------------


def open_workflow(session: Session, youth_id: int, by: orm.Professional) -> orm.Workflow:
    """cases.open_workflow in the youth's region (which checks the professional's)."""
    youth = youths.get_youth(session, youth_id)
    region = session.get(orm.Region, youth.region_id)
    return cases.open_workflow(session, region, youth, by)


def get_workflow(session: Session, workflow_id: int) -> orm.Workflow:
    row = session.get(orm.Workflow, workflow_id)
    if row is None:
        raise NotFound("not_found", f"onbekend werkproces ({workflow_id})", "workflow")
    return row


def take_step(session: Session, workflow_id: int, expected_version: int, step: str,
              details: dict, by: orm.Professional, on: dt.date, *,
              today: dt.date | None = None) -> orm.Workflow:
    """cases.take_step (which checks the regions of `by` and the coordinator, and the date:
    not before the previous step, and not after `today` when given)."""
    get_workflow(session, workflow_id)
    return cases.take_step(session, workflow_id, expected_version, step, details, by, on,
                           today=today)
