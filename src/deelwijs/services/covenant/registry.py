"""Regions, rulesets, organisations (parties), signatures, mandates, accession forms and
professionals: who takes part in the covenant, and on what paper.

The use cases take a `Unit` (services/context.py) first. Managing the covenant (regions,
ruleset activation, organisations, signatories, signatures, mandates, professionals) is the
administrator's (`access.require_admin`); an accession form is recorded and made known by the
administrator or a professional of an organisation in the case (`access.require_case`: for
a professional of another organisation the case is as unknown, 404). The
reads (`list_*`, `activations`, `controller`) show a professional only their own region
(`access.require_region`). The lookups (`region_by_code`, `organisation`, `professional`,
`region_ids`, `latest_activation`), the `*_view` functions and the SQL facts the engine asks
(`mandate_in_force`, `school_party_fact`, `acceded_fact` and their `has_*` /
`school_is_party` forms) are building blocks on a session."""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
import unicodedata

from sqlalchemy import ColumnElement, exists, func, or_, select
from sqlalchemy.orm import Session

from deelwijs.domain import codes, register
from deelwijs.domain.ruleset import Ruleset
from deelwijs.rules import loader
from deelwijs.services import access, rulesets
from deelwijs.services.app import version_problems
from deelwijs.services.context import Unit
from deelwijs.services.errors import Invalid, NotFound, Refused
from deelwijs.services.views import (
    AccessionView,
    ActivationView,
    MandateView,
    OrganisationView,
    ProfessionalView,
    RegionView,
    SignatoryView,
    SignatureView,
)
from deelwijs.storage import orm

# --- free text -------------------------------------------------------------------------------

NAME_MAX = 200  # names kept encrypted (no column limit): the same cap as a name column
LONG_TEXT_MAX = 100_000  # minutes, action descriptions: Text columns, capped for sanity
_LINE_BREAKS = frozenset("\n\r\t")
_KVK = re.compile(r"[0-9]{8}")


def limit_of(column) -> int:
    """The length of a String column of the model (one source for every limit)."""
    return column.type.length


def checked_text(value, field: str, label: str, limit: int, *, missing: str | None = None,
                 multiline: bool = False) -> str | None:
    """Free text from a user, stripped, checked before it reaches the database: not empty
    (unless `missing` is None: then blank means absent and None comes back), not longer than
    its column (PostgreSQL would refuse it with an internal error), and without control
    characters (a name is one line; PostgreSQL text cannot hold a NUL at all)."""
    if value is not None and not isinstance(value, str):
        raise Invalid("wrong_type", f"{label} moet tekst zijn", field)
    value = (value or "").strip()
    if not value:
        if missing is None:
            return None
        raise Invalid("missing_field", missing, field)
    if len(value) > limit:
        raise Invalid("too_long", f"{label} is te lang ({len(value)} tekens; ten hoogste "
                      f"{limit})", field)
    for ch in value:
        if unicodedata.category(ch) == "Cc" and not (multiline and ch in _LINE_BREAKS):
            where = "een regeleinde" if ch in _LINE_BREAKS else f"teken U+{ord(ch):04X}"
            raise Invalid("invalid_character", f"{label} bevat {where}; dat kan hier niet",
                          field)
    return value


def same_region(region_id: int, org: orm.Organisation, field: str) -> None:
    """An organisation named by id belongs to the region at hand."""
    if org.region_id != region_id:
        raise Invalid("other_region", f"{org.name} hoort niet bij deze regio", field)


def region_of(session: Session, pro: orm.Professional) -> int:
    """The region a professional works in (that of their organisation)."""
    return session.get(orm.Organisation, pro.organisation_id).region_id


def _get(session: Session, model, ident, what: str, field: str | None = None):
    row = session.get(model, ident) if ident is not None else None
    if row is None:
        raise NotFound("not_found", f"onbekende {what} ({ident})", field)
    return row


def organisation(session: Session, org_id: int, field: str = "organisation") -> orm.Organisation:
    return _get(session, orm.Organisation, org_id, "organisatie", field)


