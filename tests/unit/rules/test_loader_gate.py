"""The ruleset loader as the gatekeeper of contract 1.1 ("Ruleset files: what a region may
hand in"): plain YAML only, checked before anything is built; a cap on size and so on time;
only the built-in model stands alone; no borrowed identity; overleg names on the four
covenant purposes only; no relabelled parties; minutes kept shorter, never longer; and a
value of the wrong shape is `wrong_type` on its line, wherever it is.

The expected line of a mutated value is found with PyYAML's own composer, not with the
loader's parser, so the two are checked against each other.
"""

from __future__ import annotations

import copy
import os
import time
from pathlib import Path

import pytest
import yaml

from deelwijs.rules import loader
from deelwijs.rules.loader import RulesetError

FOLDER = Path(__file__).resolve().parent / "bad_rulesets"
VOORBEELDREGIO = Path(str(loader.builtin_path("voorbeeldregio")))
HEAD = 'format: 1\nid: toets-regio\nversion: "1"\nextends: model-convenant\ntitle: Toetsregio\n'
MODEL = loader.model()


def problems_of(text: str, file: str = "regio.yaml") -> list:
    with pytest.raises(RulesetError) as exc:
        loader.load_text(text, file)
    assert exc.value.problems
    assert str(exc.value) == "\n".join(str(p) for p in exc.value.problems)
    return exc.value.problems


def codes_of(text: str) -> set[str]:
    return {p.code for p in problems_of(text)}


def at(problems, code: str) -> list[int | None]:
    return [p.line for p in problems if p.code == code]


def filled(head: str, entry, size: int = loader.MAX_BYTES) -> str:
    """`head` followed by entry(0), entry(1), ... up to exactly `size` bytes (blank lines
    make up the rest)."""
    parts, used, i = [head], len(head.encode()), 0
    while used + len(entry(i).encode()) <= size:
        parts.append(entry(i))
        used += len(entry(i).encode())
        i += 1
    parts.append("\n" * (size - used))
    return "".join(parts)


# --- size, time, plain YAML ------------------------------------------------------------------


def test_an_alias_bomb_is_refused_on_its_lines_in_milliseconds():
    path = FOLDER / "alias_bomb.yaml"
    start = time.perf_counter()
    with pytest.raises(RulesetError) as exc:
        loader.load_file(path)
    assert time.perf_counter() - start < 0.25
    problems = exc.value.problems
    text = path.read_text(encoding="utf-8").splitlines()
    anchors = [n for n, line in enumerate(text, 1) if "&" in line]
    aliases = [n for n, line in enumerate(text, 1) if "*" in line]
    assert at(problems, "yaml_anchor") == anchors
    assert at(problems, "yaml_alias") == aliases  # one problem per line, not per alias


def test_anchors_aliases_and_merge_keys_are_refused_even_when_harmless():
    assert at(problems_of(HEAD + "source: &bron Regio\n"), "yaml_anchor") == [6]
    text = HEAD + "purposes:\n  oza: &oza {categories: [verzuim]}\n  een_plan: *oza\n"
    problems = problems_of(text)
    assert (at(problems, "yaml_anchor"), at(problems, "yaml_alias")) == ([7], [8])
    text = HEAD + "purposes:\n  oza:\n    <<: {categories: [verzuim]}\n"
    assert at(problems_of(text), "yaml_merge_key") == [8]


def test_a_file_of_256_kib_is_checked_in_well_under_a_second(tmp_path):
    """A valid region that fills the whole 256 KiB with rules of its own: accepted."""
    rule = ("  toets.regel_{0:05d}:\n    title: Regel {0}\n    citations: {{convenant: art. {0} "
            "regionaal convenant}}\n    explanation: Een eigen regel, om het bestand te vullen.\n")
    text = filled(HEAD + "rules:\n", rule.format)
    path = tmp_path / "groot.yaml"
    path.write_text(text, encoding="utf-8")
    assert path.stat().st_size == loader.MAX_BYTES
    start = time.perf_counter()
    rs = loader.load_file(path)
    assert time.perf_counter() - start < 1.0
    assert len(rs.rules) > len(MODEL.rules) + 1000
    # One byte more is too large, refused before it is parsed.
    path.write_text(text + "\n", encoding="utf-8")
    start = time.perf_counter()
    with pytest.raises(RulesetError) as exc:
        loader.load_file(path)
    assert time.perf_counter() - start < 0.1
    assert [p.code for p in exc.value.problems] == ["too_large"]
    assert [p.code for p in problems_of(text + "\n")] == ["too_large"]


