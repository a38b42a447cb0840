"""The breach register (datalekkenregister, AVG art. 33 lid 5): every personal-data breach with
its facts, the affected youths, the measures taken, and what was notified to whom.

- The Autoriteit Persoonsgegevens (AP) must be notified within 72 hours of discovery (AVG
  art. 33 lid 1): `ap_deadline` is `discovered_at` + 72 h. Only when the breach is unlikely to
  result in a risk (risk "onwaarschijnlijk") may the controller not notify, and it records
  why (`no_notification`). A late notification states the reasons for the delay.
- When the risk is high ("hoog"), every affected youth (or the parents) must be informed
  (AVG art. 34): `must_inform` on each subject.
- The covenant partners are told as well (`notify_partners`); the covenant sets no deadline.

Times are stored as UTC without a zone, like every other moment in Deelwijs; a service takes
an aware datetime (converted) or a naive one (taken as UTC). Views show them in Dutch time.
Every use case takes the unit of work (`u: Unit`, services/context.py) first. Writes are
recorded in the name of the acting professional (`u.professional_or("by")`: not the
administrator), who works in the breach's region (`access.require_region`); `u.today` is the
"today" a date informed on may not lie after. The reads (`get_breach`, `list_breaches`,
`overdue`) show the operator everything, the FG or administrator of a region the region's
breaches, a professional those of their own organisation (access.require_breach); a
professional records a breach only of their own organisation.
Updates name the version the caller saw (`expected_version`); a stale one is a Conflict.
Every write is logged ("breach", activity "datalekken"), one entry per affected youth.
Bad input raises a ServiceError with a Dutch message before anything is written.
"""

from __future__ import annotations

import datetime as dt
import difflib
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError

from deelwijs.domain import codes, labels
from deelwijs.domain.bsn import find_bsn, masked
from deelwijs.domain.render import dutch_date
from deelwijs.services import access
from deelwijs.services.context import Unit
from deelwijs.services.errors import Conflict, Invalid, NotFound, Refused
from deelwijs.services.log import audit
from deelwijs.services.views import BreachView
from deelwijs.storage import orm

AP_HOURS = 72
RISKS = ("onwaarschijnlijk", "risico", "hoog")
CATEGORIES = (*codes.CATEGORIES, "bsn")
LOCAL = ZoneInfo("Europe/Amsterdam")


# --- moments -------------------------------------------------------------------------------


def utc(value, field: str) -> dt.datetime:
    """A moment as stored: UTC without a zone. Naive input is taken as UTC already."""
    if not isinstance(value, dt.datetime):
        raise Invalid("wrong_type", "geef een datum met tijd", field)
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def local(moment: dt.datetime | None) -> str | None:
    """A stored moment in Dutch time, ISO 8601 with its offset."""
    if moment is None:
        return None
    return moment.replace(tzinfo=dt.UTC).astimezone(LOCAL).isoformat(timespec="minutes")


def dutch_moment(moment: dt.datetime) -> str:
    at = moment.replace(tzinfo=dt.UTC).astimezone(LOCAL)
    return f"{dutch_date(at.date())} om {at:%H:%M}"


def _not_future(moment: dt.datetime, field: str, what: str) -> None:
    if moment > audit.now():
        raise Invalid("invalid_date", f"{what} ligt in de toekomst", field)


