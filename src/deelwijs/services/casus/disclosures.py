"""Disclosures: every time data about a youth goes from one organisation to another, the
engine decides from the stored facts, and the full decision is recorded.

The facts never come from what a user types: `acceded` (of the recipient and of the
discloser) from accession forms, `mandate` (of either side) from signatures and mandates, the
age from the date of birth on the day, `startkwalificatie` from the youth's record, consent
from the consent records, exceptions (`weighing_documented` among them) from complete written
weighings, the scope from the municipal workflow, and the restrictions of processing (AVG
art. 18) from the youth's honoured requests: the engine refuses a restricted category itself
(`subject.restricted`), so every item of the decision is the engine's.

The use cases (record, decide_stored, read, list_for_youth) take a `Unit`
(services/context.py) first. record and decide_stored are a professional's: the discloser
is `u.actor` (its ids, not a loaded row: the facts query reads the professional), and `hat`
defaults to the actor's. view and the fact-building blocks stay on a session.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import NamedTuple

from sqlalchemy import Text, bindparam, exists, func, insert, select, text
from sqlalchemy.orm import Session, defer, make_transient_to_detached

from deelwijs.domain import codes
from deelwijs.domain import exceptions as exc_domain
from deelwijs.domain.consent import age_on, consent_facts
from deelwijs.domain.engine import decide, required_consenters
from deelwijs.domain.errors import RequestError
from deelwijs.domain.render import to_json
from deelwijs.domain.request import parse_request
from deelwijs.domain.ruleset import Ruleset
from deelwijs.services import access
from deelwijs.services.app import App
from deelwijs.services.casus import consent as consent_svc
from deelwijs.services.casus import facts as stored_facts
from deelwijs.services.casus import youths
from deelwijs.services.casus.youth_text import no_bsn_in_anonymous
from deelwijs.services.context import Actor, Unit
from deelwijs.services.errors import Invalid, NotFound
from deelwijs.services.log import audit, binding
from deelwijs.services.views import DisclosureReadView, DisclosureView
from deelwijs.storage import fast, orm

KINDS = ("minute", "document", "answer")


def offered_categories(ruleset: Ruleset, purpose: str) -> list[str]:
    """The categories a form offers for a purpose: what the purpose does not allow is not even
    offered. Legal routes offer what their first route names (or every category). In the
    contract's order (a ruleset restored from the database has its keys sorted)."""
    p = ruleset.purposes[purpose]
    if p.route != "legal":
        return [c for c in codes.CATEGORIES if c in p.categories]
    cats = ruleset.routes[purpose][0].categories
    return [c for c in codes.CATEGORIES if cats is None or c in cats]


# The queries a recorded disclosure sends are built once, with bound parameters, from table
# columns (plain Core: no ORM step, no ORM objects to build): building a statement object costs
# more Python than running the compiled (cached) one. A disclosure in a case reads its facts
# in one query (_context_query; without a case also facts.stored_facts_query) and writes in one
# (PostgreSQL; two elsewhere: the disclosure, its items), then the processing log's entry
# (services.audit.log) as the last statements.

stored_facts.ACCESSION_PARTIES = ("jeugdhulp", "jgz", "huisarts")

_PRO = orm.Professional.__table__
_ORG = orm.Organisation.__table__
_TO_ORG = _ORG.alias("to_org")
_REGION = orm.Region.__table__
_VERSION = orm.RulesetVersion.__table__
_ACTIVATION = orm.RulesetActivation.__table__
_CASE = orm.Case.__table__
_MEETING = orm.Meeting.__table__
_YOUTH = orm.Youth.__table__
_PARTICIPANT = orm.CaseParticipant.__table__
_GUARDIAN = orm.Guardian.__table__
_CONSENT = orm.ConsentRecord.__table__
_DISCLOSURE = orm.Disclosure.__table__
_ITEM = orm.DisclosureItem.__table__


# What a disclosure needs of the rows it reads, as plain values (the field names are the
# columns' and the ORM attributes', so the code below reads them either way).

class _Professional(NamedTuple):
    id: int
    organisation_id: int
    name: str
    hats: list
    pseudonym: str


class _Organisation(NamedTuple):
    id: int
    region_id: int
    party: str
    name: str
    oin: str | None
    domain: str | None


class _Region(NamedTuple):
    id: int
    wams_in_force: bool


class _Version(NamedTuple):
    id: int
    ruleset_id: str
    version: str
    digest: str


class _Case(NamedTuple):
    id: int
    anonymous: bool
    purpose: str
    overleg: str | None
    youth_id: int | None


class _Meeting(NamedTuple):
    id: int
    case_id: int
    held_on: dt.date


class _Youth(NamedTuple):
    id: int
    key_wrapped: bytes | None
    birth_enc: bytes
    startkwalificatie: bool


_PARTS = ((_PRO, _Professional), (_ORG, _Organisation), (_REGION, _Region),
          (_TO_ORG, _Organisation), (_VERSION, _Version))
