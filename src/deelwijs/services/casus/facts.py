"""Every stored fact the engine reads: the one module that owns them (issue 12).

A disclosure's facts: each side's accession form and school mandate (`covenant/registry`'s SQL
facts), the written weighings (legal exceptions) that document it, the scope of the
resident's request for help (the municipal workflow), whether the youth has honoured
restrictions or objections, the guardians with gezag and the youth's consent versions.
`fact_columns` spells them as labelled SQL expressions, so that a disclosure in a case reads
all of them in its own one query (disclosures._context_query, with `CASE_SHAPE`), and one
without a case in one more (`read`, `stored_facts_query`); `from_row` turns the row into what
the engine's request is built from. Besides: the restrictions of processing (AVG art. 18) and
honoured objections (art. 21) in force on a day (`active_restrictions`,
`active_objections`), the kinds a complete weighing documents (`documented_for`,
`documented_for_youth`), the scope of the help request (`help_request_domains`).

They are recorded by cases.py, consent.py and rights/requests.py; the disclosures read them
here, so that the casus does not import the rights (the rights import the casus)."""

from __future__ import annotations

import datetime as dt
import functools
from typing import NamedTuple

from sqlalchemy import String, bindparam, cast, exists, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import ScalarSelect

from deelwijs.domain import exceptions as exc_domain
from deelwijs.services.casus import consent as consent_svc
from deelwijs.services.covenant import registry
from deelwijs.storage import fast, orm

HONOURED = ("toegewezen", "deels")  # the statuses of a request that was (partly) granted


def _active(session: Session, youth_id: int, day: dt.date, kind: str) -> list[dict]:
    rows = session.scalars(select(orm.RightsRequest).where(
        orm.RightsRequest.youth_id == youth_id, orm.RightsRequest.kind == kind,
        orm.RightsRequest.status.in_(HONOURED), orm.RightsRequest.decided_on <= day)
        .order_by(orm.RightsRequest.id))
    out = []
    for r in rows:
        if r.ends_on is not None and r.ends_on <= day:
            continue
        honoured = (r.scope or {}).get("honoured") or {}
        out.append({"id": r.id, "purposes": list(honoured.get("purposes", [])),
                    "categories": list(honoured.get("categories", [])),
                    "recipient_ids": list(honoured.get("recipient_ids", []))})
    return out


def active_restrictions(session: Session, youth_id: int, day: dt.date) -> list[dict]:
    """The restrictions in force on `day`: [{"id", "purposes", "categories", "recipient_ids"}],
    model purpose codes, category codes, organisation ids; an empty list means all. A
    disclosure in the scope of one of them is refused."""
    return _active(session, youth_id, day, "beperking")


def active_objections(session: Session, youth_id: int, day: dt.date) -> list[dict]:
    """The honoured objections in force on `day`, shaped as active_restrictions. In their scope
    the consent facts count as refused."""
    return _active(session, youth_id, day, "bezwaar")


# --- written weighings ------------------------------------------------------------------------


def weighing_covers(row, to_org_id: int, categories: list[str], day: dt.date) -> bool:
    """A complete weighing counts for a disclosure to `to_org_id` of `categories` on `day`
    only when it named that recipient and every one of those categories (or left them open)
    and holds on that day."""
    return (row.complete and (not row.to_org_ids or to_org_id in row.to_org_ids)
            and (not row.categories or set(categories) <= set(row.categories))
            and row.recorded_at.date() <= day
            and (row.valid_until is None or day <= row.valid_until))


_WEIGHINGS = (select(orm.ExceptionRecord.kind, orm.ExceptionRecord.complete,
                     orm.ExceptionRecord.to_org_ids, orm.ExceptionRecord.categories,
                     orm.ExceptionRecord.recorded_at, orm.ExceptionRecord.valid_until)
              .where(orm.ExceptionRecord.case_id == bindparam("case_id"),
                     orm.ExceptionRecord.complete.is_(True)))


def documented_for(session: Session, case_id: int, to_org_id: int, categories: list[str],
                   day: dt.date) -> set[str]:
    """The kinds of exception a complete weighing in this case documents for this disclosure."""
    return {r.kind for r in session.execute(_WEIGHINGS, {"case_id": case_id})
            if weighing_covers(r, to_org_id, categories, day)}


_YOUTH_WEIGHINGS = (
    select(orm.ExceptionRecord.kind, orm.ExceptionRecord.complete,
           orm.ExceptionRecord.to_org_ids, orm.ExceptionRecord.categories,
           orm.ExceptionRecord.recorded_at, orm.ExceptionRecord.valid_until)
    .join(orm.Professional, orm.Professional.id == orm.ExceptionRecord.recorded_by_id)
    .where(orm.ExceptionRecord.youth_id == bindparam("youth_id"),
           orm.ExceptionRecord.case_id.is_(None),
           orm.Professional.organisation_id == bindparam("from_org_id"),
           orm.ExceptionRecord.complete.is_(True)))


