"""Need to know: may this actor do this? The one home of the access checks.

The use cases call these checks themselves, inside their transaction, so the CLI, the API and
the pages get the same answer. Per kind of actor (services/context.py):

- the operator (`Actor.admin()`) passes every check within its region (every region when it
  has none): the CLI without an account behaves as it always did;
- an administrator's account (`admin`) manages the installation: regions, organisations,
  parties, signatures, mandates, rulesets, professionals and accounts (`require_admin`,
  within its region: `require_region`); it reads the processing log, the register and the
  breach register like an FG (`require_fg_or_admin`); never case content or a youth's record
  (`require_case`, `require_youth`: 403);
- a professional works and reads only where their organisation has need to know:
  `require_party` (their organisation is a covenant party in force on the unit's day: it
  signed, or, a school board, signed through its written mandate, or it is a provider, JGZ
  or GP that accedes per case), `require_region` (only in the region of their
  organisation), `require_municipal` (the municipal workflow: the municipality or a
  wijkteam), `require_case` (only in a case their organisation takes part in),
  `require_youth` (only a youth their organisation knows: the youth's school, a participant
  in a case about the youth, the sender or recipient of a disclosure about the youth, or the
  organisation that opened a municipal workflow about the youth), `require_disclosure` (only
  a disclosure their organisation sent or received, or of a case it takes part in), and a
  breach only of their own organisation;
- an FG (`fg`) reads the processing log, the register of processing activities and the
  breach register of its region (`require_fg_or_admin`); never case content, minutes or a
  youth's record (403);
- a parent or a youth with an account (`parent`, `youth`) sees only their own
  (`require_subject`: the youth linked to the account), a parent only with gezag and only
  while the rules let a parent ask, a youth from the age the rules let a youth ask: the
  consent ages of the region's ruleset in force on the unit's day (domain/standing.py).

404 or 403, the rule:

- 404 (`NotFound`, code `not_found`, with exactly the message an unknown id gets): an actor
  who might see records of this kind asks for one that is not theirs to know: a case, agenda
  item, meeting, disclosure, youth or breach of another organisation, or another parent's
  child. The answer does not reveal that the record exists (IDOR).
- 403 (`Refused`, a code of its own and the field `by`): a kind of actor that never may,
  whatever the record (an FG or an administrator reading case content, a parent opening a
  case, a professional of an organisation that is not a covenant party opening one). These
  checks run before the record is looked up, so they reveal nothing about it either; and a
  parent or youth whom the rules do not (or no longer) let see their own child's data
  (`no_gezag`, `youth_decides`, `too_young`).

A few older refusals of a professional stay as they were (422, with the professional's
name): another region (`other_region`) and an owner or recipient named who is not in the
case (`not_a_participant`): they are about what the professional typed, not about a record
asked for by id.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ColumnElement, exists, or_, select
from sqlalchemy.orm import aliased

from deelwijs.domain import codes
from deelwijs.domain import standing as standing_rule
from deelwijs.domain.consent import age_on
from deelwijs.services import rulesets
from deelwijs.services.context import FG, OPERATOR, PARENT, PROFESSIONAL, YOUTH, Unit
from deelwijs.services.errors import Invalid, NotFound, Refused
from deelwijs.storage import orm

# parties that take part in a case by accession form (toetredingsformulier), not by signing
ACCESSION_PARTIES = ("jeugdhulp", "jgz", "huisarts")


# --- the kinds of actor --------------------------------------------------------------------


def require_admin(u: Unit, what: str, field: str = "by") -> None:
    """Managing the installation (regions, parties, rulesets, keys) is the
    administrator's."""
    if not u.actor.is_admin:
        raise Refused("admin_only", f"{what} is voorbehouden aan het beheer", field)


def require_operator(u: Unit, what: str, field: str = "by") -> None:
    """What only whoever holds the installation (its database and keys) does: key rotation,
    the retention run."""
    if not u.actor.is_operator:
        raise Refused("operator_only", f"{what} is voorbehouden aan het beheer van de "
                      "installatie", field)


