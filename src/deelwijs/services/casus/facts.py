"""Stored facts the engine reads, besides those a disclosure reads in its own query: the
written weighings (legal exceptions) that document a disclosure, the scope of the resident's
request for help (the municipal workflow), and the data subject's restrictions of processing
(AVG art. 18) and honoured objections (art. 21) in force on a day. They are recorded by
cases.py and rights/requests.py; disclosures read them here, so that the disclosures import
neither (cases and the rights import the disclosures' neighbours, not the other way)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import bindparam, exists, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import ScalarSelect

from deelwijs.storage import orm

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
