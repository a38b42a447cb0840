"""A ruleset as readable tables, and what one ruleset changes against another."""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib

from deelwijs.domain import codes, labels
from deelwijs.domain.ruleset import Ruleset


def _table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    line = lambda r: "  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True))  # noqa: E731
    return "\n".join([line(headers), "  ".join("-" * w for w in widths), *map(line, rows)])


def matrix_purposes(rs: Ruleset) -> list[str]:
    return [p for p, v in rs.purposes.items() if v.route != "legal"]


def render(rs: Ruleset) -> str:
    out = [f"{rs.title}", f"ruleset {rs.id} {rs.version}  {rs.digest}"]
    if rs.extends:
        out.append(f"breidt uit: {rs.extends} (alleen beperkingen)")
    purposes = matrix_purposes(rs)
    out += ["", "Doel × gegevenscategorie (✓ = nodig voor het doel; anders PURPOSE_MISMATCH)", ""]
    rows = [[cat, *("✓" if cat in rs.purposes[p].categories else "–" for p in purposes)]
            for cat in rs.categories]
    out.append(_table(["categorie", *purposes], rows))
    out += ["", "Partijen", ""]
    out.append(_table(["code", "naam", "soort", "convenantpartij", "domein"],
                      [[p.code, p.label, labels.PARTY_KIND_SHORT[p.kind],
                        labels.MEMBERSHIP_SHORT[p.covenant],
                        p.default_domain or "–"] for p in rs.parties.values()]))
    c = rs.consent
    out += ["", "Toestemming (wie moet toestemmen, naar leeftijd op de dag van verstrekking)", ""]
    out.append(_table(["leeftijd", "toestemming van"], [
        [f"0 t/m {c.youth_and_parents_from - 1}", "de ouders met gezag"],
        [f"{c.youth_and_parents_from} t/m {c.youth_alone_from - 1}",
         "de ouders met gezag én de jongere"],
        [f"{c.youth_alone_from} en ouder", "de jongere alleen"],
    ]))
    out.append("Geldig alleen als gegeven, schriftelijk, vooraf en niet ingetrokken.")
    out += ["", "Wettelijke routes (los van het convenant)", ""]
    rows = []
    for purpose, routes in rs.routes.items():
        for r in routes:
            rows.append([purpose, ",".join(sorted(r.from_)) if r.from_ else "iedereen",
                         ",".join(sorted(r.to)) if r.to else "ieder ander",
                         r.grant or f"weigeren: {r.deny}", r.rule])
    out.append(_table(["doel", "van", "aan", "uitkomst", "regel"], rows))
    a = rs.absence
    out += ["", "Verzuim", "",
            f"Meldplichtig: leerplichtig ({a.leerplicht_from} t/m {a.leerplicht_until - 1}) of "
            f"kwalificatieplichtig (t/m {a.kwalificatieplicht_until - 1}, zonder "
            f"startkwalificatie); ongeoorloofd ≥ {a.threshold_hours} uur binnen "
            f"{a.threshold_weeks} schoolweken, luxeverzuim, langdurig relatief verzuim; "
            f"melden binnen {a.deadline_working_days} werkdagen."]
    out += ["", "Bewaartermijnen", ""]
    rows = []
    for r in rs.retention.values():
        note = f"; vóór {r.before_date}: {r.before_years} jaar" if r.before_date else ""
        rows.append([r.record, f"{r.years} jaar{note}",
                     "ten minste" if r.term == "minimum" else "ten hoogste", r.rule])
    out.append(_table(["dossier", "termijn", "soort", "regel"], rows))
    if rs.overleg_types:
        out += ["", "Regionale overleggen", ""]
        out.append(_table(["overleg", "doel"], [[k, v] for k, v in rs.overleg_types.items()]))
    if rs.conditions:
        out += ["", "Extra regionale voorwaarden", ""]
        out.append(_table(["id", "doelen", "categorieën", "vereist"], [
            [c.id, ",".join(sorted(c.purposes)),
             ",".join(sorted(c.categories)) if c.categories else "alle", c.require]
            for c in rs.conditions]))
    return "\n".join(out)


