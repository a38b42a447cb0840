"""Consent records: append-only and versioned. A change or withdrawal is a new version; the
old one stays. The engine's consent facts are derived from these for each disclosure.

The use cases (record, change, history) take a `Unit` (services/context.py) first: the
professional who records (`u.professional`, or the administrator) and the day that is "now"
(`u.today`: an answer is not dated after it) come from it. consent_rule,
check_who_answers, latest, version_of and versions_for are building blocks on a session."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import bindparam, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from deelwijs.domain import codes
from deelwijs.domain.consent import ConsentVersion, age_on
from deelwijs.domain.engine import required_consenters
from deelwijs.domain.ruleset import ConsentRule
from deelwijs.services import access, rulesets
from deelwijs.services.casus import youths
from deelwijs.services.context import Unit
from deelwijs.services.covenant.registry import checked_text, limit_of
from deelwijs.services.errors import Conflict, Invalid, NotFound, Refused
from deelwijs.services.log import audit, binding
from deelwijs.storage import orm


def _check_scope(purposes, categories, recipient_ids) -> None:
    if not purposes:
        raise Invalid("missing_field", "toestemming geldt voor ten minste één doel", "purposes")
    for p in purposes:
        if p not in codes.PURPOSES:
            raise Invalid("unknown_code", f"onbekend doel '{p}'", "purposes")
    if not categories:
        raise Invalid("missing_field", "toestemming geldt voor ten minste één "
                      "gegevenscategorie", "categories")
    for c in categories:
        if c not in codes.CATEGORIES:
            raise Invalid("unknown_code", f"onbekende gegevenscategorie '{c}'", "categories")
    if any(not isinstance(r, int) for r in recipient_ids):
        raise Invalid("wrong_type", "ontvangers zijn organisatie-id's", "recipient_ids")


# --- whose consent counts at the youth's age on the day it is given -------------------------

def consent_rule(session: Session, region_id: int, on: dt.date) -> ConsentRule:
    """The consent ages (`youth_and_parents_from`, `youth_alone_from`) in force on `on`."""
    return rulesets.in_force(session, region_id, on).consent


def _birth(session: Session, youth: orm.Youth) -> dt.date:
    if youth.key_wrapped is None:
        raise Invalid("shredded", "de gegevens van deze jongere zijn vernietigd", "youth")
    return youths.birth_of(audit.keys_of(session), youth)


def check_who_answers(session: Session, youth: orm.Youth, role: str, on: dt.date,
                      field: str = "given_on", birth: dt.date | None = None) -> None:
    """Consent is given on or after the youth's birth, by someone whose consent the rules ask
    for at the youth's age that day: under 12 the parents with gezag (not the child), from 12
    the parents and the youth, from 16 the youth alone (the parents' answer is refused, not
    stored as irrelevant: it would read as consent that counts)."""
    birth = birth or _birth(session, youth)
    if on < birth:
        raise Invalid("before_birth", f"de datum van de toestemming ({on.isoformat()}) ligt "
                      f"vóór de geboortedatum van de jongere ({birth.isoformat()})", field)
    age = age_on(birth, on)
    ruleset = rulesets.in_force(session, youth.region_id, on)
    rule = ruleset.consent
    counts = required_consenters(age, ruleset)
    if role == "youth" and "youth" not in counts:
        raise Refused("too_young", f"De jongere was {age} jaar op {on.isoformat()}. Onder de "
                      f"{rule.youth_and_parents_from} jaar geeft een kind zelf geen "
                      "toestemming: de ouders met gezag beslissen. Leg hun antwoord vast "
                      "(--role parent).", "role")
    if role == "parent" and "parents" not in counts:
        raise Refused("youth_decides", f"De jongere was {age} jaar op {on.isoformat()}. "
                      f"Vanaf {rule.youth_alone_from} jaar beslist de jongere zelf over "
                      "toestemming; het antwoord van de ouders telt dan niet. Leg het "
                      "antwoord van de jongere vast (--role youth).", "role")


def record(u: Unit, youth: orm.Youth, role: str, answer: str, purposes: list[str],
           categories: list[str], given_on: dt.date, written: bool = True,
           recipient_ids: list[int] | None = None, guardian_id: int | None = None,
           document_ref: str | None = None, prior_to_meeting_id: int | None = None
           ) -> orm.ConsentRecord:
    """Record a new consent or refusal (version 1 of a new series), given on `given_on` (not
    after `u.today`), recorded by the acting professional (of the youth's region) or the
    operator; a professional of an organisation that is no covenant party, an FG,
    administrator's account, parent or youth is refused (403; the answer of a parent or
    youth is recorded by the professional who received it)."""
    session, today, recorded_by = u.session, u.today, u.professional
    access.require_party(u, "toestemming vastleggen")
    access.require_region(u, youth.region_id, "by", "de regio van deze jongere")
    if role not in ("parent", "youth"):
        raise Invalid("unknown_code", "rol is 'parent' (ouder met gezag) of 'youth'", "role")
    if answer not in ("given", "refused"):
        raise Invalid("unknown_code", "antwoord is 'given' of 'refused'", "answer")
    if given_on > today:
        raise Invalid("date_in_future", "de datum van toestemming ligt in de toekomst",
                      "given_on")
    check_who_answers(session, youth, role, given_on)
    recipient_ids = list(recipient_ids or [])
    _check_scope(purposes, categories, recipient_ids)
    for rid in recipient_ids:
        recipient = session.get(orm.Organisation, rid)
        if recipient is None:
            raise NotFound("not_found", f"onbekende organisatie ({rid})", "recipient_ids")
        if recipient.region_id != youth.region_id:
            raise Invalid("other_region", f"{recipient.name} hoort niet bij de regio van deze "
                          "jongere", "recipient_ids")
    if role == "parent":
        guardian = session.get(orm.Guardian, guardian_id) if guardian_id else None
        if guardian is None or guardian.youth_id != youth.id:
            raise Invalid("unknown_guardian", "kies een ouder of voogd van deze jongere",
                          "guardian_id")
        if not guardian.has_gezag:
            raise Invalid("no_gezag", "deze ouder heeft geen gezag; alleen ouders met gezag "
                          "geven toestemming", "guardian_id")
    elif guardian_id is not None:
        raise Invalid("unexpected_guardian", "toestemming van de jongere zelf heeft geen ouder",
                      "guardian_id")
    missing = "schriftelijke toestemming heeft een documentverwijzing" if written else None
    document_ref = checked_text(document_ref, "document_ref", "de documentverwijzing",
                                limit_of(orm.ConsentRecord.document_ref), missing=missing)
    if prior_to_meeting_id is not None:
        meeting = session.get(orm.Meeting, prior_to_meeting_id)
        if meeting is None:
            raise NotFound("not_found", "onbekend overleg", "prior_to_meeting_id")
        if given_on >= meeting.held_on:
            raise Invalid("not_prior", "deze toestemming is niet vóór het overleg gegeven",
                          "given_on")
    row = orm.ConsentRecord(
        youth_id=youth.id, series=str(uuid.uuid4()), version=1, role=role,
        guardian_id=guardian_id, answer=answer, purposes=list(purposes),
        categories=list(categories), recipient_ids=recipient_ids, written=written,
        document_ref=document_ref, given_on=given_on, prior_to_meeting_id=prior_to_meeting_id,
        recorded_by_id=recorded_by.id if recorded_by else None)
    session.add(row)
    session.flush()
    _log(session, youth, row, recorded_by)
    return row


def _log(session: Session, youth: orm.Youth, row: orm.ConsentRecord,
         pro: orm.Professional | None) -> None:
    audit.log_system(
        session, region_id=youth.region_id, name="registratie", actie="consent",
        youth_id=youth.id, categories=list(row.categories), professional=pro,
        handeling="Vastleggen toestemming" if row.version == 1 else "Wijzigen toestemming",
        uitvoerder=session.get(orm.Organisation, pro.organisation_id) if pro else None,
        extra={"toestemming": {"reeks": row.series, "versie": row.version,
                               "antwoord": row.answer, "rol": row.role,
                               "doelen": list(row.purposes)},
               # the row and its content, bound to the log (services.binding)
               binding.FIELD: binding.ref(binding.CONSENT, row.id,
                                          binding.consent_digest(row))})


def latest(session: Session, series: str) -> orm.ConsentRecord:
    row = session.scalars(select(orm.ConsentRecord).where(orm.ConsentRecord.series == series)
                          .order_by(orm.ConsentRecord.version.desc()).limit(1)).first()
    if row is None:
        raise NotFound("not_found", f"onbekende toestemming ({series})", "series")
    return row


def change(u: Unit, series: str, expected_version: int, answer: str,
           on: dt.date, document_ref: str | None = None) -> orm.ConsentRecord:
    """A new version of a consent: `withdrawn`, or a new `given`/`refused`. Works from `on`
    (not after `u.today`); recorded by the acting professional (or the administrator).

    `expected_version` is the version the professional saw; if someone changed it since, the
    change is refused with a conflict and nothing is written.
    """
    session, today, recorded_by = u.session, u.today, u.professional
    access.require_professional(u, "toestemming wijzigen")
    if answer not in ("given", "refused", "withdrawn"):
        raise Invalid("unknown_code", "antwoord is given, refused of withdrawn", "answer")
    if on > today:
        raise Invalid("date_in_future", "de datum ligt in de toekomst", "on")
    document_ref = checked_text(document_ref, "document_ref", "de documentverwijzing",
                                limit_of(orm.ConsentRecord.document_ref))
    current = latest(session, series)
    access.require_region(u, session.get(orm.Youth, current.youth_id).region_id, "by",
                          "de regio van deze jongere")
    if current.version != expected_version:
        raise Conflict("conflict", f"deze toestemming is intussen gewijzigd (versie "
                       f"{current.version}, u zag versie {expected_version}); laad opnieuw",
                       "expected_version")
    if on < current.given_on:
        raise Invalid("invalid_date", "een wijziging kan niet eerder ingaan dan de vorige "
                      "versie", "on")
    if answer != "withdrawn":  # a new answer: from someone it counts for that day
        check_who_answers(session, session.get(orm.Youth, current.youth_id), current.role, on,
                          "on")
    row = orm.ConsentRecord(
        youth_id=current.youth_id, series=series, version=current.version + 1,
        role=current.role, guardian_id=current.guardian_id, answer=answer,
        purposes=current.purposes, categories=current.categories,
        recipient_ids=current.recipient_ids, written=current.written,
        document_ref=document_ref or current.document_ref, given_on=on,
        prior_to_meeting_id=None, recorded_by_id=recorded_by.id if recorded_by else None)
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        raise Conflict("conflict", "deze toestemming is tegelijk door iemand anders "
                       "gewijzigd; laad opnieuw", "expected_version") from None
    _log(session, session.get(orm.Youth, row.youth_id), row, recorded_by)
    return row


# only the columns the consent facts use, as plain rows (no ORM objects to build), and the
# statement built once (table columns: plain Core, no ORM step): this runs for every
# disclosure. services.disclosures selects the same columns in its facts query.
_r = orm.ConsentRecord.__table__.c
VERSION_COLUMNS = (_r.series, _r.version, _r.role, _r.guardian_id, _r.answer, _r.purposes,
                   _r.categories, _r.recipient_ids, _r.written, _r.given_on)
_VERSIONS = select(*VERSION_COLUMNS).where(_r.youth_id == bindparam("youth_id"))


def version_of(x) -> ConsentVersion:
    """A row of VERSION_COLUMNS as the consent facts take it."""
    return ConsentVersion(x.series, x.version, x.role, x.guardian_id, x.answer,
                          frozenset(x.purposes), frozenset(x.categories),
                          frozenset(x.recipient_ids), x.written, x.given_on)


def versions_for(session: Session, youth_id: int) -> list[ConsentVersion]:
    return [version_of(x) for x in session.execute(_VERSIONS, {"youth_id": youth_id})]


def history(u: Unit, youth_id: int) -> list[dict]:
    """Every version of every consent of the youth, per series, oldest first, for an actor
    with need to know (access.require_youth). Reading it is logged in the actor's name (when
    there is something to read about a youth whose data are still there)."""
    youth = access.require_youth(u, youth_id)
    rows = u.session.scalars(select(orm.ConsentRecord)
                             .where(orm.ConsentRecord.youth_id == youth.id)
                             .order_by(orm.ConsentRecord.series, orm.ConsentRecord.version)
                             ).all()
    if rows and youth.key_wrapped is not None:
        pro = u.professional
        audit.log_system(
            u.session, region_id=youth.region_id, name="registratie", actie="read",
            youth_id=youth.id, categories=sorted({c for r in rows for c in r.categories}),
            professional=pro, handeling="Inzien toestemmingen",
            uitvoerder=u.session.get(orm.Organisation, pro.organisation_id) if pro else None)
    return [{"series": r.series, "version": r.version, "role": r.role,
             "guardian_id": r.guardian_id, "answer": r.answer, "purposes": r.purposes,
             "categories": r.categories, "recipient_ids": r.recipient_ids,
             "written": r.written, "document_ref": r.document_ref,
             "given_on": r.given_on.isoformat(), "recorded_at": r.recorded_at.isoformat()}
            for r in rows]


def count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(orm.ConsentRecord)) or 0
