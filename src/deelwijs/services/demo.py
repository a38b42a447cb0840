"""A synthetic demo region: generated names, BSNs that pass the 11-proef but start with 9999
(a range not issued to people), consent in every state, cases of every purpose, and one demo
account per role (PERSONAS) linked to that data.

Idempotent: running it twice leaves one demo region.

The personas' passwords and second-factor secrets are derived from their usernames
(`password_of`, `totp_secret_of`): they are public, printed by `deelwijs start`, and only for
synthetic data. `code` gives the current TOTP code of a demo account, and refuses every
account whose secret is not the public demo secret of its name (so never a real one).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import random
from collections.abc import Callable
from dataclasses import dataclass

import pyotp
from sqlalchemy import select

from deelwijs.domain import codes
from deelwijs.domain.consent import age_on
from deelwijs.domain.engine import required_consenters
from deelwijs.services import access, accounts, rulesets
from deelwijs.services.app import App
from deelwijs.services.casus import cases, consent, disclosures, youths
from deelwijs.services.context import Actor, unit
from deelwijs.services.covenant import registry
from deelwijs.services.errors import Invalid, Refused
from deelwijs.services.log import audit
from deelwijs.storage import orm

REGION = "demo"
FIRST = ("Sem", "Noah", "Liam", "Lucas", "Finn", "Daan", "Levi", "Milan", "Emma", "Julia",
         "Mila", "Tess", "Sophie", "Zoë", "Sara", "Nora", "Yara", "Fenna", "Ayoub", "Mohammed",
         "Fatima", "Lina", "Jesse", "Bram", "Saar", "Evi", "Luuk", "Noor", "Ravi", "Ilse")
LAST = ("de Vries", "Jansen", "van den Berg", "Bakker", "Visser", "Smit", "Meijer", "de Boer",
        "Mulder", "de Groot", "Bos", "Vos", "Peters", "Hendriks", "van Leeuwen", "Dekker",
        "Brouwer", "de Wit", "Dijkstra", "Smits", "El Amrani", "Yilmaz", "Öztürk", "Kramer")
PLACES = ("De Linde", "Het Baken", "De Regenboog", "Het Anker", "De Wilgen", "Zonnewijzer",
          "De Horizon", "Het Palet", "De Vlinder", "Kompas", "De Bron", "Het Kofschip",
          "De Sterrenwacht", "De Fontein", "Duinzicht", "Het Veen", "De Esch", "Maasoever",
          "Rietland", "Polderweide")
PARTY_NAMES = {
    "school": "Stichting Onderwijs {p}",
    "swv": "Samenwerkingsverband Passend Onderwijs {p}",
    "leerplicht": "Leerplicht {p}",
    "gemeente": "Gemeente {p}",
    "jeugdhulp": "Jeugdhulp {p}",
    "jgz": "JGZ {p}",
    "huisarts": "Huisartsenpraktijk {p}",
    "veilig_thuis": "Veilig Thuis {p}",
    "gi": "Jeugdbescherming {p}",
    "raad": "Raad voor de Kinderbescherming, locatie {p}",
    "kinderopvang": "Kinderopvang {p}",
    "derde": "Sportvereniging {p}",
}
GEMEENTE_DOMAINS = ("jeugd", "wmo", "participatie", "schulden", "wonen", "jeugd", "onderwijs")
SYNTHETIC_BSNS = 9091  # how many numbers pass the 11-proef and start with 9999
# the demo region's controller and FG, as a parent's inzage names them: synthetic (a postcode
# below 1000 is never issued, the .example domain is reserved, the number is not in use)
CONTROLLER = {
    "controller_name": "Samenwerkingsverband Demoregio (synthetisch)",
    "controller_address": "Postbus 0000\n0000 AA Demostad",
    "controller_oin": "00000099000000000000",  # 20 digits, the 99 series is not issued
    "fg_name": "F. de Voorbeeld",
    "fg_email": "fg@demoregio.example",
    "fg_phone": "+31 (0)30 000 0000",
}


@dataclass(frozen=True)
class Persona:
    """One demo account: its username, kind and role (in Dutch, as `deelwijs start` prints
    it)."""

    username: str
    kind: str
    role: str

    @property
    def password(self) -> str:
        return password_of(self.username)

    @property
    def second_factor(self) -> bool:
        return self.kind in accounts.SECOND_FACTOR_REQUIRED


# one per role, in the order `deelwijs start` prints them
PERSONAS = (
    Persona("ib", accounts.PROFESSIONAL, "intern begeleider (school)"),
    Persona("leerplicht", accounts.PROFESSIONAL, "leerplichtambtenaar"),
    Persona("wijkteam", accounts.PROFESSIONAL, "wijkteamer (jeugdhulp) met twee petten"),
    Persona("fg", accounts.FG, "privacyfunctionaris (FG) van de demoregio"),
    Persona("beheer", accounts.ADMIN, "beheerder van de demoregio"),
    Persona("ouder", accounts.PARENT, "ouder met gezag van een jongere onder de 16"),
    Persona("jongere", accounts.YOUTH, "jongere van 16 of ouder (beslist zelf)"),
)
BY_USERNAME = {p.username: p for p in PERSONAS}


def password_of(username: str) -> str:
    """A demo persona's fixed password (public: demo data only)."""
    return f"demo-wachtwoord-{username}"


