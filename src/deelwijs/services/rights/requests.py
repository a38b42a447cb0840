"""The rights of the data subject (AVG art. 15–18 and 21; covenant art. 13): inzage,
rectification, erasure, restriction and objection, for a youth, asked by the youth or by a
parent with gezag.

Who may ask depends on the youth's age on the day (brief §1.7), by the consent ages of the
region's ruleset in force that day (domain/standing.py): in the model covenant, under 12 a
parent or guardian with gezag; from 12 up to and including 15 the youth or a parent with gezag;
from 16 the youth alone (a parent only when the youth agrees). A parent without gezag may not
ask at all.

The use cases (inzage, rectify, corrections, erase, restrict, object_to, lift_restriction,
list_requests) take a `Unit` (services/context.py) first: the one who records and handles the
request is the acting professional (`--by`), whose organisation knows the youth
(access.require_youth: another organisation's youth is answered as an unknown one), or the
operator; a rectification only a professional records. A parent or youth with an account
asks their own inzage themselves (access.require_subject); the FG and the administrator
read the register of requests (`list_requests`). The request's day is the unit's `u.today`
(the CLI's `--on`).

Every request is recorded as a `RightsRequest` with its decision, and every processing it
causes is logged (audit) in the same transaction. Bad input raises a ServiceError with a Dutch
message and a field, before anything is written. The one exception is a refused erasure: the
refusal is itself a decision that must be kept, so it is committed in a transaction of its own
before `ErasureRefused` is raised (and the caller's transaction rolls back as usual).

`active_restrictions` and `active_objections` give, for a day, the scopes that later
disclosures must respect (see docs/rights.md).
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import Text, any_, bindparam, cast, func, insert, select, union
from sqlalchemy.orm import Session

from deelwijs.domain import codes, labels
from deelwijs.domain import register as register_mod
from deelwijs.domain import standing as standing_rule
from deelwijs.domain import workflow as wf
from deelwijs.domain.consent import age_on
from deelwijs.domain.engine import decide
from deelwijs.domain.render import dutch_date, to_json
from deelwijs.domain.request import parse_request
from deelwijs.domain.ruleset import ConsentRule, Ruleset
from deelwijs.domain.standing import Standing
from deelwijs.rules import loader
from deelwijs.services import access
from deelwijs.services.app import App
from deelwijs.services.casus import consent as consent_svc
from deelwijs.services.casus import youths
from deelwijs.services.casus.facts import HONOURED
from deelwijs.services.casus.youth_text import Texts
from deelwijs.services.context import ADMIN, FG, PARENT, YOUTH, Unit
from deelwijs.services.errors import Invalid, NotFound, Refused
from deelwijs.services.log import audit
from deelwijs.services.views import CorrectionView, InzageOrganisationView, RequestView
from deelwijs.storage import fast, orm

KINDS = ("inzage", "rectificatie", "wissing", "beperking", "bezwaar")
FIELDS = ("name", "birth", "school", "guardian_name", "startkwalificatie")
# how a yes/no field is written (the stored correction says "ja" or "nee")
_YES_NO = {"ja": True, "nee": False, "true": True, "false": False}
# AVG art. 18 lid 1 sub a–d: when a restriction can be asked
RESTRICTION_REASONS = {
    "juistheid": "de jongere of ouder betwist of de gegevens kloppen (art. 18 lid 1 sub a AVG)",
    "onrechtmatig": "het gebruik van de gegevens is niet volgens de wet, maar wissen is niet "
                    "gewenst (art. 18 lid 1 sub b AVG)",
    "rechtsvordering": "de gegevens zijn niet meer nodig, maar de jongere of ouder heeft ze "
                       "nodig voor een rechtszaak (art. 18 lid 1 sub c AVG)",
    "bezwaar": "er loopt een bezwaar tegen het gebruik (art. 18 lid 1 sub d AVG)",
}
RETENTION_RECORD = "casusoverleg_verslag"

# --- the inzage in plain Dutch (B1), for the pages a parent or youth reads; the codes, rule
# ids and full citations stay in the overview's other keys (and the PDF's annex) -------------
# Each text is a main clause ("er was toestemming"): it follows "want" or a colon, or stands
# as a sentence of its own, never "omdat" (which would need the verb at the end).

# why something could be shared, per ground code
GROUND_PLAIN = {
    "PUBLIC_TASK": "het hoort bij een taak die de wet aan de organisatie geeft",
    "LEGAL_OBLIGATION": "de wet verplicht het",
    "LEGAL_POWER": "de wet staat het toe, en de organisatie heeft eerst op papier afgewogen of "
                   "het nodig was",
    "CONSENT": "er was toestemming",
    "VITAL_INTEREST": "het was nodig om het leven of de gezondheid van de jongere te "
                      "beschermen",
    "CONFLICT_OF_DUTIES": "de hulpverlener moest kiezen tussen het beroepsgeheim en de "
                          "veiligheid van de jongere",
    "MELDRECHT": "de wet geeft het recht om zorgen te melden bij Veilig Thuis",
    "COMPATIBLE_PURPOSE": "het past bij het doel waarvoor de gegevens eerst zijn verzameld",
    "ANONYMOUS": "er ging niets mee waaraan de jongere te herkennen is",
}
# why something could not be shared, per reason code
REASON_PLAIN = {
    "NOT_A_PARTY": "de organisatie had de afspraken over het delen van gegevens (het "
                   "convenant) niet ondertekend",
    "PURPOSE_MISMATCH": "het was niet nodig voor het doel van het overleg",
    "CONSENT_MISSING": "er was geen geldige toestemming",
    "CONSENT_NOT_A_GROUND": "toestemming is hier niet genoeg om te mogen delen",
    "PROFESSIONAL_SECRECY": "de hulpverlener heeft een beroepsgeheim",
    "SITUATION_C": "de gegevens waren alleen nodig voor het eigen werk van de ontvanger",
    "OUT_OF_SCOPE": "het viel buiten de hulp waar om gevraagd was",
    "SPECIAL_CATEGORY": "het zijn extra gevoelige gegevens, zoals over gezondheid, en er was "
                        "geen uitzondering die het toestond",
    "BULK_REQUEST": "er werd om gegevens van veel jongeren tegelijk gevraagd",
}
# what each purpose (or activity of the system itself) is for
PURPOSE_PLAIN = {
    "signalering": "Op tijd zien dat het niet goed gaat met een jongere, en samen afspreken "
                   "welke hulp past.",
    "thuiszitters": "Een leerling die niet of niet genoeg naar school gaat, weer naar school "
                    "helpen.",
    "een_plan": "De hulp aan de jongere en het gezin afspreken in één plan.",
    "oza": "Bepalen welke extra steun een leerling op school nodig heeft, en die samen met de "
           "jeugdhulp regelen.",
    "verzuimmelding": "Een school moet het aan leerplicht van de gemeente melden als een "
                      "leerling zonder goede reden wegblijft.",
    "overdracht": "Gegevens doorgeven aan de nieuwe school als een leerling van school wisselt, "
                  "of van de kinderopvang naar school gaat.",
    "eigen_taak": "De eigen begeleiding of hulp van de organisatie die de gegevens deelt.",
    "toeleiding": "Hulp aanvragen bij de gemeente: van de eerste melding tot het besluit van "
                  "de gemeente over de hulp.",
    "gecoordineerde_aanpak": "Als er op meer dan één gebied problemen zijn, zorgt de gemeente "
                             "dat de hulp op elkaar aansluit, alleen voor de hulp waar de "
                             "inwoner om vroeg.",
    "meldcode": "Melden bij Veilig Thuis als er zorgen zijn over huiselijk geweld of "
                "kindermishandeling.",
    "ots": "Gegevens geven aan de jeugdbeschermer als een kind onder toezicht staat.",
    "raadsonderzoek": "Gegevens geven aan de Raad voor de Kinderbescherming, als de Raad die "
                      "nodig heeft voor een onderzoek.",
    "registratie": "Vastleggen wie de jongere is, wie de ouders met gezag zijn en wie "
                   "toestemming gaf of weigerde. Zo is steeds na te gaan of de juiste personen "
                   "toestemming gaven.",
    "rechten": "Uw verzoeken behandelen, zoals dit verzoek om inzage, en de organisaties die "
               "gegevens kregen laten weten als iets verbeterd, gewist of beperkt is.",
    "verwerkingslog": "Bijhouden wie wanneer iets met de gegevens deed. Zo is later na te gaan "
                      "of alles volgens de regels ging, en kunt u dat ook zelf zien.",
}
# how long, where the register names no term of its own
RETENTION_PLAIN = {
    "toeleiding": "De gemeente bewaart het zo lang als voor haar eigen dossier geldt.",
    "gecoordineerde_aanpak": "De gemeente bewaart het zo lang als voor haar eigen dossier "
                             "geldt.",
    "rechten": "Zo lang als de gegevens waar het verzoek over gaat, bewaard worden.",
}


class ErasureRefused(Refused):
    """Erasure is refused (a retention term, an open case or workflow). The refusal was
    recorded as RightsRequest `request_id` and logged, in a transaction of its own."""

    def __init__(self, message: str, request_id: int, blockers: list[dict]):
        super().__init__("retention_term", message, "youth")
        self.request_id = request_id
        self.blockers = blockers


# --- dates ---------------------------------------------------------------------------------


def add_months(day: dt.date, months: int = 1) -> dt.date:
    """The same day `months` later; the last day of the month where that day does not exist
    (31 January + 1 month = 28 or 29 February)."""
    years, month0 = divmod(day.month - 1 + months, 12)
    year, month = day.year + years, month0 + 1
    return day.replace(year=year, month=month,
                       day=min(day.day, calendar.monthrange(year, month)[1]))


def due_date(received_on: dt.date) -> dt.date:
    """An answer is due within one month of receipt (AVG art. 12 lid 3)."""
    return add_months(received_on, 1)


# --- who may ask ---------------------------------------------------------------------------


def who_may_ask(youth: orm.Youth, age: int, requester: str, guardian: orm.Guardian | None,
                youth_agrees: bool = False, ages: ConsentRule | None = None) -> Standing:
    """May this person exercise the youth's rights? Raises Invalid (bad input) or Refused (not
    this person, at this age), with a Dutch message; returns the standing otherwise.

    The rule is domain/standing.py's, with the consent ages of `ages` (the ruleset in force;
    without it, the model covenant's): under 12 a parent or guardian with gezag, 12 to 15 the
    youth or a parent with gezag, 16 and older the youth alone, a parent only when the youth
    agrees (`youth_agrees`)."""
    try:
        return standing_rule.who_may_ask(ages or loader.model().consent, youth.id, age,
                                         requester, guardian, youth_agrees)
    except standing_rule.NoStanding as exc:
        error = Invalid if exc.kind == "invalid" else Refused
        raise error(exc.code, exc.message, exc.field) from None


def _live_youth(session: Session, youth_id: int) -> orm.Youth:
    youth = youths.get_youth(session, youth_id)
    if youth.key_wrapped is None:
        raise Refused("shredded", "de gegevens van deze jongere zijn vernietigd; er is niets "
                      "meer in te zien, te verbeteren of te beperken", "youth")
    return youth


def _standing(session: Session, app: App, youth: orm.Youth, requester: str,
              guardian_id: int | None, today: dt.date, youth_agrees: bool, *,
              guardian=None, ages: ConsentRule | None = None) -> Standing:
    """`guardian`: the guardian `guardian_id` names, when the caller read it already; `ages`:
    the consent ages of the region's ruleset in force today, when the caller has it (else
    they are looked up: consent.consent_rule)."""
    if not isinstance(today, dt.date):
        raise Invalid("wrong_type", "de datum van het verzoek ontbreekt", "today")
    if guardian_id is not None and (guardian is None or guardian.id != guardian_id):
        guardian = session.get(orm.Guardian, guardian_id)
        if guardian is None:
            raise Invalid("unknown_guardian", "kies een ouder of voogd van deze jongere",
                          "guardian_id")
    birth = youths.birth_of(app.keys, youth)
    if today < birth:  # (was answered with a negative age)
        raise Invalid("before_birth", f"de datum van het verzoek ({today.isoformat()}) ligt "
                      "vóór de geboortedatum van de jongere", "today")
    age = age_on(birth, today)
    if ages is None:
        ages = consent_svc.consent_rule(session, youth.region_id, today)
    return who_may_ask(youth, age, requester, guardian, youth_agrees, ages)


def _may_handle(u: Unit, youth_id, what: str) -> None:
    """Handling a youth's request (or reading what it recorded) is the operator's or that of
    a professional whose organisation knows the youth (access.require_youth: another
    organisation's youth is answered as an unknown one); an FG, an administrator's account,
    a parent or a youth is refused. Checked first, before the youth's data say anything."""
    access.require_youth_kind(u)
    access.require_professional(u, what)
    if u.actor.is_professional:
        access.require_youth(u, youth_id)


def _handler(u: Unit, youth: orm.Youth, field: str = "by", required: bool = False
             ) -> orm.Professional | None:
    """The professional who handles the request (None for the administrator), who works in
    the youth's region (access.require_region); `required`: only a
    professional may."""
    pro = u.professional_or(field, "Een gegeven verbeteren") if required else u.professional
    access.require_region(u, youth.region_id, field, "de regio van deze jongere")
    return pro


# --- recording and logging -----------------------------------------------------------------


def _request_values(youth: orm.Youth, kind: str, standing: Standing, today: dt.date,
                    status: str, motivation: str, scope: dict, pro: orm.Professional | None,
                    ends_on: dt.date | None = None) -> dict:
    """The columns of a new RightsRequest."""
    return dict(
        youth_id=youth.id, kind=kind, requester=standing.requester,
        guardian_id=standing.guardian.id if standing.guardian is not None else None,
        received_on=today, due_on=due_date(today),
        scope={**scope, "youth_agrees": standing.youth_agrees}, status=status,
        motivation=motivation, decided_on=today, ends_on=ends_on,
        handled_by_id=pro.id if pro is not None else None)


def _record(session: Session, youth: orm.Youth, kind: str, standing: Standing, today: dt.date,
            status: str, motivation: str, scope: dict, pro: orm.Professional | None,
            ends_on: dt.date | None = None) -> orm.RightsRequest:
    row = orm.RightsRequest(**_request_values(youth, kind, standing, today, status, motivation,
                                              scope, pro, ends_on))
    session.add(row)
    session.flush()
    return row


# The same insert as plain SQL (every column given, recorded_at too), for the inzage, which
# sends it in one batch with its reads (see _read).
_RR = orm.RightsRequest.__table__
_INSERT_REQUEST = insert(_RR).values({c: bindparam(c, type_=_RR.c[c].type) for c in (
    "youth_id", "kind", "requester", "guardian_id", "received_on", "due_on", "scope",
    "status", "motivation", "decided_on", "ends_on", "handled_by_id", "recorded_at")}
).returning(_RR.c.id)


@dataclass(frozen=True)
class _Request:
    """A request recorded with _INSERT_REQUEST: what the inzage and its log entry show."""

    id: int
    kind: str
    requester: str
    status: str
    received_on: dt.date
    due_on: dt.date


def _log(session: Session, youth: orm.Youth, actie: str, handeling: str,
         categories: list[str], pro: orm.Professional | None, request: orm.RightsRequest | None,
         extra: dict | None = None, activity: tuple[str, str] | None = None) -> None:
    """Log under the region's activity "rechten"; `activity`: its (id, version) when the
    caller read it already (as audit.region_activity does)."""
    verzoek = None
    if request is not None:
        verzoek = {"id": request.id, "soort": request.kind, "verzoeker": request.requester,
                   "status": request.status}
    kw = dict(
        region_id=youth.region_id, actie=actie, youth_id=youth.id,
        categories=list(dict.fromkeys(categories)), handeling=handeling, professional=pro,
        uitvoerder=session.get(orm.Organisation, pro.organisation_id) if pro else None,
        verwerking="Verzoek van betrokkene",
        verwerking_id=f"deelwijs:verzoek:{request.id}" if request is not None else None,
        extra={**({"verzoek": verzoek} if verzoek else {}), **(extra or {})})
    if activity is None:
        audit.log_system(session, name="rechten", **kw)
    else:
        audit.log(session, activity=activity[0], activity_version=activity[1], **kw)


def request_view(row: orm.RightsRequest) -> RequestView:
    return {"id": row.id, "youth_id": row.youth_id, "kind": row.kind,
            "requester": row.requester, "guardian_id": row.guardian_id,
            "received_on": row.received_on.isoformat(), "due_on": row.due_on.isoformat(),
            "scope": row.scope, "status": row.status, "motivation": row.motivation,
            "decided_on": row.decided_on.isoformat() if row.decided_on else None,
            "ends_on": row.ends_on.isoformat() if row.ends_on else None,
            "handled_by": row.handled_by_id}


def list_requests(u: Unit, youth_id: int) -> list[dict]:
    """Every rights request about a youth, oldest first: the register of requests, for the
    operator, the FG or administrator of the youth's region, or a professional whose
    organisation knows the youth (access.require_youth)."""
    session = u.session
    if u.actor.kind in (FG, ADMIN):
        youth = youths.get_youth(session, youth_id)
        access.require_fg_or_admin(u, "Het register van verzoeken", youth.region_id)
    else:
        _may_handle(u, youth_id, "Het register van verzoeken inzien")
        youths.get_youth(session, youth_id)
    rows = session.scalars(select(orm.RightsRequest).where(
        orm.RightsRequest.youth_id == youth_id).order_by(orm.RightsRequest.id))
    return [request_view(r) for r in rows]


def get_request(session: Session, request_id: int, field: str = "request") -> orm.RightsRequest:
    row = session.get(orm.RightsRequest, request_id) if request_id is not None else None
    if row is None:
        raise NotFound("not_found", f"onbekend verzoek ({request_id})", field)
    return row


def _recipients(session: Session, youth_id: int) -> list[dict]:
    """The organisations that received data about the youth (an allowed or partly allowed
    disclosure): they are told of a rectification, erasure or restriction (AVG art. 19)."""
    ids = session.scalars(select(orm.Disclosure.to_org_id).where(
        orm.Disclosure.youth_id == youth_id, orm.Disclosure.outcome != "deny").distinct())
    orgs = [session.get(orm.Organisation, i) for i in sorted(set(ids))]
    return [{"id": o.id, "name": o.name} for o in orgs]


# --- inzage (art. 15) ----------------------------------------------------------------------


def inzage(u: Unit, youth_id: int, *, requester: str, guardian_id: int | None = None,
           period_from: dt.date | None = None, period_to: dt.date | None = None,
           youth_agrees: bool = False) -> dict:
    """Everything Deelwijs holds about a youth, for the youth or a parent (AVG art. 15), with
    Dutch labels. The request is recorded (kind "inzage", received and answered on the
    unit's day, `u.today`), handled by the acting professional (or the administrator), and
    logged.

    A period (`period_from`, `period_to`, both inclusive) narrows the disclosures, meetings and
    log entries shown; personal data, consent, requests and corrections are always complete.

    Who: the operator; a professional whose organisation knows the youth
    (access.require_youth), who records the request of the youth or parent named; or the
    youth or a parent with an account, for their own (access.require_subject): the request
    is then theirs (`requester` and `guardian_id` come from the account, `youth_agrees` does
    not count), and another child's id is answered as an unknown one."""
    session, app, today = u.session, u.app, u.today
    if u.actor.kind in (PARENT, YOUTH):
        _, own = access.require_subject(u, youth_id)
        requester, guardian_id, youth_agrees = u.actor.kind, own.id if own else None, False
    else:
        _may_handle(u, youth_id, "Inzage geven")
    youth, version, guardian = _inzage_start(session, youth_id, today, guardian_id)
    # the ages of the ruleset in force today (as consent.consent_rule finds them: the model's
    # before the region's first activation), from the version _inzage_start read
    ages = (app.ruleset_of(session, version.id, version.digest) if version is not None
            else loader.model()).consent
    standing = _standing(session, app, youth, requester, guardian_id, today, youth_agrees,
                         guardian=guardian, ages=ages)
    if period_from is not None and period_to is not None and period_from > period_to:
        raise Invalid("invalid_period", "het begin van de periode ligt na het einde",
                      "period_from")
    pro = _handler(u, youth)
    if version is not None:
        ruleset = app.ruleset_of(session, version.id, version.digest)
    else:  # (raises NotFound when the region has no ruleset in force)
        _, ruleset = app.active_ruleset(session, youth.region_id, today)
    period = {"van": period_from.isoformat() if period_from else None,
              "tot": period_to.isoformat() if period_to else None}
    values = {**_request_values(
        youth, "inzage", standing, today, "toegewezen",
        "Inzage gegeven: een overzicht van alle gegevens over de jongere.", {"period": period},
        pro), "recorded_at": orm._now()}  # the column's default
    session.flush()  # what the caller changed, before the reads below (outside the ORM)
    overview = _Inzage(session, app, youth, ruleset, today, period_from, period_to)
    request_id = overview.load(values)  # the request is recorded first, then read back
    request = _Request(request_id, values["kind"], values["requester"], values["status"],
                       values["received_on"], values["due_on"])
    out = overview.build(standing, request, period)
    categories = ["identificatie", *(["bsn"] if youth.bsn_enc else []),
                  *(g["code"] for d in out["verstrekkingen"] for g in d["gegevens"])]
    _log(session, youth, "inzage", "Verstrekken inzage aan betrokkene", categories, pro,
         request, activity=overview.activity)
    return out


# The youth, the region's ruleset in force on a day (as App.active_ruleset finds it: the newest
# activation on or before the day) and the guardian who asks, read together (see _read).
_YOUTH = select(orm.Youth.id, orm.Youth.region_id, orm.Youth.school_id, orm.Youth.key_wrapped,
                orm.Youth.name_enc, orm.Youth.birth_enc, orm.Youth.bsn_enc,
                orm.Youth.startkwalificatie).where(
    orm.Youth.id == bindparam("y"))
_IN_FORCE = (
    select(orm.RulesetVersion.id, orm.RulesetVersion.digest)
    .join(orm.RulesetActivation,
          orm.RulesetActivation.ruleset_version_id == orm.RulesetVersion.id)
    .where(orm.RulesetActivation.region_id == select(orm.Youth.region_id).where(
        orm.Youth.id == bindparam("y")).scalar_subquery(),
        orm.RulesetActivation.activated_on <= bindparam("on"))
    .order_by(orm.RulesetActivation.activated_on.desc(), orm.RulesetActivation.id.desc())
    .limit(1))
_GUARDIAN = select(orm.Guardian.id, orm.Guardian.youth_id, orm.Guardian.name_enc,
                   orm.Guardian.relation, orm.Guardian.has_gezag).where(
    orm.Guardian.id == bindparam("g"))


def _is_id(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _inzage_start(session: Session, youth_id, today, guardian_id):
    """(the live youth, the version in force today or None, the guardian read or None), in one
    round trip: as _live_youth (which raises NotFound or Refused as before when the youth is
    unknown or shredded), app.active_ruleset and _standing would read them one by one."""
    if not (_is_id(youth_id) and isinstance(today, dt.date)):
        return _live_youth(session, youth_id), None, None
    session.flush()  # what the caller changed, before reading outside the ORM
    batch = [(_YOUTH, {"y": youth_id}), (_IN_FORCE, {"y": youth_id, "on": today})]
    if _is_id(guardian_id):
        batch.append((_GUARDIAN, {"g": guardian_id}))
    found, version, *guardian = _read(session, batch)
    if not found or found[0].key_wrapped is None:
        return _live_youth(session, youth_id), None, None  # raises
    return (found[0], version[0] if version else None,
            guardian[0][0] if guardian and guardian[0] else None)


def _in_period(day: dt.date, start: dt.date | None, end: dt.date | None) -> bool:
    return (start is None or day >= start) and (end is None or day <= end)


# The inzage's reads, built once: plain rows (an overview changes nothing, so no ORM objects),
# everything about the youth in one statement per table (joined through the case, meeting or
# workflow where the table has no youth_id) instead of one per case, meeting or agenda item.
# Parameters: y (the youth's id), r (the region's id), c (a case's id).
_Y, _R = bindparam("y"), bindparam("r")


def _json_text(column):
    """A JSON column as its text: the small lists (codes, rules, purposes...) repeat from row to
    row, and _Inzage.json parses each distinct text once."""
    return cast(column, Text).label(column.key)


_O = orm.Organisation
_GUARDIANS = (select(orm.Guardian.id, orm.Guardian.name_enc, orm.Guardian.relation,
                     orm.Guardian.has_gezag)
              .where(orm.Guardian.youth_id == _Y).order_by(orm.Guardian.id))
# the organisations the overview names: the school, the senders and recipients of the
# disclosures, the cases' participants (one named only in a consent or a log entry is looked
# up afterwards)
_ORGS = select(_O.id, _O.name, _O.party).where(_O.id.in_(union(
    select(orm.Youth.school_id).where(orm.Youth.id == _Y),
    select(orm.Disclosure.from_org_id).where(orm.Disclosure.youth_id == _Y),
    select(orm.Disclosure.to_org_id).where(orm.Disclosure.youth_id == _Y),
    select(orm.CaseParticipant.organisation_id)
    .join(orm.Case, orm.Case.id == orm.CaseParticipant.case_id).where(orm.Case.youth_id == _Y))))
_DISCLOSURES = (
    select(orm.Disclosure.id, orm.Disclosure.disclosed_on, orm.Disclosure.from_org_id,
           orm.Disclosure.to_org_id, orm.Disclosure.purpose, orm.Disclosure.case_id,
           orm.Disclosure.kind, orm.Disclosure.outcome,
           # of the whole decision only its explanation is shown
           orm.Disclosure.decision["explanation"].as_string().label("explanation"),
           orm.Disclosure.ruleset_version_id, orm.Disclosure.ruleset_digest,
           orm.RulesetVersion.digest.label("version_digest"))
    .join(orm.RulesetVersion, orm.RulesetVersion.id == orm.Disclosure.ruleset_version_id)
    .where(orm.Disclosure.youth_id == _Y)
    .order_by(orm.Disclosure.disclosed_on, orm.Disclosure.id))
# the items of the youth's disclosures. On PostgreSQL `= ANY(ARRAY(subquery))`: the
# disclosures' ids are read first (one InitPlan), then the items through the index on
# disclosure_id, whatever the planner estimates for this youth (a join may become a
# sequential scan of every item when other youths have many disclosures)
_ITEM_COLUMNS = (orm.DisclosureItem.id, orm.DisclosureItem.disclosure_id,
                 orm.DisclosureItem.category, orm.DisclosureItem.outcome,
                 _json_text(orm.DisclosureItem.codes), _json_text(orm.DisclosureItem.rules),
                 orm.DisclosureItem.content, orm.DisclosureItem.content_enc)
_OF_YOUTH_DISCLOSURES = select(orm.Disclosure.id).where(orm.Disclosure.youth_id == _Y)
_ITEMS = {
    "postgresql": select(*_ITEM_COLUMNS).where(orm.DisclosureItem.disclosure_id == any_(
        func.array(_OF_YOUTH_DISCLOSURES.scalar_subquery()))).order_by(orm.DisclosureItem.id),
    None: select(*_ITEM_COLUMNS).where(orm.DisclosureItem.disclosure_id.in_(
        _OF_YOUTH_DISCLOSURES)).order_by(orm.DisclosureItem.id),
}
_CONSENTS = (select(orm.ConsentRecord.series, orm.ConsentRecord.version,
                    orm.ConsentRecord.role, orm.ConsentRecord.guardian_id,
                    orm.ConsentRecord.answer, _json_text(orm.ConsentRecord.purposes),
                    _json_text(orm.ConsentRecord.categories),
                    _json_text(orm.ConsentRecord.recipient_ids),
                    orm.ConsentRecord.written, orm.ConsentRecord.document_ref,
                    orm.ConsentRecord.given_on, orm.ConsentRecord.recorded_at)
             .where(orm.ConsentRecord.youth_id == _Y)
             .order_by(orm.ConsentRecord.series, orm.ConsentRecord.version))
_CASES = (select(orm.Case.id, orm.Case.purpose, orm.Case.overleg, orm.Case.title,
                 orm.Case.title_enc, orm.Case.opened_on, orm.Case.closed_on)
          .where(orm.Case.youth_id == _Y).order_by(orm.Case.opened_on, orm.Case.id))
# per case, exactly as before (no order: the participants in the order the database gives)
_PARTICIPANTS = select(orm.CaseParticipant.organisation_id).where(
    orm.CaseParticipant.case_id == bindparam("c"))
_OF_YOUTH_CASES = orm.Case.youth_id == _Y
_MEETINGS = (select(orm.Meeting.id, orm.Meeting.case_id, orm.Meeting.held_on)
             .join(orm.Case, orm.Case.id == orm.Meeting.case_id).where(_OF_YOUTH_CASES)
             .order_by(orm.Meeting.held_on, orm.Meeting.id))
_AGENDA = (select(orm.AgendaItem.id, orm.AgendaItem.meeting_id, orm.AgendaItem.title,
                  orm.AgendaItem.title_enc)
           .join(orm.Meeting, orm.Meeting.id == orm.AgendaItem.meeting_id)
           .join(orm.Case, orm.Case.id == orm.Meeting.case_id).where(_OF_YOUTH_CASES)
           .order_by(orm.AgendaItem.position, orm.AgendaItem.id))
_MINUTES = (select(orm.Minute.agenda_item_id, orm.Minute.text, orm.Minute.text_enc)
            .join(orm.AgendaItem, orm.AgendaItem.id == orm.Minute.agenda_item_id)
            .join(orm.Meeting, orm.Meeting.id == orm.AgendaItem.meeting_id)
            .join(orm.Case, orm.Case.id == orm.Meeting.case_id).where(_OF_YOUTH_CASES)
            .order_by(orm.Minute.id))
_ACTIONS = (select(orm.Action.meeting_id, orm.Action.description,
                   orm.Action.description_enc, orm.Action.due_on, orm.Action.done_on)
            .join(orm.Meeting, orm.Meeting.id == orm.Action.meeting_id)
            .join(orm.Case, orm.Case.id == orm.Meeting.case_id).where(_OF_YOUTH_CASES)
            .order_by(orm.Action.id))
_WORKFLOWS = (select(orm.Workflow.id, orm.Workflow.state, _json_text(orm.Workflow.scope))
              .where(orm.Workflow.youth_id == _Y).order_by(orm.Workflow.id))
_STEPS = (select(orm.WorkflowStep.workflow_id, orm.WorkflowStep.step,
                 orm.WorkflowStep.taken_on)
          .join(orm.Workflow, orm.Workflow.id == orm.WorkflowStep.workflow_id)
          .where(orm.Workflow.youth_id == _Y).order_by(orm.WorkflowStep.id))
_REQUESTS = (select(orm.RightsRequest.id, orm.RightsRequest.kind,
                    orm.RightsRequest.received_on, orm.RightsRequest.status,
                    orm.RightsRequest.motivation, orm.RightsRequest.decided_on,
                    orm.RightsRequest.ends_on)
             .where(orm.RightsRequest.youth_id == _Y).order_by(orm.RightsRequest.id))
# the region's newest ruleset (whatever its day), as audit.region_activity reads it for the
# activity of the inzage's own log entry
_NEWEST = (select(orm.RulesetVersion.ruleset_id, orm.RulesetVersion.version,
                  orm.RulesetVersion.digest)
           .join(orm.RulesetActivation,
                 orm.RulesetActivation.ruleset_version_id == orm.RulesetVersion.id)
           .where(orm.RulesetActivation.region_id == _R)
           .order_by(orm.RulesetActivation.activated_on.desc(),
                     orm.RulesetActivation.id.desc())
           .limit(1))
_CORRECTIONS = (select(orm.YouthCorrection.id, orm.YouthCorrection.field,
                       orm.YouthCorrection.old_enc, orm.YouthCorrection.new_enc,
                       orm.YouthCorrection.corrected_on, orm.YouthCorrection.by_id,
                       orm.YouthCorrection.request_id,
                       orm.RightsRequest.id.label("request_found"),
                       _json_text(orm.RightsRequest.scope).label("request_scope"))
                .outerjoin(orm.RightsRequest,
                           orm.RightsRequest.id == orm.YouthCorrection.request_id)
                .where(orm.YouthCorrection.youth_id == _Y).order_by(orm.YouthCorrection.id))


# the region's controller and FG, named in the inzage (migration 0005)
_REGION = select(orm.Region.name, orm.Region.controller_name, orm.Region.controller_address,
                 orm.Region.fg_name, orm.Region.fg_email, orm.Region.fg_phone).where(
    orm.Region.id == _R)


def _read(session: Session, batch: list[tuple]) -> list[list]:
    """The rows of each (statement, parameters) in `batch`, in one round trip on PostgreSQL
    (storage.fast.execute_all)."""
    return fast.execute_all(session.connection(), batch)


def _grouped(rows, key: str) -> dict:
    out: dict = {}
    for r in rows:
        out.setdefault(getattr(r, key), []).append(r)
    return out


class _Inzage:
    """Builds the inzage overview; reads only. load() reads everything it shows in a few round
    trips (see _read); the parts are then built without I/O."""

    def __init__(self, session: Session, app: App, youth: orm.Youth, ruleset: Ruleset,
                 today: dt.date, start: dt.date | None, end: dt.date | None):
        self.s, self.app, self.youth, self.rs = session, app, youth, ruleset
        self.today, self.start, self.end = today, start, end
        self.key = app.keys.unwrap(youth.key_wrapped)
        self._fernet = Fernet(self.key)
        self._plain: dict[bytes, str] = {}
        self._parsed: dict[str, object] = {}
        self._items: dict[tuple, tuple] = {}

    def load(self, request: dict) -> int:
        """Record the request (`request`: the values of _INSERT_REQUEST) and read everything
        the overview shows, with the activity of the log entry the inzage writes, in one batch
        (see _read); then each case's participants in a second one. Returns the request's
        id."""
        y = {"y": self.youth.id}
        region = {"r": self.youth.region_id}
        items_of = _ITEMS.get(self.s.get_bind().dialect.name, _ITEMS[None])
        rows = _read(self.s, [
            (_INSERT_REQUEST, request), (_GUARDIANS, y), (_ORGS, y), (_DISCLOSURES, y),
            (items_of, y), (_CONSENTS, y), (_CASES, y), (_MEETINGS, y), (_AGENDA, y),
            (_MINUTES, y), (_ACTIONS, y), (_WORKFLOWS, y), (_STEPS, y), (_REQUESTS, y),
            (_CORRECTIONS, y),
            (audit.SUBJECT_VIEWS, {"subject": self.app.keys.subject(self.youth.id)}),
            (_NEWEST, region), (_REGION, region)])
        (inserted, self.guardians, orgs, disclosure_rows, items, self.consent_rows,
         self.case_rows, meetings, agenda, minutes, actions, self.workflow_rows, steps,
         self.request_rows, self.correction_rows, log_rows, newest, region_rows) = rows
        self.region = region_rows[0] if region_rows else None
        self.disclosure_rows = [d for d in disclosure_rows
                                if _in_period(d.disclosed_on, self.start, self.end)]
        participants = _read(self.s, [(_PARTICIPANTS, {"c": c.id}) for c in self.case_rows])
        self.participants = dict(zip([c.id for c in self.case_rows], participants, strict=True))
        self.activity = None
        if newest:
            self.activity = (audit.activity(newest[0].ruleset_id, "rechten"),
                             audit.version_label(newest[0].version, newest[0].digest))
        self.items = _grouped(items, "disclosure_id")
        self.meetings = _grouped(meetings, "case_id")
        self.agenda = _grouped(agenda, "meeting_id")
        self.minutes = _grouped(minutes, "agenda_item_id")
        self.actions = _grouped(actions, "meeting_id")
        self.steps = _grouped(steps, "workflow_id")
        self.log_views = [audit.entry_view(r, for_subject=True) for r in log_rows
                          if _in_period(r.registered_at.date(), self.start, self.end)]
        self.orgs = {o.id: o for o in orgs}
        # one named in a consent or a log entry only: looked up as well
        named = {self.youth.school_id,
                 *(i for c in self.consent_rows for i in self.json(c.recipient_ids)),
                 *(i for r in self.disclosure_rows for i in (r.from_org_id, r.to_org_id)),
                 *(p.organisation_id for ps in self.participants.values() for p in ps),
                 *(v.get("deelwijs", {}).get("afnemer") for v in self.log_views)}
        wanted = {i for i in named if isinstance(i, int) and i not in self.orgs}
        wanted |= {int(a.rsplit(":", 1)[1]) for a in named if isinstance(a, str)
                   and a.startswith("deelwijs:org:")} - set(self.orgs)
        if wanted:
            self.orgs.update((o.id, o) for o in self.s.execute(
                select(_O.id, _O.name, _O.party).where(_O.id.in_(sorted(wanted)))))
        return inserted[0].id

    # small look-ups
    def org(self, org_id: int):
        return self.orgs.get(org_id)

    def org_view(self, org_id: int) -> InzageOrganisationView:
        o = self.org(org_id)
        party = self.rs.parties.get(o.party)
        return {"id": o.id, "naam": o.name, "soort": party.label if party else o.party}

    def ruleset_of(self, row) -> Ruleset:
        return self.app.ruleset_of(self.s, row.ruleset_version_id, row.version_digest)

    def purpose_label(self, code: str, rs: Ruleset | None = None) -> str:
        p = (rs or self.rs).purposes.get(code)
        return p.label if p else code

    def category_label(self, code: str, rs: Ruleset | None = None) -> str:
        c = (rs or self.rs).categories.get(code)
        return c.label if c else {"bsn": "BSN"}.get(code, code)

    def json(self, text: str | None):
        """A JSON column read as text (see _json_text), parsed; each distinct text once (the
        value is shared between rows: it is only read, never changed or handed out)."""
        if text is None:
            return None
        try:
            return self._parsed[text]
        except KeyError:
            value = self._parsed[text] = json.loads(text)
            return value

    def decrypt(self, token: bytes | None) -> str | None:
        if token is None:
            return None
        text = self._plain.get(token)  # a parent's name is shown with every consent series
        if text is None:
            try:  # as Keyring.decrypt, with one Fernet for the youth's key
                text = self._fernet.decrypt(token).decode("utf-8")
            except InvalidToken:
                text = "[onleesbaar]"
            self._plain[token] = text
        return text

    # the parts
    def build(self, standing: Standing, request: _Request, period: dict) -> dict:
        """The overview, from what load() read."""
        person = self.person()
        by_whom = "de jongere zelf"
        if standing.guardian is not None:
            g = standing.guardian
            by_whom = f"{self.decrypt(g.name_enc)} ({g.relation}, met gezag)"
            if standing.youth_agrees:
                by_whom += ", met instemming van de jongere"
        purposes: list[str] = []
        out = {
            "titel": "Inzage in uw gegevens",
            "gemaakt_op": self.today.isoformat(),
            "verzoek": {"id": request.id, "soort": "inzage",
                        "ontvangen_op": request.received_on.isoformat(),
                        "uiterlijk_beantwoord_op": request.due_on.isoformat(),
                        "gevraagd_door": by_whom, "verzoeker": standing.requester,
                        "periode": period if period["van"] or period["tot"] else None},
            "jongere": person,
            "verstrekkingen": self.disclosures(purposes),
            "toestemmingen": self.consents(purposes),
            "casussen": self.cases(purposes),
            "werkprocessen": self.workflows(),
            "verzoeken": self.requests(),
            "correcties": self.corrections(),
            "verwerkingslog": self.log(),
        }
        out["doelen"] = self.purposes(purposes)
        out["bewaartermijnen"] = self.retention()
        out["verantwoordelijke"] = self.controller()
        out["uw_rechten"] = your_rights(out["verantwoordelijke"]["naam"])
        out["regels_in_gebruik"] = {"naam": self.rs.title, "id": self.rs.id,
                                    "versie": self.rs.version, "digest": self.rs.digest}
        out["toestemming_leeftijden"] = {
            "jongere_en_ouders_vanaf": self.rs.consent.youth_and_parents_from,
            "jongere_alleen_vanaf": self.rs.consent.youth_alone_from}
        return out

    def controller(self) -> dict:
        """The controller (verwerkingsverantwoordelijke) and its FG as the region records
        them; None where not recorded."""
        r = self.region
        return {"naam": r.controller_name if r else None,
                "adres": r.controller_address if r else None,
                "regio": r.name if r else None,
                "fg": {"naam": r.fg_name if r else None, "email": r.fg_email if r else None,
                       "telefoon": r.fg_phone if r else None}}

    def birth(self) -> dt.date:
        return dt.date.fromisoformat(self.decrypt(self.youth.birth_enc))

    def person(self) -> dict:
        # as youths.youth_view, with the key unwrapped once and the guardians read in load()
        birth = self.birth()
        bsn = self.decrypt(self.youth.bsn_enc) if self.youth.bsn_enc else None
        bsn = f"*****{bsn[-4:]}" if bsn else None
        school = self.org_view(self.youth.school_id) if self.youth.school_id else None
        return {
            "id": self.youth.id, "naam": self.decrypt(self.youth.name_enc),
            "geboortedatum": birth.isoformat(), "leeftijd": age_on(birth, self.today),
            "bsn": bsn,
            "bsn_uitleg": "Alleen de laatste vier cijfers van het BSN staan in dit overzicht."
            if bsn else "Er is geen BSN vastgelegd.",
            "school": school,
            "startkwalificatie": bool(self.youth.startkwalificatie),
            "ouders": [{"id": g.id, "naam": self.decrypt(g.name_enc), "relatie": g.relation,
                        "gezag": g.has_gezag,
                        "uitleg": "heeft gezag" if g.has_gezag else "heeft geen gezag"}
                       for g in self.guardians],
        }

    def disclosures(self, purposes: list[str]) -> list[dict]:
        out = []
        for r in self.disclosure_rows:  # those in the period
            rs = self.ruleset_of(r)
            purposes.append(r.purpose)
            data = [self.item(rs, i) for i in self.items.get(r.id, ())]
            van, aan = self.org_view(r.from_org_id), self.org_view(r.to_org_id)
            out.append({
                "id": r.id, "datum": r.disclosed_on.isoformat(), "van": van, "aan": aan,
                "doel": self.purpose_label(r.purpose, rs), "doel_code": r.purpose,
                "casus_id": r.case_id, "hoe": labels.DISCLOSURE_KIND_WHERE.get(r.kind, r.kind),
                "uitkomst": {"allow": "gedeeld", "partial": "deels gedeeld",
                             "deny": "niet gedeeld"}.get(r.outcome, r.outcome),
                "samenvatting": _disclosure_sentence(r, van, aan, self.purpose_label(
                    r.purpose, rs), data),
                "gegevens": data,
                "uitleg_voor_de_professional": (r.explanation if r.explanation is not None
                                                else ""),
                "regels_versie": {"naam": rs.title, "versie": rs.version,
                                  "digest": r.ruleset_digest},
            })
        return out

    def item(self, rs: Ruleset, item) -> dict:
        shared = item.outcome == "allow"
        # what follows from the item's category, outcome, codes and rules alone: worked out
        # once per overview for items that share them (most do)
        key = (rs.digest, item.category, item.outcome, item.codes, item.rules)
        fixed = self._items.get(key)
        if fixed is None:
            item_codes = self.json(item.codes)
            if shared:
                why = [labels.GROUND_CITED.get(c, c) for c in item_codes]
                reason = "Dit mocht op grond van " + _and(why) + "." if why else "Dit mocht."
                plain = [GROUND_PLAIN[c] for c in item_codes if c in GROUND_PLAIN]
                simple = "Dit mocht, want " + _and(plain) + "." if plain else "Dit mocht."
            else:
                why = [labels.REASON_PHRASE.get(c, c) for c in item_codes]
                reason = "Dit mocht niet: " + _and(why) + ". Er is niets gedeeld."
                plain = [REASON_PLAIN[c] for c in item_codes if c in REASON_PLAIN]
                simple = ("Dit mocht niet, want " + _and(plain) + "." if plain
                          else "Dit mocht niet.") + " Er is niets gedeeld."
            rules = []
            for rid in dict.fromkeys(self.json(item.rules)):
                rule = rs.rules.get(rid)
                rules.append({"id": rid, "titel": rule.title if rule else rid,
                              "wetsartikelen": rule.citations.text() if rule else ""})
            fixed = self._items[key] = (self.category_label(item.category, rs), reason,
                                        item_codes, rules, simple)
        label, reason, item_codes, rules, simple = fixed
        content = None
        if shared:  # as disclosures.content_of, with the key unwrapped once (a live youth)
            content = item.content if item.content_enc is None else self.decrypt(
                item.content_enc)
        return {"code": item.category, "categorie": label, "gedeeld": shared, "waarom": reason,
                "waarom_eenvoudig": simple,
                ("gronden" if shared else "redenen"): list(item_codes),
                "regels": [dict(r) for r in rules], "inhoud": content}

    def consents(self, purposes: list[str]) -> list[dict]:
        series: dict[str, list] = {}
        for r in self.consent_rows:
            series.setdefault(r.series, []).append(r)
        guardians = {g.id: g for g in self.guardians}
        birth = self.birth()
        youth_from = self.rs.consent.youth_and_parents_from
        out = []
        for name, versions in series.items():
            first, last = versions[0], versions[-1]
            first_purposes = self.json(first.purposes)
            purposes.extend(first_purposes)
            if first.role == "youth":
                who = "de jongere zelf"
            else:
                g = guardians.get(first.guardian_id)
                who = f"{self.decrypt(g.name_enc)} ({g.relation})" if g else "een ouder"
            recipients = ([self.org(i).name for i in self.json(first.recipient_ids)]
                          or ["alle partijen in de casus"])
            out.append({
                "reeks": name, "wie": who,
                "doelen": [self.purpose_label(p) for p in first_purposes],
                "gegevens": [self.category_label(c) for c in self.json(first.categories)],
                "ontvangers": recipients,
                "stand": labels.CONSENT_STATE.get(last.answer, last.answer),
                "sinds": last.given_on.isoformat(),
                "geschiedenis": [{"versie": v.version,
                                  "antwoord": labels.CONSENT_STATE.get(v.answer, v.answer),
                                  "datum": v.given_on.isoformat(),
                                  "schriftelijk": v.written,
                                  "document": v.document_ref,
                                  "vastgelegd_op": v.recorded_at.isoformat()[:10],
                                  "leeftijd": age_on(birth, v.given_on),
                                  # the youth's own answer counts only from the age the
                                  # rules in force ask for it (a parent's always)
                                  "telt_mee": first.role != "youth"
                                  or age_on(birth, v.given_on) >= youth_from}
                                 for v in versions],
                "rol": first.role,
            })
            out[-1]["telt_mee"] = any(v["telt_mee"] for v in out[-1]["geschiedenis"])
        return out

    def text(self, plain: str, enc: bytes | None) -> str:
        # as youth_text.Texts.open, for this (live) youth's free text
        return plain if enc is None else self.decrypt(enc)

    def minute_text(self, row) -> str:
        # as cases.minute_text: the minute is of a case of this (live) youth
        return self.text(row.text, row.text_enc)

    def cases(self, purposes: list[str]) -> list[dict]:
        out = []
        for c in self.case_rows:
            purposes.append(c.purpose)
            members = [self.org(p.organisation_id).name for p in self.participants[c.id]]
            meetings = []
            for m in self.meetings.get(c.id, ()):
                if not _in_period(m.held_on, self.start, self.end):
                    continue
                agenda = self.agenda.get(m.id, [])
                minutes = [{"agendapunt": self.text(a.title, a.title_enc),
                            "tekst": self.minute_text(mn)}
                           for a in agenda for mn in self.minutes.get(a.id, ())]
                actions = [{"omschrijving": self.text(a.description, a.description_enc),
                            "deadline": a.due_on.isoformat(),
                            "klaar_op": a.done_on.isoformat() if a.done_on else None}
                           for a in self.actions.get(m.id, ())]
                meetings.append({"id": m.id, "datum": m.held_on.isoformat(),
                                 "agenda": [self.text(a.title, a.title_enc) for a in agenda],
                                 "verslagen": minutes,
                                 "afspraken": actions})
            out.append({"id": c.id, "titel": self.text(c.title, c.title_enc),
                        "doel": self.purpose_label(c.purpose),
                        "doel_code": c.purpose, "overleg": c.overleg,
                        "geopend_op": c.opened_on.isoformat(),
                        "gesloten_op": c.closed_on.isoformat() if c.closed_on else None,
                        "deelnemers": members, "overleggen": meetings})
        return out

    def workflows(self) -> list[dict]:
        return [{"id": f.id, "stand": labels.WORKFLOW_STATE.get(f.state, f.state),
                 "hulpvraag_over": [self.rs.domains.get(d, d)
                                    for d in self.json(f.scope) or []],
                 "stappen": [{"stap": s.step, "datum": s.taken_on.isoformat()}
                             for s in self.steps.get(f.id, ())]}
                for f in self.workflow_rows]

    def requests(self) -> list[dict]:
        return [{"id": r.id, "soort": labels.RIGHTS_REQUEST_KIND.get(r.kind, r.kind),
                 "ontvangen_op": r.received_on.isoformat(),
                 "besluit": labels.RIGHTS_REQUEST_DECISION.get(r.status, r.status),
                 "toelichting": r.motivation,
                 "besloten_op": r.decided_on.isoformat() if r.decided_on else None,
                 "geldt_tot": r.ends_on.isoformat() if r.ends_on else None}
                for r in self.request_rows]

    def corrections(self) -> list[dict]:
        # as correction_views
        return [_correction_fields(self.app.keys, self.key, r,
                                   (self.json(r.request_scope) or {}).get("target_guardian_id")
                                   if r.request_found is not None else None)
                for r in self.correction_rows]

    def log(self) -> list[dict]:
        for view in self.log_views:
            view["omschrijving"] = self.log_sentence(view)
        return self.log_views

    def log_sentence(self, view: dict) -> str:
        when = dutch_date(dt.date.fromisoformat(view["tijdstipRegistratie"][:10]))
        if "actieNaam" not in view:
            return f"{when}: deze regel is na de bewaartermijn opgeschoond."
        what = (labels.LOG_HANDELING_PLAIN.get(view.get("handelingNaam"))
                or labels.LOG_ACTION_PLAIN.get(view.get("actie")) or view["actieNaam"])
        text = f"{when}: {what}"
        cats = [c["soortGegeven"] for o in view.get("verwerkteObjecten") or []
                for c in o.get("verwerkteSoortenGegevens", [])]
        if cats:
            text += " (" + ", ".join(self.category_label(c) for c in dict.fromkeys(cats)) + ")"
        afnemer = view.get("deelwijs", {}).get("afnemer") or ""  # one without an OIN
        if afnemer.startswith("deelwijs:org:"):
            org = self.org(int(afnemer.rsplit(":", 1)[1]))
            if org is not None:
                text += f", ontvanger: {org.name}"
        return text + "."

    def purposes(self, used: list[str]) -> list[dict]:
        out = []
        for code in [*dict.fromkeys(used), "registratie", "rechten", "verwerkingslog"]:
            entry = _purpose_entry(self.rs, code)
            if entry is not None:  # a copy: the caller may change what it gets
                out.append({**entry, "grondslag": list(entry["grondslag"]),
                            "waarom_mag_het": list(entry["waarom_mag_het"])})
        return out

    def retention(self) -> list[dict]:
        out = []
        for c in sorted(self.case_rows, key=lambda c: c.id):
            if c.closed_on is None:
                term = self.rs.retention.get(RETENTION_RECORD)
                years = f"{term.years} jaar" if term else "de bewaartermijn"
                out.append({"wat": f"verslag van de casus '{self.text(c.title, c.title_enc)}'",
                            "tot": None,
                            "uitleg": f"De casus loopt nog. Als de casus is afgesloten, wordt "
                                      f"het verslag nog {years} bewaard en daarna vernietigd."})
                continue
            decision = retention_of_case(self.rs, c)
            until = dutch_date(dt.date.fromisoformat(decision["keep_until"]))
            plain = (f"Het verslag wordt uiterlijk op {until} vernietigd"
                     if decision.get("term") != "minimum"
                     else f"Het verslag wordt ten minste tot {until} bewaard")
            plain += (f": {decision['years']} jaar nadat de casus is afgesloten (op "
                      f"{dutch_date(c.closed_on)}).")
            out.append({"wat": f"verslag van de casus '{self.text(c.title, c.title_enc)}'",
                        "tot": decision["keep_until"], "uitleg": decision["explanation"],
                        "uitleg_eenvoudig": plain})
        years = audit.LOG_RETENTION.removeprefix("P").removesuffix("Y")
        out.append({"wat": "logboek (wie wanneer iets met de gegevens deed)", "tot": None,
                    "uitleg": f"Elke regel in het logboek wordt {years} jaar bewaard, zodat "
                              "later nog na te gaan is wat er met de gegevens is gebeurd. "
                              "Daarna wordt de inhoud van de regel gewist. In het logboek staat "
                              "geen naam of BSN, alleen een kenmerk dat zonder de sleutel van "
                              "het systeem niet naar de jongere leidt."})
        return out


# (ruleset digest, code) -> the inzage's entry for that purpose or activity (None: unknown);
# a pure function of the ruleset, which its digest names
_PURPOSE_ENTRIES: dict[tuple[str, str], dict | None] = {}


def _purpose_entry(rs: Ruleset, code: str) -> dict | None:
    key = (rs.digest, code)
    if key not in _PURPOSE_ENTRIES:
        if len(_PURPOSE_ENTRIES) >= 1024:
            _PURPOSE_ENTRIES.clear()
        try:
            act = register_mod.activity_for(rs, code)
        except register_mod.UnknownActivity:
            _PURPOSE_ENTRIES[key] = None
        else:
            _PURPOSE_ENTRIES[key] = {
                "code": code, "naam": act["naam"], "doel": act["doel"],
                "grondslag": [f"{g['naam']} ({g['avg']})"
                              + (f": {g['voorwaarde']}" if g.get("voorwaarde") else "")
                              for g in act["grondslag"]],
                "bewaartermijn": act["bewaartermijn"]["tekst"],
                # the same in plain Dutch, without codes or citations
                "uitleg": PURPOSE_PLAIN.get(code) or cap(act["doel"].split(". ")[0].rstrip(".")
                                                          ) + ".",
                "waarom_mag_het": list(dict.fromkeys(_ground_plain(rs, g)
                                                     for g in act["grondslag"])),
                "hoe_lang": _retention_plain(code, act["bewaartermijn"])}
    return _PURPOSE_ENTRIES[key]


def _ground_plain(rs: Ruleset, ground: dict) -> str:
    """A ground of the register (register.activity_for) in plain Dutch: why it may, and for
    which data. The conditions are the register's own fixed texts."""
    code, condition = ground["code"], ground.get("voorwaarde") or ""
    young, alone = rs.consent.youth_and_parents_from, rs.consent.youth_alone_from
    who = (f"tot {young} jaar van de ouders met gezag, van {young} tot {alone} jaar van de "
           f"ouders en de jongere samen, vanaf {alone} jaar van de jongere zelf")
    if "toestemming zelf" in condition:
        return f"Wie toestemming geeft, hangt af van de leeftijd: {who}."
    if "aantonen" in condition:
        return "De wet verplicht de organisatie om te kunnen laten zien dat er toestemming was."
    if "verzoeken van betrokkenen" in condition:
        return "De wet verplicht de organisatie om uw verzoeken te behandelen."
    if "verantwoordingsplicht" in condition:
        return ("De wet verplicht de organisatie om te kunnen laten zien dat zij zorgvuldig "
                "met de gegevens omgaat en ze goed beveiligt.")
    if code == "CONSENT":
        text = f"Met toestemming: {who}."
        if "binnenkant" in condition:
            text += (" Dit geldt voor gegevens over bijvoorbeeld gezondheid, thuis, gedrag of "
                     "hulp, en voor alles wat een hulpverlener met een beroepsgeheim weet")
            text += (", en voor alles wat naar een organisatie zonder overheidstaak gaat."
                     if "private" in condition else ".")
        return text
    text = cap(GROUND_PLAIN.get(code, "de wet staat het toe")) + "."
    if "buitenkant" in condition:
        text += (" Dit geldt voor gewone gegevens, zoals naam, school, verzuim en welke "
                 "organisaties betrokken zijn.")
    elif "hulpvraag" in condition:
        text += " Alleen voor de hulp waar de inwoner zelf om vroeg."
    elif "identificerende" in condition:
        text += " Dit geldt voor de gegevens die nodig zijn om te weten om wie het gaat."
    return text


def _retention_plain(code: str, retention: dict) -> str:
    """How long, in plain Dutch: the register's terms (each already a plain sentence), or
    for an activity without a term of its own, what applies instead."""
    if code == "registratie":
        return ("Zolang de jongere in een overleg of bij het delen van gegevens voorkomt, en "
                "daarna nog zo lang als het verslag van het overleg. Daarna worden de "
                "gegevens onleesbaar gemaakt.")
    if code == "verwerkingslog":
        years = audit.LOG_RETENTION.removeprefix("P").removesuffix("Y")
        return (f"{years} jaar. Daarna wordt de inhoud van elke regel gewist; dat er iets "
                "gebeurde, blijft te controleren.")
    if code in RETENTION_PLAIN:
        return RETENTION_PLAIN[code]
    terms = [cap(t["tekst"]) for t in retention.get("termijnen", ())]
    if len(terms) == 1:
        return terms[0] + "."
    if terms:
        return "Elke organisatie bewaart het in haar eigen dossier: " + "; ".join(
            t[:1].lower() + t[1:] for t in terms) + "."
    return "Zo lang als de organisatie voor haar eigen dossier heeft vastgesteld."


def cap(text: str) -> str:
    """The first letter as a capital, the rest unchanged (str.capitalize lowers the rest)."""
    return text[:1].upper() + text[1:]


def _and(words: list[str]) -> str:
    words = list(dict.fromkeys(words))
    if not words:
        return ""
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " en " + words[-1]


def _disclosure_sentence(row: orm.Disclosure, van: dict, aan: dict, purpose: str,
                         data: list[dict]) -> str:
    when = dutch_date(row.disclosed_on)
    shared = [d["categorie"] for d in data if d["gedeeld"]]
    refused = [d["categorie"] for d in data if not d["gedeeld"]]
    head = f"Op {when} wilde {van['naam']} ({van['soort']}) gegevens delen met {aan['naam']} " \
           f"({aan['soort']}) voor {purpose}."
    parts = [head]
    if shared:
        parts.append(f"Gedeeld: {_and(shared)}.")
    if refused:
        parts.append(f"Niet gedeeld, omdat het niet mocht: {_and(refused)}.")
    return " ".join(parts)


def your_rights(controller: str | None = None) -> list[dict]:
    """The further rights, in plain Dutch (B1). `controller`: the name of the controller
    (verwerkingsverantwoordelijke) to ask; without it, "de verwerkingsverantwoordelijke"."""
    who = controller or "de verwerkingsverantwoordelijke"
    return [
        {"recht": "Verbeteren (rectificatie)",
         "uitleg": "Klopt er iets niet, bijvoorbeeld een naam of geboortedatum? Vraag "
                   f"{who} dan om het te verbeteren. We bewaren wat er eerst stond en wat het "
                   "nu is (art. 16 AVG)."},
        {"recht": "Wissen (vergetelheid)",
         "uitleg": "U kunt vragen om de gegevens te wissen. Soms moeten we gegevens nog een tijd "
                   "bewaren, bijvoorbeeld het verslag van een overleg. Dan leggen we uit tot "
                   "wanneer (art. 17 AVG)."},
        {"recht": "Beperken",
         "uitleg": "U kunt vragen om de gegevens tijdelijk niet te gebruiken of niet te delen, "
                   "bijvoorbeeld terwijl we nakijken of ze kloppen (art. 18 AVG)."},
        {"recht": "Bezwaar",
         "uitleg": "U kunt bezwaar maken tegen het gebruik van de gegevens voor een bepaald doel. "
                   "Tegen iets wat de wet verplicht, zoals de melding van schoolverzuim aan "
                   "leerplicht, kunt u geen bezwaar maken (art. 21 AVG)."},
        {"recht": "Toestemming intrekken",
         "uitleg": "Heeft u toestemming gegeven? Dan kunt u die altijd weer intrekken. Vanaf dat "
                   "moment delen we niets meer op grond van die toestemming (art. 7 AVG)."},
        {"recht": "Klacht",
         "uitleg": "Bent u het niet eens met hoe wij met de gegevens omgaan? Zeg het eerst "
                   f"tegen {who} of tegen de functionaris gegevensbescherming. U kunt ook een "
                   "klacht indienen bij de Autoriteit Persoonsgegevens, "
                   "www.autoriteitpersoonsgegevens.nl (art. 77 AVG)."},
        {"recht": "Termijn",
         "uitleg": "We beantwoorden elk verzoek binnen een maand (art. 12 AVG)."},
    ]


# --- rectification (art. 16) ---------------------------------------------------------------


def _check_corrected_birth(session: Session, youth: orm.Youth, birth: dt.date) -> None:
    """A corrected date of birth holds for what was recorded already: the youth was born by
    the day of registration and at most 30 then (as youths.check_birth asks at registration),
    and no consent was given before it."""
    registered = youth.created_at.date() if youth.created_at is not None else birth
    if birth > registered:
        raise Invalid("born_after_registration", f"geboortedatum {birth.isoformat()} ligt na "
                      f"de registratie van de jongere ({dutch_date(registered)})", "value")
    youths.check_birth(birth, registered, "value")
    earliest = session.scalar(select(func.min(orm.ConsentRecord.given_on))
                              .where(orm.ConsentRecord.youth_id == youth.id))
    if earliest is not None and earliest < birth:
        raise Invalid("consent_before_birth", f"er is toestemming vastgelegd op "
                      f"{dutch_date(earliest)}, vóór geboortedatum {birth.isoformat()}; "
                      "controleer eerst die toestemming", "value")


def rectify(u: Unit, youth_id: int, field: str, new_value, *, requester: str,
            guardian_id: int | None = None, youth_agrees: bool = False,
            target_guardian_id: int | None = None) -> dict:
    """Correct the youth's name, date of birth, school or startkwalificatie (value "ja" or
    "nee": whether the youth holds a havo, vwo or mbo-2 diploma), or a parent's name (AVG
    art. 16).
    The old and the new value are kept, encrypted with the youth's key (YouthCorrection), so
    the history stays readable until the youth's data is shredded. Logged as "correct".

    `target_guardian_id` names the parent whose name is corrected (field "guardian_name").
    Only a professional corrects (`u.professional`, recorded as the corrector), on the unit's
    day."""
    session, app, today = u.session, u.app, u.today
    _may_handle(u, youth_id, "Een gegeven verbeteren")
    youth = _live_youth(session, youth_id)
    standing = _standing(session, app, youth, requester, guardian_id, today, youth_agrees)
    pro = _handler(u, youth, required=True)
    if field not in FIELDS:
        raise Invalid("unknown_code", "kies wat verbeterd wordt: name (naam), birth "
                      "(geboortedatum), school, guardian_name (naam van een ouder) of "
                      "startkwalificatie (ja of nee)", "field")
    value = str(new_value).strip() if new_value is not None else ""
    if not value:
        raise Invalid("missing_field", "geef de juiste waarde", "value")
    keys, key = app.keys, app.keys.unwrap(youth.key_wrapped)
    target = None
    category = "identificatie"
    if field == "name":
        old = keys.decrypt(key, youth.name_enc)
    elif field == "birth":
        try:
            birth = dt.date.fromisoformat(value)
        except ValueError:
            raise Invalid("invalid_date", f"'{value}' is geen datum in de vorm JJJJ-MM-DD",
                          "value") from None
        if birth > today:
            raise Invalid("birth_in_future", f"geboortedatum {birth.isoformat()} ligt in de "
                          "toekomst", "value")
        _check_corrected_birth(session, youth, birth)
        value = birth.isoformat()
        old = keys.decrypt(key, youth.birth_enc)
    elif field == "school":
        category = "onderwijspositie"
        try:
            school_id = int(value)
        except ValueError:
            raise Invalid("wrong_type", "geef het nummer (id) van het schoolbestuur",
                          "value") from None
        school = session.get(orm.Organisation, school_id)
        if school is None:
            raise NotFound("not_found", f"onbekende organisatie ({school_id})", "value")
        if school.region_id != youth.region_id:
            raise Invalid("other_region", f"{school.name} hoort niet bij deze regio", "value")
        if school.party != "school":
            raise Invalid("not_a_school", f"{school.name} is geen schoolbestuur", "value")
        value = str(school.id)
        old = str(youth.school_id) if youth.school_id is not None else ""
    elif field == "startkwalificatie":
        category = "onderwijspositie"
        if value.lower() not in _YES_NO:
            raise Invalid("wrong_type", f"'{value}': geef ja of nee (heeft de jongere een "
                          "diploma havo, vwo of mbo-2?)", "value")
        value = "ja" if _YES_NO[value.lower()] else "nee"
        old = "ja" if youth.startkwalificatie else "nee"
    else:
        if target_guardian_id is None:
            raise Invalid("missing_field", "noem de ouder of voogd van wie de naam verbeterd "
                          "wordt", "target_guardian_id")
        target = session.get(orm.Guardian, target_guardian_id)
        if target is None or target.youth_id != youth.id:
            raise Invalid("unknown_guardian", "kies een ouder of voogd van deze jongere",
                          "target_guardian_id")
        old = keys.decrypt(key, target.name_enc)
    if field != "guardian_name" and target_guardian_id is not None:
        raise Invalid("unexpected_guardian", "alleen bij guardian_name hoort een ouder",
                      "target_guardian_id")
    if value == old:
        raise Invalid("no_change", "de nieuwe waarde is gelijk aan de huidige", "value")

    request = _record(session, youth, "rectificatie", standing, today, "toegewezen",
                      f"{cap(labels.RECTIFIABLE_FIELD[field])} verbeterd.",
                      {"field": field, "target_guardian_id": target_guardian_id}, pro)
    if field == "name":
        youth.name_enc = keys.encrypt(key, value)
    elif field == "birth":
        youth.birth_enc = keys.encrypt(key, value)
    elif field == "school":
        youth.school_id = int(value)
    elif field == "startkwalificatie":
        youth.startkwalificatie = value == "ja"
    else:
        target.name_enc = keys.encrypt(key, value)
    correction = orm.YouthCorrection(
        youth_id=youth.id, request_id=request.id, field=field,
        old_enc=keys.encrypt(key, old) if old else None, new_enc=keys.encrypt(key, value),
        corrected_on=today, by_id=pro.id)
    session.add(correction)
    session.flush()
    _log(session, youth, "correct", f"Corrigeren {labels.RECTIFIABLE_FIELD[field]}", [category],
         pro, request,
         {"correctie": {"id": correction.id, "gegeven": field}})
    return {"request": request_view(request),
            "correction": _correction_view(keys, key, correction, request),
            "notify": _recipients(session, youth.id)}


def _correction_view(keys, key: bytes | None, row: orm.YouthCorrection,
                     request: orm.RightsRequest | None) -> CorrectionView:
    target = (request.scope or {}).get("target_guardian_id") if request is not None else None
    return _correction_fields(keys, key, row, target)


def _correction_fields(keys, key: bytes | None, row, target: int | None) -> CorrectionView:
    def text(token):
        if token is None:
            return None
        return keys.decrypt(key, token) if key is not None else "[vernietigd]"

    return {"id": row.id, "field": row.field,
            "label": labels.RECTIFIABLE_FIELD.get(row.field, row.field),
            "guardian_id": target, "old": text(row.old_enc), "new": text(row.new_enc),
            "corrected_on": row.corrected_on.isoformat(), "by": row.by_id,
            "request_id": row.request_id}


def correction_views(session: Session, app: App, youth: orm.Youth) -> list[CorrectionView]:
    key = app.keys.unwrap(youth.key_wrapped) if youth.key_wrapped is not None else None
    rows = session.scalars(select(orm.YouthCorrection).where(
        orm.YouthCorrection.youth_id == youth.id).order_by(orm.YouthCorrection.id)).all()
    return [_correction_view(app.keys, key, r,
                             session.get(orm.RightsRequest, r.request_id) if r.request_id
                             else None) for r in rows]


def corrections(u: Unit, youth_id: int) -> list[dict]:
    """The rectification history of a youth, decrypted (oldest first). Reading it is logged
    (in the name of the acting professional, or the administrator)."""
    session, app = u.session, u.app
    _may_handle(u, youth_id, "De correctiegeschiedenis inzien")
    youth = youths.get_youth(session, youth_id)
    pro = _handler(u, youth)
    out = correction_views(session, app, youth)
    if youth.key_wrapped is not None and out:
        _log(session, youth, "read", "Inzien correctiegeschiedenis", ["identificatie"], pro,
             None)
    return out


# --- erasure (art. 17) ---------------------------------------------------------------------


def retention_of_case(ruleset: Ruleset, case: orm.Case) -> dict:
    """The engine's retention answer for the minutes of a closed case (contract §4)."""
    request = parse_request({"kind": "retention", "record": RETENTION_RECORD,
                             "ended_on": case.closed_on.isoformat()}, ruleset, "request")
    return to_json(decide(request, ruleset))


def erasure_blockers(session: Session, app: App, youth: orm.Youth, today: dt.date
                     ) -> list[dict]:
    """What still keeps the youth's data from being erased on `today`: an open case, an open
    municipal workflow, or a closed case whose minutes are still within their retention term
    (asked of the engine under the region's ruleset of the day). Each with a Dutch message."""
    _, ruleset = app.active_ruleset(session, youth.region_id, today)
    out = []
    texts = Texts.for_youth(session, youth.id, app.keys)
    for c in session.scalars(select(orm.Case).where(orm.Case.youth_id == youth.id)
                             .order_by(orm.Case.id)):
        title = texts.open(c.title, c.title_enc)
        if c.closed_on is None:
            out.append({"kind": "open_case", "case_id": c.id, "until": None,
                        "message": f"de casus '{title}' (nummer {c.id}) loopt nog; pas als "
                                   "die is afgesloten, begint de bewaartermijn van het verslag"})
            continue
        answer = retention_of_case(ruleset, c)
        until = dt.date.fromisoformat(answer["keep_until"])
        if until > today:
            rule = ruleset.rules.get(answer["rule"])
            cite = f"; {rule.citations.text()}" if rule and rule.citations.text() else ""
            out.append({
                "kind": "retention", "case_id": c.id, "until": until.isoformat(),
                "rule": answer["rule"], "years": answer["years"],
                "message": f"het verslag van de casus '{title}' (nummer {c.id}) moet volgens "
                           f"de bewaartermijn voor verslagen van het casusoverleg "
                           f"({answer['years']} jaar na afsluiting op "
                           f"{dutch_date(c.closed_on)}{cite}) bewaard blijven tot "
                           f"{dutch_date(until)}"})
    for f in session.scalars(select(orm.Workflow).where(orm.Workflow.youth_id == youth.id)
                             .order_by(orm.Workflow.id)):
        if f.state not in wf.FINAL:
            out.append({"kind": "open_workflow", "workflow_id": f.id, "until": None,
                        "message": f"het werkproces van de gemeente (nummer {f.id}) loopt nog "
                                   f"({labels.WORKFLOW_STATE.get(f.state, f.state)})"})
    return out


def _refusal_text(blockers: list[dict]) -> str:
    text = "Wissen kan nu niet: " + "; ".join(b["message"] for b in blockers) + "."
    if all(b["until"] for b in blockers):
        last = max(dt.date.fromisoformat(b["until"]) for b in blockers)
        text += f" Vanaf {dutch_date(last)} kunt u opnieuw vragen om de gegevens te wissen."
    else:
        text += (" Als de casus of het werkproces is afgesloten en de bewaartermijn voorbij is, "
                 "kunt u opnieuw vragen om de gegevens te wissen.")
    return text


def shred_youth(session: Session, youth: orm.Youth, reason: str, *,
                pro: orm.Professional | None = None, activity: str = "registratie",
                extra: dict | None = None) -> bool:
    """Crypto-shred a youth: destroy the wrapped data key, the BSN hash and the encrypted BSN,
    and record when. Name, date of birth, the parents' names, encrypted minutes, disclosure
    contents and corrections stay as ciphertext nobody can read any more. Writes the "erase"
    log entry (`reason` is its handeling, in Dutch), in the caller's transaction; the caller
    does not log it again. Returns False (and does nothing) when already shredded.

    Called by erase() on request and by the retention run."""
    if youth.key_wrapped is None:
        return False
    youth.key_wrapped = None
    youth.bsn_hash = None
    youth.bsn_enc = None
    youth.startkwalificatie = False  # (kept in the clear: nothing of the youth's is left)
    youth.shredded_at = audit.now()
    session.flush()
    audit.log_system(
        session, region_id=youth.region_id, name=activity, actie="erase", youth_id=youth.id,
        categories=["identificatie", "bsn"], handeling=reason, professional=pro,
        uitvoerder=session.get(orm.Organisation, pro.organisation_id) if pro else None,
        extra={"vernietigd": {"sleutel": True, "bsn": True}, **(extra or {})})
    return True


def _record_refusal(session: Session, youth: orm.Youth, standing: Standing,
                    pro: orm.Professional | None, today: dt.date, message: str,
                    blockers: list[dict]) -> int:
    row = _record(session, youth, "wissing", standing, today, "afgewezen", message,
                  {"blockers": blockers}, pro)
    _log(session, youth, "erase", "Weigeren wissing (bewaartermijn)", ["identificatie"], pro,
         row, {"besluit": "afgewezen"})
    return row.id


def _has_written(session: Session) -> bool:
    """Whether the session's transaction has written (or locked) anything yet."""
    if session.new or session.dirty or session.deleted:
        return True
    conn = session.connection()
    name = conn.dialect.name
    if name == "sqlite":  # pysqlite begins a transaction only before the first write
        return bool(conn.connection.dbapi_connection.in_transaction)
    if name == "postgresql":  # an xid is assigned at the first write or row lock
        return bool(conn.exec_driver_sql(
            "SELECT pg_current_xact_id_if_assigned() IS NOT NULL").scalar())
    return True


def erase(u: Unit, youth_id: int, *, requester: str, guardian_id: int | None = None,
          youth_agrees: bool = False) -> dict:
    """Erase the youth's data on request (AVG art. 17) by crypto-shredding, unless something
    must still be kept (erasure_blockers; art. 17 lid 3 sub b). A refusal is recorded and
    logged in its own transaction, then ErasureRefused is raised with a Dutch message that
    names the term and the date until which the data must be kept. (When the caller's
    transaction already wrote something, the refusal is recorded in it instead, to avoid
    waiting on its locks: catch ErasureRefused inside that transaction to keep it.)"""
    session, app, today = u.session, u.app, u.today
    _may_handle(u, youth_id, "Een verzoek om wissen behandelen")
    youth = _live_youth(session, youth_id)
    standing = _standing(session, app, youth, requester, guardian_id, today, youth_agrees)
    pro = _handler(u, youth)
    blockers = erasure_blockers(session, app, youth, today)
    if blockers:
        message = _refusal_text(blockers)
        if _has_written(session):
            # A second transaction could wait forever on this one's locks (the log head):
            # record in the caller's, which keeps it only if it catches ErasureRefused.
            request_id = _record_refusal(session, youth, standing, pro, today, message,
                                         blockers)
        else:
            with app.transaction() as own:
                g = own.get(orm.Guardian, standing.guardian.id) if standing.guardian else None
                request_id = _record_refusal(
                    own, own.get(orm.Youth, youth.id),
                    Standing(standing.requester, g, standing.age, standing.youth_agrees,
                             standing.basis),
                    own.get(orm.Professional, pro.id) if pro else None, today, message,
                    blockers)
        raise ErasureRefused(message, request_id, blockers)
    notify = _recipients(session, youth.id)
    request = _record(session, youth, "wissing", standing, today, "toegewezen",
                      "De gegevens zijn vernietigd: de sleutel waarmee ze versleuteld waren, "
                      "is gewist. Niemand kan ze nog lezen.", {"notify": notify}, pro)
    shred_youth(session, youth, "Wissen op verzoek van betrokkene (art. 17 AVG)", pro=pro,
                activity="rechten",
                extra={"verzoek": {"id": request.id, "soort": "wissing",
                                   "verzoeker": request.requester, "status": request.status}})
    return {"request": request_view(request), "notify": notify,
            "shredded_at": youth.shredded_at.isoformat()}


# --- restriction (art. 18) and objection (art. 21) -----------------------------------------


def _scope(session: Session, app: App, youth: orm.Youth, today: dt.date, purposes,
           categories, recipient_ids) -> tuple[Ruleset, list[str], list[str], list[int]]:
    _, ruleset = app.active_ruleset(session, youth.region_id, today)
    model: list[str] = []
    for p in purposes or ():
        code = ruleset.overleg_types.get(p, p) if isinstance(p, str) else p
        if code not in ruleset.purposes:
            names = ", ".join([*ruleset.purposes, *ruleset.overleg_types])
            raise Invalid("unknown_code", f"onbekend doel '{p}' (kies uit {names})", "purposes")
        model.append(code)
    cats: list[str] = []
    for c in categories or ():
        if c not in codes.CATEGORIES:
            raise Invalid("unknown_code", f"onbekende gegevenscategorie '{c}'", "categories")
        cats.append(c)
    orgs: list[int] = []
    for r in recipient_ids or ():
        if not isinstance(r, int) or isinstance(r, bool):
            raise Invalid("wrong_type", "ontvangers zijn organisatie-id's", "recipient_ids")
        org = session.get(orm.Organisation, r)
        if org is None:
            raise NotFound("not_found", f"onbekende organisatie ({r})", "recipient_ids")
        if org.region_id != youth.region_id:
            raise Invalid("other_region", f"{org.name} hoort niet bij deze regio",
                          "recipient_ids")
        orgs.append(r)
    return (ruleset, list(dict.fromkeys(model)), list(dict.fromkeys(cats)),
            list(dict.fromkeys(orgs)))


def _legal_split(ruleset: Ruleset, purposes: list[str]) -> tuple[list[str], list[str], bool]:
    """(purposes that can be honoured, legal routes that cannot, whether every purpose was
    meant). An empty list means every purpose: then every purpose but the legal routes."""
    everything = not purposes
    asked = purposes or [p for p in codes.PURPOSES if p in ruleset.purposes]
    legal = [p for p in asked if ruleset.purposes[p].route == "legal"]
    return [p for p in asked if p not in legal], legal, everything


def _labels(ruleset: Ruleset, purposes: list[str]) -> str:
    return _and([ruleset.purposes[p].label for p in purposes])


def restrict(u: Unit, youth_id: int, *, requester: str, reason: str,
             guardian_id: int | None = None, youth_agrees: bool = False, purposes=(),
             categories=(), recipient_ids=(), ends_on: dt.date | None = None) -> dict:
    """Restrict the processing of the youth's data (AVG art. 18) for a scope: purposes, data
    categories, recipients (an empty list means all). From today until `ends_on` (or until
    lifted), disclosures in that scope are refused. Legal routes (the absence report to
    leerplicht, the meldcode, child protection, the transfer to the next school) go on
    (art. 18 lid 2 AVG): a restriction that names only those is refused, one that names them
    among others is partly honoured."""
    session, app, today = u.session, u.app, u.today
    _may_handle(u, youth_id, "Een verzoek om beperking behandelen")
    youth = _live_youth(session, youth_id)
    standing = _standing(session, app, youth, requester, guardian_id, today, youth_agrees)
    if reason not in RESTRICTION_REASONS:
        raise Invalid("unknown_code", "kies waarom het gebruik beperkt wordt: "
                      + ", ".join(RESTRICTION_REASONS), "reason")
    if ends_on is not None and ends_on <= today:
        raise Invalid("invalid_date", "de einddatum van de beperking ligt niet na vandaag",
                      "ends_on")
    pro = _handler(u, youth)
    ruleset, model, cats, orgs = _scope(session, app, youth, today, purposes, categories,
                                        recipient_ids)
    honoured, legal, everything = _legal_split(ruleset, model)
    why = RESTRICTION_REASONS[reason]
    if not honoured:
        status = "afgewezen"
        route = "is een wettelijke route" if len(legal) == 1 else "zijn wettelijke routes"
        motivation = (f"Beperking afgewezen. {cap(_labels(ruleset, legal))} {route}"
                      ": wat de wet verplicht of toestaat om een kind te beschermen, gaat door, "
                      "ook als het gebruik beperkt is (art. 18 lid 2 AVG).")
    else:
        status = "toegewezen" if everything or not legal else "deels"
        motivation = f"Beperking toegewezen, want {why}."
        if legal:
            motivation += (" Wettelijke routes gaan wel door (art. 18 lid 2 AVG): "
                           f"{_labels(ruleset, legal)}.")
        if ends_on is not None:
            motivation += f" De beperking geldt tot {dutch_date(ends_on)}."
    scope = {"reason": reason,
             "asked": {"purposes": model, "categories": cats, "recipient_ids": orgs},
             "honoured": ({"purposes": honoured, "categories": cats, "recipient_ids": orgs}
                          if honoured else None)}
    request = _record(session, youth, "beperking", standing, today, status, motivation, scope,
                      pro, ends_on=ends_on if honoured else None)
    _log(session, youth, "restrict", "Vastleggen beperking", cats or ["identificatie"], pro,
         request, {"beperking": {"doelen": honoured, "gegevens": cats, "ontvangers": orgs}})
    return {"request": request_view(request), "status": status, "motivation": motivation,
            "notify": _recipients(session, youth.id) if honoured else []}


def object_to(u: Unit, youth_id: int, *, requester: str, guardian_id: int | None = None,
              youth_agrees: bool = False, purposes=(), categories=(), recipient_ids=(),
              refusal: str | None = None) -> dict:
    """Object to the processing of the youth's data (AVG art. 21) for a scope (an empty list
    means all). An honoured objection turns the consent for that scope into a refusal in every
    later disclosure. An objection against a legal duty (the legal routes: the absence report
    to leerplicht, the meldcode, child protection, the transfer to the next school) cannot be
    honoured. `refusal`: the handler's motivation to refuse anyway (compelling legitimate
    grounds, art. 21 lid 1 AVG)."""
    session, app, today = u.session, u.app, u.today
    _may_handle(u, youth_id, "Een bezwaar behandelen")
    youth = _live_youth(session, youth_id)
    standing = _standing(session, app, youth, requester, guardian_id, today, youth_agrees)
    if refusal is not None and not str(refusal).strip():
        raise Invalid("missing_field", "een afwijzing heeft een motivering", "refusal")
    pro = _handler(u, youth)
    ruleset, model, cats, orgs = _scope(session, app, youth, today, purposes, categories,
                                        recipient_ids)
    honoured, legal, everything = _legal_split(ruleset, model)
    legal_text = ""
    if legal:
        legal_text = (f"Tegen een wettelijke plicht kunt u geen bezwaar maken: "
                      f"{_labels(ruleset, legal)} gaat door, omdat de wet dat verplicht of "
                      "toestaat (bijvoorbeeld de melding van schoolverzuim aan leerplicht). "
                      "Bezwaar kan alleen tegen gebruik voor een publieke taak of een "
                      "gerechtvaardigd belang (art. 21 lid 1 AVG).")
    if refusal is not None:
        honoured = []
        status = "afgewezen"
        motivation = f"Bezwaar afgewezen: {str(refusal).strip()}"
    elif not honoured:
        status = "afgewezen"
        motivation = "Bezwaar afgewezen. " + legal_text
    else:
        status = "toegewezen" if everything or not legal else "deels"
        motivation = (f"Bezwaar toegewezen: de gegevens worden niet meer gebruikt voor "
                      f"{_labels(ruleset, honoured)}.")
        if legal:
            motivation += " " + (legal_text if not everything else
                                 f"Wettelijke routes gaan wel door: {_labels(ruleset, legal)}.")
    scope = {"asked": {"purposes": model, "categories": cats, "recipient_ids": orgs},
             "honoured": ({"purposes": honoured, "categories": cats, "recipient_ids": orgs}
                          if honoured else None)}
    request = _record(session, youth, "bezwaar", standing, today, status, motivation.strip(),
                      scope, pro)
    _log(session, youth, "object", "Vastleggen bezwaar", cats or ["identificatie"], pro,
         request, {"bezwaar": {"doelen": honoured, "gegevens": cats, "ontvangers": orgs}})
    return {"request": request_view(request), "status": status,
            "motivation": request.motivation}


def lift_restriction(u: Unit, request_id: int, *, motivation: str) -> dict:
    """End an honoured restriction (or withdraw an honoured objection) from the unit's day
    (`u.today`). The youth or parent is told before a restriction is lifted (art. 18 lid 3
    AVG): `motivation` says why, in Dutch."""
    session, today = u.session, u.today
    access.require_professional(u, "Een beperking opheffen")
    row = get_request(session, request_id)
    if u.actor.is_professional:
        try:
            access.require_youth(u, row.youth_id)
        except NotFound:  # another organisation's request: as an unknown one
            raise NotFound("not_found", f"onbekend verzoek ({request_id})", "request") from None
    if row.kind not in ("beperking", "bezwaar"):
        raise Invalid("wrong_kind", f"verzoek {row.id} is geen beperking of bezwaar "
                      f"({labels.RIGHTS_REQUEST_KIND.get(row.kind, row.kind)})", "request")
    if not isinstance(today, dt.date):
        raise Invalid("wrong_type", "de datum ontbreekt", "today")
    if row.status not in HONOURED:
        raise Refused("not_in_force", "dit verzoek is afgewezen; er is niets op te heffen",
                      "request")
    if row.ends_on is not None and row.ends_on <= today:
        raise Refused("already_ended", f"deze {labels.RIGHTS_REQUEST_KIND[row.kind]} geldt al niet "
                      "meer (sinds "
                      f"{dutch_date(row.ends_on)})", "request")
    if row.decided_on is not None and today < row.decided_on:
        raise Invalid("invalid_date", "opheffen kan niet vóór de dag van het besluit", "today")
    if not motivation or not str(motivation).strip():
        raise Invalid("missing_field", "zeg waarom de beperking wordt opgeheven (de jongere of "
                      "ouder krijgt dit te horen)", "motivation")
    youth = youths.get_youth(session, row.youth_id)
    pro = _handler(u, youth)
    row.ends_on = today
    row.scope = {**(row.scope or {}),
                 "lifted": {"on": today.isoformat(), "by": pro.id if pro else None,
                            "motivation": str(motivation).strip()}}
    session.flush()
    actie = "restrict" if row.kind == "beperking" else "object"
    _log(session, youth, actie, "Opheffen beperking" if actie == "restrict"
         else "Intrekken bezwaar", ["identificatie"], pro, row, {"opgeheven": today.isoformat()})
    return request_view(row)
