"""Rule files (YAML) → a checked, compiled Ruleset: the gatekeeper of what a region hands in.

The built-in model covenant (`model-convenant`) is the only complete ruleset, and it is loaded
only from the package's own file, by its id. Every other ruleset is regional: it says
`extends: model-convenant` and may only narrow the model: fewer categories per purpose,
extra consent conditions on covenant purposes, its own names for its casusoverleggen (each
one of the four covenant purposes), parties left out (`covenant: never`), a shorter term for
casusoverleg minutes, rules of its own with ids of its own. Anything else is refused with
`file:line: [code] rule: message` (RulesetProblem; the CLI exits 2), never with a traceback.

One path, for every entry point (`rules check`, `decide --ruleset`, `rules show|diff`,
storing and activating a region's ruleset through services.registry.activate_ruleset):

    resolve(name)        a built-in id → the package's file; anything else → load_file
    load_file(path)      reads at most MAX_BYTES + 1 bytes (`too_large`, `unreadable`)
    load_text(text, f)   size again, then parse_yaml: plain YAML only, before any object is
                         built (`yaml_syntax`, `yaml_anchor`, `yaml_alias`, `yaml_merge_key`,
                         `yaml_tag`, `duplicate_key`, `too_deep`)
    load_document(data, file, lines=None)
                         every check of a regional document, then the merge with the model
                         and its compilation. Public so that a document rebuilt from storage
                         goes through the very same checks; `lines` (path → line, as
                         parse_yaml returns them) may be left out.

What load_document refuses (the codes; docs/rules.md lists them with one line each):
`not_a_region` (no `extends`), `unknown_base`, `borrowed_id` (the id of a built-in ruleset),
`wrong_type` (a list where a mapping belongs or the reverse, anywhere; `id`, `version`,
`title`, `source` not YAML text, so `version: 2026.10` is refused instead of read as 2026.1;
keys that are not text), `unknown_field`, `missing_field`, `unknown_code`, `format_version`,
`legal_limit_changed` (a legal section, a legal route's categories, a statutory retention
term, a party's kind or default domain), `widens_purpose`, `widens_party`, `relabels_party`,
`widens_retention`, `overleg_outside_covenant`, `name_clash`, `duplicate`, `redefines_rule`,
`duplicate_rule_id`, `missing_citation`, `consent_not_a_ground`, `not_a_party`, `bad_date`;
the compilation adds the model's own checks (`missing_rule`, `route_not_closed`, ...), which a
region cannot trip since it cannot change what they check.

from_document compiles what Deelwijs itself stored with its decisions (the merged document);
it is not a way in for a file.
"""

from __future__ import annotations

import copy
import datetime as dt
import difflib
import functools
import hashlib
import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import yaml

from deelwijs.domain import codes, labels
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
from deelwijs.errors import DeelwijsError

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


class RulesetError(DeelwijsError, ValueError):
    """A ruleset that cannot be loaded or is refused: every problem found, each with its own
    code, file and line."""

    code = "invalid_ruleset"

    def __init__(self, problems: list[RulesetProblem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))

    def errors(self) -> list[dict]:
        return [{"path": f"{p.file}:{p.line}" if p.line else p.file, "code": p.code,
                 "message": f"[{p.code}] {p.rule}: {p.message}"} for p in self.problems]


# --- plain YAML, with line numbers ---------------------------------------------------------

MAX_BYTES = 256 * 1024  # a ruleset file is at most this long (the model is about 35 KiB)
MAX_DEPTH = 32  # nesting; the model needs 5
_MAX_YAML_PROBLEMS = 20  # stop reading a file after this many problems of its YAML
_Y = "tag:yaml.org,2002:"
_SCALAR_TAGS = frozenset(_Y + t for t in ("str", "int", "float", "bool", "null", "timestamp"))
_PARSER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_RESOLVER = yaml.resolver.Resolver()
_CONSTRUCTOR = yaml.constructor.SafeConstructor()
_NO_KEY = object()  # a mapping frame waiting for its next key
_BAD_KEY = object()  # a key that was refused: its value is dropped


class _Lines:
    """Line numbers (1-based) of every key and list item, by path; `()` is where the document
    starts. Without any line (a document that never was a file), every line is None."""

    def __init__(self, at: dict | None = None) -> None:
        self.at: dict[tuple, int] = dict(at or {})

    def line(self, path: tuple) -> int | None:
        if not self.at:
            return None
        path = tuple(path)
        while path:
            if path in self.at:
                return self.at[path]
            path = path[:-1]
        return self.at.get((), 1)


class _Frame:
    __slots__ = ("key", "key_line", "line", "path", "value")

    def __init__(self, value, path: tuple, line: int):
        self.value, self.path, self.line = value, path, line
        self.key, self.key_line = _NO_KEY, line


def _yaml_problem(code: str, file: str, line: int | None, message: str) -> RulesetProblem:
    return RulesetProblem(code, file, line, "(bestand)", message)


def _one_per_line(problems: list[RulesetProblem]) -> list[RulesetProblem]:
    """Ten aliases on one line are one problem of that line."""
    seen, out = set(), []
    for p in sorted(problems, key=lambda p: p.line or 0):
        if (p.code, p.line) not in seen:
            seen.add((p.code, p.line))
            out.append(p)
    return out


