""""Mag ik dit delen?": the wizard's form, the request it makes, and the answer as a page shows it.

Pure: form values in, the contract's request and the engine's answer out. No account, no
database, nothing stored. The choices a form offers come from the ruleset (parties, overleg
names, categories per purpose, consent ages), the answer from the engine
(domain.contract.decide_payload, the one entry the CLI and the API use too), the words
from the ruleset, domain.render and domain.labels.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlencode

from deelwijs.domain import codes, labels
from deelwijs.domain.contract import decide_payload
from deelwijs.domain.engine import required_consenters
from deelwijs.domain.errors import RequestError
from deelwijs.domain.render import rule_text
from deelwijs.domain.ruleset import Ruleset
from deelwijs.rules import loader

# Checkboxes: (name, default, label). Their defaults are the contract's.
CONSENT_FLAGS = (
    ("written", True, "De toestemming is schriftelijk gegeven"),
    ("prior", True, "De toestemming is vooraf gegeven (vóór het overleg)"),
    ("withdrawn", False, "De toestemming is ingetrokken"),
)
EXCEPTION_FLAGS = (
    ("vital_interest", False, "Het leven of de gezondheid van de jongere is in acuut gevaar "
     "(vitaal belang)"),
    ("conflict_of_duties", False, "Conflict van plichten: zwijgen schaadt de jongere ernstig, "
     "en ik heb mijn afweging vastgelegd"),
    ("legal_duty", False, "Er geldt een wettelijke plicht om deze gegevens te verstrekken "
     "(bijvoorbeeld aan een gecertificeerde instelling)"),
    ("weighing_documented", False, "Ik gebruik een wettelijke bevoegdheid (bijvoorbeeld "
     "tegenover de Raad voor de Kinderbescherming) en heb de afweging vastgelegd"),
    ("compatible_purpose", False, "Het doel is verenigbaar met het doel waarvoor de gegevens "
     "zijn verzameld; dat is getoetst en vastgelegd"),
)
DETAIL_FLAGS = (
    ("anonymous", False, "De casus wordt anoniem besproken (zonder naam of andere gegevens "
     "waaraan de jongere te herkennen is)"),
    ("startkwalificatie", False, "De jongere heeft een startkwalificatie (havo-, vwo- of "
     "mbo-2-diploma)"),
    ("discloser_acceded", True, "Mijn organisatie heeft het toetredingsformulier getekend en "
     "bekendgemaakt (jeugdhulp, JGZ, huisarts)"),
    ("discloser_mandate", True, "Mijn schoolbestuur heeft het samenwerkingsverband schriftelijk "
     "gemachtigd (mandaat)"),
    ("recipient_acceded", True, "De ontvanger heeft het toetredingsformulier getekend en "
     "bekendgemaakt (jeugdhulp, JGZ, huisarts)"),
    ("recipient_mandate", True, "Het schoolbestuur van de ontvanger heeft het "
     "samenwerkingsverband schriftelijk gemachtigd (mandaat)"),
    ("bulk", False, "Het gaat om veel mensen tegelijk die nog niet in beeld zijn (lijsten, "
     "profilering)"),
    ("wams_in_force", False, "De Wams (Wet aanpak meervoudige problematiek sociaal domein) is "
     "van kracht"),
)
FLAGS = CONSENT_FLAGS + EXCEPTION_FLAGS + DETAIL_FLAGS
FLAG_DEFAULTS = {name: default for name, default, _ in FLAGS}

DEFAULTS: dict[str, object] = {
    "ruleset": loader.MODEL_ID, "discloser": "school", "hat": "", "recipient": "jeugdhulp",
    "age": "", "purpose": "signalering", "data": [], "parents": "none", "youth": "none",
    "task": "both", "recipient_domain": "", "help_request_domains": [], **FLAG_DEFAULTS,
}
LISTS = ("data", "help_request_domains")
SUBMITTED = "_form"  # every form carries it: an absent checkbox then means "not ticked"

# where a problem of the engine's parser shows on the form, and how it is said there
FIELD_OF_PATH = {
    "request.discloser.party": "discloser", "request.discloser.hat": "hat",
    "request.recipient.party": "recipient", "request.recipient.domain": "recipient_domain",
    "request.subject.age": "age", "request.purpose": "purpose", "request.data": "data",
    "request.task": "task", "request.consent.parents": "parents",
    "request.consent.youth": "youth", "request.context.help_request_domains":
    "help_request_domains",
}
FRIENDLY = {
    "age": "Vul de leeftijd van de jongere in: een heel getal van 0 tot en met 30.",
    "data": "Kies ten minste één soort gegevens.",
    "purpose": "Kies een overleg of route uit de lijst.",
    "discloser": "Kies uit de lijst voor wie u werkt.",
    "recipient": "Kies uit de lijst met wie u wilt delen.",
}
FIELD_ORDER = ("ruleset", "discloser", "hat", "recipient", "age", "purpose", "data",
               "parents", "youth", "task", "recipient_domain", "help_request_domains")


@dataclass
class Form:
    """The form as filled in (strings, lists of strings and booleans) with its problems."""

    values: dict[str, object]
    errors: dict[str, str] = field(default_factory=dict)

    def get(self, name: str):
        return self.values[name]


def rulesets() -> list[Ruleset]:
    return [loader.resolve(rid) for rid in loader.builtin_ids()]


def ruleset_for(form: Form) -> Ruleset:
    name = str(form.values["ruleset"])
    return loader.resolve(name) if loader.builtin_path(name) is not None else loader.model()


def read(params: Mapping, submitted: bool | None = None) -> Form:
    """The form from posted or query parameters (a MultiDict: getlist for the lists).
    Without the form's marker the defaults fill what is absent (a first visit, or a link that
    names only some fields)."""
    if submitted is None:
        submitted = SUBMITTED in params
    values: dict[str, object] = {}
    for name, default in DEFAULTS.items():
        if name in LISTS:
            values[name] = [str(v) for v in params.getlist(name)] if (
                submitted or name in params) else list(default)
        elif name in FLAG_DEFAULTS:
            values[name] = (params.get(name) in ("1", "on", "true", "ja")) if (
                submitted or name in params) else default
        else:
            raw = params.get(name)
            values[name] = str(raw).strip() if raw is not None else default
    form = Form(values)
    if loader.builtin_path(str(values["ruleset"])) is None:
        form.errors["ruleset"] = "Kies een van de rulesets uit de lijst."
        values["ruleset"] = loader.MODEL_ID
    rs = ruleset_for(form)
    purpose = str(values["purpose"])
    if model_purpose(rs, purpose) is None:  # another ruleset's overleg name: its purpose
        for other in rulesets():
            if purpose in other.overleg_types:
                values["purpose"] = other.overleg_types[purpose]
                break
    return form


def model_purpose(rs: Ruleset, purpose: str) -> str | None:
    if purpose in rs.purposes:
        return purpose
    return rs.overleg_types.get(purpose)


def offered_categories(rs: Ruleset, purpose: str) -> list[str]:
    """The categories the form offers for a purpose: what the purpose does not allow is not
    even offered (data minimisation). A legal route offers what its first entry names (or
    every category). In the contract's order. Unknown purpose: every category."""
    model = model_purpose(rs, purpose)
    if model is None:
        return [c for c in codes.CATEGORIES if c in rs.categories]
    p = rs.purposes[model]
    if p.route != "legal":
        return [c for c in codes.CATEGORIES if c in p.categories]
    cats = rs.routes[model][0].categories
    return [c for c in codes.CATEGORIES if cats is None or c in cats]


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def choices(rs: Ruleset, form: Form) -> dict:
    """What the form offers under this ruleset, for the template."""
    parties = [(code, _cap(rs.parties[code].label)) for code in codes.PARTIES
               if code in rs.parties]
    groups = []
    for route, title in labels.ROUTE_HEADING.items():
        options = [(code, _cap(rs.purposes[code].label)) for code in codes.PURPOSES
                   if code in rs.purposes and rs.purposes[code].route == route]
        groups.append((title, options))
        if route == "covenant" and rs.overleg_types:
            groups.append((f"Overleggen in deze regio ({rs.title})", [
                (name, f"{name}: {rs.purposes[target].label}")
                for name, target in rs.overleg_types.items()]))
    offered = offered_categories(rs, str(form.values["purpose"]))
    chosen = [c for c in form.values["data"] if c in rs.categories]
    shown = offered + [c for c in chosen if c not in offered]
    categories = {
        side: [(c, _cap(rs.categories[c].label), rs.categories[c].special, c in offered)
               for c in shown if rs.categories[c].outside == (side == "buitenkant")]
        for side in ("buitenkant", "binnenkant")
    }
    c = rs.consent
    consent_hint = (f"Onder {c.youth_and_parents_from} jaar geven de ouders met gezag "
                    f"toestemming; van {c.youth_and_parents_from} tot en met "
                    f"{c.youth_alone_from - 1} jaar de ouders met gezag én de jongere; vanaf "
                    f"{c.youth_alone_from} jaar de jongere zelf.")
    return {
        "rulesets": [(r.id, f"{r.title} ({r.id}, versie {r.version})") for r in rulesets()],
        "parties": parties, "hats": list(labels.HAT_CHOICE.items()), "purpose_groups": groups,
        "categories": categories, "consent_labels": list(labels.CONSENT_ANSWER.items()),
        "consent_hint": consent_hint, "tasks": list(labels.TASK_CHOICE.items()),
        "domains": [(code, rs.domains.get(code, code)) for code in codes.DOMAINS],
        "consent_flags": CONSENT_FLAGS, "exception_flags": EXCEPTION_FLAGS,
        "detail_flags": DETAIL_FLAGS, "hat_wearers": [rs.parties[p].label
                                                      for p in codes.HAT_WEARERS],
        # a section with something filled in (other than its defaults) is shown open
        "open_exceptions": any(form.values[name] != default
                               for name, default, _ in EXCEPTION_FLAGS),
        "open_details": (any(form.values[name] != default for name, default, _ in DETAIL_FLAGS)
                         or form.values["task"] != "both" or bool(form.values["recipient_domain"])
                         or bool(form.values["help_request_domains"])),
    }