def require_fg_or_admin(u: Unit, what: str, region_id: int | None = None,
                        field: str = "by") -> None:
    """The processing log, the register of processing activities and the breach register:
    the FG and the administrator (of the region, when one is named)."""
    if u.actor.kind not in (OPERATOR, FG) and not u.actor.is_admin:
        raise Refused("fg_or_admin_only", f"{what} is voor de functionaris "
                      "gegevensbescherming en het beheer", field)
    if region_id is not None:
        require_region(u, region_id, field)


def require_professional(u: Unit, what: str, field: str = "by") -> None:
    """What a professional does (the operator passes): an FG, an administrator's account, a
    parent or a youth is refused."""
    if u.actor.kind not in (OPERATOR, PROFESSIONAL):
        raise Refused("professional_only", f"{what} doet een professional", field)


def region_of_actor(u: Unit) -> int | None:
    """The region the actor is limited to (None: every region)."""
    return u.actor.region_id


def require_region(u: Unit, region_id: int, field: str = "by",
                   where: str = "deze regio") -> None:
    """A professional acts only in the region of their organisation; a regional
    administrator or FG only in its own. `where` names the region in the message ("de regio
    van deze jongere")."""
    actor = u.actor
    if actor.region_id is None or actor.region_id == region_id:
        return
    pro = u.professional
    if pro is None:
        raise Refused("other_region", "dit gaat over een andere regio", field)
    raise Invalid("other_region", f"{pro.name} werkt niet in {where}", field)


# --- covenant parties ------------------------------------------------------------------------


def party_in_force(org_id, day: dt.date) -> ColumnElement[bool]:
    """SQL: the organisation is a covenant party on the day: it signed (an SWV's signature on
    behalf of a board makes the board's mandate count), a school board's written mandate to
    its SWV is in force, or it is a provider, JGZ or GP, which takes part by accession form
    per case."""
    signed = exists().where(orm.CovenantSignature.organisation_id == org_id,
                            orm.CovenantSignature.signed_on <= day)
    mandate = exists().where(orm.Mandate.school_id == org_id, orm.Mandate.granted_on <= day,
                             or_(orm.Mandate.revoked_on.is_(None), orm.Mandate.revoked_on > day))
    accedes = exists().where(orm.Organisation.id == org_id,
                             orm.Organisation.party.in_(ACCESSION_PARTIES))
    return or_(signed, mandate, accedes)


def require_party(u: Unit, what: str, field: str = "by") -> None:
    """Only a professional of a covenant party in force on the unit's day (the operator
    passes): a sports club's employee, an FG, an administrator's account, a parent or a
    youth is refused."""
    require_professional(u, what, field)
    if u.actor.is_operator:
        return
    if not u.session.scalar(select(party_in_force(u.actor.organisation_id, u.today))):
        org = u.organisation
        raise Refused("not_a_party", f"{org.name} is geen partij bij het convenant: {what} "
                      "doet een professional van een convenantpartner", field)


def require_municipal(u: Unit, what: str, field: str = "by") -> None:
    """The municipal workflow (Wams) is the college's: a professional of the municipality
    or of a wijkteam (a youth-care provider whose professionals may act for the college,
    codes.HAT_WEARERS), whether or not it signed the covenant (the operator passes); anyone
    else is refused (403)."""
    require_professional(u, what, field)
    if u.actor.is_operator:
        return
    org = u.organisation
    if org.party not in codes.HAT_WEARERS:
        raise Refused("not_municipal", f"{org.name} werkt niet voor de gemeente: {what} doet "
                      "een professional van de gemeente of het wijkteam", field)


# --- cases -----------------------------------------------------------------------------------


def may_see_case(u: Unit, case_id: int) -> bool:
    """Whether the actor may read or work in the case (need to know)."""
    actor = u.actor
    if actor.is_operator:
        return True
    if not actor.is_professional:  # an administrator, FG, parent or youth: no case content
        return False
    taking_part = exists().where(orm.CaseParticipant.case_id == case_id,
                                 orm.CaseParticipant.organisation_id == actor.organisation_id)
    return bool(u.session.scalar(select(taking_part)))


