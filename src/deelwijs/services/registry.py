"""Regions, rulesets, organisations (parties), signatures, mandates, accession forms and
professionals: who takes part in the covenant, and on what paper."""

from __future__ import annotations

import datetime as dt
import json
import secrets

from sqlalchemy import ColumnElement, exists, or_, select
from sqlalchemy.orm import Session

from deelwijs.domain import codes
from deelwijs.domain.ruleset import Ruleset
from deelwijs.rules import loader
from deelwijs.services.errors import Invalid, NotFound
from deelwijs.storage import orm


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


def create_region(session: Session, code: str, name: str, wams_in_force: bool = False
                  ) -> orm.Region:
    if not code or not name:
        raise Invalid("missing_field", "een regio heeft een code en een naam", "region")
    if session.scalars(select(orm.Region).where(orm.Region.code == code)).first():
        raise Invalid("duplicate", f"regio '{code}' bestaat al", "region.code")
    region = orm.Region(code=code, name=name, wams_in_force=wams_in_force)
    session.add(region)
    session.flush()
    return region


def store_ruleset(session: Session, ruleset: Ruleset) -> orm.RulesetVersion:
    """Keep the effective ruleset document, once per digest."""
    row = session.scalars(select(orm.RulesetVersion)
                          .where(orm.RulesetVersion.digest == ruleset.digest)).first()
    if row is None:
        row = orm.RulesetVersion(
            ruleset_id=ruleset.id, version=ruleset.version, digest=ruleset.digest,
            source=json.dumps(ruleset.document, sort_keys=True, ensure_ascii=False,
                              default=str))
        session.add(row)
        session.flush()
    return row


def activate_ruleset(session: Session, region: orm.Region, name: str, on: dt.date
                     ) -> orm.RulesetVersion:
    """Make a ruleset (built-in id or file) the region's active one from `on`. Older decisions
    keep naming the version that made them."""
    ruleset = loader.resolve(name)
    version = store_ruleset(session, ruleset)
    session.add(orm.RulesetActivation(region_id=region.id, ruleset_version_id=version.id,
                                      activated_on=on))
    session.flush()
    return version


def create_organisation(session: Session, region: orm.Region, party: str, name: str,
                        kvk: str | None = None, oin: str | None = None,
                        domain: str | None = None) -> orm.Organisation:
    if party not in codes.PARTIES:
        raise Invalid("unknown_code", f"onbekende partijcode '{party}'", "party")
    if not name or not name.strip():
        raise Invalid("missing_field", "een organisatie heeft een naam", "name")
    if kvk is not None and not (kvk.isdigit() and len(kvk) == 8):
        raise Invalid("invalid_kvk", f"KvK-nummer '{kvk}' moet uit 8 cijfers bestaan", "kvk")
    if oin is not None and not (oin.isdigit() and len(oin) == 20):
        raise Invalid("invalid_oin", f"OIN '{oin}' moet uit 20 cijfers bestaan", "oin")
    if domain is not None and domain not in codes.DOMAINS:
        raise Invalid("unknown_code", f"onbekend domein '{domain}'", "domain")
    exists = session.scalars(select(orm.Organisation).where(
        orm.Organisation.region_id == region.id, orm.Organisation.name == name.strip())).first()
    if exists:
        raise Invalid("duplicate", f"organisatie '{name}' bestaat al in deze regio", "name")
    org = orm.Organisation(region_id=region.id, party=party, name=name.strip(), kvk=kvk,
                           oin=oin, domain=domain)
    session.add(org)
    session.flush()
    return org


def add_signatory(session: Session, org: orm.Organisation, name: str, function: str
                  ) -> orm.Signatory:
    row = orm.Signatory(organisation_id=org.id, name=name, function=function)
    session.add(row)
    session.flush()
    return row


def sign_covenant(session: Session, org: orm.Organisation, version: orm.RulesetVersion,
                  signed_on: dt.date, signatory: orm.Signatory | None = None,
                  on_behalf_of: orm.Organisation | None = None) -> orm.CovenantSignature:
    """A signature of the covenant. An SWV signs on behalf of a school board only under a
    written mandate that is in force on the day."""
    if on_behalf_of is not None:
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


def grant_mandate(session: Session, school: orm.Organisation, swv: orm.Organisation,
                  granted_on: dt.date, document_ref: str) -> orm.Mandate:
    if school.party != "school" or swv.party != "swv":
        raise Invalid("invalid_mandate", "een machtiging gaat van een schoolbestuur naar een "
                      "samenwerkingsverband", "mandate")
    if not document_ref:
        raise Invalid("missing_field", "een schriftelijke machtiging heeft een "
                      "documentverwijzing", "document_ref")
    row = orm.Mandate(school_id=school.id, swv_id=swv.id, granted_on=granted_on,
                      document_ref=document_ref)
    session.add(row)
    session.flush()
    return row


def revoke_mandate(session: Session, mandate_id: int, revoked_on: dt.date) -> orm.Mandate:
    row = _get(session, orm.Mandate, mandate_id, "machtiging", "mandate")
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


def record_accession(session: Session, org: orm.Organisation, case: orm.Case,
                     signed_on: dt.date, document_ref: str,
                     notified_on: dt.date | None = None) -> orm.AccessionForm:
    if org.party not in ("jeugdhulp", "jgz", "huisarts"):
        raise Invalid("not_accession_party", "een toetredingsformulier is voor zorgaanbieders, "
                      "JGZ en huisartsen", "organisation")
    if notified_on is not None and notified_on < signed_on:
        raise Invalid("invalid_date", "bekendmaken kan niet vóór ondertekenen", "notified_on")
    row = orm.AccessionForm(organisation_id=org.id, case_id=case.id, signed_on=signed_on,
                            notified_on=notified_on, document_ref=document_ref)
    session.add(row)
    session.flush()
    return row


def notify_accession(session: Session, form_id: int, notified_on: dt.date) -> orm.AccessionForm:
    form = _get(session, orm.AccessionForm, form_id, "toetredingsformulier", "accession")
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


def create_professional(session: Session, org: orm.Organisation, name: str, function: str,
                        hats: list[str] | None = None) -> orm.Professional:
    hats = hats or []
    for h in hats:
        if h not in codes.HATS:
            raise Invalid("unknown_code", f"onbekende pet '{h}' (kies uit "
                          f"{', '.join(codes.HATS)})", "hats")
    if not name:
        raise Invalid("missing_field", "een professional heeft een naam", "name")
    row = orm.Professional(organisation_id=org.id, name=name, function=function,
                           hats=list(hats), pseudonym=secrets.token_hex(16))
    session.add(row)
    session.flush()
    return row


def list_organisations(session: Session, region: orm.Region) -> list[dict]:
    rows = session.scalars(select(orm.Organisation).where(orm.Organisation.region_id == region.id)
                           .order_by(orm.Organisation.party, orm.Organisation.name))
    return [organisation_view(session, o) for o in rows]


def organisation_view(session: Session, org: orm.Organisation, day: dt.date | None = None
                      ) -> dict:
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