_CASE_PARTS = ((_CASE, _Case), (_MEETING, _Meeting), (_YOUTH, _Youth))


# PostgreSQL: a record reserves its disclosure's id in its first query, so that the log entry
# (which names the disclosure) can be built before, and written together with, the disclosure
_NEXT_DISCLOSURE_ID = func.nextval(func.pg_get_serial_sequence(_DISCLOSURE.name, "id"))


@functools.cache
def _context_query(with_case: bool, reserve_id: bool = False):
    """One query instead of seven look-ups (ten with a case): the professional, their
    organisation and its region, the recipient (outer-joined, so that a missing one is
    reported as such) and the region's ruleset version in force on the day (as
    App.active_ruleset finds it). With a case also the case, the asked meeting (whichever
    case it belongs to; the caller checks), the case's youth, whether the professional's
    organisation and the recipient take part in the case, every stored fact (facts.CASE_FACTS, of
    which the caller keeps those that apply) and, one per row, the youth's consent versions
    (no row of those when there are none). `reserve_id` (PostgreSQL): also the next id of the
    disclosure sequence and the size and frontier of the region's log head, as the last
    columns of the context (before the consent versions)."""
    to_org_id, day = bindparam("to_org_id"), bindparam("day")
    in_force = (select(_ACTIVATION.c.ruleset_version_id)
                .where(_ACTIVATION.c.region_id == _ORG.c.region_id,
                       _ACTIVATION.c.activated_on <= day)
                .order_by(_ACTIVATION.c.activated_on.desc(), _ACTIVATION.c.id.desc())
                .limit(1).scalar_subquery())
    joined = (_PRO.join(_ORG, _ORG.c.id == _PRO.c.organisation_id)
              .join(_REGION, _REGION.c.id == _ORG.c.region_id)
              .outerjoin(_TO_ORG, _TO_ORG.c.id == to_org_id)
              .outerjoin(_VERSION, _VERSION.c.id == in_force))
    where = _PRO.c.id == bindparam("professional_id")
    if not with_case:
        cols = [table.c[name] for table, kind in _PARTS for name in kind._fields]
        if reserve_id:
            cols += [_NEXT_DISCLOSURE_ID, *audit.head_columns(_ORG.c.region_id)]
        return select(*cols).select_from(joined).where(where)
    case_id = bindparam("case_id")
    joined = (joined.outerjoin(_CASE, _CASE.c.id == case_id)
              .outerjoin(_MEETING, _MEETING.c.id == bindparam("meeting_id"))
              .outerjoin(_YOUTH, _YOUTH.c.id == _CASE.c.youth_id))
    cols = [table.c[name] for table, kind in _PARTS + _CASE_PARTS for name in kind._fields]
    cols += [exists().where(_PARTICIPANT.c.case_id == case_id,
                            _PARTICIPANT.c.organisation_id == _PRO.c.organisation_id),
             exists().where(_PARTICIPANT.c.case_id == case_id,
                            _PARTICIPANT.c.organisation_id == to_org_id)]
    cols += stored_facts.fact_columns(_TO_ORG.c.id, _ORG.c.id, _CASE.c.id, _CASE.c.youth_id, day,
                          stored_facts.CASE_SHAPE)
    if reserve_id:  # in the one-row subquery: evaluated once
        cols += [_NEXT_DISCLOSURE_ID, *audit.head_columns(_ORG.c.region_id)]
    # one row, its subqueries evaluated once (OFFSET keeps the database from merging it into
    # the join below, which would evaluate them again for every consent version)
    ctx = (select(*(c.label(f"c{i}") for i, c in enumerate(cols))).select_from(joined)
           .where(where).offset(0).subquery("ctx"))
    youth_id = ctx.c[f"c{_YOUTH_ID_AT}"]
    return (select(ctx, *consent_svc.VERSION_COLUMNS)
            .select_from(ctx.outerjoin(_CONSENT, _CONSENT.c.youth_id == youth_id)))


# the position of the case's youth_id in a row of _context_query(True)
_YOUTH_ID_AT = (sum(len(kind._fields) for _, kind in _PARTS)
                + _Case._fields.index("youth_id"))
# the position of the reserved id in a row of _context_query(with_case, reserve_id=True)
_RESERVED_ID_AT = {False: sum(len(kind._fields) for _, kind in _PARTS),
                   True: (sum(len(kind._fields) for _, kind in _PARTS + _CASE_PARTS) + 2
                          + len(stored_facts.CASE_FACTS))}


def _split(row, with_case: bool) -> list:
    """The row of _context_query as one value per part (None for a part outer-joined to
    nothing); with a case then the two participation flags and {fact: value}."""
    out, i = [], 0
    for _, kind in (_PARTS + _CASE_PARTS) if with_case else _PARTS:
        n = len(kind._fields)
        values = row[i:i + n]
        out.append(None if values[0] is None else kind._make(values))
        i += n
    if with_case:
        out += [row[i], row[i + 1], dict(zip(stored_facts.CASE_FACTS, row[i + 2:], strict=False))]
    return out


