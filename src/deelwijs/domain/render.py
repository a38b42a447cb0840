"""Decisions as the contract's JSON, with Dutch explanations that cite the articles.

Rendering is separate from deciding: the engine names codes and rule ids; this module turns
them into text for the professional who asked. Text is made only when asked for.
"""

from __future__ import annotations

import contextlib

from deelwijs.domain import codes
from deelwijs.domain.engine import (
    AbsenceDecision,
    ConsentDecision,
    Decision,
    DisclosureDecision,
    Item,
    RetentionDecision,
)
from deelwijs.domain.ruleset import Ruleset

OBLIGATION_NL = {
    "LOG_PROCESSING": "leg de verstrekking vast in het verwerkingenlogboek",
    "DOCUMENT_WEIGHING": "leg uw afweging schriftelijk vast",
    "INFORM_DATA_SUBJECT": "informeer de ouders en/of de jongere over deze verstrekking",
    "RECORD_CONSENT": "bewaar de toestemming (wie, wanneer, waarvoor) bij het dossier",
}
INFORM_MELDCODE_NL = (
    "bespreek de melding vooraf met de ouders en/of de jongere en informeer hen erover, "
    "behalve als dat de veiligheid van het kind, van uzelf of van een ander in gevaar brengt, "
    "of als u dan ernstig vreest dat zij het contact met u verbreken (stap 4 en 5 van de "
    "meldcode; art. 5.2.6 Wmo 2015); leg vast waarom u hen niet informeerde")
_WEIGHED = frozenset({"VITAL_INTEREST", "CONFLICT_OF_DUTIES", "COMPATIBLE_PURPOSE",
                      "LEGAL_POWER"})
DUTY_NL = {
    "mandatory": "De school moet dit verzuim melden",
    "optional": "De school mag dit verzuim melden, maar hoeft het niet",
    "none": "De school meldt dit verzuim niet",
}
TERM_NL = {"minimum": "ten minste bewaren tot", "maximum": "vernietigen uiterlijk op"}
WHO_NL = {"parents": "de ouders met gezag", "youth": "de jongere"}
MONTHS = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus",
          "september", "oktober", "november", "december")


def to_json(decision: Decision, explain: bool = False) -> dict:
    """The decision as the contract's output object."""
    if isinstance(decision, DisclosureDecision):
        return _disclosure(decision, explain)
    if isinstance(decision, AbsenceDecision):
        return _absence(decision)
    if isinstance(decision, ConsentDecision):
        return _consent(decision)
    return _retention(decision)


def rule_text(rs: Ruleset, rule_id: str, params: dict[str, str] | None = None,
              cite: bool = True) -> str:
    rule = rs.rules[rule_id]
    text = rule.explanation
    if params:
        with contextlib.suppress(KeyError, IndexError, ValueError):
            text = text.format(**params)
    citations = rule.citations.text()
    return f"{text} ({citations})" if cite and citations else text


def _params(d: DisclosureDecision, cat: str) -> dict[str, str]:
    req, rs = d.request, d.ruleset
    domain = req.recipient_domain or rs.parties[req.recipient].default_domain or "onbekend"
    discloser, recipient = rs.parties[req.discloser].named, rs.parties[req.recipient].named
    return {
        "categorie": rs.categories[cat].label,
        "doel": rs.purposes[req.purpose].named,
        "verstrekker": discloser,
        "Verstrekker": discloser[:1].upper() + discloser[1:],
        "ontvanger": recipient,
        "Ontvanger": recipient[:1].upper() + recipient[1:],
        "leeftijd": str(req.age),
        "domein": rs.domains.get(domain, domain),
    }


def item_explanation(d: DisclosureDecision, item: Item) -> str:
    params = _params(d, item.data)
    seen: list[str] = []
    for rule_id in item.rules:
        if rule_id not in seen:
            seen.append(rule_id)
    return " ".join(rule_text(d.ruleset, r, params) for r in seen)


def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " en " + words[-1]


def _label_list(rs: Ruleset, cats: list[str]) -> str:
    return _and([rs.categories[c].label for c in cats])


def disclosure_summary(d: DisclosureDecision) -> str:
    rs = d.ruleset
    req = d.request
    allowed = [i for i in d.items if i.outcome == "allow"]
    denied = [i for i in d.items if i.outcome == "deny"]
    overleg = f" (regionaal overleg '{req.overleg}')" if req.overleg else ""
    head = (f"Vraag: mag {rs.parties[req.discloser].named} gegevens over een jongere van "
            f"{req.age} jaar delen met {rs.parties[req.recipient].named} voor "
            f"{rs.purposes[req.purpose].named}{overleg}?")
    parts = [head]
    if allowed:
        grounds = []
        for i in allowed:
            for g in i.grounds:
                if g not in grounds:
                    grounds.append(g)
        what = "Ja" if not denied else "Deels. U mag delen"
        parts.append(f"{what}: {_label_list(rs, [i.data for i in allowed])}, "
                     f"op grond van {_and([codes.GROUND_NL[g] for g in grounds])}.")
    if denied:
        reasons = []
        for i in denied:
            for r in i.reasons:
                if r not in reasons:
                    reasons.append(r)
        lead = "Nee, u mag niet delen" if not allowed else "U mag niet delen"
        parts.append(f"{lead}: {_label_list(rs, [i.data for i in denied])} "
                     f"({'; '.join(codes.REASON_NL[r] for r in reasons)}).")
    explained: list[str] = []
    for i in d.items:
        params = _params(d, i.data)
        for rule_id in i.rules:
            text = rule_text(rs, rule_id, params)
            if text not in explained:
                explained.append(text)
    parts.extend(explained)
    if d.obligations:
        todo = "; ".join(obligation_text(d, o) for o in d.obligations)
        parts.append(f"Wat u nu moet doen: {todo}.")
    return " ".join(parts)


