"""Properties of the decision engine over random, valid requests (hypothesis).

Each test states one rule of shared/spec/decisions.md, or one promise of the engine's code
(the situation memo, the fast parser), and checks it against requests that hypothesis draws
across every code of the contract: all parties, hats, purposes, categories, domains, tasks,
consent answers, ages 0..30, the exceptions and the context flags. Where a property depends
on the spec's own tables (the purpose × category matrix, who is a covenant party), the table
is copied here from decisions.md, so the test checks the rule data against the spec rather
than against itself.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from unittest import mock

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from deelwijs.domain import codes, engine, request
from deelwijs.domain.engine import decide, situation_key
from deelwijs.domain.errors import RequestError
from deelwijs.domain.render import to_json
from deelwijs.domain.request import parse_request
from deelwijs.rules import loader, show

MODEL = loader.model()
REGION = loader.resolve("voorbeeldregio")
# A second, separately compiled copy of voorbeeldregio: its memo is filled only by the test
# that uses it, across all of that test's examples.
OWN_MEMO = loader.load_text(
    loader.builtin_path("voorbeeldregio").read_text(encoding="utf-8"), "voorbeeldregio.yaml")

PROPERTY = settings(max_examples=300, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
FEW = settings(max_examples=60, deadline=None,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# --- the spec's tables, copied from shared/spec/decisions.md ---------------------------------

_ALL_BUT = {
    "signalering": {"hulpverlening", "gezondheid", "justitie"},
    "thuiszitters": {"justitie"},
    "een_plan": {"leerresultaten", "justitie"},
    "oza": {"justitie"},
    "toeleiding": {"leerresultaten", "justitie"},
    "gecoordineerde_aanpak": {"leerresultaten", "justitie"},
}
SPEC_MATRIX = {p: frozenset(codes.CATEGORIES) - gone for p, gone in _ALL_BUT.items()}
SPEC_HATS = {"toeleiding": "gemeente", "coordinatie": "gemeente", "hulpverlening": "jeugdhulp"}
# Rule 5: who takes part in a covenant overleg, and on what condition (recipient side).
SPEC_MEMBERS = {"school": "mandate", "swv": "always", "leerplicht": "always",
                "gemeente": "always", "jeugdhulp": "acceded", "jgz": "acceded",
                "huisarts": "acceded"}

# --- strategies ------------------------------------------------------------------------------

BOOLS = st.booleans()
RARELY = st.sampled_from([False, False, False, False, True])  # bulk, anonymous: mostly off


def _sub(optional: dict, required: dict | None = None):
    return st.fixed_dictionaries(required or {}, optional=optional)


CONSENT = _sub({
    "parents": st.sampled_from(codes.CONSENT_ANSWERS),
    "youth": st.sampled_from(codes.CONSENT_ANSWERS),
    "written": BOOLS, "prior": BOOLS, "withdrawn": BOOLS,
})
EXCEPTIONS = _sub({
    "vital_interest": BOOLS,
    "conflict_of_duties": _sub({"documented": BOOLS}),
    "legal_duty": BOOLS,
    "compatible_purpose": BOOLS,
    "weighing_documented": BOOLS,
})
CONTEXT = _sub({
    "help_request_domains": st.lists(st.sampled_from(codes.DOMAINS), unique=True, max_size=4),
    "bulk": RARELY,
    "wams_in_force": BOOLS,
})


def disclosure_requests(purposes=codes.PURPOSES, parties=codes.PARTIES,
                        categories=codes.CATEGORIES):
    """Valid `disclosure` request objects, as JSON would give them."""
    party = st.sampled_from(parties)
    # A hat only on a wijkteam professional (rule 4): on any other party it is bad input.
    plain = _sub({"acceded": BOOLS, "mandate": BOOLS}, {"party": party})
    wearers = [p for p in parties if p in codes.HAT_WEARERS]
    hatted = (_sub({"hat": st.sampled_from(codes.HATS), "acceded": BOOLS, "mandate": BOOLS},
                   {"party": st.sampled_from(wearers)}) if wearers else plain)
    return _sub(
        required={
            "discloser": st.one_of(plain, hatted),
            "recipient": _sub({"acceded": BOOLS, "mandate": BOOLS,
                               "domain": st.sampled_from(codes.DOMAINS)}, {"party": party}),
            "subject": _sub({"anonymous": RARELY, "startkwalificatie": BOOLS},
                            {"age": st.integers(0, 30)}),
            "purpose": st.sampled_from(purposes),
            "data": st.lists(st.sampled_from(categories), min_size=1, unique=True),
        },
        optional={
            "kind": st.just("disclosure"),
            "task": st.sampled_from(codes.TASKS),
            "consent": CONSENT,
            "exceptions": EXCEPTIONS,
            "context": CONTEXT,
        },
    )


REQUESTS = disclosure_requests()

OTHER_REQUESTS = st.one_of(
    st.fixed_dictionaries({"kind": st.just("absence_report"),
                           "subject": _sub({"startkwalificatie": BOOLS},
                                           {"age": st.integers(0, 30)}),
                           "absence": st.fixed_dictionaries({
                               "type": st.sampled_from(codes.ABSENCE_TYPES),
                               "unauthorised_hours": st.integers(0, 80) | st.floats(0, 80),
                               "school_weeks": st.integers(1, 12)})}),
    st.fixed_dictionaries({"kind": st.just("consent_required"),
                           "subject": st.fixed_dictionaries({"age": st.integers(0, 30)})}),
    st.fixed_dictionaries({"kind": st.just("retention"),
                           "record": st.sampled_from(codes.RECORDS),
                           # Up to 9000: later days are refused as out of range.
                           "ended_on": st.dates(max_value=dt.date(9000, 12, 31))
                           .map(lambda d: d.isoformat())}),
)

# Every leaf of a disclosure request: a mutation replaces one of them.
LEAVES = (
    ("discloser", "party"), ("discloser", "hat"), ("discloser", "acceded"),
    ("discloser", "mandate"), ("subject", "startkwalificatie"),
    ("exceptions", "weighing_documented"), ("recipient", "party"),
    ("recipient", "acceded"), ("recipient", "mandate"), ("recipient", "domain"),
    ("subject", "age"), ("subject", "anonymous"), ("purpose",), ("task",), ("data",),
    ("consent", "parents"), ("consent", "youth"), ("consent", "written"),
    ("consent", "prior"), ("consent", "withdrawn"), ("exceptions", "vital_interest"),
    ("exceptions", "conflict_of_duties"), ("exceptions", "legal_duty"),
    ("exceptions", "compatible_purpose"), ("context", "help_request_domains"),
    ("context", "bulk"), ("context", "wams_in_force"),
)
_MISSING = object()


def _get(obj: dict, path: tuple):
    for key in path:
        if not isinstance(obj, dict) or key not in obj:
            return _MISSING
        obj = obj[key]
    return obj


def _put(obj: dict, path: tuple, value) -> dict:
    """A copy of `obj` with the leaf at `path` set to `value` (or removed, for _MISSING)."""
    out = copy.deepcopy(obj)
    here = out
    for key in path[:-1]:
        here = here.setdefault(key, {})
    if value is _MISSING:
        here.pop(path[-1], None)
    else:
        here[path[-1]] = copy.deepcopy(value)
    return out


@st.composite
def neighbours(draw, base=REQUESTS):
    """A request and a variant of it that differs in one to three leaves.

    Variants often share the memo's situation key with their base, which is what tests the
    key: a field left out of the key shows up as a variant answered from its base's entry.
    """
    a = draw(base)
    donor = draw(base)
    b = a
    for path in draw(st.lists(st.sampled_from(LEAVES), min_size=1, max_size=3, unique=True)):
        b = _put(b, path, _get(donor, path))
    return a, _valid_hat(b)


def _valid_hat(obj: dict) -> dict:
    """A hat only where rule 4 accepts one: a variant that moved a hat onto another party
    drops it (that is bad input, tested in tests/cli/test_decide_command.py)."""
    d = obj["discloser"]
    if "hat" in d and d["party"] not in codes.HAT_WEARERS:
        return _put(obj, ("discloser", "hat"), _MISSING)
    return obj


def _decide(obj, rs, explain=False):
    return decide(parse_request(_valid_hat(obj), rs), rs, explain)


def _items(decision) -> list[tuple]:
    return [(i.data, i.outcome, i.grounds, i.reasons, i.rules, i.obligations)
            for i in decision.items]


def _membership(party: str, side: dict) -> bool:
    """Rule 5 as the spec words it; `side` is the request's discloser or recipient object,
    whose `acceded` / `mandate` flags say whether that side's form or mandate is there (1.1:
    the discloser's own too). A discloser with the hat toeleiding or coordinatie acts for the
    college, which is always a party: the caller passes the effective party."""
    condition = SPEC_MEMBERS.get(party)
    if condition is None:
        return False
    if condition == "always":
        return True
    return side.get(condition, True)


# --- every answer is well-formed -------------------------------------------------------------


@PROPERTY
@given(obj=REQUESTS)
def test_every_allowed_item_has_a_ground_and_every_denied_item_a_reason(obj):
    d = _decide(obj, MODEL)
    assert [i.data for i in d.items] == obj["data"]
    for item in d.items:
        assert item.outcome in ("allow", "deny")
        assert item.rules, item
        if item.outcome == "allow":
            assert item.grounds and not item.reasons, item
            assert set(item.grounds) <= set(codes.GROUNDS)
            assert "LOG_PROCESSING" in item.obligations
            assert ("RECORD_CONSENT" in item.obligations) == ("CONSENT" in item.grounds)
            if {"VITAL_INTEREST", "CONFLICT_OF_DUTIES", "COMPATIBLE_PURPOSE",
                    "LEGAL_POWER"} & set(item.grounds):
                assert "DOCUMENT_WEIGHING" in item.obligations
        else:
            assert item.reasons and not item.grounds, item
            assert set(item.reasons) <= set(codes.REASONS)
            assert item.obligations == ()
    allowed = sum(i.outcome == "allow" for i in d.items)
    expected = ("allow" if allowed == len(d.items) else "deny" if allowed == 0 else "partial")
    assert d.outcome == expected
    union = {o for i in d.items if i.outcome == "allow" for o in i.obligations}
    assert d.obligations == tuple(o for o in codes.OBLIGATIONS if o in union)


@PROPERTY
@given(obj=REQUESTS)
def test_the_json_answer_states_the_same_outcome_as_its_items(obj):
    answer = to_json(_decide(obj, MODEL))
    outcomes = {i["outcome"] for i in answer["items"]}
    assert answer["outcome"] == (outcomes.pop() if len(outcomes) == 1 else "partial")
    for item in answer["items"]:
        assert bool(item["grounds"]) == (item["outcome"] == "allow")
        assert bool(item["reasons"]) == (item["outcome"] == "deny")


# --- rule 1: bulk ----------------------------------------------------------------------------


@PROPERTY
@given(obj=REQUESTS, rs=st.sampled_from([MODEL, REGION]))
def test_a_bulk_request_denies_every_item(obj, rs):
    obj = _put(obj, ("context", "bulk"), True)
    d = _decide(obj, rs)
    assert d.outcome == "deny"
    assert d.obligations == ()
    for item in d.items:
        assert item.reasons == ("BULK_REQUEST",)
        assert item.rules == ("bulk.no_bulk",)


# --- rule 6: the matrix ----------------------------------------------------------------------


@PROPERTY
@given(obj=REQUESTS, data=st.data())
def test_a_category_outside_the_purpose_matrix_is_only_allowed_anonymously(obj, data):
    """Rule 6, in the order of decisions.md: bulk (1) denies first; an anonymous case (2) is
    allowed ANONYMOUS before the matrix is consulted, since no personal data flows; otherwise
    a category outside the matrix of a covenant purpose (signalering, thuiszitters, een_plan,
    oza) or a municipal one (toeleiding, gecoordineerde_aanpak) is denied, whatever the
    consent or exceptions: NOT_A_PARTY where rule 5 already refused a party, else
    PURPOSE_MISMATCH."""
    purpose = data.draw(st.sampled_from(sorted(SPEC_MATRIX)), label="purpose")
    outside = sorted(set(codes.CATEGORIES) - SPEC_MATRIX[purpose])
    extra = data.draw(st.lists(st.sampled_from(outside), min_size=1, unique=True),
                      label="outside")
    obj = {**obj, "purpose": purpose, "data": list(dict.fromkeys([*obj["data"], *extra]))}
    d = _decide(obj, MODEL)
    bulk = obj.get("context", {}).get("bulk", False)
    anonymous = obj["subject"].get("anonymous", False)
    hat = obj["discloser"].get("hat")
    discloser = SPEC_HATS[hat] if hat else obj["discloser"]["party"]
    parties_ok = (purpose not in codes.COVENANT_PURPOSES
                  or (_membership(discloser, obj["discloser"])
                      and _membership(obj["recipient"]["party"], obj["recipient"])))
    valid = spec_consent_is_valid(obj)
    vital = obj.get("exceptions", {}).get("vital_interest", False)
    private_refused = (obj["recipient"]["party"] in PRIVATE and not valid)
    for item in d.items:
        if item.data in SPEC_MATRIX[purpose]:
            continue
        if bulk:
            assert item.reasons == ("BULK_REQUEST",)
        elif anonymous:
            assert (item.outcome, item.grounds) == ("allow", ("ANONYMOUS",))
        else:
            assert item.outcome == "deny", item
            # Rule 5 (1.1): a private recipient without consent is refused before the matrix,
            # unless a vital interest for a vital category lets it through to rule 6.
            refused = not parties_ok or (private_refused
                                         and not (vital and item.data in VITAL))
            want = "NOT_A_PARTY" if refused else "PURPOSE_MISMATCH"
            assert item.reasons == (want,), item


def test_the_model_rulesets_matrix_is_the_specs():
    for purpose, cats in SPEC_MATRIX.items():
        assert MODEL.purposes[purpose].categories == cats, purpose


# --- the ten checks, as decisions.md words them ----------------------------------------------

VITAL = frozenset({"veiligheid", "gezondheid"})
OUTSIDE = frozenset({"identificatie", "onderwijspositie", "verzuim", "betrokkenheid"})
SECRECY = frozenset({"jeugdhulp", "jgz", "huisarts", "veilig_thuis", "gi", "raad"})
PUBLIC = frozenset({"school", "swv", "leerplicht", "gemeente"})
PRIVATE = frozenset({"kinderopvang", "derde"})
VERZUIMMELDING = frozenset({"identificatie", "onderwijspositie", "verzuim"})
ONDERWIJSKUNDIG_RAPPORT = frozenset({"identificatie", "onderwijspositie", "verzuim",
                                     "leerresultaten", "ondersteuningsbehoefte", "gedrag"})


def spec_consent_is_valid(obj: dict) -> bool:
    c = obj.get("consent", {})
    if c.get("withdrawn", False) or not c.get("written", True) or not c.get("prior", True):
        return False
    age = obj["subject"]["age"]
    needed = ("parents",) if age < 12 else ("parents", "youth") if age < 16 else ("youth",)
    return all(c.get(who, "none") == "given" for who in needed)


def spec_status(obj: dict) -> str:
    """The youth's status as decisions.md words it (rule 3, verzuimmelding)."""
    age, sk = obj["subject"]["age"], obj["subject"].get("startkwalificatie", False)
    if 5 <= age <= 15:
        return "leerplicht"
    if 16 <= age <= 17 and not sk:
        return "kwalificatieplicht"
    if 18 <= age <= 22 and not sk:
        return "rmc"
    return "none"