def totp_secret_of(username: str) -> str:
    """A demo persona's fixed TOTP secret (public: demo data only), in base32."""
    raw = hashlib.sha256(f"deelwijs demo totp {username}".encode()).digest()[:20]
    return base64.b32encode(raw).decode("ascii")


def synthetic_bsn(rnd: random.Random) -> str:
    """A nine-digit number that passes the 11-proef and starts with 9999."""
    while True:
        digits = [9, 9, 9, 9, *(rnd.randint(0, 9) for _ in range(4))]
        total = sum(d * w for d, w in zip(digits, range(9, 1, -1), strict=True))
        last = total % 11
        if last < 10:
            return "".join(map(str, [*digits, last]))


def exists(app: App) -> bool:
    with app.transaction() as s:
        return s.scalars(select(orm.Region).where(orm.Region.code == REGION)).first() is not None


def build(app: App, today: dt.date, youths_n: int = 200, per_type: int = 20, seed: int = 7,
          progress: Callable[[int], None] | None = None) -> dict:
    """Fill the database with the demo region. Returns counts. Does nothing if it exists.

    One transaction: an interrupted build leaves nothing behind, so the next run starts over
    instead of finding half a region."""
    if exists(app):
        return {"created": False}
    if youths_n > SYNTHETIC_BSNS:
        raise Invalid("too_many", f"de demo heeft BSN's voor ten hoogste {SYNTHETIC_BSNS} "
                      "jongeren", "youths")
    rnd = random.Random(seed)
    tick = progress or (lambda n: None)
    start = today - dt.timedelta(days=400)
    with app.transaction() as s:
        u = unit(app, s, today=today)  # the administrator
        region = registry.create_region(u, REGION, "Demoregio (synthetisch)", **CONTROLLER)
        version = registry.activate_ruleset(u, region, "voorbeeldregio", start)
        orgs: dict[str, list[orm.Organisation]] = {}
        for party in codes.PARTIES:
            for i in range(per_type):
                place = PLACES[i % len(PLACES)]
                org = registry.create_organisation(
                    u, region, party, PARTY_NAMES[party].format(p=place),
                    kvk=f"{rnd.randint(10000000, 99999999)}",
                    domain=GEMEENTE_DOMAINS[i % len(GEMEENTE_DOMAINS)]
                    if party == "gemeente" else None)
                orgs.setdefault(party, []).append(org)
        tick(1)
        pros: dict[int, list[orm.Professional]] = {}
        functions = {"school": ("intern begeleider", []), "swv": ("consulent", []),
                     "leerplicht": ("leerplichtambtenaar", []),
                     "gemeente": ("consulent sociaal domein", ["toeleiding", "coordinatie"]),
                     "jeugdhulp": ("wijkteamer", ["toeleiding", "hulpverlening"]),
                     "jgz": ("jeugdverpleegkundige", [])}
        for party, group in orgs.items():
            function, hats = functions.get(party, ("medewerker", []))
            for org in group:
                sig = registry.add_signatory(u, org, _name(rnd), "bestuurder")
                pros[org.id] = [registry.create_professional(u, org, _name(rnd), function, hats)
                                for _ in range(2)]
                if party in ("swv", "gemeente", "leerplicht"):
                    registry.sign_covenant(u, org, version, start, sig)
        for i, school in enumerate(orgs["school"]):
            swv = orgs["swv"][i % len(orgs["swv"])]
            mandate = registry.grant_mandate(u, school, swv, start, f"MACHT-{school.id:04d}")
            if i % 10 == 9:  # a few boards revoked their mandate
                registry.revoke_mandate(u, mandate.id, start + dt.timedelta(days=200))
            else:
                registry.sign_covenant(u, swv, version, start + dt.timedelta(days=1),
                                       on_behalf_of=school)
        tick(1)
        counts = {"youths": 0, "cases": 0, "disclosures": 0, "consents": 0}
        used: set[str] = set()  # BSNs given out: a region holds each BSN once
        made = []
        for n in range(youths_n):
            made.append(_youth(app, s, rnd, n, orgs, pros, today, counts, used))
            tick(1)
        _personas(u, region, made, pros)
        counts["accounts"] = len(PERSONAS)
        audit.checkpoint_all(s, app.keys, [region.id])  # no entry of the demo left uncovered
    counts["created"] = True
    counts["organisations"] = sum(len(v) for v in orgs.values())
    return counts


