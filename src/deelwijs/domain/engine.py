"""The decision procedure: a pure function of a request and a ruleset.

Each data item of a disclosure is decided on its own, by the checks of
shared/spec/decisions.md in their order; the first check that decides, wins. The tables the
checks read (parties, matrix, routes, consent ages, ...) come from the ruleset; the order of
the checks is the law's procedure and lives here.

A category under a restriction of processing (AVG art. 18; `subject.restricted`, a stored
fact of the data subject's, not a covenant rule) is denied before every check, with the reason
RESTRICTED and the rule `avg.art18.beperking`.

Item decisions are memoised per ruleset on everything they depend on (the category, the
request's facts, the restrictions, and whether consent is valid): the same facts always give
the same item, so the memo changes speed, never answers. `explain=True` bypasses it and
records a trace of every rule consulted, in order, with its verdict.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from deelwijs.domain import codes
from deelwijs.domain.request import (
    AbsenceReport,
    ConsentRequired,
    Disclosure,
    Request,
    RetentionQuestion,
)
from deelwijs.domain.ruleset import Ruleset

_MEMO_LIMIT = 200_000
# A restriction of processing (AVG art. 18): its reason and rule, which no ruleset holds (the
# texts are render's: render.RESTRICTION_TITLE, render.restriction_text).
RESTRICTED = "RESTRICTED"
RESTRICTION_RULE = "avg.art18.beperking"
_VITAL_CATEGORIES = frozenset({"veiligheid", "gezondheid"})
_WEIGHING_GROUNDS = frozenset({"VITAL_INTEREST", "CONFLICT_OF_DUTIES", "COMPATIBLE_PURPOSE",
                               "LEGAL_POWER"})
_NARROWABLE_GROUNDS = frozenset({"PUBLIC_TASK", "COMPATIBLE_PURPOSE"})


@dataclass(frozen=True, slots=True)
class Step:
    """One rule consulted while deciding an item (for --explain)."""

    rule: str
    verdict: str  # not_applicable | pass | allow | deny
    note: str = ""

    def as_dict(self) -> dict:
        out = {"rule": self.rule, "verdict": self.verdict}
        if self.note:
            out["note"] = self.note
        return out


@dataclass(frozen=True, slots=True)
class Item:
    data: str
    outcome: str  # allow | deny
    grounds: tuple[str, ...]
    reasons: tuple[str, ...]
    rules: tuple[str, ...]
    obligations: tuple[str, ...]
    trace: tuple[Step, ...] | None = None


@dataclass(slots=True)  # not frozen: made once per request (see request.Disclosure)
class DisclosureDecision:
    request: Disclosure
    outcome: str
    items: tuple[Item, ...]
    obligations: tuple[str, ...]
    ruleset: Ruleset
    kind: str = "disclosure"


@dataclass(frozen=True, slots=True)
class AbsenceDecision:
    request: AbsenceReport
    duty: str  # mandatory | optional | none
    deadline_working_days: int | None
    grounds: tuple[str, ...]
    rule: str
    status: str  # leerplicht | kwalificatieplicht | rmc | none
    ruleset: Ruleset
    kind: str = "absence_report"


@dataclass(frozen=True, slots=True)
class ConsentDecision:
    request: ConsentRequired
    required: tuple[str, ...]
    rule: str
    ruleset: Ruleset
    kind: str = "consent_required"


@dataclass(frozen=True, slots=True)
class RetentionDecision:
    request: RetentionQuestion
    keep_until: dt.date
    years: int
    term: str
    rule: str
    ruleset: Ruleset
    kind: str = "retention"


Decision = DisclosureDecision | AbsenceDecision | ConsentDecision | RetentionDecision


def decide(request: Request, ruleset: Ruleset, explain: bool = False) -> Decision:
    """Decide one parsed request under one ruleset."""
    if request.kind == "disclosure":
        return decide_disclosure(request, ruleset, explain)
    if request.kind == "absence_report":
        return decide_absence(request, ruleset)
    if request.kind == "consent_required":
        return decide_consent_required(request, ruleset)
    return decide_retention(request, ruleset)


# --- consent -------------------------------------------------------------------------------


def consent_rule_for(age: int, ruleset: Ruleset) -> str:
    c = ruleset.consent
    if age >= c.youth_alone_from:
        return "consent.from_16"
    if age >= c.youth_and_parents_from:
        return "consent.age_12_15"
    return "consent.under_12"


def required_consenters(age: int, ruleset: Ruleset) -> tuple[str, ...]:
    c = ruleset.consent
    if age >= c.youth_alone_from:
        return ("youth",)
    if age >= c.youth_and_parents_from:
        return ("parents", "youth")
    return ("parents",)


def consent_is_valid(req: Disclosure, ruleset: Ruleset) -> bool:
    """Valid consent: given by whoever the age requires, in writing, beforehand, not withdrawn."""
    if req.withdrawn:
        return False
    c = ruleset.consent
    if (c.written and not req.written) or (c.prior and not req.prior):
        return False
    age = req.age
    if age >= c.youth_alone_from:
        return req.youth == "given"
    if age >= c.youth_and_parents_from:
        return req.parents == "given" and req.youth == "given"
    return req.parents == "given"


# --- education status ----------------------------------------------------------------------


def education_status(age: int, startkwalificatie: bool, ruleset: Ruleset) -> str:
    """The youth's status under the Leerplichtwet 1969 and the RMC task, by age.

    Under leerplicht below 16 (from 5); under kwalificatieplicht at 16 and 17 without a
    startkwalificatie; the RMC task (WEB art. 8.3.2) from 18 up to 23 without one; else none.
    A startkwalificatie counts from the age of kwalificatieplicht (leerplicht itself does not
    end with a diploma)."""
    a = ruleset.absence
    if age < a.leerplicht_from:
        return "none"
    if age < a.leerplicht_until:
        return "leerplicht"
    if startkwalificatie:
        return "none"
    if age < a.kwalificatieplicht_until:
        return "kwalificatieplicht"
    if age < a.rmc_until:
        return "rmc"
    return "none"


# --- disclosure ----------------------------------------------------------------------------


def decide_disclosure(req: Disclosure, ruleset: Ruleset, explain: bool = False):
    valid = consent_is_valid(req, ruleset)
    crule = consent_rule_for(req.age, ruleset)
    if explain:
        items = tuple(_decide_item(req, ruleset, cat, valid, crule, []) for cat in req.data)
    else:
        memo = ruleset.memo
        key = situation_key(req, ruleset, valid, crule)
        known = memo.get(key)
        if known is None:
            if len(memo) >= _MEMO_LIMIT:
                memo.clear()
            known = memo[key] = {}
        out = []
        for cat in req.data:
            item = known.get(cat)
            if item is None:
                item = known[cat] = _decide_item(req, ruleset, cat, valid, crule, None)
            out.append(item)
        items = tuple(out)
    allowed = 0
    obligations: set[str] = set()
    for i in items:
        if i.outcome == "allow":
            allowed += 1
            obligations.update(i.obligations)
    outcome = "allow" if allowed == len(items) else ("deny" if allowed == 0 else "partial")
    ordered = tuple(o for o in codes.OBLIGATIONS if o in obligations)
    return DisclosureDecision(req, outcome, items, ordered, ruleset)


def situation_key(req: Disclosure, rs: Ruleset, valid: bool, crule: str) -> tuple:
    """Everything an item decision depends on besides its category, and nothing more.

    Two requests with the same key get the same item for every category: that is what lets
    the memo serve most requests. It mirrors `_decide_item`; a property test checks that the
    memoised answer always equals the traced one. The restrictions come first: a restricted
    category's item names its restriction.
    """
    if req.restricted:
        return ("restricted", req.restricted,
                situation_key(replace(req, restricted=()), rs, valid, crule))
    if req.bulk:
        return ("bulk",)
    if req.anonymous:
        return ("anonymous",)
    purpose = rs.purposes[req.purpose]
    route = purpose.route
    if route == "legal":
        return ("legal", req.purpose, req.discloser, req.recipient, valid, crule,
                education_status(req.age, req.startkwalificatie, rs),
                req.weighing_documented, req.vital_interest)
    eff = rs.hats[req.hat] if req.hat else req.discloser
    parties = rs.parties
    if route == "covenant" and not _both_parties(req, rs, eff):
        return ("not_a_party", req.purpose)
    private_recipient = parties[req.recipient].kind == "private"
    if private_recipient and not valid and not req.vital_interest:
        return ("private_recipient", req.purpose, crule)
    task = None
    if req.task == "recipient":
        task = ("COMPATIBLE_PURPOSE" if req.compatible_purpose else
                "LEGAL_OBLIGATION" if req.legal_duty else
                "VITAL_INTEREST" if req.vital_interest else "C")
    municipal = route == "municipal"
    if municipal:
        domain, domains = _scope(req, rs)
        if domain is None or domain not in domains:
            return ("out_of_scope", req.purpose, domain is None, task, req.vital_interest,
                    private_recipient, valid, crule)
    elif task == "C":
        return ("situation_c", req.purpose, req.vital_interest, private_recipient, valid,
                crule)
    wams = (req.wams_in_force and req.purpose == "gecoordineerde_aanpak"
            and req.recipient == "gemeente")
    return ("decide", req.purpose, parties[eff].kind, municipal and req.recipient == "gemeente",
            private_recipient, task, req.legal_duty, wams, valid, crule,
            req.conflict_documented, req.vital_interest)


def _both_parties(req: Disclosure, rs: Ruleset, eff: str) -> bool:
    """Rule 5: both sides are covenant parties, each judged on the party it acts for (a
    discloser with the hat `toeleiding` or `coordinatie` acts for the college), with its own
    accession form or mandate where its party needs one."""
    d, r = rs.parties[eff].covenant, rs.parties[req.recipient].covenant
    return not (d == "never" or r == "never"
                or (d == "acceded" and not req.discloser_acceded)
                or (d == "mandate" and not req.discloser_mandate)
                or (r == "acceded" and not req.acceded)
                or (r == "mandate" and not req.mandate))


class _Trace:
    """Collects the steps of one item's decision; a no-op when not explaining."""

    __slots__ = ("steps",)

    def __init__(self, steps: list | None):
        self.steps = steps

    def __call__(self, rule: str, verdict: str, note: str = "") -> None:
        if self.steps is not None:
            self.steps.append(Step(rule, verdict, note))


