"""Youths and their parents/guardians. Identifying data is encrypted per youth.

The use cases (create_youth, read_youth, list_youths, find_by_bsn) take a `Unit`
(services/context.py) first: the keys, the day (`u.today`: the check of a date of birth, the
ages shown) and who acts (`u.professional`, or the administrator) come from it. Need to know
(services/access.py): registering or looking up a youth is for a professional of a covenant
party; a youth's record is read by a professional whose organisation knows the youth, or by
the youth or a parent with gezag whose own it is; another's is answered as an unknown id."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session
from stdnum.exceptions import ValidationError
from stdnum.nl import bsn as stdnum_bsn

from deelwijs.crypto import Keyring
from deelwijs.domain.consent import age_on
from deelwijs.domain.request import MAX_AGE
from deelwijs.services import access
from deelwijs.services.context import Unit
from deelwijs.services.covenant.registry import (
    NAME_MAX,
    checked_text,
    organisation,
    same_region,
)
from deelwijs.services.errors import Invalid, NotFound
from deelwijs.services.log import audit
from deelwijs.services.views import ShreddedYouthView, YouthView
from deelwijs.storage import orm

RELATIONS = ("moeder", "vader", "ouder", "voogd", "pleegouder")


def validate_bsn(bsn: str, field: str = "bsn") -> str:
    try:
        return stdnum_bsn.validate(bsn)
    except ValidationError:
        raise Invalid("invalid_bsn", f"'{bsn}' is geen geldig BSN (9 cijfers, elfproef)",
                      field) from None


def check_birth(birth, on: dt.date, field: str = "birth") -> dt.date:
    """A date of birth as Deelwijs takes it for a youth registered on `on`: a date, not after
    that day, and the youth at most 30 then (the decision contract decides about the ages 0 to
    30; a youth born later, or older, could never be decided about)."""
    if not isinstance(birth, dt.date) or isinstance(birth, dt.datetime):
        raise Invalid("wrong_type", "de geboortedatum is een datum (JJJJ-MM-DD)", field)
    if birth > on:
        raise Invalid("birth_in_future", f"geboortedatum {birth.isoformat()} ligt in de toekomst",
                      field)
    if age_on(birth, on) > MAX_AGE:
        raise Invalid("too_old", f"Deelwijs gaat over jongeren tot en met {MAX_AGE} jaar "
                      f"(geboortedatum {birth.isoformat()})", field)
    return birth


def create_youth(u: Unit, region: orm.Region, name: str, birth: dt.date,
                 bsn: str | None = None, school: orm.Organisation | int | None = None,
                 guardians: list[dict] | None = None,
                 startkwalificatie: bool = False) -> orm.Youth:
    """guardians: [{"name": ..., "relation": "moeder", "gezag": true}, ...]. Logged as a
    registration (by the acting professional, or by the administrator). The school board and
    the professional are of the youth's region; the date of birth is not after `u.today`.
    `startkwalificatie`: the youth holds a havo, vwo or mbo-2 diploma (a recorded disclosure
    takes `subject.startkwalificatie` from it; a correction goes through rights.rectify). The
    school board may be given by id."""
    session, keys, by = u.session, u.keys, u.professional
    if isinstance(school, int):
        school = organisation(session, school, "school")
    name = checked_text(name, "name", "de naam", NAME_MAX, missing="de jongere heeft een naam")
    check_birth(birth, u.today)
    if school is not None and school.party != "school":
        raise Invalid("not_a_school", f"{school.name} is geen schoolbestuur", "school")
    if school is not None:
        same_region(region.id, school, "school")
    access.require_region(u, region.id, "by")
    access.require_party(u, "een jongere registreren")
    if not isinstance(startkwalificatie, bool):
        raise Invalid("wrong_type", "startkwalificatie is ja of nee (true/false)",
                      "startkwalificatie")
    bsn_hash = None
    if bsn:
        bsn = validate_bsn(bsn)
        bsn_hash = keys.bsn_hash(bsn)
        exists = session.scalars(select(orm.Youth.id).where(
            orm.Youth.region_id == region.id, orm.Youth.bsn_hash == bsn_hash)).first()
        if exists:
            raise Invalid("duplicate", "er staat al een jongere met dit BSN in deze regio", "bsn")
    checked = []
    for i, g in enumerate(guardians or []):
        field = f"guardians[{i}]"
        if not isinstance(g, dict):
            raise Invalid("wrong_type", "een ouder of voogd is een object met naam, relatie "
                          "en gezag", field)
        g = {**g, "name": checked_text(g.get("name"), f"{field}.name", "de naam", NAME_MAX,
                                       missing="een ouder of voogd heeft een naam")}
        if g.get("relation", "ouder") not in RELATIONS:
            raise Invalid("unknown_code", f"onbekende relatie '{g.get('relation')}' (kies uit "
                          f"{', '.join(RELATIONS)})", f"{field}.relation")
        if not isinstance(g.get("gezag"), bool):
            raise Invalid("missing_field", "geef aan of deze ouder gezag heeft (true/false)",
                          f"{field}.gezag")
        checked.append(g)
    key = keys.new_key()
    youth = orm.Youth(region_id=region.id, school_id=school.id if school else None,
                      key_wrapped=keys.wrap(key), name_enc=keys.encrypt(key, name),
                      birth_enc=keys.encrypt(key, birth.isoformat()),
                      bsn_enc=keys.encrypt(key, bsn) if bsn else None, bsn_hash=bsn_hash,
                      startkwalificatie=startkwalificatie)
    session.add(youth)
    session.flush()
    for g in checked:
        youth.guardians.append(orm.Guardian(name_enc=keys.encrypt(key, g["name"]),
                                            relation=g.get("relation", "ouder"),
                                            has_gezag=g["gezag"]))
    session.flush()
    audit.log_system(session, region_id=region.id, name="registratie", actie="create",
                     youth_id=youth.id, professional=by,
                     categories=["identificatie", *(["bsn"] if bsn else [])],
                     handeling="Registreren jongere en ouders",
                     uitvoerder=session.get(orm.Organisation, by.organisation_id) if by else None)
    return youth


def get_youth(session: Session, youth_id: int, field: str = "youth") -> orm.Youth:
    youth = session.get(orm.Youth, youth_id) if youth_id is not None else None
    if youth is None:
        raise NotFound("not_found", f"onbekende jongere ({youth_id})", field)
    return youth


# ids only, built once: cheaper than loading the youth's guardians as ORM objects
_GEZAG = (select(orm.Guardian.id)
          .where(orm.Guardian.youth_id == bindparam("youth_id"), orm.Guardian.has_gezag.is_(True))
          .order_by(orm.Guardian.id))


def gezag_ids(session: Session, youth_id: int) -> list[int]:
    """The ids of the youth's parents or guardians with parental authority (gezag)."""
    return list(session.scalars(_GEZAG, {"youth_id": youth_id}))