def documented_for_youth(session: Session, youth_id: int, from_org_id: int, to_org_id: int,
                         categories: list[str], day: dt.date) -> set[str]:
    """The kinds a complete weighing about the youth (outside a case), made at the
    discloser's organisation, documents for this disclosure."""
    return {r.kind for r in session.execute(_YOUTH_WEIGHINGS, {"youth_id": youth_id,
                                                              "from_org_id": from_org_id})
            if weighing_covers(r, to_org_id, categories, day)}


def youth_weighing_documented(youth_id, from_org_id, kind: str) -> ColumnElement[bool]:
    """SQL: the youth has a complete weighing of this kind outside a case, made at the
    discloser's organisation (the scope is then checked by documented_for_youth). An
    expression, so that a disclosure can ask for all its facts in one query."""
    weigher = orm.Professional.__table__.alias("weigher")  # never the enclosing query's
    return exists().where(orm.ExceptionRecord.youth_id == youth_id,
                          orm.ExceptionRecord.case_id.is_(None),
                          orm.ExceptionRecord.kind == kind,
                          orm.ExceptionRecord.complete.is_(True),
                          weigher.c.id == orm.ExceptionRecord.recorded_by_id,
                          weigher.c.organisation_id == from_org_id)


def exception_documented(case_id: int, kind: str) -> ColumnElement[bool]:
    """SQL: the case has a complete written weighing of this kind. An expression, so that a
    disclosure can ask for all its facts in one query."""
    return exists().where(orm.ExceptionRecord.case_id == case_id,
                          orm.ExceptionRecord.kind == kind,
                          orm.ExceptionRecord.complete.is_(True))


def documented_exceptions(session: Session, case_id: int | None) -> set[str]:
    if case_id is None:
        return set()
    rows = session.scalars(select(orm.ExceptionRecord.kind).where(
        orm.ExceptionRecord.case_id == case_id, orm.ExceptionRecord.complete.is_(True)))
    return set(rows)


# --- the resident's request for help ------------------------------------------------------


# the states in which the resident has not set the scope (yet)
_NO_SCOPE = ("new", "intake", "assessment", "single")


def help_request_scope(youth_id: int) -> ScalarSelect:
    """SQL: the scope of the newest workflow about the youth that got that far, or NULL. A
    scalar subquery, so that a disclosure can ask for all its facts in one query."""
    return (select(orm.Workflow.scope)
            .where(orm.Workflow.youth_id == youth_id, orm.Workflow.state.not_in(_NO_SCOPE))
            .order_by(orm.Workflow.id.desc()).limit(1).scalar_subquery())


def help_request_domains(session: Session, youth_id: int | None) -> list[str] | None:
    """The scope the resident set in the newest workflow that got that far, if any."""
    if youth_id is None:
        return None
    scope = session.scalar(select(help_request_scope(youth_id)))
    return None if scope is None else list(scope)


# --- the facts a disclosure reads in its own query (disclosures._context_query) or in one more

# the parties whose side of a disclosure in a case needs an accession form
ACCESSION_PARTIES = ("jeugdhulp", "jgz", "huisarts")
_GUARDIAN = orm.Guardian.__table__
_CONSENT = orm.ConsentRecord.__table__


class Shape(NamedTuple):
    """Which stored facts a disclosure needs (shape_of)."""

    acceded: bool  # the recipient's accession form (in a case, an accession party)
    from_acceded: bool  # the discloser's accession form (in a case, an accession party)
    exceptions: bool  # the case's written weighings (in a case)
    school: bool  # the recipient school board's mandate
    from_school: bool  # the discloser school board's mandate
    about_youth: bool  # restrictions, objections, gezag, consent, the help request's scope
    youth_weighing: bool  # weighings about the youth outside a case (no case, a youth)


