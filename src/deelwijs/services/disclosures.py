"""Disclosures: every time data about a youth goes from one organisation to another, the
engine decides from the stored facts, and the full decision is recorded.

The facts never come from what a user types: `acceded` from accession forms, `mandate` from
signatures and mandates, the age from the date of birth on the day, consent from the consent
records, exceptions from complete written weighings, the scope from the municipal workflow.
"""

from __future__ import annotations

import datetime as dt
import functools

from sqlalchemy import bindparam, func, insert, select
from sqlalchemy.orm import Session, aliased

from deelwijs.domain import codes
from deelwijs.domain import exceptions as exc_domain
from deelwijs.domain.consent import age_on, consent_facts
from deelwijs.domain.engine import decide, required_consenters
from deelwijs.domain.errors import RequestError
from deelwijs.domain.render import to_json
from deelwijs.domain.request import parse_request
from deelwijs.domain.ruleset import Ruleset
from deelwijs.services import audit, registry, youths
from deelwijs.services import cases as case_svc
from deelwijs.services import consent as consent_svc
from deelwijs.services.app import App
from deelwijs.services.errors import Invalid, NotFound
from deelwijs.storage import orm

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


# The queries a recorded disclosure sends are built once, with bound parameters: building a
# statement object costs more Python than running the compiled (cached) one.

_ACCESSION_PARTIES = ("jeugdhulp", "jgz", "huisarts")


@functools.cache
def _stored_facts_query(acceded: bool, exceptions: bool, school: bool, scope: bool):
    """One SELECT of subqueries (one round trip instead of one query per fact), with the same
    conditions as registry.has_acceded, registry.school_is_party,
    cases.documented_exceptions and cases.help_request_domains."""
    org, case, youth, day = (bindparam("org_id"), bindparam("case_id"), bindparam("youth_id"),
                             bindparam("day"))
    facts = []
    if acceded:
        facts.append(registry.acceded_fact(org, case, day).label("acceded"))
    if exceptions:
        facts += [case_svc.exception_documented(case, k).label(k) for k in exc_domain.KINDS]
    if school:
        facts.append(registry.school_party_fact(org, day).label("mandate"))
    if scope:
        facts.append(case_svc.help_request_scope(youth).label("scope"))
    return select(*facts)


def _stored_facts(session: Session, to_org: orm.Organisation, case: orm.Case | None,
                  youth: orm.Youth | None, day: dt.date) -> dict:
    """The recipient's accession or mandate, the case's complete exceptions and the scope of
    the youth's workflow: {"acceded", "mandate", kind of exception: bool, "scope": list|None},
    only the keys that apply."""
    shape = (case is not None and to_org.party in _ACCESSION_PARTIES, case is not None,
             to_org.party == "school", youth is not None)
    if not any(shape):
        return {}
    row = session.execute(_stored_facts_query(*shape), {
        "org_id": to_org.id, "case_id": case.id if case else None,
        "youth_id": youth.id if youth else None, "day": day}).one()
    return {k: v if k == "scope" else bool(v) for k, v in row._mapping.items()}


