"""Decisions as the contract's JSON, with Dutch explanations that cite the articles.

Rendering is separate from deciding: the engine names codes and rule ids; this module turns
them into text for the professional who asked. Text is made only when asked for.

A disclosure's texts are memoised per ruleset (`_Texts`, kept in the ruleset's memo beside
the engine's item decisions, so clearing the memo clears it too): a rule's text is a pure
function of the rule and of the few request facts its placeholders name, and an item's
explanation of its rules and those facts. The memo stores what `rule_text` returned the first
time, so it changes speed, never text.
"""

from __future__ import annotations

import contextlib
import string
from operator import itemgetter

from deelwijs.domain import labels
from deelwijs.domain.engine import (
    RESTRICTED,
    RESTRICTION_RULE,
    AbsenceDecision,
    ConsentDecision,
    Decision,
    DisclosureDecision,
    Item,
    RetentionDecision,
)
from deelwijs.domain.ruleset import Ruleset

_WEIGHED = frozenset({"VITAL_INTEREST", "CONFLICT_OF_DUTIES", "COMPATIBLE_PURPOSE",
                      "LEGAL_POWER"})
# A restriction of processing (AVG art. 18): the rule the engine names (engine.RESTRICTION_RULE)
# is the data subject's request, not a rule of the ruleset, so its words are here.
RESTRICTION_TITLE = "Beperking van de verwerking op verzoek van de betrokkene"
RESTRICTION_CITATIONS = (("avg", "art. 18 AVG"),)
_RESTRICTED_REASONS = (RESTRICTED,)


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
    """A rule's explanation with `params` filled in (left as written if they do not fit),
    followed by its citations."""
    rule = rs.rules[rule_id]
    text = rule.explanation
    if params:
        with contextlib.suppress(KeyError, IndexError, ValueError):
            text = text.format(**params)
    citations = rule.citations.text()
    return f"{text} ({citations})" if cite and citations else text


def restriction_text(request_id: int) -> str:
    """A restricted item's explanation: which request restricted it, and that nothing goes out
    while the restriction holds."""
    return (f"De verwerking van deze gegevens is beperkt op verzoek van de betrokkene (AVG art. "
            f"18, verzoek {request_id}): ze worden niet verstrekt zolang de beperking geldt.")


def _is_restricted(item: Item) -> bool:
    return item.reasons == _RESTRICTED_REASONS


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
    """The texts of an item's rules, each rule once, in order."""
    texts = _texts(d.ruleset)
    return texts.item(d, item, texts.facts(d))[1]


# The request facts a disclosure's texts depend on, by position: the category, the purpose,
# the discloser, the recipient, the age and the recipient's domain code. Each placeholder of
# `_params` is a function of one of them.
_FACT = {"categorie": 0, "doel": 1, "verstrekker": 2, "Verstrekker": 2, "ontvanger": 3,
         "Ontvanger": 3, "leeftijd": 4, "domein": 5}
_MEMO_KEY = ("render.texts",)  # never a situation key of the engine (those start with a word)
_TEXTS_LIMIT = 20_000  # entries per table before it is emptied (100,000 requests make ~1,400)


def _uses(explanation: str) -> tuple[int, ...] | None:
    """The facts (positions in `_Texts.facts`) a rule's formatted text depends on, or None
    when that cannot be told from the text (a conversion, a format spec, an index or an
    attribute in a placeholder): such a rule is formatted afresh every time."""
    try:
        fields = list(string.Formatter().parse(explanation))
    except ValueError:  # malformed: str.format fails the same way whatever the facts
        return ()
    used: set[int] = set()
    for _literal, name, spec, conversion in fields:
        if name is None:
            continue
        if spec or conversion or name not in _FACT:
            if name.isidentifier() and not spec and not conversion:
                return ()  # a name `_params` never gives: always the text as written
            return None
        used.add(_FACT[name])
    return tuple(sorted(used))


def _no_facts(facts: list) -> tuple:
    return ()


def _getter(positions: tuple[int, ...]):
    return itemgetter(*positions) if positions else _no_facts