def _in_scope(scope: dict, purpose: str, category: str, to_org_id: int) -> bool:
    """Whether a restriction's or objection's scope covers this (empty lists: everything)."""
    return ((not scope["purposes"] or purpose in scope["purposes"])
            and (not scope["categories"] or category in scope["categories"])
            and (not scope["recipient_ids"] or to_org_id in scope["recipient_ids"]))


def _facts(session: Session, app: App, ruleset: Ruleset, *, professional: _Professional,
           hat: str | None, to_org: _Organisation, purpose: str, categories: list[str],
           task: str, day: dt.date, case: _Case | None, youth: _Youth | orm.Youth | None,
           meeting: _Meeting | None, region: _Region, from_org: _Organisation,
           stored: dict, restricted: dict[str, dict]) -> tuple[list[dict], bytes | None]:
    """The engine requests for this disclosure: one per group of `categories` that share the
    same consent facts (consent is recorded per category and recipient), and then one for the
    `restricted` categories (AVG art. 18: {category: the restriction}), which names them in
    `subject.restricted` so that the engine refuses them. Also returns the youth's data key,
    unwrapped for the age (record() encrypts the content with it)."""
    if hat is not None and hat not in professional.hats:
        raise Invalid("hat_not_allowed", f"{professional.name} mag de pet '{hat}' niet "
                      f"dragen (wel: {', '.join(professional.hats) or 'geen'})", "hat")
    anonymous = case is not None and case.anonymous
    if youth is None and not anonymous:
        raise Invalid("missing_field", "een verstrekking gaat over een jongere, of over een "
                      "anonieme casus", "youth")
    key = app.keys.unwrap(youth.key_wrapped) if youth is not None else None
    age = 0
    if youth is not None:
        birth = youths.birth_of(app.keys, youth, key)
        if day < birth:
            raise Invalid("before_birth", f"de datum van de verstrekking ({day.isoformat()}) "
                          "ligt vóór de geboortedatum van de jongere", "day")
        age = age_on(birth, day)
    # each side's party status from its own papers (contract 1.1, change 1): accession form
    # (never without a case) and school mandate; a discloser with a hat that acts for the
    # college is judged by the engine as the college, whatever its organisation's papers say
    recipient = {"party": to_org.party}
    discloser = {"party": from_org.party, **({"hat": hat} if hat else {})}
    for side, org, prefix in ((recipient, to_org, ""), (discloser, from_org, "from_")):
        if org.party in stored_facts.ACCESSION_PARTIES:
            side["acceded"] = stored.get(f"{prefix}acceded", False)
        if org.party == "school":
            side["mandate"] = stored[f"{prefix}mandate"]
    if to_org.domain:
        recipient["domain"] = to_org.domain
    documented = set()  # (none to look up when every category is restricted)
    if categories and any(stored.get(k) for k in exc_domain.CASE_KINDS):  # weighed in the case
        documented = stored_facts.documented_for(session, case.id, to_org.id, categories, day)
    elif categories and any(stored.get(k) for k in exc_domain.YOUTH_KINDS):  # about the youth
        documented = stored_facts.documented_for_youth(session, youth.id, from_org.id, to_org.id,
                                                   categories, day)
    context: dict = {"bulk": False, "wams_in_force": bool(region.wams_in_force)}
    scope = stored.get("scope")
    if scope is not None:
        context["help_request_domains"] = list(scope)
    base = {
        "kind": "disclosure",
        "discloser": discloser,
        "recipient": recipient,
        "subject": {"age": age, "anonymous": anonymous,
                    "startkwalificatie": bool(youth is not None and youth.startkwalificatie)},
        "purpose": purpose,
        "task": task,
        "exceptions": {
            "vital_interest": "vital_interest" in documented,
            "conflict_of_duties": {"documented": "conflict_of_duties" in documented},
            "legal_duty": "legal_duty" in documented,
            "compatible_purpose": "compatible_purpose" in documented,
            "weighing_documented": "statutory_power" in documented,
        },
        "context": context,
    }
    after = []
    if restricted:
        after.append({**base, "subject": {**base["subject"], "restricted": {
            c: r["id"] for c, r in restricted.items()}}, "data": list(restricted)})
    if anonymous:
        return [*([{**base, "data": list(categories)}] if categories else []), *after], key
    records = stored["consent"]  # as consent.versions_for
    gezag = stored["gezag"]  # as youths.gezag_ids
    required = required_consenters(age, ruleset)
    model_purpose = ruleset.overleg_types.get(purpose, purpose)
    groups: dict[tuple, list[str]] = {}
    objections = (stored_facts.active_objections(session, youth.id, day)
                  if stored.get("rights") and categories else [])
    for cat in categories:
        facts = consent_facts(records, gezag, required, model_purpose, cat, to_org.id, day,
                              meeting.held_on if meeting else None)
        if any(_in_scope(o, model_purpose, cat, to_org.id) for o in objections):
            # an honoured objection (AVG art. 21): in its scope nobody's consent counts
            facts = {**facts, "parents": "refused", "youth": "refused"}
        groups.setdefault(tuple(sorted(facts.items())), []).append(cat)
    out = [{**base, "consent": dict(key_), "data": cats} for key_, cats in groups.items()]
    out.extend(after)
    return out, key


