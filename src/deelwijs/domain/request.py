"""Requests of the decision contract: parsed, checked and normalised.

`parse_request(obj, ruleset, path)` turns one JSON object into a request dataclass or raises
RequestError with one Problem per thing wrong, each naming its JSON path.
"""

from __future__ import annotations

import datetime as dt
import difflib
from dataclasses import dataclass

from deelwijs.domain import codes
from deelwijs.domain.errors import Problem, RequestError
from deelwijs.domain.ruleset import Ruleset

MAX_AGE = 30
MAX_YEAR = 9000  # a retention term must still end in a year Python can represent


# Requests are plain slotted dataclasses, not frozen ones: a frozen dataclass's __init__ costs
# eight times as much, on the engine's hot path. Treat them as immutable all the same.
@dataclass(slots=True)
class Disclosure:
    discloser: str
    hat: str | None
    recipient: str
    acceded: bool
    mandate: bool
    recipient_domain: str | None
    age: int
    anonymous: bool
    purpose: str  # the model purpose (a regional overleg name is mapped onto it)
    task: str
    data: tuple[str, ...]
    parents: str
    youth: str
    written: bool
    prior: bool
    withdrawn: bool
    vital_interest: bool
    conflict_documented: bool
    legal_duty: bool
    compatible_purpose: bool
    help_request_domains: tuple[str, ...] | None
    bulk: bool
    wams_in_force: bool
    overleg: str | None = None  # the regional overleg name, when one was given
    discloser_acceded: bool = True
    discloser_mandate: bool = True
    startkwalificatie: bool = False
    weighing_documented: bool = False
    # categories under a restriction of processing (AVG art. 18), each with the id of the
    # data subject's request that restricted it: the engine denies them first (RESTRICTED)
    restricted: tuple[tuple[str, int], ...] = ()
    kind: str = "disclosure"


@dataclass(frozen=True, slots=True)
class AbsenceReport:
    age: int
    startkwalificatie: bool
    type: str
    unauthorised_hours: float
    school_weeks: int
    kind: str = "absence_report"


@dataclass(frozen=True, slots=True)
class ConsentRequired:
    age: int
    kind: str = "consent_required"


@dataclass(frozen=True, slots=True)
class RetentionQuestion:
    record: str
    ended_on: dt.date
    kind: str = "retention"


Request = Disclosure | AbsenceReport | ConsentRequired | RetentionQuestion

_FIELDS = {
    "disclosure": {"kind", "discloser", "recipient", "subject", "purpose", "task", "data",
                   "consent", "exceptions", "context"},
    "absence_report": {"kind", "subject", "absence"},
    "consent_required": {"kind", "subject"},
    "retention": {"kind", "record", "ended_on"},
}
_SUB = {
    "discloser": {"party", "hat", "acceded", "mandate"},
    "recipient": {"party", "acceded", "mandate", "domain"},
    "consent": {"parents", "youth", "written", "prior", "withdrawn"},
    "exceptions": {"vital_interest", "conflict_of_duties", "legal_duty", "compatible_purpose",
                   "weighing_documented"},
    "context": {"help_request_domains", "bulk", "wams_in_force"},
    "absence": {"unauthorised_hours", "school_weeks", "type"},
}
_SUBJECT = {
    "disclosure": {"age", "anonymous", "startkwalificatie", "restricted"},
    "absence_report": {"age", "startkwalificatie"},
    "consent_required": {"age"},
}
_WHAT = {
    "party": "onbekende partijcode",
    "hat": "onbekende pet",
    "domain": "onbekend domein",
    "purpose": "onbekend doel",
    "task": "onbekende taaksituatie",
    "data": "onbekende gegevenscategorie",
    "consent": "onbekende toestemmingswaarde",
    "kind": "onbekende soort vraag",
    "type": "onbekende verzuimsoort",
    "record": "onbekende soort dossier",
}