def parse_yaml(text: str, file: str) -> tuple[object, _Lines]:
    """Plain YAML → Python values (dict, list, str, int, float, bool, None, date) and the line
    of every key and list item, built from the parser's events.

    Nothing is constructed from a tag and no alias is followed: an anchor (`&`), an alias (`*`)
    or a merge key (`<<`) is refused on its line (`yaml_anchor`, `yaml_alias`,
    `yaml_merge_key`), so an alias bomb costs no more than its own bytes. Keys that resolve to
    the same value (`yes`/`on`/`true`, `1`/`01`) are duplicates (`duplicate_key`); a list or
    mapping as a key, a tag other than the plain scalar ones, more than one document or a
    nesting deeper than MAX_DEPTH is refused too. Raises RulesetError."""
    problems: list[RulesetProblem] = []
    at: dict[tuple, int] = {}
    stack: list[_Frame] = []
    root = None
    documents = 0

    def child_path() -> tuple:
        if not stack:
            return ()
        f = stack[-1]
        if isinstance(f.value, list):
            return (*f.path, len(f.value))
        return (*f.path, "?" if f.key is _NO_KEY or f.key is _BAD_KEY else f.key)

    def add(value, line: int) -> None:
        nonlocal root
        if not stack:
            root = value
            at.setdefault((), line)
            return
        f = stack[-1]
        if isinstance(f.value, list):
            at[(*f.path, len(f.value))] = line
            f.value.append(value)
        elif f.key is _NO_KEY:
            if isinstance(value, list | dict):
                problems.append(RulesetProblem(
                    "wrong_type", file, line, _path_text((*f.path, "?")),
                    "een sleutel is een korte tekst, geen lijst of mapping"))
                f.key = _BAD_KEY
            else:
                f.key, f.key_line = value, line
        else:
            key, f.key = f.key, _NO_KEY
            if key is _BAD_KEY:
                return
            if key in f.value:
                problems.append(RulesetProblem(
                    "duplicate_key", file, f.key_line, _path_text((*f.path, key)),
                    f"sleutel '{_key_text(key)}' staat twee keer in dezelfde mapping"
                    + ("" if isinstance(key, str) else
                       " (YAML leest 'yes', 'on' en 'true' als dezelfde ja/nee-waarde, en "
                       "'1' en '01' als hetzelfde getal)")))
                return
            f.value[key] = value
            at[(*f.path, key)] = f.key_line

    def scalar(event, line: int):
        tag = event.tag
        if tag is None or tag == "!":
            tag = _RESOLVER.resolve(yaml.ScalarNode, event.value, event.implicit)
        if tag == _Y + "merge":
            problems.append(_yaml_problem(
                "yaml_merge_key", file, line, "geen samenvoegsleutel ('<<'): een ruleset is "
                "gewone YAML; schrijf elke waarde uit"))
            return "<<"
        if tag == _Y + "value":  # a bare '=': plain text
            tag = _Y + "str"
        if tag not in _SCALAR_TAGS:
            problems.append(_yaml_problem(
                "yaml_tag", file, line, f"YAML-tag '{event.tag or tag}' is hier niet "
                "toegestaan: alleen tekst, getallen, ja/nee, datums en null"))
            return None
        node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
        try:
            return _CONSTRUCTOR.yaml_constructors[tag](_CONSTRUCTOR, node)
        except (ValueError, TypeError, AttributeError, OverflowError, yaml.YAMLError):
            problems.append(_yaml_problem(
                "yaml_syntax", file, line, f"'{event.value[:40]}' is geen geldige waarde voor "
                f"{tag.removeprefix(_Y)}"))
            return None

    try:
        for event in yaml.parse(text, Loader=_PARSER):
            line = event.start_mark.line + 1
            if isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    problems.append(_yaml_problem(
                        "yaml_syntax", file, line, "meer dan één YAML-document ('---'); een "
                        "ruleset is één document"))
                    break
            elif isinstance(event, yaml.AliasEvent):
                problems.append(_yaml_problem(
                    "yaml_alias", file, line, f"geen verwijzing ('*{event.anchor}'): een "
                    "ruleset is gewone YAML; schrijf elke waarde uit"))
                add(None, line)
            elif isinstance(event, yaml.ScalarEvent | yaml.SequenceStartEvent
                            | yaml.MappingStartEvent):
                if event.anchor is not None:
                    problems.append(_yaml_problem(
                        "yaml_anchor", file, line, f"geen anker ('&{event.anchor}'): een "
                        "ruleset is gewone YAML; schrijf elke waarde uit"))
                if isinstance(event, yaml.ScalarEvent):
                    add(scalar(event, line), line)
                    continue
                mapping = isinstance(event, yaml.MappingStartEvent)
                if event.tag not in (None, "!", _Y + ("map" if mapping else "seq")):
                    problems.append(_yaml_problem(
                        "yaml_tag", file, line, f"YAML-tag '{event.tag}' is hier niet "
                        "toegestaan"))
                if len(stack) >= MAX_DEPTH:
                    problems.append(_yaml_problem(
                        "too_deep", file, line, f"te diep genest (meer dan {MAX_DEPTH} "
                        "niveaus)"))
                    break
                stack.append(_Frame({} if mapping else [], child_path(), line))
            elif isinstance(event, yaml.SequenceEndEvent | yaml.MappingEndEvent):
                frame = stack.pop()
                add(frame.value, frame.line)
            if len(problems) >= _MAX_YAML_PROBLEMS:
                problems[:] = _one_per_line(problems)
                if len(problems) >= _MAX_YAML_PROBLEMS:
                    break
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problems.append(_yaml_problem("yaml_syntax", file, mark.line + 1 if mark else None,
                                      f"geen geldige YAML: {exc.problem or exc.context}"))
    except yaml.YAMLError as exc:  # the reader: a character YAML does not allow
        position = getattr(exc, "position", None)
        line = text.count("\n", 0, position) + 1 if isinstance(position, int) else None
        problems.append(_yaml_problem("yaml_syntax", file, line, f"geen geldige YAML: "
                                      f"{getattr(exc, 'reason', exc)}"))
    except UnicodeError as exc:  # a lone surrogate: text no file can hold
        position = getattr(exc, "start", None)
        line = text.count("\n", 0, position) + 1 if isinstance(position, int) else None
        problems.append(_yaml_problem("unreadable", file, line,
                                      "de tekst bevat een teken dat geen UTF-8 kan zijn"))
    if problems:
        raise RulesetError(_one_per_line(problems))
    return root, _Lines(at)


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