def professional(session: Session, pro_id: int, field: str = "professional") -> orm.Professional:
    return _get(session, orm.Professional, pro_id, "professional", field)


def region_by_code(session: Session, code: str) -> orm.Region:
    row = session.scalars(select(orm.Region).where(orm.Region.code == code)).first()
    if row is None:
        raise NotFound("not_found", f"onbekende regio '{code}'", "region")
    return row


def region_in_reach(u: Unit, region_id: int | None = None) -> orm.Region:
    """The region an actor names (by id), or their own when none is named: unknown is 404,
    and only an actor of every region may name another (access.require_region)."""
    region_id = region_id if region_id is not None else u.actor.region_id
    if region_id is None:
        raise Invalid("missing_field", "noem de regio", "region")
    region = u.session.get(orm.Region, region_id) if isinstance(region_id, int) else None
    if region is None:
        raise NotFound("not_found", f"onbekende regio ({region_id})", "region")
    access.require_region(u, region.id, "region")
    return region


def region_ids(session: Session, code: str | None = None) -> list[int]:
    """The id of the region with this code (unknown: NotFound), or without a code those of
    every region, in the order of their ids."""
    if code is not None:
        return [region_by_code(session, code).id]
    return list(session.scalars(select(orm.Region.id).order_by(orm.Region.id)))


# The controller (verwerkingsverantwoordelijke) of a region and how to reach its FG, as a
# parent's inzage names them: field -> (column, Dutch label)
CONTROLLER_FIELDS = {
    "controller_name": (orm.Region.controller_name, "de naam van de verwerkingsverantwoordelijke"),
    "controller_address": (orm.Region.controller_address,
                           "het postadres van de verwerkingsverantwoordelijke"),
    "controller_oin": (orm.Region.controller_oin, "het OIN van de verwerkingsverantwoordelijke"),
    "fg_name": (orm.Region.fg_name, "de naam van de functionaris gegevensbescherming"),
    "fg_email": (orm.Region.fg_email,
                 "het e-mailadres van de functionaris gegevensbescherming"),
    "fg_phone": (orm.Region.fg_phone,
                 "het telefoonnummer van de functionaris gegevensbescherming"),
}
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_PHONE = re.compile(r"\+?[0-9][0-9 ()-]{5,}[0-9]")


def _check_oin(text: str, field: str) -> None:
    if not register.OIN.fullmatch(text):
        raise Invalid("invalid_oin", f"OIN '{text}' moet uit 20 cijfers bestaan", field)


def _controller_values(values: dict) -> dict:
    """The controller fields given (None: not given), checked; an empty text clears a field
    (its value becomes None). The postal address may span lines."""
    out = {}
    for field, value in values.items():
        if field not in CONTROLLER_FIELDS:
            raise Invalid("unknown_field", f"onbekend gegeven van de regio '{field}'", field)
        if value is None:
            continue
        column, label = CONTROLLER_FIELDS[field]
        text = checked_text(value, f"region.{field}", label, limit_of(column),
                            multiline=field == "controller_address")
        if text is not None and field == "fg_email" and not _EMAIL.fullmatch(text):
            raise Invalid("invalid_email", f"'{text}' is geen e-mailadres", f"region.{field}")
        if text is not None and field == "fg_phone" and not _PHONE.fullmatch(text):
            raise Invalid("invalid_phone", f"'{text}' is geen telefoonnummer (cijfers, "
                          "eventueel met +, spaties, haakjes of streepjes)", f"region.{field}")
        if text is not None and field == "controller_oin":
            _check_oin(text, f"region.{field}")
        if text is not None and field == "controller_address":
            text = "\n".join(line.strip() for line in text.splitlines() if line.strip())
        out[field] = text
    return out