def spec_item(obj: dict, cat: str):
    """What decisions.md (1.1) says about one item: ("allow", {grounds}), ("allow_one_of",
    {grounds}), ("deny", reason), or None where the spec leaves the case open (the engine
    then decides as an FG would: its own rules, not checked here)."""
    ctx, exc, rec = obj.get("context", {}), obj.get("exceptions", {}), obj["recipient"]
    purpose, d, r = obj["purpose"], obj["discloser"]["party"], rec["party"]
    valid = spec_consent_is_valid(obj)
    vital = bool(exc.get("vital_interest")) and cat in VITAL

    def by_consent():
        return ("allow", {"CONSENT"}) if valid else ("deny", "CONSENT_MISSING")

    # 1, 2
    if ctx.get("bulk", False):
        return ("deny", "BULK_REQUEST")
    if obj["subject"].get("anonymous", False):
        return ("allow", {"ANONYMOUS"})
    # 3: legal routes, before hats and covenant
    if purpose == "ots":
        return ("allow", {"LEGAL_OBLIGATION"}) if r == "gi" else ("deny", "NOT_A_PARTY")
    if purpose == "meldcode":
        return ("allow", {"MELDRECHT"}) if r == "veilig_thuis" else ("deny", "NOT_A_PARTY")
    if purpose == "verzuimmelding":
        if (d, r) != ("school", "leerplicht"):
            return ("deny", "NOT_A_PARTY")
        status = spec_status(obj)
        if status == "none" or cat not in VERZUIMMELDING:
            return ("deny", "PURPOSE_MISMATCH")
        return ("allow", {"PUBLIC_TASK" if status == "rmc" else "LEGAL_OBLIGATION"})
    if purpose == "overdracht":
        if (d, r) == ("school", "school"):
            return (("allow", {"LEGAL_OBLIGATION"}) if cat in ONDERWIJSKUNDIG_RAPPORT
                    else by_consent())
        if (d, r) == ("kinderopvang", "school"):
            return by_consent()
        return ("deny", "NOT_A_PARTY")
    if purpose == "raadsonderzoek":
        if r != "raad":
            return ("deny", "NOT_A_PARTY")
        grounds = {"CONSENT"} if valid else set()
        if d in PRIVATE:
            if vital:
                grounds.add("VITAL_INTEREST")
            return ("allow", grounds) if grounds else ("deny", "CONSENT_MISSING")
        if exc.get("weighing_documented"):
            grounds.add("LEGAL_POWER")
        if grounds:
            return ("allow", grounds)
        return ("deny", "PROFESSIONAL_SECRECY" if d in SECRECY else "CONSENT_MISSING")
    # 4
    hat = obj["discloser"].get("hat")
    eff = SPEC_HATS[hat] if hat else d
    # 5: covenant parties, both sides; private recipients on every other purpose
    if purpose in codes.COVENANT_PURPOSES and not (
            _membership(eff, obj["discloser"]) and _membership(r, rec)):
        return ("deny", "NOT_A_PARTY")
    private_recipient = r in PRIVATE
    if private_recipient and not valid and not vital:
        return ("deny", "NOT_A_PARTY")
    # 6 (the spec's matrix has no column for eigen_taak: what it needs is the ruleset's choice)
    if purpose in SPEC_MATRIX and cat not in SPEC_MATRIX[purpose]:
        return ("deny", "PURPOSE_MISMATCH")
    if purpose == "eigen_taak" and cat not in MODEL.purposes[purpose].categories:
        return None
    # 7
    task = obj.get("task", "both")
    c_grounds = {g for flag, g in ((exc.get("compatible_purpose"), "COMPATIBLE_PURPOSE"),
                                   (exc.get("legal_duty"), "LEGAL_OBLIGATION"),
                                   (exc.get("vital_interest"), "VITAL_INTEREST")) if flag}
    if task == "recipient" and not c_grounds:
        return ("deny", "SITUATION_C")
    # 8
    municipal = purpose in codes.MUNICIPAL_PURPOSES
    if municipal:
        domains = ctx.get("help_request_domains")
        if domains is None:
            domains = ["jeugd"] if purpose == "toeleiding" else []
        domain = rec.get("domain")
        if domain is None and r == "gemeente" and purpose == "toeleiding":
            domain = "jeugd"
        if domain is None:
            return None  # the spec gives parties no domain of their own
        if domain not in domains:
            return ("deny", "OUT_OF_SCOPE")
    gemeente_task = municipal and r == "gemeente"

    def college(grounds: set):
        """Rule 8: the college receives on its public task where consent carried the item."""
        if grounds == {"CONSENT"} and gemeente_task:
            return {"CONSENT", "PUBLIC_TASK"}
        return grounds

    # 9
    if eff in SECRECY:
        grounds = set()
        if exc.get("legal_duty") or (ctx.get("wams_in_force") and r == "gemeente"
                                     and purpose == "gecoordineerde_aanpak"):
            grounds.add("LEGAL_OBLIGATION")
        if valid:
            grounds.add("CONSENT")
        if exc.get("conflict_of_duties", {}).get("documented"):
            grounds.add("CONFLICT_OF_DUTIES")
        if vital:
            grounds.add("VITAL_INTEREST")
        if not grounds:
            return ("deny", "PROFESSIONAL_SECRECY")
        return ("allow", college(grounds))
    special = cat in ("gezondheid", "justitie")
    # 10
    if eff in PUBLIC:
        if cat in OUTSIDE:
            if private_recipient:
                return None  # consent or a vital interest, beside the public task: FG reading
            return ("allow", {"PUBLIC_TASK"}) if task != "recipient" else ("allow_one_of",
                                                                           c_grounds)
        if purpose == "eigen_taak" and not private_recipient:
            return None
        grounds = set()
        if exc.get("legal_duty"):
            grounds.add("LEGAL_OBLIGATION")
        if municipal and not private_recipient:
            grounds.add("PUBLIC_TASK")
        elif valid:
            grounds.add("CONSENT")
        if vital:
            grounds.add("VITAL_INTEREST")
        if not grounds:
            return ("deny", "SPECIAL_CATEGORY" if special else "CONSENT_MISSING")
        return ("allow", grounds)
    # 11: private disclosers
    if eff in PRIVATE:
        grounds = set()
        if exc.get("legal_duty"):
            grounds.add("LEGAL_OBLIGATION")
        if valid:
            grounds.add("CONSENT")
        if vital:
            grounds.add("VITAL_INTEREST")
        if not grounds:
            return ("deny", "SPECIAL_CATEGORY" if special else "CONSENT_MISSING")
        return ("allow", college(grounds))
    return None