def obligation_text(d: DisclosureDecision, code: str) -> str:
    """What an obligation asks of the professional. Under the meldcode, informing the parents
    or the youth is not done where it would endanger the child or another person."""
    if code == "INFORM_DATA_SUBJECT" and any("MELDRECHT" in i.grounds for i in d.items):
        return INFORM_MELDCODE_NL
    if code == "DOCUMENT_WEIGHING" and all(
            set(i.grounds) & _WEIGHED <= {"LEGAL_POWER"} for i in d.items):
        # a statutory power is only a ground once the weighing is on file
        return "bewaar de vastgelegde afweging bij het dossier"
    return OBLIGATION_NL[code]


def _rules_block(rs: Ruleset, ids) -> dict:
    out = {}
    for rule_id in ids:
        if rule_id in out:
            continue
        rule = rs.rules[rule_id]
        entry = {"title": rule.title, "citations": rule.citations.as_dict()}
        if rule.fg_judgement:
            entry["fg_judgement"] = True
        if rule.origin != "model-convenant":
            entry["origin"] = rule.origin
        out[rule_id] = entry
    return out


def _disclosure(d: DisclosureDecision, explain: bool) -> dict:
    items = []
    for i in d.items:
        entry = {
            "data": i.data,
            "outcome": i.outcome,
            "reasons": list(i.reasons),
            "grounds": list(i.grounds),
            "rules": list(i.rules),
            "explanation": item_explanation(d, i),
        }
        if explain and i.trace is not None:
            entry["trace"] = [s.as_dict() for s in i.trace]
        items.append(entry)
    out = {
        "kind": "disclosure",
        "outcome": d.outcome,
        "purpose": d.request.purpose,
        "items": items,
        "obligations": list(d.obligations),
        "explanation": disclosure_summary(d),
        "rules": _rules_block(d.ruleset, [r for i in d.items for r in i.rules]),
        "ruleset": d.ruleset.ref(),
    }
    if d.request.overleg:
        out["overleg"] = d.request.overleg
    return out


def _absence(d: AbsenceDecision) -> dict:
    req, rs = d.request, d.ruleset
    status = {
        "leerplicht": f"De leerling ({req.age} jaar) is leerplichtig.",
        "kwalificatieplicht": f"De leerling ({req.age} jaar) is kwalificatieplichtig "
                              "(nog geen startkwalificatie).",
        "rmc": f"De jongere ({req.age} jaar) is niet meer kwalificatieplichtig en heeft geen "
               "startkwalificatie.",
        "none": "",
    }[d.status]
    deadline = (f" binnen {d.deadline_working_days} werkdagen bij DUO (verzuimloket)"
                if d.duty == "mandatory" else "")
    text = " ".join(p for p in (status, f"{DUTY_NL[d.duty]}{deadline}.",
                                rule_text(rs, d.rule)) if p)
    return {
        "kind": "absence_report",
        "duty": d.duty,
        "deadline_working_days": d.deadline_working_days,
        "grounds": list(d.grounds),
        "rules": [d.rule],
        "explanation": text,
        "ruleset": rs.ref(),
    }


def _consent(d: ConsentDecision) -> dict:
    rs = d.ruleset
    who = " en ".join(WHO_NL[w] for w in d.required)
    verb = "geeft" if d.required == ("youth",) else "geven"  # 'de ouders' is plural
    text = f"Voor een jongere van {d.request.age} jaar {verb} {who} toestemming"
    return {
        "kind": "consent_required",
        "required": list(d.required),
        "rules": ["consent_required.who", d.rule],
        "explanation": f"{text}. {rule_text(rs, d.rule)}",
        "ruleset": rs.ref(),
    }


def dutch_date(day) -> str:
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def _retention(d: RetentionDecision) -> dict:
    rs = d.ruleset
    return {
        "kind": "retention",
        "record": d.request.record,
        "keep_until": d.keep_until.isoformat(),
        "term": d.term,
        "years": d.years,
        "rule": d.rule,
        "explanation": (f"{TERM_NL[d.term].capitalize()} {dutch_date(d.keep_until)} "
                        f"({d.years} jaar na {dutch_date(d.request.ended_on)}). "
                        f"{rule_text(rs, d.rule, {'jaren': str(d.years)})}"),
        "ruleset": rs.ref(),
    }