def test_a_file_full_of_problems_is_told_the_first_hundred_quickly():
    text = filled(HEAD, "onbekend_{}: 1\n".format)
    start = time.perf_counter()
    problems = problems_of(text)
    assert time.perf_counter() - start < 1.0
    assert len(problems) == loader.MAX_PROBLEMS + 1
    assert {p.code for p in problems[:-1]} == {"unknown_field"}
    assert problems[-1].code == "too_many_problems" and "en nog " in problems[-1].message


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero here")
def test_dev_zero_is_too_large_at_once():
    start = time.perf_counter()
    with pytest.raises(RulesetError) as exc:
        loader.load_file("/dev/zero")
    assert time.perf_counter() - start < 0.1
    assert [p.code for p in exc.value.problems] == ["too_large"]


def test_a_huge_file_is_too_large_at_once(tmp_path):
    path = tmp_path / "huge.yaml"
    with open(path, "wb") as f:
        f.truncate(18 * 1024 * 1024)  # the review's 18 MB, sparse
    start = time.perf_counter()
    with pytest.raises(RulesetError) as exc:
        loader.load_file(path)
    assert time.perf_counter() - start < 0.1
    assert [p.code for p in exc.value.problems] == ["too_large"]


def test_what_is_no_text_file_is_unreadable_with_its_line(tmp_path):
    with pytest.raises(RulesetError) as exc:
        loader.load_file(tmp_path)
    assert [(p.code, p.line) for p in exc.value.problems] == [("unreadable", None)]
    path = tmp_path / "latin1.yaml"
    path.write_bytes(HEAD.encode() + "source: Gemeente Zuidoost-Fryslân\n".encode("latin-1"))
    with pytest.raises(RulesetError) as exc:
        loader.load_file(path)
    assert [(p.code, p.line) for p in exc.value.problems] == [("unreadable", 6)]
    assert [p.code for p in problems_of(HEAD + "source: \ud800\n")] == ["unreadable"]
    assert [p.code for p in problems_of(HEAD + "source: a\x00b\n")] == ["yaml_syntax"]


@pytest.mark.parametrize("text, code, line", [
    (HEAD + "source: " + "[" * 100 + "]" * 100 + "\n", "too_deep", 6),
    (HEAD + "---\n" + HEAD, "yaml_syntax", 6),
    (HEAD + "source: !!binary aGFsbG8=\n", "yaml_tag", 6),
    (HEAD + "source: !regio Regio\n", "yaml_tag", 6),
    (HEAD + "purposes:\n  ? [oza]\n  : {categories: []}\n", "wrong_type", 7),
    (HEAD + "signatories:\n  - {party: swv, name: X, signed_on: !!timestamp nooit}\n",
     "yaml_syntax", 7),
    (HEAD + "version2: !!int twee\n", "yaml_syntax", 6),
], ids=["nested", "two_documents", "binary", "local_tag", "complex_key", "bad_timestamp",
        "bad_int"])
def test_what_plain_yaml_does_not_hold_is_refused_on_its_line(text, code, line):
    assert line in at(problems_of(text), code)


@pytest.mark.parametrize("first, second", [
    ("yes", "on"), ("no", "off"), ("true", "True"), ("yes", "true"), ("1", "01"),
    ("1", "0x1"), ("null", "~"), ("2026-01-01", "2026-01-01"), ("'a'", '"a"'),
    ("1", "1.0"),
])
def test_keys_that_resolve_to_the_same_value_are_duplicates(first, second):
    text = HEAD + f"overleg_types:\n  {first}: oza\n  {second}: signalering\n"
    problems = problems_of(text)
    assert at(problems, "duplicate_key") == [8], problems


# --- only the model stands alone; no borrowed identity ---------------------------------------


@pytest.mark.parametrize("body", [
    "",
    "purposes:\n  oza: {categories: [verzuim]}\n",
    "parties:\n  huisarts: {covenant: never}\n",
    VOORBEELDREGIO.read_text(encoding="utf-8").replace("extends: model-convenant\n", ""),
], ids=["empty", "narrowing", "party_left_out", "voorbeeldregio_without_extends"])
def test_a_file_without_extends_is_no_region_whatever_it_contains(body):
    text = body if "format:" in body else HEAD.replace("extends: model-convenant\n", "") + body
    problems = problems_of(text)
    assert "not_a_region" in {p.code for p in problems}
    assert {p.code for p in problems} <= {"not_a_region", "borrowed_id"}