def _facts(session: Session, app: App, ruleset: Ruleset, *, professional: orm.Professional,
           hat: str | None, to_org: orm.Organisation, purpose: str, categories: list[str],
           task: str, day: dt.date, case: orm.Case | None, youth: orm.Youth | None,
           meeting: orm.Meeting | None, region: orm.Region,
           from_org: orm.Organisation) -> list[dict]:
    """The engine requests for this disclosure: one per group of categories that share the
    same consent facts (consent is recorded per category and recipient)."""
    if hat is not None and hat not in professional.hats:
        raise Invalid("hat_not_allowed", f"{professional.name} mag de pet '{hat}' niet "
                      f"dragen (wel: {', '.join(professional.hats) or 'geen'})", "hat")
    anonymous = case is not None and case.anonymous
    if youth is None and not anonymous:
        raise Invalid("missing_field", "een verstrekking gaat over een jongere, of over een "
                      "anonieme casus", "youth")
    age = age_on(youths.birth_of(app.keys, youth), day) if youth is not None else 0
    stored = _stored_facts(session, to_org, case, youth, day)
    recipient = {"party": to_org.party}
    if to_org.party in _ACCESSION_PARTIES:
        recipient["acceded"] = stored.get("acceded", False)
    if to_org.party == "school":
        recipient["mandate"] = stored["mandate"]
    if to_org.domain:
        recipient["domain"] = to_org.domain
    documented = set()
    if any(stored.get(k) for k in exc_domain.KINDS):  # weighed in this case: but for this?
        documented = case_svc.documented_for(session, case.id, to_org.id, categories, day)
    context: dict = {"bulk": False, "wams_in_force": bool(region.wams_in_force)}
    scope = stored.get("scope")
    if scope is not None:
        context["help_request_domains"] = list(scope)
    base = {
        "kind": "disclosure",
        "discloser": {"party": from_org.party, **({"hat": hat} if hat else {})},
        "recipient": recipient,
        "subject": {"age": age, "anonymous": anonymous},
        "purpose": purpose,
        "task": task,
        "exceptions": {
            "vital_interest": "vital_interest" in documented,
            "conflict_of_duties": {"documented": "conflict_of_duties" in documented},
            "legal_duty": "legal_duty" in documented,
            "compatible_purpose": "compatible_purpose" in documented,
        },
        "context": context,
    }
    if anonymous:
        return [{**base, "data": list(categories)}]
    records = consent_svc.versions_for(session, youth.id)
    gezag = youths.gezag_ids(session, youth.id)
    required = required_consenters(age, ruleset)
    model_purpose = ruleset.overleg_types.get(purpose, purpose)
    groups: dict[tuple, list[str]] = {}
    for cat in categories:
        facts = consent_facts(records, gezag, required, model_purpose, cat, to_org.id, day,
                              meeting.held_on if meeting else None)
        groups.setdefault(tuple(sorted(facts.items())), []).append(cat)
    return [{**base, "consent": dict(key), "data": cats} for key, cats in groups.items()]


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


def decide_stored(session: Session, app: App, *, professional_id: int, to_org_id: int,
                  categories: list[str], day: dt.date, case_id: int | None = None,
                  youth_id: int | None = None, purpose: str | None = None,
                  hat: str | None = None, task: str = "both", meeting_id: int | None = None
                  ) -> tuple[orm.RulesetVersion, dict, dict]:
    """Ask the engine about a disclosure from the stored facts. Returns (ruleset version,
    decision as the contract's JSON, the facts used)."""
    version, decision, facts, _ = _decide_stored(
        session, app, professional_id=professional_id, to_org_id=to_org_id,
        categories=categories, day=day, case_id=case_id, youth_id=youth_id, purpose=purpose,
        hat=hat, task=task, meeting_id=meeting_id)
    return version, decision, facts


_TO_ORG = aliased(orm.Organisation)
# the professional, their organisation and its region, and the recipient (outer-joined, so
# that a missing one is reported as such): one query instead of four look-ups
_PARTIES = (select(orm.Professional, orm.Organisation, orm.Region, _TO_ORG)
            .select_from(orm.Professional)
            .join(orm.Organisation, orm.Organisation.id == orm.Professional.organisation_id)
            .join(orm.Region, orm.Region.id == orm.Organisation.region_id)
            .outerjoin(_TO_ORG, _TO_ORG.id == bindparam("to_org_id"))
            .where(orm.Professional.id == bindparam("professional_id")))
# the case, the asked meeting (whichever case it belongs to; the caller checks) and the case's
# youth: one query instead of three look-ups
_CASE = (select(orm.Case, orm.Meeting, orm.Youth).select_from(orm.Case)
         .outerjoin(orm.Meeting, orm.Meeting.id == bindparam("meeting_id"))
         .outerjoin(orm.Youth, orm.Youth.id == orm.Case.youth_id)
         .where(orm.Case.id == bindparam("case_id")))
