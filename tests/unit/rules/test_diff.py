"""`rules diff` reports every field of the compiled ruleset, and says whether a change widens
(verruiming) or narrows (beperking) the model.

The field list is not written down here: it is read from the dataclasses reachable from
Ruleset, so a field added later (to Route, say) is changed and looked for automatically, and
the test fails when `show.diff` does not report it."""

from __future__ import annotations

import dataclasses
import json
import types
import typing

import pytest

from deelwijs.domain import ruleset as ruleset_mod
from deelwijs.domain.ruleset import Ruleset
from deelwijs.rules import loader, show

MODEL = loader.model()
REGION = loader.resolve("voorbeeldregio")

# Fields of Ruleset that are no rules (shown as the diff's header, or not the rules at all).
NOT_DIFFED = {"id", "version", "title", "extends", "digest", "document", "memo"}


# --- the dataclasses reachable from Ruleset, and where their instances are ------------------


def _hints(cls) -> dict[str, object]:
    return typing.get_type_hints(cls, vars(ruleset_mod))


def _dataclasses_in(hint) -> list[type]:
    if dataclasses.is_dataclass(hint):
        return [hint]
    return [c for arg in typing.get_args(hint) for c in _dataclasses_in(arg)]


def reachable() -> list[type]:
    seen: list[type] = []
    todo = [Ruleset]
    while todo:
        cls = todo.pop()
        if cls in seen:
            continue
        seen.append(cls)
        for hint in _hints(cls).values():
            todo.extend(_dataclasses_in(hint))
    return seen


def _locations(value, path=()):
    """(dataclass instance, path) for every record inside a ruleset; a path step is
    ('attr', name), ('key', key) or ('index', i)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        yield value, path
        for f in dataclasses.fields(value):
            if f.name not in ("document", "memo"):
                yield from _locations(getattr(value, f.name), (*path, ("attr", f.name)))
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _locations(v, (*path, ("key", k)))
    elif isinstance(value, tuple):
        for i, v in enumerate(value):
            yield from _locations(v, (*path, ("index", i)))


def _put(root, path, new):
    """A copy of root with the value at path replaced (dataclasses.replace on the way down)."""
    if not path:
        return new
    (how, step), rest = path[0], path[1:]
    if how == "attr":
        return dataclasses.replace(root, **{step: _put(getattr(root, step), rest, new)})
    if how == "key":
        return {**root, step: _put(root[step], rest, new)}
    return tuple(_put(v, rest, new) if i == step else v for i, v in enumerate(root))


def _example(hint):
    """Some value of a type (for a None or an empty collection to change into)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return _example(next(a for a in args if a is not type(None)))
    if dataclasses.is_dataclass(hint):
        return hint(**{f.name: _example(h) for f, h in zip(
            dataclasses.fields(hint), _hints(hint).values(), strict=True)
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING})
    if hint is bool:
        return True
    if hint in (int, float):
        return hint(7)
    if hint is str:
        return "anders"
    if origin is frozenset:
        return frozenset({"anders"})
    if origin is tuple:
        return (_example(args[0]),)
    if origin is dict:
        return {"anders": _example(args[1])}
    if hint is dict:
        return {"party": "swv", "name": "Anders", "signed_on": "2026-01-01"}
    raise AssertionError(f"no example for {hint!r}: teach the test this type")