def _personas(u, region: orm.Region, made: list[dict], pros: dict) -> None:
    """The demo accounts, linked to the data just made: a parent with gezag of a youth under
    16 (from 12 if there is one) whose case has that youth; the intern begeleider who opened
    that case, and the leerplichtambtenaar and the wijkteamer of two of its partners; a youth
    of 16 or 17 (else the oldest); the region's FG and administrator, with the public demo
    TOTP secret already confirmed."""
    with_youth = [m for m in made if m["case"].youth_id is not None] or made
    child = next((m for m in with_youth if 12 <= m["age"] < 16), None) or next(
        (m for m in with_youth if m["age"] < 16), with_youth[0])
    grown = next((m for m in made if 16 <= m["age"] < 18), None) or next(
        (m for m in made if m["age"] >= 16), max(made, key=lambda m: m["age"]))
    by_party = {org.party: org for org in child["partners"]}
    ib = pros[child["school"].id][0]
    leerplicht = pros[by_party["leerplicht"].id][0]
    wijkteam = pros[by_party["jeugdhulp"].id][0]
    links = {
        "ib": dict(professional_id=ib.id, display_name=ib.name),
        "leerplicht": dict(professional_id=leerplicht.id, display_name=leerplicht.name),
        "wijkteam": dict(professional_id=wijkteam.id, display_name=wijkteam.name),
        "fg": dict(region_id=region.id, display_name=CONTROLLER["fg_name"]),
        "beheer": dict(region_id=region.id, display_name="Beheerder Demoregio"),
        "ouder": dict(guardian_id=child["guardian"].id, display_name=child["guardian_name"]),
        "jongere": dict(youth_id=grown["youth"].id, display_name=grown["name"]),
    }
    now = accounts.utcnow()
    for persona in PERSONAS:
        account = accounts.create(u, username=persona.username, kind=persona.kind,
                                  password=persona.password, **links[persona.username])
        if persona.second_factor:
            account.totp_sealed = u.keys.seal(totp_secret_of(persona.username))
            account.totp_confirmed_at = now