def to_request(form: Form) -> dict:
    """The contract's request object for the form: only what differs from the contract's
    defaults, as a person writing it for `deelwijs decide` would."""
    v = form.values
    discloser: dict = {"party": v["discloser"]}
    if v["hat"]:
        discloser["hat"] = v["hat"]
    for flag in ("acceded", "mandate"):
        if not v[f"discloser_{flag}"]:
            discloser[flag] = False
    recipient: dict = {"party": v["recipient"]}
    for flag in ("acceded", "mandate"):
        if not v[f"recipient_{flag}"]:
            recipient[flag] = False
    if v["recipient_domain"]:
        recipient["domain"] = v["recipient_domain"]
    subject: dict = {}
    age = str(v["age"])
    if age:
        subject["age"] = int(age) if age.isdigit() and len(age) < 4 else age
    for flag in ("anonymous", "startkwalificatie"):
        if v[flag]:
            subject[flag] = True
    request: dict = {"discloser": discloser, "recipient": recipient, "subject": subject,
                     "purpose": v["purpose"]}
    if v["task"] != "both":
        request["task"] = v["task"]
    request["data"] = list(v["data"])
    consent: dict = {}
    for who in ("parents", "youth"):
        if v[who] != "none":
            consent[who] = v[who]
    for name, default, _ in CONSENT_FLAGS:
        if v[name] != default:
            consent[name] = v[name]
    if consent:
        request["consent"] = consent
    exceptions: dict = {}
    for name, _, _ in EXCEPTION_FLAGS:
        if v[name]:
            exceptions[name] = {"documented": True} if name == "conflict_of_duties" else True
    if exceptions:
        request["exceptions"] = exceptions
    context: dict = {}
    if v["help_request_domains"]:
        context["help_request_domains"] = list(v["help_request_domains"])
    for flag in ("bulk", "wams_in_force"):
        if v[flag]:
            context[flag] = True
    if context:
        request["context"] = context
    return request