def _key_text(key) -> str:
    """A key as YAML spells it: true, null, 12, tekst."""
    if isinstance(key, bool):
        return "true" if key else "false"
    return "null" if key is None else str(key)


def _path_text(path: tuple) -> str:
    out = ""
    for p in path:
        if isinstance(p, int) and not isinstance(p, bool):
            out += f"[{p}]"
        else:
            out += f".{_key_text(p)}" if out else _key_text(p)
    return out or "(bestand)"


_NEUTER = ("doel", "domein", "veld", "convenantlidmaatschap")


def _unknown(what: str) -> str:
    """'onbekend doel', 'onbekende partijcode': Dutch adjectives follow the noun's gender."""
    return f"onbekend {what}" if what.split(" ")[0] in _NEUTER else f"onbekende {what}"


MAX_PROBLEMS = 100  # a file with more is told the first ones and how many more there are


class _Check:
    def __init__(self, file: str, lines: _Lines):
        self.file = file
        self.lines = lines
        self.problems: list[RulesetProblem] = []
        self.more = 0  # problems found beyond MAX_PROBLEMS

    def fail(self, code: str, path: tuple, message: str, rule: str | None = None) -> None:
        if len(self.problems) >= MAX_PROBLEMS:
            self.more += 1
            return
        self.problems.append(RulesetProblem(code, self.file, self.lines.line(path),
                                            rule or _path_text(path), message))

    def hint(self, value, options) -> str:
        """' (bedoelt u 'x'?)' for a near miss; nothing once the problems are many."""
        if len(self.problems) >= MAX_PROBLEMS:
            return ""
        close = difflib.get_close_matches(str(value), [str(o) for o in options], n=1)
        return f" (bedoelt u '{close[0]}'?)" if close else ""

    def mapping(self, data, path: tuple, required=(), optional=(), closed=True) -> dict:
        if not isinstance(data, dict):
            self.fail("wrong_type", path, "moet een mapping (sleutel: waarde) zijn, geen "
                      + _kind_nl(data))
            return {}
        for key in required:
            if key not in data:
                self.fail("missing_field", path, f"verplicht veld '{key}' ontbreekt")
        if closed:
            allowed = set(required) | set(optional)
            for key in data:
                if key not in allowed:
                    extra = self.hint(str(key), list(allowed))
                    self.fail("unknown_field", (*path, key), f"onbekend veld '{key}'{extra}")
        return data

    def codes_list(self, value, path: tuple, options, what: str, rule: str | None = None):
        if not isinstance(value, list):
            self.fail("wrong_type", path, f"moet een lijst zijn ({what}), geen "
                      + _kind_nl(value), rule)
            return []
        out = []
        for i, item in enumerate(value):
            if not isinstance(item, str):
                self.fail("wrong_type", (*path, i), f"moet een code zijn ({what}), geen "
                          + _kind_nl(item), rule)
            elif item not in options:
                extra = self.hint(str(item), list(options))
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
        if not isinstance(value, str):
            self.fail("wrong_type", path, f"moet een code zijn ({what}), geen "
                      + _kind_nl(value), rule)
            return None
        if value not in options:
            extra = self.hint(str(value), list(options))
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
            problems = sorted(self.problems, key=lambda p: (p.file, p.line or 0))
            if self.more:
                problems.append(RulesetProblem(
                    "too_many_problems", self.file, None, "(bestand)",
                    f"en nog {self.more} problemen; herstel eerst de bovenstaande"))
            raise RulesetError(problems)


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
    if isinstance(top.get("format"), bool) or top.get("format") != FORMAT:
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
            extra = ck.hint(str(rid), list(rules))
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
        if (last.from_ is not None or last.to is not None or last.from_kind is not None
                or last.status is not None or not last.deny):
            ck.fail("route_not_closed", (*p, len(out) - 1),
                    "de laatste route moet zonder 'from', 'to', 'from_kind' en 'status' "
                    "weigeren ('deny'), zodat elke verstrekking een uitkomst heeft", last.rule)
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
            str(before.get("date")) if before else None,
            ck.integer(before.get("years"), (*p, "before", "years"), 0, 120) if before else None,
            before.get("rule") if before else None,
        )
    overleg = {}
    for name, purpose in ck.mapping(top.get("overleg_types") or {}, ("overleg_types",),
                                    closed=False).items():
        overleg[str(name)] = purpose
    conditions = []
    cdocs = top.get("conditions") or []
    if not isinstance(cdocs, list):
        ck.fail("wrong_type", ("conditions",), "moet een lijst van voorwaarden zijn")
        cdocs = []
    for i, cond in enumerate(cdocs):
        if not (isinstance(cond, dict) and isinstance(cond.get("id"), str)
                and all(isinstance(v, list) and all(isinstance(x, str) for x in v)
                        for v in (cond.get("purposes"), cond.get("categories") or []))):
            ck.fail("wrong_type", ("conditions", i), "moet een voorwaarde zijn (id, purposes, "
                    "categories, require)")
            continue
        conditions.append(Condition(
            id=cond["id"], purposes=frozenset(cond["purposes"]),
            categories=frozenset(cond["categories"]) if cond.get("categories") else None,
            require=cond.get("require"),
        ))
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
IDENTITY_FIELDS = ("id", "version", "title", "source")
OVERLEG_NAME_MAX = 100
# How strict a covenant membership is: a region may only keep the model's or say `never`.
_STRICTNESS = {"always": 0, "mandate": 1, "acceded": 1, "never": 2}