def fact_columns(org, from_org, case, youth, day, shape: Shape) -> list:
    """The stored facts as labelled SQL expressions, with the same conditions as
    registry.has_acceded and registry.school_is_party (for the recipient `org` and for the
    discloser `from_org` alike), cases.documented_exceptions, cases.youth_weighing_documented
    and cases.help_request_domains; about a youth also whether the youth has honoured
    restrictions or objections, and the ids of the guardians with gezag (as youths.gezag_ids,
    as one string). `org`, `from_org`, `case`, `youth` and `day` are bound parameters or the
    columns of an enclosing query."""
    facts = []
    if shape.acceded:
        facts.append(registry.acceded_fact(org, case, day).label("acceded"))
    if shape.from_acceded:
        facts.append(registry.acceded_fact(from_org, case, day).label("from_acceded"))
    if shape.exceptions:
        facts += [exception_documented(case, k).label(k)
                  for k in exc_domain.CASE_KINDS]
    if shape.school:
        facts.append(registry.school_party_fact(org, day).label("mandate"))
    if shape.from_school:
        facts.append(registry.school_party_fact(from_org, day).label("from_mandate"))
    if shape.youth_weighing:
        facts += [youth_weighing_documented(youth, from_org, k).label(k)
                  for k in exc_domain.YOUTH_KINDS]
    if shape.about_youth:
        facts.append(help_request_scope(youth).label("scope"))
        facts.append(exists().where(
            orm.RightsRequest.youth_id == youth,
            orm.RightsRequest.kind.in_(("beperking", "bezwaar")),
            orm.RightsRequest.status.in_(HONOURED)).label("rights"))
        facts.append(select(func.aggregate_strings(cast(_GUARDIAN.c.id, String), ","))
                     .where(_GUARDIAN.c.youth_id == youth, _GUARDIAN.c.has_gezag.is_(True))
                     .scalar_subquery().label("gezag"))
    return facts


def from_row(values: dict, rows, shape: Shape) -> dict:
    """The facts that apply (by shape) as _facts takes them: {"acceded", "from_acceded",
    "mandate", "from_mandate", kind of weighing: bool, "scope": list|None, "rights": bool,
    "gezag": [ids, ascending], "consent": [consent versions]}; `rows` carry the youth's
    consent versions (the columns of consent.versions_for; none: series NULL)."""
    out = {}
    for fact, kinds in (("acceded", ("acceded",)), ("from_acceded", ("from_acceded",)),
                        ("exceptions", exc_domain.CASE_KINDS), ("school", ("mandate",)),
                        ("from_school", ("from_mandate",)),
                        ("youth_weighing", exc_domain.YOUTH_KINDS)):
        if getattr(shape, fact):
            for k in kinds:
                out[k] = bool(values[k])
    if shape.about_youth:
        out["scope"] = values["scope"]
        out["rights"] = bool(values["rights"])
        gezag = values["gezag"]
        out["gezag"] = sorted(int(g) for g in gezag.split(",")) if gezag else []
        out["consent"] = [consent_svc.version_of(r) for r in rows if r.series is not None]
    return out


# the facts _context_query reads for a case (every shape's but the weighings about a youth
# outside a case), in the order of fact_columns
CASE_SHAPE = Shape(True, True, True, True, True, True, False)
CASE_FACTS = ("acceded", "from_acceded", *exc_domain.CASE_KINDS, "mandate", "from_mandate",
               "scope", "rights", "gezag")


@functools.cache
def stored_facts_query(shape: Shape):
    """The stored facts (fact_columns) without a case: one SELECT of subqueries (one round
    trip instead of one query per fact); about a youth also, one per row, the youth's consent
    versions."""
    facts = fact_columns(bindparam("org_id"), bindparam("from_org_id"), bindparam("case_id"),
                          bindparam("youth_id"), bindparam("day"), shape)
    if not shape.about_youth:
        return select(*facts)
    one = select(*facts).subquery("facts")
    return (select(one, *consent_svc.VERSION_COLUMNS)
            .select_from(one.outerjoin(_CONSENT,
                                       _CONSENT.c.youth_id == bindparam("youth_id"))))


def shape_of(from_org, to_org, case, youth) -> Shape:
    """Which stored facts apply: the accession of each side (a case and an accession party),
    the case's weighings, each side's school mandate, the youth's facts, and without a case
    the weighings about the youth (a legal route, e.g. towards the Raad, has no case)."""
    in_case = case is not None
    return Shape(in_case and to_org.party in ACCESSION_PARTIES,
                  in_case and from_org.party in ACCESSION_PARTIES, in_case,
                  to_org.party == "school", from_org.party == "school", youth is not None,
                  not in_case and youth is not None)


def read(conn, from_org, to_org, case, youth, day: dt.date) -> dict:
    """The stored facts that apply (see from_row), read in one query: for a disclosure without
    a case (with a case, _context_query read them)."""
    shape = shape_of(from_org, to_org, case, youth)
    if not any(shape):
        return {}
    rows = fast.execute(conn, stored_facts_query(shape), {
        "org_id": to_org.id, "from_org_id": from_org.id, "case_id": case.id if case else None,
        "youth_id": youth.id if youth else None, "day": day})
    return from_row(rows[0]._asdict(), rows, shape)