def test_the_model_itself_is_no_region_when_handed_in_as_a_file():
    text = loader.builtin_path(loader.MODEL_ID).read_text(encoding="utf-8")
    assert codes_of(text) == {"not_a_region", "borrowed_id"}
    # ... not even as a document
    with pytest.raises(RulesetError) as exc:
        loader.load_document(copy.deepcopy(MODEL.document), "model")
    assert "not_a_region" in {p.code for p in exc.value.problems}


@pytest.mark.parametrize("extends, code", [
    ("[model-convenant]", "wrong_type"), ("voorbeeldregio", "unknown_base"),
    ("modelconvenant", "unknown_base"), ("null", "wrong_type"),
])
def test_extends_names_the_model_and_nothing_else(extends, code):
    text = HEAD.replace("extends: model-convenant", f"extends: {extends}")
    assert codes_of(text) == {code}


@pytest.mark.parametrize("rid", ["model-convenant", "Model_Convenant", "model convenant",
                                 "voorbeeldregio", "VoorbeeldRegio"])
def test_a_file_may_not_take_the_id_of_a_built_in_ruleset(rid):
    problems = problems_of(HEAD.replace("id: toets-regio", f"id: {rid}"))
    assert [(p.code, p.line, p.rule) for p in problems] == [("borrowed_id", 2, "id")]


def test_the_packaged_voorbeeldregio_keeps_its_own_id_and_a_changed_copy_does_not():
    text = VOORBEELDREGIO.read_text(encoding="utf-8")
    assert loader.load_text(text, "kopie.yaml").id == "voorbeeldregio"
    changed = text.replace("casusoverleg_verslag: {years: 1}", "casusoverleg_verslag: {years: 2}")
    assert changed != text
    assert codes_of(changed) == {"borrowed_id"}


@pytest.mark.parametrize("key, value, hint", [
    ("version", "2026.10", "het getal 2026.1"), ("version", "2", "het getal 2"),
    ("version", "2026-10-01", "datum"), ("id", "2026", "het getal 2026"),
    ("id", "[a, b]", ""), ("title", "{a: b}", ""), ("source", "yes", ""), ("title", "''", ""),
    ("id", '"twee\\nregels"', ""),
])
def test_id_version_title_and_source_are_yaml_text(key, value, hint):
    text = HEAD.replace(f"{key}: ", f"{key}: {value}\n#", 1) if key != "source" else (
        HEAD + f"source: {value}\n")
    problems = problems_of(text)
    [problem] = [p for p in problems if p.code == "wrong_type"]
    assert problem.rule == key and hint in problem.message


# --- what a region may say about parties, overleggen and retention --------------------------


@pytest.mark.parametrize("field, value, code", [
    ("label", "samenwerkingsverband", "relabels_party"),
    ("label", "huisarts of andere zorgverlener (WGBO/BIG)", "relabels_party"),  # even the same
    ("article", "het", "relabels_party"),
    ("kind", "public_body", "legal_limit_changed"),
    ("kind", "secrecy", "legal_limit_changed"),
    ("default_domain", "onderwijs", "legal_limit_changed"),
    ("lidwoord", "de", "unknown_field"),
])
def test_a_region_cannot_rename_or_reclassify_a_party(field, value, code):
    text = HEAD + f"parties:\n  huisarts:\n    covenant: never\n    {field}: {value}\n"
    problems = problems_of(text)
    assert [(p.code, p.line) for p in problems] == [(code, 9)]


@pytest.mark.parametrize("party, covenant, code", [
    ("jeugdhulp", "always", "widens_party"), ("school", "always", "widens_party"),
    ("kinderopvang", "always", "widens_party"), ("derde", "acceded", "widens_party"),
    ("gemeente", "acceded", "unknown_code"), ("jgz", "mandate", "unknown_code"),
    ("huisarts", "[never]", "wrong_type"), ("huisarts", "yes", "wrong_type"),
])
def test_a_region_can_only_leave_a_party_out(party, covenant, code):
    text = HEAD + f"parties:\n  {party}: {{covenant: {covenant}}}\n"
    assert codes_of(text) == {code}


