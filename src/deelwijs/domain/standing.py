"""Who may exercise a youth's rights as a data subject (AVG art. 15–18 and 21; covenant
art. 13), by the youth's age on the day of the request (pure).

The ages are the ruleset's consent ages (`ruleset.consent`): under `youth_and_parents_from`
(12 in the model covenant) a parent or guardian with gezag; from there up to
`youth_alone_from` (16) the youth, or a parent with gezag; from `youth_alone_from` the youth
alone, a parent only when the youth agrees. A parent without gezag may not ask at all.

The service layer reads the guardian and the age and turns `NoStanding` into its own errors
(services/rights/requests.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from deelwijs.domain.ruleset import ConsentRule
from deelwijs.errors import DeelwijsError

REQUESTERS = ("youth", "parent")


class Guardian(Protocol):
    """What the rule reads of a parent or guardian (a stored Guardian row will do)."""

    youth_id: int
    relation: str
    has_gezag: bool


@dataclass(frozen=True)
class Standing:
    """Who asks, and on which basis (for the request record and the log)."""

    requester: str  # youth | parent
    guardian: Any  # the guardian as the caller passed it (None: the youth asks)
    age: int
    youth_agrees: bool
    basis: str  # Dutch


class NoStanding(DeelwijsError):
    """This person may not ask: `invalid` (the input is wrong) or `refused` (not this person,
    at this age), with a stable code, a Dutch message and the field it is about."""

    code = "no_standing"

    def __init__(self, kind: str, code: str, message: str, field: str):
        self.kind = kind  # invalid | refused
        super().__init__(message, code=code, field=field)

    @property
    def status(self) -> int:  # as services.rights raises it: Invalid or Refused
        return 422 if self.kind == "invalid" else 403


def who_may_ask(ages: ConsentRule, youth_id: int, age: int, requester: str,
                guardian: Guardian | None, youth_agrees: bool = False) -> Standing:
    """May this person exercise the rights of youth `youth_id`, who is `age` on the day?
    Raises NoStanding with a Dutch message; returns the standing otherwise."""
    young, alone = ages.youth_and_parents_from, ages.youth_alone_from
    if requester not in REQUESTERS:
        raise NoStanding("invalid", "unknown_code", "de verzoeker is 'youth' (de jongere zelf) "
                         "of 'parent' (een ouder of voogd)", "requester")
    if requester == "youth":
        if guardian is not None:
            raise NoStanding("invalid", "unexpected_guardian", "een verzoek van de jongere "
                             "zelf noemt geen ouder", "guardian_id")
        if age < young:
            raise NoStanding("refused", "too_young", f"De jongere is {age} jaar. Voor een kind "
                             f"jonger dan {young} jaar vragen de ouders of voogden met gezag "
                             "dit aan, niet het kind zelf.", "requester")
        return Standing("youth", None, age, False, f"de jongere zelf ({age} jaar)")
    if guardian is None:
        raise NoStanding("invalid", "missing_field", "noem de ouder of voogd die het verzoek "
                         "doet", "guardian_id")
    if guardian.youth_id != youth_id:
        raise NoStanding("invalid", "unknown_guardian", "kies een ouder of voogd van deze "
                         "jongere", "guardian_id")
    if not guardian.has_gezag:
        raise NoStanding("refused", "no_gezag", "Deze ouder heeft geen gezag over de jongere. "
                         "Alleen een ouder of voogd met gezag kan deze rechten namens de "
                         "jongere gebruiken.", "guardian_id")
    if age >= alone and not youth_agrees:
        raise NoStanding("refused", "youth_decides", f"De jongere is {age} jaar. Vanaf {alone} "
                         "jaar beslist de jongere zelf over zijn of haar gegevens. Een ouder "
                         "kan dit alleen vragen als de jongere daarmee instemt.", "requester")
    basis = f"een {guardian.relation} met gezag"
    if age >= alone:
        basis += f", met instemming van de jongere ({age} jaar)"
    return Standing("parent", guardian, age, age >= alone and youth_agrees, basis)