def _obligations(grounds: tuple[str, ...], extra: tuple[str, ...] = ()) -> tuple[str, ...]:
    found = {"LOG_PROCESSING", *extra}
    if "CONSENT" in grounds:
        found.add("RECORD_CONSENT")
    if _WEIGHING_GROUNDS.intersection(grounds):
        found.add("DOCUMENT_WEIGHING")
    if "CONSENT" not in grounds and "ANONYMOUS" not in grounds:
        found.add("INFORM_DATA_SUBJECT")
    return tuple(o for o in codes.OBLIGATIONS if o in found)


def _decide_item(req: Disclosure, rs: Ruleset, cat: str, valid: bool, crule: str,
                 steps: list | None) -> Item:
    step = _Trace(steps)
    vital = req.vital_interest and cat in _VITAL_CATEGORIES

    def allow(grounds, rules, extra=()) -> Item:
        grounds = tuple(grounds)
        step(rules[0], "allow", ", ".join(grounds))
        return _conditions(req, rs, cat, valid, crule, step, steps,
                           Item(cat, "allow", grounds, (), tuple(dict.fromkeys(rules)),
                                _obligations(grounds, tuple(extra))))

    def deny(reason, rules) -> Item:
        step(rules[0], "deny", reason)
        return Item(cat, "deny", (), (reason,), tuple(dict.fromkeys(rules)), (),
                    tuple(steps) if steps is not None else None)

    def direct_route(reason, rules) -> Item:
        """A refusal that a vital interest cannot lift: say that acute danger goes by the
        direct route."""
        if req.vital_interest:
            rules = (*rules, "exception.vital_interest_direct_route")
        return deny(reason, rules)

    # 0. A restriction of processing (AVG art. 18), before the contract's checks (only traced
    # when the request names restrictions).
    if req.restricted:
        if any(c == cat for c, _ in req.restricted):
            return deny(RESTRICTED, (RESTRICTION_RULE,))
        step(RESTRICTION_RULE, "pass")
    # 1. Bulk.
    if req.bulk:
        return deny("BULK_REQUEST", ("bulk.no_bulk",))
    step("bulk.no_bulk", "pass")
    # 2. Anonymous.
    if req.anonymous:
        return allow(("ANONYMOUS",), ("anonymous.no_personal_data",))
    step("anonymous.no_personal_data", "pass")

    purpose = rs.purposes[req.purpose]
    route = purpose.route
    # 3. Legal routes.
    if route == "legal":
        return _legal_route(req, rs, cat, valid, crule, vital, step, allow, deny)

    # 4. Effective discloser (pettenvraagstuk).
    eff = rs.hats[req.hat] if req.hat else req.discloser
    step("hat.effective_discloser", "pass", eff if req.hat else "")
    parties = rs.parties

    # 5. Parties: both covenant parties in a covenant purpose; a private recipient only with
    # valid consent or a vital interest, on every purpose outside the legal routes.
    if route == "covenant":
        if not _both_parties(req, rs, eff):
            return deny("NOT_A_PARTY", ("party.covenant_parties",))
        step("party.covenant_parties", "pass")
    private_recipient = parties[req.recipient].kind == "private"
    if private_recipient:
        if not valid and not vital:
            return deny("NOT_A_PARTY", ("party.private_recipient", crule))
        step("party.private_recipient", "pass",
             "geldige toestemming" if valid else "vitaal belang")

    # 6. Purpose binding and minimisation.
    if cat not in purpose.categories:
        return direct_route("PURPOSE_MISMATCH", ("purpose.matrix",))
    step("purpose.matrix", "pass")

    # 7. Whose task (ABC).
    c_ground = c_rule = None
    if req.task == "recipient":
        if req.compatible_purpose:
            c_ground, c_rule = "COMPATIBLE_PURPOSE", "exception.compatible_purpose"
        elif req.legal_duty:
            c_ground, c_rule = "LEGAL_OBLIGATION", "exception.legal_duty"
        elif req.vital_interest:
            c_ground, c_rule = "VITAL_INTEREST", "exception.vital_interest"
        else:
            return deny("SITUATION_C", ("task.situation_c",))
        step("task.situation_c", "pass", c_ground)
    else:
        step("task.situation_c", "not_applicable")

    # 8. Municipal scope.
    municipal = route == "municipal"
    if municipal:
        domain, domains = _scope(req, rs)
        if domain is None:
            return direct_route("OUT_OF_SCOPE", ("scope.domain_unknown",))
        if domain not in domains:
            return direct_route("OUT_OF_SCOPE", ("scope.help_request",))
        step("scope.help_request", "pass", domain)
    gemeente_task = municipal and req.recipient == "gemeente"

    kind = parties[eff].kind
    missing = "SPECIAL_CATEGORY" if rs.categories[cat].special else "CONSENT_MISSING"
    grounds: list[str] = []
    rules: list[str] = []

    def add(ground: str, rule: str) -> None:
        if ground not in grounds:
            grounds.append(ground)
            rules.append(rule)

    def settle(lead: str, reason: str) -> Item:
        """No ground: deny with `reason`. A private recipient receives only on consent or a
        vital interest, never on a public task. Where consent lifts a secrecy or is a private
        discloser's own ground towards the college, the college receives on its public task
        (rule 8). A public body within scope always has its public task there, so under 1.1
        no item ends on consent alone towards the college (CONSENT_NOT_A_GROUND stays a code
        for answers stored under 1.0)."""
        if private_recipient and "PUBLIC_TASK" in grounds:
            i = grounds.index("PUBLIC_TASK")
            del grounds[i], rules[i]
        if not grounds:
            return deny(reason, (lead, crule))
        if grounds == ["CONSENT"] and gemeente_task:
            add("PUBLIC_TASK", "scope.college_public_task")
        return allow(grounds, (lead, *rules))

    # 9. Professional secrecy.
    if kind == "secrecy":
        if req.legal_duty:
            add("LEGAL_OBLIGATION", "exception.legal_duty")
        if (req.wams_in_force and req.purpose == "gecoordineerde_aanpak"
                and req.recipient == "gemeente"):
            add("LEGAL_OBLIGATION", "exception.wams_request")
        if valid:
            add("CONSENT", crule)
        if req.conflict_documented:
            add("CONFLICT_OF_DUTIES", "exception.conflict_of_duties")
        if vital:
            add("VITAL_INTEREST", "exception.vital_interest")
        return settle("secrecy.professional", "PROFESSIONAL_SECRECY")

    # 10. Public bodies.
    if kind == "public_body":
        if rs.categories[cat].outside:
            if c_ground:
                add(c_ground, c_rule)
            else:
                add("PUBLIC_TASK", "public.outside_information")
            if private_recipient:  # never on a public task: on consent or a vital interest
                if valid:
                    add("CONSENT", crule)
                if vital:
                    add("VITAL_INTEREST", "exception.vital_interest")
            return settle("public.outside_information", "CONSENT_MISSING")
        if req.legal_duty:
            add("LEGAL_OBLIGATION", "exception.legal_duty")
        if municipal:
            add("PUBLIC_TASK", "public.inside_information")
        if valid and (not municipal or private_recipient):
            add("CONSENT", crule)
        if vital:
            add("VITAL_INTEREST", "exception.vital_interest")
        return settle("public.inside_information", missing)

    # 11. Private disclosers (kinderopvang, derde): no public task and no secrecy.
    if req.legal_duty:
        add("LEGAL_OBLIGATION", "exception.legal_duty")
    if valid:
        add("CONSENT", crule)
    if vital:
        add("VITAL_INTEREST", "exception.vital_interest")
    return settle("private.other_disclosers", missing)