def _suggest(value: str, options) -> str:
    close = difflib.get_close_matches(value, list(options), n=1, cutoff=0.6)
    return f" (bedoelt u '{close[0]}'?)" if close else ""


class _Absent(dict):
    """An object that was missing (and already reported): its fields are not reported again."""


_ABSENT = _Absent()


class _Checker:
    __slots__ = ("problems",)

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, path: str, code: str, message: str) -> None:
        self.problems.append(Problem(path, code, message))

    def unknown_fields(self, obj: dict, allowed: set[str], path: str) -> None:
        for key in obj:
            if key not in allowed:
                self.add(f"{path}.{key}", "unknown_field",
                         f"onbekend veld '{key}'{_suggest(str(key), allowed)}")

    def obj(self, parent: dict, key: str, path: str, required: bool) -> dict:
        if key not in parent:
            if required:
                self.add(f"{path}.{key}", "missing_field", f"verplicht veld '{key}' ontbreekt")
                return _ABSENT
            return {}
        value = parent[key]
        if not isinstance(value, dict):
            self.add(f"{path}.{key}", "wrong_type",
                     f"moet een object zijn, niet {_type_nl(value)}")
            return _ABSENT
        allowed = _SUB.get(key)
        if allowed is not None:
            self.unknown_fields(value, allowed, f"{path}.{key}")
        return value

    def boolean(self, parent: dict, key: str, path: str, default: bool) -> bool:
        value = parent.get(key, default)
        if value is default:
            return default
        if not isinstance(value, bool):
            self.add(f"{path}.{key}", "wrong_type",
                     f"moet true of false zijn, niet {_type_nl(value)}")
            return default
        return value

    def code(self, parent: dict, key: str, path: str, options, what: str,
             required: bool = True, default=None, extra=()):
        if key not in parent:
            if required and parent is not _ABSENT:
                self.add(f"{path}.{key}", "missing_field", f"verplicht veld '{key}' ontbreekt")
            return default
        value = parent[key]
        if not isinstance(value, str):
            self.add(f"{path}.{key}", "wrong_type",
                     f"moet een tekst zijn, niet {_type_nl(value)}")
            return default
        if value not in options and value not in extra:
            self.add(f"{path}.{key}", "unknown_code",
                     f"{_WHAT[what]} '{value}'{_suggest(value, [*options, *extra])}")
            return default
        return value

    def code_list(self, parent: dict, key: str, path: str, options, what: str,
                  required: bool, non_empty: bool):
        if key not in parent:
            if required:
                self.add(f"{path}.{key}", "missing_field", f"verplicht veld '{key}' ontbreekt")
            return None
        value = parent[key]
        if not isinstance(value, list):
            self.add(f"{path}.{key}", "wrong_type",
                     f"moet een lijst zijn, niet {_type_nl(value)}")
            return None
        if non_empty and not value:
            self.add(f"{path}.{key}", "empty_list", "moet ten minste één waarde bevatten")
            return None
        out: list[str] = []
        for i, item in enumerate(value):
            p = f"{path}.{key}[{i}]"
            if not isinstance(item, str):
                self.add(p, "wrong_type", f"moet een tekst zijn, niet {_type_nl(item)}")
            elif item not in options:
                self.add(p, "unknown_code",
                         f"{_WHAT[what]} '{item}'{_suggest(item, options)}")
            elif item in out:
                self.add(p, "duplicate", f"'{item}' staat al eerder in de lijst")
            else:
                out.append(item)
        return tuple(out)

    def age(self, subject: dict, path: str) -> int:
        if subject is _ABSENT:
            return 0
        if "age" not in subject:
            self.add(f"{path}.age", "missing_field", "verplicht veld 'age' ontbreekt")
            return 0
        value = subject["age"]
        if isinstance(value, bool) or not isinstance(value, int):
            self.add(f"{path}.age", "wrong_type",
                     f"moet een geheel getal zijn, niet {_type_nl(value)}")
            return 0
        if value < 0 or value > MAX_AGE:
            self.add(f"{path}.age", "out_of_range",
                     f"leeftijd {value} valt buiten 0 t/m {MAX_AGE}")
            return 0
        return value