def test_leaving_a_party_out_or_repeating_its_condition_is_accepted():
    text = HEAD + "parties:\n  huisarts: {covenant: never}\n  jeugdhulp: {covenant: acceded}\n"
    rs = loader.load_text(text, "regio.yaml")
    assert (rs.parties["huisarts"].covenant, rs.parties["jeugdhulp"].covenant) == (
        "never", "acceded")
    assert all(rs.parties[p].label == MODEL.parties[p].label for p in rs.parties)


@pytest.mark.parametrize("purpose", [p for p, v in MODEL.purposes.items()
                                     if v.route != "covenant"])
def test_an_overleg_name_maps_onto_a_covenant_purpose_only(purpose):
    problems = problems_of(HEAD + f"overleg_types:\n  Zorg Advies Team: {purpose}\n")
    assert [(p.code, p.line) for p in problems] == [("overleg_outside_covenant", 7)]


def test_an_overleg_name_on_each_covenant_purpose_is_accepted():
    names = {f"Tafel {i}": p for i, p in enumerate(("signalering", "thuiszitters", "een_plan",
                                                     "oza"))}
    text = HEAD + "overleg_types:\n" + "".join(f"  {n}: {p}\n" for n, p in names.items())
    assert loader.load_text(text, "regio.yaml").overleg_types == names


@pytest.mark.parametrize("entries, code, line", [
    ("  2026: oza\n", "wrong_type", 7), ("  yes: oza\n", "wrong_type", 7),
    ("  '': oza\n", "wrong_type", 7), ("  ' MDO': oza\n", "wrong_type", 7),
    ("  OZA: signalering\n", "name_clash", 7), ("  Een Plan: oza\n", "name_clash", 7),
    ("  gemeente: oza\n", "name_clash", 7), ("  MDO: oza\n  mdo: oza\n", "duplicate", 8),
    ("  MDO: [oza]\n", "wrong_type", 7), ("  MDO: ozza\n", "unknown_code", 7),
    (f"  {'x' * 101}: oza\n", "wrong_type", 7),
])
def test_an_overleg_name_is_text_of_its_own(entries, code, line):
    assert (code, line) in {(p.code, p.line) for p in problems_of(
        HEAD + "overleg_types:\n" + entries)}


@pytest.mark.parametrize("years, code", [(3, "widens_retention"), (20, "widens_retention"),
                                         (-1, "wrong_type"), ("twee", "wrong_type"),
                                         ("2.0", "wrong_type"), ("[1]", "wrong_type")])
def test_minutes_retention_can_only_be_shortened(years, code):
    text = HEAD + f"retention:\n  casusoverleg_verslag: {{years: {years}}}\n"
    problems = problems_of(text)
    assert [(p.code, p.line) for p in problems] == [(code, 7)]
    if code == "widens_retention":
        assert problems[0].rule == "retention.casusoverleg_verslag"


@pytest.mark.parametrize("years", [0, 1, 2])
def test_minutes_retention_up_to_the_model_s_term_is_accepted(years):
    text = HEAD + f"retention:\n  casusoverleg_verslag: {{years: {years}}}\n"
    assert loader.load_text(text, "regio.yaml").retention["casusoverleg_verslag"].years == years


# --- wrong_type on its line, wherever it is --------------------------------------------------


def _full_region() -> dict:
    """voorbeeldregio with every optional section a region may write, under an id of its own."""
    doc = yaml.safe_load(VOORBEELDREGIO.read_text(encoding="utf-8"))
    model = MODEL.document
    doc["id"] = "toets-regio"
    doc["rules"] = {"toets.eigen_regel": {
        "title": "Een eigen regel", "citations": {"convenant": "art. 9 regionaal convenant"},
        "explanation": "Uitleg.", "fg_judgement": False}}
    doc["consent"] = copy.deepcopy(model["consent"])
    doc["absence"] = copy.deepcopy(model["absence"])
    doc["legal_routes"] = {"ots": copy.deepcopy(model["legal_routes"]["ots"])}
    doc["hats"] = copy.deepcopy(model["hats"])
    doc["categories"] = {"gezondheid": copy.deepcopy(model["categories"]["gezondheid"])}
    doc["domains"] = {"zorg": model["domains"]["zorg"]}
    doc["purposes"]["oza"] = {"label": "OZA-overleg", "article": "het",
                              "categories": ["identificatie", "verzuim"]}
    return doc


FULL = _full_region()


def _paths(value, path=()):
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _paths(item, (*path, i))


