"""The register of processing activities (AVG art. 30; covenant art. 15), derived from a ruleset.

One activity per purpose of the ruleset (the overleg types, the college tasks, the own task and
the legal routes), plus the activities Deelwijs itself performs for every purpose
(`SYSTEM_ACTIVITIES`). Each activity has a stable `id` ("<ruleset id>/<purpose or name>") and
a `versie` (the ruleset's version and digest): a processing log entry names both, so an edited
ruleset gives a new version while old entries keep pointing at the rules they were made under.

Everything a reader sees is Dutch. What the ruleset does not say is derived, and the activity's
`toelichting` says so; legal facts come from the ruleset's rules and their citations.
Pure: no I/O, no clock. See docs/register.md.
"""

from __future__ import annotations

import csv
import io
import json
import re
import uuid

from deelwijs.domain import codes, labels
from deelwijs.domain.ruleset import Party, Purpose, Route, Ruleset
from deelwijs.errors import DeelwijsError

FORMAT = 1
SYSTEM_ACTIVITIES = ("registratie", "rechten", "verwerkingslog", "datalekken")
NOT_APPLICABLE = "n.v.t."
# Namespace for the VNG `id` (a uuid): uuid5 of "<activity id>@<versie>".
_VNG_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://deelwijs.nl/verwerkingsactiviteit")

_CONSENT_RULES = ("consent.under_12", "consent.age_12_15", "consent.from_16")

_COVENANT_AIM = ("Algemeen doel van het convenant: tijdige en passende ondersteuning van de "
                 "leerling op school, in de vrije tijd en thuis, op basis van samenwerking "
                 "tussen onderwijs en jeugdhulp (art. 3 convenant).")

_SECURITY = (
    ("technisch", "Identificerende gegevens van een jongere (naam, geboortedatum, BSN, namen "
     "van de ouders) zijn versleuteld met een eigen sleutel per jongere, die zelf versleuteld "
     "is met de hoofdsleutel; wissen gebeurt door die sleutel te vernietigen "
     "(crypto-shredding)."),
    ("technisch", "Het BSN staat alleen versleuteld opgeslagen, en daarnaast als hash met een "
     "geheime sleutel (keyed hash) om een jongere terug te vinden."),
    ("technisch", "Het verwerkingslogboek kan alleen groeien (append-only) en is vastgelegd in "
     "een Merkle-boom met ondertekende controlepunten, zodat wijzigen of weglaten van regels "
     "aantoonbaar is."),
    ("technisch", "Elke verstrekking wordt vooraf door de regelengine getoetst en vastgelegd "
     "met het volledige besluit en de digest van de regels; van een geweigerde poging wordt "
     "het besluit vastgelegd, nooit de geweigerde inhoud."),
    ("organisatorisch", "Need-to-know: binnen een casus gaan gegevens alleen tussen de "
     "deelnemende organisaties, en alleen de categorieën die het doel nodig heeft (art. 7 "
     "convenant)."),
    ("organisatorisch", "Alleen partijen nemen deel aan het casusoverleg: schoolbesturen met "
     "schriftelijke machtiging, zorgpartijen na een getekend en bekendgemaakt "
     "toetredingsformulier (art. 2 en art. 18 convenant)."),
    ("organisatorisch", "Iedere deelnemer is tot geheimhouding verplicht (art. 11 convenant) en "
     "iedere partij beveiligt haar eigen systemen passend (art. 10 convenant; art. 32 AVG)."),
)


class UnknownActivity(DeelwijsError, LookupError):
    """A purpose or activity name the register does not know (message in Dutch)."""

    code = "unknown_activity"

    def __init__(self, name: str, ruleset: Ruleset):
        known = [*ruleset.purposes, *SYSTEM_ACTIVITIES, *ruleset.overleg_types]
        self.message = (f"onbekende verwerkingsactiviteit '{name}' in ruleset {ruleset.id} "
                        f"(bekend: {', '.join(known)})")
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


# --- ids and look-up -------------------------------------------------------------------------


def _code(ruleset: Ruleset, name: str) -> str:
    """The purpose code or system name behind a name, an overleg name or an activity id."""
    if not isinstance(name, str):
        raise UnknownActivity(str(name), ruleset)
    prefix = f"{ruleset.id}/"
    if name.startswith(prefix):
        name = name[len(prefix):]
    name = ruleset.overleg_types.get(name, name)
    if name in ruleset.purposes or name in SYSTEM_ACTIVITIES:
        return name
    raise UnknownActivity(name, ruleset)


def activity_id(ruleset: Ruleset, purpose: str) -> str:
    """The stable id of the activity for a purpose (or a system activity, or a regional
    overleg name): "<ruleset id>/<purpose>". It does not change when the ruleset is edited."""
    return f"{ruleset.id}/{_code(ruleset, purpose)}"


def version(ruleset: Ruleset) -> str:
    """The activity version: the ruleset's version and digest ("1.1.1@sha256:…")."""
    return f"{ruleset.version}@{ruleset.digest}"


def activity_uuid(activity_id: str, versie: str) -> str:
    """The uuid of one version of an activity ("<ruleset id>/<purpose>", "<version>@<digest>"):
    uuid5 in the namespace uuid5(NAMESPACE_URL, "https://deelwijs.nl/verwerkingsactiviteit") of
    "<activity id>@<versie>". The VNG log export names the activity by it
    (`verwerkingsactiviteitId`), and it changes with the ruleset as the version does."""
    return str(uuid.uuid5(_VNG_NAMESPACE, f"{activity_id}@{versie}"))


def activities(ruleset: Ruleset) -> list[dict]:
    """Every activity of the ruleset: one per purpose, in the ruleset's order, then the
    system activities."""
    return [_build(ruleset, code) for code in (*ruleset.purposes, *SYSTEM_ACTIVITIES)]


def activity_for(ruleset: Ruleset, purpose_or_system_name: str) -> dict:
    """One activity, by purpose code, system name, regional overleg name or activity id."""
    return _build(ruleset, _code(ruleset, purpose_or_system_name))


# --- building blocks -------------------------------------------------------------------------


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _segments(text: str | None) -> list[str]:
    return [s.strip() for s in (text or "").split(";") if s.strip()]


def _unique(items) -> list:
    return list(dict.fromkeys(items))


def _rules(rs: Ruleset, ids) -> list[str]:
    return [r for r in _unique(ids) if r in rs.rules]


def _laws(rs: Ruleset, rules: list[str]) -> list[str]:
    """The sector law (and UAVG) the rules cite, without repeats: a citation that only adds a
    note in brackets to one already listed is left out."""
    out: list[str] = []
    for r in rules:
        c = rs.rules[r].citations
        for seg in [*(s for s in _segments(c.avg) if "UAVG" in s), *_segments(c.sector)]:
            base = re.sub(r"\s*\([^)]*\)$", "", seg)
            if seg not in out and base not in out:
                out.append(seg)
    return out