def as_json(rs: Ruleset) -> dict:
    return {
        "ruleset": rs.ref(),
        "title": rs.title,
        "extends": rs.extends,
        "matrix": {p: sorted(rs.purposes[p].categories, key=list(rs.categories).index)
                   for p in matrix_purposes(rs)},
        "parties": {p.code: {"label": p.label, "kind": p.kind, "covenant": p.covenant,
                             "default_domain": p.default_domain} for p in rs.parties.values()},
        "consent": {"youth_and_parents_from": rs.consent.youth_and_parents_from,
                    "youth_alone_from": rs.consent.youth_alone_from},
        "retention": {r.record: {"years": r.years, "term": r.term, "rule": r.rule}
                      for r in rs.retention.values()},
        "overleg_types": rs.overleg_types,
        "conditions": [{"id": c.id, "purposes": sorted(c.purposes),
                        "categories": sorted(c.categories) if c.categories else None,
                        "require": c.require} for c in rs.conditions],
        "rules": {r.id: {"title": r.title, "citations": r.citations.as_dict(),
                         "fg_judgement": r.fg_judgement, "origin": r.origin}
                  for r in rs.rules.values()},
    }


# --- what one ruleset changes against another ------------------------------------------------

# Shown as the header of a diff (who is compared with whom), not as a change.
HEADER_FIELDS = ("id", "version", "title", "extends")
# Everything else of a Ruleset is compared; these are not rules: the digest and document are
# of the whole file, the memo is a cache.
NOT_DIFFED = frozenset({"digest", "document", "memo", *HEADER_FIELDS})
VERRUIMING, BEPERKING, WIJZIGING = "verruiming", "beperking", "wijziging"
EFFECTS = (VERRUIMING, BEPERKING, WIJZIGING)
_OPPOSITE = {VERRUIMING: BEPERKING, BEPERKING: VERRUIMING, WIJZIGING: WIJZIGING}

# Absence: a widening is a report (and so a verzuimmelding) due in more cases.
_ABSENCE_LOWER = {"leerplicht_from": VERRUIMING, "leerplicht_until": BEPERKING,
                  "kwalificatieplicht_until": BEPERKING, "threshold_hours": VERRUIMING,
                  "threshold_weeks": BEPERKING, "rmc_until": BEPERKING}
# A higher age: youth_and_parents_from raised = fewer consents needed (the youth's own say
# comes later); youth_alone_from raised = the parents' consent needed for longer.
_CONSENT_LOWER = {"youth_and_parents_from": BEPERKING, "youth_alone_from": VERRUIMING}