@st.composite
def spec_shaped_requests(draw):
    """Requests shaped like the spec's cases: the legal routes' own parties, covenant
    members, recipients with a domain; then anything at all."""
    obj = draw(REQUESTS)
    shape = draw(st.sampled_from(["legal", "covenant", "municipal", "any"]))
    if shape == "legal":
        purpose, d, r = draw(st.sampled_from([
            ("ots", None, "gi"), ("meldcode", None, "veilig_thuis"), ("meldcode", None, None),
            ("verzuimmelding", "school", "leerplicht"), ("overdracht", "school", "school"),
            ("overdracht", "kinderopvang", "school"), ("raadsonderzoek", None, "raad"),
            ("raadsonderzoek", None, None), ("ots", None, None)]))
        obj = {**obj, "purpose": purpose}
        if d:
            obj = _put(obj, ("discloser", "party"), d)
        if r:
            obj = _put(obj, ("recipient", "party"), r)
    elif shape in ("covenant", "municipal"):
        members = sorted(SPEC_MEMBERS)
        obj = _put(obj, ("discloser", "party"), draw(st.sampled_from(members)))
        obj = _put(obj, ("recipient", "party"), draw(st.sampled_from(members)))
        purposes = (codes.COVENANT_PURPOSES if shape == "covenant"
                    else codes.MUNICIPAL_PURPOSES)
        obj = {**obj, "purpose": draw(st.sampled_from(purposes))}
        if shape == "municipal":
            obj = _put(obj, ("recipient", "domain"), draw(st.sampled_from(codes.DOMAINS)))
    return obj


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(obj=spec_shaped_requests())
def test_the_engine_decides_as_the_specs_ten_checks_wherever_the_spec_decides(obj):
    """An independent reading of decisions.md (checks 1 to 10, valid consent, the matrix),
    compared item by item with the model ruleset's answer. Cases the spec leaves open (the
    FG judgements) are skipped, and counted."""
    obj = _valid_hat(obj)
    d = _decide(obj, MODEL)
    for item in d.items:
        want = spec_item(obj, item.data)
        event("spec decides" if want is not None else "spec leaves open")
        if want is None:
            continue
        how, what = want
        if how == "deny":
            assert (item.outcome, item.reasons) == ("deny", (what,)), (item, want)
        elif how == "allow":
            assert item.outcome == "allow" and set(item.grounds) == what, (item, want)
        else:
            assert item.outcome == "allow" and len(item.grounds) == 1, (item, want)
            assert item.grounds[0] in what, (item, want)


