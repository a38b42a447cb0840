"""Property tests of the ruleset loader (hypothesis).

1. Random mutations of a valid regional file (voorbeeldregio under an id of its own): drop
   `extends`, take a built-in id, insert an anchor or alias, change a value's shape (scalar,
   list, mapping), add a category to a purpose, change a party's covenant membership, raise
   the minutes retention, add unknown keys. Each mutant is refused, or, if accepted, never
   wider than the model: every purpose's categories a subset of the model's, no party's
   covenant loosened or its name, kind or domain changed, legal sections equal, retention
   not longer, overleg names only on covenant purposes. The first three kinds must always be
   refused.
2. No input crashes the loader with anything but RulesetError: random bytes from a file,
   random YAML-ish text, random Python documents for load_document.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deelwijs.domain import codes
from deelwijs.rules import loader
from deelwijs.rules.loader import RulesetError

MODEL = loader.model()
PACKAGED = yaml.safe_load(Path(str(loader.builtin_path("voorbeeldregio"))).read_text(
    encoding="utf-8"))
BASE = {**copy.deepcopy(PACKAGED), "id": "mutant-regio"}
STRICTNESS = {"always": 0, "mandate": 1, "acceded": 1, "never": 2}
FEW = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])

SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-5, 30),
                    st.floats(allow_nan=False, allow_infinity=False, width=16),
                    st.sampled_from(["oza", "never", "always", "model-convenant", "justitie",
                                     "gezondheid", "", "ja", "2026.10"]),
                    st.dates())


def _dump(doc) -> str:
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)


def _paths(value, path=()):
    yield path, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _paths(item, (*path, i))


def _set(doc, path: tuple, value):
    target = doc
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value


# --- mutations: each takes (doc, draw) and changes doc in place ------------------------------


def drop_extends(doc, draw):
    doc.pop("extends", None)


def builtin_id(doc, draw):
    bid = draw(st.sampled_from(loader.builtin_ids()))
    doc["id"] = draw(st.sampled_from([bid, bid.upper(), bid.replace("-", "_"),
                                      bid.replace("-", " ").title()]))


def change_shape(doc, draw):
    paths = [p for p, _ in _paths(doc) if p and p[0] not in ("format",)]
    path = draw(st.sampled_from(paths))
    value = doc
    for part in path:
        value = value[part]
    if isinstance(value, dict):
        new = draw(st.sampled_from([list(value)[:2], "tekst", 1]))
    elif isinstance(value, list):
        new = draw(st.sampled_from([{"a": value[:1]}, "tekst", None]))
    else:
        new = draw(st.sampled_from([[value], {"waarde": value}]))
    _set(doc, path, new)


def add_category(doc, draw):
    purpose = draw(st.sampled_from([p for p, v in MODEL.purposes.items() if v.route != "legal"]))
    body = doc.setdefault("purposes", {}).setdefault(purpose, {})
    cats = body.get("categories")
    if not isinstance(cats, list):
        cats = sorted(MODEL.purposes[purpose].categories, key=codes.CATEGORIES.index)
    others = [c for c in codes.CATEGORIES if c not in cats]
    if others:
        body["categories"] = [*cats, draw(st.sampled_from(others))]


def narrow(doc, draw):
    """What a region may do, so that many mutants are accepted and checked for widening."""
    what = draw(st.sampled_from(["purpose", "party", "retention"]))
    if what == "purpose":
        purpose = draw(st.sampled_from(codes.COVENANT_PURPOSES))
        cats = sorted(MODEL.purposes[purpose].categories, key=codes.CATEGORIES.index)
        doc.setdefault("purposes", {})[purpose] = {
            "categories": draw(st.lists(st.sampled_from(cats), unique=True))}
    elif what == "party":
        party = draw(st.sampled_from(codes.PARTIES))
        doc.setdefault("parties", {})[party] = {"covenant": "never"}
    else:
        doc.setdefault("retention", {})["casusoverleg_verslag"] = {
            "years": draw(st.integers(0, 2))}


def change_covenant(doc, draw):
    party = draw(st.sampled_from(codes.PARTIES))
    doc.setdefault("parties", {})[party] = {
        "covenant": draw(st.sampled_from(codes.COVENANT_MEMBERSHIP))}


def change_party_field(doc, draw):
    party = draw(st.sampled_from(codes.PARTIES))
    field = draw(st.sampled_from(["label", "article", "kind", "default_domain"]))
    value = draw(st.sampled_from(["samenwerkingsverband", "het", "public_body", "private",
                                  "onderwijs", None]))
    doc.setdefault("parties", {}).setdefault(party, {})[field] = value


def raise_retention(doc, draw):
    record = draw(st.sampled_from(codes.RECORDS))
    doc.setdefault("retention", {})[record] = {"years": draw(st.integers(0, 40))}


def overleg_on_any_purpose(doc, draw):
    name = draw(st.sampled_from(["Casustafel", "ZAT", "Meldtafel", "OZA", "oza"]))
    doc.setdefault("overleg_types", {})[name] = draw(st.sampled_from(codes.PURPOSES))


def add_unknown_key(doc, draw):
    mappings = [p for p, v in _paths(doc) if isinstance(v, dict)]
    path = draw(st.sampled_from(mappings))
    target = doc
    for part in path:
        target = target[part]
    target[draw(st.sampled_from(["extra", "label", "kind", "categories", "years", "grant",
                                 "rule_origins", "model_version", "covenant", "to"]))] = draw(
        SCALARS)


def legal_section(doc, draw):
    section = draw(st.sampled_from(loader.LEGAL_SECTIONS))
    value = copy.deepcopy(MODEL.document[section])
    paths = [p for p, v in _paths(value) if p and not isinstance(v, dict | list)]
    if paths and draw(st.booleans()):  # else repeated as the model has it: accepted
        _set(value, draw(st.sampled_from(paths)), draw(SCALARS))
    doc[section] = value


MUTATIONS = (drop_extends, builtin_id, change_shape, add_category, change_covenant,
             change_party_field, raise_retention, overleg_on_any_purpose, add_unknown_key,
             legal_section, narrow, narrow, narrow)


@st.composite
def mutants(draw):
    """(YAML text, whether it must be refused) for 1 to 3 mutations of BASE, and at times an
    anchor and alias in the text."""
    doc = copy.deepcopy(BASE)
    for mutate in draw(st.lists(st.sampled_from(MUTATIONS), min_size=1, max_size=3)):
        # (an earlier mutation may have changed the shape this one needs)
        with contextlib.suppress(KeyError, IndexError, TypeError, AttributeError):
            mutate(doc, draw)
    fold = lambda v: "".join(c for c in str(v).casefold() if c.isalnum())  # noqa: E731
    # A mutant that happens to be the packaged voorbeeldregio again is that file.
    must_refuse = "extends" not in doc or (
        fold(doc.get("id")) in {fold(b) for b in loader.builtin_ids()} and doc != PACKAGED)
    text = _dump(doc)
    if draw(st.booleans()) and draw(st.booleans()):
        lines = text.splitlines()
        scalars = [i for i, line in enumerate(lines)
                   if ": " in line and not line.rstrip().endswith(":")]
        i = draw(st.sampled_from(scalars))
        key, value = lines[i].split(": ", 1)
        lines[i] = f"{key}: &anker {value}"
        if draw(st.booleans()):
            lines.append("herhaling: *anker")
        text = "\n".join(lines) + "\n"
        must_refuse = True
    return text, must_refuse


def assert_never_wider(rs) -> None:
    """What an accepted regional ruleset may differ in from the model: only narrowings."""
    assert rs.extends == loader.MODEL_ID
    assert rs.id not in loader.builtin_ids() or rs.digest == loader.resolve(rs.id).digest
    assert set(rs.purposes) == set(MODEL.purposes)
    for code, purpose in rs.purposes.items():
        model = MODEL.purposes[code]
        assert purpose.categories <= model.categories, code
        assert (purpose.route, purpose.default_help_request_domains) == (
            model.route, model.default_help_request_domains), code
    for code, party in rs.parties.items():
        model = MODEL.parties[code]
        assert (party.label, party.article, party.kind, party.default_domain) == (
            model.label, model.article, model.kind, model.default_domain), code
        assert party.covenant in (model.covenant, "never"), code
        assert STRICTNESS[party.covenant] >= STRICTNESS[model.covenant], code
    assert (rs.routes, rs.consent, rs.absence, rs.hats, rs.categories, rs.domains) == (
        MODEL.routes, MODEL.consent, MODEL.absence, MODEL.hats, MODEL.categories,
        MODEL.domains)
    for record, term in rs.retention.items():
        model = MODEL.retention[record]
        if record == "casusoverleg_verslag":
            assert term.years <= model.years
            assert dataclasses.replace(term, years=model.years) == model
        else:
            assert term == model, record
    assert set(rs.overleg_types.values()) <= set(codes.COVENANT_PURPOSES)
    assert not set(rs.overleg_types) & set(codes.PURPOSES)
    for condition in rs.conditions:
        assert condition.require == "consent"
        assert all(MODEL.purposes[p].route in ("covenant", "own_task")
                   for p in condition.purposes)
    for rid, rule in MODEL.rules.items():
        assert rs.rules[rid].title == rule.title and rs.rules[rid].explanation == (
            rule.explanation), rid


def test_the_unmutated_file_is_accepted_and_never_wider():
    assert_never_wider(loader.load_text(_dump(BASE), "mutant.yaml"))


@FEW
@given(mutants())
def test_a_mutated_regional_file_is_refused_or_never_wider(mutant):
    text, must_refuse = mutant
    try:
        rs = loader.load_text(text, "mutant.yaml")
    except RulesetError as exc:
        assert exc.problems
        assert all(p.file == "mutant.yaml" for p in exc.problems)
        assert all(p.line is not None or p.code == "too_many_problems"
                   for p in exc.problems), exc
        return
    assert not must_refuse, text
    assert_never_wider(rs)


# --- nothing crashes the loader ---------------------------------------------------------------

TOKENS = st.sampled_from([
    "format", "id", "version", "extends", "title", "model-convenant", "voorbeeldregio",
    "purposes", "parties", "overleg_types", "retention", "conditions", "rules", "signatories",
    "oza", "signalering", "categories", "covenant", "never", "years", "consent", "legal_routes",
    ": ", ":", "\n", "\n  ", "\n    ", "- ", "[", "]", "{", "}", ",", "&a ", "*a", "<<: ",
    "!!str ", "!!python/object ", "!x ", "? ", "|\n  ", ">\n  ", "'", '"', "#", "---\n",
    "...\n", "%YAML 1.1\n", "\t", "yes", "on", "~", "null", "1", "01", "2026.10",
    "2026-02-30", "0x1f", "1e400", ".nan", "\\", "\u00e9", "\ufeff", "\x85",
])


@FEW
@given(st.lists(TOKENS, max_size=60).map("".join))
def test_random_yamlish_text_gives_a_ruleset_or_a_ruleset_error(text):
    try:
        loader.load_text(text, "willekeurig.yaml")
    except RulesetError as exc:
        assert exc.problems and all(p.file == "willekeurig.yaml" for p in exc.problems)


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=600))
def test_random_bytes_in_a_file_give_a_ruleset_error(raw):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "willekeurig.yaml"
        path.write_bytes(raw)
        try:
            loader.load_file(path)
        except RulesetError as exc:
            assert exc.problems


KEYS = st.one_of(st.sampled_from(["format", "id", "version", "extends", "title", "purposes",
                                  "parties", "oza", "covenant", "categories", "years"]),
                 st.integers(), st.booleans(), st.none(), st.text(max_size=5))
DOCUMENTS = st.recursive(
    st.one_of(SCALARS, st.text(max_size=10), st.binary(max_size=3)),
    lambda children: st.one_of(st.lists(children, max_size=4),
                               st.dictionaries(KEYS, children, max_size=4)),
    max_leaves=25)


@FEW
@given(DOCUMENTS, st.booleans())
def test_a_random_document_gives_a_ruleset_error(document, as_region):
    if as_region:
        document = {**copy.deepcopy(BASE), "purposes": document}
    try:
        loader.load_document(document, "document")
    except RulesetError as exc:
        assert exc.problems