def _merge(ruleset: Ruleset, answers: list[dict], order: list[str]) -> dict:
    if len(answers) == 1:
        return answers[0]
    items = {i["data"]: i for a in answers for i in a["items"]}
    ordered = [items[c] for c in order]
    allowed = sum(1 for i in ordered if i["outcome"] == "allow")
    outcome = "allow" if allowed == len(ordered) else ("deny" if not allowed else "partial")
    obligations = {o for a in answers for o in a["obligations"]}
    rules = {}
    for a in answers:
        rules.update(a["rules"])
    return {**answers[0], "outcome": outcome, "items": ordered,
            "obligations": [o for o in codes.OBLIGATIONS if o in obligations],
            "explanation": " ".join(a["explanation"] for a in answers),
            "rules": rules}


def _discloser(u: Unit) -> int:
    """The id of the professional who discloses: the actor's (no row is loaded; the facts
    query reads the professional). The administrator discloses nothing."""
    professional_id = u.actor.professional_id
    if professional_id is None:
        u.professional_or("professional", "een verstrekking")
    return professional_id


def decide_stored(u: Unit, *, to_org_id: int, categories: list[str], day: dt.date,
                  case_id: int | None = None, youth_id: int | None = None,
                  purpose: str | None = None, hat: str | None = None, task: str = "both",
                  meeting_id: int | None = None) -> tuple[orm.RulesetVersion, dict, dict]:
    """Ask the engine about a disclosure by the acting professional (`u.actor`, under `hat`,
    default the actor's) from the stored facts. Returns (ruleset version, decision as the
    contract's JSON, the facts used)."""
    session, app = u.session, u.app
    _discloser(u)
    if hat is None:
        hat = u.actor.hat
    version, decision, facts, _ = _decide_stored(
        session, app, actor=u.actor, to_org_id=to_org_id,
        categories=categories, day=day, case_id=case_id, youth_id=youth_id, purpose=purpose,
        hat=hat, task=task, meeting_id=meeting_id)
    # the version as App.active_ruleset returns it (an ORM object, its source text deferred)
    return (session.get(orm.RulesetVersion, version.id, options=[_NO_SOURCE]), decision,
            facts)


_NO_SOURCE = defer(orm.RulesetVersion.source)