def _fold(text: str) -> str:
    """'TOM-tafel', 'tom tafel' and 'TomTafel' are one name: letters and digits, lower case."""
    return "".join(ch for ch in text.casefold() if ch.isalnum())


_RESERVED_NAMES = {_fold(c): c for c in (*codes.PURPOSES, *codes.ROUTES, *codes.PARTIES,
                                        *codes.CATEGORIES, *codes.HATS, *codes.DOMAINS,
                                        *codes.RECORDS, *codes.KINDS)}


def _kind_nl(value) -> str:
    """What a value is, as a noun that reads after 'geen': 'geen lijst'."""
    if isinstance(value, dict):
        return "mapping"
    if isinstance(value, list):
        return "lijst"
    if isinstance(value, bool):
        return "ja/nee-waarde"
    if isinstance(value, int | float):
        return "getal"
    if isinstance(value, dt.date):
        return "datum"
    if value is None:
        return "lege waarde (null)"
    return "tekst" if isinstance(value, str) else type(value).__name__


def _same(a, b) -> bool:
    """Equal as YAML values: true is not 1, and 1.0 is not 1."""
    dump = lambda v: json.dumps(_canonical(v), sort_keys=True, default=str)  # noqa: E731
    return dump(a) == dump(b)


def _section(region: dict, key: str, ck: _Check, kind: type = dict):
    """An optional section of a regional file: absent or null is empty; a list where a
    mapping belongs (or the reverse) is wrong_type."""
    value = region.get(key)
    if value is None:
        return kind()
    if not isinstance(value, kind):
        ck.fail("wrong_type", (key,), ("moet een mapping (sleutel: waarde) zijn"
                                       if kind is dict else "moet een lijst zijn")
                + f", geen {_kind_nl(value)}")
        return kind()
    return value


def _texts(b: dict, p: tuple, rid: str, ck: _Check, what: str) -> None:
    """The title, explanation and citations of a regional rule or condition."""
    for key in ("title", "explanation"):
        if key in b:
            ck.text(b[key], (*p, key))
    if "citations" in b:
        cit = ck.mapping(b["citations"], (*p, "citations"), optional=("avg", "sector",
                                                                      "convenant"))
        for key, value in cit.items():
            if key in ("avg", "sector", "convenant"):
                ck.text(value, (*p, "citations", key))
        if isinstance(b["citations"], dict) and not any(
                cit.get(k) for k in ("avg", "sector", "convenant")):
            ck.fail("missing_citation", (*p, "citations"),
                    f"{what} noemt ten minste één bron (avg, sector of convenant)", rid)
    if "fg_judgement" in b and not isinstance(b["fg_judgement"], bool):
        ck.fail("wrong_type", (*p, "fg_judgement"), "moet true of false zijn")


def _check_plain(data, ck: _Check) -> None:
    """A document given as Python values (not parsed from YAML here) holds only what plain
    YAML can: mappings with text keys, lists, text, numbers, true/false, null and dates."""
    stack = [(data, (), 0)]
    while stack:
        value, path, depth = stack.pop()
        if depth > MAX_DEPTH:
            ck.fail("too_deep", path, f"te diep genest (meer dan {MAX_DEPTH} niveaus)")
            return
        if isinstance(value, dict):
            for key, item in value.items():
                if not isinstance(key, str):
                    ck.fail("wrong_type", (*path, key),
                            f"een sleutel is tekst, geen {_kind_nl(key)} ({_key_text(key)}); "
                            "YAML leest onder meer yes, on, no, off, getallen en datums niet "
                            "als tekst: zet zo'n sleutel tussen aanhalingstekens")
                stack.append((item, (*path, key), depth + 1))
        elif isinstance(value, list):
            stack.extend((item, (*path, i), depth + 1) for i, item in enumerate(value))
        elif not isinstance(value, str | int | float | dt.date | None):
            ck.fail("wrong_type", path, f"geen YAML-waarde ({type(value).__name__})")