def create_region(u: Unit, code: str, name: str, wams_in_force: bool = False,
                  **controller) -> orm.Region:
    """A new region. `controller`: any of CONTROLLER_FIELDS (the controller's name and postal
    address, the FG's name, e-mail address and phone number), shown in a parent's inzage.
    The operator's, or an administrator of every region (not one of a single region)."""
    access.require_admin(u, "een regio aanmaken")
    if u.actor.region_id is not None:
        raise Refused("other_region", "een beheerder van één regio maakt geen nieuwe regio "
                      "aan", "by")
    session = u.session
    code = checked_text(code, "region.code", "de regiocode", limit_of(orm.Region.code),
                        missing="een regio heeft een code")
    name = checked_text(name, "region.name", "de naam van de regio", limit_of(orm.Region.name),
                        missing="een regio heeft een naam")
    values = _controller_values(controller)
    if session.scalars(select(orm.Region).where(orm.Region.code == code)).first():
        raise Invalid("duplicate", f"regio '{code}' bestaat al", "region.code")
    region = orm.Region(code=code, name=name, wams_in_force=wams_in_force, **values)
    session.add(region)
    session.flush()
    return region


def update_region(u: Unit, region: orm.Region, *, name: str | None = None,
                  **controller) -> orm.Region:
    """Change a region's name or its controller details (CONTROLLER_FIELDS). A field given as
    None stays as it is; an empty text clears it (not the name: a region keeps a name)."""
    access.require_admin(u, "een regio wijzigen")
    access.require_region(u, region.id)
    values = _controller_values(controller)
    if name is not None:
        region.name = checked_text(name, "region.name", "de naam van de regio",
                                   limit_of(orm.Region.name),
                                   missing="een regio heeft een naam")
    for field, value in values.items():
        setattr(region, field, value)
    u.session.flush()
    return region


def controller(u: Unit, region: orm.Region) -> dict:
    """The region's controller as the register of processing activities names it: name,
    postal address and FG as the region records them (migration 0005), and its OIN: the
    region's own (migration 0007), else that of the region's organisation with the
    controller's name, or None."""
    access.require_region(u, region.id)
    oin = org = None
    if region.controller_name:
        org = u.session.execute(
            select(orm.Organisation.name, orm.Organisation.oin)
            .where(orm.Organisation.region_id == region.id,
                   func.lower(orm.Organisation.name) == region.controller_name.strip().lower())
            .order_by(orm.Organisation.oin.is_(None), orm.Organisation.id)).first()
        oin = org.oin if org is not None else None
    if region.controller_oin:
        oin = region.controller_oin
    return {"naam": region.controller_name, "oin": oin,
            "organisatie": org.name if org is not None else None,
            "adres": region.controller_address,
            "fg": {"naam": region.fg_name, "email": region.fg_email, "telefoon": region.fg_phone}}


def store_ruleset(session: Session, ruleset: Ruleset) -> orm.RulesetVersion:
    """Keep the effective ruleset document, once per digest."""
    row = session.scalars(select(orm.RulesetVersion)
                          .where(orm.RulesetVersion.digest == ruleset.digest)).first()
    if row is None:
        for value, column, label in ((ruleset.id, orm.RulesetVersion.ruleset_id, "het id"),
                                     (ruleset.version, orm.RulesetVersion.version,
                                      "de versie")):
            if len(str(value)) > limit_of(column):
                raise Invalid("too_long", f"{label} van de ruleset is te lang "
                              f"({len(str(value))} tekens; ten hoogste {limit_of(column)})",
                              "ruleset")
        row = orm.RulesetVersion(
            ruleset_id=ruleset.id, version=ruleset.version, digest=ruleset.digest,
            source=json.dumps(ruleset.document, sort_keys=True, ensure_ascii=False,
                              default=str))
        session.add(row)
        session.flush()
    return row