def query(form: Form, **changes) -> str:
    """The form as query parameters (the "change your answers" link, and a prefilled
    question): codes, an age and ticks only, never anything that names a person."""
    values = {**form.values, **changes}
    pairs: list[tuple[str, str]] = [(SUBMITTED, "1")]
    for name in DEFAULTS:
        value = values[name]
        if name in LISTS:
            pairs.extend((name, str(item)) for item in value)
        elif name in FLAG_DEFAULTS:
            if value:
                pairs.append((name, "1"))
        elif value != "":
            pairs.append((name, str(value)))
    return urlencode(pairs)


def decide(form: Form) -> tuple[dict, dict] | None:
    """(request, answer), or None with the form's errors filled in."""
    if form.errors:
        return None
    rs = ruleset_for(form)
    request = to_request(form)
    try:
        return request, decide_payload(request, rs)
    except RequestError as exc:
        for p in exc.problems:
            base = p.path.split("[", 1)[0] if p.path.startswith("request.data") else p.path
            name = FIELD_OF_PATH.get(base, "")
            if p.code == "hat_not_allowed":
                message = (f"Een pet hoort alleen bij een wijkteamprofessional (partij "
                           f"{' of '.join(rs.parties[x].label for x in codes.HAT_WEARERS)}). "
                           "Kies 'Geen pet', of kies voor wie u werkt.")
            else:
                message = FRIENDLY.get(name) or _cap(p.message)
            form.errors.setdefault(name, message)
        return None