def _legal_route(req: Disclosure, rs: Ruleset, cat: str, valid: bool, crule: str,
                 vital: bool, step: _Trace, allow, deny) -> Item:
    """Rule 3: the first entry of the purpose's route that matches decides."""
    status = None
    kind = rs.parties[req.discloser].kind
    for r in rs.routes[req.purpose]:
        if r.status is not None and status is None:
            status = education_status(req.age, req.startkwalificatie, rs)
        if ((r.from_ is not None and req.discloser not in r.from_)
                or (r.to is not None and req.recipient not in r.to)
                or (r.from_kind is not None and kind not in r.from_kind)
                or (r.status is not None and status not in r.status)):
            step(r.rule, "not_applicable")
            continue
        if r.deny:
            return deny(r.deny, (r.rule,))
        if r.categories is not None and cat not in r.categories:
            rule = r.otherwise_rule or r.rule
            if r.otherwise == "consent":
                if valid:
                    return allow(("CONSENT",), (rule, crule))
                return deny("CONSENT_MISSING", (rule, crule))
            return deny(r.otherwise, (rule, r.rule))
        grounds: list[str] = []
        rules: list[str] = [r.rule]
        own = r.grant != "consent" and (r.needs is None or getattr(req, r.needs))
        if own:
            grounds.append(r.grant)
        if valid and (r.grant == "consent" or "consent" in r.alternatives):
            grounds.append("CONSENT")
            rules.append(crule)
        if vital and "vital_interest" in r.alternatives:
            grounds.append("VITAL_INTEREST")
            rules.append("exception.vital_interest")
        if not grounds:
            return deny(r.lacking or "CONSENT_MISSING",
                        (r.rule, crule) if r.grant == "consent" or "consent" in r.alternatives
                        else (r.rule,))
        return allow(grounds, rules, r.obligations if own else ())
    return deny("NOT_A_PARTY", (f"route.{req.purpose}",))  # unreachable: loader checks