def _check_identity(data: dict, ck: _Check) -> bool:
    """extends, id, version, title, source. False when the file is no regional ruleset at
    all (then nothing else is checked)."""
    rid = data.get("id")
    if isinstance(rid, str) and rid.strip():
        for bid in builtin_ids():
            if _fold(rid) != _fold(bid):
                continue
            if bid != MODEL_ID and rid == bid and _same(data, _builtin_document(bid)):
                break  # the packaged file itself
            ck.fail("borrowed_id", ("id",),
                    f"'{rid}' is (bijna) het id van de ingebouwde ruleset '{bid}'; een "
                    "antwoord zou dan die naam en versie dragen. Geef uw ruleset een eigen "
                    "id.", "id")
            break
    if "extends" not in data:
        ck.fail("not_a_region", (), "dit bestand zegt niet welk model het uitbreidt. Alleen "
                f"het ingebouwde model ('{MODEL_ID}') staat op zichzelf, en dat wordt alleen "
                "bij zijn id uit Deelwijs zelf geladen. Een regionale ruleset begint met "
                f"'extends: {MODEL_ID}' en mag het model alleen beperken.", "extends")
        return False
    base = data["extends"]
    if not isinstance(base, str):
        ck.fail("wrong_type", ("extends",), f"moet het id van het model zijn ('{MODEL_ID}'), "
                f"geen {_kind_nl(base)}")
        return False
    if base != MODEL_ID:
        ck.fail("unknown_base", ("extends",),
                f"een regionale ruleset breidt '{MODEL_ID}' uit, niet '{base}'")
        return False
    for key in IDENTITY_FIELDS:
        if key not in data:
            continue
        value = data[key]
        if isinstance(value, str) and value.strip() and (key in ("title", "source")
                                                         or "\n" not in value.strip()):
            continue
        hint = ""
        if isinstance(value, int | float) and not isinstance(value, bool):
            hint = (f"; YAML leest dit als het getal {value!r}: zet het tussen "
                    f"aanhalingstekens ({key}: \"…\")")
        elif isinstance(value, dt.date):
            hint = "; YAML leest dit als een datum: zet het tussen aanhalingstekens"
        ck.fail("wrong_type", (key,), "moet een (niet-lege) tekst zijn"
                + (" op één regel" if key in ("id", "version") else "") + hint)
    return True