# --- consent only ever helps -----------------------------------------------------------------

WEAKENINGS = ("withdrawn", "not_written", "not_prior", "parents", "youth")


@st.composite
def weaker_consent(draw, obj):
    """`obj` with its consent made worse in one or more ways."""
    consent = dict(obj.get("consent", {}))
    for how in draw(st.lists(st.sampled_from(WEAKENINGS), min_size=1, unique=True)):
        if how == "withdrawn":
            consent["withdrawn"] = True
        elif how == "not_written":
            consent["written"] = False
        elif how == "not_prior":
            consent["prior"] = False
        elif consent.get(how, "none") == "given":
            consent[how] = draw(st.sampled_from(["refused", "none"]))
    return {**obj, "consent": consent}


@PROPERTY
@given(obj=REQUESTS, data=st.data(), rs=st.sampled_from([MODEL, REGION]))
def test_less_consent_never_turns_a_deny_into_an_allow(obj, data, rs):
    weaker = data.draw(weaker_consent(obj), label="weaker")
    before = _decide(obj, rs)
    after = _decide(weaker, rs)
    for a, b in zip(before.items, after.items, strict=True):
        if a.outcome == "deny":
            assert b.outcome == "deny", (a, b)


FULL_CONSENT = st.fixed_dictionaries({
    "parents": st.sampled_from(codes.CONSENT_ANSWERS),
    "youth": st.sampled_from(codes.CONSENT_ANSWERS),
    "written": BOOLS, "prior": BOOLS, "withdrawn": BOOLS,
})