def _decide_stored(session: Session, app: App, *, actor: Actor, to_org_id: int,
                   categories: list[str], day: dt.date, case_id: int | None,
                   youth_id: int | None, purpose: str | None, hat: str | None, task: str,
                   meeting_id: int | None, reserve_id: bool = False
                   ) -> tuple[_Version, dict, dict,
                              tuple[_Professional, _Organisation, _Case | None,
                                    _Organisation, _Youth | orm.Youth | None, bytes | None,
                                    int | None]]:
    """decide_stored, also returning what it read that record() needs (professional,
    discloser, case, recipient, youth, the youth's unwrapped key if it was unwrapped, and with
    `reserve_id` on PostgreSQL (disclosure id reserved, log head size, frontier)), so that
    record() reads nothing
    again. The version and the rows are plain values."""
    if session.autoflush:  # as the ORM queries this replaced: what is pending counts as stored
        session.flush()
    with_case = case_id is not None
    professional_id = actor.professional_id
    params = {"professional_id": professional_id, "to_org_id": to_org_id, "day": day}
    if with_case:
        params.update(case_id=case_id, meeting_id=meeting_id)
    conn = session.connection()
    reserve_id = reserve_id and conn.dialect.name == "postgresql"
    rows = fast.execute(conn, _context_query(with_case, reserve_id), params)
    if not rows:
        raise NotFound("not_found", f"onbekende professional ({professional_id})",
                       "professional")
    pro, from_org, region, to_org, version, *rest = _split(rows[0], with_case)
    if to_org is None:
        raise NotFound("not_found", f"onbekende organisatie ({to_org_id})", "to_org")
    if to_org.region_id != region.id:
        raise Invalid("other_region", "de ontvanger hoort niet bij deze regio", "to_org")
    case = meeting = youth = None
    if with_case:
        case, meeting, youth, from_takes_part, to_takes_part, case_facts = rest
        if case is None or not from_takes_part:
            # need to know: another organisation's case is answered as an unknown one
            # (access.py: 404), before anything that would tell of it
            raise NotFound("not_found", f"onbekende casus ({case_id})", "case")
    if meeting_id is not None and (meeting is None or case is None
                                   or meeting.case_id != case.id):
        raise NotFound("not_found", "onbekend overleg bij deze casus", "meeting")
    if case is not None:
        if purpose is not None and purpose not in (case.purpose, case.overleg):
            raise Invalid("purpose_mismatch", "een verstrekking in een casus dient het doel "
                          "van die casus", "purpose")
        purpose = case.purpose
        if youth_id is not None and youth_id != case.youth_id:
            raise Invalid("wrong_youth", "deze casus gaat over een andere jongere", "youth")
        youth_id = case.youth_id
        # Need to know: inside a case, data goes only between its participating organisations.
        if not to_takes_part:
            raise Invalid("not_a_participant", f"{to_org.name} neemt geen deel aan deze casus",
                          "to_org")
    if purpose is None:
        raise Invalid("missing_field", "noem het doel (of de casus)", "purpose")
    if case is None and youth_id is not None:
        youth = youths.get_youth(session, youth_id)
        if youth.region_id != region.id:
            # need to know: a youth of another region is answered as an unknown one, before
            # any of their facts are read
            raise access.unknown_youth(youth_id, "youth")
    if youth is not None and youth.key_wrapped is None:
        raise Invalid("shredded", "de gegevens van deze jongere zijn vernietigd", "youth")
    if version is None:  # as App.active_ruleset
        raise NotFound("no_ruleset", "deze regio heeft (op die datum) geen actieve ruleset")
    # decided only under a stored version that passes today's checks (ruleset_invalid)
    ruleset = app.ruleset_to_decide(session, version.id, version.digest, region.id)
    if not categories:
        raise Invalid("missing_field", "kies ten minste één gegevenscategorie", "categories")
    if case is not None:
        stored = stored_facts.from_row(case_facts, rows,
                                       stored_facts.shape_of(from_org, to_org, case, youth))
    else:
        stored = stored_facts.read(conn, from_org, to_org, case, youth, day)
    restricted: dict[str, dict] = {}
    if youth is not None and stored.get("rights"):  # none in force without an honoured one
        model_purpose = ruleset.overleg_types.get(purpose, purpose)
        for r in stored_facts.active_restrictions(session, youth.id, day):
            for cat in categories:
                if cat not in restricted and _in_scope(r, model_purpose, cat, to_org.id):
                    restricted[cat] = r
    free = [c for c in categories if c not in restricted]
    requests, key = _facts(session, app, ruleset, professional=pro, hat=hat, to_org=to_org,
                           purpose=purpose, categories=free, task=task, day=day, case=case,
                           youth=youth, meeting=meeting, region=region, from_org=from_org,
                           stored=stored, restricted=restricted)
    answers = []
    for i, req in enumerate(requests):
        try:
            parsed = parse_request(req, ruleset, f"request[{i}]")
        except RequestError as exc:
            p = exc.problems[0]
            field = "categories" if ".data" in p.path else p.path
            raise Invalid(p.code, p.message, field) from None
        answers.append(to_json(decide(parsed, ruleset), False))
    at = _RESERVED_ID_AT[with_case]
    reserved = tuple(rows[0][at:at + 3]) if reserve_id else None
    return (version, _merge(ruleset, answers, list(categories)), {"requests": requests},
            (pro, from_org, case, to_org, youth, key, reserved))


_DISCLOSURE_COLUMNS = ("region_id", "youth_id", "case_id", "meeting_id", "from_org_id",
                       "to_org_id", "professional_id", "hat", "purpose", "kind", "outcome",
                       "decision", "ruleset_version_id", "ruleset_digest", "disclosed_on",
                       "created_at")
_ITEM_COLUMNS = ("category", "outcome", "codes", "rules", "content", "content_enc")


def _disclosure_type(column: str):
    """The type of a disclosure column's parameter. The decision is given as its JSON text
    (binding.decision_text), stored verbatim: the text whose digest the log entry holds."""
    return Text() if column == "decision" else _DISCLOSURE.c[column].type


_INSERT_DISCLOSURE = (insert(_DISCLOSURE)
                      .values({c: bindparam(c, type_=_disclosure_type(c))
                               for c in _DISCLOSURE_COLUMNS})
                      .returning(_DISCLOSURE.c.id))

# the disclosure's values in _write_statement: the decision's JSON text cast to json, which
# PostgreSQL stores verbatim
_D_VALUES = [f"CAST(:d_{c} AS json)" if c == "decision" else f":d_{c}"
             for c in _DISCLOSURE_COLUMNS]

# Textual statements with typed parameters, one per number of items, because SQLAlchemy does
# not cache the compiled form of a multi-row insert() (it would compile it for every
# disclosure). The items get their ids in the order given, the decision's order, which is
# the order they are listed in.


def _item_names(n: int) -> list[tuple[str, ...]]:
    return [tuple(f"{c}_{i}" for c in _ITEM_COLUMNS) for i in range(n)]