def _no_case_content(field: str) -> Refused:
    return Refused("no_case_content", "de inhoud van een casus is alleen voor professionals "
                   "van de deelnemende organisaties", field)


def require_case_kind(u: Unit, field: str = "by") -> None:
    """Before a case (or its meeting, item, minute) is looked up: an FG, an administrator's
    account, a parent or a youth never sees case content (403)."""
    if u.actor.kind not in (OPERATOR, PROFESSIONAL):
        raise _no_case_content(field)


def require_case(u: Unit, case_id: int, field: str = "by",
                 unknown: NotFound | None = None) -> None:
    """Only someone of a participating organisation works in (or reads) a case. A
    professional of another organisation gets `unknown` (default: the case's own "onbekende
    casus"), as if the record did not exist; other kinds of actor are refused (403)."""
    if may_see_case(u, case_id):
        return
    require_case_kind(u, field)
    raise unknown or NotFound("not_found", f"onbekende casus ({case_id})", "case")


# --- youths ----------------------------------------------------------------------------------


def knows_youth(org_id, youth_id) -> ColumnElement[bool]:
    """SQL: the organisation has need to know about the youth: it is the youth's school, it
    takes part in a case about the youth, it sent or received a disclosure about the youth,
    or a professional of it opened a municipal workflow about the youth."""
    known = aliased(orm.Youth)  # (youth_id may be the column of a query over youths)
    school = exists().where(known.id == youth_id, known.school_id == org_id)
    in_case = exists().where(orm.Case.youth_id == youth_id,
                             orm.CaseParticipant.case_id == orm.Case.id,
                             orm.CaseParticipant.organisation_id == org_id)
    disclosed = exists().where(orm.Disclosure.youth_id == youth_id,
                               or_(orm.Disclosure.from_org_id == org_id,
                                   orm.Disclosure.to_org_id == org_id))
    workflow = exists().where(orm.Workflow.youth_id == youth_id,
                              orm.Professional.id == orm.Workflow.opened_by_id,
                              orm.Professional.organisation_id == org_id)
    return or_(school, in_case, disclosed, workflow)


def unknown_youth(youth_id, field: str) -> NotFound:
    """A youth the actor may not know of, answered exactly as youths.get_youth answers an id
    that does not exist."""
    return NotFound("not_found", f"onbekende jongere ({youth_id})", field)


def _no_youth_data(field: str) -> Refused:
    return Refused("no_youth_data", "de gegevens van een jongere zijn alleen voor de "
                   "professionals die ze nodig hebben, en voor de jongere en de ouders zelf",
                   field)


def require_youth_kind(u: Unit, field: str = "by") -> None:
    """Before a youth is looked up: an FG or an administrator's account never reads a
    youth's record (403)."""
    if u.actor.kind not in (OPERATOR, PROFESSIONAL, PARENT, YOUTH):
        raise _no_youth_data(field)


def require_youth(u: Unit, youth_id, field: str = "youth") -> orm.Youth:
    """The youth, for an actor with need to know about them: the operator; a professional
    whose organisation knows the youth (`knows_youth`, in their region); the parent or
    youth whose own it is (`require_subject`). An FG or administrator is refused (403); any
    other actor gets the answer an unknown id gets (404)."""
    require_youth_kind(u)
    actor = u.actor
    youth = u.session.get(orm.Youth, youth_id) if isinstance(youth_id, int) else None
    if youth is None:
        raise unknown_youth(youth_id, field)
    if actor.is_operator:
        return youth
    if actor.kind in (PARENT, YOUTH):
        require_subject(u, youth.id, field)
        return youth
    if actor.region_id is not None and youth.region_id != actor.region_id:
        raise unknown_youth(youth_id, field)
    if not u.session.scalar(select(knows_youth(actor.organisation_id, youth.id))):
        raise unknown_youth(youth_id, field)
    return youth


