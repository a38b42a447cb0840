"""The municipal stepwise workflow (VNG work process, webinar 8 December 2021, slide 33).

intake → assessment (single or multiple problems) → investigation with the resident, who
sets the scope (the domains of the request for help) → proposal of a coordinated approach →
decision → coordinator appointed (licht or zwaar); or the resident declines / coordinates
personally. No step can be skipped. Pure: the service records each step with date and who.
"""

from __future__ import annotations

from deelwijs.domain import codes, labels
from deelwijs.errors import DeelwijsError

STEPS = ("intake", "assessment", "investigation", "proposal", "decision", "coordinator")

# state → the steps that may follow it
NEXT = {
    "new": ("intake",),
    "intake": ("assessment",),
    "assessment": ("investigation",),  # only for multiple problems; single ends the workflow
    "investigation": ("proposal",),
    "proposal": ("decision",),
    "decision": ("coordinator",),  # only when the resident accepts
    "single": (),
    "declined": (),
    "self_coordinated": (),
    "coordinator": (),
}
FINAL = ("single", "declined", "self_coordinated", "coordinator")


class WorkflowError(DeelwijsError, ValueError):
    """A step the workflow does not allow (services/casus/cases.py refuses it: 403, on `step`)."""

    code = "workflow_refused"
    status = 403
    field = "step"

    def __init__(self, code: str, message: str):
        super().__init__(message, code=code)


def advance(state: str, step: str, details: dict) -> tuple[str, dict]:
    """Check one step against the state; return the new state and the checked details."""
    if step not in STEPS:
        raise WorkflowError("unknown_step", f"onbekende stap '{step}'")
    if step not in NEXT.get(state, ()):
        expected = NEXT.get(state, ())
        if not expected:
            raise WorkflowError("workflow_closed",
                                f"het werkproces is afgerond ({labels.WORKFLOW_STATE[state]})")
        raise WorkflowError("step_out_of_order",
                            f"stap '{step}' kan nu niet; eerst: {', '.join(expected)} "
                            f"(huidige stand: {labels.WORKFLOW_STATE[state]})")
    if step == "assessment":
        problems = details.get("problems")
        if problems not in ("single", "multiple"):
            raise WorkflowError("invalid_details",
                                "geef aan of er sprake is van enkelvoudige (single) of "
                                "meervoudige (multiple) problematiek")
        return ("single" if problems == "single" else "assessment"), {"problems": problems}
    if step == "investigation":
        scope = details.get("scope")
        if not isinstance(scope, list) or not scope:
            raise WorkflowError("invalid_details",
                                "de inwoner bepaalt de reikwijdte: noem ten minste één domein "
                                "van de hulpvraag")
        unknown = [d for d in scope if d not in codes.DOMAINS]
        if unknown:
            raise WorkflowError("invalid_details",
                                f"onbekend domein: {', '.join(map(str, unknown))} "
                                f"(kies uit {', '.join(codes.DOMAINS)})")
        if not details.get("with_resident"):
            raise WorkflowError("invalid_details",
                                "het onderzoek gebeurt samen met de inwoner (with_resident)")
        return "investigation", {"scope": list(scope), "with_resident": True}
    if step == "decision":
        outcome = details.get("outcome")
        if outcome not in ("accepted", "declined", "self_coordinated"):
            raise WorkflowError("invalid_details",
                                "besluit: accepted, declined of self_coordinated")
        return ("decision" if outcome == "accepted" else outcome), {"outcome": outcome}
    if step == "coordinator":
        weight = details.get("coordination")
        if weight not in ("licht", "zwaar") or not details.get("coordinator_id"):
            raise WorkflowError("invalid_details",
                                "wijs een coördinator aan (coordinator_id) en kies licht of zwaar")
        return "coordinator", {"coordination": weight, "coordinator_id": details["coordinator_id"]}
    return step, {k: v for k, v in details.items() if k in ("note",)}