def _swapped(value) -> list:
    """The value in the two shapes it does not have (mapping, list, scalar)."""
    if isinstance(value, dict):
        return [list(value)[:1] or ["a"], "tekst"]
    if isinstance(value, list):
        return [{"a": value[0] if value else "b"}, "tekst"]
    return [[value], {"a": value}]


def _line(text: str, path: tuple) -> int:
    """The line PyYAML's composer gives the key (or list item) at `path`."""
    node = yaml.compose(text)
    line = node.start_mark.line + 1
    for part in path:
        if isinstance(node, yaml.MappingNode):
            key, node = next((k, v) for k, v in node.value
                             if yaml.safe_load(yaml.serialize(k)) == part)
            line = key.start_mark.line + 1
        else:
            node = node.value[part]
            line = node.start_mark.line + 1
    return line


def _set(doc, path: tuple, value):
    doc = copy.deepcopy(doc)
    if not path:
        return value
    target = doc
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return doc


def _dump(doc) -> str:
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, default_flow_style=False)


def test_the_full_region_the_mutations_start_from_is_accepted():
    assert loader.load_text(_dump(FULL), "regio.yaml").id == "toets-regio"


MUTATIONS = [(path, i) for path in _paths(FULL) for i in range(2)]


@pytest.mark.parametrize("path, variant", MUTATIONS,
                         ids=[f"{'.'.join(map(str, p)) or 'top'}-{i}" for p, i in MUTATIONS])
def test_a_value_of_the_wrong_shape_is_wrong_type_on_its_line(path, variant):
    value = FULL
    for part in path:
        value = value[part]
    text = _dump(_set(FULL, path, _swapped(value)[variant]))
    problems = problems_of(text)
    want = _line(text, path)
    assert ("wrong_type", want) in {(p.code, p.line) for p in problems}, (
        want, [str(p) for p in problems])


# --- load_document: the same checks for a document that never was a file ---------------------


def test_load_document_runs_the_same_checks_as_load_text():
    for path in sorted(FOLDER.glob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        try:
            data, lines = loader.parse_yaml(text, path.name)
        except RulesetError:
            continue  # refused before there is a document
        if len(text.encode()) > loader.MAX_BYTES:
            continue
        with pytest.raises(RulesetError) as by_text:
            loader.load_text(text, path.name)
        with pytest.raises(RulesetError) as by_document:
            loader.load_document(data, path.name, lines)
        assert by_document.value.problems == by_text.value.problems, path.name


def test_load_document_without_lines_names_the_document_and_no_line():
    doc = _set(FULL, ("retention", "casusoverleg_verslag", "years"), 20)
    with pytest.raises(RulesetError) as exc:
        loader.load_document(doc, "opgeslagen regio")
    [problem] = exc.value.problems
    assert (problem.code, problem.file, problem.line) == (
        "widens_retention", "opgeslagen regio", None)
    assert str(problem).startswith("opgeslagen regio: [widens_retention] ")
    assert loader.load_document(copy.deepcopy(FULL), "opgeslagen regio").id == "toets-regio"


def _nested(depth: int):
    value = "x"
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize("change", [
    lambda d: d["overleg_types"].update({1: "oza"}),
    lambda d: d.update({"source": {1, 2}}),
    lambda d: d.update({"source": b"bytes"}),
    lambda d: d.update({"source": _nested(40)}),
])
def test_load_document_refuses_what_plain_yaml_cannot_hold(change):
    doc = copy.deepcopy(FULL)
    change(doc)
    with pytest.raises(RulesetError) as exc:
        loader.load_document(doc, "document")
    assert {p.code for p in exc.value.problems} <= {"wrong_type", "too_deep"}


def test_docs_list_every_code_the_loader_can_raise():
    """docs/rules.md, "Ruleset files: what the loader refuses", names each code the loader's
    source can raise."""
    import re

    source = Path(loader.__file__).read_text(encoding="utf-8")
    raised = set(re.findall(r'(?:fail|_yaml_problem|RulesetProblem)\(\s*"([a-z_]+)"', source))
    assert {"not_a_region", "borrowed_id", "yaml_alias", "too_large"} <= raised
    docs = (Path(__file__).resolve().parents[3] / "docs" / "rules.md").read_text(
        encoding="utf-8")
    section = docs.split("## Ruleset files: what the loader refuses", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"`([a-z]+(?:_[a-z]+)+|[a-z]+)`", section)) & (
        raised | {"yaml_merge_key", "too_many_problems"})
    assert raised <= listed, raised - listed