def _type_nl(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "een waarheidswaarde"
    if isinstance(value, int | float):
        return f"het getal {value}"
    if isinstance(value, str):
        return f"de tekst '{value}'"
    if isinstance(value, list):
        return "een lijst"
    if isinstance(value, dict):
        return "een object"
    return type(value).__name__


_EMPTY: dict = {}
_D_FIELDS = frozenset(_FIELDS["disclosure"])
_DISCLOSER = frozenset(_SUB["discloser"])
_RECIPIENT = frozenset(_SUB["recipient"])
_SUBJECT_D = frozenset(_SUBJECT["disclosure"])
_CONSENT = frozenset(_SUB["consent"])
_EXCEPTIONS = frozenset(_SUB["exceptions"])
_CONTEXT = frozenset(_SUB["context"])
_HATS = frozenset(codes.HATS)
_HAT_WEARERS = frozenset(codes.HAT_WEARERS)
_TASKS = frozenset(codes.TASKS)
_ANSWERS = frozenset(codes.CONSENT_ANSWERS)
_DOMAINS = frozenset(codes.DOMAINS)
_MISSING = object()


def _fast_disclosure(obj: dict, rs: Ruleset) -> Disclosure | None:
    """The common case, quickly: a well-formed disclosure request. None means "not sure":
    the careful checker then runs and names every problem. Both give the same request."""
    if obj.get("kind", "disclosure") != "disclosure" or not obj.keys() <= _D_FIELDS:
        return None
    d, r, s = obj.get("discloser"), obj.get("recipient"), obj.get("subject")
    c = obj.get("consent", _EMPTY)
    e = obj.get("exceptions", _EMPTY)
    x = obj.get("context", _EMPTY)
    if (type(d) is not dict or type(r) is not dict or type(s) is not dict
            or type(c) is not dict or type(e) is not dict or type(x) is not dict):
        return None
    if not (d.keys() <= _DISCLOSER and r.keys() <= _RECIPIENT and s.keys() <= _SUBJECT_D
            and c.keys() <= _CONSENT and e.keys() <= _EXCEPTIONS and x.keys() <= _CONTEXT):
        return None
    if "restricted" in s:  # a restriction (AVG art. 18): the careful checker reads it
        return None
    parties = rs.parties
    d_party, r_party, hat = d.get("party"), r.get("party"), d.get("hat", _MISSING)
    purpose, task = obj.get("purpose"), obj.get("task", "both")
    r_domain, age, data = r.get("domain", _MISSING), s.get("age"), obj.get("data")
    parents, youth = c.get("parents", "none"), c.get("youth", "none")
    if (type(d_party) is not str or d_party not in parties
            or type(r_party) is not str or r_party not in parties
            or (hat is not _MISSING and (type(hat) is not str or hat not in _HATS
                                         or d_party not in _HAT_WEARERS))
            or type(purpose) is not str or type(task) is not str or task not in _TASKS
            or (r_domain is not _MISSING
                and (type(r_domain) is not str or r_domain not in _DOMAINS))
            or type(age) is not int or not 0 <= age <= MAX_AGE
            or type(data) is not list or not data
            or type(parents) is not str or parents not in _ANSWERS
            or type(youth) is not str or youth not in _ANSWERS):
        return None
    model_purpose = purpose if purpose in rs.purposes else rs.overleg_types.get(purpose)
    if model_purpose is None:
        return None
    cats = rs.categories
    for cat in data:
        if type(cat) is not str or cat not in cats:
            return None
    if len(set(data)) != len(data):
        return None
    cod = e.get("conflict_of_duties", _EMPTY)
    if type(cod) is not dict or not cod.keys() <= {"documented"}:
        return None
    domains = x.get("help_request_domains", _MISSING)
    if domains is _MISSING:
        domains = None
    else:
        if type(domains) is not list:
            return None
        for dom in domains:
            if type(dom) is not str or dom not in _DOMAINS:
                return None
        if len(set(domains)) != len(domains):
            return None
        domains = tuple(domains)
    flags = (r.get("acceded", True), r.get("mandate", True), s.get("anonymous", False),
             c.get("written", True), c.get("prior", True), c.get("withdrawn", False),
             e.get("vital_interest", False), cod.get("documented", False),
             e.get("legal_duty", False), e.get("compatible_purpose", False),
             x.get("bulk", False), x.get("wams_in_force", False),
             d.get("acceded", True), d.get("mandate", True),
             s.get("startkwalificatie", False), e.get("weighing_documented", False))
    for flag in flags:
        if flag is not True and flag is not False:
            return None
    return Disclosure(d_party, None if hat is _MISSING else hat, r_party, flags[0], flags[1],
                      None if r_domain is _MISSING else r_domain, age, flags[2],
                      model_purpose, task, tuple(data), parents, youth, flags[3], flags[4],
                      flags[5], flags[6], flags[7], flags[8], flags[9], domains, flags[10],
                      flags[11], purpose if model_purpose != purpose else None,
                      flags[12], flags[13], flags[14], flags[15])


def parse_request(obj, ruleset: Ruleset, path: str = "request") -> Request:
    """Check one request object and return it normalised; raise RequestError if it is bad."""
    if type(obj) is dict:
        try:
            fast = _fast_disclosure(obj, ruleset)
        except TypeError:  # an unhashable value where a code belongs: the checker says which
            fast = None
        if fast is not None:
            return fast
    if not isinstance(obj, dict):
        raise RequestError([Problem(path, "wrong_type",
                                    f"moet een object zijn, niet {_type_nl(obj)}")])
    c = _Checker()
    kind = c.code(obj, "kind", path, codes.KINDS, "kind", required=False, default="disclosure")
    if c.problems:  # an unknown kind: nothing else can be checked against it
        raise RequestError(c.problems)
    c.unknown_fields(obj, _FIELDS[kind], path)
    if kind == "disclosure":
        result = _disclosure(obj, ruleset, path, c)
    elif kind == "absence_report":
        result = _absence(obj, path, c)
    elif kind == "consent_required":
        subject = c.obj(obj, "subject", path, required=True)
        c.unknown_fields(subject, _SUBJECT[kind], f"{path}.subject")
        result = ConsentRequired(age=c.age(subject, f"{path}.subject"))
    else:
        result = _retention(obj, path, c)
    if c.problems:
        raise RequestError(c.problems)
    return result


def _disclosure(obj: dict, ruleset: Ruleset, path: str, c: _Checker) -> Disclosure | None:
    discloser = c.obj(obj, "discloser", path, required=True)
    recipient = c.obj(obj, "recipient", path, required=True)
    subject = c.obj(obj, "subject", path, required=True)
    c.unknown_fields(subject, _SUBJECT["disclosure"], f"{path}.subject")
    consent = c.obj(obj, "consent", path, required=False)
    exceptions = c.obj(obj, "exceptions", path, required=False)
    context = c.obj(obj, "context", path, required=False)
    parties = ruleset.parties
    d_party = c.code(discloser, "party", f"{path}.discloser", parties, "party")
    hat = c.code(discloser, "hat", f"{path}.discloser", codes.HATS, "hat", required=False)
    if hat is not None and d_party is not None and d_party not in codes.HAT_WEARERS:
        c.add(f"{path}.discloser.hat", "hat_not_allowed",
              f"een pet ('{hat}') draagt alleen een wijkteamprofessional (partij "
              f"{' of '.join(codes.HAT_WEARERS)}), niet partij '{d_party}'")
        hat = None
    r_party = c.code(recipient, "party", f"{path}.recipient", parties, "party")
    r_domain = c.code(recipient, "domain", f"{path}.recipient", codes.DOMAINS, "domain",
                      required=False)
    given_purpose = c.code(obj, "purpose", path, ruleset.purposes, "purpose",
                           extra=tuple(ruleset.overleg_types))
    purpose = ruleset.overleg_types.get(given_purpose, given_purpose)
    task = c.code(obj, "task", path, codes.TASKS, "task", required=False, default="both")
    data = c.code_list(obj, "data", path, ruleset.categories, "data", required=True,
                       non_empty=True)
    cp = f"{path}.consent"
    parents = c.code(consent, "parents", cp, codes.CONSENT_ANSWERS, "consent", required=False,
                     default="none")
    youth = c.code(consent, "youth", cp, codes.CONSENT_ANSWERS, "consent", required=False,
                   default="none")
    ep = f"{path}.exceptions"
    documented = False
    if "conflict_of_duties" in exceptions:
        cod = exceptions["conflict_of_duties"]
        if not isinstance(cod, dict):
            c.add(f"{ep}.conflict_of_duties", "wrong_type",
                  'moet een object zijn, zoals {"documented": true}')
        else:
            c.unknown_fields(cod, {"documented"}, f"{ep}.conflict_of_duties")
            documented = c.boolean(cod, "documented", f"{ep}.conflict_of_duties", False)
    xp = f"{path}.context"
    domains = c.code_list(context, "help_request_domains", xp, codes.DOMAINS, "domain",
                          required=False, non_empty=False)
    request = Disclosure(
        discloser=d_party,
        hat=hat,
        recipient=r_party,
        acceded=c.boolean(recipient, "acceded", f"{path}.recipient", True),
        mandate=c.boolean(recipient, "mandate", f"{path}.recipient", True),
        recipient_domain=r_domain,
        age=c.age(subject, f"{path}.subject"),
        anonymous=c.boolean(subject, "anonymous", f"{path}.subject", False),
        purpose=purpose,
        task=task,
        data=data or (),
        parents=parents,
        youth=youth,
        written=c.boolean(consent, "written", cp, True),
        prior=c.boolean(consent, "prior", cp, True),
        withdrawn=c.boolean(consent, "withdrawn", cp, False),
        vital_interest=c.boolean(exceptions, "vital_interest", ep, False),
        conflict_documented=documented,
        legal_duty=c.boolean(exceptions, "legal_duty", ep, False),
        compatible_purpose=c.boolean(exceptions, "compatible_purpose", ep, False),
        help_request_domains=domains,
        bulk=c.boolean(context, "bulk", xp, False),
        wams_in_force=c.boolean(context, "wams_in_force", xp, False),
        overleg=given_purpose if given_purpose in ruleset.overleg_types else None,
        discloser_acceded=c.boolean(discloser, "acceded", f"{path}.discloser", True),
        discloser_mandate=c.boolean(discloser, "mandate", f"{path}.discloser", True),
        startkwalificatie=c.boolean(subject, "startkwalificatie", f"{path}.subject", False),
        weighing_documented=c.boolean(exceptions, "weighing_documented", ep, False),
        restricted=_restricted(subject, f"{path}.subject", ruleset, c),
    )
    return request


def _restricted(subject: dict, path: str, ruleset: Ruleset,
                c: _Checker) -> tuple[tuple[str, int], ...]:
    """`subject.restricted`: {category: id of the request that restricted it}, the categories
    under a restriction of processing (AVG art. 18) on the day. Optional; in the order given."""
    if "restricted" not in subject:
        return ()
    value = subject["restricted"]
    p = f"{path}.restricted"
    if not isinstance(value, dict):
        c.add(p, "wrong_type", "moet een object zijn, zoals {\"gedrag\": 12} (categorie: "
              f"nummer van het verzoek tot beperking), niet {_type_nl(value)}")
        return ()
    out: list[tuple[str, int]] = []
    for cat, request_id in value.items():
        if cat not in ruleset.categories:
            c.add(f"{p}.{cat}", "unknown_code",
                  f"{_WHAT['data']} '{cat}'{_suggest(str(cat), ruleset.categories)}")
        elif isinstance(request_id, bool) or not isinstance(request_id, int):
            c.add(f"{p}.{cat}", "wrong_type", "moet het nummer van het verzoek tot beperking "
                  f"zijn (een geheel getal), niet {_type_nl(request_id)}")
        elif request_id < 1:
            c.add(f"{p}.{cat}", "out_of_range", "het nummer van een verzoek is ten minste 1")
        else:
            out.append((cat, request_id))
    return tuple(out)


def _absence(obj: dict, path: str, c: _Checker) -> AbsenceReport:
    subject = c.obj(obj, "subject", path, required=True)
    c.unknown_fields(subject, _SUBJECT["absence_report"], f"{path}.subject")
    absence = c.obj(obj, "absence", path, required=True)
    ap = f"{path}.absence"
    kind = c.code(absence, "type", ap, codes.ABSENCE_TYPES, "type")
    hours: float = 0
    if "unauthorised_hours" in absence:
        h = absence["unauthorised_hours"]
        if isinstance(h, bool) or not isinstance(h, int | float):
            c.add(f"{ap}.unauthorised_hours", "wrong_type",
                  f"moet een getal zijn, niet {_type_nl(h)}")
        elif h < 0:
            c.add(f"{ap}.unauthorised_hours", "out_of_range", "kan niet negatief zijn")
        else:
            hours = h
    elif kind == "ongeoorloofd":
        c.add(f"{ap}.unauthorised_hours", "missing_field",
              "verplicht bij ongeoorloofd verzuim: het aantal uren")
    weeks = 1
    if "school_weeks" in absence:
        w = absence["school_weeks"]
        if isinstance(w, bool) or not isinstance(w, int):
            c.add(f"{ap}.school_weeks", "wrong_type",
                  f"moet een geheel getal zijn, niet {_type_nl(w)}")
        elif w < 1:
            c.add(f"{ap}.school_weeks", "out_of_range", "moet ten minste 1 zijn")
        else:
            weeks = w
    elif kind == "ongeoorloofd":
        c.add(f"{ap}.school_weeks", "missing_field",
              "verplicht bij ongeoorloofd verzuim: over hoeveel schoolweken")
    return AbsenceReport(
        age=c.age(subject, f"{path}.subject"),
        startkwalificatie=c.boolean(subject, "startkwalificatie", f"{path}.subject", False),
        type=kind or "ongeoorloofd",
        unauthorised_hours=hours,
        school_weeks=weeks,
    )


def _retention(obj: dict, path: str, c: _Checker) -> RetentionQuestion:
    record = c.code(obj, "record", path, codes.RECORDS, "record")
    ended = dt.date(1970, 1, 1)
    if "ended_on" not in obj:
        c.add(f"{path}.ended_on", "missing_field", "verplicht veld 'ended_on' ontbreekt")
    else:
        value = obj["ended_on"]
        if not isinstance(value, str):
            c.add(f"{path}.ended_on", "wrong_type",
                  f"moet een datum zijn als '2021-03-01', niet {_type_nl(value)}")
        else:
            try:
                ended = dt.date.fromisoformat(value)
                if len(value) != 10:
                    raise ValueError
            except ValueError:
                c.add(f"{path}.ended_on", "bad_date",
                      f"'{value}' is geen datum in de vorm JJJJ-MM-DD")
            else:
                if ended.year > MAX_YEAR:
                    c.add(f"{path}.ended_on", "out_of_range",
                          f"'{value}' ligt te ver in de toekomst (uiterlijk {MAX_YEAR})")
    return RetentionQuestion(record=record or "leerlingdossier", ended_on=ended)