def activate_ruleset(u: Unit, region: orm.Region, name: str, on: dt.date
                     ) -> orm.RulesetVersion:
    """Make a ruleset the region's active one from `on`: a built-in id or a file (checked by
    the loader, then stored), or a version stored in the database by its digest (sha256:…) or
    id, as `deelwijs decide --ruleset` finds it (rulesets.find). A stored version is
    activated only when it passes today's checks (app.version_problems). Older decisions keep
    naming the version that made them."""
    access.require_admin(u, "een ruleset activeren")
    access.require_region(u, region.id)
    session = u.session
    try:
        found = rulesets.find(name, session)
    except loader.RulesetError as exc:
        if exc.problems[0].code != "not_found":
            raise
        ids = ", ".join(loader.builtin_ids())
        raise NotFound("not_found", f"onbekende ruleset '{name}': geen ingebouwd id "
                       f"({ids}), geen bestand en geen opgeslagen versie", "ruleset"
                       ) from None
    if isinstance(found, Ruleset):
        version = store_ruleset(session, found)
    else:
        version = found
        problems = version_problems(lambda: rulesets.of_version(version), version.digest)
        if problems:
            more = f" (en nog {len(problems) - 1})" if len(problems) > 1 else ""
            raise Refused(
                "ruleset_invalid",
                f"opgeslagen ruleset {version.ruleset_id} {version.version} "
                f"({version.digest}) voldoet niet aan de controles van deze Deelwijs en wordt "
                f"niet geactiveerd: {problems[0]}{more}. Activeer het model of een regionaal "
                "bestand dat deelwijs rules check goedkeurt.", "ruleset")
    session.add(orm.RulesetActivation(region_id=region.id, ruleset_version_id=version.id,
                                      activated_on=on))
    session.flush()
    return version


def latest_activation(session: Session, region: orm.Region) -> orm.RulesetActivation:
    """The region's activation written last (by id)."""
    return session.scalars(select(orm.RulesetActivation)
                           .where(orm.RulesetActivation.region_id == region.id)
                           .order_by(orm.RulesetActivation.id.desc()).limit(1)).one()


def activation_view(session: Session, row: orm.RulesetActivation, active_id: int | None = None
                    ) -> ActivationView:
    version = session.get(orm.RulesetVersion, row.ruleset_version_id)
    out = {"id": row.id, "activated_on": row.activated_on.isoformat(),
           "ruleset_id": version.ruleset_id, "version": version.version,
           "digest": version.digest}
    if active_id is not None:
        out["active"] = row.id == active_id
    return out


def activations(u: Unit, region: orm.Region) -> list[dict]:
    """The region's activations, newest first; `active` marks the one in force on the unit's
    today."""
    access.require_region(u, region.id)
    session, today = u.session, u.today
    rows = session.scalars(select(orm.RulesetActivation)
                           .where(orm.RulesetActivation.region_id == region.id)
                           .order_by(orm.RulesetActivation.activated_on.desc(),
                                     orm.RulesetActivation.id.desc())).all()
    active = next((r.id for r in rows if r.activated_on <= today), None)
    return [activation_view(session, r, active if active is not None else -1) for r in rows]


def create_organisation(u: Unit, region: orm.Region, party: str, name: str,
                        kvk: str | None = None, oin: str | None = None,
                        domain: str | None = None) -> orm.Organisation:
    access.require_admin(u, "een organisatie aanmaken")
    access.require_region(u, region.id)
    session = u.session
    if party not in codes.PARTIES:
        raise Invalid("unknown_code", f"onbekende partijcode '{party}'", "party")
    name = checked_text(name, "name", "de naam", limit_of(orm.Organisation.name),
                        missing="een organisatie heeft een naam")
    # KvK: 8 digits (no check digit since 2016); OIN: 20 digits. python-stdnum knows neither.
    # Blank means none (an empty form field); ASCII digits only (str.isdigit takes '²').
    kvk = checked_text(kvk, "kvk", "het KvK-nummer", 100)
    if kvk is not None and not _KVK.fullmatch(kvk):
        raise Invalid("invalid_kvk", f"KvK-nummer '{kvk}' moet uit 8 cijfers bestaan", "kvk")
    oin = checked_text(oin, "oin", "het OIN", 100)
    if oin is not None:
        _check_oin(oin, "oin")
    if domain is not None and domain not in codes.DOMAINS:
        raise Invalid("unknown_code", f"onbekend domein '{domain}'", "domain")
    exists = session.scalars(select(orm.Organisation).where(
        orm.Organisation.region_id == region.id, orm.Organisation.name == name)).first()
    if exists:
        raise Invalid("duplicate", f"organisatie '{name}' bestaat al in deze regio", "name")
    org = orm.Organisation(region_id=region.id, party=party, name=name, kvk=kvk,
                           oin=oin, domain=domain)
    session.add(org)
    session.flush()
    return org