@PROPERTY
@given(obj=REQUESTS, consent=FULL_CONSENT | CONSENT)
def test_consent_counts_only_from_the_people_the_age_requires(obj, consent):
    """Valid consent: under 12 the parents, 12 to 15 the parents and the youth, from 16 the
    youth alone; only when given, written, prior and not withdrawn."""
    obj = {**obj, "consent": consent}
    req = parse_request(obj, MODEL)
    given_by = {who: consent.get(who) == "given" for who in ("parents", "youth")}
    age = obj["subject"]["age"]
    needed = ("parents",) if age < 12 else ("parents", "youth") if age < 16 else ("youth",)
    form_ok = (consent.get("written", True) and consent.get("prior", True)
               and not consent.get("withdrawn", False))
    expected = form_ok and all(given_by[who] for who in needed)
    assert engine.consent_is_valid(req, MODEL) == expected
    assert engine.required_consenters(age, MODEL) == needed


# --- a region only narrows -------------------------------------------------------------------


def _assert_region_allows_no_more(obj: dict, model_obj: dict, rs) -> None:
    in_region = _decide(obj, rs)
    in_model = _decide(model_obj, MODEL)
    for r, m in zip(in_region.items, in_model.items, strict=True):
        if r.outcome == "allow":
            assert m.outcome == "allow", (r, m)


@PROPERTY
@given(obj=REQUESTS, data=st.data())
def test_voorbeeldregio_never_allows_what_the_model_denies(obj, data):
    names = [n for n, p in REGION.overleg_types.items() if p == obj["purpose"]]
    given_obj = obj
    if names and data.draw(BOOLS, label="use overleg name"):
        given_obj = {**obj, "purpose": data.draw(st.sampled_from(names), label="overleg")}
    _assert_region_allows_no_more(given_obj, obj, REGION)