# the disclosure with RETURNING (the ORM object comes back), then all its items in one
# statement, in the decision's order: no unit of work, no flush
_INSERT_DISCLOSURE = insert(orm.Disclosure).returning(orm.Disclosure)
_INSERT_ITEMS = insert(orm.DisclosureItem).returning(orm.DisclosureItem.id,
                                                     sort_by_parameter_order=True)
# None is written as NULL, so that items with and without content are not split into
# separate INSERTs (the ORM leaves None values out of a bulk INSERT otherwise)
_RENDER_NULLS = {"render_nulls": True}


def _parties(session: Session, professional_id: int, to_org_id: int
             ) -> tuple[orm.Professional, orm.Organisation, orm.Region, orm.Organisation]:
    row = session.execute(_PARTIES, {"professional_id": professional_id,
                                     "to_org_id": to_org_id}).first()
    if row is None:
        raise NotFound("not_found", f"onbekende professional ({professional_id})",
                       "professional")
    if row[3] is None:
        raise NotFound("not_found", f"onbekende organisatie ({to_org_id})", "to_org")
    return tuple(row)


def _case(session: Session, case_id: int, meeting_id: int | None
          ) -> tuple[orm.Case, orm.Meeting | None, orm.Youth | None]:
    row = session.execute(_CASE, {"case_id": case_id, "meeting_id": meeting_id}).first()
    if row is None:
        raise NotFound("not_found", f"onbekende casus ({case_id})", "case")
    return tuple(row)


def _decide_stored(session: Session, app: App, *, professional_id: int, to_org_id: int,
                   categories: list[str], day: dt.date, case_id: int | None,
                   youth_id: int | None, purpose: str | None, hat: str | None, task: str,
                   meeting_id: int | None
                   ) -> tuple[orm.RulesetVersion, dict, dict,
                              tuple[orm.Professional, orm.Organisation, orm.Case | None,
                                    orm.Organisation, orm.Youth | None]]:
    """decide_stored, also returning the rows it loaded (professional, discloser, case), so
    that record() does not load them again. (The session's identity map holds rows only
    weakly: a row nobody references is loaded anew by the next session.get.)"""
    pro, from_org, region, to_org = _parties(session, professional_id, to_org_id)
    if to_org.region_id != region.id:
        raise Invalid("other_region", "de ontvanger hoort niet bij deze regio", "to_org")
    case = meeting = youth = None
    if case_id is not None:
        case, meeting, youth = _case(session, case_id, meeting_id)
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
        taking_part = set(session.scalars(select(orm.CaseParticipant.organisation_id).where(
            orm.CaseParticipant.case_id == case.id,
            orm.CaseParticipant.organisation_id.in_((from_org.id, to_org.id)))))
        for org, field in ((from_org, "professional"), (to_org, "to_org")):
            if org.id not in taking_part:
                raise Invalid("not_a_participant", f"{org.name} neemt geen deel aan deze casus",
                              field)
    if purpose is None:
        raise Invalid("missing_field", "noem het doel (of de casus)", "purpose")
    if case is None and youth_id is not None:
        youth = youths.get_youth(session, youth_id)
    if youth is not None and youth.key_wrapped is None:
        raise Invalid("shredded", "de gegevens van deze jongere zijn vernietigd", "youth")
    version, ruleset = app.active_ruleset(session, region.id, day)
    if not categories:
        raise Invalid("missing_field", "kies ten minste één gegevenscategorie", "categories")
    requests = _facts(session, app, ruleset, professional=pro, hat=hat, to_org=to_org,
                      purpose=purpose, categories=categories, task=task, day=day, case=case,
                      youth=youth, meeting=meeting, region=region, from_org=from_org)
    answers = []
    for i, req in enumerate(requests):
        try:
            parsed = parse_request(req, ruleset, f"request[{i}]")
        except RequestError as exc:
            p = exc.problems[0]
            field = "categories" if ".data" in p.path else p.path
            raise Invalid(p.code, p.message, field) from None
        answers.append(to_json(decide(parsed, ruleset), False))
    return (version, _merge(ruleset, answers, list(categories)), {"requests": requests},
            (pro, from_org, case, to_org, youth))