def add_signatory(u: Unit, org: orm.Organisation, name: str, function: str
                  ) -> orm.Signatory:
    access.require_admin(u, "een ondertekenaar toevoegen")
    access.require_region(u, org.region_id)
    session = u.session
    name = checked_text(name, "name", "de naam", limit_of(orm.Signatory.name),
                        missing="een ondertekenaar heeft een naam")
    function = checked_text(function, "function", "de functie", limit_of(orm.Signatory.function),
                            missing="een ondertekenaar heeft een functie")
    row = orm.Signatory(organisation_id=org.id, name=name, function=function)
    session.add(row)
    session.flush()
    return row


def sign_covenant(u: Unit, org: orm.Organisation, version: orm.RulesetVersion | None,
                  signed_on: dt.date, signatory: orm.Signatory | int | None = None,
                  on_behalf_of: orm.Organisation | int | None = None) -> orm.CovenantSignature:
    """A signature of the covenant. An SWV signs on behalf of a school board only under a
    written mandate that is in force on the day. The signatory signs for this organisation;
    the board signed for is of the same region.

    `version` None: the ruleset version the region has in force on the day (none: NotFound on
    `on`). The signatory and the board may be given by id (unknown: NotFound)."""
    access.require_admin(u, "een ondertekening vastleggen")
    access.require_region(u, org.region_id)
    session = u.session
    if isinstance(signatory, int):
        signatory = _get(session, orm.Signatory, signatory, "ondertekenaar", "signatory")
    if isinstance(on_behalf_of, int):
        on_behalf_of = organisation(session, on_behalf_of, "on_behalf_of")
    if version is None:
        version = rulesets.active_version(session, org.region_id, signed_on, field="on")
        rulesets.compiled(session, version.id, version.digest)  # (one that no longer compiles
        # is refused here, as deciding under it would be)
    if signatory is not None and signatory.organisation_id != org.id:
        raise Invalid("other_organisation", f"{signatory.name} tekent niet voor {org.name}",
                      "signatory")
    if on_behalf_of is not None:
        same_region(org.region_id, on_behalf_of, "on_behalf_of")
        if on_behalf_of.party != "school" or org.party != "swv":
            raise Invalid("invalid_mandate", "alleen een samenwerkingsverband tekent namens "
                          "een schoolbestuur", "on_behalf_of")
        if not has_mandate(session, on_behalf_of, signed_on, swv=org):
            raise Invalid("no_mandate", f"{on_behalf_of.name} heeft het samenwerkingsverband "
                          "geen schriftelijke machtiging gegeven", "on_behalf_of")
    row = orm.CovenantSignature(organisation_id=org.id, ruleset_version_id=version.id,
                                signatory_id=signatory.id if signatory else None,
                                signed_on=signed_on,
                                on_behalf_of_id=on_behalf_of.id if on_behalf_of else None)
    session.add(row)
    session.flush()
    return row


def grant_mandate(u: Unit, school: orm.Organisation, swv: orm.Organisation,
                  granted_on: dt.date, document_ref: str) -> orm.Mandate:
    """A school board's written mandate to an SWV of its own region."""
    access.require_admin(u, "een machtiging vastleggen")
    access.require_region(u, school.region_id)
    session = u.session
    if school.party != "school" or swv.party != "swv":
        raise Invalid("invalid_mandate", "een machtiging gaat van een schoolbestuur naar een "
                      "samenwerkingsverband", "mandate")
    same_region(school.region_id, swv, "swv")
    document_ref = checked_text(document_ref, "document_ref", "de documentverwijzing",
                                limit_of(orm.Mandate.document_ref),
                                missing="een schriftelijke machtiging heeft een "
                                "documentverwijzing")
    row = orm.Mandate(school_id=school.id, swv_id=swv.id, granted_on=granted_on,
                      document_ref=document_ref)
    session.add(row)
    session.flush()
    return row