NON_LEGAL = [p for p in codes.PURPOSES if MODEL.purposes[p].route != "legal"]
CONDITION_PURPOSES = [p for p in NON_LEGAL if MODEL.purposes[p].route != "municipal"]
MEMBER_PARTIES = [p for p, v in MODEL.parties.items() if v.covenant != "never"]
OVERLEG_NAMES = ("Casustafel", "Zorgteam", "Wijkoverleg", "Thuiszittertafel", "MDO")


@st.composite
def narrowing_regions(draw):
    """A random regional ruleset that only narrows the model: (YAML text, the document)."""
    doc: dict = {"format": 1, "id": "willekeurig", "version": "0.1",
                 "extends": "model-convenant", "title": "Willekeurige regio"}
    purposes = {}
    for p in draw(st.lists(st.sampled_from(NON_LEGAL), unique=True)):
        base = sorted(MODEL.purposes[p].categories, key=codes.CATEGORIES.index)
        purposes[p] = {"categories": draw(st.lists(st.sampled_from(base), unique=True))}
    if purposes:
        doc["purposes"] = purposes
    never = draw(st.lists(st.sampled_from(MEMBER_PARTIES), unique=True))
    if never:
        doc["parties"] = {p: {"covenant": "never"} for p in never}
    conditions = []
    for i in range(draw(st.integers(0, 3))):
        cond = {"id": f"willekeurig.voorwaarde_{i}",
                "purposes": draw(st.lists(st.sampled_from(CONDITION_PURPOSES), min_size=1,
                                          unique=True)),
                "require": "consent",
                "title": f"Extra voorwaarde {i}",
                "citations": {"convenant": f"art. {i + 1} regionaal convenant"},
                "explanation": "Alleen met geldige toestemming."}
        if draw(BOOLS):
            cond["categories"] = draw(st.lists(st.sampled_from(codes.CATEGORIES),
                                               min_size=1, unique=True))
        conditions.append(cond)
    if conditions:
        doc["conditions"] = conditions
    names = {}
    for name in draw(st.lists(st.sampled_from(OVERLEG_NAMES), unique=True)):
        names[name] = draw(st.sampled_from(codes.COVENANT_PURPOSES))  # overleg: covenant only
    if names:
        doc["overleg_types"] = names
    if draw(BOOLS):
        doc["retention"] = {"casusoverleg_verslag": {"years": draw(st.integers(0, 2))}}  # shorter
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), doc


@FEW
@given(region=narrowing_regions(), objs=st.lists(REQUESTS, min_size=1, max_size=25),
       data=st.data())
def test_a_random_narrowing_region_never_allows_what_the_model_denies(region, objs, data):
    text, doc = region
    names = doc.get("overleg_types", {})
    rs = loader.load_text(text, "random.yaml")
    for obj in objs:
        given_obj = obj
        aliases = [n for n, p in names.items() if p == obj["purpose"]]
        if aliases and data.draw(BOOLS, label="use overleg name"):
            given_obj = {**obj, "purpose": data.draw(st.sampled_from(aliases))}
        _assert_region_allows_no_more(given_obj, obj, rs)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(region=narrowing_regions(), objs=st.lists(REQUESTS, min_size=1, max_size=10))
def test_rules_diff_names_everything_a_random_region_narrows(region, objs):
    text, doc = region
    rs = loader.load_text(text, "random.yaml")
    changes = show.diff(MODEL, rs)
    kinds = {c["kind"] for c in changes}
    assert "category_added" not in kinds
    removed = {(p, c) for p, body in doc.get("purposes", {}).items()
               for c in MODEL.purposes[p].categories - set(body["categories"])}
    assert {(c["purpose"], c["category"]) for c in changes
            if c["kind"] == "category_removed"} == removed
    assert {c["party"] for c in changes if c["kind"] == "party"} == set(doc.get("parties", {}))
    assert all(c["after"] == "never" for c in changes if c["kind"] == "party")
    assert [c["id"] for c in changes if c["kind"] == "condition"] == [
        c["id"] for c in doc.get("conditions", [])]
    assert {c["name"]: c["purpose"] for c in changes if c["kind"] == "overleg_type"} == doc.get(
        "overleg_types", {})
    years = doc.get("retention", {}).get("casusoverleg_verslag", {}).get("years", 2)
    assert ("retention" in kinds) == (years != 2)
    assert {"consent", "absence"}.isdisjoint(kinds)
    # The effective document stored with decisions compiles to the same ruleset.
    stored = loader.from_document(rs.document)
    assert stored.digest == rs.digest
    for obj in objs:
        assert _items(_decide(obj, stored)) == _items(_decide(obj, rs))


# --- the memo changes speed, never answers ---------------------------------------------------


@PROPERTY
@given(pair=neighbours(), rs=st.sampled_from([MODEL, REGION]))
def test_the_memoised_answer_equals_the_traced_one(pair, rs):
    for obj in pair:  # the base fills the memo; its neighbour is then served from it
        memoised = _decide(obj, rs)
        traced = _decide(obj, rs, explain=True)
        assert _items(memoised) == _items(traced), obj
        assert (memoised.outcome, memoised.obligations) == (traced.outcome, traced.obligations)
        assert all(i.trace for i in traced.items)


@PROPERTY
@given(objs=st.lists(REQUESTS, min_size=2, max_size=30))
def test_many_requests_sharing_one_memo_get_their_traced_answers(objs):
    for obj in objs:
        memoised = _decide(obj, OWN_MEMO)
        assert _items(memoised) == _items(_decide(obj, OWN_MEMO, explain=True)), obj
    assert OWN_MEMO.memo