def _text(value, field: str, message: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise Invalid("missing_field", message, field)
    return value.strip()


_WHAT = {"description": "de beschrijving", "measures": "de maatregelen",
         "reason": "de reden", "delay_reason": "de reden van de vertraging"}


def _no_bsn(value: str, field: str) -> None:
    """The register is kept as written (and its reasons go into the processing log): a BSN in
    its free text is refused. The affected youths are named by their id."""
    found = find_bsn(value)
    if found is not None:
        raise Invalid("contains_bsn", f"{_WHAT.get(field, 'de tekst')} bevat een BSN "
                      f"({masked(found)}). Het datalekkenregister bewaart geen BSN's: laat het "
                      "weg en noem de geraakte jongeren met hun id", field)


# --- look-ups ------------------------------------------------------------------------------


def get_breach(u: Unit, breach_id: int, field: str = "breach") -> orm.Breach:
    """One breach by its id (`deelwijs breach show`): for the operator, the FG or
    administrator of its region, or a professional of the organisation it is about
    (access.require_breach; anyone else's is answered as an unknown one)."""
    row = u.session.get(orm.Breach, breach_id) if isinstance(breach_id, int) else None
    return access.require_breach(u, row, breach_id, field)


def _recorder(u: Unit, region_id: int) -> orm.Professional:
    """The professional in whose name a write is recorded: one of the breach's region."""
    pro = u.professional_or("by", "het datalekkenregister bijhouden")
    access.require_region(u, region_id, "by")
    return pro


def _subjects(session: Session, breach_id: int) -> list[orm.BreachSubject]:
    return list(session.scalars(select(orm.BreachSubject).where(
        orm.BreachSubject.breach_id == breach_id).order_by(orm.BreachSubject.youth_id)))


def _check_version(breach: orm.Breach, expected_version) -> None:
    if not isinstance(expected_version, int) or isinstance(expected_version, bool):
        raise Invalid("missing_field", "noem de versie van het datalek die u zag",
                      "expected_version")
    if breach.version != expected_version:
        raise Conflict("conflict", f"het datalek is intussen gewijzigd (versie "
                       f"{breach.version}, u zag {expected_version}); laad opnieuw",
                       "expected_version")


def _save(session: Session) -> None:
    try:
        session.flush()
    except StaleDataError:
        raise Conflict("conflict", "het datalek is intussen door iemand anders gewijzigd; "
                       "niets van uw wijziging is opgeslagen. Laad opnieuw en probeer het nog "
                       "eens.", "expected_version") from None


def _log(session: Session, breach: orm.Breach, handeling: str, pro: orm.Professional,
         youth_ids: list[int] | None = None, extra: dict | None = None) -> None:
    """One entry per affected youth (one without a subject when none is known)."""
    if youth_ids is None:
        youth_ids = [s.youth_id for s in _subjects(session, breach.id)]
    org = session.get(orm.Organisation, pro.organisation_id)
    body = {"datalek": {"id": breach.id, "risico": breach.risk,
                        "ontdekt": breach.discovered_at.isoformat(),
                        "ap_deadline": breach.ap_deadline.isoformat(),
                        "versie": breach.version}, **(extra or {})}
    for youth_id in youth_ids or [None]:
        audit.log_system(session, region_id=breach.region_id, name="datalekken",
                         actie="breach", youth_id=youth_id, categories=list(breach.categories),
                         handeling=handeling, professional=pro, uitvoerder=org,
                         verwerking="Datalek", verwerking_id=f"deelwijs:datalek:{breach.id}",
                         extra=body)


# --- writing -------------------------------------------------------------------------------


def record_breach(u: Unit, *, region: orm.Region | int, organisation_id: int,
                  discovered_at: dt.datetime, description: str, categories: list[str],
                  risk: str, youth_ids: list[int], measures: str = "") -> orm.Breach:
    """Record a breach discovered at `discovered_at`, in the name of the acting professional.
    The AP deadline is 72 hours later; when the risk is high every affected youth must be
    informed."""
    session = u.session
    region_id = region.id if isinstance(region, orm.Region) else region
    if not isinstance(region_id, int) or session.get(orm.Region, region_id) is None:
        raise NotFound("not_found", f"onbekende regio ({region_id})", "region")
    discovered = utc(discovered_at, "discovered_at")
    _not_future(discovered, "discovered_at", "het moment van ontdekken")
    description = _text(description, "description", "beschrijf wat er is gebeurd")
    _no_bsn(description, "description")
    if not isinstance(categories, list | tuple) or not categories:
        raise Invalid("missing_field", "noem ten minste één gegevenscategorie die gelekt is",
                      "categories")
    for i, cat in enumerate(categories):
        if cat not in CATEGORIES:
            near = difflib.get_close_matches(str(cat), CATEGORIES, n=1)
            hint = f" (bedoelt u '{near[0]}'?)" if near else ""
            raise Invalid("unknown_code", f"onbekende gegevenscategorie '{cat}'{hint}",
                          f"categories[{i}]")
    if risk not in RISKS:
        raise Invalid("unknown_code", f"onbekend risico '{risk}' (kies uit "
                      f"{', '.join(RISKS)})", "risk")
    if not isinstance(measures, str):
        raise Invalid("wrong_type", "de maatregelen zijn tekst", "measures")
    _no_bsn(measures, "measures")
    org = session.get(orm.Organisation, organisation_id) \
        if isinstance(organisation_id, int) else None
    if org is None:
        raise NotFound("not_found", f"onbekende organisatie ({organisation_id})",
                       "organisation_id")
    if org.region_id != region_id:
        raise Invalid("other_region", f"{org.name} hoort niet bij deze regio",
                      "organisation_id")
    pro = _recorder(u, region_id)
    if u.actor.is_professional and org.id != pro.organisation_id:
        raise Refused("other_organisation", f"{pro.name} legt alleen datalekken van de eigen "
                      f"organisatie vast, niet van {org.name}", "organisation_id")
    if not isinstance(youth_ids, list | tuple):
        raise Invalid("wrong_type", "de geraakte jongeren zijn een lijst van id's",
                      "youth_ids")
    ids: list[int] = []
    for i, youth_id in enumerate(youth_ids):
        youth = session.get(orm.Youth, youth_id) if isinstance(youth_id, int) else None
        if youth is None:
            raise NotFound("not_found", f"onbekende jongere ({youth_id})", f"youth_ids[{i}]")
        if youth.region_id != region_id:
            raise Invalid("other_region", f"jongere {youth_id} hoort niet bij deze regio",
                          f"youth_ids[{i}]")
        if youth_id not in ids:
            ids.append(youth_id)
    breach = orm.Breach(region_id=region_id, organisation_id=org.id, discovered_at=discovered,
                        ap_deadline=discovered + dt.timedelta(hours=AP_HOURS),
                        description=description, categories=list(dict.fromkeys(categories)),
                        risk=risk, measures=measures.strip(), recorded_by_id=pro.id)
    session.add(breach)
    session.flush()
    for youth_id in ids:
        session.add(orm.BreachSubject(breach_id=breach.id, youth_id=youth_id,
                                      must_inform=risk == "hoog"))
    session.flush()
    _log(session, breach, "Registreren datalek", pro, ids,
         {"betrokkenen_informeren": risk == "hoog"})
    return breach


def notify_ap(u: Unit, breach_id: int, *, expected_version: int,
              notified_at: dt.datetime, reference: str,
              delay_reason: str | None = None) -> orm.Breach:
    """Record the notification to the AP, with the AP's reference. After the 72-hour deadline
    the reasons for the delay must be given (AVG art. 33 lid 1)."""
    session = u.session
    breach = get_breach(u, breach_id)
    _check_version(breach, expected_version)
    pro = _recorder(u, breach.region_id)
    at = utc(notified_at, "notified_at")
    _not_future(at, "notified_at", "het moment van melden")
    if at < breach.discovered_at:
        raise Invalid("invalid_date", "de melding ligt vóór het ontdekken van het lek",
                      "notified_at")
    reference = _text(reference, "reference", "noem het kenmerk van de melding bij de AP")
    if len(reference) > 100:
        raise Invalid("too_long", f"het kenmerk is te lang ({len(reference)} tekens; ten "
                      "hoogste 100)", "reference")
    if breach.ap_notified_at is not None:
        raise Refused("already_notified", f"dit datalek is al gemeld bij de AP (op "
                      f"{dutch_moment(breach.ap_notified_at)}, kenmerk "
                      f"{breach.ap_reference})", "breach")
    late = at > breach.ap_deadline
    if late and not (isinstance(delay_reason, str) and delay_reason.strip()):
        raise Invalid("missing_field", f"de melding is later dan 72 uur na ontdekking (de "
                      f"termijn liep tot {dutch_moment(breach.ap_deadline)}): geef de reden "
                      "van de vertraging (art. 33 lid 1 AVG)", "delay_reason")
    if late:
        _no_bsn(delay_reason, "delay_reason")
    breach.ap_notified_at = at
    breach.ap_reference = reference
    _save(session)
    _log(session, breach, "Melden datalek aan de Autoriteit Persoonsgegevens", pro,
         extra={"ap_melding": {"gemeld": at.isoformat(), "kenmerk": reference,
                               "te_laat": late,
                               **({"reden_vertraging": delay_reason.strip()} if late else {})}})
    return breach


def no_notification(u: Unit, breach_id: int, *, expected_version: int, reason: str
                    ) -> orm.Breach:
    """Record why the breach is not notified to the AP. Only allowed when a risk to the youths
    is unlikely (AVG art. 33 lid 1); otherwise refused."""
    session = u.session
    breach = get_breach(u, breach_id)
    _check_version(breach, expected_version)
    pro = _recorder(u, breach.region_id)
    reason = _text(reason, "reason", "leg vast waarom het lek niet gemeld wordt")
    _no_bsn(reason, "reason")
    if breach.risk != "onwaarschijnlijk":
        raise Refused("notification_required", f"Dit datalek is vastgelegd met "
                      f"{labels.BREACH_RISK[breach.risk]}. Dan moet het binnen 72 uur gemeld "
                      "worden bij "
                      "de Autoriteit Persoonsgegevens (art. 33 lid 1 AVG); alleen als een "
                      "risico onwaarschijnlijk is, mag u van melden afzien.", "risk")
    if breach.ap_notified_at is not None:
        raise Refused("already_notified", "dit datalek is al gemeld bij de AP", "breach")
    if breach.no_notification_reason is not None:
        raise Refused("already_decided", "er is al vastgelegd waarom dit datalek niet gemeld "
                      "wordt", "breach")
    breach.no_notification_reason = reason
    _save(session)
    _log(session, breach, "Vastleggen besluit niet te melden", pro,
         extra={"niet_melden": reason})
    return breach


def inform_subject(u: Unit, breach_id: int, youth_id: int, *, expected_version: int,
                   informed_on: dt.date) -> orm.Breach:
    """Record that a youth (or the parents) was informed of the breach (AVG art. 34)."""
    session = u.session
    breach = get_breach(u, breach_id)
    _check_version(breach, expected_version)
    pro = _recorder(u, breach.region_id)
    if not isinstance(informed_on, dt.date) or isinstance(informed_on, dt.datetime):
        raise Invalid("wrong_type", "geef de datum waarop geïnformeerd is", "informed_on")
    if informed_on > u.today:
        raise Invalid("invalid_date", "die datum ligt in de toekomst", "informed_on")
    if informed_on < breach.discovered_at.date():
        raise Invalid("invalid_date", "die datum ligt vóór het ontdekken van het lek",
                      "informed_on")
    subject = session.get(orm.BreachSubject, (breach.id, youth_id)) \
        if isinstance(youth_id, int) else None
    if subject is None:
        raise Invalid("not_a_subject", f"jongere {youth_id} is niet geraakt door dit datalek",
                      "youth")
    if subject.informed_on is not None:
        raise Refused("already_informed", f"jongere {youth_id} is al geïnformeerd (op "
                      f"{dutch_date(subject.informed_on)})", "youth")
    subject.informed_on = informed_on
    flag_modified(breach, "measures")  # the breach's version counts this change too
    _save(session)
    _log(session, breach, "Informeren betrokkene over datalek", pro, [youth_id],
         extra={"geinformeerd": informed_on.isoformat(), "verplicht": subject.must_inform})
    return breach


def notify_partners(u: Unit, breach_id: int, *, expected_version: int,
                    notified_at: dt.datetime) -> orm.Breach:
    """Record that the covenant partners were told about the breach."""
    session = u.session
    breach = get_breach(u, breach_id)
    _check_version(breach, expected_version)
    pro = _recorder(u, breach.region_id)
    at = utc(notified_at, "notified_at")
    _not_future(at, "notified_at", "het moment van melden")
    if at < breach.discovered_at:
        raise Invalid("invalid_date", "de melding ligt vóór het ontdekken van het lek",
                      "notified_at")
    if breach.partners_notified_at is not None:
        raise Refused("already_notified", "de partners zijn al op de hoogte gebracht (op "
                      f"{dutch_moment(breach.partners_notified_at)})", "breach")
    breach.partners_notified_at = at
    _save(session)
    _log(session, breach, "Informeren convenantpartners over datalek", pro,
         extra={"partners_gemeld": at.isoformat()})
    return breach


# --- reading -------------------------------------------------------------------------------


def ap_status(breach: orm.Breach, now: dt.datetime | None = None) -> str:
    """Where the AP notification stands, in Dutch."""
    now = utc(now, "now") if now is not None else audit.now()
    if breach.ap_notified_at is not None:
        late = breach.ap_notified_at > breach.ap_deadline
        return (f"gemeld bij de AP op {dutch_moment(breach.ap_notified_at)} (kenmerk "
                f"{breach.ap_reference})" + (", na de termijn van 72 uur" if late else ""))
    if breach.no_notification_reason is not None:
        return f"niet gemeld bij de AP: {breach.no_notification_reason}"
    if now > breach.ap_deadline:
        return (f"te laat: de termijn om te melden bij de AP liep af op "
                f"{dutch_moment(breach.ap_deadline)}")
    return f"nog melden bij de AP, uiterlijk {dutch_moment(breach.ap_deadline)}"


def is_overdue(breach: orm.Breach, now: dt.datetime) -> bool:
    return (breach.ap_notified_at is None and breach.no_notification_reason is None
            and now > breach.ap_deadline)


def breach_view(session: Session, breach: orm.Breach, now: dt.datetime | None = None
                ) -> BreachView:
    now = utc(now, "now") if now is not None else audit.now()
    subjects = _subjects(session, breach.id)
    org = session.get(orm.Organisation, breach.organisation_id)
    region = session.get(orm.Region, breach.region_id)
    open_ = [s.youth_id for s in subjects if s.must_inform and s.informed_on is None]
    return {
        "id": breach.id, "region": region.code,
        "organisation": {"id": org.id, "name": org.name},
        "discovered_at": local(breach.discovered_at), "ap_deadline": local(breach.ap_deadline),
        "description": breach.description, "categories": list(breach.categories),
        "risk": breach.risk, "risk_nl": labels.BREACH_RISK[breach.risk],
        "measures": breach.measures,
        "ap_notified_at": local(breach.ap_notified_at), "ap_reference": breach.ap_reference,
        "no_notification_reason": breach.no_notification_reason,
        "partners_notified_at": local(breach.partners_notified_at),
        "recorded_by": breach.recorded_by_id, "version": breach.version,
        "overdue": is_overdue(breach, now), "ap_status": ap_status(breach, now),
        "subjects": [{"youth_id": s.youth_id, "must_inform": s.must_inform,
                      "informed_on": s.informed_on.isoformat() if s.informed_on else None}
                     for s in subjects],
        "still_to_inform": open_,
    }


def _visible(u: Unit, stmt, region: orm.Region | None):
    """Only the breaches the actor may see (access.require_breach): of the actor's region,
    and for a professional of their own organisation; a parent or youth is refused."""
    access.require_breach_kind(u)
    if region is not None:
        access.require_region(u, region.id)
        stmt = stmt.where(orm.Breach.region_id == region.id)
    if u.actor.region_id is not None:
        stmt = stmt.where(orm.Breach.region_id == u.actor.region_id)
    if u.actor.is_professional:
        stmt = stmt.where(orm.Breach.organisation_id == u.actor.organisation_id)
    return stmt


def list_breaches(u: Unit, region: orm.Region | None = None) -> list[orm.Breach]:
    """Every breach (or a region's) the actor may see, the newest discovery first."""
    stmt = select(orm.Breach).order_by(orm.Breach.discovered_at.desc(), orm.Breach.id.desc())
    return list(u.session.scalars(_visible(u, stmt, region)))


def overdue(u: Unit, now: dt.datetime, region: orm.Region | None = None
            ) -> list[orm.Breach]:
    """Breaches past the 72-hour deadline, neither notified to the AP nor with a recorded
    reason not to notify; the oldest deadline first."""
    now = utc(now, "now")
    stmt = (select(orm.Breach).where(orm.Breach.ap_notified_at.is_(None),
                                     orm.Breach.no_notification_reason.is_(None),
                                     orm.Breach.ap_deadline < now)
            .order_by(orm.Breach.ap_deadline, orm.Breach.id))
    return list(u.session.scalars(_visible(u, stmt, region)))