def _flips(request: dict, rs: Ruleset, answer: dict, change) -> list[str]:
    """The categories that a change to the request would turn from "no" into "yes"."""
    other = copy.deepcopy(request)
    change(other)
    try:
        changed = decide_payload(other, rs)
    except RequestError:
        return []
    before = {i["data"]: i["outcome"] for i in answer["items"]}
    return [i["data"] for i in changed["items"]
            if i["outcome"] == "allow" and before.get(i["data"]) == "deny"]


def _labels(rs: Ruleset, cats: list[str]) -> str:
    names = [rs.categories[c].label for c in cats]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " en " + names[-1]


def next_steps(form: Form, request: dict, answer: dict) -> list[dict]:
    """What to do next: ask consent from whom, record the weighing, discuss anonymously, use
    the meldcode; each only where it would change something (the engine is asked again with
    that change) or where it is the safe way for a worry about safety."""
    rs = ruleset_for(form)
    steps: list[dict] = []
    denied = [i for i in answer["items"] if i["outcome"] == "deny"]
    age = request["subject"]["age"]
    if denied:
        who = required_consenters(age, rs)
        names = " en ".join(labels.CONSENTER[w] for w in who)

        def with_consent(r: dict) -> None:
            r["consent"] = {w: "given" for w in who}

        flipped = _flips(request, rs, answer, with_consent)
        if flipped:
            rule = {("parents",): "consent.under_12", ("parents", "youth"): "consent.age_12_15",
                    ("youth",): "consent.from_16"}[who]
            steps.append({"key": "toestemming", "title": f"Vraag toestemming aan {names}",
                          "text": f"Met schriftelijke toestemming vooraf van {names} mag u "
                                  f"ook delen: {_labels(rs, flipped)}. "
                                  f"{rule_text(rs, rule)}"})

        def with_weighing(r: dict) -> None:
            r.setdefault("exceptions", {})["weighing_documented"] = True

        flipped = _flips(request, rs, answer, with_weighing)
        if flipped:
            steps.append({"key": "afweging", "title": "Leg uw afweging vast",
                          "text": "U hebt hier een wettelijke bevoegdheid, geen plicht. Weeg "
                                  "af of verstrekken noodzakelijk is en leg die afweging "
                                  "schriftelijk vast; daarna mag u delen: "
                                  f"{_labels(rs, flipped)}."})

        def with_conflict(r: dict) -> None:
            r.setdefault("exceptions", {})["conflict_of_duties"] = {"documented": True}

        flipped = _flips(request, rs, answer, with_conflict)
        if flipped:
            steps.append({"key": "conflict", "title": "Alleen bij een conflict van plichten",
                          "text": "Zonder toestemming geldt uw beroepsgeheim. Alleen als "
                                  "zwijgen de jongere ernstig schaadt en er geen andere weg "
                                  "is, mag u doorbreken: weeg dat af, overleg met een collega "
                                  "of aandachtsfunctionaris en leg de afweging vast. Dan mag "
                                  f"u delen: {_labels(rs, flipped)}."})
        if not request["subject"].get("anonymous") and not request.get("context", {}).get(
                "bulk"):
            steps.append({"key": "anoniem", "title": "Bespreek de casus anoniem",
                          "text": "Zonder naam of andere gegevens waaraan de jongere te "
                                  "herkennen is, mag dat altijd. "
                                  f"{rule_text(rs, 'anonymous.no_personal_data')}"})
    model = model_purpose(rs, str(request["purpose"]))
    worried = "veiligheid" in request["data"] or request.get("exceptions", {}).get(
        "vital_interest")
    if worried and model != "meldcode":
        link = "/mag-ik-dit-delen?" + query(form, purpose="meldcode", recipient="veilig_thuis",
                                            data=["veiligheid"])
        steps.append({"key": "meldcode", "title": "Zorgen over de veiligheid? Gebruik de "
                      "meldcode",
                      "text": "Vermoedt u huiselijk geweld of kindermishandeling, volg dan de "
                              "stappen van de meldcode. U mag dan melden bij Veilig Thuis "
                              "(meldrecht), ook zonder toestemming. Bij acuut gevaar: bel 112.",
                      "link": link, "link_text": "Wat mag ik melden bij Veilig Thuis?"})
    return steps