def _item_params(names: list[tuple[str, ...]]) -> list:
    return [bindparam(k, type_=_ITEM.c[c].type) for keys in names
            for c, k in zip(_ITEM_COLUMNS, keys, strict=True)]


@functools.cache
def _insert_items(n: int):
    """One INSERT of the n items of a disclosure (multi-row VALUES, no RETURNING). Returns the
    statement and the parameter names per item."""
    names = _item_names(n)
    rows = ", ".join("(:disclosure_id, " + ", ".join(f":{k}" for k in keys) + ")"
                     for keys in names)
    stmt = text(f"INSERT INTO {_ITEM.name} (disclosure_id, {', '.join(_ITEM_COLUMNS)}) "
                f"VALUES {rows}")
    return stmt.bindparams(bindparam("disclosure_id", type_=_ITEM.c.disclosure_id.type),
                           *_item_params(names)), names


@functools.cache
def _write_statement(n: int):
    """PostgreSQL: the disclosure (with its reserved id) and its n items in one statement
    (data-modifying CTEs). The items get their ids in the order given, the decision's order.
    Returns the statement and the parameter names per item; the disclosure's parameters are
    d_id and d_<column>."""
    names = _item_names(n)
    cols = ", ".join(_ITEM_COLUMNS)
    rows = ", ".join("(:d_id, " + ", ".join(f":{k}" for k in keys) + ")" for keys in names)
    disclosure = (f"INSERT INTO {_DISCLOSURE.name} (id, {', '.join(_DISCLOSURE_COLUMNS)}) "
                  f"VALUES (:d_id, {', '.join(_D_VALUES)})")
    items = f"INSERT INTO {_ITEM.name} (disclosure_id, {cols}) VALUES {rows}"
    binds = [bindparam("d_id", type_=_DISCLOSURE.c.id.type),
             *(bindparam(f"d_{c}", type_=_disclosure_type(c)) for c in _DISCLOSURE_COLUMNS),
             *_item_params(names)]
    return text(f"WITH d AS ({disclosure}) {items}").bindparams(*binds), names