def revoke_mandate(u: Unit, mandate_id: int, revoked_on: dt.date) -> orm.Mandate:
    access.require_admin(u, "een machtiging intrekken")
    session = u.session
    row = _get(session, orm.Mandate, mandate_id, "machtiging", "mandate")
    if u.actor.region_id is not None:
        access.require_region(u, organisation(session, row.school_id).region_id)
    if row.revoked_on is not None:
        raise Invalid("already_revoked", "deze machtiging is al ingetrokken", "mandate")
    if revoked_on < row.granted_on:
        raise Invalid("invalid_date", "intrekken kan niet vóór de datum van verlening",
                      "revoked_on")
    row.revoked_on = revoked_on
    session.flush()
    return row


def mandate_in_force(school_id: int, day: dt.date, swv_id: int | None = None
                     ) -> ColumnElement[bool]:
    """SQL: the school board has a written mandate in force on the day (to this SWV, if
    given). An expression, so that a disclosure can ask for all its facts in one query."""
    q = exists().where(orm.Mandate.school_id == school_id, orm.Mandate.granted_on <= day,
                       or_(orm.Mandate.revoked_on.is_(None), orm.Mandate.revoked_on > day))
    if swv_id is not None:
        q = q.where(orm.Mandate.swv_id == swv_id)
    return q


def has_mandate(session: Session, school: orm.Organisation, day: dt.date,
                swv: orm.Organisation | None = None) -> bool:
    return bool(session.scalar(select(mandate_in_force(school.id, day,
                                                       swv.id if swv else None))))


def school_party_fact(school_id: int, day: dt.date) -> ColumnElement[bool]:
    """SQL for the engine's `mandate` fact: the board signed itself, or its mandate to the SWV
    is in force on the day."""
    signed = exists().where(orm.CovenantSignature.organisation_id == school_id,
                            orm.CovenantSignature.signed_on <= day)
    return or_(signed, mandate_in_force(school_id, day))


def school_is_party(session: Session, school: orm.Organisation, day: dt.date) -> bool:
    """The engine's `mandate` fact (see school_party_fact)."""
    return bool(session.scalar(select(school_party_fact(school.id, day))))


def record_accession(u: Unit, org: orm.Organisation, case: orm.Case,
                     signed_on: dt.date, document_ref: str,
                     notified_on: dt.date | None = None) -> orm.AccessionForm:
    """An accession form for the casusoverleg, by one of its participating organisations;
    recorded by the administrator or a professional of an organisation in the case."""
    access.require_case(u, case.id)
    session = u.session
    if org.party not in ("jeugdhulp", "jgz", "huisarts"):
        raise Invalid("not_accession_party", "een toetredingsformulier is voor zorgaanbieders, "
                      "JGZ en huisartsen", "organisation")
    taking_part = exists().where(orm.CaseParticipant.case_id == case.id,
                                 orm.CaseParticipant.organisation_id == org.id)
    if not session.scalar(select(taking_part)):
        raise Invalid("not_a_participant", f"{org.name} neemt geen deel aan deze casus",
                      "organisation")
    document_ref = checked_text(document_ref, "document_ref", "de documentverwijzing",
                                limit_of(orm.AccessionForm.document_ref),
                                missing="een toetredingsformulier heeft een documentverwijzing")
    if notified_on is not None and notified_on < signed_on:
        raise Invalid("invalid_date", "bekendmaken kan niet vóór ondertekenen", "notified_on")
    row = orm.AccessionForm(organisation_id=org.id, case_id=case.id, signed_on=signed_on,
                            notified_on=notified_on, document_ref=document_ref)
    session.add(row)
    session.flush()
    return row