def personas(app: App) -> list[dict]:
    """The demo accounts as `deelwijs start` prints them: username, password, name, role,
    whether a code is asked. Empty when the demo region has none (made before it had
    personas)."""
    shown = []
    with app.transaction() as s:
        for persona in PERSONAS:
            account = accounts.by_username(s, persona.username)
            if account is None or not _is_demo(s, account):
                continue
            if account.professional_id is not None:
                pro = s.get(orm.Professional, account.professional_id)
                org = s.get(orm.Organisation, pro.organisation_id)
                who = f"{account.display_name}, {pro.function} bij {org.name}" + (
                    f" (petten: {', '.join(pro.hats)})" if pro.hats else "")
            else:
                who = f"{account.display_name}, {persona.role}"
            shown.append({"username": persona.username, "password": persona.password,
                          "name": who, "role": persona.role, "kind": persona.kind,
                          "second_factor": account.totp_confirmed_at is not None})
    return shown


def _is_demo(s, account: orm.Account) -> bool:
    region = s.get(orm.Region, account.region_id) if account.region_id else None
    return region is not None and region.code == REGION


def code(app: App, username: str, now: dt.datetime | None = None) -> tuple[str, int]:
    """The current TOTP code of a demo persona and the seconds it stays valid. Refused for
    every other account: only a demo account of the demo region whose secret is the public
    demo secret of its name has a code anyone may see."""
    name = (username or "").strip().lower()
    persona = BY_USERNAME.get(name)
    known = " en ".join(p.username for p in PERSONAS if p.second_factor)
    if persona is None:
        raise Refused("not_demo", f"'{username}' is geen demo-account; een code geeft dit "
                      f"alleen voor {known}", "username")
    with app.transaction() as s:
        account = accounts.by_username(s, name)
        sealed = account.totp_sealed if account is not None and _is_demo(s, account) else None
        secret = app.keys.unseal(sealed) if sealed else None
    if secret is None and not persona.second_factor:
        raise Refused("not_demo", f"{name} logt in zonder code; alleen {known} hebben een "
                      "tweede stap", "username")
    if secret != totp_secret_of(name):
        raise Refused("not_demo", f"'{name}' is hier geen demo-account met de openbare "
                      "democode (deelwijs demo maakt de demo-accounts)", "username")
    at = (now or accounts.utcnow()).replace(tzinfo=dt.UTC)
    totp = pyotp.TOTP(secret)
    left = totp.interval - int(at.timestamp()) % totp.interval
    return totp.at(at), left


def _name(rnd: random.Random) -> str:
    return f"{rnd.choice(FIRST)} {rnd.choice(LAST)}"