def record(u: Unit, *, to_org_id: int, contents: dict[str, str], day: dt.date,
           kind: str = "answer", case_id: int | None = None, youth_id: int | None = None,
           purpose: str | None = None, hat: str | None = None, task: str = "both",
           meeting_id: int | None = None) -> orm.Disclosure:
    """Decide and record a disclosure by the acting professional (`u.actor`; the
    administrator is refused), under `hat` (default the actor's). Content is kept only for
    allowed items: a denied item stores nothing of the data, only the decision that says why.
    About an identifiable youth the content is encrypted with the youth's own key. The
    processing log gets one entry (a disclosure, or a refused attempt), in the same
    transaction, as the last statements."""
    started = audit.now()
    session, app = u.session, u.app
    _discloser(u)
    if hat is None:
        hat = u.actor.hat
    if kind not in KINDS:
        raise Invalid("unknown_code", f"soort verstrekking is {', '.join(KINDS)}", "kind")
    version, decision, _, (pro, from_org, case, to_org, youth, key, reserved) = (
        _decide_stored(session, app, actor=u.actor, to_org_id=to_org_id,
                       categories=list(contents), day=day, case_id=case_id,
                       youth_id=youth_id, purpose=purpose, hat=hat, task=task,
                       meeting_id=meeting_id, reserve_id=True))
    youth_id = case.youth_id if case else youth_id
    values = dict(
        region_id=from_org.region_id,
        youth_id=youth_id, case_id=case_id,
        meeting_id=meeting_id, from_org_id=pro.organisation_id, to_org_id=to_org_id,
        professional_id=pro.id, hat=hat, purpose=decision.get("purpose", purpose or ""),
        kind=kind, outcome=decision["outcome"], decision=decision,
        ruleset_version_id=version.id, ruleset_digest=version.digest, disclosed_on=day,
        created_at=audit.now())  # the column's default, given here so the row need not be read
    if youth is not None and key is None:
        key = app.keys.unwrap(youth.key_wrapped)
    items = decision["items"]
    if key is None:  # an anonymous case keeps what is shared as written: never a BSN
        for item in items:
            if item["outcome"] == "allow":
                no_bsn_in_anonymous(None, contents[item["data"]],
                                             f"contents.{item['data']}", "de inhoud")
    content = []
    for item in items:
        allowed = item["outcome"] == "allow"
        text_ = contents[item["data"]] if allowed else None
        content.append((item["data"], item["outcome"],
                        item["grounds"] if allowed else item["reasons"], item["rules"],
                        text_ if key is None else None,
                        app.keys.encrypt(key, text_) if key is not None and text_ is not None
                        else None))
    allowed_cats = [i["data"] for i in items if i["outcome"] == "allow"]
    purpose_ = values["purpose"]
    # the decision is stored as this text, and the log entry commits to its digest (binding)
    stored = {**values, "decision": binding.decision_text(decision)}
    decision_sha256 = binding.text_digest(stored["decision"])

    def entry(disclosure_id: int) -> audit.Pending | None:
        # (None only where bench/audit.py replaces audit.prepare to measure the log's cost)
        return audit.prepare(
            app.keys, region_id=from_org.region_id,
            actie="deny" if decision["outcome"] == "deny" else "disclose",
            activity=audit.activity(version.ruleset_id, purpose_),
            activity_version=audit.version_label(version.version, version.digest),
            youth_id=youth_id,
            categories=allowed_cats or [i["data"] for i in items],
            handeling=f"Verstrekking ({kind})", verwerking=f"Casusoverleg {purpose_}",
            verwerking_id=(f"deelwijs:casus:{case_id}" if case_id
                           else f"deelwijs:verstrekking:{disclosure_id}"),
            professional=pro, uitvoerder=from_org, afnemer=to_org, hat=hat,
            tijdstip=started, decision=audit.decision_summary(decision, version.digest),
            extra={"verstrekking": disclosure_id,
                   binding.FIELD: binding.ref(binding.DISCLOSURE, disclosure_id,
                                              binding.disclosure_digest(
                                                  {**values, "id": disclosure_id},
                                                  decision_sha256, content))})

    conn = session.connection()
    row = None
    if reserved is not None:
        # PostgreSQL: the id was reserved and the log head read by the first query, so the
        # entry is built and sealed before anything is written; then the disclosure and its
        # items, and the entry and the head, are written in one round trip, which advances
        # (and locks) the head only if no other writer came first
        disclosure_id, head_size, head_frontier = reserved
        pending = entry(disclosure_id)
        # the ORM object of the row, made before the head is locked: all that follows the
        # lock until the commit holds up every other writer of the region
        row = orm.Disclosure(id=disclosure_id, **values)
        sealed = None
        params = {f"d_{c}": stored[c] for c in _DISCLOSURE_COLUMNS}
        params["d_id"] = disclosure_id
        if pending is not None and head_size is not None:
            sealed = audit.seal(app.keys, pending, head_size + 1, head_frontier)
            params.update(sealed.params, r=from_org.region_id, f=sealed.frontier,
                          expected=head_size)
        stmt, names = _write_statement(len(items))
        for keys, item_values in zip(names, content, strict=True):
            params.update(zip(keys, item_values, strict=True))
        if sealed is None:
            fast.execute(conn, stmt, params)
            written = []
        else:
            # the disclosure and its items first, then the entry (audit.append_statement),
            # which locks the region's head: sent together (one round trip), but as two
            # statements, so that the first one, its foreign-key checks included, is done
            # before the head is locked and does not hold up the other writers of the region
            try:
                written = fast.execute_all(conn, [(stmt, params),
                                                  (audit.append_statement(), params)])[1]
            except Exception as exc:  # an entry at a taken position: the head was put back
                behind = audit.head_behind(exc, from_org.region_id, head_size or 0)
                if behind is None:
                    raise
                raise behind from exc
        if sealed is None or not written:  # no head yet (or the bench's log-less arm)
            if pending is not None:
                audit.append(session, app.keys, pending)
        elif written[0][0] == 1:
            audit.appended(session, app.keys, from_org.region_id, sealed)
        else:  # another writer came first; the head is locked now, as it stands
            audit.append_locked(session, app.keys, pending, written[0][1], written[0][2])
    else:
        disclosure_id = conn.execute(_INSERT_DISCLOSURE, stored).scalar_one()
        stmt, names = _insert_items(len(items))
        params = {"disclosure_id": disclosure_id}
        for keys, item_values in zip(names, content, strict=True):
            params.update(zip(keys, item_values, strict=True))
        conn.execute(stmt, params)
        pending = entry(disclosure_id)
        if pending is not None:  # the log entry last: it locks the region's log head
            audit.append(session, app.keys, pending)
    # the ORM object of the row just written, as it would be loaded (no SQL: no flush)
    if row is None:
        row = orm.Disclosure(id=disclosure_id, **values)
    make_transient_to_detached(row)
    session.add(row)
    return row


def content_of(app: App, youth: orm.Youth | None, item: orm.DisclosureItem) -> str | None:
    """The content of an allowed item (decrypted with the youth's key; '[vernietigd]' when
    that key was destroyed)."""
    if item.content_enc is None:
        return item.content
    if youth is None or youth.key_wrapped is None:
        return "[vernietigd]"
    return app.keys.decrypt(app.keys.unwrap(youth.key_wrapped), item.content_enc)


def view(session: Session, row: orm.Disclosure, with_content: bool = False,
         app: App | None = None) -> DisclosureView:
    """A disclosure as JSON; with the content of its allowed items when asked (decrypted: pass
    the app; the caller logs that read)."""
    items = session.scalars(select(orm.DisclosureItem).where(
        orm.DisclosureItem.disclosure_id == row.id).order_by(orm.DisclosureItem.id)).all()
    content = None
    if with_content:
        if app is None:
            raise ValueError("reading content needs the app's keys")
        youth = session.get(orm.Youth, row.youth_id) if row.youth_id is not None else None
        content = {i.id: content_of(app, youth, i) for i in items}
    return _view(row, items, content)


