"""`audit verify --deep`: decide a sample of stored disclosures again from the facts stored
now, and name every one whose outcome differs. It lives with the disclosures it decides (it
calls disclosures.decide_stored); verify, in the log below the casus, receives it as its
`redecide` argument from the CLI, so the log does not import the casus."""

from __future__ import annotations

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from deelwijs.services.casus import disclosures
from deelwijs.services.context import PROFESSIONAL, Actor, unit
from deelwijs.services.errors import ServiceError
from deelwijs.services.log.binding import DISCLOSURE, DISCLOSURE_COLUMNS
from deelwijs.services.log.problems import Problem
from deelwijs.storage import orm

_DIS = orm.Disclosure.__table__
_ITEM = orm.DisclosureItem.__table__

_SAMPLE = (select(*(_DIS.c[c] for c in DISCLOSURE_COLUMNS), _DIS.c.youth_id)
           .where(_DIS.c.region_id == bindparam("r"))
           .order_by(func.random()).limit(bindparam("n")))
_SAMPLE_ITEMS = (select(_ITEM.c.category, _ITEM.c.outcome)
                 .where(_ITEM.c.disclosure_id == bindparam("d")).order_by(_ITEM.c.id))


def redecide(session: Session, app, region_id: int, code: str, sample: int,
             skip: set[int] = frozenset()) -> tuple[list, dict]:
    """Decide up to `sample` of the region's disclosures (chosen at random) again from the
    facts stored now (disclosures.decide_stored, as on the day they were made) and compare
    the outcome per category with the stored one. A difference is a problem: a fact the
    decision rested on has changed since (a consent, gezag, an accession form, a weighing),
    behind the application's back or, legitimately, by a fact recorded later with an
    earlier date; either way it needs a look. Not decided again: disclosures in `skip`
    (recorded in an anonymous case, since put on a youth's name), those the stored facts
    no longer allow to decide (a shredded youth, a ruleset that no longer passes its
    checks, …) and those whose day now falls under another ruleset version."""

    problems: list = []
    done = undecidable = other_ruleset = 0
    rows = session.execute(_SAMPLE, {"r": region_id, "n": sample}).all()
    for r in sorted(rows, key=lambda r: r.id):
        if r.id in skip:
            undecidable += 1
            continue
        items = session.execute(_SAMPLE_ITEMS, {"d": r.id}).all()
        try:
            with session.begin_nested():  # whatever deciding reads or caches, nothing stays
                # decided again as its professional did (the ids as stored: no row loaded)
                as_discloser = unit(app, session, Actor(
                    PROFESSIONAL, professional_id=r.professional_id,
                    organisation_id=r.from_org_id, region_id=r.region_id, hat=r.hat))
                version, decision, _ = disclosures.decide_stored(
                    as_discloser, to_org_id=r.to_org_id,
                    categories=[i.category for i in items], day=r.disclosed_on,
                    case_id=r.case_id, youth_id=r.youth_id if r.case_id is None else None,
                    purpose=None if r.case_id is not None else r.purpose, hat=r.hat,
                    meeting_id=r.meeting_id)
        except ServiceError:
            undecidable += 1
            continue
        if version.digest != r.ruleset_digest:
            other_ruleset += 1
            continue
        done += 1
        now = {i["data"]: i["outcome"] for i in decision["items"]}
        changed = [f"{i.category} was {i.outcome}, is nu {now.get(i.category, 'weg')}"
                   for i in items if now.get(i.category) != i.outcome]
        if changed:
            problems.append(Problem(
                "redecided", code, None, None, None,
                "opnieuw beslist uit de opgeslagen feiten onder dezelfde ruleset "
                f"({r.ruleset_digest}): {'; '.join(changed)}", row=f"{DISCLOSURE} {r.id}"))
    summary = {"opnieuw_beslist": done, "afwijkend": len(problems)}
    if undecidable:
        summary["niet_opnieuw_te_beslissen"] = undecidable
    if other_ruleset:
        summary["onder_andere_ruleset"] = other_ruleset
    return problems, summary