def find_by_bsn(u: Unit, region: orm.Region, bsn: str) -> orm.Youth:
    """The region's youth with this BSN: for the operator or a professional of a covenant
    party of the region (who then starts a case or workflow about them)."""
    access.require_party(u, "een jongere opzoeken")
    access.require_region(u, region.id)
    bsn = validate_bsn(bsn)
    row = u.session.scalars(select(orm.Youth).where(
        orm.Youth.region_id == region.id, orm.Youth.bsn_hash == u.keys.bsn_hash(bsn))).first()
    if row is None:
        raise NotFound("not_found", "geen jongere met dit BSN in deze regio", "bsn")
    return row


def birth_of(keys: Keyring, youth: orm.Youth, key: bytes | None = None) -> dt.date:
    """The youth's date of birth; `key`: the youth's key if the caller unwrapped it already
    (services.disclosures unwraps it once per disclosure, for the age and the content)."""
    if key is None:
        key = keys.unwrap(youth.key_wrapped)
    return dt.date.fromisoformat(keys.decrypt(key, youth.birth_enc))


def youth_view(keys: Keyring, youth: orm.Youth, today: dt.date
               ) -> YouthView | ShreddedYouthView:
    if youth.key_wrapped is None:
        return {"id": youth.id, "shredded": True}
    key = keys.unwrap(youth.key_wrapped)
    birth = dt.date.fromisoformat(keys.decrypt(key, youth.birth_enc))
    bsn = keys.decrypt(key, youth.bsn_enc) if youth.bsn_enc else None
    return {
        "id": youth.id,
        "name": keys.decrypt(key, youth.name_enc),
        "birth": birth.isoformat(),
        "age": age_on(birth, today),
        "bsn": f"*****{bsn[-4:]}" if bsn else None,
        "school_id": youth.school_id,
        "startkwalificatie": youth.startkwalificatie,
        "guardians": [{"id": g.id, "name": keys.decrypt(key, g.name_enc),
                       "relation": g.relation, "gezag": g.has_gezag}
                      for g in youth.guardians],
    }


def read_youth(u: Unit, youth_id: int) -> dict:
    """A youth's record, decrypted (the age on `u.today`), for the actor to read: the read is
    logged (a shredded youth's record holds nothing to read, and is not). Need to know:
    access.require_youth (a professional whose organisation knows the youth, the youth or
    a parent with gezag whose own it is, the operator)."""
    session, keys, by = u.session, u.keys, u.professional
    youth = access.require_youth(u, youth_id)
    view = youth_view(keys, youth, u.today)
    if youth.key_wrapped is None:
        return view
    audit.log_system(session, region_id=youth.region_id, name="registratie", actie="read",
                     youth_id=youth.id, professional=by, categories=["identificatie"],
                     handeling="Inzien gegevens jongere", keys=keys,
                     uitvoerder=session.get(orm.Organisation, by.organisation_id) if by else None)
    return view


def list_youths(u: Unit, region: orm.Region, limit: int = 100, offset: int = 0
                ) -> list[dict]:
    """A page of the region's youths, decrypted (ages on `u.today`): one read logged per
    youth shown, in the actor's name. For a professional only the youths their organisation
    knows (access.knows_youth); for the operator all."""
    session, keys, by = u.session, u.keys, u.professional
    access.require_youth_kind(u)
    access.require_professional(u, "een lijst van jongeren inzien")
    access.require_region(u, region.id)
    query = select(orm.Youth).where(orm.Youth.region_id == region.id)
    if not u.actor.is_operator:
        query = query.where(access.knows_youth(u.actor.organisation_id, orm.Youth.id))
    rows = list(session.scalars(query.order_by(orm.Youth.id).limit(limit).offset(offset)))
    views = [youth_view(keys, y, u.today) for y in rows]
    org = session.get(orm.Organisation, by.organisation_id) if by else None
    for y in rows:
        if y.key_wrapped is not None:
            audit.log_system(session, region_id=region.id, name="registratie", actie="read",
                             youth_id=y.id, professional=by, categories=["identificatie"],
                             handeling="Raadplegen lijst jongeren", keys=keys, uitvoerder=org)
    return views