def read(u: Unit, row: orm.Disclosure) -> DisclosureReadView:
    """A disclosure with its decision and the content of its allowed items, for the actor to
    read: about an identifiable youth, the read is logged in the actor's name. Need to know:
    access.require_disclosure (the sender, the recipient, a participant in its case, the
    youth or parent whose own it is, the operator)."""
    session, app, by = u.session, u.app, u.professional
    access.require_disclosure(u, row)
    out = view(session, row, with_content=True, app=app)
    out["decision"] = row.decision
    youth = session.get(orm.Youth, row.youth_id) if row.youth_id is not None else None
    if youth is not None and youth.key_wrapped is not None:
        # under the activity and register version the disclosure was decided by
        version = session.get(orm.RulesetVersion, row.ruleset_version_id)
        audit.log(session, app.keys, region_id=row.region_id, actie="read",
                  activity=audit.activity(version.ruleset_id, row.purpose),
                  activity_version=audit.version_label(version.version, version.digest),
                  youth_id=youth.id,
                  categories=[i["data"] for i in out["items"] if i["outcome"] == "allow"],
                  handeling="Inzien verstrekking", professional=by,
                  uitvoerder=session.get(orm.Organisation, by.organisation_id) if by else None,
                  verwerking=f"Casusoverleg {row.purpose}",
                  verwerking_id=f"deelwijs:verstrekking:{row.id}")
    return out


def _view(row: orm.Disclosure, items: list[orm.DisclosureItem],
          content: dict[int, str | None] | None) -> DisclosureView:
    return {
        "id": row.id, "youth_id": row.youth_id, "case_id": row.case_id,
        "from_org": row.from_org_id, "to_org": row.to_org_id,
        "professional": row.professional_id, "hat": row.hat, "purpose": row.purpose,
        "kind": row.kind, "outcome": row.outcome, "on": row.disclosed_on.isoformat(),
        "ruleset_digest": row.ruleset_digest,
        "items": [{"data": i.category, "outcome": i.outcome, "codes": i.codes,
                   "rules": i.rules, **({"content": content[i.id]} if content is not None else {})}
                  for i in items],
        "explanation": row.decision.get("explanation", ""),
    }


# A listing reads plain rows (the columns _view shows), not ORM objects: half the CPU.
_LISTED = (select(*(_DISCLOSURE.c[c] for c in (
    "id", "youth_id", "case_id", "from_org_id", "to_org_id", "professional_id", "hat",
    "purpose", "kind", "outcome", "disclosed_on", "ruleset_digest", "decision")))
    .where(_DISCLOSURE.c.youth_id == bindparam("youth_id"))
    .order_by(_DISCLOSURE.c.id.desc()).limit(bindparam("limit")))
_LISTED_ITEMS = (select(_ITEM.c.id, _ITEM.c.disclosure_id, _ITEM.c.category, _ITEM.c.outcome,
                        _ITEM.c.codes, _ITEM.c.rules)
                 .where(_ITEM.c.disclosure_id.in_(bindparam("ids", expanding=True)))
                 .order_by(_ITEM.c.id))


def list_for_youth(u: Unit, youth_id: int, limit: int = 1000) -> list[dict]:
    """The youth's disclosures, newest first (the views without content): for an actor with
    need to know about the youth (access.require_youth), a professional only those their
    organisation sent or received or that belong to a case it takes part in. Who received
    what about the youth is personal data: the read is logged in the actor's name when it
    shows any."""
    session = u.session
    youth = access.require_youth(u, youth_id)
    if session.autoflush:  # as the ORM queries this replaced: what is pending is listed
        session.flush()
    conn = session.connection()
    only = access.disclosure_filter(u, _DISCLOSURE)
    query = _LISTED if only is None else _LISTED.where(only)
    rows = conn.execute(query, {"youth_id": youth.id, "limit": limit}).all()
    # every row's items in one query, not one query per disclosure
    items: dict[int, list] = {r.id: [] for r in rows}
    if rows:
        for item in conn.execute(_LISTED_ITEMS, {"ids": list(items)}):
            items[item.disclosure_id].append(item)
    if rows and youth.key_wrapped is not None:
        by = u.professional
        shown = {i.category for group in items.values() for i in group}
        audit.log_system(session, region_id=youth.region_id, name="registratie", actie="read",
                         youth_id=youth.id, categories=[c for c in codes.CATEGORIES
                                                        if c in shown],
                         professional=by, handeling="Raadplegen lijst verstrekkingen",
                         uitvoerder=session.get(orm.Organisation, by.organisation_id)
                         if by else None)
    return [_view(r, items[r.id], None) for r in rows]


def count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(orm.Disclosure)) or 0