def _changed(value, hint):
    """A value of the same type that differs from `value`."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if value is None:
        return _example(hint)
    if origin in (typing.Union, types.UnionType):
        return _changed(value, next(a for a in args if isinstance(value, typing.get_origin(a)
                                                                   or a)))
    if dataclasses.is_dataclass(value):  # its first field (each field on its own as well)
        first = dataclasses.fields(value)[0].name
        return dataclasses.replace(value, **{first: _changed(getattr(value, first),
                                                             _hints(type(value))[first])})
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return value + 1
    if isinstance(value, str):
        return value + "_anders"
    if isinstance(value, frozenset):
        return value - {min(value)} if value else frozenset({"anders"})
    if isinstance(value, tuple):
        return value[:-1] if value else (_example(args[0]),)
    if isinstance(value, dict):
        return {k: v for k, v in list(value.items())[1:]} if value else _example(hint)
    raise AssertionError(f"cannot change {value!r} ({hint!r}): teach the test this type")


def _cases():
    """(class, field) for every field of every reachable dataclass but the skipped ones."""
    for cls in reachable():
        for f in dataclasses.fields(cls):
            if cls is Ruleset and f.name in NOT_DIFFED:
                continue
            yield pytest.param(cls, f.name, id=f"{cls.__name__}.{f.name}")


def test_the_fields_left_out_of_the_diff_are_the_header_and_the_non_rules():
    assert show.NOT_DIFFED == NOT_DIFFED
    assert set(show.HEADER_FIELDS) == {"id", "version", "title", "extends"}
    assert show.diff(MODEL, MODEL) == [] and show.diff(REGION, REGION) == []


def test_every_record_type_has_an_instance_to_change():
    found = {type(v) for base in (MODEL, REGION) for v, _ in _locations(base)}
    assert set(reachable()) <= found, set(reachable()) - found


@pytest.mark.parametrize(("cls", "name"), list(_cases()))
def test_diff_reports_a_change_of_every_field(cls, name):
    """Change the field in every record of its type (in the model, or in voorbeeldregio where
    the model has none, such as a condition) and find it in the diff, at its path."""
    hint = _hints(cls)[name]
    checked = 0
    for base in (MODEL, REGION):
        for record, path in _locations(base):
            if type(record) is not cls:
                continue
            new = dataclasses.replace(record, **{name: _changed(getattr(record, name), hint)})
            changed = _put(base, path, new)
            changes = show.diff(base, changed)
            steps = [s for how, s in path if how != "attr"]
            if cls is ruleset_mod.Condition:  # conditions are matched by id, not by place
                steps = [record.id]
            top = path[0][1] if path else name
            assert changes, f"{cls.__name__}.{name} at {path}: diff found nothing"
            assert all(c["effect"] in show.EFFECTS for c in changes)
            assert all(c["text"].endswith(f"({c['effect']})") for c in changes)
            assert json.loads(json.dumps(changes)) == changes  # --json can print it
            here = [c for c in changes if c["path"][0] == top]
            assert here, (path, changes)
            if not (cls is ruleset_mod.Condition and name == "id"):  # that is: one removed,
                # one added
                assert any(name in c["path"] and all(s in c["path"] for s in steps)
                           for c in here), (path, name, here)
            assert show.diff(changed, changed) == []
            checked += 1
        if checked:
            break
    assert checked, f"no {cls.__name__} in the model or voorbeeldregio to change"


# --- widening or narrowing ------------------------------------------------------------------


def _party(rs, code, **changes):
    return dataclasses.replace(rs, parties={**rs.parties, code: dataclasses.replace(
        rs.parties[code], **changes)})


def _category(rs, code, **changes):
    return dataclasses.replace(rs, categories={**rs.categories, code: dataclasses.replace(
        rs.categories[code], **changes)})


def _purpose(rs, code, **changes):
    return dataclasses.replace(rs, purposes={**rs.purposes, code: dataclasses.replace(
        rs.purposes[code], **changes)})


def _retention(rs, record, **changes):
    return dataclasses.replace(rs, retention={**rs.retention, record: dataclasses.replace(
        rs.retention[record], **changes)})


def _route(rs, purpose, index, **changes):
    routes = list(rs.routes[purpose])
    routes[index] = dataclasses.replace(routes[index], **changes)
    return dataclasses.replace(rs, routes={**rs.routes, purpose: tuple(routes)})


def _effects(a, b) -> list[tuple[str, str]]:
    return [(c["kind"], c["effect"]) for c in show.diff(a, b)]


def _first_route(purpose: str, grants: bool) -> int:
    return next(i for i, r in enumerate(MODEL.routes[purpose]) if bool(r.grant) == grants)


def test_a_legal_route_opened_is_a_widening_and_closed_a_narrowing():
    # the OTS route to anyone, not only the GI
    i = _first_route("ots", grants=True)
    assert MODEL.routes["ots"][i].to == frozenset({"gi"})
    opened = _route(MODEL, "ots", i, to=None)
    assert _effects(MODEL, opened) == [("route", "verruiming")]
    assert _effects(opened, MODEL) == [("route", "beperking")]
    # the absence report from anyone, of every category, for every status
    i = _first_route("verzuimmelding", grants=True)
    route = MODEL.routes["verzuimmelding"][i]
    assert None not in (route.from_, route.categories, route.status)
    for changes in ({"from_": None}, {"categories": None}, {"status": None},
                    {"from_": route.from_ | {"kinderopvang"}}):
        assert _effects(MODEL, _route(MODEL, "verzuimmelding", i, **changes)) == [
            ("route", "verruiming")], changes
    # a refusal turned into a grant
    last = len(MODEL.routes["ots"]) - 1
    granting = _route(MODEL, "ots", last, deny=None, grant="PUBLIC_TASK")
    assert _effects(MODEL, granting) == [("route", "verruiming"), ("route", "verruiming")]
    # consent as the ground turned into a legal one, and the reverse
    i = next(i for i, r in enumerate(MODEL.routes["overdracht"]) if r.grant == "consent")
    assert _effects(MODEL, _route(MODEL, "overdracht", i, grant="LEGAL_OBLIGATION")) == [
        ("route", "verruiming")]
    # a refusal that applies more widely narrows
    deny = MODEL.routes["ots"][last]
    narrower = _route(MODEL, "ots", last, from_=frozenset({"school"}))
    assert deny.from_ is None and _effects(narrower, MODEL) == [("route", "beperking")]
    # a weighing no longer needed, an obligation dropped
    i = next(i for i, r in enumerate(MODEL.routes["raadsonderzoek"]) if r.needs)
    route = MODEL.routes["raadsonderzoek"][i]
    assert _effects(MODEL, _route(MODEL, "raadsonderzoek", i, needs=None)) == [
        ("route", "verruiming")]
    assert _effects(MODEL, _route(MODEL, "raadsonderzoek", i, obligations=())) == [
        ("route", "verruiming")]
    assert _effects(MODEL, _route(MODEL, "raadsonderzoek", i,
                                  alternatives=(*route.alternatives, "vital_interest"))) == [
        ("route", "verruiming")]
    # a route inserted before the others: its own entry, the rest unchanged
    extra = dataclasses.replace(MODEL.routes["ots"][0], to=frozenset({"kinderopvang"}))
    inserted = dataclasses.replace(MODEL, routes={**MODEL.routes,
                                                  "ots": (extra, *MODEL.routes["ots"])})
    [change] = show.diff(MODEL, inserted)
    assert (change["kind"], change["effect"], change["index"]) == ("route_added",
                                                                   "verruiming", 0)


def test_consent_made_easier_is_a_widening():
    c = MODEL.consent
    younger = dataclasses.replace(MODEL, consent=dataclasses.replace(
        c, youth_alone_from=c.youth_alone_from - 2))
    assert _effects(MODEL, younger) == [("consent", "verruiming")]
    assert _effects(younger, MODEL) == [("consent", "beperking")]
    oral = dataclasses.replace(MODEL, consent=dataclasses.replace(c, written=False,
                                                                  prior=False))
    assert _effects(MODEL, oral) == [("consent", "verruiming"), ("consent", "verruiming")]


def test_retention_of_a_maximum_term_lengthened_or_a_minimum_term_shortened_widens():
    longer = _retention(MODEL, "casusoverleg_verslag", years=20)
    [change] = show.diff(MODEL, longer)
    assert (change["kind"], change["record"], change["before"], change["after"],
            change["effect"]) == ("retention", "casusoverleg_verslag", 2, 20, "verruiming")
    assert MODEL.retention["jeugdhulpdossier"].term == "minimum"
    shorter = _retention(MODEL, "jeugdhulpdossier", years=5)
    assert _effects(MODEL, shorter) == [("retention", "verruiming")]
    assert _effects(shorter, MODEL) == [("retention", "beperking")]


def test_a_condition_removed_is_a_widening():
    without = dataclasses.replace(REGION, conditions=())
    [change] = show.diff(REGION, without)
    assert (change["kind"], change["effect"]) == ("condition_removed", "verruiming")
    assert _effects(without, REGION) == [("condition", "beperking")]


def test_absence_thresholds_changed_are_reported_with_a_direction():
    a = MODEL.absence
    lower = dataclasses.replace(MODEL, absence=dataclasses.replace(
        a, threshold_hours=a.threshold_hours / 2))
    [change] = show.diff(MODEL, lower)
    assert (change["kind"], change["field"], change["effect"]) == ("absence",
                                                                   "threshold_hours",
                                                                   "verruiming")
    older = dataclasses.replace(MODEL, absence=dataclasses.replace(
        a, kwalificatieplicht_until=a.kwalificatieplicht_until - 1))
    assert _effects(MODEL, older) == [("absence", "beperking")]


def test_overleg_names_on_a_municipal_purpose_are_a_widening():
    changed = dataclasses.replace(REGION, overleg_types={**REGION.overleg_types,
                                                         "Zorg Advies Team":
                                                         "gecoordineerde_aanpak"})
    [change] = show.diff(REGION, changed)
    assert (change["kind"], change["name"], change["purpose"], change["effect"]) == (
        "overleg_type", "Zorg Advies Team", "gecoordineerde_aanpak", "verruiming")


def test_voorbeeldregio_only_narrows():
    changes = show.diff(MODEL, REGION)
    assert changes and not [c for c in changes if c["effect"] == "verruiming"]


# --- a standalone file that rewrote the model ------------------------------------------------


def _standalone_attack() -> Ruleset:
    """What a file without `extends` could make of the model (issue 10): youth care and the GP
    public bodies, health data outside information, a route open to anyone, childcare a party,
    the youth-care file kept five years."""
    rs = dataclasses.replace(MODEL, id="aanval", version="1", title="Eigen model",
                             extends=None)
    rs = _party(_party(rs, "jeugdhulp", kind="public_body"), "huisarts", kind="public_body")
    rs = _party(rs, "kinderopvang", covenant="always")
    rs = _category(rs, "gezondheid", outside=True)
    rs = _route(rs, "ots", _first_route("ots", grants=True), to=None)
    return _retention(rs, "jeugdhulpdossier", years=5)


def test_a_standalone_attack_is_not_reported_as_no_differences():
    attack = _standalone_attack()
    changes = show.diff(MODEL, attack)
    widenings = {(c["kind"], tuple(c["path"][:2])) for c in changes
                 if c["effect"] == "verruiming"}
    assert widenings == {("party_kind", ("parties", "jeugdhulp")),
                         ("party_kind", ("parties", "huisarts")),
                         ("party", ("parties", "kinderopvang")),
                         ("category_side", ("categories", "gezondheid")),
                         ("route", ("routes", "ots")),
                         ("retention", ("retention", "jeugdhulpdossier"))}
    text = show.render_diff(MODEL, attack, changes)
    assert "Geen verschillen in de regels." not in text
    assert "zelfstandig (geen extends)" in text.splitlines()[1]
    assert "6 verruiming(en)" in text
    assert any(line.startswith("- jeugdhulp: soort 'beroepsgeheim' → 'publiek'")
               and line.endswith("(verruiming)") for line in text.splitlines())