def _ground(rs: Ruleset, code: str, rule_ids, condition: str = "", avg: str | None = None,
            laws_from=None) -> dict:
    """A ground with its AVG article, the sector law its rules cite and the rules."""
    rules = _rules(rs, rule_ids)
    if avg is None:
        avg = labels.GROUND_AVG_ARTICLE.get(code) or "; ".join(_unique(
            s for r in rules for s in _segments(rs.rules[r].citations.avg))) or "–"
    return {
        "code": code,
        "naam": labels.GROUND_NAME.get(code, code),
        "avg": avg,
        "wet": _laws(rs, rules if laws_from is None else _rules(rs, laws_from)),
        "regels": rules,
        "voorwaarde": condition,
    }


def _party(p: Party, rol: str) -> dict:
    return {"code": p.code, "naam": p.label, "rol": rol}


def _recipient(p: Party | None, voorwaarde: str = "", naam: str | None = None) -> dict:
    return {"code": p.code if p else "", "naam": naam or (p.label if p else ""),
            "voorwaarde": voorwaarde}


def _category(rs: Ruleset, code: str, voorwaarde: str = "") -> dict:
    c = rs.categories[code]
    roles = (["jeugdige", "ouder of verzorger met gezag"]
             if code in ("identificatie", "thuissituatie") else ["jeugdige"])
    return {
        "code": code,
        "naam": c.label,
        "soort": "buitenkant" if c.outside else "binnenkant",
        "bijzonder": bool(c.special and code != "justitie"),
        "strafrechtelijk": code == "justitie",
        "bsn": False,
        "betrokkenen": roles,
        "voorwaarde": voorwaarde,
    }


def _own_category(code: str, naam: str, roles: list[str], bsn: bool = False) -> dict:
    return {"code": code, "naam": naam, "soort": "", "bijzonder": False,
            "strafrechtelijk": False, "bsn": bsn, "betrokkenen": roles, "voorwaarde": ""}


def _date_nl(iso: str) -> str:
    y, m, d = (int(x) for x in iso.split("-"))
    return f"{d} {labels.MONTHS[m - 1]} {y}"


def _term(rs: Ruleset, record: str) -> dict:
    r = rs.retention[record]
    naam, event = labels.RECORD_AND_START.get(record, (record, "na het einde"))
    kind = "ten minste" if r.term == "minimum" else "ten hoogste"
    text = f"{naam}: {kind} {r.years} jaar {event}"
    if r.term == "maximum":
        text += ", daarna vernietigen"
    out = {"dossier": record, "naam": naam, "jaren": r.years, "soort": kind,
           "iso8601": f"P{r.years}Y", "regel": r.rule, "tekst": text, "eerder": None}
    if r.before_date and r.before_years is not None:
        out["eerder"] = {"voor": r.before_date, "jaren": r.before_years,
                         "iso8601": f"P{r.before_years}Y", "regel": r.before_rule}
        out["tekst"] += (f" (hulp geëindigd vóór {_date_nl(r.before_date)}: {kind} "
                         f"{r.before_years} jaar)")
    return out


def _retention(rs: Ruleset, records, note: str = "", simple: bool = True) -> dict:
    terms = [_term(rs, r) for r in records if r in rs.retention]
    texts = [t["tekst"] for t in terms]
    if note:
        texts.append(note)
    iso = None
    if simple and len(terms) == 1 and terms[0]["eerder"] is None:
        iso = terms[0]["iso8601"]
    return {"tekst": "; ".join(texts) or note, "iso8601": iso, "termijnen": terms}


def _covenant_articles(rs: Ruleset, rule_ids, extra=()) -> list[str]:
    """The covenant articles cited by the rules, plus `extra`, as "art. N convenant (titel)";
    a regional covenant's article is kept as the region cites it."""
    numbers: set[int] = set(extra)
    regional: list[str] = []
    for rid in rule_ids:
        for seg in _segments(rs.rules[rid].citations.convenant if rid in rs.rules else None):
            if "regionaal" in seg:
                regional.append(seg)
            elif "convenant" in seg:
                numbers.update(int(n) for n in re.findall(r"art\. (\d+)", seg))
    titles = labels.COVENANT_ARTICLE_TITLE
    out = [f"art. {n} convenant ({titles[n]})" if n in titles
           else f"art. {n} convenant" for n in sorted(numbers)]
    return out + _unique(regional)