def _youth(app: App, s, rnd, n, orgs, pros, today, counts, used: set[str]) -> dict:
    """One youth with parents, consent, a case, a meeting and disclosures; what the
    personas are chosen from."""
    region = s.scalars(select(orm.Region).where(orm.Region.code == REGION)).one()
    age = rnd.randint(4, 19)
    birth = today - dt.timedelta(days=age * 365 + rnd.randint(0, 364))
    family = rnd.choice(LAST)
    school = rnd.choice(orgs["school"])
    parents = [{"name": f"{rnd.choice(FIRST)} {family}", "relation": "moeder", "gezag": True}]
    if rnd.random() < 0.8:
        parents.append({"name": f"{rnd.choice(FIRST)} {family}", "relation": "vader",
                        "gezag": rnd.random() < 0.85})
    bsn = synthetic_bsn(rnd)
    while bsn in used:  # only ~9,000 such numbers: 200 random draws would often repeat one
        bsn = synthetic_bsn(rnd)
    used.add(bsn)
    # a havo, vwo or mbo-2 diploma from 17: two in three of the older youths hold one, the
    # others are under kwalificatieplicht or the RMC task (from n: the random draws stay as
    # they were)
    diploma = age >= 17 and n % 3 != 0
    youth_name = f"{rnd.choice(FIRST)} {family}"
    youth = youths.create_youth(unit(app, s, today=today), region,
                                youth_name, birth, bsn=bsn, school=school,
                                guardians=parents, startkwalificatie=diploma)
    counts["youths"] += 1
    purposes = ("signalering", "thuiszitters", "een_plan", "oza", "toeleiding",
                "gecoordineerde_aanpak", "eigen_taak")
    purpose = purposes[n % len(purposes)]
    opened = today - dt.timedelta(days=rnd.randint(30, 300))
    partners = [rnd.choice(orgs["jeugdhulp"]), rnd.choice(orgs["jgz"]),
                rnd.choice(orgs["gemeente"]), rnd.choice(orgs["leerplicht"])]
    # a board whose mandate was revoked is no covenant party today: it opens no case
    # (access.require_party); leerplicht opens it instead
    party = s.scalar(select(access.party_in_force(school.id, today)))
    creator = pros[school.id][0] if party else pros[partners[3].id][0]
    as_creator = unit(app, s, Actor.of(creator, region.id), today)
    state = n % 6  # consent in every state
    meeting_day = opened + dt.timedelta(days=14)
    consent_day = opened + dt.timedelta(days=3 if state != 4 else 20)
    # only whose consent the youth's age asks for that day: under 12 the parents with gezag,
    # from 12 the parents and the youth, from 16 the youth alone (consent.check_who_answers)
    counts_for = required_consenters(age_on(birth, consent_day),
                                     rulesets.in_force(s, region.id, consent_day))
    answering = ([("parent", g) for g in youth.guardians if g.has_gezag]
                 if "parents" in counts_for else []) + \
        ([("youth", None)] if "youth" in counts_for else [])
    for role, who in answering:
        if state == 5:
            break  # no consent recorded at all
        answer = "refused" if state == 1 and role == "youth" else "given"
        rec = consent.record(as_creator, youth, role, answer, [purpose, "eigen_taak"],
                             list(codes.CATEGORIES[:11]), consent_day,
                             written=state != 3, document_ref=f"TOEST-{youth.id}-{role}"
                             if state != 3 else None,
                             guardian_id=who.id if who else None)
        counts["consents"] += 1
        if state == 2:
            consent.change(as_creator, rec.series, 1, "withdrawn",
                           min(meeting_day + dt.timedelta(days=30), today))
    case = cases.open_case(as_creator, app.ruleset(
        app.active_ruleset(s, region.id)[0]), region, f"Casus {n + 1}", purpose,
        [p.id for p in partners], opened, youth=youth if n % 25 else None)
    counts["cases"] += 1
    for org in partners:
        if org.party == "jeugdhulp":
            registry.record_accession(unit(app, s, today=today), org, case, opened,
                                      f"TOETR-{case.id}",
                                      notified_on=opened + dt.timedelta(days=2)
                                      if n % 4 else None)
    meeting = cases.schedule_meeting(as_creator, case, meeting_day,
                                     ["Opening", "Bespreking", "Afspraken"],
                                     [creator.id, pros[partners[0].id][0].id])
    cases.add_action(as_creator, meeting, creator, "Gesprek met ouders plannen",
                     meeting_day + dt.timedelta(days=14), meeting_day + dt.timedelta(days=42))
    if purpose in ("toeleiding", "gecoordineerde_aanpak") and case.youth_id:
        as_gemeente = unit(app, s, Actor.of(pros[partners[2].id][0], region.id), today)
        flow = cases.open_workflow(as_gemeente, region, youth)
        steps = [("intake", {}), ("assessment", {"problems": "multiple"}),
                 ("investigation", {"scope": ["jeugd", "onderwijs"], "with_resident": True})]
        for step, details in steps:
            cases.take_step(as_gemeente, flow.id, flow.version, step, details,
                            opened + dt.timedelta(days=5))
    later = meeting_day + dt.timedelta(days=rnd.randint(0, 60))
    for to_org in partners[:2]:
        cats = rnd.sample(disclosures.offered_categories(
            app.ruleset(app.active_ruleset(s, region.id)[0]), case.purpose), 2)
        disclosures.record(as_creator, to_org_id=to_org.id,
                           contents={c: f"Synthetische inhoud over {c}" for c in cats},
                           day=min(later, today), kind="minute", case_id=case.id,
                           meeting_id=meeting.id)
        counts["disclosures"] += 1
    mother = next(g for g in youth.guardians if g.relation == "moeder")
    return {"youth": youth, "name": youth_name, "age": age_on(birth, today), "school": school,
            "partners": partners, "case": case, "guardian": mother,
            "guardian_name": parents[0]["name"]}
