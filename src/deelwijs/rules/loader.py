"""Rule files (YAML) → a checked, compiled Ruleset.

The model covenant is a complete ruleset. A regional ruleset `extends` it and may only
narrow it: fewer categories per purpose, extra conditions, its own names for overleg types,
parties left out, its own retention term for casusoverleg minutes. Anything that would widen
a legal limit is refused with an error naming the file, the line and the rule.
"""

from __future__ import annotations

import copy
import datetime as dt
import difflib
import hashlib
import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import yaml

from deelwijs.domain import codes
from deelwijs.domain.ruleset import (
    AbsenceRule,
    Category,
    Citations,
    Condition,
    ConsentRule,
    Party,
    Purpose,
    Retention,
    Route,
    Rule,
    Ruleset,
)

FORMAT = 1
MODEL_ID = "model-convenant"
DATA = resources.files("deelwijs.rules") / "data"

# Every rule id the procedure can name. A ruleset that lacks one is incomplete.
PROCEDURE_RULES = (
    "bulk.no_bulk", "anonymous.no_personal_data", "hat.effective_discloser",
    "party.covenant_parties", "purpose.matrix", "task.situation_c", "scope.help_request",
    "scope.domain_unknown", "scope.consent_not_a_ground", "scope.college_public_task",
    "secrecy.professional", "private.other_disclosers",
    "public.outside_information", "public.inside_information",
    "party.private_recipient", "exception.vital_interest_direct_route",
    "consent.under_12", "consent.age_12_15", "consent.from_16",
    "exception.vital_interest", "exception.conflict_of_duties", "exception.legal_duty",
    "exception.wams_request", "exception.compatible_purpose",
    "absence.threshold", "absence.luxe", "absence.langdurig_relatief",
    "absence.below_threshold", "absence.suspected", "absence.illness", "absence.adult_rmc",
    "absence.rmc_prolonged", "absence.no_duty", "absence.from_rmc_age", "consent_required.who",
)
# Parts of the model that are legal limits: a region may repeat them, never change them.
LEGAL_SECTIONS = ("consent", "absence", "legal_routes", "hats", "categories", "domains")


@dataclass(frozen=True, slots=True)
class RulesetProblem:
    code: str
    file: str
    line: int | None
    rule: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: [{self.code}] {self.rule}: {self.message}"

    def as_dict(self) -> dict:
        return {"code": self.code, "file": self.file, "line": self.line, "rule": self.rule,
                "message": self.message}