def _merge_region(region: dict, model: dict, ck: _Check) -> dict:
    """Check that a regional ruleset only narrows the model; return the merged document."""
    ck.mapping(region, (), required=REGION_FIELDS, optional=REGION_OPTIONAL)
    if "format" in region:
        if isinstance(region["format"], bool) or not isinstance(region["format"], int):
            ck.fail("wrong_type", ("format",), f"moet het getal {FORMAT} zijn, geen "
                    + _kind_nl(region["format"]))
        elif region["format"] != FORMAT:
            ck.fail("format_version", ("format",), f"alleen format {FORMAT} wordt ondersteund")
    rid = region["id"] if isinstance(region.get("id"), str) else ""
    merged = copy.deepcopy(model)
    for key in IDENTITY_FIELDS:
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
    for purpose, body in _section(region, "purposes", ck).items():
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
            if not isinstance(b["article"], str):
                ck.fail("wrong_type", (*p, "article"), "moet een tekst zijn (de, het of leeg)")
            merged["purposes"][purpose]["article"] = str(b["article"])
        if "categories" in b:
            given = b["categories"]
            cats = ck.codes_list(given, (*p, "categories"), codes.CATEGORIES,
                                 "gegevenscategorie", "purpose.matrix")
            for i, cat in enumerate(given if isinstance(given, list) else []):
                if cat in cats and cat not in base.get("categories", []):
                    ck.fail("widens_purpose", (*p, "categories", i),
                            f"'{cat}' staat in het modelconvenant niet bij '{purpose}': "
                            "een regio mag een doel alleen beperken, niet verruimen",
                            "purpose.matrix")
            merged["purposes"][purpose]["categories"] = [
                c for c in base.get("categories", []) if c in cats]

    # Parties: a region may leave a party type out, never let one in, drop a requirement,
    # or rename or reclassify a party (answers name every party by the model's label).
    for party, body in _section(region, "parties", ck).items():
        p = ("parties", party)
        if party not in model["parties"]:
            ck.code(party, p, list(model["parties"]), "partijcode")
            continue
        base = model["parties"][party]
        if not isinstance(body, dict):
            ck.fail("wrong_type", p, f"moet een mapping (covenant: …) zijn, geen "
                    f"{_kind_nl(body)}")
            continue
        for key in body:
            if key in ("label", "article"):
                ck.fail("relabels_party", (*p, key),
                        f"een regio kan {labels.PARTY_FIELD[key]} van een partij niet wijzigen: "
                        f"een antwoord noemt '{party}' altijd zoals het model doet "
                        f"('{base['label']}')", "party.covenant_parties")
            elif key in ("kind", "default_domain"):
                ck.fail("legal_limit_changed", (*p, key),
                        f"{labels.PARTY_FIELD[key]} van '{party}' volgt uit de wet (model: "
                        f"{base.get(key)!r}); een regio kan die niet wijzigen",
                        "party.covenant_parties")
            elif key != "covenant":
                extra = ck.hint(str(key), ["covenant"])
                ck.fail("unknown_field", (*p, key), f"onbekend veld '{key}'{extra}; een "
                        "regio zegt van een partij alleen of die meedoet (covenant)")
        if "covenant" not in body:
            continue
        value = ck.code(body["covenant"], (*p, "covenant"), codes.COVENANT_MEMBERSHIP,
                        "convenantlidmaatschap", "party.covenant_parties")
        if value is None:
            continue
        if value in (base["covenant"], "never"):
            merged["parties"][party]["covenant"] = value
        elif _STRICTNESS[value] < _STRICTNESS[base["covenant"]]:
            if base["covenant"] == "never":
                message = (f"'{party}' is in het model geen convenantpartij; een regio kan "
                           "geen partij toevoegen")
            else:
                what = {"acceded": "het toetredingsformulier", "mandate": "de machtiging"}[
                    base["covenant"]]
                message = (f"'{party}' is in het model '{base['covenant']}'; een regio kan "
                           f"{what} niet laten vallen (alleen 'never' of "
                           f"'{base['covenant']}')")
            ck.fail("widens_party", (*p, "covenant"), message, "party.covenant_parties")
        else:
            ck.fail("unknown_code", (*p, "covenant"),
                    f"'{party}' is in het model '{base['covenant']}'; een regio kan een partij "
                    f"alleen uitsluiten ('never') of het model volgen ('{base['covenant']}')",
                    "party.covenant_parties")

    # Retention: only the casusoverleg minutes are regional, and only shorter.
    for record, body in _section(region, "retention", ck).items():
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
        if "years" not in b:
            continue
        before = len(ck.problems)
        years = ck.integer(b["years"], (*p, "years"), 0, 200)
        if len(ck.problems) > before:
            continue
        limit = base["years"]
        if base["term"] == "maximum" and years > limit:
            ck.fail("widens_retention", (*p, "years"),
                    f"het model bewaart '{record}' ten hoogste {limit} jaar; een regio kan die "
                    f"termijn inkorten, niet verlengen tot {years} jaar (langer bewaren "
                    "verruimt de opslag, AVG art. 5 lid 1 onder e)", base["rule"])
            continue
        if base["term"] == "minimum" and years < limit:
            ck.fail("widens_retention", (*p, "years"),
                    f"het model bewaart '{record}' ten minste {limit} jaar; een regio kan die "
                    f"termijn niet inkorten tot {years} jaar", base["rule"])
            continue
        merged["retention"][record]["years"] = years

    # Overleg types: the region's names for its casusoverleggen, each one a covenant purpose.
    covenant = [c for c, b in model["purposes"].items() if b["route"] == "covenant"]
    kept: dict[str, str] = {}
    folded: dict[str, str] = {}
    for name, purpose in _section(region, "overleg_types", ck).items():
        p = ("overleg_types", name)
        if (not isinstance(name, str) or not _fold(name) or name != name.strip()
                or "\n" in name or len(name) > OVERLEG_NAME_MAX):
            ck.fail("wrong_type", p, f"een overlegnaam is tekst op één regel, ten hoogste "
                    f"{OVERLEG_NAME_MAX} tekens, zonder spaties aan begin of eind")
            continue
        if name in model["purposes"] or _fold(name) in _RESERVED_NAMES:
            code = name if name in model["purposes"] else _RESERVED_NAMES[_fold(name)]
            ck.fail("name_clash", p, f"'{name}' is al een code van het model ('{code}'); "
                    "geef het overleg een eigen naam")
            continue
        if _fold(name) in folded:
            ck.fail("duplicate", p, f"'{name}' en '{folded[_fold(name)]}' zijn dezelfde naam "
                    "(hoofdletters, spaties en leestekens tellen niet mee)")
            continue
        folded[_fold(name)] = name
        if not isinstance(purpose, str):
            ck.fail("wrong_type", p, f"moet een convenantdoel zijn ({', '.join(covenant)}), "
                    f"geen {_kind_nl(purpose)}", "purpose.matrix")
        elif purpose not in model["purposes"]:
            ck.code(purpose, p, covenant, "doel", "purpose.matrix")
        elif purpose not in covenant:
            route = model["purposes"][purpose]["route"]
            what = {"municipal": "een taak van het college", "legal": "een wettelijke route",
                    "own_task": "de eigen taak van de verstrekker"}.get(route, route)
            ck.fail("overleg_outside_covenant", p,
                    f"'{purpose}' is {what}, geen casusoverleg van het convenant: een "
                    f"regionaal overleg hoort bij {', '.join(covenant)}", "purpose.matrix")
        else:
            kept[name] = purpose
    merged["overleg_types"] = kept

    # Extra rules and conditions: new ids only.
    for rule_id, body in _section(region, "rules", ck).items():
        p = ("rules", rule_id)
        if not isinstance(rule_id, str) or not rule_id.strip():
            continue  # _check_plain said so
        if rule_id in model["rules"]:
            ck.fail("redefines_rule", p, "een regio kan een regel van het model niet "
                    "herschrijven; geef uw regel een eigen id", rule_id)
            continue
        b = ck.mapping(body, p, required=("title", "citations", "explanation"),
                       optional=("fg_judgement",))
        _texts(b, p, rule_id, ck, "een regel")
        merged["rules"][rule_id] = body
        origin[rule_id] = rid
    conditions = []
    for i, cond in enumerate(_section(region, "conditions", ck, list)):
        p = ("conditions", i)
        b = ck.mapping(cond, p, required=("id", "purposes", "require", "title", "citations",
                                          "explanation"), optional=("categories",))
        cid = b.get("id")
        if "id" in b and (not isinstance(cid, str) or not cid.strip()):
            ck.fail("wrong_type", (*p, "id"), "moet een (niet-lege) tekst zijn")
        if not isinstance(cid, str) or not cid.strip():
            cid = f"conditions[{i}]"
        _texts(b, p, cid, ck, "een voorwaarde")
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
        if "require" in b and not isinstance(b["require"], str):
            ck.fail("wrong_type", (*p, "require"), "moet een code zijn ('consent'), geen "
                    + _kind_nl(b["require"]), cid)
        elif "require" in b and b["require"] != "consent":
            ck.fail("unknown_code", (*p, "require"),
                    "alleen 'consent' wordt als extra voorwaarde ondersteund", cid)
        merged["rules"][cid] = {k: b[k] for k in ("title", "citations", "explanation")
                                if k in b}
        origin[cid] = rid
        conditions.append({"id": cid, "purposes": purposes, "categories": cats,
                           "require": "consent"})
    merged["conditions"] = conditions
    if "signatories" in region:
        merged["signatories"] = _signatories(_section(region, "signatories", ck, list),
                                             model, ck)
    merged["rule_origins"] = origin
    return merged