def _scope(req: Disclosure, rs: Ruleset) -> tuple[str | None, tuple[str, ...]]:
    """The recipient's domain (given, else its party's; a `gemeente` recipient without one
    acts in the purpose's college domain) and the domains of the request for help (given,
    else the purpose's default): check 8 compares the two."""
    purpose = rs.purposes[req.purpose]
    domains = req.help_request_domains
    if domains is None:
        domains = purpose.default_help_request_domains
    domain = req.recipient_domain or rs.parties[req.recipient].default_domain
    if domain is None and req.recipient == "gemeente":
        domain = purpose.college_domain
    return domain, domains


def _conditions(req: Disclosure, rs: Ruleset, cat: str, valid: bool, crule: str,
                step: _Trace, steps: list | None, item: Item) -> Item:
    """Apply a regional ruleset's extra conditions to an allowed item (they only narrow)."""
    for cond in rs.conditions:
        if req.purpose not in cond.purposes or (
            cond.categories is not None and cat not in cond.categories
        ):
            step(cond.id, "not_applicable")
            continue
        if "CONSENT" in item.grounds or not set(item.grounds) <= _NARROWABLE_GROUNDS:
            step(cond.id, "pass", "toestemming of wettelijke grond aanwezig")
            continue
        if not valid:
            step(cond.id, "deny", "CONSENT_MISSING")
            return Item(cat, "deny", (), ("CONSENT_MISSING",), (cond.id, crule), (),
                        tuple(steps) if steps is not None else None)
        grounds = (*item.grounds, "CONSENT")
        item = Item(cat, "allow", grounds, (), (*item.rules, cond.id, crule),
                    _obligations(grounds))
        step(cond.id, "pass", "geldige toestemming")
    if steps is not None:
        return Item(item.data, item.outcome, item.grounds, item.reasons, item.rules,
                    item.obligations, tuple(steps))
    return item


