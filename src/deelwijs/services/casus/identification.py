"""Making an anonymous case identifiable, only with the consent that requires.

An anonymous case stores nothing identifying. To attach a youth to it later, the youth's
identifying data would go to every other participating organisation: the engine must allow
disclosing `identificatie` to each of them, from the stored facts (consent above all). If
any is refused, nothing changes and the refusal says why. The acting professional (of the
`Unit`, services/context.py) asks, and is named in the processing log.
"""

from __future__ import annotations

import datetime as dt

from deelwijs.services import access
from deelwijs.services.casus import cases, disclosures, youths
from deelwijs.services.context import Unit
from deelwijs.services.errors import Invalid, Refused
from deelwijs.services.log import audit
from deelwijs.storage import orm


def identify_case(u: Unit, case_id: int, youth_id: int, day: dt.date | None = None) -> dict:
    """Attach a youth to an anonymous case, asked by the acting professional, deciding as on
    `day` (default today). Returns the decisions per participant."""
    session = u.session
    access.require_case_kind(u)
    case = cases.get_case(session, case_id)
    access.require_case(u, case.id)
    if not case.anonymous:
        raise Invalid("not_anonymous", "deze casus is al op naam", "case")
    youth = youths.get_youth(session, youth_id)
    pro = u.professional_or("professional", "een casus op naam zetten")
    day = day or u.today
    if youth.region_id != case.region_id:
        raise Invalid("other_region", "de jongere hoort niet bij de regio van de casus", "youth")
    # Decide as if the case were on the youth's name; the caller's transaction rolls this back
    # when any participant may not receive the identifying data.
    case.youth_id = youth.id
    case.anonymous = False
    decisions = {}
    for org in cases.participants(session, case):
        if org.id == pro.organisation_id:
            continue
        _version, decision, _facts = disclosures.decide_stored(
            u, to_org_id=org.id, categories=["identificatie"], day=day, case_id=case.id)
        decisions[org.id] = decision
    refused = {org_id: d for org_id, d in decisions.items() if d["outcome"] != "allow"}
    if refused:
        names = ", ".join(session.get(orm.Organisation, i).name for i in refused)
        first = next(iter(refused.values()))
        raise Refused("identification_refused",
                      f"de casus kan niet op naam: identificerende gegevens mogen niet naar "
                      f"{names}. {first['items'][0]['explanation']}", "youth")
    # what was kept as written while the case was anonymous is now about the youth
    cases.seal_case_texts(session, case)
    session.flush()
    audit.log_system(
        session, region_id=case.region_id, name=case.purpose, actie="identify",
        youth_id=youth.id, categories=["identificatie"], professional=pro,
        uitvoerder=session.get(orm.Organisation, pro.organisation_id),
        verwerking=f"Casusoverleg {case.purpose}", verwerking_id=f"deelwijs:casus:{case.id}",
        decision={"uitkomst": "allow", "ontvangers": sorted(decisions),
                  "ruleset_digest": next(iter(decisions.values()))["ruleset"]["digest"]
                  if decisions else None})
    return decisions