@PROPERTY
@given(pair=neighbours(), rs=st.sampled_from([MODEL, REGION]))
def test_requests_with_one_situation_key_get_the_same_item_for_every_category(pair, rs):
    """The memo's premise, checked directly: equal keys, equal traced items, for all
    categories (not only the ones the requests named)."""
    a, b = (parse_request({**obj, "data": list(rs.categories)}, rs) for obj in pair)

    def key(req):
        return situation_key(req, rs, engine.consent_is_valid(req, rs),
                             engine.consent_rule_for(req.age, rs))

    same = key(a) == key(b)
    event(f"same situation key: {same}")
    if same:
        assert _items(decide(a, rs, explain=True)) == _items(decide(b, rs, explain=True))


# --- the fast parser equals the careful one --------------------------------------------------


def _careful(obj, rs):
    """parse_request with its fast path switched off: the checker that names every problem."""
    with mock.patch.object(request, "_fast_disclosure", lambda obj, rs: None):
        return parse_request(obj, rs)


def test_switching_the_fast_path_off_really_runs_the_careful_checker():
    obj = {"discloser": {"party": "school"}, "recipient": {"party": "swv"},
           "subject": {"age": 14}, "purpose": "oza", "data": ["verzuim"]}
    with mock.patch.object(request, "_Checker", side_effect=RuntimeError("careful")):
        assert parse_request(obj, MODEL).purpose == "oza"  # fast path: no checker needed
        with pytest.raises(RuntimeError, match="careful"):
            _careful(obj, MODEL)


@PROPERTY
@given(obj=REQUESTS, rs=st.sampled_from([MODEL, REGION]), data=st.data())
def test_the_fast_parser_takes_every_valid_request_and_agrees_with_the_careful_one(obj, rs,
                                                                                    data):
    names = [n for n, p in rs.overleg_types.items() if p == obj["purpose"]]
    if names and data.draw(BOOLS, label="use overleg name"):
        obj = {**obj, "purpose": data.draw(st.sampled_from(names), label="overleg")}
    fast = request._fast_disclosure(obj, rs)
    assert fast is not None, "the fast path declined a well-formed request"
    careful = _careful(obj, rs)
    assert fast == careful
    assert parse_request(obj, rs) == careful
    # An explicit "kind": "disclosure" and the default give the same request.
    assert request._fast_disclosure({**obj, "kind": "disclosure"}, rs) == fast
    without_kind = {k: v for k, v in obj.items() if k != "kind"}
    assert request._fast_disclosure(without_kind, rs) == fast


JUNK = st.one_of(
    st.sampled_from([-1, 0, 30, 31, 1, True, False, 14.0, None, "", "yes", "true", "given",
                     "both", "school", "oza", [], {}]),
    st.none(), st.booleans(), st.integers(-3, 40), st.floats(allow_nan=False, width=32),
    st.text(max_size=6), st.sampled_from([*codes.PARTIES, *codes.CATEGORIES, *codes.DOMAINS,
                                          *codes.PURPOSES, "gezondhied", "yes", "TOM-tafel"]),
    st.lists(st.sampled_from(["verzuim", "verzuim", "jeugd", 3, None]), max_size=3),
    st.dictionaries(st.sampled_from(["documented", "party", "x"]), st.booleans(), max_size=2),
)
JUNK_PATHS = (*LEAVES, ("kind",), ("discloser",), ("recipient",), ("subject",),
              ("consent",), ("exceptions",), ("context",), ("data", 0), ("extra",),
              ("subject", "extra"), ("consent", "extra"), ("context", "extra"),
              ("exceptions", "conflict_of_duties", "documented"),
              ("exceptions", "conflict_of_duties", "extra"))


def _put_anywhere(obj: dict, path: tuple, value) -> dict:
    """A copy of `obj` with `value` at `path`, making (or replacing) containers on the way;
    an int in the path is a list index."""
    out = copy.deepcopy(obj)
    here = out
    for i, key in enumerate(path):
        if i == len(path) - 1:
            break
        kind = list if isinstance(path[i + 1], int) else dict
        nxt = here[key] if (isinstance(here, dict) and key in here) or (
            isinstance(here, list) and key < len(here)) else None
        if not isinstance(nxt, kind):
            nxt = kind()
            if isinstance(here, list):
                here[key:key + 1] = [nxt]
            else:
                here[key] = nxt
        here = nxt
    last = path[-1]
    if isinstance(here, list):
        here[last:last + 1] = [value]
    else:
        here[last] = value
    return out


@PROPERTY
@given(obj=REQUESTS, rs=st.sampled_from([MODEL, REGION]),
       junk=st.lists(st.tuples(st.sampled_from(JUNK_PATHS), JUNK), min_size=1, max_size=3))
def test_the_fast_parser_never_accepts_what_the_careful_one_refuses(obj, rs, junk):
    for path, value in junk:
        obj = _put_anywhere(obj, path, value)
    fast = request._fast_disclosure(obj, rs)
    try:
        careful = _careful(obj, rs)
    except RequestError:
        assert fast is None, obj
        event("careful parser refused")
        return
    event("careful parser accepted")
    assert fast is None or fast == careful
    assert parse_request(obj, rs) == careful


_NOT_A_BOOL = [0, 1, "true", "yes", None, "false", [], {}]
_NOT_A_CODE = [None, 1, "", " ", "Oza", "gezondhied", "schol", ["school"], {"party": "school"},
               "toeleiding", "jeugd", "given", "verzuim", "TOM-tafel"]