def _canon(value):
    """A value as compared and given in JSON: sets sorted, dates as text, dataclasses as
    mappings, tuples as lists."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _canon(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): _canon(v) for k, v in value.items()}
    if isinstance(value, frozenset | set):
        return sorted((_canon(v) for v in value), key=repr)
    if isinstance(value, list | tuple):
        return [_canon(v) for v in value]
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return value


def _nl(value, none: str = "geen") -> str:
    """A value in a Dutch sentence."""
    if value is None:
        return none
    if isinstance(value, bool):
        return "ja" if value else "nee"
    if isinstance(value, frozenset | set):
        return ", ".join(sorted(_nl(v) for v in value)) or "(geen)"
    if isinstance(value, list | tuple):
        return ", ".join(_nl(v) for v in value) or "(geen)"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_nl(v)}" for k, v in value.items()) or "(geen)"
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _nl(_canon(value))
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _quoted(value, none: str = "geen") -> str:
    return f"'{value}'" if isinstance(value, str) else _nl(value, none)


def _scope(before, after, wider: str = VERRUIMING) -> str:
    """A set that says where something applies (None: everywhere): more is `wider`."""
    narrower = _OPPOSITE[wider]
    if after is None:
        return wider if before is not None else WIJZIGING
    if before is None:
        return narrower
    try:
        b, a = set(before), set(after)
    except TypeError:
        return WIJZIGING
    return wider if a > b else narrower if a < b else WIJZIGING


def _number(before, after, lower: str) -> str:
    """`lower` is the effect of a smaller number."""
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (before, after)):
        return WIJZIGING
    return lower if after < before else _OPPOSITE[lower] if after > before else WIJZIGING


def _flag(before, after, dropped: str) -> str:
    """`dropped` is the effect of True becoming False."""
    if before is True and after is False:
        return dropped
    if before is False and after is True:
        return _OPPOSITE[dropped]
    return WIJZIGING


_COVENANT_OPEN = {"never": 0, "acceded": 1, "mandate": 1, "always": 2}


def _covenant(before, after) -> str:
    """never → acceded / mandate → always: each step lets a party in more easily."""
    rb, ra = _COVENANT_OPEN.get(before), _COVENANT_OPEN.get(after)
    if rb is None or ra is None or rb == ra:
        return WIJZIGING
    return VERRUIMING if ra > rb else BEPERKING


def _party_kind(before, after) -> str:
    """Professional secrecy is the strictest kind: leaving it widens, entering it narrows."""
    if before == "secrecy" and after != "secrecy":
        return VERRUIMING
    if after == "secrecy" and before != "secrecy":
        return BEPERKING
    return WIJZIGING


def _grant(before, after) -> str:
    if before is None and after is not None:
        return VERRUIMING
    if after is None and before is not None:
        return BEPERKING
    if before == "consent" and after != "consent":
        return VERRUIMING
    if after == "consent" and before != "consent":
        return BEPERKING
    return WIJZIGING


def _deny(before, after) -> str:
    if before is None and after is not None:
        return BEPERKING
    if after is None and before is not None:
        return VERRUIMING
    return WIJZIGING


def _otherwise(before, after) -> str:
    """What a route does when its condition is not met: asking consent is wider than a
    refusal."""
    if after == "consent" and before not in (None, "consent"):
        return VERRUIMING
    if before == "consent" and after not in (None, "consent"):
        return BEPERKING
    return WIJZIGING


def _requirement(before, after) -> str:
    """What must hold (or be done) for a route: more of it is stricter."""
    if isinstance(before, str | None) and isinstance(after, str | None):
        return _deny(before, after) if before is None or after is None else WIJZIGING
    return _scope(before or (), after or (), BEPERKING)


def _route_effect(route) -> str:
    """A route added: it opens (grant) or closes (deny) something."""
    grants, denies = getattr(route, "grant", None), getattr(route, "deny", None)
    if grants and not denies:
        return VERRUIMING
    if denies and not grants:
        return BEPERKING
    return WIJZIGING


def _is_scope(value) -> bool:
    return value is None or isinstance(value, frozenset | set)


class _Diff:
    def __init__(self, a: Ruleset, b: Ruleset):
        self.a, self.b = a, b
        self.out: list[dict] = []

    def add(self, kind: str, path: tuple, effect: str, text: str, **extra) -> None:
        entry = {"kind": kind, **extra, "path": list(path), "effect": effect,
                 "text": f"{text} ({effect})"}
        for key in ("before", "after"):
            if key in entry:
                entry[key] = _canon(entry[key])
        self.out.append(entry)

    def change(self, kind: str, path: tuple, before, after, effect: str, text: str,
               **extra) -> None:
        self.add(kind, path, effect, text, field=path[-1], before=before, after=after,
                 **extra)

    def other(self, kind: str, path: tuple, before, after, effect: str = WIJZIGING,
              **extra) -> None:
        """A field without its own Dutch text (a field added later is still reported)."""
        where = " ".join(str(p) for p in path[1:-1])
        text = (f"{labels.RULESET_SECTION.get(path[0], path[0])} {where}".strip()
                + f", veld '{path[-1]}': {_quoted(before)} → {_quoted(after)}")
        self.change(kind, path, before, after, effect, text, **extra)

    # --- walking -------------------------------------------------------------------------

    def run(self) -> list[dict]:
        order = list(labels.RULESET_SECTION)
        names = [f.name for f in dataclasses.fields(Ruleset) if f.name not in NOT_DIFFED]
        for name in sorted(names, key=lambda n: order.index(n) if n in order else len(order)):
            va, vb = getattr(self.a, name), getattr(self.b, name)
            if _canon(va) == _canon(vb):
                continue
            handler = getattr(self, f"_{name}", None)
            if handler is not None:
                handler(va, vb)
            else:
                self.generic((name,), va, vb)
        return self.out

    def fields(self, path: tuple, oa, ob, describe) -> None:
        """Every field of two records of one dataclass; nested dataclasses field by field."""
        if type(oa) is not type(ob) or not dataclasses.is_dataclass(ob):
            self.generic(path, oa, ob)
            return
        for f in dataclasses.fields(ob):
            va, vb = getattr(oa, f.name), getattr(ob, f.name)
            if _canon(va) == _canon(vb):
                continue
            p = (*path, f.name)
            if (dataclasses.is_dataclass(vb) and type(va) is type(vb)
                    and not isinstance(vb, type)):
                self.fields(p, va, vb, describe)
            else:
                describe(p, va, vb, ob)

    def keyed(self, section: str, a: dict, b: dict, describe, added, removed) -> None:
        for key, value in a.items():
            if key not in b:
                removed(key, value)
        for key, value in b.items():
            if key not in a:
                added(key, value)
        for key, value in a.items():
            if key in b and _canon(value) != _canon(b[key]):
                self.fields((section, key), value, b[key], describe)

    def generic(self, path: tuple, va, vb) -> None:
        """Any other value: mappings key by key, records field by field, else the whole."""
        if isinstance(va, dict) and isinstance(vb, dict):
            for key in [*va, *(k for k in vb if k not in va)]:
                if key not in vb:
                    self.add("field", (*path, key), WIJZIGING,
                             f"{'.'.join(map(str, path))}: '{key}' vervalt")
                elif key not in va:
                    self.add("field", (*path, key), WIJZIGING,
                             f"{'.'.join(map(str, path))}: '{key}' nieuw: {_nl(vb[key])}")
                elif _canon(va[key]) != _canon(vb[key]):
                    self.generic((*path, key), va[key], vb[key])
            return
        if (dataclasses.is_dataclass(va) and type(va) is type(vb)
                and not isinstance(va, type)):
            self.fields(path, va, vb, lambda p, x, y, _o: self.other("field", p, x, y))
            return
        if (isinstance(va, tuple | list) and isinstance(vb, tuple | list)
                and len(va) == len(vb) and va and dataclasses.is_dataclass(va[0])):
            for i, (x, y) in enumerate(zip(va, vb, strict=True)):
                if _canon(x) != _canon(y):
                    self.generic((*path, i), x, y)
            return
        self.add("field", path, WIJZIGING,
                 f"{'.'.join(map(str, path))}: {_nl(va)} → {_nl(vb)}", field=path[-1],
                 before=va, after=vb)

    # --- sections ------------------------------------------------------------------------

    def _purposes(self, a: dict, b: dict) -> None:
        def describe(p, va, vb, purpose) -> None:
            code, name = p[1], p[-1]
            if name == "categories" and isinstance(va, frozenset) and isinstance(vb, frozenset):
                order = [*codes.CATEGORIES, *sorted((va | vb) - set(codes.CATEGORIES))]
                for cat in order:
                    if cat in va and cat not in vb:
                        self.add("category_removed", (*p, cat), BEPERKING,
                                 f"{code}: '{cat}' mag niet meer gedeeld worden",
                                 purpose=code, category=cat)
                    elif cat in vb and cat not in va:
                        self.add("category_added", (*p, cat), VERRUIMING,
                                 f"{code}: '{cat}' mag nu gedeeld worden",
                                 purpose=code, category=cat)
            elif name == "label":
                self.change("label", p, va, vb, WIJZIGING,
                            f"{code}: naam '{va}' → '{vb}'", purpose=code)
            elif name == "route":
                self.change("purpose_route", p, va, vb, WIJZIGING,
                            f"{code}: route '{labels.ROUTE_SHORT.get(va, va)}' → "
                            f"'{labels.ROUTE_SHORT.get(vb, vb)}'", purpose=code)
            elif name == "default_help_request_domains":
                self.change("purpose_domains", p, va, vb, _scope(va, vb),
                            f"{code}: domeinen van een hulpvraag zonder vastgelegde "
                            f"reikwijdte: {_nl(va)} → {_nl(vb)}", purpose=code)
            elif name == "article":
                self.change("purpose_article", p, va, vb, WIJZIGING,
                            f"{code}: lidwoord '{va}' → '{vb}'", purpose=code)
            else:
                self.other("purpose_field", p, va, vb, purpose=code)

        self.keyed("purposes", a, b, describe,
                   lambda k, v: self.add("purpose_added", ("purposes", k), VERRUIMING,
                                         f"nieuw doel '{k}' ({v.label}): "
                                         f"{_nl(v.categories)}", purpose=k),
                   lambda k, v: self.add("purpose_removed", ("purposes", k), BEPERKING,
                                         f"doel '{k}' ({v.label}) vervalt", purpose=k))

    def _parties(self, a: dict, b: dict) -> None:
        def describe(p, va, vb, party) -> None:
            code, name = p[1], p[-1]
            if name == "covenant":
                self.change("party", p, va, vb, _covenant(va, vb),
                            f"{code}: convenantpartij '{labels.MEMBERSHIP_SHORT.get(va, va)}' → "
                            f"'{labels.MEMBERSHIP_SHORT.get(vb, vb)}'", party=code)
            elif name == "kind":
                self.change("party_kind", p, va, vb, _party_kind(va, vb),
                            f"{code}: soort '{labels.PARTY_KIND_SHORT.get(va, va)}' → "
                            f"'{labels.PARTY_KIND_SHORT.get(vb, vb)}'", party=code)
            elif name == "label":
                self.change("party_label", p, va, vb, WIJZIGING,
                            f"{code}: naam '{va}' → '{vb}'", party=code)
            elif name == "default_domain":
                self.change("party_domain", p, va, vb, WIJZIGING,
                            f"{code}: standaarddomein {_quoted(va)} → {_quoted(vb)}",
                            party=code)
            elif name == "article":
                self.change("party_article", p, va, vb, WIJZIGING,
                            f"{code}: lidwoord '{va}' → '{vb}'", party=code)
            else:
                self.other("party_field", p, va, vb, party=code)

        self.keyed("parties", a, b, describe,
                   lambda k, v: self.add("party_added", ("parties", k), VERRUIMING,
                                         f"nieuwe partij '{k}' ({v.label}): "
                                         f"{labels.PARTY_KIND_SHORT.get(v.kind, v.kind)}, "
                                         "convenantpartij "
                                         f"'{labels.MEMBERSHIP_SHORT.get(v.covenant, v.covenant)}'",
                                         party=k),
                   lambda k, v: self.add("party_removed", ("parties", k), BEPERKING,
                                         f"partij '{k}' ({v.label}) vervalt", party=k))

    def _categories(self, a: dict, b: dict) -> None:
        side = {True: "buitenkant", False: "binnenkant"}

        def describe(p, va, vb, category) -> None:
            code, name = p[1], p[-1]
            if name == "outside":
                self.change("category_side", p, va, vb, _flag(va, vb, BEPERKING),
                            f"categorie '{code}': {side.get(va, va)} → {side.get(vb, vb)}",
                            category=code)
            elif name == "special":
                self.change("category_special", p, va, vb, _flag(va, vb, VERRUIMING),
                            f"categorie '{code}': bijzonder persoonsgegeven {_nl(va)} → "
                            f"{_nl(vb)}", category=code)
            elif name == "label":
                self.change("category_label", p, va, vb, WIJZIGING,
                            f"categorie '{code}': naam '{va}' → '{vb}'", category=code)
            else:
                self.other("category_field", p, va, vb, category=code)

        self.keyed("categories", a, b, describe,
                   lambda k, v: self.add("category_code_added", ("categories", k), WIJZIGING,
                                         f"nieuwe gegevenscategorie '{k}' ({v.label})",
                                         category=k),
                   lambda k, v: self.add("category_code_removed", ("categories", k),
                                         WIJZIGING, f"gegevenscategorie '{k}' vervalt",
                                         category=k))

    def _hats(self, a: dict, b: dict) -> None:
        for hat in [*a, *(h for h in b if h not in a)]:
            p = ("hats", hat)
            if hat not in b:
                self.add("hat_removed", p, BEPERKING, f"pet '{hat}' vervalt", hat=hat)
            elif hat not in a:
                self.add("hat_added", p, VERRUIMING,
                         f"nieuwe pet '{hat}': verstrekt als '{b[hat]}'", hat=hat)
            elif a[hat] != b[hat]:
                self.add("hat", p, WIJZIGING,
                         f"pet '{hat}': verstrekt als '{a[hat]}' → '{b[hat]}'", hat=hat,
                         before=a[hat], after=b[hat])

    def _domains(self, a: dict, b: dict) -> None:
        for code in [*a, *(d for d in b if d not in a)]:
            p = ("domains", code)
            if code not in b:
                self.add("domain_removed", p, WIJZIGING, f"domein '{code}' vervalt",
                         domain=code)
            elif code not in a:
                self.add("domain_added", p, WIJZIGING,
                         f"nieuw domein '{code}' ({b[code]})", domain=code)
            elif a[code] != b[code]:
                self.add("domain", p, WIJZIGING,
                         f"domein '{code}': naam '{a[code]}' → '{b[code]}'", domain=code,
                         before=a[code], after=b[code])

    @staticmethod
    def _route_summary(r) -> str:
        outcome = (f"grond {r.grant}" if getattr(r, "grant", None)
                   else f"weigeren ({getattr(r, 'deny', None)})")
        return (f"van {_nl(getattr(r, 'from_', None), 'iedereen')}, aan "
                f"{_nl(getattr(r, 'to', None), 'ieder ander')}, "
                f"{_nl(getattr(r, 'categories', None), 'alle categorieën')}: {outcome}")

    def _routes(self, a: dict, b: dict) -> None:
        for purpose in [*a, *(p for p in b if p not in a)]:
            ra, rb = tuple(a.get(purpose, ())), tuple(b.get(purpose, ()))
            matcher = difflib.SequenceMatcher(a=[repr(_canon(r)) for r in ra],
                                              b=[repr(_canon(r)) for r in rb], autojunk=False)
            for op, i1, i2, j1, j2 in matcher.get_opcodes():
                if op == "equal":
                    continue
                n = min(i2 - i1, j2 - j1) if op == "replace" else 0
                for k in range(n):
                    self.fields(("routes", purpose, j1 + k), ra[i1 + k], rb[j1 + k],
                                self._route_field)
                for i in range(i1 + n, i2):
                    r = ra[i]
                    self.add("route_removed", ("routes", purpose, i),
                             _OPPOSITE[_route_effect(r)],
                             f"wettelijke route {purpose}: route {i + 1} (regel {r.rule}) "
                             f"vervalt: {self._route_summary(r)}", purpose=purpose, index=i)
                for j in range(j1 + n, j2):
                    r = rb[j]
                    self.add("route_added", ("routes", purpose, j), _route_effect(r),
                             f"wettelijke route {purpose}: nieuwe route {j + 1} (regel "
                             f"{r.rule}): {self._route_summary(r)}", purpose=purpose, index=j)

    def _route_field(self, p, va, vb, route) -> None:
        purpose, index, name = p[1], p[2], p[-1]
        if name == "grant":
            effect = _grant(va, vb)
        elif name == "deny":
            effect = _deny(va, vb)
        elif name == "otherwise":
            effect = _otherwise(va, vb)
        elif name in ("obligations", "needs"):  # more of them: stricter
            effect = _requirement(va, vb)
        elif name == "alternatives":  # more grounds that may carry the items
            effect = _scope(va, vb)
        elif _is_scope(va) and _is_scope(vb):  # who, whom, what, which status: where it applies
            effect = _scope(va, vb, _route_effect(route))
        else:
            effect = WIJZIGING
        none = {"from_": "iedereen", "to": "ieder ander", "categories": "alle categorieën"}.get(
            name, "alle" if _is_scope(va) and _is_scope(vb) else "geen")
        self.change("route", p, va, vb, effect,
                    f"wettelijke route {purpose}, route {index + 1} (regel "
                    f"{getattr(route, 'rule', '?')}): {labels.ROUTE_FIELD.get(name, name)} "
                    f"{_quoted(va, none)} → {_quoted(vb, none)}", purpose=purpose, index=index)

    def _consent(self, a, b) -> None:
        def describe(p, va, vb, _rule) -> None:
            name = p[-1]
            if name in _CONSENT_LOWER:
                self.change("consent", p, va, vb, _number(va, vb, _CONSENT_LOWER[name]),
                            f"toestemming: {labels.CONSENT_FIELD[name]} {_nl(va)} → {_nl(vb)} jaar "
                            "(wettelijke grens)")
            elif name in ("written", "prior"):
                self.change("consent", p, va, vb, _flag(va, vb, VERRUIMING),
                            f"toestemming: {labels.CONSENT_FIELD[name]} {_nl(va)} → {_nl(vb)}")
            else:
                self.other("consent", p, va, vb)

        self.fields(("consent",), a, b, describe)

    def _absence(self, a, b) -> None:
        def describe(p, va, vb, _rule) -> None:
            name = p[-1]
            effect = (_number(va, vb, _ABSENCE_LOWER[name]) if name in _ABSENCE_LOWER
                      else WIJZIGING)
            self.change("absence", p, va, vb, effect,
                        f"verzuim: {labels.ABSENCE_FIELD.get(name, name)} {_nl(va)} → {_nl(vb)} "
                        "(wettelijke grens)")

        self.fields(("absence",), a, b, describe)

    def _retention(self, a: dict, b: dict) -> None:
        def describe(p, va, vb, ret) -> None:
            record, name = p[1], p[-1]
            term = getattr(ret, "term", None)
            longer = {"maximum": VERRUIMING, "minimum": BEPERKING}.get(term, WIJZIGING)
            how = {"maximum": "ten hoogste", "minimum": "ten minste"}.get(term, term)
            if name == "years":
                self.change("retention", p, va, vb, _number(va, vb, _OPPOSITE[longer]),
                            f"bewaartermijn {record} ({how}): {va} → {vb} jaar", record=record)
            elif name == "before_years":
                self.change("retention_before", p, va, vb, _number(va, vb, _OPPOSITE[longer]),
                            f"bewaartermijn {record} ({how}, hulp beëindigd vóór "
                            f"{getattr(ret, 'before_date', None)}): {_nl(va)} → {_nl(vb)} jaar",
                            record=record)
            elif name == "term":
                self.change("retention_term", p, va, vb, WIJZIGING,
                            f"bewaartermijn {record}: soort '{va}' → '{vb}'", record=record)
            elif name == "before_date":
                self.change("retention_before", p, va, vb, WIJZIGING,
                            f"bewaartermijn {record}: overgangsdatum {_nl(va)} → {_nl(vb)}",
                            record=record)
            elif name in ("rule", "before_rule"):
                self.change("retention_rule", p, va, vb, WIJZIGING,
                            f"bewaartermijn {record}: regel {_quoted(va)} → {_quoted(vb)}",
                            record=record)
            else:
                self.other("retention_field", p, va, vb, record=record)

        self.keyed("retention", a, b, describe,
                   lambda k, v: self.add("retention_added", ("retention", k), WIJZIGING,
                                         f"nieuwe bewaartermijn {k}: {v.years} jaar",
                                         record=k),
                   lambda k, v: self.add("retention_removed", ("retention", k), WIJZIGING,
                                         f"bewaartermijn {k} vervalt", record=k))

    def _overleg_types(self, a: dict, b: dict) -> None:
        for name, purpose in b.items():
            if a.get(name) == purpose:
                continue
            target = self.b.purposes.get(purpose)
            effect = (WIJZIGING if target is not None and target.route == "covenant"
                      else VERRUIMING)
            was = f" (was '{a[name]}')" if name in a else ""
            self.add("overleg_type", ("overleg_types", name), effect,
                     f"regionaal overleg '{name}' valt onder doel '{purpose}'{was}",
                     name=name, purpose=purpose)
        for name in a:
            if name not in b:
                self.add("overleg_type_removed", ("overleg_types", name), WIJZIGING,
                         f"overleg '{name}' bestaat niet meer", name=name)

    def _conditions(self, a: tuple, b: tuple) -> None:
        by_a, by_b = {c.id: c for c in a}, {c.id: c for c in b}
        for c in b:
            if c.id in by_a:
                continue
            cats = ", ".join(sorted(c.categories)) if c.categories else "alle categorieën"
            rule = self.b.rules.get(c.id)
            self.add("condition", ("conditions", c.id), BEPERKING,
                     f"extra voorwaarde {c.id}: {cats} bij {', '.join(sorted(c.purposes))} "
                     f"alleen met toestemming" + (f" — {rule.title}" if rule else ""),
                     id=c.id)
        for c in a:
            if c.id not in by_b:
                self.add("condition_removed", ("conditions", c.id), VERRUIMING,
                         f"extra voorwaarde {c.id} vervalt", id=c.id)

        def describe(p, va, vb, cond) -> None:
            name = p[-1]
            effect = (_scope(va, vb, BEPERKING) if name in ("purposes", "categories")
                      else WIJZIGING)
            none = "alle categorieën" if name == "categories" else "geen"
            self.change("condition_changed", p, va, vb, effect,
                        f"extra voorwaarde {p[1]}: {name} {_quoted(va, none)} → "
                        f"{_quoted(vb, none)}", id=p[1])

        for cid, c in by_a.items():
            if cid in by_b and _canon(c) != _canon(by_b[cid]):
                self.fields(("conditions", cid), c, by_b[cid], describe)

    def _rules(self, a: dict, b: dict) -> None:
        conditions_a = {c.id for c in self.a.conditions}
        conditions_b = {c.id for c in self.b.conditions}

        def describe(p, va, vb, rule) -> None:
            rid, name = p[1], p[-1]
            label = labels.RULE_FIELD.get(name, name)
            if name in ("title", "avg", "sector", "convenant"):
                self.change("rule_text", p, va, vb, WIJZIGING,
                            f"regel {rid}: {label} {_quoted(va)} → {_quoted(vb)}", id=rid)
            elif name == "explanation":
                self.change("rule_text", p, va, vb, WIJZIGING,
                            f"regel {rid}: uitleg gewijzigd", id=rid)
            elif name == "fg_judgement":
                self.change("rule_fg_judgement", p, va, vb, WIJZIGING,
                            f"regel {rid}: {label} {_nl(va)} → {_nl(vb)}", id=rid)
            elif name == "origin":
                self.change("rule_origin", p, va, vb, WIJZIGING,
                            f"regel {rid}: {label} '{va}' → '{vb}'", id=rid)
            else:
                self.other("rule_field", p, va, vb, id=rid)

        def added(rid, rule) -> None:
            if rid not in conditions_b:  # a new condition's text: reported as the condition
                self.add("rule_added", ("rules", rid), WIJZIGING,
                         f"nieuwe regel {rid}: {rule.title}", id=rid)

        def removed(rid, rule) -> None:
            if rid not in conditions_a:
                self.add("rule_removed", ("rules", rid), WIJZIGING,
                         f"regel {rid} vervalt: {rule.title}", id=rid)

        self.keyed("rules", a, b, describe, added, removed)

    @staticmethod
    def _signatory(s) -> str:
        if isinstance(s, dict) and {"party", "name", "signed_on"} <= set(s):
            rest = {k: v for k, v in s.items() if k not in ("party", "name", "signed_on")}
            return (f"{s['name']} ({s['party']}), getekend op {_nl(s['signed_on'])}"
                    + (f"; {_nl(rest)}" if rest else ""))
        return _nl(s)

    def _signatories(self, a: tuple, b: tuple) -> None:
        ca, cb = [_canon(s) for s in a], [_canon(s) for s in b]
        for i, s in enumerate(ca):
            if s not in cb:
                self.add("signatory_removed", ("signatories", i), WIJZIGING,
                         f"ondertekenaar vervalt: {self._signatory(s)}", before=s)
        for i, s in enumerate(cb):
            if s not in ca:
                self.add("signatory_added", ("signatories", i), WIJZIGING,
                         f"ondertekenaar: {self._signatory(s)}", after=s)
        if sorted(map(repr, ca)) == sorted(map(repr, cb)) and ca != cb:
            self.add("signatories", ("signatories",), WIJZIGING,
                     "ondertekenaars in een andere volgorde", before=ca, after=cb)


def diff(a: Ruleset, b: Ruleset) -> list[dict]:
    """Every difference between two rulesets in what the engine reads: every field of the
    compiled Ruleset but its identity (HEADER_FIELDS), digest, document and memo. Each as
    {kind, ..., path, effect, text (Dutch)}: `effect` says whether B widens (verruiming) or
    narrows (beperking) what A allows, or neither (wijziging); `path` names the field."""
    return _Diff(a, b).run()


def describe_ruleset(rs: Ruleset) -> str:
    base = f"breidt {rs.extends} uit" if rs.extends else "zelfstandig (geen extends)"
    return f"{rs.id} {rs.version} ({rs.digest}): {rs.title}; {base}"


def render_diff(a: Ruleset, b: Ruleset, changes: list[dict] | None = None) -> str:
    """A diff as `deelwijs rules diff` prints it."""
    changes = diff(a, b) if changes is None else changes
    out = [f"Van {describe_ruleset(a)}", f"naar {describe_ruleset(b)}", ""]
    if not changes:
        out.append("Geen verschillen in de regels.")
        return "\n".join(out)
    out += [f"- {c['text']}" for c in changes]
    counts = summary(changes)
    out += ["", f"{counts[VERRUIMING]} verruiming(en), {counts[BEPERKING]} beperking(en), "
            f"{counts[WIJZIGING]} andere wijziging(en)."]
    if counts[VERRUIMING]:
        out.append("Let op: een verruiming staat een regionale ruleset niet toe.")
    return "\n".join(out)


def summary(changes: list[dict]) -> dict[str, int]:
    return {e: sum(1 for c in changes if c["effect"] == e) for e in EFFECTS}