def _signatories(value: list, model: dict, ck: _Check) -> list:
    """Who signed the regional covenant: party code, name, date (JJJJ-MM-DD)."""
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
            signed = b["signed_on"]
            if isinstance(signed, list | dict):
                ck.fail("wrong_type", (*p, "signed_on"), "moet een datum JJJJ-MM-DD zijn, geen "
                        + _kind_nl(signed))
            elif not isinstance(signed, dt.date) or isinstance(signed, dt.datetime):
                try:
                    if not isinstance(signed, str):
                        raise ValueError(signed)
                    dt.date.fromisoformat(signed)
                except ValueError:
                    ck.fail("bad_date", (*p, "signed_on"), "moet een datum JJJJ-MM-DD zijn")
    return value


def _same_as_model(value, model_value, path: tuple, ck: _Check) -> None:
    """A legal section repeated in a regional file: the same as the model, or refused."""
    if isinstance(model_value, dict):
        if not isinstance(value, dict):
            ck.fail("wrong_type", path, f"moet net als in het model een mapping zijn, geen "
                    f"{_kind_nl(value)}")
            return
        for key, v in value.items():
            if key not in model_value:
                extra = ck.hint(str(key), [str(k) for k in model_value])
                ck.fail("unknown_field", (*path, key), f"onbekend veld '{key}'{extra}")
                continue
            _same_as_model(v, model_value[key], (*path, key), ck)
        return
    if isinstance(model_value, list) and isinstance(value, list) and len(value) == len(
            model_value):
        for i, (v, m) in enumerate(zip(value, model_value, strict=True)):
            _same_as_model(v, m, (*path, i), ck)
        return
    if isinstance(model_value, list) != isinstance(value, list) or isinstance(value, dict):
        ck.fail("wrong_type", path, f"moet net als in het model een {_kind_nl(model_value)} "
                f"zijn, geen {_kind_nl(value)}")
        return
    if not _same(value, model_value):
        rule = {"consent": "consent.age_12_15" if "youth_and_parents" in str(path)
                else "consent.from_16", "absence": "absence.threshold"}.get(path[0], path[0])
        ck.fail("legal_limit_changed", path,
                f"{_path_text(path)} is een wettelijke grens (model: {model_value!r}); een "
                f"regio kan die niet wijzigen, ook niet naar {value!r}", rule)


# --- entry points --------------------------------------------------------------------------


def _read(path: Path) -> str:
    """At most MAX_BYTES + 1 bytes of a file, as UTF-8 text: a huge file, /dev/zero or a
    folder is a clear error at once."""
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_BYTES + 1)
    except (FileNotFoundError, ValueError):
        raise RulesetError([RulesetProblem("not_found", str(path), None, "(bestand)",
                                           "bestand niet gevonden")]) from None
    except IsADirectoryError:
        raise RulesetError([RulesetProblem("unreadable", str(path), None, "(bestand)",
                                           "dit is een map, geen bestand")]) from None
    except OSError as exc:
        from deelwijs.files import os_reason

        raise RulesetError([RulesetProblem("unreadable", str(path), None, "(bestand)",
                                           f"kan het bestand niet lezen: {os_reason(exc)}")]
                           ) from None
    _check_size(len(raw), str(path))
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise RulesetError([RulesetProblem("unreadable", str(path), line, "(bestand)",
                                           f"geen UTF-8-tekst (byte {exc.start + 1})")]
                           ) from None


def _check_size(size: int, file: str) -> None:
    if size > MAX_BYTES:
        raise RulesetError([RulesetProblem(
            "too_large", file, None, "(bestand)",
            f"groter dan {MAX_BYTES // 1024} KiB; een ruleset is tekst die een FG leest en "
            "tekent (het hele modelconvenant is ongeveer 35 KiB)")])