def obligations(answer: dict) -> list[str]:
    meldrecht = any("MELDRECHT" in i["grounds"] for i in answer["items"])
    return [labels.INFORM_MELDCODE_INSTRUCTION if code == "INFORM_DATA_SUBJECT" and meldrecht
            else labels.OBLIGATION_INSTRUCTION[code] for code in answer["obligations"]]


def answer_view(form: Form, request: dict, answer: dict) -> dict:
    """The answer as the page shows it."""
    rs = ruleset_for(form)
    items = []
    for i in answer["items"]:
        items.append({
            "code": i["data"],
            "label": _cap(rs.categories[i["data"]].label),
            "allowed": i["outcome"] == "allow",
            "verdict": labels.OUTCOME_VERDICT[i["outcome"]][0],
            "grounds": [labels.GROUND_CITED.get(g, g) for g in i["grounds"]],
            "reasons": [labels.REASON_PHRASE.get(r, r) for r in i["reasons"]],
            "explanation": i["explanation"],
            "rules": [{"id": r, "title": answer["rules"][r]["title"],
                       "citations": list(answer["rules"][r]["citations"].values()),
                       "fg": answer["rules"][r].get("fg_judgement", False)}
                      for r in dict.fromkeys(i["rules"])],
        })
    v = form.values
    purpose = str(v["purpose"])
    model = model_purpose(rs, purpose)
    purpose_label = (f"{purpose} ({rs.purposes[model].label})" if purpose != model
                     else rs.purposes[model].label)
    hat = f", met de pet {labels.HAT_CHOICE[str(v['hat'])].lower()}" if v["hat"] else ""
    question = (f"U werkt voor {rs.parties[str(v['discloser'])].named}{hat} en wilt gegevens "
                f"over een jongere van {request['subject']['age']} jaar delen met "
                f"{rs.parties[str(v['recipient'])].named}, voor {purpose_label}.")
    return {
        "outcome": answer["outcome"],
        "headline": labels.OUTCOME_VERDICT[answer["outcome"]][1],
        "question": question,
        "items": items,
        "obligations": obligations(answer),
        "steps": next_steps(form, request, answer),
        "ruleset": {"id": rs.id, "version": rs.version, "title": rs.title,
                    "digest": answer["ruleset"]["digest"]},
        "explanation": answer["explanation"],
    }