class RulesetError(ValueError):
    def __init__(self, problems: list[RulesetProblem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


# --- YAML with line numbers ----------------------------------------------------------------


class _Lines:
    """Line numbers (1-based) of every key and list item, by path."""

    def __init__(self) -> None:
        self.at: dict[tuple, int] = {}
        self.duplicates: list[tuple[tuple, int]] = []

    def walk(self, node, path: tuple) -> None:
        if isinstance(node, yaml.MappingNode):
            seen = set()
            for key, value in node.value:
                k = key.value
                if k in seen:
                    self.duplicates.append(((*path, k), key.start_mark.line + 1))
                seen.add(k)
                self.at[(*path, k)] = key.start_mark.line + 1
                self.walk(value, (*path, k))
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                self.at[(*path, i)] = item.start_mark.line + 1
                self.walk(item, (*path, i))

    def line(self, path: tuple) -> int | None:
        path = tuple(path)
        while path:
            if path in self.at:
                return self.at[path]
            path = path[:-1]
        return 1


def _load_yaml(text: str, file: str) -> tuple[object, _Lines]:
    lines = _Lines()
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        raise RulesetError([RulesetProblem("yaml_syntax", file, line, "(bestand)",
                                           f"geen geldige YAML: {getattr(exc, 'problem', exc)}")]
                           ) from None
    if node is not None:
        lines.walk(node, ())
    return data, lines


def _canonical(value) -> object:
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return value


def digest_of(document: dict) -> str:
    """sha256 of the canonical form: JSON, sorted keys, no insignificant white space."""
    text = json.dumps(_canonical(document), sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


# --- checking ------------------------------------------------------------------------------


def _path_text(path: tuple) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "(bestand)"


_NEUTER = ("doel", "domein", "veld", "convenantlidmaatschap")


def _unknown(what: str) -> str:
    """'onbekend doel', 'onbekende partijcode': Dutch adjectives follow the noun's gender."""
    return f"onbekend {what}" if what.split(" ")[0] in _NEUTER else f"onbekende {what}"


class _Check:
    def __init__(self, file: str, lines: _Lines):
        self.file = file
        self.lines = lines
        self.problems: list[RulesetProblem] = []

    def fail(self, code: str, path: tuple, message: str, rule: str | None = None) -> None:
        self.problems.append(RulesetProblem(code, self.file, self.lines.line(path),
                                            rule or _path_text(path), message))

    def mapping(self, data, path: tuple, required=(), optional=(), closed=True) -> dict:
        if not isinstance(data, dict):
            self.fail("wrong_type", path, "moet een mapping (sleutel: waarde) zijn")
            return {}
        for key in required:
            if key not in data:
                self.fail("missing_field", path, f"verplicht veld '{key}' ontbreekt")
        if closed:
            allowed = set(required) | set(optional)
            for key in data:
                if key not in allowed:
                    hint = difflib.get_close_matches(str(key), list(allowed), n=1)
                    extra = f" (bedoelt u '{hint[0]}'?)" if hint else ""
                    self.fail("unknown_field", (*path, key), f"onbekend veld '{key}'{extra}")
        return data

    def codes_list(self, value, path: tuple, options, what: str, rule: str | None = None):
        if not isinstance(value, list):
            self.fail("wrong_type", path, f"moet een lijst zijn ({what})", rule)
            return []
        out = []
        for i, item in enumerate(value):
            if item not in options:
                hint = difflib.get_close_matches(str(item), list(options), n=1)
                extra = f" (bedoelt u '{hint[0]}'?)" if hint else ""
                self.fail("unknown_code", (*path, i), f"{_unknown(what)} '{item}'{extra}", rule)
            elif item in out:
                self.fail("duplicate", (*path, i), f"'{item}' staat er twee keer in", rule)
            else:
                out.append(item)
        return out

    def code(self, value, path: tuple, options, what: str, rule: str | None = None,
             nullable: bool = False):
        if value is None and nullable:
            return None
        if value not in options:
            hint = difflib.get_close_matches(str(value), list(options), n=1)
            extra = f" (bedoelt u '{hint[0]}'?)" if hint else ""
            self.fail("unknown_code", path, f"{_unknown(what)} '{value}'{extra}", rule)
            return None
        return value

    def integer(self, value, path: tuple, low: int = 0, high: int = 200) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.fail("wrong_type", path, f"moet een geheel getal van {low} t/m {high} zijn")
            return low
        return value

    def text(self, value, path: tuple) -> str:
        if not isinstance(value, str) or not value.strip():
            self.fail("wrong_type", path, "moet een (niet-lege) tekst zijn")
            return ""
        return value.strip()

    def raise_if_any(self) -> None:
        if self.problems:
            raise RulesetError(sorted(self.problems, key=lambda p: (p.file, p.line or 0)))


# --- compiling -----------------------------------------------------------------------------


def _compile(doc: dict, ck: _Check, digest: str | None = None) -> Ruleset:
    """Check a complete (model or merged) ruleset document and build the Ruleset."""
    origin_of = doc.get("rule_origins") or {}
    top = ck.mapping(
        doc, (),
        required=("format", "id", "version", "title", "parties", "hats", "categories",
                  "purposes", "legal_routes", "consent", "absence", "retention", "rules"),
        optional=("source", "domains", "extends", "overleg_types", "conditions",
                  "signatories", "model_version", "rule_origins"),
    )
    if top.get("format") != FORMAT:
        ck.fail("format_version", ("format",), f"alleen format {FORMAT} wordt ondersteund")
    rules_doc = ck.mapping(top.get("rules", {}), ("rules",), closed=False)
    rules: dict[str, Rule] = {}
    for rid, body in rules_doc.items():
        p = ("rules", rid)
        b = ck.mapping(body, p, required=("title", "citations", "explanation"),
                       optional=("fg_judgement",))
        cit = ck.mapping(b.get("citations", {}), (*p, "citations"),
                         optional=("avg", "sector", "convenant"))
        if isinstance(cit, dict) and not any(cit.get(k) for k in ("avg", "sector", "convenant")):
            ck.fail("missing_citation", (*p, "citations"),
                    "een regel noemt ten minste één bron (avg, sector of convenant)", rid)
        rules[rid] = Rule(
            id=str(rid), title=ck.text(b.get("title"), (*p, "title")),
            citations=Citations(**{k: str(v) for k, v in cit.items()
                                   if k in ("avg", "sector", "convenant")}),
            explanation=ck.text(b.get("explanation"), (*p, "explanation")),
            fg_judgement=bool(b.get("fg_judgement", False)),
            origin=origin_of.get(rid, MODEL_ID),
        )

    def known_rule(rid, path):
        if rid not in rules:
            hint = difflib.get_close_matches(str(rid), list(rules), n=1)
            extra = f" (bedoelt u '{hint[0]}'?)" if hint else ""
            ck.fail("unknown_rule", path, f"regel '{rid}' staat niet onder rules{extra}",
                    str(rid))

    for rid in PROCEDURE_RULES:
        if rid not in rules:
            ck.fail("missing_rule", ("rules",), f"de procedure noemt regel '{rid}'; "
                    "die ontbreekt onder rules", rid)

    parties = {}
    pdoc = ck.mapping(top.get("parties", {}), ("parties",), required=codes.PARTIES)
    for code_, body in pdoc.items():
        p = ("parties", code_)
        b = ck.mapping(body, p, required=("label", "kind", "covenant"),
                       optional=("default_domain", "article"))
        parties[code_] = Party(
            code=code_, label=ck.text(b.get("label"), (*p, "label")),
            kind=ck.code(b.get("kind"), (*p, "kind"), codes.PARTY_KINDS, "soort partij"),
            covenant=ck.code(b.get("covenant"), (*p, "covenant"), codes.COVENANT_MEMBERSHIP,
                             "convenantlidmaatschap"),
            default_domain=ck.code(b.get("default_domain"), (*p, "default_domain"),
                                   codes.DOMAINS, "domein", nullable=True),
            article=str(b.get("article", "de")),
        )
    hats = {}
    for hat, party in ck.mapping(top.get("hats", {}), ("hats",), required=codes.HATS).items():
        hats[hat] = ck.code(party, ("hats", hat), codes.PARTIES, "partijcode")
    domains = {d: str(d) for d in codes.DOMAINS}
    domains.update(ck.mapping(top.get("domains", {}) or {}, ("domains",),
                              optional=codes.DOMAINS))
    categories = {}
    cdoc = ck.mapping(top.get("categories", {}), ("categories",), required=codes.CATEGORIES)
    for cat, body in cdoc.items():
        p = ("categories", cat)
        b = ck.mapping(body, p, required=("label", "side"), optional=("special",))
        side = ck.code(b.get("side"), (*p, "side"), ("buitenkant", "binnenkant"), "kant")
        categories[cat] = Category(cat, ck.text(b.get("label"), (*p, "label")),
                                   side == "buitenkant", bool(b.get("special", False)))
    purposes = {}
    pudoc = ck.mapping(top.get("purposes", {}), ("purposes",), required=codes.PURPOSES)
    for code_, body in pudoc.items():
        p = ("purposes", code_)
        b = ck.mapping(body, p, required=("label", "route"),
                       optional=("categories", "default_help_request_domains", "article",
                                 "college_domain"))
        route = ck.code(b.get("route"), (*p, "route"), codes.ROUTES, "route")
        expected = ("covenant" if code_ in codes.COVENANT_PURPOSES else
                    "municipal" if code_ in codes.MUNICIPAL_PURPOSES else
                    "own_task" if code_ == "eigen_taak" else "legal")
        if route and route != expected:
            ck.fail("wrong_route", (*p, "route"),
                    f"doel '{code_}' volgt route '{expected}', niet '{route}'")
        if route != "legal" and "categories" not in b:
            ck.fail("missing_field", p, "verplicht veld 'categories' ontbreekt")
        cats = ck.codes_list(b.get("categories", []), (*p, "categories"), codes.CATEGORIES,
                             "gegevenscategorie")
        doms = ck.codes_list(b.get("default_help_request_domains", []),
                             (*p, "default_help_request_domains"), codes.DOMAINS, "domein")
        college = ck.code(b.get("college_domain"), (*p, "college_domain"), codes.DOMAINS,
                          "domein", nullable=True)
        purposes[code_] = Purpose(code_, ck.text(b.get("label"), (*p, "label")), route or "",
                                  frozenset(cats), tuple(doms), str(b.get("article", "het")),
                                  college)
    routes = {}
    rdoc = ck.mapping(top.get("legal_routes", {}), ("legal_routes",),
                      required=[c for c, pu in purposes.items() if pu.route == "legal"])
    for purpose, entries in rdoc.items():
        p = ("legal_routes", purpose)
        if not isinstance(entries, list) or not entries:
            ck.fail("wrong_type", p, "moet een niet-lege lijst van routes zijn")
            continue
        out = []
        for i, e in enumerate(entries):
            q = (*p, i)
            b = ck.mapping(e, q, required=("rule",),
                           optional=("from", "to", "categories", "grant", "otherwise",
                                     "otherwise_rule", "deny", "obligations", "from_kind",
                                     "status", "needs", "alternatives", "lacking"))
            known_rule(b.get("rule"), (*q, "rule"))
            if ("grant" in b) == ("deny" in b):
                ck.fail("route_shape", q, "een route heeft precies één van 'grant' en 'deny'",
                        str(b.get("rule")))
            if "otherwise_rule" in b:
                known_rule(b["otherwise_rule"], (*q, "otherwise_rule"))
            out.append(Route(
                rule=str(b.get("rule")),
                from_=frozenset(ck.codes_list(b["from"], (*q, "from"), codes.PARTIES,
                                              "partijcode")) if "from" in b else None,
                to=frozenset(ck.codes_list(b["to"], (*q, "to"), codes.PARTIES, "partijcode"))
                if "to" in b else None,
                categories=frozenset(ck.codes_list(b["categories"], (*q, "categories"),
                                                   codes.CATEGORIES, "gegevenscategorie"))
                if "categories" in b else None,
                grant=ck.code(b["grant"], (*q, "grant"), (*codes.GROUNDS, "consent"), "grond")
                if "grant" in b else None,
                otherwise=ck.code(b["otherwise"], (*q, "otherwise"), (*codes.REASONS, "consent"),
                                  "reden") if "otherwise" in b else None,
                otherwise_rule=b.get("otherwise_rule"),
                deny=ck.code(b["deny"], (*q, "deny"), codes.REASONS, "reden")
                if "deny" in b else None,
                obligations=tuple(ck.codes_list(b.get("obligations", []), (*q, "obligations"),
                                                codes.OBLIGATIONS, "verplichting")),
                from_kind=frozenset(ck.codes_list(b["from_kind"], (*q, "from_kind"),
                                                  codes.PARTY_KINDS, "soort partij"))
                if "from_kind" in b else None,
                status=frozenset(ck.codes_list(b["status"], (*q, "status"),
                                               codes.EDUCATION_STATUSES, "onderwijsstatus"))
                if "status" in b else None,
                needs=ck.code(b["needs"], (*q, "needs"), codes.ROUTE_NEEDS, "voorwaarde")
                if "needs" in b else None,
                alternatives=tuple(ck.codes_list(b.get("alternatives", []),
                                                 (*q, "alternatives"), codes.ROUTE_ALTERNATIVES,
                                                 "alternatieve grond")),
                lacking=ck.code(b["lacking"], (*q, "lacking"), codes.REASONS, "reden")
                if "lacking" in b else None,
            ))
        last = out[-1]
        if last.from_ is not None or last.to is not None or not last.deny:
            ck.fail("route_not_closed", (*p, len(out) - 1),
                    "de laatste route moet zonder 'from' en 'to' weigeren ('deny'), zodat "
                    "elke verstrekking een uitkomst heeft", last.rule)
        routes[purpose] = tuple(out)
    cdoc = ck.mapping(top.get("consent", {}), ("consent",),
                      required=("youth_and_parents_from", "youth_alone_from"),
                      optional=("written", "prior"))
    consent = ConsentRule(
        ck.integer(cdoc.get("youth_and_parents_from"), ("consent", "youth_and_parents_from"),
                   0, 30),
        ck.integer(cdoc.get("youth_alone_from"), ("consent", "youth_alone_from"), 0, 30),
        bool(cdoc.get("written", True)), bool(cdoc.get("prior", True)),
    )
    adoc = ck.mapping(top.get("absence", {}), ("absence",),
                      required=("leerplicht_from", "leerplicht_until",
                                "kwalificatieplicht_until", "threshold_hours",
                                "threshold_weeks", "deadline_working_days"),
                      optional=("rmc_until",))
    # rmc_until came with contract 1.1: a document stored before it has the then-fixed 23.
    absence = AbsenceRule(**{k: ck.integer(adoc.get(k, 23 if k == "rmc_until" else None),
                                           ("absence", k), 0, 100)
                             for k in AbsenceRule.__slots__})
    retention = {}
    tdoc = ck.mapping(top.get("retention", {}), ("retention",), required=codes.RECORDS)
    for record, body in tdoc.items():
        p = ("retention", record)
        b = ck.mapping(body, p, required=("years", "term", "rule"),
                       optional=("before", "regional"))
        known_rule(b.get("rule"), (*p, "rule"))
        before = b.get("before")
        if before is not None:
            before = ck.mapping(before, (*p, "before"), required=("date", "years", "rule"))
            known_rule(before.get("rule"), (*p, "before", "rule"))
            try:
                dt.date.fromisoformat(str(before.get("date")))
            except ValueError:
                ck.fail("bad_date", (*p, "before", "date"), "moet een datum JJJJ-MM-DD zijn")
        retention[record] = Retention(
            record, ck.integer(b.get("years"), (*p, "years"), 0, 120),
            ck.code(b.get("term"), (*p, "term"), ("minimum", "maximum"), "termijnsoort"),
            str(b.get("rule")),
            str(before["date"]) if before else None,
            before.get("years") if before else None,
            before.get("rule") if before else None,
        )
    overleg = {}
    for name, purpose in (top.get("overleg_types") or {}).items():
        overleg[str(name)] = purpose
    conditions = []
    for i, cond in enumerate(top.get("conditions") or []):
        conditions.append(Condition(
            id=cond["id"], purposes=frozenset(cond["purposes"]),
            categories=frozenset(cond["categories"]) if cond.get("categories") else None,
            require=cond["require"],
        ))
        del i
    ck.raise_if_any()
    return Ruleset(
        id=str(top["id"]), version=str(top["version"]), title=str(top["title"]),
        digest=digest or digest_of(doc), parties=parties, hats=hats, domains=domains,
        categories=categories, purposes=purposes, routes=routes, consent=consent,
        absence=absence, retention=retention, rules=rules, conditions=tuple(conditions),
        overleg_types=overleg, extends=top.get("extends"),
        signatories=tuple(top.get("signatories") or ()),
        document=doc,
    )


# --- regions -------------------------------------------------------------------------------

REGION_FIELDS = ("format", "id", "version", "title", "extends")
REGION_OPTIONAL = ("source", "overleg_types", "purposes", "parties", "conditions",
                   "retention", "rules", "signatories", *LEGAL_SECTIONS)


def _merge_region(region: dict, model: dict, ck: _Check) -> dict:
    """Check that a regional ruleset only narrows the model; return the merged document."""
    ck.mapping(region, (), required=REGION_FIELDS, optional=REGION_OPTIONAL)
    if region.get("format") != FORMAT:
        ck.fail("format_version", ("format",), f"alleen format {FORMAT} wordt ondersteund")
    rid = str(region.get("id", ""))
    merged = copy.deepcopy(model)
    for key in ("id", "version", "title", "source"):
        if key in region:
            merged[key] = region[key]
    merged["extends"] = model["id"]
    merged["model_version"] = model["version"]
    origin: dict[str, str] = {}

    # Legal limits: may be repeated, never changed.
    for section in LEGAL_SECTIONS:
        if section in region:
            _same_as_model(region[section], model.get(section), (section,), ck)

    # Purposes: fewer categories only.
    for purpose, body in (region.get("purposes") or {}).items():
        p = ("purposes", purpose)
        if purpose not in model["purposes"]:
            ck.code(purpose, p, list(model["purposes"]), "doel")
            continue
        base = model["purposes"][purpose]
        b = ck.mapping(body, p, optional=("label", "categories", "article"))
        if base["route"] == "legal" and "categories" in b:
            ck.fail("legal_limit_changed", (*p, "categories"),
                    f"'{purpose}' is een wettelijke route; een regio kan die niet aanpassen",
                    f"route.{purpose}")
            continue
        if "label" in b:
            merged["purposes"][purpose]["label"] = ck.text(b["label"], (*p, "label"))
        if "article" in b:
            merged["purposes"][purpose]["article"] = str(b["article"])
        if "categories" in b:
            cats = ck.codes_list(b["categories"], (*p, "categories"), codes.CATEGORIES,
                                 "gegevenscategorie", "purpose.matrix")
            for i, cat in enumerate(b["categories"]):
                if cat in cats and cat not in base.get("categories", []):
                    ck.fail("widens_purpose", (*p, "categories", i),
                            f"'{cat}' staat in het modelconvenant niet bij '{purpose}': "
                            "een regio mag een doel alleen beperken, niet verruimen",
                            "purpose.matrix")
            merged["purposes"][purpose]["categories"] = [
                c for c in base.get("categories", []) if c in cats]

    # Parties: a region may leave a party type out, never let one in or drop a requirement.
    for party, body in (region.get("parties") or {}).items():
        p = ("parties", party)
        if party not in model["parties"]:
            ck.code(party, p, list(model["parties"]), "partijcode")
            continue
        base = model["parties"][party]
        b = ck.mapping(body, p, optional=("label", "covenant"))
        if "label" in b:
            merged["parties"][party]["label"] = ck.text(b["label"], (*p, "label"))
        if "covenant" in b and b["covenant"] not in (base["covenant"], "never"):
            if base["covenant"] == "never":
                message = (f"'{party}' is in het model geen convenantpartij; een regio kan "
                           "geen partij toevoegen")
            else:
                what = {"acceded": "het toetredingsformulier", "mandate": "de machtiging"}.get(
                    base["covenant"], "de voorwaarde")
                message = (f"'{party}' is in het model '{base['covenant']}'; een regio kan "
                           f"{what} niet laten vallen (alleen 'never' of "
                           f"'{base['covenant']}')")
            ck.fail("widens_party", (*p, "covenant"), message, "party.covenant_parties")
        elif "covenant" in b:
            merged["parties"][party]["covenant"] = b["covenant"]

    # Retention: only the casusoverleg minutes are regional.
    for record, body in (region.get("retention") or {}).items():
        p = ("retention", record)
        base = model["retention"].get(record)
        if base is None:
            ck.code(record, p, list(model["retention"]), "soort dossier")
            continue
        if not base.get("regional"):
            ck.fail("legal_limit_changed", p,
                    f"de bewaartermijn van '{record}' volgt uit de wet; een regio kan die "
                    "niet aanpassen", base["rule"])
            continue
        b = ck.mapping(body, p, required=("years",))
        merged["retention"][record]["years"] = ck.integer(b.get("years"), (*p, "years"), 0, 20)

    # Overleg types: regional names mapped onto the model's purposes.
    names = ck.mapping(region.get("overleg_types") or {}, ("overleg_types",), closed=False)
    for name, purpose in names.items():
        p = ("overleg_types", name)
        if name in model["purposes"]:
            ck.fail("name_clash", p, f"'{name}' is al een doelcode van het model")
        allowed = [c for c, b in model["purposes"].items()
                   if b["route"] in ("covenant", "municipal")]
        if purpose not in allowed:
            ck.fail("unknown_code", p,
                    f"onbekend doel '{purpose}': een regionaal overleg hoort bij een "
                    f"convenantdoel of een gemeentelijk doel ({', '.join(allowed)})",
                    "purpose.matrix")
    merged["overleg_types"] = dict(names)

    # Extra rules and conditions: new ids only.
    extra_rules = ck.mapping(region.get("rules") or {}, ("rules",), closed=False)
    for rule_id, body in extra_rules.items():
        if rule_id in model["rules"]:
            ck.fail("redefines_rule", ("rules", rule_id),
                    "een regio kan een regel van het model niet herschrijven; geef uw "
                    "regel een eigen id", rule_id)
            continue
        merged["rules"][rule_id] = body
        origin[rule_id] = rid
    conditions = region.get("conditions") or []
    if not isinstance(conditions, list):
        ck.fail("wrong_type", ("conditions",), "moet een lijst van voorwaarden zijn")
        conditions = []
    kept = []
    for i, cond in enumerate(conditions):
        p = ("conditions", i)
        b = ck.mapping(cond, p, required=("id", "purposes", "require", "title", "citations",
                                          "explanation"), optional=("categories",))
        cid = str(b.get("id", f"conditions[{i}]"))
        ck.text(b.get("title"), (*p, "title"))
        ck.text(b.get("explanation"), (*p, "explanation"))
        cit = ck.mapping(b.get("citations", {}), (*p, "citations"),
                         optional=("avg", "sector", "convenant"))
        if isinstance(cit, dict) and not any(cit.get(k) for k in ("avg", "sector", "convenant")):
            ck.fail("missing_citation", (*p, "citations"),
                    "een voorwaarde noemt ten minste één bron (avg, sector of convenant)", cid)
        if cid in merged["rules"]:
            ck.fail("duplicate_rule_id", (*p, "id"), f"id '{cid}' bestaat al", cid)
        purposes = ck.codes_list(b.get("purposes", []), (*p, "purposes"),
                                 [c for c, v in model["purposes"].items()
                                  if v["route"] != "legal"],
                                 "doel (geen wettelijke route)", cid)
        for j, purpose in enumerate(purposes):
            if model["purposes"][purpose]["route"] == "municipal":
                ck.fail("consent_not_a_ground", (*p, "purposes", j),
                        f"'{purpose}' is een taak van het college: toestemming is daar geen "
                        "grondslag en dus ook geen extra voorwaarde (AP 2016)",
                        "scope.consent_not_a_ground")
        cats = None
        if "categories" in b:
            cats = ck.codes_list(b["categories"], (*p, "categories"), codes.CATEGORIES,
                                 "gegevenscategorie", cid)
        if b.get("require") != "consent":
            ck.fail("unknown_code", (*p, "require"),
                    "alleen 'consent' wordt als extra voorwaarde ondersteund", cid)
        merged["rules"][cid] = {k: b[k] for k in ("title", "citations", "explanation")
                                if k in b}
        origin[cid] = rid
        kept.append({"id": cid, "purposes": purposes, "categories": cats,
                     "require": "consent"})
    merged["conditions"] = kept
    if "signatories" in region:
        merged["signatories"] = _signatories(region["signatories"], model, ck)
    merged["rule_origins"] = origin
    return merged


def _signatories(value, model: dict, ck: _Check) -> list:
    """Who signed the regional covenant: party code, name, date (JJJJ-MM-DD)."""
    if not isinstance(value, list):
        ck.fail("wrong_type", ("signatories",), "moet een lijst van ondertekenaars zijn")
        return []
    for i, entry in enumerate(value):
        p = ("signatories", i)
        b = ck.mapping(entry, p, required=("party", "name", "signed_on"))
        party = b.get("party")
        if (party is not None
                and ck.code(party, (*p, "party"), list(model["parties"]), "partijcode")
                and model["parties"][party]["covenant"] == "never"):
            ck.fail("not_a_party", (*p, "party"),
                    f"'{party}' is geen convenantpartij en kan het convenant niet tekenen",
                    "party.covenant_parties")
        if "name" in b:
            ck.text(b["name"], (*p, "name"))
        if "signed_on" in b:
            try:
                dt.date.fromisoformat(str(b["signed_on"]))
            except ValueError:
                ck.fail("bad_date", (*p, "signed_on"), "moet een datum JJJJ-MM-DD zijn")
    return value


def _same_as_model(value, model_value, path: tuple, ck: _Check) -> None:
    if isinstance(value, dict) and isinstance(model_value, dict):
        for key, v in value.items():
            _same_as_model(v, model_value.get(key), (*path, key), ck)
        return
    if _canonical(value) != _canonical(model_value):
        rule = {"consent": "consent.age_12_15" if "youth_and_parents" in str(path)
                else "consent.from_16", "absence": "absence.threshold"}.get(path[0], path[0])
        ck.fail("legal_limit_changed", path,
                f"{_path_text(path)} is een wettelijke grens (model: {model_value!r}); een "
                f"regio kan die niet wijzigen, ook niet naar {value!r}", rule)


# --- entry points --------------------------------------------------------------------------


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RulesetError([RulesetProblem("not_found", str(path), None, "(bestand)",
                                           "bestand niet gevonden")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RulesetError([RulesetProblem("unreadable", str(path), None, "(bestand)",
                                           f"kan het bestand niet lezen: {exc}")]) from None


def _model_document() -> tuple[dict, str]:
    ref = DATA / "model-convenant.yaml"
    text = ref.read_text(encoding="utf-8")
    data, _ = _load_yaml(text, "model-convenant.yaml")
    return data, text


_CACHE: dict[str, tuple[float, Ruleset]] = {}


def load_text(text: str, file: str) -> Ruleset:
    """Check and compile a ruleset document given as YAML text."""
    data, lines = _load_yaml(text, file)
    ck = _Check(file, lines)
    for path, line in lines.duplicates:
        ck.problems.append(RulesetProblem("duplicate_key", file, line, _path_text(path),
                                          "deze sleutel staat twee keer in dezelfde mapping"))
    if not isinstance(data, dict):
        ck.fail("wrong_type", (), "een ruleset is een mapping met id, version, ...")
        ck.raise_if_any()
    if "extends" in data:
        base_id = data.get("extends")
        if base_id != MODEL_ID:
            ck.fail("unknown_base", ("extends",),
                    f"een regionale ruleset breidt '{MODEL_ID}' uit, niet '{base_id}'")
            ck.raise_if_any()
        model, _ = _model_document()
        merged = _merge_region(data, model, ck)
        ck.raise_if_any()
        return _compile(merged, ck)
    return _compile(data, ck)


def from_document(document: dict, label: str = "(opgeslagen ruleset)") -> Ruleset:
    """Compile an effective ruleset document as stored with decisions (Ruleset.document).

    The digest stays that of the stored document. A document stored by an older Deelwijs may
    lack the text of a rule the procedure has since learnt to name: that text is taken from
    the built-in model (its origin then says so), so old versions stay usable."""
    doc = copy.deepcopy(document)
    digest = digest_of(doc)
    rules = doc.setdefault("rules", {})
    missing = [r for r in PROCEDURE_RULES if r not in rules]
    if missing:
        model_rules = _model_document()[0]["rules"]
        origins = doc.setdefault("rule_origins", {})
        for rid in missing:
            if rid in model_rules:
                rules[rid] = model_rules[rid]
                origins[rid] = f"{MODEL_ID} (aangevuld)"
    return _compile(doc, _Check(label, _Lines()), digest)


def load_file(path: str | Path) -> Ruleset:
    path = Path(path)
    return load_text(_read(path), str(path))


def builtin_ids() -> list[str]:
    ids = [MODEL_ID]
    regions = DATA / "regions"
    ids += sorted(p.name[:-5] for p in regions.iterdir() if p.name.endswith(".yaml"))
    return ids


def builtin_path(ruleset_id: str):
    if ruleset_id == MODEL_ID:
        return DATA / "model-convenant.yaml"
    ref = DATA / "regions" / f"{ruleset_id}.yaml"
    return ref if ref.is_file() else None


def resolve(name: str | None = None) -> Ruleset:
    """A ruleset by built-in id (`model-convenant`, `voorbeeldregio`) or by file path.

    Compiled rulesets are cached per process by id/path and file contents' modification time.
    """
    name = name or MODEL_ID
    ref = builtin_path(name)
    if ref is None:
        path = Path(name)
        if not path.exists():
            ids = ", ".join(builtin_ids())
            raise RulesetError([RulesetProblem(
                "not_found", name, None, "(ruleset)",
                f"geen bestand en geen ingebouwde ruleset (ingebouwd: {ids})")])
        ref = path
    key = str(ref)
    try:
        mtime = Path(str(ref)).stat().st_mtime
    except OSError:
        mtime = 0.0
    hit = _CACHE.get(key)
    if hit and hit[0] == mtime:
        return hit[1]
    label = name if builtin_path(name) is not None else str(ref)
    text = ref.read_text(encoding="utf-8") if builtin_path(name) is not None else _read(ref)
    ruleset = load_text(text, label if builtin_path(name) is None else ref.name)
    _CACHE[key] = (mtime, ruleset)
    return ruleset


def model() -> Ruleset:
    return resolve(MODEL_ID)