@functools.cache
def _builtin_text(ruleset_id: str) -> str:
    return builtin_path(ruleset_id).read_text(encoding="utf-8")


@functools.cache
def _builtin_parsed(ruleset_id: str) -> tuple[object, _Lines]:
    return parse_yaml(_builtin_text(ruleset_id), builtin_path(ruleset_id).name)


def _builtin_document(ruleset_id: str) -> dict:
    """The packaged document of a built-in ruleset, parsed (shared: never change it)."""
    return _builtin_parsed(ruleset_id)[0]


def _model_document() -> dict:
    return _builtin_document(MODEL_ID)


def load_document(data, file: str, lines: _Lines | dict | None = None) -> Ruleset:
    """Check a regional ruleset document and compile it merged with the built-in model.

    The one gate: every entry point reaches it (load_file and load_text after their own
    checks of size and plain YAML); `data` may also be a document rebuilt from storage.
    `file` names it in every problem; `lines` maps paths to line numbers (as parse_yaml
    gives them; None: no line numbers). Raises RulesetError, never anything else for
    anything plain YAML can hold."""
    lines = lines if isinstance(lines, _Lines) else _Lines(lines)
    ck = _Check(file, lines)
    _check_plain(data, ck)
    ck.raise_if_any()
    if not isinstance(data, dict):
        ck.fail("wrong_type", (), "een ruleset is een mapping (format, id, version, title, "
                f"extends, …), geen {_kind_nl(data)}")
        ck.raise_if_any()
    if not _check_identity(data, ck):
        ck.raise_if_any()
    merged = _merge_region(data, _model_document(), ck)
    ck.raise_if_any()
    return _compile(merged, ck)


def load_text(text: str, file: str) -> Ruleset:
    """Check and compile a regional ruleset given as YAML text (a file's contents)."""
    if not isinstance(text, str):
        raise TypeError("load_text takes text")
    _check_size(len(text), file)  # characters: at least one byte each
    _check_size(len(text.encode("utf-8", "replace")), file)
    data, lines = parse_yaml(text, file)
    return load_document(data, file, lines)


def load_file(path: str | Path) -> Ruleset:
    """Check and compile a regional ruleset file (read capped at MAX_BYTES + 1 bytes)."""
    path = Path(path)
    return load_text(_read(path), str(path))


def from_document(document: dict, label: str = "(opgeslagen ruleset)") -> Ruleset:
    """Compile an effective ruleset document as stored with decisions (Ruleset.document).

    The digest stays that of the stored document. A document stored by an older Deelwijs may
    lack the text of a rule the procedure has since learnt to name: that text is taken from
    the built-in model (its origin then says so), so old versions stay usable.

    This reads what Deelwijs itself stored, not a file a region hands in: it does not run the
    regional checks (load_document does)."""
    doc = copy.deepcopy(document)
    digest = digest_of(doc)
    rules = doc.setdefault("rules", {})
    missing = [r for r in PROCEDURE_RULES if r not in rules]
    if missing:
        model_rules = _model_document()["rules"]
        origins = doc.setdefault("rule_origins", {})
        for rid in missing:
            if rid in model_rules:
                rules[rid] = copy.deepcopy(model_rules[rid])
                origins[rid] = f"{MODEL_ID} (aangevuld)"
    return _compile(doc, _Check(label, _Lines()), digest)


def builtin_ids() -> list[str]:
    ids = [MODEL_ID]
    regions = DATA / "regions"
    ids += sorted(p.name[:-5] for p in regions.iterdir() if p.name.endswith(".yaml"))
    return ids


def builtin_path(ruleset_id: str):
    """The packaged file of a built-in ruleset, or None for anything else."""
    if ruleset_id == MODEL_ID:
        return DATA / "model-convenant.yaml"
    if ruleset_id not in builtin_ids():
        return None
    return DATA / "regions" / f"{ruleset_id}.yaml"


@functools.cache
def _builtin(ruleset_id: str) -> Ruleset:
    if ruleset_id == MODEL_ID:
        # The model alone stands alone: compiled from the package's own file, never from a
        # path or a document handed in.
        data, lines = _builtin_parsed(MODEL_ID)
        return _compile(copy.deepcopy(data), _Check(builtin_path(MODEL_ID).name, lines))
    return load_text(_builtin_text(ruleset_id), builtin_path(ruleset_id).name)


def resolve(name: str | None = None) -> Ruleset:
    """A ruleset by built-in id (`model-convenant`, `voorbeeldregio`) or by file path.

    The one way in for `rules check`, `decide --ruleset`, `rules show|diff` and storing or
    activating a region's ruleset: a built-in id comes from the package (compiled once per
    process); anything else is a regional file, checked by load_file."""
    name = name or MODEL_ID
    if builtin_path(name) is not None:
        return _builtin(name)
    try:
        exists = Path(name).exists()
    except (OSError, ValueError):  # a name no file can have (a NUL byte, too long)
        exists = False
    if not exists:
        ids = ", ".join(builtin_ids())
        raise RulesetError([RulesetProblem(
            "not_found", name, None, "(ruleset)",
            f"geen bestand en geen ingebouwde ruleset (ingebouwd: {ids})")])
    return load_file(name)


def model() -> Ruleset:
    return resolve(MODEL_ID)