# --- absence reports -----------------------------------------------------------------------


def decide_absence(req: AbsenceReport, rs: Ruleset) -> AbsenceDecision:
    a = rs.absence

    def result(duty, rule, status):
        grounds = {"mandatory": ("LEGAL_OBLIGATION",), "optional": ("PUBLIC_TASK",)}
        return AbsenceDecision(
            req, duty, a.deadline_working_days if duty == "mandatory" else None,
            grounds.get(duty, ()), rule, status, rs,
        )

    status = education_status(req.age, req.startkwalificatie, rs)
    if status == "none":
        if req.age >= a.rmc_until:
            return result("none", "absence.from_rmc_age", "none")
        return result("none", "absence.no_duty", "none")
    if status == "rmc":
        if req.type == "ziekte":
            return result("none", "absence.illness", "rmc")
        if req.type == "langdurig_relatief":
            return result("mandatory", "absence.rmc_prolonged", "rmc")
        return result("optional", "absence.adult_rmc", "rmc")
    if req.type == "ziekte":
        return result("none", "absence.illness", status)
    if req.type == "luxe":
        return result("mandatory", "absence.luxe", status)
    if req.type == "langdurig_relatief":
        return result("mandatory", "absence.langdurig_relatief", status)
    if req.type == "vermoeden_ongeoorloofd":
        return result("optional", "absence.suspected", status)
    if req.unauthorised_hours >= a.threshold_hours and req.school_weeks <= a.threshold_weeks:
        return result("mandatory", "absence.threshold", status)
    return result("optional", "absence.below_threshold", status)


# --- consent required ----------------------------------------------------------------------


def decide_consent_required(req: ConsentRequired, rs: Ruleset) -> ConsentDecision:
    return ConsentDecision(req, required_consenters(req.age, rs), consent_rule_for(req.age, rs),
                           rs)


# --- retention -----------------------------------------------------------------------------


def add_years(day: dt.date, years: int) -> dt.date:
    """The same day and month `years` later; 28 February where that day does not exist."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February into a year that is not a leap year
        return day.replace(year=day.year + years, day=28)


def decide_retention(req: RetentionQuestion, rs: Ruleset) -> RetentionDecision:
    r = rs.retention[req.record]
    years, rule = r.years, r.rule
    if r.before_date and req.ended_on < dt.date.fromisoformat(r.before_date):
        years, rule = r.before_years, r.before_rule
    return RetentionDecision(req, add_years(req.ended_on, years), years, r.term, rule, rs)