class _Texts:
    """Memoised texts of one ruleset's disclosure answers (see the module's docstring)."""

    __slots__ = ("entries", "getters", "items", "named", "rs", "rules", "uses")

    def __init__(self, rs: Ruleset):
        self.rs = rs
        self.uses: dict[str, tuple[int, ...] | None] = {}
        self.getters: dict[tuple[str, ...], object] = {}  # rules of an item → key of its facts
        self.items: dict[tuple, tuple[tuple[str, ...], str]] = {}
        self.rules: dict[tuple, str] = {}
        self.named: dict[str, str] = {}
        self.entries: dict[str, tuple] = {}

    def facts(self, d: DisclosureDecision) -> list:
        req = d.request
        domain = (req.recipient_domain or self.rs.parties[req.recipient].default_domain
                  or "onbekend")
        return [None, req.purpose, req.discloser, req.recipient, str(req.age), domain]

    def _rule_uses(self, rule_id: str) -> tuple[int, ...] | None:
        uses = self.uses.get(rule_id, False)
        if uses is False:
            uses = self.uses[rule_id] = _uses(self.rs.rules[rule_id].explanation)
        return uses

    def item(self, d: DisclosureDecision, item: Item, facts: list) -> tuple[tuple[str, ...], str]:
        """(the texts of the item's rules, each rule once, in order; those joined by spaces)."""
        if item.reasons == _RESTRICTED_REASONS:  # the text names the request: not memoised
            text = restriction_text(dict(d.request.restricted)[item.data])
            return (text,), text
        rules = item.rules
        getter = self.getters.get(rules)
        if getter is None:
            positions: set[int] = set()
            for rule_id in rules:
                uses = self._rule_uses(rule_id)
                if uses is None:
                    getter = False
                    break
                positions.update(uses)
            else:
                getter = _getter(tuple(sorted(positions)))
            self.getters[rules] = getter
        facts[0] = item.data
        if getter is False:  # a rule whose text cannot be memoised
            return self._item_texts(d, item, facts)
        key = (rules, getter(facts))
        found = self.items.get(key)
        if found is None:
            if len(self.items) >= _TEXTS_LIMIT:
                self.items.clear()
            found = self.items[key] = self._item_texts(d, item, facts)
        return found

    def _item_texts(self, d: DisclosureDecision, item: Item,
                    facts: list) -> tuple[tuple[str, ...], str]:
        params = None
        out: list[str] = []
        seen: list[str] = []
        for rule_id in item.rules:
            if rule_id in seen:
                continue
            seen.append(rule_id)
            uses = self._rule_uses(rule_id)
            key = None if uses is None else (rule_id, *(facts[i] for i in uses))
            text = self.rules.get(key) if key is not None else None
            if text is None:
                if params is None:
                    params = _params(d, item.data)
                text = rule_text(self.rs, rule_id, params)
                if key is not None:
                    if len(self.rules) >= _TEXTS_LIMIT:
                        self.rules.clear()
                    self.rules[key] = text
            out.append(text)
        texts = tuple(out)
        return texts, " ".join(texts)

    def party(self, code: str) -> str:
        named = self.named.get(code)
        if named is None:
            named = self.named[code] = self.rs.parties[code].named
        return named

    def rule_entry(self, rule_id: str) -> dict:
        """A fresh entry of the answer's `rules` block."""
        if rule_id == RESTRICTION_RULE:
            return {"title": RESTRICTION_TITLE, "citations": dict(RESTRICTION_CITATIONS)}
        made = self.entries.get(rule_id)
        if made is None:
            rule = self.rs.rules[rule_id]
            made = self.entries[rule_id] = (
                rule.title, tuple(rule.citations.as_dict().items()), bool(rule.fg_judgement),
                rule.origin != "model-convenant", rule.origin)
        title, citations, fg_judgement, regional, origin = made
        entry = {"title": title, "citations": dict(citations)}
        if fg_judgement:
            entry["fg_judgement"] = True
        if regional:
            entry["origin"] = origin
        return entry


def _texts(rs: Ruleset) -> _Texts:
    texts = rs.memo.get(_MEMO_KEY)
    if texts is None or texts.rs is not rs:
        texts = rs.memo[_MEMO_KEY] = _Texts(rs)
    return texts


def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " en " + words[-1]


def _label_list(rs: Ruleset, cats: list[str]) -> str:
    return _and([rs.categories[c].label for c in cats])


def disclosure_summary(d: DisclosureDecision) -> str:
    texts = _texts(d.ruleset)
    facts = texts.facts(d)
    return _summary(d, texts, [texts.item(d, i, facts)[0] for i in d.items])