def notify_accession(u: Unit, form_id: int, notified_on: dt.date) -> orm.AccessionForm:
    """Record that an accession form was made known to the case's participants; by the
    administrator or a professional of an organisation in the case."""
    session = u.session
    form = _get(session, orm.AccessionForm, form_id, "toetredingsformulier", "accession")
    access.require_case(u, form.case_id, unknown=NotFound(
        "not_found", f"onbekende toetredingsformulier ({form_id})", "accession"))
    if notified_on < form.signed_on:
        raise Invalid("invalid_date", "bekendmaken kan niet vóór ondertekenen", "notified_on")
    form.notified_on = notified_on
    session.flush()
    return form


def acceded_fact(org_id: int, case_id: int, day: dt.date) -> ColumnElement[bool]:
    """SQL for the engine's `acceded` fact: the form is signed AND made known to the
    participants of this casusoverleg, both on or before the day."""
    return exists().where(orm.AccessionForm.organisation_id == org_id,
                          orm.AccessionForm.case_id == case_id,
                          orm.AccessionForm.signed_on <= day,
                          orm.AccessionForm.notified_on <= day)  # NULL: not made known


def has_acceded(session: Session, org: orm.Organisation, case_id: int | None,
                day: dt.date) -> bool:
    """The engine's `acceded` fact (see acceded_fact); never without a case."""
    if case_id is None:
        return False
    return bool(session.scalar(select(acceded_fact(org.id, case_id, day))))


def create_professional(u: Unit, org: orm.Organisation, name: str, function: str,
                        hats: list[str] | None = None) -> orm.Professional:
    access.require_admin(u, "een professional aanmaken")
    access.require_region(u, org.region_id)
    session = u.session
    hats = hats or []
    for h in hats:
        if h not in codes.HATS:
            raise Invalid("unknown_code", f"onbekende pet '{h}' (kies uit "
                          f"{', '.join(codes.HATS)})", "hats")
    name = checked_text(name, "name", "de naam", limit_of(orm.Professional.name),
                        missing="een professional heeft een naam")
    function = checked_text(function, "function", "de functie",
                            limit_of(orm.Professional.function),
                            missing="een professional heeft een functie")
    row = orm.Professional(organisation_id=org.id, name=name, function=function,
                           hats=list(hats), pseudonym=secrets.token_hex(16))
    session.add(row)
    session.flush()
    return row


def list_organisations(u: Unit, region: orm.Region) -> list[dict]:
    access.require_region(u, region.id)
    session = u.session
    rows = session.scalars(select(orm.Organisation).where(orm.Organisation.region_id == region.id)
                           .order_by(orm.Organisation.party, orm.Organisation.name))
    return [organisation_view(session, o) for o in rows]


def organisation_view(session: Session, org: orm.Organisation, day: dt.date | None = None
                      ) -> OrganisationView:
    day = day or dt.date.max
    view = {"id": org.id, "party": org.party, "name": org.name, "kvk": org.kvk, "oin": org.oin,
            "domain": org.domain}
    sigs = session.scalars(select(orm.CovenantSignature).where(
        orm.CovenantSignature.organisation_id == org.id)).all()
    view["signatures"] = [{"signed_on": s.signed_on.isoformat(),
                           "on_behalf_of": s.on_behalf_of_id} for s in sigs]
    if org.party == "school":
        mandates = session.scalars(select(orm.Mandate).where(orm.Mandate.school_id == org.id))
        view["mandates"] = [{"id": m.id, "swv": m.swv_id, "granted_on": m.granted_on.isoformat(),
                             "document_ref": m.document_ref,
                             "revoked_on": m.revoked_on.isoformat() if m.revoked_on else None}
                            for m in mandates]
    view["signatories"] = [{"name": s.name, "function": s.function} for s in org.signatories]
    return view