def record(session: Session, app: App, *, professional_id: int, to_org_id: int,
           contents: dict[str, str], day: dt.date, kind: str = "answer",
           case_id: int | None = None, youth_id: int | None = None,
           purpose: str | None = None, hat: str | None = None, task: str = "both",
           meeting_id: int | None = None) -> orm.Disclosure:
    """Decide and record a disclosure. Content is kept only for allowed items: a denied item
    stores nothing of the data, only the decision that says why. About an identifiable youth
    the content is encrypted with the youth's own key. The processing log gets one entry (a
    disclosure, or a refused attempt), in the same transaction."""
    started = audit.now()
    if kind not in KINDS:
        raise Invalid("unknown_code", f"soort verstrekking is {', '.join(KINDS)}", "kind")
    version, decision, _, (pro, from_org, case, to_org, youth) = _decide_stored(
        session, app, professional_id=professional_id, to_org_id=to_org_id,
        categories=list(contents), day=day, case_id=case_id, youth_id=youth_id,
        purpose=purpose, hat=hat, task=task, meeting_id=meeting_id)
    youth_id = case.youth_id if case else youth_id
    row = session.scalars(_INSERT_DISCLOSURE, [dict(
        region_id=from_org.region_id,
        youth_id=youth_id, case_id=case_id,
        meeting_id=meeting_id, from_org_id=pro.organisation_id, to_org_id=to_org_id,
        professional_id=pro.id, hat=hat, purpose=decision.get("purpose", purpose or ""),
        kind=kind, outcome=decision["outcome"], decision=decision,
        ruleset_version_id=version.id, ruleset_digest=version.digest, disclosed_on=day)],
        execution_options=_RENDER_NULLS).one()
    key = app.keys.unwrap(youth.key_wrapped) if youth is not None else None
    items = []
    for item in decision["items"]:
        allowed = item["outcome"] == "allow"
        text = contents[item["data"]] if allowed else None
        items.append(dict(
            disclosure_id=row.id, category=item["data"], outcome=item["outcome"],
            codes=item["grounds"] if allowed else item["reasons"], rules=item["rules"],
            content=text if key is None else None,
            content_enc=app.keys.encrypt(key, text) if key is not None and text is not None
            else None))
    session.execute(_INSERT_ITEMS, items, execution_options=_RENDER_NULLS)
    allowed_cats = [i["data"] for i in decision["items"] if i["outcome"] == "allow"]
    audit.log(
        session, app.keys, region_id=from_org.region_id,
        actie="deny" if decision["outcome"] == "deny" else "disclose",
        activity=audit.activity(version.ruleset_id, row.purpose),
        activity_version=audit.version_label(version.version, version.digest),
        youth_id=youth_id,
        categories=allowed_cats or [i["data"] for i in decision["items"]],
        handeling=f"Verstrekking ({kind})", verwerking=f"Casusoverleg {row.purpose}",
        verwerking_id=f"deelwijs:casus:{case_id}" if case_id else f"deelwijs:verstrekking:{row.id}",
        professional=pro, uitvoerder=from_org, afnemer=to_org, hat=hat, tijdstip=started,
        decision=audit.decision_summary(decision, version.digest),
        extra={"verstrekking": row.id})
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
         app: App | None = None) -> dict:
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


def _view(row: orm.Disclosure, items: list[orm.DisclosureItem],
          content: dict[int, str | None] | None) -> dict:
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


def list_for_youth(session: Session, youth_id: int, limit: int = 1000) -> list[dict]:
    rows = session.scalars(select(orm.Disclosure).where(orm.Disclosure.youth_id == youth_id)
                           .order_by(orm.Disclosure.id.desc()).limit(limit)).all()
    # every row's items in one query, not one query per disclosure
    items: dict[int, list[orm.DisclosureItem]] = {r.id: [] for r in rows}
    if rows:
        for item in session.scalars(select(orm.DisclosureItem).where(
                orm.DisclosureItem.disclosure_id.in_(list(items)))
                .order_by(orm.DisclosureItem.id)):
            items[item.disclosure_id].append(item)
    return [_view(r, items[r.id], None) for r in rows]


def count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(orm.Disclosure)) or 0