def _summary(d: DisclosureDecision, texts: _Texts, item_texts: list[tuple[str, ...]]) -> str:
    """The answer's explanation; `item_texts` are the texts of each item's rules.

    Restricted items (AVG art. 18) are left out of the question and its answer; the text of
    each follows at the end, one per item."""
    rs = d.ruleset
    req = d.request
    items: tuple[Item, ...] | list[Item] = d.items
    restricted: list[str] = []
    if req.restricted:
        restricted = [t[0] for i, t in zip(items, item_texts, strict=True) if _is_restricted(i)]
        kept = [(i, t) for i, t in zip(items, item_texts, strict=True) if not _is_restricted(i)]
        if not kept:
            return " ".join(restricted)
        items, item_texts = [i for i, _ in kept], [t for _, t in kept]
    allowed = [i for i in items if i.outcome == "allow"]
    denied = [i for i in items if i.outcome == "deny"]
    overleg = f" (regionaal overleg '{req.overleg}')" if req.overleg else ""
    head = (f"Vraag: mag {texts.party(req.discloser)} gegevens over een jongere van "
            f"{req.age} jaar delen met {texts.party(req.recipient)} voor "
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
                     f"op grond van {_and([labels.GROUND_CITED[g] for g in grounds])}.")
    if denied:
        reasons = []
        for i in denied:
            for r in i.reasons:
                if r not in reasons:
                    reasons.append(r)
        lead = "Nee, u mag niet delen" if not allowed else "U mag niet delen"
        parts.append(f"{lead}: {_label_list(rs, [i.data for i in denied])} "
                     f"({'; '.join(labels.REASON_PHRASE[r] for r in reasons)}).")
    # every rule's text once, in the order of the items and their rules (a rule repeated
    # within an item has the same text, so the items' own lists lose nothing)
    explained: list[str] = []
    for item_text in item_texts:
        for text in item_text:
            if text not in explained:
                explained.append(text)
    parts.extend(explained)
    if d.obligations:
        todo = "; ".join(obligation_text(d, o) for o in d.obligations)
        parts.append(f"Wat u nu moet doen: {todo}.")
    parts.extend(restricted)
    return " ".join(parts)


def obligation_text(d: DisclosureDecision, code: str) -> str:
    """What an obligation asks of the professional. Under the meldcode, informing the parents
    or the youth is not done where it would endanger the child or another person."""
    if code == "INFORM_DATA_SUBJECT" and any("MELDRECHT" in i.grounds for i in d.items):
        return labels.INFORM_MELDCODE_INSTRUCTION
    if code == "DOCUMENT_WEIGHING" and all(
            set(i.grounds) & _WEIGHED <= {"LEGAL_POWER"} for i in d.items):
        # a statutory power is only a ground once the weighing is on file
        return "bewaar de vastgelegde afweging bij het dossier"
    return labels.OBLIGATION_INSTRUCTION[code]


def _disclosure(d: DisclosureDecision, explain: bool) -> dict:
    texts = _texts(d.ruleset)
    facts = texts.facts(d)
    items = []
    item_texts = []
    block: dict[str, dict] = {}
    restricted = d.request.restricted
    for i in d.items:
        rule_texts, explanation = texts.item(d, i, facts)
        item_texts.append(rule_texts)
        entry = {
            "data": i.data,
            "outcome": i.outcome,
            "reasons": list(i.reasons),
            "grounds": list(i.grounds),
            "rules": list(i.rules),
            "explanation": explanation,
        }
        if explain and i.trace is not None:
            entry["trace"] = [s.as_dict() for s in i.trace]
        items.append(entry)
        if restricted and _is_restricted(i):
            continue  # its rule comes last (below)
        for rule_id in i.rules:
            if rule_id not in block:
                block[rule_id] = texts.rule_entry(rule_id)
    if restricted and any(_is_restricted(i) for i in d.items):
        block[RESTRICTION_RULE] = texts.rule_entry(RESTRICTION_RULE)
    out = {
        "kind": "disclosure",
        "outcome": d.outcome,
        "purpose": d.request.purpose,
        "items": items,
        "obligations": list(d.obligations),
        "explanation": _summary(d, texts, item_texts),
        "rules": block,
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
    text = " ".join(p for p in (status, f"{labels.ABSENCE_DUTY[d.duty]}{deadline}.",
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
    who = " en ".join(labels.CONSENTER[w] for w in d.required)
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
    return f"{day.day} {labels.MONTHS[day.month - 1]} {day.year}"


def _retention(d: RetentionDecision) -> dict:
    rs = d.ruleset
    return {
        "kind": "retention",
        "record": d.request.record,
        "keep_until": d.keep_until.isoformat(),
        "term": d.term,
        "years": d.years,
        "rule": d.rule,
        "explanation": (f"{labels.RETENTION_TERM[d.term].capitalize()} {dutch_date(d.keep_until)} "
                        f"({d.years} jaar na {dutch_date(d.request.ended_on)}). "
                        f"{rule_text(rs, d.rule, {'jaren': str(d.years)})}"),
        "ruleset": rs.ref(),
    }
