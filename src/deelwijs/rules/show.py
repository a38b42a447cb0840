"""A ruleset as readable tables, and what one ruleset changes against another."""

from __future__ import annotations

from deelwijs.domain import codes
from deelwijs.domain.ruleset import Ruleset

MEMBERSHIP_NL = {
    "always": "ja",
    "mandate": "ja, met schriftelijke machtiging aan het SWV",
    "acceded": "ja, na toetredingsformulier (getekend en bekendgemaakt)",
    "never": "nee",
}
KIND_NL = {"public_body": "publiek", "secrecy": "beroepsgeheim", "private": "privaat"}
ROUTE_NL = {"covenant": "convenant", "municipal": "gemeente", "own_task": "eigen taak",
            "legal": "wettelijke route"}


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
                      [[p.code, p.label, KIND_NL[p.kind], MEMBERSHIP_NL[p.covenant],
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


def diff(a: Ruleset, b: Ruleset) -> list[dict]:
    """Every difference in what the rules decide, as {kind, ..., text (Dutch)}."""
    out: list[dict] = []

    def add(kind: str, text: str, **extra) -> None:
        out.append({"kind": kind, **extra, "text": text})

    for p in codes.PURPOSES:
        pa, pb = a.purposes[p], b.purposes[p]
        for cat in codes.CATEGORIES:
            if cat in pa.categories and cat not in pb.categories:
                add("category_removed", f"{p}: '{cat}' mag niet meer gedeeld worden "
                    "(beperking)", purpose=p, category=cat)
            elif cat in pb.categories and cat not in pa.categories:
                add("category_added", f"{p}: '{cat}' mag nu gedeeld worden (verruiming)",
                    purpose=p, category=cat)
        if pa.label != pb.label:
            add("label", f"{p}: naam '{pa.label}' → '{pb.label}'", purpose=p)
    for code, pa in a.parties.items():
        pb = b.parties[code]
        if pa.covenant != pb.covenant:
            add("party", f"{code}: convenantpartij '{MEMBERSHIP_NL[pa.covenant]}' → "
                f"'{MEMBERSHIP_NL[pb.covenant]}'", party=code, before=pa.covenant,
                after=pb.covenant)
    if a.consent != b.consent:
        add("consent", "toestemming: ouders en jongere samen vanaf "
            f"{a.consent.youth_and_parents_from} → {b.consent.youth_and_parents_from} jaar, "
            f"jongere alleen vanaf {a.consent.youth_alone_from} → "
            f"{b.consent.youth_alone_from} jaar")
    if a.absence != b.absence:
        add("absence", "verzuimregels gewijzigd")
    for rec, ra in a.retention.items():
        rb = b.retention[rec]
        if (ra.years, ra.term) != (rb.years, rb.term):
            add("retention", f"bewaartermijn {rec}: {ra.years} → {rb.years} jaar", record=rec,
                before=ra.years, after=rb.years)
    for name, purpose in b.overleg_types.items():
        if a.overleg_types.get(name) != purpose:
            add("overleg_type", f"regionaal overleg '{name}' valt onder doel '{purpose}'",
                name=name, purpose=purpose)
    for name in a.overleg_types:
        if name not in b.overleg_types:
            add("overleg_type_removed", f"overleg '{name}' bestaat niet meer", name=name)
    ids_a = {c.id for c in a.conditions}
    for c in b.conditions:
        if c.id not in ids_a:
            cats = ", ".join(sorted(c.categories)) if c.categories else "alle categorieën"
            add("condition", f"extra voorwaarde {c.id}: {cats} bij "
                f"{', '.join(sorted(c.purposes))} alleen met toestemming — "
                f"{b.rules[c.id].title}", id=c.id)
    for rid, rule in b.rules.items():
        ra = a.rules.get(rid)
        if ra is None and rid not in ids_a and all(c.id != rid for c in b.conditions):
            add("rule_added", f"nieuwe regel {rid}: {rule.title}", id=rid)
        elif ra is not None and (ra.citations, ra.explanation) != (rule.citations,
                                                                    rule.explanation):
            add("rule_text", f"regel {rid}: tekst of bronnen gewijzigd", id=rid)
    return out