def require_subject(u: Unit, youth_id, field: str = "youth"
                    ) -> tuple[orm.Youth, orm.Guardian | None]:
    """A parent's or youth's own: the youth linked to the account (another child: 404), for
    a parent through a guardian row with gezag, and at an age at which the rules of the
    region's ruleset in force today let this person ask (domain/standing.py, without the
    youth's agreement; 403 with the rule's code otherwise). Returns (youth, guardian or
    None). A youth whose data were destroyed has nothing to see; the use case says so."""
    actor = u.actor
    if actor.kind not in (PARENT, YOUTH) or actor.account_id is None:
        raise unknown_youth(youth_id, field)
    link = (u.session.get(orm.AccountSubject, (actor.account_id, youth_id))
            if isinstance(youth_id, int) else None)
    if link is None:
        raise unknown_youth(youth_id, field)
    youth = u.session.get(orm.Youth, youth_id)
    guardian = u.session.get(orm.Guardian, link.guardian_id) if actor.kind == PARENT else None
    if actor.kind == PARENT and (guardian is None or guardian.youth_id != youth.id):
        raise unknown_youth(youth_id, field)
    if youth.key_wrapped is None:
        return youth, guardian
    keys = u.keys
    birth = dt.date.fromisoformat(keys.decrypt(keys.unwrap(youth.key_wrapped), youth.birth_enc))
    ages = rulesets.in_force(u.session, youth.region_id, u.today).consent
    try:
        standing_rule.who_may_ask(ages, youth.id, age_on(birth, u.today), actor.kind,
                                  guardian)
    except standing_rule.NoStanding as exc:
        error = Invalid if exc.kind == "invalid" else Refused
        raise error(exc.code, exc.message, "by") from None
    return youth, guardian


# --- disclosures and breaches ----------------------------------------------------------------


def require_disclosure(u: Unit, row: orm.Disclosure, field: str = "disclosure") -> None:
    """A disclosure's content: the operator; a professional whose organisation sent or
    received it, or takes part in its case; the parent or youth whose own it is. An FG or
    administrator is refused (403); anyone else gets "onbekende verstrekking" (404)."""
    actor = u.actor
    if actor.is_operator:
        return
    require_youth_kind(u)
    unknown = NotFound("not_found", f"onbekende verstrekking ({row.id})", field)
    if actor.kind in (PARENT, YOUTH):
        if row.youth_id is None:
            raise unknown
        try:
            require_subject(u, row.youth_id, field)
        except NotFound:
            raise unknown from None
        return
    if actor.organisation_id in (row.from_org_id, row.to_org_id):
        return
    if row.case_id is not None and may_see_case(u, row.case_id):
        return
    raise unknown


def disclosure_filter(u: Unit, table) -> ColumnElement[bool] | None:
    """SQL for the disclosures (of `table`, the disclosure table or an alias) the actor may
    see listed: None for every one (the operator, a parent, a youth: the youth is checked
    first); for a professional those their organisation sent or received, or of a case it
    takes part in."""
    actor = u.actor
    if actor.kind != PROFESSIONAL:
        return None
    org = actor.organisation_id
    return or_(table.c.from_org_id == org, table.c.to_org_id == org,
               exists().where(orm.CaseParticipant.case_id == table.c.case_id,
                              orm.CaseParticipant.organisation_id == org))


def require_breach_kind(u: Unit) -> None:
    """A parent or youth does not read the breach register (403)."""
    if u.actor.kind in (PARENT, YOUTH):
        raise Refused("fg_or_admin_only", "het datalekkenregister is voor de functionaris "
                      "gegevensbescherming, het beheer en de organisatie van het datalek",
                      "by")


def require_breach(u: Unit, breach: orm.Breach | None, breach_id, field: str = "breach"
                   ) -> orm.Breach:
    """A breach: for the operator, the FG or administrator of its region, or a professional
    of the organisation it is about (anyone else: "onbekend datalek", 404); a parent or
    youth is refused (403)."""
    actor = u.actor
    require_breach_kind(u)
    unknown = NotFound("not_found", f"onbekend datalek ({breach_id})", field)
    if breach is None:
        raise unknown
    if actor.region_id is not None and breach.region_id != actor.region_id:
        raise unknown
    if actor.kind == PROFESSIONAL and breach.organisation_id != actor.organisation_id:
        raise unknown
    return breach