def _and(names: list[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " en " + names[-1]


def _labels(parties) -> str:
    return _and([p.named for p in parties])


# --- per route -------------------------------------------------------------------------------


def _members(rs: Ruleset) -> list[Party]:
    return [p for p in rs.parties.values() if p.covenant != "never"]


def _special_note(cats: list[dict], applies: bool) -> list[str]:
    """Special categories under a ground other than consent: the ruleset names no exception
    to the ban of art. 9/10 AVG for that; say so instead of inventing one."""
    special = [c["naam"] for c in cats if c["bijzonder"] or c["strafrechtelijk"]]
    if not special or not applies:
        return []
    return [f"Voor {_and(special)} (bijzondere of strafrechtelijke persoonsgegevens) is "
            "naast de grondslag een uitzondering op het verwerkingsverbod nodig (art. 9 of "
            "art. 10 AVG). De ruleset noemt die alleen bij toestemming (art. 9 lid 2 sub a "
            "AVG); bij een andere grondslag stelt de FG vast welke uitzondering geldt."]


def _exceptions(rs: Ruleset, cats: set[str], wams: bool = False) -> list[dict]:
    out = [
        _ground(rs, "LEGAL_OBLIGATION", ["exception.legal_duty"],
                "alleen als een wettelijke plicht tot verstrekken geldt"),
        _ground(rs, "CONFLICT_OF_DUTIES", ["exception.conflict_of_duties"],
                "alleen bij een vastgelegde afweging van een conflict van plichten, om het "
                "beroepsgeheim te doorbreken"),
        _ground(rs, "COMPATIBLE_PURPOSE", ["exception.compatible_purpose"],
                "alleen bij een vastgelegde beoordeling van een verenigbaar doel (situatie C)"),
    ]
    if wams:
        out.insert(1, _ground(rs, "LEGAL_OBLIGATION", ["exception.wams_request"],
                              "alleen als de Wams in werking is: een gemotiveerd verzoek van "
                              "de gemeente"))
    if cats & {"veiligheid", "gezondheid"}:
        out.append(_ground(rs, "VITAL_INTEREST", ["exception.vital_interest"],
                           "alleen veiligheids- en gezondheidsgegevens, als het leven of de "
                           "gezondheid van de jongere acuut in gevaar is"))
    return [g for g in out if g["regels"]]


def _conditions_for(rs: Ruleset, purpose: str) -> dict[str | None, list[str]]:
    out: dict[str | None, list[str]] = {}
    for cond in rs.conditions:
        if purpose in cond.purposes:
            for cat in sorted(cond.categories) if cond.categories else [None]:
                out.setdefault(cat, []).append(cond.id)
    return out


def _purpose_categories(rs: Ruleset, p: Purpose) -> list[dict]:
    conds = _conditions_for(rs, p.code)
    out = []
    for cat in rs.categories:
        if cat not in p.categories:
            continue
        ids = conds.get(cat, []) + conds.get(None, [])
        note = f"alleen met geldige toestemming ({', '.join(ids)})" if ids else ""
        out.append(_category(rs, cat, note))
    return out


def _covenant(rs: Ruleset, p: Purpose) -> dict:
    members = _members(rs)
    cats = _purpose_categories(rs, p)
    codes_ = {c["code"] for c in cats}
    grounds = []
    if any(c["soort"] == "buitenkant" for c in cats) and any(
            m.kind == "public_body" for m in members):
        grounds.append(_ground(rs, "PUBLIC_TASK", ["public.outside_information"],
                               "buitenkantinformatie van publieke partijen"))
    grounds.append(_ground(rs, "CONSENT", ["public.inside_information", "secrecy.professional",
                                           *_CONSENT_RULES],
                           "binnenkantinformatie, en alles van partijen met een "
                           "beroepsgeheim: geldige, schriftelijke en vooraf gegeven "
                           "toestemming van de juiste personen voor de leeftijd",
                           laws_from=["secrecy.professional", *_CONSENT_RULES]))
    cond_ids = [c.id for c in rs.conditions if p.code in c.purposes]
    rules = ["party.covenant_parties", "purpose.matrix", "task.situation_c",
             "hat.effective_discloser", *(r for g in grounds for r in g["regels"]), *cond_ids]
    notes = []
    if cond_ids:
        notes.append("Regionale voorwaarde: " + "; ".join(
            f"{rs.rules[c].title} ({c})" if c in rs.rules else c for c in cond_ids) + ".")
    return {
        "verantwoordelijken": [_party(m, _join("afzonderlijke verwerkingsverantwoordelijke "
                                               "voor de eigen verwerking (art. 2 convenant)",
                                               labels.MEMBERSHIP_CONDITION[m.covenant]))
                               for m in members],
        "ontvangers": [_recipient(m, labels.MEMBERSHIP_CONDITION[m.covenant]) for m in members],
        "categorieen": cats,
        "grondslag": grounds,
        "aanvullend": _exceptions(rs, codes_),
        "regels": rules,
        "bewaartermijn": _retention(rs, ["casusoverleg_verslag"]),
        "notes_grondslag": notes,
        "toelichting": [
            "Wat een partij uit het overleg in haar eigen dossier vastlegt, valt onder haar "
            "eigen bewaartermijn (bijvoorbeeld leerlingdossier of jeugdhulpdossier); wat "
            "art. 9 convenant daarover zegt, staat niet in de ruleset."],
        "extra_articles": (2, 3, 10, 15),
    }


def _join(*parts: str) -> str:
    return "; ".join(p for p in parts if p)


def _municipal(rs: Ruleset, p: Purpose) -> dict:
    cats = _purpose_categories(rs, p)
    codes_ = {c["code"] for c in cats}
    gemeente = rs.parties["gemeente"]
    domains = p.default_help_request_domains
    default = (f"; zonder opgegeven hulpvraag: {', '.join(rs.domains[d] for d in domains)}"
               if domains else "")
    recipients = [_recipient(gemeente, "op het domein waarover de hulpvraag van de inwoner "
                             "gaat; het domein moet bekend zijn" + default)]
    for party in rs.parties.values():
        if party.code != "gemeente" and party.default_domain:
            recipients.append(_recipient(party, "alleen als de hulpvraag van de inwoner het "
                                         f"domein {rs.domains[party.default_domain]} omvat"))
    grounds = [_ground(rs, "PUBLIC_TASK", ["public.outside_information",
                                           "public.inside_information", "scope.help_request"],
                       "binnen de hulpvraag van de inwoner (art. 6 lid 1 sub e AVG met de "
                       "domeinwet)",
                       laws_from=["public.outside_information", "public.inside_information"])]
    consent = _ground(rs, "CONSENT", ["secrecy.professional", "private.other_disclosers",
                                      "scope.college_public_task", *_CONSENT_RULES],
                      "om het beroepsgeheim van de verstrekker op te heffen, of als eigen "
                      "grondslag van een private verstrekker; het college ontvangt dan op zijn "
                      "publieke taak (scope.college_public_task). Een publieke partij "
                      "verstrekt aan het college niet op toestemming")
    extra = [consent, *_exceptions(rs, codes_, wams=p.code == "gecoordineerde_aanpak")]
    rules = ["hat.effective_discloser", "purpose.matrix", "task.situation_c",
             "scope.help_request", "scope.domain_unknown", "party.private_recipient",
             *(r for g in grounds for r in g["regels"]), "private.other_disclosers",
             "scope.college_public_task"]
    disclosers = [q for q in rs.parties.values() if q.code != "gemeente"]
    return {
        "verantwoordelijken": [_party(gemeente, "het college, voor zijn eigen taak"),
                               *(_party(q, "verstrekker, voor de eigen verstrekking")
                                 for q in disclosers)],
        "ontvangers": recipients,
        "categorieen": cats,
        "grondslag": grounds,
        "aanvullend": extra,
        "regels": rules,
        "bewaartermijn": _retention(rs, [], "Niet in de ruleset: het college past de "
                                    "bewaartermijn van zijn eigen dossier in het sociaal "
                                    "domein toe."),
        "notes_grondslag": ["Toestemming is geen grondslag voor een taak van het college "
                            "(AP, De rol van toestemming in het sociaal domein, 2016): het "
                            "college ontvangt op zijn publieke taak; toestemming heft alleen "
                            "het beroepsgeheim op of is de grondslag van een private "
                            "verstrekker."],
        "special_note": True,
        "toelichting": [
            "Private partijen zonder eigen domein (kinderopvang, derde) staan niet bij de "
            "ontvangers: zonder bekend domein is er geen reikwijdte (scope.domain_unknown), en "
            "ook met een domein ontvangen zij alleen met geldige toestemming of bij een "
            "vitaal belang (party.private_recipient).",
            "Private verstrekkers (kinderopvang, derde) verstrekken aan het college alleen met "
            "geldige toestemming of bij een vitaal belang (private.other_disclosers).",
            "De partijen die aan het college verstrekken, zijn ieder verwerkingsverantwoordelijke "
            "voor hun eigen verstrekking; de lijst is afgeleid, de ruleset noemt geen partijen "
            "voor taken van het college.",
            "Bewaartermijn: niet in de ruleset."],
        "extra_articles": (2, 10, 15),
    }


def _own_task(rs: Ruleset, p: Purpose) -> dict:
    cats = _purpose_categories(rs, p)
    codes_ = {c["code"] for c in cats}
    grounds = [
        _ground(rs, "PUBLIC_TASK", ["public.outside_information"],
                "buitenkantinformatie van publieke partijen"),
        _ground(rs, "CONSENT", ["public.inside_information", "secrecy.professional",
                                "party.private_recipient", "private.other_disclosers",
                                *_CONSENT_RULES],
                "binnenkantinformatie, alles van partijen met een beroepsgeheim, en alles aan "
                "een private ontvanger: geldige toestemming",
                laws_from=["secrecy.professional", *_CONSENT_RULES]),
    ]
    recipients = [_recipient(q, "alleen met geldige toestemming, of bij een vitaal belang "
                             "(party.private_recipient)" if q.kind == "private" else "")
                  for q in rs.parties.values()]
    rules = ["hat.effective_discloser", "purpose.matrix", "task.situation_c",
             *(r for g in grounds for r in g["regels"])]
    return {
        "verantwoordelijken": [_party(q, "iedere partij, voor haar eigen begeleiding of hulp")
                               for q in rs.parties.values() if q.kind != "private"],
        "ontvangers": recipients,
        "categorieen": cats,
        "grondslag": grounds,
        "aanvullend": _exceptions(rs, codes_),
        "regels": rules,
        "bewaartermijn": _retention(
            rs, ["leerlingdossier", "verzuimregistratie", "verwijzing_so", "jeugdhulpdossier"],
            "iedere partij volgens haar eigen dossier", simple=False),
        "notes_grondslag": [],
        "toelichting": ["De verwerkingsverantwoordelijken zijn afgeleid: de eigen taak kent in "
                        "de ruleset geen partijcontrole; private partijen (kinderopvang, derde) "
                        "staan er niet bij omdat zij geen publieke taak of beroepsgeheim "
                        "hebben."],
        "extra_articles": (2, 10, 15),
    }


def _flows(rs: Ruleset, purpose: str) -> list[tuple[Party, Party, Route]]:
    """Every (discloser, recipient) the legal route lets through, with the route that does."""
    out = []
    for d in rs.parties.values():
        for r in rs.parties.values():
            for route in rs.routes.get(purpose, ()):
                if ((route.from_ is not None and d.code not in route.from_)
                        or (route.to is not None and r.code not in route.to)
                        or (route.from_kind is not None and d.kind not in route.from_kind)):
                    continue
                # A party does not disclose to itself on a route that does not name it as
                # discloser (the GI to the GI under the OTS route).
                if not route.deny and not (d.code == r.code and route.from_ is None):
                    out.append((d, r, route))
                # A route for some statuses only (the youth's age) leaves the next one open.
                if route.status is None:
                    break
    return out


def _route_grounds(route: Route, cat: str) -> list[tuple[str, str]]:
    """The grounds a route gives a category: its grant, and the alternatives beside it."""
    if route.categories is None or cat in route.categories:
        grant = route.grant or ""
        out = [("CONSENT" if grant == "consent" else grant, route.rule)]
        if "consent" in route.alternatives and grant != "consent":
            out.append(("CONSENT", route.rule))
        if "vital_interest" in route.alternatives and rs_vital(cat):
            out.append(("VITAL_INTEREST", "exception.vital_interest"))
        return out
    if route.otherwise == "consent":
        return [("CONSENT", route.otherwise_rule or route.rule)]
    return []


def rs_vital(cat: str) -> bool:
    """A vital interest carries only safety and health information (decisions.md)."""
    return cat in ("veiligheid", "gezondheid")


def _route_who(rs: Ruleset, route: Route) -> str:
    """'van X aan Y' for a route, with its kind of discloser and the youth's status."""
    if route.from_:
        frm = _labels(rs.parties[c] for c in sorted(route.from_))
    elif route.from_kind:
        frm = " of ".join(labels.PARTY_KIND_EVERY[k] for k in sorted(route.from_kind))
    else:
        frm = "iedere verstrekker"
    to = (_labels(rs.parties[c] for c in sorted(route.to)) if route.to else "iedere ontvanger")
    statuses = [labels.EDUCATION_STATUS_ADJECTIVE[s] for s in codes.EDUCATION_STATUSES
                if s in (route.status or ())]
    status = f" (jongere {' of '.join(statuses)})" if statuses else ""
    return f"van {frm} aan {to}{status}"


def _legal(rs: Ruleset, p: Purpose) -> dict:
    flows = _flows(rs, p.code)
    routes = _unique(f[2] for f in flows)
    disclosers = _unique(f[0] for f in flows)
    recipients = _unique(f[1] for f in flows)
    by_ground: dict[str, list[str]] = {}
    cats = []
    for cat in rs.categories:
        found = [(route, g) for route in routes for g in _route_grounds(route, cat)]
        if not found:
            continue
        for _, (code, rule) in found:
            by_ground.setdefault(code, []).append(rule)
        note = ""
        if len(routes) > 1 or any(code == "CONSENT" for _, (code, _r) in found):
            parts = []
            for route, (code, _r) in found:
                what = ("met geldige toestemming" if code == "CONSENT"
                        else labels.GROUND_NAME.get(code, code))
                parts.append(f"{_route_who(rs, route)}: {what}")
            note = ", ".join(parts)
        cats.append(_category(rs, cat, note))
    special_without_consent = any(
        (rs.categories[c["code"]].special)
        and any(code != "CONSENT" for r in routes for code, _ in _route_grounds(r, c["code"]))
        for c in cats)
    grounds = []
    for code, rules in by_ground.items():
        rules = _unique(rules)
        cited = _unique(s for r in rules if r in rs.rules
                        for s in _segments(rs.rules[r].citations.avg))
        if code == "CONSENT":
            rules = [*rules, *_CONSENT_RULES]
        avg = "; ".join(cited) if cited and code != "CONSENT" else None
        grounds.append(_ground(rs, code, rules, avg=avg))
    all_rules = _unique([*(r.rule for r in rs.routes.get(p.code, ())),
                         *(r.otherwise_rule for r in rs.routes.get(p.code, ())
                           if r.otherwise_rule),
                         *(r for g in grounds for r in g["regels"])])
    obligations = _unique(o for route in routes for o in route.obligations)
    notes = []
    if "DOCUMENT_WEIGHING" in obligations:
        notes.append("Weeg elke verstrekking zorgvuldig af en leg de afweging vast.")
    records = {"verzuimmelding": ["verzuimregistratie"], "overdracht": ["leerlingdossier"]}.get(
        p.code, ["leerlingdossier", "jeugdhulpdossier"])
    if p.code == "overdracht":
        retention_note = ("afgeleid: het onderwijskundig rapport hoort bij het leerlingdossier "
                          "van de ontvangende school")
    elif p.code == "verzuimmelding":
        retention_note = ""
    else:
        retention_note = ("de verstrekker legt de verstrekking vast in haar eigen dossier; "
                          "de bewaartermijnen van de ontvanger staan niet in de ruleset")
    return {
        "verantwoordelijken": [_party(d, "verstrekker, voor de eigen verstrekking")
                               for d in disclosers],
        "ontvangers": [_recipient(r) for r in recipients],
        "categorieen": cats,
        "grondslag": grounds,
        "aanvullend": [],
        "regels": all_rules,
        "bewaartermijn": _retention(rs, records, retention_note,
                                    simple=p.code == "verzuimmelding"),
        "notes_grondslag": ["Een wettelijke route staat los van het convenant.", *notes],
        "special_note": special_without_consent,
        "toelichting": ["De verwerkingsverantwoordelijken en ontvangers volgen uit de "
                        "wettelijke route in de ruleset (wie aan wie mag verstrekken); de "
                        "ontvanger is verwerkingsverantwoordelijke voor wat hij daarna met de "
                        "gegevens doet."],
        "extra_articles": (10, 15),
    }


# --- system activities -----------------------------------------------------------------------

# The log is kept as long as the longest-kept data it is about, plus a margin for audits.
LOG_RETENTION_MARGIN_YEARS = 5


def log_retention(ruleset: Ruleset) -> str:
    """The retention of the processing log's entries (ISO 8601, "P25Y" for the built-in
    rulesets): the ruleset's longest retention term plus `LOG_RETENTION_MARGIN_YEARS`."""
    longest = max((r.years for r in ruleset.retention.values()), default=0)
    return f"P{longest + LOG_RETENTION_MARGIN_YEARS}Y"


def _log_retention(rs: Ruleset) -> dict:
    iso = log_retention(rs)
    longest = max(rs.retention.values(), key=lambda r: r.years, default=None)
    basis = (f"de langste bewaartermijn van de gegevens waarover het logboek gaat "
             f"({labels.RECORD_AND_START.get(longest.record, (longest.record,))[0]}, "
             f"{longest.years} jaar)"
             if longest else "de langste bewaartermijn van de gegevens")
    text = (f"{iso[1:-1]} jaar na de verwerking: {basis} plus {LOG_RETENTION_MARGIN_YEARS} "
            "jaar marge voor controles (afgeleid, niet in de ruleset). Daarna wordt de inhoud "
            "van een logregel verwijderd en blijft alleen de hash in de Merkle-boom, zodat de "
            "controlepunten te controleren blijven.")
    return {"tekst": text, "iso8601": iso, "termijnen": []}


def _system(rs: Ruleset, name: str) -> dict:
    members = _members(rs)
    own = [_party(m, "verwerkingsverantwoordelijke voor de eigen gegevens in Deelwijs "
                  "(art. 2 convenant)") for m in members]
    derived = ("Afgeleid, niet in de ruleset: iedere partij is verwerkingsverantwoordelijke voor "
               "haar eigen gegevens in Deelwijs (art. 2 convenant); wie Deelwijs beheert en of "
               "de partijen daarvoor gezamenlijk verantwoordelijk zijn (art. 26 AVG), legt de "
               "regio vast.")
    ident = rs.categories["identificatie"].label
    if name == "registratie":
        consent = _ground(rs, "CONSENT", list(_CONSENT_RULES),
                          "de toestemming zelf: wie toestemt, volgt uit de leeftijd")
        return {
            "naam": "Registratie van jongeren, ouders met gezag en toestemmingen",
            "doel": "Vastleggen wie de jongere is, welke ouders gezag hebben en welke "
            "toestemmingen, weigeringen en intrekkingen zijn gegeven, zodat bij elke "
            "verstrekking te toetsen is of er geldige toestemming is van de juiste personen "
            "voor de leeftijd, en die toestemming aantoonbaar is.",
            "verantwoordelijken": own,
            "ontvangers": [_recipient(m, "alleen als deelnemer aan de casus van de jongere "
                                      "(need-to-know)") for m in members],
            "categorieen": [
                _own_category("identificatie", f"{ident} (naam en geboortedatum van de "
                              "jongere, namen van de ouders)",
                              ["jeugdige", "ouder of verzorger"]),
                _own_category("bsn", "burgerservicenummer (BSN) van de jongere", ["jeugdige"],
                              bsn=True),
                _own_category("onderwijspositie", rs.categories["onderwijspositie"].label
                              + " (de school van de jongere)", ["jeugdige"]),
                _own_category("gezag", "gezag: welke ouder of verzorger gezag heeft",
                              ["ouder of verzorger"]),
                _own_category("toestemming", "toestemmingen, weigeringen en intrekkingen: "
                              "van wie, voor welke doelen, categorieën en ontvangers, "
                              "schriftelijk, vooraf", ["jeugdige", "ouder of verzorger"]),
            ],
            "grondslag": [
                _ground(rs, "PUBLIC_TASK", ["public.outside_information"],
                        "identificerende gegevens voor de taak van een publieke partij"),
                consent,
                _ground(rs, "LEGAL_OBLIGATION", [], "het kunnen aantonen van de toestemming",
                        avg="art. 6 lid 1 sub c AVG, met art. 7 lid 1 AVG"),
            ],
            "regels": _rules(rs, ["public.outside_information", *_CONSENT_RULES,
                                  "consent_required.who"]),
            "bewaartermijn": _retention(
                rs, ["casusoverleg_verslag"],
                "afgeleid: zolang de jongere in een casus of verstrekking voorkomt en daarna "
                "ten hoogste de termijn van het casusoverlegverslag; daarna wordt de sleutel "
                "van de jongere vernietigd", simple=False),
            "notes_grondslag": ["De grondslag is afgeleid: dezelfde als die van het "
                                "casusoverleg waarvoor de jongere wordt geregistreerd, en voor "
                                "de toestemmingen de plicht om toestemming aan te tonen."],
            "toelichting": [derived, "De grondslag en de bewaartermijn zijn afgeleid; de FG "
                            "stelt ze vast."],
            "extra_articles": (2, 4, 6, 10, 15),
        }
    if name == "rechten":
        return {
            "naam": "Afhandeling van verzoeken van betrokkenen",
            "doel": "Behandelen van verzoeken om inzage, rectificatie, wissing, beperking en "
            "bezwaar (art. 12 t/m 22 AVG; art. 13 convenant), en de ontvangers van de "
            "gegevens op de hoogte brengen van een rectificatie, wissing of beperking.",
            "verantwoordelijken": own,
            "ontvangers": [
                _recipient(None, naam="de betrokkene die het verzoek doet (de jongere of een "
                           "ouder met gezag)"),
                _recipient(None, naam="de ontvangers aan wie de gegevens zijn verstrekt",
                           voorwaarde="bij rectificatie, wissing of beperking (art. 19 AVG)"),
            ],
            "categorieen": [
                _own_category("identificatie", ident, ["verzoeker", "jeugdige"]),
                _own_category("verzoek", "het verzoek: soort, ontvangen op, termijn, besluit "
                              "en motivering", ["verzoeker"]),
                _own_category("gegevens", "de gegevens van de jongere waarop het verzoek "
                              "betrekking heeft (alle categorieën van de ruleset)",
                              ["jeugdige"]),
                _own_category("behandelaar", "wie het verzoek behandelt", ["medewerker"]),
            ],
            "grondslag": [_ground(rs, "LEGAL_OBLIGATION", [],
                                  "de plicht om verzoeken van betrokkenen te behandelen",
                                  avg="art. 6 lid 1 sub c AVG, met art. 12 t/m 22 AVG")],
            "regels": [],
            "bewaartermijn": _retention(rs, [], "Niet in de ruleset. Afgeleid: zolang de "
                                        "gegevens waarop het verzoek betrekking heeft, worden "
                                        "bewaard; de regio stelt de termijn vast."),
            "notes_grondslag": [],
            "toelichting": [derived, "Bewaartermijn: niet in de ruleset."],
            "extra_articles": (2, 10, 12, 13, 15),
        }
    if name == "verwerkingslog":
        return {
            "naam": "Bijhouden van het verwerkingslogboek",
            "doel": "Vastleggen van elke verwerking en verstrekking van persoonsgegevens, met "
            "de verwerkingsactiviteit (id en versie) waaronder zij viel, zodat de partijen "
            "kunnen aantonen dat zij volgens de AVG en het convenant werken en betrokkenen "
            "inzage kunnen krijgen.",
            "verantwoordelijken": own,
            "ontvangers": [
                _recipient(None, naam="de betrokkene", voorwaarde="bij inzage (art. 15 AVG)"),
                _recipient(None, naam="de functionaris gegevensbescherming van de partijen"),
                _recipient(None, naam="de Autoriteit Persoonsgegevens",
                           voorwaarde="op verzoek"),
            ],
            "categorieen": [
                _own_category("verwijzing", "gepseudonimiseerde verwijzing naar de jongere "
                              "(hash met geheime sleutel, geen BSN)", ["jeugdige"]),
                _own_category("verwerking", "soort verwerking, tijdstip, verwerkingsactiviteit "
                              "(id en versie), verwerkte gegevenscategorieën en ontvanger",
                              ["jeugdige"]),
            ],
            "grondslag": [_ground(rs, "LEGAL_OBLIGATION", [],
                                  "de verantwoordingsplicht en de plicht tot passende "
                                  "beveiliging",
                                  avg="art. 6 lid 1 sub c AVG, met art. 5 lid 2, art. 24 en "
                                  "art. 32 AVG")],
            "regels": [],
            "bewaartermijn": _log_retention(rs),
            "notes_grondslag": [],
            "toelichting": [derived, "Het logboek bevat geen inhoud van verstrekte gegevens "
                            "en geen BSN. Bewaartermijn: afgeleid, niet in de ruleset."],
            "extra_articles": (2, 10, 15),
        }
    return {  # datalekken
        "naam": "Register van datalekken",
        "doel": "Documenteren van elk datalek: de feiten, de gevolgen en de genomen "
        "maatregelen, en of en wanneer het aan de Autoriteit Persoonsgegevens, de betrokkenen "
        "en de andere partijen is gemeld (art. 33 lid 5 AVG).",
        "verantwoordelijken": own,
        "ontvangers": [
            _recipient(None, naam="de Autoriteit Persoonsgegevens",
                       voorwaarde="melding, tenzij een risico onwaarschijnlijk is (art. 33 AVG)"),
            _recipient(None, naam="de betrokkenen",
                       voorwaarde="bij een hoog risico (art. 34 AVG)"),
            _recipient(None, naam="de andere partijen bij het convenant"),
        ],
        "categorieen": [
            _own_category("lek", "omschrijving van het lek, betrokken gegevenscategorieën, "
                          "risico, maatregelen en meldingen", ["jeugdige"]),
            _own_category("betrokkenen", "welke jongeren geraakt zijn en of zij zijn "
                          "geïnformeerd", ["jeugdige"]),
            _own_category("melder", "wie het lek vastlegde", ["medewerker"]),
        ],
        "grondslag": [_ground(rs, "LEGAL_OBLIGATION", [],
                              "de plicht om inbreuken te documenteren",
                              avg="art. 6 lid 1 sub c AVG, met art. 33 lid 5 AVG")],
        "regels": [],
        "bewaartermijn": _retention(rs, [], "Niet in de ruleset; de AVG noemt geen termijn. "
                                    "Afgeleid: zolang de Autoriteit Persoonsgegevens de "
                                    "naleving moet kunnen controleren; de regio stelt de "
                                    "termijn vast."),
        "notes_grondslag": [],
        "toelichting": [derived, "Hoe snel partijen elkaar onder het convenant over een lek "
                        "informeren, staat niet in de ruleset; waarschijnlijk valt het "
                        "onder art. 10 convenant (beveiliging).",
                        "Bewaartermijn: niet in de ruleset."],
        "extra_articles": (2, 10, 15),
    }


# --- the activity ----------------------------------------------------------------------------


def _ground_text(g: dict) -> str:
    wet = ", ".join(g["wet"])
    text = f"{g['naam']} ({g['avg']}" + (f"; {wet}" if wet else "") + ")"
    return text + (f": {g['voorwaarde']}" if g["voorwaarde"] else "")


def _explain_grounds(rs: Ruleset, grounds: list[dict], extra: list[dict],
                     notes: list[str]) -> str:
    parts = []
    for g in grounds:
        sources = [f"{rs.rules[r].title} ({rs.rules[r].citations.text()})"
                   for r in g["regels"] if r in rs.rules]
        line = f"{_cap(g['naam'])}, {g['avg']}"
        if g["voorwaarde"]:
            line += f", voor {g['voorwaarde']}"
        if sources:
            line += ". Regels: " + "; ".join(sources)
        parts.append(line + ".")
    if extra:
        parts.append("Daarnaast, alleen in een bijzonder geval: " + "; ".join(
            f"{g['naam']} ({g['avg']}), {g['voorwaarde']}" for g in extra) + ".")
    return " ".join([*parts, *notes])


def _build(rs: Ruleset, code: str) -> dict:
    system = code in SYSTEM_ACTIVITIES
    if system:
        part = _system(rs, code)
        route = "system"
        naam, doel = part["naam"], part["doel"]
        aim_note = []
    else:
        p = rs.purposes[code]
        route = p.route
        part = {"covenant": _covenant, "municipal": _municipal, "own_task": _own_task,
                "legal": _legal}[route](rs, p)
        regional = [name for name, purpose in rs.overleg_types.items() if purpose == code]
        naam = _cap(p.label) + (f" (in deze regio: {', '.join(regional)})" if regional else "")
        doel = labels.PURPOSE_AIM.get(code, _cap(p.label) + ".")
        if route == "covenant":
            doel += " " + _COVENANT_AIM
        aim_note = ["De doelomschrijving is afgeleid uit de webinarpresentatie (8 december "
                    "2021), de toelichting bij het convenant en de regionale praktijk; de "
                    "ruleset noemt alleen de naam van het doel. De FG stelt de omschrijving "
                    "vast."]
    cats = part["categorieen"]
    grounds = part["grondslag"]
    extra = part.get("aanvullend", [])
    if any(c["bijzonder"] for c in cats):
        for g in grounds:
            if g["code"] == "CONSENT" and g["avg"] == labels.GROUND_AVG_ARTICLE["CONSENT"]:
                g["avg"] += " en art. 9 lid 2 sub a AVG (uitdrukkelijke toestemming)"
    rules = _rules(rs, [*part["regels"], *(r for g in extra for r in g["regels"]),
                        *(t["regel"] for t in part["bewaartermijn"]["termijnen"])])
    roles = _unique(r for c in cats for r in c["betrokkenen"])
    signed = []
    for s in rs.signatories:
        party = rs.parties[s["party"]].label if s.get("party") in rs.parties else s.get("party")
        signed.append(f"{s.get('name')} ({party}), getekend op {s.get('signed_on')}")
    contact_note = ("Naam en contactgegevens van iedere verwerkingsverantwoordelijke staan niet "
                    "in de ruleset; iedere partij vult ze zelf in (art. 30 lid 1 sub a AVG).")
    joint = ("Geen: iedere partij is een afzonderlijke verwerkingsverantwoordelijke "
             "(art. 2 convenant; art. 4 onder 7 AVG)." if not system else
             "Niet vastgelegd in de ruleset; of de partijen voor het beheer van Deelwijs "
             "gezamenlijk verantwoordelijk zijn (art. 26 AVG), legt de regio vast.")
    return {
        "id": f"{rs.id}/{code}",
        "versie": version(rs),
        "ruleset": rs.ref(),
        "soort": "systeem" if system else "doel",
        "code": code,
        "route": labels.ROUTE_PHRASE[route],
        "naam": naam,
        "doel": doel,
        "grondslag": grounds,
        "aanvullende_grondslagen": extra,
        "toelichting_grondslag": _explain_grounds(
            rs, grounds, extra,
            [*part["notes_grondslag"], *_special_note(cats, part.get("special_note", False))]),
        "verwerkingsverantwoordelijke": part["verantwoordelijken"],
        "gezamenlijke_verwerkingsverantwoordelijken": joint,
        "contactgegevens": [*signed, contact_note],
        "functionaris_gegevensbescherming": (
            "De functionaris gegevensbescherming van iedere partij (art. 15 convenant); naam "
            "en contactgegevens staan niet in de ruleset en vult iedere partij zelf in."),
        "categorieen_betrokkenen": [labels.ROLE_PLURAL.get(r, r) for r in roles],
        "categorieen_gegevens": cats,
        "ontvangers": part["ontvangers"],
        "doorgifte_derde_landen": NOT_APPLICABLE,
        "bewaartermijn": part["bewaartermijn"],
        "beveiliging": [{"soort": s, "maatregel": m} for s, m in _SECURITY],
        "artikelen": _covenant_articles(rs, rules, part["extra_articles"]),
        "regels": rules,
        "toelichting": [*aim_note, *part["toelichting"]],
    }


# --- VNG VAR ---------------------------------------------------------------------------------


# an organisation's OIN (Organisatie-identificatienummer): 20 ASCII digits
OIN = re.compile(r"[0-9]{20}")


def _vng_ground_names(ground: dict) -> list[str]:
    """The VAR `grondslag` names of one ground: one per letter of art. 6 lid 1 AVG it cites
    (a ground citing "sub c en e" is two), else the ground's own name."""
    m = re.search(r"art\. 6 lid 1 sub ([a-f](?:(?:, | en | of )[a-f])*)\b", ground["avg"])
    letters = re.findall(r"\b[a-f]\b", m.group(1)) if m else []
    return [labels.VNG_GROUND[x] for x in letters] or [_cap(ground["naam"])]


def _vng_grounds(grounds: list[dict]) -> list[str]:
    return _unique(name for g in grounds for name in _vng_ground_names(g))


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def to_vng(activity: dict, controller_oin: str) -> list[dict]:
    """The activity as VNG VAR `Verwerkingsactiviteit`s (var-api openapi.yaml, 0.1.0): one per
    ground, because the schema's `grondslag` holds one of the AVG's grounds ("Publieke taak",
    "Toestemming betrokkene", …); an activity on a public task or with consent is two entries.

    `verantwoordelijkeOrganisatie` is the controller's OIN, which the ruleset does not know: the
    service that exports passes it in (the region's controller). Each entry's `id` is uuid5 in
    the register's namespace of "<activity id>@<versie>#<grondslag>", so it changes with the
    ruleset; `gebaseerdOp` names the activity version itself (`urn:uuid:` of activity_uuid),
    the id the processing log's export gives as `verwerkingsactiviteitId`."""
    if not isinstance(controller_oin, str) or not OIN.fullmatch(controller_oin):
        raise ValueError(f"verantwoordelijkeOrganisatie is an OIN (20 digits): {controller_oin!r}")
    grounds: dict[str, list[dict]] = {}
    for g in activity["grondslag"]:
        for name in _vng_ground_names(g):
            grounds.setdefault(name, []).append(g)
    cats = activity["categorieen_gegevens"]
    controllers = activity["verwerkingsverantwoordelijke"]
    common = {
        "gebaseerdOp": f"urn:uuid:{activity_uuid(activity['id'], activity['versie'])}",
        "categorie": _cap(activity["route"]),
        "verantwoordelijkeOrganisatie": controller_oin,
        "doel": _clip(activity["doel"], 2042),
        "bewaartermijn": _clip(activity["bewaartermijn"]["tekst"], 2042),
        "herkomst": _clip("De betrokkene en de verstrekkende partijen ("
                          + ", ".join(c["naam"] for c in controllers) + ")", 2042),
        "afnemendeInternationaleDerden": [],
        "afnemendeCategorieOntvangers": [_clip(r["naam"], 242) for r in activity["ontvangers"]],
        "verwerktePersoonsgegevens": [{"rolBetrokkene": role, "naam": _clip(c["naam"], 242)}
                                      for c in cats for role in c["betrokkenen"]],
    }
    if activity["code"] in ("toeleiding", "gecoordineerde_aanpak"):
        common["verantwoordelijkeBestuursorgaan"] = "College van B&W"
    out = []
    for name, source in grounds.items():
        naam = activity["naam"] + (f" – {name}" if len(grounds) > 1 else "")
        out.append({
            "id": str(uuid.uuid5(_VNG_NAMESPACE,
                                 f"{activity['id']}@{activity['versie']}#{name}")),
            "naam": _clip(naam, 242),
            **common,
            "grondslag": name,
            "toelichtingGrondslag": _clip("; ".join(_unique(_cap(_ground_text(g)) for g in source)),
                                          2042),
        })
    return out


def vng_missing(controller: dict | None) -> str | None:
    """Why the VAR mapping cannot be given (in Dutch), or None when it can: it needs the
    controller's OIN."""
    if controller is None:
        return ("De VNG-velden (VAR) ontbreken: verantwoordelijkeOrganisatie is het OIN van de "
                "verwerkingsverantwoordelijke, en dat staat niet in de ruleset. Exporteer met "
                "--region REGIO.")
    if not controller.get("naam"):
        return ("De VNG-velden (VAR) ontbreken: de regio heeft geen verwerkingsverantwoordelijke "
                "vastgelegd (deelwijs region update REGIO --controller NAAM).")
    if not controller.get("oin"):
        return (f"De VNG-velden (VAR) ontbreken: de verwerkingsverantwoordelijke "
                f"'{controller['naam']}' heeft geen OIN. Geef het met deelwijs region update "
                "REGIO --controller-oin OIN (of geef de organisatie met die naam in de regio "
                "een OIN: deelwijs org create --oin).")
    return None


# --- export ----------------------------------------------------------------------------------


def _one(text: str) -> str:
    """One item of a list cell: '; ' separates items, so an item holds none itself."""
    return " ".join(str(text).replace("; ", ", ").split())


def _party_text(p: dict, key: str) -> str:
    return p["naam"] + (f" ({p[key]})" if p.get(key) else "")


def _category_text(c: dict) -> str:
    marks = []
    if c["bijzonder"]:
        marks.append("bijzonder persoonsgegeven, art. 9 AVG")
    if c["strafrechtelijk"]:
        marks.append("strafrechtelijk persoonsgegeven, art. 10 AVG")
    if c["bsn"]:
        marks.append("BSN")
    text = c["naam"] + (f" [{', '.join(marks)}]" if marks else "")
    return text + (f" ({c['voorwaarde']})" if c["voorwaarde"] else "")


def _field(activity: dict, key: str) -> list[str]:
    """The texts of one field, one per list item."""
    value = activity.get(key)
    if key in ("grondslag", "aanvullende_grondslagen"):
        items = [_ground_text(g) for g in value]
    elif key == "verwerkingsverantwoordelijke":
        items = [_party_text(p, "rol") for p in value]
    elif key == "ontvangers":
        items = [_party_text(p, "voorwaarde") for p in value]
    elif key == "categorieen_gegevens":
        items = [_category_text(c) for c in value]
    elif key == "bewaartermijn":
        items = [value["tekst"]]
    elif key == "bewaartermijn_iso":
        items = [activity["bewaartermijn"]["iso8601"] or ""]
    elif key == "beveiliging":
        items = [f"{m['soort']}: {m['maatregel']}" for m in value]
    elif isinstance(value, list):
        items = [str(v) for v in value]
    else:
        items = [str(value)]
    return [_one(i) for i in items if i]


# (CSV header, activity key); `bewaartermijn_iso` is the ISO part of `bewaartermijn`.
COLUMNS = (
    ("id", "id"),
    ("versie", "versie"),
    ("naam", "naam"),
    ("doel", "doel"),
    ("grondslag", "grondslag"),
    ("toelichting grondslag", "toelichting_grondslag"),
    ("aanvullende grondslagen", "aanvullende_grondslagen"),
    ("verwerkingsverantwoordelijken", "verwerkingsverantwoordelijke"),
    ("gezamenlijke verwerkingsverantwoordelijken", "gezamenlijke_verwerkingsverantwoordelijken"),
    ("contactgegevens", "contactgegevens"),
    ("functionaris gegevensbescherming", "functionaris_gegevensbescherming"),
    ("categorieën betrokkenen", "categorieen_betrokkenen"),
    ("categorieën persoonsgegevens", "categorieen_gegevens"),
    ("ontvangers", "ontvangers"),
    ("doorgifte naar derde landen", "doorgifte_derde_landen"),
    ("bewaartermijn", "bewaartermijn"),
    ("bewaartermijn (ISO 8601)", "bewaartermijn_iso"),
    ("beveiligingsmaatregelen", "beveiliging"),
    ("convenantartikelen", "artikelen"),
    ("toelichting", "toelichting"),
)


def _header(activities_: list[dict], controller: dict | None = None) -> dict:
    ref = activities_[0]["ruleset"] if activities_ else {"id": None, "version": None,
                                                          "digest": None}
    out = {"naam": "Register van verwerkingsactiviteiten (art. 30 AVG; art. 15 convenant)",
           "formaat": FORMAT, "ruleset": dict(ref), "aantal": len(activities_)}
    if controller is not None:
        out["verwerkingsverantwoordelijke"] = controller
    return out


def to_json(activities_: list[dict], controller: dict | None = None) -> str:
    """The register as JSON: a header (`register`), the activities and their VNG VAR mapping
    (`vng`, one entry per activity and ground). `controller`: the region's controller as the
    exporting service knows it ({"naam", "oin", "adres", "fg"}), or None. The VAR mapping
    needs its OIN; without one, `vng` is empty and `vng_toelichting` says why."""
    missing = vng_missing(controller)
    doc = {"register": _header(activities_, controller), "activiteiten": activities_,
           "vng": [] if missing else [v for a in activities_
                                      for v in to_vng(a, controller["oin"])]}
    if missing:
        doc["vng_toelichting"] = missing
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"


def to_csv(activities_: list[dict]) -> str:
    """The register as CSV (RFC 4180): one row per activity, Dutch headers, list fields
    joined with "; "."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow([h for h, _ in COLUMNS])
    for a in activities_:
        writer.writerow(["; ".join(_field(a, key)) for _, key in COLUMNS])
    return buf.getvalue()


def _controller_lines(controller: dict) -> list[str]:
    fg = controller.get("fg") or {}
    contact = ", ".join(v for v in (fg.get("naam"), fg.get("email"), fg.get("telefoon")) if v)
    return [
        "verwerkingsverantwoordelijke: " + (controller.get("naam") or "niet vastgelegd")
        + (f" (OIN {controller['oin']})" if controller.get("oin") else ""),
        *([f"adres: {', '.join((controller.get('adres') or '').splitlines())}"]
          if controller.get("adres") else []),
        f"functionaris gegevensbescherming: {contact or 'niet vastgelegd'}",
    ]


def render(activities_: list[dict], controller: dict | None = None) -> str:
    """The register as readable Dutch text, for `deelwijs register show`; with the region's
    controller and FG when the service passes them in."""
    head = _header(activities_)
    ref = head["ruleset"]
    out = [head["naam"], f"ruleset {ref['id']} {ref['version']}  {ref['digest']}",
           *(_controller_lines(controller) if controller is not None else []),
           f"{len(activities_)} verwerkingsactiviteiten", ""]
    width = 24
    for n, a in enumerate(activities_, 1):
        out.append(f"{n}. {a['naam']}")
        for header, key in COLUMNS:
            if key == "naam":
                continue
            items = _field(a, key)
            if not items:
                continue
            label = f"   {header}: ".ljust(width + 5)
            if len(items) == 1:
                out.append(f"{label}{items[0]}")
            else:
                out.append(label.rstrip())
                out.extend(f"     - {i}" for i in items)
        out.append("")
    return "\n".join(out).rstrip() + "\n"
