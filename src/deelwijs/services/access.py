"""Need to know: may this actor do this? The one home of the access checks.

The use cases call these checks themselves, inside their transaction, so the CLI, the API and
the pages get the same answer. The operator (`Actor.admin()`) passes every check within its
region (every region when it has none); an administrator's account passes `require_admin`
and `require_region`, never a case; a professional passes:

- `require_region`: only in the region of their organisation;
- `require_case`: only in a case their organisation takes part in (a participant, or acceded
  with a toetredingsformulier, which makes it a participant);
- `require_admin`: never (managing regions, parties, rulesets and keys is the
  administrator's).

A refusal names the check's field (`by` for the actor in the CLI) and says why in Dutch.
"""

from __future__ import annotations

from sqlalchemy import exists, select

from deelwijs.services.context import Unit
from deelwijs.services.errors import Invalid, Refused
from deelwijs.storage import orm


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


def require_case(u: Unit, case_id: int, field: str = "by") -> None:
    """Only someone of a participating organisation works in (or reads) a case."""
    if not may_see_case(u, case_id):
        pro = u.professional
        if pro is None:
            raise Refused("no_case_content", "de inhoud van een casus is alleen voor "
                          "professionals van de deelnemende organisaties", field)
        raise Invalid("not_a_participant", f"{pro.name} werkt niet bij een deelnemende "
                      "organisatie van deze casus", field)


def require_region(u: Unit, region_id: int, field: str = "by",
                   where: str = "deze regio") -> None:
    """A professional acts only in the region of their organisation; a regional
    administrator only in its own. `where` names the region in the message ("de regio van
    deze jongere")."""
    actor = u.actor
    if actor.region_id is None or actor.region_id == region_id:
        return
    pro = u.professional
    if pro is None:
        raise Refused("other_region", "dit gaat over een andere regio", field)
    raise Invalid("other_region", f"{pro.name} werkt niet in {where}", field)


def require_admin(u: Unit, what: str, field: str = "by") -> None:
    """Managing the installation (regions, parties, rulesets, keys) is the
    administrator's."""
    if not u.actor.is_admin:
        raise Refused("admin_only", f"{what} is voorbehouden aan het beheer", field)