_NOT_AN_OBJECT = [None, [], "x", 1, True, [{}]]
NEAR_MISSES = {
    ("kind",): ["disclosure ", "Disclosure", "retention", "consent_required", None, 1, []],
    ("discloser",): _NOT_AN_OBJECT, ("recipient",): _NOT_AN_OBJECT,
    ("subject",): _NOT_AN_OBJECT, ("consent",): _NOT_AN_OBJECT,
    ("exceptions",): _NOT_AN_OBJECT, ("context",): _NOT_AN_OBJECT,
    ("discloser", "party"): _NOT_A_CODE, ("discloser", "hat"): _NOT_A_CODE,
    ("recipient", "party"): _NOT_A_CODE, ("recipient", "domain"): _NOT_A_CODE,
    ("purpose",): _NOT_A_CODE, ("task",): _NOT_A_CODE,
    ("consent", "parents"): _NOT_A_CODE, ("consent", "youth"): _NOT_A_CODE,
    ("subject", "age"): [-1, 31, 14.0, "14", True, False, None, 10**3, -(10**3), [14]],
    ("data",): [[], ["verzuim", "verzuim"], ["gezondhied"], "verzuim", [1], [None],
                [["verzuim"]], {"verzuim": True}, None],
    ("context", "help_request_domains"): [["jeugd", "jeugd"], ["Jeugd"], "jeugd", [1],
                                          None, [None], {}],
    ("exceptions", "conflict_of_duties"): [True, False, None, [], {"documented": "yes"},
                                           {"documented": 1}, {"documented": True, "x": 1},
                                           {"weighed": True}],
    **{leaf: _NOT_A_BOOL for leaf in (
        ("recipient", "acceded"), ("recipient", "mandate"), ("subject", "anonymous"),
        ("consent", "written"), ("consent", "prior"), ("consent", "withdrawn"),
        ("exceptions", "vital_interest"), ("exceptions", "legal_duty"),
        ("exceptions", "compatible_purpose"), ("context", "bulk"),
        ("context", "wams_in_force"))},
    ("extra",): [True, None], ("discloser", "extra"): [True], ("recipient", "acceded_"): [True],
    ("subject", "birthday"): ["2010-01-01"], ("consent", "parent"): ["given"],
    ("exceptions", "vital"): [True], ("context", "bulk_"): [True],
}


@pytest.mark.parametrize("leaf", NEAR_MISSES, ids=lambda leaf: ".".join(leaf))
@settings(max_examples=40, deadline=None)
@given(obj=REQUESTS, rs=st.sampled_from([MODEL, REGION]), data=st.data())
def test_the_fast_parser_agrees_with_the_careful_one_on_every_near_miss(leaf, obj, rs, data):
    """One leaf at a time, every value that is almost right: whatever the fast parser accepts,
    the careful one accepts too and reads the same; whatever the careful one refuses, the
    fast one declines (it never decides a request the checker would refuse)."""
    value = data.draw(st.sampled_from(NEAR_MISSES[leaf]), label="near miss")
    obj = _put_anywhere(obj, leaf, value)
    fast = request._fast_disclosure(obj, rs)
    try:
        careful = _careful(obj, rs)
    except RequestError:
        assert fast is None, obj
        with pytest.raises(RequestError):
            parse_request(obj, rs)
        return
    assert fast is None or fast == careful
    assert parse_request(obj, rs) == careful


# --- explanations, rules, citations, digest --------------------------------------------------

_DUTCH = {"de", "het", "een", "en", "van", "is", "niet", "mag", "met", "voor", "geen", "of",
          "op", "bij", "alleen", "u", "dat", "toestemming"}
_CODE = re.compile(r"\b[A-Z]+_[A-Z_]+\b")
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


def _assert_dutch(text: str) -> None:
    assert isinstance(text, str) and text.strip(), "empty explanation"
    assert "{" not in text and "}" not in text, f"unfilled placeholder: {text}"
    assert "None" not in text, text
    assert not _CODE.findall(text), f"a code, not Dutch: {text}"
    words = set(re.findall(r"\w+", text.lower()))
    assert len(words & _DUTCH) >= 2, f"does not read as Dutch: {text}"


def _assert_rule(rs, rule_id: str) -> None:
    assert rule_id in rs.rules, f"unknown rule {rule_id}"
    assert rs.rules[rule_id].citations.as_dict(), f"rule {rule_id} cites nothing"


@PROPERTY
@given(obj=REQUESTS | OTHER_REQUESTS, rs=st.sampled_from([MODEL, REGION]), explain=BOOLS)
def test_every_answer_explains_in_dutch_cites_existing_rules_and_names_the_digest(obj, rs,
                                                                                   explain):
    answer = to_json(decide(parse_request(obj, rs), rs, explain), explain)
    assert answer["ruleset"] == rs.ref()
    assert _DIGEST.match(answer["ruleset"]["digest"])
    _assert_dutch(answer["explanation"])
    named = [answer["rule"]] if answer["kind"] == "retention" else answer["rules"]
    for rule_id in named:
        _assert_rule(rs, rule_id)
    if answer["kind"] != "disclosure":
        assert named
        return
    for item in answer["items"]:
        assert item["rules"]
        _assert_dutch(item["explanation"])
        for rule_id in item["rules"]:
            _assert_rule(rs, rule_id)
            cited = rs.rules[rule_id].citations.text()
            assert cited in item["explanation"], (rule_id, item["explanation"])
            assert cited in answer["explanation"]
            assert answer["rules"][rule_id]["citations"]
        if explain:
            assert item["trace"]
            for step in item["trace"]:
                _assert_rule(rs, step["rule"])
                assert step["verdict"] in ("not_applicable", "pass", "allow", "deny")
            decisive = [s for s in item["trace"] if s["verdict"] in ("allow", "deny")]
            assert decisive[-1]["verdict"] == item["outcome"]
            assert decisive[-1]["rule"] == item["rules"][0]
        else:
            assert "trace" not in item
    assert set(answer["rules"]) == {r for i in answer["items"] for r in i["rules"]}