# --- views: what the commands print (and the API will answer) -------------------------------


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def region_view(region: orm.Region) -> RegionView:
    return {"id": region.id, "code": region.code, "name": region.name,
            "wams_in_force": bool(region.wams_in_force),
            # the controller and its FG, named in a parent's inzage (None: not recorded)
            **{name: getattr(region, name) for name in CONTROLLER_FIELDS}}


def list_regions(u: Unit) -> list[dict]:
    return [region_view(r)
            for r in u.session.scalars(select(orm.Region).order_by(orm.Region.code))]


def signature_view(session: Session, row: orm.CovenantSignature) -> SignatureView:
    version = session.get(orm.RulesetVersion, row.ruleset_version_id)
    return {"id": row.id, "organisation_id": row.organisation_id,
            "signed_on": row.signed_on.isoformat(), "signatory_id": row.signatory_id,
            "on_behalf_of": row.on_behalf_of_id, "ruleset_id": version.ruleset_id,
            "ruleset_version": version.version, "digest": version.digest}


def mandate_view(row: orm.Mandate) -> MandateView:
    return {"id": row.id, "school": row.school_id, "swv": row.swv_id,
            "granted_on": row.granted_on.isoformat(), "document_ref": row.document_ref,
            "revoked_on": _iso(row.revoked_on)}


def signatory_view(row: orm.Signatory) -> SignatoryView:
    return {"id": row.id, "organisation_id": row.organisation_id, "name": row.name,
            "function": row.function}


def professional_view(row: orm.Professional) -> ProfessionalView:
    return {"id": row.id, "organisation_id": row.organisation_id, "name": row.name,
            "function": row.function, "hats": list(row.hats or []), "active": row.active}


def list_professionals(u: Unit, org: orm.Organisation) -> list[dict]:
    access.require_region(u, org.region_id)
    rows = u.session.scalars(select(orm.Professional)
                           .where(orm.Professional.organisation_id == org.id)
                           .order_by(orm.Professional.id))
    return [professional_view(p) for p in rows]


def accession_view(row: orm.AccessionForm) -> AccessionView:
    return {"id": row.id, "organisation_id": row.organisation_id, "case_id": row.case_id,
            "signed_on": row.signed_on.isoformat(), "notified_on": _iso(row.notified_on),
            "document_ref": row.document_ref}


def update_organisation(u: Unit, org: orm.Organisation, *, name: str | None = None,
                        kvk: str | None = None, oin: str | None = None,
                        domain: str | None = None) -> orm.Organisation:
    """Change an organisation's name, KvK number, OIN or domain (the administrator's, in its
    region). A field given as None stays as it is; an empty text clears it (not the name: an
    organisation keeps a name). The party stays: signatures, mandates and the rules hang on
    it."""
    access.require_admin(u, "een organisatie wijzigen")
    access.require_region(u, org.region_id)
    session = u.session
    if name is not None:
        name = checked_text(name, "name", "de naam", limit_of(orm.Organisation.name),
                            missing="een organisatie heeft een naam")
        taken = session.scalars(select(orm.Organisation.id).where(
            orm.Organisation.region_id == org.region_id, orm.Organisation.name == name,
            orm.Organisation.id != org.id)).first()
        if taken is not None:
            raise Invalid("duplicate", f"organisatie '{name}' bestaat al in deze regio", "name")
        org.name = name
    if kvk is not None:
        kvk = checked_text(kvk, "kvk", "het KvK-nummer", 100)
        if kvk is not None and not _KVK.fullmatch(kvk):
            raise Invalid("invalid_kvk", f"KvK-nummer '{kvk}' moet uit 8 cijfers bestaan",
                          "kvk")
        org.kvk = kvk
    if oin is not None:
        oin = checked_text(oin, "oin", "het OIN", 100)
        if oin is not None:
            _check_oin(oin, "oin")
        org.oin = oin
    if domain is not None:
        if domain.strip() and domain not in codes.DOMAINS:
            raise Invalid("unknown_code", f"onbekend domein '{domain}'", "domain")
        org.domain = domain or None
    session.flush()
    return org
